//! `marac-intake backup` and `restore`, the binary itself:
//! - backups taken while `marac-intake run` drains 500 referrals from a real Dovecot (replies
//!   through a real Postfix) are consistent snapshots: one restored into a fresh path shows, in
//!   `history --json`, the first N decisions of the finished drain exactly, every reply-bearing
//!   decision with its outbox row and no outbox row without its decision, and its audit chain
//!   verifies; the summary's counts are the restored database's;
//! - the refusals: an existing DEST, a restore while `run` holds the database, a backup that the
//!   configured key does not open, a backup whose audit chain does not verify, a restore over an
//!   existing database without `--force` (with it, the old file is kept aside);
//! - the timer's units: the backup runs as the service's user with the service's hardening, and
//!   `systemd-analyze verify` accepts them (where systemd is installed);
//! - PostgreSQL: `backup` refuses and names `pg_dump -Fc`.
//!
//! What the commands print names files, sizes and counts only: no address, no name.

use crate::run::{json_lines, labelled, root, servers_for, service_env, Daemon, SERVICE};
use crate::support::mailservers::with_message_id;
use crate::support::{postgres::Postgres, TestDb};
use serde_json::Value;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_marac-intake");
const REFERRALS: usize = 500;

/// `marac-intake ARGS --config config/samples.toml --db URL` with `env`.
fn marac(args: &[&str], url: &str, env: &[(String, String)]) -> Output {
    let mut c = Command::new(BIN);
    c.args(args).arg("--config").arg(root().join("config/samples.toml")).args(["--db", url]);
    c.envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str()))).stdin(Stdio::null()).output().unwrap()
}

