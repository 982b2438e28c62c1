//! `expect` blocks: what the query, its window, its condition and its
//! timing may say (docs/expect.md).

use super::facts::{Facts, backticked, did_you_mean};
use crate::diagnostics::span::Span;

/// `window anomaly door_warmp`, `firing within 5m of anomaly x`: no
/// anomaly has this name.
#[derive(Clone, Debug, PartialEq)]
pub struct UnknownAnomalyName {
    pub name: String,
    pub suggestion: Option<String>,
    /// The names given with `as`.
    pub named: Vec<String>,
}

impl Facts for UnknownAnomalyName {
    const CODE: &'static str = "expect::unknown_anomaly";

    fn message(&self) -> String {
        format!("no anomaly is named `{}`", self.name)
    }

    fn label(&self) -> String {
        "named nowhere with `as`".into()
    }

    fn help(&self) -> Option<String> {
        Some(did_you_mean(&self.suggestion).unwrap_or_else(|| {
            if self.named.is_empty() {
                format!(
                    "name the anomaly after its kind: `anomaly drift as {} on telemetry.temperature {{ ... }}`",
                    self.name
                )
            } else {
                format!("named anomalies: {}", backticked(&self.named))
            }
        }))
    }
}

/// `query flux "..."`, `query sqll "..."`.
#[derive(Clone, Debug, PartialEq)]
pub struct UnknownDialect {
    pub dialect: String,
    pub suggestion: Option<String>,
}

impl Facts for UnknownDialect {
    const CODE: &'static str = "expect::unknown_dialect";

    fn message(&self) -> String {
        format!("unknown query dialect `{}`", self.dialect)
    }

    fn help(&self) -> Option<String> {
        Some(did_you_mean(&self.suggestion).unwrap_or_else(|| {
            "dialects: `influxql` (InfluxDB's /query) and `sql` (Timestream's Query API, InfluxDB 3's /api/v3/query_sql)".into()
        }))
    }
}

/// `query sql "..."` checked for an InfluxDB target (`check --target`).
#[derive(Clone, Debug, PartialEq)]
pub struct DialectNotForTarget {
    pub dialect: String,
    /// "InfluxDB", "Timestream", "the file target".
    pub target: String,
    pub supported: Vec<String>,
}

impl Facts for DialectNotForTarget {
    const CODE: &'static str = "expect::dialect_not_for_target";

    fn message(&self) -> String {
        format!("{} cannot run `{}` queries", self.target, self.dialect)
    }

    fn help(&self) -> Option<String> {
        Some(if self.supported.is_empty() {
            format!(
                "{} cannot be queried: apply to a database target to evaluate expectations",
                self.target
            )
        } else {
            format!(
                "write the query in {}, or check against the target that runs it",
                backticked(&self.supported)
            )
        })
    }
}

/// `$tto` in a query: only `$from` and `$to` are replaced.
#[derive(Clone, Debug, PartialEq)]
pub struct UnknownPlaceholder {
    pub placeholder: String,
    pub suggestion: Option<String>,
}

impl Facts for UnknownPlaceholder {
    const CODE: &'static str = "expect::unknown_placeholder";

    fn message(&self) -> String {
        format!("unknown placeholder `${}`", self.placeholder)
    }

    fn help(&self) -> Option<String> {
        Some(
            did_you_mean(&self.suggestion.as_ref().map(|s| format!("${s}")))
                .unwrap_or_else(|| {
                    "only `$from` and `$to` are replaced (by the window's bounds); write `$$` for a `$`".into()
                }),
        )
    }
}

/// `$from` in a query of a block without `window`.
#[derive(Clone, Debug, PartialEq)]
pub struct PlaceholderWithoutWindow {
    pub placeholder: String,
}

impl Facts for PlaceholderWithoutWindow {
    const CODE: &'static str = "expect::placeholder_without_window";

    fn message(&self) -> String {
        format!(
            "`${}` needs a `window` clause to take its time from",
            self.placeholder
        )
    }

