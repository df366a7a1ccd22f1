//! Several MARACs in one deployment (issue 14, areas) through the real mailbox code and a real
//! Dovecot on 127.0.0.1: two accounts, `east` (area East's mailbox of its own) and `shared`
//! (the top level's mailbox, which North and South share, told apart by the address a referral
//! was sent to and the victim's postcode district). Fixtures of `fixtures/triage/` with their To
//! and Message-ID rewritten are APPENDed with their arrival dates; then, after
//! [`ingest_pass`] (and once through [`watch`]):
//! - every message is decided once, in its area (`MessageRecord.area`), and filed into that
//!   area's folders (North's and South's differ from the top level's);
//! - a message to the shared address with no sign of its area is a review item of no area (""),
//!   filed into the top level's review folder;
//! - each mailbox keeps its own checkpoint (under its whole name, not "INBOX"): a second pass
//!   decides nothing again, and a new message in one mailbox is decided whatever the other's
//!   UIDs are;
//! - a message in East's mailbox is East's, even when its recipient and its form's postcode point
//!   to North or South;
//! - a message decided in one mailbox and copied into the other (the same bytes) is only filed
//!   there, into folders that mailbox has.
//!
//! Each test runs on SQLite, then on a real PostgreSQL when it is installed.

use crate::support::mailservers::Dovecot;
use crate::support::postgres::Postgres;
use chrono::{DateTime, FixedOffset};
use marac_intake::clock::Clock;
use marac_intake::config::{self, Config};
use marac_intake::decide::Outcome;
use marac_intake::mailbox::{ingest_pass, watch, PassSummary};
use marac_intake::store::{MessageRecord, Store};
use std::path::Path;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const SHARED: &str = "shared";
const EAST: &str = "east";
const TO_NORTH: &str = "north-marac@marac.example.test";
const TO_SOUTH: &str = "south-marac@marac.example.test";
const TO_SHARED: &str = "marac@marac.example.test";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// North and South share the top level's mailbox; East has its own account on the same server.
/// The postcode districts are those of the East fixtures' victims (ZY7 in 015, ZY9 in 017), so
/// that the form of a referral in East's mailbox points to North or South.
const AREAS: &str = r#"
[areas.east]
name = "East Kingsmere"
[areas.east.imap]
username = "east"
[areas.east.case]
reference_format = "EK-{year}-{seq:04}"

[areas.north]
name = "North Kingsmere"
[areas.north.route]
recipients = ["north-marac@marac.example.test"]
postcode_districts = ["ZY7"]
[areas.north.case]
reference_format = "NK-{year}-{seq:04}"
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
postcode_districts = ["ZY9"]
[areas.south.threshold]
dash_score = 16
[areas.south.case]
reference_format = "SK-{year}-{seq:04}"
[areas.south.folders]
accepted = "South/Accepted"
rejected = "South/Rejected"
review = "South/Review"
quarantined = "South/Quarantine"
ignored = "South/Ignored"
"#;

/// The samples' configuration with the areas above, the top level's mailbox the `shared`
/// account on `server`.
fn config(server: &Dovecot) -> Config {
    let text = std::fs::read_to_string(root().join("config/samples.toml")).unwrap() + AREAS;
    let path = server.dir.join("areas.toml");
    std::fs::write(&path, text).unwrap();
    let env = [
        ("MARAC__IMAP__HOST", "127.0.0.1".to_owned()),
        ("MARAC__IMAP__PORT", server.imaps_port.to_string()),
        ("MARAC__IMAP__TLS", "implicit".to_owned()),
        ("MARAC__IMAP__USERNAME", SHARED.to_owned()),
        ("MARAC__IMAP__PASSWORD_FILE", server.password_file.display().to_string()),
        ("MARAC__IMAP__CA_FILE", server.ca_file.display().to_string()),
        ("MARAC__IMAP__BATCH", "2".to_owned()),
        ("MARAC__IMAP__COMMAND_TIMEOUT_SECS", "20".to_owned()),
        ("MARAC__IMAP__IDLE_SECS", "5".to_owned()),
    ];
    config::load(&path, env.into_iter().map(|(k, v)| (k.to_owned(), v))).expect("the areas' configuration")
}

