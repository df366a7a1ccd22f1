//! Three `marac-intake run` processes on one PostgreSQL, with a real Dovecot and Postfix on
//! 127.0.0.1 and three areas: North and South share the service's mailbox (told apart by the
//! address each referral was sent to), East has a mailbox of its own. A thousand referrals
//! (`MARAC_FAULT_REFERRALS` sets another number) are delivered in four parts while the holder of
//! the shared mailbox is SIGKILLed twice (and started again, so three run) and PostgreSQL is
//! stopped at once and started again. Afterwards:
//! - every message is decided once, in its own area, and filed once, into that area's folder of
//!   its outcome in the mailbox it arrived in;
//! - every reply due was delivered, twice only where the outbox recorded an interrupted send;
//! - the takeover after each kill (from the kill to another instance taking the shared mailbox's
//!   lease, then to the next decision there when referrals still wait in it) is printed, and is
//!   under 30 s. Each kill comes when half of the part's referrals to the shared mailbox are
//!   decided, so there is work left to take over.

use super::{correspondents, eventually, header, labelled, root, service_env, Daemon, SERVICE};
use crate::support::mailservers::{with_message_id, Dovecot, Postfix};
use crate::support::postgres::Postgres;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

const EAST: &str = "east@marac.example.test";

const AREAS: &str = r#"
[areas.north]
name = "North Kingsmere"
[areas.north.route]
recipients = ["north-marac@marac.example.test"]
[areas.north.case]
reference_format = "NK-{year}-{seq:05}"
[areas.north.folders]
accepted = "North/Accepted"
rejected = "North/Rejected"
review = "North/Review"
quarantined = "North/Quarantine"
ignored = "North/Ignored"

[areas.south]
name = "South Kingsmere"
[areas.south.route]
recipients = ["south-marac@marac.example.test"]
[areas.south.case]
reference_format = "SK-{year}-{seq:05}"
[areas.south.folders]
accepted = "South/Accepted"
rejected = "South/Rejected"
review = "South/Review"
quarantined = "South/Quarantine"
ignored = "South/Ignored"

[areas.east]
name = "Eastwick"
[areas.east.imap]
username = "east@marac.example.test"
[areas.east.case]
reference_format = "EK-{year}-{seq:05}"
"#;

/// `raw` addressed to `to` (its To replaced).
fn with_to(raw: &[u8], to: &str) -> Vec<u8> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n").expect("a header block");
    let mut lines: Vec<String> = Vec::new();
    let mut skipping = false;
    for l in head.split("\r\n") {
        if skipping && l.starts_with([' ', '\t']) {
            continue;
        }
        skipping = l.to_ascii_lowercase().starts_with("to:");
        lines.push(if skipping { format!("To: MARAC <{to}>") } else { l.to_owned() });
    }
    format!("{}\r\n\r\n{body}", lines.join("\r\n")).into_bytes()
}

/// The alive daemon whose log says last that it took the lease of the mailbox of `account`.
fn holder(daemons: &[Daemon], account: &str) -> Option<usize> {
    daemons
        .iter()
        .enumerate()
        .filter_map(|(i, d)| {
            let log = d.log();
            let at = log.rfind(&format!("this instance watches the mailbox mailbox=mailbox {account}@"))?;
            let stopped = log.rfind(&format!("stopped watching it mailbox=mailbox {account}@")).is_some_and(|s| s > at);
            (!stopped).then_some((i, at))
        })
        .max_by_key(|(_, at)| *at)
        .map(|(i, _)| i)
}

