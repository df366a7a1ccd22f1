//! The store's errors, by what the caller can do about them ([`Action`]): try again later (the
//! database is busy or out of reach), park this message or refuse this request (its data cannot
//! be stored or read as it is), or stop (the database or its keys are not usable and an admin
//! must act). Callers match on [`StoreError::action`]; nothing downcasts.
//!
//! The texts name the operation and the object (a reference, a row number, a file), never a
//! person's data.

use std::fmt;

/// What a caller does with a failed store operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The same work may succeed later: the database was busy, locked or out of reach.
    Retry,
    /// This message or request cannot be done as it is; others can. A message is parked for a
    /// coordinator, a request refused with the reason.
    Park,
    /// Nothing will work until an admin acts: the database, its files or its keys.
    Stop,
}

/// A failed store operation. `what` is the operation, outermost first ("claiming an outbox
/// row: ..."); empty when there is no more to say than the cause.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database is busy, locked or out of reach (a lost connection, the pool timed out).
    #[error("{}the database is unavailable: {source}", prefix(what))]
    Unavailable { what: String, source: sqlx::Error },
    /// A statement failed on this data: a constraint, a value that does not decode, a record
    /// that breaks an invariant. Trying again fails the same way.
    #[error("{}{detail}", prefix(what))]
    Data { what: String, detail: String },
    /// The request itself is not allowed (a name already taken, a status that does not exist).
    #[error("{}{detail}", prefix(what))]
    Refused { what: String, detail: String },
    /// Sealed data or the database does not open with the keys given.
    #[error("{}{detail}", prefix(what))]
    Key { what: String, detail: String },
    /// The database cannot be used by this version: its URL, its files, a migration.
    #[error("{}{detail}", prefix(what))]
    Setup { what: String, detail: String },
}

fn prefix(what: &str) -> String {
    if what.is_empty() {
        String::new()
    } else {
        format!("{what}: ")
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl StoreError {
    pub fn action(&self) -> Action {
        match self {
            StoreError::Unavailable { .. } => Action::Retry,
            StoreError::Data { .. } | StoreError::Refused { .. } => Action::Park,
            StoreError::Key { .. } | StoreError::Setup { .. } => Action::Stop,
        }
    }

    pub fn data(detail: impl fmt::Display) -> Self {
        StoreError::Data { what: String::new(), detail: detail.to_string() }
    }

    pub fn refused(detail: impl fmt::Display) -> Self {
        StoreError::Refused { what: String::new(), detail: detail.to_string() }
    }

    pub fn key(detail: impl fmt::Display) -> Self {
        StoreError::Key { what: String::new(), detail: detail.to_string() }
    }

    pub fn setup(detail: impl fmt::Display) -> Self {
        StoreError::Setup { what: String::new(), detail: detail.to_string() }
    }

    /// The same error, said to have happened while doing `outer`.
    pub fn within(mut self, outer: impl fmt::Display) -> Self {
        let (StoreError::Unavailable { what, .. } | StoreError::Data { what, .. } | StoreError::Refused { what, .. } | StoreError::Key { what, .. } | StoreError::Setup { what, .. }) = &mut self;
        *what = if what.is_empty() { outer.to_string() } else { format!("{outer}: {what}") };
        self
    }
}

/// SQLite's primary result codes that mean "not now": SQLITE_BUSY, SQLITE_LOCKED, SQLITE_NOMEM,
/// SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN, SQLITE_PROTOCOL (extended codes keep the primary
/// code in their low byte).
const TRANSIENT_SQLITE: [i64; 7] = [5, 6, 7, 10, 13, 14, 15];
/// SQLITE_NOTADB: the file is not a database, or (SQLCipher) the key does not open it.
const NOT_A_DATABASE: i64 = 26;

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        use sqlx::Error as E;
        match &e {
            E::Io(_) | E::Tls(_) | E::Protocol(_) | E::PoolTimedOut | E::PoolClosed | E::WorkerCrashed => StoreError::Unavailable { what: String::new(), source: e },
            // PostgreSQL's SQLSTATE (five characters): the connection lost, a transaction rolled
            // back by the server (serialization, deadlock), the server shutting down or short of
            // resources pass; anything else is this statement's own trouble.
            E::Database(db) if db.code().is_some_and(|c| c.len() == 5) => {
                let class = db.code().map(|c| c[..2].to_owned()).unwrap_or_default();
                if matches!(class.as_str(), "08" | "40" | "53" | "57") {
                    StoreError::Unavailable { what: String::new(), source: e }
                } else {
                    StoreError::data(e)
                }
            }
            E::Database(db) => {
                let code = db.code().and_then(|c| c.parse::<i64>().ok()).map(|c| c & 0xff);
                match code {
                    Some(c) if TRANSIENT_SQLITE.contains(&c) => StoreError::Unavailable { what: String::new(), source: e },
                    Some(NOT_A_DATABASE) => StoreError::key("the database does not open with its key (or is not a database)"),
                    _ => StoreError::data(e),
                }
            }
            E::Configuration(_) => StoreError::setup(e),
            E::Migrate(_) => StoreError::setup(e),
            _ => StoreError::data(e),
        }
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::data(format!("a stored value does not read back: {e}"))
    }
}

