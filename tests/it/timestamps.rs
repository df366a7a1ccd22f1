//! One stored form of instants (UTC, fixed width, `clock::stamp`): messages that arrive with
//! their dates written in different offsets are stored in UTC, and the lists ordered by arrival
//! (the queue's review and quarantine sections; cases by opening) come out in true instant
//! order, not in the order of the text the senders wrote. (The pending list and a meeting's
//! agenda order by meeting and risk first; arrival only breaks their ties, by the same column.)
//!
//! Each message is a fixture of `fixtures/triage/` whose topmost `Received:` date (the arrival)
//! and `Date:` are rewritten to one instant in one offset. Processed in the order A, B, C:
//! - A `10:02:03 +0100` = 09:02:03 UTC (first),
//! - B `04:30:00 -0500` = 09:30:00 UTC (last),
//! - C `09:15:00 +0000` = 09:15:00 UTC (between).
//!
//! So processing order is A B C, the old offset text sorted B C A, and time order is A C B.

use crate::support::Scratch;
use chrono::{DateTime, FixedOffset};
use marac_intake::store::{MessageRecord, Store};
use std::path::Path;

const A: &str = "Mon, 06 Jan 2025 10:02:03 +0100";
const B: &str = "Mon, 06 Jan 2025 04:30:00 -0500";
const C: &str = "Mon, 06 Jan 2025 09:15:00 +0000";

/// `raw` with its topmost `Received:` date and its `Date:` both set to `date` (RFC 5322).
fn arriving_at(raw: &[u8], date: &str) -> Vec<u8> {
    let text = String::from_utf8_lossy(raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("a header and a body");
    let mut lines: Vec<String> = head.split("\r\n").map(str::to_owned).collect();
    // The first Received field ends at the first line not folded into it; its date follows `;`.
    let end = 1 + lines[1..].iter().position(|l| !l.starts_with([' ', '\t'])).expect("more fields");
    assert!(lines[0].starts_with("Received:"), "the fixture starts with our server's Received");
    let last = &mut lines[end - 1];
    let semi = last.rfind(';').expect("the Received date after ';'");
    last.replace_range(semi + 1.., &format!(" {date}"));
    let date_line = lines.iter_mut().find(|l| l.to_ascii_lowercase().starts_with("date:")).expect("a Date field");
    *date_line = format!("Date: {date}");
    format!("{}\r\n\r\n{body}", lines.join("\r\n")).into_bytes()
}

async fn triage_at(store: &Store, cfg: &marac_intake::config::Config, file: &str, date: &str) -> MessageRecord {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let raw = arriving_at(&std::fs::read(root.join("fixtures/triage").join(file)).unwrap(), date);
    let now: DateTime<FixedOffset> = "2025-01-06T12:00:00+00:00".parse().unwrap();
    marac_intake::triage::triage_message(&raw, Some(file), None, now, cfg, store).await.unwrap()
}

#[tokio::test(flavor = "current_thread")]
async fn messages_arriving_in_different_offsets_are_stored_in_utc_and_listed_in_time_order() {
    in_time_order(None).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_arriving_in_different_offsets_are_stored_in_utc_and_listed_in_time_order_on_postgresql() {
    let Some(pg) = crate::support::postgres::Postgres::start("timestamps") else { return };
    in_time_order(Some(&pg)).await
}

async fn in_time_order(pg: Option<&crate::support::postgres::Postgres>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cfg = marac_intake::config::load(&root.join("config/samples.toml"), Vec::<(String, String)>::new()).unwrap();
    let scratch = Scratch::new("timestamps");
    let store = crate::support::store_on(pg, &scratch, "timestamps").await;

    // Three review items, three quarantined messages and three accepted referrals (three
    // victims, new cases for the same meeting), each trio in the order A, B, C.
    let trios = [
        ["041_police_encrypted_dash_review.eml", "042_police_stated_score_disagrees_review.eml", "043_idva_conflicting_marks_review.eml"],
        ["035_lookalike_suffix_domain_quarantined.eml", "036_lookalike_prefix_domain_quarantined.eml", "037_police_dmarc_fail_quarantined.eml"],
        ["001_police_seed_victim_l_accept15.eml", "048_idva_victim_t_accept15.eml", "050_police_victim_u_accept16.eml"],
    ];
    let mut refs: Vec<[String; 3]> = Vec::new();
    for (trio, outcome) in trios.iter().zip(["review", "quarantined", "accepted"]) {
        let mut r: Vec<String> = Vec::new();
        for (file, date) in trio.iter().zip([A, B, C]) {
            let record = triage_at(&store, &cfg, file, date).await;
            assert_eq!(record.outcome.as_str(), outcome, "{file}");
            r.push(record.reference);
        }
        refs.push(r.try_into().unwrap());
    }
    let in_time_order = |[a, b, c]: &[String; 3]| vec![a.clone(), c.clone(), b.clone()];

    // Stored in UTC, fixed width, whatever offset the sender wrote.
    let history = store.history().await.unwrap();
    let arrived: Vec<&str> = history.iter().take(3).map(|r| r.arrived.as_str()).collect();
    assert_eq!(arrived, ["2025-01-06T09:02:03.000Z", "2025-01-06T09:30:00.000Z", "2025-01-06T09:15:00.000Z"]);
    assert!(history.iter().all(|r| r.arrived.len() == 24 && r.arrived.ends_with('Z')), "{:?}", history.iter().map(|r| &r.arrived).collect::<Vec<_>>());

    // The queue: review items, then quarantined messages, each by arrival.
    let queue = store.queue().await.unwrap();
    let listed = |outcome: &str| queue.iter().filter(|r| r.outcome.as_str() == outcome).map(|r| r.reference.clone()).collect::<Vec<_>>();
    assert_eq!(listed("review"), in_time_order(&refs[0]), "review items in time order");
    assert_eq!(listed("quarantined"), in_time_order(&refs[1]), "quarantined messages in time order");

    // A new case is opened at its message's arrival, in the same form, so the cases too sort
    // by time (a person's latest pending case is found by `opened_at`).
    let by_opening: Vec<(String, String)> = sqlx::query_as("SELECT ref, opened_at FROM cases ORDER BY opened_at, id").fetch_all(store.pool()).await.unwrap();
    let cases: Vec<String> = refs[2].iter().map(|r| history.iter().find(|h| &h.reference == r).and_then(|h| h.case_ref.clone()).expect("a new case")).collect();
    let want = [(cases[0].clone(), "2025-01-06T09:02:03.000Z"), (cases[2].clone(), "2025-01-06T09:15:00.000Z"), (cases[1].clone(), "2025-01-06T09:30:00.000Z")];
    assert_eq!(by_opening, want.map(|(c, t)| (c, t.to_owned())));
}

/// The wall clock is read in one place, `src/clock.rs`; everything else is handed `now` or the
/// clock made at the edge. (Monotonic `Instant`s, for time limits, are not instants of record.)
#[test]
fn the_wall_clock_is_read_only_in_the_clock_module() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = crate::support::sources::files(&root.join("src"), &["rs"]);
    files.extend(crate::support::sources::files(&root.join("crates/core/src"), &["rs"]));
    assert!(files.len() > 60, "the sources were found: {}", files.len());
    let mut readers = Vec::new();
    for f in &files {
        let name = f.strip_prefix(root).unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(f).unwrap();
        for call in ["Utc::now", "Local::now", "SystemTime::now"] {
            if text.contains(call) {
                readers.push(format!("{name}: {call}"));
            }
        }
    }
    assert_eq!(readers, ["src/clock.rs: Utc::now"]);
}
