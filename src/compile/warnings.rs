//! Warnings for what does nothing, found once the sources are read: a
//! replay's `window` or `where` that selects no row, a `set` that changes
//! no value, an anomaly that touches no record. `check` finds what the
//! scenario alone shows (`validate/anomalies.rs`); these need the data.
//!
//! They are found as data (a step's line, the clause, the kind) while
//! preparing, and pointed at their clause in the text only when shown
//! (`diagnostics`), so that the model stays free of spans.

use std::collections::{BTreeMap, BTreeSet};

use super::ListedItem;
use super::select::Selected;
use super::{CompileError, PreparedAnomaly, PreparedStep, placement, streamed};
use crate::diagnostics::kind::NoEffectCause;
use crate::diagnostics::{Diagnostic, DiagnosticKind, Span, kind};
use crate::lang::ast::{AnomalyClause, Statement, StatementKind, StepClause};
use crate::model::Step;
use crate::record::Catalog;
use crate::sources::ReadSummary;

/// Which clause a warning points at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum WarnedClause {
    /// The statement's keyword.
    Statement,
    Where,
    Window,
    /// The assignment of this dimension in `set`.
    Set(String),
    /// An anomaly's `where`.
    AnomalyWhere,
    /// An anomaly's `at`.
    AnomalyAt,
}

/// A warning found with the data: on the statement at `line`.
#[derive(Clone, Debug)]
pub struct DataWarning {
    pub(crate) line: usize,
    pub(crate) clause: WarnedClause,
    pub(crate) kind: DiagnosticKind,
}

impl DataWarning {
    /// `anomaly::no_effect`, without `outatime::`.
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }

    pub fn line(&self) -> usize {
        self.line
    }

    pub fn message(&self) -> String {
        self.kind.message()
    }
}

/// What a replay's selection shows: a source with no row, a window or a
/// `where` that holds no row, a `set` that changes no value. `read` is the
/// source's summary. (An extrapolation that learns nothing is an error,
/// `compile::nothing_learned`.)
pub(super) fn selection(
    step: &Step,
    sel: &Selected,
    read: Option<&ReadSummary>,
) -> Vec<DataWarning> {
    let Step::Replay(r) = step else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let warn = |clause, kind| DataWarning {
        line: r.line,
        clause,
        kind,
    };
    if let Some(read) = read
        && read.rows == 0
    {
        // Nothing to select from: the source, not the window, is empty.
        out.push(warn(
            WarnedClause::Statement,
            kind::SourceHoldsNoRows {
                source: r.source.clone(),
                bad_rows: read.bad_rows,
            }
            .into(),
        ));
    } else if r.window.is_some() && sel.in_window == 0 {
        out.push(warn(
            WarnedClause::Window,
            kind::WindowHoldsNoRows {
                source: r.source.clone(),
            }
            .into(),
        ));
    } else if !r.filter.conditions.is_empty() && sel.in_where == 0 {
        out.push(warn(
            WarnedClause::Where,
            kind::WhereSelectsNothing {
                step: "replay".into(),
                source: r.source.clone(),
            }
            .into(),
        ));
    }
    // A `set` is judged only on series that were selected.
    if !sel.series.is_empty() {
        for (i, (dimension, value)) in r.set.iter().enumerate() {
            if !sel.set_changes.get(i).copied().unwrap_or(false) {
                out.push(warn(
                    WarnedClause::Set(dimension.clone()),
                    kind::SetNoEffect {
                        dimension: dimension.clone(),
                        value: value.clone(),
                    }
                    .into(),
                ));
            }
        }
    }
    out
}

/// Anomalies that touch no record: their `where` matches no series of the
/// table, or no matching series has a record (carrying the anomaly's
/// measure) in the window. An anomaly placed relative to `now` on records
/// at recorded instants, or the other way round, is left to
/// `anomaly::anchor_dependent`: what it touches depends on the anchor.
pub(super) fn anomalies(
    steps: &[PreparedStep],
    anomalies: &[PreparedAnomaly],
    catalog: &Catalog,
) -> Result<Vec<DataWarning>, CompileError> {
    let mut out = Vec::new();
    for a in anomalies {
        // A table no step writes is `table::unused` already.
        if !steps.iter().any(|s| s.table() == a.table) {
            continue;
        }
        let (clause, cause) = if !a.series.iter().any(|&m| m) {
            (WarnedClause::AnomalyWhere, NoEffectCause::NoSeries)
        } else {
            match touches(steps, a)? {
                Some(false) => (WarnedClause::AnomalyAt, NoEffectCause::OutsideRecords),
                Some(true) | None => continue,
            }
        };
        out.push(DataWarning {
            line: a.line,
            clause,
            kind: kind::AnomalyNoEffect {
                table: catalog
                    .tables
                    .get(a.table as usize)
                    .map(|t| t.name.clone())
                    .unwrap_or_default(),
                cause,
            }
            .into(),
        });
    }
    Ok(out)
}

