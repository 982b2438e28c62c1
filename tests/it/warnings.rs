//! Warnings for what does nothing, through the real binary: each fires on
//! a purpose-built scenario (on stderr, pointing at its clause, and in the
//! plan), `--deny-warnings` makes them errors that write nothing, and no
//! shipped scenario or valid fixture draws any.

use std::path::Path;

use crate::common::Run;

const CODES: [&str; 5] = [
    "outatime::anomaly::no_effect",
    "outatime::where::selects_nothing",
    "outatime::window::no_rows",
    "outatime::set::no_effect",
    "outatime::source::no_rows",
];

const HEADER: &str = r#"scenario "does nothing"
seed 1

source fleet csv "fleet.csv" {
  time ts
  dimensions device_id, site
  measures temperature double, door_open boolean
}

table telemetry

replay fleet into telemetry {
  window 2024-03-12T00:00Z .. 2024-03-13T00:00Z
  where site == "oslo-1"
  shift end to now
}
"#;

fn fleet() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/data/fleet.csv"
    ))
    .unwrap()
}

/// A project whose scenario is the header and `rest`.
fn project(name: &str, rest: &str) -> Run {
    Run::new(&format!("warn-{name}"))
        .file("s.scenario", format!("{HEADER}\n{rest}"))
        .file("fleet.csv", fleet())
}

/// The plan's stderr and text for a scenario that must compile.
fn plan(name: &str, rest: &str) -> (String, String) {
    let (code, stdout, stderr) = project(name, rest).args(&["plan", "s.scenario"]).run();
    assert_eq!(code, 0, "{stderr}");
    (stderr, stdout)
}

/// The line of the first line of `text` that contains `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

fn assert_warns(name: &str, rest: &str, code: &str, message: &str, clause: &str) {
    let (stderr, plan) = plan(name, rest);
    assert!(stderr.contains(code), "{stderr}");
    assert!(stderr.contains(message), "{stderr}");
    // Drawn at its clause: the clause's text is quoted under the message.
    let at = stderr.find(message).unwrap();
    assert!(stderr[at..].contains(clause), "{stderr}");
    // And in the plan, with the statement's line.
    let scenario = format!("{HEADER}\n{rest}");
    let statement = scenario
        .lines()
        .take(line_of(&scenario, clause))
        .enumerate()
        .filter(|(_, l)| !l.starts_with(' ') && !l.trim().is_empty())
        .map(|(i, _)| i + 1)
        .last()
        .unwrap();
    let section = plan.split("\nwarnings:\n").nth(1).unwrap_or_else(|| {
        panic!("no warnings section:\n{plan}");
    });
    assert!(
        section.contains(&format!("- code: {code}\n  line: {statement}\n")),
        "{section}"
    );
    assert!(section.contains(message), "{section}");
}

#[test]
fn an_anomaly_whose_where_matches_no_series_does_nothing() {
    assert_warns(
        "anomaly-series",
        "anomaly spike on telemetry.temperature {\n  where device_id == \"fridge-77\"\n  at now - 1h for 5m\n  magnitude 3\n}\n",
        "outatime::anomaly::no_effect",
        "its `where` matches no series of table `telemetry`",
        "where device_id == \"fridge-77\"",
    );
}

#[test]
fn an_anomaly_outside_every_record_does_nothing() {
    // The replay ends at now (its last record at now - 15m).
    assert_warns(
        "anomaly-window",
        "anomaly dropout on telemetry {\n  where device_id == \"fridge-7\"\n  at now + 1h for 20m\n}\n",
        "outatime::anomaly::no_effect",
        "its window lies outside every record of table `telemetry`",
        "at now + 1h for 20m",
    );
    // Without `for`: the first record at or after `at`; there is none.
    assert_warns(
        "anomaly-point",
        "anomaly spike on telemetry.temperature {\n  at now - 1m\n  magnitude 3\n}\n",
        "outatime::anomaly::no_effect",
        "its window lies outside every record of table `telemetry`",
        "at now - 1m",
    );
    // On a measure the matching series' records in the window lack.
    let (stderr, _) = plan(
        "anomaly-measure",
        "generate into telemetry {\n  series device_id = \"sim\"\n  from now for 1h every 1m\n  measure battery bigint = constant(value: 90)\n}\n\nanomaly spike on telemetry.battery {\n  where device_id == \"fridge-7\"\n  at now - 2h for 1h\n  magnitude 3\n}\n",
    );
    assert!(stderr.contains("outatime::anomaly::no_effect"), "{stderr}");
}