/// The fixture `file` sent to `to`, with a Message-ID of its own (`n`), and the arrival date of
/// its topmost `Received:`.
fn sent_to(file: &str, to: &str, n: u32) -> (Vec<u8>, DateTime<FixedOffset>) {
    let text = String::from_utf8(std::fs::read(root().join("fixtures/triage").join(file)).unwrap()).unwrap();
    assert!(text.contains("\r\nTo: ") && text.contains("\r\nMessage-ID: "), "{file}: the headers to rewrite");
    let mut out = Vec::new();
    for line in text.split("\r\n") {
        if line.starts_with("To: ") {
            out.push(format!("To: MARAC <{to}>"));
        } else if line.starts_with("Message-ID: ") {
            out.push(format!("Message-ID: {}", message_id(n)));
        } else {
            out.push(line.to_owned());
        }
    }
    let raw = out.join("\r\n").into_bytes();
    let opts = marac_intake::inspect::InspectOptions::with_clock(std::time::Instant::now);
    let arrived = marac_intake::triage::arrival(&marac_intake::inspect::inspect(&raw, &opts)).expect("the fixture's arrival");
    (raw, arrived)
}

fn message_id(n: u32) -> String {
    format!("<areas-mailbox-{n}@mx.example.test>")
}

/// The decision of message `n`.
fn record(history: &[MessageRecord], n: u32) -> &MessageRecord {
    let id = message_id(n);
    let mut found = history.iter().filter(|r| r.message_id.as_deref().is_some_and(|m| id.contains(m)));
    let r = found.next().unwrap_or_else(|| panic!("message {n} was not decided"));
    assert!(found.next().is_none(), "message {n} was decided twice");
    r
}

/// The messages in `folder` of `user`'s mailbox, by Message-ID.
async fn ids_in(server: &Dovecot, user: &str, folder: &str) -> Vec<String> {
    let mut ids: Vec<String> = server.list_folder(user, folder).await.iter().map(|raw| marac_intake::mime::header_message_id(raw).unwrap_or_default()).collect();
    ids.sort();
    ids
}

fn ids(ns: &[u32]) -> Vec<String> {
    let mut v: Vec<String> = ns.iter().map(|n| message_id(*n).trim_matches(['<', '>']).to_owned()).collect();
    v.sort();
    v
}

async fn decisions(store: &Store) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM decisions").fetch_one(store.pool()).await.unwrap()
}

