//! The store on a real PostgreSQL (issue 14): the schema made in an empty database, and the
//! triage scenarios, the queue and the accounts working there as on SQLite. Skipped, saying so,
//! where PostgreSQL is not installed; `.ci/run` installs it.

use crate::support::postgres::Postgres;
use crate::support::{store_on, Scratch};
use marac_intake::decide::Outcome;
use marac_intake::store::Backend;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_postgresql_database_gets_the_schema_and_keeps_a_triaged_referral() {
    let Some(pg) = Postgres::start("schema") else { return };
    let scratch = Scratch::new("pg-schema");
    let store = store_on(Some(&pg), &scratch, "intake").await;
    assert_eq!(store.backend(), Backend::Postgres);
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let cfg = marac_intake::config::load(&root.join("config/samples.toml"), Vec::<(String, String)>::new()).unwrap();
    let raw = std::fs::read(root.join("fixtures/triage/001_police_seed_victim_l_accept15.eml")).unwrap();
    let now = chrono::DateTime::parse_from_rfc3339("2025-01-06T12:00:00+00:00").unwrap();
    let record = marac_intake::triage::triage_message(&raw, Some("001.eml"), None, now, &cfg, &store).await.unwrap_or_else(|e| panic!("{e}\n{}", pg.log()));
    assert_eq!(record.outcome, Outcome::Accepted, "{:?}", record.reasons);
    assert_eq!(store.message_source(&record.reference).await.unwrap().unwrap(), raw, "kept, sealed, read back");
    // Opened again: every migration is recorded, none runs twice.
    drop(store);
    let keys = marac_intake::crypto::Keys { database: marac_intake::crypto::Key::generate(), data: marac_intake::crypto::Key::generate() };
    let again = marac_intake::store::Store::open_with(&pg.url("intake"), &keys, &marac_intake::clock::Clock::system()).await.unwrap();
    assert_eq!(again.history().await.unwrap().len(), 1);
}

