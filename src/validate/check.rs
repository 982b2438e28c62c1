//! Scenario text → parsed → validated: everything `check` learns, the one
//! call the commands make before anything else. Each source's columns are
//! at hand (a CSV header, the fields of a JSON lines file's first objects,
//! an UNLOAD export's `*_metadata.json`), so that a misspelt column is
//! reported at the source and a measure may take its type from the export;
//! the data itself is read later, by the compiler.

use std::path::Path;

use crate::diagnostics::{self, Diagnostic};
use crate::lang;

/// Everything `check` learns about one scenario's text.
pub struct Checked {
    pub scenario: Option<crate::model::Scenario>,
    /// Sorted by position.
    pub diagnostics: Vec<Diagnostic>,
}

impl Checked {
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity() == diagnostics::Severity::Error)
    }
}

/// Parses and validates scenario text. `base_dir` is the folder that source
/// paths are relative to (the scenario file's); `rules` are the names the
/// target takes.
pub(crate) fn check_text(
    text: &str,
    base_dir: &Path,
    rules: &dyn crate::model::NameRules,
) -> Checked {
    check_text_with(text, base_dir, &crate::sources::file_columns, rules)
}

/// [`check_text`], with `columns` answering what a source's file names as
/// columns.
fn check_text_with(
    text: &str,
    base_dir: &Path,
    columns: super::source::SourceColumns<'_>,
    rules: &dyn crate::model::NameRules,
) -> Checked {
    let parsed = lang::parser::parse(text);
    let validated = super::validate(&parsed.file, text, base_dir, &parsed.losses, columns, rules);
    let mut diagnostics = parsed.diagnostics;
    diagnostics.extend(validated.diagnostics);
    diagnostics::sort(&mut diagnostics);
    let scenario = if diagnostics
        .iter()
        .any(|d| d.severity() == diagnostics::Severity::Error)
    {
        None
    } else {
        validated.scenario
    };
    Checked {
        scenario,
        diagnostics,
    }
}
