//! Shared helpers of the integration tests: scratch directories and ports, the real mail servers
//! (Dovecot, Postfix), a real PostgreSQL, the web queue's fixture and TOTP codes.
#![allow(dead_code)]
pub mod mailservers;
pub mod postfix;
pub mod postgres;
pub mod scratch;
pub mod sources;
pub mod totp;
pub mod web_fixture;

#[allow(unused_imports)]
pub use scratch::{free_port, Scratch};

/// A store for a test: on SQLite in `scratch`, or on a fresh database `name` of the PostgreSQL
/// cluster `pg`, with keys of its own either way.
pub async fn store_on(pg: Option<&postgres::Postgres>, scratch: &Scratch, name: &str) -> marac_intake::store::Store {
    use marac_intake::crypto::{Key, Keys};
    let keys = Keys { database: Key::generate(), data: Key::generate() };
    let url = match pg {
        Some(pg) => pg.database(name).await,
        None => format!("sqlite://{}/{name}.db", scratch.0.display()),
    };
    marac_intake::store::Store::open_with(&url, &keys, &marac_intake::clock::Clock::system()).await.unwrap_or_else(|e| panic!("opening {url}: {e:#}"))
}
