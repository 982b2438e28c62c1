//! `replay`, `generate` and `extrapolate`.

use std::collections::BTreeMap;

use super::models::ModelPlace;
use super::series::DeclaredSeries;
use super::tables::Shape;
use super::{Declared, Validator};
use crate::diagnostics::kind;
use crate::diagnostics::kind::{Clause, List, NameKind, Positive};
use crate::lang::ast::{self, Assignment, ShiftSyntax, Span, Spanned, StepClause};
use crate::lang::literal::Duration;
use crate::model::{
    Extrapolate, Filter, Generate, GeneratedMeasure, MeasureType, Replay, Shift, Source,
    SourceMeasures, Step, Term,
};

/// About 550 years: more cannot stay inside the instants i64 nanoseconds hold.
const MAX_CALENDAR_DAYS: u64 = 200_000;

const REPLAY_CLAUSES: &[Clause] = &[
    Clause::Window,
    Clause::Where,
    Clause::Shift,
    Clause::Speed,
    Clause::Measures,
    Clause::Set,
];
const GENERATE_CLAUSES: &[Clause] = &[Clause::Series, Clause::From, Clause::Measure];
const EXTRAPOLATE_CLAUSES: &[Clause] = &[
    Clause::Learn,
    Clause::Where,
    Clause::From,
    Clause::Model,
    Clause::Shift,
    Clause::Set,
];

/// A step's clauses that stand once, each in a field of its own: read by
/// name, so a misspelt clause does not compile.
#[derive(Default)]
struct StepClauses<'c> {
    window: Option<&'c ast::TimeRange>,
    learn: Option<&'c ast::TimeRange>,
    conditions: Option<&'c [ast::Condition]>,
    shift: Option<&'c Spanned<ShiftSyntax>>,
    speed: Option<&'c ast::Lit>,
    measures: Option<&'c [ast::Name]>,
    set: Option<&'c [Assignment]>,
    schedule: Option<&'c ast::Schedule>,
    model: Option<&'c ast::ModelSyntax>,
    /// A list lost an item to a missing comma: the lost item may be a
    /// measure or a dimension, so what the step writes is not known for sure.
    lost_list_item: bool,
}

impl<'c> StepClauses<'c> {
    /// Files each clause (already the first of its kind) in its field.
    fn new(clauses: impl IntoIterator<Item = &'c StepClause>) -> Self {
        let mut out = StepClauses::default();
        for clause in clauses {
            match clause {
                StepClause::Window(range) => out.window = Some(range),
                StepClause::Learn(range) => out.learn = Some(range),
                StepClause::Where(conditions, _) => out.conditions = Some(conditions),
                StepClause::Shift(shift) => out.shift = Some(shift),
                StepClause::Speed(lit) => out.speed = Some(lit),
                StepClause::Measures(names) => out.measures = Some(names),
                StepClause::Set(assignments, _) => out.set = Some(assignments),
                StepClause::Schedule(schedule) => out.schedule = Some(schedule),
                StepClause::Model(model) => out.model = Some(model),
                // A generate reads these in order, each may repeat; unknown
                // words were reported where they stand.
                StepClause::Series(..) | StepClause::Measure(_) | StepClause::Unknown(_) => {}
            }
        }
        out
    }
}

