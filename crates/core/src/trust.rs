//! Whether a message's sender is proven (pure): the receiving server's record of an aligned DMARC
//! pass for the From domain, read from the headers that server added, and nothing else. Fails
//! closed: no results, `none`, `softfail`, `temperror`, `permerror`, a pass for another domain,
//! a header in a form the configuration does not name, a second From: each is "not verified",
//! with a reason a coordinator can act on (structure only, never an address or a name).
//!
//! The rules, in order:
//! 1. Exactly one From header naming exactly one address, at most one Sender and one Reply-To
//!    (a checker judges the first From, a reader may see the last).
//! 2. The receiving server's results: the topmost `senders.authserv_headers` (default 1)
//!    `Authentication-Results` headers naming `senders.trusted_authserv_id`, or, with
//!    `receiving_server = "exchange_online"`, naming no authserv-id. Headers lower down were
//!    there before our server saw the message: the sender can write them, so they never count.
//! 3. Verified when those results hold `dmarc=pass` with `header.from` equal to the From
//!    address's domain and no other DMARC result (Exchange Online: also `compauth=pass`).
//! 4. Else, for mail forwarded through a hub: verified when the receiving server's results say
//!    `arc=pass`, the newest ARC set was sealed by one of `senders.trusted_arc_sealers` (its
//!    `ARC-Seal` `d=`, `cv` not `fail`), and that set's `ARC-Authentication-Results` hold the
//!    same aligned `dmarc=pass` (rule 3).
//! 5. Else, when the receiving server recorded no results at all (rule 2 found no header) and
//!    `senders.verify_dkim = "when_no_results"`: verified when our own check
//!    (`Envelope::own_dkim`, made by `marac_intake::dkim` at the edge before the decision) found a
//!    passing DKIM signature whose `d=` is the From address's domain exactly, and the From
//!    domain's DMARC record passes on it. That DMARC pass rests on DKIM alone: SPF is checked
//!    by the server that takes the message over SMTP, and we are not that server.
//! 6. Anything else is not verified.

use crate::config::{Allowlist, ReceivingServer, SendersConfig, VerifyDkim};
use crate::mime::{AuthResults, Envelope, OwnDkim, Verdict};

/// How the sender was proven.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proof {
    /// The receiving server recorded an aligned DMARC pass.
    ReceivingServer,
    /// A trusted hub (this sealing domain) recorded it before forwarding the message.
    Arc(String),
    /// The receiving server recorded nothing; our own check found an aligned DKIM pass and
    /// the From domain's DMARC record passes on it (rule 5).
    OwnDkim,
}

/// Why the sender is not proven: a sentence for the coordinators' queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unverified(pub String);

const PREFIX: &str = "the sender could not be verified";

fn unverified(why: impl std::fmt::Display) -> Unverified {
    Unverified(format!("{PREFIX}: {why}"))
}

/// Rule 1 to 6 (see the module's documentation).
pub fn verify(env: &Envelope, s: &SendersConfig) -> Result<Proof, Unverified> {
    let o = &env.originators;
    if o.from_headers != 1 {
        return Err(unverified(format!("the message has {} From headers where one is allowed (a forgery's sign: checkers and mail programs may read different ones)", o.from_headers)));
    }
    if o.from_addresses != 1 {
        return Err(unverified(format!("its From header names {} addresses where one is allowed", o.from_addresses)));
    }
    if o.sender_headers > 1 || o.reply_to_headers > 1 {
        return Err(unverified("the message has more than one Sender or Reply-To header"));
    }
    let Some(domain) = env.from.as_ref().and_then(|f| f.domain()) else {
        return Err(unverified("the From header has no address with a domain"));
    };

    let server = receiving_server_results(env, s);
    let (name, id) = match s.receiving_server {
        ReceivingServer::Rfc8601 => ("the receiving server", format!(" ({})", s.trusted_authserv_id.to_ascii_lowercase())),
        ReceivingServer::ExchangeOnline => ("Exchange Online", String::new()),
    };
    if server.is_empty() {
        if s.verify_dkim == VerifyDkim::WhenNoResults {
            return own_dkim(env, &domain).map(|()| Proof::OwnDkim).map_err(|why| Unverified(format!("{OWN_PREFIX}: {why} ({name}{id} recorded no authentication results for this message)")));
        }
        return Err(unverified(format!("{name}{id} recorded no authentication results for this message (Authentication-Results)")));
    }
    let own = aligned_dmarc_pass(&server, &domain);
    let exchange_ok = s.receiving_server != ReceivingServer::ExchangeOnline || server.iter().any(|a| a.of("compauth").any(|r| r.result == "pass"));
    if own.is_ok() && exchange_ok {
        return Ok(Proof::ReceivingServer);
    }
    if let Some(sealer) = trusted_arc_pass(env, s, &server, &domain) {
        return Ok(Proof::Arc(sealer));
    }
    let recorded: Vec<String> = server
        .iter()
        .flat_map(|a| a.results.iter())
        .filter(|r| ["dmarc", "spf", "dkim", "arc", "compauth"].contains(&r.method.as_str()))
        .map(|r| format!("{}={}", r.method, short(&r.result)))
        .collect();
    match own {
        Err(why) => Err(unverified(format!("{name}{id} {why} (it recorded: {})", recorded.join(", ")))),
        Ok(()) => Err(unverified(format!("{name} recorded a DMARC pass but no compauth=pass"))),
    }
}

