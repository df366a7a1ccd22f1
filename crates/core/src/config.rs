//! Configuration: what the admin wrote (TOML, every key overridable by a `MARAC__SECTION__KEY`
//! environment variable), then the validated objects built from it. Validation happens in two
//! steps, as ripgrep does with its arguments: serde with `deny_unknown_fields` for the shape, then
//! [`ConfigFile::build`] for meaning. Every error names the exact key.

pub use crate::agenda::{AgendaConfig, AgendaPlan, Officer};
use crate::limits::Limits;
use crate::recognise::referral::{Synonyms, FIELDS};
use crate::schedule::{Schedule, ScheduleConfig};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

pub mod areas;
pub use areas::{Area, RouteConfig, DEFAULT_AREA};

/// What the admin wrote.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// The MARAC area's name, used in replies.
    pub area: String,
    /// Where the SQLite database lives when `--db` is not given.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    #[serde(default)]
    pub threshold: ThresholdConfig,
    pub senders: SendersConfig,
    pub schedule: ScheduleConfig,
    pub replies: RepliesConfig,
    #[serde(default)]
    pub case: CaseConfig,
    /// Extra label synonyms, added to the built-in ones.
    #[serde(default)]
    pub synonyms: SynonymsConfig,
    #[serde(default)]
    pub folders: Folders,
    /// The agenda sent to the agencies' designated officers before each meeting.
    #[serde(default)]
    pub agenda: AgendaConfig,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub import: ImportConfig,
    /// The MARAC mailbox (`run`).
    #[serde(default)]
    pub imap: Option<ImapConfig>,
    /// The submission server replies are sent through (`run`).
    #[serde(default)]
    pub smtp: Option<SmtpConfig>,
    /// The coordinators' web queue (`serve`; also started by `run` when `listen` is set).
    #[serde(default)]
    pub web: Option<WebConfig>,
    /// The keys of encryption at rest.
    #[serde(default)]
    pub storage: StorageConfig,
    /// How long each kind of record is kept (`purge`, and daily in `run`).
    #[serde(default)]
    pub retention: RetentionConfig,
    /// A copy of each audit record for a SIEM (`store::audit_copy`).
    #[serde(default)]
    pub audit: AuditConfig,
    /// The operators' endpoints: `/metrics`, `/healthz`, `/readyz` (`run` and `serve`).
    #[serde(default)]
    pub metrics: MetricsConfig,
    /// The deployment's MARACs, when it serves more than one (`[areas.ID]`, see
    /// [`areas`]): each laid over the top level. None: the file is one area.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub areas: BTreeMap<String, toml::Table>,
}

/// The two keys of encryption at rest, each a file of 64 hexadecimal characters: a relative path
/// is a systemd credential in `$CREDENTIALS_DIRECTORY` (`LoadCredentialEncrypted=`). Keys are
/// never written in the configuration. Both or neither: with neither, the keys are generated
/// beside the database on first use (mode 0600), which is for trying the product out only.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    /// The SQLCipher key of the database file.
    #[serde(default)]
    pub db_key_file: Option<PathBuf>,
    /// The key that seals each message kept whole (as received, and each reply) inside it.
    #[serde(default)]
    pub data_key_file: Option<PathBuf>,
    /// The database when `--db` is not given: `sqlite://PATH` or `postgres://USER@HOST:PORT/DB`
    /// (the password never here: `PGPASSWORD`, or a `PGPASSFILE` such as a systemd credential).
    /// None: a SQLite file in `data_dir`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
}

/// Retention periods, in days, per kind (see `store::retention` for exactly what each removes).
/// The defaults are conservative: a MARAC keeps its case records a long time, and there is no
/// national period (each partnership sets its own in its information-sharing agreement).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionConfig {
    /// The email as received of an accepted referral, after its case was heard (its meeting
    /// date). What was read from it stays with the case. Default 365.
    pub accepted_sources_days: u32,
    /// The content of a rejected message, after its last decision. Default 90.
    pub rejected_days: u32,
    /// The content of an ignored message (auto-reply, bounce, duplicate, list mail). Default 90.
    pub ignored_days: u32,
    /// The content of a quarantined message (sender not proven). Default 90.
    pub quarantined_days: u32,
    /// The text of a sent, failed or refused reply or notice. Default 90.
    pub outbox_days: u32,
    /// A closed case (with its referrals, its messages' content and a person left with no
    /// case), after its last referral. At least `threshold.repeat_window_days`. Default 2190 (6
    /// years).
    pub closed_cases_days: u32,
    /// Audit records. Default 2190 (6 years).
    pub audit_days: u32,
    /// Sign-in attempts, ended sessions and abandoned enrolments. Default 90.
    pub sign_in_days: u32,
    /// Whether `run` purges once a day (shortly after it starts, then every 24 hours).
    /// Default true.
    pub daily: bool,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig {
            accepted_sources_days: 365,
            rejected_days: 90,
            ignored_days: 90,
            quarantined_days: 90,
            outbox_days: 90,
            closed_cases_days: 6 * 365,
            audit_days: 6 * 365,
            sign_in_days: 90,
            daily: true,
        }
    }
}

impl RetentionConfig {
    fn periods(&self) -> [(&'static str, u32); 8] {
        [
            ("accepted_sources_days", self.accepted_sources_days),
            ("rejected_days", self.rejected_days),
            ("ignored_days", self.ignored_days),
            ("quarantined_days", self.quarantined_days),
            ("outbox_days", self.outbox_days),
            ("closed_cases_days", self.closed_cases_days),
            ("audit_days", self.audit_days),
            ("sign_in_days", self.sign_in_days),
        ]
    }
}

/// Where each audit record is also written, once its transaction has committed: nowhere, the
/// local syslog socket (RFC 5424, facility authpriv) or journald's native socket. The copy holds
/// the record's fields and its chain hash, so whoever keeps it holds the chain's tail.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AuditConfig {
    /// `none` (default), `syslog` or `journald`.
    pub copy_to: AuditCopyTo,
    /// The syslog daemon's datagram socket. Default `/dev/log`.
    pub syslog_socket: PathBuf,
    /// journald's native-protocol socket. Default `/run/systemd/journal/socket`.
    pub journald_socket: PathBuf,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum AuditCopyTo {
    None,
    Syslog,
    Journald,
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig { copy_to: AuditCopyTo::None, syslog_socket: PathBuf::from("/dev/log"), journald_socket: PathBuf::from("/run/systemd/journal/socket") }
    }
}

/// The operators' listener (`[metrics]`): `/metrics` in the Prometheus text format, `/healthz`
/// and `/readyz`, unauthenticated plain HTTP served by `run` and `serve`. What it shows carries
/// no personal data (counts, area ids, outcome names, problem kinds), but it says how busy the
/// service is: keep it on loopback, or behind a firewall that lets only the scraper in.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Whether the listener runs at all (default true).
    pub enabled: bool,
    /// `ADDRESS:PORT` (default `127.0.0.1:9184`; port 0 picks a free one, logged).
    pub listen: String,
}

/// The operators' listener's default address.
pub const METRICS_LISTEN: &str = "127.0.0.1:9184";

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig { enabled: true, listen: METRICS_LISTEN.to_owned() }
    }
}

impl MetricsConfig {
    /// The address to listen on, or None when the listener is turned off.
    pub fn address(&self) -> Result<Option<std::net::SocketAddr>, ConfigError> {
        if !self.enabled {
            return Ok(None);
        }
        let addr = self.listen.trim().parse().map_err(|_| err("metrics.listen", format!("{:?} is not ADDRESS:PORT (e.g. {METRICS_LISTEN})", self.listen)))?;
        Ok(Some(addr))
    }
}

/// The web queue's listener. Plain HTTP is allowed only on a loopback address (behind a reverse
/// proxy on the same machine); anywhere else a certificate is required.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WebConfig {
    /// `ADDRESS:PORT` to listen on; unset: `run` starts no web server and `serve` needs `--listen`.
    #[serde(default)]
    pub listen: Option<String>,
    /// PEM certificate chain and private key; both or neither.
    #[serde(default)]
    pub tls_cert_file: Option<PathBuf>,
    #[serde(default)]
    pub tls_key_file: Option<PathBuf>,
    /// Whether the client address is read from the last `X-Forwarded-For` entry (set by a reverse
    /// proxy in front). Required: the choice is the admin's, never a default.
    pub trust_forwarded_for: bool,
    /// The addresses of the reverse proxies whose `X-Forwarded-For` is read. Empty: loopback peers
    /// only, and then `trust_forwarded_for` needs a loopback `listen`.
    #[serde(default)]
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Connections served at once; one more is closed as soon as it is accepted.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Longest a request may take from its headers to its answer, its body included (a client
    /// dripping a form byte by byte is cut off): 408.
    #[serde(default = "default_request_timeout_secs")]
    pub request_timeout_secs: u64,
    /// Longest wait for a request's headers, and for the next request on a kept-alive connection.
    #[serde(default = "default_idle_timeout_secs")]
    pub idle_timeout_secs: u64,
    /// How the meeting agenda (XLSX, CSV) names victims: `initials` (default) or `full`.
    #[serde(default)]
    pub agenda_names: AgendaNames,
    /// How long a break-glass access to a restricted case lasts, in seconds (default an hour).
    #[serde(default = "default_break_glass_secs")]
    pub break_glass_secs: u64,
}

fn default_break_glass_secs() -> u64 {
    3600
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AgendaNames {
    /// "R. H." for Rebecca Hollins: the agenda leaves the building.
    #[default]
    Initials,
    Full,
}

fn default_max_connections() -> usize {
    64
}

fn default_request_timeout_secs() -> u64 {
    30
}

fn default_idle_timeout_secs() -> u64 {
    30
}

impl WebConfig {
    pub fn tls(&self) -> bool {
        self.tls_cert_file.is_some()
    }

    /// The edge's bounds, with the defaults where there is no `[web]`.
    /// How long a break-glass access lasts ([`WebConfig::break_glass_secs`]).
    pub fn break_glass(web: Option<&WebConfig>) -> std::time::Duration {
        std::time::Duration::from_secs(web.map_or_else(default_break_glass_secs, |w| w.break_glass_secs).max(1))
    }

    pub fn edge(web: Option<&WebConfig>) -> WebEdge {
        WebEdge {
            max_connections: web.map_or_else(default_max_connections, |w| w.max_connections),
            request_timeout: std::time::Duration::from_secs(web.map_or_else(default_request_timeout_secs, |w| w.request_timeout_secs)),
            idle_timeout: std::time::Duration::from_secs(web.map_or_else(default_idle_timeout_secs, |w| w.idle_timeout_secs)),
        }
    }
}

/// The web edge's bounds (see [`WebConfig`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebEdge {
    pub max_connections: usize,
    pub request_timeout: std::time::Duration,
    pub idle_timeout: std::time::Duration,
}

/// Checks that `X-Forwarded-For` is trusted only from a proxy that can be named: on a loopback
/// listener, or from the configured `trusted_proxies`. `key` names the listen address.
pub fn check_forwarded_for(key: &str, listen: std::net::SocketAddr, trust_forwarded_for: bool, trusted_proxies: &[std::net::IpAddr]) -> Result<(), ConfigError> {
    if trust_forwarded_for && trusted_proxies.is_empty() && !listen.ip().is_loopback() {
        return Err(err(
            "web.trusted_proxies",
            format!("trust_forwarded_for on a listener that is not loopback ({key} {listen}) needs the reverse proxy's address in web.trusted_proxies: anyone else could forge X-Forwarded-For"),
        ));
    }
    Ok(())
}

