//! What each kind of target accepts and how the apply engine drives it.
//!
//! Two interfaces: [`NameRules`], so that validation refuses early what the
//! target would refuse late (validation and the compiler ask the rules,
//! never a target by name); and [`Backend`], what `apply`'s one engine
//! (`crate::apply::engine`) drives: describe the tables (the time window
//! each accepts, with words for a refusal and its fix), encode a batch, send
//! it, classify the answer. Batching, pacing, retries, the journal, the
//! report and progress are the engine's, written once for every target.

pub(crate) mod ask;
pub(crate) mod config;
pub(crate) mod endpoint;
pub(crate) mod files;
pub(crate) mod influxdb;
pub(crate) mod read;
pub(crate) mod timestream;

use std::future::Future;
use std::ops::Range;
use std::time::Duration;

use crate::model::{Layout, NameRules};
use crate::record::Catalog;
use crate::record::Value;

/// The rules `check` and `plan` apply unless told the target: Timestream's,
/// the strictest of the targets about lengths, characters and counts.
/// (InfluxDB refuses some names Timestream takes, such as a tag key
/// starting with `_`: `check --target` and `apply --target` ask the
/// target's own rules.)
pub(crate) const DEFAULT_RULES: &dyn NameRules = &timestream::names::TimestreamNames;

/// One table of an apply as the target names it; indexed like the
/// catalogue's tables.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TableSpec {
    /// The name the target knows (a Timestream table: prefix, target name,
    /// suffix).
    pub name: String,
    pub layout: Layout,
    /// The multi-measure record's measure name.
    pub measure_name: String,
}

/// Where a record of a batch came from: for rejection reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Origin {
    pub time: i64,
    /// A `late` anomaly's delay, ns.
    pub delay: i64,
    pub series: u32,
    /// The line of the step that wrote it (the first, for a merged record).
    pub line: u32,
}

/// One record of a batch: with `layout multi` every measure of a series
/// at an instant, with `layout single` one.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Item {
    pub origin: Origin,
    pub measures: Vec<(u16, Value)>,
}

/// One request's records, compact: the target encodes them for each
/// attempt, on the sending thread, so the producer stays light and a retry
/// needs no copy kept aside.
#[derive(Debug)]
pub(crate) struct Batch {
    /// The batch's number in the apply: what the journal records.
    pub index: u64,
    pub table: u16,
    /// When it may be sent, wall-clock ns (`i64::MIN`: at once).
    pub due: i64,
    pub items: Vec<Item>,
}

/// What one request may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BatchLimits {
    pub max_records: usize,
    /// The body's cap, measured with [`Backend::record_size`]; `None`: none.
    pub max_bytes: Option<usize>,
}

/// A record the target refused, by its index in the request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RecordRejection {
    pub index: usize,
    pub reason: String,
    /// The Version the target holds for the record (Timestream).
    pub existing_version: Option<i64>,
}

/// The longest wait a target's answer may ask for before a retry (an HTTP
/// `Retry-After`): a server asking for more is asked again after this
/// long, and the batch still gets no more than its tries.
pub(crate) const MAX_RETRY_AFTER: Duration = Duration::from_secs(5 * 60);

/// How the target answered one request, as the engine acts on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Answer {
    /// Every record was stored.
    Written,
    /// The others were stored; these were not, and will not be on a retry.
    Rejected(Vec<RecordRejection>),
    /// Throttled: again after a wait, with fewer requests in flight.
    Throttled {
        after: Option<Duration>,
        reason: String,
    },
    /// A transient failure (5xx, a timeout, a broken connection): again
    /// after a wait (`after`, when the target says, such as `Retry-After`).
    Retry {
        after: Option<Duration>,
        reason: String,
    },
    /// The body is more than the target takes (HTTP 413): the engine
    /// sends the halves.
    TooLarge,
    /// Refused for good (validation, authorization): the apply stops.
    Failed(String),
}

/// The words for records a table refuses for their time: why, and the fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Words {
    pub why: String,
    pub fix: String,
}

/// What times a table accepts, relative to when a record is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Window {
    /// A record older than this (ns) when written is refused; `None`: any.
    pub max_age: Option<i64>,
    /// A record more than this (ns) ahead of the clock when written is
    /// refused; `None`: any.
    pub max_ahead: Option<i64>,
    /// The table's retention, for a refusal: "the memory store keeps 24 h,
    /// magnetic-store writes are off".
    pub retention: String,
    pub too_old: Words,
    pub too_new: Words,
}

/// Why a target cannot be written before any record is sent: it could
/// not be reached, or refused to describe, create or mark its tables.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TargetError {
    #[error(transparent)]
    Influxdb(#[from] influxdb::target::InfluxError),
    #[error(transparent)]
    Timestream(#[from] timestream::client::TimestreamError),
}

/// Which kind of target an apply writes to: what its failures are coded
/// as (`outatime::target::timestream`, `outatime::target::influxdb`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Influxdb,
    Timestream,
}

/// A record the target cannot take whatever its time (a value or a name
/// its protocol cannot carry), found by the preflight.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Refusal {
    /// The measure at fault, by id, when one is.
    pub measure: Option<u16>,
    /// Why, in the target's words.
    pub why: String,
    /// What to change in the scenario.
    pub fix: String,
}

/// A table as the target knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum TableState {
    Missing,
    Present(Window, Owner, Made),
}

