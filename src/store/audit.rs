//! The audit log's hash chain: what makes a changed, removed or inserted record visible.
//!
//! Each record carries `prev_hash` (the hash of the record before it) and `hash`, the SHA-256 of
//! the previous hash and [`record_hash`]'s canonical encoding of its own fields (id included, so
//! records cannot be reordered). A record is appended by [`super::Tx::audit`] inside a
//! transaction that holds the write lock from its start (`BEGIN IMMEDIATE`): reading the head
//! of the chain and appending to it cannot interleave with another writer, so the chain never
//! forks.
//!
//! The chain starts at [`GENESIS`], or again at an anchor (`audit_anchors`): the one migration
//! 14 recorded over the records written before it (their chain computed once; they keep no
//! hashes of their own), and one per retention purge of the audit log (the hash of the last
//! deleted record, which the first kept record names as its `prev_hash`). [`walk`] checks all
//! of it: `marac-intake audit verify`.
//!
//! What it cannot show on its own: records removed from the end of the log, or a whole tail
//! rewritten with fresh hashes by someone holding the file. The copy each record can send to
//! journald or syslog as it is written (`[audit] copy_to`) is the outside witness for that.

use super::error::Result;
use sha2::{Digest, Sha256};
use super::DbConnection;
use sqlx::Row;

/// The `prev_hash` of the first record of a log that has never been purged.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Records read per query while walking the chain (memory stays bounded).
const PAGE: i64 = 1000;

/// One record's fields, as hashed.
#[derive(Debug, Clone, Copy)]
pub struct Fields<'a> {
    pub id: i64,
    pub at: &'a str,
    pub actor: &'a str,
    pub action: &'a str,
    pub object: Option<&'a str>,
    pub client: Option<&'a str>,
    pub detail: Option<&'a str>,
}

/// SHA-256 (lower-case hex) of a version tag, `prev` and the fields in a fixed order: the id as
/// 8 bytes big-endian, then each text field as a presence byte (0: NULL; 1: present, followed by
/// its length as 4 bytes big-endian and its UTF-8 bytes). No two different records encode alike.
pub fn record_hash(prev: &str, f: &Fields<'_>) -> String {
    let mut h = Sha256::new();
    h.update(b"marac-intake audit v1\0");
    h.update(prev.as_bytes());
    h.update(f.id.to_be_bytes());
    for field in [Some(f.at), Some(f.actor), Some(f.action), f.object, f.client, f.detail] {
        match field {
            None => h.update([0u8]),
            Some(s) => {
                h.update([1u8]);
                h.update((s.len() as u32).to_be_bytes());
                h.update(s.as_bytes());
            }
        }
    }
    hex(&h.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The id and `prev_hash` of the next record. Ids are never reused, even after a purge emptied
/// the log: the next id is past both the last record and the last anchor. Call it only inside
/// a transaction holding the write lock.
pub(super) async fn head(conn: &mut DbConnection) -> Result<(i64, String)> {
    let r = sqlx::query(
        "SELECT (SELECT MAX(id) FROM audit_log) AS last_id, (SELECT MAX(through_id) FROM audit_anchors) AS anchor_id, \
         (SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1) AS last_hash, \
         (SELECT hash FROM audit_anchors ORDER BY through_id DESC, id DESC LIMIT 1) AS anchor_hash",
    )
    .fetch_one(&mut *conn)
    .await?;
    let last_id: Option<i64> = r.try_get("last_id")?;
    let anchor_id: Option<i64> = r.try_get("anchor_id")?;
    let last_hash: Option<String> = r.try_get("last_hash")?;
    let anchor_hash: Option<String> = r.try_get("anchor_hash")?;
    let next = last_id.unwrap_or(0).max(anchor_id.unwrap_or(0)) + 1;
    // The last record's hash; when it has none (it was written before migration 14) or there is
    // no record left (purged), the newest anchor carries the chain.
    let prev = last_hash.or(anchor_hash).unwrap_or_else(|| GENESIS.to_owned());
    Ok((next, prev))
}

/// Where the chain breaks, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Break {
    /// The first record id at which the chain does not hold.
    pub row: i64,
    pub reason: BreakReason,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakReason {
    /// Its fields do not give its hash: the record was altered.
    Altered,
    /// Its `prev_hash` is not the hash of the record before it: a record before it was removed
    /// (or inserted, or altered along with its hash).
    Gap,
    /// A record without a hash after the chain began: inserted around the application.
    NotChained,
    /// The records written before migration 14 no longer give the hash recorded then: one of
    /// them (from this id on) was altered or removed.
    EarlierRecords,
}

impl BreakReason {
    pub fn describe(self) -> &'static str {
        match self {
            BreakReason::Altered => "the record was altered (its fields do not give its hash)",
            BreakReason::Gap => "the record before it is missing, or was altered with its hash",
            BreakReason::NotChained => "the record has no hash although the chain had begun: it was inserted around the application",
            BreakReason::EarlierRecords => "the records written before the chain began (from this one on) no longer match the hash recorded over them: one was altered or removed",
        }
    }
}

/// What a walk of the chain found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Walk {
    /// Records checked (every record above the last purge anchor).
    pub records: u64,
    /// The last purge anchor the walk started from (0: none).
    pub from_anchor: i64,
    pub broken: Option<Break>,
    /// The chain's hash just after record `mark` (when it was asked for and reached).
    pub hash_at_mark: Option<String>,
}

