//! `cargo bench --bench service`: the whole service (`service::run`, as `marac-intake run` runs
//! it) against a real Dovecot and Postfix on 127.0.0.1, started by the test harness.
//!
//! 1. Latency at a steady rate: referrals land in the MARAC inbox (IMAP APPEND, as a delivery
//!    would) at `RATE` per second; each one's latency runs from the end of its APPEND until our
//!    reply is in the referrer's Maildir (IDLE push, fetch, decision, filing, SMTP submission,
//!    Postfix, LMTP delivery). Prints p50, p99 and the maximum. Target (issue 4): p99 < 1 s.
//! 2. Backlog drain: `BACKLOG` referrals already in the inbox when the service starts; prints
//!    the rate at which they are decided and filed, and at which their replies are delivered.
//!    Target: ≥ 100 emails/s.
//!
//! Referrals are the answered triage scenarios from `fixtures/triage`, each copy with its own
//! Message-ID. Arguments: `[RATE] [COUNT] [BACKLOG]` (default 10 200 1000).

#[path = "../tests/it/support/mod.rs"]
mod support;
use support::mailservers;

use mailservers::{service_env, with_message_id, Dovecot, Postfix};
use marac_intake::service::{Control, RunOptions};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const SERVICE: &str = "marac@marac.example.test";

