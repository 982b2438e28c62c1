//! Every problem outatime reports about a scenario, with its stable code and
//! its wording. Variants are alphabetised; each names an input that triggers
//! it. `docs/errors.md` lists the same codes with an example each.

use std::fmt;

use crate::diagnostics::Severity;
use crate::diagnostics::Span;
use crate::measure_type::MeasureType;

/// What kind of name a message is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameKind {
    Column,
    Dimension,
    Measure,
    Source,
    Table,
}

impl fmt::Display for NameKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NameKind::Column => "column",
            NameKind::Dimension => "dimension",
            NameKind::Measure => "measure",
            NameKind::Source => "source",
            NameKind::Table => "table",
        })
    }
}

/// A clause keyword, in any statement's block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Clause {
    Ambiguous,
    At,
    Delimiter,
    Escape,
    Redact,
    Dimensions,
    From,
    Layout,
    Learn,
    Measure,
    MeasureName,
    Measures,
    Model,
    Name,
    Nonexistent,
    Series,
    Set,
    Shift,
    Speed,
    Time,
    Timezone,
    Where,
    Window,
}

impl fmt::Display for Clause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Clause::Ambiguous => "ambiguous",
            Clause::At => "at",
            Clause::Dimensions => "dimensions",
            Clause::From => "from",
            Clause::Layout => "layout",
            Clause::Learn => "learn",
            Clause::Measure => "measure",
            Clause::MeasureName => "measure_name",
            Clause::Measures => "measures",
            Clause::Model => "model",
            Clause::Name => "name",
            Clause::Nonexistent => "nonexistent",
            Clause::Series => "series",
            Clause::Set => "set",
            Clause::Shift => "shift",
            Clause::Speed => "speed",
            Clause::Time => "time",
            Clause::Delimiter => "delimiter",
            Clause::Escape => "escape",
            Clause::Redact => "redact",
            Clause::Timezone => "timezone",
            Clause::Where => "where",
            Clause::Window => "window",
        })
    }
}

/// What must be greater than zero, as the help shows it.
#[derive(Clone, Debug, PartialEq)]
pub enum Positive {
    /// A duration written after its word: `every`, `for`, `per`,
    /// `anchor align`.
    Clause(&'static str),
    /// `speed`: a factor.
    Speed,
    /// A model term's duration parameter, written `name: value`.
    Param(String),
}

impl fmt::Display for Positive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Positive::Clause(word) => f.write_str(word),
            Positive::Speed => f.write_str("speed"),
            Positive::Param(name) => f.write_str(name),
        }
    }
}

/// A comma-separated list in a clause, which a missing comma cuts short.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum List {
    /// `dimensions a, b` in a source.
    Dimensions,
    /// `measures a double, b bigint` in a source, `measures a, b` in a replay.
    Measures,
    /// `series a = "x", b = "y"` in a generate.
    Series,
    /// `set a = "x", b = "y"` in a replay or an extrapolate.
    Set,
}

impl List {
    pub fn clause(self) -> Clause {
        match self {
            List::Dimensions => Clause::Dimensions,
            List::Measures => Clause::Measures,
            List::Series => Clause::Series,
            List::Set => Clause::Set,
        }
    }
}

