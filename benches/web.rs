//! `cargo bench --bench web`: the web queue's latency with 10,000 cases in the database (issue 5:
//! queue page p99 under 100 ms). 10,000 generated referrals are triaged into a fresh SQLite
//! database (as `benches/triage.rs` does; `BENCH_EMAILS` changes the number), the server runs
//! in-process on 127.0.0.1, and one signed-in client asks for each page in turn, one request at a
//! time on a new connection; p50, p99 and the worst of each are printed. The searches are by a
//! case's police reference and by a postcode district, as its form gave them.

use gen_fixtures as gen;
#[path = "../tests/it/support/totp.rs"]
mod totp;

use marac_intake::config;
use marac_intake::store::accounts::Role;
use marac_intake::store::Store;
use marac_intake::web::{self, auth, WebOptions};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn get(addr: &str, path: &str, cookie: &str, form: Option<&str>) -> (u16, String, Vec<String>) {
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let method = if form.is_some() { "POST" } else { "GET" };
    let body = form.unwrap_or("");
    let extra = if form.is_some() { format!("Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n", body.len()) } else { String::new() };
    s.write_all(format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nCookie: {cookie}\r\n{extra}\r\n{body}").as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let cookies = head.lines().filter_map(|l| l.strip_prefix("set-cookie: ")).map(|c| c.split(';').next().unwrap().to_owned()).collect();
    (status, body.to_owned(), cookies)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn measure(addr: &str, path: &str, cookie: &str, n: usize) {
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let (status, _, _) = get(addr, path, cookie, None).await;
        times.push(t.elapsed());
        assert_eq!(status, 200, "{path}");
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("  {path:<28} p50 {:>7.1} ms   p99 {:>7.1} ms   max {:>7.1} ms   ({n} requests)", ms(percentile(&times, 0.5)), ms(percentile(&times, 0.99)), ms(times[n - 1]));
}

fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let cfg = config::load(&root.join("config/samples.toml"), Vec::new()).expect("config");
    let dir = std::env::temp_dir().join(format!("marac-bench-web-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let total: u32 = std::env::var("BENCH_EMAILS").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    rt.block_on(async {
        let store = Store::open(&format!("sqlite://{}/web.db", dir.display())).await.expect("store");
        println!("triaging {total} generated referrals…");
        let now = chrono::Utc::now().fixed_offset();
        for n in 0..total {
            let at = gen::util::stamp(2025, 1, 1, 8, 0, 0);
            let at = gen::util::Stamp { at: at.at + chrono::TimeDelta::minutes(i64::from(n * 40)), offset_h: 0 };
            let raw = gen::triage::synthetic_referral(n, at, 10 + n % 10);
            marac_intake::triage::triage_message(&raw, None, None, now, &cfg, &store).await.expect("triage");
        }
        let (cases, queued): (i64, usize) = (sqlx::query_scalar("SELECT COUNT(*) FROM cases").fetch_one(store.pool()).await.unwrap(), store.queue().await.unwrap().len());
        println!("{cases} cases in the database, {queued} items in the queue");
        store.add_user("bench", Role::Coordinator, &auth::hash_password("bench password here").unwrap(), Some(totp::SECRET), &marac_intake::clock::stamp(chrono::Utc::now())).await.unwrap();

        let opts = WebOptions { listen: "127.0.0.1:0".parse().unwrap(), tls: None, trust_forwarded_for: false };
        let stop = tokio_util::sync::CancellationToken::new();
        let (url, task) = web::start(Arc::new(cfg.clone()), store.clone(), &opts, marac_intake::clock::Clock::system(), stop.clone()).await.expect("web");
        let addr = url.trim_start_matches("http://").to_owned();
        let (_, page, cookies) = get(&addr, "/login", "", None).await;
        let token = page.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
        let (status, _, session) = get(&addr, "/login", &cookies[0], Some(&format!("csrf={token}&username=bench&password=bench+password+here&code={}", totp::code(&addr, "bench", totp::SECRET).await))).await;
        assert_eq!(status, 303, "signed in");
        let cookie = session.into_iter().find(|c| c.starts_with("marac_session=")).unwrap();
        let case = store.queue().await.unwrap().into_iter().find(|r| r.case_ref.is_some()).and_then(|r| r.case_ref).unwrap();
        let meeting = store.queue().await.unwrap().into_iter().rev().find_map(|r| r.meeting_date).unwrap();
        // A search by what only a form says: a case's police reference, and a postcode district.
        let reading: String = sqlx::query_scalar("SELECT inspection FROM messages WHERE case_id IS NOT NULL ORDER BY id DESC LIMIT 1").fetch_one(store.pool()).await.unwrap();
        let reading: serde_json::Value = serde_json::from_str(&reading).unwrap();
        let field = |k: &str| reading["referral"]["fields"][k].as_str().unwrap_or_else(|| panic!("no {k} read")).to_owned();
        let police = field("police_reference").replace(|c: char| !c.is_ascii_alphanumeric(), "");
        let district = field("victim.postcode").split_whitespace().next().unwrap().to_owned();
        let mut direct = Vec::new();
        for _ in 0..20 {
            let t = Instant::now();
            store.queue_with_signals().await.unwrap();
            direct.push(t.elapsed());
        }
        direct.sort();
        println!("Store::queue_with_signals alone: p50 {:.1} ms", percentile(&direct, 0.5).as_secs_f64() * 1000.0);
        println!("latency, one client, debug or release as built:");
        for (path, n) in [("/".to_owned(), 200), (format!("/?meeting={meeting}"), 200), ("/queue.json".to_owned(), 50), (format!("/case/{case}"), 200), (format!("/meetings/{meeting}/agenda.xlsx"), 50), (format!("/search.json?q={police}"), 50), (format!("/search.json?q={district}"), 20)] {
            measure(&addr, &path, &cookie, n).await;
        }
        stop.cancel();
        let _ = task.await;
    });
    let _ = std::fs::remove_dir_all(&dir);
}
