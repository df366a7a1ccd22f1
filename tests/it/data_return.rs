//! The SafeLives quarterly data return against a count made by hand: 50 referrals generated here
//! (with the `gen-fixtures` crate) whose forms vary the gender, ethnicity, sexual orientation,
//! disability, ages, children, the referring agency and its type, some of each not known, and
//! some victims referred before (their history imported, so those are repeats); triaged by the
//! `marac-intake` binary, then `data-return --quarter 2025Q1` as JSON, CSV and XLSX, and the page
//! `/data-return` over HTTP. The expected counts come from what this file wrote on each form,
//! never from the product's code.

use crate::gen;
use crate::support::{postgres, totp, TestDb};
use gen::data::Demographics;
use gen::triage::ReturnReferral;
use gen::util::{date, stamp, Date};
use marac_intake::store::accounts::Role;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// What one form says, as this test knows it (None: not known).
struct Truth {
    meeting: &'static str,
    repeat: bool,
    police: Option<bool>,
    /// None: the form neither names a child nor says how many.
    children: Option<u32>,
    minoritised: Option<bool>,
    lgbt: Option<bool>,
    disabled: Option<bool>,
    male: Option<bool>,
    aged_16_17: Option<bool>,
    perpetrator_under_18: Option<bool>,
}

/// The meetings of `config/samples.toml` (the second Tuesday of each month) that the arrivals
/// below fall before: referrals of 2-11 January are heard on 14 January, of 20-29 January on
/// 11 February, of 17-26 February on 11 March, of 17-19 March on 8 April (the next quarter).
const MEETINGS: [&str; 3] = ["2025-01-14", "2025-02-11", "2025-03-11"];

