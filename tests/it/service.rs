//! The two halves of `run` together against real servers on 127.0.0.1: referrals APPENDed to the
//! service's Dovecot inbox are picked up by `mailbox::watch` (IDLE), decided, filed, and their
//! replies sent by `outbox::serve` through Postfix submission, which delivers them by LMTP into
//! each referrer's Dovecot mailbox. Every reply arrives exactly once, at the right mailbox only.

use crate::support;

use chrono::DateTime;
use marac_intake::store::Store;
use std::path::Path;
use std::time::{Duration, Instant};
use support::mailservers::{Dovecot, Postfix};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

const SERVICE: &str = "marac@marac.example.test";

#[tokio::test]
async fn referrals_in_the_inbox_get_exactly_one_reply_each_in_the_referrers_mailbox() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let labels: serde_json::Value = serde_json::from_slice(&std::fs::read(root.join("fixtures/triage/labels.json")).unwrap()).unwrap();
    // The first three scenarios that are answered, each from a different referrer.
    let mut chosen: Vec<(Vec<u8>, DateTime<chrono::FixedOffset>, String)> = Vec::new();
    for l in labels.as_array().unwrap() {
        let to = l["expect"]["reply_to"].as_str().unwrap_or_default().to_owned();
        if l["expect"]["reply"] == "none" || to.is_empty() || chosen.iter().any(|(_, _, t)| *t == to) {
            continue;
        }
        let raw = std::fs::read(root.join("fixtures/triage").join(l["file"].as_str().unwrap())).unwrap();
        chosen.push((raw, DateTime::parse_from_rfc3339(l["arrived"].as_str().unwrap()).unwrap(), to));
        if chosen.len() == 3 {
            break;
        }
    }
    let mut users: Vec<&str> = chosen.iter().map(|(_, _, t)| t.as_str()).collect();
    users.push(SERVICE);
    let dovecot = Dovecot::start(&users);
    let postfix = Postfix::start(&dovecot);
    let mut env = support::mailservers::service_env(&dovecot, &postfix, SERVICE);
    env.push(("MARAC__IMAP__IDLE_SECS".to_owned(), "20".to_owned()));
    let cfg = marac_intake::config::load(&root.join("config/samples.toml"), env).expect("test configuration");
    let store = Store::open(&format!("sqlite://{}", dovecot.dir.join("intake.db").display())).await.unwrap();

    let wake = Notify::new();
    let shutdown = CancellationToken::new();
    let clock = marac_intake::clock::Clock::system();
    let mailbox = marac_intake::mailbox::watch(&cfg, &store, &clock, &wake, shutdown.clone());
    let outbox = marac_intake::outbox::serve(&cfg, &store, &clock, &wake, shutdown.clone());
    let driver = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let started = Instant::now();
        for (raw, arrived, _) in &chosen {
            dovecot.append(SERVICE, "INBOX", raw, *arrived).await;
        }
        let mut got = Vec::new();
        for _ in 0..300 {
            got.clear();
            for (_, _, to) in &chosen {
                got.push(dovecot.list_folder(to, "INBOX").await.len());
            }
            if got.iter().all(|n| *n >= 1) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        eprintln!("{} replies delivered {:?} after the APPENDs", chosen.len(), started.elapsed());
        // Give a second reply, if there were one, the time to show up.
        tokio::time::sleep(Duration::from_secs(2)).await;
        shutdown.cancel();
        got
    };
    let (watched, (), _) = tokio::time::timeout(Duration::from_secs(120), async { tokio::join!(mailbox, outbox, driver) }).await.expect("the service stops in time");
    watched.expect("watch stops cleanly");

    for (_, _, to) in &chosen {
        let inbox = dovecot.list_folder(to, "INBOX").await;
        assert_eq!(inbox.len(), 1, "{to}: exactly one reply; postfix log:\n{}", postfix.log());
        let text = String::from_utf8_lossy(&inbox[0]).to_ascii_lowercase();
        assert!(text.contains("auto-submitted: auto-replied"), "{to}: our reply carries Auto-Submitted");
    }
    assert!(dovecot.list_folder(SERVICE, "INBOX").await.is_empty(), "every referral was filed");
    let sent: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE status = 'sent'").fetch_one(store.pool()).await.unwrap();
    assert_eq!(sent, chosen.len() as i64);
}