impl Validator<'_> {
    pub(super) fn replay(
        &mut self,
        r: &ast::Replay,
        statement: &ast::Statement,
        declared: &Declared,
    ) -> (Option<Step>, Shape) {
        let source = self.source_ref(&r.source, declared);
        let table = self.table_ref(&r.table, declared);
        let clauses = self.step_clauses("replay", &r.clauses, REPLAY_CLAUSES);
        let mut ok = table && source.is_some();
        let window = clauses.window.and_then(|range| {
            let w = self.recorded_window(range, Clause::Window);
            ok &= w.is_some();
            w
        });
        let filter = self.where_clause(&clauses, source.map(|s| s.dimension_names.as_slice()));
        let shift = self.shift_clause(&clauses, &mut ok);
        let speed = match clauses.speed {
            Some(lit) => match self.number(lit) {
                Some(n) if n.value > 0.0 => n.value,
                Some(_) => {
                    self.report(
                        kind::NotPositive {
                            what: Positive::Speed,
                        },
                        lit.span,
                    );
                    ok = false;
                    1.0
                }
                None => {
                    ok = false;
                    1.0
                }
            },
            None => 1.0,
        };
        if let (Some(window), Some(range)) = (window, clauses.window) {
            let blame = clauses.shift.map_or(range.span, |s| s.span);
            ok &= self.replay_lands(window, &shift, speed, clauses.speed, blame);
        }
        let all_measures = source.and_then(wide_measures);
        let measures = match clauses.measures {
            Some(names) => {
                let mut chosen: Vec<String> = Vec::new();
                let mut seen = BTreeMap::new();
                for name in names {
                    if !self.first_name(&mut seen, NameKind::Measure, name) {
                        ok = false;
                        continue;
                    }
                    if let Some(all) = &all_measures
                        && !all.iter().any(|(m, _)| m == &name.value)
                    {
                        self.unknown_name(
                            NameKind::Measure,
                            name,
                            all.iter().map(|(m, _)| m.as_str()),
                        );
                        ok = false;
                    }
                    chosen.push(name.value.clone());
                }
                Some(chosen)
            }
            None => None,
        };
        let set = self.set_clause(&clauses, &mut ok);
        let mut shape = Shape {
            table: r.table.value.clone(),
            open_measures: all_measures.is_none() || statement.recovered || clauses.lost_list_item,
            open_dimensions: statement.recovered || clauses.lost_list_item,
            ..Shape::default()
        };
        for (name, ty) in all_measures.unwrap_or_default() {
            if measures.as_ref().is_none_or(|m| m.contains(&name)) {
                // Held to the target's rules at the source's `measures`.
                shape.named_at_source.insert(name.clone());
                shape.measures.push((name, ty, r.source.span));
            }
        }
        self.series_dimensions(&mut shape, source, &r.source, &clauses);
        let step = Step::Replay(Replay {
            source: r.source.value.clone(),
            table: r.table.value.clone(),
            window,
            filter,
            shift,
            speed,
            measures,
            set,
            line: self.line(statement.span.start),
        });
        (ok.then_some(step), shape)
    }

    pub(super) fn generate(
        &mut self,
        g: &ast::Generate,
        statement: &ast::Statement,
        declared: &Declared,
    ) -> (Option<Step>, Shape) {
        let mut ok = self.table_ref(&g.table, declared);
        let mut once = Vec::new();
        let mut series = DeclaredSeries::default();
        let mut measures: Vec<GeneratedMeasure> = Vec::new();
        let mut measure_spans: BTreeMap<String, Span> = BTreeMap::new();
        let mut shape = Shape {
            table: g.table.value.clone(),
            open_measures: statement.recovered,
            open_dimensions: statement.recovered,
            ..Shape::default()
        };
        let mut previous: Option<&StepClause> = None;
        for clause in &g.clauses {
            match &clause.value {
                StepClause::Series(assignments, span) => {
                    let values = self.assignments(assignments, &mut ok);
                    ok &= self.series_clause(&mut series, assignments, &values, *span);
                    for a in assignments {
                        shape
                            .dimensions
                            .push((a.dimension.value.clone(), a.dimension.span));
                    }
                }
                StepClause::Measure(m) => {
                    if !self.first_name(&mut measure_spans, NameKind::Measure, &m.name) {
                        ok = false;
                        continue;
                    }
                    let ty = self.word(&m.ty, "type", super::declarations::MEASURE_TYPES);
                    let model = ty.and_then(|ty| self.model(&m.model, ty, ModelPlace::Generate));
                    if let Some(ty) = ty {
                        shape.measures.push((m.name.value.clone(), ty, m.name.span));
                    }
                    match (ty, model) {
                        (Some(ty), Some(model)) => {
                            measures.push(GeneratedMeasure {
                                name: m.name.value.clone(),
                                ty,
                                model,
                            });
                        }
                        _ => ok = false,
                    }
                }
                StepClause::Unknown(name) => {
                    if self.unknown_or_missing_comma("generate", name, previous, GENERATE_CLAUSES) {
                        // The lost list item may be a dimension: what the
                        // table receives is not known for sure.
                        shape.open_dimensions = true;
                        shape.open_measures = true;
                    }
                    ok = false;
                }
                other => once.extend(other.clause().map(|c| (c, clause.span, other))),
            }
            previous = Some(&clause.value);
        }
        let single = StepClauses::new(self.once(once.into_iter()));
        let schedule = single.schedule.and_then(|s| self.schedule(s));
        if !statement.recovered {
            if series.series.is_empty()
                && !g
                    .clauses
                    .iter()
                    .any(|c| matches!(c.value, StepClause::Series(..)))
            {
                self.missing_clause(
                    "generate",
                    Clause::Series,
                    "series device_id = \"sim-001\"",
                    statement.keyword,
                );
                ok = false;
            }
            if single.schedule.is_none() {
                self.missing_clause(
                    "generate",
                    Clause::From,
                    "from now - 1h to now every 1m",
                    statement.keyword,
                );
            }
            if measure_spans.is_empty() {
                self.missing_clause(
                    "generate",
                    Clause::Measure,
                    "measure temperature double = noise(sigma: 1)",
                    statement.keyword,
                );
                ok = false;
            }
        }
        let Some(schedule) = schedule else {
            return (None, shape);
        };
        let step = Step::Generate(Generate {
            table: g.table.value.clone(),
            series: series.series,
            series_clauses: series.clauses,
            schedule,
            measures,
            line: self.line(statement.span.start),
        });
        (ok.then_some(step), shape)
    }

    pub(super) fn extrapolate(
        &mut self,
        e: &ast::Extrapolate,
        statement: &ast::Statement,
        declared: &Declared,
    ) -> (Option<Step>, Shape) {
        let source = self.source_ref(&e.source, declared);
        let table = self.table_ref(&e.table, declared);
        let clauses = self.step_clauses("extrapolate", &e.clauses, EXTRAPOLATE_CLAUSES);
        let mut ok = table && source.is_some();
        let ty = match source.map(|s| &s.measures) {
            Some(SourceMeasures::Wide(defs)) => {
                match defs.iter().find(|d| d.table_name == e.measure.value) {
                    Some(d) => Some(d.ty),
                    None => {
                        self.unknown_name(
                            NameKind::Measure,
                            &e.measure,
                            defs.iter().map(|d| d.table_name.as_str()),
                        );
                        None
                    }
                }
            }
            Some(SourceMeasures::Long { ty, .. }) => Some(*ty),
            None => None,
        };
        let learn = clauses
            .learn
            .and_then(|range| self.recorded_window(range, Clause::Learn));
        let filter = self.where_clause(&clauses, source.map(|s| s.dimension_names.as_slice()));
        let schedule = clauses.schedule.and_then(|s| self.schedule(s));
        let model = match (clauses.model, ty) {
            (Some(m), Some(ty)) => {
                let model = self.model(m, ty, ModelPlace::Extrapolate);
                if let (Some(model), Some(learn)) = (&model, learn) {
                    self.season_fits(model, m, learn.end.0 - learn.start.0, &mut ok);
                }
                model
            }
            _ => None,
        };
        let shift = self.shift_clause(&clauses, &mut ok);
        if let (Some(schedule), Some(written)) = (&schedule, clauses.shift)
            && let Some(reason) = extrapolate_shift_problem(&shift, schedule)
        {
            self.report(kind::ExtrapolateShift { reason }, written.span);
            ok = false;
        }
        let set = self.set_clause(&clauses, &mut ok);
        if !statement.recovered {
            for (clause, given, example) in [
                (
                    Clause::Learn,
                    clauses.learn.is_some(),
                    "learn 2024-03-06T00:00Z .. 2024-03-13T00:00Z",
                ),
                (
                    Clause::From,
                    clauses.schedule.is_some(),
                    "from now for 6h every 1m",
                ),
                (
                    Clause::Model,
                    clauses.model.is_some(),
                    "model seasonal(period: 24h) + trend",
                ),
            ] {
                if !given {
                    self.missing_clause("extrapolate", clause, example, statement.keyword);
                }
            }
        }
        let mut shape = Shape {
            table: e.table.value.clone(),
            measures: ty
                .map(|ty| (e.measure.value.clone(), ty, e.measure.span))
                .into_iter()
                .collect(),
            open_measures: source.is_none() || statement.recovered || clauses.lost_list_item,
            open_dimensions: statement.recovered || clauses.lost_list_item,
            ..Shape::default()
        };
        if matches!(source.map(|s| &s.measures), Some(SourceMeasures::Wide(_))) {
            // A wide source's measure: held to the target's rules there.
            shape.named_at_source.insert(e.measure.value.clone());
        }
        self.series_dimensions(&mut shape, source, &e.source, &clauses);
        let (Some(ty), Some(learn), Some(schedule), Some(model)) = (ty, learn, schedule, model)
        else {
            return (None, shape);
        };
        let step = Step::Extrapolate(Extrapolate {
            source: e.source.value.clone(),
            measure: e.measure.value.clone(),
            ty,
            table: e.table.value.clone(),
            learn,
            filter,
            schedule,
            model,
            shift,
            set,
            line: self.line(statement.span.start),
        });
        (ok.then_some(step), shape)
    }

    /// A seasonal period longer than the learned window leaves phases with
    /// no learned value.
    fn season_fits(
        &mut self,
        model: &crate::model::Model,
        syntax: &ast::ModelSyntax,
        learned: i64,
        ok: &mut bool,
    ) {
        for (term, t) in model.terms.iter().zip(&syntax.terms) {
            if let Term::Seasonal { period } = term
                && period.0 > learned
            {
                self.report(
                    kind::ParameterOutOfRange {
                        name: "period".into(),
                        value: period.to_string(),
                        constraint: format!("at most the learned window ({})", Duration(learned)),
                    },
                    t.span,
                );
                *ok = false;
            }
        }
    }

    fn source_ref<'d>(&mut self, name: &ast::Name, declared: &'d Declared) -> Option<&'d Source> {
        if let Some(source) = declared.sources.get(&name.value) {
            return Some(source);
        }
        if !self.unparsed.contains(&name.value) {
            self.unknown_name(
                NameKind::Source,
                name,
                declared.source_spans.keys().map(String::as_str),
            );
        }
        None
    }

    /// Whether the table exists (reported when it does not).
    fn table_ref(&mut self, name: &ast::Name, declared: &Declared) -> bool {
        if declared.tables.contains_key(&name.value) {
            return true;
        }
        if !self.unparsed.contains(&name.value) {
            self.unknown_name(
                NameKind::Table,
                name,
                declared.table_spans.keys().map(String::as_str),
            );
        }
        false
    }

    /// Splits a block's clauses: reports unknown and repeated ones and
    /// returns the first of each, and whether a list lost an item.
    fn step_clauses<'c>(
        &mut self,
        statement: &str,
        clauses: &'c [Spanned<StepClause>],
        allowed: &[Clause],
    ) -> StepClauses<'c> {
        let mut once = Vec::new();
        let mut lost_list_item = false;
        let mut previous: Option<&StepClause> = None;
        for clause in clauses {
            match &clause.value {
                StepClause::Unknown(name) => {
                    lost_list_item |=
                        self.unknown_or_missing_comma(statement, name, previous, allowed);
                }
                other => once.extend(other.clause().map(|c| (c, clause.span, other))),
            }
            previous = Some(&clause.value);
        }
        StepClauses {
            lost_list_item,
            ..StepClauses::new(self.once(once.into_iter()))
        }
    }

    /// `measures a b` parses as a clause `b`: when an unknown clause stands
    /// on the line of a list, the list is missing a comma. Says whether it
    /// was a lost list item (and not an unknown clause).
    fn unknown_or_missing_comma(
        &mut self,
        statement: &str,
        name: &ast::Name,
        previous: Option<&StepClause>,
        allowed: &[Clause],
    ) -> bool {
        let list_end = match previous {
            Some(StepClause::Measures(list)) => list.last().map(|n| (List::Measures, n.span)),
            Some(StepClause::Set(list, _)) => list.last().map(|a| (List::Set, a.value.span)),
            Some(StepClause::Series(list, _)) => list.last().map(|a| (List::Series, a.value.span)),
            _ => None,
        };
        match list_end {
            Some((list, end)) if self.line(end.end) == self.line(name.span.start) => {
                let kind = kind::MissingComma { list };
                self.report(kind, name.span);
                true
            }
            _ => {
                self.unknown_clause(statement, name, allowed);
                false
            }
        }
    }

    fn where_clause(&mut self, clauses: &StepClauses, dims: Option<&[String]>) -> Filter {
        match clauses.conditions {
            Some(conditions) => self.filter(conditions, dims),
            None => Filter::default(),
        }
    }

    fn shift_clause(&mut self, clauses: &StepClauses, ok: &mut bool) -> Shift {
        let Some(shift) = clauses.shift else {
            return Shift::None;
        };
        let result = match &shift.value {
            ShiftSyntax::StartTo(t) => self.time_point(t).map(Shift::StartTo),
            ShiftSyntax::EndTo(t) => self.time_point(t).map(Shift::EndTo),
            ShiftSyntax::By(lit) => self.duration(lit).map(Shift::By),
            ShiftSyntax::CalendarDays { days, zone } => {
                let n = match days.value.parse::<i64>() {
                    Ok(n) if n.unsigned_abs() <= MAX_CALENDAR_DAYS => Some(n),
                    _ => {
                        let kind = kind::ParameterOutOfRange {
                            name: "days".into(),
                            value: days.value.clone(),
                            constraint: format!("at most {MAX_CALENDAR_DAYS} either way"),
                        };
                        self.report(kind, days.span);
                        None
                    }
                };
                let tz = self.time_zone(zone);
                n.zip(tz)
                    .map(|(days, zone)| Shift::CalendarDays { days, zone })
            }
        };
        *ok &= result.is_some();
        result.unwrap_or(Shift::None)
    }

    fn set_clause(&mut self, clauses: &StepClauses, ok: &mut bool) -> BTreeMap<String, String> {
        match clauses.set {
            Some(assignments) => self.assignments(assignments, ok),
            None => BTreeMap::new(),
        }
    }

    fn assignments(
        &mut self,
        assignments: &[Assignment],
        ok: &mut bool,
    ) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        let mut seen = BTreeMap::new();
        for a in assignments {
            if !self.first_name(&mut seen, NameKind::Dimension, &a.dimension) {
                *ok = false;
                continue;
            }
            out.insert(a.dimension.value.clone(), a.value.value.clone());
        }
        out
    }

    /// A step fed from a source writes the source's dimensions and those its
    /// `set` adds.
    fn series_dimensions(
        &mut self,
        shape: &mut Shape,
        source: Option<&Source>,
        at: &ast::Name,
        clauses: &StepClauses,
    ) {
        match source {
            Some(source) => {
                for d in &source.dimension_names {
                    shape.dimensions.push((d.clone(), at.span));
                    // Held to the target's rules at the source's `dimensions`.
                    shape.named_at_source.insert(d.clone());
                }
            }
            // A source that is unknown or broken: what it gives is unknown.
            None => {
                shape.open_measures = true;
                shape.open_dimensions = true;
            }
        }
        if let Some(assignments) = clauses.set {
            for a in assignments {
                shape
                    .dimensions
                    .push((a.dimension.value.clone(), a.dimension.span));
            }
        }
    }
}

