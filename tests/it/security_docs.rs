//! docs/security.md and docs/limits.md say which test proves each defence
//! and each limit: every test they name must exist, or the pages would
//! promise a proof that is not there.

use std::path::Path;

/// Every `.rs` file under `dir`, read.
fn rust_texts(dir: &Path, texts: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_texts(&path, texts);
        } else if path.extension().is_some_and(|e| e == "rs") {
            texts.push(std::fs::read_to_string(&path).unwrap());
        }
    }
}

/// The names in backquotes that read as a test's: lower case words joined
/// by `_`, four words at least (`a_closed_pipe_is_not_an_error`).
fn test_names(page: &str) -> Vec<&str> {
    page.split('`')
        .skip(1)
        .step_by(2)
        .filter(|name| {
            name.split('_').count() >= 4
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        })
        .collect()
}

#[test]
fn every_test_the_security_and_limits_pages_name_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut texts = Vec::new();
    rust_texts(&root.join("src"), &mut texts);
    rust_texts(&root.join("tests"), &mut texts);
    let defined = |name: &str| {
        let written = format!("fn {name}(");
        texts.iter().any(|text| text.contains(&written))
    };
    let mut missing = Vec::new();
    let mut named = 0;
    for page in ["docs/security.md", "docs/limits.md"] {
        let text = std::fs::read_to_string(root.join(page)).unwrap();
        for name in test_names(&text) {
            named += 1;
            if !defined(name) {
                missing.push(format!("{page}: `{name}`"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "named, and no such test:\n{}",
        missing.join("\n")
    );
    // The pages do name their tests: a reading that finds none proves nothing.
    assert!(named >= 20, "only {named} test names found");
}

#[test]
fn a_name_that_reads_as_a_test_is_taken_and_code_is_not() {
    let page = "proved by `a_closed_pipe_is_not_an_error`; see `OUTATIME_KILL_SEED`, `src/output_file.rs` and `--max-bad-rows`";
    assert_eq!(test_names(page), ["a_closed_pipe_is_not_an_error"]);
}
