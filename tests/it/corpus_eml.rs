//! The shared robustness corpus (../shared/corpus/eml and tnef, when present): every message is
//! read or refused with a reason through the whole `inspect` pipeline, with no panic escaping.

use marac_intake::decide::{decide, History, Outcome, ReplyKind};
use marac_intake::inspect::{inspect, InspectOptions};
use std::collections::BTreeMap;
use std::path::Path;

fn files(sub: &str) -> Option<Vec<std::path::PathBuf>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus").join(sub);
    let mut out: Vec<_> = std::fs::read_dir(&dir).ok()?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    out.sort();
    Some(out)
}

#[test]
fn every_corpus_message_is_read_or_refused() {
    let Some(files) = files("eml") else {
        eprintln!("skipped: ../shared/corpus/eml not present");
        return;
    };
    let opts = InspectOptions::with_clock(std::time::Instant::now);
    let config = marac_intake::config::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("config/samples.toml"), Vec::new()).expect("samples config");
    let day = chrono::NaiveDate::from_ymd_opt(2025, 6, 1).unwrap();
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
    let mut escaped = Vec::new();
    for f in &files {
        let raw = std::fs::read(f).expect("readable");
        match std::panic::catch_unwind(|| inspect(&raw, &opts)) {
            Ok(i) => {
                for p in &i.problems {
                    *kinds.entry(format!("{:?}", p.problem.kind)).or_default() += 1;
                }
                // Each message gets a decision, and none of these strangers' messages is answered
                // (none of their senders is on the samples' allowlist).
                let d = decide(&i, &History::default(), &config, day);
                *outcomes.entry(d.outcome.as_str().to_owned()).or_default() += 1;
                assert!(
                    matches!(d.outcome, Outcome::Quarantined | Outcome::Ignored) && d.reply == ReplyKind::None,
                    "{}: a message from outside the allowlist was {:?} with reply {:?}",
                    f.display(),
                    d.outcome,
                    d.reply
                );
            }
            Err(_) => escaped.push(f.display().to_string()),
        }
    }
    eprintln!("{} corpus messages; problems by kind: {kinds:?}; decisions: {outcomes:?}", files.len());
    assert!(escaped.is_empty(), "panics escaped inspect on: {escaped:?}");
}

#[test]
fn every_tnef_blob_is_refused_with_a_reason() {
    let Some(files) = files("tnef") else {
        eprintln!("skipped: ../shared/corpus/tnef not present");
        return;
    };
    let limits = marac_intake::limits::Limits::default();
    for f in &files {
        let raw = std::fs::read(f).expect("readable");
        let kind = marac_intake::sniff::sniff(&raw);
        let doc = marac_intake::inspect::read_contained(kind, &raw, &limits, std::time::Instant::now);
        assert!(!doc.problems.is_empty() || !doc.is_empty(), "{}: no content and no reason", f.display());
    }
}
