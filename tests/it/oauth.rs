//! `auth = "oauth2"` against a local OAuth 2.0 token endpoint ([`TokenServer`], tokens that live
//! 20 seconds) and a real Dovecot whose oauth2 passdb validates those tokens by introspection at
//! the same server (an expired token is `active: false`), with Postfix submission
//! authenticating through that Dovecot's SASL (XOAUTH2 too). The service fetches its own
//! tokens (client credentials), renews its IMAP session and rebuilds its SMTP pool as they come
//! due, and decides and answers every message once across several expiries.

use crate::support::mailservers::{Dovecot, Postfix};
use crate::support::token_server::TokenServer;

use chrono::DateTime;
use marac_intake::store::Store;
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

const SERVICE: &str = "marac@marac.example.test";
const CLIENT_ID: &str = "marac-intake-test";
const CLIENT_SECRET: &str = "s3cret-of-the-test-app";
/// How long the test server's tokens live: the service renews at 80 %, 16 s.
const LIFETIME: Duration = Duration::from_secs(20);

/// `[imap]` on the implicit-TLS port and `[smtp]` on STARTTLS submission, both `auth =
/// "oauth2"` at `tokens`, with the client secret in a file; the scopes tell the two apart.
fn oauth_env(dovecot: &Dovecot, postfix: &Postfix, tokens: &TokenServer, secret_file: &Path) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> =
        crate::support::mailservers::service_env(dovecot, postfix, SERVICE).into_iter().filter(|(k, _)| !k.ends_with("__PASSWORD_FILE")).collect();
    for section in ["IMAP", "SMTP"] {
        for (k, v) in [
            ("AUTH", "oauth2".to_owned()),
            ("TOKEN_URL", tokens.token_url()),
            ("CLIENT_ID", CLIENT_ID.to_owned()),
            ("CLIENT_SECRET_FILE", secret_file.display().to_string()),
            ("SCOPE", section.to_ascii_lowercase()),
            ("ALLOW_PLAINTEXT_ON_LOOPBACK", "true".to_owned()),
        ] {
            env.push((format!("MARAC__{section}__{k}"), v));
        }
    }
    env
}

fn secret_file(dovecot: &Dovecot, secret: &str) -> std::path::PathBuf {
    let f = dovecot.dir.join("client-secret");
    std::fs::write(&f, format!("{secret}\n")).unwrap();
    f
}

