//! `[audit] copy_to`: each committed audit record is also sent, as one datagram, to a syslog or
//! journald socket, here a Unix datagram socket bound in a scratch folder. The copy holds the
//! row's fields and its chain hash; a record rolled back is never sent; a missing socket never
//! fails the audited action. Each test runs on SQLite, then on a real PostgreSQL when it is
//! installed.

use crate::support::postgres::Postgres;
use crate::support::{store_on, Scratch};
use marac_intake::config::{AuditConfig, AuditCopyTo};
use marac_intake::store::accounts::{Audit, Role};
use marac_intake::store::Store;
use std::collections::BTreeMap;
use std::os::unix::net::UnixDatagram;
use std::path::Path;

fn scratch(name: &str) -> Scratch {
    let s = Scratch::new(name);
    s
}

/// A store in `dir` copying to `socket` as `to`, and the socket bound there (non-blocking: every
/// copy is in its queue by the time the store's call returns).
async fn store_copying(pg: Option<&Postgres>, dir: &Scratch, to: AuditCopyTo, socket: &Path) -> (Store, Option<UnixDatagram>) {
    let listener = (!socket.as_os_str().is_empty()).then(|| {
        let l = UnixDatagram::bind(socket).unwrap();
        l.set_nonblocking(true).unwrap();
        l
    });
    let cfg = match to {
        AuditCopyTo::Journald => AuditConfig { copy_to: to, journald_socket: socket.to_owned(), ..AuditConfig::default() },
        _ => AuditConfig { copy_to: to, syslog_socket: socket.to_owned(), ..AuditConfig::default() },
    };
    let store = store_on(pg, dir, "copy").await.with_audit_copy(&cfg);
    (store, listener)
}

/// Every datagram waiting on `l`.
fn drain(l: &UnixDatagram) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 65536];
    loop {
        match l.recv(&mut buf) {
            Ok(n) => out.push(buf[..n].to_vec()),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return out,
            Err(e) => panic!("{e}"),
        }
    }
}

/// The rows of the audit log: (id, actor, action, object, client, detail, prev_hash, hash).
type Row = (i64, String, String, Option<String>, Option<String>, Option<String>, String, String);

async fn rows(store: &Store) -> Vec<Row> {
    sqlx::query_as("SELECT id, actor, action, object, client, detail, prev_hash, hash FROM audit_log ORDER BY id").fetch_all(store.pool()).await.unwrap()
}

/// The structured-data parameters of an RFC 5424 datagram (values unescaped).
fn sd_params(d: &str) -> BTreeMap<String, String> {
    let sd = &d[d.find("[marac-audit@32473 ").expect("the structured data") + "[marac-audit@32473 ".len()..];
    let mut out = BTreeMap::new();
    let mut chars = sd.chars().peekable();
    loop {
        let name: String = chars.by_ref().take_while(|c| *c != '=').collect::<String>().trim().to_owned();
        assert_eq!(chars.next(), Some('"'));
        let mut value = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => value.push(chars.next().unwrap()),
                '"' => break,
                c => value.push(c),
            }
        }
        out.insert(name, value);
        if chars.next() == Some(']') {
            return out;
        }
    }
}

/// The fields of a journald native datagram (both forms).
fn journal_fields(d: &[u8]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut rest = d;
    while !rest.is_empty() {
        let nl = rest.iter().position(|b| *b == b'\n').unwrap();
        let line = &rest[..nl];
        if let Some(eq) = line.iter().position(|b| *b == b'=') {
            out.insert(String::from_utf8(line[..eq].to_vec()).unwrap(), String::from_utf8(line[eq + 1..].to_vec()).unwrap());
            rest = &rest[nl + 1..];
        } else {
            let len = u64::from_le_bytes(rest[nl + 1..nl + 9].try_into().unwrap()) as usize;
            out.insert(String::from_utf8(line.to_vec()).unwrap(), String::from_utf8(rest[nl + 9..nl + 9 + len].to_vec()).unwrap());
            assert_eq!(rest[nl + 9 + len], b'\n');
            rest = &rest[nl + 10 + len..];
        }
    }
    out
}

