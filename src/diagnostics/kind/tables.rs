//! Tables and names: a name unknown, doubled or refused by the target, and
//! what one table receives from every step (types, dimensions, measures).

use super::facts::{Facts, Severity, backticked, did_you_mean};
use super::words::NameKind;
use crate::diagnostics::span::Span;
use crate::measure_type::MeasureType;

/// `replay nosuch into t`
#[derive(Clone, Debug, PartialEq)]
pub struct UnknownName {
    pub kind: NameKind,
    pub name: String,
    pub suggestion: Option<String>,
    pub known: Vec<String>,
}

impl Facts for UnknownName {
    const CODE: &'static str = "name::unknown";

    fn message(&self) -> String {
        format!("unknown {} `{}`", self.kind, self.name)
    }

    fn label(&self) -> String {
        format!("no {} has this name", self.kind)
    }

    fn help(&self) -> Option<String> {
        Some(did_you_mean(&self.suggestion).unwrap_or_else(|| {
            if self.known.is_empty() {
                format!("no {} is declared with this name", self.kind)
            } else {
                format!("known: {}", backticked(&self.known))
            }
        }))
    }
}

/// `table t` twice.
#[derive(Clone, Debug, PartialEq)]
pub struct DuplicateName {
    pub kind: NameKind,
    pub name: String,
    pub first: Span,
}

impl Facts for DuplicateName {
    const CODE: &'static str = "name::duplicate";

    fn message(&self) -> String {
        format!("{} `{}` is defined twice", self.kind, self.name)
    }

    fn label(&self) -> String {
        "defined again here".into()
    }

    fn related(&self) -> Vec<(Span, String)> {
        vec![(self.first, "first given here".into())]
    }

    fn help(&self) -> Option<String> {
        Some("rename one of them or remove the second".into())
    }
}

/// A name longer than the target (`by`, Timestream unless told) allows.
#[derive(Clone, Debug, PartialEq)]
pub struct NameTooLong {
    pub kind: NameKind,
    pub name: String,
    pub bytes: usize,
    pub max: usize,
    pub by: &'static str,
}

impl Facts for NameTooLong {
    const CODE: &'static str = "name::too_long";

    fn message(&self) -> String {
        let NameTooLong {
            kind,
            name,
            bytes,
            max,
            by,
        } = self;
        let shown: String = name.chars().take(24).collect();
        format!("{kind} name `{shown}...` is {bytes} bytes; {by} allows {max}")
    }

    fn help(&self) -> Option<String> {
        Some("use a shorter name".into())
    }
}

/// `measure ts_x double = ...`, a dimension named `time`.
#[derive(Clone, Debug, PartialEq)]
pub struct ReservedName {
    pub kind: NameKind,
    pub name: String,
    pub reason: String,
    /// The target that refuses it: Timestream unless told.
    pub by: &'static str,
}

impl Facts for ReservedName {
    const CODE: &'static str = "name::reserved";

    fn message(&self) -> String {
        let ReservedName {
            kind,
            name,
            reason,
            by,
        } = self;
        format!("{kind} name `{name}` is refused by {by}: {reason}")
    }

    fn help(&self) -> Option<String> {
        Some(match self.kind {
            NameKind::Table => {
                "name the target table in the declaration: `table t { name \"e2e_telemetry\" }`"
                    .into()
            }
            _ => "rename it".into(),
        })
    }
}

/// `dimensions "measure_value::double"`: a column whose name the table
/// cannot take as it is.
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnNameRefused {
    pub kind: NameKind,
    pub column: String,
    pub reason: String,
    pub suggestion: String,
}

impl Facts for ColumnNameRefused {
    const CODE: &'static str = "name::column_refused";

    fn message(&self) -> String {
        let ColumnNameRefused {
            kind,
            column,
            reason,
            ..
        } = self;
        format!("column `{column}` cannot be a {kind} name in the table: {reason}")
    }

    fn help(&self) -> Option<String> {
        Some(format!(
            "rename it in the table: `{:?} as {}`",
            self.column, self.suggestion
        ))
    }
}

/// `dimensions site` and `measures site double` in one table.
#[derive(Clone, Debug, PartialEq)]
pub struct DimensionIsMeasure {
    pub name: String,
    pub table: String,
    pub measure: Span,
}

impl Facts for DimensionIsMeasure {
    const CODE: &'static str = "name::dimension_is_measure";

    fn message(&self) -> String {
        format!(
            "`{}` is both a dimension and a measure of table `{}`",
            self.name, self.table
        )
    }

    fn related(&self) -> Vec<(Span, String)> {
        vec![(self.measure, "the measure".into())]
    }

