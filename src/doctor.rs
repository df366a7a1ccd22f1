//! `marac-intake doctor`: checks what the service needs (the configuration, the database, each
//! mailbox, the SMTP server and the TLS in front of them) the way the service uses them, without
//! deciding, moving or sending anything, and prints a checklist with a fix for each failure.
//!
//! The checks touch only what the service would: it logs in, examines the folder read-only,
//! lists folders, and opens (then ends) an SMTP session. Nothing about a message is read or
//! printed: the report names servers, accounts, folders and counts, never a subject or a body.

use crate::clock::Clock;
use crate::config::{Config, ImapConfig, SmtpConfig, Tls};
use crate::store::Store;
use anyhow::{bail, Context, Result};
use futures_util::TryStreamExt;
use rustls_pki_types::ServerName;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// How one check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    /// Works, but not as well as it could (polling instead of IDLE, say).
    Warn,
    /// The service cannot do this part of its work.
    Fail,
}

/// One line of the checklist.
#[derive(Debug, Clone)]
pub struct Check {
    pub status: Status,
    /// What was checked (`IMAP marac@imap.example.org:993 INBOX`).
    pub what: String,
    /// What was found.
    pub detail: String,
    /// What to do about a failure or a warning, in plain words.
    pub fix: Option<String>,
}

/// The whole checklist.
#[derive(Debug, Default)]
pub struct Report {
    pub checks: Vec<Check>,
}

impl Report {
    fn push(&mut self, status: Status, what: &str, detail: impl Into<String>, fix: Option<String>) {
        self.checks.push(Check { status, what: what.to_owned(), detail: detail.into(), fix });
    }

    fn ok(&mut self, what: &str, detail: impl Into<String>) {
        self.push(Status::Ok, what, detail, None);
    }

    /// Whether any check failed (the command's exit status).
    pub fn failed(&self) -> bool {
        self.checks.iter().any(|c| c.status == Status::Fail)
    }

    /// The checklist as printed: one line per check, its fix indented below it, and a count.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for c in &self.checks {
            let mark = match c.status {
                Status::Ok => "[ ok ]",
                Status::Warn => "[warn]",
                Status::Fail => "[FAIL]",
            };
            out.push_str(&format!("{mark} {}: {}\n", c.what, c.detail));
            if let Some(fix) = &c.fix {
                out.push_str(&format!("       fix: {fix}\n"));
            }
        }
        let count = |s: Status| self.checks.iter().filter(|c| c.status == s).count();
        out.push_str(&format!("{} ok, {} warnings, {} failed\n", count(Status::Ok), count(Status::Warn), count(Status::Fail)));
        out
    }
}

/// Runs every check: the configuration file at `path` (with `env`'s `MARAC__*` overrides), the
/// database at `db_url` (or the configuration's), then each mailbox and SMTP server of the
/// configuration as layered with the rules kept in the database.
pub async fn run(path: &Path, env: impl IntoIterator<Item = (String, String)>, db_url: Option<&str>, clock: &Clock) -> Report {
    crate::tls::install_crypto_provider();
    let mut report = Report::default();
    let what = "configuration";
    let file_cfg = match crate::config::load(path, env) {
        Ok(cfg) => cfg,
        Err(e) => {
            report.push(Status::Fail, what, format!("{} cannot be used: {e}", path.display()), Some("correct the file; `marac-intake check-config` shows what it understood once it loads".into()));
            return report;
        }
    };
    let areas: Vec<&str> = file_cfg.areas.iter().map(|a| a.id.as_str()).collect();
    report.ok(what, format!("{}, {} area{} ({})", path.display(), areas.len(), if areas.len() == 1 { "" } else { "s" }, areas.join(", ")));

    let cfg = match database(&mut report, path, &file_cfg, db_url, clock).await {
        Some(cfg) => cfg,
        // Without the database's rules, the file's own mailboxes are still worth checking.
        None => file_cfg,
    };
    match crate::mailbox::watched(&cfg) {
        Ok(mailboxes) => {
            for w in &mailboxes {
                if let Some(imap) = &w.file.imap {
                    mailbox(&mut report, w, imap).await;
                }
            }
        }
        Err(e) => report.push(Status::Fail, "IMAP", e.to_string(), Some("add an [imap] section (the mailbox referrals arrive in); see config/marac-intake.example.toml".into())),
    }
    smtp(&mut report, &cfg).await;
    report
}

