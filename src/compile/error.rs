//! What can go wrong between a valid scenario and its records, worded.

use std::fmt;

use crate::lang::literal::Ambiguous;
use crate::model::NameProblem;
use crate::sources::DataError;

/// What can go wrong between a valid scenario and its records. Each
/// variant's message is its `#[error]`; its code is [`CompileErrorKind::code`]
/// and its help [`CompileError::help`] (the error protocol: docs/architecture.md).
#[derive(Debug, thiserror::Error, strum::EnumDiscriminants)]
#[strum_discriminants(name(CompileErrorKind), derive(strum::EnumIter))]
#[strum_discriminants(doc = "A compile error without its fields: what a stable code names.")]
pub enum CompileError {
    /// A source file or row could not be read.
    #[error("source `{source_name}`: {}", data_words(error))]
    Data {
        source_name: String,
        #[source]
        error: Box<DataError>,
    },
    /// Two steps give one measure of one series at one instant different
    /// values, or one step gives it twice.
    #[error("{}", conflict_words(.0))]
    Conflict(Box<Conflict>),
    /// An extrapolation found no recorded data to learn from.
    #[error(
        "the extrapolation at line {line} found no `{measure}` in `{source_name}` to learn from"
    )]
    NothingLearned {
        line: usize,
        source_name: String,
        measure: String,
    },
    /// A series had too little data for its model: `trend` needs two
    /// distinct instants.
    #[error(
        "the extrapolation at line {line} cannot fit {series}: `trend` needs two instants, and {learned} were learned"
    )]
    Fit {
        line: usize,
        series: String,
        learned: usize,
    },
    /// A measure name read from a long-row source that the target refuses.
    #[error(
        "source `{source_name}` has a measure named `{name}`, which Timestream refuses: {}",
        problem_words(problem)
    )]
    BadName {
        source_name: String,
        name: String,
        problem: NameProblem,
    },
    /// A time left the range i64 nanoseconds hold (years 1678 to 2261):
    /// `from now + 3y` at `--anchor 2260-01-01T00:00Z`, `speed 1e-300`.
    #[error(
        "the {statement} at line {line} reaches a time outside the years 1678 to 2261{}",
        reached.as_ref().map(|r| format!(": {r}")).unwrap_or_default()
    )]
    TimeOutOfRange {
        statement: Statement,
        line: usize,
        /// What it reaches, when known.
        reached: Option<Reached>,
    },
    /// A model or an anomaly computed a value its measure cannot hold:
    /// `constant(value: 1e308) + constant(value: 1e308)` (an infinity), or
    /// a bigint past ±9.2e18.
    #[error("{}", value_words(.0))]
    ValueOutOfRange(Box<ValueOutOfRange>),
    /// A source `redact`s columns, and the environment variable holding the
    /// pseudonyms' key is not set (or empty).
    #[error(
        "source `{source_name}` redacts columns, and `{variable}`, the environment variable holding the pseudonyms' key, is not set"
    )]
    RedactSalt {
        source_name: String,
        variable: String,
    },
    /// An anomaly's `where` says `!=` on a dimension that two sources
    /// feeding its table redact with different keys.
    #[error(
        "the anomaly at line {line} says `{dimension} != ...`, and sources `{first}` and `{second}` feed its table with `{dimension}` redacted under different keys: a value has a different pseudonym in each"
    )]
    RedactKeysDiffer {
        line: usize,
        dimension: String,
        first: String,
        second: String,
    },
    /// The records could not be written where they go.
    #[error("cannot write the output: {0}")]
    Io(#[source] std::io::Error),
    /// A replay's rows could not be kept in, or read back from, the
    /// temporary folder they spill to.
    #[error("cannot keep a replay's rows in `{}`: {error}", folder.display())]
    Spill {
        folder: std::path::PathBuf,
        #[source]
        error: std::io::Error,
    },
    /// `--deny-warnings`, and the scenario or its data drew warnings.
    #[error(
        "{count} warning{} and --deny-warnings: warnings are errors",
        if *count == 1 { "" } else { "s" }
    )]
    DeniedWarnings { count: usize },
}

