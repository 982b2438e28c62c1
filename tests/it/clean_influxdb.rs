//! `outatime clean` and the untagged refusal on InfluxDB targets, through
//! the real binary: outatime marks the measurements it makes
//! (`outatime_managed`), `apply` refuses measurements with points and no
//! marker unless `allow_untagged_tables`, and `clean` drops only the
//! scenario's marked measurements with their markers. Against the in-test
//! v2/v3 endpoint (`tests/it/fakes/influx/`) and a real influxd 1.x when the test
//! command runs one (`OUTATIME_INFLUXDB_URL`).

use std::collections::{BTreeMap, BTreeSet};

use crate::common::{self, Run};
use crate::fakes::influx;

/// Two tables, written over the last ten minutes (within any retention).
const SCENARIO: &str = "scenario \"clean demo\"\ntable alpha\ntable bravo\ngenerate into alpha {\n  series device = \"a1\"\n  from now - 10m to now every 1m\n  measure v double = noise(sigma: 1)\n}\ngenerate into bravo {\n  series device = \"b1\"\n  from now - 10m to now every 1m\n  measure w bigint = constant(value: 3)\n}\n";

/// Another scenario's table, on the same target.
const OTHER: &str = "scenario \"other: run #2\"\ntable charlie\ngenerate into charlie {\n  series device = \"c1\"\n  from now - 5m to now every 1m\n  measure v double = noise(sigma: 1)\n}\n";

const TOKEN_ENV: (&str, &str) = ("OUTATIME_TEST_INFLUX_TOKEN", influx::TOKEN);

/// The scenarios and an `outatime.yaml` naming an InfluxDB target `e2e`,
/// and `e2e_open` (`allow_untagged_tables`): `destination` holds `api`,
/// `url` and where it writes.
fn influx_workspace(name: &str, destination: &str) -> Run {
    let target = |name: &str, extra: &str| {
        format!(
            "  {name}:\n    kind: influxdb\n{destination}    token_env: OUTATIME_TEST_INFLUX_TOKEN\n{extra}"
        )
    };
    let config = format!(
        "targets:\n{}{}",
        target("e2e", ""),
        target("e2e_open", "    allow_untagged_tables: true\n"),
    );
    Run::new(name)
        .file("s.scenario", SCENARIO)
        .file("other.scenario", OTHER)
        .file("outatime.yaml", config)
}

fn influx_run(work: &Run, args: &[&str]) -> (i32, String, String) {
    work.again(args).run_with(&[TOKEN_ENV])
}

/// The measurements of the endpoint's bucket `e2e`, and the marked ones
/// with their scenario.
fn endpoint_state(
    endpoint: &influx::InfluxEndpoint,
) -> (BTreeSet<String>, BTreeMap<String, String>) {
    let mut measurements = BTreeSet::new();
    let mut marked = BTreeMap::new();
    for point in endpoint.points("e2e") {
        if point.measurement == influx::MARKER {
            if let influx::FieldValue::String(scenario) = &point.value {
                marked.insert(point.tags["table"].clone(), scenario.clone());
            }
        } else {
            measurements.insert(point.measurement.clone());
        }
    }
    (measurements, marked)
}

/// Someone else's point in the measurement `measurement`.
fn foreign_point(measurement: &str) -> influx::Point {
    influx::Point {
        measurement: measurement.into(),
        tags: [("device".to_string(), "theirs".to_string())].into(),
        field: "v".into(),
        time_ns: 1_700_000_000_000_000_000,
        value: influx::FieldValue::Float(1.0),
    }
}

