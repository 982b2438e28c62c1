//! The validated scenario: every name resolved, every literal read, every
//! default explicit. The compiler consumes this, never the syntax tree.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono_tz::Tz;

use crate::lang::literal::{Ambiguous, Nonexistent};
use crate::lang::literal::{Duration, Instant};

pub(crate) use crate::measure_type::MeasureType;

mod expect;
mod names;
pub(crate) use expect::{
    AlertCheck, AlertStatus, Check, Condition as ExpectCondition, Dialect, ExpectWindow,
    Expectation, Op, QueryCheck, Test, Timing,
};
pub(crate) use names::{NameProblem, NameRules};

#[derive(Clone, Debug)]
pub struct Scenario {
    pub title: String,
    pub seed: u64,
    /// `now` is rounded down to a multiple of this (default 1s).
    pub anchor_align: Duration,
    pub sources: BTreeMap<String, Source>,
    pub tables: BTreeMap<String, Table>,
    /// Data steps in file order.
    pub steps: Vec<Step>,
    /// Anomalies in file order; they apply after all steps.
    pub anomalies: Vec<Anomaly>,
    /// `expect` blocks in file order: checked on the target after the writes.
    pub expectations: Vec<Expectation>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceKind {
    Csv,
    Jsonl,
    Unload,
}

#[derive(Clone, Debug)]
pub struct Source {
    pub name: String,
    pub kind: SourceKind,
    /// As written in the scenario, relative to it.
    pub path_written: String,
    /// Resolved against the scenario file's folder.
    pub path: PathBuf,
    pub time_column: String,
    pub time_format: TimeFormat,
    /// The zone of timestamps that carry no offset.
    pub timezone: Tz,
    pub nonexistent: Nonexistent,
    pub ambiguous: Ambiguous,
    /// The source statement's line, and its `ambiguous` clause's when it
    /// has one: what a conflict from the autumn's repeated hour points at.
    pub line: usize,
    pub ambiguous_line: Option<usize>,
    /// The dimension columns as the file names them (what readers look up).
    pub dimensions: Vec<String>,
    /// The same dimensions as the table names them (`as` renames), in the
    /// order of `dimensions`.
    pub dimension_names: Vec<String>,
    pub measures: SourceMeasures,
    /// How a CSV (or an UNLOAD export's CSV) separates and escapes fields.
    pub dialect: CsvDialect,
    /// `redact ...`: columns whose values become pseudonyms.
    pub redact: Option<Redaction>,
}

impl Source {
    /// The table's name for a dimension column.
    pub fn dimension_name(&self, column: &str) -> Option<&str> {
        self.dimensions
            .iter()
            .position(|d| d == column)
            .map(|i| self.dimension_names[i].as_str())
    }

    /// The table's name for a measure column of a wide source; for long
    /// rows, the data names the measure and it is kept.
    pub fn measure_name<'a>(&'a self, column: &'a str) -> &'a str {
        match &self.measures {
            SourceMeasures::Wide(defs) => defs
                .iter()
                .find(|d| d.name == column)
                .map_or(column, |d| d.table_name.as_str()),
            SourceMeasures::Long { .. } => column,
        }
    }
}

/// `redact device_id, "customer id" salt env "NAME"`: every value of these
/// columns is replaced by a keyed pseudonym before anything is produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Redaction {
    /// Columns as the file names them: dimension columns, or varchar
    /// measure columns.
    pub columns: Vec<String>,
    /// The environment variable that holds the key (read when records are
    /// made, never by `check`).
    pub salt_env: String,
}

/// The environment variable a `redact` clause reads its key from unless it
/// names another (`salt env "NAME"`); `capture --redact` uses it too.
pub(crate) const DEFAULT_SALT_ENV: &str = "OUTATIME_REDACT_SALT";

/// The field separator and escape character of a CSV file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CsvDialect {
    pub delimiter: u8,
    /// `None`: a quote inside a quoted field is doubled (RFC 4180).
    pub escape: Option<u8>,
}

