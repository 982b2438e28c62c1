//! Every fixture and shipped scenario, checked and snapshotted: the
//! rendered diagnostics (errors or warnings) of `tests/fixtures/err/*.scenario` (plain, no
//! colour, 100 columns) and the explanation of every valid scenario.
//! A changed message shows up as a snapshot diff in review.

use std::path::Path;

use outatime::render::{self, Style};

use crate::common::{Run, read_options};

fn check(path: &Path) -> (String, outatime::Checked) {
    let bytes = std::fs::read(path).unwrap();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    // Relative to the crate (the tests' working folder), so that messages
    // naming a resolved path do not depend on where the checkout is.
    let relative = Path::new(&shown(path)).parent().unwrap().to_path_buf();
    let checked = outatime::check_text(&text, &relative);
    (text, checked)
}

/// The file's name relative to the crate, with `/` on every platform, so
/// that snapshots do not depend on where the checkout is.
fn shown(path: &Path) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

#[test]
fn invalid_fixtures_render_their_diagnostics() {
    insta::glob!("../fixtures/err", "*.scenario", |path| {
        let bytes = std::fs::read(path).unwrap();
        if std::str::from_utf8(&bytes).is_err() {
            // Not text: the binary's concern, covered in tests/it/cli.rs.
            return;
        }
        let (text, checked) = check(path);
        assert!(
            !checked.diagnostics.is_empty(),
            "{} is in err/ but draws no diagnostic",
            path.display()
        );
        let rendered = render::human(&shown(path), &text, &checked.diagnostics, Style::PLAIN);
        insta::assert_snapshot!(rendered);
    });
}

/// A valid scenario's explanation and plan, snapshotted.
fn snapshot_valid(path: &Path) {
    let (text, checked) = check(path);
    let rendered = render::human(&shown(path), &text, &checked.diagnostics, Style::PLAIN);
    let Some(scenario) = &checked.scenario else {
        panic!("{} does not pass check:\n{rendered}", path.display());
    };
    let mut explained = rendered;
    explained.push_str(&outatime::explain(scenario));
    insta::assert_snapshot!("explain", explained);
    let relative = Path::new(&shown(path)).to_path_buf();
    let loaded = outatime::load(&relative, read_options(), Style::PLAIN)
        .unwrap_or_else(|f| panic!("{}", f.text));
    let plan =
        outatime::compile_plan(&loaded, Path::new(".")).unwrap_or_else(|f| panic!("{}", f.text));
    insta::assert_snapshot!("plan", snapshot_of(&outatime::to_yaml(&plan).unwrap()));
}

/// Plans longer than this are snapshotted by their head, their tail and
/// their line count: the gallery's 2,000-series plan is pinned whole by
/// its committed `NAME.plan.yaml` (`plan --check` in tests/it/gallery.rs), and
/// a snapshot of every line would only copy it.
const SNAPSHOT_WHOLE_UP_TO: usize = 400;
const SNAPSHOT_HEAD: usize = 40;
const SNAPSHOT_TAIL: usize = 20;

fn snapshot_of(plan: &str) -> String {
    let lines: Vec<&str> = plan.lines().collect();
    if lines.len() <= SNAPSHOT_WHOLE_UP_TO {
        return plan.to_string();
    }
    format!(
        "{}\n... {} lines in all; {} left out here ...\n{}\n",
        lines[..SNAPSHOT_HEAD].join("\n"),
        lines.len(),
        lines.len() - SNAPSHOT_HEAD - SNAPSHOT_TAIL,
        lines[lines.len() - SNAPSHOT_TAIL..].join("\n")
    )
}

#[test]
fn valid_fixtures_explain_and_plan_themselves() {
    insta::glob!("../fixtures/ok", "*.scenario", snapshot_valid);
}

#[test]
fn shipped_scenarios_explain_and_plan_themselves() {
    let mut seen = 0;
    insta::glob!("../../scenarios", "**/*.scenario", |path| {
        seen += 1;
        snapshot_valid(path);
    });
    assert!(seen >= 7, "the design's examples are all under scenarios/");
}

/// `check`'s summary line quotes the title as the scenario writes it: an
/// apostrophe stays one, a double quote is escaped the language's way.
#[test]
fn check_summary_shows_the_title_as_written() {
    let output = Run::in_dir(env!("CARGO_MANIFEST_DIR"))
        .args(&["check", "tests/fixtures/ok/explain-as-written.scenario"])
        .output();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.starts_with(
            "ok    tests/fixtures/ok/explain-as-written.scenario: \
             \"UNLOAD's day, \\\"as written\\\"\" (1 source, 2 tables"
        ),
        "{stdout}"
    );
}

/// A scenario too large for a plan snapshot: its explanation is
/// snapshotted, and its plan checked below.
#[test]
fn a_2000_series_scenario_explains_itself_in_one_line() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/large/generate-2000-series.scenario");
    let (text, checked) = check(&path);
    let rendered = render::human(&shown(&path), &text, &checked.diagnostics, Style::PLAIN);
    let Some(scenario) = &checked.scenario else {
        panic!("{} does not pass check:\n{rendered}", path.display());
    };
    let mut explained = rendered;
    explained.push_str(&outatime::explain(scenario));
    insta::assert_snapshot!("explain@large__generate-2000-series.scenario", explained);
}

/// `series device_id = "sim-{0001..2000}"` declares 2,000 series, in order,
/// each with 60 records.
#[test]
fn a_series_range_declares_one_series_per_number() {
    let relative = Path::new("tests/fixtures/large/generate-2000-series.scenario");
    let loaded = outatime::load(relative, read_options(), Style::PLAIN)
        .unwrap_or_else(|f| panic!("{}", f.text));
    let plan =
        outatime::compile_plan(&loaded, Path::new(".")).unwrap_or_else(|f| panic!("{}", f.text));
    let yaml = outatime::to_yaml(&plan).unwrap();
    assert!(yaml.contains("\nrecords: 120000\n"), "{}", &yaml[..2000]);
    // More than 100 series in the table: one line each, in order.
    let first =
        yaml.find("\n    - {dimensions: {device_id: \"sim-0001\", site: \"lab\"}, records: 60,");
    let second =
        yaml.find("\n    - {dimensions: {device_id: \"sim-0002\", site: \"lab\"}, records: 60,");
    let last =
        yaml.find("\n    - {dimensions: {device_id: \"sim-2000\", site: \"lab\"}, records: 60,");
    let (first, second, last) = (first.unwrap(), second.unwrap(), last.unwrap());
    assert!(first < second && second < last);
    assert!(!yaml.contains("sim-2001") && !yaml.contains("sim-0000"));
    // The step lists its clause as written, not the 2,000 series.
    assert!(
        yaml.contains(
            "  series_ranges:\n  - clause: device_id = \"sim-{0001..2000}\", site = \"lab\"\n    series: 2000\n"
        ),
        "{}",
        &yaml[yaml.len().saturating_sub(2000)..]
    );
    assert!(yaml.lines().count() < 2100, "one line a series");
}
