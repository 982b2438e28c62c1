//! `plan`, `records`, `labels` and `diff` through the real binary: their
//! outputs, exit codes and every error path.

use crate::common::Run;

const SCENARIO: &str = r#"scenario "cli"
seed 1
anchor align 1m

source m csv "m.csv" {
  time ts
  dimensions device
  measures v double
}

table lambda

replay m into lambda {
  shift end to now
}

generate into lambda {
  series device = "sim"
  from now for 10m every 1m
  measure v double = noise(sigma: 1)
}

anomaly spike on lambda.v {
  where device == "sim"
  at now + 2m for 3m
  magnitude 5
}
"#;

const DATA: &str = "ts,device,v\n2024-03-12T00:00:00Z,d1,1.5\n2024-03-12T00:01:00Z,d1,2.5\n2024-03-12T00:02:00Z,d1,3.5\n";

fn project(name: &str) -> Run {
    Run::new(name)
        .file("s.scenario", SCENARIO)
        .file("m.csv", DATA)
}

#[test]
fn plan_writes_yaml_to_stdout_or_a_file_and_is_stable() {
    let (code, stdout, stderr) = project("plan").args(&["plan", "s.scenario"]).run();
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("format: outatime-plan/1"), "{stdout}");
    assert!(stdout.contains("scenario_file: s.scenario"), "{stdout}");
    assert!(stdout.contains("records: 13"), "{stdout}");
    let run = project("plan-file").args(&["plan", "s.scenario", "-o", "plans/s.plan.yaml"]);
    std::fs::create_dir_all(run.dir.join("plans")).unwrap();
    assert_eq!(run.run().0, 0);
    let written = std::fs::read_to_string(run.dir.join("plans/s.plan.yaml")).unwrap();
    assert!(
        written.contains("scenario_file: ../s.scenario"),
        "{written}"
    );
    // Another TZ and locale change nothing.
    let (_, again, _) = project("plan-tz")
        .args(&["plan", "s.scenario"])
        .run_with(&[("TZ", "America/Los_Angeles"), ("LC_ALL", "de_DE.UTF-8")]);
    assert_eq!(stdout, again);
}

#[test]
fn plan_check_passes_on_a_current_plan_and_fails_with_a_diff_on_a_stale_one() {
    let run = project("check-plan").args(&["plan", "s.scenario", "-o", "s.plan.yaml"]);
    assert_eq!(run.run().0, 0);
    let check = project("check-plan-2");
    let plan = std::fs::read_to_string(run.dir.join("s.plan.yaml")).unwrap();
    let check =
        check
            .file("s.plan.yaml", &plan)
            .args(&["plan", "--check", "s.scenario", "s.plan.yaml"]);
    let (code, _, stderr) = check.run();
    assert_eq!(code, 0, "{stderr}");
    let stale = project("check-plan-3")
        .file("s.plan.yaml", &plan)
        .file(
            "s.scenario",
            SCENARIO.replace("from now for 10m", "from now for 20m"),
        )
        .args(&["plan", "--check", "s.scenario", "s.plan.yaml"]);
    let (code, _, stderr) = stale.run();
    assert_eq!(code, 1);
    assert!(stderr.contains("outatime::plan::stale"), "{stderr}");
    assert!(
        stderr.contains("scenario\n  ~ step generate into lambda\n      records: 10 → 20 (+10)\n"),
        "{stderr}"
    );
}

#[test]
fn records_prints_the_stream_for_an_anchor_as_jsonl_or_csv() {
    let (code, stdout, _) = project("records")
        .args(&["records", "s.scenario", "--anchor", "2026-11-27T18:00:30Z"])
        .run();
    assert_eq!(code, 0);
    let first = stdout.lines().next().unwrap();
    assert_eq!(
        first,
        r#"{"table":"lambda","time":"2026-11-27T17:57:00.000Z","dimensions":{"device":"d1"},"measures":{"v":1.5}}"#
    );
    assert_eq!(stdout.lines().count(), 13);
    let (code, csv, _) = project("records-csv")
        .args(&[
            "records",
            "s.scenario",
            "--anchor",
            "2026-11-27T18:00:00Z",
            "--format",
            "csv",
        ])
        .run();
    assert_eq!(code, 0);
    assert_eq!(csv.lines().next().unwrap(), "table,time,device,v");
    assert_eq!(
        csv.lines().nth(1).unwrap(),
        "lambda,2026-11-27T17:57:00.000Z,d1,1.5"
    );
}

