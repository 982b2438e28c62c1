//! Every file outatime writes for the user is made one way
//! (src/output_file.rs): under a temporary name of its own beside the
//! destination, created exclusively, then renamed over the final name. So
//! a symbolic link planted in the output folder, at a temporary name or at
//! the final one, is never written through, and a process killed while it
//! writes leaves the final name as it was. Here for each kind of output:
//! the file target, `--report`, `plan -o`, `plot -o`, `diff --full` and
//! `diff --plot -o` (capture's CSV is in capture.rs, spill folders in
//! streamed_replay.rs). And no file in `src/` creates an output file any
//! other way.

use std::os::unix::fs::symlink;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};

use crate::common::Run;

const ANCHOR: &str = "2026-12-07T20:00:00Z";

/// Two tables, a few records each.
const SCENARIO: &str = "scenario \"outputs\"\ntable telemetry\ntable door { name \"e2e_door\" }\ngenerate into telemetry {\n  series d = \"x\"\n  from now - 10m to now every 1m\n  measure v double = noise(sigma: 1)\n}\ngenerate into door {\n  series d = \"y\"\n  from now to now + 5m every 1m\n  measure open boolean = bernoulli(p: 0.5)\n}\n";

/// What a victim holds before and, if nothing wrote through a link, after.
const PRECIOUS: &str = "precious: not outatime's to write\n";

/// A file outside the output folder that a planted link points at.
fn victim(run: &Run, name: &str) -> PathBuf {
    let path = run.dir.join("elsewhere").join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, PRECIOUS).unwrap();
    path
}

/// Links at `names` (relative to the run's folder), each to a victim of
/// its own; the victims.
fn plant(run: &Run, names: &[&str]) -> Vec<PathBuf> {
    names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let victim = victim(run, &format!("victim-{i}.txt"));
            let link = run.dir.join(name);
            std::fs::create_dir_all(link.parent().unwrap()).unwrap();
            symlink(&victim, &link).unwrap();
            victim
        })
        .collect()
}

/// The links a hostile folder would plant for the output `file`: the
/// temporary names outatime once used (`.FILE.partial`, `FILE.partial`)
/// and the final name itself.
fn links_for(file: &str) -> Vec<String> {
    let path = Path::new(file);
    let name = path.file_name().unwrap().to_string_lossy();
    let folder = path.parent().unwrap_or(Path::new(""));
    vec![
        folder
            .join(format!(".{name}.partial"))
            .display()
            .to_string(),
        folder.join(format!("{name}.partial")).display().to_string(),
        file.to_string(),
    ]
}

#[track_caller]
fn assert_untouched(victims: &[PathBuf]) {
    for victim in victims {
        assert_eq!(
            std::fs::read_to_string(victim).unwrap(),
            PRECIOUS,
            "{} was written through a link",
            victim.display()
        );
    }
}

/// The file at `path` is a regular file (not a link), and its text.
#[track_caller]
fn regular(path: &Path) -> String {
    let meta = std::fs::symlink_metadata(path).unwrap();
    assert!(
        meta.file_type().is_file(),
        "{} is not a regular file: {:?}",
        path.display(),
        meta.file_type()
    );
    std::fs::read_to_string(path).unwrap()
}

/// The names in `folder` that are neither of the links planted nor the
/// outputs expected: temporary files left behind.
fn leftovers(folder: &Path) -> Vec<String> {
    std::fs::read_dir(folder)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".partial") && !is_link(&folder.join(name)))
        .collect()
}

