//! A statement as the formatter sees it: a header, maybe a block of
//! clauses, every token a byte range of the text as written (strings,
//! numbers, durations and timestamps are never rewritten).
//!
//! The grammar gives the structure: each top-level statement is parsed with
//! `statement_chunk`, as the parser does, and its pairs are flattened into
//! tokens. The only tokens that are not pairs are a list's `[` and `]`,
//! which are read from the gaps; anything else in a gap but spaces and
//! comments is refused, so no text can be dropped.

use pest::Parser as _;
use pest::iterators::Pair;

use crate::lang::chunks;
use crate::lang::grammar::{Rule, ScenarioParser};

/// What a token is, as far as spacing goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    /// A keyword, a name, a literal or an operator: spaced on both sides.
    Word,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Colon,
    Dot,
    /// `%` after a number (`rel 3%`): no space before it.
    Percent,
    /// An unknown clause, kept as written up to the end of its line.
    Raw,
}

#[derive(Clone, Copy, Debug)]
pub(super) struct Tok {
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) kind: Kind,
}

impl Tok {
    pub(super) fn text(self, text: &str) -> &str {
        &text[self.start..self.end]
    }
}

/// A clause of a block, with the comma that follows it in an anomaly.
#[derive(Debug)]
pub(super) struct Clause {
    pub(super) toks: Vec<Tok>,
    /// An anomaly's parameter (`magnitude 12.5`): parameters the author put
    /// on one line stay on it (`rate 0.05 magnitude 20`).
    pub(super) param: bool,
}

#[derive(Debug)]
pub(super) struct Block {
    pub(super) open: Tok,
    pub(super) clauses: Vec<Clause>,
    pub(super) close: Tok,
}

#[derive(Debug)]
pub(super) struct Statement {
    pub(super) header: Vec<Tok>,
    pub(super) block: Option<Block>,
}

impl Statement {
    pub(super) fn start(&self) -> usize {
        self.header.first().map_or(0, |t| t.start)
    }

    pub(super) fn end(&self) -> usize {
        match &self.block {
            Some(b) => b.close.end,
            None => self.header.last().map_or(0, |t| t.end),
        }
    }

    /// Every token in order.
    fn all(&self) -> impl Iterator<Item = Tok> + '_ {
        let block = self.block.iter().flat_map(|b| {
            std::iter::once(b.open)
                .chain(b.clauses.iter().flat_map(|c| c.toks.iter().copied()))
                .chain(std::iter::once(b.close))
        });
        self.header.iter().copied().chain(block)
    }
}

/// The statements of a text that parses without errors.
pub(super) fn statements(text: &str) -> Result<Vec<Statement>, String> {
    let mut statements = Vec::new();
    for chunk in chunks::statement_chunks(text) {
        let source = &text[chunk.start..chunk.end];
        let mut pairs = ScenarioParser::parse(Rule::statement_chunk, source)
            .map_err(|e| format!("a statement does not parse: {e}"))?;
        let Some(pair) = pairs.next().and_then(|p| p.into_inner().next()) else {
            continue;
        };
        statements.push(statement(text, chunk.start, pair)?);
    }
    Ok(statements)
}

fn statement(text: &str, base: usize, pair: Pair<'_, Rule>) -> Result<Statement, String> {
    let mut header = Vec::new();
    let mut open = None;
    let mut close = None;
    let mut clauses: Vec<Clause> = Vec::new();
    let mut last_end = base + pair.as_span().start();
    for child in pair.into_inner() {
        let (start, end) = (base + child.as_span().start(), base + child.as_span().end());
        only_trivia(text, last_end, start)?;
        last_end = end;
        let rule = child.as_rule();
        match rule {
            Rule::lbrace => open = Some(leaf(text, base, &child)),
            Rule::rbrace => close = Some(leaf(text, base, &child)),
            _ if open.is_none() => header.extend(flatten(text, base, child)?),
            Rule::comma => match clauses.last_mut() {
                Some(clause) => clause.toks.push(leaf(text, base, &child)),
                None => return Err("a comma before any clause".to_string()),
            },
            _ => clauses.push(Clause {
                toks: flatten(text, base, child)?,
                param: rule == Rule::anomaly_param,
            }),
        }
    }
    let block = match (open, close) {
        (Some(open), Some(close)) => Some(Block {
            open,
            clauses,
            close,
        }),
        (None, None) => None,
        _ => return Err("a block without both braces".to_string()),
    };
    Ok(Statement { header, block })
}

