//! Evaluating a scenario's expectations against a target once its records
//! are written (`outatime test`, `outatime expect`; docs/expect.md).
//!
//! Each expectation is bound to the anchor first: its window's bounds, its
//! query's text with `$from` and `$to` replaced, and its reference, the
//! moment its clock starts: the later of the end of the writes and the
//! start of its window (for `expect alert`, of its anomaly's start when
//! `firing`, its end when `resolved`). Then every expectation runs on its
//! own schedule: asked at the reference, then every `every` until the
//! condition holds (or, with `hold`, has held that long), or `within` has
//! passed; `never` turns the verdict round. One loop asks them in the
//! order they are due, so a slow answer delays the next question, never
//! the verdicts' times, which are measured from each reference.

pub(crate) mod receiver;
pub(crate) mod report;

use std::time::{Duration, Instant};

use crate::model::{
    AlertCheck, Check, Dialect, ExpectCondition, ExpectWindow, Expectation, Op, Scenario, Test,
};
use crate::record::time_string;
use crate::targets::ask::{AskError, Asked};
use receiver::{Inbox, Notification};

/// Asks a target a query in a dialect it runs.
pub(crate) trait Ask {
    fn ask(&mut self, dialect: Dialect, text: &str) -> Result<Asked, AskError>;
}

impl Ask for crate::targets::influxdb::query::InfluxDb {
    fn ask(&mut self, dialect: Dialect, text: &str) -> Result<Asked, AskError> {
        match dialect {
            Dialect::Influxql => crate::targets::influxdb::query::InfluxDb::ask(self, text),
            Dialect::Sql => Err(AskError::Refused(
                "InfluxDB targets run `influxql` queries here".into(),
            )),
        }
    }
}

impl Ask for crate::targets::timestream::query::Timestream {
    fn ask(&mut self, dialect: Dialect, text: &str) -> Result<Asked, AskError> {
        match dialect {
            Dialect::Sql => crate::targets::timestream::query::Timestream::ask(self, text),
            Dialect::Influxql => Err(AskError::Refused(
                "Timestream targets run `sql` queries".into(),
            )),
        }
    }
}

/// The wall clock, in nanoseconds since the epoch.
pub(crate) fn wall_now() -> i64 {
    chrono::Utc::now().timestamp_nanos_opt().unwrap_or(i64::MAX)
}

/// How an expectation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Verdict {
    Pass,
    Fail,
    /// The target could not be read until the deadline.
    Unreadable,
}

/// One expectation's result.
#[derive(Clone, Debug, serde::Serialize)]
pub(crate) struct Outcome {
    pub title: String,
    pub line: usize,
    pub kind: &'static str,
    pub verdict: Verdict,
    /// What decided it, in words: `value 3 >= 1`, `no rows`.
    pub message: String,
    /// The last value seen: a number, a row count, a count of alerts.
    pub observed: Option<String>,
    /// From the reference to the verdict.
    pub seconds: f64,
    pub attempts: u32,
    /// The query as sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// The window's bounds, RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<[String; 2]>,
    /// When its clock started, RFC 3339.
    pub reference: String,
    pub deadline: String,
}

/// Why expectations cannot be evaluated at all.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ExpectError {
    #[error(
        "expectation `{title}` (line {line}): its window ends past the times outatime can write"
    )]
    OutOfRange { title: String, line: usize },
    #[error(
        "expectation `{title}` (line {line}) is about alerts received, and nothing listens for them"
    )]
    NoListener { title: String, line: usize },
}

impl ExpectError {
    pub(crate) fn help(&self) -> Option<String> {
        match self {
            ExpectError::NoListener { .. } => Some(
                "give `--listen 127.0.0.1:9095` and point the Alertmanager's (or Grafana's) webhook at it"
                    .into(),
            ),
            ExpectError::OutOfRange { .. } => None,
        }
    }
}

/// An expectation bound to an anchor.
struct Bound<'a> {
    e: &'a Expectation,
    query: Option<String>,
    window: Option<(i64, i64)>,
    reference: i64,
    deadline: i64,
}