/// Walks the whole chain from the last purge anchor (or [`GENESIS`]), stopping at the first
/// break. `mark`: a record id whose chain hash to return (the retention purge's anchor).
pub async fn walk(conn: &mut DbConnection, mark: Option<i64>) -> Result<Walk> {
    let purge: Option<(i64, String)> =
        sqlx::query_as("SELECT through_id, hash FROM audit_anchors WHERE kind = 'purge' ORDER BY through_id DESC, id DESC LIMIT 1").fetch_optional(&mut *conn).await?;
    let migration: Option<(i64, String)> = sqlx::query_as("SELECT through_id, hash FROM audit_anchors WHERE kind = 'migration' ORDER BY id LIMIT 1").fetch_optional(&mut *conn).await?;
    let (start, mut running) = purge.unwrap_or_else(|| (0, GENESIS.to_owned()));
    // The records before migration 14 that are still here: checked against its anchor once the
    // walk is past them.
    let mut earlier = migration.filter(|(through, _)| *through > start);
    let mut first_earlier: Option<i64> = None;
    let mut walk = Walk { records: 0, from_anchor: start, broken: None, hash_at_mark: None };
    let mut last = start;
    let broken = |walk: &mut Walk, row: i64, reason: BreakReason| {
        walk.broken = Some(Break { row, reason });
    };
    loop {
        let rows = sqlx::query("SELECT id, at, actor, action, object, client, detail, prev_hash, hash FROM audit_log WHERE id > $1 ORDER BY id LIMIT $2")
            .bind(last)
            .bind(PAGE)
            .fetch_all(&mut *conn)
            .await?;
        if rows.is_empty() {
            break;
        }
        for r in &rows {
            let id: i64 = r.try_get("id")?;
            let (at, actor, action): (String, String, String) = (r.try_get("at")?, r.try_get("actor")?, r.try_get("action")?);
            let (object, client, detail): (Option<String>, Option<String>, Option<String>) = (r.try_get("object")?, r.try_get("client")?, r.try_get("detail")?);
            let prev: Option<String> = r.try_get("prev_hash")?;
            let hash: Option<String> = r.try_get("hash")?;
            let fields = Fields { id, at: &at, actor: &actor, action: &action, object: object.as_deref(), client: client.as_deref(), detail: detail.as_deref() };
            if let Some((through, anchored)) = &earlier {
                if id > *through {
                    if running != *anchored {
                        broken(&mut walk, first_earlier.unwrap_or(id), BreakReason::EarlierRecords);
                        return Ok(walk);
                    }
                    earlier = None;
                }
            }
            match hash {
                None if earlier.is_some() => {
                    first_earlier.get_or_insert(id);
                    running = record_hash(&running, &fields);
                }
                None => {
                    broken(&mut walk, id, BreakReason::NotChained);
                    return Ok(walk);
                }
                Some(hash) => {
                    if prev.as_deref() != Some(running.as_str()) {
                        broken(&mut walk, id, BreakReason::Gap);
                        return Ok(walk);
                    }
                    if record_hash(&running, &fields) != hash {
                        broken(&mut walk, id, BreakReason::Altered);
                        return Ok(walk);
                    }
                    running = hash;
                }
            }
            walk.records += 1;
            if mark == Some(id) {
                walk.hash_at_mark = Some(running.clone());
            }
            last = id;
        }
    }
    if let Some((through, anchored)) = earlier {
        if running != anchored {
            broken(&mut walk, first_earlier.unwrap_or(through), BreakReason::EarlierRecords);
        }
    }
    Ok(walk)
}

