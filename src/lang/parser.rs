//! Source text → `ast::File` plus every syntax error in it.
//!
//! The file is cut into statements (`chunks`) and each is parsed with pest
//! on its own. When a line inside a block does not parse, the error is kept,
//! the line is blanked out (same length, so spans stay true) and the
//! statement is parsed again: one run reports several problems.

use pest::Parser as _;
use pest::error::InputLocation;

use crate::diagnostics::kind::SyntaxHint;
use crate::diagnostics::suggest::closest;
use crate::diagnostics::{Diagnostic, kind};
use crate::lang::ast::{self, Span};
use crate::lang::ast_builder;
use crate::lang::chunks::{self, STATEMENT_KEYWORDS};
use crate::lang::grammar::{Rule, ScenarioParser};
use crate::lang::literal;

/// How many lines one statement may lose to recovery before the rest of it
/// is given up.
const MAX_RECOVERIES_PER_STATEMENT: usize = 32;

/// What parsing gives: the statements that parsed (maybe after recovery),
/// the errors, and the names declared by statements that did not parse at
/// all, so that the validator does not call them unknown.
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    pub file: ast::File,
    pub diagnostics: Vec<Diagnostic>,
    pub losses: Losses,
}

/// What statements that did not parse at all would have declared, so that
/// the validator neither calls their names unknown nor reports follow-ons.
#[derive(Debug, Default)]
pub(crate) struct Losses {
    /// Sources and tables they declared.
    pub names: Vec<String>,
    /// A `scenario` statement was there.
    pub scenario: bool,
    /// Tables that steps write into: not unused, contents unknown.
    pub writers: Vec<String>,
}

pub(crate) fn parse(text: &str) -> Parsed {
    let mut parsed = Parsed::default();
    let mut block_without_open_brace = false;
    for chunk in chunks::statement_chunks(text) {
        // The `}` of a block whose `{` is missing was reported with it.
        if block_without_open_brace && text[chunk.start..chunk.end].trim() == "}" {
            block_without_open_brace = false;
            continue;
        }
        block_without_open_brace = parse_statement(text, chunk, &mut parsed);
    }
    parsed
}

/// Parses one statement into `parsed`; true when its block has no `{`.
fn parse_statement(text: &str, chunk: Span, parsed: &mut Parsed) -> bool {
    let original = &text[chunk.start..chunk.end];
    let word = chunks::first_word(original);
    if original.starts_with('}') {
        let span = Span::new(chunk.start, chunk.start + 1);
        parsed
            .diagnostics
            .push(Diagnostic::new(kind::UnmatchedBrace, span));
        return false;
    }
    if !word.is_empty() && !STATEMENT_KEYWORDS.contains(&word) {
        let span = Span::new(chunk.start, chunk.start + word.len());
        let kind = kind::UnknownStatement {
            word: word.to_string(),
            suggestion: closest(word, STATEMENT_KEYWORDS.iter().copied()),
        };
        parsed.diagnostics.push(Diagnostic::new(kind, span));
        return false;
    }
    let mut buffer = original.to_string();
    let mut recovered = false;
    for _ in 0..MAX_RECOVERIES_PER_STATEMENT {
        let error = match ScenarioParser::parse(Rule::statement_chunk, &buffer) {
            Ok(mut pairs) => {
                let statement = pairs.next().and_then(|p| p.into_inner().next());
                if let Some(pair) = statement {
                    let mut built =
                        ast_builder::statement(pair, chunk.start, &mut parsed.diagnostics);
                    built.recovered = recovered;
                    parsed.file.statements.push(built);
                }
                return false;
            }
            Err(error) => error,
        };
        let at = match error.location {
            InputLocation::Pos(p) => p,
            InputLocation::Span((p, _)) => p,
        };
        if let Some(header_end) = missing_open_brace(&buffer, at, &error) {
            let span = Span::new(chunk.start + header_end, chunk.start + header_end);
            parsed
                .diagnostics
                .push(Diagnostic::new(kind::MissingOpenBrace, span));
            parsed.losses.names.extend(declared_name(original));
            parsed.losses.writers.extend(written_table(original));
            return true;
        }
        parsed
            .diagnostics
            .push(syntax_diagnostic(&buffer, at, chunk.start, &error));
        let Some(line) = skippable_line(&buffer, at) else {
            break;
        };
        // Blank the line byte for byte: ASCII spaces keep every offset valid.
        buffer.replace_range(line.start..line.end, &" ".repeat(line.len()));
        recovered = true;
    }
    parsed.losses.names.extend(declared_name(original));
    parsed.losses.writers.extend(written_table(original));
    parsed.losses.scenario |= word == "scenario";
    false
}

