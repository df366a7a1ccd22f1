//! A coordinator's corrections of what was read (migration 22), kept beside the reading: the
//! stored inspection is never changed, each correction is a row with what was read and what the
//! coordinator read instead. A message decided again on its corrected reading goes through
//! [`Tx::look_up_again`] (triage's look-up, with the message itself left out of its own history)
//! and [`Tx::record_redecision`] (the person and the case placed by [`Tx::place`], the message's
//! decision, criteria and signals replaced, a decision row by the coordinator), in the
//! coordinator's transaction with the reply and the audit record.

use super::error::Result;
use super::{message_record, CaseWrite, DecisionColumns, Found, MessageRecord, StoreError, Store, Tx, Victim, MESSAGE_SELECT};
use crate::config::Criterion;
use crate::decide::{Outcome, ReplyKind};
use crate::mime::Refers;
use chrono::NaiveDate;
use sqlx::Row;

/// One correction as the case page shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CorrectionRow {
    pub id: i64,
    /// `dash.N` or a referral field's key (`crate::correct::Target::key`).
    pub target: String,
    /// What the reader found, as text (None: nothing was read).
    pub original: Option<String>,
    pub corrected: String,
    /// How the form printed the field's label, when the coordinator gave it.
    pub label: Option<String>,
    pub corrected_by: String,
    pub corrected_at: String,
}

/// A correction to keep.
#[derive(Debug, Clone, Copy)]
pub struct NewCorrection<'a> {
    pub message_row: i64,
    pub target: &'a str,
    pub original: Option<&'a str>,
    pub corrected: &'a str,
    pub label: Option<&'a str>,
    pub by: &'a str,
    pub at: &'a str,
}

const SELECT: &str = "SELECT id, target, original, corrected, label, corrected_by, corrected_at FROM corrections WHERE message_row = $1 ORDER BY id";

fn correction(r: &super::DbRow) -> Result<CorrectionRow> {
    Ok(CorrectionRow {
        id: r.try_get("id")?,
        target: r.try_get("target")?,
        original: r.try_get("original")?,
        corrected: r.try_get("corrected")?,
        label: r.try_get("label")?,
        corrected_by: r.try_get("corrected_by")?,
        corrected_at: r.try_get("corrected_at")?,
    })
}

/// A message's new decision on its corrected reading, as [`Tx::record_redecision`] writes it.
pub struct Redecision<'a> {
    pub area: &'a str,
    pub outcome: Outcome,
    pub criteria: &'a [Criterion],
    /// The reasons stored with it (the decision's, then the coordinators' notes).
    pub reasons: &'a [String],
    pub dash: Option<(u8, u8, u8)>,
    pub reply_kind: ReplyKind,
    pub reply_to: &'a [String],
    pub case: CaseWrite,
    /// The corrected reading as JSON (an `inspect::Inspection`): the queue's risk signals.
    pub inspection_json: &'a str,
    /// The victim as corrected: kept for a later referral's look-up while it waits in review.
    pub victim: &'a Victim,
    /// The referral's date (the day it arrived) and when a new case opens.
    pub referred_on: NaiveDate,
    pub by: &'a str,
    pub now: &'a str,
}

/// What [`Tx::record_redecision`] placed.
#[derive(Debug, Clone, Default)]
pub struct Redecided {
    pub case_ref: Option<String>,
    pub person_ref: Option<String>,
    pub case_is_new: bool,
}

impl Store {
    /// The message `reference` (any outcome), as its case page shows it.
    pub async fn message_to_correct(&self, reference: &str) -> Result<Option<MessageRecord>> {
        let r = sqlx::query(sqlx::AssertSqlSafe(format!("{MESSAGE_SELECT} WHERE m.ref = $1"))).bind(reference).fetch_optional(self.pool()).await?;
        r.as_ref().map(message_record).transpose()
    }

    /// The corrections of a message, oldest first.
    pub async fn corrections_of(&self, message_row: i64) -> Result<Vec<CorrectionRow>> {
        sqlx::query(SELECT).bind(message_row).fetch_all(self.pool()).await?.iter().map(correction).collect()
    }
}

impl Tx {
    /// The message `reference` (any outcome), read inside the correcting transaction.
    pub async fn message_to_correct(&mut self, reference: &str) -> Result<Option<MessageRecord>> {
        let r = sqlx::query(sqlx::AssertSqlSafe(format!("{MESSAGE_SELECT} WHERE m.ref = $1"))).bind(reference).fetch_optional(&mut *self.tx).await?;
        r.as_ref().map(message_record).transpose()
    }

