//! The IMAP side of `run`: the referrals folder → triage → the folder of the outcome.
//!
//! Thin I/O around the pipeline. One [`ingest_pass`] reads the folder's backlog in UID order in
//! batches bounded by count and bytes (INTERNALDATE is the arrival time). The messages of a batch
//! are read a few at a time ahead (reading does not depend on the history) and decided and
//! committed one at a time in UID order ([`crate::triage::decide_and_commit`]); only then are
//! they MOVEd (or COPY + `\Deleted` + EXPUNGE), one command per outcome folder, and the UID
//! checkpoint advanced. A message whose content (sha256) is already in the database is
//! never decided again: it is filed into the folder of its *first* outcome, so a crash between the
//! commit and the move ends in exactly one decision and one reply. [`watch`] repeats passes with
//! IDLE (or polling) and reconnects with capped exponential backoff and jitter.
//!
//! With `auth = "oauth2"` the watch keeps one [`TokenSource`]: a session is renewed (logged out
//! and in again, between passes) once its token is due for refresh, and after a session ends
//! in an error (a server ends it when its token expires) the token in hand is dropped, so the
//! next session logs in with a new one. The checkpoint and the content digest keep that from
//! losing or repeating work.
//!
//! Every server command has a time limit (`imap.command_timeout_secs`). Logs carry message
//! references, UIDs and counts only: no addresses, subjects or bodies.

use crate::clock::Clock;
use crate::config::{read_secret, Auth, Config, Folders, ImapConfig, Tls};
use crate::decide::Outcome;
use crate::oauth::TokenSource;
use crate::store::{Action, Store, StoreError};
use crate::triage::TriageError;
use anyhow::{anyhow, bail, Context, Result};
use async_imap::extensions::idle::IdleResponse;
use async_imap::{Client, Session};
use futures_util::TryStreamExt;
use rustls_pki_types::ServerName;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Any byte stream an IMAP session runs over: TLS, or plain TCP on loopback when allowed.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug> Io for T {}

/// A logged-in IMAP session.
pub type ImapSession = Session<Box<dyn Io>>;

/// Why a pass or the watch ended, by what the caller does about it ([`MailboxError::action`]).
#[derive(Debug, thiserror::Error)]
pub enum MailboxError {
    /// The server, the connection or its TLS failed: reconnect after a pause.
    #[error("{0:#}")]
    Server(#[from] anyhow::Error),
    /// The configuration cannot work as it is: stop until an admin changes it.
    #[error("{0}")]
    Config(String),
    /// The database failed: tried again after a pause, unless its own action is to stop.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl MailboxError {
    /// [`Action::Retry`] (reconnect after a pause) or [`Action::Stop`]; a pass never parks.
    pub fn action(&self) -> Action {
        match self {
            MailboxError::Server(_) => Action::Retry,
            MailboxError::Config(_) => Action::Stop,
            MailboxError::Store(e) if e.action() == Action::Stop => Action::Stop,
            MailboxError::Store(_) => Action::Retry,
        }
    }
}

/// What one pass did, in counts only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PassSummary {
    /// Messages decided and committed in this pass.
    pub decided: usize,
    /// Messages seen before (same content) that were only filed.
    pub refiled: usize,
}

fn limit(cfg: &ImapConfig) -> Duration {
    Duration::from_secs(cfg.command_timeout_secs.max(1))
}

/// Runs one server command under the configured time limit.
async fn timed<T, E>(d: Duration, what: &str, fut: impl Future<Output = std::result::Result<T, E>>) -> Result<T>
where
    E: std::error::Error + Send + Sync + 'static,
{
    match tokio::time::timeout(d, fut).await {
        Ok(r) => r.with_context(|| format!("IMAP {what}")),
        Err(_) => bail!("IMAP {what}: no answer within {} s", d.as_secs()),
    }
}

/// The TLS client configuration: the system's roots plus `ca_file`, if set.
pub fn tls_config(cfg: &ImapConfig) -> Result<rustls::ClientConfig> {
    crate::tls::client_config(cfg.ca_file.as_deref(), "imap")
}

/// Opens the connection (implicit TLS, STARTTLS, or plaintext on loopback when the configuration
/// allows it), reads the greeting and logs in. With `auth = "oauth2"` the token comes from a
/// source made for this one connection; [`watch`] keeps one across its reconnections instead
/// ([`connect_with`]).
pub async fn connect(cfg: &ImapConfig) -> Result<ImapSession> {
    let tokens = token_source(cfg).map_err(|e| anyhow!(e))?;
    connect_with(cfg, tokens.as_ref()).await
}

/// The token source of `auth = "oauth2"` (`None` with any other `auth`).
pub fn token_source(cfg: &ImapConfig) -> Result<Option<TokenSource>, MailboxError> {
    match cfg.oauth() {
        Ok(None) => Ok(None),
        Ok(Some(client)) => Ok(Some(TokenSource::http(&client, cfg.ca_file.as_deref(), limit(cfg)).map_err(|e| MailboxError::Config(format!("{e:#}")))?)),
        Err(e) => Err(MailboxError::Config(e.to_string())),
    }
}

