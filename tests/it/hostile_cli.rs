//! The command line against what a hostile or careless user gives it
//! (issue 18): a stderr nobody reads, absurd numbers, outputs that cannot
//! be written, a 1 KB file that declares millions of series, a byte-order
//! mark, and a target whose names are not Timestream's. Each test failed
//! before its fix; none of them may see a panic (exit 101).

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common::Run;
use crate::fakes::influx;
use crate::fakes::strict::StrictEndpoint;

/// A process that panicked exits 101; the tests below never accept it.
const PANICKED: i32 = 101;

/// How often an apply logs its progress when stderr is not a terminal
/// (`cli/progress.rs`).
const PROGRESS_INTERVAL: Duration = Duration::from_secs(10);

/// Credentials the strict endpoint accepts, and no instance metadata.
const AWS: [(&str, &str); 3] = [
    ("AWS_ACCESS_KEY_ID", "test"),
    ("AWS_SECRET_ACCESS_KEY", "test"),
    ("AWS_EC2_METADATA_DISABLED", "true"),
];

/// `clean` holds the scenario's names to its target's rules, as `check
/// --target`, `apply` and `verify` do: a table `t` is too short for
/// Timestream and fine for InfluxDB.
#[test]
fn clean_holds_names_to_the_rules_of_its_targets_kind() {
    let endpoint = influx::InfluxEndpoint::start(influx::Config::default());
    let config = format!(
        "targets:\n  influx:\n    kind: influxdb\n    api: v2\n    url: {}\n    org: outatime\n    bucket: e2e\n    token_env: OUTATIME_TEST_INFLUX_TOKEN\n",
        endpoint.url()
    );
    let scenario = "scenario \"short names\"\ntable t\ngenerate into t {\n  series device = \"a1\"\n  from now - 5m to now every 1m\n  measure v double = constant(value: 1)\n}\n";
    let work = Run::new("clean-rules")
        .file("s.scenario", scenario)
        .file("outatime.yaml", config);
    let token = [("OUTATIME_TEST_INFLUX_TOKEN", influx::TOKEN)];
    let target = ["--target", "influx"];
    let (code, _, stderr) = work
        .again(&["apply", "s.scenario", "--create"])
        .args(&target)
        .run_with(&token);
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, stderr) = work
        .again(&["clean", "s.scenario", "--yes"])
        .args(&target)
        .run_with(&token);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("Timestream"), "{stderr}");
    assert!(stdout.contains("deleted 1 table(s)"), "{stdout}");
    let left: Vec<_> = endpoint
        .points("e2e")
        .into_iter()
        .filter(|p| p.measurement == "t")
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// A scenario whose `check` draws a warning for each of `n` anomalies
/// (each lies an hour before the records): `n` big enough makes more
/// stderr than a pipe holds.
fn many_warnings(n: usize) -> String {
    let mut text = String::from(
        "scenario \"warned\"\ntable tel\ngenerate into tel {\n  series device = \"d\"\n  from now - 1h to now every 1m\n  measure v double = constant(value: 1)\n}\n",
    );
    for i in 0..n {
        text.push_str(&format!(
            "anomaly spike on tel.v {{\n  at now - {}s for 1s\n  magnitude 1\n}}\n",
            7200 + i
        ));
    }
    text
}

