//! The `source` blocks that read a captured file, ready to paste into a
//! scenario: the time column (RFC 3339, the default format), the
//! dimensions, and the measures with the types the table's columns have.
//!
//! A multi-measure table is one block of wide rows. A single-measure table
//! holds one `measure_value::TYPE` column a value type, and a `measures
//! from` clause reads one type: so one block a type, each reading the rows
//! whose value has its type (the others' value cells are empty, and an
//! empty value is no measure). Replayed into one `layout single` table they
//! give back every record. A table with both kinds of record gets both.

use std::collections::BTreeSet;

use aws_sdk_timestreamquery::types::ScalarType;

use super::columns::{Role, Schema};
use crate::targets::timestream::query::measure_type;

/// What the blocks are written from.
pub(crate) struct Captured<'a> {
    /// The source's name (several blocks add their type to it).
    pub name: &'a str,
    /// The file, as the scenario should name it.
    pub path: &'a str,
    pub schema: &'a Schema,
    /// Columns that held a value in some row (every column when no row
    /// was captured: the table's columns are all there is to go by).
    pub seen: &'a [bool],
    pub multi_names: &'a BTreeSet<String>,
}

use crate::lang::names::{RESERVED, column_name};

/// A source name from the file's name: `prod-day.csv` → `prod_day`.
pub(crate) fn source_name(stem: &str) -> String {
    let mut name: String = stem
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if !name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        name.insert_str(0, "captured_");
    }
    if RESERVED.contains(&name.as_str()) {
        name.push('_');
    }
    name
}

/// The language's name of a Timestream type, if it has one.
fn type_word(ty: &str) -> Option<&'static str> {
    measure_type(&ScalarType::from(ty)).map(|t| t.name())
}

/// Every block, with comments saying how to replay them.
pub(crate) fn source_blocks(captured: &Captured) -> String {
    let schema = captured.schema;
    let used = |i: usize| captured.seen.get(i).copied().unwrap_or(true);
    let columns = || schema.columns.iter().enumerate();
    let time = columns()
        .find(|(_, c)| c.role == Role::Time)
        .map_or("time".to_string(), |(_, c)| column_name(&c.name));
    let dimensions: Vec<String> = columns()
        .filter(|(_, c)| c.role == Role::Dimension)
        .map(|(_, c)| column_name(&c.name))
        .collect();
    let measure_name = columns()
        .find(|(_, c)| c.role == Role::MeasureName)
        .map(|(_, c)| column_name(&c.name));
    let mut notes = Vec::new();
    let mut wide = Vec::new();
    for (_, c) in columns().filter(|(i, c)| c.role == Role::Multi && used(*i)) {
        match type_word(&c.ty) {
            Some(word) => wide.push(format!("{} {word}", column_name(&c.name))),
            None => notes.push(format!(
                "# measure `{}` is a {}, which the language has no type for: it is in the file but not read",
                c.name, c.ty
            )),
        }
    }
    let mut long = Vec::new();
    for (_, c) in columns().filter(|(i, c)| c.role == Role::SingleValue && used(*i)) {
        match (type_word(&c.ty), &measure_name) {
            (Some(word), Some(names)) => long.push((
                word,
                format!(
                    "measures from {names} value {} {word}",
                    column_name(&c.name)
                ),
            )),
            _ => notes.push(format!(
                "# single-measure values of type {} (`{}`) are in the file but not read",
                c.ty, c.name
            )),
        }
    }
    let blocks = usize::from(!wide.is_empty()) + long.len();
    let mut out = String::new();
    if !wide.is_empty() {
        match captured.multi_names.iter().next() {
            Some(first) if captured.multi_names.len() == 1 => out.push_str(&format!(
                "# multi-measure records named \"{first}\": replay them into a table with `measure_name \"{first}\"` (layout multi)\n"
            )),
            _ => out.push_str(
                "# multi-measure records: replay them into a table with layout multi\n",
            ),
        }
    }
    if !long.is_empty() {
        out.push_str(
            "# single-measure records: replay into a table with `layout single`; one source a value type, each reads the rows whose value has its type\n",
        );
    }
    for note in &notes {
        out.push_str(note);
        out.push('\n');
    }
    let mut block = |suffix: &str, measures: &str| {
        let name = if blocks > 1 {
            format!("{}_{suffix}", captured.name)
        } else {
            captured.name.to_string()
        };
        out.push_str(&format!(
            "source {name} csv {} {{\n  time {time}\n",
            column_name_string(captured.path)
        ));
        if !dimensions.is_empty() {
            out.push_str(&format!("  dimensions {}\n", dimensions.join(", ")));
        }
        out.push_str(&format!("  {measures}\n}}\n"));
    };
    if !wide.is_empty() {
        block("multi", &format!("measures {}", wide.join(", ")));
    }
    for (word, measures) in &long {
        block(word, measures);
    }
    if blocks == 0 {
        out.push_str("# no measure was captured: there is no source block to write\n");
    }
    out
}

