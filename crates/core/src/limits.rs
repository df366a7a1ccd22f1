//! Limits on untrusted input. Every reader takes these; hitting one is a typed problem
//! ([`crate::document::ProblemKind::LimitExceeded`]), never a crash, a hang or a silent skip.

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