#[test]
fn an_anomaly_that_touches_a_record_draws_nothing() {
    let (stderr, plan) = plan(
        "anomaly-ok",
        "anomaly spike on telemetry.temperature {\n  where device_id == \"fridge-7\"\n  at now - 1h for 5m\n  magnitude 3\n}\n\nanomaly spike on telemetry.temperature {\n  where device_id == \"fridge-9\"\n  at now - 16m\n  magnitude 3\n}\n",
    );
    for code in CODES {
        assert!(!stderr.contains(code), "{stderr}");
    }
    assert!(!plan.contains("\nwarnings:"), "{plan}");
}

#[test]
fn a_replay_where_that_selects_no_row_does_nothing() {
    assert_warns(
        "where",
        "replay fleet into telemetry {\n  where site == \"tromso\"\n  shift end to now - 3d\n}\n",
        "outatime::where::selects_nothing",
        "its `where` selects no row of source `fleet`",
        "where site == \"tromso\"",
    );
}

#[test]
fn a_replay_window_that_holds_no_row_does_nothing() {
    assert_warns(
        "window",
        "replay fleet into telemetry {\n  window 1999-03-12T00:00Z .. 1999-03-13T00:00Z\n  shift end to now - 2d\n}\n",
        "outatime::window::no_rows",
        "its `window` holds no row of source `fleet`",
        "window 1999-03-12T00:00Z .. 1999-03-13T00:00Z",
    );
}

#[test]
fn a_set_every_record_already_has_does_nothing_and_a_clone_is_fine() {
    assert_warns(
        "set",
        "replay fleet into telemetry {\n  window 2024-03-11T00:00Z .. 2024-03-12T00:00Z\n  where site == \"oslo-1\"\n  shift end to now - 1d\n  set site = \"oslo-1\", run = \"e2e\"\n}\n",
        "outatime::set::no_effect",
        "every record of the step already has `site` = \"oslo-1\"",
        "site = \"oslo-1\"",
    );
    // A new value (a clone), a new dimension: both change records.
    let (stderr, _) = plan(
        "set-clone",
        "replay fleet into telemetry {\n  window 2024-03-11T00:00Z .. 2024-03-12T00:00Z\n  where device_id == \"fridge-7\"\n  shift end to now - 1d\n  set device_id = \"clone-1\", run = \"e2e\"\n}\n",
    );
    assert!(!stderr.contains("outatime::set::no_effect"), "{stderr}");
}

const NOTHING: &str = "anomaly spike on telemetry.temperature {\n  where device_id == \"fridge-77\"\n  at now - 1h for 5m\n  magnitude 3\n}\n";

