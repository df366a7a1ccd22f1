//! What the web queue reads and the coordinators' decisions write: the queue with the risk
//! signals it is ordered by, the case page, and the decision on a review item (the decision row,
//! the reply in the outbox and the audit record commit in one transaction).

use super::{message_record, parse_date, spelled, spelled_list, CasePlace, CaseReference, MessageRecord, NewCase, NewPerson, OutboxAttempt, OutboxEntry, PersonPlace, Store, Tx, MESSAGE_SELECT};
use super::error::{Context, Result, StoreError};
use crate::config::Criterion;
use crate::decide::{OutboxKind, Outcome, ReplyKind};
use chrono::NaiveDate;
use sqlx::Row;

pub use super::view::HIGH_RISK_QUESTIONS;
use super::view::StoredInspection;

/// What the queue orders pending cases by: from the criteria, and from the inspection (stored
/// beside the message when it is written, see migration 6).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct RiskSignals {
    pub repeat: bool,
    /// The named high-risk answers marked Yes, most severe first.
    pub high_risk: Vec<String>,
    pub children: usize,
    pub escalation: bool,
    /// The referring agency as the form names it.
    pub agency: Option<String>,
}

/// The signals read from a stored inspection: high-risk answers, children, agency.
pub fn inspection_signals(inspection: &StoredInspection) -> (Vec<String>, usize, Option<String>) {
    (inspection.high_risk(), inspection.children().len(), inspection.field("referrer.agency").map(str::to_owned))
}

impl RiskSignals {
    pub fn read(record: &MessageRecord, inspection: &StoredInspection) -> RiskSignals {
        let (high_risk, children, agency) = inspection_signals(inspection);
        RiskSignals::new(record, high_risk, children, agency)
    }

    fn new(record: &MessageRecord, high_risk: Vec<String>, children: usize, agency: Option<String>) -> RiskSignals {
        RiskSignals {
            repeat: record.criteria.contains(&Criterion::Repeat),
            high_risk,
            children,
            escalation: record.criteria.contains(&Criterion::PotentialEscalation),
            agency,
        }
    }

    /// From `message_signals` (migration 6) joined to a queue row.
    fn from_row(record: &MessageRecord, r: &super::DbRow) -> Result<RiskSignals> {
        let high_risk: Option<String> = r.try_get("high_risk")?;
        let high_risk = high_risk.map(|h| serde_json::from_str(&h)).transpose()?.unwrap_or_default();
        let children: Option<i64> = r.try_get("children")?;
        Ok(RiskSignals::new(record, high_risk, children.unwrap_or(0).max(0) as usize, r.try_get("agency")?))
    }
}

/// Writes the signals of message `row` from its inspection and the criteria it was decided on.
pub(super) async fn store_risk_signals(tx: &mut sqlx::Transaction<'static, super::Db>, row: i64, inspection: &StoredInspection, criteria: &[Criterion]) -> Result<()> {
    let (high_risk, children, agency) = inspection_signals(inspection);
    sqlx::query(
        "INSERT INTO message_signals (message_row, high_risk, high_risk_count, children, agency, is_repeat, is_escalation) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (message_row) DO NOTHING",
    )
    .bind(row)
    .bind(serde_json::to_string(&high_risk)?)
    .bind(high_risk.len() as i64)
    .bind(children as i64)
    .bind(agency)
    .bind(i64::from(criteria.contains(&Criterion::Repeat)))
    .bind(i64::from(criteria.contains(&Criterion::PotentialEscalation)))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Migration 6: the signals of every message written before it.
pub(super) async fn fill_risk_signals(tx: &mut sqlx::Transaction<'static, super::Db>) -> Result<()> {
    let rows: Vec<(i64, String)> = sqlx::query_as("SELECT id, inspection FROM messages ORDER BY id").fetch_all(&mut **tx).await?;
    for (id, inspection) in rows {
        // A row written before migration 6 whose inspection does not read gets no signals (as
        // if nothing were marked), rather than stopping the migration.
        let inspection = StoredInspection::parse(&inspection, id).unwrap_or_default();
        // The table as migration 6 makes it (migration 21 adds the criteria's flags, from
        // `message_criteria`).
        let (high_risk, children, agency) = inspection_signals(&inspection);
        sqlx::query("INSERT INTO message_signals (message_row, high_risk, high_risk_count, children, agency) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (message_row) DO NOTHING")
            .bind(id)
            .bind(serde_json::to_string(&high_risk)?)
            .bind(high_risk.len() as i64)
            .bind(children as i64)
            .bind(agency)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// What the queue page narrows the queue to (all optional; empty means no filter).
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize, serde::Serialize)]
pub struct QueueFilter {
    #[serde(default)]
    pub meeting: Option<String>,
    /// `review`, `quarantined` or `pending`.
    #[serde(default)]
    pub status: Option<String>,
    /// Part of the referring agency's name, any case.
    #[serde(default)]
    pub agency: Option<String>,
    #[serde(default)]
    pub criterion: Option<String>,
}

/// A case as its page shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CaseRow {
    pub reference: String,
    pub status: String,
    pub meeting_date: Option<String>,
    pub opened_at: String,
    pub source: String,
    pub person_ref: String,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DecisionRow {
    pub outcome: Outcome,
    pub reasons: Vec<String>,
    pub decided_by: String,
    pub decided_at: String,
}

/// A past referral of the victim (from the import or an email).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ReferralRow {
    pub referred_on: String,
    pub case_ref: String,
    pub source: String,
    pub message_ref: Option<String>,
}