async fn rows(store: &marac_intake::store::Store, sql: &str) -> Vec<Vec<String>> {
    use sqlx::Row;
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned())).fetch_all(store.pool()).await.unwrap();
    rows.iter()
        .map(|r| (0..r.len()).map(|i| r.try_get::<Option<String>, _>(i).ok().flatten().or_else(|| r.try_get::<Option<i64>, _>(i).ok().flatten().map(|n| n.to_string())).unwrap_or_default()).collect())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_on_postgresql_through_kills_and_a_database_restart_decide_each_referral_once_in_its_area() {
    let Some(pg) = Postgres::start("fault") else { return };
    let referrals: usize = std::env::var("MARAC_FAULT_REFERRALS").ok().and_then(|s| s.parse().ok()).unwrap_or(1000);
    let labels: Value = serde_json::from_slice(&std::fs::read(root().join("fixtures/triage/labels.json")).unwrap()).unwrap();
    let answered: Vec<String> = labels.as_array().unwrap().iter().filter(|l| l["expect"]["reply"] != "none").map(|l| l["file"].as_str().unwrap().to_owned()).collect();
    let emails: Vec<_> = labelled(&root().join("fixtures/triage")).into_iter().filter(|(f, _, _)| answered.contains(f)).collect();
    let people = correspondents(&emails);
    let mut users: Vec<&str> = people.iter().map(String::as_str).collect();
    users.extend([SERVICE, EAST]);
    let dovecot = Dovecot::start(&users);
    let postfix = Postfix::start(&dovecot);

    let url = pg.database("fault").await;
    let (db_key, data_key) = (dovecot.dir.join("db-key"), dovecot.dir.join("data-key"));
    std::fs::write(&db_key, marac_intake::crypto::Key::generate().to_hex()).unwrap();
    std::fs::write(&data_key, marac_intake::crypto::Key::generate().to_hex()).unwrap();
    let config = dovecot.dir.join("fault.toml");
    std::fs::write(&config, std::fs::read_to_string(root().join("config/samples.toml")).unwrap() + AREAS).unwrap();
    let mut env = service_env(&dovecot, &postfix);
    env.extend([
        ("MARAC__STORAGE__DB_KEY_FILE".to_owned(), db_key.display().to_string()),
        ("MARAC__STORAGE__DATA_KEY_FILE".to_owned(), data_key.display().to_string()),
        ("MARAC__IMAP__IDLE_SECS".to_owned(), "5".to_owned()),
    ]);
    let keys = marac_intake::crypto::Keys::read(&db_key, &data_key).unwrap();
    let store = marac_intake::store::Store::open_with(&url, &keys, &marac_intake::clock::Clock::system()).await.unwrap();

    // The referrals, each with a Message-ID of its own; a third to each area.
    let mut expected: BTreeMap<String, &str> = BTreeMap::new();
    let mut parts: Vec<Vec<(&str, Vec<u8>, chrono::DateTime<chrono::FixedOffset>)>> = vec![Vec::new(); 4];
    for i in 0..referrals {
        let (_, raw, arrived) = &emails[i % emails.len()];
        let id = format!("fault-{i}@fault.example.test");
        let (area, mailbox, to) = match i % 3 {
            0 => ("north", SERVICE, "north-marac@marac.example.test"),
            1 => ("south", SERVICE, "south-marac@marac.example.test"),
            _ => ("east", EAST, "marac@marac.example.test"),
        };
        parts[i * 4 / referrals].push((mailbox, with_message_id(&with_to(raw, to), &id), *arrived));
        expected.insert(id, area);
    }

    let log = |n: usize| dovecot.dir.join(format!("run-{n}.log"));
    let mut started = 0;
    let mut start = |env: &[(String, String)]| {
        started += 1;
        Daemon::start_on(&config, &url, env, &log(started), None)
    };
    let mut daemons: Vec<Daemon> = (0..3).map(|_| start(&env)).collect();
    let decided = async || rows(&store, "SELECT COUNT(*) FROM messages").await[0][0].parse::<usize>().unwrap();
    let deliver = async |part: &[(&str, Vec<u8>, chrono::DateTime<chrono::FixedOffset>)]| {
        for (mailbox, raw, arrived) in part {
            dovecot.append(mailbox, "INBOX", raw, *arrived).await;
        }
    };
    let shared = async || rows(&store, "SELECT COUNT(*) FROM messages WHERE area IN ('north', 'south')").await[0][0].parse::<usize>().unwrap();
    let mut takeovers = Vec::new();
    let (mut so_far, mut shared_so_far) = (0, 0);
    for (n, part) in parts.iter().enumerate() {
        deliver(part).await;
        so_far += part.len();
        let shared_part = part.iter().filter(|(mailbox, _, _)| *mailbox == SERVICE).count();
        shared_so_far += shared_part;
        // Work under way before each fault: some of this part decided, and some of the shared
        // mailbox's share of it (so a kill finds work there still to take over).
        let (target, shared_target) = (so_far - part.len() / 2, shared_so_far - shared_part / 2);
        let logs = || daemons.iter().map(Daemon::log).collect::<Vec<_>>().join("\n---\n");
        assert!(eventually(Duration::from_secs(240), async || decided().await >= target && shared().await >= shared_target).await, "part {n} under way; logs:\n{}", logs());
        match n {
            0 | 2 => {
                let h = holder(&daemons, SERVICE).expect("one instance holds the shared mailbox");
                let before = decided().await;
                let took_lease = format!("this instance watches the mailbox mailbox=mailbox {SERVICE}@");
                let leases = |daemons: &[Daemon]| daemons.iter().map(|d| d.log().matches(&took_lease).count()).sum::<usize>();
                let killed = Instant::now();
                daemons[h].signal("-KILL");
                daemons[h].wait_exit(Duration::from_secs(10)).expect("killed");
                daemons.remove(h);
                let (shared_before, leases_before) = (shared().await, leases(&daemons));
                // The takeover: another instance takes the lease, then (when the shared mailbox
                // still holds undecided referrals) decides the next one there.
                let leased = eventually(Duration::from_secs(60), async || leases(&daemons) > leases_before).await;
                assert!(leased, "another instance takes the shared mailbox's lease after the kill; logs:\n{}", daemons.iter().map(Daemon::log).collect::<Vec<_>>().join("\n---\n"));
                let lease_taken = killed.elapsed();
                let waiting = shared_before < shared_so_far;
                if waiting {
                    let next = eventually(Duration::from_secs(60), async || shared().await > shared_before).await;
                    assert!(next, "the next referral in the shared mailbox is decided after the takeover");
                }
                takeovers.push(killed.elapsed());
                eprintln!(
                    "kill {}: the holder of the shared mailbox SIGKILLed at {before} decided; its lease taken {} ms later, {}",
                    takeovers.len(),
                    lease_taken.as_millis(),
                    if waiting { format!("the next decision there {} ms later", killed.elapsed().as_millis()) } else { "nothing left there to decide".to_owned() }
                );
                daemons.push(start(&env));
            }
            1 => {
                pg.stop_now();
                tokio::time::sleep(Duration::from_secs(3)).await;
                pg.start_again();
                eprintln!("PostgreSQL stopped at once and started again");
            }
            _ => {}
        }
    }
    let drained = eventually(Duration::from_secs(600), async || dovecot.list_folder(SERVICE, "INBOX").await.is_empty() && dovecot.list_folder(EAST, "INBOX").await.is_empty()).await;
    assert!(drained, "both inboxes drained; logs:\n{}", daemons.iter().map(Daemon::log).collect::<Vec<_>>().join("\n---\n"));
    let settled = eventually(Duration::from_secs(240), async || rows(&store, "SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'sending')").await[0][0] == "0").await;
    assert!(
        settled,
        "every reply left the outbox: {:?}; logs:\n{}",
        rows(&store, "SELECT status, COUNT(*), MIN(next_attempt_at), MIN(claimed_until), MAX(last_error) FROM outbox GROUP BY status").await,
        daemons.iter().map(|d| d.log().lines().filter(|l| l.contains("utbox") || l.contains("ERROR") || l.contains("WARN")).map(str::to_owned).collect::<Vec<_>>().join("\n")).collect::<Vec<_>>().join("\n---\n")
    );
    for d in &daemons {
        d.signal("-TERM");
    }
    for d in &mut daemons {
        assert!(d.wait_exit(Duration::from_secs(60)).is_some_and(|s| s.success()), "clean stop; log:\n{}", d.log());
    }

    // Each message decided once, in its own area.
    let decided_rows = rows(&store, "SELECT message_id, outcome, area FROM messages ORDER BY id").await;
    assert_eq!(decided_rows.len(), referrals, "one decision per message, none twice");
    let mut outcome: BTreeMap<String, (String, String)> = BTreeMap::new();
    for r in &decided_rows {
        let id = r[0].trim_matches(['<', '>']).to_owned();
        assert_eq!(r[2], expected[&id], "{id} decided in its own area");
        assert!(outcome.insert(id.clone(), (r[1].clone(), r[2].clone())).is_none(), "{id} decided twice");
    }
    // Filed once, in its area's folder of its outcome, in the mailbox it arrived in.
    let folder = |area: &str, outcome: &str| {
        let o = match outcome {
            "accepted" => "Accepted",
            "rejected" => "Rejected",
            "review" => "Review",
            "quarantined" => "Quarantine",
            _ => "Ignored",
        };
        match area {
            "north" => format!("North/{o}"),
            "south" => format!("South/{o}"),
            _ => format!("MARAC/{o}"),
        }
    };
    let mut filed = BTreeSet::new();
    for (account, areas) in [(SERVICE, ["north", "south"].as_slice()), (EAST, ["east"].as_slice())] {
        for area in areas {
            for o in ["accepted", "rejected", "review", "quarantined", "ignored"] {
                for raw in dovecot.list_folder(account, &folder(area, o)).await {
                    let id = header(&raw, "Message-ID").unwrap().trim_matches(['<', '>']).to_owned();
                    assert_eq!((outcome[&id].1.as_str(), outcome[&id].0.as_str()), (*area, o), "{id} filed in {account}'s {}", folder(area, o));
                    assert!(filed.insert(id.clone()), "{id} filed twice");
                }
            }
        }
    }
    assert_eq!(filed.len(), referrals, "every message filed, none lost");

    // Every reply due was delivered; twice only where a kill cut its send short.
    let outbox = rows(&store, "SELECT o.id, o.status, o.reply_message_id, (SELECT COUNT(*) FROM outbox_attempts a WHERE a.outbox_id = o.id AND a.outcome = 'interrupted') FROM outbox o ORDER BY o.id").await;
    let due: usize = rows(&store, "SELECT COUNT(*) FROM messages WHERE reply_kind <> 'none'").await[0][0].parse().unwrap();
    assert_eq!(outbox.len(), due, "one outbox row per reply-bearing decision");
    let mut delivered: BTreeMap<String, usize> = BTreeMap::new();
    for person in &people {
        for reply in dovecot.list_folder(person, "INBOX").await {
            *delivered.entry(marac_intake::mime::normalise_message_id(&header(&reply, "Message-ID").unwrap()).unwrap()).or_default() += 1;
        }
    }
    let mut doubled = 0;
    for r in &outbox {
        assert_eq!(r[1], "sent", "outbox row {} ended {}", r[0], r[1]);
        let n = delivered.remove(&r[2]).unwrap_or(0);
        let interrupted: usize = r[3].parse().unwrap();
        assert!(n >= 1, "outbox row {}: its reply was delivered", r[0]);
        assert!(n == 1 || (interrupted > 0 && n <= 1 + interrupted), "outbox row {}: delivered {n} times with {interrupted} interrupted sends", r[0]);
        doubled += n - 1;
    }
    assert!(delivered.is_empty(), "no mail the outbox did not send: {delivered:?}");
    for t in &takeovers {
        assert!(*t < Duration::from_secs(30), "taken over in {t:?}");
    }
    eprintln!("{referrals} referrals, {} replies ({doubled} delivered twice after a kill during their send); takeovers {:?}", outbox.len(), takeovers);
}
