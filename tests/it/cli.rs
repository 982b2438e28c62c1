//! The real binary, end to end: exit codes, where output goes, JSON lines.

use std::path::Path;

use crate::common::Run;

const VALID: &str = "scenario \"ok\"\ntable tel\ngenerate into tel {\n  series d = \"a\"\n  from now to now + 1h every 1m\n  measure v double = noise(sigma: 1)\n}\n";

const INVALID: &str = "scenario \"bad\"\ntable tel\ngenerate into te {\n  series d = \"a\"\n  from now to now + 1h every 1m\n  measure v double = noise(sigma: 1)\n}\n";

#[test]
fn a_valid_file_exits_0_with_a_summary() {
    let (code, stdout, stderr) = Run::new("valid")
        .file("a.scenario", VALID)
        .args(&["check", "a.scenario"])
        .run();
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.starts_with("ok    a.scenario: \"ok\" (0 sources, 1 table, 1 step"),
        "{stdout}"
    );
    assert_eq!(stderr, "");
}

#[test]
fn an_invalid_file_exits_1_and_reports_on_stderr() {
    let (code, stdout, stderr) = Run::new("invalid")
        .file("b.scenario", INVALID)
        .args(&["check", "b.scenario"])
        .run();
    assert_eq!(code, 1);
    assert!(stdout.starts_with("error b.scenario: 1 error"), "{stdout}");
    assert!(stderr.contains("outatime::name::unknown"), "{stderr}");
    assert!(stderr.contains("did you mean `tel`?"), "{stderr}");
    assert!(
        stderr.contains("b.scenario:3:15"),
        "the report names the place: {stderr}"
    );
}

#[test]
fn one_invalid_file_among_valid_ones_exits_1_and_all_are_reported() {
    let (code, stdout, _) = Run::new("mixed")
        .file("a.scenario", VALID)
        .file("b.scenario", INVALID)
        .args(&["check", "a.scenario", "b.scenario"])
        .run();
    assert_eq!(code, 1);
    assert_eq!(stdout.lines().count(), 2, "{stdout}");
}

#[test]
fn warnings_alone_exit_0() {
    let text = format!("{VALID}table unused_table\n");
    let (code, _, stderr) = Run::new("warn")
        .file("w.scenario", text)
        .args(&["check", "w.scenario"])
        .run();
    assert_eq!(code, 0);
    assert!(
        stderr.contains("⚠ no step writes into table `unused_table`"),
        "{stderr}"
    );
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(Run::new("noargs").args(&["check"]).run().0, 2);
    assert_eq!(
        Run::new("badflag")
            .args(&["check", "--frobnicate", "x"])
            .run()
            .0,
        2
    );
    assert_eq!(Run::new("badcmd").args(&["chekc"]).run().0, 2);
    let (code, _, stderr) = Run::new("missing").args(&["check", "nope.scenario"]).run();
    assert_eq!(code, 2);
    assert!(stderr.contains("cannot read `nope.scenario`"), "{stderr}");
}

#[test]
fn help_lists_the_exit_codes() {
    let (code, stdout, _) = Run::new("help").args(&["check", "--help"]).run();
    assert_eq!(code, 0);
    assert!(stdout.contains("2  usage error"), "{stdout}");
}

#[test]
fn json_format_prints_one_object_per_diagnostic() {
    let text = "scenario \"j\"\ntable tel {\n  layot single\n}\nanomaly spike on tel.x { at now magnitude 1 }\n";
    let (code, stdout, stderr) = Run::new("json")
        .file("j.scenario", text)
        .args(&["check", "--format", "json", "j.scenario"])
        .run();
    assert_eq!(code, 1);
    assert_eq!(stderr, "");
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert_eq!(lines[0]["severity"], "warning");
    assert_eq!(lines[0]["code"], "outatime::table::unused");
    let first = &lines[1];
    assert_eq!(first["file"], "j.scenario");
    assert_eq!(first["line"], 3);
    assert_eq!(first["column"], 3);
    assert_eq!(first["end"]["line"], 3);
    assert_eq!(first["end"]["column"], 8);
    assert_eq!(first["severity"], "error");
    assert_eq!(first["code"], "outatime::clause::unknown");
    assert_eq!(first["message"], "unknown clause `layot` in `table`");
    assert_eq!(first["help"], "did you mean `layout`?");
}