#[test]
fn records_without_an_anchor_use_the_clock_and_say_so() {
    let (code, stdout, stderr) = project("records-now")
        .args(&["records", "s.scenario"])
        .run();
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("anchor: now = "), "{stderr}");
    assert!(
        stderr.contains(":00Z (the wall clock, rounded down"),
        "aligned to the minute: {stderr}"
    );
    assert_eq!(stdout.lines().count(), 13);
    let (code, _, stderr) = project("records-bad-anchor")
        .args(&["records", "s.scenario", "--anchor", "yesterday"])
        .run();
    assert_eq!(code, 2);
    assert!(
        stderr.contains("--anchor `yesterday` is not an RFC 3339 time"),
        "{stderr}"
    );
    // The reason is the literal's own: here, not "out of range".
    let (code, _, stderr) = project("records-offset-anchor")
        .args(&[
            "records",
            "s.scenario",
            "--anchor",
            "2026-11-27T18:00:00+05:00[Europe/Oslo]",
        ])
        .run();
    assert_eq!(code, 2);
    assert!(
        stderr.contains("offset +05:00 does not hold in Europe/Oslo then (it is +01:00)"),
        "{stderr}"
    );
}

#[test]
fn records_from_a_plan_refuse_when_a_source_or_the_stream_changed() {
    let run = project("from-plan").args(&["plan", "s.scenario", "-o", "s.plan.yaml"]);
    assert_eq!(run.run().0, 0);
    let plan = std::fs::read_to_string(run.dir.join("s.plan.yaml")).unwrap();
    let (code, from_plan, stderr) = project("from-plan-2")
        .file("s.plan.yaml", &plan)
        .args(&["records", "s.plan.yaml", "--anchor", "2026-11-27T18:00:00Z"])
        .run();
    assert_eq!(code, 0, "{stderr}");
    let (_, from_scenario, _) = project("from-plan-3")
        .args(&["records", "s.scenario", "--anchor", "2026-11-27T18:00:00Z"])
        .run();
    assert_eq!(from_plan, from_scenario);
    let (code, stdout, stderr) = project("from-plan-4")
        .file("s.plan.yaml", &plan)
        .file("m.csv", DATA.replace("3.5", "3.6"))
        .args(&["records", "s.plan.yaml", "--anchor", "2026-11-27T18:00:00Z"])
        .run();
    assert_eq!(code, 1);
    assert_eq!(stdout, "", "nothing is written");
    assert!(stderr.contains("source `m` (m.csv) changed"), "{stderr}");
    assert!(stderr.contains("the record stream differs"), "{stderr}");
}

#[test]
fn labels_give_concrete_utc_windows() {
    let (code, stdout, _) = project("labels")
        .args(&["labels", "s.scenario", "--anchor", "2026-11-27T18:00:00Z"])
        .run();
    assert_eq!(code, 0);
    let labels: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(labels.as_array().unwrap().len(), 1);
    assert_eq!(labels[0]["kind"], "spike");
    assert_eq!(labels[0]["from"], "2026-11-27T18:02:00.000Z");
    assert_eq!(labels[0]["to"], "2026-11-27T18:05:00.000Z");
    assert_eq!(labels[0]["series"]["device"], "sim");
}

