//! Limits on untrusted input, all in this file. The configurable ones are [`Limits`] (every
//! reader takes it); the fixed ones, which bound one format's structures, are the constants of
//! the modules below ([`xml`], [`word`], [`odf`], [`sheet`], [`pdf`], [`mime`]). Hitting one is a
//! typed problem ([`crate::document::ProblemKind::LimitExceeded`]) or, where a constant only caps
//! what cannot matter to the reading (said at each), a bound with no problem: never a crash or a
//! hang.

use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Largest raw message accepted, in bytes.
    pub max_message_bytes: usize,
    /// Most attachments read from one message (forwarded messages included).
    pub max_attachments: usize,
    /// Largest single attachment, in bytes (decoded).
    pub max_attachment_bytes: usize,
    /// Most bytes decompressed from one document, all its parts together: the entries of an
    /// archive (DOCX, XLSX, ODS, ODT are zip files); a PDF's object streams, page contents, form
    /// XObjects, fonts and field values.
    pub max_decompressed_bytes: u64,
    /// Most bytes decompressed from all the attachments of one message together; each attachment
    /// is read within what is left of it (and within `max_decompressed_bytes`).
    pub max_email_decompressed_bytes: u64,
    /// Largest ratio of decompressed to compressed size for one zip entry.
    pub max_compression_ratio: u64,
    /// Most entries in one zip archive.
    pub max_zip_entries: usize,
    /// Most indirect objects in one PDF (those inside object streams included).
    pub max_pdf_objects: usize,
    /// Most memory the parsed objects of one PDF may take, estimated while it loads (a fixed cost
    /// per value, plus the bytes of names, strings and streams). A file past it is refused before
    /// it is parsed further: a small file of many small objects parses to many times its size.
    pub max_pdf_object_bytes: u64,
    /// Most pages read from one PDF.
    pub max_pdf_pages: usize,
    /// Most non-empty cells read from one workbook (all sheets).
    pub max_sheet_cells: usize,
    /// Deepest nesting followed: forwarded messages, XML elements, PDF form XObjects and field trees.
    pub max_depth: usize,
    /// Longest time spent reading one attachment, in milliseconds.
    pub max_millis_per_attachment: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_bytes: 40 * 1024 * 1024,
            max_attachments: 20,
            max_attachment_bytes: 25 * 1024 * 1024,
            max_decompressed_bytes: 64 * 1024 * 1024,
            max_email_decompressed_bytes: 96 * 1024 * 1024,
            max_compression_ratio: 200,
            max_zip_entries: 2_000,
            max_pdf_objects: 200_000,
            max_pdf_object_bytes: 40 * 1024 * 1024,
            max_pdf_pages: 200,
            max_sheet_cells: 500_000,
            max_depth: 32,
            max_millis_per_attachment: 10_000,
        }
    }
}

impl Limits {
    pub fn time_per_attachment(&self) -> Duration {
        Duration::from_millis(self.max_millis_per_attachment)
    }
}

/// A byte count for people: "64 MB", "1.5 MB", "256 KB" (binary units, as the limits are written).
pub fn in_megabytes(bytes: u64) -> String {
    let mb = bytes as f64 / (1024.0 * 1024.0);
    if mb < 1.0 {
        format!("{} KB", bytes / 1024)
    } else if mb >= 10.0 || mb.fract() == 0.0 {
        format!("{mb:.0} MB")
    } else {
        format!("{mb:.1} MB")
    }
}

/// A monotonic clock, supplied from the edge: the core never reads a clock itself (the service
/// passes `std::time::Instant::now`).
pub type Monotonic = fn() -> std::time::Instant;

/// The moment a reader must give up. Readers check it in their loops; reaching it is a
/// [`crate::document::ProblemKind::Timeout`].
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    at: std::time::Instant,
    now: Monotonic,
}

impl Deadline {
    /// `d` from now, by the clock `now`.
    pub fn after(d: Duration, now: Monotonic) -> Self {
        Deadline { at: now() + d, now }
    }

    pub fn expired(&self) -> bool {
        (self.now)() >= self.at
    }
}

