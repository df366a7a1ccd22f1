//! Attachment readers: bytes of one file → [`Document`]. Each reader is pure (no I/O), checks
//! [`Limits`] and its [`Deadline`], and reports what it could not read as problems.

pub mod archive;
pub mod odf;
pub mod paragraph;
pub mod pdf;
pub mod sheet;
pub mod word;
pub mod xml;

use crate::document::{Document, ProblemKind};
use crate::limits::{Deadline, Limits};
use crate::sniff::FileKind;

/// Reads one attachment and says how many bytes reading it decompressed (zip entries, PDF
/// streams), which the message's own budget is charged with.
pub fn read_metered(kind: FileKind, bytes: &[u8], limits: &Limits, deadline: Deadline) -> (Document, u64) {
    meter::reset();
    let doc = read(kind, bytes, limits, deadline);
    (doc, meter::spent())
}

/// The bytes decompressed by the reader running on this thread, for [`read_metered`]. The readers
/// charge it where they decompress (`archive`, `pdf`); a thread-local, because each attachment is
/// read on a thread of its own and the zip readers hold their archive inside.
pub(crate) mod meter {
    use std::cell::Cell;

    thread_local! {
        static SPENT: Cell<u64> = const { Cell::new(0) };
    }

    pub(crate) fn add(bytes: u64) {
        SPENT.set(SPENT.get().saturating_add(bytes));
    }

    pub(super) fn reset() {
        SPENT.set(0);
    }

    pub(super) fn spent() -> u64 {
        SPENT.get()
    }
}

/// Reads one attachment of a known kind.
pub fn read(kind: FileKind, bytes: &[u8], limits: &Limits, deadline: Deadline) -> Document {
    if bytes.len() > limits.max_attachment_bytes {
        return Document::with_problem(
            ProblemKind::LimitExceeded,
            format!("attachment is {} bytes, limit {}", bytes.len(), limits.max_attachment_bytes),
        );
    }
    match kind {
        FileKind::Pdf => pdf::read(bytes, limits, deadline),
        FileKind::Xlsx => sheet::read_xlsx(bytes, limits, deadline),
        FileKind::Xls => sheet::read_xls(bytes, limits, deadline),
        FileKind::Ods => sheet::read_ods(bytes, limits, deadline),
        FileKind::Docx => word::read_docx(bytes, limits, deadline),
        FileKind::Odt => odf::read_odt(bytes, limits, deadline),
        FileKind::EncryptedOffice => {
            Document::with_problem(ProblemKind::Encrypted, "password-protected Office document")
        }
        FileKind::Doc => Document::with_problem(
            ProblemKind::Unsupported,
            "legacy Word 97-2003 (.doc) document: save as .docx or PDF",
        ),
        FileKind::Xlsb => Document::with_problem(
            ProblemKind::Unsupported,
            "Excel binary workbook (.xlsb): save as .xlsx",
        ),
        FileKind::Tnef => Document::with_problem(
            ProblemKind::Unsupported,
            "Outlook winmail.dat (TNEF): attachments wrapped by Outlook rich text cannot be read; send as plain attachments",
        ),
        FileKind::Image => Document::with_problem(ProblemKind::Scanned, "image file: no text to read"),
        FileKind::Text => text(bytes),
        FileKind::Zip | FileKind::Cfb | FileKind::Unknown => {
            Document::with_problem(ProblemKind::Unsupported, "not a document format the product reads")
        }
    }
}

/// A plain-text attachment: one paragraph per non-empty line ("Label: value" lines are read by
/// the referral recogniser like any other).
fn text(bytes: &[u8]) -> Document {
    let text = String::from_utf8_lossy(bytes);
    let blocks = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| crate::document::Block::Paragraph(crate::document::Paragraph { text: l.trim().to_owned(), at: format!("line {}", i + 1) }))
        .collect();
    Document { blocks, ..Document::default() }
}

/// The number of a body paragraph in its document, from its place: "paragraph N" (the Word and
/// OpenDocument readers) or "line N" (plain text). Those readers count the empty paragraphs and
/// lines they do not emit, so two paragraphs whose numbers are more than one apart had an empty
/// one between them: a value left blank under its label.
pub fn paragraph_number(at: &str) -> Option<u64> {
    let n = at.strip_prefix("paragraph ").or_else(|| at.strip_prefix("line "))?;
    n.parse().ok()
}
