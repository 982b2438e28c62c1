//! The command line: argument parsing, files in, reports out, exit codes.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::apply::timestream::dispatch::OnReject;
use crate::commands::{self, Failure};
use crate::diagnostics::Span;
use crate::diagnostics::render::{self, Style};
use crate::diagnostics::{Diagnostic, DiagnosticKind};
use crate::sources::ReadOptions;
use crate::{Checked, check_text};

const EXIT_CODES: &str = "\
Exit codes:
  0  success: every file is valid (warnings allowed), the plan is current, the plans are equal,
     everything was written
  1  invalid input: a scenario with errors, bad source data, a stale plan, plans that differ, a
     bad outatime.yaml; apply: a preflight refusal, a missing table without --create, a
     journal of another apply (nothing written)
  2  usage error: bad arguments, or an input or output file (such as --report) that cannot be
     read or written
  3  target failure: the target could not be written or rejected records (the summary and
     --report say exactly what was written)
  130, 143  apply stopped by SIGINT or SIGTERM after the requests in flight finished
     (`apply --resume` finishes the job)";

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
    /// Compile a scenario into its write plan (YAML, for review and diffs)
    #[command(after_help = EXIT_CODES)]
    Plan(PlanArgs),
    /// Print the record stream of a scenario or plan for one anchor
    #[command(after_help = EXIT_CODES)]
    Records(RecordsArgs),
    /// Print the anomaly labels with concrete UTC windows, as JSON
    #[command(after_help = EXIT_CODES)]
    Labels(LabelsArgs),
    /// Show what changes between two plans
    #[command(after_help = EXIT_CODES)]
    Diff(DiffArgs),
    /// Write the record stream of a scenario or plan to a target: Timestream
    /// (named in outatime.yaml), or by default JSON lines, one file a table,
    /// in ./outatime-out/
    #[command(after_help = EXIT_CODES)]
    Apply(ApplyArgs),
}

