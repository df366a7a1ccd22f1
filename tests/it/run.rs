//! `marac-intake run` — the binary itself, as systemd runs it — against a real Dovecot and a real
//! Postfix on 127.0.0.1 (started by `support::mailservers`):
//! - it decides the triage scenarios exactly as `marac-intake triage` does (same history, field
//!   by field), files each message, and sends exactly one reply per reply-bearing decision, to
//!   the right mailbox only; the shared samples too, when `../shared/samples` exists;
//! - readiness, reload and stop through the systemd notification socket and signals: an invalid
//!   configuration is refused on SIGHUP and the old one kept, a valid one takes effect, SIGTERM
//!   exits 0 after the work in hand; the log names no address or subject;
//! - SIGKILLed at arbitrary moments while it drains a backlog of hundreds of referrals, then
//!   started again: every message has exactly one decision and sits in its folder, every reply
//!   due was delivered, and a reply is delivered twice only when a kill interrupted its very
//!   send (the outbox records such an interrupted attempt; SMTP cannot do better).

use crate::support;

use chrono::{DateTime, FixedOffset};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};
use support::mailservers::{self, with_message_id, Dovecot, Postfix};

pub(crate) const SERVICE: &str = "marac@marac.example.test";
const BIN: &str = env!("CARGO_BIN_EXE_marac-intake");

pub(crate) fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The `MARAC__*` variables that point `config/samples.toml` at the harness servers.
pub(crate) fn service_env(dovecot: &Dovecot, postfix: &Postfix) -> Vec<(String, String)> {
    let mut env = mailservers::service_env(dovecot, postfix, SERVICE);
    for (k, v) in [
        ("MARAC__IMAP__IDLE_SECS", "30"),
        ("MARAC__IMAP__COMMAND_TIMEOUT_SECS", "10"),
        // A backlog answers one referrer many times within the hour.
        ("MARAC__SMTP__MAX_REPLIES_PER_RECIPIENT_PER_HOUR", "10000"),
        // Short sends, so a killed sender's claim lease runs out soon (lease = 10 s + 30 s).
        ("MARAC__SMTP__COMMAND_TIMEOUT_SECS", "2"),
    ] {
        env.push((k.to_owned(), v.to_owned()));
    }
    env
}

/// The service process, with its log in a file. Killed on drop if still running.
pub(crate) struct Daemon {
    child: Child,
    log: PathBuf,
}

impl Daemon {
    pub(crate) fn start(config: &Path, db: &Path, env: &[(String, String)], log: &Path, notify_socket: Option<&Path>) -> Daemon {
        Daemon::start_on(config, &format!("sqlite://{}", db.display()), env, log, notify_socket)
    }

