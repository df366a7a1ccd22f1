//! The mailbox service against a real Dovecot started by the harness on 127.0.0.1: the shared
//! samples (or the repository's fixtures) APPENDed with their arrival dates, one `ingest_pass`,
//! then every message has exactly one decision and sits in the folder of its outcome, the inbox is
//! empty, and a second pass changes nothing. Also: the server certificate is verified against the
//! harness CA, and STARTTLS without `ca_file` is refused.

use crate::support;
use crate::support::postgres::Postgres;

use chrono::{DateTime, FixedOffset};
use marac_intake::clock::Clock;
use marac_intake::config::{self, Config};
use marac_intake::mailbox::{connect, folder_for, ingest_pass, watch, MailboxError, PassSummary};
use marac_intake::store::Action;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use marac_intake::decide::{Outcome, ReplyKind};
use marac_intake::store::Store;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use support::mailservers::{Dovecot, Introspection};

const USER: &str = "marac";

fn manifest() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn config(server: &Dovecot, tls: &str, port: u16, with_ca: bool) -> Config {
    config_with(server, tls, port, with_ca, &[])
}

fn config_with(server: &Dovecot, tls: &str, port: u16, with_ca: bool, extra: &[(&str, &str)]) -> Config {
    let mut env = vec![
        ("MARAC__IMAP__HOST".to_owned(), "127.0.0.1".to_owned()),
        ("MARAC__IMAP__PORT".to_owned(), port.to_string()),
        ("MARAC__IMAP__TLS".to_owned(), tls.to_owned()),
        ("MARAC__IMAP__USERNAME".to_owned(), USER.to_owned()),
        ("MARAC__IMAP__PASSWORD_FILE".to_owned(), server.password_file.display().to_string()),
        ("MARAC__IMAP__BATCH".to_owned(), "4".to_owned()),
        ("MARAC__IMAP__COMMAND_TIMEOUT_SECS".to_owned(), "20".to_owned()),
        ("MARAC__IMAP__IDLE_SECS".to_owned(), "5".to_owned()),
    ];
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    if with_ca {
        env.push(("MARAC__IMAP__CA_FILE".to_owned(), server.ca_file.display().to_string()));
    }
    config::load(&manifest().join("config/samples.toml"), env).expect("test configuration")
}

/// (file name, raw, arrival) for every message to APPEND: the shared samples with the arrival
/// dates of their labels when `../shared/samples` exists, else the repository's fixtures with the
/// date of their topmost `Received:` (the 15 MB one left out to keep the test quick).
fn messages() -> Vec<(String, Vec<u8>, DateTime<FixedOffset>)> {
    let shared = manifest().join("../shared/samples");
    if shared.join("labels.json").exists() {
        let labels: serde_json::Value = serde_json::from_slice(&std::fs::read(shared.join("labels.json")).unwrap()).unwrap();
        return labels
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                let file = l["file"].as_str().unwrap().to_owned();
                let arrived = DateTime::parse_from_rfc3339(l["arrived"].as_str().unwrap()).unwrap();
                let raw = std::fs::read(shared.join(&file)).unwrap();
                (file, raw, arrived)
            })
            .collect();
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(manifest().join("fixtures"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml") && std::fs::metadata(p).unwrap().len() < 5_000_000)
        .collect();
    files.sort();
    let fallback = DateTime::parse_from_rfc3339("2025-03-03T10:00:00+00:00").unwrap();
    files
        .into_iter()
        .map(|p| {
            let raw = std::fs::read(&p).unwrap();
            let opts = marac_intake::inspect::InspectOptions::with_clock(std::time::Instant::now);
            let arrived = marac_intake::triage::arrival(&marac_intake::inspect::inspect(&raw, &opts)).unwrap_or(fallback);
            (p.file_name().unwrap().to_string_lossy().into_owned(), raw, arrived)
        })
        .collect()
}

/// The outcome of each message when the same messages go through `triage` in the same order
/// into a fresh database: what the mailbox service must agree with.
async fn triage_outcomes(cfg: &Config, dir: &Path, messages: &[(String, Vec<u8>, DateTime<FixedOffset>)]) -> BTreeMap<String, Outcome> {
    let store = Store::open(&format!("sqlite://{}", dir.join("reference.db").display())).await.unwrap();
    let mut out = BTreeMap::new();
    for (file, raw, arrived) in messages {
        let record = marac_intake::triage::triage_message(raw, Some(file), Some(*arrived), chrono::Utc::now().fixed_offset(), cfg, &store).await.unwrap();
        out.insert(file.clone(), record.outcome);
    }
    out
}

async fn count(store: &Store, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned())).fetch_one(store.pool()).await.unwrap()
}

