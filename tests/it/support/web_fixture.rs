//! The web tests' data: a fresh database with the triage scenarios of `fixtures/triage/` decided
//! in it (as `tests/it/triage_scenarios.rs` does, at a fixed "now"), and the configuration.

use marac_intake::store::accounts::Role;
use marac_intake::store::Store;
use marac_intake::web::auth;
use std::path::{Path, PathBuf};

pub const PASSWORD: &str = "correct horse battery staple";

pub fn samples_config() -> (PathBuf, marac_intake::config::Config) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/samples.toml");
    let cfg = marac_intake::config::load(&path, Vec::<(String, String)>::new()).expect("config/samples.toml");
    (path, cfg)
}

/// Triages every scenario into a fresh SQLite database at `db` (a `sqlite://` URL).
pub async fn triaged_store(db: &str) -> (Store, marac_intake::config::Config) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (_, cfg) = samples_config();
    let store = if marac_intake::store::is_postgres(db) {
        // No file to keep keys beside: keys of its own.
        let keys = marac_intake::crypto::Keys { database: marac_intake::crypto::Key::generate(), data: marac_intake::crypto::Key::generate() };
        Store::open_with(db, &keys, &marac_intake::clock::Clock::system()).await.unwrap()
    } else {
        Store::open(db).await.unwrap()
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("fixtures/triage")).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "eml")).collect();
    files.sort();
    let now = chrono::DateTime::parse_from_rfc3339("2026-02-01T12:00:00Z").unwrap();
    for f in &files {
        let raw = std::fs::read(f).unwrap();
        marac_intake::triage::triage_message(&raw, Some(&f.display().to_string()), None, now, &cfg, &store).await.expect("triage");
    }
    (store, cfg)
}

/// [`triaged_store`] in `dir`, with a coordinator `coord` and an admin `boss`, both with the
/// password [`PASSWORD`] and the TOTP secret `totp::SECRET` enrolled.
#[allow(dead_code)]
pub async fn fixture_store(dir: &Path) -> (Store, marac_intake::config::Config) {
    fixture_store_at(&format!("sqlite://{}/t.db", dir.display())).await
}

/// [`fixture_store`] in the database at `url` (SQLite or PostgreSQL).
pub async fn fixture_store_at(url: &str) -> (Store, marac_intake::config::Config) {
    let (store, cfg) = triaged_store(url).await;
    let hash = auth::hash_password(PASSWORD).unwrap();
    let secret = Some(super::totp::SECRET);
    store.add_user("coord", Role::Coordinator, &hash, secret, "2026-02-01T12:00:00.000Z").await.unwrap();
    store.add_user("boss", Role::Admin, &hash, secret, "2026-02-01T12:00:00.000Z").await.unwrap();
    (store, cfg)
}

