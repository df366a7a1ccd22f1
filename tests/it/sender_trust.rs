//! Forged senders through the real pipeline (`triage_message` into a fresh store, SQLite and then
//! PostgreSQL when it is installed, with
//! `config/samples.toml`): each forgery of a genuine referral's headers is quarantined, with a
//! reason a coordinator understands and nothing in the outbox; the genuine message (and
//! Exchange Online's own form, when configured) is still accepted, and its acknowledgement goes
//! to the authenticated From only, never names an existing case and reads alike whether or not
//! the victim was known.
//!
//! Our own DKIM check (`verify_dkim = "when_no_results"`) runs against a DNS responder on
//! 127.0.0.1 that the test starts, publishing a key generated in the test and a DMARC record;
//! a resolver that never answers ends the check within its bound.

use crate::support::postgres::Postgres;
use crate::support::Scratch;
use marac_intake::config::Config;
use marac_intake::store::{MessageRecord, Store};
use std::fs;
use std::path::Path;

const GENUINE: &str = "fixtures/triage/001_police_seed_victim_l_accept15.eml";
const FROM: &str = "owen.pryor@kingsmere.pnn.police.example.test";
const DOMAIN: &str = "kingsmere.pnn.police.example.test";

/// The genuine message's header block and the rest (from the blank line on).
fn genuine() -> (String, Vec<u8>) {
    let raw = fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(GENUINE)).expect("the genuine fixture");
    let at = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("a header block");
    (String::from_utf8(raw[..at].to_vec()).expect("ASCII headers"), raw[at..].to_vec())
}

/// The receiving server's real Authentication-Results header (with its line break).
fn real_results(head: &str) -> String {
    let start = head.find("Authentication-Results: mx.marac.example.test;").expect("the server's results");
    let end = start + head[start..].find("\r\nReceived: ").expect("the next header") + 2;
    head[start..end].to_owned()
}

/// The genuine message with its headers rewritten by `edit` and a Message-ID of its own.
fn forged(n: usize, edit: impl Fn(&str) -> String) -> Vec<u8> {
    let (head, rest) = genuine();
    let head = edit(&head);
    let mid_start = head.find("Message-ID: ").expect("a Message-ID");
    let mid_end = mid_start + head[mid_start..].find("\r\n").unwrap_or(head.len() - mid_start);
    let head = format!("{}Message-ID: <forged-{n}@test.invalid>{}", &head[..mid_start], &head[mid_end..]);
    [head.into_bytes(), rest].concat()
}

/// `forged`, checking that `edit` changed the headers (a forgery that did not apply would
/// test nothing).
fn forgery(n: usize, edit: impl Fn(&str) -> String) -> Vec<u8> {
    let (head, _) = genuine();
    assert_ne!(edit(&head), head, "forgery {n} changes the headers");
    forged(n, edit)
}

fn results(lines: &str) -> String {
    format!("Authentication-Results: mx.marac.example.test;\r\n\t{lines}\r\n")
}

/// A fresh store: on SQLite, or on a database of the PostgreSQL cluster `pg`.
async fn open(pg: Option<&Postgres>, name: &str) -> (Scratch, Store) {
    let scratch = Scratch::new(&format!("sender-trust-{name}"));
    let store = crate::support::store_on(pg, &scratch, &format!("trust_{}", name.replace('-', "_"))).await;
    (scratch, store)
}

fn config() -> Config {
    config_with(&[])
}

/// The samples' configuration with `MARAC__*` overrides: a configuration is built whole (each
/// area's is laid over it then), never changed after.
fn config_with(env: &[(&str, &str)]) -> Config {
    let env: Vec<(String, String)> = env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    marac_intake::config::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("config/samples.toml"), env).expect("config/samples.toml")
}

async fn triage(raw: &[u8], c: &Config, store: &Store) -> MessageRecord {
    let now = chrono::DateTime::parse_from_rfc3339("2025-01-06T10:00:00+00:00").unwrap();
    marac_intake::triage::triage_message(raw, None, None, now, c, store).await.expect("triaged")
}

