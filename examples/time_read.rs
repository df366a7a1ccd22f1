//! Developer aid: time each attachment reader on the given emails (release build).
//! `WHOLE=1` times whole `inspect` calls instead, `ROUNDS` (default 50) per email; under
//! `valgrind --tool=callgrind` run it with `ROUNDS=1` and `ROUNDS=3` and take the difference for
//! the instructions of two warm rounds (BENCHMARKS.md, "Inspect").
use marac_intake::limits::{Deadline, Limits};
use std::time::Instant;

fn main() {
    let limits = Limits::default();
    let whole = std::env::var_os("WHOLE").is_some();
    let rounds: u32 = std::env::var("ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(50).max(1);
    for f in std::env::args().skip(1) {
        if whole {
            let raw = std::fs::read(&f).expect("read");
            let opts = marac_intake::inspect::InspectOptions::with_clock(std::time::Instant::now);
            let t = Instant::now();
            for _ in 0..rounds {
                std::hint::black_box(marac_intake::inspect::inspect(&raw, &opts));
            }
            println!("{:<60} inspect {:>8.2} ms", f.rsplit('/').next().unwrap_or(&f), t.elapsed().as_secs_f64() * 1000.0 / f64::from(rounds));
            continue;
        }
        let raw = std::fs::read(&f).expect("read");
        let t = Instant::now();
        let email = marac_intake::mime::parse(&raw, &limits);
        let mime = t.elapsed();
        for a in &email.attachments {
            let t = Instant::now();
            let n = 20;
            for _ in 0..n {
                std::hint::black_box(marac_intake::readers::read(a.kind, &a.bytes, &limits, Deadline::after(limits.time_per_attachment(), std::time::Instant::now)));
            }
            println!("{:<60} {:?} {:>8.2} ms  (mime {:?})", f.rsplit('/').next().unwrap_or(&f), a.kind, t.elapsed().as_secs_f64() * 1000.0 / n as f64, mime);
        }
    }
}
