//! The golden corpus in `fixtures/` and the triage scenarios in `fixtures/triage/` are exactly
//! what the generator writes, and the manifest and the triage labels are internally consistent.
//! Regenerate with `cargo run --example gen_fixtures -- fixtures/`.

use crate::support::Scratch;
use crate::gen;

use serde_json::Value;
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

fn first_difference(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).position(|(x, y)| x != y).unwrap_or(a.len().min(b.len()))
}

#[test]
fn committed_fixtures_are_byte_for_byte_what_the_generator_writes() {
    let scratch = Scratch::new("fixtures");
    let written = gen::write_all(&scratch.0).expect("generator writes into a scratch directory");
    let committed_dir = fixtures_dir();

    let mut problems = Vec::new();
    for name in &written {
        let fresh = fs::read(scratch.0.join(name)).expect("read generated file");
        let Ok(committed) = fs::read(committed_dir.join(name)) else {
            problems.push(format!("{name}: generated but not committed"));
            continue;
        };
        if name == gen::LARGE_FIXTURE {
            // About 21 MB: compared by length and digest.
            let (a, b) = (gen::util::sha256_hex(&fresh), gen::util::sha256_hex(&committed));
            if fresh.len() != committed.len() || a != b {
                problems.push(format!("{name}: sha256 {b} committed, {a} generated"));
            }
        } else if fresh != committed {
            problems.push(format!(
                "{name}: differs at byte {} ({} bytes committed, {} generated)",
                first_difference(&fresh, &committed),
                committed.len(),
                fresh.len()
            ));
        }
    }
    let generated: BTreeSet<&String> = written.iter().collect();
    for sub in ["", gen::TRIAGE_DIR] {
        let dir = committed_dir.join(sub);
        for entry in fs::read_dir(&dir).unwrap_or_else(|_| panic!("{} exists", dir.display())) {
            let file = entry.expect("directory entry").file_name().to_string_lossy().into_owned();
            let name = if sub.is_empty() { file } else { format!("{sub}/{file}") };
            if name.ends_with(".eml") && !generated.contains(&name) {
                problems.push(format!("{name}: committed but no longer generated"));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "fixtures/ is out of date; run `cargo run --example gen_fixtures -- fixtures/`:\n{}",
        problems.join("\n")
    );
}

fn manifest() -> Vec<Value> {
    let text = fs::read_to_string(fixtures_dir().join("manifest.json")).expect("fixtures/manifest.json");
    serde_json::from_str(&text).expect("manifest is JSON")
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array().expect("array").iter().map(|x| x.as_str().expect("string")).collect()
}

#[test]
fn manifest_is_consistent_with_itself_and_the_files() {
    const KINDS: &[&str] =
        &["pdf", "docx", "xlsx", "xls", "ods", "odt", "doc", "tnef", "encrypted_office", "image", "text", "unknown"];
    const PROBLEMS: &[&str] = &["encrypted", "scanned", "corrupt", "truncated", "limit_exceeded", "unsupported"];
    const REASONS: &[&str] = &["visible_high_risk", "professional_judgement", "potential_escalation", "repeat"];
    const SIGNALS: &[&str] = &["auto_reply", "dsn", "list"];
    const FORMATS: &[&str] = &[
        "pdf_acroform_radio",
        "pdf_acroform_tree",
        "pdf_acroform_text",
        "pdf_checkbox_pairs",
        "pdf_flattened",
        "xlsx_answer_column",
        "xlsx_x_columns",
        "xls_answer_column",
        "docx_typed",
        "docx_content_controls",
        "docx_legacy_checkboxes",
        "ods",
    ];

    let entries = manifest();
    assert!(entries.len() >= 40, "a corpus of at least 40 fixtures, found {}", entries.len());
    let dir = fixtures_dir();
    let mut files = BTreeSet::new();
    let mut message_ids = BTreeSet::new();
    let mut previous = String::new();

    for e in &entries {
        let file = e["file"].as_str().expect("file");
        let ctx = |what: &str| format!("{file}: {what}");
        assert!(file > previous.as_str(), "{}", ctx("entries are sorted by file name"));
        previous = file.to_string();
        assert!(files.insert(file.to_string()), "{}", ctx("listed once"));
        let (num, rest) = file.split_at(3);
        assert!(
            num.bytes().all(|b| b.is_ascii_digit()) && rest.starts_with('_') && rest.ends_with(".eml"),
            "{}",
            ctx("named NNN_description.eml")
        );
        assert!(!e["description"].as_str().unwrap_or("").is_empty(), "{}", ctx("has a description"));

        // The message itself.
        let raw = fs::read(dir.join(file)).unwrap_or_else(|_| panic!("{}", ctx("file exists")));
        let head_end = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("header block ends");
        let head = String::from_utf8(raw[..head_end].to_vec()).expect("header block is ASCII");
        assert!(
            head.starts_with("Received: from ") && head.lines().take(3).any(|l| l.contains("by mx.marac.example.test")),
            "{}",
            ctx("topmost Received is from mx.marac.example.test")
        );
        assert!(
            head.contains("\r\nAuthentication-Results: mx.marac.example.test;"),
            "{}",
            ctx("trusted Authentication-Results")
        );
        let mid = head.lines().find(|l| l.starts_with("Message-ID:")).expect("Message-ID").to_string();
        assert!(message_ids.insert(mid), "{}", ctx("unique Message-ID"));
        for field in ["\r\nDate: ", "\r\nFrom: ", "\r\nTo: ", "\r\nSubject: "] {
            assert!(head.contains(field), "{}", ctx(&format!("has{}", field.trim_end())));
        }

        let t = &e["truth"];
        // DASH counts.
        match &t["dash"] {
            Value::Null => {
                assert!(t["dash_format"].is_null(), "{}", ctx("no format without a DASH"));
                assert!(
                    t["conflicting_questions"].as_array().expect("array").is_empty(),
                    "{}",
                    ctx("no conflicts without a DASH")
                );
            }
            d => {
                let n = |k: &str| d[k].as_u64().unwrap_or_else(|| panic!("{}", ctx(k)));
                assert_eq!(n("yes") + n("no") + n("unknown"), 24, "{}", ctx("yes + no + unknown = 24"));
                let format = t["dash_format"].as_str().expect("dash_format");
                assert!(FORMATS.contains(&format), "{}", ctx(&format!("known format {format}")));
                let conflicts = t["conflicting_questions"].as_array().expect("array");
                assert!(conflicts.len() as u64 <= n("unknown"), "{}", ctx("conflicting answers count as unknown"));
                assert!(
                    conflicts.iter().all(|q| (1..=24).contains(&q.as_u64().unwrap_or(0))),
                    "{}",
                    ctx("question numbers 1..=24")
                );
                if let Some(s) = t["stated_dash_score"].as_u64() {
                    assert!(
                        s == n("yes") || file.contains("disagrees"),
                        "{}",
                        ctx("stated score agrees with the checklist")
                    );
                }
            }
        }
        // Attachments.
        for a in t["attachments"].as_array().expect("attachments") {
            assert!(!a["name"].as_str().unwrap_or("").is_empty(), "{}", ctx("attachment name"));
            let kind = a["kind"].as_str().expect("kind");
            assert!(KINDS.contains(&kind), "{}", ctx(&format!("known kind {kind}")));
            if let Some(p) = a["problem"].as_str() {
                assert!(PROBLEMS.contains(&p), "{}", ctx(&format!("known problem {p}")));
            }
        }
        // Referral fields.
        assert!(strings(&t["reasons_ticked"]).iter().all(|r| REASONS.contains(r)), "{}", ctx("known reasons"));
        assert!(strings(&t["signals"]).iter().all(|s| SIGNALS.contains(s)), "{}", ctx("known signals"));
        if let Some(dob) = t["victim_dob"].as_str() {
            assert!(chrono::NaiveDate::parse_from_str(dob, "%Y-%m-%d").is_ok(), "{}", ctx("victim_dob is an ISO date"));
        }
        if let Some(s) = t["stated_dash_score"].as_u64() {
            assert!(s <= 24, "{}", ctx("stated score 0..=24"));
        }
        if t["police_callouts"].as_u64().is_some() || t["pj_rationale_present"] == Value::Bool(true) {
            assert!(!t["victim_name"].is_null(), "{}", ctx("referral details come with a readable form"));
        }
        if !t["signals"].as_array().expect("signals").is_empty() {
            assert!(
                t["dash"].is_null() && t["victim_name"].is_null(),
                "{}",
                ctx("auto-replies, bounces and lists carry no referral")
            );
        }
        assert!(t["forwarded"].is_boolean() && t["pj_rationale_present"].is_boolean(), "{}", ctx("booleans"));
    }

    for entry in fs::read_dir(&dir).expect("fixtures/") {
        let name = entry.expect("entry").file_name().to_string_lossy().into_owned();
        if name.ends_with(".eml") {
            assert!(files.contains(&name), "{name} is in fixtures/ but not in the manifest");
        }
    }
}

#[test]
fn manifest_covers_the_cases_the_readers_must_handle() {
    let entries = manifest();
    let all = |f: &dyn Fn(&Value) -> Vec<String>| -> BTreeSet<String> {
        entries.iter().flat_map(|e| f(&e["truth"])).collect()
    };
    let formats = all(&|t| t["dash_format"].as_str().map(str::to_string).into_iter().collect());
    let problems = all(&|t| {
        t["attachments"].as_array().unwrap().iter().filter_map(|a| a["problem"].as_str().map(str::to_string)).collect()
    });
    let kinds = all(&|t| {
        t["attachments"].as_array().unwrap().iter().map(|a| a["kind"].as_str().unwrap().to_string()).collect()
    });
    let signals = all(&|t| strings(&t["signals"]).into_iter().map(str::to_string).collect());
    let reasons = all(&|t| strings(&t["reasons_ticked"]).into_iter().map(str::to_string).collect());
    for f in [
        "pdf_acroform_radio",
        "pdf_checkbox_pairs",
        "pdf_flattened",
        "xlsx_answer_column",
        "xlsx_x_columns",
        "docx_typed",
        "docx_content_controls",
        "docx_legacy_checkboxes",
        "ods",
    ] {
        assert!(formats.contains(f), "no fixture with a {f} DASH");
    }
    for p in ["encrypted", "scanned", "corrupt", "truncated", "limit_exceeded", "unsupported"] {
        assert!(problems.contains(p), "no fixture with a {p} attachment");
    }
    for k in ["pdf", "docx", "xlsx", "xls", "ods", "odt", "doc", "tnef", "encrypted_office", "image", "text"] {
        assert!(kinds.contains(k), "no fixture with a {k} attachment");
    }
    for s in ["auto_reply", "dsn", "list"] {
        assert!(signals.contains(s), "no fixture with the {s} signal");
    }
    for r in ["visible_high_risk", "professional_judgement", "potential_escalation", "repeat"] {
        assert!(reasons.contains(r), "no fixture with {r} ticked");
    }
    assert!(entries.iter().any(|e| e["truth"]["forwarded"] == Value::Bool(true)), "no forwarded referral");
    assert!(
        entries.iter().any(|e| !e["truth"]["conflicting_questions"].as_array().unwrap().is_empty()),
        "no conflicting answer"
    );
    assert!(
        entries.iter().any(|e| {
            let t = &e["truth"];
            matches!((t["stated_dash_score"].as_u64(), t["dash"]["yes"].as_u64()), (Some(s), Some(y)) if s != y)
        }),
        "no stated score that disagrees with the checklist"
    );
}

fn triage_labels() -> Vec<Value> {
    let text = fs::read_to_string(fixtures_dir().join(gen::TRIAGE_DIR).join("labels.json")).expect("fixtures/triage/labels.json");
    serde_json::from_str(&text).expect("labels.json is JSON")
}

/// The unfolded value of the first header field called `name` (case-insensitive).
fn header(head: &str, name: &str) -> Option<String> {
    let mut found: Option<String> = None;
    for line in head.split("\r\n") {
        if let Some(v) = found.as_mut() {
            if line.starts_with([' ', '\t']) {
                v.push(' ');
                v.push_str(line.trim());
                continue;
            }
            break;
        }
        if let Some((n, v)) = line.split_once(':') {
            if n.eq_ignore_ascii_case(name) {
                found = Some(v.trim().to_string());
            }
        }
    }
    found
}

#[test]
fn triage_labels_are_consistent_with_themselves_and_the_files() {
    const OUTCOMES: &[&str] = &["accepted", "rejected", "review", "quarantined", "ignored"];
    const CRITERIA: &[&str] = &["visible_high_risk", "professional_judgement", "potential_escalation", "repeat"];
    let labels = triage_labels();
    assert!(labels.len() >= 40, "at least 40 triage scenarios, found {}", labels.len());
    let dir = fixtures_dir().join(gen::TRIAGE_DIR);
    let mut files = BTreeSet::new();
    let mut message_ids = BTreeSet::new();
    let mut previous_file = String::new();
    let mut previous_arrival: Option<chrono::DateTime<chrono::FixedOffset>> = None;
    for l in &labels {
        let file = l["file"].as_str().expect("file");
        let ctx = |what: &str| format!("triage/{file}: {what}");
        assert!(file > previous_file.as_str(), "{}", ctx("labels are in file order"));
        previous_file = file.to_string();
        files.insert(file.to_string());
        let raw = fs::read(dir.join(file)).unwrap_or_else(|_| panic!("{}", ctx("file exists")));
        let head_end = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("header block ends");
        let head = String::from_utf8(raw[..head_end].to_vec()).expect("header block is ASCII");

        // Arrival: the topmost Received, from our own server, in processing order.
        let received = header(&head, "Received").expect("a Received header");
        assert!(head.starts_with("Received: ") && received.contains("by mx.marac.example.test"), "{}", ctx("topmost Received is from mx.marac.example.test"));
        let stamp = received.rsplit(';').next().expect("Received date").trim();
        let at = chrono::DateTime::parse_from_rfc2822(stamp).unwrap_or_else(|_| panic!("{}", ctx("Received date parses")));
        let labelled = chrono::DateTime::parse_from_rfc3339(l["arrived"].as_str().expect("arrived")).expect("arrived is ISO 8601");
        assert_eq!(at, labelled, "{}", ctx("arrived is the topmost Received date"));
        assert_eq!(at.offset(), labelled.offset(), "{}", ctx("arrived keeps the Received offset"));
        assert!(previous_arrival.is_none_or(|p| p <= at), "{}", ctx("arrives after the message before it"));
        previous_arrival = Some(at);
        let from = header(&head, "From").expect("From");
        assert!(from.to_ascii_lowercase().contains(&l["from"].as_str().expect("from").to_ascii_lowercase()), "{}", ctx("from is the From address"));

        let e = &l["expect"];
        let outcome = e["outcome"].as_str().expect("outcome");
        assert!(OUTCOMES.contains(&outcome), "{}", ctx("known outcome"));
        // A Message-ID seen before only on the duplicate that is ignored.
        let mid = header(&head, "Message-ID").expect("Message-ID");
        assert!(message_ids.insert(mid) || outcome == "ignored", "{}", ctx("unique Message-ID unless an ignored duplicate"));

        let criteria = strings(&e["criteria"]);
        assert!(criteria.iter().all(|c| CRITERIA.contains(c)), "{}", ctx("known criteria"));
        assert!(outcome == "accepted" || criteria.is_empty(), "{}", ctx("criteria only when accepted"));
        let case = e["case"].as_str().expect("case");
        assert_eq!(outcome == "accepted", case != "none", "{}", ctx("a case (new or linked) exactly when accepted"));
        assert!(["new", "linked", "none"].contains(&case), "{}", ctx("known case"));
        assert!(outcome != "accepted" || case == "linked" || !criteria.is_empty(), "{}", ctx("a new case meets a criterion"));
        let counts: Vec<Option<u64>> = ["dash_yes", "dash_no", "dash_unknown"].iter().map(|k| e[*k].as_u64()).collect();
        match counts.as_slice() {
            [Some(y), Some(n), Some(u)] => assert_eq!(y + n + u, 24, "{}", ctx("yes + no + unknown = 24")),
            [None, None, None] => {}
            _ => panic!("{}", ctx("DASH counts all given or all null")),
        }
        let reply = e["reply"].as_str().expect("reply");
        // A bounce of one of our replies is reviewed, but never answered.
        let bounce = head.contains("Content-Type: multipart/report");
        let want_reply = match outcome {
            "accepted" => "acknowledgement",
            "rejected" => "rejection",
            "review" if !bounce => "holding",
            _ => "none",
        };
        assert_eq!(reply, want_reply, "{}", ctx("the reply kind follows the outcome"));
        assert_eq!(reply == "none", e["reply_to"].is_null(), "{}", ctx("reply_to exactly when a reply is due"));
        let keywords = strings(&e["reason_keywords"]);
        assert!(keywords.iter().all(|k| *k == k.to_lowercase()), "{}", ctx("keywords are lower case"));
        assert!(outcome == "accepted" || !keywords.is_empty(), "{}", ctx("every refusal names what its reason must say"));
        if matches!(outcome, "quarantined" | "ignored") {
            assert!(e["victim_key"].is_null() && counts[0].is_none(), "{}", ctx("quarantined and ignored messages are not read for content"));
        }
        assert!(!l["notes"].as_str().unwrap_or("").is_empty(), "{}", ctx("has notes"));
    }
    for entry in fs::read_dir(&dir).expect("fixtures/triage/") {
        let name = entry.expect("entry").file_name().to_string_lossy().into_owned();
        if name.ends_with(".eml") {
            assert!(files.contains(&name), "triage/{name} is not in labels.json");
        }
    }

    // Coverage: every outcome, criterion, case kind and reply kind occurs.
    let seen = |f: &dyn Fn(&Value) -> Vec<String>| -> BTreeSet<String> { labels.iter().flat_map(|l| f(&l["expect"])).collect() };
    let outcomes = seen(&|e| vec![e["outcome"].as_str().unwrap().to_string()]);
    let criteria = seen(&|e| strings(&e["criteria"]).into_iter().map(str::to_string).collect());
    let cases = seen(&|e| vec![e["case"].as_str().unwrap().to_string()]);
    let replies = seen(&|e| vec![e["reply"].as_str().unwrap().to_string()]);
    for o in OUTCOMES {
        assert!(outcomes.contains(*o), "no triage scenario ends {o}");
    }
    for c in CRITERIA {
        assert!(criteria.contains(*c), "no triage scenario accepted on {c}");
    }
    for c in ["new", "linked", "none"] {
        assert!(cases.contains(c), "no triage scenario with case {c}");
    }
    for r in ["acknowledgement", "rejection", "holding", "none"] {
        assert!(replies.contains(r), "no triage scenario with a {r} reply");
    }
}
