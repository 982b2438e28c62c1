//! What lies between two tokens besides spaces: comments, line breaks and
//! blank lines, as the layout needs them.

/// A comment after code on its line: its text and the column (in
/// characters) the author put it at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Trailing<'a> {
    pub(super) text: &'a str,
    pub(super) column: usize,
}

/// A comment on a line of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Own<'a> {
    pub(super) text: &'a str,
    /// A blank line separates it from what comes before.
    pub(super) blank_before: bool,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Gap<'a> {
    pub(super) trailing: Option<Trailing<'a>>,
    pub(super) own: Vec<Own<'a>>,
    /// A blank line separates the last comment (or, without comments, the
    /// token before the gap) from the token after it.
    pub(super) blank_after: bool,
    /// The gap holds a line break.
    pub(super) newline: bool,
}

/// Reads `text[from..to]`, which holds only spaces and comments;
/// `after_token` says whether code comes before it on its first line.
pub(super) fn read(text: &str, from: usize, to: usize, after_token: bool) -> Gap<'_> {
    let mut gap = Gap::default();
    let Some(slice) = text.get(from..to) else {
        return gap;
    };
    let mut on_code_line = after_token;
    let mut newlines = 0;
    let mut rest = slice;
    let mut at = from;
    while let Some(c) = rest.chars().next() {
        if c == '#' {
            let len = rest.find('\n').unwrap_or(rest.len());
            let comment = rest[..len].trim_end();
            if on_code_line && gap.trailing.is_none() && gap.own.is_empty() {
                let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
                gap.trailing = Some(Trailing {
                    text: comment,
                    column: text[line_start..at].chars().count(),
                });
            } else {
                gap.own.push(Own {
                    text: comment,
                    blank_before: newlines >= 2,
                });
            }
            newlines = 0;
            rest = &rest[len..];
            at += len;
            continue;
        }
        if c == '\n' {
            newlines += 1;
            on_code_line = false;
            gap.newline = true;
        }
        rest = &rest[c.len_utf8()..];
        at += c.len_utf8();
    }
    gap.blank_after = newlines >= 2;
    gap
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_comment_after_code_is_trailing_and_keeps_its_column() {
        let text = "time ts    # the clock\n  # own\n\nnext";
        let gap = read(text, 7, text.len() - 4, true);
        assert_eq!(
            gap.trailing,
            Some(Trailing {
                text: "# the clock",
                column: 11
            })
        );
        assert_eq!(
            gap.own,
            vec![Own {
                text: "# own",
                blank_before: false
            }]
        );
        assert!(gap.blank_after && gap.newline);
    }

    #[test]
    fn blank_lines_are_seen_before_own_comments() {
        let text = "a\n\n\n# one\n# two\r\nb";
        let gap = read(text, 1, text.len() - 1, true);
        assert_eq!(gap.trailing, None);
        assert_eq!(gap.own.len(), 2);
        assert!(gap.own[0].blank_before && !gap.own[1].blank_before);
        assert_eq!(gap.own[1].text, "# two");
        assert!(!gap.blank_after);
    }
}
