//! The gallery under `scenarios/` stays current: every scenario there passes
//! `check` (with `--deny-warnings` once `check` has that flag), and every
//! committed plan beside one passes `plan --check`, through the real binary.

use std::path::{Path, PathBuf};

use crate::common::Run;

/// The folder of the gallery, in the repository.
fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

/// Every `*.scenario` directly in `scenarios/` (the design's snippets are in
/// `snippets/`),
/// sorted so failures come in the same order everywhere.
fn gallery() -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(scenarios_dir())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "scenario"))
        .collect();
    found.sort();
    found
}

/// `outatime ARGS` run in `scenarios/`, as the README tells a reader to.
fn outatime(args: &[&str]) -> (i32, String, String) {
    Run::in_dir(scenarios_dir()).args(args).run()
}

fn name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

/// `--deny-warnings` when this build's `check` knows it (it lands with the
/// warnings of issue 11): a gallery scenario that draws a warning teaches
/// the wrong thing.
fn deny_warnings() -> Option<&'static str> {
    let (_, help, _) = outatime(&["check", "--help"]);
    help.contains("--deny-warnings")
        .then_some("--deny-warnings")
}

#[test]
fn the_gallery_holds_at_least_eight_scenarios_each_with_its_plan() {
    let scenarios = gallery();
    assert!(
        scenarios.len() >= 9,
        "the design's example and eight gallery scenarios: {scenarios:?}"
    );
    let without_plan: Vec<String> = scenarios
        .iter()
        .filter(|path| name(path) != "freezer-door-oslo.scenario")
        .filter(|path| !path.with_extension("plan.yaml").is_file())
        .map(|path| name(path))
        .collect();
    assert!(
        without_plan.is_empty(),
        "write their plans with `outatime plan NAME.scenario -o NAME.plan.yaml` in scenarios/: {without_plan:?}"
    );
}

#[test]
fn every_gallery_scenario_checks_without_warnings() {
    let deny = deny_warnings();
    for path in gallery() {
        let file = name(&path);
        let mut args = vec!["check", "--format", "json", file.as_str()];
        args.extend(deny);
        let (code, stdout, stderr) = outatime(&args);
        assert_eq!(code, 0, "{file}: {stdout}{stderr}");
        // One JSON object a diagnostic: none at all, warnings included.
        assert!(
            stdout.trim().is_empty(),
            "{file} draws diagnostics:\n{stdout}"
        );
    }
}

#[test]
fn every_committed_plan_is_current() {
    let mut checked = 0;
    for path in gallery() {
        let plan = path.with_extension("plan.yaml");
        if !plan.is_file() {
            continue;
        }
        let (scenario, plan) = (name(&path), name(&plan));
        let (code, stdout, stderr) = outatime(&["plan", "--check", &scenario, &plan]);
        assert_eq!(
            code, 0,
            "{plan} is stale: review the change, then `outatime plan {scenario} -o {plan}` in scenarios/\n{stdout}{stderr}"
        );
        checked += 1;
    }
    assert!(checked >= 8, "{checked} plans checked");
}

#[test]
fn the_readme_lists_every_gallery_scenario_with_its_timeline_command() {
    let readme = std::fs::read_to_string(scenarios_dir().join("README.md")).unwrap();
    for path in gallery() {
        let file = name(&path);
        assert!(
            readme.contains(&format!("`{file}`")),
            "scenarios/README.md does not list {file}"
        );
        if file != "freezer-door-oslo.scenario" {
            assert!(
                readme.contains(&format!("outatime check --explain {file}")),
                "scenarios/README.md gives no timeline command for {file}"
            );
        }
    }
}

#[test]
fn a_stale_plan_fails_the_check() {
    // The check above can fail: a plan of another scenario is stale.
    let (code, _, _) = outatime(&[
        "plan",
        "--check",
        "week-in-a-day.scenario",
        "every-anomaly.plan.yaml",
    ]);
    assert_eq!(code, 1);
}
