//! `source` declarations, in steps: the kind and the file; the clauses
//! (`source/clauses.rs`: columns, their names in the table, the CSV
//! dialect, time zone rules); the file's columns, read cheaply, and the
//! measure types they settle (`source/columns.rs`: written, or taken from
//! an UNLOAD export's metadata); then redaction (`source/redact.rs`).
//! `source/names.rs` holds to the target's rules the names a column keeps.

mod clauses;
mod columns;
mod names;
mod redact;

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::Validator;
use crate::diagnostics::kind;
use crate::diagnostics::kind::Clause;
use crate::lang::ast::{self, Span};
use crate::model::{Source, SourceKind, SourceMeasures};
use crate::sources::{DataError, FileColumns};

/// What validation asks for a source's columns: `sources::file_columns`
/// when a command checks a file (it reads a CSV header, a JSON lines
/// file's first objects or an export's metadata, never the data), and
/// what a test gives it otherwise. `Ok(None)` when they cannot be known
/// cheaply (an export without metadata).
pub(crate) type SourceColumns<'a> = &'a dyn Fn(&Source) -> Result<Option<FileColumns>, DataError>;

/// A source's file as written, resolved against the scenario's folder.
struct SourceFile {
    path: PathBuf,
    exists: bool,
    /// Whether the path names an UNLOAD manifest (`…manifest.json`).
    names_a_manifest: bool,
}

impl Validator<'_> {
    pub(super) fn source(&mut self, s: &ast::Source, statement: &ast::Statement) -> Option<Source> {
        let written_kind = self.word(
            &s.kind,
            "source kind",
            &[
                ("csv", SourceKind::Csv),
                ("jsonl", SourceKind::Jsonl),
                ("unload", SourceKind::Unload),
            ],
        );
        let file = self.source_file(s, written_kind);
        let clauses = self.source_clauses(s, written_kind);
        if !statement.recovered {
            self.missing_source_clauses(&clauses.seen, statement);
        }
        let mut ok = written_kind.is_some() && clauses.ok;
        let (time_column, time_format) = clauses.time?;
        let kind = written_kind.unwrap_or(SourceKind::Csv);
        let mut source = Source {
            name: s.name.value.clone(),
            kind,
            path_written: s.path.value.clone(),
            path: file.path,
            time_column,
            time_format,
            timezone: clauses.timezone,
            nonexistent: clauses.nonexistent,
            ambiguous: clauses.ambiguous,
            line: self.line(statement.span.start),
            ambiguous_line: clauses.ambiguous_line,
            dimensions: clauses.dimensions,
            dimension_names: clauses.dimension_names,
            // Settled below, once the export's types are known.
            measures: SourceMeasures::Wide(Vec::new()),
            dialect: clauses.dialect,
            redact: None,
        };
        // A path already reported as not a manifest is not read as one.
        let readable = file.exists && (kind != SourceKind::Unload || file.names_a_manifest);
        // An export's types are asked for every measure it declares: one
        // written may disagree with the metadata.
        let needs_types =
            kind == SourceKind::Unload && clauses.measures.as_ref().is_some_and(|m| m.count() > 0);
        let columns = if readable {
            self.file_columns(&source, s.path.span, needs_types)?
        } else {
            None
        };
        // A column the file does not have is reported here, at the source,
        // not where a step names the dimension it would have been.
        let missing = self.missing_columns(columns.as_ref(), &s.path.value, &clauses.named);
        if !missing.is_empty() && !matches!(columns, Some(FileColumns::JsonFields { .. })) {
            ok = false;
        }
        source.measures = self.source_measures(kind, clauses.measures?, columns, &missing, &mut ok);
        if let Some((columns, salt_env)) = clauses.redact {
            source.redact = self.redaction(&source, columns, salt_env);
            ok &= source.redact.is_some();
        }
        ok.then_some(source)
    }

    /// The source's file, resolved against the scenario's folder: one
    /// that is not there is reported, and so is an `unload` whose path
    /// does not name a manifest.
    fn source_file(&mut self, s: &ast::Source, kind: Option<SourceKind>) -> SourceFile {
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
        SourceFile {
            path,
            exists,
            names_a_manifest,
        }
    }

    /// `time` and `measures` are required. (Not asked of a statement that
    /// lost a line to a syntax error: that line may be the clause.)
    fn missing_source_clauses(
        &mut self,
        seen: &BTreeMap<Clause, Span>,
        statement: &ast::Statement,
    ) {
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
}