/// Everything the case page shows.
#[derive(Debug, Clone)]
pub struct CaseView {
    /// The message shown (the one named, or the case's latest); none for an imported case.
    pub message: Option<MessageRecord>,
    pub inspection: StoredInspection,
    pub case: Option<CaseRow>,
    pub decisions: Vec<DecisionRow>,
    /// Every message of this victim (or of this case), oldest first.
    pub messages: Vec<MessageRecord>,
    pub referrals: Vec<ReferralRow>,
    /// Replies and notices for those messages, each with its attempts.
    pub outbox: Vec<(OutboxEntry, String, Vec<OutboxAttempt>)>,
}

impl Store {
    /// The queue with the signals its pending part is ordered by: review items (oldest first),
    /// quarantined messages (oldest first), then pending cases by meeting date, then repeat
    /// first, DASH score, named high-risk answers (strangulation, threats to kill, weapons,
    /// pregnancy), children in the household, escalation, and arrival time. `queue` (the CLI's
    /// `queue --json` and the web's `/queue.json`) is this list.
    pub async fn queue_with_signals(&self) -> Result<Vec<(MessageRecord, RiskSignals)>> {
        Ok(self.queue_page(&QueueFilter::default(), None).await?.0)
    }

    /// The queue narrowed by `filter`, in the same order, with at most `pending_limit` pending
    /// cases (the first ones); also how many pending cases the filter keeps in all. The order
    /// is the database's (indexed, so a page of a long queue costs a page).
    pub async fn queue_page(&self, filter: &QueueFilter, pending_limit: Option<i64>) -> Result<(Vec<(MessageRecord, RiskSignals)>, usize)> {
        self.queue_page_hiding(filter, pending_limit, &super::hidden::HiddenCases::none()).await
    }

    /// [`Store::queue_page`] without the messages of the restricted cases `hidden` names (a
    /// user's view: see [`Store::hidden_cases`]).
    pub async fn queue_page_hiding(&self, filter: &QueueFilter, pending_limit: Option<i64>, hidden: &super::hidden::HiddenCases) -> Result<(Vec<(MessageRecord, RiskSignals)>, usize)> {
        self.queue_page_at(filter, pending_limit, 0, hidden).await
    }

