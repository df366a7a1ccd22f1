//! Access by area (issue 14), over HTTP against the real server: two areas, North and South (the
//! samples' configuration with `crate::areas::AREAS` laid over it), each with an accepted case, a
//! review item and a quarantined message; a referral whose area could not be told; a coordinator
//! of each area, an admin of North's, and the deployment's admin.
//! - every route that takes an id answers South's coordinator 404 for North's (existing) ids, as
//!   for an id that does not exist, while North's coordinator gets the page (so the 404 is the
//!   area's doing);
//! - the list pages (queue, queue.json, meetings, a meeting and its agendas, the audit log) hold
//!   none of the other area's references;
//! - an admin of North's is refused the deployment's pages (users, rules) and gets 404 for South's
//!   subjects and cases; the deployment's admin sees both areas;
//! - the referral whose area could not be told is in both coordinators' queues, cannot be
//!   accepted before it is placed, and once South's coordinator places it in South it is South's.

use super::{csrf_in, http, sign_in};
use crate::areas::{config, sent_to};
use crate::support::{totp, web_fixture::PASSWORD, Scratch};
use marac_intake::decide::Outcome;
use marac_intake::store::accounts::Role;
use marac_intake::store::{MessageRecord, Store};
use marac_intake::web::{self, auth, WebOptions};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// One area's records: its accepted referral (with its case and person), review item and
/// quarantined message.
struct AreaRecords {
    accepted: MessageRecord,
    review: MessageRecord,
    quarantined: MessageRecord,
}

impl AreaRecords {
    fn case(&self) -> &str {
        self.accepted.case_ref.as_deref().expect("a case")
    }
    fn person(&self) -> &str {
        self.accepted.victim_ref.as_deref().expect("a person")
    }
    /// Every reference of the area, as the pages would show it.
    fn references(&self) -> Vec<&str> {
        vec![&self.accepted.reference, self.case(), self.person(), &self.review.reference, &self.quarantined.reference]
    }
}

async fn triage(store: &Store, cfg: &marac_intake::config::Config, file: &str, to: &str, n: u32) -> MessageRecord {
    let now = chrono::DateTime::parse_from_rfc3339("2026-02-01T12:00:00Z").unwrap();
    marac_intake::triage::triage_message(&sent_to(file, to, n), Some(file), None, now, cfg, store).await.expect("triage")
}

