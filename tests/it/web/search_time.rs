//! Issue 16, items 3 to 5, over HTTP against the real server on the triaged fixtures:
//! - finding a person by date of birth (UK and ISO forms), reference, police reference,
//!   postcode and a misspelt name, each result saying why; `/search.json`'s shape; every search
//!   audited without its query; a restricted case not found by a coordinator it is closed to;
//! - UK local time on the pages (a GMT and a BST arrival) while JSON keeps UTC;
//! - the pending list over 200 cases, every one on one of its pages;
//! - irreversible actions done only when confirmed, and reopen, undo heard and undo merge, each
//!   audited.
//!
//! The Chromium test of a search: `tests/it/web_browser/search.rs`.

use super::{csrf_in, enc, http, sign_in, Served};
use crate::support::web_fixture::PASSWORD;
use marac_intake::store::accounts::{Audit, AuditFilter};
use marac_intake::store::Store;
use serde_json::Value;
use sqlx::Row;

/// A case of the fixtures that opened with its message, with a victim born on a known day:
/// (case, person, name, date of birth, message).
struct Known {
    case: String,
    person: String,
    name: String,
    dob: String,
    message: String,
}

async fn known_cases(store: &Store) -> Vec<Known> {
    let rows = sqlx::query(
        "SELECT c.ref AS cref, p.ref AS pref, p.name, p.dob, m.ref AS mref FROM cases c JOIN people p ON p.id = c.person_id \
         JOIN messages m ON m.case_id = c.id WHERE p.dob IS NOT NULL AND p.name NOT LIKE '(%' AND m.case_kind = 'new' AND c.status = 'pending' ORDER BY c.id",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    rows.iter()
        .map(|r| Known { case: r.try_get("cref").unwrap(), person: r.try_get("pref").unwrap(), name: r.try_get("name").unwrap(), dob: r.try_get("dob").unwrap(), message: r.try_get("mref").unwrap() })
        .collect()
}

/// A referral field as the reader took it from the form of message `reference`.
async fn field_read(store: &Store, reference: &str, key: &str) -> String {
    let json: String = sqlx::query_scalar("SELECT inspection FROM messages WHERE ref = $1").bind(reference).fetch_one(store.pool()).await.unwrap();
    let v: Value = serde_json::from_str(&json).unwrap();
    v["referral"]["fields"][key].as_str().unwrap_or_else(|| panic!("{reference}: no {key} read")).to_owned()
}

async fn search_json(a: &str, cookie: &str, q: &str) -> Vec<Value> {
    let r = http(a, "GET", &format!("/search.json?q={}", enc(q)), Some(cookie), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.header("content-type").is_some_and(|c| c.starts_with("application/json")));
    let v: Value = serde_json::from_str(&r.body).unwrap();
    v.as_array().expect("a JSON list").clone()
}

/// The result for `case`, if any.
fn hit<'a>(hits: &'a [Value], case: &str) -> Option<&'a Value> {
    hits.iter().find(|h| h["case_ref"] == case)
}