/// Whether our own DKIM check is due for this message (rule 5's condition): asked for by the
/// configuration, and the receiving server recorded no results. `triage` asks this before it
/// makes the check at the edge.
pub fn wants_own_dkim(env: &Envelope, s: &SendersConfig) -> bool {
    s.verify_dkim == VerifyDkim::WhenNoResults && receiving_server_results(env, s).is_empty()
}

const OWN_PREFIX: &str = "the DKIM signature could not be verified";

/// Rule 5 over our own check's facts: Ok for a passing signature by exactly `domain` with the
/// From domain's DMARC pass on it; else why not, as the end of a sentence.
fn own_dkim(env: &Envelope, domain: &str) -> Result<(), String> {
    let (signatures, dmarc, dmarc_detail) = match &env.own_dkim {
        None => return Err("our own DKIM check was not made for this message".into()),
        Some(OwnDkim::NotChecked { why }) => return Err(why.clone()),
        Some(OwnDkim::Checked { signatures, dmarc, dmarc_detail }) => (signatures, *dmarc, dmarc_detail),
    };
    if signatures.is_empty() {
        return Err("the message has no DKIM signature".into());
    }
    let aligned = |d: &str| d.trim().trim_end_matches('.').eq_ignore_ascii_case(domain);
    if !signatures.iter().any(|g| g.verdict == Verdict::Pass && aligned(&g.domain)) {
        let own: Vec<_> = signatures.iter().filter(|g| aligned(&g.domain)).collect();
        if let Some(g) = own.first() {
            return Err(format!("the From domain's signature did not pass: dkim={} ({})", g.verdict.as_str(), g.detail));
        }
        let others: Vec<&str> = signatures.iter().filter(|g| g.verdict == Verdict::Pass).map(|g| g.domain.as_str()).collect();
        if others.is_empty() {
            let g = &signatures[0];
            return Err(format!("no signature by the From domain, and none passed: dkim={} ({})", g.verdict.as_str(), g.detail));
        }
        return Err(format!("the only valid signatures are by another domain than the From address's ({}): no signature by the From domain", others.join(", ")));
    }
    match dmarc {
        Verdict::Pass => Ok(()),
        Verdict::None => Err("the From domain's signature passed, but the From domain publishes no DMARC record that applies to it".into()),
        other => Err(format!("the From domain's signature passed, but its DMARC check did not: dmarc={} ({dmarc_detail})", other.as_str())),
    }
}

/// The receiving server's own headers (rule 2), topmost first.
fn receiving_server_results<'a>(env: &'a Envelope, s: &SendersConfig) -> Vec<&'a AuthResults> {
    let trusted = match s.receiving_server {
        ReceivingServer::Rfc8601 => s.trusted_authserv_id.trim().to_ascii_lowercase(),
        ReceivingServer::ExchangeOnline => String::new(),
    };
    env.authentication_results.iter().filter(|a| a.authserv_id == trusted).take(s.authserv_headers.max(1)).collect()
}

