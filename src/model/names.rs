//! The names a kind of target accepts, as validation and the compiler ask
//! them: each target's own rules live with the target (`targets/`), and are
//! handed down as a `&dyn NameRules`, so no stage below `targets/` names a
//! target.

use super::Layout;
use crate::diagnostics::kind::NameKind;

/// Why a target would refuse a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameProblem {
    TooLong { bytes: usize, max: usize },
    Refused(String),
}

/// The names a kind of target accepts.
pub(crate) trait NameRules {
    /// The target the rules are of, as a diagnostic names it: "refused by
    /// Timestream".
    fn target(&self) -> &'static str;

    /// What the target would refuse about a dimension, measure or table
    /// name, if anything.
    fn problem(&self, kind: NameKind, name: &str) -> Option<NameProblem>;

    /// How many dimensions one table may have, if the target limits them.
    fn max_dimensions_per_table(&self) -> Option<usize> {
        None
    }

    /// How many measures one record of a table of this layout may hold, if
    /// the target limits them.
    fn max_measures_per_record(&self, _layout: Layout) -> Option<usize> {
        None
    }

    /// How many distinct measure names one table of this layout may hold,
    /// if the target limits them.
    fn max_measure_names_per_table(&self, _layout: Layout) -> Option<usize> {
        None
    }

    /// The query dialects the target runs, for `expect` blocks; `None`
    /// where they will not be asked (any dialect passes).
    fn dialects(&self) -> Option<&'static [crate::model::Dialect]> {
        None
    }
}
