//! Every scenario of `fixtures/triage/` through the real pipeline (`triage_message`) into a fresh
//! SQLite database, in file order, with `config/samples.toml`; each decision compared with
//! `fixtures/triage/labels.json` field by field (as `../shared/tools/score-labels.py` does, and a
//! little stricter), then the outbox checked row by row (and the bounced mark a bounce of one of
//! our replies leaves on it). One line per difference; the test fails if there is any. A second
//! run with `smtp.coordinators_notice_to` set checks the coordinators' notices. Regenerate the
//! corpus with `cargo run --example gen_fixtures -- fixtures/`.

use crate::support::postgres::Postgres;
use crate::support::{store_on, Scratch};
use chrono::DateTime;
use marac_intake::decide::{Outcome, ReplyKind};
use marac_intake::store::{MessageRecord, Store};
use serde_json::Value;
use sqlx::Row;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// One outbox row: kind, recipient, subject, raw message, status.
type Queued = (String, String, String, String, String);

fn s(v: &Value) -> Option<&str> {
    v.as_str()
}

/// The unfolded header fields of a message (name lower-cased, value), in order.
fn headers(raw: &str) -> Vec<(String, String)> {
    let head = raw.split("\r\n\r\n").next().unwrap_or(raw);
    let mut out: Vec<(String, String)> = Vec::new();
    for line in head.split("\r\n").flat_map(|l| l.split('\n')) {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            out.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    out
}

fn field<'a>(h: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    h.iter().filter(|(n, _)| n == name).map(|(_, v)| v.as_str()).collect()
}

/// Addresses (`local@domain`) in a header value, lower-cased.
fn addresses(value: &str) -> BTreeSet<String> {
    value
        .split(|c: char| c == ',' || c == '<' || c == '>' || c.is_whitespace() || c == '"')
        .filter(|w| w.contains('@'))
        .map(|w| w.trim().to_ascii_lowercase())
        .collect()
}