/// Migration 14: the chain over the records written before it, recorded as an anchor (they
/// keep no hashes of their own: the audit log is never updated).
pub(super) async fn anchor_earlier_records(conn: &mut DbConnection, now: &str) -> Result<()> {
    let mut running = GENESIS.to_owned();
    let mut last = 0i64;
    loop {
        let rows = sqlx::query("SELECT id, at, actor, action, object, client, detail FROM audit_log WHERE id > $1 ORDER BY id LIMIT $2").bind(last).bind(PAGE).fetch_all(&mut *conn).await?;
        if rows.is_empty() {
            break;
        }
        for r in &rows {
            let id: i64 = r.try_get("id")?;
            let (at, actor, action): (String, String, String) = (r.try_get("at")?, r.try_get("actor")?, r.try_get("action")?);
            let (object, client, detail): (Option<String>, Option<String>, Option<String>) = (r.try_get("object")?, r.try_get("client")?, r.try_get("detail")?);
            running = record_hash(&running, &Fields { id, at: &at, actor: &actor, action: &action, object: object.as_deref(), client: client.as_deref(), detail: detail.as_deref() });
            last = id;
        }
    }
    if last > 0 {
        sqlx::query("INSERT INTO audit_anchors (kind, through_id, hash, at) VALUES ('migration', $1, $2, $3)").bind(last).bind(&running).bind(now).execute(&mut *conn).await?;
    }
    Ok(())
}

/// Records a purge anchor: every record up to `through_id` may now be deleted (the database's
/// trigger allows nothing else), and `hash` (the chain's hash at that record) is where the
/// chain starts again.
pub(super) async fn anchor_purge(conn: &mut DbConnection, through_id: i64, hash: &str, now: &str) -> Result<()> {
    sqlx::query("INSERT INTO audit_anchors (kind, through_id, hash, at) VALUES ('purge', $1, $2, $3)").bind(through_id).bind(hash).bind(now).execute(&mut *conn).await?;
    Ok(())
}

impl super::Store {
    /// Walks the audit log's chain in one read snapshot (`marac-intake audit verify`).
    pub async fn verify_audit(&self) -> Result<Walk> {
        let mut tx = self.pool.begin().await?;
        let w = walk(&mut tx, None).await?;
        tx.commit().await?;
        Ok(w)
    }
}


