//! `cargo bench --bench fidelity`: the variation corpus (issue 11, item 6) through the real
//! pipeline. Writes at least `FIDELITY_EMAILS` (default 600) referral emails from the seed
//! `FIDELITY_SEED` (default 2026) into `target/fidelity/` with `manifest.json` (the truth),
//! triages them in arrival order into a fresh SQLite store with `config/samples.toml`, inspects
//! each, and prints per DASH layout, per referral layout and per wording: decisions right,
//! wrongful rejections, DASH counts exact, and victim name / date of birth / all fields right,
//! blank or WRONG; then every failure with its file and layouts, and identity splits / merges.
//! Also writes `target/fidelity/report.json`. A measurement: the exit code is 0 whatever it finds.
//!
//! Targets: every decision right, no wrongful rejection, no wrong victim name or date of birth.

use gen_fixtures as gen;

#[path = "../tests/it/score.rs"]
mod score;

use marac_intake::config;
use marac_intake::store::Store;

fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let seed: u64 = std::env::var("FIDELITY_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(2026);
    let total: usize = std::env::var("FIDELITY_EMAILS").ok().and_then(|v| v.parse().ok()).unwrap_or(600);
    let out = root.join("target/fidelity");
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).expect("target/fidelity");
    let emails = gen::variation::corpus(seed, total);
    for e in &emails {
        std::fs::write(out.join(&e.file), &e.eml).expect("write email");
    }
    std::fs::write(out.join("manifest.json"), gen::variation::manifest_json(&emails)).expect("manifest");
    println!("seed {seed}: {} emails written to {}", emails.len(), out.display());

    let cfg = config::load(&root.join("config/samples.toml"), Vec::new()).expect("config");
    let db = out.join("fidelity.db");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let t = std::time::Instant::now();
    let scored = rt.block_on(async {
        let store = Store::open(&format!("sqlite://{}", db.display())).await.expect("store");
        score::run(&emails, &cfg, &store).await
    });
    println!("triaged and inspected in {:.1} s\n", t.elapsed().as_secs_f64());
    println!("{}", score::table(&scored, "DASH layout", |s| s.dash_layout));
    println!("{}", score::table(&scored, "referral layout", |s| s.referral_layout));
    println!("{}", score::table(&scored, "wording", |s| s.wording));
    let failures = score::failures(&scored);
    let (splits, merges) = score::identity(&scored);
    println!("identity: {} splits, {} merges", splits.len(), merges.len());
    for l in splits.iter().chain(&merges) {
        println!("  {l}");
    }
    println!("{} failures:", failures.len());
    for f in &failures {
        println!("  {f}");
    }
    let report = serde_json::json!({
        "seed": seed,
        "emails": scored.len(),
        "splits": splits,
        "merges": merges,
        "failures": failures,
        "results": scored,
    });
    std::fs::write(out.join("report.json"), serde_json::to_vec_pretty(&report).expect("report")).expect("report.json");
    let _ = std::fs::remove_file(&db);
}
