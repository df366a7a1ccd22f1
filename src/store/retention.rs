//! Retention and disposal: what is past its period (`[retention]`), counted ([`Store::purge_plan`],
//! `marac-intake purge --dry-run`) or deleted ([`Store::purge`]: `purge`, and daily in `run`).
//!
//! Rules, in the order the purge applies them (one transaction; every period is counted in
//! whole days before `now`, which the caller passes in):
//! 1. **Sources of accepted messages**: the email as received, once its case was heard (or
//!    closed) and its meeting is older than `accepted_sources_days`. What was read from it stays
//!    with the case.
//! 2. **Outbox copies**: the text of a reply, notice or agenda in a final state (sent, failed, refused)
//!    older than `outbox_days`. The row stays (recipient, status, Message-ID), so a late bounce
//!    is still recognised.
//! 3. **Rejected, ignored and quarantined messages**: their personal content (the source, what
//!    was read from it, the attachments' names, the victim a review named, the link to a
//!    person), once processed and last decided before `rejected_days` / `ignored_days` /
//!    `quarantined_days`. The row stays as a tombstone (`purged_at`) with its reference, hashes
//!    and outcome, so the same email arriving again is known and never answered twice.
//! 4. **Closed cases**: a case closed by a coordinator whose referrals and messages are all
//!    older than `closed_cases_days` (at least the repeat window): the case, its referrals, its
//!    messages' content; then **people** left with no case.
//! 5. **Sign-in records**: sign-in attempts, ended sessions and abandoned enrolments older than
//!    `sign_in_days`.
//! 6. **The audit log**: the oldest records, up to the last one before `audit_days`, after the
//!    chain up to there is verified and its hash recorded as the new anchor (a broken chain is
//!    kept whole: it is evidence).
//!
//! Never touched: a message in review, anything of a case still pending, a case not closed.
//! The purge runs with `secure_delete` on, so deleted content is overwritten in the file; when
//! personal content went it then VACUUMs (stale copies of rows survive in pages' free space
//! otherwise) and checkpoints the write-ahead log. It is audited by one record of counts per
//! kind.

use super::audit::{self, Break};
use super::audit::Audit;
use super::Store;
use crate::config::RetentionConfig;
use super::error::{Context, Result};
use crate::decide::Outcome;
use chrono::{DateTime, Utc};
use super::DbConnection;
use std::collections::HashSet;

/// What the purge disposes of, in its order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    AcceptedSources,
    OutboxCopies,
    RejectedMessages,
    IgnoredMessages,
    QuarantinedMessages,
    ClosedCases,
    People,
    LoginAttempts,
    Sessions,
    AuditRecords,
}

impl Kind {
    pub const ALL: [Kind; 10] = [
        Kind::AcceptedSources,
        Kind::OutboxCopies,
        Kind::RejectedMessages,
        Kind::IgnoredMessages,
        Kind::QuarantinedMessages,
        Kind::ClosedCases,
        Kind::People,
        Kind::LoginAttempts,
        Kind::Sessions,
        Kind::AuditRecords,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::AcceptedSources => "accepted_sources",
            Kind::OutboxCopies => "outbox_copies",
            Kind::RejectedMessages => "rejected_messages",
            Kind::IgnoredMessages => "ignored_messages",
            Kind::QuarantinedMessages => "quarantined_messages",
            Kind::ClosedCases => "closed_cases",
            Kind::People => "people",
            Kind::LoginAttempts => "login_attempts",
            Kind::Sessions => "sessions",
            Kind::AuditRecords => "audit_records",
        }
    }
}

/// How many of each kind: what a dry run would purge, or what a purge did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts(pub Vec<(Kind, u64)>);

impl Counts {
    pub fn get(&self, kind: Kind) -> u64 {
        self.0.iter().find(|(k, _)| *k == kind).map_or(0, |(_, n)| *n)
    }

    pub fn total(&self) -> u64 {
        self.0.iter().map(|(_, n)| n).sum()
    }

    /// `kind=n` for every kind, space-separated: the audit record's detail (counts only).
    pub fn detail(&self) -> String {
        self.0.iter().map(|(k, n)| format!("{}={n}", k.as_str())).collect::<Vec<_>>().join(" ")
    }
}

