//! Sending a meeting's agenda by hand (issue 16, item 6), over HTTP against the real server: what
//! is refused, and nothing queued or audited for any of it.
//! - signed out, or without the page's CSRF token: refused;
//! - a meeting that has passed, a date with no meeting, an area that does not exist: refused,
//!   saying why (another area's is answered as not found);
//! - no officers named: refused, saying where to name them;
//! - an officer's address that is not one of the area's: refused;
//! - the box not ticked: the page asking again, nothing sent.

use super::{csrf_in, enc, http, sign_in, Served};
use crate::support::web_fixture::PASSWORD;
use marac_intake::decide::OutboxKind;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_by_hand_is_refused_where_it_cannot_go_and_asks_to_confirm() {
    let officers = marac_intake::config::AgendaConfig { officers: vec!["Kingsmere Police <dmo@kingsmere.pnn.police.example.test>".into()], ..Default::default() };
    let served = Served::start_with("marac-web-agenda-refusals", |cfg| {
        cfg.agenda = officers.build(|a| cfg.allowlist.allows(a)).unwrap();
        for area in &mut cfg.areas {
            area.config.agenda = cfg.agenda.clone();
        }
    })
    .await;
    let (store, a) = (served.store.clone(), served.addr.clone());
    let a = a.as_str();
    let coord = sign_in(a, "coord", PASSWORD).await.unwrap_or_else(|r| panic!("{}", r.status));
    let token = csrf_in(&http(a, "GET", "/", Some(&coord), None).await.body);
    // A meeting to come: the schedule's next (the second Tuesday of a month).
    let today = chrono::Local::now().date_naive();
    let cfg = crate::support::web_fixture::samples_config().1;
    let next = cfg.schedule.meetings_between(today + chrono::Duration::days(1), today + chrono::Duration::days(70))[0];
    let cookie = coord.as_str();
    let send = |date: String, body: String| async move { http(a, "POST", &format!("/meetings/{date}/agenda/send"), Some(cookie), Some(&body)).await };
    let form = |extra: &str| format!("csrf={token}&area=default&to=all&confirm=yes{extra}");

    assert_eq!(http(a, "POST", &format!("/meetings/{next}/agenda/send"), None, Some(&form(""))).await.status, 403, "signed out");
    assert_eq!(send(next.to_string(), form("").replacen(&format!("csrf={token}&"), "", 1)).await.status, 403, "no CSRF token");
    let r = send("2025-01-14".into(), form("")).await;
    assert!(r.status == 400 && r.body.contains("That meeting has passed"), "{}", r.body);
    let r = send((next + chrono::Duration::days(1)).to_string(), form("")).await;
    assert!(r.status == 404 && r.body.contains("no meeting on that date"), "{}", r.body);
    let r = send(next.to_string(), format!("csrf={token}&area=west&to=all&confirm=yes")).await;
    assert_eq!(r.status, 404, "{}", r.body);
    let r = send(next.to_string(), format!("csrf={token}&area=default&to={}&confirm=yes", enc("someone@nhs.example.test"))).await;
    assert!(r.status == 400 && r.body.contains("That address is not one of the area"), "{}", r.body);
    // The box not ticked: asked again, with the same fields.
    let r = send(next.to_string(), format!("csrf={token}&area=default&to=all")).await;
    assert!(r.status == 200 && r.body.contains("Confirm: send the agenda to dmo@kingsmere.pnn.police.example.test") && r.body.contains("name=\"to\" value=\"all\""), "{}", r.body);
    assert!(store.outbox().await.unwrap().iter().all(|o| o.kind != OutboxKind::Agenda), "nothing queued");
    assert!(store.audit_log(500).await.unwrap().iter().all(|e| e.action != "agenda.send"), "nothing audited");
    // Confirmed: queued for the one officer (an empty agenda, sent by hand), and audited.
    let r = send(next.to_string(), form("")).await;
    assert_eq!((r.status, r.header("location")), (303, Some(format!("/meetings/{next}?area=default&sent=1").as_str())), "{}", r.body);
    assert_eq!(store.outbox().await.unwrap().iter().filter(|o| o.kind == OutboxKind::Agenda).count(), 1);
    served.stop().await;
}

/// No officers named: refused, saying where to name them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_no_officers_named_the_page_says_where_to_name_them() {
    let served = Served::start("marac-web-agenda-none").await;
    let a = served.addr.clone();
    let a = a.as_str();
    let coord = sign_in(a, "coord", PASSWORD).await.unwrap_or_else(|r| panic!("{}", r.status));
    let today = chrono::Local::now().date_naive();
    let cfg = crate::support::web_fixture::samples_config().1;
    let next = cfg.schedule.meetings_between(today + chrono::Duration::days(1), today + chrono::Duration::days(70))[0];
    let page = http(a, "GET", &format!("/meetings/{next}"), Some(&coord), None).await;
    assert!(page.status == 200 && page.body.contains("No designated officers are named for this area") && !page.body.contains("id=\"send-agenda\""), "{}", page.body);
    let token = csrf_in(&page.body);
    let r = http(a, "POST", &format!("/meetings/{next}/agenda/send"), Some(&coord), Some(&format!("csrf={token}&area=default&to=all&confirm=yes"))).await;
    assert!(r.status == 400 && r.body.contains("an admin names them in the rules console"), "{}", r.body);
    served.stop().await;
}
