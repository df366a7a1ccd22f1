//! The outbox sender: takes the replies triage left in the `outbox` table and hands them to the
//! submission server with lettre (STARTTLS or implicit TLS through rustls, AUTH PLAIN/LOGIN or
//! XOAUTH2, pooled connections).
//!
//! Every row ends in exactly one final state, and every attempt is recorded:
//! - `sent` — the server accepted it (250 after DATA);
//! - `pending` again with `next_attempt_at` — a 4xx, a connection, TLS or authentication problem
//!   or a timeout: retried with capped exponential backoff until [`EXPIRE_AFTER`];
//! - `failed` — the server refused it for good (5xx), or it expired; the queue shows it;
//! - `refused` — the recipient is not on the allowlist *now*: never handed to the server.
//!
//! A row marked bounced before it was sent is still sent: a reply cannot bounce before it is
//! handed over, so that bounce was forged (our Message-IDs can be guessed) and must not stop it.
//!
//! Loop safety at send time: the allowlist is checked again, and at most
//! `smtp.max_replies_per_recipient_per_hour` replies go to one address per hour (more wait).
//! A coordinators' notice goes only to the configured `smtp.coordinators_notice_to` (the admin's
//! own address, usually not on the allowlist), to nobody else, and is not held by the cap: the
//! address is ours, not a referrer's, and a burst of review items must not delay their notices.
//!
//! Rows are claimed one at a time with a lease, by up to [`PARALLEL`] workers (one reply at a time
//! per recipient), so two senders never take the same row and a crashed sender's row is taken
//! again when its lease runs out. The one window for a second copy is a crash after the server's
//! 250 and before `sent` is written (milliseconds): SMTP cannot close it. The row taken over then
//! gets an `interrupted` attempt, so the replies that may have arrived twice are known, and the
//! reply carries the same Message-ID both times.
//!
//! Logs carry the outbox id, the reply kind and the status only: never the recipient, the subject
//! or the server's answer (which can quote the address); those stay in the database.

use crate::config::{Auth, Config, OAuthClient, SmtpConfig, Tls};
use crate::oauth::{Token, TokenSource};
use crate::decide::OutboxKind;
use crate::store::{AttemptEnd, ClaimedReply, Store};
use anyhow::{anyhow, Context, Result};
use crate::clock::{parse, stamp, Clock};
use chrono::{DateTime, Utc};
use lettre::address::{Address, Envelope};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, CertificateStore, Tls as LettreTls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Rows handled by one [`Sender::send_pending`] call at most (the caller loops).
pub const BATCH: usize = 200;
/// First retry delay; doubled per attempt up to [`MAX_BACKOFF`] (the defaults of
/// `smtp.retry_first_secs` and `smtp.retry_max_secs`).
pub const FIRST_BACKOFF: Duration = Duration::from_secs(60);
pub const MAX_BACKOFF: Duration = Duration::from_secs(60 * 60);
/// A reply still not accepted this long after it was queued is marked failed.
pub const EXPIRE_AFTER: chrono::Duration = chrono::Duration::days(3);

/// What one run did, by outcome.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    pub sent: usize,
    /// Left pending for a later attempt (4xx, connection trouble).
    pub deferred: usize,
    pub failed: usize,
    pub refused: usize,
    /// Held back by the per-recipient hourly cap.
    pub waiting: usize,
}

/// The wait before the next attempt after `attempts` failed ones (by default 1 → 1 min,
/// 2 → 2 min, … capped at 1 h: `first` doubled per attempt up to `max`), stretched by up to 45 %
/// by the row id so that rows deferred together spread out.
pub fn backoff(attempts: i64, id: i64, first: Duration, max: Duration) -> Duration {
    let exp = attempts.clamp(1, 20) as u32 - 1;
    let base = first.saturating_mul(2u32.saturating_pow(exp)).min(max);
    base + base.mul_f64(id.rem_euclid(10) as f64 / 20.0)
}

/// How the server's answer or the transport error is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Sent,
    /// Try this row again later; the rest of the batch may go on (a 4xx for this message).
    Retry,
    /// Try again later, and stop the batch: the server or the connection is the problem.
    RetryAll,
    /// Permanent refusal of this message.
    Fail,
}

