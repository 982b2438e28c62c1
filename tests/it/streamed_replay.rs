//! A replay too large for memory streams from sorted runs on disk, and
//! gives the same bytes as holding every row: the plan and the records of
//! every gallery scenario, every `tests/fixtures/ok` scenario and the
//! design's snippets, and a shuffled copy of a sorted source. The spill
//! folder is gone after success, after a bad row and after Ctrl-C.
//!
//! (The test command also runs the compiler's own test suites with
//! `OUTATIME_SPILL_ROWS=3`, the environment form of `--spill-rows`, so
//! every scenario they compile streams too.)

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use outatime::render::Style;
use outatime::{JsonLines, ReadOptions, SpillOptions};
use tempfile::TempDir;

use crate::common::{Run, scratch};

const ANCHOR: &str = "2026-11-28T12:00:00Z";

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// A fresh, empty folder for this test, removed when dropped; a `Path`
/// where one is asked for.
struct Folder(TempDir);

impl std::ops::Deref for Folder {
    type Target = Path;
    fn deref(&self) -> &Path {
        self.0.path()
    }
}

fn folder(name: &str) -> Folder {
    Folder(scratch(&format!("streamed-{name}")))
}

fn in_memory() -> ReadOptions {
    ReadOptions {
        spill: SpillOptions {
            in_memory: true,
            ..SpillOptions::default()
        },
        ..ReadOptions::default()
    }
}

/// Chunks of `rows` rows, spilled under `dir`.
fn spilling(dir: &Path, rows: usize) -> ReadOptions {
    ReadOptions {
        spill: SpillOptions {
            temp_dir: Some(Arc::from(dir)),
            chunk_rows: rows,
            in_memory: false,
        },
        ..ReadOptions::default()
    }
}

/// The plan (YAML) and the records at `ANCHOR` (JSON lines) of a scenario
/// compiled with `options`; an error's text instead when it fails.
fn compiled(scenario: &Path, options: ReadOptions) -> Result<(String, String), String> {
    let loaded = outatime::load(scenario, options, Style::PLAIN).map_err(|f| f.text)?;
    let plan = outatime::compile_plan(&loaded, scenario.parent().unwrap()).map_err(|f| f.text)?;
    let plan = outatime::to_yaml(&plan).map_err(|e| e.to_string())?;
    let anchor = outatime::parse_timestamp(ANCHOR).unwrap().0;
    let anchor = outatime::align(anchor, loaded.prepared.anchor_align);
    let mut sink = JsonLines::new(Vec::new(), &loaded.prepared.catalog);
    loaded
        .prepared
        .run(anchor, &mut sink)
        .map_err(|e| e.to_string())?;
    Ok((plan, String::from_utf8(sink.finish().unwrap()).unwrap()))
}

fn scenarios_in(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "scenario"))
        .collect();
    found.sort();
    found
}

fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn every_gallery_fixture_and_snippet_scenario_streams_to_the_same_bytes() {
    let spill_dir = folder("every");
    let mut scenarios = scenarios_in(&repo("scenarios"));
    scenarios.extend(scenarios_in(&repo("scenarios/snippets")));
    scenarios.extend(scenarios_in(&repo("tests/fixtures/ok")));
    assert!(scenarios.len() >= 25, "{scenarios:?}");
    let mut replays = 0;
    for scenario in &scenarios {
        let text = std::fs::read_to_string(scenario).unwrap();
        replays += usize::from(text.contains("replay "));
        let held = compiled(scenario, in_memory());
        // Chunks of 1, 2 and 5 rows: every replay spills, in order or not,
        // and one with more than 64 chunks merges in two passes.
        for rows in [1, 2, 5] {
            let streamed = compiled(scenario, spilling(&spill_dir, rows));
            assert!(
                held == streamed,
                "{} differs streamed in chunks of {rows} rows",
                scenario.display()
            );
        }
        assert_eq!(
            entries(&spill_dir),
            Vec::<String>::new(),
            "{}",
            scenario.display()
        );
    }
    assert!(replays >= 10, "too few scenarios replay: {replays}");
}