/// [`connect`] with the token source of `auth = "oauth2"`. A token the server refuses is
/// dropped from the source; one that came from its cache is replaced at once and tried again on
/// the same connection (the server may have ended it early), a fresh one refused is explained.
pub async fn connect_with(cfg: &ImapConfig, tokens: Option<&TokenSource>) -> Result<ImapSession> {
    if cfg.tls == Tls::None {
        let loopback = cfg.host == "localhost" || cfg.host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
        if !(cfg.allow_plaintext_on_loopback && loopback) {
            bail!("imap.tls: plaintext is refused off loopback");
        }
    }
    let d = limit(cfg);
    let tcp = timed(d, "connect", TcpStream::connect((cfg.host.as_str(), cfg.port))).await?;
    let _ = tcp.set_nodelay(true);
    let stream: Box<dyn Io> = match cfg.tls {
        Tls::None => Box::new(tcp),
        Tls::Implicit => Box::new(tls_wrap(cfg, tcp).await?),
        Tls::Starttls => {
            let mut client = Client::new(tcp);
            timed(d, "greeting", client.read_response()).await?.ok_or_else(|| anyhow!("IMAP server closed before its greeting"))?;
            timed(d, "STARTTLS", client.run_command_and_check_ok("STARTTLS", None)).await?;
            Box::new(tls_wrap(cfg, client.into_inner()).await?)
        }
    };
    let mut client = Client::new(stream);
    if cfg.tls != Tls::Starttls {
        timed(d, "greeting", client.read_response()).await?.ok_or_else(|| anyhow!("IMAP server closed before its greeting"))?;
    }
    let result = match cfg.auth {
        Auth::Password => {
            let password = match &cfg.password_file {
                Some(p) => read_secret(p).with_context(|| format!("imap.password_file {}", p.display()))?,
                None => bail!("imap.password_file: required with auth = \"password\""),
            };
            tokio::time::timeout(d, client.login(&cfg.username, &password)).await
        }
        Auth::Xoauth2 => {
            let token = oauth_token(cfg, d).await?;
            crate::monitor::token_read("imap", &token);
            tokio::time::timeout(d, client.authenticate("XOAUTH2", XOAuth2 { user: cfg.username.clone(), token, sent: false })).await
        }
        Auth::Oauth2 => return oauth2_login(cfg, client, tokens, d).await,
    };
    match result {
        Ok(Ok(session)) => Ok(session),
        Ok(Err((e, _))) => Err(anyhow!(e).context("IMAP authentication")),
        Err(_) => bail!("IMAP authentication: no answer within {} s", d.as_secs()),
    }
}

/// XOAUTH2 with the source's token: a refused token is dropped; one from the cache is replaced
/// at once and tried again, a fresh one refused is explained (which permission or mailbox
/// setting is missing).
async fn oauth2_login(cfg: &ImapConfig, mut client: Client<Box<dyn Io>>, tokens: Option<&TokenSource>, d: Duration) -> Result<ImapSession> {
    let Some(tokens) = tokens else { bail!("imap.auth = \"oauth2\": no token source") };
    let oauth = cfg.oauth().map_err(|e| anyhow!(e.to_string()))?.ok_or_else(|| anyhow!("imap.auth is not \"oauth2\""))?;
    for attempt in 0..2 {
        let cached = !tokens.due().await;
        let token = tokens.token().await?;
        crate::monitor::token_read("imap", token.secret.expose());
        let login = XOAuth2 { user: cfg.username.clone(), token: token.secret.expose().to_owned(), sent: false };
        match tokio::time::timeout(d, client.authenticate("XOAUTH2", login)).await {
            Ok(Ok(session)) => return Ok(session),
            Ok(Err((e, back))) => {
                tokens.invalidate(token.generation).await;
                if cached && attempt == 0 {
                    tracing::warn!(generation = token.generation, "The IMAP server refused the cached OAuth token; trying a new one.");
                    client = back;
                    continue;
                }
                return Err(anyhow!(e).context(crate::oauth::imap_refused(&oauth, &cfg.username)).context("IMAP authentication"));
            }
            Err(_) => bail!("IMAP authentication: no answer within {} s", d.as_secs()),
        }
    }
    bail!("IMAP authentication: the server refused two tokens")
}