/// Binds every expectation at `anchor`, the writes having ended at
/// `writes_done` (both in ns since the epoch).
fn bind<'a>(
    scenario: &'a Scenario,
    anchor: i64,
    writes_done: i64,
    listening: bool,
) -> Result<Vec<Bound<'a>>, ExpectError> {
    scenario
        .expectations
        .iter()
        .map(|e| {
            let out_of_range = || ExpectError::OutOfRange {
                title: e.title.clone(),
                line: e.line,
            };
            let anomaly_window = |name: &str| scenario.anomaly_window(name, anchor);
            let within = e.timing.within.map_or(0, |d| d.0);
            match &e.check {
                Check::Query(q) => {
                    let window = match &q.window {
                        None => None,
                        Some(ExpectWindow::Times { from, to }) => Some((
                            from.at(anchor).ok_or_else(out_of_range)?,
                            to.at(anchor).ok_or_else(out_of_range)?,
                        )),
                        Some(ExpectWindow::Anomaly { name, extend }) => {
                            let (start, end) = anomaly_window(name).ok_or_else(out_of_range)?;
                            Some((start, end.checked_add(extend.0).ok_or_else(out_of_range)?))
                        }
                    };
                    let reference = window.map_or(writes_done, |(from, _)| from.max(writes_done));
                    Ok(Bound {
                        e,
                        query: Some(fill(&q.text, q.dialect, window)),
                        window,
                        reference,
                        deadline: reference.saturating_add(within),
                    })
                }
                Check::Alert(a) => {
                    if !listening {
                        return Err(ExpectError::NoListener {
                            title: e.title.clone(),
                            line: e.line,
                        });
                    }
                    let anomaly = match &a.anomaly {
                        Some(name) => Some(anomaly_window(name).ok_or_else(out_of_range)?),
                        None => None,
                    };
                    let start = match (anomaly, a.status) {
                        (Some((s, _)), crate::model::AlertStatus::Firing) => s,
                        (Some((_, end)), crate::model::AlertStatus::Resolved) => end,
                        (None, _) => writes_done,
                    };
                    let reference = start.max(writes_done);
                    Ok(Bound {
                        e,
                        query: None,
                        window: anomaly,
                        reference,
                        deadline: reference.saturating_add(a.within.0),
                    })
                }
            }
        })
        .collect()
}

