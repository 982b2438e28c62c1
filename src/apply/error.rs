//! Every way an apply stops, with its stable code, its wording and its
//! help. Variants are alphabetised and each says what triggers it;
//! `docs/errors.md` lists the same codes, and `crate::cli::exit` says which
//! exit code each ends with. The apply hands these over as data; the
//! command line renders them.

use std::fmt;
use std::path::PathBuf;

use super::journal::Holder;
use super::report::{RejectionReport, Signal};
use crate::compile::CompileError;
use crate::record::time_string;
use crate::targets::{Kind, TargetError};

/// How a target marks what outatime made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OwnMark {
    /// A Timestream table's `managed-by=outatime` tag.
    Tag,
    /// An InfluxDB measurement's point in `outatime_managed`.
    Marker,
}

impl From<Kind> for OwnMark {
    fn from(kind: Kind) -> OwnMark {
        match kind {
            Kind::Timestream => OwnMark::Tag,
            Kind::Influxdb => OwnMark::Marker,
        }
    }
}

/// Why an apply stopped. `ApplyErrorKind::iter()` lists every kind, and
/// [`ApplyErrorKind::code`] its code. Each variant's message is the text
/// after `error[CODE]: `, with its detail lines where it has some; the
/// help is [`ApplyError::help`]'s.
#[derive(Debug, thiserror::Error, strum::EnumDiscriminants)]
#[strum_discriminants(name(ApplyErrorKind), vis(pub), derive(strum::EnumIter))]
pub(crate) enum ApplyError {
    /// The record stream stopped (a conflict, a source read again, a
    /// spill), as the compiling commands word it.
    /// Its code is the compile error's own (not one of this list).
    #[strum_discriminants(strum(disabled))]
    #[error("{0}")]
    Compile(CompileError),
    /// A file was written, but renaming it into place failed.
    #[error("cannot rename into `{}`: {error}", file.display())]
    FileNotRenamed {
        file: PathBuf,
        #[source]
        error: std::io::Error,
    },
    /// A file of an earlier apply, for a table that got no records now,
    /// could not be removed.
    #[error("cannot remove `{}`: {error}", file.display())]
    FileNotRemoved {
        file: PathBuf,
        #[source]
        error: std::io::Error,
    },
    /// A file target's file could not be written (a full disk).
    #[error("cannot write into `{}`: {error}", folder.display())]
    FileNotWritten {
        folder: PathBuf,
        #[source]
        error: std::io::Error,
    },
    /// A file target's folder is a symbolic link: a cloned repository or
    /// another user can plant one, and files written through it land
    /// where the link leads ("links-folder").
    #[error(
        "`{}` is a symbolic link (to `{}`); a file target writes only into a folder, never through a link it did not make",
        folder.display(),
        to.display()
    )]
    FolderIsLink { folder: PathBuf, to: PathBuf },
    /// A file target's folder could not be created (no permission).
    #[error("cannot create `{}`: {error}", folder.display())]
    FolderNotCreated {
        folder: PathBuf,
        #[source]
        error: std::io::Error,
    },
    /// A failure of an InfluxDB target: coded as InfluxDB's.
    #[error(transparent)]
    Influxdb(TargetFailure),
    /// SIGINT or SIGTERM during the writes; the requests in flight finished.
    #[error("stopped by {signal}: {summary}")]
    Interrupted { signal: Signal, summary: Summary },
    /// Another apply holds the journal's lock (`journal::Lock`): two
    /// applies with one `--journal` (or the same default one) at once.
    #[error(
        "the journal `{}` is in use by another apply ({}); nothing was written",
        journal.display(),
        holder.as_ref().map_or_else(|| "which has not said who it is yet".to_string(), ToString::to_string)
    )]
    JournalLocked {
        journal: PathBuf,
        holder: Option<Holder>,
    },
    /// `--resume` with a journal that pins another apply.
    #[error(
        "the journal `{}` is of another apply; nothing was written{}",
        journal.display(),
        lines(differences.iter().map(|d| format!("  {d}")))
    )]
    JournalMismatch {
        journal: PathBuf,
        differences: Vec<Difference>,
    },
    /// Tables (`database.table`) that do not exist, without `--create`.
    #[error("{} does not exist; nothing was written", quoted(tables))]
    MissingTables {
        tables: Vec<String>,
        /// A resume: the journal's batches of those tables are void.
        resume: bool,
    },
    /// Records a table would reject for their time, or that the target
    /// cannot take at all, found before any write.
    #[error("{0}")]
    Preflight(Box<PreflightRefusal>),
    /// The target rejected records (`--on-reject`).
    #[error(
        "the target rejected {rejected} records{}: {summary}{}",
        if *stopped_at_first {
            "; no batch was started after the first rejection (--on-reject fail)"
        } else {
            ""
        },
        rejection_lines(first, *more)
    )]
    Rejected {
        /// Records the target rejected.
        rejected: u64,
        /// `--on-reject fail`: no batch was started after the first rejection.
        stopped_at_first: bool,
        /// The first [`SHOWN`] rejections; the report has them all.
        first: Vec<RejectionReport>,
        /// Rejections not in `first`.
        more: usize,
        summary: Summary,
    },
    /// `read_only: true` on the target in `outatime.yaml`.
    #[error("the target `{target}` is read-only; nothing was written")]
    ReadOnly { target: String },
    /// A failure of a Timestream target: coded as Timestream's.
    #[error(transparent)]
    Timestream(TargetFailure),
    /// Tables (`database.table`) that exist without outatime's tag (a
    /// Timestream table without `managed-by=outatime`, an InfluxDB database
    /// without outatime's marker), and the target does not say
    /// `allow_untagged_tables: true`.
    #[error(
        "{} {} not created by outatime ({}); nothing was written",
        quoted(tables),
        if tables.len() == 1 { "was" } else { "were" },
        match mark {
            OwnMark::Tag => "no `managed-by=outatime` tag",
            OwnMark::Marker => "it has points and no marker in `outatime_managed`",
        }
    )]
    UntaggedTables {
        tables: Vec<String>,
        /// What outatime's mark is on this target.
        mark: OwnMark,
    },
}