/// The outbox rows written for one message: (kind, recipient, raw).
async fn outbox_of(store: &Store, row: i64) -> Vec<(String, String, String)> {
    use sqlx::Row;
    let rows = sqlx::query("SELECT id, kind, recipient FROM outbox WHERE message_row = $1 ORDER BY id").bind(row).fetch_all(store.pool()).await.expect("outbox rows");
    let mut out = Vec::new();
    for r in rows {
        // The copy is sealed at rest: read through the store, which opens it.
        let raw = store.outbox_raw(r.get("id")).await.expect("the reply opens");
        out.push((r.get("kind"), r.get("recipient"), raw));
    }
    out
}

#[tokio::test(flavor = "current_thread")]
async fn forged_senders_are_quarantined_with_no_reply() {
    let pg = Postgres::start("trust-forged");
    for pg in [None, pg.as_ref()] {
        let (_scratch, store) = open(pg, "forged").await;
        let c = config();
        let (head, _) = genuine();
        let real = real_results(&head);
        let none = results(&format!("spf=softfail smtp.mailfrom={FROM};\r\n\tdmarc=none (p=NONE) header.from={DOMAIN}"));
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("no Authentication-Results", forgery(1, |h| h.replace(&real, ""))),
            ("spf=softfail, dmarc=none", forgery(2, |h| h.replace(&real, &none))),
            ("dmarc=temperror", forgery(3, |h| h.replace(&real, &results(&format!("spf=temperror smtp.mailfrom={FROM};\r\n\tdmarc=temperror header.from={DOMAIN}"))))),
            ("no DMARC result, spf and dkim pass", forgery(4, |h| h.replace(&real, &results(&format!("spf=pass smtp.mailfrom={FROM};\r\n\tdkim=pass header.d={DOMAIN}"))))),
            ("a foreign authserv-id only", forgery(5, |h| h.replace("Authentication-Results: mx.marac.example.test;", "Authentication-Results: mx.elsewhere.example.test;"))),
            // The server's own header says none; the sender wrote a passing one below it.
            ("a forged trusted-id header below the real one", forgery(6, |h| h.replace(&real, &none).replace("From: ", &format!("{real}From: ")))),
            ("Exchange Online's form when the server writes RFC 8601", forgery(7, |h| h.replace(&real, &format!("Authentication-Results: spf=pass smtp.mailfrom={DOMAIN}; dkim=pass header.d={DOMAIN};dmarc=pass action=none header.from={DOMAIN};compauth=pass reason=100\r\n")))),
            // The DMARC pass is for the first From (the attacker's); mail programs show the last.
            (
                "two From headers, the pass for the first",
                forgery(8, |h| {
                    h.replace(&format!("header.from={DOMAIN}"), "header.from=evil.example")
                        .replace(&format!("From: DC Owen Pryor <{FROM}>"), &format!("From: <x@evil.example>\r\nFrom: DC Owen Pryor <{FROM}>"))
                }),
            ),
            (
                "two From headers, both on the allowlist",
                forgery(9, |h| h.replace(&format!("From: DC Owen Pryor <{FROM}>"), &format!("From: DC Owen Pryor <{FROM}>\r\nFrom: <dmo@othershire.pnn.police.example.test>"))),
            ),
            ("dmarc=pass for another domain", forgery(10, |h| h.replace(&format!("dmarc=pass (p=QUARANTINE sp=QUARANTINE dis=NONE) header.from={DOMAIN}"), "dmarc=pass (p=REJECT) header.from=evil.example"))),
            (
                "a forged From with a Reply-To at another allowlisted organisation",
                forgery(11, |h| h.replace(&real, &none).replace("To: Kingsmere MARAC", "Reply-To: dmo@othershire.pnn.police.example.test\r\nTo: Kingsmere MARAC")),
            ),
            (
                "two Reply-To headers",
                forgery(12, |h| h.replace("To: Kingsmere MARAC", &format!("Reply-To: {FROM}\r\nReply-To: dmo@othershire.pnn.police.example.test\r\nTo: Kingsmere MARAC"))),
            ),
        ];
        for (what, raw) in &cases {
            let got = triage(raw, &c, &store).await;
            assert_eq!(got.outcome, marac_intake::decide::Outcome::Quarantined, "{what}: {:?}", got.reasons);
            assert_eq!((got.reply_kind, got.reply_to.len()), (marac_intake::decide::ReplyKind::None, 0), "{what}");
            assert!(got.case_ref.is_none(), "{what}: no case");
            assert!(outbox_of(&store, got.row).await.is_empty(), "{what}: nothing in the outbox");
            assert!(
                got.reasons.iter().any(|r| r.starts_with("the sender could not be verified") || r.contains("not on the secure-sender allowlist")),
                "{what}: a reason a coordinator understands: {:?}",
                got.reasons
            );
            let text = got.reasons.join(" ").to_lowercase();
            assert!(!text.contains("owen") && !text.contains("pryor") && !text.contains("kp-25"), "{what}: no personal data in the reasons: {text}");
        }

        // The genuine message, after all of them: accepted, acknowledged to its From.
        let got = triage(&forged(0, str::to_owned), &c, &store).await;
        assert_eq!((got.outcome.as_str(), got.reply_kind.as_str()), ("accepted", "acknowledgement"), "{:?}", got.reasons);
        assert_eq!(got.reply_to, vec![FROM.to_owned()]);
    }
}

