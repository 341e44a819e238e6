//! `dengbao` — the command line of the Dengbao MLPS platform.
//!
//! This binary is the only place in the foundation that touches files, the terminal and the
//! clock; everything it decides comes from `dengbao-core`.

mod input;
mod ledger;
mod render;
mod scan;
mod server;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use dengbao_core::assess::assess;
use dengbao_core::obligations::Status;
use dengbao_core::{Date, HolidayCalendar, RulePack};

#[derive(Parser)]
#[command(
    name = "dengbao",
    version,
    about = "Multi-Level Protection Scheme (等级保护) compliance: grading, obligations, filing, eligibility, violations"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Grade grading objects and list their obligations, dossier gaps, eligibility and violations.
    Assess(AssessArgs),
    /// Find personal and classified information in files before they are shared.
    Scan(scan::ScanArgs),
    /// Run the platform: HTTP API on SQLite (default) or PostgreSQL.
    Serve(server::ServeArgs),
    /// Create or upgrade the database schema.
    Migrate(server::DbArgs),
    /// Operator tasks: organisations, users, imports.
    Admin {
        #[command(subcommand)]
        command: server::AdminCommand,
    },
    /// The vault's keys: where the master key is, how many keys it wraps, rotation.
    Vault {
        #[command(subcommand)]
        command: server::VaultCommand,
    },
    /// Tamper-evident ledger: keys, proofs, offline verification.
    Ledger {
        #[command(subcommand)]
        command: ledger::LedgerCommand,
    },
    /// Show or list rule packs.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
}

#[derive(clap::Args)]
struct AssessArgs {
    /// Files with one grading object or an inventory (`systems`, `products`, …), TOML or JSON.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Date to assess on (YYYY-MM-DD); default: today in Asia/Shanghai.
    #[arg(long, value_name = "DATE")]
    as_of: Option<String>,
    /// Rule pack: a built-in id or a TOML file (a whole pack or an overlay with `extends`).
    #[arg(long, value_name = "PACK", default_value = "measures-2007")]
    rules: String,
    /// Holiday calendar file(s) (TOML), as published by the State Council each year.
    #[arg(long, value_name = "FILE")]
    holidays: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Exit with status 3 if any system has what is named here.
    #[arg(long, value_enum, value_name = "WHAT")]
    fail_on: Option<FailOn>,
}

#[derive(Subcommand)]
enum RulesCommand {
    /// Print a pack (built-in id or overlay file), merged over its base, as TOML.
    Show {
        #[arg(default_value = "measures-2007")]
        pack: String,
    },
    /// List the built-in packs.
    List,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum FailOn {
    /// An overdue obligation.
    Overdue,
    /// A violation of art. 40 (established or unverified).
    Violation,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        // `dengbao assess … | head` is normal use, not an error.
        Err(e) if broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn broken_pipe(e: &anyhow::Error) -> bool {
    let pipe = Some(std::io::ErrorKind::BrokenPipe);
    e.downcast_ref::<std::io::Error>().map(std::io::Error::kind) == pipe
        || e.downcast_ref::<serde_json::Error>()
            .and_then(serde_json::Error::io_error_kind)
            == pipe
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Assess(a) => run_assess(a),
        Command::Scan(a) => scan::run(a),
        Command::Ledger { command } => ledger::run(command),
        Command::Serve(a) => server::serve(a),
        Command::Migrate(a) => server::migrate(a),
        Command::Admin { command } => server::admin(command),
        Command::Vault { command } => server::vault(command),
        Command::Rules {
            command: RulesCommand::List,
        } => {
            for (id, _) in dengbao_core::pack::BUILTIN {
                let p = RulePack::builtin(id)?;
                println!("{id}\t{} — {}", p.title, p.source);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Rules {
            command: RulesCommand::Show { pack },
        } => {
            let p = input::load_pack(&pack)?;
            let mut out = std::io::stdout().lock();
            writeln!(out, "# Rule pack `{}`: {} — {}", p.id, p.title, p.source)?;
            if let Some(base) = &p.extends {
                writeln!(out, "# Overlay on `{base}`, shown merged.")?;
            }
            writeln!(out)?;
            write!(out, "{}", p.to_toml())?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Today's date in Asia/Shanghai (UTC+8 all year; China has no daylight saving time).
fn today_shanghai() -> Result<Date> {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .context("system clock is before 1970")?
        .as_secs();
    Ok(Date::from_unix_seconds(
        i64::try_from(secs).context("system clock is out of range")?,
        8 * 3600,
    ))
}

fn run_assess(a: AssessArgs) -> Result<ExitCode> {
    let as_of = match &a.as_of {
        Some(s) => s
            .parse::<Date>()
            .map_err(|e| anyhow::anyhow!("--as-of: {e}"))?,
        None => today_shanghai()?,
    };
    let pack = input::load_pack(&a.rules)?;
    let mut calendar = HolidayCalendar::new();
    for f in &a.holidays {
        input::load_holidays(f, &mut calendar)?;
    }
    let mut inventories = Vec::with_capacity(a.files.len());
    for f in &a.files {
        inventories.push((f, input::load_inventory(f, &pack)?));
    }
    let reports: Vec<_> = inventories
        .iter()
        .map(|(f, inv)| (f, assess(inv, &pack, &calendar, as_of)))
        .collect();

    let mut out = std::io::stdout().lock();
    match a.format {
        Format::Json => {
            // One file → one report object; several → an array, in the order given.
            if reports.len() == 1 {
                serde_json::to_writer_pretty(&mut out, &reports[0].1)?;
            } else {
                let all: Vec<_> = reports.iter().map(|(f, r)| serde_json::json!({ "file": f.display().to_string(), "report": r })).collect();
                serde_json::to_writer_pretty(&mut out, &all)?;
            }
            writeln!(out)?;
        }
        Format::Text => {
            for (f, r) in &reports {
                render::text(&mut out, &f.display().to_string(), r)?;
            }
        }
    }
    out.flush()?;

    let hit = |r: &dengbao_core::assess::Report| match a.fail_on {
        Some(FailOn::Overdue) => r
            .systems
            .iter()
            .any(|s| s.obligations.iter().any(|o| o.status == Status::Overdue)),
        Some(FailOn::Violation) => r.systems.iter().any(|s| !s.violations.is_empty()),
        None => false,
    };
    if reports.iter().any(|(_, r)| hit(r)) {
        return Ok(ExitCode::from(3));
    }
    if reports.iter().all(|(_, r)| r.systems.is_empty()) {
        bail!(
            "no grading objects found in {}",
            a.files
                .iter()
                .map(|f| f.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}
