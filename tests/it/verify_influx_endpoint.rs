//! `outatime verify --target` for InfluxDB's v2 and v3 APIs, through the
//! real binary against the in-test endpoint (`tests/it/fakes/influx/`), which
//! answers the InfluxQL `/query` that verify sends: after `apply` it
//! passes; a value overwritten or a series deleted in the endpoint behind
//! outatime's back is named (exit 1); a wrong token cannot read (exit 3).
//! The 1.x API is verified against a real influxd in tests/it/verify.rs.

use crate::common::{Run, TWO_TABLES};
use crate::fakes::influx::{self, Config, FieldValue, InfluxEndpoint, Point};

const ANCHOR: &str = "2026-11-28T20:00:00Z";
const TOKEN_ENV: &str = "OUTATIME_TEST_INFLUX_TOKEN";

/// The endpoint, and a folder whose `outatime.yaml` names it `influx`
/// with `api` v2 (org `outatime`, bucket `e2e`) or v3 (database `e2e`).
fn endpointed(api: &str) -> (InfluxEndpoint, Run) {
    let endpoint = InfluxEndpoint::start(Config::default());
    let run = Run::new(&format!("verify-influx-{api}"))
        .file("s.scenario", TWO_TABLES)
        .file("outatime.yaml", endpoint.outatime_yaml(api, TOKEN_ENV));
    (endpoint, run)
}

fn outatime(run: &Run, command: &str, token: &str) -> (i32, String, String) {
    run.again(&[
        command,
        "s.scenario",
        "--target",
        "influx",
        "--anchor",
        ANCHOR,
    ])
    .run_with(&[(TOKEN_ENV, token)])
}

fn time_ns(rfc3339: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .timestamp_nanos_opt()
        .unwrap()
}

fn verify_names_what_changed_behind_its_back(api: &str) {
    let (endpoint, run) = endpointed(api);
    let (code, _, stderr) = outatime(&run, "apply", influx::TOKEN);
    assert_eq!(code, 0, "{stderr}");

    let (code, stdout, stderr) = outatime(&run, "verify", influx::TOKEN);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("ok: 465 records match"), "{stdout}");
    assert!(
        stdout.contains("`bravo` (bravo): 180 expected, 180 found"),
        "{stdout}"
    );
    // It read through /query, with the token, from the bucket (database).
    let queries: Vec<_> = endpoint
        .requests()
        .into_iter()
        .filter(|r| r.path == "/query")
        .collect();
    assert!(!queries.is_empty());
    for query in &queries {
        assert_eq!(query.status, Some(200));
        assert_eq!(query.param("db"), Some("e2e"));
        assert_eq!(query.param("epoch"), Some("ns"));
        assert_eq!(
            query.header("authorization"),
            Some(format!("Token {}", influx::TOKEN).as_str())
        );
    }

    // One value overwritten, as another writer would.
    let overwritten = "2026-11-28T19:00:00Z";
    endpoint.set_point(
        "e2e",
        &Point {
            measurement: "alpha".into(),
            tags: [("device", "a1"), ("site", "lab")]
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            field: "v".into(),
            time_ns: time_ns(overwritten),
            value: FieldValue::Float(12345.5),
        },
    );
    let (code, stdout, stderr) = outatime(&run, "verify", influx::TOKEN);
    assert_eq!(code, 1, "{stdout}{stderr}");
    let changed = r#"differs    `alpha` {device="a1", site="lab"} at 2026-11-28T19:00:00.000Z: `v` expected "#;
    assert!(stdout.contains(changed), "{stdout}");
    assert!(stdout.contains(", found 12345.5"), "{stdout}");
    assert!(
        stdout.contains(r#"series {device="a1", site="lab"}: 95 expected, 95 found, 0 missing, 0 unexpected, 1 differing"#),
        "{stdout}"
    );
    assert!(
        stderr.contains("error[outatime::verify::differs]"),
        "{stderr}"
    );

    // A series deleted.
    let deleted = endpoint.delete_series("e2e", "bravo", &[("device", "b2"), ("site", "lab")]);
    assert_eq!(deleted, 2 * 90, "two fields a point");
    let (code, stdout, _) = outatime(&run, "verify", influx::TOKEN);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains(r#"series {device="b2", site="lab"}: 90 expected, 0 found, 90 missing"#),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            r#"missing    `bravo` {device="b2", site="lab"} at 2026-11-28T18:30:00.000Z"#
        ),
        "{stdout}"
    );

    // A token the server refuses cannot read: exit 3, saying why.
    let (code, _, stderr) = outatime(&run, "verify", "not-the-token");
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("error[outatime::verify::influxdb]") && stderr.contains("401"),
        "{stderr}"
    );
}

#[test]
fn v2_verify_passes_then_names_an_overwritten_value_and_a_deleted_series() {
    verify_names_what_changed_behind_its_back("v2");
}

#[test]
fn v3_verify_passes_then_names_an_overwritten_value_and_a_deleted_series() {
    verify_names_what_changed_behind_its_back("v3");
}
