//! Who is asking: passwords (argon2id, a few checks at a time), sessions and their timeouts, the
//! sign-in throttle, roles and the client address. The second factor's codes are in
//! [`super::totp`].
//!
//! A session token is 256 random bits, sent only in an HttpOnly, SameSite=Strict cookie (Secure
//! unless the browser talks plain HTTP to us on loopback); the database keeps its sha256 only. A
//! session ends after [`IDLE`] without a request or [`ABSOLUTE`] after sign-in, on sign-out, and
//! when its user is disabled or their password changed.

use super::AppState;
use crate::clock::{parse, stamp};
use crate::store::accounts::{AttemptCounts, Audit, Refusal, Role, SessionRow};
use anyhow::{anyhow, Result};
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::Semaphore;

pub const IDLE: Duration = Duration::from_secs(30 * 60);
pub const ABSOLUTE: Duration = Duration::from_secs(12 * 60 * 60);
pub const MIN_PASSWORD_CHARS: usize = 12;

/// The throttle counts failures over this window (see [`admit`]).
pub const THROTTLE_WINDOW: Duration = Duration::from_secs(60 * 60);
/// Failures of one account from one address before it must wait.
pub const PAIR_FAILURES: i64 = 5;
/// Failures from one address, on any accounts, before it must wait.
pub const ADDRESS_FAILURES: i64 = 20;
/// Failures of one account from all addresses before every address that failed on it must wait.
pub const ACCOUNT_FAILURES: i64 = 20;
/// The first wait; each further failure doubles it, up to [`BACKOFF_MAX`].
pub const BACKOFF_FIRST: Duration = Duration::from_secs(30);
pub const BACKOFF_MAX: Duration = Duration::from_secs(15 * 60);

/// Password checks (argon2id: about 19 MiB and some CPU each) run at once in this process, at
/// most; a flood of sign-ins waits for these instead of taking the memory.
pub const PASSWORD_CHECKS: usize = 2;
/// How long a sign-in waits for a password check before it is told to try again.
pub const PASSWORD_CHECK_WAIT: Duration = Duration::from_secs(3);
/// How long an enrolment of the second factor, begun after the password, may take.
pub const ENROLMENT_TIME: Duration = Duration::from_secs(10 * 60);

/// An argon2id hash (PHC string) with its own random salt.
pub fn hash_password(password: &str) -> Result<String> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(anyhow!("a password needs at least {MIN_PASSWORD_CHARS} characters"));
    }
    Argon2::default().hash_password(password.as_bytes()).map(|h| h.to_string()).map_err(|e| anyhow!("hashing the password: {e}"))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

static CHECKS: Semaphore = Semaphore::const_new(PASSWORD_CHECKS);
static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

type Job = Box<dyn FnOnce() + Send>;

/// [`PASSWORD_CHECKS`] long-lived threads that do every argon2 operation of the web server. Not
/// tokio's blocking pool: its threads come and go, and each new one may take its own malloc
/// arena and keep the 19 MiB it freed there (300 guesses at once from 300 addresses left the
/// server at 439 MB that way, with no more than 2 checks at a time); a fixed set of threads
/// keeps what argon2 takes to a few times 19 MiB.
fn argon2_threads() -> &'static std::sync::Mutex<std::sync::mpsc::Sender<Job>> {
    static POOL: std::sync::OnceLock<std::sync::Mutex<std::sync::mpsc::Sender<Job>>> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
        for n in 0..PASSWORD_CHECKS {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || loop {
                    let job = match rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                })
                .expect("starting a password-check thread");
        }
        std::sync::Mutex::new(tx)
    })
}

