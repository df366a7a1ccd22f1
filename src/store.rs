//! The case history (sqlx, SQLite). All database access lives here. Look-ups are indexed (by
//! Message-ID, sha256, date of birth, person) so triage cost stays flat as history grows; the SQL
//! is portable (no SQLite-only constructs in the queries the pipeline runs).
//!
//! A triage runs inside one [`Tx`]: history look-ups, the decision's writes (person, case,
//! referral, message, attachments, decision) and the outbox reply commit together or not at all.

use crate::config::Criterion;
use crate::decide::{CaseSummary, History, Link, OurReply, OutboxKind, Outcome, PersonHistory, ReplyKind};
use crate::mime::{normalise_message_id, Refers};
use crate::identity::{same_person, MatchReason, PersonName};
pub use error::{Action, StoreError};
use error::{Context, Result};
use chrono::NaiveDate;
use crate::clock::{stamp, Clock};
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Row, Transaction};

/// The database the store works on through sqlx's `Any` driver: SQLite (the embedded default,
/// encrypted with SQLCipher) or PostgreSQL. Values cross it as integers, text and bytes only;
/// what differs between the two is in [`Backend`].
pub type Db = sqlx::Any;
/// A row of either backend.
pub type DbRow = sqlx::any::AnyRow;
/// A connection of either backend.
pub type DbConnection = sqlx::AnyConnection;
/// The pool of either backend.
pub type DbPool = sqlx::AnyPool;

/// Which database a store is on: what the SQL that differs needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}
use crate::crypto::{DataKey, Keys, Place};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// Migrations, applied in order at start. Embedded so the binary needs no files beside it.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/0001_history.sql")),
    (2, include_str!("../migrations/0002_mailbox.sql")),
    (3, include_str!("../migrations/0003_outbox_attempts.sql")),
    (4, include_str!("../migrations/0004_outbox_bounces.sql")),
    (5, include_str!("../migrations/0005_web.sql")),
    (6, include_str!("../migrations/0006_risk_signals.sql")),
    (7, include_str!("../migrations/0007_rule_versions.sql")),
    (8, include_str!("../migrations/0008_message_sources.sql")),
    (9, include_str!("../migrations/0009_audit_object.sql")),
    (10, include_str!("../migrations/0010_review_victims.sql")),
    (11, include_str!("../migrations/0011_sign_in.sql")),
    (13, include_str!("../migrations/0013_sealed_messages.sql")),
    (14, include_str!("../migrations/0014_retention_audit_chain.sql")),
    (15, include_str!("../migrations/0015_subjects_restricted.sql")),
    (16, include_str!("../migrations/0016_utc_timestamps.sql")),
    (17, include_str!("../migrations/0017_message_criteria.sql")),
    (18, include_str!("../migrations/0018_areas.sql")),
    (19, include_str!("../migrations/0019_area_access.sql")),
    (20, include_str!("../migrations/0020_queue_by_area.sql")),
    (21, include_str!("../migrations/0021_queue_order.sql")),
    (22, include_str!("../migrations/0022_corrections.sql")),
    (23, include_str!("../migrations/0023_person_merges.sql")),
    (24, include_str!("../migrations/0024_agenda_sends.sql")),
    (25, include_str!("../migrations/0025_search_keys.sql")),
    (26, include_str!("../migrations/0026_corrected_search_keys.sql")),
];

/// Where an outbox row's text is sealed: a reply or notice by its message and kind, an agenda
/// (which has no message) by its Message-ID.
pub(crate) fn outbox_place<'a>(message_row: Option<i64>, kind: &'a str, message_id: Option<&'a str>) -> Result<Place<'a>> {
    match (message_row, message_id) {
        (Some(message_row), _) => Ok(Place::OutboxReply { message_row, kind }),
        (None, Some(message_id)) if kind == OutboxKind::Agenda.as_str() => Ok(Place::OutboxAgenda { message_id }),
        _ => Err(StoreError::data("an outbox row with neither a message nor an agenda's Message-ID")),
    }
}

/// SQLite's migrations that make a table again; run by `Store::migrate_without_foreign_keys`.
const TABLES_MADE_AGAIN: &[i64] = &[24];

/// PostgreSQL's migrations: the schema of SQLite's 1 to 19 at once, then each later one written
/// for PostgreSQL too.
const MIGRATIONS_POSTGRES: &[(i64, &str)] = &[
    (19, include_str!("../migrations/postgres/0019_schema.sql")),
    (20, include_str!("../migrations/postgres/0020_queue_by_area.sql")),
    (21, include_str!("../migrations/postgres/0021_queue_order.sql")),
    (22, include_str!("../migrations/postgres/0022_corrections.sql")),
    (23, include_str!("../migrations/postgres/0023_person_merges.sql")),
    (24, include_str!("../migrations/postgres/0024_agenda_sends.sql")),
    (25, include_str!("../migrations/postgres/0025_search_keys.sql")),
    (26, include_str!("../migrations/postgres/0026_corrected_search_keys.sql")),
];

/// The advisory lock a PostgreSQL write transaction holds ("MARAC-WRT" in ASCII, in 63 bits).
const POSTGRES_WRITE_LOCK: i64 = 0x4d41_5241_4357_5254;

/// A lease held ([`Store::lease`]); given up when dropped (its connection closes).
pub struct Lease {
    conn: Option<DbConnection>,
}

impl Lease {
    /// How long [`Lease::held`] waits for the server's answer.
    pub const CHECK_TIMEOUT: Duration = Duration::from_secs(5);

    /// Whether the lease is still held: its connection answers within [`Lease::CHECK_TIMEOUT`]
    /// (the lock lives as long as the connection's session). A holder that cannot tell stops
    /// what the lease guards before the server gives it to another (see [`Store::lease`]).
    pub async fn held(&mut self) -> bool {
        let Some(conn) = self.conn.as_mut() else { return true };
        matches!(tokio::time::timeout(Lease::CHECK_TIMEOUT, sqlx::query("SELECT 1").execute(conn)).await, Ok(Ok(_)))
    }
}

/// A lease's advisory lock key: the name's SHA-256, its first 8 bytes.
fn lease_key(name: &str) -> i64 {
    let digest = crate::mime::sha256_hex(format!("marac-intake lease {name}").as_bytes());
    i64::from_str_radix(&digest[..15], 16).unwrap_or(0)
}

/// Whether `url` names a PostgreSQL database.
pub fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// `url` without its password, for messages.
pub fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let user = &url[s + 3..at];
            let user = user.split(':').next().unwrap_or_default();
            format!("{}{user}@{}", &url[..s + 3], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

pub mod accounts;
pub mod agenda;
pub mod error;
pub mod hidden;
pub mod audit;
pub mod audit_copy;
pub mod backup;
pub mod encrypt;
pub use encrypt::settle_before_exit;
pub mod retention;
pub mod rules;
pub mod cases;
pub mod data_return;
pub mod corrected;
pub mod corrections;
pub mod search;
pub mod undo;
pub mod gauges;
pub mod subjects;
pub mod view;

/// Creates the database's directory (0700) and the database file itself (0600) if missing, so
/// that they are private whatever the process umask: SQLite then gives its `-wal` and `-shm`
/// files the database's own mode. Existing files and directories keep theirs.
fn private_file(path: &std::path::Path) -> Result<()> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    if path.as_os_str().is_empty() {
        return Ok(());
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e).with_context(|| format!("creating {}", path.display())),
    }
}

#[derive(Clone)]
pub struct Store {
    pool: DbPool,
    backend: Backend,
    /// PostgreSQL's URL, for the leases' connections of their own (None on SQLite).
    lease_url: Option<Arc<str>>,
    /// Seals and opens the blobs that hold a message whole (see [`crate::crypto`]).
    data: Arc<DataKey>,
    /// Where each committed audit record is also copied (`[audit] copy_to`), if anywhere.
    copy: Option<Arc<audit_copy::AuditCopy>>,
    /// Shared by every clone: the last one dropped closes the pool and waits (bounded) until
    /// each connection is closed.
    _closer: Arc<Closer>,
}

/// Closes the pool when the last [`Store`] goes. A SQLCipher connection still closing on its
/// worker thread while the process exits races libcrypto's clean-up at exit (seen as a crash
/// after all work was done), so the close is waited for — on a thread of its own, since a drop
/// cannot await, and for at most [`Closer::WAIT`], since a transaction still held elsewhere
/// keeps its connection.
struct Closer(DbPool);

impl Closer {
    const WAIT: Duration = Duration::from_secs(2);
}

impl Drop for Closer {
    fn drop(&mut self) {
        let pool = self.0.clone();
        let closing = std::thread::spawn(move || {
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_time().build() {
                rt.block_on(async move {
                    let _ = tokio::time::timeout(Closer::WAIT, pool.close()).await;
                });
            }
        });
        let _ = closing.join();
    }
}

impl Store {
    /// Opens (creating if missing) and migrates the database at `url` (`sqlite://path`), with the
    /// keys kept beside it (made on first use), the system clock dating the migrations it runs:
    /// for tests and trying the product out. The service and the commands open through
    /// [`Store::open_configured`] with the clock made at their edge.
    pub async fn open(url: &str) -> Result<Store> {
        Store::open_configured(url, &crate::config::StorageConfig::default(), &Clock::system()).await
    }

    /// Opens with the keys the configuration names (`[storage]`), or those beside the database
    /// when it names none. `clock` dates the migrations it runs.
    pub async fn open_configured(url: &str, storage: &crate::config::StorageConfig, clock: &Clock) -> Result<Store> {
        Store::open_with(url, &encrypt::keys_for(url, storage)?, clock).await
    }

    /// Opens (creating if missing) and migrates the database at `url` with `keys`. A database
    /// written before encryption at rest is encrypted first (a copy, then put in its place).
    pub async fn open_with(url: &str, keys: &Keys, clock: &Clock) -> Result<Store> {
        sqlx::any::install_default_drivers();
        if is_postgres(url) {
            return Store::open_postgres(url, keys, clock).await;
        }
        if !url.starts_with("sqlite:") {
            return Err(StoreError::setup("unsupported database URL: a sqlite:// file (the default) or postgres://USER@HOST:PORT/DB"));
        }
        let opts = SqliteConnectOptions::from_str(url).context("database URL")?;
        let memory = url.contains(":memory:") || url.contains("mode=memory");
        if !memory {
            private_file(opts.get_filename())?;
        }
        let path = opts.get_filename().to_path_buf();
        encrypt::sqlcipher_ready().await?;
        encrypt::plaintext_file(&path, &keys.database).await?;
        // SQLCipher's key is the first statement on every connection (sqlx only turns foreign
        // keys on before it, which reads nothing), then the lock wait, then the journal (which
        // may wait for the lock).
        let setup: Arc<str> = format!("{} PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; PRAGMA journal_mode = WAL;", encrypt::key_pragma(&keys.database)).into();
        let url = if memory { url.to_owned() } else { encrypt::sqlite_url(&path) };
        let any = sqlx::any::AnyConnectOptions::from_str(&url).context("database URL")?.disable_statement_logging();
        // One connection first, whose error (a wrong key, say) is said at once: the pool would
        // only try again until its time ran out.
        if !memory {
            let probe = encrypt::connect_sqlite(&path, &setup).await.map_err(encrypt::opening_error(&path))?;
            let _ = sqlx::Connection::close(probe).await;
        }
        let pool = sqlx::any::AnyPoolOptions::new()
            .max_connections(4)
            .after_connect(move |conn, _| {
                let setup = setup.clone();
                Box::pin(async move {
                    sqlx::raw_sql(sqlx::AssertSqlSafe(setup.to_string())).execute(conn).await?;
                    Ok(())
                })
            })
            .connect_with(any)
            .await
            .map_err(encrypt::opening_error(&path))?;
        let store = Store { _closer: Arc::new(Closer(pool.clone())), pool, backend: Backend::Sqlite, lease_url: None, data: Arc::new(DataKey::new(&keys.data)), copy: None };
        store.migrate(clock).await?;
        Ok(store)
    }