/// A wide source's measures with their types; `None` for long rows, whose
/// measure names come from the data.
fn wide_measures(source: &Source) -> Option<Vec<(String, MeasureType)>> {
    match &source.measures {
        SourceMeasures::Wide(defs) => {
            Some(defs.iter().map(|d| (d.table_name.clone(), d.ty)).collect())
        }
        SourceMeasures::Long { .. } => None,
    }
}

/// Why an extrapolation's shift cannot place its learned window on its
/// schedule: the two must be of one kind (relative to `now`, or instants).
fn extrapolate_shift_problem(shift: &Shift, schedule: &crate::model::Schedule) -> Option<String> {
    let relative = schedule.is_relative();
    match shift {
        Shift::CalendarDays { .. } => Some(
            "an extrapolation does not shift by calendar days; use `shift by 7d`, `shift start to` or `shift end to`"
                .into(),
        ),
        Shift::By(_) if relative => Some(
            "`shift by` moves recorded instants, but this schedule is placed relative to `now`; drop the shift (the learned window's end then maps to `from`), or use `shift end to now - 1h`"
                .into(),
        ),
        Shift::StartTo(p) | Shift::EndTo(p) if p.is_relative() != relative => Some(
            if relative {
                "the schedule is relative to `now`, so the shift must be too, as in `shift end to now - 1h`".into()
            } else {
                "the schedule is at recorded instants, so the shift must be too, as in `shift end to 2024-03-13T00:00Z`".into()
            },
        ),
        _ => None,
    }
}