/// Checks a web listen address: `key` names it in the error. Plain HTTP only on loopback.
pub fn check_listen(key: &str, listen: &str, tls: bool) -> Result<std::net::SocketAddr, ConfigError> {
    let addr: std::net::SocketAddr = listen.trim().parse().map_err(|_| err(key, format!("{listen:?} is not ADDRESS:PORT (e.g. 127.0.0.1:8080)")))?;
    if !tls && !addr.ip().is_loopback() {
        return Err(err(key, "plain HTTP is refused off loopback: set web.tls_cert_file and web.tls_key_file, or listen on 127.0.0.1 behind a reverse proxy"));
    }
    Ok(addr)
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Tls {
    /// TLS from the first byte (IMAPS 993, SMTPS 465).
    Implicit,
    /// Plain connection upgraded with STARTTLS before authenticating (IMAP 143, submission 587).
    Starttls,
    /// No TLS: refused unless `allow_plaintext_on_loopback` is set and the host is a loopback address.
    None,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Auth {
    /// LOGIN (IMAP) or AUTH PLAIN/LOGIN (SMTP) with a password from `password_file`.
    Password,
    /// OAuth2 bearer token (Microsoft 365, Google) from `token_file` or `token_command`.
    Xoauth2,
    /// SASL XOAUTH2 with a token the service fetches itself from an OAuth 2.0 token endpoint
    /// (client credentials: `token_url` or `tenant`, `client_id`, `client_secret_file`, `scope`).
    Oauth2,
}

fn default_auth() -> Auth {
    Auth::Password
}

/// Connection and credentials shared by the IMAP and SMTP sections. Secrets are never in the
/// TOML: only the path of a file holding them (relative paths are read from systemd's
/// `$CREDENTIALS_DIRECTORY` when it is set), or a command that prints a token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ImapConfig {
    pub host: String,
    pub port: u16,
    pub tls: Tls,
    pub username: String,
    #[serde(default = "default_auth")]
    pub auth: Auth,
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    #[serde(default)]
    pub token_file: Option<PathBuf>,
    #[serde(default)]
    pub token_command: Option<String>,
    /// `auth = "oauth2"`: the token endpoint (`https://`; `http://` only to a loopback host
    /// with `allow_plaintext_on_loopback`). Or `tenant` instead, for Microsoft 365.
    #[serde(default)]
    pub token_url: Option<String>,
    /// `auth = "oauth2"` with Microsoft Entra: the tenant (its ID or a domain of it); the token
    /// endpoint is then [`MICROSOFT_TOKEN_URL`] and the default scope [`MICROSOFT_SCOPE`].
    #[serde(default)]
    pub tenant: Option<String>,
    /// `auth = "oauth2"`: the application (client) ID.
    #[serde(default)]
    pub client_id: Option<String>,
    /// `auth = "oauth2"`: the file holding the client secret (relative: `$CREDENTIALS_DIRECTORY`).
    #[serde(default)]
    pub client_secret_file: Option<PathBuf>,
    /// `auth = "oauth2"`: the scope asked for (default with `tenant`: [`MICROSOFT_SCOPE`]).
    #[serde(default)]
    pub scope: Option<String>,
    /// A CA certificate (PEM) trusted in addition to the system roots.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// The folder referrals arrive in.
    #[serde(default = "default_folder")]
    pub folder: String,
    #[serde(default)]
    pub allow_plaintext_on_loopback: bool,
    /// How long one IDLE lasts before it is renewed (well under the 29 minutes servers allow).
    #[serde(default = "default_idle_secs")]
    pub idle_secs: u64,
    /// Polling interval when the server has no IDLE.
    #[serde(default = "default_poll_secs")]
    pub poll_secs: u64,
    /// Messages fetched per batch.
    #[serde(default = "default_batch")]
    pub batch: u32,
    /// Longest wait for one server response before the connection is dropped and retried.
    #[serde(default = "default_command_secs")]
    pub command_timeout_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub tls: Tls,
    pub username: String,
    #[serde(default = "default_auth")]
    pub auth: Auth,
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    #[serde(default)]
    pub token_file: Option<PathBuf>,
    #[serde(default)]
    pub token_command: Option<String>,
    /// `auth = "oauth2"`: the token endpoint (`https://`; `http://` only to a loopback host
    /// with `allow_plaintext_on_loopback`). Or `tenant` instead, for Microsoft 365.
    #[serde(default)]
    pub token_url: Option<String>,
    /// `auth = "oauth2"` with Microsoft Entra: the tenant (its ID or a domain of it); the token
    /// endpoint is then [`MICROSOFT_TOKEN_URL`] and the default scope [`MICROSOFT_SCOPE`].
    #[serde(default)]
    pub tenant: Option<String>,
    /// `auth = "oauth2"`: the application (client) ID.
    #[serde(default)]
    pub client_id: Option<String>,
    /// `auth = "oauth2"`: the file holding the client secret (relative: `$CREDENTIALS_DIRECTORY`).
    #[serde(default)]
    pub client_secret_file: Option<PathBuf>,
    /// `auth = "oauth2"`: the scope asked for (default with `tenant`: [`MICROSOFT_SCOPE`]).
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// The envelope sender of replies (default: `replies.from`).
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub allow_plaintext_on_loopback: bool,
    /// Most replies to one recipient per hour; more wait (loop safety).
    #[serde(default = "default_per_hour")]
    pub max_replies_per_recipient_per_hour: u32,
    /// When set, a short notice (reference and reason category, no personal data) goes here for
    /// every review or quarantine item.
    #[serde(default)]
    pub coordinators_notice_to: Option<String>,
    #[serde(default = "default_command_secs")]
    pub command_timeout_secs: u64,
    /// The wait before a reply's first retry after the server deferred it or could not be
    /// reached, doubled per attempt up to `retry_max_secs` (defaults 60 and 3600).
    #[serde(default = "default_retry_first_secs")]
    pub retry_first_secs: u64,
    #[serde(default = "default_retry_max_secs")]
    pub retry_max_secs: u64,
}

fn default_retry_first_secs() -> u64 {
    60
}
fn default_retry_max_secs() -> u64 {
    60 * 60
}

fn default_folder() -> String {
    "INBOX".into()
}
fn default_idle_secs() -> u64 {
    10 * 60
}
fn default_poll_secs() -> u64 {
    30
}
fn default_batch() -> u32 {
    50
}
fn default_command_secs() -> u64 {
    30
}
fn default_per_hour() -> u32 {
    20
}

/// Microsoft Entra's token endpoint, `{tenant}` replaced by `tenant`.
pub const MICROSOFT_TOKEN_URL: &str = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token";
/// The scope of app-only IMAP and SMTP access to Exchange Online.
pub const MICROSOFT_SCOPE: &str = "https://outlook.office365.com/.default";
/// Google's scope for IMAP and SMTP (documented; Google's own token endpoint wants a signed
/// service-account assertion, not a client secret).
pub const GOOGLE_SCOPE: &str = "https://mail.google.com/";

/// What the IMAP and SMTP sections have in common, borrowed from either for the checks.
pub struct Connection<'a> {
    /// `imap` or `smtp`: names the keys in errors.
    pub section: &'static str,
    pub host: &'a str,
    pub tls: Tls,
    pub allow_plaintext_on_loopback: bool,
    pub auth: Auth,
    pub password_file: &'a Option<PathBuf>,
    pub token_file: &'a Option<PathBuf>,
    pub token_command: &'a Option<String>,
    pub token_url: &'a Option<String>,
    pub tenant: &'a Option<String>,
    pub client_id: &'a Option<String>,
    pub client_secret_file: &'a Option<PathBuf>,
    pub scope: &'a Option<String>,
}

macro_rules! connection_of {
    ($t:ty, $section:literal) => {
        impl $t {
            /// The connection keys, for the checks and for [`OAuthClient::of`].
            pub fn connection(&self) -> Connection<'_> {
                Connection {
                    section: $section,
                    host: &self.host,
                    tls: self.tls,
                    allow_plaintext_on_loopback: self.allow_plaintext_on_loopback,
                    auth: self.auth,
                    password_file: &self.password_file,
                    token_file: &self.token_file,
                    token_command: &self.token_command,
                    token_url: &self.token_url,
                    tenant: &self.tenant,
                    client_id: &self.client_id,
                    client_secret_file: &self.client_secret_file,
                    scope: &self.scope,
                }
            }

            /// The OAuth 2.0 client of `auth = "oauth2"`; `None` with any other `auth`.
            pub fn oauth(&self) -> Result<Option<OAuthClient>, ConfigError> {
                OAuthClient::of(&self.connection())
            }
        }
    };
}
connection_of!(ImapConfig, "imap");
connection_of!(SmtpConfig, "smtp");

/// An OAuth 2.0 client-credentials client (`auth = "oauth2"`), built and checked: the token
/// endpoint is HTTPS (or HTTP to a loopback host, when plaintext on loopback is allowed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthClient {
    /// `imap` or `smtp`: names the keys in errors.
    pub section: &'static str,
    pub token_url: String,
    /// Whether `token_url` came from `tenant` (Microsoft Entra): errors then speak of Entra.
    pub microsoft: bool,
    pub client_id: String,
    pub client_secret_file: PathBuf,
    pub scope: String,
}

impl OAuthClient {
    /// Builds the client from the section's keys; `None` unless `auth = "oauth2"`.
    pub fn of(c: &Connection<'_>) -> Result<Option<OAuthClient>, ConfigError> {
        let s = c.section;
        if c.auth != Auth::Oauth2 {
            for (key, set) in [("token_url", c.token_url.is_some()), ("tenant", c.tenant.is_some()), ("client_id", c.client_id.is_some()), ("client_secret_file", c.client_secret_file.is_some()), ("scope", c.scope.is_some())] {
                if set {
                    return Err(err(format!("{s}.{key}"), "is used only with auth = \"oauth2\"; set auth = \"oauth2\" or remove it"));
                }
            }
            return Ok(None);
        }
        for (key, set) in [("password_file", c.password_file.is_some()), ("token_file", c.token_file.is_some()), ("token_command", c.token_command.is_some())] {
            if set {
                return Err(err(format!("{s}.{key}"), "is not used with auth = \"oauth2\", which fetches its own tokens; remove it (or use auth = \"xoauth2\" to keep a token from a file or a command)"));
            }
        }
        let client_id = match c.client_id.as_deref().map(str::trim) {
            Some(id) if !id.is_empty() => id.to_owned(),
            _ => return Err(err(format!("{s}.client_id"), "is required with auth = \"oauth2\": the application (client) ID of the app registration")),
        };
        let Some(client_secret_file) = c.client_secret_file.clone() else {
            return Err(err(format!("{s}.client_secret_file"), "is required with auth = \"oauth2\": the file holding the client secret (never the secret itself)"));
        };
        let (token_url, microsoft) = match (c.token_url.as_deref().map(str::trim), c.tenant.as_deref().map(str::trim)) {
            (Some(_), Some(_)) => return Err(err(format!("{s}.tenant"), "give token_url or tenant, not both")),
            (None, None) => return Err(err(format!("{s}.token_url"), "auth = \"oauth2\" needs token_url (the token endpoint), or tenant for Microsoft 365")),
            (None, Some(t)) => {
                if t.is_empty() || !t.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '.') {
                    return Err(err(format!("{s}.tenant"), "must be the tenant's ID (a GUID) or one of its domains (contoso.onmicrosoft.com)"));
                }
                (MICROSOFT_TOKEN_URL.replace("{tenant}", t), true)
            }
            (Some(url), None) => {
                check_token_url(s, url, c.allow_plaintext_on_loopback)?;
                (url.to_owned(), false)
            }
        };
        let scope = match (c.scope.as_deref().map(str::trim), microsoft) {
            (Some(sc), _) if !sc.is_empty() => sc.to_owned(),
            (Some(_), _) => return Err(err(format!("{s}.scope"), "must not be empty")),
            (None, true) => MICROSOFT_SCOPE.to_owned(),
            (None, false) => return Err(err(format!("{s}.scope"), format!("is required with token_url: the scope to ask for (Google: {GOOGLE_SCOPE})"))),
        };
        Ok(Some(OAuthClient { section: s, token_url, microsoft, client_id, client_secret_file, scope }))
    }
}

/// The host of an `http://` or `https://` URL (no brackets around an IPv6 address).
pub fn url_host(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"))?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = authority.strip_prefix('[') { v6.split(']').next()? } else { authority.split(':').next()? };
    (!host.is_empty()).then_some(host)
}