/// Classifies a send error. Authentication refusals (530, 534, 535, 538) are 5xx but say
/// nothing about the message: they defer everything rather than failing replies.
pub fn classify(code: Option<u16>, permanent: bool, transient: bool) -> Verdict {
    match code {
        Some(530 | 534 | 535 | 538) => Verdict::RetryAll,
        Some(421) => Verdict::RetryAll,
        Some(_) if permanent => Verdict::Fail,
        Some(_) if transient => Verdict::Retry,
        _ => Verdict::RetryAll,
    }
}

/// Replies in flight at once in one batch, each on its own pooled connection.
pub const PARALLEL: usize = 4;

/// What the workers of one batch share.
struct Batch {
    /// Rows still to claim in this batch.
    budget: AtomicUsize,
    /// Set when the server or the connection failed: nothing more is claimed.
    halt: AtomicBool,
    recipients: std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// A configured SMTP client. Build once and reuse: it keeps a pool of connections. With
/// `auth = "oauth2"` it is built for one token ([`Sender::with_token`]); [`serve`] builds a new
/// one (a new pool, whose connections log in with the new token) when the token changes.
pub struct Sender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Address,
    per_hour: u32,
    /// The first retry's wait and the longest ([`backoff`]).
    retry: (Duration, Duration),
    /// Longest one message may take end to end; the claim lease is a little longer.
    deadline: Duration,
    /// The OAuth client and the generation of the token the pool logs in with.
    oauth: Option<(OAuthClient, u64)>,
    /// Set when the server refused to authenticate us: what to fix, in words (never the
    /// server's answer, which can quote an address).
    refused: std::sync::Mutex<Option<String>>,
}

impl Sender {
    /// Builds the transport from `[smtp]`. Reads the password or token now (from the file, or
    /// `$CREDENTIALS_DIRECTORY`, or the token command). With `auth = "oauth2"`, see
    /// [`Sender::with_token`].
    pub fn new(cfg: &Config) -> Result<Sender> {
        Sender::with_token(cfg, None)
    }

    /// [`Sender::new`], logging in with this OAuth token when `auth = "oauth2"`.
    pub fn with_token(cfg: &Config, oauth_token: Option<&Token>) -> Result<Sender> {
        let sm = cfg.file.smtp.as_ref().ok_or_else(|| anyhow!("no [smtp] section: replies cannot be sent"))?;
        let from_text = sm.from.as_deref().unwrap_or(&cfg.file.replies.from);
        let from: Address = from_text.parse().context("smtp.from / replies.from is not an address")?;
        let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(sm.host.as_str())
            .port(sm.port)
            .timeout(Some(Duration::from_secs(sm.command_timeout_secs)))
            .tls(tls(sm)?);
        let (secret, mechanisms) = match sm.auth {
            Auth::Password => {
                let path = sm.password_file.as_ref().ok_or_else(|| anyhow!("smtp.password_file is not set"))?;
                let pw = crate::config::read_secret(path).with_context(|| format!("reading smtp.password_file {}", path.display()))?;
                (pw, vec![Mechanism::Plain, Mechanism::Login])
            }
            Auth::Xoauth2 => {
                let token = token(sm)?;
                crate::monitor::token_read("smtp", &token);
                (token, vec![Mechanism::Xoauth2])
            }
            Auth::Oauth2 => {
                let t = oauth_token.ok_or_else(|| anyhow!("smtp.auth = \"oauth2\": no token fetched yet"))?;
                crate::monitor::token_read("smtp", t.secret.expose());
                (t.secret.expose().to_owned(), vec![Mechanism::Xoauth2])
            }
        };
        let oauth = match (sm.oauth().map_err(|e| anyhow!(e.to_string()))?, oauth_token) {
            (Some(client), Some(t)) => Some((client, t.generation)),
            _ => None,
        };
        b = b.credentials(Credentials::new(sm.username.clone(), secret)).authentication(mechanisms);
        Ok(Sender {
            transport: b.build(),
            from,
            per_hour: sm.max_replies_per_recipient_per_hour,
            retry: (Duration::from_secs(sm.retry_first_secs), Duration::from_secs(sm.retry_max_secs)),
            deadline: Duration::from_secs(sm.command_timeout_secs.saturating_mul(4).max(10)),
            oauth,
            refused: std::sync::Mutex::new(None),
        })
    }

