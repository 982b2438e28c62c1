//! Scenario text → parsed → validated: everything `check` learns, the one
//! call the commands make before anything else.

use std::path::Path;

use crate::diagnostics::{self, Diagnostic};
use crate::lang;

/// Everything `check` learns about one scenario's text.
pub struct Checked {
    pub scenario: Option<super::model::Scenario>,
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
/// paths are relative to (the scenario file's); `columns` answers what a
/// source's file names as columns (`compile::check_text` reads the header
/// or metadata; validation reads no source itself); `rules` are the names
/// the target takes.
pub(crate) fn check_text_with(
    text: &str,
    base_dir: &Path,
    columns: super::source::SourceColumns<'_>,
    rules: &dyn crate::targets::NameRules,
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
