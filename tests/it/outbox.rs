//! The outbox sender against a real Postfix on 127.0.0.1 (submission with STARTTLS required and
//! AUTH PLAIN through Dovecot SASL; the harness CA given as `ca_file`). Replies come from the real
//! pipeline: fixtures of `fixtures/triage/` triaged into a fresh database with
//! `config/samples.toml`. Each recipient meets one server behaviour: delivered into its Maildir,
//! 451 at RCPT, 550 unknown user, or (not on the allowlist at send time) never sent at all.
//! Each test runs on SQLite, then on a real PostgreSQL when it is installed.

use crate::support::{Scratch, self, postfix};
use crate::support::postgres::Postgres;

use chrono::{DateTime, Utc};
use marac_intake::config::{self, Config};
use marac_intake::outbox::{send_pending, Report};
use marac_intake::decide::OutboxKind;
use marac_intake::store::{OutboxEntry, Store};
use postfix::Postfix;
use std::path::Path;

const DELIVERED: &str = "owen.pryor@kingsmere.pnn.police.example.test";
const DEFERRED: &str = "ruth.akinola@nhs.example.test";
const UNKNOWN: &str = "alice.brand@kingsmere.pnn.police.example.test";
const NOT_ALLOWED: &str = "tomasz.nowak@idva.example.test";

fn manifest() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn scratch(name: &str) -> Scratch {
    let s = Scratch::new(&format!("outbox-{name}"));
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&s.0, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    s
}

fn samples_config(env: Vec<(String, String)>) -> Config {
    let text = std::fs::read_to_string(manifest().join("config/samples.toml")).unwrap();
    config::parse(&text, env).unwrap().build().unwrap()
}

/// The sending configuration: the submission server, and an allowlist that no longer has
/// `idva.example.test` (a recipient removed after its referral was decided).
fn send_config(pf: &Postfix) -> Config {
    let e = |k: &str, v: String| (k.to_owned(), v);
    let mut env = submission_env(pf);
    env.extend([
        e("MARAC__SMTP__MAX_REPLIES_PER_RECIPIENT_PER_HOUR", "1".into()),
        e("MARAC__SENDERS__ALLOW", r#"["*.pnn.police.example.test", "nhs.example.test"]"#.into()),
    ]);
    samples_config(env)
}

/// STARTTLS on the submission port, the harness CA trusted, AUTH with the test user.
fn submission_env(pf: &Postfix) -> Vec<(String, String)> {
    let e = |k: &str, v: String| (k.to_owned(), v);
    vec![
        e("MARAC__SMTP__HOST", "127.0.0.1".into()),
        e("MARAC__SMTP__PORT", pf.port.to_string()),
        e("MARAC__SMTP__TLS", "starttls".into()),
        e("MARAC__SMTP__USERNAME", postfix::USER.into()),
        e("MARAC__SMTP__PASSWORD_FILE", pf.password_file.display().to_string()),
        e("MARAC__SMTP__CA_FILE", pf.ca_file.display().to_string()),
        e("MARAC__SMTP__COMMAND_TIMEOUT_SECS", "10".into()),
    ]
}

/// Triages the named fixtures in order into a new store (on SQLite in `dir`, or on PostgreSQL);
/// returns the store.
async fn triaged(pg: Option<&Postgres>, dir: &Scratch, files: &[&str]) -> Store {
    let store = support::store_on(pg, dir, "outbox").await;
    triage_into(&store, files).await;
    store
}

async fn triage_into(store: &Store, files: &[&str]) {
    triage_with(store, files, &samples_config(Vec::new())).await;
}

async fn triage_with(store: &Store, files: &[&str], cfg: &Config) {
    let labels: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(manifest().join("fixtures/triage/labels.json")).unwrap()).unwrap();
    for file in files {
        let lab = labels.as_array().unwrap().iter().find(|l| l["file"] == *file).unwrap();
        let arrived = DateTime::parse_from_rfc3339(lab["arrived"].as_str().unwrap()).unwrap();
        let raw = std::fs::read(manifest().join("fixtures/triage").join(file)).unwrap();
        marac_intake::triage::triage_message(&raw, Some(file), Some(arrived), Utc::now().fixed_offset(), cfg, store).await.unwrap();
    }
}