/// How a target the engine drives failed (exit 3). The same failures of
/// any such target, coded by its kind ([`ApplyError::target`]).
#[derive(Debug, thiserror::Error)]
pub(crate) enum TargetFailure {
    /// The journal could not be started (a folder without permission).
    #[error("{}", journal_not_written(journal, error))]
    JournalNotWritten {
        journal: PathBuf,
        #[source]
        error: std::io::Error,
    },
    /// The async runtime could not start (no threads left).
    #[error("cannot start the async runtime: {error}")]
    RuntimeNotStarted {
        #[source]
        error: std::io::Error,
    },
    /// The writes stopped on problems (retries exhausted, a refused request,
    /// the journal); what was written is journaled. The first [`SHOWN`]
    /// problems are listed.
    #[error(
        "the apply stopped: {summary}{}",
        lines(problems.iter().take(SHOWN).map(|p| format!("  - {p}")))
    )]
    Stopped {
        summary: Summary,
        problems: Vec<Problem>,
    },
    /// The target could not be reached, or refused to create, describe or
    /// mark its tables.
    #[error(transparent)]
    Unusable(#[from] TargetError),
}

/// Rejections and problems an error shows; `--report` has all of them.
pub(crate) const SHOWN: usize = 10;

impl ApplyErrorKind {
    pub fn code(self) -> &'static str {
        match self {
            // Not listed by `iter`: a compile error carries its own code, which
            // the error's `code()` gives.
            ApplyErrorKind::Compile => "outatime::compile",
            ApplyErrorKind::FileNotRenamed
            | ApplyErrorKind::FileNotRemoved
            | ApplyErrorKind::FileNotWritten
            | ApplyErrorKind::FolderIsLink
            | ApplyErrorKind::FolderNotCreated => "outatime::target::file",
            ApplyErrorKind::Influxdb => "outatime::target::influxdb",
            ApplyErrorKind::Interrupted => "outatime::apply::interrupted",
            ApplyErrorKind::JournalLocked => "outatime::apply::journal_locked",
            ApplyErrorKind::JournalMismatch => "outatime::apply::journal_mismatch",
            ApplyErrorKind::MissingTables => "outatime::apply::missing_table",
            ApplyErrorKind::Preflight => "outatime::apply::preflight",
            ApplyErrorKind::ReadOnly => "outatime::target::read_only",
            ApplyErrorKind::Rejected => "outatime::target::rejected",
            ApplyErrorKind::Timestream => "outatime::target::timestream",
            ApplyErrorKind::UntaggedTables => "outatime::apply::untagged_table",
        }
    }
}