/// The query's text with `$from` and `$to` written as the dialect's time
/// literals, and `$$` as `$`.
fn fill(text: &str, dialect: Dialect, window: Option<(i64, i64)>) -> String {
    let literal = |t: i64| match dialect {
        Dialect::Influxql => format!("'{}'", time_string(t)),
        Dialect::Sql => format!("from_nanoseconds({t})"),
    };
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let (Some(tail), Some((from, _))) = (after.strip_prefix("from"), window) {
            out.push_str(&literal(from));
            rest = tail;
        } else if let (Some(tail), Some((_, to))) = (after.strip_prefix("to"), window) {
            out.push_str(&literal(to));
            rest = tail;
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// What one question found.
struct Seen {
    holds: bool,
    observed: Option<String>,
    words: String,
}

/// Where an expectation stands between questions.
struct Running<'a> {
    bound: Bound<'a>,
    next: i64,
    attempts: u32,
    true_since: Option<i64>,
    last: Option<Seen>,
    unreachable: Option<String>,
    outcome: Option<Outcome>,
}

/// Evaluates every expectation of `scenario` at `anchor`; `writes_done` is
/// when the last record was written (ns since the epoch). `inbox` holds
/// the notifications a listener received, when one runs. `say` hears each
/// verdict as it is reached.
pub(crate) fn evaluate(
    scenario: &Scenario,
    anchor: i64,
    writes_done: i64,
    target: &mut dyn Ask,
    inbox: Option<&Inbox>,
    say: &mut dyn FnMut(&Outcome),
) -> Result<Vec<Outcome>, ExpectError> {
    let bound = bind(scenario, anchor, writes_done, inbox.is_some())?;
    let mut running: Vec<Running> = bound
        .into_iter()
        .map(|bound| Running {
            next: bound.reference,
            bound,
            attempts: 0,
            true_since: None,
            last: None,
            unreachable: None,
            outcome: None,
        })
        .collect();
    loop {
        let Some(due) = running
            .iter_mut()
            .filter(|r| r.outcome.is_none())
            .min_by_key(|r| r.next)
        else {
            break;
        };
        let wait = due.next - wall_now();
        if wait > 0 {
            std::thread::sleep(Duration::from_nanos(wait as u64));
        }
        let asked_at = Instant::now();
        step(due, target, inbox);
        if let Some(outcome) = &due.outcome {
            say(outcome);
        }
        // A question that took longer than the period is asked again at
        // once, never twice at the same instant.
        let _ = asked_at;
    }
    Ok(running.into_iter().filter_map(|r| r.outcome).collect())
}

/// Asks one expectation once and moves it on.
fn step(r: &mut Running, target: &mut dyn Ask, inbox: Option<&Inbox>) {
    let e = r.bound.e;
    r.attempts += 1;
    let seen = match &e.check {
        Check::Query(q) => {
            let text = r.bound.query.as_deref().unwrap_or_default();
            match target.ask(q.dialect, text) {
                Ok(asked) => {
                    r.unreachable = None;
                    Ok(condition(&q.condition, &asked))
                }
                Err(AskError::Refused(reason)) => Err((
                    Verdict::Fail,
                    format!("the target refused the query: {reason}"),
                )),
                Err(AskError::Unreachable(reason)) => {
                    r.unreachable = Some(reason);
                    Ok(Seen {
                        holds: false,
                        observed: None,
                        words: "the target could not be read".into(),
                    })
                }
            }
        }
        Check::Alert(a) => Ok(alerts(a, inbox.map(Inbox::snapshot).unwrap_or_default())),
    };
    let now = wall_now();
    let seen = match seen {
        Ok(seen) => seen,
        Err((verdict, message)) => {
            r.outcome = Some(outcome(r, verdict, message, now));
            return;
        }
    };
    let timing = e.timing;
    let past_deadline = now >= r.bound.deadline;
    let every = timing.every.0.max(1_000_000);
    let alert_waits_for_deadline = matches!(&e.check, Check::Alert(a) if !counts_early(a));
    let verdict = if timing.never {
        if seen.holds {
            Some((Verdict::Fail, format!("became true: {}", seen.words)))
        } else if past_deadline {
            Some((Verdict::Pass, format!("never true: {}", seen.words)))
        } else {
            None
        }
    } else if let Some(hold) = timing.hold {
        if seen.holds {
            let since = *r.true_since.get_or_insert(now);
            (now - since >= hold.0)
                .then(|| (Verdict::Pass, format!("held for {hold}: {}", seen.words)))
        } else {
            r.true_since = None;
            past_deadline.then(|| (Verdict::Fail, seen.words.clone()))
        }
    } else if seen.holds && !(alert_waits_for_deadline && !past_deadline) {
        Some((Verdict::Pass, seen.words.clone()))
    } else {
        past_deadline.then(|| (Verdict::Fail, seen.words.clone()))
    };
    r.last = Some(seen);
    match verdict {
        Some((Verdict::Fail, _)) if r.unreachable.is_some() => {
            let reason = r.unreachable.clone().unwrap_or_default();
            r.outcome = Some(outcome(
                r,
                Verdict::Unreadable,
                format!("the target could not be read: {reason}"),
                now,
            ));
        }
        Some((verdict, message)) => r.outcome = Some(outcome(r, verdict, message, now)),
        None => {
            let next = r.next.saturating_add(every).max(now);
            // The last question is asked at the deadline itself.
            r.next = if r.true_since.is_none()
                && !timing.never
                && next > r.bound.deadline
                && now < r.bound.deadline
            {
                r.bound.deadline
            } else if timing.never && next > r.bound.deadline {
                r.bound.deadline.max(now)
            } else {
                next
            };
        }
    }
}

/// `count >= N` and `count > N` (and no count, which is `>= 1`) pass as
/// soon as enough notifications are in; other counts wait for the deadline.
fn counts_early(a: &AlertCheck) -> bool {
    matches!(a.count, None | Some(Test::Compare(Op::Ge | Op::Gt, _)))
}

fn outcome(r: &Running, verdict: Verdict, message: String, now: i64) -> Outcome {
    let e = r.bound.e;
    Outcome {
        title: e.title.clone(),
        line: e.line,
        kind: match e.check {
            Check::Query(_) => "query",
            Check::Alert(_) => "alert",
        },
        verdict,
        message,
        observed: r.last.as_ref().and_then(|s| s.observed.clone()),
        seconds: (now - r.bound.reference).max(0) as f64 / 1e9,
        attempts: r.attempts,
        query: r.bound.query.clone(),
        window: r
            .bound
            .window
            .map(|(from, to)| [time_string(from), time_string(to)]),
        reference: time_string(r.bound.reference),
        deadline: time_string(r.bound.deadline),
    }
}

/// The condition on one answer.
fn condition(c: &ExpectCondition, asked: &Asked) -> Seen {
    let rows = asked.rows.len();
    match c {
        ExpectCondition::Empty => Seen {
            holds: rows == 0,
            observed: Some(format!("{rows} rows")),
            words: format!("{rows} rows, expected none"),
        },
        ExpectCondition::Rows(test) => Seen {
            holds: test.holds(rows as f64),
            observed: Some(rows.to_string()),
            words: format!("rows {rows}, expected {}", test.words()),
        },
        ExpectCondition::Value(test) => match asked.first_number() {
            Some(x) => Seen {
                holds: test.holds(x),
                observed: Some(x.to_string()),
                words: format!("value {x}, expected {}", test.words()),
            },
            None if rows == 0 => Seen {
                holds: false,
                observed: None,
                words: format!("no rows, expected a value {}", test.words()),
            },
            None => Seen {
                holds: false,
                observed: None,
                words: format!(
                    "the first row has no number (columns: {}): `value` needs one; use `rows` or `empty` for other answers",
                    asked.columns.join(", ")
                ),
            },
        },
    }
}

/// The notifications that match an alert expectation.
fn alerts(a: &AlertCheck, received: Vec<Notification>) -> Seen {
    let matching = received
        .iter()
        .flat_map(|n| n.alerts.iter())
        .filter(|alert| {
            alert.status == a.status.word()
                && alert.labels.get("alertname").map(String::as_str) == Some(a.alertname.as_str())
                && a.labels
                    .iter()
                    .all(|(name, test)| alert.labels.get(name).is_some_and(|v| test.allows(v)))
        })
        .count();
    let test = a.count.unwrap_or(Test::Compare(Op::Ge, 1.0));
    let all: usize = received.iter().map(|n| n.alerts.len()).sum();
    Seen {
        holds: test.holds(matching as f64),
        observed: Some(matching.to_string()),
        words: format!(
            "{matching} matching `{}` {} notifications of {all} alerts received, expected count {}",
            a.alertname,
            a.status.word(),
            test.words()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_each_dialects_time_literals() {
        let w = Some((1_000_000_000, 2_500_000_001));
        assert_eq!(
            fill(
                "time >= $from AND time < $to AND x = '$$5'",
                Dialect::Influxql,
                w
            ),
            "time >= '1970-01-01T00:00:01.000Z' AND time < '1970-01-01T00:00:02.500000001Z' AND x = '$5'"
        );
        assert_eq!(
            fill("time BETWEEN $from AND $to", Dialect::Sql, w),
            "time BETWEEN from_nanoseconds(1000000000) AND from_nanoseconds(2500000001)"
        );
    }

    #[test]
    fn value_on_no_rows_or_no_number_fails_and_says_why() {
        let test = ExpectCondition::Value(Test::Compare(Op::Ge, 0.0));
        let none = condition(&test, &Asked::default());
        assert!(!none.holds);
        assert!(none.words.starts_with("no rows"), "{}", none.words);
        let text = Asked {
            columns: vec!["time".into(), "truck".into()],
            rows: vec![vec![
                crate::targets::ask::Cell::Time("1".into()),
                crate::targets::ask::Cell::Text("t".into()),
            ]],
        };
        let words = condition(&test, &text).words;
        assert!(words.contains("no number"), "{words}");
    }
}
