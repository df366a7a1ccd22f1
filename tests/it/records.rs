//! Typed records end to end, against a real SQLite database (and PostgreSQL where the test runs on
//! both): the criteria a message was decided
//! on live in `message_criteria` (migration 17), backfilled from the JSON list of a database
//! written before it, and the queue orders and filters by them with EXISTS, not by matching text.

use crate::support::postgres::Postgres;
use crate::support::Scratch;
use chrono::DateTime;
use marac_intake::config::Criterion;
use marac_intake::decide::Outcome;
use marac_intake::store::cases::QueueFilter;
use marac_intake::store::Store;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// A pending case for the meeting of 2026-02-10 opened by an accepted message decided on
/// `criteria` (a JSON list, as stored) with a DASH score of `dash_yes`, arrived on `arrived`.
async fn accepted(store: &Store, reference: &str, criteria: &str, dash_yes: i64, arrived: &str) {
    let case: i64 = sqlx::query_scalar(
        "INSERT INTO cases (ref, person_id, status, meeting_date, opened_at, source) VALUES ($1, 1, 'pending', '2026-02-10', $2, 'email') RETURNING id",
    )
    .bind(format!("C-{reference}"))
    .bind(arrived)
    .fetch_one(store.pool())
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO messages (ref, sha256, arrived_at, outcome, criteria, reasons, dash_yes, dash_no, dash_unknown, case_kind, case_id, person_id, \
         reply_kind, reply_to, inspection, processed_at) VALUES ($1, $2, $3, 'accepted', $4, '[]', $5, 0, 0, 'new', $6, 1, 'acknowledgement', '[]', '{}', $7)",
    )
    .bind(reference)
    .bind(format!("sha-{reference}"))
    .bind(arrived)
    .bind(criteria)
    .bind(dash_yes)
    .bind(case)
    .bind(arrived)
    .execute(store.pool())
    .await
    .unwrap();
}

/// The references of the queue's pending part narrowed to `criterion` (all when `None`), in order.
async fn pending(store: &Store, criterion: Option<&str>) -> Vec<String> {
    let filter = QueueFilter { status: Some("pending".into()), criterion: criterion.map(str::to_owned), ..QueueFilter::default() };
    store.queue_page(&filter, None).await.unwrap().0.into_iter().map(|(r, _)| r.reference).collect()
}

