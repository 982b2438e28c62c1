//! `ast::File` → `model::Scenario`, or every problem in the file.
//!
//! Declarations may come in any order, so this runs in passes: the
//! scenario-wide statements and declarations (`declarations.rs`), then the
//! steps and anomalies that refer to them (`steps.rs`, `anomalies.rs`, with
//! models in `models.rs`), then what only shows per table once every step is
//! known (`tables.rs`). Each check reports and carries on.

mod anomalies;
pub(crate) mod check;
mod declarations;
mod expect;
mod models;
mod overlaps;
mod params;
mod reach;
mod series;
pub(crate) mod source;
mod steps;
mod tables;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono_tz::Tz;

use crate::diagnostics::kind::{Clause, NameKind, Positive};
use crate::diagnostics::suggest::{closest, closest_time_zone, zones_abbreviated};
use crate::diagnostics::{Diagnostic, DiagnosticKind, Severity, kind};
use crate::lang::ast::{self, Lit, Span, Spanned, StatementKind, TimeBase, TimeExpr};
use crate::lang::literal::{self, Duration, LiteralError, Number};
use crate::lang::parser::Losses;
use crate::model::{self, Filter, Scenario, Schedule, TimePoint, Window};

/// The result of validation: the scenario when nothing is wrong, and the
/// diagnostics (warnings may come with a scenario).
pub(crate) struct Validated {
    pub scenario: Option<Scenario>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Validates a parsed file. `base_dir` is the scenario file's folder, which
/// source paths are relative to; `losses` tell what statements that did not
/// parse would have declared (references to them are not reported).
pub(crate) fn validate(
    file: &ast::File,
    text: &str,
    base_dir: &Path,
    losses: &Losses,
    columns: source::SourceColumns<'_>,
    rules: &dyn crate::model::NameRules,
) -> Validated {
    let mut v = Validator {
        base_dir,
        columns,
        rules,
        diagnostics: Vec::new(),
        unparsed: losses.names.iter().cloned().collect(),
        line_starts: std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect(),
        series_declared: 0,
    };
    let header = v.header(file, losses.scenario);
    let declared = v.declarations(file);
    let mut steps = Vec::new();
    let mut shapes = Vec::new();
    let mut anomalies = Vec::new();
    // Steps whose statement lost a line or drew an error: what they say
    // about `now` is unknown, so anomalies are not warned about them.
    let mut unsound = Vec::new();
    for statement in &file.statements {
        let errors_before = v.error_count();
        let (step, shape) = match &statement.kind {
            StatementKind::Replay(r) => v.replay(r, statement, &declared),
            StatementKind::Generate(g) => v.generate(g, statement, &declared),
            StatementKind::Extrapolate(e) => v.extrapolate(e, statement, &declared),
            StatementKind::Anomaly(a) => {
                anomalies.extend(v.anomaly(a, statement, &declared));
                continue;
            }
            _ => continue,
        };
        if let Some(step) = step {
            unsound.push(statement.recovered || v.error_count() > errors_before);
            steps.push(step);
        }
        shapes.push(shape);
    }
    for table in &losses.writers {
        shapes.push(tables::Shape::unknown(table));
    }
    let writers = v.tables(&declared, &shapes);
    v.anomaly_targets(file, &declared, &writers);
    v.overlaps(&anomalies);
    let expectations = v.expectations(file);
    // A step with an error of its own (or a lost line) says nothing sure
    // about what the anomalies hit: anchor dependence is judged on the
    // sound steps only.
    if unsound.contains(&true) {
        let sound: Vec<model::Step> = steps
            .iter()
            .zip(&unsound)
            .filter(|(_, unsound)| !**unsound)
            .map(|(step, _)| step.clone())
            .collect();
        v.anchor_dependence(&sound, &anomalies);
    } else {
        v.anchor_dependence(&steps, &anomalies);
    }
    // After an error, what a step writes is not all known (a lost
    // `measure` line): an anomaly would be blamed for it.
    let lost = !losses.writers.is_empty() || file.statements.iter().any(|s| s.recovered);
    if !lost
        && !v
            .diagnostics
            .iter()
            .any(|d| d.severity() == Severity::Error)
    {
        v.no_effect(file, &steps, &anomalies);
    }
    let has_errors = v
        .diagnostics
        .iter()
        .any(|d| d.severity() == Severity::Error);
    let scenario = match header {
        Some((title, seed, anchor_align)) if !has_errors => Some(Scenario {
            title,
            seed,
            anchor_align,
            sources: declared.sources,
            tables: declared.tables,
            steps,
            anomalies: anomalies.into_iter().map(|(a, _)| a).collect(),
            expectations,
        }),
        _ => None,
    };
    Validated {
        scenario,
        diagnostics: v.diagnostics,
    }
}

/// The declarations that steps refer to, with where each was declared.
pub(crate) struct Declared {
    pub sources: BTreeMap<String, model::Source>,
    pub tables: BTreeMap<String, model::Table>,
    pub source_spans: BTreeMap<String, Span>,
    pub table_spans: BTreeMap<String, Span>,
}

pub(crate) struct Validator<'a> {
    base_dir: &'a Path,
    /// Asked for a source file's columns: to report one it lacks at the
    /// source, and to fill in an export's measure types.
    columns: source::SourceColumns<'a>,
    /// The names the target takes (Timestream's unless told the target).
    rules: &'a dyn crate::model::NameRules,
    diagnostics: Vec<Diagnostic>,
    unparsed: BTreeSet<String>,
    line_starts: Vec<usize>,
    /// The series the `series` clauses so far declare, counted before
    /// they are expanded (`series.rs`).
    series_declared: u64,
}