/// The OAuth2 bearer token: from `token_file` (re-read at every connection, so an external
/// refresher can replace it), else printed by `token_command`.
async fn oauth_token(cfg: &ImapConfig, d: Duration) -> Result<String> {
    if let Some(p) = &cfg.token_file {
        return read_secret(p).with_context(|| format!("imap.token_file {}", p.display()));
    }
    let Some(cmd) = &cfg.token_command else { bail!("imap.token_file: auth = \"xoauth2\" needs token_file or token_command") };
    // std's process API polled without blocking (the command is short and prints a few bytes).
    let mut child = std::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(cmd)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .context("imap.token_command")?;
    let deadline = tokio::time::Instant::now() + d;
    let status = loop {
        if let Some(status) = child.try_wait().context("imap.token_command")? {
            break status;
        }
        if tokio::time::Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            bail!("imap.token_command: no token within {} s", d.as_secs());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    if !status.success() {
        bail!("imap.token_command failed ({status})");
    }
    let mut stdout = Vec::new();
    std::io::Read::read_to_end(&mut child.stdout.take().expect("piped"), &mut stdout).context("imap.token_command")?;
    let out = std::process::Output { status, stdout, stderr: Vec::new() };
    let token = String::from_utf8(out.stdout).context("imap.token_command: the token is not UTF-8")?.trim().to_owned();
    if token.is_empty() {
        bail!("imap.token_command printed no token");
    }
    Ok(token)
}

/// SASL XOAUTH2: the initial response carries user and bearer token; a failure comes back as a
/// challenge holding a JSON error, which must be answered with an empty response before the
/// server sends its NO.
struct XOAuth2 {
    user: String,
    token: String,
    sent: bool,
}

impl async_imap::Authenticator for XOAuth2 {
    type Response = String;
    fn process(&mut self, _challenge: &[u8]) -> String {
        if std::mem::replace(&mut self.sent, true) {
            String::new()
        } else {
            format!("user={}\x01auth=Bearer {}\x01\x01", self.user, self.token)
        }
    }
}

async fn tls_wrap(cfg: &ImapConfig, tcp: TcpStream) -> Result<tokio_rustls::client::TlsStream<TcpStream>> {
    let connector = tokio_rustls::TlsConnector::from(Arc::new(tls_config(cfg)?));
    let name = ServerName::try_from(cfg.host.clone()).context("imap.host: not a valid TLS server name")?;
    timed(limit(cfg), "TLS handshake", connector.connect(name, tcp)).await
}

/// The folder a message of this outcome is filed into.
pub fn folder_for(outcome: Outcome, folders: &Folders) -> &str {
    match outcome {
        Outcome::Accepted => &folders.accepted,
        Outcome::Rejected => &folders.rejected,
        Outcome::Review => &folders.review,
        Outcome::Quarantined => &folders.quarantined,
        Outcome::Ignored => &folders.ignored,
    }
}

fn imap_cfg(cfg: &Config) -> Result<&ImapConfig, MailboxError> {
    cfg.file.imap.as_ref().ok_or_else(|| MailboxError::Config("the [imap] section is missing from the configuration".into()))
}

/// The configurations the mailboxes are watched with: one per distinct mailbox of the areas
/// ([`crate::config::Area::mailbox`]), each the deployment's with `[imap]` that mailbox's. A
/// deployment of one mailbox is watched with its own configuration.
pub fn watched(cfg: &Config) -> Result<Vec<Config>, MailboxError> {
    let mut out: Vec<Config> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for a in &cfg.areas {
        let Some(imap) = &a.config.file.imap else { continue };
        let key = a.mailbox();
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        let mut w = cfg.clone();
        w.file.imap = Some(imap.clone());
        out.push(w);
    }
    if out.is_empty() {
        return Err(MailboxError::Config("the [imap] section is missing from the configuration".into()));
    }
    Ok(out)
}

/// Whether the deployment's areas have more than one mailbox.
fn several_mailboxes(cfg: &Config) -> bool {
    cfg.areas.iter().map(|a| a.mailbox()).collect::<std::collections::BTreeSet<_>>().len() > 1
}

/// The mailbox `cfg` watches, as [`crate::config::Area::mailbox`] names it.
fn mailbox_key(cfg: &Config) -> String {
    crate::config::areas::mailbox_key(cfg.file.imap.as_ref())
}

/// The mailbox `cfg` watches as operators' metrics name it: the ids of the areas whose referrals
/// arrive in it, joined by `+` (`default` for a file without areas). No address or folder name.
pub fn mailbox_label(cfg: &Config) -> String {
    let key = mailbox_key(cfg);
    let ids: Vec<&str> = cfg.areas.iter().filter(|a| a.mailbox() == key).map(|a| a.id.as_str()).collect();
    if ids.is_empty() { crate::config::DEFAULT_AREA.to_owned() } else { ids.join("+") }
}

/// Where a mailbox's checkpoint is kept: under its folder's name while the deployment has one
/// mailbox (as before areas), else under the whole mailbox's name (server, account, folder), so
/// that two accounts' INBOXes never share one.
fn checkpoint_key(cfg: &Config, imap: &ImapConfig) -> String {
    if several_mailboxes(cfg) { mailbox_key(cfg) } else { imap.folder.clone() }
}

/// Connects to each mailbox ([`watched`]), runs one pass over its backlog (each message decided
/// at `clock`'s now) and logs out; the passes' sum.
pub async fn ingest_pass(cfg: &Config, store: &Store, clock: &Clock) -> Result<PassSummary, MailboxError> {
    let mut total = PassSummary::default();
    for w in &watched(cfg)? {
        let s = ingest_one(w, store, clock).await?;
        total.decided += s.decided;
        total.refiled += s.refiled;
    }
    Ok(total)
}

async fn ingest_one(cfg: &Config, store: &Store, clock: &Clock) -> Result<PassSummary, MailboxError> {
    let imap = imap_cfg(cfg)?;
    let mut session = connect(imap).await?;
    let summary = pass(&mut session, cfg, store, clock).await;
    let _ = tokio::time::timeout(limit(imap), session.logout()).await;
    summary
}

/// The outcome folders of the mailbox `cfg` watches ([`watched`]): those of every area of this
/// mailbox, and the top level's (for a message whose area could not be told), each once.
pub fn outcome_folders(cfg: &Config) -> Vec<&String> {
    let key = mailbox_key(cfg);
    let mut names: Vec<&String> = Vec::new();
    for f in std::iter::once(&cfg.file.folders).chain(cfg.areas.iter().filter(|a| a.mailbox() == key).map(|a| &a.config.file.folders)) {
        names.extend([&f.accepted, &f.rejected, &f.review, &f.quarantined, &f.ignored]);
    }
    names.sort_unstable();
    names.dedup();
    names
}

/// Creates the outcome folders that do not exist yet.
async fn ensure_folders(session: &mut ImapSession, cfg: &Config, d: Duration) -> Result<()> {
    let mut existing: Vec<String> = timed(d, "LIST", async { session.list(Some(""), Some("*")).await?.map_ok(|n| n.name().to_owned()).try_collect().await }).await?;
    for name in outcome_folders(cfg) {
        if !existing.iter().any(|e| e == name) {
            timed(d, "CREATE", session.create(name)).await?;
            existing.push(name.clone());
        }
    }
    Ok(())
}

/// One pass on an open session: every message above the checkpoint, in UID order.
pub async fn pass(session: &mut ImapSession, cfg: &Config, store: &Store, clock: &Clock) -> Result<PassSummary, MailboxError> {
    pass_waking(session, cfg, store, clock, None, &CancellationToken::new()).await
}

/// [`pass`], notifying `wake` (the outbox sender) after each committed decision, and ending
/// early, between two messages, once `stop` is cancelled. Three steps per batch: [`fetch`],
/// [`decide_batch`], [`file_batch`].
async fn pass_waking(session: &mut ImapSession, cfg: &Config, store: &Store, clock: &Clock, wake: Option<&Notify>, stop: &CancellationToken) -> Result<PassSummary, MailboxError> {
    let imap = imap_cfg(cfg)?;
    let folder = select(session, cfg, imap).await?;
    let mut last = match store.mailbox_checkpoint(&folder.checkpoint).await? {
        Some((v, uid)) if v == folder.validity => uid,
        Some(_) => {
            tracing::warn!(folder = folder.name, "UIDVALIDITY changed: rescanning; messages seen before are only filed");
            0
        }
        None => 0,
    };
    let mut summary = PassSummary::default();
    for batch in batches(session, &folder, imap.batch, last).await? {
        let fetched = fetch(session, &folder, &batch, last).await?;
        let filed = decide_batch(session, &folder, &fetched, cfg, store, clock, wake, stop, &mut summary).await?;
        if let Some(uid) = file_batch(session, &folder, &filed, store).await? {
            last = uid;
        }
        if stop.is_cancelled() {
            break;
        }
    }
    Ok(summary)
}

/// The selected folder and what the server can do with it.
struct Selected<'c> {
    name: &'c str,
    /// Where its checkpoint is kept ([`checkpoint_key`]).
    checkpoint: String,
    validity: u32,
    has_move: bool,
    has_uidplus: bool,
    /// The time limit of one command.
    d: Duration,
}

