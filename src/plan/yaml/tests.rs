//! The one-line layout reads back to the same plan, whatever the names and
//! numbers, and leaves small tables as they were.

use std::collections::BTreeMap;

use super::super::{AnchorPolicy, MeasureSummary, Plan, SeriesPlan, TablePlan};
use super::{ONE_LINE_SERIES_ABOVE, from_yaml, to_yaml};

fn series(n: usize, dimension: &str, value: String, x: f64) -> SeriesPlan {
    SeriesPlan {
        dimensions: BTreeMap::from([(dimension.to_string(), value)]),
        records: n as u64,
        first: "now-6h".into(),
        last: "2024-03-06T00:00:00Z".into(),
        measures: BTreeMap::from([
            (
                "temperature".to_string(),
                MeasureSummary {
                    count: 3,
                    min: Some(-x),
                    max: Some(x),
                    mean: Some(x / 3.0),
                    sparkline: Some("▁·█".into()),
                    true_count: None,
                },
            ),
            (
                "door open".to_string(),
                MeasureSummary {
                    count: 3,
                    min: None,
                    max: None,
                    mean: None,
                    sparkline: None,
                    true_count: Some(1),
                },
            ),
        ]),
    }
}

fn table(series: Vec<SeriesPlan>) -> TablePlan {
    TablePlan {
        target: "t".into(),
        layout: "multi".into(),
        measure_name: Some("metrics".into()),
        measures: BTreeMap::new(),
        dimensions: vec![],
        records: 0,
        series,
    }
}

fn plan(tables: Vec<(&str, TablePlan)>) -> Plan {
    Plan {
        format: "outatime-plan/1".into(),
        scenario: "s".into(),
        scenario_file: "s.scenario".into(),
        scenario_digest: "blake3:0".into(),
        seed: 1,
        anchor: AnchorPolicy {
            align: "1m".into(),
            now: "now".into(),
        },
        sources: BTreeMap::new(),
        tables: tables
            .into_iter()
            .map(|(n, t)| (n.to_string(), t))
            .collect(),
        steps: vec![],
        expectations: vec![],
        labels: vec![],
        warnings: vec![],
        records: 0,
        stream_digest: "blake3:1".into(),
    }
}

/// Names and values YAML could misread, and numbers at the edges of f64's
/// shortest forms.
fn awkward(count: usize, dimension: &str) -> Vec<SeriesPlan> {
    let values = [
        "yes",
        "null",
        "~",
        "a: b, {c}",
        "\"quoted\" \\ back",
        "line\nbreak\ttab",
        "ünïcödé 🚚",
        "0012",
        "1e3",
        "",
    ];
    let numbers = [
        0.0,
        -0.0,
        1e20,
        1e-7,
        123456789.125,
        f64::MAX,
        f64::MIN_POSITIVE,
        0.1,
    ];
    (0..count)
        .map(|i| {
            let value = format!("{}{i}", values[i % values.len()]);
            series(i, dimension, value, numbers[i % numbers.len()])
        })
        .collect()
}

#[test]
fn a_big_table_writes_one_line_a_series_and_reads_back_the_same() {
    for dimension in ["device", "null", "Device", "yes", "a b", "_x1"] {
        let original = plan(vec![
            ("big", table(awkward(ONE_LINE_SERIES_ABOVE + 1, dimension))),
            ("small", table(awkward(3, dimension))),
            ("empty", table(vec![])),
        ]);
        let text = to_yaml(&original).unwrap();
        assert_eq!(from_yaml(&text).unwrap(), original, "{text}");
        let one_line = text.lines().filter(|l| l.starts_with("    - {")).count();
        assert_eq!(one_line, ONE_LINE_SERIES_ABOVE + 1, "{text}");
        // The small table keeps its block layout.
        assert!(text.contains("    - dimensions:\n"), "{text}");
    }
}

#[test]
fn a_table_at_the_limit_keeps_the_block_layout() {
    let original = plan(vec![("t", table(awkward(ONE_LINE_SERIES_ABOVE, "device")))]);
    let text = to_yaml(&original).unwrap();
    assert_eq!(text, super::block(&original).unwrap());
    assert!(!text.contains("    - {"));
}

#[test]
fn a_series_without_a_json_number_keeps_its_table_in_blocks() {
    let mut big = awkward(ONE_LINE_SERIES_ABOVE + 1, "device");
    big[7] = series(7, "device", "nan".into(), f64::INFINITY);
    let original = plan(vec![("t", table(big))]);
    let text = to_yaml(&original).unwrap();
    assert_eq!(text, super::block(&original).unwrap());
}

#[test]
fn keys_stay_bare_only_when_yaml_reads_them_as_written() {
    for key in ["device", "door_open", "_x", "site2"] {
        assert!(super::bare(key), "{key}");
    }
    for key in ["yes", "null", "on", "Device", "2site", "a b", "", "a-b"] {
        assert!(!super::bare(key), "{key}");
    }
}
