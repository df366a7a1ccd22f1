//! The audit log is tamper-evident: every record is chained to the one before it by SHA-256, and
//! `marac-intake audit verify` walks the chain.
//! - a fresh log and a busy one (many writers at once) verify, every record counted;
//! - the database refuses to update or delete a record (its triggers);
//! - someone with the file who drops the triggers and alters one record, or deletes one in the
//!   middle, is caught: verify names the record and exits non-zero.
//!
//! Each test runs on SQLite, then on a real PostgreSQL when it is installed.

use crate::support::postgres::Postgres;
use crate::support::TestDb;
use marac_intake::store::accounts::Audit;
use marac_intake::store::audit::BreakReason;
use marac_intake::store::Store;

async fn write(store: &Store, n: usize) {
    for i in 0..n {
        let at = format!("2026-03-01T10:{:02}:{:02}.000Z", i / 60 % 60, i % 60);
        let object = format!("MARAC-2026-{i:04}");
        store.audit(&Audit { at: &at, actor: "amy", action: "case.view", object: Some(&object), client: Some("127.0.0.1"), detail: None }).await.unwrap();
    }
}

/// What an attacker with the database can do: plain SQL, the triggers dropped.
async fn tamper(db: &TestDb, sql: &str) {
    // The file is encrypted at rest: the attacker here holds its key too (the worst case), so the
    // store's own opening gives the connection, on which plain SQL runs. On PostgreSQL: the
    // database owner's rights.
    let store = db.open().await;
    let pool = store.pool().clone();
    let on = if db.is_postgres() { " ON audit_log" } else { "" };
    for trigger in ["audit_log_no_update", "audit_log_delete_only_purged"] {
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP TRIGGER {trigger}{on}"))).execute(&pool).await.unwrap();
    }
    let done = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned())).execute(&pool).await.unwrap();
    assert_eq!(done.rows_affected(), 1, "{sql}");
    pool.close().await;
}