/// The tokens of a pair: its leaves, and the `[` `]` between them.
fn flatten(text: &str, base: usize, pair: Pair<'_, Rule>) -> Result<Vec<Tok>, String> {
    let (start, end) = (base + pair.as_span().start(), base + pair.as_span().end());
    let mut leaves = Vec::new();
    collect_leaves(text, base, pair, &mut leaves);
    let mut toks = Vec::with_capacity(leaves.len());
    let mut at = start;
    for tok in leaves {
        brackets(text, at, tok.start, &mut toks)?;
        at = tok.end.max(at);
        toks.push(tok);
    }
    brackets(text, at, end, &mut toks)?;
    Ok(toks)
}

fn collect_leaves(text: &str, base: usize, pair: Pair<'_, Rule>, into: &mut Vec<Tok>) {
    let mut inner = pair.clone().into_inner().peekable();
    if inner.peek().is_none() {
        into.push(leaf(text, base, &pair));
        return;
    }
    for child in inner {
        collect_leaves(text, base, child, into);
    }
}

fn leaf(text: &str, base: usize, pair: &Pair<'_, Rule>) -> Tok {
    let (start, end) = (base + pair.as_span().start(), base + pair.as_span().end());
    let kind = match pair.as_rule() {
        Rule::lparen => Kind::LParen,
        Rule::rparen => Kind::RParen,
        Rule::comma => Kind::Comma,
        Rule::colon => Kind::Colon,
        Rule::dot => Kind::Dot,
        Rule::percent => Kind::Percent,
        Rule::source_unknown
        | Rule::table_unknown
        | Rule::replay_unknown
        | Rule::generate_unknown
        | Rule::extrapolate_unknown
        | Rule::expect_unknown => Kind::Raw,
        _ => Kind::Word,
    };
    // An unknown clause runs to the end of its line: its trailing spaces
    // (and a `\r`) are not part of it.
    let end = match kind {
        Kind::Raw => start + text[start..end].trim_end().len(),
        _ => end,
    };
    Tok { start, end, kind }
}

/// The `[` and `]` in `text[from..to]`, which otherwise holds only spaces
/// and comments.
fn brackets(text: &str, from: usize, to: usize, into: &mut Vec<Tok>) -> Result<(), String> {
    each_non_trivia(text, from, to, |at, c| {
        let kind = match c {
            '[' => Kind::LBracket,
            ']' => Kind::RBracket,
            _ => return Err(format!("unexpected `{c}` at byte {at}")),
        };
        into.push(Tok {
            start: at,
            end: at + 1,
            kind,
        });
        Ok(())
    })
}

fn only_trivia(text: &str, from: usize, to: usize) -> Result<(), String> {
    each_non_trivia(text, from, to, |at, c| {
        Err(format!("unexpected `{c}` at byte {at}"))
    })
}

/// Calls `f` on every character of `text[from..to]` outside spaces and
/// comments.
fn each_non_trivia(
    text: &str,
    from: usize,
    to: usize,
    mut f: impl FnMut(usize, char) -> Result<(), String>,
) -> Result<(), String> {
    let Some(gap) = text.get(from..to) else {
        return Ok(());
    };
    let mut in_comment = false;
    for (i, c) in gap.char_indices() {
        match c {
            '\n' => in_comment = false,
            _ if in_comment || c.is_whitespace() => {}
            '#' => in_comment = true,
            _ => f(from + i, c)?,
        }
    }
    Ok(())
}

/// Checks that two texts hold the same statements of the same tokens.
pub(super) fn same_tokens(
    before: &str,
    old: &[Statement],
    after: &str,
    new: &[Statement],
) -> Result<(), String> {
    if old.len() != new.len() {
        return Err(format!("{} statements became {}", old.len(), new.len()));
    }
    for (a, b) in old.iter().zip(new) {
        let a: Vec<&str> = a.all().map(|t| t.text(before)).collect();
        let b: Vec<&str> = b.all().map(|t| t.text(after)).collect();
        if a != b {
            return Err(format!("`{}` reads differently", a.join(" ")));
        }
    }
    Ok(())
}
