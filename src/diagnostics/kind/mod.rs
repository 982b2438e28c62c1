//! Every problem outatime reports about a scenario or `outatime.yaml`: the
//! catalogue of kinds, each with its stable code and its wording.
//! `docs/errors.md` lists the same codes with an example each.
//!
//! One kind is one struct, in the file of its area, and everything said
//! about it is in the `impl Facts` right below: its code, its severity,
//! its message, its labels and its help. A new kind, or a change of
//! wording, touches one place; the struct's doc names an input that
//! triggers it.
//!
//! Why a struct and a trait rather than one enum with a match per fact: a
//! kind's facts then sit together, and an area's kinds fit in a file one
//! can read. The code is an associated constant, not a method, because
//! `DiagnosticCode` must list every code without an instance
//! (`tests/codes.rs`, docs/errors.md). miette's `Diagnostic` derive (as
//! the run-time errors use it) does not fit for the same reason, and
//! because the primary span belongs to `Diagnostic`, not to its kind.
//!
//! `catalogue!` below lists each kind once and makes the rest:
//! `DiagnosticKind` (a variant a kind), `DiagnosticCode` (the same
//! without fields), `From` each kind into `DiagnosticKind` (so a stage
//! writes `kind::UnknownName { .. }` where a kind is taken), and the
//! dispatch of each fact to the kind's own `impl`. The kinds and their
//! fields are `pub` as the enum's variants were: `Diagnostic::kind` is
//! reachable from the library's `check_text`.

mod anomalies;
mod config;
mod data;
mod expect;
mod facts;
mod literals;
mod models;
mod params;
mod sources;
mod statements;
mod steps;
mod syntax;
mod tables;
mod words;

pub(crate) use anomalies::*;
pub(crate) use config::*;
pub(crate) use data::*;
pub(crate) use expect::*;
pub(crate) use facts::Severity;
pub(crate) use literals::*;
pub(crate) use models::*;
pub(crate) use params::*;
pub(crate) use sources::*;
pub(crate) use statements::*;
pub(crate) use steps::*;
pub(crate) use syntax::*;
pub(crate) use tables::*;
pub(crate) use words::*;

use crate::diagnostics::span::Span;
use facts::Facts;

macro_rules! catalogue {
    ($($area:ident::$kind:ident,)*) => {
        /// What is wrong: one variant a kind, holding the facts found.
        #[derive(Clone, Debug, PartialEq)]
        pub enum DiagnosticKind {
            $($kind($area::$kind),)*
        }

        /// A diagnostic kind without its fields: what a stable code names.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, strum::EnumIter)]
        pub enum DiagnosticCode {
            $($kind,)*
        }

        $(
            impl From<$area::$kind> for DiagnosticKind {
                fn from(kind: $area::$kind) -> Self {
                    DiagnosticKind::$kind(kind)
                }
            }
        )*

        impl DiagnosticCode {
            /// The stable part after `outatime::`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(DiagnosticCode::$kind => <$area::$kind as Facts>::CODE,)*
                }
            }
        }

        impl DiagnosticKind {
            /// The stable part after `outatime::`.
            pub fn code(&self) -> &'static str {
                match self {
                    $(DiagnosticKind::$kind(_) => <$area::$kind as Facts>::CODE,)*
                }
            }

            pub fn severity(&self) -> Severity {
                match self {
                    $(DiagnosticKind::$kind(kind) => kind.severity(),)*
                }
            }

            pub fn message(&self) -> String {
                match self {
                    $(DiagnosticKind::$kind(kind) => kind.message(),)*
                }
            }

            /// The text under the primary span.
            pub fn label(&self) -> String {
                match self {
                    $(DiagnosticKind::$kind(kind) => kind.label(),)*
                }
            }

            /// Secondary labels.
            pub fn related(&self) -> Vec<(Span, String)> {
                match self {
                    $(DiagnosticKind::$kind(kind) => kind.related(),)*
                }
            }

            pub fn help(&self) -> Option<String> {
                match self {
                    $(DiagnosticKind::$kind(kind) => kind.help(),)*
                }
            }
        }
    };
}

// In the order of the pipeline that finds them; alphabetised in an area.
catalogue! {
    syntax::BadEscape,
    syntax::MissingComma,
    syntax::MissingOpenBrace,
    syntax::NotUtf8,
    syntax::Syntax,
    syntax::UnclosedBlock,
    syntax::UnmatchedBrace,
    syntax::UnterminatedString,
    statements::DuplicateClause,
    statements::DuplicateStatement,
    statements::MissingClause,
    statements::MissingScenario,
    statements::ScenarioNotFirst,
    statements::SeedOutOfRange,
    statements::UnknownClause,
    statements::UnknownStatement,
    statements::UnknownWord,
    literals::DurationOutOfRange,
    literals::EmptyWindow,
    literals::LocalTimeInGap,
    literals::MalformedTimestamp,
    literals::MixedRange,
    literals::NotPositive,
    literals::NumberOutOfRange,
    literals::OffsetDisagreesWithZone,
    literals::RelativeWindow,
    literals::TimeTooFarFromNow,
    literals::TimestampOutOfRange,
    literals::UnknownTimeZone,
    sources::BadDialectCharacter,
    sources::BadTimeFormat,
    sources::DialectNotForJsonl,
    sources::NotAManifest,
    sources::RedactNotText,
    sources::SourceColumnMissing,
    sources::SourceExportRefused,
    sources::SourceFileMissing,
    sources::SourceMeasureType,
    steps::DuplicateSeries,
    steps::ExtrapolateShift,
    steps::SeriesRangeBackwards,
    steps::SeriesValueWithoutDimension,
    steps::TooManySeries,
    models::ClampRange,
    models::ClampType,
    models::LearnedTermOutsideExtrapolate,
    models::ModelNotSummable,
    models::TermTypeMismatch,
    models::UnknownTerm,
    params::DuplicateParameter,
    params::MissingParameter,
    params::MissingPer,
    params::ParameterOutOfRange,
    params::PositionalArgument,
    params::UnexpectedPer,
    params::UnknownParameter,
    params::WrongParameterType,
    anomalies::AnchorDependentAnomaly,
    anomalies::AnomalyNeedsMeasure,
    anomalies::AnomalyOnWholeRecords,
    anomalies::AnomalyTypeMismatch,
    anomalies::OverlappingAnomalies,
    anomalies::UnknownAnomalyKind,
    expect::BetweenBackwards,
    expect::ClauseNotForExpectation,
    expect::DialectNotForTarget,
    expect::EveryPastWithin,
    expect::NeverAndHold,
    expect::PlaceholderWithoutWindow,
    expect::TwoConditions,
    expect::UnknownAnomalyName,
    expect::UnknownDialect,
    expect::UnknownPlaceholder,
    expect::ValueWithoutNumber,
    tables::ColumnNameRefused,
    tables::DimensionIsMeasure,
    tables::DuplicateName,
    tables::MeasureTypeConflict,
    tables::NameTooLong,
    tables::ReservedName,
    tables::SharedTargetTable,
    tables::TableUnused,
    tables::TooManyDimensions,
    tables::TooManyMeasureNames,
    tables::TooManyMeasuresPerRecord,
    tables::UnknownName,
    config::ConfigInvalid,
    config::ConfigKeyNotForApi,
    config::ConfigMissingKey,
    config::ConfigTokenEnvNotAName,
    config::ConfigTokenEnvUnset,
    config::ConfigUnsetVariable,
    data::AnomalyNoEffect,
    data::SetNoEffect,
    data::SourceHoldsNoRows,
    data::WhereSelectsNothing,
    data::WindowHoldsNoRows,
}