/// Whether some step's record falls under the anomaly; `None` when that
/// depends on the anchor.
fn touches(steps: &[PreparedStep], a: &PreparedAnomaly) -> Result<Option<bool>, CompileError> {
    let relative = a.at.is_relative();
    let start = placement::point(a.at);
    // i128: `at + for` may pass i64 before an anchor brings it back.
    let end = a.length.map(|l| i128::from(start) + i128::from(l));
    let inside = |t: i64| t >= start && end.is_none_or(|e| i128::from(t) < e);
    let mut touched = false;
    for step in steps {
        match step {
            PreparedStep::Grid {
                table,
                relative: r,
                start: first,
                every,
                count,
                series,
                ..
            } if *table == a.table => {
                if *r != relative {
                    return Ok(None);
                }
                let carries = series.iter().any(|(rank, evals)| {
                    a.series.get(*rank as usize).copied().unwrap_or(false)
                        && a.measure
                            .is_none_or(|m| evals.iter().any(|e| e.measure == m))
                });
                if !carries || *count == 0 {
                    continue;
                }
                // The first instant at or after `start`, and whether it is
                // still on the schedule and inside the window.
                let every = (*every).max(1) as i128;
                let k = ((start as i128 - *first as i128) + every - 1).div_euclid(every);
                let k = k.max(0);
                let t = *first as i128 + k * every;
                if k < *count as i128 && i64::try_from(t).is_ok_and(inside) {
                    touched = true;
                }
            }
            PreparedStep::Listed {
                table,
                relative: r,
                items,
                values,
                ..
            } if *table == a.table => {
                if *r != relative {
                    return Ok(None);
                }
                let from = items.partition_point(|item: &ListedItem| item.0 < start);
                touched |= items[from..].iter().take_while(|item| inside(item.0)).any(
                    |&(_, rank, first, count)| {
                        a.series.get(rank as usize).copied().unwrap_or(false)
                            && a.measure.is_none_or(|m| {
                                values
                                    .get(first as usize..first as usize + count as usize)
                                    .is_some_and(|run| run.iter().any(|(id, _)| *id == m))
                            })
                    },
                );
            }
            PreparedStep::Streamed { step, .. } if step.table == a.table => {
                if step.relative != relative {
                    return Ok(None);
                }
                if !touched {
                    touched = streamed::touches(step, start, end, &a.series, a.measure).map_err(
                        |error| CompileError::Spill {
                            folder: step.rows.folder().to_path_buf(),
                            error,
                        },
                    )?;
                }
            }
            _ => {}
        }
    }
    Ok(Some(touched))
}

/// The warnings as diagnostics pointing at their clauses in `text` (the
/// scenario they were found in).
pub(crate) fn diagnostics(text: &str, warnings: &[DataWarning]) -> Vec<Diagnostic> {
    let parsed = crate::lang::parser::parse(text);
    let statements = StatementLines::new(text, &parsed.file.statements);
    warnings
        .iter()
        .map(|w| {
            let span = statements
                .first_on(w.line)
                .map(|s| clause_span(&s.kind, &w.clause).unwrap_or(s.keyword))
                .unwrap_or_default();
            Diagnostic::new(w.kind.clone(), span)
        })
        .collect()
}

/// The first statement that starts on each line of a file: found once,
/// so that thousands of warnings are pointed at their statements without
/// counting the file's lines again for each (which took minutes).
struct StatementLines<'a> {
    first: BTreeMap<usize, &'a Statement>,
}

impl<'a> StatementLines<'a> {
    fn new(text: &str, statements: &'a [Statement]) -> StatementLines<'a> {
        // The offset each line starts at: line n (from 1) at `starts[n - 1]`.
        let starts: Vec<usize> = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        let mut first = BTreeMap::new();
        for statement in statements {
            // The lines that start at or before the statement: its line.
            let line = starts.partition_point(|&start| start <= statement.span.start);
            first.entry(line).or_insert(statement);
        }
        StatementLines { first }
    }

    /// The first statement starting on `line` (from 1).
    fn first_on(&self, line: usize) -> Option<&'a Statement> {
        self.first.get(&line).copied()
    }
}