#[test]
fn diff_says_what_changed_and_exits_1_only_when_something_did() {
    let a = project("diff-a").args(&["plan", "s.scenario", "-o", "a.yaml"]);
    assert_eq!(a.run().0, 0);
    let old = std::fs::read_to_string(a.dir.join("a.yaml")).unwrap();
    let b = project("diff-b")
        .file(
            "s.scenario",
            SCENARIO
                .replace("magnitude 5", "magnitude 7")
                .replace("at now + 2m", "at now + 4m"),
        )
        .args(&["plan", "s.scenario", "-o", "b.yaml"]);
    assert_eq!(b.run().0, 0);
    let new = std::fs::read_to_string(b.dir.join("b.yaml")).unwrap();
    let run = Run::new("diff").file("a.yaml", &old).file("b.yaml", &new);
    let (code, stdout, _) = run.args(&["diff", "a.yaml", "a.yaml"]).run();
    assert_eq!((code, stdout.as_str()), (0, "no changes\n"));
    let run = Run::new("diff-2").file("a.yaml", &old).file("b.yaml", &new);
    let (code, stdout, _) = run.args(&["diff", "a.yaml", "b.yaml"]).run();
    assert_eq!(code, 1);
    // The scenario's change first, then what it did to the series.
    assert!(
        stdout.starts_with(
            "scenario\n  ~ anomaly spike on lambda.v\n      kind: spike magnitude 5 → spike magnitude 7\n      window: now+2m .. now+5m → now+4m .. now+7m\n"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("series: 1 changed, 0 added, 0 removed (2 → 2 series)\n"),
        "{stdout}"
    );
    let run = Run::new("diff-3").file("a.yaml", &old).file("b.yaml", &new);
    let (_, markdown, _) = run
        .args(&["diff", "a.yaml", "b.yaml", "--format", "markdown"])
        .run();
    assert!(
        markdown.contains(
            "- `~` anomaly `spike on lambda.v`\n  - kind: `spike magnitude 5` → `spike magnitude 7`\n"
        ),
        "{markdown}"
    );
    let (code, _, stderr) = Run::new("diff-4")
        .file("x.yaml", "not: a plan\n")
        .args(&["diff", "x.yaml", "x.yaml"])
        .run();
    assert_eq!(code, 1);
    assert!(stderr.contains("outatime::plan::invalid"), "{stderr}");
}

#[test]
fn compile_errors_name_the_place_and_exit_1() {
    let (code, _, stderr) = project("bad-row")
        .file(
            "m.csv",
            "ts,device,v\n2024-03-12T00:00:00Z,d1,1.5\n2024-03-12T00:01:00Z,d1,warm\n",
        )
        .args(&["plan", "s.scenario"])
        .run();
    assert_eq!(code, 1);
    assert!(
        stderr.contains("error[outatime::data::bad_row]: source `m`:"),
        "{stderr}"
    );
    assert!(stderr.contains("m.csv:3, column `v`"), "{stderr}");
    assert!(stderr.contains("--max-bad-rows"), "{stderr}");
    let (code, stdout, _) = project("bad-row-skipped")
        .file(
            "m.csv",
            "ts,device,v\n2024-03-12T00:00:00Z,d1,1.5\n2024-03-12T00:01:00Z,d1,warm\n",
        )
        .args(&["plan", "s.scenario", "--max-bad-rows", "1"])
        .run();
    assert_eq!(code, 0);
    assert!(stdout.contains("bad_rows: 1"), "{stdout}");
    let (code, _, stderr) = project("invalid")
        .file("s.scenario", "scenario \"x\"\nseed -1\n")
        .args(&["plan", "s.scenario"])
        .run();
    assert_eq!(code, 1);
    assert!(stderr.contains("outatime::seed::out_of_range"), "{stderr}");
    let (code, _, stderr) = project("conflict")
        .file("s.scenario", format!("{SCENARIO}\ngenerate into lambda {{\n  series device = \"sim\"\n  from now for 1m every 1m\n  measure v double = constant(value: 1)\n}}\n"))
        .args(&["plan", "s.scenario"])
        .run();
    assert_eq!(code, 1);
    assert!(
        stderr.contains("the steps at lines 17 and 29 both write `v` of {device=\"sim\"} in table `lambda` at now,"),
        "{stderr}"
    );
    let (code, _, _) = project("missing").args(&["plan", "nope.scenario"]).run();
    assert_eq!(code, 2);
}

const REDACTED: &str = r#"scenario "redacted"
anchor align 1m

source fleet csv "fleet.csv" {
  time ts
  dimensions "device-id" as device_id, site
  measures temp double, "customer note" as note varchar
  redact "device-id", "customer note" salt env "TEST_FLEET_SALT"
}

table telemetry

replay fleet into telemetry {
  where device_id in ["fridge-7", "fridge-9"]
  shift end to now
}

anomaly spike on telemetry.temp {
  where device_id == "fridge-7"
  at now - 4m
  magnitude 5
}
"#;

const FLEET: &str = "ts,device-id,site,temp,customer note\n\
2024-03-12T00:00:00Z,fridge-7,oslo-1,4.5,acme corp\n\
2024-03-12T00:01:00Z,fridge-8,oslo-1,5.5,globex\n\
2024-03-12T00:02:00Z,fridge-9,oslo-1,6.5,initech\n\
2024-03-12T00:03:00Z,fridge-7,oslo-1,4.75,acme corp\n";

const SALT: &str = "s3cret-salt-for-tests";

#[test]
fn redacted_columns_never_reach_plan_records_or_labels_and_where_matches_originals() {
    let project = || {
        Run::new("redact")
            .file("s.scenario", REDACTED)
            .file("fleet.csv", FLEET)
    };
    let env = [("TEST_FLEET_SALT", SALT)];
    let anchor = "2024-06-01T00:00:00Z";
    let (code, plan, stderr) = project().args(&["plan", "s.scenario"]).run_with(&env);
    assert_eq!(code, 0, "{stderr}");
    let (code, records, stderr) = project()
        .args(&["records", "s.scenario", "--anchor", anchor])
        .run_with(&env);
    assert_eq!(code, 0, "{stderr}");
    let (code, labels, stderr) = project()
        .args(&["labels", "s.scenario", "--anchor", anchor])
        .run_with(&env);
    assert_eq!(code, 0, "{stderr}");
    for (what, text) in [("plan", &plan), ("records", &records), ("labels", &labels)] {
        for original in [
            "fridge-7",
            "fridge-8",
            "fridge-9",
            "acme corp",
            "globex",
            "initech",
            SALT,
        ] {
            assert!(
                !text.contains(original),
                "{what} holds `{original}`:\n{text}"
            );
        }
        assert!(text.contains("anon-"), "{what} has no pseudonym:\n{text}");
        // Only the dimension and the note are hidden.
        assert!(text.contains("oslo-1"), "{what}:\n{text}");
    }
    // The `where` on the original values kept fridge-7 (twice) and
    // fridge-9, not fridge-8: two series, three records.
    assert_eq!(records.lines().count(), 3, "{records}");
    assert!(plan.contains("where: device_id in [\"anon-"), "{plan}");
    let series: std::collections::BTreeSet<&str> = records
        .lines()
        .filter_map(|l| l.split("\"device_id\":\"").nth(1))
        .filter_map(|rest| rest.split('"').next())
        .collect();
    assert_eq!(series.len(), 2, "{records}");
    // The anomaly's `where` on the original fridge-7 found its series.
    assert!(labels.contains("anon-"), "{labels}");
    assert_ne!(labels.trim(), "[]", "{labels}");
    // The same key gives the same pseudonyms on every run.
    let (_, again, _) = project()
        .args(&["records", "s.scenario", "--anchor", anchor])
        .run_with(&env);
    assert_eq!(again, records);
}

#[test]
fn redaction_without_its_key_is_an_error_naming_the_variable() {
    let run = Run::new("redact-no-salt")
        .file("s.scenario", REDACTED)
        .file("fleet.csv", FLEET)
        .args(&["check", "s.scenario"]);
    let (code, _, stderr) = run.run();
    assert_eq!(code, 0, "check reads no key: {stderr}");
    let (code, stdout, stderr) = run.again(&["plan", "s.scenario"]).run();
    assert_ne!(code, 0);
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains("outatime::compile::redact_salt"),
        "{stderr}"
    );
    assert!(stderr.contains("export TEST_FLEET_SALT="), "{stderr}");
}