#[test]
fn json_columns_count_characters_not_bytes() {
    let text = "scenario \"é\" seed x\n";
    let (_, stdout, _) = Run::new("json-utf8")
        .file("u.scenario", text)
        .args(&["check", "--format", "json", "u.scenario"])
        .run();
    let first: serde_json::Value = serde_json::from_str(stdout.lines().next().unwrap()).unwrap();
    // `seed` starts at character 14 (`é` is one character, two bytes).
    assert_eq!(first["column"], 14, "{stdout}");
}

#[test]
fn bytes_that_are_not_utf8_are_one_diagnostic() {
    let (code, _, stderr) = Run::new("utf8")
        .file("x.scenario", b"scenario \"ok\"\n# caf\xff\n".as_slice())
        .args(&["check", "x.scenario"])
        .run();
    assert_eq!(code, 1);
    assert!(stderr.contains("outatime::file::not_utf8"), "{stderr}");
    assert!(stderr.contains("x.scenario:2:6"), "{stderr}");
}

#[test]
fn source_paths_are_relative_to_the_scenario_file() {
    let text = "scenario \"s\"\nsource f csv \"data/f.csv\" {\n  time ts\n  measures v double\n}\n";
    let run = Run::new("relative")
        .file("sub/s.scenario", text)
        .file("sub/data/f.csv", "ts,v\n");
    let (code, _, stderr) = run.args(&["check", "sub/s.scenario"]).run();
    assert_eq!(code, 0, "{stderr}");
    let run = Run::new("relative-missing")
        .file("sub/s.scenario", text)
        .file("data/f.csv", "ts,v\n");
    let (code, _, stderr) = run.args(&["check", "sub/s.scenario"]).run();
    assert_eq!(code, 1);
    assert!(
        stderr.contains("source file `data/f.csv` does not exist"),
        "{stderr}"
    );
}

#[test]
fn explain_pictures_a_valid_scenario() {
    let (code, stdout, _) = Run::new("explain")
        .file("a.scenario", VALID)
        .args(&["check", "--explain", "a.scenario"])
        .run();
    assert_eq!(code, 0);
    assert!(
        stdout.contains("generate  now .. now+1h every 1m"),
        "{stdout}"
    );
    assert!(stdout.contains("timeline now .. now+1h"), "{stdout}");
}

#[test]
fn every_example_of_the_design_page_is_shipped_as_written() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let page = std::fs::read_to_string(root.join("docs/design.md")).unwrap();
    let mut shipped = String::new();
    for entry in ["freezer-door-oslo.scenario"]
        .iter()
        .map(|f| root.join("scenarios").join(f))
        .chain(
            std::fs::read_dir(root.join("scenarios/snippets"))
                .unwrap()
                .map(|e| e.unwrap().path()),
        )
    {
        if entry.extension().is_some_and(|e| e == "scenario") {
            shipped.push_str(&std::fs::read_to_string(entry).unwrap());
        }
    }
    let blocks: Vec<&str> = page.split("```").skip(1).step_by(2).collect();
    let mut checked = 0;
    for block in blocks {
        let body = block.strip_prefix('\n').unwrap_or(block);
        // The statement overview (placeholders) and the record-stream line are not examples.
        if body.contains("TITLE") || body.starts_with('{') {
            continue;
        }
        assert!(
            shipped.contains(body.trim_end()),
            "not shipped as written:\n{body}"
        );
        checked += 1;
    }
    assert!(checked >= 7, "found {checked} examples");
    let whole = page
        .split("## A whole scenario")
        .nth(1)
        .unwrap()
        .split("```")
        .nth(1)
        .unwrap();
    let shipped_whole =
        std::fs::read_to_string(root.join("scenarios/freezer-door-oslo.scenario")).unwrap();
    assert_eq!(whole.trim_start_matches('\n'), shipped_whole);
}

