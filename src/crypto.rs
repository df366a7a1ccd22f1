//! Keys for encryption at rest, and the sealing of the blobs that hold whole messages.
//!
//! Two 256-bit keys, each read from its own file (a systemd credential in production):
//! - the **database key** opens the SQLCipher database file (the whole file: every table, index
//!   and the write-ahead log);
//! - the **data key** seals the blobs that hold a message whole (a message as received, an
//!   outbox reply) with XChaCha20-Poly1305, so a copy of those blobs outside the database file
//!   (a dump for another backend, an export) never holds a referral in clear.
//!
//! A key file holds 64 hexadecimal characters (a trailing newline is allowed). Keys never print:
//! [`Key`]'s `Debug` is redacted, and no error here quotes a key or a file's content.
//!
//! A sealed blob is `FORMAT` (4 bytes: a magic and the format's version), a random 24-byte nonce,
//! then the ciphertext with its 16-byte tag. The associated data names where the blob lives
//! ([`Place`]): a blob copied to another row or another table does not open there.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use std::fmt;
use std::path::Path;

/// The first bytes of every sealed blob: "MI" (marac-intake), a zero, and the format version.
pub const FORMAT: [u8; 4] = *b"MI\x00\x01";
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;

/// A 256-bit key. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Key([u8; 32]);

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Key(redacted)")
    }
}

/// Why a key file could not be used. Says which file and what is wrong, never what it holds.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the key file {path}: {error}")]
    Io { path: String, error: std::io::Error },
    #[error("the key file {path} must hold 64 hexadecimal characters (a 256-bit key), e.g. from `openssl rand -hex 32`")]
    Malformed { path: String },
}

impl Key {
    /// A new random key (the operating system's generator).
    pub fn generate() -> Key {
        let mut k = [0u8; 32];
        getrandom::fill(&mut k).expect("the operating system's random generator");
        Key(k)
    }

    /// Parses 64 hexadecimal characters (surrounding whitespace ignored).
    pub fn from_hex(text: &str) -> Option<Key> {
        let t = text.trim().as_bytes();
        if t.len() != 64 {
            return None;
        }
        let mut k = [0u8; 32];
        for (i, pair) in t.chunks(2).enumerate() {
            let hi = (pair[0] as char).to_digit(16)?;
            let lo = (pair[1] as char).to_digit(16)?;
            k[i] = (hi * 16 + lo) as u8;
        }
        Some(Key(k))
    }

    /// Reads a key file. A relative path is looked up in systemd's `$CREDENTIALS_DIRECTORY` when
    /// that is set (as every secret file of the configuration is).
    pub fn read_file(path: &Path) -> Result<Key, KeyError> {
        let shown = path.display().to_string();
        let text = crate::config::read_secret(path).map_err(|error| KeyError::Io { path: shown.clone(), error })?;
        Key::from_hex(&text).ok_or(KeyError::Malformed { path: shown })
    }

    /// Lower-case hexadecimal, for writing a key file and for SQLCipher's raw-key syntax only.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// SQLCipher's raw-key literal, `"x'<64 hex>'"`, quoted for a `PRAGMA key` value or an
    /// `ATTACH ... KEY` parameter: used as the key itself, with no key derivation.
    pub(crate) fn sqlcipher_literal(&self) -> String {
        format!("\"x'{}'\"", self.to_hex())
    }
}

/// The two keys of a database.
#[derive(Debug, Clone)]
pub struct Keys {
    /// SQLCipher's key of the database file.
    pub database: Key,
    /// The key of the sealed blobs inside it.
    pub data: Key,
}

/// The names of the key files [`Keys::beside`] keeps next to a database file `F`.
pub fn beside_names(db_file: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let name = db_file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    (db_file.with_file_name(format!("{name}.db-key")), db_file.with_file_name(format!("{name}.data-key")))
}

impl Keys {
    /// Reads the two key files (see [`Key::read_file`]).
    pub fn read(database: &Path, data: &Path) -> Result<Keys, KeyError> {
        Ok(Keys { database: Key::read_file(database)?, data: Key::read_file(data)? })
    }