impl CompileErrorKind {
    pub fn code(self) -> &'static str {
        match self {
            CompileErrorKind::Data => "outatime::data::bad_row",
            CompileErrorKind::Conflict => "outatime::compile::conflict",
            CompileErrorKind::NothingLearned => "outatime::compile::nothing_learned",
            CompileErrorKind::Fit => "outatime::compile::fit",
            CompileErrorKind::BadName => "outatime::compile::bad_name",
            CompileErrorKind::TimeOutOfRange => "outatime::compile::time_out_of_range",
            CompileErrorKind::ValueOutOfRange => "outatime::compile::value_out_of_range",
            CompileErrorKind::RedactSalt => "outatime::compile::redact_salt",
            CompileErrorKind::RedactKeysDiffer => "outatime::compile::redact_keys_differ",
            CompileErrorKind::Io => "outatime::io",
            CompileErrorKind::Spill => "outatime::compile::spill",
            CompileErrorKind::DeniedWarnings => "outatime::compile::denied_warnings",
        }
    }
}

impl CompileError {
    pub fn code(&self) -> &'static str {
        CompileErrorKind::from(self).code()
    }

    /// What to do about it.
    pub fn help(&self) -> Option<String> {
        match self {
            // A file-level problem (line 0 or the header) cannot be skipped.
            CompileError::Data { error, .. } if error.line <= 1 => error.help.clone(),
            CompileError::Data { error, .. } => {
                let skip = "or let up to N bad rows be skipped and counted with `--max-bad-rows N`";
                Some(match &error.help {
                    Some(help) => format!("{help}; {skip}"),
                    None => format!("fix the row, {skip}"),
                })
            }
            CompileError::Conflict(c) if c.repeated_hour.is_some() => {
                c.repeated_hour.as_ref().map(RepeatedHour::help)
            }
            CompileError::Conflict(c) if c.calendar_shift => Some(
                "a calendar shift across a daylight-saving change can put two recorded instants on one local time; narrow the window or shift by a duration".into(),
            ),
            CompileError::Conflict(_) => Some(
                "narrow one step's window or `where`, or write the steps into different series with `set`".into(),
            ),
            CompileError::NothingLearned { .. } => Some(
                "check the `learn` window and the `where` against the source's data".into(),
            ),
            CompileError::Fit { .. } => Some("learn from a longer window, or drop `trend`".into()),
            CompileError::BadName { .. } => Some(
                "rename the measure in the data, or leave it out with `measures` on the replay".into(),
            ),
            CompileError::TimeOutOfRange {
                statement,
                reached: Some(Reached::FromNow { .. }),
                ..
            } => Some(format!(
                "give an anchor nearer the present (`--anchor`), or bring the {statement}'s times closer to `now`"
            )),
            CompileError::TimeOutOfRange { statement, .. } => {
                Some(format!("move the {statement}'s times closer to the present"))
            }
            CompileError::ValueOutOfRange(v) if v.value.is_nan() => Some(
                "NaN comes of an infinity in the terms (such as a `ramp` between -1e308 and 1e308): keep each term within ±1.7e308".into(),
            ),
            CompileError::ValueOutOfRange(v) if v.bigint => Some(
                "keep the sum within ±9.2e18, the range of a bigint: smaller terms, or `clamp LO .. HI` on the model".into(),
            ),
            CompileError::ValueOutOfRange(_) => Some(
                "keep the sum within ±1.7e308, the range of a double: smaller terms, or `clamp LO .. HI` on the model".into(),
            ),
            CompileError::RedactSalt { variable, .. } => Some(format!(
                "set the key, kept secret and the same wherever pseudonyms must match: `export {variable}=...`"
            )),
            CompileError::RedactKeysDiffer { dimension, .. } => Some(format!(
                "give both sources one key (the same `salt env` variable), or say which values to keep with `{dimension} in [...]`"
            )),
            CompileError::Io(_) => None,
            CompileError::Spill { .. } => Some(
                "give `--temp-dir` (or TMPDIR) a folder on a disk with room: a replay larger than memory keeps its rows there, sorted, while it runs".into(),
            ),
            CompileError::DeniedWarnings { .. } => Some(
                "fix what the warnings above name, or run without --deny-warnings; nothing was written".into(),
            ),
        }
    }
}

