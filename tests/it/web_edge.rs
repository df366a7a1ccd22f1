//! The web edge under abuse, on the real server on 127.0.0.1 port 0 (issue 12, item 5): one
//! connection over the cap is closed at once, a body dripping in is cut off, a body too large is
//! refused with 413, a kept-alive connection left idle is closed, a flood of POSTs without a CSRF
//! token writes a bounded number of audit rows (its paths truncated), `X-Forwarded-For` is read
//! from the configured proxy only; and the files the binary creates are private under umask 022.

use crate::support::{web_fixture, Scratch};

use marac_intake::store::accounts::{AuditEntry, AuditFilter};
use marac_intake::store::Store;
use marac_intake::web::{self, WebOptions};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

fn scratch(name: &str) -> Scratch {
    let s = Scratch::new(name);
    s
}

/// The samples' configuration with `web` as its `[web]` section.
fn config(web: &str) -> marac_intake::config::Config {
    let (path, _) = web_fixture::samples_config();
    let trust = if web.contains("trust_forwarded_for") { "" } else { "trust_forwarded_for = false\n" };
    let text = format!("{}\n[web]\n{trust}{web}\n", std::fs::read_to_string(path).unwrap());
    marac_intake::config::parse(&text, Vec::<(String, String)>::new()).unwrap().build().unwrap()
}

/// The web server on 127.0.0.1 port 0 over an empty database, with `[web]` set to `web`.
struct Served {
    _scratch: Scratch,
    store: Store,
    addr: String,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Served {
    async fn start(name: &str, web: &str) -> Served {
        let scratch = scratch(name);
        let cfg = config(web);
        let store = Store::open(&format!("sqlite://{}/t.db", scratch.0.display())).await.unwrap();
        let trust = cfg.file.web.as_ref().unwrap().trust_forwarded_for;
        let opts = WebOptions { listen: "127.0.0.1:0".parse().unwrap(), tls: None, trust_forwarded_for: trust };
        let stop = CancellationToken::new();
        let (url, task) = web::start(Arc::new(cfg), store.clone(), &opts, marac_intake::clock::Clock::system(), stop.clone()).await.unwrap();
        Served { _scratch: scratch, store, addr: url.strip_prefix("http://").unwrap().to_owned(), stop, task }
    }

    async fn stop(self) -> Store {
        self.stop.cancel();
        self.task.await.unwrap().unwrap();
        self.store
    }
}

/// Writes `request` and reads until the server closes, within `limit`: the bytes read, or None if
/// the connection stayed open that long.
async fn exchange(s: &mut TcpStream, request: &[u8], limit: Duration) -> Option<Vec<u8>> {
    let _ = s.write_all(request).await;
    let mut raw = Vec::new();
    match tokio::time::timeout(limit, s.read_to_end(&mut raw)).await {
        Ok(_) => Some(raw),
        Err(_) => None,
    }
}

fn status(raw: &[u8]) -> Option<u16> {
    String::from_utf8_lossy(raw).strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

async fn get(addr: &str, path: &str) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).await.unwrap();
    exchange(&mut s, format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(), Duration::from_secs(10)).await.expect("an answer")
}

