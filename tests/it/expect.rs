//! `expect` blocks evaluated for real: `outatime test` against the influxd
//! 1.x the test command starts, with a small system under test written
//! here (a thread that watches the written measurement and writes an
//! `alerts` point when the cargo gets too warm); `expect alert` through
//! Debian's `prometheus-alertmanager` and its real webhook; `sql` through
//! the strict Timestream endpoint's Query API, paginated; and `check
//! --target` refusing a dialect the target cannot run.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::common::http::{escape, request};
use crate::common::{Run, influxdb_url, skip_unless_required};
use crate::fakes::strict::StrictEndpoint;

/// Two trucks for two hours up to `now`; truck-12's cargo drifts from 4
/// degrees to above 10 during `door_warmup`. EXPECTATIONS follow.
const SCENARIO: &str = r#"scenario "cold chain under test"
seed 7

table telemetry { name "e2e_cold_chain" }

generate into telemetry {
  series truck = "truck-11"
  series truck = "truck-12"
  from now - 2h to now every 1m
  measure cargo_temp_c double = sine(period: 24h, amplitude: 0.5, mean: 4) + noise(sigma: 0.1)
}

anomaly drift as door_warmup on telemetry.cargo_temp_c {
  where truck == "truck-12"
  at now - 1h for 25m
  rate 0.3 per 1m
}
"#;

/// What the system under test must do, in the three timings.
const EXPECTATIONS: &str = r#"
expect "cargo too warm alert for truck-12" {
  query influxql "SELECT count(value) FROM alerts WHERE truck = 'truck-12' AND time >= $from AND time < $to"
  window now - 1h .. now + 30m
  value >= 1
  within 8s every 250ms
}

expect "no alert for truck-11" {
  query influxql "SELECT count(value) FROM alerts WHERE truck = 'truck-11' AND time >= $from AND time < $to"
  window now - 1h .. now + 30m
  rows >= 1
  within 3s every 250ms
  never
}

expect "the drift reached the database" {
  query influxql "SELECT max(cargo_temp_c) FROM e2e_cold_chain WHERE truck = 'truck-12' AND time >= $from AND time < $to"
  window anomaly door_warmup
  value between 10 and 13
}
"#;

/// The system under test: every 100 ms it reads the hottest cargo of each
/// truck in the last 13 hours and, `delay` after it first sees one above
/// 8 degrees, writes one `alerts` point for that truck and, given an
/// Alertmanager, posts it a `CargoTooWarm` alert; `everyone` alerts for
/// every truck (a system that misfires).
struct SystemUnderTest {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SystemUnderTest {
    fn start(url: &str, database: &str, delay: Duration, everyone: bool) -> SystemUnderTest {
        SystemUnderTest::paging(url, database, delay, everyone, None)
    }