/// Where a statement's first line ends, when the statement fails on a later
/// line because it expected `{` there: its block lacks the opening brace.
fn missing_open_brace(buffer: &str, at: usize, error: &pest::error::Error<Rule>) -> Option<usize> {
    let header_end = buffer.find('\n')?;
    let expects_brace = match &error.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => {
            positives.contains(&Rule::lbrace)
        }
        pest::error::ErrorVariant::CustomError { .. } => false,
    };
    let header = &buffer[..header_end];
    (expects_brace && at > header_end && !chunks::has_structural_brace(header))
        .then(|| header.trim_end().len())
}

/// The line holding `at`, unless it is the statement's first line or holds
/// a brace: skipping those would break the block structure.
fn skippable_line(buffer: &str, at: usize) -> Option<Span> {
    let at = at.min(buffer.len());
    let start = buffer[..at].rfind('\n').map(|i| i + 1)?;
    let end = buffer[at..]
        .find('\n')
        .map(|i| at + i)
        .unwrap_or(buffer.len());
    let line = &buffer[start..end];
    if line.trim().is_empty() || chunks::has_structural_brace(line) {
        return None;
    }
    Some(Span::new(start, end))
}

/// `source NAME` and `table NAME` of a statement that did not parse.
fn declared_name(statement: &str) -> Option<String> {
    let mut words = statement.split_whitespace();
    match words.next() {
        Some("source") | Some("table") => words
            .next()
            .map(chunks::first_word)
            .filter(|w| !w.is_empty())
            .map(str::to_string),
        _ => None,
    }
}

/// The table a step that did not parse writes into: the word after `into`,
/// else the last word before `{` on its first line.
fn written_table(statement: &str) -> Option<String> {
    let header = statement.lines().next()?;
    if !matches!(
        chunks::first_word(header),
        "replay" | "generate" | "extrapolate"
    ) {
        return None;
    }
    let words: Vec<&str> = header.split('{').next()?.split_whitespace().collect();
    let word = match words.iter().position(|w| *w == "into") {
        Some(i) => words.get(i + 1)?,
        None => words.last()?,
    };
    Some(chunks::first_word(word).to_string()).filter(|w| !w.is_empty())
}

fn syntax_diagnostic(
    buffer: &str,
    at: usize,
    offset: usize,
    error: &pest::error::Error<Rule>,
) -> Diagnostic {
    let at = at.min(buffer.len());
    let rest = &buffer[at..];
    if rest.starts_with('"') && !closes_string(rest) {
        return Diagnostic::new(
            kind::UnterminatedString,
            Span::new(offset + at, offset + at + 1),
        );
    }
    let expected = match &error.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => describe_all(positives),
        pest::error::ErrorVariant::CustomError { .. } => vec![],
    };
    if rest.trim().is_empty()
        && expected.iter().any(|e| e == "`}`")
        && let Some(open) = first_open_brace(buffer)
    {
        let span = Span::new(offset + open, offset + open + 1);
        return Diagnostic::new(kind::UnclosedBlock { open: span }, span);
    }
    let word = chunks::first_word(rest);
    let at_line_start = buffer[..at]
        .rsplit('\n')
        .next()
        .is_some_and(|b| b.trim().is_empty());
    if at_line_start
        && !word.is_empty()
        && let Some(suggestion) = closest(word, STATEMENT_KEYWORDS.iter().copied())
    {
        let kind = kind::UnknownStatement {
            word: word.to_string(),
            suggestion: Some(suggestion),
        };
        return Diagnostic::new(kind, Span::new(offset + at, offset + at + word.len()));
    }
    let (mut found, mut width) = describe_found(rest);
    let wants_duration = match &error.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => positives
            .iter()
            .any(|r| matches!(r, Rule::duration | Rule::signed_duration)),
        pest::error::ErrorVariant::CustomError { .. } => false,
    };
    let hint = match literal::loose_duration(rest) {
        Some((duration, used)) if wants_duration => {
            width = used;
            found = format!("`{}`", &rest[..used]);
            Some(SyntaxHint::Duration {
                rewrite: duration.to_string(),
            })
        }
        _ => None,
    };
    Diagnostic::new(
        kind::Syntax {
            expected,
            found,
            hint,
        },
        Span::new(offset + at, offset + at + width),
    )
}

