//! `outatime apply`: its arguments, choosing the target, running it, and
//! the summary and report it leaves.

use std::path::{Path, PathBuf};

use super::apply_usage::{ApplyUsage, MAX_REQUEST_TIMEOUT_SECONDS};
use super::exit::Exit;
use super::input::{ReadArgs, load};
use super::output::diagnostics_style;
use super::output::{self, Failure};
use super::output::{say, sayln};
use crate::app;
use crate::apply::dispatch::OnReject;
use crate::diagnostics::render;
use crate::model::NameRules;

#[derive(clap::Args)]
pub(super) struct ApplyArgs {
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
    #[arg(long, value_name = "FILE", default_value = crate::targets::config::CONFIG_FILE, requires = "target")]
    config: PathBuf,
    /// Create what is missing: the Timestream database and tables, with the
    /// target's retention; the InfluxDB database (v1, v3) or bucket (v2)
    #[arg(long)]
    create: bool,
    /// At most N write requests in flight; fewer while the target
    /// throttles (default: Timestream 64, InfluxDB 8)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    concurrency: Option<u16>,
    /// Give up on an attempt after this many seconds and retry it
    /// (default 20)
    #[arg(long, value_name = "SECONDS")]
    request_timeout: Option<f64>,
    /// After a batch with rejected records: stop launching batches (fail,
    /// the default), or write the rest and report all (continue); both
    /// exit 3
    #[arg(long, value_enum)]
    on_reject: Option<OnReject>,
    /// burst: write everything now. live: write each record once its time
    /// (plus any `late` delay) is within --lead of the wall clock
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

pub(super) fn apply(args: &ApplyArgs) -> Result<Exit, Failure> {
    if let Some(report) = &args.report {
        output::check_writable("--report", report)?;
    }
    let applied = run(args)?;
    // A dry run says what it would write on stdout; a stdout that cannot
    // take it is the command's failure, and the report is written still.
    let unprinted = output::print(&applied.dry_run).err();
    print_summary(&applied);
    let failure = applied.failure.map(Failure::from).or(unprinted);
    let unreported = args
        .report
        .as_ref()
        .and_then(|path| write_report(path, &applied.report).err());
    // The apply's own failure decides the exit code; a report that could
    // not be written is said too, never in its place.
    match (failure, unreported) {
        (Some(failure), Some(unreported)) => {
            say!("{}", unreported.text);
            Err(failure)
        }
        (Some(failure), None) | (None, Some(failure)) => Err(failure),
        (None, None) => Ok(Exit::Success),
    }
}

/// What `outatime test` hears from an apply it runs: the scenario, its
/// anchor and the target once loaded (before any write), and each report
/// of the writes' progress.
pub(super) struct Hooks<'h> {
    pub loaded: &'h mut dyn FnMut(&crate::model::Scenario, i64, &crate::targets::config::Target),
    pub progress: &'h mut dyn FnMut(&crate::apply::progress::Progress),
}

/// Everything `apply` does but print and report.
pub(super) fn run(args: &ApplyArgs) -> Result<crate::apply::Applied, Failure> {
    run_with(args, None)
}

/// [`run`], telling `hooks` (`outatime test`) what it does.
pub(super) fn run_with(
    args: &ApplyArgs,
    hooks: Option<&mut Hooks<'_>>,
) -> Result<crate::apply::Applied, Failure> {
    use crate::targets::config::Target;

    // Arguments first: loading reads every source.
    let shard = shard(args)?;
    let anchor = output::parse_anchor(args.anchor.as_deref())?;
    let (target, policy) = choose_target(args)?;
    if policy.read_only {
        let target = args.target.clone().unwrap_or_default();
        return Err(crate::apply::error::ApplyError::ReadOnly { target }.into());
    }
    // The scenario is checked against the names this target takes; and,
    // for `outatime test`, which asks its expectations, the dialects it runs.
    let evaluating = target.evaluation_rules();
    let rules: &dyn NameRules = match hooks {
        Some(_) => &evaluating,
        None => target.name_rules(),
    };
    let applied = match &target {
        Target::File { directory } => apply_to_files(args, anchor, rules, directory, shard)?,
        Target::Timestream(ts) => {
            let engine = (shard, TIMESTREAM_CONCURRENCY, policy);
            apply_with_engine(args, anchor, rules, engine, (&target, hooks), |timeout| {
                crate::targets::timestream::Timestream::new(ts.clone(), timeout)
            })?
        }
        Target::Influxdb(influx) => {
            let engine = (shard, INFLUXDB_CONCURRENCY, policy);
            apply_with_engine(args, anchor, rules, engine, (&target, hooks), |timeout| {
                crate::targets::influxdb::Influxdb::new(influx.clone(), timeout)
            })?
        }
    };
    Ok(applied)
}

