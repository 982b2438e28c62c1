//! Pest pairs → `ast` nodes. Spans become offsets into the whole file;
//! string escapes are decoded here (a bad one is reported and kept as
//! written). Everything else is checked by `validate`.

use pest::iterators::Pair;

use crate::diagnostics::{Diagnostic, kind};
use crate::lang::ast::*;
use crate::lang::chunks::first_word;
use crate::lang::grammar::Rule;

/// Builds one statement; `offset` is where its chunk starts in the file.
pub(crate) fn statement(
    pair: Pair<'_, Rule>,
    offset: usize,
    diagnostics: &mut Vec<Diagnostic>,
) -> Statement {
    let mut builder = Builder {
        offset,
        diagnostics,
    };
    builder.statement(pair)
}

struct Builder<'d> {
    offset: usize,
    diagnostics: &'d mut Vec<Diagnostic>,
}

/// Where the pair's text really ends: after its last token, or after a
/// literal (`]`, `)`) that follows it, but before white space and comments.
fn last_token_end(pair: &Pair<'_, Rule>) -> usize {
    let mut current = pair.clone();
    while let Some(last) = current.clone().into_inner().last() {
        current = last;
    }
    let (start, end) = (pair.as_span().start(), pair.as_span().end());
    let token_end = current.as_span().end().clamp(start, end);
    let tail = &pair.as_str()[token_end - start..];
    let mut real_end = token_end;
    let mut in_comment = false;
    for (i, c) in tail.char_indices() {
        match c {
            '\n' => in_comment = false,
            _ if in_comment || c.is_whitespace() => {}
            '#' => in_comment = true,
            _ => real_end = token_end + i + c.len_utf8(),
        }
    }
    real_end
}

