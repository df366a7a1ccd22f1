//! Data-subject rights and restricted cases (issue 12, items 8 and 9).
//!
//! - **Export** ([`Store::subject_export`], [`archive`]): everything held about one person, by
//!   their reference: the person, their cases and referrals, every message (as received, opened
//!   from its sealed blob, with what was read from it, its attachments listed and its decisions),
//!   the replies sent about it, and the audit records naming the person, their cases or their
//!   messages (who looked, who changed what). One zip with a `manifest.json` and a `README.txt`.
//! - **Rectification** ([`Store::rectify_subject`]): the recorded name and date of birth
//!   corrected; merges and splits of victim records are on the case page.
//! - **Erasure** ([`Store::erase_subject`]): the name and date of birth blanked, every message of
//!   theirs replaced by a tombstone (its original, its replies, what was read from it, its
//!   attachments' names), the person kept as a reference so that case counts and the audit log
//!   still add up. An agenda to the agencies' officers not yet sent that lists one of their
//!   cases (their initials and year of birth are in it) is never sent either: its text is
//!   replaced and it is refused, to be sent again from the meeting page. Audited with the
//!   reason, in the same transaction.
//! - **Restricted cases** ([`Store::access`], [`Store::hidden_cases`]): a case open only to the
//!   users named; anyone else may break the glass with a reason for a limited time
//!   ([`Store::break_glass`]), which the admins see on their dashboard until one marks it seen.
//!
//! Audit records name people by their reference and carry counts, never a name.

use super::accounts::{AuditEntry, AuditFilter};
use super::audit::Audit;
use super::cases::{CaseRow, DecisionRow, ReferralRow};
use super::{message_record, MessageRecord, OutboxEntry, Store, MESSAGE_SELECT};
use crate::crypto::Place;
use super::error::{Context, Result};
use serde_json::Value;
use sqlx::Row;
use std::collections::HashSet;
use std::io::Write;

/// What a message and its replies become when their person is erased.
pub const TOMBSTONE: &str = "X-Marac-Erased: yes\r\nSubject: (erased)\r\n\r\nThis message was erased at a data-subject request. The audit log records when, by whom and why.\r\n";

/// Why an agenda not yet sent was withdrawn by an erasure (its outbox row's `last_error`).
pub const AGENDA_ERASED: &str = "withdrawn before it was sent: it listed a person since erased; send the agenda again from the meeting page";

/// The audit actions that change a case or its person (the rest are views and downloads).
const CHANGES: &[&str] = &[
    "review.accept", "review.reject", "quarantine.release", "quarantine.discard", "case.heard", "case.close", "case.move", "person.merge", "person.split",
    "subject.rectify", "subject.erase", "case.restrict", "case.unrestrict",
];

/// The person as recorded.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PersonRow {
    pub reference: String,
    pub name: String,
    pub dob: Option<String>,
    pub created_at: String,
    pub erased_at: Option<String>,
}

/// An attachment as recorded when its message was decided (the bytes are in the message).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AttachmentRow {
    pub sha256: String,
    pub kind: String,
    pub name: Option<String>,
    pub size: i64,
}

/// One message of the person, whole.
#[derive(Debug, Clone)]
pub struct SubjectMessage {
    pub record: MessageRecord,
    pub inspection: Value,
    pub decisions: Vec<DecisionRow>,
    pub attachments: Vec<AttachmentRow>,
    /// As received (opened from its sealed blob), if kept.
    pub raw: Option<Vec<u8>>,
    /// Replies and notices about it, each with its text as sent (opened).
    pub replies: Vec<(OutboxEntry, String)>,
    /// What coordinators corrected of what was read, each beside what was read.
    pub corrections: Vec<super::corrections::CorrectionRow>,
}

/// Everything held about one person.
#[derive(Debug, Clone)]
pub struct SubjectExport {
    pub person: PersonRow,
    pub cases: Vec<CaseRow>,
    pub referrals: Vec<ReferralRow>,
    pub messages: Vec<SubjectMessage>,
    /// Audit records naming the person, their cases or their messages, oldest first.
    pub audit: Vec<AuditEntry>,
}

