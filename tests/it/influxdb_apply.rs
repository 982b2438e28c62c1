//! `outatime apply --target influx` through the real binary. Against a
//! real influxd 1.x (`OUTATIME_INFLUXDB_URL`, which `./scripts/test`
//! starts): every scenario under `scenarios/` that fits one database, and
//! one with awkward characters, read back with InfluxQL written here (raw
//! HTTP, not outatime's code) and compared value by value and type by type
//! with `outatime records`; a re-apply leaves the data as it was; `verify`
//! passes; the preflight refuses what the retention would drop and what
//! line protocol cannot carry, writing nothing. Against the in-test v2/v3
//! endpoint (`tests/it/fakes/influx/`): paths, parameters, the token, gzip, faults
//! (429, 503, 413, a refused line), dry run, shards and resume. Each test
//! uses its own database. Everything stays on 127.0.0.1.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value as Json;
use serde_json::value::RawValue;

use crate::common::{self, Run, influxdb_url};
use crate::fakes::influx::{self, Config, Database, Faults, FieldValue, InfluxEndpoint};

const ANCHOR: &str = "2026-11-28T20:00:00Z";

/// A point's key as this test compares it: table, time (ns), tags.
type Key = (String, i64, BTreeMap<String, String>);
/// A point's fields: name → (InfluxDB's type, value).
type Fields = BTreeMap<String, Typed>;

/// A value with its type, as InfluxDB names them.
#[derive(Clone, Debug, PartialEq)]
enum Typed {
    Float(f64),
    Integer(i64),
    String(String),
    Boolean(bool),
}

// ------------------------------------------------------------- expectations

