//! What the SafeLives quarterly data return is counted from: each case listed for a meeting in a
//! date range, as the agenda picks them (not closed, from the message that opened it), with what
//! its referral form said (as a coordinator corrected it). Counting is `crate::data_return`'s (pure); this only reads.

use super::cases::RiskSignals;
use super::corrected::{as_corrected, corrections_by_message};
use super::error::Result;
use super::hidden::HiddenCases;
use super::view::StoredInspection;
use super::{message_record, Store, MESSAGE_SELECT};
use chrono::NaiveDate;
use sqlx::Row;
use std::collections::BTreeMap;

/// The referral fields the return reads (see `recognise::referral::FIELDS`).
pub const RETURN_FIELDS: [&str; 10] = [
    "referrer.agency",
    "referrer.agency_type",
    "victim.gender",
    "victim.age",
    "victim.ethnicity",
    "victim.sexual_orientation",
    "victim.disability",
    "perpetrator.age",
    "perpetrator.dob",
    "household.children",
];

/// One case listed for a meeting, with what its form said (as read; nothing inferred here).
#[derive(Debug, Clone, PartialEq)]
pub struct ReturnCase {
    pub case_ref: String,
    pub area: String,
    pub meeting: NaiveDate,
    /// The day the referral arrived (UTC), from which ages are counted.
    pub referred: NaiveDate,
    /// Decided as a repeat (the repeat criterion met).
    pub repeat: bool,
    /// The children in the household the form names.
    pub children: usize,
    /// Of [`RETURN_FIELDS`], those the form gave, as written.
    pub fields: BTreeMap<String, String>,
    pub victim_dob: Option<NaiveDate>,
    pub perpetrator_dob: Option<NaiveDate>,
}

impl Store {
    /// The cases listed for meetings from `from` to `to` (both included), of `area` when given,
    /// leaving out what `hidden` closes to the one asking; by meeting, then arrival.
    pub async fn return_cases(&self, from: NaiveDate, to: NaiveDate, area: Option<&str>, hidden: &HiddenCases) -> Result<Vec<ReturnCase>> {
        let with_case = MESSAGE_SELECT.replacen("SELECT ", "SELECT m.inspection, c.area AS case_area, ", 1);
        let guard = hidden.sql_guard("c.id") + &hidden.area_guard("c.area");
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{with_case} WHERE c.meeting_date >= $1 AND c.meeting_date <= $2 AND c.status <> 'closed' AND m.case_kind = 'new' AND ($3 IS NULL OR c.area = $3){guard} \
             ORDER BY c.meeting_date, m.arrived_at, m.id"
        )))
        .bind(from.to_string())
        .bind(to.to_string())
        .bind(area)
        .fetch_all(&self.pool)
        .await?;
        let ids = rows.iter().map(|r| r.try_get("id")).collect::<std::result::Result<Vec<i64>, _>>()?;
        let corrections = corrections_by_message(&self.pool, &ids).await?;
        let mut out = Vec::new();
        for r in &rows {
            let record = message_record(r)?;
            if hidden.hides(record.case_ref.as_deref()) {
                continue;
            }
            // As a coordinator corrected it: the return counts what the form says.
            let inspection = as_corrected(StoredInspection::parse(&r.try_get::<String, _>("inspection")?, record.row)?, record.row, &record.arrived, &corrections);
            let signals = RiskSignals::read(&record, &inspection);
            let Some(meeting) = record.meeting_date.as_deref().and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()) else { continue };
            let referred = crate::clock::parse(&record.arrived).map_or(meeting, |t| t.date_naive());
            let fields = RETURN_FIELDS.iter().filter_map(|k| inspection.field(k).map(|v| ((*k).to_owned(), v.to_owned()))).collect();
            out.push(ReturnCase {
                case_ref: record.case_ref.clone().unwrap_or_default(),
                area: r.try_get("case_area")?,
                meeting,
                referred,
                repeat: signals.repeat,
                children: signals.children,
                fields,
                victim_dob: inspection.victim_dob(),
                perpetrator_dob: inspection.perpetrator_dob(),
            });
        }
        Ok(out)
    }
}