impl SubjectExport {
    /// The counts the manifest gives and the export's audit record carries.
    pub fn counts(&self) -> Counts {
        Counts {
            cases: self.cases.len(),
            referrals: self.referrals.len(),
            messages: self.messages.len(),
            originals: self.messages.iter().filter(|m| m.raw.is_some()).count(),
            attachments: self.messages.iter().map(|m| m.attachments.len()).sum(),
            decisions: self.messages.iter().map(|m| m.decisions.len()).sum(),
            replies: self.messages.iter().map(|m| m.replies.len()).sum(),
            changes: self.audit.iter().filter(|a| CHANGES.contains(&a.action.as_str())).count(),
            views: self.audit.iter().filter(|a| !CHANGES.contains(&a.action.as_str())).count(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub cases: usize,
    pub referrals: usize,
    pub messages: usize,
    /// Messages kept as received (the others were recorded before originals were kept).
    pub originals: usize,
    pub attachments: usize,
    pub decisions: usize,
    pub replies: usize,
    /// Audit records of changes (decisions, corrections, erasure, restriction).
    pub changes: usize,
    /// Audit records of views and downloads.
    pub views: usize,
}

impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "cases {}, referrals {}, messages {} ({} kept as received), attachments {}, decisions {}, replies {}, audit records {} changes and {} views",
            self.cases, self.referrals, self.messages, self.originals, self.attachments, self.decisions, self.replies, self.changes, self.views
        )
    }
}

/// A person's page for admins: the reference, whether erased, and what is held (no name).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SubjectSummary {
    pub reference: String,
    pub erased_at: Option<String>,
    pub cases: Vec<String>,
    pub messages: i64,
}

/// What an erasure changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Erased {
    pub messages: usize,
    pub originals: usize,
    pub replies: usize,
    /// Replies not yet sent, which now never will be.
    pub unsent: usize,
    /// Agendas not yet sent that listed one of their cases, which now never will be.
    pub agendas: usize,
}

/// Whether a user may see a case (or a message of one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// Not restricted (or no case at all).
    Open,
    /// Restricted, and the user is named.
    Named,
    /// Restricted; the user broke the glass and may see it until then.
    BreakGlass { until: String },
    /// Restricted, and closed to the user.
    Restricted { case_ref: String },
    /// Another area's: as if it did not exist.
    OtherArea,
}

impl Access {
    pub fn allowed(&self) -> bool {
        !matches!(self, Access::Restricted { .. } | Access::OtherArea)
    }
}

pub use super::hidden::HiddenCases;


/// A restricted case and who may see it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Restriction {
    pub case_ref: String,
    pub restricted_by: String,
    pub restricted_at: String,
    pub users: Vec<String>,
}

/// A break-glass access, as the admins' dashboard lists it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct BreakGlassRow {
    pub id: i64,
    pub case_ref: String,
    pub user: String,
    pub reason: String,
    pub granted_at: String,
    pub expires_at: String,
}

/// Why a case could not be restricted as asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RestrictRefusal {
    NoCase,
    UnknownUser(String),
    NoUsers,
}

/// Every string in a stored inspection blanked (its shape and numbers kept): what was read from
/// an erased person's message.
fn blank_strings(v: &mut Value) {
    match v {
        Value::String(s) => s.clear(),
        Value::Array(a) => a.iter_mut().for_each(blank_strings),
        Value::Object(o) => o.values_mut().for_each(blank_strings),
        _ => {}
    }
}

/// Whether `text` holds a word (of three letters or more) of one of `names`, or one of `dobs`
/// in a usual spelling (pure).
fn quotes_identity(text: &str, names: &[&str], dobs: &[chrono::NaiveDate]) -> bool {
    let words = |s: &str| s.split(|c: char| !c.is_alphanumeric()).filter(|w| w.chars().count() >= 3).map(str::to_lowercase).collect::<HashSet<String>>();
    let said = words(text);
    if names.iter().any(|n| !words(n).is_disjoint(&said)) {
        return true;
    }
    let lower = text.to_lowercase();
    dobs.iter().any(|d| ["%Y-%m-%d", "%d/%m/%Y", "%-d/%-m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%-d %B %Y", "%-d %b %Y"].iter().any(|f| lower.contains(&d.format(f).to_string().to_lowercase())))
}

impl Store {
    async fn person_row(&self, person_ref: &str) -> Result<Option<(i64, PersonRow)>> {
        let r = sqlx::query("SELECT id, ref, name, dob, created_at, erased_at FROM people WHERE ref = $1").bind(person_ref).fetch_optional(&self.pool).await?;
        r.map(|r| {
            Ok((
                r.try_get("id")?,
                PersonRow { reference: r.try_get("ref")?, name: r.try_get("name")?, dob: r.try_get("dob")?, created_at: r.try_get("created_at")?, erased_at: r.try_get("erased_at")? },
            ))
        })
        .transpose()
    }

    /// The person of reference `person_ref`, for the admins' page: no name.
    pub async fn subject_summary(&self, person_ref: &str) -> Result<Option<SubjectSummary>> {
        let Some((id, p)) = self.person_row(person_ref).await? else { return Ok(None) };
        let cases: Vec<String> = sqlx::query_scalar("SELECT ref FROM cases WHERE person_id = $1 ORDER BY id").bind(id).fetch_all(&self.pool).await?;
        let messages: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE person_id = $1 OR case_id IN (SELECT id FROM cases WHERE person_id = $2)")
            .bind(id)
            .bind(id)
            .fetch_one(&self.pool)
            .await?;
        Ok(Some(SubjectSummary { reference: p.reference, erased_at: p.erased_at, cases, messages }))
    }