#[tokio::test]
async fn each_mailbox_is_read_once_into_its_areas_and_filed_into_their_folders() {
    let pg = Postgres::start("areas-mailbox");
    for pg in [None, pg.as_ref()] {
        let server = Dovecot::start(&[SHARED, EAST]);
        let cfg = config(&server);
        assert_eq!(cfg.areas.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(), ["east", "north", "south"]);
        let store = crate::support::store_at(pg, &server.dir, "intake").await;

        // The shared mailbox: North's (15 Yes: accepted), South's (16 Yes: accepted at South's 16;
        // 13 Yes: rejected), and one to the shared address whose area nothing tells.
        let shared = [
            (1, "001_police_seed_victim_l_accept15.eml", TO_NORTH),
            (2, "002_nhs_seed_victim_w_accept16.eml", TO_SOUTH),
            (3, "004_police_dash13_reject.eml", TO_SOUTH),
            (4, "005_nhs_dash14_accept.eml", TO_SHARED),
        ];
        // East's mailbox: addressed to North and South, their victims in North's and South's postcode
        // districts; East's all the same.
        let east = [(5, "015_police_victim_h_accept17.eml", TO_NORTH), (6, "017_police_victim_i_accept15.eml", TO_SOUTH)];
        for (user, messages) in [(SHARED, &shared[..]), (EAST, &east[..])] {
            for (n, file, to) in messages {
                let (raw, arrived) = sent_to(file, to, *n);
                server.append(user, "INBOX", &raw, arrived).await;
            }
        }

        let first = ingest_pass(&cfg, &store, &Clock::system()).await.expect("the first pass over both mailboxes");
        assert_eq!(first, PassSummary { decided: 6, refiled: 0 });
        let history = store.history().await.unwrap();
        assert_eq!(history.len(), 6, "every message decided once");
        let got = |n: u32| {
            let r = record(&history, n);
            (r.area.clone(), r.outcome)
        };
        assert_eq!(got(1), ("north".into(), Outcome::Accepted), "{:?}", record(&history, 1).reasons);
        assert_eq!(got(2), ("south".into(), Outcome::Accepted), "{:?}", record(&history, 2).reasons);
        assert_eq!(got(3), ("south".into(), Outcome::Rejected), "{:?}", record(&history, 3).reasons);
        assert_eq!(got(4), (String::new(), Outcome::Review), "{:?}", record(&history, 4).reasons);
        assert!(record(&history, 4).reasons.iter().any(|r| r.contains("could not be told")), "{:?}", record(&history, 4).reasons);
        assert_eq!(got(5), ("east".into(), Outcome::Accepted), "{:?}", record(&history, 5).reasons);
        assert_eq!(got(6), ("east".into(), Outcome::Accepted), "{:?}", record(&history, 6).reasons);
        assert!(record(&history, 1).case_ref.as_deref().is_some_and(|r| r.starts_with("NK-")));
        assert!(record(&history, 2).case_ref.as_deref().is_some_and(|r| r.starts_with("SK-")));
        for n in [5, 6] {
            assert!(record(&history, n).case_ref.as_deref().is_some_and(|r| r.starts_with("EK-")), "numbered as East numbers: {:?}", record(&history, n).case_ref);
        }

        // Filed into the area's folders; the one of no area into the top level's review folder.
        assert_eq!(ids_in(&server, SHARED, "North/Accepted").await, ids(&[1]));
        assert_eq!(ids_in(&server, SHARED, "South/Accepted").await, ids(&[2]));
        assert_eq!(ids_in(&server, SHARED, "South/Rejected").await, ids(&[3]));
        assert_eq!(ids_in(&server, SHARED, "MARAC/Review").await, ids(&[4]));
        for folder in ["MARAC/Accepted", "MARAC/Rejected", "North/Review", "South/Review"] {
            assert!(ids_in(&server, SHARED, folder).await.is_empty(), "{folder} holds nothing");
        }
        assert_eq!(ids_in(&server, EAST, "MARAC/Accepted").await, ids(&[5, 6]));
        for folder in ["North/Accepted", "South/Accepted"] {
            assert!(ids_in(&server, EAST, folder).await.is_empty(), "East's mailbox has no {folder}");
        }
        for user in [SHARED, EAST] {
            assert!(server.list_folder(user, "INBOX").await.is_empty(), "{user}'s inbox is empty");
        }

        // Two checkpoints, each under its whole mailbox's name.
        let key = |user: &str| format!("{user}@127.0.0.1:{}/INBOX", server.imaps_port);
        let (shared_at, east_at) = (store.mailbox_checkpoint(&key(SHARED)).await.unwrap(), store.mailbox_checkpoint(&key(EAST)).await.unwrap());
        assert_eq!((shared_at.map(|c| c.1), east_at.map(|c| c.1)), (Some(4), Some(2)), "each mailbox's last UID");
        assert_eq!(store.mailbox_checkpoint("INBOX").await.unwrap(), None, "no checkpoint shared by the two INBOXes");

        // A second pass decides nothing again.
        assert_eq!(ingest_pass(&cfg, &store, &Clock::system()).await.unwrap(), PassSummary::default());
        assert_eq!(decisions(&store).await, 6);

        // A new message in East's mailbox has UID 3, below the shared mailbox's checkpoint (4): it
        // is decided all the same. One more to the shared mailbox goes to South by its postcode.
        let (raw, arrived) = sent_to("021_nhs_victim_v_accept16.eml", TO_NORTH, 7);
        server.append(EAST, "INBOX", &raw, arrived).await;
        let (raw, arrived) = sent_to("017_police_victim_i_accept15.eml", TO_SHARED, 8);
        server.append(SHARED, "INBOX", &raw, arrived).await;
        assert_eq!(ingest_pass(&cfg, &store, &Clock::system()).await.unwrap(), PassSummary { decided: 2, refiled: 0 });
        let history = store.history().await.unwrap();
        assert_eq!(record(&history, 7).area, "east");
        assert_eq!((record(&history, 8).area.as_str(), record(&history, 8).outcome), ("south", Outcome::Review), "15 Yes is below South's 16: {:?}", record(&history, 8).reasons);
        assert_eq!(ids_in(&server, EAST, "MARAC/Accepted").await, ids(&[5, 6, 7]));
        assert_eq!(ids_in(&server, SHARED, "South/Review").await, ids(&[8]));
        assert_eq!(store.mailbox_checkpoint(&key(EAST)).await.unwrap().map(|c| c.1), Some(3));
        assert_eq!(store.mailbox_checkpoint(&key(SHARED)).await.unwrap().map(|c| c.1), Some(5));
    }
}