fn verify_cli(db: &TestDb) -> (i32, String) {
    // `audit verify` needs only a configuration to read; the database is given.
    let out = db.command(&["audit", "verify"]).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_and_a_busy_log_verify_with_every_record_counted() {
    let pg = Postgres::start("audit_busy");
    for pg in [None, pg.as_ref()] {
        let db = TestDb::new(pg, "audit_busy").await;
        let store = db.open().await;
        let fresh = store.verify_audit().await.unwrap();
        assert_eq!((fresh.records, fresh.broken), (0, None));

        // Eight writers at once, 40 records each, some inside a change's own transaction.
        let mut writers = Vec::new();
        for w in 0..8 {
            let store = store.clone();
            writers.push(tokio::spawn(async move {
                for i in 0..40 {
                    let at = format!("2026-03-01T11:00:{:02}.000Z", i);
                    let actor = format!("user{w}");
                    let a = Audit { at: &at, actor: &actor, action: "queue.view", object: None, client: Some("10.0.0.1"), detail: None };
                    if i % 2 == 0 {
                        store.audit(&a).await.unwrap();
                    } else {
                        let mut tx = store.begin().await.unwrap();
                        tx.audit(&a).await.unwrap();
                        tx.commit().await.unwrap();
                    }
                }
            }));
        }
        for w in writers {
            w.await.unwrap();
        }
        let busy = store.verify_audit().await.unwrap();
        assert_eq!((busy.records, busy.broken), (320, None));
        let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM audit_log ORDER BY id").fetch_all(store.pool()).await.unwrap();
        assert_eq!(ids, (1..=320).collect::<Vec<i64>>(), "one unbroken run of ids: no fork, no gap");
        store.pool().close().await;
        let (code, out) = verify_cli(&db);
        assert_eq!(code, 0, "{out}");
        assert!(out.starts_with("OK: 320 audit records"), "{out}");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn the_database_refuses_to_update_or_delete_a_record() {
    let pg = Postgres::start("audit_triggers");
    for pg in [None, pg.as_ref()] {
        let db = TestDb::new(pg, "audit_triggers").await;
        let store = db.open().await;
        write(&store, 3).await;
        let update = sqlx::query("UPDATE audit_log SET actor = 'someone else' WHERE id = 2").execute(store.pool()).await.unwrap_err();
        assert!(update.to_string().contains("append-only"), "{update}");
        let delete = sqlx::query("DELETE FROM audit_log WHERE id = 3").execute(store.pool()).await.unwrap_err();
        assert!(delete.to_string().contains("retention purge"), "{delete}");
        let anchor = sqlx::query("INSERT INTO audit_anchors (kind, through_id, hash, at) VALUES ('purge', 3, 'x', 'now')").execute(store.pool()).await;
        assert!(anchor.is_ok(), "an anchor is appended like a record");
        let anchors = sqlx::query("DELETE FROM audit_anchors").execute(store.pool()).await.unwrap_err();
        assert!(anchors.to_string().contains("append-only"), "{anchors}");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn an_altered_record_is_named_by_verify() {
    let pg = Postgres::start("audit_altered");
    for pg in [None, pg.as_ref()] {
        let db = TestDb::new(pg, "audit_altered").await;
        let store = db.open().await;
        write(&store, 100).await;
        store.pool().close().await;
        assert_eq!(verify_cli(&db).0, 0);

        tamper(&db, "UPDATE audit_log SET object = 'MARAC-2026-9999' WHERE id = 57").await;
        let store = db.open().await;
        let w = store.verify_audit().await.unwrap();
        assert_eq!(w.broken.map(|b| (b.row, b.reason)), Some((57, BreakReason::Altered)));
        assert_eq!(w.records, 56, "the records before it hold");
        store.pool().close().await;
        let (code, out) = verify_cli(&db);
        assert_eq!(code, 1, "{out}");
        assert!(out.starts_with("BROKEN at audit record 57:"), "{out}");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_record_altered_with_a_fresh_hash_breaks_the_next_link() {
    let pg = Postgres::start("audit_rehashed");
    for pg in [None, pg.as_ref()] {
        let db = TestDb::new(pg, "audit_rehashed").await;
        let store = db.open().await;
        write(&store, 10).await;
        // The attacker recomputes record 4's hash after changing it: record 5 no longer follows.
        let (prev, at): (String, String) = sqlx::query_as("SELECT prev_hash, at FROM audit_log WHERE id = 4").fetch_one(store.pool()).await.unwrap();
        let forged = marac_intake::store::audit::record_hash(
            &prev,
            &marac_intake::store::audit::Fields { id: 4, at: &at, actor: "amy", action: "case.view", object: Some("MARAC-2026-0000"), client: Some("127.0.0.1"), detail: None },
        );
        store.pool().close().await;
        tamper(&db, &format!("UPDATE audit_log SET object = 'MARAC-2026-0000', hash = '{forged}' WHERE id = 4")).await;
        let store = db.open().await;
        let w = store.verify_audit().await.unwrap();
        assert_eq!(w.broken.map(|b| (b.row, b.reason)), Some((5, BreakReason::Gap)));
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_record_deleted_in_the_middle_is_caught() {
    let pg = Postgres::start("audit_deleted");
    for pg in [None, pg.as_ref()] {
        let db = TestDb::new(pg, "audit_deleted").await;
        let store = db.open().await;
        write(&store, 50).await;
        store.pool().close().await;
        tamper(&db, "DELETE FROM audit_log WHERE id = 20").await;
        let store = db.open().await;
        let w = store.verify_audit().await.unwrap();
        assert_eq!(w.broken.map(|b| (b.row, b.reason)), Some((21, BreakReason::Gap)), "the record after the gap is named");
        // New records still append (the chain goes on from the last record); the break stays.
        write(&store, 1).await;
        assert_eq!(store.verify_audit().await.unwrap().broken.map(|b| b.row), Some(21));
        store.pool().close().await;
        let (code, out) = verify_cli(&db);
        assert_eq!(code, 1, "{out}");
        assert!(out.contains("record 21"), "{out}");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_record_inserted_around_the_application_is_caught() {
    let pg = Postgres::start("audit_inserted");
    for pg in [None, pg.as_ref()] {
        let db = TestDb::new(pg, "audit_inserted").await;
        let store = db.open().await;
        write(&store, 5).await;
        sqlx::query("INSERT INTO audit_log (id, at, actor, action) VALUES (6, '2026-03-01T12:00:00.000Z', 'amy', 'case.view')").execute(store.pool()).await.unwrap();
        let w = store.verify_audit().await.unwrap();
        assert_eq!(w.broken.map(|b| (b.row, b.reason)), Some((6, BreakReason::NotChained)));
    }
}
