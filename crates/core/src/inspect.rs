//! One message through the reading stages: MIME → sniff → readers → recognisers. Pure (bytes in,
//! values out); every reader runs with its panics contained and under its time limit, so one bad
//! attachment becomes a typed problem and never stops the caller.

use crate::document::{Document, Problem, ProblemKind};
use crate::limits::{in_megabytes, Deadline, Limits, Monotonic};
use crate::mime::{self, Email, Envelope, Refers, Signal};
use crate::readers;
use crate::recognise::dash::Dash;
use crate::recognise::referral::{Referral, Synonyms};
use crate::recognise::{self, Recognised};
use crate::sniff::FileKind;
use chrono::Datelike;
use serde::Serialize;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;

#[derive(Debug, Clone)]
pub struct InspectOptions {
    pub limits: Limits,
    pub synonyms: Synonyms,
    /// The clock the readers' time limits are kept by, passed in from the edge.
    pub clock: Monotonic,
}

impl InspectOptions {
    /// The default limits and synonyms, with time kept by `clock`.
    pub fn with_clock(clock: Monotonic) -> Self {
        InspectOptions { limits: Limits::default(), synonyms: Synonyms::default(), clock }
    }
}

/// Everything read from one message.
#[derive(Debug, Clone, Serialize)]
pub struct Inspection {
    pub message_sha256: String,
    pub size: usize,
    pub envelope: Envelope,
    pub signals: Vec<Signal>,
    /// The Message-IDs it refers to (a bounce: those of the returned original); shown only when
    /// there are some.
    #[serde(skip_serializing_if = "Refers::is_empty")]
    pub refers: Refers,
    pub attachments: Vec<AttachmentReport>,
    /// The DASH RIC, `null` when none was read.
    pub dash: Option<Dash>,
    pub referral: Option<Referral>,
    /// Every problem, from the message, its attachments and the recognisers.
    pub problems: Vec<Located>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AttachmentReport {
    pub at: String,
    pub name: Option<String>,
    pub declared_type: String,
    pub inline: bool,
    pub kind: FileKind,
    pub size: usize,
    pub sha256: String,
    /// `read` (no problem), `partial` (content and problems) or `unreadable` (no content).
    pub outcome: Outcome,
    pub problems: Vec<Problem>,
    /// What the recognisers found in it.
    pub recognised: Vec<&'static str>,
    /// Paragraphs, tables and form fields read, for a person checking the reader.
    pub blocks: usize,
    pub fields: usize,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Read,
    Partial,
    Unreadable,
}

/// A problem and where it arose, written (`at`) as "message", "attachment 2", "dash", "referral".
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Located {
    #[serde(rename = "at")]
    pub place: Place,
    #[serde(flatten)]
    pub problem: Problem,
}

/// Where in the message a problem arose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    Message,
    /// The attachment at this position (`AttachmentReport::at`: "2", "forwarded 1 › 2").
    Attachment(String),
    Dash,
    Referral,
}

impl Place {
    /// The attachment's position, when the problem is an attachment's.
    pub fn attachment(&self) -> Option<&str> {
        match self {
            Place::Attachment(at) => Some(at),
            _ => None,
        }
    }
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Place::Message => f.write_str("message"),
            Place::Attachment(at) => write!(f, "attachment {at}"),
            Place::Dash => f.write_str("dash"),
            Place::Referral => f.write_str("referral"),
        }
    }
}

impl Serialize for Place {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl Inspection {
    /// True when something could not be read: the referral needs a person.
    pub fn has_blocking_problem(&self) -> bool {
        self.problems.iter().any(|p| p.problem.kind.blocks_automatic_decision())
    }
}

/// Reads one raw message.
pub fn inspect(raw: &[u8], opts: &InspectOptions) -> Inspection {
    let email = mime::parse(raw, &opts.limits);
    let mut budget = EmailBudget::new(&opts.limits, opts.clock);
    let docs: Vec<Document> = email
        .attachments
        .iter()
        .map(|a| match a.kind {
            // An inline logo or signature image is part of the body, not a form sent to us.
            FileKind::Image if a.inline => Document::default(),
            kind => budget.read(kind, &a.bytes),
        })
        .collect();
    let pivot_year = email.envelope.received.or(email.envelope.date).map(|d| d.year()).unwrap_or(2099);
    let pairs: Vec<(&str, &Document)> = email.attachments.iter().map(|a| a.at.as_str()).zip(docs.iter()).collect();
    let recognised = recognise::recognise(&pairs, &opts.synonyms, pivot_year);
    assemble(email, docs, recognised)
}

/// The decompression budget of one message: its attachments are read in turn, each within what
/// the earlier ones left (and within the per-document `max_decompressed_bytes`), so that one
/// message cannot make the service hold or work through more than `max_email_decompressed_bytes`.
struct EmailBudget<'a> {
    limits: &'a Limits,
    clock: Monotonic,
    left: u64,
}