/// `DiagnosticCode` is the same enum without fields: which kind a diagnostic
/// is, and so which stable code it has.
#[derive(Clone, Debug, PartialEq, strum::EnumDiscriminants)]
#[strum_discriminants(name(DiagnosticCode), derive(strum::EnumIter))]
#[strum_discriminants(doc = "A diagnostic kind without its fields: what a stable code names.")]
pub enum DiagnosticKind {
    /// `anomaly spike ... { at now ... }` on a table a replay fills at its
    /// recorded times.
    AnchorDependentAnomaly { relative: bool, step_line: usize },
    /// `anomaly spike on telemetry { ... }`: a value anomaly without a measure.
    AnomalyNeedsMeasure { kind: String },
    /// `anomaly late on telemetry.temperature { ... }`
    AnomalyOnWholeRecords { kind: String, measure: String },
    /// `anomaly spike on t.door_open { ... }` where door_open is boolean.
    AnomalyTypeMismatch {
        kind: String,
        measure: String,
        ty: MeasureType,
    },
    /// `delimiter ";;"`, `escape "é"`: a CSV dialect takes one ASCII character.
    BadDialectCharacter { clause: Clause, written: String },
    /// `"\q"`
    BadEscape { escape: String },
    /// `time ts format "%Q"`
    BadTimeFormat { reason: String },
    /// `clamp 10 .. -10`
    ClampRange { low: f64, high: f64 },
    /// `measure on boolean = bernoulli(p: 0.5) clamp 0 .. 1`
    ClampType { ty: MeasureType },
    /// `dimensions "measure_value::double"`: a column whose name the table
    /// cannot take as it is.
    ColumnNameRefused {
        kind: NameKind,
        column: String,
        reason: String,
        suggestion: String,
    },
    /// `outatime.yaml` with `directry: out` (a YAML or shape problem).
    ConfigInvalid {
        message: String,
        suggestion: Option<String>,
    },
    /// `api: v1` with `bucket: e2e`: a key the target's API does not use.
    ConfigKeyNotForApi {
        key: String,
        api: String,
        instead: String,
    },
    /// `api: v2` without `org:`: a key the target's API needs.
    ConfigMissingKey {
        key: String,
        api: String,
        example: String,
    },
    /// `directory: out/${RUN_ID}` with `RUN_ID` not set.
    ConfigUnsetVariable { name: String },
    /// `delimiter ","` in a `jsonl` source.
    DialectNotForJsonl { clause: Clause },
    /// `dimensions site` and `measures site double` in one table.
    DimensionIsMeasure {
        name: String,
        table: String,
        measure: Span,
    },
    /// `window ...` twice in one block.
    DuplicateClause { clause: Clause, first: Span },
    /// `table t` twice.
    DuplicateName {
        kind: NameKind,
        name: String,
        first: Span,
    },
    /// `sine(period: 1h, period: 2h)`
    DuplicateParameter { name: String, first: Span },
    /// Two `series` clauses with the same dimension values.
    DuplicateSeries { first: Span },
    /// `seed 1` twice.
    DuplicateStatement { statement: String, first: Span },
    /// `99999999999999999999h`
    DurationOutOfRange,
    /// `window 2024-03-13T00:00Z .. 2024-03-12T00:00Z`
    EmptyWindow { clause: Clause },
    /// `shift by 1d` in an extrapolation placed `from now`.
    ExtrapolateShift { reason: String },
    /// `learn ...` or a learned term where it does not belong.
    LearnedTermOutsideExtrapolate { term: String },
    /// `2024-03-31T02:30+01:00[Europe/Oslo]`: a local time the zone skips.
    LocalTimeInGap { zone: String },
    /// `2024-13-01T00:00Z`
    MalformedTimestamp { reason: String },
    /// Two steps write `temperature` into one table, as double and as bigint.
    MeasureTypeConflict {
        measure: String,
        table: String,
        ty: MeasureType,
        first_ty: MeasureType,
        first: Span,
    },
    /// `extrapolate fleet.t into x { learn ... }` without `model`.
    MissingClause {
        statement: String,
        clause: Clause,
        example: String,
    },
    /// `dimensions device_id site`
    MissingComma { list: List },
    /// `replay fleet into t` followed by indented clauses and `}`.
    MissingOpenBrace,
    /// `sine(amplitude: 3)`
    MissingParameter {
        owner: String,
        name: String,
        example: String,
    },
    /// `rate 3` on a `drift` (it needs `rate 3 per 1h`).
    MissingPer,
    /// A file without `scenario "TITLE"`.
    MissingScenario,
    /// `from 2024-03-12T00:00Z to now every 1m`
    MixedRange,
    /// `measure x boolean = bernoulli(p: 0.1) + bernoulli(p: 0.2)`
    ModelNotSummable { ty: MeasureType },
    /// A name longer than the target (`by`, Timestream unless told) allows.
    NameTooLong {
        kind: NameKind,
        name: String,
        bytes: usize,
        max: usize,
        by: &'static str,
    },
    /// `source s unload "export.csv" { ... }`
    NotAManifest,
    /// `every 0s`, `speed -2`
    NotPositive { what: Positive },
    /// A file with bytes that are not UTF-8.
    NotUtf8,
    /// `1e999`
    NumberOutOfRange,
    /// `2024-03-12T08:00+02:00[Europe/Oslo]`
    OffsetDisagreesWithZone {
        zone: String,
        given: String,
        expected: String,
    },
    /// Two anomalies on one series and measure whose windows overlap.
    OverlappingAnomalies { other: Span },
    /// `noise(sigma: -1)`, `bernoulli(p: 2)`
    ParameterOutOfRange {
        name: String,
        value: String,
        constraint: String,
    },
    /// `sine(24h)`
    PositionalArgument { term: String, example: String },
    /// `redact ts` (the time column), `redact temperature` (a double).
    RedactNotText { column: String, what: String },
    /// `window now - 1h .. now`
    RelativeWindow { clause: Clause },
    /// `measure ts_x double = ...`, a dimension named `time`.
    ReservedName {
        kind: NameKind,
        name: String,
        reason: String,
        /// The target that refuses it: Timestream unless told.
        by: &'static str,
    },
    /// `scenario "..."` after another statement.
    ScenarioNotFirst { first_statement: Span },
    /// `seed -1`
    SeedOutOfRange,
    /// `series device = "sim-{10..1}"`: a range that counts down.
    SeriesRangeBackwards { range: String },
    /// `series device = "a", "b"`: a value after a comma with no dimension.
    SeriesValueWithoutDimension {
        dimension: String,
        first: String,
        values: Vec<String>,
    },
    /// Two tables whose target name is the same.
    SharedTargetTable { target: String, first: Span },
    /// `dimensions device` where `fleet.csv`'s header names `device_id`.
    SourceColumnMissing {
        column: String,
        /// The source's path as written.
        file: String,
        from: ColumnsFrom,
        /// The file's columns, in its order.
        columns: Vec<String>,
        suggestion: Option<String>,
    },
    /// `source fleet csv "missing.csv" { ... }`
    SourceFileMissing { path: String, resolved: String },
    /// A replay of a source with no row: a CSV with only its header, an
    /// UNLOAD manifest whose `result_files` is `[]` (found with the data).
    SourceHoldsNoRows { source: String, bad_rows: u64 },
    /// `measures temperature` in a CSV source (no type, and no export
    /// metadata to take it from); `measures t bigint` where the export says
    /// DOUBLE.
    SourceMeasureType {
        column: String,
        problem: MeasureTypeProblem,
    },
    /// A syntax error: what was expected at this place.
    Syntax {
        expected: Vec<String>,
        found: String,
        /// What the writer probably meant, when it can be told.
        hint: Option<SyntaxHint>,
    },
    /// A table with no step writing into it.
    TableUnused { table: String },
    /// `measure on boolean = noise(sigma: 1)`
    TermTypeMismatch {
        term: String,
        ty: MeasureType,
        fits: Vec<MeasureType>,
    },
    /// `from now + 100000d for 1h every 1m`: a time relative to `now` more
    /// than 100 years from it (`written`: `now+100000d`).
    TimeTooFarFromNow { written: String },
    /// `2262-04-12T00:00Z`, `now + 300w * ...`
    TimestampOutOfRange,
    /// `series device = "sim-{1..1000}", port = "{1..1000}"`: more series
    /// than one clause may declare.
    TooManySeries { count: u64, limit: u64 },
    /// More than 128 dimensions reach one table.
    TooManyDimensions { table: String, count: usize },
    /// A `layout single` table receiving more than 8,192 measure names, or
    /// a `layout multi` one more than 1,024.
    TooManyMeasureNames {
        table: String,
        count: usize,
        max: usize,
        /// The table has `layout multi` (the default).
        multi: bool,
    },
    /// A `layout multi` table receiving 300 measures: a record holds every
    /// measure of a series at an instant, and Timestream takes 256.
    TooManyMeasuresPerRecord {
        table: String,
        count: usize,
        max: usize,
    },
    /// `table {` with no `}` before the next statement.
    UnclosedBlock { open: Span },
    /// `rate 2 per 1h` on `outliers`, `per` on a parameter that takes none.
    UnexpectedPer { name: String },
    /// `anomaly spikes on ...`
    UnknownAnomalyKind {
        kind: String,
        suggestion: Option<String>,
    },
    /// `windw 2024-...` inside a replay block.
    UnknownClause {
        statement: String,
        clause: String,
        suggestion: Option<String>,
        allowed: Vec<String>,
    },
    /// `replay nosuch into t`
    UnknownName {
        kind: NameKind,
        name: String,
        suggestion: Option<String>,
        known: Vec<String>,
    },
    /// `sine(perod: 24h)`, `magnitud 3`
    UnknownParameter {
        owner: String,
        name: String,
        suggestion: Option<String>,
        allowed: Vec<String>,
    },
    /// `replya fleet into t`
    UnknownStatement {
        word: String,
        suggestion: Option<String>,
    },
    /// `sinus(period: 1h)`
    UnknownTerm {
        term: String,
        suggestion: Option<String>,
    },
    /// `timezone "Europe/Olso"`
    UnknownTimeZone {
        zone: String,
        suggestion: Option<String>,
        /// `CEST`: the IANA zones whose abbreviation it is (a few).
        abbreviation_of: Vec<String>,
    },
    /// `layout multiple`, `measures t float`, `source s xml "..."`
    UnknownWord {
        what: String,
        word: String,
        suggestion: Option<String>,
        allowed: Vec<String>,
    },
    /// A `}` on its own that closes no block.
    UnmatchedBrace,
    /// `"never closed`
    UnterminatedString,
    /// `period: 3` (a number where a duration is needed).
    WrongParameterType {
        owner: String,
        name: String,
        expected: String,
        found: String,
    },
    // Warnings for what does nothing (issue 11): the scenario alone shows
    // some (`check`), the data the rest (`plan`, `records`, `apply`).
    /// `anomaly spike on t.v { where device == "nope" ... }`, or a window
    /// outside every record of the table.
    AnomalyNoEffect { table: String, cause: NoEffectCause },
    /// `replay fleet into t { where site == "nowhere" }`: no row passes.
    WhereSelectsNothing { step: String, source: String },
    /// `replay fleet into t { window 1999-01-01T00:00Z .. 1999-01-02T00:00Z }`
    WindowHoldsNoRows { source: String },
    /// `replay fleet into t { where site == "oslo-1" set site = "oslo-1" }`:
    /// every record already carries that value.
    SetNoEffect { dimension: String, value: String },
}