/// `outatime records S --anchor A` in `run`'s folder, as points: a number
/// written with a `.` or an exponent is a double (a float), else a bigint.
fn expected(run: &Run, scenario: &str, anchor: &str) -> BTreeMap<Key, Fields> {
    let (code, stdout, stderr) = run.again(&["records", scenario, "--anchor", anchor]).run();
    assert_eq!(code, 0, "{stderr}");
    let mut points = BTreeMap::new();
    for line in stdout.lines() {
        let record: Json = serde_json::from_str(line).unwrap();
        let time = chrono::DateTime::parse_from_rfc3339(record["time"].as_str().unwrap())
            .unwrap()
            .timestamp_nanos_opt()
            .unwrap();
        let tags = record["dimensions"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
            .collect();
        let fields: &mut Fields = points
            .entry((record["table"].as_str().unwrap().to_string(), time, tags))
            .or_default();
        // The values as printed: serde_json may read a double a bit off.
        let raw: Raw = serde_json::from_str(line).unwrap();
        for (name, value) in raw.measures {
            fields.insert(name, typed_from_records(&value));
        }
    }
    points
}

#[derive(serde::Deserialize)]
struct Raw {
    measures: BTreeMap<String, Box<RawValue>>,
}

fn typed_from_records(value: &RawValue) -> Typed {
    let text = value.get();
    match text {
        "true" => Typed::Boolean(true),
        "false" => Typed::Boolean(false),
        _ if text.starts_with('"') => Typed::String(serde_json::from_str(text).unwrap()),
        _ if text.contains(['.', 'e', 'E']) => Typed::Float(exact(value)),
        _ => Typed::Integer(text.parse().unwrap()),
    }
}

/// A JSON number's f64, read exactly (Rust's parser rounds correctly).
fn exact(value: &RawValue) -> f64 {
    value.get().parse().unwrap()
}

/// The two sets of points are the same; else the counts and the first
/// point that differs (the sets are too large to print).
#[track_caller]
fn assert_same(got: &BTreeMap<Key, Fields>, want: &BTreeMap<Key, Fields>, what: &str) {
    if got == want {
        return;
    }
    let missing = want.iter().find(|(k, v)| got.get(*k) != Some(*v));
    let unexpected = got.iter().find(|(k, _)| !want.contains_key(*k));
    panic!(
        "{what}: {} points read, {} expected; first expected point not read as written: {missing:?} (read: {:?}); first unexpected: {unexpected:?}",
        got.len(),
        want.len(),
        missing.and_then(|(k, _)| got.get(k)),
    );
}

// ------------------------------------------------------------ a real influxd

/// An InfluxQL statement through `/query`, its first result.
fn influxql(url: &str, database: &str, method: &str, statement: &str) -> Json {
    let target = format!(
        "/query?db={}&epoch=ns&q={}",
        common::http::escape(database),
        common::http::escape(statement)
    );
    let answer = common::http::request(url, method, &target, &[], b"").unwrap();
    assert_eq!(answer.status, 200, "{statement}: {}", answer.text());
    let json = answer.json();
    let result = json["results"][0].clone();
    assert!(result.get("error").is_none(), "{statement}: {json}");
    result
}

/// `SELECT ... GROUP BY *` through `/query`: its series, values as the
/// server printed them.
fn influxql_raw(url: &str, database: &str, statement: &str) -> Vec<RawSeries> {
    #[derive(serde::Deserialize)]
    struct Answer {
        results: Vec<RawResult>,
    }
    #[derive(serde::Deserialize)]
    struct RawResult {
        #[serde(default)]
        series: Vec<RawSeries>,
    }
    let target = format!(
        "/query?db={}&epoch=ns&q={}",
        common::http::escape(database),
        common::http::escape(statement)
    );
    let answer = common::http::request(url, "GET", &target, &[], b"").unwrap();
    assert_eq!(answer.status, 200, "{statement}: {}", answer.text());
    let parsed: Answer = serde_json::from_slice(&answer.body)
        .unwrap_or_else(|e| panic!("{statement}: {e}: {}", answer.text()));
    parsed.results.into_iter().flat_map(|r| r.series).collect()
}

#[derive(serde::Deserialize)]
struct RawSeries {
    #[serde(default)]
    tags: BTreeMap<String, String>,
    columns: Vec<String>,
    values: Vec<Vec<Box<RawValue>>>,
}

fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Every point of `database`, read with `SELECT * ... GROUP BY *`, each
/// field typed by `SHOW FIELD KEYS`. A tag a series lacks comes back empty
/// and is left out.
fn read_back(url: &str, database: &str) -> BTreeMap<Key, Fields> {
    let mut points: BTreeMap<Key, Fields> = BTreeMap::new();
    let measurements = influxql(url, database, "GET", "SHOW MEASUREMENTS");
    let names: Vec<String> = measurements["series"]
        .as_array()
        .map(|series| {
            series[0]["values"]
                .as_array()
                .unwrap()
                .iter()
                .map(|row| row[0].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default();
    // outatime's markers are not records.
    for name in names.into_iter().filter(|n| n != influx::MARKER) {
        let keys = influxql(
            url,
            database,
            "GET",
            &format!("SHOW FIELD KEYS FROM {}", quoted(&name)),
        );
        let types: BTreeMap<String, String> = keys["series"][0]["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| {
                (
                    row[0].as_str().unwrap().to_string(),
                    row[1].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let selected = influxql_raw(
            url,
            database,
            &format!("SELECT * FROM {} GROUP BY *", quoted(&name)),
        );
        for series in &selected {
            let tags: BTreeMap<String, String> = series
                .tags
                .iter()
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            assert_eq!(series.columns[0], "time");
            for row in &series.values {
                let time: i64 = row[0].get().parse().unwrap();
                let fields = points
                    .entry((name.clone(), time, tags.clone()))
                    .or_default();
                for (column, value) in series.columns.iter().zip(row).skip(1) {
                    if value.get() == "null" {
                        continue;
                    }
                    let typed = match types[column].as_str() {
                        "float" => Typed::Float(exact(value)),
                        "integer" => Typed::Integer(value.get().parse().unwrap()),
                        "string" => Typed::String(serde_json::from_str(value.get()).unwrap()),
                        "boolean" => Typed::Boolean(value.get() == "true"),
                        other => panic!("field type {other}"),
                    };
                    fields.insert(column.clone(), typed);
                }
            }
        }
    }
    points
}

/// A database name of this run and test, created fresh.
fn fresh_database(url: &str, test: &str, with: &str) -> String {
    let database = format!("outatime_{test}_{}", std::process::id());
    influxql(
        url,
        "",
        "POST",
        &format!("DROP DATABASE {}", quoted(&database)),
    );
    influxql(
        url,
        "",
        "POST",
        &format!("CREATE DATABASE {}{with}", quoted(&database)),
    );
    database
}

fn drop_database(url: &str, database: &str) {
    influxql(
        url,
        "",
        "POST",
        &format!("DROP DATABASE {}", quoted(database)),
    );
}

fn v1_config(url: &str, database: &str) -> String {
    format!(
        "targets:\n  influx:\n    kind: influxdb\n    api: v1\n    url: {url}\n    database: {database}\n"
    )
}

/// The scenarios folder copied into a run's folder, with a configuration.
fn with_scenarios(name: &str, config: &str) -> Run {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut run = Run::new(name).file("outatime.yaml", config);
    for path in [
        "freezer-door-oslo.scenario",
        "data/fleet.csv",
        "snippets/generate.scenario",
        "snippets/replay.scenario",
        "snippets/extrapolate.scenario",
        "snippets/data/fleet.csv",
    ] {
        run = run.file(path, std::fs::read(root.join(path)).unwrap());
    }
    run
}

fn apply(run: &Run, extra: &[&str]) -> (i32, String, String) {
    run.again(&["apply"]).args(extra).run()
}

#[test]
fn every_scenario_round_trips_through_a_real_influxd_and_a_reapply_changes_nothing() {
    let Some(url) = influxdb_url() else { return };
    // Left out: snippets/source.scenario (a source alone, no table),
    // snippets/table.scenario and snippets/anomaly.scenario (tables no
    // step writes into: no records).
    for (i, scenario) in [
        "freezer-door-oslo.scenario",
        "snippets/generate.scenario",
        "snippets/replay.scenario",
        "snippets/extrapolate.scenario",
    ]
    .into_iter()
    .enumerate()
    {
        let database = format!("outatime_scenario_{i}_{}", std::process::id());
        drop_database(&url, &database);
        let run = with_scenarios(&format!("influx-scenario-{i}"), &v1_config(&url, &database));
        let want = expected(&run, scenario, ANCHOR);
        assert!(!want.is_empty(), "{scenario} has records");
        let (code, _, stderr) = apply(
            &run,
            &[
                scenario, "--target", "influx", "--anchor", ANCHOR, "--create",
            ],
        );
        assert_eq!(code, 0, "{scenario}: {stderr}");
        let got = read_back(&url, &database);
        assert_same(&got, &want, scenario);

        // The same plan at the same anchor again: the same points.
        let (code, _, stderr) = apply(&run, &[scenario, "--target", "influx", "--anchor", ANCHOR]);
        assert_eq!(code, 0, "{scenario}: {stderr}");
        let again = read_back(&url, &database);
        assert_eq!(again.len(), want.len(), "{scenario}: as many points");
        assert_same(&again, &want, &format!("{scenario}, after a re-apply"));

        // verify reads it back through its own reader and agrees.
        let (code, stdout, stderr) = run
            .again(&["verify", scenario, "--target", "influx", "--anchor", ANCHOR])
            .run();
        assert_eq!(code, 0, "{scenario}: {stdout}{stderr}");
        drop_database(&url, &database);
    }
}

/// Tag and string values with commas, spaces, equals signs, quotes,
/// backslashes and non-ASCII text, and one field of each type.
const AWKWARD: &str = r#"scenario "awkward"
table odd { name "odd_points" }
table single { layout single }
generate into odd {
  series site = "a,b c=d", label = "say \"hi\" ü 東京", path = "c:\\temp"
  series site = "plain", label = "x", path = "y"
  from now - 10m to now every 1m
  measure count bigint = constant(value: 7)
  measure ok boolean = constant(value: true)
  measure note varchar = constant(value: "a \"q\", b=c \\ d ü 東京")
  measure one double = constant(value: 1.0)
}
generate into single {
  series device = "s 1"
  from now - 5m to now every 1m
  measure w bigint = ramp(from: 0, to: 1000)
  measure z varchar = choice("x=1", "y, z")
}
"#;

#[test]
fn awkward_characters_and_every_type_round_trip_exactly() {
    let Some(url) = influxdb_url() else { return };
    let database = format!("outatime_awkward_{}", std::process::id());
    drop_database(&url, &database);
    let run = Run::new("influx-awkward")
        .file("outatime.yaml", v1_config(&url, &database))
        .file("s.scenario", AWKWARD);
    let want = expected(&run, "s.scenario", ANCHOR);
    let (code, _, stderr) = apply(
        &run,
        &[
            "s.scenario",
            "--target",
            "influx",
            "--anchor",
            ANCHOR,
            "--create",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let got = read_back(&url, &database);
    assert_same(&got, &want, "awkward");
    let odd = got
        .iter()
        .find(|((table, _, tags), _)| table == "odd_points" && tags["site"] == "a,b c=d")
        .map(|(_, fields)| fields)
        .unwrap();
    assert_eq!(odd["one"], Typed::Float(1.0), "1.0 comes back a float");
    assert_eq!(odd["count"], Typed::Integer(7));
    assert_eq!(odd["ok"], Typed::Boolean(true));
    assert_eq!(
        odd["note"],
        Typed::String("a \"q\", b=c \\ d ü 東京".into())
    );
    let (code, stdout, stderr) = run
        .again(&[
            "verify",
            "s.scenario",
            "--target",
            "influx",
            "--anchor",
            ANCHOR,
        ])
        .run();
    assert_eq!(code, 0, "{stdout}{stderr}");
    drop_database(&url, &database);
}

#[test]
fn the_preflight_refuses_records_older_than_the_retention_and_writes_nothing() {
    let Some(url) = influxdb_url() else { return };
    let database = fresh_database(&url, "retention", " WITH DURATION 1h");
    let scenario = r#"scenario "too old"
table kept
generate into kept {
  series device = "d1"
  from now - 3h to now every 10m
  measure v double = constant(value: 1.5)
}
"#;
    let run = Run::new("influx-retention")
        .file("outatime.yaml", v1_config(&url, &database))
        .file("s.scenario", scenario);
    // At the wall clock: the retention counts from the server's now.
    let (code, _, stderr) = apply(&run, &["s.scenario", "--target", "influx"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("outatime::apply::preflight"), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "table `{database}.kept`: the default retention policy of `{database}` keeps points for 1h"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("line 3 `generate into kept`")
            && stderr.contains("older than the retention policy keeps"),
        "{stderr}"
    );
    assert!(stderr.contains("ALTER RETENTION POLICY"), "{stderr}");
    assert!(read_back(&url, &database).is_empty(), "nothing was written");
    drop_database(&url, &database);
}

#[test]
fn what_line_protocol_cannot_carry_is_refused_before_any_write() {
    let Some(url) = influxdb_url() else { return };
    let database = fresh_database(&url, "unwritable", "");
    let scenario = "scenario \"broken\"\ntable notes\ngenerate into notes {\n  series device = \"d1\"\n  from now - 5m to now every 1m\n  measure text varchar = constant(value: \"two\\nlines\")\n}\n";
    let run = Run::new("influx-unwritable")
        .file("outatime.yaml", v1_config(&url, &database))
        .file("s.scenario", scenario);
    let (code, _, stderr) = apply(
        &run,
        &["s.scenario", "--target", "influx", "--anchor", ANCHOR],
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("5 records cannot be written to the target; nothing was written"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "`{database}.notes` at 2026-11-28T19:55:00.000Z in series {{device=\"d1\"}} (line 3 `generate into notes`), measure `text`: the string \"two\\nlines\" has a line break"
        )),
        "{stderr}"
    );
    assert!(stderr.contains("remove line breaks"), "{stderr}");
    assert!(read_back(&url, &database).is_empty(), "nothing was written");
    drop_database(&url, &database);
}

// ------------------------------------------------------- the v2/v3 endpoint

/// Many records in few series: several batches of 5,000 lines.
fn bulk(series: usize, minutes: usize) -> String {
    let series = (0..series).map(|s| format!("device = \"d{s}\", site = \"lab\""));
    let measures = [
        "v double = noise(sigma: 1)",
        "n bigint = ramp(from: 0, to: 100)",
    ];
    common::bulk_scenario(series, minutes, &measures)
}

/// A run against the endpoint: the configuration names it `influx`, with
/// `api` v2 (org `outatime`, bucket `e2e`) or v3 (database `e2e`).
struct Endpointed {
    endpoint: InfluxEndpoint,
    run: Run,
}

impl Endpointed {
    fn new(name: &str, api: &str, scenario: &str, config: Config) -> Endpointed {
        let endpoint = InfluxEndpoint::start(config);
        let run = Run::new(name)
            .file(
                "outatime.yaml",
                endpoint.outatime_yaml(api, "OUTATIME_TEST_INFLUX_TOKEN"),
            )
            .file("s.scenario", scenario);
        Endpointed { endpoint, run }
    }

    /// Marks `tables` as outatime's in the bucket `e2e`, as an earlier
    /// apply would have: this apply then writes no marker, so a test of
    /// the faults of record writes meets them on record writes.
    fn premark(&self, tables: &[&str]) {
        for table in tables {
            self.endpoint.set_point(
                "e2e",
                &influx::Point {
                    measurement: influx::MARKER.into(),
                    tags: [("table".to_string(), table.to_string())].into(),
                    field: "scenario".into(),
                    time_ns: 1_700_000_000_000_000_000,
                    value: FieldValue::String("earlier".into()),
                },
            );
        }
    }

    fn command(&self, extra: &[&str]) -> Command {
        self.run
            .again(&[
                "apply",
                "s.scenario",
                "--target",
                "influx",
                "--report",
                "r.json",
            ])
            .args(extra)
            .env("OUTATIME_TEST_INFLUX_TOKEN", influx::TOKEN)
            .command()
    }

    fn apply(&self, extra: &[&str]) -> (i32, String, Json) {
        let _ = std::fs::remove_file(self.run.dir.join("r.json"));
        let output = self.command(extra).output().unwrap();
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stderr).into_owned(),
            self.report(),
        )
    }

    fn report(&self) -> Json {
        std::fs::read(self.run.dir.join("r.json"))
            .map(|bytes| serde_json::from_slice(&bytes).unwrap())
            .unwrap_or(Json::Null)
    }

    /// The endpoint's points as this test compares them.
    fn stored(&self) -> BTreeMap<Key, Fields> {
        let mut points: BTreeMap<Key, Fields> = BTreeMap::new();
        for p in self.endpoint.points("e2e") {
            if p.measurement == influx::MARKER {
                continue;
            }
            let typed = match p.value {
                FieldValue::Float(v) => Typed::Float(v),
                FieldValue::Integer(v) => Typed::Integer(v),
                FieldValue::String(v) => Typed::String(v),
                FieldValue::Boolean(v) => Typed::Boolean(v),
                FieldValue::UInteger(v) => panic!("an unsigned field {v}"),
            };
            points
                .entry((p.measurement, p.time_ns, p.tags))
                .or_default()
                .insert(p.field, typed);
        }
        points
    }

    /// Lines of records sent in any write, whatever the answer: the token
    /// probe (an empty write) sends none, and the marker's write is not
    /// counted.
    fn lines_sent(&self) -> usize {
        self.endpoint
            .requests()
            .iter()
            .filter(|r| r.is_write() && !r.is_marker_write())
            .map(|r| r.lines)
            .sum()
    }

    /// Lines of records the endpoint stored: those of writes answered 204,
    /// the marker's not counted.
    fn lines_written(&self) -> usize {
        self.endpoint
            .requests()
            .iter()
            .filter(|r| r.is_write() && !r.is_marker_write() && r.status == Some(204))
            .map(|r| r.lines)
            .sum()
    }
}

#[test]
fn v2_writes_gzip_with_the_token_to_the_bucket_and_round_trips() {
    let work = Endpointed::new("influx-v2", "v2", AWKWARD, Config::default());
    let (code, stderr, report) = work.apply(&["--anchor", ANCHOR]);
    assert_eq!(code, 0, "{stderr}");
    assert_same(
        &work.stored(),
        &expected(&work.run, "s.scenario", ANCHOR),
        "stored",
    );
    let writes: Vec<_> = work
        .endpoint
        .requests()
        .into_iter()
        .filter(|r| r.is_write())
        .collect();
    assert!(!writes.is_empty());
    for write in &writes {
        assert_eq!(write.path, "/api/v2/write");
        assert_eq!(write.param("org"), Some("outatime"));
        assert_eq!(write.param("bucket"), Some("e2e"));
        // Whole minutes: seconds keep every time exact.
        assert_eq!(write.param("precision"), Some("s"));
        assert_eq!(
            write.header("authorization"),
            Some(format!("Token {}", influx::TOKEN).as_str())
        );
        assert_eq!(write.header("content-encoding"), Some("gzip"));
    }
    assert_eq!(report["outcome"], "written");
    assert!(
        work.endpoint.requests().iter().any(|r| r.path == "/health"),
        "the preflight asks /health"
    );
}

#[test]
fn v3_writes_to_write_lp_and_creates_the_database_with_create() {
    let config = Config {
        databases: Vec::new(),
        v3_create_on_write: false,
        ..Config::default()
    };
    let work = Endpointed::new("influx-v3", "v3", &bulk(3, 30), config);
    let (code, stderr, _) = work.apply(&["--anchor", ANCHOR]);
    assert_eq!(code, 1, "a missing database without --create: {stderr}");
    assert!(
        stderr.contains("outatime::apply::missing_table"),
        "{stderr}"
    );
    assert_eq!(work.endpoint.write_requests(), 0);
    let (code, stderr, _) = work.apply(&["--anchor", ANCHOR, "--create"]);
    assert_eq!(code, 0, "{stderr}");
    assert_same(
        &work.stored(),
        &expected(&work.run, "s.scenario", ANCHOR),
        "stored",
    );
    for write in work.endpoint.requests().iter().filter(|r| r.is_write()) {
        assert_eq!(write.path, "/api/v3/write_lp");
        assert_eq!(write.param("db"), Some("e2e"));
        assert_eq!(write.param("precision"), Some("second"));
        assert_eq!(write.header("content-encoding"), Some("gzip"));
    }
}

#[test]
fn v2_creates_a_missing_bucket_in_the_org_with_create() {
    let config = Config {
        databases: Vec::new(),
        ..Config::default()
    };
    let work = Endpointed::new("influx-v2-create", "v2", &bulk(2, 10), config);
    let (code, stderr, _) = work.apply(&["--anchor", ANCHOR, "--create"]);
    assert_eq!(code, 0, "{stderr}");
    let token = format!("Token {}", influx::TOKEN);
    let buckets = common::http::request(
        &work.endpoint.url(),
        "GET",
        "/api/v2/buckets?org=outatime&name=e2e",
        &[("Authorization", token.as_str())],
        b"",
    )
    .unwrap()
    .json();
    assert_eq!(buckets["buckets"][0]["orgID"], influx::ORG_ID, "{buckets}");
    assert_same(
        &work.stored(),
        &expected(&work.run, "s.scenario", ANCHOR),
        "stored",
    );
}

#[test]
fn throttling_and_unavailability_are_retried_and_the_wait_honoured() {
    let config = Config {
        faults: Faults {
            throttle_every: Some((2, 1)),
            unavailable_every: Some(3),
            ..Faults::default()
        },
        ..Config::default()
    };
    // 40 series × 300 minutes: 12,000 records, three batches and more.
    let work = Endpointed::new("influx-faults", "v2", &bulk(40, 300), config);
    work.premark(&["bulk"]);
    let started = std::time::Instant::now();
    let (code, stderr, report) = work.apply(&["--anchor", ANCHOR, "--concurrency", "1"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(report["retried"].as_u64().unwrap() >= 2, "{report}");
    assert!(report["concurrency"]["throttled"].as_u64().unwrap() >= 1);
    // Retry-After: 1 was honoured at least once.
    assert!(started.elapsed() >= Duration::from_secs(1));
    let faults: Vec<_> = work
        .endpoint
        .requests()
        .iter()
        .filter_map(|r| r.fault)
        .collect();
    assert!(faults.contains(&influx::Fault::Throttled), "{faults:?}");
    assert!(faults.contains(&influx::Fault::Unavailable), "{faults:?}");
    let want = expected(&work.run, "s.scenario", ANCHOR);
    assert_same(&work.stored(), &want, "stored");
    // Everything once: the faulted requests stored nothing.
    assert_eq!(work.lines_written(), 40 * 300);
}

#[test]
fn a_413_splits_the_batch_and_everything_arrives_once() {
    let config = Config {
        faults: Faults {
            max_body_bytes: Some(60_000),
            ..Faults::default()
        },
        ..Config::default()
    };
    let work = Endpointed::new("influx-413", "v2", &bulk(10, 200), config);
    let (code, stderr, report) = work.apply(&["--anchor", ANCHOR]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        work.endpoint
            .requests()
            .iter()
            .any(|r| r.fault == Some(influx::Fault::TooLarge))
    );
    assert_same(
        &work.stored(),
        &expected(&work.run, "s.scenario", ANCHOR),
        "stored",
    );
    assert_eq!(work.lines_written(), 10 * 200);
    assert_eq!(report["records"], 10 * 200);
}

#[test]
fn a_refused_line_names_its_record_and_step_and_exits_3() {
    for api in ["v2", "v3"] {
        let config = Config {
            faults: Faults {
                reject_line_every: Some((1, 2)),
                ..Faults::default()
            },
            ..Config::default()
        };
        let work = Endpointed::new(&format!("influx-reject-{api}"), api, AWKWARD, config);
        work.premark(&["odd_points", "single"]);
        // One request at a time: the first batch is the first answered.
        let (code, stderr, report) = work.apply(&["--anchor", ANCHOR, "--concurrency", "1"]);
        assert_eq!(code, 3, "{api}: {stderr}");
        assert!(stderr.contains("outatime::target::rejected"), "{stderr}");
        // The second line of the first batch: `odd_points` at its first
        // minute, the second series (sorted by dimensions).
        let named = "`odd_points` 2026-11-28T19:50:00.000Z {label=\"x\", path=\"y\", site=\"plain\"} (line 4 `generate into odd`)";
        assert!(stderr.contains(named), "{api}: {stderr}");
        let first = &report["rejections"][0];
        assert_eq!(first["table"], "odd_points");
        assert_eq!(first["time"], "2026-11-28T19:50:00.000Z");
        assert_eq!(first["step"], "line 4 `generate into odd`");
        assert_eq!(report["outcome"], "rejected", "{report}");
    }
}

#[test]
fn a_dry_run_writes_nothing() {
    let work = Endpointed::new("influx-dry", "v2", &bulk(3, 30), Config::default());
    let output = work
        .command(&["--anchor", ANCHOR, "--dry-run"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert!(
        stdout.contains("would write         90 records to `e2e.bulk` in 1 batches"),
        "{stdout}"
    );
    assert_eq!(work.lines_sent(), 0, "a dry run sends no record");
    assert!(work.endpoint.points("e2e").is_empty());
}

#[test]
fn three_shards_together_write_every_record_once() {
    let work = Endpointed::new("influx-shards", "v3", &bulk(30, 20), Config::default());
    let mut total = 0;
    for shard in ["1/3", "2/3", "3/3"] {
        let (code, stderr, report) = work.apply(&["--anchor", ANCHOR, "--shard", shard]);
        assert_eq!(code, 0, "{stderr}");
        let records = report["records"].as_u64().unwrap();
        assert!(records > 0, "shard {shard} wrote nothing");
        total += records;
    }
    assert_eq!(total, 30 * 20);
    assert_eq!(work.lines_written(), 30 * 20);
    assert_same(
        &work.stored(),
        &expected(&work.run, "s.scenario", ANCHOR),
        "stored",
    );
}

#[test]
fn sigterm_stops_and_resume_writes_the_rest_once() {
    let config = Config {
        faults: Faults {
            latency: Duration::from_millis(50),
            ..Faults::default()
        },
        ..Config::default()
    };
    // 100 series × 400 minutes: 40,000 records, 9 batches, one at a time.
    let work = Endpointed::new("influx-term", "v2", &bulk(100, 400), config);
    work.premark(&["bulk"]);
    let child = work
        .command(&["--anchor", ANCHOR, "--concurrency", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    work.endpoint.wait_for_writes(2);
    work.endpoint.set_faults(Faults {
        latency: Duration::from_secs(1),
        ..Faults::default()
    });
    let sent = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(143), "{stderr}");
    let stopped = work.report();
    assert_eq!(stopped["outcome"], "interrupted by SIGTERM");
    let written = stopped["records"].as_u64().unwrap();
    assert!((5_000..40_000).contains(&written), "{written}");
    assert_eq!(work.lines_written() as u64, written);

    work.endpoint.set_faults(Faults::default());
    let (code, stderr, resumed) = work.apply(&["--resume"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(resumed["resumed_records"].as_u64().unwrap(), written);
    assert_eq!(resumed["records"].as_u64().unwrap(), 40_000 - written);
    // A graceful stop journals what it sent: nothing is sent twice.
    assert_eq!(work.lines_written(), 40_000);
    assert_same(
        &work.stored(),
        &expected(&work.run, "s.scenario", ANCHOR),
        "stored",
    );
}

#[test]
fn a_bucket_with_a_short_retention_refuses_old_records_before_any_write() {
    let config = Config {
        databases: vec![Database::new("e2e").retention(Duration::from_secs(3_600))],
        ..Config::default()
    };
    let scenario = "scenario \"old\"\ntable old\ngenerate into old {\n  series device = \"d1\"\n  from now - 2h to now every 10m\n  measure v double = constant(value: 1.5)\n}\n";
    let work = Endpointed::new("influx-v2-retention", "v2", scenario, config);
    let (code, stderr, _) = work.apply(&[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("table `e2e.old`: the bucket `e2e` keeps points for 1h"),
        "{stderr}"
    );
    assert!(
        stderr.contains("influx bucket update --retention"),
        "{stderr}"
    );
    assert_eq!(work.lines_sent(), 0, "nothing was written");
}

#[test]
fn a_token_that_may_not_write_is_refused_before_any_record_is_sent() {
    let config = Config {
        token_can_write: false,
        ..Config::default()
    };
    let work = Endpointed::new("influx-v2-no-write", "v2", &bulk(3, 30), config);
    let (code, stderr, _) = work.apply(&["--anchor", ANCHOR]);
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("outatime::target::influxdb"), "{stderr}");
    assert!(
        stderr.contains("the token may not write to the bucket `e2e`"),
        "{stderr}"
    );
    assert_eq!(work.lines_sent(), 0, "no record was sent");
    // The probe was one empty write, and it was the only one.
    assert_eq!(work.endpoint.write_requests(), 1);
}