/// `watch` watches both mailboxes at once: mail delivered to each while it waits in IDLE is
/// decided in its area and filed, and it returns promptly when the shutdown token fires.
#[tokio::test]
async fn watch_reads_both_mailboxes_at_once_and_stops_on_shutdown() {
    let pg = Postgres::start("areas-watch");
    for pg in [None, pg.as_ref()] {
        let server = Dovecot::start(&[SHARED, EAST]);
        let cfg = config(&server);
        let store = crate::support::store_at(pg, &server.dir, "intake").await;
        let shutdown = CancellationToken::new();
        let wake = tokio::sync::Notify::new();
        let clock = Clock::system();
        let service = watch(&cfg, &store, &clock, &wake, shutdown.clone());
        let driver = async {
            // Give both sessions time to reach IDLE on empty inboxes, then deliver to each.
            tokio::time::sleep(Duration::from_millis(500)).await;
            let (raw, arrived) = sent_to("015_police_victim_h_accept17.eml", TO_NORTH, 11);
            server.append(EAST, "INBOX", &raw, arrived).await;
            let (raw, arrived) = sent_to("001_police_seed_victim_l_accept15.eml", TO_NORTH, 12);
            server.append(SHARED, "INBOX", &raw, arrived).await;
            for _ in 0..300 {
                if decisions(&store).await == 2 && server.list_folder(EAST, "INBOX").await.is_empty() && server.list_folder(SHARED, "INBOX").await.is_empty() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            shutdown.cancel();
        };
        let (stopped, ()) = tokio::time::timeout(Duration::from_secs(60), async { tokio::join!(service, driver) }).await.expect("watch and the driver finish in time");
        stopped.expect("watch stops cleanly on shutdown");
        let history = store.history().await.unwrap();
        assert_eq!(history.len(), 2, "both messages decided once");
        assert_eq!((record(&history, 11).area.as_str(), record(&history, 11).outcome), ("east", Outcome::Accepted));
        assert_eq!((record(&history, 12).area.as_str(), record(&history, 12).outcome), ("north", Outcome::Accepted));
        assert_eq!(ids_in(&server, EAST, "MARAC/Accepted").await, ids(&[11]));
        assert_eq!(ids_in(&server, SHARED, "North/Accepted").await, ids(&[12]));
    }
}

/// The same message (the same bytes) in both mailboxes, as when a coordinator copies a referral
/// decided in the shared mailbox into East's: the copy is not decided again, and it is filed in
/// East's mailbox, whose folders it has, not into North's folders, which East's mailbox has not
/// (a MOVE there failed and stopped East's mailbox at every pass).
#[tokio::test]
async fn a_message_decided_in_one_mailbox_and_copied_into_another_is_filed_in_folders_the_other_has() {
    let pg = Postgres::start("areas-copied");
    for pg in [None, pg.as_ref()] {
        let server = Dovecot::start(&[SHARED, EAST]);
        let cfg = config(&server);
        let store = crate::support::store_at(pg, &server.dir, "intake").await;
        let (raw, arrived) = sent_to("001_police_seed_victim_l_accept15.eml", TO_NORTH, 21);
        server.append(SHARED, "INBOX", &raw, arrived).await;
        assert_eq!(ingest_pass(&cfg, &store, &Clock::system()).await.unwrap(), PassSummary { decided: 1, refiled: 0 });
        assert_eq!(ids_in(&server, SHARED, "North/Accepted").await, ids(&[21]));

        server.append(EAST, "INBOX", &raw, arrived).await;
        let summary = ingest_pass(&cfg, &store, &Clock::system()).await.expect("East's mailbox goes on");
        assert_eq!(summary, PassSummary { decided: 0, refiled: 1 });
        assert_eq!(decisions(&store).await, 1, "one decision");
        assert!(server.list_folder(EAST, "INBOX").await.is_empty());
        assert_eq!(ids_in(&server, EAST, "MARAC/Accepted").await, ids(&[21]), "filed by its first outcome, in the folders of East's mailbox");
    }
}
