//! `outatime diff` as a reviewer reads it: the scenario's change first,
//! the effect on series summed up with a few examples and their
//! sparklines, long lists folded, every line short and the markdown small
//! enough for a PR comment, even over the gallery's 2,000 series.

use crate::common::Run;

/// The gallery's 2,000-series load test.
fn dashboard() -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/dashboard-load.scenario"
    );
    std::fs::read_to_string(path).unwrap()
}

/// The plan of `scenario`, compiled as `s.scenario` so that only the
/// scenario's text differs between two plans.
fn plan(name: &str, scenario: &str) -> String {
    let run = Run::new(name).file("s.scenario", scenario).args(&[
        "plan",
        "s.scenario",
        "-o",
        "s.plan.yaml",
    ]);
    let (code, _, stderr) = run.run();
    assert_eq!(code, 0, "{stderr}");
    std::fs::read_to_string(run.dir.join("s.plan.yaml")).unwrap()
}

/// `diff old new` with `args`: (exit code, stdout, the run, whose scratch
/// folder lives as long as it).
fn diff(name: &str, old: &str, new: &str, args: &[&str]) -> (i32, String, Run) {
    let run = Run::new(name)
        .file("old.yaml", old)
        .file("new.yaml", new)
        .args(&["diff", "old.yaml", "new.yaml"])
        .args(args);
    let (code, stdout, stderr) = run.run();
    assert!(stderr.is_empty(), "{stderr}");
    (code, stdout, run)
}

fn assert_reviewable(text: &str) {
    let longest = text.lines().map(|l| l.chars().count()).max().unwrap_or(0);
    assert!(longest <= 200, "a line of {longest} characters");
    assert!(text.len() < 60_000, "{} characters", text.len());
}

