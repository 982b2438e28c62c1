//! outatime makes time-series test data on purpose: a scenario file says
//! which recorded windows to replay, shifted to the present, which series to
//! synthesise or extrapolate, and which faults to inject.
//!
//! The pipeline, one typed function a stage, one folder a stage:
//!
//! ```text
//!  source text ──lang::parser::parse──▶ lang::ast::File ──validate::validate──▶ validate::model::Scenario
//!  (lang/: grammar, chunks,              (spans on        (names resolved, literals read,
//!   ast_builder, literals)                every node)      defaults explicit)
//!        every stage reports diagnostics::Diagnostic data; diagnostics/render.rs words and draws them
//!
//!  Scenario ──compile::prepare──▶ compile::Prepared (sources/ read, models fitted)
//!        ──Prepared::run(anchor, sink)──▶ record stream ──▶ plan (YAML) · JSON lines · CSV
//!        ──apply──▶ ApplyReport (file targets, or Timestream through the AWS SDK)
//!  review/: a scenario explained, two plans compared · cli/: the command line
//! ```

#![warn(unreachable_pub)]

mod app;
mod apply;
mod capture;
mod clean;
mod cli;
mod compile;
mod diagnostics;
mod expect;
mod fmt;
mod lang;
mod measure_type;
mod model;
mod output_file;
mod plan;
mod plot;
mod record;
mod review;
mod scratch;
mod sources;
mod targets;
mod validate;
mod verify;

// The public surface: what the binary, the integration tests and the
// benches use. Everything else is the crate's own (`pub(crate)`), which
// `unreachable_pub` keeps so.

/// The command line; `main.rs` only calls it.
pub use cli::run;

/// Reading and checking scenario text, and showing what was found.
pub use app::check_text;
pub use diagnostics::kind::DiagnosticCode;
pub use diagnostics::render;
pub use lang::literal::{Instant, parse_timestamp};
pub use review::explain::explain;
pub use validate::check::Checked;

pub use crate::plan::to_yaml;
/// Loading a scenario file with its sources, and compiling it.
pub use app::{Loaded, prepare};
pub use cli::output::{Failure, compile_plan, labels, load};
pub use compile::align;
pub use compile::error::CompileErrorKind;
pub use compile::random::Key;
pub use compile::run_on_two_threads;
pub use plan::error::{PlanErrorKind, SerializeError};
pub use record::output::JsonLines;
pub use record::write_time;
pub use record::{Catalog, Record, Sink};
pub use sources::{ReadOptions, SpillOptions};

pub use apply::error::ApplyErrorKind;
/// The codes a capture fails with.
pub use capture::error::CaptureErrorKind;
pub use clean::error::CleanErrorKind;
/// The codes a plot fails with.
pub use plot::error::PlotErrorKind;
/// Targets: `outatime.yaml`, and the codes an apply fails with.
pub use targets::config::target as target_from_config;
/// The codes a verify fails with.
pub use verify::error::VerifyErrorKind;
