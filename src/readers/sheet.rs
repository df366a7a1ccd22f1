//! Spreadsheet readers (calamine for XLSX/XLS; ODS). Owned by the spreadsheet work item.
use crate::document::{Document, ProblemKind};
use crate::limits::{Deadline, Limits};

pub fn read_xlsx(_bytes: &[u8], _limits: &Limits, _deadline: Deadline) -> Document {
    Document::with_problem(ProblemKind::Unsupported, "XLSX reader not built yet")
}
pub fn read_xls(_bytes: &[u8], _limits: &Limits, _deadline: Deadline) -> Document {
    Document::with_problem(ProblemKind::Unsupported, "XLS reader not built yet")
}
pub fn read_ods(_bytes: &[u8], _limits: &Limits, _deadline: Deadline) -> Document {
    Document::with_problem(ProblemKind::Unsupported, "ODS reader not built yet")
}