fn is_loopback_host(host: &str) -> bool {
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn check_token_url(section: &str, url: &str, allow_plaintext_on_loopback: bool) -> Result<(), ConfigError> {
    let key = format!("{section}.token_url");
    let Some(host) = url_host(url) else { return Err(err(key, format!("{url:?} is not an https:// URL"))) };
    if url.starts_with("http://") && !(allow_plaintext_on_loopback && is_loopback_host(host)) {
        return Err(err(key, "must be https://: the client secret and the token would cross the network in clear (http:// is allowed only to a loopback host with allow_plaintext_on_loopback = true)"));
    }
    Ok(())
}

/// Checks what the IMAP and SMTP sections have in common.
fn check_connection(c: &Connection<'_>) -> Result<(), ConfigError> {
    let section = c.section;
    if c.host.trim().is_empty() {
        return Err(err(format!("{section}.host"), "must not be empty"));
    }
    if c.tls == Tls::None {
        if !(c.allow_plaintext_on_loopback && is_loopback_host(c.host)) {
            return Err(err(
                format!("{section}.tls"),
                "plaintext is refused: use \"implicit\" or \"starttls\" (plaintext is allowed only with allow_plaintext_on_loopback = true and a loopback host)",
            ));
        }
    }
    OAuthClient::of(c)?;
    match c.auth {
        Auth::Password if c.password_file.is_none() => Err(err(format!("{section}.password_file"), "required with auth = \"password\"; passwords are never written in the configuration")),
        Auth::Xoauth2 if c.token_file.is_none() && c.token_command.is_none() => {
            Err(err(format!("{section}.token_file"), "auth = \"xoauth2\" needs token_file or token_command"))
        }
        _ => Ok(()),
    }
}

fn default_data_dir() -> PathBuf {
    PathBuf::from("/var/lib/marac-intake")
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Criterion {
    VisibleHighRisk,
    ProfessionalJudgement,
    PotentialEscalation,
    Repeat,
}

impl Criterion {
    pub const ALL: [Criterion; 4] =
        [Criterion::VisibleHighRisk, Criterion::ProfessionalJudgement, Criterion::PotentialEscalation, Criterion::Repeat];

    pub fn as_str(self) -> &'static str {
        match self {
            Criterion::VisibleHighRisk => "visible_high_risk",
            Criterion::ProfessionalJudgement => "professional_judgement",
            Criterion::PotentialEscalation => "potential_escalation",
            Criterion::Repeat => "repeat",
        }
    }
}

impl std::str::FromStr for Criterion {
    type Err = crate::text::UnknownSpelling;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        crate::text::from_spelling(&Self::ALL, Self::as_str, "criterion", s)
    }
}

impl std::fmt::Display for Criterion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DashRequired {
    /// Every referral must carry a DASH.
    Always,
    /// Only when visible high risk is claimed; professional judgement or escalation may come without.
    WhenVisibleHighRisk,
}

/// Which documents a referral must carry (`threshold.forms`), beside what `dash_required`
/// asks of the DASH.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Forms {
    /// No rule of its own: the DASH is needed as `dash_required` says, and a referral in which
    /// no referral form was recognised goes to a coordinator (its victim and its reasons for
    /// referral cannot be read).
    #[default]
    Any,
    /// The MARAC referral form and a DASH with every referral. A DASH missing where no criterion
    /// is met is a rejection asking for it; where one is met (professional judgement,
    /// escalation, a repeat) the referral is accepted and the coordinator told to ask for the
    /// DASH, as when visible high risk is claimed without one (`dash_required = "always"` still
    /// rejects those). A missing referral form is asked for in the holding reply of a review,
    /// never in an automatic rejection.
    Both,
    /// A completed DASH on its own, with no referral form, is enough when it meets the
    /// threshold: accepted, for a coordinator to add the victim's details.
    DashAlone,
}

/// Where the repeat window is counted from (`threshold.repeat_from`).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RepeatFrom {
    /// The victim's last referral (SafeLives' definition).
    #[default]
    LastReferral,
    /// The MARAC at which the victim's last case was heard.
    LastMeeting,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ThresholdConfig {
    /// Yes answers on the DASH for visible high risk.
    pub dash_score: u8,
    /// Police call-outs in the last 12 months for potential escalation.
    pub escalation_callouts: u32,
    /// Days from the victim's last referral (or the meeting that heard it: `repeat_from`)
    /// within which a new one is a repeat.
    pub repeat_window_days: u32,
    /// What the repeat window is counted from.
    pub repeat_from: RepeatFrom,
    /// The criteria this area applies.
    pub criteria: Vec<Criterion>,
    pub dash_required: DashRequired,
    /// Which documents a referral must carry.
    pub forms: Forms,
    /// Referral form fields that must be filled (keys as in `inspect --json`, e.g. "referrer.name").
    pub required_fields: Vec<String>,
}

impl Default for ThresholdConfig {
    fn default() -> Self {
        ThresholdConfig {
            dash_score: 14,
            escalation_callouts: 3,
            repeat_window_days: 365,
            repeat_from: RepeatFrom::LastReferral,
            criteria: Criterion::ALL.to_vec(),
            dash_required: DashRequired::WhenVisibleHighRisk,
            forms: Forms::Any,
            required_fields: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SendersConfig {
    /// Secure senders: `*.pnn.police.uk` (any subdomain), `nhs.net` (that domain exactly),
    /// `person@charity.org.uk` (that address). Case-insensitive.
    pub allow: Vec<String>,
    /// Only `Authentication-Results` headers from this server count (the topmost
    /// `authserv_headers` of them: the ones it added above the sender's own headers).
    pub trusted_authserv_id: String,
    /// How the receiving server records its checks: `rfc8601` (default: headers naming
    /// `trusted_authserv_id`) or `exchange_online` (Exchange Online's headers, which name no
    /// authserv-id and carry `compauth`).
    #[serde(default)]
    pub receiving_server: ReceivingServer,
    /// How many `Authentication-Results` headers the receiving server adds to every message
    /// (default 1). Only that many, counted from the top, are read: anything below can be
    /// written by the sender.
    #[serde(default = "default_authserv_headers")]
    pub authserv_headers: usize,
    /// Hubs whose ARC results are trusted for mail forwarded through them, by the sealing
    /// domain (`d=` of their `ARC-Seal`). Default none. Their results count only when the
    /// receiving server's own results say `arc=pass`.
    #[serde(default)]
    pub trusted_arc_sealers: Vec<String>,
    /// Whether the product checks DKIM itself: `never` (default) or `when_no_results` (when
    /// the receiving server recorded no results at all, see `marac_intake::dkim`).
    #[serde(default)]
    pub verify_dkim: VerifyDkim,
    /// The DNS resolver our own DKIM check asks, `IP` or `IP:PORT` (`[IPv6]:PORT`); port 53 by
    /// default. Required with `verify_dkim = "when_no_results"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_resolver: Option<String>,
}

fn default_authserv_headers() -> usize {
    1
}

impl SendersConfig {
    /// `dns_resolver` as a socket address (port 53 unless one is given); `None` when unset or
    /// not an address (`build` refuses that).
    pub fn dns_resolver_addr(&self) -> Option<std::net::SocketAddr> {
        let text = self.dns_resolver.as_deref()?.trim();
        text.parse().ok().or_else(|| text.parse::<std::net::IpAddr>().ok().map(|ip| std::net::SocketAddr::new(ip, 53)))
    }
}

/// When the product verifies DKIM itself (`senders.verify_dkim`).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum VerifyDkim {
    /// Never: only the receiving server's results count.
    #[default]
    Never,
    /// When the receiving server recorded no results for the message: DKIM checked over DNS
    /// through `senders.dns_resolver`, and the From domain's DMARC policy on that result.
    WhenNoResults,
}

/// The receiving server's way of writing `Authentication-Results`.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ReceivingServer {
    /// RFC 8601 headers naming `senders.trusted_authserv_id` (Postfix with OpenDKIM/OpenDMARC,
    /// rspamd, Exim, Google Workspace, ...).
    #[default]
    Rfc8601,
    /// Exchange Online (Microsoft 365): no authserv-id, `compauth=pass` beside `dmarc=pass`.
    ExchangeOnline,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RepliesConfig {
    /// Our own address, the From of every reply.
    pub from: String,
    #[serde(default = "Template::acknowledgement")]
    pub acknowledgement: Template,
    #[serde(default = "Template::rejection")]
    pub rejection: Template,
    #[serde(default = "Template::holding")]
    pub holding: Template,
    /// Whether an acknowledgement asks the referrer to attend the meeting, or send someone who
    /// knows the case: the `{attendance}` placeholder (default false: it is empty).
    #[serde(default)]
    pub ask_referrer_to_attend: bool,
}

/// A reply template. Placeholders: {area}, {reference}, {meeting_date}, {reasons},
/// {their_subject}, {attendance} (see `reply::attendance`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Template {
    pub subject: String,
    pub body: String,
}

pub const PLACEHOLDERS: &[&str] = &["area", "reference", "meeting_date", "reasons", "their_subject", "attendance"];

impl Template {
    pub fn acknowledgement() -> Self {
        Template {
            subject: "MARAC referral received - {reference}".into(),
            body: "Thank you for your referral to the {area} MARAC.\n\nIt has been accepted and recorded under the reference {reference}, \
and the case is listed for the meeting on {meeting_date}. Please quote the reference in any further correspondence about this case.\n\n\
{attendance}This is an automatic acknowledgement from the {area} MARAC team.\n"
                .into(),
        }
    }

    pub fn rejection() -> Self {
        Template {
            subject: "MARAC referral not accepted yet - action needed ({reference})".into(),
            body: "Thank you for your referral to the {area} MARAC. We could not accept it as sent, for these reasons:\n\n{reasons}\n\n\
Please correct the referral and send it again to this address, quoting {reference}. If you believe the victim is at immediate risk, call 999.\n\n\
This is an automatic reply from the {area} MARAC team.\n"
                .into(),
        }
    }

    pub fn holding() -> Self {
        Template {
            subject: "MARAC referral received - under review ({reference})".into(),
            body: "Thank you for your referral to the {area} MARAC. It has been received with the reference {reference} and a coordinator \
will review it, because: {reasons}. You will hear from us shortly.\n\nThis is an automatic acknowledgement from the {area} MARAC team.\n"
                .into(),
        }
    }

    /// Placeholders used that are not known: a configuration error.
    fn unknown_placeholders(&self) -> Vec<String> {
        let mut out = Vec::new();
        for text in [&self.subject, &self.body] {
            let mut rest = text.as_str();
            while let Some(open) = rest.find('{') {
                let after = &rest[open + 1..];
                let Some(close) = after.find('}') else { break };
                let name = &after[..close];
                if !PLACEHOLDERS.contains(&name) {
                    out.push(name.to_owned());
                }
                rest = &after[close + 1..];
            }
        }
        out
    }