impl Validator<'_> {
    fn report(&mut self, kind: impl Into<DiagnosticKind>, span: Span) {
        self.diagnostics.push(Diagnostic::new(kind, span));
    }

    fn error_count(&self) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity() == Severity::Error)
            .count()
    }

    /// The 1-based line of a byte offset.
    fn line(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&s| s <= offset)
    }

    /// `scenario`, `seed`, `anchor align`: present once, `scenario` first.
    fn header(
        &mut self,
        file: &ast::File,
        scenario_unparsed: bool,
    ) -> Option<(String, u64, Duration)> {
        let mut title: Option<Spanned<String>> = None;
        let mut seed: Option<(u64, Span)> = None;
        let mut align: Option<(Duration, Span)> = None;
        let mut ok = true;
        for (index, statement) in file.statements.iter().enumerate() {
            match &statement.kind {
                StatementKind::Scenario(t) => {
                    if let Some(previous) = title.as_ref().map(|t| t.span) {
                        self.duplicate_statement("scenario", statement.span, previous);
                        continue;
                    }
                    if index > 0 {
                        self.report(
                            kind::ScenarioNotFirst {
                                first_statement: file.statements[0].keyword,
                            },
                            statement.span,
                        );
                    }
                    title = Some(t.clone());
                }
                StatementKind::Seed(lit) => {
                    if let Some((_, previous)) = seed {
                        self.duplicate_statement("seed", statement.span, previous);
                        continue;
                    }
                    match lit.value.replace('_', "").parse::<u64>() {
                        Ok(n) => seed = Some((n, statement.span)),
                        Err(_) => {
                            ok = false;
                            self.report(kind::SeedOutOfRange, lit.span);
                        }
                    }
                }
                StatementKind::AnchorAlign(lit) => {
                    if let Some((_, previous)) = align {
                        self.duplicate_statement("anchor align", statement.span, previous);
                        continue;
                    }
                    match self.positive_duration(lit, "anchor align") {
                        Some(d) => align = Some((d, statement.span)),
                        None => ok = false,
                    }
                }
                _ => {}
            }
        }
        if title.is_none() && !scenario_unparsed {
            let span = file
                .statements
                .first()
                .map(|s| Span::new(s.keyword.start, s.keyword.start))
                .unwrap_or_default();
            self.report(kind::MissingScenario, span);
        }
        let title = title?.value;
        ok.then(|| {
            (
                title,
                seed.map_or(0, |(n, _)| n),
                align.map_or(Duration::from_secs(1), |(d, _)| d),
            )
        })
    }

    fn duplicate_statement(&mut self, statement: &str, span: Span, first: Span) {
        self.report(
            kind::DuplicateStatement {
                statement: statement.into(),
                first,
            },
            span,
        );
    }

    fn literal_error(&mut self, error: LiteralError, span: Span) {
        let kind: DiagnosticKind = match error {
            LiteralError::DurationOutOfRange => kind::DurationOutOfRange.into(),
            LiteralError::NumberOutOfRange => kind::NumberOutOfRange.into(),
            LiteralError::TimestampOutOfRange => kind::TimestampOutOfRange.into(),
            LiteralError::Malformed(reason) => kind::MalformedTimestamp { reason }.into(),
            LiteralError::UnknownZone(zone) => kind::UnknownTimeZone {
                suggestion: closest_time_zone(&zone),
                abbreviation_of: zones_abbreviated(&zone),
                zone,
            }
            .into(),
            LiteralError::OffsetMismatch {
                zone,
                given,
                expected,
            } => kind::OffsetDisagreesWithZone {
                zone,
                given,
                expected,
            }
            .into(),
            LiteralError::InGap(zone) => kind::LocalTimeInGap { zone }.into(),
        };
        self.report(kind, span);
    }

    fn duration(&mut self, lit: &Lit) -> Option<Duration> {
        literal::parse_duration(&lit.value)
            .map_err(|e| self.literal_error(e, lit.span))
            .ok()
    }

    fn positive_duration(&mut self, lit: &Lit, what: &'static str) -> Option<Duration> {
        let d = self.duration(lit)?;
        if !d.is_positive() {
            self.report(
                kind::NotPositive {
                    what: Positive::Clause(what),
                },
                lit.span,
            );
            return None;
        }
        Some(d)
    }

    fn number(&mut self, lit: &Lit) -> Option<Number> {
        literal::parse_number(&lit.value)
            .map_err(|e| self.literal_error(e, lit.span))
            .ok()
    }

    fn time_zone(&mut self, name: &Spanned<String>) -> Option<Tz> {
        match name.value.parse::<Tz>() {
            Ok(tz) => Some(tz),
            Err(_) => {
                self.literal_error(LiteralError::UnknownZone(name.value.clone()), name.span);
                None
            }
        }
    }

    /// `now ± d` → an offset; `TIMESTAMP ± d` → an instant.
    fn time_point(&mut self, expr: &TimeExpr) -> Option<TimePoint> {
        let offset = match &expr.offset {
            None => Duration::ZERO,
            Some((plus, lit)) => {
                let d = self.duration(lit)?;
                if *plus { d } else { Duration(-d.0) }
            }
        };
        match &expr.base {
            TimeBase::Now => self
                .near_now(i128::from(offset.0), expr.span)
                .then_some(TimePoint::Relative(offset)),
            TimeBase::Timestamp(lit) => {
                let instant = literal::parse_timestamp(&lit.value)
                    .map_err(|e| self.literal_error(e, lit.span))
                    .ok()?;
                match instant.checked_add(offset) {
                    Some(i) => Some(TimePoint::Absolute(i)),
                    None => {
                        self.report(kind::TimestampOutOfRange, expr.span);
                        None
                    }
                }
            }
        }
    }

    /// A range of recorded time: both ends absolute, end after start.
    fn recorded_window(&mut self, range: &ast::TimeRange, clause: Clause) -> Option<Window> {
        let start = self.time_point(&range.start);
        let end = self.time_point(&range.end);
        match (start?, end?) {
            (TimePoint::Absolute(start), TimePoint::Absolute(end)) => {
                if end <= start {
                    self.report(kind::EmptyWindow { clause }, range.span);
                    return None;
                }
                Some(Window { start, end })
            }
            _ => {
                self.report(kind::RelativeWindow { clause }, range.span);
                None
            }
        }
    }

    /// `from A to B every S` / `from A for D every S`.
    fn schedule(&mut self, s: &ast::Schedule) -> Option<Schedule> {
        let start = self.time_point(&s.start);
        let every = self.positive_duration(&s.every, "every");
        let end = match &s.end {
            ast::ScheduleEnd::To(expr) => self.time_point(expr),
            ast::ScheduleEnd::For(lit) => {
                let length = self.positive_duration(lit, "for");
                match (start, length) {
                    (Some(start), Some(length)) => {
                        let end = add(start, length);
                        if self.reachable(end, s.span) {
                            end
                        } else {
                            None
                        }
                    }
                    _ => None,
                }
            }
        };
        let (start, end, every) = (start?, end?, every?);
        let ordered = match (start, end) {
            (TimePoint::Relative(a), TimePoint::Relative(b)) => a < b,
            (TimePoint::Absolute(a), TimePoint::Absolute(b)) => a < b,
            _ => {
                self.report(kind::MixedRange, s.span);
                return None;
            }
        };
        if !ordered {
            self.report(
                kind::EmptyWindow {
                    clause: Clause::From,
                },
                s.span,
            );
            return None;
        }
        Some(Schedule { start, end, every })
    }

    /// An enum word such as `layout single`, with a suggestion when unknown.
    fn word<T: Copy>(&mut self, name: &ast::Name, what: &str, options: &[(&str, T)]) -> Option<T> {
        if let Some((_, value)) = options.iter().find(|(w, _)| *w == name.value) {
            return Some(*value);
        }
        let words: Vec<&str> = options.iter().map(|(w, _)| *w).collect();
        self.report(
            kind::UnknownWord {
                what: what.into(),
                word: name.value.clone(),
                suggestion: closest(&name.value, words.iter().copied()),
                allowed: words.iter().map(|w| w.to_string()).collect(),
            },
            name.span,
        );
        None
    }

    /// `where` conditions; `dimensions` are those the filtered data has, when
    /// known (a condition on another name can never match).
    fn filter(&mut self, conditions: &[ast::Condition], dimensions: Option<&[String]>) -> Filter {
        let mut out = Filter::default();
        for c in conditions {
            if let Some(known) = dimensions
                && !known.contains(&c.dimension.value)
            {
                self.unknown_name(
                    NameKind::Dimension,
                    &c.dimension,
                    known.iter().map(String::as_str),
                );
            }
            let test = match &c.test {
                ast::ConditionTest::Equals(s) => model::ConditionTest::Equals(s.value.clone()),
                ast::ConditionTest::NotEquals(s) => {
                    model::ConditionTest::NotEquals(s.value.clone())
                }
                ast::ConditionTest::In(list) => {
                    model::ConditionTest::In(list.iter().map(|s| s.value.clone()).collect())
                }
            };
            out.conditions.push(model::Condition {
                dimension: c.dimension.value.clone(),
                test,
            });
        }
        out
    }

    fn unknown_name<'k>(
        &mut self,
        kind: NameKind,
        name: &ast::Name,
        known: impl Iterator<Item = &'k str> + Clone,
    ) {
        let mut listed: Vec<String> = known.clone().map(str::to_string).collect();
        listed.sort();
        listed.dedup();
        self.report(
            kind::UnknownName {
                kind,
                name: name.value.clone(),
                suggestion: closest(&name.value, known),
                known: listed,
            },
            name.span,
        );
    }

    /// Reports a clause given twice; returns the first of each.
    fn once<T>(&mut self, items: impl Iterator<Item = (Clause, Span, T)>) -> Vec<T> {
        let mut seen = BTreeMap::new();
        let mut first = Vec::new();
        for (clause, span, item) in items {
            if self.first_clause(&mut seen, clause, span) {
                first.push(item);
            }
        }
        first
    }

    /// Whether `clause` is given for the first time in a block (`seen` holds
    /// where each was); a repeat is reported.
    fn first_clause(
        &mut self,
        seen: &mut BTreeMap<Clause, Span>,
        clause: Clause,
        span: Span,
    ) -> bool {
        if let Some(&first) = seen.get(&clause) {
            self.report(kind::DuplicateClause { clause, first }, span);
            return false;
        }
        seen.insert(clause, span);
        true
    }

    /// Whether `name` is the first of its name in one scope (`seen` holds
    /// where each was declared); a repeat is reported.
    fn first_name(
        &mut self,
        seen: &mut BTreeMap<String, Span>,
        kind: NameKind,
        name: &ast::Name,
    ) -> bool {
        if let Some(&first) = seen.get(&name.value) {
            let kind = kind::DuplicateName {
                kind,
                name: name.value.clone(),
                first,
            };
            self.report(kind, name.span);
            return false;
        }
        seen.insert(name.value.clone(), name.span);
        true
    }
}

/// `point + d`, if it stays in range.
pub(crate) fn add(point: TimePoint, d: Duration) -> Option<TimePoint> {
    match point {
        TimePoint::Relative(o) => {
            o.0.checked_add(d.0)
                .map(|n| TimePoint::Relative(Duration(n)))
        }
        TimePoint::Absolute(i) => i.checked_add(d).map(TimePoint::Absolute),
    }
}

/// Seconds since the epoch for ordering mixed points is meaningless; this
/// orders points of one kind and says `None` for mixed ones.
pub(crate) fn ordered(a: TimePoint, b: TimePoint) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (TimePoint::Relative(x), TimePoint::Relative(y)) => Some(x.cmp(&y)),
        (TimePoint::Absolute(x), TimePoint::Absolute(y)) => Some(x.cmp(&y)),
        _ => None,
    }
}
