//! Debian's Prometheus for the tests (`apt-get install prometheus`, which also brings
//! `promtool`): a server of its own per test, in a scratch directory, on a free loopback port,
//! scraping one target every second and evaluating its rules every second. Killed on drop.
//! Also a plain HTTP GET (HTTP/1.0, so no chunked bodies) for it and for the service's endpoints.

use super::{free_port, Scratch};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `name` on `$PATH`, if installed.
pub fn installed(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?).map(|d| d.join(name)).find(|p| p.is_file())
}

/// A running Prometheus.
pub struct Prometheus {
    child: Child,
    /// `127.0.0.1:PORT` of its HTTP API.
    pub addr: String,
    pub dir: Scratch,
}

impl Prometheus {
    /// Starts `binary` scraping `target` (`127.0.0.1:PORT`) as job `marac-intake` every second,
    /// with `rules` (a rule file's text) evaluated every second; waits (at most 30 s) until it is
    /// ready.
    pub fn start(binary: &Path, target: &str, rules: &str) -> Prometheus {
        let dir = Scratch::new("prometheus");
        let rules_file = dir.path().join("rules.yml");
        std::fs::write(&rules_file, rules).unwrap();
        let config = dir.path().join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\nrule_files:\n  - {}\nscrape_configs:\n  - job_name: marac-intake\n    static_configs:\n      - targets: [\"{target}\"]\n",
                rules_file.display()
            ),
        )
        .unwrap();
        let addr = format!("127.0.0.1:{}", free_port());
        let log = std::fs::File::create(dir.path().join("prometheus.log")).unwrap();
        let child = Command::new(binary)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", dir.path().join("data").display()))
            .arg(format!("--web.listen-address={addr}"))
            .arg("--log.level=warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("prometheus starts");
        let p = Prometheus { child, addr, dir };
        let deadline = Instant::now() + Duration::from_secs(30);
        while get(&p.addr, "/-/ready").map(|(s, _)| s) != Some(200) {
            assert!(Instant::now() < deadline, "prometheus was not ready within 30 s:\n{}", p.log());
            std::thread::sleep(Duration::from_millis(100));
        }
        p
    }

    /// The alerts pending or firing now (`/api/v1/alerts`): (name, state) pairs.
    pub fn alerts(&self) -> Vec<(String, String)> {
        let Some((200, body)) = get(&self.addr, "/api/v1/alerts") else { return Vec::new() };
        let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("/api/v1/alerts: {e}: {body}"));
        v["data"]["alerts"]
            .as_array()
            .map(|a| a.iter().map(|a| (a["labels"]["alertname"].as_str().unwrap_or_default().to_owned(), a["state"].as_str().unwrap_or_default().to_owned())).collect())
            .unwrap_or_default()
    }

    /// The health of its scrape target (`/api/v1/targets`): "up", "down" or "unknown".
    pub fn target_health(&self) -> String {
        let Some((200, body)) = get(&self.addr, "/api/v1/targets") else { return String::new() };
        let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        v["data"]["activeTargets"][0]["health"].as_str().unwrap_or_default().to_owned()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("prometheus.log")).unwrap_or_default()
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `GET path` from `addr` (`127.0.0.1:PORT`) over HTTP/1.0: the status and the body, or None
/// when nothing answers within 10 s.
pub fn get(addr: &str, path: &str) -> Option<(u16, String)> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    let (head, body) = out.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, body.to_owned()))
}

/// The value of the sample `series` (its name with its labels exactly as the text format writes
/// them, e.g. `marac_outbox_rows{status="sent"}`) in a `/metrics` text.
pub fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')).and_then(|v| v.split_whitespace().next()).and_then(|v| v.parse().ok()))
}