#[derive(clap::Args)]
struct ApplyArgs {
    /// A scenario, or a plan (its pinned sources and stream are verified first)
    input: PathBuf,
    /// What `now` is, RFC 3339 (default: the wall clock), rounded down to `anchor align`
    #[arg(long, value_name = "RFC3339")]
    anchor: Option<String>,
    /// Also write a JSON report of what was written here
    #[arg(long, value_name = "FILE.json")]
    report: Option<PathBuf>,
    /// A target named in the configuration (default: the embedded file
    /// target, ./outatime-out/)
    #[arg(long, value_name = "NAME")]
    target: Option<String>,
    /// The configuration that names targets
    #[arg(long, value_name = "FILE", default_value = crate::apply::config::CONFIG_FILE, requires = "target")]
    config: PathBuf,
    /// Create the Timestream database and tables if they are missing, with
    /// the target's retention
    #[arg(long)]
    create: bool,
    /// At most N WriteRecords requests in flight; fewer while the target
    /// throttles (Timestream; default 64)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    concurrency: Option<u16>,
    /// Give up on an attempt after this many seconds and retry it
    /// (Timestream; default 20)
    #[arg(long, value_name = "SECONDS")]
    request_timeout: Option<f64>,
    /// After a batch with rejected records: stop launching batches (fail,
    /// the default), or write the rest and report all (continue); both
    /// exit 3 (Timestream)
    #[arg(long, value_enum)]
    on_reject: Option<OnReject>,
    /// burst: write everything now. live: write each record once its time
    /// (plus any `late` delay) is within --lead of the wall clock (Timestream)
    #[arg(long, value_enum, default_value_t = PaceArg::Burst)]
    pace: PaceArg,
    /// With --pace live: how far ahead of the wall clock records are written
    /// (default 10m, at most 15m, Timestream's limit)
    #[arg(long, value_name = "DURATION")]
    lead: Option<String>,
    /// Where the journal of written batches goes (default:
    /// ./outatime-out/journal/<input>.<target>[.shard-K-of-N].jsonl)
    #[arg(long, value_name = "FILE")]
    journal: Option<PathBuf>,
    /// Finish an interrupted apply from its journal: same anchor, same
    /// Version, without re-sending the batches it records
    #[arg(long, conflicts_with = "anchor")]
    resume: bool,
    /// Write only shard K of N: a deterministic 1/N of the series, so that
    /// N jobs together write everything exactly once
    #[arg(long, value_name = "K/N")]
    shard: Option<String>,
    /// Do everything but the writes (the preflight included, when the target
    /// answers) and print what would be written per table
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    read: ReadArgs,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum PaceArg {
    Burst,
    Live,
}

#[derive(clap::Args)]
struct ReadArgs {
    /// Skip and count up to N bad source rows instead of failing on the first
    #[arg(long, value_name = "N", default_value_t = 0)]
    max_bad_rows: u64,
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
    let result = match cli.command {
        Command::Check(args) => return check(&args),
        Command::Plan(args) => plan(&args),
        Command::Records(args) => records(&args),
        Command::Labels(args) => labels(&args),
        Command::Diff(args) => diff(&args),
        Command::Apply(args) => apply(&args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(failure) => {
            eprint!("{}", failure.text);
            ExitCode::from(failure.code)
        }
    }
}

fn diagnostics_style() -> Style {
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    Style {
        color,
        width: if color { terminal_width() } else { 100 },
    }
}

fn read_options(args: &ReadArgs) -> ReadOptions {
    ReadOptions {
        max_bad_rows: args.max_bad_rows,
    }
}

fn plan(args: &PlanArgs) -> Result<u8, Failure> {
    let loaded = commands::load(
        &args.scenario,
        read_options(&args.read),
        diagnostics_style(),
    )?;
    if args.check {
        let committed = args.committed.as_deref().unwrap_or(Path::new(""));
        commands::check_plan(&loaded, committed)?;
        eprintln!("ok: `{}` is current", committed.display());
        return Ok(0);
    }
    if let Some(extra) = &args.committed {
        return Err(Failure::usage(format!(
            "error: unexpected `{}`: a second file goes with --check\n",
            extra.display()
        )));
    }
    let dir = match args.output.as_deref().and_then(Path::parent) {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let plan = commands::compile_plan(&loaded, &dir)?;
    commands::write_output(
        args.output.as_deref(),
        &crate::compile::plan::to_yaml(&plan)?,
    )?;
    Ok(0)
}

/// A scenario or plan, loaded, and `now` for it: what records, labels and
/// apply all begin with.
fn load_with_anchor(
    input: &Path,
    read: &ReadArgs,
    anchor: Option<&str>,
) -> Result<(commands::Loaded, i64), Failure> {
    let loaded = commands::load_scenario_or_plan(input, read_options(read), diagnostics_style())?;
    let anchor = commands::anchor(anchor, loaded.prepared.anchor_align)?;
    Ok((loaded, anchor))
}

fn records(args: &RecordsArgs) -> Result<u8, Failure> {
    let (loaded, anchor) = load_with_anchor(&args.input, &args.read, args.anchor.as_deref())?;
    let format = match args.format {
        RecordsFormat::Jsonl => commands::RecordFormat::Jsonl,
        RecordsFormat::Csv => commands::RecordFormat::Csv,
    };
    commands::records(&loaded, anchor, format)?;
    Ok(0)
}

fn labels(args: &LabelsArgs) -> Result<u8, Failure> {
    let (loaded, anchor) = load_with_anchor(&args.input, &args.read, args.anchor.as_deref())?;
    let text = commands::labels(&loaded, anchor)?;
    commands::write_output(None, &text)?;
    Ok(0)
}

fn apply(args: &ApplyArgs) -> Result<u8, Failure> {
    use crate::apply::config::Target;

    let shard = shard(args)?;
    let target = choose_target(args)?;
    let applied = match &target {
        Target::File { directory } => apply_to_files(args, directory, shard)?,
        Target::Timestream(ts) => apply_to_timestream(args, ts, shard)?,
    };
    print_summary(&applied);
    if let Some(path) = &args.report {
        write_report(path, &applied.report)?;
    }
    match applied.failure {
        Some(failure) => Err(failure),
        None => Ok(0),
    }
}

/// `--shard K/N`, or the whole.
fn shard(args: &ApplyArgs) -> Result<crate::apply::shard::Shard, Failure> {
    use crate::apply::shard::Shard;
    match &args.shard {
        Some(text) => Shard::parse(text).map_err(|reason| ApplyUsage::BadShard { reason }.into()),
        None => Ok(Shard::WHOLE),
    }
}

/// `--target NAME` from the configuration, or the embedded file target.
fn choose_target(args: &ApplyArgs) -> Result<crate::apply::config::Target, Failure> {
    match &args.target {
        None => {
            eprintln!(
                "target: the embedded default, JSON lines in ./{}/ (one file a table)",
                crate::apply::DEFAULT_DIRECTORY
            );
            Ok(crate::apply::config::Target::File {
                directory: PathBuf::from(crate::apply::DEFAULT_DIRECTORY),
            })
        }
        Some(name) => named_target(&args.config, name),
    }
}

fn apply_to_files(
    args: &ApplyArgs,
    directory: &Path,
    shard: crate::apply::shard::Shard,
) -> Result<crate::apply::Applied, Failure> {
    let only_timestream = [
        (args.resume, "--resume"),
        (args.journal.is_some(), "--journal"),
        (matches!(args.pace, PaceArg::Live), "--pace live"),
        (args.lead.is_some(), "--lead"),
        (args.create, "--create"),
        (args.concurrency.is_some(), "--concurrency"),
        (args.request_timeout.is_some(), "--request-timeout"),
        (args.on_reject.is_some(), "--on-reject"),
    ];
    if let Some((_, flag)) = only_timestream.iter().find(|(set, _)| *set) {
        return Err(ApplyUsage::OnlyForTimestream { flag }.into());
    }
    let (loaded, anchor) = load_with_anchor(&args.input, &args.read, args.anchor.as_deref())?;
    let report = crate::apply::apply_to_files(&loaded, anchor, directory, shard, args.dry_run)?;
    Ok(crate::apply::Applied {
        report,
        failure: None,
    })
}

fn apply_to_timestream(
    args: &ApplyArgs,
    target: &crate::apply::config::TimestreamTarget,
    shard: crate::apply::shard::Shard,
) -> Result<crate::apply::Applied, Failure> {
    // Arguments first: loading reads every source.
    let options = timestream_options(args, shard)?;
    // A resume binds `now` to the journaled anchor.
    let loaded = commands::load_scenario_or_plan(
        &args.input,
        read_options(&args.read),
        diagnostics_style(),
    )?;
    let anchor = match &options.resume {
        Some(r) => r.header.anchor,
        None => commands::anchor(args.anchor.as_deref(), loaded.prepared.anchor_align)?,
    };
    crate::apply::timestream::apply(&loaded, anchor, target, &options)
}

/// The Timestream options from the arguments, and the journal read back
/// for `--resume`.
fn timestream_options(
    args: &ApplyArgs,
    shard: crate::apply::shard::Shard,
) -> Result<crate::apply::timestream::Options, Failure> {
    use crate::apply::timestream::batches::Pace;

    // A Timestream target is always a named one.
    let target_name = args.target.clone().unwrap_or_default();
    if args.lead.is_some() && matches!(args.pace, PaceArg::Burst) {
        return Err(ApplyUsage::LeadWithoutLive.into());
    }
    let request_timeout = args.request_timeout.unwrap_or(20.0);
    if !(request_timeout > 0.0 && request_timeout.is_finite()) {
        return Err(ApplyUsage::RequestTimeoutNotPositive.into());
    }
    let pace = match args.pace {
        PaceArg::Burst => Pace::Burst,
        PaceArg::Live => Pace::Live {
            lead: lead(args.lead.as_deref().unwrap_or("10m"))?,
        },
    };
    let journal = args
        .journal
        .clone()
        .unwrap_or_else(|| default_journal(&args.input, &target_name, shard));
    let resume = if args.resume {
        Some(crate::apply::timestream::journal::read(&journal).map_err(ApplyUsage::Journal)?)
    } else {
        None
    };
    Ok(crate::apply::timestream::Options {
        target_name,
        create: args.create,
        concurrency: usize::from(args.concurrency.unwrap_or(64)),
        request_timeout: std::time::Duration::from_secs_f64(request_timeout),
        on_reject: args.on_reject.unwrap_or(OnReject::Fail),
        pace,
        shard,
        dry_run: args.dry_run,
        journal,
        resume,
    })
}

/// What was written, table by table, on stderr; a dry run printed its own.
fn print_summary(applied: &crate::apply::Applied) {
    let report = &applied.report;
    if report.outcome == crate::apply::Outcome::DryRun {
        return;
    }
    for (table, t) in &report.tables {
        if !t.table.is_empty() {
            eprintln!(
                "wrote {:>10} records to `{}` in {} batches ({} rejected, {} retried)",
                t.records, t.table, t.batches, t.rejected, t.retried
            );
        } else if t.records == 0 {
            eprintln!("wrote          0 records of `{table}` (no file)");
        } else {
            eprintln!("wrote {:>10} records of `{table}` to {}", t.records, t.file);
        }
    }
    eprintln!(
        "{}: {} records at anchor {} in {:.2} s",
        if applied.failure.is_none() {
            "done"
        } else {
            "stopped"
        },
        report.records,
        report.anchor,
        report.duration_seconds
    );
}

/// `--report FILE.json`.
fn write_report(path: &Path, report: &crate::apply::ApplyReport) -> Result<(), Failure> {
    // serde_json fails only on map keys that are not strings or on a
    // Serialize impl that errs; the report has String keys and its one
    // hand-written impl (Outcome) cannot err. Should that change, the
    // report file is not written and the apply says so (exit 2, as for a
    // report that cannot be written), instead of writing an empty file.
    let json = serde_json::to_string_pretty(report).map_err(|error| ApplyUsage::ReportNotJson {
        report: path.to_path_buf(),
        error,
    })?;
    commands::write_output(Some(path), &(json + "\n"))
}

/// Arguments of `apply` that do not fit: exit 2, before anything is
/// loaded or sent. Worded here, as `error: ...` without a code.
#[derive(Debug)]
enum ApplyUsage {
    /// `--shard 0/2`; the reason says what is wrong.
    BadShard { reason: String },
    /// `--target e2e --config missing.yaml`
    ConfigUnreadable {
        config: PathBuf,
        error: std::io::Error,
    },
    /// `--resume` and a journal that is missing or not a journal.
    Journal(crate::apply::timestream::journal::Unreadable),
    /// `--lead soon`
    LeadNotADuration { lead: String },
    /// `--lead 20m`
    LeadOutOfRange { lead: String },
    /// `--lead 5m` without `--pace live`.
    LeadWithoutLive,
    /// `--create` (or another Timestream flag) with a file target.
    OnlyForTimestream { flag: &'static str },
    /// The report could not be serialised (see [`write_report`]).
    ReportNotJson {
        report: PathBuf,
        error: serde_json::Error,
    },
    /// `--request-timeout 0`
    RequestTimeoutNotPositive,
}

impl std::fmt::Display for ApplyUsage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApplyUsage::BadShard { reason } => writeln!(f, "error: --shard {reason}"),
            ApplyUsage::ConfigUnreadable { config, error } => writeln!(
                f,
                "error: cannot read `{}`: {error}\n  help: targets are named in `{}` (or the file given with --config)",
                config.display(),
                crate::apply::config::CONFIG_FILE
            ),
            ApplyUsage::Journal(unreadable) => writeln!(
                f,
                "error: {unreadable}\n  help: --resume continues the apply that wrote this journal; give its path with --journal if it is elsewhere"
            ),
            ApplyUsage::LeadNotADuration { lead } => writeln!(
                f,
                "error: --lead {lead}: not a duration (write e.g. `10m` or `90s`)"
            ),
            ApplyUsage::LeadOutOfRange { lead } => writeln!(
                f,
                "error: --lead {lead}: must be more than 0 and at most 15m (Timestream rejects records more than 15 minutes ahead)"
            ),
            ApplyUsage::LeadWithoutLive => writeln!(
                f,
                "error: --lead is for --pace live (burst writes everything now)"
            ),
            ApplyUsage::OnlyForTimestream { flag } => writeln!(
                f,
                "error: {flag} is for Timestream targets; a file target is written whole, at once, and does not take it\n  help: name a `kind: timestream` target with --target"
            ),
            ApplyUsage::ReportNotJson { report, error } => writeln!(
                f,
                "error: cannot write `{}`: the report is not JSON: {error}",
                report.display()
            ),
            ApplyUsage::RequestTimeoutNotPositive => writeln!(
                f,
                "error: --request-timeout must be a positive number of seconds"
            ),
        }
    }
}

impl From<ApplyUsage> for Failure {
    fn from(usage: ApplyUsage) -> Failure {
        Failure::usage(usage.to_string())
    }
}

/// `--lead`: a duration of at most 15 minutes.
fn lead(text: &str) -> Result<i64, Failure> {
    let limit = crate::apply::timestream::preflight::FUTURE_LIMIT;
    match crate::lang::literal::parse_duration(text) {
        Ok(d) if d.is_positive() && d.nanos() <= limit => Ok(d.nanos()),
        Ok(_) => Err(ApplyUsage::LeadOutOfRange { lead: text.into() }.into()),
        Err(_) => Err(ApplyUsage::LeadNotADuration { lead: text.into() }.into()),
    }
}

/// `./outatime-out/journal/<input>.<target>[.shard-K-of-N].jsonl`.
fn default_journal(input: &Path, target: &str, shard: crate::apply::shard::Shard) -> PathBuf {
    let stem = input
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "apply".into());
    PathBuf::from(crate::apply::DEFAULT_DIRECTORY)
        .join("journal")
        .join(format!("{stem}.{target}{}.jsonl", shard.file_suffix()))
}