    /// [`Store::queue_page_hiding`] with the pending cases from the `skip`-th on (a later page
    /// of them; `skip` is ignored for the whole list).
    pub async fn queue_page_at(&self, filter: &QueueFilter, pending_limit: Option<i64>, skip: i64, hidden: &super::hidden::HiddenCases) -> Result<(Vec<(MessageRecord, RiskSignals)>, usize)> {
        let select = format!("{} LEFT JOIN message_signals s ON s.message_row = m.id", MESSAGE_SELECT.replacen("SELECT ", "SELECT s.high_risk, s.children, s.agency, ", 1));
        let mut conds: Vec<String> = Vec::new();
        let mut binds: Vec<String> = Vec::new();
        if let Some(m) = filter.meeting.as_deref().filter(|v| !v.is_empty()) {
            binds.push(m.to_owned());
            conds.push(format!("c.meeting_date = ${}", binds.len()));
        }
        if let Some(c) = filter.criterion.as_deref().filter(|v| !v.is_empty()) {
            match c.parse::<Criterion>() {
                Ok(c) => {
                    binds.push(c.as_str().to_owned());
                    conds.push(format!("EXISTS (SELECT 1 FROM message_criteria mc WHERE mc.message_row = m.id AND mc.criterion = ${})", binds.len()));
                }
                // No message was decided on a criterion that does not exist.
                Err(_) => conds.push("1 = 0".to_owned()),
            }
        }
        if let Some(a) = filter.agency.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            binds.push(format!("%{}%", a.to_lowercase().replace(['%', '_'], "")));
            conds.push(format!("lower(s.agency) LIKE ${}", binds.len()));
        }
        let mut extra: String = conds.iter().map(|c| format!(" AND {c}")).collect();
        extra.push_str(&hidden.sql_guard("m.case_id"));
        // The pending list is the pending cases of the user's areas, found from the cases' own
        // area (indexed: an area's cases, not the deployment's pending ones); review and
        // quarantined messages have no case and go by the message's area.
        let pending_extra = format!("{extra}{}", hidden.area_guard("c.area"));
        extra.push_str(&hidden.message_area_guard("m"));
        let status = filter.status.as_deref().filter(|v| !v.is_empty());
        let wanted = |part: &str| status.is_none_or(|s| s == part);
        let run = async |sql: String| -> Result<Vec<super::DbRow>> {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for b in &binds {
                q = q.bind(b);
            }
            Ok(q.fetch_all(&self.pool).await?)
        };
        let mut rows = Vec::new();
        for outcome in [Outcome::Review, Outcome::Quarantined] {
            if wanted(outcome.as_str()) {
                rows.extend(run(format!("{select} WHERE m.outcome = '{}'{extra} ORDER BY m.arrived_at, m.id", outcome.as_str())).await?);
            }
        }
        let mut total = 0;
        if wanted("pending") {
            const PENDING: &str = "m.case_kind = 'new' AND c.status = 'pending'";
            // A repeat first, potential escalation before the rest: the flags written with the
            // message's signals (migration 21) from the criteria it was decided on.
            let order = "ORDER BY c.meeting_date, COALESCE(s.is_repeat, 0) DESC, COALESCE(m.dash_yes, -1) DESC, COALESCE(s.high_risk_count, 0) DESC, \
                         COALESCE(s.children, 0) DESC, COALESCE(s.is_escalation, 0) DESC, m.arrived_at, m.id";
            match pending_limit {
                // The whole list: one pass, each row read once.
                None => {
                    let pending = run(format!("{select} WHERE {PENDING}{pending_extra} {order}")).await?;
                    total = pending.len();
                    rows.extend(pending);
                }
                // A page: the order is decided over narrow rows (the id and its keys, with the
                // list's length as a window counted before the limit), then only the page's rows
                // are read whole. Sorting every pending case's whole row to keep 200 was most of
                // the page's cost in an area with thousands of them.
                Some(limit) => {
                    let ranked = run(format!(
                        "SELECT m.id, COUNT(*) OVER () AS pending_total FROM messages m LEFT JOIN cases c ON c.id = m.case_id \
                         LEFT JOIN message_signals s ON s.message_row = m.id WHERE {PENDING}{pending_extra} {order} LIMIT {limit} OFFSET {}", skip.max(0)
                    ))
                    .await?;
                    total = match ranked.first() {
                        Some(r) => r.try_get::<i64, _>("pending_total")? as usize,
                        // Past the end (or nothing pending): counted alone.
                        None if skip > 0 => run(format!(
                            "SELECT COUNT(*) AS n FROM messages m LEFT JOIN cases c ON c.id = m.case_id LEFT JOIN message_signals s ON s.message_row = m.id WHERE {PENDING}{pending_extra}"
                        ))
                        .await?
                        .first()
                        .map(|r| r.try_get::<i64, _>("n"))
                        .transpose()?
                        .unwrap_or(0) as usize,
                        None => 0,
                    };
                    let ids = ranked.iter().map(|r| r.try_get::<i64, _>("id")).collect::<std::result::Result<Vec<_>, _>>()?;
                    if !ids.is_empty() {
                        let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
                        let mut page = sqlx::query(sqlx::AssertSqlSafe(format!("{select} WHERE m.id IN ({list}) AND {PENDING}"))).fetch_all(&self.pool).await?;
                        let place: std::collections::HashMap<i64, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
                        page.sort_by_key(|r| r.try_get::<i64, _>("id").ok().and_then(|id| place.get(&id).copied()).unwrap_or(usize::MAX));
                        rows.extend(page);
                    }
                }
            }
        }
        let out = rows
            .iter()
            .map(|r| {
                let record = message_record(r)?;
                let signals = RiskSignals::from_row(&record, r)?;
                Ok((record, signals))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok((out, total))
    }

    /// The case page of a message reference (`IN-2026-00001`) or a case reference.
    /// Every decision on one message, oldest first (the case page, a subject's export).
    pub async fn decisions_of(&self, message_row: i64) -> Result<Vec<DecisionRow>> {
        sqlx::query("SELECT outcome, reasons, decided_by, decided_at FROM decisions WHERE message_row = $1 ORDER BY id")
            .bind(message_row)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                Ok(DecisionRow {
                    outcome: spelled(r, "outcome")?,
                    reasons: serde_json::from_str(&r.try_get::<String, _>("reasons")?)?,
                    decided_by: r.try_get("decided_by")?,
                    decided_at: r.try_get("decided_at")?,
                })
            })
            .collect()
    }

    pub async fn case_view(&self, reference: &str) -> Result<Option<CaseView>> {
        let with_inspection = MESSAGE_SELECT.replacen("SELECT ", "SELECT m.inspection, m.case_id AS case_row, m.person_id AS person_row, ", 1);
        let mut row = sqlx::query(sqlx::AssertSqlSafe(format!("{with_inspection} WHERE m.ref = $1"))).bind(reference).fetch_optional(&self.pool).await?;
        let case_id: Option<i64> = match &row {
            Some(r) => r.try_get("case_row")?,
            None => sqlx::query_scalar("SELECT id FROM cases WHERE ref = $1").bind(reference).fetch_optional(&self.pool).await?,
        };
        if row.is_none() {
            let Some(cid) = case_id else { return Ok(None) };
            row = sqlx::query(sqlx::AssertSqlSafe(format!("{with_inspection} WHERE m.case_id = $1 ORDER BY m.id DESC LIMIT 1"))).bind(cid).fetch_optional(&self.pool).await?;
        }
        let (message, inspection, mut person_id) = match &row {
            Some(r) => {
                let record = message_record(r)?;
                let inspection = StoredInspection::parse(&r.try_get::<String, _>("inspection")?, record.row)?;
                (Some(record), inspection, r.try_get::<Option<i64>, _>("person_row")?)
            }
            None => (None, StoredInspection::default(), None),
        };
        let case = match case_id {
            Some(cid) => {
                let r = sqlx::query("SELECT c.ref, c.status, c.meeting_date, c.opened_at, c.source, c.person_id, p.ref AS person_ref FROM cases c JOIN people p ON p.id = c.person_id WHERE c.id = $1")
                    .bind(cid)
                    .fetch_one(&self.pool)
                    .await?;
                person_id = person_id.or(r.try_get("person_id")?);
                Some(CaseRow {
                    reference: r.try_get("ref")?,
                    status: r.try_get("status")?,
                    meeting_date: r.try_get("meeting_date")?,
                    opened_at: r.try_get("opened_at")?,
                    source: r.try_get("source")?,
                    person_ref: r.try_get("person_ref")?,
                })
            }
            None => None,
        };
        let decisions = match &message {
            Some(m) => self.decisions_of(m.row).await?,
            None => Vec::new(),
        };
        // Every message of this victim, or (no victim known) the message itself.
        let messages: Vec<MessageRecord> = match person_id {
            Some(p) => sqlx::query(sqlx::AssertSqlSafe(format!("{MESSAGE_SELECT} WHERE m.person_id = $1 ORDER BY m.id"))).bind(p).fetch_all(&self.pool).await?.iter().map(message_record).collect::<Result<_>>()?,
            None => message.iter().cloned().collect(),
        };
        let referrals = match person_id {
            Some(p) => sqlx::query(
                "SELECT r.referred_on, c.ref AS case_ref, r.source, m.ref AS message_ref FROM referrals r JOIN cases c ON c.id = r.case_id \
                 LEFT JOIN messages m ON m.id = r.message_row WHERE r.person_id = $1 ORDER BY r.referred_on, r.id",
            )
            .bind(p)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| Ok(ReferralRow { referred_on: r.try_get("referred_on")?, case_ref: r.try_get("case_ref")?, source: r.try_get("source")?, message_ref: r.try_get("message_ref")? }))
            .collect::<Result<Vec<_>>>()?,
            None => Vec::new(),
        };
        let mut outbox = Vec::new();
        for m in &messages {
            for e in self.outbox_for(m.row).await? {
                let attempts = self.outbox_attempts(e.id).await?;
                outbox.push((e, m.reference.clone(), attempts));
            }
        }
        Ok(Some(CaseView { message, inspection, case, decisions, messages, referrals, outbox }))
    }

    /// The outbox rows of one message, oldest first.
    pub async fn outbox_for(&self, message_row: i64) -> Result<Vec<OutboxEntry>> {
        Ok(self.outbox_where(Some(message_row)).await?)
    }
}

