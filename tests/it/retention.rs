//! Retention and disposal, on a database holding rows of every kind at different ages, with one
//! fixed "now":
//! - the dry run counts exactly what the purge then disposes of, kind by kind, and changes nothing;
//! - nothing in review, nothing of a pending case, no case that is not closed is touched;
//! - after the purge, the bytes of a purged message and of a deleted person are nowhere in the
//!   database file (secure_delete and the checkpoint), while kept ones still are;
//! - the purge is audited by counts alone, and the audit chain still verifies from its new anchor.
//!
//! Each test runs on SQLite, then on a real PostgreSQL when it is installed (the checks of the
//! file's bytes are SQLite's: PostgreSQL's storage is the server's).

use crate::support::postgres::Postgres;
use crate::support::TestDb;
use chrono::{DateTime, TimeZone, Utc};
use marac_intake::config::RetentionConfig;
use marac_intake::store::accounts::Audit;
use marac_intake::store::retention::{Counts, Kind};
use marac_intake::store::Store;
use std::path::Path;


fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 6, 1, 9, 0, 0).unwrap()
}

async fn person(store: &Store, reference: &str, name: &str) -> i64 {
    sqlx::query_scalar("INSERT INTO people (ref, name, name_key, dob, created_at) VALUES ($1, $2, lower($3), '1990-01-01', '2019-01-01') RETURNING id")
        .bind(reference)
        .bind(name)
        .bind(name)
        .fetch_one(store.pool())
        .await
        .unwrap()
}

async fn case(store: &Store, reference: &str, person: i64, status: &str, meeting: &str, opened: &str) -> i64 {
    let id = sqlx::query_scalar("INSERT INTO cases (ref, person_id, status, meeting_date, opened_at, source) VALUES ($1, $2, $3, $4, $5, 'email') RETURNING id")
        .bind(reference)
        .bind(person)
        .bind(status)
        .bind(meeting)
        .bind(opened)
        .fetch_one(store.pool())
        .await
        .unwrap();
    sqlx::query("INSERT INTO referrals (case_id, person_id, referred_on, source) VALUES ($1, $2, $3, 'email')").bind(id).bind(person).bind(&opened[..10]).execute(store.pool()).await.unwrap();
    id
}

/// A message with its source (`secret` in its bytes and in what was read), its decision and a
/// sent reply, all dated `at`.
async fn message(store: &Store, reference: &str, outcome: &str, at: &str, case: Option<(i64, i64)>, secret: &str) -> i64 {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO messages (ref, sha256, arrived_at, outcome, criteria, reasons, case_kind, case_id, person_id, reply_kind, reply_to, inspection, processed_at) \
         VALUES ($1, $2, $3, $4, '[]', '[]', $5, $6, $7, 'none', '[]', $8, $9) RETURNING id",
    )
    .bind(reference)
    .bind(format!("sha-{reference}"))
    .bind(at)
    .bind(outcome)
    .bind(if case.is_some() { "new" } else { "none" })
    .bind(case.map(|c| c.0))
    .bind(case.map(|c| c.1))
    .bind(format!("{{\"referral\":{{\"victim_name\":\"{secret}\"}}}}"))
    .bind(at)
    .fetch_one(store.pool())
    .await
    .unwrap();
    sqlx::query("INSERT INTO message_sources (message_row, raw) VALUES ($1, $2)").bind(id).bind(format!("Subject: referral\r\n\r\n{secret} {}\r\n", "x".repeat(3000)).into_bytes()).execute(store.pool()).await.unwrap();
    sqlx::query("INSERT INTO decisions (message_row, outcome, reasons, decided_by, decided_at) VALUES ($1, $2, '[]', 'triage', $3)").bind(id).bind(outcome).bind(at).execute(store.pool()).await.unwrap();
    // The search key triage keeps of a form's police reference.
    sqlx::query("INSERT INTO message_search_keys (message_row, kind, key) VALUES ($1, 'police_reference', $2)").bind(id).bind(format!("KP{id}")).execute(store.pool()).await.unwrap();
    sqlx::query("INSERT INTO outbox (message_row, kind, recipient, subject, raw, status, created_at) VALUES ($1, 'acknowledgement', 'a@nhs.example.test', 's', $2, 'sent', $3)")
        .bind(id)
        .bind(format!("Subject: s\r\n\r\nreply about {reference}-OUTBOX\r\n").into_bytes())
        .bind(at)
        .execute(store.pool())
        .await
        .unwrap();
    id
}