/// A target named in the configuration.
fn named_target(config: &Path, name: &str) -> Result<crate::apply::config::Target, Failure> {
    use crate::apply::config::{self, Target};
    let text = std::fs::read_to_string(config).map_err(|error| ApplyUsage::ConfigUnreadable {
        config: config.to_path_buf(),
        error,
    })?;
    let env = |name: &str| std::env::var(name).ok();
    match config::target(&text, name, &env) {
        Ok(Target::File { directory }) => {
            eprintln!(
                "target `{name}`: JSON lines in {}/ (one file a table)",
                directory.display()
            );
            Ok(Target::File { directory })
        }
        Ok(Target::Timestream(ts)) => {
            eprintln!(
                "target `{name}`: Timestream database `{}` in {}{}",
                ts.database,
                ts.region,
                ts.endpoint_url
                    .as_deref()
                    .map(|u| format!(" at {u}"))
                    .unwrap_or_default()
            );
            Ok(Target::Timestream(ts))
        }
        Err(diagnostics) => Err(Failure::input(render::human(
            &config.display().to_string(),
            &text,
            &diagnostics,
            diagnostics_style(),
        ))),
    }
}

fn diff(args: &DiffArgs) -> Result<u8, Failure> {
    let read = |path: &Path| -> Result<crate::compile::plan::Plan, Failure> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Failure::usage(format!("error: cannot read `{}`: {e}\n", path.display()))
        })?;
        commands::read_plan(path, &text)
    };
    let (old, new) = (read(&args.old)?, read(&args.new)?);
    let d = crate::review::diff::diff(&old, &new)?;
    let text = match args.format {
        DiffFormat::Text => d.render_text(),
        DiffFormat::Markdown => d.render_markdown(),
    };
    commands::write_output(None, &text)?;
    Ok(if d.is_empty() { 0 } else { 1 })
}

fn check(args: &CheckArgs) -> ExitCode {
    let style = diagnostics_style();
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
    let errors = count(crate::diagnostics::Severity::Error);
    let warnings = count(crate::diagnostics::Severity::Warning);
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    match &checked.scenario {
        Some(s) => format!(
            "ok    {path}: \"{}\" ({}, {}, {}, {}, {})",
            s.title.escape_debug(),
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
