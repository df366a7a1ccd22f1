//! The store on a real PostgreSQL (issue 14): the schema made in an empty database, and the
//! triage scenarios, the queue and the accounts working there as on SQLite. Skipped, saying so,
//! where PostgreSQL is not installed; `.ci/run` installs it.

use crate::support::postgres::Postgres;
use crate::support::{store_on, Scratch};
use marac_intake::decide::Outcome;
use marac_intake::store::Backend;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_postgresql_database_gets_the_schema_and_keeps_a_triaged_referral() {
    let Some(pg) = Postgres::start("schema") else { return };
    let scratch = Scratch::new("pg-schema");
    let store = store_on(Some(&pg), &scratch, "intake").await;
    assert_eq!(store.backend(), Backend::Postgres);
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let cfg = marac_intake::config::load(&root.join("config/samples.toml"), Vec::<(String, String)>::new()).unwrap();
    let raw = std::fs::read(root.join("fixtures/triage/001_police_seed_victim_l_accept15.eml")).unwrap();
    let now = chrono::DateTime::parse_from_rfc3339("2025-01-06T12:00:00+00:00").unwrap();
    let record = marac_intake::triage::triage_message(&raw, Some("001.eml"), None, now, &cfg, &store).await.unwrap_or_else(|e| panic!("{e}\n{}", pg.log()));
    assert_eq!(record.outcome, Outcome::Accepted, "{:?}", record.reasons);
    assert_eq!(store.message_source(&record.reference).await.unwrap().unwrap(), raw, "kept, sealed, read back");
    // Opened again: every migration is recorded, none runs twice.
    drop(store);
    let keys = marac_intake::crypto::Keys { database: marac_intake::crypto::Key::generate(), data: marac_intake::crypto::Key::generate() };
    let again = marac_intake::store::Store::open_with(&pg.url("intake"), &keys, &marac_intake::clock::Clock::system()).await.unwrap();
    assert_eq!(again.history().await.unwrap().len(), 1);
}