    /// Everything held about the person `person_ref`, or None if there is no such person.
    pub async fn subject_export(&self, person_ref: &str) -> Result<Option<SubjectExport>> {
        let Some((id, person)) = self.person_row(person_ref).await? else { return Ok(None) };
        let cases = sqlx::query("SELECT c.ref, c.status, c.meeting_date, c.opened_at, c.source, p.ref AS person_ref FROM cases c JOIN people p ON p.id = c.person_id WHERE c.person_id = $1 ORDER BY c.id")
            .bind(id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                Ok(CaseRow {
                    reference: r.try_get("ref")?,
                    status: r.try_get("status")?,
                    meeting_date: r.try_get("meeting_date")?,
                    opened_at: r.try_get("opened_at")?,
                    source: r.try_get("source")?,
                    person_ref: r.try_get("person_ref")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let referrals = sqlx::query(
            "SELECT r.referred_on, c.ref AS case_ref, r.source, m.ref AS message_ref FROM referrals r JOIN cases c ON c.id = r.case_id \
             LEFT JOIN messages m ON m.id = r.message_row WHERE r.person_id = $1 ORDER BY r.referred_on, r.id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| Ok(ReferralRow { referred_on: r.try_get("referred_on")?, case_ref: r.try_get("case_ref")?, source: r.try_get("source")?, message_ref: r.try_get("message_ref")? }))
        .collect::<Result<Vec<_>>>()?;

        let with_inspection = MESSAGE_SELECT.replacen("SELECT ", "SELECT m.inspection, ", 1);
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("{with_inspection} WHERE m.person_id = $1 OR m.case_id IN (SELECT id FROM cases WHERE person_id = $2) ORDER BY m.id")))
            .bind(id)
            .bind(id)
            .fetch_all(&self.pool)
            .await?;
        let mut messages = Vec::new();
        for r in &rows {
            let record = message_record(r)?;
            let inspection = serde_json::from_str(&r.try_get::<String, _>("inspection")?).unwrap_or(Value::Null);
            let decisions = self.decisions_of(record.row).await?;
            let attachments = sqlx::query("SELECT sha256, kind, name, size FROM attachments WHERE message_row = $1 ORDER BY id")
                .bind(record.row)
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|a| Ok(AttachmentRow { sha256: a.try_get("sha256")?, kind: a.try_get("kind")?, name: a.try_get("name")?, size: a.try_get("size")? }))
                .collect::<Result<Vec<_>>>()?;
            let raw = self.message_source(&record.reference).await?;
            let mut replies = Vec::new();
            for e in self.outbox_for(record.row).await? {
                let text = self.outbox_raw(e.id).await?;
                replies.push((e, text));
            }
            let corrections = self.corrections_of(record.row).await?;
            messages.push(SubjectMessage { record, inspection, decisions, attachments, raw, replies, corrections });
        }
        let mut audit = self.audit_search(&AuditFilter { reference: Some(person_ref.to_owned()), ..AuditFilter::default() }, i64::MAX).await?;
        audit.reverse();
        Ok(Some(SubjectExport { person, cases, referrals, messages, audit }))
    }

    /// Corrects the recorded name and date of birth of `person_ref` (the date as YYYY-MM-DD),
    /// audited by `audit` (its detail: which fields changed, never their values) in the same
    /// transaction. False when there is no such person, or they were erased.
    pub async fn rectify_subject(&self, person_ref: &str, name: Option<&crate::identity::PersonName>, dob: Option<chrono::NaiveDate>, audit: &Audit<'_>) -> Result<bool> {
        let mut tx = self.begin().await?;
        let found: Option<(i64, Option<String>)> = sqlx::query_as("SELECT id, erased_at FROM people WHERE ref = $1").bind(person_ref).fetch_optional(&mut *tx.tx).await?;
        let Some((id, None)) = found else { return Ok(false) };
        tx.set_person_identity(id, name, dob).await?;
        let changed: Vec<&str> = [name.map(|_| "name"), dob.map(|_| "date of birth")].into_iter().flatten().collect();
        let detail = format!("corrected: {}; {}", changed.join(", "), audit.detail.unwrap_or(""));
        tx.audit(&Audit { detail: Some(detail.trim_end_matches("; ")), ..*audit }).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Whether `reason` (to be kept in the audit log) quotes the name or date of birth recorded
    /// for `person_ref`, or the corrected `name` / `dob`: the log keeps references, never values.
    pub async fn reason_quotes_subject(&self, person_ref: &str, reason: &str, name: Option<&crate::identity::PersonName>, dob: Option<chrono::NaiveDate>) -> Result<bool> {
        let recorded = self.person_row(person_ref).await?.map(|(_, p)| p);
        let mut names: Vec<&str> = name.map(|n| n.as_written()).into_iter().collect();
        let mut dobs: Vec<chrono::NaiveDate> = dob.into_iter().collect();
        if let Some(p) = &recorded {
            names.push(&p.name);
            dobs.extend(p.dob.as_deref().and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()));
        }
        Ok(quotes_identity(reason, &names, &dobs))
    }

    /// Erases the person `person_ref` (see the module's doc), audited by `audit` with `reason`
    /// and the counts, in the same transaction. None when there is no such person.
    pub async fn erase_subject(&self, person_ref: &str, reason: &str, audit: &Audit<'_>) -> Result<Option<Erased>> {
        let mut tx = self.begin().await?;
        let Some(id): Option<i64> = sqlx::query_scalar("SELECT id FROM people WHERE ref = $1").bind(person_ref).fetch_optional(&mut *tx.tx).await? else { return Ok(None) };
        sqlx::query("UPDATE people SET name = '', name_key = '', dob = NULL, erased_at = $1 WHERE id = $2").bind(audit.at).bind(id).execute(&mut *tx.tx).await?;
        let rows: Vec<(i64, String)> = sqlx::query_as("SELECT id, inspection FROM messages WHERE person_id = $1 OR case_id IN (SELECT id FROM cases WHERE person_id = $2) ORDER BY id")
            .bind(id)
            .bind(id)
            .fetch_all(&mut *tx.tx)
            .await?;
        let mut erased = Erased { messages: rows.len(), originals: 0, replies: 0, unsent: 0, agendas: 0 };
        for (row, inspection) in rows {
            let mut inspection: Value = serde_json::from_str(&inspection).unwrap_or(Value::Null);
            blank_strings(&mut inspection);
            sqlx::query("UPDATE messages SET inspection = $1 WHERE id = $2").bind(inspection.to_string()).bind(row).execute(&mut *tx.tx).await?;
            sqlx::query("UPDATE attachments SET name = NULL WHERE message_row = $1").bind(row).execute(&mut *tx.tx).await?;
            sqlx::query("DELETE FROM review_victims WHERE message_row = $1").bind(row).execute(&mut *tx.tx).await?;
            sqlx::query("DELETE FROM message_search_keys WHERE message_row = $1").bind(row).execute(&mut *tx.tx).await?;
            // A coordinator's corrections are what was read, too (migration 22).
            sqlx::query("UPDATE corrections SET original = NULL, corrected = '', label = NULL WHERE message_row = $1").bind(row).execute(&mut *tx.tx).await?;
            let kept = sqlx::query("UPDATE message_sources SET raw = $1 WHERE message_row = $2")
                .bind(tx.data.seal(Place::MessageSource { message_row: row }, TOMBSTONE.as_bytes()))
                .bind(row)
                .execute(&mut *tx.tx)
                .await?;
            erased.originals += kept.rows_affected() as usize;
            let replies: Vec<(i64, String, String)> = sqlx::query_as("SELECT id, kind, status FROM outbox WHERE message_row = $1").bind(row).fetch_all(&mut *tx.tx).await?;
            for (outbox_id, kind, status) in replies {
                // A reply not sent yet is never sent: its text is gone.
                let unsent = status == "pending";
                sqlx::query(
                    "UPDATE outbox SET raw = $1, subject = '(erased)', status = CASE WHEN status = 'pending' THEN 'refused' ELSE status END, \
                     last_error = CASE WHEN status = 'pending' THEN 'erased before it was sent' ELSE last_error END WHERE id = $2",
                )
                .bind(tx.data.seal(Place::OutboxReply { message_row: row, kind: &kind }, TOMBSTONE.as_bytes()))
                .bind(outbox_id)
                .execute(&mut *tx.tx)
                .await?;
                erased.replies += 1;
                erased.unsent += usize::from(unsent);
            }
        }
        // An agenda waiting to go for the meeting of one of their cases lists them (those sent,
        // or being sent, are the officers' now).
        let agendas: Vec<(i64, String)> = sqlx::query_as(
            "SELECT DISTINCT o.id, o.reply_message_id FROM outbox o JOIN agenda_sends s ON s.outbox_id = o.id \
             JOIN cases c ON c.area = s.area AND c.meeting_date = s.meeting_date WHERE c.person_id = $1 AND o.status = 'pending' ORDER BY o.id",
        )
        .bind(id)
        .fetch_all(&mut *tx.tx)
        .await?;
        for (outbox_id, message_id) in agendas {
            sqlx::query("UPDATE outbox SET raw = $1, subject = '(erased)', status = 'refused', last_error = $2 WHERE id = $3 AND status = 'pending'")
                .bind(tx.data.seal(Place::OutboxAgenda { message_id: &message_id }, TOMBSTONE.as_bytes()))
                .bind(AGENDA_ERASED)
                .bind(outbox_id)
                .execute(&mut *tx.tx)
                .await?;
            erased.agendas += 1;
        }
        let detail = format!(
            "reason: {reason}; messages {}, originals {}, replies {} ({} unsent), agendas withdrawn {}",
            erased.messages, erased.originals, erased.replies, erased.unsent, erased.agendas
        );
        tx.audit(&Audit { object: Some(person_ref), detail: Some(&detail), ..*audit }).await?;
        tx.commit().await?;
        Ok(Some(erased))
    }
}

/// The export as one zip: `README.txt`, `manifest.json` (who, when, counts, files), `person.json`,
/// `cases.json`, `referrals.json`, per message `messages/REF/message.json` (the decision, what
/// was read, the attachments listed, the decisions, coordinators' corrections) with `original.eml` (as received) and
/// `reply-N-KIND.eml` (as sent), and `audit/changes.json` and `audit/views.json`.
pub fn archive(export: &SubjectExport, exported_at: &str, exported_by: &str) -> Result<Vec<u8>> {
    let mut zip = Archive { zip: zip::ZipWriter::new(std::io::Cursor::new(Vec::new())), files: Vec::new() };
    let counts = export.counts();
    let reference = &export.person.reference;
    zip.put("README.txt", readme(reference, exported_at, exported_by, &counts).as_bytes())?;
    zip.put("person.json", &pretty(&export.person)?)?;
    zip.put("cases.json", &pretty(&export.cases)?)?;
    zip.put("referrals.json", &pretty(&export.referrals)?)?;
    for m in &export.messages {
        let dir = format!("messages/{}", m.record.reference);
        let replies: Vec<Value> = m.replies.iter().enumerate().map(|(n, (e, _))| serde_json::json!({"file": format!("reply-{}-{}.eml", n + 1, e.kind.as_str()), "outbox": e})).collect();
        let about = serde_json::json!({
            "message": m.record.to_json(true),
            "read": m.inspection,
            "attachments": m.attachments,
            "decisions": m.decisions,
            "replies": replies,
            "corrections": m.corrections,
            "original": m.raw.as_ref().map(|_| "original.eml"),
        });
        zip.put(&format!("{dir}/message.json"), &pretty(&about)?)?;
        if let Some(raw) = &m.raw {
            zip.put(&format!("{dir}/original.eml"), raw)?;
        }
        for (n, (e, text)) in m.replies.iter().enumerate() {
            zip.put(&format!("{dir}/reply-{}-{}.eml", n + 1, e.kind.as_str()), text.as_bytes())?;
        }
    }
    let (changes, views): (Vec<&AuditEntry>, Vec<&AuditEntry>) = export.audit.iter().partition(|a| CHANGES.contains(&a.action.as_str()));
    zip.put("audit/changes.json", &pretty(&changes)?)?;
    zip.put("audit/views.json", &pretty(&views)?)?;
    let manifest = serde_json::json!({
        "person": reference,
        "exported_at": exported_at,
        "exported_by": exported_by,
        "erased_at": export.person.erased_at,
        "counts": counts,
        "files": zip.files,
    });
    zip.put("manifest.json", &pretty(&manifest)?)?;
    Ok(zip.zip.finish()?.into_inner())
}

/// The zip being written and the names of the files in it.
struct Archive {
    zip: zip::ZipWriter<std::io::Cursor<Vec<u8>>>,
    files: Vec<String>,
}

impl Archive {
    fn put(&mut self, name: &str, bytes: &[u8]) -> Result<()> {
        let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated).unix_permissions(0o600);
        self.zip.start_file(name, opts).with_context(|| format!("the archive's {name}"))?;
        self.zip.write_all(bytes)?;
        self.files.push(name.to_owned());
        Ok(())
    }
}