impl ApplyError {
    /// `failure` of a target of `kind`, coded as that kind's.
    pub(crate) fn target(kind: Kind, failure: impl Into<TargetFailure>) -> ApplyError {
        match kind {
            Kind::Influxdb => ApplyError::Influxdb(failure.into()),
            Kind::Timestream => ApplyError::Timestream(failure.into()),
        }
    }

    pub(crate) fn code(&self) -> &'static str {
        match self {
            ApplyError::Compile(e) => e.code(),
            _ => ApplyErrorKind::from(self).code(),
        }
    }

    /// What to do, a line each.
    fn help(&self) -> Option<String> {
        const FILES: &str = "files are renamed into place table by table once all are written; check the folder's permissions and free space";
        let help = match self {
            ApplyError::Compile(e) => return e.help(),
            ApplyError::FileNotRenamed { .. }
            | ApplyError::FileNotRemoved { .. }
            | ApplyError::FileNotWritten { .. }
            | ApplyError::FolderNotCreated { .. } => FILES,
            ApplyError::FolderIsLink { .. } => {
                "name the folder itself as the target's `directory` in outatime.yaml, or remove the link"
            }
            ApplyError::Interrupted { .. } => {
                "`outatime apply --resume` with the same arguments finishes the job"
            }
            ApplyError::JournalLocked { .. } => {
                "wait for that apply to end (or stop it), then `--resume` finishes whichever apply the journal holds; or give this apply a journal of its own with --journal"
            }
            ApplyError::JournalMismatch { .. } => {
                "resume with the same plan, target (and ${ENV} in its names), --shard and --pace; or apply without --resume to start over"
            }
            ApplyError::MissingTables { resume: false, .. } => {
                "pass --create to create missing tables with the target's retention"
            }
            ApplyError::MissingTables { resume: true, .. } => {
                "pass --create to create missing tables with the target's retention; the journal's batches of a table made now are sent again"
            }
            ApplyError::Preflight(refusal) => return Some(refusal.fixes.join("\n")),
            ApplyError::ReadOnly { .. } => {
                "`read_only: true` in outatime.yaml keeps simulated data out of this target (production); apply to an E2E target instead"
            }
            ApplyError::UntaggedTables {
                mark: OwnMark::Marker,
                ..
            } => {
                "outatime writes only into measurements it made, so that production stays clean: apply to an E2E database or bucket (--create makes it), where outatime marks each measurement before its first point\nor, if these measurements are meant for test data, set `allow_untagged_tables: true` on the target in outatime.yaml"
            }
            ApplyError::UntaggedTables { .. } => {
                "outatime writes only into tables it created, so that production stays clean: apply with --create to an E2E database, where outatime creates and tags its tables\nor, if these tables are meant for test data, set `allow_untagged_tables: true` on the target in outatime.yaml"
            }
            ApplyError::Influxdb(TargetFailure::Stopped { .. })
            | ApplyError::Timestream(TargetFailure::Stopped { .. }) => {
                "fix the cause, then `outatime apply --resume` with the same arguments sends what is missing"
            }
            ApplyError::Influxdb(_) | ApplyError::Rejected { .. } | ApplyError::Timestream(_) => {
                return None;
            }
        };
        Some(help.into())
    }
}

impl miette::Diagnostic for ApplyError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(ApplyError::code(self)))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        ApplyError::help(self).map(|help| Box::new(help) as Box<dyn fmt::Display>)
    }
}

impl From<CompileError> for ApplyError {
    fn from(e: CompileError) -> ApplyError {
        ApplyError::Compile(e)
    }
}

fn journal_not_written(journal: &std::path::Path, error: &std::io::Error) -> String {
    format!("cannot write the journal `{}`: {error}", journal.display())
}

/// `` `a`, `b` ``.
fn quoted(tables: &[String]) -> String {
    let tables: Vec<String> = tables.iter().map(|t| format!("`{t}`")).collect();
    tables.join(", ")
}