async fn audit_rows(store: &Store, action: &str) -> Vec<AuditEntry> {
    store.audit_search(&AuditFilter { action: Some(action.into()), ..AuditFilter::default() }, 10_000).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_connection_over_the_cap_is_closed_at_once() {
    let served = Served::start("marac-edge-cap", "max_connections = 3").await;
    let a = served.addr.clone();
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(TcpStream::connect(&a).await.unwrap());
    }
    // The fourth is accepted by the kernel, then closed by the server without a word.
    let mut extra = TcpStream::connect(&a).await.unwrap();
    let started = Instant::now();
    let raw = exchange(&mut extra, b"GET /login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", Duration::from_secs(5)).await.expect("the extra connection is closed, not queued");
    assert!(raw.is_empty(), "no answer on the extra connection: {}", String::from_utf8_lossy(&raw));
    assert!(started.elapsed() < Duration::from_secs(5));
    // The three held are served.
    let raw = exchange(&mut held[0], b"GET /login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", Duration::from_secs(10)).await.unwrap();
    assert_eq!(status(&raw), Some(200));
    // One closed, a new one is served again (the server notices the close within a bounded wait).
    drop(held.remove(0));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let raw = get(&a, "/login").await;
        if status(&raw) == Some(200) {
            break;
        }
        assert!(Instant::now() < deadline, "a freed place is served again");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(held);
    let store = served.stop().await;
    let rows = audit_rows(&store, "connection.refused").await;
    assert!(!rows.is_empty() && rows[0].client.as_deref() == Some("127.0.0.1"), "{rows:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_dripping_in_is_cut_off_and_one_too_large_is_refused() {
    let served = Served::start("marac-edge-slow", "request_timeout_secs = 1").await;
    let a = served.addr.clone();

    // One byte every 200 ms of a 100-byte form: cut off after the 1 s configured, with a 408.
    let s = TcpStream::connect(&a).await.unwrap();
    let (mut rd, mut wr) = s.into_split();
    let started = Instant::now();
    let writer = tokio::spawn(async move {
        let _ = wr.write_all(b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n").await;
        for _ in 0..50 {
            if wr.write_all(b"a").await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    let mut raw = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(8), rd.read_to_end(&mut raw)).await;
    let took = started.elapsed();
    writer.abort();
    assert!(read.is_ok(), "the dripping request is cut off, not kept open");
    assert_eq!(status(&raw), Some(408), "{}", String::from_utf8_lossy(&raw));
    assert!(took < Duration::from_secs(4), "cut off after the 1 s timeout, not {took:?}");

    // A body announced too large: 413 before it is read.
    let mut s = TcpStream::connect(&a).await.unwrap();
    let raw = exchange(&mut s, b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 10000000\r\n\r\ncsrf=x", Duration::from_secs(10)).await.unwrap();
    assert_eq!(status(&raw), Some(413), "{}", String::from_utf8_lossy(&raw));
    // Sent in chunks without a length: 413 once 64 KiB are passed.
    let mut s = TcpStream::connect(&a).await.unwrap();
    let mut req = b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n".to_vec();
    for _ in 0..9 {
        req.extend_from_slice(format!("{:x}\r\n{}\r\n", 8192, "a".repeat(8192)).as_bytes());
    }
    req.extend_from_slice(b"0\r\n\r\n");
    let raw = exchange(&mut s, &req, Duration::from_secs(10)).await.unwrap();
    assert_eq!(status(&raw), Some(413), "{}", String::from_utf8_lossy(&raw));

    let store = served.stop().await;
    assert!(!audit_rows(&store, "request.timeout").await.is_empty());
    assert!(!audit_rows(&store, "request.too_large").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_kept_alive_connection_is_closed() {
    let served = Served::start("marac-edge-idle", "idle_timeout_secs = 1").await;
    let mut s = TcpStream::connect(&served.addr).await.unwrap();
    let started = Instant::now();
    // Kept alive (no Connection: close): the answer comes, then the wait for the next request ends.
    let raw = exchange(&mut s, b"GET /style.css HTTP/1.1\r\nHost: x\r\n\r\n", Duration::from_secs(8)).await.expect("the idle connection is closed");
    assert_eq!(status(&raw), Some(200));
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_without_csrf_tokens_writes_a_bounded_number_of_audit_rows() {
    let served = Served::start("marac-edge-flood", "").await;
    let a = served.addr.clone();
    let long = format!("/case/{}", "A".repeat(60 * 1024));
    let post = move |path: String| {
        let a = a.clone();
        async move {
            let mut s = TcpStream::connect(&a).await.unwrap();
            let req = format!("POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 9\r\n\r\naction=go");
            status(&exchange(&mut s, req.as_bytes(), Duration::from_secs(20)).await.expect("an answer"))
        }
    };
    // The 60 KB path first: it opens the window, and is the one stored.
    assert_eq!(post(long.clone()).await, Some(403));
    let mut workers = Vec::new();
    for w in 0..4 {
        let post = post.clone();
        workers.push(tokio::spawn(async move {
            let mut refused = 0;
            for i in 0..(2999 / 4 + usize::from(w < 2999 % 4)) {
                refused += usize::from(post(format!("/case/MARAC-2026-{i:04}/decide")).await == Some(403));
            }
            refused
        }));
    }
    let mut refused = 1;
    for w in workers {
        refused += w.await.unwrap();
    }
    assert_eq!(refused, 3000);
    let store = served.stop().await;
    let rows = audit_rows(&store, "csrf.refused").await;
    assert!((1..=4).contains(&rows.len()), "at most two rows a minute for one client: {} rows", rows.len());
    let counted: u64 = rows.iter().map(|r| r.detail.as_deref().and_then(|d| d.rsplit("count ").next()).and_then(|n| n.parse::<u64>().ok()).expect("a count")).sum();
    assert_eq!(counted, 3000, "{rows:?}");
    assert!(rows.iter().all(|r| r.actor == "(unknown)" && r.client.as_deref() == Some("127.0.0.1")));
    let stored = rows.iter().filter_map(|r| r.object.as_deref()).find(|o| o.starts_with("/case/AAAA")).expect("the long path stored");
    assert_eq!(stored.len(), 200, "truncated to 200 bytes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_for_is_read_from_the_configured_proxy_only() {
    let post = async |addr: &str| {
        let mut s = TcpStream::connect(addr).await.unwrap();
        let req = "POST /logout HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Forwarded-For: 203.0.113.9\r\nContent-Length: 0\r\n\r\n";
        status(&exchange(&mut s, req.as_bytes(), Duration::from_secs(10)).await.unwrap())
    };
    // The proxy is elsewhere: our loopback peer's header is ignored.
    let served = Served::start("marac-edge-xff", "trust_forwarded_for = true\ntrusted_proxies = [\"192.0.2.10\"]").await;
    assert_eq!(post(&served.addr).await, Some(403));
    let rows = audit_rows(&served.stop().await, "csrf.refused").await;
    assert_eq!(rows.iter().map(|r| r.client.as_deref()).collect::<Vec<_>>(), vec![Some("127.0.0.1")]);
    // No proxy named, on loopback: the loopback peer is the proxy, its header is read.
    let served = Served::start("marac-edge-xff2", "trust_forwarded_for = true").await;
    assert_eq!(post(&served.addr).await, Some(403));
    let rows = audit_rows(&served.stop().await, "csrf.refused").await;
    assert_eq!(rows.iter().map(|r| r.client.as_deref()).collect::<Vec<_>>(), vec![Some("203.0.113.9")]);
}

#[test]
fn the_files_it_creates_are_private_whatever_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let scratch = scratch("marac-edge-umask");
    let data = scratch.0.join("data/deeper");
    let (config, _) = web_fixture::samples_config();
    let script = format!("umask 022; exec {} serve --config {} --listen 127.0.0.1:0", env!("CARGO_BIN_EXE_marac-intake"), config.display());
    let mut child = std::process::Command::new("sh").arg("-c").arg(&script).env("MARAC__DATA_DIR", &data).stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null()).spawn().unwrap();
    let db = data.join("marac-intake.db");
    let wal = data.join("marac-intake.db-wal");
    let shm = data.join("marac-intake.db-shm");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !(wal.exists() && shm.exists()) {
        if Instant::now() > deadline || child.try_wait().unwrap().is_some() {
            let _ = child.kill();
            panic!("serve did not open its database within 30 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let modes = [mode(&scratch.0.join("data")), mode(&data), mode(&db), mode(&wal), mode(&shm)];
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(modes, [0o700, 0o700, 0o600, 0o600, 0o600], "data dir, its parent, the database, -wal, -shm");
}
