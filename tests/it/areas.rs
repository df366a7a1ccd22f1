//! Several MARACs in one deployment (issue 14, areas), through triage and the real store: the
//! samples' configuration with two areas laid over it, told apart by the address a referral was
//! sent to. Each message is a fixture of `fixtures/triage/` with its To (and Message-ID)
//! rewritten.
//! - a referral is decided by its own area's rules (South's threshold is 16, North's the file's
//!   14) and its case numbered in its area's format;
//! - the same victim referred to the other area is not linked there, and is flagged to the
//!   coordinators as known to another MARAC, never to the referrer;
//! - a referral whose area cannot be told is a review item saying so, with a holding reply that
//!   says only that;
//! - `import-history` names the area when there are several.

use crate::support::Scratch;
use chrono::{DateTime, FixedOffset};
use marac_intake::decide::{Outcome, AREA_NOT_TOLD};
use marac_intake::store::{MessageRecord, Store};
use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub(crate) const AREAS: &str = r#"
[areas.north]
name = "North Kingsmere"
[areas.north.route]
recipients = ["north-marac@marac.example.test"]
[areas.north.case]
reference_format = "NK-{year}-{seq:04}"

[areas.south]
name = "South Kingsmere"
[areas.south.route]
recipients = ["south-marac@marac.example.test"]
[areas.south.threshold]
dash_score = 16
[areas.south.case]
reference_format = "SK-{year}-{seq:04}"
"#;

pub(crate) fn config(dir: &Path) -> marac_intake::config::Config {
    let text = std::fs::read_to_string(root().join("config/samples.toml")).unwrap() + AREAS;
    let path = dir.join("areas.toml");
    std::fs::write(&path, text).unwrap();
    marac_intake::config::load(&path, Vec::<(String, String)>::new()).unwrap()
}

/// The fixture `file` sent to `to`, with a Message-ID of its own (`n`).
pub(crate) fn sent_to(file: &str, to: &str, n: u32) -> Vec<u8> {
    let text = String::from_utf8(std::fs::read(root().join("fixtures/triage").join(file)).unwrap()).unwrap();
    let mut out = Vec::new();
    for line in text.split("\r\n") {
        if line.starts_with("To: ") {
            out.push(format!("To: MARAC <{to}>"));
        } else if line.starts_with("Message-ID: ") {
            out.push(format!("Message-ID: <areas-{n}@mx.example.test>"));
        } else {
            out.push(line.to_owned());
        }
    }
    out.join("\r\n").into_bytes()
}

async fn triage(store: &Store, cfg: &marac_intake::config::Config, raw: &[u8]) -> MessageRecord {
    let now: DateTime<FixedOffset> = "2025-01-06T12:00:00+00:00".parse().unwrap();
    marac_intake::triage::triage_message(raw, None, None, now, cfg, store).await.unwrap()
}

/// The reply queued for a message (its raw text).
async fn reply_of(store: &Store, reference: &str) -> String {
    let id: i64 = sqlx::query_scalar("SELECT o.id FROM outbox o JOIN messages m ON m.id = o.message_row WHERE m.ref = $1 AND o.kind <> 'notice'")
        .bind(reference)
        .fetch_one(store.pool())
        .await
        .unwrap();
    store.outbox_raw(id).await.unwrap()
}

