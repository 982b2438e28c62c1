//! Mutated scenarios never panic: whatever the bytes, `check` ends in
//! diagnostics, and both renderings of them succeed.

use std::path::Path;

use proptest::prelude::*;

const SEEDS: &[&str] = &[
    include_str!("../../scenarios/freezer-door-oslo.scenario"),
    include_str!("../../scenarios/snippets/generate.scenario"),
    include_str!("../../scenarios/snippets/extrapolate.scenario"),
    include_str!("../../scenarios/snippets/table.scenario"),
];

/// Fragments that make mutations hit the interesting paths: keywords,
/// literals at their limits, unbalanced punctuation, odd characters.
const FRAGMENTS: &[&str] = &[
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    "\"",
    "\\",
    "\\u{",
    "\\u{110000}",
    "..",
    ".",
    ",",
    ":",
    "=",
    "==",
    "+",
    "-",
    "#",
    "\n",
    " ",
    "now",
    "now + ",
    "99999999999999999999h",
    "9223372036854775807",
    "-9223372036854775808",
    "1e999",
    "0s",
    "-0",
    "1_",
    "2262-04-12T00:00Z",
    "1677-01-01T00:00Z",
    "2024-02-30T25:61:61.1234567890Z",
    "2024-03-31T02:30[Europe/Oslo]",
    "[Mars/Base]",
    "+99:99",
    "window",
    "shift by",
    "days in",
    "model",
    "clamp",
    "sine(",
    "choice(",
    "anomaly",
    "drift",
    "per",
    "source",
    "table",
    "ts_",
    "é",
    "日本",
    "\u{0}",
    "\r\n",
    "\t",
    "{0..9}",
    "{10..1}",
    "{01..12}",
    "{99999999999999999999..1}",
    "\", \"",
    "1 m",
    "2.5h",
    "CEST",
];

fn mutate(text: &str, edits: &[(usize, usize, usize)]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for &(kind, at, what) in edits {
        let at = if bytes.is_empty() {
            0
        } else {
            at % (bytes.len() + 1)
        };
        match kind % 4 {
            0 => {
                let fragment = FRAGMENTS[what % FRAGMENTS.len()].as_bytes();
                bytes.splice(at..at, fragment.iter().copied());
            }
            1 => {
                let end = (at + what % 40).min(bytes.len());
                bytes.drain(at..end);
            }
            2 => bytes.truncate(at),
            _ => {
                let end = (at + what % 60).min(bytes.len());
                let copy = bytes[at..end].to_vec();
                bytes.splice(at..at, copy);
            }
        }
    }
    // Invalid UTF-8 is the binary's business (one diagnostic); the library
    // takes text, so cut to the valid prefix.
    match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            String::from_utf8_lossy(&e.into_bytes()[..valid]).into_owned()
        }
    }
}

/// The folder mutated scenarios are checked in: `scenarios/data/fleet.csv`
/// (the one file the seeds name) copied ten folders below the checkout,
/// under Cargo's temporary folder for tests, so that a mutated relative
/// path (`../../data/fleet.csv`, a copied `../`) still looks inside the
/// checkout. From `scenarios/` itself it looked beside it, which a fresh
/// clone does not have and the gate's trace refuses.
fn scenarios_dir() -> &'static Path {
    static DIR: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("no-panic/1/2/3/4/5/6/scenarios");
        std::fs::create_dir_all(dir.join("data")).unwrap();
        std::fs::copy(
            concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/data/fleet.csv"),
            dir.join("data/fleet.csv"),
        )
        .unwrap();
        dir
    })
}

