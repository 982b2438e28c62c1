//! The command line: argument parsing, files in, reports out, exit codes.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::app;
use crate::diagnostics::Span;
use crate::diagnostics::render;
use crate::diagnostics::{Diagnostic, kind};
use crate::validate::check::Checked;
use crate::validate::check::check_text;
use exit::Exit;
use output::{Failure, say, sayln};

mod apply;
mod apply_usage;
mod capture;
mod clean;
mod diff_plot;
pub(crate) mod exit;
mod fmt;
mod input;
pub(crate) mod output;
mod plot;
mod progress;
mod test;
mod verify;

use apply::{ApplyArgs, apply};
use capture::{CaptureArgs, capture};
use clean::{CleanArgs, clean};
use fmt::{FmtArgs, fmt};
use input::{ReadArgs, load_with_anchor, read_options};
use output::diagnostics_style;
use plot::{PlotArgs, plot};
use verify::{VerifyArgs, verify};

#[derive(Parser)]
#[command(
    name = "outatime",
    version,
    about = "Time-series test data on purpose: replay, shift, synthesise and break data for end-to-end tests",
    after_help = exit::EXIT_CODES
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check scenario files and report every problem in them
    #[command(after_help = exit::EXIT_CODES)]
    Check(CheckArgs),
    /// Compile a scenario into its write plan (YAML, for review and diffs)
    #[command(after_help = exit::EXIT_CODES)]
    Plan(PlanArgs),
    /// Print the record stream of a scenario or plan for one anchor
    #[command(after_help = exit::EXIT_CODES)]
    Records(RecordsArgs),
    /// Print the anomaly labels with concrete UTC windows, as JSON
    #[command(after_help = exit::EXIT_CODES)]
    Labels(LabelsArgs),
    /// Show what changes between two plans
    #[command(after_help = exit::EXIT_CODES)]
    Diff(DiffArgs),
    /// Write the record stream of a scenario or plan to a target: Timestream
    /// (named in outatime.yaml), or by default JSON lines, one file a table,
    /// in ./outatime-out/
    #[command(after_help = exit::EXIT_CODES)]
    Apply(ApplyArgs),
    /// Read back what the stream for an anchor should have written and say
    /// what is missing, unexpected or different (exit 1), or that the
    /// target cannot be read (exit 3)
    #[command(after_help = exit::EXIT_CODES)]
    Verify(VerifyArgs),
    /// Apply a scenario or plan to a target, then evaluate its `expect`
    /// blocks against it (and the alerts received with --listen): exit 0
    /// when all pass, 1 when one fails, 3 when the target cannot be read
    /// or written
    #[command(after_help = exit::EXIT_CODES)]
    Test(test::TestArgs),
    /// Evaluate a scenario's `expect` blocks against a target written
    /// earlier (by `apply`, or by shards of it) at an anchor
    #[command(after_help = exit::EXIT_CODES)]
    Expect(test::ExpectArgs),
    /// Delete the tables a scenario wrote on a target, only those outatime
    /// created (tagged `managed-by=outatime`); never the database
    #[command(after_help = exit::EXIT_CODES)]
    Clean(CleanArgs),
    /// Write a window of a live Timestream table to a CSV file, and print
    /// the `source` blocks that read it
    #[command(after_help = exit::EXIT_CODES)]
    Capture(CaptureArgs),
    /// Rewrite scenario files in the canonical layout (with --check: print
    /// the diff of each file that is not, and exit 1)
    #[command(after_help = exit::EXIT_CODES)]
    Fmt(FmtArgs),
    /// Draw the record stream of a scenario or plan: one panel per table
    /// and measure, with steps, anomaly windows and `now` (SVG or PNG)
    #[command(after_help = exit::EXIT_CODES)]
    Plot(PlotArgs),
}

#[derive(clap::Args)]
struct PlanArgs {
    /// The scenario file
    scenario: PathBuf,
    /// With --check: the committed plan to compare against
    committed: Option<PathBuf>,
    /// Write the plan here instead of to stdout. The plan names its scenario
    /// relative to this file's folder (to stdout: to the current folder)
    #[arg(short, long, value_name = "FILE", conflicts_with = "check")]
    output: Option<PathBuf>,
    /// Exit 1 with a short diff when the committed plan is stale (for CI)
    #[arg(long, requires = "committed")]
    check: bool,
    #[command(flatten)]
    read: ReadArgs,
}

#[derive(clap::Args)]
struct RecordsArgs {
    /// A scenario, or a plan (its pinned sources and stream are verified first)
    input: PathBuf,
    /// What `now` is, RFC 3339 (default: the wall clock), rounded down to `anchor align`
    #[arg(long, value_name = "RFC3339")]
    anchor: Option<String>,
    #[arg(long, value_enum, default_value_t = RecordsFormat::Jsonl)]
    format: RecordsFormat,
    #[command(flatten)]
    read: ReadArgs,
}

#[derive(Clone, Copy, ValueEnum)]
enum RecordsFormat {
    Jsonl,
    Csv,
}