/// Why an anomaly changes nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoEffectCause {
    /// Its `where` matches no series of its table.
    NoSeries,
    /// Its window lies outside every record of its table.
    OutsideRecords,
}

use DiagnosticKind::*;

impl DiagnosticKind {
    pub fn severity(&self) -> Severity {
        match self {
            OverlappingAnomalies { .. }
            | TableUnused { .. }
            | AnchorDependentAnomaly { .. }
            | AnomalyNoEffect { .. }
            | WhereSelectsNothing { .. }
            | WindowHoldsNoRows { .. }
            | SourceHoldsNoRows { .. }
            | SetNoEffect { .. } => Severity::Warning,
            // Only the first lines were read: a later object may have it.
            SourceColumnMissing {
                from: ColumnsFrom::JsonFields { .. },
                ..
            } => Severity::Warning,
            _ => Severity::Error,
        }
    }

    /// The stable part after `outatime::`.
    pub fn code(&self) -> &'static str {
        DiagnosticCode::from(self).as_str()
    }

    pub fn message(&self) -> String {
        match self {
            AnchorDependentAnomaly {
                relative: true,
                step_line,
            } => format!(
                "this anomaly is placed relative to `now`, but the step at line {step_line} writes this table at recorded instants"
            ),
            AnchorDependentAnomaly {
                relative: false,
                step_line,
            } => format!(
                "this anomaly is placed at a recorded instant, but the step at line {step_line} writes this table relative to `now`"
            ),
            AnomalyNeedsMeasure { kind } => {
                format!(
                    "{} `{kind}` anomaly changes values, so it needs a measure",
                    article(kind)
                )
            }
            AnomalyOnWholeRecords { kind, measure } => {
                format!("a `{kind}` anomaly acts on whole records, not on the measure `{measure}`")
            }
            AnomalyTypeMismatch { kind, measure, ty } => {
                format!(
                    "a `{kind}` anomaly needs a numeric measure, but `{measure}` is {}",
                    ty.name()
                )
            }
            BadEscape { escape } => format!("unknown escape `{escape}` in a string"),
            BadTimeFormat { reason } => format!("time format is not valid: {reason}"),
            BadDialectCharacter { clause, written } => format!(
                "`{clause}` takes one ASCII character, not `{}`",
                written.escape_debug()
            ),
            ColumnNameRefused {
                kind,
                column,
                reason,
                ..
            } => format!("column `{column}` cannot be a {kind} name in the table: {reason}"),
            DialectNotForJsonl { clause } => {
                format!("a `jsonl` source has no `{clause}`: JSON lines are not CSV")
            }
            SourceMeasureType { column, problem } => problem.message(column),
            RedactNotText { column, what } => {
                format!("`{column}` cannot be redacted: it is {what}")
            }
            ClampRange { low, high } => {
                format!("clamp range is empty: {low} is above {high}")
            }
            ClampType { ty } => format!("a {} measure cannot be clamped", ty.name()),
            ConfigInvalid { message, .. } => message.clone(),
            ConfigKeyNotForApi { key, api, .. } => {
                format!("`{key}` is not used by an InfluxDB `api: {api}` target")
            }
            ConfigMissingKey { key, api, .. } => {
                format!("an InfluxDB `api: {api}` target needs `{key}`")
            }
            ConfigUnsetVariable { name } => format!("environment variable `{name}` is not set"),
            DimensionIsMeasure { name, table, .. } => {
                format!("`{name}` is both a dimension and a measure of table `{table}`")
            }
            DuplicateClause { clause, .. } => format!("`{clause}` is given twice"),
            DuplicateName { kind, name, .. } => format!("{kind} `{name}` is defined twice"),
            DuplicateParameter { name, .. } => format!("parameter `{name}` is given twice"),
            DuplicateSeries { .. } => "this series is declared twice".into(),
            DuplicateStatement { statement, .. } => {
                format!("`{statement}` is given twice")
            }
            DurationOutOfRange => "duration is too large (the limit is about 292 years)".into(),
            EmptyWindow { clause } => {
                format!("the `{clause}` range does not end after it starts")
            }
            ExtrapolateShift { .. } => {
                "this shift cannot place the learned window on the schedule".into()
            }
            LearnedTermOutsideExtrapolate { term } => {
                format!("`{term}` is learned from recorded data and only fits in `extrapolate`")
            }
            LocalTimeInGap { zone } => {
                format!("this local time does not exist in {zone}: clocks skip it")
            }
            MalformedTimestamp { reason } => format!("malformed timestamp: {reason}"),
            MeasureTypeConflict {
                measure,
                table,
                ty,
                first_ty,
                ..
            } => format!(
                "measure `{measure}` of table `{table}` is written as {} here and as {} elsewhere",
                ty.name(),
                first_ty.name()
            ),
            MissingClause {
                statement, clause, ..
            } => {
                let clause = clause.to_string();
                format!("`{statement}` needs {} `{clause}` clause", article(&clause))
            }
            MissingComma { list } => {
                format!("names in `{}` need commas between them", list.clause())
            }
            MissingOpenBrace => "this statement's block has no `{`".into(),
            MissingParameter { owner, name, .. } => {
                format!("`{owner}` needs the parameter `{name}`")
            }
            MissingPer => "a drift's `rate` needs `per D`: how much per how long".into(),
            MissingScenario => "the file has no `scenario` statement".into(),
            MixedRange => "this range mixes `now` with an absolute time".into(),
            ModelNotSummable { ty } => {
                format!("terms of a {} measure cannot be added", ty.name())
            }
            NameTooLong {
                kind,
                name,
                bytes,
                max,
                by,
            } => {
                let shown: String = name.chars().take(24).collect();
                format!("{kind} name `{shown}...` is {bytes} bytes; {by} allows {max}")
            }
            NotAManifest => "an `unload` source names the export's `..._manifest.json` file".into(),
            NotPositive { what } => format!("`{what}` must be greater than zero"),
            NotUtf8 => "the file is not UTF-8 text".into(),
            NumberOutOfRange => "number is out of range".into(),
            OffsetDisagreesWithZone {
                zone,
                given,
                expected,
            } => format!("offset {given} disagrees with {zone}, which is at {expected} then"),
            OverlappingAnomalies { .. } => {
                "this anomaly overlaps another one on the same series and measure".into()
            }
            ParameterOutOfRange {
                name,
                value,
                constraint,
            } => format!("`{name}` is {value}, but it must be {constraint}"),
            PositionalArgument { term, .. } => format!("`{term}` takes named arguments"),
            RelativeWindow { clause } => {
                format!("a `{clause}` range selects recorded data, so it takes absolute times")
            }
            ReservedName {
                kind,
                name,
                reason,
                by,
            } => {
                format!("{kind} name `{name}` is refused by {by}: {reason}")
            }
            ScenarioNotFirst { .. } => "`scenario` must be the first statement".into(),
            SeedOutOfRange => "seed must be a whole number from 0 to 18446744073709551615".into(),
            SharedTargetTable { target, .. } => {
                format!("two tables write into the target table `{target}`")
            }
            SourceColumnMissing {
                column, file, from, ..
            } => match from {
                ColumnsFrom::Header => {
                    format!("column `{column}` is not in the header of `{file}`")
                }
                ColumnsFrom::ExportMetadata => {
                    format!(
                        "column `{column}` is not among the columns the export's metadata names"
                    )
                }
                ColumnsFrom::JsonFields { lines } => format!(
                    "no object in the first {lines} lines of `{file}` has a field `{column}`"
                ),
            },
            SourceFileMissing { path, .. } => format!("source file `{path}` does not exist"),
            SeriesRangeBackwards { range } => {
                format!("the range `{range}` counts down")
            }
            SeriesValueWithoutDimension { values, .. } => format!(
                "a `series` clause gives each dimension one value; `{}` names no dimension",
                values.last().map(String::as_str).unwrap_or_default()
            ),
            Syntax {
                expected, found, ..
            } => {
                format!("expected {}, found {found}", one_of(expected))
            }
            TooManySeries { count, limit } => {
                // The product saturates: u64::MAX means at least that many.
                let count = if *count == u64::MAX {
                    format!("at least {count}")
                } else {
                    count.to_string()
                };
                format!("this clause declares {count} series; one clause may declare up to {limit}")
            }
            TableUnused { table } => format!("no step writes into table `{table}`"),
            AnomalyNoEffect {
                table,
                cause: NoEffectCause::NoSeries,
            } => format!(
                "this anomaly does nothing: its `where` matches no series of table `{table}`"
            ),
            AnomalyNoEffect {
                table,
                cause: NoEffectCause::OutsideRecords,
            } => format!(
                "this anomaly does nothing: its window lies outside every record of table `{table}`"
            ),
            WhereSelectsNothing { step, source } => {
                format!(
                    "this `{step}` writes nothing: its `where` selects no row of source `{source}`"
                )
            }
            WindowHoldsNoRows { source } => {
                format!(
                    "this `replay` writes nothing: its `window` holds no row of source `{source}`"
                )
            }
            SourceHoldsNoRows {
                source,
                bad_rows: 0,
            } => format!("this `replay` writes nothing: source `{source}` holds no row"),
            SourceHoldsNoRows { source, bad_rows } => format!(
                "this `replay` writes nothing: source `{source}` holds no good row ({bad_rows} bad skipped)"
            ),
            SetNoEffect { dimension, value } => format!(
                "this `set` does nothing: every record of the step already has `{dimension}` = \"{value}\""
            ),
            TermTypeMismatch { term, ty, .. } => {
                format!("`{term}` does not fit a {} measure", ty.name())
            }
            TimeTooFarFromNow { written } => {
                format!("`{written}` is more than 100 years (36525d) from `now`")
            }
            TimestampOutOfRange => "time is out of range (years 1678 to 2261)".into(),
            TooManyDimensions { table, count } => {
                format!("table `{table}` gets {count} dimensions; Timestream allows 128")
            }
            TooManyMeasureNames {
                table,
                count,
                max,
                multi,
            } => format!(
                "table `{table}` gets {count} measure names; Timestream allows {max} in a table of {}",
                if *multi {
                    "multi-measure records"
                } else {
                    "single-measure records"
                }
            ),
            TooManyMeasuresPerRecord { table, count, max } => format!(
                "table `{table}` gets {count} measures, and a multi-measure record holds them all; Timestream allows {max} in one record"
            ),
            UnclosedBlock { .. } => "this block is never closed".into(),
            UnexpectedPer { name } => format!("`{name}` takes no `per`"),
            UnknownAnomalyKind { kind, .. } => format!("unknown anomaly kind `{kind}`"),
            UnknownClause {
                statement, clause, ..
            } => format!("unknown clause `{clause}` in `{statement}`"),
            UnknownName { kind, name, .. } => format!("unknown {kind} `{name}`"),
            UnknownParameter { owner, name, .. } => {
                format!("`{owner}` has no parameter `{name}`")
            }
            UnknownStatement { word, .. } => format!("unknown statement `{word}`"),
            UnknownTerm { term, .. } => format!("unknown model term `{term}`"),
            UnknownTimeZone { zone, .. } => format!("unknown time zone `{zone}`"),
            UnknownWord { what, word, .. } => format!("unknown {what} `{word}`"),
            UnmatchedBrace => "this `}` closes no block".into(),
            UnterminatedString => "string is never closed".into(),
            WrongParameterType {
                name,
                expected,
                found,
                ..
            } => format!("`{name}` takes {expected}, not {found}"),
        }
    }

    /// The text under the primary span.
    pub fn label(&self) -> String {
        match self {
            DuplicateClause { .. } | DuplicateName { .. } | DuplicateParameter { .. } => {
                "defined again here".into()
            }
            DuplicateSeries { .. } | DuplicateStatement { .. } => "given again here".into(),
            OverlappingAnomalies { .. } => "this anomaly".into(),
            Syntax { expected, .. } => format!("expected {}", one_of(expected)),
            UnknownName { kind, .. } => format!("no {kind} has this name"),
            SourceColumnMissing { .. } => "not a column of the file".into(),
            UnclosedBlock { .. } => "opened here".into(),
            UnterminatedString => "string starts here".into(),
            MissingComma { .. } => "a comma is missing before this".into(),
            SharedTargetTable { .. } => "the second table".into(),
            MissingOpenBrace => "`{` expected here".into(),
            MissingScenario => "the file starts here".into(),
            ScenarioNotFirst { .. } => "too late".into(),
            ConfigMissingKey { key, .. } => format!("this API needs `{key}`"),
            ConfigKeyNotForApi { api, .. } => format!("not used with `api: {api}`"),
            _ => "here".into(),
        }
    }

    /// Secondary labels.
    pub fn related(&self) -> Vec<(Span, String)> {
        match self {
            DuplicateClause { first, .. }
            | DuplicateName { first, .. }
            | DuplicateParameter { first, .. }
            | DuplicateSeries { first }
            | DuplicateStatement { first, .. } => vec![(*first, "first given here".into())],
            DimensionIsMeasure { measure, .. } => vec![(*measure, "the measure".into())],
            SharedTargetTable { first, .. } => vec![(*first, "the first table".into())],
            MeasureTypeConflict {
                first, first_ty, ..
            } => vec![(*first, format!("written as {} here", first_ty.name()))],
            OverlappingAnomalies { other } => vec![(*other, "overlaps this one".into())],
            ScenarioNotFirst { first_statement } => {
                vec![(*first_statement, "the first statement".into())]
            }
            _ => vec![],
        }
    }

    pub fn help(&self) -> Option<String> {
        let did_you_mean = |s: &Option<String>| s.as_ref().map(|s| format!("did you mean `{s}`?"));
        let text = match self {
            AnchorDependentAnomaly { .. } => "which records it touches then depends on the anchor, and the plan cannot show it; place the anomaly and the step alike, or shift the step to `now`".into(),
            AnomalyNeedsMeasure { kind } => {
                format!("name the measure after the table, as in `anomaly {kind} on telemetry.temperature`")
            }
            AnomalyOnWholeRecords { .. } => {
                "drop `.MEASURE`: name only the table, and narrow the series with `where`".into()
            }
            AnomalyTypeMismatch { .. } => {
                "use `flatline` or `dropout` on this measure, or pick a double or bigint measure"
                    .into()
            }
            BadEscape { .. } => {
                "strings know `\\\"`, `\\\\`, `\\n`, `\\t` and `\\u{1F600}`; write `\\\\` for a backslash".into()
            }
            BadTimeFormat { .. } => {
                "use chrono's strftime directives, such as `%Y-%m-%d %H:%M:%S`".into()
            }
            ClampRange { .. } => "write the lower bound first: `clamp LO .. HI`".into(),
            BadDialectCharacter { clause, .. } => {
                format!("write one character, as in `{clause} \";\"` (a tab is `\"\\t\"`)")
            }
            ColumnNameRefused {
                column, suggestion, ..
            } => format!("rename it in the table: `{column:?} as {suggestion}`"),
            DialectNotForJsonl { clause } => format!("remove `{clause}`"),
            SourceMeasureType { problem, .. } => problem.help(),
            SourceColumnMissing {
                columns,
                suggestion,
                ..
            } => {
                const LISTED: usize = 20;
                let mut listed = columns
                    .iter()
                    .take(LISTED)
                    .map(|c| format!("`{c}`"))
                    .collect::<Vec<_>>()
                    .join(", ");
                if columns.len() > LISTED {
                    listed.push_str(&format!(" and {} more", columns.len() - LISTED));
                }
                match suggestion {
                    Some(near) => format!("did you mean `{near}`? the file's columns are {listed}"),
                    None => format!("name one of the file's columns: {listed}"),
                }
            }
            RedactNotText { .. } => "redact dimension columns and varchar measure columns only: pseudonyms are text".into(),
            ClampType { .. } => "remove `clamp`: only double and bigint measures can be clamped".into(),
            ConfigInvalid { suggestion, .. } => return suggestion.clone(),
            ConfigKeyNotForApi { key, instead, .. } => format!("remove `{key}`; {instead}"),
            ConfigMissingKey { key, example, .. } => {
                format!("add `{key}: {example}` under the target")
            }
            ConfigUnsetVariable { name } => {
                format!("set it (`export {name}=...`), or write the value into the file")
            }
            DimensionIsMeasure { .. } => {
                "rename one of them: Timestream refuses a dimension named like a measure".into()
            }
            DuplicateClause {
                clause: Clause::Where,
                ..
            } => {
                "join the conditions in one clause with `and`".into()
            }
            DuplicateClause { .. } => "keep one of them".into(),
            DuplicateName { .. } => "rename one of them or remove the second".into(),
            DuplicateParameter { .. } => "keep one of them".into(),
            DuplicateSeries { .. } => "give each series its own dimension values".into(),
            DuplicateStatement { .. } => "keep one of them".into(),
            DurationOutOfRange => "use a smaller duration".into(),
            EmptyWindow { .. } => "the end must be after the start: ranges hold `start <= t < end`".into(),
            ExtrapolateShift { reason } => reason.clone(),
            LearnedTermOutsideExtrapolate { .. } => {
                "use `extrapolate SOURCE.MEASURE into TABLE { ... model ... }`, or a synthetic term such as `sine` or `constant`".into()
            }
            LocalTimeInGap { .. } => {
                "drop the offset (the time then moves forward by the gap), or pick a time outside the gap".into()
            }
            MalformedTimestamp { .. } => {
                "write RFC 3339, such as `2024-03-12T08:00:00Z` or `2024-03-12T08:00+01:00`, or local time with a zone: `2024-03-12T08:00[Europe/Oslo]`".into()
            }
            MeasureTypeConflict { .. } => {
                "a Timestream measure has one type per table: declare both the same, or write one into another table".into()
            }
            MissingClause { example, .. } => format!("add it, for example `{example}`"),
            MissingComma { list } => match list {
                List::Series | List::Set => {
                    format!("write `{} a = \"x\", b = \"y\"`", list.clause())
                }
                List::Dimensions | List::Measures => format!("write `{} a, b`", list.clause()),
            },
            MissingOpenBrace => "add `{` at the end of this line".into(),
            MissingParameter { example, .. } => format!("for example `{example}`"),
            MissingPer => "for example `rate 0.5 per 1h`".into(),
            MissingScenario => "start the file with a title: `scenario \"What this test checks\"`".into(),
            MixedRange => {
                "write both ends relative to `now` (`from now - 1h to now + 1h`) or both as instants".into()
            }
            ModelNotSummable { .. } => "keep one term: only double and bigint models are sums".into(),
            NameTooLong { .. } => "use a shorter name".into(),
            NotAManifest => {
                "point at the manifest UNLOAD wrote, such as `exports/run1_manifest.json`, or use `csv` for a single file".into()
            }
            NotPositive { what } => match what {
                Positive::Speed => "use a factor above 0, such as `speed 2` (twice as fast)".into(),
                Positive::Param(name) => format!("use a positive duration, such as `{name}: 24h`"),
                Positive::Clause(word) => format!("use a positive duration, such as `{word} 1m`"),
            },
            NotUtf8 => "save the file as UTF-8; the first bad byte is marked".into(),
            NumberOutOfRange => "use a smaller number: a double fits a 64-bit float, a bigint a 64-bit integer (±9223372036854775807)".into(),
            OffsetDisagreesWithZone { expected, .. } => {
                format!("write the offset {expected}, or drop the offset and keep the zone")
            }
            OverlappingAnomalies { .. } => {
                "both apply in file order; if that is not what you want, move one window".into()
            }
            ParameterOutOfRange { .. } => return None,
            PositionalArgument { example, .. } => format!("name each argument: `{example}`"),
            RelativeWindow { .. } => {
                "write recorded instants such as `2024-03-12T00:00Z`; to move data to `now`, add `shift end to now`".into()
            }
            ReservedName {
                kind: NameKind::Table,
                ..
            } => "name the target table in the declaration: `table t { name \"e2e_telemetry\" }`".into(),
            ReservedName { .. } => "rename it".into(),
            ScenarioNotFirst { .. } => "move `scenario \"...\"` to the top of the file".into(),
            SeedOutOfRange => "use a value such as `seed 42`".into(),
            SharedTargetTable { .. } => {
                "give each table its own target name, or write both steps into one table".into()
            }
            SourceFileMissing { resolved, .. } => format!(
                "paths are relative to the scenario file; looked for `{resolved}`"
            ),
            SeriesRangeBackwards { .. } => {
                "write the smaller number first: `{1..10}`".into()
            }
            SeriesValueWithoutDimension {
                dimension,
                first,
                values,
            } => {
                let clauses: Vec<String> = std::iter::once(first)
                    .chain(values)
                    .map(|v| format!("`series {dimension} = {v}`"))
                    .collect();
                format!(
                    "declare one series per clause: {}; numbered series fit one clause: `series {dimension} = \"sim-{{001..100}}\"`",
                    clauses.join(", ")
                )
            }
            Syntax { hint: None, .. } => return None,
            Syntax { hint: Some(hint), .. } => hint.help(),
            TooManySeries { limit, .. } => format!(
                "split the ranges over several `series` clauses of at most {limit} series each"
            ),
            TableUnused { .. } => "add a `replay`, `generate` or `extrapolate` into it, or remove it".into(),
            AnomalyNoEffect {
                cause: NoEffectCause::NoSeries,
                ..
            } => "compare its `where` with the series the plan lists for the table (`outatime plan`); a test whose fault hits nothing passes for the wrong reason".into(),
            AnomalyNoEffect {
                cause: NoEffectCause::OutsideRecords,
                ..
            } => "move `at` into the time the table's records span (`outatime check --explain` draws both), or widen `for`".into(),
            WhereSelectsNothing { .. } => "compare the `where` values with the source's (they are compared exactly, case included)".into(),
            WindowHoldsNoRows { .. } => "move the window onto the source's recorded time, or drop it to replay every record".into(),
            SourceHoldsNoRows { bad_rows: 0, .. } => "give the source rows (a CSV with only its header, or an UNLOAD manifest listing no result file, holds none), or drop the replay".into(),
            SourceHoldsNoRows { .. } => "fix the source's rows: `--max-bad-rows` skipped every one".into(),
            SetNoEffect { .. } => "drop the assignment, or set another value (to clone a series, give it a new one)".into(),
            TermTypeMismatch { fits, .. } => {
                let fits: Vec<&str> = fits.iter().map(|t| t.name()).collect();
                format!("this term fits {} measures", fits.join(", "))
            }
            TimeTooFarFromNow { .. } => "bring it within 100 years of `now` (every anchor from 1778 to 2161 then places it: instants end in 2262 and begin in 1677), or write an instant such as `2200-01-01T00:00Z`".into(),
            TimestampOutOfRange => "use a time between 1678 and 2261".into(),
            TooManyDimensions { .. } => "write fewer dimensions into this table".into(),
            TooManyMeasureNames { multi: true, .. } => "use `layout single` in the table's declaration (up to 8192 measure names), write fewer measures into this table, or split it into several tables".into(),
            TooManyMeasureNames { multi: false, .. } => "write fewer measures into this table, or split it into several tables".into(),
            TooManyMeasuresPerRecord { .. } => "use `layout single` in the table's declaration (one record a measure), write fewer measures into this table, or split it into several tables".into(),
            UnclosedBlock { .. } => "add `}` at the end of the block".into(),
            UnexpectedPer { .. } => "remove `per ...`: only `drift` takes `rate X per D`".into(),
            UnknownAnomalyKind { suggestion, .. } => did_you_mean(suggestion).unwrap_or_else(|| {
                "kinds: `spike`, `offset`, `scale`, `drift`, `flatline`, `noise`, `clip`, `outliers`, `dropout`, `late`".into()
            }),
            UnknownClause {
                suggestion,
                allowed,
                ..
            } => did_you_mean(suggestion)
                .unwrap_or_else(|| format!("clauses here: {}", backticked(allowed))),
            UnknownName {
                suggestion, known, kind, ..
            } => did_you_mean(suggestion).unwrap_or_else(|| {
                if known.is_empty() {
                    format!("no {kind} is declared with this name")
                } else {
                    format!("known: {}", backticked(known))
                }
            }),
            UnknownParameter {
                suggestion,
                allowed,
                ..
            } => did_you_mean(suggestion).unwrap_or_else(|| {
                if allowed.is_empty() {
                    "remove it: this takes no parameters".into()
                } else {
                    format!("parameters: {}", backticked(allowed))
                }
            }),
            UnknownStatement { suggestion, .. } => did_you_mean(suggestion).unwrap_or_else(|| {
                "statements: `scenario`, `seed`, `anchor`, `source`, `table`, `replay`, `generate`, `extrapolate`, `anomaly`".into()
            }),
            UnknownTerm { suggestion, .. } => did_you_mean(suggestion).unwrap_or_else(|| {
                "terms: `constant`, `ramp`, `sine`, `square`, `random_walk`, `noise`, `uniform`, `bernoulli`, `choice`, `seasonal`, `trend`, `last`, `mean`".into()
            }),
            UnknownTimeZone {
                zone,
                abbreviation_of,
                ..
            } if !abbreviation_of.is_empty() => format!(
                "`{zone}` is an abbreviation, not a zone; use the IANA zone of the place, such as {}",
                backticked(abbreviation_of)
            ),
            UnknownTimeZone { suggestion, .. } => did_you_mean(suggestion)
                .unwrap_or_else(|| "use an IANA name such as `Europe/Oslo` or `UTC`".into()),
            UnknownWord {
                suggestion,
                allowed,
                ..
            } => did_you_mean(suggestion).unwrap_or_else(|| format!("use one of {}", backticked(allowed))),
            UnmatchedBrace => "remove it, or add the `{` it should close".into(),
            UnterminatedString => "add `\"` at the end of the string, on the same line".into(),
            WrongParameterType { expected, .. } => format!("write {expected}"),
        };
        Some(text)
    }
}

