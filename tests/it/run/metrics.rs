//! Operators watching `marac-intake run` (issue 15, item 3), with a real Dovecot and Postfix on
//! 127.0.0.1 and Debian's Prometheus scraping the service's `/metrics` every second:
//! - `/healthz` answers at once, `/readyz` once the mailbox is logged in;
//! - a backlog is drained; once replies are going out, Postfix is stopped and more referrals
//!   arrive: their replies wait, and Prometheus's `MaracOutboxStuck` (the repository's rule,
//!   with its threshold and `for:` shortened to seconds) fires, as its HTTP API shows;
//! - Postfix is started again: the replies go and the alert clears;
//! - `/metrics` has the decisions by outcome and area, the latency histogram, the outbox by
//!   status, the mailbox's connection and last pass, and names no one; systemd gets `STATUS=`
//!   lines saying what the service is doing.

use super::{eventually, labelled, root, servers_for, service_env, Daemon};
use crate::support::mailservers::with_message_id;
use crate::support::prometheus::{get, installed, sample, Prometheus};
use serde_json::Value;
use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};

/// The repository's rules, with `MaracOutboxStuck` made quick: a reply unsent for 3 s, for 2 s.
fn quick_rules() -> String {
    let rules = std::fs::read_to_string(root().join("ops/prometheus/marac-intake.rules.yml")).unwrap();
    let start = rules.find("- alert: MaracOutboxStuck").expect("the rules have MaracOutboxStuck");
    let end = start + rules[start + 1..].find("- alert: ").expect("another alert follows") + 1;
    let block = &rules[start..end];
    let quick = block.replace("(marac_outbox_oldest_unsent_age_seconds) > 1800", "(marac_outbox_oldest_unsent_age_seconds) > 3").replace("for: 5m", "for: 2s");
    assert!(quick.contains("> 3") && quick.contains("for: 2s"), "the rule's threshold and for: were found:\n{block}");
    format!("{}{quick}{}", &rules[..start], &rules[end..])
}

fn firing(p: &Prometheus, alert: &str) -> bool {
    p.alerts().iter().any(|(name, state)| name == alert && state == "firing")
}

