//! OAuth 2.0 client credentials (RFC 6749 §4.4) for `auth = "oauth2"`: the access token that
//! IMAP and SMTP present with SASL XOAUTH2, fetched by the service itself.
//!
//! A [`TokenSource`] holds one token in memory. [`TokenSource::token`] hands it out until 80 % of
//! its `expires_in` has passed ([`refresh_at`]), then fetches a new one; [`TokenSource::invalidate`]
//! drops the token a server refused, so the next call fetches at once (only once, however many
//! callers saw the refusal). When a refresh fails, the token in hand is used while it still
//! works (the last fifth of its life is that margin), asking again every [`RETRY_PAUSE`]. Each
//! fetched token has a generation, so a user of the token (the
//! SMTP pool) can tell it changed.
//!
//! The token endpoint is asked over HTTPS (rustls, the system's roots plus the section's `ca_file`;
//! plain HTTP only to a loopback host, which the configuration checks) with a form POST:
//! `grant_type=client_credentials`, the client id and secret, the scope. The secret is read from
//! `client_secret_file` at each fetch, so a rotated secret is picked up.
//!
//! Errors say what to fix: the endpoint's OAuth error (`invalid_client`, Entra's AADSTS codes)
//! and a mail server's refusal of a token that was issued ([`imap_refused`], [`smtp_refused`])
//! are explained in words. The token and the secret never reach a log or an error: [`Secret`]
//! prints as `(secret)`.

use crate::config::OAuthClient;
use anyhow::{anyhow, bail, Context, Result};
use futures_util::future::BoxFuture;
use http_body_util::BodyExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The share of a token's lifetime after which it is fetched again.
pub const REFRESH_SHARE: f64 = 0.8;
/// How long a token in hand is used before the endpoint is asked again, after a refresh failed
/// (never past the token's expiry).
pub const RETRY_PAUSE: Duration = Duration::from_secs(30);
/// The lifetime assumed when the endpoint gives no `expires_in` (RFC 6749 makes it optional).
pub const DEFAULT_LIFETIME: Duration = Duration::from_secs(60 * 60);
/// The largest token response read.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// A credential that never prints: `Debug` and `Display` show `(secret)`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }

    /// The value, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("(secret)")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("(secret)")
    }
}

/// What the token endpoint granted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub access_token: Secret,
    /// `expires_in`, or [`DEFAULT_LIFETIME`] when the endpoint gave none.
    pub lifetime: Duration,
}

/// A token held by a [`TokenSource`].
#[derive(Debug, Clone)]
pub struct Token {
    pub secret: Secret,
    /// 1 for the first token fetched, one more for each fetch after it.
    pub generation: u64,
    /// When it is due to be replaced ([`REFRESH_SHARE`] of its lifetime).
    pub refresh_at: Instant,
    /// When the endpoint said it stops working.
    pub expires_at: Instant,
}

/// When a token fetched at `fetched` with this lifetime is replaced: after [`REFRESH_SHARE`] of it.
pub fn refresh_at(fetched: Instant, lifetime: Duration) -> Instant {
    fetched + lifetime.mul_f64(REFRESH_SHARE)
}

/// Where grants come from: the HTTP token endpoint ([`HttpEndpoint`]), or a test's stand-in.
pub trait Endpoint: Send + Sync {
    fn fetch(&self) -> BoxFuture<'_, Result<Grant>>;
}

/// The monotonic clock a [`TokenSource`] reads; tests pass one they move themselves.
pub type Now = Arc<dyn Fn() -> Instant + Send + Sync>;

/// One OAuth 2.0 client's token, cached in memory, fetched again when due or refused.
pub struct TokenSource {
    endpoint: Box<dyn Endpoint>,
    now: Now,
    held: tokio::sync::Mutex<Option<Token>>,
    generation: AtomicU64,
    /// `imap` or `smtp`, for the log.
    section: &'static str,
}

impl TokenSource {
    /// The source of `client`'s tokens over HTTP(S), trusting the web roots and `ca_file`;
    /// `timeout` bounds one fetch.
    pub fn http(client: &OAuthClient, ca_file: Option<&std::path::Path>, timeout: Duration) -> Result<TokenSource> {
        let tls = crate::tls::client_config(ca_file, client.section)?;
        let endpoint = HttpEndpoint { client: client.clone(), tls: Arc::new(tls), timeout };
        Ok(TokenSource::with(Box::new(endpoint), Arc::new(Instant::now), client.section))
    }

