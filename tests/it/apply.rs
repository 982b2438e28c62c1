//! `apply` to the embedded default target, through the binary.

use crate::common::Run;

const SCENARIO: &str = "scenario \"apply\"\ntable alpha\ntable bravo { name \"e2e_bravo\" }\ngenerate into alpha {\n  series d = \"x\"\n  from now - 10m to now every 1m\n  measure v double = noise(sigma: 1)\n}\ngenerate into bravo {\n  series d = \"y\"\n  from now to now + 5m every 1m\n  measure w bigint = constant(value: 3)\n}\n";

#[test]
fn apply_writes_one_jsonl_file_a_table_equal_to_records_and_a_report() {
    let run = Run::new("apply").file("s.scenario", SCENARIO).args(&[
        "apply",
        "s.scenario",
        "--anchor",
        "2026-11-27T18:00:00Z",
        "--report",
        "report.json",
    ]);
    let (code, _, stderr) = run.run();
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("the embedded default, JSON lines in ./outatime-out/"),
        "{stderr}"
    );
    let alpha = std::fs::read_to_string(run.dir.join("outatime-out/alpha.jsonl")).unwrap();
    let bravo = std::fs::read_to_string(run.dir.join("outatime-out/e2e_bravo.jsonl")).unwrap();
    assert_eq!(alpha.lines().count(), 10);
    assert_eq!(bravo.lines().count(), 5);
    let records = Run::new("apply-records")
        .file("s.scenario", SCENARIO)
        .args(&["records", "s.scenario", "--anchor", "2026-11-27T18:00:00Z"])
        .run()
        .1;
    assert_eq!(format!("{alpha}{bravo}"), records);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.dir.join("report.json")).unwrap())
            .unwrap();
    assert_eq!(report["records"], 15);
    assert_eq!(report["anchor"], "2026-11-27T18:00:00.000Z");
    assert_eq!(report["tables"]["e2e_bravo"]["records"], 5);
    // The plan's stream digest: which records these are.
    let plan = Run::new("apply-plan")
        .file("s.scenario", SCENARIO)
        .args(&["plan", "s.scenario"])
        .run()
        .1;
    let pinned = plan
        .lines()
        .find_map(|l| l.strip_prefix("stream_digest: "))
        .unwrap();
    assert_eq!(report["stream_digest"], pinned);
    // Applying again at the same anchor gives the same files.
    assert_eq!(run.run().0, 0);
    assert_eq!(
        std::fs::read_to_string(run.dir.join("outatime-out/alpha.jsonl")).unwrap(),
        alpha
    );
    // A table that gets no records keeps no stale file.
    let without_bravo = SCENARIO
        .replace("generate into bravo", "generate into alpha")
        .replace("d = \"y\"", "d = \"y2\"")
        .replace("measure w bigint", "measure w2 bigint");
    let run = run.file("s.scenario", &without_bravo);
    let (code, _, stderr) = run.run();
    assert_eq!(code, 0, "{stderr}");
    assert!(!run.dir.join("outatime-out/e2e_bravo.jsonl").exists());
    assert_eq!(
        std::fs::read_to_string(run.dir.join("outatime-out/alpha.jsonl"))
            .unwrap()
            .lines()
            .count(),
        15
    );
}

#[test]
fn a_failed_apply_puts_nothing_in_place() {
    let conflict = format!(
        "{SCENARIO}generate into bravo {{\n  series d = \"y\"\n  from now to now + 1m every 1m\n  measure w bigint = constant(value: 4)\n}}\n"
    );
    let run = Run::new("apply-fail").file("s.scenario", &conflict).args(&[
        "apply",
        "s.scenario",
        "--anchor",
        "2026-11-27T18:00:00Z",
    ]);
    let (code, _, stderr) = run.run();
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("outatime::compile::conflict"), "{stderr}");
    let left: Vec<_> = std::fs::read_dir(run.dir.join("outatime-out"))
        .map(|d| d.collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "no file, partial or complete: {left:?}");
}

#[test]
fn a_target_that_cannot_be_written_exits_3() {
    let run = Run::new("apply-blocked")
        .file("s.scenario", SCENARIO)
        .file("outatime-out", "a file where the folder should be")
        .args(&["apply", "s.scenario", "--anchor", "2026-11-27T18:00:00Z"]);
    let (code, _, stderr) = run.run();
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("outatime::target::file"), "{stderr}");
}

#[test]
fn a_file_that_cannot_be_written_mid_run_exits_3_and_leaves_no_partial() {
    use std::os::unix::process::CommandExt;
    let run = Run::new("apply-blocked-file")
        .file("s.scenario", SCENARIO)
        .args(&["apply", "s.scenario", "--anchor", "2026-11-27T18:00:00Z"]);
    // Files may not grow past 100 bytes (the first table's file holds
    // more), and the write that would is refused (EFBIG), as on a full
    // disk, instead of ending the process.
    let mut command = run.command();
    // SAFETY: setrlimit and signal are async-signal-safe and allocate
    // nothing.
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 100,
                rlim_max: 100,
            };
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let done = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&done.stderr);
    assert_eq!(done.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("outatime::target::file"), "{stderr}");
    assert!(stderr.contains("File too large"), "{stderr}");
    let left: Vec<_> = std::fs::read_dir(run.dir.join("outatime-out"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "no file, partial or complete: {left:?}");
}