async fn scalar(store: &Store, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned())).fetch_one(store.pool()).await.unwrap()
}

/// Every kind, old enough and not, open and not. Returns the counts a purge at [`now`] must make.
async fn populate(store: &Store) -> Counts {
    // A closed case from 2020, its person's only case: the case, its message and the person go.
    let p1 = person(store, "P000001", "Zebediah Quartermaine").await;
    let c1 = case(store, "MARAC-2020-0001", p1, "closed", "2020-02-11", "2020-01-05").await;
    message(store, "IN-2020-00001", "accepted", "2020-01-05T10:00:00+00:00", Some((c1, p1)), "CLOSED-CASE-SECRET").await;
    // A closed case from 2020 of someone referred again last month: that case goes, they stay.
    let p2 = person(store, "P000002", "Araminta Fairweather").await;
    let c2 = case(store, "MARAC-2020-0002", p2, "closed", "2020-03-10", "2020-02-01").await;
    message(store, "IN-2020-00002", "accepted", "2020-02-01T10:00:00+00:00", Some((c2, p2)), "SECOND-CLOSED-SECRET").await;
    let c2b = case(store, "MARAC-2030-0001", p2, "pending", "2030-06-11", "2030-05-02").await;
    message(store, "IN-2030-00001", "accepted", "2030-05-02T10:00:00+00:00", Some((c2b, p2)), "PENDING-NEW-SECRET").await;
    // A closed case from last year: within the period, kept whole.
    let p6 = person(store, "P000006", "Recent Closed").await;
    let c6 = case(store, "MARAC-2029-0006", p6, "closed", "2029-07-10", "2029-07-01").await;
    message(store, "IN-2029-00006", "accepted", "2029-07-01T10:00:00+00:00", Some((c6, p6)), "RECENT-CLOSED-SECRET").await;
    // Heard in January 2029: the source goes (more than 365 days after the meeting), the case stays.
    let p3 = person(store, "P000003", "Heard Person").await;
    let c3 = case(store, "MARAC-2028-0003", p3, "heard", "2029-01-09", "2028-12-20").await;
    message(store, "IN-2028-00003", "accepted", "2028-12-20T10:00:00+00:00", Some((c3, p3)), "HEARD-OLD-SECRET").await;
    // Still pending although its meeting has passed: open, nothing of it goes.
    let p4 = person(store, "P000004", "Pending Person").await;
    let c4 = case(store, "MARAC-2028-0004", p4, "pending", "2029-01-09", "2028-12-21").await;
    message(store, "IN-2028-00004", "accepted", "2028-12-21T10:00:00+00:00", Some((c4, p4)), "PENDING-OLD-SECRET").await;
    // Rejected, ignored and quarantined long ago: their content goes.
    message(store, "IN-2029-00010", "rejected", "2029-12-01T10:00:00+00:00", None, "REJECTED-OLD-SECRET").await;
    message(store, "IN-2029-00011", "ignored", "2029-10-01T10:00:00+00:00", None, "IGNORED-OLD-SECRET").await;
    message(store, "IN-2029-00012", "quarantined", "2029-10-01T10:00:00+00:00", None, "QUARANTINED-OLD-SECRET").await;
    // Rejected recently, and rejected long ago but decided again by a coordinator last month.
    message(store, "IN-2030-00013", "rejected", "2030-05-20T10:00:00+00:00", None, "REJECTED-NEW-SECRET").await;
    let redecided = message(store, "IN-2029-00014", "rejected", "2029-01-01T10:00:00+00:00", None, "REDECIDED-SECRET").await;
    sqlx::query("INSERT INTO decisions (message_row, outcome, reasons, decided_by, decided_at) VALUES ($1, 'rejected', '[]', 'amy', '2030-05-01T10:00:00.000Z')").bind(redecided).execute(store.pool()).await.unwrap();
    // In review for years: never touched.
    message(store, "IN-2020-00015", "review", "2020-01-01T10:00:00+00:00", None, "REVIEW-OLD-SECRET").await;
    // An outbox row still waiting to be sent is not a copy: kept.
    sqlx::query("UPDATE outbox SET status = 'pending' WHERE message_row = (SELECT id FROM messages WHERE ref = 'IN-2029-00011')").execute(store.pool()).await.unwrap();

    // Sign-in records.
    sqlx::query("INSERT INTO users (name, role, password_hash, created_at) VALUES ('amy', 'coordinator', 'x', '2019-01-01')").execute(store.pool()).await.unwrap();
    for (at, n) in [("2030-01-01T10:00:00.000Z", 1), ("2030-01-02T10:00:00.000Z", 2), ("2030-05-30T10:00:00.000Z", 3)] {
        sqlx::query("INSERT INTO login_attempts (at, account, client, outcome) VALUES ($1, 'amy', '10.0.0.1', 'failed')").bind(at).execute(store.pool()).await.unwrap();
        sqlx::query("INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen_at, client) VALUES ($1, 1, 'c', $2, $3, '10.0.0.1')").bind(format!("t{n}")).bind(at).bind(at).execute(store.pool()).await.unwrap();
    }
    // Audit records: three from 2023 (older than six years by then), two recent.
    for at in ["2023-01-01T10:00:00.000Z", "2023-02-01T10:00:00.000Z", "2024-01-01T10:00:00.000Z", "2030-05-01T10:00:00.000Z", "2030-05-02T10:00:00.000Z"] {
        store.audit(&Audit { at, actor: "amy", action: "case.view", object: Some("MARAC-2020-0001"), client: Some("10.0.0.1"), detail: None }).await.unwrap();
    }

    Counts(vec![
        // The heard case's source, and the two old closed cases' (heard long ago too).
        (Kind::AcceptedSources, 3),
        // Replies sent more than 90 days ago about messages not open: the three closed cases'
        // (the recent one's reply too: a copy's period is its own), the heard one's, the two old
        // rejected ones' and the quarantined one's. Not the review item's, not the pending
        // cases', not the ignored one's (still waiting to be sent).
        (Kind::OutboxCopies, 7),
        (Kind::RejectedMessages, 1),
        (Kind::IgnoredMessages, 1),
        (Kind::QuarantinedMessages, 1),
        (Kind::ClosedCases, 2),
        (Kind::People, 1),
        (Kind::LoginAttempts, 2),
        (Kind::Sessions, 2),
        (Kind::AuditRecords, 3),
    ])
}