#[test]
fn deny_warnings_makes_them_errors_and_writes_nothing() {
    let run = project("deny", NOTHING);
    let denied = "outatime::compile::denied_warnings";
    let (code, _, stderr) = run
        .again(&["plan", "s.scenario", "--deny-warnings", "-o", "s.plan.yaml"])
        .run();
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains(denied), "{stderr}");
    assert!(stderr.contains("outatime::anomaly::no_effect"), "{stderr}");
    assert!(!run.dir.join("s.plan.yaml").exists());
    let (code, stdout, stderr) = run
        .again(&[
            "records",
            "s.scenario",
            "--deny-warnings",
            "--anchor",
            "2026-11-27T18:00:00Z",
        ])
        .run();
    assert_eq!(code, 1, "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.contains(denied), "{stderr}");
    let (code, _, stderr) = run
        .again(&[
            "apply",
            "s.scenario",
            "--deny-warnings",
            "--anchor",
            "2026-11-27T18:00:00Z",
        ])
        .run();
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains(denied), "{stderr}");
    assert!(!run.dir.join("outatime-out").exists());
    // Without the flag, the same commands succeed and write.
    let (code, _, stderr) = run
        .again(&["apply", "s.scenario", "--anchor", "2026-11-27T18:00:00Z"])
        .run();
    assert_eq!(code, 0, "{stderr}");
    assert!(run.dir.join("outatime-out").exists());
}

#[test]
fn check_deny_warnings_fails_a_scenario_with_a_warning() {
    // `table::unused` is a warning `check` draws alone.
    let run = project("check-deny", "table spare\n");
    let (code, stdout, stderr) = run.again(&["check", "s.scenario"]).run();
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("1 warning"), "{stdout}");
    let (code, _, stderr) = run.again(&["check", "s.scenario", "--deny-warnings"]).run();
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("outatime::table::unused"), "{stderr}");
    let (code, _, _) = project("check-deny-clean", "")
        .args(&["check", "s.scenario", "--deny-warnings"])
        .run();
    assert_eq!(code, 0);
}

/// Every `*.scenario` under `dir`, recursively.
fn scenarios(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            scenarios(&path, out);
        } else if path.extension().is_some_and(|e| e == "scenario") {
            out.push(path);
        }
    }
}

#[test]
fn no_shipped_scenario_or_valid_fixture_draws_them() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    scenarios(&root.join("scenarios"), &mut files);
    scenarios(&root.join("tests/fixtures/ok"), &mut files);
    files.sort();
    assert!(files.len() > 10, "{files:?}");
    for file in files {
        let output = Run::in_dir(root)
            .args_os(["plan".as_ref(), file.as_os_str()])
            .env("OUTATIME_REDACT_SALT", "test-salt")
            .output();
        let stderr = String::from_utf8_lossy(&output.stderr);
        for code in CODES {
            assert!(!stderr.contains(code), "{}: {stderr}", file.display());
        }
        let plan = String::from_utf8_lossy(&output.stdout);
        assert!(!plan.contains("\nwarnings:"), "{}: {plan}", file.display());
    }
}

const GENERATED: &str = r#"scenario "generated"
seed 1

table sim

generate into sim {
  series device = "sim-1"
  series device = "sim-2"
  from now for 1h every 1m
  measure v double = constant(value: 1)
}

anomaly spike on sim.v {
  where device == "sim-3"
  at now + 10m for 5m
  magnitude 3
}

anomaly dropout on sim {
  where device == "sim-1"
  at now + 2h for 5m
}

anomaly dropout on sim {
  where device == "sim-2"
  at now + 59m
}
"#;

/// On a table only `generate` writes, `check` alone knows every series and
/// instant, and warns; `plan` draws each once and lists it.
#[test]
fn check_warns_about_anomalies_on_generated_tables_alone() {
    let run = Run::new("warn-generated").file("g.scenario", GENERATED);
    let (code, stdout, stderr) = run.again(&["check", "g.scenario"]).run();
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("2 warnings"), "{stdout}");
    assert_eq!(
        stderr.matches("outatime::anomaly::no_effect").count(),
        2,
        "{stderr}"
    );
    assert!(
        stderr.contains("matches no series of table `sim`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("outside every record of table `sim`"),
        "{stderr}"
    );
    assert!(stderr.contains("where device == \"sim-3\""), "{stderr}");
    assert!(stderr.contains("at now + 2h for 5m"), "{stderr}");
    let (code, _, _) = run.again(&["check", "g.scenario", "--deny-warnings"]).run();
    assert_eq!(code, 1);
    let (code, plan, stderr) = run.again(&["plan", "g.scenario"]).run();
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stderr.matches("outatime::anomaly::no_effect").count(),
        2,
        "{stderr}"
    );
    assert_eq!(
        plan.matches("code: outatime::anomaly::no_effect").count(),
        2,
        "{plan}"
    );
    assert!(
        plan.contains("line: 13\n") && plan.contains("line: 19\n"),
        "{plan}"
    );
}

