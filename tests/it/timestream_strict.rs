//! `apply` to Timestream through the real binary and the real SDK, against
//! the strict in-process endpoint (`tests/it/fakes/strict/`), which enforces the
//! write rules, injects faults and remembers when it first stored each
//! record. What it stored is compared with `outatime records` at the anchor
//! the apply reports. Everything stays on 127.0.0.1.

use std::collections::BTreeMap;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value as Json;

use crate::common::{self, Run, TWO_TABLES};
use crate::fakes::strict::{Faults, Retention, Stored, StoredValue, StrictEndpoint, ValueKind};

const DATABASE: &str = "db";
/// The target's `table_prefix`: scenario table `alpha` is `t_alpha`.
const PREFIX: &str = "t_";
const SECOND_NS: i64 = 1_000_000_000;
const MINUTE_NS: i64 = 60 * SECOND_NS;
/// The WriteRecords limit, which batches fill.
const BATCH: usize = 100;

/// What the binary runs with: credentials the endpoint accepts (it checks
/// the signature's shape, not the secret), and no instance-metadata look-up.
const ENV: [(&str, &str); 3] = [
    ("AWS_ACCESS_KEY_ID", "test"),
    ("AWS_SECRET_ACCESS_KEY", "test"),
    ("AWS_EC2_METADATA_DISABLED", "true"),
];

/// The tables of a day's retention: 24 hours in memory, no magnetic writes.
const DAY: Retention = Retention {
    memory_hours: 24,
    magnetic_days: 30,
    magnetic_writes: false,
};

/// `series` series of `minutes` records each, one a minute up to `now`, in one table.
fn bulk(series: usize, minutes: usize) -> String {
    let series = (0..series).map(|i| format!("device = \"d{i:02}\", fleet = \"f\""));
    common::bulk_scenario(series, minutes, &["v double = noise(sigma: 1)"])
}

/// A measure value the way both sides can be compared: numbers as numbers
/// ("1.50" and 1.5 are the same DOUBLE), the rest as they are.
#[derive(Clone, Debug, PartialEq)]
enum Cell {
    Number(f64),
    Boolean(bool),
    Text(String),
}

impl Cell {
    fn stored(kind: ValueKind, text: &str) -> Cell {
        match kind {
            // Read the way `records`' JSON is read: serde_json's float
            // parsing may differ from `str::parse` in the last bit.
            ValueKind::Double | ValueKind::Bigint | ValueKind::Timestamp => Cell::Number(
                serde_json::from_str(text).unwrap_or_else(|_| panic!("a number: {text}")),
            ),
            ValueKind::Boolean => Cell::Boolean(text == "true"),
            ValueKind::Varchar => Cell::Text(text.to_owned()),
        }
    }

    fn json(value: &Json) -> Cell {
        match value {
            Json::Number(n) => Cell::Number(n.as_f64().unwrap()),
            Json::Bool(b) => Cell::Boolean(*b),
            Json::String(s) => Cell::Text(s.clone()),
            other => panic!("`records` printed a measure value {other}"),
        }
    }
}

/// One line of `outatime records`: a table (its scenario name), a series,
/// a time and every measure, whatever the layout.
#[derive(Clone, Debug, PartialEq)]
struct Row {
    table: String,
    dimensions: Dimensions,
    time_ns: i64,
    measures: Measures,
}

type Dimensions = BTreeMap<String, String>;
type Measures = BTreeMap<String, Cell>;

fn sort_rows(rows: &mut [Row]) {
    rows.sort_by(|a, b| {
        (&a.table, &a.dimensions, a.time_ns).cmp(&(&b.table, &b.dimensions, b.time_ns))
    });
}

/// A stored record and the scenario table it is in.
#[derive(Debug)]
struct InTable {
    table: String,
    record: Stored,
}

/// Stored records regrouped as `records` prints them: a multi-measure
/// record is one row, single-measure records of one series and time are one.
fn rows_of(stored: &[InTable]) -> Vec<Row> {
    let mut rows: BTreeMap<(String, Dimensions, i64), Measures> = BTreeMap::new();
    for InTable { table, record } in stored {
        let measures = rows
            .entry((table.clone(), record.dimensions.clone(), record.time_ns))
            .or_default();
        match &record.value {
            StoredValue::Single(kind, text) => {
                measures.insert(record.measure_name.clone(), Cell::stored(*kind, text));
            }
            StoredValue::Multi(values) => {
                for (name, (kind, text)) in values {
                    measures.insert(name.clone(), Cell::stored(*kind, text));
                }
            }
        }
    }
    let mut rows: Vec<Row> = rows
        .into_iter()
        .map(|((table, dimensions, time_ns), measures)| Row {
            table,
            dimensions,
            time_ns,
            measures,
        })
        .collect();
    sort_rows(&mut rows);
    rows
}

/// Asserts the rows are equal; on failure, says how they differ rather
/// than printing thousands of rows.
#[track_caller]
fn assert_rows(got: &[Row], expected: &[Row]) {
    if got == expected {
        return;
    }
    type Keyed<'r> = BTreeMap<(&'r str, &'r Dimensions, i64), &'r Measures>;
    fn by_key(rows: &[Row]) -> Keyed<'_> {
        rows.iter()
            .map(|r| ((r.table.as_str(), &r.dimensions, r.time_ns), &r.measures))
            .collect()
    }
    let (got_keys, expected_keys) = (by_key(got), by_key(expected));
    let missing = expected_keys.keys().find(|k| !got_keys.contains_key(*k));
    let unexpected = got_keys.keys().find(|k| !expected_keys.contains_key(*k));
    let different = expected_keys
        .iter()
        .find(|(k, m)| got_keys.get(*k).is_some_and(|g| g != *m))
        .map(|(k, m)| (k, m, got_keys[k]));
    panic!(
        "{} rows stored, {} expected; first missing: {missing:?}; first unexpected: \
         {unexpected:?}; first with other values (expected, stored): {different:?}",
        got.len(),
        expected.len(),
    );
}

