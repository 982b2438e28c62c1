//! `outatime verify`: its arguments, choosing the target's reader, the
//! retries of `--wait`, and the summary and report it leaves.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::exit::Exit;
use super::input::{ReadArgs, load_with_anchor};
use super::output::diagnostics_style;
use super::output::{self, Failure};
use super::output::{say, sayln};
use crate::app;
use crate::diagnostics::render;
use crate::record::shard::Shard;
use crate::targets::influxdb::query::{InfluxDb, InfluxSource};
use crate::targets::read::Reader;
use crate::verify::VerifyError;
use crate::verify::report::VerifyReport;

#[derive(clap::Args)]
pub(super) struct VerifyArgs {
    /// A scenario, or a plan (its pinned sources and stream are verified first)
    input: PathBuf,
    /// The anchor the apply wrote with, RFC 3339 (rounded down to `anchor align`)
    #[arg(long, value_name = "RFC3339")]
    anchor: String,
    /// A target named in the configuration (default: the embedded file
    /// target, ./outatime-out/)
    #[arg(long, value_name = "NAME")]
    target: Option<String>,
    /// The configuration that names targets
    #[arg(long, value_name = "FILE", default_value = crate::targets::config::CONFIG_FILE, requires = "target")]
    config: PathBuf,
    /// Verify only shard K of N (what `apply --shard K/N` wrote)
    #[arg(long, value_name = "K/N")]
    shard: Option<String>,
    /// Read again until everything matches or this much time has passed
    /// (for stores that are eventually consistent), e.g. `60s`
    #[arg(long, value_name = "DURATION")]
    wait: Option<String>,
    /// Also write a JSON report, with every difference, here
    #[arg(long, value_name = "FILE.json")]
    report: Option<PathBuf>,
    #[command(flatten)]
    read: ReadArgs,
}

/// The kinds of target verify reads.
enum Source {
    Files(PathBuf),
    Timestream(crate::targets::timestream::TimestreamTarget),
    InfluxDb(InfluxSource),
}

pub(super) fn verify(args: &VerifyArgs) -> Result<Exit, Failure> {
    let shard = match &args.shard {
        Some(text) => Shard::parse(text).map_err(|reason| VerifyUsage::BadShard { reason })?,
        None => Shard::WHOLE,
    };
    let wait = match &args.wait {
        Some(text) => wait(text)?,
        None => Duration::ZERO,
    };
    if let Some(report) = &args.report {
        output::check_writable("--report", report)?;
    }
    let source = choose_source(args)?;
    let (loaded, anchor) = load_with_anchor(
        &args.input,
        &args.read,
        Some(&args.anchor),
        source.name_rules(),
    )?;
    let deadline = Instant::now() + wait;
    let mut pause = Duration::from_secs(1);
    let mut attempts = 0;
    let outcome = loop {
        attempts += 1;
        let outcome = attempt(&source, &loaded, anchor, shard, args.report.is_some());
        let settled = match &outcome {
            Ok(report) => report.matches(),
            // The target could not be read: it may answer later.
            Err(failure) => failure.code != super::exit::Exit::Target.code(),
        };
        let now = Instant::now();
        if settled || now >= deadline {
            break outcome;
        }
        std::thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_secs(10));
    };
    let mut report = outcome?;
    report.attempts = attempts;
    let mut text = report.render();
    if attempts > 1 {
        text.push_str(&format!(
            "after {attempts} attempts within --wait {}\n",
            args.wait.as_deref().unwrap_or_default()
        ));
    }
    let unprinted = output::print(&text).err();
    let unreported = args
        .report
        .as_ref()
        .and_then(|path| write_report(path, &report).err());
    // Output that could not be written is said, never in the place of
    // what the comparison found.
    let unwritten = match (unprinted, unreported) {
        (Some(unprinted), Some(unreported)) => {
            say!("{}", unreported.text);
            Some(unprinted)
        }
        (unprinted, unreported) => unprinted.or(unreported),
    };
    let failure = (!report.matches()).then(|| {
        Failure::from(VerifyError::Differs {
            missing: report.counts.missing,
            unexpected: report.counts.unexpected,
            differing: report.counts.differing,
        })
    });
    match (failure, unwritten) {
        (Some(failure), Some(unwritten)) => {
            say!("{}", unwritten.text);
            Err(failure)
        }
        (Some(failure), None) | (None, Some(failure)) => Err(failure),
        (None, None) => {
            output::print(&format!(
                "ok: {} records match at anchor {}\n",
                report.counts.expected, report.anchor
            ))?;
            Ok(Exit::Success)
        }
    }
}