/// The 50 referrals of the quarter and 2 of the next, with what each says.
fn referrals() -> Vec<(ReturnReferral, Truth)> {
    // (written, male?, trans?)
    const GENDERS: [(&str, Option<bool>, bool); 6] =
        [("Female", Some(false), false), ("Male", Some(true), false), ("Female", Some(false), false), ("Not known", None, false), ("Transgender woman", Some(false), true), ("F", Some(false), false)];
    const ETHNICITIES: [(Option<&str>, Option<bool>); 7] = [
        (Some("White British"), Some(false)),
        (Some("Black British - Caribbean"), Some(true)),
        (Some("Asian or Asian British - Pakistani"), Some(true)),
        (Some("White - any other White background"), Some(true)),
        (Some("Mixed - White and Black African"), Some(true)),
        (Some("Not known"), None),
        (None, None),
    ];
    const ORIENTATIONS: [(Option<&str>, Option<bool>); 6] =
        [(Some("Heterosexual"), Some(false)), (Some("Lesbian"), Some(true)), (Some("Bisexual"), Some(true)), (Some("Prefer not to say"), None), (None, None), (Some("Straight"), Some(false))];
    const DISABILITIES: [(Option<&str>, Option<bool>); 6] =
        [(Some("No"), Some(false)), (Some("Yes - mobility"), Some(true)), (Some("Not known"), None), (None, None), (Some("None"), Some(false)), (Some("Learning disability"), Some(true))];
    let mut out = Vec::new();
    for i in 0..52u32 {
        let (at, meeting) = match (i, i % 3) {
            (50.., _) => (stamp(2025, 3, 17 + i - 50, 11, 0, 0), "2025-04-08"),
            (_, 0) => (stamp(2025, 1, 2 + (i / 3) % 8, 9, i, 0), MEETINGS[0]),
            (_, 1) => (stamp(2025, 1, 20 + (i / 3) % 10, 10, i, 0), MEETINGS[1]),
            _ => (stamp(2025, 2, 17 + (i / 3) % 10, 11, i, 0), MEETINGS[2]),
        };
        // The referrer: the police (the type written on some forms), a partner agency (by name,
        // with or without its type; or its type alone), or a form that names no agency.
        let (police_sender, agency, agency_type, police) = match i % 8 {
            0 => (true, "Kingsmere Police", Some("Police"), Some(true)),
            1 | 4 | 5 => (true, "Kingsmere Police", None, Some(true)),
            2 => (false, "Kingsmere Hospitals NHS Trust", Some("Health"), Some(false)),
            6 => (false, "Kingsmere IDVA Service", None, Some(false)),
            3 => (false, "", Some("Specialist domestic abuse service"), Some(false)),
            _ => (false, "", None, None),
        };
        let (gender, male, trans) = GENDERS[i as usize % 6];
        let (ethnicity, minoritised) = ETHNICITIES[i as usize % 7];
        let (orientation, lgb) = ORIENTATIONS[(i as usize / 2) % 6];
        let (disability, disabled) = DISABILITIES[(i as usize / 3) % 6];
        // Victims aged 16 or 17 on the day (born in 2008), one just 18, the rest adults.
        let (victim_dob, aged_16_17): (Date, bool) = match i % 5 {
            0 => (date(2008, 1 + i % 12, 1 + i % 20), true),
            1 => (date(2006, 6, 15), false),
            _ => (date(1970 + (i % 30) as i32, 1 + i % 12, 1 + i % 27), false),
        };
        // The perpetrator's date of birth, or "Not known" with an age written or none.
        let (perp_dob, perp_age, under_18) = match i % 6 {
            0 if i % 12 == 0 => (None, Some("17"), Some(true)),
            0 => (None, None, None),
            1 => (Some(date(2008, 3, 3)), None, Some(true)),
            3 => (None, Some("34 years"), Some(false)),
            _ => (Some(date(1985, 1 + i % 12, 1 + i % 27)), None, Some(false)),
        };
        // The children: named (or "None" under the heading) on most forms; on some nothing under
        // the heading at all; on others "Number of children in the household" written, beside the
        // names (the same number, or "None") or alone.
        let (named, count, silent, children) = match i % 6 {
            3 => (0, None, true, None),
            4 => (i % 4, Some(["None", "1", "2", "3"][i as usize % 4]), false, Some(i % 4)),
            5 => (0, Some(["two", "3 children", "1", "None known"][i as usize % 4]), false, Some([2, 3, 1, 0][i as usize % 4])),
            _ => (i % 4, None, false, Some(i % 4)),
        };
        let r = ReturnReferral {
            n: i,
            at,
            police: police_sender,
            agency,
            gender,
            victim_dob,
            perp_dob,
            demographics: Demographics { agency_type, ethnicity, sexual_orientation: orientation, disability, perp_dob_written: None, perp_age, children_count: count, children_silent: silent },
            children: named,
        };
        let truth = Truth {
            meeting,
            repeat: i % 7 == 0,
            police,
            children,
            minoritised,
            lgbt: if trans { Some(true) } else { lgb },
            disabled,
            male,
            aged_16_17: Some(aged_16_17),
            perpetrator_under_18: under_18,
        };
        out.push((r, truth));
    }
    out
}

