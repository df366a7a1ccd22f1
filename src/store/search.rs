//! Finding a person for a coordinator: the cases (and review items) whose victim, references,
//! police reference or postcode answer a query, each with why it matched. The matching itself
//! is pure (`marac_core::search`); this module fetches the candidates, only ever those the user
//! may see: their areas' people, cases and messages, without the restricted cases closed to
//! them (`hidden`), so a search tells nothing a list would not.

use super::error::Result;
use super::corrected::{as_corrected, corrected_one, corrections_by_message};
use super::hidden::HiddenCases;
use super::view::StoredInspection;
use super::{parse_date, Store};
use chrono::NaiveDate;
use marac_core::search::{form_keys, name_match, police_ref_matches, Query, KEY_POLICE_REFERENCE};
use sqlx::Row;
use std::collections::{BTreeMap, BTreeSet};

/// One case (or, for a review item not yet placed with a victim, one message) a search found.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SearchHit {
    pub case_ref: Option<String>,
    /// The victim's record (`P000002`); none for a review item.
    pub victim_ref: Option<String>,
    /// The review item's reference, when the hit is one.
    pub message_ref: Option<String>,
    pub victim_name: Option<String>,
    pub victim_dob: Option<NaiveDate>,
    /// The case's status (pending, heard, closed), or `review`.
    pub status: String,
    pub meeting_date: Option<String>,
    /// Why it matched, each reason once, joined by "; " (`date of birth; name is a close
    /// spelling of what was typed`).
    pub why: String,
    /// The kinds of reason (for the audit record's detail; no query text).
    #[serde(skip)]
    pub kinds: BTreeSet<&'static str>,
}

