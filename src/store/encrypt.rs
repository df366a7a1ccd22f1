//! Encryption at rest of the database: its keys, SQLCipher's key on every connection, a database
//! from before encryption at rest encrypted in place, the sealing of the messages kept before
//! (migration 13), and `rekey`.
//!
//! Promises: the database key reaches SQLite only as `PRAGMA key` (first, before anything reads
//! the file) or as a bound `ATTACH ... KEY` parameter, on connections whose statement log is off
//! (sqlx logs every statement, PRAGMAs included, at debug); no error quotes a key. A database is
//! only ever replaced by a complete, synced copy renamed over it: whatever stops half way, the
//! file in place opens with the keys it had.

use super::{Db, DbConnection, Store};
use crate::config::StorageConfig;
use crate::crypto::{DataKey, Key, Keys, Place};
use super::error::{Context, Result, StoreError};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, Transaction};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// What the first 16 bytes of a plaintext SQLite database say; an encrypted one starts with
/// random bytes.
pub(super) const PLAINTEXT_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// Rows read and rewritten at a time when every kept message is sealed again.
const BATCH: i64 = 64;

/// The keys for `url`: the configured key files, else those beside the database (made on first
/// use, with a warning that production uses credentials).
pub(crate) fn keys_for(url: &str, storage: &StorageConfig) -> Result<Keys> {
    if let (Some(db), Some(data)) = (&storage.db_key_file, &storage.data_key_file) {
        return Ok(Keys::read(db, data)?);
    }
    if super::is_postgres(url) {
        // No file to keep them beside: the kept messages are sealed with the data key, which
        // must outlive any one machine.
        return Err(StoreError::setup(
            "a PostgreSQL database needs [storage] db_key_file and data_key_file (the data key seals every kept message; the database key is not used there)",
        ));
    }
    let path = db_path(url)?;
    let (keys, made) = Keys::beside(&path)?;
    let (db_key, data_key) = crate::crypto::beside_names(&path);
    if made {
        eprintln!(
            "marac-intake: NOTE: made new keys for the database in {} and {} (mode 0600). They sit beside the data, so a copy of the \
             data directory holds its keys: that is for trying the product out. Production names systemd credentials in [storage] \
             db_key_file and data_key_file (README, \"Encryption at rest\").",
            db_key.display(),
            data_key.display()
        );
    }
    tracing::warn!(
        db_key = %db_key.display(),
        data_key = %data_key.display(),
        "The database keys are the ones kept beside the database: production names systemd credentials in [storage]."
    );
    Ok(keys)
}

pub(crate) fn db_path(url: &str) -> Result<PathBuf> {
    Ok(SqliteConnectOptions::from_str(url).context("database URL")?.get_filename().to_path_buf())
}

/// Waits until SQLCipher has set itself up in this process; the first caller opens a plain
/// in-memory connection to do it. SQLite marks itself initialised before it runs SQLCipher's
/// set-up, so a connection keyed on another thread in that window is refused ("sqlcipher not
/// initialized"), which would fail a store opened while another is being opened.
pub(crate) async fn sqlcipher_ready() -> Result<()> {
    static READY: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    SQLCIPHER_USED.store(true, std::sync::atomic::Ordering::SeqCst);
    READY
        .get_or_try_init(|| async {
            let conn = SqliteConnectOptions::from_str("sqlite::memory:")?.disable_statement_logging().connect().await?;
            conn.close().await
        })
        .await
        .context("setting up SQLCipher")?;
    Ok(())
}

/// Set once a SQLCipher connection may have been opened in this process.
static SQLCIPHER_USED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// How long a process that used SQLCipher waits before it exits ([`settle_before_exit`]).
const SETTLE: std::time::Duration = std::time::Duration::from_millis(150);

/// Called last by the binary, after every store is closed: when this process used SQLCipher,
/// waits a moment so that the connections' worker threads, which end just after confirming their
/// close, finish ending (their thread-exit clean-up of libcrypto's per-thread state) before the
/// process exits and libcrypto's exit-time clean-up frees the same state. Without it, about one
/// short command in forty crashed at exit ("double free or corruption") after its work was done.
pub fn settle_before_exit() {
    if SQLCIPHER_USED.load(std::sync::atomic::Ordering::SeqCst) {
        std::thread::sleep(SETTLE);
    }
}

/// The statement that gives SQLCipher `key` on a connection (`PRAGMA key = "x'...'";`): run first,
/// on a connection whose statement log is off.
pub(crate) fn key_pragma(key: &Key) -> String {
    format!("PRAGMA key = {};", key.sqlcipher_literal())
}

/// The SQLite database file at `path` as a URL (`sqlite://PATH`, the path percent-encoded where
/// it holds anything but letters, digits and `/._-~`), creating it when missing.
pub(crate) fn sqlite_url(path: &Path) -> String {
    let mut out = String::from("sqlite://");
    for b in path.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || b"/._-~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out.push_str("?mode=rwc");
    out
}

