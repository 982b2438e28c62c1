//! Every code outatime reports has an entry in docs/errors.md, and every
//! scenario diagnostic has a fixture that triggers it: a new code without
//! them fails here. The lists come from the enums, not the source text.

use std::collections::BTreeSet;
use std::path::Path;

use outatime::ApplyErrorKind;
use outatime::CaptureErrorKind;
use outatime::CleanErrorKind;
use outatime::DiagnosticCode;
use outatime::PlotErrorKind;
use outatime::VerifyErrorKind;
use outatime::{CompileErrorKind, PlanErrorKind, SerializeError};
use strum::IntoEnumIterator;

/// Every scenario and configuration diagnostic's code, from the enum whose
/// variants it names (without the `outatime::` prefix).
fn codes() -> Vec<&'static str> {
    DiagnosticCode::iter().map(DiagnosticCode::as_str).collect()
}

/// Every code a compile, a plan check, an apply or a verify fails with
/// (with the `outatime::` prefix). Several apply kinds share one (a file
/// target fails with `target::file` however it fails), so these are
/// distinct.
fn run_codes() -> BTreeSet<&'static str> {
    let compile = CompileErrorKind::iter().map(CompileErrorKind::code);
    let apply = ApplyErrorKind::iter().map(ApplyErrorKind::code);
    let plan = PlanErrorKind::iter().map(PlanErrorKind::code);
    let verify = VerifyErrorKind::iter().map(VerifyErrorKind::code);
    let clean = CleanErrorKind::iter().map(CleanErrorKind::code);
    let capture = CaptureErrorKind::iter().map(CaptureErrorKind::code);
    let plot = PlotErrorKind::iter().map(PlotErrorKind::code);
    compile
        .chain(capture)
        .chain(apply)
        .chain(clean)
        .chain(plan)
        .chain(verify)
        .chain(plot)
        .chain([SerializeError::CODE])
        .collect()
}

/// Warnings that need a source's rows to be found (`check` draws
/// `anomaly::no_effect` alone only on tables `generate` writes): the
/// fixtures are tests/it/warnings.rs's scenarios.
const DATA_WARNINGS: [&str; 5] = [
    "anomaly::no_effect",
    "where::selects_nothing",
    "window::no_rows",
    "set::no_effect",
    "source::no_rows",
];

/// Diagnostics drawn only when `check` is told the target
/// (`check --target`): tests/it/expect.rs draws each through the binary,
/// from its fixture in tests/fixtures/target/.
const TARGET_DIAGNOSTICS: [&str; 1] = ["expect::dialect_not_for_target"];

#[test]
fn no_two_kinds_share_a_code() {
    let codes = codes();
    let distinct: BTreeSet<&str> = codes.iter().copied().collect();
    assert_eq!(distinct.len(), codes.len());
    for code in run_codes() {
        let short = code.strip_prefix("outatime::").unwrap();
        assert!(
            !distinct.contains(short),
            "{code} is a diagnostic's code too"
        );
    }
}

#[test]
fn every_compile_and_apply_code_is_documented() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let docs = std::fs::read_to_string(root.join("docs/errors.md")).unwrap();
    let codes = run_codes();
    assert!(codes.len() >= 14, "found {} codes", codes.len());
    for code in codes {
        assert!(
            docs.contains(&format!("`{code}`")),
            "docs/errors.md lacks {code}"
        );
    }
}

#[test]
fn every_code_has_a_fixture_that_triggers_it_and_a_documented_entry() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let docs = std::fs::read_to_string(root.join("docs/errors.md")).unwrap();
    let codes = codes();
    assert!(codes.len() > 50, "found {} codes", codes.len());
    for code in codes {
        let full = format!("outatime::{code}");
        assert!(
            docs.contains(&format!("`{full}`")),
            "docs/errors.md lacks {full}"
        );
        if let Some(name) = code.strip_prefix("config::") {
            // Configuration codes have a YAML fixture naming a target `local`.
            let fixture = root
                .join("tests/fixtures/config")
                .join(format!("{name}.yaml"));
            let text = std::fs::read_to_string(&fixture)
                .unwrap_or_else(|_| panic!("no fixture {}", fixture.display()));
            let found: Vec<String> = outatime::target_from_config(&text, "local", &|_| None)
                .unwrap_err()
                .diagnostics
                .iter()
                .map(|d| d.code())
                .collect();
            assert!(
                found.contains(&full),
                "{} draws {found:?}, not {full}",
                fixture.display()
            );
            continue;
        }
        // Found only with the data (`plan`, `records`, `apply`), never by
        // `check` alone: tests/it/warnings.rs draws each through the binary.
        if DATA_WARNINGS.contains(&code) || TARGET_DIAGNOSTICS.contains(&code) {
            continue;
        }
        let fixture = root
            .join("tests/fixtures/err")
            .join(format!("{}.scenario", code.replace("::", "-")));
        let bytes =
            std::fs::read(&fixture).unwrap_or_else(|_| panic!("no fixture {}", fixture.display()));
        let Ok(text) = String::from_utf8(bytes) else {
            assert_eq!(code, "file::not_utf8");
            continue;
        };
        let checked = outatime::check_text(&text, fixture.parent().unwrap());
        let found: Vec<String> = checked.diagnostics.iter().map(|d| d.code()).collect();
        assert!(
            found.contains(&full),
            "{} draws {found:?}, not {full}",
            fixture.display()
        );
    }
}
