//! The copy of each audit record sent outside the database, for a SIEM (`[audit] copy_to`): one
//! datagram per record, sent only once the record's transaction has committed ([`super::Tx::commit`]),
//! so a copy never names a record the log does not hold.
//!
//! The copy carries exactly the row's fields (references only: the audit log holds no names)
//! plus `prev_hash` and `hash`, so whoever keeps the copies holds the chain's tail and can tell a
//! truncated or rewritten log (`marac-intake audit verify` checks the chain from inside).
//!
//! - `syslog`: RFC 5424 over the local datagram socket (`/dev/log`), facility authpriv, severity
//!   notice, app name `marac-intake`, MSGID the action, the fields as the structured-data element
//!   `marac-audit@32473` (32473 is the enterprise number RFC 5612 reserves for documentation: no
//!   number is registered for this product); a NULL field is left out, an empty one is `""`.
//! - `journald`: the native protocol over `/run/systemd/journal/socket`: `MESSAGE`, `PRIORITY`,
//!   `SYSLOG_FACILITY`, `SYSLOG_IDENTIFIER` and `MARAC_AUDIT_*` (ID, AT, ACTOR, ACTION, OBJECT,
//!   CLIENT, DETAIL, PREV_HASH, HASH); a value with a line break in the binary form.
//!
//! A copy that cannot be sent (no socket, a full queue: the socket never blocks) never fails
//! the audited action: it is counted, and a WARN line says so at most once a minute, naming the
//! target and the error, never a field.

use crate::config::{AuditConfig, AuditCopyTo};
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// facility authpriv (10) × 8 + severity notice (5).
const SYSLOG_PRI: u8 = 10 * 8 + 5;
const APP_NAME: &str = "marac-intake";
const SD_ID: &str = "marac-audit@32473";
/// At most one WARN line per this long about copies that failed.
const WARN_EVERY: Duration = Duration::from_secs(60);

/// One committed audit record, as the copy carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub object: Option<String>,
    pub client: Option<String>,
    pub detail: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

impl Record {
    /// The fields in their fixed order, by their lower-case names.
    fn fields(&self) -> [(&'static str, Option<String>); 9] {
        [
            ("id", Some(self.id.to_string())),
            ("at", Some(self.at.clone())),
            ("actor", Some(self.actor.clone())),
            ("action", Some(self.action.clone())),
            ("object", self.object.clone()),
            ("client", self.client.clone()),
            ("detail", self.detail.clone()),
            ("prev_hash", Some(self.prev_hash.clone())),
            ("hash", Some(self.hash.clone())),
        ]
    }

    /// A sentence for people reading the log: the id, the action and the reference.
    fn message(&self) -> String {
        format!("audit record {}: {} by {}{}", self.id, self.action, self.actor, self.object.as_deref().map(|o| format!(" on {o}")).unwrap_or_default())
    }
}

/// Printable US-ASCII without spaces, at most `max` characters; `-` (the nil value) when empty.
fn header_field(s: &str, max: usize) -> String {
    let kept: String = s.chars().filter(|c| c.is_ascii_graphic()).take(max).collect();
    if kept.is_empty() {
        "-".to_owned()
    } else {
        kept
    }
}

/// An RFC 5424 PARAM-VALUE: `"`, `\` and `]` escaped with a backslash.
fn sd_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '"' | '\\' | ']') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The RFC 5424 datagram of `r` (pure). `hostname` as the machine calls itself; `pid` ours.
pub fn syslog_datagram(r: &Record, hostname: &str, pid: u32) -> Vec<u8> {
    let mut sd = format!("[{SD_ID}");
    for (name, value) in r.fields() {
        if let Some(v) = value {
            sd.push_str(&format!(" {name}=\"{}\"", sd_value(&v)));
        }
    }
    sd.push(']');
    // The record's own time (UTC, RFC 3339) is the message's timestamp.
    format!("<{SYSLOG_PRI}>1 {} {} {APP_NAME} {pid} {} {sd} {}", header_field(&r.at, 64), header_field(hostname, 255), header_field(&r.action, 32), r.message()).into_bytes()
}

/// The journald native-protocol datagram of `r` (pure): `KEY=value` lines, or for a value with
/// a line break, `KEY`, a newline, its length as 64-bit little-endian, the value and a newline.
pub fn journald_datagram(r: &Record) -> Vec<u8> {
    let mut out = Vec::new();
    let mut put = |key: &str, value: &str| {
        if value.contains('\n') {
            out.extend_from_slice(key.as_bytes());
            out.push(b'\n');
            out.extend_from_slice(&(value.len() as u64).to_le_bytes());
            out.extend_from_slice(value.as_bytes());
        } else {
            out.extend_from_slice(format!("{key}={value}").as_bytes());
        }
        out.push(b'\n');
    };
    put("MESSAGE", &r.message());
    put("PRIORITY", "5");
    put("SYSLOG_FACILITY", "10");
    put("SYSLOG_IDENTIFIER", APP_NAME);
    for (name, value) in r.fields() {
        if let Some(v) = value {
            put(&format!("MARAC_AUDIT_{}", name.to_ascii_uppercase()), &v);
        }
    }
    out
}