    fn paging(
        url: &str,
        database: &str,
        delay: Duration,
        everyone: bool,
        alertmanager: Option<String>,
    ) -> SystemUnderTest {
        let stop = Arc::new(AtomicBool::new(false));
        let (url, database, stopped) = (url.to_string(), database.to_string(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut seen: std::collections::BTreeMap<String, Instant> = Default::default();
            let mut alerted = std::collections::BTreeSet::new();
            while !stopped.load(Ordering::Relaxed) {
                let answer = influx(
                    &url,
                    &database,
                    "SELECT max(cargo_temp_c) FROM e2e_cold_chain WHERE time > now() - 13h GROUP BY truck",
                );
                for series in answer["results"][0]["series"]
                    .as_array()
                    .into_iter()
                    .flatten()
                {
                    let truck = series["tags"]["truck"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string();
                    let max = series["values"][0][1].as_f64().unwrap_or_default();
                    if max > 8.0 || everyone {
                        seen.entry(truck).or_insert_with(Instant::now);
                    }
                }
                for (truck, since) in &seen {
                    if since.elapsed() >= delay && alerted.insert(truck.clone()) {
                        let line = format!("alerts,truck={truck} value=1");
                        let target = format!("/write?db={}", escape(&database));
                        request(&url, "POST", &target, &[], line.as_bytes()).unwrap();
                        if let Some(am) = &alertmanager {
                            let labels = serde_json::json!({"alertname": "CargoTooWarm", "truck": truck, "severity": "page"});
                            post_alert(am, &labels, None);
                        }
                    }
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        SystemUnderTest {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for SystemUnderTest {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn influx(url: &str, database: &str, influxql: &str) -> serde_json::Value {
    let target = format!("/query?db={}&q={}", escape(database), escape(influxql));
    request(url, "POST", &target, &[], b"").unwrap().json()
}

/// A scratch folder with the scenario and an `outatime.yaml` whose target
/// `influx` is a database of this test's own on the test influxd.
fn influx_run(name: &str, url: &str, scenario: &str) -> (Run, String) {
    let database = format!("expect_{name}_{}", std::process::id());
    influx(url, &database, &format!("DROP DATABASE \"{database}\""));
    let config = format!(
        "targets:\n  influx:\n    kind: influxdb\n    api: v1\n    url: {url}\n    database: {database}\n"
    );
    let run = Run::new(name)
        .file("outatime.yaml", config)
        .file("t.scenario", scenario);
    (run, database)
}

/// The variable that holds the in-test InfluxDB endpoint's token.
const TOKEN_ENV: &str = "OUTATIME_TEST_INFLUX_TOKEN";

/// A scratch folder holding `scenario` as `t.scenario`, with an
/// `outatime.yaml` whose target `influx` is the in-test `endpoint` through
/// its `api` (v2 or v3).
fn endpoint_run(
    name: &str,
    endpoint: &crate::fakes::influx::InfluxEndpoint,
    api: &str,
    scenario: &str,
) -> Run {
    Run::new(name)
        .file("t.scenario", scenario)
        .file("outatime.yaml", endpoint.outatime_yaml(api, TOKEN_ENV))
}

/// `outatime ARGS` in `run`'s folder, with the endpoint's token.
fn with_token(run: &Run, args: &[&str]) -> (i32, String, String) {
    run.again(args)
        .run_with(&[(TOKEN_ENV, crate::fakes::influx::TOKEN)])
}

fn junit(run: &Run) -> (usize, usize, Vec<(String, Option<String>)>) {
    let text = std::fs::read_to_string(run.dir.join("j.xml")).unwrap();
    let doc = roxmltree::Document::parse(&text).expect("the JUnit file is XML");
    let suite = doc
        .descendants()
        .find(|n| n.has_tag_name("testsuite"))
        .expect("a testsuite");
    let count = |name: &str| suite.attribute(name).unwrap().parse::<usize>().unwrap();
    let cases = suite
        .children()
        .filter(|n| n.has_tag_name("testcase"))
        .map(|case| {
            let failure = case
                .children()
                .find(|n| n.has_tag_name("failure") || n.has_tag_name("error"))
                .map(|f| {
                    format!(
                        "{}\n{}",
                        f.attribute("message").unwrap(),
                        f.text().unwrap_or_default()
                    )
                });
            (case.attribute("name").unwrap().to_string(), failure)
        })
        .collect();
    (count("tests"), count("failures"), cases)
}

fn report(run: &Run) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(run.dir.join("r.json")).unwrap()).unwrap()
}

fn outcome<'a>(report: &'a serde_json::Value, title: &str) -> &'a serde_json::Value {
    report["expectations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["title"] == title)
        .unwrap_or_else(|| panic!("no outcome for {title}: {report:#}"))
}

const TEST_ARGS: [&str; 9] = [
    "test",
    "t.scenario",
    "--target",
    "influx",
    "--create",
    "--junit",
    "j.xml",
    "--report",
    "r.json",
];

#[test]
fn expectations_pass_when_the_system_under_test_reacts_and_within_measures_its_latency() {
    let Some(url) = influxdb_url() else { return };
    let (run, database) = influx_run("expect_pass", &url, &format!("{SCENARIO}{EXPECTATIONS}"));
    let _sut = SystemUnderTest::start(&url, &database, Duration::from_millis(1500), false);
    let (code, out, err) = run.again(&TEST_ARGS).run();
    assert_eq!(code, 0, "{out}{err}");
    for title in [
        "cargo too warm alert for truck-12",
        "no alert for truck-11",
        "the drift reached the database",
    ] {
        assert!(out.contains(&format!("pass  {title}")), "{out}");
    }
    assert!(
        out.contains("ok: 3 passed, 0 failed of 3 expectation(s)"),
        "{out}"
    );
    let report = report(&run);
    // The system waited 1.5 s after it first saw the warm cargo: the
    // alert cannot have been found sooner, and the deadline is 8 s.
    let alert = outcome(&report, "cargo too warm alert for truck-12");
    let seconds = alert["seconds"].as_f64().unwrap();
    assert!((1.4..8.0).contains(&seconds), "{alert}");
    assert!(alert["attempts"].as_u64().unwrap() > 1, "{alert}");
    assert_eq!(alert["observed"], "1");
    // `never` passes at its deadline, not before.
    let quiet = outcome(&report, "no alert for truck-11");
    assert!(quiet["seconds"].as_f64().unwrap() >= 2.9, "{quiet}");
    let drift = outcome(&report, "the drift reached the database");
    let max: f64 = drift["observed"].as_str().unwrap().parse().unwrap();
    assert!((10.0..=13.0).contains(&max), "{drift}");
    assert_eq!(report["apply"]["records"], 240);
    let (tests, failures, cases) = junit(&run);
    assert_eq!((tests, failures), (3, 0));
    assert!(
        cases.iter().all(|(_, failure)| failure.is_none()),
        "{cases:?}"
    );

    // `outatime expect` evaluates again at the anchor the apply used, as a
    // job after sharded applies would.
    let anchor = report["anchor"].as_str().unwrap().to_string();
    let (code, out, err) = run
        .again(&[
            "expect",
            "t.scenario",
            "--target",
            "influx",
            "--anchor",
            &anchor,
        ])
        .run();
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("ok: 3 passed"), "{out}");
    // And from the committed plan, which carries the expectations.
    let (code, _, err) = run
        .again(&["plan", "t.scenario", "-o", "t.plan.yaml"])
        .run();
    assert_eq!(code, 0, "{err}");
    let plan = std::fs::read_to_string(run.dir.join("t.plan.yaml")).unwrap();
    assert!(
        plan.contains("expectations:\n- expect: cargo too warm alert for truck-12"),
        "{plan}"
    );
    let (code, out, err) = run
        .again(&[
            "expect",
            "t.plan.yaml",
            "--target",
            "influx",
            "--anchor",
            &anchor,
        ])
        .run();
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("ok: 3 passed"), "{out}");
}

#[test]
fn without_the_system_under_test_each_expectation_fails_by_name_with_its_query_window_and_value() {
    let Some(url) = influxdb_url() else { return };
    let broken = r#"
expect "a query with a typo" {
  query influxql "SELEC count(value) FROM alerts"
  value >= 1
}

expect "a text is not a number" {
  query influxql "SELECT last(text) FROM notes"
  value >= 1
}
"#;
    let (run, database) = influx_run(
        "expect_fail",
        &url,
        &format!("{SCENARIO}{EXPECTATIONS}{broken}"),
    );
    // A note the system keeps as text: its last one has no number.
    influx(&url, &database, &format!("CREATE DATABASE \"{database}\""));
    let target = format!("/write?db={}", escape(&database));
    request(
        &url,
        "POST",
        &target,
        &[],
        b"notes,truck=truck-12 text=\"warm\"",
    )
    .unwrap();
    let (code, out, err) = run.again(&TEST_ARGS).run();
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("error: 2 passed, 3 failed of 5 expectation(s)"),
        "{err}"
    );
    assert!(
        out.contains(
            "FAIL  cargo too warm alert for truck-12 (line 19): no rows, expected a value >= 1"
        ),
        "{out}"
    );
    assert!(out.contains("pass  no alert for truck-11"), "{out}");
    assert!(out.contains("FAIL  a query with a typo"), "{out}");
    assert!(
        out.contains("the target refused the query: error parsing query"),
        "{out}"
    );
    assert!(out.contains("FAIL  a text is not a number"), "{out}");
    assert!(
        out.contains("the first row has no number (columns: time, last)"),
        "{out}"
    );
    let (tests, failures, cases) = junit(&run);
    assert_eq!((tests, failures), (5, 3));
    let alert = cases
        .iter()
        .find(|(name, _)| name == "cargo too warm alert for truck-12")
        .and_then(|(_, failure)| failure.clone())
        .expect("its failure");
    assert!(
        alert.starts_with("no rows, expected a value >= 1"),
        "{alert}"
    );
    assert!(
        alert.contains(
            "query: SELECT count(value) FROM alerts WHERE truck = 'truck-12' AND time >= '"
        ),
        "{alert}"
    );
    assert!(alert.contains("window: "), "{alert}");
    let report = report(&run);
    let failed = outcome(&report, "cargo too warm alert for truck-12");
    assert_eq!(failed["verdict"], "fail");
    // Asked until the deadline, 8 s after the writes.
    assert!(failed["seconds"].as_f64().unwrap() >= 7.9, "{failed}");
}

#[test]
fn never_catches_an_alert_that_should_not_fire() {
    let Some(url) = influxdb_url() else { return };
    let (run, database) = influx_run("expect_never", &url, &format!("{SCENARIO}{EXPECTATIONS}"));
    let _sut = SystemUnderTest::start(&url, &database, Duration::ZERO, true);
    let (code, out, err) = run.again(&TEST_ARGS).run();
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("pass  cargo too warm alert for truck-12"),
        "{out}"
    );
    assert!(
        out.contains("FAIL  no alert for truck-11 (line 26): became true: rows 1, expected >= 1"),
        "{out}"
    );
}

#[test]
fn under_live_pacing_an_expectation_about_a_fault_to_come_waits_for_it_while_the_apply_goes_on() {
    let Some(url) = influxdb_url() else { return };
    let scenario = r#"scenario "a fault still to come"
table telemetry { name "e2e_live" }

generate into telemetry {
  series truck = "truck-12"
  from now - 10m to now + 16s every 1s
  measure cargo_temp_c double = constant(value: 4)
}

anomaly offset as soon on telemetry.cargo_temp_c {
  at now + 8s for 4s
  delta 10
}

expect "the fault is seen when it comes" {
  query influxql "SELECT max(cargo_temp_c) FROM e2e_live WHERE time >= $from AND time < $to"
  window anomaly soon
  value >= 14
  within 6s every 250ms
}
"#;
    let (run, _) = influx_run("expect_live", &url, scenario);
    let (code, out, err) = run
        .again(&[
            "test",
            "t.scenario",
            "--target",
            "influx",
            "--create",
            "--pace",
            "live",
            "--lead",
            "1s",
            "--report",
            "r.json",
        ])
        .run();
    assert_eq!(code, 0, "{out}{err}");
    // It said why it waited.
    assert!(
        err.contains("the fault is seen when it comes (line 15) waits until"),
        "{err}"
    );
    let report = report(&run);
    let time = |text: &serde_json::Value| {
        chrono::DateTime::parse_from_rfc3339(text.as_str().unwrap())
            .unwrap()
            .timestamp_millis()
    };
    let anchor = time(&report["anchor"]);
    let outcome = outcome(&report, "the fault is seen when it comes");
    let decided = time(&outcome["decided_at"]);
    // Not before the fault's first record was due, and long before the
    // apply wrote its last record (due at now + 15s with a 1s lead).
    assert!(decided >= anchor + 8_000, "{outcome}");
    assert!(decided < anchor + 14_000, "{outcome}");
    assert_eq!(time(&outcome["reference"]), anchor + 8_000, "{outcome}");
}

#[test]
fn labels_carry_an_anomalys_name_and_an_unnamed_ones_are_as_before() {
    let named = format!("{SCENARIO}{EXPECTATIONS}");
    let unnamed = SCENARIO.replace("anomaly drift as door_warmup on", "anomaly drift on");
    let run = Run::new("expect_labels")
        .file("named.scenario", &named)
        .file("unnamed.scenario", &unnamed);
    let labels = |file: &str| {
        let (code, out, err) = run
            .again(&["labels", file, "--anchor", "2026-12-08T10:00:00Z"])
            .run();
        assert_eq!(code, 0, "{err}");
        out
    };
    let (named, unnamed) = (labels("named.scenario"), labels("unnamed.scenario"));
    assert!(named.contains("\"name\": \"door_warmup\""), "{named}");
    assert!(!unnamed.contains("\"name\""), "{unnamed}");
    // The name is the one difference.
    assert_eq!(
        named.replace("    \"name\": \"door_warmup\",\n", ""),
        unnamed
    );
}

#[test]
fn a_target_that_cannot_be_read_is_exit_3_and_a_junit_error_not_a_failure() {
    // Nothing listens on port 9 of 127.0.0.1 (discard, never served).
    let config = "targets:\n  influx:\n    kind: influxdb\n    api: v1\n    url: http://127.0.0.1:9\n    database: e2e\n";
    let scenario = format!(
        "{SCENARIO}\nexpect \"gone\" {{\n  query influxql \"SELECT count(value) FROM alerts\"\n  value >= 1\n  within 1s every 200ms\n}}\n"
    );
    let run = Run::new("expect_unreadable")
        .file("outatime.yaml", config)
        .file("t.scenario", &scenario);
    let (code, out, err) = run
        .again(&[
            "expect",
            "t.scenario",
            "--target",
            "influx",
            "--anchor",
            "2026-12-08T10:00:00Z",
            "--junit",
            "j.xml",
        ])
        .run();
    assert_eq!(code, 3, "{out}{err}");
    assert!(
        out.contains("ERROR gone (line 19): the target could not be read"),
        "{out}"
    );
    assert!(
        err.contains("0 passed, 0 failed, 1 could not read the target"),
        "{err}"
    );
    let xml = std::fs::read_to_string(run.dir.join("j.xml")).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let suite = doc
        .descendants()
        .find(|n| n.has_tag_name("testsuite"))
        .unwrap();
    assert_eq!(suite.attribute("errors"), Some("1"));
    assert_eq!(suite.attribute("failures"), Some("0"));
}

/// InfluxQL through the v1-compatible `/query` of InfluxDB 2 (a bucket,
/// a token) and 3 (a database, a token): the in-test endpoint answers
/// `SELECT * ... GROUP BY *` over what the apply wrote.
fn influxql_through_the_v1_endpoint_of(api: &str) {
    use crate::fakes::influx::{Config, InfluxEndpoint};
    let endpoint = InfluxEndpoint::start(Config::default());
    let expectations = r#"
expect "every record of the last two hours" {
  query influxql "SELECT * FROM e2e_cold_chain WHERE time >= $from AND time < $to GROUP BY *"
  window now - 2h .. now + 1m
  rows == 240
}

expect "the warm-up's records" {
  query influxql "SELECT * FROM e2e_cold_chain WHERE time >= $from AND time < $to GROUP BY *"
  window anomaly door_warmup
  rows == 50
}
"#;
    let run = endpoint_run(
        &format!("expect_{api}"),
        &endpoint,
        api,
        &format!("{SCENARIO}{expectations}"),
    );
    let (code, out, err) = with_token(
        &run,
        &["test", "t.scenario", "--target", "influx", "--create"],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("ok: 2 passed, 0 failed of 2 expectation(s)"),
        "{out}"
    );
    let asked = endpoint
        .requests()
        .into_iter()
        .filter(|r| r.path == "/query")
        .count();
    assert!(asked >= 2, "{asked} queries");
    // A wrong token reads nothing: the target cannot be read, exit 3 (at a
    // past anchor: the windows have begun, nothing waits).
    let (code, out, err) = run
        .again(&[
            "expect",
            "t.scenario",
            "--target",
            "influx",
            "--anchor",
            "2026-12-01T10:00:00Z",
        ])
        .run_with(&[(TOKEN_ENV, "wrong")]);
    assert_eq!(code, 3, "{out}{err}");
    assert!(out.contains("the target could not be read: 401"), "{out}");
}

#[test]
fn influxql_through_influxdb_2s_v1_endpoint() {
    influxql_through_the_v1_endpoint_of("v2");
}

#[test]
fn influxql_through_influxdb_3s_v1_endpoint() {
    influxql_through_the_v1_endpoint_of("v3");
}

#[test]
fn sql_on_influxdb_3_through_query_sql_and_refused_by_influxdb_2() {
    use crate::fakes::influx::{Config, InfluxEndpoint};
    let endpoint = InfluxEndpoint::start(Config::default());
    // The anchor is fixed, so the statement outatime sends is known:
    // the warm-up's window, in nanoseconds DataFusion reads exactly.
    let anchor = 1_796_083_200_000_000_000_i64;
    let (from, to) = (anchor - 3_600_000_000_000, anchor - 2_100_000_000_000);
    let statement = format!(
        "SELECT truck, avg(cargo_temp_c) AS mean FROM e2e_cold_chain WHERE time >= to_timestamp_nanos({from}) AND time < to_timestamp_nanos({to}) GROUP BY truck ORDER BY truck"
    );
    endpoint.register_sql(&statement, "truck,mean\ntruck-12,7.9\n");
    let expectation = r#"
expect "the rollup's mean during the warm-up" {
  query sql "SELECT truck, avg(cargo_temp_c) AS mean FROM e2e_cold_chain WHERE time >= $from AND time < $to GROUP BY truck ORDER BY truck"
  window anomaly door_warmup
  value approx 8 abs 0.5
}
"#;
    let scenario = format!("{SCENARIO}{expectation}");
    let run = endpoint_run("expect_sql_v3", &endpoint, "v3", &scenario);
    let (code, out, err) = with_token(
        &run,
        &[
            "expect",
            "t.scenario",
            "--target",
            "influx",
            "--anchor",
            "2026-12-01T00:00:00Z",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("pass  the rollup's mean during the warm-up (line 19): value 7.9, expected approx 8 abs 0.5"),
        "{out}"
    );
    let sent = endpoint
        .requests()
        .into_iter()
        .find(|r| r.path == "/api/v3/query_sql")
        .expect("a query_sql request");
    assert!(
        sent.query.contains(&("q".to_string(), statement.clone())),
        "{:?}",
        sent.query
    );
    assert!(
        sent.query
            .contains(&("format".to_string(), "csv".to_string()))
    );
    // InfluxDB 2 runs no SQL: refused at the clause, before anything runs.
    let v2 = endpoint_run("expect_sql_v2", &endpoint, "v2", &scenario);
    let (code, out, err) = with_token(&v2, &["check", "t.scenario", "--target", "influx"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("InfluxDB cannot run `sql` queries"), "{err}");
    // `apply` asks no expectation: the scenario writes to InfluxDB 2 all
    // the same.
    let (code, out, err) = with_token(
        &v2,
        &["apply", "t.scenario", "--target", "influx", "--create"],
    );
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn sigint_stops_the_expectations_with_exit_130_and_each_one_says_where_it_stood() {
    use crate::fakes::influx::{self, Config, InfluxEndpoint};
    let endpoint = InfluxEndpoint::start(Config::default());
    let expectation = r#"
expect "more records than there are" {
  query influxql "SELECT * FROM e2e_cold_chain WHERE time >= $from AND time < $to GROUP BY *"
  window now - 2h .. now
  rows >= 100000
  within 10m every 100ms
}
"#;
    let run = endpoint_run(
        "expect_sigint",
        &endpoint,
        "v3",
        &format!("{SCENARIO}{expectation}"),
    );
    // Runs the command, lets it ask a few times, interrupts it.
    let interrupted = |args: &[&str]| {
        let asked = || {
            endpoint
                .requests()
                .iter()
                .filter(|r| r.path == "/query")
                .count()
        };
        let before = asked();
        let child = run
            .again(args)
            .env(TOKEN_ENV, influx::TOKEN)
            .command()
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while asked() < before + 3 {
            assert!(Instant::now() < deadline, "never asked");
            std::thread::sleep(Duration::from_millis(20));
        }
        let sent = std::process::Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let output = child.wait_with_output().unwrap();
        let xml = std::fs::read_to_string(run.dir.join("j.xml")).unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
            xml,
        )
    };
    // `expect`, asking from the start; then `test`, asking once its apply
    // has written (the apply's own signal handling is over by then).
    for (args, rows) in [
        (
            &[
                "expect",
                "t.scenario",
                "--target",
                "influx",
                "--anchor",
                "2026-12-01T00:00:00Z",
                "--junit",
                "j.xml",
            ][..],
            0,
        ),
        (
            &[
                "test",
                "t.scenario",
                "--target",
                "influx",
                "--create",
                "--junit",
                "j.xml",
            ][..],
            240,
        ),
    ] {
        let (code, out, err, xml) = interrupted(args);
        assert_eq!(code, Some(130), "{args:?}: {out}{err}");
        assert!(
            out.contains(&format!(
                "STOP  more records than there are (line 19): stopped before its verdict: rows {rows}, expected >= 100000"
            )),
            "{out}"
        );
        assert!(
            err.contains("stopped by SIGINT: 0 of 1 expectation(s) decided"),
            "{err}"
        );
        assert!(
            xml.contains("<error message=\"stopped before its verdict"),
            "{xml}"
        );
    }
}

#[test]
fn a_failed_apply_asks_nothing_and_clean_still_runs() {
    use crate::fakes::influx::{Config, Faults, InfluxEndpoint};
    let endpoint = InfluxEndpoint::start(Config {
        faults: Faults {
            // The third write, the first of the data, has its first line
            // refused as malformed.
            reject_line_every: Some((3, 1)),
            ..Faults::default()
        },
        ..Config::default()
    });
    let run = endpoint_run(
        "expect_failed_apply",
        &endpoint,
        "v2",
        &format!("{SCENARIO}{EXPECTATIONS}"),
    );
    let (code, out, err) = with_token(
        &run,
        &[
            "test",
            "t.scenario",
            "--target",
            "influx",
            "--create",
            "--clean",
        ],
    );
    assert_eq!(code, 3, "{out}{err}");
    // No verdict on a target that did not take the stream.
    assert!(!out.contains("pass ") && !out.contains("FAIL "), "{out}");
    // The tables it wrote are deleted all the same.
    assert!(out.contains("deleted 1 table(s)"), "{out}{err}");
}

#[test]
fn check_refuses_a_dialect_the_target_cannot_run() {
    let fixture = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/target/expect-dialect_not_for_target.scenario"),
    )
    .unwrap();
    let run = Run::new("expect_dialect")
        .file(
            "outatime.yaml",
            "targets:\n  influx:\n    kind: influxdb\n    api: v1\n    url: http://127.0.0.1:9\n    database: e2e\n  ts:\n    kind: timestream\n    region: us-east-1\n    database: e2e\n",
        )
        .file("d.scenario", &fixture);
    let (code, out, err) = run
        .again(&["check", "d.scenario", "--target", "influx"])
        .run();
    assert_eq!(code, 1, "{out}{err}");
    insta::assert_snapshot!(err);
    // Timestream runs it; without a target, any dialect passes.
    for args in [
        &["check", "d.scenario", "--target", "ts"][..],
        &["check", "d.scenario"][..],
    ] {
        let (code, out, err) = run.again(args).run();
        assert_eq!(code, 0, "{args:?}: {out}{err}");
    }
}

#[test]
fn test_refuses_the_file_target_and_expect_alert_without_a_listener_before_writing() {
    let alert = r#"
expect alert "CargoTooWarm" {
  labels truck == "truck-12"
  firing within 5m of anomaly door_warmup
}
"#;
    let run = Run::new("expect_refusals").file("t.scenario", format!("{SCENARIO}{alert}"));
    let (code, _, err) = run.again(&["test", "t.scenario"]).run();
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("the embedded file target cannot answer them"),
        "{err}"
    );
    let run = run.file(
        "outatime.yaml",
        "targets:\n  influx:\n    kind: influxdb\n    api: v1\n    url: http://127.0.0.1:9\n    database: e2e\n",
    );
    let (code, _, err) = run
        .again(&["test", "t.scenario", "--target", "influx"])
        .run();
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("the scenario expects alerts, and nothing listens for them"),
        "{err}"
    );
    // Nothing was written: not even the journal.
    assert!(!run.dir.join("outatime-out").exists());
}

/// Debian's Alertmanager, on 127.0.0.1, its webhook receiver pointed at
/// `listen`; stopped when dropped.
struct Alertmanager {
    child: std::process::Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Alertmanager {
    fn start(listen: u16) -> Option<Alertmanager> {
        // Debian names it prometheus-alertmanager; upstream, alertmanager.
        let path = std::env::var_os("PATH").unwrap_or_default();
        let binary = ["prometheus-alertmanager", "alertmanager"]
            .into_iter()
            .find_map(|name| {
                std::env::split_paths(&path)
                    .map(|dir| dir.join(name))
                    .find(|candidate| candidate.is_file())
            });
        let Some(binary) = binary else {
            skip_unless_required("Debian's prometheus-alertmanager");
            return None;
        };
        let dir = crate::common::scratch("alertmanager");
        let config = format!(
            "route:\n  receiver: outatime\n  group_by: ['alertname', 'truck']\n  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h\nreceivers:\n  - name: outatime\n    webhook_configs:\n      - url: http://127.0.0.1:{listen}/alerts\n        send_resolved: true\n"
        );
        std::fs::write(dir.path().join("alertmanager.yml"), config).unwrap();
        let port = free_port();
        let child = std::process::Command::new(binary)
            .arg(format!(
                "--config.file={}",
                dir.path().join("alertmanager.yml").display()
            ))
            .arg(format!(
                "--storage.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--cluster.listen-address=")
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("log")).unwrap())
            .spawn()
            .unwrap();
        let am = Alertmanager {
            child,
            url: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if request(&am.url, "GET", "/-/ready", &[], b"").is_ok_and(|a| a.status == 200) {
                return Some(am);
            }
            assert!(
                Instant::now() < deadline,
                "Alertmanager did not become ready"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn fire(&self, labels: serde_json::Value) {
        post_alert(&self.url, &labels, None);
    }

    /// The alert of `labels` resolved now: posted again with its end.
    fn resolve(&self, labels: serde_json::Value) {
        post_alert(&self.url, &labels, Some(chrono::Utc::now()));
    }
}

/// Posts one alert to Alertmanager's API, as Prometheus would: firing,
/// or resolved at `ends`.
fn post_alert(
    alertmanager: &str,
    labels: &serde_json::Value,
    ends: Option<chrono::DateTime<chrono::Utc>>,
) {
    let mut alert = serde_json::json!({
        "labels": labels,
        "annotations": {"summary": "cargo above 8 degrees"},
        "generatorURL": "http://system-under-test/",
    });
    if let Some(ends) = ends {
        alert["endsAt"] = serde_json::Value::String(ends.to_rfc3339());
    }
    let body = serde_json::json!([alert]);
    let answer = request(
        alertmanager,
        "POST",
        "/api/v2/alerts",
        &[("Content-Type", "application/json")],
        body.to_string().as_bytes(),
    )
    .unwrap();
    assert_eq!(answer.status, 200, "{}", answer.text());
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs `outatime test --listen` while `fire` posts alerts to Alertmanager
/// once the listener answers; returns its exit code and output.
fn test_with_alertmanager(
    name: &str,
    url: &str,
    fire: &dyn Fn(&Alertmanager),
) -> Option<(i32, String, String, Run)> {
    let alerts = r#"
expect alert "CargoTooWarm" {
  labels truck == "truck-12", severity == "page"
  firing within 20s of anomaly door_warmup
}

expect alert "CargoTooWarm" {
  labels truck == "truck-11"
  firing within 4s
  never
}

expect alert "CargoTooWarm" {
  labels truck == "truck-12"
  resolved within 20s of anomaly door_warmup
}
"#;
    let listen = free_port();
    let am = Alertmanager::start(listen)?;
    let (run, _) = influx_run(name, url, &format!("{SCENARIO}{alerts}"));
    let listen_arg = format!("127.0.0.1:{listen}");
    let mut args = TEST_ARGS.to_vec();
    args.extend(["--listen", &listen_arg]);
    let child = run
        .again(&args)
        .command()
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", listen)).is_err() {
        assert!(Instant::now() < deadline, "outatime never listened");
        std::thread::sleep(Duration::from_millis(50));
    }
    fire(&am);
    let output = child.wait_with_output().unwrap();
    Some((
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
        run,
    ))
}

#[test]
fn an_alert_through_alertmanagers_webhook_satisfies_expect_alert() {
    let Some(url) = influxdb_url() else { return };
    let fired = |am: &Alertmanager| {
        let labels = serde_json::json!({"alertname": "CargoTooWarm", "truck": "truck-12", "severity": "page"});
        am.fire(labels.clone());
        // The system sees the cargo cool down and resolves it.
        std::thread::sleep(Duration::from_secs(2));
        am.resolve(labels);
    };
    let Some((code, out, err, run)) = test_with_alertmanager("expect_am_pass", &url, &fired) else {
        return;
    };
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("pass  CargoTooWarm resolved {truck == \"truck-12\"}"),
        "{out}"
    );
    assert!(
        out.contains("pass  CargoTooWarm firing {truck == \"truck-12\", severity == \"page\"}"),
        "{out}"
    );
    assert!(
        out.contains("pass  CargoTooWarm never firing {truck == \"truck-11\"}"),
        "{out}"
    );
    let report = report(&run);
    let received = report["received"].as_array().unwrap();
    assert!(!received.is_empty(), "{report:#}");
    assert_eq!(received[0]["sender"], "alertmanager");
    assert_eq!(received[0]["payload"]["version"], "4");
    assert_eq!(
        received[0]["payload"]["alerts"][0]["labels"]["truck"],
        "truck-12"
    );
}

#[test]
fn an_alert_with_other_labels_fails_expect_alert_and_one_for_the_wrong_truck_fails_never() {
    let Some(url) = influxdb_url() else { return };
    let fired = |am: &Alertmanager| {
        // The right alert at the wrong severity, and one for the truck
        // that must stay quiet.
        am.fire(serde_json::json!({"alertname": "CargoTooWarm", "truck": "truck-12", "severity": "ticket"}));
        am.fire(serde_json::json!({"alertname": "CargoTooWarm", "truck": "truck-11", "severity": "page"}));
    };
    let Some((code, out, err, run)) = test_with_alertmanager("expect_am_fail", &url, &fired) else {
        return;
    };
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("FAIL  CargoTooWarm firing {truck == \"truck-12\", severity == \"page\"}"),
        "{out}"
    );
    assert!(
        out.contains("0 matching `CargoTooWarm` firing notifications"),
        "{out}"
    );
    assert!(
        out.contains("FAIL  CargoTooWarm never firing {truck == \"truck-11\"}"),
        "{out}"
    );
    let (tests, failures, _) = junit(&run);
    // Nothing resolved either.
    assert_eq!((tests, failures), (3, 3));
}

/// The gallery's cold-chain-alerts.scenario as written, with its data, in
/// a scratch folder whose `influx` target is a database of its own; and
/// `outatime test` on it, listening for an Alertmanager started here,
/// while the system under test runs when `reacts`.
fn gallery(name: &str, url: &str, reacts: bool) -> Option<(i32, String, String, Run)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let scenario = std::fs::read_to_string(root.join("cold-chain-alerts.scenario")).unwrap();
    let data = std::fs::read(root.join("data/cold-chain-trucks.csv")).unwrap();
    let listen = free_port();
    let am = Alertmanager::start(listen)?;
    let (run, database) = influx_run(name, url, &scenario);
    let run = run.file("data/cold-chain-trucks.csv", data);
    let _sut = reacts.then(|| {
        SystemUnderTest::paging(
            url,
            &database,
            Duration::from_millis(500),
            false,
            Some(am.url.clone()),
        )
    });
    let listen_arg = format!("127.0.0.1:{listen}");
    let mut args = TEST_ARGS.to_vec();
    args.extend(["--listen", &listen_arg, "--clean"]);
    let (code, out, err) = run.again(&args).run();
    Some((code, out, err, run))
}

#[test]
fn the_gallery_scenario_passes_end_to_end_when_the_system_reacts() {
    let Some(url) = influxdb_url() else { return };
    let Some((code, out, err, run)) = gallery("expect_gallery_pass", &url, true) else {
        return;
    };
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("ok: 4 passed, 0 failed of 4 expectation(s)"),
        "{out}"
    );
    let (tests, failures, _) = junit(&run);
    assert_eq!((tests, failures), (4, 0));
    // --clean dropped what outatime wrote, and only that.
    assert!(out.contains("deleted 1 table(s)"), "{out}{err}");
}

#[test]
fn the_gallery_scenario_fails_with_a_clear_junit_failure_when_the_system_does_not_react() {
    let Some(url) = influxdb_url() else { return };
    let Some((code, out, err, run)) = gallery("expect_gallery_fail", &url, false) else {
        return;
    };
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("2 passed, 2 failed of 4 expectation(s)"),
        "{err}"
    );
    let (tests, failures, cases) = junit(&run);
    assert_eq!((tests, failures), (4, 2));
    let failure = |name: &str| {
        cases
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, f)| f.clone())
            .unwrap_or_else(|| panic!("{name} did not fail: {cases:?}"))
    };
    let page = failure("CargoTooWarm firing {truck == \"truck-12\", severity == \"page\"}");
    assert!(
        page.starts_with("0 matching `CargoTooWarm` firing notifications of 0 alerts received, expected count >= 1"),
        "{page}"
    );
    let kept = failure("the alert is kept in the alerts measurement");
    assert!(kept.starts_with("no rows, expected a value >= 1"), "{kept}");
    assert!(
        kept.contains("query: SELECT count(value) FROM alerts WHERE truck = 'truck-12'"),
        "{kept}"
    );
}