    /// A source over any endpoint and clock (tests).
    pub fn with(endpoint: Box<dyn Endpoint>, now: Now, section: &'static str) -> TokenSource {
        TokenSource { endpoint, now, held: tokio::sync::Mutex::new(None), generation: AtomicU64::new(0), section }
    }

    /// The token in hand while it is not due for refresh, else a new one from the endpoint.
    /// Callers at once wait for one fetch.
    pub async fn token(&self) -> Result<Token> {
        let mut held = self.held.lock().await;
        if let Some(t) = held.as_ref() {
            if (self.now)() < t.refresh_at {
                return Ok(t.clone());
            }
        }
        let grant = match self.endpoint.fetch().await {
            Ok(g) => g,
            Err(e) => {
                // The last fifth of the token's life is the margin for this: while it still
                // works it is used, and the endpoint is asked again after a pause.
                let now = (self.now)();
                if let Some(t) = held.as_mut().filter(|t| now < t.expires_at) {
                    t.refresh_at = (now + RETRY_PAUSE).min(t.expires_at);
                    tracing::warn!(section = self.section, error = %format!("{e:#}"), expires_in_s = t.expires_at.saturating_duration_since(now).as_secs(), "A new OAuth token could not be fetched; the one in hand is used while it lasts.");
                    return Ok(t.clone());
                }
                return Err(e);
            }
        };
        let fetched = (self.now)();
        let generation = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
        let token = Token { secret: grant.access_token, generation, refresh_at: refresh_at(fetched, grant.lifetime), expires_at: fetched + grant.lifetime };
        tracing::info!(section = self.section, generation, expires_in_s = grant.lifetime.as_secs(), "OAuth access token fetched.");
        *held = Some(token.clone());
        Ok(token)
    }

    /// Drops the token of this generation (a server refused it, or ended a session for its
    /// expiry): the next [`TokenSource::token`] fetches a new one. A later token is kept.
    pub async fn invalidate(&self, generation: u64) {
        let mut held = self.held.lock().await;
        if held.as_ref().is_some_and(|t| t.generation == generation) {
            tracing::info!(section = self.section, generation, "OAuth access token dropped; a new one is fetched at once.");
            *held = None;
        }
    }

    /// How long until the token in hand is due for refresh (zero when it is, or there is none).
    pub async fn refresh_in(&self) -> Duration {
        let held = self.held.lock().await;
        held.as_ref().map_or(Duration::ZERO, |t| t.refresh_at.saturating_duration_since((self.now)()))
    }

    /// Drops whatever token is in hand (a session that used it ended: the server may have ended
    /// it for the token's expiry); the next [`TokenSource::token`] fetches a new one.
    pub async fn invalidate_current(&self) {
        let generation = self.held.lock().await.as_ref().map(|t| t.generation);
        if let Some(g) = generation {
            self.invalidate(g).await;
        }
    }

    /// Whether the token in hand is due for refresh (or there is none).
    pub async fn due(&self) -> bool {
        let held = self.held.lock().await;
        held.as_ref().is_none_or(|t| (self.now)() >= t.refresh_at)
    }
}

/// The token endpoint over HTTP(S).
pub struct HttpEndpoint {
    client: OAuthClient,
    tls: Arc<rustls::ClientConfig>,
    timeout: Duration,
}

impl Endpoint for HttpEndpoint {
    fn fetch(&self) -> BoxFuture<'_, Result<Grant>> {
        Box::pin(async move {
            let c = &self.client;
            let key = format!("{}.client_secret_file", c.section);
            let secret = crate::config::read_secret(&c.client_secret_file).with_context(|| format!("{key} {}", c.client_secret_file.display()))?;
            if secret.trim().is_empty() {
                bail!("{key} {} is empty: it must hold the client secret", c.client_secret_file.display());
            }
            let form = serde_urlencoded::to_string([
                ("grant_type", "client_credentials"),
                ("client_id", c.client_id.as_str()),
                ("client_secret", secret.trim()),
                ("scope", c.scope.as_str()),
            ])
            .context("encoding the token request")?;
            let (status, body) = match tokio::time::timeout(self.timeout, post_form(&c.token_url, form, &self.tls)).await {
                Ok(r) => r.with_context(|| format!("the token endpoint {} ({}.token_url) could not be asked", c.token_url, c.section))?,
                Err(_) => bail!("the token endpoint {} gave no answer within {} s", c.token_url, self.timeout.as_secs()),
            };
            if status == 200 {
                return parse_grant(&body).with_context(|| format!("the token endpoint {} answered 200 without a usable token", c.token_url));
            }
            let (error, description) = oauth_error(&body);
            Err(anyhow!(explain_endpoint(c, status, &error, &description)))
        })
    }
}