/// The return counted by hand from the truths: a JSON object per meeting of 2025Q1.
fn by_hand(all: &[(ReturnReferral, Truth)]) -> Value {
    let mut meetings: BTreeMap<&str, BTreeMap<&str, u32>> = BTreeMap::new();
    for (_, t) in all.iter().filter(|(_, t)| MEETINGS.contains(&t.meeting)) {
        let m = meetings.entry(t.meeting).or_default();
        let mut add = |k: &'static str, n: u32| *m.entry(k).or_default() += n;
        add("cases", 1);
        add("repeats", u32::from(t.repeat));
        add("police_referrals", u32::from(t.police == Some(true)));
        add("partner_referrals", u32::from(t.police == Some(false)));
        add("referrals_agency_unknown", u32::from(t.police.is_none()));
        add("children", t.children.unwrap_or(0));
        add("children_unknown", u32::from(t.children.is_none()));
        for (yes, unknown, v) in [
            ("racially_minoritised", "racially_minoritised_unknown", t.minoritised),
            ("lgbt", "lgbt_unknown", t.lgbt),
            ("disabled", "disabled_unknown", t.disabled),
            ("male", "male_unknown", t.male),
            ("aged_16_17", "age_unknown", t.aged_16_17),
            ("perpetrators_under_18", "perpetrator_age_unknown", t.perpetrator_under_18),
        ] {
            add(yes, u32::from(v == Some(true)));
            add(unknown, u32::from(v.is_none()));
        }
    }
    let list: Vec<Value> = meetings
        .into_iter()
        .map(|(date, counts)| {
            let mut o = serde_json::Map::new();
            o.insert("meeting_date".into(), json!(date));
            for (k, n) in counts {
                o.insert(k.into(), json!(n));
            }
            Value::Object(o)
        })
        .collect();
    json!({ "quarter": "2025Q1", "meetings": list })
}

/// The 52 referrals triaged by the binary into `db`, after the history of the victims referred
/// before (imported, heard in September 2024), so that those are repeats.
fn triaged(db: &TestDb, all: &[(ReturnReferral, Truth)]) {
    triaged_by(&|args| db.command(args), &db.scratch.0, all);
}

