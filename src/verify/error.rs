//! Every way a verify fails: its message (`#[error]`), its stable code
//! ([`VerifyErrorKind::code`]) and its help; `cli/exit.rs` gives its exit
//! code. `docs/errors.md` lists the same codes.

use std::fmt;
use std::path::PathBuf;

use crate::compile::CompileError;
use crate::targets::endpoint::Endpoint;
use crate::targets::read::ReadError;

/// Why `verify` did not say "everything matches". [`VerifyErrorKind::iter`]
/// lists every kind, and [`VerifyErrorKind::code`] its code.
#[derive(Debug, thiserror::Error, strum::EnumDiscriminants)]
#[strum_discriminants(name(VerifyErrorKind), derive(strum::EnumIter))]
pub enum VerifyError {
    /// The expected stream stopped (a conflict, a source read again), as
    /// the compiling commands word it.
    /// Its code is the compile error's own (not one of this list).
    #[strum_discriminants(strum(disabled))]
    #[error("{0}")]
    Compile(#[source] CompileError),
    /// The target holds other records than the stream: the summary says
    /// which.
    #[error(
        "the target differs from the stream: {missing} missing, {unexpected} unexpected, {differing} differing records"
    )]
    Differs {
        missing: u64,
        unexpected: u64,
        differing: u64,
    },
    /// A file of a file target is not the JSON lines `apply` writes.
    #[error("`{}` line {line}: {reason}", file.display())]
    FileNotRecords {
        file: PathBuf,
        line: u64,
        reason: String,
    },
    /// A file target's file exists and cannot be read.
    #[error("cannot read `{}`: {error}", file.display())]
    FileUnreadable {
        file: PathBuf,
        #[source]
        error: std::io::Error,
    },
    /// An InfluxDB server could not be asked or said no (unreachable, a
    /// missing database, a refused token, an answer cut short).
    #[error("cannot read InfluxDB at {url}: {reason}")]
    InfluxDb { url: Endpoint, reason: String },
    /// The async runtime could not start (no threads left).
    #[error("cannot start the async runtime: {error}")]
    RuntimeNotStarted {
        #[source]
        error: std::io::Error,
    },
    /// Timestream's Query API could not be asked or said no (endpoint
    /// discovery, a missing table, credentials).
    #[error("cannot query Timestream table `{table}`: {reason}")]
    Timestream { table: String, reason: String },
}

impl VerifyErrorKind {
    pub fn code(self) -> &'static str {
        match self {
            // Not listed by `iter`: a compile error carries its own code, which
            // the error's `code()` gives.
            VerifyErrorKind::Compile => "outatime::compile",
            VerifyErrorKind::Differs => "outatime::verify::differs",
            VerifyErrorKind::FileNotRecords | VerifyErrorKind::FileUnreadable => {
                "outatime::verify::file"
            }
            VerifyErrorKind::InfluxDb => "outatime::verify::influxdb",
            VerifyErrorKind::RuntimeNotStarted | VerifyErrorKind::Timestream => {
                "outatime::verify::timestream"
            }
        }
    }
}

impl VerifyError {
    pub fn code(&self) -> &'static str {
        match self {
            VerifyError::Compile(e) => e.code(),
            _ => VerifyErrorKind::from(self).code(),
        }
    }

    pub(crate) fn help(&self) -> Option<String> {
        Some(match self {
            VerifyError::Compile(e) => return e.help(),
            VerifyError::Differs { .. } => {
                "the lines above name the records; `--report FILE.json` lists all of them. A store that is only eventually consistent may need `--wait 60s`"
            }
            VerifyError::FileNotRecords { .. } => {
                "the file target's files are written by `outatime apply`, one JSON object a line, sorted by time"
            }
            VerifyError::FileUnreadable { .. } => "check the path and its permissions",
            VerifyError::InfluxDb { .. } => {
                "check the url, the database (or bucket) and the token, and that the server answers `/ping`"
            }
            VerifyError::RuntimeNotStarted { .. } => "free some threads and run it again",
            VerifyError::Timestream { .. } => {
                "check the region, the credentials (timestream:Select and DescribeEndpoints) and that the table exists"
            }
        }
        .into())
    }
}

impl miette::Diagnostic for VerifyError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(VerifyError::code(self)))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        VerifyError::help(self).map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
}

/// A reader's failure is verify's, kind for kind: each keeps its code.
impl From<ReadError> for VerifyError {
    fn from(e: ReadError) -> VerifyError {
        match e {
            ReadError::FileNotRecords {
                file,
                line,
                problem,
            } => VerifyError::FileNotRecords {
                file,
                line,
                reason: problem.to_string(),
            },
            ReadError::FileUnreadable { file, error } => {
                VerifyError::FileUnreadable { file, error }
            }
            ReadError::InfluxDb { url, error } => VerifyError::InfluxDb {
                url,
                reason: error.to_string(),
            },
            ReadError::RuntimeNotStarted { error } => VerifyError::RuntimeNotStarted { error },
            ReadError::Timestream { table, error } => VerifyError::Timestream {
                table,
                reason: error.to_string(),
            },
        }
    }
}

impl From<CompileError> for VerifyError {
    fn from(e: CompileError) -> VerifyError {
        VerifyError::Compile(e)
    }
}