fn is_link(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

fn sorted(text: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = text.lines().collect();
    lines.sort();
    lines
}

fn records(run: &Run) -> String {
    let (code, stdout, stderr) = run
        .again(&["records", "s.scenario", "--anchor", ANCHOR])
        .run();
    assert_eq!(code, 0, "{stderr}");
    stdout
}

#[test]
fn the_readmes_apply_never_writes_through_a_link_planted_at_its_temporary_name() {
    // The reproduction: the README's own command, in a folder
    // whose `outatime-out` came with a link in it.
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let run = Run::new("links-readme")
        .file(
            "scenarios/freezer-door-oslo.scenario",
            std::fs::read(repo.join("scenarios/freezer-door-oslo.scenario")).unwrap(),
        )
        .file(
            "scenarios/data/fleet.csv",
            std::fs::read(repo.join("scenarios/data/fleet.csv")).unwrap(),
        );
    let victims = plant(&run, &["outatime-out/.telemetry.jsonl.partial"]);
    let (code, _, stderr) = run
        .again(&[
            "apply",
            "scenarios/freezer-door-oslo.scenario",
            "--anchor",
            ANCHOR,
        ])
        .run();
    assert_eq!(code, 0, "{stderr}");
    assert_untouched(&victims);
    let written = regular(&run.dir.join("outatime-out/telemetry.jsonl"));
    let (_, expected, _) = run
        .again(&[
            "records",
            "scenarios/freezer-door-oslo.scenario",
            "--anchor",
            ANCHOR,
        ])
        .run();
    assert_eq!(written, expected);
    // The planted link is left as it was: not outatime's to remove.
    assert!(is_link(
        &run.dir.join("outatime-out/.telemetry.jsonl.partial")
    ));
    assert_eq!(
        leftovers(&run.dir.join("outatime-out")),
        Vec::<String>::new()
    );
}

#[test]
fn the_file_target_replaces_links_at_final_names_and_never_writes_through_one() {
    let run = Run::new("links-files").file("s.scenario", SCENARIO);
    let mut names = links_for("outatime-out/telemetry.jsonl");
    names.extend(links_for("outatime-out/e2e_door.jsonl"));
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let victims = plant(&run, &names);
    let (code, _, stderr) = run
        .again(&["apply", "s.scenario", "--anchor", ANCHOR])
        .run();
    assert_eq!(code, 0, "{stderr}");
    assert_untouched(&victims);
    let out = run.dir.join("outatime-out");
    let both = regular(&out.join("telemetry.jsonl")) + &regular(&out.join("e2e_door.jsonl"));
    assert_eq!(sorted(&both), sorted(&records(&run)));
    assert_eq!(leftovers(&out), Vec::<String>::new());
}

#[test]
fn a_stale_table_file_that_is_a_link_is_removed_as_a_link() {
    // A table that gets no records keeps no file: a link at its name is
    // removed, and what it pointed at is not.
    let run = Run::new("links-stale").file("s.scenario", SCENARIO);
    let victims = plant(&run, &["outatime-out/e2e_door.jsonl"]);
    let only_telemetry = SCENARIO.replace("generate into door", "generate into telemetry");
    let run = run.file(
        "s.scenario",
        only_telemetry.replace("measure open boolean", "measure v2 boolean"),
    );
    let (code, _, stderr) = run
        .again(&["apply", "s.scenario", "--anchor", ANCHOR])
        .run();
    assert_eq!(code, 0, "{stderr}");
    assert_untouched(&victims);
    assert!(!is_link(&run.dir.join("outatime-out/e2e_door.jsonl")));
}

#[test]
fn a_file_target_folder_that_is_a_link_is_refused_and_nothing_is_written() {
    let run = Run::new("links-folder").file("s.scenario", SCENARIO);
    let elsewhere = run.dir.join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    symlink(&elsewhere, run.dir.join("outatime-out")).unwrap();
    let (code, _, stderr) = run
        .again(&["apply", "s.scenario", "--anchor", ANCHOR])
        .run();
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("outatime::target::file"), "{stderr}");
    assert!(stderr.contains("symbolic link"), "{stderr}");
    assert_eq!(
        std::fs::read_dir(&elsewhere).unwrap().count(),
        0,
        "nothing written into the folder the link leads to"
    );
}