fn file_bytes(db: &Path) -> Vec<u8> {
    let mut all = std::fs::read(db).unwrap();
    for side in ["-wal", "-journal"] {
        if let Ok(b) = std::fs::read(format!("{}{side}", db.display())) {
            all.extend(b);
        }
    }
    all
}

/// How many values in the whole database (every column of every table) hold `marker`.
async fn rows_holding(store: &Store, marker: &str) -> i64 {
    let postgres = store.backend() == marac_intake::store::Backend::Postgres;
    let tables: Vec<String> = if postgres {
        sqlx::query_scalar("SELECT CAST(table_name AS TEXT) FROM information_schema.tables WHERE table_schema = 'public'").fetch_all(store.pool()).await.unwrap()
    } else {
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").fetch_all(store.pool()).await.unwrap()
    };
    let mut n = 0;
    for t in tables {
        let columns: Vec<String> = if postgres {
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT CAST(column_name AS TEXT) FROM information_schema.columns WHERE table_schema = 'public' AND table_name = '{t}'"))).fetch_all(store.pool()).await.unwrap()
        } else {
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT name FROM pragma_table_info('{t}')"))).fetch_all(store.pool()).await.unwrap()
        };
        for c in columns {
            let sql = if postgres {
                // Bytes as the text they hold (`escape`: printable bytes as themselves).
                format!("SELECT COUNT(*) FROM \"{t}\" WHERE position($1 in (CASE WHEN pg_typeof(\"{c}\") = 'bytea'::regtype THEN encode(CAST(CAST(\"{c}\" AS TEXT) AS BYTEA), 'escape') ELSE CAST(\"{c}\" AS TEXT) END)) > 0")
            } else {
                format!("SELECT COUNT(*) FROM \"{t}\" WHERE instr(CAST(\"{c}\" AS TEXT), $1) > 0")
            };
            let k: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(marker).fetch_one(store.pool()).await.unwrap();
            n += k;
        }
    }
    n
}