/// A name misspelt as a typist would: two neighbouring letters of its longest word swapped.
fn misspelt(name: &str) -> String {
    let longest = name.split_whitespace().max_by_key(|w| w.len()).unwrap();
    assert!(longest.len() >= 5, "a word long enough to misspell: {name}");
    let mut chars: Vec<char> = longest.chars().collect();
    let at = (1..chars.len() - 1).find(|&i| chars[i].to_lowercase().ne(chars[i + 1].to_lowercase())).expect("two different neighbours");
    chars.swap(at, at + 1);
    let wrong: String = chars.iter().collect();
    assert_ne!(wrong.to_lowercase(), longest.to_lowercase(), "the swap changed the word");
    name.replacen(longest, &wrong, 1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_is_found_by_date_of_birth_reference_police_reference_postcode_and_a_misspelt_name() {
    search_on(Served::start("marac-search").await).await
}

/// The same, the store on PostgreSQL (skipped, saying so, where it is not installed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_is_found_the_same_way_on_postgresql() {
    let Some(pg) = crate::support::postgres::Postgres::start("web-search") else { return };
    search_on(Served::start_on_postgres("marac-search-pg", &pg).await).await
}

async fn search_on(served: Served) {
    let (store, a) = (served.store.clone(), served.addr.clone());
    let a = a.as_str();
    let known = known_cases(&store).await;
    let k = known.iter().find(|k| k.name.split_whitespace().any(|w| w.len() >= 5)).expect("a pending case whose victim has a long name");
    let coord = sign_in(a, "coord", PASSWORD).await.unwrap_or_else(|r| panic!("sign-in refused: {}", r.status));
    let searches_before = store.audit_search(&AuditFilter { action: Some("search".into()), ..Default::default() }, 1000).await.unwrap().len();

    // The JSON is a list of objects with the contract's keys.
    let (y, m, d) = (&k.dob[..4], &k.dob[5..7], &k.dob[8..10]);
    let uk_dob = format!("{d}/{m}/{y}");
    let hits = search_json(a, &coord, &uk_dob).await;
    assert!(!hits.is_empty());
    for h in &hits {
        assert!(h["case_ref"].is_string() || h["message_ref"].is_string(), "{h}");
        assert!(h.get("victim_ref").is_some() && h["why"].as_str().is_some_and(|w| !w.is_empty()), "{h}");
    }
    // By date of birth, in the UK form and in ISO.
    let h = hit(&hits, &k.case).unwrap_or_else(|| panic!("{} by its date of birth: {hits:?}", k.case));
    assert_eq!(h["victim_ref"], k.person.as_str());
    assert!(h["why"].as_str().unwrap().contains("date of birth"), "{h}");
    assert!(hits.iter().filter(|h| h["case_ref"].is_string()).all(|h| h["victim_dob"] == k.dob.as_str()), "only that birthday: {hits:?}");
    let iso = search_json(a, &coord, &k.dob).await;
    assert!(hit(&iso, &k.case).is_some_and(|h| h["why"].as_str().unwrap().contains("date of birth")));

    // By our references: the message's, the case's, the victim record's.
    for (q, why) in [(&k.message, "message reference"), (&k.case, "case reference"), (&k.person, "victim reference")] {
        let hits = search_json(a, &coord, &q.to_lowercase()).await;
        let h = hit(&hits, &k.case).unwrap_or_else(|| panic!("{q}: {hits:?}"));
        assert!(h["why"].as_str().unwrap().contains(why), "{q}: {h}");
        assert_eq!(hits[0]["why"].as_str().map(|w| w.contains("reference")), Some(true), "a reference comes first");
    }

    // By the form's police reference and the victim's postcode (whole, or its district), as the
    // reader took them from the form, typed another way.
    let police = field_read(&store, &k.message, "police_reference").await;
    let postcode = field_read(&store, &k.message, "victim.postcode").await;
    let typed_police = police.to_lowercase().replace(['-', '/'], " ");
    let hits = search_json(a, &coord, &typed_police).await;
    assert_eq!(hits.len(), 1, "{police} typed {typed_police}: {hits:?}");
    assert_eq!((hits[0]["case_ref"].as_str(), hits[0]["why"].as_str()), (Some(k.case.as_str()), Some("police reference")));
    let typed_postcode = postcode.to_lowercase().replace(' ', "");
    let hits = search_json(a, &coord, &typed_postcode).await;
    assert!(hit(&hits, &k.case).is_some_and(|h| h["why"] == "victim's postcode"), "{postcode}: {hits:?}");
    let district = postcode.split_whitespace().next().unwrap();
    let hits = search_json(a, &coord, district).await;
    assert!(hit(&hits, &k.case).is_some_and(|h| h["why"] == "victim's postcode district"), "{district}: {hits:?}");
    assert!(search_json(a, &coord, "KM4 7QQ").await.is_empty(), "another postcode finds nothing");

    // By a misspelt name (two letters swapped), on the page too, saying why.
    let wrong = misspelt(&k.name);
    let hits = search_json(a, &coord, &wrong).await;
    let h = hit(&hits, &k.case).unwrap_or_else(|| panic!("the misspelt name finds {}: {hits:?}", k.case));
    assert!(h["why"].as_str().unwrap().contains("close spelling"), "{h}");
    let page = http(a, "GET", &format!("/search?q={}", enc(&wrong)), Some(&coord), None).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(&format!("href=\"/case/{}\"", k.case)) && page.body.contains("close spelling of what was typed"), "{}", page.body);
    assert!(page.body.contains("name=\"q\" value=\""), "the search box in the page");
    assert!(search_json(a, &coord, "Zebedee Quixotic-Marchbanks").await.is_empty(), "an unknown name finds nothing");

    // Every search was audited: by whom, what the query was read as and how many were found;
    // never the query itself.
    let searches = store.audit_search(&AuditFilter { action: Some("search".into()), ..Default::default() }, 1000).await.unwrap();
    assert_eq!(searches.len() - searches_before, 12, "one record a search");
    for e in &searches {
        assert_eq!(e.actor, "coord");
        let detail = e.detail.as_deref().unwrap();
        assert!(detail.contains("read as") && detail.contains("found"), "{detail}");
        for q in [uk_dob.as_str(), k.dob.as_str(), wrong.as_str(), &police, &typed_police, &typed_postcode, &k.message] {
            assert!(!detail.to_lowercase().contains(&q.to_lowercase()), "the query is not in the audit record: {detail}");
        }
    }
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_search_never_finds_a_restricted_case_closed_to_the_user() {
    let served = Served::start("marac-search-restricted").await;
    let (store, a) = (served.store.clone(), served.addr.clone());
    let a = a.as_str();
    let known = known_cases(&store).await;
    let k = &known[0];
    let police = field_read(&store, &k.message, "police_reference").await;
    let audit = Audit { at: "2026-02-01T12:00:00.000Z", actor: "boss", action: "case.restrict", object: Some(&k.case), client: None, detail: None };
    store.restrict_case(&k.case, &["boss".to_owned()], &audit).await.unwrap().unwrap();

    let coord = sign_in(a, "coord", PASSWORD).await.unwrap_or_else(|r| panic!("sign-in refused: {}", r.status));
    let boss = sign_in(a, "boss", PASSWORD).await.unwrap_or_else(|r| panic!("sign-in refused: {}", r.status));
    for q in [k.case.as_str(), k.message.as_str(), k.dob.as_str(), k.name.as_str(), police.as_str()] {
        let hits = search_json(a, &coord, q).await;
        assert!(hit(&hits, &k.case).is_none(), "{q}: the restricted case is not found by coord: {hits:?}");
        let page = http(a, "GET", &format!("/search?q={}", enc(q)), Some(&coord), None).await.body;
        assert!(!page.contains(&format!("href=\"/case/{}\"", k.case)), "{q}: nor on the page");
        assert!(hit(&search_json(a, &boss, q).await, &k.case).is_some(), "{q}: the user it is open to finds it");
    }
    assert!(search_json(a, &coord, &police).await.is_empty(), "its police reference finds nothing at all");
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_show_uk_local_time_in_gmt_and_bst_while_json_stays_utc() {
    let served = Served::start("marac-uk-time").await;
    let (store, a) = (served.store.clone(), served.addr.clone());
    let a = a.as_str();
    let known = known_cases(&store).await;
    let (winter, summer) = (&known[0], &known[1]);
    for (k, at) in [(winter, "2025-01-14T10:02:00.000Z"), (summer, "2025-07-14T09:02:00.000Z")] {
        sqlx::query("UPDATE messages SET arrived_at = $1 WHERE ref = $2").bind(at).bind(&k.message).execute(store.pool()).await.unwrap();
    }
    let coord = sign_in(a, "coord", PASSWORD).await.unwrap_or_else(|r| panic!("sign-in refused: {}", r.status));
    let page = http(a, "GET", &format!("/case/{}", winter.message), Some(&coord), None).await.body;
    assert!(page.contains("arrived Tue 14 Jan 2025, 10:02"), "GMT: UTC as it is");
    let page = http(a, "GET", &format!("/case/{}", summer.message), Some(&coord), None).await.body;
    assert!(page.contains("arrived Mon 14 Jul 2025, 10:02"), "BST: an hour ahead of UTC");
    assert!(!page.contains("2025-07-14T09:02"), "no raw instant on the page");
    let queue = http(a, "GET", "/", Some(&coord), None).await.body;
    assert!(queue.contains("Mon 14 Jul 2025, 10:02") && queue.contains("Tue 14 Jan 2025, 10:02"), "the queue too");
    let json: Vec<Value> = serde_json::from_str(&http(a, "GET", "/queue.json", Some(&coord), None).await.body).unwrap();
    let arrived = |r: &str| json.iter().find(|m| m["reference"] == r).map(|m| m["arrived"].clone());
    assert_eq!(arrived(&summer.message), Some(Value::from("2025-07-14T09:02:00.000Z")), "JSON: ISO 8601 UTC");
    assert_eq!(arrived(&winter.message), Some(Value::from("2025-01-14T10:02:00.000Z")));
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_one_of_more_than_200_pending_cases_is_on_one_of_the_queue_pages() {
    let served = Served::start("marac-pages").await;
    let (store, a) = (served.store.clone(), served.addr.clone());
    let a = a.as_str();
    let known = known_cases(&store).await;
    let model = &known[0];
    let (row, area, meeting): (i64, String, Option<String>) = {
        let r = sqlx::query("SELECT m.id, c.area, c.meeting_date FROM messages m JOIN cases c ON c.id = m.case_id WHERE m.ref = $1").bind(&model.message).fetch_one(store.pool()).await.unwrap();
        (r.try_get("id").unwrap(), r.try_get("area").unwrap(), r.try_get("meeting_date").unwrap())
    };
    // 210 more pending cases, each of its own victim, copies of a real one.
    const MORE: usize = 210;
    for i in 0..MORE {
        let person: i64 = sqlx::query_scalar("INSERT INTO people (ref, name, name_key, dob, created_at, area) VALUES ($1, $2, $3, NULL, $4, $5) RETURNING id")
            .bind(format!("PX{i:05}"))
            .bind(format!("Paged Person {i}"))
            .bind(format!("paged person {i}"))
            .bind("2026-02-01T12:00:00.000Z")
            .bind(&area)
            .fetch_one(store.pool())
            .await
            .unwrap();
        let case: i64 = sqlx::query_scalar("INSERT INTO cases (ref, person_id, status, meeting_date, opened_at, source, area) VALUES ($1, $2, 'pending', $3, $4, 'email', $5) RETURNING id")
            .bind(format!("PX-CASE-{i:05}"))
            .bind(person)
            .bind(&meeting)
            .bind("2026-02-01T12:00:00.000Z")
            .bind(&area)
            .fetch_one(store.pool())
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO messages (ref, message_id, sha256, arrived_at, file, outcome, criteria, reasons, dash_yes, dash_no, dash_unknown, case_kind, case_id, person_id, \
             match_reason, reply_kind, reply_to, inspection, processed_at, area) \
             SELECT $1, NULL, $2, arrived_at, NULL, outcome, criteria, reasons, dash_yes, dash_no, dash_unknown, 'new', $3, $4, NULL, reply_kind, reply_to, inspection, processed_at, area \
             FROM messages WHERE id = $5",
        )
        .bind(format!("PX-IN-{i:05}"))
        .bind(format!("{i:064}"))
        .bind(case)
        .bind(person)
        .bind(row)
        .execute(store.pool())
        .await
        .unwrap();
    }
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages m JOIN cases c ON c.id = m.case_id WHERE m.case_kind = 'new' AND c.status = 'pending'").fetch_one(store.pool()).await.unwrap();
    assert!(total > 200 + 10);
    let coord = sign_in(a, "coord", PASSWORD).await.unwrap_or_else(|r| panic!("sign-in refused: {}", r.status));
    let pending_refs = |body: &str| -> Vec<String> {
        let table = body.split("aria-labelledby=\"meetings\"").nth(1).unwrap_or("").split("</table>").next().unwrap();
        table.split("data-ref=\"").skip(1).map(|s| s.split('"').next().unwrap().to_owned()).collect()
    };
    let first = http(a, "GET", "/?status=pending", Some(&coord), None).await.body;
    assert!(first.contains(&format!("Listed for meetings ({total})")), "the whole count");
    assert!(first.contains("rel=\"next\"") && first.contains("page=2\""), "a link to the next page");
    assert!(first.contains(&format!("1–200 of {total} shown")), "it says which are shown");
    let second = http(a, "GET", "/?status=pending&page=2", Some(&coord), None).await.body;
    assert!(second.contains("rel=\"prev\"") && !second.contains("rel=\"next\""), "the last page links back");
    let (one, two) = (pending_refs(&first), pending_refs(&second));
    assert_eq!(one.len(), 200);
    assert_eq!(two.len(), total as usize - 200);
    let mut all: Vec<String> = one.iter().chain(two.iter()).cloned().collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), total as usize, "each once, none left out");
    assert!((0..MORE).all(|i| all.contains(&format!("PX-IN-{i:05}"))));
    // A page past the end shows the last one; /queue.json keeps every one.
    assert_eq!(pending_refs(&http(a, "GET", "/?status=pending&page=9", Some(&coord), None).await.body), two);
    let json: Vec<Value> = serde_json::from_str(&http(a, "GET", "/queue.json", Some(&coord), None).await.body).unwrap();
    assert_eq!(json.iter().filter(|m| m["outcome"] == "accepted").count(), total as usize);
    served.stop().await;
}