/// Two sources redact `device` under different keys and feed one table.
fn two_keys(name: &str, condition: &str) -> Run {
    let source = |name: &str, salt_env: &str| {
        format!(
            "source {name} csv \"{name}.csv\" {{\n  time ts\n  dimensions device\n  measures temp double\n  redact device salt env \"{salt_env}\"\n}}\n"
        )
    };
    let scenario = format!(
        "scenario \"two keys\"\nanchor align 1m\n{}{}table telemetry\nreplay a into telemetry {{\n  shift end to now\n}}\nreplay b into telemetry {{\n  shift end to now\n}}\nanomaly offset on telemetry.temp {{\n  where {condition}\n  at now - 10m for 20m\n  delta 100\n}}\n",
        source("a", "SALT_A"),
        source("b", "SALT_B"),
    );
    Run::new(&format!("redact-two-keys-{name}"))
        .file("s.scenario", scenario)
        .file(
            "a.csv",
            "ts,device,temp\n2024-03-12T00:00:00Z,fridge-7,1\n2024-03-12T00:00:00Z,fridge-8,2\n",
        )
        .file(
            "b.csv",
            "ts,device,temp\n2024-03-12T00:00:00Z,fridge-7,1\n2024-03-12T00:00:00Z,fridge-8,2\n",
        )
}

const TWO_SALTS: [(&str, &str); 2] = [("SALT_A", "first-key"), ("SALT_B", "second-key")];