/// What a purge did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purged {
    pub counts: Counts,
    /// The audit log was kept whole because its chain is broken here.
    pub audit_kept: Option<Break>,
}

/// The rows past their period, chosen before anything is changed (so a dry run and the purge
/// that follows count the same rows).
#[derive(Debug, Default)]
struct Plan {
    sources: Vec<i64>,
    outbox: Vec<i64>,
    rejected: Vec<i64>,
    ignored: Vec<i64>,
    quarantined: Vec<i64>,
    cases: Vec<i64>,
    people: Vec<i64>,
    login_attempts: u64,
    sessions: u64,
    /// The last audit record to delete, and how many.
    audit: Option<(i64, u64)>,
}

impl Plan {
    fn counts(&self) -> Counts {
        let n = |v: &Vec<i64>| v.len() as u64;
        Counts(vec![
            (Kind::AcceptedSources, n(&self.sources)),
            (Kind::OutboxCopies, n(&self.outbox)),
            (Kind::RejectedMessages, n(&self.rejected)),
            (Kind::IgnoredMessages, n(&self.ignored)),
            (Kind::QuarantinedMessages, n(&self.quarantined)),
            (Kind::ClosedCases, n(&self.cases)),
            (Kind::People, n(&self.people)),
            (Kind::LoginAttempts, self.login_attempts),
            (Kind::Sessions, self.sessions),
            (Kind::AuditRecords, self.audit.map_or(0, |(_, n)| n)),
        ])
    }
}

/// The first day kept: anything dated before it is past `days`.
fn cutoff(now: DateTime<Utc>, days: u32) -> String {
    (now - chrono::Duration::days(i64::from(days))).format("%Y-%m-%d").to_string()
}

/// A message is open while it waits in review or belongs to a case still pending.
const NOT_OPEN: &str = "m.outcome <> 'review' AND NOT EXISTS (SELECT 1 FROM cases oc WHERE oc.id = m.case_id AND oc.status = 'pending')";

async fn ids(conn: &mut DbConnection, sql: &str, binds: &[&str]) -> Result<Vec<i64>> {
    let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()));
    for b in binds {
        q = q.bind(*b);
    }
    Ok(q.fetch_all(&mut *conn).await?)
}

