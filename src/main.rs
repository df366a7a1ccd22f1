//! The `marac-intake` command: a thin shell over the library. See `--help`.
#![forbid(unsafe_code)]

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use marac_intake::clock::{stamp, Clock};
use marac_intake::config::{self, Config, Criterion};
use marac_intake::decide::{Outcome, ReplyKind};
use marac_intake::inspect::{inspect, InspectOptions};
use marac_intake::store::{MessageRecord, Store};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "marac-intake", version, about = "Secure intake of MARAC referrals by email")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct ConfigArg {
    /// Configuration file [default: $MARAC_CONFIG, else /etc/marac-intake/marac-intake.toml].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

#[derive(Args, Clone)]
struct DbArgs {
    #[command(flatten)]
    config: ConfigArg,
    /// Database URL [default: a SQLite file in the configured data directory].
    #[arg(long, value_name = "URL")]
    db: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Read .eml files and show what was sent: envelope, signals, attachments, DASH, referral form.
    Inspect {
        /// One JSON object per file, one per line.
        #[arg(long)]
        json: bool,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Validate the configuration and print what was understood.
    CheckConfig(ConfigArg),
    /// Check what the service needs, as it uses it: the configuration, the database (opens,
    /// migrations, takes writes), each mailbox (TLS, login, IDLE, MOVE, the folder and the
    /// outcome folders) and SMTP (TLS, a login that sends nothing). Prints a checklist with a fix
    /// for each failure; exits 1 when something failed.
    Doctor(DbArgs),
    /// Decide .eml files in the order given, as if each arrived at its topmost Received: date;
    /// record them in the database and queue replies (nothing is sent).
    Triage {
        #[command(flatten)]
        db: DbArgs,
        /// One JSON object per file, one per line.
        #[arg(long)]
        json: bool,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Every processed message, in processing order.
    History {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        json: bool,
    },
    /// Review items first, then quarantined messages, then pending cases by meeting and risk.
    Queue {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        json: bool,
    },
    /// The service: watch the mailbox, decide and file each referral, send the replies.
    /// SIGTERM/SIGINT stop it after the work in hand; SIGHUP reloads the configuration.
    Run(DbArgs),
    /// The coordinators' web queue and admins' console (HTTP on loopback, or HTTPS).
    Serve {
        #[command(flatten)]
        db: DbArgs,
        /// ADDRESS:PORT to listen on [default: web.listen from the configuration].
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
    },
    /// Accounts of the web queue.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// The rule sections changed in the web console (kept in the database, over the file):
    /// list them, show one, or put the file's section back (when the web console cannot start
    /// because a kept section no longer fits the file, say).
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// Data-subject rights for one person, by their victim record (P000123): export everything
    /// held about them, or erase them (audited as "cli").
    Subject {
        #[command(subcommand)]
        command: SubjectCommand,
    },
    /// Import the area's list of past referrals (CSV or XLSX) so repeats are found from day one.
    ImportHistory {
        #[command(flatten)]
        db: DbArgs,
        /// The area the list is for (`[areas.ID]`); needed when the deployment has several.
        #[arg(long, value_name = "ID")]
        area: Option<String>,
        file: PathBuf,
    },
    /// The SafeLives quarterly data return: per meeting of the quarter, the counts SafeLives asks
    /// for (cases, repeats, police and partner referrals, children, victims from racially
    /// minoritised communities, LGBT+, disabled, male, aged 16-17, perpetrators under 18), from
    /// what the referral forms say; each unknown counted apart. A table, or --json, --csv, or
    /// --xlsx FILE (an existing file is never overwritten). Audited as the command line's.
    DataReturn {
        #[command(flatten)]
        db: DbArgs,
        /// The calendar quarter, e.g. 2025Q1 (January to March 2025).
        #[arg(long, value_name = "QUARTER")]
        quarter: String,
        /// The area (`[areas.ID]`); needed when the deployment has several.
        #[arg(long, value_name = "ID")]
        area: Option<String>,
        /// `{"quarter": ..., "meetings": [{"meeting_date": ..., "cases": N, ...}]}`.
        #[arg(long, conflicts_with_all = ["csv", "xlsx"])]
        json: bool,
        /// The return's layout as CSV, a row per meeting and the quarter's total.
        #[arg(long, conflicts_with = "xlsx")]
        csv: bool,
        /// The return's layout as an Excel workbook written to FILE.
        #[arg(long, value_name = "FILE")]
        xlsx: Option<PathBuf>,
    },
    /// Re-encrypt the database with a new database key and its kept messages with a new data key
    /// (files of 64 hex characters), in one step: the service must be stopped. Opens with the
    /// keys of [storage]; afterwards install the new files as those credentials.
    Rekey {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long, value_name = "FILE")]
        new_db_key_file: PathBuf,
        #[arg(long, value_name = "FILE")]
        new_data_key_file: PathBuf,
    },
    /// Dispose of what is past its retention period ([retention] in the configuration), audited
    /// with the counts per kind. `run` does this once a day.
    Purge {
        #[command(flatten)]
        db: DbArgs,
        /// List what would be disposed of, per kind, and change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// A consistent copy of the SQLite database, taken while `run` works: encrypted with the same
    /// key, written 0600 beside DEST and renamed to it once checked (it opens, its migrations are
    /// known, its audit chain walks). DEST must not exist. PostgreSQL: use `pg_dump -Fc`.
    Backup {
        #[command(flatten)]
        db: DbArgs,
        #[arg(value_name = "DEST")]
        dest: PathBuf,
    },
    /// Put a backup in place of the SQLite database, the service stopped: the backup is checked
    /// with the configured keys first (migrations, audit chain), then renamed over the database.
    Restore {
        #[command(flatten)]
        db: DbArgs,
        #[arg(value_name = "SOURCE")]
        source: PathBuf,
        /// Replace an existing database (kept aside as NAME.before-restore-TIMESTAMP).
        #[arg(long)]
        force: bool,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Shell completions on standard output (the .deb installs them for bash, zsh and fish):
    /// `marac-intake completions bash > /etc/bash_completion.d/marac-intake`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Write the manual pages, one per command (marac-intake.1, marac-intake-triage.1, ...),
    /// into DIR (packaging).
    #[command(hide = true)]
    Manpages {
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Walk the audit log's hash chain: OK with the number of records, or the first record
    /// where it breaks (exit status 1).
    Verify(DbArgs),
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user. The password comes from --password-file, else standard input when it is not
    /// a terminal, else a prompt (asked twice). Without --totp-secret-file the user sets up their
    /// authenticator app at their first sign-in.
    Add {
        #[command(flatten)]
        db: DbArgs,
        name: String,
        #[arg(long, value_enum)]
        role: RoleArg,
        /// An area the user works in (`[areas.ID]`; repeat for several): needed for a coordinator
        /// or an area's admin when the deployment has several areas. An admin sees every area.
        #[arg(long = "area", value_name = "ID")]
        areas: Vec<String>,
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
        /// A file holding the user's TOTP secret in base32 (at least 128 bits), enrolled at
        /// once: for provisioning the authenticator app another way.
        #[arg(long, value_name = "FILE")]
        totp_secret_file: Option<PathBuf>,
    },
    /// Disable a user: they cannot sign in, and their sessions end at once.
    Disable {
        #[command(flatten)]
        db: DbArgs,
        name: String,
    },
    /// Set a new password (read as for `add`); the user's sessions end.
    Passwd {
        #[command(flatten)]
        db: DbArgs,
        name: String,
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
    },
    /// Forget a user's authenticator app and recovery codes (a lost phone); their sessions end,
    /// and they set up a new app at their next sign-in, after their password.
    ResetTotp {
        #[command(flatten)]
        db: DbArgs,
        name: String,
    },
    /// Set the areas a coordinator or an area's admin works in (replacing their list).
    Areas {
        #[command(flatten)]
        db: DbArgs,
        name: String,
        #[arg(long = "area", value_name = "ID", required = true)]
        areas: Vec<String>,
    },
    /// Every user, with role and state.
    List {
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand)]
enum SubjectCommand {
    /// Everything held about the person (messages as received, what was read, decisions, cases,
    /// corrections, replies, who viewed them) as one zip, written 0600; an existing file is
    /// never overwritten.
    Export {
        #[command(flatten)]
        db: DbArgs,
        person: String,
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Erase the person: name and date of birth blanked, their messages and replies replaced by
    /// a tombstone, what was read from them blanked; the record stays as its reference.
    Erase {
        #[command(flatten)]
        db: DbArgs,
        person: String,
        /// Why (required; recorded in the audit log).
        #[arg(long)]
        reason: String,
    },
}

#[derive(Subcommand)]
enum RulesCommand {
    /// Each rule section: from the file, or the version in force from the web console. The
    /// deployment's, then each area's (`areas.ID.SECTION`).
    List {
        #[command(flatten)]
        db: DbArgs,
    },
    /// A section's versions, newest first, with the TOML of each (`threshold`, or an area's:
    /// `areas.north.threshold`).
    Show {
        #[command(flatten)]
        db: DbArgs,
        section: String,
    },
    /// Use the file's section again (kept as a new version, audited as the command line's); for
    /// an area's (`areas.north.threshold`), the area's own section of the file.
    Reset {
        #[command(flatten)]
        db: DbArgs,
        section: String,
    },
}

impl RulesCommand {
    fn db(&self) -> &DbArgs {
        match self {
            RulesCommand::List { db } | RulesCommand::Show { db, .. } | RulesCommand::Reset { db, .. } => db,
        }
    }
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum RoleArg {
    Coordinator,
    /// The deployment's admin: every area, the users and the rules.
    Admin,
    /// An admin of their areas only (audit, subjects, restrictions).
    AreaAdmin,
}

fn main() -> ExitCode {
    let code = commands();
    marac_intake::store::settle_before_exit();
    code
}

fn commands() -> ExitCode {
    marac_intake::quiet_panics();
    let cli = Cli::parse();
    // The one clock: made here, at the edge, and passed to whatever reads the time.
    let clock = Clock::system();
    let result = match cli.command {
        Command::Inspect { json, files } => return run_inspect(json, &files),
        Command::CheckConfig(c) => check_config(&c, &clock),
        Command::Doctor(db) => return doctor(&db, &clock),
        Command::Triage { db, json, files } => with_store(&db, &clock.clone(), move |cfg, store| Box::pin(triage(cfg, store, json, files, clock))),
        Command::History { db, json } => with_store(&db, &clock, move |_, store| Box::pin(async move { print_records(&store.history().await?, json, false) })),
        Command::Queue { db, json } => with_store(&db, &clock, move |_, store| Box::pin(async move { print_queue(&store.queue().await?, json) })),
        Command::Run(db) => run_service(&db, clock),
        Command::Serve { db, listen } => serve(&db, listen, clock),
        Command::User { command } => user(command, &clock),
        Command::Rules { command } => rules(command, &clock),
        Command::Purge { db, dry_run } => with_store(&db, &clock.clone(), move |cfg, store| Box::pin(purge(cfg, store, dry_run, clock))),
        Command::Audit { command: AuditCommand::Verify(db) } => return audit_verify(&db, &clock),
        Command::Subject { command } => subject(command, &clock),
        Command::ImportHistory { db, area, file } => with_store(&db, &clock.clone(), |cfg, store| {
            Box::pin(async move {
                let n = marac_intake::import::import_file(&file, &cfg, area.as_deref(), &store, &clock).await?;
                println!("imported {} past referrals ({} people, {} cases) from {}", n.referrals, n.people, n.cases, file.display());
                Ok(())
            })
        }),
        Command::DataReturn { db, quarter, area, json, csv, xlsx } => with_store(&db, &clock.clone(), move |cfg, store| {
            let output = match (json, csv, xlsx) {
                (true, _, _) => ReturnOutput::Json,
                (_, true, _) => ReturnOutput::Csv,
                (_, _, Some(file)) => ReturnOutput::Xlsx(file),
                _ => ReturnOutput::Table,
            };
            Box::pin(async move { data_return(&cfg, &store, &quarter, area.as_deref(), output, &clock).await })
        }),
        Command::Rekey { db, new_db_key_file, new_data_key_file } => rekey(&db, &new_db_key_file, &new_data_key_file, &clock),
        Command::Backup { db, dest } => return backup(&db, &dest, &clock),
        Command::Restore { db, source, force } => restore(&db, &source, force, &clock),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut <Cli as clap::CommandFactory>::command(), "marac-intake", &mut std::io::stdout());
            Ok(())
        }
        Command::Manpages { dir } => clap_mangen::generate_to(<Cli as clap::CommandFactory>::command(), &dir).with_context(|| format!("writing the manual pages into {}", dir.display())),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("marac-intake: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The logger of the long-running commands: see `marac_intake::logging`.
fn init_logging() {
    marac_intake::logging::init();
}

fn run_service(db: &DbArgs, clock: Clock) -> Result<()> {
    init_logging();
    let opts = marac_intake::service::RunOptions { config: config_path(&db.config), db: db.db.clone() };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    rt.block_on(async move {
        use marac_intake::service::Control;
        use tokio::signal::unix::{signal, SignalKind};
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        let mut hup = signal(SignalKind::hangup())?;
        tokio::spawn(async move {
            loop {
                let c = tokio::select! {
                    _ = term.recv() => Control::Stop,
                    _ = int.recv() => Control::Stop,
                    _ = hup.recv() => Control::Reload,
                };
                if tx.send(c).is_err() {
                    break;
                }
            }
        });
        marac_intake::service::run(&opts, clock, rx).await
    })
}

fn serve(db: &DbArgs, listen: Option<String>, clock: Clock) -> Result<()> {
    init_logging();
    let cfg = load_config(&db.config)?;
    let url = db.db.clone().unwrap_or_else(|| cfg.default_db_url());
    let path = config_path(&db.config);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    rt.block_on(async move {
        use tokio::signal::unix::{signal, SignalKind};
        let store = Store::open_configured(&url, &cfg.file.storage, &clock).await?.with_audit_copy(&cfg.file.audit);
        let cfg = std::sync::Arc::new(marac_intake::rules::load(&path, &store).await?);
        let opts = marac_intake::web::WebOptions::from_config(&cfg, listen.as_deref())?
            .ok_or_else(|| anyhow::anyhow!("no address to listen on: set [web] listen in the configuration or give --listen"))?;
        let stop = tokio_util::sync::CancellationToken::new();
        let metrics = marac_intake::monitor::server::start_configured(&cfg, &store, &clock, marac_intake::monitor::server::Role::Serve, stop.clone()).await;
        // Listening for the stop signals before saying it serves: a SIGTERM right after is a stop.
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        let (url, task) = marac_intake::web::start(cfg, store.clone(), &opts, clock, stop.clone()).await?;
        tracing::info!(url = %url, "The web queue is listening.");
        println!("marac-intake: serving on {url}");
        use std::io::Write;
        std::io::stdout().flush()?;
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        tracing::info!("Stopping the web queue.");
        stop.cancel();
        task.await??;
        if let Some(m) = metrics {
            let _ = tokio::time::timeout(marac_intake::web::server::DRAIN, m).await;
        }
        store.close().await;
        Ok(())
    })
}

/// `rekey`: the keys of [storage] to the new files' keys (see `store::encrypt::rekey`).
fn rekey(db: &DbArgs, new_db_key_file: &std::path::Path, new_data_key_file: &std::path::Path, clock: &Clock) -> Result<()> {
    use marac_intake::crypto::Keys;
    init_logging();
    let cfg = load_config(&db.config)?;
    let storage = &cfg.file.storage;
    let (Some(old_db), Some(old_data)) = (&storage.db_key_file, &storage.data_key_file) else {
        anyhow::bail!(
            "rekey needs the keys in force named in [storage] db_key_file and data_key_file: the keys beside the database are for trying the \
             product out (move them into credentials and name those first; README, \"Encryption at rest\")"
        );
    };
    let old = Keys::read(old_db, old_data)?;
    let new = Keys::read(new_db_key_file, new_data_key_file)?;
    if new.database == old.database || new.data == old.data {
        anyhow::bail!("a new key file holds the key in force: make new keys (`openssl rand -hex 32`)");
    }
    let url = db.db.clone().unwrap_or_else(|| cfg.default_db_url());
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let done = rt.block_on(marac_intake::store::encrypt::rekey(&url, &old, &new, clock))?;
    println!(
        "re-encrypted the database with the new database key, and {} kept messages and {} replies with the new data key; \
         install {} and {} as the credentials [storage] names before the service starts again",
        done.messages,
        done.replies,
        new_db_key_file.display(),
        new_data_key_file.display()
    );
    Ok(())
}

/// `backup`: exit status 0 when the copy was written and its audit chain walks, 1 when the copy
/// was written but its chain breaks (the copy holds what the database holds: look at it with
/// `audit verify`), 2 when nothing was written.
fn backup(db: &DbArgs, dest: &std::path::Path, clock: &Clock) -> ExitCode {
    let written = (|| {
        let cfg = load_config(&db.config)?;
        let url = db.db.clone().unwrap_or_else(|| cfg.default_db_url());
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        rt.block_on(marac_intake::backup::backup(&url, &cfg.file.storage, dest, clock))
    })();
    match written {
        Ok(w) => {
            let s = &w.snapshot;
            let chain = match &s.audit.broken {
                None => format!("audit chain verified ({} records)", s.audit.records),
                Some(b) => format!("audit chain BROKEN at record {} ({})", b.row, b.reason.describe()),
            };
            println!("backup {}: {} bytes, {} messages, {} cases, {} replies, migration {}, {chain}", w.path.display(), w.bytes, s.messages, s.cases, s.replies, s.migration);
            if s.audit.broken.is_some() { ExitCode::FAILURE } else { ExitCode::SUCCESS }
        }
        Err(e) => {
            eprintln!("marac-intake: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// `restore`: SOURCE checked, then in place of the database.
fn restore(db: &DbArgs, source: &std::path::Path, force: bool, clock: &Clock) -> Result<()> {
    let cfg = load_config(&db.config)?;
    let url = db.db.clone().unwrap_or_else(|| cfg.default_db_url());
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let r = rt.block_on(marac_intake::backup::restore(&url, &cfg.file.storage, source, force, clock))?;
    let s = &r.snapshot;
    let aside = match &r.kept_aside {
        Some(p) => format!("; the database it replaced is kept as {}", p.display()),
        None => String::new(),
    };
    let later = if s.missing_migrations.is_empty() { String::new() } else { format!(" (migrations {:?} run at the next start)", s.missing_migrations) };
    println!(
        "restored {} onto {}: {} messages, {} cases, {} replies, migration {}{later}, audit chain verified ({} records){aside}",
        source.display(),
        r.database.display(),
        s.messages,
        s.cases,
        s.replies,
        s.migration,
        s.audit.records
    );
    Ok(())
}

async fn purge(cfg: Config, store: Store, dry_run: bool, clock: Clock) -> Result<()> {
    let now = clock.now();
    let counts = if dry_run {
        println!("dry run: nothing is changed");
        store.purge_plan(&cfg.file.retention, now).await?
    } else {
        let purged = store.purge(&cfg.file.retention, now, "cli").await?;
        if let Some(b) = &purged.audit_kept {
            eprintln!("marac-intake: the audit log was kept whole: its chain breaks at record {} ({})", b.row, b.reason.describe());
        }
        purged.counts
    };
    for (kind, n) in &counts.0 {
        println!("{:<22} {n}", kind.as_str());
    }
    println!("{:<22} {}", "total", counts.total());
    Ok(())
}

/// `audit verify`: exit status 0 when the chain holds, 1 where it breaks, 2 when it could not
/// be read.
fn audit_verify(db: &DbArgs, clock: &Clock) -> ExitCode {
    let walked = std::rc::Rc::new(std::cell::RefCell::new(None));
    let result = with_file_store(db, clock, {
        let walked = walked.clone();
        |_, store| {
            Box::pin(async move {
                *walked.borrow_mut() = Some(store.verify_audit().await?);
                Ok(())
            })
        }
    });
    let walked = walked.borrow_mut().take();
    match (result, walked) {
        (Ok(()), Some(w)) => match w.broken {
            None => {
                let from = if w.from_anchor > 0 { format!(" (after the records purged up to {})", w.from_anchor) } else { String::new() };
                println!("OK: {} audit records, chain unbroken{from}", w.records);
                ExitCode::SUCCESS
            }
            Some(b) => {
                println!("BROKEN at audit record {}: {} ({} records before it verified)", b.row, b.reason.describe(), w.records);
                ExitCode::FAILURE
            }
        },
        (Err(e), _) => {
            eprintln!("marac-intake: {e:#}");
            ExitCode::from(2)
        }
        (Ok(()), None) => ExitCode::from(2),
    }
}

/// The areas a user of `role` is given: None for the deployment's admin (every area); the named
/// ones, each one of the deployment's; else the deployment's only area.
fn user_areas_of(cfg: &marac_intake::config::Config, role: marac_intake::store::accounts::Role, areas: Vec<String>) -> Result<Option<Vec<String>>> {
    use marac_intake::store::accounts::Role;
    let ids = || cfg.areas.iter().map(|a| a.id.as_str()).collect::<Vec<_>>().join(", ");
    if role == Role::Admin {
        if !areas.is_empty() {
            anyhow::bail!("an admin works in every area: --area is for a coordinator or an area-admin");
        }
        return Ok(None);
    }
    if let Some(bad) = areas.iter().find(|a| cfg.area(a).is_none()) {
        anyhow::bail!("no area {bad:?} in the configuration (its areas: {})", ids());
    }
    match (areas.is_empty(), cfg.areas.as_slice()) {
        (false, _) => Ok(Some(areas)),
        (true, [only]) => Ok(Some(vec![only.id.clone()])),
        (true, _) => anyhow::bail!("this deployment has several areas ({}): name the user's with --area", ids()),
    }
}

fn user(command: UserCommand, clock: &Clock) -> Result<()> {
    use marac_intake::store::accounts::Role;
    use marac_intake::web::auth::hash_password;
    let now = stamp(clock.now());
    match command {
        UserCommand::Add { db, name, role, areas, password_file, totp_secret_file } => {
            check_user_name(&name)?;
            let totp = match totp_secret_file {
                Some(f) => {
                    let text = config::read_secret(&f).with_context(|| format!("reading {}", f.display()))?;
                    Some(marac_intake::web::totp::Secret::from_base32(&text).with_context(|| format!("the TOTP secret in {}", f.display()))?.to_base32())
                }
                None => None,
            };
            let hash = hash_password(&read_password(password_file.as_deref())?)?;
            let role = match role {
                RoleArg::Coordinator => Role::Coordinator,
                RoleArg::Admin => Role::Admin,
                RoleArg::AreaAdmin => Role::AreaAdmin,
            };
            with_store(&db, clock, move |cfg, store| {
                Box::pin(async move {
                    let areas = user_areas_of(&cfg, role, areas)?;
                    store.add_user(&name, role, &hash, totp.as_deref(), &now).await?;
                    if let Some(areas) = &areas {
                        store.set_user_areas(&name, areas, &now, "cli", None).await?;
                    }
                    let second = if totp.is_some() { "authenticator app enrolled" } else { "sets up the authenticator app at first sign-in" };
                    println!("added {name} ({}; {second})", role.as_str());
                    Ok(())
                })
            })
        }
        UserCommand::Areas { db, name, areas } => with_store(&db, clock, move |cfg, store| {
            Box::pin(async move {
                let role = store.users().await?.into_iter().find(|u| u.name == name).map(|u| u.role).with_context(|| format!("no user named {name:?}"))?;
                let Some(areas) = user_areas_of(&cfg, role, areas)? else { anyhow::bail!("{name} is an admin of the deployment: they work in every area") };
                store.set_user_areas(&name, &areas, &now, "cli", None).await?;
                println!("{name} works in {}", areas.join(", "));
                Ok(())
            })
        }),
        UserCommand::Disable { db, name } => with_store(&db, clock, move |_, store| {
            Box::pin(async move {
                if !store.disable_user(&name, &now).await? {
                    anyhow::bail!("no user named {name:?}");
                }
                println!("disabled {name}; their sessions have ended");
                Ok(())
            })
        }),
        UserCommand::Passwd { db, name, password_file } => {
            let hash = hash_password(&read_password(password_file.as_deref())?)?;
            with_store(&db, clock, move |_, store| {
                Box::pin(async move {
                    if !store.set_password(&name, &hash, &now).await? {
                        anyhow::bail!("no user named {name:?}");
                    }
                    println!("new password set for {name}; their sessions have ended");
                    Ok(())
                })
            })
        }
        UserCommand::ResetTotp { db, name } => with_store(&db, clock, move |_, store| {
            Box::pin(async move {
                if !store.reset_totp_by(&name, &now, "cli", None).await? {
                    anyhow::bail!("no user named {name:?}");
                }
                println!("authenticator app reset for {name}; their sessions have ended; they set up a new one at their next sign-in");
                Ok(())
            })
        }),
        UserCommand::List { db } => with_store(&db, clock, |_, store| {
            Box::pin(async move {
                let areas = store.areas_by_user().await?;
                for u in store.users().await? {
                    let totp = if u.totp { "authenticator app" } else { "no authenticator app yet" };
                    let works_in = match u.role {
                        marac_intake::store::accounts::Role::Admin => "every area".to_owned(),
                        _ => areas.get(&u.name).map(|a| a.join(",")).unwrap_or_else(|| "no area".to_owned()),
                    };
                    println!("{}\t{}\t{}\t{totp}\tadded {}\tareas {works_in}", u.name, u.role.as_str(), if u.disabled { "disabled" } else { "active" }, u.created_at.get(..10).unwrap_or(&u.created_at));
                }
                Ok(())
            })
        }),
    }
}

/// Works on the database's rule sections with the file alone loaded, so that it still runs when
/// a kept section no longer fits the file; after a change, says whether the two fit again.
fn rules(command: RulesCommand, clock: &Clock) -> Result<()> {
    use marac_intake::store::rules::RuleChange;
    let db = command.db().clone();
    let now = stamp(clock.now());
    with_file_store(&db, clock, move |path, store| Box::pin(async move {
        // The file alone (valid: it was just loaded to open the database), for its areas.
        let file = config::load(&path, std::env::vars()).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?.file;
        // A deployment's section, or a configured area's (`areas.ID.SECTION`); one the database
        // keeps for an area since removed from the file too, so that it can be shown and reset.
        let known = async |section: &str| -> Result<()> {
            match config::rule_section_in(&file, section) {
                Ok(_) => Ok(()),
                Err(e) if config::RuleSection::parse(section).is_ok() && !store.rule_history(section, 1).await?.is_empty() => {
                    eprintln!("note: {e}; the database keeps a version of it");
                    Ok(())
                }
                Err(e) => Err(anyhow::anyhow!("{e}")),
            }
        };
        match command {
            RulesCommand::List { .. } => {
                let heads = store.rule_heads().await?;
                let mut names: Vec<String> = config::RULE_SECTIONS.iter().map(|s| s.to_string()).collect();
                for id in file.areas.keys() {
                    names.extend(config::AREA_RULE_SECTIONS.iter().map(|s| format!("areas.{id}.{s}")));
                }
                for section in &names {
                    match heads.iter().find(|h| h.section == *section && h.body.is_some()) {
                        Some(h) => println!("{section}\tversion {} by {} at {}", h.id, h.changed_by, h.changed_at),
                        None => println!("{section}\tfrom the file"),
                    }
                }
                for h in heads.iter().filter(|h| h.body.is_some() && !names.contains(&h.section)) {
                    println!("{}\tversion {} by {} at {} (no such area in the file: `rules reset {}` removes it)", h.section, h.id, h.changed_by, h.changed_at, h.section);
                }
            }
            RulesCommand::Show { section, .. } => {
                known(&section).await?;
                for v in store.rule_history(&section, i64::MAX).await? {
                    println!("# version {} by {} at {}", v.id, v.changed_by, v.changed_at);
                    println!("{}\n", v.body.as_deref().unwrap_or("# (the file's section)"));
                }
            }
            RulesCommand::Reset { section, .. } => {
                known(&section).await?;
                let newest = store.rule_history(&section, 1).await?.first().map(|v| v.id).unwrap_or(0);
                let audit = marac_intake::store::accounts::Audit { at: &now, actor: "cli", action: "rules.change", object: None, client: None, detail: None };
                match store.change_rule(&section, None, newest, "back to the file's section", audit).await? {
                    RuleChange::Saved(id) => println!("{section}: the file's section again (version {id})"),
                    RuleChange::Stale(v) => anyhow::bail!("{section} changed meanwhile (version {} by {}); run it again", v.id, v.changed_by),
                }
            }
        }
        match marac_intake::rules::load(&path, &store).await {
            Ok(_) => println!("the file with these sections is valid"),
            Err(e) => println!("the file with these sections is NOT valid: {e:#}"),
        }
        Ok(())
    }))
}

fn check_user_name(name: &str) -> Result<()> {
    if !marac_intake::store::accounts::valid_user_name(name) {
        anyhow::bail!("a user name is 1 to 64 letters, digits and . _ - @");
    }
    Ok(())
}

/// The password from a file, else piped standard input (its first line), else a prompt.
fn read_password(file: Option<&std::path::Path>) -> Result<String> {
    use std::io::{BufRead, IsTerminal};
    if let Some(f) = file {
        return config::read_secret(f).with_context(|| format!("reading {}", f.display()));
    }
    if !std::io::stdin().is_terminal() {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_owned());
    }
    let first = rpassword::prompt_password("Password: ")?;
    if rpassword::prompt_password("Again: ")? != first {
        anyhow::bail!("the two passwords differ");
    }
    Ok(first)
}

fn config_path(c: &ConfigArg) -> PathBuf {
    c.config
        .clone()
        .or_else(|| std::env::var_os("MARAC_CONFIG").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("/etc/marac-intake/marac-intake.toml"))
}

fn load_config(c: &ConfigArg) -> Result<Config> {
    let path = config_path(c);
    config::load(&path, std::env::vars()).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

type Job = std::pin::Pin<Box<dyn std::future::Future<Output = Result<()>>>>;

/// Opens the database (the file's `data_dir`, or `--db`) and runs `job` with the configuration in
/// force: the file with the rules changed in the web console layered over it.
fn with_store(db: &DbArgs, clock: &Clock, job: impl FnOnce(Config, Store) -> Job + 'static) -> Result<()> {
    with_file_store(db, clock, move |path, store| {
        Box::pin(async move {
            let cfg = marac_intake::rules::load(&path, &store).await?;
            job(cfg, store).await
        })
    })
}

/// Opens the database with the configuration file alone read (for its `data_dir`), and runs
/// `job` with the file's path. `clock` dates the migrations opening may run.
fn with_file_store(db: &DbArgs, clock: &Clock, job: impl FnOnce(PathBuf, Store) -> Job) -> Result<()> {
    let cfg = load_config(&db.config)?;
    let url = db.db.clone().unwrap_or_else(|| cfg.default_db_url());
    let path = config_path(&db.config);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    rt.block_on(async move {
        let store = Store::open_configured(&url, &cfg.file.storage, clock).await?.with_audit_copy(&cfg.file.audit);
        let done = job(path, store.clone()).await;
        store.close().await;
        done
    })
}

fn subject(command: SubjectCommand, clock: &Clock) -> Result<()> {
    use marac_intake::store::accounts::Audit;
    use marac_intake::web::audit as actions;
    let at = stamp(clock.now());
    match command {
        SubjectCommand::Export { db, person, out } => with_store(&db, clock, move |_, store| {
            Box::pin(async move {
                let export = store.subject_export(&person).await?.with_context(|| format!("no victim record {person}"))?;
                let zip = marac_intake::store::subjects::archive(&export, &at, "cli")?;
                write_private(&out, &zip)?;
                let counts = export.counts().to_string();
                store.audit(&Audit { at: &at, actor: "cli", action: actions::SUBJECT_EXPORT, object: Some(&person), client: None, detail: Some(&counts) }).await?;
                println!("{person}: {counts}; written to {}", out.display());
                Ok(())
            })
        }),
        SubjectCommand::Erase { db, person, reason } => with_store(&db, clock, move |_, store| {
            Box::pin(async move {
                let reason = reason.trim();
                anyhow::ensure!(!reason.is_empty(), "--reason is required");
                let audit = Audit { at: &at, actor: "cli", action: actions::SUBJECT_ERASE, object: Some(&person), client: None, detail: None };
                let e = store.erase_subject(&person, reason, &audit).await?.with_context(|| format!("no victim record {person}"))?;
                println!(
                    "{person} erased: {} messages, {} kept as received, {} replies ({} not yet sent, now never sent), {} agendas not yet sent withdrawn",
                    e.messages, e.originals, e.replies, e.unsent, e.agendas
                );
                Ok(())
            })
        }),
    }
}

/// Writes a new file readable by its owner only (0600 whatever the umask); never overwrites.
fn write_private(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path).with_context(|| format!("creating {} (it must not exist yet)", path.display()))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
}

async fn triage(cfg: Config, store: Store, json: bool, files: Vec<PathBuf>, clock: Clock) -> Result<()> {
    let now = clock.now().fixed_offset();
    for file in &files {
        let raw = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
        let name = file.display().to_string();
        let record = marac_intake::triage::triage_message(&raw, Some(&name), None, now, &cfg, &store).await?;
        print_records(std::slice::from_ref(&record), json, true)?;
    }
    if !json {
        println!();
        print_queue(&store.queue().await?, false)?;
    }
    Ok(())
}

fn print_records(records: &[MessageRecord], json: bool, with_file: bool) -> Result<()> {
    for r in records {
        if json {
            println!("{}", r.to_json(with_file));
        } else {
            let who = r.file.as_deref().map(|f| f.rsplit('/').next().unwrap_or(f)).unwrap_or(&r.reference);
            let case = match (&r.case_ref, r.case.as_str()) {
                (Some(c), kind) => format!(" case {c} ({kind})"),
                (None, _) => String::new(),
            };
            let criteria = if r.criteria.is_empty() { String::new() } else { format!(" [{}]", criteria_list(&r.criteria)) };
            let reply = match r.reply_kind {
                ReplyKind::None => "no reply".to_owned(),
                kind => format!("{} → {}", kind.as_str(), r.reply_to.join(", ")),
            };
            println!("{who}: {}{criteria}{case}; {reply}", r.outcome.as_str());
            if r.outcome != Outcome::Accepted {
                for reason in &r.reasons {
                    println!("    - {reason}");
                }
            }
        }
    }
    Ok(())
}

/// Criteria as the text output lists them: `repeat, visible_high_risk`.
fn criteria_list(criteria: &[Criterion]) -> String {
    criteria.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", ")
}

/// How `data-return` gives the return.
enum ReturnOutput {
    Table,
    Json,
    Csv,
    Xlsx(PathBuf),
}

/// `data-return`: the quarter's counts for one area, printed or written, and audited.
async fn data_return(cfg: &Config, store: &Store, quarter: &str, area: Option<&str>, output: ReturnOutput, clock: &Clock) -> Result<()> {
    use marac_intake::data_return::{DataReturn, Quarter, COLUMNS};
    let quarter = Quarter::parse(quarter)?;
    let area = marac_intake::data_return::area_of(cfg, area)?;
    let cases = store.return_cases(quarter.first_day(), quarter.last_day(), Some(&area.0), &marac_intake::store::hidden::HiddenCases::none()).await?;
    let r = DataReturn::count(quarter, &cases);
    let format = match &output {
        ReturnOutput::Table => "table",
        ReturnOutput::Json => "json",
        ReturnOutput::Csv => "csv",
        ReturnOutput::Xlsx(_) => "xlsx",
    };
    let at = stamp(clock.now());
    let detail = format!("{} {format}", area.0);
    let audit = marac_intake::store::accounts::Audit { at: &at, actor: "cli", action: marac_intake::web::audit::DATA_RETURN_EXPORT, object: Some(&r.quarter), client: None, detail: Some(&detail) };
    match output {
        ReturnOutput::Xlsx(path) => {
            let bytes = r.xlsx(&area.1)?;
            let mut f = std::fs::OpenOptions::new().write(true).create_new(true).open(&path).with_context(|| format!("creating {} (an existing file is not overwritten)", path.display()))?;
            std::io::Write::write_all(&mut f, &bytes).with_context(|| format!("writing {}", path.display()))?;
            store.audit(&audit).await?;
            println!("wrote the data return for {} ({} meetings) to {}", r.quarter, r.meetings.len(), path.display());
        }
        ReturnOutput::Json => {
            store.audit(&audit).await?;
            println!("{}", serde_json::to_string_pretty(&r)?);
        }
        ReturnOutput::Csv => {
            store.audit(&audit).await?;
            print!("{}", r.csv());
        }
        ReturnOutput::Table => {
            store.audit(&audit).await?;
            println!("SafeLives MARAC data return, {}, {}", r.quarter, area.1);
            for m in r.meetings.iter().chain(std::iter::once(&r.total())) {
                println!("{}", m.meeting_date);
                for ((title, _), n) in COLUMNS.iter().skip(1).zip(m.counts()) {
                    println!("  {title}: {n}");
                }
            }
        }
    }
    Ok(())
}

fn print_queue(records: &[MessageRecord], json: bool) -> Result<()> {
    if json {
        return print_records(records, true, false);
    }
    println!("Queue ({} items):", records.len());
    for r in records {
        let what = match r.outcome {
            Outcome::Review => format!("REVIEW      {} — {}", r.reference, r.reasons.first().map(String::as_str).unwrap_or("")),
            Outcome::Quarantined => format!("QUARANTINE  {} — {}", r.reference, r.reasons.first().map(String::as_str).unwrap_or("")),
            _ => format!(
                "MEETING {}  {} DASH {} [{}]",
                r.meeting_date.as_deref().unwrap_or("?"),
                r.case_ref.as_deref().unwrap_or("?"),
                r.dash.map(|d| d.0.to_string()).unwrap_or_else(|| "-".into()),
                criteria_list(&r.criteria)
            ),
        };
        println!("  {what}");
    }
    Ok(())
}

fn doctor(db: &DbArgs, clock: &Clock) -> ExitCode {
    let path = config_path(&db.config);
    let report = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt.block_on(marac_intake::doctor::run(&path, std::env::vars(), db.db.as_deref(), clock)),
        Err(e) => {
            eprintln!("marac-intake: {e}");
            return ExitCode::FAILURE;
        }
    };
    print!("{}", report.render());
    if report.failed() { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}

fn check_config(c: &ConfigArg, clock: &Clock) -> Result<()> {
    let path = config_path(c);
    let cfg = match config::load(&path, std::env::vars()) {
        Ok(cfg) => cfg,
        Err(e) => anyhow::bail!("configuration {} is invalid: {e}", path.display()),
    };
    let f = &cfg.file;
    println!("configuration {} is valid", path.display());
    println!(
        "(rules changed in the web console are kept in the database and layered over the file's sections {}, and each area's areas.ID.{{{}}}; see /admin/rules)",
        config::RULE_SECTIONS.join(", "),
        config::AREA_RULE_SECTIONS.join(",")
    );
    println!("area:                 {}", f.area);
    println!("data directory:       {}", f.data_dir.display());
    match (&f.storage.db_key_file, &f.storage.data_key_file) {
        (Some(db), Some(data)) => println!("keys at rest:         database {}, data {} (credentials)", db.display(), data.display()),
        _ => println!("keys at rest:         WARNING: none named in [storage]; keys are made beside the database, for trying out only"),
    }
    let repeat_from = match f.threshold.repeat_from {
        config::RepeatFrom::LastReferral => "the last referral",
        config::RepeatFrom::LastMeeting => "the meeting that heard the last referral",
    };
    println!("threshold:            DASH {} Yes; escalation {} police call-outs; repeat within {} days of {repeat_from}", f.threshold.dash_score, f.threshold.escalation_callouts, f.threshold.repeat_window_days);
    println!("criteria enabled:     {}", f.threshold.criteria.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", "));
    println!("DASH required:        {:?}", f.threshold.dash_required);
    let forms = match f.threshold.forms {
        config::Forms::Any => "any (no rule of its own; without a referral form, a coordinator decides)",
        config::Forms::Both => "both (the MARAC referral form and a DASH with every referral)",
        config::Forms::DashAlone => "dash_alone (a DASH meeting the threshold is enough without the referral form)",
    };
    println!("forms:                {forms}");
    println!("required fields:      {}", if f.threshold.required_fields.is_empty() { "(none beyond victim name or date of birth)".into() } else { f.threshold.required_fields.join(", ") });
    println!("secure senders:       {}", cfg.allowlist.describe().join("; "));
    println!("trusted authserv-id:  {}", f.senders.trusted_authserv_id);
    let sealers = if f.senders.trusted_arc_sealers.is_empty() { "none".to_owned() } else { f.senders.trusted_arc_sealers.join(", ") };
    let server = match f.senders.receiving_server {
        config::ReceivingServer::Rfc8601 => format!("the receiving server's topmost {} header(s) naming {}", f.senders.authserv_headers, f.senders.trusted_authserv_id),
        config::ReceivingServer::ExchangeOnline => format!("Exchange Online's topmost {} header(s), with compauth=pass", f.senders.authserv_headers),
    };
    println!("sender proof:         an aligned dmarc=pass in {server}; ARC sealers trusted: {sealers}");
    let today = clock.today();
    let upcoming = cfg.schedule.meetings_between(today, today + chrono::Duration::days(120));
    println!("meetings:             {:?}; next: {}", f.schedule.kind, upcoming.iter().take(4).map(|d| d.to_string()).collect::<Vec<_>>().join(", "));
    println!("replies from:         {}", f.replies.from);
    println!("case references:      {} (e.g. {})", f.case.reference_format, f.case.reference_format_example());
    println!("folders:              accepted {}, rejected {}, review {}, quarantined {}, ignored {}", f.folders.accepted, f.folders.rejected, f.folders.review, f.folders.quarantined, f.folders.ignored);
    let a = &cfg.agenda;
    let when = if a.automatic {
        format!("by itself {} working days before each meeting at {} UK time; bank holidays of {}, {} more listed", a.working_days_before, a.send_at.format("%H:%M"), a.bank_holidays.describe(), a.holidays.len())
    } else {
        "by hand only".to_owned()
    };
    println!("agenda officers:      {} ({when})", a.officers.len());
    println!("extra label synonyms: {} fields, {} sections", f.synonyms.fields.len(), f.synonyms.sections.len());
    for w in cfg.allowlist.warnings() {
        println!("warning: {w}");
    }
    Ok(())
}

fn run_inspect(json: bool, files: &[PathBuf]) -> ExitCode {
    let opts = InspectOptions::with_clock(std::time::Instant::now);
    let mut io_errors = 0;
    for file in files {
        let raw = match std::fs::read(file) {
            Ok(raw) => raw,
            Err(e) => {
                eprintln!("marac-intake: cannot read {}: {e}", file.display());
                io_errors += 1;
                continue;
            }
        };
        let inspection = inspect(&raw, &opts);
        if json {
            let mut value = serde_json::to_value(&inspection).unwrap_or_default();
            if let Some(obj) = value.as_object_mut() {
                obj.insert("file".into(), serde_json::Value::String(file.display().to_string()));
            }
            println!("{value}");
        } else {
            print!("{}", marac_intake::report::human(&file.display().to_string(), &inspection));
        }
    }
    if io_errors > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}
