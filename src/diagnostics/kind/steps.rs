//! Steps: the series a `generate` declares, and where an `extrapolate`
//! places what it learned.

use super::facts::Facts;
use crate::diagnostics::span::Span;

/// Two `series` clauses with the same dimension values.
#[derive(Clone, Debug, PartialEq)]
pub struct DuplicateSeries {
    pub first: Span,
}

impl Facts for DuplicateSeries {
    const CODE: &'static str = "generate::duplicate_series";

    fn message(&self) -> String {
        "this series is declared twice".into()
    }

    fn label(&self) -> String {
        "given again here".into()
    }

    fn related(&self) -> Vec<(Span, String)> {
        vec![(self.first, "first given here".into())]
    }

    fn help(&self) -> Option<String> {
        Some("give each series its own dimension values".into())
    }
}

/// `series device = "sim-{10..1}"`: a range that counts down.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesRangeBackwards {
    pub range: String,
}

impl Facts for SeriesRangeBackwards {
    const CODE: &'static str = "generate::range_backwards";

    fn message(&self) -> String {
        format!("the range `{}` counts down", self.range)
    }

    fn help(&self) -> Option<String> {
        Some("write the smaller number first: `{1..10}`".into())
    }
}

/// `series device = "a", "b"`: a value after a comma with no dimension.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesValueWithoutDimension {
    pub dimension: String,
    pub first: String,
    pub values: Vec<String>,
}

impl Facts for SeriesValueWithoutDimension {
    const CODE: &'static str = "generate::value_without_dimension";

    fn message(&self) -> String {
        format!(
            "a `series` clause gives each dimension one value; `{}` names no dimension",
            self.values.last().map(String::as_str).unwrap_or_default()
        )
    }

    fn help(&self) -> Option<String> {
        let SeriesValueWithoutDimension {
            dimension,
            first,
            values,
        } = self;
        let clauses: Vec<String> = std::iter::once(first)
            .chain(values)
            .map(|v| format!("`series {dimension} = {v}`"))
            .collect();
        Some(format!(
            "declare one series per clause: {}; numbered series fit one clause: `series {dimension} = \"sim-{{001..100}}\"`",
            clauses.join(", ")
        ))
    }
}

/// `series device = "sim-{1..1000}", port = "{1..1000}"`: more series than
/// one clause may declare; or 30 clauses of `series a = "x{0..99999}"`:
/// more than a scenario may declare, found at the clause that crosses the
/// limit, before its ranges are expanded.
#[derive(Clone, Debug, PartialEq)]
pub struct TooManySeries {
    pub count: u64,
    pub limit: u64,
    pub scope: SeriesScope,
}

/// Which limit a `series` clause goes past.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SeriesScope {
    /// One clause's own.
    Clause,
    /// The whole scenario's: `before` series were declared by the clauses
    /// above this one.
    Scenario { before: u64 },
}

impl Facts for TooManySeries {
    const CODE: &'static str = "generate::too_many_series";

    fn message(&self) -> String {
        let TooManySeries {
            count,
            limit,
            scope,
        } = *self;
        match scope {
            SeriesScope::Clause => {
                // The product saturates: u64::MAX means at least that many.
                let count = if count == u64::MAX {
                    format!("at least {count}")
                } else {
                    count.to_string()
                };
                format!("this clause declares {count} series; one clause may declare up to {limit}")
            }
            SeriesScope::Scenario { before } => format!(
                "this clause brings the scenario to {} series; a scenario may declare up to {limit}",
                before.saturating_add(count)
            ),
        }
    }

    fn help(&self) -> Option<String> {
        Some(match self.scope {
            SeriesScope::Clause => format!(
                "split the ranges over several `series` clauses of at most {} series each",
                self.limit
            ),
            SeriesScope::Scenario { before } => format!(
                "the clauses above declare {before} series and this one {}: declare fewer, or split the steps over several scenarios, each applied on its own",
                self.count
            ),
        })
    }
}

/// `shift by 1d` in an extrapolation placed `from now`.
#[derive(Clone, Debug, PartialEq)]
pub struct ExtrapolateShift {
    pub reason: String,
}

impl Facts for ExtrapolateShift {
    const CODE: &'static str = "extrapolate::shift";

    fn message(&self) -> String {
        "this shift cannot place the learned window on the schedule".into()
    }

    fn help(&self) -> Option<String> {
        Some(self.reason.clone())
    }
}