    /// [`Daemon::start`] on the database at `url` (SQLite or PostgreSQL).
    pub(crate) fn start_on(config: &Path, url: &str, env: &[(String, String)], log: &Path, notify_socket: Option<&Path>) -> Daemon {
        let out = std::fs::OpenOptions::new().create(true).append(true).open(log).unwrap();
        let mut cmd = Command::new(BIN);
        cmd.arg("run").arg("--config").arg(config).arg("--db").arg(url);
        cmd.envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str()))).env("MARAC_LOG", "info").env_remove("NOTIFY_SOCKET").env_remove("WATCHDOG_USEC");
        if let Some(sock) = notify_socket {
            cmd.env("NOTIFY_SOCKET", sock).env("WATCHDOG_USEC", "2000000");
        }
        let child = cmd.stdin(Stdio::null()).stdout(out.try_clone().unwrap()).stderr(out).spawn().expect("the marac-intake binary starts");
        Daemon { child, log: log.to_owned() }
    }

    pub(crate) fn signal(&self, signal: &str) {
        let ok = Command::new("kill").arg(signal).arg(self.child.id().to_string()).status().unwrap().success();
        assert!(ok, "kill {signal}");
    }

    /// Waits (bounded) for the process to exit.
    pub(crate) fn wait_exit(&mut self, within: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Runs another subcommand of the binary and returns its standard output.
fn command(args: &[&str], env: &[(String, String)]) -> String {
    let out = Command::new(BIN).args(args).envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str()))).stdin(Stdio::null()).output().unwrap();
    assert!(out.status.success(), "marac-intake {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

pub(crate) fn json_lines(text: &str) -> Vec<Value> {
    text.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// Polls `check` every 100 ms until it holds, at most `within`.
pub(crate) async fn eventually(within: Duration, mut check: impl AsyncFnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    check().await
}

fn header(raw: &[u8], name: &str) -> Option<String> {
    let text = String::from_utf8_lossy(raw);
    let head = text.split("\r\n\r\n").next().unwrap_or("").split("\n\n").next().unwrap_or("").to_owned();
    let prefix = format!("{}:", name.to_ascii_lowercase());
    head.lines().find(|l| l.to_ascii_lowercase().starts_with(&prefix)).map(|l| l[prefix.len()..].trim().to_owned())
}

async fn sqlite(db: &Path, sql: &str) -> Vec<Vec<String>> {
    {
        use sqlx::Row;
        // The store's own opening: the database is encrypted, with the keys beside it.
        let store = marac_intake::store::Store::open(&format!("sqlite://{}", db.display())).await.unwrap();
        let pool = store.pool().clone();
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned())).fetch_all(&pool).await.unwrap();
        let out = rows
            .iter()
            .map(|r| (0..r.len()).map(|i| r.try_get::<Option<String>, _>(i).ok().flatten().or_else(|| r.try_get::<Option<i64>, _>(i).ok().flatten().map(|n| n.to_string())).unwrap_or_default()).collect())
            .collect();
        pool.close().await;
        out
    }
}

/// A labelled set of emails in processing order: (file, raw, arrival).
pub(crate) fn labelled(dir: &Path) -> Vec<(String, Vec<u8>, DateTime<FixedOffset>)> {
    let labels: Value = serde_json::from_slice(&std::fs::read(dir.join("labels.json")).unwrap()).unwrap();
    labels
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let file = l["file"].as_str().unwrap().to_owned();
            let raw = std::fs::read(dir.join(&file)).unwrap();
            (file, raw, DateTime::parse_from_rfc3339(l["arrived"].as_str().unwrap()).unwrap())
        })
        .collect()
}

/// Every address a reply could go to: the From and Reply-To of each email.
fn correspondents(emails: &[(String, Vec<u8>, DateTime<FixedOffset>)]) -> BTreeSet<String> {
    let opts = marac_intake::inspect::InspectOptions::with_clock(std::time::Instant::now);
    let mut out = BTreeSet::new();
    for (_, raw, _) in emails {
        let i = marac_intake::inspect::inspect(raw, &opts);
        out.extend(i.envelope.from.iter().chain(&i.envelope.reply_to).map(|a| a.address.to_ascii_lowercase()));
    }
    out.remove(SERVICE);
    out
}

/// A Dovecot with a mailbox for the service and for everyone these emails could be answered
/// at, and a Postfix delivering into it.
pub(crate) fn servers_for(emails: &[(String, Vec<u8>, DateTime<FixedOffset>)]) -> (BTreeSet<String>, Dovecot, Postfix) {
    let people = correspondents(emails);
    let mut users: Vec<&str> = people.iter().map(String::as_str).collect();
    users.push(SERVICE);
    let dovecot = Dovecot::start(&users);
    let postfix = Postfix::start(&dovecot);
    (people, dovecot, postfix)
}

fn folders() -> [&'static str; 5] {
    ["MARAC/Accepted", "MARAC/Rejected", "MARAC/Review", "MARAC/Quarantine", "MARAC/Ignored"]
}

