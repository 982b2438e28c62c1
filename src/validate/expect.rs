//! `expect` blocks → `model::Expectation`s, and the names anomalies take
//! with `as` (docs/expect.md).

use std::collections::BTreeMap;

use super::Validator;
use crate::diagnostics::kind::{self, Clause, NameKind};
use crate::diagnostics::suggest::closest;
use crate::lang::ast::{self, Comparison, ExpectClause, Span, Spanned, StatementKind};
use crate::lang::literal::Duration;
use crate::model::{
    AlertCheck, AlertStatus, Check, Dialect, ExpectCondition, ExpectWindow, Expectation, Op,
    QueryCheck, Test, Timing,
};

/// The placeholders a query's text may hold.
const PLACEHOLDERS: [&str; 2] = ["from", "to"];

/// How often a condition is asked when `every` is not given: once a
/// second, or ten times within a shorter `within`.
const DEFAULT_EVERY: Duration = Duration(1_000_000_000);

impl Validator<'_> {
    /// Every `expect` block, and the anomalies' names checked: each given
    /// once, each one an expectation names given.
    pub(super) fn expectations(&mut self, file: &ast::File) -> Vec<Expectation> {
        let mut named: BTreeMap<String, Span> = BTreeMap::new();
        for statement in &file.statements {
            if let StatementKind::Anomaly(a) = &statement.kind
                && let Some(name) = &a.name
            {
                self.first_name(&mut named, NameKind::Anomaly, name);
            }
        }
        let mut titles = BTreeMap::new();
        let mut out = Vec::new();
        for statement in &file.statements {
            let StatementKind::Expect(e) = &statement.kind else {
                continue;
            };
            let expectation = self.expectation(e, statement, &named);
            // An alert's block is named by the alert, its status and its
            // labels: several blocks may expect one alert of other series.
            let title = match &expectation {
                Some(Expectation { title, .. }) => Spanned::new(title.clone(), e.title.span),
                None => e.title.clone(),
            };
            let title_ok = self.first_name(&mut titles, NameKind::Expectation, &title);
            if let (Some(expectation), true) = (expectation, title_ok) {
                out.push(expectation);
            }
        }
        out
    }

    fn expectation(
        &mut self,
        e: &ast::Expect,
        statement: &ast::Statement,
        named: &BTreeMap<String, Span>,
    ) -> Option<Expectation> {
        let alert = e.alert.is_some();
        let errors = self.error_count();
        let mut seen = BTreeMap::new();
        let mut query = None;
        let mut window = None;
        let mut condition: Option<(ExpectCondition, Span)> = None;
        let mut within = None;
        let mut every = None;
        let mut hold = None;
        let mut never = None;
        let mut labels = Vec::new();
        let mut status = None;
        let mut count = None;
        for Spanned {
            value: clause,
            span,
        } in &e.clauses
        {
            let span = *span;
            let Some(which) = clause_of(clause) else {
                if let ExpectClause::Unknown(word) = clause {
                    self.unknown_expect_clause(word, alert);
                }
                continue;
            };
            let for_alerts = matches!(
                which,
                Clause::Labels | Clause::Firing | Clause::Resolved | Clause::Count
            );
            let for_queries = matches!(
                which,
                Clause::Query
                    | Clause::Window
                    | Clause::Value
                    | Clause::Rows
                    | Clause::Empty
                    | Clause::Hold
                    | Clause::Within
            );
            if (alert && for_queries) || (!alert && for_alerts) {
                self.report(
                    kind::ClauseNotForExpectation {
                        clause: which.to_string(),
                        alert,
                    },
                    keyword(span, which),
                );
                continue;
            }
            let condition_clause = matches!(which, Clause::Value | Clause::Rows | Clause::Empty);
            if condition_clause {
                if let Some((_, first)) = &condition {
                    self.report(kind::TwoConditions { first: *first }, span);
                    continue;
                }
            } else {
                let status_clause = matches!(which, Clause::Firing | Clause::Resolved);
                let key = if status_clause { Clause::Firing } else { which };
                if !self.first_clause(&mut seen, key, span) {
                    continue;
                }
            }
            match clause {
                ExpectClause::Query { dialect, text } => {
                    query = Some((self.dialect(dialect), text));
                }
                ExpectClause::Window(range) => {
                    let from = self.time_point(&range.start);
                    let to = self.time_point(&range.end);
                    if let (Some(from), Some(to)) = (from, to) {
                        match super::ordered(from, to) {
                            Some(std::cmp::Ordering::Less) => {
                                window = Some(ExpectWindow::Times { from, to });
                            }
                            Some(_) => self.report(
                                kind::EmptyWindow {
                                    clause: Clause::Window,
                                },
                                range.span,
                            ),
                            None => self.report(kind::MixedRange, range.span),
                        }
                    }
                }
                ExpectClause::AnomalyWindow { anomaly, extend } => {
                    let known = self.anomaly_name(anomaly, named);
                    let extend = match extend {
                        None => Some(Duration::ZERO),
                        Some((plus, lit)) => self
                            .duration(lit)
                            .map(|d| if *plus { d } else { Duration(-d.0) }),
                    };
                    if let (true, Some(extend)) = (known, extend) {
                        window = Some(ExpectWindow::Anomaly {
                            name: anomaly.value.clone(),
                            extend,
                        });
                    }
                }
                ExpectClause::Value(c) => {
                    if let Some(test) = self.test(c) {
                        condition = Some((ExpectCondition::Value(test), span));
                    }
                }
                ExpectClause::Rows(c) => {
                    if let Some(test) = self.test(c) {
                        condition = Some((ExpectCondition::Rows(test), span));
                    }
                }
                ExpectClause::Empty => condition = Some((ExpectCondition::Empty, span)),
                ExpectClause::Within { limit, every: e } => {
                    within = self
                        .positive_duration(limit, "within")
                        .map(|d| (d, limit.span));
                    every = e
                        .as_ref()
                        .and_then(|e| self.positive_duration(e, "every").map(|d| (d, e.span)));
                }
                ExpectClause::Hold(lit) => hold = self.positive_duration(lit, "hold"),
                ExpectClause::Never => never = Some(span),
                ExpectClause::Labels(conditions) => {
                    labels = self.filter(conditions, None).conditions;
                }
                ExpectClause::Status {
                    resolved,
                    within: lit,
                    anomaly,
                } => {
                    let limit = self.positive_duration(lit, "within");
                    let known = anomaly
                        .as_ref()
                        .is_none_or(|name| self.anomaly_name(name, named));
                    let status_word = if *resolved {
                        AlertStatus::Resolved
                    } else {
                        AlertStatus::Firing
                    };
                    if let (Some(limit), true) = (limit, known) {
                        status = Some((
                            status_word,
                            limit,
                            anomaly.as_ref().map(|a| a.value.clone()),
                        ));
                    }
                }
                ExpectClause::Count(c) => count = self.test(c),
                ExpectClause::Unknown(_) => {}
            }
        }
        if let (Some(span), Some(_)) = (never, hold) {
            self.report(kind::NeverAndHold, span);
        }
        if let (Some((w, _)), Some((p, span))) = (within, every)
            && p > w
        {
            self.report(kind::EveryPastWithin, span);
        }
        let recovered = statement.recovered;
        let missing = |v: &mut Self, clause: Clause, example: &str| {
            if !recovered {
                v.missing_clause("expect", clause, example, statement.keyword);
            }
        };
        let check = if alert {
            if status.is_none() && !seen.contains_key(&Clause::Firing) {
                missing(
                    self,
                    Clause::Firing,
                    "firing within 5m of anomaly door_warmup",
                );
            }
            let (status, within, anomaly) = status?;
            Check::Alert(AlertCheck {
                alertname: e.title.value.clone(),
                labels,
                status,
                within,
                anomaly,
                count,
            })
        } else {
            if query.is_none() && !seen.contains_key(&Clause::Query) {
                missing(
                    self,
                    Clause::Query,
                    "query influxql \"SELECT count(*) FROM alerts WHERE time >= $from AND time < $to\"",
                );
            }
            if condition.is_none() && !recovered && self.error_count() == errors {
                missing(self, Clause::Value, "value >= 1");
            }
            let (dialect, text) = query?;
            let has_window = window.is_some() || seen.contains_key(&Clause::Window);
            self.placeholders(text, has_window);
            if let (Some((ExpectCondition::Value(_), span)), Some(statement)) =
                (&condition, text_only(&text.value))
            {
                self.report(
                    kind::ValueWithoutNumber { statement },
                    keyword(*span, Clause::Value),
                );
            }
            Check::Query(QueryCheck {
                dialect: dialect?,
                text: text.value.clone(),
                window,
                condition: condition?.0,
            })
        };
        let every = every.map(|(d, _)| d).unwrap_or_else(|| match within {
            Some((w, _)) if Duration(w.0 / 10) < DEFAULT_EVERY => Duration((w.0 / 10).max(1)),
            _ => DEFAULT_EVERY,
        });
        let title = match &check {
            Check::Query(_) => e.title.value.clone(),
            Check::Alert(a) => alert_title(a, never.is_some()),
        };
        (self.error_count() == errors).then(|| Expectation {
            title,
            line: self.line(statement.span.start),
            check,
            timing: Timing {
                within: within.map(|(d, _)| d),
                every,
                hold,
                never: never.is_some(),
            },
        })
    }

    fn unknown_expect_clause(&mut self, word: &ast::Name, alert: bool) {
        let allowed: &[&str] = if alert {
            &["labels", "firing", "resolved", "count", "never"]
        } else {
            &[
                "query", "window", "value", "rows", "empty", "within", "hold", "never",
            ]
        };
        self.report(
            kind::UnknownClause {
                statement: if alert { "expect alert" } else { "expect" }.into(),
                clause: word.value.clone(),
                suggestion: closest(&word.value, allowed.iter().copied()),
                allowed: allowed.iter().map(|s| s.to_string()).collect(),
            },
            word.span,
        );
    }

    /// The dialect, if known and run by the target checked against.
    fn dialect(&mut self, name: &ast::Name) -> Option<Dialect> {
        let words = Dialect::ALL.iter().map(|(w, _)| *w);
        let Some(dialect) = Dialect::ALL
            .iter()
            .find(|(w, _)| *w == name.value)
            .map(|(_, d)| *d)
        else {
            self.report(
                kind::UnknownDialect {
                    dialect: name.value.clone(),
                    suggestion: closest(&name.value, words),
                },
                name.span,
            );
            return None;
        };
        if let Some(supported) = self.rules.dialects()
            && !supported.contains(&dialect)
        {
            self.report(
                kind::DialectNotForTarget {
                    dialect: name.value.clone(),
                    target: self.rules.target().into(),
                    supported: supported.iter().map(|d| d.word().to_string()).collect(),
                },
                name.span,
            );
            return None;
        }
        Some(dialect)
    }

    /// Whether an anomaly has this name; reported when none has.
    fn anomaly_name(&mut self, name: &ast::Name, named: &BTreeMap<String, Span>) -> bool {
        if named.contains_key(&name.value) || self.unparsed.contains(&name.value) {
            return true;
        }
        self.report(
            kind::UnknownAnomalyName {
                name: name.value.clone(),
                suggestion: closest(&name.value, named.keys().map(String::as_str)),
                named: named.keys().cloned().collect(),
            },
            name.span,
        );
        false
    }

    /// `$from`, `$to` and `$$` in a query's text; anything else after a
    /// `$` is reported where it is written.
    fn placeholders(&mut self, text: &Spanned<String>, has_window: bool) {
        // The text as written maps byte for byte onto the decoded one when
        // it held no escape: then a placeholder is pointed at exactly.
        let exact = text.span.end - text.span.start == text.value.len() + 2;
        let bytes = text.value.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] != b'$' {
                i += 1;
                continue;
            }
            if bytes.get(i + 1) == Some(&b'$') {
                i += 2;
                continue;
            }
            let name: String = text.value[i + 1..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let span = if exact {
                let start = text.span.start + 1 + i;
                Span::new(start, start + 1 + name.len())
            } else {
                text.span
            };
            if !PLACEHOLDERS.contains(&name.as_str()) {
                self.report(
                    kind::UnknownPlaceholder {
                        suggestion: closest(&name, PLACEHOLDERS.iter().copied()),
                        placeholder: name.clone(),
                    },
                    span,
                );
            } else if !has_window {
                self.report(
                    kind::PlaceholderWithoutWindow {
                        placeholder: name.clone(),
                    },
                    span,
                );
            }
            i += 1 + name.len();
        }
    }

    fn test(&mut self, c: &Comparison) -> Option<Test> {
        Some(match c {
            Comparison::Compare { op, value } => {
                let op = Op::ALL
                    .iter()
                    .find(|(w, _)| *w == op.value)
                    .map(|(_, o)| *o)?;
                Test::Compare(op, self.number(value)?.value)
            }
            Comparison::Between(a, b) => {
                let (lo, hi) = (self.number(a), self.number(b));
                let (lo, hi) = (lo?.value, hi?.value);
                if lo > hi {
                    let ends = kind::BetweenBackwards {
                        low: a.value.clone(),
                        high: b.value.clone(),
                    };
                    self.report(ends, a.span.to(b.span));
                    return None;
                }
                Test::Between(lo, hi)
            }
            Comparison::ApproxRelative(n, percent) => {
                let (n, p) = (self.number(n), self.number(percent));
                let p = p?.value;
                if p < 0.0 {
                    self.report(
                        kind::NotPositive {
                            what: kind::Positive::Clause("rel"),
                        },
                        percent.span,
                    );
                    return None;
                }
                Test::Relative(n?.value, p / 100.0)
            }
            Comparison::ApproxAbsolute(n, tolerance) => {
                let (n, t) = (self.number(n), self.number(tolerance));
                let t = t?.value;
                if t < 0.0 {
                    self.report(
                        kind::NotPositive {
                            what: kind::Positive::Clause("abs"),
                        },
                        tolerance.span,
                    );
                    return None;
                }
                Test::Absolute(n?.value, t)
            }
        })
    }
}