fn pretty<T: serde::Serialize + ?Sized>(v: &T) -> Result<Vec<u8>> {
    Ok(serde_json::to_vec_pretty(v)?)
}

fn readme(reference: &str, at: &str, by: &str, counts: &Counts) -> String {
    format!(
        "Subject access export for the person recorded as {reference}\r\n\
         Exported {at} by {by} from marac-intake.\r\n\r\n\
         SPECIAL-CATEGORY PERSONAL DATA (UK GDPR Art. 9). Keep this file encrypted and delete it\r\n\
         when the request is answered. Review it before disclosure: it can name third parties\r\n\
         (the perpetrator, children, the referrer) and may need redaction under DPA 2018 Sch. 2.\r\n\r\n\
         What it holds: {counts}.\r\n\r\n\
         manifest.json            who exported it, when, the counts and every file\r\n\
         person.json              the person as recorded (name, date of birth, reference)\r\n\
         cases.json               their cases; referrals.json their referrals\r\n\
         messages/REF/message.json  one referral email: the decision, what was read from it,\r\n\
                                  its attachments (listed; the files are inside original.eml),\r\n\
                                  the decisions recorded on it, the replies sent and\r\n\
                                  what coordinators corrected of what was read\r\n\
         messages/REF/original.eml  the email as received (open it in a mail program)\r\n\
         messages/REF/reply-N-KIND.eml  each reply or notice as sent\r\n\
         audit/changes.json       decisions, corrections, erasure and restriction, with who\r\n\
         audit/views.json         every view and download of their cases and messages, with who\r\n"
    )
}