#[test]
fn sql_expectations_read_every_page_of_the_query_api() {
    let endpoint = StrictEndpoint::start();
    endpoint.set_query_page_size(2);
    // The anchor is fixed, so the statement outatime sends is known.
    let from = 1_796_083_200_000_000_000_i64 - 3 * 3_600_000_000_000;
    let to = 1_796_083_200_000_000_000_i64;
    let statement = format!(
        "SELECT hour, avg_temp FROM \"e2e\".\"rollup\" WHERE hour >= from_nanoseconds({from}) AND hour < from_nanoseconds({to}) ORDER BY hour"
    );
    let rows = ["3.9", "4.2", "4.4"]
        .iter()
        .enumerate()
        .map(|(i, v)| {
            vec![
                Some(format!("2026-11-30 2{i}:00:00.000000000")),
                Some(v.to_string()),
            ]
        })
        .collect();
    endpoint.register_query(
        &statement,
        &[("hour", "TIMESTAMP"), ("avg_temp", "DOUBLE")],
        rows,
    );
    let scenario = r#"scenario "rollups"
table telemetry
generate into telemetry {
  series device = "d1"
  from now - 3h to now every 1m
  measure temperature double = sine(period: 24h, amplitude: 0.5, mean: 4)
}

expect "three hourly rollups" {
  query sql "SELECT hour, avg_temp FROM \"e2e\".\"rollup\" WHERE hour >= $from AND hour < $to ORDER BY hour"
  window now - 3h .. now
  rows == 3
}

expect "the first hour's average" {
  query sql "SELECT hour, avg_temp FROM \"e2e\".\"rollup\" WHERE hour >= $from AND hour < $to ORDER BY hour"
  window now - 3h .. now
  value approx 4 rel 3%
}

expect "a table the endpoint does not have" {
  query sql "SELECT count(*) FROM \"e2e\".\"nothing\""
  value == 0
}
"#;
    let config = format!(
        "targets:\n  strict:\n    kind: timestream\n    region: us-east-1\n    database: e2e\n    endpoint_url: {}\n",
        endpoint.url()
    );
    let run = Run::new("expect_sql")
        .file("outatime.yaml", config)
        .file("s.scenario", scenario);
    let (code, out, err) = run
        .again(&[
            "expect",
            "s.scenario",
            "--target",
            "strict",
            "--anchor",
            "2026-12-01T00:00:00Z",
            "--junit",
            "j.xml",
        ])
        .run_with(&[
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("pass  three hourly rollups (line 9): rows 3, expected == 3"),
        "{out}"
    );
    assert!(
        out.contains(
            "pass  the first hour's average (line 15): value 3.9, expected approx 4 rel 3%"
        ),
        "{out}"
    );
    assert!(
        out.contains(
            "FAIL  a table the endpoint does not have (line 21): the target refused the query"
        ),
        "{out}"
    );
    // Two pages for each of the two registered questions.
    let asked = endpoint.queries();
    assert_eq!(
        asked.iter().filter(|q| **q == statement).count(),
        4,
        "{asked:#?}"
    );
    let (tests, failures, _) = junit(&run);
    assert_eq!((tests, failures), (3, 1));
}