/// The `In-Reply-To` ids of the replies delivered so far, with the time each was first seen.
fn delivered(maildirs: &[PathBuf], seen: &mut HashMap<String, Instant>, files: &mut std::collections::HashSet<PathBuf>) {
    for dir in maildirs {
        for sub in ["new", "cur"] {
            let Ok(entries) = std::fs::read_dir(dir.join(sub)) else { continue };
            for e in entries.flatten() {
                let path = e.path();
                if files.contains(&path) {
                    continue;
                }
                let Ok(text) = std::fs::read_to_string(&path) else { continue };
                files.insert(path);
                if let Some(line) = text.lines().find(|l| l.to_ascii_lowercase().starts_with("in-reply-to:")) {
                    let id = line["in-reply-to:".len()..].trim().trim_matches(['<', '>']).to_owned();
                    seen.entry(id).or_insert_with(Instant::now);
                }
            }
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

struct Bench {
    dovecot: Dovecot,
    _postfix: Postfix,
    env: Vec<(String, String)>,
    maildirs: Vec<PathBuf>,
    emails: Vec<(Vec<u8>, chrono::DateTime<chrono::FixedOffset>)>,
}

impl Bench {
    fn start(root: &Path) -> Bench {
        let labels: serde_json::Value = serde_json::from_slice(&std::fs::read(root.join("fixtures/triage/labels.json")).unwrap()).unwrap();
        let mut emails = Vec::new();
        let mut people: Vec<String> = Vec::new();
        for l in labels.as_array().unwrap() {
            let to = l["expect"]["reply_to"].as_str().unwrap_or_default().to_ascii_lowercase();
            if l["expect"]["reply"] == "none" || to.is_empty() {
                continue;
            }
            let raw = std::fs::read(root.join("fixtures/triage").join(l["file"].as_str().unwrap())).unwrap();
            emails.push((raw, chrono::DateTime::parse_from_rfc3339(l["arrived"].as_str().unwrap()).unwrap()));
            if !people.contains(&to) {
                people.push(to);
            }
        }
        let mut users: Vec<&str> = people.iter().map(String::as_str).collect();
        users.push(SERVICE);
        let dovecot = Dovecot::start(&users);
        let postfix = Postfix::start(&dovecot);
        let maildirs = people.iter().map(|p| dovecot.dir.join("mail").join(p).join("Maildir")).collect();
        let mut env = service_env(&dovecot, &postfix, SERVICE);
        env.push(("MARAC__SMTP__MAX_REPLIES_PER_RECIPIENT_PER_HOUR".to_owned(), "100000".to_owned()));
        Bench { dovecot, _postfix: postfix, env, maildirs, emails }
    }

    /// Starts the service with a fresh database; the returned sender stops it.
    fn service(&self, root: &Path, db: &str) -> (tokio::sync::mpsc::UnboundedSender<Control>, tokio::task::JoinHandle<anyhow::Result<()>>) {
        for (k, v) in &self.env {
            // Set before the service reads its configuration; nothing else reads it meanwhile.
            std::env::set_var(k, v);
        }
        let opts = RunOptions { config: root.join("config/samples.toml"), db: Some(format!("sqlite://{}", self.dovecot.dir.join(db).display())) };
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        (tx, tokio::spawn(async move { marac_intake::service::run(&opts, marac_intake::clock::Clock::system(), rx).await }))
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let rate: f64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(10.0);
    let count: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(200);
    let backlog: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(1000);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let bench = Bench::start(root);
    rt.block_on(async {
        // 1. Steady rate.
        let (stop, service) = bench.service(root, "latency.db");
        tokio::time::sleep(Duration::from_secs(2)).await;
        let mut sent: Vec<(String, Instant)> = Vec::new();
        let mut seen = HashMap::new();
        let mut files = std::collections::HashSet::new();
        let gap = Duration::from_secs_f64(1.0 / rate);
        let started = Instant::now();
        for i in 0..count {
            let due = started + gap.mul_f64(i as f64);
            while Instant::now() < due {
                delivered(&bench.maildirs, &mut seen, &mut files);
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            let (raw, arrived) = &bench.emails[i % bench.emails.len()];
            let id = format!("latency-{i}@bench.example.test");
            bench.dovecot.append(SERVICE, "INBOX", &with_message_id(raw, &id), *arrived).await;
            sent.push((id, Instant::now()));
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        while seen.len() < count && Instant::now() < deadline {
            delivered(&bench.maildirs, &mut seen, &mut files);
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let mut lat: Vec<Duration> = sent.iter().filter_map(|(id, at)| seen.get(id).map(|r| r.saturating_duration_since(*at))).collect();
        lat.sort();
        let _ = stop.send(Control::Stop);
        service.await.unwrap().unwrap();
        println!("steady rate: {count} referrals at {rate}/s; {} replies delivered", lat.len());
        if !lat.is_empty() {
            println!(
                "arrival-to-reply latency: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms (target p99 < 1000 ms)",
                percentile(&lat, 0.50).as_secs_f64() * 1000.0,
                percentile(&lat, 0.99).as_secs_f64() * 1000.0,
                lat.last().unwrap().as_secs_f64() * 1000.0
            );
        }

        // 2. Backlog drain.
        for i in 0..backlog {
            let (raw, arrived) = &bench.emails[i % bench.emails.len()];
            bench.dovecot.append(SERVICE, "INBOX", &with_message_id(raw, &format!("backlog-{i}@bench.example.test")), *arrived).await;
        }
        let db = bench.dovecot.dir.join("drain.db");
        let before = seen.len();
        let started = Instant::now();
        let (stop, service) = bench.service(root, "drain.db");
        // A look at the service's database, once the service has created it.
        while !db.exists() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        // The database is encrypted: opened as the store opens it (the keys beside it).
        let pool = marac_intake::store::Store::open(&format!("sqlite://{}", db.display())).await.unwrap().pool().clone();
        let mut decided_at = None;
        let deadline = Instant::now() + Duration::from_secs(600);
        while Instant::now() < deadline {
            delivered(&bench.maildirs, &mut seen, &mut files);
            if decided_at.is_none() {
                let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages").fetch_one(&pool).await.unwrap_or(0);
                if n as usize >= backlog {
                    decided_at = Some(started.elapsed());
                }
            }
            if seen.len() - before >= backlog {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let replied = started.elapsed();
        let _ = stop.send(Control::Stop);
        service.await.unwrap().unwrap();
        if let Some(d) = decided_at {
            println!("backlog of {backlog}: decided and filed in {:.2} s ({:.0} emails/s, target >= 100)", d.as_secs_f64(), backlog as f64 / d.as_secs_f64());
        } else {
            println!("backlog of {backlog}: not all decided within the time allowed");
        }
        println!("backlog of {backlog}: {} replies delivered in {:.2} s ({:.0} replies/s)", seen.len() - before, replied.as_secs_f64(), (seen.len() - before) as f64 / replied.as_secs_f64());
    });
}