/// The audit log on PostgreSQL: records appended by eight writers at once form one chain that
/// verifies, and the database itself refuses to change or delete one (its triggers).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_chain_holds_under_concurrent_writers_and_its_records_cannot_be_changed() {
    use marac_intake::store::accounts::Audit;
    let Some(pg) = Postgres::start("audit") else { return };
    let scratch = Scratch::new("pg-audit");
    let store = store_on(Some(&pg), &scratch, "audit").await;
    let mut writers = Vec::new();
    for w in 0..8 {
        let store = store.clone();
        writers.push(tokio::spawn(async move {
            for i in 0..20 {
                let at = format!("2026-03-01T11:00:{i:02}.000Z");
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
    let walk = store.verify_audit().await.unwrap();
    assert_eq!((walk.records, walk.broken), (160, None));
    let update = sqlx::query("UPDATE audit_log SET actor = 'someone else' WHERE id = 2").execute(store.pool()).await.unwrap_err();
    assert!(update.to_string().contains("append-only"), "{update}");
    let delete = sqlx::query("DELETE FROM audit_log WHERE id = 3").execute(store.pool()).await.unwrap_err();
    assert!(delete.to_string().contains("retention purge"), "{delete}");
    sqlx::query("INSERT INTO audit_anchors (kind, through_id, hash, at) VALUES ('purge', 1, 'x', 'now')").execute(store.pool()).await.unwrap();
    let anchors = sqlx::query("DELETE FROM audit_anchors").execute(store.pool()).await.unwrap_err();
    assert!(anchors.to_string().contains("append-only"), "{anchors}");
}

/// PostgreSQL stopped under the store (at once, as a crash), then started again: what fails
/// meanwhile is said to be worth retrying (the mailbox then tries again; nothing is parked), and the store
/// works again once the server is back, with what was committed before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_server_is_retried_and_the_store_goes_on() {
    use marac_intake::store::Action;
    let Some(pg) = Postgres::start("restart") else { return };
    let scratch = Scratch::new("pg-restart");
    let store = store_on(Some(&pg), &scratch, "restart").await;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let cfg = marac_intake::config::load(&root.join("config/samples.toml"), Vec::<(String, String)>::new()).unwrap();
    let now = chrono::DateTime::parse_from_rfc3339("2025-01-06T12:00:00+00:00").unwrap();
    let first = std::fs::read(root.join("fixtures/triage/001_police_seed_victim_l_accept15.eml")).unwrap();
    marac_intake::triage::triage_message(&first, Some("001.eml"), None, now, &cfg, &store).await.unwrap();
    pg.stop_now();
    let second = std::fs::read(root.join("fixtures/triage/002_nhs_seed_victim_w_accept16.eml")).unwrap();
    let down = marac_intake::triage::triage_message(&second, Some("002.eml"), None, now, &cfg, &store).await.err().expect("no database, no decision");
    assert_eq!(down.action(), Action::Retry, "{down}");
    pg.start_again();
    let mut failures = Vec::new();
    let mut decided = None;
    for _ in 0..20 {
        match marac_intake::triage::triage_message(&second, Some("002.eml"), None, now, &cfg, &store).await {
            Ok(r) => {
                decided = Some(r);
                break;
            }
            Err(e) => failures.push((e.action(), e.to_string())),
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert!(failures.iter().all(|(a, _)| *a == Action::Retry), "every failure while the server was away is retried: {failures:?}");
    let decided = decided.unwrap_or_else(|| panic!("decided once the server is back: {failures:?}\n{}", pg.log()));
    assert_eq!(decided.outcome, Outcome::Accepted);
    assert_eq!(store.history().await.unwrap().len(), 2, "the first, committed before the restart, is still there; the second once");
}

/// The commands on PostgreSQL (`--db postgres://...`, the keys from `[storage]`): `triage --json`
/// of the triage scenarios prints what it prints on SQLite, and `history --json` reads them back.
#[test]
fn the_commands_print_the_same_on_postgresql_as_on_sqlite() {
    let Some(pg) = Postgres::start("commands") else { return };
    let scratch = Scratch::new("pg-commands");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let keys = marac_intake::crypto::Keys { database: marac_intake::crypto::Key::generate(), data: marac_intake::crypto::Key::generate() };
    let (db_key, data_key) = (scratch.path().join("db-key"), scratch.path().join("data-key"));
    std::fs::write(&db_key, keys.database.to_hex()).unwrap();
    std::fs::write(&data_key, keys.data.to_hex()).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let url = rt.block_on(pg.database("commands"));
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(root.join("fixtures/triage")).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "eml")).collect();
    files.sort();
    let run = |db: &str, args: &[&str], with_files: bool| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_marac-intake"));
        c.args(args).arg("--config").arg(root.join("config/samples.toml")).args(["--db", db]).args(["--json"]);
        c.env("MARAC__STORAGE__DB_KEY_FILE", &db_key).env("MARAC__STORAGE__DATA_KEY_FILE", &data_key);
        if with_files {
            c.args(&files);
        }
        let out = c.output().unwrap();
        assert!(out.status.success(), "{args:?} on {db}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let sqlite = format!("sqlite://{}/t.db", scratch.path().display());
    let on_sqlite = run(&sqlite, &["triage"], true);
    let on_postgres = run(&url, &["triage"], true);
    assert_eq!(on_sqlite.lines().count(), files.len());
    // The instants the commands stamp (`arrived` is the message's own) are the same; the lists equal.
    assert_eq!(on_postgres, on_sqlite, "triage --json on PostgreSQL and on SQLite");
    assert_eq!(run(&url, &["history"], false), run(&sqlite, &["history"], false));
    let redacted = marac_intake::store::redacted("postgres://marac:secret@127.0.0.1:1/x");
    assert_eq!(redacted, "postgres://marac@127.0.0.1:1/x", "a password is never printed");
}
