//! The restricted cases one user may not see now (read by `store::subjects`), as the queue,
//! agendas, case pages and the audit search leave them out. Below the modules that filter by it.

use std::collections::HashSet;

/// The restricted cases a user may not see now: left out of the queue, agendas and case pages.
#[derive(Debug, Clone, Default)]
pub struct HiddenCases {
    ids: Vec<i64>,
    refs: HashSet<String>,
}

impl HiddenCases {
    pub(super) fn new(ids: Vec<i64>, refs: HashSet<String>) -> HiddenCases {
        HiddenCases { ids, refs }
    }

    pub fn none() -> HiddenCases {
        HiddenCases::default()
    }

    pub fn hides(&self, case_ref: Option<&str>) -> bool {
        case_ref.is_some_and(|c| self.refs.contains(c))
    }

    /// An SQL condition (` AND ...`) keeping only rows whose `column` (a case id) is not hidden.
    pub(super) fn sql_guard(&self, column: &str) -> String {
        if self.ids.is_empty() {
            return String::new();
        }
        let ids: Vec<String> = self.ids.iter().map(i64::to_string).collect();
        format!(" AND ({column} IS NULL OR {column} NOT IN ({}))", ids.join(", "))
    }
}

impl HiddenCases {
    /// An SQL condition true for an audit record a user with these hidden cases may see: its
    /// `object` is not one of the cases nor one of their messages, or it records the
    /// restriction itself or a break-glass (admins oversee those by reference already). None
    /// when nothing is hidden.
    pub(super) fn audit_visible(&self, object: &str, action: &str) -> Option<String> {
        if self.ids.is_empty() {
            return None;
        }
        let ids: Vec<String> = self.ids.iter().map(i64::to_string).collect();
        let ids = ids.join(", ");
        Some(format!(
            "({object} IS NULL OR {action} IN ('case.restrict', 'case.unrestrict', 'case.break_glass', 'break_glass.seen') \
             OR ({object} NOT IN (SELECT ref FROM cases WHERE id IN ({ids})) AND {object} NOT IN (SELECT ref FROM messages WHERE case_id IN ({ids}) AND ref IS NOT NULL)))"
        ))
    }
}
