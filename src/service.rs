//! `marac-intake run`: the service. Watches the mailbox ([`mailbox::watch`]) and sends the
//! outbox ([`outbox::serve`]) as two tasks sharing one database, and answers the process's
//! controls:
//! - [`Control::Stop`] (SIGTERM, SIGINT): the message in hand is finished and committed, the
//!   outbox attempt in progress is finished and recorded, the IMAP session logs out; `run`
//!   returns within [`SHUTDOWN_DEADLINE`]. Anything cut off by the deadline was not committed, so
//!   it is simply done again at the next start.
//! - [`Control::Reload`] (SIGHUP, or a change of the rules in the web console, noticed within
//!   [`crate::rules::WATCH_INTERVAL`]): the configuration file and the database's rules are read
//!   again; an invalid result is refused with its reason logged and the running configuration
//!   kept. A valid one replaces it: both tasks stop as on shutdown and start again with it.
//!
//! A third task purges what is past its retention period once a day ([`PURGE_FIRST`] after a
//! start, then every [`PURGE_EVERY`]), and a fourth queues each meeting's agenda for the
//! agencies' designated officers when it is due ([`AGENDA_EVERY`]); both stop like the other two.
//!
//! systemd: `READY=1` once the database is open, `RELOADING=1`/`READY=1` around a reload,
//! `STOPPING=1` on shutdown, and `WATCHDOG=1` at half the watchdog interval from this loop,
//! which never waits on the mail servers (the two tasks run on the runtime's worker threads);
//! `STATUS=` (mailboxes watched, messages decided, replies waiting) every [`STATUS_EVERY`]
//! from a task of its own.
//!
//! Operators: `/metrics`, `/healthz` and `/readyz` on `[metrics] listen`
//! ([`crate::monitor::server`]) for the life of the process.

use crate::clock::Clock;
use crate::config::{self, Config};
use crate::notify::Notifier;
use crate::store::{Action, Store};
use crate::{mailbox, outbox};
use anyhow::{anyhow, Result};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, Notify};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Longest wait for the two tasks to finish what they hold after a stop or a reload.
pub const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(20);

/// What the process is asked to do (from signals in `main`, or from a test).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    Reload,
    Stop,
}

/// Where the service reads its configuration and keeps its history.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub config: PathBuf,
    /// Database URL; default: the SQLite file in the configured data directory.
    pub db: Option<String>,
}

/// Reads the configuration (the file, with the rules changed in the web console layered over
/// it) and checks what `run` needs beyond `check-config`: a mailbox to watch and a server to
/// send through.
pub async fn load(path: &Path, store: &Store) -> Result<Config> {
    needs(path, crate::rules::load(path, store).await?)
}

fn needs(path: &Path, cfg: Config) -> Result<Config> {
    if cfg.file.imap.is_none() {
        return Err(anyhow!(
            "{}: imap: the [imap] section is required by `run` (the mailbox to watch)",
            path.display()
        ));
    }
    if cfg.file.smtp.is_none() {
        return Err(anyhow!("{}: smtp: the [smtp] section is required by `run` (the server replies are sent through)", path.display()));
    }
    Ok(cfg)
}

/// How soon after a start (or a reload) the first purge runs, and then how often.
pub const PURGE_FIRST: Duration = Duration::from_secs(60);
pub const PURGE_EVERY: Duration = Duration::from_secs(24 * 60 * 60);
/// Longest a purge may take; one cut off rolls back whole and is done again next time.
pub const PURGE_DEADLINE: Duration = Duration::from_secs(30 * 60);

/// The retention purge, when `[retention] daily` is on: first [`PURGE_FIRST`] after the start,
/// then every [`PURGE_EVERY`], each bounded by [`PURGE_DEADLINE`]; stops with `stop` (a purge
/// in progress is dropped, which rolls it back). Logs counts only.
async fn purge_daily(cfg: Arc<Config>, store: Store, clock: Clock, stop: CancellationToken) {
    if !cfg.file.retention.daily {
        return;
    }
    let mut next = tokio::time::Instant::now() + PURGE_FIRST;
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep_until(next) => {}
        }
        next = tokio::time::Instant::now() + PURGE_EVERY;
        let purge = tokio::time::timeout(PURGE_DEADLINE, store.purge(&cfg.file.retention, clock.now(), "service"));
        tokio::select! {
            _ = stop.cancelled() => return,
            done = purge => match done {
                Ok(Ok(p)) => tracing::info!(counts = %p.counts.detail(), "The retention purge ran."),
                Ok(Err(e)) => tracing::error!(error = %format!("{e:#}"), "The retention purge failed; it runs again tomorrow."),
                Err(_) => tracing::error!(deadline_s = PURGE_DEADLINE.as_secs(), "The retention purge did not finish within its deadline and was rolled back."),
            },
        }
    }
}