    /// Opens a session as a send would (TLS, EHLO, the login) and ends it, sending nothing
    /// (`doctor`).
    pub async fn check_login(&self) -> Result<()> {
        match self.transport.test_connection().await {
            Ok(true) => Ok(()),
            Ok(false) => Err(anyhow!("the session did not answer after the login")),
            Err(e) => Err(anyhow!("{}", error_text(&e))),
        }
    }

    /// The generation of the OAuth token this sender's pool logs in with.
    pub fn token_generation(&self) -> Option<u64> {
        self.oauth.as_ref().map(|(_, g)| *g)
    }

    /// What to fix, when the server refused to authenticate us during the last batch.
    pub fn refused(&self) -> Option<String> {
        self.refused.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Sends what is due at `now` (a clock standing at `now`), up to [`BATCH`] rows. Returns
    /// early (the rest stays pending) when the server or the connection fails.
    pub async fn send_pending(&self, cfg: &Config, store: &Store, now: DateTime<Utc>) -> Result<Report> {
        self.send_due(cfg, store, &Clock::fixed(now), &CancellationToken::new()).await
    }

    /// [`Sender::send_pending`] at `clock`'s now, stopping between rows once `stop` is
    /// cancelled: the attempt in hand is finished and recorded, nothing new is claimed.
    pub async fn send_due(&self, cfg: &Config, store: &Store, clock: &Clock, stop: &CancellationToken) -> Result<Report> {
        let now = clock.now();
        let shared = Batch { budget: AtomicUsize::new(BATCH), halt: AtomicBool::new(false), recipients: std::sync::Mutex::new(HashMap::new()) };
        let workers = (0..PARALLEL).map(|_| self.worker(cfg, store, now, clock, stop, &shared));
        let mut total = Report::default();
        for r in futures_util::future::join_all(workers).await {
            let r = r?;
            total.sent += r.sent;
            total.deferred += r.deferred;
            total.failed += r.failed;
            total.refused += r.refused;
            total.waiting += r.waiting;
        }
        Ok(total)
    }

    /// One of the [`PARALLEL`] claim-and-send loops of a batch.
    async fn worker(&self, cfg: &Config, store: &Store, now: DateTime<Utc>, clock: &Clock, stop: &CancellationToken, shared: &Batch) -> Result<Report> {
        let mut report = Report::default();
        let lease = chrono::Duration::from_std(self.deadline + Duration::from_secs(30)).unwrap_or(chrono::Duration::minutes(5));
        loop {
            if stop.is_cancelled() || shared.halt.load(Ordering::SeqCst) {
                break;
            }
            if shared.budget.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_err() {
                break;
            }
            // The lease runs from the clock as it is at the claim: a long batch must not hand
            // out leases that have already run out.
            // Not a reply whose recipient other senders (another instance's) are sending to at the cap.
            let cap = (i64::from(self.per_hour), stamp(now - chrono::Duration::hours(1)));
            let Some(row) = store.claim_reply_capped(&stamp(now), &stamp(now.max(clock.now()) + lease), Some((cap.0, &cap.1))).await? else { break };
            // One reply at a time per recipient, so the hourly cap counts every send before it.
            let lock = {
                let mut map = shared.recipients.lock().unwrap_or_else(|p| p.into_inner());
                map.entry(row.recipient.to_ascii_lowercase()).or_default().clone()
            };
            let _held = lock.lock().await;
            if !self.one(cfg, store, now, &row, &mut report).await? {
                shared.halt.store(true, Ordering::SeqCst);
                break;
            }
        }
        Ok(report)
    }

    /// Handles one claimed row. `false` means stop the batch.
    async fn one(&self, cfg: &Config, store: &Store, now: DateTime<Utc>, row: &ClaimedReply, report: &mut Report) -> Result<bool> {
        let at = stamp(now);
        if row.interrupted {
            event(row, "interrupted");
        }
        if let Err(why) = recipient_allowed(cfg, row.kind, &row.recipient, row.area.as_deref()) {
            store.reply_attempted(row.id, &at, &AttemptEnd::Refused, None, Some(why)).await?;
            event(row, "refused");
            report.refused += 1;
            return Ok(true);
        }
        let (count, first) = if !row.kind.is_reply() {
            (0, None)
        } else {
            store.replies_sent_since(&row.recipient, &stamp(now - chrono::Duration::hours(1))).await?
        };
        if count >= i64::from(self.per_hour) {
            let first = first.as_deref().and_then(parse).unwrap_or(now);
            store.reply_waits(row.id, &stamp(first.max(now - chrono::Duration::hours(1)) + chrono::Duration::hours(1))).await?;
            event(row, "waiting");
            report.waiting += 1;
            return Ok(true);
        }
        if expired(row, now) {
            store.reply_attempted(row.id, &at, &AttemptEnd::Failed, None, Some("expired: not accepted within 3 days")).await?;
            event(row, "expired");
            report.failed += 1;
            return Ok(true);
        }
        let to: Address = match row.recipient.parse() {
            Ok(a) => a,
            Err(_) => {
                store.reply_attempted(row.id, &at, &AttemptEnd::Failed, None, Some("recipient is not a valid address")).await?;
                event(row, "failed");
                report.failed += 1;
                return Ok(true);
            }
        };
        let envelope = Envelope::new(Some(self.from.clone()), vec![to]).context("building the envelope")?;
        let sent = tokio::time::timeout(self.deadline, self.transport.send_raw(&envelope, row.raw.as_bytes())).await;
        let (verdict, code, detail) = match sent {
            Ok(Ok(response)) => (Verdict::Sent, Some(u16::from(response.code())), response.message().collect::<Vec<_>>().join(" ")),
            Ok(Err(e)) => {
                let code = e.status().map(u16::from);
                let text = error_text(&e);
                if crate::oauth::smtp_auth_refused(code, &text) {
                    // Our credentials, not this message: every reply waits (never failed).
                    *self.refused.lock().unwrap_or_else(|p| p.into_inner()) = Some(crate::oauth::smtp_refused(self.oauth.as_ref().map(|(c, _)| c), &text));
                    (Verdict::RetryAll, code, text)
                } else {
                    (classify(code, e.is_permanent(), e.is_transient()), code, text)
                }
            }
            Err(_) => (Verdict::RetryAll, None, format!("no answer within {} s", self.deadline.as_secs())),
        };
        let attempts = row.attempts + 1;
        let end = match verdict {
            Verdict::Sent => AttemptEnd::Sent,
            Verdict::Fail => AttemptEnd::Failed,
            Verdict::Retry | Verdict::RetryAll => {
                let next = now + chrono::Duration::from_std(backoff(attempts, row.id, self.retry.0, self.retry.1)).unwrap_or(chrono::Duration::hours(1));
                AttemptEnd::Deferred { next_attempt_at: stamp(next) }
            }
        };
        store.reply_attempted(row.id, &at, &end, code, Some(&detail)).await?;
        match end {
            AttemptEnd::Sent => {
                report.sent += 1;
                event(row, "sent");
            }
            AttemptEnd::Failed => {
                report.failed += 1;
                event(row, "failed");
            }
            _ => {
                report.deferred += 1;
                event(row, "deferred");
            }
        }
        Ok(verdict != Verdict::RetryAll)
    }
}

/// The send-time recipient check: a reply goes only to an address on the allowlist now, that
/// of the area its message was decided in (`area`; the deployment's when the area was not told
/// or is no longer configured), the list the sender was trusted by; an agenda only to one that
/// is also still a designated officer (`agenda.officers`, of the deployment or an area, on that
/// same configuration's allowlist); a coordinators' notice only to exactly the configured
/// `smtp.coordinators_notice_to`. The error is the refusal recorded in `outbox_attempts`.
pub fn recipient_allowed(cfg: &Config, kind: OutboxKind, recipient: &str, area: Option<&str>) -> Result<(), &'static str> {
    if kind == OutboxKind::Notice {
        let configured = cfg.file.smtp.as_ref().and_then(|s| s.coordinators_notice_to.as_deref());
        return match configured {
            Some(to) if to.trim().eq_ignore_ascii_case(recipient.trim()) => Ok(()),
            _ => Err("notice recipient is not smtp.coordinators_notice_to at send time"),
        };
    }
    if kind == OutboxKind::Agenda {
        // An officer of the deployment or of an area, on that same configuration's allowlist.
        let configs = || std::iter::once(cfg).chain(cfg.areas.iter().map(|a| &a.config));
        let officer = |c: &Config| c.agenda.officers.iter().any(|o| o.address.trim().eq_ignore_ascii_case(recipient.trim()));
        return if configs().any(|c| officer(c) && c.allowlist.allows(recipient)) {
            Ok(())
        } else if !configs().any(|c| c.allowlist.allows(recipient)) {
            Err("recipient not on the allowlist at send time")
        } else {
            Err("agenda recipient is no longer one of agenda.officers at send time")
        };
    }
    if area.map_or(cfg, |a| cfg.of_area(a)).allowlist.allows(recipient) {
        Ok(())
    } else {
        Err("recipient not on the allowlist at send time")
    }
}