/// A string literal of the language.
fn column_name_string(text: &str) -> String {
    let quoted = column_name(text);
    if quoted.starts_with('"') {
        quoted
    } else {
        format!("\"{quoted}\"")
    }
}

#[cfg(test)]
mod tests {
    use super::super::columns::Column;
    use super::*;

    fn column(name: &str, role: Role, ty: &str) -> Column {
        Column {
            name: name.into(),
            role,
            ty: ty.into(),
        }
    }

    #[test]
    fn names_that_are_not_identifiers_are_quoted() {
        assert_eq!(column_name("site"), "site");
        assert_eq!(
            column_name("measure_value::double"),
            "\"measure_value::double\""
        );
        assert_eq!(column_name("Temp (C)"), "\"Temp (C)\"");
        assert_eq!(column_name("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(column_name("from"), "\"from\"");
        assert_eq!(column_name("9lives"), "\"9lives\"");
        assert_eq!(source_name("prod-day"), "prod_day");
        assert_eq!(source_name("2026"), "captured_2026");
    }

    #[test]
    fn a_single_measure_table_gets_one_block_a_value_type() {
        let schema = Schema {
            columns: vec![
                column("time", Role::Time, "TIMESTAMP"),
                column("device-id", Role::Dimension, "VARCHAR"),
                column("measure_name", Role::MeasureName, "VARCHAR"),
                column("measure_value::bigint", Role::SingleValue, "BIGINT"),
                column("measure_value::double", Role::SingleValue, "DOUBLE"),
                column("measure_value::varchar", Role::SingleValue, "VARCHAR"),
            ],
        };
        let seen = [true, true, true, true, true, false];
        let text = source_blocks(&Captured {
            name: "day",
            path: "data/day.csv",
            schema: &schema,
            seen: &seen,
            multi_names: &BTreeSet::new(),
        });
        assert!(text.contains(
            "source day_bigint csv \"data/day.csv\" {\n  time time\n  dimensions \"device-id\"\n  measures from measure_name value \"measure_value::bigint\" bigint\n}\n"
        ), "{text}");
        assert!(text.contains("source day_double csv"), "{text}");
        assert!(!text.contains("varchar"), "{text}");
    }

    #[test]
    fn a_multi_measure_table_gets_one_wide_block() {
        let schema = Schema {
            columns: vec![
                column("time", Role::Time, "TIMESTAMP"),
                column("site", Role::Dimension, "VARCHAR"),
                column("measure_name", Role::MeasureName, "VARCHAR"),
                column("Temp (C)", Role::Multi, "DOUBLE"),
                column("on", Role::Multi, "BOOLEAN"),
                column("seen_at", Role::Multi, "TIMESTAMP"),
            ],
        };
        let names = BTreeSet::from(["metrics".to_string()]);
        let text = source_blocks(&Captured {
            name: "day",
            path: "day.csv",
            schema: &schema,
            seen: &[true; 6],
            multi_names: &names,
        });
        assert!(text.contains("measure_name \"metrics\""), "{text}");
        assert!(text.contains("measure `seen_at` is a TIMESTAMP"), "{text}");
        assert!(
            text.ends_with(
                "source day csv \"day.csv\" {\n  time time\n  dimensions site\n  measures \"Temp (C)\" double, on boolean\n}\n"
            ),
            "{text}"
        );
    }
}