    /// The corrections of a message, oldest first (the order they are applied in).
    pub async fn corrections_for_update(&mut self, message_row: i64) -> Result<Vec<CorrectionRow>> {
        sqlx::query(SELECT).bind(message_row).fetch_all(&mut *self.tx).await?.iter().map(correction).collect()
    }

    pub async fn add_correction(&mut self, c: &NewCorrection<'_>) -> Result<()> {
        sqlx::query("INSERT INTO corrections (message_row, target, original, corrected, label, corrected_by, corrected_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(c.message_row)
            .bind(c.target)
            .bind(c.original)
            .bind(c.corrected)
            .bind(c.label)
            .bind(c.by)
            .bind(c.at)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// Triage's look-up for the message at `row` decided again: by its victim, its attachments
    /// and the messages it refers to, but not by its own Message-ID or content (it is in the
    /// history already), and an earlier referral of the victim waiting in review is another
    /// message than this one.
    pub async fn look_up_again(&mut self, row: i64, refers: &Refers, attachment_hashes: &[String], victim: &Victim, area: &str, arrived: NaiveDate) -> Result<Found> {
        let mut found = self.look_up(None, refers, "", attachment_hashes, victim, area, arrived).await?;
        if !found.history.earlier_review {
            return Ok(found);
        }
        let (Some(name), Some(dob)) = (&victim.name, victim.dob) else { return Ok(found) };
        let rows = sqlx::query(
            "SELECT v.name FROM review_victims v JOIN messages m ON m.id = v.message_row \
             WHERE v.dob = $1 AND m.outcome = $2 AND m.area = $3 AND v.message_row <> $4 ORDER BY v.message_row DESC LIMIT 50",
        )
        .bind(crate::identity::candidates_key(dob))
        .bind(Outcome::Review.as_str())
        .bind(area)
        .bind(row)
        .fetch_all(&mut *self.tx)
        .await?;
        let mut earlier = super::any_same_person(&rows, name, dob)?;
        if !earlier && found.person.is_none() {
            let rows = sqlx::query("SELECT name FROM people WHERE dob IS NULL AND area = $1 ORDER BY id DESC LIMIT 200").bind(area).fetch_all(&mut *self.tx).await?;
            earlier = super::any_same_person(&rows, name, dob)?;
        }
        found.history.earlier_review = earlier;
        Ok(found)
    }

    /// The victim record of the message `record` when it was made from that message alone (no
    /// other message, case or referral, imported ones included, is that person's) and is not
    /// erased: a correction of the victim's name or date of birth is then the record's too. None
    /// otherwise: a record other referrals also name keeps what it has (an admin corrects it on
    /// its Subjects page).
    pub async fn record_made_from(&mut self, record: &MessageRecord) -> Result<Option<i64>> {
        let Some(person) = record.victim_ref.as_deref() else { return Ok(None) };
        let found: Option<(i64, Option<String>, i64, i64, i64)> = sqlx::query_as(
            "SELECT p.id, p.erased_at, \
             (SELECT COUNT(*) FROM messages m WHERE m.person_id = p.id OR m.case_id IN (SELECT c.id FROM cases c WHERE c.person_id = p.id)) AS messages, \
             (SELECT COUNT(*) FROM cases c WHERE c.person_id = p.id) AS cases, \
             (SELECT COUNT(*) FROM referrals r WHERE r.person_id = p.id AND (r.message_row IS NULL OR r.message_row <> $2)) AS other_referrals \
             FROM people p WHERE p.ref = $1",
        )
        .bind(person)
        .bind(record.row)
        .fetch_optional(&mut *self.tx)
        .await?;
        Ok(found.and_then(|(id, erased, messages, cases, others)| (erased.is_none() && messages == 1 && cases <= 1 && others == 0).then_some(id)))
    }

    /// The victim record `person` takes a corrected name and date of birth (what is given): a
    /// correction of the referral it was made from, or an admin's rectification.
    pub async fn set_person_identity(&mut self, person: i64, name: Option<&crate::identity::PersonName>, dob: Option<NaiveDate>) -> Result<()> {
        if let Some(n) = name {
            sqlx::query("UPDATE people SET name = $1, name_key = $2 WHERE id = $3").bind(n.as_written()).bind(n.key()).bind(person).execute(&mut *self.tx).await?;
        }
        if let Some(d) = dob {
            sqlx::query("UPDATE people SET dob = $1 WHERE id = $2").bind(crate::identity::candidates_key(d)).bind(person).execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    /// An accepted referral's corrected reading, its decision kept: its DASH counts and risk
    /// signals (what orders the queue and the agenda) replaced by the corrected reading's.
    /// Refused when the message is no longer accepted.
    pub async fn record_corrected_reading(&mut self, record: &MessageRecord, dash: Option<(u8, u8, u8)>, inspection_json: &str) -> Result<()> {
        let changed = sqlx::query("UPDATE messages SET dash_yes = $1, dash_no = $2, dash_unknown = $3 WHERE id = $4 AND outcome = $5")
            .bind(dash.map(|x| i64::from(x.0)))
            .bind(dash.map(|x| i64::from(x.1)))
            .bind(dash.map(|x| i64::from(x.2)))
            .bind(record.row)
            .bind(Outcome::Accepted.as_str())
            .execute(&mut *self.tx)
            .await?;
        if changed.rows_affected() != 1 {
            return Err(StoreError::refused("the message is no longer an accepted referral"));
        }
        sqlx::query("DELETE FROM message_signals WHERE message_row = $1").bind(record.row).execute(&mut *self.tx).await?;
        super::cases::store_risk_signals(&mut self.tx, record.row, &super::view::StoredInspection::parse(inspection_json, record.row)?, &record.criteria).await
    }

    /// Records the new decision of the message `record` (a review item or a rejected message:
    /// one with no case yet) on its corrected reading: the person and the case placed as triage
    /// places them, the message's outcome, criteria, reasons, DASH counts and signals replaced,
    /// the referral and a decision row by the coordinator. Refused when the message changed
    /// meanwhile or has a case already. The reply is added by [`Tx::queue_reply`].
    pub async fn record_redecision(&mut self, record: &MessageRecord, found: &Found, d: &Redecision<'_>) -> Result<Redecided> {
        if !matches!(record.outcome, Outcome::Review | Outcome::Rejected) || record.case_ref.is_some() {
            return Err(StoreError::refused("only a review item or a rejected referral is decided again"));
        }
        let matched = found.matched(d.outcome);
        let (case_kind, placed) = self.place_decision(&d.case, found, matched, d.area, d.referred_on, d.now, d.now).await?;
        let update = sqlx::query(
            "UPDATE messages SET outcome = $1, criteria = $2, reasons = $3, dash_yes = $4, dash_no = $5, dash_unknown = $6, case_kind = $7, \
             case_id = $8, person_id = $9, match_reason = $10, reply_kind = $11, reply_to = $12 WHERE id = $13 AND outcome = $14 AND case_id IS NULL",
        );
        let decided = DecisionColumns { outcome: d.outcome, criteria: d.criteria, reasons: d.reasons, dash: d.dash, case_kind, placed: &placed, matched, reply_kind: d.reply_kind, reply_to: d.reply_to };
        let changed = decided.bind(update)?.bind(record.row).bind(record.outcome.as_str()).execute(&mut *self.tx).await?;
        if changed.rows_affected() != 1 {
            return Err(StoreError::refused("the message was decided meanwhile"));
        }
        for sql in ["DELETE FROM message_criteria WHERE message_row = $1", "DELETE FROM message_signals WHERE message_row = $1", "DELETE FROM review_victims WHERE message_row = $1"] {
            sqlx::query(sql).bind(record.row).execute(&mut *self.tx).await?;
        }
        self.write_criteria(record.row, d.criteria).await?;
        super::cases::store_risk_signals(&mut self.tx, record.row, &super::view::StoredInspection::parse(d.inspection_json, record.row)?, d.criteria).await?;
        if let (Outcome::Review, None, Some(name), Some(dob)) = (d.outcome, &placed.person, &d.victim.name, d.victim.dob) {
            self.keep_review_victim(record.row, name, dob).await?;
        }
        self.add_referral(&placed, Some(record.row), d.referred_on, "email").await?;
        self.decision_row(record.row, d.outcome, d.reasons, d.by, d.now).await?;
        Ok(Redecided { case_ref: placed.case.map(|c| c.1), person_ref: placed.person.map(|p| p.1), case_is_new: placed.case_is_new })
    }
}