/// Any byte stream the request runs over: TLS, or plain TCP to a loopback host.
trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Io for T {}

/// POSTs a form to `url` over one HTTP/1.1 connection; the status and the body (at most
/// [`MAX_RESPONSE_BYTES`]).
async fn post_form(url: &str, form: String, tls: &Arc<rustls::ClientConfig>) -> Result<(u16, Vec<u8>)> {
    let uri: hyper::Uri = url.parse().context("not a URL")?;
    let https = match uri.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        _ => bail!("not an http(s) URL"),
    };
    let authority = uri.authority().ok_or_else(|| anyhow!("no host in the URL"))?.clone();
    let host = authority.host().trim_start_matches('[').trim_end_matches(']').to_owned();
    let port = authority.port_u16().unwrap_or(if https { 443 } else { 80 });
    if !https && !(host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())) {
        bail!("plain http is refused off loopback");
    }
    let tcp = tokio::net::TcpStream::connect((host.as_str(), port)).await.context("connecting")?;
    let _ = tcp.set_nodelay(true);
    let io: Box<dyn Io> = if https {
        let name = rustls_pki_types::ServerName::try_from(host.clone()).context("not a valid TLS server name")?;
        Box::new(tokio_rustls::TlsConnector::from(tls.clone()).connect(name, tcp).await.context("TLS handshake")?)
    } else {
        Box::new(tcp)
    };
    let (mut sender, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(io)).await.context("HTTP handshake")?;
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let request = hyper::Request::post(path)
        .header(hyper::header::HOST, authority.as_str())
        .header(hyper::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(hyper::header::ACCEPT, "application/json")
        .header(hyper::header::USER_AGENT, concat!("marac-intake/", env!("CARGO_PKG_VERSION")))
        .body(http_body_util::Full::new(hyper::body::Bytes::from(form)))
        .context("building the request")?;
    let exchange = async {
        let response = sender.send_request(request).await.context("sending the request")?;
        let status = response.status().as_u16();
        let body = http_body_util::Limited::new(response.into_body(), MAX_RESPONSE_BYTES)
            .collect()
            .await
            .map_err(|e| anyhow!("reading the answer: {e}"))?
            .to_bytes();
        Ok::<_, anyhow::Error>((status, body.to_vec()))
    };
    // The connection is driven on its own task: its errors reach `send_request`, and it ends
    // when the answer is read and the sender dropped (or here, at the latest).
    let driver = tokio::spawn(async move {
        let _ = conn.await;
    });
    let answer = exchange.await;
    driver.abort();
    answer
}

/// Reads a token response: `access_token`, `expires_in` (a number, or a number in a string as
/// some endpoints send), and `token_type`, which must be Bearer when given.
pub fn parse_grant(body: &[u8]) -> Result<Grant> {
    let v: serde_json::Value = serde_json::from_slice(body).context("the answer is not JSON")?;
    let token = v.get("access_token").and_then(|t| t.as_str()).filter(|t| !t.is_empty()).ok_or_else(|| anyhow!("no access_token in the answer"))?;
    if let Some(kind) = v.get("token_type").and_then(|t| t.as_str()) {
        if !kind.eq_ignore_ascii_case("bearer") {
            bail!("token_type is {kind:?}, not Bearer");
        }
    }
    let seconds = match v.get("expires_in") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::Number(n)) => n.as_u64(),
        Some(serde_json::Value::String(s)) => s.trim().parse::<u64>().ok(),
        Some(_) => None,
    };
    let lifetime = match (v.get("expires_in"), seconds) {
        (None | Some(serde_json::Value::Null), _) => DEFAULT_LIFETIME,
        (_, Some(s)) if s > 0 => Duration::from_secs(s),
        _ => bail!("expires_in is not a positive number of seconds"),
    };
    Ok(Grant { access_token: Secret::new(token), lifetime })
}