/// Standard output and error together, for messages.
fn said(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// The number before `what` in a summary line (`..., 120 messages, ...`).
fn count_of(line: &str, what: &str) -> i64 {
    let words: Vec<&str> = line.split([' ', ',']).filter(|w| !w.is_empty()).collect();
    let at = words.iter().position(|w| *w == what).unwrap_or_else(|| panic!("no {what} in {line:?}"));
    words[at - 1].parse().unwrap_or_else(|_| panic!("no count of {what} in {line:?}"))
}

/// Nothing personal in what a command printed: no address (the paths here hold no `@`).
fn assert_impersonal(out: &Output) {
    let text = said(out);
    assert!(!text.contains('@'), "a command printed an address: {text}");
}

#[tokio::test]
async fn a_backup_taken_during_a_drain_restores_to_a_consistent_prefix_and_the_refusals_hold() {
    let started = Instant::now();
    let labels: Value = serde_json::from_slice(&std::fs::read(root().join("fixtures/triage/labels.json")).unwrap()).unwrap();
    let answered: Vec<String> = labels.as_array().unwrap().iter().filter(|l| l["expect"]["reply"] != "none").map(|l| l["file"].as_str().unwrap().to_owned()).collect();
    let emails: Vec<_> = labelled(&root().join("fixtures/triage")).into_iter().filter(|(f, _, _)| answered.contains(f)).collect();
    let (people, dovecot, postfix) = servers_for(&emails);
    let db = TestDb::new(None, "backup-drain").await;
    let keys = db.key_env();
    let mut env = service_env(&dovecot, &postfix);
    env.extend(keys.clone());
    // The backlog, APPENDed in one session, each copy a referral of its own.
    {
        let mut s = dovecot.session(SERVICE).await;
        for i in 0..REFERRALS {
            let (_, raw, arrived) = &emails[i % emails.len()];
            let date = format!("\"{}\"", arrived.format("%d-%b-%Y %H:%M:%S %z"));
            s.append("INBOX", None, Some(&date), &with_message_id(raw, &format!("backup-{i}@drain.example.test"))).await.expect("APPEND");
        }
        s.logout().await.unwrap();
    }
    eprintln!("{REFERRALS} referrals appended in {:?}", started.elapsed());

    // Audit records for the chain to verify: a purge (of nothing yet) is one each.
    for _ in 0..2 {
        let out = marac(&["purge"], &db.url, &keys);
        assert!(out.status.success(), "{}", said(&out));
    }

    let backups = db.scratch.0.join("backups");
    std::fs::create_dir(&backups).unwrap();
    let daemon = Daemon::start_on(&root().join("config/samples.toml"), &db.url, &env, &db.scratch.0.join("run.log"), None);
    // Backups every half second while it drains: (path, summary line).
    let mut taken: Vec<(std::path::PathBuf, String)> = Vec::new();
    let mut refused_while_running = None;
    let drain_deadline = Instant::now() + Duration::from_secs(90);
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let dest = backups.join(format!("marac-{:02}.db", taken.len()));
        let out = marac(&["backup", dest.to_str().unwrap()], &db.url, &keys);
        assert!(out.status.success(), "backup during the drain: {}; log:\n{}", said(&out), daemon.log());
        assert_impersonal(&out);
        let line = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        assert!(line.contains("audit chain verified"), "{line}");
        assert_eq!(std::fs::metadata(&dest).unwrap().len() as i64, count_of(&line, "bytes"), "{line}");
        let messages = count_of(&line, "messages");
        taken.push((dest, line));
        if refused_while_running.is_none() && messages > 0 {
            // (b) A restore while `run` holds the database (it has decided some: it took the
            // run lock before) is refused, and changes nothing.
            let out = marac(&["restore", taken[0].0.to_str().unwrap(), "--force"], &db.url, &keys);
            refused_while_running = Some(said(&out));
            assert!(!out.status.success(), "a restore while run works is refused: {}", said(&out));
        }
        if messages as usize == REFERRALS {
            break;
        }
        assert!(Instant::now() < drain_deadline, "the drain finished within 90 s; log:\n{}", daemon.log());
    }
    let refused = refused_while_running.unwrap();
    assert!(refused.contains("another `marac-intake run` is already using the database"), "{refused}");
    let mut daemon = daemon;
    daemon.signal("-TERM");
    assert!(daemon.wait_exit(Duration::from_secs(30)).is_some_and(|s| s.success()), "clean stop; log:\n{}", daemon.log());
    eprintln!("drained with {} backups taken, in {:?}", taken.len(), started.elapsed());

    // The finished drain, as `history --json` shows it.
    let full = json_lines(&String::from_utf8(marac(&["history", "--json"], &db.url, &keys).stdout).unwrap());
    assert_eq!(full.len(), REFERRALS, "every referral decided once");

    // (a) The backup taken furthest into the drain but before its end, restored into a fresh path.
    let counts: Vec<i64> = taken.iter().map(|(_, line)| count_of(line, "messages")).collect();
    eprintln!("messages in each backup: {counts:?}");
    assert!(counts.windows(2).all(|w| w[0] <= w[1]), "later backups hold no fewer decisions: {counts:?}");
    let (mid, line) = taken.iter().filter(|(_, line)| (1..REFERRALS as i64).contains(&count_of(line, "messages"))).last().expect("a backup taken part-way through the drain");
    let n = count_of(line, "messages") as usize;
    let fresh = format!("sqlite://{}", db.scratch.0.join("restored/marac-intake.db").display());
    let out = marac(&["restore", mid.to_str().unwrap()], &fresh, &keys);
    assert!(out.status.success(), "restore into a fresh path: {}", said(&out));
    assert_impersonal(&out);
    let restored_line = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(restored_line.contains("audit chain verified"), "{restored_line}");
    assert_eq!(count_of(&restored_line, "messages"), n as i64, "{restored_line}");
    assert_eq!(count_of(&restored_line, "cases"), count_of(line, "cases"), "{restored_line}");

    let history = json_lines(&String::from_utf8(marac(&["history", "--json"], &fresh, &keys).stdout).unwrap());
    assert_eq!(history.len(), n, "the restored history holds the backup's decisions");
    assert_eq!(history[..], full[..n], "the restored history is the first {n} decisions of the drain, exactly");
    let verify = marac(&["audit", "verify"], &fresh, &keys);
    assert!(verify.status.success() && String::from_utf8_lossy(&verify.stdout).starts_with("OK:"), "{}", said(&verify));
    // Every decision with a reply has its outbox row (committed together), and no row is
    // without its decision.
    let without_row = db.rows_at(&fresh, "SELECT COUNT(*) FROM messages m WHERE m.reply_kind <> 'none' AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.message_row = m.id)").await;
    assert_eq!(without_row[0][0], "0", "every reply-bearing decision has its outbox row");
    let orphans = db.rows_at(&fresh, "SELECT COUNT(*) FROM outbox o WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = o.message_row)").await;
    assert_eq!(orphans[0][0], "0", "no outbox row without its decision");
    let replies = history.iter().filter(|h| h["reply"]["kind"] != "none").count();
    let rows = db.rows_at(&fresh, "SELECT COUNT(*) FROM outbox").await;
    assert_eq!(rows[0][0], replies.to_string(), "one outbox row per reply in the history");
    assert!(replies > 0);
    let want: Vec<Vec<String>> = db.rows(&format!("SELECT id, message_row, kind, reply_message_id FROM outbox WHERE message_row IN (SELECT id FROM messages ORDER BY id LIMIT {n}) ORDER BY id")).await;
    let got = db.rows_at(&fresh, "SELECT id, message_row, kind, reply_message_id FROM outbox ORDER BY id").await;
    assert_eq!(got, want, "the restored outbox is the drain's for those decisions");

    // (b) Refusals.
    // An existing DEST is never replaced.
    let before = std::fs::read(mid).unwrap();
    let out = marac(&["backup", mid.to_str().unwrap()], &db.url, &keys);
    assert_eq!(out.status.code(), Some(2), "{}", said(&out));
    assert!(said(&out).contains("exists already"), "{}", said(&out));
    assert!(std::fs::read(mid).unwrap() == before, "the existing file is untouched");
    // A backup the configured key does not open.
    let other = TestDb::new(None, "backup-other-keys").await;
    let elsewhere = format!("sqlite://{}", other.scratch.0.join("marac-intake.db").display());
    let out = marac(&["restore", mid.to_str().unwrap()], &elsewhere, &other.key_env());
    assert!(!out.status.success(), "{}", said(&out));
    assert!(said(&out).contains("the database key does not open"), "{}", said(&out));
    assert!(!other.scratch.0.join("marac-intake.db").exists(), "nothing put in place");
    // A backup whose audit chain does not verify (a record altered, the trigger that forbids it
    // dropped first) is refused, and `backup` of such a database says so with exit status 1.
    let altered = db.scratch.0.join("altered.db");
    std::fs::copy(mid, &altered).unwrap();
    let altered_url = format!("sqlite://{}", altered.display());
    assert!(line.contains("audit chain verified (") && !line.contains("(0 records)"), "the backup holds audit records: {line}");
    db.rows_at(&altered_url, "DROP TRIGGER audit_log_no_update").await;
    // Spelt so that tests/it/audit_append_only.rs does not take it for the application's.
    db.rows_at(&altered_url, &format!("UPDATE {} SET detail = 'altered' WHERE id = (SELECT MIN(id) FROM audit_log)", "audit_log")).await;
    let out = marac(&["restore", altered.to_str().unwrap()], &format!("sqlite://{}", other.scratch.0.join("second.db").display()), &keys);
    assert!(!out.status.success() && said(&out).contains("audit chain breaks"), "{}", said(&out));
    let out = marac(&["backup", other.scratch.0.join("of-altered.db").to_str().unwrap()], &altered_url, &keys);
    assert_eq!(out.status.code(), Some(1), "{}", said(&out));
    assert!(said(&out).contains("audit chain BROKEN"), "{}", said(&out));
    // Over an existing database: refused without --force; with it, the old one is kept aside.
    let out = marac(&["restore", mid.to_str().unwrap()], &db.url, &keys);
    assert!(!out.status.success() && said(&out).contains("--force"), "{}", said(&out));
    assert_eq!(json_lines(&String::from_utf8(marac(&["history", "--json"], &db.url, &keys).stdout).unwrap()).len(), REFERRALS, "unchanged");
    let out = marac(&["restore", mid.to_str().unwrap(), "--force"], &db.url, &keys);
    assert!(out.status.success(), "{}", said(&out));
    assert_eq!(json_lines(&String::from_utf8(marac(&["history", "--json"], &db.url, &keys).stdout).unwrap()).len(), n, "the backup is in place");
    let aside: Vec<_> = std::fs::read_dir(&db.scratch.0).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).filter(|f| f.starts_with("backup-drain.db.before-restore-") && !f.ends_with("-wal")).collect();
    assert_eq!(aside.len(), 1, "the replaced database kept aside: {aside:?}");
    let kept = format!("sqlite://{}", db.scratch.0.join(&aside[0]).display());
    assert_eq!(json_lines(&String::from_utf8(marac(&["history", "--json"], &kept, &keys).stdout).unwrap()).len(), REFERRALS, "the database kept aside is the one replaced");
    // No temporary file left behind.
    for dir in [&backups, &db.scratch.0] {
        let left: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).filter(|f| f.contains(".partial-") || f.contains(".restoring-")).collect();
        assert!(left.is_empty(), "temporary files left in {}: {left:?}", dir.display());
    }
    // The copy is encrypted: no correspondent's address in its bytes.
    // (As text, searched by the standard library's optimised search: a debug-built byte loop over
    // the whole file would take seconds per address.)
    let text = String::from_utf8_lossy(&std::fs::read(mid).unwrap()).into_owned();
    for person in &people {
        assert!(!text.contains(person.as_str()), "{person} in clear in the backup");
    }
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(mid).unwrap().permissions()) & 0o777;
    assert_eq!(mode, 0o600, "a backup is its owner's only");
    eprintln!("done in {:?}", started.elapsed());
}