/// Reasons gathered for one case or message: (kind, words).
type Reasons = BTreeSet<(&'static str, String)>;

/// Keeps the search keys of the message `row` ([`marac_core::search::form_keys`] of its reading).
pub(super) async fn store_search_keys(tx: &mut sqlx::Transaction<'static, super::Db>, row: i64, inspection: &StoredInspection) -> Result<()> {
    let keys = form_keys(inspection.field("police_reference"), &[inspection.field("victim.postcode"), inspection.field("victim.address")]);
    for (kind, key) in keys {
        sqlx::query("INSERT INTO message_search_keys (message_row, kind, key) VALUES ($1, $2, $3) ON CONFLICT (message_row, kind, key) DO NOTHING")
            .bind(row)
            .bind(kind)
            .bind(key)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// The search keys of the message `row`, made again from `inspection` (its reading as corrected).
async fn replace_keys(tx: &mut sqlx::Transaction<'static, super::Db>, row: i64, inspection: &StoredInspection) -> Result<()> {
    sqlx::query("DELETE FROM message_search_keys WHERE message_row = $1").bind(row).execute(&mut **tx).await?;
    store_search_keys(tx, row, inspection).await
}

impl super::Tx {
    /// The search keys of the message `row` made again from its reading as corrected
    /// (`inspection_json`, an `inspect::Inspection`): a corrected police reference or postcode
    /// is found by what the coordinator gave, no longer by what was misread.
    pub async fn replace_search_keys(&mut self, row: i64, inspection_json: &str) -> Result<()> {
        replace_keys(&mut self.tx, row, &StoredInspection::parse(inspection_json, row)?).await
    }
}

/// Migration 25: the search keys of the messages kept before it, a thousand readings at a time.
pub(super) async fn fill_search_keys(tx: &mut sqlx::Transaction<'static, super::Db>) -> Result<()> {
    let mut after = 0i64;
    loop {
        let rows: Vec<(i64, String)> = sqlx::query_as("SELECT id, inspection FROM messages WHERE id > $1 ORDER BY id LIMIT 1000").bind(after).fetch_all(&mut **tx).await?;
        let Some(last) = rows.last().map(|r| r.0) else { return Ok(()) };
        for (id, inspection) in rows {
            // A reading that does not parse has no keys (a search never found it either).
            if let Ok(inspection) = StoredInspection::parse(&inspection, id) {
                store_search_keys(tx, id, &inspection).await?;
            }
        }
        after = last;
    }
}

/// Migration 26: the search keys of the messages a coordinator corrected, made again from the
/// reading as corrected (they were made from the reading as misread before keys followed
/// corrections).
pub(super) async fn refill_corrected_keys(tx: &mut sqlx::Transaction<'static, super::Db>) -> Result<()> {
    let rows: Vec<(i64, String, String)> =
        sqlx::query_as("SELECT id, inspection, arrived_at FROM messages WHERE id IN (SELECT message_row FROM corrections) ORDER BY id").fetch_all(&mut **tx).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let corrections = corrections_by_message(&mut **tx, &ids).await?;
    for (id, inspection, arrived) in rows {
        // A reading that does not parse has no keys (a search never found it either).
        let Ok(read) = StoredInspection::parse(&inspection, id) else { continue };
        replace_keys(tx, id, &as_corrected(read, id, &arrived, &corrections)).await?;
    }
    Ok(())
}

impl Store {
    /// The cases and review items answering `q` that a user with `hidden` may see, the
    /// strongest first (a reference, then the most reasons). All of them: the page shows them a
    /// page at a time.
    pub async fn search(&self, q: &Query, hidden: &HiddenCases) -> Result<Vec<SearchHit>> {
        let mut by_person: BTreeMap<i64, Reasons> = BTreeMap::new();
        let mut by_case: BTreeMap<i64, Reasons> = BTreeMap::new();
        let mut by_message: BTreeMap<i64, (Reasons, StoredInspection, String)> = BTreeMap::new();

        // People: by name (every person of the user's areas, compared here), else by date of
        // birth or reference (indexed).
        let people_guard = hidden.area_guard("area");
        let people = match &q.name {
            Some(_) => sqlx::query(sqlx::AssertSqlSafe(format!("SELECT id, ref, name_key, dob FROM people WHERE 1 = 1{people_guard}"))).fetch_all(&self.pool).await?,
            None => {
                sqlx::query(sqlx::AssertSqlSafe(format!("SELECT id, ref, name_key, dob FROM people WHERE (dob = $1 OR ref = $2){people_guard}")))
                    .bind(q.dob.map(|d| d.to_string()).unwrap_or_default())
                    .bind(&q.reference)
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        for r in &people {
            let mut reasons = Reasons::new();
            let dob = parse_date(r.try_get("dob")?);
            if q.dob.is_some() && dob == q.dob {
                reasons.insert(("dob", "date of birth".to_owned()));
            }
            if r.try_get::<String, _>("ref")? == q.reference {
                reasons.insert(("reference", "victim reference".to_owned()));
            }
            if let Some(m) = q.name.as_ref().and_then(|n| name_match(n, &r.try_get::<String, _>("name_key").unwrap_or_default())) {
                reasons.insert(("name", m.describe().to_owned()));
            }
            if !reasons.is_empty() {
                by_person.insert(r.try_get("id")?, reasons);
            }
        }

        // Our references: a case's, or a message's (its case, or the review item itself).
        if let Some(id) = sqlx::query_scalar::<_, i64>("SELECT id FROM cases WHERE ref = $1").bind(&q.reference).fetch_optional(&self.pool).await? {
            by_case.entry(id).or_default().insert(("reference", "case reference".to_owned()));
        }
        let message_guard = hidden.sql_guard("m.case_id") + &hidden.message_area_guard("m");
        let by_ref = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT m.id, m.case_id, m.inspection, m.outcome, m.arrived_at FROM messages m WHERE m.ref = $1{message_guard}")))
            .bind(&q.reference)
            .fetch_optional(&self.pool)
            .await?;
        if let Some(r) = by_ref {
            let reason = ("reference", "message reference".to_owned());
            match r.try_get::<Option<i64>, _>("case_id")? {
                Some(c) => {
                    by_case.entry(c).or_default().insert(reason);
                }
                None if r.try_get::<String, _>("outcome")? == crate::decide::Outcome::Review.as_str() => {
                    let id: i64 = r.try_get("id")?;
                    let read = StoredInspection::parse(&r.try_get::<String, _>("inspection")?, id)?;
                    let inspection = corrected_one(&self.pool, read, id, &r.try_get::<String, _>("arrived_at")?).await?;
                    by_message.insert(id, (Reasons::from([reason]), inspection, crate::decide::Outcome::Review.as_str().to_owned()));
                }
                None => {}
            }
        }

        // What only the forms say: the police reference and the victim's postcode (the messages
        // with a case, and the review items, that have the key: `message_search_keys`), and the
        // victim of a review item that has no record yet (name, date of birth: every such item).
        let review = crate::decide::Outcome::Review.as_str();
        let mut rows = Vec::new();
        let keys: Vec<(&str, &str)> = q.police_ref.as_deref().map(|p| (KEY_POLICE_REFERENCE, p)).into_iter().chain(q.postcode.as_ref().map(|p| p.key())).collect();
        if !keys.is_empty() {
            // The messages holding a key first, then those of them the user may see: asked
            // together, a planner may walk the user's area's messages instead.
            let (k1, k2) = (keys[0], keys.get(1).copied().unwrap_or(keys[0]));
            let holding: Vec<i64> = sqlx::query_scalar("SELECT DISTINCT message_row FROM message_search_keys WHERE (kind = $1 AND key = $2) OR (kind = $3 AND key = $4) ORDER BY message_row")
                .bind(k1.0)
                .bind(k1.1)
                .bind(k2.0)
                .bind(k2.1)
                .fetch_all(&self.pool)
                .await?;
            for ids in holding.chunks(1000) {
                let ids = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
                rows.extend(
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        "SELECT m.id, m.case_id, m.inspection, m.arrived_at FROM messages m WHERE m.id IN ({ids}) AND (m.case_id IS NOT NULL OR m.outcome = $1){message_guard}"
                    )))
                    .bind(review)
                    .fetch_all(&self.pool)
                    .await?,
                );
            }
        }
        if q.name.is_some() || q.dob.is_some() {
            let found: BTreeSet<i64> = rows.iter().map(|r| r.try_get("id")).collect::<std::result::Result<_, _>>()?;
            let items = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT m.id, m.case_id, m.inspection, m.arrived_at FROM messages m WHERE m.case_id IS NULL AND m.outcome = $1{message_guard}")))
                .bind(review)
                .fetch_all(&self.pool)
                .await?;
            rows.extend(items.into_iter().filter(|r| r.try_get::<i64, _>("id").is_ok_and(|id| !found.contains(&id))));
        }
        // Each form as a coordinator corrected it (the keys are the corrected reading's too).
        let ids = rows.iter().map(|r| r.try_get("id")).collect::<std::result::Result<Vec<i64>, _>>()?;
        let corrections = corrections_by_message(&self.pool, &ids).await?;
        for r in &rows {
            let id: i64 = r.try_get("id")?;
            let read = StoredInspection::parse(&r.try_get::<String, _>("inspection")?, id)?;
            let inspection = as_corrected(read, id, &r.try_get::<String, _>("arrived_at")?, &corrections);
            let mut reasons = Reasons::new();
            if let (Some(p), Some(w)) = (&q.police_ref, inspection.field("police_reference")) {
                if police_ref_matches(p, w) {
                    reasons.insert(("police_reference", "police reference".to_owned()));
                }
            }
            if let Some(p) = &q.postcode {
                let found = ["victim.postcode", "victim.address"].iter().any(|k| inspection.field(k).is_some_and(|v| p.found_in(v)));
                if found {
                    let what = match p {
                        marac_core::search::Postcode::Full(_) => "victim's postcode",
                        marac_core::search::Postcode::Outward(_) => "victim's postcode district",
                    };
                    reasons.insert(("postcode", what.to_owned()));
                }
            }
            let case_id: Option<i64> = r.try_get("case_id")?;
            if case_id.is_none() {
                if q.dob.is_some() && inspection.victim_dob() == q.dob {
                    reasons.insert(("dob", "date of birth".to_owned()));
                }
                if let Some(m) = q.name.as_ref().and_then(|n| inspection.victim_name().and_then(|v| name_match(n, &v.key()))) {
                    reasons.insert(("name", m.describe().to_owned()));
                }
            }
            if reasons.is_empty() {
                continue;
            }
            match case_id {
                Some(c) => by_case.entry(c).or_default().extend(reasons),
                None => {
                    by_message.insert(id, (reasons, inspection, crate::decide::Outcome::Review.as_str().to_owned()));
                }
            }
        }

        // The cases found, or their people's, that the user may see.
        let mut hits = Vec::new();
        if !by_person.is_empty() || !by_case.is_empty() {
            let list = |ids: Vec<&i64>| if ids.is_empty() { "(0)".to_owned() } else { format!("({})", ids.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", ")) };
            let guard = hidden.sql_guard("c.id") + &hidden.area_guard("c.area");
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT c.id, c.ref, c.status, c.meeting_date, c.person_id, p.ref AS person_ref, p.name, p.dob FROM cases c JOIN people p ON p.id = c.person_id \
                 WHERE (c.person_id IN {} OR c.id IN {}){guard} ORDER BY c.id DESC",
                list(by_person.keys().collect()),
                list(by_case.keys().collect())
            )))
            .fetch_all(&self.pool)
            .await?;
            for r in &rows {
                let mut reasons = by_person.get(&r.try_get::<i64, _>("person_id")?).cloned().unwrap_or_default();
                reasons.extend(by_case.get(&r.try_get::<i64, _>("id")?).cloned().unwrap_or_default());
                hits.push(hit(
                    reasons,
                    SearchHit {
                        case_ref: Some(r.try_get("ref")?),
                        victim_ref: Some(r.try_get("person_ref")?),
                        message_ref: None,
                        victim_name: Some(r.try_get("name")?),
                        victim_dob: parse_date(r.try_get("dob")?),
                        status: r.try_get("status")?,
                        meeting_date: r.try_get("meeting_date")?,
                        why: String::new(),
                        kinds: BTreeSet::new(),
                    },
                ));
            }
        }
        for (id, (reasons, inspection, status)) in by_message {
            let reference: Option<String> = sqlx::query_scalar("SELECT ref FROM messages WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
            hits.push(hit(
                reasons,
                SearchHit {
                    case_ref: None,
                    victim_ref: None,
                    message_ref: reference,
                    victim_name: inspection.field("victim.name").map(str::to_owned),
                    victim_dob: inspection.victim_dob(),
                    status,
                    meeting_date: None,
                    why: String::new(),
                    kinds: BTreeSet::new(),
                },
            ));
        }
        // A reference first, then the most reasons; newest cases first among equals (stable).
        hits.sort_by_key(|h| (!h.kinds.contains("reference"), std::cmp::Reverse(h.kinds.len())));
        Ok(hits)
    }
}

fn hit(reasons: Reasons, mut h: SearchHit) -> SearchHit {
    h.why = reasons.iter().map(|(_, w)| w.as_str()).collect::<Vec<_>>().join("; ");
    h.kinds = reasons.iter().map(|(k, _)| *k).collect();
    h
}