/// The service and `triage` decide a labelled set alike: APPENDed with their arrival dates,
/// drained by `run`, then `history --json` compared with `triage --json` over the same files.
async fn run_decides_like_triage(dir: &Path) {
    let emails = labelled(dir);
    let (people, dovecot, postfix) = servers_for(&emails);
    let env = service_env(&dovecot, &postfix);
    let config = root().join("config/samples.toml");
    let db = dovecot.dir.join("run.db");
    for (_, raw, arrived) in &emails {
        dovecot.append(SERVICE, "INBOX", raw, *arrived).await;
    }
    let mut daemon = Daemon::start(&config, &db, &env, &dovecot.dir.join("run.log"), None);
    let drained = eventually(Duration::from_secs(120), async || dovecot.list_folder(SERVICE, "INBOX").await.is_empty()).await;
    assert!(drained, "the inbox was drained; log:\n{}", daemon.log());
    let sent = eventually(Duration::from_secs(60), async || sqlite(&db, "SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'sending') AND bounced_at IS NULL").await[0][0] == "0").await;
    assert!(sent, "every reply left the outbox; log:\n{}", daemon.log());
    daemon.signal("-TERM");
    let status = daemon.wait_exit(Duration::from_secs(30)).expect("the service stops on SIGTERM");
    assert!(status.success(), "exit status {status:?}; log:\n{}", daemon.log());

    // The same files through `triage`, into a fresh database.
    let files: Vec<String> = emails.iter().map(|(f, _, _)| dir.join(f).display().to_string()).collect();
    let reference_db = format!("sqlite://{}", dovecot.dir.join("triage.db").display());
    let mut args = vec!["triage", "--config", config.to_str().unwrap(), "--db", &reference_db, "--json"];
    args.extend(files.iter().map(String::as_str));
    let triaged = json_lines(&command(&args, &[]));
    let service_db = format!("sqlite://{}", db.display());
    let history = json_lines(&command(&["history", "--config", config.to_str().unwrap(), "--db", &service_db, "--json"], &[]));
    assert_eq!(history.len(), emails.len(), "one decision per email");
    assert_eq!(triaged.len(), emails.len(), "triage printed one line per email");
    for ((t, h), (file, _, _)) in triaged.iter().zip(&history).zip(&emails) {
        let mut t = t.clone();
        let mut h = h.clone();
        t.as_object_mut().unwrap().remove("file");
        for v in [&mut t, &mut h] {
            // The same instant, written with the offset of its source (Received: or INTERNALDATE).
            let arrived = v["arrived"].as_str().and_then(|a| DateTime::parse_from_rfc3339(a).ok()).map(|a| a.timestamp());
            v["arrived"] = arrived.into();
        }
        assert_eq!(h, t, "{file}: the service decided differently from triage");
    }

    // Filed by outcome; each reply in the right mailbox, exactly once; nothing anywhere else.
    let mut expected: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for h in &history {
        if h["reply"]["kind"] != "none" {
            for to in h["reply"]["to"].as_array().unwrap() {
                expected.entry(to.as_str().unwrap().to_ascii_lowercase()).or_default().push(h["reference"].as_str().unwrap().to_owned());
            }
        }
    }
    let mut filed = 0;
    for folder in folders() {
        let want = history.iter().filter(|h| marac_intake::mailbox::folder_for(h["outcome"].as_str().unwrap().parse().expect("a known outcome"), &Default::default()) == folder).count();
        let got = dovecot.list_folder(SERVICE, folder).await.len();
        assert_eq!(got, want, "{folder}");
        filed += got;
    }
    assert_eq!(filed, emails.len());
    for person in &people {
        let inbox = dovecot.list_folder(person, "INBOX").await;
        let want = expected.get(person).map_or(0, Vec::len);
        assert_eq!(inbox.len(), want, "{person}: one reply per reply-bearing decision; postfix log:\n{}", postfix.log());
        for reply in &inbox {
            assert_eq!(header(reply, "Auto-Submitted").as_deref(), Some("auto-replied"), "{person}");
        }
    }
    assert!(dovecot.list_folder(SERVICE, "INBOX").await.is_empty(), "nothing came back to the service's inbox");
}

#[tokio::test]
async fn run_decides_the_triage_scenarios_like_triage_files_them_and_replies_once_each() {
    run_decides_like_triage(&root().join("fixtures/triage")).await;
}

