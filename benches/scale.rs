//! `cargo bench --bench scale --profile dev`: the store on PostgreSQL at scale (issue 14, item 6).
//! A throwaway cluster (Debian's server, `initdb` in a scratch directory, 127.0.0.1 on a free
//! port, trust for local connections, as the `postgres` user under root, as the tests' own
//! PostgreSQL does) holds two histories made in the real schema (a [`Store`] opened on an empty
//! database) and filled with SQL (`INSERT ... SELECT FROM generate_series`), then `ANALYZE`d:
//! 1,000,000 messages, 400,000 cases and 300,000 people across 276 areas (`SCALE_MESSAGES`), and
//! the same shape at 10,000 messages (`SCALE_SMALL`). Then:
//! 1. triage cost per email: the 51 scenarios of `fixtures/triage` (`config/samples.toml`, the
//!    `default` area), in file order at their labelled times, through `triage_message`, into
//!    each history; every round's rows are deleted after it, so each round sees the same
//!    history. The reading (`inspect`, which no history changes) and the history part (look-up,
//!    decision, writes, commit: `decide_and_commit`) are timed apart as well;
//! 2. the queue page of the area with 5,000 pending cases, for a coordinator of that area: by
//!    `Store::queue_page_hiding` as the web calls it, and over loopback HTTP (`/`, signed in);
//! 3. lease takeover: a child process (this bench, run again with `MARAC_SCALE_HOLDER` set) holds
//!    a lease, the parent asks for it every `mailbox::LEASE_RETRY` as `mailbox::watch_one` does,
//!    the child is SIGKILLed at a random moment, and the time from the kill to the parent's
//!    lease is measured (`SCALE_KILLS`, default 10).
//!
//! Skipped, with a line saying why, when PostgreSQL is not installed. No personal data is
//! printed: the generated people are fictional and only timings and counts are shown.

#[path = "../tests/it/support/totp.rs"]
mod totp;

use marac_intake::config::{self, Config};
use marac_intake::crypto::{Key, Keys};
use marac_intake::store::accounts::Role;
use marac_intake::store::cases::QueueFilter;
use marac_intake::store::Store;
use marac_intake::web::{self, auth, WebOptions};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The environment variable that makes this program the lease holder (the child).
const HOLDER: &str = "MARAC_SCALE_HOLDER";
/// The lease the two holders compete for.
const LEASE_NAME: &str = "mailbox scale-bench";
/// The number of areas in the history, `default` among them.
const AREAS: i64 = 276;
/// The pending cases of the busy area (`default`) in the 1,000,000-message history.
const BUSY_PENDING: i64 = 5_000;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

// ---------------------------------------------------------------- the throwaway cluster

/// A PostgreSQL cluster of our own, stopped and removed when dropped.
struct Cluster {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    as_postgres: bool,
}

/// The newest installed server's programs (Debian's layout).
fn server_bin() -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql").ok()?.filter_map(|e| e.ok()).map(|e| e.path().join("bin")).filter(|b| b.join("initdb").exists()).collect();
    found.sort();
    found.pop()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

