//! Reading a target back, the same way for every kind: the records of one
//! table in a half-open time range, handed over one by one. `verify`
//! compares what a reader returns with the stream; each kind of target
//! has its reader beside its writer ([`super::files::read`],
//! [`super::timestream::query`], [`super::influxdb::query`]).

use std::fmt;
use std::path::PathBuf;

use crate::model::MeasureType;
use crate::record::Value;

/// A record as a target returns it: a series (dimensions sorted by name),
/// a time, and some or all of its measures. Readers may hand the measures
/// of one record over in several parts (one a row, for single-measure
/// tables); the comparison joins them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Found {
    pub dims: Vec<(String, String)>,
    pub time: i64,
    pub measures: Vec<(String, Value)>,
}

/// What a reader needs to know of a table.
pub(crate) struct ReadTable<'a> {
    /// The index in the catalogue.
    pub index: usize,
    /// The table's name in the scenario's catalogue (`name "..."` applied).
    pub target: &'a str,
    /// The measures the scenario writes, sorted by name, with their types:
    /// what a reader reads typed values by.
    pub measures: &'a [(String, MeasureType)],
}

impl ReadTable<'_> {
    /// The scenario's type of a measure, if the scenario has it.
    pub(crate) fn measure_type(&self, name: &str) -> Option<MeasureType> {
        self.measures
            .binary_search_by(|(m, _)| m.as_str().cmp(name))
            .ok()
            .map(|i| self.measures[i].1)
    }
}

/// A kind of target, read back.
pub(crate) trait Reader {
    /// What the target is, for messages: "files in out/", "Timestream
    /// database `db`".
    fn describe(&self) -> String;

    /// The name `table` has in the target (a Timestream prefix applied, a
    /// file's path): for messages and the report.
    fn table_name(&self, table: &ReadTable) -> String;

    /// Hands every record of `table` with `from <= time < to` to `each`.
    /// Slices are asked for in increasing time order, table by table.
    fn read(
        &mut self,
        table: &ReadTable,
        from: i64,
        to: i64,
        each: &mut dyn FnMut(Found),
    ) -> Result<(), ReadError>;
}

/// A value read from text as the scenario's type says (a target's text
/// forms: JSON numbers, Timestream's scalar values); `None` when the text
/// is not of that type.
pub(crate) fn value_from_text(ty: MeasureType, text: &str) -> Option<Value> {
    match ty {
        MeasureType::Double => text.parse::<f64>().ok().map(Value::Double),
        MeasureType::Bigint => text.parse::<i64>().ok().map(Value::Bigint),
        MeasureType::Boolean => match text {
            "true" => Some(Value::Boolean(true)),
            "false" => Some(Value::Boolean(false)),
            _ => None,
        },
        MeasureType::Varchar => Some(Value::Varchar(text.into())),
    }
}

/// Why a target could not be read back.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// A file of a file target is not the JSON lines `apply` writes.
    FileNotRecords {
        file: PathBuf,
        line: u64,
        reason: String,
    },
    /// A file target's file exists and cannot be read.
    FileUnreadable {
        file: PathBuf,
        error: std::io::Error,
    },
    /// An InfluxDB server could not be asked or said no (unreachable, a
    /// missing database, a refused token, an answer cut short).
    InfluxDb { url: String, reason: String },
    /// The async runtime could not start (no threads left).
    RuntimeNotStarted { error: std::io::Error },
    /// Timestream's Query API could not be asked or said no (endpoint
    /// discovery, a missing table, credentials).
    Timestream { table: String, reason: String },
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::FileNotRecords { file, line, reason } => {
                write!(f, "`{}` line {line}: {reason}", file.display())
            }
            ReadError::FileUnreadable { file, error } => {
                write!(f, "cannot read `{}`: {error}", file.display())
            }
            ReadError::InfluxDb { url, reason } => {
                write!(f, "cannot read InfluxDB at {url}: {reason}")
            }
            ReadError::RuntimeNotStarted { error } => {
                write!(f, "cannot start the async runtime: {error}")
            }
            ReadError::Timestream { table, reason } => {
                write!(f, "cannot query Timestream table `{table}`: {reason}")
            }
        }
    }
}