/// A review item about to be decided, read inside the deciding transaction.
#[derive(Debug, Clone)]
pub struct ReviewItem {
    pub record: MessageRecord,
    pub inspection: StoredInspection,
}

impl ReviewItem {
    fn read(r: &super::DbRow) -> Result<ReviewItem> {
        let record = message_record(r)?;
        let inspection = StoredInspection::parse(&r.try_get::<String, _>("inspection")?, record.row)?;
        Ok(ReviewItem { record, inspection })
    }
}

/// The case an accepted review item went to.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub case_ref: String,
    pub meeting: Option<NaiveDate>,
    pub linked: bool,
}

impl Tx {
    /// The message `reference` if it is (still) a review item.
    pub async fn review_item(&mut self, reference: &str) -> Result<Option<ReviewItem>> {
        self.item_with_outcome(reference, Outcome::Review).await
    }

    /// The message `reference`, with its stored inspection, if its outcome is (still) `outcome`.
    async fn item_with_outcome(&mut self, reference: &str, outcome: Outcome) -> Result<Option<ReviewItem>> {
        let with_inspection = MESSAGE_SELECT.replacen("SELECT ", "SELECT m.inspection, ", 1);
        let r = sqlx::query(sqlx::AssertSqlSafe(format!("{with_inspection} WHERE m.ref = $1 AND m.outcome = $2")))
            .bind(reference)
            .bind(outcome.as_str())
            .fetch_optional(&mut *self.tx)
            .await?;
        let Some(mut item) = r.as_ref().map(ReviewItem::read).transpose()? else { return Ok(None) };
        // Decided by hand on the form as a coordinator corrected it (the victim looked up by the
        // corrected name and date of birth, not the misread ones).
        item.inspection = super::corrected::corrected_one(&mut *self.tx, item.inspection, item.record.row, &item.record.arrived).await?;
        Ok(Some(item))
    }

