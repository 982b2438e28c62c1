//! Warnings for what does nothing, found with the data (`plan`, `records`,
//! `apply`; `check` finds an anomaly's on a table `generate` writes): a
//! `where`, a `window`, a `set` or an anomaly that changes no record.

use super::facts::{Facts, Severity};

/// `anomaly spike on t.v { where device == "nope" ... }`, or a window
/// outside every record of the table.
#[derive(Clone, Debug, PartialEq)]
pub struct AnomalyNoEffect {
    pub table: String,
    pub cause: NoEffectCause,
}

/// Why an anomaly changes nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoEffectCause {
    /// Its `where` matches no series of its table.
    NoSeries,
    /// Its window lies outside every record of its table.
    OutsideRecords,
}

impl Facts for AnomalyNoEffect {
    const CODE: &'static str = "anomaly::no_effect";

    fn severity(&self) -> Severity {
        Severity::Warning
    }

    fn message(&self) -> String {
        let table = &self.table;
        match self.cause {
            NoEffectCause::NoSeries => format!(
                "this anomaly does nothing: its `where` matches no series of table `{table}`"
            ),
            NoEffectCause::OutsideRecords => format!(
                "this anomaly does nothing: its window lies outside every record of table `{table}`"
            ),
        }
    }

    fn help(&self) -> Option<String> {
        Some(match self.cause {
            NoEffectCause::NoSeries => "compare its `where` with the series the plan lists for the table (`outatime plan`); a test whose fault hits nothing passes for the wrong reason".into(),
            NoEffectCause::OutsideRecords => "move `at` into the time the table's records span (`outatime check --explain` draws both), or widen `for`".into(),
        })
    }
}

/// `replay fleet into t { where site == "nowhere" }`: no row passes.
#[derive(Clone, Debug, PartialEq)]
pub struct WhereSelectsNothing {
    pub step: String,
    pub source: String,
}

impl Facts for WhereSelectsNothing {
    const CODE: &'static str = "where::selects_nothing";

    fn severity(&self) -> Severity {
        Severity::Warning
    }

    fn message(&self) -> String {
        format!(
            "this `{}` writes nothing: its `where` selects no row of source `{}`",
            self.step, self.source
        )
    }

    fn help(&self) -> Option<String> {
        Some("compare the `where` values with the source's (they are compared exactly, case included)".into())
    }
}

/// `replay fleet into t { window 1999-01-01T00:00Z .. 1999-01-02T00:00Z }`
#[derive(Clone, Debug, PartialEq)]
pub struct WindowHoldsNoRows {
    pub source: String,
}

impl Facts for WindowHoldsNoRows {
    const CODE: &'static str = "window::no_rows";

    fn severity(&self) -> Severity {
        Severity::Warning
    }

    fn message(&self) -> String {
        format!(
            "this `replay` writes nothing: its `window` holds no row of source `{}`",
            self.source
        )
    }

    fn help(&self) -> Option<String> {
        Some(
            "move the window onto the source's recorded time, or drop it to replay every record"
                .into(),
        )
    }
}

/// A replay of a source with no row: a CSV with only its header, an UNLOAD
/// manifest whose `result_files` is `[]`; `bad_rows`: rows skipped as bad.
#[derive(Clone, Debug, PartialEq)]
pub struct SourceHoldsNoRows {
    pub source: String,
    pub bad_rows: u64,
}

impl Facts for SourceHoldsNoRows {
    const CODE: &'static str = "source::no_rows";

    fn severity(&self) -> Severity {
        Severity::Warning
    }

    fn message(&self) -> String {
        match self.bad_rows {
            0 => format!(
                "this `replay` writes nothing: source `{}` holds no row",
                self.source
            ),
            bad => format!(
                "this `replay` writes nothing: source `{}` holds no good row ({bad} bad skipped)",
                self.source
            ),
        }
    }

    fn help(&self) -> Option<String> {
        Some(match self.bad_rows {
            0 => "give the source rows (a CSV with only its header, or an UNLOAD manifest listing no result file, holds none), or drop the replay".into(),
            _ => "fix the source's rows: `--max-bad-rows` skipped every one".into(),
        })
    }
}

/// `replay fleet into t { where site == "oslo-1" set site = "oslo-1" }`:
/// every record already carries that value.
#[derive(Clone, Debug, PartialEq)]
pub struct SetNoEffect {
    pub dimension: String,
    pub value: String,
}

impl Facts for SetNoEffect {
    const CODE: &'static str = "set::no_effect";

    fn severity(&self) -> Severity {
        Severity::Warning
    }

    fn message(&self) -> String {
        format!(
            "this `set` does nothing: every record of the step already has `{}` = \"{}\"",
            self.dimension, self.value
        )
    }

    fn help(&self) -> Option<String> {
        Some(
            "drop the assignment, or set another value (to clone a series, give it a new one)"
                .into(),
        )
    }
}
