//! The golden corpus: every `fixtures/*.eml` with its expected `inspect --json` beside it
//! (`fixtures/NAME.inspect.json`). A difference fails with a readable diff. To rewrite the
//! expectations on purpose, after reading the diff: `UPDATE_GOLDEN=1 cargo test --test it golden`.

use marac_intake::inspect::{inspect, InspectOptions};
use std::path::{Path, PathBuf};

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixtures/ exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    files.sort();
    files
}

/// Compares `actual` with the file at `expected_path`, or rewrites it when UPDATE_GOLDEN is set.
/// Returns a readable diff when they differ.
fn compare(expected_path: &Path, actual: &str) -> Option<String> {
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(expected_path, actual).expect("write golden file");
        return None;
    }
    let expected = std::fs::read_to_string(expected_path).unwrap_or_default();
    if expected == actual {
        return None;
    }
    let diff = similar::TextDiff::from_lines(expected.as_str(), actual);
    let mut out = format!("--- {} (expected)\n+++ actual\n", expected_path.display());
    for hunk in diff.unified_diff().context_radius(2).iter_hunks() {
        out.push_str(&hunk.to_string());
    }
    Some(out)
}

#[test]
fn golden_corpus_matches_expectations() {
    let files = fixtures();
    assert!(files.len() >= 10, "the golden corpus has only {} emails", files.len());
    let opts = InspectOptions::with_clock(std::time::Instant::now);
    let mut failures = Vec::new();
    for file in &files {
        let raw = std::fs::read(file).expect("read fixture");
        let inspection = inspect(&raw, &opts);
        let mut json = serde_json::to_string_pretty(&inspection).expect("serialise");
        json.push('\n');
        if let Some(diff) = compare(&file.with_extension("inspect.json"), &json) {
            failures.push(diff);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} fixtures differ from their golden files (UPDATE_GOLDEN=1 rewrites them):\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}
