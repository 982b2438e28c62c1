//! Every way an apply stops, with its stable code, its exit code and its
//! wording. Variants are alphabetised and each says what triggers it;
//! `docs/errors.md` lists the same codes. The apply hands these over as
//! data; only [`fmt::Display`] words them.

use std::fmt;
use std::path::PathBuf;

use super::report::{RejectionReport, Signal};
use crate::compile::CompileError;
use crate::record::time_string;

/// How a target marks what outatime made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnMark {
    /// A Timestream table's `managed-by=outatime` tag.
    Tag,
    /// An InfluxDB measurement's point in `outatime_managed`.
    Marker,
}

impl From<crate::targets::Kind> for OwnMark {
    fn from(kind: crate::targets::Kind) -> OwnMark {
        match kind {
            crate::targets::Kind::Timestream => OwnMark::Tag,
            crate::targets::Kind::Influxdb => OwnMark::Marker,
        }
    }
}

/// Why an apply stopped. [`ApplyErrorKind::iter`] lists every kind, and
/// [`ApplyErrorKind::code`] its code.
#[derive(Debug, strum::EnumDiscriminants)]
#[strum_discriminants(name(ApplyErrorKind), derive(strum::EnumIter))]
pub enum ApplyError {
    /// The record stream stopped (a conflict, a source read again, a
    /// spill), as the compiling commands word it.
    /// Its code is the compile error's own (not one of this list).
    #[strum_discriminants(strum(disabled))]
    Compile(CompileError),
    /// A file was written, but renaming it into place failed.
    FileNotRenamed {
        file: PathBuf,
        error: std::io::Error,
    },
    /// A file of an earlier apply, for a table that got no records now,
    /// could not be removed.
    FileNotRemoved {
        file: PathBuf,
        error: std::io::Error,
    },
    /// A file target's file could not be written (a full disk).
    FileNotWritten {
        folder: PathBuf,
        error: std::io::Error,
    },
    /// A file target's folder could not be created (no permission).
    FolderNotCreated {
        folder: PathBuf,
        error: std::io::Error,
    },
    /// SIGINT or SIGTERM during the writes; the requests in flight finished.
    Interrupted { signal: Signal, summary: Summary },
    /// `--resume` with a journal that pins another apply.
    JournalMismatch {
        journal: PathBuf,
        differences: Vec<Difference>,
    },
    /// The journal could not be started (a folder without permission).
    JournalNotWritten {
        journal: PathBuf,
        error: std::io::Error,
    },
    /// Tables (`database.table`) that do not exist, without `--create`.
    MissingTables { tables: Vec<String> },
    /// A failure of an InfluxDB target, worded as the same failure of any
    /// target (`Target`, `Stopped`, `JournalNotWritten`,
    /// `RuntimeNotStarted`), with InfluxDB's code.
    Influxdb(Box<ApplyError>),
    /// Records a table would reject for their time, or that the target
    /// cannot take at all, found before any write.
    Preflight(Box<PreflightRefusal>),
    /// The target rejected records (`--on-reject`).
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
    ReadOnly { target: String },
    /// The async runtime could not start (no threads left).
    RuntimeNotStarted { error: std::io::Error },
    /// The writes stopped on problems (retries exhausted, a refused request,
    /// the journal); what was written is journaled.
    Stopped {
        summary: Summary,
        problems: Vec<Problem>,
    },
    /// The target could not be reached, or refused to create or describe
    /// its tables, in the client's words.
    Target { reason: String },
    /// Tables (`database.table`) that exist without outatime's tag (a
    /// Timestream table without `managed-by=outatime`, an InfluxDB database
    /// without outatime's marker), and the target does not say
    /// `allow_untagged_tables: true`.
    UntaggedTables {
        tables: Vec<String>,
        /// What outatime's mark is on this target.
        mark: OwnMark,
    },
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
            | ApplyErrorKind::FolderNotCreated => "outatime::target::file",
            ApplyErrorKind::Influxdb => "outatime::target::influxdb",
            ApplyErrorKind::Interrupted => "outatime::apply::interrupted",
            ApplyErrorKind::JournalMismatch => "outatime::apply::journal_mismatch",
            ApplyErrorKind::MissingTables => "outatime::apply::missing_table",
            ApplyErrorKind::Preflight => "outatime::apply::preflight",
            ApplyErrorKind::ReadOnly => "outatime::target::read_only",
            ApplyErrorKind::Rejected => "outatime::target::rejected",
            ApplyErrorKind::UntaggedTables => "outatime::apply::untagged_table",
            ApplyErrorKind::JournalNotWritten
            | ApplyErrorKind::RuntimeNotStarted
            | ApplyErrorKind::Stopped
            | ApplyErrorKind::Target => "outatime::target::timestream",
        }
    }
}