/// How often `run` looks for meetings whose agenda is due to go to the agencies' officers.
pub const AGENDA_EVERY: Duration = Duration::from_secs(60);

/// The agendas sent by the schedule ([`crate::web::agenda::send_due`]): at the start and every
/// [`AGENDA_EVERY`], each due meeting's agenda queued for the officers who have not had it,
/// then the outbox woken. Stops with `stop`; a send in progress is one transaction, dropped
/// whole.
async fn agendas(cfg: Arc<Config>, store: Store, clock: Clock, wake: Arc<Notify>, stop: CancellationToken) {
    loop {
        let sent = tokio::select! {
            _ = stop.cancelled() => return,
            n = crate::web::agenda::send_due(&store, &cfg, clock.now()) => n,
        };
        if sent > 0 {
            wake.notify_one();
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(AGENDA_EVERY) => {}
        }
    }
}

/// The tasks of one configuration generation.
struct Tasks {
    stop: CancellationToken,
    mailbox: JoinHandle<Result<(), mailbox::MailboxError>>,
    outbox: JoinHandle<()>,
    purge: JoinHandle<()>,
    agendas: JoinHandle<()>,
}

impl Tasks {
    fn start(cfg: Arc<Config>, store: &Store, clock: &Clock) -> Tasks {
        let stop = CancellationToken::new();
        let wake = Arc::new(Notify::new());
        let mailbox = tokio::spawn({
            let (cfg, store, clock, wake, stop) = (cfg.clone(), store.clone(), clock.clone(), wake.clone(), stop.clone());
            async move { mailbox::watch(&cfg, &store, &clock, &wake, stop).await }
        });
        let purge = tokio::spawn(purge_daily(cfg.clone(), store.clone(), clock.clone(), stop.clone()));
        let agendas = tokio::spawn(agendas(cfg.clone(), store.clone(), clock.clone(), wake.clone(), stop.clone()));
        let outbox = tokio::spawn({
            let (store, clock, stop) = (store.clone(), clock.clone(), stop.clone());
            async move { outbox::serve(&cfg, &store, &clock, &wake, stop).await }
        });
        Tasks {
            stop,
            mailbox,
            outbox,
            purge,
            agendas,
        }
    }

    /// Asks both tasks to stop and waits for them, at most until `deadline`. Returns the
    /// mailbox's error when it ended on one that no restart mends ([`Action::Stop`]).
    async fn stop(self, deadline: Duration) -> Option<mailbox::MailboxError> {
        self.stop.cancel();
        let mut fatal = None;
        let both = async {
            match self.mailbox.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "The mailbox task ended with an error.");
                    if e.action() == Action::Stop {
                        fatal = Some(e);
                    }
                }
                Err(e) => tracing::error!(error = %e, "The mailbox task failed."),
            }
            if let Err(e) = self.outbox.await {
                tracing::error!(error = %e, "The outbox task failed.");
            }
            if let Err(e) = self.purge.await {
                tracing::error!(error = %e, "The retention purge task failed.");
            }
            if let Err(e) = self.agendas.await {
                tracing::error!(error = %e, "The agenda task failed.");
            }
        };
        if tokio::time::timeout(deadline, both).await.is_err() {
            tracing::warn!(deadline_s = deadline.as_secs(), "The service did not finish its work in hand within the deadline; what was not committed is done again at the next start.");
        }
        fatal
    }

    fn finished(&self) -> bool {
        self.mailbox.is_finished() || self.outbox.is_finished()
    }
}

/// One `run` per SQLite database: an exclusive lock on `DB.run-lock` beside the database file
/// (taken once the store has opened, which makes the directory private), released by the
/// operating system however the process ends. A second `run` on the same file would watch the
/// same mailbox and send the same outbox twice; it refuses to start instead, saying why. On
/// PostgreSQL any number of `run`s share the database: each mailbox is watched by one of them at
/// a time (its lease, [`crate::store::Store::lease`]), and the outbox's rows are claimed one
/// writer at a time.
pub enum RunLock {
    File(std::fs::File),
    Shared,
}