/// Runs `outatime ARGS` in `run`'s folder with stderr a pipe whose reader
/// has already gone away (`2>&1 | head` that stopped reading): every write
/// to stderr fails with EPIPE, deterministically. Exit code and stdout.
fn run_with_stderr_gone(run: &Run, args: &[&str]) -> (i32, String) {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let output = run.again(args).command().stderr(writer).output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[test]
fn a_stderr_whose_reader_went_away_is_not_a_panic() {
    let run = Run::new("stderr-gone").file("w.scenario", many_warnings(300));
    const ANCHOR: &str = "2026-11-27T18:00:00Z";
    let cases: &[(&[&str], i32)] = &[
        // 300 warnings: far more than a pipe holds, all said on stderr.
        (&["check", "w.scenario"], 0),
        (&["check", "w.scenario", "--deny-warnings"], 1),
        (&["plan", "w.scenario"], 0),
        (&["records", "w.scenario", "--anchor", ANCHOR], 0),
        // Says which target, what it wrote, and that it is done.
        (&["apply", "w.scenario", "--anchor", ANCHOR], 0),
        (&["verify", "w.scenario", "--anchor", ANCHOR], 0),
        // A usage error said to nobody is still a usage error.
        (&["apply", "w.scenario", "--shard", "3/2"], 2),
        (&["check", "missing.scenario"], 2),
    ];
    for (args, expected) in cases {
        let (code, stdout) = run_with_stderr_gone(&run, args);
        assert_ne!(code, PANICKED, "{args:?}");
        assert_eq!(code, *expected, "{args:?}: {stdout}");
    }
    // What went to stdout is whole: the apply's records were written.
    let (_, stdout) = run_with_stderr_gone(&run, &["check", "w.scenario"]);
    assert!(stdout.starts_with("ok    w.scenario"), "{stdout}");
    assert!(run.dir.join("outatime-out/tel.jsonl").is_file());
}

/// An apply the engine drives logs how far it is every ten seconds when
/// stderr is not a terminal. One that runs longer than that, with stderr's
/// reader gone, exits as it would have and writes every record: it
/// panicked at its first progress line (`eprintln!` in the engine).
#[test]
fn a_long_apply_whose_stderr_reader_went_away_is_not_a_panic() {
    let endpoint = StrictEndpoint::start();
    let config = format!(
        "targets:\n  strict:\n    kind: timestream\n    region: us-east-1\n    database: db\n    endpoint_url: {}\n",
        endpoint.url()
    );
    let run = Run::new("stderr-gone-apply")
        .file("w.scenario", many_warnings(0))
        .file("outatime.yaml", config);
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    // Every write waits until the progress has been said at least once.
    endpoint.hold_writes();
    let started = Instant::now();
    let child = run
        .again(&["apply", "w.scenario", "--target", "strict", "--create"])
        .args(&["--request-timeout", "120"])
        .envs(AWS)
        .command()
        .stdout(Stdio::piped())
        .stderr(writer)
        .spawn()
        .unwrap();
    while endpoint.stats().write_requests == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no write arrived within a minute"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    // The writes began before the first arrived: past the interval now.
    std::thread::sleep(PROGRESS_INTERVAL + Duration::from_secs(1));
    endpoint.release_writes();
    let output = child.wait_with_output().unwrap();
    assert_ne!(output.status.code(), Some(PANICKED));
    assert_eq!(output.status.code(), Some(0));
    // One series, a record a minute for the hour before the anchor.
    assert_eq!(endpoint.stored("db", "tel").len(), 60);
}

#[test]
fn a_full_stderr_is_not_a_panic() {
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        crate::common::skip_unless_required("/dev/full");
        return;
    };
    let run = Run::new("stderr-full").file("w.scenario", many_warnings(3));
    let output = run
        .again(&["check", "w.scenario"])
        .command()
        .stderr(full)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
}

/// Targets the engine drives, which no test here contacts: the arguments
/// are refused before.
const UNREACHABLE_TARGETS: &str = "targets:\n  influx:\n    kind: influxdb\n    api: v1\n    url: http://127.0.0.1:9\n    database: x\n  ts:\n    kind: timestream\n    region: us-east-1\n    database: db\n    endpoint_url: http://127.0.0.1:9\n";