/// A sorted CSV of `series` devices every minute, and a shuffled copy.
fn sorted_and_shuffled(dir: &Path, series: usize, minutes: usize) -> (String, String) {
    let mut rows = Vec::new();
    for minute in 0..minutes {
        for device in 0..series {
            rows.push(format!(
                "2026-03-01T{:02}:{:02}:00Z,dev-{device},{}.{}",
                minute / 60,
                minute % 60,
                (minute * 7 + device * 3) % 50,
                device % 10
            ));
        }
    }
    let header = "ts,device,temp\n";
    let sorted = format!("{header}{}\n", rows.join("\n"));
    // A fixed permutation (an LCG's order), so that a failure reproduces.
    let mut keyed: Vec<(u64, &String)> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            (
                (i as u64).wrapping_mul(6364136223846793005).rotate_left(17),
                r,
            )
        })
        .collect();
    keyed.sort();
    let shuffled: Vec<&str> = keyed.iter().map(|(_, r)| r.as_str()).collect();
    let shuffled = format!("{header}{}\n", shuffled.join("\n"));
    std::fs::write(dir.join("sorted.csv"), &sorted).unwrap();
    std::fs::write(dir.join("shuffled.csv"), &shuffled).unwrap();
    (sorted, shuffled)
}

fn replay_of(file: &str) -> String {
    format!(
        r#"scenario "streamed"
seed 3
source s csv "{file}" {{
  time ts
  dimensions device
  measures temp double
}}
table t {{ name "e2e_streamed" }}
replay s into t {{
  shift end to now
}}
anomaly spike on t.temp {{
  at now - 3h for 10m
  magnitude 5
}}
anomaly dropout on t {{
  where device in ["dev-1", "dev-2"]
  at now - 40m for 30m
}}
"#
    )
}

#[test]
fn a_shuffled_copy_of_a_sorted_source_streams_to_the_sorted_source_records() {
    let dir = folder("shuffled");
    let spill_dir = folder("shuffled-spill");
    sorted_and_shuffled(&dir, 20, 600);
    std::fs::write(dir.join("sorted.scenario"), replay_of("sorted.csv")).unwrap();
    std::fs::write(dir.join("shuffled.scenario"), replay_of("shuffled.csv")).unwrap();
    let (sorted_plan, sorted_records) =
        compiled(&dir.join("sorted.scenario"), in_memory()).unwrap();
    let (_, shuffled_held) = compiled(&dir.join("shuffled.scenario"), in_memory()).unwrap();
    // 12,000 rows in chunks of 100: 120 runs, merged in two passes.
    let (shuffled_plan, shuffled_streamed) =
        compiled(&dir.join("shuffled.scenario"), spilling(&spill_dir, 100)).unwrap();
    assert_eq!(sorted_records.lines().count(), 12_000 - 2 * 30);
    assert!(
        shuffled_streamed == sorted_records,
        "shuffled streams differently"
    );
    assert!(shuffled_held == sorted_records);
    // The plans differ only in what names the file: its digest and path.
    let without_source = |plan: &str| -> Vec<String> {
        plan.lines()
            .filter(|l| !l.contains("sorted.csv") && !l.contains("shuffled.csv"))
            .filter(|l| !l.contains("digest"))
            .map(|l| l.replace("shuffled", "sorted"))
            .collect()
    };
    assert_eq!(without_source(&sorted_plan), without_source(&shuffled_plan));
    assert_eq!(entries(&spill_dir), Vec::<String>::new());
}