fn audit<'a>(action: &'a str, object: Option<&'a str>, detail: Option<&'a str>) -> Audit<'a> {
    Audit { at: "2026-03-01T10:00:00.000Z", actor: "boss", action, object, client: Some("127.0.0.1"), detail }
}

#[tokio::test(flavor = "current_thread")]
async fn each_committed_record_goes_to_syslog_with_its_fields_and_chain_hash() {
    let pg = Postgres::start("copy");
    for pg in [None, pg.as_ref()] {
        let s = scratch("marac-audit-copy-syslog");
        let (store, listener) = store_copying(pg, &s, AuditCopyTo::Syslog, &s.0.join("log.sock")).await;
        let listener = listener.unwrap();
        store.audit(&audit("case.view", Some("MARAC-2026-0001"), None)).await.unwrap();
        store.audit(&audit("case.restrict", Some("MARAC-2026-0002"), Some("open to: \"amy\" [named]"))).await.unwrap();
        // A change and its record in one transaction: copied once that commits.
        store.add_user("amy", Role::Coordinator, "not-a-hash", None, "2026-03-01T10:01:00.000Z").await.unwrap();
        // A transaction rolled back: its record is not in the log, and no copy says it was.
        {
            let mut tx = store.begin().await.unwrap();
            tx.audit(&audit("case.view", Some("MARAC-2026-0003"), None)).await.unwrap();
        }
        let got = drain(&listener);
        let rows = rows(&store).await;
        assert_eq!(got.len(), rows.len(), "one datagram per committed record");
        assert_eq!(rows.len(), 3);
        for (d, (id, actor, action, object, client, detail, prev, hash)) in got.iter().zip(&rows) {
            let d = String::from_utf8(d.clone()).unwrap();
            assert!(d.starts_with("<85>1 "), "authpriv.notice, RFC 5424: {d}");
            let header: Vec<&str> = d.splitn(7, ' ').collect();
            assert_eq!((header[3], header[4], header[5]), ("marac-intake", std::process::id().to_string().as_str(), action.as_str()), "{d}");
            let p = sd_params(&d);
            let mut want = BTreeMap::from([
                ("id".to_owned(), id.to_string()),
                ("actor".to_owned(), actor.clone()),
                ("action".to_owned(), action.clone()),
                ("prev_hash".to_owned(), prev.clone()),
                ("hash".to_owned(), hash.clone()),
            ]);
            let at: String = sqlx::query_scalar("SELECT at FROM audit_log WHERE id = $1").bind(id).fetch_one(store.pool()).await.unwrap();
            want.insert("at".into(), at);
            for (k, v) in [("object", object), ("client", client), ("detail", detail)] {
                if let Some(v) = v {
                    want.insert(k.into(), v.clone());
                }
            }
            assert_eq!(p, want, "exactly the row's fields: {d}");
        }
        assert_eq!(sd_params(std::str::from_utf8(&got[1]).unwrap())["detail"], "open to: \"amy\" [named]", "escaped and read back");
        // The copies hold the chain: each one's prev_hash is the hash of the copy before it.
        for w in rows.windows(2) {
            assert_eq!(w[1].6, w[0].7);
        }
        assert_eq!(store.verify_audit().await.unwrap().broken, None);
    }
}

