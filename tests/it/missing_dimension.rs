//! A series that lacks a dimension, as `outatime capture` writes it (an
//! empty cell), through the real binary: the plan lists it without the
//! dimension, its records carry no such key, the strict Timestream
//! endpoint (`tests/it/fakes/strict/`, which refuses empty dimension values) stores
//! them, and `verify` finds them. Everything stays on 127.0.0.1.

use std::collections::BTreeMap;

use crate::common::Run;
use crate::fakes::strict::StrictEndpoint;

const AWS_ENV: [(&str, &str); 3] = [
    ("AWS_ACCESS_KEY_ID", "test"),
    ("AWS_SECRET_ACCESS_KEY", "test"),
    ("AWS_EC2_METADATA_DISABLED", "true"),
];

/// The anchor: the current minute, so that the shifted records fall in
/// the memory store's retention, which the strict endpoint enforces.
fn anchor() -> String {
    let now = chrono::Utc::now().timestamp();
    chrono::DateTime::from_timestamp(now - now.rem_euclid(60), 0)
        .unwrap()
        .to_rfc3339()
}

/// `d1` has a site; `d2` has none (an empty cell, quoted or not).
const DATA: &str = "ts,device,site,v\n\
2026-03-12T11:57:00Z,d1,oslo,1.5\n\
2026-03-12T11:57:00Z,d2,,2.5\n\
2026-03-12T11:58:00Z,d1,oslo,3.5\n\
2026-03-12T11:58:00Z,d2,\"\",4.5\n";

fn scenario(extra: &str) -> String {
    format!(
        r#"scenario "missing"
source m csv "m.csv" {{
  time ts
  dimensions device, site
  measures v double
}}
table telemetry
replay m into telemetry {{
  shift end to now
{extra}}}
"#
    )
}

fn project(name: &str, extra: &str) -> Run {
    Run::new(&format!("missing-dimension-{name}"))
        .file("s.scenario", scenario(extra))
        .file("m.csv", DATA)
}

/// `outatime records` at the anchor: each line's device and dimensions.
fn records(run: &Run) -> Vec<(String, BTreeMap<String, String>)> {
    let (code, stdout, stderr) = run
        .again(&["records", "s.scenario", "--anchor", &anchor()])
        .run();
    assert_eq!(code, 0, "{stderr}");
    stdout
        .lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let dims: BTreeMap<String, String> = v["dimensions"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                .collect();
            (dims["device"].clone(), dims)
        })
        .collect()
}

#[test]
fn an_empty_dimension_cell_is_a_missing_dimension_in_records_and_plan() {
    let run = project("records", "");
    let got = records(&run);
    assert_eq!(got.len(), 4, "{got:?}");
    for (device, dims) in &got {
        match device.as_str() {
            "d1" => assert_eq!(dims.get("site").map(String::as_str), Some("oslo")),
            "d2" => assert!(!dims.contains_key("site"), "{dims:?}"),
            other => panic!("device {other}"),
        }
    }
    let (code, plan, stderr) = run.again(&["plan", "s.scenario"]).run();
    assert_eq!(code, 0, "{stderr}");
    assert!(!plan.contains("site: ''"), "{plan}");
    assert!(!plan.contains("site: \"\""), "{plan}");
    // Two series: one with a site, one without.
    assert_eq!(plan.matches("site: oslo").count(), 1, "{plan}");
    let (code, csv, stderr) = run
        .again(&[
            "records",
            "s.scenario",
            "--anchor",
            &anchor(),
            "--format",
            "csv",
        ])
        .run();
    assert_eq!(code, 0, "{stderr}");
    assert!(csv.contains(",d2,,4.5\n"), "{csv}");
}

#[test]
fn where_compares_a_missing_dimension_as_empty() {
    let with = project("where-with", "  where site != \"\"\n");
    let devices: Vec<String> = records(&with).into_iter().map(|(d, _)| d).collect();
    assert_eq!(devices, ["d1", "d1"]);
    let without = project("where-without", "  where site == \"\"\n");
    let devices: Vec<String> = records(&without).into_iter().map(|(d, _)| d).collect();
    assert_eq!(devices, ["d2", "d2"]);
}

#[test]
fn set_to_empty_removes_a_dimension() {
    let run = project("set-empty", "  set site = \"\"\n");
    for (_, dims) in records(&run) {
        assert!(!dims.contains_key("site"), "{dims:?}");
    }
}

#[test]
fn a_generated_series_with_an_empty_value_lacks_the_dimension() {
    let run = Run::new("missing-dimension-generate").file(
        "s.scenario",
        r#"scenario "g"
table telemetry
generate into telemetry {
  series device = "a", site = ""
  series device = "b", site = "oslo"
  from now - 3m to now every 1m
  measure v double = noise(sigma: 1)
}
"#,
    );
    let got = records(&run);
    assert_eq!(got.len(), 6, "{got:?}");
    for (device, dims) in got {
        assert_eq!(dims.contains_key("site"), device == "b", "{dims:?}");
    }
}

#[test]
fn the_strict_endpoint_stores_a_series_without_the_dimension_and_verify_finds_it() {
    let endpoint = StrictEndpoint::start();
    let config = format!(
        "targets:\n  strict:\n    kind: timestream\n    region: us-east-1\n    database: db\n    endpoint_url: {}\n    table_prefix: \"t_\"\n    retention: {{ memory_store_hours: 24, magnetic_store_days: 30, magnetic_writes: false }}\n",
        endpoint.url()
    );
    let anchor = anchor();
    let run = project("strict", "").file("outatime.yaml", config);
    let (code, _, stderr) = run
        .again(&[
            "apply",
            "s.scenario",
            "--target",
            "strict",
            "--create",
            "--anchor",
            &anchor,
        ])
        .run_with(&AWS_ENV);
    assert_eq!(code, 0, "{stderr}");
    let stored = endpoint.stored("db", "t_telemetry");
    assert_eq!(stored.len(), 4, "{stored:?}");
    let mut series: Vec<BTreeMap<String, String>> =
        stored.iter().map(|s| s.dimensions.clone()).collect();
    series.dedup();
    let expected: Vec<BTreeMap<String, String>> = vec![
        [
            ("device".into(), "d1".into()),
            ("site".into(), "oslo".into()),
        ]
        .into(),
        [("device".into(), "d2".into())].into(),
    ];
    assert_eq!(series, expected);
    let (code, stdout, stderr) = run
        .again(&[
            "verify",
            "s.scenario",
            "--target",
            "strict",
            "--anchor",
            &anchor,
        ])
        .run_with(&AWS_ENV);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
}
