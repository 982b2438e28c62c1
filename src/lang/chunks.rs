//! Cutting a file into top-level statements before parsing.
//!
//! Each statement is parsed on its own, so a syntax error in one never hides
//! the errors of the next. Outside every brace, a statement starts at an
//! unindented line or at a line that starts with a statement keyword (an
//! indented line goes on with the statement above: the usual shape of a
//! missing `{`). Inside an unclosed block, an unindented line that starts
//! with a statement keyword starts a statement (the usual shape of a
//! missing `}`).

use crate::diagnostics::BYTE_ORDER_MARK;
use crate::lang::ast::Span;

/// The keywords that start a statement.
pub(crate) const STATEMENT_KEYWORDS: &[&str] = &[
    "anchor",
    "anomaly",
    "expect",
    "extrapolate",
    "generate",
    "replay",
    "scenario",
    "seed",
    "source",
    "table",
];

/// The statements of `text`, in order. Comments and blank lines between
/// statements belong to no chunk.
pub(crate) fn statement_chunks(text: &str) -> Vec<Span> {
    let mut starts = Vec::new();
    let mut depth: usize = 0;
    // A byte-order mark that an editor put first is read as nothing.
    let mut line_start = if text.starts_with(BYTE_ORDER_MARK) {
        BYTE_ORDER_MARK.len_utf8()
    } else {
        0
    };
    for line in text[line_start..].split_inclusive('\n') {
        let indent = line.len() - line.trim_start().len();
        let first = line[indent..].chars().next();
        let opens_statement = match first {
            None | Some('#') => false,
            Some('{') => false,
            Some(_) if depth == 0 => {
                indent == 0 || starts.is_empty() || starts_with_statement_keyword(&line[indent..])
            }
            Some(_) => indent == 0 && starts_with_statement_keyword(&line[indent..]),
        };
        if opens_statement {
            starts.push(line_start);
            depth = 0;
        }
        depth = depth_after(line, depth);
        line_start += line.len();
    }
    let mut chunks = Vec::with_capacity(starts.len());
    for (i, &start) in starts.iter().enumerate() {
        let end = starts.get(i + 1).copied().unwrap_or(text.len());
        chunks.push(Span::new(start, end));
    }
    chunks
}

fn starts_with_statement_keyword(line: &str) -> bool {
    let word: &str = first_word(line);
    STATEMENT_KEYWORDS.contains(&word)
}

/// The identifier at the start of `text`, or "".
pub(crate) fn first_word(text: &str) -> &str {
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    &text[..end]
}

/// The characters of `line` outside strings and comments: the ones that
/// give it structure.
fn structural_chars(line: &str) -> impl Iterator<Item = char> + '_ {
    let (mut in_string, mut escaped, mut in_comment) = (false, false, false);
    line.chars().filter(move |&c| {
        if in_comment {
            return false;
        }
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            return false;
        }
        match c {
            '"' => in_string = true,
            '#' => in_comment = true,
            _ => return true,
        }
        false
    })
}

/// Brace depth after `line`, ignoring braces in strings and comments.
fn depth_after(line: &str, depth: usize) -> usize {
    structural_chars(line).fold(depth, |depth, c| match c {
        '{' => depth + 1,
        '}' => depth.saturating_sub(1),
        _ => depth,
    })
}

/// Whether `line` has a brace outside strings and comments: such a line
/// cannot be skipped without breaking the block structure.
pub(crate) fn has_structural_brace(line: &str) -> bool {
    structural_chars(line).any(|c| c == '{' || c == '}')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str) -> Vec<&str> {
        statement_chunks(text)
            .into_iter()
            .map(|s| text[s.start..s.end].trim_end())
            .collect()
    }

    #[test]
    fn splits_at_top_level_lines() {
        let text = "# c\nscenario \"x\"\ntable t {\n  name \"a\" # {\n}\nseed 1\n";
        assert_eq!(
            texts(text),
            ["scenario \"x\"", "table t {\n  name \"a\" # {\n}", "seed 1"]
        );
    }

    #[test]
    fn an_unindented_keyword_ends_an_unclosed_block() {
        let text = "replay a into b {\n  window x\nreplay c into d {\n}\n";
        assert_eq!(texts(text).len(), 2);
    }

    #[test]
    fn a_hash_in_a_string_is_not_a_comment() {
        assert!(has_structural_brace("name \"#1\" }"));
        assert!(!has_structural_brace("name \"{\" # }"));
    }

    #[test]
    fn braces_in_strings_do_not_count() {
        let text = "table t { name \"}\" \n  layout single }\nseed 2\n";
        assert_eq!(texts(text).len(), 2);
    }

    #[test]
    fn an_indented_line_after_a_statement_without_braces_continues_it() {
        let text = "replay a into b\n  window x\n}\ntable t\n";
        assert_eq!(texts(text), ["replay a into b\n  window x", "}", "table t"]);
    }

    #[test]
    fn an_open_brace_on_its_own_line_continues_the_statement() {
        let text = "table t\n{\n  layout single\n}\n";
        assert_eq!(texts(text).len(), 1);
    }
}