/// The statements that hold a SQLite database whole for one connection: the exclusive lock
/// (refused while the service has it open), waited for at most 2 s.
const EXCLUSIVE: &str = "PRAGMA locking_mode = EXCLUSIVE; PRAGMA busy_timeout = 2000;";

/// One connection to the SQLite database at `path`, its statement log off, with `setup` run first
/// (the key, when there is one, must lead it).
pub(crate) async fn connect_sqlite(path: &Path, setup: &str) -> std::result::Result<DbConnection, sqlx::Error> {
    sqlx::any::install_default_drivers();
    let opts = sqlx::any::AnyConnectOptions::from_str(&sqlite_url(path))?.disable_statement_logging();
    let mut conn = opts.connect().await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(setup.to_owned())).execute(&mut conn).await?;
    Ok(conn)
}


/// A connection error, with the wrong key said in words (SQLCipher reports it as SQLite's
/// "file is not a database", code 26, at the first read).
pub(crate) fn opening_error(path: &Path) -> impl Fn(sqlx::Error) -> StoreError + '_ {
    move |e| {
        let not_a_database = matches!(&e, sqlx::Error::Database(d) if d.code().as_deref() == Some("26"));
        if not_a_database {
            StoreError::key(format!("the database key does not open this database ({}): check [storage] db_key_file", path.display()))
        } else {
            StoreError::from(e).within(format!("opening the database {}", path.display()))
        }
    }
}

/// Encrypts a database written before encryption at rest (a plaintext SQLite file) with `key`:
/// a copy through `sqlcipher_export`, renamed over it. Its kept messages are sealed afterwards
/// by migration 13. Does nothing to a missing, empty or already encrypted file.
pub(crate) async fn plaintext_file(path: &Path, key: &Key) -> Result<()> {
    let mut head = [0u8; 16];
    let plaintext = match std::fs::File::open(path) {
        Ok(mut f) => std::io::Read::read_exact(&mut f, &mut head).is_ok() && &head == PLAINTEXT_HEADER,
        Err(_) => false,
    };
    if !plaintext {
        return Ok(());
    }
    let conn = connect_sqlite(path, EXCLUSIVE).await.with_context(|| format!("opening {} to encrypt it", path.display()))?;
    replace_with_copy(conn, path, key, None).await.with_context(|| format!("encrypting the database {} (written before encryption at rest)", path.display()))?;
    eprintln!("marac-intake: the database {} was plaintext; it is encrypted now", path.display());
    Ok(())
}

/// Migration 13: seals each kept message written before encryption at rest.
pub(crate) async fn seal_plain_blobs(tx: &mut Transaction<'static, Db>, data: &DataKey) -> Result<()> {
    reseal(&mut **tx, "", None, data).await
}

/// Seals again every kept message of the database `schema` (`""` or `"rekeyed."`) with `to`:
/// each must open with `from`, or (`from` None, migration 13) be plaintext.
async fn reseal(tx: &mut DbConnection, schema: &str, from: Option<&DataKey>, to: &DataKey) -> Result<()> {
    let open = |place: Place<'_>, blob: &[u8]| -> Result<Vec<u8>> {
        match from {
            Some(key) => Ok(key.open(place, blob)?),
            None if crate::crypto::is_sealed(blob) && to.open(place, blob).is_ok() => Ok(to.open(place, blob)?),
            None => Ok(blob.to_vec()),
        }
    };
    let mut after = i64::MIN;
    loop {
        let rows: Vec<(i64, Vec<u8>)> = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT message_row, CAST(raw AS BLOB) AS raw FROM {schema}message_sources WHERE message_row > $1 ORDER BY message_row LIMIT $2")))
            .bind(after)
            .bind(BATCH)
            .fetch_all(&mut *tx)
            .await?;
        for (message_row, blob) in &rows {
            let place = Place::MessageSource { message_row: *message_row };
            let plain = open(place, blob).with_context(|| format!("the kept message of row {message_row}"))?;
            sqlx::query(sqlx::AssertSqlSafe(format!("UPDATE {schema}message_sources SET raw = $1 WHERE message_row = $2"))).bind(to.seal(place, &plain)).bind(message_row).execute(&mut *tx).await?;
        }
        match rows.last() {
            Some((row, _)) => after = *row,
            None => break,
        }
    }
    let mut after = i64::MIN;
    loop {
        let rows: Vec<(i64, Option<i64>, String, Option<String>, Vec<u8>)> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT id, message_row, kind, reply_message_id, CAST(raw AS BLOB) AS raw FROM {schema}outbox WHERE id > $1 ORDER BY id LIMIT $2")))
            .bind(after)
            .bind(BATCH)
            .fetch_all(&mut *tx)
            .await?;
        for (id, message_row, kind, message_id, blob) in &rows {
            let place = super::outbox_place(*message_row, kind, message_id.as_deref())?;
            let plain = open(place, blob).with_context(|| format!("outbox row {id}"))?;
            sqlx::query(sqlx::AssertSqlSafe(format!("UPDATE {schema}outbox SET raw = $1 WHERE id = $2"))).bind(to.seal(place, &plain)).bind(id).execute(&mut *tx).await?;
        }
        match rows.last() {
            Some((id, ..)) => after = *id,
            None => break,
        }
    }
    Ok(())
}

