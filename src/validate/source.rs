//! `source` declarations: columns, their names in the table (`as`), the
//! CSV dialect, redaction, and measure types (written, or taken from an
//! UNLOAD export's metadata).

use std::collections::BTreeMap;

use super::Validator;
use super::declarations::MEASURE_TYPES;
use crate::diagnostics::kind;
use crate::diagnostics::kind::{Clause, List, MeasureTypeProblem, NameKind};
use crate::diagnostics::suggest::closest;
use crate::lang::ast::{self, SourceClause, Span, TimeFormatSyntax};
use crate::lang::literal::{Ambiguous, Nonexistent};
use crate::model::{
    CsvDialect, DEFAULT_SALT_ENV, EpochUnit, MeasureDef, MeasureType, Redaction, Source,
    SourceKind, SourceMeasures, TimeFormat,
};
use crate::model::{NameProblem, NameRules};
use crate::sources::{DataError, ExportColumn, FileColumns};

const SOURCE_CLAUSES: &[Clause] = &[
    Clause::Time,
    Clause::Timezone,
    Clause::Nonexistent,
    Clause::Ambiguous,
    Clause::Dimensions,
    Clause::Measures,
    Clause::Delimiter,
    Clause::Escape,
    Clause::Redact,
];

/// What validation asks for a source's columns: `sources::file_columns`
/// when a command checks a file (it reads a CSV header, a JSON lines
/// file's first objects or an export's metadata, never the data), and
/// what a test gives it otherwise. `Ok(None)` when they cannot be known
/// cheaply (an export without metadata).
pub(crate) type SourceColumns<'a> = &'a dyn Fn(&Source) -> Result<Option<FileColumns>, DataError>;

/// A measure as declared, its type still to settle.
struct Declared<'s> {
    column: &'s ast::Name,
    table_name: String,
    written: Option<(MeasureType, Span)>,
    /// Where a missing or disagreeing type is reported.
    at: Span,
}

/// `measures from NAME value VALUE [TYPE]`: the two columns, the type if
/// written, and the clause's span.
type LongDeclared<'s> = (
    &'s ast::Name,
    &'s ast::Name,
    Option<(MeasureType, Span)>,
    Span,
);