#[tokio::test(flavor = "current_thread")]
async fn exchange_online_form_is_proof_only_when_configured_and_with_compauth() {
    let pg = Postgres::start("trust-exchange");
    for pg in [None, pg.as_ref()] {
        let (_scratch, store) = open(pg, "exchange").await;
        let c = config_with(&[("MARAC__SENDERS__RECEIVING_SERVER", "exchange_online")]);
        let (head, _) = genuine();
        let real = real_results(&head);
        let exo = |compauth: &str| format!("Authentication-Results: spf=pass (sender IP is 198.51.100.25)\r\n smtp.mailfrom={DOMAIN}; dkim=pass (signature was verified)\r\n header.d={DOMAIN};dmarc=pass action=none\r\n header.from={DOMAIN}{compauth}\r\n");
        let without = triage(&forgery(1, |h| h.replace(&real, &exo(""))), &c, &store).await;
        assert_eq!(without.outcome, marac_intake::decide::Outcome::Quarantined, "{:?}", without.reasons);
        assert!(without.reasons.iter().any(|r| r.contains("compauth")), "{:?}", without.reasons);
        assert!(outbox_of(&store, without.row).await.is_empty());
        // The RFC 8601 header of the samples' server is not Exchange Online's.
        let rfc = triage(&forged(2, str::to_owned), &c, &store).await;
        assert_eq!(rfc.outcome, marac_intake::decide::Outcome::Quarantined);
        let with = triage(&forgery(3, |h| h.replace(&real, &exo(";compauth=pass reason=100"))), &c, &store).await;
        assert_eq!((with.outcome.as_str(), with.reply_to.as_slice()), ("accepted", &[FROM.to_owned()][..]), "{:?}", with.reasons);
    }
}

#[tokio::test(flavor = "current_thread")]
async fn an_acknowledgement_never_tells_whether_the_victim_was_known() {
    let pg = Postgres::start("trust-ack");
    for pg in [None, pg.as_ref()] {
        let (_scratch, store) = open(pg, "ack").await;
        let c = config();
        // First referral of the victim: a new case.
        let first = triage(&forged(1, str::to_owned), &c, &store).await;
        assert_eq!(first.case, "new");
        let case_ref = first.case_ref.clone().expect("a case reference");
        // The same referral again from an authenticated sender, with a Reply-To at another
        // allowlisted organisation: linked to the case; acknowledged to the From.
        let again = triage(&forgery(2, |h| h.replace("To: Kingsmere MARAC", "Reply-To: dmo@othershire.pnn.police.example.test\r\nTo: Kingsmere MARAC")), &c, &store).await;
        assert_eq!((again.outcome.as_str(), again.case.as_str()), ("accepted", "linked"), "{:?}", again.reasons);
        assert_eq!(again.reply_to, vec![FROM.to_owned()], "never the other organisation's Reply-To");

        let one = outbox_of(&store, first.row).await;
        let two = outbox_of(&store, again.row).await;
        assert_eq!(one.len(), 1);
        assert_eq!(two.len(), 1);
        let ((k1, to1, raw1), (k2, to2, raw2)) = (&one[0], &two[0]);
        assert_eq!((k1.as_str(), k2.as_str()), ("acknowledgement", "acknowledgement"));
        assert_eq!((to1.as_str(), to2.as_str()), (FROM, FROM));
        assert!(!raw1.contains(&case_ref) && !raw2.contains(&case_ref), "no acknowledgement names the case reference {case_ref}");
        assert!(raw1.contains(&first.reference) && raw2.contains(&again.reference), "each quotes its own reference");
        assert!(!raw2.contains("othershire"), "nothing goes to, or names, the other organisation");
        // Apart from the reference and the message's own identifiers, the two read the same.
        let body = |raw: &str, reference: &str| raw.split_once("\r\n\r\n").map(|(_, b)| b.replace(reference, "REF")).unwrap_or_default();
        assert_eq!(body(raw1, &first.reference), body(raw2, &again.reference), "the linked acknowledgement reads like the new one");
    }
}

