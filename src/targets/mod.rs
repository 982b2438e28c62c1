//! What each kind of target accepts, so that validation refuses early what
//! the target would refuse late. A target kind is a `NameRules`; validation
//! and the compiler ask the rules, never a target by name.

pub(crate) mod influxdb;
pub(crate) mod timestream;

use crate::diagnostics::kind::NameKind;

/// Why a target would refuse a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NameProblem {
    TooLong { bytes: usize, max: usize },
    Refused(String),
}

/// The names a kind of target accepts.
pub(crate) trait NameRules {
    /// What the target would refuse about a dimension, measure or table
    /// name, if anything.
    fn problem(&self, kind: NameKind, name: &str) -> Option<NameProblem>;

    /// How many dimensions one table may have, if the target limits them.
    fn max_dimensions_per_table(&self) -> Option<usize>;
}

/// The rules `check` and `plan` apply: Timestream's, the strictest of the
/// targets, so that a scenario that checks can be written anywhere.
pub(crate) const DEFAULT_RULES: &dyn NameRules = &timestream::Timestream;
