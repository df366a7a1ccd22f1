//! `backup` and `restore` of the SQLite database: the files around [`crate::store::backup`].
//!
//! Promises:
//! - A backup is a consistent copy of the live database (one read transaction, while `run`
//!   works), encrypted with the database's own key, created 0600 as a temporary file in the
//!   destination's directory, synced, checked (it opens with the key, its migrations are known,
//!   its audit chain walks), then linked to its name, which is never overwritten.
//! - A restore refuses while a `run` holds the database's run lock (and holds it itself, so no
//!   `run` starts meanwhile), refuses an existing database without `force`, and checks a private
//!   copy of the backup the same way before that copy is renamed over the database in one step;
//!   the database it replaces is kept beside it as `NAME.before-restore-TIMESTAMP`.
//! - PostgreSQL is refused with what to run instead (`pg_dump -Fc` / `pg_restore`): its
//!   backups are PostgreSQL's own.
//! - Nothing here logs; what is printed names files, sizes and counts, never a referral's content.

use crate::clock::Clock;
use crate::config::StorageConfig;
use crate::service::RunLock;
use crate::store::backup::{examine, Snapshot};
use crate::store::{encrypt, is_postgres, Store};
use anyhow::{anyhow, bail, Context, Result};
use std::fs::File;
use std::path::{Path, PathBuf};

/// Why PostgreSQL's database is not backed up here, and what to run instead.
pub const POSTGRES_BACKUP: &str = "the database is PostgreSQL: back it up with PostgreSQL's own tools, e.g. \
     `pg_dump -Fc -f marac-$(date +%F).dump postgres://USER@HOST:PORT/DB` (restore with `pg_restore --clean --if-exists -d ...`, \
     the service stopped); the kept messages and replies in a dump are sealed with the data key, so keep that key with the dumps \
     (README, \"Backups\")";

/// A backup written.
#[derive(Debug)]
pub struct Written {
    pub path: PathBuf,
    pub bytes: u64,
    pub snapshot: Snapshot,
}

/// A restore done.
#[derive(Debug)]
pub struct Restored {
    pub database: PathBuf,
    pub snapshot: Snapshot,
    /// Where the database that was replaced was kept, if there was one.
    pub kept_aside: Option<PathBuf>,
}

/// Writes a consistent copy of the SQLite database at `url` (opened with the keys of `storage`)
/// to `dest`, which must not exist. The copy is checked before it gets its name: a copy whose
/// audit chain does not walk is still written (it is what the database holds), and the caller
/// says so ([`Snapshot::audit`]).
pub async fn backup(url: &str, storage: &StorageConfig, dest: &Path, clock: &Clock) -> Result<Written> {
    if is_postgres(url) {
        bail!("{POSTGRES_BACKUP}");
    }
    let db = encrypt::db_path(url)?;
    if !db.is_file() {
        bail!("no database at {} to back up", db.display());
    }
    if dest.symlink_metadata().is_ok() {
        bail!("{} exists already: a backup never replaces a file (give a new name)", dest.display());
    }
    let keys = encrypt::keys_for(url, storage)?;
    let tmp = temporary_beside(dest, "partial")?;
    let written = async {
        let store = Store::open_with(url, &keys, clock).await?;
        let copied = store.copy_into(&tmp).await;
        store.close().await;
        copied?;
        File::open(&tmp).and_then(|f| f.sync_all()).with_context(|| format!("syncing {}", tmp.display()))?;
        let snapshot = examine(&tmp, &keys).await.with_context(|| format!("checking the copy {}", tmp.display()))?;
        // A hard link: atomic, and it fails rather than replace a file made meanwhile.
        std::fs::hard_link(&tmp, dest).with_context(|| format!("naming the backup {} (it must not exist)", dest.display()))?;
        anyhow::Ok(snapshot)
    }
    .await;
    let _ = std::fs::remove_file(&tmp);
    let snapshot = written?;
    sync_dir(dest)?;
    let bytes = std::fs::metadata(dest).with_context(|| format!("reading {}", dest.display()))?.len();
    Ok(Written { path: dest.to_owned(), bytes, snapshot })
}

