//! The record stream's vocabulary, below every stage that makes, writes,
//! reads back or draws records: a record, the catalogue its small numbers
//! index, the sink that receives the stream, its values and their text
//! forms, the output formats and the digest, and `--shard`'s cut by series.

pub(crate) mod output;
pub(crate) mod shard;
pub(crate) mod value;

pub(crate) use value::Value;
pub use value::write_time;
pub(crate) use value::{TimeWriter, time_string, write_f64, write_json_string};

use crate::model::MeasureType;

/// The tables, series and measures of a compiled scenario, indexed so that
/// records carry small numbers instead of names.
#[derive(Debug, Default)]
pub struct Catalog {
    /// Sorted by target name: the stream's first sort key.
    pub tables: Vec<TableCatalog>,
}

#[derive(Debug)]
pub struct TableCatalog {
    /// The name in the scenario.
    pub name: String,
    /// The name in the target (`table t { name "..." }`): what records carry.
    pub target: String,
    /// Sorted by dimensions: index = rank, the stream's third sort key.
    pub series: Vec<SeriesInfo>,
    /// Sorted by name: index = measure id.
    pub measures: Vec<(String, MeasureType)>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SeriesInfo {
    /// Sorted by dimension name.
    pub dims: Vec<(String, String)>,
    /// A hash of the dimensions: what randomness is keyed by, so that a
    /// series' draws do not depend on which other series exist.
    pub key: u64,
}

/// One record of the stream.
#[derive(Debug, Clone, Default)]
pub struct Record {
    pub table: u16,
    /// Nanoseconds since the epoch, anchor applied.
    pub time: i64,
    /// Placed relative to `now` (else at a recorded instant).
    pub relative: bool,
    pub series: u32,
    /// Sorted by measure id.
    pub measures: Vec<(u16, Value)>,
    /// Lines of the steps that made it (for step summaries).
    pub steps: Vec<usize>,
    /// The line of the step that wrote each measure, in `measures` order
    /// (for conflict messages).
    pub writers: Vec<usize>,
    /// Nanoseconds a `late` anomaly holds the record back: under live
    /// pacing it is written this long after its time.
    pub delay: i64,
}

/// Where an anomaly took effect on one series: for labels.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub anomaly: usize,
    pub table: u16,
    pub series: u32,
    pub first: i64,
    pub last: i64,
    pub relative: bool,
}

/// Receives the stream.
pub trait Sink {
    fn record(&mut self, record: &Record, catalog: &Catalog) -> std::io::Result<()>;
}

/// A borrowed sink is a sink: wrappers can own or borrow what they wrap.
impl<S: Sink + ?Sized> Sink for &mut S {
    fn record(&mut self, record: &Record, catalog: &Catalog) -> std::io::Result<()> {
        (**self).record(record, catalog)
    }
}

/// `{device_id="fridge-7", site="oslo-1"}`: a series in messages.
pub(crate) fn series_text(dims: &[(String, String)]) -> String {
    let inner: Vec<String> = dims.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    format!("{{{}}}", inner.join(", "))
}

/// splitmix64's finaliser: every bit of `z` moves every bit of the result.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a over bytes, for turning names into keys.
pub(crate) fn name_hash(text: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// A series' key ([`SeriesInfo::key`]) from its dimensions: what randomness
/// and `--shard` are keyed by, known for a series the catalogue lacks too.
pub(crate) fn series_key(dims: &[(String, String)]) -> u64 {
    name_hash(&series_text(dims))
}