    fn help(&self) -> Option<String> {
        Some("rename one of them: Timestream refuses a dimension named like a measure".into())
    }
}

/// More than 128 dimensions reach one table.
#[derive(Clone, Debug, PartialEq)]
pub struct TooManyDimensions {
    pub table: String,
    pub count: usize,
}

impl Facts for TooManyDimensions {
    const CODE: &'static str = "name::too_many_dimensions";

    fn message(&self) -> String {
        format!(
            "table `{}` gets {} dimensions; Timestream allows 128",
            self.table, self.count
        )
    }

    fn help(&self) -> Option<String> {
        Some("write fewer dimensions into this table".into())
    }
}

/// Two tables whose target name is the same.
#[derive(Clone, Debug, PartialEq)]
pub struct SharedTargetTable {
    pub target: String,
    pub first: Span,
}

impl Facts for SharedTargetTable {
    const CODE: &'static str = "table::shared_target";

    fn message(&self) -> String {
        format!("two tables write into the target table `{}`", self.target)
    }

    fn label(&self) -> String {
        "the second table".into()
    }

    fn related(&self) -> Vec<(Span, String)> {
        vec![(self.first, "the first table".into())]
    }

    fn help(&self) -> Option<String> {
        Some("give each table its own target name, or write both steps into one table".into())
    }
}

/// A table with no step writing into it.
#[derive(Clone, Debug, PartialEq)]
pub struct TableUnused {
    pub table: String,
}

impl Facts for TableUnused {
    const CODE: &'static str = "table::unused";

    fn severity(&self) -> Severity {
        Severity::Warning
    }

    fn message(&self) -> String {
        format!("no step writes into table `{}`", self.table)
    }

    fn help(&self) -> Option<String> {
        Some("add a `replay`, `generate` or `extrapolate` into it, or remove it".into())
    }
}

/// Two steps write `temperature` into one table, as double and as bigint.
#[derive(Clone, Debug, PartialEq)]
pub struct MeasureTypeConflict {
    pub measure: String,
    pub table: String,
    pub ty: MeasureType,
    pub first_ty: MeasureType,
    pub first: Span,
}

impl Facts for MeasureTypeConflict {
    const CODE: &'static str = "table::measure_type_conflict";

    fn message(&self) -> String {
        format!(
            "measure `{}` of table `{}` is written as {} here and as {} elsewhere",
            self.measure,
            self.table,
            self.ty.name(),
            self.first_ty.name()
        )
    }

    fn related(&self) -> Vec<(Span, String)> {
        vec![(
            self.first,
            format!("written as {} here", self.first_ty.name()),
        )]
    }

    fn help(&self) -> Option<String> {
        Some("a Timestream measure has one type per table: declare both the same, or write one into another table".into())
    }
}

/// A `layout single` table receiving more than 8,192 measure names, or a
/// `layout multi` one more than 1,024.
#[derive(Clone, Debug, PartialEq)]
pub struct TooManyMeasureNames {
    pub table: String,
    pub count: usize,
    pub max: usize,
    /// The table has `layout multi` (the default).
    pub multi: bool,
}

impl Facts for TooManyMeasureNames {
    const CODE: &'static str = "table::too_many_measure_names";

    fn message(&self) -> String {
        let TooManyMeasureNames {
            table,
            count,
            max,
            multi,
        } = self;
        format!(
            "table `{table}` gets {count} measure names; Timestream allows {max} in a table of {}",
            if *multi {
                "multi-measure records"
            } else {
                "single-measure records"
            }
        )
    }

    fn help(&self) -> Option<String> {
        Some(if self.multi {
            "use `layout single` in the table's declaration (up to 8192 measure names), write fewer measures into this table, or split it into several tables".into()
        } else {
            "write fewer measures into this table, or split it into several tables".into()
        })
    }
}

/// A `layout multi` table receiving 300 measures: a record holds every
/// measure of a series at an instant, and Timestream takes 256.
#[derive(Clone, Debug, PartialEq)]
pub struct TooManyMeasuresPerRecord {
    pub table: String,
    pub count: usize,
    pub max: usize,
}

impl Facts for TooManyMeasuresPerRecord {
    const CODE: &'static str = "table::too_many_measures_per_record";

    fn message(&self) -> String {
        let TooManyMeasuresPerRecord { table, count, max } = self;
        format!(
            "table `{table}` gets {count} measures, and a multi-measure record holds them all; Timestream allows {max} in one record"
        )
    }

    fn help(&self) -> Option<String> {
        Some("use `layout single` in the table's declaration (one record a measure), write fewer measures into this table, or split it into several tables".into())
    }
}