impl ApplyArgs {
    pub(super) fn input(&self) -> &Path {
        &self.input
    }

    pub(super) fn target_name(&self) -> Option<&str> {
        self.target.as_deref()
    }

    pub(super) fn config(&self) -> &Path {
        &self.config
    }

    pub(super) fn report(&self) -> Option<&Path> {
        self.report.as_deref()
    }

    pub(super) fn dry_run(&self) -> bool {
        self.dry_run
    }
}

/// What an apply's result is.
type Done = crate::apply::Applied;

/// `--shard K/N`, or the whole.
fn shard(args: &ApplyArgs) -> Result<crate::record::shard::Shard, Failure> {
    use crate::record::shard::Shard;
    match &args.shard {
        Some(text) => Shard::parse(text).map_err(|reason| ApplyUsage::BadShard { reason }.into()),
        None => Ok(Shard::WHOLE),
    }
}

/// `--target NAME` from the configuration, or the embedded file target.
fn choose_target(
    args: &ApplyArgs,
) -> Result<
    (
        crate::targets::config::Target,
        crate::targets::config::Policy,
    ),
    Failure,
> {
    match &args.target {
        None => {
            sayln!(
                "target: the embedded default, JSON lines in ./{}/ (one file a table)",
                crate::apply::DEFAULT_DIRECTORY
            );
            let target = crate::targets::config::Target::File {
                directory: PathBuf::from(crate::apply::DEFAULT_DIRECTORY),
            };
            Ok((target, crate::targets::config::Policy::default()))
        }
        Some(name) => {
            let named = named_target(&args.config, name)?;
            Ok((named.target, named.policy))
        }
    }
}

fn apply_to_files(
    args: &ApplyArgs,
    anchor: Option<i64>,
    rules: &dyn NameRules,
    directory: &Path,
    shard: crate::record::shard::Shard,
) -> Result<Done, Failure> {
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
    let loaded = load(&args.input, &args.read, rules)?;
    let anchor = output::anchor(anchor, loaded.prepared.anchor_align);
    let (report, dry_run) =
        crate::apply::apply_to_files(&loaded, anchor, directory, shard, args.dry_run)?;
    let applied = crate::apply::Applied {
        report,
        failure: None,
        dry_run,
    };
    Ok(applied)
}

/// The scenario or plan and its anchor for the engine: a resume binds
/// `now` to the journaled anchor.
fn load_for_engine(
    args: &ApplyArgs,
    anchor: Option<i64>,
    rules: &dyn NameRules,
    options: &crate::apply::engine::Options,
) -> Result<(app::Loaded, i64), Failure> {
    let loaded = load(&args.input, &args.read, rules)?;
    let anchor = match &options.resume {
        Some(r) => r.header.anchor,
        None => output::anchor(anchor, loaded.prepared.anchor_align),
    };
    Ok((loaded, anchor))
}