/// The OAuth error of an endpoint's answer: `error` and the first line of
/// `error_description` (Entra's starts with its AADSTS code), each bounded; empty when absent.
pub fn oauth_error(body: &[u8]) -> (String, String) {
    let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let field = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or_default().lines().next().unwrap_or_default().chars().take(300).collect::<String>();
    (field("error"), field("error_description"))
}

/// Entra ID's AADSTS codes that an admin meets setting up app-only access, with what to fix.
const AADSTS: &[(&str, &str)] = &[
    ("AADSTS7000215", "the client secret is wrong: {secret} must hold the secret's Value (shown once when it was made), not its Secret ID"),
    ("AADSTS7000222", "the client secret has expired: make a new one under the app registration's Certificates & secrets and put it in {secret}"),
    ("AADSTS7000218", "no client secret was sent: {secret} is empty"),
    ("AADSTS700016", "no application with this client ID is in the tenant: check {id} (the app registration's Application (client) ID) and {tenant}"),
    ("AADSTS90002", "the tenant was not found: check {tenant} (the Directory (tenant) ID, or a domain of the tenant)"),
    ("AADSTS900023", "the tenant is not a valid tenant ID or domain: check {tenant}"),
    ("AADSTS70011", "the scope is not valid: for Exchange Online app-only access it is https://outlook.office365.com/.default ({scope})"),
    ("AADSTS1002012", "the scope is not valid for the client-credentials grant: it must end in /.default (https://outlook.office365.com/.default; {scope})"),
    ("AADSTS500011", "the resource of the scope is not in the tenant: check {scope} (https://outlook.office365.com/.default)"),
    ("AADSTS7000112", "the application is disabled in the tenant: enable its enterprise application"),
    ("AADSTS53003", "a Conditional Access policy blocked the token: exclude this app (its service principal) from the policy or allow this server's location"),
    ("AADSTS65001", "admin consent is missing: grant admin consent for the app's API permissions (IMAP.AccessAsApp, SMTP.SendAsApp)"),
];

/// What an error answer of the token endpoint means, in words naming the keys to fix.
pub fn explain_endpoint(c: &OAuthClient, status: u16, error: &str, description: &str) -> String {
    let s = c.section;
    let keys = |t: &str| {
        t.replace("{secret}", &format!("{s}.client_secret_file"))
            .replace("{id}", &format!("{s}.client_id"))
            .replace("{tenant}", &format!("{s}.tenant"))
            .replace("{scope}", &format!("{s}.scope"))
    };
    let code = description.split(|ch: char| !ch.is_ascii_alphanumeric()).find(|w| w.starts_with("AADSTS"));
    let what = if let Some((_, why)) = code.and_then(|code| AADSTS.iter().find(|(c, _)| *c == code)) {
        keys(why)
    } else {
        match error {
            "invalid_client" => keys("the endpoint refused the client: check {id} and the secret in {secret} (wrong, expired, or of another app)"),
            "invalid_scope" => keys("the endpoint refused the scope: check {scope} (Microsoft 365: https://outlook.office365.com/.default; Google: https://mail.google.com/)"),
            "unauthorized_client" => keys("the app may not use the client-credentials grant: allow it for {id} at the identity provider"),
            "unsupported_grant_type" => format!("the endpoint does not offer the client-credentials grant: {s}.token_url must be the OAuth 2.0 token endpoint"),
            "invalid_grant" | "invalid_request" => format!("the endpoint refused the request ({error}): check {s}.token_url, {s}.client_id and {s}.scope"),
            _ if status == 404 || status == 405 => format!("there is no token endpoint at this address: check {s}.token_url"),
            _ if status >= 500 => "the token endpoint is failing; the request is tried again".to_owned(),
            _ => format!("the token endpoint refused the request: check {s}.token_url, {s}.client_id, {s}.client_secret_file and {s}.scope"),
        }
    };
    let said = match (error.is_empty(), description.is_empty()) {
        (true, true) => String::new(),
        (false, true) => format!(" (it said {error})"),
        (true, false) => format!(" (it said: {description})"),
        (false, false) => format!(" (it said {error}: {description})"),
    };
    format!("no OAuth token from {} (HTTP {status}): {what}{said}", c.token_url)
}

