//! The service's log forms (`MARAC_LOG_FORMAT`), from the binary itself: `serve` started, asked
//! to stop, and its standard error read. JSON lines parse, each with a level and a message;
//! under journald each line carries its syslog priority; an unknown form is a warning, not a
//! failure.

use crate::support::{free_port, Scratch};
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs `serve` on a free loopback port with `env` until it says it listens (bounded), stops it
/// with SIGTERM, and returns what it wrote to standard error.
fn serve_log(name: &str, env: &[(&str, &str)]) -> String {
    let scratch = Scratch::new(name);
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/samples.toml");
    let mut child = Command::new(env!("CARGO_BIN_EXE_marac-intake"))
        .args(["serve", "--config"])
        .arg(&config)
        .args(["--listen", &format!("127.0.0.1:{}", free_port())])
        .env("MARAC__DATA_DIR", &scratch.0)
        // Its own metrics port: tests run side by side.
        .env("MARAC__METRICS__LISTEN", "127.0.0.1:0")
        .env_remove("JOURNAL_STREAM")
        .env_remove("MARAC_LOG_FORMAT")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // `serve` prints its address on standard output once it listens.
    let mut stdout = child.stdout.take().unwrap();
    let started = Instant::now();
    let mut seen = Vec::new();
    let mut buf = [0u8; 256];
    while !String::from_utf8_lossy(&seen).contains("serving on") && started.elapsed() < Duration::from_secs(60) {
        match stdout.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
    assert!(String::from_utf8_lossy(&seen).contains("serving on"), "serve did not start: {}", String::from_utf8_lossy(&seen));
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "serve stops cleanly on SIGTERM: {:?}, {}", out.status, String::from_utf8_lossy(&out.stderr));
    // The log's events; the notes the commands print themselves (`marac-intake: NOTE: made new
    // keys ...`) are not events.
    String::from_utf8(out.stderr).unwrap().lines().filter(|l| !l.starts_with("marac-intake: ")).map(|l| format!("{l}\n")).collect()
}

#[test]
fn json_lines_parse_with_a_level_and_a_message() {
    let log = serve_log("log-json", &[("MARAC_LOG_FORMAT", "json")]);
    let events: Vec<serde_json::Value> = log.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect();
    assert!(events.len() >= 2, "{log}");
    for e in &events {
        assert!(e["level"].is_string() && e["timestamp"].is_string() && e["fields"]["message"].is_string(), "{e}");
    }
    let listening = events.iter().find(|e| e["fields"]["message"] == "The web queue is listening.").unwrap_or_else(|| panic!("{log}"));
    assert_eq!(listening["level"], "INFO");
    assert!(listening["fields"]["url"].as_str().is_some_and(|u| u.starts_with("http://127.0.0.1:")), "{listening}");
}

#[test]
fn under_journald_each_line_carries_its_priority() {
    let log = serve_log("log-journald", &[("JOURNAL_STREAM", "8:12345")]);
    let lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(lines.len() >= 2, "{log}");
    for l in &lines {
        assert!(["<3>", "<4>", "<6>", "<7>"].iter().any(|p| l.starts_with(p)), "no priority: {l}");
    }
    assert!(lines.iter().any(|l| l.starts_with("<6>") && l.contains("The web queue is listening.")), "{log}");
    // journald adds its own timestamps.
    assert!(!lines.iter().any(|l| l.contains(&format!("{}-", chrono::Utc::now().format("%Y")))), "{log}");

    // A form the service does not know is a warning (priority 4), and the default is kept.
    let log = serve_log("log-unknown", &[("JOURNAL_STREAM", "8:12345"), ("MARAC_LOG_FORMAT", "xml")]);
    assert!(log.lines().any(|l| l.starts_with("<4>") && l.contains("MARAC_LOG_FORMAT=\"xml\" is not one of text, journald, json")), "{log}");
    assert!(log.lines().any(|l| l.starts_with("<6>") && l.contains("The web queue is listening.")), "{log}");
}
