//! A column's name in the table: one that keeps its name must be a name
//! the target takes, and the help suggests an `as` that it can.

use crate::diagnostics::kind;
use crate::diagnostics::kind::NameKind;
use crate::lang::ast;
use crate::model::{NameProblem, NameRules};
use crate::validate::Validator;

impl Validator<'_> {
    /// A column that keeps its name in the table must be a name the table
    /// can take; the help suggests an `as` that it can.
    pub(super) fn column_name(
        &mut self,
        kind: NameKind,
        column: &ast::Name,
        rename: Option<&ast::Name>,
    ) {
        if let Some(rename) = rename {
            self.target_name(kind, &rename.value, rename.span);
            return;
        }
        let Some(problem) = self.rules.problem(kind, &column.value) else {
            return;
        };
        let reason = match problem {
            NameProblem::TooLong { bytes, max } => {
                format!("it is {bytes} bytes, and {max} are allowed")
            }
            NameProblem::Refused(reason) => reason,
        };
        let kind = kind::ColumnNameRefused {
            kind,
            column: column.value.clone(),
            reason,
            suggestion: acceptable_name(self.rules, kind, &column.value),
        };
        self.report(kind, column.span);
    }
}

/// A name the table takes, close to `column`: lower case, runs of other
/// characters as one `_`, reserved starts dropped, cut to the limit.
fn acceptable_name(rules: &dyn NameRules, kind: NameKind, column: &str) -> String {
    let mut name = String::new();
    for c in column.chars() {
        if c.is_ascii_alphanumeric() {
            name.push(c.to_ascii_lowercase());
        } else if !name.ends_with('_') {
            name.push('_');
        }
    }
    let mut name = name.trim_matches('_').to_string();
    for prefix in ["measure_", "ts_"] {
        if let Some(rest) = name.strip_prefix(prefix) {
            name = rest.trim_start_matches('_').to_string();
        }
    }
    let max = match kind {
        NameKind::Dimension => 60,
        _ => 256,
    };
    name.truncate(max);
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        name = format!("column_{name}");
    }
    match rules.problem(kind, &name) {
        None => name,
        Some(_) => format!("{name}_{kind}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::targets::DEFAULT_RULES;

    #[test]
    fn suggested_names_are_names_the_table_takes() {
        for column in [
            "measure_value::double",
            "Temp (C)",
            "device-id",
            "time",
            "ts_x",
            "::",
            "9lives",
            &"x".repeat(300),
        ] {
            for kind in [NameKind::Dimension, NameKind::Measure] {
                let name = acceptable_name(DEFAULT_RULES, kind, column);
                assert_eq!(
                    DEFAULT_RULES.problem(kind, &name),
                    None,
                    "{column} → {name}"
                );
            }
        }
        assert_eq!(
            acceptable_name(DEFAULT_RULES, NameKind::Measure, "measure_value::double"),
            "value_double"
        );
        assert_eq!(
            acceptable_name(DEFAULT_RULES, NameKind::Measure, "Temp (C)"),
            "temp_c"
        );
    }
}
