//! Agendas sent to the agencies' designated officers (`agenda_sends`, migration 24): queued in
//! the outbox as kind `agenda` (a row of no message), each with who it went to for which
//! meeting, who asked for it and when, in one transaction with its audit record.

use super::error::{Result, StoreError};
use super::hidden::HiddenCases;
use super::{Store, stamp};
use crate::config::Officer;
use crate::crypto::Place;
use crate::mime::normalise_message_id;
use crate::reply::{OutboxKind, Reply};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::Row;
use std::collections::HashSet;

/// Who had (or has queued) an agenda of an area's meeting: `$1` the area, `$2` the meeting.
const HAD_AGENDA: &str = "SELECT DISTINCT lower(recipient) FROM agenda_sends WHERE area = $1 AND meeting_date = $2";

/// Who asks for an agenda that goes by itself.
pub const BY_SCHEDULE: &str = "schedule";

/// One agenda sent to one officer, with its delivery as the outbox has it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AgendaSend {
    pub outbox_id: i64,
    pub area: String,
    pub meeting_date: String,
    pub agency: String,
    pub recipient: String,
    /// The cases it listed.
    pub cases: i64,
    /// `schedule`, or the coordinator's user name.
    pub requested_by: String,
    pub requested_at: String,
    /// The outbox's: pending, sending, sent, failed, refused.
    pub status: String,
    pub attempts: i64,
    pub sent_at: Option<String>,
    pub last_error: Option<String>,
    pub bounced_at: Option<String>,
}

/// What [`Store::queue_agenda`] is asked to send.
pub struct AgendaRequest<'a> {
    pub area: &'a str,
    pub meeting: NaiveDate,
    /// The officers to send it to.
    pub officers: &'a [Officer],
    /// The cases it lists.
    pub cases: usize,
    /// `true`: only to the officers who have had no agenda of this meeting yet (the schedule's
    /// send); `false`: to each of them, again if they had it (a coordinator's).
    pub only_new: bool,
    /// [`BY_SCHEDULE`] or the coordinator's user name.
    pub requested_by: &'a str,
    /// The client address of a coordinator's request (for the audit record).
    pub client: Option<&'a str>,
}

impl Store {
    /// Every restricted case hidden, in `area` only: what an agenda leaving the building lists
    /// (a restricted case is shared by hand, by those who may see it).
    pub async fn hidden_for_agencies(&self, area: &str) -> Result<HiddenCases> {
        let rows: Vec<(i64, String)> = sqlx::query_as("SELECT c.id, c.ref FROM restricted_cases r JOIN cases c ON c.id = r.case_id ORDER BY c.id").fetch_all(&self.pool).await?;
        let refs: HashSet<String> = rows.iter().map(|(_, r)| r.clone()).collect();
        Ok(HiddenCases::new(rows.into_iter().map(|(id, _)| id).collect(), refs, Some(vec![area.to_owned()])))
    }

