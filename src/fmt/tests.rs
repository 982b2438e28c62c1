//! The layout rules, one messy input each; idempotence; refusals.

use super::{FmtError, format};

fn fmt(text: &str) -> String {
    match format(text) {
        Ok(s) => {
            assert_eq!(
                format(&s).ok().as_deref(),
                Some(s.as_str()),
                "not idempotent"
            );
            s
        }
        Err(e) => panic!("{e:?}"),
    }
}

#[test]
fn blocks_are_indented_two_spaces_one_clause_a_line() {
    let messy = "scenario \"t\"\ntable archive\n{\n      name \"a\"\n\tlayout single\n    }\n";
    let tidy = "scenario \"t\"\n\ntable archive {\n  name \"a\"\n  layout single\n}\n";
    assert_eq!(fmt(messy), tidy);
}

#[test]
fn operators_commas_and_colons_are_spaced_and_parentheses_are_tight() {
    let messy = "scenario \"t\"\ntable t\ngenerate into t {\n  series a=\"b\" ,c = \"d\"\n  from now-1h to now   +  2h every 1m\n  measure x double = sine( period:1h , amplitude : 2 )+noise (sigma:1)   clamp -1..2\n}\n";
    let tidy = "scenario \"t\"\ntable t\n\ngenerate into t {\n  series a = \"b\", c = \"d\"\n  from now - 1h to now + 2h every 1m\n  measure x double = sine(period: 1h, amplitude: 2) + noise(sigma: 1) clamp -1 .. 2\n}\n";
    assert_eq!(fmt(messy), tidy);
}

#[test]
fn lists_dots_and_where_are_spaced_as_in_the_design() {
    let messy = "scenario \"t\"\ntable telemetry\nanomaly spike on telemetry . temperature {\n  where device_id in [ \"a\" , \"b\" , ] and site!=\"lab\"\n  at now+15m for 5m\n  magnitude 12.5\n}\n";
    let tidy = "scenario \"t\"\ntable telemetry\n\nanomaly spike on telemetry.temperature {\n  where device_id in [\"a\", \"b\",] and site != \"lab\"\n  at now + 15m for 5m\n  magnitude 12.5\n}\n";
    assert_eq!(fmt(messy), tidy);
}

#[test]
fn one_line_blocks_stay_on_one_line_with_clauses_two_spaces_apart() {
    let messy = "scenario \"t\"\ntable events {name \"e\" layout single}\ntable m {   }\n";
    let tidy = "scenario \"t\"\ntable events { name \"e\"  layout single }\ntable m {}\n";
    assert_eq!(fmt(messy), tidy);
}

#[test]
fn anomaly_parameters_sharing_a_line_stay_together() {
    let messy = "scenario \"t\"\ntable t\nanomaly clip on t.v {\n  at now\n  min -5 ,max 30\n  rate 1   magnitude 2\n}\nanomaly spike on t.v { where d == \"a\",at now,magnitude 3 }\n";
    let tidy = "scenario \"t\"\ntable t\n\nanomaly clip on t.v {\n  at now\n  min -5, max 30\n  rate 1 magnitude 2\n}\n\nanomaly spike on t.v { where d == \"a\", at now, magnitude 3 }\n";
    assert_eq!(fmt(messy), tidy);
}

#[test]
fn blank_lines_between_statements_are_one_and_multi_line_statements_get_one() {
    let messy = "\n\n# top\n\n\nscenario \"t\"\nseed 1\n\n\n\ntable a\ntable b\nreplay s into a {\n  shift end to now\n}\nreplay s into b { shift end to now }\n\n\n";
    let tidy = "# top\n\nscenario \"t\"\nseed 1\n\ntable a\ntable b\n\nreplay s into a {\n  shift end to now\n}\n\nreplay s into b { shift end to now }\n";
    assert_eq!(fmt(messy), tidy);
}

