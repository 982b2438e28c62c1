//! The small vocabulary the kinds' fields are made of, which the stages
//! that find problems build too: which kind of name, which clause, what
//! must be positive, which comma-separated list.

use std::fmt;

/// What kind of name a message is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameKind {
    Column,
    Dimension,
    Measure,
    Source,
    Table,
    Anomaly,
    Expectation,
}

impl fmt::Display for NameKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NameKind::Column => "column",
            NameKind::Dimension => "dimension",
            NameKind::Measure => "measure",
            NameKind::Source => "source",
            NameKind::Table => "table",
            NameKind::Anomaly => "anomaly",
            NameKind::Expectation => "expectation",
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
    Query,
    Value,
    Rows,
    Empty,
    Within,
    Hold,
    Never,
    Labels,
    Firing,
    Resolved,
    Count,
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
            Clause::Query => "query",
            Clause::Value => "value",
            Clause::Rows => "rows",
            Clause::Empty => "empty",
            Clause::Within => "within",
            Clause::Hold => "hold",
            Clause::Never => "never",
            Clause::Labels => "labels",
            Clause::Firing => "firing",
            Clause::Resolved => "resolved",
            Clause::Count => "count",
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