impl ApplyError {
    pub fn code(&self) -> &'static str {
        match self {
            ApplyError::Compile(e) => e.code(),
            _ => ApplyErrorKind::from(self).code(),
        }
    }

    /// This failure as `kind` of target reports it: a target failure of an
    /// InfluxDB target carries InfluxDB's code; everything else is as it
    /// is.
    pub(crate) fn of(self, kind: crate::targets::Kind) -> ApplyError {
        match (kind, &self) {
            (
                crate::targets::Kind::Influxdb,
                ApplyError::JournalNotWritten { .. }
                | ApplyError::RuntimeNotStarted { .. }
                | ApplyError::Stopped { .. }
                | ApplyError::Target { .. },
            ) => ApplyError::Influxdb(Box::new(self)),
            _ => self,
        }
    }

    /// The first line, after `error[CODE]: `.
    fn message(&self) -> String {
        match self {
            ApplyError::Compile(e) => e.to_string(),
            ApplyError::FileNotRenamed { file, error } => {
                format!("cannot rename into `{}`: {error}", file.display())
            }
            ApplyError::FileNotRemoved { file, error } => {
                format!("cannot remove `{}`: {error}", file.display())
            }
            ApplyError::FileNotWritten { folder, error } => {
                format!("cannot write into `{}`: {error}", folder.display())
            }
            ApplyError::FolderNotCreated { folder, error } => {
                format!("cannot create `{}`: {error}", folder.display())
            }
            ApplyError::Influxdb(inner) => inner.message(),
            ApplyError::Interrupted { signal, summary } => {
                format!("stopped by {signal}: {summary}")
            }
            ApplyError::JournalMismatch { journal, .. } => format!(
                "the journal `{}` is of another apply; nothing was written",
                journal.display()
            ),
            ApplyError::JournalNotWritten { journal, error } => journal_not_written(journal, error),
            ApplyError::MissingTables { tables } => {
                let tables: Vec<String> = tables.iter().map(|t| format!("`{t}`")).collect();
                format!("{} does not exist; nothing was written", tables.join(", "))
            }
            ApplyError::Preflight(refusal) => refusal.message(),
            ApplyError::ReadOnly { target } => {
                format!("the target `{target}` is read-only; nothing was written")
            }
            ApplyError::UntaggedTables { tables, mark } => {
                let tables: Vec<String> = tables.iter().map(|t| format!("`{t}`")).collect();
                format!(
                    "{} {} not created by outatime ({}); nothing was written",
                    tables.join(", "),
                    if tables.len() == 1 { "was" } else { "were" },
                    match mark {
                        OwnMark::Tag => "no `managed-by=outatime` tag",
                        OwnMark::Marker => "it has points and no marker in `outatime_managed`",
                    }
                )
            }
            ApplyError::Rejected {
                rejected,
                stopped_at_first,
                summary,
                ..
            } => format!(
                "the target rejected {rejected} records{}: {summary}",
                if *stopped_at_first {
                    "; no batch was started after the first rejection (--on-reject fail)"
                } else {
                    ""
                }
            ),
            ApplyError::RuntimeNotStarted { error } => {
                format!("cannot start the async runtime: {error}")
            }
            ApplyError::Stopped { summary, .. } => format!("the apply stopped: {summary}"),
            ApplyError::Target { reason } => reason.clone(),
        }
    }

    /// Lines between the message and the help, indented.
    fn details(&self) -> Vec<String> {
        match self {
            ApplyError::Influxdb(inner) => inner.details(),
            ApplyError::JournalMismatch { differences, .. } => {
                differences.iter().map(|d| format!("  {d}")).collect()
            }
            ApplyError::Preflight(refusal) => refusal.lines(),
            ApplyError::Rejected { first, more, .. } => {
                let mut lines: Vec<String> = first
                    .iter()
                    .map(|r| {
                        format!(
                            "  - `{}` {} {} ({}): {}",
                            r.table, r.time, r.series, r.step, r.reason
                        )
                    })
                    .collect();
                if *more > 0 {
                    lines.push(format!("  ... and {more} more (see --report)"));
                }
                lines
            }
            ApplyError::Stopped { problems, .. } => problems
                .iter()
                .take(SHOWN)
                .map(|p| format!("  - {p}"))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// What to do, one `help:` line each.
    fn help(&self) -> Vec<String> {
        const FILES: &str = "files are renamed into place table by table once all are written; check the folder's permissions and free space";
        match self {
            ApplyError::Compile(e) => e.help().into_iter().collect(),
            ApplyError::FileNotRenamed { .. }
            | ApplyError::FileNotRemoved { .. }
            | ApplyError::FileNotWritten { .. }
            | ApplyError::FolderNotCreated { .. } => vec![FILES.into()],
            ApplyError::Influxdb(inner) => inner.help(),
            ApplyError::Interrupted { .. } => {
                vec!["`outatime apply --resume` with the same arguments finishes the job".into()]
            }
            ApplyError::JournalMismatch { .. } => vec![
                "resume with the same plan, target (and ${ENV} in its names), --shard and --pace; or apply without --resume to start over".into(),
            ],
            ApplyError::MissingTables { .. } => {
                vec!["pass --create to create missing tables with the target's retention".into()]
            }
            ApplyError::Preflight(refusal) => refusal.fixes.clone(),
            ApplyError::ReadOnly { .. } => vec![
                "`read_only: true` in outatime.yaml keeps simulated data out of this target (production); apply to an E2E target instead".into(),
            ],
            ApplyError::UntaggedTables {
                mark: OwnMark::Marker,
                ..
            } => vec![
                "outatime writes only into measurements it made, so that production stays clean: apply to an E2E database or bucket (--create makes it), where outatime marks each measurement before its first point".into(),
                "or, if these measurements are meant for test data, set `allow_untagged_tables: true` on the target in outatime.yaml".into(),
            ],
            ApplyError::UntaggedTables { .. } => vec![
                "outatime writes only into tables it created, so that production stays clean: apply with --create to an E2E database, where outatime creates and tags its tables".into(),
                "or, if these tables are meant for test data, set `allow_untagged_tables: true` on the target in outatime.yaml".into(),
            ],
            ApplyError::Stopped { .. } => vec![
                "fix the cause, then `outatime apply --resume` with the same arguments sends what is missing".into(),
            ],
            ApplyError::JournalNotWritten { .. }
            | ApplyError::Rejected { .. }
            | ApplyError::RuntimeNotStarted { .. }
            | ApplyError::Target { .. } => Vec::new(),
        }
    }
}

/// `error[CODE]: message`, the details, then the help; a line each.
impl fmt::Display for ApplyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "error[{}]: {}", self.code(), self.message())?;
        for line in self.details() {
            writeln!(f, "{line}")?;
        }
        for help in self.help() {
            writeln!(f, "  help: {help}")?;
        }
        Ok(())
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

