//! The rule sections admins change in the web console, kept in `rule_versions` and layered over
//! the configuration file (see [`crate::config::RuleLayer`]). Append-only: a change, a restore
//! and a return to the file's section each add a row, in the same transaction as its audit record.

use super::audit::Audit;
use super::Store;
use crate::config::RuleLayer;
use super::error::Result;
use sqlx::Row;

/// One version of one section.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RuleVersion {
    pub id: i64,
    pub section: String,
    /// The section's TOML; None: the file's section was put back.
    pub body: Option<String>,
    pub changed_at: String,
    pub changed_by: String,
}

/// What became of a change.
#[derive(Debug, Clone, PartialEq)]
pub enum RuleChange {
    /// Stored as this version.
    Saved(i64),
    /// The section changed since the admin read it (`base`): nothing was stored.
    Stale(RuleVersion),
}

fn version(r: &super::DbRow) -> Result<RuleVersion> {
    Ok(RuleVersion {
        id: r.try_get("id")?,
        section: r.try_get("section")?,
        body: r.try_get("body")?,
        changed_at: r.try_get("changed_at")?,
        changed_by: r.try_get("changed_by")?,
    })
}

const SELECT: &str = "SELECT id, section, body, changed_at, changed_by FROM rule_versions";

impl Store {
    /// The sections in force from the database, and the newest change's number.
    pub async fn rule_layer(&self) -> Result<RuleLayer> {
        let mut layer = RuleLayer { version: self.rules_version().await?, ..RuleLayer::default() };
        for head in self.rule_heads().await? {
            if let Some(body) = head.body {
                layer.sections.insert(head.section, body);
            }
        }
        Ok(layer)
    }

    /// The newest version of each section ever changed (body None: it is the file's again).
    pub async fn rule_heads(&self) -> Result<Vec<RuleVersion>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SELECT} r WHERE r.id = (SELECT MAX(l.id) FROM rule_versions l WHERE l.section = r.section) ORDER BY r.section"
        )))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(version).collect()
    }

    /// The newest change's number (0: no change yet). Cheap: the service asks every few seconds.
    pub async fn rules_version(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM rule_versions").fetch_one(self.pool()).await?)
    }

    /// A section's versions, newest first.
    pub async fn rule_history(&self, section: &str, limit: i64) -> Result<Vec<RuleVersion>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("{SELECT} WHERE section = $1 ORDER BY id DESC LIMIT $2"))).bind(section).bind(limit).fetch_all(self.pool()).await?;
        rows.iter().map(version).collect()
    }

    pub async fn rule_version(&self, id: i64) -> Result<Option<RuleVersion>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{SELECT} WHERE id = $1"))).bind(id).fetch_optional(self.pool()).await?;
        row.as_ref().map(version).transpose()
    }

    /// Stores a new version of `section` (`body` None: back to the file's) unless the section
    /// changed since version `base` (0: it had none) was read. The audit record (object: the
    /// section; detail: the version and `note`) commits with it.
    pub async fn change_rule(&self, section: &str, body: Option<&str>, base: i64, note: &str, audit: Audit<'_>) -> Result<RuleChange> {
        let mut tx = self.begin().await?;
        let newest = sqlx::query(sqlx::AssertSqlSafe(format!("{SELECT} WHERE section = $1 ORDER BY id DESC LIMIT 1"))).bind(section).fetch_optional(&mut *tx.tx).await?;
        if let Some(newest) = newest.as_ref().map(version).transpose()? {
            if newest.id != base {
                return Ok(RuleChange::Stale(newest));
            }
        }
        let id: i64 = sqlx::query_scalar("INSERT INTO rule_versions (section, body, changed_at, changed_by) VALUES ($1, $2, $3, $4) RETURNING id")
            .bind(section)
            .bind(body)
            .bind(audit.at)
            .bind(audit.actor)
            .fetch_one(&mut *tx.tx)
            .await?;
        let detail = format!("version {id}: {note}");
        tx.audit(&Audit { object: Some(section), detail: Some(&detail), ..audit }).await?;
        tx.commit().await?;
        Ok(RuleChange::Saved(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{postgres::Postgres, Scratch};
    use crate::store::testing::store_on;

    fn audit<'a>(at: &'a str) -> Audit<'a> {
        Audit { at, actor: "boss", action: "rules.change", object: None, client: Some("127.0.0.1"), detail: None }
    }

    #[tokio::test]
    async fn versions_layer_stay_and_a_stale_change_is_refused() {
        let pg = Postgres::start("rules");
        for pg in [None, pg.as_ref()] {
            let scratch = Scratch::new("rules");
            let store = store_on(pg, &scratch, "rules").await;
            assert_eq!(store.rule_layer().await.unwrap(), RuleLayer::default());

            let first = store.change_rule("threshold", Some("dash_score = 12"), 0, "saved", audit("2026-12-01T10:00:00.000Z")).await.unwrap();
            let RuleChange::Saved(v1) = first else { panic!("{first:?}") };
            let v2 = match store.change_rule("folders", Some("review = \"R\""), 0, "saved", audit("2026-12-01T10:01:00.000Z")).await.unwrap() {
                RuleChange::Saved(v) => v,
                other => panic!("{other:?}"),
            };
            let layer = store.rule_layer().await.unwrap();
            assert_eq!(layer.version, v2);
            assert_eq!(layer.sections.get("threshold").map(String::as_str), Some("dash_score = 12"));

            // Someone who read the threshold before v1 is refused, and nothing is stored.
            let stale = store.change_rule("threshold", Some("dash_score = 13"), 0, "saved", audit("2026-12-01T10:02:00.000Z")).await.unwrap();
            assert!(matches!(&stale, RuleChange::Stale(v) if v.id == v1 && v.changed_by == "boss"), "{stale:?}");
            assert_eq!(store.rules_version().await.unwrap(), v2);

            // Back to the file's section: the section leaves the layer, its versions stay.
            let RuleChange::Saved(v3) = store.change_rule("threshold", None, v1, "the file's section", audit("2026-12-01T10:03:00.000Z")).await.unwrap() else { panic!() };
            let layer = store.rule_layer().await.unwrap();
            assert_eq!((layer.version, layer.sections.contains_key("threshold")), (v3, false));
            let history = store.rule_history("threshold", 10).await.unwrap();
            assert_eq!(history.iter().map(|v| (v.id, v.body.clone())).collect::<Vec<_>>(), vec![(v3, None), (v1, Some("dash_score = 12".into()))]);
            assert_eq!(store.rule_version(v1).await.unwrap().unwrap().body.as_deref(), Some("dash_score = 12"));

            // Every stored change has its audit record; the refused one has none.
            let log = store.audit_log(10).await.unwrap();
            let changes: Vec<(Option<&str>, Option<&str>)> = log.iter().filter(|e| e.action == "rules.change").map(|e| (e.object.as_deref(), e.detail.as_deref())).collect();
            let (d1, d2, d3) = (format!("version {v1}: saved"), format!("version {v2}: saved"), format!("version {v3}: the file's section"));
            assert_eq!(changes, vec![(Some("threshold"), Some(d3.as_str())), (Some("folders"), Some(d2.as_str())), (Some("threshold"), Some(d1.as_str()))]);
        }
    }
}
