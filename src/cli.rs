//! The command line: argument parsing, files in, reports out, exit codes.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::diagnostic::{Diagnostic, DiagnosticKind};
use crate::render::{self, Style};
use crate::{Checked, ast::Span, check_text};

const EXIT_CODES: &str = "\
Exit codes:
  0  every file is valid (warnings allowed)
  1  a file is invalid
  2  usage error: bad arguments, or a file that cannot be read";

#[derive(Parser)]
#[command(
    name = "outatime",
    version,
    about = "Time-series test data on purpose: replay, shift, synthesise and break data for end-to-end tests",
    after_help = EXIT_CODES
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check scenario files and report every problem in them
    #[command(after_help = EXIT_CODES)]
    Check(CheckArgs),
}

#[derive(clap::Args)]
struct CheckArgs {
    /// Scenario files (`*.scenario`)
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// How to report problems: `human` (to stderr) or `json` (one object a
    /// line on stdout, for editors and CI annotations)
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Also print what each valid scenario does, step by step
    #[arg(long)]
    explain: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Human,
    Json,
}

/// Runs the command line and returns its exit code.
pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap exits 2 on usage errors and 0 for --help/--version.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match cli.command {
        Command::Check(args) => check(&args),
    }
}

fn check(args: &CheckArgs) -> ExitCode {
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let style = Style {
        color,
        width: if color { terminal_width() } else { 100 },
    };
    let mut any_invalid = false;
    let mut unreadable = false;
    let mut stdout = std::io::stdout().lock();
    for path in &args.files {
        let shown = path.display().to_string();
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("error: cannot read `{shown}`: {e}");
                unreadable = true;
                continue;
            }
        };
        let (text, checked) = check_bytes(&bytes, path);
        any_invalid |= checked.has_errors();
        match args.format {
            Format::Human => {
                eprint!(
                    "{}",
                    render::human(&shown, &text, &checked.diagnostics, style)
                );
                let summary = summary(&shown, &checked);
                let _ = writeln!(stdout, "{summary}");
                if let (true, Some(scenario)) = (args.explain, &checked.scenario) {
                    let _ = write!(stdout, "{}", crate::explain::explain(scenario));
                }
            }
            Format::Json => {
                let _ = write!(
                    stdout,
                    "{}",
                    render::json_lines(&shown, &text, &checked.diagnostics)
                );
            }
        }
    }
    if unreadable {
        ExitCode::from(2)
    } else if any_invalid {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Checks a file's bytes; text that is not UTF-8 is one diagnostic at the
/// first bad byte.
fn check_bytes(bytes: &[u8], path: &Path) -> (String, Checked) {
    match std::str::from_utf8(bytes) {
        Ok(text) => {
            let base = path.parent().unwrap_or(Path::new("."));
            let base = if base.as_os_str().is_empty() {
                Path::new(".")
            } else {
                base
            };
            (text.to_string(), check_text(text, base))
        }
        Err(e) => {
            let text = String::from_utf8_lossy(bytes).into_owned();
            let at = e.valid_up_to();
            let diagnostic = Diagnostic::new(DiagnosticKind::NotUtf8, Span::new(at, at));
            (
                text,
                Checked {
                    scenario: None,
                    diagnostics: vec![diagnostic],
                },
            )
        }
    }
}

fn summary(path: &str, checked: &Checked) -> String {
    let count = |severity| {
        checked
            .diagnostics
            .iter()
            .filter(|d| d.severity() == severity)
            .count()
    };
    let errors = count(crate::diagnostic::Severity::Error);
    let warnings = count(crate::diagnostic::Severity::Warning);
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    match &checked.scenario {
        Some(s) => format!(
            "ok    {path}: \"{}\" ({}, {}, {}, {}, {})",
            s.title,
            plural(s.sources.len(), "source"),
            plural(s.tables.len(), "table"),
            plural(s.steps.len(), "step"),
            plural(s.anomalies.len(), "anomaly").replace("anomalys", "anomalies"),
            plural(warnings, "warning"),
        ),
        None => format!(
            "error {path}: {}, {}",
            plural(errors, "error"),
            plural(warnings, "warning")
        ),
    }
}

fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(100)
}