/// Creates the outcome folders if missing and selects the referrals folder.
async fn select<'c>(session: &mut ImapSession, cfg: &Config, imap: &'c ImapConfig) -> Result<Selected<'c>> {
    let d = limit(imap);
    ensure_folders(session, cfg, d).await?;
    let caps = timed(d, "CAPABILITY", session.capabilities()).await?;
    let mailbox = timed(d, "SELECT", session.select(&imap.folder)).await?;
    let validity = mailbox.uid_validity.ok_or_else(|| anyhow!("IMAP SELECT: the server gave no UIDVALIDITY"))?;
    Ok(Selected { name: &imap.folder, checkpoint: checkpoint_key(cfg, imap), validity, has_move: caps.has_str("MOVE"), has_uidplus: caps.has_str("UIDPLUS"), d })
}

/// The UIDs above `last`, in order, in batches of at most `batch` messages and
/// [`BATCH_BYTES`] (sizes are asked first, so that one fetch never holds more in memory).
async fn batches(session: &mut ImapSession, folder: &Selected<'_>, batch: u32, last: u32) -> Result<Vec<Vec<u32>>> {
    let d = folder.d;
    let mut uids: Vec<u32> = timed(d, "UID SEARCH", session.uid_search(format!("UID {}:*", last.saturating_add(1)))).await?.into_iter().filter(|u| *u > last).collect();
    uids.sort_unstable();
    let mut runs = Vec::new();
    for chunk in uids.chunks(batch.max(1) as usize) {
        let set = chunk.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
        let sizes: Vec<(u32, u32)> = timed(d, "UID FETCH (RFC822.SIZE)", async {
            session.uid_fetch(&set, "(UID RFC822.SIZE)").await?.try_filter_map(|f| async move { Ok(f.uid.map(|uid| (uid, f.size.unwrap_or(0)))) }).try_collect().await
        })
        .await?;
        runs.extend(byte_batches(chunk, &sizes, BATCH_BYTES));
    }
    Ok(runs)
}

