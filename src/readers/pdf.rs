//! PDF reader (lopdf). Owned by the PDF work item.
use crate::document::{Document, ProblemKind};
use crate::limits::{Deadline, Limits};

pub fn read(_bytes: &[u8], _limits: &Limits, _deadline: Deadline) -> Document {
    Document::with_problem(ProblemKind::Unsupported, "PDF reader not built yet")
}