#[test]
fn an_extrapolation_learns_from_its_spilled_rows_the_same_bits() {
    let dir = folder("extrapolate");
    let spill_dir = folder("extrapolate-spill");
    sorted_and_shuffled(&dir, 20, 600);
    let scenario = |file: &str, model: &str| {
        format!(
            r#"scenario "learned from the spill"
seed 5
source s csv "{file}" {{
  time ts
  dimensions device
  measures temp double
}}
table t {{ name "e2e_learned" }}
extrapolate s.temp into t {{
  learn 2026-03-01T00:00Z .. 2026-03-01T10:00Z
  from now for 2h every 1m
  model {model}
}}
"#
        )
    };
    let models = [
        "seasonal(period: 1h) + trend + noise(sigma: 0.5)",
        "trend + mean",
        "seasonal(period: 7m) + last",
    ];
    for model in models {
        for file in ["sorted.csv", "shuffled.csv"] {
            std::fs::write(dir.join("x.scenario"), scenario(file, model)).unwrap();
            let held = compiled(&dir.join("x.scenario"), in_memory()).unwrap();
            // 12,000 learned rows in chunks of 500: the sorted file makes
            // one run, the shuffled one 24, and every pass reads them back.
            let streamed = compiled(&dir.join("x.scenario"), spilling(&spill_dir, 500)).unwrap();
            assert!(held == streamed, "{model} on {file}");
        }
    }
    // A series that cannot be fitted is the same error, naming it.
    std::fs::write(
        dir.join("one.csv"),
        "ts,device,temp\n2026-03-01T00:00:00Z,dev-0,1\n2026-03-01T00:01:00Z,dev-1,2\n2026-03-01T00:02:00Z,dev-1,3\n",
    )
    .unwrap();
    std::fs::write(dir.join("x.scenario"), scenario("one.csv", "trend")).unwrap();
    let held = compiled(&dir.join("x.scenario"), in_memory()).unwrap_err();
    let streamed = compiled(&dir.join("x.scenario"), spilling(&spill_dir, 1)).unwrap_err();
    assert!(held.contains(r#"{device="dev-0"}"#), "{held}");
    assert_eq!(held, streamed);
    assert_eq!(entries(&spill_dir), Vec::<String>::new());
}

/// `outatime ARGS` in `dir`, spilling every 50 rows under `spill`.
fn outatime(dir: &Path, spill: &Path, args: &[&str]) -> Command {
    Run::in_dir(dir)
        .args(args)
        .args_os(["--temp-dir".as_ref(), spill.as_os_str()])
        .args(&["--spill-rows", "50"])
        .command()
}

#[test]
fn spill_rows_are_a_positive_number_from_the_flag_or_the_environment() {
    let dir = folder("spill-rows");
    let spill = folder("spill-rows-spill");
    sorted_and_shuffled(&dir, 5, 100);
    std::fs::write(dir.join("ok.scenario"), replay_of("shuffled.csv")).unwrap();
    let records = ["records", "ok.scenario", "--anchor", ANCHOR];
    // The environment's number is used as the flag's: 50 rows spill.
    let spilled = folder("spill-rows-env");
    let by_env = Run::in_dir(&*dir)
        .args(&records)
        .args_os(["--temp-dir".as_ref(), spilled.as_os_str()])
        .env("OUTATIME_SPILL_ROWS", "50")
        .command()
        .output()
        .unwrap();
    let by_flag = outatime(&dir, &spill, &records).output().unwrap();
    assert_eq!(by_env.status.code(), Some(0));
    assert_eq!(by_env.stdout, by_flag.stdout);
    for (flag, env) in [(Some("0"), None), (None, Some("0")), (None, Some("many"))] {
        let mut run = Run::in_dir(&*dir).args(&records);
        if let Some(rows) = flag {
            run = run.args(&["--spill-rows", rows]);
        }
        if let Some(rows) = env {
            run = run.env("OUTATIME_SPILL_ROWS", rows);
        }
        let refused = run.command().output().unwrap();
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert_eq!(refused.status.code(), Some(2), "{flag:?} {env:?}: {stderr}");
        assert!(stderr.contains("--spill-rows"), "{stderr}");
        assert!(refused.stdout.is_empty());
    }
}

#[test]
fn the_spill_folder_is_removed_after_success_and_after_a_bad_row() {
    let dir = folder("cleanup");
    let spill = folder("cleanup-spill");
    sorted_and_shuffled(&dir, 5, 100);
    std::fs::write(dir.join("ok.scenario"), replay_of("shuffled.csv")).unwrap();
    let done = outatime(
        &dir,
        &spill,
        &["records", "ok.scenario", "--anchor", ANCHOR],
    )
    .output()
    .unwrap();
    assert_eq!(done.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&done.stdout).lines().count(),
        500 - 2 * 30
    );
    assert_eq!(entries(&spill), Vec::<String>::new());

    // A bad row after several chunks were spilled.
    let mut text = std::fs::read_to_string(dir.join("shuffled.csv")).unwrap();
    text.push_str("2026-03-01T09:00:00Z,dev-1,warm\n");
    std::fs::write(dir.join("bad.csv"), text).unwrap();
    std::fs::write(dir.join("bad.scenario"), replay_of("bad.csv")).unwrap();
    let failed = outatime(
        &dir,
        &spill,
        &["records", "bad.scenario", "--anchor", ANCHOR],
    )
    .output()
    .unwrap();
    assert_eq!(failed.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(stderr.contains("bad.csv:502"), "{stderr}");
    assert_eq!(entries(&spill), Vec::<String>::new());
}

#[test]
fn ctrl_c_while_a_replay_streams_removes_the_spill_folder() {
    let dir = folder("sigint");
    let spill = folder("sigint-spill");
    sorted_and_shuffled(&dir, 50, 600);
    std::fs::write(dir.join("big.scenario"), replay_of("shuffled.csv")).unwrap();
    // Nobody reads stdout: once the pipe is full the stream waits, with its
    // rows on disk.
    let mut child = outatime(
        &dir,
        &spill,
        &["records", "big.scenario", "--anchor", ANCHOR],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let spilled = loop {
        let made = entries(&spill);
        let runs = made
            .first()
            .map(|f| entries(&spill.join(f)))
            .unwrap_or_default();
        if runs.iter().any(|r| r.starts_with("merged")) || std::time::Instant::now() > deadline {
            break made;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert_eq!(
        spilled.len(),
        1,
        "the spill folder while it runs: {spilled:?}"
    );
    // Let the merge finish and the stream fill the pipe.
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(
        child.try_wait().unwrap(),
        None,
        "still running, blocked on stdout"
    );
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let ended = child.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        ended.signal(),
        Some(2),
        "ended by SIGINT, as without a handler"
    );
    assert_eq!(entries(&spill), Vec::<String>::new());
}

/// `command` starts by making, in `spill`, the folder another run with
/// its pid (in another PID namespace: a container sharing the temp dir)
/// would have made first: `outatime-spill-PID-0`, holding a file. The
/// name is the one outatime once gave its first spill folder.
fn after_a_run_with_the_same_pid(command: &mut Command, spill: &Path) {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::process::CommandExt;
    let parent = spill.as_os_str().as_bytes().to_vec();
    // SAFETY: between fork and exec only getpid, mkdir, open and close
    // run, on a path built in a buffer on the stack: nothing allocates.
    unsafe {
        command.pre_exec(move || {
            fn push(path: &mut [u8; 4096], len: &mut usize, bytes: &[u8]) {
                path[*len..*len + bytes.len()].copy_from_slice(bytes);
                *len += bytes.len();
            }
            let mut path = [0u8; 4096];
            let mut len = 0;
            push(&mut path, &mut len, &parent);
            push(&mut path, &mut len, b"/outatime-spill-");
            let mut digits = [0u8; 20];
            let mut pid = libc::getpid() as u64;
            let mut n = 0;
            loop {
                digits[19 - n] = b'0' + (pid % 10) as u8;
                n += 1;
                pid /= 10;
                if pid == 0 {
                    break;
                }
            }
            push(&mut path, &mut len, &digits[20 - n..]);
            push(&mut path, &mut len, b"-0\0");
            if libc::mkdir(path.as_ptr().cast(), 0o755) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            len -= 1;
            push(&mut path, &mut len, b"/live\0");
            let fd = libc::open(
                path.as_ptr().cast(),
                libc::O_CREAT | libc::O_EXCL | libc::O_WRONLY,
                0o644,
            );
            if fd < 0 {
                return Err(std::io::Error::last_os_error());
            }
            libc::close(fd);
            Ok(())
        });
    }
}

#[test]
fn runs_sharing_a_temp_dir_whose_pids_collide_both_succeed_and_keep_each_others_folder() {
    let dir = folder("collide");
    let spill = folder("collide-spill");
    sorted_and_shuffled(&dir, 5, 100);
    std::fs::write(dir.join("ok.scenario"), replay_of("shuffled.csv")).unwrap();
    // Two runs at once in one temp dir, each after a run with its pid.
    let children: Vec<_> = (0..2)
        .map(|_| {
            let mut command = outatime(
                &dir,
                &spill,
                &["records", "ok.scenario", "--anchor", ANCHOR],
            );
            after_a_run_with_the_same_pid(&mut command, &spill);
            command
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut planted = Vec::new();
    for child in children {
        let pid = child.id();
        let done = child.wait_with_output().unwrap();
        assert_eq!(
            done.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&done.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&done.stdout).lines().count(),
            500 - 2 * 30
        );
        planted.push(format!("outatime-spill-{pid}-0"));
    }
    // Each removed its own folder, and only its own.
    planted.sort();
    let mut left = entries(&spill);
    left.sort();
    assert_eq!(left, planted);
    for folder in &planted {
        assert_eq!(entries(&spill.join(folder)), vec!["live".to_string()]);
    }
}