impl RunLock {
    pub async fn acquire(url: &str) -> Result<RunLock> {
        if crate::store::is_postgres(url) {
            return Ok(RunLock::Shared);
        }
        let db = crate::store::encrypt::db_path(url)?;
        let mut name = db.clone().into_os_string();
        name.push(".run-lock");
        let path = PathBuf::from(name);
        let file = {
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::OpenOptions::new().create(true).truncate(false).write(true).mode(0o600).open(&path).map_err(|e| anyhow!("opening {}: {e}", path.display()))?
        };
        match file.try_lock() {
            Ok(()) => Ok(RunLock::File(file)),
            Err(std::fs::TryLockError::WouldBlock) => Err(anyhow!(
                "another `marac-intake run` is already using the database {}: stop it first (one service per database; it holds {})",
                db.display(),
                path.display()
            )),
            Err(std::fs::TryLockError::Error(e)) => Err(anyhow!("locking {}: {e}", path.display())),
        }
    }
}

/// Runs the service until [`Control::Stop`] (or until `control` closes), with `clock` (made at
/// the edge, [`crate::clock`]) handed to every task.
pub async fn run(opts: &RunOptions, clock: Clock, mut control: mpsc::UnboundedReceiver<Control>) -> Result<()> {
    crate::tls::install_crypto_provider();
    // The file alone names the database; the rules in force are read from both.
    let file = needs(&opts.config, config::load(&opts.config, std::env::vars()).map_err(|e| anyhow!("{}: {e}", opts.config.display()))?)?;
    let url = opts.db.clone().unwrap_or_else(|| file.default_db_url());
    let store = Store::open_configured(&url, &file.file.storage, &clock).await?.with_audit_copy(&file.file.audit);
    // Held until `run` returns: a second `run` on the same database refuses to start.
    let _only_run = RunLock::acquire(&url).await?;
    let cfg = Arc::new(load(&opts.config, &store).await?);
    // The rules' number last seen: a change in the web console is a reload, as SIGHUP is.
    let mut rules_seen = cfg.rules_version;
    let mut rules_tick = tokio::time::interval(crate::rules::WATCH_INTERVAL);
    rules_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let notifier = Notifier::from_env();
    let mut watchdog = notifier.watchdog_interval().map(tokio::time::interval);
    // The operators' endpoints and systemd's status line live as long as the process (a
    // changed `[metrics]` takes a restart).
    let mut monitoring = Monitoring::start(&cfg, &store, &clock, &notifier).await;
    let mut current = cfg;
    let mut tasks = Tasks::start(current.clone(), &store, &clock);
    // The web queue, when `[web] listen` is set: stopped with the two tasks, and started again
    // with the new configuration on a valid reload (sessions live in the database and survive).
    let mut web = Web::start(&current, &store, &clock).await?;
    tracing::info!("The service is running.");
    notified(notifier.ready());
    loop {
        let asked = tokio::select! {
            c = control.recv() => c.unwrap_or(Control::Stop),
            _ = rules_tick.tick() => match store.rules_version().await {
                Ok(v) if v != rules_seen => {
                    rules_seen = v;
                    tracing::info!(version = v, "The rules were changed in the web console; reloading.");
                    Control::Reload
                }
                Ok(_) => continue,
                Err(e) => {
                    tracing::warn!(error = %format!("{e:#}"), "Could not read the rules' version.");
                    continue;
                }
            },
            _ = tick(&mut watchdog) => {
                notified(notifier.watchdog());
                continue;
            }
            // Both tasks run until stopped; one that ends on its own is a bug. Start again
            // rather than leave the mailbox unwatched.
            // A mailbox that cannot go on (the database's keys, say) stops the service with
            // its reason, for an admin, rather than restarting every second.
            _ = tokio::time::sleep(Duration::from_secs(1)), if tasks.finished() => {
                if let Some(fatal) = tasks.stop(SHUTDOWN_DEADLINE).await {
                    web.stop.cancel();
                    web.stopped().await;
                    monitoring.stop().await;
                    store.close().await;
                    return Err(anyhow!("the mailbox cannot go on: {fatal}"));
                }
                tracing::error!("A service task ended unexpectedly; starting both again.");
                tasks = Tasks::start(current.clone(), &store, &clock);
                continue;
            }
        };
        match asked {
            Control::Stop => {
                tracing::info!("Stopping: finishing the work in hand.");
                notified(notifier.stopping());
                web.stop.cancel();
                tasks.stop(SHUTDOWN_DEADLINE).await;
                web.stopped().await;
                monitoring.stop().await;
                store.close().await;
                tracing::info!("Stopped.");
                return Ok(());
            }
            Control::Reload => {
                notified(notifier.reloading());
                match load(&opts.config, &store).await {
                    Ok(new) => {
                        web.stop.cancel();
                        tasks.stop(SHUTDOWN_DEADLINE).await;
                        web.stopped().await;
                        current = Arc::new(new);
                        tasks = Tasks::start(current.clone(), &store, &clock);
                        // The mail side matters most: a web queue that cannot start again
                        // (its address taken, say) is logged and the service goes on.
                        web = match Web::start(&current, &store, &clock).await {
                            Ok(w) => w,
                            Err(e) => {
                                tracing::error!(error = %format!("{e:#}"), "The web queue could not start with the new configuration.");
                                Web::none()
                            }
                        };
                        tracing::info!("The configuration was reloaded.");
                    }
                    Err(e) => tracing::error!(error = %format!("{e:#}"), "The new configuration is invalid and was refused; the running one is kept."),
                }
                notified(notifier.ready());
            }
        }
    }
}

