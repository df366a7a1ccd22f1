//! The `marac-intake` command: a thin shell over the library. See `--help`.
#![forbid(unsafe_code)]

use clap::{Parser, Subcommand};
use marac_intake::inspect::{inspect, InspectOptions};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "marac-intake", version, about = "Secure intake of MARAC referrals by email")]
struct Cli {
    #[command(subcommand)]
    command: Command,
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
}

fn main() -> ExitCode {
    marac_intake::quiet_panics();
    let cli = Cli::parse();
    match cli.command {
        Command::Inspect { json, files } => run_inspect(json, &files),
    }
}

fn run_inspect(json: bool, files: &[PathBuf]) -> ExitCode {
    let opts = InspectOptions::default();
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

