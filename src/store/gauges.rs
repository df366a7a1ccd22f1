//! What the operators' gauges read from the database at each scrape ([`crate::monitor`]): the
//! outbox's rows by status and its oldest row still to send, and the review items waiting. Counts
//! and instants only: nothing of any message or person. Three small indexed or grouped queries.

use super::error::Result;
use super::Store;
use crate::decide::Outcome;
use sqlx::Row;

/// The database's side of the gauges, as stored (instants in [`crate::clock::stamp`]'s form).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Gauges {
    /// Outbox rows per status (`pending`, `sending`, `sent`, `failed`, `refused`), in name order.
    pub outbox: Vec<(String, i64)>,
    /// When the oldest row still to send (pending or being sent) was queued.
    pub oldest_unsent: Option<String>,
    /// Messages in review (waiting for a coordinator).
    pub review: i64,
    /// When the oldest of them was decided.
    pub oldest_review: Option<String>,
}

impl Gauges {
    /// Rows with `status`, 0 when there are none.
    pub fn outbox_rows(&self, status: &str) -> i64 {
        self.outbox.iter().find(|(s, _)| s == status).map_or(0, |(_, n)| *n)
    }
}

/// The outbox statuses of a row not yet handed to the server.
pub const UNSENT: [&str; 2] = ["pending", "sending"];

impl Store {
    /// The gauges' figures now.
    pub async fn gauges(&self) -> Result<Gauges> {
        let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM outbox GROUP BY status ORDER BY status").fetch_all(&self.pool).await?;
        let outbox = rows.iter().map(|r| Ok((r.try_get::<String, _>("status")?, r.try_get::<i64, _>("n")?))).collect::<Result<Vec<_>>>()?;
        let oldest_unsent: Option<String> = sqlx::query("SELECT MIN(created_at) AS t FROM outbox WHERE status IN ($1, $2)").bind(UNSENT[0]).bind(UNSENT[1]).fetch_one(&self.pool).await?.try_get("t")?;
        let r = sqlx::query("SELECT COUNT(*) AS n, MIN(processed_at) AS t FROM messages WHERE outcome = $1").bind(Outcome::Review.as_str()).fetch_one(&self.pool).await?;
        Ok(Gauges { outbox, oldest_unsent, review: r.try_get("n")?, oldest_review: r.try_get("t")? })
    }

    /// Whether the database answers (`/readyz`).
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").fetch_one(&self.pool).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::test_support::{postgres::Postgres, Scratch};

    #[tokio::test(flavor = "current_thread")]
    async fn an_empty_database_has_no_rows_and_no_oldest() {
        let pg = Postgres::start("gauges");
        for pg in [None, pg.as_ref()] {
            let scratch = Scratch::new("gauges");
            let store = crate::store::testing::store_on(pg, &scratch, "gauges").await;
            store.ping().await.unwrap();
            let g = store.gauges().await.unwrap();
            assert_eq!(g, super::Gauges::default());
            assert_eq!(g.outbox_rows("pending"), 0);
        }
    }
}