impl<'a> EmailBudget<'a> {
    fn new(limits: &'a Limits, clock: Monotonic) -> Self {
        EmailBudget { limits, clock, left: limits.max_email_decompressed_bytes }
    }

    fn read(&mut self, kind: FileKind, bytes: &[u8]) -> Document {
        let email_limit = self.limits.max_email_decompressed_bytes;
        let said = format!("the message's attachments decompress to more than {} in all", in_megabytes(email_limit));
        if self.left == 0 {
            return Document::with_problem(ProblemKind::LimitExceeded, format!("{said}: this attachment was not read"));
        }
        let narrowed = self.left < self.limits.max_decompressed_bytes;
        let limits = Limits { max_decompressed_bytes: self.limits.max_decompressed_bytes.min(self.left), ..self.limits.clone() };
        let (mut doc, spent) = read_metered(kind, bytes, &limits, self.clock);
        self.left = self.left.saturating_sub(spent);
        if narrowed && doc.problems.iter().any(|p| p.kind == ProblemKind::LimitExceeded) {
            doc.problems.push(Problem::new(
                ProblemKind::LimitExceeded,
                format!("{said}: this attachment was read within the {} the others left", in_megabytes(limits.max_decompressed_bytes)),
            ));
        }
        doc
    }
}

/// Runs a reader on its own thread: a panic is contained, and a reader still running at its time
/// limit is abandoned (it stops at its own deadline check) and reported as a timeout.
pub fn read_contained(kind: FileKind, bytes: &[u8], limits: &Limits, clock: Monotonic) -> Document {
    read_metered(kind, bytes, limits, clock).0
}

/// [`read_contained`], with the bytes the reader decompressed. A reader that panicked or was
/// abandoned is charged all it was allowed.
fn read_metered(kind: FileKind, bytes: &[u8], limits: &Limits, clock: Monotonic) -> (Document, u64) {
    let limit = limits.time_per_attachment();
    let (tx, rx) = mpsc::channel();
    let owned = bytes.to_vec();
    let lim = limits.clone();
    let spawned = std::thread::Builder::new().name("reader".into()).spawn(move || {
        let deadline = Deadline::after(lim.time_per_attachment(), clock);
        let read = catch_unwind(AssertUnwindSafe(|| readers::read_metered(kind, &owned, &lim, deadline)));
        let _ = tx.send(read);
    });
    if spawned.is_err() {
        return (Document::with_problem(ProblemKind::LimitExceeded, "no thread available to read the attachment"), 0);
    }
    let all = limits.max_decompressed_bytes;
    // A grace period beyond the reader's own deadline, for its last check to come round.
    match rx.recv_timeout(limit + limit / 2) {
        Ok(Ok(read)) => read,
        Ok(Err(_)) => (
            Document::with_problem(
                ProblemKind::ParserPanic,
                format!("the {kind:?} reader failed on this file; it needs a person to read it"),
            ),
            all,
        ),
        Err(_) => (
            Document::with_problem(
                ProblemKind::Timeout,
                format!("reading took longer than {} ms", limits.max_millis_per_attachment),
            ),
            all,
        ),
    }
}