fn closes_string(rest: &str) -> bool {
    let line = rest[1..].split('\n').next().unwrap_or("");
    let mut escaped = false;
    for c in line.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => return true,
            _ => {}
        }
    }
    false
}

fn first_open_brace(buffer: &str) -> Option<usize> {
    let mut offset = 0;
    for line in buffer.split_inclusive('\n') {
        if chunks::has_structural_brace(line)
            && let Some(i) = line.find('{')
        {
            return Some(offset + i);
        }
        offset += line.len();
    }
    None
}

/// What stands at the error, in words, and how many bytes to underline.
fn describe_found(rest: &str) -> (String, usize) {
    let Some(c) = rest.chars().next() else {
        return ("the end of the statement".into(), 0);
    };
    if c == '\n' || c == '\r' {
        return ("the end of the line".into(), 0);
    }
    let token: String = if c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.' {
        rest.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':' | '+'))
            .take(40)
            .collect()
    } else {
        c.to_string()
    };
    let width = token.len();
    let shown = if token == "`" {
        "a backtick".to_string()
    } else {
        format!("`{}`", token.escape_debug())
    };
    (shown, width)
}

fn describe_all(rules: &[Rule]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for rule in rules {
        // "`+` or `-`" is two alternatives of one rule; list them singly.
        for text in describe(*rule).into_iter().flat_map(|t| t.split(" or ")) {
            if !out.iter().any(|o| o == text) {
                out.push(text.to_string());
            }
        }
    }
    out
}