fn row<'a>(rows: &'a [OutboxEntry], recipient: &str, kind: &str) -> &'a OutboxEntry {
    let kind: OutboxKind = kind.parse().expect("an outbox kind");
    rows.iter().find(|r| r.recipient == recipient && r.kind == kind).unwrap_or_else(|| panic!("no {kind} to {recipient} in {rows:#?}"))
}

#[tokio::test]
async fn replies_are_delivered_once_deferred_on_4xx_failed_on_5xx_refused_off_the_allowlist() {
    let pg = Postgres::start("main");
    for pg in [None, pg.as_ref()] {
        let dir = scratch("main");
        let certs = support::mailservers::make_certificates(&dir.0);
        let pf = Postfix::start(&[DELIVERED], &[DEFERRED], certs);
        // 001: acknowledgement to DELIVERED; 002: to DEFERRED; 003: to NOT_ALLOWED; 004: rejection
        // to UNKNOWN; 006: a second reply to DELIVERED (the hourly cap is 1).
        let store = triaged(
            pg,
            &dir,
            &[
                "001_police_seed_victim_l_accept15.eml",
                "002_nhs_seed_victim_w_accept16.eml",
                "003_idva_victim_l_after_meeting_repeat.eml",
                "004_police_dash13_reject.eml",
                "006_police_escalation_2_callouts_reject.eml",
            ],
        )
        .await;
        assert_eq!(store.outbox().await.unwrap().len(), 5);
        let cfg = send_config(&pf);
        let now = Utc::now();

        let first = send_pending(&cfg, &store, now).await.unwrap();
        assert_eq!(first, Report { sent: 1, deferred: 1, failed: 1, refused: 1, waiting: 1 }, "log: {}", pf.log_text());

        let mail = pf.wait_for(DELIVERED, 1);
        assert_eq!(mail.len(), 1, "the acknowledgement reached the Maildir; log: {}", pf.log_text());
        assert!(mail[0].contains("Auto-Submitted: auto-replied"), "{}", mail[0]);
        assert!(mail[0].contains("Message-ID: <acknowledgement."), "{}", mail[0]);

        // Running again sends nothing: nothing is due (the 451 backs off, the cap holds).
        let again = send_pending(&cfg, &store, now).await.unwrap();
        assert_eq!(again, Report::default());
        std::thread::sleep(std::time::Duration::from_millis(500));
        assert_eq!(pf.delivered(DELIVERED).len(), 1, "exactly once");

        let rows = store.outbox().await.unwrap();
        let sent = row(&rows, DELIVERED, "acknowledgement");
        assert_eq!((sent.status.as_str(), sent.attempts), ("sent", 1));
        let a = store.outbox_attempts(sent.id).await.unwrap();
        assert_eq!(a.len(), 1);
        assert_eq!((a[0].outcome.as_str(), a[0].code), ("sent", Some(250)));

        let deferred = row(&rows, DEFERRED, "acknowledgement");
        assert_eq!((deferred.status.as_str(), deferred.attempts), ("pending", 1));
        assert!(deferred.next_attempt_at.as_deref().is_some_and(|t| t > marac_intake::clock::stamp(now).as_str()));
        let a = store.outbox_attempts(deferred.id).await.unwrap();
        assert_eq!((a.len(), a[0].outcome.as_str(), a[0].code), (1, "deferred", Some(451)));

        let failed = row(&rows, UNKNOWN, "rejection");
        assert_eq!((failed.status.as_str(), failed.attempts), ("failed", 1));
        let a = store.outbox_attempts(failed.id).await.unwrap();
        assert_eq!((a.len(), a[0].outcome.as_str(), a[0].code), (1, "failed", Some(550)));

        let refused = row(&rows, NOT_ALLOWED, "acknowledgement");
        assert_eq!((refused.status.as_str(), refused.attempts), ("refused", 0));
        assert_eq!(store.outbox_attempts(refused.id).await.unwrap()[0].outcome, "refused");
        assert!(!pf.log_text().contains(NOT_ALLOWED), "a refused reply never reaches the server");

        let capped = row(&rows, DELIVERED, "rejection");
        assert_eq!((capped.status.as_str(), capped.attempts), ("pending", 0), "held by the hourly cap, no attempt counted");

        // Postfix down: the due rows (the 451 one, and the capped one whose hour is over) are tried,
        // fail to connect and stay pending with the attempt recorded.
        pf.stop();
        let later = now + chrono::Duration::hours(2);
        let down = send_pending(&cfg, &store, later).await.unwrap();
        assert_eq!((down.sent, down.failed), (0, 0), "{down:?}");
        assert!(down.deferred >= 1, "{down:?}");
        let rows = store.outbox().await.unwrap();
        let deferred = row(&rows, DEFERRED, "acknowledgement");
        assert_eq!((deferred.status.as_str(), deferred.attempts), ("pending", 2));
        let a = store.outbox_attempts(deferred.id).await.unwrap();
        assert_eq!((a[1].outcome.as_str(), a[1].code), ("deferred", None));

        // Back up, an hour past the cap: the held reply goes, once.
        pf.launch();
        let back = send_pending(&cfg, &store, later + chrono::Duration::hours(2)).await.unwrap();
        assert_eq!((back.sent, back.deferred), (1, 1), "{back:?}");
        assert_eq!(pf.wait_for(DELIVERED, 2).len(), 2);
        let rows = store.outbox().await.unwrap();
        assert_eq!(row(&rows, DELIVERED, "rejection").status, "sent");
        assert_eq!(row(&rows, DEFERRED, "acknowledgement").attempts, 3);
    }
}

