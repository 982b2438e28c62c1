//! outatime makes time-series test data on purpose: a scenario file says
//! which recorded windows to replay, shifted to the present, which series to
//! synthesise or extrapolate, and which faults to inject.
//!
//! The pipeline, one typed function a stage:
//!
//! ```text
//!  source text ──parser::parse──▶ ast::File ──validate::validate──▶ model::Scenario
//!  (grammar/scenario.pest,         (spans on       (names resolved,
//!   chunks, ast_builder)            every node)     literals read,
//!                                                   defaults explicit)
//!        every stage reports diagnostic::Diagnostic data; render.rs words and draws them
//!
//!  model::Scenario ──compile::prepare──▶ compile::Prepared (sources read, models fitted)
//!        ──Prepared::run(anchor, sink)──▶ record stream ──▶ plan (YAML) · JSON lines · CSV
//!        ──apply──▶ ApplyReport (file targets, or Timestream through the AWS SDK)
//! ```

pub mod apply;
pub mod cli;
pub mod commands;
pub mod compile;
pub mod diagnostics;
pub mod lang;
pub mod measure_type;
pub mod review;
pub mod sources;
pub mod targets;
pub mod validate;

use std::path::Path;

use diagnostics::Diagnostic;

/// Everything `check` learns about one scenario's text.
pub struct Checked {
    pub scenario: Option<validate::model::Scenario>,
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
/// paths are relative to (the scenario file's).
pub fn check_text(text: &str, base_dir: &Path) -> Checked {
    let parsed = lang::parser::parse(text);
    let validated = validate::validate(&parsed.file, text, base_dir, &parsed.losses);
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