async fn area(store: &Store, cfg: &marac_intake::config::Config, to: &str, base: u32, accepted: &str) -> AreaRecords {
    let records = AreaRecords {
        accepted: triage(store, cfg, accepted, to, base).await,
        review: triage(store, cfg, "041_police_encrypted_dash_review.eml", to, base + 1).await,
        quarantined: triage(store, cfg, "035_lookalike_suffix_domain_quarantined.eml", to, base + 2).await,
    };
    assert_eq!(records.accepted.outcome, Outcome::Accepted, "{:?}", records.accepted.reasons);
    assert_eq!(records.review.outcome, Outcome::Review, "{:?}", records.review.reasons);
    assert_eq!(records.quarantined.outcome, Outcome::Quarantined, "{:?}", records.quarantined.reasons);
    records
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_user_sees_only_their_areas_on_every_route() {
    every_route(None).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_user_sees_only_their_areas_on_every_route_on_postgresql() {
    let Some(pg) = crate::support::postgres::Postgres::start("web-areas") else { return };
    every_route(Some(&pg)).await
}

async fn every_route(pg: Option<&crate::support::postgres::Postgres>) {
    let scratch = Scratch::new("web-areas");
    let cfg = config(scratch.path());
    let store = crate::support::store_on(pg, &scratch, "webareas").await;
    let north = area(&store, &cfg, "north-marac@marac.example.test", 1, "001_police_seed_victim_l_accept15.eml").await;
    let south = area(&store, &cfg, "south-marac@marac.example.test", 11, "050_police_victim_u_accept16.eml").await;
    let unplaced = triage(&store, &cfg, "048_idva_victim_t_accept15.eml", "marac@marac.example.test", 21).await;
    assert_eq!((unplaced.outcome, unplaced.area.as_str()), (Outcome::Review, ""));
    assert_eq!((north.accepted.area.as_str(), south.accepted.area.as_str()), ("north", "south"));

    let hash = auth::hash_password(PASSWORD).unwrap();
    let at = "2026-02-01T12:00:00.000Z";
    for (name, role, areas) in [("ncoord", Role::Coordinator, vec!["north"]), ("scoord", Role::Coordinator, vec!["south"]), ("nadmin", Role::AreaAdmin, vec!["north"]), ("boss", Role::Admin, vec![])] {
        store.add_user(name, role, &hash, Some(totp::SECRET), at).await.unwrap();
        if !areas.is_empty() {
            store.set_user_areas(name, &areas.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>(), at, "cli", None).await.unwrap();
        }
    }
    let opts = WebOptions { listen: "127.0.0.1:0".parse().unwrap(), tls: None, trust_forwarded_for: false };
    let stop = CancellationToken::new();
    let (url, task) = web::start(Arc::new(cfg), store.clone(), &opts, marac_intake::clock::Clock::system(), stop.clone()).await.unwrap();
    let a = url.strip_prefix("http://").unwrap().to_owned();
    let a = a.as_str();
    let ncoord = sign_in(a, "ncoord", PASSWORD).await.unwrap_or_else(|r| panic!("{} {}", r.status, r.body));
    let scoord = sign_in(a, "scoord", PASSWORD).await.unwrap_or_else(|r| panic!("{} {}", r.status, r.body));
    let nadmin = sign_in(a, "nadmin", PASSWORD).await.unwrap_or_else(|r| panic!("{} {}", r.status, r.body));
    let boss = sign_in(a, "boss", PASSWORD).await.unwrap_or_else(|r| panic!("{} {}", r.status, r.body));
    let token = |cookie: &str| {
        let cookie = cookie.to_owned();
        async move { csrf_in(&http(a, "GET", "/account", Some(&cookie), None).await.body) }
    };
    let (ntoken, stoken, natoken) = (token(&ncoord).await, token(&scoord).await, token(&nadmin).await);
    let meeting = north.accepted.meeting_date.clone().expect("a meeting");

    // Every route that takes an id: North's ids are not found for South's coordinator, and found
    // for North's (read-only routes; the changing ones are refused before they change anything).
    let gets = [
        format!("/case/{}", north.accepted.reference),
        format!("/case/{}", north.case()),
        format!("/case/{}", north.review.reference),
        format!("/case/{}", north.quarantined.reference),
        format!("/case/{}/attachment/0", north.accepted.reference),
        format!("/case/{}/original.eml", north.accepted.reference),
        format!("/meetings/{meeting}?area=north"),
        format!("/meetings/{meeting}/agenda.xlsx?area=north"),
        format!("/meetings/{meeting}/agenda.csv?area=north"),
    ];
    for path in &gets {
        let theirs = http(a, "GET", path, Some(&scoord), None).await;
        assert_eq!(theirs.status, 404, "{path} for South's coordinator: {}", theirs.body);
        let ours = http(a, "GET", path, Some(&ncoord), None).await;
        assert_eq!(ours.status, 200, "{path} for North's coordinator");
    }
    let missing = http(a, "GET", "/case/IN-2099-99999", Some(&scoord), None).await;
    assert_eq!(missing.status, 404);
    let other = http(a, "GET", &format!("/case/{}", north.case()), Some(&scoord), None).await;
    assert_eq!(other.body.replace(north.case(), "X"), missing.body.replace("IN-2099-99999", "X"), "another area's case reads as one that does not exist");
    let posts = [
        (format!("/case/{}/decide", north.review.reference), "decision=accept".to_owned()),
        (format!("/case/{}/decide", north.review.reference), "decision=reject&reason=not+ours".to_owned()),
        (format!("/case/{}/quarantine", north.quarantined.reference), "action=release".to_owned()),
        (format!("/case/{}/status", north.case()), "action=heard".to_owned()),
        (format!("/case/{}/person", north.case()), format!("action=merge&other={}", south.person())),
        (format!("/case/{}/break-glass", north.case()), "reason=to+see+what+is+there".to_owned()),
    ];
    for (path, form) in &posts {
        let r = http(a, "POST", path, Some(&scoord), Some(&format!("csrf={stoken}&{form}"))).await;
        assert_eq!(r.status, 404, "POST {path} for South's coordinator: {}", r.body);
    }
    let after = store.history().await.unwrap();
    for r in [&north.review, &north.quarantined] {
        assert_eq!(after.iter().find(|m| m.reference == r.reference).unwrap().outcome, r.outcome, "{} unchanged", r.reference);
    }

    // The lists: South's coordinator sees South's references and none of North's.
    let lists = ["/".to_owned(), "/queue.json".to_owned(), "/meetings".to_owned(), format!("/meetings/{meeting}"), format!("/meetings/{meeting}/agenda.csv"), "/dashboard".to_owned()];
    for path in &lists {
        let page = http(a, "GET", path, Some(&scoord), None).await;
        assert_eq!(page.status, 200, "{path}");
        for r in north.references() {
            assert!(!page.body.contains(r), "{path} shows North's {r} to South's coordinator");
        }
    }
    let queue = http(a, "GET", "/", Some(&scoord), None).await.body;
    for r in [&south.review.reference, &south.quarantined.reference, &south.accepted.reference, &unplaced.reference] {
        assert!(queue.contains(r.as_str()), "South's queue holds {r}");
    }
    let nqueue = http(a, "GET", "/", Some(&ncoord), None).await.body;
    assert!(nqueue.contains(&north.review.reference) && nqueue.contains(&unplaced.reference), "North's queue holds its own and the unplaced one");
    assert!(!nqueue.contains(&south.review.reference));
    let json: Vec<serde_json::Value> = serde_json::from_str(&http(a, "GET", "/queue.json", Some(&scoord), None).await.body).unwrap();
    assert!(json.iter().all(|m| m["area"] == "south" || m["area"].is_null()), "{json:?}");

    // North's admin: North's subjects, not South's; not the deployment's pages; the audit log
    // without South's references (South's coordinator viewed South's case above).
    assert_eq!(http(a, "GET", &format!("/case/{}", south.case()), Some(&scoord), None).await.status, 200);
    assert_eq!(http(a, "GET", &format!("/admin/subjects/{}", north.person()), Some(&nadmin), None).await.status, 200);
    assert_eq!(http(a, "GET", &format!("/admin/subjects/{}", south.person()), Some(&nadmin), None).await.status, 404);
    for (path, form) in [
        (format!("/admin/subjects/{}/export", south.person()), String::new()),
        (format!("/admin/subjects/{}/rectify", south.person()), "name=Someone+Else&reason=a+correction+requested".to_owned()),
        (format!("/admin/subjects/{}/erase", south.person()), "reason=an+erasure+requested+by+someone".to_owned()),
        ("/admin/restricted".to_owned(), format!("action=restrict&case={}&users=nadmin", south.case())),
    ] {
        let r = http(a, "POST", &path, Some(&nadmin), Some(&format!("csrf={natoken}&{form}"))).await;
        assert_eq!(r.status, 404, "POST {path} for North's admin: {}", r.body);
    }
    for path in ["/admin/users", "/admin/rules/threshold", "/admin/rules/areas.south.threshold"] {
        assert_eq!(http(a, "GET", path, Some(&nadmin), None).await.status, 403, "{path}");
    }
    // Their areas' rules only: North's sections, none of South's or the deployment's.
    let rules = http(a, "GET", "/admin/rules", Some(&nadmin), None).await;
    assert_eq!(rules.status, 200);
    assert!(rules.body.contains("data-section=\"areas.north.threshold\""), "{}", rules.body);
    assert!(!rules.body.contains("data-section=\"areas.south.threshold\"") && !rules.body.contains("data-section=\"threshold\""), "{}", rules.body);
    assert_eq!(http(a, "GET", "/admin/rules/areas.north.threshold", Some(&nadmin), None).await.status, 200);
    let south_change = http(a, "POST", "/admin/rules/areas.south.threshold", Some(&nadmin), Some(&format!("csrf={natoken}&action=save&body=dash_score+%3D+20"))).await;
    assert_eq!(south_change.status, 403, "{}", south_change.body);
    let audit = http(a, "GET", "/admin/audit", Some(&nadmin), None).await;
    assert_eq!(audit.status, 200);
    for r in south.references() {
        assert!(!audit.body.contains(r), "North's admin's audit log shows South's {r}");
    }
    let boss_audit = http(a, "GET", "/admin/audit", Some(&boss), None).await.body;
    assert!(boss_audit.contains(south.case()), "the deployment's admin sees every area's records");
    let boss_queue = http(a, "GET", "/", Some(&boss), None).await.body;
    assert!(boss_queue.contains(&north.review.reference) && boss_queue.contains(&south.review.reference));

    // The referral whose area could not be told: placed before it is accepted, by one of its
    // areas' coordinators, in one of their areas.
    let unplaced_page = http(a, "GET", &format!("/case/{}", unplaced.reference), Some(&scoord), None).await.body;
    assert!(unplaced_page.contains("Place it in an area") && unplaced_page.contains("<option value=\"south\">South Kingsmere</option>"), "{unplaced_page}");
    assert!(!unplaced_page.contains("<option value=\"north\">"), "only the user's own areas are offered");
    let accept = http(a, "POST", &format!("/case/{}/decide", unplaced.reference), Some(&scoord), Some(&format!("csrf={stoken}&decision=accept"))).await;
    assert_eq!(accept.status, 409, "{}", accept.body);
    let elsewhere = http(a, "POST", &format!("/case/{}/decide", unplaced.reference), Some(&scoord), Some(&format!("csrf={stoken}&decision=place&area=north"))).await;
    assert_eq!(elsewhere.status, 400, "not into an area that is not theirs");
    let placed = http(a, "POST", &format!("/case/{}/decide", unplaced.reference), Some(&scoord), Some(&format!("csrf={stoken}&decision=place&area=south"))).await;
    assert_eq!(placed.status, 303, "{}", placed.body);
    let now_south = store.history().await.unwrap().into_iter().find(|m| m.reference == unplaced.reference).unwrap();
    assert_eq!((now_south.area.as_str(), now_south.outcome), ("south", Outcome::Review));
    assert_eq!(http(a, "GET", &format!("/case/{}", unplaced.reference), Some(&ncoord), None).await.status, 404, "South's now");
    let accepted = http(a, "POST", &format!("/case/{}/decide", unplaced.reference), Some(&scoord), Some(&format!("csrf={stoken}&decision=accept"))).await;
    assert_eq!(accepted.status, 303, "{}", accepted.body);
    let decided = store.history().await.unwrap().into_iter().find(|m| m.reference == unplaced.reference).unwrap();
    assert!(decided.case_ref.as_deref().is_some_and(|c| c.starts_with("SK-")), "numbered as South numbers: {:?}", decided.case_ref);
    let _ = ntoken;

    stop.cancel();
    task.await.unwrap().unwrap();
}