/// Opens the database as the service does (migrating it), checks that it takes a write, and
/// returns the configuration with the database's rules layered over the file.
async fn database(report: &mut Report, path: &Path, cfg: &Config, db_url: Option<&str>, clock: &Clock) -> Option<Config> {
    let what = "database";
    let url = db_url.map(str::to_owned).unwrap_or_else(|| cfg.default_db_url());
    let shown = crate::store::redacted(&url);
    let store = match Store::open_configured(&url, &cfg.file.storage, clock).await {
        Ok(store) => store,
        Err(e) => {
            let text = format!("{e:#}");
            let fix = if text.contains("key") || text.contains("not a database") || text.contains("file is not") {
                "the key files of [storage] (db_key_file, data_key_file) must be the ones this database was made with; check the service's credentials"
            } else if crate::store::is_postgres(&url) {
                "check that PostgreSQL is running and reachable, that the database exists and that this user may connect and create tables (the URL in [storage] database_url or --db)"
            } else {
                "check that the data directory exists and that the service user may write to it (data_dir in the configuration, or --db)"
            };
            report.push(Status::Fail, what, format!("{shown} cannot be opened: {text}"), Some(fix.into()));
            return None;
        }
    };
    let result = async {
        let version = store.schema_version().await?;
        store.probe_write().await.context("a test write (rolled back)")?;
        Ok::<_, anyhow::Error>(version)
    }
    .await;
    match result {
        Ok(version) => report.ok(what, format!("{shown}, migrations up to {version} of {}, takes writes", store.latest_migration())),
        Err(e) => report.push(
            Status::Fail,
            what,
            format!("{shown} opened but {e:#}"),
            Some("the database is read-only to this user (file permissions, a PostgreSQL standby, or default_transaction_read_only)".into()),
        ),
    }
    let layered = match crate::rules::load(path, &store).await {
        Ok(cfg) => Some(cfg),
        Err(e) => {
            report.push(
                Status::Fail,
                "rules",
                format!("the rules changed in the web console no longer fit the file: {e:#}"),
                Some("see `marac-intake rules list`, and put a section back with `marac-intake rules reset SECTION`".into()),
            );
            None
        }
    };
    store.close().await;
    layered
}

/// The checks of one mailbox: TLS, login, capabilities, the folder, the outcome folders.
async fn mailbox(report: &mut Report, cfg: &Config, imap: &ImapConfig) {
    let what = format!("IMAP {}@{}:{} {}", imap.username, imap.host, imap.port, imap.folder);
    let d = Duration::from_secs(imap.command_timeout_secs.max(1));
    if !tls_check(report, &what, &imap.host, imap.port, imap.tls, imap.ca_file.as_deref(), Protocol::Imap, d).await {
        return;
    }
    let mut session = match crate::mailbox::connect(imap).await {
        Ok(s) => s,
        Err(e) => {
            let text = format!("{e:#}");
            report.push(Status::Fail, &format!("{what} login"), text.clone(), Some(fix_for(&text, "imap")));
            return;
        }
    };
    report.ok(&format!("{what} login"), format!("logged in as {}", imap.username));
    let checked = async {
        let caps = tokio::time::timeout(d, session.capabilities()).await.context("CAPABILITY: no answer")?.context("CAPABILITY")?;
        let (idle, mv, uidplus) = (caps.has_str("IDLE"), caps.has_str("MOVE"), caps.has_str("UIDPLUS"));
        let names: Vec<String> = tokio::time::timeout(d, async { session.list(Some(""), Some("*")).await?.map_ok(|n| n.name().to_owned()).try_collect().await })
            .await
            .context("LIST: no answer")?
            .context("LIST")?;
        let folder = tokio::time::timeout(d, session.examine(&imap.folder)).await.context("EXAMINE: no answer")?;
        Ok::<_, anyhow::Error>((idle, mv, uidplus, names, folder))
    }
    .await;
    let _ = tokio::time::timeout(d, session.logout()).await;
    let (idle, mv, uidplus, names, folder) = match checked {
        Ok(found) => found,
        Err(e) => {
            report.push(Status::Fail, &what, format!("{e:#}"), Some("the server stopped answering after login; check its logs and imap.command_timeout_secs".into()));
            return;
        }
    };
    let caps = format!("IDLE {}, MOVE {}, UIDPLUS {}", yes(idle), yes(mv), yes(uidplus));
    match (idle, mv) {
        (true, true) => report.ok(&format!("{what} capabilities"), caps),
        (false, _) => report.push(Status::Warn, &format!("{what} capabilities"), caps, Some(format!("without IDLE the service polls every {} s (imap.poll_secs); new mail waits up to that long", imap.poll_secs))),
        (true, false) => report.push(Status::Warn, &format!("{what} capabilities"), caps, Some("without MOVE a message is filed by COPY, a \\Deleted flag and EXPUNGE: it works, in more steps".into())),
    }
    match folder {
        Ok(m) => report.ok(&format!("{what} folder"), format!("{} messages in {}", m.exists, imap.folder)),
        Err(e) => {
            report.push(Status::Fail, &format!("{what} folder"), format!("{} cannot be opened: {e}", imap.folder), Some(format!("set imap.folder to the folder referrals arrive in; the account has: {}", names.join(", "))));
            return;
        }
    }
    let wanted = crate::mailbox::outcome_folders(cfg);
    let missing: Vec<&str> = wanted.iter().filter(|w| !names.iter().any(|n| n == **w)).map(|w| w.as_str()).collect();
    if missing.is_empty() {
        report.ok(&format!("{what} outcome folders"), format!("{} present", wanted.len()));
    } else {
        report.push(
            Status::Warn,
            &format!("{what} outcome folders"),
            format!("missing: {}", missing.join(", ")),
            Some("`run` creates them when it starts; if this account may not create folders, create them or change [folders]".into()),
        );
    }
}