async fn plan(conn: &mut DbConnection, r: &RetentionConfig, now: DateTime<Utc>) -> Result<Plan> {
    let mut p = Plan::default();
    let c = cutoff(now, r.accepted_sources_days);
    p.sources = ids(
        conn,
        "SELECT s.message_row FROM message_sources s JOIN messages m ON m.id = s.message_row JOIN cases c ON c.id = m.case_id \
         WHERE m.outcome = 'accepted' AND c.status IN ('heard', 'closed') AND c.meeting_date < $1 ORDER BY s.message_row",
        &[&c],
    )
    .await?;
    let c = cutoff(now, r.outbox_days);
    p.outbox = ids(
        conn,
        &format!(
            "SELECT o.id FROM outbox o JOIN messages m ON m.id = o.message_row \
             WHERE o.status IN ('sent', 'failed', 'refused') AND o.raw <> '' AND o.created_at < $1 AND {NOT_OPEN} ORDER BY o.id"
        ),
        &[&c],
    )
    .await?;
    // Agendas to the agencies' officers belong to no message: by the same period.
    p.outbox.extend(ids(conn, "SELECT o.id FROM outbox o WHERE o.message_row IS NULL AND o.status IN ('sent', 'failed', 'refused') AND o.raw <> '' AND o.created_at < $1 ORDER BY o.id", &[&c]).await?);
    for (outcome, days) in [(Outcome::Rejected, r.rejected_days), (Outcome::Ignored, r.ignored_days), (Outcome::Quarantined, r.quarantined_days)] {
        let c = cutoff(now, days);
        let rows = ids(
            conn,
            &format!(
                "SELECT m.id FROM messages m WHERE m.outcome = $1 AND m.purged_at IS NULL AND m.processed_at < $2 \
                 AND NOT EXISTS (SELECT 1 FROM decisions d WHERE d.message_row = m.id AND d.decided_at >= $3) AND {NOT_OPEN} ORDER BY m.id"
            ),
            &[outcome.as_str(), &c, &c],
        )
        .await?;
        match outcome {
            Outcome::Rejected => p.rejected = rows,
            Outcome::Ignored => p.ignored = rows,
            _ => p.quarantined = rows,
        }
    }
    let c = cutoff(now, r.closed_cases_days);
    p.cases = ids(
        conn,
        "SELECT c.id FROM cases c WHERE c.status = 'closed' AND c.opened_at < $1 \
         AND NOT EXISTS (SELECT 1 FROM referrals r WHERE r.case_id = c.id AND r.referred_on >= $2) \
         AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.case_id = c.id AND (m.outcome = 'review' OR m.processed_at >= $3)) ORDER BY c.id",
        &[&c, &c, &c],
    )
    .await?;
    // People whose every case goes.
    let going: HashSet<i64> = p.cases.iter().copied().collect();
    let mut seen = HashSet::new();
    for case in &p.cases {
        let person: i64 = sqlx::query_scalar("SELECT person_id FROM cases WHERE id = $1").bind(case).fetch_one(&mut *conn).await?;
        if !seen.insert(person) {
            continue;
        }
        let theirs: Vec<i64> = sqlx::query_scalar("SELECT id FROM cases WHERE person_id = $1").bind(person).fetch_all(&mut *conn).await?;
        if theirs.iter().all(|c| going.contains(c)) {
            p.people.push(person);
        }
    }
    let c = cutoff(now, r.sign_in_days);
    p.login_attempts = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM login_attempts WHERE at < $1").bind(&c).fetch_one(&mut *conn).await? as u64;
    p.sessions = sqlx::query_scalar::<_, i64>("SELECT (SELECT COUNT(*) FROM sessions WHERE last_seen_at < $1) + (SELECT COUNT(*) FROM totp_enrolments WHERE created_at < $2)")
        .bind(&c)
        .bind(&c)
        .fetch_one(&mut *conn)
        .await? as u64;
    // The audit log goes from its oldest record, up to the last one before the first record
    // that is still within its period: the chain keeps one unbroken run.
    let c = cutoff(now, r.audit_days);
    let through: Option<i64> = sqlx::query_scalar(
        "SELECT MAX(id) FROM audit_log WHERE id < COALESCE((SELECT MIN(id) FROM audit_log WHERE at >= $1), (SELECT MAX(id) FROM audit_log) + 1)",
    )
    .bind(&c)
    .fetch_one(&mut *conn)
    .await?;
    if let Some(through) = through {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE id <= $1").bind(through).fetch_one(&mut *conn).await?;
        p.audit = Some((through, n as u64));
    }
    Ok(p)
}

/// Removes a message's personal content; the row stays as a tombstone.
async fn purge_message(conn: &mut DbConnection, row: i64, now: &str) -> Result<()> {
    for sql in ["DELETE FROM message_sources WHERE message_row = $1", "DELETE FROM review_victims WHERE message_row = $1", "DELETE FROM corrections WHERE message_row = $1", "DELETE FROM message_search_keys WHERE message_row = $1", "UPDATE attachments SET name = NULL WHERE message_row = $1"] {
        sqlx::query(sql).bind(row).execute(&mut *conn).await?;
    }
    sqlx::query("UPDATE messages SET inspection = '{}', person_id = NULL, match_reason = NULL, purged_at = $1 WHERE id = $2").bind(now).bind(row).execute(&mut *conn).await?;
    Ok(())
}

impl Store {
    /// What a purge at `now` would dispose of, per kind, changing nothing (`purge --dry-run`).
    pub async fn purge_plan(&self, r: &RetentionConfig, now: DateTime<Utc>) -> Result<Counts> {
        let mut tx = self.pool.begin().await?;
        let p = plan(&mut tx, r, now).await?;
        tx.commit().await?;
        Ok(p.counts())
    }