    /// Fills the placeholders.
    pub fn render(&self, values: &[(&str, &str)]) -> (String, String) {
        let fill = |t: &str| {
            let mut s = t.to_owned();
            for (k, v) in values {
                s = s.replace(&format!("{{{k}}}"), v);
            }
            s
        };
        (fill(&self.subject), fill(&self.body))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CaseConfig {
    /// Case reference format: {year} and {seq} (zero-padded with {seq:4}), any other text as is.
    pub reference_format: String,
}

impl Default for CaseConfig {
    fn default() -> Self {
        CaseConfig { reference_format: "MARAC-{year}-{seq:4}".into() }
    }
}

impl CaseConfig {
    pub fn reference_format_example(&self) -> String {
        self.reference(2025, 1)
    }

    /// The reference for the `seq`th case of `year`.
    pub fn reference(&self, year: i32, seq: u64) -> String {
        let mut s = self.reference_format.replace("{year}", &year.to_string());
        if let Some(start) = s.find("{seq") {
            if let Some(len) = s[start..].find('}') {
                let spec = &s[start + 4..start + len];
                let width: usize = spec.trim_start_matches(':').parse().unwrap_or(0);
                s.replace_range(start..=start + len, &format!("{seq:0width$}"));
            }
        }
        s
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SynonymsConfig {
    #[serde(default)]
    pub sections: std::collections::BTreeMap<crate::recognise::referral::Section, Vec<String>>,
    #[serde(default)]
    pub fields: std::collections::BTreeMap<String, Vec<String>>,
}

/// IMAP folders per outcome (used by the mailbox service).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Folders {
    pub accepted: String,
    pub rejected: String,
    pub review: String,
    pub quarantined: String,
    pub ignored: String,
}

impl Default for Folders {
    fn default() -> Self {
        Folders {
            accepted: "MARAC/Accepted".into(),
            rejected: "MARAC/Rejected".into(),
            review: "MARAC/Review".into(),
            quarantined: "MARAC/Quarantine".into(),
            ignored: "MARAC/Ignored".into(),
        }
    }
}

/// Column names of the area's existing list of past referrals, for `import-history`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ImportConfig {
    pub name: String,
    pub dob: String,
    pub referral_date: String,
    pub meeting_date: String,
    pub reference: String,
}

impl Default for ImportConfig {
    fn default() -> Self {
        ImportConfig {
            name: "Victim name".into(),
            dob: "DOB".into(),
            referral_date: "Referral date".into(),
            meeting_date: "Meeting date".into(),
            reference: "Reference".into(),
        }
    }
}

/// A configuration error: the exact key and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub key: String,
    pub reason: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", if self.key.is_empty() { "(top level)" } else { &self.key }, self.reason)
    }
}

impl std::error::Error for ConfigError {}

fn err(key: impl Into<String>, reason: impl Into<String>) -> ConfigError {
    ConfigError { key: key.into(), reason: reason.into() }
}

/// The validated configuration the pipeline runs on.
#[derive(Debug, Clone)]
pub struct Config {
    pub file: ConfigFile,
    pub allowlist: Allowlist,
    pub schedule: Schedule,
    /// Built-in synonyms with the admin's added.
    pub synonyms: Synonyms,
    /// The agenda's officers and when it goes (`[agenda]`).
    pub agenda: AgendaPlan,
    /// The file it was read from (None: built from text in memory).
    pub source: Option<PathBuf>,
    /// The [`RuleLayer::version`] layered over the file (0: none).
    pub rules_version: i64,
    /// The deployment's areas: those of `[areas.*]`, or this configuration as the one area
    /// [`DEFAULT_AREA`]. Empty in an area's own configuration.
    pub areas: Vec<Area>,
}

impl Config {
    /// The area `id`, if the deployment has it.
    pub fn area(&self, id: &str) -> Option<&Area> {
        self.areas.iter().find(|a| a.id == id)
    }

    /// The configuration a record of area `id` is decided and shown by: the area's, or this (the
    /// top level's) for one whose area was not told.
    pub fn of_area(&self, id: &str) -> &Config {
        self.area(id).map_or(self, |a| &a.config)
    }

    pub fn enabled(&self, c: Criterion) -> bool {
        self.file.threshold.criteria.contains(&c)
    }

    /// The default database: `[storage] database_url`, else a SQLite file in the data directory.
    pub fn default_db_url(&self) -> String {
        match &self.file.storage.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}?mode=rwc", self.file.data_dir.join("marac-intake.db").display()),
        }
    }
}

/// A configuration file's text, with the admins' rule sections from the database layered over
/// it and the environment's overrides (`env`: only `MARAC__*` variables are used), validated.
/// `source` is where the text was read (the service reads the file: `marac_intake::config::load`).
pub fn from_text(text: &str, source: &Path, rules: &RuleLayer, env: impl IntoIterator<Item = (String, String)>) -> Result<Config, ConfigError> {
    // An error in a section kept from the web console says so, and how to undo it from here.
    let blame = |mut e: ConfigError| {
        // The section the key is in: `threshold` of `threshold.dash_score`, `areas.north.threshold`
        // of `areas.north.threshold.dash_score`.
        let parts: Vec<&str> = e.key.split(['.', '[']).collect();
        let section = if parts[0] == "areas" { parts.iter().take(3).copied().collect::<Vec<_>>().join(".") } else { parts[0].to_owned() };
        if rules.sections.contains_key(&section) {
            e.reason = format!("{} (the [{section}] in force was changed in the web console: correct it there, or `marac-intake rules reset {section}` puts the file's back)", e.reason.trim_end_matches(" (in the rules changed in the web console)"));
        }
        e
    };
    let mut cfg = parse_layered(text, rules, env).and_then(ConfigFile::build).map_err(blame)?;
    cfg.source = Some(source.to_path_buf());
    cfg.rules_version = rules.version;
    for a in &mut cfg.areas {
        a.config.source = cfg.source.clone();
        a.config.rules_version = rules.version;
    }
    Ok(cfg)
}

/// The TOML text with environment overrides applied, deserialised (step one).
pub fn parse(text: &str, env: impl IntoIterator<Item = (String, String)>) -> Result<ConfigFile, ConfigError> {
    parse_layered(text, &RuleLayer::default(), env)
}

/// The sections an admin may change in the web console (`/admin/rules`): the secure senders,
/// thresholds, meeting schedule, mail folders, reply templates, the agenda's officers and label synonyms. What the
/// service connects to and where it keeps its data stay in the file alone.
pub const RULE_SECTIONS: [&str; 7] = ["threshold", "senders", "schedule", "folders", "replies", "agenda", "synonyms"];

/// The rule sections of an area that may be changed in the web console, as `areas.ID.SECTION`:
/// those of [`RULE_SECTIONS`] but the label synonyms, which are the deployment's (one reading of
/// forms for every area).
pub const AREA_RULE_SECTIONS: [&str; 6] = ["threshold", "senders", "schedule", "folders", "replies", "agenda"];

/// A rule section's name as the web console, the command line and the database write it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleSection<'a> {
    /// A section of the deployment (`threshold`): a change replaces the file's top-level section
    /// whole.
    Deployment(&'static str),
    /// A section of the area `id` (`areas.north.threshold`): a change replaces the area's own
    /// section of the file (`[areas.north.threshold]`) whole; what it does not set still comes
    /// from the deployment's section in force, key by key, as for the file's own.
    Area { id: &'a str, section: &'static str },
}

impl<'a> RuleSection<'a> {
    /// Reads a section's name; whether the area exists is [`rule_section_in`]'s to say.
    pub fn parse(name: &'a str) -> Result<RuleSection<'a>, ConfigError> {
        if let Some(s) = RULE_SECTIONS.iter().find(|s| **s == name) {
            return Ok(RuleSection::Deployment(s));
        }
        let Some(rest) = name.strip_prefix("areas.") else {
            return Err(err(
                name,
                format!("is not a section that can be changed here; those are {}, and an area's areas.ID.SECTION (SECTION one of {})", RULE_SECTIONS.join(", "), AREA_RULE_SECTIONS.join(", ")),
            ));
        };
        let (id, section) = rest.rsplit_once('.').unwrap_or((rest, ""));
        if id.is_empty() || id.contains('.') {
            return Err(err(name, format!("is not a section that can be changed here; an area's are areas.ID.SECTION, SECTION one of {}", AREA_RULE_SECTIONS.join(", "))));
        }
        if section == "synonyms" {
            return Err(err(name, "the label synonyms are the deployment's, for every area: change [synonyms]"));
        }
        match AREA_RULE_SECTIONS.iter().find(|s| **s == section) {
            Some(s) => Ok(RuleSection::Area { id, section: s }),
            None => Err(err(name, format!("{section:?} is not an area's section that can be changed here; those are {}", AREA_RULE_SECTIONS.join(", ")))),
        }
    }

    /// The section's kind (`threshold`), whoever's it is.
    pub fn kind(&self) -> &'static str {
        match self {
            RuleSection::Deployment(s) | RuleSection::Area { section: s, .. } => s,
        }
    }

    /// The area's id, for an area's section.
    pub fn area(&self) -> Option<&'a str> {
        match self {
            RuleSection::Deployment(_) => None,
            RuleSection::Area { id, .. } => Some(id),
        }
    }
}

/// `name` as a rule section of `file` ([`RuleSection::parse`]), an area's only when the file
/// has that area (`[areas.ID]`). The error names the section and says what there is.
pub fn rule_section_in<'a>(file: &ConfigFile, name: &'a str) -> Result<RuleSection<'a>, ConfigError> {
    let section = RuleSection::parse(name)?;
    match section.area() {
        Some(id) if !file.areas.contains_key(id) => Err(no_such_area(name, id, file.areas.keys())),
        _ => Ok(section),
    }
}

fn no_such_area<'k>(name: &str, id: &str, ids: impl Iterator<Item = &'k String>) -> ConfigError {
    let ids: Vec<&str> = ids.map(String::as_str).collect();
    let there = if ids.is_empty() { "the configuration file has no [areas.*]".to_owned() } else { format!("its areas are {}", ids.join(", ")) };
    err(name, format!("there is no area {id:?} in the configuration file ({there})"))
}

/// Rule sections changed in the web console, stored in the database (`rule_versions`). Layers,
/// lowest first: the file, then each of these sections, which replaces the file's section whole
/// (an area's, `areas.ID.SECTION`, replaces the area's own section whole, which is then laid over
/// the deployment's key by key as the file's own would be), then the `MARAC__*` environment
/// overrides.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleLayer {
    /// The newest change's number (0: none yet): a different number means the rules changed.
    pub version: i64,
    /// Section name → its TOML body (that section's keys, without the `[section]` header).
    pub sections: BTreeMap<String, String>,
}

impl RuleLayer {
    /// This layer with `section` replaced by `body` (None: back to the file's section).
    pub fn with(&self, section: &str, body: Option<&str>) -> RuleLayer {
        let mut next = self.clone();
        match body {
            Some(b) => next.sections.insert(section.to_owned(), b.to_owned()),
            None => next.sections.remove(section),
        };
        next
    }
}

/// One rule section's body, as TOML: only the sections of [`RULE_SECTIONS`] and an area's of
/// [`AREA_RULE_SECTIONS`] ([`RuleSection::parse`]). Errors name the section and the line.
pub fn parse_section(section: &str, body: &str) -> Result<toml::Table, ConfigError> {
    RuleSection::parse(section)?;
    parse_table(body).map_err(|e| err(section, e.reason))
}

/// The section as it is in force, as TOML (what the web console's editor starts from). An area's
/// is its own section (`[areas.ID.SECTION]`: what a change replaces), empty when the area takes
/// the deployment's whole.
pub fn section_toml(file: &ConfigFile, section: &str) -> String {
    let table = match RuleSection::parse(section) {
        Ok(RuleSection::Area { id, section }) => file.areas.get(id).and_then(|a| a.get(section)).and_then(toml::Value::as_table).cloned(),
        _ => toml::Value::try_from(file).ok().and_then(|v| v.get(section).and_then(toml::Value::as_table).cloned()),
    };
    table.map(|t| toml::to_string_pretty(&t).unwrap_or_default()).unwrap_or_default()
}

fn parse_table(text: &str) -> Result<toml::Table, ConfigError> {
    text.parse().map_err(|e: toml::de::Error| {
        let reason = e.message().to_owned();
        let at = e.span().map(|s| {
            let line = text[..s.start.min(text.len())].lines().count().max(1);
            format!(" (line {line})")
        });
        err("", format!("{reason}{}", at.unwrap_or_default()))
    })
}