    /// Opens and migrates the PostgreSQL database at `url` (`postgres://USER@HOST:PORT/DB`; the
    /// password, when there is one, from `PGPASSWORD` or the URL). Encryption at rest of the
    /// database itself is the server's (its disks); the kept messages and replies are sealed
    /// with the data key as on SQLite, so a dump holds none of them in clear.
    async fn open_postgres(url: &str, keys: &Keys, clock: &Clock) -> Result<Store> {
        let opts = sqlx::any::AnyConnectOptions::from_str(url).context("database URL")?.disable_statement_logging();
        let pool = sqlx::any::AnyPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts)
            .await
            .map_err(|e| StoreError::from(e).within(format!("opening the PostgreSQL database {}", redacted(url))))?;
        let store = Store { _closer: Arc::new(Closer(pool.clone())), pool, backend: Backend::Postgres, lease_url: Some(url.into()), data: Arc::new(DataKey::new(&keys.data)), copy: None };
        store.migrate(clock).await?;
        Ok(store)
    }

    /// Which database this store is on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Takes the lease named `name` (a mailbox, say) if no other instance holds it: on
    /// PostgreSQL a session advisory lock on a connection of its own, outside the pool, which the
    /// server releases when that connection ends however it ends (the keep-alives below bound how
    /// long a silent peer keeps it: about 20 s); None while another holds it. On SQLite (one `run`
    /// per file, [`crate::service::RunLock`]) always granted.
    pub async fn lease(&self, name: &str) -> Result<Option<Lease>> {
        let Some(url) = &self.lease_url else { return Ok(Some(Lease { conn: None })) };
        let opts = sqlx::any::AnyConnectOptions::from_str(url).context("database URL")?.disable_statement_logging();
        let mut conn = opts.connect().await?;
        sqlx::raw_sql("SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 3;").execute(&mut conn).await?;
        let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)").bind(lease_key(name)).fetch_one(&mut conn).await?;
        if !got {
            let _ = sqlx::Connection::close(conn).await;
            return Ok(None);
        }
        Ok(Some(Lease { conn: Some(conn) }))
    }

    async fn migrate(&self, clock: &Clock) -> Result<()> {
        sqlx::query("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at TEXT NOT NULL)")
            .execute(&self.pool)
            .await?;
        let migrations: &[(i64, &str)] = match self.backend {
            Backend::Sqlite => MIGRATIONS,
            Backend::Postgres => MIGRATIONS_POSTGRES,
        };
        for (version, sql) in migrations {
            let done: Option<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = $1")
                .bind(version)
                .fetch_optional(&self.pool)
                .await?;
            if done.is_some() {
                continue;
            }
            if self.backend == Backend::Sqlite && TABLES_MADE_AGAIN.contains(version) {
                self.migrate_without_foreign_keys(*version, sql, clock).await.with_context(|| format!("migration {version}"))?;
                continue;
            }
            let mut tx = self.pool.begin().await?;
            sqlx::raw_sql(sqlx::AssertSqlSafe(*sql)).execute(&mut *tx).await.with_context(|| format!("migration {version}"))?;
            if *version == 4 {
                fill_reply_message_ids(&mut tx).await.context("migration 4: Message-IDs of earlier outbox rows")?;
            }
            if *version == 6 {
                cases::fill_risk_signals(&mut tx).await.context("migration 6: risk signals of earlier messages")?;
            }
            if *version == 13 {
                encrypt::seal_plain_blobs(&mut tx, &self.data).await.context("migration 13: sealing the messages kept before encryption at rest")?;
            }
            if *version == 25 {
                search::fill_search_keys(&mut tx).await.context("migration 25: the search keys of the messages kept")?;
            }
            if *version == 26 {
                search::refill_corrected_keys(&mut tx).await.context("migration 26: the search keys of the messages corrected")?;
            }
            if *version == 14 {
                audit::anchor_earlier_records(&mut tx, &stamp(clock.now())).await.context("migration 14: the chain over earlier audit records")?;
            }
            sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)")
                .bind(version)
                .bind(stamp(clock.now()))
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        }
        Ok(())
    }

    /// A SQLite migration that makes a table again (create, copy, drop, rename): SQLite's
    /// documented procedure, with foreign keys off on its connection (a pragma that cannot change
    /// inside a transaction) so that dropping the old table breaks no reference to it, and
    /// `foreign_key_check` before the commit. Foreign keys are on again before the connection
    /// goes back to the pool; one that cannot be set so is closed instead.
    async fn migrate_without_foreign_keys(&self, version: i64, sql: &'static str, clock: &Clock) -> Result<()> {
        let mut conn = self.pool.acquire().await?;
        sqlx::raw_sql("PRAGMA foreign_keys = OFF").execute(&mut *conn).await?;
        let applied: Result<()> = async {
            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut *tx).await?;
            let broken = sqlx::query("PRAGMA foreign_key_check").fetch_all(&mut *tx).await?;
            if !broken.is_empty() {
                return Err(StoreError::setup(format!("{} rows would refer to rows that are not there", broken.len())));
            }
            sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)").bind(version).bind(stamp(clock.now())).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(())
        }
        .await;
        if sqlx::raw_sql("PRAGMA foreign_keys = ON").execute(&mut *conn).await.is_err() {
            conn.close_on_drop();
        }
        applied
    }

    /// A write transaction for one decision. It takes the write lock at its start (SQLite's
    /// `BEGIN IMMEDIATE`): a transaction that reads first and writes later cannot wait for the
    /// lock (its snapshot would be stale) and fails at once with "database is locked" when the
    /// outbox sender wrote in between.
    pub async fn begin(&self) -> Result<Tx> {
        Ok(Tx { tx: self.write_transaction().await?, backend: self.backend, data: self.data.clone(), copy: self.copy.clone(), copies: Vec::new() })
    }

    /// A transaction that holds the database's one write lock from its start (see [`Store::begin`]).
    async fn write_transaction(&self) -> Result<Transaction<'static, Db>> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            // One writer at a time, as SQLite's write lock: a transaction-level advisory lock taken
            // first (released by the commit or rollback, or by the server when the connection
            // dies). Each decision reads the history, then writes what it read it as; the audit
            // chain reads its head, then appends after it.
            Backend::Postgres => {
                let mut tx = self.pool.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(POSTGRES_WRITE_LOCK).execute(&mut *tx).await?;
                tx
            }
        })
    }

    /// This store with every audit record also copied as `[audit]` says, after its commit.
    pub fn with_audit_copy(mut self, cfg: &crate::config::AuditConfig) -> Store {
        self.copy = audit_copy::AuditCopy::from_config(cfg).map(Arc::new);
        self
    }

    /// Every processed message, in processing order.
    pub async fn history(&self) -> Result<Vec<MessageRecord>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("{MESSAGE_SELECT} ORDER BY m.id"))).fetch_all(&self.pool).await?;
        rows.iter().map(message_record).collect()
    }

    /// Review items (oldest first), then quarantined messages, then pending cases by meeting
    /// date and risk (see [`Store::queue_with_signals`]).
    pub async fn queue(&self) -> Result<Vec<MessageRecord>> {
        Ok(self.queue_with_signals().await?.into_iter().map(|(r, _)| r).collect())
    }

    /// The message `reference` as received, if it was kept.
    pub async fn message_source(&self, reference: &str) -> Result<Option<Vec<u8>>> {
        let row: Option<(i64, Vec<u8>)> = sqlx::query_as("SELECT s.message_row, s.raw FROM message_sources s JOIN messages m ON m.id = s.message_row WHERE m.ref = $1")
            .bind(reference)
            .fetch_optional(&self.pool)
            .await?;
        let Some((message_row, sealed)) = row else { return Ok(None) };
        Ok(Some(self.data.open(Place::MessageSource { message_row }, &sealed).with_context(|| format!("the message {reference} as received"))?))
    }

    /// An outbox row's message as it is (or was) sent.
    pub async fn outbox_raw(&self, outbox_id: i64) -> Result<String> {
        let (message_row, kind, message_id, sealed): (Option<i64>, String, Option<String>, Vec<u8>) =
            sqlx::query_as("SELECT message_row, kind, reply_message_id, raw FROM outbox WHERE id = $1").bind(outbox_id).fetch_one(&self.pool).await?;
        self.open_reply(message_row, &kind, message_id.as_deref(), &sealed).with_context(|| format!("outbox row {outbox_id}"))
    }

    fn open_reply(&self, message_row: Option<i64>, kind: &str, message_id: Option<&str>, sealed: &[u8]) -> Result<String> {
        let raw = self.data.open(outbox_place(message_row, kind, message_id)?, sealed)?;
        String::from_utf8(raw).map_err(|_| StoreError::data("a reply that is not UTF-8 text"))
    }

    /// Whether the message `reference` was kept as received.
    pub async fn has_message_source(&self, reference: &str) -> Result<bool> {
        let found: Option<i64> = sqlx::query_scalar("SELECT s.message_row FROM message_sources s JOIN messages m ON m.id = s.message_row WHERE m.ref = $1").bind(reference).fetch_optional(&self.pool).await?;
        Ok(found.is_some())
    }

    pub fn pool(&self) -> &DbPool {
        &self.pool
    }

    /// The newest migration applied to this database (`doctor`).
    pub async fn schema_version(&self) -> Result<i64> {
        Ok(sqlx::query_scalar::<_, i64>("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetch_one(&self.pool).await?)
    }

    /// The newest migration this build knows on this database's backend.
    pub fn latest_migration(&self) -> i64 {
        let list = match self.backend {
            Backend::Sqlite => MIGRATIONS,
            Backend::Postgres => MIGRATIONS_POSTGRES,
        };
        list.iter().map(|(v, _)| *v).max().unwrap_or(0)
    }

    /// Whether the database takes a write: a table made in a transaction that is rolled back
    /// (`doctor`; nothing is left behind).
    pub async fn probe_write(&self) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("CREATE TABLE doctor_probe (x INTEGER)").execute(&mut *tx).await?;
        sqlx::query("INSERT INTO doctor_probe (x) VALUES (1)").execute(&mut *tx).await?;
        tx.rollback().await?;
        Ok(())
    }

    /// Closes every connection and waits until each is closed. Called before the process ends:
    /// a SQLCipher connection still closing on its worker thread while the process exits races
    /// libcrypto's own clean-up at exit (seen as a crash after all work was done).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The mailbox position of `folder`: (UIDVALIDITY, highest UID filed), if any.
    pub async fn mailbox_checkpoint(&self, folder: &str) -> Result<Option<(u32, u32)>> {
        let row: Option<(i64, i64)> = sqlx::query_as("SELECT uidvalidity, last_uid FROM mailbox_checkpoints WHERE folder = $1")
            .bind(folder)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|(v, u)| (v as u32, u as u32)))
    }

    /// Records that every message of `folder` up to `last_uid` (under `uidvalidity`) is filed.
    pub async fn set_mailbox_checkpoint(&self, folder: &str, uidvalidity: u32, last_uid: u32) -> Result<()> {
        sqlx::query(
            "INSERT INTO mailbox_checkpoints (folder, uidvalidity, last_uid) VALUES ($1, $2, $3) \
             ON CONFLICT (folder) DO UPDATE SET uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid",
        )
        .bind(folder)
        .bind(i64::from(uidvalidity))
        .bind(i64::from(last_uid))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The outcome of the first message recorded with this content hash, if it was seen before.
    /// The first outcome of a message with these bytes, and its area.
    pub async fn first_outcome_by_sha256(&self, sha256: &str) -> Result<Option<(Outcome, String)>> {
        let row: Option<(String, String)> = sqlx::query_as("SELECT outcome, area FROM messages WHERE sha256 = $1 ORDER BY id LIMIT 1")
            .bind(sha256)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some((outcome, area)) => Ok(Some((outcome.parse::<Outcome>().context("reading column outcome")?, area))),
            None => Ok(None),
        }
    }
}

