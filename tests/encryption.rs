//! Encryption at rest (issue 12, item 6), on the real store and the real binary:
//! - a triaged referral leaves no name, date of birth or address in any byte of the database
//!   file, its write-ahead log or a copy of it, while the product still reads the case back;
//! - a wrong database key is refused in words, not with a panic;
//! - `rekey` re-encrypts the database and every kept message: the old keys open nothing after,
//!   the new ones everything;
//! - a message kept before encryption at rest is sealed by migration 13;
//! - the keys never reach a log: every event of every crate at TRACE captured in-process (with a
//!   control showing that sqlx's statement log is captured when it is on), and the binary run at
//!   its most verbose level (`MARAC_LOG=trace`).

use marac_intake::config::StorageConfig;
use marac_intake::crypto::{Key, Keys};
use marac_intake::clock::Clock;
use marac_intake::store::Store;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};

const BIN: &str = env!("CARGO_BIN_EXE_marac-intake");
const FIXTURE: &str = "fixtures/triage/001_police_seed_victim_l_accept15.eml";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("marac-encryption-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
    fn url(&self) -> String {
        format!("sqlite://{}", self.0.join("t.db").display())
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Two new key files in `dir` named `prefix.db-key` and `prefix.data-key`: their [`StorageConfig`]
/// and their keys.
fn key_files(dir: &Path, prefix: &str) -> (StorageConfig, Keys) {
    let keys = Keys { database: Key::generate(), data: Key::generate() };
    let db = dir.join(format!("{prefix}.db-key"));
    let data = dir.join(format!("{prefix}.data-key"));
    std::fs::write(&db, format!("{}\n", keys.database.to_hex())).unwrap();
    std::fs::write(&data, format!("{}\n", keys.data.to_hex())).unwrap();
    (StorageConfig { db_key_file: Some(db), data_key_file: Some(data), database_url: None }, keys)
}

fn storage_env(storage: &StorageConfig) -> [(&'static str, String); 2] {
    [
        ("MARAC__STORAGE__DB_KEY_FILE", storage.db_key_file.as_ref().unwrap().display().to_string()),
        ("MARAC__STORAGE__DATA_KEY_FILE", storage.data_key_file.as_ref().unwrap().display().to_string()),
    ]
}

fn config() -> marac_intake::config::Config {
    marac_intake::config::load(&root().join("config/samples.toml"), Vec::<(String, String)>::new()).unwrap()
}

/// The fixture, triaged into `store`: its reference and the raw message.
async fn triage_fixture(store: &Store) -> (String, Vec<u8>) {
    let raw = std::fs::read(root().join(FIXTURE)).unwrap();
    let now = chrono::DateTime::parse_from_rfc3339("2025-01-06T09:12:41+00:00").unwrap();
    let record = marac_intake::triage::triage_message(&raw, Some("001.eml"), None, now, &config(), store).await.unwrap();
    assert_eq!(record.outcome, marac_intake::decide::Outcome::Accepted);
    (record.reference, raw)
}

/// What the fixture says about people, in the spellings a database could hold: the victim's
/// name, surname, date of birth (as written and as ISO), address, the perpetrator's name, the
/// referrer's address.
fn personal_data() -> Vec<String> {
    let raw = std::fs::read(root().join(FIXTURE)).unwrap();
    let inspection = marac_intake::inspect::inspect(&raw, &marac_intake::inspect::InspectOptions::with_clock(std::time::Instant::now));
    let v = serde_json::to_value(&inspection).unwrap();
    let field = |k: &str| v["referral"]["fields"][k].as_str().unwrap_or_else(|| panic!("the fixture gives {k}")).to_owned();
    let name = field("victim.name");
    let dob = field("victim.dob");
    let (d, m, y) = (&dob[0..2], &dob[3..5], &dob[6..10]);
    let surname = name.rsplit(' ').next().unwrap().to_owned();
    let address = field("victim.address");
    vec![name, surname, dob.clone(), format!("{y}-{m}-{d}"), address.split(", ").nth(1).unwrap().to_owned(), field("perpetrator.name"), field("referrer.email")]
}

/// The first of `needles` found in `haystack` (as UTF-8, the database's text encoding).
fn found_in(haystack: &[u8], needles: &[String]) -> Option<String> {
    needles.iter().find(|n| haystack.windows(n.len()).any(|w| w == n.as_bytes())).cloned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_triaged_referral_is_in_no_byte_of_the_database_its_wal_or_a_copy_and_still_reads_back() {
    let dir = Scratch::new("strings");
    let (storage, _) = key_files(&dir.0, "k");
    let store = Store::open_configured(&dir.url(), &storage, &Clock::system()).await.unwrap();
    let (reference, raw) = triage_fixture(&store).await;
    let needles = personal_data();
    let db = dir.0.join("t.db");
    let wal = dir.0.join("t.db-wal");

    // The product reads everything back: the case, the person, the message as received.
    let history = store.history().await.unwrap();
    assert!(history[0].case_ref.is_some() && history[0].victim_ref.is_some());
    let person: String = sqlx::query_scalar("SELECT name FROM people").fetch_one(store.pool()).await.unwrap();
    assert_eq!(person, needles[0], "the victim's name is held in the database");
    assert_eq!(store.message_source(&reference).await.unwrap().unwrap(), raw);
    // The needles are real: the referrer's address is in the message as received, and the
    // inspection stored with the decision names the victim.
    assert_eq!(found_in(&raw, &needles[6..]), Some(needles[6].clone()));
    let inspection: String = sqlx::query_scalar("SELECT inspection FROM messages").fetch_one(store.pool()).await.unwrap();
    assert_eq!(found_in(inspection.as_bytes(), &needles[..1]), Some(needles[0].clone()));

    // While the store is open the decision sits in the write-ahead log.
    assert!(std::fs::metadata(&wal).unwrap().len() > 0, "the write-ahead log holds the decision");
    for file in [&db, &wal] {
        assert_eq!(found_in(&std::fs::read(file).unwrap(), &needles), None, "{} holds personal data in clear", file.display());
    }

    // A copy after a checkpoint (there is no backup command: a file copy is what a backup holds).
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(store.pool()).await.unwrap();
    let copy = dir.0.join("backup.db");
    std::fs::copy(&db, &copy).unwrap();
    let bytes = std::fs::read(&copy).unwrap();
    assert!(!bytes.starts_with(b"SQLite format 3\0"), "the copy is not a plaintext SQLite file");
    assert_eq!(found_in(&bytes, &needles), None, "the backup holds personal data in clear");
    store.pool().close().await;

    // The copy opens with the keys and reads the case back.
    let restored = Store::open_configured(&format!("sqlite://{}", copy.display()), &storage, &Clock::system()).await.unwrap();
    assert_eq!(restored.history().await.unwrap(), history);
    assert_eq!(restored.message_source(&reference).await.unwrap().unwrap(), raw);

    // The kept blobs themselves, as a dump would copy them, are sealed.
    let blobs: Vec<Vec<u8>> = sqlx::query_scalar("SELECT raw FROM message_sources UNION ALL SELECT raw FROM outbox").fetch_all(restored.pool()).await.unwrap();
    assert_eq!(blobs.len(), 2, "the message as received and its acknowledgement");
    for blob in &blobs {
        assert!(marac_intake::crypto::is_sealed(blob));
        assert_eq!(found_in(blob, &needles), None);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_database_key_is_refused_in_words() {
    let dir = Scratch::new("wrong-key");
    let (storage, _) = key_files(&dir.0, "right");
    let store = Store::open_configured(&dir.url(), &storage, &Clock::system()).await.unwrap();
    triage_fixture(&store).await;
    store.pool().close().await;

    let (wrong, _) = key_files(&dir.0, "wrong");
    let e = Store::open_configured(&dir.url(), &wrong, &Clock::system()).await.err().expect("a wrong key is refused");
    assert!(format!("{e:#}").contains("the database key does not open this database"), "{e:#}");

    // The command line says the same, and exits with a failure (not a panic).
    let out = Command::new(BIN)
        .args(["history", "--config"])
        .arg(root().join("config/samples.toml"))
        .arg("--db")
        .arg(dir.url())
        .envs(storage_env(&wrong))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("the database key does not open this database"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    // The right key still opens it: the refusal changed nothing.
    let again = Store::open_configured(&dir.url(), &storage, &Clock::system()).await.unwrap();
    assert_eq!(again.history().await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rekey_re_encrypts_the_database_and_every_kept_message_and_logs_no_key() {
    let dir = Scratch::new("rekey");
    let (old, old_keys) = key_files(&dir.0, "old");
    let store = Store::open_configured(&dir.url(), &old, &Clock::system()).await.unwrap();
    let (reference, raw) = triage_fixture(&store).await;
    let reply_id: i64 = sqlx::query_scalar("SELECT id FROM outbox").fetch_one(store.pool()).await.unwrap();
    let reply = store.outbox_raw(reply_id).await.unwrap();
    let history = store.history().await.unwrap();

    // While the database is open elsewhere, rekey is refused and changes nothing.
    let (new, new_keys) = key_files(&dir.0, "new");
    let rekey = || {
        Command::new(BIN)
            .args(["rekey", "--config"])
            .arg(root().join("config/samples.toml"))
            .arg("--db")
            .arg(dir.url())
            .arg("--new-db-key-file")
            .arg(new.db_key_file.as_ref().unwrap())
            .arg("--new-data-key-file")
            .arg(new.data_key_file.as_ref().unwrap())
            .envs(storage_env(&old))
            .env("MARAC_LOG", "trace")
            .output()
            .unwrap()
    };
    let busy = rekey();
    assert_eq!(busy.status.code(), Some(1), "refused while open: {}", String::from_utf8_lossy(&busy.stderr));
    assert!(String::from_utf8_lossy(&busy.stderr).contains("in use"), "{}", String::from_utf8_lossy(&busy.stderr));
    assert_eq!(store.history().await.unwrap(), history, "the database is untouched");
    store.pool().close().await;

    let out = rekey();
    let printed = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{printed}");
    assert!(printed.contains("1 kept messages and 1 replies"), "{printed}");
    for key in [&old_keys.database, &old_keys.data, &new_keys.database, &new_keys.data] {
        assert!(!printed.to_lowercase().contains(&key.to_hex()), "a key in the output of rekey: {printed}");
    }
    assert!(!dir.0.join("t.db-encrypting").exists(), "no copy left behind");

    // The old database key opens nothing; the new keys open everything.
    let e = Store::open_configured(&dir.url(), &old, &Clock::system()).await.err().expect("the old key no longer opens the database");
    assert!(format!("{e:#}").contains("the database key does not open this database"), "{e:#}");
    let rekeyed = Store::open_configured(&dir.url(), &new, &Clock::system()).await.unwrap();
    assert_eq!(rekeyed.history().await.unwrap(), history);
    assert_eq!(rekeyed.message_source(&reference).await.unwrap().unwrap(), raw);
    assert_eq!(rekeyed.outbox_raw(reply_id).await.unwrap(), reply);
    // The kept message is sealed under the new data key only: the old one does not open it.
    let (row, blob): (i64, Vec<u8>) = sqlx::query_as("SELECT message_row, raw FROM message_sources").fetch_one(rekeyed.pool()).await.unwrap();
    let place = marac_intake::crypto::Place::MessageSource { message_row: row };
    assert!(marac_intake::crypto::DataKey::new(&old_keys.data).open(place, &blob).is_err());
    assert_eq!(marac_intake::crypto::DataKey::new(&new_keys.data).open(place, &blob).unwrap(), raw);
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(dir.0.join("t.db")).unwrap().permissions());
    assert_eq!(mode & 0o077, 0, "the rekeyed database is private: {mode:o}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_kept_before_encryption_at_rest_is_sealed_by_migration_13() {
    let dir = Scratch::new("migration-13");
    let (storage, keys) = key_files(&dir.0, "k");
    let store = Store::open_configured(&dir.url(), &storage, &Clock::system()).await.unwrap();
    let (reference, raw) = triage_fixture(&store).await;
    // The row as it was before: the message in clear, migration 13 not yet applied.
    sqlx::query("UPDATE message_sources SET raw = $1").bind(&raw).execute(store.pool()).await.unwrap();
    sqlx::query("DELETE FROM schema_migrations WHERE version = 13").execute(store.pool()).await.unwrap();
    assert!(store.message_source(&reference).await.is_err(), "a plaintext row is not read as a sealed one");
    store.pool().close().await;

    let store = Store::open_configured(&dir.url(), &storage, &Clock::system()).await.unwrap();
    let (row, blob): (i64, Vec<u8>) = sqlx::query_as("SELECT message_row, raw FROM message_sources").fetch_one(store.pool()).await.unwrap();
    assert_eq!(marac_intake::crypto::DataKey::new(&keys.data).open(marac_intake::crypto::Place::MessageSource { message_row: row }, &blob).unwrap(), raw);
    assert_eq!(store.message_source(&reference).await.unwrap().unwrap(), raw);
    // The reply, sealed already, was left as it was and still opens.
    let reply_id: i64 = sqlx::query_scalar("SELECT id FROM outbox").fetch_one(store.pool()).await.unwrap();
    assert!(store.outbox_raw(reply_id).await.unwrap().contains("Message-ID"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_configured_keys_the_keys_are_made_beside_the_database_privately_and_kept() {
    let dir = Scratch::new("beside");
    let store = Store::open(&dir.url()).await.unwrap();
    let (reference, raw) = triage_fixture(&store).await;
    store.pool().close().await;
    for name in ["t.db.db-key", "t.db.data-key"] {
        let meta = std::fs::metadata(dir.0.join(name)).unwrap();
        assert_eq!(std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o777, 0o600, "{name}");
    }
    assert!(!std::fs::read(dir.0.join("t.db")).unwrap().starts_with(b"SQLite format 3\0"), "encrypted all the same");
    let again = Store::open(&dir.url()).await.unwrap();
    assert_eq!(again.message_source(&reference).await.unwrap().unwrap(), raw);
}

/// Every tracing event of every crate in this process, at TRACE, as text.
fn captured() -> Arc<Mutex<Vec<u8>>> {
    static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let log = Arc::new(Mutex::new(Vec::new()));
        let sink = log.clone();
        let subscriber = tracing_subscriber::fmt().with_max_level(tracing::Level::TRACE).with_ansi(false).with_writer(move || Capture(sink.clone())).finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        log
    })
    .clone()
}

struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_keys_never_reach_a_log_at_trace_in_process_or_from_the_binary() {
    let log = captured();
    let dir = Scratch::new("logs");
    let (storage, keys) = key_files(&dir.0, "k");
    let store = Store::open_configured(&dir.url(), &storage, &Clock::system()).await.unwrap();
    let (reference, _) = triage_fixture(&store).await;
    store.message_source(&reference).await.unwrap();
    store.pool().close().await;
    let (new, new_keys) = key_files(&dir.0, "n");
    marac_intake::store::encrypt::rekey(&dir.url(), &keys, &new_keys, &Clock::system()).await.unwrap();
    let reopened = Store::open_configured(&dir.url(), &new, &Clock::system()).await.unwrap();
    reopened.history().await.unwrap();

    // The control: a connection with sqlx's statement log on is captured, PRAGMAs included.
    {
        use sqlx::ConnectOptions;
        let opts = <sqlx::sqlite::SqliteConnectOptions as std::str::FromStr>::from_str(&format!("sqlite://{}", dir.0.join("control.db").display()))
            .unwrap()
            .create_if_missing(true)
            .pragma("cache_size", "-4242");
        let mut conn = opts.connect().await.unwrap();
        sqlx::query("SELECT 'statement-log-control'").execute(&mut conn).await.unwrap();
    }
    let text = String::from_utf8_lossy(&log.lock().unwrap()).to_lowercase();
    assert!(text.contains("cache_size = -4242") && text.contains("statement-log-control"), "the capture sees sqlx's statement log when it is on");
    assert!(text.contains("trace") || text.contains("debug"), "events below info are captured");
    for key in [&keys.database, &keys.data, &new_keys.database, &new_keys.data] {
        assert!(!text.contains(&key.to_hex()), "a key reached the log");
    }
    assert!(!text.contains("pragma key"), "the key's PRAGMA reached the log");

    // The binary at its most verbose level: the web queue opens the database and serves.
    let mut child = Command::new(BIN)
        .args(["serve", "--config"])
        .arg(root().join("config/samples.toml"))
        .arg("--db")
        .arg(dir.url())
        .args(["--listen", "127.0.0.1:0"])
        .envs(storage_env(&new))
        .env("MARAC_LOG", "trace")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert!(line.contains("serving on"), "{line}");
    let status = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_lowercase();
    assert!(stderr.contains("the web queue is listening"), "the log is on: {stderr}");
    for key in [&new_keys.database, &new_keys.data] {
        assert!(!stderr.contains(&key.to_hex()) && !line.to_lowercase().contains(&key.to_hex()), "a key in the binary's log");
    }
    assert!(!stderr.contains("pragma key"), "{stderr}");
}