/// Rule 3 over one set of results: Ok when they hold a DMARC pass for `domain` and no other
/// DMARC result; else what they recorded instead, as the end of a sentence.
fn aligned_dmarc_pass(results: &[&AuthResults], domain: &str) -> Result<(), String> {
    let dmarc: Vec<_> = results.iter().flat_map(|a| a.of("dmarc")).collect();
    if dmarc.is_empty() {
        return Err("recorded no DMARC pass for the From domain (no DMARC result at all)".into());
    }
    if let Some(other) = dmarc.iter().find(|r| r.result != "pass") {
        return Err(format!("recorded dmarc={} for the message, where a DMARC pass for the From domain is required", short(&other.result)));
    }
    let aligned = |r: &&crate::mime::AuthResult| r.properties.iter().any(|(k, v)| k == "header.from" && v.trim().trim_end_matches('.').eq_ignore_ascii_case(domain));
    if dmarc.iter().all(aligned) {
        Ok(())
    } else {
        Err("recorded a DMARC pass for another domain than the From address's (or named no domain): no DMARC pass for the From domain".into())
    }
}

/// Rule 4: the sealing domain of a trusted hub that recorded an aligned DMARC pass.
fn trusted_arc_pass(env: &Envelope, s: &SendersConfig, server: &[&AuthResults], domain: &str) -> Option<String> {
    if s.trusted_arc_sealers.is_empty() || !server.iter().any(|a| a.of("arc").any(|r| r.result == "pass")) {
        return None;
    }
    let newest = env.arc.seals.iter().map(|x| x.instance).max()?;
    let seals: Vec<_> = env.arc.seals.iter().filter(|x| x.instance == newest).collect();
    let [seal] = seals.as_slice() else { return None };
    let trusted = s.trusted_arc_sealers.iter().any(|t| t.trim().eq_ignore_ascii_case(&seal.domain));
    if !trusted || seal.cv == "fail" {
        return None;
    }
    let results: Vec<&AuthResults> = env.arc.results.iter().filter(|(i, _)| *i == newest).map(|(_, r)| r).collect();
    if results.len() != 1 {
        return None;
    }
    aligned_dmarc_pass(&results, domain).ok().map(|()| seal.domain.clone())
}

fn short(v: &str) -> String {
    v.chars().filter(|c| c.is_ascii_alphanumeric()).take(20).collect()
}