impl Source {
    /// The names the target takes: the scenario is checked as `apply` to
    /// the same target checked it.
    fn name_rules(&self) -> &'static dyn crate::model::NameRules {
        match self {
            Source::Files(_) => &crate::targets::files::FileNames,
            Source::Timestream(_) => &crate::targets::timestream::names::TimestreamNames,
            Source::InfluxDb(_) => &crate::targets::influxdb::names::InfluxNames,
        }
    }
}

/// One comparison, with a fresh reader.
fn attempt(
    source: &Source,
    loaded: &app::Loaded,
    anchor: i64,
    shard: Shard,
    keep_all: bool,
) -> Result<VerifyReport, Failure> {
    let mut reader: Box<dyn Reader> = match source {
        Source::Files(directory) => {
            Box::new(crate::targets::files::read::Files::new(directory, shard))
        }
        Source::Timestream(target) => Box::new(
            crate::targets::timestream::query::Timestream::connect(target)
                .map_err(VerifyError::from)?,
        ),
        Source::InfluxDb(source) => {
            Box::new(InfluxDb::new(source.clone()).map_err(VerifyError::from)?)
        }
    };
    Ok(crate::verify::verify(
        loaded,
        anchor,
        shard,
        reader.as_mut(),
        keep_all,
    )?)
}

/// `--target NAME` from the configuration, or the embedded file target.
fn choose_source(args: &VerifyArgs) -> Result<Source, Failure> {
    use crate::targets::config::{self, Target};
    let Some(name) = &args.target else {
        sayln!(
            "target: the embedded default, JSON lines in ./{}/",
            crate::apply::DEFAULT_DIRECTORY
        );
        return Ok(Source::Files(PathBuf::from(
            crate::apply::DEFAULT_DIRECTORY,
        )));
    };
    let text =
        std::fs::read_to_string(&args.config).map_err(|error| VerifyUsage::ConfigUnreadable {
            config: args.config.clone(),
            error,
        })?;
    let env = |name: &str| std::env::var(name).ok();
    match config::target(&text, name, &env) {
        Ok(Target::File { directory }) => Ok(Source::Files(directory)),
        Ok(Target::Timestream(ts)) => Ok(Source::Timestream(ts)),
        Ok(Target::Influxdb(influx)) => Ok(Source::InfluxDb(InfluxSource::from(influx))),
        Err(problems) => Err(Failure::input(render::human(
            &args.config.display().to_string(),
            &problems.shown,
            &problems.diagnostics,
            diagnostics_style(),
        ))),
    }
}

/// `--wait`: a duration.
fn wait(text: &str) -> Result<Duration, Failure> {
    match crate::lang::literal::parse_duration(text) {
        Ok(d) if d.nanos() >= 0 => Ok(Duration::from_nanos(d.nanos() as u64)),
        _ => Err(VerifyUsage::WaitNotADuration { wait: text.into() }.into()),
    }
}

/// `--report FILE.json`.
fn write_report(path: &Path, report: &VerifyReport) -> Result<(), Failure> {
    let json =
        serde_json::to_string_pretty(report).map_err(|error| VerifyUsage::ReportNotJson {
            report: path.to_path_buf(),
            error,
        })?;
    output::write_output(Some(path), &(json + "\n"))
}

/// Arguments of `verify` that do not fit: exit 2, before anything is read.
#[derive(Debug)]
enum VerifyUsage {
    /// `--shard 0/2`
    BadShard { reason: String },
    /// `--target e2e --config missing.yaml`
    ConfigUnreadable {
        config: PathBuf,
        error: std::io::Error,
    },
    /// The report could not be serialised.
    ReportNotJson {
        report: PathBuf,
        error: serde_json::Error,
    },
    /// `--wait soon`
    WaitNotADuration { wait: String },
}

impl std::fmt::Display for VerifyUsage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VerifyUsage::BadShard { reason } => writeln!(f, "error: --shard {reason}"),
            VerifyUsage::ConfigUnreadable { config, error } => writeln!(
                f,
                "error: cannot read `{}`: {error}\n  help: targets are named in `{}` (or the file given with --config)",
                config.display(),
                crate::targets::config::CONFIG_FILE
            ),
            VerifyUsage::ReportNotJson { report, error } => writeln!(
                f,
                "error: cannot write `{}`: the report is not JSON: {error}",
                report.display()
            ),
            VerifyUsage::WaitNotADuration { wait } => writeln!(
                f,
                "error: --wait {wait}: not a duration (write e.g. `60s` or `5m`)"
            ),
        }
    }
}

impl From<VerifyUsage> for Failure {
    fn from(usage: VerifyUsage) -> Failure {
        Failure::usage(usage.to_string())
    }
}