#[test]
fn an_anomaly_where_on_a_dimension_two_keys_redact_matches_each_sources_pseudonym() {
    let run = two_keys("equals", "device == \"fridge-7\"");
    let (code, records, stderr) = run
        .again(&["records", "s.scenario", "--anchor", "2024-06-01T00:00:00Z"])
        .run_with(&TWO_SALTS);
    assert_eq!(code, 0, "{stderr}");
    let mut temps: Vec<f64> = records
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["measures"]["temp"].as_f64().unwrap()
        })
        .collect();
    temps.sort_by(f64::total_cmp);
    // fridge-7 of both sources moved by 100; fridge-8 of neither.
    assert_eq!(temps, [2.0, 2.0, 101.0, 101.0], "{records}");
    assert!(!records.contains("fridge"), "{records}");
    let (code, plan, stderr) = run.again(&["plan", "s.scenario"]).run_with(&TWO_SALTS);
    assert_eq!(code, 0, "{stderr}");
    // Labelled on both sources' fridge-7 series.
    assert_eq!(
        plan.matches("anomaly: offset on telemetry.temp").count(),
        2,
        "{plan}"
    );
    assert!(!plan.contains("fridge"), "{plan}");
}

#[test]
fn an_anomaly_not_equal_on_a_dimension_two_keys_redact_names_both_sources() {
    let run = two_keys("not-equals", "device != \"fridge-7\"");
    let (code, _, stderr) = run
        .again(&["records", "s.scenario", "--anchor", "2024-06-01T00:00:00Z"])
        .run_with(&TWO_SALTS);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("outatime::compile::redact_keys_differ"),
        "{stderr}"
    );
    assert!(stderr.contains("`a` and `b`"), "{stderr}");
    // One key for both: the same pseudonyms (the sources' equal records
    // fold into one), and `!=` is fine: only fridge-8 moves.
    let (code, records, stderr) = run
        .again(&["records", "s.scenario", "--anchor", "2024-06-01T00:00:00Z"])
        .run_with(&[("SALT_A", "one-key"), ("SALT_B", "one-key")]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(records.lines().count(), 2, "{records}");
    assert!(
        records.contains("\"temp\":1.0") || records.contains("\"temp\":1}"),
        "{records}"
    );
    assert!(records.contains("102"), "{records}");
}

/// The design example without its `window`: a whole-source window ends one
/// sampling interval after the last record, so the replay shifted `end to
/// now` stops one interval before `now` and the extrapolation `from now`
/// takes over there, without a seam (this used to be a conflict at `now`).
#[test]
fn a_windowless_replay_ending_at_now_meets_an_extrapolation_from_now() {
    let fleet = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/data/fleet.csv"
    ))
    .unwrap();
    let scenario = r#"scenario "seam"
seed 1

source fleet csv "fleet.csv" {
  time ts
  dimensions device_id, site
  measures temperature double, door_open boolean
}

table telemetry

replay fleet into telemetry { shift end to now }

extrapolate fleet.temperature into telemetry {
  learn 2024-03-06T00:00Z .. 2024-03-13T00:00Z
  from now for 6h every 1m
  model seasonal(period: 24h) + trend
}
"#;
    let run = Run::new("seam")
        .file("s.scenario", scenario)
        .file("fleet.csv", fleet)
        .args(&["records", "s.scenario", "--anchor", "2026-11-27T18:00:00Z"]);
    let (code, stdout, stderr) = run.run();
    assert_eq!(code, 0, "{stderr}");
    let fridge7: Vec<&str> = stdout.lines().filter(|l| l.contains("fridge-7")).collect();
    // The last recorded row (2024-03-12T23:45Z) lands one 15m interval
    // before now; the first extrapolated instant is now itself.
    let at = |time: &str| {
        fridge7
            .iter()
            .filter(|l| l.contains(&format!("\"time\":\"{time}\"")))
            .count()
    };
    assert_eq!(at("2026-11-27T17:45:00.000Z"), 1, "{stdout}");
    assert_eq!(at("2026-11-27T18:00:00.000Z"), 1, "{stdout}");
    let last_replayed = fridge7
        .iter()
        .rev()
        .find(|l| l.contains("door_open"))
        .unwrap();
    assert!(
        last_replayed.contains("2026-11-27T17:45:00.000Z"),
        "{last_replayed}"
    );
    let (code, _, stderr) = run.again(&["plan", "s.scenario"]).run();
    assert_eq!(code, 0, "{stderr}");
}

/// 200 generated series: 199 from one range clause, the last written out
/// with its own model, so one series' generator can change alone.
fn two_hundred_series(model: &str) -> String {
    format!(
        r#"scenario "at scale"
seed 3
anchor align 1m

table fleet {{ name "fleet" }}

generate into fleet {{
  series device = "sim-{{001..199}}", site = "lab"
  from now - 10m for 10m every 1m
  measure v double = sine(period: 1h, amplitude: 2, mean: 20) + noise(sigma: 0.2)
}}

generate into fleet {{
  series device = "sim-200", site = "lab"
  from now - 10m for 10m every 1m
  measure v double = {model}
}}
"#
    )
}

