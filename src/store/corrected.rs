//! A message's reading as a coordinator corrected it, for what reads a form for a purpose (the
//! agenda, the data return, a search, a split): the corrections kept (`corrections`, migration
//! 22) laid over the stored reading by [`super::view::StoredInspection::corrected`]. Below the
//! modules that read it and the one that keeps corrections (`store::corrections`).

use super::error::Result;
use std::collections::BTreeMap;

/// The corrections kept for the messages `rows`: (target, value) by message row, oldest first,
/// as [`super::view::StoredInspection::corrected`] takes them.
pub(super) async fn corrections_by_message<'e, E>(db: E, rows: &[i64]) -> Result<BTreeMap<i64, Vec<(String, String)>>>
where
    E: sqlx::Executor<'e, Database = super::Db>,
{
    let mut by_row: BTreeMap<i64, Vec<(String, String)>> = BTreeMap::new();
    if rows.is_empty() {
        return Ok(by_row);
    }
    let list = rows.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
    let found: Vec<(i64, String, String)> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT message_row, target, corrected FROM corrections WHERE message_row IN ({list}) ORDER BY id"))).fetch_all(db).await?;
    for (row, target, value) in found {
        by_row.entry(row).or_default().push((target, value));
    }
    Ok(by_row)
}

/// `inspection` of the message `row` as corrected by `corrections` (of [`corrections_by_message`]),
/// two-digit years placed by the year it arrived (`arrived`, RFC 3339).
pub(super) fn as_corrected(inspection: super::view::StoredInspection, row: i64, arrived: &str, corrections: &BTreeMap<i64, Vec<(String, String)>>) -> super::view::StoredInspection {
    match corrections.get(&row) {
        Some(kept) => {
            // The arrival is always stamped by triage; were it unreadable, a two-digit year given
            // would read as this century's.
            let year = crate::clock::parse(arrived).map_or(2000, |t| chrono::Datelike::year(&t));
            inspection.corrected(kept.iter().map(|(t, v)| (t.as_str(), v.as_str())), year)
        }
        None => inspection,
    }
}

/// One message's reading as corrected, its corrections read with `db`.
pub(super) async fn corrected_one<'e, E>(db: E, inspection: super::view::StoredInspection, row: i64, arrived: &str) -> Result<super::view::StoredInspection>
where
    E: sqlx::Executor<'e, Database = super::Db>,
{
    Ok(as_corrected(inspection, row, arrived, &corrections_by_message(db, &[row]).await?))
}