/// `CargoTooWarm firing {truck == "truck-12"}`, `CargoTooWarm never firing`.
fn alert_title(a: &AlertCheck, never: bool) -> String {
    let labels: Vec<String> = a.labels.iter().map(|c| c.words()).collect();
    format!(
        "{}{} {}{}",
        a.alertname,
        if never { " never" } else { "" },
        a.status.word(),
        if labels.is_empty() {
            String::new()
        } else {
            format!(" {{{}}}", labels.join(", "))
        }
    )
}

/// The words of a statement that answers only names (InfluxQL's and SQL's
/// `SHOW TAG VALUES`, `SHOW MEASUREMENTS`, `SHOW TABLES`, `DESCRIBE`, …),
/// which `value` can never compare; `None` for anything else, whose
/// answer shows only when it runs. A `... CARDINALITY` statement counts,
/// so it is not one.
fn text_only(query: &str) -> Option<String> {
    let words: Vec<String> = query
        .split_whitespace()
        .take(4)
        .map(|w| w.trim_end_matches(';').to_ascii_uppercase())
        .collect();
    if query.to_ascii_uppercase().contains("CARDINALITY") {
        return None;
    }
    const NAMES_ONLY: [&[&str]; 9] = [
        &["SHOW", "TAG", "VALUES"],
        &["SHOW", "TAG", "KEYS"],
        &["SHOW", "FIELD", "KEYS"],
        &["SHOW", "MEASUREMENTS"],
        &["SHOW", "SERIES"],
        &["SHOW", "DATABASES"],
        &["SHOW", "TABLES"],
        &["SHOW", "COLUMNS"],
        &["DESCRIBE"],
    ];
    NAMES_ONLY
        .iter()
        .find(|shape| {
            words.len() >= shape.len() && words.iter().zip(shape.iter()).all(|(w, s)| w == s)
        })
        .map(|shape| shape.join(" "))
}