#[test]
fn every_shipped_scenario_passes_check() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![root.join("scenarios/freezer-door-oslo.scenario")];
    files.extend(
        std::fs::read_dir(root.join("scenarios/snippets"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "scenario")),
    );
    let output = Run::in_dir(root).args(&["check"]).args_os(files).output();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A scenario replaying a source with one bad row (line 3), and its plan,
/// made with `--max-bad-rows 1`: the plan pins `bad_rows: 1`.
fn planned_with_a_bad_row(name: &str) -> Run {
    let scenario = "scenario \"bad row\"\nsource m csv \"m.csv\" {\n  time ts\n  dimensions device\n  measures v double\n}\ntable tel\nreplay m into tel {\n  shift end to now\n}\n";
    let run = Run::new(name)
        .file("s.scenario", scenario)
        .file(
            "m.csv",
            "ts,device,v\n2024-03-12T00:00:00Z,d1,1.5\n2024-03-12T00:01:00Z,d1,warm\n2024-03-12T00:02:00Z,d1,3.5\n",
        )
        .args(&["plan", "s.scenario", "-o", "s.plan.yaml", "--max-bad-rows", "1"]);
    let (code, _, stderr) = run.run();
    assert_eq!(code, 0, "{stderr}");
    let plan = std::fs::read_to_string(run.dir.join("s.plan.yaml")).unwrap();
    assert!(plan.contains("bad_rows: 1"), "{plan}");
    run
}

#[test]
fn commands_given_a_plan_skip_the_bad_rows_it_pins() {
    let run = planned_with_a_bad_row("plan-bad-rows");
    const ANCHOR: &str = "2026-11-27T18:00:00Z";
    let (code, stdout, stderr) = run
        .again(&["records", "s.plan.yaml", "--anchor", ANCHOR])
        .run();
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.lines().count(), 2, "{stdout}");
    assert!(
        stderr.contains("skipped 1 bad row(s) (as the plan pins)"),
        "{stderr}"
    );
    let (code, stdout, stderr) = run
        .again(&["labels", "s.plan.yaml", "--anchor", ANCHOR])
        .run();
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "[]\n");
    let (code, _, stderr) = run
        .again(&["apply", "s.plan.yaml", "--anchor", ANCHOR])
        .run();
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = run
        .again(&["verify", "s.plan.yaml", "--anchor", ANCHOR])
        .run();
    assert_eq!(code, 0, "{stderr}");
    // A larger budget reads the same pinned file the same way.
    let (code, _, stderr) = run
        .again(&[
            "records",
            "s.plan.yaml",
            "--anchor",
            ANCHOR,
            "--max-bad-rows",
            "5",
        ])
        .run();
    assert_eq!(code, 0, "{stderr}");
    // A smaller one cannot read what the plan pins: said before reading.
    let (code, stdout, stderr) = run
        .again(&[
            "records",
            "s.plan.yaml",
            "--anchor",
            ANCHOR,
            "--max-bad-rows",
            "0",
        ])
        .run();
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(stdout, "");
    assert!(
        stderr.contains(
            "error: --max-bad-rows 0 is fewer than the 1 bad row(s) the plan pins for source `m`"
        ),
        "{stderr}"
    );
    // A scenario has no pinned budget: 0, as before.
    let (code, _, stderr) = run
        .again(&["records", "s.scenario", "--anchor", ANCHOR])
        .run();
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("outatime::data::bad_row"), "{stderr}");
}