impl DiagnosticCode {
    /// The stable part after `outatime::`: the one place a kind is mapped
    /// to its code, for `DiagnosticKind::code` and for the list of codes.
    pub fn as_str(self) -> &'static str {
        match self {
            DiagnosticCode::AnchorDependentAnomaly => "anomaly::anchor_dependent",
            DiagnosticCode::AnomalyNeedsMeasure => "anomaly::needs_measure",
            DiagnosticCode::AnomalyOnWholeRecords => "anomaly::whole_records",
            DiagnosticCode::AnomalyTypeMismatch => "anomaly::type_mismatch",
            DiagnosticCode::BadDialectCharacter => "source::bad_dialect_character",
            DiagnosticCode::BadEscape => "syntax::bad_escape",
            DiagnosticCode::BadTimeFormat => "source::bad_time_format",
            DiagnosticCode::ClampRange => "model::clamp_range",
            DiagnosticCode::ClampType => "model::clamp_type",
            DiagnosticCode::ColumnNameRefused => "name::column_refused",
            DiagnosticCode::ConfigInvalid => "config::invalid",
            DiagnosticCode::ConfigKeyNotForApi => "config::key_not_for_api",
            DiagnosticCode::ConfigMissingKey => "config::missing_key",
            DiagnosticCode::ConfigUnsetVariable => "config::unset_variable",
            DiagnosticCode::DialectNotForJsonl => "source::dialect_not_for_jsonl",
            DiagnosticCode::DimensionIsMeasure => "name::dimension_is_measure",
            DiagnosticCode::DuplicateClause => "clause::duplicate",
            DiagnosticCode::DuplicateName => "name::duplicate",
            DiagnosticCode::DuplicateParameter => "param::duplicate",
            DiagnosticCode::DuplicateSeries => "generate::duplicate_series",
            DiagnosticCode::DuplicateStatement => "statement::duplicate",
            DiagnosticCode::DurationOutOfRange => "duration::out_of_range",
            DiagnosticCode::EmptyWindow => "window::empty",
            DiagnosticCode::ExtrapolateShift => "extrapolate::shift",
            DiagnosticCode::LearnedTermOutsideExtrapolate => "model::learned_term",
            DiagnosticCode::LocalTimeInGap => "time::in_gap",
            DiagnosticCode::MalformedTimestamp => "time::malformed",
            DiagnosticCode::MeasureTypeConflict => "table::measure_type_conflict",
            DiagnosticCode::MissingClause => "clause::missing",
            DiagnosticCode::MissingComma => "syntax::missing_comma",
            DiagnosticCode::MissingOpenBrace => "syntax::missing_open_brace",
            DiagnosticCode::MissingParameter => "param::missing",
            DiagnosticCode::MissingPer => "param::missing_per",
            DiagnosticCode::MissingScenario => "scenario::missing",
            DiagnosticCode::MixedRange => "window::mixed",
            DiagnosticCode::ModelNotSummable => "model::not_summable",
            DiagnosticCode::NameTooLong => "name::too_long",
            DiagnosticCode::NotAManifest => "source::not_a_manifest",
            DiagnosticCode::NotPositive => "value::not_positive",
            DiagnosticCode::NotUtf8 => "file::not_utf8",
            DiagnosticCode::NumberOutOfRange => "number::out_of_range",
            DiagnosticCode::OffsetDisagreesWithZone => "time::offset_mismatch",
            DiagnosticCode::OverlappingAnomalies => "anomaly::overlap",
            DiagnosticCode::ParameterOutOfRange => "param::out_of_range",
            DiagnosticCode::PositionalArgument => "param::positional",
            DiagnosticCode::RedactNotText => "source::redact_not_text",
            DiagnosticCode::RelativeWindow => "window::relative",
            DiagnosticCode::ReservedName => "name::reserved",
            DiagnosticCode::ScenarioNotFirst => "scenario::not_first",
            DiagnosticCode::SeedOutOfRange => "seed::out_of_range",
            DiagnosticCode::SeriesRangeBackwards => "generate::range_backwards",
            DiagnosticCode::SeriesValueWithoutDimension => "generate::value_without_dimension",
            DiagnosticCode::SharedTargetTable => "table::shared_target",
            DiagnosticCode::SourceColumnMissing => "source::column_missing",
            DiagnosticCode::SourceFileMissing => "source::file_missing",
            DiagnosticCode::SourceHoldsNoRows => "source::no_rows",
            DiagnosticCode::SourceMeasureType => "source::measure_type",
            DiagnosticCode::Syntax => "syntax::unexpected",
            DiagnosticCode::TableUnused => "table::unused",
            DiagnosticCode::TermTypeMismatch => "model::type_mismatch",
            DiagnosticCode::TimeTooFarFromNow => "time::too_far_from_now",
            DiagnosticCode::TimestampOutOfRange => "time::out_of_range",
            DiagnosticCode::TooManyDimensions => "name::too_many_dimensions",
            DiagnosticCode::TooManySeries => "generate::too_many_series",
            DiagnosticCode::TooManyMeasureNames => "table::too_many_measure_names",
            DiagnosticCode::TooManyMeasuresPerRecord => "table::too_many_measures_per_record",
            DiagnosticCode::UnclosedBlock => "syntax::unclosed_block",
            DiagnosticCode::UnexpectedPer => "param::unexpected_per",
            DiagnosticCode::UnknownAnomalyKind => "anomaly::unknown_kind",
            DiagnosticCode::UnknownClause => "clause::unknown",
            DiagnosticCode::UnknownName => "name::unknown",
            DiagnosticCode::UnknownParameter => "param::unknown",
            DiagnosticCode::UnknownStatement => "statement::unknown",
            DiagnosticCode::UnknownTerm => "model::unknown_term",
            DiagnosticCode::UnknownTimeZone => "time::unknown_zone",
            DiagnosticCode::UnknownWord => "word::unknown",
            DiagnosticCode::UnmatchedBrace => "syntax::unmatched_brace",
            DiagnosticCode::UnterminatedString => "syntax::unterminated_string",
            DiagnosticCode::WrongParameterType => "param::wrong_type",
            DiagnosticCode::AnomalyNoEffect => "anomaly::no_effect",
            DiagnosticCode::WhereSelectsNothing => "where::selects_nothing",
            DiagnosticCode::WindowHoldsNoRows => "window::no_rows",
            DiagnosticCode::SetNoEffect => "set::no_effect",
        }
    }
}