#[test]
fn a_plan_at_scale_lists_range_clauses_as_written_and_one_line_a_series() {
    let run = Run::new("scale-plan")
        .file("s.scenario", two_hundred_series("noise(sigma: 1)"))
        .args(&["plan", "s.scenario", "-o", "s.plan.yaml"]);
    let (code, _, stderr) = run.run();
    assert_eq!(code, 0, "{stderr}");
    let plan = std::fs::read_to_string(run.dir.join("s.plan.yaml")).unwrap();
    // The range clause as written, with its count; the explicit one as today.
    assert!(
        plan.contains(
            "  series_ranges:\n  - clause: device = \"sim-{001..199}\", site = \"lab\"\n    series: 199\n"
        ),
        "{plan}"
    );
    assert!(
        plan.contains("  series:\n  - device: sim-200\n    site: lab\n"),
        "{plan}"
    );
    assert!(!plan.contains("  - device: sim-001\n"), "{plan}");
    // 200 series (more than 100 in the table): one line each.
    let lines: Vec<&str> = plan.lines().filter(|l| l.starts_with("    - {")).collect();
    assert_eq!(lines.len(), 200, "{plan}");
    assert!(
        lines[0].starts_with(
            "    - {dimensions: {device: \"sim-001\", site: \"lab\"}, records: 10, first: \"now-10m\", last: \"now-1m\", measures: {v: {count: 10, min: "
        ),
        "{}",
        lines[0]
    );
    assert!(plan.lines().count() < 260, "{plan}");
    // The plan reads back: `plan --check` compares it with a fresh one.
    let (code, stdout, stderr) = run
        .again(&["plan", "--check", "s.scenario", "s.plan.yaml"])
        .run();
    assert_eq!(code, 0, "{stdout}{stderr}");
    // A change to one series' generator is a one-line change in the plan,
    // and `diff` names that series.
    let changed = Run::new("scale-plan-2")
        .file("s.scenario", two_hundred_series("noise(sigma: 3)"))
        .args(&["plan", "s.scenario", "-o", "b.yaml"]);
    assert_eq!(changed.run().0, 0);
    let new = std::fs::read_to_string(changed.dir.join("b.yaml")).unwrap();
    let series_lines = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| l.starts_with("    - {"))
            .map(str::to_string)
            .collect()
    };
    let moved: Vec<(String, String)> = series_lines(&plan)
        .into_iter()
        .zip(series_lines(&new))
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(moved.len(), 1, "{moved:?}");
    assert!(moved[0].0.contains("\"sim-200\""), "{moved:?}");
    let (code, stdout, stderr) = Run::new("scale-diff")
        .file("a.yaml", &plan)
        .file("b.yaml", &new)
        .args(&["diff", "a.yaml", "b.yaml"])
        .run();
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stdout.contains("  ~ fleet {device=\"sim-200\", site=\"lab\"}\n      v: mean "),
        "{stdout}"
    );
    assert!(!stdout.contains("sim-199"), "{stdout}");
    assert!(
        stdout.contains(
            "scenario\n  ~ step generate into fleet (#2)\n      models.v: double = noise(sigma: 1.0) → double = noise(sigma: 3.0)\n"
        ),
        "{stdout}"
    );
}

/// A scenario of one generated series whose model and anomaly are given.
fn one_series(name: &str, schedule: &str, model: &str, anomaly: &str) -> Run {
    Run::new(name).file(
        "s.scenario",
        format!(
            "scenario \"range\"\ntable t {{ name \"tbl\" }}\ngenerate into t {{\n  series device = \"d1\"\n  {schedule}\n  measure v double = {model}\n}}\n{anomaly}"
        ),
    )
}

