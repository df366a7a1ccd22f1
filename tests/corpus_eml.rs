//! The shared robustness corpus (../shared/corpus/eml and tnef, when present): every message is
//! read or refused with a reason through the whole `inspect` pipeline, with no panic escaping.

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
    let opts = InspectOptions::default();
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    let mut escaped = Vec::new();
    for f in &files {
        let raw = std::fs::read(f).expect("readable");
        match std::panic::catch_unwind(|| inspect(&raw, &opts)) {
            Ok(i) => {
                for p in &i.problems {
                    *kinds.entry(format!("{:?}", p.problem.kind)).or_default() += 1;
                }
                // Each message yields an envelope or a stated reason.
                assert!(
                    i.envelope.from.is_some() || i.envelope.message_id.is_some() || !i.problems.is_empty() || i.envelope.subject.is_some() || !i.attachments.is_empty(),
                    "{}: nothing read and no reason given",
                    f.display()
                );
            }
            Err(_) => escaped.push(f.display().to_string()),
        }
    }
    eprintln!("{} corpus messages; problems by kind: {kinds:?}", files.len());
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
        let doc = marac_intake::inspect::read_contained(kind, &raw, &limits);
        assert!(!doc.problems.is_empty() || !doc.is_empty(), "{}: no content and no reason", f.display());
    }
}