    /// The areas a message whose area could not be told may be for (empty for any other).
    pub async fn candidates_of(&mut self, message_row: i64) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar("SELECT area FROM message_candidates WHERE message_row = $1 ORDER BY area").bind(message_row).fetch_all(&mut *self.tx).await?)
    }

    /// A coordinator places a review item whose area could not be told in `area` (one of its
    /// candidates): it is then that area's item, decided by its rules.
    pub async fn place_in_area(&mut self, item: &ReviewItem, area: &str) -> Result<()> {
        if !item.record.area.is_empty() {
            return Err(StoreError::refused("this referral is already in an area"));
        }
        if !self.candidates_of(item.record.row).await?.iter().any(|a| a == area) {
            return Err(StoreError::refused("that is not an area this referral may be for"));
        }
        sqlx::query("UPDATE messages SET area = $1 WHERE id = $2").bind(area).bind(item.record.row).execute(&mut *self.tx).await?;
        sqlx::query("DELETE FROM message_candidates WHERE message_row = $1").bind(item.record.row).execute(&mut *self.tx).await?;
        Ok(())
    }

    /// A coordinator accepts a review item: it joins the victim's pending case when they have
    /// one (matched as triage matches), else a new case for `meeting`; the referral and the
    /// decision row are written and the message becomes accepted (its reply is added by
    /// [`Tx::queue_reply`] in the same transaction).
    pub async fn accept_review(&mut self, item: &ReviewItem, victim: &super::Victim, victim_name: &str, victim_key: &str, meeting: Option<NaiveDate>, format: &crate::config::CaseConfig, by: &str, now: &str, today: NaiveDate) -> Result<Accepted> {
        let area = item.record.area.as_str();
        if area.is_empty() {
            return Err(StoreError::refused("this referral's MARAC area could not be told: place it in an area before accepting it"));
        }
        let found = self.look_up(None, &crate::mime::Refers::default(), "", &[], victim, area, today).await?;
        let person = match &found.person {
            Some(p) => PersonPlace::Known { id: p.id, reference: Some(&p.reference) },
            None => PersonPlace::New(NewPerson { area, name: victim_name, key: victim_key, dob: victim.dob }),
        };
        let case = match found.pending_case.filter(|_| found.person.is_some()) {
            Some(case_id) => CasePlace::Join(case_id),
            None => CasePlace::Open(NewCase { area, reference: CaseReference::Next { format, year: chrono::Datelike::year(&today) }, status: "pending", meeting, opened_at: now, source: "email" }),
        };
        let placed = self.place(person, case, now).await?;
        let (Some((person_id, _)), Some((case_id, case_ref, meeting))) = (placed.person.clone(), placed.case.clone()) else {
            return Err(StoreError::data("an accepted review item without a person and a case"));
        };
        let linked = !placed.case_is_new;
        sqlx::query("UPDATE messages SET outcome = $1, case_kind = $2, case_id = $3, person_id = $4, reply_kind = $5 WHERE id = $6")
            .bind(Outcome::Accepted.as_str())
            .bind(if linked { "linked" } else { "new" })
            .bind(case_id)
            .bind(person_id)
            .bind(ReplyKind::Acknowledgement.as_str())
            .bind(item.record.row)
            .execute(&mut *self.tx)
            .await?;
        self.add_referral(&placed, Some(item.record.row), today, "email").await?;
        self.decision_row(item.record.row, Outcome::Accepted, &["accepted by a coordinator".to_owned()], by, now).await?;
        Ok(Accepted { case_ref, meeting, linked })
    }

    /// A coordinator rejects a review item with `reasons` (sent to the referrer).
    pub async fn reject_review(&mut self, item: &ReviewItem, reasons: &[String], by: &str, now: &str) -> Result<()> {
        sqlx::query("UPDATE messages SET outcome = $1, reply_kind = $2, reasons = $3 WHERE id = $4")
            .bind(Outcome::Rejected.as_str())
            .bind(ReplyKind::Rejection.as_str())
            .bind(serde_json::to_string(reasons)?)
            .bind(item.record.row)
            .execute(&mut *self.tx)
            .await?;
        self.decision_row(item.record.row, Outcome::Rejected, reasons, by, now).await
    }
}