#[test]
fn at_most_one_blank_line_inside_a_block_and_none_at_its_edges() {
    let messy = "scenario \"t\"\ntable t {\n\n  name \"a\"\n\n\n\n  layout single\n\n}\n";
    let tidy = "scenario \"t\"\n\ntable t {\n  name \"a\"\n\n  layout single\n}\n";
    assert_eq!(fmt(messy), tidy);
}

#[test]
fn comments_stay_where_they_were() {
    let messy = "# head\nscenario \"t\" # title\n  # about the table\ntable t {   # after the brace\n# first\n  name \"a\"\n      # between\n  layout single\n    # last\n} # after the block\n# end\n";
    let tidy = "# head\nscenario \"t\" # title\n\n# about the table\ntable t {   # after the brace\n  # first\n  name \"a\"\n  # between\n  layout single\n  # last\n} # after the block\n\n# end\n";
    assert_eq!(fmt(messy), tidy);
}

#[test]
fn trailing_comments_in_a_block_share_one_column() {
    let messy = "scenario \"t\"\nsource s csv \"f.csv\" {\n  time ts # the clock\n  dimensions device_id, site   # who\n  measures v double\n  timezone \"UTC\" # where\n}\n";
    let tidy = "scenario \"t\"\n\nsource s csv \"f.csv\" {\n  time ts                      # the clock\n  dimensions device_id, site   # who\n  measures v double\n  timezone \"UTC\"               # where\n}\n";
    assert_eq!(fmt(messy), tidy);
}

#[test]
fn the_column_an_author_chose_is_kept_when_code_does_not_reach_it() {
    let text = "scenario \"t\"\n\nsource s csv \"f.csv\" {\n  time ts                   # the clock\n  dimensions a              # who\n}\n";
    assert_eq!(fmt(text), text);
}

#[test]
fn a_clause_over_several_lines_keeps_its_breaks_indented_under_its_second_token() {
    let messy = "scenario \"t\"\ntable t\ngenerate into t {\n  series a = \"b\"\n  from now to now + 1h\n every 1m\n  measure x double = sine(period: 1h,\n   amplitude: 2)  # wave\n}\n";
    let tidy = "scenario \"t\"\ntable t\n\ngenerate into t {\n  series a = \"b\"\n  from now to now + 1h\n       every 1m\n  measure x double = sine(period: 1h,\n          amplitude: 2) # wave\n}\n";
    assert_eq!(fmt(messy), tidy);
}

#[test]
fn strings_numbers_durations_and_timestamps_are_kept_as_written() {
    let text = "scenario \"caf\\u{E9} \\\"q\\\" # no comment\"\nseed 1_000\n\nreplay s into t {\n  window 2024-03-12T08:00:00.250+01:00 .. 2024-03-12T18:00[Europe/Oslo]\n  shift by +1w\n}\n\nanomaly x on t.\"v (raw)\" { at now  magnitude 1.5E1 }\n";
    assert_eq!(fmt(text), text);
}

#[test]
fn unknown_clauses_are_kept_as_written() {
    let messy =
        "scenario \"t\"\nreplay s into t {\n    windw 1h   ..   2h   \n  shift end to now\n}\n";
    let tidy = "scenario \"t\"\n\nreplay s into t {\n  windw 1h   ..   2h\n  shift end to now\n}\n";
    assert_eq!(fmt(messy), tidy);
}

#[test]
fn windows_line_endings_are_kept_and_trailing_spaces_dropped() {
    let messy = "scenario \"t\"   \r\ntable t {  \r\n name \"a\" # c  \r\n}\r\n";
    let tidy = "scenario \"t\"\r\n\r\ntable t {\r\n  name \"a\" # c\r\n}\r\n";
    assert_eq!(fmt(messy), tidy);
}

#[test]
fn an_empty_file_stays_empty_and_a_final_newline_is_added() {
    assert_eq!(fmt(""), "");
    assert_eq!(fmt("scenario \"t\""), "scenario \"t\"\n");
}