#[tokio::test]
async fn implicit_tls_needs_the_ca_and_two_senders_at_once_deliver_each_reply_once() {
    let pg = Postgres::start("implicit");
    for pg in [None, pg.as_ref()] {
        let dir = scratch("implicit");
        let certs = support::mailservers::make_certificates(&dir.0);
        let pf = Postfix::start(&[DELIVERED, DEFERRED], &[], certs);
        let store = triaged(pg, &dir, &["001_police_seed_victim_l_accept15.eml", "002_nhs_seed_victim_w_accept16.eml"]).await;
        let implicit = |with_ca: bool| {
            let mut env: Vec<(String, String)> = submission_env(&pf).into_iter().filter(|(k, _)| with_ca || k != "MARAC__SMTP__CA_FILE").collect();
            env.push(("MARAC__SMTP__TLS".into(), "implicit".into()));
            env.push(("MARAC__SMTP__PORT".into(), pf.smtps_port.to_string()));
            samples_config(env)
        };
        let now = Utc::now();

        // The harness CA is not among the built-in roots: nothing is sent, the row waits.
        let untrusted = send_pending(&implicit(false), &store, now).await.unwrap();
        assert_eq!(untrusted.sent, 0, "{untrusted:?}");
        assert!(untrusted.deferred >= 1, "{untrusted:?}");
        let rows = store.outbox().await.unwrap();
        let first = store.outbox_attempts(rows[0].id).await.unwrap();
        assert_eq!(first[0].outcome, "deferred");
        assert!(first[0].detail.as_deref().unwrap_or("").to_lowercase().contains("certificate"), "{first:?}");
        assert!(rows.iter().all(|r| r.status == "pending" && r.attempts <= 1), "a connection problem stops each worker: {rows:#?}");

        // With the CA: two senders at once; each reply is claimed by one of them only.
        let cfg = implicit(true);
        let later = now + chrono::Duration::hours(1);
        let (a, b) = (marac_intake::outbox::Sender::new(&cfg).unwrap(), marac_intake::outbox::Sender::new(&cfg).unwrap());
        let (ra, rb) = tokio::join!(a.send_pending(&cfg, &store, later), b.send_pending(&cfg, &store, later));
        let (ra, rb) = (ra.unwrap(), rb.unwrap());
        assert_eq!(ra.sent + rb.sent, 2, "{ra:?} {rb:?}");
        assert_eq!(pf.wait_for(DELIVERED, 1).len(), 1);
        assert_eq!(pf.wait_for(DEFERRED, 1).len(), 1);
        assert_eq!(send_pending(&cfg, &store, later).await.unwrap(), Report::default());
        std::thread::sleep(std::time::Duration::from_millis(500));
        assert_eq!((pf.delivered(DELIVERED).len(), pf.delivered(DEFERRED).len()), (1, 1), "exactly once each");
        assert!(store.outbox().await.unwrap().iter().all(|r| r.status == "sent"));
    }
}