fn assemble(email: Email, docs: Vec<Document>, recognised: Recognised) -> Inspection {
    let mut problems: Vec<Located> =
        email.problems.iter().map(|p| Located { place: Place::Message, problem: p.clone() }).collect();
    let mut attachments = Vec::with_capacity(email.attachments.len());
    for (a, doc) in email.attachments.iter().zip(&docs) {
        let mut found = Vec::new();
        if recognised.dash.as_ref().is_some_and(|d| d.attachment == a.at) {
            found.push("dash");
        }
        if recognised.referral.as_ref().is_some_and(|r| r.attachments.contains(&a.at)) {
            found.push("referral");
        }
        let outcome = match (doc.is_empty(), doc.problems.is_empty()) {
            (_, true) => Outcome::Read,
            (false, false) => Outcome::Partial,
            (true, false) => Outcome::Unreadable,
        };
        problems.extend(doc.problems.iter().map(|p| Located { place: Place::Attachment(a.at.clone()), problem: p.clone() }));
        attachments.push(AttachmentReport {
            at: a.at.clone(),
            name: a.name.clone(),
            declared_type: a.declared_type.clone(),
            inline: a.inline,
            kind: a.kind,
            size: a.size,
            sha256: a.sha256.clone(),
            outcome,
            problems: doc.problems.clone(),
            recognised: found,
            blocks: doc.blocks.len(),
            fields: doc.fields.len(),
        });
    }
    if let Some(d) = &recognised.dash {
        problems.extend(d.problems.iter().map(|p| Located { place: Place::Dash, problem: p.clone() }));
    }
    if let Some(r) = &recognised.referral {
        problems.extend(r.problems.iter().map(|p| Located { place: Place::Referral, problem: p.clone() }));
    }
    Inspection {
        message_sha256: email.sha256,
        size: email.size,
        envelope: email.envelope,
        signals: email.signals,
        refers: email.refers,
        attachments,
        dash: recognised.dash,
        referral: recognised.referral,
        problems,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::readers::archive::tests::zip;

    /// A DOCX whose main part is `paragraphs` numbered paragraphs: text that compresses about
    /// tenfold, under the ratio limit.
    fn docx(paragraphs: usize) -> (Vec<u8>, u64) {
        let mut xml = String::from(
            r#"<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>"#,
        );
        for i in 0..paragraphs {
            xml.push_str(&format!("<w:p><w:r><w:t>Paragraph {i}</w:t></w:r></w:p>"));
        }
        xml.push_str("</w:body></w:document>");
        (zip(&[("word/document.xml", xml.as_bytes())]), xml.len() as u64)
    }

    #[test]
    fn attachments_of_one_message_draw_from_one_decompression_budget() {
        let (bytes, size) = docx(2_000);
        // Room for exactly one: the second attachment finds nothing left.
        let limits = Limits { max_email_decompressed_bytes: size, ..Limits::default() };
        let mut budget = EmailBudget::new(&limits, std::time::Instant::now);
        let first = budget.read(FileKind::Docx, &bytes);
        assert!(first.problems.is_empty(), "{:?}", first.problems);
        assert_eq!(first.blocks.len(), 2_000);
        let second = budget.read(FileKind::Docx, &bytes);
        assert!(second.blocks.is_empty());
        let limit = in_megabytes(size);
        assert_eq!(
            second.problems,
            [Problem::new(
                ProblemKind::LimitExceeded,
                format!("the message's attachments decompress to more than {limit} in all: this attachment was not read")
            )]
        );

        // Room for one and a half: the second is read within what is left, and both limits say so.
        let limits = Limits { max_email_decompressed_bytes: size + size / 2, ..Limits::default() };
        let mut budget = EmailBudget::new(&limits, std::time::Instant::now);
        assert!(budget.read(FileKind::Docx, &bytes).problems.is_empty());
        let second = budget.read(FileKind::Docx, &bytes);
        let details: Vec<&str> = second.problems.iter().map(|p| p.detail.as_str()).collect();
        assert!(second.problems.iter().all(|p| p.kind == ProblemKind::LimitExceeded), "{details:?}");
        assert!(details.iter().any(|d| d.starts_with("archive expands to more than")), "{details:?}");
        assert!(
            details.contains(&format!(
                "the message's attachments decompress to more than {} in all: this attachment was read within the {} the others left",
                in_megabytes(size + size / 2),
                in_megabytes(size / 2)
            ).as_str()),
            "{details:?}"
        );
    }

    #[test]
    fn a_message_within_its_budget_reads_every_attachment_whole() {
        let (bytes, size) = docx(500);
        let limits = Limits { max_email_decompressed_bytes: 3 * size, ..Limits::default() };
        let mut budget = EmailBudget::new(&limits, std::time::Instant::now);
        for _ in 0..3 {
            let doc = budget.read(FileKind::Docx, &bytes);
            assert!(doc.problems.is_empty(), "{:?}", doc.problems);
            assert_eq!(doc.blocks.len(), 500);
        }
        assert_eq!(budget.left, 0);
    }
}
