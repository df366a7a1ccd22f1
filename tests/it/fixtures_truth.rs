//! What a correct reader must see in each generated fixture (`fixtures/manifest.json`, written by
//! the generator that built the forms, so it knows the truth), compared field by field with
//! `inspect`. The golden files pin the whole output; this test says whether it is right.

use marac_intake::inspect::{inspect, InspectOptions, Inspection};
use serde_json::Value;
use std::path::Path;

fn kind_name(i: &Inspection, idx: usize) -> String {
    serde_json::to_value(i.attachments[idx].kind).unwrap().as_str().unwrap().to_owned()
}

fn check(file: &str, truth: &Value, i: &Inspection) -> Vec<String> {
    let mut wrong = Vec::new();
    let mut expect = |what: &str, want: String, got: String| {
        if want != got {
            wrong.push(format!("{file}: {what}: expected {want}, read {got}"));
        }
    };
    // The DASH counts.
    let dash = i.dash.as_ref().map(|d| format!("{}/{}/{}", d.yes, d.no, d.unknown));
    let want = truth["dash"].as_object().map(|d| format!("{}/{}/{}", d["yes"], d["no"], d["unknown"]));
    expect("dash yes/no/unknown", format!("{want:?}"), format!("{dash:?}"));
    // Attachments: decoded names, detected kinds, and the problem each must report.
    let atts = truth["attachments"].as_array().cloned().unwrap_or_default();
    expect("attachment count", atts.len().to_string(), i.attachments.len().to_string());
    for (k, a) in atts.iter().enumerate().take(i.attachments.len()) {
        expect(&format!("attachment {} name", k + 1), format!("{:?}", a["name"].as_str()), format!("{:?}", i.attachments[k].name.as_deref()));
        expect(&format!("attachment {} kind", k + 1), a["kind"].as_str().unwrap_or("").to_owned(), kind_name(i, k));
        let problems: Vec<String> = i.attachments[k].problems.iter().map(|p| serde_json::to_value(p.kind).unwrap().as_str().unwrap().to_owned()).collect();
        match a["problem"].as_str() {
            Some(p) => expect(&format!("attachment {} problem", k + 1), p.to_owned(), if problems.iter().any(|x| x == p) { p.to_owned() } else { problems.join(",") }),
            None => expect(&format!("attachment {} problem", k + 1), String::new(), problems.join(",")),
        }
    }
    // Referral form fields.
    let r = i.referral.as_ref();
    let field = |k: &str| r.and_then(|r| r.get(k)).map(str::to_owned);
    expect("victim name", format!("{:?}", truth["victim_name"].as_str()), format!("{:?}", field("victim.name").as_deref()));
    expect("victim dob", format!("{:?}", truth["victim_dob"].as_str()), format!("{:?}", r.and_then(|r| r.victim_dob).map(|d| d.to_string()).as_deref()));
    expect("perpetrator name", format!("{:?}", truth["perpetrator_name"].as_str()), format!("{:?}", field("perpetrator.name").as_deref()));
    expect("stated DASH score", format!("{:?}", truth["stated_dash_score"].as_u64()), format!("{:?}", r.and_then(|r| r.stated_dash_score).map(u64::from)));
    expect("police call-outs", format!("{:?}", truth["police_callouts"].as_u64()), format!("{:?}", r.and_then(|r| r.police_callouts).map(u64::from)));
    let mut ticked: Vec<String> = r.map(|r| r.reasons.iter().filter(|(_, v)| **v).map(|(k, _)| k.clone()).collect()).unwrap_or_default();
    ticked.sort();
    let mut want_ticked: Vec<String> = truth["reasons_ticked"].as_array().into_iter().flatten().filter_map(|v| v.as_str().map(str::to_owned)).collect();
    want_ticked.sort();
    expect("reasons ticked", format!("{want_ticked:?}"), format!("{ticked:?}"));
    let rationale = field("professional_judgement_rationale").is_some();
    expect("rationale present", truth["pj_rationale_present"].to_string(), rationale.to_string());
    // Signals.
    let mut sig: Vec<String> = i.signals.iter().map(|s| serde_json::to_value(s.kind).unwrap().as_str().unwrap().to_owned()).collect();
    sig.sort();
    sig.dedup();
    let mut want_sig: Vec<String> = truth["signals"].as_array().into_iter().flatten().filter_map(|v| v.as_str().map(str::to_owned)).collect();
    want_sig.sort();
    expect("signals", format!("{want_sig:?}"), format!("{sig:?}"));
    // Conflicting marks are reported, never guessed.
    let conflicts = truth["conflicting_questions"].as_array().map(Vec::len).unwrap_or(0);
    let reported = i.dash.as_ref().map(|d| d.problems.iter().filter(|p| format!("{:?}", p.kind) == "ConflictingMarks").count()).unwrap_or(0);
    expect("conflicting questions reported", conflicts.to_string(), reported.to_string());
    wrong
}

#[test]
fn every_fixture_reads_as_its_generator_says() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let manifest: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).expect("manifest")).expect("JSON");
    let opts = InspectOptions::with_clock(std::time::Instant::now);
    let mut wrong = Vec::new();
    let entries = manifest.as_array().expect("array");
    assert!(entries.len() >= 40);
    for e in entries {
        let file = e["file"].as_str().unwrap();
        let raw = std::fs::read(dir.join(file)).expect("fixture");
        wrong.extend(check(file, &e["truth"], &inspect(&raw, &opts)));
    }
    assert!(wrong.is_empty(), "{} differences:\n{}", wrong.len(), wrong.join("\n"));
}