fn holds(bytes: &[u8], needle: &str) -> bool {
    bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[tokio::test(flavor = "current_thread")]
async fn the_dry_run_counts_what_the_purge_disposes_of_and_nothing_open_goes() {
    let pg = Postgres::start("purge");
    for pg in [None, pg.as_ref()] {
        let db = TestDb::new(pg, "retention_purge").await;
        let store = db.open().await;
        let expected = populate(&store).await;
        let policy = RetentionConfig::default();

        let dry = store.purge_plan(&policy, now()).await.unwrap();
        assert_eq!(dry, expected);
        assert_eq!(store.purge_plan(&policy, now()).await.unwrap(), expected, "a dry run changes nothing");
        assert_eq!(scalar(&store, "SELECT COUNT(*) FROM message_sources").await, 12);

        let purged = store.purge(&policy, now(), "cli").await.unwrap();
        assert_eq!(purged.counts, dry, "the purge disposes of exactly what the dry run counted");
        assert_eq!(purged.audit_kept, None);
        let after = store.purge_plan(&policy, now()).await.unwrap();
        assert_eq!(after.total(), 0, "nothing is left past its period: {after:?}");

        // What went.
        let sources: Vec<String> = sqlx::query_scalar("SELECT m.ref FROM message_sources s JOIN messages m ON m.id = s.message_row ORDER BY m.ref").fetch_all(store.pool()).await.unwrap();
        assert_eq!(sources, ["IN-2020-00015", "IN-2028-00004", "IN-2029-00006", "IN-2029-00014", "IN-2030-00001", "IN-2030-00013"]);
        let cases: Vec<String> = sqlx::query_scalar("SELECT ref FROM cases ORDER BY ref").fetch_all(store.pool()).await.unwrap();
        assert_eq!(cases, ["MARAC-2028-0003", "MARAC-2028-0004", "MARAC-2029-0006", "MARAC-2030-0001"]);
        let people: Vec<String> = sqlx::query_scalar("SELECT ref FROM people ORDER BY ref").fetch_all(store.pool()).await.unwrap();
        assert_eq!(people, ["P000002", "P000003", "P000004", "P000006"]);
        let tombstones: Vec<(String, String, Option<i64>)> =
            sqlx::query_as("SELECT ref, inspection, case_id FROM messages WHERE purged_at IS NOT NULL ORDER BY ref").fetch_all(store.pool()).await.unwrap();
        let refs: Vec<&str> = tombstones.iter().map(|t| t.0.as_str()).collect();
        assert_eq!(refs, ["IN-2020-00001", "IN-2020-00002", "IN-2029-00010", "IN-2029-00011", "IN-2029-00012"], "the rows stay, so the same email is still known");
        assert!(tombstones.iter().all(|t| t.1 == "{}" && t.2.is_none()));
        assert_eq!(scalar(&store, "SELECT COUNT(*) FROM message_search_keys k JOIN messages m ON m.id = k.message_row WHERE m.purged_at IS NOT NULL").await, 0, "a purged message's search keys go with its reading");
        assert_eq!(scalar(&store, "SELECT COUNT(*) FROM message_search_keys").await, 12 - 5, "the others' stay");
        assert_eq!(scalar(&store, "SELECT COUNT(*) FROM messages").await, 12);
        // What stayed: the review item, the pending cases, the heard case's content, the recent ones.
        assert_eq!(scalar(&store, "SELECT COUNT(*) FROM messages WHERE ref = 'IN-2020-00015' AND outcome = 'review' AND inspection LIKE '%REVIEW-OLD-SECRET%' AND purged_at IS NULL").await, 1);
        assert_eq!(scalar(&store, "SELECT COUNT(*) FROM messages WHERE ref = 'IN-2028-00003' AND inspection LIKE '%HEARD-OLD-SECRET%'").await, 1, "what was read stays with the heard case");
        assert_eq!(scalar(&store, "SELECT COUNT(*) FROM outbox WHERE raw = ''").await, 7);
        assert_eq!(scalar(&store, "SELECT COUNT(*) FROM outbox WHERE status = 'pending' AND raw <> ''").await, 1);
        assert_eq!(scalar(&store, "SELECT COUNT(*) FROM login_attempts").await, 1);
        assert_eq!(scalar(&store, "SELECT COUNT(*) FROM sessions").await, 1);

        // One audit record of counts, and the chain verifies from its new anchor.
        let record: (String, String, Option<String>, Option<String>) =
            sqlx::query_as("SELECT actor, action, object, detail FROM audit_log ORDER BY id DESC LIMIT 1").fetch_one(store.pool()).await.unwrap();
        assert_eq!(
            record,
            (
                "cli".to_owned(),
                "retention.purge".to_owned(),
                None,
                Some("accepted_sources=3 outbox_copies=7 rejected_messages=1 ignored_messages=1 quarantined_messages=1 closed_cases=2 people=1 login_attempts=2 sessions=2 audit_records=3".to_owned())
            )
        );
        let walk = store.verify_audit().await.unwrap();
        assert_eq!((walk.records, walk.from_anchor, walk.broken), (3, 3, None), "two kept records and the purge's own");
        store.audit(&Audit { at: "2030-06-01T10:00:00.000Z", actor: "amy", action: "queue.view", object: None, client: None, detail: None }).await.unwrap();
        assert_eq!(store.verify_audit().await.unwrap().broken, None);

        // The purged content is gone from every column of every table; kept content is still there
        // (the search works). The file itself is encrypted at rest (SQLCipher), so no marker, kept or
        // gone, is in it in clear; `secure_delete` and the VACUUM keep purged rows out of its free
        // pages for whoever holds the key.
        let gone = ["REJECTED-OLD-SECRET", "IGNORED-OLD-SECRET", "QUARANTINED-OLD-SECRET", "CLOSED-CASE-SECRET", "HEARD-OLD-SECRET ", "Zebediah", "IN-2029-00010-OUTBOX"];
        let kept = ["REVIEW-OLD-SECRET", "PENDING-OLD-SECRET", "REJECTED-NEW-SECRET", "Araminta"];
        for marker in gone {
            assert_eq!(rows_holding(&store, marker).await, 0, "{marker} is still in the database");
        }
        for marker in kept {
            assert!(rows_holding(&store, marker).await > 0, "{marker} should be kept");
        }
        store.pool().close().await;
        if let Some(file) = db.sqlite_file() {
            let bytes = file_bytes(&file);
            for marker in gone.iter().chain(&kept) {
                assert!(!holds(&bytes, marker), "{marker} is in the database file in clear");
            }
        }
        let (code, out) = verify_cli(&db);
        assert_eq!(code, 0, "{out}");
    }
}

fn verify_cli(db: &TestDb) -> (i32, String) {
    let out = db.command(&["audit", "verify"]).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[tokio::test(flavor = "current_thread")]
async fn a_broken_audit_chain_is_kept_whole_and_the_rest_is_purged() {
    let pg = Postgres::start("broken");
    for pg in [None, pg.as_ref()] {
        let db = TestDb::new(pg, "retention_broken").await;
        let store = db.open().await;
        let expected = populate(&store).await;
        let on = if db.is_postgres() { " ON audit_log" } else { "" };
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP TRIGGER audit_log_no_update{on}"))).execute(store.pool()).await.unwrap();
        sqlx::query("UPDATE audit_log SET actor = 'mallory' WHERE id = 2").execute(store.pool()).await.unwrap();
        let purged = store.purge(&RetentionConfig::default(), now(), "service").await.unwrap();
        assert_eq!(purged.audit_kept.map(|b| b.row), Some(2));
        assert_eq!(purged.counts.get(Kind::AuditRecords), 0);
        assert_eq!(purged.counts.get(Kind::RejectedMessages), expected.get(Kind::RejectedMessages));
        assert_eq!(scalar(&store, "SELECT COUNT(*) FROM audit_log WHERE id <= 5").await, 5, "the evidence is kept");
    }
}