#[tokio::test]
async fn every_message_is_decided_once_and_filed_by_outcome() {
    decided_once_and_filed(None).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_message_is_decided_once_and_filed_by_outcome_on_postgresql() {
    let Some(pg) = Postgres::start("mailbox") else { return };
    decided_once_and_filed(Some(&pg)).await
}

async fn decided_once_and_filed(pg: Option<&Postgres>) {
    let server = Dovecot::start(&[USER]);
    let store = support::store_at(pg, &server.dir, "intake").await;
    let cfg = config(&server, "implicit", server.imaps_port, true);
    let messages = messages();
    assert!(!messages.is_empty());
    let expected = triage_outcomes(&cfg, &server.dir, &messages).await;
    for (_, raw, arrived) in &messages {
        server.append(USER, "INBOX", raw, *arrived).await;
    }

    let first = ingest_pass(&cfg, &store, &Clock::system()).await.expect("first pass");
    assert_eq!(first, PassSummary { decided: messages.len(), refiled: 0 });

    // Exactly one decision per message, found again by its content hash.
    assert_eq!(count(&store, "SELECT COUNT(*) FROM messages").await, messages.len() as i64);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM decisions").await, messages.len() as i64);
    let mut problems = Vec::new();
    let mut filed = BTreeMap::<String, Vec<Vec<u8>>>::new();
    for folder in [&cfg.file.folders.accepted, &cfg.file.folders.rejected, &cfg.file.folders.review, &cfg.file.folders.quarantined, &cfg.file.folders.ignored] {
        filed.insert(folder.clone(), server.list_folder(USER, folder).await);
    }
    for (file, raw, _) in &messages {
        let sha = marac_intake::mime::sha256_hex(raw);
        let (outcome, _) = store.first_outcome_by_sha256(&sha).await.unwrap().unwrap_or_else(|| panic!("{file}: no decision"));
        let folder = folder_for(outcome, &cfg.file.folders);
        let here = filed[folder].iter().filter(|b| marac_intake::mime::sha256_hex(b) == sha).count();
        if here != 1 {
            problems.push(format!("{file}: {here} copies in {folder} (outcome {outcome})"));
        }
        if expected[file] != outcome {
            problems.push(format!("{file}: outcome {outcome}, triage says {}", expected[file]));
        }
    }
    let total: usize = filed.values().map(Vec::len).sum();
    assert_eq!(total, messages.len(), "every message is in exactly one outcome folder");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(server.list_folder(USER, "INBOX").await.is_empty(), "the inbox is empty after the pass");

    // A second pass changes nothing.
    let outbox = count(&store, "SELECT COUNT(*) FROM outbox").await;
    let second = ingest_pass(&cfg, &store, &Clock::system()).await.expect("second pass");
    assert_eq!(second, PassSummary::default());
    assert_eq!(count(&store, "SELECT COUNT(*) FROM decisions").await, messages.len() as i64);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM outbox").await, outbox);
}

/// A crash after the commit and before the MOVE: the message is still in the inbox and the
/// checkpoint was not advanced. The next pass must file it under its first outcome, with no
/// second decision and no second reply.
#[tokio::test]
async fn a_message_committed_but_not_moved_is_filed_without_a_second_decision() {
    let pg = Postgres::start("moved");
    for pg in [None, pg.as_ref()] {
        let server = Dovecot::start(&[USER]);
        let store = support::store_at(pg, &server.dir, "intake").await;
        let cfg = config(&server, "starttls", server.imap_port, true);
        let messages = messages();
        let (_, raw, arrived) = &messages[0];
        // The decision is committed as the service would have done before crashing.
        let record = marac_intake::triage::triage_message(raw, Some("imap:INBOX;uid=1"), Some(*arrived), chrono::Utc::now().fixed_offset(), &cfg, &store).await.unwrap();
        let outbox = count(&store, "SELECT COUNT(*) FROM outbox").await;
        server.append(USER, "INBOX", raw, *arrived).await;

        let summary = ingest_pass(&cfg, &store, &Clock::system()).await.expect("pass after the crash");
        assert_eq!(summary, PassSummary { decided: 0, refiled: 1 });
        assert_eq!(count(&store, "SELECT COUNT(*) FROM decisions").await, 1);
        assert_eq!(count(&store, "SELECT COUNT(*) FROM outbox").await, outbox);
        assert!(server.list_folder(USER, "INBOX").await.is_empty());
        let folder = folder_for(record.outcome, &cfg.file.folders);
        assert_eq!(server.list_folder(USER, folder).await, vec![raw.clone()], "filed under its first outcome ({})", record.outcome.as_str());
    }
}

#[tokio::test]
async fn the_server_certificate_is_verified_against_the_configured_ca() {
    let server = Dovecot::start(&[USER]);
    let trusted = config(&server, "starttls", server.imap_port, true);
    let mut session = connect(trusted.file.imap.as_ref().unwrap()).await.expect("STARTTLS with the harness CA");
    session.logout().await.unwrap();
    let implicit = config(&server, "implicit", server.imaps_port, true);
    connect(implicit.file.imap.as_ref().unwrap()).await.expect("implicit TLS with the harness CA").logout().await.unwrap();

    for (tls, port) in [("starttls", server.imap_port), ("implicit", server.imaps_port)] {
        let untrusted = config(&server, tls, port, false);
        let err = connect(untrusted.file.imap.as_ref().unwrap()).await.err().unwrap_or_else(|| panic!("{tls}: connected without trusting the test CA"));
        let text = format!("{err:#}");
        assert!(text.contains("TLS handshake") && text.to_lowercase().contains("certificate"), "{tls}: {text}");
    }
}

/// Waits (bounded) until `n` decisions are recorded and the inbox is empty.
async fn until_filed(server: &Dovecot, store: &Store, n: i64) {
    for _ in 0..300 {
        if count(store, "SELECT COUNT(*) FROM decisions").await == n && server.list_folder(USER, "INBOX").await.is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{n} messages were not decided and filed within 30 s");
}

/// `watch` files mail pushed by IDLE, then the server goes away under it (`outage`) and comes
/// back; `watch` reconnects (with backoff), files the mail delivered meanwhile, and returns
/// promptly when the shutdown token fires.
async fn watch_survives(pg: Option<&Postgres>, outage: impl FnOnce(&Dovecot)) {
    let server = Dovecot::start(&[USER]);
    let store = support::store_at(pg, &server.dir, "intake").await;
    let cfg = config(&server, "implicit", server.imaps_port, true);
    let messages = messages();
    let shutdown = CancellationToken::new();
    let wake = tokio::sync::Notify::new();
    let clock = marac_intake::clock::Clock::system();
    let service = watch(&cfg, &store, &clock, &wake, shutdown.clone());
    let driver = async {
        // Give the service time to reach IDLE on an empty inbox, then deliver.
        tokio::time::sleep(Duration::from_millis(500)).await;
        server.append(USER, "INBOX", &messages[0].1, messages[0].2).await;
        until_filed(&server, &store, 1).await;
        // Back in IDLE on an empty inbox when the server goes.
        tokio::time::sleep(Duration::from_millis(300)).await;
        outage(&server);
        server.append(USER, "INBOX", &messages[1].1, messages[1].2).await;
        until_filed(&server, &store, 2).await;
        shutdown.cancel();
    };
    let (stopped, ()) = tokio::time::timeout(Duration::from_secs(90), async { tokio::join!(service, driver) }).await.expect("watch and the driver finish in time");
    stopped.expect("watch stops cleanly on shutdown");
    assert_eq!(count(&store, "SELECT COUNT(*) FROM decisions").await, 2);
}

/// A clean restart: clients see BYE.
#[tokio::test]
async fn watch_files_new_mail_survives_a_server_restart_and_stops_on_shutdown() {
    let pg = Postgres::start("restart");
    for pg in [None, pg.as_ref()] {
        watch_survives(pg, Dovecot::restart).await;
    }
}

/// SIGKILL: the connection ends with no BYE.
#[tokio::test]
async fn watch_survives_a_server_killed_during_idle() {
    let pg = Postgres::start("killed");
    for pg in [None, pg.as_ref()] {
        watch_survives(pg, Dovecot::kill_and_relaunch).await;
    }
}

/// UIDVALIDITY changes and the messages are renumbered: the old checkpoint is not trusted, the
/// folder is rescanned, a message committed before (but not moved) is only filed, and a new one
/// is decided. Nothing is left in the inbox and nothing is decided twice.
#[tokio::test]
async fn a_changed_uidvalidity_rescans_without_deciding_anything_twice() {
    let pg = Postgres::start("uidvalidity");
    for pg in [None, pg.as_ref()] {
        let server = Dovecot::start(&[USER]);
        let store = support::store_at(pg, &server.dir, "intake").await;
        let cfg = config(&server, "implicit", server.imaps_port, true);
        let messages = messages();
        let [a, b, c] = [&messages[0], &messages[1], &messages[2]];
        server.append(USER, "INBOX", &a.1, a.2).await;
        assert_eq!(ingest_pass(&cfg, &store, &Clock::system()).await.unwrap(), PassSummary { decided: 1, refiled: 0 });
        server.append(USER, "INBOX", &b.1, b.2).await;
        server.append(USER, "INBOX", &c.1, c.2).await;
        // b is committed as if the service crashed before moving it.
        marac_intake::triage::triage_message(&b.1, Some("crashed"), Some(b.2), chrono::Utc::now().fixed_offset(), &cfg, &store).await.unwrap();
        let before = store.mailbox_checkpoint("INBOX").await.unwrap().unwrap();
        server.reset_inbox_uidvalidity(USER);

        let summary = ingest_pass(&cfg, &store, &Clock::system()).await.expect("pass after the UIDVALIDITY change");
        assert_eq!(summary, PassSummary { decided: 1, refiled: 1 });
        assert_eq!(count(&store, "SELECT COUNT(*) FROM decisions").await, 3);
        assert!(server.list_folder(USER, "INBOX").await.is_empty());
        let after = store.mailbox_checkpoint("INBOX").await.unwrap().unwrap();
        assert_ne!(after.0, before.0, "the checkpoint follows the new UIDVALIDITY");
    }
}

/// A frozen server (SIGSTOP: the socket accepts, nothing answers) makes the pass fail within the
/// command time limit instead of hanging; once it thaws, the next pass works.
#[tokio::test]
async fn a_frozen_server_times_out_instead_of_hanging() {
    let server = Dovecot::start(&[USER]);
    let store = Store::open(&format!("sqlite://{}", server.dir.join("intake.db").display())).await.unwrap();
    let cfg = config_with(&server, "implicit", server.imaps_port, true, &[("MARAC__IMAP__COMMAND_TIMEOUT_SECS", "2")]);
    let messages = messages();
    server.append(USER, "INBOX", &messages[0].1, messages[0].2).await;
    server.freeze();
    let started = std::time::Instant::now();
    let err = tokio::time::timeout(Duration::from_secs(30), ingest_pass(&cfg, &store, &Clock::system())).await.expect("bounded by the command time limit").expect_err("a frozen server");
    assert!(format!("{err:#}").contains("no answer within 2 s"), "{err:#}");
    assert!(started.elapsed() < Duration::from_secs(10));
    server.thaw();
    assert_eq!(ingest_pass(&cfg, &store, &Clock::system()).await.unwrap(), PassSummary { decided: 1, refiled: 0 });
}

/// Plaintext on loopback, when the configuration explicitly allows it, works end to end.
#[tokio::test]
async fn plaintext_on_loopback_works_when_explicitly_allowed() {
    let server = Dovecot::start(&[USER]);
    let store = Store::open(&format!("sqlite://{}", server.dir.join("intake.db").display())).await.unwrap();
    let cfg = config_with(&server, "none", server.imap_port, false, &[("MARAC__IMAP__ALLOW_PLAINTEXT_ON_LOOPBACK", "true")]);
    let messages = messages();
    server.append(USER, "INBOX", &messages[0].1, messages[0].2).await;
    assert_eq!(ingest_pass(&cfg, &store, &Clock::system()).await.unwrap(), PassSummary { decided: 1, refiled: 0 });
}

/// XOAUTH2 against Dovecot's oauth2 passdb and a local introspection endpoint: a good token (from
/// `token_file` or `token_command`) logs in; a bad one is refused promptly, the server's JSON
/// failure challenge answered with an empty response rather than left hanging.
#[tokio::test]
async fn xoauth2_logs_in_with_a_good_token_and_fails_cleanly_with_a_bad_one() {
    let introspection = Introspection::start("good-token-123", USER);
    let server = Dovecot::start_with_oauth(&[USER], introspection.port);
    let token_file = server.dir.join("token");
    std::fs::write(&token_file, "good-token-123\n").unwrap();
    let token_file = token_file.display().to_string();
    let oauth = [("MARAC__IMAP__AUTH", "xoauth2"), ("MARAC__IMAP__TOKEN_FILE", token_file.as_str())];
    let cfg = config_with(&server, "implicit", server.imaps_port, true, &oauth);
    connect(cfg.file.imap.as_ref().unwrap()).await.expect("XOAUTH2 with a good token").logout().await.unwrap();

    let command = [("MARAC__IMAP__AUTH", "xoauth2"), ("MARAC__IMAP__TOKEN_COMMAND", "echo good-token-123")];
    let cfg = config_with(&server, "starttls", server.imap_port, true, &command);
    connect(cfg.file.imap.as_ref().unwrap()).await.expect("XOAUTH2 with a token from a command").logout().await.unwrap();

    let bad = [("MARAC__IMAP__AUTH", "xoauth2"), ("MARAC__IMAP__TOKEN_COMMAND", "echo expired-token")];
    let cfg = config_with(&server, "implicit", server.imaps_port, true, &bad);
    let started = std::time::Instant::now();
    let err = connect(cfg.file.imap.as_ref().unwrap()).await.err().expect("a bad token is refused");
    assert!(format!("{err:#}").contains("IMAP authentication"), "{err:#}");
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
}

/// A message that cannot be decided (here: its allowlisted sender's address is one the reply
/// builder refuses, `a..b@`) does not stop the mailbox: it is recorded as a review item with no
/// reply and filed for a coordinator, and the message after it is decided as usual.
#[tokio::test]
async fn a_message_that_cannot_be_decided_is_parked_for_review_and_the_next_one_goes_on() {
    let pg = Postgres::start("parked");
    for pg in [None, pg.as_ref()] {
        let server = Dovecot::start(&[USER]);
        let cfg = config(&server, "implicit", server.imaps_port, true);
        let store = support::store_at(pg, &server.dir, "intake").await;
        let good = std::fs::read(manifest().join("fixtures/triage/001_police_seed_victim_l_accept15.eml")).unwrap();
        let text = String::from_utf8_lossy(&good).into_owned();
        let from = "owen.pryor@kingsmere.pnn.police.example.test";
        assert!(text.contains(from), "the fixture's sender");
        let bad = text.replace(from, "owen..pryor@kingsmere.pnn.police.example.test").replace("Message-ID: <", "Message-ID: <bad.");
        let arrived = DateTime::parse_from_rfc3339("2025-01-06T09:12:41+00:00").unwrap();
        server.append(USER, "INBOX", bad.as_bytes(), arrived).await;
        server.append(USER, "INBOX", &good, arrived).await;
        let summary = ingest_pass(&cfg, &store, &Clock::system()).await.expect("the pass goes on past the bad message");
        assert_eq!(summary, PassSummary { decided: 2, refiled: 0 });
        let history = store.history().await.unwrap();
        assert_eq!(history.len(), 2);
        assert_eq!(history[0].outcome, Outcome::Review);
        assert_eq!(history[0].reply_kind, ReplyKind::None, "no reply to an address we cannot answer safely");
        assert!(history[0].reasons[0].contains("could not be processed automatically"), "{:?}", history[0].reasons);
        assert_eq!(history[0].area, "default", "the mailbox's one area: its coordinators see it");
        assert_eq!(history[1].outcome, Outcome::Accepted);
        assert_eq!(server.list_folder(USER, "MARAC/Review").await.len(), 1);
        assert_eq!(server.list_folder(USER, "MARAC/Accepted").await.len(), 1);
        assert!(server.list_folder(USER, "INBOX").await.is_empty());
        let outbox = store.outbox().await.unwrap();
        assert_eq!(outbox.len(), 1, "only the good referral is answered");
    }
}

/// The database's trouble is not the message's: a pass that finds the database locked by
/// another writer ends with an error to retry (the mailbox reconnects after a pause), parks
/// nothing, files nothing and loses nothing; the next pass decides the message once.
#[tokio::test]
async fn a_locked_database_ends_the_pass_to_be_retried_and_nothing_is_parked_or_filed() {
    let server = Dovecot::start(&[USER]);
    let cfg = config(&server, "implicit", server.imaps_port, true);
    let store = Store::open(&format!("sqlite://{}", server.dir.join("intake.db").display())).await.unwrap();
    let good = std::fs::read(manifest().join("fixtures/triage/001_police_seed_victim_l_accept15.eml")).unwrap();
    server.append(USER, "INBOX", &good, DateTime::parse_from_rfc3339("2025-01-06T09:12:41+00:00").unwrap()).await;
    // Another writer holds the write lock past the store's busy timeout.
    let writer = store.begin().await.unwrap();
    let err = ingest_pass(&cfg, &store, &Clock::system()).await.expect_err("the pass cannot commit");
    assert!(matches!(err, MailboxError::Store(_)), "{err}");
    assert_eq!(err.action(), Action::Retry, "{err}");
    drop(writer);
    assert!(store.history().await.unwrap().is_empty(), "nothing recorded, not even a parked review item");
    assert_eq!(server.list_folder(USER, "INBOX").await.len(), 1, "the message stays where it was");
    assert!(server.list_folder(USER, "MARAC/Review").await.is_empty());
    let summary = ingest_pass(&cfg, &store, &Clock::system()).await.expect("the next pass");
    assert_eq!(summary, PassSummary { decided: 1, refiled: 0 });
    assert_eq!(store.history().await.unwrap()[0].outcome, marac_intake::decide::Outcome::Accepted);
    assert_eq!(server.list_folder(USER, "MARAC/Accepted").await.len(), 1);
    assert!(server.list_folder(USER, "INBOX").await.is_empty());
}