/// The checks of each distinct SMTP server of the deployment: TLS and a login that sends nothing.
async fn smtp(report: &mut Report, cfg: &Config) {
    let mut seen: Vec<(String, u16, String)> = Vec::new();
    let configs = std::iter::once(cfg).chain(cfg.areas.iter().map(|a| &a.config));
    let mut any = false;
    for c in configs {
        let Some(sm) = &c.file.smtp else { continue };
        any = true;
        let key = (sm.host.clone(), sm.port, sm.username.clone());
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        smtp_one(report, c, sm).await;
    }
    if !any {
        report.push(Status::Warn, "SMTP", "no [smtp] section: replies are recorded but not sent", Some("add an [smtp] section to send acknowledgements and rejections".into()));
    }
}

async fn smtp_one(report: &mut Report, cfg: &Config, sm: &SmtpConfig) {
    let what = format!("SMTP {}@{}:{}", sm.username, sm.host, sm.port);
    let d = Duration::from_secs(sm.command_timeout_secs.max(1));
    if !tls_check(report, &what, &sm.host, sm.port, sm.tls, sm.ca_file.as_deref(), Protocol::Smtp, d).await {
        return;
    }
    let login = async {
        let sender = crate::outbox::sender_for(cfg).await?;
        tokio::time::timeout(d.saturating_mul(2), sender.check_login()).await.context("no answer")?
    }
    .await;
    match login {
        Ok(()) => report.ok(&format!("{what} login"), "logged in; nothing sent"),
        Err(e) => {
            let text = format!("{e:#}");
            report.push(Status::Fail, &format!("{what} login"), text.clone(), Some(fix_for(&text, "smtp")));
        }
    }
}

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// A fix for a failure, from what the error says. `section` is `imap` or `smtp`.
fn fix_for(error: &str, section: &str) -> String {
    let e = error.to_lowercase();
    if e.contains("5.7.30") || e.contains("basic authentication is not supported") {
        return format!("the server refuses passwords for {section}: Microsoft 365 needs OAuth 2.0 (auth = \"oauth2\", README: \"Microsoft 365 and Google\"), with the app granted SMTP.SendAsApp and the mailbox's permission given to its service principal");
    }
    if e.contains("5.7.57") || e.contains("smtpclientauthentication") || e.contains("client authentication is disabled") {
        return "authenticated SMTP is turned off for this mailbox: Set-CASMailbox -Identity MAILBOX -SmtpClientAuthenticationDisabled $false".into();
    }
    if e.contains("certificate") || e.contains("unknownissuer") || e.contains("unknown issuer") || e.contains("ca certificate") {
        return format!("the server's certificate is not trusted: add its CA to the system (update-ca-certificates) or name it in {section}.ca_file, and check that {section}.host is the name on the certificate");
    }
    if e.contains("token") {
        return format!("the OAuth token could not be had: with auth = \"oauth2\" the message says what to fix ({section}.client_id, {section}.client_secret_file, {section}.tenant or token_url, {section}.scope); with auth = \"xoauth2\" check {section}.token_file or {section}.token_command (run it as the service user)");
    }
    if e.contains("authenticat") || e.contains("login") || e.contains("535") || e.contains("credentials") || e.contains("password") {
        return format!("the server refused the sign-in: check {section}.username and the secret in {section}.password_file (for OAuth, that the app has IMAP.AccessAsApp / SMTP.SendAsApp and the mailbox permission)");
    }
    if e.contains("starttls") {
        return format!("the server does not offer STARTTLS on this port: use tls = \"implicit\" with the TLS port (IMAP 993, SMTP 465), or the submission port 587");
    }
    if e.contains("refused") || e.contains("no answer") || e.contains("timed out") || e.contains("connect") || e.contains("resolve") || e.contains("lookup") {
        return format!("the server cannot be reached: check {section}.host and {section}.port, and that the firewall lets this machine through");
    }
    if e.contains("handshake") || e.contains("tls") {
        return format!("TLS could not be agreed: the server must offer TLS 1.2 or 1.3; check {section}.tls (implicit or starttls) against the port");
    }
    format!("see the error above; `journalctl -u marac-intake` shows what the service met with the same [{section}]")
}