/// Runs `f` (an argon2 hash or verification) on one of the [`PASSWORD_CHECKS`] password-check
/// threads once one is free: None when none came within [`PASSWORD_CHECK_WAIT`] (say "try
/// again"; nothing was checked). The slot is held until `f` returns, even when the request that
/// asked has gone.
pub async fn argon2_bounded<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<Option<T>> {
    let Ok(Ok(permit)) = tokio::time::timeout(PASSWORD_CHECK_WAIT, CHECKS.acquire()).await else { return Ok(None) };
    let (tx, rx) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let now = IN_FLIGHT.fetch_add(1, Ordering::SeqCst) + 1;
        PEAK.fetch_max(now, Ordering::SeqCst);
        let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);
        drop(permit);
        let _ = tx.send(out);
    });
    argon2_threads().lock().map_err(|_| anyhow!("the password-check threads are gone"))?.send(job).map_err(|_| anyhow!("the password-check threads are gone"))?;
    match rx.await {
        Ok(Ok(out)) => Ok(Some(out)),
        Ok(Err(_)) => Err(anyhow!("a password check panicked")),
        Err(_) => Err(anyhow!("a password check was dropped")),
    }
}

/// The most argon2 operations [`argon2_bounded`] ever ran at once in this process.
pub fn argon2_peak() -> usize {
    PEAK.load(Ordering::SeqCst)
}

/// The sign-in throttle, applied to the counts of [`crate::store::Store::begin_attempt`] before
/// any password is checked. Failures are counted over [`THROTTLE_WINDOW`]. An attempt is
/// refused when:
/// 1. its address has failed [`ADDRESS_FAILURES`] times or more, on any accounts, and the
///    backoff since the address's last failure has not passed: a flood from one address is
///    throttled whatever account it targets;
/// 2. the account has failed [`PAIR_FAILURES`] times or more from this address (since the last
///    success there), and the backoff since the last of them has not passed;
/// 3. the account has failed [`ACCOUNT_FAILURES`] times or more from all addresses (someone
///    guesses from many), this address has failed on it at least once, and the backoff since
///    then has not passed.
///
/// So an address that never failed on an account is never refused for strangers' failures on
/// it: the real user signing in from their own address is not locked out. The backoff after
/// the n-th failure at or over a limit is [`BACKOFF_FIRST`] × 2ⁿ, at most [`BACKOFF_MAX`].
pub fn admit(c: &AttemptCounts, now: DateTime<Utc>) -> Option<Refusal> {
    let wait = |over: i64, last: &Option<String>| -> Option<Duration> {
        let last = last.as_deref().and_then(parse)?;
        let backoff = BACKOFF_FIRST.saturating_mul(1u32 << over.clamp(0, 16) as u32).min(BACKOFF_MAX);
        let until = last + chrono::Duration::from_std(backoff).ok()?;
        (until > now).then(|| (until - now).to_std().unwrap_or(BACKOFF_FIRST))
    };
    if c.address >= ADDRESS_FAILURES {
        if let Some(wait) = wait(c.address - ADDRESS_FAILURES, &c.address_last) {
            return Some(Refusal { wait, address_wide: true });
        }
    }
    if c.pair >= PAIR_FAILURES {
        if let Some(wait) = wait(c.pair - PAIR_FAILURES, &c.pair_last) {
            return Some(Refusal { wait, address_wide: false });
        }
    }
    if c.account >= ACCOUNT_FAILURES && c.pair >= 1 {
        if let Some(wait) = wait(c.pair - 1, &c.pair_last) {
            return Some(Refusal { wait, address_wide: false });
        }
    }
    None
}

/// A wait in words: "30 seconds", "4 minutes".
pub fn wait_in_words(d: Duration) -> String {
    let s = d.as_secs().max(1);
    match s {
        1 => "a second".into(),
        2..=59 => format!("{s} seconds"),
        60..=119 => "a minute".into(),
        _ => format!("{} minutes", s.div_ceil(60)),
    }
}

/// 256 random bits, hex.
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).expect("the operating system's random source");
    hex(&b)
}

pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Equal strings, compared in time independent of where they differ.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub fn session_cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-marac_session"
    } else {
        "marac_session"
    }
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, Path=/, Secure when `secure`.
pub fn cookie(name: &str, value: &str, secure: bool, max_age: Option<u64>) -> String {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if secure {
        c.push_str("; Secure");
    }
    if let Some(a) = max_age {
        c.push_str(&format!("; Max-Age={a}"));
    }
    c
}