/// Migration 4: the Message-ID of every outbox row written before it, read from the row's raw
/// message (portable SQL cannot parse a header).
async fn fill_reply_message_ids(tx: &mut Transaction<'static, Db>) -> Result<()> {
    let rows: Vec<(i64, String)> = sqlx::query_as("SELECT id, raw FROM outbox WHERE reply_message_id IS NULL").fetch_all(&mut **tx).await?;
    for (id, raw) in rows {
        if let Some(mid) = crate::mime::header_message_id(raw.as_bytes()) {
            sqlx::query("UPDATE outbox SET reply_message_id = $1 WHERE id = $2").bind(mid).bind(id).execute(&mut **tx).await?;
        }
    }
    Ok(())
}

const MESSAGE_SELECT: &str = "SELECT m.id, m.ref, m.message_id, m.file, m.arrived_at, m.outcome, m.criteria, m.reasons, \
    m.dash_yes, m.dash_no, m.dash_unknown, m.case_kind, c.ref AS case_ref, c.meeting_date, p.ref AS person_ref, \
    m.reply_kind, m.reply_to, m.area FROM messages m LEFT JOIN cases c ON c.id = m.case_id LEFT JOIN people p ON p.id = m.person_id";

/// One processed message as the `triage`/`history`/`queue` commands show it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MessageRecord {
    #[serde(skip)]
    pub row: i64,
    pub reference: String,
    pub file: Option<String>,
    pub message_id: Option<String>,
    pub arrived: String,
    pub outcome: Outcome,
    pub criteria: Vec<Criterion>,
    pub dash: Option<(i64, i64, i64)>,
    pub case: String,
    pub case_ref: Option<String>,
    pub meeting_date: Option<String>,
    pub victim_ref: Option<String>,
    pub reasons: Vec<String>,
    pub reply_kind: ReplyKind,
    pub reply_to: Vec<String>,
    /// The area it was routed to (`[areas.ID]`); empty when it could not be told (a review item
    /// a coordinator places).
    pub area: String,
}

impl MessageRecord {
    /// The JSON object `triage --json` and `history --json` print (field names are a contract).
    pub fn to_json(&self, with_file: bool) -> serde_json::Value {
        let mut v = serde_json::json!({
            "message_id": self.message_id,
            "reference": self.reference,
            "arrived": self.arrived,
            "outcome": self.outcome.as_str(),
            "criteria": self.criteria.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
            "dash": self.dash.map(|(y, n, u)| serde_json::json!({"yes": y, "no": n, "unknown": u})),
            "case": self.case,
            "case_ref": self.case_ref,
            "meeting_date": self.meeting_date,
            "victim_ref": self.victim_ref,
            "reasons": self.reasons,
            "reply": {"kind": self.reply_kind.as_str(), "to": self.reply_to},
            "area": Some(self.area.as_str()).filter(|a| !a.is_empty()),
        });
        if with_file {
            v["file"] = serde_json::json!(self.file);
        }
        v
    }
}

/// Reads a column holding one enum's spelling back as the enum: a value that names no variant
/// is an error naming the column ([`crate::text::UnknownSpelling`] underneath), never a default.
pub(crate) fn spelled<T>(r: &DbRow, col: &str) -> Result<T>
where
    T: FromStr<Err = crate::text::UnknownSpelling>,
{
    let text: String = r.try_get(col)?;
    text.parse::<T>().with_context(|| format!("reading column {col}"))
}

/// A JSON list of spellings (the `criteria` column) read back as enums, erring as [`spelled`].
pub(crate) fn spelled_list<T>(json: &str, col: &str) -> Result<Vec<T>>
where
    T: FromStr<Err = crate::text::UnknownSpelling>,
{
    let texts: Vec<String> = serde_json::from_str(json).with_context(|| format!("reading column {col}"))?;
    texts.iter().map(|t| t.parse::<T>().with_context(|| format!("reading column {col}"))).collect()
}

fn message_record(r: &DbRow) -> Result<MessageRecord> {
    let json_list = |col: &str| -> Result<Vec<String>> { Ok(serde_json::from_str(&r.try_get::<String, _>(col)?)?) };
    let yes: Option<i64> = r.try_get("dash_yes")?;
    let row: i64 = r.try_get("id")?;
    let typed = || -> Result<(Outcome, Vec<Criterion>, ReplyKind)> {
        Ok((spelled(r, "outcome")?, spelled_list(&r.try_get::<String, _>("criteria")?, "criteria")?, spelled(r, "reply_kind")?))
    };
    let (outcome, criteria, reply_kind) = typed().with_context(|| format!("message row {row}"))?;
    Ok(MessageRecord {
        row,
        reference: r.try_get("ref")?,
        file: r.try_get("file")?,
        message_id: r.try_get("message_id")?,
        arrived: r.try_get("arrived_at")?,
        outcome,
        criteria,
        dash: match yes {
            Some(y) => Some((y, r.try_get::<Option<i64>, _>("dash_no")?.unwrap_or(0), r.try_get::<Option<i64>, _>("dash_unknown")?.unwrap_or(0))),
            None => None,
        },
        case: r.try_get("case_kind")?,
        case_ref: r.try_get("case_ref")?,
        meeting_date: r.try_get("meeting_date")?,
        victim_ref: r.try_get("person_ref")?,
        reasons: json_list("reasons")?,
        reply_kind,
        reply_to: json_list("reply_to")?,
        area: r.try_get("area")?,
    })
}

/// A victim as the referral names them.
#[derive(Debug, Clone)]
pub struct Victim {
    pub name: Option<PersonName>,
    pub dob: Option<NaiveDate>,
}

/// A person found in the history.
#[derive(Debug, Clone)]
pub struct MatchedPerson {
    pub id: i64,
    pub reference: String,
    pub reason: MatchReason,
}

/// One triage's transaction.
pub struct Tx {
    tx: Transaction<'static, Db>,
    backend: Backend,
    data: Arc<DataKey>,
    copy: Option<Arc<audit_copy::AuditCopy>>,
    /// The audit records appended in this transaction, copied once it commits.
    copies: Vec<audit_copy::Record>,
}

/// What was looked up, for the writes that follow the decision.
#[derive(Debug, Clone, Default)]
pub struct Found {
    pub history: History,
    pub person: Option<MatchedPerson>,
    /// The case the same attachments went to, with its person.
    pub same_attachments: Option<(i64, i64)>,
    /// The pending case of the matched person.
    pub pending_case: Option<i64>,
}

impl Found {
    /// The person matched, for a decision that is a referral: a quarantined or ignored message
    /// is never tied to a person, so a spoofed email naming a known victim learns nothing and
    /// changes nothing.
    pub fn matched(&self, outcome: Outcome) -> Option<&MatchedPerson> {
        self.person.as_ref().filter(|_| !matches!(outcome, Outcome::Quarantined | Outcome::Ignored))
    }
}

/// A decision's columns of `messages`, bound in the order the insert (triage) and the update (a
/// coordinator deciding again) both name them: outcome, criteria, reasons, DASH yes, no and
/// unknown, case kind, case, person, match reason, reply kind, reply-to.
pub(crate) struct DecisionColumns<'a> {
    pub outcome: Outcome,
    pub criteria: &'a [Criterion],
    pub reasons: &'a [String],
    pub dash: Option<(u8, u8, u8)>,
    pub case_kind: &'static str,
    pub placed: &'a Placed,
    pub matched: Option<&'a MatchedPerson>,
    pub reply_kind: ReplyKind,
    pub reply_to: &'a [String],
}

impl DecisionColumns<'_> {
    pub(crate) fn bind<'q>(&self, q: sqlx::query::Query<'q, Db, sqlx::any::AnyArguments>) -> Result<sqlx::query::Query<'q, Db, sqlx::any::AnyArguments>> {
        let count = |i: usize| self.dash.map(|d| i64::from([d.0, d.1, d.2][i]));
        Ok(q.bind(self.outcome.as_str())
            .bind(serde_json::to_string(&self.criteria.iter().map(|c| c.as_str()).collect::<Vec<_>>())?)
            .bind(serde_json::to_string(self.reasons)?)
            .bind(count(0))
            .bind(count(1))
            .bind(count(2))
            .bind(self.case_kind)
            .bind(self.placed.case.as_ref().map(|c| c.0))
            .bind(self.placed.person.as_ref().map(|p| p.0))
            .bind(self.matched.map(|p| p.reason.describe()))
            .bind(self.reply_kind.as_str())
            .bind(serde_json::to_string(self.reply_to)?))
    }
}

/// The rows the decision writes.
pub struct NewMessage<'a> {
    /// The area the message was routed to (`config::DEFAULT_AREA` when it could not be told:
    /// then it is a review item saying so).
    pub area: &'a str,
    pub message_id: Option<&'a str>,
    pub sha256: &'a str,
    pub arrived: chrono::DateTime<chrono::FixedOffset>,
    pub file: Option<&'a str>,
    pub outcome: Outcome,
    pub criteria: Vec<Criterion>,
    pub reasons: &'a [String],
    pub dash: Option<(u8, u8, u8)>,
    pub reply_kind: ReplyKind,
    pub reply_to: &'a [String],
    pub inspection_json: &'a str,
    pub attachments: Vec<(&'a str, String, Option<&'a str>, usize)>,
}

pub enum CaseWrite {
    None,
    /// A new case: the victim to record when no person matched, and the meeting it goes to.
    New { victim_name: String, victim_key: String, dob: Option<NaiveDate>, meeting: Option<NaiveDate>, reference_format: crate::config::CaseConfig },
    /// Linked to an existing case.
    Linked,
}

/// The victim of a new person record: as written, the key names are matched by, the date of
/// birth.
#[derive(Debug, Clone, Copy)]
pub struct NewPerson<'a> {
    /// The area the person is recorded in (`[areas.ID]`).
    pub area: &'a str,
    pub name: &'a str,
    pub key: &'a str,
    pub dob: Option<NaiveDate>,
}

/// Who a referral is about: a person the history already holds (with their reference when the
/// caller has it, else it is read), or a new one.
#[derive(Debug, Clone, Copy)]
pub enum PersonPlace<'a> {
    Known { id: i64, reference: Option<&'a str> },
    New(NewPerson<'a>),
}

/// Where a referral goes: a case that exists, a new case, or none.
#[derive(Debug, Clone, Copy)]
pub enum CasePlace<'a> {
    None,
    Join(i64),
    Open(NewCase<'a>),
}

/// A case to open.
#[derive(Debug, Clone, Copy)]
pub struct NewCase<'a> {
    /// The area whose case it is: its reference is the next of that area's sequence.
    pub area: &'a str,
    /// Its reference: the next in the area's format for the year, or one given (an import).
    pub reference: CaseReference<'a>,
    pub status: &'static str,
    pub meeting: Option<NaiveDate>,
    pub opened_at: &'a str,
    /// `email` or `import`.
    pub source: &'static str,
}