/// Detail lines under a message: each after a line break.
fn lines(lines: impl Iterator<Item = String>) -> String {
    lines.map(|line| format!("\n{line}")).collect()
}

/// The rejections shown, and how many more the report has.
fn rejection_lines(first: &[RejectionReport], more: usize) -> String {
    let shown = first.iter().map(|r| {
        format!(
            "  - `{}` {} {} ({}): {}",
            r.table, r.time, r.series, r.step, r.reason
        )
    });
    let more = (more > 0).then(|| format!("  ... and {more} more (see --report)"));
    lines(shown.chain(more))
}

/// What the writes did before they stopped.
#[derive(Debug)]
pub(crate) struct Summary {
    pub records: u64,
    pub rejected: u64,
    pub batches: u64,
    pub retried: u64,
    pub journal: PathBuf,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} records written, {} rejected, in {} batches ({} retried); the journal is `{}`",
            self.records,
            self.rejected,
            self.batches,
            self.retried,
            self.journal.display()
        )
    }
}

/// What a journal pins about its apply, in the order a mismatch lists them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Pinned {
    Target,
    /// A part of the target's identity, by its key: `region`, `database`.
    Identity(String),
    Tables,
    StreamDigest,
    Shard,
    Pace,
    BatchesDigest,
}

impl fmt::Display for Pinned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Pinned::Target => "target",
            Pinned::Identity(key) => key,
            Pinned::Tables => "tables",
            Pinned::StreamDigest => "stream digest (the records)",
            Pinned::Shard => "shard",
            Pinned::Pace => "pace",
            Pinned::BatchesDigest => "batches digest (the cut into requests)",
        })
    }
}

/// One pinned value a resume would change.
#[derive(Debug)]
pub(crate) struct Difference {
    pub pinned: Pinned,
    pub journaled: String,
    pub now: String,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: journal `{}`, now `{}`",
            self.pinned, self.journaled, self.now
        )
    }
}

/// A step of the scenario, by line and title: "line 12 `replay plant into
/// telemetry`". A plan's step may be missing from the scenario read now.
#[derive(Debug, Clone)]
pub(crate) struct StepRef {
    pub line: usize,
    pub title: Option<String>,
}

impl fmt::Display for StepRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.title {
            Some(title) => write!(f, "line {} `{title}`", self.line),
            None => write!(f, "line {}", self.line),
        }
    }
}

/// What the preflight found, by table, in the target's words.
#[derive(Debug)]
pub(crate) struct PreflightRefusal {
    pub tables: Vec<RefusedTable>,
    /// The first records the target cannot take whatever their time.
    pub unwritable: Vec<UnwritableRecord>,
    /// How many records the target cannot take, those shown included.
    pub unwritable_count: u64,
    /// One fix a kind of fault, in order.
    pub fixes: Vec<String>,
}

/// A record the target cannot take: `cpu` at a time in a series, from a
/// step, the measure at fault, and why.
#[derive(Debug)]
pub(crate) struct UnwritableRecord {
    /// As the target shows it: `database.table`.
    pub table: String,
    pub time: i64,
    /// `{host="a", site=""}`.
    pub series: String,
    pub step: StepRef,
    pub measure: Option<String>,
    pub why: String,
}

#[derive(Debug)]
pub(crate) struct RefusedTable {
    /// As the target shows it: `database.table`.
    pub name: String,
    /// The table's retention in words, when the target described it.
    pub retention: Option<String>,
    pub ranges: Vec<RefusedRange>,
}

/// The records of one step a table would refuse for one reason.
#[derive(Debug)]
pub(crate) struct RefusedRange {
    pub step: StepRef,
    /// Why, in the target's words: "older than the memory store keeps".
    pub why: String,
    pub count: u64,
    pub first: i64,
    pub last: i64,
}

impl PreflightRefusal {
    fn records(&self) -> u64 {
        self.tables
            .iter()
            .flat_map(|t| &t.ranges)
            .map(|r| r.count)
            .sum()
    }

    fn message(&self) -> String {
        let for_time = self.records();
        match (for_time, self.unwritable_count) {
            (_, 0) => format!(
                "{for_time} records would be rejected by the target for their time; nothing was written"
            ),
            (0, cannot) => {
                format!("{cannot} records cannot be written to the target; nothing was written")
            }
            (_, cannot) => format!(
                "{cannot} records cannot be written to the target, and {for_time} would be rejected for their time; nothing was written"
            ),
        }
    }