/// The value of cookie `name` in the request, if any.
pub fn read_cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The client's address: the peer, or with `trust_forwarded_for` the last `X-Forwarded-For`
/// entry (the one the reverse proxy in front appended) when the peer is that proxy: one of
/// `trusted_proxies`, or (none configured) a loopback address. Anyone else's header is ignored.
pub fn client_address(parts_headers: &HeaderMap, peer: Option<SocketAddr>, trust_forwarded_for: bool, trusted_proxies: &[std::net::IpAddr]) -> String {
    let from_proxy = peer.is_some_and(|p| if trusted_proxies.is_empty() { p.ip().is_loopback() } else { trusted_proxies.contains(&p.ip()) });
    if trust_forwarded_for && from_proxy {
        let forwarded = parts_headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .last()
            .and_then(|v| v.parse::<std::net::IpAddr>().ok());
        if let Some(ip) = forwarded {
            return ip.to_string();
        }
    }
    peer.map(|p| p.ip().to_string()).unwrap_or_else(|| "unknown".into())
}

/// Whether a session is still valid at `now`.
pub fn session_alive(s: &SessionRow, now: DateTime<Utc>) -> bool {
    let (Some(created), Some(seen)) = (parse(&s.created_at), parse(&s.last_seen_at)) else { return false };
    now - seen < chrono::Duration::from_std(IDLE).expect("small") && now - created < chrono::Duration::from_std(ABSOLUTE).expect("small")
}

/// A signed-in user's request.
#[derive(Debug, Clone)]
pub struct Signed {
    pub session: SessionRow,
    pub client: String,
}

impl Signed {
    pub fn name(&self) -> &str {
        &self.session.user.name
    }

    pub fn is_admin(&self) -> bool {
        self.session.user.role == Role::Admin
    }

    pub fn audit<'a>(&'a self, at: &'a str, action: &'a str, object: Option<&'a str>) -> Audit<'a> {
        Audit { at, actor: self.name(), action, object, client: Some(&self.client), detail: None }
    }
}

/// Why a request is not let through.
pub enum Refused {
    /// A page: sign in first.
    SignIn,
    /// Data (`*.json`): 401.
    Unauthorized,
    Forbidden,
    Internal,
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Refused::SignIn => Redirect::to("/login").into_response(),
            Refused::Unauthorized => (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Cookie")], "sign in at /login\n").into_response(),
            Refused::Forbidden => (StatusCode::FORBIDDEN, "forbidden\n").into_response(),
            Refused::Internal => (StatusCode::INTERNAL_SERVER_ERROR, "internal error\n").into_response(),
        }
    }
}

pub fn client_of(parts: &Parts, state: &AppState) -> String {
    let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
    client_address(&parts.headers, peer, state.trust_forwarded_for, &state.trusted_proxies)
}

/// The session of this request, if valid; an expired one is ended (and the timeout audited).
pub async fn session_of(parts: &Parts, state: &AppState) -> Result<Option<SessionRow>> {
    let Some(token) = read_cookie(&parts.headers, session_cookie_name(state.secure_cookies)) else { return Ok(None) };
    let Some(s) = state.store.session(&token_hash(token)).await? else { return Ok(None) };
    let now = state.clock.now();
    if !session_alive(&s, now) {
        let at = stamp(now);
        state.store.end_session(s.id, Some(Audit { at: &at, actor: &s.user.name, action: "session.expired", object: None, client: None, detail: None })).await?;
        return Ok(None);
    }
    // The idle clock is kept to the minute: one write a minute per session, not one per request.
    let seen = crate::clock::parse(&s.last_seen_at).unwrap_or(now);
    if now - seen >= chrono::Duration::seconds(60) {
        state.store.touch_session(s.id, &stamp(now)).await?;
    }
    Ok(Some(s))
}

impl FromRequestParts<AppState> for Signed {
    type Rejection = Refused;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match session_of(parts, state).await {
            Ok(Some(session)) => Ok(Signed { session, client: client_of(parts, state) }),
            Ok(None) if parts.uri.path().ends_with(".json") => Err(Refused::Unauthorized),
            Ok(None) => Err(Refused::SignIn),
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), "Reading a web session failed.");
                Err(Refused::Internal)
            }
        }
    }
}