/// Every command that reads sources checks its arguments first: given a
/// source whose second row is bad, a malformed argument is the error said
/// (exit 2), not the bad row.
#[test]
fn malformed_arguments_are_said_before_any_source_is_read() {
    let run = planned_with_a_bad_row("arguments-first");
    let cases: &[(&[&str], &str)] = &[
        (
            &["records", "s.scenario", "--anchor", "yesterday"],
            "error: --anchor `yesterday` is not an RFC 3339 time",
        ),
        (
            &["labels", "s.scenario", "--anchor", "2026-13-01T00:00:00Z"],
            "error: --anchor `2026-13-01T00:00:00Z` is not an RFC 3339 time",
        ),
        (
            &["verify", "s.scenario", "--anchor", "soon"],
            "error: --anchor `soon` is not an RFC 3339 time",
        ),
        (
            &["apply", "s.scenario", "--anchor", "soon"],
            "error: --anchor `soon` is not an RFC 3339 time",
        ),
        (&["apply", "s.scenario", "--shard", "3/2"], "error: --shard"),
        (
            &["apply", "s.scenario", "--report", "missing/r.json"],
            "error: cannot write --report `missing/r.json`: the folder `missing` does not exist",
        ),
        (
            &[
                "verify",
                "s.scenario",
                "--anchor",
                "2026-11-27T18:00:00Z",
                "--report",
                "missing/r.json",
            ],
            "error: cannot write --report `missing/r.json`: the folder `missing` does not exist",
        ),
        (
            &["plan", "s.scenario", "-o", "missing/s.plan.yaml"],
            "error: cannot write --output `missing/s.plan.yaml`: the folder `missing` does not exist",
        ),
        (
            &["plan", "--check", "s.scenario", "missing.plan.yaml"],
            "error: cannot read `missing.plan.yaml`",
        ),
    ];
    for (args, said) in cases {
        let (code, stdout, stderr) = run.again(args).run();
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert_eq!(stdout, "", "{args:?}");
        assert!(stderr.contains(said), "{args:?}: {stderr}");
        assert!(
            !stderr.contains("bad_row"),
            "{args:?}: the source was read first: {stderr}"
        );
    }
}

