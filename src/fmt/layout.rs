//! The canonical layout: statements at the left margin, two spaces inside a
//! block, one clause a line, the author's line breaks inside a clause kept,
//! comments where they were, trailing comments aligned, blank lines
//! normalised (docs/fmt.md).

use super::gap::{self, Gap, Trailing};
use super::tokens::{Block, Clause, Kind, Statement, Tok};

/// How far a block's clauses are indented.
const INDENT: usize = 2;

/// Whether a line is at the top level or inside a block: trailing comments
/// are aligned among the lines of one block, or of one run of top-level
/// lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Level {
    Top,
    Block,
}

#[derive(Debug)]
enum Line {
    Blank(Level),
    Comment {
        indent: usize,
        level: Level,
        text: String,
    },
    Code {
        indent: usize,
        level: Level,
        text: String,
        comment: Option<(String, usize)>,
    },
}

/// Lines being built, and where a clause's continuation lines go.
#[derive(Default)]
struct Out {
    lines: Vec<Line>,
    continuation: usize,
}

impl Out {
    fn start(&mut self, indent: usize, level: Level, text: &str) {
        self.lines.push(Line::Code {
            indent,
            level,
            text: text.to_string(),
            comment: None,
        });
    }

    fn append(&mut self, text: &str) {
        if let Some(Line::Code { text: line, .. }) = self.lines.last_mut() {
            line.push_str(text);
        }
    }

    fn attach(&mut self, trailing: Option<Trailing<'_>>) {
        let Some(trailing) = trailing else { return };
        let last_code = self
            .lines
            .iter_mut()
            .rev()
            .find(|l| matches!(l, Line::Code { .. }));
        if let Some(Line::Code { comment, .. }) = last_code {
            *comment = Some((trailing.text.to_string(), trailing.column));
        }
    }

    fn blank(&mut self, level: Level) {
        if !matches!(self.lines.last(), None | Some(Line::Blank(_))) {
            self.lines.push(Line::Blank(level));
        }
    }

    fn comment(&mut self, indent: usize, level: Level, text: &str) {
        self.lines.push(Line::Comment {
            indent,
            level,
            text: text.to_string(),
        });
    }

    /// The own-line comments of a gap, each after a blank line where the
    /// author left one (`first_blank` decides for the first).
    fn comments(&mut self, gap: &Gap<'_>, indent: usize, level: Level, first_blank: bool) {
        for (i, own) in gap.own.iter().enumerate() {
            if (i == 0 && first_blank) || (i > 0 && own.blank_before) {
                self.blank(level);
            }
            self.comment(indent, level, own.text);
        }
    }
}

/// The text of `statements` (read from `text`) in the canonical layout.
pub(super) fn lay_out(text: &str, statements: &[Statement], crlf: bool) -> String {
    let mut out = Out::default();
    let mut previous: Option<(usize, bool)> = None;
    for st in statements {
        let (prev_end, prev_multi) = previous.unwrap_or((0, false));
        let gap = gap::read(text, prev_end, st.start(), previous.is_some());
        out.attach(gap.trailing);
        let mut body = Out::default();
        statement(&mut body, text, st);
        let multi = body.lines.len() > 1;
        if previous.is_some() {
            let written = gap.own.first().map_or(gap.blank_after, |c| c.blank_before);
            if written || prev_multi || multi {
                out.blank(Level::Top);
            }
        }
        out.comments(&gap, 0, Level::Top, false);
        if !gap.own.is_empty() && gap.blank_after {
            out.blank(Level::Top);
        }
        out.lines.append(&mut body.lines);
        previous = Some((st.end(), multi));
    }
    let (prev_end, prev_multi) = previous.unwrap_or((0, false));
    let gap = gap::read(text, prev_end, text.len(), previous.is_some());
    out.attach(gap.trailing);
    let first_blank = previous.is_some()
        && gap
            .own
            .first()
            .is_some_and(|c| c.blank_before || prev_multi);
    out.comments(&gap, 0, Level::Top, first_blank);
    render(&out.lines, if crlf { "\r\n" } else { "\n" })
}

fn statement(out: &mut Out, text: &str, st: &Statement) {
    tokens(out, text, &st.header, 0, Level::Top, None);
    let Some(block) = &st.block else { return };
    let before_brace = gap::read(text, last_end(&st.header), block.open.start, true);
    out.attach(before_brace.trailing);
    if before_brace.trailing.is_some() || !before_brace.own.is_empty() {
        out.comments(&before_brace, 0, Level::Top, false);
        out.start(0, Level::Top, "{");
    } else {
        out.append(" {");
    }
    if text[block.open.start..block.close.end].contains('\n') {
        multi_line_block(out, text, block);
    } else {
        one_line_block(out, text, block);
    }
}

/// `{ name "e2e_events"  layout single }`: clauses two spaces apart, or
/// after the comma the author put between them.
fn one_line_block(out: &mut Out, text: &str, block: &Block) {
    let mut previous: Option<&Clause> = None;
    for clause in &block.clauses {
        let separator = match previous {
            None => " ",
            Some(p) => separator(p, clause),
        };
        tokens(out, text, &clause.toks, 0, Level::Top, Some(separator));
        previous = Some(clause);
    }
    out.append(if block.clauses.is_empty() { "}" } else { " }" });
}