    /// Disposes of everything past its period at `now` (see the module's rules), in one
    /// transaction audited by `actor` with the counts. Returns the counts.
    pub async fn purge(&self, r: &RetentionConfig, now: DateTime<Utc>, actor: &str) -> Result<Purged> {
        let stamp = crate::clock::stamp(now);
        let mut tx = self.begin().await?;
        let backend = tx.backend;
        let conn: &mut DbConnection = &mut tx.tx;
        // Deleted content is overwritten with zeros, not left in free pages (SQLite; PostgreSQL's
        // VACUUM below frees the space of the rows it removed).
        if backend == super::Backend::Sqlite {
            sqlx::query("PRAGMA secure_delete = ON").execute(&mut *conn).await.context("turning secure_delete on")?;
        }
        let mut p = plan(conn, r, now).await?;
        for row in &p.sources {
            sqlx::query("DELETE FROM message_sources WHERE message_row = $1").bind(row).execute(&mut *conn).await?;
        }
        for id in &p.outbox {
            sqlx::query("UPDATE outbox SET raw = '', subject = '' WHERE id = $1").bind(id).execute(&mut *conn).await?;
        }
        for row in p.rejected.iter().chain(&p.ignored).chain(&p.quarantined) {
            purge_message(conn, *row, &stamp).await?;
        }
        for case in &p.cases {
            let rows: Vec<i64> = sqlx::query_scalar("SELECT id FROM messages WHERE case_id = $1").bind(case).fetch_all(&mut *conn).await?;
            for row in rows {
                purge_message(conn, row, &stamp).await?;
            }
            sqlx::query("UPDATE messages SET case_id = NULL WHERE case_id = $1").bind(case).execute(&mut *conn).await?;
            sqlx::query("DELETE FROM referrals WHERE case_id = $1").bind(case).execute(&mut *conn).await?;
            sqlx::query("DELETE FROM cases WHERE id = $1").bind(case).execute(&mut *conn).await?;
        }
        for person in &p.people {
            sqlx::query("UPDATE messages SET person_id = NULL, match_reason = NULL WHERE person_id = $1").bind(person).execute(&mut *conn).await?;
            sqlx::query("DELETE FROM people WHERE id = $1").bind(person).execute(&mut *conn).await?;
        }
        let c = cutoff(now, r.sign_in_days);
        for sql in ["DELETE FROM login_attempts WHERE at < $1", "DELETE FROM sessions WHERE last_seen_at < $1", "DELETE FROM totp_enrolments WHERE created_at < $1"] {
            sqlx::query(sql).bind(&c).execute(&mut *conn).await?;
        }
        let mut audit_kept = None;
        if let Some((through, _)) = p.audit {
            let walk = audit::walk(conn, Some(through)).await?;
            match (walk.broken, walk.hash_at_mark) {
                (None, Some(hash)) => {
                    audit::anchor_purge(conn, through, &hash, &stamp).await?;
                    // The one deletion of audit records; the database's trigger refuses any
                    // record above the anchor just recorded.
                    sqlx::query("DELETE FROM audit_log WHERE id <= $1").bind(through).execute(&mut *conn).await?;
                }
                (broken, _) => {
                    tracing::error!(row = broken.as_ref().map(|b| b.row), "The audit log's chain is broken; its records are kept whole. Run `marac-intake audit verify`.");
                    audit_kept = broken.or(Some(Break { row: through, reason: audit::BreakReason::Gap }));
                    p.audit = None;
                }
            }
        }
        let counts = p.counts();
        tx.audit(&Audit { at: &stamp, actor, action: "retention.purge", object: None, client: None, detail: Some(&counts.detail()) }).await?;
        tx.commit().await?;
        // secure_delete zeroes what the purge deleted, but not the stale copies SQLite left in
        // pages' free space when it moved rows around as they were written (tests/it/retention.rs
        // found one): VACUUM rewrites the file from the live rows alone. Then the write-ahead
        // log, which still holds the old pages, is copied back and emptied. Only when personal
        // content went; a busy database leaves it to the next purge.
        let content = [Kind::AcceptedSources, Kind::OutboxCopies, Kind::RejectedMessages, Kind::IgnoredMessages, Kind::QuarantinedMessages, Kind::ClosedCases, Kind::People];
        if content.iter().any(|k| counts.get(*k) > 0) {
            if let Err(e) = sqlx::query("VACUUM").execute(&self.pool).await {
                tracing::warn!(error = %e, "The database could not be vacuumed after the purge; the next purge tries again.");
            }
        }
        if self.backend == super::Backend::Sqlite {
            if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&self.pool).await {
                tracing::warn!(error = %e, "The write-ahead log could not be checkpointed after the purge.");
            }
        }
        Ok(Purged { counts, audit_kept })
    }
}