/// A replay of `source` (its block's body given) into `t`, with `window`
/// or without, and the files it reads.
fn empty_source(name: &str, kind: &str, body: &str, window: &str) -> Run {
    let path = match kind {
        "csv" => "empty.csv",
        "jsonl" => "empty.jsonl",
        _ => "exp/Q_manifest.json",
    };
    Run::new(&format!("warn-empty-{name}"))
        .file(
            "s.scenario",
            format!(
                "scenario \"empty\"\nsource s {kind} \"{path}\" {{\n{body}}}\ntable t {{ name \"tbl\" }}\nreplay s into t {{\n{window}}}\n"
            ),
        )
        .file("empty.csv", "ts,device,v\n")
        .file("empty.jsonl", "")
        .file(
            "exp/Q_manifest.json",
            r#"{"query_metadata":{"result_format":"CSV"},"result_files":[]}"#,
        )
        .file(
            "exp/Q_metadata.json",
            r#"{"ColumnInfo":[{"Name":"device","Type":{"ScalarType":"VARCHAR"}},{"Name":"ts","Type":{"ScalarType":"TIMESTAMP"}},{"Name":"v","Type":{"ScalarType":"DOUBLE"}}]}"#,
        )
}

/// A source with no row (a CSV with only its header, an empty JSON lines
/// file, an UNLOAD manifest listing no result file) replays nothing: a
/// warning, with a `window` or without, so `--deny-warnings` fails and
/// nothing is written.
#[test]
fn an_empty_source_replays_nothing_and_says_so() {
    let body = "  time ts\n  dimensions device\n  measures v double\n";
    for (kind, window) in [
        ("csv", ""),
        ("csv", "  window 2024-03-12T00:00Z .. 2024-03-13T00:00Z\n"),
        ("jsonl", ""),
        ("unload", ""),
    ] {
        let run = empty_source(&format!("{kind}-{}", window.len()), kind, body, window);
        let (code, plan, stderr) = run.again(&["plan", "s.scenario"]).run();
        assert_eq!(code, 0, "{kind}: {stderr}");
        assert!(
            stderr.contains("outatime::source::no_rows"),
            "{kind}: {stderr}"
        );
        assert!(
            stderr.contains("this `replay` writes nothing: source `s` holds no row"),
            "{kind}: {stderr}"
        );
        // The source, not the window, is what holds nothing.
        assert!(
            !stderr.contains("outatime::window::no_rows"),
            "{kind}: {stderr}"
        );
        assert!(
            plan.contains("code: outatime::source::no_rows"),
            "{kind}: {plan}"
        );
        let (code, stdout, stderr) = run
            .again(&[
                "records",
                "s.scenario",
                "--deny-warnings",
                "--anchor",
                "2026-11-27T18:00:00Z",
            ])
            .run();
        assert_eq!(code, 1, "{kind}: {stderr}");
        assert!(stdout.is_empty(), "{kind}: {stdout}");
        assert!(
            stderr.contains("outatime::compile::denied_warnings"),
            "{kind}: {stderr}"
        );
        let (code, _, stderr) = run
            .again(&[
                "apply",
                "s.scenario",
                "--deny-warnings",
                "--anchor",
                "2026-11-27T18:00:00Z",
            ])
            .run();
        assert_eq!(code, 1, "{kind}: {stderr}");
        assert!(!run.dir.join("outatime-out").exists(), "{kind}");
    }
}
