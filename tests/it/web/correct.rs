//! Correcting what was read (issue 16), over HTTP against the real server on the triaged
//! fixtures, with two more referrals whose DASH spreadsheet lost the row of a question answered
//! Yes (each waits in review):
//! - a coordinator previews a DASH answer given: the page shows what was read beside the
//!   correction, the decision it would give (accepted) and the acknowledgement with its
//!   recipient; nothing is kept until confirmed; confirmed, the correction is kept beside the
//!   original, the message is accepted with a case, the acknowledgement is in the outbox for the
//!   authenticated sender, and both steps are audited (with no value in the audit log);
//! - signed out, without the CSRF token or with a wrong one, nothing is previewed or kept;
//! - a victim's name and date of birth corrected to those of a known victim: the preview says
//!   which record they match and why, and the message is that person's once confirmed;
//! - a label given with a correction can be added to the field's synonyms by the deployment's
//!   admin in one step from the case page, never by a coordinator (403, audited);
//! - a referral rejected on a DASH answer read wrongly is accepted once it is corrected.

use super::{csrf_in, enc, http, sign_in, Served};
use crate::support::web_fixture::{samples_config, PASSWORD};
use marac_intake::decide::{OutboxKind, Outcome, ReplyKind};
use marac_intake::store::{MessageRecord, Store};

/// The referral `n` with the row of one Yes answer missing from its DASH (14 Yes on the
/// checklist and stated on the form, 13 read), triaged into `store`; with the question left out.
async fn missing_answer_item(store: &Store, n: u32, day: u32) -> (MessageRecord, usize) {
    let at = gen_fixtures::util::stamp(2026, 1, day, 10, 0, 0);
    let (raw, left_out) = gen_fixtures::triage::synthetic_referral_missing_answer(n, at, 14);
    let (_, cfg) = samples_config();
    let now = chrono::DateTime::parse_from_rfc3339("2026-02-01T12:00:00Z").unwrap();
    let record = marac_intake::triage::triage_message(&raw, None, None, now, &cfg, store).await.expect("triage");
    assert_eq!(record.outcome, Outcome::Review, "a DASH with a question missing waits for a coordinator: {:?}", record.reasons);
    assert_eq!(record.dash.map(|d| d.0), Some(13));
    (record, left_out)
}

async fn record_of(store: &Store, reference: &str) -> MessageRecord {
    store.history().await.unwrap().into_iter().find(|m| m.reference == reference).expect("the message")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_review_item_corrected_is_decided_again_after_a_preview_with_the_original_kept() {
    corrected_after_a_preview_on(Served::start("marac-web-correct").await).await
}

/// The same, the store on PostgreSQL (skipped, saying so, where it is not installed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_review_item_corrected_is_decided_again_after_a_preview_on_postgresql() {
    let Some(pg) = crate::support::postgres::Postgres::start("web-correct") else { return };
    corrected_after_a_preview_on(Served::start_on_postgres("marac-web-correct-pg", &pg).await).await
}

