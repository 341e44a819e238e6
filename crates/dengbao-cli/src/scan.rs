//! `dengbao scan`: find personal and classified information in files before they leave.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context as _, Result, anyhow};
use clap::ValueEnum;
use dengbao_scan::detect::{Confidence, Kind};
use dengbao_scan::report::{self, Verdict};
use dengbao_scan::scanner::{FileReport, FileStatus, total_size};
use dengbao_scan::{Config, Scanner};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

#[derive(clap::Args)]
pub struct ScanArgs {
    /// Files or directories to scan (recursively); `-` reads standard input.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = ScanFormat::Text)]
    format: ScanFormat,
    /// Exit with status 3 if anything is found at this confidence or above.
    #[arg(long, value_enum, value_name = "LEVEL")]
    fail_on: Option<Level>,
    /// TOML file with keyword lists, regex detectors and limits.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Skip files larger than this many bytes (overrides the config).
    #[arg(long, value_name = "BYTES")]
    max_file_size: Option<u64>,
}

#[derive(Clone, Copy, ValueEnum)]
enum ScanFormat {
    Text,
    Json,
    Sarif,
}

#[derive(Clone, Copy, ValueEnum)]
enum Level {
    Low,
    Medium,
    High,
}

impl From<Level> for Confidence {
    fn from(l: Level) -> Confidence {
        match l {
            Level::Low => Confidence::Low,
            Level::Medium => Confidence::Medium,
            Level::High => Confidence::High,
        }
    }
}

const VERSION: &str = env!("CARGO_PKG_VERSION");

pub fn run(a: ScanArgs) -> Result<ExitCode> {
    let mut config = match &a.config {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("{}: cannot read", p.display()))?;
            Config::from_toml(&text, &p.display().to_string()).map_err(|e| anyhow!("{e}"))?
        }
        None => Config::default(),
    };
    if let Some(m) = a.max_file_size {
        config.limits.max_file_bytes = m;
    }
    let scanner = Scanner::new(config).map_err(|e| anyhow!("{e}"))?;
    let threads = a
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));

    // A progress bar only for a person watching a terminal.
    let bar = if std::io::stderr().is_terminal() {
        let b =
            ProgressBar::with_draw_target(Some(total_size(&a.paths)), ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template(
            "{spinner} scanning {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        ) {
            b.set_style(style);
        }
        b
    } else {
        ProgressBar::hidden()
    };
    let started = Instant::now();
    let files = scanner.scan_paths(&a.paths, threads, &|n| bar.inc(n));
    bar.finish_and_clear();
    let elapsed = started.elapsed();

    let mut out = std::io::stdout().lock();
    match a.format {
        ScanFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &report::json(&files, VERSION))?;
            writeln!(out)?;
        }
        ScanFormat::Sarif => {
            serde_json::to_writer_pretty(&mut out, &report::sarif(&files, VERSION))?;
            writeln!(out)?;
        }
        ScanFormat::Text => text(&mut out, &files, elapsed.as_secs_f64())?,
    }
    out.flush()?;

    if let Some(level) = a.fail_on {
        if files.iter().any(|f| f.count_at_least(level.into()) > 0) {
            return Ok(ExitCode::from(3));
        }
    }
    if files.iter().any(|f| f.status == FileStatus::Failed) {
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}

const SHOW_PER_FILE: usize = 50;

fn text(w: &mut impl Write, files: &[FileReport], secs: f64) -> std::io::Result<()> {
    let s = report::summarize(files);
    let mb = s.bytes as f64 / 1e6;
    writeln!(
        w,
        "dengbao scan: {} file(s) scanned, {} skipped, {} failed; {mb:.1} MB in {secs:.2} s",
        s.files_scanned, s.files_skipped, s.files_failed
    )?;
    let verdict = match s.verdict {
        Verdict::Blocked => {
            "BLOCKED — a state-secret classification marking was found: must not be shared at all"
        }
        Verdict::Sensitive => {
            "SENSITIVE — personal or identifying data found with high confidence: declassify and evaluate risk before sharing"
        }
        Verdict::Review if s.counts.values().all(|c| c.total() == 0) => {
            "REVIEW — nothing found in what was read, but not everything could be read"
        }
        Verdict::Review => "REVIEW — possible personal data at medium or low confidence",
        Verdict::Clean => "CLEAN — nothing found",
    };
    writeln!(
        w,
        "Verdict: {verdict}{}",
        if s.complete {
            String::new()
        } else {
            format!(
                " (incomplete: {} file(s) could not be read, {} held content the scanner does not read — binary or an unknown format)",
                s.files_failed, s.files_unscanned
            )
        }
    )?;
    for f in files
        .iter()
        .filter(|f| f.status == FileStatus::Scanned && !f.findings.is_empty())
    {
        let total: u64 = f.counts.values().map(|c| c.total()).sum();
        writeln!(
            w,
            "\n{} ({}, {} bytes): {total} finding(s)",
            f.path,
            f.encoding.unwrap_or("?"),
            f.bytes
        )?;
        for x in f.findings.iter().take(SHOW_PER_FILE) {
            let part = x.part.as_ref().map(|p| format!("{p} ")).unwrap_or_default();
            let rule = x
                .rule
                .as_ref()
                .map(|r| format!(" [{r}]"))
                .unwrap_or_default();
            writeln!(
                w,
                "  {part}{}:{}  {:<18} {:<6}  {}{rule}",
                x.line,
                x.column,
                x.kind.as_str(),
                x.confidence.as_str(),
                x.masked
            )?;
        }
        if total as usize > SHOW_PER_FILE {
            writeln!(
                w,
                "  … {} more (use --format json)",
                total as usize - SHOW_PER_FILE
            )?;
        }
        for warn in &f.warnings {
            writeln!(w, "  warning: {warn}")?;
        }
    }
    if !s.counts.is_empty() {
        writeln!(w, "\nBy type:")?;
        for k in Kind::ALL {
            if let Some(c) = s.counts.get(&k) {
                writeln!(
                    w,
                    "  {:<18} {:>8}  (high {}, medium {}, low {})",
                    k.as_str(),
                    c.total(),
                    c.high,
                    c.medium,
                    c.low
                )?;
            }
        }
    }
    for f in files.iter().filter(|f| f.status != FileStatus::Scanned) {
        let what = if f.status == FileStatus::Failed {
            "FAILED"
        } else {
            "skipped"
        };
        writeln!(
            w,
            "{what}: {}: {}",
            f.path,
            f.reason.as_deref().unwrap_or("")
        )?;
    }
    Ok(())
}