/// What the writes did before they stopped.
#[derive(Debug)]
pub struct Summary {
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
pub enum Pinned {
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
pub struct Difference {
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
pub struct StepRef {
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
pub struct PreflightRefusal {
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
pub struct UnwritableRecord {
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
pub struct RefusedTable {
    /// As the target shows it: `database.table`.
    pub name: String,
    /// The table's retention in words, when the target described it.
    pub retention: Option<String>,
    pub ranges: Vec<RefusedRange>,
}

/// The records of one step a table would refuse for one reason.
#[derive(Debug)]
pub struct RefusedRange {
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

/// Why batches were not written, found while sending; listed in the
/// report's `problems` and under [`ApplyError::Stopped`].
#[derive(Debug)]
pub enum Problem {
    /// The journal could not take an acknowledged batch (a full disk).
    JournalNotWritten {
        journal: PathBuf,
        error: std::io::Error,
    },
    /// A request was refused for good (validation, authorization).
    Refused {
        table: String,
        batch: u64,
        reason: String,
    },
    /// A rejection names a record the batch does not have.
    RejectedUnknownRecord {
        index: usize,
        count: u64,
        reason: String,
    },
    /// Throttling or server errors on every try.
    RetriesExhausted {
        table: String,
        batch: u64,
        tries: u32,
        last: String,
    },
    /// SIGINT and SIGTERM could not be watched.
    SignalsNotWatched { error: std::io::Error },
    /// The record stream failed while the writes ran.
    Stream { error: CompileError },
    /// A task sending a request panicked or was cancelled.
    TaskFailed { error: tokio::task::JoinError },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::JournalNotWritten { journal, error } => {
                f.write_str(&journal_not_written(journal, error))
            }
            Problem::Refused {
                table,
                batch,
                reason,
            } => write!(f, "table `{table}`: batch {batch} was refused: {reason}"),
            Problem::RejectedUnknownRecord {
                index,
                count,
                reason,
            } => write!(
                f,
                "the target rejected record {index} of a batch of {count}: {reason}"
            ),
            Problem::RetriesExhausted {
                table,
                batch,
                tries,
                last,
            } => write!(
                f,
                "table `{table}`: batch {batch} failed {tries} times, last: {last}"
            ),
            Problem::SignalsNotWatched { error } => write!(f, "cannot watch for signals: {error}"),
            // As the compiling commands word it, on one line with its help.
            Problem::Stream { error } => {
                f.write_str(&crate::diagnostics::render::error_text(error))
            }
            Problem::TaskFailed { error } => write!(f, "a write task failed: {error}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_apply_error_is_worded_as_code_message_details_and_help() {
        let error = ApplyError::MissingTables {
            tables: vec!["db.a".into(), "db.b".into()],
        };
        assert_eq!(
            error.to_string(),
            "error[outatime::apply::missing_table]: `db.a`, `db.b` does not exist; nothing was written\n  help: pass --create to create missing tables with the target's retention\n"
        );
    }
}
