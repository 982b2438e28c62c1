//! `anomaly KIND on TABLE[.MEASURE] { ... }`.

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use strum::IntoEnumIterator;

use super::params::Given;
use super::{Declared, Validator, add};
use crate::diagnostics::kind;
use crate::diagnostics::kind::{Clause, NoEffectCause};
use crate::diagnostics::suggest::closest;
use crate::lang::ast::{self, AnomalyClause, Span, ValueSyntax};
use crate::model::{
    Anomaly, AnomalyKind, AnomalyWord, ConditionTest, Filter, MeasureType, Scalar, Step, TimePoint,
};

impl Validator<'_> {
    /// The anomaly and the span of its header, for overlap warnings.
    pub(super) fn anomaly(
        &mut self,
        a: &ast::Anomaly,
        statement: &ast::Statement,
        declared: &Declared,
    ) -> Option<(Anomaly, Span)> {
        let written = a.kind.value.as_str();
        let word = AnomalyWord::from_str(written).ok();
        let header = statement
            .keyword
            .to(a.measure.as_ref().map_or(a.table.span, |m| m.span));
        let mut ok = true;
        if word.is_none() {
            self.report(
                kind::UnknownAnomalyKind {
                    kind: written.into(),
                    suggestion: closest(written, AnomalyWord::iter().map(<&str>::from)),
                },
                a.kind.span,
            );
            ok = false;
        }
        if !declared.tables.contains_key(&a.table.value) && !self.unparsed.contains(&a.table.value)
        {
            let known = declared.table_spans.keys().map(String::as_str);
            self.unknown_name(crate::diagnostics::kind::NameKind::Table, &a.table, known);
            ok = false;
        }
        match (&a.measure, word) {
            (None, Some(w)) if w.needs_measure() => {
                self.report(
                    kind::AnomalyNeedsMeasure {
                        kind: written.into(),
                    },
                    a.table.span,
                );
                ok = false;
            }
            (Some(m), Some(AnomalyWord::Late)) => {
                self.report(
                    kind::AnomalyOnWholeRecords {
                        kind: written.into(),
                        measure: m.value.clone(),
                    },
                    m.span,
                );
                ok = false;
            }
            _ => {}
        }
        let mut filter = Filter::default();
        let mut at = None;
        let mut params = Vec::new();
        let mut seen = BTreeMap::new();
        for clause in &a.clauses {
            match clause {
                AnomalyClause::Where(conditions, span) => {
                    if !self.first_clause(&mut seen, Clause::Where, *span) {
                        ok = false;
                        continue;
                    }
                    // Dimensions are checked against the table once all steps are known.
                    filter = self.filter(conditions, None);
                }
                AnomalyClause::At {
                    at: t,
                    length,
                    span,
                } => {
                    if !self.first_clause(&mut seen, Clause::At, *span) {
                        ok = false;
                        continue;
                    }
                    let point = self.time_point(t);
                    let length = match length {
                        Some(lit) => self.positive_duration(lit, "for").map(Some),
                        None => Some(None),
                    };
                    match (point, length) {
                        // The window's end must be a time outatime writes.
                        (Some(p), Some(Some(l))) if !self.reachable(add(p, l), *span) => ok = false,
                        (Some(p), Some(l)) => at = Some((p, l)),
                        _ => ok = false,
                    }
                }
                AnomalyClause::Param(p) => params.push(Given {
                    name: &p.name,
                    value: &p.value,
                    per: p.per.as_ref(),
                }),
            }
        }
        if !seen.contains_key(&Clause::At) && !statement.recovered {
            self.missing_clause(
                "anomaly",
                Clause::At,
                "at now + 15m for 5m",
                statement.keyword,
            );
            ok = false;
        }
        let parsed = word.and_then(|w| self.anomaly_kind(w, header, params, statement.recovered));
        let (at, length) = at?;
        let anomaly = Anomaly {
            kind: parsed?,
            name: a.name.as_ref().map(|n| n.value.clone()),
            table: a.table.value.clone(),
            measure: a.measure.as_ref().map(|m| m.value.clone()),
            filter,
            at,
            length,
            line: self.line(statement.span.start),
        };
        ok.then_some((anomaly, header))
    }

    fn anomaly_kind(
        &mut self,
        word: AnomalyWord,
        at: Span,
        given: Vec<Given<'_>>,
        recovered: bool,
    ) -> Option<AnomalyKind> {
        let mut p = self.params(word.into(), at, given, word.parameters());
        p.quiet_missing = recovered;
        if word != AnomalyWord::Drift {
            self.no_per(&mut p);
        }
        let parsed = match word {
            AnomalyWord::Spike => AnomalyKind::Spike {
                magnitude: self.number_param(&mut p, "magnitude", "magnitude 12.5"),
            },
            AnomalyWord::Offset => AnomalyKind::Offset {
                delta: self.number_param(&mut p, "delta", "delta -3"),
            },
            AnomalyWord::Scale => AnomalyKind::Scale {
                factor: self.number_param(&mut p, "factor", "factor 1.5"),
            },
            AnomalyWord::Drift => {
                let rate = self.number_param(&mut p, "rate", "rate 0.5 per 1h");
                let per = self.per_param(&mut p, "rate");
                AnomalyKind::Drift { rate, per }
            }
            AnomalyWord::Flatline => AnomalyKind::Flatline {
                value: self.loose_scalar(&mut p, "value"),
            },
            AnomalyWord::Noise => {
                let sigma = self.number_param(&mut p, "sigma", "sigma 2");
                if sigma < 0.0 {
                    self.out_of_range(&mut p, "sigma", sigma, "zero or more");
                }
                AnomalyKind::Noise { sigma }
            }
            AnomalyWord::Clip => {
                let min = self.opt_number(&mut p, "min");
                let max = self.opt_number(&mut p, "max");
                if min.is_none() && max.is_none() && p.ok {
                    self.report(
                        kind::MissingParameter {
                            owner: "clip".into(),
                            name: "min` or `max".into(),
                            example: "min -5, max 30".into(),
                        },
                        at,
                    );
                    p.ok = false;
                }
                if let (Some(lo), Some(hi)) = (min, max)
                    && lo > hi
                {
                    self.out_of_range(&mut p, "min", lo, &format!("at most `max` ({hi})"));
                }
                AnomalyKind::Clip { min, max }
            }
            AnomalyWord::Outliers => {
                let rate = self.number_param(&mut p, "rate", "rate 0.05 magnitude 20");
                let magnitude = self.number_param(&mut p, "magnitude", "rate 0.05 magnitude 20");
                if !(0.0..=1.0).contains(&rate) {
                    self.out_of_range(
                        &mut p,
                        "rate",
                        rate,
                        "between 0 and 1 (a fraction of records)",
                    );
                }
                AnomalyKind::Outliers { rate, magnitude }
            }
            AnomalyWord::Late => AnomalyKind::Late {
                delay: self.positive_duration_param(&mut p, "delay", "delay 5m"),
            },
            AnomalyWord::Dropout => AnomalyKind::Dropout,
        };
        p.ok.then_some(parsed)
    }

    /// `flatline`'s optional value, typed from how it is written; its fit
    /// with the measure is checked once the measure's type is known.
    fn loose_scalar(&mut self, p: &mut super::params::Params<'_>, name: &str) -> Option<Scalar> {
        let ty = match p.value(name)? {
            ValueSyntax::Bool(_) => MeasureType::Boolean,
            ValueSyntax::String(_) => MeasureType::Varchar,
            _ => MeasureType::Double,
        };
        self.opt_scalar(p, name, ty)
    }

    /// Checks a value anomaly against the type of the measure it changes.
    pub(super) fn anomaly_measure_type(
        &mut self,
        a: &ast::Anomaly,
        measure: &ast::Name,
        ty: MeasureType,
    ) {
        let Ok(word) = AnomalyWord::from_str(&a.kind.value) else {
            return;
        };
        if word.changes_numbers() && !ty.is_numeric() {
            self.report(
                kind::AnomalyTypeMismatch {
                    kind: a.kind.value.clone(),
                    measure: measure.value.clone(),
                    ty,
                },
                measure.span,
            );
        }
        if word != AnomalyWord::Flatline {
            return;
        }
        for clause in &a.clauses {
            let AnomalyClause::Param(p) = clause else {
                continue;
            };
            let fits = match &p.value {
                ValueSyntax::Number(lit) if ty == MeasureType::Bigint => {
                    crate::lang::literal::parse_number(&lit.value)
                        .is_ok_and(|n| n.value.fract() == 0.0)
                }
                ValueSyntax::Number(_) => ty.is_numeric(),
                ValueSyntax::Bool(_) => ty == MeasureType::Boolean,
                ValueSyntax::String(_) => ty == MeasureType::Varchar,
                ValueSyntax::Duration(_) => false,
            };
            if p.name.value == "value" && !fits {
                self.report(
                    kind::WrongParameterType {
                        owner: "flatline".into(),
                        name: "value".into(),
                        expected: super::params::value_of_type(ty).into(),
                        found: match &p.value {
                            ValueSyntax::Number(_) => "a number",
                            ValueSyntax::Bool(_) => "a boolean",
                            ValueSyntax::String(_) => "a string",
                            ValueSyntax::Duration(_) => "a duration",
                        }
                        .into(),
                    },
                    p.value.span(),
                );
            }
        }
    }

    /// Warns when an anomaly placed relative to `now` meets records placed
    /// at recorded instants in its table, or the other way round: which
    /// records it touches then depends on the anchor, and the plan (made
    /// with no anchor) cannot show it.
    pub(super) fn anchor_dependence(&mut self, steps: &[Step], anomalies: &[(Anomaly, Span)]) {
        let series = series_by_value(steps);
        for (anomaly, span) in anomalies {
            let relative = anomaly.at.is_relative();
            let other = steps.iter().zip(&series).find(|(s, series)| {
                s.table() == anomaly.table
                    && s.is_relative() != relative
                    && may_reach(&anomaly.filter, s, series.as_ref())
            });
            if let Some((step, _)) = other {
                let kind = kind::AnchorDependentAnomaly {
                    relative,
                    step_line: step.line(),
                };
                self.report(kind, *span);
            }
        }
    }

    /// Warns about an anomaly that touches nothing, when the scenario alone
    /// shows it: on a table only `generate` steps write (every series and
    /// instant written out), its `where` matches none of their series, or
    /// no instant of a matching series carrying its measure lies in its
    /// window. Tables fed from sources are judged once the data is read
    /// (`compile/warnings.rs`), at the same clause.
    pub(super) fn no_effect(
        &mut self,
        file: &ast::File,
        steps: &[Step],
        anomalies: &[(Anomaly, Span)],
    ) {
        let series = series_by_value(steps);
        for (anomaly, header) in anomalies {
            let writers: Vec<(&crate::model::Generate, &SeriesByValue<'_>)> = steps
                .iter()
                .zip(&series)
                .filter(|(s, _)| s.table() == anomaly.table)
                .filter_map(|(s, series)| match (s, series) {
                    (Step::Generate(g), Some(series)) => Some((g, series)),
                    _ => None,
                })
                .collect();
            let all = steps.iter().filter(|s| s.table() == anomaly.table).count();
            if writers.is_empty() || writers.len() != all {
                continue;
            }
            let passes = |dims: &BTreeMap<String, String>| {
                anomaly.filter.conditions.iter().all(|c| {
                    c.test
                        .allows(dims.get(&c.dimension).map_or("", String::as_str))
                })
            };
            let matching: Vec<_> = writers
                .iter()
                .filter(|(_, series)| series.any(&anomaly.filter, passes))
                .map(|(g, _)| g)
                .collect();
            let cause = if matching.is_empty() {
                NoEffectCause::NoSeries
            } else {
                let relative = anomaly.at.is_relative();
                if writers
                    .iter()
                    .any(|(g, _)| g.schedule.is_relative() != relative)
                {
                    // `anomaly::anchor_dependent` says what that means.
                    continue;
                }
                let touched = matching.iter().any(|g| {
                    anomaly
                        .measure
                        .as_ref()
                        .is_none_or(|m| g.measures.iter().any(|x| &x.name == m))
                        && schedule_meets(&g.schedule, anomaly)
                });
                if touched {
                    continue;
                }
                NoEffectCause::OutsideRecords
            };
            let span = anomaly_clause_span(file, *header, cause).unwrap_or(*header);
            self.report(
                kind::AnomalyNoEffect {
                    table: anomaly.table.clone(),
                    cause,
                },
                span,
            );
        }
    }

    /// Warns about two anomalies that can touch the same record and
    /// measure: each at its header, naming the first before it in the file
    /// that it meets (`overlaps.rs`).
    pub(super) fn overlaps(&mut self, anomalies: &[(Anomaly, Span)]) {
        let only: Vec<&Anomaly> = anomalies.iter().map(|(a, _)| a).collect();
        let first = super::overlaps::first_overlaps(&only);
        for ((_, b_span), a) in anomalies.iter().zip(first) {
            if let Some(a) = a {
                self.report(
                    kind::OverlappingAnomalies {
                        other: anomalies[a].1,
                    },
                    *b_span,
                );
            }
        }
    }
}