/// The children that carry meaning: keywords and punctuation are dropped,
/// except the few words that tell two forms apart.
fn parts(pair: Pair<'_, Rule>) -> Vec<Pair<'_, Rule>> {
    pair.into_inner()
        .filter(|p| {
            !matches!(
                p.as_rule(),
                Rule::lbrace
                    | Rule::rbrace
                    | Rule::assign_op
                    | Rule::dot
                    | Rule::colon
                    | Rule::lparen
                    | Rule::rparen
                    | Rule::range_op
                    | Rule::plus_op
                    | Rule::comma
            ) && !is_dropped_keyword(p.as_rule())
        })
        .collect()
}

fn is_dropped_keyword(rule: Rule) -> bool {
    let name = format!("{rule:?}");
    name.starts_with("kw_")
        && !matches!(
            rule,
            Rule::kw_now | Rule::kw_to | Rule::kw_for | Rule::kw_in
        )
}

impl Builder<'_> {
    /// The pair's span, ending at its last token: pest's spans of
    /// non-atomic rules run on over the white space and comments after them.
    fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let start = pair.as_span().start();
        Span::new(self.offset + start, self.offset + last_token_end(pair))
    }

    fn name(&self, pair: &Pair<'_, Rule>) -> Name {
        Spanned::new(pair.as_str().to_string(), self.span(pair))
    }

    /// A column, dimension or measure name: an identifier, or a string
    /// (decoded) where the name is not one.
    fn column(&mut self, pair: &Pair<'_, Rule>) -> Name {
        let inner = match pair.as_rule() {
            Rule::column => pair.clone().into_inner().next(),
            _ => Some(pair.clone()),
        };
        match inner {
            Some(p) if p.as_rule() == Rule::string => self.string(&p),
            Some(p) => self.name(&p),
            None => self.name(pair),
        }
    }

    fn lit(&self, pair: &Pair<'_, Rule>) -> Lit {
        self.name(pair)
    }

    /// A keyword-led clause whose keyword is the first word of its text.
    fn keyword_span(&self, pair: &Pair<'_, Rule>) -> Span {
        let start = self.offset + pair.as_span().start();
        Span::new(start, start + first_word(pair.as_str()).len())
    }

    fn statement(&mut self, pair: Pair<'_, Rule>) -> Statement {
        let span = self.span(&pair);
        let keyword = self.keyword_span(&pair);
        let rule = pair.as_rule();
        let p = parts(pair);
        let kind = match rule {
            Rule::scenario_stmt => StatementKind::Scenario(self.string(&p[0])),
            Rule::seed_stmt => StatementKind::Seed(self.lit(&p[0])),
            Rule::anchor_stmt => StatementKind::AnchorAlign(self.lit(&p[0])),
            Rule::source_stmt => StatementKind::Source(Source {
                name: self.name(&p[0]),
                kind: self.name(&p[1]),
                path: self.string(&p[2]),
                clauses: p[3..]
                    .iter()
                    .map(|c| self.source_clause(c.clone()))
                    .collect(),
            }),
            Rule::table_stmt => StatementKind::Table(Table {
                name: self.name(&p[0]),
                clauses: p[1..]
                    .iter()
                    .map(|c| self.table_clause(c.clone()))
                    .collect(),
            }),
            Rule::replay_stmt => StatementKind::Replay(Replay {
                source: self.name(&p[0]),
                table: self.name(&p[1]),
                clauses: self.step_clauses(&p[2..]),
            }),
            Rule::generate_stmt => StatementKind::Generate(Generate {
                table: self.name(&p[0]),
                clauses: self.step_clauses(&p[1..]),
            }),
            Rule::extrapolate_stmt => StatementKind::Extrapolate(Extrapolate {
                source: self.name(&p[0]),
                measure: self.column(&p[1]),
                table: self.name(&p[2]),
                clauses: self.step_clauses(&p[3..]),
            }),
            Rule::anomaly_stmt => {
                let name = p
                    .get(1)
                    .filter(|x| x.as_rule() == Rule::anomaly_name)
                    .map(|x| self.name(&parts(x.clone())[0]));
                let table = if name.is_some() { 2 } else { 1 };
                let has_measure = p
                    .get(table + 1)
                    .is_some_and(|x| x.as_rule() == Rule::column);
                let first_clause = table + 1 + usize::from(has_measure);
                StatementKind::Anomaly(Anomaly {
                    kind: self.name(&p[0]),
                    name,
                    table: self.name(&p[table]),
                    measure: if has_measure {
                        Some(self.column(&p[table + 1]))
                    } else {
                        None
                    },
                    clauses: p[first_clause..]
                        .iter()
                        .map(|c| self.anomaly_clause(c.clone()))
                        .collect(),
                })
            }
            Rule::expect_stmt => {
                let alert = p
                    .first()
                    .filter(|x| x.as_rule() == Rule::expect_alert)
                    .map(|x| self.span(x));
                let title = usize::from(alert.is_some());
                StatementKind::Expect(Expect {
                    alert,
                    title: self.string(&p[title]),
                    clauses: p[title + 1..]
                        .iter()
                        .map(|c| {
                            let span = self.span(c);
                            Spanned::new(self.expect_clause(c.clone()), span)
                        })
                        .collect(),
                })
            }
            other => unreachable!("the grammar's statement rule has no {other:?}"),
        };
        Statement {
            kind,
            span,
            keyword,
            recovered: false,
        }
    }

    fn unknown(&self, pair: &Pair<'_, Rule>) -> Name {
        Spanned::new(
            first_word(pair.as_str()).to_string(),
            self.keyword_span(pair),
        )
    }

    fn source_clause(&mut self, pair: Pair<'_, Rule>) -> SourceClause {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        if rule == Rule::source_unknown {
            return SourceClause::Unknown(self.unknown(&pair));
        }
        let p = parts(pair);
        match rule {
            Rule::time_clause => SourceClause::Time {
                span,
                column: self.column(&p[0]),
                format: p.get(1).map(|f| match f.as_rule() {
                    Rule::string => TimeFormatSyntax::Strftime(self.string(f)),
                    _ => TimeFormatSyntax::Word(self.name(f)),
                }),
            },
            Rule::timezone_clause => SourceClause::Timezone(self.string(&p[0])),
            Rule::nonexistent_clause => SourceClause::Nonexistent(self.name(&p[0])),
            Rule::ambiguous_clause => SourceClause::Ambiguous(self.name(&p[0])),
            Rule::dimensions_clause => SourceClause::Dimensions(
                p.iter()
                    .map(|decl| {
                        let d = parts(decl.clone());
                        DimensionDecl {
                            column: self.column(&d[0]),
                            rename: d.get(1).map(|r| self.rename(r)),
                        }
                    })
                    .collect(),
            ),
            Rule::measures_clause if p[0].as_rule() == Rule::long_measures => {
                let l = parts(p[0].clone());
                SourceClause::LongMeasures {
                    span,
                    name_column: self.column(&l[0]),
                    value_column: self.column(&l[1]),
                    ty: l.get(2).map(|t| self.measure_type(t)),
                }
            }
            Rule::measures_clause => SourceClause::Measures(
                p.into_iter()
                    .map(|decl| {
                        let d = parts(decl);
                        let mut decl = MeasureDecl {
                            name: self.column(&d[0]),
                            rename: None,
                            ty: None,
                        };
                        for part in &d[1..] {
                            match part.as_rule() {
                                Rule::rename => decl.rename = Some(self.rename(part)),
                                _ => decl.ty = Some(self.measure_type(part)),
                            }
                        }
                        decl
                    })
                    .collect(),
            ),
            Rule::delimiter_clause => SourceClause::Delimiter(self.string(&p[0])),
            Rule::escape_clause => SourceClause::Escape(self.string(&p[0])),
            Rule::redact_clause => {
                let mut columns = Vec::new();
                let mut salt_env = None;
                for part in &p {
                    match part.as_rule() {
                        Rule::redact_salt => {
                            let s = parts(part.clone());
                            salt_env = s.first().map(|s| self.string(s));
                        }
                        _ => columns.push(self.column(part)),
                    }
                }
                SourceClause::Redact {
                    span,
                    columns,
                    salt_env,
                }
            }
            other => unreachable!("source clause {other:?}"),
        }
    }

    fn table_clause(&mut self, pair: Pair<'_, Rule>) -> TableClause {
        let rule = pair.as_rule();
        if rule == Rule::table_unknown {
            return TableClause::Unknown(self.unknown(&pair));
        }
        let p = parts(pair);
        match rule {
            Rule::name_clause => TableClause::Name(self.string(&p[0])),
            Rule::layout_clause => TableClause::Layout(self.name(&p[0])),
            Rule::measure_name_clause => TableClause::MeasureName(self.string(&p[0])),
            other => unreachable!("table clause {other:?}"),
        }
    }

    fn ident_list(&mut self, pair: &Pair<'_, Rule>) -> Vec<Name> {
        pair.clone()
            .into_inner()
            .filter(|i| i.as_rule() == Rule::column)
            .map(|i| self.column(&i))
            .collect()
    }

    /// `as NAME` → the name.
    fn rename(&mut self, pair: &Pair<'_, Rule>) -> Name {
        let p = parts(pair.clone());
        self.column(&p[0])
    }

    /// A `measure_type` → its word.
    fn measure_type(&self, pair: &Pair<'_, Rule>) -> Name {
        match pair.clone().into_inner().next() {
            Some(word) => self.name(&word),
            None => self.name(pair),
        }
    }

    fn step_clauses(&mut self, pairs: &[Pair<'_, Rule>]) -> Vec<Spanned<StepClause>> {
        pairs
            .iter()
            .map(|pair| {
                let span = self.span(pair);
                Spanned::new(self.step_clause(pair.clone()), span)
            })
            .collect()
    }

    fn step_clause(&mut self, pair: Pair<'_, Rule>) -> StepClause {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        if matches!(
            rule,
            Rule::replay_unknown | Rule::generate_unknown | Rule::extrapolate_unknown
        ) {
            return StepClause::Unknown(self.unknown(&pair));
        }
        let p = parts(pair);
        match rule {
            Rule::window_clause => StepClause::Window(self.time_range(&p[0])),
            Rule::learn_clause => StepClause::Learn(self.time_range(&p[0])),
            Rule::where_clause => StepClause::Where(self.conditions(p), span),
            Rule::shift_clause => StepClause::Shift(self.shift(&p[0])),
            Rule::speed_clause => StepClause::Speed(self.lit(&p[0])),
            Rule::measures_subset_clause => StepClause::Measures(self.ident_list(&p[0])),
            Rule::set_clause => StepClause::Set(self.assignments(&p), span),
            Rule::series_clause => StepClause::Series(self.series(p), span),
            Rule::range_clause => StepClause::Schedule(self.schedule(&p, span)),
            Rule::measure_clause => StepClause::Measure(GeneratedMeasure {
                name: self.column(&p[0]),
                ty: self.name(&p[1]),
                model: self.model(&p[2]),
                span,
            }),
            Rule::model_clause => StepClause::Model(self.model(&p[0])),
            other => unreachable!("step clause {other:?}"),
        }
    }

    fn anomaly_clause(&mut self, pair: Pair<'_, Rule>) -> AnomalyClause {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let p = parts(pair);
        match rule {
            Rule::where_clause => AnomalyClause::Where(self.conditions(p), span),
            Rule::at_clause => AnomalyClause::At {
                at: self.time_expr(&p[0]),
                length: p.get(2).map(|d| self.lit(d)),
                span,
            },
            Rule::anomaly_param => AnomalyClause::Param(AnomalyParam {
                name: self.name(&p[0]),
                value: self.value(&p[1]),
                per: p.get(2).map(|d| self.lit(d)),
                span,
            }),
            other => unreachable!("anomaly clause {other:?}"),
        }
    }

    fn expect_clause(&mut self, pair: Pair<'_, Rule>) -> ExpectClause {
        let rule = pair.as_rule();
        if rule == Rule::expect_unknown {
            return ExpectClause::Unknown(self.unknown(&pair));
        }
        let p = parts(pair);
        match rule {
            Rule::query_clause => ExpectClause::Query {
                dialect: self.name(&p[0]),
                text: self.string(&p[1]),
            },
            Rule::expect_window => {
                let inner = &p[0];
                if inner.as_rule() == Rule::time_range {
                    ExpectClause::Window(self.time_range(inner))
                } else {
                    let w = parts(inner.clone());
                    ExpectClause::AnomalyWindow {
                        anomaly: self.name(&w[0]),
                        extend: w.get(1).map(|op| (op.as_str() == "+", self.lit(&w[2]))),
                    }
                }
            }
            Rule::value_clause => ExpectClause::Value(self.comparison(&p[0])),
            Rule::rows_clause => ExpectClause::Rows(self.comparison(&p[0])),
            Rule::count_clause => ExpectClause::Count(self.comparison(&p[0])),
            Rule::empty_clause => ExpectClause::Empty,
            Rule::never_clause => ExpectClause::Never,
            Rule::within_clause => ExpectClause::Within {
                limit: self.lit(&p[0]),
                every: p.get(1).map(|d| self.lit(d)),
            },
            Rule::hold_clause => ExpectClause::Hold(self.lit(&p[0])),
            Rule::labels_clause => ExpectClause::Labels(self.conditions(p)),
            Rule::status_clause => ExpectClause::Status {
                resolved: p[0].as_str().starts_with("resolved"),
                within: self.lit(&p[1]),
                anomaly: p.get(2).map(|a| self.name(a)),
            },
            other => unreachable!("expect clause {other:?}"),
        }
    }

    fn comparison(&mut self, pair: &Pair<'_, Rule>) -> Comparison {
        let p = parts(pair.clone());
        match p[0].as_rule() {
            Rule::compare_op => Comparison::Compare {
                op: self.name(&p[0]),
                value: self.lit(&p[1]),
            },
            Rule::approx => {
                let a = parts(p[0].clone());
                if a.len() == 3 {
                    Comparison::ApproxRelative(self.lit(&a[0]), self.lit(&a[1]))
                } else {
                    Comparison::ApproxAbsolute(self.lit(&a[0]), self.lit(&a[1]))
                }
            }
            _ => Comparison::Between(self.lit(&p[0]), self.lit(&p[1])),
        }
    }

    fn conditions(&mut self, parts_of_where: Vec<Pair<'_, Rule>>) -> Vec<Condition> {
        parts_of_where
            .into_iter()
            .map(|c| {
                let span = self.span(&c);
                let p = parts(c);
                let test = match p[1].as_rule() {
                    Rule::eq_op => ConditionTest::Equals(self.string(&p[2])),
                    Rule::ne_op => ConditionTest::NotEquals(self.string(&p[2])),
                    _ => ConditionTest::In(
                        p[2].clone()
                            .into_inner()
                            .filter(|s| s.as_rule() == Rule::string)
                            .map(|s| self.string(&s))
                            .collect(),
                    ),
                };
                Condition {
                    dimension: self.column(&p[0]),
                    test,
                    span,
                }
            })
            .collect()
    }

    fn assignments(&mut self, pairs: &[Pair<'_, Rule>]) -> Vec<Assignment> {
        pairs
            .iter()
            .map(|a| {
                let p = parts(a.clone());
                Assignment {
                    dimension: self.column(&p[0]),
                    value: self.string(&p[1]),
                }
            })
            .collect()
    }

    /// A `series` clause's assignments; a value with no dimension after a
    /// comma (`series device = "a", "b"`) is reported and left out.
    fn series(&mut self, pairs: Vec<Pair<'_, Rule>>) -> Vec<Assignment> {
        // The assignment the stray values follow: the series they belong to.
        let before_stray = pairs
            .iter()
            .take_while(|p| p.as_rule() != Rule::series_stray_value)
            .count()
            .saturating_sub(1);
        let (stray, assignments): (Vec<_>, Vec<_>) = pairs
            .into_iter()
            .partition(|p| p.as_rule() == Rule::series_stray_value);
        let assignments = self.assignments(&assignments);
        if let (Some(last), Some(first)) = (stray.last(), assignments.get(before_stray)) {
            let span = Span::new(self.span(&stray[0]).start, self.span(last).end);
            let kind = kind::SeriesValueWithoutDimension {
                dimension: crate::lang::names::column_name(&first.dimension.value),
                first: crate::lang::names::string_literal(&first.value.value),
                values: stray
                    .iter()
                    .map(|p| p.as_str().trim().to_string())
                    .collect(),
            };
            self.diagnostics.push(Diagnostic::new(kind, span));
        }
        assignments
    }

    fn shift(&mut self, pair: &Pair<'_, Rule>) -> Spanned<ShiftSyntax> {
        let span = self.span(pair);
        let rule = pair.as_rule();
        let p = parts(pair.clone());
        let shift = match rule {
            // `to` is kept by `parts`; the time follows it.
            Rule::shift_start => ShiftSyntax::StartTo(self.time_expr(&p[1])),
            Rule::shift_end => ShiftSyntax::EndTo(self.time_expr(&p[1])),
            Rule::shift_calendar => ShiftSyntax::CalendarDays {
                days: self.lit(&p[0]),
                zone: self.string(&p[2]),
            },
            _ => ShiftSyntax::By(self.lit(&p[0])),
        };
        Spanned::new(shift, span)
    }

    fn schedule(&mut self, p: &[Pair<'_, Rule>], span: Span) -> Schedule {
        let start = self.time_expr(&p[0]);
        let end = match p[1].as_rule() {
            Rule::kw_to => ScheduleEnd::To(self.time_expr(&p[2])),
            _ => ScheduleEnd::For(self.lit(&p[2])),
        };
        Schedule {
            start,
            end,
            every: self.lit(&p[3]),
            span,
        }
    }

    fn time_range(&mut self, pair: &Pair<'_, Rule>) -> TimeRange {
        let p = parts(pair.clone());
        TimeRange {
            start: self.time_expr(&p[0]),
            end: self.time_expr(&p[1]),
            span: self.span(pair),
        }
    }

    fn time_expr(&mut self, pair: &Pair<'_, Rule>) -> TimeExpr {
        let p = parts(pair.clone());
        let base = match p[0].as_rule() {
            Rule::kw_now => TimeBase::Now,
            _ => TimeBase::Timestamp(self.lit(&p[0])),
        };
        let offset = p.get(1).map(|op| (op.as_str() == "+", self.lit(&p[2])));
        TimeExpr {
            base,
            offset,
            span: self.span(pair),
        }
    }

    fn model(&mut self, pair: &Pair<'_, Rule>) -> ModelSyntax {
        let span = self.span(pair);
        let mut terms = Vec::new();
        let mut clamp = None;
        for part in parts(pair.clone()) {
            match part.as_rule() {
                Rule::term => terms.push(self.term(&part)),
                _ => {
                    let c = parts(part.clone());
                    clamp = Some((self.lit(&c[0]), self.lit(&c[1]), self.span(&part)));
                }
            }
        }
        ModelSyntax { terms, clamp, span }
    }

    fn term(&mut self, pair: &Pair<'_, Rule>) -> TermSyntax {
        let has_parens = pair
            .clone()
            .into_inner()
            .any(|p| p.as_rule() == Rule::lparen);
        let p = parts(pair.clone());
        let args = has_parens.then(|| {
            p[1..]
                .iter()
                .map(|arg| {
                    let span = self.span(arg);
                    let a = parts(arg.clone());
                    let (name, value) = match a.len() {
                        2 => (Some(self.name(&a[0])), &a[1]),
                        _ => (None, &a[0]),
                    };
                    Arg {
                        name,
                        value: self.value(value),
                        span,
                    }
                })
                .collect()
        });
        TermSyntax {
            name: self.name(&p[0]),
            args,
            span: self.span(pair),
        }
    }

    fn value(&mut self, pair: &Pair<'_, Rule>) -> ValueSyntax {
        let inner = pair
            .clone()
            .into_inner()
            .next()
            .unwrap_or_else(|| pair.clone());
        match inner.as_rule() {
            Rule::signed_duration | Rule::duration => ValueSyntax::Duration(self.lit(&inner)),
            Rule::number => ValueSyntax::Number(self.lit(&inner)),
            Rule::string => ValueSyntax::String(self.string(&inner)),
            _ => ValueSyntax::Bool(Spanned::new(inner.as_str() == "true", self.span(&inner))),
        }
    }

    /// Decodes `"..."`; a bad escape is reported and kept as written.
    fn string(&mut self, pair: &Pair<'_, Rule>) -> Spanned<String> {
        let span = self.span(pair);
        let raw = pair.as_str();
        let body = &raw[1..raw.len() - 1];
        let mut out = String::with_capacity(body.len());
        let mut i = 0;
        while let Some(c) = body[i..].chars().next() {
            if c != '\\' {
                out.push(c);
                i += c.len_utf8();
                continue;
            }
            let (decoded, used) = decode_escape(&body[i + 1..]);
            let escape = &body[i..i + 1 + used];
            match decoded {
                Some(d) => out.push(d),
                None => {
                    let start = span.start + 1 + i;
                    self.diagnostics.push(Diagnostic::new(
                        kind::BadEscape {
                            escape: escape.to_string(),
                        },
                        Span::new(start, start + escape.len()),
                    ));
                    out.push_str(escape);
                }
            }
            i += 1 + used;
        }
        Spanned::new(out, span)
    }
}

/// The character an escape stands for (after the backslash), and how many
/// bytes of `rest` it used.
fn decode_escape(rest: &str) -> (Option<char>, usize) {
    let Some(first) = rest.chars().next() else {
        return (None, 0);
    };
    let simple = match first {
        '"' => Some('"'),
        '\\' => Some('\\'),
        'n' => Some('\n'),
        't' => Some('\t'),
        _ => None,
    };
    if first != 'u' {
        return (simple, first.len_utf8());
    }
    let Some(close) = rest.strip_prefix("u{").and_then(|body| body.find('}')) else {
        return (None, 1);
    };
    let hex = &rest[2..2 + close];
    let c = u32::from_str_radix(hex, 16)
        .ok()
        .filter(|_| hex.len() <= 6)
        .and_then(char::from_u32);
    (c, 2 + close + 1)
}
