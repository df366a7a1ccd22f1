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

/// Two instances (two stores, as two `run`s) watch one mailbox on one PostgreSQL and one Dovecot:
/// one holds the mailbox's lease and decides what arrives, each message once; when it dies
/// (its task dropped: its lease's connection ends) the other takes over within 30 s and decides
/// what arrives next, and nothing is decided twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_instance_takes_the_mailbox_over_when_the_first_dies() {
    use crate::support::mailservers::Dovecot;
    use std::time::{Duration, Instant};
    let Some(pg) = Postgres::start("instances") else { return };
    let server = Dovecot::start(&["marac"]);
    let url = pg.database("instances").await;
    let keys = marac_intake::crypto::Keys { database: marac_intake::crypto::Key::generate(), data: marac_intake::crypto::Key::generate() };
    let clock = marac_intake::clock::Clock::system();
    let a = marac_intake::store::Store::open_with(&url, &keys, &clock).await.unwrap();
    let b = marac_intake::store::Store::open_with(&url, &keys, &clock).await.unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let env: Vec<(String, String)> = [
        ("MARAC__IMAP__HOST", "127.0.0.1".to_owned()),
        ("MARAC__IMAP__PORT", server.imaps_port.to_string()),
        ("MARAC__IMAP__TLS", "implicit".to_owned()),
        ("MARAC__IMAP__USERNAME", "marac".to_owned()),
        ("MARAC__IMAP__PASSWORD_FILE", server.password_file.display().to_string()),
        ("MARAC__IMAP__CA_FILE", server.ca_file.display().to_string()),
        ("MARAC__IMAP__IDLE_SECS", "2".to_owned()),
        ("MARAC__IMAP__POLL_SECS", "2".to_owned()),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.clone()))
    .collect();
    let cfg = std::sync::Arc::new(marac_intake::config::load(&root.join("config/samples.toml"), env).unwrap());
    let watch = |store: marac_intake::store::Store, stop: tokio_util::sync::CancellationToken| {
        let cfg = cfg.clone();
        tokio::spawn(async move { marac_intake::mailbox::watch(&cfg, &store, &marac_intake::clock::Clock::system(), &tokio::sync::Notify::new(), stop).await })
    };
    let files = ["001_police_seed_victim_l_accept15.eml", "002_nhs_seed_victim_w_accept16.eml", "015_police_victim_h_accept17.eml", "017_police_victim_i_accept15.eml", "021_nhs_victim_v_accept16.eml"];
    let deliver = |file: &str| {
        let raw = std::fs::read(root.join("fixtures/triage").join(file)).unwrap();
        let server = &server;
        async move { server.append("marac", "INBOX", &raw, chrono::Utc::now().fixed_offset()).await }
    };
    let decided = |store: marac_intake::store::Store, n: usize| async move {
        let until = Instant::now() + Duration::from_secs(60);
        while Instant::now() < until {
            if store.history().await.unwrap().len() >= n {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        false
    };

    // A first, alone: it takes the lease and decides the first two.
    let stop_a = tokio_util::sync::CancellationToken::new();
    let task_a = watch(a.clone(), stop_a.clone());
    deliver(files[0]).await;
    deliver(files[1]).await;
    assert!(decided(a.clone(), 2).await, "the first instance decides what arrives");
    // B starts beside it: it waits, the lease being A's.
    let stop_b = tokio_util::sync::CancellationToken::new();
    let task_b = watch(b.clone(), stop_b.clone());
    deliver(files[2]).await;
    assert!(decided(a.clone(), 3).await);
    let lease = format!("mailbox {}", marac_intake::config::areas::mailbox_key(cfg.file.imap.as_ref()));
    assert!(b.lease(&lease).await.unwrap().is_none(), "the mailbox's lease is A's while A lives");
    // A dies: its task is dropped mid-watch, its lease's connection with it.
    task_a.abort();
    let died = Instant::now();
    deliver(files[3]).await;
    deliver(files[4]).await;
    assert!(decided(b.clone(), 5).await, "the second instance takes over");
    let takeover = died.elapsed();
    assert!(takeover < Duration::from_secs(30), "taken over in {takeover:?}");
    eprintln!("takeover after the holder died: {} ms", takeover.as_millis());

    assert!(a.lease(&lease).await.unwrap().is_none(), "and B's now");
    let history = b.history().await.unwrap();
    assert_eq!(history.len(), 5, "each message decided once");
    let mut ids: Vec<_> = history.iter().map(|r| r.message_id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 5, "no message decided twice");
    assert!(server.list_folder("marac", "INBOX").await.is_empty(), "everything filed");
    stop_b.cancel();
    tokio::time::timeout(Duration::from_secs(30), task_b).await.expect("B stops on shutdown").unwrap().unwrap();
    drop(stop_a);
}