#[tokio::test]
async fn run_decides_the_shared_samples_like_triage() {
    let dir = root().join("../shared/samples");
    if !dir.join("labels.json").exists() {
        eprintln!("skipped: {} is not here", dir.display());
        return;
    }
    run_decides_like_triage(&dir).await;
}

/// Reads systemd notifications until one equals `want`, at most `within`.
fn await_notification(sock: &UnixDatagram, want: &str, within: Duration, seen: &mut Vec<String>) -> bool {
    let deadline = Instant::now() + within;
    let mut buf = [0u8; 512];
    while Instant::now() < deadline {
        if let Ok(n) = sock.recv(&mut buf) {
            let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
            seen.push(msg.clone());
            if msg == want {
                return true;
            }
        }
    }
    false
}

#[tokio::test]
async fn run_is_ready_reloads_refuses_a_bad_configuration_and_stops_cleanly() {
    let emails = labelled(&root().join("fixtures/triage"));
    // Four accepted referrals, each a new case.
    let accepted: Vec<_> = {
        let labels: Value = serde_json::from_slice(&std::fs::read(root().join("fixtures/triage/labels.json")).unwrap()).unwrap();
        let names: Vec<String> = labels.as_array().unwrap().iter().filter(|l| l["expect"]["outcome"] == "accepted" && l["expect"]["case"] == "new").map(|l| l["file"].as_str().unwrap().to_owned()).collect();
        emails.iter().filter(|(f, _, _)| names.contains(f)).take(4).cloned().collect()
    };
    assert_eq!(accepted.len(), 4);
    let (people, dovecot, postfix) = servers_for(&accepted);
    let mut env = service_env(&dovecot, &postfix);
    // With [web] listen set, run serves the web queue beside the two tasks.
    env.push(("MARAC__WEB__LISTEN".to_owned(), "127.0.0.1:0".to_owned()));
    env.push(("MARAC__WEB__TRUST_FORWARDED_FOR".to_owned(), "false".to_owned()));
    let config = dovecot.dir.join("marac-intake.toml");
    let original = std::fs::read_to_string(root().join("config/samples.toml")).unwrap();
    std::fs::write(&config, &original).unwrap();
    let db = dovecot.dir.join("run.db");
    let sock_path = dovecot.dir.join("notify.sock");
    let sock = UnixDatagram::bind(&sock_path).unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    let mut seen = Vec::new();
    let mut daemon = Daemon::start(&config, &db, &env, &dovecot.dir.join("run.log"), Some(&sock_path));
    assert!(await_notification(&sock, "READY=1", Duration::from_secs(30), &mut seen), "READY=1; got {seen:?}; log:\n{}", daemon.log());
    assert!(await_notification(&sock, "WATCHDOG=1", Duration::from_secs(5), &mut seen), "watchdog pings at half of WATCHDOG_USEC; got {seen:?}");
    let web = daemon.log().split("The web queue is listening. url=http://").nth(1).and_then(|l| l.split_whitespace().next()).map(str::to_owned).unwrap_or_else(|| panic!("the web queue's address is logged:\n{}", daemon.log()));
    let login = web_get(&web, "/login");
    assert!(login.starts_with("HTTP/1.1 200"), "the web queue answers: {login}");

    // A second `run` on the same database refuses to start, saying why; the first goes on.
    let second_log = dovecot.dir.join("second.log");
    let mut second = Daemon::start(&config, &db, &env, &second_log, None);
    let status = second.wait_exit(Duration::from_secs(30)).unwrap_or_else(|| panic!("a second run on the same database must not start; log:\n{}", second.log()));
    assert!(!status.success(), "{status}");
    assert!(second.log().contains("another `marac-intake run` is already using the database"), "{}", second.log());
    assert!(daemon.child.try_wait().unwrap().is_none(), "the first run goes on");

    let filed_in = async |folder: &str, n: usize| eventually(Duration::from_secs(30), async || dovecot.list_folder(SERVICE, folder).await.len() >= n).await;
    dovecot.append(SERVICE, "INBOX", &accepted[0].1, accepted[0].2).await;
    assert!(filed_in("MARAC/Accepted", 1).await, "first referral filed; log:\n{}", daemon.log());

    // An invalid file is refused on SIGHUP; the service goes on with the old configuration.
    std::fs::write(&config, original.replacen("[threshold]", "[threshold]\nno_such_key = 1", 1)).unwrap();
    assert!(original.contains("[threshold]"), "samples.toml has a [threshold] section to break");
    daemon.signal("-HUP");
    assert!(await_notification(&sock, "RELOADING=1", Duration::from_secs(10), &mut seen), "RELOADING=1; got {seen:?}");
    assert!(await_notification(&sock, "READY=1", Duration::from_secs(10), &mut seen), "READY=1 after the refused reload");
    assert!(eventually(Duration::from_secs(5), async || daemon.log().contains("invalid and was refused")).await, "the refusal is logged:\n{}", daemon.log());
    assert!(daemon.log().contains("threshold.no_such_key"), "the refusal names the key:\n{}", daemon.log());
    dovecot.append(SERVICE, "INBOX", &accepted[1].1, accepted[1].2).await;
    assert!(filed_in("MARAC/Accepted", 2).await, "still running on the old configuration; log:\n{}", daemon.log());

    // A valid change takes effect: accepted referrals now go to another folder.
    let changed = format!("{original}\n");
    let changed = if changed.contains("[folders]") {
        changed.replacen("[folders]", "[folders]\naccepted = \"MARAC/Accepted-2026\"", 1)
    } else {
        format!("{changed}\n[folders]\naccepted = \"MARAC/Accepted-2026\"\n")
    };
    std::fs::write(&config, changed).unwrap();
    daemon.signal("-HUP");
    assert!(await_notification(&sock, "RELOADING=1", Duration::from_secs(10), &mut seen), "RELOADING=1 (second)");
    assert!(await_notification(&sock, "READY=1", Duration::from_secs(30), &mut seen), "READY=1 after the reload; log:\n{}", daemon.log());
    dovecot.append(SERVICE, "INBOX", &accepted[2].1, accepted[2].2).await;
    assert!(filed_in("MARAC/Accepted-2026", 1).await, "the reloaded configuration is used; log:\n{}", daemon.log());
    // The web queue started again with the new configuration (on a new port: listen is :0).
    let log = daemon.log();
    let listening = web_addresses(&log);
    assert_eq!(listening.len(), 2, "the web queue restarted once, on the valid reload only:\n{log}");
    let web = listening[1].to_owned();
    let login = web_get(&web, "/login");
    assert!(login.starts_with("HTTP/1.1 200"), "the restarted web queue answers: {login}");

    // A rule changed in the web console (stored in the database, as /admin/rules stores it) is
    // a reload without a signal: the next referral is filed by the changed rule.
    let store = marac_intake::store::Store::open(&format!("sqlite://{}", db.display())).await.unwrap();
    let audit = marac_intake::store::accounts::Audit { at: "2026-12-01T10:00:00.000Z", actor: "boss", action: "rules.change", object: None, client: None, detail: None };
    store.change_rule("folders", Some("accepted = \"MARAC/Accepted-web\"\n"), 0, "saved", audit).await.unwrap();
    assert!(await_notification(&sock, "RELOADING=1", Duration::from_secs(15), &mut seen), "RELOADING=1 (rules); got {seen:?}; log:\n{}", daemon.log());
    assert!(await_notification(&sock, "READY=1", Duration::from_secs(30), &mut seen), "READY=1 after the rules' reload; log:\n{}", daemon.log());
    assert!(daemon.log().contains("The rules were changed in the web console; reloading."), "{}", daemon.log());
    dovecot.append(SERVICE, "INBOX", &accepted[3].1, accepted[3].2).await;
    assert!(filed_in("MARAC/Accepted-web", 1).await, "the rules from the database are used; log:\n{}", daemon.log());
    let log = daemon.log();
    let listening = web_addresses(&log);
    assert_eq!(listening.len(), 3, "the web queue restarted on each valid reload:\n{log}");
    let web = listening[2].to_owned();
    assert!(eventually(Duration::from_secs(30), async || sqlite(&db, "SELECT COUNT(*) FROM outbox WHERE status = 'sent'").await[0][0] == "4").await, "four replies sent");

    daemon.signal("-TERM");
    let status = daemon.wait_exit(Duration::from_secs(30)).expect("exits within the deadline");
    assert!(status.success(), "exit 0 on SIGTERM: {status:?}; log:\n{}", daemon.log());
    assert!(std::net::TcpStream::connect(&web).is_err(), "the web queue stopped with the service");
    assert!(await_notification(&sock, "STOPPING=1", Duration::from_secs(1), &mut seen) || seen.iter().any(|s| s == "STOPPING=1"), "STOPPING=1; got {seen:?}");

    // No personal data in the log: none of the addresses or subjects of what it handled.
    let log = daemon.log();
    assert!(log.contains("message decided"), "the log says what happened:\n{log}");
    for (file, raw, _) in &accepted {
        for h in ["From", "Subject"] {
            let value = header(raw, h).unwrap();
            let value = value.trim_matches(|c| c == '<' || c == '>' || c == '"');
            assert!(!log.contains(value), "{file}: the log shows its {h} header:\n{log}");
        }
    }
    for p in &people {
        assert!(!log.to_ascii_lowercase().contains(p.as_str()), "the log names {p}");
    }
}

