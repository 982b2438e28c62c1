//! The plan as YAML text, and back. A table with more than
//! [`ONE_LINE_SERIES_ABOVE`] series writes each series on one line, as a
//! YAML flow mapping, so a plan grows by a line a series and a change to
//! one series is a one-line diff; smaller tables keep the block layout.

use serde_json::Value;

use super::SerializeError;
use super::{MeasureSummary, Plan, SeriesPlan};

/// Tables with more series than this write one line a series.
pub(crate) const ONE_LINE_SERIES_ABOVE: usize = 100;

const HEADER: &str = "# outatime write plan: review it, commit it, diff it (outatime diff).\n";

/// What a table's empty `series` looks like in the block layout: the line
/// the one-line series replace.
const EMPTY_SERIES: &str = "    series: []";

/// The plan as YAML text.
pub fn to_yaml(plan: &Plan) -> Result<String, SerializeError> {
    let compact: Vec<bool> = plan
        .tables
        .values()
        .map(|t| t.series.len() > ONE_LINE_SERIES_ABOVE && t.series.iter().all(finite))
        .collect();
    if !compact.contains(&true) {
        return block(plan);
    }
    // The plan without the big tables' series, in the block layout; each
    // table's `series: []` (its last field) then takes its series back.
    let mut shell = plan.clone();
    for (table, compact) in shell.tables.values_mut().zip(&compact) {
        if *compact {
            table.series.clear();
        }
    }
    let text = block(&shell)?;
    let mut out = String::with_capacity(text.len() + plan.tables.len() * 256);
    let mut tables = plan.tables.values().zip(&compact);
    let mut in_tables = false;
    let mut placed = 0;
    for line in text.lines() {
        if !line.starts_with(' ') && !line.starts_with('-') {
            in_tables = line == "tables:";
        }
        if in_tables && line == EMPTY_SERIES {
            placed += 1;
            if let Some((table, true)) = tables.next() {
                out.push_str("    series:\n");
                for series in &table.series {
                    out.push_str("    - ");
                    one_line(series, &mut out);
                    out.push('\n');
                }
                continue;
            }
        } else if in_tables && line.starts_with("    series:") {
            placed += 1;
            tables.next();
        }
        out.push_str(line);
        out.push('\n');
    }
    if placed != plan.tables.len() {
        // The layout is not the one expected: the block layout is as valid.
        return block(plan);
    }
    Ok(out)
}

pub(crate) fn from_yaml(text: &str) -> Result<Plan, yaml_serde::Error> {
    yaml_serde::from_str(text)
}

fn block(plan: &Plan) -> Result<String, SerializeError> {
    let yaml = yaml_serde::to_string(plan).map_err(SerializeError::Plan)?;
    Ok(format!("{HEADER}{yaml}"))
}

/// JSON has no infinity nor NaN (`Value::from` makes them null): such a
/// series keeps its table in blocks.
fn finite(series: &SeriesPlan) -> bool {
    series.measures.values().all(|m| {
        [m.min, m.max, m.mean]
            .iter()
            .flatten()
            .all(|x| x.is_finite())
    })
}

/// One series as a YAML flow mapping on one line, fields in the block
/// layout's order: `{dimensions: {device: "sim-0001"}, records: 420, ...}`.
/// Destructured, so that a new field cannot be left out unnoticed.
fn one_line(series: &SeriesPlan, out: &mut String) {
    let SeriesPlan {
        dimensions,
        records,
        first,
        last,
        measures,
    } = series;
    out.push_str("{dimensions: ");
    mapping(dimensions.iter().map(|(k, v)| (k, string(v))), out);
    out.push_str(&format!(
        ", records: {records}, first: {}, last: {}, measures: ",
        string(first),
        string(last)
    ));
    mapping(measures.iter().map(|(k, m)| (k, summary(m))), out);
    out.push('}');
}

/// `{count: 420, min: 92.0, max: 100.0, mean: 96.5}`, absent fields left out.
fn summary(measure: &MeasureSummary) -> String {
    let MeasureSummary {
        count,
        min,
        max,
        mean,
        sparkline,
        true_count,
    } = measure;
    let mut fields = vec![format!("count: {count}")];
    for (name, value) in [("min", min), ("max", max), ("mean", mean)] {
        if let Some(v) = value {
            fields.push(format!("{name}: {}", Value::from(*v)));
        }
    }
    if let Some(line) = sparkline {
        fields.push(format!("sparkline: {}", string(line)));
    }
    if let Some(n) = true_count {
        fields.push(format!("true_count: {n}"));
    }
    format!("{{{}}}", fields.join(", "))
}

/// `{key: value, ...}`, keys bare when YAML reads them back as written.
fn mapping<'a>(entries: impl Iterator<Item = (&'a String, String)>, out: &mut String) {
    out.push('{');
    for (i, (key, value)) in entries.enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        if bare(key) {
            out.push_str(key);
        } else {
            out.push_str(&string(key));
        }
        out.push_str(": ");
        out.push_str(&value);
    }
    out.push('}');
}

/// A JSON string: its escapes are YAML's double-quoted escapes.
fn string(text: &str) -> String {
    Value::String(text.to_string()).to_string()
}

/// A lower-case identifier YAML does not read as a boolean or null.
fn bare(key: &str) -> bool {
    const SPECIAL: [&str; 9] = ["y", "n", "yes", "no", "on", "off", "true", "false", "null"];
    key.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !SPECIAL.contains(&key)
}

#[cfg(test)]
mod tests;