/// Sends what is due at `now` with a transport built for this call (and, with `auth =
/// "oauth2"`, a token fetched for it). A long-running service keeps one [`Sender`] instead, for
/// its connection pool.
pub async fn send_pending(cfg: &Config, store: &Store, now: DateTime<Utc>) -> Result<Report> {
    sender_for(cfg).await?.send_pending(cfg, store, now).await
}

/// A sender for `cfg` as it stands, for one use (a command, `doctor`): with `auth = "oauth2"`,
/// a token is fetched for it.
pub async fn sender_for(cfg: &Config) -> Result<Sender> {
    let tokens = token_source(cfg)?;
    build_sender(cfg, tokens.as_ref()).await
}

/// The token source of `smtp.auth = "oauth2"` (`None` with any other `auth`, or no `[smtp]`).
pub fn token_source(cfg: &Config) -> Result<Option<TokenSource>> {
    let Some(sm) = cfg.file.smtp.as_ref() else { return Ok(None) };
    let Some(client) = sm.oauth().map_err(|e| anyhow!(e.to_string()))? else { return Ok(None) };
    Ok(Some(TokenSource::http(&client, sm.ca_file.as_deref(), Duration::from_secs(sm.command_timeout_secs.max(1)))?))
}

/// A sender for the token source's current token (or without one, when there is no source).
async fn build_sender(cfg: &Config, tokens: Option<&TokenSource>) -> Result<Sender> {
    let token = match tokens {
        Some(t) => Some(t.token().await?),
        None => None,
    };
    Sender::with_token(cfg, token.as_ref())
}