async fn corrected_after_a_preview_on(served: Served) {
    let (store, a) = (served.store.clone(), served.addr.clone());
    let a = a.as_str();
    let (item, left_out) = missing_answer_item(&store, 61, 26).await;
    let target = format!("dash.{left_out}");
    let preview = format!("/case/{}/correct", item.reference);
    let confirm = format!("{preview}/confirm");
    let form = |token: &str| format!("csrf={token}&target={target}&value=yes");

    // Signed out, or without the page's token: refused, nothing kept.
    assert_eq!(http(a, "POST", &preview, None, Some(&form("x"))).await.status, 403);
    assert_eq!(http(a, "POST", &confirm, None, Some(&form("x"))).await.status, 403);
    let coord = sign_in(a, "coord", PASSWORD).await.unwrap_or_else(|r| panic!("sign-in refused: {}", r.status));
    let page = http(a, "GET", &format!("/case/{}", item.reference), Some(&coord), None).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("class=\"correct-dash\"") && page.body.contains(&format!("<option value=\"{target}\">")), "the correction form on the case page");
    assert!(page.body.contains("data-section=\"victim\"") && page.body.contains("data-section=\"perpetrator\"") && page.body.contains("data-section=\"referrer\""), "the person and the referral");
    assert!(page.body.contains("Phone safe to use") && page.body.contains("Rationale for professional judgement"));
    let token = csrf_in(&page.body);
    for (cookie, body) in [(Some(coord.as_str()), format!("target={target}&value=yes")), (Some(coord.as_str()), form("wrong"))] {
        assert_eq!(http(a, "POST", &preview, cookie, Some(&body)).await.status, 403);
        assert_eq!(http(a, "POST", &confirm, cookie, Some(&body)).await.status, 403);
    }
    assert!(store.corrections_of(item.row).await.unwrap().is_empty());
    assert_eq!(record_of(&store, &item.reference).await.outcome, Outcome::Review);

    // The preview: what was read, the correction, the decision and its reply; nothing kept.
    let outbox_before = store.outbox().await.unwrap().len();
    let r = http(a, "POST", &preview, Some(&coord), Some(&form(&token))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("<dd class=\"original\">not answered</dd>") && r.body.contains("<dd class=\"corrected\">Yes</dd>"), "{}", r.body);
    assert!(r.body.contains("data-outcome=\"accepted\""), "{}", r.body);
    assert!(r.body.contains(&format!("The acknowledgement goes to {}", item.reply_to[0])), "{}", r.body);
    assert!(r.body.contains(&item.reference), "the reply quotes the message's reference");
    assert!(store.corrections_of(item.row).await.unwrap().is_empty(), "a preview keeps nothing");
    assert_eq!(store.outbox().await.unwrap().len(), outbox_before);
    assert_eq!(record_of(&store, &item.reference).await.outcome, Outcome::Review);
    // A value that is not an answer is refused.
    let bad = http(a, "POST", &preview, Some(&coord), Some(&format!("csrf={token}&target={target}&value=perhaps"))).await;
    assert!(bad.status == 400 && bad.body.contains("Yes, No or Don"), "{}", bad.body);

    // Confirmed: kept beside the original, accepted with a case, acknowledged, audited.
    let r = http(a, "POST", &confirm, Some(&coord), Some(&form(&token))).await;
    assert_eq!((r.status, r.header("location")), (303, Some(format!("/case/{}?decided=corrected", item.reference).as_str())), "{}", r.body);
    let kept = store.corrections_of(item.row).await.unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!((kept[0].target.as_str(), kept[0].original.as_deref(), kept[0].corrected.as_str(), kept[0].corrected_by.as_str()), (target.as_str(), Some("blank"), "yes", "coord"));
    let after = record_of(&store, &item.reference).await;
    assert_eq!(after.outcome, Outcome::Accepted);
    assert_eq!(after.dash.map(|d| d.0), Some(14));
    assert!(after.case_ref.is_some() && after.victim_ref.is_some());
    let acks: Vec<_> = store.outbox().await.unwrap().into_iter().filter(|o| o.message_row == Some(item.row) && o.kind == OutboxKind::Reply(ReplyKind::Acknowledgement)).collect();
    assert_eq!(acks.len(), 1, "one acknowledgement");
    assert_eq!((acks[0].recipient.as_str(), acks[0].status.as_str()), (item.reply_to[0].as_str(), "pending"), "to the authenticated sender only");
    let decisions: Vec<String> = sqlx::query_scalar("SELECT decided_by FROM decisions WHERE message_row = $1 ORDER BY id").bind(item.row).fetch_all(store.pool()).await.unwrap();
    assert_eq!(decisions, ["triage", "coord"]);
    let audit = store.audit_log(50).await.unwrap();
    let of = |action: &str| audit.iter().filter(|e| e.action == action && e.object.as_deref() == Some(item.reference.as_str())).collect::<Vec<_>>();
    assert_eq!(of("case.correct_preview").len(), 1, "the preview shown is audited (the refused value showed nothing): {audit:?}");
    let done = of("case.correct");
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].actor, "coord");
    let detail = done[0].detail.as_deref().unwrap_or_default();
    assert!(detail.starts_with(&format!("{target}; decided again: accepted (")), "{detail}");
    // The page shows both, and the decided item is not corrected into a second decision.
    let page = http(a, "GET", &format!("/case/{}", item.reference), Some(&coord), None).await;
    let row = page.body.split(&format!("<tr data-target=\"{target}\">")).nth(1).and_then(|t| t.split("</tr>").next()).expect("the correction listed");
    assert!(row.contains("<td class=\"original\">not answered</td>") && row.contains("<td class=\"corrected\">Yes</td>") && row.contains("coord"), "{row}");
    let answer = page.body.split(&format!("data-question=\"{left_out}\">")).nth(1).and_then(|t| t.split("</tr>").next()).unwrap();
    assert!(answer.contains("<td class=\"answer\">not answered</td>") && answer.contains("<strong>Yes</strong>"), "{answer}");
    assert!(page.body.contains("data-kind=\"acknowledgement\""));
    let again = http(a, "POST", &confirm, Some(&coord), Some(&form(&token))).await;
    assert_eq!(again.status, 303, "{}", again.body);
    assert_eq!(store.outbox().await.unwrap().iter().filter(|o| o.message_row == Some(item.row) && o.kind == OutboxKind::Reply(ReplyKind::Acknowledgement)).count(), 1, "an accepted referral keeps its decision");
    assert_eq!(store.corrections_of(item.row).await.unwrap().len(), 2, "the correction kept with it");
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrected_victim_is_matched_again_and_a_label_goes_to_the_synonyms_by_an_admin_only() {
    let served = Served::start("marac-web-correct-identity").await;
    let (store, a) = (served.store.clone(), served.addr.clone());
    let a = a.as_str();
    let (item, _) = missing_answer_item(&store, 62, 27).await;
    // Paula Ferreira (victim K of the fixtures), born 5 October 1994, has a record.
    let known = store.history().await.unwrap().into_iter().find(|m| m.file.as_deref().is_some_and(|f| f.ends_with("031_nhs_victim_k_accept14.eml"))).expect("victim K's referral");
    let person = known.victim_ref.clone().expect("victim K's record");
    assert_ne!(item.victim_ref.as_deref(), Some(person.as_str()));

    let coord = sign_in(a, "coord", PASSWORD).await.unwrap_or_else(|r| panic!("sign-in refused: {}", r.status));
    let token = csrf_in(&http(a, "GET", &format!("/case/{}", item.reference), Some(&coord), None).await.body);
    let preview = format!("/case/{}/correct", item.reference);
    let name = format!("csrf={token}&target=victim.name&value={}&label={}", enc("Paula Ferreira"), enc("Name of the person harmed"));
    let r = http(a, "POST", &preview, Some(&coord), Some(&name)).await;
    assert!(r.status == 200 && r.body.contains("No earlier record of this victim"), "another date of birth: {}", r.body);
    assert_eq!(http(a, "POST", &format!("{preview}/confirm"), Some(&coord), Some(&name)).await.status, 303);
    let dob = format!("csrf={token}&target=victim.dob&value={}", enc("05/10/1994"));
    let r = http(a, "POST", &preview, Some(&coord), Some(&dob)).await;
    assert!(r.status == 200 && r.body.contains(&format!("Matched the victim record {person}: Same date of birth")), "{}", r.body);
    assert!(r.body.contains("the victim was matched again"), "{}", r.body);
    assert_eq!(http(a, "POST", &format!("{preview}/confirm"), Some(&coord), Some(&dob)).await.status, 303);
    let after = record_of(&store, &item.reference).await;
    assert_eq!(after.victim_ref.as_deref(), Some(person.as_str()), "the message is now the known victim's");
    assert_eq!(after.outcome, Outcome::Review, "its DASH still lacks an answer");
    let kept = store.corrections_of(item.row).await.unwrap();
    assert_eq!(kept.iter().map(|c| c.target.as_str()).collect::<Vec<_>>(), ["victim.name", "victim.dob"]);
    assert!(kept[0].original.as_deref().is_some_and(|o| o != "Paula Ferreira"), "what was read is kept: {:?}", kept[0].original);
    assert_eq!(kept[0].label.as_deref(), Some("Name of the person harmed"));
    // Accepted by hand, it is looked up by the corrected identity: victim K's referral.
    let decide = http(a, "POST", &format!("/case/{}/decide", item.reference), Some(&coord), Some(&format!("csrf={token}&decision=accept"))).await;
    assert_eq!(decide.status, 303, "{}", decide.body);
    let accepted = record_of(&store, &item.reference).await;
    assert_eq!((accepted.outcome, accepted.victim_ref.as_deref()), (Outcome::Accepted, Some(person.as_str())), "the corrected victim's record, not a new one from the misread form");

    // The label: the admin's button on the case page, not the coordinator's; one step.
    let synonym = format!("/case/{}/synonym", item.reference);
    let form = format!("csrf={token}&field=victim.name&label={}", enc("Name of the person harmed"));
    assert!(!http(a, "GET", &format!("/case/{}", item.reference), Some(&coord), None).await.body.contains("class=\"synonym\""));
    assert_eq!(http(a, "POST", &synonym, Some(&coord), Some(&form)).await.status, 403, "not a coordinator's");
    assert!(store.audit_log(20).await.unwrap().iter().any(|e| e.action == "access.refused" && e.actor == "coord"), "the refusal is audited");
    let boss = sign_in(a, "boss", PASSWORD).await.unwrap_or_else(|r| panic!("sign-in refused: {}", r.status));
    let page = http(a, "GET", &format!("/case/{}", item.reference), Some(&boss), None).await;
    assert!(page.body.contains("class=\"synonym\""), "the admin's button");
    let boss_token = csrf_in(&page.body);
    assert_eq!(http(a, "POST", &synonym, Some(&boss), Some(&format!("field=victim.name&label=x{}", ""))).await.status, 403, "CSRF-protected");
    let r = http(a, "POST", &synonym, Some(&boss), Some(&format!("csrf={boss_token}&field=victim.name&label={}", enc("Name of the person harmed")))).await;
    assert_eq!((r.status, r.header("location")), (303, Some(format!("/case/{}?decided=synonym", item.reference).as_str())), "{}", r.body);
    let layer = store.rule_layer().await.unwrap();
    assert!(layer.sections.get("synonyms").is_some_and(|s| s.contains("Name of the person harmed")), "{layer:?}");
    let changed = store.audit_log(20).await.unwrap().into_iter().find(|e| e.action == "rules.change").expect("the change audited");
    assert_eq!((changed.actor.as_str(), changed.object.as_deref()), ("boss", Some("synonyms")));
    assert!(changed.detail.as_deref().is_some_and(|d| d.contains(&item.reference) && !d.contains("person harmed")), "{:?}", changed.detail);
    // In force at once: the rules page lists it.
    assert!(http(a, "GET", "/admin/rules/synonyms", Some(&boss), None).await.body.contains("Name of the person harmed"));

    // A referral rejected on a score one below the threshold (13 Yes), one No read wrongly:
    // corrected, it is accepted and acknowledged, beside the rejection sent before.
    let rejected = store.history().await.unwrap().into_iter().find(|m| m.file.as_deref().is_some_and(|f| f.ends_with("004_police_dash13_reject.eml"))).expect("the rejected referral");
    assert_eq!(rejected.outcome, Outcome::Rejected);
    let view = store.case_view(&rejected.reference).await.unwrap().expect("its page");
    let no = view.inspection.answers().iter().find(|a| a.answer == "no").expect("a No answer").question;
    // The form states 13 too: that is corrected first (it then waits for a coordinator, with no
    // reply), then the answer.
    let stated = format!("csrf={token}&target=stated_dash_score&value=14");
    let r = http(a, "POST", &format!("/case/{}/correct", rejected.reference), Some(&coord), Some(&stated)).await;
    assert!(r.status == 200 && r.body.contains("data-outcome=\"review\"") && r.body.contains("it stays for a coordinator"), "{}", r.body);
    assert_eq!(http(a, "POST", &format!("/case/{}/correct/confirm", rejected.reference), Some(&coord), Some(&stated)).await.status, 303);
    assert_eq!(record_of(&store, &rejected.reference).await.outcome, Outcome::Review);
    let form = format!("csrf={token}&target=dash.{no}&value=yes");
    let r = http(a, "POST", &format!("/case/{}/correct", rejected.reference), Some(&coord), Some(&form)).await;
    assert!(r.status == 200 && r.body.contains("data-outcome=\"accepted\"") && r.body.contains("<dd class=\"original\">No</dd>"), "{}", r.body);
    assert_eq!(http(a, "POST", &format!("/case/{}/correct/confirm", rejected.reference), Some(&coord), Some(&form)).await.status, 303);
    let after = record_of(&store, &rejected.reference).await;
    assert!(after.outcome == Outcome::Accepted && after.case_ref.is_some(), "{after:?}");
    let kinds: Vec<OutboxKind> = store.outbox().await.unwrap().into_iter().filter(|o| o.message_row == Some(rejected.row)).map(|o| o.kind).collect();
    assert_eq!(kinds, [OutboxKind::Reply(ReplyKind::Rejection), OutboxKind::Reply(ReplyKind::Acknowledgement)]);

    // An accepted referral corrected: its case stands (no new reply), and its DASH score on the
    // agenda and the queue's order follow the correction (15 Yes read, one of them a No).
    let at = gen_fixtures::util::stamp(2026, 1, 27, 10, 0, 0);
    let raw = gen_fixtures::triage::synthetic_referral(71, at, 15);
    let now = chrono::DateTime::parse_from_rfc3339("2026-02-01T12:00:00Z").unwrap();
    let (_, cfg) = samples_config();
    let accepted = marac_intake::triage::triage_message(&raw, None, None, now, &cfg, &store).await.expect("triage");
    assert_eq!((accepted.outcome, accepted.dash.map(|d| d.0)), (Outcome::Accepted, Some(15)), "{:?}", accepted.reasons);
    let meeting: chrono::NaiveDate = accepted.meeting_date.as_deref().expect("a meeting").parse().unwrap();
    let on_agenda = |rows: &[marac_intake::store::cases::AgendaRow]| rows.iter().find(|r| Some(&r.case_ref) == accepted.case_ref.as_ref()).and_then(|r| r.dash_score);
    assert_eq!(on_agenda(&store.agenda(meeting, None, &marac_intake::store::hidden::HiddenCases::none()).await.unwrap()), Some(15));
    let view = store.case_view(&accepted.reference).await.unwrap().expect("its page");
    let yes = view.inspection.answers().iter().find(|a| a.answer == "yes").expect("a Yes answer").question;
    let outbox_before = store.outbox().await.unwrap().len();
    let form = format!("csrf={token}&target=dash.{yes}&value=no");
    assert_eq!(http(a, "POST", &format!("/case/{}/correct/confirm", accepted.reference), Some(&coord), Some(&form)).await.status, 303);
    let after = record_of(&store, &accepted.reference).await;
    assert_eq!((after.outcome, after.case_ref.clone(), after.dash.map(|d| d.0)), (Outcome::Accepted, accepted.case_ref.clone(), Some(14)));
    assert_eq!(on_agenda(&store.agenda(meeting, None, &marac_intake::store::hidden::HiddenCases::none()).await.unwrap()), Some(14), "the agenda's DASH score");
    assert_eq!(store.outbox().await.unwrap().len(), outbox_before, "no reply: the case stands");
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agenda_the_data_return_and_a_search_read_the_form_as_corrected() {
    read_as_corrected_on(Served::start("marac-web-correct-read").await).await
}

/// The same, the store on PostgreSQL (skipped, saying so, where it is not installed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agenda_the_data_return_and_a_search_read_the_form_as_corrected_on_postgresql() {
    let Some(pg) = crate::support::postgres::Postgres::start("web-correct-read") else { return };
    read_as_corrected_on(Served::start_on_postgres("marac-web-correct-read-pg", &pg).await).await
}