#[test]
fn reports_replace_links_and_never_write_through_one() {
    let run = Run::new("links-report").file("s.scenario", SCENARIO);
    let mut names = links_for("apply.json");
    names.extend(links_for("out/verify.json"));
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let victims = plant(&run, &names);
    let (code, _, stderr) = run
        .again(&[
            "apply",
            "s.scenario",
            "--anchor",
            ANCHOR,
            "--report",
            "apply.json",
        ])
        .run();
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = run
        .again(&[
            "verify",
            "s.scenario",
            "--anchor",
            ANCHOR,
            "--report",
            "out/verify.json",
        ])
        .run();
    assert_eq!(code, 0, "{stderr}");
    assert_untouched(&victims);
    let applied: serde_json::Value =
        serde_json::from_str(&regular(&run.dir.join("apply.json"))).unwrap();
    assert_eq!(applied["records"], 15);
    let verified: serde_json::Value =
        serde_json::from_str(&regular(&run.dir.join("out/verify.json"))).unwrap();
    assert_eq!(verified["tables"].as_object().unwrap().len(), 2);
    assert_eq!(leftovers(&run.dir), Vec::<String>::new());
    assert_eq!(leftovers(&run.dir.join("out")), Vec::<String>::new());
}

#[test]
fn plans_plots_and_full_diffs_replace_links_and_never_write_through_one() {
    let run = Run::new("links-plan")
        .file("s.scenario", SCENARIO)
        .file("t.scenario", SCENARIO.replace("sigma: 1", "sigma: 2"));
    let outputs = ["plan.yaml", "p.svg", "full.txt", "diff.svg"];
    let names: Vec<String> = outputs.iter().flat_map(|o| links_for(o)).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let victims = plant(&run, &names);
    let (code, _, stderr) = run.again(&["plan", "s.scenario", "-o", "plan.yaml"]).run();
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = run
        .again(&["plot", "s.scenario", "-o", "p.svg", "--anchor", ANCHOR])
        .run();
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = run.again(&["plan", "t.scenario", "-o", "t.yaml"]).run();
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = run
        .again(&[
            "diff",
            "plan.yaml",
            "t.yaml",
            "--full",
            "full.txt",
            "--plot",
            "-o",
            "diff.svg",
        ])
        .run();
    assert_eq!(code, 1, "the plans differ: {stderr}");
    assert_untouched(&victims);
    let (_, plan, _) = run.again(&["plan", "s.scenario"]).run();
    assert_eq!(regular(&run.dir.join("plan.yaml")), plan);
    assert!(regular(&run.dir.join("p.svg")).starts_with("<svg"));
    assert!(!regular(&run.dir.join("full.txt")).is_empty());
    assert!(regular(&run.dir.join("diff.svg")).starts_with("<svg"));
    assert_eq!(leftovers(&run.dir), Vec::<String>::new());
}