impl miette::Diagnostic for CompileError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(CompileError::code(self)))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        CompileError::help(self).map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
}

/// `data.csv:12, column `v`: not a number`: where in the file, and why.
fn data_words(error: &DataError) -> String {
    let mut out = error.file.display().to_string();
    if error.line > 0 {
        out.push_str(&format!(":{}", error.line));
    }
    if let Some(column) = &error.column {
        out.push_str(&format!(", column `{column}`"));
    }
    out.push_str(&format!(": {}", error.reason));
    out
}

fn conflict_words(c: &Conflict) -> String {
    if c.first_line == c.second_line && c.first == c.second {
        format!(
            "the step at line {} writes `{}` of {} in table `{}` at {} twice, as {} both times: two rows of one series at one instant are never merged",
            c.first_line, c.measure, c.series, c.table, c.time, c.first
        )
    } else if c.first_line == c.second_line {
        format!(
            "the step at line {} writes `{}` of {} in table `{}` at {} twice, as {} and as {}",
            c.first_line, c.measure, c.series, c.table, c.time, c.first, c.second
        )
    } else {
        format!(
            "the steps at lines {} and {} both write `{}` of {} in table `{}` at {}, as {} and as {}",
            c.first_line, c.second_line, c.measure, c.series, c.table, c.time, c.first, c.second
        )
    }
}

fn value_words(v: &ValueOutOfRange) -> String {
    let what = if v.value.is_nan() {
        "NaN, not a number".to_string()
    } else if v.value.is_infinite() {
        let sign = if v.value < 0.0 { "minus " } else { "" };
        format!("{sign}infinity, past the largest double")
    } else {
        // Only a bigint refuses a finite number.
        format!(
            "{:e}, past what a bigint holds (±9223372036854775807)",
            v.value
        )
    };
    let (who, does, into) = if v.anomaly {
        ("anomaly", "turns", "into")
    } else {
        ("step", "computes", "as")
    };
    format!(
        "the {who} at line {} {does} `{}` of {} in table `{}` at {} {into} {what}",
        v.line, v.measure, v.series, v.table, v.time
    )
}

/// Which statement a run-time error names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Statement {
    Step,
    Anomaly,
}

impl fmt::Display for Statement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Statement::Step => "step",
            Statement::Anomaly => "anomaly",
        })
    }
}

/// The time a step or an anomaly reaches past the range i64 nanoseconds
/// hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reached {
    /// An offset from `now` (ns), placed at an anchor.
    FromNow { offset: i64, anchor: i64 },
    /// An instant (ns since the epoch) computed past the range.
    Instant(i128),
    /// A recorded instant (ns) that the step's speed and shift cannot place.
    Placing(i64),
}

impl fmt::Display for Reached {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Reached::FromNow { offset, anchor } => write!(
                f,
                "{} at anchor {} is {}",
                crate::lang::literal::time_words(offset, true),
                crate::record::time_string(anchor),
                date_words(i128::from(anchor) + i128::from(offset))
            ),
            Reached::Instant(nanos) => f.write_str(&date_words(nanos)),
            Reached::Placing(nanos) => write!(
                f,
                "it cannot place its row at {}",
                crate::record::time_string(nanos)
            ),
        }
    }
}

/// An instant past what i64 nanoseconds hold, to the second:
/// `2262-12-31T00:00:00Z`.
fn date_words(nanos: i128) -> String {
    let seconds = nanos.div_euclid(1_000_000_000);
    i64::try_from(seconds)
        .ok()
        .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
        .map_or_else(
            || format!("{seconds}s from 1970"),
            |t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        )
}