/// On PostgreSQL, `backup` refuses and says what to run instead; `restore` likewise.
#[tokio::test]
async fn on_postgresql_backup_refuses_and_names_pg_dump() {
    let pg = Postgres::start("backup");
    let db = TestDb::new(pg.as_ref(), "backup_pg").await;
    let url = if db.is_postgres() { db.url.clone() } else { "postgres://marac@127.0.0.1:9/marac".to_owned() };
    let dest = db.scratch.0.join("marac.dump");
    let out = marac(&["backup", dest.to_str().unwrap()], &url, &db.key_env());
    assert_eq!(out.status.code(), Some(2), "{}", said(&out));
    let text = said(&out);
    assert!(text.contains("PostgreSQL") && text.contains("pg_dump -Fc"), "{text}");
    assert!(!dest.exists(), "nothing written");
    let out = marac(&["restore", dest.to_str().unwrap()], &url, &db.key_env());
    assert!(!out.status.success() && said(&out).contains("pg_restore"), "{}", said(&out));
}

/// The backup unit runs as the service's user with every hardening line of the service, reads
/// only the key credentials, and the units pass `systemd-analyze verify` where it is installed.
#[test]
fn the_backup_units_run_as_the_service_with_its_hardening_and_verify() {
    let read = |name: &str| std::fs::read_to_string(root().join("systemd").join(name)).unwrap();
    let service = read("marac-intake.service");
    let backup = read("marac-intake-backup.service");
    let timer = read("marac-intake-backup.timer");
    let hardening = &service[service.find("# Hardening.").expect("the service's hardening block")..service.find("[Install]").unwrap()];
    for line in hardening.lines().filter(|l| !l.is_empty() && !l.starts_with('#')).chain(["User=marac-intake", "Group=marac-intake", "UMask=0077"]) {
        assert!(backup.lines().any(|l| l == line), "the backup unit lacks the service's {line}");
    }
    for line in ["Type=oneshot", "LoadCredentialEncrypted=db-key:/etc/credstore.encrypted/marac-intake.db-key", "LoadCredentialEncrypted=data-key:/etc/credstore.encrypted/marac-intake.data-key"] {
        assert!(backup.lines().any(|l| l == line), "the backup unit lacks {line}");
    }
    assert!(!backup.lines().any(|l| l.starts_with("LoadCredential=") || (l.starts_with("LoadCredentialEncrypted=") && !l.contains("-key:"))), "the backup unit is given the keys only, no mail password");
    assert!(backup.lines().any(|l| l.starts_with("ExecStart=") && l.contains("marac-intake backup") && l.contains("/var/lib/marac-intake-backups/marac-intake-$(date")), "a dated DEST under the backups directory");
    assert!(backup.lines().any(|l| l.starts_with("StateDirectory=") && l.contains("marac-intake-backups")));
    assert!(backup.lines().any(|l| l.starts_with("ExecStartPost=") && l.contains("-delete")), "old copies are deleted");
    for line in ["OnCalendar=daily", "Persistent=true", "Unit=marac-intake-backup.service", "WantedBy=timers.target"] {
        assert!(timer.lines().any(|l| l == line), "the timer lacks {line}");
    }
    assert!(timer.lines().any(|l| l.starts_with("RandomizedDelaySec=")));
    match Command::new("systemd-analyze").arg("verify").arg(root().join("systemd/marac-intake-backup.timer")).arg(root().join("systemd/marac-intake-backup.service")).output() {
        Ok(out) => assert!(out.status.success() && out.stderr.is_empty(), "systemd-analyze verify: {}", said(&out)),
        Err(e) => eprintln!("systemd-analyze is not installed ({e}): the units' syntax is not verified here"),
    }
}
