//! The Word and OpenDocument readers against the shared robustness corpus (files written by other
//! projects, many deliberately broken): no panic, no hang, and every file gives either content or
//! a stated problem. Skipped, with a message, when the corpus is not checked out beside the crate.

use marac_intake::document::{Block, Document, ProblemKind};
use marac_intake::limits::{Deadline, Limits};
use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const DOCX_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus/docx");
const SHEETS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus/sheets");

fn files(dir: &str, extensions: &[&str]) -> Option<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).ok()?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().and_then(|e| e.to_str()).is_some_and(|e| extensions.contains(&e)))
        .collect();
    files.sort();
    Some(files)
}

fn name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// Reads every file with `read`, panics contained; returns the documents by file name.
fn run_all(paths: &[PathBuf], read: impl Fn(&[u8], &Limits, Deadline) -> Document) -> BTreeMap<String, Document> {
    let limits = Limits::default();
    let mut out = BTreeMap::new();
    let mut failures = Vec::new();
    let mut per_kind: BTreeMap<String, usize> = BTreeMap::new();
    let mut with_content = 0;
    for path in paths {
        let bytes = std::fs::read(path).expect("corpus file readable");
        let started = Instant::now();
        let result =
            catch_unwind(AssertUnwindSafe(|| read(&bytes, &limits, Deadline::after(limits.time_per_attachment(), std::time::Instant::now))));
        let took = started.elapsed();
        let name = name(path);
        match result {
            Err(_) => failures.push(format!("{name}: panicked")),
            Ok(doc) => {
                if doc.blocks.is_empty() && doc.problems.is_empty() {
                    failures.push(format!("{name}: neither content nor a problem"));
                }
                // The deadline is 10 s; a reader that notices it late is a hang in waiting.
                if took > limits.time_per_attachment() + Duration::from_secs(2) {
                    failures.push(format!("{name}: took {took:?}"));
                }
                if !doc.blocks.is_empty() {
                    with_content += 1;
                }
                for p in &doc.problems {
                    *per_kind.entry(format!("{:?}", p.kind)).or_default() += 1;
                }
                let kinds: Vec<String> = doc.problems.iter().map(|p| format!("{:?}: {}", p.kind, p.detail)).collect();
                println!("{name}: {} blocks, {took:?} {kinds:?}", doc.blocks.len());
                out.insert(name, doc);
            }
        }
    }
    println!("{} files, {with_content} with content; problems by kind: {per_kind:?}", paths.len());
    assert!(failures.is_empty(), "{failures:#?}");
    out
}

fn all_text(doc: &Document) -> String {
    let mut s = String::new();
    for b in &doc.blocks {
        match b {
            Block::Paragraph(p) => {
                s.push_str(&p.text);
                s.push('\n');
            }
            Block::Table(t) => {
                for r in &t.rows {
                    s.push_str(&r.cells.join(" | "));
                    s.push('\n');
                }
            }
        }
    }
    s
}

#[test]
fn word_and_opendocument_corpus_reads_without_panics() {
    let Some(paths) = files(DOCX_DIR, &["docx", "docm", "dotx", "odt"]) else {
        eprintln!("skipped: corpus folder {DOCX_DIR} is absent");
        return;
    };
    assert!(!paths.is_empty(), "no documents in {DOCX_DIR}");
    let docs = run_all(&paths, |bytes, limits, deadline| {
        marac_intake::readers::read(marac_intake::sniff::sniff(bytes), bytes, limits, deadline)
    });

    // Legacy form checkboxes: default unchecked/checked, in text, in a table, in sequence.
    if let Some(doc) = docs.get("poi-checkboxes.docx") {
        let text = all_text(doc);
        for expected in ["unchecked: ☐", "Or checked: ☒", "checkbox within a textbox: ☐ -> ☒", "☐ | ☒", "☒ ☐ ☒"]
        {
            assert!(text.contains(expected), "{expected:?} not in\n{text}");
        }
        assert!(!text.contains("FORMCHECKBOX"));
    }
    // Content controls: no field codes or placeholder glyph duplicates in the output.
    for name in ["pandoc-sdt_elements.docx", "pandoc-nested_sdt.docx", "poi-form_footnotes.docx"] {
        if let Some(doc) = docs.get(name) {
            assert!(!doc.blocks.is_empty(), "{name} gave no content: {:?}", doc.problems);
        }
    }
    // The readers themselves, whatever the sniffer makes of the file (a broken zip, a renamed
    // file, a document part in an unusual place).
    run_all(&paths, |bytes, limits, deadline| {
        if bytes.starts_with(b"PK") && bytes.windows(8).any(|w| w == b"mimetype") {
            marac_intake::readers::odf::read_odt(bytes, limits, deadline)
        } else {
            marac_intake::readers::word::read_docx(bytes, limits, deadline)
        }
    });
    // Encrypted ODTs are refused as encrypted.
    if let Some(doc) = docs.get("odfpy-aes_sample.odt") {
        assert!(doc.problems.iter().any(|p| p.kind == ProblemKind::Encrypted), "{:?}", doc.problems);
    }
    // The external entity is never fetched or expanded.
    if let Some(doc) = docs.get("poi-ExternalEntityInText.docx") {
        let text = all_text(doc);
        assert!(!text.contains("root:"), "external entity expanded");
    }
}

#[test]
fn opendocument_spreadsheets_corpus_reads_without_panics() {
    let Some(paths) = files(SHEETS_DIR, &["ods"]) else {
        eprintln!("skipped: corpus folder {SHEETS_DIR} is absent");
        return;
    };
    assert!(!paths.is_empty(), "no spreadsheets in {SHEETS_DIR}");
    let docs = run_all(&paths, marac_intake::readers::odf::read_ods);
    if let Some(doc) = docs.get("calamine-issue_594_dos.ods") {
        assert!(doc.problems.iter().any(|p| p.kind == ProblemKind::LimitExceeded), "{:?}", doc.problems);
        let cells: usize = doc
            .blocks
            .iter()
            .map(|b| match b {
                Block::Table(t) => t.rows.iter().map(|r| r.cells.len()).sum(),
                Block::Paragraph(_) => 0,
            })
            .sum();
        assert!(cells <= Limits::default().max_sheet_cells);
    }
    if let Some(doc) = docs.get("calamine-pass_protected.ods") {
        assert!(doc.problems.iter().any(|p| p.kind == ProblemKind::Encrypted), "{:?}", doc.problems);
    }
}