    fn help(&self) -> Option<String> {
        Some("add one, for example `window now - 1h .. now` or `window anomaly door_warmup`".into())
    }
}

/// `labels` in a query expectation, `query` in `expect alert`.
#[derive(Clone, Debug, PartialEq)]
pub struct ClauseNotForExpectation {
    pub clause: String,
    /// The block is `expect alert`.
    pub alert: bool,
}

impl Facts for ClauseNotForExpectation {
    const CODE: &'static str = "expect::clause_not_here";

    fn message(&self) -> String {
        if self.alert {
            format!("`{}` is not a clause of `expect alert`", self.clause)
        } else {
            format!(
                "`{}` belongs in `expect alert`, not in a query's expectation",
                self.clause
            )
        }
    }

    fn help(&self) -> Option<String> {
        Some(if self.alert {
            "`expect alert` takes `labels`, `firing within D [of anomaly NAME]` or `resolved within D [...]`, `count`, `never`".into()
        } else {
            "a query's expectation takes `query`, `window`, one of `value`, `rows` or `empty`, and `within`, `hold`, `never`".into()
        })
    }
}

/// `value >= 1` and `empty` in one block.
#[derive(Clone, Debug, PartialEq)]
pub struct TwoConditions {
    pub first: Span,
}

impl Facts for TwoConditions {
    const CODE: &'static str = "expect::two_conditions";

    fn message(&self) -> String {
        "an expectation has one condition".into()
    }

    fn label(&self) -> String {
        "a second condition".into()
    }

    fn related(&self) -> Vec<(Span, String)> {
        vec![(self.first, "the first".into())]
    }

    fn help(&self) -> Option<String> {
        Some("keep one, or write a second `expect` block for the other".into())
    }
}

/// `never` and `hold` in one block.
#[derive(Clone, Debug, PartialEq)]
pub struct NeverAndHold;

impl Facts for NeverAndHold {
    const CODE: &'static str = "expect::never_and_hold";

    fn message(&self) -> String {
        "`hold` asks a condition to stay true, `never` asks it never to be true".into()
    }

    fn help(&self) -> Option<String> {
        Some("keep one of them".into())
    }
}

/// `within 1m every 5m`.
#[derive(Clone, Debug, PartialEq)]
pub struct EveryPastWithin;

impl Facts for EveryPastWithin {
    const CODE: &'static str = "expect::every_past_within";

    fn message(&self) -> String {
        "`every` is longer than `within`: the condition would be asked once".into()
    }

    fn help(&self) -> Option<String> {
        Some("ask more often than the deadline, as in `within 5m every 10s`".into())
    }
}

/// `value between 5 and 2`.
#[derive(Clone, Debug, PartialEq)]
pub struct BetweenBackwards {
    /// The ends as written.
    pub low: String,
    pub high: String,
}

impl Facts for BetweenBackwards {
    const CODE: &'static str = "expect::between_backwards";

    fn message(&self) -> String {
        "the low end of `between` is above its high end".into()
    }

    fn help(&self) -> Option<String> {
        Some(format!(
            "write the lower number first: `between {} and {}`",
            self.high, self.low
        ))
    }
}

/// `value >= 1` on `SHOW TAG VALUES ...`: a statement that answers names.
#[derive(Clone, Debug, PartialEq)]
pub struct ValueWithoutNumber {
    /// The statement's words: `SHOW TAG VALUES`.
    pub statement: String,
}

impl Facts for ValueWithoutNumber {
    const CODE: &'static str = "expect::value_without_number";

    fn message(&self) -> String {
        format!(
            "`{}` answers names, never a number: `value` has nothing to compare",
            self.statement
        )
    }

    fn help(&self) -> Option<String> {
        Some(
            "test how many it answers with `rows >= 1` (or `empty`), or ask for a number: `SELECT count(...) ...`"
                .into(),
        )
    }
}
