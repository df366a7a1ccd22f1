//! Undoing a coordinator's change: a heard or closed case made pending again, and a merge of two
//! victim records split back (migration 23 keeps, with each merge, which rows moved). Each runs
//! in the caller's transaction, which also writes the audit record.

use super::error::{Result, StoreError};
use super::{Store, Tx};
use sqlx::Row;

/// The tables a merge moves rows of (the only names put in SQL here).
const MOVED: [&str; 3] = ["cases", "messages", "referrals"];

/// A merge that can still be undone, as the case page lists it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MergeRow {
    pub id: i64,
    /// The record emptied into this one (`P000007`).
    pub emptied_ref: String,
    pub merged_at: String,
    pub merged_by: String,
    /// How many cases it brought.
    pub cases: i64,
}

impl Tx {
    /// Makes a heard or closed case pending again. False when it was not `from` (a race, or a
    /// case already pending): nothing changes then.
    pub async fn reopen_case(&mut self, case_id: i64, from: &str) -> Result<bool> {
        if !matches!(from, "heard" | "closed") {
            return Err(StoreError::refused("only a heard or closed case is made pending again"));
        }
        let done = sqlx::query("UPDATE cases SET status = 'pending' WHERE id = $1 AND status = $2").bind(case_id).bind(from).execute(&mut *self.tx).await?;
        Ok(done.rows_affected() == 1)
    }

    /// [`Tx::merge_people`], remembering what moved so that [`Tx::undo_merge`] can move it
    /// back. Returns (kept, emptied) references.
    pub async fn merge_people_undoably(&mut self, a: i64, b: i64, by: &str, now: &str) -> Result<(String, String)> {
        let (keep, other) = (a.min(b), a.max(b));
        let id: i64 = sqlx::query_scalar("INSERT INTO person_merges (kept_id, emptied_id, merged_at, merged_by) VALUES ($1, $2, $3, $4) RETURNING id")
            .bind(keep)
            .bind(other)
            .bind(now)
            .bind(by)
            .fetch_one(&mut *self.tx)
            .await?;
        for table in MOVED {
            sqlx::query(sqlx::AssertSqlSafe(format!("INSERT INTO person_merge_rows (merge_id, kind, row_id) SELECT $1, '{table}', id FROM {table} WHERE person_id = $2")))
                .bind(id)
                .bind(other)
                .execute(&mut *self.tx)
                .await?;
        }
        self.merge_people(keep, other).await
    }

    /// Splits merge `merge_id` back: the cases, messages and referrals it moved into `person`
    /// (and still there) return to the record they came from. None when it is not a merge into
    /// `person` still in force. Returns (kept, restored) references.
    pub async fn undo_merge(&mut self, merge_id: i64, person: i64, now: &str) -> Result<Option<(String, String)>> {
        let found = sqlx::query("SELECT g.emptied_id, k.ref AS kept_ref, e.ref AS emptied_ref FROM person_merges g JOIN people k ON k.id = g.kept_id JOIN people e ON e.id = g.emptied_id WHERE g.id = $1 AND g.kept_id = $2 AND g.undone_at IS NULL")
            .bind(merge_id)
            .bind(person)
            .fetch_optional(&mut *self.tx)
            .await?;
        let Some(r) = found else { return Ok(None) };
        let emptied: i64 = r.try_get("emptied_id")?;
        for table in MOVED {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "UPDATE {table} SET person_id = $1 WHERE person_id = $2 AND id IN (SELECT row_id FROM person_merge_rows WHERE merge_id = $3 AND kind = '{table}')"
            )))
            .bind(emptied)
            .bind(person)
            .bind(merge_id)
            .execute(&mut *self.tx)
            .await?;
        }
        sqlx::query("UPDATE person_merges SET undone_at = $1 WHERE id = $2").bind(now).bind(merge_id).execute(&mut *self.tx).await?;
        Ok(Some((r.try_get("kept_ref")?, r.try_get("emptied_ref")?)))
    }
}

impl Store {
    /// The merges into the victim record `person_ref` not undone yet, newest first.
    pub async fn merges_into(&self, person_ref: &str) -> Result<Vec<MergeRow>> {
        let rows = sqlx::query(
            "SELECT g.id, e.ref, g.merged_at, g.merged_by, (SELECT COUNT(*) FROM person_merge_rows r WHERE r.merge_id = g.id AND r.kind = 'cases') AS n \
             FROM person_merges g JOIN people k ON k.id = g.kept_id JOIN people e ON e.id = g.emptied_id WHERE k.ref = $1 AND g.undone_at IS NULL ORDER BY g.id DESC",
        )
        .bind(person_ref)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok(MergeRow { id: r.try_get("id")?, emptied_ref: r.try_get("ref")?, merged_at: r.try_get("merged_at")?, merged_by: r.try_get("merged_by")?, cases: r.try_get("n")? }))
            .collect()
    }
}