/// Where `check` read a source file's columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnsFrom {
    /// A CSV file's first row.
    Header,
    /// An UNLOAD export's `*_metadata.json`.
    ExportMetadata,
    /// The fields of a JSON lines file's first objects.
    JsonFields { lines: u64 },
}

/// What a syntax error probably meant, told in its help.
#[derive(Clone, Debug, PartialEq)]
pub enum SyntaxHint {
    /// `1min`, `2.5h`, `1 m`: a duration the language writes as `rewrite`
    /// (`1m`, `2h30m`).
    Duration { rewrite: String },
}

impl SyntaxHint {
    fn help(&self) -> String {
        match self {
            SyntaxHint::Duration { rewrite } => format!(
                "write `{rewrite}`: a duration is whole numbers with units `ms`, `s`, `m`, `h`, `d`, `w`, no spaces"
            ),
        }
    }
}

/// Why a source's measure has no type, or a type that does not hold.
#[derive(Clone, Debug, PartialEq)]
pub enum MeasureTypeProblem {
    /// A `csv` or `jsonl` source: nothing else knows the type.
    NotWritten,
    /// An `unload` export without a `*_metadata.json` beside its manifest.
    NoMetadata,
    /// The export's metadata does not list the column.
    NotInMetadata,
    /// The metadata's type (`TIMESTAMP`, `ARRAY`, ...) is not a measure's.
    NotAMeasureType { export: String },
    /// The scenario says one type, the export's metadata another.
    Disagrees {
        written: MeasureType,
        export: String,
    },
    /// The export (its manifest or metadata) cannot be read; `help` is the
    /// reader's advice, when it has one.
    MetadataUnreadable {
        reason: String,
        help: Option<String>,
    },
}