    /// The keys kept beside the database file `F` in `F.db-key` and `F.data-key`, each made
    /// (random, mode 0600) when missing. For tests and trying the product out only: a copy of
    /// the data directory then holds the keys with the data. Returns whether a key was made.
    pub fn beside(db_file: &Path) -> Result<(Keys, bool), KeyError> {
        let (database, data) = beside_names(db_file);
        let made_db = make_if_missing(&database)?;
        let made_data = make_if_missing(&data)?;
        let read = |path: &Path| {
            let text = std::fs::read_to_string(path).map_err(|error| KeyError::Io { path: path.display().to_string(), error })?;
            Key::from_hex(&text).ok_or(KeyError::Malformed { path: path.display().to_string() })
        };
        Ok((Keys { database: read(&database)?, data: read(&data)? }, made_db || made_data))
    }
}

/// Writes a new random key to `path` unless it exists: written whole to a private temporary file
/// first, then linked into place (two processes starting together agree on one key).
fn make_if_missing(path: &Path) -> Result<bool, KeyError> {
    use std::io::Write;
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let shown = || path.display().to_string();
    if path.exists() {
        return Ok(false);
    }
    // The data directory, when it is made here first: private whatever the umask, as
    // `store::private_file` makes it.
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(|error| KeyError::Io { path: shown(), error })?;
    }
    let tmp = path.with_file_name(format!(".{}.{}.tmp", path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(), std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&tmp)?;
        f.write_all(format!("{}\n", Key::generate().to_hex()).as_bytes())?;
        f.sync_all()
    };
    let linked = write().and_then(|()| std::fs::hard_link(&tmp, path));
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(error) => Err(KeyError::Io { path: shown(), error }),
    }
}

/// Where a sealed blob lives; it is the associated data, so a blob opens only where it was sealed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place<'a> {
    /// `message_sources.raw` of the message row.
    MessageSource { message_row: i64 },
    /// `outbox.raw`: a reply of `kind` to the message row (one per message and kind).
    OutboxReply { message_row: i64, kind: &'a str },
    /// `outbox.raw` of a meeting's agenda to an officer, which belongs to no message: by its
    /// Message-ID, unique to each send.
    OutboxAgenda { message_id: &'a str },
}

impl Place<'_> {
    fn associated_data(&self) -> Vec<u8> {
        match self {
            Place::MessageSource { message_row } => format!("message_sources.raw\0{message_row}").into_bytes(),
            Place::OutboxReply { message_row, kind } => format!("outbox.raw\0{message_row}\0{kind}").into_bytes(),
            Place::OutboxAgenda { message_id } => format!("outbox.raw\0agenda\0{message_id}").into_bytes(),
        }
    }
}

/// A sealed blob that does not open: the wrong data key, a blob moved or changed, or not one of
/// ours at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    #[error("a stored message is not in the sealed format (written before encryption at rest and not migrated?)")]
    NotSealed,
    #[error("a stored message does not open with the data key (the wrong key, or the blob was changed or moved)")]
    Rejected,
}

/// The data key, ready to seal and open blobs.
#[derive(Clone)]
pub struct DataKey {
    cipher: XChaCha20Poly1305,
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(redacted)")
    }
}

impl DataKey {
    pub fn new(key: &Key) -> DataKey {
        DataKey { cipher: XChaCha20Poly1305::new(&key.0.into()) }
    }