/// A DNS responder on 127.0.0.1 for the test: TXT records by name, NXDOMAIN for any other name,
/// an empty answer for another type of a known name. Counts the questions it is asked.
struct Dns {
    addr: std::net::SocketAddr,
    asked: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Dns {
    fn start(records: &[(&str, String)]) -> Dns {
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").expect("a UDP port on loopback");
        let addr = socket.local_addr().unwrap();
        let records: std::collections::HashMap<String, String> = records.iter().map(|(n, v)| (n.to_ascii_lowercase(), v.clone())).collect();
        let asked = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = asked.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 1500];
            while let Ok((n, peer)) = socket.recv_from(&mut buf) {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if let Some(answer) = dns_answer(&buf[..n], &records) {
                    let _ = socket.send_to(&answer, peer);
                }
            }
        });
        Dns { addr, asked }
    }

    fn asked(&self) -> usize {
        self.asked.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// The answer to one query (RFC 1035 §4.1), or None for a packet that is not one.
fn dns_answer(q: &[u8], records: &std::collections::HashMap<String, String>) -> Option<Vec<u8>> {
    let mut at = 12;
    let mut labels = Vec::new();
    loop {
        let len = *q.get(at)? as usize;
        at += 1;
        if len == 0 {
            break;
        }
        labels.push(String::from_utf8_lossy(q.get(at..at + len)?).to_ascii_lowercase());
        at += len;
    }
    let qtype = u16::from_be_bytes([*q.get(at)?, *q.get(at + 1)?]);
    let question = &q[12..at + 4];
    let found = records.get(&labels.join("."));
    let txt = found.filter(|_| qtype == 16);
    let rcode: u16 = if found.is_some() { 0 } else { 3 };
    let mut out = Vec::new();
    out.extend_from_slice(&q[..2]);
    out.extend_from_slice(&(0x8400 | (u16::from_be_bytes([q[2], q[3]]) & 0x0100) | 0x0080 | rcode).to_be_bytes());
    out.extend_from_slice(&[0, 1, 0, u8::from(txt.is_some()), 0, 0, 0, 0]);
    out.extend_from_slice(question);
    if let Some(text) = txt {
        let mut rdata = Vec::new();
        for chunk in text.as_bytes().chunks(255) {
            rdata.push(chunk.len() as u8);
            rdata.extend_from_slice(chunk);
        }
        out.extend_from_slice(&[0xC0, 0x0C, 0, 16, 0, 1, 0, 0, 0x01, 0x2C]);
        out.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        out.extend_from_slice(&rdata);
    }
    Some(out)
}

fn base64(bytes: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16) | (u32::from(*c.get(1).unwrap_or(&0)) << 8) | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            out.push(if i <= c.len() { A[(n >> (18 - 6 * i) & 63) as usize] as char } else { '=' });
        }
    }
    out
}

/// An Ed25519 signing key made for the test (PKCS#8), and its DNS key record.
fn dkim_key() -> (Vec<u8>, String) {
    use mail_auth::common::crypto::Ed25519Key;
    let pkcs8 = Ed25519Key::generate_pkcs8().expect("a key");
    let public = Ed25519Key::from_pkcs8_der(&pkcs8).expect("the key reads").public_key();
    (pkcs8, format!("v=DKIM1; k=ed25519; p={}", base64(&public)))
}