/// A case a coordinator changes, read inside the changing transaction.
#[derive(Debug, Clone)]
pub struct CaseForUpdate {
    pub id: i64,
    pub reference: String,
    pub status: String,
    pub meeting_date: Option<String>,
}

impl Tx {
    /// The message `reference` if it is (still) quarantined.
    pub async fn quarantined_item(&mut self, reference: &str) -> Result<Option<ReviewItem>> {
        self.item_with_outcome(reference, Outcome::Quarantined).await
    }

    /// Releases a quarantined message to the review queue (a coordinator judged the sender
    /// genuine): it is then accepted or rejected like any review item.
    pub async fn release_quarantined(&mut self, item: &ReviewItem, by: &str, now: &str) -> Result<()> {
        self.requalify_quarantined(item, Outcome::Review).await?;
        self.decision_row(item.record.row, Outcome::Review, &["released from quarantine by a coordinator".to_owned()], by, now).await
    }

    /// Discards a quarantined message: it stays recorded, as ignored (no reply, no case).
    pub async fn discard_quarantined(&mut self, item: &ReviewItem, by: &str, now: &str) -> Result<()> {
        self.requalify_quarantined(item, Outcome::Ignored).await?;
        self.decision_row(item.record.row, Outcome::Ignored, &["discarded from quarantine by a coordinator".to_owned()], by, now).await
    }

    /// A quarantined message's new outcome (still quarantined when read: a race changes nothing).
    async fn requalify_quarantined(&mut self, item: &ReviewItem, outcome: Outcome) -> Result<()> {
        sqlx::query("UPDATE messages SET outcome = $1 WHERE id = $2 AND outcome = $3")
            .bind(outcome.as_str())
            .bind(item.record.row)
            .bind(Outcome::Quarantined.as_str())
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    pub async fn case_for_update(&mut self, reference: &str) -> Result<Option<CaseForUpdate>> {
        let r = sqlx::query("SELECT id, ref, status, meeting_date FROM cases WHERE ref = $1").bind(reference).fetch_optional(&mut *self.tx).await?;
        r.map(|r| Ok(CaseForUpdate { id: r.try_get("id")?, reference: r.try_get("ref")?, status: r.try_get("status")?, meeting_date: r.try_get("meeting_date")? })).transpose()
    }

    /// The person a case belongs to.
    pub async fn case_person(&mut self, case_id: i64) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT person_id FROM cases WHERE id = $1").bind(case_id).fetch_one(&mut *self.tx).await?)
    }

    /// Marks a case heard or closed.
    pub async fn set_case_status(&mut self, case_id: i64, status: &str) -> Result<()> {
        if !matches!(status, "heard" | "closed") {
            return Err(StoreError::refused("a case is pending, heard or closed"));
        }
        sqlx::query("UPDATE cases SET status = $1 WHERE id = $2").bind(status).bind(case_id).execute(&mut *self.tx).await?;
        Ok(())
    }

    /// Lists a case for another meeting.
    pub async fn move_case(&mut self, case_id: i64, meeting: NaiveDate) -> Result<()> {
        sqlx::query("UPDATE cases SET meeting_date = $1 WHERE id = $2").bind(meeting.to_string()).bind(case_id).execute(&mut *self.tx).await?;
        Ok(())
    }
}

/// The order of cases within a meeting, the queue's and the agenda's: repeat first, then DASH
/// score, named high-risk answers, children, escalation (callers keep arrival order for ties).
pub fn risk_order(a: (&MessageRecord, &RiskSignals), b: (&MessageRecord, &RiskSignals)) -> std::cmp::Ordering {
    let key = |r: &MessageRecord, s: &RiskSignals| (!s.repeat, std::cmp::Reverse(r.dash.map_or(-1, |d| d.0)), std::cmp::Reverse(s.high_risk.len()), std::cmp::Reverse(s.children), !s.escalation);
    key(a.0, a.1).cmp(&key(b.0, b.1))
}

