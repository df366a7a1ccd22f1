//! Word readers (DOCX and ODT by hand with zip + quick-xml). Owned by the Word work item.
use crate::document::{Document, ProblemKind};
use crate::limits::{Deadline, Limits};

pub fn read_docx(_bytes: &[u8], _limits: &Limits, _deadline: Deadline) -> Document {
    Document::with_problem(ProblemKind::Unsupported, "DOCX reader not built yet")
}
pub fn read_odt(_bytes: &[u8], _limits: &Limits, _deadline: Deadline) -> Document {
    Document::with_problem(ProblemKind::Unsupported, "ODT reader not built yet")
}