/// [`parse`] with the rule sections of `rules` replacing the file's.
pub fn parse_layered(text: &str, rules: &RuleLayer, env: impl IntoIterator<Item = (String, String)>) -> Result<ConfigFile, ConfigError> {
    let mut table = parse_table(text)?;
    for (section, body) in &rules.sections {
        let kept = |e: ConfigError| err(e.key, format!("{} (in the rules changed in the web console)", e.reason));
        let t = parse_section(section, body).map_err(kept)?;
        match RuleSection::parse(section).map_err(kept)? {
            RuleSection::Deployment(_) => {
                table.insert(section.clone(), toml::Value::Table(t));
            }
            RuleSection::Area { id, section: kind } => {
                let areas = table.get_mut("areas").and_then(toml::Value::as_table_mut);
                let ids: Vec<String> = areas.as_ref().map(|a| a.keys().cloned().collect()).unwrap_or_default();
                let Some(area) = areas.and_then(|a| a.get_mut(id)).and_then(toml::Value::as_table_mut) else {
                    return Err(kept(no_such_area(section, id, ids.iter())));
                };
                area.insert(kind.to_owned(), toml::Value::Table(t));
            }
        }
    }
    apply_env(&mut table, env)?;
    let de = toml::Value::Table(table);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let key = e.path().to_string();
        err(if key == "." { String::new() } else { key }, e.inner().to_string())
    })
}

/// `MARAC__SECTION__KEY=value` sets `[section] key = value`. The value is read as TOML when it
/// is a number, boolean or array, else taken as a string.
pub fn apply_env(table: &mut toml::Table, env: impl IntoIterator<Item = (String, String)>) -> Result<(), ConfigError> {
    for (name, value) in env {
        let Some(rest) = name.strip_prefix("MARAC__") else { continue };
        let path: Vec<String> = rest.split("__").map(str::to_ascii_lowercase).collect();
        if path.iter().any(String::is_empty) {
            return Err(err(name, "empty key segment in environment variable"));
        }
        let parsed = format!("v = {value}").parse::<toml::Table>().ok().and_then(|mut t| t.remove("v"));
        let value = match parsed {
            Some(v @ (toml::Value::Integer(_) | toml::Value::Float(_) | toml::Value::Boolean(_) | toml::Value::Array(_))) => v,
            _ => toml::Value::String(value),
        };
        let (last, parents) = path.split_last().expect("non-empty split");
        let mut cur = &mut *table;
        for p in parents {
            let entry = cur.entry(p.clone()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
            cur = entry.as_table_mut().ok_or_else(|| err(path.join("."), "is not a section"))?;
        }
        cur.insert(last.clone(), value);
    }
    Ok(())
}

impl ConfigFile {
    /// Step two: meaning. Builds the validated objects: the top level, then each area laid over it.
    pub fn build(self) -> Result<Config, ConfigError> {
        let areas_file = self.clone();
        let mut top = self.build_one()?;
        top.areas = areas::build_areas(&areas_file, &top)?;
        Ok(top)
    }

    /// One configuration's meaning, its areas aside.
    fn build_one(self) -> Result<Config, ConfigError> {
        if self.area.trim().is_empty() {
            return Err(err("area", "must not be empty"));
        }
        let t = &self.threshold;
        if !(1..=24).contains(&t.dash_score) {
            return Err(err("threshold.dash_score", "must be between 1 and 24"));
        }
        if t.escalation_callouts == 0 {
            return Err(err("threshold.escalation_callouts", "must be at least 1"));
        }
        if t.repeat_window_days == 0 || t.repeat_window_days > 3660 {
            return Err(err("threshold.repeat_window_days", "must be between 1 and 3660"));
        }
        if t.criteria.is_empty() {
            return Err(err("threshold.criteria", "at least one criterion must be enabled"));
        }
        for (i, f) in t.required_fields.iter().enumerate() {
            if !FIELDS.contains(&f.as_str()) {
                return Err(err(format!("threshold.required_fields[{i}]"), format!("unknown field {f:?}; known: {}", FIELDS.join(", "))));
            }
        }
        let allowlist = Allowlist::new(&self.senders.allow).map_err(|(i, reason)| err(format!("senders.allow[{i}]"), reason))?;
        if self.senders.trusted_authserv_id.trim().is_empty() || self.senders.trusted_authserv_id.contains(char::is_whitespace) {
            return Err(err("senders.trusted_authserv_id", "must be the receiving server's authserv-id, one word"));
        }
        if !(1..=8).contains(&self.senders.authserv_headers) {
            return Err(err("senders.authserv_headers", "must be between 1 and 8: how many Authentication-Results headers the receiving server adds"));
        }
        for (i, d) in self.senders.trusted_arc_sealers.iter().enumerate() {
            if !valid_domain(&d.trim().to_ascii_lowercase()) {
                return Err(err(format!("senders.trusted_arc_sealers[{i}]"), format!("{d:?} is not a domain (the d= of the hub's ARC-Seal)")));
            }
        }
        match (&self.senders.dns_resolver, self.senders.dns_resolver_addr()) {
            (Some(text), None) => return Err(err("senders.dns_resolver", format!("{text:?} is not an IP address with an optional port (\"192.0.2.53\", \"192.0.2.53:5353\", \"[2001:db8::53]:53\")"))),
            (None, _) if self.senders.verify_dkim == VerifyDkim::WhenNoResults => {
                return Err(err("senders.dns_resolver", "is required with verify_dkim = \"when_no_results\": the resolver our own DKIM check asks"));
            }
            _ => {}
        }
        if !looks_like_address(&self.replies.from) {
            return Err(err("replies.from", "must be an email address"));
        }
        for (name, tpl) in [("acknowledgement", &self.replies.acknowledgement), ("rejection", &self.replies.rejection), ("holding", &self.replies.holding)] {
            if let Some(p) = tpl.unknown_placeholders().first() {
                return Err(err(format!("replies.{name}"), format!("unknown placeholder {{{p}}}; known: {}", PLACEHOLDERS.join(", "))));
            }
        }
        if !self.case.reference_format.contains("{seq") {
            return Err(err("case.reference_format", "must contain {seq} (or {seq:N}) so references are unique"));
        }
        let schedule = self.schedule.validate().map_err(|e| err("schedule", e.to_string()))?;
        let agenda = self.agenda.build(|a| allowlist.allows(a)).map_err(|(key, reason)| err(format!("agenda.{key}"), reason))?;
        let mut synonyms = Synonyms::default();
        let extra = Synonyms { sections: self.synonyms.sections.clone(), fields: self.synonyms.fields.clone() };
        if let Some(k) = extra.unknown_fields().first() {
            return Err(err(format!("synonyms.fields.{k}"), format!("unknown field; known: {}", FIELDS.join(", "))));
        }
        synonyms.extend(&extra);
        if let Some(i) = &self.imap {
            check_connection(&i.connection())?;
            if i.idle_secs == 0 || i.idle_secs > 25 * 60 {
                return Err(err("imap.idle_secs", "must be between 1 and 1500 (servers end IDLE after 29 minutes)"));
            }
            if i.batch == 0 || i.poll_secs == 0 || i.command_timeout_secs == 0 {
                return Err(err("imap", "batch, poll_secs and command_timeout_secs must be greater than zero"));
            }
        }
        if let Some(sm) = &self.smtp {
            check_connection(&sm.connection())?;
            if let Some(from) = &sm.from {
                if !looks_like_address(from) {
                    return Err(err("smtp.from", "must be an email address"));
                }
            }
            if let Some(to) = &sm.coordinators_notice_to {
                if !looks_like_address(to) {
                    return Err(err("smtp.coordinators_notice_to", "must be an email address"));
                }
            }
            if sm.retry_first_secs == 0 || sm.retry_max_secs < sm.retry_first_secs {
                return Err(err("smtp.retry_max_secs", "retry_first_secs must be at least 1 and retry_max_secs at least retry_first_secs"));
            }
            if sm.max_replies_per_recipient_per_hour == 0 {
                return Err(err("smtp.max_replies_per_recipient_per_hour", "must be at least 1"));
            }
        }
        self.metrics.address()?;
        if let Some(w) = &self.web {
            if w.tls_cert_file.is_some() != w.tls_key_file.is_some() {
                return Err(err(if w.tls_cert_file.is_some() { "web.tls_key_file" } else { "web.tls_cert_file" }, "tls_cert_file and tls_key_file go together"));
            }
            if let Some(l) = &w.listen {
                let addr = check_listen("web.listen", l, w.tls())?;
                check_forwarded_for("web.listen", addr, w.trust_forwarded_for, &w.trusted_proxies)?;
            }
            if w.max_connections == 0 || w.request_timeout_secs == 0 || w.idle_timeout_secs == 0 {
                return Err(err("web", "max_connections, request_timeout_secs and idle_timeout_secs must be greater than zero"));
            }
        }
        if let Some(url) = &self.storage.database_url {
            let postgres = url.starts_with("postgres://") || url.starts_with("postgresql://");
            if !(url.starts_with("sqlite:") || postgres) {
                return Err(err("storage.database_url", "must be sqlite://PATH or postgres://USER@HOST:PORT/DB"));
            }
            if postgres && url.split("://").nth(1).and_then(|rest| rest.split('@').next().filter(|_| rest.contains('@'))).is_some_and(|user| user.contains(':')) {
                return Err(err("storage.database_url", "must not hold the password: give it in PGPASSWORD or a PGPASSFILE (a systemd credential)"));
            }
            if postgres && (self.storage.db_key_file.is_none() || self.storage.data_key_file.is_none()) {
                return Err(err("storage.data_key_file", "is required with a PostgreSQL database_url (with db_key_file): the data key seals every kept message"));
            }
        }
        if self.storage.db_key_file.is_some() != self.storage.data_key_file.is_some() {
            return Err(err(if self.storage.db_key_file.is_some() { "storage.data_key_file" } else { "storage.db_key_file" }, "db_key_file and data_key_file go together"));
        }
        for (key, days) in self.retention.periods() {
            if !(1..=36600).contains(&days) {
                return Err(err(format!("retention.{key}"), "must be between 1 and 36600 days"));
            }
        }
        if self.retention.closed_cases_days < self.threshold.repeat_window_days {
            return Err(err("retention.closed_cases_days", format!("must be at least threshold.repeat_window_days ({}): a closed case is how a repeat is recognised", self.threshold.repeat_window_days)));
        }
        for (key, path) in [("audit.syslog_socket", &self.audit.syslog_socket), ("audit.journald_socket", &self.audit.journald_socket)] {
            if !path.is_absolute() {
                return Err(err(key, "must be an absolute path"));
            }
        }
        let l = &self.limits;
        if l.max_attachment_bytes == 0 || l.max_message_bytes == 0 || l.max_millis_per_attachment == 0 || l.max_depth == 0 {
            return Err(err("limits", "limits must be greater than zero"));
        }
        Ok(Config { file: self, allowlist, schedule, synonyms, agenda, source: None, rules_version: 0, areas: Vec::new() })
    }
}

fn looks_like_address(s: &str) -> bool {
    match s.trim().rsplit_once('@') {
        Some((local, domain)) => !local.is_empty() && domain.contains('.') && !s.contains(char::is_whitespace),
        None => false,
    }
}

/// Public suffixes that no organisation owns as a whole: an allowlist entry, or a reply's
/// organisation, is never one of these. A short embedded list (no download): the UK's
/// second-level domains and the common generic ones.
const PUBLIC_SUFFIXES: &[&str] = &[
    "uk", "co.uk", "org.uk", "me.uk", "net.uk", "ltd.uk", "plc.uk", "ac.uk", "sch.uk", "gov.uk", "nhs.uk", "police.uk", "mod.uk",
    "com", "net", "org", "info", "biz", "gov", "edu", "int", "eu", "io", "co", "me", "scot", "wales", "cymru", "london",
    "ie", "gov.ie", "gg", "je", "im", "gov.scot", "gov.wales", "llyw.cymru", "example", "test", "invalid", "localhost",
];

/// Free-mail providers, by domain; an entry ending `.*` stands for every top-level domain.
const FREE_MAIL: &[&str] = &[
    "gmail.com", "googlemail.com", "outlook.*", "hotmail.*", "live.*", "msn.com", "windowslive.com", "yahoo.*", "ymail.com",
    "rocketmail.com", "icloud.com", "me.com", "mac.com", "aol.*", "aim.com", "protonmail.*", "proton.me", "pm.me", "gmx.*",
    "mail.com", "zoho.com", "yandex.*", "tutanota.com", "tuta.io", "btinternet.com", "sky.com", "virginmedia.com",
    "talktalk.net", "ntlworld.com", "blueyonder.co.uk", "tiscali.co.uk", "mail.ru", "qq.com", "fastmail.com",
];

/// Whether `domain` is one of the embedded public suffixes (see [`PUBLIC_SUFFIXES`]).
pub fn is_public_suffix(domain: &str) -> bool {
    let d = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    PUBLIC_SUFFIXES.contains(&d.as_str())
}

/// Whether `domain` (or a domain it is a subdomain of) is a free-mail provider.
pub fn is_free_mail(domain: &str) -> bool {
    let d = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    FREE_MAIL.iter().any(|f| match f.strip_suffix(".*") {
        // hotmail.co.uk, hotmail.com, hotmail.fr: the provider's label, then a public suffix.
        Some(label) => d.split_once('.').is_some_and(|(first, rest)| first == label && (is_public_suffix(rest) || rest.len() == 2)),
        None => d == *f || d.ends_with(&format!(".{f}")),
    })
}

/// The secure-sender allowlist, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Allowlist {
    entries: Vec<AllowEntry>,
}