/// The service loop: woken after a decision is committed, it delivers the reply well before its
/// polling interval; on shutdown it returns promptly.
#[tokio::test]
async fn the_service_sends_a_new_reply_when_woken_and_stops_on_shutdown() {
    let pg = Postgres::start("serve");
    for pg in [None, pg.as_ref()] {
        let dir = scratch("serve");
        let certs = support::mailservers::make_certificates(&dir.0);
        let pf = Postfix::start(&[DELIVERED], &[], certs);
        let store = triaged(pg, &dir, &[]).await;
        let cfg = samples_config(submission_env(&pf));
        let wake = tokio::sync::Notify::new();
        let shutdown = tokio_util::sync::CancellationToken::new();
        let clock = marac_intake::clock::Clock::system();
        let service = marac_intake::outbox::serve(&cfg, &store, &clock, &wake, shutdown.clone());
        let driver = async {
            // Let the service start and find nothing to do.
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            let started = std::time::Instant::now();
            triage_into(&store, &["001_police_seed_victim_l_accept15.eml"]).await;
            wake.notify_one();
            let deadline = started + std::time::Duration::from_secs(20);
            while pf.delivered(DELIVERED).is_empty() && std::time::Instant::now() < deadline {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            let took = started.elapsed();
            shutdown.cancel();
            took
        };
        let ((), took) = tokio::time::timeout(std::time::Duration::from_secs(30), async { tokio::join!(service, driver) }).await.expect("the service stopped on shutdown");
        assert_eq!(pf.delivered(DELIVERED).len(), 1, "log: {}", pf.log_text());
        assert!(took < marac_intake::outbox::POLL, "woken, not polled: {took:?}");
        assert_eq!(store.outbox().await.unwrap()[0].status, "sent");
    }
}

/// A sender that died holding a claim: nobody else takes the row while its lease runs, and the
/// row is taken again once the lease is over (no server needed for the claim itself).
#[tokio::test]
async fn a_crashed_senders_claim_is_taken_again_after_its_lease() {
    let pg = Postgres::start("lease");
    for pg in [None, pg.as_ref()] {
        let dir = scratch("lease");
        let store = triaged(pg, &dir, &["001_police_seed_victim_l_accept15.eml"]).await;
        let t = |min: i64| marac_intake::clock::stamp(Utc::now() + chrono::Duration::minutes(min));
        let first = store.claim_reply(&t(0), &t(5)).await.unwrap().expect("a due row");
        assert!(store.claim_reply(&t(1), &t(6)).await.unwrap().is_none(), "held by the first claim");
        assert_eq!(store.outbox().await.unwrap()[0].status, "sending");
        let again = store.claim_reply(&t(6), &t(11)).await.unwrap().expect("the lease ran out");
        assert_eq!((again.id, again.attempts), (first.id, 0));
    }
}

/// A coordinators' notice goes to the configured `smtp.coordinators_notice_to` (not on the
/// allowlist: the admin's own address), is not held by the per-recipient cap, and is refused
/// before the server when queued for any other address.
#[tokio::test]
async fn notices_reach_the_configured_coordinators_address_only() {
    let pg = Postgres::start("notices");
    for pg in [None, pg.as_ref()] {
        const COORDINATORS: &str = "coordinators@marac.example.test";
        const ELSEWHERE: &str = "coordinators@elsewhere.example.test";
        const NOWAK: &str = "tomasz.nowak@idva.example.test";
        let dir = scratch("notices");
        let certs = support::mailservers::make_certificates(&dir.0);
        // Every address can be delivered to: a refusal can only be ours.
        let pf = Postfix::start(&[COORDINATORS, ELSEWHERE, DELIVERED, UNKNOWN, NOWAK], &[], certs);
        let notice_to = |to: &str| {
            let mut env = submission_env(&pf);
            env.push(("MARAC__SMTP__COORDINATORS_NOTICE_TO".into(), to.into()));
            env.push(("MARAC__SMTP__MAX_REPLIES_PER_RECIPIENT_PER_HOUR".into(), "1".into()));
            samples_config(env)
        };
        let store = support::store_on(pg, &dir, "notices").await;
        // Three review items, each with a holding reply and a notice: two noticed to the
        // coordinators, one to an address that is not (or no longer) the configured one.
        triage_with(&store, &["041_police_encrypted_dash_review.eml"], &notice_to(COORDINATORS)).await;
        triage_with(&store, &["042_police_stated_score_disagrees_review.eml"], &notice_to(ELSEWHERE)).await;
        triage_with(&store, &["043_idva_conflicting_marks_review.eml"], &notice_to(COORDINATORS)).await;
        let rows = store.outbox().await.unwrap();
        assert_eq!(rows.iter().filter(|r| r.kind == OutboxKind::Notice).count(), 3, "{rows:#?}");

        let report = send_pending(&notice_to(COORDINATORS), &store, Utc::now()).await.unwrap();
        assert_eq!(report, Report { sent: 5, deferred: 0, failed: 0, refused: 1, waiting: 0 }, "log: {}", pf.log_text());
        let mail = pf.wait_for(COORDINATORS, 2);
        assert_eq!(mail.len(), 2, "both notices, the hourly cap of 1 notwithstanding; log: {}", pf.log_text());
        let history = store.history().await.unwrap();
        for (file, m) in [("041", &mail), ("043", &mail)] {
            let reference = &history.iter().find(|h| h.file.as_deref().is_some_and(|f| f.starts_with(file))).unwrap().reference;
            assert!(m.iter().any(|n| n.contains(reference.as_str()) && n.contains("Auto-Submitted: auto-generated")), "a notice for {reference}: {m:#?}");
        }
        assert!(mail.iter().all(|n| !n.contains("pnn.police") && !n.contains("idva.example.test")), "no referrer address in a notice: {mail:#?}");
        assert_eq!(pf.wait_for(DELIVERED, 1).len(), 1, "the holding reply beside it");

        let rows = store.outbox().await.unwrap();
        let refused = row(&rows, ELSEWHERE, "notice");
        assert_eq!((refused.status.as_str(), refused.attempts), ("refused", 0));
        let a = store.outbox_attempts(refused.id).await.unwrap();
        assert!(a[0].detail.as_deref().unwrap_or("").contains("coordinators_notice_to"), "{a:?}");
        assert!(!pf.log_text().contains(ELSEWHERE), "a refused notice never reaches the server");
        std::thread::sleep(std::time::Duration::from_millis(500));
        assert!(pf.delivered(ELSEWHERE).is_empty());
        assert!(rows.iter().filter(|r| r.recipient == COORDINATORS).all(|r| r.status == "sent"), "{rows:#?}");
    }
}

/// The per-recipient hourly cap holds across instances: two senders (as two `run`s) on one
/// PostgreSQL, five replies due to one referrer and a cap of one: one is sent between them (never
/// two at once), the other four wait for the hour.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hourly_cap_holds_across_two_instances_on_postgresql() {
    let Some(pg) = support::postgres::Postgres::start("cap") else { return };
    let dir = scratch("cap");
    let pf = Postfix::start(&[DELIVERED], &[], support::mailservers::make_certificates(&dir.0));
    let store = support::store_on(Some(&pg), &dir, "cap").await;
    let raw = std::fs::read(manifest().join("fixtures/triage/001_police_seed_victim_l_accept15.eml")).unwrap();
    let cfg = samples_config(Vec::new());
    for i in 0..5 {
        let copy = support::mailservers::with_message_id(&raw, &format!("cap-{i}@kingsmere.pnn.police.example.test"));
        marac_intake::triage::triage_message(&copy, None, None, Utc::now().fixed_offset(), &cfg, &store).await.unwrap();
    }
    let mut env = submission_env(&pf);
    env.push(("MARAC__SMTP__MAX_REPLIES_PER_RECIPIENT_PER_HOUR".into(), "1".into()));
    let cfg = samples_config(env);
    let now = Utc::now();
    let (a, b) = (marac_intake::outbox::Sender::new(&cfg).unwrap(), marac_intake::outbox::Sender::new(&cfg).unwrap());
    let (ra, rb) = tokio::join!(a.send_pending(&cfg, &store, now), b.send_pending(&cfg, &store, now));
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert_eq!(ra.sent + rb.sent, 1, "one between them: {ra:?} {rb:?}");
    assert_eq!(pf.wait_for(DELIVERED, 1).len(), 1);
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(pf.delivered(DELIVERED).len(), 1, "never more than the cap");
    // What neither sent waits: claimed and put back for the hour, or left for a later batch.
    let (ra2, rb2) = tokio::join!(a.send_pending(&cfg, &store, now), b.send_pending(&cfg, &store, now));
    assert_eq!(ra2.unwrap().sent + rb2.unwrap().sent, 0, "still at the cap");
    let rows = store.outbox().await.unwrap();
    assert_eq!(rows.iter().filter(|r| r.status == "sent").count(), 1, "{rows:#?}");
    assert_eq!(rows.iter().filter(|r| r.status == "pending").count(), 4, "{rows:#?}");
}