fn clause_span(kind: &StatementKind, clause: &WarnedClause) -> Option<Span> {
    let step_clauses = match kind {
        StatementKind::Replay(r) => &r.clauses,
        StatementKind::Extrapolate(e) => &e.clauses,
        StatementKind::Anomaly(a) => {
            return a.clauses.iter().find_map(|c| match (c, clause) {
                (AnomalyClause::Where(_, span), WarnedClause::AnomalyWhere)
                | (AnomalyClause::At { span, .. }, WarnedClause::AnomalyAt) => Some(*span),
                _ => None,
            });
        }
        _ => return None,
    };
    step_clauses.iter().find_map(|c| match (&c.value, clause) {
        (StepClause::Where(..), WarnedClause::Where)
        | (StepClause::Window(_), WarnedClause::Window) => Some(c.span),
        (StepClause::Set(assignments, _), WarnedClause::Set(dimension)) => Some(
            assignments
                .iter()
                .find(|a| &a.dimension.value == dimension)
                .map_or(c.span, |a| a.dimension.span.to(a.value.span)),
        ),
        _ => None,
    })
}

/// The data's warnings that `check` did not already draw (the same code on
/// the same clause), as diagnostics pointing at their clauses.
pub(crate) fn unseen(
    text: &str,
    checked: &[Diagnostic],
    warnings: &[DataWarning],
) -> Vec<Diagnostic> {
    let drawn: BTreeSet<(Span, &str)> = checked.iter().map(|c| (c.span, c.kind.code())).collect();
    diagnostics(text, warnings)
        .into_iter()
        .filter(|d| !drawn.contains(&(d.span, d.kind.code())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `diagnostics` did before it had an index: for each warning,
    /// every statement's line counted from the file's start.
    fn counted_each_time(text: &str, warnings: &[DataWarning]) -> Vec<Diagnostic> {
        let parsed = crate::lang::parser::parse(text);
        let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
        warnings
            .iter()
            .map(|w| {
                let statement = parsed
                    .file
                    .statements
                    .iter()
                    .find(|s| line_of(s.span.start) == w.line);
                let span = statement
                    .map(|s| clause_span(&s.kind, &w.clause).unwrap_or(s.keyword))
                    .unwrap_or_default();
                Diagnostic::new(w.kind.clone(), span)
            })
            .collect()
    }

    #[test]
    fn warnings_point_where_counting_every_line_each_time_pointed() {
        let mut text = String::from(
            "scenario \"w\"\r\ntable t\n\ngenerate into t {\n  series device = \"d-{0..9}\"\n  from now - 1h to now every 1m\n  measure v double = constant(value: 1)\n}\n",
        );
        for i in 0..40 {
            text.push_str(&format!(
                "anomaly spike on t.v {{\n  where device == \"d-{}\"\n  at now - {}s for 1s\n  magnitude 1\n}}\n{}",
                i % 10,
                7200 + i,
                if i % 7 == 0 { "\n# a comment\n" } else { "" }
            ));
        }
        let clauses = [
            WarnedClause::Statement,
            WarnedClause::AnomalyWhere,
            WarnedClause::AnomalyAt,
            WarnedClause::Where,
        ];
        let lines = text.lines().count() + 2;
        let warnings: Vec<DataWarning> = (0..lines * clauses.len())
            .map(|i| DataWarning {
                line: i % lines,
                clause: clauses[i / lines].clone(),
                kind: kind::AnomalyNoEffect {
                    table: "t".into(),
                    cause: NoEffectCause::OutsideRecords,
                }
                .into(),
            })
            .collect();
        let spans = |diagnostics: Vec<Diagnostic>| -> Vec<Span> {
            diagnostics.iter().map(|d| d.span).collect()
        };
        let found = spans(diagnostics(&text, &warnings));
        assert_eq!(found, spans(counted_each_time(&text, &warnings)));
        // Most warnings found their statement, and some lines have none.
        let pointed = found.iter().filter(|s| **s != Span::default()).count();
        assert!(
            pointed > 40 * clauses.len() && pointed < warnings.len(),
            "{pointed}"
        );
    }
}