    /// Seals `plain` for `place` under a fresh random nonce.
    pub fn seal(&self, place: Place<'_>, plain: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).expect("the operating system's random generator");
        let aad = place.associated_data();
        let sealed = self
            .cipher
            .encrypt(&XNonce::from(nonce), Payload { msg: plain, aad: &aad })
            .expect("XChaCha20-Poly1305 seals any message that fits in memory");
        let mut out = Vec::with_capacity(FORMAT.len() + NONCE_LEN + sealed.len());
        out.extend_from_slice(&FORMAT);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// Opens a blob sealed for `place`.
    pub fn open(&self, place: Place<'_>, blob: &[u8]) -> Result<Vec<u8>, OpenError> {
        if !is_sealed(blob) {
            return Err(OpenError::NotSealed);
        }
        if blob.len() < FORMAT.len() + NONCE_LEN + TAG_LEN {
            return Err(OpenError::Rejected);
        }
        let (nonce, sealed) = blob[FORMAT.len()..].split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| OpenError::Rejected)?;
        let aad = place.associated_data();
        self.cipher.decrypt(&XNonce::from(nonce), Payload { msg: sealed, aad: &aad }).map_err(|_| OpenError::Rejected)
    }
}

/// Whether `blob` starts like a sealed blob (it may still not open).
pub fn is_sealed(blob: &[u8]) -> bool {
    blob.starts_with(&FORMAT)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MESSAGE: &[u8] = b"From: a@nhs.example.test\r\nSubject: referral\r\n\r\nVictim: Jane Example, born 01/02/1980\r\n";

    #[test]
    fn a_sealed_blob_opens_where_it_was_sealed_and_holds_nothing_in_clear() {
        let key = DataKey::new(&Key::generate());
        let place = Place::MessageSource { message_row: 7 };
        let blob = key.seal(place, MESSAGE);
        assert!(is_sealed(&blob));
        assert!(!blob.windows(12).any(|w| w == b"Jane Example"), "the name is not in clear");
        assert_eq!(key.open(place, &blob).unwrap(), MESSAGE);
        // A fresh nonce each time: the same message seals differently.
        assert_ne!(key.seal(place, MESSAGE), blob);
    }

    #[test]
    fn a_tampered_blob_a_moved_blob_and_another_key_are_rejected() {
        let key = DataKey::new(&Key::generate());
        let place = Place::OutboxReply { message_row: 3, kind: "acknowledgement" };
        let blob = key.seal(place, MESSAGE);
        for i in [FORMAT.len(), FORMAT.len() + NONCE_LEN, blob.len() / 2, blob.len() - 1] {
            let mut tampered = blob.clone();
            tampered[i] ^= 0x01;
            assert_eq!(key.open(place, &tampered), Err(OpenError::Rejected), "byte {i} flipped");
        }
        assert_eq!(key.open(Place::OutboxReply { message_row: 4, kind: "acknowledgement" }, &blob), Err(OpenError::Rejected), "another row");
        assert_eq!(key.open(Place::OutboxReply { message_row: 3, kind: "rejection" }, &blob), Err(OpenError::Rejected), "another kind");
        assert_eq!(key.open(Place::OutboxAgenda { message_id: "3" }, &blob), Err(OpenError::Rejected), "an agenda's place");
        assert_eq!(key.open(Place::MessageSource { message_row: 3 }, &blob), Err(OpenError::Rejected), "another table");
        assert_eq!(DataKey::new(&Key::generate()).open(place, &blob), Err(OpenError::Rejected), "another key");
        assert_eq!(key.open(place, &blob[..FORMAT.len() + 10]), Err(OpenError::Rejected), "cut short");
        assert_eq!(key.open(place, MESSAGE), Err(OpenError::NotSealed), "plaintext");
    }

    #[test]
    fn key_files_hold_64_hex_characters_and_keys_never_print() {
        let key = Key::generate();
        assert_eq!(Key::from_hex(&format!("{}\n", key.to_hex())), Some(key.clone()));
        assert_eq!(Key::from_hex(&key.to_hex().to_uppercase()), Some(key.clone()));
        assert_eq!(Key::from_hex(&key.to_hex()[..62]), None);
        assert_eq!(Key::from_hex(&format!("{}zz", &key.to_hex()[..62])), None);
        assert!(!format!("{key:?}").contains(&key.to_hex()[..8]));
        assert!(!format!("{:?}", DataKey::new(&key)).contains(&key.to_hex()[..8]));
        assert_eq!(key.sqlcipher_literal(), format!("\"x'{}'\"", key.to_hex()));
    }
}