impl Validator<'_> {
    pub(super) fn source(&mut self, s: &ast::Source, statement: &ast::Statement) -> Option<Source> {
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
        let exists = path.is_file();
        if !exists {
            self.report(
                kind::SourceFileMissing {
                    path: s.path.value.clone(),
                    resolved: path.display().to_string(),
                },
                s.path.span,
            );
        }
        let names_a_manifest = s.path.value.ends_with("manifest.json");
        if kind == Some(SourceKind::Unload) && !names_a_manifest {
            self.report(kind::NotAManifest, s.path.span);
        }
        let mut time = None;
        let mut timezone = chrono_tz::UTC;
        let mut nonexistent = Nonexistent::Shift;
        let mut ambiguous = Ambiguous::Earlier;
        let mut ambiguous_line = None;
        let mut dimensions: Vec<String> = Vec::new();
        let mut dimension_names: Vec<String> = Vec::new();
        let mut wide: Option<Vec<Declared>> = None;
        let mut long: Option<LongDeclared> = None;
        let mut dialect = CsvDialect::default_for(kind.unwrap_or(SourceKind::Csv));
        let mut redact: Option<(&[ast::Name], Option<&ast::Spanned<String>>)> = None;
        let mut seen: BTreeMap<Clause, Span> = BTreeMap::new();
        let mut ok = kind.is_some();
        let mut previous_list: Option<(List, Span)> = None;
        // Every column the source names, to look for in the file.
        let mut named: Vec<&ast::Name> = Vec::new();
        for clause in &s.clauses {
            let list = match clause {
                SourceClause::Dimensions(l) => l.last().map(|d| {
                    (
                        List::Dimensions,
                        d.rename.as_ref().unwrap_or(&d.column).span,
                    )
                }),
                SourceClause::Measures(l) => l.last().map(|d| (List::Measures, d.end())),
                _ => None,
            };
            let after_list = std::mem::replace(&mut previous_list, list);
            let (keyword, span) = match clause {
                SourceClause::Time { span, .. } => (Clause::Time, *span),
                SourceClause::Timezone(z) => (Clause::Timezone, z.span),
                SourceClause::Nonexistent(n) => (Clause::Nonexistent, n.span),
                SourceClause::Ambiguous(n) => (Clause::Ambiguous, n.span),
                SourceClause::Dimensions(list) => (Clause::Dimensions, list[0].column.span),
                SourceClause::Measures(list) => (Clause::Measures, list[0].name.span),
                SourceClause::LongMeasures { span, .. } => (Clause::Measures, *span),
                SourceClause::Delimiter(d) => (Clause::Delimiter, d.span),
                SourceClause::Escape(e) => (Clause::Escape, e.span),
                SourceClause::Redact { span, .. } => (Clause::Redact, *span),
                SourceClause::Unknown(name) => {
                    match after_list {
                        Some((list, end)) if self.line(end.end) == self.line(name.span.start) => {
                            self.report(kind::MissingComma { list }, name.span);
                            ok = false;
                            // Read it as the comma were there, so later steps do
                            // not call the name unknown.
                            if list == List::Dimensions {
                                dimensions.push(name.value.clone());
                                dimension_names.push(name.value.clone());
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
                    named.push(column);
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
                        ("in_order", Ambiguous::InOrder),
                    ];
                    match self.word(w, "`ambiguous` policy", &options) {
                        Some(a) => {
                            ambiguous = a;
                            ambiguous_line = Some(self.line(w.span.start));
                        }
                        None => ok = false,
                    }
                }
                SourceClause::Dimensions(list) => {
                    let mut seen_columns = BTreeMap::new();
                    let mut seen_names = BTreeMap::new();
                    for decl in list {
                        let name = decl.rename.as_ref().unwrap_or(&decl.column);
                        if !self.first_name(&mut seen_columns, NameKind::Column, &decl.column)
                            || !self.first_name(&mut seen_names, NameKind::Dimension, name)
                        {
                            ok = false;
                            continue;
                        }
                        self.column_name(NameKind::Dimension, &decl.column, decl.rename.as_ref());
                        named.push(&decl.column);
                        dimensions.push(decl.column.value.clone());
                        dimension_names.push(name.value.clone());
                    }
                }
                SourceClause::Measures(list) => {
                    let mut defs = Vec::new();
                    let mut seen_columns = BTreeMap::new();
                    let mut seen_names = BTreeMap::new();
                    for decl in list {
                        let name = decl.rename.as_ref().unwrap_or(&decl.name);
                        if !self.first_name(&mut seen_columns, NameKind::Column, &decl.name)
                            || !self.first_name(&mut seen_names, NameKind::Measure, name)
                        {
                            ok = false;
                            continue;
                        }
                        self.column_name(NameKind::Measure, &decl.name, decl.rename.as_ref());
                        named.push(&decl.name);
                        let written = match &decl.ty {
                            Some(ty) => match self.word(ty, "type", MEASURE_TYPES) {
                                Some(t) => Some((t, ty.span)),
                                None => {
                                    ok = false;
                                    continue;
                                }
                            },
                            None => None,
                        };
                        defs.push(Declared {
                            column: &decl.name,
                            table_name: name.value.clone(),
                            written,
                            at: decl.end(),
                        });
                    }
                    wide = Some(defs);
                }
                SourceClause::LongMeasures {
                    name_column,
                    value_column,
                    ty,
                    span,
                } => {
                    let written = match ty {
                        Some(ty) => match self.word(ty, "type", MEASURE_TYPES) {
                            Some(t) => Some((t, ty.span)),
                            None => {
                                ok = false;
                                continue;
                            }
                        },
                        None => None,
                    };
                    named.extend([name_column, value_column]);
                    long = Some((name_column, value_column, written, *span));
                }
                SourceClause::Delimiter(d) => match self.dialect_char(Clause::Delimiter, d, kind) {
                    Some(c) => dialect.delimiter = c,
                    None => ok = false,
                },
                SourceClause::Escape(e) => match self.dialect_char(Clause::Escape, e, kind) {
                    Some(c) => dialect.escape = Some(c),
                    None => ok = false,
                },
                SourceClause::Redact {
                    columns, salt_env, ..
                } => redact = Some((columns.as_slice(), salt_env.as_ref())),
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
        let kind = kind.unwrap_or(SourceKind::Csv);
        let mut source = Source {
            name: s.name.value.clone(),
            kind,
            path_written: s.path.value.clone(),
            path,
            time_column,
            time_format,
            timezone,
            nonexistent,
            ambiguous,
            line: self.line(statement.span.start),
            ambiguous_line,
            dimensions,
            dimension_names,
            // Settled below, once the export's types are known.
            measures: SourceMeasures::Wide(Vec::new()),
            dialect,
            redact: None,
        };
        let needs_types = wide
            .iter()
            .flatten()
            .map(|d| d.written)
            .chain(long.map(|l| l.2));
        // A path already reported as not a manifest is not read as one.
        let readable = exists && (kind != SourceKind::Unload || names_a_manifest);
        let needs_types = kind == SourceKind::Unload && needs_types.count() > 0;
        let columns = if readable {
            match (self.columns)(&source) {
                Ok(columns) => columns,
                // An export outatime will not follow is that, whether or
                // not its types were needed from it.
                Err(error) if error.refused && kind == SourceKind::Unload => {
                    let kind = kind::SourceExportRefused {
                        reason: error.to_string(),
                        help: error.help,
                    };
                    self.report(kind, s.path.span);
                    return None;
                }
                // Only an export's types need its metadata; otherwise reading
                // the data reports what is wrong with the file.
                Err(error) if needs_types => {
                    let kind = kind::SourceMeasureType {
                        column: String::new(),
                        problem: MeasureTypeProblem::MetadataUnreadable {
                            reason: error.to_string(),
                            help: error.help,
                        },
                    };
                    self.report(kind, s.path.span);
                    return None;
                }
                Err(_) => None,
            }
        } else {
            None
        };
        // A column the file does not have is reported here, at the source,
        // not where a step names the dimension it would have been.
        let mut missing = Vec::new();
        if let Some(columns) = &columns {
            for name in named {
                if self.column_missing(columns, &s.path.value, name) {
                    missing.push(name.value.as_str());
                }
            }
        }
        if !missing.is_empty() && !matches!(columns, Some(FileColumns::JsonFields { .. })) {
            ok = false;
        }
        let exported = match columns {
            Some(FileColumns::Export(exported)) if kind == SourceKind::Unload => Some(exported),
            _ => None,
        };
        let mut settle =
            |v: &mut Self, column: &ast::Name, written: Option<(MeasureType, Span)>, at| {
                if missing.contains(&column.value.as_str()) && exported.is_some() {
                    // Reported missing above; the metadata gives it no type.
                    return written.map(|(ty, _)| ty);
                }
                let ty = v.measure_type(kind, exported.as_deref(), &column.value, written, at);
                ok &= ty.is_some();
                ty
            };
        source.measures = match (wide, long) {
            (Some(defs), _) => SourceMeasures::Wide(
                defs.into_iter()
                    .filter_map(|d| {
                        settle(self, d.column, d.written, d.at).map(|ty| MeasureDef {
                            name: d.column.value.clone(),
                            table_name: d.table_name,
                            ty,
                        })
                    })
                    .collect(),
            ),
            (None, Some((name_column, value_column, written, at))) => {
                let ty = settle(self, value_column, written, at);
                SourceMeasures::Long {
                    name_column: name_column.value.clone(),
                    value_column: value_column.value.clone(),
                    ty: ty.unwrap_or(MeasureType::Double),
                }
            }
            (None, None) => return None,
        };
        if let Some((columns, salt_env)) = redact {
            source.redact = self.redaction(&source, columns, salt_env);
            ok &= source.redact.is_some();
        }
        ok.then_some(source)
    }

    /// Reports `name` when the file's columns do not hold it; a header
    /// padded with spaces still holds it, as reading the data finds it.
    fn column_missing(&mut self, columns: &FileColumns, file: &str, name: &ast::Name) -> bool {
        use crate::diagnostics::kind::ColumnsFrom;
        let (names, from): (Vec<&str>, ColumnsFrom) = match columns {
            FileColumns::Header(names) => (
                names.iter().map(String::as_str).collect(),
                ColumnsFrom::Header,
            ),
            FileColumns::JsonFields { names, lines } => (
                names.iter().map(String::as_str).collect(),
                ColumnsFrom::JsonFields { lines: *lines },
            ),
            FileColumns::Export(exported) => (
                exported.iter().map(|c| c.name.as_str()).collect(),
                ColumnsFrom::ExportMetadata,
            ),
        };
        let wanted = name.value.as_str();
        if names.iter().any(|n| *n == wanted || n.trim() == wanted) {
            return false;
        }
        let kind = kind::SourceColumnMissing {
            column: wanted.to_string(),
            file: file.to_string(),
            from,
            suggestion: closest(wanted, names.iter().map(|n| n.trim())),
            columns: names.iter().map(|n| n.to_string()).collect(),
        };
        self.report(kind, name.span);
        true
    }

    /// A strftime pattern that chrono can read.
    fn strftime(&mut self, format: &ast::Spanned<String>) -> Option<TimeFormat> {
        use chrono::format::{Item, StrftimeItems};
        if StrftimeItems::new(&format.value).any(|item| matches!(item, Item::Error)) {
            let kind = kind::BadTimeFormat {
                reason: "it has an unknown or incomplete `%` directive".into(),
            };
            self.report(kind, format.span);
            return None;
        }
        Some(TimeFormat::Strftime(format.value.clone()))
    }

    /// `delimiter ";"` / `escape "\\"`: one ASCII character, and only where
    /// there is CSV to read.
    fn dialect_char(
        &mut self,
        clause: Clause,
        written: &ast::Spanned<String>,
        kind: Option<SourceKind>,
    ) -> Option<u8> {
        if kind == Some(SourceKind::Jsonl) {
            self.report(kind::DialectNotForJsonl { clause }, written.span);
            return None;
        }
        match written.value.as_bytes() {
            [c] if c.is_ascii() && !matches!(c, b'\n' | b'\r' | b'"') => Some(*c),
            _ => {
                let kind = kind::BadDialectCharacter {
                    clause,
                    written: written.value.clone(),
                };
                self.report(kind, written.span);
                None
            }
        }
    }

    /// A column that keeps its name in the table must be a name the table
    /// can take; the help suggests an `as` that it can.
    fn column_name(&mut self, kind: NameKind, column: &ast::Name, rename: Option<&ast::Name>) {
        if let Some(rename) = rename {
            self.target_name(kind, &rename.value, rename.span);
            return;
        }
        let Some(problem) = self.rules.problem(kind, &column.value) else {
            return;
        };
        let reason = match problem {
            NameProblem::TooLong { bytes, max } => {
                format!("it is {bytes} bytes, and {max} are allowed")
            }
            NameProblem::Refused(reason) => reason,
        };
        let kind = kind::ColumnNameRefused {
            kind,
            column: column.value.clone(),
            reason,
            suggestion: acceptable_name(self.rules, kind, &column.value),
        };
        self.report(kind, column.span);
    }

    /// A measure's type: as written, or from the export's metadata; both
    /// when both are known and agree.
    fn measure_type(
        &mut self,
        kind: SourceKind,
        exported: Option<&[ExportColumn]>,
        column: &str,
        written: Option<(MeasureType, Span)>,
        at: Span,
    ) -> Option<MeasureType> {
        let listed = exported.and_then(|cols| cols.iter().find(|c| c.name == column));
        let from_export = listed.map(|c| (timestream_type(&c.timestream_type), c));
        let problem = match (written, from_export) {
            (Some((ty, _)), None) => return Some(ty),
            (Some((ty, _)), Some((Some(export), _))) if export == ty => return Some(ty),
            (Some((ty, span)), Some((_, c))) => {
                let problem = MeasureTypeProblem::Disagrees {
                    written: ty,
                    export: c.timestream_type.clone(),
                };
                return self.type_problem(column, problem, span);
            }
            (None, Some((Some(export), _))) => return Some(export),
            (None, Some((None, c))) => MeasureTypeProblem::NotAMeasureType {
                export: c.timestream_type.clone(),
            },
            (None, None) if kind != SourceKind::Unload => MeasureTypeProblem::NotWritten,
            (None, None) if exported.is_some() => MeasureTypeProblem::NotInMetadata,
            (None, None) => MeasureTypeProblem::NoMetadata,
        };
        self.type_problem(column, problem, at)
    }

    fn type_problem(
        &mut self,
        column: &str,
        problem: MeasureTypeProblem,
        at: Span,
    ) -> Option<MeasureType> {
        let kind = kind::SourceMeasureType {
            column: column.into(),
            problem,
        };
        self.report(kind, at);
        None
    }

    /// `redact a, b`: dimension columns and varchar measure columns.
    fn redaction(
        &mut self,
        source: &Source,
        columns: &[ast::Name],
        salt_env: Option<&ast::Spanned<String>>,
    ) -> Option<Redaction> {
        let mut ok = true;
        let mut seen = BTreeMap::new();
        let mut text_columns: Vec<&str> = source.dimensions.iter().map(String::as_str).collect();
        match &source.measures {
            SourceMeasures::Wide(defs) => text_columns.extend(
                defs.iter()
                    .filter(|d| d.ty == MeasureType::Varchar)
                    .map(|d| d.name.as_str()),
            ),
            SourceMeasures::Long {
                value_column, ty, ..
            } if *ty == MeasureType::Varchar => text_columns.push(value_column),
            SourceMeasures::Long { .. } => {}
        }
        for column in columns {
            if !self.first_name(&mut seen, NameKind::Column, column) {
                ok = false;
                continue;
            }
            if text_columns.contains(&column.value.as_str()) {
                continue;
            }
            ok = false;
            let what = if column.value == source.time_column {
                Some("the time column".to_string())
            } else {
                match &source.measures {
                    SourceMeasures::Wide(defs) => defs
                        .iter()
                        .find(|d| d.name == column.value)
                        .map(|d| format!("{} measure", article_type(d.ty))),
                    SourceMeasures::Long {
                        name_column,
                        value_column,
                        ty,
                    } => {
                        if *name_column == column.value {
                            Some("the column that names the measures".into())
                        } else if *value_column == column.value {
                            Some(format!("{} measure", article_type(*ty)))
                        } else {
                            None
                        }
                    }
                }
            };
            match what {
                Some(what) => self.report(
                    kind::RedactNotText {
                        column: column.value.clone(),
                        what,
                    },
                    column.span,
                ),
                None => {
                    let mut known = text_columns.clone();
                    known.sort_unstable();
                    self.report(
                        kind::UnknownName {
                            kind: NameKind::Column,
                            name: column.value.clone(),
                            suggestion: closest(&column.value, known.iter().copied()),
                            known: known.iter().map(|k| k.to_string()).collect(),
                        },
                        column.span,
                    );
                }
            }
        }
        ok.then(|| Redaction {
            columns: columns.iter().map(|c| c.value.clone()).collect(),
            salt_env: salt_env.map_or_else(|| DEFAULT_SALT_ENV.to_string(), |s| s.value.clone()),
        })
    }
}

/// "a double", "a bigint", "a boolean".
fn article_type(ty: MeasureType) -> String {
    format!("a {}", ty.name())
}

/// A measure type from Timestream's word for it, if it is one.
fn timestream_type(word: &str) -> Option<MeasureType> {
    match word.to_ascii_uppercase().as_str() {
        "DOUBLE" => Some(MeasureType::Double),
        "BIGINT" | "INTEGER" => Some(MeasureType::Bigint),
        "BOOLEAN" => Some(MeasureType::Boolean),
        "VARCHAR" => Some(MeasureType::Varchar),
        _ => None,
    }
}

/// A name the table takes, close to `column`: lower case, runs of other
/// characters as one `_`, reserved starts dropped, cut to the limit.
fn acceptable_name(rules: &dyn NameRules, kind: NameKind, column: &str) -> String {
    let mut name = String::new();
    for c in column.chars() {
        if c.is_ascii_alphanumeric() {
            name.push(c.to_ascii_lowercase());
        } else if !name.ends_with('_') {
            name.push('_');
        }
    }
    let mut name = name.trim_matches('_').to_string();
    for prefix in ["measure_", "ts_"] {
        if let Some(rest) = name.strip_prefix(prefix) {
            name = rest.trim_start_matches('_').to_string();
        }
    }
    let max = match kind {
        NameKind::Dimension => 60,
        _ => 256,
    };
    name.truncate(max);
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        name = format!("column_{name}");
    }
    match rules.problem(kind, &name) {
        None => name,
        Some(_) => format!("{name}_{kind}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::targets::DEFAULT_RULES;

    #[test]
    fn suggested_names_are_names_the_table_takes() {
        for column in [
            "measure_value::double",
            "Temp (C)",
            "device-id",
            "time",
            "ts_x",
            "::",
            "9lives",
            &"x".repeat(300),
        ] {
            for kind in [NameKind::Dimension, NameKind::Measure] {
                let name = acceptable_name(DEFAULT_RULES, kind, column);
                assert_eq!(
                    DEFAULT_RULES.problem(kind, &name),
                    None,
                    "{column} → {name}"
                );
            }
        }
        assert_eq!(
            acceptable_name(DEFAULT_RULES, NameKind::Measure, "measure_value::double"),
            "value_double"
        );
        assert_eq!(
            acceptable_name(DEFAULT_RULES, NameKind::Measure, "Temp (C)"),
            "temp_c"
        );
    }
}