/// One message as fetched: its UID, INTERNALDATE and bytes.
struct Fetched {
    uid: u32,
    arrived: Option<chrono::DateTime<chrono::FixedOffset>>,
    raw: Arc<Vec<u8>>,
}

/// Fetches one batch (without setting `\Seen`), in UID order, leaving out what is at or below
/// `last`.
async fn fetch(session: &mut ImapSession, folder: &Selected<'_>, batch: &[u32], last: u32) -> Result<Vec<Fetched>> {
    let set = batch.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
    let mut fetched: Vec<Fetched> = timed(folder.d, "UID FETCH", async {
        session
            .uid_fetch(&set, "(UID INTERNALDATE BODY.PEEK[])")
            .await?
            .try_filter_map(|f| async move { Ok::<_, async_imap::error::Error>(f.uid.map(|uid| Fetched { uid, arrived: f.internal_date(), raw: Arc::new(f.body().unwrap_or_default().to_vec()) })) })
            .try_collect()
            .await
    })
    .await?;
    fetched.sort_by_key(|m| m.uid);
    fetched.retain(|m| m.uid > last);
    Ok(fetched)
}

/// Decides and commits each fetched message in UID order, and says which folder each goes to.
/// Reading does not depend on the history, so the next messages are read while one is decided.
/// A message seen before (same content) is not decided again: it goes to the folder of its first
/// outcome. A message whose trouble is its own is parked for review; the database's trouble ends
/// the pass (to be tried again, or to stop the service).
#[allow(clippy::too_many_arguments)]
async fn decide_batch<'f>(
    session: &mut ImapSession,
    folder: &Selected<'_>,
    fetched: &[Fetched],
    cfg: &'f Config,
    store: &Store,
    clock: &Clock,
    wake: Option<&Notify>,
    stop: &CancellationToken,
    summary: &mut PassSummary,
) -> Result<Vec<(u32, &'f str)>, MailboxError> {
    let opts = crate::triage::inspect_options(cfg);
    let ahead = read_ahead();
    let mut reading = std::collections::VecDeque::new();
    let mut filed = Vec::new();
    let mailbox = mailbox_key(cfg);
    for (i, m) in fetched.iter().enumerate() {
        if stop.is_cancelled() {
            break;
        }
        while reading.len() + i < fetched.len().min(i + ahead) {
            reading.push_back(crate::triage::read(fetched[i + reading.len()].raw.clone(), opts.clone()));
        }
        let inspection = reading.pop_front().expect("this message is being read");
        let uid = m.uid;
        let (outcome, area) = match store.first_outcome_by_sha256(&crate::mime::sha256_hex(&m.raw)).await? {
            Some((outcome, area)) => {
                summary.refiled += 1;
                tracing::info!(uid, "message seen before: filing it under its first outcome");
                (outcome, area)
            }
            None => {
                let started = std::time::Instant::now();
                let now = clock.now().fixed_offset();
                let source = format!("imap:{};uidvalidity={};uid={uid}", folder.name, folder.validity);
                let decide = async {
                    let inspection = inspection.await.map_err(|e| TriageError::Message(format!("reading the message: {e}")))?;
                    crate::monitor::reader_problems(&inspection.problems);
                    crate::triage::decide_and_commit(inspection, &m.raw, Some(&source), m.arrived, now, cfg, Some(&mailbox), store).await
                };
                let record = match keeping_alive(session, folder.d, decide).await {
                    Ok(record) => record,
                    // The database's trouble ends the pass (to retry, or to stop the service).
                    Err(TriageError::Store(e)) if e.action() != Action::Park => return Err(e.within(format!("triage of UID {uid}")).into()),
                    // This message's own: parked for a coordinator; the mailbox goes on.
                    Err(e) => {
                        tracing::error!(uid, error = %e, "A message could not be decided; it is filed for review without a reply.");
                        crate::triage::record_unprocessable(&m.raw, Some(&source), m.arrived, now, &crate::triage::candidates(cfg, Some(&mailbox)), store).await.map_err(|e| e.within(format!("recording UID {uid} for review")))?
                    }
                };
                summary.decided += 1;
                if let Some(wake) = wake {
                    wake.notify_one();
                }
                crate::monitor::decided(uid, &record, started.elapsed());
                (record.outcome, record.area)
            }
        };
        // Filed in its area's folders (the top level's when its area could not be told, or when
        // its first decision was another mailbox's area: a copy moved across mailboxes, whose
        // folders this mailbox need not have; the top level's are made in every mailbox).
        let folders = cfg.area(&area).filter(|a| a.mailbox() == mailbox).map_or(&cfg.file.folders, |a| &a.config.file.folders);
        filed.push((uid, folder_for(outcome, folders)));
    }
    Ok(filed)
}