/// A referrer trusted by an area's own secure-sender list (`[areas.north.senders]`), not the
/// deployment's, has the reply to their North referral sent: the send-time check reads the
/// allowlist of the area the message was decided in. The same referrer's South referral (South
/// takes the deployment's list) was decided while the deployment still listed them; its reply
/// is refused now that the deployment does not, and never reaches the server.
#[tokio::test]
async fn a_reply_is_checked_against_the_allowlist_of_the_area_its_referral_was_decided_in() {
    const NORTH_ONLY: &str = r#"
[areas.north.senders]
allow = ["*.pnn.police.example.test", "nhs.example.test", "idva.example.test"]
"#;
    let pg = Postgres::start("area-allow");
    for pg in [None, pg.as_ref()] {
        let dir = scratch("area-allow");
        let certs = support::mailservers::make_certificates(&dir.0);
        // NOT_ALLOWED can be delivered to: a refusal can only be ours.
        let pf = Postfix::start(&[NOT_ALLOWED], &[], certs);
        let text = std::fs::read_to_string(manifest().join("config/samples.toml")).unwrap() + crate::areas::AREAS + NORTH_ONLY;
        let areas = |env: Vec<(String, String)>| config::parse(&text, env).unwrap().build().unwrap();
        let store = support::store_on(pg, &dir, "area_allow").await;
        let decided = areas(Vec::new());
        let arrived = DateTime::parse_from_rfc3339("2025-01-20T11:30:00+00:00").unwrap();
        for (n, to) in [(1, "north-marac@marac.example.test"), (2, "south-marac@marac.example.test")] {
            let raw = crate::areas::sent_to("003_idva_victim_l_after_meeting_repeat.eml", to, n);
            marac_intake::triage::triage_message(&raw, None, Some(arrived), Utc::now().fixed_offset(), &decided, &store).await.unwrap();
        }
        let areas_of: Vec<(String, i64)> = sqlx::query_as("SELECT m.area, o.id FROM outbox o JOIN messages m ON m.id = o.message_row ORDER BY m.area").fetch_all(store.pool()).await.unwrap();
        assert_eq!(areas_of.iter().map(|(a, _)| a.as_str()).collect::<Vec<_>>(), ["north", "south"], "a reply queued in each area");

        // The deployment (and so South) no longer lists idva.example.test; North's own list does.
        let mut env = submission_env(&pf);
        env.push(("MARAC__SENDERS__ALLOW".into(), r#"["*.pnn.police.example.test", "nhs.example.test"]"#.into()));
        let sending = areas(env);
        let report = send_pending(&sending, &store, Utc::now()).await.unwrap();
        assert_eq!((report.sent, report.refused), (1, 1), "{report:?}; log: {}", pf.log_text());
        let mail = pf.wait_for(NOT_ALLOWED, 1);
        assert_eq!(mail.len(), 1, "North's reply delivered; log: {}", pf.log_text());
        let rows = store.outbox().await.unwrap();
        let status = |id: i64| rows.iter().find(|r| r.id == id).unwrap().status.clone();
        assert_eq!(status(areas_of[0].1), "sent", "North's reply: allowed by North's list");
        assert_eq!(status(areas_of[1].1), "refused", "South's reply: off the list South takes");
        let a = store.outbox_attempts(areas_of[1].1).await.unwrap();
        assert_eq!((a[0].outcome.as_str(), a[0].detail.as_deref()), ("refused", Some("recipient not on the allowlist at send time")));
        std::thread::sleep(std::time::Duration::from_millis(500));
        assert_eq!(pf.delivered(NOT_ALLOWED).len(), 1, "South's reply never reached the server");
    }
}

/// An agenda to a designated officer who also refers is neither held by the per-recipient
/// hourly cap nor counted towards it: with a cap of one and the officer's acknowledgement and
/// rejection due, the acknowledgement and the agenda are sent and the rejection waits its hour.
#[tokio::test]
async fn an_agenda_is_neither_held_by_nor_counted_towards_the_hourly_cap() {
    let dir = scratch("agenda-cap");
    let certs = support::mailservers::make_certificates(&dir.0);
    let pf = Postfix::start(&[DELIVERED], &[], certs);
    let mut env = submission_env(&pf);
    env.push(("MARAC__SMTP__MAX_REPLIES_PER_RECIPIENT_PER_HOUR".into(), "1".into()));
    env.push(("MARAC__AGENDA__OFFICERS".into(), format!(r#"["Kingsmere Police <{DELIVERED}>"]"#)));
    let cfg = samples_config(env);
    let store = support::store_on(None, &dir, "agenda_cap").await;
    // 001: accepted, an acknowledgement to DELIVERED; 006: a rejection to DELIVERED.
    triage_with(&store, &["001_police_seed_victim_l_accept15.eml", "006_police_escalation_2_callouts_reject.eml"], &cfg).await;
    let meeting: chrono::NaiveDate = store.history().await.unwrap().iter().find_map(|h| h.meeting_date.clone()).expect("the accepted referral's meeting").parse().unwrap();
    let area = &cfg.areas[0];
    let queued = marac_intake::web::agenda::send(&store, &cfg, area, meeting, &area.config.agenda.officers, false, "coordinator", None, Utc::now()).await.unwrap();
    assert_eq!(queued.len(), 1, "the agenda queued for the officer");
    let rows = store.outbox().await.unwrap();
    assert_eq!(rows.iter().map(|r| r.kind.as_str()).collect::<Vec<_>>(), ["acknowledgement", "rejection", "agenda"]);

    let report = send_pending(&cfg, &store, Utc::now()).await.unwrap();
    assert_eq!(report, Report { sent: 2, deferred: 0, failed: 0, refused: 0, waiting: 1 }, "log: {}", pf.log_text());
    let rows = store.outbox().await.unwrap();
    assert_eq!(row(&rows, DELIVERED, "acknowledgement").status, "sent");
    assert_eq!(row(&rows, DELIVERED, "agenda").status, "sent", "not held by the cap the acknowledgement reached");
    let waiting = row(&rows, DELIVERED, "rejection");
    assert_eq!((waiting.status.as_str(), waiting.attempts), ("pending", 0), "the second reply within the hour waits");
    assert_eq!(pf.wait_for(DELIVERED, 2).len(), 2, "log: {}", pf.log_text());
    let (counted, _) = store.replies_sent_since(DELIVERED, &marac_intake::clock::stamp(Utc::now() - chrono::Duration::hours(1))).await.unwrap();
    assert_eq!(counted, 1, "the agenda is not counted as a reply");
}