#[test]
fn a_model_change_for_2000_series_is_one_scenario_line_then_an_aggregate() {
    let old = plan("dash-old", &dashboard());
    let new = plan(
        "dash-amplitude",
        &dashboard().replace("amplitude: 3", "amplitude: 4"),
    );
    let (code, markdown, _) = diff("dash-md", &old, &new, &["--format", "markdown"]);
    assert_eq!(code, 1);
    assert_reviewable(&markdown);
    assert!(
        markdown.starts_with(
            "**outatime plan**: records 840000 (unchanged) · series 2000 changed, 0 added, 0 removed (2000 → 2000 series)\n"
        ),
        "{markdown}"
    );
    // What changed in the scenario comes before its effect on series.
    let scenario = markdown.find("#### What changed in the scenario").unwrap();
    let model = markdown
        .find("amplitude: 4.0, mean: 4.0, phase: 0s) + noise(sigma: 0.3)`")
        .unwrap();
    let effect = markdown.find("#### Effect on series").unwrap();
    assert!(scenario < model && model < effect, "{markdown}");
    assert!(markdown.contains("| `temperature` | 2000 | "), "{markdown}");
    // Statistics rounded, and the rest folded and counted.
    assert!(!markdown.contains("2.4355461074177245"), "{markdown}");
    assert!(markdown.contains("mean 2.436 → "), "{markdown}");
    assert!(markdown.contains("<details><summary>All 2000 changed series</summary>"));
    let shown = markdown.matches("\n~ devices {").count();
    let folded: usize = markdown
        .split("… ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    // Each series once in the fold, the examples again above it.
    assert_eq!(shown - 5 + folded, 2000, "{shown} shown, {folded} folded");
    // The text form folds too.
    let (_, text, _) = diff("dash-text", &old, &new, &[]);
    assert_reviewable(&text);
    assert!(
        text.starts_with("scenario\n  ~ step generate into devices\n"),
        "{text}"
    );
    assert!(text.contains("… 1995 more changed series"), "{text}");
}

#[test]
fn full_writes_every_changed_series_beside_the_short_form() {
    let old = plan("full-old", &dashboard());
    let new = plan("full-new", &dashboard().replace("sigma: 0.3", "sigma: 0.4"));
    let (code, markdown, run) = diff(
        "full",
        &old,
        &new,
        &["--format", "markdown", "--full", "full.md"],
    );
    assert_eq!(code, 1);
    assert_reviewable(&markdown);
    let full = std::fs::read_to_string(run.dir.join("full.md")).unwrap();
    assert!(full.len() > markdown.len());
    for n in [1, 1000, 2000] {
        let key = format!("~ devices {{device=\"sim-{n:04}\", site=\"lab\"}}");
        assert!(full.contains(&key), "{key}");
    }
    assert!(!full.contains("more changed series"));
}

#[test]
fn editing_one_series_of_2000_names_it_and_an_added_step_shows_its_model() {
    let old = plan("one-old", &dashboard());
    let mut edited = dashboard().replace("sim-{0001..2000}", "sim-{0001..1999}");
    edited.push_str(
        "\ngenerate into devices {\n  series device = \"sim-2000\", site = \"lab\"\n  from now - 6h to now + 1h every 1m\n  measure temperature double = sine(period: 24h, amplitude: 3, mean: 9)\n}\n",
    );
    let new = plan("one-new", &edited);
    let (code, text, _) = diff("one", &old, &new, &[]);
    assert_eq!(code, 1);
    assert_reviewable(&text);
    assert!(text.len() < 3_000, "{text}");
    assert!(
        text.contains(
            "  + step generate into devices (#2)\n      models.temperature: double = sine(period: 1d, amplitude: 3.0, mean: 9.0, phase: 0s)\n      records: 420\n      schedule: now-6h .. now+1h every 1m\n      series: 1\n        {device=\"sim-2000\", site=\"lab\"}\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("series: 1 changed, 0 added, 0 removed (2000 → 2000 series)\n"),
        "{text}"
    );
    assert!(
        text.contains("  ~ devices {device=\"sim-2000\", site=\"lab\"}\n"),
        "{text}"
    );
    assert!(!text.contains("sim-1999\""), "{text}");
}

#[test]
fn an_anomaly_on_2000_series_is_one_anomaly_with_its_series_folded() {
    let old = plan("anomaly-old", &dashboard());
    let mut edited = dashboard();
    edited.push_str(
        "\nanomaly offset on devices.temperature {\n  at now - 1h for 30m\n  delta 2\n}\n",
    );
    let new = plan("anomaly-new", &edited);
    let (_, markdown, _) = diff("anomaly", &old, &new, &["--format", "markdown"]);
    assert_reviewable(&markdown);
    assert!(
        markdown.contains(
            "- `+` anomaly `offset on devices.temperature`\n  - kind: `offset delta 2`\n  - series: 2000\n"
        ),
        "{markdown}"
    );
    assert!(markdown.contains("    - … 1990 more\n"), "{markdown}");
    assert!(
        markdown.contains("  - window: `now-1h .. now-30m`\n"),
        "{markdown}"
    );
}

/// A small scenario: two series, a spike; the change moves the spike,
/// adds a dropout and a step.
const SMALL: &str = r#"scenario "small"
seed 7
anchor align 1m

table lab

generate into lab {
  series device = "a"
  series device = "b"
  from now - 2h to now every 5m
  measure temperature double = sine(period: 2h, amplitude: 2, mean: 5)
  measure battery bigint = ramp(from: 100, to: 90)
}

anomaly spike on lab.temperature {
  where device == "a"
  at now - 1h for 10m
  magnitude 5
}
"#;

fn small_changed() -> String {
    SMALL
        .replace("magnitude 5", "magnitude 8")
        .replace("at now - 1h", "at now - 30m")
        + r#"
anomaly dropout on lab {
  where device == "b"
  at now - 80m for 20m
}

generate into lab {
  series device = "c"
  from now - 1h to now every 10m
  measure temperature double = ramp(from: 1, to: 3)
}
"#
}

#[test]
fn the_small_diff_in_markdown_and_text() {
    let old = plan("small-old", SMALL);
    let new = plan("small-new", &small_changed());
    let (code, markdown, _) = diff("small-md", &old, &new, &["--format", "markdown"]);
    assert_eq!(code, 1);
    insta::assert_snapshot!("small_markdown", markdown);
    let (_, text, _) = diff("small-text", &old, &new, &[]);
    insta::assert_snapshot!("small_text", text);
}

#[test]
fn the_small_plans_sparklines() {
    let plan = plan("small-sparklines", &small_changed());
    let lines: Vec<&str> = plan
        .lines()
        .filter(|l| l.trim_start().starts_with("sparkline:") || l.contains("device:"))
        .collect();
    insta::assert_snapshot!("small_sparklines", lines.join("\n"));
}