/// An accepted referral whose police reference, perpetrator and victim's ethnicity a coordinator
/// corrects: the case page shows what was read beside each correction (in UK time); the agenda
/// lists the corrected perpetrator, the data return counts the corrected ethnicity, and a
/// search finds the case by the corrected police reference and no longer by the misread one.
async fn read_as_corrected_on(served: Served) {
    use marac_intake::store::hidden::HiddenCases;
    let (store, a) = (served.store.clone(), served.addr.clone());
    let a = a.as_str();
    let at = gen_fixtures::util::stamp(2026, 1, 27, 10, 0, 0);
    let raw = gen_fixtures::triage::synthetic_referral(72, at, 15);
    let now = chrono::DateTime::parse_from_rfc3339("2026-02-01T12:00:00Z").unwrap();
    let (_, cfg) = samples_config();
    let accepted = marac_intake::triage::triage_message(&raw, None, None, now, &cfg, &store).await.expect("triage");
    assert_eq!(accepted.outcome, Outcome::Accepted, "{:?}", accepted.reasons);
    let case = accepted.case_ref.clone().expect("a case");
    let meeting: chrono::NaiveDate = accepted.meeting_date.as_deref().expect("a meeting").parse().unwrap();
    let view = store.case_view(&accepted.reference).await.unwrap().expect("its page");
    let misread = view.inspection.field("police_reference").expect("the form's police reference read").to_owned();
    let perpetrator = view.inspection.field("perpetrator.name").expect("the perpetrator read").to_owned();
    assert_ne!(perpetrator, "Dominic Ashworth");
    assert_eq!(view.inspection.field("victim.ethnicity"), None, "the generated form gives no ethnicity");
    let search = |q: String, cookie: String| async move {
        let r = http(a, "GET", &format!("/search.json?q={}", enc(&q)), Some(&cookie), None).await;
        assert_eq!(r.status, 200, "{}", r.body);
        serde_json::from_str::<Vec<serde_json::Value>>(&r.body).unwrap()
    };
    let coord = sign_in(a, "coord", PASSWORD).await.unwrap_or_else(|r| panic!("sign-in refused: {}", r.status));
    assert!(search(misread.clone(), coord.clone()).await.iter().any(|h| h["case_ref"] == case.as_str()), "found by the reference as read before it is corrected");

    let token = csrf_in(&http(a, "GET", &format!("/case/{}", accepted.reference), Some(&coord), None).await.body);
    for (target, value) in [("police_reference", "ZQ/90210/26"), ("perpetrator.name", "Dominic Ashworth"), ("victim.ethnicity", "Pakistani")] {
        let form = format!("csrf={token}&target={target}&value={}", enc(value));
        let r = http(a, "POST", &format!("/case/{}/correct/confirm", accepted.reference), Some(&coord), Some(&form)).await;
        assert_eq!(r.status, 303, "{target}: {}", r.body);
    }
    let after = record_of(&store, &accepted.reference).await;
    assert_eq!((after.outcome, after.case_ref.as_deref()), (Outcome::Accepted, Some(case.as_str())), "the case stands");

    // The case page: the data return's fields among the referral's, each read beside corrected.
    let page = http(a, "GET", &format!("/case/{}", accepted.reference), Some(&coord), None).await;
    let row = |key: &str| page.body.split(&format!("<tr data-key=\"{key}\">")).nth(1).and_then(|t| t.split("</tr>").next()).unwrap_or_else(|| panic!("{key} on the page")).to_owned();
    let ethnicity = row("victim.ethnicity");
    assert!(ethnicity.contains("<td class=\"read\">not read</td>") && ethnicity.contains("<strong>Pakistani</strong>"), "{ethnicity}");
    let kept = store.corrections_of(after.row).await.unwrap();
    let when = kept.iter().find(|c| c.target == "victim.ethnicity").map(|c| marac_intake::clock::uk_text(&c.corrected_at)).expect("kept");
    assert!(ethnicity.contains(&when) && !ethnicity.contains("UTC"), "a correction's time in UK local time ({when}): {ethnicity}");
    assert!(row("police_reference").contains(&format!("<td class=\"read\">{misread}</td>")));
    for key in ["victim.sexual_orientation", "victim.disability", "victim.age", "perpetrator.age", "referrer.agency_type", "household.children"] {
        row(key);
    }

    // The agenda, the data return and a search read the form as corrected.
    let agenda = store.agenda(meeting, None, &HiddenCases::none()).await.unwrap();
    let listed = agenda.iter().find(|r| r.case_ref == case).expect("on the agenda");
    assert_eq!(listed.perpetrator.as_deref(), Some("Dominic Ashworth"));
    let cases = store.return_cases(meeting, meeting, None, &HiddenCases::none()).await.unwrap();
    let counted = cases.iter().find(|c| c.case_ref == case).expect("in the data return");
    assert_eq!(counted.fields.get("victim.ethnicity").map(String::as_str), Some("Pakistani"));
    let quarter = marac_intake::data_return::DataReturn::count(marac_intake::data_return::Quarter::of(meeting), &cases);
    let others = marac_intake::data_return::DataReturn::count(marac_intake::data_return::Quarter::of(meeting), &cases.iter().filter(|c| c.case_ref != case).cloned().collect::<Vec<_>>());
    assert_eq!(quarter.total().racially_minoritised, others.total().racially_minoritised + 1, "counted as racially minoritised");
    let hits = search("zq 90210 26".into(), coord.clone()).await;
    let hit = hits.iter().find(|h| h["case_ref"] == case.as_str()).unwrap_or_else(|| panic!("found by the corrected reference: {hits:?}"));
    assert!(hit["why"].as_str().is_some_and(|w| w.contains("police reference")), "{hit}");
    assert!(!search(misread.clone(), coord.clone()).await.iter().any(|h| h["case_ref"] == case.as_str()), "no longer found by the misread reference");

    // The victim's identity corrected on an accepted referral: the case stays with its record.
    // Made from this referral alone, the record takes the corrected name; once the corrected
    // identity is another record's, the preview names that record to merge with instead. Paula
    // Ferreira (victim K of the fixtures), born 5 October 1994, has a record.
    let held = after.victim_ref.clone().expect("the case's victim record");
    let known = store.history().await.unwrap().into_iter().find(|m| m.file.as_deref().is_some_and(|f| f.ends_with("031_nhs_victim_k_accept14.eml"))).expect("victim K's referral");
    let other = known.victim_ref.clone().expect("victim K's record");
    let preview = format!("/case/{}/correct", accepted.reference);
    let name = format!("csrf={token}&target=victim.name&value={}", enc("Paula Ferreira"));
    // With a referral of the same person imported from the spreadsheet kept before, the record
    // is not this referral's alone: it keeps its name.
    let held_id: i64 = sqlx::query_scalar("SELECT id FROM people WHERE ref = $1").bind(&held).fetch_one(store.pool()).await.unwrap();
    let case_id: i64 = sqlx::query_scalar("SELECT id FROM cases WHERE ref = $1").bind(&case).fetch_one(store.pool()).await.unwrap();
    sqlx::query("INSERT INTO referrals (case_id, person_id, message_row, referred_on, source) VALUES ($1, $2, NULL, '2025-03-01', 'import')").bind(case_id).bind(held_id).execute(store.pool()).await.unwrap();
    let r = http(a, "POST", &preview, Some(&coord), Some(&name)).await;
    assert!(r.status == 200 && r.body.contains(&format!("The case stays with the victim record {held}, which other referrals name too")), "{}", r.body);
    sqlx::query("DELETE FROM referrals WHERE person_id = $1 AND source = 'import'").bind(held_id).execute(store.pool()).await.unwrap();
    let r = http(a, "POST", &preview, Some(&coord), Some(&name)).await;
    assert!(r.status == 200 && r.body.contains(&format!("The victim record {held} was made from this referral alone: it takes the corrected name and date of birth too")), "{}", r.body);
    assert!(r.body.contains(&format!("as of the day it arrived ({})", marac_intake::clock::uk_text("2026-01-27"))), "the day in UK format: {}", r.body);
    let recorded = async |person: &str| -> (String, Option<String>) { sqlx::query_as("SELECT name, dob FROM people WHERE ref = $1").bind(person).fetch_one(store.pool()).await.unwrap() };
    let (_, held_dob) = recorded(&held).await;
    assert_eq!(http(a, "POST", &format!("{preview}/confirm"), Some(&coord), Some(&name)).await.status, 303);
    assert_eq!(recorded(&held).await, ("Paula Ferreira".to_owned(), held_dob.clone()), "the record takes the corrected name");
    let agenda = store.agenda(meeting, None, &HiddenCases::none()).await.unwrap();
    assert_eq!(agenda.iter().find(|r| r.case_ref == case).map(|r| r.victim_name.as_str()), Some("Paula Ferreira"), "the agenda names the victim as corrected");
    let kept_detail = store.audit_log(5).await.unwrap().into_iter().find(|e| e.action == "case.correct").and_then(|e| e.detail).unwrap_or_default();
    assert_eq!(kept_detail, "victim.name; kept with the accepted referral and its victim record");
    let dob = format!("csrf={token}&target=victim.dob&value={}", enc("05/10/1994"));
    let r = http(a, "POST", &preview, Some(&coord), Some(&dob)).await;
    assert!(r.status == 200 && r.body.contains(&format!("The case stays with the victim record {held}. The corrected name and date of birth match the record {other}")), "{}", r.body);
    assert!(r.body.contains("merge the two records on the case page"), "{}", r.body);
    assert_eq!(http(a, "POST", &format!("{preview}/confirm"), Some(&coord), Some(&dob)).await.status, 303);
    assert_eq!(record_of(&store, &accepted.reference).await.victim_ref.as_deref(), Some(held.as_str()), "a correction never moves a case");
    assert_eq!(recorded(&held).await.1, held_dob, "another record's identity is not taken on");

    // Merged as the preview suggests, then split off again: the new record is the victim as
    // corrected, not as misread.
    let person = format!("/case/{case}/person");
    let merge = format!("csrf={token}&action=merge&other={other}&confirm=yes");
    assert_eq!(http(a, "POST", &person, Some(&coord), Some(&merge)).await.status, 303);
    assert_eq!(http(a, "POST", &person, Some(&coord), Some(&format!("csrf={token}&action=split&confirm=yes"))).await.status, 303);
    let split = record_of(&store, &accepted.reference).await.victim_ref.expect("a victim record");
    assert!(split != held && split != other, "a new record");
    assert_eq!(recorded(&split).await, ("Paula Ferreira".to_owned(), Some("1994-10-05".to_owned())));

    // The person's export holds the corrections beside what was read.
    let export = store.subject_export(&split).await.unwrap().expect("the record");
    let files = super::unzip(&marac_intake::store::subjects::archive(&export, "2026-12-07T12:00:00.000Z", "boss").unwrap());
    let about: serde_json::Value = serde_json::from_slice(&files[&format!("messages/{}/message.json", accepted.reference)]).unwrap();
    let kept: Vec<(String, String)> = about["corrections"].as_array().expect("the corrections").iter().map(|c| (c["target"].as_str().unwrap().to_owned(), c["corrected"].as_str().unwrap().to_owned())).collect();
    assert!(kept.contains(&("perpetrator.name".into(), "Dominic Ashworth".into())) && kept.contains(&("victim.dob".into(), "05/10/1994".into())), "{kept:?}");
    assert_eq!(about["corrections"][0]["original"].as_str(), Some(misread.as_str()), "what was read beside it");
    served.stop().await;
}