/// The TLS check of one server (none when `tls` is off): its line in the report; false when it
/// failed, and the checks after it would fail the same way.
#[allow(clippy::too_many_arguments)]
async fn tls_check(report: &mut Report, what: &str, host: &str, port: u16, tls: Tls, ca_file: Option<&Path>, protocol: Protocol, d: Duration) -> bool {
    if tls == Tls::None {
        return true;
    }
    let check = format!("{what} TLS");
    match tls_probe(host, port, tls, ca_file, protocol, d).await {
        Ok(detail) => {
            report.ok(&check, detail);
            true
        }
        Err(e) => {
            let text = format!("{e:#}");
            report.push(Status::Fail, &check, text.clone(), Some(fix_for(&text, protocol.section())));
            false
        }
    }
}

/// Which protocol a STARTTLS upgrade speaks.
#[derive(Clone, Copy)]
enum Protocol {
    Imap,
    Smtp,
}

impl Protocol {
    /// The configuration section it is set in (`imap`, `smtp`), as errors and fixes name it.
    fn section(self) -> &'static str {
        match self {
            Protocol::Imap => "imap",
            Protocol::Smtp => "smtp",
        }
    }
}

/// Connects to `host:port`, upgrades with STARTTLS when `tls` says so, completes a TLS handshake
/// trusting what the service trusts, and says what was agreed.
async fn tls_probe(host: &str, port: u16, tls: Tls, ca_file: Option<&Path>, protocol: Protocol, d: Duration) -> Result<String> {
    let section = protocol.section();
    let roots = crate::tls::root_store(ca_file, section)?;
    let config = rustls::ClientConfig::builder().with_root_certificates(roots).with_no_client_auth();
    let name = ServerName::try_from(host.to_owned()).with_context(|| format!("{section}.host: not a valid TLS server name"))?;
    let tcp = tokio::time::timeout(d, TcpStream::connect((host, port))).await.context("connect: no answer")?.context("connect")?;
    let tcp = if tls == Tls::Starttls { tokio::time::timeout(d.saturating_mul(2), starttls(tcp, protocol)).await.context("STARTTLS: no answer")?? } else { tcp };
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let stream = tokio::time::timeout(d, connector.connect(name, tcp)).await.context("TLS handshake: no answer")?.context("TLS handshake")?;
    let (_, conn) = stream.get_ref();
    let version = match conn.protocol_version() {
        Some(rustls::ProtocolVersion::TLSv1_3) => "TLS 1.3".to_owned(),
        Some(rustls::ProtocolVersion::TLSv1_2) => "TLS 1.2".to_owned(),
        Some(v) => format!("{v:?}"),
        None => "TLS".to_owned(),
    };
    let suite = conn.negotiated_cipher_suite().map(|s| format!("{:?}", s.suite())).unwrap_or_default();
    let trusted = if ca_file.is_some() { "the system's roots and ca_file" } else { "the system's roots" };
    Ok(format!("{version}, {suite}, certificate for {host} verified against {trusted}"))
}