impl From<std::io::Error> for StoreError {
    fn from(e: std::io::Error) -> Self {
        StoreError::setup(e)
    }
}

impl From<crate::crypto::OpenError> for StoreError {
    fn from(e: crate::crypto::OpenError) -> Self {
        StoreError::key(e)
    }
}

impl From<crate::crypto::KeyError> for StoreError {
    fn from(e: crate::crypto::KeyError) -> Self {
        StoreError::key(e)
    }
}

impl From<crate::text::UnknownSpelling> for StoreError {
    fn from(e: crate::text::UnknownSpelling) -> Self {
        StoreError::data(format!("a stored value does not read back: {e}"))
    }
}

impl From<zip::result::ZipError> for StoreError {
    fn from(e: zip::result::ZipError) -> Self {
        StoreError::data(format!("the archive could not be written: {e}"))
    }
}

impl From<std::string::FromUtf8Error> for StoreError {
    fn from(_: std::string::FromUtf8Error) -> Self {
        StoreError::data("a stored text is not UTF-8")
    }
}

impl From<chrono::ParseError> for StoreError {
    fn from(e: chrono::ParseError) -> Self {
        StoreError::data(format!("a stored date does not read back: {e}"))
    }
}

/// `.context(..)` for the store's results, as anyhow has it, keeping the error's [`Action`].
pub trait Context<T> {
    fn context(self, what: impl fmt::Display) -> Result<T>;
    fn with_context<D: fmt::Display>(self, what: impl FnOnce() -> D) -> Result<T>;
}

impl<T, E: Into<StoreError>> Context<T> for std::result::Result<T, E> {
    fn context(self, what: impl fmt::Display) -> Result<T> {
        self.map_err(|e| e.into().within(what))
    }

    fn with_context<D: fmt::Display>(self, what: impl FnOnce() -> D) -> Result<T> {
        self.map_err(|e| e.into().within(what()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_or_unreachable_database_is_retried_and_a_bad_value_is_parked() {
        assert_eq!(StoreError::from(sqlx::Error::PoolTimedOut).action(), Action::Retry);
        assert_eq!(StoreError::from(sqlx::Error::Io(std::io::Error::other("reset"))).action(), Action::Retry);
        assert_eq!(StoreError::from(sqlx::Error::RowNotFound).action(), Action::Park);
        assert_eq!(StoreError::from(serde_json::from_str::<u8>("x").unwrap_err()).action(), Action::Park);
        assert_eq!(StoreError::from(crate::crypto::OpenError::Rejected).action(), Action::Stop);
    }

    #[test]
    fn context_reads_outermost_first_and_keeps_the_action() {
        let e: Result<()> = Err(sqlx::Error::PoolTimedOut).context("claiming an outbox row");
        let e = e.with_context(|| "sending replies").unwrap_err();
        assert_eq!(e.action(), Action::Retry);
        assert_eq!(e.to_string(), "sending replies: claiming an outbox row: the database is unavailable: pool timed out while waiting for an open connection");
        assert_eq!(StoreError::refused("a case is pending, heard or closed").within("setting a case's status").to_string(), "setting a case's status: a case is pending, heard or closed");
    }

    #[tokio::test]
    async fn a_locked_database_is_retried() {
        let dir = std::env::temp_dir().join(format!("marac-store-error-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.join("locked.db").display());
        let opts: sqlx::sqlite::SqliteConnectOptions = url.parse::<sqlx::sqlite::SqliteConnectOptions>().unwrap().busy_timeout(std::time::Duration::ZERO);
        let mut holder = sqlx::ConnectOptions::connect(&opts).await.unwrap();
        let mut other = sqlx::ConnectOptions::connect(&opts).await.unwrap();
        sqlx::query("CREATE TABLE t (x)").execute(&mut holder).await.unwrap();
        sqlx::query("BEGIN IMMEDIATE").execute(&mut holder).await.unwrap();
        let e = sqlx::query("BEGIN IMMEDIATE").execute(&mut other).await.unwrap_err();
        assert_eq!(StoreError::from(e).action(), Action::Retry);
        let e = sqlx::query("INSERT INTO missing VALUES (1)").execute(&mut holder).await.unwrap_err();
        assert_eq!(StoreError::from(e).action(), Action::Park, "no such table is this statement's own trouble");
        drop((holder, other));
        let _ = std::fs::remove_dir_all(dir);
    }
}
