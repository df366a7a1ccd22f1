//! The rule sections as forms (issue 16, item 8), over HTTP against the real server: each key an
//! ordinary control, read back into the section, checked and saved as the TOML editor's are,
//! a field that cannot be read named; the schedule's next meetings shown as they would be.

use super::{csrf_in, enc, http, sign_in, Served};
use crate::support::web_fixture::PASSWORD;

/// The threshold's form as an admin would send it, with `dash_score` and `repeat_from` set.
fn threshold_form(token: &str, action: &str, dash_score: &str, repeat_from: &str) -> String {
    let fields = [
        ("f.dash_score", dash_score),
        ("f.escalation_callouts", "3"),
        ("f.repeat_window_days", "365"),
        ("f.repeat_from", repeat_from),
        ("f.criteria", "visible_high_risk"),
        ("f.criteria", "professional_judgement"),
        ("f.criteria", "potential_escalation"),
        ("f.criteria", "repeat"),
        ("f.dash_required", "when_visible_high_risk"),
        ("f.forms", "any"),
        ("f.required_fields", ""),
    ];
    let mut form = format!("csrf={token}&base=0&action={action}");
    for (k, v) in fields {
        form.push_str(&format!("&{}={}", enc(k), enc(v)));
    }
    form
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_change_rules_with_forms_checked_and_saved_as_the_toml() {
    let served = Served::start("marac-web-rule-forms").await;
    let (store, a) = (served.store.clone(), served.addr.clone());
    let a = a.as_str();
    let coord = sign_in(a, "coord", PASSWORD).await.unwrap_or_else(|r| panic!("{}", r.status));
    let boss = sign_in(a, "boss", PASSWORD).await.unwrap_or_else(|r| panic!("{}", r.status));

    // The form: a number, a choice, the criteria as boxes, the TOML kept as the advanced view.
    let page = http(a, "GET", "/admin/rules/threshold", Some(&boss), None).await;
    assert_eq!(page.status, 200);
    let body = &page.body;
    assert!(body.contains("name=\"f.dash_score\" type=\"number\" step=\"1\" value=\"14\""), "{body}");
    assert!(body.contains("<select id=") && body.contains("name=\"f.repeat_from\""), "{body}");
    assert!(body.contains("name=\"f.criteria\" value=\"repeat\" checked"), "{body}");
    assert!(body.contains("<details class=\"advanced\"") && body.contains("id=\"rule-body\""), "the TOML stays: {body}");
    let token = csrf_in(body);

    // A coordinator may not, nor a form without its token.
    let coord_token = csrf_in(&http(a, "GET", "/", Some(&coord), None).await.body);
    assert_eq!(http(a, "POST", "/admin/rules/threshold/form", Some(&coord), Some(&threshold_form(&coord_token, "save", "1", "last_referral"))).await.status, 403);
    let without = threshold_form(&token, "save", "12", "last_referral").replacen(&format!("csrf={token}&"), "", 1);
    assert_eq!(http(a, "POST", "/admin/rules/threshold/form", Some(&boss), Some(&without)).await.status, 403);

    // A field that cannot be read is named, the form shown as sent; nothing stored.
    let r = http(a, "POST", "/admin/rules/threshold/form", Some(&boss), Some(&threshold_form(&token, "save", "twelve", "last_referral"))).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("Not checked: Dash score: a whole number is needed, not &quot;twelve&quot;") && r.body.contains("value=\"twelve\""), "{}", r.body);
    let r = http(a, "POST", "/admin/rules/threshold/form", Some(&boss), Some(&threshold_form(&token, "save", "12", "yesterday"))).await;
    assert!(r.status == 400 && r.body.contains("Repeat from"), "{}", r.body);
    // A value of the right type that the rules refuse: refused as the TOML editor refuses it.
    let r = http(a, "POST", "/admin/rules/threshold/form", Some(&boss), Some(&threshold_form(&token, "save", "30", "last_referral"))).await;
    assert!(r.status == 400 && r.body.contains("threshold.dash_score: must be between 1 and 24"), "{}", r.body);
    assert_eq!(store.rules_version().await.unwrap(), 0, "nothing stored");

    // Check: as it would read, nothing stored; the form shows what was checked.
    let r = http(a, "POST", "/admin/rules/threshold/form", Some(&boss), Some(&threshold_form(&token, "check", "12", "last_meeting"))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("As it would read") && r.body.contains("12 Yes answers or more") && r.body.contains("the meeting that heard the last referral"), "{}", r.body);
    assert!(r.body.contains("name=\"f.dash_score\" type=\"number\" step=\"1\" value=\"12\""), "{}", r.body);
    assert_eq!(store.rules_version().await.unwrap(), 0, "a check stores nothing");

    // Save: a version over the file, audited, in force.
    let r = http(a, "POST", "/admin/rules/threshold/form", Some(&boss), Some(&threshold_form(&token, "save", "12", "last_meeting"))).await;
    assert_eq!((r.status, r.header("location")), (303, Some("/admin/rules/threshold?done=version%201")), "{}", r.body);
    let stored = store.rule_layer().await.unwrap().sections["threshold"].clone();
    assert!(stored.contains("dash_score = 12") && stored.contains("repeat_from = \"last_meeting\""), "{stored}");
    assert!(http(a, "GET", "/admin/rules", Some(&boss), None).await.body.contains("12 Yes answers or more"));
    let audit = http(a, "GET", "/admin/audit.csv", Some(&boss), None).await.body;
    assert!(audit.lines().any(|l| l.contains(",boss,rules.change,threshold,127.0.0.1,version 1: saved,")), "{audit}");

    // The schedule: its next meetings shown, and as they would be after a change (Wednesdays).
    let page = http(a, "GET", "/admin/rules/schedule", Some(&boss), None).await.body;
    assert!(page.contains("Next meetings as in force:"), "{page}");
    assert!(page.contains("name=\"f.anchor\" type=\"date\""), "the anchor is offered though unset: {page}");
    let schedule = |skip: &str| format!("csrf={token}&base=0&action=check&f.kind=weekly&f.weekday=wed&f.nth=&f.anchor=&f.cutoff_days=0&f.skip={}&f.add=", enc(skip));
    let form = schedule("2030-01-02\n");
    let r = http(a, "POST", "/admin/rules/schedule/form", Some(&boss), Some(&form)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let preview = r.body.split("id=\"preview\"").nth(1).expect("a preview").split("</section>").next().unwrap();
    let next = preview.split("class=\"next-meetings\">").nth(1).unwrap().split('<').next().unwrap();
    let dates: Vec<&str> = next.split(", ").collect();
    assert!(!dates.is_empty() && !next.is_empty(), "{preview}");
    for d in &dates {
        let wednesday = chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").map(|d| chrono::Datelike::weekday(&d) == chrono::Weekday::Wed).unwrap_or_else(|_| d.starts_with("Wed"));
        assert!(wednesday, "{d} is a Wednesday: {next}");
    }
    let r = http(a, "POST", "/admin/rules/schedule/form", Some(&boss), Some(&schedule("02/01/2030"))).await;
    assert!(r.status == 400 && r.body.contains("Skip: each line a date as YYYY-MM-DD"), "{}", r.body);

    served.stop().await;
}

/// The agenda's officers in the rules console (issue 16, item 6): one line each, checked
/// against the secure-sender allowlist; saved, they are in force and shown on the rules page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_name_the_agencies_officers_in_the_rules_console() {
    let served = Served::start("marac-web-rule-agenda").await;
    let (store, a) = (served.store.clone(), served.addr.clone());
    let a = a.as_str();
    let boss = sign_in(a, "boss", PASSWORD).await.unwrap_or_else(|r| panic!("{}", r.status));
    let page = http(a, "GET", "/admin/rules/agenda", Some(&boss), None).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("name=\"f.officers\"") && page.body.contains("name=\"f.working_days_before\" type=\"number\" step=\"1\" value=\"3\""), "{}", page.body);
    assert!(page.body.contains("<select id=\"rf-2\" name=\"f.bank_holidays\">") && page.body.contains("<option value=\"england_and_wales\" selected>"), "the calendar chosen: {}", page.body);
    let token = csrf_in(&page.body);
    let form = |officers: &str, holidays: &str| {
        format!("csrf={token}&base=0&action=save&f.officers={}&f.automatic=yes&f.working_days_before=2&f.send_at=07%3A30&f.bank_holidays=scotland&f.holidays={}", enc(officers), enc(holidays))
    };
    // Off the allowlist: refused, naming the line; a holiday that is not a date: named.
    let r = http(a, "POST", "/admin/rules/agenda/form", Some(&boss), Some(&form("Kingsmere Police <dmo@kingsmere.pnn.police.example.test>\nElsewhere <dmo@gmail.com>", ""))).await;
    assert!(r.status == 400 && r.body.contains("agenda.officers[1]") && r.body.contains("not on the secure-sender allowlist"), "{}", r.body);
    let r = http(a, "POST", "/admin/rules/agenda/form", Some(&boss), Some(&form("Kingsmere Police <dmo@kingsmere.pnn.police.example.test>", "Christmas"))).await;
    assert!(r.status == 400 && r.body.contains("Holidays"), "{}", r.body);
    assert_eq!(store.rules_version().await.unwrap(), 0, "nothing stored");
    let r = http(a, "POST", "/admin/rules/agenda/form", Some(&boss), Some(&form("Kingsmere Police <dmo@kingsmere.pnn.police.example.test>\nKingsmere NHS Trust <safeguarding@nhs.example.test>", "2026-12-24\n2026-12-31"))).await;
    assert_eq!((r.status, r.header("location")), (303, Some("/admin/rules/agenda?done=version%201")), "{}", r.body);
    let stored = store.rule_layer().await.unwrap().sections["agenda"].clone();
    assert!(stored.contains("safeguarding@nhs.example.test") && stored.contains("working_days_before = 2") && stored.contains("send_at = \"07:30\"") && stored.contains("bank_holidays = \"scotland\""), "{stored}");
    let rules = http(a, "GET", "/admin/rules", Some(&boss), None).await.body;
    assert!(rules.contains("Kingsmere NHS Trust") && rules.contains("2 working days before each meeting, at 07:30 UK time (the bank holidays of Scotland and 2 listed holidays are not working days)"), "{rules}");
    served.stop().await;
}
