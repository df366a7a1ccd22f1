//! Forged senders through the real pipeline (`triage_message` into a fresh SQLite store, with
//! `config/samples.toml`): each forgery of a genuine referral's headers is quarantined, with a
//! reason a coordinator understands and nothing in the outbox; the genuine message (and
//! Exchange Online's own form, when configured) is still accepted, and its acknowledgement goes
//! to the authenticated From only, never names an existing case and reads alike whether or not
//! the victim was known.

use marac_intake::config::{Config, ReceivingServer};
use marac_intake::store::{MessageRecord, Store};
use std::fs;
use std::path::{Path, PathBuf};

struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

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

async fn open(name: &str) -> (Scratch, Store) {
    let scratch = Scratch(std::env::temp_dir().join(format!("marac-sender-trust-{name}-{}", std::process::id())));
    let _ = fs::remove_dir_all(&scratch.0);
    fs::create_dir_all(&scratch.0).expect("scratch directory");
    let store = Store::open(&format!("sqlite://{}/t.db", scratch.0.display())).await.expect("a fresh store");
    (scratch, store)
}

fn config() -> Config {
    marac_intake::config::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("config/samples.toml"), Vec::<(String, String)>::new()).expect("config/samples.toml")
}

async fn triage(raw: &[u8], c: &Config, store: &Store) -> MessageRecord {
    let now = chrono::DateTime::parse_from_rfc3339("2025-01-06T10:00:00+00:00").unwrap();
    marac_intake::triage::triage_message(raw, None, None, now, c, store).await.expect("triaged")
}

/// The outbox rows written for one message: (kind, recipient, raw).
async fn outbox_of(store: &Store, row: i64) -> Vec<(String, String, String)> {
    use sqlx::Row;
    let rows = sqlx::query("SELECT id, kind, recipient FROM outbox WHERE message_row = ? ORDER BY id").bind(row).fetch_all(store.pool()).await.expect("outbox rows");
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
    let (_scratch, store) = open("forged").await;
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
        assert_eq!(got.outcome, "quarantined", "{what}: {:?}", got.reasons);
        assert_eq!((got.reply_kind.as_str(), got.reply_to.len()), ("none", 0), "{what}");
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

#[tokio::test(flavor = "current_thread")]
async fn exchange_online_form_is_proof_only_when_configured_and_with_compauth() {
    let (_scratch, store) = open("exchange").await;
    let mut c = config();
    c.file.senders.receiving_server = ReceivingServer::ExchangeOnline;
    let (head, _) = genuine();
    let real = real_results(&head);
    let exo = |compauth: &str| format!("Authentication-Results: spf=pass (sender IP is 198.51.100.25)\r\n smtp.mailfrom={DOMAIN}; dkim=pass (signature was verified)\r\n header.d={DOMAIN};dmarc=pass action=none\r\n header.from={DOMAIN}{compauth}\r\n");
    let without = triage(&forgery(1, |h| h.replace(&real, &exo(""))), &c, &store).await;
    assert_eq!(without.outcome, "quarantined", "{:?}", without.reasons);
    assert!(without.reasons.iter().any(|r| r.contains("compauth")), "{:?}", without.reasons);
    assert!(outbox_of(&store, without.row).await.is_empty());
    // The RFC 8601 header of the samples' server is not Exchange Online's.
    let rfc = triage(&forged(2, str::to_owned), &c, &store).await;
    assert_eq!(rfc.outcome, "quarantined");
    let with = triage(&forgery(3, |h| h.replace(&real, &exo(";compauth=pass reason=100"))), &c, &store).await;
    assert_eq!((with.outcome.as_str(), with.reply_to.as_slice()), ("accepted", &[FROM.to_owned()][..]), "{:?}", with.reasons);
}

#[tokio::test(flavor = "current_thread")]
async fn an_acknowledgement_never_tells_whether_the_victim_was_known() {
    let (_scratch, store) = open("ack").await;
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