#[test]
fn a_named_file_target_from_outatime_yaml_with_env_expansion() {
    let config = "targets:\n  local:\n    kind: file\n    directory: runs/${OUTATIME_TEST_RUN}\n";
    let run = Run::new("apply-named")
        .file("s.scenario", SCENARIO)
        .file("outatime.yaml", config)
        .args(&[
            "apply",
            "s.scenario",
            "--target",
            "local",
            "--anchor",
            "2026-11-27T18:00:00Z",
        ]);
    let (code, _, stderr) = run.run_with(&[("OUTATIME_TEST_RUN", "17")]);
    assert_eq!(code, 0, "{stderr}");
    assert!(run.dir.join("runs/17/alpha.jsonl").exists());
    let (code, _, stderr) = run.run();
    assert_eq!(code, 1);
    assert!(
        stderr.contains("outatime::config::unset_variable"),
        "{stderr}"
    );
    let run = Run::new("apply-named-missing")
        .file("s.scenario", SCENARIO)
        .args(&["apply", "s.scenario", "--target", "local"]);
    let (code, _, stderr) = run.run();
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("cannot read `outatime.yaml`"), "{stderr}");
    // A Timestream target nobody answers (a closed port on loopback): the
    // apply retries, then fails as a target failure. (Without an
    // endpoint_url the SDK would go to AWS: tests never do.)
    let timestream = "targets:\n  e2e:\n    kind: timestream\n    region: eu-west-1\n    database: e2e\n    endpoint_url: http://127.0.0.1:9\n";
    let run = Run::new("apply-named-ts")
        .file("s.scenario", SCENARIO)
        .file("outatime.yaml", timestream)
        .args(&[
            "apply",
            "s.scenario",
            "--target",
            "e2e",
            "--anchor",
            "2026-11-27T18:00:00Z",
        ]);
    let (code, _, stderr) = run.run_with(&[
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
    ]);
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("outatime::target::timestream"), "{stderr}");
}

#[test]
fn shards_sharing_a_folder_write_their_own_files_which_together_are_the_records() {
    let mut scenario = String::from("scenario \"shards\"\ntable alpha\ngenerate into alpha {\n");
    for i in 0..24 {
        scenario.push_str(&format!("  series d = \"s{i}\"\n"));
    }
    scenario.push_str("  from now - 5m to now every 1m\n  measure v double = noise(sigma: 1)\n}\n");
    let anchor = "2026-11-27T18:00:00Z";
    let mut lines = Vec::new();
    let folder = Run::new("apply-shards").file("s.scenario", &scenario);
    for k in 1..=3 {
        let shard = format!("{k}/3");
        let run = folder.again(&["apply", "s.scenario", "--anchor", anchor, "--shard", &shard]);
        let (code, _, stderr) = run.run();
        assert_eq!(code, 0, "{stderr}");
    }
    let dir = &folder.dir;
    for k in 1..=3 {
        let file = dir.join(format!("outatime-out/alpha.shard-{k}-of-3.jsonl"));
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.lines().count() > 0, "shard {k} is empty");
        lines.extend(text.lines().map(str::to_string));
    }
    assert!(!dir.join("outatime-out/alpha.jsonl").exists());
    let records = Run::new("apply-shards-records")
        .file("s.scenario", &scenario)
        .args(&["records", "s.scenario", "--anchor", anchor])
        .run()
        .1;
    let mut expected: Vec<String> = records.lines().map(str::to_string).collect();
    lines.sort();
    expected.sort();
    assert_eq!(lines, expected, "every record exactly once");
}

#[test]
fn timestream_flags_with_a_file_target_are_usage_errors() {
    // (what the error names, the arguments)
    let cases: [(&str, &[&str]); 5] = [
        ("--concurrency", &["--concurrency", "4"]),
        ("--create", &["--create"]),
        ("--on-reject", &["--on-reject", "continue"]),
        ("--pace live", &["--pace", "live"]),
        ("--resume", &["--resume"]),
    ];
    for (named, flags) in cases {
        let run = Run::new("apply-flags")
            .file("s.scenario", SCENARIO)
            .args(&["apply", "s.scenario"])
            .args(flags);
        let (code, _, stderr) = run.run();
        assert_eq!(code, 2, "{flags:?}: {stderr}");
        assert!(
            stderr.contains(&format!("{named} is for Timestream targets")),
            "{flags:?}: {stderr}"
        );
        assert!(
            !run.dir.join("outatime-out").exists(),
            "{flags:?} wrote files"
        );
    }
}

/// A file target sends no write requests: its report has no `batches`,
/// instead of a `batches: 0` that reads as "nothing was written".
#[test]
fn a_file_targets_report_says_what_it_wrote_and_no_batches() {
    let run = Run::new("apply-report-batches")
        .file("s.scenario", SCENARIO)
        .args(&[
            "apply",
            "s.scenario",
            "--anchor",
            "2026-11-27T18:00:00Z",
            "--report",
            "report.json",
        ]);
    let (code, _, stderr) = run.run();
    assert_eq!(code, 0, "{stderr}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.dir.join("report.json")).unwrap())
            .unwrap();
    assert_eq!(report["records"], 15);
    assert!(report.get("batches").is_none(), "{report}");
    for (table, records, file) in [
        ("alpha", 10, "outatime-out/alpha.jsonl"),
        ("e2e_bravo", 5, "outatime-out/e2e_bravo.jsonl"),
    ] {
        let t = &report["tables"][table];
        assert_eq!(t["records"], records, "{report}");
        assert_eq!(t["file"], file, "{report}");
        assert!(t.get("batches").is_none(), "{report}");
    }
}