/// The addresses the web queue said it listened on, in order.
fn web_addresses(log: &str) -> Vec<&str> {
    log.split("The web queue is listening. url=http://").skip(1).filter_map(|l| l.split_whitespace().next()).collect()
}

/// A GET on its own connection; the whole response.
fn web_get(addr: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).expect("connect to the web queue");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

/// A deterministic pseudo-random sequence (xorshift), so a failing run can be repeated.
fn pauses(seed: u64, n: usize, lo_ms: u64, hi_ms: u64) -> Vec<Duration> {
    let mut x = seed.max(1);
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            Duration::from_millis(lo_ms + x % (hi_ms - lo_ms))
        })
        .collect()
}

#[tokio::test]
async fn run_killed_at_arbitrary_moments_while_draining_a_backlog_loses_nothing_and_decides_once() {
    const BACKLOG: usize = 240;
    let labels: Value = serde_json::from_slice(&std::fs::read(root().join("fixtures/triage/labels.json")).unwrap()).unwrap();
    let answered: Vec<String> = labels.as_array().unwrap().iter().filter(|l| l["expect"]["reply"] != "none").map(|l| l["file"].as_str().unwrap().to_owned()).collect();
    let emails: Vec<_> = labelled(&root().join("fixtures/triage")).into_iter().filter(|(f, _, _)| answered.contains(f)).collect();
    let (people, dovecot, postfix) = servers_for(&emails);
    let env = service_env(&dovecot, &postfix);
    let config = root().join("config/samples.toml");
    let db = dovecot.dir.join("run.db");
    let log = dovecot.dir.join("run.log");
    // Each copy with its own Message-ID, so every one is a referral of its own.
    let mut ids = BTreeSet::new();
    for i in 0..BACKLOG {
        let (_, raw, arrived) = &emails[i % emails.len()];
        let id = format!("backlog-{i}@kill.example.test");
        dovecot.append(SERVICE, "INBOX", &with_message_id(raw, &id), *arrived).await;
        ids.insert(id);
    }

    let seed = std::env::var("MARAC_KILL_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(20261204u64);
    let kills = pauses(seed, 6, 300, 2500);
    eprintln!("kill seed {seed}: SIGKILL after {kills:?}");
    for pause in &kills {
        let mut daemon = Daemon::start(&config, &db, &env, &log, None);
        tokio::time::sleep(*pause).await;
        daemon.signal("-KILL");
        daemon.wait_exit(Duration::from_secs(10)).expect("killed");
    }
    let mut daemon = Daemon::start(&config, &db, &env, &log, None);
    let drained = eventually(Duration::from_secs(180), async || dovecot.list_folder(SERVICE, "INBOX").await.is_empty()).await;
    assert!(drained, "the backlog was drained after the restarts; log:\n{}", daemon.log());
    // Claims of killed senders run out after their lease (40 s here), then those replies go.
    let settled = eventually(Duration::from_secs(120), async || sqlite(&db, "SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'sending')").await[0][0] == "0").await;
    assert!(settled, "every reply left the outbox; log:\n{}", daemon.log());
    daemon.signal("-TERM");
    assert!(daemon.wait_exit(Duration::from_secs(30)).is_some_and(|s| s.success()), "clean stop; log:\n{}", daemon.log());

    // Exactly one decision per message, and each message filed once, in the folder of its outcome.
    let decided = sqlite(&db, "SELECT message_id, outcome FROM messages ORDER BY id").await;
    assert_eq!(decided.len(), BACKLOG, "one decision per message, none twice");
    let outcome: BTreeMap<String, String> = decided.iter().map(|r| (r[0].trim_matches(['<', '>']).to_owned(), r[1].clone())).collect();
    assert_eq!(outcome.keys().cloned().collect::<BTreeSet<_>>(), ids, "every message decided");
    let mut filed = BTreeSet::new();
    for folder in folders() {
        for raw in dovecot.list_folder(SERVICE, folder).await {
            let id = header(&raw, "Message-ID").unwrap().trim_matches(['<', '>']).to_owned();
            assert_eq!(marac_intake::mailbox::folder_for(outcome[&id].parse().expect("a known outcome"), &Default::default()), folder, "{id} filed by its outcome");
            assert!(filed.insert(id.clone()), "{id} filed twice");
        }
    }
    assert_eq!(filed, ids, "every message filed, none lost");

    // Every reply due was delivered; twice only where a kill cut its send short.
    let rows = sqlite(
        &db,
        "SELECT o.id, o.recipient, o.status, o.reply_message_id, (SELECT COUNT(*) FROM outbox_attempts a WHERE a.outbox_id = o.id AND a.outcome = 'interrupted') FROM outbox o ORDER BY o.id",
    )
    .await;
    let due: usize = sqlite(&db, "SELECT COUNT(*) FROM messages WHERE reply_kind <> 'none'").await[0][0].parse().unwrap();
    assert!(due >= BACKLOG / 2, "most of the backlog is answered: {due}");
    assert_eq!(rows.len(), due, "one outbox row per reply-bearing decision");
    let mut delivered: BTreeMap<String, usize> = BTreeMap::new();
    for person in &people {
        for reply in dovecot.list_folder(person, "INBOX").await {
            *delivered.entry(marac_intake::mime::normalise_message_id(&header(&reply, "Message-ID").unwrap()).unwrap()).or_default() += 1;
        }
    }
    let mut doubled = 0;
    for r in &rows {
        assert_eq!(r[2], "sent", "outbox row {} ended {}", r[0], r[2]);
        let id = r[3].clone();
        let n = delivered.remove(&id).unwrap_or(0);
        let interrupted: usize = r[4].parse().unwrap();
        assert!(n >= 1, "outbox row {}: its reply was delivered", r[0]);
        assert!(n == 1 || (interrupted > 0 && n <= 1 + interrupted), "outbox row {}: delivered {n} times with {interrupted} interrupted sends", r[0]);
        doubled += n - 1;
    }
    assert!(delivered.is_empty(), "no mail that the outbox did not send: {delivered:?}");
    eprintln!("{} replies, {doubled} delivered twice after a kill during their send", rows.len());
    assert!(dovecot.list_folder(SERVICE, "INBOX").await.is_empty(), "nothing bounced back");
}

/// `subject export` writes the person's zip 0600 (never over an existing file), with each kept
/// message as received, and audits it as "cli" without a name; `subject erase` needs a reason,
/// blanks the name and date of birth, and keeps the record. On SQLite, then on PostgreSQL when
/// it is installed.
#[tokio::test(flavor = "current_thread")]
async fn subject_export_and_erase_from_the_command_line() {
    use std::os::unix::fs::PermissionsExt;
    let ok = |mut c: Command| {
        let out = c.stdin(Stdio::null()).output().unwrap();
        assert!(out.status.success(), "{c:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let pg = support::postgres::Postgres::start("subject");
    for pg in [None, pg.as_ref()] {
        let db = support::TestDb::new(pg, "run_subject").await;
        let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("fixtures/triage")).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "eml")).collect();
        files.sort();
        let mut triage = db.command(&["triage"]);
        triage.args(&files);
        ok(triage);
        let found = db.rows("SELECT p.ref, p.name, m.ref FROM people p JOIN messages m ON m.person_id = p.id JOIN message_sources s ON s.message_row = m.id ORDER BY m.id LIMIT 1").await;
        let (person, name, message) = (found[0][0].clone(), found[0][1].clone(), found[0][2].clone());

        let out = db.scratch.path().join("export.zip");
        let export = || {
            let mut c = db.command(&["subject", "export"]);
            c.args([person.as_str(), "--out", out.to_str().unwrap()]);
            c
        };
        let said = ok(export());
        assert!(said.contains(&person) && !said.contains(&name), "{said}");
        assert_eq!(std::fs::metadata(&out).unwrap().permissions().mode() & 0o777, 0o600);
        assert!(!export().output().unwrap().status.success(), "an existing file is never overwritten");
        let mut zip = zip::ZipArchive::new(std::fs::File::open(&out).unwrap()).unwrap();
        let mut read = |name: &str| {
            use std::io::Read;
            let mut b = Vec::new();
            zip.by_name(name).unwrap_or_else(|_| panic!("{name} in the export")).read_to_end(&mut b).unwrap();
            b
        };
        let manifest: Value = serde_json::from_slice(&read("manifest.json")).unwrap();
        assert_eq!((manifest["person"].as_str(), manifest["exported_by"].as_str()), (Some(person.as_str()), Some("cli")));
        let original = read(&format!("messages/{message}/original.eml"));
        let store = db.open().await;
        assert_eq!(Some(original), store.message_source(&message).await.unwrap(), "the message as received");
        store.pool().close().await;
        let audit = db.rows("SELECT actor, object, detail FROM audit_log WHERE action = 'subject.export'").await;
        assert_eq!(audit.len(), 1);
        assert_eq!((audit[0][0].as_str(), audit[0][1].as_str()), ("cli", person.as_str()));
        assert!(!audit[0][2].contains(&name));

        let erase = |reason: &str| {
            let mut c = db.command(&["subject", "erase"]);
            c.args([person.as_str(), "--reason", reason]);
            c
        };
        assert!(!erase(" ").output().unwrap().status.success(), "a reason is required");
        let keys = format!("SELECT COUNT(*) FROM message_search_keys k JOIN messages m ON m.id = k.message_row JOIN people p ON p.id = m.person_id WHERE p.ref = '{person}'");
        assert_ne!(db.rows(&keys).await[0][0], "0", "the forms' police references and postcodes are kept as search keys");
        ok(erase("erasure request upheld"));
        let left = db.rows(&format!("SELECT COUNT(*) FROM message_search_keys WHERE message_row IN (SELECT id FROM messages WHERE ref = '{message}')")).await;
        assert_eq!(left[0][0], "0", "an erased person's forms can no longer be found by them");
        let after = db.rows(&format!("SELECT name, dob, erased_at FROM people WHERE ref = '{person}'")).await;
        assert_eq!((after[0][0].as_str(), after[0][1].as_str()), ("", ""), "name and date of birth blanked, the record kept");
        assert!(!after[0][2].is_empty());
        let audit = db.rows("SELECT actor, detail FROM audit_log WHERE action = 'subject.erase'").await;
        assert_eq!(audit[0][0], "cli");
        assert!(audit[0][1].contains("erasure request upheld") && !audit[0][1].contains(&name));
    }
}

/// Three instances on one PostgreSQL through faults (issue 14, item 5).
mod fault;
/// Prometheus watching a drain while Postfix is stopped (issue 15, item 3).
mod metrics;
