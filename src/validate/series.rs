//! A `generate`'s `series` clauses → the series they declare: `{A..B}`
//! ranges expanded (`lang::series_range`), each series kept once, a series
//! declared twice reported once per clause. Found by lookup, not by scanning,
//! so 100,000 series cost no more than reading them. A clause is counted
//! before it is expanded, against its own limit and the scenario's.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use super::Validator;
use crate::diagnostics::kind;
use crate::lang::ast::{Assignment, Span};
use crate::lang::series_range::{self, MAX_SERIES_PER_CLAUSE, RangeProblem};
use crate::model::SeriesClause;

/// How many series the `generate` steps of one scenario may declare
/// together: `check` and the compiler hold each in memory (about 1 KB
/// each), so 30 clauses of 100,000 would take gigabytes.
pub(crate) const MAX_SERIES_PER_SCENARIO: u64 = 100_000;

/// The series of one `generate`, in declaration order, and where each was
/// declared.
#[derive(Default)]
pub(super) struct DeclaredSeries {
    pub series: Vec<BTreeMap<String, String>>,
    /// The clauses that made them, as written.
    pub clauses: Vec<SeriesClause>,
    declared_at: BTreeMap<BTreeMap<String, String>, Span>,
}

impl Validator<'_> {
    /// Adds the series of one clause, whose dimensions and values are
    /// `values` (duplicate dimensions already reported and left out);
    /// false when the clause is in error.
    pub(super) fn series_clause(
        &mut self,
        declared: &mut DeclaredSeries,
        assignments: &[Assignment],
        values: &BTreeMap<String, String>,
        span: Span,
    ) -> bool {
        // Written order, for the order of the product; first occurrences only.
        let mut dimensions: Vec<&str> = Vec::new();
        for a in assignments {
            let name = a.dimension.value.as_str();
            if values.contains_key(name) && !dimensions.contains(&name) {
                dimensions.push(name);
            }
        }
        let texts: Vec<&str> = dimensions.iter().map(|d| values[*d].as_str()).collect();
        let count = match series_range::count(texts.iter().copied()) {
            Ok(count) => count,
            Err(RangeProblem::Backwards { written }) => {
                let at = assignments
                    .iter()
                    .find(|a| a.value.value.contains(&written))
                    .map_or(span, |a| a.value.span);
                self.report(kind::SeriesRangeBackwards { range: written }, at);
                return false;
            }
            Err(RangeProblem::TooMany { count }) => {
                let kind = kind::TooManySeries {
                    count,
                    limit: MAX_SERIES_PER_CLAUSE,
                    scope: kind::SeriesScope::Clause,
                };
                self.report(kind, span);
                return false;
            }
        };
        // Counted before anything is expanded: past the limit, this clause
        // is refused (and said, when it is the one that crosses it), and
        // every later one is refused too, without a word more.
        let before = self.series_declared;
        self.series_declared = before.saturating_add(count);
        if self.series_declared > MAX_SERIES_PER_SCENARIO {
            if before <= MAX_SERIES_PER_SCENARIO {
                let kind = kind::TooManySeries {
                    count,
                    limit: MAX_SERIES_PER_SCENARIO,
                    scope: kind::SeriesScope::Scenario { before },
                };
                self.report(kind, span);
            }
            return false;
        }
        let mut ok = true;
        for row in series_range::expand(&texts) {
            let one: BTreeMap<String, String> =
                dimensions.iter().map(|d| d.to_string()).zip(row).collect();
            match declared.declared_at.entry(one.clone()) {
                Entry::Occupied(first) => {
                    if ok {
                        let kind = kind::DuplicateSeries {
                            first: *first.get(),
                        };
                        self.report(kind, span);
                        ok = false;
                    }
                }
                Entry::Vacant(slot) => {
                    slot.insert(span);
                    declared.series.push(one);
                }
            }
        }
        if ok {
            declared.clauses.push(SeriesClause {
                written: dimensions
                    .iter()
                    .zip(&texts)
                    .map(|(d, v)| (d.to_string(), v.to_string()))
                    .collect(),
                ranged: texts.iter().any(|v| !series_range::ranges(v).is_empty()),
                count: usize::try_from(count).unwrap_or(usize::MAX),
            });
        }
        ok
    }
}
