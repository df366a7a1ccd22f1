//! The coordinators' web queue and the admins' console (`marac-intake serve`, and `run` when
//! `[web] listen` is set): server-rendered HTML (minijinja templates embedded in the binary),
//! usable without JavaScript. A thin edge over [`crate::store`], one module per concern:
//! - [`server`]: the listener (plain HTTP on loopback only, else TLS through rustls) and the
//!   connection loop, bounded (connections at once, header, idle and request timeouts, body
//!   size), stopped by a cancellation token;
//! - [`auth`]: passwords (argon2id), sessions (256-bit random tokens stored hashed; idle and
//!   absolute timeouts), the sign-in throttle, roles, the client address;
//! - [`totp`]: the second factor every account has (RFC 6238 codes, QR code, recovery codes);
//! - [`csrf`]: the token every POST must carry (checked in one middleware for all of them);
//! - [`refusals`]: what an anonymous client can make us refuse (no CSRF token, a body too large
//!   or too slow, one connection too many), counted per client and minute, never a row each;
//! - [`audit`]: every view of a case and every change, appended to the audit log;
//! - [`routes`]: the route table and its layers; [`pages`]: the coordinators' pages; [`correct`]:
//!   correcting what was read, decided again after a preview; [`evidence`]: what the case page
//!   shows of the person and the evidence; [`admin`]: the admins' console; [`data_return`]: the
//!   SafeLives quarterly return; [`page`]: what they share (rendering, errors); [`templates`]: the HTML;
//!   [`search`]: finding a person; [`paging`]: lists a page at a time.
//!
//! Nothing personal is logged: log lines name references and user names only.

pub mod admin;
pub mod agenda;
pub mod agenda_sends;
pub mod audit;
pub mod auth;
pub mod correct;
pub mod confirm;
pub mod csrf;
pub mod dashboard;
pub mod data_return;
pub mod evidence;
pub mod page;
pub mod pages;
pub mod paging;
pub mod refusals;
pub mod routes;
pub mod rule_form;
pub mod search;
pub mod server;
pub mod templates;
pub mod totp;

use crate::clock::Clock;
use crate::config::Config;
use crate::rules::LiveConfig;
use crate::store::Store;
use anyhow::{anyhow, Result};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// How the web server listens, from `[web]` and `--listen`.
#[derive(Debug, Clone)]
pub struct WebOptions {
    pub listen: SocketAddr,
    /// Certificate chain and key (PEM).
    pub tls: Option<(PathBuf, PathBuf)>,
    pub trust_forwarded_for: bool,
}

impl WebOptions {
    /// From the configuration, with `listen` (the `--listen` option) replacing `web.listen`.
    /// None when no address is given anywhere. Plain HTTP is refused off loopback.
    pub fn from_config(cfg: &Config, listen: Option<&str>) -> Result<Option<WebOptions>> {
        let web = cfg.file.web.as_ref();
        let tls = web.and_then(|w| w.tls_cert_file.clone().zip(w.tls_key_file.clone()));
        let (key, addr) = match (listen, web.and_then(|w| w.listen.as_deref())) {
            (Some(l), _) => ("--listen", l),
            (None, Some(l)) => ("web.listen", l),
            (None, None) => return Ok(None),
        };
        let listen = crate::config::check_listen(key, addr, tls.is_some()).map_err(|e| anyhow!("{e}"))?;
        let trust_forwarded_for = web.is_some_and(|w| w.trust_forwarded_for);
        crate::config::check_forwarded_for(key, listen, trust_forwarded_for, web.map_or(&[][..], |w| &w.trusted_proxies)).map_err(|e| anyhow!("{e}"))?;
        Ok(Some(WebOptions { listen, tls, trust_forwarded_for }))
    }

    /// Cookies are marked Secure unless the browser talks plain HTTP to us on loopback: with TLS
    /// here, or behind a reverse proxy (which terminates TLS), they are.
    pub fn secure_cookies(&self) -> bool {
        self.tls.is_some() || self.trust_forwarded_for || !self.listen.ip().is_loopback()
    }