impl CsvDialect {
    /// What a source of `kind` uses unless its `delimiter`/`escape` clauses
    /// say otherwise: RFC 4180 for CSV files; UNLOAD's defaults
    /// (`field_delimiter = ','`, `escaped_by = '\\'`) for exports.
    pub fn default_for(kind: SourceKind) -> CsvDialect {
        CsvDialect {
            delimiter: b',',
            escape: match kind {
                SourceKind::Unload => Some(b'\\'),
                SourceKind::Csv | SourceKind::Jsonl => None,
            },
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum TimeFormat {
    /// RFC 3339 / ISO 8601 with an offset (and, for `unload`, Timestream's
    /// `2024-02-01 05:33:50.000000000` in UTC).
    Rfc3339,
    Strftime(String),
    Epoch(EpochUnit),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EpochUnit {
    Seconds,
    Millis,
    Micros,
    Nanos,
}

#[derive(Clone, Debug)]
pub enum SourceMeasures {
    /// One column per measure.
    Wide(Vec<MeasureDef>),
    /// One row per measure: its name in one column, its value in another.
    Long {
        name_column: String,
        value_column: String,
        ty: MeasureType,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct MeasureDef {
    /// The column as the file names it (what readers look up).
    pub name: String,
    /// The measure's name in the table: `name` unless renamed with `as`.
    pub table_name: String,
    pub ty: MeasureType,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// One multi-measure record per series and instant.
    Multi,
    /// One record per measure.
    Single,
}

#[derive(Clone, Debug)]
pub struct Table {
    pub name: String,
    /// The line of its `table` statement: tables are explained in file order.
    pub line: usize,
    /// The table's name in the target (default: `name`).
    pub target_name: String,
    pub layout: Layout,
    /// The measure name of multi-measure records (default `metrics`).
    pub measure_name: String,
}

/// How far from `now` a time relative to it may lie: 100 years (36,525
/// days), in nanoseconds. Instants end in 2262 and begin in 1677, so
/// every anchor from 1778 to 2161 places such a time.
pub(crate) const MAX_FROM_NOW: i64 = 36_525 * 86_400 * 1_000_000_000;

/// A point in time: an offset from the symbolic `now`, or a recorded instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimePoint {
    Relative(Duration),
    Absolute(Instant),
}

impl TimePoint {
    pub fn is_relative(self) -> bool {
        matches!(self, TimePoint::Relative(_))
    }

    /// The instant it names once `now` is bound to `anchor`; `None` past
    /// what i64 nanoseconds hold (never a saturated instant).
    pub fn at(self, anchor: i64) -> Option<i64> {
        match self {
            TimePoint::Relative(d) => anchor.checked_add(d.0),
            TimePoint::Absolute(i) => Some(i.0),
        }
    }
}

/// A half-open window of recorded time `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub start: Instant,
    pub end: Instant,
}

/// `from START to END every EVERY`; both ends are of the same kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    pub start: TimePoint,
    pub end: TimePoint,
    pub every: Duration,
}

impl Schedule {
    /// Whether its instants are offsets from `now` (else recorded
    /// instants). Validation refuses a schedule with one end of each kind.
    pub fn is_relative(&self) -> bool {
        self.start.is_relative()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConditionTest {
    Equals(String),
    NotEquals(String),
    In(Vec<String>),
}

impl ConditionTest {
    /// Whether a dimension with value `v` passes.
    pub fn allows(&self, v: &str) -> bool {
        match self {
            ConditionTest::Equals(x) => x == v,
            ConditionTest::NotEquals(x) => x != v,
            ConditionTest::In(list) => list.iter().any(|x| x == v),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Condition {
    pub dimension: String,
    pub test: ConditionTest,
}

impl Condition {
    /// As the plan, `explain` and reports write it: `site == "oslo-1"`,
    /// `device in ["a", "b"]`.
    pub fn words(&self) -> String {
        let name = &self.dimension;
        match &self.test {
            ConditionTest::Equals(v) => format!("{name} == {v:?}"),
            ConditionTest::NotEquals(v) => format!("{name} != {v:?}"),
            ConditionTest::In(list) => format!("{name} in {list:?}"),
        }
    }
}

/// Conditions joined by `and`; empty matches everything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    pub conditions: Vec<Condition>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Shift {
    None,
    StartTo(TimePoint),
    EndTo(TimePoint),
    By(Duration),
    /// Calendar days in a zone, local wall-clock time kept.
    CalendarDays {
        days: i64,
        zone: Tz,
    },
}

#[derive(Clone, Debug)]
pub enum Step {
    Replay(Replay),
    Generate(Generate),
    Extrapolate(Extrapolate),
}

impl Step {
    pub fn table(&self) -> &str {
        match self {
            Step::Replay(r) => &r.table,
            Step::Generate(g) => &g.table,
            Step::Extrapolate(e) => &e.table,
        }
    }

    /// What the step does, in the words of its header:
    /// `replay plant into telemetry`.
    pub fn title(&self) -> String {
        match self {
            Step::Replay(r) => format!("replay {} into {}", r.source, r.table),
            Step::Generate(g) => format!("generate into {}", g.table),
            Step::Extrapolate(e) => {
                format!("extrapolate {}.{} into {}", e.source, e.measure, e.table)
            }
        }
    }

    /// Whether the step's records are placed relative to `now` (else at
    /// recorded instants): what an anomaly's `at` must match to find them.
    pub fn is_relative(&self) -> bool {
        match self {
            Step::Replay(r) => r.is_relative(),
            Step::Generate(g) => g.schedule.is_relative(),
            Step::Extrapolate(e) => e.schedule.is_relative(),
        }
    }

    /// The 1-based line the step starts on, for messages.
    pub fn line(&self) -> usize {
        match self {
            Step::Replay(r) => r.line,
            Step::Generate(g) => g.line,
            Step::Extrapolate(e) => e.line,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Replay {
    pub source: String,
    pub table: String,
    /// `None`: from the first record to the last.
    pub window: Option<Window>,
    pub filter: Filter,
    pub shift: Shift,
    pub speed: f64,
    /// `None`: every measure of the source.
    pub measures: Option<Vec<String>>,
    pub set: BTreeMap<String, String>,
    pub line: usize,
}

impl Replay {
    /// Placed relative to `now` only when shifted to a point relative to
    /// it; unshifted, or shifted by a duration or calendar days, its rows
    /// keep recorded instants.
    pub fn is_relative(&self) -> bool {
        matches!(self.shift, Shift::StartTo(p) | Shift::EndTo(p) if p.is_relative())
    }
}

#[derive(Clone, Debug)]
pub struct Generate {
    pub table: String,
    /// Each series' dimension values.
    pub series: Vec<BTreeMap<String, String>>,
    /// The `series` clauses that made `series`, in order: each made the
    /// next `count` of them.
    pub series_clauses: Vec<SeriesClause>,
    pub schedule: Schedule,
    pub measures: Vec<GeneratedMeasure>,
    pub line: usize,
}

/// One `series` clause as written: `device = "sim-{0001..2000}", site = "lab"`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeriesClause {
    /// Dimension and value as written (a range unexpanded), in written order.
    pub written: Vec<(String, String)>,
    /// Whether a value holds a `{A..B}` range.
    pub ranged: bool,
    /// How many series it made.
    pub count: usize,
}

#[derive(Clone, Debug)]
pub struct GeneratedMeasure {
    pub name: String,
    pub ty: MeasureType,
    pub model: Model,
}

#[derive(Clone, Debug)]
pub struct Extrapolate {
    pub source: String,
    pub measure: String,
    pub ty: MeasureType,
    pub table: String,
    pub learn: Window,
    pub filter: Filter,
    pub schedule: Schedule,
    pub model: Model,
    pub shift: Shift,
    pub set: BTreeMap<String, String>,
    pub line: usize,
}

/// A sum of terms, optionally clamped to `[low, high]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    pub terms: Vec<Term>,
    pub clamp: Option<(f64, f64)>,
}

/// A constant of a measure's type.
#[derive(Clone, Debug, PartialEq)]
pub enum Scalar {
    Double(f64),
    Bigint(i64),
    Boolean(bool),
    Varchar(String),
}

/// The value as a scenario writes it: `-5`, `2.5`, `true`, `"open"`.
impl std::fmt::Display for Scalar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Scalar::Double(v) => write!(f, "{v}"),
            Scalar::Bigint(v) => write!(f, "{v}"),
            Scalar::Boolean(b) => write!(f, "{b}"),
            Scalar::Varchar(v) => f.write_str(&crate::lang::names::string_literal(v)),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Term {
    Constant(Scalar),
    Ramp {
        from: f64,
        to: f64,
    },
    Sine {
        period: Duration,
        amplitude: f64,
        mean: f64,
        phase: Duration,
    },
    Square {
        period: Duration,
        low: Scalar,
        high: Scalar,
        duty: f64,
    },
    RandomWalk {
        start: f64,
        step: f64,
        min: Option<f64>,
        max: Option<f64>,
    },
    Noise {
        sigma: f64,
    },
    Uniform {
        min: f64,
        max: f64,
    },
    Bernoulli {
        p: f64,
    },
    Choice(Vec<String>),
    Seasonal {
        period: Duration,
    },
    Trend,
    Last,
    Mean,
}

#[derive(Clone, Debug, PartialEq, strum::EnumDiscriminants)]
#[strum_discriminants(
    name(AnomalyWord),
    derive(strum::EnumIter, strum::EnumString, strum::IntoStaticStr),
    strum(serialize_all = "lowercase"),
    doc = "An anomaly's kind as its word in the language (`spike`, `late`, ...)."
)]
pub enum AnomalyKind {
    Spike { magnitude: f64 },
    Offset { delta: f64 },
    Scale { factor: f64 },
    Drift { rate: f64, per: Duration },
    Flatline { value: Option<Scalar> },
    Noise { sigma: f64 },
    Clip { min: Option<f64>, max: Option<f64> },
    Outliers { rate: f64, magnitude: f64 },
    Dropout,
    Late { delay: Duration },
}

impl AnomalyKind {
    /// The kind's word in the language: `anomaly spike on ...`.
    pub fn name(&self) -> &'static str {
        AnomalyWord::from(self).into()
    }
}

impl AnomalyWord {
    /// Kinds that change numbers, and so need a numeric measure.
    pub(crate) fn changes_numbers(self) -> bool {
        !matches!(
            self,
            AnomalyWord::Flatline | AnomalyWord::Dropout | AnomalyWord::Late
        )
    }

    /// Kinds that change one measure, and so must name it.
    pub(crate) fn needs_measure(self) -> bool {
        !matches!(self, AnomalyWord::Dropout | AnomalyWord::Late)
    }

    /// The parameters the kind takes.
    pub(crate) fn parameters(self) -> &'static [&'static str] {
        match self {
            AnomalyWord::Spike => &["magnitude"],
            AnomalyWord::Offset => &["delta"],
            AnomalyWord::Scale => &["factor"],
            AnomalyWord::Drift => &["rate"],
            AnomalyWord::Flatline => &["value"],
            AnomalyWord::Noise => &["sigma"],
            AnomalyWord::Clip => &["min", "max"],
            AnomalyWord::Outliers => &["rate", "magnitude"],
            AnomalyWord::Dropout => &[],
            AnomalyWord::Late => &["delay"],
        }
    }
}

#[derive(Clone, Debug)]
pub struct Anomaly {
    pub kind: AnomalyKind,
    /// `as NAME`.
    pub name: Option<String>,
    pub table: String,
    /// `None`: whole records.
    pub measure: Option<String>,
    pub filter: Filter,
    pub at: TimePoint,
    /// `None`: only the first record at or after `at` in each series.
    pub length: Option<Duration>,
    pub line: usize,
}