impl Store {
    /// The case a case or message reference belongs to: (id, case reference).
    async fn case_of(&self, reference: &str) -> Result<Option<(i64, String)>> {
        let by_case: Option<(i64, String)> = sqlx::query_as("SELECT id, ref FROM cases WHERE ref = $1").bind(reference).fetch_optional(&self.pool).await?;
        if by_case.is_some() {
            return Ok(by_case);
        }
        Ok(sqlx::query_as("SELECT c.id, c.ref FROM messages m JOIN cases c ON c.id = m.case_id WHERE m.ref = $1").bind(reference).fetch_optional(&self.pool).await?)
    }

    /// The area of a case, message or person reference: (area, the candidate areas of a
    /// message whose area could not be told). None for a reference that is none of them.
    async fn area_of(&self, reference: &str) -> Result<Option<(String, Vec<String>)>> {
        for table in ["cases", "people"] {
            let area: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT area FROM {table} WHERE ref = $1"))).bind(reference).fetch_optional(&self.pool).await?;
            if let Some(a) = area {
                return Ok(Some((a, Vec::new())));
            }
        }
        let m: Option<(i64, String)> = sqlx::query_as("SELECT id, area FROM messages WHERE ref = $1").bind(reference).fetch_optional(&self.pool).await?;
        let Some((row, area)) = m else { return Ok(None) };
        let candidates = if area.is_empty() { self.candidates_of(row).await? } else { Vec::new() };
        Ok(Some((area, candidates)))
    }

