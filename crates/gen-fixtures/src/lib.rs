//! Deterministic generator of the golden fixture corpus under `fixtures/`.
//!
//! Every byte comes from code: fixed dates, boundaries and ids derived from each fixture's
//! name, fixed zip timestamps, a fixed-seed generator for filler bytes, a stable order.
//! Running it twice writes identical files. A crate of the workspace, used only in development:
//! by `examples/gen_fixtures.rs` (which writes the corpus), `tests/it/fixtures_reproducible.rs`
//! (which checks the committed corpus) and the tests and benches that generate emails. The
//! triage scenarios ([`triage`]) are written beside the corpus, into `triage/`.
#![allow(dead_code)]

pub mod binary;
pub mod data;
pub mod docx;
pub mod fixtures;
pub mod form;
pub mod mail;
pub mod manifest;
pub mod odf;
pub mod pdf;
pub mod triage;
pub mod util;
pub mod variation;
pub mod xlsx;
pub mod zipw;

use std::io;
use std::path::Path;

/// The fixture too large to compare byte for byte in tests (compared by SHA-256 instead).
pub const LARGE_FIXTURE: &str = "026_police_large_15mb_pdf.eml";

/// One generated message and what a correct reader must see in it.
pub struct Fixture {
    pub file: String,
    pub description: String,
    pub eml: Vec<u8>,
    pub truth: manifest::Truth,
}

/// All fixtures, in file-name order.
pub fn build() -> Vec<Fixture> {
    let mut v = fixtures::all();
    v.sort_by(|a, b| a.file.cmp(&b.file));
    v
}

/// The manifest of `fixtures` as written to `manifest.json`.
pub fn manifest_json(fixtures: &[Fixture]) -> Vec<u8> {
    let entries: Vec<manifest::Entry> = fixtures
        .iter()
        .map(|f| manifest::Entry { file: f.file.clone(), description: f.description.clone(), truth: f.truth.clone() })
        .collect();
    let mut out = serde_json::to_vec_pretty(&entries).expect("manifest serialises");
    out.push(b'\n');
    out
}

/// Every file of the corpus: the messages, then `manifest.json`.
pub fn files() -> Vec<(String, Vec<u8>)> {
    let fixtures = build();
    let manifest = manifest_json(&fixtures);
    let mut out: Vec<(String, Vec<u8>)> = fixtures.into_iter().map(|f| (f.file, f.eml)).collect();
    out.push(("manifest.json".to_string(), manifest));
    out
}

/// The subdirectory holding the triage scenarios (see [`triage`]).
pub const TRIAGE_DIR: &str = "triage";

/// Every file of the triage scenario corpus, named relative to the corpus root
/// (`triage/NNN_name.eml`, `triage/labels.json`).
pub fn triage_files() -> Vec<(String, Vec<u8>)> {
    triage::files().into_iter().map(|(name, bytes)| (format!("{TRIAGE_DIR}/{name}"), bytes)).collect()
}

/// Writes the corpus into `dir` (created if missing), the triage scenarios into `dir/triage/`,
/// and returns the names written (relative to `dir`).
pub fn write_all(dir: &Path) -> io::Result<Vec<String>> {
    std::fs::create_dir_all(dir.join(TRIAGE_DIR))?;
    let mut names = Vec::new();
    for (name, bytes) in files().into_iter().chain(triage_files()) {
        std::fs::write(dir.join(&name), &bytes)?;
        names.push(name);
    }
    Ok(names)
}