#[test]
fn influxdb_v2_marks_refuses_unmarked_and_cleans_only_its_marked_measurements() {
    let endpoint = influx::InfluxEndpoint::start(influx::Config::default());
    let destination = format!(
        "    api: v2\n    url: {}\n    org: outatime\n    bucket: e2e\n",
        endpoint.url()
    );
    let work = influx_workspace("clean-influx-v2", &destination);
    // bravo has someone else's points; delta is nobody's business.
    endpoint.set_point("e2e", &foreign_point("bravo"));
    endpoint.set_point("e2e", &foreign_point("delta"));

    // An unmarked measurement with points: refused, nothing written.
    let (code, _, stderr) = influx_run(&work, &["apply", "s.scenario", "--target", "e2e"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(
            "error[outatime::apply::untagged_table]: `e2e.bravo` was not created by outatime"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("it has points and no marker in `outatime_managed`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("outatime marks each measurement"),
        "{stderr}"
    );
    assert!(stderr.contains("allow_untagged_tables: true"), "{stderr}");
    let (measurements, marked) = endpoint_state(&endpoint);
    assert_eq!(measurements, ["bravo", "delta"].map(String::from).into());
    assert!(
        marked.is_empty(),
        "a refused apply marks nothing: {marked:?}"
    );

    // A dry run through `allow_untagged_tables` marks and writes nothing.
    let (code, _, stderr) = influx_run(
        &work,
        &["apply", "s.scenario", "--target", "e2e_open", "--dry-run"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(endpoint_state(&endpoint).1.is_empty());

    // Allowed: alpha is made and marked, bravo written into, not marked.
    let (code, _, stderr) = influx_run(&work, &["apply", "s.scenario", "--target", "e2e_open"]);
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = influx_run(&work, &["apply", "other.scenario", "--target", "e2e"]);
    assert_eq!(code, 0, "{stderr}");
    let (measurements, marked) = endpoint_state(&endpoint);
    assert_eq!(
        measurements,
        ["alpha", "bravo", "charlie", "delta"]
            .map(String::from)
            .into()
    );
    assert_eq!(
        marked,
        [
            ("alpha".to_string(), "clean demo".to_string()),
            ("charlie".to_string(), "other: run -2".to_string())
        ]
        .into()
    );
    // Its own measurements again: no refusal.
    let (code, _, stderr) = influx_run(&work, &["apply", "s.scenario", "--target", "e2e_open"]);
    assert_eq!(code, 0, "{stderr}");

    // The dry run lists and drops nothing.
    let (code, stdout, stderr) = influx_run(
        &work,
        &["clean", "s.scenario", "--target", "e2e", "--dry-run"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("would delete `e2e.alpha` (created by outatime for `clean demo`)"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "skip `e2e.bravo`: not created by outatime (no marker in `outatime_managed`)"
        ),
        "{stdout}"
    );
    assert!(
        !endpoint
            .requests()
            .iter()
            .any(|r| r.path == "/api/v2/delete"),
        "a dry run deletes nothing"
    );

    let (code, stdout, stderr) = influx_run(
        &work,
        &[
            "clean",
            "s.scenario",
            "--target",
            "e2e",
            "--yes",
            "--report",
            "clean.json",
        ],
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    let (measurements, marked) = endpoint_state(&endpoint);
    assert_eq!(
        measurements,
        ["bravo", "charlie", "delta"].map(String::from).into()
    );
    assert_eq!(
        marked,
        [("charlie".to_string(), "other: run -2".to_string())].into()
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(work.dir.join("clean.json")).unwrap()).unwrap();
    assert_eq!(report["deleted"], 1, "{report}");
    assert_eq!(report["tables"][1]["action"], "skip_untagged", "{report}");
    let deletes: Vec<_> = endpoint
        .requests()
        .into_iter()
        .filter(|r| r.path == "/api/v2/delete")
        .collect();
    assert_eq!(deletes.len(), 2, "the measurement and its marker");
    assert!(
        deletes
            .iter()
            .all(|r| r.param("bucket") == Some("e2e") && r.status == Some(204))
    );

    // Twice is fine: nothing left to drop.
    let (code, stdout, stderr) =
        influx_run(&work, &["clean", "s.scenario", "--target", "e2e", "--yes"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("skip `e2e.alpha`: it does not exist"),
        "{stdout}"
    );
    assert!(stdout.contains("nothing to delete"), "{stdout}");
    assert!(
        endpoint.databases().iter().any(|d| d.name == "e2e"),
        "the bucket stays"
    );
}

#[test]
fn influxdb_v3_clean_is_refused() {
    let endpoint = influx::InfluxEndpoint::start(influx::Config::default());
    let destination = format!(
        "    api: v3\n    url: {}\n    database: e2e\n",
        endpoint.url()
    );
    let work = influx_workspace("clean-influx-v3", &destination);
    let (code, _, stderr) = influx_run(&work, &["clean", "s.scenario", "--target", "e2e", "--yes"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("outatime::clean::not_supported"),
        "{stderr}"
    );
    assert!(stderr.contains("InfluxDB 3 deletes no points"), "{stderr}");
    assert!(endpoint.requests().is_empty(), "nothing was asked");
}

/// An InfluxQL statement against the real influxd: its first result.
fn influxd(url: &str, database: &str, method: &str, statement: &str) -> serde_json::Value {
    let target = format!(
        "/query?db={}&epoch=ns&q={}",
        common::http::escape(database),
        common::http::escape(statement)
    );
    let answer = common::http::request(url, method, &target, &[], b"").unwrap();
    assert_eq!(answer.status, 200, "{statement}: {}", answer.text());
    answer.json()["results"][0].clone()
}

fn influxd_measurements(url: &str, database: &str) -> BTreeSet<String> {
    let shown = influxd(url, database, "GET", "SHOW MEASUREMENTS");
    shown["series"][0]["values"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .map(|r| r[0].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn influxdb_v1_apply_create_marks_and_clean_drops_only_marked_measurements() {
    let Some(url) = common::influxdb_url() else {
        return;
    };
    let database = format!("clean_{}", std::process::id());
    let destination = format!("    api: v1\n    url: {url}\n    database: {database}\n");
    let work = influx_workspace("clean-influx-v1", &destination);
    let (code, _, stderr) = influx_run(
        &work,
        &["apply", "s.scenario", "--target", "e2e", "--create"],
    );
    assert_eq!(code, 0, "{stderr}");
    let markers = influxd(
        &url,
        &database,
        "GET",
        "SELECT * FROM \"outatime_managed\" GROUP BY *",
    );
    let marked: BTreeMap<String, String> = markers["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["tags"]["table"].as_str().unwrap().to_string(),
                s["values"][0][1].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        marked,
        [
            ("alpha".to_string(), "clean demo".to_string()),
            ("bravo".to_string(), "clean demo".to_string())
        ]
        .into()
    );
    // charlie has someone else's points: refused, then allowed.
    let write = format!("/write?db={database}&precision=s");
    let answer = common::http::request(
        &url,
        "POST",
        &write,
        &[],
        b"charlie,device=theirs v=1 1700000000",
    )
    .unwrap();
    assert_eq!(answer.status, 204, "{}", answer.text());
    let (code, _, stderr) = influx_run(&work, &["apply", "other.scenario", "--target", "e2e"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("outatime::apply::untagged_table"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("`{database}.charlie`")),
        "{stderr}"
    );

    let (code, stdout, stderr) =
        influx_run(&work, &["clean", "s.scenario", "--target", "e2e", "--yes"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let left = influxd_measurements(&url, &database);
    assert!(
        !left.contains("alpha") && !left.contains("bravo") && left.contains("charlie"),
        "alpha and bravo dropped; charlie is not the scenario's: {left:?}"
    );
    let (code, stdout, stderr) = influx_run(
        &work,
        &["clean", "other.scenario", "--target", "e2e", "--yes"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains(&format!(
            "skip `{database}.charlie`: not created by outatime"
        )),
        "{stdout}"
    );
    assert!(influxd_measurements(&url, &database).contains("charlie"));
    // The markers of the dropped measurements went with them.
    let left = influxd(
        &url,
        &database,
        "GET",
        "SELECT * FROM \"outatime_managed\" GROUP BY *",
    );
    assert!(left.get("series").is_none(), "{left}");
    influxd(&url, "", "POST", &format!("DROP DATABASE \"{database}\""));
}