#[tokio::test(flavor = "current_thread")]
async fn migrations_17_and_21_backfill_the_criteria_of_an_existing_database_and_the_queue_orders_by_them() {
    let scratch = Scratch::new("records-m17");
    let url = format!("sqlite://{}/t.db", scratch.path().display());
    {
        // A database as a version before migration 17 left it: the criteria only in the JSON
        // list of each message, no `message_criteria` table, and no flags of the criteria
        // beside the signals (migration 21).
        let store = Store::open(&url).await.unwrap();
        sqlx::query("DROP TABLE message_criteria").execute(store.pool()).await.unwrap();
        // The signals' table as migration 6 made it (no flags): made again, as the test's
        // messages are written after this.
        sqlx::query("DROP TABLE message_signals").execute(store.pool()).await.unwrap();
        sqlx::query(
            "CREATE TABLE message_signals (message_row INTEGER PRIMARY KEY REFERENCES messages (id), high_risk TEXT NOT NULL, \
             high_risk_count INTEGER NOT NULL, children INTEGER NOT NULL, agency TEXT)",
        )
        .execute(store.pool())
        .await
        .unwrap();
        sqlx::query("DROP INDEX messages_by_area_outcome").execute(store.pool()).await.unwrap();
        sqlx::query("DELETE FROM schema_migrations WHERE version IN (17, 21)").execute(store.pool()).await.unwrap();
        sqlx::query("INSERT INTO people (ref, name, name_key, dob, created_at) VALUES ('P1', 'A B', 'a b', NULL, 'then')").execute(store.pool()).await.unwrap();
        // Same meeting. Repeat first whatever its score; then the DASH score; among equal
        // scores, potential escalation first, though it arrived after the others.
        accepted(&store, "IN-0", r#"["visible_high_risk"]"#, 14, "2026-01-01T09:00:00+00:00").await;
        accepted(&store, "IN-1", r#"["visible_high_risk","potential_escalation"]"#, 14, "2026-01-03T09:00:00+00:00").await;
        accepted(&store, "IN-2", r#"["repeat"]"#, 5, "2026-01-04T09:00:00+00:00").await;
        accepted(&store, "IN-3", r#"["professional_judgement"]"#, 14, "2026-01-02T09:00:00+00:00").await;
        accepted(&store, "IN-4", r#"["visible_high_risk"]"#, 20, "2026-01-05T09:00:00+00:00").await;
        // Their signals as migration 6 wrote them (nothing marked).
        sqlx::query("INSERT INTO message_signals (message_row, high_risk, high_risk_count, children, agency) SELECT id, '[]', 0, 0, NULL FROM messages")
            .execute(store.pool())
            .await
            .unwrap();
        store.close().await;
    }
    let store = Store::open(&url).await.unwrap();
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT m.ref, mc.criterion FROM message_criteria mc JOIN messages m ON m.id = mc.message_row ORDER BY m.ref, mc.criterion")
            .fetch_all(store.pool())
            .await
            .unwrap();
    let rows: Vec<(&str, &str)> = rows.iter().map(|(m, c)| (m.as_str(), c.as_str())).collect();
    assert_eq!(
        rows,
        vec![
            ("IN-0", "visible_high_risk"),
            ("IN-1", "potential_escalation"),
            ("IN-1", "visible_high_risk"),
            ("IN-2", "repeat"),
            ("IN-3", "professional_judgement"),
            ("IN-4", "visible_high_risk"),
        ],
        "one row per criterion of each earlier message"
    );

    assert_eq!(pending(&store, None).await, ["IN-2", "IN-4", "IN-1", "IN-0", "IN-3"], "repeat, then DASH score, then escalation, then arrival");
    assert_eq!(pending(&store, Some("repeat")).await, ["IN-2"]);
    assert_eq!(pending(&store, Some("potential_escalation")).await, ["IN-1"]);
    assert_eq!(pending(&store, Some("visible_high_risk")).await, ["IN-4", "IN-1", "IN-0"]);
    assert!(pending(&store, Some("%repeat%")).await.is_empty(), "no pattern matching on a criterion");
    assert!(pending(&store, Some("not_a_criterion")).await.is_empty());

    let queue = store.queue_with_signals().await.unwrap();
    let flags: BTreeMap<&str, (bool, bool, Vec<Criterion>)> =
        queue.iter().map(|(r, s)| (r.reference.as_str(), (s.repeat, s.escalation, r.criteria.clone()))).collect();
    assert_eq!(flags["IN-2"], (true, false, vec![Criterion::Repeat]));
    assert_eq!(flags["IN-1"], (false, true, vec![Criterion::VisibleHighRisk, Criterion::PotentialEscalation]), "the decision's order is kept");
    assert!(queue.iter().all(|(r, _)| r.outcome == Outcome::Accepted));
}

#[tokio::test(flavor = "current_thread")]
async fn triage_writes_each_criterion_of_a_message_beside_it() {
    let pg = Postgres::start("records");
    for pg in [None, pg.as_ref()] {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let dir = root.join("fixtures/triage");
        let cfg = marac_intake::config::load(&root.join("config/samples.toml"), Vec::<(String, String)>::new()).unwrap();
        let labels: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(dir.join("labels.json")).unwrap()).unwrap();
        let scratch = Scratch::new("records-triage");
        let store = crate::support::store_on(pg, &scratch, "records").await;
        for lab in &labels {
            let file = lab["file"].as_str().unwrap();
            let arrived = DateTime::parse_from_rfc3339(lab["arrived"].as_str().unwrap()).unwrap();
            let raw = std::fs::read(dir.join(file)).unwrap();
            marac_intake::triage::triage_message(&raw, Some(file), None, arrived, &cfg, &store).await.unwrap();
        }
        let mut kept: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let rows: Vec<(String, String)> = sqlx::query_as("SELECT m.ref, mc.criterion FROM message_criteria mc JOIN messages m ON m.id = mc.message_row")
            .fetch_all(store.pool())
            .await
            .unwrap();
        for (m, c) in rows {
            kept.entry(m).or_default().insert(c);
        }
        let history = store.history().await.unwrap();
        let mut with_criteria = 0;
        for r in &history {
            let want: BTreeSet<String> = r.criteria.iter().map(|c| c.as_str().to_owned()).collect();
            with_criteria += usize::from(!want.is_empty());
            assert_eq!(kept.get(&r.reference).cloned().unwrap_or_default(), want, "{}", r.reference);
        }
        assert!(with_criteria >= 5, "the scenarios accept referrals on their criteria: {with_criteria}");
        assert!(kept.values().flatten().any(|c| c == "repeat"), "a repeat referral among the scenarios");
    }
}

/// The queue's pending part cut at a limit says how long the whole list is (the page's "showing
/// N of M"), counted in the same query, filters and all, on both backends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_pending_list_knows_its_whole_length() {
    let pg = crate::support::postgres::Postgres::start("pending-total");
    for pg in [None, pg.as_ref()] {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let cfg = marac_intake::config::load(&root.join("config/samples.toml"), Vec::<(String, String)>::new()).unwrap();
        let scratch = Scratch::new("pending-total");
        let store = crate::support::store_on(pg, &scratch, "pendingtotal").await;
        let dir = root.join("fixtures/triage");
        let labels: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(dir.join("labels.json")).unwrap()).unwrap();
        for lab in &labels {
            let file = lab["file"].as_str().unwrap();
            let arrived = DateTime::parse_from_rfc3339(lab["arrived"].as_str().unwrap()).unwrap();
            marac_intake::triage::triage_message(&std::fs::read(dir.join(file)).unwrap(), Some(file), None, arrived, &cfg, &store).await.unwrap();
        }
        let filter = marac_intake::store::cases::QueueFilter { status: Some("pending".into()), ..Default::default() };
        let (all, total) = store.queue_page(&filter, None).await.unwrap();
        assert!(all.len() >= 4, "{}", all.len());
        assert_eq!(total, all.len());
        let (cut, total) = store.queue_page(&filter, Some(2)).await.unwrap();
        assert_eq!((cut.len(), total), (2, all.len()), "two shown of the whole list");
        // A page is the whole list's first items, in the whole list's order.
        let refs = |items: &[(marac_intake::store::MessageRecord, marac_intake::store::cases::RiskSignals)]| items.iter().map(|(r, _)| r.reference.clone()).collect::<Vec<_>>();
        for k in 1..=all.len() {
            assert_eq!(refs(&store.queue_page(&filter, Some(k as i64)).await.unwrap().0), refs(&all[..k]), "the first {k}");
        }
        let mut by_arrival = refs(&all);
        by_arrival.sort();
        assert_ne!(refs(&all), by_arrival, "the list is ordered by its keys, not by reference");
        let none = marac_intake::store::cases::QueueFilter { status: Some("pending".into()), agency: Some("no such agency".into()), ..Default::default() };
        assert_eq!(store.queue_page(&none, Some(2)).await.unwrap().1, 0);
    }
}

/// The stored records are read back typed: no page or query walks the stored JSON by pointer,
/// matches text inside a serialized list, or compares a stored enum's spelling by hand.
#[test]
fn no_json_pointer_or_pattern_match_on_a_serialized_list_in_the_application() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let files = crate::support::sources::files(&root.join("src"), &["rs"]);
    assert!(files.len() > 20, "the sources were found");
    let mut found = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let name = f.strip_prefix(root).unwrap().display().to_string();
        for (n, line) in text.lines().enumerate() {
            let bad = [".pointer(", "LIKE '%\\\"", "criteria LIKE", "== \"notice\"", "outcome == \"", "outcome != \""];
            if let Some(b) = bad.iter().find(|b| line.contains(*b)) {
                found.push(format!("{name}:{}: {b}", n + 1));
            }
        }
    }
    assert!(found.is_empty(), "{found:#?}");
}