/// The plain-text part of STARTTLS: the greeting, the upgrade command and its answer. Returns
/// the connection ready for the handshake.
async fn starttls(tcp: TcpStream, protocol: Protocol) -> Result<TcpStream> {
    let mut conn = BufReader::new(tcp);
    match protocol {
        Protocol::Imap => {
            let greeting = line(&mut conn).await?;
            if !greeting.starts_with("* OK") && !greeting.starts_with("* PREAUTH") {
                bail!("the IMAP server's greeting is not OK");
            }
            conn.get_mut().write_all(b"d1 STARTTLS\r\n").await?;
            loop {
                let l = line(&mut conn).await?;
                if let Some(answer) = l.strip_prefix("d1 ") {
                    if !answer.starts_with("OK") {
                        bail!("the IMAP server refused STARTTLS");
                    }
                    break;
                }
            }
        }
        Protocol::Smtp => {
            smtp_reply(&mut conn, "220").await.context("the SMTP greeting")?;
            conn.get_mut().write_all(b"EHLO marac-intake-doctor\r\n").await?;
            let ehlo = smtp_reply(&mut conn, "250").await.context("EHLO")?;
            if !ehlo.iter().any(|l| l.to_ascii_uppercase().contains("STARTTLS")) {
                bail!("the SMTP server does not offer STARTTLS");
            }
            conn.get_mut().write_all(b"STARTTLS\r\n").await?;
            smtp_reply(&mut conn, "220").await.context("STARTTLS")?;
        }
    }
    Ok(conn.into_inner())
}

/// One line of at most 4 KiB.
async fn line(conn: &mut BufReader<TcpStream>) -> Result<String> {
    let mut buf = Vec::new();
    let n = (&mut *conn).take(4096).read_until(b'\n', &mut buf).await?;
    if n == 0 {
        bail!("the server closed the connection");
    }
    Ok(String::from_utf8_lossy(&buf).trim_end().to_owned())
}

/// An SMTP reply (its lines), which must have the code `want`; at most 64 lines.
async fn smtp_reply(conn: &mut BufReader<TcpStream>, want: &str) -> Result<Vec<String>> {
    let mut lines = Vec::new();
    for _ in 0..64 {
        let l = line(conn).await?;
        let last = l.get(3..4) != Some("-");
        lines.push(l);
        if last {
            let code = lines.last().and_then(|l| l.get(..3)).unwrap_or("");
            if code != want {
                bail!("the server answered {}", lines.last().map(String::as_str).unwrap_or(""));
            }
            return Ok(lines);
        }
    }
    bail!("an SMTP reply longer than 64 lines")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_gets_the_fix_its_error_asks_for() {
        assert!(fix_for("SMTP: 550 5.7.30 Basic authentication is not supported for Client Submission", "smtp").contains("OAuth"));
        assert!(fix_for("TLS handshake: invalid peer certificate: UnknownIssuer", "imap").contains("imap.ca_file"));
        assert!(fix_for("IMAP connect: Connection refused (os error 111)", "imap").contains("imap.host and imap.port"));
        assert!(fix_for("IMAP LOGIN: NO [AUTHENTICATIONFAILED] Authentication failed.", "imap").contains("imap.password_file"));
        assert!(fix_for("535 5.7.8 Error: authentication failed", "smtp").contains("smtp.username"));
        assert!(fix_for("the SMTP server does not offer STARTTLS", "smtp").contains("implicit"));
    }

    #[test]
    fn the_checklist_counts_and_indents_its_fixes() {
        let mut r = Report::default();
        r.ok("database", "fine");
        r.push(Status::Warn, "IMAP", "no IDLE", Some("polls".into()));
        r.push(Status::Fail, "SMTP", "refused", Some("check the port".into()));
        let text = r.render();
        assert!(r.failed());
        assert_eq!(text.lines().collect::<Vec<_>>(), ["[ ok ] database: fine", "[warn] IMAP: no IDLE", "       fix: polls", "[FAIL] SMTP: refused", "       fix: check the port", "1 ok, 1 warnings, 1 failed"]);
    }
}