/// The genuine message as a server that adds no Authentication-Results receives it (the real
/// results and the fixture's DKIM-Signature taken out), with its own Message-ID.
fn unauthenticated(n: usize) -> Vec<u8> {
    forgery(n, |h| {
        let h = h.replace(&real_results(h), "");
        let (sig, from) = (h.find("DKIM-Signature: ").expect("the fixture's signature"), h.find("From: DC Owen Pryor").expect("the From"));
        format!("{}{}", &h[..sig], &h[from..])
    })
}

/// `raw` signed by `domain` with `key` (selector `t1`), the DKIM-Signature put above From.
fn signed(raw: &[u8], pkcs8: &[u8], domain: &str) -> Vec<u8> {
    use mail_auth::common::headers::HeaderWriter;
    let key = mail_auth::common::crypto::Ed25519Key::from_pkcs8_der(pkcs8).expect("the key reads");
    let signature = mail_auth::dkim::DkimSigner::from_key(key)
        .domain(domain)
        .selector("t1")
        .headers(["From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type"])
        .sign(raw)
        .expect("signed")
        .to_header();
    let text = String::from_utf8(raw.to_vec()).expect("an ASCII fixture");
    let at = text.find("\r\nFrom: ").expect("a From header") + 2;
    format!("{}{signature}{}", &text[..at], &text[at..]).into_bytes()
}

fn with_own_dkim(dns: &Dns) -> Config {
    config_with(&[("MARAC__SENDERS__VERIFY_DKIM", "when_no_results"), ("MARAC__SENDERS__DNS_RESOLVER", &dns.addr.to_string())])
}