#[test]
fn a_file_with_syntax_errors_is_refused_with_its_diagnostics() {
    let Err(FmtError::Syntax { diagnostics }) = format("scenario \"t\"\ntable t {\n") else {
        panic!("formatted a broken file");
    };
    assert_eq!(diagnostics[0].code(), "outatime::syntax::unclosed_block");
}

#[test]
fn the_design_examples_and_the_fixtures_are_fixed_points() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut seen = 0;
    for dir in ["scenarios", "scenarios/snippets", "tests/fixtures/ok"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if !name.ends_with(".scenario") || name == "tables-layouts.scenario" {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            assert_eq!(fmt(&text), text, "{}", path.display());
            seen += 1;
        }
    }
    assert!(seen >= 18, "{seen}");
}

/// Every scenario of the gallery and the ok fixtures, messed up (indented
/// with tabs, blank lines after `{`) and formatted, compiles to the same
/// plan as the original but for `scenario_digest`.
#[test]
fn formatting_keeps_the_plan_of_every_scenario() {
    use crate::app::{Loaded, compile_plan};
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let plan = |path: &std::path::Path, text: &str| -> String {
        let base = path.parent().unwrap();
        let checked = crate::app::check_text(text, base);
        let scenario = checked.scenario.expect("valid");
        let prepared =
            crate::compile::prepare(&scenario, Default::default(), crate::targets::DEFAULT_RULES)
                .unwrap();
        let loaded = Loaded {
            path: path.to_path_buf(),
            text: text.to_string(),
            scenario,
            prepared,
            stream_digest: None,
            warnings: 0,
        };
        let Ok(plan) = compile_plan(&loaded, base) else {
            panic!("{} does not compile", path.display());
        };
        let yaml = crate::plan::to_yaml(&plan).unwrap();
        yaml.lines()
            .filter(|l| !l.trim_start().starts_with("scenario_digest:"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let mut compared = 0;
    for dir in ["scenarios", "scenarios/snippets", "tests/fixtures/ok"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "scenario") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            if crate::app::check_text(&text, path.parent().unwrap()).has_errors() {
                continue;
            }
            // A tab and a space: the same number of characters, so trailing
            // comments keep the column they were written at.
            let messy = text.replace("\n  ", "\n\t ").replace("{\n", "{\n\n");
            let formatted = fmt(&messy);
            assert_eq!(fmt(&text), formatted, "{}", path.display());
            assert_eq!(
                plan(&path, &formatted),
                plan(&path, &text),
                "{}",
                path.display()
            );
            compared += 1;
        }
    }
    assert!(compared >= 15, "{compared}");
}

mod property {
    //! Over the fuzz corpus of tests/no_panic.rs (its seeds, mutated with
    //! its fragments): whatever parses is formatted idempotently, and what
    //! checks without errors validates to the same scenario once formatted.

    use proptest::prelude::*;

    use super::super::{FmtError, format};

    const SEEDS: &[&str] = &[
        include_str!("../../scenarios/freezer-door-oslo.scenario"),
        include_str!("../../scenarios/snippets/generate.scenario"),
        include_str!("../../scenarios/snippets/extrapolate.scenario"),
        include_str!("../../scenarios/snippets/table.scenario"),
        include_str!("../../scenarios/snippets/source.scenario"),
        include_str!("../../tests/fixtures/ok/lexical-forms.scenario"),
        include_str!("../../tests/fixtures/ok/anomalies-every-kind.scenario"),
    ];

    const FRAGMENTS: &[&str] = &[
        "{",
        "}",
        "(",
        ")",
        "[",
        "]",
        "\"",
        "\\",
        "..",
        ".",
        ",",
        ":",
        "=",
        "==",
        "+",
        "-",
        "#",
        "# c\n",
        "\n",
        "\n\n",
        " ",
        "   ",
        "\t",
        "\r\n",
        "now",
        "now + ",
        "1e999",
        "0s",
        "-0",
        "window",
        "shift by",
        "model",
        "clamp",
        "sine(",
        "anomaly",
        "per",
        "source",
        "table",
        "magnitude 3",
        "é",
        "日本",
    ];

    fn mutate(text: &str, edits: &[(usize, usize, usize)]) -> String {
        let mut bytes = text.as_bytes().to_vec();
        for &(kind, at, what) in edits {
            let at = if bytes.is_empty() {
                0
            } else {
                at % (bytes.len() + 1)
            };
            match kind % 3 {
                0 => {
                    let fragment = FRAGMENTS[what % FRAGMENTS.len()].as_bytes();
                    bytes.splice(at..at, fragment.iter().copied());
                }
                1 => {
                    let end = (at + what % 40).min(bytes.len());
                    bytes.drain(at..end);
                }
                _ => {
                    let end = (at + what % 60).min(bytes.len());
                    let copy = bytes[at..end].to_vec();
                    bytes.splice(at..at, copy);
                }
            }
        }
        match String::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => {
                let valid = e.utf8_error().valid_up_to();
                String::from_utf8_lossy(&e.into_bytes()[..valid]).into_owned()
            }
        }
    }

    /// The folder mutated scenarios are checked in, six deep in a scratch
    /// folder: `fleet.csv` linked where each seed's own path leads from it
    /// (`data/`, `../data/`, `../../../scenarios/data/`), so that sources
    /// are read as in the seeds' folders, and so that a mutated path (a
    /// `../` dropped or copied) looks inside the scratch, never beside the
    /// checkout (which the gate's trace refuses: a fresh clone has
    /// nothing there).
    fn seeds_folder(scratch: &std::path::Path) -> std::path::PathBuf {
        let fleet =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/data/fleet.csv");
        let base = scratch.join("1/2/3/4/5/6");
        for data in [
            base.join("data"),
            base.join("../data"),
            base.join("../../../scenarios/data"),
        ] {
            std::fs::create_dir_all(&data).unwrap();
            std::os::unix::fs::symlink(&fleet, data.join("fleet.csv")).unwrap();
        }
        base
    }

    fn model(text: &str, dir: &std::path::Path) -> Option<String> {
        let checked = crate::app::check_text(text, dir);
        // A step's `line` names where it is written, which moves when blank
        // lines do; everything else is what the scenario means.
        checked.scenario.map(|s| {
            let debug = format!("{s:?}");
            let mut kept = String::with_capacity(debug.len());
            let mut rest = debug.as_str();
            while let Some(at) = rest.find("line: ") {
                kept.push_str(&rest[..at + 6]);
                rest = rest[at + 6..].trim_start_matches(|c: char| c.is_ascii_digit());
            }
            kept.push_str(rest);
            kept
        })
    }

    #[test]
    fn formatting_is_idempotent_and_keeps_the_meaning() {
        let scratch = tempfile::TempDir::with_prefix("outatime-fmt-seeds-").unwrap();
        let dir = seeds_folder(scratch.path());
        let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
            cases: 800,
            // Failures saved and replayed from proptest-regressions/, as
            // the proptest! macro did.
            source_file: Some(file!()),
            ..ProptestConfig::default()
        });
        let strategy = (
            0..SEEDS.len(),
            proptest::collection::vec((0usize..3, 0usize..10_000, 0usize..1_000), 0..6),
        );
        runner
            .run(&strategy, |(seed, edits)| {
                let text = mutate(SEEDS[seed], &edits);
                match format(&text) {
                    Ok(once) => {
                        let twice = format(&once).ok();
                        prop_assert_eq!(twice.as_deref(), Some(once.as_str()));
                        prop_assert_eq!(model(&once, &dir), model(&text, &dir));
                    }
                    Err(FmtError::Syntax { .. }) => {}
                    Err(FmtError::NotPreserved { detail }) => {
                        prop_assert!(false, "not preserved: {detail}\n{text}");
                    }
                }
                Ok(())
            })
            .unwrap();
    }
}
