//! `anomaly` statements: the kind, the measure it acts on, and how it
//! meets the records and the other anomalies.

use super::facts::{Facts, Severity, article, did_you_mean};
use crate::diagnostics::span::Span;
use crate::measure_type::MeasureType;

/// `anomaly spikes on ...`
#[derive(Clone, Debug, PartialEq)]
pub struct UnknownAnomalyKind {
    pub kind: String,
    pub suggestion: Option<String>,
}

impl Facts for UnknownAnomalyKind {
    const CODE: &'static str = "anomaly::unknown_kind";

    fn message(&self) -> String {
        format!("unknown anomaly kind `{}`", self.kind)
    }

    fn help(&self) -> Option<String> {
        Some(did_you_mean(&self.suggestion).unwrap_or_else(|| {
            "kinds: `spike`, `offset`, `scale`, `drift`, `flatline`, `noise`, `clip`, `outliers`, `dropout`, `late`".into()
        }))
    }
}

/// `anomaly spike on telemetry { ... }`: a value anomaly without a measure.
#[derive(Clone, Debug, PartialEq)]
pub struct AnomalyNeedsMeasure {
    pub kind: String,
}

impl Facts for AnomalyNeedsMeasure {
    const CODE: &'static str = "anomaly::needs_measure";

    fn message(&self) -> String {
        let kind = &self.kind;
        format!(
            "{} `{kind}` anomaly changes values, so it needs a measure",
            article(kind)
        )
    }

    fn help(&self) -> Option<String> {
        Some(format!(
            "name the measure after the table, as in `anomaly {} on telemetry.temperature`",
            self.kind
        ))
    }
}

/// `anomaly late on telemetry.temperature { ... }`
#[derive(Clone, Debug, PartialEq)]
pub struct AnomalyOnWholeRecords {
    pub kind: String,
    pub measure: String,
}

impl Facts for AnomalyOnWholeRecords {
    const CODE: &'static str = "anomaly::whole_records";

    fn message(&self) -> String {
        format!(
            "a `{}` anomaly acts on whole records, not on the measure `{}`",
            self.kind, self.measure
        )
    }

    fn help(&self) -> Option<String> {
        Some("drop `.MEASURE`: name only the table, and narrow the series with `where`".into())
    }
}

/// `anomaly spike on t.door_open { ... }` where door_open is boolean.
#[derive(Clone, Debug, PartialEq)]
pub struct AnomalyTypeMismatch {
    pub kind: String,
    pub measure: String,
    pub ty: MeasureType,
}

impl Facts for AnomalyTypeMismatch {
    const CODE: &'static str = "anomaly::type_mismatch";

    fn message(&self) -> String {
        format!(
            "a `{}` anomaly needs a numeric measure, but `{}` is {}",
            self.kind,
            self.measure,
            self.ty.name()
        )
    }

    fn help(&self) -> Option<String> {
        Some(
            "use `flatline` or `dropout` on this measure, or pick a double or bigint measure"
                .into(),
        )
    }
}

/// `anomaly spike ... { at now ... }` on a table a replay fills at its
/// recorded times.
#[derive(Clone, Debug, PartialEq)]
pub struct AnchorDependentAnomaly {
    /// The anomaly is placed relative to `now` (and the step at recorded
    /// instants), not the other way round.
    pub relative: bool,
    pub step_line: usize,
}

impl Facts for AnchorDependentAnomaly {
    const CODE: &'static str = "anomaly::anchor_dependent";

    fn severity(&self) -> Severity {
        Severity::Warning
    }

    fn message(&self) -> String {
        let step_line = self.step_line;
        if self.relative {
            format!(
                "this anomaly is placed relative to `now`, but the step at line {step_line} writes this table at recorded instants"
            )
        } else {
            format!(
                "this anomaly is placed at a recorded instant, but the step at line {step_line} writes this table relative to `now`"
            )
        }
    }

    fn help(&self) -> Option<String> {
        Some("which records it touches then depends on the anchor, and the plan cannot show it; place the anomaly and the step alike, or shift the step to `now`".into())
    }
}

/// Two anomalies on one series and measure whose windows overlap.
#[derive(Clone, Debug, PartialEq)]
pub struct OverlappingAnomalies {
    pub other: Span,
}

impl Facts for OverlappingAnomalies {
    const CODE: &'static str = "anomaly::overlap";

    fn severity(&self) -> Severity {
        Severity::Warning
    }

    fn message(&self) -> String {
        "this anomaly overlaps another one on the same series and measure".into()
    }

    fn label(&self) -> String {
        "this anomaly".into()
    }

    fn related(&self) -> Vec<(Span, String)> {
        vec![(self.other, "overlaps this one".into())]
    }

    fn help(&self) -> Option<String> {
        Some("both apply in file order; if that is not what you want, move one window".into())
    }
}
