//! Shared helpers of the integration tests: scratch directories and ports, the real mail servers
//! (Dovecot, Postfix), a real PostgreSQL, the web queue's fixture and TOTP codes.
#![allow(dead_code)]
pub mod mailservers;
pub mod postfix;
pub mod postgres;
pub mod prometheus;
pub mod scratch;
pub mod token_server;
pub mod sources;
pub mod totp;
pub mod web_fixture;

#[allow(unused_imports)]
pub use scratch::{free_port, Scratch};

/// A store for a test: on SQLite in `scratch`, or on a fresh database `name` of the PostgreSQL
/// cluster `pg`, with keys of its own either way.
pub async fn store_on(pg: Option<&postgres::Postgres>, scratch: &Scratch, name: &str) -> marac_intake::store::Store {
    store_at(pg, &scratch.0, name).await
}

/// As [`store_on`], with the SQLite file `name.db` in `dir`.
pub async fn store_at(pg: Option<&postgres::Postgres>, dir: &std::path::Path, name: &str) -> marac_intake::store::Store {
    use marac_intake::crypto::{Key, Keys};
    let keys = Keys { database: Key::generate(), data: Key::generate() };
    let url = match pg {
        Some(pg) => pg.database(name).await,
        None => format!("sqlite://{}/{name}.db", dir.display()),
    };
    marac_intake::store::Store::open_with(&url, &keys, &marac_intake::clock::Clock::system()).await.unwrap_or_else(|e| panic!("opening {url}: {e:#}"))
}

/// A database for a test that both the store and the commands open: on SQLite in a scratch
/// directory, or a fresh database of the PostgreSQL cluster `pg`; its keys are in files that
/// the commands are given (`MARAC__STORAGE__*_KEY_FILE`).
pub struct TestDb {
    pub url: String,
    keys: marac_intake::crypto::Keys,
    key_files: (std::path::PathBuf, std::path::PathBuf),
    pub scratch: Scratch,
}

impl TestDb {
    pub async fn new(pg: Option<&postgres::Postgres>, name: &str) -> TestDb {
        use marac_intake::crypto::{Key, Keys};
        let scratch = Scratch::new(name);
        let keys = Keys { database: Key::generate(), data: Key::generate() };
        let key_files = (scratch.0.join("db-key"), scratch.0.join("data-key"));
        std::fs::write(&key_files.0, keys.database.to_hex()).unwrap();
        std::fs::write(&key_files.1, keys.data.to_hex()).unwrap();
        let url = match pg {
            Some(pg) => pg.database(name).await,
            None => format!("sqlite://{}/{name}.db", scratch.0.display()),
        };
        TestDb { url, keys, key_files, scratch }
    }

    pub fn is_postgres(&self) -> bool {
        self.url.starts_with("postgres")
    }

    /// The database file, on SQLite.
    pub fn sqlite_file(&self) -> Option<std::path::PathBuf> {
        self.url.strip_prefix("sqlite://").map(std::path::PathBuf::from)
    }

    /// Opens (creating and migrating at first) the database.
    pub async fn open(&self) -> marac_intake::store::Store {
        let clock = marac_intake::clock::Clock::system();
        marac_intake::store::Store::open_with(&self.url, &self.keys, &clock).await.unwrap_or_else(|e| panic!("opening {}: {e:#}", self.url))
    }

    /// The rows `sql` selects, each value as text (NULL as empty), through the store's own opening.
    pub async fn rows(&self, sql: &str) -> Vec<Vec<String>> {
        self.rows_at(&self.url, sql).await
    }

    /// As [`TestDb::rows`], from the database at `url` opened with this one's keys (a copy of it).
    pub async fn rows_at(&self, url: &str, sql: &str) -> Vec<Vec<String>> {
        use sqlx::Row;
        let clock = marac_intake::clock::Clock::system();
        let store = marac_intake::store::Store::open_with(url, &self.keys, &clock).await.unwrap_or_else(|e| panic!("opening {url}: {e:#}"));
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned())).fetch_all(store.pool()).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
        let text = |r: &sqlx::any::AnyRow, i: usize| r.try_get::<Option<String>, _>(i).ok().flatten().or_else(|| r.try_get::<Option<i64>, _>(i).ok().flatten().map(|n| n.to_string())).unwrap_or_default();
        let out = rows.iter().map(|r| (0..r.len()).map(|i| text(r, i)).collect()).collect();
        store.pool().close().await;
        out
    }

    /// The variables that give the commands (and `run`) this database's keys.
    pub fn key_env(&self) -> Vec<(String, String)> {
        vec![
            ("MARAC__STORAGE__DB_KEY_FILE".to_owned(), self.key_files.0.display().to_string()),
            ("MARAC__STORAGE__DATA_KEY_FILE".to_owned(), self.key_files.1.display().to_string()),
        ]
    }

    /// The command `marac-intake ARGS --config config/samples.toml --db URL` with this database's keys.
    pub fn command(&self, args: &[&str]) -> std::process::Command {
        // Cargo names the binary to tests and benches, not to the examples that share this file.
        let bin = option_env!("CARGO_BIN_EXE_marac-intake").expect("the marac-intake binary (set for tests and benches)");
        let mut c = std::process::Command::new(bin);
        c.args(args).arg("--config").arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/samples.toml")).args(["--db", &self.url]);
        c.env("MARAC__STORAGE__DB_KEY_FILE", &self.key_files.0).env("MARAC__STORAGE__DATA_KEY_FILE", &self.key_files.1);
        c
    }
}