/// One line of a meeting's agenda, as circulated to the agencies' representatives.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AgendaRow {
    pub case_ref: String,
    pub status: String,
    pub victim_name: String,
    pub victim_dob: Option<NaiveDate>,
    pub perpetrator: Option<String>,
    pub children: usize,
    pub agency: Option<String>,
    pub criteria: Vec<Criterion>,
    pub repeat: bool,
    pub dash_score: Option<i64>,
}

/// A meeting with the number of cases listed for it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MeetingCount {
    /// The area whose meeting it is.
    pub area: String,
    pub date: String,
    pub cases: i64,
}

impl Store {
    /// The cases listed for the meeting on `date` (pending or heard; closed ones are left out),
    /// in the queue's risk order, each from the message that opened it.
    /// The agenda of the meeting on `date`: of `area` when given, else of every area the user
    /// works in (`hidden` also leaves out the restricted cases closed to them).
    pub async fn agenda(&self, date: NaiveDate, area: Option<&str>, hidden: &super::hidden::HiddenCases) -> Result<Vec<AgendaRow>> {
        let with_case = MESSAGE_SELECT.replacen("SELECT ", "SELECT m.inspection, c.status AS case_status, p.name AS victim_name, p.dob AS victim_dob, ", 1);
        let guard = hidden.sql_guard("c.id") + &hidden.area_guard("c.area");
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{with_case} WHERE c.meeting_date = $1 AND c.status <> 'closed' AND m.case_kind = 'new' AND ($2 IS NULL OR c.area = $2){guard} ORDER BY m.arrived_at, m.id"
        )))
        .bind(date.to_string())
        .bind(area)
        .fetch_all(&self.pool)
        .await?;
        let ids = rows.iter().map(|r| r.try_get("id")).collect::<std::result::Result<Vec<i64>, _>>()?;
        let corrections = super::corrected::corrections_by_message(&self.pool, &ids).await?;
        let mut items = Vec::new();
        for r in &rows {
            let record = message_record(r)?;
            let read = StoredInspection::parse(&r.try_get::<String, _>("inspection")?, record.row)?;
            let inspection = super::corrected::as_corrected(read, record.row, &record.arrived, &corrections);
            let signals = RiskSignals::read(&record, &inspection);
            let row = AgendaRow {
                case_ref: record.case_ref.clone().unwrap_or_default(),
                status: r.try_get("case_status")?,
                victim_name: r.try_get("victim_name")?,
                victim_dob: parse_date(r.try_get("victim_dob")?),
                perpetrator: inspection.field("perpetrator.name").map(str::to_owned),
                children: signals.children,
                agency: signals.agency.clone(),
                criteria: record.criteria.clone(),
                repeat: signals.repeat,
                dash_score: record.dash.map(|d| d.0),
            };
            items.push((record, signals, row));
        }
        items.sort_by(|a, b| risk_order((&a.0, &a.1), (&b.0, &b.1)));
        Ok(items.into_iter().map(|(_, _, row)| row).collect())
    }

    /// Meetings that have cases listed (not closed), by date, counting only the cases not
    /// `hidden` from the user asking (a meeting with none of those left is not listed).
    pub async fn meetings_with_cases(&self, hidden: &super::hidden::HiddenCases) -> Result<Vec<MeetingCount>> {
        let guard = hidden.sql_guard("id") + &hidden.area_guard("area");
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT area, meeting_date, COUNT(*) AS n FROM cases WHERE meeting_date IS NOT NULL AND status <> 'closed'{guard} GROUP BY area, meeting_date ORDER BY meeting_date, area"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok(MeetingCount { area: r.try_get("area")?, date: r.try_get("meeting_date")?, cases: r.try_get("n")? })).collect()
    }
}

/// What the dashboard counts, read in three small queries.
#[derive(Debug, Clone, Default)]
pub struct DashboardData {
    /// Every message: arrival (RFC 3339), outcome, criteria.
    pub messages: Vec<(String, Outcome, Vec<Criterion>)>,
    /// Replies to referrers that were sent: the message's arrival and the send time.
    pub replies: Vec<(String, String)>,
    /// Outbox rows by status (bounced counted apart), replies and notices together.
    pub outbox: Vec<(String, i64)>,
}