#[test]
fn a_request_timeout_too_long_for_a_duration_is_a_usage_error() {
    let run = Run::new("huge-timeout")
        .file("w.scenario", many_warnings(0))
        .file("outatime.yaml", UNREACHABLE_TARGETS);
    for target in ["influx", "ts"] {
        for timeout in ["1e20", "1e300", "3601"] {
            let args = [
                "apply",
                "w.scenario",
                "--target",
                target,
                "--request-timeout",
                timeout,
            ];
            let (code, stdout, stderr) = run.again(&args).run();
            assert_eq!(code, 2, "{args:?}: {stderr}");
            assert_eq!(stdout, "");
            assert!(
                stderr.contains("error: --request-timeout must be at most 3600 seconds (an hour)"),
                "{args:?}: {stderr}"
            );
        }
    }
    // An hour is still taken: the target is then asked, and does not answer.
    let args = [
        "apply",
        "w.scenario",
        "--target",
        "influx",
        "--request-timeout",
        "3600",
    ];
    let (code, _, stderr) = run.again(&args).run();
    assert_ne!(code, 2, "{stderr}");
    assert_ne!(code, PANICKED, "{stderr}");
}

/// Every output option naming a folder, or a file in a folder no file can
/// be made in, is refused before anything is read or written: exit 2, and
/// no records written.
#[test]
fn an_output_that_cannot_be_written_is_refused_before_the_first_write() {
    const ANCHOR: &str = "2026-11-27T18:00:00Z";
    let run = Run::new("unwritable-output")
        .file("s.scenario", many_warnings(0))
        .file("taken.svg/keep", "");
    // A plan for diff, made before: `plan` itself is one of the cases.
    let (code, _, stderr) = run
        .again(&["plan", "s.scenario", "-o", "s.plan.yaml"])
        .run();
    assert_eq!(code, 0, "{stderr}");
    // `.svg`, for `plot` to take the name as a picture's.
    let mut unwritable = vec!["taken.svg".to_string()];
    if std::path::Path::new("/proc/self").is_dir() {
        // A folder that exists and takes no new file, even for root.
        unwritable.push("/proc/r.svg".to_string());
    }
    for path in &unwritable {
        let cases: Vec<Vec<&str>> = vec![
            vec!["apply", "s.scenario", "--anchor", ANCHOR, "--report", path],
            vec!["verify", "s.scenario", "--anchor", ANCHOR, "--report", path],
            vec![
                "clean",
                "s.scenario",
                "--target",
                "nowhere",
                "--report",
                path,
            ],
            vec!["plot", "s.scenario", "-o", path],
            vec!["plan", "s.scenario", "-o", path],
            vec!["diff", "s.plan.yaml", "s.plan.yaml", "--full", path],
        ];
        for args in cases {
            let (code, stdout, stderr) = run.again(&args).run();
            assert_eq!(code, 2, "{args:?}: {stderr}");
            assert_eq!(stdout, "", "{args:?}");
            assert!(
                stderr.contains("cannot write --") && stderr.contains(path.as_str()),
                "{args:?}: {stderr}"
            );
            assert!(!run.dir.join("outatime-out").exists(), "{args:?}: {stderr}");
        }
    }
    let (_, _, stderr) = run
        .again(&[
            "apply",
            "s.scenario",
            "--anchor",
            ANCHOR,
            "--report",
            "taken.svg",
        ])
        .run();
    assert!(
        stderr.contains("error: cannot write --report `taken.svg`: it is a folder"),
        "{stderr}"
    );
    // Nothing was left in the folders that were tried.
    let left: Vec<_> = std::fs::read_dir(&run.dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains("probe"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_report_that_can_be_written_still_is() {
    const ANCHOR: &str = "2026-11-27T18:00:00Z";
    let run = Run::new("writable-report")
        .file("s.scenario", many_warnings(0))
        .file("old.json", "old");
    for report in ["new.json", "old.json"] {
        let args = [
            "apply",
            "s.scenario",
            "--anchor",
            ANCHOR,
            "--report",
            report,
        ];
        let (code, _, stderr) = run.again(&args).run();
        assert_eq!(code, 0, "{stderr}");
        let written = std::fs::read_to_string(run.dir.join(report)).unwrap();
        assert!(written.starts_with('{'), "{written}");
    }
}

#[test]
fn series_are_limited_for_the_whole_scenario_before_any_range_is_expanded() {
    let clause = |n: usize| format!("  series a = \"x{n}-{{0..59999}}\"\n");
    let scenario = |clauses: usize| {
        let mut text = String::from("scenario \"many series\"\ntable tel\ngenerate into tel {\n");
        for n in 0..clauses {
            text.push_str(&clause(n));
        }
        text.push_str(
            "  from now - 1m to now every 1m\n  measure v double = constant(value: 1)\n}\n",
        );
        text
    };
    // Two clauses of 60,000: each within a clause's limit, together past
    // the scenario's. Said at the second, which crosses it.
    let run = Run::new("series-limit").file("two.scenario", scenario(2));
    let (code, stdout, _) = run
        .again(&["check", "--format", "json", "two.scenario"])
        .run();
    assert_eq!(code, 1, "{stdout}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    assert!(lines[0].contains("\"line\":5,"), "{stdout}");
    assert!(
        lines[0].contains("outatime::generate::too_many_series"),
        "{stdout}"
    );
    assert!(
        lines[0].contains(
            "this clause brings the scenario to 120000 series; a scenario may declare up to 100000"
        ),
        "{stdout}"
    );
    // The 1 KB file of 30 such clauses (it took gigabytes): one
    // error, at the clause that crosses the limit, and no more.
    let run = run.file("thirty.scenario", scenario(30));
    let (code, stdout, _) = run
        .again(&["check", "--format", "json", "thirty.scenario"])
        .run();
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    let (code, _, stderr) = run.again(&["plan", "thirty.scenario"]).run();
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("generate::too_many_series"), "{stderr}");
}

#[test]
fn a_byte_order_mark_before_the_scenario_is_read_as_nothing_and_kept_by_fmt() {
    let canonical = "scenario \"bom\"\ntable tel\n\ngenerate into tel {\n  series device = \"d\"\n  from now - 5m to now every 1m\n  measure v double = constant(value: 1)\n}\n";
    let run = Run::new("bom")
        .file("bom.scenario", format!("\u{feff}{canonical}"))
        .file(
            "loose.scenario",
            format!("\u{feff}{}", canonical.replace("\n\n", "\n")),
        );
    let (code, stdout, stderr) = run.again(&["check", "bom.scenario"]).run();
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("ok    bom.scenario"), "{stdout}");
    let (code, _, stderr) = run.again(&["plan", "bom.scenario"]).run();
    assert_eq!(code, 0, "{stderr}");
    // fmt keeps the mark, as it keeps line endings.
    let (code, stdout, stderr) = run.again(&["fmt", "--check", "bom.scenario"]).run();
    assert_eq!(code, 0, "{stdout}{stderr}");
    let (code, _, stderr) = run.again(&["fmt", "loose.scenario"]).run();
    assert_eq!(code, 0, "{stderr}");
    let formatted = std::fs::read_to_string(run.dir.join("loose.scenario")).unwrap();
    assert_eq!(formatted, format!("\u{feff}{canonical}"));
    // A diagnostic on the first line counts columns after the mark.
    let run = run.file("typo.scenario", "\u{feff}scenari \"bom\"\n");
    let (code, stdout, _) = run
        .again(&["check", "--format", "json", "typo.scenario"])
        .run();
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("\"line\":1,\"column\":1,"), "{stdout}");
}

/// No `eprint!`, `eprintln!`, `print!` or `println!` outside tests: they
/// panic when the stream is closed or full. The command line writes
/// through `cli::output` (`say!`, `print`), and the layers below it hand
/// what they have to say up to it (the apply engine through the `Say` the
/// command line gives it).
#[test]
fn nothing_prints_with_a_macro_that_panics() {
    let mut found = Vec::new();
    for (file, text) in crate::common::crate_files() {
        for (n, line) in crate::common::before_unit_tests(&text).lines().enumerate() {
            let line = line.trim_start();
            if line.starts_with("//") {
                continue;
            }
            for mac in ["eprint!(", "eprintln!(", "print!(", "println!("] {
                // The macro itself, not the end of a longer name
                // (`eprint!(` holds `print!(`).
                let whole = line.find(mac).is_some_and(|i| {
                    !line[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_')
                });
                if whole {
                    found.push(format!("{file}:{}: {line}", n + 1));
                }
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}