/// How often [`serve`] looks for due rows when nothing wakes it.
pub const POLL: Duration = Duration::from_secs(5);

/// The outbox side of `run`: sends what is due whenever `wake` is notified (the mailbox side
/// does so after each committed decision) and every [`POLL`] otherwise, until `shutdown`.
/// On shutdown the attempt in progress is finished and recorded, then it returns. Errors (an
/// unreadable secret, the database) are logged and retried with capped backoff; they never end
/// the loop.
///
/// With `auth = "oauth2"` one token source serves the loop: the sender (and its pool) is built
/// again whenever the token is due for refresh, and at once with a new token after the server
/// refused the one in use.
pub async fn serve(cfg: &Config, store: &Store, clock: &Clock, wake: &Notify, shutdown: CancellationToken) {
    let mut failures: u32 = 0;
    let mut sender: Option<Sender> = None;
    let tokens = match token_source(cfg) {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "The outbox sender cannot ask for OAuth tokens; replies wait until the configuration is mended.");
            shutdown.cancelled().await;
            return;
        }
    };
    while !shutdown.is_cancelled() {
        if let (Some(s), Some(t)) = (&sender, &tokens) {
            let refused = s.refused();
            if let Some(why) = &refused {
                tracing::error!(reason = %why, "The submission server refused the OAuth token; a new one is fetched at once.");
                t.invalidate(s.token_generation().unwrap_or(0)).await;
            }
            if refused.is_some() || t.due().await {
                // A new pool, whose connections log in with the new token.
                sender = None;
            }
        } else if let Some(why) = sender.as_ref().and_then(Sender::refused) {
            tracing::error!(reason = %why, "The submission server refused our credentials; replies wait.");
            // Built again next time: the secret or the token may have been replaced.
            sender = None;
        }
        let result = match &sender {
            Some(s) => s.send_due(cfg, store, clock, &shutdown).await,
            None => match build_sender(cfg, tokens.as_ref()).await {
                Ok(s) => {
                    sender = Some(s);
                    continue;
                }
                Err(e) => Err(e),
            },
        };
        let pause = match result {
            Ok(r) => {
                failures = 0;
                if r.sent + r.deferred + r.failed + r.refused + r.waiting >= BATCH {
                    continue;
                }
                POLL
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                // Built again next time: the secret or the token may have been replaced.
                sender = None;
                let pause = (Duration::from_secs(1) * 2u32.saturating_pow(failures.min(9))).min(Duration::from_secs(300));
                tracing::error!(error = %format!("{e:#}"), retry_in_s = pause.as_secs(), "The outbox sender could not run; it will try again.");
                pause
            }
        };
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = wake.notified() => {}
            _ = tokio::time::sleep(pause) => {}
        }
    }
}

