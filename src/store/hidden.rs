//! What one user may not see now (read by `store::subjects`), as the queue, agendas, case pages,
//! the dashboard and the audit search leave it out: the restricted cases closed to them, and
//! every area but theirs. Below the modules that filter by it.

use std::collections::HashSet;

/// The restricted cases a user may not see now, and the areas they may see (None: every area,
/// the deployment's admins).
#[derive(Debug, Clone, Default)]
pub struct HiddenCases {
    ids: Vec<i64>,
    refs: HashSet<String>,
    areas: Option<Vec<String>>,
}

/// Whether `s` may stand in SQL as an area id: what `[areas.ID]` allows (see
/// `config::areas`). Anything else is never an area a user sees.
pub fn valid_area_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 32 && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

impl HiddenCases {
    pub(super) fn new(ids: Vec<i64>, refs: HashSet<String>, areas: Option<Vec<String>>) -> HiddenCases {
        let areas = areas.map(|a| a.into_iter().filter(|x| valid_area_id(x)).collect());
        HiddenCases { ids, refs, areas }
    }

    /// Nothing hidden: every case of every area.
    pub fn none() -> HiddenCases {
        HiddenCases::default()
    }

    pub fn hides(&self, case_ref: Option<&str>) -> bool {
        case_ref.is_some_and(|c| self.refs.contains(c))
    }

    /// Whether the user works in `area` (every area for a deployment's admin).
    pub fn sees_area(&self, area: &str) -> bool {
        self.areas.as_ref().is_none_or(|a| a.iter().any(|x| x == area))
    }

    /// The areas the user works in (None: every area).
    pub fn areas(&self) -> Option<&[String]> {
        self.areas.as_deref()
    }

    /// `('a', 'b')`: the user's areas as an SQL list (ids are checked by [`valid_area_id`]).
    fn area_list(areas: &[String]) -> String {
        if areas.is_empty() {
            return "('')".to_owned();
        }
        format!("({})", areas.iter().map(|a| format!("'{a}'")).collect::<Vec<_>>().join(", "))
    }

    /// An SQL condition (` AND ...`) keeping only rows whose `column` (a case id) is not hidden.
    pub(super) fn sql_guard(&self, column: &str) -> String {
        if self.ids.is_empty() {
            return String::new();
        }
        let ids: Vec<String> = self.ids.iter().map(i64::to_string).collect();
        format!(" AND ({column} IS NULL OR {column} NOT IN ({}))", ids.join(", "))
    }

    /// An SQL condition (` AND ...`) keeping only the messages (table alias `m`) of the user's
    /// areas, and those whose area could not be told that may be one of theirs.
    pub(super) fn message_area_guard(&self, m: &str) -> String {
        match &self.areas {
            None => String::new(),
            Some(a) => {
                let list = Self::area_list(a);
                format!(" AND ({m}.area IN {list} OR ({m}.area = '' AND EXISTS (SELECT 1 FROM message_candidates mc WHERE mc.message_row = {m}.id AND mc.area IN {list})))")
            }
        }
    }

    /// An SQL condition (` AND ...`) keeping only the rows whose `column` (an area) is one of the
    /// user's.
    pub(super) fn area_guard(&self, column: &str) -> String {
        match &self.areas {
            None => String::new(),
            Some(a) => format!(" AND {column} IN {}", Self::area_list(a)),
        }
    }
}

impl HiddenCases {
    /// An SQL condition true for an audit record a user with these hidden cases may see: its
    /// `object` is not one of the cases nor one of their messages, or it records the
    /// restriction itself or a break-glass (admins oversee those by reference already); and it
    /// is about no case, message or person of another area. None when nothing is hidden.
    pub(super) fn audit_visible(&self, object: &str, action: &str) -> Option<String> {
        let mut parts = Vec::new();
        if !self.ids.is_empty() {
            let ids: Vec<String> = self.ids.iter().map(i64::to_string).collect();
            let ids = ids.join(", ");
            parts.push(format!(
                "({object} IS NULL OR {action} IN ('case.restrict', 'case.unrestrict', 'case.break_glass', 'break_glass.seen') \
                 OR ({object} NOT IN (SELECT ref FROM cases WHERE id IN ({ids})) AND {object} NOT IN (SELECT ref FROM messages WHERE case_id IN ({ids}) AND ref IS NOT NULL)))"
            ));
        }
        if let Some(a) = &self.areas {
            let list = Self::area_list(a);
            parts.push(format!(
                "({object} IS NULL OR ({object} NOT IN (SELECT ref FROM cases WHERE area NOT IN {list}) \
                 AND {object} NOT IN (SELECT ref FROM messages WHERE area <> '' AND area NOT IN {list}) \
                 AND {object} NOT IN (SELECT ref FROM people WHERE area NOT IN {list})))"
            ));
        }
        if parts.is_empty() { None } else { Some(parts.join(" AND ")) }
    }
}
