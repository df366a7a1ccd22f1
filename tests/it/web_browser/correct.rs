//! Correcting what was read, in Chromium (issue 16): a referral whose DASH spreadsheet lost the
//! row of a question answered Yes waits in review (13 Yes read, 14 stated); a coordinator opens
//! it, sees the person and the 24 answers, gives the missing answer, is shown that it would be
//! accepted and with which acknowledgement, confirms, and the acknowledgement is in the outbox
//! (read from the database) for the referrer. Screenshots `case-evidence.png` and
//! `correct-preview.png`.

use super::{coordinator_signed_in, path_of, screenshot, wait_for, wait_for_exact, SignedIn};
use crate::support::{web_fixture, Scratch};
use fantoccini::Locator;
use marac_intake::decide::{OutboxKind, Outcome, ReplyKind};
use web_fixture::{samples_config, triaged_store};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coordinator_gives_a_missing_dash_answer_and_the_referral_is_accepted_in_chromium() {
    let scratch = Scratch::new("web-browser-correct");
    std::fs::create_dir_all(scratch.0.join("profile")).unwrap();
    let db = format!("sqlite://{}/t.db", scratch.0.display());
    let (store, cfg) = triaged_store(&db).await;
    let at = gen_fixtures::util::stamp(2026, 1, 26, 10, 0, 0);
    let (raw, left_out) = gen_fixtures::triage::synthetic_referral_missing_answer(63, at, 14);
    let now = chrono::DateTime::parse_from_rfc3339("2026-02-01T12:00:00Z").unwrap();
    let item = marac_intake::triage::triage_message(&raw, None, None, now, &cfg, &store).await.expect("triage");
    assert_eq!((item.outcome, item.dash.map(|d| d.0)), (Outcome::Review, Some(13)), "{:?}", item.reasons);
    let (config, _) = samples_config();
    let SignedIn { c, base: _, server: _server, driver: _driver } = coordinator_signed_in(&scratch.0, &config, &db).await;

    // The review item in the queue, opened: the person, the referral and the 24 answers, the
    // missing one not answered, above the forms.
    c.find(Locator::Css(&format!("a[href='/case/{}']", item.reference))).await.unwrap().click().await.unwrap();
    wait_for_exact(&c, &format!("/case/{}", item.reference)).await;
    wait_for(&c, "table.dash").await;
    assert_eq!(c.find_all(Locator::Css("table.dash tbody tr")).await.unwrap().len(), 24, "the 24 DASH answers");
    let missing = c.find(Locator::Css(&format!("table.dash tr[data-question='{left_out}'] td.answer"))).await.unwrap().text().await.unwrap();
    assert_eq!(missing, "not answered");
    let victim = c.find(Locator::Css("table.evidence[data-section=victim]")).await.unwrap().text().await.unwrap();
    assert!(victim.contains("Date of birth") && victim.contains("Phone safe to use"), "{victim}");
    assert!(c.find(Locator::Css("table.evidence[data-section=perpetrator]")).await.is_ok() && c.find(Locator::Css("table.evidence[data-section=referrer]")).await.is_ok());
    let order = c.execute("const e = document.querySelector('table.dash'), f = document.querySelector('form.decide'); return !!(e.compareDocumentPosition(f) & Node.DOCUMENT_POSITION_FOLLOWING);", vec![]).await.unwrap();
    assert_eq!(order, serde_json::json!(true), "the evidence comes before the decision's form");
    screenshot("case-evidence.png", &c.screenshot().await.unwrap(), &scratch.0);

    // The missing answer given: the preview says accepted, with the acknowledgement to the sender.
    c.find(Locator::Id("cd-target")).await.unwrap().select_by_value(&format!("dash.{left_out}")).await.unwrap();
    c.find(Locator::Id("cd-value")).await.unwrap().select_by_value("yes").await.unwrap();
    c.find(Locator::Css("form.correct-dash button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_for_exact(&c, &format!("/case/{}/correct", item.reference)).await;
    wait_for(&c, "dd.outcome").await;
    assert_eq!(c.find(Locator::Css("dd.outcome")).await.unwrap().text().await.unwrap(), "accepted");
    assert_eq!(c.find(Locator::Css("dd.original")).await.unwrap().text().await.unwrap(), "not answered");
    assert_eq!(c.find(Locator::Css("dd.corrected")).await.unwrap().text().await.unwrap(), "Yes");
    let to = c.find(Locator::Css("p.reply-to")).await.unwrap().text().await.unwrap();
    assert!(to.starts_with(&format!("The acknowledgement goes to {}", item.reply_to[0])), "{to}");
    assert!(c.find(Locator::Css("pre.reply")).await.unwrap().text().await.unwrap().contains(&item.reference), "the acknowledgement quotes the message's reference");
    assert!(store.outbox().await.unwrap().iter().all(|o| !(o.message_row == Some(item.row) && o.kind == OutboxKind::Reply(ReplyKind::Acknowledgement))), "nothing queued before the confirmation");
    screenshot("correct-preview.png", &c.screenshot().await.unwrap(), &scratch.0);

    // Confirmed: accepted, the acknowledgement in the outbox.
    c.find(Locator::Css("form.confirm-correction button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_for_exact(&c, &format!("/case/{}?decided=corrected", item.reference)).await;
    wait_for(&c, "p.notice").await;
    assert!(c.find(Locator::Css("tr[data-kind=acknowledgement]")).await.is_ok(), "the acknowledgement is shown");
    let corrected = c.find(Locator::Css(&format!("table.corrections tr[data-target='dash.{left_out}']"))).await.unwrap().text().await.unwrap();
    assert!(corrected.contains("not answered") && corrected.contains("Yes") && corrected.contains("coord"), "{corrected}");
    let (kind, recipient, status): (String, String, String) = sqlx::query_as("SELECT kind, recipient, status FROM outbox WHERE message_row = $1 AND kind = $2")
        .bind(item.row)
        .bind(ReplyKind::Acknowledgement.as_str())
        .fetch_one(store.pool())
        .await
        .expect("the acknowledgement row in the outbox");
    assert_eq!((kind.as_str(), recipient.as_str(), status.as_str()), ("acknowledgement", item.reply_to[0].as_str(), "pending"));
    let outcome: String = sqlx::query_scalar("SELECT outcome FROM messages WHERE id = $1").bind(item.row).fetch_one(store.pool()).await.unwrap();
    assert_eq!(outcome, "accepted");
    assert_eq!(path_of(&c).await, format!("/case/{}?decided=corrected", item.reference));
    c.close().await.unwrap();
}
