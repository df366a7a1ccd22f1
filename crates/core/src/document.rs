//! The neutral shape every attachment reader produces, whatever the format.
//!
//! Readers turn bytes into a [`Document`]: blocks of text and tables in reading order, plus the
//! interactive form fields a PDF carries. Checkbox states found inside text (Word content controls,
//! legacy form checkboxes, ☒/☐ glyphs) are written inline as [`CHECKED`] / [`UNCHECKED`] followed
//! by their label, so that the recognisers see one representation for all formats.
//! Nothing here does I/O.

use serde::Serialize;

/// Inline marker for a ticked checkbox.
pub const CHECKED: char = '☒';
/// Inline marker for an empty checkbox.
pub const UNCHECKED: char = '☐';

/// What a reader could read from one attachment, and what it could not.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Document {
    /// Paragraphs and tables in reading order.
    pub blocks: Vec<Block>,
    /// Interactive form fields (PDF AcroForm). Empty for other formats.
    pub fields: Vec<FormField>,
    /// Everything that stopped the reader from reading all of the attachment.
    pub problems: Vec<Problem>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Block {
    Paragraph(Paragraph),
    Table(Table),
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Paragraph {
    pub text: String,
    /// Where it was found, for a person: "page 2", "paragraph 14".
    pub at: String,
}

/// A table: a Word table, a spreadsheet sheet, or the lines of a PDF page split into cells.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Table {
    /// Where it was found, for a person: "table 3", "sheet 'DASH'", "page 1".
    pub at: String,
    pub rows: Vec<Row>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Row {
    /// Where it was found within the table, for a person: "row 11".
    pub at: String,
    /// Cell texts left to right. A merged cell's text is in its first cell; the cells it covers
    /// are empty strings, so column positions stay true.
    pub cells: Vec<String>,
    /// Where each cell lies across the page, [x0, x1] in points, when the format has no grid
    /// (the text layer of a PDF): marks under Yes / No / Don't know are placed by these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub spans: Vec<[f32; 2]>,
}

/// One PDF form field (a terminal field, after inheritance of /FT, /V and flags).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FormField {
    /// Fully qualified name, parent names joined with '.'.
    pub name: String,
    /// The alternate (user-facing) name, /TU, when present.
    pub label: Option<String>,
    /// Text printed on the page on the same line as the field's widget(s), left of them.
    pub context: Option<String>,
    /// The nearest heading-like line printed above the field's first widget on its page (a line
    /// of one cell with no field beside it and no field directly under it): the section the
    /// field sits in, for the recognisers to name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heading: Option<String>,
    pub kind: FieldKind,
    /// Text value; for checkboxes and radio groups the selected export value (None when off).
    pub value: Option<String>,
    /// For buttons: the export values of its widgets ("Yes", "No", "DK", "On", ...).
    pub options: Vec<String>,
    /// For buttons: each widget on the field's page with its own export value and where it lies
    /// across the page, so that a box whose name and export value say nothing ("Check Box 37",
    /// on-state "Yes"; a radio's bare "1" / "2" / "3") is read by the column header printed
    /// above it, as marks in a flat PDF are. Empty for other fields and formats.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub widgets: Vec<WidgetBox>,
    /// Where it was found, for a person: "page 1".
    pub at: String,
}

/// One widget (box on the page) of a button field.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct WidgetBox {
    /// The widget's on-state export value ("Yes", "2", "Choice1"), when it has one.
    pub export: Option<String>,
    /// Its extent across the page, [x0, x1] in points, in the space of [`Row::spans`].
    pub x: [f32; 2],
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    Text,
    Checkbox,
    Radio,
    Choice,
    Other,
}

/// Why (part of) an input could not be read. `detail` describes structure only, never content.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Problem {
    pub kind: ProblemKind,
    pub detail: String,
    /// The referral field (`recognise::referral::FIELDS` key) it is about, when it is about one:
    /// what a later stage asks instead of reading `detail`.
    #[serde(skip)]
    pub field: Option<String>,
    /// The DASH question (1..=24) it is about, when it is about one: what a coordinator's
    /// correction of that answer settles (`crate::correct`).
    #[serde(skip)]
    pub question: Option<u8>,
}

impl Problem {
    pub fn new(kind: ProblemKind, detail: impl Into<String>) -> Self {
        Problem { kind, detail: detail.into(), field: None, question: None }
    }

    /// A problem with the answer to DASH question `q`.
    pub fn on_question(kind: ProblemKind, q: u8, detail: impl Into<String>) -> Self {
        Problem { question: Some(q), ..Problem::new(kind, detail) }
    }

    /// A problem with the referral field `key`.
    pub fn on_field(kind: ProblemKind, key: &str, detail: impl Into<String>) -> Self {
        Problem { field: Some(key.to_owned()), ..Problem::new(kind, detail) }
    }
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// Password-protected or encrypted; content not readable.
    Encrypted,
    /// Image-only (scanned) document: no text layer, no form fields.
    Scanned,
    /// Structure broken: not a valid file of its type.
    Corrupt,
    /// File ends early.
    Truncated,
    /// A configured limit (size, count, ratio, depth, cells, pages, time) was hit.
    LimitExceeded,
    /// A format the product does not read (legacy .doc, TNEF, unknown binary).
    Unsupported,
    /// A parser panicked; the panic was contained.
    ParserPanic,
    /// Reading took longer than the time limit.
    Timeout,
    /// A DASH question could not be found, or an answer could not be understood.
    Unrecognised,
    /// Two answers marked for one question (for example both Yes and No).
    ConflictingMarks,
    /// A date that does not exist (31/02/1990) or cannot be read.
    InvalidDate,
    /// The score stated on the form disagrees with the checklist's count.
    ScoreMismatch,
    /// A form field whose value the reader could not be sure of (a label read where the value
    /// belongs, a value that could be a neighbour's): it was left blank. It does not stop an
    /// automatic acceptance, but it stops every automatic rejection that rests on that field
    /// (see `Referral::uncertain`).
    Uncertain,
}

impl ProblemKind {
    /// The kind's one spelling, as it is serialized (for counters' labels and logs).
    pub fn as_str(self) -> &'static str {
        match self {
            ProblemKind::Encrypted => "encrypted",
            ProblemKind::Scanned => "scanned",
            ProblemKind::Corrupt => "corrupt",
            ProblemKind::Truncated => "truncated",
            ProblemKind::LimitExceeded => "limit_exceeded",
            ProblemKind::Unsupported => "unsupported",
            ProblemKind::ParserPanic => "parser_panic",
            ProblemKind::Timeout => "timeout",
            ProblemKind::Unrecognised => "unrecognised",
            ProblemKind::ConflictingMarks => "conflicting_marks",
            ProblemKind::InvalidDate => "invalid_date",
            ProblemKind::ScoreMismatch => "score_mismatch",
            ProblemKind::Uncertain => "uncertain",
        }
    }

    /// Whether this problem means the content may have been misread: such a referral needs a person.
    pub fn blocks_automatic_decision(self) -> bool {
        !matches!(self, ProblemKind::InvalidDate | ProblemKind::Uncertain)
    }
}

impl Document {
    pub fn with_problem(kind: ProblemKind, detail: impl Into<String>) -> Self {
        Document { problems: vec![Problem::new(kind, detail)], ..Document::default() }
    }

    /// True when the reader produced no content at all.
    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty() && self.fields.is_empty()
    }
}