/// Whether the anomaly's `where` can match a series the step writes: known
/// for generated series (`series`, the step's by value); for others, only
/// the dimensions `set` fixes count.
fn may_reach(filter: &Filter, step: &Step, series: Option<&SeriesByValue<'_>>) -> bool {
    let passes = |dims: &std::collections::BTreeMap<String, String>| {
        filter
            .conditions
            .iter()
            .all(|c| match dims.get(&c.dimension) {
                None => true,
                Some(v) => c.test.allows(v),
            })
    };
    match (step, series) {
        (Step::Generate(_), Some(series)) => series.any(filter, passes),
        (Step::Generate(g), None) => g.series.iter().any(passes),
        (Step::Replay(r), _) => passes(&r.set),
        (Step::Extrapolate(e), _) => passes(&e.set),
    }
}

/// Each `generate`'s series by value ([`SeriesByValue`]), by step.
fn series_by_value(steps: &[Step]) -> Vec<Option<SeriesByValue<'_>>> {
    steps
        .iter()
        .map(|s| match s {
            Step::Generate(g) => Some(SeriesByValue::new(&g.series)),
            _ => None,
        })
        .collect()
}

/// A `generate`'s series by dimension value: whether an anomaly's `where`
/// matches one of them is then found by lookup, not by reading up to
/// 100,000 series for each of thousands of anomalies.
struct SeriesByValue<'a> {
    series: &'a [BTreeMap<String, String>],
    by_value: BTreeMap<(&'a str, &'a str), Vec<usize>>,
    /// For each dimension some series has, the series without it.
    lacking: BTreeMap<&'a str, Vec<usize>>,
}

