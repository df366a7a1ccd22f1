//! Our own DKIM check, for a receiving server that records no authentication results: an
//! edge (DNS and cryptography), run by `triage` before the decision only when
//! `crate::trust::wants_own_dkim` says so, its result handed to the pure `trust` as data
//! (`Envelope::own_dkim`).
//!
//! What it promises:
//! - It reads the message as received (the raw bytes, not a re-encoding) and checks every
//!   DKIM-Signature with mail-auth, asking only the resolver `senders.dns_resolver` names; then
//!   the From domain's DMARC record, with those DKIM results and no SPF result (SPF is checked
//!   by the server that takes the message over SMTP; we are not that server).
//! - It is bounded: one deadline over the whole check ([`TIMEOUT`] in the service). A resolver
//!   that never answers ends as `NotChecked`, never a hang; a panic in the library is contained
//!   and ends the same way.
//! - It returns facts (domains, results and reasons in words), never an address or anything
//!   of the message's content, and logs nothing.

use crate::mime::{OwnDkim, OwnSignature, Verdict};
use futures_util::FutureExt;
use mail_auth::common::crypto::CryptoError;
use mail_auth::dkim::DkimError;
use mail_auth::dmarc::verify::DmarcParameters;
use mail_auth::hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts};
use mail_auth::{AuthenticatedMessage, DkimResult, DmarcResult, DnsError, Error, MessageAuthenticator, SpfOutput};
use std::net::SocketAddr;
use std::time::Duration;

/// The deadline of one message's check in the service.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// Where and how long the check asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DkimSettings {
    /// The resolver (`senders.dns_resolver`).
    pub resolver: SocketAddr,
    /// The deadline over the whole check.
    pub timeout: Duration,
}

/// Checks `raw`'s DKIM signatures and the From domain's DMARC policy on them, within
/// `settings.timeout`.
pub async fn check(raw: &[u8], settings: DkimSettings) -> OwnDkim {
    let run = std::panic::AssertUnwindSafe(run(raw, settings)).catch_unwind();
    match tokio::time::timeout(settings.timeout, run).await {
        Ok(Ok(found)) => found,
        Ok(Err(_panic)) => OwnDkim::NotChecked { why: "the DKIM check stopped on an internal error".into() },
        Err(_elapsed) => OwnDkim::NotChecked { why: format!("the DNS resolver ({}) did not answer within {} ms", settings.resolver, settings.timeout.as_millis()) },
    }
}

async fn run(raw: &[u8], settings: DkimSettings) -> OwnDkim {
    let Some(message) = AuthenticatedMessage::parse(raw) else {
        return OwnDkim::NotChecked { why: "the message's headers could not be read for a DKIM check".into() };
    };
    let authenticator = match authenticator(settings) {
        Ok(a) => a,
        Err(e) => return OwnDkim::NotChecked { why: format!("the DNS resolver ({}) could not be used: {e}", settings.resolver) },
    };
    let outputs = authenticator.verify_dkim(&message).await;
    let signatures = outputs
        .iter()
        .map(|o| {
            let domain = o.signature().map(|s| s.d.trim_end_matches('.').to_ascii_lowercase()).unwrap_or_default();
            let (verdict, detail) = match o.result() {
                DkimResult::Pass => (Verdict::Pass, String::new()),
                DkimResult::Fail(e) => (Verdict::Fail, explain(e)),
                DkimResult::Neutral(e) => (Verdict::Neutral, explain(e)),
                DkimResult::TempError(e) => (Verdict::TempError, explain(e)),
                DkimResult::PermError(e) => (Verdict::PermError, explain(e)),
                DkimResult::None => (Verdict::None, "no signature".into()),
            };
            OwnSignature { domain, verdict, detail }
        })
        .collect();
    // SPF is not ours to check: an empty result, so DMARC rests on DKIM alone.
    let spf = SpfOutput::new(String::new());
    let dmarc = authenticator.verify_dmarc(DmarcParameters::new(&message, &outputs, "", &spf)).await;
    let (dmarc, dmarc_detail) = match dmarc.dkim_result() {
        DmarcResult::Pass => (Verdict::Pass, String::new()),
        DmarcResult::Fail(e) => (Verdict::Fail, explain(e)),
        DmarcResult::TempError(e) => (Verdict::TempError, explain(e)),
        DmarcResult::PermError(e) => (Verdict::PermError, explain(e)),
        DmarcResult::None => (Verdict::None, "no DMARC record applies".into()),
    };
    OwnDkim::Checked { signatures, dmarc, dmarc_detail }
}

/// A resolver that asks `settings.resolver` only (UDP, then TCP for a long answer), once, with
/// no hosts file and no system configuration.
fn authenticator(settings: DkimSettings) -> Result<MessageAuthenticator, String> {
    let port = |mut c: ConnectionConfig| {
        c.port = settings.resolver.port();
        c
    };
    let server = NameServerConfig::new(settings.resolver.ip(), true, vec![port(ConnectionConfig::udp()), port(ConnectionConfig::tcp())]);
    let mut opts = ResolverOpts::default();
    opts.timeout = settings.timeout;
    opts.attempts = 1;
    opts.use_hosts_file = ResolveHosts::Never;
    MessageAuthenticator::new(ResolverConfig::from_name_servers(vec![server]), opts).map_err(|e| e.to_string())
}

/// A mail-auth error in words a coordinator can act on.
fn explain(e: &Error) -> String {
    match e {
        Error::Dkim(DkimError::FailedBodyHashMatch) => "the body was changed after it was signed".into(),
        // ring reports a signature that does not verify as a library error without detail.
        Error::Crypto(CryptoError::FailedVerification | CryptoError::Library(_)) => "the signed headers were changed after signing, or it was signed with another key".into(),
        Error::Crypto(CryptoError::IncompatibleAlgorithms) => "the published key is not of the signature's algorithm".into(),
        Error::Dkim(DkimError::RevokedPublicKey) => "the signing key has been revoked".into(),
        Error::Dkim(DkimError::SignatureExpired) => "the signature has expired".into(),
        Error::Dkim(DkimError::SignatureLength) => "the signature covers only part of the body (l=)".into(),
        Error::Dkim(DkimError::FailedAuidMatch) => "its i= is not in its d= domain".into(),
        Error::Dns(DnsError::RecordNotFound(_)) => "the signing key or record is not published in DNS".into(),
        Error::Dns(DnsError::Resolver(_)) => "the DNS look-up failed or the resolver did not answer".into(),
        Error::Dns(DnsError::InvalidRecordType) => "the DNS record is not a valid key or policy".into(),
        Error::NotAligned => "no DKIM pass aligned with the From domain".into(),
        Error::ParseError | Error::MissingParameters | Error::NoHeadersFound => "the DKIM-Signature header could not be read".into(),
        other => {
            let text = other.to_string();
            text.chars().take(120).collect()
        }
    }
}