/// A signed-in admin, the deployment's or an area's (who sees only their areas' records): anyone
/// else gets 403.
pub struct Admin(pub Signed);

impl FromRequestParts<AppState> for Admin {
    type Rejection = Refused;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let s = admin_with(parts, state, |r| matches!(r, Role::Admin | Role::AreaAdmin)).await?;
        Ok(Admin(s))
    }
}

/// A signed-in admin of the deployment (the users, the rules, the break-glass notices): anyone
/// else, an area's admin too, gets 403.
pub struct DeploymentAdmin(pub Signed);

impl FromRequestParts<AppState> for DeploymentAdmin {
    type Rejection = Refused;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let s = admin_with(parts, state, |r| r == Role::Admin).await?;
        Ok(DeploymentAdmin(s))
    }
}

/// The signed-in user when `allowed` says their role may pass; else 403, audited as theirs.
async fn admin_with(parts: &mut Parts, state: &AppState, allowed: impl Fn(Role) -> bool) -> Result<Signed, Refused> {
    let s = Signed::from_request_parts(parts, state).await?;
    if allowed(s.session.user.role) {
        return Ok(s);
    }
    // Refused with the actor known: audited as theirs.
    let (at, path) = (stamp(state.clock.now()), super::audit::truncated(parts.uri.path()));
    if let Err(e) = state.store.audit(&s.audit(&at, super::audit::ACCESS_REFUSED, Some(&path))).await {
        tracing::error!(error = %format!("{e:#}"), "Writing the audit log failed.");
    }
    Err(Refused::Forbidden)
}

/// Counts a sign-in attempt (or a check of the current password) for `account` from `client`
/// before anything is checked: its id, or how long to wait. See [`admit`].
pub async fn begin_attempt(state: &AppState, account: &str, client: &str, now: DateTime<Utc>) -> Result<Result<i64, Refusal>> {
    let since = stamp(now - chrono::Duration::from_std(THROTTLE_WINDOW).expect("small"));
    Ok(state.store.begin_attempt(account, client, &stamp(now), &since, |c| admit(c, now)).await?)
}