impl<'a> SeriesByValue<'a> {
    fn new(series: &'a [BTreeMap<String, String>]) -> SeriesByValue<'a> {
        let mut by_value: BTreeMap<(&str, &str), Vec<usize>> = BTreeMap::new();
        for (i, dims) in series.iter().enumerate() {
            for (d, v) in dims {
                by_value
                    .entry((d.as_str(), v.as_str()))
                    .or_default()
                    .push(i);
            }
        }
        let dimensions: BTreeSet<&str> = by_value.keys().map(|(d, _)| *d).collect();
        let lacking = dimensions
            .into_iter()
            .map(|d| {
                let without = (0..series.len())
                    .filter(|&i| !series[i].contains_key(d))
                    .collect();
                (d, without)
            })
            .collect();
        SeriesByValue {
            series,
            by_value,
            lacking,
        }
    }

    /// Whether `passes` holds for a series, asking only those the first
    /// `==` or `in` of `filter` lets through, and those without its
    /// dimension (`passes` decides what a missing dimension means): a
    /// series any other would be asked about fails that condition.
    fn any(&self, filter: &Filter, passes: impl Fn(&BTreeMap<String, String>) -> bool) -> bool {
        let keyed = filter.conditions.iter().find_map(|c| match &c.test {
            ConditionTest::Equals(x) => Some((c.dimension.as_str(), std::slice::from_ref(x))),
            ConditionTest::In(list) => Some((c.dimension.as_str(), list.as_slice())),
            ConditionTest::NotEquals(_) => None,
        });
        let Some((dimension, values)) = keyed else {
            return self.series.iter().any(passes);
        };
        let Some(lacking) = self.lacking.get(dimension) else {
            // No series has the dimension.
            return self.series.iter().any(passes);
        };
        values
            .iter()
            .filter_map(|v| self.by_value.get(&(dimension, v.as_str())))
            .flatten()
            .chain(lacking)
            .any(|&i| passes(&self.series[i]))
    }
}

fn point(p: TimePoint) -> i64 {
    match p {
        TimePoint::Relative(d) => d.0,
        TimePoint::Absolute(i) => i.0,
    }
}

/// Whether an instant of the schedule lies in the anomaly's window (from
/// `at` on, without `for`). Both are of one kind (relative or instants).
fn schedule_meets(schedule: &crate::model::Schedule, anomaly: &Anomaly) -> bool {
    let (start, end, every) = (
        point(schedule.start) as i128,
        point(schedule.end) as i128,
        schedule.every.0.max(1) as i128,
    );
    let from = point(anomaly.at) as i128;
    let until = anomaly.length.map(|l| from + l.0 as i128);
    // The first instant at or after `from`.
    let k = ((from - start) + every - 1).div_euclid(every).max(0);
    let t = start + k * every;
    t < end && until.is_none_or(|u| t < u)
}

/// The anomaly's `where` (no series) or `at` (outside every record) clause,
/// found in the statement whose header is at `header`.
fn anomaly_clause_span(file: &ast::File, header: Span, cause: NoEffectCause) -> Option<Span> {
    // Statements are in file order and apart: found by halving, not by
    // reading them all for each warning.
    let after = file
        .statements
        .partition_point(|s| s.span.start <= header.start);
    let statement = file.statements[..after]
        .last()
        .filter(|s| header.start < s.span.end)?;
    let ast::StatementKind::Anomaly(a) = &statement.kind else {
        return None;
    };
    a.clauses.iter().find_map(|c| match (c, cause) {
        (AnomalyClause::Where(_, span), NoEffectCause::NoSeries)
        | (AnomalyClause::At { span, .. }, NoEffectCause::OutsideRecords) => Some(*span),
        _ => None,
    })
}