#[derive(clap::Args)]
struct LabelsArgs {
    /// A scenario, or a plan
    input: PathBuf,
    /// What `now` is, RFC 3339 (default: the wall clock), rounded down to `anchor align`
    #[arg(long, value_name = "RFC3339")]
    anchor: Option<String>,
    #[command(flatten)]
    read: ReadArgs,
}

#[derive(clap::Args)]
struct DiffArgs {
    old: PathBuf,
    new: PathBuf,
    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    format: DiffFormat,
    /// Also write every change to FILE, nothing folded or shortened
    #[arg(long, value_name = "FILE")]
    full: Option<PathBuf>,
    /// Also draw the changed series, old pale under new, to the file given
    /// with -o (each plan's pinned scenario and sources are run)
    #[arg(long, requires = "output")]
    plot: bool,
    /// The picture --plot writes: FILE.svg or FILE.png
    #[arg(short, long, value_name = "FILE", requires = "plot")]
    output: Option<PathBuf>,
    /// What `now` is for --plot, RFC 3339: the time axis in UTC. Without
    /// it, times are offsets from now, as in a plan
    #[arg(long, value_name = "RFC3339", requires = "plot")]
    anchor: Option<String>,
    /// For --plot, which runs both plans' streams
    #[command(flatten)]
    spill: input::SpillArgs,
}

#[derive(Clone, Copy, ValueEnum)]
enum DiffFormat {
    Text,
    Markdown,
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
    /// Treat warnings as errors: a file with any exits 1
    #[arg(long)]
    deny_warnings: bool,
    /// Hold names to the rules of this target named in the configuration
    /// (its kind's: Timestream's, InfluxDB's, or a file target's) instead
    /// of Timestream's, the default
    #[arg(long, value_name = "NAME")]
    target: Option<String>,
    /// The configuration that names targets
    #[arg(long, value_name = "FILE", default_value = crate::targets::config::CONFIG_FILE, requires = "target")]
    config: PathBuf,
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
            let exit = if e.use_stderr() {
                Exit::Usage
            } else {
                Exit::Success
            };
            return ExitCode::from(exit.code());
        }
    };
    let result = match cli.command {
        Command::Check(args) => return check(&args),
        Command::Plan(args) => plan(&args),
        Command::Records(args) => records(&args),
        Command::Labels(args) => labels(&args),
        Command::Diff(args) => diff(&args),
        Command::Apply(args) => apply(&args),
        Command::Verify(args) => verify(&args),
        Command::Clean(args) => clean(&args),
        Command::Test(args) => test::test(&args),
        Command::Expect(args) => test::expect(&args),
        Command::Capture(args) => capture(&args),
        Command::Fmt(args) => return ExitCode::from(fmt(&args).code()),
        Command::Plot(args) => plot(&args),
    };
    match result {
        Ok(exit) => ExitCode::from(exit.code()),
        Err(failure) => {
            say!("{}", failure.text);
            ExitCode::from(failure.code)
        }
    }
}

fn plan(args: &PlanArgs) -> Result<Exit, Failure> {
    // Arguments first: loading reads every source.
    let committed = match (&args.committed, args.check) {
        (Some(path), true) => Some((path, output::read_committed(path)?)),
        (Some(extra), false) => {
            return Err(Failure::usage(format!(
                "error: unexpected `{}`: a second file goes with --check\n",
                extra.display()
            )));
        }
        (None, _) => None,
    };
    if let Some(output) = &args.output {
        output::check_writable("--output", output)?;
    }
    let loaded = output::load(
        &args.scenario,
        read_options(&args.read)?,
        diagnostics_style(),
    )?;
    loaded.deny_warnings(args.read.deny_warnings)?;
    if let Some((path, text)) = committed {
        app::check_plan(&loaded, path, &text)?;
        sayln!("ok: `{}` is current", path.display());
        return Ok(Exit::Success);
    }
    let dir = match args.output.as_deref().and_then(Path::parent) {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let plan = app::compile_plan(&loaded, &dir)?;
    output::write_output(args.output.as_deref(), &crate::plan::to_yaml(&plan)?)?;
    Ok(Exit::Success)
}

/// `outatime records`: the record stream at the anchor, as JSON lines or CSV.
fn records(args: &RecordsArgs) -> Result<Exit, Failure> {
    let (loaded, anchor) = load_with_anchor(
        &args.input,
        &args.read,
        args.anchor.as_deref(),
        crate::targets::DEFAULT_RULES,
    )?;
    let format = match args.format {
        RecordsFormat::Jsonl => crate::record::output::RecordFormat::Jsonl,
        RecordsFormat::Csv => crate::record::output::RecordFormat::Csv,
    };
    output::records(&loaded, anchor, format)?;
    Ok(Exit::Success)
}

fn labels(args: &LabelsArgs) -> Result<Exit, Failure> {
    let (loaded, anchor) = load_with_anchor(
        &args.input,
        &args.read,
        args.anchor.as_deref(),
        crate::targets::DEFAULT_RULES,
    )?;
    let text = app::labels(&loaded, anchor)?;
    output::write_output(None, &text)?;
    Ok(Exit::Success)
}

fn diff(args: &DiffArgs) -> Result<Exit, Failure> {
    // --plot's arguments first: plotting runs both plans' streams.
    let picture = match &args.output {
        Some(path) if args.plot => {
            let format = crate::plot::Format::of(path)?;
            if format == crate::plot::Format::Html {
                return Err(crate::plot::PlotError::DiffNotHtml {
                    path: path.display().to_string(),
                }
                .into());
            }
            output::check_writable("--output", path)?;
            let anchor = output::parse_anchor(args.anchor.as_deref())?;
            Some((path, format, anchor))
        }
        _ => None,
    };
    if let Some(full) = &args.full {
        output::check_writable("--full", full)?;
    }
    let read = |path: &Path| -> Result<crate::plan::Plan, Failure> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Failure::usage(format!("error: cannot read `{}`: {e}\n", path.display()))
        })?;
        Ok(app::read_plan(path, &text)?)
    };
    let (old, new) = (read(&args.old)?, read(&args.new)?);
    let d = crate::review::diff::diff(&old, &new)?;
    if let Some((path, format, anchor)) = picture {
        let spill = args.spill.options()?;
        diff_plot::plot_diff(
            &args.old,
            &args.new,
            (&old, &new),
            path,
            format,
            anchor,
            &spill,
        )?;
    }
    let text = match args.format {
        DiffFormat::Text => d.render_text(),
        DiffFormat::Markdown => d.render_markdown(),
    };
    if let Some(path) = &args.full {
        let full = d.render_full(matches!(args.format, DiffFormat::Markdown));
        output::write_output(Some(path.as_path()), &full)?;
    }
    output::write_output(None, &text)?;
    Ok(if d.is_empty() {
        Exit::Success
    } else {
        Exit::Failed
    })
}