/// What an IMAP server's refusal of an issued token (`AUTHENTICATE failed`) means.
pub fn imap_refused(c: &OAuthClient, username: &str) -> String {
    if c.microsoft {
        format!(
            "Exchange Online refused the app's token for {username} (AUTHENTICATE failed). The token was issued, so the client ID and secret are right; \
             what is missing is one of: the application permission IMAP.AccessAsApp (Office 365 Exchange Online) with admin consent granted; \
             the app's service principal registered in Exchange Online (New-ServicePrincipal -AppId <client id> -ObjectId <enterprise application object id>) \
             and given this mailbox (Add-MailboxPermission -Identity {username} -User <service principal id> -AccessRights FullAccess); \
             IMAP enabled for the mailbox (Set-CASMailbox -Identity {username} -ImapEnabled $true); imap.username must be the mailbox's address. \
             Changes can take up to an hour to apply."
        )
    } else {
        format!(
            "the IMAP server refused the app's token for {username} (AUTHENTICATE failed): check that imap.scope grants mail access \
             (Google: https://mail.google.com/, with domain-wide delegation for this account) and that imap.username is an account the app may act for"
        )
    }
}

/// Whether an SMTP error is the server refusing to authenticate us (rather than this message):
/// 530/534/535/538, Exchange Online's 5.7.30 (Basic authentication turned off), 5.7.139 and
/// 5.7.57, and lettre's answer to the XOAUTH2 error challenge a refused token gets.
pub fn smtp_auth_refused(code: Option<u16>, text: &str) -> bool {
    matches!(code, Some(530 | 534 | 535 | 538))
        || ["5.7.30", "5.7.139", "5.7.57", "5.7.3 Authentication unsuccessful", "does not expect a challenge"].iter().any(|w| text.contains(w))
}