/// How many kept messages `rekey` sealed again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rekeyed {
    pub messages: i64,
    pub replies: i64,
}

/// Re-encrypts the database at `url` from the keys `old` to `new`: the database file under the
/// new database key, every kept message under the new data key. The work is done on a copy (`sqlcipher_export`
/// into a new file, the messages sealed again there in one transaction), synced, then renamed
/// over the database: stopped at any point, the database in place opens with `old`, or (after
/// the rename) with `new`. The service must be stopped: a database open elsewhere is refused.
pub async fn rekey(url: &str, old: &Keys, new: &Keys, clock: &crate::clock::Clock) -> Result<Rekeyed> {
    let path = db_path(url)?;
    if !path.exists() {
        return Err(StoreError::setup(format!("no database at {}", path.display())));
    }
    // Opening with the old keys first: a wrong key is said so, and every migration has run.
    let store = Store::open_with(url, old, clock).await?;
    let rekeyed = Rekeyed {
        messages: sqlx::query_scalar("SELECT COUNT(*) FROM message_sources").fetch_one(&store.pool).await?,
        replies: sqlx::query_scalar("SELECT COUNT(*) FROM outbox").fetch_one(&store.pool).await?,
    };
    store.pool.close().await;
    let conn = connect_sqlite(&path, &format!("{} {EXCLUSIVE}", key_pragma(&old.database))).await.map_err(opening_error(&path))?;
    replace_with_copy(conn, &path, &new.database, Some((&DataKey::new(&old.data), &DataKey::new(&new.data)))).await?;
    Ok(rekeyed)
}

/// Writes `conn`'s database to a new file under `key` (its kept messages sealed again from one
/// data key to another when `reseal` is given), then renames it over `path`.
async fn replace_with_copy(mut conn: DbConnection, path: &Path, key: &Key, reseal_with: Option<(&DataKey, &DataKey)>) -> Result<()> {
    // The exclusive lock: refused while the service (or any command) has the database open.
    let in_use = |e: sqlx::Error| match &e {
        sqlx::Error::Database(d) if matches!(d.code().as_deref(), Some("5") | Some("517")) => {
            StoreError::refused(format!("the database {} is in use: stop the service (and any other marac-intake command) first", path.display()))
        }
        _ => StoreError::from(e),
    };
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&mut conn).await.map_err(in_use)?;
    let copy = sibling(path, "encrypting");
    let _ = std::fs::remove_file(&copy);
    {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&copy).with_context(|| format!("creating {}", copy.display()))?;
    }
    let result = async {
        let raw_key = key.sqlcipher_literal();
        sqlx::query("ATTACH DATABASE ? AS rekeyed KEY ?").bind(copy.to_string_lossy().into_owned()).bind(raw_key.trim_matches('"')).execute(&mut conn).await?;
        sqlx::query("SELECT sqlcipher_export('rekeyed')").execute(&mut conn).await?;
        if let Some((from, to)) = reseal_with {
            let mut tx: Transaction<'_, Db> = conn.begin().await?;
            reseal(&mut *tx, "rekeyed.", Some(from), to).await?;
            tx.commit().await?;
        }
        sqlx::query("DETACH DATABASE rekeyed").execute(&mut conn).await?;
        conn.close().await?;
        Ok::<_, StoreError>(())
    }
    .await;
    if let Err(e) = result {
        let _ = std::fs::remove_file(&copy);
        return Err(e);
    }
    let wal = sibling(path, "wal");
    if std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0) {
        let _ = std::fs::remove_file(&copy);
        return Err(StoreError::setup(format!("the database {} still has a write-ahead log after its checkpoint; nothing was changed", path.display())));
    }
    std::fs::File::open(&copy).and_then(|f| f.sync_all()).with_context(|| format!("syncing {}", copy.display()))?;
    let _ = std::fs::remove_file(&wal);
    let _ = std::fs::remove_file(sibling(path, "shm"));
    std::fs::rename(&copy, path).with_context(|| format!("putting {} in place of {}", copy.display(), path.display()))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir).and_then(|d| d.sync_all()).with_context(|| format!("syncing {}", dir.display()))?;
    }
    Ok(())
}

/// `F-suffix` beside the database file `F` (SQLite's own naming for `-wal` and `-shm`).
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push("-");
    s.push(suffix);
    PathBuf::from(s)
}
