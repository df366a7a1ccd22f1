//! The spreadsheet corpus (XLSX, XLS, XLSB, ODS written by other projects, many deliberately broken
//! or hostile: zip and XML bombs, fuzzer cases, allocation bombs) through the whole reading path,
//! sniffing included: no panic, no hang, and every file gives either a table or a stated problem.
//! Skipped, with a message, when the corpus is not checked out beside the crate.
//!
//! `CORPUS_SHEETS_ONLY=substring` restricts the run to matching file names, so that one file's
//! peak memory can be measured on its own:
//! `CORPUS_SHEETS_ONLY=OOM_alloc3 /usr/bin/time -v target/debug/deps/corpus_sheets-*`.

use marac_intake::document::{Block, Document};
use marac_intake::limits::{Deadline, Limits};
use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

const SHEETS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus/sheets");

#[test]
fn every_sheet_file_gives_a_table_or_a_problem_without_panicking() {
    let Ok(entries) = std::fs::read_dir(SHEETS_DIR) else {
        println!("skipped: no spreadsheet corpus at {SHEETS_DIR}");
        return;
    };
    let only = std::env::var("CORPUS_SHEETS_ONLY").ok();
    let mut paths: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .filter(|p| {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            only.as_deref().is_none_or(|o| name.contains(o))
        })
        .collect();
    paths.sort();

    let limits = Limits::default();
    let mut failures = Vec::new();
    let mut per_kind: BTreeMap<String, usize> = BTreeMap::new();
    let mut per_sniffed: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut with_tables = 0;
    for path in &paths {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let bytes = std::fs::read(path).expect("corpus file readable");
        let kind = marac_intake::sniff::sniff(&bytes);
        let started = Instant::now();
        let result = catch_unwind(AssertUnwindSafe(|| {
            marac_intake::readers::read(kind, &bytes, &limits, Deadline::after(limits.time_per_attachment(), std::time::Instant::now))
        }));
        let took = started.elapsed();
        let doc: Document = match result {
            Ok(doc) => doc,
            Err(_) => {
                failures.push(format!("{name}: panicked"));
                continue;
            }
        };
        let tables = doc.blocks.iter().filter(|b| matches!(b, Block::Table(_))).count();
        // A file that is really plain text comes back as paragraphs.
        if doc.blocks.is_empty() && doc.problems.is_empty() {
            failures.push(format!("{name}: neither content nor a problem"));
        }
        // The deadline is 10 s; a reader that notices it late is a hang in waiting.
        if took > limits.time_per_attachment() + Duration::from_secs(2) {
            failures.push(format!("{name}: took {took:?}"));
        }
        if tables > 0 {
            with_tables += 1;
        }
        let sniffed = per_sniffed.entry(format!("{kind:?}")).or_default();
        sniffed.0 += 1;
        sniffed.1 += usize::from(tables > 0);
        for p in &doc.problems {
            *per_kind.entry(format!("{:?}", p.kind)).or_default() += 1;
        }
        let rows: usize = doc
            .blocks
            .iter()
            .map(|b| match b {
                Block::Table(t) => t.rows.len(),
                Block::Paragraph(_) => 0,
            })
            .sum();
        let problems: Vec<String> = doc.problems.iter().map(|p| format!("{:?}: {}", p.kind, p.detail)).collect();
        println!("{name} [{kind:?}]: {tables} tables, {rows} rows, {took:?} {problems:?}");
    }
    println!(
        "{} files, {with_tables} with tables; by sniffed kind (files, with tables): {per_sniffed:?}; \
         problems by kind: {per_kind:?}",
        paths.len()
    );
    assert!(failures.is_empty(), "{failures:#?}");
}