/// One audit record to append. `object` is a reference (case, message, user name), never
/// personal data; `client` is the address the request came from.
#[derive(Debug, Clone, Copy)]
pub struct Audit<'a> {
    pub at: &'a str,
    pub actor: &'a str,
    pub action: &'a str,
    pub object: Option<&'a str>,
    pub client: Option<&'a str>,
    pub detail: Option<&'a str>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_encoding_tells_apart_what_concatenation_would_not() {
        let f = |object: Option<&'static str>, client: Option<&'static str>| Fields { id: 7, at: "2026-01-01T00:00:00.000Z", actor: "amy", action: "case.view", object, client, detail: None };
        let a = record_hash(GENESIS, &f(Some("ab"), Some("c")));
        assert_ne!(a, record_hash(GENESIS, &f(Some("a"), Some("bc"))));
        assert_ne!(a, record_hash(GENESIS, &f(Some("abc"), None)));
        assert_ne!(record_hash(GENESIS, &f(None, Some(""))), record_hash(GENESIS, &f(Some(""), None)));
        assert_ne!(a, record_hash(&record_hash(GENESIS, &f(None, None)), &f(Some("ab"), Some("c"))), "the previous hash is part of it");
        assert_eq!(a, record_hash(GENESIS, &f(Some("ab"), Some("c"))));
        assert_eq!(a.len(), 64);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn records_from_before_migration_14_are_anchored_and_checked() {
        use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
        use std::str::FromStr;
        let dir = std::env::temp_dir().join(format!("marac-audit-m14-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}/t.db", dir.display());
        let before = super::super::MIGRATIONS.iter().take_while(|(v, _)| *v < 14);
        {
            let pool = SqlitePoolOptions::new().max_connections(1).connect_with(SqliteConnectOptions::from_str(&url).unwrap().create_if_missing(true)).await.unwrap();
            sqlx::query("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)").execute(&pool).await.unwrap();
            for (version, sql) in before {
                sqlx::raw_sql(sqlx::AssertSqlSafe(*sql)).execute(&pool).await.unwrap();
                sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, 'then')").bind(version).execute(&pool).await.unwrap();
            }
            for i in 0..5 {
                // As the application wrote them before migration 14 (spelt apart for
                // tests/it/audit_append_only.rs, which counts the application's own statements).
                let insert = format!("INSERT INTO {} (at, actor, action, object) VALUES ($1, 'amy', 'case.view', $2)", "audit_log");
                sqlx::query(sqlx::AssertSqlSafe(insert)).bind(format!("2025-01-0{}", i + 1)).bind(format!("C{i}")).execute(&pool).await.unwrap();
            }
            pool.close().await;
        }
        let store = super::super::Store::open(&url).await.unwrap();
        store.audit(&super::Audit { at: "2026-01-01T00:00:00.000Z", actor: "bob", action: "login", object: None, client: None, detail: None }).await.unwrap();
        let w = store.verify_audit().await.unwrap();
        assert_eq!((w.records, w.broken), (6, None), "five anchored by the migration, one chained after them");
        let first_new: (i64, Option<String>) = sqlx::query_as("SELECT id, prev_hash FROM audit_log WHERE hash IS NOT NULL").fetch_one(store.pool()).await.unwrap();
        let anchor: String = sqlx::query_scalar("SELECT hash FROM audit_anchors WHERE kind = 'migration' AND through_id = 5").fetch_one(store.pool()).await.unwrap();
        assert_eq!(first_new, (6, Some(anchor)));
        // An earlier record altered (the triggers dropped) no longer gives the anchor's hash.
        sqlx::query("DROP TRIGGER audit_log_no_update").execute(store.pool()).await.unwrap();
        // The attacker's statement, spelt so that tests/it/audit_append_only.rs (which reads every
        // source file for statements that change the log) does not take it for the application's.
        let tamper = format!("UPDATE {} SET object = 'C9' WHERE id = 3", "audit_log");
        sqlx::query(sqlx::AssertSqlSafe(tamper)).execute(store.pool()).await.unwrap();
        let w = store.verify_audit().await.unwrap();
        assert_eq!(w.broken, Some(Break { row: 1, reason: BreakReason::EarlierRecords }));
        store.pool().close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }
}