#[tokio::test(flavor = "current_thread")]
async fn each_area_decides_by_its_own_rules_and_keeps_its_own_people() {
    own_rules_and_people(None).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_area_decides_by_its_own_rules_and_keeps_its_own_people_on_postgresql() {
    let Some(pg) = crate::support::postgres::Postgres::start("areas") else { return };
    own_rules_and_people(Some(&pg)).await
}

async fn own_rules_and_people(pg: Option<&crate::support::postgres::Postgres>) {
    let scratch = Scratch::new("areas");
    let cfg = config(scratch.path());
    assert_eq!(cfg.areas.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(), ["north", "south"]);
    let store = crate::support::store_on(pg, &scratch, "areas").await;

    // Victim L, 15 Yes answers: accepted in North (threshold 14), numbered as North numbers.
    let north = triage(&store, &cfg, &sent_to("001_police_seed_victim_l_accept15.eml", "north-marac@marac.example.test", 1)).await;
    assert_eq!((north.outcome, north.area.as_str()), (Outcome::Accepted, "north"), "{:?}", north.reasons);
    assert!(north.case_ref.as_deref().is_some_and(|r| r.starts_with("NK-2025-")), "{:?}", north.case_ref);
    assert!(reply_of(&store, &north.reference).await.contains("North Kingsmere MARAC"), "the reply is North's");

    // The same referral sent to South: 15 is below South's 16, and the victim is known to North.
    // Not linked to North's case, not rejected (a coordinator is told why), and the referrer is
    // told neither that nor anything of North.
    let south = triage(&store, &cfg, &sent_to("001_police_seed_victim_l_accept15.eml", "south-marac@marac.example.test", 2)).await;
    assert_eq!((south.outcome, south.area.as_str()), (Outcome::Review, "south"), "{:?}", south.reasons);
    assert_eq!((south.case.as_str(), south.case_ref.as_deref(), south.victim_ref.as_deref()), ("none", None, None), "nothing of North's case or person");
    assert!(south.reasons.iter().any(|r| r.contains("known to another MARAC")), "{:?}", south.reasons);
    let told = reply_of(&store, &south.reference).await;
    assert!(told.contains("South Kingsmere MARAC"), "{told}");
    for secret in ["another MARAC", "North", "known", north.case_ref.as_deref().unwrap()] {
        assert!(!told.contains(secret), "the holding reply says {secret:?}: {told}");
    }

    // Victim W, 16 Yes answers, to South: accepted there (16 meets 16), South's numbering.
    let w = triage(&store, &cfg, &sent_to("002_nhs_seed_victim_w_accept16.eml", "south-marac@marac.example.test", 3)).await;
    assert_eq!((w.outcome, w.area.as_str()), (Outcome::Accepted, "south"), "{:?}", w.reasons);
    assert!(w.case_ref.as_deref().is_some_and(|r| r == "SK-2025-0001"), "{:?}", w.case_ref);
    assert!(!w.reasons.iter().any(|r| r.contains("another MARAC")), "W is known nowhere else: {:?}", w.reasons);

    // An accepted referral of a victim known elsewhere is accepted, the coordinators told.
    let w_north = triage(&store, &cfg, &sent_to("002_nhs_seed_victim_w_accept16.eml", "north-marac@marac.example.test", 4)).await;
    assert_eq!((w_north.outcome, w_north.area.as_str()), (Outcome::Accepted, "north"));
    assert!(w_north.reasons.iter().any(|r| r.contains("known to another MARAC")), "{:?}", w_north.reasons);
    assert_ne!(w_north.victim_ref, w.victim_ref, "a person of its own area");
    assert!(!reply_of(&store, &w_north.reference).await.contains("another MARAC"));

    let json = w_north.to_json(false);
    assert_eq!(json["area"], "north");
}

#[tokio::test(flavor = "current_thread")]
async fn a_referral_whose_area_cannot_be_told_waits_for_a_coordinator_with_a_reason() {
    area_not_told(None).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_referral_whose_area_cannot_be_told_waits_for_a_coordinator_with_a_reason_on_postgresql() {
    let Some(pg) = crate::support::postgres::Postgres::start("areas-unknown") else { return };
    area_not_told(Some(&pg)).await
}

async fn area_not_told(pg: Option<&crate::support::postgres::Postgres>) {
    let scratch = Scratch::new("areas-unknown");
    let cfg = config(scratch.path());
    let store = crate::support::store_on(pg, &scratch, "unknown").await;

    // Sent to the shared address: no sign names an area. A referral that would be accepted
    // anywhere is still not guessed into one.
    let r = triage(&store, &cfg, &sent_to("002_nhs_seed_victim_w_accept16.eml", "marac@marac.example.test", 5)).await;
    assert_eq!((r.outcome, r.area.as_str(), r.case.as_str()), (Outcome::Review, "", "none"), "{:?}", r.reasons);
    assert!(r.criteria.is_empty());
    assert!(r.reasons.iter().any(|x| x == AREA_NOT_TOLD), "{:?}", r.reasons);
    assert!(r.reasons.iter().any(|x| x.contains("could not be told") && x.contains("North Kingsmere, South Kingsmere")), "the coordinators read why: {:?}", r.reasons);
    assert_eq!(r.to_json(false)["area"], serde_json::Value::Null);
    let told = reply_of(&store, &r.reference).await;
    assert!(told.contains("could not tell which MARAC"), "{told}");
    assert!(!told.contains("North Kingsmere, South Kingsmere"), "the referrer is told only that it could not be told: {told}");

    // Accepting it before it is placed in an area is refused in words.
    let mut tx = store.begin().await.unwrap();
    let item = tx.review_item(&r.reference).await.unwrap().expect("a review item");
    let victim = marac_intake::store::Victim { name: None, dob: None };
    let e = tx
        .accept_review(&item, &victim, "W", "w", None, &cfg.file.case, "coordinator", "2025-01-06T12:00:00.000Z", chrono::NaiveDate::from_ymd_opt(2025, 1, 6).unwrap())
        .await
        .expect_err("an item with no area is not accepted");
    assert!(e.to_string().contains("place it in an area"), "{e}");
}

#[test]
fn import_history_names_the_area_when_there_are_several() {
    let scratch = Scratch::new("areas-import");
    let cfg_path = scratch.path().join("areas.toml");
    let text = std::fs::read_to_string(root().join("config/samples.toml")).unwrap() + AREAS;
    std::fs::write(&cfg_path, text).unwrap();
    let csv = scratch.path().join("past.csv");
    std::fs::write(&csv, "Victim name,DOB,Referral date,Meeting date,Reference\nAnna Example,03/02/1990,01/06/2024,11/06/2024,OLD-1\n").unwrap();
    let db = format!("sqlite://{}/t.db", scratch.path().display());
    let run = |extra: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_marac-intake"))
            .args(["import-history", "--config"])
            .arg(&cfg_path)
            .args(["--db", &db])
            .args(extra)
            .arg(&csv)
            .output()
            .unwrap()
    };
    let without = run(&[]);
    assert!(!without.status.success());
    assert!(String::from_utf8_lossy(&without.stderr).contains("--area"), "{}", String::from_utf8_lossy(&without.stderr));
    let unknown = run(&["--area", "east"]);
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no area \"east\""), "{}", String::from_utf8_lossy(&unknown.stderr));
    let named = run(&["--area", "south"]);
    assert!(named.status.success(), "{}", String::from_utf8_lossy(&named.stderr));
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let areas: Vec<(String, String)> = rt.block_on(async {
        let store = Store::open(&db).await.unwrap();
        sqlx::query_as("SELECT c.area, p.area FROM cases c JOIN people p ON p.id = c.person_id").fetch_all(store.pool()).await.unwrap()
    });
    assert_eq!(areas, [("south".to_owned(), "south".to_owned())]);
}