fn check_everything(text: &str) {
    let checked = outatime::check_text(text, scenarios_dir());
    let _ = outatime::render::human(
        "x.scenario",
        text,
        &checked.diagnostics,
        outatime::render::Style::PLAIN,
    );
    let _ = outatime::render::json_lines("x.scenario", text, &checked.diagnostics);
    for d in &checked.diagnostics {
        assert!(
            d.span.start <= d.span.end && d.span.end <= text.len(),
            "{d:?}"
        );
        assert!(
            text.is_char_boundary(d.span.start) && text.is_char_boundary(d.span.end),
            "{d:?}"
        );
    }
    if checked.scenario.is_some() {
        assert!(!checked.has_errors());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

    #[test]
    fn mutated_scenarios_end_in_diagnostics(
        seed in 0..SEEDS.len(),
        edits in proptest::collection::vec((0usize..4, 0usize..10_000, 0usize..1_000), 1..8),
    ) {
        check_everything(&mutate(SEEDS[seed], &edits));
    }

    #[test]
    fn arbitrary_text_ends_in_diagnostics(text in "\\PC{0,300}") {
        check_everything(&text);
    }
}

#[test]
fn a_ten_megabyte_line_ends_in_diagnostics() {
    let mut text = String::from("scenario \"big\"\ntable t { name \"");
    text.push_str(&"x".repeat(10 * 1024 * 1024));
    text.push_str("\" }\n");
    let checked = outatime::check_text(&text, Path::new("."));
    assert!(checked.has_errors(), "a 10 MB table name is refused");
    let rendered = outatime::render::human(
        "big.scenario",
        &text,
        &checked.diagnostics,
        outatime::render::Style::PLAIN,
    );
    assert!(
        rendered.len() < 10_000,
        "long lines are not drawn: {} bytes",
        rendered.len()
    );
}

#[test]
fn huge_numbers_and_many_statements_end_in_diagnostics() {
    let mut text = String::from("scenario \"n\"\nseed 99999999999999999999999999\n");
    for i in 0..2_000 {
        text.push_str(&format!("table t{i} {{ layout single }}\n"));
    }
    text.push_str("generate into t1 { series a = \"b\" from now to now + 9999999999999999w every 1s measure x double = constant(value: 1e400) }\n");
    let checked = outatime::check_text(&text, Path::new("."));
    let codes: Vec<String> = checked.diagnostics.iter().map(|d| d.code()).collect();
    assert!(
        codes.contains(&"outatime::seed::out_of_range".to_string()),
        "{codes:?}"
    );
    assert!(
        codes.contains(&"outatime::duration::out_of_range".to_string()),
        "{codes:?}"
    );
    assert!(
        codes.contains(&"outatime::number::out_of_range".to_string()),
        "{codes:?}"
    );
}

/// Mutated scenarios that still pass `check` compile without panicking,
/// whatever the anchor (the stream is cut off after a bounded number of
/// records: a mutation may ask for billions).
#[test]
fn mutated_valid_scenarios_compile_without_panicking() {
    use outatime::{Catalog, Record, Sink};
    struct Bounded(u64);
    impl Sink for Bounded {
        fn record(&mut self, _: &Record, _: &Catalog) -> std::io::Result<()> {
            self.0 += 1;
            if self.0 > 20_000 {
                return Err(std::io::Error::other("enough"));
            }
            Ok(())
        }
    }
    let dir = scenarios_dir();
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 600,
        ..ProptestConfig::default()
    });
    let strategy = (
        0..SEEDS.len(),
        proptest::collection::vec((0usize..4, 0usize..10_000, 0usize..1_000), 1..3),
        prop_oneof![
            Just(0i64),
            Just(i64::MAX / 2),
            Just(-i64::MAX / 2),
            any::<i64>()
        ],
    );
    let compiled = std::cell::Cell::new(0);
    runner
        .run(&strategy, |(seed, edits, anchor)| {
            let text = mutate(SEEDS[seed], &edits);
            let checked = outatime::check_text(&text, dir);
            if let Some(scenario) = checked.scenario
                && let Ok(prepared) = outatime::prepare(&scenario, Default::default())
            {
                compiled.set(compiled.get() + 1);
                let _ = prepared.run(anchor, &mut Bounded(0));
            }
            Ok(())
        })
        .unwrap();
    // Most mutations break the scenario; enough must survive to mean anything.
    assert!(
        compiled.get() >= 20,
        "only {} mutated scenarios compiled",
        compiled.get()
    );
}

/// Whatever the anchor, a mutated valid scenario's stream holds no
/// saturated time (2262-04-11T23:47:16.854775807Z, or its twin at the low
/// end) and no value a target cannot hold (an infinity, NaN): the run
/// ends in `compile::time_out_of_range` or `compile::value_out_of_range`
/// instead.
#[test]
fn a_stream_never_holds_a_saturated_time_or_a_value_out_of_range() {
    use outatime::{Catalog, Record, Sink};
    struct Checked(u64);
    impl Sink for Checked {
        fn record(&mut self, record: &Record, _: &Catalog) -> std::io::Result<()> {
            assert!(
                record.time != i64::MAX && record.time != i64::MIN,
                "a saturated time: {record:?}"
            );
            let values = format!("{:?}", record.measures);
            assert!(
                !values.contains("inf") && !values.contains("NaN"),
                "a value out of range: {record:?}"
            );
            self.0 += 1;
            if self.0 > 20_000 {
                return Err(std::io::Error::other("enough"));
            }
            Ok(())
        }
    }
    let dir = scenarios_dir();
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 600,
        ..ProptestConfig::default()
    });
    let strategy = (
        0..SEEDS.len(),
        proptest::collection::vec((0usize..4, 0usize..10_000, 0usize..1_000), 1..3),
        // 7ns off the hour: a time placed exactly at i64::MIN would be a
        // true instant, not a saturated one.
        prop_oneof![
            Just(i64::MAX - 3_600_000_000_000),
            Just(i64::MIN + 3_600_000_000_007),
            any::<i64>()
        ],
    );
    // Refused (`true`) or run clean; the sink panics on what it must not see.
    let run = |text: &str, anchor: i64| -> bool {
        let checked = outatime::check_text(text, dir);
        if let Some(scenario) = checked.scenario
            && let Ok(prepared) = outatime::prepare(&scenario, Default::default())
            && let Err(error) = prepared.run(anchor, &mut Checked(0))
        {
            return outatime::CompileErrorKind::from(&error)
                .code()
                .ends_with("_out_of_range");
        }
        false
    };
    // The seeds themselves at both ends of time: the relative ones are
    // refused, never saturated.
    let mut refused = 0;
    for text in SEEDS {
        for anchor in [i64::MAX - 3_600_000_000_000, i64::MIN + 3_600_000_000_007] {
            refused += usize::from(run(text, anchor));
        }
    }
    assert!(refused >= 2, "only {refused} runs refused");
    runner
        .run(&strategy, |(seed, edits, anchor)| {
            run(&mutate(SEEDS[seed], &edits), anchor);
            Ok(())
        })
        .unwrap();
}