#[tokio::test(flavor = "current_thread")]
async fn our_own_dkim_check_proves_only_an_aligned_signature_under_the_from_domains_dmarc() {
    let pg = Postgres::start("trust-own-dkim");
    for pg in [None, pg.as_ref()] {
        let (_scratch, store) = open(pg, "own-dkim").await;
        const OTHER: &str = "othershire.pnn.police.example.test";
        let (key, record) = dkim_key();
        let (other_key, other_record) = dkim_key();
        let dns = Dns::start(&[
            (&format!("t1._domainkey.{DOMAIN}"), record),
            (&format!("_dmarc.{DOMAIN}"), "v=DMARC1; p=reject".into()),
            (&format!("t1._domainkey.{OTHER}"), other_record),
            (&format!("_dmarc.{OTHER}"), "v=DMARC1; p=reject".into()),
        ]);
        let c = with_own_dkim(&dns);
        let quarantined = |got: &MessageRecord, says: &str, what: &str| {
            assert_eq!(got.outcome, marac_intake::decide::Outcome::Quarantined, "{what}: {:?}", got.reasons);
            assert_eq!((got.reply_kind, got.reply_to.len()), (marac_intake::decide::ReplyKind::None, 0), "{what}");
            assert!(got.reasons.iter().any(|r| r.starts_with("the DKIM signature could not be verified: ") && r.contains(says)), "{what}: {:?}", got.reasons);
        };

        // Signed by the From domain, published key, DMARC p=reject: proven, accepted, acknowledged.
        let good = signed(&unauthenticated(1), &key, DOMAIN);
        let got = triage(&good, &c, &store).await;
        assert_eq!((got.outcome.as_str(), got.reply_kind.as_str()), ("accepted", "acknowledgement"), "{:?}", got.reasons);
        assert_eq!(got.reply_to, vec![FROM.to_owned()]);
        assert!(dns.asked() >= 2, "the key and the DMARC record were asked for: {}", dns.asked());

        // The body changed after signing (one word of the covering note).
        let altered = String::from_utf8(signed(&unauthenticated(2), &key, DOMAIN)).unwrap().replacen("Good morning", "Good evening", 1).into_bytes();
        let got = triage(&altered, &c, &store).await;
        // mail-auth reports a body hash mismatch as neutral (RFC 6376 §3.7 leaves it open).
        quarantined(&got, "dkim=neutral (the body was changed after it was signed)", "altered body");
        assert!(outbox_of(&store, got.row).await.is_empty());

        // A signed header changed after signing.
        let header = String::from_utf8(signed(&unauthenticated(3), &key, DOMAIN)).unwrap().replacen("Subject: OFFICIAL-SENSITIVE", "Subject: OFFICIAL", 1).into_bytes();
        quarantined(&triage(&header, &c, &store).await, "the signed headers were changed after signing", "altered Subject");

        // A good signature, but by another (allowlisted) organisation's domain.
        let foreign = signed(&unauthenticated(4), &other_key, OTHER);
        quarantined(&triage(&foreign, &c, &store).await, &format!("the only valid signatures are by another domain than the From address's ({OTHER})"), "another domain");

        // No signature at all.
        quarantined(&triage(&unauthenticated(5), &c, &store).await, "the message has no DKIM signature", "unsigned");

        // The From domain signs but publishes no DMARC record.
        let (k, r) = dkim_key();
        let bare = Dns::start(&[(&format!("t1._domainkey.{DOMAIN}"), r)]);
        let got = triage(&signed(&unauthenticated(6), &k, DOMAIN), &with_own_dkim(&bare), &store).await;
        quarantined(&got, "publishes no DMARC record", "no DMARC record");

        // The option off (the default): the good message is quarantined as before, and no
        // question is asked.
        let before = dns.asked();
        let off = signed(&unauthenticated(7), &key, DOMAIN);
        let got = triage(&off, &config(), &store).await;
        assert_eq!(got.outcome, marac_intake::decide::Outcome::Quarantined, "{:?}", got.reasons);
        assert!(got.reasons.iter().any(|r| r.contains("recorded no authentication results")), "{:?}", got.reasons);
        assert_eq!(dns.asked(), before, "no DNS question with the option off");

        // The receiving server's own results, when present, decide: its dmarc=none is not
        // overridden by a good signature, and no question is asked.
        let (head, _) = genuine();
        let real = real_results(&head);
        let none = results(&format!("spf=softfail smtp.mailfrom={FROM};\r\n\tdmarc=none (p=NONE) header.from={DOMAIN}"));
        let (k, r) = dkim_key();
        let fresh = Dns::start(&[(&format!("t1._domainkey.{DOMAIN}"), r), (&format!("_dmarc.{DOMAIN}"), "v=DMARC1; p=reject".into())]);
        let with_none = forgery(8, |h| {
            let h = h.replace(&real, &none);
            let (sig, from) = (h.find("DKIM-Signature: ").unwrap(), h.find("From: DC Owen Pryor").unwrap());
            format!("{}{}", &h[..sig], &h[from..])
        });
        let got = triage(&signed(&with_none, &k, DOMAIN), &with_own_dkim(&fresh), &store).await;
        assert_eq!(got.outcome, marac_intake::decide::Outcome::Quarantined, "{:?}", got.reasons);
        assert!(got.reasons.iter().any(|r| r.contains("dmarc=none")), "{:?}", got.reasons);
        assert_eq!(fresh.asked(), 0, "the server's results are not second-guessed");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_resolver_that_never_answers_ends_the_check_within_its_bound_and_quarantines() {
    // A UDP socket that is never read: every question goes unanswered.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").expect("a UDP port on loopback");
    let c = config_with(&[("MARAC__SENDERS__VERIFY_DKIM", "when_no_results"), ("MARAC__SENDERS__DNS_RESOLVER", &silent.local_addr().unwrap().to_string())]);
    let (key, _) = dkim_key();
    let raw = signed(&unauthenticated(1), &key, DOMAIN);
    let mut inspection = marac_intake::inspect::inspect(&raw, &marac_intake::triage::inspect_options(&c));
    marac_intake::triage::own_dkim(&mut inspection, &raw, &c, std::time::Duration::from_millis(300)).await;
    let day = chrono::NaiveDate::from_ymd_opt(2025, 1, 6).unwrap();
    let d = marac_intake::decide::decide(&inspection, &marac_intake::decide::History::default(), &c, day);
    assert_eq!(d.outcome, marac_intake::decide::Outcome::Quarantined, "{:?}", d.reasons);
    let reason = d.reasons.iter().find(|r| r.starts_with("the DKIM signature could not be verified: ")).unwrap_or_else(|| panic!("{:?}", d.reasons));
    assert!(reason.contains(&format!("the DNS resolver ({}) did not answer within 300 ms", silent.local_addr().unwrap())), "{reason}");
}
