//! Drain rate of a backlog through the mailbox service against a real local Dovecot (started by
//! the test harness): N referrals APPENDed to the inbox (the shared samples, or the fixtures, each
//! copy with its own Message-ID so none is a duplicate), then one `ingest_pass` decides and files
//! them all. Prints emails/s. `cargo run --release --example mailbox_drain -- 1000`

#[path = "../tests/it/support/mod.rs"]
mod support;
use support::mailservers;

use marac_intake::clock::Clock;
use marac_intake::mailbox::ingest_pass;
use marac_intake::store::Store;
use mailservers::Dovecot;
use std::path::Path;
use std::time::Instant;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(300);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shared = root.join("../shared/samples");
    let dir = if shared.exists() { shared } else { root.join("fixtures") };
    let mut samples: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml") && std::fs::metadata(p).unwrap().len() < 5_000_000)
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    samples.sort();
    let server = Dovecot::start(&["marac"]);
    let env = [
        ("MARAC__IMAP__HOST", "127.0.0.1".to_owned()),
        ("MARAC__IMAP__PORT", server.imaps_port.to_string()),
        ("MARAC__IMAP__TLS", "implicit".to_owned()),
        ("MARAC__IMAP__USERNAME", "marac".to_owned()),
        ("MARAC__IMAP__PASSWORD_FILE", server.password_file.display().to_string()),
        ("MARAC__IMAP__CA_FILE", server.ca_file.display().to_string()),
    ];
    let cfg = marac_intake::config::load(&root.join("config/samples.toml"), env.iter().map(|(k, v)| (k.to_string(), v.clone()))).unwrap();
    let store = Store::open(&format!("sqlite://{}", server.dir.join("drain.db").display())).await.unwrap();
    let arrived = chrono::DateTime::parse_from_rfc3339("2025-03-03T10:00:00+00:00").unwrap();
    let mut copies = Vec::new();
    for i in 0..n {
        let raw = String::from_utf8_lossy(&samples[i % samples.len()]).into_owned();
        // A fresh Message-ID per copy: first header line, so every copy is a new referral.
        let raw = format!("Message-ID: <drain-{i}@bench.example.test>\r\n{}", raw.replace("Message-ID:", "X-Original-Message-ID:"));
        server.append("marac", "INBOX", raw.as_bytes(), arrived).await;
        copies.push(raw);
    }
    let started = Instant::now();
    let summary = ingest_pass(&cfg, &store, &Clock::system()).await.unwrap();
    let secs = started.elapsed().as_secs_f64();
    println!("drained {} referrals ({} decided, {} refiled) in {secs:.2} s: {:.1} emails/s", n, summary.decided, summary.refiled, n as f64 / secs);
    // The same messages through triage alone, for the share of the time that is IMAP.
    let reference = Store::open(&format!("sqlite://{}", server.dir.join("reference.db").display())).await.unwrap();
    let started = Instant::now();
    for raw in &copies {
        marac_intake::triage::triage_message(raw.as_bytes(), None, Some(arrived), chrono::Utc::now().fixed_offset(), &cfg, &reference).await.unwrap();
    }
    let alone = started.elapsed().as_secs_f64();
    println!("triage alone: {alone:.2} s ({:.1} emails/s); IMAP fetch, move and checkpoint: {:.2} s", n as f64 / alone, secs - alone);
}