/// What an SMTP server's refusal to authenticate means, for `smtp.auth` and the refusal's text.
pub fn smtp_refused(c: Option<&OAuthClient>, text: &str) -> String {
    if text.contains("5.7.30") {
        return "Exchange Online refuses passwords for SMTP submission (5.7.30, Basic authentication is not supported): set smtp.auth = \"oauth2\" \
                with the app's tenant, client_id and client_secret_file"
            .to_owned();
    }
    match c {
        Some(c) if c.microsoft => "Exchange Online refused the app's token for SMTP. The token was issued, so the client ID and secret are right; \
             what is missing is one of: the application permission SMTP.SendAsApp (Office 365 Exchange Online) with admin consent granted; \
             the app's service principal registered in Exchange Online (New-ServicePrincipal) and given the mailbox (Add-MailboxPermission -AccessRights FullAccess, \
             or Add-RecipientPermission -AccessRights SendAs); SMTP AUTH allowed for the mailbox (Set-CASMailbox -SmtpClientAuthenticationDisabled $false) \
             and not turned off for the tenant (Set-TransportConfig -SmtpClientAuthenticationDisabled $false); smtp.username must be the mailbox's address"
            .to_owned(),
        Some(_) => "the submission server refused the app's token: check that smtp.scope grants sending (Google: https://mail.google.com/) and that smtp.username is an account the app may act for".to_owned(),
        None => "the submission server refused our credentials: check smtp.username and the password or token".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// An endpoint that grants `token-N` with a fixed lifetime, counting its fetches.
    struct Counting {
        lifetime: Duration,
        fetches: Arc<AtomicU64>,
        fail: Arc<std::sync::atomic::AtomicBool>,
    }

    impl Endpoint for Counting {
        fn fetch(&self) -> BoxFuture<'_, Result<Grant>> {
            Box::pin(async move {
                if self.fail.load(Ordering::SeqCst) {
                    bail!("endpoint down");
                }
                let n = self.fetches.fetch_add(1, Ordering::SeqCst) + 1;
                Ok(Grant { access_token: Secret::new(format!("token-{n}")), lifetime: self.lifetime })
            })
        }
    }

    struct Harness {
        source: TokenSource,
        clock: Arc<Mutex<Instant>>,
        fetches: Arc<AtomicU64>,
        fail: Arc<std::sync::atomic::AtomicBool>,
    }

    impl Harness {
        fn new(lifetime: Duration) -> Harness {
            let clock = Arc::new(Mutex::new(Instant::now()));
            let fetches = Arc::new(AtomicU64::new(0));
            let fail = Arc::new(std::sync::atomic::AtomicBool::new(false));
            let c = clock.clone();
            let now: Now = Arc::new(move || *c.lock().unwrap());
            let source = TokenSource::with(Box::new(Counting { lifetime, fetches: fetches.clone(), fail: fail.clone() }), now, "imap");
            Harness { source, clock, fetches, fail }
        }

        fn advance(&self, d: Duration) {
            *self.clock.lock().unwrap() += d;
        }
    }

    #[tokio::test]
    async fn a_token_is_kept_until_80_percent_of_its_lifetime_then_fetched_again() {
        let h = Harness::new(Duration::from_secs(100));
        let first = h.source.token().await.unwrap();
        assert_eq!((first.secret.expose(), first.generation), ("token-1", 1));
        h.advance(Duration::from_secs(79));
        assert_eq!(h.source.token().await.unwrap().generation, 1, "at 79 % the token in hand is kept");
        assert!(!h.source.due().await);
        assert_eq!(h.fetches.load(Ordering::SeqCst), 1);
        h.advance(Duration::from_secs(1));
        assert!(h.source.due().await, "due at 80 %");
        let second = h.source.token().await.unwrap();
        assert_eq!((second.secret.expose(), second.generation), ("token-2", 2));
        assert_eq!(second.refresh_at, first.refresh_at + Duration::from_secs(80), "the next refresh counts from the new fetch");
        assert_eq!(second.expires_at - second.refresh_at, Duration::from_secs(20));
        assert_eq!(h.fetches.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_refused_token_is_replaced_at_once_and_only_once() {
        let h = Harness::new(Duration::from_secs(3600));
        let first = h.source.token().await.unwrap();
        h.advance(Duration::from_secs(5));
        h.source.invalidate(first.generation).await;
        assert!(h.source.due().await);
        let second = h.source.token().await.unwrap();
        assert_eq!(second.generation, 2, "fetched at once, long before 80 %");
        // A second user that saw the first token refused does not throw away the new one.
        h.source.invalidate(first.generation).await;
        assert_eq!(h.source.token().await.unwrap().generation, 2);
        assert_eq!(h.fetches.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_failed_refresh_uses_the_token_in_hand_until_it_expires_and_asks_again_after_a_pause() {
        let h = Harness::new(Duration::from_secs(200));
        h.fail.store(true, Ordering::SeqCst);
        assert!(h.source.token().await.is_err(), "no token in hand: the failure is the caller's");
        h.fail.store(false, Ordering::SeqCst);
        assert_eq!(h.source.token().await.unwrap().generation, 1);
        h.advance(Duration::from_secs(160));
        h.fail.store(true, Ordering::SeqCst);
        let kept = h.source.token().await.unwrap();
        assert_eq!(kept.generation, 1, "due, the refresh failed, and 40 s of life are left: the token in hand is used");
        assert!(!h.source.due().await, "not asked again at once");
        assert_eq!(h.source.refresh_in().await, RETRY_PAUSE);
        h.advance(RETRY_PAUSE);
        assert_eq!(h.source.token().await.unwrap().generation, 1, "asked again after the pause, failed again, still in its life");
        assert_eq!(h.source.refresh_in().await, Duration::from_secs(10), "the next try no later than its expiry");
        h.advance(Duration::from_secs(10));
        assert!(h.source.token().await.is_err(), "expired and no new one: the failure is the caller's");
        h.fail.store(false, Ordering::SeqCst);
        assert_eq!(h.source.token().await.unwrap().generation, 2);
    }

    #[tokio::test]
    async fn concurrent_callers_share_one_fetch() {
        let h = Harness::new(Duration::from_secs(20));
        let (a, b, c) = tokio::join!(h.source.token(), h.source.token(), h.source.token());
        assert_eq!([a.unwrap().generation, b.unwrap().generation, c.unwrap().generation], [1, 1, 1]);
        assert_eq!(h.fetches.load(Ordering::SeqCst), 1);
    }

    /// A writer into a shared buffer, for the log lines of one test.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn the_token_never_reaches_the_log() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt().with_max_level(tracing::Level::TRACE).with_writer(move || writer.clone()).finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let h = Harness::new(Duration::from_secs(100));
        let first = h.source.token().await.unwrap();
        h.source.invalidate(first.generation).await;
        h.source.token().await.unwrap();
        h.advance(Duration::from_secs(90));
        h.fail.store(true, Ordering::SeqCst);
        h.source.token().await.unwrap();
        let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert!(log.contains("OAuth access token fetched") && log.contains("dropped") && log.contains("could not be fetched"), "{log}");
        assert!(!log.contains("token-1") && !log.contains("token-2"), "{log}");
    }

    #[test]
    fn grants_are_read_with_their_lifetime_and_secrets_never_print() {
        let g = parse_grant(br#"{"token_type":"Bearer","expires_in":3599,"access_token":"eyJ0"}"#).unwrap();
        assert_eq!(g.lifetime, Duration::from_secs(3599));
        assert_eq!(g.access_token.expose(), "eyJ0");
        assert!(!format!("{g:?}").contains("eyJ0"), "{g:?}");
        assert_eq!(parse_grant(br#"{"access_token":"t","expires_in":"20"}"#).unwrap().lifetime, Duration::from_secs(20));
        assert_eq!(parse_grant(br#"{"access_token":"t"}"#).unwrap().lifetime, DEFAULT_LIFETIME);
        assert!(parse_grant(br#"{"access_token":"t","token_type":"mac"}"#).is_err());
        assert!(parse_grant(br#"{"access_token":"t","expires_in":0}"#).is_err());
        assert!(parse_grant(br#"{"expires_in":20}"#).is_err());
        assert!(parse_grant(b"<html>").is_err());
    }

    fn client(microsoft: bool) -> OAuthClient {
        OAuthClient {
            section: "imap",
            token_url: "https://login.microsoftonline.com/contoso.example/oauth2/v2.0/token".into(),
            microsoft,
            client_id: "app".into(),
            client_secret_file: "imap-secret".into(),
            scope: crate::config::MICROSOFT_SCOPE.into(),
        }
    }

    #[test]
    fn endpoint_errors_name_what_to_fix() {
        let c = client(true);
        let body = br#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided. Ensure the secret being sent...\r\nTrace ID: x"}"#;
        let (e, d) = oauth_error(body);
        assert_eq!(e, "invalid_client");
        assert!(!d.contains("Trace ID"), "the first line only: {d}");
        let text = explain_endpoint(&c, 401, &e, &d);
        assert!(text.contains("imap.client_secret_file must hold the secret's Value"), "{text}");
        let text = explain_endpoint(&c, 401, "invalid_client", "AADSTS7000222: The provided client secret keys for app are expired.");
        assert!(text.contains("has expired"), "{text}");
        let text = explain_endpoint(&c, 400, "unauthorized_client", "AADSTS700016: Application with identifier 'app' was not found in the directory");
        assert!(text.contains("check imap.client_id") && text.contains("imap.tenant"), "{text}");
        let text = explain_endpoint(&c, 400, "invalid_scope", "AADSTS1002012: The provided value for scope is not valid.");
        assert!(text.contains("/.default"), "{text}");
        let text = explain_endpoint(&client(false), 401, "invalid_client", "");
        assert!(text.contains("check imap.client_id and the secret in imap.client_secret_file"), "{text}");
        assert!(explain_endpoint(&client(false), 404, "", "").contains("check imap.token_url"));
        assert!(explain_endpoint(&client(false), 503, "", "").contains("tried again"));
    }

    #[test]
    fn mail_server_refusals_name_the_permission_and_the_mailbox_setting() {
        let imap = imap_refused(&client(true), "marac@example.test");
        assert!(imap.contains("IMAP.AccessAsApp") && imap.contains("Add-MailboxPermission") && imap.contains("New-ServicePrincipal"), "{imap}");
        let smtp = smtp_refused(Some(&client(true)), "535 5.7.3 Authentication unsuccessful");
        assert!(smtp.contains("SMTP.SendAsApp") && smtp.contains("SmtpClientAuthenticationDisabled"), "{smtp}");
        assert!(smtp_refused(None, "550 5.7.30 Basic authentication is not supported for Client Submission").contains("auth = \"oauth2\""));
        assert!(smtp_auth_refused(Some(550), "permanent error (550): 5.7.30 Basic authentication is not supported for Client Submission"));
        assert!(smtp_auth_refused(None, "client error: This mechanism does not expect a challenge"));
        assert!(smtp_auth_refused(Some(535), ""));
        assert!(!smtp_auth_refused(Some(550), "5.1.1 unknown user"));
    }
}