/// Files what was committed (one command per outcome folder), then advances the checkpoint;
/// returns the new checkpoint. A crash before this point leaves committed messages in the
/// folder; the next pass only files them (their content is known).
async fn file_batch(session: &mut ImapSession, folder: &Selected<'_>, filed: &[(u32, &str)], store: &Store) -> Result<Option<u32>, MailboxError> {
    let mut targets: Vec<&str> = filed.iter().map(|(_, t)| *t).collect();
    targets.sort_unstable();
    targets.dedup();
    for target in targets {
        let uids: Vec<u32> = filed.iter().filter(|(_, t)| *t == target).map(|(u, _)| *u).collect();
        file_messages(session, &uids, target, folder.has_move, folder.has_uidplus, folder.d).await?;
    }
    let Some((uid, _)) = filed.last() else { return Ok(None) };
    store.set_mailbox_checkpoint(&folder.checkpoint, folder.validity, *uid).await?;
    Ok(Some(*uid))
}

/// Messages read at once while decisions go on: one per core, at most four.
fn read_ahead() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, 4)
}

/// How often a NOOP goes to the server while one message is being decided, so a long decision
/// (a slow attachment, a busy database) never leaves the session idle long enough for the
/// server or a firewall on the way to drop it.
pub const KEEPALIVE: Duration = Duration::from_secs(60);

/// Runs `work` (which does not use the session) while sending NOOPs every [`KEEPALIVE`]. A failed
/// NOOP does not cut the work short: it is committed, and the command after it finds the
/// connection gone.
async fn keeping_alive<T>(session: &mut ImapSession, d: Duration, work: impl Future<Output = T>) -> T {
    tokio::pin!(work);
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + KEEPALIVE, KEEPALIVE);
    let mut alive = true;
    loop {
        tokio::select! {
            out = &mut work => return out,
            _ = tick.tick(), if alive => {
                if let Err(e) = timed(d, "NOOP", session.noop()).await {
                    tracing::warn!(error = %format!("{e:#}"), "Keep-alive NOOP failed during a decision.");
                    alive = false;
                }
            }
        }
    }
}

/// Most bytes of mail fetched at once: a batch of large referrals is split; a message larger
/// than this is fetched alone (`limits.max_message_bytes` decides how much of it is read).
pub const BATCH_BYTES: u64 = 64 * 1024 * 1024;

/// Splits `uids` (in order) into runs whose sizes add up to at most `max` bytes, each run holding
/// at least one message. A UID the server gave no size for counts as empty.
pub fn byte_batches(uids: &[u32], sizes: &[(u32, u32)], max: u64) -> Vec<Vec<u32>> {
    let size = |uid: u32| sizes.iter().find(|(u, _)| *u == uid).map_or(0, |(_, s)| u64::from(*s));
    let mut out: Vec<Vec<u32>> = Vec::new();
    let mut used = 0u64;
    for &uid in uids {
        let n = size(uid);
        match out.last_mut() {
            Some(run) if used + n <= max => run.push(uid),
            _ => {
                out.push(vec![uid]);
                used = 0;
            }
        }
        used += n;
    }
    out
}

/// Moves these messages out of the selected folder into `target`; never deletes one without a copy.
async fn file_messages(session: &mut ImapSession, uids: &[u32], target: &str, has_move: bool, has_uidplus: bool, d: Duration) -> Result<()> {
    let set = uids.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
    if has_move {
        return timed(d, "UID MOVE", session.uid_mv(&set, target)).await;
    }
    timed(d, "UID COPY", session.uid_copy(&set, target)).await?;
    timed(d, "UID STORE", async { session.uid_store(&set, "+FLAGS.SILENT (\\Deleted)").await?.try_collect::<Vec<_>>().await }).await?;
    if has_uidplus {
        timed(d, "UID EXPUNGE", async { session.uid_expunge(&set).await?.try_collect::<Vec<_>>().await }).await?;
    } else {
        timed(d, "EXPUNGE", async { session.expunge().await?.try_collect::<Vec<_>>().await }).await?;
    }
    Ok(())
}

/// The pause before reconnection attempt `attempt` (0-based): doubling from 1 s, capped at
/// `cap`, with up to a quarter of jitter so many clients do not reconnect in step.
pub fn backoff(attempt: u32, cap: Duration) -> Duration {
    let base = Duration::from_secs(1u64 << attempt.min(16)).min(cap);
    let jitter = base.mul_f64(f64::from(getrandom::u32().unwrap_or(0) % 1000) / 4000.0);
    base + jitter
}

/// Watches the folder until `shutdown` fires: a pass, then IDLE (or a poll interval), again;
/// reconnects after a failure with capped exponential backoff and jitter, and returns one whose
/// action is [`Action::Stop`] (the database's keys, say), which no reconnection mends. `wake` is
/// notified after each committed decision, so the outbox sender ([`crate::outbox::serve`])
/// replies at once.
///
/// Each mailbox of the deployment ([`watched`]) is watched at once; the first error no
/// reconnection mends ends them all.
pub async fn watch(cfg: &Config, store: &Store, clock: &Clock, wake: &Notify, shutdown: CancellationToken) -> Result<(), MailboxError> {
    let configs = watched(cfg)?;
    crate::monitor::mailboxes_expected(&configs.iter().map(mailbox_label).collect::<Vec<_>>());
    futures_util::future::try_join_all(configs.iter().map(|w| watch_one(w, store, clock, wake, shutdown.clone()))).await?;
    Ok(())
}