/// Whether `reply_to` is in the same organisation's domain as `from`: the same domain, or one
/// a subdomain of the other where the shorter is neither a public suffix nor a suffix the
/// allowlist opens to every subdomain (`*.pnn.police.uk` makes each force its own
/// organisation). Strict on purpose: a reply never goes to another organisation.
pub fn same_organisation(from: &str, reply_to: &str, allowlist: &Allowlist) -> bool {
    let domain = |a: &str| a.trim().rsplit_once('@').map(|(_, d)| d.trim_end_matches('.').to_ascii_lowercase());
    let (Some(f), Some(r)) = (domain(from), domain(reply_to)) else { return false };
    if f == r {
        return true;
    }
    let (short, long) = if f.len() < r.len() { (&f, &r) } else { (&r, &f) };
    long.ends_with(&format!(".{short}")) && !crate::config::is_public_suffix(short) && !allowlist.opens_subdomains_of(short)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mime::{parse_authentication_results, ArcSeal, Mailbox, Originators, OwnSignature};

    fn senders(extra: &str) -> SendersConfig {
        let text = format!("allow = [\"*.pnn.police.example.test\"]\ntrusted_authserv_id = \"mx.marac.example.test\"\n{extra}");
        toml::from_str(&text).unwrap()
    }

    fn env(headers: &[&str]) -> Envelope {
        Envelope {
            from: Some(Mailbox { name: None, address: "a.officer@kingsmere.pnn.police.example.test".into() }),
            originators: Originators { from_headers: 1, from_addresses: 1, sender_headers: 0, reply_to_headers: 0 },
            authentication_results: headers.iter().map(|h| parse_authentication_results(h).unwrap()).collect(),
            ..Envelope::default()
        }
    }

    const PASS: &str = "mx.marac.example.test; dkim=pass header.d=kingsmere.pnn.police.example.test; spf=pass smtp.mailfrom=a@kingsmere.pnn.police.example.test; dmarc=pass (p=reject) header.from=kingsmere.pnn.police.example.test";

    #[test]
    fn an_aligned_dmarc_pass_from_the_receiving_server_is_proof() {
        assert_eq!(verify(&env(&[PASS]), &senders("")), Ok(Proof::ReceivingServer));
        // Other servers' headers above ours (an internal filter) are skipped, not read.
        assert_eq!(verify(&env(&["filter.marac.example.test; dmarc=fail header.from=x.test", PASS]), &senders("")), Ok(Proof::ReceivingServer));
    }

    #[test]
    fn no_results_or_anything_but_pass_is_not_proof() {
        let s = senders("");
        let e = verify(&env(&[]), &s).unwrap_err();
        assert!(e.0.starts_with("the sender could not be verified: the receiving server (mx.marac.example.test) recorded no authentication results"), "{e:?}");
        for result in ["none", "softfail", "temperror", "permerror", "fail", "neutral"] {
            let h = format!("mx.marac.example.test; spf=pass smtp.mailfrom=a@kingsmere.pnn.police.example.test; dmarc={result} header.from=kingsmere.pnn.police.example.test");
            let e = verify(&env(&[&h]), &s).unwrap_err();
            assert!(e.0.contains(&format!("dmarc={result}")), "{result}: {e:?}");
        }
        let spf_only = "mx.marac.example.test; spf=pass smtp.mailfrom=a@kingsmere.pnn.police.example.test; dkim=pass header.d=kingsmere.pnn.police.example.test";
        assert!(verify(&env(&[spf_only]), &s).unwrap_err().0.contains("no DMARC pass for the From domain"));
        let foreign = "mx.elsewhere.example.test; dmarc=pass header.from=kingsmere.pnn.police.example.test";
        assert!(verify(&env(&[foreign]), &s).unwrap_err().0.contains("recorded no authentication results"));
    }

    #[test]
    fn a_pass_for_another_domain_is_not_proof() {
        let s = senders("");
        for other in ["othershire.pnn.police.example.test", "evil.example", "pnn.police.example.test", ""] {
            let h = format!("mx.marac.example.test; dmarc=pass header.from={other}");
            assert!(verify(&env(&[&h]), &s).unwrap_err().0.contains("another domain"), "{other}");
        }
        let no_property = "mx.marac.example.test; dmarc=pass";
        assert!(verify(&env(&[no_property]), &s).is_err());
        let upper = "mx.marac.example.test; dmarc=pass header.from=Kingsmere.PNN.police.example.test";
        assert!(verify(&env(&[upper]), &s).is_ok(), "domains compare without case");
    }

    #[test]
    fn only_the_topmost_header_of_the_receiving_server_counts() {
        let s = senders("");
        let real_none = "mx.marac.example.test; spf=softfail smtp.mailfrom=x@evil.example; dmarc=none header.from=kingsmere.pnn.police.example.test";
        // The sender wrote the lower one; the server's own (topmost) one says none.
        assert!(verify(&env(&[real_none, PASS]), &s).is_err());
        // A server that adds two headers (DKIM and DMARC milters): both read when configured.
        let dkim = "mx.marac.example.test; dkim=pass header.d=kingsmere.pnn.police.example.test";
        assert!(verify(&env(&[dkim, PASS]), &s).is_err(), "one header by default");
        assert!(verify(&env(&[dkim, PASS]), &senders("authserv_headers = 2")).is_ok());
        // A conflicting DMARC result among them is not proof.
        let fail = "mx.marac.example.test; dmarc=fail header.from=kingsmere.pnn.police.example.test";
        assert!(verify(&env(&[PASS, fail]), &senders("authserv_headers = 2")).is_err());
    }

    #[test]
    fn originator_headers_must_be_single() {
        let s = senders("");
        for (o, says) in [
            (Originators { from_headers: 2, from_addresses: 1, sender_headers: 0, reply_to_headers: 0 }, "2 From headers"),
            (Originators { from_headers: 0, from_addresses: 0, sender_headers: 0, reply_to_headers: 0 }, "0 From headers"),
            (Originators { from_headers: 1, from_addresses: 2, sender_headers: 0, reply_to_headers: 0 }, "names 2 addresses"),
            (Originators { from_headers: 1, from_addresses: 1, sender_headers: 2, reply_to_headers: 0 }, "more than one Sender or Reply-To"),
            (Originators { from_headers: 1, from_addresses: 1, sender_headers: 1, reply_to_headers: 2 }, "more than one Sender or Reply-To"),
        ] {
            let e = Envelope { originators: o, ..env(&[PASS]) };
            assert!(verify(&e, &s).unwrap_err().0.contains(says), "{o:?}");
        }
        let one_each = Envelope { originators: Originators { from_headers: 1, from_addresses: 1, sender_headers: 1, reply_to_headers: 1 }, ..env(&[PASS]) };
        assert!(verify(&one_each, &s).is_ok());
    }

    const EXO: &str = "spf=pass (sender IP is 198.51.100.7) smtp.mailfrom=kingsmere.pnn.police.example.test; dkim=pass (signature was verified) header.d=kingsmere.pnn.police.example.test;dmarc=pass action=none header.from=kingsmere.pnn.police.example.test;compauth=pass reason=100";

    #[test]
    fn exchange_online_form_counts_only_when_configured_and_with_compauth() {
        assert!(verify(&env(&[EXO]), &senders("")).is_err(), "an authserv-id is expected by default");
        let s = senders("receiving_server = \"exchange_online\"");
        assert_eq!(verify(&env(&[EXO]), &s), Ok(Proof::ReceivingServer));
        let no_compauth = EXO.replace(";compauth=pass reason=100", "");
        assert!(verify(&env(&[&no_compauth]), &s).unwrap_err().0.contains("no compauth=pass"));
        let compauth_fail = EXO.replace("compauth=pass", "compauth=fail");
        assert!(verify(&env(&[&compauth_fail]), &s).is_err());
        // A header naming an authserv-id was not written by Exchange Online.
        assert!(verify(&env(&[PASS]), &s).is_err());
    }

    fn forwarded(sealer: &str, cv: &str, aar: &str) -> Envelope {
        let mut e = env(&["mx.marac.example.test; arc=pass (i=1); dkim=fail header.d=kingsmere.pnn.police.example.test; dmarc=fail header.from=kingsmere.pnn.police.example.test"]);
        e.arc.seals = vec![ArcSeal { instance: 1, domain: sealer.into(), cv: cv.into() }];
        e.arc.results = vec![(1, parse_authentication_results(aar).unwrap())];
        e
    }

    #[test]
    fn arc_results_of_a_trusted_hub_are_proof_for_forwarded_mail() {
        let aar = "mx.hub.example.test; dkim=pass header.d=kingsmere.pnn.police.example.test; dmarc=pass header.from=kingsmere.pnn.police.example.test";
        let s = senders("trusted_arc_sealers = [\"hub.example.test\"]");
        assert_eq!(verify(&forwarded("hub.example.test", "none", aar), &s), Ok(Proof::Arc("hub.example.test".into())));
        assert!(verify(&forwarded("hub.example.test", "none", aar), &senders("")).is_err(), "no sealer trusted by default");
        assert!(verify(&forwarded("other.example.test", "none", aar), &s).is_err(), "an untrusted sealer");
        assert!(verify(&forwarded("hub.example.test", "fail", aar), &s).is_err());
        let misaligned = aar.replace("header.from=kingsmere", "header.from=othershire");
        assert!(verify(&forwarded("hub.example.test", "none", &misaligned), &s).is_err());
        // Without the receiving server's arc=pass the ARC headers are only what someone wrote.
        let mut unsealed = forwarded("hub.example.test", "none", aar);
        unsealed.authentication_results = vec![parse_authentication_results("mx.marac.example.test; arc=fail; dmarc=fail header.from=kingsmere.pnn.police.example.test").unwrap()];
        assert!(verify(&unsealed, &s).unwrap_err().0.contains("dmarc=fail"));
    }

    fn own(signatures: &[(&str, Verdict)], dmarc: Verdict) -> Envelope {
        let signatures = signatures.iter().map(|(d, v)| OwnSignature { domain: (*d).into(), verdict: *v, detail: if *v == Verdict::Pass { String::new() } else { "the body was changed after it was signed".into() } }).collect();
        Envelope { own_dkim: Some(OwnDkim::Checked { signatures, dmarc, dmarc_detail: "no aligned pass".into() }), ..env(&[]) }
    }

    const ON: &str = "verify_dkim = \"when_no_results\"\ndns_resolver = \"127.0.0.1\"";
    const D: &str = "kingsmere.pnn.police.example.test";

    #[test]
    fn our_own_dkim_check_is_proof_only_when_aligned_and_dmarc_passes() {
        let s = senders(ON);
        assert_eq!(verify(&own(&[(D, Verdict::Pass)], Verdict::Pass), &s), Ok(Proof::OwnDkim));
        assert_eq!(verify(&own(&[("evil.example", Verdict::Pass), (D, Verdict::Pass)], Verdict::Pass), &s), Ok(Proof::OwnDkim), "any one aligned pass");
        let no = |e: Envelope| verify(&e, &s).unwrap_err().0;
        let why = no(own(&[(D, Verdict::Fail)], Verdict::Fail));
        assert!(why.starts_with("the DKIM signature could not be verified: the From domain's signature did not pass: dkim=fail (the body was changed"), "{why}");
        assert!(why.ends_with("(the receiving server (mx.marac.example.test) recorded no authentication results for this message)"), "{why}");
        assert!(no(own(&[("othershire.pnn.police.example.test", Verdict::Pass)], Verdict::Fail)).contains("by another domain than the From address's (othershire.pnn.police.example.test)"));
        // The parent domain (relaxed DMARC alignment) is not the From domain: exact only.
        assert!(no(own(&[("pnn.police.example.test", Verdict::Pass)], Verdict::Pass)).contains("another domain"));
        assert!(no(own(&[], Verdict::None)).contains("the message has no DKIM signature"));
        assert!(no(own(&[("", Verdict::Neutral)], Verdict::None)).contains("none passed: dkim=neutral"));
        assert!(no(own(&[(D, Verdict::Pass)], Verdict::None)).contains("publishes no DMARC record"));
        for v in [Verdict::Fail, Verdict::TempError, Verdict::PermError] {
            assert!(no(own(&[(D, Verdict::Pass)], v)).contains(&format!("dmarc={}", v.as_str())), "{v:?}");
        }
        let timed_out = Envelope { own_dkim: Some(OwnDkim::NotChecked { why: "the DNS resolver (127.0.0.1:53) did not answer within 5 s".into() }), ..env(&[]) };
        assert!(no(timed_out).starts_with("the DKIM signature could not be verified: the DNS resolver (127.0.0.1:53) did not answer"));
        assert!(no(env(&[])).contains("our own DKIM check was not made"));
    }

    #[test]
    fn our_own_dkim_check_counts_only_when_configured_and_the_server_recorded_nothing() {
        let good = own(&[(D, Verdict::Pass)], Verdict::Pass);
        let e = verify(&good, &senders("")).unwrap_err();
        assert!(e.0.contains("recorded no authentication results"), "off by default: {e:?}");
        assert!(!wants_own_dkim(&good, &senders("")));
        assert!(wants_own_dkim(&good, &senders(ON)));
        // The server's own results, when there are any, decide: ours are never read over them.
        let none = "mx.marac.example.test; dmarc=none header.from=kingsmere.pnn.police.example.test";
        let with_results = Envelope { authentication_results: vec![parse_authentication_results(none).unwrap()], ..good };
        assert!(!wants_own_dkim(&with_results, &senders(ON)));
        assert!(verify(&with_results, &senders(ON)).unwrap_err().0.contains("dmarc=none"));
        // Rule 1 still comes first.
        let two_froms = Envelope { originators: Originators { from_headers: 2, from_addresses: 1, sender_headers: 0, reply_to_headers: 0 }, ..own(&[(D, Verdict::Pass)], Verdict::Pass) };
        assert!(verify(&two_froms, &senders(ON)).unwrap_err().0.contains("2 From headers"));
    }

    #[test]
    fn reply_to_in_the_same_organisation_only() {
        let a = Allowlist::new(&["*.pnn.police.example.test".into(), "nhs.example.test".into(), "kingsmere.gov.example.test".into()]).unwrap();
        assert!(same_organisation("a@kingsmere.pnn.police.example.test", "b@Kingsmere.pnn.police.example.test", &a));
        assert!(same_organisation("a@kingsmere.gov.example.test", "b@social.kingsmere.gov.example.test", &a));
        assert!(!same_organisation("a@kingsmere.pnn.police.example.test", "b@othershire.pnn.police.example.test", &a));
        assert!(!same_organisation("a@kingsmere.pnn.police.example.test", "b@pnn.police.example.test", &a), "the wildcard's suffix is no organisation");
        assert!(!same_organisation("a@x.co.uk", "b@co.uk", &a), "a public suffix is no organisation");
        assert!(!same_organisation("a@nhs.example.test", "b@nhs.example.test.evil.example", &a));
        assert!(!same_organisation("a@nhs.example.test", "not-an-address", &a));
    }
}