#[derive(Debug, Clone, PartialEq)]
enum AllowEntry {
    /// `*.pnn.police.uk`: any subdomain (stored as ".pnn.police.uk").
    Subdomains(String),
    Domain(String),
    Address(String),
}

fn valid_domain(d: &str) -> bool {
    !d.is_empty()
        && d.len() <= 253
        && d.split('.').all(|l| !l.is_empty() && l.len() <= 63 && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        && d.contains('.')
}

impl Allowlist {
    /// Errors give the entry's index and the reason.
    pub fn new(patterns: &[String]) -> Result<Self, (usize, String)> {
        let mut entries = Vec::new();
        for (i, p) in patterns.iter().enumerate() {
            let p = p.trim().to_ascii_lowercase();
            let entry = if let Some(rest) = p.strip_prefix("*.") {
                if !valid_domain(rest) {
                    return Err((i, format!("{p:?} is not a domain pattern like *.pnn.police.uk")));
                }
                AllowEntry::Subdomains(format!(".{rest}"))
            } else if p.contains('*') {
                return Err((i, format!("{p:?}: a wildcard may only stand first, as in *.gov.uk")));
            } else if let Some((local, domain)) = p.rsplit_once('@') {
                if local.is_empty() || !valid_domain(domain) {
                    return Err((i, format!("{p:?} is not an email address")));
                }
                AllowEntry::Address(p.clone())
            } else {
                if !valid_domain(&p) {
                    return Err((i, format!("{p:?} is not a domain")));
                }
                AllowEntry::Domain(p.clone())
            };
            entries.push(entry);
        }
        Ok(Allowlist { entries })
    }

    /// Whether an address is a secure sender. A look-alike (`nhs.net.evil.example`,
    /// `evilnhs.net`) never matches.
    pub fn allows(&self, address: &str) -> bool {
        let a = address.trim().to_ascii_lowercase();
        let Some((local, domain)) = a.rsplit_once('@') else { return false };
        if local.is_empty() || !valid_domain(domain) {
            return false;
        }
        self.entries.iter().any(|e| match e {
            AllowEntry::Subdomains(suffix) => domain.ends_with(suffix.as_str()) && domain.len() > suffix.len(),
            AllowEntry::Domain(d) => domain == d,
            AllowEntry::Address(x) => a == *x,
        })
    }

    /// Whether an entry opens every subdomain of `domain` (`*.pnn.police.uk` for `pnn.police.uk`).
    pub fn opens_subdomains_of(&self, domain: &str) -> bool {
        let d = format!(".{}", domain.trim_end_matches('.').to_ascii_lowercase());
        self.entries.iter().any(|e| matches!(e, AllowEntry::Subdomains(s) if *s == d))
    }

    /// What `check-config` warns about: entries that let anyone with a free-mail account, or
    /// every organisation under a public suffix, count as a secure sender.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        for e in &self.entries {
            let (shown, domain) = match e {
                AllowEntry::Subdomains(s) => (format!("*{s}"), s.trim_start_matches('.').to_owned()),
                AllowEntry::Domain(d) => (d.clone(), d.clone()),
                AllowEntry::Address(a) => (a.clone(), a.rsplit_once('@').map(|(_, d)| d.to_owned()).unwrap_or_default()),
            };
            if is_free_mail(&domain) {
                out.push(format!("senders.allow: {shown:?} is a free-mail provider: anyone can open an account there, so a message from it proves nothing about the sender's organisation; list the secure domains of the agencies instead"));
            } else if is_public_suffix(&domain) {
                out.push(format!("senders.allow: {shown:?} is too broad: it covers every organisation under a public suffix; list each agency's own domain (a force's *.pnn.police.uk style name is fine)"));
            }
        }
        out
    }

    pub fn describe(&self) -> Vec<String> {
        self.entries
            .iter()
            .map(|e| match e {
                AllowEntry::Subdomains(s) => format!("*{s} (any subdomain)"),
                AllowEntry::Domain(d) => format!("{d} (domain)"),
                AllowEntry::Address(a) => format!("{a} (address)"),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_criterion_reads_back_from_its_stored_spelling() {
        for c in Criterion::ALL {
            assert_eq!(c.as_str().parse::<Criterion>(), Ok(c), "{c:?}");
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str(), "serde (the configuration) and as_str spell {c:?} alike");
        }
        assert_eq!("potential_escalation".parse::<Criterion>(), Ok(Criterion::PotentialEscalation));
        assert!("Repeat".parse::<Criterion>().is_err());
        assert!("\"repeat\"".parse::<Criterion>().is_err());
    }

    const MINIMAL: &str = r#"
area = "Testshire"
[senders]
allow = ["*.pnn.police.example.test", "nhs.example.test", "idva@charity.example.test"]
trusted_authserv_id = "mx.marac.example.test"
[schedule]
kind = "monthly"
weekday = "tue"
nth = 2
[replies]
from = "marac@marac.example.test"
"#;

    fn no_env() -> Vec<(String, String)> {
        Vec::new()
    }

    #[test]
    fn minimal_config_builds_with_defaults() {
        let c = parse(MINIMAL, no_env()).unwrap().build().unwrap();
        assert_eq!(c.file.threshold.dash_score, 14);
        assert_eq!(c.file.threshold.repeat_window_days, 365);
        assert_eq!(c.file.threshold.dash_required, DashRequired::WhenVisibleHighRisk);
        assert_eq!(c.file.folders.review, "MARAC/Review");
    }

    #[test]
    fn the_repeat_window_is_counted_from_the_last_referral_unless_asked() {
        let t = parse(MINIMAL, no_env()).unwrap().build().unwrap().file.threshold;
        assert_eq!(t.repeat_from, RepeatFrom::LastReferral);
        let set = |extra: &str| parse(&format!("{MINIMAL}\n[threshold]\n{extra}\n"), no_env()).and_then(ConfigFile::build);
        assert_eq!(set("repeat_from = \"last_meeting\"").unwrap().file.threshold.repeat_from, RepeatFrom::LastMeeting);
        assert_eq!(set("repeat_from = \"last_referral\"").unwrap().file.threshold.repeat_from, RepeatFrom::LastReferral);
        let e = set("repeat_from = \"last_hearing\"").unwrap_err();
        assert_eq!(e.key, "threshold.repeat_from");
        assert!(e.reason.contains("last_meeting"), "{e}");
        let env = vec![("MARAC__THRESHOLD__REPEAT_FROM".to_owned(), "last_meeting".to_owned())];
        assert_eq!(parse(MINIMAL, env).unwrap().threshold.repeat_from, RepeatFrom::LastMeeting);
    }

    #[test]
    fn asking_the_referrer_to_attend_is_off_unless_asked_and_its_placeholder_is_known() {
        let r = parse(MINIMAL, no_env()).unwrap().build().unwrap().file.replies;
        assert!(!r.ask_referrer_to_attend);
        assert!(r.acknowledgement.body.contains("{attendance}"), "the default acknowledgement has the placeholder");
        let with = |extra: &str| parse(&MINIMAL.replace("[replies]\n", &format!("[replies]\n{extra}\n")), no_env()).and_then(ConfigFile::build);
        assert!(with("ask_referrer_to_attend = true").unwrap().file.replies.ask_referrer_to_attend);
        assert_eq!(with("ask_referrer_to_attend = \"yes\"").unwrap_err().key, "replies.ask_referrer_to_attend");
        assert_eq!(with("ask_referrer_to_atend = true").unwrap_err().key, "replies.ask_referrer_to_atend");
        let own = with("acknowledgement = { subject = \"{reference}\", body = \"See you on {meeting_date}. {attendance}\" }").unwrap();
        assert!(own.file.replies.acknowledgement.body.contains("{attendance}"));
        let env = vec![("MARAC__REPLIES__ASK_REFERRER_TO_ATTEND".to_owned(), "true".to_owned())];
        assert!(parse(MINIMAL, env).unwrap().replies.ask_referrer_to_attend);
    }

    #[test]
    fn the_forms_a_referral_must_carry_default_to_todays_rules() {
        let t = parse(MINIMAL, no_env()).unwrap().build().unwrap().file.threshold;
        assert_eq!((t.forms, t.dash_required), (Forms::Any, DashRequired::WhenVisibleHighRisk));
        let set = |extra: &str| parse(&format!("{MINIMAL}\n[threshold]\n{extra}\n"), no_env()).and_then(ConfigFile::build);
        assert_eq!(set("forms = \"both\"").unwrap().file.threshold.forms, Forms::Both);
        assert_eq!(set("forms = \"dash_alone\"").unwrap().file.threshold.forms, Forms::DashAlone);
        assert_eq!(set("forms = \"any\"").unwrap().file.threshold.forms, Forms::Any);
        let both = set("forms = \"both\"\ndash_required = \"always\"").unwrap().file.threshold;
        assert_eq!((both.forms, both.dash_required), (Forms::Both, DashRequired::Always), "dash_required stays valid beside it");
        let e = set("forms = \"referral_alone\"").unwrap_err();
        assert_eq!(e.key, "threshold.forms");
        assert!(e.reason.contains("dash_alone"), "{e}");
        let env = vec![("MARAC__THRESHOLD__FORMS".to_owned(), "both".to_owned())];
        assert_eq!(parse(MINIMAL, env).unwrap().threshold.forms, Forms::Both);
    }

    #[test]
    fn retention_periods_default_to_keeping_and_are_checked() {
        let c = parse(MINIMAL, no_env()).unwrap().build().unwrap();
        assert_eq!(c.file.retention, RetentionConfig::default());
        assert_eq!((c.file.retention.rejected_days, c.file.retention.audit_days, c.file.retention.closed_cases_days), (90, 2190, 2190));
        let set = |extra: &str| parse(&format!("{MINIMAL}\n[retention]\n{extra}\n"), no_env()).and_then(ConfigFile::build);
        assert_eq!(set("rejected_days = 30").unwrap().file.retention.rejected_days, 30);
        assert_eq!(set("rejected_days = 0").unwrap_err().key, "retention.rejected_days");
        assert_eq!(set("closed_cases_days = 100").unwrap_err().key, "retention.closed_cases_days", "shorter than the repeat window");
        assert_eq!(set("audit_dayz = 10").unwrap_err().key, "retention.audit_dayz");
        let env = vec![("MARAC__RETENTION__AUDIT_DAYS".to_owned(), "3650".to_owned())];
        assert_eq!(parse(MINIMAL, env).unwrap().build().unwrap().file.retention.audit_days, 3650);
    }

    #[test]
    fn the_audit_copy_is_off_by_default_and_its_keys_are_checked() {
        let c = parse(MINIMAL, no_env()).unwrap().build().unwrap();
        assert_eq!(c.file.audit, AuditConfig::default());
        assert_eq!((c.file.audit.copy_to, c.file.audit.syslog_socket.as_path()), (AuditCopyTo::None, Path::new("/dev/log")));
        let set = |extra: &str| parse(&format!("{MINIMAL}\n[audit]\n{extra}\n"), no_env()).and_then(ConfigFile::build);
        assert_eq!(set("copy_to = \"syslog\"").unwrap().file.audit.copy_to, AuditCopyTo::Syslog);
        let j = set("copy_to = \"journald\"\njournald_socket = \"/tmp/j.sock\"").unwrap().file.audit;
        assert_eq!((j.copy_to, j.journald_socket.as_path()), (AuditCopyTo::Journald, Path::new("/tmp/j.sock")));
        assert_eq!(set("copy_to = \"splunk\"").unwrap_err().key, "audit.copy_to");
        assert_eq!(set("syslog_socket = \"dev/log\"").unwrap_err().key, "audit.syslog_socket");
        assert_eq!(set("copy = \"syslog\"").unwrap_err().key, "audit.copy");
        let env = vec![("MARAC__AUDIT__COPY_TO".to_owned(), "journald".to_owned())];
        assert_eq!(parse(MINIMAL, env).unwrap().build().unwrap().file.audit.copy_to, AuditCopyTo::Journald);
    }

    #[test]
    fn unknown_keys_are_named() {
        let e = parse(&format!("{MINIMAL}\n[threshold]\ndash_scor = 3\n"), no_env()).unwrap_err();
        assert_eq!(e.key, "threshold.dash_scor");
        assert!(e.reason.contains("unknown field"), "{e}");
    }

    #[test]
    fn environment_overrides_any_key() {
        let env = vec![
            ("MARAC__THRESHOLD__DASH_SCORE".to_owned(), "12".to_owned()),
            ("MARAC__AREA".to_owned(), "Elsewhere".to_owned()),
            ("MARAC__SENDERS__ALLOW".to_owned(), r#"["nhs.example.test"]"#.to_owned()),
            ("OTHER".to_owned(), "x".to_owned()),
        ];
        let c = parse(MINIMAL, env).unwrap().build().unwrap();
        assert_eq!(c.file.threshold.dash_score, 12);
        assert_eq!(c.file.area, "Elsewhere");
        assert!(!c.allowlist.allows("a@x.pnn.police.example.test"));
    }

    #[test]
    fn meaning_errors_name_the_key() {
        let e = parse(&MINIMAL.replace("nhs.example.test\"", "nhs.*.test\""), no_env()).unwrap().build().unwrap_err();
        assert_eq!(e.key, "senders.allow[1]");
        let e = parse(&format!("{MINIMAL}\n[threshold]\ndash_score = 30\n"), no_env()).unwrap().build().unwrap_err();
        assert_eq!(e.key, "threshold.dash_score");
        let bad_tpl = MINIMAL.replace("[replies]\n", "[replies]\nholding = { subject = \"{ref}\", body = \"x\" }\n");
        let e = parse(&bad_tpl, no_env()).unwrap().build().unwrap_err();
        assert_eq!(e.key, "replies.holding");
    }

    #[test]
    fn free_mail_and_public_suffixes_on_the_allowlist_are_warned_about() {
        let warned = |p: &str| Allowlist::new(&[p.to_owned()]).unwrap().warnings();
        for p in ["gmail.com", "outlook.com", "hotmail.co.uk", "hotmail.com", "yahoo.fr", "icloud.com", "aol.com", "protonmail.com", "someone@gmail.com"] {
            let w = warned(p);
            assert_eq!(w.len(), 1, "{p}");
            assert!(w[0].contains("free-mail"), "{p}: {w:?}");
        }
        for p in ["*.co.uk", "co.uk", "*.gov.uk", "*.nhs.uk", "*.police.uk", "gov.uk"] {
            let w = warned(p);
            assert!(w.len() == 1 && w[0].contains("too broad"), "{p}: {w:?}");
        }
        for p in ["*.pnn.police.uk", "nhs.net", "*.cjsm.net", "kingsmere.gov.uk", "hotmailer.com", "idva@charity.org.uk", "outlookhealth.org.uk"] {
            assert!(warned(p).is_empty(), "{p}: {:?}", warned(p));
        }
    }

    #[test]
    fn sender_policy_keys_default_to_closed_and_are_checked() {
        let c = parse(MINIMAL, no_env()).unwrap().build().unwrap();
        let s = &c.file.senders;
        assert_eq!((s.receiving_server, s.authserv_headers, s.trusted_arc_sealers.is_empty()), (ReceivingServer::Rfc8601, 1, true));
        let with = |extra: &str| parse(&MINIMAL.replace("[schedule]", &format!("{extra}\n[schedule]")), no_env()).and_then(|f| f.build());
        assert_eq!(with("receiving_server = \"exchange_online\"").unwrap().file.senders.receiving_server, ReceivingServer::ExchangeOnline);
        assert_eq!(with("authserv_headers = 0").unwrap_err().key, "senders.authserv_headers");
        assert_eq!(with("trusted_arc_sealers = [\"not a domain\"]").unwrap_err().key, "senders.trusted_arc_sealers[0]");
        assert!(with("receiving_server = \"sendmail\"").is_err());
        assert_eq!((s.verify_dkim, s.dns_resolver_addr()), (VerifyDkim::Never, None), "our own DKIM check is off by default");
        let on = with("verify_dkim = \"when_no_results\"\ndns_resolver = \"127.0.0.1\"").unwrap();
        assert_eq!((on.file.senders.verify_dkim, on.file.senders.dns_resolver_addr()), (VerifyDkim::WhenNoResults, Some("127.0.0.1:53".parse().unwrap())));
        let port = with("verify_dkim = \"when_no_results\"\ndns_resolver = \"[::1]:5353\"").unwrap();
        assert_eq!(port.file.senders.dns_resolver_addr(), Some("[::1]:5353".parse().unwrap()));
        assert_eq!(with("verify_dkim = \"when_no_results\"").unwrap_err().key, "senders.dns_resolver", "a resolver must be named");
        assert_eq!(with("dns_resolver = \"resolver.example.test\"").unwrap_err().key, "senders.dns_resolver", "an address, not a name");
        assert!(with("verify_dkim = \"always\"\ndns_resolver = \"127.0.0.1\"").is_err());
    }

    #[test]
    fn allowlist_patterns_and_look_alikes() {
        let c = parse(MINIMAL, no_env()).unwrap().build().unwrap();
        let a = &c.allowlist;
        assert!(a.allows("Sarah.Ellis@Kingsmere.PNN.Police.Example.Test"));
        assert!(a.allows("x@nhs.example.test"));
        assert!(!a.allows("x@sub.nhs.example.test"), "an exact domain does not cover subdomains");
        assert!(!a.allows("x@pnn.police.example.test"), "*.domain needs a subdomain");
        assert!(!a.allows("x@nhs.example.test.evil.example"));
        assert!(!a.allows("x@evilnhs.example.test"));
        assert!(!a.allows("x@kingsmere.pnn.police.example.test.evil.example"));
        assert!(a.allows("IDVA@charity.example.test"));
        assert!(!a.allows("other@charity.example.test"));
        assert!(!a.allows("not-an-address"));
    }

    #[test]
    fn mailbox_sections_refuse_plaintext_and_inline_passwords() {
        let imap = |extra: &str| format!("{MINIMAL}\n[imap]\nhost = \"127.0.0.1\"\nport = 143\nusername = \"marac\"\n{extra}\n");
        let e = parse(&imap("tls = \"none\"\npassword_file = \"/run/p\""), no_env()).unwrap().build().unwrap_err();
        assert_eq!(e.key, "imap.tls");
        assert!(parse(&imap("tls = \"none\"\nallow_plaintext_on_loopback = true\npassword_file = \"/run/p\""), no_env()).unwrap().build().is_ok());
        let remote = imap("tls = \"none\"\nallow_plaintext_on_loopback = true\npassword_file = \"/run/p\"").replace("127.0.0.1", "mail.example.test");
        assert_eq!(parse(&remote, no_env()).unwrap().build().unwrap_err().key, "imap.tls");
        let e = parse(&imap("tls = \"starttls\"\npassword = \"hunter2\""), no_env()).unwrap_err();
        assert_eq!(e.key, "imap.password");
        let e = parse(&imap("tls = \"starttls\""), no_env()).unwrap().build().unwrap_err();
        assert_eq!(e.key, "imap.password_file");
        let env = vec![("MARAC__IMAP__TLS".to_owned(), "implicit".to_owned()), ("MARAC__IMAP__PASSWORD_FILE".to_owned(), "imap-password".to_owned())];
        let c = parse(&imap(""), env).unwrap().build().unwrap();
        assert_eq!(c.file.imap.unwrap().tls, Tls::Implicit);
    }

    #[test]
    fn oauth2_needs_a_client_and_an_endpoint_and_says_what_is_missing() {
        let imap = |extra: &str| format!("{MINIMAL}\n[imap]\nhost = \"outlook.office365.com\"\nport = 993\ntls = \"implicit\"\nusername = \"marac@example.test\"\nauth = \"oauth2\"\n{extra}\n");
        let build = |extra: &str| parse(&imap(extra), no_env()).unwrap().build();
        let ms = build("tenant = \"contoso.onmicrosoft.com\"\nclient_id = \"app-1\"\nclient_secret_file = \"imap-secret\"").unwrap();
        let client = ms.file.imap.as_ref().unwrap().oauth().unwrap().unwrap();
        assert_eq!(client.token_url, "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token");
        assert_eq!(client.scope, MICROSOFT_SCOPE, "the Exchange Online scope by default with a tenant");
        assert!(client.microsoft);
        let google = build(&format!("token_url = \"https://oauth2.example.test/token\"\nclient_id = \"c\"\nclient_secret_file = \"s\"\nscope = \"{GOOGLE_SCOPE}\"")).unwrap();
        assert_eq!(google.file.imap.as_ref().unwrap().oauth().unwrap().unwrap().scope, GOOGLE_SCOPE);
        for (extra, key, says) in [
            ("tenant = \"t\"\nclient_secret_file = \"s\"", "imap.client_id", "application (client) ID"),
            ("tenant = \"t\"\nclient_id = \"c\"", "imap.client_secret_file", "never the secret itself"),
            ("client_id = \"c\"\nclient_secret_file = \"s\"", "imap.token_url", "or tenant for Microsoft 365"),
            ("tenant = \"t\"\ntoken_url = \"https://x.test/t\"\nclient_id = \"c\"\nclient_secret_file = \"s\"", "imap.tenant", "not both"),
            ("tenant = \"a/b\"\nclient_id = \"c\"\nclient_secret_file = \"s\"", "imap.tenant", "GUID"),
            ("token_url = \"https://x.test/t\"\nclient_id = \"c\"\nclient_secret_file = \"s\"", "imap.scope", "mail.google.com"),
            ("token_url = \"http://idp.example.test/t\"\nclient_id = \"c\"\nclient_secret_file = \"s\"\nscope = \"x\"", "imap.token_url", "must be https://"),
            ("token_url = \"http://127.0.0.1:9/t\"\nclient_id = \"c\"\nclient_secret_file = \"s\"\nscope = \"x\"", "imap.token_url", "allow_plaintext_on_loopback"),
            ("tenant = \"t\"\nclient_id = \"c\"\nclient_secret_file = \"s\"\ntoken_file = \"tok\"", "imap.token_file", "fetches its own tokens"),
        ] {
            let e = build(extra).unwrap_err();
            assert_eq!(e.key, key, "{extra}: {e}");
            assert!(e.reason.contains(says), "{extra}: {e}");
        }
        let local = build("token_url = \"http://127.0.0.1:9/t\"\nclient_id = \"c\"\nclient_secret_file = \"s\"\nscope = \"x\"\nallow_plaintext_on_loopback = true").unwrap();
        assert_eq!(local.file.imap.unwrap().oauth().unwrap().unwrap().token_url, "http://127.0.0.1:9/t");
        let stray = format!("{MINIMAL}\n[smtp]\nhost = \"h\"\nport = 587\ntls = \"starttls\"\nusername = \"u\"\npassword_file = \"p\"\nclient_id = \"c\"\n");
        let e = parse(&stray, no_env()).unwrap().build().unwrap_err();
        assert_eq!(e.key, "smtp.client_id", "an OAuth key without auth = oauth2 is a mistake worth saying");
        assert_eq!(url_host("https://[::1]:8443/t"), Some("::1"));
        assert_eq!(url_host("http://localhost/t"), Some("localhost"));
        assert_eq!(url_host("ftp://x/t"), None);
    }

    #[test]
    fn the_keys_at_rest_are_named_files_both_or_neither_never_keys() {
        let e = parse(&format!("{MINIMAL}\n[storage]\ndb_key_file = \"db-key\"\n"), no_env()).unwrap().build().unwrap_err();
        assert_eq!(e.key, "storage.data_key_file");
        let e = parse(&format!("{MINIMAL}\n[storage]\ndb_key = \"00\"\n"), no_env()).unwrap_err();
        assert!(e.key.starts_with("storage"), "{e}");
        let both = parse(&format!("{MINIMAL}\n[storage]\ndb_key_file = \"db-key\"\ndata_key_file = \"data-key\"\n"), no_env()).unwrap().build().unwrap();
        assert_eq!(both.file.storage.data_key_file.as_deref(), Some(Path::new("data-key")));
        assert_eq!(parse(MINIMAL, no_env()).unwrap().build().unwrap().file.storage, StorageConfig::default());
    }

    #[test]
    fn rule_sections_from_the_database_replace_the_files_and_the_environment_still_wins() {
        let file = format!("{MINIMAL}\n[threshold]\ndash_score = 10\nescalation_callouts = 5\n");
        let rules = RuleLayer { version: 7, sections: [("threshold".to_owned(), "dash_score = 12\n".to_owned())].into() };
        let c = parse_layered(&file, &rules, no_env()).unwrap().build().unwrap();
        assert_eq!(c.file.threshold.dash_score, 12);
        assert_eq!(c.file.threshold.escalation_callouts, 3, "the section is replaced whole: the file's other keys go too");
        let env = vec![("MARAC__THRESHOLD__DASH_SCORE".to_owned(), "16".to_owned())];
        assert_eq!(parse_layered(&file, &rules, env).unwrap().threshold.dash_score, 16);
        // Back to the file's section.
        let back = rules.with("threshold", None);
        assert_eq!(parse_layered(&file, &back, no_env()).unwrap().threshold.escalation_callouts, 5);
        // Errors name the key and say where the value came from.
        let bad = rules.with("threshold", Some("dash_score = 30"));
        let e = parse_layered(&file, &bad, no_env()).unwrap().build().unwrap_err();
        assert_eq!(e.key, "threshold.dash_score");
        let e = parse_layered(&file, &rules.with("senders", Some("allow = [\"nhs.example.test\"]\ntrusted_authserv_id = \"mx\"\nextra = 1")), no_env()).unwrap_err();
        assert_eq!(e.key, "senders.extra");
        let e = parse_layered(&file, &rules.with("folders", Some("accepted = ")), no_env()).unwrap_err();
        assert_eq!(e.key, "folders");
        assert!(e.reason.contains("line 1") && e.reason.contains("web console"), "{e}");
    }

    #[test]
    fn a_hostile_section_is_refused_not_a_crash() {
        // What an admin's browser sends is untrusted text too: deep nesting is an error.
        for deep in [format!("a = {}", "[".repeat(60_000)), format!("a = {}", "{ b = ".repeat(60_000))] {
            assert_eq!(parse_section("threshold", &deep).unwrap_err().key, "threshold");
        }
    }

    #[test]
    fn only_rule_sections_can_be_layered() {
        for section in ["imap", "smtp", "web", "data_dir", "limits", "area", "case", "storage"] {
            assert_eq!(parse_section(section, "").unwrap_err().key, section);
        }
        assert!(parse_section("threshold", "dash_score = 12").is_ok());
    }

    #[test]
    fn every_rule_section_round_trips_through_its_toml() {
        let full = format!(
            "{MINIMAL}\n[threshold]\ncriteria = [\"visible_high_risk\", \"repeat\"]\nrequired_fields = [\"referrer.name\"]\n\
[synonyms.fields]\n\"victim.name\" = [\"Name of the person at risk\"]\n[folders]\nreview = \"Needs a person\"\n"
        );
        let original = parse(&full, no_env()).unwrap();
        let mut rules = RuleLayer::default();
        for section in RULE_SECTIONS {
            let body = section_toml(&original, section);
            assert!(!body.is_empty(), "{section}");
            rules = rules.with(section, Some(&body));
        }
        // A file whose rule sections all differ, with every rule section from the layer.
        let other = "area = \"Testshire\"\n[schedule]\nkind = \"weekly\"\nweekday = \"mon\"\n[senders]\nallow = []\ntrusted_authserv_id = \"x\"\n[replies]\nfrom = \"a@b.test\"\n";
        assert_eq!(parse_layered(other, &rules, no_env()).unwrap(), original);
        assert!(section_toml(&original, "replies").contains("\"\"\""), "multi-line templates stay readable:\n{}", section_toml(&original, "replies"));
    }

    #[test]
    fn case_references() {
        let c = CaseConfig::default();
        assert_eq!(c.reference(2025, 7), "MARAC-2025-0007");
        let c = CaseConfig { reference_format: "KM/{seq}/{year}".into() };
        assert_eq!(c.reference(2025, 12), "KM/12/2025");
    }

    #[test]
    fn forwarded_for_is_trusted_on_a_public_listener_only_with_the_proxies_named() {
        let web = |body: &str| format!("{MINIMAL}\n[web]\ntls_cert_file = \"c.pem\"\ntls_key_file = \"k.pem\"\n{body}\n");
        let e = parse(&web("listen = \"0.0.0.0:8443\"\ntrust_forwarded_for = true"), no_env()).unwrap().build().unwrap_err();
        assert_eq!(e.key, "web.trusted_proxies");
        let c = parse(&web("listen = \"0.0.0.0:8443\"\ntrust_forwarded_for = true\ntrusted_proxies = [\"192.0.2.10\"]"), no_env()).unwrap().build().unwrap();
        assert_eq!(c.file.web.unwrap().trusted_proxies, vec!["192.0.2.10".parse::<std::net::IpAddr>().unwrap()]);
        assert!(parse(&web("listen = \"127.0.0.1:8443\"\ntrust_forwarded_for = true"), no_env()).unwrap().build().is_ok());
        assert!(parse(&web("trust_forwarded_for = true\ntrusted_proxies = [\"proxy.example\"]"), no_env()).unwrap_err().key.starts_with("web.trusted_proxies"), "a proxy is an address");
        assert!(check_forwarded_for("--listen", "0.0.0.0:8443".parse().unwrap(), true, &[]).is_err());
        assert!(check_forwarded_for("--listen", "0.0.0.0:8443".parse().unwrap(), false, &[]).is_ok());
    }

    #[test]
    fn metrics_listen_by_default_on_loopback_can_be_moved_or_turned_off_and_a_bad_address_names_the_key() {
        let c = parse(MINIMAL, no_env()).unwrap().build().unwrap();
        assert_eq!(c.file.metrics.address().unwrap(), Some("127.0.0.1:9184".parse().unwrap()));
        let env = vec![("MARAC__METRICS__LISTEN".to_owned(), "127.0.0.1:0".to_owned())];
        assert_eq!(parse(MINIMAL, env).unwrap().build().unwrap().file.metrics.address().unwrap(), Some("127.0.0.1:0".parse().unwrap()));
        let off = parse(&format!("{MINIMAL}\n[metrics]\nenabled = false\n"), no_env()).unwrap().build().unwrap();
        assert_eq!(off.file.metrics.address().unwrap(), None);
        let bad = parse(&format!("{MINIMAL}\n[metrics]\nlisten = \"localhost\"\n"), no_env()).unwrap().build().unwrap_err();
        assert_eq!(bad.key, "metrics.listen");
        assert_eq!(parse(&format!("{MINIMAL}\n[metrics]\nport = 1\n"), no_env()).unwrap_err().key, "metrics.port");
    }

    #[test]
    fn smtp_retry_waits_must_be_ordered() {
        let smtp = |body: &str| format!("{MINIMAL}\n[smtp]\nhost = \"mail.example\"\nport = 587\ntls = \"starttls\"\nusername = \"u\"\npassword_file = \"p\"\n{body}\n");
        assert!(parse(&smtp(""), no_env()).unwrap().build().is_ok());
        assert_eq!(parse(&smtp("retry_first_secs = 0"), no_env()).unwrap().build().unwrap_err().key, "smtp.retry_max_secs");
        assert_eq!(parse(&smtp("retry_first_secs = 60\nretry_max_secs = 10"), no_env()).unwrap().build().unwrap_err().key, "smtp.retry_max_secs");
    }

    #[test]
    fn web_plain_http_only_on_loopback_and_every_key_from_the_environment() {
        let web = |body: &str| format!("{MINIMAL}\n[web]\n{body}\n");
        let c = parse(&web("listen = \"127.0.0.1:8080\"\ntrust_forwarded_for = true"), no_env()).unwrap().build().unwrap();
        assert_eq!(c.file.web.as_ref().and_then(|w| w.listen.as_deref()), Some("127.0.0.1:8080"));
        let e = parse(&web("listen = \"0.0.0.0:8080\"\ntrust_forwarded_for = false"), no_env()).unwrap().build().unwrap_err();
        assert_eq!(e.key, "web.listen");
        assert!(parse(&web("listen = \"0.0.0.0:8443\"\ntrust_forwarded_for = false\ntls_cert_file = \"c.pem\"\ntls_key_file = \"k.pem\""), no_env()).unwrap().build().is_ok());
        assert_eq!(parse(&web("trust_forwarded_for = false\ntls_cert_file = \"c.pem\""), no_env()).unwrap().build().unwrap_err().key, "web.tls_key_file");
        // The trust in X-Forwarded-For is never a default.
        assert_eq!(parse(&web("listen = \"127.0.0.1:8080\""), no_env()).unwrap_err().key, "web");
        assert_eq!(parse(&web("listen = \"127.0.0.1:8080\"\ntrust_forwarded_for = false\nport = 3"), no_env()).unwrap_err().key, "web.port");
        let env = vec![("MARAC__WEB__LISTEN".to_owned(), "[::1]:9000".to_owned()), ("MARAC__WEB__TRUST_FORWARDED_FOR".to_owned(), "false".to_owned())];
        let c = parse(MINIMAL, env).unwrap().build().unwrap();
        let w = c.file.web.unwrap();
        assert_eq!((w.listen.as_deref(), w.trust_forwarded_for, w.agenda_names), (Some("[::1]:9000"), false, AgendaNames::Initials));
        assert_eq!(parse(&web("trust_forwarded_for = false\nagenda_names = \"full\""), no_env()).unwrap().web.unwrap().agenda_names, AgendaNames::Full);
        assert_eq!(parse(&web("trust_forwarded_for = false\nagenda_names = \"surnames\""), no_env()).unwrap_err().key, "web.agenda_names");
        assert!(check_listen("--listen", "192.0.2.1:80", false).is_err());
        assert_eq!(WebConfig::edge(None), WebEdge { max_connections: 64, request_timeout: std::time::Duration::from_secs(30), idle_timeout: std::time::Duration::from_secs(30) });
        assert_eq!(parse(&web("trust_forwarded_for = false\nmax_connections = 0"), no_env()).unwrap().build().unwrap_err().key, "web");
        assert_eq!(WebConfig::edge(parse(&web("trust_forwarded_for = false\nmax_connections = 5\nrequest_timeout_secs = 2"), no_env()).unwrap().web.as_ref()).max_connections, 5);
        assert!(check_listen("--listen", "localhost:80", false).is_err(), "a name is not an address");
    }
}