/// [`triaged`] with the commands `cmd` makes, files in `scratch`.
fn triaged_by(cmd: &dyn Fn(&[&str]) -> std::process::Command, scratch: &std::path::Path, all: &[(ReturnReferral, Truth)]) {
    let dir = scratch.join("emails");
    std::fs::create_dir_all(&dir).unwrap();
    let mut history = String::from("Reference,Victim name,DOB,Referral date,Meeting date\r\n");
    for (r, _) in all.iter().filter(|(_, t)| t.repeat) {
        let v = r.victim();
        history.push_str(&format!("HIST-{},{} {},{:02}/{:02}/{},01/09/2024,10/09/2024\r\n", r.n, v.first, v.last, v.dob.d, v.dob.m, v.dob.y));
    }
    let history_file = scratch.join("history.csv");
    std::fs::write(&history_file, history).unwrap();
    let out = cmd(&["import-history", history_file.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success(), "import-history: {}", String::from_utf8_lossy(&out.stderr));
    let mut files = Vec::new();
    for (r, _) in all {
        let f = dir.join(format!("{:03}_return.eml", r.n));
        std::fs::write(&f, r.eml()).unwrap();
        files.push(f.display().to_string());
    }
    let mut args = vec!["triage", "--json"];
    args.extend(files.iter().map(String::as_str));
    let out = cmd(&args).output().unwrap();
    assert!(out.status.success(), "triage: {}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), all.len());
    for (line, (r, t)) in lines.iter().zip(all) {
        assert_eq!(line["outcome"], "accepted", "referral {}: {line}", r.n);
        assert_eq!(line["meeting_date"], t.meeting, "referral {}: {line}", r.n);
        let repeat = line["criteria"].as_array().unwrap().iter().any(|c| c == "repeat");
        assert_eq!(repeat, t.repeat, "referral {}: {line}", r.n);
    }
}

fn data_return(db: &TestDb, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["data-return", "--quarter", "2025Q1"];
    args.extend(extra);
    db.command(&args).output().unwrap()
}

async fn fifty_referrals_match_a_count_by_hand_on(pg: Option<&postgres::Postgres>, name: &str) {
    let all = referrals();
    assert_eq!(all.iter().filter(|(_, t)| MEETINGS.contains(&t.meeting)).count(), 50);
    let expected = by_hand(&all);
    // The set is varied: each count, and each unknown, is met at least once.
    let quarter: BTreeMap<String, u64> = expected["meetings"].as_array().unwrap().iter().flat_map(|m| m.as_object().unwrap().iter()).filter_map(|(k, v)| Some((k.clone(), v.as_u64()?))).fold(BTreeMap::new(), |mut acc, (k, v)| {
        *acc.entry(k).or_default() += v;
        acc
    });
    // Every form gives the victim's date of birth (a referral without one is a review item, on
    // no agenda), so no victim's age is unknown; every other count is met.
    assert_eq!(quarter.len(), 19, "{quarter:?}");
    assert!(quarter.iter().all(|(k, &n)| if k == "age_unknown" { n == 0 } else { n > 0 }), "{quarter:?}");

    let db = TestDb::new(pg, name).await;
    triaged(&db, &all);
    let out = data_return(&db, &["--json"]);
    assert!(out.status.success(), "data-return: {}", String::from_utf8_lossy(&out.stderr));
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got, expected, "the return against the count by hand");
    // The contract's keys, in its order.
    let first: Vec<&str> = got["meetings"][0].as_object().unwrap().keys().map(String::as_str).collect();
    for k in ["meeting_date", "cases", "repeats", "police_referrals", "partner_referrals", "children"] {
        assert!(first.contains(&k), "{k} in {first:?}");
    }
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("{\n  \"quarter\": \"2025Q1\",\n  \"meetings\": [\n    {\n      \"meeting_date\": \"2025-01-14\",\n      \"cases\": "));

    // Without a format: a table for people, the same counts.
    let table = data_return(&db, &[]);
    let table = String::from_utf8(table.stdout).unwrap();
    let first = &expected["meetings"][0];
    assert!(table.starts_with("SafeLives MARAC data return, 2025Q1, Kingsmere\n2025-01-14\n"), "{table}");
    assert!(table.contains(&format!("\n  Cases discussed: {}\n  Repeat cases: {}\n", first["cases"], first["repeats"])), "{table}");
    assert!(table.contains("\nQuarter total\n  Cases discussed: 50\n"), "{table}");
    // The next quarter has the two referrals of March's end; a quarter not written as one is refused.
    let q2 = db.command(&["data-return", "--quarter", "2025Q2", "--json"]).output().unwrap();
    let q2: Value = serde_json::from_slice(&q2.stdout).unwrap();
    assert_eq!((q2["meetings"].as_array().unwrap().len(), &q2["meetings"][0]["cases"]), (1, &json!(2)), "{q2}");
    let bad = db.command(&["data-return", "--quarter", "2025Q5", "--json"]).output().unwrap();
    assert!(!bad.status.success() && String::from_utf8_lossy(&bad.stderr).contains("2025Q1"), "{}", String::from_utf8_lossy(&bad.stderr));
    let audited = db.rows("SELECT actor, object, detail FROM audit_log WHERE action = 'data_return.export' ORDER BY id").await;
    assert_eq!(audited.first().map(|r| r.join("|")), Some("cli|2025Q1|default json".to_owned()), "{audited:?}");
    assert_csv_and_xlsx(&db, &expected);
}