    /// The areas a message whose area could not be told may be for (empty for any other).
    pub async fn candidates_of(&self, message_row: i64) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar("SELECT area FROM message_candidates WHERE message_row = $1 ORDER BY area").bind(message_row).fetch_all(&self.pool).await?)
    }

    /// Whether the case, message or person `reference` is of an area user `user_id` works in (a
    /// message whose area could not be told: of one it may be for). True for a reference that
    /// is none of them (the caller answers that it does not exist).
    pub async fn in_users_areas(&self, reference: &str, user_id: i64) -> Result<bool> {
        let (Some(mine), Some((area, candidates))) = (self.user_areas(user_id).await?, self.area_of(reference).await?) else { return Ok(true) };
        let sees = |a: &String| mine.contains(a);
        Ok(sees(&area) || (area.is_empty() && candidates.iter().any(sees)))
    }

    /// Whether user `user_id` may see the case, message or person `reference` at `now`: another
    /// area's is [`Access::OtherArea`] (the pages answer it as they answer a reference that does
    /// not exist).
    pub async fn access(&self, reference: &str, user_id: i64, now: &str) -> Result<Access> {
        if !self.in_users_areas(reference, user_id).await? {
            return Ok(Access::OtherArea);
        }
        let Some((case_id, case_ref)) = self.case_of(reference).await? else { return Ok(Access::Open) };
        let restricted: Option<i64> = sqlx::query_scalar("SELECT case_id FROM restricted_cases WHERE case_id = $1").bind(case_id).fetch_optional(&self.pool).await?;
        if restricted.is_none() {
            return Ok(Access::Open);
        }
        let named: Option<i64> = sqlx::query_scalar("SELECT user_id FROM restricted_case_users WHERE case_id = $1 AND user_id = $2").bind(case_id).bind(user_id).fetch_optional(&self.pool).await?;
        if named.is_some() {
            return Ok(Access::Named);
        }
        let until: Option<String> = sqlx::query_scalar("SELECT MAX(expires_at) FROM break_glass WHERE case_id = $1 AND user_id = $2 AND expires_at > $3")
            .bind(case_id)
            .bind(user_id)
            .bind(now)
            .fetch_one(&self.pool)
            .await?;
        Ok(match until {
            Some(until) => Access::BreakGlass { until },
            None => Access::Restricted { case_ref },
        })
    }

    /// The restricted cases user `user_id` may not see at `now`.
    pub async fn hidden_cases(&self, user_id: i64, now: &str) -> Result<HiddenCases> {
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT c.id, c.ref FROM restricted_cases r JOIN cases c ON c.id = r.case_id \
             WHERE NOT EXISTS (SELECT 1 FROM restricted_case_users u WHERE u.case_id = r.case_id AND u.user_id = $1) \
             AND NOT EXISTS (SELECT 1 FROM break_glass b WHERE b.case_id = r.case_id AND b.user_id = $2 AND b.expires_at > $3) ORDER BY c.id",
        )
        .bind(user_id)
        .bind(user_id)
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        let areas = self.user_areas(user_id).await?;
        Ok(HiddenCases::new(rows.iter().map(|r| r.0).collect(), rows.into_iter().map(|r| r.1).collect(), areas))
    }

    /// Every restricted case, with the users named.
    pub async fn restrictions(&self) -> Result<Vec<Restriction>> {
        let rows: Vec<(i64, String, String, String)> =
            sqlx::query_as("SELECT r.case_id, c.ref, r.restricted_by, r.restricted_at FROM restricted_cases r JOIN cases c ON c.id = r.case_id ORDER BY c.ref").fetch_all(&self.pool).await?;
        let mut out = Vec::new();
        for (case_id, case_ref, restricted_by, restricted_at) in rows {
            let users: Vec<String> = sqlx::query_scalar("SELECT u.name FROM restricted_case_users r JOIN users u ON u.id = r.user_id WHERE r.case_id = $1 ORDER BY u.name")
                .bind(case_id)
                .fetch_all(&self.pool)
                .await?;
            out.push(Restriction { case_ref, restricted_by, restricted_at, users });
        }
        Ok(out)
    }

    /// Restricts the case `case_ref` to the users named (replacing any earlier list), audited by
    /// `audit` (detail: the users named) in the same transaction.
    pub async fn restrict_case(&self, case_ref: &str, users: &[String], audit: &Audit<'_>) -> Result<Result<(), RestrictRefusal>> {
        if users.is_empty() {
            return Ok(Err(RestrictRefusal::NoUsers));
        }
        let mut tx = self.begin().await?;
        let Some(case_id): Option<i64> = sqlx::query_scalar("SELECT id FROM cases WHERE ref = $1").bind(case_ref).fetch_optional(&mut *tx.tx).await? else {
            return Ok(Err(RestrictRefusal::NoCase));
        };
        let mut ids = Vec::new();
        for name in users {
            match sqlx::query_scalar::<_, i64>("SELECT id FROM users WHERE name = $1").bind(name).fetch_optional(&mut *tx.tx).await? {
                Some(id) => ids.push(id),
                None => return Ok(Err(RestrictRefusal::UnknownUser(name.clone()))),
            }
        }
        sqlx::query("INSERT INTO restricted_cases (case_id, restricted_by, restricted_at) VALUES ($1, $2, $3) ON CONFLICT (case_id) DO NOTHING")
            .bind(case_id)
            .bind(audit.actor)
            .bind(audit.at)
            .execute(&mut *tx.tx)
            .await?;
        sqlx::query("DELETE FROM restricted_case_users WHERE case_id = $1").bind(case_id).execute(&mut *tx.tx).await?;
        for id in ids {
            sqlx::query("INSERT INTO restricted_case_users (case_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING").bind(case_id).bind(id).execute(&mut *tx.tx).await?;
        }
        let detail = format!("open to: {}", users.join(", "));
        tx.audit(&Audit { object: Some(case_ref), detail: Some(&detail), ..*audit }).await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// Lifts the restriction of `case_ref`, audited. False when it was not restricted.
    pub async fn unrestrict_case(&self, case_ref: &str, audit: &Audit<'_>) -> Result<bool> {
        let mut tx = self.begin().await?;
        let Some(case_id): Option<i64> = sqlx::query_scalar("SELECT r.case_id FROM restricted_cases r JOIN cases c ON c.id = r.case_id WHERE c.ref = $1").bind(case_ref).fetch_optional(&mut *tx.tx).await? else {
            return Ok(false);
        };
        sqlx::query("DELETE FROM restricted_case_users WHERE case_id = $1").bind(case_id).execute(&mut *tx.tx).await?;
        sqlx::query("DELETE FROM restricted_cases WHERE case_id = $1").bind(case_id).execute(&mut *tx.tx).await?;
        tx.audit(&Audit { object: Some(case_ref), ..*audit }).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Opens the restricted case of `reference` (a case or one of its messages) to user `user_id` until `until`, for `reason`,
    /// audited by `audit` (detail: the reason and the end) in the same transaction; the admins
    /// see it on their dashboard ([`Store::break_glass_unseen`]). False when there is no case.
    pub async fn break_glass(&self, reference: &str, user_id: i64, reason: &str, until: &str, audit: &Audit<'_>) -> Result<bool> {
        let Some((case_id, case_ref)) = self.case_of(reference).await? else { return Ok(false) };
        let case_ref = case_ref.as_str();
        let mut tx = self.begin().await?;
        sqlx::query("INSERT INTO break_glass (case_id, user_id, reason, granted_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(case_id)
            .bind(user_id)
            .bind(reason)
            .bind(audit.at)
            .bind(until)
            .execute(&mut *tx.tx)
            .await?;
        let detail = format!("reason: {reason}; until {until}");
        tx.audit(&Audit { object: Some(case_ref), detail: Some(&detail), ..*audit }).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Break-glass accesses no admin has marked seen yet, newest first.
    pub async fn break_glass_unseen(&self) -> Result<Vec<BreakGlassRow>> {
        let rows = sqlx::query(
            "SELECT b.id, c.ref AS case_ref, u.name AS user, b.reason, b.granted_at, b.expires_at FROM break_glass b \
             JOIN cases c ON c.id = b.case_id JOIN users u ON u.id = b.user_id WHERE b.seen_at IS NULL ORDER BY b.id DESC",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(BreakGlassRow {
                    id: r.try_get("id")?,
                    case_ref: r.try_get("case_ref")?,
                    user: r.try_get("user")?,
                    reason: r.try_get("reason")?,
                    granted_at: r.try_get("granted_at")?,
                    expires_at: r.try_get("expires_at")?,
                })
            })
            .collect()
    }

    /// An admin marks a break-glass access seen, audited. False when it was seen already.
    pub async fn break_glass_seen(&self, id: i64, audit: &Audit<'_>) -> Result<bool> {
        let mut tx = self.begin().await?;
        let case_ref: Option<String> = sqlx::query_scalar("SELECT c.ref FROM break_glass b JOIN cases c ON c.id = b.case_id WHERE b.id = $1 AND b.seen_at IS NULL")
            .bind(id)
            .fetch_optional(&mut *tx.tx)
            .await?;
        let Some(case_ref) = case_ref else { return Ok(false) };
        sqlx::query("UPDATE break_glass SET seen_by = $1, seen_at = $2 WHERE id = $3").bind(audit.actor).bind(audit.at).bind(id).execute(&mut *tx.tx).await?;
        let detail = format!("break-glass {id}");
        tx.audit(&Audit { object: Some(&case_ref), detail: Some(&detail), ..*audit }).await?;
        tx.commit().await?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_erased_inspection_keeps_its_shape_and_numbers_and_no_text() {
        let mut v = serde_json::json!({"referral": {"fields": {"victim.name": "Rebecca Hollins"}, "victim_dob": "1991-07-03", "children": [{"name": "A", "dob": null}]},
            "dash": {"answers": [{"question": 1, "answer": "yes", "comment": "he hit her"}]}});
        blank_strings(&mut v);
        assert_eq!(v, serde_json::json!({"referral": {"fields": {"victim.name": ""}, "victim_dob": "", "children": [{"name": "", "dob": null}]},
            "dash": {"answers": [{"question": 1, "answer": "", "comment": ""}]}}));
    }

    #[test]
    fn a_reason_quoting_a_name_or_a_date_of_birth_is_caught() {
        let dob = chrono::NaiveDate::from_ymd_opt(1991, 7, 3).unwrap();
        let names = ["Rebecca Hollins"];
        assert!(quotes_identity("spelt HOLLINS on the form", &names, &[dob]));
        assert!(quotes_identity("born 3 July 1991", &names, &[dob]));
        assert!(quotes_identity("was 03/07/1991", &names, &[dob]));
        assert!(quotes_identity("was 1991-07-03", &names, &[dob]));
        assert!(!quotes_identity("Referrer confirmed on the phone, ticket 4411", &names, &[dob]));
        assert!(!quotes_identity("typo in the surname", &["Al Bo"], &[]), "words of fewer than three letters are not matched");
    }

    #[test]
    fn hidden_cases_guard_is_empty_when_nothing_is_hidden() {
        assert_eq!(HiddenCases::none().sql_guard("m.case_id"), "");
        let h = HiddenCases::new(vec![3, 7], ["MARAC-1".to_owned()].into(), None);
        assert_eq!(h.sql_guard("m.case_id"), " AND (m.case_id IS NULL OR m.case_id NOT IN (3, 7))");
        assert!(h.hides(Some("MARAC-1")) && !h.hides(Some("MARAC-2")) && !h.hides(None));
    }
}