/// Times past 2262 (or before 1677) stop `records` and `labels` with an
/// error naming the step and the time it reaches at the anchor: never one
/// record at 2262-04-11T23:47:16.854775807Z, never `[]`, never a conflict
/// of records folded onto that instant.
#[test]
fn times_past_2262_are_an_error_naming_the_step_and_the_instant() {
    for model in ["constant(value: 1)", "noise(sigma: 1)"] {
        let run = one_series(
            "range-late",
            "from now + 1095d for 1h every 1m",
            model,
            "anomaly spike on t.v {\n  at now + 1095d for 5m\n  magnitude 3\n}\n",
        );
        let (code, _, stderr) = run.again(&["check", "s.scenario"]).run();
        assert_eq!(code, 0, "{stderr}");
        for command in ["records", "labels"] {
            let (code, stdout, stderr) = run
                .again(&[command, "s.scenario", "--anchor", "2260-01-01T00:00:00Z"])
                .run();
            assert_eq!(code, 1, "{command}: {stderr}");
            assert!(stdout.is_empty(), "{command}: {stdout}");
            assert!(
                stderr.contains(
                    "error[outatime::compile::time_out_of_range]: the step at line 3 reaches a time outside the years 1678 to 2261: now+1095d at anchor 2260-01-01T00:00:00.000Z is 2262-12-31T00:00:00Z"
                ),
                "{command}: {stderr}"
            );
            assert!(!stderr.contains("conflict"), "{command}: {stderr}");
        }
        // At a nearer anchor, the same scenario writes its 60 records.
        let (code, stdout, stderr) = run
            .again(&["records", "s.scenario", "--anchor", "2026-01-01T00:00:00Z"])
            .run();
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(stdout.lines().count(), 60, "{stdout}");
    }
    // The low end.
    let (code, stdout, stderr) = one_series(
        "range-early",
        "from now - 1095d for 1h every 1m",
        "constant(value: 1)",
        "",
    )
    .args(&["records", "s.scenario", "--anchor", "1678-06-01T00:00:00Z"])
    .run();
    assert_eq!(code, 1, "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains("now-1095d at anchor 1678-06-01T00:00:00.000Z is 1675-06-02T00:00:00Z"),
        "{stderr}"
    );
}

/// An anomaly's window past the range is an error too, naming the anomaly.
#[test]
fn an_anomaly_past_2262_is_an_error_naming_it() {
    let (code, stdout, stderr) = one_series(
        "range-anomaly",
        "from now - 1h for 1h every 1m",
        "constant(value: 1)",
        "anomaly spike on t.v {\n  at now + 36135d for 5m\n  magnitude 3\n}\n",
    )
    .args(&["labels", "s.scenario", "--anchor", "2200-01-01T00:00:00Z"])
    .run();
    assert_eq!(code, 1, "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains("the anomaly at line 8 reaches a time outside the years 1678 to 2261: now+36135d at anchor 2200-01-01T00:00:00.000Z"),
        "{stderr}"
    );
}

/// `check` refuses what the scenario alone shows: a time relative to `now`
/// more than 100 years from it (`from now + 100000d` is 274 years), at the
/// schedule and at an anomaly, and the end a `for` reaches.
#[test]
fn check_refuses_a_time_a_century_or_more_from_now() {
    let (code, _, stderr) = one_series(
        "range-check",
        "from now + 100000d for 1h every 1m",
        "constant(value: 1)",
        "anomaly spike on t.v {\n  at now + 36500d for 30d\n  magnitude 3\n}\n",
    )
    .args(&["check", "s.scenario"])
    .run();
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("outatime::time::too_far_from_now"),
        "{stderr}"
    );
    assert!(
        stderr.contains("`now+100000d` is more than 100 years (36525d) from `now`"),
        "{stderr}"
    );
    // The anomaly starts inside the horizon and ends past it.
    assert!(
        stderr.contains("`now+36530d` is more than 100 years"),
        "{stderr}"
    );
    // A century is fine.
    let (code, _, stderr) = one_series(
        "range-century",
        "from now - 36525d for 1h every 1m",
        "constant(value: 1)",
        "",
    )
    .args(&["check", "s.scenario"])
    .run();
    assert_eq!(code, 0, "{stderr}");
}

/// A tiny `speed` stretches a replay's window past 2262: refused at
/// `check` when the window is written, and an error naming the step (not
/// a false `compile::conflict`) when the data gives the window.
#[test]
fn a_tiny_speed_is_refused_not_a_false_conflict() {
    let replay = |name: &str, window: &str| {
        Run::new(name)
            .file(
                "s.scenario",
                format!(
                    "scenario \"slow\"\nsource s csv \"d.csv\" {{\n  time ts\n  dimensions device\n  measures v double\n}}\ntable t {{ name \"tbl\" }}\nreplay s into t {{\n{window}  speed 1e-300\n}}\n"
                ),
            )
            .file(
                "d.csv",
                "ts,device,v\n2024-01-01T00:00:00Z,a,1\n2024-01-01T00:10:00Z,a,2\n2024-01-01T00:20:00Z,a,3\n",
            )
    };
    let (code, _, stderr) = replay(
        "slow-window",
        "  window 2024-01-01T00:00Z .. 2024-01-01T01:00Z\n",
    )
    .args(&["check", "s.scenario"])
    .run();
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("outatime::param::out_of_range"), "{stderr}");
    assert!(
        stderr.contains("`speed` is 1e-300, but it must be at least 1.96e-7"),
        "{stderr}"
    );
    let (code, stdout, stderr) = replay("slow-data", "")
        .args(&["records", "s.scenario", "--anchor", "2026-01-01T00:00:00Z"])
        .run();
    assert_eq!(code, 1, "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains("error[outatime::compile::time_out_of_range]: the step at line 8"),
        "{stderr}"
    );
    assert!(!stderr.contains("conflict"), "{stderr}");
}