/// Runs `outatime ARGS` in `run`'s folder with stdout a pipe whose reader has already
/// gone away (`| head` that stopped reading): every write fails with
/// EPIPE, deterministically.
fn run_into_a_closed_pipe(run: &Run, args: &[&str]) -> (i32, String) {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let output = run.again(args).command().stdout(writer).output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    let run = planned_with_a_bad_row("closed-pipe");
    let other = run.dir.join("other.plan.yaml");
    let plan = std::fs::read_to_string(run.dir.join("s.plan.yaml")).unwrap();
    std::fs::write(&other, plan.replace("bad_rows: 1", "bad_rows: 2")).unwrap();
    const ANCHOR: &str = "2026-11-27T18:00:00Z";
    let cases: &[(&[&str], i32)] = &[
        // The plans differ: diff exits 1 as it would into a terminal.
        (&["diff", "s.plan.yaml", "other.plan.yaml"], 1),
        (&["diff", "s.plan.yaml", "s.plan.yaml"], 0),
        (&["plan", "s.scenario", "--max-bad-rows", "1"], 0),
        (&["labels", "s.plan.yaml", "--anchor", ANCHOR], 0),
        (&["records", "s.plan.yaml", "--anchor", ANCHOR], 0),
        (
            &["apply", "s.plan.yaml", "--anchor", ANCHOR, "--dry-run"],
            0,
        ),
        (&["apply", "s.plan.yaml", "--anchor", ANCHOR], 0),
        (&["verify", "s.plan.yaml", "--anchor", ANCHOR], 0),
        (&["check", "s.scenario"], 0),
    ];
    for (args, expected) in cases {
        let (code, stderr) = run_into_a_closed_pipe(&run, args);
        assert_eq!(code, *expected, "{args:?}: {stderr}");
        assert!(!stderr.contains("error"), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

/// Targets of every kind, for `check --target` (none is contacted).
const TARGETS: &str = "targets:\n  files:\n    kind: file\n    directory: out\n  influx:\n    kind: influxdb\n    api: v1\n    url: http://127.0.0.1:9\n    database: x\n  ts:\n    kind: timestream\n    region: us-east-1\n    database: db\n";

#[test]
fn check_holds_names_to_the_rules_of_the_target_it_is_told() {
    // A table name Timestream refuses (under 3 characters) and a tag key
    // InfluxDB refuses (it reserves a leading `_`).
    let short_table = VALID
        .replace("table tel", "table t")
        .replace("into tel", "into t");
    let underscore = VALID.replace("series d = ", "series _d = ");
    let run = Run::new("check-target")
        .file("short.scenario", &short_table)
        .file("underscore.scenario", &underscore)
        .file("outatime.yaml", TARGETS);
    let check = |file: &str, target: Option<&str>| {
        let mut args = vec!["check", file];
        if let Some(target) = target {
            args.extend(["--target", target]);
        }
        run.again(&args).run()
    };
    // Timestream's rules by default, and for a Timestream target.
    for target in [None, Some("ts")] {
        let (code, _, stderr) = check("short.scenario", target);
        assert_eq!(code, 1, "{target:?}: {stderr}");
        assert!(
            stderr.contains("table name `t` is refused by Timestream"),
            "{stderr}"
        );
        assert_eq!(check("underscore.scenario", target).0, 0);
    }
    // A file target: a table name is a file name, `t` is one.
    let (code, _, stderr) = check("short.scenario", Some("files"));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(check("underscore.scenario", Some("files")).0, 0);
    // InfluxDB: `t` is a measurement, `_d` a reserved tag key.
    assert_eq!(check("short.scenario", Some("influx")).0, 0);
    let (code, _, stderr) = check("underscore.scenario", Some("influx"));
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("dimension name `_d` is refused by InfluxDB"),
        "{stderr}"
    );
    // A target the configuration does not name; a configuration missing.
    let (code, _, stderr) = check("short.scenario", Some("nope"));
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("no target named `nope`"), "{stderr}");
    let (code, _, stderr) = run
        .again(&[
            "check",
            "short.scenario",
            "--target",
            "ts",
            "--config",
            "gone.yaml",
        ])
        .run();
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("cannot read `gone.yaml`"), "{stderr}");
}

#[test]
fn apply_and_verify_hold_names_to_their_targets_rules() {
    let short_table = VALID
        .replace("table tel", "table t")
        .replace("into tel", "into t");
    let underscore = VALID.replace("series d = ", "series _d = ");
    let run = Run::new("apply-target-rules")
        .file("short.scenario", &short_table)
        .file("underscore.scenario", &underscore)
        .file("outatime.yaml", TARGETS);
    const ANCHOR: &str = "2026-11-27T18:00:00Z";
    // The embedded file target takes a table named `t` (in t.jsonl).
    let (code, _, stderr) = run
        .again(&["apply", "short.scenario", "--anchor", ANCHOR])
        .run();
    assert_eq!(code, 0, "{stderr}");
    assert!(run.dir.join("outatime-out/t.jsonl").exists());
    let (code, _, stderr) = run
        .again(&["verify", "short.scenario", "--anchor", ANCHOR])
        .run();
    assert_eq!(code, 0, "{stderr}");
    // InfluxDB refuses `_d` when the scenario is checked, before the
    // target is contacted (nothing listens on port 9).
    let (code, _, stderr) = run
        .again(&[
            "apply",
            "underscore.scenario",
            "--target",
            "influx",
            "--anchor",
            ANCHOR,
        ])
        .run();
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("dimension name `_d` is refused by InfluxDB"),
        "{stderr}"
    );
    // What records and plan hold to is still Timestream's.
    let (code, _, stderr) = run
        .again(&["records", "short.scenario", "--anchor", ANCHOR])
        .run();
    assert_eq!(code, 1, "{stderr}");
}