/// The operators' listener and the status line's task.
struct Monitoring {
    stop: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
}

impl Monitoring {
    async fn start(cfg: &Config, store: &Store, clock: &Clock, notifier: &Notifier) -> Monitoring {
        let stop = CancellationToken::new();
        let mut tasks: Vec<JoinHandle<()>> = crate::monitor::server::start_configured(cfg, store, clock, crate::monitor::server::Role::Run, stop.clone()).await.into_iter().collect();
        if notifier.is_active() {
            tasks.push(tokio::spawn(status_lines(notifier.clone(), store.clone(), stop.clone())));
        }
        Monitoring { stop, tasks }
    }

    async fn stop(&mut self) {
        self.stop.cancel();
        for task in self.tasks.drain(..) {
            let _ = tokio::time::timeout(crate::web::server::DRAIN, task).await;
        }
    }
}

/// How often systemd's status line is written.
pub const STATUS_EVERY: Duration = Duration::from_secs(5);

/// Writes `STATUS=` ([`crate::monitor::status_line`]) every [`STATUS_EVERY`] until `stop`: on
/// a task of its own, since it reads the database, so the control loop never waits on it.
async fn status_lines(notifier: Notifier, store: Store, stop: CancellationToken) {
    let mut last = String::new();
    loop {
        let line = crate::monitor::status_line(crate::monitor::read_gauges(&store).await.as_ref());
        if line != last {
            notified(notifier.status(&line));
            last = line;
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(STATUS_EVERY) => {}
        }
    }
}

/// The web queue's task, if `[web] listen` is set.
struct Web {
    stop: CancellationToken,
    task: Option<JoinHandle<Result<()>>>,
}

impl Web {
    fn none() -> Web {
        Web { stop: CancellationToken::new(), task: None }
    }

    async fn start(cfg: &Arc<Config>, store: &Store, clock: &Clock) -> Result<Web> {
        let Some(o) = crate::web::WebOptions::from_config(cfg, None)? else { return Ok(Web::none()) };
        let stop = CancellationToken::new();
        let (url, task) = crate::web::start(cfg.clone(), store.clone(), &o, clock.clone(), stop.clone()).await?;
        tracing::info!(url = %url, "The web queue is listening.");
        Ok(Web { stop, task: Some(task) })
    }

    /// Waits (bounded) for the web task once its `stop` is cancelled.
    async fn stopped(&mut self) {
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(crate::web::server::DRAIN * 2, task).await;
        }
    }
}

async fn tick(w: &mut Option<tokio::time::Interval>) {
    match w {
        Some(i) => {
            i.tick().await;
        }
        None => std::future::pending().await,
    }
}

fn notified(r: std::io::Result<()>) {
    if let Err(e) = r {
        tracing::warn!(error = %e, "systemd notification failed.");
    }
}

#[cfg(test)]
mod run_lock_tests {
    use super::RunLock;

    #[tokio::test(flavor = "current_thread")]
    async fn a_second_run_on_the_same_database_is_refused_until_the_first_ends() {
        let dir = std::env::temp_dir().join(format!("marac-run-lock-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.join("intake.db").display());
        let first = RunLock::acquire(&url).await.expect("the first run starts");
        let second = RunLock::acquire(&url).await.err().expect("a second run on the same file is refused");
        assert!(second.to_string().contains("another `marac-intake run` is already using the database"), "{second}");
        let other = format!("sqlite://{}?mode=rwc", dir.join("other.db").display());
        RunLock::acquire(&other).await.expect("another database is another service");
        drop(first);
        // Free again once the first run ends. A process another test spawns at that moment holds
        // the descriptor between its fork and its exec (then closes it): the lock is free within
        // that instant, so a few tries, bounded.
        let mut again = RunLock::acquire(&url).await;
        for _ in 0..50 {
            if again.is_ok() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            again = RunLock::acquire(&url).await;
        }
        again.expect("free again once the first run ends");
        let _ = std::fs::remove_dir_all(dir);
    }
}