/// `watch` idles across several token expiries (about 75 s, tokens of 20 s) while referrals are
/// delivered at intervals; the server also drops the session once, its token revoked. Every
/// message is decided once and filed, every reply is handed over once and delivered once, the
/// IMAP session and the SMTP pool logged in with several tokens (each still active), and a
/// token the service used is refused once it has expired.
#[tokio::test]
async fn watch_and_outbox_work_across_token_expiries_and_decide_and_answer_every_message_once() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let labels: serde_json::Value = serde_json::from_slice(&std::fs::read(root.join("fixtures/triage/labels.json")).unwrap()).unwrap();
    // The first six answered scenarios, in the labels' order (their decisions build on each other).
    let chosen: Vec<(Vec<u8>, DateTime<chrono::FixedOffset>, String)> = labels
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["expect"]["reply"] != "none" && !l["expect"]["reply_to"].as_str().unwrap_or_default().is_empty())
        .take(6)
        .map(|l| {
            let raw = std::fs::read(root.join("fixtures/triage").join(l["file"].as_str().unwrap())).unwrap();
            (raw, DateTime::parse_from_rfc3339(l["arrived"].as_str().unwrap()).unwrap(), l["expect"]["reply_to"].as_str().unwrap().to_owned())
        })
        .collect();
    let mut users: Vec<&str> = chosen.iter().map(|(_, _, t)| t.as_str()).collect();
    users.push(SERVICE);
    users.sort_unstable();
    users.dedup();

    let tokens = TokenServer::start(CLIENT_ID, CLIENT_SECRET, SERVICE, LIFETIME);
    let dovecot = Dovecot::start_with_oauth(&users, tokens.port);
    let postfix = Postfix::start(&dovecot);
    let secret = secret_file(&dovecot, CLIENT_SECRET);
    let mut env = oauth_env(&dovecot, &postfix, &tokens, &secret);
    // A long IDLE: the session is renewed for its token, not for IDLE's own limit.
    env.push(("MARAC__IMAP__IDLE_SECS".to_owned(), "600".to_owned()));
    env.push(("MARAC__SMTP__COMMAND_TIMEOUT_SECS".to_owned(), "10".to_owned()));
    let cfg = marac_intake::config::load(&root.join("config/samples.toml"), env).expect("test configuration");
    let store = Store::open(&format!("sqlite://{}", dovecot.dir.join("intake.db").display())).await.unwrap();

    let wake = Notify::new();
    let shutdown = CancellationToken::new();
    let clock = marac_intake::clock::Clock::system();
    let mailbox = marac_intake::mailbox::watch(&cfg, &store, &clock, &wake, shutdown.clone());
    let outbox = marac_intake::outbox::serve(&cfg, &store, &clock, &wake, shutdown.clone());
    let started = Instant::now();
    let driver = async {
        // One referral every 12 s: about 70 s, three to four token lifetimes.
        for (i, (raw, arrived, _)) in chosen.iter().enumerate() {
            tokio::time::sleep(Duration::from_secs(if i == 0 { 2 } else { 12 })).await;
            if i == 3 {
                // The server drops the idling session (no BYE, as a connection cut when a token
                // expires) and the IMAP token in use is revoked: the mailbox must come back with
                // a new token, never the one it held (an inactive introspection would show it).
                tokens.revoke("imap");
                assert!(dovecot.drop_imap_sessions() >= 1, "the watch had a session to drop");
            }
            dovecot.append(SERVICE, "INBOX", raw, *arrived).await;
        }
        // Until every message is filed and every reply the outbox holds is sent (bounded).
        for _ in 0..600 {
            let filed = dovecot.list_folder(SERVICE, "INBOX").await.is_empty();
            let (total, sent): (i64, i64) =
                sqlx::query_as("SELECT COUNT(*), COALESCE(SUM(CASE WHEN status = 'sent' THEN 1 ELSE 0 END), 0) FROM outbox").fetch_one(store.pool()).await.unwrap();
            let decided = store.history().await.unwrap().len();
            let mut delivered = 0;
            for user in users.iter().filter(|u| **u != SERVICE) {
                delivered += dovecot.list_folder(user, "INBOX").await.len();
            }
            if filed && decided == chosen.len() && total > 0 && sent == total && delivered as i64 == total {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        // Give a second decision or reply, if there were one, the time to show up.
        tokio::time::sleep(Duration::from_secs(3)).await;
        shutdown.cancel();
    };
    let (watched, (), ()) = tokio::time::timeout(Duration::from_secs(240), async { tokio::join!(mailbox, outbox, driver) }).await.expect("the service stops in time");
    watched.expect("watch stops cleanly");
    let ran = started.elapsed();
    assert!(ran >= Duration::from_secs(60), "the run spans several token lifetimes: {ran:?}");

    // Every message decided once, and filed.
    let history = store.history().await.unwrap();
    assert_eq!(history.len(), chosen.len(), "one decision per message: {history:?}");
    let decisions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM decisions").fetch_one(store.pool()).await.unwrap();
    assert_eq!(decisions, chosen.len() as i64, "no message decided twice");
    assert!(dovecot.list_folder(SERVICE, "INBOX").await.is_empty(), "every referral was filed");

    // Every reply handed over once and delivered once, to its recipient.
    let rows: Vec<(String, String)> = sqlx::query_as("SELECT recipient, status FROM outbox").fetch_all(store.pool()).await.unwrap();
    assert!(rows.len() >= 4, "most of the chosen referrals are answered: {rows:?}");
    assert!(rows.iter().all(|(_, s)| s == "sent"), "{rows:?}; postfix log:\n{}", postfix.log());
    for user in users.iter().filter(|u| **u != SERVICE) {
        let expected = rows.iter().filter(|(r, _)| r.eq_ignore_ascii_case(user)).count();
        assert_eq!(dovecot.list_folder(user, "INBOX").await.len(), expected, "{user}: one delivery per reply");
    }
    // No reply deferred for a refused token (nor, here, for anything else).
    let attempts: Vec<(String, Option<i64>, Option<String>)> = sqlx::query_as("SELECT outcome, code, detail FROM outbox_attempts").fetch_all(store.pool()).await.unwrap();
    eprintln!("outbox attempts: {attempts:?}");
    for (outcome, code, detail) in &attempts {
        let refused = marac_intake::oauth::smtp_auth_refused(code.and_then(|c| u16::try_from(c).ok()), detail.as_deref().unwrap_or_default());
        assert!(outcome == "sent" || !refused, "no token was refused mid-run: {outcome} {code:?} {detail:?}");
    }
    assert_eq!(attempts.len(), rows.len(), "every reply accepted at its first attempt");

    // Both sides logged in with fresh tokens as they came due, and only with active ones.
    let issued = tokens.issued();
    let (imap, smtp): (Vec<_>, Vec<_>) = issued.iter().partition(|i| i.scope == "imap");
    assert!(smtp.iter().all(|i| i.scope == "smtp"));
    let introspected = tokens.introspected();
    let logins = |scope: &[&crate::support::token_server::Issued]| {
        let mut used: Vec<&str> = introspected.iter().filter(|x| x.active && scope.iter().any(|i| i.token == x.token)).map(|x| x.token.as_str()).collect();
        used.sort_unstable();
        used.dedup();
        used.len()
    };
    eprintln!("{} IMAP and {} SMTP tokens issued in {ran:?}; {} introspections", imap.len(), smtp.len(), introspected.len());
    assert!(imap.len() >= 4, "IMAP tokens renewed every 16 s: {}", imap.len());
    assert!(logins(&imap) >= 4, "the mailbox logged in with {} different tokens", logins(&imap));
    assert!(smtp.len() >= 2 && logins(&smtp) >= 2, "the SMTP pool was rebuilt with new tokens: {} issued, {} used", smtp.len(), logins(&smtp));
    assert!(introspected.iter().all(|x| x.active), "no expired token was ever presented");
    assert_eq!(tokens.refused_clients(), 0);

    // The first token the mailbox used has expired: the server refuses it now.
    let first = &imap[0].token;
    assert!(imap[0].at.elapsed() > LIFETIME);
    let stale = [
        ("MARAC__IMAP__AUTH".to_owned(), "xoauth2".to_owned()),
        ("MARAC__IMAP__TOKEN_COMMAND".to_owned(), format!("echo {first}")),
        ("MARAC__IMAP__HOST".to_owned(), "127.0.0.1".to_owned()),
        ("MARAC__IMAP__PORT".to_owned(), dovecot.imaps_port.to_string()),
        ("MARAC__IMAP__TLS".to_owned(), "implicit".to_owned()),
        ("MARAC__IMAP__USERNAME".to_owned(), SERVICE.to_owned()),
        ("MARAC__IMAP__CA_FILE".to_owned(), dovecot.ca_file.display().to_string()),
    ];
    let stale_cfg = marac_intake::config::load(&root.join("config/samples.toml"), stale).unwrap();
    assert!(marac_intake::mailbox::connect(stale_cfg.file.imap.as_ref().unwrap()).await.is_err(), "an expired token is refused");
}

/// A wrong client secret: no token, and the error names the key to fix; the mail server is never
/// asked. Mended in the file, the next connection gets a token and logs in (the secret is read
/// at each fetch).
#[tokio::test]
async fn a_wrong_client_secret_is_named_and_a_mended_file_is_read_at_the_next_fetch() {
    let tokens = TokenServer::start(CLIENT_ID, CLIENT_SECRET, SERVICE, LIFETIME);
    let dovecot = Dovecot::start_with_oauth(&[SERVICE], tokens.port);
    let postfix = Postfix::start(&dovecot);
    let secret = secret_file(&dovecot, "not-the-secret");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cfg = marac_intake::config::load(&root.join("config/samples.toml"), oauth_env(&dovecot, &postfix, &tokens, &secret)).unwrap();
    let imap = cfg.file.imap.as_ref().unwrap();
    let err = format!("{:#}", marac_intake::mailbox::connect(imap).await.err().expect("no token, no login"));
    assert!(err.contains("invalid_client") && err.contains("imap.client_secret_file"), "{err}");
    assert!(!err.contains("not-the-secret"), "the secret is never quoted: {err}");
    assert_eq!(tokens.refused_clients(), 1);
    assert!(tokens.introspected().is_empty(), "the mail server was not asked");

    std::fs::write(&secret, format!("{CLIENT_SECRET}\n")).unwrap();
    marac_intake::mailbox::connect(imap).await.expect("a good secret: a token, and XOAUTH2 with it").logout().await.unwrap();
    assert_eq!(tokens.issued().len(), 1);
}

/// A token the server refuses before it is due (revoked) is replaced at once: the mailbox's
/// next login fetches a new one on the same connection instead of waiting for 80 % of its
/// lifetime, and the SMTP sender that met the refusal says what to fix, defers the reply (never
/// fails it) and is built again with a new token, which sends it.
#[tokio::test]
async fn a_refused_token_is_replaced_at_once_for_imap_and_smtp() {
    let tokens = TokenServer::start(CLIENT_ID, CLIENT_SECRET, SERVICE, Duration::from_secs(3600));
    let owen = "owen.pryor@kingsmere.pnn.police.example.test";
    let dovecot = Dovecot::start_with_oauth(&[SERVICE, owen], tokens.port);
    let postfix = Postfix::start(&dovecot);
    let secret = secret_file(&dovecot, CLIENT_SECRET);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cfg = marac_intake::config::load(&root.join("config/samples.toml"), oauth_env(&dovecot, &postfix, &tokens, &secret)).unwrap();

    // IMAP: one source across two connections, as `watch` keeps it.
    let imap = cfg.file.imap.as_ref().unwrap();
    let source = marac_intake::mailbox::token_source(imap).unwrap().expect("auth = oauth2 has a token source");
    marac_intake::mailbox::connect_with(imap, Some(&source)).await.expect("first login").logout().await.unwrap();
    tokens.revoke_all();
    marac_intake::mailbox::connect_with(imap, Some(&source)).await.expect("the refused cached token is replaced at once").logout().await.unwrap();
    let issued: Vec<String> = tokens.issued().iter().filter(|i| i.scope == "imap").map(|i| i.token.clone()).collect();
    assert_eq!(issued.len(), 2, "one token, then one more after the refusal");
    let asked: Vec<bool> = tokens.introspected().iter().map(|x| x.active).collect();
    assert_eq!(asked, [true, false, true], "the old token refused, the new one taken");

    // SMTP: a reply waiting in the outbox, a sender built with a token that is then revoked.
    let store = Store::open(&format!("sqlite://{}", dovecot.dir.join("intake.db").display())).await.unwrap();
    let file = "001_police_seed_victim_l_accept15.eml";
    let labels: serde_json::Value = serde_json::from_slice(&std::fs::read(root.join("fixtures/triage/labels.json")).unwrap()).unwrap();
    let arrived = labels.as_array().unwrap().iter().find(|l| l["file"] == file).unwrap()["arrived"].as_str().unwrap().to_owned();
    let raw = std::fs::read(root.join("fixtures/triage").join(file)).unwrap();
    marac_intake::triage::triage_message(&raw, Some(file), Some(DateTime::parse_from_rfc3339(&arrived).unwrap()), chrono::Utc::now().fixed_offset(), &cfg, &store)
        .await
        .unwrap();
    let smtp = marac_intake::outbox::token_source(&cfg).unwrap().expect("smtp.auth = oauth2 has a token source");
    let first = smtp.token().await.unwrap();
    let sender = marac_intake::outbox::Sender::with_token(&cfg, Some(&first)).unwrap();
    tokens.revoke_all();
    let now = chrono::Utc::now();
    let report = sender.send_pending(&cfg, &store, now).await.unwrap();
    assert_eq!((report.sent, report.deferred, report.failed), (0, 1, 0), "a refused token defers the reply, never fails it");
    let why = sender.refused().expect("the refusal is noted");
    assert!(why.contains("refused the app's token") && why.contains("smtp.scope"), "{why}");
    smtp.invalidate(first.generation).await;
    let second = smtp.token().await.unwrap();
    assert_eq!(second.generation, first.generation + 1);
    let rebuilt = marac_intake::outbox::Sender::with_token(&cfg, Some(&second)).unwrap();
    let report = rebuilt.send_pending(&cfg, &store, now + chrono::Duration::hours(2)).await.unwrap();
    assert_eq!(report.sent, 1, "the new pool logs in with the new token: {report:?}; postfix log:\n{}", postfix.log());
    for _ in 0..100 {
        if !dovecot.list_folder(owen, "INBOX").await.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(dovecot.list_folder(owen, "INBOX").await.len(), 1, "delivered once");
}