/// Which clause an `expect` block's clause is; `None` for an unknown one.
fn clause_of(clause: &ExpectClause) -> Option<Clause> {
    Some(match clause {
        ExpectClause::Query { .. } => Clause::Query,
        ExpectClause::Window(_) | ExpectClause::AnomalyWindow { .. } => Clause::Window,
        ExpectClause::Value(_) => Clause::Value,
        ExpectClause::Rows(_) => Clause::Rows,
        ExpectClause::Empty => Clause::Empty,
        ExpectClause::Within { .. } => Clause::Within,
        ExpectClause::Hold(_) => Clause::Hold,
        ExpectClause::Never => Clause::Never,
        ExpectClause::Labels(_) => Clause::Labels,
        ExpectClause::Status {
            resolved: false, ..
        } => Clause::Firing,
        ExpectClause::Status { resolved: true, .. } => Clause::Resolved,
        ExpectClause::Count(_) => Clause::Count,
        ExpectClause::Unknown(_) => return None,
    })
}

/// The clause's first word: where a report about the whole clause points.
fn keyword(span: Span, clause: Clause) -> Span {
    let len = clause.to_string().len();
    Span::new(span.start, (span.start + len).min(span.end))
}

#[cfg(test)]
mod tests {
    use super::text_only;

    #[test]
    fn statements_that_answer_names_only_are_known_and_counts_are_not() {
        assert_eq!(
            text_only("show tag values from t with key = d").as_deref(),
            Some("SHOW TAG VALUES")
        );
        assert_eq!(
            text_only("DESCRIBE \"db\".\"t\"").as_deref(),
            Some("DESCRIBE")
        );
        assert_eq!(
            text_only("SHOW MEASUREMENTS;").as_deref(),
            Some("SHOW MEASUREMENTS")
        );
        assert_eq!(text_only("SHOW TAG VALUES CARDINALITY WITH KEY = d"), None);
        assert_eq!(text_only("SHOW RETENTION POLICIES"), None);
        assert_eq!(text_only("SELECT count(*) FROM alerts"), None);
    }
}