#[tokio::test(flavor = "current_thread")]
async fn every_triage_scenario_is_decided_as_labelled() {
    every_triage_scenario(None).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_triage_scenario_is_decided_as_labelled_on_postgresql() {
    let Some(pg) = Postgres::start("scenarios") else { return };
    every_triage_scenario(Some(&pg)).await
}

async fn every_triage_scenario(pg: Option<&Postgres>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("fixtures/triage");
    let cfg = marac_intake::config::load(&root.join("config/samples.toml"), Vec::<(String, String)>::new())
        .expect("config/samples.toml loads");
    let labels: Vec<Value> =
        serde_json::from_str(&fs::read_to_string(dir.join("labels.json")).expect("fixtures/triage/labels.json"))
            .expect("labels.json is JSON");
    assert!(labels.len() >= 40, "a corpus of at least 40 scenarios, found {}", labels.len());

    let scratch = Scratch::new("triage-scenarios");
    let store = store_on(pg, &scratch, "scenarios").await;

    let mut problems: Vec<String> = Vec::new();
    let mut results: Vec<(String, MessageRecord)> = Vec::new();
    // victim_key -> victim_refs seen, and victim_ref -> victim_keys seen.
    let mut groups: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut refs: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    // The latest case opened for each victim_key, and every case reference opened.
    let mut open_case: BTreeMap<String, String> = BTreeMap::new();
    let mut opened: BTreeSet<String> = BTreeSet::new();

    for lab in &labels {
        let file = s(&lab["file"]).expect("file");
        let exp = &lab["expect"];
        let raw = fs::read(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let arrived = DateTime::parse_from_rfc3339(s(&lab["arrived"]).expect("arrived")).expect("arrived is ISO 8601");
        let got = match marac_intake::triage::triage_message(&raw, Some(file), None, arrived, &cfg, &store).await {
            Ok(r) => r,
            Err(e) => {
                problems.push(format!("{file}: triage failed: {e:#}"));
                continue;
            }
        };
        let mut p = |what: String| problems.push(format!("{file}: {what}"));
        let outcome: Outcome = s(&exp["outcome"]).expect("outcome").parse().expect("a known outcome");

        // When it arrived: the topmost Received date, as labelled.
        match DateTime::parse_from_rfc3339(&got.arrived) {
            Ok(a) if a == arrived => {}
            _ => p(format!("arrived {} != {}", got.arrived, arrived.to_rfc3339())),
        }
        if got.outcome != outcome {
            p(format!("outcome {} != {outcome}", got.outcome));
        }
        if outcome == Outcome::Accepted {
            let want: BTreeSet<&str> = exp["criteria"].as_array().expect("criteria").iter().filter_map(Value::as_str).collect();
            let have: BTreeSet<&str> = got.criteria.iter().map(|c| c.as_str()).collect();
            if want != have {
                p(format!("criteria {have:?} != {want:?}"));
            }
        } else if !got.criteria.is_empty() {
            p(format!("criteria {:?} on a {} message", got.criteria, got.outcome));
        }
        // DASH counts: as labelled; and no counts where the label says no DASH could be read
        // (quarantined and ignored messages are not judged on their content).
        let want_dash = exp["dash_yes"].as_i64().map(|y| (y, exp["dash_no"].as_i64().unwrap_or(-1), exp["dash_unknown"].as_i64().unwrap_or(-1)));
        match want_dash {
            Some(w) if got.dash != Some(w) => p(format!("dash {:?} != {w:?} (yes, no, unknown)", got.dash)),
            None if got.dash.is_some() && !matches!(outcome, Outcome::Quarantined | Outcome::Ignored) => {
                p(format!("dash {:?} read where no DASH is readable", got.dash))
            }
            _ => {}
        }
        let case = s(&exp["case"]).expect("case");
        if got.case != case {
            p(format!("case {} != {case}", got.case));
        }
        let reply: ReplyKind = s(&exp["reply"]).expect("reply").parse().expect("a known reply kind");
        if got.reply_kind != reply {
            p(format!("reply {} != {reply}", got.reply_kind));
        }
        let want_to: BTreeSet<String> = s(&exp["reply_to"]).map(|a| a.to_ascii_lowercase()).into_iter().collect();
        let got_to: BTreeSet<String> = got.reply_to.iter().map(|a| a.to_ascii_lowercase()).collect();
        if got_to != want_to {
            p(format!("reply.to {got_to:?} != {want_to:?}"));
        }
        let kws: Vec<&str> = exp["reason_keywords"].as_array().expect("reason_keywords").iter().filter_map(Value::as_str).collect();
        if !kws.is_empty() {
            let text = got.reasons.join(" ").to_lowercase();
            if !kws.iter().any(|k| text.contains(&k.to_lowercase())) {
                p(format!("reasons {:?} name none of {kws:?}", got.reasons));
            }
        }
        if matches!(outcome, Outcome::Rejected | Outcome::Review | Outcome::Quarantined | Outcome::Ignored) && got.reasons.is_empty() {
            p(format!("a {outcome} message without a reason"));
        }

        // Identity: the same key is the same person, different keys different people.
        let key = s(&exp["victim_key"]);
        match (key, &got.victim_ref) {
            (Some(k), Some(r)) => {
                groups.entry(k.to_owned()).or_default().insert(r.clone());
                refs.entry(r.clone()).or_default().insert(k.to_owned());
            }
            (Some(_), None) if outcome == Outcome::Accepted => p("no victim_ref on an accepted referral".into()),
            _ => {}
        }
        // Cases: a new case has a fresh reference; a linked one joins the victim's latest case.
        match (got.case.as_str(), &got.case_ref) {
            ("new", Some(r)) => {
                if !opened.insert(r.clone()) {
                    p(format!("new case {r} reuses an existing reference"));
                }
                if let Some(k) = key {
                    open_case.insert(k.to_owned(), r.clone());
                }
            }
            ("linked", Some(r)) => match key.and_then(|k| open_case.get(k)) {
                Some(want) if want == r => {}
                want => p(format!("linked to case {r}, expected the victim's open case {want:?}")),
            },
            ("new" | "linked", None) => p(format!("case {} without a case reference", got.case)),
            (_, Some(r)) => p(format!("case_ref {r} on a message with case {}", got.case)),
            _ => {}
        }
        results.push((file.to_owned(), got));
    }
    for (k, v) in &groups {
        if v.len() > 1 {
            problems.push(format!("victim {k} split across victim_refs {v:?}"));
        }
    }
    for (r, v) in &refs {
        if v.len() > 1 {
            problems.push(format!("victim_ref {r} merges different people {v:?}"));
        }
    }

    // The outbox: one pending reply per reply-bearing decision, to the decided address only.
    let rows = sqlx::query("SELECT m.file, o.id, o.kind, o.recipient, o.subject, o.status FROM outbox o JOIN messages m ON m.id = o.message_row ORDER BY o.id")
        .fetch_all(store.pool())
        .await
        .expect("outbox rows");
    let mut outbox: BTreeMap<String, Vec<Queued>> = BTreeMap::new();
    for r in &rows {
        let file: String = r.try_get("file").expect("file");
        let row = (
            r.try_get("kind").expect("kind"),
            r.try_get("recipient").expect("recipient"),
            r.try_get("subject").expect("subject"),
            store.outbox_raw(r.try_get("id").expect("id")).await.expect("the reply opens"),
            r.try_get("status").expect("status"),
        );
        outbox.entry(file).or_default().push(row);
    }
    let due = labels.iter().filter(|l| l["expect"]["reply"] != "none").count();
    if rows.len() != due {
        problems.push(format!("outbox holds {} replies, {due} decisions carry one", rows.len()));
    }
    for (lab, (file, got)) in labels.iter().zip(&results) {
        let exp = &lab["expect"];
        let mut p = |what: String| problems.push(format!("{file}: outbox: {what}"));
        let queued = outbox.get(file).map(Vec::as_slice).unwrap_or_default();
        let reply = s(&exp["reply"]).unwrap_or("none");
        if reply == "none" {
            if !queued.is_empty() {
                p(format!("{} reply row(s) for a decision that carries none", queued.len()));
            }
            continue;
        }
        let [(kind, recipient, subject, raw, status)] = queued else {
            p(format!("{} rows, expected exactly one", queued.len()));
            continue;
        };
        let to = s(&exp["reply_to"]).unwrap_or("").to_ascii_lowercase();
        if kind != reply {
            p(format!("kind {kind} != {reply}"));
        }
        if status != "pending" {
            p(format!("status {status} != pending"));
        }
        if recipient.to_ascii_lowercase() != to {
            p(format!("recipient {recipient} != {to}"));
        }
        let h = headers(raw);
        let rcpt: BTreeSet<String> = ["to", "cc", "bcc"].iter().flat_map(|n| field(&h, n)).flat_map(addresses).collect();
        if rcpt != BTreeSet::from([to.clone()]) {
            p(format!("addressed to {rcpt:?}, expected only {to}"));
        }
        if !field(&h, "auto-submitted").iter().any(|v| v.eq_ignore_ascii_case("auto-replied")) {
            p("no Auto-Submitted: auto-replied".into());
        }
        let original = got.message_id.as_deref().map(|m| m.trim_matches(['<', '>']).to_owned()).unwrap_or_default();
        if !field(&h, "in-reply-to").iter().any(|v| !original.is_empty() && v.contains(&original)) {
            p(format!("In-Reply-To {:?} does not name the referral's Message-ID {original}", field(&h, "in-reply-to")));
        }
        if reply == "acknowledgement" {
            // The message's own reference, never a case's: an acknowledgement must not tell
            // whether the victim already had a case (the coordinators see the link).
            if !subject.contains(got.reference.as_str()) {
                p(format!("acknowledgement subject {subject:?} does not quote the message's reference {}", got.reference));
            }
            if let Some(r) = got.case_ref.as_deref().filter(|r| raw.contains(r)) {
                p(format!("acknowledgement names the case reference {r}"));
            }
        }
        // A Cc of the referral never receives anything, not even a mention.
        let message = fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/triage").join(file)).unwrap_or_default();
        let their = headers(&String::from_utf8_lossy(&message));
        for cc in field(&their, "cc").into_iter().flat_map(addresses) {
            if cc != to && raw.to_ascii_lowercase().contains(&cc) {
                p(format!("the reply mentions the Cc address {cc}"));
            }
        }
    }

    // Every row carries the Message-ID it is sent with; a reviewed bounce marks exactly the rows
    // whose Message-ID its returned headers name, and shows in the coordinators' queue.
    let marks = sqlx::query("SELECT o.id, o.reply_message_id, o.bounced_at FROM outbox o ORDER BY o.id").fetch_all(store.pool()).await.expect("outbox rows");
    let mut bounced: BTreeSet<String> = BTreeSet::new();
    for r in &marks {
        let raw: String = store.outbox_raw(r.try_get("id").expect("id")).await.expect("the reply opens");
        let id: Option<String> = r.try_get("reply_message_id").expect("reply_message_id");
        let sent_with = field(&headers(&raw), "message-id").first().map(|m| m.trim_matches(['<', '>']).to_ascii_lowercase());
        if id.is_none() || id != sent_with {
            problems.push(format!("outbox: reply_message_id {id:?} is not the Message-ID {sent_with:?} it is sent with"));
        }
        if r.try_get::<Option<String>, _>("bounced_at").expect("bounced_at").is_some() {
            bounced.extend(id);
        }
    }
    let queue: BTreeSet<String> = store.queue().await.expect("queue").into_iter().map(|m| m.reference).collect();
    let mut want_bounced: BTreeSet<String> = BTreeSet::new();
    for (lab, (file, got)) in labels.iter().zip(&results) {
        let raw = String::from_utf8_lossy(&fs::read(dir.join(file)).unwrap_or_default()).into_owned();
        if lab["expect"]["outcome"] == "review" && raw.contains("Content-Type: multipart/report") {
            // The returned original's Message-ID: the one after the top-level header block.
            let (_, body) = raw.split_once("\r\n\r\n").unwrap_or_default();
            want_bounced.extend(field(&headers(body.split_once("Content-Type: text/rfc822-headers\r\n\r\n").map(|x| x.1).unwrap_or("")), "message-id").iter().map(|m| m.trim_matches(['<', '>']).to_ascii_lowercase()));
            if !queue.contains(&got.reference) {
                problems.push(format!("{file}: the reviewed bounce {} is not in the queue", got.reference));
            }
        }
    }
    if want_bounced.is_empty() {
        problems.push("no scenario bounces one of our replies".into());
    }
    if bounced != want_bounced {
        problems.push(format!("outbox rows marked bounced {bounced:?}, the bounces name {want_bounced:?}"));
    }

    for (file, got) in &results {
        eprintln!(
            "{file:<58} {:<11} {:<24} {:<6} {:<16} {}",
            got.outcome,
            got.criteria.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(","),
            got.case,
            got.case_ref.as_deref().unwrap_or("-"),
            got.reply_kind
        );
    }
    assert!(problems.is_empty(), "{} difference(s) from fixtures/triage/labels.json:\n{}", problems.len(), problems.join("\n"));
}

/// The category a coordinators' notice must name for a review or quarantine scenario, from what
/// its label says the reason is about.
fn notice_category(label: &Value) -> &'static str {
    let kws: Vec<&str> = label["expect"]["reason_keywords"].as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
    let has = |k: &str| kws.contains(&k);
    if has("could not be delivered") {
        "reply bounced"
    } else if has("allowlist") {
        "sender not on the secure list"
    } else if has("dmarc") || has("spf") {
        "sender authentication failed"
    } else if has("encrypted") {
        "unreadable attachment"
    } else {
        "needs a coordinator's decision"
    }
}

/// With `smtp.coordinators_notice_to` set, every review and quarantine item also queues one notice
/// to that address only (beside a holding reply where there is one), naming our reference and the
/// reason category and nothing personal; nothing else changes.
#[tokio::test(flavor = "current_thread")]
async fn review_and_quarantine_items_notify_the_coordinators_without_personal_data() {
    notices(None).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review_and_quarantine_items_notify_the_coordinators_without_personal_data_on_postgresql() {
    let Some(pg) = Postgres::start("notices") else { return };
    notices(Some(&pg)).await
}

async fn notices(pg: Option<&Postgres>) {
    const TO: &str = "coordinators@marac.example.test";
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("fixtures/triage");
    let env: Vec<(String, String)> = [
        ("MARAC__SMTP__HOST", "127.0.0.1"),
        ("MARAC__SMTP__PORT", "587"),
        ("MARAC__SMTP__TLS", "starttls"),
        ("MARAC__SMTP__USERNAME", "marac"),
        ("MARAC__SMTP__PASSWORD_FILE", "smtp-password"),
        ("MARAC__SMTP__COORDINATORS_NOTICE_TO", TO),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let cfg = marac_intake::config::load(&root.join("config/samples.toml"), env).expect("config/samples.toml with a notice address loads");
    let labels: Vec<Value> = serde_json::from_str(&fs::read_to_string(dir.join("labels.json")).expect("labels.json")).expect("labels.json is JSON");
    let scratch = Scratch::new("triage-notices");
    let store = store_on(pg, &scratch, "notices").await;

    let mut problems: Vec<String> = Vec::new();
    let mut records: BTreeMap<String, MessageRecord> = BTreeMap::new();
    for lab in &labels {
        let file = s(&lab["file"]).expect("file");
        let raw = fs::read(dir.join(file)).expect("scenario file");
        let arrived = DateTime::parse_from_rfc3339(s(&lab["arrived"]).expect("arrived")).expect("arrived");
        let got = marac_intake::triage::triage_message(&raw, Some(file), None, arrived, &cfg, &store).await.expect("triaged");
        if lab["expect"]["outcome"] != got.outcome.as_str() || lab["expect"]["reply"] != got.reply_kind.as_str() {
            problems.push(format!("{file}: {} with reply {}: a notice address changes no decision", got.outcome, got.reply_kind));
        }
        records.insert(file.to_owned(), got);
    }

    let rows = sqlx::query("SELECT m.file, m.inspection, o.id, o.kind, o.recipient, o.subject, o.status FROM outbox o JOIN messages m ON m.id = o.message_row ORDER BY o.id")
        .fetch_all(store.pool())
        .await
        .expect("outbox rows");
    let replies = rows.iter().filter(|r| r.try_get::<String, _>("kind").expect("kind") != "notice").count();
    let due = labels.iter().filter(|l| l["expect"]["reply"] != "none").count();
    if replies != due {
        problems.push(format!("{replies} replies beside the notices, {due} decisions carry one"));
    }
    let mut noticed: BTreeSet<String> = BTreeSet::new();
    for r in rows.iter().filter(|r| r.try_get::<String, _>("kind").expect("kind") == "notice") {
        let file: String = r.try_get("file").expect("file");
        let mut p = |what: String| problems.push(format!("{file}: notice: {what}"));
        if !noticed.insert(file.clone()) {
            p("more than one".into());
        }
        let Some(lab) = labels.iter().find(|l| l["file"] == file.as_str()) else { continue };
        let rec = &records[&file];
        let (recipient, subject, raw, status): (String, String, String, String) =
            (r.try_get("recipient").expect("recipient"), r.try_get("subject").expect("subject"), store.outbox_raw(r.try_get("id").expect("id")).await.expect("the reply opens"), r.try_get("status").expect("status"));
        if recipient != TO || status != "pending" {
            p(format!("to {recipient} ({status}), expected a pending notice to {TO}"));
        }
        let h = headers(&raw);
        let rcpt: BTreeSet<String> = ["to", "cc", "bcc"].iter().flat_map(|n| field(&h, n)).flat_map(addresses).collect();
        if rcpt != BTreeSet::from([TO.to_owned()]) {
            p(format!("addressed to {rcpt:?}"));
        }
        if !field(&h, "auto-submitted").contains(&"auto-generated") {
            p("no Auto-Submitted: auto-generated".into());
        }
        if !field(&h, "in-reply-to").is_empty() || !field(&h, "references").is_empty() {
            p("threaded to the message it is about".into());
        }
        let category = notice_category(lab);
        let body = raw.split_once("\r\n\r\n").map(|x| x.1).unwrap_or("");
        for (what, text) in [("subject", subject.as_str()), ("body", body)] {
            if !text.contains(&rec.reference) || !text.contains(category) {
                p(format!("{what} {text:?} does not name {} and the category {category:?}", rec.reference));
            }
        }
        if body.contains('@') {
            p(format!("an address in the body {body:?}"));
        }
        // Nothing the message brought: its sender, their name, its subject, the victim's name.
        let inspection: Value = serde_json::from_str(&r.try_get::<String, _>("inspection").expect("inspection")).expect("inspection JSON");
        let env = &inspection["envelope"];
        let personal: Vec<&str> = [&env["from"]["address"], &env["from"]["name"], &env["subject"], &inspection["referral"]["fields"]["victim.name"]]
            .into_iter()
            .filter_map(|v| v.as_str())
            .chain(s(&lab["from"]))
            .filter(|t| t.len() > 3)
            .collect();
        for t in personal {
            if raw.to_lowercase().contains(&t.to_lowercase()) {
                p(format!("quotes {t:?}"));
            }
        }
    }
    let want: BTreeSet<String> = labels.iter().filter(|l| matches!(l["expect"]["outcome"].as_str(), Some("review" | "quarantined"))).filter_map(|l| s(&l["file"]).map(str::to_owned)).collect();
    if noticed != want {
        problems.push(format!("notices for {noticed:?}, expected exactly the review and quarantine items {want:?}"));
    }
    assert!(!want.is_empty() && problems.is_empty(), "{} difference(s):\n{}", problems.len(), problems.join("\n"));
}

/// `threshold.repeat_from = "last_meeting"` through the real pipeline and store: W, referred on
/// 8 January 2025 and heard on 14 January, comes back on 9 January 2026 (046): 366 days after
/// her referral (not a repeat by default: a coordinator checks the repeat she ticked) but 360
/// after the meeting that heard her (a repeat). L's last referral (20 January 2025) was heard on
/// 11 February: her return on 19 January 2026 (047) is a repeat either way, and the reason says
/// what the window was counted from.
#[tokio::test(flavor = "current_thread")]
async fn a_repeat_counted_from_the_last_meeting_takes_in_a_return_the_last_referral_leaves_out() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("fixtures/triage");
    let files = [
        ("001_police_seed_victim_l_accept15.eml", "2025-01-06T09:12:41+00:00"),
        ("002_nhs_seed_victim_w_accept16.eml", "2025-01-08T14:03:05+00:00"),
        ("003_idva_victim_l_after_meeting_repeat.eml", "2025-01-20T11:30:00+00:00"),
        ("046_nhs_victim_w_366_days_repeat_review.eml", "2026-01-09T10:15:00+00:00"),
        ("047_idva_victim_l_364_days_repeat.eml", "2026-01-19T09:58:26+00:00"),
    ];
    let run = |repeat_from: &'static str| {
        let dir = dir.clone();
        async move {
            let env = vec![("MARAC__THRESHOLD__REPEAT_FROM".to_owned(), repeat_from.to_owned())];
            let cfg = marac_intake::config::load(&root.join("config/samples.toml"), env).expect("config/samples.toml loads");
            let scratch = Scratch::new(&format!("repeat-from-{repeat_from}"));
            let store = Store::open(&format!("sqlite://{}/t.db", scratch.0.display())).await.expect("a fresh SQLite store");
            let mut out: BTreeMap<&str, MessageRecord> = BTreeMap::new();
            for (file, arrived) in files {
                let raw = fs::read(dir.join(file)).expect("scenario file");
                let arrived = DateTime::parse_from_rfc3339(arrived).expect("arrived");
                out.insert(file, marac_intake::triage::triage_message(&raw, Some(file), None, arrived, &cfg, &store).await.expect("triaged"));
            }
            out
        }
    };
    let (w, l) = (files[3].0, files[4].0);

    let by_referral = run("last_referral").await;
    assert_eq!((by_referral[w].outcome, by_referral[w].reply_kind), (Outcome::Review, ReplyKind::Holding), "{:?}", by_referral[w].reasons);
    assert_eq!(by_referral[l].outcome, Outcome::Accepted);
    assert_eq!(by_referral[l].reasons, ["repeat: last referred 364 days ago (window 365 days)"]);

    let by_meeting = run("last_meeting").await;
    let got = &by_meeting[w];
    assert_eq!((got.outcome, got.criteria.clone(), got.case.as_str()), (Outcome::Accepted, vec![marac_intake::config::Criterion::Repeat], "new"), "{:?}", got.reasons);
    assert_eq!(got.reasons, ["repeat: last heard at the MARAC of 2025-01-14, 360 days ago (window 365 days)"]);
    assert_eq!(got.victim_ref, by_meeting["002_nhs_seed_victim_w_accept16.eml"].victim_ref, "the same person");
    assert_eq!(by_meeting[l].reasons, ["repeat: last heard at the MARAC of 2025-02-11, 342 days ago (window 365 days)"]);
    for (file, _) in &files[..3] {
        assert_eq!(by_meeting[file].outcome, by_referral[file].outcome, "{file}: the earlier decisions do not change");
    }
}
