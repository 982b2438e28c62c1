//! Every way a capture fails: its message (`#[error]`), its stable code
//! ([`CaptureErrorKind::code`]) and its help; `cli/exit.rs` gives its exit
//! code. `docs/errors.md` lists the same codes.

use std::fmt;
use std::path::PathBuf;

/// Why `capture` wrote no file. [`CaptureErrorKind::iter`] lists every
/// kind, and [`CaptureErrorKind::code`] its code.
#[derive(Debug, thiserror::Error, strum::EnumDiscriminants)]
#[strum_discriminants(name(CaptureErrorKind), derive(strum::EnumIter))]
pub enum CaptureError {
    /// `--from 2026-11-28T20:00Z --to 2026-11-28T19:00Z`
    #[error("the window is empty: --from {from} is not before --to {to}")]
    EmptyWindow { from: String, to: String },
    /// The output file could not be written or renamed into place.
    #[error("cannot write `{}`: {error}", file.display())]
    Output {
        file: PathBuf,
        #[source]
        error: std::io::Error,
    },
    /// `--redact rack` on a table without that column, or on a column
    /// that is not VARCHAR (a pseudonym is text).
    #[error("cannot redact `{column}`: {reason}")]
    Redact {
        column: String,
        reason: String,
        columns: Vec<String>,
    },
    /// The async runtime could not start (no threads left).
    #[error("cannot start the async runtime: {error}")]
    RuntimeNotStarted {
        #[source]
        error: std::io::Error,
    },
    /// `--redact` without the salt in the environment.
    #[error(
        "--redact needs a salt, and the environment variable `{env}` is not set (nothing was queried)"
    )]
    SaltUnset { env: String },
    /// `--slice 0s`, `--slice soon`
    #[error("--slice {slice}: not a positive duration")]
    SliceNotADuration { slice: String },
    /// The table holds a column capture cannot write: a type the Query API
    /// gives that is not a scalar, or a column the table's description
    /// does not list (its schema changed during the capture).
    #[error("cannot capture Timestream table `{table}`: {reason}")]
    Table { table: String, reason: String },
    /// `--target influx` names an InfluxDB or file target (`kind`: "an
    /// InfluxDB", "a file").
    #[error("target `{target}` is {kind} target, not a Timestream one")]
    TargetNotTimestream { target: String, kind: &'static str },
    /// `--from yesterday`
    #[error("{flag} {text}: not an RFC 3339 time: {reason}")]
    TimeNotRfc3339 {
        flag: &'static str,
        text: String,
        reason: String,
    },
    /// Timestream's Query API could not be asked or said no (endpoint
    /// discovery, a missing table, credentials, a predicate it refuses,
    /// throttling past the retries).
    #[error("cannot query Timestream table `{table}`: {reason}")]
    Timestream { table: String, reason: String },
}

impl CaptureErrorKind {
    pub fn code(self) -> &'static str {
        match self {
            CaptureErrorKind::EmptyWindow
            | CaptureErrorKind::SliceNotADuration
            | CaptureErrorKind::TargetNotTimestream
            | CaptureErrorKind::TimeNotRfc3339 => "outatime::capture::arguments",
            CaptureErrorKind::Output => "outatime::capture::output",
            CaptureErrorKind::Redact => "outatime::capture::redact",
            CaptureErrorKind::SaltUnset => "outatime::capture::salt",
            CaptureErrorKind::RuntimeNotStarted
            | CaptureErrorKind::Table
            | CaptureErrorKind::Timestream => "outatime::capture::timestream",
        }
    }
}

impl CaptureError {
    pub fn code(&self) -> &'static str {
        CaptureErrorKind::from(self).code()
    }

    pub(crate) fn help(&self) -> String {
        match self {
            CaptureError::EmptyWindow { .. } => {
                "`--from` is the first instant captured and `--to` the end (not captured): give a later `--to`".into()
            }
            CaptureError::Output { .. } => {
                "check that the folder exists and can be written; nothing was left at the path".into()
            }
            CaptureError::Redact { columns, .. } => format!(
                "redact a VARCHAR column of the table (dimensions, `measure_name`, varchar measures): {}",
                if columns.is_empty() {
                    "the table has none".to_string()
                } else {
                    columns
                        .iter()
                        .map(|c| format!("`{c}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            ),
            CaptureError::RuntimeNotStarted { .. } => "free some threads and run it again".into(),
            CaptureError::SaltUnset { env } => format!(
                "set `{env}` to a secret (the same one the scenarios' `redact` uses, so pseudonyms match), or name another variable with `--salt-env`"
            ),
            CaptureError::SliceNotADuration { .. } => {
                "give a positive duration such as `1h` or `15m`".into()
            }
            CaptureError::Table { .. } => {
                "capture reads tables as `SELECT *` gives them: scalar columns; run it again if the table's columns changed meanwhile".into()
            }
            CaptureError::TargetNotTimestream { .. } => {
                "capture reads Timestream tables: name a `kind: timestream` target of outatime.yaml".into()
            }
            CaptureError::TimeNotRfc3339 { .. } => {
                "write an RFC 3339 time such as `2026-11-28T00:00:00Z` or `2026-11-28T01:00+01:00`".into()
            }
            CaptureError::Timestream { .. } => {
                "check the region, the credentials (timestream:Select and DescribeEndpoints), the table's name (as it exists: no prefix is added) and `--where`".into()
            }
        }
    }
}

impl miette::Diagnostic for CaptureError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(CaptureError::code(self)))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(CaptureError::help(self)))
    }
}