#[derive(Debug, Clone, Copy)]
pub enum CaseReference<'a> {
    Next { format: &'a crate::config::CaseConfig, year: i32 },
    Given(&'a str),
}

/// What [`Tx::place`] found or opened: (row, reference) of the person and of the case (with its
/// meeting date).
#[derive(Debug, Clone, Default)]
pub struct Placed {
    pub person: Option<(i64, String)>,
    pub person_is_new: bool,
    pub case: Option<(i64, String, Option<NaiveDate>)>,
    pub case_is_new: bool,
}

#[derive(Debug, Clone)]
pub struct Written {
    pub row: i64,
    pub reference: String,
    pub case_ref: Option<String>,
    pub meeting: Option<NaiveDate>,
    pub person_ref: Option<String>,
}

impl Tx {
    /// Everything the decision needs from the history, by indexed look-ups: the message seen
    /// before, our own replies it is or refers to, the same attachments, the victim.
    pub async fn look_up(&mut self, message_id: Option<&str>, refers: &Refers, sha256: &str, attachment_hashes: &[String], victim: &Victim, area: &str, arrived: NaiveDate) -> Result<Found> {
        let mut found = Found::default();
        let own = message_id.and_then(normalise_message_id);
        let ids: Vec<String> = own.iter().chain(&refers.about).chain(&refers.thread).cloned().collect();
        for (id, ours) in self.our_messages(&ids).await? {
            if own.as_ref() == Some(&id) {
                found.history.own_reply = Some(ours);
            } else {
                let link = if refers.about.contains(&id) { Link::About } else { Link::Thread };
                found.history.referred.push((ours, link));
            }
        }
        let dup: Option<i64> = match message_id {
            Some(id) => sqlx::query_scalar("SELECT id FROM messages WHERE message_id = $1 LIMIT 1").bind(id).fetch_optional(&mut *self.tx).await?,
            None => sqlx::query_scalar("SELECT id FROM messages WHERE sha256 = $1 LIMIT 1").bind(sha256).fetch_optional(&mut *self.tx).await?,
        };
        found.history.duplicate_message = dup.is_some();

        for h in attachment_hashes {
            let row = sqlx::query(
                "SELECT c.id, c.ref, c.meeting_date, c.person_id FROM attachments a JOIN messages m ON m.id = a.message_row \
                 JOIN cases c ON c.id = m.case_id WHERE a.sha256 = $1 AND c.area = $2 ORDER BY m.id DESC LIMIT 1",
            )
            .bind(h)
            .bind(area)
            .fetch_optional(&mut *self.tx)
            .await?;
            if let Some(r) = row {
                found.same_attachments = Some((r.try_get("id")?, r.try_get("person_id")?));
                found.history.same_attachments_case = Some(CaseSummary { reference: r.try_get("ref")?, meeting_date: parse_date(r.try_get("meeting_date")?) });
                break;
            }
        }

        if let (Some(name), Some(dob)) = (&victim.name, victim.dob) {
            let rows = sqlx::query("SELECT id, ref, name, area FROM people WHERE dob = $1 ORDER BY id")
                .bind(crate::identity::candidates_key(dob))
                .fetch_all(&mut *self.tx)
                .await?;
            for r in rows {
                let known: String = r.try_get("name")?;
                let Ok(known) = PersonName::parse(&known) else { continue };
                if let Some(reason) = same_person(name, dob, &known, dob) {
                    // Another area's person is only flagged: nothing of their case is used here.
                    if r.try_get::<String, _>("area")? != area {
                        found.history.known_in_another_area = true;
                    } else if found.person.is_none() {
                        found.person = Some(MatchedPerson { id: r.try_get("id")?, reference: r.try_get("ref")?, reason });
                    }
                }
            }
        }
        if let (Some(name), Some(dob)) = (&victim.name, victim.dob) {
            // An earlier referral of this victim still waiting for a coordinator's review.
            let rows = sqlx::query(
                "SELECT v.name FROM review_victims v JOIN messages m ON m.id = v.message_row \
                 WHERE v.dob = $1 AND m.outcome = $2 AND m.area = $3 ORDER BY v.message_row DESC LIMIT 50",
            )
            .bind(crate::identity::candidates_key(dob))
            .bind(Outcome::Review.as_str())
            .bind(area)
            .fetch_all(&mut *self.tx)
            .await?;
            if any_same_person(&rows, name, dob)? {
                found.history.earlier_review = true;
            }
        }
        if let (None, Some(name), Some(dob)) = (&found.person, &victim.name, victim.dob) {
            // A person recorded without a date of birth (a form left it blank) may be this one:
            // the name alone cannot say, so a person decides rather than a rejection.
            let rows = sqlx::query("SELECT name FROM people WHERE dob IS NULL AND area = $1 ORDER BY id DESC LIMIT 200").bind(area).fetch_all(&mut *self.tx).await?;
            if any_same_person(&rows, name, dob)? {
                found.history.earlier_review = true;
            }
        }
        if let Some(p) = &found.person {
            let today = arrived.to_string();
            let pending = sqlx::query(
                "SELECT id, ref, meeting_date FROM cases WHERE person_id = $1 AND status = 'pending' \
                 AND (meeting_date IS NULL OR meeting_date >= $2) ORDER BY opened_at DESC LIMIT 1",
            )
            .bind(p.id)
            .bind(&today)
            .fetch_optional(&mut *self.tx)
            .await?;
            let pending_case = match &pending {
                Some(r) => {
                    found.pending_case = Some(r.try_get("id")?);
                    Some(CaseSummary { reference: r.try_get("ref")?, meeting_date: parse_date(r.try_get("meeting_date")?) })
                }
                None => None,
            };
            let last = sqlx::query(
                "SELECT r.referred_on, c.status, c.meeting_date FROM referrals r JOIN cases c ON c.id = r.case_id \
                 WHERE r.person_id = $1 AND r.referred_on <= $2 ORDER BY r.referred_on DESC LIMIT 1",
            )
            .bind(p.id)
            .bind(&today)
            .fetch_optional(&mut *self.tx)
            .await?;
            let (last_referral, last_heard) = match last {
                Some(r) => {
                    let on = parse_date(r.try_get("referred_on")?);
                    let status: String = r.try_get("status")?;
                    let meeting = parse_date(r.try_get("meeting_date")?);
                    // Heard: marked so, closed, or its meeting date has passed.
                    let heard = status != "pending" || meeting.is_some_and(|m| m < arrived);
                    // The MARAC that heard it: its meeting date, when recorded and not to come
                    // (a case closed before its meeting was not heard at it).
                    let heard_at = meeting.filter(|m| heard && *m <= arrived);
                    (on.map(|d| (d, heard)), heard_at.filter(|_| on.is_some()))
                }
                None => (None, None),
            };
            found.history.person = Some(PersonHistory { pending_case, last_referral, last_heard });
        }
        Ok(found)
    }

    /// Our outbox rows sent with any of these (normalised) Message-IDs: one indexed query.
    async fn our_messages(&mut self, ids: &[String]) -> Result<Vec<(String, OurReply)>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT o.id, o.kind, o.reply_message_id, COALESCE(m.ref, 'meeting ' || a.meeting_date || ', ' || a.agency) AS ref FROM outbox o \
             LEFT JOIN messages m ON m.id = o.message_row LEFT JOIN agenda_sends a ON a.outbox_id = o.id \
             WHERE o.reply_message_id IN ({}) AND (m.id IS NOT NULL OR a.id IS NOT NULL) ORDER BY o.id",
            (1..=ids.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in ids {
            q = q.bind(id);
        }
        let rows = q.fetch_all(&mut *self.tx).await?;
        rows.iter()
            .map(|r| Ok((r.try_get("reply_message_id")?, OurReply { outbox_id: r.try_get("id")?, kind: spelled(r, "kind")?, reference: r.try_get("ref")? })))
            .collect()
    }

    /// Marks outbox rows bounced (a delivery failure report for them was decided): the sender
    /// never claims them again.
    pub async fn mark_bounced(&mut self, outbox_ids: &[i64], at: &str) -> Result<()> {
        for id in outbox_ids {
            sqlx::query("UPDATE outbox SET bounced_at = $1 WHERE id = $2 AND bounced_at IS NULL").bind(at).bind(id).execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    async fn next(&mut self, name: &str) -> Result<i64> {
        let v: i64 = sqlx::query_scalar(
            "INSERT INTO sequences (name, value) VALUES ($1, 1) ON CONFLICT (name) DO UPDATE SET value = sequences.value + 1 RETURNING value",
        )
        .bind(name)
        .fetch_one(&mut *self.tx)
        .await?;
        Ok(v)
    }

    /// Our reference for an incoming message, quoted in replies that carry no case reference.
    pub async fn message_reference(&mut self, year: i32) -> Result<String> {
        let n = self.next(&format!("message-{year}")).await?;
        Ok(format!("IN-{year}-{n:05}"))
    }

    /// The one place a person and a case are opened or linked: triage's decision, a
    /// coordinator's decision on a review item, an import and a split all come through here.
    pub async fn place(&mut self, person: PersonPlace<'_>, case: CasePlace<'_>, now: &str) -> Result<Placed> {
        let mut placed = Placed::default();
        let person_id = match person {
            PersonPlace::Known { id, reference } => {
                let r = match reference {
                    Some(r) => r.to_owned(),
                    None => sqlx::query_scalar("SELECT ref FROM people WHERE id = $1").bind(id).fetch_one(&mut *self.tx).await?,
                };
                placed.person = Some((id, r));
                id
            }
            PersonPlace::New(p) => {
                let n = self.next("person").await?;
                let pref = format!("P{n:06}");
                let id: i64 = sqlx::query_scalar("INSERT INTO people (ref, name, name_key, dob, created_at, area) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
                    .bind(&pref)
                    .bind(p.name)
                    .bind(p.key)
                    .bind(p.dob.map(crate::identity::candidates_key))
                    .bind(now)
                    .bind(p.area)
                    .fetch_one(&mut *self.tx)
                    .await?;
                placed.person = Some((id, pref));
                placed.person_is_new = true;
                id
            }
        };
        match case {
            CasePlace::None => {}
            CasePlace::Join(case_id) => {
                let r = sqlx::query("SELECT ref, meeting_date FROM cases WHERE id = $1").bind(case_id).fetch_one(&mut *self.tx).await?;
                placed.case = Some((case_id, r.try_get("ref")?, parse_date(r.try_get("meeting_date")?)));
            }
            CasePlace::Open(c) => {
                let cref = match c.reference {
                    CaseReference::Given(r) => r.to_owned(),
                    CaseReference::Next { format, year } => {
                        // Each area numbers its own cases (the default area keeps the sequence
                        // it had before areas).
                        let name = if c.area == crate::config::DEFAULT_AREA { format!("case-{year}") } else { format!("case-{}-{year}", c.area) };
                        let seq = self.next(&name).await?;
                        format.reference(year, seq as u64)
                    }
                };
                let id: i64 = sqlx::query_scalar("INSERT INTO cases (ref, person_id, status, meeting_date, opened_at, source, area) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id")
                    .bind(&cref)
                    .bind(person_id)
                    .bind(c.status)
                    .bind(c.meeting.map(|d| d.to_string()))
                    .bind(c.opened_at)
                    .bind(c.source)
                    .bind(c.area)
                    .fetch_one(&mut *self.tx)
                    .await?;
                placed.case = Some((id, cref, c.meeting));
                placed.case_is_new = true;
            }
        }
        Ok(placed)
    }

    /// A referral of the placed person to the placed case (`message_row` None: an imported past
    /// referral), when both are there.
    pub async fn add_referral(&mut self, placed: &Placed, message_row: Option<i64>, referred_on: NaiveDate, source: &str) -> Result<()> {
        if let (Some((case_id, _, _)), Some((person_id, _))) = (&placed.case, &placed.person) {
            sqlx::query("INSERT INTO referrals (case_id, person_id, message_row, referred_on, source) VALUES ($1, $2, $3, $4, $5)")
                .bind(case_id)
                .bind(person_id)
                .bind(message_row)
                .bind(referred_on.to_string())
                .bind(source)
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(())
    }

    /// The areas a message whose area could not be told may be for.
    pub async fn keep_candidates(&mut self, row: i64, areas: &[&str]) -> Result<()> {
        for a in areas {
            sqlx::query("INSERT INTO message_candidates (message_row, area) VALUES ($1, $2) ON CONFLICT DO NOTHING").bind(row).bind(a).execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    /// The decision row of a message: who decided what, when.
    pub async fn decision_row(&mut self, row: i64, outcome: Outcome, reasons: &[String], by: &str, now: &str) -> Result<()> {
        sqlx::query("INSERT INTO decisions (message_row, outcome, reasons, decided_by, decided_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(row)
            .bind(outcome.as_str())
            .bind(serde_json::to_string(reasons)?)
            .bind(by)
            .bind(now)
            .execute(&mut *self.tx)
            .await
            .context("recording the decision")?;
        Ok(())
    }

    /// Writes the decision: person and case when new, the referral, the message with its
    /// attachments and the decision row, all dated `now` (the message's arrival is its own).
    /// The outbox row is added by [`Tx::queue_reply`].
    pub async fn write(&mut self, reference: &str, m: &NewMessage<'_>, found: &Found, case: CaseWrite, now: DateTime<Utc>) -> Result<Written> {
        let now = stamp(now);
        let arrived = stamp(m.arrived.to_utc());
        let arrived_day = m.arrived.date_naive();
        let matched = found.matched(m.outcome);
        let (case_kind, placed) = self.place_decision(&case, found, matched, m.area, arrived_day, &arrived, &now).await?;
        let insert = sqlx::query(
            "INSERT INTO messages (ref, message_id, sha256, arrived_at, file, outcome, criteria, reasons, dash_yes, dash_no, dash_unknown, \
             case_kind, case_id, person_id, match_reason, reply_kind, reply_to, inspection, processed_at, area) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20) RETURNING id",
        )
        .bind(reference)
        .bind(m.message_id)
        .bind(m.sha256)
        .bind(&arrived)
        .bind(m.file);
        let decided = DecisionColumns { outcome: m.outcome, criteria: &m.criteria, reasons: m.reasons, dash: m.dash, case_kind, placed: &placed, matched, reply_kind: m.reply_kind, reply_to: m.reply_to };
        let row: i64 = decided.bind(insert)?.bind(m.inspection_json).bind(&now).bind(m.area).fetch_one(&mut *self.tx).await?.try_get("id")?;
        let inspection = view::StoredInspection::parse(m.inspection_json, row)?;
        cases::store_risk_signals(&mut self.tx, row, &inspection, &m.criteria).await?;
        search::store_search_keys(&mut self.tx, row, &inspection).await?;
        self.write_criteria(row, &m.criteria).await?;
        for (sha, kind, name, size) in &m.attachments {
            sqlx::query("INSERT INTO attachments (message_row, sha256, kind, name, size) VALUES ($1, $2, $3, $4, $5)")
                .bind(row)
                .bind(sha)
                .bind(kind)
                .bind(name)
                .bind(*size as i64)
                .execute(&mut *self.tx)
                .await?;
        }
        self.add_referral(&placed, Some(row), arrived_day, "email").await?;
        self.decision_row(row, m.outcome, m.reasons, "triage", &now).await?;
        let (case_ref, meeting) = placed.case.map(|(_, r, m)| (r, m)).unzip();
        Ok(Written { row, reference: reference.to_owned(), case_ref, meeting: meeting.flatten(), person_ref: placed.person.map(|p| p.1) })
    }

    /// Where a decision places its message (triage's, or a coordinator's again): the person
    /// and the case as `case` says (none, joined, or a new case opened at `opened_at` in the
    /// year of `referred_on`), with the message's `case_kind`.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn place_decision(&mut self, case: &CaseWrite, found: &Found, matched: Option<&MatchedPerson>, area: &str, referred_on: NaiveDate, opened_at: &str, now: &str) -> Result<(&'static str, Placed)> {
        Ok(match case {
            CaseWrite::None => ("none", Placed { person: matched.map(|p| (p.id, p.reference.clone())), ..Placed::default() }),
            CaseWrite::Linked => {
                let (case_id, person_id) = match (found.same_attachments, found.pending_case, &found.person) {
                    (Some((c, p)), _, _) => (c, p),
                    (None, Some(c), Some(p)) => (c, p.id),
                    _ => return Err(StoreError::data("a linked decision without a case to link to")),
                };
                ("linked", self.place(PersonPlace::Known { id: person_id, reference: None }, CasePlace::Join(case_id), now).await?)
            }
            CaseWrite::New { victim_name, victim_key, dob, meeting, reference_format } => {
                let person = match matched {
                    Some(p) => PersonPlace::Known { id: p.id, reference: Some(&p.reference) },
                    None => PersonPlace::New(NewPerson { area, name: victim_name, key: victim_key, dob: *dob }),
                };
                let year = chrono::Datelike::year(&referred_on);
                let open = NewCase { area, reference: CaseReference::Next { format: reference_format, year }, status: "pending", meeting: *meeting, opened_at, source: "email" };
                ("new", self.place(person, CasePlace::Open(open), now).await?)
            }
        })
    }

    /// The criteria a message met, one row each (`message_criteria`).
    pub(super) async fn write_criteria(&mut self, row: i64, criteria: &[Criterion]) -> Result<()> {
        for criterion in criteria {
            sqlx::query("INSERT INTO message_criteria (message_row, criterion) VALUES ($1, $2) ON CONFLICT (message_row, criterion) DO NOTHING")
                .bind(row)
                .bind(criterion.as_str())
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(())
    }

    /// Keeps the victim a review item names (when it matched nobody), so that a later referral
    /// of the same person is not decided as if this one had not arrived.
    pub async fn keep_review_victim(&mut self, message_row: i64, name: &PersonName, dob: NaiveDate) -> Result<()> {
        sqlx::query("INSERT INTO review_victims (message_row, name, dob) VALUES ($1, $2, $3) ON CONFLICT (message_row) DO NOTHING")
            .bind(message_row)
            .bind(name.as_written())
            .bind(crate::identity::candidates_key(dob))
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// Adds the reply (or a coordinators' notice) to the outbox, in the same transaction as the
    /// decision, with its Message-ID so that it is recognised if it comes back; queued at `now`.
    pub async fn queue_reply(&mut self, message_row: i64, reply: &crate::reply::Reply, now: DateTime<Utc>) -> Result<()> {
        sqlx::query(
            "INSERT INTO outbox (message_row, kind, recipient, subject, raw, status, attempts, created_at, reply_message_id) \
             VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $7) ON CONFLICT (message_row, kind) DO NOTHING",
        )
        .bind(message_row)
        .bind(reply.kind.as_str())
        .bind(&reply.to)
        .bind(&reply.subject)
        .bind(self.data.seal(Place::OutboxReply { message_row, kind: reply.kind.as_str() }, reply.raw.as_bytes()))
        .bind(stamp(now))
        .bind(normalise_message_id(&reply.message_id))
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    pub async fn record(&mut self, row: i64) -> Result<MessageRecord> {
        let r = sqlx::query(sqlx::AssertSqlSafe(format!("{MESSAGE_SELECT} WHERE m.id = $1"))).bind(row).fetch_one(&mut *self.tx).await?;
        message_record(&r)
    }

    /// Keeps the message as received, sealed with the data key, for the coordinators' downloads.
    pub async fn keep_source(&mut self, message_row: i64, raw: &[u8]) -> Result<()> {
        let sealed = self.data.seal(Place::MessageSource { message_row }, raw);
        sqlx::query("INSERT INTO message_sources (message_row, raw) VALUES ($1, $2)").bind(message_row).bind(sealed).execute(&mut *self.tx).await?;
        Ok(())
    }

    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        if let Some(copy) = &self.copy {
            copy.send(&self.copies);
        }
        Ok(())
    }
}

/// One past referral from the area's own list.
pub struct PastReferral {
    pub name: PersonName,
    pub dob: Option<NaiveDate>,
    pub referred_on: NaiveDate,
    pub meeting: Option<NaiveDate>,
    pub reference: String,
}

/// What an import added.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Imported {
    pub referrals: usize,
    pub people: usize,
    pub cases: usize,
}

impl Tx {
    /// Adds one past referral: its person (matched like any referral), its case (heard when its
    /// meeting is before `today`) and the referral. A reference already present is skipped, so an
    /// import can be run again. New rows are dated `now`; the case opened on the day referred
    /// (its midnight, UTC).
    pub async fn import_referral(&mut self, p: &PastReferral, area: &str, today: NaiveDate, now: DateTime<Utc>, counts: &mut Imported) -> Result<()> {
        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM cases WHERE ref = $1").bind(&p.reference).fetch_optional(&mut *self.tx).await?;
        if exists.is_some() {
            return Ok(());
        }
        let victim = Victim { name: Some(p.name.clone()), dob: p.dob };
        let found = self.look_up(None, &Refers::default(), "", &[], &victim, area, today).await?;
        let person = match &found.person {
            Some(m) => PersonPlace::Known { id: m.id, reference: Some(&m.reference) },
            None => PersonPlace::New(NewPerson { area, name: p.name.as_written(), key: &p.name.key(), dob: p.dob }),
        };
        let status = if p.meeting.is_some_and(|m| m >= today) { "pending" } else { "heard" };
        let opened_at = stamp(p.referred_on.and_time(chrono::NaiveTime::MIN).and_utc());
        let open = NewCase { area, reference: CaseReference::Given(&p.reference), status, meeting: p.meeting, opened_at: &opened_at, source: "import" };
        let placed = self.place(person, CasePlace::Open(open), &stamp(now)).await?;
        counts.people += usize::from(placed.person_is_new);
        counts.cases += 1;
        self.add_referral(&placed, None, p.referred_on, "import").await?;
        counts.referrals += 1;
        Ok(())
    }
}

/// Whether any row's `name` names the same person as `name`, both taken as born on `dob`.
fn any_same_person(rows: &[DbRow], name: &PersonName, dob: NaiveDate) -> Result<bool> {
    for r in rows {
        let known: String = r.try_get("name")?;
        if PersonName::parse(&known).is_ok_and(|known| same_person(name, dob, &known, dob).is_some()) {
            return Ok(true);
        }
    }
    Ok(false)
}

fn parse_date(s: Option<String>) -> Option<NaiveDate> {
    s.and_then(|s| NaiveDate::parse_from_str(s.get(..10).unwrap_or(&s), "%Y-%m-%d").ok())
}

/// An outbox row claimed for sending.
#[derive(Debug, Clone)]
pub struct ClaimedReply {
    pub id: i64,
    pub kind: OutboxKind,
    pub recipient: String,
    pub raw: String,
    /// Attempts made before this one.
    pub attempts: i64,
    pub created_at: String,
    /// An earlier sender held this row and stopped during its attempt.
    pub interrupted: bool,
    /// The area the message it answers was decided in (None: an agenda, which answers none):
    /// the send-time check reads that area's allowlist.
    pub area: Option<String>,
}

/// An outbox row as coordinators and tests see it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct OutboxEntry {
    pub id: i64,
    /// The message it answers (None: a meeting's agenda, which answers none).
    pub message_row: Option<i64>,
    pub kind: OutboxKind,
    pub recipient: String,
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub next_attempt_at: Option<String>,
    pub sent_at: Option<String>,
    /// When a bounce for it was decided: it is never sent (again).
    pub bounced_at: Option<String>,
}

/// One recorded send attempt.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct OutboxAttempt {
    pub at: String,
    pub outcome: String,
    pub code: Option<i64>,
    pub detail: Option<String>,
}

/// How an attempt ended, as the outbox sender decided it.
#[derive(Debug, Clone, PartialEq)]
pub enum AttemptEnd {
    Sent,
    /// Try again at the given time.
    Deferred { next_attempt_at: String },
    /// Final: the server refused it (5xx) or it expired.
    Failed,
    /// Final: the recipient is not on the allowlist; never handed to the server.
    Refused,
}

/// The outbox sender's storage. Timestamps are UTC text in one fixed format (see
/// `clock::stamp`), so comparing them as strings compares instants.
impl Store {
    /// Claims the oldest due row: pending and due, or claimed by a sender whose lease ran out
    /// (it stopped during its attempt). A row marked bounced before it was sent is still sent: a
    /// reply cannot bounce before it is handed over, so that bounce was forged. One write transaction, so two senders never take the
    /// same row. Taking over a run-out claim records an `interrupted` attempt: the stopped sender
    /// may have handed the reply over before it stopped, so it may arrive twice (with the same
    /// Message-ID); the attempts table says which replies that can be.
    pub async fn claim_reply(&self, now: &str, lease_until: &str) -> Result<Option<ClaimedReply>> {
        self.claim_reply_capped(now, lease_until, None).await
    }

    /// [`Store::claim_reply`], leaving for later a reply whose recipient other claims are
    /// sending to while the replies sent since `cap.1` and those would reach `cap.0`: the claims
    /// are one writer at a time, so senders of several instances never send past the
    /// per-recipient cap together (a claimed reply over the cap is put back to wait by the
    /// sender, as before).
    pub async fn claim_reply_capped(&self, now: &str, lease_until: &str, cap: Option<(i64, &str)>) -> Result<Option<ClaimedReply>> {
        let mut tx = self.write_transaction().await.context("claiming an outbox row")?;
        let (limit, since) = cap.unwrap_or((i64::MAX, ""));
        let due: Option<(i64, String)> = sqlx::query_as(
            "SELECT id, status FROM outbox WHERE ((status = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= $1)) \
             OR (status = 'sending' AND claimed_until <= $1)) \
             AND (kind IN ('notice', 'agenda') OR NOT EXISTS (SELECT 1 FROM outbox f WHERE lower(f.recipient) = lower(outbox.recipient) AND f.kind NOT IN ('notice', 'agenda') \
                  AND f.id <> outbox.id AND f.status = 'sending' AND f.claimed_until > $1) \
                  OR (SELECT COUNT(*) FROM outbox o2 WHERE lower(o2.recipient) = lower(outbox.recipient) AND o2.kind NOT IN ('notice', 'agenda') AND o2.id <> outbox.id \
                      AND (o2.sent_at >= $2 OR (o2.status = 'sending' AND o2.claimed_until > $1))) < $3) \
             ORDER BY id LIMIT 1",
        )
        .bind(now)
        .bind(since)
        .bind(limit)
        .fetch_optional(&mut *tx)
        .await
        .context("claiming an outbox row")?;
        let Some((id, was)) = due else { return Ok(None) };
        let r = sqlx::query("UPDATE outbox SET status = 'sending', claimed_until = $1 WHERE id = $2 RETURNING id, message_row, kind, recipient, raw, attempts, created_at, reply_message_id")
            .bind(lease_until)
            .bind(id)
            .fetch_one(&mut *tx)
            .await
            .context("claiming an outbox row")?;
        let interrupted = was == "sending";
        if interrupted {
            sqlx::query("INSERT INTO outbox_attempts (outbox_id, at, outcome, code, detail) VALUES ($1, $2, 'interrupted', NULL, $3)")
                .bind(id)
                .bind(now)
                .bind("the sender holding this reply stopped during its attempt; it may have been delivered, so it is sent again and may arrive twice")
                .execute(&mut *tx)
                .await?;
        }
        let kind: OutboxKind = spelled(&r, "kind").with_context(|| format!("outbox row {id}"))?;
        let message_row: Option<i64> = r.try_get("message_row")?;
        let area: Option<String> = match message_row {
            Some(row) => sqlx::query_scalar("SELECT area FROM messages WHERE id = $1").bind(row).fetch_optional(&mut *tx).await.context("the area of an outbox row's message")?,
            None => None,
        };
        let claimed = ClaimedReply {
            id: r.try_get("id")?,
            kind,
            recipient: r.try_get("recipient")?,
            raw: self.open_reply(message_row, kind.as_str(), r.try_get::<Option<String>, _>("reply_message_id")?.as_deref(), r.try_get("raw")?).with_context(|| format!("outbox row {id}"))?,
            attempts: r.try_get("attempts")?,
            created_at: r.try_get("created_at")?,
            interrupted,
            area,
        };
        tx.commit().await.context("claiming an outbox row")?;
        Ok(Some(claimed))
    }

    /// Replies sent to `recipient` (case-insensitive) at or after `since`, and the earliest of
    /// those send times. Coordinators' notices and agendas are not replies and do not count
    /// ([`OutboxKind::is_reply`]).
    pub async fn replies_sent_since(&self, recipient: &str, since: &str) -> Result<(i64, Option<String>)> {
        let r = sqlx::query(
            "SELECT COUNT(*) AS n, MIN(sent_at) AS first FROM outbox WHERE lower(recipient) = lower($1) AND sent_at >= $2 AND kind NOT IN ($3, $4)",
        )
            .bind(recipient)
            .bind(since)
            .bind(OutboxKind::Notice.as_str())
            .bind(OutboxKind::Agenda.as_str())
            .fetch_one(&self.pool)
            .await?;
        Ok((r.try_get("n")?, r.try_get("first")?))
    }

    /// Puts a claimed row back to wait until `until` without counting an attempt (the
    /// per-recipient cap was reached).
    pub async fn reply_waits(&self, id: i64, until: &str) -> Result<()> {
        sqlx::query("UPDATE outbox SET status = 'pending', claimed_until = NULL, next_attempt_at = $1 WHERE id = $2 AND status = 'sending'")
            .bind(until)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Records an attempt and its consequence on the row, together.
    pub async fn reply_attempted(&self, id: i64, at: &str, end: &AttemptEnd, code: Option<u16>, detail: Option<&str>) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let (status, outcome, next, counts) = match end {
            AttemptEnd::Sent => ("sent", "sent", None, true),
            AttemptEnd::Deferred { next_attempt_at } => ("pending", "deferred", Some(next_attempt_at.as_str()), true),
            AttemptEnd::Failed => ("failed", "failed", None, true),
            AttemptEnd::Refused => ("refused", "refused", None, false),
        };
        sqlx::query(
            "UPDATE outbox SET status = $1, attempts = attempts + $2, next_attempt_at = $3, claimed_until = NULL, \
             last_error = $4, sent_at = CASE WHEN $5 = 'sent' THEN $6 ELSE sent_at END WHERE id = $7",
        )
        .bind(status)
        .bind(i64::from(counts))
        .bind(next)
        .bind(if status == "sent" { None } else { detail })
        .bind(status)
        .bind(at)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO outbox_attempts (outbox_id, at, outcome, code, detail) VALUES ($1, $2, $3, $4, $5)")
            .bind(id)
            .bind(at)
            .bind(outcome)
            .bind(code.map(i64::from))
            .bind(detail)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every outbox row, oldest first.
    pub async fn outbox(&self) -> Result<Vec<OutboxEntry>> {
        self.outbox_where(None).await
    }

    async fn outbox_where(&self, message_row: Option<i64>) -> Result<Vec<OutboxEntry>> {
        const SELECT: &str = "SELECT id, message_row, kind, recipient, status, attempts, last_error, next_attempt_at, sent_at, bounced_at FROM outbox";
        let rows = match message_row {
            // Indexed by outbox_one_per_message (message_row, kind).
            Some(row) => sqlx::query(sqlx::AssertSqlSafe(format!("{SELECT} WHERE message_row = $1 ORDER BY id"))).bind(row).fetch_all(&self.pool).await?,
            None => sqlx::query(sqlx::AssertSqlSafe(format!("{SELECT} ORDER BY id"))).fetch_all(&self.pool).await?,
        };
        rows.iter()
            .map(|r| {
                Ok(OutboxEntry {
                    id: r.try_get("id")?,
                    message_row: r.try_get("message_row")?,
                    kind: spelled(r, "kind")?,
                    recipient: r.try_get("recipient")?,
                    status: r.try_get("status")?,
                    attempts: r.try_get("attempts")?,
                    last_error: r.try_get("last_error")?,
                    next_attempt_at: r.try_get("next_attempt_at")?,
                    sent_at: r.try_get("sent_at")?,
                    bounced_at: r.try_get("bounced_at")?,
                })
            })
            .collect()
    }

    /// The attempts recorded for one outbox row, in order.
    pub async fn outbox_attempts(&self, outbox_id: i64) -> Result<Vec<OutboxAttempt>> {
        let rows = sqlx::query("SELECT at, outcome, code, detail FROM outbox_attempts WHERE outbox_id = $1 ORDER BY id")
            .bind(outbox_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok(OutboxAttempt { at: r.try_get("at")?, outcome: r.try_get("outcome")?, code: r.try_get("code")?, detail: r.try_get("detail")? }))
            .collect()
    }
}

/// The store for a unit test (the store's own and its submodules').
#[cfg(test)]
pub(crate) mod testing {
    /// A store for a unit test: on SQLite in `scratch`, or on a fresh database `name` of the
    /// PostgreSQL cluster `pg`, with keys of its own either way.
    pub(crate) async fn store_on(pg: Option<&crate::test_support::postgres::Postgres>, scratch: &crate::test_support::Scratch, name: &str) -> crate::store::Store {
        use crate::crypto::{Key, Keys};
        let keys = Keys { database: Key::generate(), data: Key::generate() };
        let url = match pg {
            Some(pg) => pg.database(name).await,
            None => format!("sqlite://{}/{name}.db", scratch.0.display()),
        };
        crate::store::Store::open_with(&url, &keys, &crate::clock::Clock::system()).await.unwrap_or_else(|e| panic!("opening {url}: {e:#}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::sqlite::SqlitePoolOptions;
    use crate::decide::ReplyKind;
    use crate::reply::{OutboxKind, Reply};
    use crate::test_support::{postgres::Postgres, Scratch};
    use super::testing::store_on;

    /// A scratch SQLite database for the migrations' tests (SQLite's own history of migrations).
    fn scratch(name: &str) -> (Scratch, String) {
        let dir = Scratch::new(&format!("store-{name}"));
        let url = format!("sqlite://{}/t.db", dir.0.display());
        (dir, url)
    }

    const MESSAGE: &str = "INSERT INTO messages (ref, message_id, sha256, arrived_at, outcome, criteria, reasons, case_kind, reply_kind, reply_to, inspection, processed_at) \
                           VALUES ($1, 'orig@nhs.example.test', 'x', '2026-01-20', 'accepted', '[]', '[]', 'none', 'acknowledgement', '[]', '{}', '2026-01-20') RETURNING id";

    fn t0() -> DateTime<Utc> {
        "2026-01-20T09:00:00Z".parse().unwrap()
    }

    fn reply(kind: OutboxKind, message_id: &str) -> Reply {
        Reply { kind, to: "a@nhs.example.test".into(), subject: "s".into(), message_id: message_id.into(), raw: format!("Message-ID: {message_id}\r\n\r\nx\r\n") }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn stored_enums_read_back_typed_and_an_unknown_spelling_is_an_error_at_read() {
        let pg = Postgres::start("spellings");
        for pg in [None, pg.as_ref()] {
            let scratch = Scratch::new("spellings");
            let store = store_on(pg, &scratch, "spellings").await;
            let mut tx = store.begin().await.unwrap();
            sqlx::query(MESSAGE).bind("IN-2026-00001").fetch_one(&mut *tx.tx).await.unwrap();
            tx.commit().await.unwrap();
            let history = store.history().await.unwrap();
            assert_eq!((history[0].outcome, history[0].reply_kind), (Outcome::Accepted, ReplyKind::Acknowledgement));
            assert_eq!(store.first_outcome_by_sha256("x").await.unwrap(), Some((Outcome::Accepted, "default".to_owned())));

            for (column, bad) in [("outcome", "'acepted'"), ("reply_kind", "'Acknowledgement'"), ("criteria", "'[\"repeet\"]'")] {
                sqlx::query(sqlx::AssertSqlSafe(format!("UPDATE messages SET {column} = {bad}"))).execute(store.pool()).await.unwrap();
                let e = store.history().await.expect_err(column);
                assert_eq!(e.action(), Action::Park, "{column}: {e}");
                let value = bad.trim_matches('\'').trim_matches(['[', ']', '"']);
                assert!(e.to_string().contains(&format!("{value:?} is not a known")), "{column}: {e}");
                assert!(format!("{e:#}").contains(column), "the error names the column: {e:#}");
                sqlx::query(sqlx::AssertSqlSafe(format!("UPDATE messages SET {column} = {}", match column {
                    "outcome" => "'accepted'",
                    "reply_kind" => "'acknowledgement'",
                    _ => "'[]'",
                })))
                .execute(store.pool())
                .await
                .unwrap();
            }
            sqlx::query("UPDATE messages SET outcome = 'maybe'").execute(store.pool()).await.unwrap();
            assert!(store.first_outcome_by_sha256("x").await.is_err(), "never a silent default folder");
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn our_replies_are_found_by_message_id_and_a_bounce_of_an_unsent_one_does_not_stop_it() {
        let pg = Postgres::start("ours");
        for pg in [None, pg.as_ref()] {
            let scratch = Scratch::new("ours");
            let store = store_on(pg, &scratch, "ours").await;
            let mut tx = store.begin().await.unwrap();
            let row: i64 = sqlx::query_scalar(MESSAGE).bind("IN-2026-00003").fetch_one(&mut *tx.tx).await.unwrap();
            tx.queue_reply(row, &reply(OutboxKind::Reply(ReplyKind::Acknowledgement), "<acknowledgement.in-2026-00003@Marac.example.test>"), t0()).await.unwrap();
            tx.queue_reply(row, &reply(OutboxKind::Notice, "<notice.in-2026-00003@marac.example.test>"), t0()).await.unwrap();
            tx.commit().await.unwrap();

            let none = Victim { name: None, dob: None };
            let day = NaiveDate::from_ymd_opt(2026, 1, 21).unwrap();
            let mut tx = store.begin().await.unwrap();
            let refers = Refers {
                about: vec!["acknowledgement.in-2026-00003@marac.example.test".into()],
                thread: vec!["notice.in-2026-00003@marac.example.test".into(), "orig@nhs.example.test".into()],
                dsn_actions: vec![],
            };
            let found = tx.look_up(Some("<B1@mx.elsewhere.test>"), &refers, "y", &[], &none, "default", day).await.unwrap();
            let kinds: Vec<(&str, &str, Link)> = found.history.referred.iter().map(|(r, l)| (r.kind.as_str(), r.reference.as_str(), *l)).collect();
            assert_eq!(kinds, vec![("acknowledgement", "IN-2026-00003", Link::About), ("notice", "IN-2026-00003", Link::Thread)]);
            assert!(found.history.own_reply.is_none());
            let came_back = tx.look_up(Some("<Acknowledgement.IN-2026-00003@marac.example.test>"), &Refers::default(), "z", &[], &none, "default", day).await.unwrap();
            assert_eq!(came_back.history.own_reply.map(|r| r.kind), Some(OutboxKind::Reply(ReplyKind::Acknowledgement)));
            assert!(tx.look_up(Some("<other@nhs.example.test>"), &Refers::default(), "w", &[], &none, "default", day).await.unwrap().history.own_reply.is_none());

            let ack = found.history.referred[0].0.outbox_id;
            tx.mark_bounced(&[ack], "2026-01-21T09:00:00.000Z").await.unwrap();
            tx.commit().await.unwrap();
            let rows = store.outbox().await.unwrap();
            assert_eq!(rows.iter().map(|r| (r.kind.as_str(), r.bounced_at.is_some())).collect::<Vec<_>>(), vec![("acknowledgement", true), ("notice", false)]);
            // A reply not yet handed over cannot have bounced: the "bounce" is forged (our
            // Message-IDs can be guessed), so it must not stop the reply. It is still sent.
            let first = store.claim_reply("2026-01-21T10:00:00.000Z", "2026-01-21T10:05:00.000Z").await.unwrap().expect("the acknowledgement is due");
            assert_eq!(first.kind, OutboxKind::Reply(ReplyKind::Acknowledgement));
            let second = store.claim_reply("2026-01-21T10:00:00.000Z", "2026-01-21T10:05:00.000Z").await.unwrap().expect("the notice is due");
            assert_eq!(second.kind, OutboxKind::Notice);
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_victim_whose_referral_waits_for_review_is_found_by_a_later_referral_until_it_is_decided() {
        let pg = Postgres::start("reviewvictim");
        for pg in [None, pg.as_ref()] {
            let scratch = Scratch::new("reviewvictim");
            let store = store_on(pg, &scratch, "reviewvictim").await;
            let dob = NaiveDate::from_ymd_opt(1987, 11, 14).unwrap();
            let day = NaiveDate::from_ymd_opt(2026, 1, 21).unwrap();
            let mut tx = store.begin().await.unwrap();
            let row: i64 = sqlx::query_scalar(MESSAGE).bind("IN-2026-00001").fetch_one(&mut *tx.tx).await.unwrap();
            sqlx::query("UPDATE messages SET outcome = 'review' WHERE id = $1").bind(row).execute(&mut *tx.tx).await.unwrap();
            tx.keep_review_victim(row, &PersonName::parse("Shannon Pennington").unwrap(), dob).await.unwrap();
            tx.commit().await.unwrap();

            let look = |name: &str, dob: NaiveDate| Victim { name: Some(PersonName::parse(name).unwrap()), dob: Some(dob) };
            let mut tx = store.begin().await.unwrap();
            let typo = tx.look_up(None, &Refers::default(), "a", &[], &look("Shanon Pennington", dob), "default", day).await.unwrap();
            assert!(typo.history.earlier_review, "the same person, spelt with a typo");
            assert!(typo.person.is_none(), "no person was recorded for a review item");
            let other_dob = tx.look_up(None, &Refers::default(), "b", &[], &look("Shannon Pennington", dob.succ_opt().unwrap()), "default", day).await.unwrap();
            assert!(!other_dob.history.earlier_review, "another date of birth is another person");
            let other_name = tx.look_up(None, &Refers::default(), "c", &[], &look("Jade Pennington", dob), "default", day).await.unwrap();
            assert!(!other_name.history.earlier_review);
            // Once a coordinator has decided the earlier one, it no longer holds the later ones back.
            sqlx::query("UPDATE messages SET outcome = 'rejected' WHERE id = $1").bind(row).execute(&mut *tx.tx).await.unwrap();
            let decided = tx.look_up(None, &Refers::default(), "d", &[], &look("Shannon Pennington", dob), "default", day).await.unwrap();
            assert!(!decided.history.earlier_review);
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn migration_25_fills_the_search_keys_of_the_messages_kept_before_it() {
        let (_dir, url) = scratch("m25");
        let reading = |police: &str, postcode: &str, address: &str| {
            serde_json::json!({"referral": {"fields": {"police_reference": police, "victim.postcode": postcode, "victim.address": address}}}).to_string()
        };
        {
            let store = Store::open(&url).await.unwrap();
            for (reference, inspection) in [
                ("IN-2026-00001", reading("KP/25/007037", "ZY3 6DF", "4 Mill Lane, Kingsmere")),
                ("IN-2026-00002", reading("", "", "Flat 2, 9 Quay Street, Kingsmere ZY9 9QQ")),
                ("IN-2026-00003", "not a reading".to_owned()),
            ] {
                let row: i64 = sqlx::query_scalar(MESSAGE).bind(reference).fetch_one(store.pool()).await.unwrap();
                sqlx::query("UPDATE messages SET inspection = $1 WHERE id = $2").bind(inspection).bind(row).execute(store.pool()).await.unwrap();
            }
            // The database as it was before migration 25.
            sqlx::raw_sql("DROP TABLE message_search_keys; DELETE FROM schema_migrations WHERE version = 25").execute(store.pool()).await.unwrap();
            store.pool().close().await;
        }
        let store = Store::open(&url).await.unwrap();
        let keys: Vec<(String, String, String)> =
            sqlx::query_as("SELECT m.ref, k.kind, k.key FROM message_search_keys k JOIN messages m ON m.id = k.message_row ORDER BY m.ref, k.kind, k.key").fetch_all(store.pool()).await.unwrap();
        let keys: Vec<(&str, &str, &str)> = keys.iter().map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str())).collect();
        assert_eq!(
            keys,
            [
                ("IN-2026-00001", "police_reference", "KP25007037"),
                ("IN-2026-00001", "postcode", "ZY36DF"),
                ("IN-2026-00001", "postcode_district", "ZY3"),
                ("IN-2026-00002", "postcode", "ZY99QQ"),
                ("IN-2026-00002", "postcode_district", "ZY9"),
            ],
            "a reading that does not parse has none"
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn migration_26_makes_the_search_keys_of_corrected_messages_from_the_corrected_reading() {
        let (_dir, url) = scratch("m26");
        {
            let store = Store::open(&url).await.unwrap();
            let reading = serde_json::json!({"referral": {"fields": {"police_reference": "AB/1", "victim.postcode": "ZY3 6DF"}}}).to_string();
            let (row, other): (i64, i64) = (
                sqlx::query_scalar(MESSAGE).bind("IN-2026-00001").fetch_one(store.pool()).await.unwrap(),
                sqlx::query_scalar(MESSAGE).bind("IN-2026-00002").fetch_one(store.pool()).await.unwrap(),
            );
            for r in [row, other] {
                sqlx::query("UPDATE messages SET inspection = $1 WHERE id = $2").bind(&reading).bind(r).execute(store.pool()).await.unwrap();
                sqlx::query("DELETE FROM message_search_keys WHERE message_row = $1").bind(r).execute(store.pool()).await.unwrap();
                sqlx::query("INSERT INTO message_search_keys (message_row, kind, key) VALUES ($1, 'police_reference', 'AB1')").bind(r).execute(store.pool()).await.unwrap();
            }
            // A correction kept before the keys followed it, and the database before migration 26.
            sqlx::query("INSERT INTO corrections (message_row, target, original, corrected, label, corrected_by, corrected_at) VALUES ($1, 'police_reference', 'AB/1', 'CD 2', NULL, 'coord', '2026-12-01T10:00:00.000Z')")
                .bind(row)
                .execute(store.pool())
                .await
                .unwrap();
            sqlx::query("DELETE FROM schema_migrations WHERE version = 26").execute(store.pool()).await.unwrap();
            store.pool().close().await;
        }
        let store = Store::open(&url).await.unwrap();
        let keys = |reference: &'static str| {
            let pool = store.pool().clone();
            async move {
                let k: Vec<(String, String)> = sqlx::query_as("SELECT k.kind, k.key FROM message_search_keys k JOIN messages m ON m.id = k.message_row WHERE m.ref = $1 ORDER BY k.kind, k.key")
                    .bind(reference)
                    .fetch_all(&pool)
                    .await
                    .unwrap();
                k
            }
        };
        let corrected = keys("IN-2026-00001").await;
        assert_eq!(corrected.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect::<Vec<_>>(), [("police_reference", "CD2"), ("postcode", "ZY36DF"), ("postcode_district", "ZY3")]);
        assert_eq!(keys("IN-2026-00002").await, [("police_reference".to_owned(), "AB1".to_owned())], "a message not corrected keeps its keys");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn migration_4_fills_the_message_ids_of_earlier_rows() {
        let (_dir, url) = scratch("m4");
        {
            let opts = SqliteConnectOptions::from_str(&url).unwrap().create_if_missing(true);
            let pool = SqlitePoolOptions::new().max_connections(1).connect_with(opts).await.unwrap();
            sqlx::query("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)").execute(&pool).await.unwrap();
            for (version, sql) in &MIGRATIONS[..3] {
                sqlx::raw_sql(sqlx::AssertSqlSafe(*sql)).execute(&pool).await.unwrap();
                sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, 'then')").bind(version).execute(&pool).await.unwrap();
            }
            let row: i64 = sqlx::query_scalar(MESSAGE).bind("IN-2025-00001").fetch_one(&pool).await.unwrap();
            sqlx::query("INSERT INTO outbox (message_row, kind, recipient, subject, raw, status, created_at) VALUES ($1, 'rejection', 'a@x.test', 's', $2, 'sent', 'then')")
                .bind(row)
                .bind("From: marac@marac.example.test\r\nMessage-ID: <rejection.in-2025-00001@marac.example.test>\r\nSubject: s\r\n\r\nbody\r\n")
                .execute(&pool)
                .await
                .unwrap();
            pool.close().await;
        }
        let store = Store::open(&url).await.unwrap();
        let id: Option<String> = sqlx::query_scalar("SELECT reply_message_id FROM outbox").fetch_one(store.pool()).await.unwrap();
        assert_eq!(id.as_deref(), Some("rejection.in-2025-00001@marac.example.test"));
        assert_eq!(store.outbox().await.unwrap()[0].bounced_at, None);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn migration_6_fills_the_risk_signals_of_earlier_messages_and_the_queue_orders_by_them() {
        let (_dir, url) = scratch("m6");
        let inspection = |yes: &[u64], children: usize, agency: &str| {
            let answers: Vec<serde_json::Value> = (1..=24).map(|q| serde_json::json!({"question": q, "answer": if yes.contains(&q) { "yes" } else { "no" }})).collect();
            let kids: Vec<serde_json::Value> = (0..children).map(|_| serde_json::json!({"name": null, "dob": null})).collect();
            serde_json::json!({"dash": {"answers": answers}, "referral": {"children": kids, "fields": {"referrer.agency": agency}}}).to_string()
        };
        {
            let opts = SqliteConnectOptions::from_str(&url).unwrap().create_if_missing(true).foreign_keys(true);
            let pool = SqlitePoolOptions::new().max_connections(1).connect_with(opts).await.unwrap();
            sqlx::query("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)").execute(&pool).await.unwrap();
            for (version, sql) in &MIGRATIONS[..5] {
                sqlx::raw_sql(sqlx::AssertSqlSafe(*sql)).execute(&pool).await.unwrap();
                sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, 'then')").bind(version).execute(&pool).await.unwrap();
            }
            sqlx::query("INSERT INTO people (ref, name, name_key, dob, created_at) VALUES ('P1', 'A B', 'a b', NULL, 'then')").execute(&pool).await.unwrap();
            // Same meeting, same DASH score: the one with strangulation and a child goes first,
            // then the one with a child only, though both arrived later than the third.
            for (i, (yes, children, agency)) in [(&[1u64, 2][..], 0, "Police"), (&[15, 3][..], 1, "NHS"), (&[4, 5][..], 1, "IDVA")].iter().enumerate() {
                let case: i64 = sqlx::query_scalar("INSERT INTO cases (ref, person_id, status, meeting_date, opened_at, source) VALUES ($1, 1, 'pending', '2026-02-10', 'then', 'email') RETURNING id")
                    .bind(format!("C{i}"))
                    .fetch_one(&pool)
                    .await
                    .unwrap();
                sqlx::query("INSERT INTO messages (ref, sha256, arrived_at, outcome, criteria, reasons, dash_yes, dash_no, dash_unknown, case_kind, case_id, person_id, reply_kind, reply_to, inspection, processed_at) \
                             VALUES ($1, 'x', $2, 'accepted', '[\"visible_high_risk\"]', '[]', 2, 22, 0, 'new', $3, 1, 'acknowledgement', '[]', $4, 'then')")
                    .bind(format!("IN-{i}"))
                    .bind(format!("2026-01-0{}", i + 1))
                    .bind(case)
                    .bind(inspection(yes, *children, agency))
                    .execute(&pool)
                    .await
                    .unwrap();
            }
            pool.close().await;
        }
        let store = Store::open(&url).await.unwrap();
        let queue = store.queue_with_signals().await.unwrap();
        let got: Vec<(&str, Vec<String>, usize, Option<&str>)> = queue.iter().map(|(r, s)| (r.reference.as_str(), s.high_risk.clone(), s.children, s.agency.as_deref())).collect();
        assert_eq!(got, vec![("IN-1", vec!["strangulation".to_owned()], 1, Some("NHS")), ("IN-2", vec![], 1, Some("IDVA")), ("IN-0", vec![], 0, Some("Police"))]);
        assert_eq!(store.queue().await.unwrap().iter().map(|r| r.reference.as_str()).collect::<Vec<_>>(), vec!["IN-1", "IN-2", "IN-0"], "the CLI's queue is the same list");
    }
    #[tokio::test(flavor = "current_thread")]
    async fn migration_16_stores_every_instant_in_utc_fixed_width_and_leaves_the_audit_chain_whole() {
        let (_dir, url) = scratch("m16");
        {
            let opts = SqliteConnectOptions::from_str(&url).unwrap().create_if_missing(true);
            let pool = SqlitePoolOptions::new().max_connections(1).connect_with(opts).await.unwrap();
            sqlx::query("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)").execute(&pool).await.unwrap();
            // Up to migration 13 (14 anchors the audit records written before it; 16 is tested).
            for (version, sql) in MIGRATIONS.iter().take_while(|(v, _)| *v < 14) {
                sqlx::raw_sql(sqlx::AssertSqlSafe(*sql)).execute(&pool).await.unwrap();
                sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, '2025-01-14T10:02:03.123456789+00:00')").bind(version).execute(&pool).await.unwrap();
            }
            sqlx::query("INSERT INTO people (ref, name, name_key, dob, created_at) VALUES ('P1', 'A B', 'a b', NULL, '2025-01-14T10:02:03.5+01:00')").execute(&pool).await.unwrap();
            sqlx::query("INSERT INTO cases (ref, person_id, status, meeting_date, opened_at, source) VALUES ('C1', 1, 'pending', '2025-02-10', '2025-01-14T10:02:03+01:00', 'email')").execute(&pool).await.unwrap();
            sqlx::query("INSERT INTO cases (ref, person_id, status, meeting_date, opened_at, source) VALUES ('C2', 1, 'heard', '2024-02-10', '2024-01-30', 'import')").execute(&pool).await.unwrap();
            // The sender's own offsets, as triage stored them; one value nobody can read.
            for (r, arrived) in [("IN-1", "2025-01-14T10:02:03+01:00"), ("IN-2", "2025-01-14T04:30:00-05:00"), ("IN-3", "2025-01-14T09:15:00Z"), ("IN-4", "not a time")] {
                sqlx::query(
                    "INSERT INTO messages (ref, sha256, arrived_at, outcome, criteria, reasons, case_kind, reply_kind, reply_to, inspection, processed_at) \
                     VALUES ($1, $2, $3, 'review', '[]', '[]', 'none', 'none', '[]', '{}', '2025-01-14T09:40:00.987654+00:00')",
                )
                .bind(r)
                .bind(r)
                .bind(arrived)
                .execute(&pool)
                .await
                .unwrap();
            }
            sqlx::query("INSERT INTO outbox (message_row, kind, recipient, subject, raw, status, created_at, sent_at) VALUES (1, 'holding', 'a@x.test', 's', 'x', 'sent', '2025-01-14T09:40:00.987654+00:00', '2025-01-14T09:41:00.000Z')")
                .execute(&pool)
                .await
                .unwrap();
            // An audit record with an offset (spelt apart for tests/it/audit_append_only.rs).
            let insert = format!("INSERT INTO {} (at, actor, action, object) VALUES ('2025-01-14T10:02:03+01:00', 'amy', 'case.view', 'C1')", "audit_log");
            sqlx::query(sqlx::AssertSqlSafe(insert)).execute(&pool).await.unwrap();
            pool.close().await;
        }
        let store = Store::open(&url).await.unwrap();
        let one = |sql: &'static str| {
            let pool = store.pool().clone();
            async move { sqlx::query_scalar::<_, String>(sql).fetch_all(&pool).await.unwrap() }
        };
        assert_eq!(one("SELECT arrived_at FROM messages ORDER BY id").await, ["2025-01-14T09:02:03.000Z", "2025-01-14T09:30:00.000Z", "2025-01-14T09:15:00.000Z", "not a time"]);
        assert_eq!(one("SELECT ref FROM messages WHERE ref <> 'IN-4' ORDER BY arrived_at").await, ["IN-1", "IN-3", "IN-2"], "text order is time order");
        assert_eq!(one("SELECT DISTINCT processed_at FROM messages").await, ["2025-01-14T09:40:00.988Z"], "rounded to the millisecond");
        assert_eq!(one("SELECT opened_at FROM cases ORDER BY id").await, ["2025-01-14T09:02:03.000Z", "2024-01-30T00:00:00.000Z"]);
        assert_eq!(one("SELECT created_at FROM people").await, ["2025-01-14T09:02:03.500Z"]);
        assert_eq!(one("SELECT created_at || ' ' || sent_at FROM outbox").await, ["2025-01-14T09:40:00.988Z 2025-01-14T09:41:00.000Z"]);
        let applied = one("SELECT applied_at FROM schema_migrations").await;
        assert!(applied.len() == MIGRATIONS.len() && applied.iter().all(|a| a.len() == 24 && a.ends_with('Z') && crate::clock::parse(a).is_some()), "{applied:?}");
        // The audit record keeps the text its hash covers, and the chain still holds.
        assert_eq!(one("SELECT at FROM audit_log").await, ["2025-01-14T10:02:03+01:00"]);
        let w = store.verify_audit().await.unwrap();
        assert_eq!((w.records, w.broken), (1, None));
        // Reading back: the one format, and the offset form the audit log may still hold.
        let arrived: Vec<_> = store.history().await.unwrap().iter().map(|r| crate::clock::parse(&r.arrived)).collect();
        assert_eq!(arrived[0], Some("2025-01-14T09:02:03Z".parse().unwrap()));
        assert_eq!(crate::clock::parse("2025-01-14T10:02:03+01:00"), arrived[0]);
    }
}