/// Pest rule names in words a user knows; `None` hides a rule that is only
/// there for recovery.
fn describe(rule: Rule) -> Option<&'static str> {
    use Rule::*;
    Some(match rule {
        ident => "a name",
        string => "a string such as `\"oslo-1\"`",
        number => "a number such as `12.5`",
        integer => "a whole number such as `7`",
        duration => "a duration such as `15m`",
        signed_duration => "a duration such as `-2h`",
        boolean => "`true` or `false`",
        timestamp => "a timestamp such as `2024-03-12T08:00Z`",
        kw_now => "`now`",
        time_op => "`+` or `-`",
        time_expr => "a time such as `now - 1h` or `2024-03-12T08:00Z`",
        time_range => "a range such as `2024-03-12T00:00Z .. 2024-03-13T00:00Z`",
        range_op => "`..`",
        value => "a value (a number, a duration, a string, `true` or `false`)",
        ident_list => "a list of names such as `device_id, site`",
        column => "a name such as `device_id` or `\"device-id\"`",
        dimension_decl => "a dimension such as `device_id` or `\"device-id\" as device_id`",
        rename => "`as` and a name, such as `as device_id`",
        measure_type => "a type (`double`, `bigint`, `boolean` or `varchar`)",
        kw_as => "`as`",
        kw_delimiter | delimiter_clause => "`delimiter`",
        kw_escape | escape_clause => "`escape`",
        kw_redact | redact_clause => "`redact`",
        kw_salt | redact_salt => "`salt env \"NAME\"`",
        kw_env => "`env`",
        assignment => "an assignment such as `site = \"lab\"`",
        assign_op => "`=`",
        lbrace => "`{`",
        rbrace => "`}`",
        kw_scenario | scenario_stmt => "`scenario`",
        kw_seed | seed_stmt => "`seed`",
        kw_anchor | anchor_stmt => "`anchor`",
        kw_align => "`align`",
        kw_source | source_stmt => "`source`",
        kw_table | table_stmt => "`table`",
        kw_replay | replay_stmt => "`replay`",
        kw_generate | generate_stmt => "`generate`",
        kw_extrapolate | extrapolate_stmt => "`extrapolate`",
        kw_anomaly | anomaly_stmt => "`anomaly`",
        kw_into => "`into`",
        kw_on => "`on`",
        kw_time | time_clause => "`time`",
        kw_format => "`format`",
        kw_timezone | timezone_clause => "`timezone`",
        kw_nonexistent | nonexistent_clause => "`nonexistent`",
        kw_ambiguous | ambiguous_clause => "`ambiguous`",
        kw_dimensions | dimensions_clause => "`dimensions`",
        kw_measures | measures_clause | measures_subset_clause => "`measures`",
        kw_measure | measure_clause => "`measure`",
        kw_from | range_clause => "`from`",
        kw_value => "`value`",
        kw_name | name_clause => "`name`",
        kw_layout | layout_clause => "`layout`",
        kw_measure_name | measure_name_clause => "`measure_name`",
        kw_window | window_clause => "`window`",
        kw_where | where_clause => "`where`",
        kw_and => "`and`",
        kw_in => "`in`",
        kw_shift | shift_clause => "`shift`",
        kw_start | shift_start => "`start to`",
        kw_end | shift_end => "`end to`",
        kw_to => "`to`",
        kw_by | shift_by | shift_calendar => "`by`",
        kw_days => "`days`",
        kw_speed | speed_clause => "`speed`",
        kw_set | set_clause => "`set`",
        kw_series | series_clause => "`series`",
        kw_for => "`for`",
        kw_every => "`every`",
        kw_learn | learn_clause => "`learn`",
        kw_model | model_clause => "`model`",
        kw_clamp | clamp => "`clamp`",
        kw_at | at_clause => "`at`",
        kw_per => "`per`",
        long_measures => "`from COLUMN value COLUMN [TYPE]`",
        measure_decl => "a measure such as `temperature double` or `\"Temp (C)\" as temp_c double`",
        condition => "a condition such as `site == \"oslo-1\"`",
        eq_op => "`==`",
        ne_op => "`!=`",
        string_list => "a list such as `[\"a\", \"b\"]`",
        model => "a model such as `noise(sigma: 1)`",
        term => "a model term such as `trend` or `sine(period: 24h)`",
        plus_op => "`+`",
        lparen => "`(`",
        rparen => "`)`",
        arg => "an argument such as `period: 24h`",
        colon => "`:`",
        dot => "`.`",
        comma => "`,`",
        anomaly_param => "a parameter such as `magnitude 12.5`",
        anomaly_name => "`as` and a name, such as `as door_warmup`",
        kw_expect | expect_stmt => "`expect`",
        kw_alert | expect_alert => "`alert`",
        kw_query | query_clause => "`query`",
        kw_rows | rows_clause => "`rows`",
        kw_empty | empty_clause => "`empty`",
        kw_between => "`between`",
        kw_approx | approx => "`approx`",
        kw_rel => "`rel`",
        kw_abs => "`abs`",
        kw_within | within_clause => "`within`",
        kw_hold | hold_clause => "`hold`",
        kw_never | never_clause => "`never`",
        kw_labels | labels_clause => "`labels`",
        kw_firing => "`firing`",
        kw_resolved => "`resolved`",
        alert_status | status_clause => "`firing` or `resolved`",
        kw_of => "`of`",
        kw_count | count_clause => "`count`",
        expect_window => "`window`",
        anomaly_window => "`anomaly NAME`",
        compare_op => "a comparison such as `>=`",
        comparison => "a comparison such as `>= 1`, `between 2 and 4` or `approx 5 rel 3%`",
        percent => "`%`",
        value_clause => "`value`",
        EOI => "the end of the statement",
        WHITESPACE | COMMENT | ident_char | digits | duration_part | statement | source_clause
        | table_clause | replay_clause | generate_clause | extrapolate_clause | anomaly_clause
        | statement_chunk | source_keyword | table_keyword | replay_keyword | generate_keyword
        | extrapolate_keyword | source_unknown | table_unknown | replay_unknown
        | generate_unknown | extrapolate_unknown | series_stray_value | expect_clause
        | expect_keyword | expect_unknown => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::DiagnosticKind;

    #[test]
    fn every_rule_reachable_in_errors_is_described_or_hidden_on_purpose() {
        // A compile-time match covers every rule; this checks the words read
        // as words, not as grammar rule names.
        for rule in [Rule::duration, Rule::rbrace, Rule::time_expr] {
            let text = describe(rule).unwrap();
            assert!(!text.contains('_') || text.contains('`'), "{text}");
        }
    }

    #[test]
    fn recovery_reports_several_errors_in_one_statement() {
        let text =
            "scenario \"x\"\nreplay a into b {\n  window 2024 ..\n  speed fast\n  shift by 1h\n}\n";
        let parsed = parse(text);
        assert_eq!(parsed.diagnostics.len(), 2, "{:#?}", parsed.diagnostics);
        assert_eq!(parsed.file.statements.len(), 2);
        assert!(parsed.file.statements[1].recovered);
    }

    #[test]
    fn a_missing_brace_points_at_the_opening_one() {
        let text = "scenario \"x\"\ntable t {\n  layout single\n\nseed 1\n";
        let parsed = parse(text);
        assert_eq!(parsed.diagnostics.len(), 1);
        let d = &parsed.diagnostics[0];
        assert!(matches!(d.kind, DiagnosticKind::UnclosedBlock(_)));
        assert_eq!(&text[d.span.start..d.span.end], "{");
        assert_eq!(parsed.losses.names, ["t"]);
    }
}