/// The CSV and the workbook give the same counts as the JSON, in the return's layout.
fn assert_csv_and_xlsx(db: &TestDb, expected: &Value) {
    use calamine::{Data, Reader, Xlsx};
    let keys = marac_intake::data_return::COLUMNS;
    let meetings = expected["meetings"].as_array().unwrap();
    // The CSV gives the meeting's date in UK form (14/01/2025); the JSON in ISO form.
    let uk = |d: &str| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap().format("%d/%m/%Y").to_string();
    let row_of = |m: &Value| -> Vec<String> { keys.iter().map(|(_, k)| m[*k].as_str().map(uk).unwrap_or_else(|| m[*k].to_string())).collect() };
    let total: Vec<u64> = keys.iter().skip(1).map(|(_, k)| meetings.iter().map(|m| m[*k].as_u64().unwrap()).sum()).collect();

    let out = data_return(db, &["--csv"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let csv = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines[0], keys.iter().map(|(t, _)| *t).collect::<Vec<_>>().join(","));
    assert_eq!(lines.len(), meetings.len() + 2, "{csv}");
    for (line, m) in lines[1..].iter().zip(meetings) {
        assert_eq!(*line, row_of(m).join(","));
    }
    assert_eq!(*lines.last().unwrap(), format!("Quarter total,{}", total.iter().map(u64::to_string).collect::<Vec<_>>().join(",")));

    let file = db.scratch.0.join("return.xlsx");
    let out = data_return(db, &["--xlsx", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let again = data_return(db, &["--xlsx", file.to_str().unwrap()]);
    assert!(!again.status.success(), "an existing file is not overwritten");
    let mut wb = Xlsx::new(std::io::Cursor::new(std::fs::read(&file).unwrap())).unwrap();
    let range = wb.worksheet_range("Data return 2025Q1").unwrap();
    let rows: Vec<&[Data]> = range.rows().collect();
    assert_eq!(rows[1].iter().map(|c| c.to_string()).collect::<Vec<_>>(), keys.iter().map(|(t, _)| t.to_string()).collect::<Vec<_>>());
    assert_eq!(rows.len(), 2 + meetings.len() + 1);
    for (row, m) in rows[2..].iter().zip(meetings) {
        let day = chrono::NaiveDate::parse_from_str(m["meeting_date"].as_str().unwrap(), "%Y-%m-%d").unwrap();
        match &row[0] {
            Data::DateTime(d) => assert_eq!(d.as_f64(), (day - chrono::NaiveDate::from_ymd_opt(1899, 12, 30).unwrap()).num_days() as f64),
            other => panic!("the meeting date is a date cell, not {other:?}"),
        }
        let counts: Vec<f64> = row[1..].iter().map(|c| if let Data::Float(f) = c { *f } else { panic!("{c:?}") }).collect();
        assert_eq!(counts, keys.iter().skip(1).map(|(_, k)| m[*k].as_u64().unwrap() as f64).collect::<Vec<_>>());
    }
    let last = rows.last().unwrap();
    assert_eq!(last[0], Data::String("Quarter total".into()));
    assert_eq!(last[1..].iter().map(|c| if let Data::Float(f) = c { *f as u64 } else { u64::MAX }).collect::<Vec<_>>(), total);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_referrals_give_the_data_return_counted_by_hand() {
    fifty_referrals_match_a_count_by_hand_on(None, "data-return-50").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_referrals_give_the_data_return_counted_by_hand_on_postgresql() {
    let Some(pg) = postgres::Postgres::start("data-return") else { return };
    fifty_referrals_match_a_count_by_hand_on(Some(&pg), "data_return_50").await;
}

/// The page and its exports over HTTP: a session needed, the counts shown per meeting with the
/// quarter's total, a bad quarter refused, every view and export audited, a restricted case
/// left out of the counts of a user it is closed to.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_return_page_shows_the_counts_and_its_exports_are_audited() {
    use crate::web::{http, sign_in};
    let all = referrals();
    let expected = by_hand(&all);
    let db = TestDb::new(None, "data-return-page").await;
    triaged(&db, &all);
    let store = db.open().await;
    let hash = marac_intake::web::auth::hash_password(crate::support::web_fixture::PASSWORD).unwrap();
    store.add_user("coord", Role::Coordinator, &hash, Some(totp::SECRET), "2026-02-01T12:00:00.000Z").await.unwrap();
    let (_, cfg) = crate::support::web_fixture::samples_config();
    let opts = marac_intake::web::WebOptions { listen: "127.0.0.1:0".parse().unwrap(), tls: None, trust_forwarded_for: false };
    let stop = tokio_util::sync::CancellationToken::new();
    let (url, task) = marac_intake::web::start(std::sync::Arc::new(cfg), store.clone(), &opts, marac_intake::clock::Clock::system(), stop.clone()).await.unwrap();
    let addr = url.strip_prefix("http://").unwrap().to_owned();

    let anonymous = http(&addr, "GET", "/data-return?quarter=2025Q1", None, None).await;
    assert_eq!((anonymous.status, anonymous.header("location")), (303, Some("/login")));
    assert_eq!(http(&addr, "GET", "/data-return.csv?quarter=2025Q1", None, None).await.status, 303);
    let coord = sign_in(&addr, "coord", crate::support::web_fixture::PASSWORD).await.unwrap_or_else(|r| panic!("sign-in: {}", r.status));

    let meetings_page = http(&addr, "GET", "/meetings", Some(&coord), None).await;
    assert!(meetings_page.body.contains("href=\"/data-return\""), "the meetings page links to the return");
    let page = http(&addr, "GET", "/data-return?quarter=2025Q1", Some(&coord), None).await;
    assert_eq!(page.status, 200, "{}", page.body);
    for m in expected["meetings"].as_array().unwrap() {
        let date = m["meeting_date"].as_str().unwrap();
        let row = page.body.split(&format!("<tr data-meeting=\"{date}\">")).nth(1).and_then(|r| r.split("</tr>").next()).unwrap_or_else(|| panic!("a row for {date}"));
        for (_, key) in marac_intake::data_return::COLUMNS.iter().skip(1) {
            let cell = format!("<td data-column=\"{key}\">{}</td>", m[*key]);
            assert!(row.contains(&cell), "{date}: {cell} in {row}");
        }
    }
    let total = page.body.split("<tr class=\"total\" data-meeting=\"total\">").nth(1).and_then(|r| r.split("</tr>").next()).expect("the quarter's total");
    assert!(total.contains("<td data-column=\"cases\">50</td>"), "{total}");
    assert!(page.body.contains("href=\"/data-return?quarter=2024Q4\"") && page.body.contains("href=\"/data-return?quarter=2025Q2\""));
    let csv = http(&addr, "GET", "/data-return.csv?quarter=2025Q1", Some(&coord), None).await;
    assert_eq!((csv.status, csv.header("content-type")), (200, Some("text/csv; charset=utf-8")));
    assert!(csv.body.starts_with("Meeting date,Cases discussed,") && csv.body.contains("\r\nQuarter total,50,"), "{}", csv.body);
    let xlsx = http(&addr, "GET", "/data-return.xlsx?quarter=2025Q1", Some(&coord), None).await;
    assert_eq!(xlsx.status, 200);
    assert!(xlsx.bytes.starts_with(b"PK"), "a workbook");
    let bad = http(&addr, "GET", "/data-return?quarter=2025Q9", Some(&coord), None).await;
    assert_eq!(bad.status, 400);
    let elsewhere = http(&addr, "GET", "/data-return?quarter=2025Q1&area=nowhere", Some(&coord), None).await;
    assert_eq!(elsewhere.status, 404);
    let empty = http(&addr, "GET", "/data-return?quarter=2023Q3", Some(&coord), None).await;
    assert!(empty.status == 200 && empty.body.contains("No cases were listed"), "{}", empty.body);

    let audited = db.rows("SELECT actor, action, object, detail FROM audit_log WHERE action LIKE 'data_return.%' ORDER BY id").await;
    let audited: Vec<String> = audited.iter().map(|r| r.join("|")).collect();
    assert_eq!(
        audited,
        [
            "coord|data_return.view|2025Q1|default",
            "coord|data_return.export|2025Q1|default csv",
            "coord|data_return.export|2025Q1|default xlsx",
            "coord|data_return.view|2023Q3|default",
        ]
    );

    // A case restricted to another coordinator: left out of this one's counts (as the meetings'
    // counts leave it out), counted for the one named.
    store.add_user("named", Role::Coordinator, &hash, Some(totp::SECRET), "2026-02-01T12:00:00.000Z").await.unwrap();
    let case = db.rows("SELECT ref FROM cases WHERE meeting_date = '2025-01-14' AND source = 'email' ORDER BY id").await[0][0].clone();
    let audit = marac_intake::store::accounts::Audit { at: "2026-02-01T12:00:00.000Z", actor: "boss", action: "case.restrict", object: Some(&case), client: None, detail: None };
    assert!(store.restrict_case(&case, &["named".to_owned()], &audit).await.unwrap().is_ok());
    let january = expected["meetings"][0]["cases"].as_u64().unwrap();
    let cases_shown = |body: &str, meeting: &str| -> String {
        let row = body.split(&format!("data-meeting=\"{meeting}\">")).nth(1).and_then(|r| r.split("</tr>").next()).unwrap_or_default();
        row.split("<td data-column=\"cases\">").nth(1).and_then(|c| c.split('<').next()).unwrap_or_default().to_owned()
    };
    let page = http(&addr, "GET", "/data-return?quarter=2025Q1", Some(&coord), None).await;
    assert_eq!((cases_shown(&page.body, "2025-01-14"), cases_shown(&page.body, "total")), ((january - 1).to_string(), "49".to_owned()));
    let named = sign_in(&addr, "named", crate::support::web_fixture::PASSWORD).await.unwrap_or_else(|r| panic!("sign-in: {}", r.status));
    let page = http(&addr, "GET", "/data-return?quarter=2025Q1", Some(&named), None).await;
    assert_eq!((cases_shown(&page.body, "2025-01-14"), cases_shown(&page.body, "total")), (january.to_string(), "50".to_owned()));
    stop.cancel();
    task.await.unwrap().unwrap();
}

/// The return in Chromium, from the meetings page: the table matches the count by hand, cell by
/// cell (screenshot `docs/data-return.png` with `UPDATE_SCREENSHOTS=1`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_return_in_chromium_matches_the_count_by_hand() {
    use crate::web_browser::{coordinator_signed_in, path_of, screenshot, wait_for, SignedIn};
    use fantoccini::Locator;
    let scratch = crate::support::Scratch::new("data-return-browser");
    std::fs::create_dir_all(scratch.0.join("profile")).unwrap();
    let db = format!("sqlite://{}/t.db", scratch.0.display());
    let (config, _) = crate::support::web_fixture::samples_config();
    let cmd = |args: &[&str]| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_marac-intake"));
        c.args(args).arg("--config").arg(&config).args(["--db", &db]);
        c
    };
    let all = referrals();
    let expected = by_hand(&all);
    triaged_by(&cmd, &scratch.0, &all);
    let SignedIn { c, base, server: _server, driver: _driver } = coordinator_signed_in(&scratch.0, &config, &db).await;
    c.goto(&format!("{base}/meetings")).await.unwrap();
    c.find(Locator::Css("a[href='/data-return']")).await.unwrap().click().await.unwrap();
    wait_for(&c, "h1").await;
    assert_eq!(path_of(&c).await, "/data-return");
    c.goto(&format!("{base}/data-return?quarter=2025Q1")).await.unwrap();
    wait_for(&c, "table.data-return").await;
    let heading = c.find(Locator::Css("h1")).await.unwrap().text().await.unwrap();
    assert_eq!(heading, "SafeLives data return, 2025Q1");
    let meetings = expected["meetings"].as_array().unwrap();
    let rows = c.find_all(Locator::Css("table.data-return tbody tr")).await.unwrap();
    assert_eq!(rows.len(), meetings.len() + 1, "a row per meeting and the total");
    for m in meetings {
        let date = m["meeting_date"].as_str().unwrap();
        for (_, key) in marac_intake::data_return::COLUMNS.iter().skip(1) {
            let cell = c.find(Locator::Css(&format!("tr[data-meeting='{date}'] td[data-column='{key}']"))).await.unwrap().text().await.unwrap();
            assert_eq!(cell, m[*key].to_string(), "{date} {key}");
        }
    }
    for (_, key) in marac_intake::data_return::COLUMNS.iter().skip(1) {
        let total: u64 = meetings.iter().map(|m| m[*key].as_u64().unwrap()).sum();
        let cell = c.find(Locator::Css(&format!("tr[data-meeting='total'] td[data-column='{key}']"))).await.unwrap().text().await.unwrap();
        assert_eq!(cell, total.to_string(), "total {key}");
    }
    screenshot("data-return.png", &c.screenshot().await.unwrap(), &scratch.0);
    c.close().await.unwrap();
}

/// With several areas the return is one area's, named with `--area` (as `import-history`
/// takes it): each area's counts from its own cases only; no area, or one not configured, is
/// refused with the areas named.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_several_areas_the_return_is_the_named_areas() {
    let db = TestDb::new(None, "data-return-areas").await;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = db.scratch.0.join("areas.toml");
    std::fs::write(&config, std::fs::read_to_string(root.join("config/samples.toml")).unwrap() + crate::web::TWO_AREAS).unwrap();
    let cmd = |args: &[&str]| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_marac-intake"));
        c.args(args).arg("--config").arg(&config).args(["--db", &db.url]);
        c.envs(db.key_env());
        c
    };
    // Twelve referrals of the quarter, alternately to North and South; none referred before.
    let mut all: Vec<(ReturnReferral, Truth)> = referrals().into_iter().take(12).collect();
    for (_, t) in &mut all {
        t.repeat = false;
    }
    let north = |n: u32| n % 2 == 0;
    let mut files = Vec::new();
    for (r, _) in &all {
        let to = if north(r.n) { "north-marac@marac.example.test" } else { "south-marac@marac.example.test" };
        let text = String::from_utf8(r.eml()).unwrap();
        assert!(text.contains("\r\nTo: "));
        let sent: String = text.split("\r\n").map(|l| if l.starts_with("To: ") { format!("To: MARAC <{to}>") } else { l.to_owned() }).collect::<Vec<_>>().join("\r\n");
        let f = db.scratch.0.join(format!("{:03}.eml", r.n));
        std::fs::write(&f, sent).unwrap();
        files.push(f.display().to_string());
    }
    let mut args = vec!["triage", "--json"];
    args.extend(files.iter().map(String::as_str));
    let out = cmd(&args).output().unwrap();
    assert!(out.status.success(), "triage: {}", String::from_utf8_lossy(&out.stderr));
    for (line, (r, _)) in String::from_utf8_lossy(&out.stdout).lines().zip(&all) {
        let line: Value = serde_json::from_str(line).unwrap();
        assert_eq!((line["outcome"].as_str(), line["area"].as_str()), (Some("accepted"), Some(if north(r.n) { "north" } else { "south" })), "{line}");
    }
    for (area, mine) in [("north", true), ("south", false)] {
        let out = cmd(&["data-return", "--quarter", "2025Q1", "--area", area, "--json"]).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let got: Value = serde_json::from_slice(&out.stdout).unwrap();
        let theirs: Vec<(ReturnReferral, Truth)> = referrals().into_iter().take(12).filter(|(r, _)| north(r.n) == mine).map(|(r, mut t)| { t.repeat = false; (r, t) }).collect();
        assert_eq!(theirs.len(), 6);
        assert_eq!(got, by_hand(&theirs), "{area}");
    }
    let none = cmd(&["data-return", "--quarter", "2025Q1", "--json"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&none.stderr);
    assert!(!none.status.success() && stderr.contains("--area") && stderr.contains("north, south"), "{stderr}");
    let unknown = cmd(&["data-return", "--quarter", "2025Q1", "--area", "east", "--json"]).output().unwrap();
    assert!(!unknown.status.success() && String::from_utf8_lossy(&unknown.stderr).contains("no area \"east\""));
}
