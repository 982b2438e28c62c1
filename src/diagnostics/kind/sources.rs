//! `source` statements: the file, its dialect, its columns and its
//! measures' types.

use super::facts::{Facts, Severity};
use super::words::Clause;
use crate::measure_type::MeasureType;

/// `source fleet csv "missing.csv" { ... }`
#[derive(Clone, Debug, PartialEq)]
pub struct SourceFileMissing {
    pub path: String,
    pub resolved: String,
}

impl Facts for SourceFileMissing {
    const CODE: &'static str = "source::file_missing";

    fn message(&self) -> String {
        format!("source file `{}` does not exist", self.path)
    }

    fn help(&self) -> Option<String> {
        Some(format!(
            "paths are relative to the scenario file; looked for `{}`",
            self.resolved
        ))
    }
}

/// An export `check` reads for its columns that outatime will not follow:
/// a result file URL `s3://b/p/results/../../etc/passwd`, a metadata file
/// that is a link out of the export or a FIFO, a manifest listing more
/// files than the limit. `reason` and `help` are the reader's
/// (`sources::DataError`).
#[derive(Clone, Debug, PartialEq)]
pub struct SourceExportRefused {
    pub reason: String,
    pub help: Option<String>,
}

impl Facts for SourceExportRefused {
    const CODE: &'static str = "source::export_refused";

    fn message(&self) -> String {
        format!("outatime will not read this export: {}", self.reason)
    }

    fn help(&self) -> Option<String> {
        Some(
            self.help
                .clone()
                .unwrap_or_else(|| "export the data again".into()),
        )
    }
}

/// `source s unload "export.csv" { ... }`
#[derive(Clone, Debug, PartialEq)]
pub struct NotAManifest;

impl Facts for NotAManifest {
    const CODE: &'static str = "source::not_a_manifest";

    fn message(&self) -> String {
        "an `unload` source names the export's `..._manifest.json` file".into()
    }

    fn help(&self) -> Option<String> {
        Some("point at the manifest UNLOAD wrote, such as `exports/run1_manifest.json`, or use `csv` for a single file".into())
    }
}

/// `delimiter ";;"`, `escape "é"`: a CSV dialect takes one ASCII character.
#[derive(Clone, Debug, PartialEq)]
pub struct BadDialectCharacter {
    pub clause: Clause,
    pub written: String,
}

impl Facts for BadDialectCharacter {
    const CODE: &'static str = "source::bad_dialect_character";

    fn message(&self) -> String {
        format!(
            "`{}` takes one ASCII character, not `{}`",
            self.clause,
            self.written.escape_debug()
        )
    }

    fn help(&self) -> Option<String> {
        Some(format!(
            "write one character, as in `{} \";\"` (a tab is `\"\\t\"`)",
            self.clause
        ))
    }
}

/// `delimiter ","` in a `jsonl` source.
#[derive(Clone, Debug, PartialEq)]
pub struct DialectNotForJsonl {
    pub clause: Clause,
}

impl Facts for DialectNotForJsonl {
    const CODE: &'static str = "source::dialect_not_for_jsonl";

    fn message(&self) -> String {
        format!(
            "a `jsonl` source has no `{}`: JSON lines are not CSV",
            self.clause
        )
    }

    fn help(&self) -> Option<String> {
        Some(format!("remove `{}`", self.clause))
    }
}

/// `time ts format "%Q"`
#[derive(Clone, Debug, PartialEq)]
pub struct BadTimeFormat {
    pub reason: String,
}

impl Facts for BadTimeFormat {
    const CODE: &'static str = "source::bad_time_format";

    fn message(&self) -> String {
        format!("time format is not valid: {}", self.reason)
    }

    fn help(&self) -> Option<String> {
        Some("use chrono's strftime directives, such as `%Y-%m-%d %H:%M:%S`".into())
    }
}

/// `redact ts` (the time column), `redact temperature` (a double).
#[derive(Clone, Debug, PartialEq)]
pub struct RedactNotText {
    pub column: String,
    pub what: String,
}

impl Facts for RedactNotText {
    const CODE: &'static str = "source::redact_not_text";

    fn message(&self) -> String {
        format!("`{}` cannot be redacted: it is {}", self.column, self.what)
    }

    fn help(&self) -> Option<String> {
        Some(
            "redact dimension columns and varchar measure columns only: pseudonyms are text".into(),
        )
    }
}

/// `dimensions device` where `fleet.csv`'s header names `device_id`.
#[derive(Clone, Debug, PartialEq)]
pub struct SourceColumnMissing {
    pub column: String,
    /// The source's path as written.
    pub file: String,
    pub from: ColumnsFrom,
    /// The file's columns, in its order.
    pub columns: Vec<String>,
    pub suggestion: Option<String>,
}