pub fn enrol_cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-marac_enrol"
    } else {
        "marac_enrol"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse batterx", &h));
        assert!(!verify_password("x", "not a hash"));
        assert!(hash_password("short").is_err());
    }

    #[test]
    fn tokens_are_256_bits_and_differ() {
        let (a, b) = (random_token(), random_token());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
    }

    #[test]
    fn forwarded_for_is_read_only_when_trusted_and_only_its_last_entry() {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", "203.0.113.9, 198.51.100.7".parse().unwrap());
        let peer = Some("127.0.0.1:5000".parse().unwrap());
        assert_eq!(client_address(&h, peer, false, &[]), "127.0.0.1");
        assert_eq!(client_address(&h, peer, true, &[]), "198.51.100.7");
        // Only from the proxy: a loopback peer when none is named, else one of those named.
        let stranger = Some("192.0.2.50:5000".parse().unwrap());
        assert_eq!(client_address(&h, stranger, true, &[]), "192.0.2.50");
        let proxy: std::net::IpAddr = "192.0.2.10".parse().unwrap();
        assert_eq!(client_address(&h, stranger, true, &[proxy]), "192.0.2.50");
        assert_eq!(client_address(&h, Some("192.0.2.10:443".parse().unwrap()), true, &[proxy]), "198.51.100.7");
        assert_eq!(client_address(&h, peer, true, &[proxy]), "127.0.0.1", "loopback is not the named proxy");
        h.insert("x-forwarded-for", "not an address".parse().unwrap());
        assert_eq!(client_address(&h, peer, true, &[]), "127.0.0.1");
    }

    #[test]
    fn sessions_end_after_30_idle_minutes_or_12_hours() {
        let user = crate::store::accounts::User { id: 1, name: "c".into(), role: Role::Coordinator, disabled: false, created_at: String::new(), totp: true };
        let t0: DateTime<Utc> = "2026-01-01T08:00:00Z".parse().unwrap();
        let s = |created: DateTime<Utc>, seen: DateTime<Utc>| SessionRow { id: 1, user: user.clone(), csrf_token: String::new(), created_at: stamp(created), last_seen_at: stamp(seen) };
        let m = chrono::Duration::minutes;
        assert!(session_alive(&s(t0, t0), t0 + m(29)));
        assert!(!session_alive(&s(t0, t0), t0 + m(30)));
        assert!(session_alive(&s(t0, t0 + m(700)), t0 + m(710)));
        assert!(!session_alive(&s(t0, t0 + m(715)), t0 + m(720)));
    }

    #[test]
    fn the_throttle_weighs_the_address_the_pair_and_the_account_with_backoff() {
        let now: DateTime<Utc> = "2026-01-01T08:00:00Z".parse().unwrap();
        let ago = |s: i64| Some(stamp(now - chrono::Duration::seconds(s)));
        let quiet = AttemptCounts::default();
        assert_eq!(admit(&quiet, now), None);
        // Four failures of the pair: the fifth attempt is let through; five: wait 30 s.
        assert_eq!(admit(&AttemptCounts { pair: 4, pair_last: ago(1), address: 4, address_last: ago(1), account: 4 }, now), None);
        let five = AttemptCounts { pair: 5, pair_last: ago(1), address: 5, address_last: ago(1), account: 5 };
        assert_eq!(admit(&five, now), Some(Refusal { wait: Duration::from_secs(29), address_wide: false }));
        assert_eq!(admit(&AttemptCounts { pair_last: ago(30), ..five.clone() }, now), None, "the backoff has passed");
        // Each further failure doubles the wait, up to 15 minutes.
        assert_eq!(admit(&AttemptCounts { pair: 7, pair_last: ago(0), ..five.clone() }, now).unwrap().wait, Duration::from_secs(120));
        assert_eq!(admit(&AttemptCounts { pair: 40, pair_last: ago(0), ..five.clone() }, now).unwrap().wait, BACKOFF_MAX);
        // A flood from one address is refused whatever account it names next.
        let flood = AttemptCounts { pair: 0, pair_last: None, address: 20, address_last: ago(1), account: 0 };
        assert!(admit(&flood, now).is_some_and(|r| r.address_wide));
        // Strangers' failures on the account do not refuse an address that never failed on it,
        assert_eq!(admit(&AttemptCounts { account: 500, ..quiet.clone() }, now), None);
        // but one that did fail on it waits as soon as the account is under attack.
        assert!(admit(&AttemptCounts { account: 20, pair: 1, pair_last: ago(1), address: 1, address_last: ago(1) }, now).is_some());
        assert_eq!(admit(&AttemptCounts { account: 19, pair: 1, pair_last: ago(1), address: 1, address_last: ago(1) }, now), None);
        assert_eq!(wait_in_words(Duration::from_secs(29)), "29 seconds");
        assert_eq!(wait_in_words(Duration::from_secs(900)), "15 minutes");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn at_most_a_few_password_checks_run_at_once() {
        let hash = hash_password("correct horse battery").unwrap();
        let tasks: Vec<_> = (0..12)
            .map(|_| {
                let hash = hash.clone();
                tokio::spawn(async move { argon2_bounded(move || verify_password("correct horse battery", &hash)).await.unwrap() })
            })
            .collect();
        let mut checked = 0;
        for t in tasks {
            if let Some(ok) = t.await.unwrap() {
                assert!(ok);
                checked += 1;
            }
        }
        assert!(checked >= 1, "some were checked");
        assert!((1..=PASSWORD_CHECKS).contains(&argon2_peak()), "peak {}", argon2_peak());
    }

    #[test]
    fn cookies_are_http_only_strict_and_secure_unless_plain_loopback() {
        assert_eq!(cookie("__Host-marac_session", "t", true, None), "__Host-marac_session=t; Path=/; HttpOnly; SameSite=Strict; Secure");
        assert!(!cookie("marac_session", "t", false, None).contains("Secure"));
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, "a=1; marac_session=abc".parse().unwrap());
        assert_eq!(read_cookie(&h, "marac_session"), Some("abc"));
        assert_eq!(read_cookie(&h, "b"), None);
    }
}
