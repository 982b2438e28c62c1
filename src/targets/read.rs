//! Reading a target back, the same way for every kind: the records of one
//! table in a half-open time range, handed over one by one. `verify`
//! compares what a reader returns with the stream; each kind of target
//! has its reader beside its writer ([`super::files::read`],
//! [`super::timestream::query`], [`super::influxdb::query`]).

use std::path::PathBuf;

use crate::model::MeasureType;
use crate::record::Value;
use crate::targets::endpoint::Endpoint;
use crate::targets::influxdb::client::ExchangeError;
use crate::targets::timestream::client::{SdkFailure, TimestreamError};

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
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReadError {
    /// A file of a file target is not the JSON lines `apply` writes.
    #[error("`{}` line {line}: {problem}", file.display())]
    FileNotRecords {
        file: PathBuf,
        line: u64,
        #[source]
        problem: NotRecords,
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
    #[error("cannot read InfluxDB at {url}: {error}")]
    InfluxDb {
        url: Endpoint,
        #[source]
        error: InfluxReadError,
    },
    /// The async runtime could not start (no threads left).
    #[error("cannot start the async runtime: {error}")]
    RuntimeNotStarted {
        #[source]
        error: std::io::Error,
    },
    /// Timestream's Query API could not be asked or said no (endpoint
    /// discovery, a missing table, credentials).
    #[error("cannot query Timestream table `{table}`: {error}")]
    Timestream {
        table: String,
        #[source]
        error: TimestreamReadError,
    },
}

/// Why a line of a file target's file is not a record `apply` wrote.
#[derive(Debug, thiserror::Error)]
pub(crate) enum NotRecords {
    /// Not a JSON object of `time`, `dimensions` and `measures`.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    #[error("`{0}` is not an RFC 3339 time")]
    Time(String),
    #[error("the lines are not in time order")]
    OutOfOrder,
    /// A measure whose JSON value is no value the scenario writes.
    #[error("measure `{name}`: `{value}`")]
    Measure { name: String, value: String },
}

/// Why an InfluxDB server's answer to `verify`'s InfluxQL is not the
/// records ([`super::influxdb::query`]).
#[derive(Debug, thiserror::Error)]
pub(crate) enum InfluxReadError {
    /// An `https://` URL on a machine without root certificates.
    #[error("no TLS root certificates: {0}")]
    NoRootCertificates(#[source] std::io::Error),
    /// No answer within the reader's timeout.
    #[error("no answer within {} s", .0.as_secs())]
    Timeout(std::time::Duration),
    /// The answer is longer than a slice's answer may be.
    #[error(
        "the answer is longer than {} MiB, the most `verify` reads for one slice",
        limit.div_ceil(1 << 20)
    )]
    TooLong { limit: usize },
    /// No answer: the server could not be reached, or dropped the
    /// connection.
    #[error(transparent)]
    Exchange(ExchangeError),
    /// Not a success; the body is the server's.
    #[error("HTTP {status}: {body}")]
    Status {
        status: http::StatusCode,
        body: String,
    },
    #[error("the answer is not InfluxQL JSON: {0}")]
    NotJson(#[source] serde_json::Error),
    /// The answer's `error`, in the server's words.
    #[error("{0}")]
    Server(String),
    /// `partial`: the server cut the answer short.
    #[error("the server cut the answer short (`partial`): raise its `max-row-limit`")]
    Partial,
    #[error("a series without a `time` column")]
    NoTimeColumn,
    #[error("a row without an integer time (is `epoch=ns` ignored?)")]
    NoIntegerTime,
    /// A field whose JSON value is no value the scenario writes.
    #[error("field `{name}`: `{value}`")]
    Field { name: String, value: String },
}

/// Why a Timestream table could not be read back
/// ([`super::timestream::query`]).
#[derive(Debug, thiserror::Error)]
pub(crate) enum TimestreamReadError {
    /// The Query client could not be made (endpoint discovery).
    #[error(transparent)]
    Client(#[from] TimestreamError),
    /// A Query call failed.
    #[error(transparent)]
    Query(SdkFailure),
    /// A row's time is not the Query API's TIMESTAMP text.
    #[error("time `{0}`")]
    BadTime(String),
    #[error("a row without a time")]
    NoTime,
}