#[test]
fn user_add_names_the_areas_a_coordinator_works_in_when_there_are_several() {
    let scratch = Scratch::new("areas-users");
    let cfg_path = scratch.path().join("areas.toml");
    std::fs::write(&cfg_path, std::fs::read_to_string(root().join("config/samples.toml")).unwrap() + AREAS).unwrap();
    let password = scratch.path().join("password");
    std::fs::write(&password, "correct horse battery staple\n").unwrap();
    let db = format!("sqlite://{}/t.db", scratch.path().display());
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_marac-intake")).arg("user").args(args).arg("--config").arg(&cfg_path).args(["--db", &db]).output().unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let pw = password.to_str().unwrap();
    let (ok, _, err) = run(&["add", "nina", "--role", "coordinator", "--password-file", pw]);
    assert!(!ok && err.contains("--area"), "{err}");
    let (ok, _, err) = run(&["add", "nina", "--role", "coordinator", "--area", "east", "--password-file", pw]);
    assert!(!ok && err.contains("no area \"east\""), "{err}");
    let (ok, _, err) = run(&["add", "boss", "--role", "admin", "--area", "north", "--password-file", pw]);
    assert!(!ok && err.contains("every area"), "{err}");
    assert!(run(&["add", "nina", "--role", "coordinator", "--area", "north", "--password-file", pw]).0);
    assert!(run(&["add", "sam", "--role", "area-admin", "--area", "south", "--area", "north", "--password-file", pw]).0);
    assert!(run(&["add", "boss", "--role", "admin", "--password-file", pw]).0);
    let (ok, out, err) = run(&["areas", "nina", "--area", "south"]);
    assert!(ok, "{err}");
    assert!(out.contains("nina works in south"), "{out}");
    let (_, list, _) = run(&["list"]);
    let line = |name: &str| list.lines().find(|l| l.starts_with(&format!("{name}\t"))).unwrap_or_else(|| panic!("{list}")).to_owned();
    assert!(line("nina").ends_with("\tareas south"), "{list}");
    assert!(line("sam").contains("\tarea-admin\t") && line("sam").ends_with("\tareas north,south"), "{list}");
    assert!(line("boss").ends_with("\tareas every area"), "{list}");
}