impl Cluster {
    fn start(bin: PathBuf) -> Cluster {
        let dir = std::env::temp_dir().join(format!("marac-scale-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch directory");
        let as_postgres = Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
        if as_postgres {
            assert!(Command::new("chown").args(["-R", "postgres:postgres"]).arg(&dir).status().expect("chown").success(), "chown the scratch directory");
        }
        let c = Cluster { dir, bin, port: free_port(), as_postgres };
        let data = c.dir.join("data").display().to_string();
        c.run("initdb", &["-D", &data, "-U", "marac", "-A", "trust", "-E", "UTF8", "--no-sync", "--no-instructions"]);
        // The server as the tests run it (no fsync: a scratch cluster), with room to build indexes.
        let mut opts = format!("-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off -c full_page_writes=off -c maintenance_work_mem=256MB -c max_wal_size=4GB", c.port, c.dir.display());
        if let Ok(ms) = std::env::var("SCALE_EXPLAIN_MS") {
            // The plans of the statements slower than that, in the server's log (SCALE_PG_LOG).
            opts.push_str(&format!(" -c session_preload_libraries=auto_explain -c auto_explain.log_min_duration={ms} -c auto_explain.log_analyze=on"));
        }
        c.run("pg_ctl", &["-D", &data, "-o", &opts, "-l", &c.dir.join("log").display().to_string(), "-w", "-t", "60", "start"]);
        c
    }

    fn run(&self, program: &str, args: &[&str]) {
        let exe = self.bin.join(program);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        let out = cmd.args(args).current_dir(&self.dir).output().unwrap_or_else(|e| panic!("{program}: {e}"));
        assert!(out.status.success(), "{program} {args:?}: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    }

    fn url(&self, db: &str) -> String {
        format!("postgres://marac@127.0.0.1:{}/{db}", self.port)
    }

    async fn database(&self, db: &str) -> String {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&self.url("postgres")).await.expect("the cluster answers");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {db}"))).execute(&mut conn).await.expect("create database");
        conn.close().await.expect("close");
        self.url(db)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.dir.join("data").display().to_string();
        let exe = self.bin.join("pg_ctl");
        let args = ["-D", data.as_str(), "-m", "immediate", "-w", "-t", "30", "stop"];
        let _ = if self.as_postgres { Command::new("runuser").args(["-u", "postgres", "--"]).arg(&exe).args(args).output() } else { Command::new(&exe).args(args).output() };
        if let Ok(keep) = std::env::var("SCALE_PG_LOG") {
            let _ = std::fs::copy(self.dir.join("log"), keep);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn keys() -> Keys {
    Keys { database: Key::generate(), data: Key::generate() }
}

async fn open(url: &str) -> Store {
    Store::open_with(url, &keys(), &marac_intake::clock::Clock::system()).await.expect("the store opens")
}

// ---------------------------------------------------------------- the history

/// The area of row `k` of a spread: `default` for one in 276, else `a001`..`a275`.
const AREA_OF: &str = "CREATE OR REPLACE FUNCTION pg_temp.area_of(k BIGINT) RETURNS TEXT LANGUAGE SQL IMMUTABLE AS \
    $$ SELECT CASE WHEN k % 276 = 0 THEN 'default' ELSE 'a' || lpad((k % 276)::text, 3, '0') END $$;";

/// The SQL that fills an empty schema with `messages` messages (cases 40% of that, people 30%),
/// step by step (a label and its statements).
fn history_sql(messages: i64) -> Vec<(&'static str, String)> {
    assert_eq!(AREAS, 276, "AREA_OF spreads over 276 areas");
    let m = messages;
    let c = m * 2 / 5;
    let p = m * 3 / 10;
    // The busy area's own people and pending cases: 5,000 of 1,000,000 messages' worth.
    let busy = (BUSY_PENDING * m / 1_000_000).max(1);
    let linked = c / 2;
    // A stamp in the stored form (`clock::FORMAT`).
    let st = |e: &str| format!("to_char({e}, 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')");
    vec![
        (
            "people",
            format!(
                "{AREA_OF}
                INSERT INTO people (id, ref, name, name_key, dob, created_at, area)
                SELECT g, 'HP' || lpad(g::text, 7, '0'), n.name, lower(n.name),
                       CASE WHEN g % 50 = 0 THEN NULL ELSE to_char(date '1940-01-01' + ((g * 7919) % 25000)::int, 'YYYY-MM-DD') END,
                       {created}, CASE WHEN g <= {busy} THEN 'default' ELSE pg_temp.area_of(g) END
                FROM generate_series(1::bigint, {p}) g,
                LATERAL (SELECT (ARRAY['Alys','Bethan','Carys','Delyth','Eira','Ffion','Gwen','Heledd','Iola','Lowri','Mali','Nia','Olwen','Rhian','Seren','Tegan','Awen','Briallen','Cerys','Dilys'])[1 + (g % 20)::int]
                             || ' ' || (ARRAY['Abbott','Blyth','Carrow','Dunmore','Ellery','Fenwick','Garside','Halloran','Ingleby','Jessop','Kettering','Lomax','Marlow','Norcott','Oakes','Pellow','Quarrie','Rudd','Stainer','Tolley','Upton','Verity','Wardle','Yelland','Zouch'])[1 + ((g / 20) % 25)::int] AS name) n;
                SELECT setval(pg_get_serial_sequence('people', 'id'), {p});",
                created = st("timestamp '2018-01-01' + g * interval '7 minutes'"),
            ),
        ),
        (
            "cases",
            format!(
                "{AREA_OF}
                INSERT INTO cases (id, ref, person_id, status, meeting_date, opened_at, source, area)
                SELECT g, 'HC-' || lpad(g::text, 7, '0'), x.person,
                       CASE WHEN g <= {busy} OR g % 50 = 0 THEN 'pending' WHEN g % 10 = 1 THEN 'closed' ELSE 'heard' END,
                       to_char(x.meeting, 'YYYY-MM-DD'), {opened}, 'email',
                       CASE WHEN x.person <= {busy} THEN 'default' ELSE pg_temp.area_of(x.person) END
                FROM generate_series(1::bigint, {c}) g,
                LATERAL (SELECT CASE WHEN g <= {busy} THEN g ELSE ((g - 1) % {p}) + 1 END AS person,
                                CASE WHEN g <= {busy} OR g % 50 = 0 THEN date '2025-01-14' + 28 * (g % 6)::int
                                     ELSE date '2018-02-13' + 28 * ((g * 37) % 90)::int END AS meeting) x;
                SELECT setval(pg_get_serial_sequence('cases', 'id'), {c});",
                opened = st("(x.meeting - 20)::timestamp + (g % 600) * interval '1 minute'"),
            ),
        ),
        (
            "messages",
            format!(
                "{AREA_OF}
                INSERT INTO messages (id, ref, message_id, sha256, arrived_at, file, outcome, criteria, reasons, dash_yes, dash_no, dash_unknown,
                                      case_kind, case_id, person_id, match_reason, reply_kind, reply_to, inspection, processed_at, area)
                SELECT g, 'H-IN-' || lpad(g::text, 7, '0'), '<h' || g || '@mx.example.test>', md5(g::text) || md5((g + 1)::text),
                       COALESCE(c.opened_at, {arrived}), NULL,
                       CASE WHEN c.id IS NOT NULL THEN 'accepted' WHEN g % 200 = 0 THEN 'review' WHEN g % 200 = 1 THEN 'quarantined'
                            WHEN g % 10 = 2 THEN 'ignored' ELSE 'rejected' END,
                       CASE WHEN c.id IS NULL THEN '[]' WHEN g % 3 = 0 THEN '[\"professional_judgement\"]' ELSE '[\"visible_high_risk\"]' END,
                       CASE WHEN c.id IS NULL THEN '[\"below the threshold\"]' ELSE '[]' END,
                       CASE WHEN g % 7 = 0 THEN NULL ELSE 8 + g % 14 END, CASE WHEN g % 7 = 0 THEN NULL ELSE 24 - (8 + g % 14) END, CASE WHEN g % 7 = 0 THEN NULL ELSE 0 END,
                       CASE WHEN g <= {c} THEN 'new' WHEN c.id IS NOT NULL THEN 'linked' ELSE 'none' END,
                       c.id, c.person_id, CASE WHEN g > {c} AND c.id IS NOT NULL THEN 'same name and date of birth' END,
                       CASE WHEN c.id IS NOT NULL THEN 'acknowledgement' WHEN g % 200 IN (0, 1) OR g % 10 = 2 THEN 'none' ELSE 'rejection' END,
                       '[\"referrer' || (g % 97) || '@nhs.example.test\"]', '{{}}',
                       COALESCE(c.opened_at, {arrived}), COALESCE(c.area, pg_temp.area_of(g))
                FROM generate_series(1::bigint, {m}) g
                LEFT JOIN cases c ON c.id = CASE WHEN g <= {c} THEN g WHEN g <= {c} + {linked} THEN ((g * 7919) % {c}) + 1 END;
                SELECT setval(pg_get_serial_sequence('messages', 'id'), {m});",
                arrived = st("timestamp '2018-01-01' + g * interval '3 minutes'"),
            ),
        ),
        (
            "message_signals, message_criteria",
            format!(
                "INSERT INTO message_signals (message_row, high_risk, high_risk_count, children, agency)
                SELECT id, CASE id % 4 WHEN 0 THEN '[]' WHEN 1 THEN '[\"strangulation\"]' WHEN 2 THEN '[\"strangulation\",\"weapon\"]' ELSE '[\"pregnancy\",\"weapon\",\"stalking\"]' END,
                       id % 4, id % 3, (ARRAY['Police','NHS','IDVA','Council','Probation'])[1 + (id % 5)::int]
                FROM messages;
                INSERT INTO message_criteria (message_row, criterion)
                SELECT id, CASE WHEN id % 3 = 0 THEN 'professional_judgement' ELSE 'visible_high_risk' END FROM messages WHERE outcome = 'accepted';
                INSERT INTO message_criteria (message_row, criterion) SELECT id, 'repeat' FROM messages WHERE outcome = 'accepted' AND id % 10 = 0;
                INSERT INTO message_criteria (message_row, criterion) SELECT id, 'potential_escalation' FROM messages WHERE outcome = 'accepted' AND id % 15 = 0;
                UPDATE message_signals SET is_repeat = 1 WHERE message_row IN (SELECT message_row FROM message_criteria WHERE criterion = 'repeat');
                UPDATE message_signals SET is_escalation = 1 WHERE message_row IN (SELECT message_row FROM message_criteria WHERE criterion = 'potential_escalation');"
            ),
        ),
        (
            "referrals, attachments, review victims",
            format!(
                "INSERT INTO referrals (case_id, person_id, message_row, referred_on, source)
                SELECT case_id, person_id, id, substr(arrived_at, 1, 10), 'email' FROM messages WHERE case_id IS NOT NULL ORDER BY id;
                INSERT INTO attachments (message_row, sha256, kind, name, size)
                SELECT id, md5('a' || id) || md5('b' || id), 'pdf', 'dash.pdf', 40000 + id % 20000 FROM messages WHERE outcome <> 'ignored' ORDER BY id;
                INSERT INTO review_victims (message_row, name, dob)
                SELECT m.id, 'Mali Lomax', to_char(date '1940-01-01' + ((m.id * 7919) % 25000)::int, 'YYYY-MM-DD') FROM messages m WHERE m.outcome = 'review';"
            ),
        ),
        (
            "outbox",
            format!(
                "INSERT INTO outbox (message_row, kind, recipient, subject, raw, status, attempts, created_at, sent_at, reply_message_id)
                SELECT id, reply_kind, 'referrer' || (id % 97) || '@nhs.example.test', 'MARAC referral ' || ref, '\\x00'::bytea, 'sent', 1,
                       processed_at, processed_at, 'r' || id || '@marac.example.test'
                FROM messages WHERE reply_kind <> 'none' ORDER BY id;"
            ),
        ),
        ("ANALYZE", "VACUUM ANALYZE;".to_owned()),
    ]
}

/// Fills the empty schema at `url`; prints each step's time (and the whole).
async fn fill(url: &str, messages: i64) -> Duration {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(url).await.expect("connect");
    let all = Instant::now();
    for (what, sql) in history_sql(messages) {
        let t = Instant::now();
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut conn).await.unwrap_or_else(|e| panic!("generating {what}: {e}"));
        println!("    {what}: {:.1} s", t.elapsed().as_secs_f64());
    }
    conn.close().await.expect("close");
    all.elapsed()
}

async fn count(store: &Store, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned())).fetch_one(store.pool()).await.expect(sql)
}

// ---------------------------------------------------------------- 1. triage per email

struct Scenario {
    raw: Vec<u8>,
    arrived: chrono::DateTime<chrono::FixedOffset>,
}

fn scenarios(root: &Path) -> Vec<Scenario> {
    let dir = root.join("fixtures/triage");
    let labels: Vec<serde_json::Value> = serde_json::from_str(&std::fs::read_to_string(dir.join("labels.json")).expect("labels.json")).expect("labels.json is JSON");
    labels
        .iter()
        .map(|l| Scenario {
            raw: std::fs::read(dir.join(l["file"].as_str().expect("file"))).expect("fixture"),
            arrived: chrono::DateTime::parse_from_rfc3339(l["arrived"].as_str().expect("arrived")).expect("arrived"),
        })
        .collect()
}

/// Per email of one round: (whole triage, its history part).
type Timings = Vec<(Duration, Duration)>;

/// One round of every scenario, in order; then its rows are deleted, so the next round sees the
/// same history.
async fn triage_round(cfg: &Config, store: &Store, list: &[Scenario]) -> Timings {
    let before: (i64, i64, i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT COALESCE(MAX(id), 0) FROM messages), (SELECT COALESCE(MAX(id), 0) FROM cases), (SELECT COALESCE(MAX(id), 0) FROM people), \
         (SELECT COALESCE(MAX(id), 0) FROM referrals), (SELECT COALESCE(MAX(id), 0) FROM outbox)",
    )
    .fetch_one(store.pool())
    .await
    .expect("marks");
    let mut out = Vec::with_capacity(list.len());
    for s in list {
        let t = Instant::now();
        let inspection = marac_intake::triage::read(Arc::new(s.raw.clone()), marac_intake::triage::inspect_options(cfg)).await.expect("read");
        let h = Instant::now();
        marac_intake::triage::decide_and_commit(inspection, &s.raw, None, None, s.arrived, cfg, None, store).await.expect("triage");
        out.push((t.elapsed(), h.elapsed()));
    }
    let (m, c, p, r, o) = before;
    let cleanup = format!(
        "DELETE FROM outbox_attempts WHERE outbox_id > {o}; DELETE FROM outbox WHERE id > {o};
         DELETE FROM message_sources WHERE message_row > {m}; DELETE FROM message_signals WHERE message_row > {m}; DELETE FROM message_search_keys WHERE message_row > {m};
         DELETE FROM message_criteria WHERE message_row > {m}; DELETE FROM review_victims WHERE message_row > {m};
         DELETE FROM message_candidates WHERE message_row > {m}; DELETE FROM decisions WHERE message_row > {m};
         DELETE FROM attachments WHERE message_row > {m}; DELETE FROM referrals WHERE id > {r};
         DELETE FROM messages WHERE id > {m}; DELETE FROM cases WHERE id > {c}; DELETE FROM people WHERE id > {p};
         DELETE FROM sequences;"
    );
    sqlx::raw_sql(sqlx::AssertSqlSafe(cleanup)).execute(store.pool()).await.expect("cleanup");
    out
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Mean and median (ms) of the whole triage and of its history part, over `rounds` after the first.
fn summary(rounds: &[Timings]) -> ((f64, f64), (f64, f64)) {
    let warm: Vec<&(Duration, Duration)> = rounds.iter().skip(1).flatten().collect();
    let stat = |pick: &dyn Fn(&(Duration, Duration)) -> Duration| {
        let mut v: Vec<Duration> = warm.iter().map(|t| pick(t)).collect();
        v.sort();
        (ms(v.iter().sum::<Duration>()) / v.len() as f64, ms(percentile(&v, 0.5)))
    };
    (stat(&|t| t.0), stat(&|t| t.1))
}

async fn triage_at(label: &str, cfg: &Config, store: &Store, list: &[Scenario], rounds: usize) -> ((f64, f64), (f64, f64)) {
    let mut all = Vec::new();
    for i in 0..rounds {
        let r = triage_round(cfg, store, list).await;
        let total: Duration = r.iter().map(|t| t.0).sum();
        let hist: Duration = r.iter().map(|t| t.1).sum();
        println!("  {label}, round {}: {:.2} ms per email, history part {:.2} ms", i + 1, ms(total) / r.len() as f64, ms(hist) / r.len() as f64);
        all.push(r);
    }
    let s = summary(&all);
    println!("  {label}: rounds 2–{rounds}: triage mean {:.2} ms, median {:.2} ms; history part mean {:.2} ms, median {:.2} ms", s.0 .0, s.0 .1, s.1 .0, s.1 .1);
    s
}

// ---------------------------------------------------------------- 2. the queue page

async fn http(addr: &str, path: &str, cookie: &str, form: Option<&str>) -> (u16, String, Vec<String>) {
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let method = if form.is_some() { "POST" } else { "GET" };
    let body = form.unwrap_or("");
    let extra = if form.is_some() { format!("Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n", body.len()) } else { String::new() };
    s.write_all(format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nCookie: {cookie}\r\n{extra}\r\n{body}").as_bytes()).await.expect("send");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.expect("read");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let cookies = head.lines().filter_map(|l| l.strip_prefix("set-cookie: ")).map(|c| c.split(';').next().unwrap_or("").to_owned()).collect();
    (status, body.to_owned(), cookies)
}

fn print_latency(what: &str, mut times: Vec<Duration>) -> (f64, f64) {
    times.sort();
    let (p50, p99) = (ms(percentile(&times, 0.5)), ms(percentile(&times, 0.99)));
    println!("  {what}: p50 {p50:.1} ms, p99 {p99:.1} ms, max {:.1} ms ({} runs)", ms(times[times.len() - 1]), times.len());
    (p50, p99)
}

/// The queue page's latency, directly and over HTTP. With `SCALE_EXTRA_SQL` (a trial, an index
/// say, before it becomes a migration) measured again after it, and with `SCALE_EXTRA_SQL_UNDO`
/// once more after that, on the same history.
async fn queue_page(cfg: &Config, store: &Store, runs: usize) {
    let now = marac_intake::clock::stamp(chrono::Utc::now());
    store.add_user("scale", Role::Coordinator, &auth::hash_password("scale bench password").expect("hash"), Some(totp::SECRET), &now).await.expect("user");
    store.set_user_areas("scale", &["default".to_owned()], &now, "bench", None).await.expect("areas");
    let user: i64 = count(store, "SELECT id FROM users WHERE name = 'scale'").await;
    let hidden = store.hidden_cases(user, &now).await.expect("hidden");
    let (page, total) = store.queue_page_hiding(&QueueFilter::default(), Some(200), &hidden).await.expect("queue");
    println!("  the area's queue: {} items on the page, {total} pending cases in all", page.len());

    let opts = WebOptions { listen: "127.0.0.1:0".parse().expect("address"), tls: None, trust_forwarded_for: false };
    let stop = tokio_util::sync::CancellationToken::new();
    let (url, task) = web::start(Arc::new(cfg.clone()), store.clone(), &opts, marac_intake::clock::Clock::system(), stop.clone()).await.expect("web");
    let addr = url.trim_start_matches("http://").to_owned();
    let (_, login, cookies) = http(&addr, "/login", "", None).await;
    let token = login.split("name=\"csrf\" value=\"").nth(1).and_then(|s| s.split('"').next()).expect("csrf").to_owned();
    let code = totp::code(&addr, "scale", totp::SECRET).await;
    let (status, _, session) = http(&addr, "/login", &cookies[0], Some(&format!("csrf={token}&username=scale&password=scale+bench+password&code={code}"))).await;
    assert_eq!(status, 303, "signed in");
    let cookie = session.into_iter().find(|c| c.starts_with("marac_session=")).expect("session cookie");
    if let Ok(file) = std::env::var("SCALE_COMPARE_SQL") {
        compare_sql(store, &file, runs).await;
    }
    let steps = [None, std::env::var("SCALE_EXTRA_SQL").ok(), std::env::var("SCALE_EXTRA_SQL_UNDO").ok()];
    for (i, step) in steps.iter().enumerate() {
        match step {
            None if i > 0 => break,
            None => {}
            Some(sql) => {
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql.clone())).execute(store.pool()).await.expect("SCALE_EXTRA_SQL");
                println!("  {} run:", if i == 1 { "SCALE_EXTRA_SQL" } else { "SCALE_EXTRA_SQL_UNDO" });
            }
        }
        let mut direct = Vec::with_capacity(runs);
        for _ in 0..runs {
            let t = Instant::now();
            store.queue_page_hiding(&QueueFilter::default(), Some(200), &hidden).await.expect("queue");
            direct.push(t.elapsed());
        }
        print_latency("Store::queue_page_hiding (200 pending shown)", direct);
        let mut over_http = Vec::with_capacity(runs);
        for _ in 0..runs {
            let t = Instant::now();
            let (status, _, _) = http(&addr, "/", &cookie, None).await;
            over_http.push(t.elapsed());
            assert_eq!(status, 200, "the queue page");
        }
        print_latency("GET / over loopback HTTP, signed in", over_http);
    }
    stop.cancel();
    let _ = task.await;
}

/// `SCALE_COMPARE_SQL=FILE`: the statements of FILE (separated by lines holding only `;`) timed
/// in turn, round-robin, `runs` times each on the same history, so that a load on the machine
/// weighs on each alike; and the work of each, in PostgreSQL's shared buffers read or hit (the
/// same under any load).
async fn compare_sql(store: &Store, file: &str, runs: usize) {
    let text = std::fs::read_to_string(file).expect("SCALE_COMPARE_SQL");
    let statements: Vec<String> = text
        .split("\n;\n")
        .map(|s| s.lines().filter(|l| !l.trim_start().starts_with("--")).collect::<Vec<_>>().join("\n"))
        .filter(|s| !s.trim().is_empty())
        .collect();
    println!("  SCALE_COMPARE_SQL {file}: {} statements, {runs} runs each, round-robin", statements.len());
    let mut times = vec![Vec::with_capacity(runs); statements.len()];
    for _ in 0..runs {
        for (i, sql) in statements.iter().enumerate() {
            let t = Instant::now();
            sqlx::query(sqlx::AssertSqlSafe(sql.clone())).fetch_all(store.pool()).await.expect("a statement of SCALE_COMPARE_SQL");
            times[i].push(t.elapsed());
        }
    }
    for (i, (sql, t)) in statements.iter().zip(times).enumerate() {
        // The top node's own figures: its first `Buffers:` line (TIMING OFF: no times).
        let plan: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("EXPLAIN (ANALYZE, BUFFERS, TIMING OFF) {sql}"))).fetch_all(store.pool()).await.expect("EXPLAIN");
        let blocks = |kind: &str| -> i64 {
            let line = plan.iter().find(|l| l.trim_start().starts_with("Buffers:")).map(String::as_str).unwrap_or("");
            line.split_whitespace().find_map(|w| w.strip_prefix(&format!("{kind}="))).and_then(|n| n.trim_end_matches(',').parse().ok()).unwrap_or(0)
        };
        print_latency(&format!("statement {} ({} shared buffers: {} hit, {} read)", i + 1, blocks("hit") + blocks("read"), blocks("hit"), blocks("read")), t);
    }
}