/// A value its measure cannot hold, where it was made: the message's facts.
#[derive(Debug)]
pub struct ValueOutOfRange {
    /// The step's line, or the anomaly's when `anomaly`.
    pub line: usize,
    pub anomaly: bool,
    pub table: String,
    pub series: String,
    /// As a conflict says it: `now+2m (2026-...)`, or the instant.
    pub time: String,
    pub measure: String,
    /// What was computed: not finite, or (a bigint) past i64.
    pub value: f64,
    pub bigint: bool,
}

/// Why a target refuses a name, as the message says it.
fn problem_words(problem: &NameProblem) -> String {
    match problem {
        NameProblem::TooLong { bytes, max } => {
            format!("it is {bytes} bytes, and {max} are allowed")
        }
        NameProblem::Refused(reason) => reason.clone(),
    }
}

/// Two steps give one measure of one series at one instant different values.
#[derive(Debug)]
pub struct Conflict {
    pub table: String,
    pub series: String,
    pub time: String,
    pub measure: String,
    pub first_line: usize,
    pub second_line: usize,
    pub first: String,
    pub second: String,
    /// A step at either line shifts by calendar days (DST can fold instants).
    pub calendar_shift: bool,
    /// The two records are rows of one source whose local time the autumn
    /// change repeats, read onto one instant by `ambiguous earlier`/`later`,
    /// or by `in_order` from a file whose passes interleave.
    pub repeated_hour: Option<RepeatedHour>,
}

/// Rows of a local-time source that the autumn change repeats, on one
/// instant: what a conflict's help names when they are its cause.
#[derive(Debug)]
pub struct RepeatedHour {
    pub source: String,
    /// The source's path as written in the scenario.
    pub file: String,
    /// The source's `timezone`.
    pub zone: String,
    /// The rows' lines in the file, ascending, at least two.
    pub lines: Vec<u64>,
    /// `Earlier`, `Later` or `InOrder`: the policy that put them on one
    /// instant.
    pub policy: Ambiguous,
    /// The line of the source's `ambiguous` clause; `None` when the
    /// default holds.
    pub clause_line: Option<usize>,
    /// The line of the `source` statement.
    pub source_line: usize,
}

impl RepeatedHour {
    /// The help: where the rows and the policy are, and the remedy.
    fn help(&self) -> String {
        let lines = and_list(&self.lines);
        if self.policy == Ambiguous::InOrder {
            let clause = self
                .clause_line
                .map(|line| format!(" (line {line})"))
                .unwrap_or_default();
            return format!(
                "lines {lines} of `{}` hold one local time of the hour {} repeats when daylight saving ends, and `ambiguous in_order`{clause} reads each series' passes through that hour in file order, but this file interleaves them (it is sorted by local time): sort each series' rows by when they were logged, or give the time column its UTC offset",
                self.file, self.zone
            );
        }
        let policy = match self.policy {
            Ambiguous::Later => "later",
            Ambiguous::Earlier | Ambiguous::InOrder | Ambiguous::Error => "earlier",
        };
        let said = match self.clause_line {
            Some(line) => format!(
                "`ambiguous {policy}` (line {line}) puts both passes through that hour on one instant; write `ambiguous in_order` there"
            ),
            None => format!(
                "source `{}` (line {}) has no `ambiguous` clause, so `ambiguous {policy}` puts both passes through that hour on one instant; add `ambiguous in_order` to it",
                self.source, self.source_line
            ),
        };
        format!(
            "lines {lines} of `{}` hold one local time of the hour {} repeats when daylight saving ends, and {said}, which reads a series' first pass with the earlier offset and its second with the later",
            self.file, self.zone
        )
    }
}

/// `3 and 6`, `3, 6 and 9`.
fn and_list(lines: &[u64]) -> String {
    match lines.split_last() {
        Some((last, rest)) if !rest.is_empty() => {
            let rest: Vec<String> = rest.iter().map(u64::to_string).collect();
            format!("{} and {last}", rest.join(", "))
        }
        _ => lines.iter().map(u64::to_string).collect(),
    }
}
