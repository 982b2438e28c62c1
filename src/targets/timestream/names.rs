//! Timestream's rules for table, dimension and measure names (Developer
//! Guide, "Naming constraints" and "Quotas"), asked by the validator (names
//! in the scenario) and the compiler (measure names read from long rows).

use crate::diagnostics::kind::NameKind;
use crate::model::Layout;
use crate::model::{NameProblem, NameRules};

/// Timestream for LiveAnalytics's naming rules.
pub(crate) struct TimestreamNames;

impl NameRules for TimestreamNames {
    fn target(&self) -> &'static str {
        "Timestream"
    }

    fn problem(&self, kind: NameKind, name: &str) -> Option<NameProblem> {
        match kind {
            NameKind::Table => table_problem(name),
            _ => problem(kind, name),
        }
    }

    fn max_dimensions_per_table(&self) -> Option<usize> {
        Some(MAX_DIMENSIONS_PER_TABLE)
    }

    fn max_measures_per_record(&self, layout: Layout) -> Option<usize> {
        match layout {
            Layout::Multi => Some(MAX_MEASURES_PER_MULTI_RECORD),
            // One measure a record, always.
            Layout::Single => None,
        }
    }

    fn max_measure_names_per_table(&self, layout: Layout) -> Option<usize> {
        Some(match layout {
            Layout::Multi => MAX_MULTI_MEASURES_PER_TABLE,
            Layout::Single => MAX_MEASURE_NAMES_PER_TABLE,
        })
    }
}

const MAX_MEASURE_NAME_BYTES: usize = 256;
const MAX_DIMENSION_NAME_BYTES: usize = 60;
const MAX_DIMENSIONS_PER_TABLE: usize = 128;
// The quotas page's service limits: "Measures per multi-measure record"
// (256), "Measure names per table" (8192, the names of single-measure
// records) and "Unique measures across multi-measure records per table"
// (1024, the names inside multi-measure records).
const MAX_MEASURES_PER_MULTI_RECORD: usize = 256;
const MAX_MEASURE_NAMES_PER_TABLE: usize = 8_192;
const MAX_MULTI_MEASURES_PER_TABLE: usize = 1_024;
const RESERVED_NAMES: &[&str] = &[
    "time",
    "measure_name",
    "measure_value",
    "ts_non_existent_col",
];
const RESERVED_PREFIXES: &[&str] = &["ts_", "measure_name", "measure_value"];

/// What Timestream would refuse about a dimension or measure name.
fn problem(kind: NameKind, name: &str) -> Option<NameProblem> {
    if name.is_empty() {
        return Some(NameProblem::Refused("a name cannot be empty".into()));
    }
    let max = match kind {
        NameKind::Dimension => MAX_DIMENSION_NAME_BYTES,
        _ => MAX_MEASURE_NAME_BYTES,
    };
    if name.len() > max {
        return Some(NameProblem::TooLong {
            bytes: name.len(),
            max,
        });
    }
    if RESERVED_NAMES.contains(&name) {
        return Some(NameProblem::Refused("the name is reserved".into()));
    }
    if name.contains(':') {
        return Some(NameProblem::Refused("names may not contain `:`".into()));
    }
    RESERVED_PREFIXES
        .iter()
        .find(|p| name.starts_with(*p))
        .map(|p| NameProblem::Refused(format!("names may not start with `{p}`")))
}

/// A table name: 3 to 256 characters of letters, digits, `_ - .`.
fn table_problem(name: &str) -> Option<NameProblem> {
    if !(3..=256).contains(&name.len()) {
        return Some(NameProblem::Refused(
            "table names have 3 to 256 characters".into(),
        ));
    }
    name.chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
        .map(|c| {
            NameProblem::Refused(format!(
                "`{c}` is not allowed; use letters, digits, `_`, `-` and `.`"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_long_and_plain_names() {
        assert_eq!(problem(NameKind::Measure, "temperature"), None);
        assert!(matches!(
            problem(NameKind::Dimension, "time"),
            Some(NameProblem::Refused(_))
        ));
        assert!(matches!(
            problem(NameKind::Measure, "ts_x"),
            Some(NameProblem::Refused(_))
        ));
        assert!(matches!(
            problem(NameKind::Measure, "measure_value::double"),
            Some(NameProblem::Refused(_))
        ));
        assert_eq!(
            problem(NameKind::Dimension, &"d".repeat(61)),
            Some(NameProblem::TooLong { bytes: 61, max: 60 })
        );
        assert_eq!(problem(NameKind::Measure, &"m".repeat(256)), None);
    }

    #[test]
    fn measure_limits_follow_the_layout() {
        let rules = TimestreamNames;
        assert_eq!(rules.max_measures_per_record(Layout::Multi), Some(256));
        assert_eq!(rules.max_measures_per_record(Layout::Single), None);
        assert_eq!(
            rules.max_measure_names_per_table(Layout::Single),
            Some(8_192)
        );
        assert_eq!(
            rules.max_measure_names_per_table(Layout::Multi),
            Some(1_024)
        );
    }
}