// ---------------------------------------------------------------- 3. lease takeover

/// The child: takes the lease, says so on stdout, and holds it until it is killed.
fn hold(url: &str) -> ! {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
        let store = open(url).await;
        let lease = loop {
            if let Some(l) = store.lease(LEASE_NAME).await.expect("lease") {
                break l;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        println!("held");
        let _keep = lease;
        loop {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
    })
}

/// A small generator for the moments of the kills (no dependency for it).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

async fn takeover(url: &str, kills: usize) {
    let store = open(url).await;
    let retry = marac_intake::mailbox::LEASE_RETRY;
    let mut rng = Lcg(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(1));
    let mut times = Vec::with_capacity(kills);
    for i in 0..kills {
        let mut child = Command::new(std::env::current_exe().expect("this program"))
            .env(HOLDER, url)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the holder starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("the holder says");
        assert_eq!(line.trim(), "held", "the holder took the lease");
        // The waiter, as `mailbox::watch_one`: asks, and asks again every LEASE_RETRY.
        let waiter_store = store.clone();
        let waiter = tokio::spawn(async move {
            loop {
                if let Some(lease) = waiter_store.lease(LEASE_NAME).await.expect("lease") {
                    return (Instant::now(), lease);
                }
                tokio::time::sleep(retry).await;
            }
        });
        // The holder dies at a moment at random within the waiter's period.
        tokio::time::sleep(Duration::from_millis(200 + rng.below(retry.as_millis() as u64))).await;
        assert!(!waiter.is_finished(), "the waiter had the lease while the holder held it");
        let killed = Instant::now();
        child.kill().expect("SIGKILL");
        let _ = child.wait();
        let (got, lease) = waiter.await.expect("the waiter");
        let took = got.saturating_duration_since(killed);
        println!("  kill {}: the other took the lease {:.2} s after", i + 1, took.as_secs_f64());
        times.push(took);
        drop(lease);
        // The lease's connection is closed when dropped; give the server a moment to see it.
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    print_latency(&format!("lease takeover after SIGKILL (LEASE_RETRY {} s)", retry.as_secs()), times);
}

// ---------------------------------------------------------------- main

fn main() {
    if let Ok(url) = std::env::var(HOLDER) {
        hold(&url);
    }
    let Some(bin) = server_bin() else {
        println!("scale: PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): skipped");
        return;
    };
    let big = env_or("SCALE_MESSAGES", 1_000_000) as i64;
    let small = env_or("SCALE_SMALL", 10_000) as i64;
    let rounds = env_or("SCALE_ROUNDS", 5).max(2) as usize;
    let runs = env_or("SCALE_QUEUE_RUNS", 200) as usize;
    let kills = env_or("SCALE_KILLS", 10) as usize;
    // Which parts to run (`triage,queue,lease`, all by default).
    let parts = std::env::var("SCALE_PARTS").unwrap_or_else(|_| "triage,queue,lease".into());
    let part = |p: &str| parts.split(',').any(|x| x.trim() == p);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cfg = config::load(&root.join("config/samples.toml"), Vec::new()).expect("config/samples.toml");
    let list = scenarios(root);
    let cluster = Cluster::start(bin);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    rt.block_on(async {
        let mut results = Vec::new();
        for (db, n) in [("hist_small", small), ("hist_big", big)] {
            if n == small && !part("triage") {
                continue;
            }
            let url = cluster.database(db).await;
            let store = open(&url).await;
            println!("history of {n} messages in {AREAS} areas ({db}):");
            let took = fill(&url, n).await;
            let shape = format!(
                "{} messages, {} cases ({} pending in the busy area), {} people, {} outbox rows",
                count(&store, "SELECT COUNT(*) FROM messages").await,
                count(&store, "SELECT COUNT(*) FROM cases").await,
                count(&store, "SELECT COUNT(*) FROM cases WHERE area = 'default' AND status = 'pending'").await,
                count(&store, "SELECT COUNT(*) FROM people").await,
                count(&store, "SELECT COUNT(*) FROM outbox").await,
            );
            println!("  generated in {:.1} s: {shape}", took.as_secs_f64());
            println!("  people per date of birth: {:.1} on average", count(&store, "SELECT COUNT(*) FROM people WHERE dob IS NOT NULL").await as f64 / count(&store, "SELECT COUNT(DISTINCT dob) FROM people").await.max(1) as f64);
            if part("triage") {
                println!("triage of the {} scenarios of fixtures/triage, {rounds} rounds:", list.len());
                results.push((n, triage_at(&format!("{n} messages"), &cfg, &store, &list, rounds).await));
            }
            if n == big && part("queue") {
                println!("queue page of the busy area, a coordinator of that area:");
                queue_page(&cfg, &store, runs).await;
            }
            if n == big && part("lease") {
                println!("lease takeover, {kills} kills:");
                takeover(&url, kills).await;
            }
            store.close().await;
        }
        let [(sn, s), (bn, b)] = results[..] else { return };
        println!(
            "triage per email, {bn} vs {sn} messages: mean {:.2} / {:.2} ms = {:.2}x, median {:.2} / {:.2} ms = {:.2}x; history part mean {:.2} / {:.2} ms = {:.2}x, median {:.2} / {:.2} ms = {:.2}x",
            b.0 .0, s.0 .0, b.0 .0 / s.0 .0, b.0 .1, s.0 .1, b.0 .1 / s.0 .1, b.1 .0, s.1 .0, b.1 .0 / s.1 .0, b.1 .1, s.1 .1, b.1 .1 / s.1 .1
        );
    });
    drop(cluster);
}
