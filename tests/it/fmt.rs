//! `outatime fmt` end to end: files rewritten in place, folders, `--check`
//! with its diff and exit code, stdin to stdout, syntax errors left alone.

use std::path::Path;
use std::process::Output;

use crate::common::{Run, scratch};

const MESSY: &str = "scenario   \"t\"\ntable t\n{\n      name \"a\"  # the name\n}\n";
// The comment keeps the column it was written at (14).
const TIDY: &str = "scenario \"t\"\n\ntable t {\n  name \"a\"      # the name\n}\n";

/// `outatime ARGS` in the crate's folder (the tests' working folder),
/// reading `stdin`.
fn outatime(args: &[&str], stdin: Option<&str>) -> Output {
    let run = Run::in_dir(env!("CARGO_MANIFEST_DIR")).args(args);
    match stdin {
        Some(text) => run.stdin(text),
        None => run,
    }
    .output()
}

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

#[test]
fn a_file_is_rewritten_in_place_and_named() {
    let folder = scratch("fmt-in-place");
    let dir = folder.path();
    let file = dir.join("a.scenario");
    std::fs::write(&file, MESSY).unwrap();
    let out = outatime(&["fmt", file.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), TIDY);
    assert!(
        text(&out.stdout).contains("formatted"),
        "{}",
        text(&out.stdout)
    );
    // Nothing left beside it, and a second run changes nothing.
    assert_eq!(std::fs::read_dir(dir).unwrap().count(), 1);
    let again = outatime(&["fmt", file.to_str().unwrap()], None);
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(text(&again.stdout), "");
}

#[test]
fn check_prints_a_diff_writes_nothing_and_exits_1() {
    let folder = scratch("fmt-check");
    let dir = folder.path();
    let file = dir.join("a.scenario");
    std::fs::write(&file, MESSY).unwrap();
    let out = outatime(&["fmt", "--check", file.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1));
    let diff = text(&out.stdout);
    assert!(diff.contains("--- ") && diff.contains("+++ "), "{diff}");
    assert!(diff.contains("-scenario   \"t\"\n"), "{diff}");
    assert!(diff.contains("+scenario \"t\"\n"), "{diff}");
    assert!(diff.contains("+table t {\n"), "{diff}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), MESSY);
    std::fs::write(&file, TIDY).unwrap();
    let clean = outatime(&["fmt", "--check", file.to_str().unwrap()], None);
    assert_eq!(clean.status.code(), Some(0), "{}", text(&clean.stdout));
    assert_eq!(text(&clean.stdout), "");
}

#[test]
fn a_folder_means_every_scenario_under_it_sorted() {
    let folder = scratch("fmt-folder");
    let dir = folder.path();
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::write(dir.join("b.scenario"), MESSY).unwrap();
    std::fs::write(dir.join("sub/a.scenario"), MESSY).unwrap();
    std::fs::write(dir.join("a.scenario"), TIDY).unwrap();
    std::fs::write(dir.join("notes.txt"), MESSY).unwrap();
    let out = outatime(&["fmt", dir.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let named: Vec<String> = text(&out.stdout).lines().map(str::to_string).collect();
    let expected = [dir.join("b.scenario"), dir.join("sub").join("a.scenario")]
        .map(|p| format!("formatted {}", p.display()));
    assert_eq!(named, expected);
    assert_eq!(
        std::fs::read_to_string(dir.join("sub/a.scenario")).unwrap(),
        TIDY
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("notes.txt")).unwrap(),
        MESSY
    );
}

#[test]
fn a_file_with_syntax_errors_is_left_untouched_with_its_diagnostics() {
    let folder = scratch("fmt-syntax");
    let dir = folder.path();
    let broken = dir.join("broken.scenario");
    let good = dir.join("good.scenario");
    let text_broken = "scenario  \"t\"\ntable t {\n   name \"a\"\n";
    std::fs::write(&broken, text_broken).unwrap();
    std::fs::write(&good, MESSY).unwrap();
    let out = outatime(&["fmt", dir.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("syntax::unclosed_block"), "{stderr}");
    assert!(stderr.contains("left as it is"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&broken).unwrap(), text_broken);
    // The other file is still formatted.
    assert_eq!(std::fs::read_to_string(&good).unwrap(), TIDY);
}

#[test]
fn a_dash_reads_stdin_and_writes_stdout() {
    let out = outatime(&["fmt", "-"], Some(MESSY));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout), TIDY);
    let check = outatime(&["fmt", "--check", "-"], Some(MESSY));
    assert_eq!(check.status.code(), Some(1));
    assert!(text(&check.stdout).contains("+table t {"));
    let broken = outatime(&["fmt", "-"], Some("scenario \"t\"\ntable t {\n"));
    assert_eq!(broken.status.code(), Some(1));
    assert_eq!(text(&broken.stdout), "");
}

#[test]
fn a_missing_file_is_a_usage_error() {
    let out = outatime(&["fmt", "no/such/file.scenario"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("cannot read"));
}

#[test]
fn the_design_examples_pass_check() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = outatime(
        &[
            "fmt",
            "--check",
            root.join("scenarios/freezer-door-oslo.scenario")
                .to_str()
                .unwrap(),
            root.join("scenarios/snippets").to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

#[test]
fn expect_blocks_and_anomaly_names_take_the_canonical_layout() {
    let messy = "scenario \"t\"\nanomaly spike   as  hot on lab.v {\n at now - 1h for 5m\n magnitude 2 }\nexpect   alert \"Hot\"{labels  d==\"a\" , s != \"b\"\n   firing within 5m of anomaly hot\nnever}\nexpect \"q\" {\n     query influxql \"SELECT 1\"\n  window anomaly hot ..+10m\nvalue approx 5 rel 3 %\n  within 5m   every 10s }\n";
    let tidy = "scenario \"t\"\n\nanomaly spike as hot on lab.v {\n  at now - 1h for 5m\n  magnitude 2\n}\n\nexpect alert \"Hot\" {\n  labels d == \"a\", s != \"b\"\n  firing within 5m of anomaly hot\n  never\n}\n\nexpect \"q\" {\n  query influxql \"SELECT 1\"\n  window anomaly hot .. + 10m\n  value approx 5 rel 3%\n  within 5m every 10s\n}\n";
    let out = outatime(&["fmt", "-"], Some(messy));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), tidy);
    let again = outatime(&["fmt", "--check", "-"], Some(tidy));
    assert_eq!(again.status.code(), Some(0));
}