impl MeasureTypeProblem {
    fn message(&self, column: &str) -> String {
        match self {
            MeasureTypeProblem::NotWritten => format!("measure `{column}` has no type"),
            MeasureTypeProblem::NoMetadata => format!(
                "measure `{column}` has no type, and the export has no metadata file to take it from"
            ),
            MeasureTypeProblem::NotInMetadata => format!(
                "measure `{column}` has no type, and the export's metadata does not list the column"
            ),
            MeasureTypeProblem::NotAMeasureType { export } => format!(
                "measure `{column}` has no type, and the export's metadata says {export}, which no measure can be"
            ),
            MeasureTypeProblem::Disagrees { written, export } => format!(
                "measure `{column}` is {} here, but the export's metadata says {export}",
                written.name()
            ),
            MeasureTypeProblem::MetadataUnreadable { reason, .. } => {
                format!("a measure's type is left to the export, which cannot be read: {reason}")
            }
        }
    }

    fn help(&self) -> String {
        match self {
            MeasureTypeProblem::Disagrees { .. } => {
                "write the export's type, or leave the type out to take it from the export".into()
            }
            MeasureTypeProblem::MetadataUnreadable { help, .. } => match help {
                Some(help) => format!("{help}; or write every measure's type"),
                None => "write every measure's type, or fix the export".into(),
            },
            _ => "write the type after the name: `double`, `bigint`, `boolean` or `varchar`".into(),
        }
    }
}

/// "a" or "an" before a word, by its first letter.
fn article(word: &str) -> &'static str {
    match word.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u') => "an",
        _ => "a",
    }
}

/// "`a`, `b` or `c`".
fn one_of(items: &[String]) -> String {
    match items {
        [] => "something else".into(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

fn backticked(items: &[String]) -> String {
    items
        .iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