/// `run` with a limit of `bytes` on the size of any file it writes: the
/// kernel kills it with SIGXFSZ in the middle of the write that crosses
/// it, as a crash or a `kill -9` would.
fn killed_mid_write(run: &Run, bytes: u64) -> std::process::ExitStatus {
    let mut command = run.command();
    // SAFETY: setrlimit is async-signal-safe and allocates nothing.
    unsafe {
        command.pre_exec(move || {
            let limit = libc::rlimit {
                rlim_cur: bytes,
                rlim_max: bytes,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    command
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap()
}

#[test]
fn a_kill_in_the_middle_of_a_write_leaves_each_final_name_as_it_was() {
    let run = Run::new("killed").file("s.scenario", SCENARIO);
    // Complete outputs of an earlier run.
    let (code, _, stderr) = run
        .again(&[
            "apply",
            "s.scenario",
            "--anchor",
            ANCHOR,
            "--report",
            "r.json",
        ])
        .run();
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = run.again(&["plan", "s.scenario", "-o", "plan.yaml"]).run();
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = run
        .again(&["plot", "s.scenario", "-o", "p.svg", "--anchor", ANCHOR])
        .run();
    assert_eq!(code, 0, "{stderr}");
    let finals = [
        "outatime-out/telemetry.jsonl",
        "outatime-out/e2e_door.jsonl",
        "r.json",
        "plan.yaml",
        "p.svg",
    ];
    let before: Vec<String> = finals
        .iter()
        .map(|f| std::fs::read_to_string(run.dir.join(f)).unwrap())
        .collect();

    // Each command again, with other outputs, killed as it writes them.
    let other = SCENARIO
        .replace("sigma: 1", "sigma: 5")
        .replace("10m", "50m");
    let run = run.file("s.scenario", other);
    for args in [
        &["apply", "s.scenario", "--anchor", "2026-12-08T20:00:00Z"][..],
        &[
            "apply",
            "s.scenario",
            "--anchor",
            "2026-12-08T20:00:00Z",
            "--dry-run",
            "--report",
            "r.json",
        ],
        &["plan", "s.scenario", "-o", "plan.yaml"],
        &[
            "plot",
            "s.scenario",
            "-o",
            "p.svg",
            "--anchor",
            "2026-12-08T20:00:00Z",
        ],
    ] {
        let status = killed_mid_write(&run.again(args), 64);
        assert_eq!(
            status.signal(),
            Some(libc::SIGXFSZ),
            "`{}` was not killed mid-write: {status:?}",
            args.join(" ")
        );
    }
    for (file, before) in finals.iter().zip(&before) {
        assert_eq!(
            &std::fs::read_to_string(run.dir.join(file)).unwrap(),
            before,
            "{file} is not what the complete earlier run left"
        );
    }
}

/// The code of `src/`, without comments, strings and test modules.
fn code_of(text: &str) -> String {
    let text = text
        .split("#[cfg(test)]\nmod tests")
        .next()
        .unwrap_or_default();
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '"' => {
                let mut escaped = false;
                for c in chars.by_ref() {
                    match (escaped, c) {
                        (false, '\\') => escaped = true,
                        (false, '"') => break,
                        _ => escaped = false,
                    }
                }
                out.push_str("\"\"");
            }
            _ => out.push(c),
        }
    }
    out
}

#[test]
fn only_the_output_file_module_creates_files_for_the_user() {
    // Ways to create or replace a file by name, which follow a link at
    // the last component (or move one into place).
    const CREATING: [&str; 8] = [
        "File::create(",
        "fs::write(",
        "fs::rename(",
        "fs::copy(",
        ".create(true)",
        ".append(true)",
        ".truncate(true)",
        "hard_link(",
    ];
    // The files allowed to: the module itself, the scratch files it
    // registers, and the journal, whose owner opens it with O_NOFOLLOW and
    // O_EXCL itself (docs/security.md, "Journals and locks").
    // The journal (and its lock) is written in place, a line at a time,
    // opened without following a link: its own module.
    const ALLOWED: [&str; 4] = [
        "output_file.rs",
        "scratch.rs",
        "apply/journal.rs",
        "apply/journal/",
    ];
    let mut found = Vec::new();
    for (file, text) in crate::common::crate_files() {
        let relative = file.strip_prefix("src/").unwrap();
        if ALLOWED
            .iter()
            .any(|a| relative == *a || (a.ends_with('/') && relative.starts_with(a)))
        {
            continue;
        }
        let code = code_of(&text);
        for (n, line) in code.lines().enumerate() {
            // `File::create(`, but not `OutputFile::create(`.
            let at_a_word = |way: &&str| {
                line.match_indices(*way).any(|(i, _)| {
                    !line[..i]
                        .chars()
                        .next_back()
                        .is_some_and(|c| c.is_alphanumeric() || c == '_')
                })
            };
            if let Some(way) = CREATING.iter().find(|w| at_a_word(w)) {
                found.push(format!("{file}:{}: {way}", n + 1));
            }
        }
    }
    found.sort();
    assert!(
        found.is_empty(),
        "create output files with crate::output_file (it never follows a link it did not make):\n{}",
        found.join("\n")
    );
}