/// Most Message-IDs collected from one message to recognise our own replies (its In-Reply-To and
/// References, and a bounce's returned original). Fixed: the look-up is one indexed query.
pub const MAX_REFERRED_IDS: usize = 32;
/// Most bytes of a bounce report read for the returned original's header lines (a
/// `text/rfc822-headers` part, or the report's text when an MTA quotes the headers inline).
pub const MAX_REPORT_SCAN_BYTES: usize = 64 * 1024;

/// The XML parts of DOCX, ODT and ODS packages (`readers::xml`).
pub mod xml {
    /// Element depth allowed, as a multiple of [`super::Limits::max_depth`]: Word nests deeply
    /// (tables in cells, content controls, text boxes, alternate content) where other formats do
    /// not. Deeper nesting stops the part there with a `LimitExceeded` problem; what was read is kept.
    pub const DEPTH_FACTOR: usize = 8;
}

/// The DOCX reader (`readers::word`).
pub mod word {
    /// Most cells a legacy `w:gridSpan` / `w:gridBefore` may add (Word allows 63 columns). A larger
    /// span is read as this one, with no problem: the cell's text is kept.
    pub const MAX_SPAN: usize = 64;
    /// Most fields open at once (nested `w:fldChar begin` without `end`). A deeper field is read
    /// as plain runs, with no problem: its result text is still kept.
    pub const MAX_FIELDS: usize = 64;
    /// Longest field instruction kept (only its first words, FORMTEXT / FORMCHECKBOX /
    /// FORMDROPDOWN, matter); the rest is dropped with no problem. Instructions are never output.
    pub const MAX_INSTR: usize = 256;
}

/// The OpenDocument reader, ODT and ODS (`readers::odf`).
pub mod odf {
    /// Most copies made of one repeated non-empty row or cell; the rest are not read, with a
    /// `LimitExceeded` problem. Empty repeats cost nothing and are not copied.
    pub const MAX_REPEAT: u64 = 1024;
    /// Columns beyond this one are not read, with a `LimitExceeded` problem (LibreOffice's own
    /// maximum is 16,384). Note: wider than [`super::sheet::MAX_COLUMNS`] (XLSX/XLS), kept as it was.
    pub const MAX_COLUMNS: u64 = 16_384;
    /// Most form controls remembered from `office:forms`; further controls are ignored, with a
    /// `LimitExceeded` problem: a checkbox they would have shown is left unread.
    pub const MAX_CONTROLS: usize = 10_000;
    /// Most spaces one `text:s` may stand for; a larger count gives this many, with no problem
    /// (runs of spaces do not change what a paragraph says).
    pub const MAX_SPACES: usize = 256;
}

/// The workbook readers, XLSX and XLS (`readers::sheet`).
pub mod sheet {
    /// Columns materialised per row: A..IV, the width of an Excel 97-2003 sheet. Cells further
    /// right are dropped with a `LimitExceeded` problem, so a stray cell in column XFD never costs
    /// 16,384 strings a row.
    pub const MAX_COLUMNS: u32 = 256;
    /// Excel's own limit on the text of one cell; longer text (only from crafted files) is cut,
    /// with a `LimitExceeded` problem.
    pub const MAX_CELL_CHARS: usize = 32_767;
    /// Shared strings an XLSX may declare or hold (calamine reserves `uniqueCount` up front).
    /// More, and the workbook is refused with a `LimitExceeded` problem before calamine sees it.
    pub const MAX_SHARED_STRINGS: u64 = 1_000_000;
    /// Style records (`xf`, `font`, `fill`, `border`, `numFmt`, `dxf`) an XLSX may hold; Excel
    /// itself allows 64,000 cell formats. calamine keeps about 150 bytes per `<xf>`, and `<xf/>`
    /// is 5 bytes of XML. More, and the workbook is refused with a `LimitExceeded` problem.
    pub const MAX_STYLE_RECORDS: u64 = 200_000;
    /// What calamine may allocate, by the estimate made before it decodes an XLS: about 100 MB in
    /// all. A workbook over it is not handed over; a `LimitExceeded` problem says so.
    pub const XLS_MEMORY_BUDGET: u64 = 96 << 20;
    /// Sheets an XLS may list (each is decoded from its offset, even when offsets repeat). More,
    /// and the workbook is refused with a `LimitExceeded` problem.
    pub const MAX_XLS_SHEETS: usize = 1_024;
    /// CONTINUE records after one XLS record (calamine takes them off the front of a Vec). More,
    /// and the workbook is refused with a `LimitExceeded` problem.
    pub const MAX_XLS_CONTINUES: usize = 16_384;
    /// Bytes moved while calamine builds formula text: it inserts characters at the front of a
    /// growing string, so a crafted formula costs time quadratic in its length. More, and the
    /// workbook is refused with a `LimitExceeded` problem.
    pub const MAX_XLS_FORMULA_WORK: u64 = 10_000_000_000;
}

