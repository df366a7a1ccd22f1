//! Every scenario of `fixtures/triage/` through the real pipeline (`triage_message`) into a fresh
//! SQLite database, in file order, with `config/samples.toml`; each decision compared with
//! `fixtures/triage/labels.json` field by field (as `../shared/tools/score-labels.py` does, and a
//! little stricter), then the outbox checked row by row. One line per difference; the test fails
//! if there is any. Regenerate the corpus with `cargo run --example gen_fixtures -- fixtures/`.

use chrono::DateTime;
use marac_intake::store::{MessageRecord, Store};
use serde_json::Value;
use sqlx::Row;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// A scratch directory removed when dropped, even if the test fails.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

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
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("fixtures/triage");
    let cfg = marac_intake::config::load(&root.join("config/samples.toml"), Vec::<(String, String)>::new())
        .expect("config/samples.toml loads");
    let labels: Vec<Value> =
        serde_json::from_str(&fs::read_to_string(dir.join("labels.json")).expect("fixtures/triage/labels.json"))
            .expect("labels.json is JSON");
    assert!(labels.len() >= 40, "a corpus of at least 40 scenarios, found {}", labels.len());

    let scratch = Scratch(std::env::temp_dir().join(format!("marac-triage-scenarios-{}", std::process::id())));
    let _ = fs::remove_dir_all(&scratch.0);
    fs::create_dir_all(&scratch.0).expect("scratch directory");
    let store = Store::open(&format!("sqlite://{}/t.db", scratch.0.display())).await.expect("a fresh SQLite store");

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
        let outcome = s(&exp["outcome"]).expect("outcome");

        // When it arrived: the topmost Received date, as labelled.
        match DateTime::parse_from_rfc3339(&got.arrived) {
            Ok(a) if a == arrived => {}
            _ => p(format!("arrived {} != {}", got.arrived, arrived.to_rfc3339())),
        }
        if got.outcome != outcome {
            p(format!("outcome {} != {outcome}", got.outcome));
        }
        if outcome == "accepted" {
            let want: BTreeSet<&str> = exp["criteria"].as_array().expect("criteria").iter().filter_map(Value::as_str).collect();
            let have: BTreeSet<&str> = got.criteria.iter().map(String::as_str).collect();
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
            None if got.dash.is_some() && !matches!(outcome, "quarantined" | "ignored") => {
                p(format!("dash {:?} read where no DASH is readable", got.dash))
            }
            _ => {}
        }
        let case = s(&exp["case"]).expect("case");
        if got.case != case {
            p(format!("case {} != {case}", got.case));
        }
        let reply = s(&exp["reply"]).expect("reply");
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
        if matches!(outcome, "rejected" | "review" | "quarantined" | "ignored") && got.reasons.is_empty() {
            p(format!("a {outcome} message without a reason"));
        }

        // Identity: the same key is the same person, different keys different people.
        let key = s(&exp["victim_key"]);
        match (key, &got.victim_ref) {
            (Some(k), Some(r)) => {
                groups.entry(k.to_owned()).or_default().insert(r.clone());
                refs.entry(r.clone()).or_default().insert(k.to_owned());
            }
            (Some(_), None) if outcome == "accepted" => p("no victim_ref on an accepted referral".into()),
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
    let rows = sqlx::query("SELECT m.file, o.kind, o.recipient, o.subject, o.raw, o.status FROM outbox o JOIN messages m ON m.id = o.message_row ORDER BY o.id")
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
            r.try_get("raw").expect("raw"),
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
            match &got.case_ref {
                Some(r) if subject.contains(r.as_str()) => {}
                r => p(format!("acknowledgement subject {subject:?} does not quote the case reference {r:?}")),
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

    for (file, got) in &results {
        eprintln!(
            "{file:<58} {:<11} {:<24} {:<6} {:<16} {}",
            got.outcome,
            got.criteria.join(","),
            got.case,
            got.case_ref.as_deref().unwrap_or("-"),
            got.reply_kind
        );
    }
    assert!(problems.is_empty(), "{} difference(s) from fixtures/triage/labels.json:\n{}", problems.len(), problems.join("\n"));
}