/// The engine's apply for any target: the arguments first (loading reads
/// every source), then the scenario or plan, then the target `connect`
/// makes with the request timeout.
fn apply_with_engine<T: crate::targets::Backend>(
    args: &ApplyArgs,
    anchor: Option<i64>,
    rules: &dyn NameRules,
    (shard, concurrency, policy): (
        crate::record::shard::Shard,
        u16,
        crate::targets::config::Policy,
    ),
    (target, mut hooks): (&crate::targets::config::Target, Option<&mut Hooks<'_>>),
    connect: impl FnOnce(std::time::Duration) -> T,
) -> Result<Done, Failure> {
    // The journal's lock is held until the apply has returned.
    let (options, _lock) = engine_options(args, shard, concurrency, policy)?;
    let request_timeout = request_timeout(args)?;
    let (loaded, anchor) = load_for_engine(args, anchor, rules, &options)?;
    if let Some(hooks) = hooks.as_mut() {
        (hooks.loaded)(&loaded.scenario, anchor, target);
    }
    let mut drawing = super::progress::Drawing::new();
    let applied = crate::apply::engine::apply(
        &loaded,
        anchor,
        connect(request_timeout),
        &options,
        &mut |said| {
            if let (crate::apply::progress::Said::Progress(progress), Some(hooks)) =
                (&said, hooks.as_mut())
            {
                (hooks.progress)(progress);
            }
            drawing.show(said)
        },
    )?;
    Ok(applied)
}

/// `--concurrency` unless given: Timestream scales out; one InfluxDB
/// server takes a few 5,000-line writes at a time best.
const TIMESTREAM_CONCURRENCY: u16 = 64;
const INFLUXDB_CONCURRENCY: u16 = 8;

/// `--request-timeout`, default 20 s: a positive number of seconds, at most
/// [`MAX_REQUEST_TIMEOUT_SECONDS`].
fn request_timeout(args: &ApplyArgs) -> Result<std::time::Duration, Failure> {
    let seconds = args.request_timeout.unwrap_or(20.0);
    if !(seconds > 0.0 && seconds.is_finite()) {
        return Err(ApplyUsage::RequestTimeoutNotPositive.into());
    }
    if seconds > MAX_REQUEST_TIMEOUT_SECONDS {
        return Err(ApplyUsage::RequestTimeoutTooLong.into());
    }
    std::time::Duration::try_from_secs_f64(seconds)
        .map_err(|_| ApplyUsage::RequestTimeoutTooLong.into())
}

/// The engine's options from the arguments, and the journal read back
/// for `--resume`; and the journal's lock, taken before it is read (a dry
/// run writes no journal and takes none).
fn engine_options(
    args: &ApplyArgs,
    shard: crate::record::shard::Shard,
    default_concurrency: u16,
    policy: crate::targets::config::Policy,
) -> Result<
    (
        crate::apply::engine::Options,
        Option<crate::apply::journal::Lock>,
    ),
    Failure,
> {
    use crate::apply::batches::Pace;
    use crate::apply::journal::{Lock, LockError};

    // A target the engine drives is always a named one.
    let target_name = args.target.clone().unwrap_or_default();
    if args.lead.is_some() && matches!(args.pace, PaceArg::Burst) {
        return Err(ApplyUsage::LeadWithoutLive.into());
    }
    request_timeout(args)?;
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
    let taken = (!args.dry_run).then(|| Lock::take(&journal, crate::apply::dispatch::wall_now()));
    let lock = match taken {
        None => None,
        Some(Ok(lock)) => Some(lock),
        Some(Err(LockError::Held(holder))) => {
            let journal = journal.clone();
            return Err(crate::apply::error::ApplyError::JournalLocked { journal, holder }.into());
        }
        Some(Err(LockError::Io { lock, error })) => {
            let journal = journal.clone();
            return Err(ApplyUsage::JournalNotLocked {
                journal,
                lock,
                error,
            }
            .into());
        }
    };
    let resume = if args.resume {
        Some(crate::apply::journal::read(&journal).map_err(ApplyUsage::Journal)?)
    } else {
        None
    };
    let options = crate::apply::engine::Options {
        target_name,
        create: args.create,
        allow_untagged_tables: policy.allow_untagged_tables,
        concurrency: usize::from(args.concurrency.unwrap_or(default_concurrency)),
        on_reject: args.on_reject.unwrap_or(OnReject::Fail),
        pace,
        shard,
        dry_run: args.dry_run,
        journal,
        resume,
    };
    Ok((options, lock))
}

/// What was written, table by table, on stderr; a dry run printed its own.
pub(super) fn print_summary(applied: &crate::apply::Applied) {
    let report = &applied.report;
    if report.outcome == crate::apply::Outcome::DryRun {
        return;
    }
    for (table, t) in &report.tables {
        if !t.table.is_empty() {
            sayln!(
                "wrote {:>10} records to `{}` in {} batches ({} rejected, {} retried)",
                t.records,
                t.table,
                t.batches.unwrap_or(0),
                t.rejected,
                t.retried
            );
        } else if t.records == 0 {
            sayln!("wrote          0 records of `{table}` (no file)");
        } else {
            sayln!("wrote {:>10} records of `{table}` to {}", t.records, t.file);
        }
    }
    sayln!(
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
    output::write_output(Some(path), &(json + "\n"))
}

impl From<ApplyUsage> for Failure {
    fn from(usage: ApplyUsage) -> Failure {
        Failure::new(Exit::from(&usage), output::worded(&usage))
    }
}

/// `--lead`: a duration of at most 15 minutes.
fn lead(text: &str) -> Result<i64, Failure> {
    let limit = crate::apply::batches::MAX_LEAD;
    match crate::lang::literal::parse_duration(text) {
        Ok(d) if d.is_positive() && d.nanos() <= limit => Ok(d.nanos()),
        Ok(_) => Err(ApplyUsage::LeadOutOfRange { lead: text.into() }.into()),
        Err(_) => Err(ApplyUsage::LeadNotADuration { lead: text.into() }.into()),
    }
}

/// `./outatime-out/journal/<input>.<target>[.shard-K-of-N].jsonl`.
fn default_journal(input: &Path, target: &str, shard: crate::record::shard::Shard) -> PathBuf {
    let stem = input
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "apply".into());
    PathBuf::from(crate::apply::DEFAULT_DIRECTORY)
        .join("journal")
        .join(format!("{stem}.{target}{}.jsonl", shard.file_suffix()))
}

/// A target named in the configuration, and its policy; `clean` reads its
/// target the same way.
pub(super) fn named_target(
    config: &Path,
    name: &str,
) -> Result<crate::targets::config::Named, Failure> {
    use crate::targets::config::{self, Named, Target};
    let text = std::fs::read_to_string(config).map_err(|error| ApplyUsage::ConfigUnreadable {
        config: config.to_path_buf(),
        error,
    })?;
    let env = |name: &str| std::env::var(name).ok();
    let named = config::named(&text, name, &env);
    let policy = named.as_ref().map(|n| n.policy).unwrap_or_default();
    let read_only = if policy.read_only { " (read-only)" } else { "" };
    let target = match named.map(|n| n.target) {
        Ok(Target::File { directory }) => {
            sayln!(
                "target `{name}`{read_only}: JSON lines in {}/ (one file a table)",
                directory.display()
            );
            Ok(Target::File { directory })
        }
        Ok(Target::Timestream(ts)) => {
            sayln!(
                "target `{name}`{read_only}: Timestream database `{}` in {}{}",
                ts.database,
                ts.region,
                ts.endpoint_url
                    .as_ref()
                    .map(|u| format!(" at {u}"))
                    .unwrap_or_default()
            );
            Ok(Target::Timestream(ts))
        }
        Ok(Target::Influxdb(influx)) => {
            sayln!(
                "target `{name}`{read_only}: InfluxDB {} `{}` at {}",
                influx.destination.noun(),
                influx.destination.name(),
                influx.url
            );
            Ok(Target::Influxdb(influx))
        }
        Err(problems) => Err(Failure::input(render::human(
            &config.display().to_string(),
            &problems.shown,
            &problems.diagnostics,
            diagnostics_style(),
        ))),
    }?;
    Ok(Named { target, policy })
}
