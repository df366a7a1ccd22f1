//! The PDF reader against real files: the shared corpus of hostile and odd PDFs
//! (../shared/corpus/pdf: pdf.js, Tika and fuzzer files) and the PDF DASH forms attached to the
//! shared sample referrals (../shared/samples). Both folders live beside a checkout on the team's
//! machines and are absent on a bare clone; then the tests say so and pass.

use marac_intake::document::{Block, Document, FieldKind};
use marac_intake::limits::{Deadline, Limits};
use marac_intake::readers;
use marac_intake::sniff::{sniff, FileKind};
use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus/pdf");
const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/samples");

fn read_contained(bytes: &[u8]) -> Result<Document, String> {
    let limits = Limits::default();
    let deadline = Deadline::after(limits.time_per_attachment(), std::time::Instant::now);
    catch_unwind(AssertUnwindSafe(|| readers::read(sniff(bytes), bytes, &limits, deadline))).map_err(|payload| {
        payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "non-string panic".to_string())
    })
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.is_file()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

#[test]
fn corpus_pdfs_never_panic_and_always_yield_content_or_a_problem() {
    let dir = Path::new(CORPUS);
    if !dir.is_dir() {
        eprintln!("skipped: {} not present", dir.display());
        return;
    }
    let started = Instant::now();
    let mut panics = Vec::new();
    let mut silent = Vec::new();
    let mut slow = Vec::new();
    let mut per_kind: BTreeMap<String, usize> = BTreeMap::new();
    let (mut with_fields, mut with_values, mut with_text, mut total) = (0, 0, 0, 0);
    for path in files(dir) {
        let bytes = std::fs::read(&path).expect("corpus file readable");
        let file = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        total += 1;
        let t = Instant::now();
        let result = read_contained(&bytes);
        let took = t.elapsed();
        if took > Duration::from_secs(2) {
            slow.push(format!("{file}: {took:?}"));
        }
        let doc = match result {
            Ok(doc) => doc,
            Err(message) => {
                panics.push(format!("{file}: {message}"));
                continue;
            }
        };
        if !doc.fields.is_empty() {
            with_fields += 1;
        }
        if doc.fields.iter().any(|f| f.value.is_some()) {
            with_values += 1;
        }
        if !doc.blocks.is_empty() {
            with_text += 1;
        }
        for p in &doc.problems {
            *per_kind.entry(format!("{:?}", p.kind)).or_default() += 1;
        }
        if doc.is_empty() && doc.problems.is_empty() {
            silent.push(file.clone());
        }
        if std::env::var_os("PDF_CORPUS_VERBOSE").is_some() {
            let kinds: Vec<String> = doc.problems.iter().map(|p| format!("{:?}: {}", p.kind, p.detail)).collect();
            eprintln!(
                "{file}: {} fields, {} pages with text, {:?} [{}]",
                doc.fields.len(),
                doc.blocks.len(),
                took,
                kinds.join("; ")
            );
        }
    }
    eprintln!("PDF corpus: {total} files in {:?}", started.elapsed());
    eprintln!("  with text: {with_text}, with fields: {with_fields}, with field values: {with_values}");
    eprintln!("  problems by kind: {per_kind:?}");
    eprintln!("  slow (>2s): {slow:?}");
    assert!(panics.is_empty(), "readers panicked on: {panics:#?}");
    assert!(silent.is_empty(), "files with no fields, no text and no problem: {silent:#?}");
}

/// Extracts the PDF attachments of one sample message.
fn pdf_attachments(raw: &[u8]) -> Vec<Vec<u8>> {
    let message = mail_parser::MessageParser::default().parse(raw).expect("sample parses as a message");
    message.attachments().map(|part| part.contents().to_vec()).filter(|bytes| sniff(bytes) == FileKind::Pdf).collect()
}

#[test]
fn sample_dash_pdfs_read_their_radio_groups_and_question_text() {
    let dir = Path::new(SAMPLES);
    let Ok(labels) = std::fs::read_to_string(dir.join("labels.json")) else {
        eprintln!("skipped: {} not present", dir.display());
        return;
    };
    let labels: serde_json::Value = serde_json::from_str(&labels).expect("labels.json is JSON");
    let mut checked = 0;
    for label in labels.as_array().expect("labels is an array") {
        let file = label["file"].as_str().expect("file name");
        let raw = std::fs::read(dir.join(file)).expect("sample readable");
        for pdf in pdf_attachments(&raw) {
            let doc = read_contained(&pdf).unwrap_or_else(|m| panic!("{file}: reader panicked: {m}"));
            assert!(doc.problems.is_empty(), "{file}: {:?}", doc.problems);
            let questions: Vec<_> = (1..=24)
                .map(|n| {
                    let name = format!("q{n:02}");
                    doc.fields.iter().find(|f| f.name == name).unwrap_or_else(|| panic!("{file}: no field {name}"))
                })
                .collect();
            for q in &questions {
                assert_eq!(q.kind, FieldKind::Radio, "{file} {}", q.name);
                assert_eq!(q.options, ["Yes", "No", "DK"], "{file} {}", q.name);
                assert!(
                    q.context.as_deref().is_some_and(|c| c.len() > 10),
                    "{file} {}: context {:?}",
                    q.name,
                    q.context
                );
            }
            assert!(
                questions[0].context.as_deref().unwrap_or_default().contains("injured"),
                "{:?}",
                questions[0].context
            );
            assert!(
                questions[23].context.as_deref().unwrap_or_default().contains("police"),
                "{:?}",
                questions[23].context
            );
            let count = |v: &str| questions.iter().filter(|q| q.value.as_deref() == Some(v)).count() as u64;
            let (yes, no) = (count("Yes"), count("No"));
            let expect = &label["expect"];
            if let (Some(want_yes), Some(want_no)) = (expect["dash_yes"].as_u64(), expect["dash_no"].as_u64()) {
                assert_eq!((yes, no), (want_yes, want_no), "{file}: Yes/No counts");
                checked += 1;
            }
            let total = doc.fields.iter().find(|f| f.name == "total_yes").and_then(|f| f.value.clone());
            assert_eq!(total, Some(yes.to_string()), "{file}: total_yes");
            if file.starts_with("001_") {
                assert_eq!((yes, no, count("DK")), (16, 7, 1));
                let victim = doc.fields.iter().find(|f| f.name == "victim_name").and_then(|f| f.context.clone());
                assert_eq!(victim.as_deref(), Some("Victim name:"));
            }
            // The printed table is there too, header first.
            let first_page = doc.blocks.first().expect("page text");
            let Block::Table(table) = first_page else { panic!("a table") };
            assert!(table.rows.iter().any(|r| r.cells == ["No.", "Question", "Yes", "No", "DK", "Comments"]), "{file}");
        }
    }
    eprintln!("sample DASH PDFs checked against labels: {checked}");
    assert!(checked >= 3, "expected the PDF samples to be checked, got {checked}");
}

