//! `source` and `table` declarations.

use std::collections::BTreeMap;

use super::{Declared, Validator};
use crate::diagnostics::kind;
use crate::diagnostics::kind::{Clause, NameKind};
use crate::diagnostics::suggest::closest;
use crate::lang::ast::{self, Span, StatementKind, TableClause};
use crate::model::{Layout, MeasureType, Table};

pub(crate) const MEASURE_TYPES: &[(&str, MeasureType)] = &[
    ("double", MeasureType::Double),
    ("bigint", MeasureType::Bigint),
    ("boolean", MeasureType::Boolean),
    ("varchar", MeasureType::Varchar),
];

const TABLE_CLAUSES: &[Clause] = &[Clause::Name, Clause::Layout, Clause::MeasureName];

/// The measure name of multi-measure records when a table names none.
pub(super) const DEFAULT_MEASURE_NAME: &str = "metrics";

impl Validator<'_> {
    pub(super) fn declarations(&mut self, file: &ast::File) -> Declared {
        let mut declared = Declared {
            sources: BTreeMap::new(),
            tables: BTreeMap::new(),
            source_spans: BTreeMap::new(),
            table_spans: BTreeMap::new(),
        };
        for statement in &file.statements {
            match &statement.kind {
                StatementKind::Source(s) => {
                    if !self.first_name(&mut declared.source_spans, NameKind::Source, &s.name) {
                        continue;
                    }
                    match self.source(s, statement) {
                        Some(source) => {
                            declared.sources.insert(s.name.value.clone(), source);
                        }
                        // Steps that use a broken source are not checked against it.
                        None => {
                            self.unparsed.insert(s.name.value.clone());
                        }
                    }
                }
                StatementKind::Table(t) => {
                    if !self.first_name(&mut declared.table_spans, NameKind::Table, &t.name) {
                        continue;
                    }
                    let table = self.table(t);
                    declared.tables.insert(t.name.value.clone(), table);
                }
                _ => {}
            }
        }
        self.distinct_target_names(&declared);
        declared
    }

    pub(super) fn missing_clause(
        &mut self,
        statement: &str,
        clause: Clause,
        example: &str,
        at: Span,
    ) {
        self.report(
            kind::MissingClause {
                statement: statement.into(),
                clause,
                example: example.into(),
            },
            at,
        );
    }

    pub(super) fn unknown_clause(&mut self, statement: &str, name: &ast::Name, allowed: &[Clause]) {
        let allowed: Vec<String> = allowed.iter().map(Clause::to_string).collect();
        self.report(
            kind::UnknownClause {
                statement: statement.into(),
                clause: name.value.clone(),
                suggestion: closest(&name.value, allowed.iter().map(String::as_str)),
                allowed,
            },
            name.span,
        );
    }

    fn table(&mut self, t: &ast::Table) -> Table {
        let mut table = Table {
            name: t.name.value.clone(),
            line: self.line(t.name.span.start),
            target_name: t.name.value.clone(),
            layout: Layout::Multi,
            measure_name: DEFAULT_MEASURE_NAME.into(),
        };
        let mut seen: BTreeMap<Clause, Span> = BTreeMap::new();
        for clause in &t.clauses {
            let (keyword, span) = match clause {
                TableClause::Name(n) => (Clause::Name, n.span),
                TableClause::Layout(l) => (Clause::Layout, l.span),
                TableClause::MeasureName(m) => (Clause::MeasureName, m.span),
                TableClause::Unknown(name) => {
                    self.unknown_clause("table", name, TABLE_CLAUSES);
                    continue;
                }
            };
            if !self.first_clause(&mut seen, keyword, span) {
                continue;
            }
            match clause {
                TableClause::Name(n) => {
                    self.target_name(NameKind::Table, &n.value, n.span);
                    table.target_name = n.value.clone();
                }
                TableClause::Layout(l) => {
                    let options = [("multi", Layout::Multi), ("single", Layout::Single)];
                    if let Some(layout) = self.word(l, "layout", &options) {
                        table.layout = layout;
                    }
                }
                TableClause::MeasureName(m) => {
                    self.target_name(NameKind::Measure, &m.value, m.span);
                    table.measure_name = m.value.clone();
                }
                TableClause::Unknown(_) => {}
            }
        }
        if !seen.contains_key(&Clause::Name) {
            self.target_name(NameKind::Table, &t.name.value, t.name.span);
        }
        table
    }

    /// Two declarations that write to one target table would mix their data.
    fn distinct_target_names(&mut self, declared: &Declared) {
        let mut in_file_order: Vec<(Span, &crate::model::Table)> = declared
            .tables
            .iter()
            .map(|(name, table)| (declared.table_spans[name.as_str()], table))
            .collect();
        in_file_order.sort_by_key(|(span, _)| *span);
        let mut by_target: BTreeMap<&str, Span> = BTreeMap::new();
        for (span, table) in in_file_order {
            if let Some(&first) = by_target.get(table.target_name.as_str()) {
                let kind = kind::SharedTargetTable {
                    target: table.target_name.clone(),
                    first,
                };
                self.report(kind, span);
                continue;
            }
            by_target.insert(&table.target_name, span);
        }
    }
}
