//! A source's file held to what the source declares: the columns it names
//! are there, and each measure's type is settled, as written or from an
//! UNLOAD export's metadata (both, when they agree).

use super::clauses::DeclaredMeasures;
use crate::diagnostics::kind;
use crate::diagnostics::kind::MeasureTypeProblem;
use crate::diagnostics::suggest::closest;
use crate::lang::ast::{self, Span};
use crate::model::{MeasureDef, MeasureType, Source, SourceKind, SourceMeasures};
use crate::sources::{ExportColumn, FileColumns};
use crate::validate::Validator;

/// What a measure's type is settled from: the source's kind, the export's
/// columns when its metadata was read, and the columns reported missing.
struct TypeSources<'a> {
    kind: SourceKind,
    exported: Option<&'a [ExportColumn]>,
    missing: &'a [&'a str],
}

impl Validator<'_> {
    /// The file's columns, read cheaply (see `SourceColumns`). `None` when
    /// the source is dropped: an export refused, or one whose types are
    /// needed (`needs_types`) with metadata that cannot be read (reported
    /// at `path`). `Some(None)` when the columns are not known.
    pub(super) fn file_columns(
        &mut self,
        source: &Source,
        path: Span,
        needs_types: bool,
    ) -> Option<Option<FileColumns>> {
        let kind = source.kind;
        match (self.columns)(source) {
            Ok(columns) => Some(columns),
            // An export outatime will not follow is that, whether or not
            // its types were needed from it.
            Err(error) if error.refused && kind == SourceKind::Unload => {
                let kind = kind::SourceExportRefused {
                    reason: error.to_string(),
                    help: error.help,
                };
                self.report(kind, path);
                None
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
                self.report(kind, path);
                None
            }
            Err(_) => Some(None),
        }
    }

    /// The columns of `named` that the file (when its columns are known)
    /// lacks, each reported.
    pub(super) fn missing_columns<'s>(
        &mut self,
        columns: Option<&FileColumns>,
        file: &str,
        named: &[&'s ast::Name],
    ) -> Vec<&'s str> {
        let mut missing = Vec::new();
        if let Some(columns) = columns {
            for name in named {
                if self.column_missing(columns, file, name) {
                    missing.push(name.value.as_str());
                }
            }
        }
        missing
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

    /// The declared measures with their types settled; a measure whose
    /// type cannot be is left out, and `ok` turns false.
    pub(super) fn source_measures(
        &mut self,
        kind: SourceKind,
        declared: DeclaredMeasures<'_>,
        columns: Option<FileColumns>,
        missing: &[&str],
        ok: &mut bool,
    ) -> SourceMeasures {
        let exported = match columns {
            Some(FileColumns::Export(exported)) if kind == SourceKind::Unload => Some(exported),
            _ => None,
        };
        let from = TypeSources {
            kind,
            exported: exported.as_deref(),
            missing,
        };
        match declared {
            DeclaredMeasures::Wide(defs) => SourceMeasures::Wide(
                defs.into_iter()
                    .filter_map(|d| {
                        self.settle(&from, d.column, d.written, d.at, ok)
                            .map(|ty| MeasureDef {
                                name: d.column.value.clone(),
                                table_name: d.table_name,
                                ty,
                            })
                    })
                    .collect(),
            ),
            DeclaredMeasures::Long {
                name_column,
                value_column,
                written,
                at,
            } => {
                let ty = self.settle(&from, value_column, written, at, ok);
                SourceMeasures::Long {
                    name_column: name_column.value.clone(),
                    value_column: value_column.value.clone(),
                    ty: ty.unwrap_or(MeasureType::Double),
                }
            }
        }
    }

    /// One measure's type (see `measure_type`); `ok` turns false when it
    /// has none. A column reported missing from an export is not asked
    /// again: the metadata gives it no type.
    fn settle(
        &mut self,
        from: &TypeSources<'_>,
        column: &ast::Name,
        written: Option<(MeasureType, Span)>,
        at: Span,
        ok: &mut bool,
    ) -> Option<MeasureType> {
        if from.missing.contains(&column.value.as_str()) && from.exported.is_some() {
            return written.map(|(ty, _)| ty);
        }
        let ty = self.measure_type(from.kind, from.exported, &column.value, written, at);
        *ok &= ty.is_some();
        ty
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