/// A `ramp` over more centuries than i64 nanoseconds span stays between
/// its ends (its span was computed wrapped: ±8e20).
#[test]
fn a_ramp_over_centuries_stays_between_its_ends() {
    let (code, stdout, stderr) = one_series(
        "ramp-centuries",
        "from 1700-01-01T00:00Z to 2250-01-01T00:00Z every 10000d",
        "ramp(from: 0, to: 100)",
        "",
    )
    .args(&["records", "s.scenario", "--anchor", "2026-01-01T00:00:00Z"])
    .run();
    assert_eq!(code, 0, "{stderr}");
    let values: Vec<f64> = stdout
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["measures"]["v"].as_f64().unwrap()
        })
        .collect();
    assert_eq!(values.len(), 21, "{stdout}");
    assert_eq!(values[0], 0.0);
    assert!(
        values.iter().all(|v| (0.0..100.0).contains(v)),
        "{values:?}"
    );
    assert!(values.windows(2).all(|w| w[0] < w[1]), "{values:?}");
}

/// A value no target can hold never reaches one: a sum past the largest
/// double (`1e308 + 1e308`, written `null` before), a bigint sum past i64
/// (saturated before), an anomaly pushing a value past it. Each is an
/// error naming the step or anomaly, the series, the time and the
/// measure, before anything is written.
#[test]
fn a_value_past_its_type_is_an_error_naming_where_it_was_made() {
    let infinite = |name: &str, measure: &str, anomaly: &str| {
        Run::new(name).file(
            "s.scenario",
            format!(
                "scenario \"infinite\"\nanchor align 1m\ntable t {{ name \"tbl\" }}\ngenerate into t {{\n  series device = \"d1\"\n  from now - 3m to now every 1m\n  {measure}\n}}\n{anomaly}"
            ),
        )
    };
    let cases = [
        (
            "inf-double",
            "measure v double = constant(value: 1e308) + constant(value: 1e308)",
            "",
            "the step at line 4 computes `v` of {device=\"d1\"} in table `tbl` at now-3m (2026-01-01T23:57:00.000Z) as infinity, past the largest double",
        ),
        (
            "inf-bigint",
            "measure n bigint = constant(value: 9000000000000000000) + constant(value: 9000000000000000000)",
            "",
            "the step at line 4 computes `n` of {device=\"d1\"} in table `tbl` at now-3m (2026-01-01T23:57:00.000Z) as 1.8e19, past what a bigint holds",
        ),
        (
            "inf-spike",
            "measure v double = constant(value: 1e308)",
            "anomaly spike on t.v {\n  at now - 2m\n  magnitude 1e308\n}\n",
            "the anomaly at line 9 turns `v` of {device=\"d1\"} in table `tbl` at now-2m (2026-01-01T23:58:00.000Z) into infinity, past the largest double",
        ),
    ];
    for (name, measure, anomaly, message) in cases {
        let run = infinite(name, measure, anomaly);
        let (code, _, stderr) = run.again(&["check", "s.scenario"]).run();
        assert_eq!(code, 0, "{name}: {stderr}");
        let (code, stdout, stderr) = run
            .again(&["records", "s.scenario", "--anchor", "2026-01-02T00:00:00Z"])
            .run();
        assert_eq!(code, 1, "{name}: {stderr}");
        assert!(stdout.is_empty(), "{name}: {stdout}");
        assert!(
            stderr.contains("error[outatime::compile::value_out_of_range]"),
            "{name}: {stderr}"
        );
        assert!(stderr.contains(message), "{name}: {stderr}");
        // The file target gets nothing either: no `null`, no clipped bigint.
        let (code, _, stderr) = run
            .again(&["apply", "s.scenario", "--anchor", "2026-01-02T00:00:00Z"])
            .run();
        assert_eq!(code, 1, "{name}: {stderr}");
        assert!(!run.dir.join("outatime-out/tbl.jsonl").exists(), "{name}");
    }
}