/// The one log line per outcome: the outbox id, the reply kind and the status, nothing else.
fn event(row: &ClaimedReply, status: &'static str) {
    crate::monitor::outbox_attempt(status);
    match status {
        "sent" => tracing::info!(outbox_id = row.id, kind = row.kind.as_str(), status, attempt = row.attempts + 1, "Reply handed to the submission server."),
        "deferred" => tracing::warn!(outbox_id = row.id, kind = row.kind.as_str(), status, attempt = row.attempts + 1, "Reply not accepted yet; it will be retried."),
        "waiting" => tracing::warn!(outbox_id = row.id, kind = row.kind.as_str(), status, "Reply held back by the per-recipient hourly cap."),
        "interrupted" => tracing::warn!(outbox_id = row.id, kind = row.kind.as_str(), status, "An earlier send of this reply was cut short; it is sent again and may arrive twice."),
        _ => tracing::error!(outbox_id = row.id, kind = row.kind.as_str(), status, "Reply will not be sent; it is shown to coordinators."),
    }
}

fn expired(row: &ClaimedReply, now: DateTime<Utc>) -> bool {
    parse(&row.created_at).is_some_and(|c| now - c > EXPIRE_AFTER)
}

/// The error with its sources, for the attempts table.
fn error_text(e: &lettre::transport::smtp::Error) -> String {
    let mut s = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

fn tls(sm: &SmtpConfig) -> Result<LettreTls> {
    if sm.tls == Tls::None {
        // Config validation allows this only on loopback with allow_plaintext_on_loopback.
        return Ok(LettreTls::None);
    }
    // The system's roots and `ca_file`, as IMAP trusts them (not lettre's bundled ones).
    let anchors = crate::tls::trust_anchors(sm.ca_file.as_deref(), "smtp")?;
    let mut p = TlsParameters::builder(sm.host.clone()).certificate_store(CertificateStore::None);
    for der in anchors.system.into_iter().chain(anchors.configured) {
        p = p.add_root_certificate(Certificate::from_der(der.to_vec()).context("a CA certificate for [smtp]")?);
    }
    let params = p.build_rustls().context("TLS parameters for [smtp]")?;
    Ok(match sm.tls {
        Tls::Implicit => LettreTls::Wrapper(params),
        _ => LettreTls::Required(params),
    })
}

/// The OAuth2 access token: `token_file` (re-read on every new sender), or the first line
/// `token_command` prints.
fn token(sm: &SmtpConfig) -> Result<String> {
    if let Some(path) = &sm.token_file {
        return crate::config::read_secret(path).with_context(|| format!("reading smtp.token_file {}", path.display()));
    }
    let cmd = sm.token_command.as_deref().ok_or_else(|| anyhow!("smtp.token_file or smtp.token_command is needed for xoauth2"))?;
    let out = std::process::Command::new("/bin/sh").arg("-c").arg(cmd).stdin(std::process::Stdio::null()).output().context("running smtp.token_command")?;
    if !out.status.success() {
        anyhow::bail!("smtp.token_command exited with {}", out.status);
    }
    let text = String::from_utf8(out.stdout).context("smtp.token_command printed something that is not UTF-8")?;
    let t = text.lines().next().unwrap_or("").trim().to_owned();
    if t.is_empty() {
        anyhow::bail!("smtp.token_command printed no token");
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff(1, 10, FIRST_BACKOFF, MAX_BACKOFF), Duration::from_secs(60));
        assert_eq!(backoff(2, 10, FIRST_BACKOFF, MAX_BACKOFF), Duration::from_secs(120));
        assert_eq!(backoff(3, 10, FIRST_BACKOFF, MAX_BACKOFF), Duration::from_secs(240));
        assert_eq!(backoff(7, 10, FIRST_BACKOFF, MAX_BACKOFF), MAX_BACKOFF);
        assert_eq!(backoff(1000, 10, FIRST_BACKOFF, MAX_BACKOFF), MAX_BACKOFF);
        assert!(backoff(1000, 9, FIRST_BACKOFF, MAX_BACKOFF) <= MAX_BACKOFF.mul_f64(1.45));
        assert!(backoff(1, 3, FIRST_BACKOFF, MAX_BACKOFF) > backoff(1, 2, FIRST_BACKOFF, MAX_BACKOFF), "rows deferred together spread out");
    }

    #[test]
    fn server_answers_are_classified() {
        assert_eq!(classify(Some(451), false, true), Verdict::Retry);
        assert_eq!(classify(Some(452), false, true), Verdict::Retry);
        assert_eq!(classify(Some(550), true, false), Verdict::Fail);
        assert_eq!(classify(Some(554), true, false), Verdict::Fail);
        assert_eq!(classify(Some(535), true, false), Verdict::RetryAll, "a bad password fails no reply");
        assert_eq!(classify(Some(421), false, true), Verdict::RetryAll);
        assert_eq!(classify(None, false, false), Verdict::RetryAll, "connection and TLS errors");
    }

    fn xoauth2(token_file: Option<&str>, token_command: Option<&str>) -> SmtpConfig {
        SmtpConfig {
            host: "127.0.0.1".into(),
            port: 587,
            tls: Tls::Starttls,
            username: "marac@example.test".into(),
            auth: Auth::Xoauth2,
            password_file: None,
            token_file: token_file.map(Into::into),
            token_command: token_command.map(Into::into),
            token_url: None,
            tenant: None,
            client_id: None,
            client_secret_file: None,
            scope: None,
            ca_file: None,
            from: None,
            allow_plaintext_on_loopback: false,
            max_replies_per_recipient_per_hour: 20,
            coordinators_notice_to: None,
            command_timeout_secs: 30,
            retry_first_secs: 60,
            retry_max_secs: 3600,
        }
    }

    #[test]
    fn oauth2_tokens_come_from_the_file_or_the_command() {
        assert_eq!(token(&xoauth2(None, Some("printf 'tok-123\\nsecond line\\n'"))).unwrap(), "tok-123");
        assert!(token(&xoauth2(None, Some("exit 3"))).is_err(), "a failing command gives no token");
        assert!(token(&xoauth2(None, Some("true"))).is_err(), "an empty token is refused");
        let f = std::env::temp_dir().join(format!("marac-token-{}", std::process::id()));
        std::fs::write(&f, "from-file\n").unwrap();
        assert_eq!(token(&xoauth2(Some(f.to_str().unwrap()), Some("printf other"))).unwrap(), "from-file", "the file wins");
        let _ = std::fs::remove_file(&f);
    }

    #[test]
    fn notices_go_only_to_the_configured_coordinators_address() {
        let text = "area = \"T\"\n[senders]\nallow = [\"nhs.example.test\"]\ntrusted_authserv_id = \"mx.example.test\"\n\
                    [schedule]\nkind = \"weekly\"\nweekday = \"tue\"\n[replies]\nfrom = \"marac@example.test\"\n\
                    [smtp]\nhost = \"127.0.0.1\"\nport = 587\ntls = \"starttls\"\nusername = \"u\"\npassword_file = \"p\"\n\
                    coordinators_notice_to = \"Coordinators@Marac.example.test\"\n";
        let cfg = crate::config::parse(text, Vec::new()).unwrap().build().unwrap();
        assert_eq!(recipient_allowed(&cfg, OutboxKind::Notice, "coordinators@marac.example.test", None), Ok(()));
        assert!(recipient_allowed(&cfg, OutboxKind::Notice, "someone@nhs.example.test", None).is_err(), "a notice goes nowhere else, allowlisted or not");
        assert!(recipient_allowed(&cfg, OutboxKind::Notice, "other@marac.example.test", None).is_err());
        assert!(recipient_allowed(&cfg, OutboxKind::Reply(crate::decide::ReplyKind::Acknowledgement), "coordinators@marac.example.test", None).is_err(), "a reply still needs the allowlist");
        assert_eq!(recipient_allowed(&cfg, OutboxKind::Reply(crate::decide::ReplyKind::Holding), "a@nhs.example.test", None), Ok(()));
        let mut without = cfg.clone();
        without.file.smtp.as_mut().unwrap().coordinators_notice_to = None;
        assert!(recipient_allowed(&without, OutboxKind::Notice, "coordinators@marac.example.test", None).is_err(), "unset since it was queued: refused");
    }

    #[test]
    fn a_reply_is_checked_against_the_allowlist_of_its_messages_area() {
        let text = "area = \"T\"\n[senders]\nallow = [\"nhs.example.test\"]\ntrusted_authserv_id = \"mx.example.test\"\n\
                    [schedule]\nkind = \"weekly\"\nweekday = \"tue\"\n[replies]\nfrom = \"marac@example.test\"\n\
                    [areas.north]\nname = \"North\"\n[areas.north.route]\nrecipients = [\"north@marac.example.test\"]\n\
                    [areas.north.senders]\nallow = [\"north-council.example.test\"]\n[areas.north.case]\nreference_format = \"NK-{year}-{seq:05}\"\n\
                    [areas.south]\nname = \"South\"\n[areas.south.route]\nrecipients = [\"south@marac.example.test\"]\n[areas.south.case]\nreference_format = \"SK-{year}-{seq:05}\"\n";
        let cfg = crate::config::parse(text, Vec::new()).unwrap().build().unwrap();
        let ack = OutboxKind::Reply(crate::decide::ReplyKind::Acknowledgement);
        assert_eq!(recipient_allowed(&cfg, ack, "idva@north-council.example.test", Some("north")), Ok(()), "allowed by the area's own list");
        assert_eq!(recipient_allowed(&cfg, ack, "idva@north-council.example.test", Some("south")), Err("recipient not on the allowlist at send time"), "not by another area's");
        assert_eq!(recipient_allowed(&cfg, ack, "idva@north-council.example.test", None), Err("recipient not on the allowlist at send time"), "nor by the deployment's");
        assert_eq!(recipient_allowed(&cfg, ack, "a@nhs.example.test", Some("south")), Ok(()), "an area without a list of its own takes the deployment's");
        assert_eq!(recipient_allowed(&cfg, ack, "a@nhs.example.test", Some("north")), Err("recipient not on the allowlist at send time"), "the area's list replaces the deployment's");
        assert_eq!(recipient_allowed(&cfg, ack, "a@nhs.example.test", Some("gone")), Ok(()), "an area no longer configured: the deployment's");
    }

    #[test]
    fn an_agenda_goes_only_to_an_allowlisted_address_still_named_an_officer() {
        let text = "area = \"T\"\n[senders]\nallow = [\"nhs.example.test\", \"x.pnn.police.example.test\"]\ntrusted_authserv_id = \"mx.example.test\"\n\
                    [schedule]\nkind = \"weekly\"\nweekday = \"tue\"\n[replies]\nfrom = \"marac@example.test\"\n\
                    [agenda]\nofficers = [\"Health <DMO@nhs.example.test>\"]\n";
        let cfg = crate::config::parse(text, Vec::new()).unwrap().build().unwrap();
        assert_eq!(recipient_allowed(&cfg, OutboxKind::Agenda, "dmo@nhs.example.test", None), Ok(()));
        assert_eq!(recipient_allowed(&cfg, OutboxKind::Agenda, "other@nhs.example.test", None), Err("agenda recipient is no longer one of agenda.officers at send time"), "allowlisted, but no officer");
        let mut removed = cfg.clone();
        let narrower = crate::config::Allowlist::new(&["x.pnn.police.example.test".to_owned()]).unwrap();
        removed.allowlist = narrower.clone();
        removed.areas[0].config.allowlist = narrower;
        assert_eq!(recipient_allowed(&removed, OutboxKind::Agenda, "dmo@nhs.example.test", None), Err("recipient not on the allowlist at send time"));
    }
}
