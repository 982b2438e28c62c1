//! `source` and `table` declarations.

use std::collections::BTreeMap;

use super::{Declared, Validator};
use crate::diagnostics::DiagnosticKind;
use crate::diagnostics::kind::{Clause, List, NameKind};
use crate::diagnostics::suggest::closest;
use crate::lang::ast::{self, SourceClause, Span, StatementKind, TableClause, TimeFormatSyntax};
use crate::lang::literal::{Ambiguous, Nonexistent};
use crate::validate::model::{
    CsvDialect, EpochUnit, Layout, MeasureDef, MeasureType, Source, SourceKind, SourceMeasures,
    Table, TimeFormat,
};

pub(crate) const MEASURE_TYPES: &[(&str, MeasureType)] = &[
    ("double", MeasureType::Double),
    ("bigint", MeasureType::Bigint),
    ("boolean", MeasureType::Boolean),
    ("varchar", MeasureType::Varchar),
];

const SOURCE_CLAUSES: &[Clause] = &[
    Clause::Time,
    Clause::Timezone,
    Clause::Nonexistent,
    Clause::Ambiguous,
    Clause::Dimensions,
    Clause::Measures,
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

    fn source(&mut self, s: &ast::Source, statement: &ast::Statement) -> Option<Source> {
        let kind = self.word(
            &s.kind,
            "source kind",
            &[
                ("csv", SourceKind::Csv),
                ("jsonl", SourceKind::Jsonl),
                ("unload", SourceKind::Unload),
            ],
        );
        let path = self.base_dir.join(&s.path.value);
        if !path.is_file() {
            self.report(
                DiagnosticKind::SourceFileMissing {
                    path: s.path.value.clone(),
                    resolved: path.display().to_string(),
                },
                s.path.span,
            );
        }
        if kind == Some(SourceKind::Unload) && !s.path.value.ends_with("manifest.json") {
            self.report(DiagnosticKind::NotAManifest, s.path.span);
        }
        let mut time = None;
        let mut timezone = chrono_tz::UTC;
        let mut nonexistent = Nonexistent::Shift;
        let mut ambiguous = Ambiguous::Earlier;
        let mut dimensions: Vec<String> = Vec::new();
        let mut measures = None;
        let mut seen: BTreeMap<Clause, Span> = BTreeMap::new();
        let mut ok = kind.is_some();
        let mut previous_list: Option<(List, Span)> = None;
        for clause in &s.clauses {
            let list = match clause {
                SourceClause::Dimensions(l) => l.last().map(|n| (List::Dimensions, n.span)),
                SourceClause::Measures(l) => l.last().map(|d| (List::Measures, d.ty.span)),
                _ => None,
            };
            let after_list = std::mem::replace(&mut previous_list, list);
            let (keyword, span) = match clause {
                SourceClause::Time { span, .. } => (Clause::Time, *span),
                SourceClause::Timezone(z) => (Clause::Timezone, z.span),
                SourceClause::Nonexistent(n) => (Clause::Nonexistent, n.span),
                SourceClause::Ambiguous(n) => (Clause::Ambiguous, n.span),
                SourceClause::Dimensions(list) => (Clause::Dimensions, list[0].span),
                SourceClause::Measures(list) => (Clause::Measures, list[0].name.span),
                SourceClause::LongMeasures { span, .. } => (Clause::Measures, *span),
                SourceClause::Unknown(name) => {
                    match after_list {
                        Some((list, end)) if self.line(end.end) == self.line(name.span.start) => {
                            self.report(DiagnosticKind::MissingComma { list }, name.span);
                            ok = false;
                            // Read it as the comma were there, so later steps do
                            // not call the name unknown.
                            if list == List::Dimensions {
                                dimensions.push(name.value.clone());
                            }
                        }
                        _ => self.unknown_clause("source", name, SOURCE_CLAUSES),
                    }
                    continue;
                }
            };
            if !self.first_clause(&mut seen, keyword, span) {
                continue;
            }
            match clause {
                SourceClause::Time { column, format, .. } => {
                    let format = match format {
                        None => Some(TimeFormat::Rfc3339),
                        Some(TimeFormatSyntax::Strftime(f)) => self.strftime(f),
                        Some(TimeFormatSyntax::Word(w)) => self
                            .word(
                                w,
                                "time format",
                                &[
                                    ("epoch_s", EpochUnit::Seconds),
                                    ("epoch_ms", EpochUnit::Millis),
                                    ("epoch_us", EpochUnit::Micros),
                                    ("epoch_ns", EpochUnit::Nanos),
                                ],
                            )
                            .map(TimeFormat::Epoch),
                    };
                    ok &= format.is_some();
                    time = format.map(|f| (column.value.clone(), f));
                }
                SourceClause::Timezone(z) => match self.time_zone(z) {
                    Some(tz) => timezone = tz,
                    None => ok = false,
                },
                SourceClause::Nonexistent(w) => {
                    let options = [("shift", Nonexistent::Shift), ("error", Nonexistent::Error)];
                    match self.word(w, "`nonexistent` policy", &options) {
                        Some(n) => nonexistent = n,
                        None => ok = false,
                    }
                }
                SourceClause::Ambiguous(w) => {
                    let options = [
                        ("earlier", Ambiguous::Earlier),
                        ("later", Ambiguous::Later),
                        ("error", Ambiguous::Error),
                    ];
                    match self.word(w, "`ambiguous` policy", &options) {
                        Some(a) => ambiguous = a,
                        None => ok = false,
                    }
                }
                SourceClause::Dimensions(list) => {
                    let mut seen = BTreeMap::new();
                    for name in list {
                        if !self.first_name(&mut seen, NameKind::Dimension, name) {
                            ok = false;
                            continue;
                        }
                        dimensions.push(name.value.clone());
                    }
                }
                SourceClause::Measures(list) => {
                    let mut defs: Vec<MeasureDef> = Vec::new();
                    let mut seen = BTreeMap::new();
                    for decl in list {
                        if !self.first_name(&mut seen, NameKind::Measure, &decl.name) {
                            ok = false;
                            continue;
                        }
                        match self.word(&decl.ty, "type", MEASURE_TYPES) {
                            Some(ty) => defs.push(MeasureDef {
                                name: decl.name.value.clone(),
                                ty,
                            }),
                            None => ok = false,
                        }
                    }
                    measures = Some(SourceMeasures::Wide(defs));
                }
                SourceClause::LongMeasures {
                    name_column,
                    value_column,
                    ty,
                    ..
                } => match self.word(ty, "type", MEASURE_TYPES) {
                    Some(ty) => {
                        measures = Some(SourceMeasures::Long {
                            name_column: name_column.value.clone(),
                            value_column: value_column.value.clone(),
                            ty,
                        })
                    }
                    None => ok = false,
                },
                SourceClause::Unknown(_) => {}
            }
        }
        if !statement.recovered {
            if !seen.contains_key(&Clause::Time) {
                self.missing_clause("source", Clause::Time, "time ts", statement.keyword);
            }
            if !seen.contains_key(&Clause::Measures) {
                self.missing_clause(
                    "source",
                    Clause::Measures,
                    "measures temperature double",
                    statement.keyword,
                );
            }
        }
        let (time_column, time_format) = time?;
        let measures = measures?;
        let kind = kind.unwrap_or(SourceKind::Csv);
        ok.then(|| Source {
            name: s.name.value.clone(),
            kind,
            path_written: s.path.value.clone(),
            path,
            time_column,
            time_format,
            timezone,
            nonexistent,
            ambiguous,
            dimensions,
            measures,
            dialect: CsvDialect::default_for(kind),
        })
    }

    /// A strftime pattern that chrono can read.
    fn strftime(&mut self, format: &ast::Spanned<String>) -> Option<TimeFormat> {
        use chrono::format::{Item, StrftimeItems};
        if StrftimeItems::new(&format.value).any(|item| matches!(item, Item::Error)) {
            let kind = DiagnosticKind::BadTimeFormat {
                reason: "it has an unknown or incomplete `%` directive".into(),
            };
            self.report(kind, format.span);
            return None;
        }
        Some(TimeFormat::Strftime(format.value.clone()))
    }

    pub(super) fn missing_clause(
        &mut self,
        statement: &str,
        clause: Clause,
        example: &str,
        at: Span,
    ) {
        self.report(
            DiagnosticKind::MissingClause {
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
            DiagnosticKind::UnknownClause {
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
        let mut in_file_order: Vec<(Span, &crate::validate::model::Table)> = declared
            .tables
            .iter()
            .map(|(name, table)| (declared.table_spans[name.as_str()], table))
            .collect();
        in_file_order.sort_by_key(|(span, _)| *span);
        let mut by_target: BTreeMap<&str, Span> = BTreeMap::new();
        for (span, table) in in_file_order {
            if let Some(&first) = by_target.get(table.target_name.as_str()) {
                let kind = DiagnosticKind::SharedTargetTable {
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
