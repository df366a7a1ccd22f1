//! The database side of backups (SQLite): a consistent copy of a live database, and what a copy
//! holds, checked before it is trusted.
//!
//! Promises: the copy is one read transaction of the database (`VACUUM INTO`, which SQLCipher
//! writes under the key of the connection it runs on), so it is a snapshot as of one commit while
//! `run` keeps writing; a copy that came out plaintext is deleted and refused; a file is only
//! examined on a keyed connection whose statement log is off, and never written to.

use super::audit::{walk, Walk};
use super::encrypt::{connect_sqlite, key_pragma, opening_error, PLAINTEXT_HEADER};
use super::error::{Context, Result, StoreError};
use super::{Backend, Store, MIGRATIONS};
use crate::crypto::Keys;
use std::path::Path;

/// What a backup (or the database it was taken from) holds, as counted on the copy.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub messages: i64,
    pub cases: i64,
    pub replies: i64,
    /// The newest migration it has; every one it has is known to this program.
    pub migration: i64,
    /// The migrations this program has that it lacks (run when a store next opens it).
    pub missing_migrations: Vec<i64>,
    /// The audit log's hash chain, walked.
    pub audit: Walk,
}

impl Store {
    /// Writes a consistent copy of this SQLite database to `into`, a missing or empty file,
    /// encrypted with the database's own key (`VACUUM INTO` on one of the store's keyed
    /// connections: one read transaction, so the copy is the database as of one commit however
    /// busy `run` is). A copy that is not encrypted is deleted and refused.
    pub async fn copy_into(&self, into: &Path) -> Result<()> {
        if self.backend != Backend::Sqlite {
            return Err(StoreError::refused("a copy of the database is SQLite's: PostgreSQL's backups are pg_dump's"));
        }
        let target = into.to_str().ok_or_else(|| StoreError::setup(format!("the name {} is not UTF-8", into.display())))?;
        sqlx::query("VACUUM INTO $1").bind(target.to_owned()).execute(&self.pool).await.with_context(|| format!("copying the database into {}", into.display()))?;
        if starts_plaintext(into) {
            let _ = std::fs::remove_file(into);
            return Err(StoreError::setup(format!("the copy {} came out unencrypted: it was deleted (this SQLCipher does not encrypt VACUUM INTO)", into.display())));
        }
        Ok(())
    }
}

/// Whether the file at `path` starts as a plaintext SQLite database does.
fn starts_plaintext(path: &Path) -> bool {
    let mut head = [0u8; 16];
    std::fs::File::open(path).and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head)).is_ok() && &head == PLAINTEXT_HEADER
}

/// Opens the SQLite database file at `path` (which must exist) with `keys`' database key, read
/// only, and says what it holds: its counts, its migrations (a file with a migration this program
/// does not know was written by a newer version, and is refused), and its audit chain walked.
/// A wrong key is said in words ([`StoreError::key`]).
pub async fn examine(path: &Path, keys: &Keys) -> Result<Snapshot> {
    if !path.is_file() {
        return Err(StoreError::setup(format!("no database file at {}", path.display())));
    }
    if starts_plaintext(path) {
        return Err(StoreError::refused(format!("{} is an unencrypted SQLite file: not a backup of this service's database", path.display())));
    }
    super::encrypt::sqlcipher_ready().await?;
    let setup = format!("{} PRAGMA query_only = ON;", key_pragma(&keys.database));
    let mut conn = connect_sqlite(path, &setup).await.map_err(opening_error(path))?;
    let result = async {
        // The first read: where a wrong key shows.
        sqlx::query("SELECT COUNT(*) FROM sqlite_master").execute(&mut conn).await.map_err(opening_error(path))?;
        let have: Vec<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations ORDER BY version").fetch_all(&mut conn).await.with_context(|| format!("the migrations of {}", path.display()))?;
        let known: Vec<i64> = MIGRATIONS.iter().map(|(v, _)| *v).collect();
        if let Some(newer) = have.iter().find(|v| !known.contains(v)) {
            return Err(StoreError::refused(format!("{} has migration {newer}, which this marac-intake does not know: it was written by a newer version", path.display())));
        }
        let missing_migrations = known.iter().copied().filter(|v| !have.contains(v)).collect();
        let messages = count(&mut conn, "messages").await?;
        let cases = count(&mut conn, "cases").await?;
        let replies = count(&mut conn, "outbox").await?;
        let audit = walk(&mut conn, None).await.with_context(|| format!("the audit log of {}", path.display()))?;
        Ok(Snapshot { messages, cases, replies, migration: have.last().copied().unwrap_or(0), missing_migrations, audit })
    }
    .await;
    let _ = sqlx::Connection::close(conn).await;
    result
}

/// The number of rows of `table` (a name written here, never input).
async fn count(conn: &mut super::DbConnection, table: &'static str) -> Result<i64> {
    Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}"))).fetch_one(&mut *conn).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::Key;

    /// A copy opens with the database's key only, says what it holds, and one with a migration
    /// this program does not know (a newer version's) is refused.
    #[tokio::test]
    async fn a_copy_opens_with_the_key_alone_and_a_newer_versions_database_is_refused() {
        let dir = std::env::temp_dir().join(format!("marac-backup-unit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let keys = Keys { database: Key::generate(), data: Key::generate() };
        let store = Store::open_with(&format!("sqlite://{}/t.db", dir.display()), &keys, &crate::clock::Clock::system()).await.unwrap();
        let copy = dir.join("copy.db");
        store.copy_into(&copy).await.unwrap();
        assert!(!starts_plaintext(&copy), "the copy is encrypted");
        let s = examine(&copy, &keys).await.unwrap();
        assert_eq!((s.messages, s.cases, s.replies, s.migration, s.missing_migrations.len(), s.audit.broken), (0, 0, 0, MIGRATIONS.last().unwrap().0, 0, None));
        let other = Keys { database: Key::generate(), data: Key::generate() };
        let wrong = examine(&copy, &other).await.unwrap_err();
        assert!(wrong.to_string().contains("the database key does not open"), "{wrong}");
        sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES (9999, 'later')").execute(store.pool()).await.unwrap();
        let newer = dir.join("newer.db");
        store.copy_into(&newer).await.unwrap();
        let refused = examine(&newer, &keys).await.unwrap_err();
        assert!(refused.to_string().contains("migration 9999") && refused.to_string().contains("newer version"), "{refused}");
        assert!(store.copy_into(&newer).await.is_err(), "VACUUM INTO never writes over a database");
        store.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }
}