fn time_ns(text: &str) -> i64 {
    outatime::parse_timestamp(text).unwrap().0
}

/// RFC 3339 with milliseconds, as outatime writes times.
fn time_text(nanos: i64) -> String {
    chrono::DateTime::from_timestamp_nanos(nanos)
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// The 1-based line of the first line of `text` that starts with `start`.
fn line_of(text: &str, start: &str) -> usize {
    1 + text
        .lines()
        .position(|l| l.starts_with(start))
        .unwrap_or_else(|| panic!("no line starts with {start:?}"))
}

/// What one `apply` did.
struct Applied {
    code: i32,
    stdout: String,
    stderr: String,
    /// `--report`, when one was written.
    report: Json,
    /// The wall time the process took.
    took: Duration,
}

impl Applied {
    fn anchor(&self) -> &str {
        self.report["anchor"]
            .as_str()
            .unwrap_or_else(|| panic!("no report:\n{}", self.stderr))
    }

    fn version(&self) -> i64 {
        self.report["version"].as_i64().unwrap()
    }

    fn number(&self, key: &str) -> u64 {
        self.report[key].as_u64().unwrap()
    }
}

/// A strict endpoint, and a scratch folder holding `s.scenario` and an
/// `outatime.yaml` whose target `strict` is that endpoint: database `db`,
/// tables `t_<name>`, created with `retention` by `--create`.
struct Workspace {
    endpoint: StrictEndpoint,
    name: String,
    run: Run,
}

impl Workspace {
    fn new(name: &str, scenario: &str, retention: Retention) -> Workspace {
        let endpoint = StrictEndpoint::start();
        let config = format!(
            "targets:\n  strict:\n    kind: timestream\n    region: us-east-1\n    database: {DATABASE}\n    endpoint_url: {}\n    table_prefix: \"{PREFIX}\"\n    retention: {{ memory_store_hours: {}, magnetic_store_days: {}, magnetic_writes: {} }}\n",
            endpoint.url(),
            retention.memory_hours,
            retention.magnetic_days,
            retention.magnetic_writes
        );
        let run = Run::new(name)
            .file("s.scenario", scenario)
            .file("outatime.yaml", config);
        Workspace {
            endpoint,
            name: name.to_owned(),
            run,
        }
    }

    fn scenario(&self) -> String {
        std::fs::read_to_string(self.run.dir.join("s.scenario")).unwrap()
    }

    fn set_scenario(&self, text: &str) {
        std::fs::write(self.run.dir.join("s.scenario"), text).unwrap();
    }

    /// The scenario's tables, by the names it gives them.
    fn tables(&self) -> Vec<String> {
        self.scenario()
            .lines()
            .filter_map(|l| l.strip_prefix("table "))
            .map(|rest| rest.split_whitespace().next().unwrap().to_owned())
            .collect()
    }

    fn command(&self, args: &[&str]) -> Command {
        let _ = std::fs::remove_file(self.run.dir.join("report.json"));
        self.run
            .again(&[
                "apply",
                "s.scenario",
                "--target",
                "strict",
                "--report",
                "report.json",
            ])
            .args(args)
            .envs(ENV)
            .command()
    }

    /// `outatime apply s.scenario --target strict --report report.json ARGS`.
    fn apply(&self, args: &[&str]) -> Applied {
        let started = Instant::now();
        let output = self.command(args).output().unwrap();
        self.applied(output, started.elapsed())
    }

    /// The same apply, not waited for.
    fn spawn(&self, args: &[&str]) -> Child {
        self.command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    fn applied(&self, output: Output, took: Duration) -> Applied {
        let report = std::fs::read(self.run.dir.join("report.json"))
            .map(|bytes| serde_json::from_slice(&bytes).unwrap())
            .unwrap_or(Json::Null);
        Applied {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            report,
            took,
        }
    }

    /// `outatime records` of the current scenario at `anchor`.
    fn expected(&self, anchor: &str) -> Vec<Row> {
        let (code, stdout, stderr) = Run::new(&format!("{}-records", self.name))
            .file("s.scenario", self.scenario())
            .args(&["records", "s.scenario", "--anchor", anchor])
            .run();
        assert_eq!(code, 0, "{stderr}");
        let mut rows: Vec<Row> = stdout
            .lines()
            .map(|line| {
                let v: Json = serde_json::from_str(line).unwrap();
                Row {
                    table: v["table"].as_str().unwrap().to_owned(),
                    dimensions: v["dimensions"]
                        .as_object()
                        .unwrap()
                        .iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                        .collect(),
                    time_ns: time_ns(v["time"].as_str().unwrap()),
                    measures: v["measures"]
                        .as_object()
                        .unwrap()
                        .iter()
                        .map(|(k, v)| (k.clone(), Cell::json(v)))
                        .collect(),
                }
            })
            .collect();
        sort_rows(&mut rows);
        rows
    }

    /// Every record of the scenario's tables, as the endpoint holds them.
    fn stored(&self) -> Vec<InTable> {
        self.tables()
            .into_iter()
            .flat_map(|table| {
                self.endpoint
                    .stored(DATABASE, &format!("{PREFIX}{table}"))
                    .into_iter()
                    .map(move |record| InTable {
                        table: table.clone(),
                        record,
                    })
            })
            .collect()
    }

    /// The scenario's tables, as an earlier `apply --create` left them:
    /// tagged as outatime's, which an apply writes into.
    fn create_tables(&self, retention: Retention) {
        for table in self.tables() {
            self.endpoint.create_tagged_table(
                DATABASE,
                &format!("{PREFIX}{table}"),
                retention,
                &[("managed-by", "outatime")],
            );
        }
    }

    /// Waits until the endpoint has accepted at least `records` records.
    fn wait_for_ingested(&self, records: u64, child: &mut Child) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.endpoint.stats().records_ingested < records {
            assert!(
                child.try_wait().unwrap().is_none(),
                "the apply ended before {records} records were written"
            );
            assert!(Instant::now() < deadline, "no progress within a minute");
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

/// Writes one record into `table` with the given Version, as another
/// writer would.
fn write_directly(
    endpoint: &StrictEndpoint,
    table: &str,
    dimensions: &[(&str, &str)],
    time_ns: i64,
    version: i64,
) {
    endpoint.write_directly(DATABASE, table, dimensions, time_ns, version);
}

/// The current wall clock rounded down to the minute, as `--anchor` takes it.
fn this_minute() -> (String, i64) {
    let now = chrono::Utc::now().timestamp_nanos_opt().unwrap();
    let minute = now - now.rem_euclid(MINUTE_NS);
    (time_text(minute), minute)
}

#[test]
fn a_burst_apply_stores_exactly_what_records_prints_in_both_layouts_once_each() {
    let work = Workspace::new("strict-burst", TWO_TABLES, DAY);
    let applied = work.apply(&["--create"]);
    assert_eq!(applied.code, 0, "{}", applied.stderr);
    let expected = work.expected(applied.anchor());
    assert_eq!(expected.len(), 3 * 95 + 2 * 90);
    let stored = work.stored();
    assert_rows(&rows_of(&stored), &expected);
    // alpha: one multi-measure record a row; bravo: one record a measure.
    let alpha: Vec<&Stored> = stored
        .iter()
        .filter(|s| s.table == "alpha")
        .map(|s| &s.record)
        .collect();
    assert_eq!(alpha.len(), 3 * 95);
    assert!(alpha.iter().all(|r| r.measure_name == "metrics"));
    let kinds: BTreeMap<&str, ValueKind> = stored
        .iter()
        .flat_map(|s| match &s.record.value {
            StoredValue::Single(kind, _) => vec![(s.record.measure_name.as_str(), *kind)],
            StoredValue::Multi(values) => values
                .iter()
                .map(|(name, (kind, _))| (name.as_str(), *kind))
                .collect(),
        })
        .collect();
    assert_eq!(
        kinds,
        BTreeMap::from([
            ("on", ValueKind::Boolean),
            ("v", ValueKind::Double),
            ("w", ValueKind::Bigint),
            ("z", ValueKind::Varchar),
        ])
    );
    assert_eq!(stored.len(), 3 * 95 + 2 * 2 * 90);
    let version = applied.version();
    for s in &stored {
        assert_eq!((s.record.writes, s.record.version), (1, version), "{s:?}");
    }
    assert_eq!(applied.number("records"), stored.len() as u64);
    assert_eq!(applied.number("rejected"), 0);
    assert_eq!(
        applied.report["tables"]["t_bravo"]["records"].as_u64(),
        Some(2 * 2 * 90)
    );
    assert_eq!(work.endpoint.stats().records_rejected, 0);
}

#[test]
fn applying_the_same_scenario_twice_at_the_same_anchor_changes_no_value() {
    let work = Workspace::new("strict-twice", TWO_TABLES, DAY);
    let first = work.apply(&["--create"]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let anchor = first.anchor().to_owned();
    let second = work.apply(&["--anchor", &anchor]);
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert_eq!(second.anchor(), anchor);
    assert_eq!(second.number("rejected"), 0);
    assert_eq!(second.number("records"), first.number("records"));
    assert!(second.version() > first.version());
    let stored = work.stored();
    assert_rows(&rows_of(&stored), &work.expected(&anchor));
    // The same value under a higher Version: accepted, the Version raised.
    for s in &stored {
        assert_eq!(
            (s.record.writes, s.record.version),
            (2, second.version()),
            "{s:?}"
        );
    }
    assert_eq!(work.endpoint.stats().records_rejected, 0);
}

fn constants(w: i64, x: &str) -> String {
    format!(
        "scenario \"constants\"\ntable alpha\ntable bravo {{ layout single }}\ngenerate into alpha {{\n  series device = \"a1\", site = \"lab\"\n  series device = \"a2\", site = \"dock\"\n  from now - 30m to now every 1m\n  measure x double = constant(value: {x})\n}}\ngenerate into bravo {{\n  series device = \"b1\"\n  from now - 30m to now every 1m\n  measure w bigint = constant(value: {w})\n  measure x double = constant(value: {x})\n}}\n"
    )
}

#[test]
fn an_edited_scenario_applied_at_the_same_anchor_replaces_the_values_under_its_version() {
    let work = Workspace::new("strict-upsert", &constants(3, "1.5"), DAY);
    let first = work.apply(&["--create"]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let anchor = first.anchor().to_owned();
    let before = work.expected(&anchor);
    assert_rows(&rows_of(&work.stored()), &before);
    work.set_scenario(&constants(7, "-2.25"));
    let second = work.apply(&["--anchor", &anchor]);
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert_eq!(second.number("rejected"), 0);
    let after = work.expected(&anchor);
    assert_eq!(after.len(), before.len());
    assert!(
        after
            .iter()
            .zip(&before)
            .all(|(a, b)| a.measures != b.measures),
        "the edit changes every value"
    );
    let stored = work.stored();
    assert_rows(&rows_of(&stored), &after);
    assert!(second.version() > first.version());
    for s in &stored {
        assert_eq!(
            (s.record.writes, s.record.version),
            (2, second.version()),
            "{s:?}"
        );
    }
}

/// Higher than any apply's Version (a time in ms).
const HUGE_VERSION: i64 = 1 << 60;

#[test]
fn a_failed_apply_whose_report_cannot_be_written_says_both_and_exits_as_the_apply() {
    let work = Workspace::new("strict-reject-unreported", TWO_TABLES, DAY);
    work.create_tables(DAY);
    let (anchor, anchor_ns) = this_minute();
    let series = [("device", "a1"), ("site", "lab")];
    write_directly(
        &work.endpoint,
        "t_alpha",
        &series,
        anchor_ns - 90 * MINUTE_NS,
        HUGE_VERSION,
    );
    // A folder where the report file should go, made once the apply has
    // checked the report's path and is writing: a report that cannot be
    // written at the end (a disk that filled up meanwhile).
    work.endpoint.hold_writes();
    let before = work.endpoint.stats().write_requests;
    let started = Instant::now();
    let child = work.spawn(&["--anchor", &anchor, "--on-reject", "continue"]);
    let deadline = Instant::now() + Duration::from_secs(60);
    while work.endpoint.stats().write_requests == before {
        assert!(
            Instant::now() < deadline,
            "no write arrived within a minute"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    std::fs::create_dir_all(work.run.dir.join("report.json")).unwrap();
    work.endpoint.release_writes();
    let applied = work.applied(child.wait_with_output().unwrap(), started.elapsed());
    assert_eq!(applied.code, 3, "{}", applied.stderr);
    assert!(
        applied.stderr.contains("error[outatime::target::rejected]"),
        "{}",
        applied.stderr
    );
    assert!(applied.stderr.contains("report.json"), "{}", applied.stderr);
}

#[test]
fn a_rejected_record_is_traced_to_its_step_and_on_reject_continue_writes_the_rest() {
    let work = Workspace::new("strict-reject-continue", TWO_TABLES, DAY);
    work.create_tables(DAY);
    let (anchor, anchor_ns) = this_minute();
    // alpha's first record, already there with another value and a Version
    // no apply can beat.
    let conflict_ns = anchor_ns - 90 * MINUTE_NS;
    let series = [("device", "a1"), ("site", "lab")];
    write_directly(
        &work.endpoint,
        "t_alpha",
        &series,
        conflict_ns,
        HUGE_VERSION,
    );
    let applied = work.apply(&["--anchor", &anchor, "--on-reject", "continue"]);
    assert_eq!(applied.code, 3, "{}", applied.stderr);
    assert!(
        applied.stderr.contains("error[outatime::target::rejected]"),
        "{}",
        applied.stderr
    );
    let version = applied.version();
    let scenario = work.scenario();
    assert_eq!(
        applied.report["rejections"],
        serde_json::json!([{
            "table": "t_alpha",
            "time": time_text(conflict_ns),
            "series": r#"{device="a1", site="lab"}"#,
            "step": format!("line {} `generate into alpha`", line_of(&scenario, "generate into alpha")),
            "reason": format!(
                "The record version {version} is lower than the existing version {HUGE_VERSION}. \
                 A higher version is required to update the measure value."
            ),
            "existing_version": HUGE_VERSION,
        }])
    );
    assert_eq!(applied.number("rejected"), 1);
    // Everything else is stored once, as `records` has it; the conflicting
    // record keeps the other writer's value.
    let is_conflict = |table: &str, dimensions: &Dimensions, time: i64| -> bool {
        table == "alpha"
            && time == conflict_ns
            && dimensions == &BTreeMap::from(series.map(|(k, v)| (k.into(), v.into())))
    };
    let stored = work.stored();
    let expected: Vec<Row> = work
        .expected(&anchor)
        .into_iter()
        .filter(|r| !is_conflict(&r.table, &r.dimensions, r.time_ns))
        .collect();
    let written: Vec<InTable> = stored
        .into_iter()
        .filter(|s| !is_conflict(&s.table, &s.record.dimensions, s.record.time_ns))
        .collect();
    assert_rows(&rows_of(&written), &expected);
    assert!(
        written
            .iter()
            .all(|s| (s.record.writes, s.record.version) == (1, version))
    );
    let kept = work
        .endpoint
        .stored(DATABASE, "t_alpha")
        .into_iter()
        .find(|r| r.time_ns == conflict_ns && r.dimensions["device"] == "a1")
        .unwrap();
    assert_eq!((kept.version, kept.writes), (HUGE_VERSION, 1));
    assert_eq!(applied.number("records"), written.len() as u64);
}

#[test]
fn with_on_reject_fail_no_batch_starts_after_the_first_rejection() {
    let work = Workspace::new("strict-reject-fail", TWO_TABLES, DAY);
    work.create_tables(DAY);
    let (anchor, anchor_ns) = this_minute();
    let conflict_ns = anchor_ns - 90 * MINUTE_NS;
    write_directly(
        &work.endpoint,
        "t_alpha",
        &[("device", "a1"), ("site", "lab")],
        conflict_ns,
        HUGE_VERSION,
    );
    let writes_before = work.endpoint.stats().write_requests;
    // One request at a time: the conflict is in the first batch, and the
    // apply stops when its answer comes back, before launching another.
    let applied = work.apply(&["--anchor", &anchor, "--concurrency", "1"]);
    assert_eq!(applied.code, 3, "{}", applied.stderr);
    assert!(
        applied
            .stderr
            .contains("no batch was started after the first rejection"),
        "{}",
        applied.stderr
    );
    assert_eq!(work.endpoint.stats().write_requests - writes_before, 1);
    assert_eq!(applied.report["outcome"], "rejected");
    assert_eq!(
        (
            applied.number("batches"),
            applied.number("records"),
            applied.number("rejected")
        ),
        (1, BATCH as u64 - 1, 1)
    );
    assert_eq!(
        applied.report["rejections"][0]["time"],
        time_text(conflict_ns)
    );
    // The batch's other records are stored: Timestream takes a request's
    // valid records and lists the others.
    assert_eq!(work.endpoint.stored(DATABASE, "t_alpha").len(), BATCH);
    assert!(work.endpoint.stored(DATABASE, "t_bravo").is_empty());
    // A batch with rejections is not journaled: a resume sends it again,
    // meets the same rejection and says so, instead of passing.
    let resumed = work.apply(&["--resume", "--concurrency", "1"]);
    assert_eq!(resumed.code, 3, "{}", resumed.stderr);
    assert_eq!(resumed.report["outcome"], "rejected");
    assert_eq!(resumed.number("resumed_records"), 0);
    assert_eq!(
        resumed.report["rejections"][0]["time"],
        time_text(conflict_ns)
    );
}

const OLD: &str = r#"scenario "old"
table history
generate into history {
  series device = "h1"
  from now - 48h to now every 1h
  measure v double = noise(sigma: 1)
}
"#;

#[test]
fn records_older_than_the_memory_store_are_refused_before_anything_is_sent() {
    let work = Workspace::new("strict-too-old", OLD, DAY);
    let applied = work.apply(&["--create"]);
    assert_eq!(applied.code, 1, "{}", applied.stderr);
    let stderr = &applied.stderr;
    assert!(
        stderr.contains("error[outatime::apply::preflight]"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "line {} `generate into history`",
            line_of(OLD, "generate")
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("are older than the memory store keeps"),
        "{stderr}"
    );
    assert!(
        stderr.contains("the memory store keeps 24 h, magnetic-store writes are off"),
        "{stderr}"
    );
    assert!(stderr.contains("magnetic_writes: true"), "{stderr}");
    assert!(stderr.contains("nothing was written"), "{stderr}");
    assert_eq!(work.endpoint.stats().write_requests, 0);
    assert!(work.stored().is_empty());
}

#[test]
fn records_older_than_the_memory_store_are_written_when_magnetic_writes_are_on() {
    let magnetic = Retention {
        magnetic_writes: true,
        ..DAY
    };
    let work = Workspace::new("strict-magnetic", OLD, magnetic);
    let applied = work.apply(&["--create"]);
    assert_eq!(applied.code, 0, "{}", applied.stderr);
    assert_rows(&rows_of(&work.stored()), &work.expected(applied.anchor()));
    assert_eq!(work.endpoint.stats().records_rejected, 0);
}

#[test]
fn records_beyond_fifteen_minutes_ahead_in_burst_are_refused_with_a_hint_to_pace_live() {
    let ahead = "scenario \"ahead\"\ntable ahead\ngenerate into ahead {\n  series device = \"f1\"\n  from now to now + 1h every 1m\n  measure v double = noise(sigma: 1)\n}\n";
    let work = Workspace::new("strict-ahead", ahead, DAY);
    let applied = work.apply(&["--create"]);
    assert_eq!(applied.code, 1, "{}", applied.stderr);
    assert!(
        applied
            .stderr
            .contains("are more than 15 minutes in the future"),
        "{}",
        applied.stderr
    );
    assert!(
        applied.stderr.contains("use `--pace live`"),
        "{}",
        applied.stderr
    );
    assert!(
        applied.stderr.contains(&format!(
            "line {} `generate into ahead`",
            line_of(ahead, "generate")
        )),
        "{}",
        applied.stderr
    );
    assert_eq!(work.endpoint.stats().write_requests, 0);
}

#[test]
fn throttling_server_errors_dropped_connections_and_timeouts_are_retried_until_all_is_stored() {
    let work = Workspace::new("strict-faults", &bulk(10, 300), DAY);
    work.endpoint.set_faults(Faults {
        throttle_every: Some(8),
        server_error_every: Some(9),
        drop_every: Some(10),
        // Far longer than --request-timeout: the client gives up, and finds
        // the records stored when it sends them again.
        slow_every: Some((17, Duration::from_secs(6))),
        ..Faults::default()
    });
    let applied = work.apply(&["--create", "--request-timeout", "2"]);
    assert_eq!(applied.code, 0, "{}", applied.stderr);
    let stored = work.stored();
    assert_rows(&rows_of(&stored), &work.expected(applied.anchor()));
    let stats = work.endpoint.stats();
    let faulted = stats.throttled + stats.server_errors + stats.dropped + stats.slowed;
    assert!(
        stats.throttled > 0 && stats.server_errors > 0 && stats.dropped > 0 && stats.slowed > 0,
        "{stats:?}"
    );
    // Each faulted attempt is retried once; every attempt reached the
    // endpoint, and each batch was acknowledged once.
    let batches = 3000 / BATCH as u64;
    assert_eq!(applied.number("batches"), batches);
    assert_eq!(applied.number("retried"), faulted, "{stats:?}");
    assert_eq!(stats.write_requests, batches + faulted);
    assert_eq!(
        applied.report["concurrency"]["throttled"].as_u64(),
        Some(stats.throttled)
    );
    // A slowed attempt stored its batch before the client gave up on it;
    // the batch was then stored again, identically. Faulted ones stored
    // nothing.
    let extra_writes: u64 = stored.iter().map(|s| u64::from(s.record.writes - 1)).sum();
    assert_eq!(extra_writes, stats.slowed * BATCH as u64, "{stats:?}");
}

#[test]
fn concurrency_backs_off_below_the_endpoints_throttling_limit() {
    let work = Workspace::new("strict-adaptive", &bulk(20, 1000), DAY);
    work.endpoint.set_faults(Faults {
        latency: Duration::from_millis(20),
        throttle_above_in_flight: Some(4),
        ..Faults::default()
    });
    let applied = work.apply(&["--create", "--concurrency", "32"]);
    assert_eq!(applied.code, 0, "{}", applied.stderr);
    assert_rows(&rows_of(&work.stored()), &work.expected(applied.anchor()));
    let concurrency = &applied.report["concurrency"];
    assert_eq!(concurrency["max"], 32);
    assert!(
        concurrency["lowest"].as_u64().unwrap() <= 4,
        "{concurrency}"
    );
    let stats = work.endpoint.stats();
    assert!(stats.throttled > 0);
    assert_eq!(concurrency["throttled"].as_u64(), Some(stats.throttled));
    // Once the limit has settled, requests arrive with few others in
    // flight: nowhere near the 32 allowed.
    let arrivals = &stats.in_flight_at_arrival;
    let settled = &arrivals[arrivals.len() / 2..];
    let crowded = settled.iter().filter(|&&n| n > 8).count();
    assert!(
        crowded * 10 <= settled.len(),
        "{crowded} of the last {} requests arrived with more than 8 in flight: {settled:?}",
        settled.len()
    );
}

#[test]
fn three_shards_together_write_every_record_exactly_once() {
    let work = Workspace::new("strict-shards", &bulk(30, 10), DAY);
    let mut anchor = None::<String>;
    let mut total = 0;
    for shard in ["1/3", "2/3", "3/3"] {
        let mut args = vec!["--create", "--shard", shard];
        if let Some(anchor) = &anchor {
            args.extend(["--anchor", anchor.as_str()]);
        }
        let applied = work.apply(&args);
        assert_eq!(applied.code, 0, "{}", applied.stderr);
        assert_eq!(applied.report["shard"], shard);
        let records = applied.number("records");
        assert!(records > 0, "shard {shard} wrote nothing");
        total += records;
        anchor.get_or_insert_with(|| applied.anchor().to_owned());
    }
    let stored = work.stored();
    assert_rows(&rows_of(&stored), &work.expected(&anchor.unwrap()));
    assert_eq!(total, 300);
    assert!(stored.iter().all(|s| s.record.writes == 1));
}

/// The bulk scenario of the interruption tests: 80 batches, two in flight,
/// 50 ms each, so the apply is still going when it is stopped.
fn interrupted_workspace(name: &str) -> Workspace {
    let work = Workspace::new(name, &bulk(10, 800), DAY);
    work.create_tables(DAY);
    work.endpoint.set_faults(Faults {
        latency: Duration::from_millis(50),
        ..Faults::default()
    });
    work
}

const TWO_IN_FLIGHT: [&str; 2] = ["--concurrency", "2"];

/// Starts the apply and lets it write about an eighth, then slows the
/// endpoint right down: the apply cannot finish before it is stopped.
fn start_and_slow_down(work: &Workspace) -> Child {
    let mut child = work.spawn(&TWO_IN_FLIGHT);
    work.wait_for_ingested(1000, &mut child);
    work.endpoint.set_faults(Faults {
        latency: Duration::from_secs(1),
        ..Faults::default()
    });
    child
}

#[test]
fn an_apply_killed_midway_is_finished_by_resume_without_losing_a_record() {
    let work = interrupted_workspace("strict-kill");
    let mut child = start_and_slow_down(&work);
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), None, "killed by the signal");
    let ingested = work.endpoint.stats().records_ingested;
    assert!((1000..8000).contains(&ingested), "{ingested}");
    work.endpoint.set_faults(Faults::default());
    let resumed = work.apply(&[&TWO_IN_FLIGHT[..], &["--resume"]].concat());
    assert_eq!(resumed.code, 0, "{}", resumed.stderr);
    let skipped = resumed.number("resumed_records");
    assert!(skipped > 0 && skipped < 8000, "{skipped}");
    assert_eq!(resumed.number("records") + skipped, 8000);
    let stored = work.stored();
    assert_rows(&rows_of(&stored), &work.expected(resumed.anchor()));
    // One Version across the kill: the journaled one.
    let version = resumed.version();
    assert!(stored.iter().all(|s| s.record.version == version));
    // Sent twice: only what was in flight when the process died, at most
    // one batch a request.
    let twice = stored.iter().filter(|s| s.record.writes > 1).count();
    assert!(twice <= 2 * BATCH, "{twice} records written twice");
    assert!(stored.iter().all(|s| s.record.writes <= 2));
}

/// Sends SIGTERM to a running apply and waits for it: it stops gracefully,
/// with exit code 143.
fn terminate(work: &Workspace, child: Child) -> Applied {
    let sent = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let output = child.wait_with_output().unwrap();
    let stopped = work.applied(output, Duration::ZERO);
    assert_eq!(stopped.code, 143, "{}", stopped.stderr);
    stopped
}

#[test]
fn sigterm_stops_after_the_requests_in_flight_and_resume_writes_the_rest_once() {
    let work = interrupted_workspace("strict-term");
    let child = start_and_slow_down(&work);
    let stopped = terminate(&work, child);
    assert!(stopped.stderr.contains("--resume"), "{}", stopped.stderr);
    assert_eq!(stopped.report["outcome"], "interrupted by SIGTERM");
    let written = stopped.number("records");
    assert_eq!(work.endpoint.stats().records_ingested, written);
    assert!((1000..8000).contains(&written), "{written}");
    work.endpoint.set_faults(Faults::default());
    let resumed = work.apply(&[&TWO_IN_FLIGHT[..], &["--resume"]].concat());
    assert_eq!(resumed.code, 0, "{}", resumed.stderr);
    assert_eq!(resumed.anchor(), stopped.anchor());
    assert_eq!(resumed.version(), stopped.version());
    assert_eq!(resumed.number("resumed_records"), written);
    assert_eq!(resumed.number("records"), 8000 - written);
    let stored = work.stored();
    assert_rows(&rows_of(&stored), &work.expected(resumed.anchor()));
    // A graceful stop journals what it sent: nothing is sent twice.
    assert!(stored.iter().all(|s| s.record.writes == 1));
}

#[test]
fn live_pacing_writes_each_record_once_it_is_due_neither_before_nor_long_after() {
    // The future records span 15 s of due times: a pacer that sent them
    // late (or held them all to the end) misses the upper bound below by
    // seconds more than the slack allows.
    let scenario = r#"scenario "live"
table paced
generate into paced {
  series device = "p1"
  series device = "p2"
  from now - 1m to now + 15s every 1s
  measure v double = noise(sigma: 1)
}
anomaly late on paced {
  where device == "p1"
  at now - 2s for 6s
  delay 4s
}
"#;
    let work = Workspace::new("strict-live", scenario, DAY);
    let lead = 2 * SECOND_NS;
    let delay = 4 * SECOND_NS;
    let applied = work.apply(&["--create", "--pace", "live", "--lead", "2s"]);
    assert_eq!(applied.code, 0, "{}", applied.stderr);
    assert_eq!(applied.report["pace"], "live, lead 2s");
    let anchor = time_ns(applied.anchor());
    let stored = work.stored();
    assert_rows(&rows_of(&stored), &work.expected(applied.anchor()));
    assert_eq!(stored.len(), 2 * 75);
    let is_late = |s: &Stored| {
        s.dimensions["device"] == "p1"
            && (anchor - 2 * SECOND_NS..anchor + 4 * SECOND_NS).contains(&s.time_ns)
    };
    let late: Vec<&Stored> = stored
        .iter()
        .map(|s| &s.record)
        .filter(|s| is_late(s))
        .collect();
    assert_eq!(late.len(), 6);
    // When the apply had made its tables (its last call other than a
    // write): records due before then are due at once.
    let ready = work
        .endpoint
        .stats()
        .last_other_request_ns
        .expect("the apply describes and creates its table");
    // Not before it is due: the clocks are the same machine's, and a slow
    // machine only makes writes later, so the tolerance is tight; it covers
    // only the apply turning wall-clock times into timers.
    let tolerance = SECOND_NS / 4;
    // Not long after: batches go out by the second they are due in (up to
    // 1 s after a record's own due time), then a slack for a loaded machine.
    // Generous, so that it fails only for a pacer that waits for seconds.
    let slack = SECOND_NS + 5 * SECOND_NS;
    for s in stored.iter().map(|s| &s.record) {
        // A late record is due `delay` after its time, whatever the lead.
        let due = match is_late(s) {
            true => s.time_ns + delay,
            false => s.time_ns - lead,
        };
        assert!(
            s.first_written_ns >= due - tolerance,
            "{} written {} ms before it was due",
            time_text(s.time_ns),
            (due - s.first_written_ns) / 1_000_000
        );
        assert!(
            s.first_written_ns <= due.max(ready) + slack,
            "{} written {} ms after it was due",
            time_text(s.time_ns),
            (s.first_written_ns - due.max(ready)) / 1_000_000
        );
    }
    // The last records are due 12 s after the anchor, which is at most 1 s
    // before the apply began.
    assert!(
        applied.took >= Duration::from_secs(11),
        "{:?}",
        applied.took
    );
}

#[test]
fn a_dry_run_prints_each_tables_count_and_sends_neither_writes_nor_creates() {
    let work = Workspace::new("strict-dry", TWO_TABLES, DAY);
    let applied = work.apply(&["--create", "--dry-run"]);
    assert_eq!(applied.code, 0, "{}", applied.stderr);
    let expected = work.expected(applied.anchor());
    let count = |table: &str, per_row: usize| -> usize {
        expected.iter().filter(|r| r.table == table).count() * per_row
    };
    let printed: BTreeMap<String, usize> = applied
        .stdout
        .lines()
        .map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(&words[..2], ["would", "write"], "{line}");
            (
                words[5].trim_matches('`').to_owned(),
                words[2].parse().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        printed,
        BTreeMap::from([
            ("db.t_alpha".to_owned(), count("alpha", 1)),
            ("db.t_bravo".to_owned(), count("bravo", 2)),
        ])
    );
    let operations = work.endpoint.stats().operations;
    for operation in ["WriteRecords", "CreateTable", "CreateDatabase"] {
        assert!(!operations.contains_key(operation), "{operations:?}");
    }
    assert_eq!(applied.report["outcome"], "dry run");
}

#[test]
fn a_missing_table_without_create_is_named_and_nothing_is_written() {
    let work = Workspace::new("strict-missing", TWO_TABLES, DAY);
    work.endpoint.create_table(DATABASE, "t_alpha", DAY);
    let applied = work.apply(&[]);
    assert_eq!(applied.code, 1, "{}", applied.stderr);
    let stderr = &applied.stderr;
    assert!(
        stderr.contains("error[outatime::apply::missing_table]: `db.t_bravo` does not exist"),
        "{stderr}"
    );
    assert!(!stderr.contains("t_alpha"), "{stderr}");
    assert!(stderr.contains("pass --create"), "{stderr}");
    let stats = work.endpoint.stats();
    assert_eq!(stats.write_requests, 0);
    assert!(!stats.operations.contains_key("CreateTable"));
}

#[test]
fn resuming_with_other_late_delays_is_refused_as_another_cut() {
    // `late` changes when records are sent, not what they are: the stream
    // digest is equal, the batches are not.
    let scenario = |delay: &str| {
        format!(
            "scenario \"late\"\ntable alpha\ngenerate into alpha {{\n  series device = \"a1\"\n  from now - 30m to now every 1m\n  measure v double = constant(value: 1)\n}}\nanomaly late on alpha {{\n  at now - 10m for 5m\n  delay {delay}\n}}\n"
        )
    };
    let work = Workspace::new("strict-late-cut", &scenario("1m"), DAY);
    let first = work.apply(&["--create", "--pace", "live"]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    // As if the first apply had stopped before its last batch: without its
    // `complete` line the journal is one to resume.
    let journal = work.run.dir.join("outatime-out/journal/s.strict.jsonl");
    let text = std::fs::read_to_string(&journal).unwrap();
    let last = text.lines().last().unwrap();
    assert!(last.ends_with("\"complete\":true}"), "{text}");
    std::fs::write(&journal, text.replace(&format!("{last}\n"), "")).unwrap();
    work.set_scenario(&scenario("2m"));
    let resumed = work.apply(&["--resume", "--pace", "live"]);
    assert_eq!(resumed.code, 1, "{}", resumed.stderr);
    assert!(
        resumed
            .stderr
            .contains("batches digest (the cut into requests)")
            && !resumed.stderr.contains("stream digest"),
        "{}",
        resumed.stderr
    );
}

#[test]
fn resuming_from_the_journal_of_another_scenario_is_refused_and_writes_nothing() {
    let work = Workspace::new("strict-mismatch", &constants(3, "1.5"), DAY);
    let first = work.apply(&["--create"]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let before = work.endpoint.stats().write_requests;
    let stored = rows_of(&work.stored());
    work.set_scenario(&constants(4, "1.5"));
    let resumed = work.apply(&["--resume"]);
    assert_eq!(resumed.code, 1, "{}", resumed.stderr);
    assert!(
        resumed
            .stderr
            .contains("error[outatime::apply::journal_mismatch]"),
        "{}",
        resumed.stderr
    );
    assert!(
        resumed.stderr.contains("stream digest (the records)"),
        "{}",
        resumed.stderr
    );
    assert_eq!(work.endpoint.stats().write_requests, before);
    assert_rows(&rows_of(&work.stored()), &stored);
}

/// `generate into TABLE` for series `d1`: `measures` lines, every minute of
/// the last five.
fn one_series(table: &str, declaration: &str, measures: &str) -> String {
    format!(
        "scenario \"limits\"\n{declaration}\ngenerate into {table} {{\n  series device = \"d1\"\n  from now - 5m to now every 1m\n{measures}}}\n"
    )
}

#[test]
fn a_table_of_300_measures_fails_check_with_the_measures_per_record_code() {
    let measures: String = (1..=300)
        .map(|i| format!("  measure m{i:03} double = noise(sigma: 1)\n"))
        .collect();
    let scenario = one_series("wide", "table wide", &measures);
    let work = Workspace::new("strict-300-measures", &scenario, DAY);
    let output = work.run.again(&["check", "s.scenario"]).output();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("outatime::table::too_many_measures_per_record"),
        "{text}"
    );
    assert!(text.contains("gets 300 measures"), "{text}");
    assert!(text.contains("layout single"), "{text}");
    // With `layout single`, the same measures are one record each.
    work.set_scenario(&one_series(
        "wide",
        "table wide { layout single }",
        &measures,
    ));
    let applied = work.apply(&["--create"]);
    assert_eq!(applied.code, 0, "{}", applied.stderr);
    assert_eq!(work.endpoint.stats().records_rejected, 0);
}

#[test]
fn a_record_over_2_kb_is_refused_in_the_preflight_and_nothing_is_sent() {
    // 8 (time) + 8 ("device" + "d1") + 4 ("note") + 2029 = 2049 bytes.
    let long = "x".repeat(2_029);
    let scenario = one_series(
        "notes",
        "table notes { layout single }",
        &format!("  measure note varchar = choice(\"{long}\")\n"),
    );
    let work = Workspace::new("strict-record-size", &scenario, DAY);
    let applied = work.apply(&["--create"]);
    assert_eq!(applied.code, 1, "{}", applied.stderr);
    let stderr = &applied.stderr;
    assert!(
        stderr.contains(
            "error[outatime::apply::preflight]: 5 records cannot be written to the target; nothing was written"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "line {} `generate into notes`",
            line_of(&scenario, "generate")
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("the record takes 2049 bytes, more than Timestream's 2 KB (2048 bytes)"),
        "{stderr}"
    );
    assert!(stderr.contains("in series {device=\"d1\"}"), "{stderr}");
    assert!(
        stderr.contains("help: use shorter varchar values"),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was written"), "{stderr}");
    let stats = work.endpoint.stats();
    assert_eq!(stats.write_requests, 0, "no WriteRecords was sent");
    assert!(work.stored().is_empty());
    // A dry run refuses it the same way, without writing.
    let dry = work.apply(&["--dry-run"]);
    assert_eq!(dry.code, 1, "{}", dry.stderr);
    assert!(
        dry.stderr
            .contains("5 records cannot be written to the target"),
        "{}",
        dry.stderr
    );
}

#[test]
fn records_at_the_limits_pass_every_check_and_are_stored() {
    // A record of 2048 bytes exactly; a multi-measure record of 256
    // measures (4-byte names, booleans: 1303 bytes).
    let exact = "x".repeat(2_028);
    let booleans: String = (0..256)
        .map(|i| format!("  measure b{i:03} boolean = bernoulli(p: 0.5)\n"))
        .collect();
    let notes = one_series(
        "notes",
        "table notes { layout single }\ntable flags",
        &format!("  measure note varchar = choice(\"{exact}\")\n"),
    );
    let flags = one_series("flags", "", &booleans);
    let scenario = format!(
        "{notes}{}",
        flags.split_once('\n').map(|(_, rest)| rest).unwrap()
    );
    let work = Workspace::new("strict-at-limits", &scenario, DAY);
    let applied = work.apply(&["--create"]);
    assert_eq!(applied.code, 0, "{}", applied.stderr);
    let stats = work.endpoint.stats();
    assert_eq!(stats.records_rejected, 0);
    assert_rows(&rows_of(&work.stored()), &work.expected(applied.anchor()));
}

#[test]
fn sigterm_during_a_streamed_replay_apply_leaves_no_spilled_rows() {
    // 8,000 rows, spilled every 100: the apply reads them back from disk
    // while it writes, and stops gracefully on SIGTERM.
    let scenario = r#"scenario "streamed"
source s csv "s.csv" {
  time ts
  dimensions device
  measures temp double
}
table t { name "streamed" }
replay s into t {
  shift end to now
}
"#;
    let work = Workspace::new("strict-spill-term", scenario, DAY);
    let mut csv = String::from("ts,device,temp\n");
    for minute in 0..800 {
        for device in 0..10 {
            csv.push_str(&format!(
                "2026-03-01T{:02}:{:02}:00Z,d{device},{}.5\n",
                minute / 60,
                minute % 60,
                minute % 9
            ));
        }
    }
    std::fs::write(work.run.dir.join("s.csv"), csv).unwrap();
    std::fs::create_dir_all(work.run.dir.join("spill")).unwrap();
    work.endpoint.set_faults(Faults {
        latency: Duration::from_millis(50),
        ..Faults::default()
    });
    let mut child = work
        .command(&[&TWO_IN_FLIGHT[..], &["--create", "--temp-dir", "spill"]].concat())
        .env("OUTATIME_SPILL_ROWS", "100")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    work.wait_for_ingested(1000, &mut child);
    let spilled: Vec<_> = std::fs::read_dir(work.run.dir.join("spill"))
        .unwrap()
        .collect();
    assert_eq!(
        spilled.len(),
        1,
        "the rows are on disk while the apply runs"
    );
    work.endpoint.set_faults(Faults {
        latency: Duration::from_secs(1),
        ..Faults::default()
    });
    let stopped = terminate(&work, child);
    assert_eq!(stopped.report["outcome"], "interrupted by SIGTERM");
    let left: Vec<_> = std::fs::read_dir(work.run.dir.join("spill"))
        .unwrap()
        .collect();
    assert!(left.is_empty(), "spilled rows left behind: {left:?}");
}