/// The PDF reader (`readers::pdf`).
pub mod pdf {
    /// Most form XObjects painted in one document; further ones are not painted, with a
    /// `LimitExceeded` problem.
    pub const MAX_FORM_PAINTS: usize = 20_000;
    /// Most words kept from one document's text layer; the rest is not read, with a
    /// `LimitExceeded` problem.
    pub const MAX_RUNS: usize = 500_000;
    /// Deepest `q`/`Q` nesting tracked; deeper saves are counted and restored as no-ops (text
    /// placed inside them may be placed as if in the enclosing state), with a `LimitExceeded`
    /// problem.
    pub const MAX_GSTATE_STACK: usize = 256;
    /// Largest content stream parsed whole (to tell a damaged stream from a sound one); a larger
    /// one is parsed operator by operator, with no problem: the same text is read.
    pub const STRICT_PARSE_MAX: usize = 4 * 1024 * 1024;
    /// Largest `/ToUnicode` or encoding CMap stream decoded, in bytes. A larger one is not used,
    /// with a `LimitExceeded` problem: the font's text falls back to its encoding.
    pub const MAX_CMAP_BYTES: usize = 4 * 1024 * 1024;
    /// Most entries (single codes plus ranges plus array items) read from one CMap; the rest are
    /// not read, with a `LimitExceeded` problem.
    pub const MAX_CMAP_ENTRIES: usize = 200_000;
    /// Longest hex string kept in a CMap: source codes are at most 4 bytes, destinations a few
    /// characters. A longer one is cut, with a `LimitExceeded` problem.
    pub const MAX_CMAP_HEX_BYTES: usize = 64;
    /// Most `/W` entries read for a CID font; the rest take the default width, with no problem
    /// (widths only place words, never decide text).
    pub const MAX_CID_WIDTHS: usize = 65_536;
    /// Most options listed for one form field, and most parts read of a value given as an array;
    /// the rest are not read, with no problem (a choice's value is read whatever its place).
    pub const MAX_FIELD_OPTIONS: usize = 1_000;
    /// Longest text value read from a text stream (`/V` may be a stream); a longer one is not
    /// read (the field is blank), with no problem of its own.
    pub const MAX_FIELD_VALUE_BYTES: usize = 1024 * 1024;
    /// Longest string read from one text string or name, in bytes; the rest is cut.
    pub const MAX_FIELD_STRING_BYTES: usize = 64 * 1024;
    /// Most fields read from one form; the rest are not read, with a `LimitExceeded` problem.
    pub const MAX_FIELDS: usize = 20_000;
    /// Longest partial field name kept, in characters; the rest is cut, with no problem (names
    /// only place a field in its section).
    pub const MAX_FIELD_NAME_CHARS: usize = 512;
    /// Most text (names, labels, values, options) kept from all fields, in bytes. Inherited
    /// values are copied into every field that inherits them, so this bounds what a small file
    /// can cost. Past it the rest are not read, with a `LimitExceeded` problem.
    pub const MAX_FIELD_TEXT: usize = 16 * 1024 * 1024;
}

/// The message reader (`mime`).
pub mod mime {
    /// ARC-Seal and ARC-Authentication-Results headers read, of each (RFC 8617 allows instances
    /// 1 to 50); lower ones are not read, with no problem (only the topmost are trusted anyway).
    pub const MAX_ARC_INSTANCES: usize = 50;
    /// References read from the end of each In-Reply-To / References header, to recognise our
    /// own replies; earlier ones are not read, with no problem.
    pub const LAST_REFERENCES: usize = 8;
}
