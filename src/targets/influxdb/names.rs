//! InfluxDB's rules for names, asked by the validator when `check --target`
//! or `apply --target` names an InfluxDB target: a table's target name is
//! the measurement, a dimension a tag key, a measure a field key, and each
//! must be what line protocol can carry ([`super::line_protocol::escaped`],
//! the same test the preflight makes), so that `check` refuses early what
//! the apply would refuse late.

use super::line_protocol::{Part, escaped};
use crate::diagnostics::kind::NameKind;
use crate::model::{NameProblem, NameRules};

/// InfluxDB's naming rules (v1, v2 and v3 alike).
pub(crate) struct InfluxNames;

impl NameRules for InfluxNames {
    fn target(&self) -> &'static str {
        "InfluxDB"
    }

    fn problem(&self, kind: NameKind, name: &str) -> Option<NameProblem> {
        let part = match kind {
            NameKind::Table => Part::Measurement,
            NameKind::Dimension => Part::TagKey,
            NameKind::Measure => Part::FieldKey,
            // Columns and sources are not written under their own names.
            NameKind::Column | NameKind::Source | NameKind::Anomaly | NameKind::Expectation => {
                return None;
            }
        };
        escaped(part, name)
            .err()
            .map(|problem| NameProblem::Refused(problem.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_line_protocol_cannot_carry_is_refused() {
        let rules = InfluxNames;
        // Names Timestream refuses and InfluxDB takes.
        assert_eq!(rules.problem(NameKind::Table, "t"), None);
        assert_eq!(rules.problem(NameKind::Table, "cpu load"), None);
        assert_eq!(rules.problem(NameKind::Measure, "ts_x"), None);
        assert_eq!(rules.problem(NameKind::Dimension, &"d".repeat(61)), None);
        // Names InfluxDB reserves, or line protocol cannot carry.
        for (kind, name) in [
            (NameKind::Dimension, "_field"),
            (NameKind::Measure, "time"),
            (NameKind::Dimension, "a\nb"),
            (NameKind::Table, ""),
            (NameKind::Table, "cpu\\"),
        ] {
            assert!(
                matches!(rules.problem(kind, name), Some(NameProblem::Refused(_))),
                "{kind} {name:?}"
            );
        }
    }
}