/// The corpus PDFs that took `inspect` highest in memory (issue 12): the first took it to 480 MB.
const HEAVIEST: [&str; 5] = [
    "pdfjs-bug1978317.pdf",
    "pdfjs-Brotli-Prototype-FileA.pdf",
    "tika-testPDF_protected.pdf",
    "pdfjs-comments.pdf",
    "pdfjs-xfa_filled_imm1344e.pdf",
];
/// The bound on the peak resident memory of `inspect` reading any one email (issue 2 and 12).
const MAX_PEAK_RSS_KIB: u64 = 100 * 1024;

/// `bytes` as the one attachment of a referral email.
fn email_with(name: &str, bytes: &[u8]) -> Vec<u8> {
    let mut eml = format!(
        "From: referrer@police.example\r\nTo: marac@council.example\r\nSubject: referral\r\n\
         Message-ID: <rss@police.example>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nAttached.\r\n\
         --b\r\nContent-Type: application/pdf; name=\"{name}\"\r\nContent-Disposition: attachment; filename=\"{name}\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n"
    )
    .into_bytes();
    for line in base64(bytes).as_bytes().chunks(76) {
        eml.extend_from_slice(line);
        eml.extend_from_slice(b"\r\n");
    }
    eml.extend_from_slice(b"--b--\r\n");
    eml
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len() / 3 * 4 + 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Peak resident memory of `marac-intake inspect FILE`, in KiB: from `/usr/bin/time` when the
/// machine has it, or else the child's VmHWM read from /proc while it runs (then a lower bound).
fn peak_rss_kib(file: &Path) -> u64 {
    let bin = env!("CARGO_BIN_EXE_marac-intake");
    let time = Path::new("/usr/bin/time");
    if time.is_file() {
        let report = file.with_extension("rss");
        let status = std::process::Command::new(time)
            .args(["-f", "%M", "-o"])
            .arg(&report)
            .arg(bin)
            .arg("inspect")
            .arg(file)
            .stdout(std::process::Stdio::null())
            .status()
            .expect("/usr/bin/time runs");
        assert!(status.success(), "inspect failed on {}: {status}", file.display());
        let text = std::fs::read_to_string(&report).expect("time's report");
        let _ = std::fs::remove_file(&report);
        return text.trim().lines().last().and_then(|l| l.trim().parse().ok()).expect("a number of KiB");
    }
    let mut child = std::process::Command::new(bin)
        .arg("inspect")
        .arg(file)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("inspect starts");
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    loop {
        let hwm = std::fs::read_to_string(&status_file).ok().and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse::<u64>().ok()
        });
        peak = peak.max(hwm.unwrap_or(0));
        if let Some(status) = child.try_wait().expect("inspect waits") {
            assert!(status.success(), "inspect failed on {}: {status}", file.display());
            return peak;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn inspect_stays_under_100_mb_on_the_heaviest_corpus_pdfs() {
    let dir = Path::new(CORPUS);
    if !dir.is_dir() {
        eprintln!("skipped: {} not present", dir.display());
        return;
    }
    let scratch = crate::support::Scratch::new("rss");
    let scratch = scratch.path();
    let mut over = Vec::new();
    for name in HEAVIEST {
        let bytes = std::fs::read(dir.join(name)).expect("corpus file readable");
        let eml = scratch.join(format!("{name}.eml"));
        std::fs::write(&eml, email_with(name, &bytes)).expect("email written");
        let kib = peak_rss_kib(&eml);
        eprintln!("{name}: peak RSS {:.1} MB", kib as f64 / 1024.0);
        if kib > MAX_PEAK_RSS_KIB {
            over.push(format!("{name}: {kib} KiB"));
        }
    }
    assert!(over.is_empty(), "inspect passed {MAX_PEAK_RSS_KIB} KiB peak RSS on: {over:?}");
}
