//! `cargo bench --bench inspect`: emails per second for `inspect` over the golden corpus, per
//! format of the DASH attachment, on one core; and peak RSS of one process reading the largest
//! fixtures (the 15 MB attachment, the zip bomb), each measured in a fresh child process.
//!
//! Targets (issue 2): ≥ 300 typical referral emails/s on one core; peak RSS < 100 MB on any email.

use marac_intake::inspect::{inspect, InspectOptions};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(pos) = args.iter().position(|a| a == "--rss-of") {
        // Child mode: read one email, print the peak resident set size.
        let raw = std::fs::read(&args[pos + 1]).expect("read");
        let i = inspect(&raw, &InspectOptions::with_clock(std::time::Instant::now));
        std::hint::black_box(&i);
        println!("{}", vm_hwm_kib().unwrap_or(0));
        return;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixtures/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    files.sort();
    let opts = InspectOptions::with_clock(std::time::Instant::now);

    // Group typical emails by the format of their DASH; the big and hostile ones are measured apart.
    let mut groups: BTreeMap<String, Vec<Vec<u8>>> = BTreeMap::new();
    let mut heavy = Vec::new();
    for f in &files {
        let raw = std::fs::read(f).expect("read fixture");
        if raw.len() > 2 * 1024 * 1024 {
            heavy.push(f.clone());
            continue;
        }
        let i = inspect(&raw, &opts);
        let key = match &i.dash {
            Some(d) => i
                .attachments
                .iter()
                .find(|a| a.at == d.attachment)
                .map(|a| format!("{:?}", a.kind).to_lowercase())
                .unwrap_or_else(|| "?".into()),
            None if i.problems.iter().any(|p| p.place.attachment().is_some()) => "hostile or unreadable".into(),
            None => "no dash".into(),
        };
        if i.attachments.iter().any(|a| a.problems.iter().any(|p| format!("{:?}", p.kind) == "LimitExceeded")) {
            heavy.push(f.clone());
        }
        groups.entry(key).or_default().push(raw);
    }

    println!("inspect throughput, one thread (release build recommended: cargo bench)");
    let mut all = 0usize;
    let mut all_time = Duration::ZERO;
    for (key, emails) in &groups {
        let (n, t) = rate(emails, &opts);
        all += n;
        all_time += t;
        println!("  {key:<24} {:>4} emails  {:>8.0} emails/s", emails.len(), n as f64 / t.as_secs_f64());
    }
    println!("  {:<24} {:>4} emails  {:>8.0} emails/s", "all typical", groups.values().map(Vec::len).sum::<usize>(), all as f64 / all_time.as_secs_f64());

    println!("peak RSS of one process reading one email:");
    let me = std::env::current_exe().expect("current exe");
    for f in &heavy {
        let out = std::process::Command::new(&me).arg("--rss-of").arg(f).output().expect("child");
        let kib: u64 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap_or(0);
        println!("  {:<48} {:>6.1} MB", f.file_name().unwrap().to_string_lossy(), kib as f64 / 1024.0);
    }
}

/// Runs the emails repeatedly for about a second; returns (emails processed, time taken).
fn rate(emails: &[Vec<u8>], opts: &InspectOptions) -> (usize, Duration) {
    let start = Instant::now();
    let mut n = 0;
    while start.elapsed() < Duration::from_millis(1000) || n == 0 {
        for raw in emails {
            std::hint::black_box(inspect(raw, opts));
            n += 1;
        }
    }
    (n, start.elapsed())
}

fn vm_hwm_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
