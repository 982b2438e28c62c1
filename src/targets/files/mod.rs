//! The file target's rules for names, asked by the validator when `check
//! --target` or `apply` names a file target: a table's target name becomes
//! a file name (`<name>.jsonl`, or `<name>.shard-K-of-N.jsonl`), so it must
//! be one on every common file system; dimensions and measures are JSON
//! keys, and any text is one.

pub(crate) mod read;

use crate::diagnostics::kind::NameKind;
use crate::model::{NameProblem, NameRules};

/// The file target's naming rules.
pub(crate) struct FileNames;

/// The longest table name that leaves room for `.shard-KKKK-of-NNNN.jsonl`
/// (and the apply's `.partial` and leading `.`) within the 255 bytes most
/// file systems allow a file name.
const MAX_TABLE_NAME_BYTES: usize = 200;

/// What Windows refuses in a file name, besides control characters; `/`
/// separates folders everywhere.
const REFUSED_CHARACTERS: &[char] = &['/', '\\', '<', '>', ':', '"', '|', '?', '*'];

impl NameRules for FileNames {
    fn target(&self) -> &'static str {
        "the file target"
    }

    fn problem(&self, kind: NameKind, name: &str) -> Option<NameProblem> {
        if kind != NameKind::Table {
            return None;
        }
        if name.is_empty() || name == "." || name == ".." {
            return Some(NameProblem::Refused(format!("`{name}` is not a file name")));
        }
        if name.len() > MAX_TABLE_NAME_BYTES {
            return Some(NameProblem::Refused(format!(
                "it is {} bytes, and a file name takes {MAX_TABLE_NAME_BYTES}",
                name.len()
            )));
        }
        name.chars()
            .find(|c| c.is_control() || REFUSED_CHARACTERS.contains(c))
            .map(|c| {
                NameProblem::Refused(format!(
                    "{c:?} cannot be in a file name; use letters, digits, `_`, `-` and `.`"
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_name_must_be_a_file_name() {
        let rules = FileNames;
        assert_eq!(rules.problem(NameKind::Table, "t"), None);
        assert_eq!(rules.problem(NameKind::Table, "cpu load (C)"), None);
        assert_eq!(rules.problem(NameKind::Measure, "ts_x"), None);
        assert_eq!(rules.problem(NameKind::Dimension, "time"), None);
        for name in ["", "..", "a/b", "a:b", "a\tb", &"t".repeat(201)] {
            assert!(
                matches!(
                    rules.problem(NameKind::Table, name),
                    Some(NameProblem::Refused(_))
                ),
                "{name:?}"
            );
        }
    }
}
