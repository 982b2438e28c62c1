//! Text that does not parse: the parser's and the tree builder's kinds.

use super::facts::{Facts, one_of};
use super::words::List;
use crate::diagnostics::span::Span;

/// `"\q"`
#[derive(Clone, Debug, PartialEq)]
pub struct BadEscape {
    pub escape: String,
}

impl Facts for BadEscape {
    const CODE: &'static str = "syntax::bad_escape";

    fn message(&self) -> String {
        format!("unknown escape `{}` in a string", self.escape)
    }

    fn help(&self) -> Option<String> {
        Some(
            "strings know `\\\"`, `\\\\`, `\\n`, `\\t` and `\\u{1F600}`; write `\\\\` for a backslash".into(),
        )
    }
}

/// `dimensions device_id site`
#[derive(Clone, Debug, PartialEq)]
pub struct MissingComma {
    pub list: List,
}

impl Facts for MissingComma {
    const CODE: &'static str = "syntax::missing_comma";

    fn message(&self) -> String {
        format!("names in `{}` need commas between them", self.list.clause())
    }

    fn label(&self) -> String {
        "a comma is missing before this".into()
    }

    fn help(&self) -> Option<String> {
        let clause = self.list.clause();
        Some(match self.list {
            List::Series | List::Set => format!("write `{clause} a = \"x\", b = \"y\"`"),
            List::Dimensions | List::Measures => format!("write `{clause} a, b`"),
        })
    }
}

/// `replay fleet into t` followed by indented clauses and `}`.
#[derive(Clone, Debug, PartialEq)]
pub struct MissingOpenBrace;

impl Facts for MissingOpenBrace {
    const CODE: &'static str = "syntax::missing_open_brace";

    fn message(&self) -> String {
        "this statement's block has no `{`".into()
    }

    fn label(&self) -> String {
        "`{` expected here".into()
    }

    fn help(&self) -> Option<String> {
        Some("add `{` at the end of this line".into())
    }
}

/// A file with bytes that are not UTF-8.
#[derive(Clone, Debug, PartialEq)]
pub struct NotUtf8;

impl Facts for NotUtf8 {
    const CODE: &'static str = "file::not_utf8";

    fn message(&self) -> String {
        "the file is not UTF-8 text".into()
    }

    fn help(&self) -> Option<String> {
        Some("save the file as UTF-8; the first bad byte is marked".into())
    }
}

/// A syntax error: what was expected at this place.
#[derive(Clone, Debug, PartialEq)]
pub struct Syntax {
    pub expected: Vec<String>,
    pub found: String,
    /// What the writer probably meant, when it can be told.
    pub hint: Option<SyntaxHint>,
}

/// What a syntax error probably meant, told in its help.
#[derive(Clone, Debug, PartialEq)]
pub enum SyntaxHint {
    /// `1min`, `2.5h`, `1 m`: a duration the language writes as `rewrite`
    /// (`1m`, `2h30m`).
    Duration { rewrite: String },
}

impl Facts for Syntax {
    const CODE: &'static str = "syntax::unexpected";

    fn message(&self) -> String {
        format!("expected {}, found {}", one_of(&self.expected), self.found)
    }

    fn label(&self) -> String {
        format!("expected {}", one_of(&self.expected))
    }

    fn help(&self) -> Option<String> {
        self.hint.as_ref().map(|hint| match hint {
            SyntaxHint::Duration { rewrite } => format!(
                "write `{rewrite}`: a duration is whole numbers with units `ms`, `s`, `m`, `h`, `d`, `w`, no spaces"
            ),
        })
    }
}

/// `table {` with no `}` before the next statement.
#[derive(Clone, Debug, PartialEq)]
pub struct UnclosedBlock {
    pub open: Span,
}

impl Facts for UnclosedBlock {
    const CODE: &'static str = "syntax::unclosed_block";

    fn message(&self) -> String {
        "this block is never closed".into()
    }

    fn label(&self) -> String {
        "opened here".into()
    }

    fn help(&self) -> Option<String> {
        Some("add `}` at the end of the block".into())
    }
}

/// A `}` on its own that closes no block.
#[derive(Clone, Debug, PartialEq)]
pub struct UnmatchedBrace;

impl Facts for UnmatchedBrace {
    const CODE: &'static str = "syntax::unmatched_brace";

    fn message(&self) -> String {
        "this `}` closes no block".into()
    }

    fn help(&self) -> Option<String> {
        Some("remove it, or add the `{` it should close".into())
    }
}

/// `"never closed`
#[derive(Clone, Debug, PartialEq)]
pub struct UnterminatedString;

impl Facts for UnterminatedString {
    const CODE: &'static str = "syntax::unterminated_string";

    fn message(&self) -> String {
        "string is never closed".into()
    }

    fn label(&self) -> String {
        "string starts here".into()
    }

    fn help(&self) -> Option<String> {
        Some("add `\"` at the end of the string, on the same line".into())
    }
}