/// Failed copies since the last WARN line, and when that was.
#[derive(Default)]
struct Failures {
    unreported: u64,
    last_warned: Option<Instant>,
}

/// Where the copies go: built once from `[audit]`, shared by every transaction of a store.
pub struct AuditCopy {
    target: AuditCopyTo,
    path: PathBuf,
    socket: Option<UnixDatagram>,
    hostname: String,
    failures: Mutex<Failures>,
}

impl std::fmt::Debug for AuditCopy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditCopy").field("target", &self.target).field("path", &self.path).finish()
    }
}

impl AuditCopy {
    /// The copy `[audit]` asks for; None for `copy_to = "none"`. An unbound, non-blocking
    /// socket: sending never waits for a slow reader, and a daemon restarted meanwhile is found
    /// again by path at the next record.
    pub fn from_config(cfg: &AuditConfig) -> Option<AuditCopy> {
        let path = match cfg.copy_to {
            AuditCopyTo::None => return None,
            AuditCopyTo::Syslog => cfg.syslog_socket.clone(),
            AuditCopyTo::Journald => cfg.journald_socket.clone(),
        };
        let socket = UnixDatagram::unbound().and_then(|s| s.set_nonblocking(true).map(|()| s));
        let copy = AuditCopy {
            target: cfg.copy_to,
            path,
            socket: socket.ok(),
            hostname: std::fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_owned()).unwrap_or_default(),
            failures: Mutex::new(Failures::default()),
        };
        Some(copy)
    }

    fn target_name(&self) -> &'static str {
        match self.target {
            AuditCopyTo::None => "none",
            AuditCopyTo::Syslog => "syslog",
            AuditCopyTo::Journald => "journald",
        }
    }

    /// Sends the copy of each record, in order. Never fails: a failure is counted and warned of.
    pub fn send(&self, records: &[Record]) {
        for r in records {
            let datagram = match self.target {
                AuditCopyTo::None => return,
                AuditCopyTo::Syslog => syslog_datagram(r, &self.hostname, std::process::id()),
                AuditCopyTo::Journald => journald_datagram(r),
            };
            let sent = match &self.socket {
                Some(s) => s.send_to(&datagram, &self.path).map(|_| ()),
                None => Err(std::io::Error::other("no socket could be created")),
            };
            if let Err(e) = sent {
                self.failed(r.id, &e);
            }
        }
    }

    fn failed(&self, record: i64, e: &std::io::Error) {
        let mut f = self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        f.unreported += 1;
        let now = Instant::now();
        if f.last_warned.is_some_and(|t| now.duration_since(t) < WARN_EVERY) {
            return;
        }
        tracing::warn!(target_kind = self.target_name(), socket = %self.path.display(), record, failed = f.unreported, error = %e,
            "An audit record could not be copied to the log collector; the record itself is kept in the database.");
        f.unreported = 0;
        f.last_warned = Some(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> Record {
        Record {
            id: 42,
            at: "2026-03-01T10:00:00.000Z".into(),
            actor: "boss".into(),
            action: "case.restrict".into(),
            object: Some("MARAC-2026-0007".into()),
            client: None,
            detail: Some("open to: \"a]b\\c\"".into()),
            prev_hash: "0".repeat(64),
            hash: "f".repeat(64),
        }
    }

    #[test]
    fn the_syslog_copy_is_rfc_5424_with_every_field_escaped() {
        let d = String::from_utf8(syslog_datagram(&record(), "host one", 7)).unwrap();
        assert_eq!(
            d,
            format!(
                "<85>1 2026-03-01T10:00:00.000Z hostone marac-intake 7 case.restrict [marac-audit@32473 id=\"42\" at=\"2026-03-01T10:00:00.000Z\" actor=\"boss\" action=\"case.restrict\" \
                 object=\"MARAC-2026-0007\" detail=\"open to: \\\"a\\]b\\\\c\\\"\" prev_hash=\"{}\" hash=\"{}\"] audit record 42: case.restrict by boss on MARAC-2026-0007",
                "0".repeat(64),
                "f".repeat(64)
            )
        );
        assert!(syslog_datagram(&record(), "", 7).starts_with(b"<85>1 2026-03-01T10:00:00.000Z - marac-intake"), "nil hostname");
    }

    #[test]
    fn the_journald_copy_writes_a_value_with_a_line_break_in_the_binary_form() {
        let mut r = record();
        r.detail = Some("reason: one\ntwo".into());
        let d = journald_datagram(&r);
        let text = String::from_utf8_lossy(&d);
        assert!(text.starts_with("MESSAGE=audit record 42: case.restrict by boss on MARAC-2026-0007\nPRIORITY=5\nSYSLOG_FACILITY=10\nSYSLOG_IDENTIFIER=marac-intake\n"), "{text}");
        assert!(text.contains("MARAC_AUDIT_OBJECT=MARAC-2026-0007\n") && !text.contains("MARAC_AUDIT_CLIENT"), "NULL left out: {text}");
        let mut binary = b"MARAC_AUDIT_DETAIL\n".to_vec();
        binary.extend_from_slice(&15u64.to_le_bytes());
        binary.extend_from_slice(b"reason: one\ntwo\n");
        assert!(d.windows(binary.len()).any(|w| w == binary.as_slice()));
    }
}