fn active(p: &Prometheus, alert: &str) -> bool {
    p.alerts().iter().any(|(name, _)| name == alert)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_prometheus_sees_the_outbox_alert_fire_while_postfix_is_stopped_during_a_drain_and_clear_when_it_is_back() {
    let Some(prometheus) = installed("prometheus") else {
        eprintln!("skipped: prometheus is not installed (Debian package `prometheus`, which .ci/run installs)");
        return;
    };
    let began = Instant::now();
    const FIRST: usize = 16;
    const SECOND: usize = 8;
    let labels: Value = serde_json::from_slice(&std::fs::read(root().join("fixtures/triage/labels.json")).unwrap()).unwrap();
    let answered: Vec<String> = labels.as_array().unwrap().iter().filter(|l| l["expect"]["reply"] != "none").map(|l| l["file"].as_str().unwrap().to_owned()).collect();
    let emails: Vec<_> = labelled(&root().join("fixtures/triage")).into_iter().filter(|(f, _, _)| answered.contains(f)).collect();
    let (people, dovecot, postfix) = servers_for(&emails);
    let mut env = service_env(&dovecot, &postfix);
    env.extend([("MARAC__SMTP__RETRY_FIRST_SECS", "1"), ("MARAC__SMTP__RETRY_MAX_SECS", "2"), ("MARAC__IMAP__IDLE_SECS", "5")].map(|(k, v)| (k.to_owned(), v.to_owned())));
    let config = root().join("config/samples.toml");
    let db = dovecot.dir.join("run.db");
    let referral = |i: usize| {
        let (_, raw, arrived) = &emails[i % emails.len()];
        (with_message_id(raw, &format!("metrics-{i}@metrics.example.test")), *arrived)
    };
    for i in 0..FIRST {
        let (raw, arrived) = referral(i);
        dovecot.append(super::SERVICE, "INBOX", &raw, arrived).await;
    }
    let sock_path = dovecot.dir.join("notify.sock");
    let sock = UnixDatagram::bind(&sock_path).unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
    // Read all along (a full socket would hold the service's notifications back).
    let statuses = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let listening = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let reader = std::thread::spawn({
        let (statuses, listening) = (statuses.clone(), listening.clone());
        move || {
            let mut buf = [0u8; 512];
            while listening.load(std::sync::atomic::Ordering::SeqCst) {
                if let Ok(n) = sock.recv(&mut buf) {
                    if let Some(s) = String::from_utf8_lossy(&buf[..n]).strip_prefix("STATUS=") {
                        statuses.lock().unwrap().push(s.to_owned());
                    }
                }
            }
        }
    });
    let daemon = Daemon::start(&config, &db, &env, &dovecot.dir.join("run.log"), Some(&sock_path));

    // The endpoints, on the port the log names.
    let said = "The metrics endpoint is listening. url=http://";
    assert!(eventually(Duration::from_secs(30), async || daemon.log().contains(said)).await, "the metrics address is logged:\n{}", daemon.log());
    let metrics = daemon.log().split(said).nth(1).and_then(|l| l.split_whitespace().next()).unwrap().to_owned();
    assert_eq!(get(&metrics, "/healthz").map(|(s, _)| s), Some(200));
    assert!(eventually(Duration::from_secs(30), async || get(&metrics, "/readyz").is_some_and(|(s, _)| s == 200)).await, "ready once the mailbox is logged in: {:?}", get(&metrics, "/readyz"));
    let scrape = || get(&metrics, "/metrics").map(|(_, body)| body).unwrap_or_default();
    let value = |series: &str| sample(&scrape(), series).unwrap_or(0.0);

    let prom = Prometheus::start(&prometheus, &metrics, &quick_rules());
    assert!(eventually(Duration::from_secs(15), async || prom.target_health() == "up").await, "prometheus scrapes the service:\n{}", prom.log());

    // Replies are going out: stop Postfix part-way through, and more referrals arrive.
    assert!(eventually(Duration::from_secs(60), async || value("marac_outbox_rows{status=\"sent\"}") >= 1.0).await, "replies go out; log:\n{}", daemon.log());
    postfix.stop();
    let decided_at_stop = value("marac_messages_decided_total{outcome=\"accepted\",area=\"default\"}");
    eprintln!("postfix stopped at {:?}, {decided_at_stop} accepted so far", began.elapsed());
    for i in FIRST..FIRST + SECOND {
        let (raw, arrived) = referral(i);
        dovecot.append(super::SERVICE, "INBOX", &raw, arrived).await;
    }
    assert!(
        eventually(Duration::from_secs(45), async || firing(&prom, "MaracOutboxStuck")).await,
        "MaracOutboxStuck fires while Postfix is stopped: alerts {:?}, unsent age {}; log:\n{}",
        prom.alerts(),
        value("marac_outbox_oldest_unsent_age_seconds"),
        daemon.log()
    );
    let fired = began.elapsed();
    let text = scrape();
    assert!(sample(&text, "marac_outbox_attempts_total{result=\"deferred\"}").unwrap_or(0.0) >= 1.0, "deferred attempts are counted:\n{text}");
    assert!(sample(&text, "marac_outbox_rows{status=\"pending\"}").unwrap_or(0.0) >= 1.0, "replies wait:\n{text}");
    assert_eq!(get(&metrics, "/readyz").map(|(s, _)| s), Some(200), "the mailbox side is still ready");

    // Postfix is back: the replies go and the alert clears.
    postfix.start_again();
    assert!(
        eventually(Duration::from_secs(45), async || !active(&prom, "MaracOutboxStuck")).await,
        "MaracOutboxStuck clears once Postfix is back: alerts {:?}; log:\n{}",
        prom.alerts(),
        daemon.log()
    );
    let cleared = began.elapsed();
    assert!(eventually(Duration::from_secs(20), async || dovecot.list_folder(super::SERVICE, "INBOX").await.is_empty()).await, "the inbox was drained");
    assert!(eventually(Duration::from_secs(20), async || value("marac_outbox_oldest_unsent_age_seconds") == 0.0).await, "nothing left unsent");
    eprintln!("MaracOutboxStuck fired at {fired:?} and cleared at {cleared:?}");

    // What /metrics shows, and that it names no one.
    let text = scrape();
    let decided: f64 = text.lines().filter(|l| l.starts_with("marac_messages_decided_total{")).filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok()).sum();
    assert_eq!(decided as usize, FIRST + SECOND, "every referral counted once by outcome and area:\n{text}");
    for series in [
        "marac_decision_duration_seconds_count",
        "marac_imap_connected{mailbox=\"default\"}",
        "marac_mailbox_watched{mailbox=\"default\"}",
        "marac_mailbox_last_pass_timestamp_seconds{mailbox=\"default\"}",
        "marac_outbox_rows{status=\"sent\"}",
        "marac_review_waiting",
        "marac_database_up",
    ] {
        assert!(sample(&text, series).is_some(), "{series} in /metrics:\n{text}");
    }
    assert_eq!(sample(&text, "marac_imap_connected{mailbox=\"default\"}"), Some(1.0));
    assert_eq!(sample(&text, "marac_database_up"), Some(1.0));
    assert!(text.contains("marac_decision_duration_seconds_bucket{le=\"0.5\"}"), "a histogram with buckets:\n{text}");
    assert!(!text.contains("marac_token_expiry_seconds"), "no token is known with a password login");
    for p in &people {
        assert!(!text.to_ascii_lowercase().contains(p.as_str()), "/metrics names {p}");
    }
    assert!(!text.contains('@'), "no address in /metrics");

    // systemd heard what the service is doing.
    let all_said = format!("{} decided, 0 waiting to send", FIRST + SECOND);
    assert!(eventually(Duration::from_secs(12), async || statuses.lock().unwrap().iter().any(|s| s.contains(&all_said))).await, "STATUS= lines: {statuses:?}");
    listening.store(false, std::sync::atomic::Ordering::SeqCst);
    reader.join().unwrap();
    let statuses = statuses.lock().unwrap().clone();
    assert!(statuses.iter().any(|s| s.starts_with("watching 1 mailbox; ") && s.contains(&format!("{} decided, 0 waiting to send", FIRST + SECOND))), "STATUS= lines: {statuses:?}");
    assert!(statuses.iter().any(|s| s.contains("waiting to send") && !s.contains(" 0 waiting to send")), "a STATUS= line counted replies waiting while Postfix was stopped: {statuses:?}");

    daemon.signal("-TERM");
    let mut daemon = daemon;
    assert!(daemon.wait_exit(Duration::from_secs(30)).is_some_and(|s| s.success()), "clean stop; log:\n{}", daemon.log());
    assert!(get(&metrics, "/healthz").is_none(), "the endpoints stop with the service");
    eprintln!("done in {:?}", began.elapsed());
}