/// How often an instance waiting for a mailbox's lease asks again, and how often the holder
/// checks it still holds it: a holder that died is replaced within about a retry, one cut off
/// from the database stops within a check and its time limit (before the server, which waits
/// about 20 s for a silent peer, gives the lease to another).
pub const LEASE_RETRY: Duration = Duration::from_secs(5);

/// Watches one mailbox while this instance holds its lease ([`Store::lease`]): waits for it while
/// another instance holds it, and stops watching (then waits again) as soon as it cannot tell it
/// still holds it.
async fn watch_one(cfg: &Config, store: &Store, clock: &Clock, wake: &Notify, shutdown: CancellationToken) -> Result<(), MailboxError> {
    let name = format!("mailbox {}", mailbox_key(cfg));
    let mut waiting_said = false;
    while !shutdown.is_cancelled() {
        let lease = match store.lease(&name).await {
            Ok(Some(lease)) => Some(lease),
            Ok(None) => {
                if !waiting_said {
                    tracing::info!(mailbox = %name, "another instance watches this mailbox; this one takes over if it stops");
                    waiting_said = true;
                }
                None
            }
            Err(e) if e.action() == Action::Stop => return Err(e.into()),
            Err(e) => {
                tracing::warn!(error = %format!("{e:#}"), "the mailbox's lease could not be asked for; asking again");
                None
            }
        };
        let Some(mut lease) = lease else {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(LEASE_RETRY) => continue,
            }
        };
        waiting_said = false;
        tracing::info!(mailbox = %name, "this instance watches the mailbox");
        let label = mailbox_label(cfg);
        crate::monitor::mailbox_watching(&label, true);
        // Given up however this watch ends (a stop, an error, the lease lost).
        let _watching = Watching(&label);
        let watching = shutdown.child_token();
        let keeper = async {
            loop {
                tokio::time::sleep(LEASE_RETRY).await;
                if !lease.held().await {
                    return;
                }
            }
        };
        tokio::select! {
            ended = watch_leased(cfg, store, clock, wake, watching.clone()) => return ended,
            _ = keeper => {
                watching.cancel();
                tracing::warn!(mailbox = %name, "the mailbox's lease may be lost: this instance stopped watching it");
            }
        }
    }
    Ok(())
}

async fn watch_leased(cfg: &Config, store: &Store, clock: &Clock, wake: &Notify, shutdown: CancellationToken) -> Result<(), MailboxError> {
    let imap = imap_cfg(cfg)?;
    // One token source for the whole watch: its token outlives a session, and a new one is
    // fetched only when due or refused.
    let tokens = token_source(imap)?;
    let mut failures = 0u32;
    while !shutdown.is_cancelled() {
        match session_loop(cfg, imap, store, clock, wake, &shutdown, &mut failures, tokens.as_ref()).await {
            Ok(Ended::Stopped) => break,
            Ok(Ended::TokenDue) => tracing::info!("The OAuth token is due for refresh: the mailbox reconnects with a new one."),
            Err(e) if e.action() == Action::Stop => return Err(e),
            Err(e) => {
                // The server may have ended the session for the token's expiry (Exchange Online
                // says `BYE ... AccessTokenExpired`; others just drop it): the next session
                // logs in with a new token.
                if let Some(t) = &tokens {
                    t.invalidate_current().await;
                }
                let text = format!("{e:#}");
                // Exchange Online ends a session whose token expired: expected, not a fault.
                let expired = tokens.is_some() && text.contains("AccessTokenExpired");
                if expired {
                    failures = 0;
                }
                let pause = backoff(failures, Duration::from_secs(300));
                failures = failures.saturating_add(1);
                if expired {
                    tracing::info!(retry_in_ms = pause.as_millis() as u64, "The server ended the session for its expired token; reconnecting with a new one.");
                } else {
                    tracing::warn!(error = %text, retry_in_ms = pause.as_millis() as u64, "mailbox connection failed; reconnecting");
                }
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tokio::time::sleep(pause) => {}
                }
            }
        }
    }
    Ok(())
}

/// Marks a mailbox as no longer watched by this instance when dropped.
struct Watching<'a>(&'a str);

impl Drop for Watching<'_> {
    fn drop(&mut self) {
        crate::monitor::mailbox_watching(self.0, false);
    }
}

/// Marks a mailbox's session as ended when dropped (a logout, an error, a stop).
struct Connected<'a>(&'a str);

impl Drop for Connected<'_> {
    fn drop(&mut self) {
        crate::monitor::imap_connected(self.0, false);
    }
}

/// How a session ended without an error.
enum Ended {
    /// Shutdown.
    Stopped,
    /// The OAuth token it logged in with is due for refresh: log in again with a new one before
    /// the server ends the session for its expiry. Between passes, so no work is cut short.
    TokenDue,
}