/// Restores the backup `source` onto the SQLite database at `url`: refused while a `run` holds
/// the database (and a `run` cannot start until it is done), refused over an existing database
/// unless `force` (which keeps that one aside, `NAME.before-restore-TIMESTAMP`, with its `-wal`
/// if it had one). A private copy of the backup is checked with the keys of `storage` (it
/// opens, its migrations are known, its audit chain walks unbroken) and renamed over the
/// database in one step.
pub async fn restore(url: &str, storage: &StorageConfig, source: &Path, force: bool, clock: &Clock) -> Result<Restored> {
    if is_postgres(url) {
        bail!(
            "the database is PostgreSQL: restore a pg_dump with PostgreSQL's own tools, the service stopped, e.g. \
             `pg_restore --clean --if-exists -d postgres://USER@HOST:PORT/DB marac.dump` (README, \"Backups\")"
        );
    }
    let db = encrypt::db_path(url)?;
    if !source.is_file() {
        bail!("no backup file at {}", source.display());
    }
    if db.exists() && std::fs::canonicalize(source).ok() == std::fs::canonicalize(&db).ok() {
        bail!("{} is the database itself", source.display());
    }
    if let Some(dir) = db.parent().filter(|d| !d.as_os_str().is_empty()) {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    // Held until the new file is in place: a `run` already working is refused here, and one
    // started meanwhile refuses to start.
    let _lock = RunLock::acquire(url).await.map_err(|e| anyhow!("{e:#}; a restore needs the service stopped (`systemctl stop marac-intake`)"))?;
    let exists = db.symlink_metadata().is_ok();
    if exists && !force {
        bail!(
            "the database {} exists: stop everything that uses it and give --force to replace it (it is kept aside as {}.before-restore-TIMESTAMP)",
            db.display(),
            db.display()
        );
    }
    let keys = encrypt::keys_for(url, storage)?;
    let tmp = temporary_beside(&db, "restoring")?;
    let checked = async {
        {
            let mut from = File::open(source).with_context(|| format!("reading {}", source.display()))?;
            let mut to = std::fs::OpenOptions::new().write(true).open(&tmp)?;
            std::io::copy(&mut from, &mut to).with_context(|| format!("copying {} to {}", source.display(), tmp.display()))?;
            to.sync_all().with_context(|| format!("syncing {}", tmp.display()))?;
        }
        let snapshot = examine(&tmp, &keys).await.with_context(|| format!("checking the backup {}", source.display()))?;
        if let Some(b) = &snapshot.audit.broken {
            bail!("the backup's audit chain breaks at record {} ({}): not restored", b.row, b.reason.describe());
        }
        anyhow::Ok(snapshot)
    }
    .await;
    let snapshot = match checked {
        Ok(s) => s,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
    };
    let kept_aside = if exists {
        let aside = suffixed(&db, &format!(".before-restore-{}", clock.now().format("%Y%m%dT%H%M%SZ")));
        // Links, so the database keeps its name until the rename below replaces it in one step.
        std::fs::hard_link(&db, &aside).with_context(|| format!("keeping {} aside as {}", db.display(), aside.display()))?;
        let wal = suffixed(&db, "-wal");
        if wal.exists() {
            std::fs::hard_link(&wal, suffixed(&aside, "-wal")).with_context(|| format!("keeping {} aside", wal.display()))?;
            std::fs::remove_file(&wal).with_context(|| format!("removing {}", wal.display()))?;
        }
        let _ = std::fs::remove_file(suffixed(&db, "-shm"));
        Some(aside)
    } else {
        None
    };
    std::fs::rename(&tmp, &db).with_context(|| format!("putting {} in place of {}", tmp.display(), db.display()))?;
    sync_dir(&db)?;
    Ok(Restored { database: db, snapshot, kept_aside })
}

/// A new, empty file (0600) beside `path` for what becomes `path`: `.NAME.WHAT-PID`.
fn temporary_beside(path: &Path, what: &str) -> Result<PathBuf> {
    use std::os::unix::fs::OpenOptionsExt;
    let name = path.file_name().with_context(|| format!("{} names no file", path.display()))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".{what}-{}", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    let _ = std::fs::remove_file(&tmp);
    std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    Ok(tmp)
}

/// `path` with `suffix` added to its name.
fn suffixed(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Syncs the directory holding `path`, so a rename or link in it is durable.
fn sync_dir(path: &Path) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    File::open(dir).and_then(|d| d.sync_all()).with_context(|| format!("syncing {}", dir.display()))
}
