//! `cargo bench --bench triage`: triage throughput on SQLite, database included, for 10,000
//! generated referral emails (DOCX referral form + XLSX DASH each), one at a time on one core;
//! and the per-email cost with 1k, 10k and 100k cases of history already in the database.
//!
//! Targets (issue 3): ≥ 200 emails/s; per-email cost flat within 2× from 1k to 100k cases.

use gen_fixtures as gen;

use marac_intake::config::{self, Config};
use marac_intake::store::Store;
use std::time::{Duration, Instant};

fn emails(range: std::ops::Range<u32>, start_day: u32) -> Vec<Vec<u8>> {
    range
        .map(|n| {
            // One every 40 minutes from the start day, the DASH score varying around the threshold.
            let minutes = n * 40;
            let at = gen::util::stamp(2025, 1, 1, 8, 0, 0);
            let at = gen::util::Stamp { at: at.at + chrono::TimeDelta::days(i64::from(start_day)) + chrono::TimeDelta::minutes(i64::from(minutes)), offset_h: 0 };
            gen::triage::synthetic_referral(n, at, 10 + n % 10)
        })
        .collect()
}

async fn run(cfg: &Config, store: &Store, batch: &[Vec<u8>]) -> Duration {
    let now = chrono::Utc::now().fixed_offset();
    let t = Instant::now();
    for raw in batch {
        marac_intake::triage::triage_message(raw, None, None, now, cfg, store).await.expect("triage");
    }
    t.elapsed()
}

/// `n` past cases (people, cases, referrals) written straight into the history.
async fn seed(store: &Store, n: u32) {
    let mut tx = store.pool().begin().await.expect("tx");
    for i in 0..n {
        let dob = format!("{:04}-{:02}-{:02}", 1940 + i % 60, 1 + i % 12, 1 + (i / 12) % 28);
        let person: i64 = sqlx::query_scalar("INSERT INTO people (ref, name, name_key, dob, created_at) VALUES (?, ?, ?, ?, '2020-01-01') RETURNING id")
            .bind(format!("H{i:07}"))
            .bind(format!("Past Person{i}"))
            .bind(format!("past person{i}"))
            .bind(&dob)
            .fetch_one(&mut *tx)
            .await
            .expect("person");
        let case: i64 = sqlx::query_scalar("INSERT INTO cases (ref, person_id, status, meeting_date, opened_at, source) VALUES (?, ?, 'heard', '2021-01-12', '2020-12-01', 'import') RETURNING id")
            .bind(format!("OLD-{i:07}"))
            .bind(person)
            .fetch_one(&mut *tx)
            .await
            .expect("case");
        sqlx::query("INSERT INTO referrals (case_id, person_id, message_row, referred_on, source) VALUES (?, ?, NULL, '2020-12-01', 'import')")
            .bind(case)
            .bind(person)
            .execute(&mut *tx)
            .await
            .expect("referral");
    }
    tx.commit().await.expect("commit");
}

fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let cfg = config::load(&root.join("config/samples.toml"), Vec::new()).expect("config");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let dir = std::env::temp_dir().join(format!("marac-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");

    let total: u32 = std::env::var("BENCH_EMAILS").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    println!("generating {total} referral emails…");
    let batch = emails(0..total, 0);
    rt.block_on(async {
        let store = Store::open(&format!("sqlite://{}/throughput.db", dir.display())).await.expect("store");
        let took = run(&cfg, &store, &batch).await;
        println!("triage throughput: {total} emails in {:.1} s = {:.0} emails/s (SQLite, one core, inspect included)", took.as_secs_f64(), f64::from(total) / took.as_secs_f64());

        println!("per-email cost with history already in the database (300 new referrals each):");
        let probe = emails(200_000..200_300, 400);
        for n in [1_000u32, 10_000, 100_000] {
            let store = Store::open(&format!("sqlite://{}/history{n}.db", dir.display())).await.expect("store");
            seed(&store, n).await;
            let took = run(&cfg, &store, &probe).await;
            println!("  {n:>7} cases: {:.2} ms per email", took.as_secs_f64() * 1000.0 / probe.len() as f64);
        }
    });
    let _ = std::fs::remove_dir_all(&dir);
}