    /// How many of `area`'s cases listed for `meeting` are restricted (left out of the agenda
    /// sent to the agencies).
    pub async fn restricted_on_agenda(&self, area: &str, meeting: NaiveDate) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM restricted_cases r JOIN cases c ON c.id = r.case_id WHERE c.area = $1 AND c.meeting_date = $2 AND c.status <> 'closed'",
        )
        .bind(area)
        .bind(meeting.to_string())
        .fetch_one(&self.pool)
        .await?)
    }

    /// Queues the agenda of `request.meeting` to each officer, in one write transaction: an
    /// outbox row of kind `agenda` (composed by `compose` with the send's number among the
    /// meeting's sends, which makes its Message-ID unique), its `agenda_sends` row, and one audit
    /// record `agenda.send` (the meeting, how many officers, who asked; no names). Returns the
    /// officers it was queued for (none when each had it already, with `only_new`: then nothing
    /// is written).
    pub async fn queue_agenda(&self, request: &AgendaRequest<'_>, now: DateTime<Utc>, compose: impl Fn(&Officer, i64) -> std::result::Result<Reply, String>) -> Result<Vec<Officer>> {
        let at = stamp(now);
        let meeting = request.meeting.to_string();
        let mut tx = self.begin().await?;
        let had: Vec<String> = sqlx::query_scalar(HAD_AGENDA)
            .bind(request.area)
            .bind(&meeting)
            .fetch_all(&mut *tx.tx)
            .await?;
        let mut sequence: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM agenda_sends WHERE area = $1 AND meeting_date = $2").bind(request.area).bind(&meeting).fetch_one(&mut *tx.tx).await?;
        let mut queued = Vec::new();
        for officer in request.officers {
            if request.only_new && had.contains(&officer.address.to_ascii_lowercase()) {
                continue;
            }
            sequence += 1;
            let reply = compose(officer, sequence).map_err(|e| StoreError::data(format!("the agenda of {meeting} could not be composed: {e}")))?;
            if reply.kind != OutboxKind::Agenda || !reply.to.eq_ignore_ascii_case(&officer.address) {
                return Err(StoreError::data("an agenda composed for someone other than its officer"));
            }
            let message_id = normalise_message_id(&reply.message_id).ok_or_else(|| StoreError::data("an agenda without a Message-ID"))?;
            let outbox_id: i64 = sqlx::query_scalar(
                "INSERT INTO outbox (message_row, kind, recipient, subject, raw, status, attempts, created_at, reply_message_id) \
                 VALUES (NULL, $1, $2, $3, $4, 'pending', 0, $5, $6) RETURNING id",
            )
            .bind(OutboxKind::Agenda.as_str())
            .bind(&reply.to)
            .bind(&reply.subject)
            .bind(tx.data.seal(Place::OutboxAgenda { message_id: &message_id }, reply.raw.as_bytes()))
            .bind(&at)
            .bind(&message_id)
            .fetch_one(&mut *tx.tx)
            .await?;
            sqlx::query(
                "INSERT INTO agenda_sends (area, meeting_date, agency, recipient, cases, outbox_id, requested_by, requested_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(request.area)
            .bind(&meeting)
            .bind(&officer.agency)
            .bind(&officer.address)
            .bind(request.cases as i64)
            .bind(outbox_id)
            .bind(request.requested_by)
            .bind(&at)
            .execute(&mut *tx.tx)
            .await?;
            queued.push(officer.clone());
        }
        if queued.is_empty() {
            return Ok(queued);
        }
        let object = format!("{meeting} {}", request.area);
        let how = if request.requested_by == BY_SCHEDULE { "by the schedule" } else { "by hand" };
        let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
        let detail = format!("{}, {}, {how}", plural(queued.len(), "officer"), plural(request.cases, "case"));
        tx.audit(&super::accounts::Audit { at: &at, actor: request.requested_by, action: AGENDA_SEND, object: Some(&object), client: request.client, detail: Some(&detail) }).await?;
        tx.commit().await?;
        Ok(queued)
    }

    /// Who had (or has queued) an agenda of `area`'s meeting on `meeting`: their addresses in
    /// lower case.
    pub async fn agenda_had(&self, area: &str, meeting: NaiveDate) -> Result<HashSet<String>> {
        let had: Vec<String> = sqlx::query_scalar(HAD_AGENDA)
            .bind(area)
            .bind(meeting.to_string())
            .fetch_all(&self.pool)
            .await?;
        Ok(had.into_iter().collect())
    }

    /// The agendas sent for `area`'s meeting on `meeting`, oldest first, with their delivery.
    pub async fn agenda_sends(&self, area: &str, meeting: NaiveDate) -> Result<Vec<AgendaSend>> {
        let rows = sqlx::query(
            "SELECT a.outbox_id, a.area, a.meeting_date, a.agency, a.recipient, a.cases, a.requested_by, a.requested_at, \
             o.status, o.attempts, o.sent_at, o.last_error, o.bounced_at \
             FROM agenda_sends a JOIN outbox o ON o.id = a.outbox_id WHERE a.area = $1 AND a.meeting_date = $2 ORDER BY a.id",
        )
        .bind(area)
        .bind(meeting.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AgendaSend {
                    outbox_id: r.try_get("outbox_id")?,
                    area: r.try_get("area")?,
                    meeting_date: r.try_get("meeting_date")?,
                    agency: r.try_get("agency")?,
                    recipient: r.try_get("recipient")?,
                    cases: r.try_get("cases")?,
                    requested_by: r.try_get("requested_by")?,
                    requested_at: r.try_get("requested_at")?,
                    status: r.try_get("status")?,
                    attempts: r.try_get("attempts")?,
                    sent_at: r.try_get("sent_at")?,
                    last_error: r.try_get("last_error")?,
                    bounced_at: r.try_get("bounced_at")?,
                })
            })
            .collect()
    }
}

/// The audit action of an agenda queued for the agencies' officers.
pub const AGENDA_SEND: &str = "agenda.send";