#[tokio::test(flavor = "current_thread")]
async fn each_committed_record_goes_to_journald_as_native_fields() {
    let pg = Postgres::start("copy");
    for pg in [None, pg.as_ref()] {
        let s = scratch("marac-audit-copy-journald");
        let (store, listener) = store_copying(pg, &s, AuditCopyTo::Journald, &s.0.join("journal.sock")).await;
        let listener = listener.unwrap();
        store.audit(&audit("subject.rectify", Some("P000004"), Some("corrected: name; reason: typo\nin the referral"))).await.unwrap();
        store.audit(&audit("queue.view", None, None)).await.unwrap();
        let got = drain(&listener);
        let rows = rows(&store).await;
        assert_eq!((got.len(), rows.len()), (2, 2));
        let first = journal_fields(&got[0]);
        let (id, _, _, _, _, _, prev, hash) = &rows[0];
        assert_eq!(first["MESSAGE"], format!("audit record {id}: subject.rectify by boss on P000004"));
        assert_eq!((first["SYSLOG_IDENTIFIER"].as_str(), first["SYSLOG_FACILITY"].as_str(), first["PRIORITY"].as_str()), ("marac-intake", "10", "5"));
        assert_eq!(first["MARAC_AUDIT_ID"], id.to_string());
        assert_eq!(first["MARAC_AUDIT_ACTOR"], "boss");
        assert_eq!(first["MARAC_AUDIT_ACTION"], "subject.rectify");
        assert_eq!(first["MARAC_AUDIT_OBJECT"], "P000004");
        assert_eq!(first["MARAC_AUDIT_CLIENT"], "127.0.0.1");
        assert_eq!(first["MARAC_AUDIT_DETAIL"], "corrected: name; reason: typo\nin the referral", "a line break in the binary form");
        assert_eq!((&first["MARAC_AUDIT_PREV_HASH"], &first["MARAC_AUDIT_HASH"]), (prev, hash));
        let second = journal_fields(&got[1]);
        assert_eq!(second["MARAC_AUDIT_PREV_HASH"], first["MARAC_AUDIT_HASH"], "the chain's tail travels with the copies");
        assert!(!second.contains_key("MARAC_AUDIT_OBJECT") && !second.contains_key("MARAC_AUDIT_DETAIL"), "a NULL field is left out: {second:?}");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_missing_socket_never_fails_the_audited_action() {
    let pg = Postgres::start("copy");
    for pg in [None, pg.as_ref()] {
        let s = scratch("marac-audit-copy-missing");
        let (store, none) = store_copying(pg, &s, AuditCopyTo::Syslog, &s.0.join("nobody-listens.sock")).await;
        assert!(none.is_some());
        drop(none);
        std::fs::remove_file(s.0.join("nobody-listens.sock")).unwrap();
        for i in 0..3 {
            store.audit(&audit("case.view", Some(&format!("MARAC-2026-000{i}")), None)).await.unwrap();
        }
        store.add_user("amy", Role::Coordinator, "not-a-hash", None, "2026-03-01T10:01:00.000Z").await.unwrap();
        assert_eq!(rows(&store).await.len(), 4, "every record kept");
        // And with the socket there again, the next record is copied (found again by path).
        let back = UnixDatagram::bind(s.0.join("nobody-listens.sock")).unwrap();
        back.set_nonblocking(true).unwrap();
        store.audit(&audit("queue.view", None, None)).await.unwrap();
        let got = drain(&back);
        assert_eq!(got.len(), 1);
        assert_eq!(sd_params(std::str::from_utf8(&got[0]).unwrap())["id"], "5");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn nothing_is_sent_with_copy_to_none() {
    let pg = Postgres::start("copy");
    for pg in [None, pg.as_ref()] {
        let s = scratch("marac-audit-copy-none");
        let listener = UnixDatagram::bind(s.0.join("log.sock")).unwrap();
        listener.set_nonblocking(true).unwrap();
        // The sockets named, but copy_to left at its default.
        let cfg = AuditConfig { syslog_socket: s.0.join("log.sock"), journald_socket: s.0.join("log.sock"), ..AuditConfig::default() };
        let store = store_on(pg, &s, "copy").await.with_audit_copy(&cfg);
        store.audit(&audit("case.view", Some("MARAC-2026-0001"), None)).await.unwrap();
        assert_eq!(rows(&store).await.len(), 1);
        assert!(drain(&listener).is_empty());
    }
}