    fn lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for record in &self.unwritable {
            let measure = record
                .measure
                .as_ref()
                .map(|m| format!(", measure `{m}`"))
                .unwrap_or_default();
            lines.push(format!(
                "  - `{}` at {} in series {} ({}){measure}: {}",
                record.table,
                time_string(record.time),
                record.series,
                record.step,
                record.why
            ));
        }
        let more = self
            .unwritable_count
            .saturating_sub(self.unwritable.len() as u64);
        if more > 0 {
            lines.push(format!(
                "  ... and {more} more records the target cannot take"
            ));
        }
        for table in &self.tables {
            if let Some(retention) = &table.retention {
                lines.push(format!("  table `{}`: {retention}", table.name));
            }
            for range in &table.ranges {
                lines.push(format!(
                    "    - {}: {} records from {} to {} are {}",
                    range.step,
                    range.count,
                    time_string(range.first),
                    time_string(range.last),
                    range.why
                ));
            }
        }
        lines
    }
}

/// The message, then the records and tables refused, a line each.
impl fmt::Display for PreflightRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())?;
        f.write_str(&lines(self.lines().into_iter()))
    }
}

/// Why batches were not written, found while sending; listed in the
/// report's `problems` and under [`TargetFailure::Stopped`].
#[derive(Debug, thiserror::Error)]
pub(crate) enum Problem {
    /// The journal could not take an acknowledged batch (a full disk).
    #[error("{}", journal_not_written(journal, error))]
    JournalNotWritten {
        journal: PathBuf,
        #[source]
        error: std::io::Error,
    },
    /// A request was refused for good (validation, authorization), in the
    /// target's words.
    #[error("table `{table}`: batch {batch} was refused: {reason}")]
    Refused {
        table: String,
        batch: u64,
        reason: String,
    },
    /// A rejection names a record the batch does not have.
    #[error("the target rejected record {index} of a batch of {count}: {reason}")]
    RejectedUnknownRecord {
        index: usize,
        count: u64,
        reason: String,
    },
    /// Throttling or server errors on every try; `last` in the target's
    /// words.
    #[error("table `{table}`: batch {batch} failed {tries} times, last: {last}")]
    RetriesExhausted {
        table: String,
        batch: u64,
        tries: u32,
        last: String,
    },
    /// SIGINT and SIGTERM could not be watched.
    #[error("cannot watch for signals: {error}")]
    SignalsNotWatched {
        #[source]
        error: std::io::Error,
    },
    /// The record stream failed while the writes ran: as the compiling
    /// commands word it, on one line with its help.
    #[error("{}", crate::diagnostics::render::error_text(error))]
    Stream { error: CompileError },
    /// A task sending a request panicked or was cancelled.
    #[error("a write task failed: {error}")]
    TaskFailed {
        #[source]
        error: tokio::task::JoinError,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_apply_error_has_a_message_a_code_and_a_help() {
        use miette::Diagnostic;
        let error = ApplyError::MissingTables {
            tables: vec!["db.a".into(), "db.b".into()],
            resume: false,
        };
        assert_eq!(
            error.to_string(),
            "`db.a`, `db.b` does not exist; nothing was written"
        );
        assert_eq!(
            Diagnostic::code(&error).map(|c| c.to_string()).as_deref(),
            Some("outatime::apply::missing_table")
        );
        assert_eq!(
            Diagnostic::help(&error).map(|h| h.to_string()).as_deref(),
            Some("pass --create to create missing tables with the target's retention")
        );
    }

    #[test]
    fn a_target_failure_carries_the_code_of_its_kind() {
        let failure = |kind| {
            ApplyError::target(
                kind,
                TargetFailure::RuntimeNotStarted {
                    error: std::io::Error::other("no threads"),
                },
            )
        };
        assert_eq!(failure(Kind::Influxdb).code(), "outatime::target::influxdb");
        assert_eq!(
            failure(Kind::Timestream).code(),
            "outatime::target::timestream"
        );
        assert_eq!(
            failure(Kind::Influxdb).to_string(),
            "cannot start the async runtime: no threads"
        );
    }
}