/// When a table was made, as the target keeps it. A table deleted and made
/// again under its name is another table: it holds none of what a journal
/// says was written into the first, and a resume must send that again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Made {
    /// At this instant, ns: a Timestream table's CreationTime; for an
    /// InfluxDB measurement with points, the time of its latest marker.
    At(i64),
    /// It holds nothing (an InfluxDB measurement without points, which the
    /// apply's first write makes): nothing journaled is in it. Written
    /// into, it reads back as [`Made::At`] the time of its marker: the one
    /// it has (`marker`), or the one [`Backend::mark_new`] writes.
    Empty { marker: Option<i64> },
    /// The target does not say (moto's tables; an InfluxDB measurement
    /// with points and no marker).
    Unknown,
}

impl Made {
    /// What a describe will say once this apply has written into the table
    /// (marked by [`Backend::mark_new`] at `marked`, if it had no marker):
    /// what the journal keeps. `None`: the target will not say.
    pub(crate) fn once_written(self, marked: i64) -> Option<i64> {
        match self {
            Made::At(at) | Made::Empty { marker: Some(at) } => Some(at),
            Made::Empty { marker: None } => Some(marked),
            Made::Unknown => None,
        }
    }
}

/// Whether outatime made a table: a Timestream table tagged
/// [`MANAGED_BY`]`=`[`OUTATIME`], or an InfluxDB measurement that outatime's
/// marker names (or one that does not exist yet, which the apply makes and
/// marks). `apply` writes only into outatime's tables unless the target
/// allows others; `clean` drops only outatime's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Owner {
    Outatime,
    /// Made by someone else, or before outatime tagged what it made.
    Other,
}

/// The tag key that marks a table as outatime's, and its value.
pub(crate) const MANAGED_BY: &str = "managed-by";
pub(crate) const OUTATIME: &str = "outatime";
/// The tag key that names the scenario whose apply created a table.
pub(crate) const SCENARIO_TAG: &str = "outatime-scenario";

/// What `--create` marks the tables it makes with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Mark {
    /// The scenario's title, as a tag value may hold it
    /// ([`Mark::for_scenario`]).
    pub scenario: String,
}

impl Mark {
    /// Timestream's tag values: at most 256 characters of letters,
    /// digits, spaces and `_ . : / = + - @`; anything else becomes `-`.
    pub(crate) fn for_scenario(title: &str) -> Mark {
        let allowed = |c: char| c.is_alphanumeric() || c == ' ' || "_.:/=+-@".contains(c);
        let scenario: String = title
            .chars()
            .map(|c| if allowed(c) { c } else { '-' })
            .take(256)
            .collect();
        Mark { scenario }
    }
}

/// A kind of target, as the apply engine drives it. The engine calls
/// [`Backend::describe`], then [`Backend::start`], then for every attempt
/// [`Backend::encode`], [`Backend::send`] and [`Backend::classify`], on the
/// sending tasks.
pub(crate) trait Backend: Send + Sync + 'static {
    /// A request ready to send.
    type Request: Send;
    /// What sending it gave back, before it is classified.
    type Response: Send;

    /// The target in words, for the report: "timestream db".
    fn label(&self) -> String;

    /// What kind of target it is: its failures' code.
    fn kind(&self) -> Kind;

    /// What a journal pins about the target besides its name, as
    /// `(key, value)` pairs in the order a mismatch lists them: a resume
    /// against another database or endpoint is refused.
    fn identity(&self) -> Vec<(String, String)>;

    /// The name the target gives a table of the scenario (its target name).
    fn table_name(&self, target_name: &str) -> String;

    /// A table's name as the report and errors show it: `database.table`.
    fn qualified(&self, name: &str) -> String;

    /// What one request may hold.
    fn limits(&self) -> BatchLimits;

    /// About how many bytes a record takes in a request, for
    /// [`BatchLimits::max_bytes`]; asked only when that is set.
    fn record_size(&self, table: u16, item: &Item) -> usize;

    /// Why the target cannot take `item` of `table` whatever its time, if
    /// it cannot; the preflight asks for every record, after
    /// [`Backend::start`], so keep it cheap.
    fn refusal(&self, _table: u16, _item: &Item) -> Option<Refusal> {
        None
    }

    /// The window a table missing now would get from `--create`: a dry run
    /// with `--create` judges missing tables by it.
    fn created_window(&self) -> Window;

    /// Reaches the target, creates what is missing if `create` (marked as
    /// outatime's, with the mark), and says what each table (named as
    /// [`Backend::table_name`] gives) accepts and whose it is.
    fn describe(
        &mut self,
        tables: &[String],
        create: Option<&Mark>,
    ) -> impl Future<Output = Result<Vec<TableState>, TargetError>> + Send;

    /// Marks as outatime's the tables this apply makes by writing into
    /// them (InfluxDB measurements, made by their first point), with the
    /// apply's wall clock `now` (ns): called after the preflight and before
    /// the first record, never in a dry run. Timestream tags its tables
    /// when [`Backend::describe`] creates them, so it has nothing to do.
    fn mark_new(
        &self,
        _mark: &Mark,
        _now: i64,
    ) -> impl Future<Output = Result<(), TargetError>> + Send {
        async { Ok(()) }
    }

    /// The time [`Backend::mark_new`] with `now` gives the marks it writes,
    /// as a describe reads it back ([`Made::Empty`]).
    fn marked_at(&self, now: i64) -> i64 {
        now
    }

    /// What encoding needs from the catalogue, kept for the writes; every
    /// record carries `version`.
    fn start(&mut self, catalog: &Catalog, tables: &[TableSpec], version: i64);

    /// The records `items` of `batch` as one request.
    fn encode(&self, batch: &Batch, items: Range<usize>) -> Self::Request;

    /// Sends one request.
    fn send(&self, request: Self::Request) -> impl Future<Output = Self::Response> + Send;

    /// What the engine does about an answer.
    fn classify(&self, response: Self::Response) -> Answer;
}
