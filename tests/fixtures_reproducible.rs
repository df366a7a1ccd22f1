//! The golden corpus in `fixtures/` is exactly what the generator writes, and its manifest is
//! internally consistent. Regenerate with `cargo run --example gen_fixtures -- fixtures/`.

#[path = "../examples/gen_fixtures/mod.rs"]
mod gen;

use serde_json::Value;
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// A scratch directory removed when dropped, even if the test fails.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn first_difference(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).position(|(x, y)| x != y).unwrap_or(a.len().min(b.len()))
}

#[test]
fn committed_fixtures_are_byte_for_byte_what_the_generator_writes() {
    let scratch = Scratch(std::env::temp_dir().join(format!("marac-fixtures-{}", std::process::id())));
    let _ = fs::remove_dir_all(&scratch.0);
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
    for entry in fs::read_dir(&committed_dir).expect("fixtures/ exists") {
        let name = entry.expect("directory entry").file_name().to_string_lossy().into_owned();
        if name.ends_with(".eml") && !generated.contains(&name) {
            problems.push(format!("{name}: committed but no longer generated"));
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