    /// Browsers are told to come back only over HTTPS (HSTS) when they reach us over TLS: ours,
    /// or the reverse proxy's in front. Never on plain loopback HTTP.
    pub fn hsts(&self) -> bool {
        self.tls.is_some() || self.trust_forwarded_for
    }
}

/// What every request handler shares.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    /// The configuration in force; replaced when an admin changes the rules (here, or in another
    /// process: see [`watch_rules`]).
    pub live: Arc<LiveConfig>,
    pub templates: Arc<minijinja::Environment<'static>>,
    pub secure_cookies: bool,
    pub trust_forwarded_for: bool,
    /// Whose `X-Forwarded-For` is read (empty: loopback peers); see [`auth::client_address`].
    pub trusted_proxies: Arc<[std::net::IpAddr]>,
    /// Whether responses carry `Strict-Transport-Security` ([`WebOptions::hsts`]).
    pub hsts: bool,
    /// The edge's bounds, from `[web]`.
    pub edge: crate::config::WebEdge,
    /// Refusals an anonymous client can cause, counted and audited in aggregate.
    pub refusals: Arc<refusals::Refusals>,
    /// The one clock ([`crate::clock`]): each request reads it once for what it records.
    pub clock: Clock,
}

impl AppState {
    pub fn new(store: Store, cfg: Arc<Config>, opts: &WebOptions, clock: Clock) -> AppState {
        let web = cfg.file.web.as_ref();
        AppState {
            trusted_proxies: web.map(|w| w.trusted_proxies.clone()).unwrap_or_default().into(),
            hsts: opts.hsts(),
            edge: crate::config::WebConfig::edge(web),
            refusals: Arc::new(refusals::Refusals::default()),
            store,
            live: Arc::new(LiveConfig::new(cfg)),
            templates: Arc::new(templates::environment()),
            secure_cookies: opts.secure_cookies(),
            trust_forwarded_for: opts.trust_forwarded_for,
            clock,
        }
    }

    /// The configuration in force now; a request keeps the one it started with.
    pub fn cfg(&self) -> Arc<Config> {
        self.live.get()
    }
}

/// Binds the listener (so a bad address or certificate fails before anything runs) and serves
/// on a task until `stop`. Returns the bound address (port 0 picks a free one) and the task.
pub async fn start(cfg: Arc<Config>, store: Store, opts: &WebOptions, clock: Clock, stop: tokio_util::sync::CancellationToken) -> Result<(String, tokio::task::JoinHandle<Result<()>>)> {
    let listener = server::Listener::bind(opts).await?;
    let url = format!("{}://{}", listener.scheme(), listener.local_addr()?);
    let state = AppState::new(store, cfg, opts, clock);
    tokio::spawn(watch_rules(state.live.clone(), state.store.clone(), stop.clone()));
    Ok((url, tokio::spawn(listener.serve(state, stop))))
}

/// Picks up rules changed by another process (another `serve`, say) within
/// [`crate::rules::WATCH_INTERVAL`], until `stop`. A result that does not validate (the file was
/// edited meanwhile) is logged once and the configuration in force kept.
pub async fn watch_rules(live: Arc<LiveConfig>, store: Store, stop: tokio_util::sync::CancellationToken) {
    let mut failed_at = None;
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(crate::rules::WATCH_INTERVAL) => {}
        }
        match live.refresh(&store).await {
            Ok(true) => tracing::info!(version = live.get().rules_version, "The web queue loaded the changed rules."),
            Ok(false) => failed_at = None,
            Err(e) => {
                let version = store.rules_version().await.ok();
                if failed_at != version {
                    tracing::error!(error = %format!("{e:#}"), "The changed rules do not validate with the configuration file; the web queue keeps the rules in force.");
                    failed_at = version;
                }
            }
        }
    }
}
