//! The audit trail of the web queue: every view of a case and every change is appended (in the
//! change's own transaction where there is one). Admins read it at `/admin/audit` and export it
//! as CSV. Nothing here updates or deletes a record.

use crate::store::accounts::AuditEntry;

/// Longest request path kept in an audit record, in bytes (a refused request's path is the
/// client's to choose).
pub const MAX_PATH_BYTES: usize = 200;

/// `path` cut to at most [`MAX_PATH_BYTES`] bytes, on a character boundary.
pub fn truncated(path: &str) -> String {
    let mut end = path.len().min(MAX_PATH_BYTES);
    while !path.is_char_boundary(end) {
        end -= 1;
    }
    path[..end].to_owned()
}


/// Audit actions, one word each.
pub const CASE_VIEW: &str = "case.view";
pub const QUEUE_VIEW: &str = "queue.view";
pub const REVIEW_ACCEPT: &str = "review.accept";
pub const REVIEW_REJECT: &str = "review.reject";
/// A review item whose area could not be told placed in an area by a coordinator.
pub const REVIEW_PLACE: &str = "review.place";
pub const AUDIT_EXPORT: &str = "audit.export";
pub const QUARANTINE_RELEASE: &str = "quarantine.release";
pub const QUARANTINE_DISCARD: &str = "quarantine.discard";
pub const CASE_HEARD: &str = "case.heard";
pub const CASE_CLOSE: &str = "case.close";
pub const CASE_MOVE: &str = "case.move";
pub const MEETING_VIEW: &str = "meeting.view";
pub const PERSON_MERGE: &str = "person.merge";
pub const PERSON_SPLIT: &str = "person.split";
/// A merge split back (object: the case; detail: the two records).
pub const PERSON_UNMERGE: &str = "person.unmerge";
/// A closed case made pending again, and a case marked heard by mistake made pending again.
pub const CASE_REOPEN: &str = "case.reopen";
pub const CASE_UNHEARD: &str = "case.unheard";
/// A search for a person (detail: what the query was read as and how many were found; never
/// the query).
pub const SEARCH: &str = "search";
pub const AGENDA_EXPORT: &str = "agenda.export";
/// A meeting's agenda queued for the agencies' designated officers, by a coordinator or by the
/// schedule (object: the meeting and area; detail: how many officers and cases, by whom).
pub const AGENDA_SEND: &str = crate::store::agenda::AGENDA_SEND;
/// A rule section changed in the web console (object: the section; detail: the version).
pub const RULES_CHANGE: &str = "rules.change";
/// An original attachment downloaded (object: the message; detail: its position and kind).
pub const ATTACHMENT_DOWNLOAD: &str = "attachment.download";
/// Admin views: the audit log (detail: its filter), the users, the rules in force (object: a
/// section when one is opened).
pub const AUDIT_VIEW: &str = "audit.view";
pub const USERS_VIEW: &str = "users.view";
pub const RULES_VIEW: &str = "rules.view";
/// A signed-in user refused a page their role does not open (object: the path).
pub const ACCESS_REFUSED: &str = "access.refused";
/// The SafeLives data return viewed or exported (object: the quarter; detail: the area and the
/// format). Counts only: it names no case.
pub const DATA_RETURN_VIEW: &str = "data_return.view";
pub const DATA_RETURN_EXPORT: &str = "data_return.export";
/// A message downloaded as received (object: the message).
pub const MESSAGE_DOWNLOAD: &str = "message.download";

/// Data-subject rights (object: the person's reference; detail: counts, or the reason of an
/// erasure, never a name): an admin opened a person's page, exported everything held about them,
/// corrected their name or date of birth, erased them.
pub const SUBJECT_VIEW: &str = "subject.view";
pub const SUBJECT_EXPORT: &str = "subject.export";
pub const SUBJECT_RECTIFY: &str = "subject.rectify";
pub const SUBJECT_ERASE: &str = "subject.erase";
/// A case restricted to named users (detail: who), or opened to all again.
pub const CASE_RESTRICT: &str = "case.restrict";
pub const CASE_UNRESTRICT: &str = "case.unrestrict";
/// A user not named broke the glass of a restricted case (detail: the reason and the end).
pub const BREAK_GLASS: &str = "case.break_glass";
/// An admin marked a break-glass access seen.
pub const BREAK_GLASS_SEEN: &str = "break_glass.seen";
/// A coordinator's correction of what was read (object: the message; detail: what was
/// corrected, `dash.N` or a field's key, and the decision it led to; never a value), and the
/// preview shown before it (a view of the case).
pub const CASE_CORRECT: &str = "case.correct";
pub const CASE_CORRECT_PREVIEW: &str = "case.correct_preview";
/// The admins' list of restricted cases.
pub const RESTRICTIONS_VIEW: &str = "restrictions.view";

/// The audit log as CSV (RFC 4180 quoting), a header row first: `at` as stored (ISO 8601 UTC, to
/// the millisecond), and last `uk_time`, the same moment in UK local time and form. Cells that a
/// spreadsheet would read as a formula are prefixed with a quote.
pub fn to_csv(entries: &[AuditEntry]) -> String {
    let mut out = String::from("id,at,actor,action,object,client,detail,uk_time\r\n");
    for e in entries {
        let cells = [
            e.id.to_string(),
            e.at.clone(),
            e.actor.clone(),
            e.action.clone(),
            e.object.clone().unwrap_or_default(),
            e.client.clone().unwrap_or_default(),
            e.detail.clone().unwrap_or_default(),
            crate::clock::uk_text(&e.at),
        ];
        out.push_str(&cells.iter().map(|c| csv_cell(c)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}

/// One CSV cell, quoted when needed. A cell a spreadsheet could read as a formula (a leading
/// `=`, `+`, `-`, `@`, TAB or CR: OWASP's list) is prefixed with a quote.
pub fn csv_cell(c: &str) -> String {
    let c = if c.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{c}") } else { c.to_owned() };
    if c.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", c.replace('"', "\"\""))
    } else {
        c
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn csv_cells_are_quoted_and_formulas_defused() {
        assert_eq!(super::csv_cell("a,b"), "\"a,b\"");
        assert_eq!(super::csv_cell("say \"x\""), "\"say \"\"x\"\"\"");
        assert_eq!(super::csv_cell("=1+1"), "'=1+1");
        for formula in ["+1", "-1", "@SUM(A1)", "\t=1+1"] {
            assert_eq!(super::csv_cell(formula), format!("'{formula}"));
        }
        assert_eq!(super::csv_cell("\r=1+1"), "\"'\r=1+1\"", "defused, then quoted for its CR");
        assert_eq!(super::csv_cell("a-b"), "a-b", "only a leading sign");
        assert_eq!(super::csv_cell("plain"), "plain");
    }
}