/// The references listed in the table labelled `label` of a page.
fn refs_in(body: &str, label: &str) -> Vec<String> {
    let table = body.split(&format!("aria-labelledby=\"{label}\"")).nth(1).unwrap_or("").split("</table>").next().unwrap();
    table.split("data-ref=\"").skip(1).map(|s| s.split('"').next().unwrap().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_item_waiting_every_meeting_and_every_rule_version_is_on_one_of_its_pages() {
    let served = Served::start("marac-pages-more").await;
    let (store, a) = (served.store.clone(), served.addr.clone());
    let a = a.as_str();
    // 205 more review items and 201 more quarantined messages, copies of real ones.
    for (outcome, more, prefix) in [("review", 205usize, "PR"), ("quarantined", 201, "PQ")] {
        let model: i64 = sqlx::query_scalar("SELECT id FROM messages WHERE outcome = $1 AND case_id IS NULL ORDER BY id LIMIT 1").bind(outcome).fetch_one(store.pool()).await.unwrap();
        for i in 0..more {
            sqlx::query(
                "INSERT INTO messages (ref, message_id, sha256, arrived_at, file, outcome, criteria, reasons, dash_yes, dash_no, dash_unknown, case_kind, case_id, person_id, \
                 match_reason, reply_kind, reply_to, inspection, processed_at, area) \
                 SELECT $1, NULL, $2, arrived_at, NULL, outcome, criteria, reasons, dash_yes, dash_no, dash_unknown, case_kind, NULL, NULL, NULL, reply_kind, reply_to, inspection, processed_at, area \
                 FROM messages WHERE id = $3",
            )
            .bind(format!("{prefix}-IN-{i:05}"))
            .bind(format!("{prefix}{i:062}"))
            .bind(model)
            .execute(store.pool())
            .await
            .unwrap();
        }
    }
    let coord = sign_in(a, "coord", PASSWORD).await.unwrap_or_else(|r| panic!("sign-in refused: {}", r.status));
    for (outcome, label, param, heading) in [("review", "review", "review_page", "Needs a decision"), ("quarantined", "quarantine", "quarantine_page", "Quarantined")] {
        let total = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM messages WHERE outcome = $1").bind(outcome).fetch_one(store.pool()).await.unwrap() as usize;
        assert!(total > 200);
        let first = http(a, "GET", "/?agency=", Some(&coord), None).await.body;
        assert!(first.contains(&format!("{heading} ({total})")), "the whole count");
        assert!(first.contains(&format!("1–200 of {total} shown, oldest first")), "it says which are shown");
        assert!(first.contains(&format!("{param}=2\"")), "a link to the next page");
        let second = http(a, "GET", &format!("/?{param}=2"), Some(&coord), None).await.body;
        let (one, two) = (refs_in(&first, label), refs_in(&second, label));
        assert_eq!((one.len(), two.len()), (200, total - 200), "{label}");
        let mut all: Vec<String> = one.iter().chain(two.iter()).cloned().collect();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), total, "each once, none left out");
        assert_eq!(refs_in(&http(a, "GET", &format!("/?{param}=7"), Some(&coord), None).await.body, label), two, "past the end: the last page");
    }
    // Each list's links keep the page the others are on.
    let both = http(a, "GET", "/?quarantine_page=2", Some(&coord), None).await.body;
    assert!(both.contains("?review_page=2&amp;quarantine_page=2\" rel=\"next\""), "{}", both.split("id=\"review\"").nth(1).unwrap_or(""));

    // 120 past meetings with a case still open: the meetings page opens on the next meeting's
    // page and the earlier ones are a page back.
    let area: String = sqlx::query_scalar("SELECT area FROM cases ORDER BY id LIMIT 1").fetch_one(store.pool()).await.unwrap();
    let person: i64 = sqlx::query_scalar("INSERT INTO people (ref, name, name_key, dob, created_at, area) VALUES ('PM00001', 'Met Person', 'met person', NULL, $1, $2) RETURNING id")
        .bind("2020-01-01T12:00:00.000Z")
        .bind(&area)
        .fetch_one(store.pool())
        .await
        .unwrap();
    let first_meeting = chrono::NaiveDate::from_ymd_opt(2020, 1, 7).unwrap();
    for i in 0..120i64 {
        let day = first_meeting + chrono::Duration::weeks(i);
        sqlx::query("INSERT INTO cases (ref, person_id, status, meeting_date, opened_at, source, area) VALUES ($1, $2, 'heard', $3, $4, 'email', $5)")
            .bind(format!("PM-CASE-{i:05}"))
            .bind(person)
            .bind(day.to_string())
            .bind("2020-01-01T12:00:00.000Z")
            .bind(&area)
            .execute(store.pool())
            .await
            .unwrap();
    }
    let dates = |body: &str| -> Vec<String> { body.split("<tr data-date=\"").skip(1).map(|s| s.split('"').next().unwrap().to_owned()).collect() };
    let opened = http(a, "GET", "/meetings", Some(&coord), None).await.body;
    let today = chrono::Utc::now().date_naive().to_string();
    assert!(dates(&opened).iter().any(|d| *d >= today), "the page with the next meeting: {:?}", dates(&opened));
    assert!(opened.contains("rel=\"prev\"") && opened.contains("of ") && opened.contains("id=\"meetings-shown\""), "earlier meetings a page back");
    let earliest = http(a, "GET", "/meetings?page=1", Some(&coord), None).await.body;
    let shown = dates(&earliest);
    assert_eq!((shown.len(), shown.first().map(String::as_str)), (100, Some("2020-01-07")), "the earliest page, by date");
    let pages = opened.split("Page ").nth(1).and_then(|t| t.split(" of ").nth(1)).and_then(|t| t.split(' ').next()).and_then(|n| n.parse::<usize>().ok()).expect("the number of pages");
    let mut every = Vec::new();
    for n in 1..=pages {
        every.extend(dates(&http(a, "GET", &format!("/meetings?page={n}"), Some(&coord), None).await.body));
    }
    assert!((0..120).all(|i| every.contains(&(first_meeting + chrono::Duration::weeks(i)).to_string())), "every past meeting on one of the pages");

    // 55 versions of the threshold: 50 on the first page, newest first, the rest on the next;
    // the version in force named, and restoring offered for every older one on either page.
    for i in 0..55 {
        let base = store.rule_history("threshold", 1).await.unwrap().first().map_or(0, |v| v.id);
        let audit = Audit { at: "2026-12-01T10:00:00.000Z", actor: "boss", action: "rules.change", object: None, client: None, detail: None };
        store.change_rule("threshold", Some(&format!("dash_score = {}\n", 14 + i % 2)), base, "saved", audit).await.unwrap();
    }
    let boss = sign_in(a, "boss", PASSWORD).await.unwrap_or_else(|r| panic!("sign-in refused: {}", r.status));
    let versions = |body: &str| -> Vec<i64> { body.split("<tr data-version=\"").skip(1).map(|s| s.split('"').next().unwrap().parse().unwrap()).collect() };
    let page1 = http(a, "GET", "/admin/rules/threshold", Some(&boss), None).await.body;
    let page2 = http(a, "GET", "/admin/rules/threshold?page=2", Some(&boss), None).await.body;
    let (v1, v2) = (versions(&page1), versions(&page2));
    let newest = store.rule_history("threshold", 1).await.unwrap()[0].id;
    assert_eq!((v1.len(), v2.len(), v1[0]), (50, 5, newest));
    assert!(v1.windows(2).chain(v2.windows(2)).all(|w| w[0] > w[1]) && v1[49] > v2[0], "newest first across the pages");
    assert!(page1.contains("1–50 of 55 shown") && page1.contains("rel=\"next\""));
    for page in [&page1, &page2] {
        assert!(page.contains(&format!("In force: version {newest}")), "the version in force on every page");
    }
    assert!(!page1.contains(&format!("Restore version {newest}<")) && page1.contains(&format!("Restore version {}<", v1[1])));
    assert!(v2.iter().all(|v| page2.contains(&format!("Restore version {v}<"))), "the older versions can be restored from their page");
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn irreversible_actions_need_confirming_and_reopen_undo_heard_and_undo_merge_are_audited() {
    let served = Served::start("marac-safe-actions").await;
    let (store, a) = (served.store.clone(), served.addr.clone());
    let a = a.as_str();
    let known = known_cases(&store).await;
    let (k, other) = (&known[0], known.iter().find(|o| o.person != known[0].person).expect("two victims"));
    let coord = sign_in(a, "coord", PASSWORD).await.unwrap_or_else(|r| panic!("sign-in refused: {}", r.status));
    let page = http(a, "GET", &format!("/case/{}", k.case), Some(&coord), None).await.body;
    let token = csrf_in(&page);
    // The actions sit below the evidence.
    let (evidence, actions) = (page.find("<h2 id=\"replies\">").unwrap(), page.find("<h2 id=\"actions\">").unwrap());
    assert!(evidence < actions, "the actions come after the evidence");
    assert!(page[actions..].contains("name=\"confirm\" value=\"yes\" required"), "a required confirmation");
    let post = async |path: String, form: &str| http(a, "POST", &path, Some(&coord), Some(&format!("csrf={token}&{form}"))).await;
    let status = async |case: &str| -> String { sqlx::query_scalar("SELECT status FROM cases WHERE ref = $1").bind(case).fetch_one(store.pool()).await.unwrap() };
    let person_of = async |case: &str| -> String { sqlx::query_scalar("SELECT p.ref FROM cases c JOIN people p ON p.id = c.person_id WHERE c.ref = $1").bind(case).fetch_one(store.pool()).await.unwrap() };
    let audited = async |action: &str| store.audit_search(&AuditFilter { action: Some(action.into()), ..Default::default() }, 10).await.unwrap();

    // One click without the confirmation does nothing: the server asks again.
    let merge = format!("action=merge&other={}", other.person);
    for (path, form) in [("status", "action=heard"), ("status", "action=close"), ("status", "action=heard&confirm=no"), ("person", merge.as_str()), ("person", "action=split")] {
        let r = post(format!("/case/{}/{path}", k.case), form).await;
        assert_eq!(r.status, 200, "{form}");
        assert!(r.body.contains("<h1>Confirm:") && r.body.contains("name=\"confirm\" value=\"yes\" required"), "{form}: {}", r.body);
    }
    assert_eq!(status(&k.case).await, "pending");
    assert_eq!(person_of(&other.case).await, other.person, "not merged");
    assert!(audited("case.heard").await.is_empty() && audited("case.close").await.is_empty() && audited("person.merge").await.is_empty());

    // Heard, then undone; closed, then reopened: each audited.
    assert_eq!(post(format!("/case/{}/status", k.case), "action=heard&confirm=yes").await.status, 303);
    assert_eq!(status(&k.case).await, "heard");
    let page = http(a, "GET", &format!("/case/{}", k.case), Some(&coord), None).await.body;
    assert!(page.contains("value=\"unheard\""), "undo heard offered");
    assert_eq!(post(format!("/case/{}/status", k.case), "action=unheard").await.status, 303);
    assert_eq!(status(&k.case).await, "pending");
    assert_eq!(post(format!("/case/{}/status", k.case), "action=unheard").await.status, 409, "a pending case is not heard");
    assert_eq!(post(format!("/case/{}/status", k.case), "action=close&confirm=yes").await.status, 303);
    assert_eq!(status(&k.case).await, "closed");
    assert_eq!(post(format!("/case/{}/status", k.case), "action=reopen").await.status, 303);
    assert_eq!(status(&k.case).await, "pending");
    let unheard = audited("case.unheard").await;
    let reopened = audited("case.reopen").await;
    assert_eq!((unheard.len(), unheard[0].object.as_deref(), unheard[0].actor.as_str(), unheard[0].detail.as_deref()), (1, Some(k.case.as_str()), "coord", Some("heard -> pending")));
    assert_eq!((reopened.len(), reopened[0].object.as_deref(), reopened[0].detail.as_deref()), (1, Some(k.case.as_str()), Some("closed -> pending")));

    // The merge form offers what a search for the other victim finds.
    let page = http(a, "GET", &format!("/case/{}?find={}", k.case, enc(&other.name)), Some(&coord), None).await.body;
    assert!(page.contains(&format!("name=\"other\" value=\"{}\"", other.person)), "the other record is offered: {page}");
    // Merged, then split back: every case where it was, each audited.
    let others_cases: Vec<String> = sqlx::query_scalar("SELECT c.ref FROM cases c JOIN people p ON p.id = c.person_id WHERE p.ref = $1 ORDER BY c.ref").bind(&other.person).fetch_all(store.pool()).await.unwrap();
    let mine: Vec<String> = sqlx::query_scalar("SELECT c.ref FROM cases c JOIN people p ON p.id = c.person_id WHERE p.ref = $1 ORDER BY c.ref").bind(&k.person).fetch_all(store.pool()).await.unwrap();
    assert_eq!(post(format!("/case/{}/person", k.case), &format!("action=merge&other={}&confirm=yes", other.person)).await.status, 303);
    let kept = std::cmp::min(k.person.clone(), other.person.clone());
    assert_eq!(person_of(&other.case).await, kept);
    assert_eq!(person_of(&k.case).await, kept);
    let page = http(a, "GET", &format!("/case/{}", k.case), Some(&coord), None).await.body;
    let merge_id = page.split("name=\"merge\" value=\"").nth(1).expect("undo offered").split('"').next().unwrap().to_owned();
    assert_eq!(post(format!("/case/{}/person", k.case), "action=unmerge&merge=999999").await.status, 409, "no such merge");
    assert_eq!(post(format!("/case/{}/person", k.case), &format!("action=unmerge&merge={merge_id}")).await.status, 303);
    for c in &others_cases {
        assert_eq!(person_of(c).await, other.person, "{c} is the other record's again");
    }
    for c in &mine {
        assert_eq!(person_of(c).await, k.person, "{c} stays");
    }
    assert_eq!(post(format!("/case/{}/person", k.case), &format!("action=unmerge&merge={merge_id}")).await.status, 409, "undone once");
    let unmerged = audited("person.unmerge").await;
    let (emptied, kept_ref) = if kept == k.person { (&other.person, &k.person) } else { (&k.person, &other.person) };
    assert_eq!((unmerged.len(), unmerged[0].object.as_deref(), unmerged[0].detail.clone()), (1, Some(k.case.as_str()), Some(format!("{emptied} out of {kept_ref}"))));
    assert_eq!(audited("person.merge").await.len(), 1);

    // Discarding a quarantined message needs confirming too.
    let held: String = sqlx::query_scalar("SELECT ref FROM messages WHERE outcome = 'quarantined' ORDER BY id LIMIT 1").fetch_one(store.pool()).await.unwrap();
    let r = post(format!("/case/{held}/quarantine"), "action=discard").await;
    assert!(r.status == 200 && r.body.contains("<h1>Confirm:"), "{}", r.body);
    let outcome: String = sqlx::query_scalar("SELECT outcome FROM messages WHERE ref = $1").bind(&held).fetch_one(store.pool()).await.unwrap();
    assert_eq!(outcome, "quarantined");
    assert_eq!(post(format!("/case/{held}/quarantine"), "action=discard&confirm=yes").await.status, 303);
    served.stop().await;
}