impl Store {
    /// The dashboard's rows, leaving out the messages (and their replies) of the cases `hidden`
    /// from the user asking, so no total counts what they may not see.
    pub async fn dashboard_data(&self, hidden: &super::hidden::HiddenCases) -> Result<DashboardData> {
        let guard = hidden.sql_guard("m.case_id") + &hidden.message_area_guard("m");
        let messages = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT m.id, m.arrived_at, m.outcome, m.criteria FROM messages m WHERE 1 = 1{guard} ORDER BY m.id")))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                let read = || -> Result<(String, Outcome, Vec<Criterion>)> {
                    Ok((r.try_get("arrived_at")?, spelled(r, "outcome")?, spelled_list(&r.try_get::<String, _>("criteria")?, "criteria")?))
                };
                read().with_context(|| format!("message row {}", r.try_get::<i64, _>("id").unwrap_or_default()))
            })
            .collect::<Result<Vec<_>>>()?;
        let replies = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT m.arrived_at, o.sent_at FROM outbox o JOIN messages m ON m.id = o.message_row WHERE o.sent_at IS NOT NULL AND o.kind <> '{}'{guard} ORDER BY o.id", OutboxKind::Notice.as_str()
        )))
        .fetch_all(&self.pool)
        .await?;
        let mut outbox: Vec<(String, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT o.status, COUNT(*) FROM outbox o JOIN messages m ON m.id = o.message_row WHERE 1 = 1{guard} GROUP BY o.status ORDER BY o.status"
        )))
        .fetch_all(&self.pool)
        .await?;
        let bounced: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM outbox o JOIN messages m ON m.id = o.message_row WHERE o.bounced_at IS NOT NULL{guard}")))
            .fetch_one(&self.pool)
            .await?;
        outbox.push(("bounced".into(), bounced));
        Ok(DashboardData { messages, replies, outbox })
    }
}

impl Tx {
    /// The person of reference `reference` (`P000001`).
    pub async fn person_by_ref(&mut self, reference: &str) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar("SELECT id FROM people WHERE ref = $1").bind(reference).fetch_optional(&mut *self.tx).await?)
    }

    /// Two records of one victim wrongly kept apart: every case, message and referral of one
    /// moves to the other, the earlier record (so later look-ups, which take the first match,
    /// find it). Returns the references (kept, emptied). The emptied record stays, with nothing.
    pub async fn merge_people(&mut self, a: i64, b: i64) -> Result<(String, String)> {
        let (keep, other) = (a.min(b), a.max(b));
        for table in ["cases", "messages", "referrals"] {
            sqlx::query(sqlx::AssertSqlSafe(format!("UPDATE {table} SET person_id = $1 WHERE person_id = $2"))).bind(keep).bind(other).execute(&mut *self.tx).await?;
        }
        let name = async |tx: &mut Self, id: i64| -> Result<String> { Ok(sqlx::query_scalar("SELECT ref FROM people WHERE id = $1").bind(id).fetch_one(&mut *tx.tx).await?) };
        Ok((name(self, keep).await?, name(self, other).await?))
    }

    /// A case wrongly matched to a victim: it moves, with its messages and referrals, to a new
    /// person named as its first message names the victim. None when the person has no other
    /// case (there is nothing to split from). Returns (old, new) person references.
    pub async fn split_case(&mut self, case_id: i64, now: &str) -> Result<Option<(String, String)>> {
        let r = sqlx::query("SELECT c.person_id, c.area, p.ref FROM cases c JOIN people p ON p.id = c.person_id WHERE c.id = $1").bind(case_id).fetch_one(&mut *self.tx).await?;
        let (person, old_ref, area): (i64, String, String) = (r.try_get("person_id")?, r.try_get("ref")?, r.try_get("area")?);
        let others: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cases WHERE person_id = $1 AND id <> $2").bind(person).bind(case_id).fetch_one(&mut *self.tx).await?;
        if others == 0 {
            return Ok(None);
        }
        let first: Option<(i64, String, String)> = sqlx::query_as("SELECT id, inspection, arrived_at FROM messages WHERE case_id = $1 ORDER BY id LIMIT 1").bind(case_id).fetch_optional(&mut *self.tx).await?;
        // The victim as the form names them, as a coordinator corrected it.
        let inspection = match first {
            Some((row, json, arrived)) => super::corrected::corrected_one(&mut *self.tx, StoredInspection::parse(&json, row)?, row, &arrived).await?,
            None => StoredInspection::default(),
        };
        let (name, dob) = (inspection.victim_name(), inspection.victim_dob());
        let written = name.as_ref().map(|n| n.as_written().to_owned()).unwrap_or_else(|| "(name not given)".into());
        let key = name.as_ref().map(crate::identity::PersonName::key).unwrap_or_default();
        let placed = self.place(PersonPlace::New(NewPerson { area: &area, name: &written, key: &key, dob }), CasePlace::None, now).await?;
        let (id, new_ref) = placed.person.ok_or_else(|| StoreError::data("a split without a new person"))?;
        sqlx::query("UPDATE cases SET person_id = $1 WHERE id = $2").bind(id).bind(case_id).execute(&mut *self.tx).await?;
        for table in ["messages", "referrals"] {
            sqlx::query(sqlx::AssertSqlSafe(format!("UPDATE {table} SET person_id = $1 WHERE case_id = $2"))).bind(id).bind(case_id).execute(&mut *self.tx).await?;
        }
        Ok(Some((old_ref, new_ref)))
    }
}
