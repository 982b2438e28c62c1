//! What only shows per table once every step is known: the measures and
//! dimensions each table receives, and the names Timestream refuses.

use std::collections::{BTreeMap, BTreeSet};

use super::{Declared, Validator};
use crate::diagnostics::kind::NameKind;
use crate::diagnostics::{DiagnosticKind, kind};
use crate::lang::ast::{self, Span, StatementKind};
use crate::model::NameProblem;
use crate::model::{Layout, MeasureType};

/// What one step writes into its table, with where each name was written.
#[derive(Clone, Debug, Default)]
pub(crate) struct Shape {
    pub table: String,
    pub measures: Vec<(String, MeasureType, Span)>,
    pub dimensions: Vec<(String, Span)>,
    /// The step's measure names are not known before compiling (they come
    /// from a long-row source's data, or the step did not parse fully).
    pub open_measures: bool,
    /// Likewise for dimensions (an unknown source, a lost line).
    pub open_dimensions: bool,
    /// Names a source declares: held to the target's rules there, where an
    /// `as` can fix them, not again at each step.
    pub named_at_source: BTreeSet<String>,
}

impl Shape {
    /// A step that writes into `table` what cannot be known.
    pub(super) fn unknown(table: &str) -> Shape {
        Shape {
            table: table.to_string(),
            open_measures: true,
            open_dimensions: true,
            ..Shape::default()
        }
    }
}

/// What a table receives from all its steps.
#[derive(Clone, Debug, Default)]
pub(crate) struct Received {
    pub measures: BTreeMap<String, (MeasureType, Span)>,
    pub dimensions: BTreeMap<String, Span>,
    pub open_measures: bool,
    pub open_dimensions: bool,
    pub written: bool,
    pub named_at_source: BTreeSet<String>,
}

impl Validator<'_> {
    /// Collects each table's measures and dimensions and checks them.
    pub(super) fn tables(
        &mut self,
        declared: &Declared,
        shapes: &[Shape],
    ) -> BTreeMap<String, Received> {
        let mut received: BTreeMap<String, Received> = BTreeMap::new();
        for shape in shapes {
            let table = received.entry(shape.table.clone()).or_default();
            table.written = true;
            table.open_measures |= shape.open_measures;
            table.open_dimensions |= shape.open_dimensions;
            table
                .named_at_source
                .extend(shape.named_at_source.iter().cloned());
            for (name, ty, span) in &shape.measures {
                match table.measures.get(name) {
                    Some((first_ty, first)) if first_ty != ty => {
                        let kind = kind::MeasureTypeConflict {
                            measure: name.clone(),
                            table: shape.table.clone(),
                            ty: *ty,
                            first_ty: *first_ty,
                            first: *first,
                        };
                        self.report(kind, *span);
                    }
                    Some(_) => {}
                    None => {
                        table.measures.insert(name.clone(), (*ty, *span));
                    }
                }
            }
            for (name, span) in &shape.dimensions {
                table.dimensions.entry(name.clone()).or_insert(*span);
            }
        }
        for name in declared.tables.keys() {
            let Some(got) = received.get(name) else {
                self.report(
                    kind::TableUnused {
                        table: name.clone(),
                    },
                    declared.table_spans[name],
                );
                continue;
            };
            self.table_shape(name, got);
            self.table_measures(name, declared.tables[name].layout, got);
        }
        received
    }

    fn table_shape(&mut self, table: &str, got: &Received) {
        for (name, span) in &got.dimensions {
            if !got.named_at_source.contains(name) {
                self.target_name(NameKind::Dimension, name, *span);
            }
            if let Some((_, measure)) = got.measures.get(name) {
                self.report(
                    kind::DimensionIsMeasure {
                        name: name.clone(),
                        table: table.into(),
                        measure: *measure,
                    },
                    *span,
                );
            }
        }
        for (name, (_, span)) in &got.measures {
            if !got.named_at_source.contains(name) {
                self.target_name(NameKind::Measure, name, *span);
            }
        }
        let max_dimensions = self.rules.max_dimensions_per_table();
        if max_dimensions.is_some_and(|max| got.dimensions.len() > max) {
            let span = *got.dimensions.values().max().unwrap_or(&Span::default());
            self.report(
                kind::TooManyDimensions {
                    table: table.into(),
                    count: got.dimensions.len(),
                },
                span,
            );
        }
    }

    /// How many measures a table receives, against what one of its records
    /// may hold and what the table may name; at the measure that passes the
    /// limit (sorted by name, like the table's measures).
    fn table_measures(&mut self, table: &str, layout: Layout, got: &Received) {
        let count = got.measures.len();
        let at = |max: usize| {
            got.measures
                .values()
                .nth(max)
                .map_or_else(Span::default, |(_, span)| *span)
        };
        if let Some(max) = self
            .rules
            .max_measures_per_record(layout)
            .filter(|max| count > *max)
        {
            let kind = kind::TooManyMeasuresPerRecord {
                table: table.into(),
                count,
                max,
            };
            self.report(kind, at(max));
        } else if let Some(max) = self
            .rules
            .max_measure_names_per_table(layout)
            .filter(|max| count > *max)
        {
            let kind = kind::TooManyMeasureNames {
                table: table.into(),
                count,
                max,
                multi: layout == Layout::Multi,
            };
            self.report(kind, at(max));
        }
    }

    /// What the target would refuse about a table, dimension or measure
    /// name: length, characters, reserved words.
    pub(super) fn target_name(&mut self, kind: NameKind, name: &str, span: Span) {
        let by = self.rules.target();
        let diagnostic: DiagnosticKind = match self.rules.problem(kind, name) {
            None => return,
            Some(NameProblem::TooLong { bytes, max }) => kind::NameTooLong {
                kind,
                name: name.into(),
                bytes,
                max,
                by,
            }
            .into(),
            Some(NameProblem::Refused(reason)) => kind::ReservedName {
                kind,
                name: name.into(),
                reason,
                by,
            }
            .into(),
        };
        self.report(diagnostic, span);
    }

    /// Anomalies name a table's measure and dimensions: check them against
    /// what the table receives.
    pub(super) fn anomaly_targets(
        &mut self,
        file: &ast::File,
        declared: &Declared,
        received: &BTreeMap<String, Received>,
    ) {
        for statement in &file.statements {
            let StatementKind::Anomaly(a) = &statement.kind else {
                continue;
            };
            if !declared.tables.contains_key(&a.table.value) {
                continue;
            }
            let Some(got) = received.get(&a.table.value) else {
                continue;
            };
            if let Some(measure) = &a.measure {
                match got.measures.get(&measure.value) {
                    Some((ty, _)) => self.anomaly_measure_type(a, measure, *ty),
                    None if got.open_measures => {}
                    None => self.unknown_name(
                        NameKind::Measure,
                        measure,
                        got.measures.keys().map(String::as_str),
                    ),
                }
            }
            if got.open_dimensions {
                continue;
            }
            let dims: Vec<String> = got.dimensions.keys().cloned().collect();
            for clause in &a.clauses {
                if let ast::AnomalyClause::Where(conditions, _) = clause {
                    for c in conditions {
                        if !dims.contains(&c.dimension.value) {
                            self.unknown_name(
                                NameKind::Dimension,
                                &c.dimension,
                                dims.iter().map(String::as_str),
                            );
                        }
                    }
                }
            }
        }
    }
}