#[allow(clippy::too_many_arguments)]
async fn session_loop(
    cfg: &Config,
    imap: &ImapConfig,
    store: &Store,
    clock: &Clock,
    wake: &Notify,
    shutdown: &CancellationToken,
    failures: &mut u32,
    tokens: Option<&TokenSource>,
) -> Result<Ended, MailboxError> {
    let d = limit(imap);
    let label = mailbox_label(cfg);
    let mut session = connect_with(imap, tokens).await?;
    crate::monitor::imap_connected(&label, true);
    let _connected = Connected(&label);
    let has_idle = timed(d, "CAPABILITY", session.capabilities()).await?.has_str("IDLE");
    let mut ended = Ended::Stopped;
    loop {
        let summary = pass_waking(&mut session, cfg, store, clock, Some(wake), shutdown).await?;
        crate::monitor::pass_done(&label, clock.now());
        *failures = 0;
        // New-mail notices that came during the pass were taken in by its commands; rather than
        // rely on the server announcing that mail again at IDLE, pass again until a pass finds
        // nothing (cheap: one SEARCH).
        while session.unsolicited_responses.try_recv().is_ok() {}
        if shutdown.is_cancelled() {
            break;
        }
        if let Some(t) = tokens {
            if t.due().await {
                ended = Ended::TokenDue;
                break;
            }
        }
        if summary.decided + summary.refiled > 0 {
            tracing::info!(decided = summary.decided, refiled = summary.refiled, "mailbox pass done");
            continue;
        }
        // IDLE (or the poll interval), no longer than until the token's refresh: the session
        // is renewed before its token expires.
        let mut wait = Duration::from_secs(if has_idle { imap.idle_secs } else { imap.poll_secs }.max(1));
        if let Some(t) = tokens {
            wait = wait.min(t.refresh_in().await.max(Duration::from_secs(1)));
        }
        if has_idle {
            let mut idle = session.idle();
            timed(d, "IDLE", idle.init()).await?;
            let (wait, stop) = idle.wait_with_timeout(wait);
            let outcome = tokio::select! {
                r = wait => Some(r),
                _ = shutdown.cancelled() => None,
            };
            drop(stop);
            match outcome {
                Some(Ok(IdleResponse::NewData(_) | IdleResponse::Timeout | IdleResponse::ManualInterrupt)) | None => {}
                Some(Err(e)) => return Err(anyhow!(e).context("IMAP IDLE").into()),
            }
            session = timed(d, "DONE", idle.done()).await?;
        } else {
            tokio::select! {
                _ = shutdown.cancelled() => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
        if shutdown.is_cancelled() {
            break;
        }
    }
    let _ = tokio::time::timeout(d, session.logout()).await;
    Ok(ended)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_one_second_and_is_capped_with_at_most_a_quarter_of_jitter() {
        let cap = Duration::from_secs(300);
        for (attempt, base) in [(0, 1), (1, 2), (3, 8), (8, 256), (9, 300), (40, 300)] {
            let d = backoff(attempt, cap);
            let base = Duration::from_secs(base);
            assert!(d >= base && d <= base + base / 4, "attempt {attempt}: {d:?}");
        }
    }

    fn imap(host: &str, tls: Tls, allow: bool) -> ImapConfig {
        ImapConfig {
            host: host.into(),
            port: 143,
            tls,
            username: "marac".into(),
            auth: crate::config::Auth::Password,
            password_file: Some("/nonexistent".into()),
            token_file: None,
            token_command: None,
            token_url: None,
            tenant: None,
            client_id: None,
            client_secret_file: None,
            scope: None,
            ca_file: None,
            folder: "INBOX".into(),
            allow_plaintext_on_loopback: allow,
            idle_secs: 60,
            poll_secs: 30,
            batch: 10,
            command_timeout_secs: 1,
        }
    }

    #[tokio::test]
    async fn plaintext_is_refused_before_connecting_unless_allowed_on_loopback() {
        for cfg in [imap("192.0.2.1", Tls::None, true), imap("127.0.0.2.example", Tls::None, true), imap("127.0.0.1", Tls::None, false)] {
            let err = connect(&cfg).await.err().expect("refused");
            assert!(format!("{err:#}").contains("plaintext is refused"), "{}: {err:#}", cfg.host);
        }
    }

    #[test]
    fn fetches_are_split_by_bytes_and_a_large_message_goes_alone() {
        let sizes = [(1, 10), (2, 30), (3, 100), (4, 5), (5, 5)];
        assert_eq!(byte_batches(&[1, 2, 3, 4, 5], &sizes, 50), vec![vec![1, 2], vec![3], vec![4, 5]]);
        assert_eq!(byte_batches(&[1, 2, 3, 4, 5], &sizes, 1000), vec![vec![1, 2, 3, 4, 5]]);
        assert_eq!(byte_batches(&[3, 3], &sizes, 50), vec![vec![3], vec![3]]);
        assert_eq!(byte_batches(&[7, 8], &sizes, 0), vec![vec![7, 8]], "no size known: counted as empty");
        assert!(byte_batches(&[], &sizes, 50).is_empty());
    }

    #[test]
    fn every_outcome_has_its_folder() {
        let f = Folders::default();
        assert_eq!(folder_for(Outcome::Accepted, &f), "MARAC/Accepted");
        assert_eq!(folder_for(Outcome::Rejected, &f), "MARAC/Rejected");
        assert_eq!(folder_for(Outcome::Quarantined, &f), "MARAC/Quarantine");
        assert_eq!(folder_for(Outcome::Ignored, &f), "MARAC/Ignored");
        assert_eq!(folder_for(Outcome::Review, &f), "MARAC/Review");
    }
}