fn separator(previous: &Clause, clause: &Clause) -> &'static str {
    let after_comma = previous.toks.last().is_some_and(|t| t.kind == Kind::Comma);
    if after_comma || (previous.param && clause.param) {
        " "
    } else {
        "  "
    }
}

fn multi_line_block(out: &mut Out, text: &str, block: &Block) {
    let mut end = block.open.end;
    let mut previous: Option<&Clause> = None;
    for clause in &block.clauses {
        let Some(first) = clause.toks.first() else {
            continue;
        };
        let gap = gap::read(text, end, first.start, true);
        out.attach(gap.trailing);
        let joined = previous.is_some_and(|p| p.param && clause.param) && !gap.newline;
        if let (true, Some(p)) = (joined, previous) {
            tokens(
                out,
                text,
                &clause.toks,
                0,
                Level::Block,
                Some(separator(p, clause)),
            );
        } else {
            let first_blank = previous.is_some() && gap.own.first().is_some_and(|c| c.blank_before);
            out.comments(&gap, INDENT, Level::Block, first_blank);
            let blank_before_clause = if gap.own.is_empty() {
                previous.is_some() && gap.blank_after
            } else {
                gap.blank_after
            };
            if blank_before_clause {
                out.blank(Level::Block);
            }
            tokens(out, text, &clause.toks, INDENT, Level::Block, None);
        }
        end = last_end(&clause.toks);
        previous = Some(clause);
    }
    let gap = gap::read(text, end, block.close.start, true);
    out.attach(gap.trailing);
    let first_blank = previous.is_some() && gap.own.first().is_some_and(|c| c.blank_before);
    out.comments(&gap, INDENT, Level::Block, first_blank);
    out.start(0, Level::Top, "}");
}

/// Lays out a header or a clause. With `separator`, it goes on the current
/// line after it; otherwise it starts a line at `indent`. A line break the
/// author put between two of its tokens is kept: the next line is indented
/// under its second token.
fn tokens(
    out: &mut Out,
    text: &str,
    toks: &[Tok],
    indent: usize,
    level: Level,
    separator: Option<&str>,
) {
    let Some(first) = toks.first() else { return };
    match separator {
        Some(s) => {
            out.append(s);
            out.append(first.text(text));
        }
        None => {
            out.start(indent, level, first.text(text));
            out.continuation = indent + first.text(text).chars().count() + 1;
        }
    }
    for pair in toks.windows(2) {
        let (prev, tok) = (pair[0], pair[1]);
        let gap = gap::read(text, prev.end, tok.start, true);
        out.attach(gap.trailing);
        let at = out.continuation;
        out.comments(&gap, at, level, false);
        if gap.newline {
            out.start(at, level, tok.text(text));
        } else {
            out.append(spacing(prev.kind, tok.kind));
            out.append(tok.text(text));
        }
    }
}

/// The space between two tokens on one line.
fn spacing(before: Kind, after: Kind) -> &'static str {
    let tight_after = matches!(
        after,
        Kind::Comma
            | Kind::Colon
            | Kind::Dot
            | Kind::LParen
            | Kind::RParen
            | Kind::RBracket
            | Kind::Percent
    );
    let tight_before = matches!(before, Kind::LParen | Kind::LBracket | Kind::Dot);
    if tight_after || tight_before { "" } else { " " }
}

fn last_end(toks: &[Tok]) -> usize {
    toks.last().map_or(0, |t| t.end)
}

/// The lines as text, trailing comments aligned: in one block, or one run of
/// top-level lines, they share the rightmost column any of them was written
/// at, moved right where code would reach it.
fn render(lines: &[Line], newline: &str) -> String {
    let groups = groups(lines);
    let mut columns = vec![0usize; groups.iter().copied().max().map_or(0, |g| g + 1)];
    for (line, &group) in lines.iter().zip(&groups) {
        if let Line::Code {
            indent,
            text,
            comment: Some((_, column)),
            ..
        } = line
        {
            let width = indent + text.chars().count() + 1;
            columns[group] = columns[group].max(*column).max(width);
        }
    }
    let mut rendered = String::new();
    for (line, &group) in lines.iter().zip(&groups) {
        match line {
            Line::Blank(_) => {}
            Line::Comment { indent, text, .. } => {
                rendered.push_str(&" ".repeat(*indent));
                rendered.push_str(text);
            }
            Line::Code {
                indent,
                text,
                comment,
                ..
            } => {
                rendered.push_str(&" ".repeat(*indent));
                rendered.push_str(text);
                if let Some((comment, _)) = comment {
                    let width = indent + text.chars().count();
                    rendered.push_str(&" ".repeat(columns[group].saturating_sub(width).max(1)));
                    rendered.push_str(comment);
                }
            }
        }
        rendered.push_str(newline);
    }
    rendered
}

/// Each line's alignment group: the lines of one block share one; top-level
/// lines share one until a blank line, an own-line comment or a block.
fn groups(lines: &[Line]) -> Vec<usize> {
    let mut group = 0;
    let mut current = Level::Top;
    let mut groups = Vec::with_capacity(lines.len());
    for line in lines {
        match line {
            Line::Blank(Level::Top)
            | Line::Comment {
                level: Level::Top, ..
            } => {
                if current == Level::Top {
                    group += 1;
                }
            }
            Line::Blank(Level::Block) | Line::Comment { .. } => {}
            Line::Code { level, .. } => {
                if *level != current {
                    group += 1;
                    current = *level;
                }
            }
        }
        groups.push(group);
    }
    groups
}