fn check(args: &CheckArgs) -> ExitCode {
    // A named target's names, and the dialects its expectations are asked in.
    let evaluating;
    let rules: &dyn crate::model::NameRules = match &args.target {
        None => crate::targets::DEFAULT_RULES,
        Some(name) => match input::config_target(&args.config, name) {
            Ok(target) => {
                evaluating = target.evaluation_rules();
                &evaluating
            }
            Err(failure) => {
                say!("{}", failure.text);
                return ExitCode::from(failure.code);
            }
        },
    };
    let style = diagnostics_style();
    let mut any_invalid = false;
    let mut unreadable = false;
    let mut stdout = std::io::stdout().lock();
    for path in &args.files {
        let shown = path.display().to_string();
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => {
                sayln!("error: cannot read `{shown}`: {e}");
                unreadable = true;
                continue;
            }
        };
        let (text, checked) = check_bytes(&bytes, path, rules);
        any_invalid |= checked.has_errors()
            || (args.deny_warnings
                && checked
                    .diagnostics
                    .iter()
                    .any(|d| d.severity() == crate::diagnostics::Severity::Warning));
        match args.format {
            Format::Human => {
                say!(
                    "{}",
                    render::human(&shown, &text, &checked.diagnostics, style)
                );
                let summary = summary(&shown, &checked);
                let _ = writeln!(stdout, "{summary}");
                if let (true, Some(scenario)) = (args.explain, &checked.scenario) {
                    let _ = write!(stdout, "{}", crate::review::explain::explain(scenario));
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
    let exit = if unreadable {
        Exit::Usage
    } else if any_invalid {
        Exit::Failed
    } else {
        Exit::Success
    };
    ExitCode::from(exit.code())
}

/// Checks a file's bytes against the target's naming `rules`; text that is
/// not UTF-8 is one diagnostic at the first bad byte.
fn check_bytes(
    bytes: &[u8],
    path: &Path,
    rules: &dyn crate::model::NameRules,
) -> (String, Checked) {
    match std::str::from_utf8(bytes) {
        Ok(text) => {
            let base = path.parent().unwrap_or(Path::new("."));
            let base = if base.as_os_str().is_empty() {
                Path::new(".")
            } else {
                base
            };
            (text.to_string(), check_text(text, base, rules))
        }
        Err(e) => {
            let text = String::from_utf8_lossy(bytes).into_owned();
            let at = e.valid_up_to();
            let diagnostic = Diagnostic::new(kind::NotUtf8, Span::new(at, at));
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
    let errors = count(crate::diagnostics::Severity::Error);
    let warnings = count(crate::diagnostics::Severity::Warning);
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    match &checked.scenario {
        Some(s) => format!(
            "ok    {path}: {} ({}, {}, {}, {}, {}{})",
            crate::lang::names::string_literal(&s.title),
            plural(s.sources.len(), "source"),
            plural(s.tables.len(), "table"),
            plural(s.steps.len(), "step"),
            plural(s.anomalies.len(), "anomaly").replace("anomalys", "anomalies"),
            // Said only when there are some: the line stays as it was for
            // a scenario without `expect`.
            match s.expectations.len() {
                0 => String::new(),
                n => plural(n, "expectation") + ", ",
            },
            plural(warnings, "warning"),
        ),
        None => format!(
            "error {path}: {}, {}",
            plural(errors, "error"),
            plural(warnings, "warning")
        ),
    }
}