/// Where `check` read a source file's columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnsFrom {
    /// A CSV file's first row.
    Header,
    /// An UNLOAD export's `*_metadata.json`.
    ExportMetadata,
    /// The fields of a JSON lines file's first objects.
    JsonFields { lines: u64 },
}

impl Facts for SourceColumnMissing {
    const CODE: &'static str = "source::column_missing";

    fn severity(&self) -> Severity {
        match self.from {
            // Only the first lines were read: a later object may have it.
            ColumnsFrom::JsonFields { .. } => Severity::Warning,
            ColumnsFrom::Header | ColumnsFrom::ExportMetadata => Severity::Error,
        }
    }

    fn message(&self) -> String {
        let SourceColumnMissing {
            column, file, from, ..
        } = self;
        match from {
            ColumnsFrom::Header => format!("column `{column}` is not in the header of `{file}`"),
            ColumnsFrom::ExportMetadata => {
                format!("column `{column}` is not among the columns the export's metadata names")
            }
            ColumnsFrom::JsonFields { lines } => {
                format!("no object in the first {lines} lines of `{file}` has a field `{column}`")
            }
        }
    }

    fn label(&self) -> String {
        "not a column of the file".into()
    }

    fn help(&self) -> Option<String> {
        const LISTED: usize = 20;
        let columns = &self.columns;
        let mut listed = columns
            .iter()
            .take(LISTED)
            .map(|c| format!("`{c}`"))
            .collect::<Vec<_>>()
            .join(", ");
        if columns.len() > LISTED {
            listed.push_str(&format!(" and {} more", columns.len() - LISTED));
        }
        Some(match &self.suggestion {
            Some(near) => format!("did you mean `{near}`? the file's columns are {listed}"),
            None => format!("name one of the file's columns: {listed}"),
        })
    }
}

/// `measures temperature` in a CSV source (no type, and no export metadata
/// to take it from); `measures t bigint` where the export says DOUBLE.
#[derive(Clone, Debug, PartialEq)]
pub struct SourceMeasureType {
    pub column: String,
    pub problem: MeasureTypeProblem,
}

/// Why a source's measure has no type, or a type that does not hold.
#[derive(Clone, Debug, PartialEq)]
pub enum MeasureTypeProblem {
    /// A `csv` or `jsonl` source: nothing else knows the type.
    NotWritten,
    /// An `unload` export without a `*_metadata.json` beside its manifest.
    NoMetadata,
    /// The export's metadata does not list the column.
    NotInMetadata,
    /// The metadata's type (`TIMESTAMP`, `ARRAY`, ...) is not a measure's.
    NotAMeasureType { export: String },
    /// The scenario says one type, the export's metadata another.
    Disagrees {
        written: MeasureType,
        export: String,
    },
    /// The export (its manifest or metadata) cannot be read; `help` is the
    /// reader's advice, when it has one.
    MetadataUnreadable {
        reason: String,
        help: Option<String>,
    },
}

impl Facts for SourceMeasureType {
    const CODE: &'static str = "source::measure_type";

    fn message(&self) -> String {
        let column = &self.column;
        match &self.problem {
            MeasureTypeProblem::NotWritten => format!("measure `{column}` has no type"),
            MeasureTypeProblem::NoMetadata => format!(
                "measure `{column}` has no type, and the export has no metadata file to take it from"
            ),
            MeasureTypeProblem::NotInMetadata => format!(
                "measure `{column}` has no type, and the export's metadata does not list the column"
            ),
            MeasureTypeProblem::NotAMeasureType { export } => format!(
                "measure `{column}` has no type, and the export's metadata says {export}, which no measure can be"
            ),
            MeasureTypeProblem::Disagrees { written, export } => format!(
                "measure `{column}` is {} here, but the export's metadata says {export}",
                written.name()
            ),
            MeasureTypeProblem::MetadataUnreadable { reason, .. } => {
                format!("a measure's type is left to the export, which cannot be read: {reason}")
            }
        }
    }

    fn help(&self) -> Option<String> {
        Some(match &self.problem {
            MeasureTypeProblem::Disagrees { .. } => {
                "write the export's type, or leave the type out to take it from the export".into()
            }
            MeasureTypeProblem::MetadataUnreadable { help, .. } => match help {
                Some(help) => format!("{help}; or write every measure's type"),
                None => "write every measure's type, or fix the export".into(),
            },
            _ => "write the type after the name: `double`, `bigint`, `boolean` or `varchar`".into(),
        })
    }
}
