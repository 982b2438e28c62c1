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

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;

use crate::model::{AlertCheck, Check, Dialect, ExpectCondition, Expectation, Op, Scenario, Test};
use crate::record::time_string;
use crate::targets::ask::{AskError, Asked};
use receiver::{Inbox, Notification};

/// Asks a target a query in a dialect it runs.
pub(crate) trait Ask {
    fn ask(&mut self, dialect: Dialect, text: &str) -> Result<Asked, AskError>;

    /// An instant (ns since the epoch) as the dialect writes it here:
    /// `$from` and `$to`. InfluxQL takes RFC 3339 text; SQL, Timestream's
    /// `from_nanoseconds(N)`.
    fn time_literal(&self, dialect: Dialect, at: i64) -> String {
        match dialect {
            Dialect::Influxql => format!("'{}'", time_string(at)),
            Dialect::Sql => format!("from_nanoseconds({at})"),
        }
    }
}

impl Ask for crate::targets::influxdb::query::InfluxDb {
    fn ask(&mut self, dialect: Dialect, text: &str) -> Result<Asked, AskError> {
        match dialect {
            Dialect::Influxql => crate::targets::influxdb::query::InfluxDb::ask(self, text),
            Dialect::Sql => self.ask_sql(text),
        }
    }

    /// InfluxDB 3's SQL (DataFusion) reads nanoseconds with
    /// `to_timestamp_nanos(N)`: exact, whatever the precision.
    fn time_literal(&self, dialect: Dialect, at: i64) -> String {
        match dialect {
            Dialect::Influxql => format!("'{}'", time_string(at)),
            Dialect::Sql => format!("to_timestamp_nanos({at})"),
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
    /// A signal stopped the command before the verdict.
    Interrupted,
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
    /// When the verdict was reached, RFC 3339.
    pub decided_at: String,
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
    /// For an alert about an anomaly: notifications count from its start
    /// (`firing`) or end (`resolved`); an alert raised before the fault is
    /// not its alert.
    since: Option<i64>,
}

/// Binds every expectation at `anchor`, the writes having ended at
/// `writes_done` (both in ns since the epoch).
fn bind<'a>(
    scenario: &'a Scenario,
    anchor: i64,
    writes_done: i64,
    listening: bool,
    literal: &dyn Fn(Dialect, i64) -> String,
) -> Result<Vec<Bound<'a>>, ExpectError> {
    scenario
        .expectations
        .iter()
        .map(|e| {
            let (query, within, has_window) = match &e.check {
                Check::Query(q) => (Some(q), e.timing.within, q.window.is_some()),
                Check::Alert(_) if !listening => {
                    return Err(ExpectError::NoListener {
                        title: e.title.clone(),
                        line: e.line,
                    });
                }
                Check::Alert(a) => (None, Some(a.within), a.anomaly.is_some()),
            };
            // The query's window, or the time an alert about an anomaly
            // may take: the model's one reading of it.
            let window =
                match has_window {
                    false => None,
                    true => Some(e.window_at(scenario, anchor).ok_or_else(|| {
                        ExpectError::OutOfRange {
                            title: e.title.clone(),
                            line: e.line,
                        }
                    })?),
                };
            let reference = window.map_or(writes_done, |(from, _)| from.max(writes_done));
            Ok(Bound {
                e,
                query: query.map(|q| fill(&q.text, &|t| literal(q.dialect, t), window)),
                window,
                reference,
                deadline: reference.saturating_add(within.map_or(0, |d| d.0)),
                // An alert counts from its anomaly's start (or end).
                since: window.filter(|_| query.is_none()).map(|(from, _)| from),
            })
        })
        .collect()
}

/// The query's text with `$from` and `$to` written as `literal` writes a
/// time, and `$$` as `$`.
fn fill(text: &str, literal: &dyn Fn(i64) -> String, window: Option<(i64, i64)>) -> String {
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
    /// Why the last question got no answer, if it got none.
    unreachable: Option<String>,
    /// Questions that got no answer.
    unanswered: u32,
    outcome: Option<Outcome>,
}

/// When the writes had caught up: set once, by whoever knows first (the
/// end of a burst apply; under live pacing, the first moment it waits for
/// records not yet due, everything due so far being written).
#[derive(Default)]
pub(crate) struct Ready(AtomicI64);

impl Ready {
    /// The writes caught up at `at` (ns since the epoch); a later call
    /// changes nothing.
    pub(crate) fn set(&self, at: i64) {
        let _ = self
            .0
            .compare_exchange(0, at.max(1), Ordering::SeqCst, Ordering::SeqCst);
    }

    /// When the writes caught up, once they have; `None` if `cancel` is
    /// set first.
    pub(crate) fn wait(&self, cancel: &AtomicBool) -> Option<i64> {
        loop {
            if let Some(at) = self.get() {
                return Some(at);
            }
            if cancel.load(Ordering::SeqCst) {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn get(&self) -> Option<i64> {
        match self.0.load(Ordering::SeqCst) {
            0 => None,
            at => Some(at),
        }
    }
}

/// What an evaluation says as it goes.
pub(crate) enum Said<'a> {
    /// An expectation's clock starts later than the writes ended: at its
    /// window's start (ns since the epoch).
    Waits {
        title: &'a str,
        line: usize,
        until: i64,
    },
    Verdict(&'a Outcome),
}

/// How far ahead a first question must be to be said.
const WAIT_WORTH_SAYING: i64 = 5_000_000_000;

/// The longest sleep between looks at `cancel`.
const NAP: Duration = Duration::from_millis(100);

/// Sleeps until `until` (ns since the epoch) or `cancel` is set; whether
/// it was cancelled.
fn sleep_until(until: i64, cancel: &AtomicBool) -> bool {
    loop {
        if cancel.load(Ordering::SeqCst) {
            return true;
        }
        let wait = until - wall_now();
        if wait <= 0 {
            return false;
        }
        std::thread::sleep(Duration::from_nanos(wait as u64).min(NAP));
    }
}

/// Evaluates every expectation of `scenario` at `anchor`, the writes
/// having caught up at `writes_done` (ns since the epoch; an apply may go
/// on writing later records). `inbox` holds the notifications a listener
/// received, when one runs. `say` hears each verdict as it is reached.
/// `cancel` stops it between questions: the outcomes so far are returned.
pub(crate) fn evaluate(
    scenario: &Scenario,
    anchor: i64,
    writes_done: i64,
    target: &mut dyn Ask,
    inbox: Option<&Inbox>,
    say: &mut dyn FnMut(&Said<'_>),
    cancel: &AtomicBool,
) -> Result<Vec<Outcome>, ExpectError> {
    let literal = |dialect, at| target.time_literal(dialect, at);
    let bound = bind(scenario, anchor, writes_done, inbox.is_some(), &literal)?;
    // An expectation about a later stretch of time waits for it: said, so
    // that a command that seems idle is not taken for a hung one.
    for b in &bound {
        if b.reference - writes_done > WAIT_WORTH_SAYING {
            say(&Said::Waits {
                title: &b.e.title,
                line: b.e.line,
                until: b.reference,
            });
        }
    }
    let mut running: Vec<Running> = bound
        .into_iter()
        .map(|bound| Running {
            next: bound.reference,
            bound,
            attempts: 0,
            true_since: None,
            last: None,
            unreachable: None,
            unanswered: 0,
            outcome: None,
        })
        .collect();
    while let Some(due) = running
        .iter_mut()
        .filter(|r| r.outcome.is_none())
        .min_by_key(|r| r.next)
    {
        if sleep_until(due.next, cancel) {
            // Each one still asking says where it stood.
            let now = wall_now();
            for r in running.iter_mut().filter(|r| r.outcome.is_none()) {
                let last = r
                    .last
                    .as_ref()
                    .map(|seen| format!(": {}", seen.words))
                    .unwrap_or_default();
                let message = format!("stopped before its verdict{last}");
                let stopped = outcome(r, Verdict::Interrupted, message, now);
                say(&Said::Verdict(&stopped));
                r.outcome = Some(stopped);
            }
            break;
        }
        step(due, target, inbox);
        if let Some(outcome) = &due.outcome {
            say(&Said::Verdict(outcome));
        }
    }
    Ok(running.into_iter().filter_map(|r| r.outcome).collect())
}

/// The expectations of `scenario` without an outcome in `decided`, each
/// an `Interrupted` one saying `why`.
pub(crate) fn undecided(scenario: &Scenario, decided: &[Outcome], why: &str) -> Vec<Outcome> {
    scenario
        .expectations
        .iter()
        .filter(|e| !decided.iter().any(|o| o.title == e.title))
        .map(|e| Outcome {
            title: e.title.clone(),
            line: e.line,
            kind: match e.check {
                Check::Query(_) => "query",
                Check::Alert(_) => "alert",
            },
            verdict: Verdict::Interrupted,
            message: why.to_string(),
            observed: None,
            seconds: 0.0,
            attempts: 0,
            query: None,
            window: None,
            reference: String::new(),
            deadline: String::new(),
            decided_at: time_string(wall_now()),
        })
        .collect()
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
                    r.unanswered += 1;
                    Ok(Seen {
                        holds: false,
                        observed: None,
                        words: "the target could not be read".into(),
                    })
                }
            }
        }
        Check::Alert(a) => Ok(alerts(
            a,
            r.bound.since,
            inbox.map(Inbox::snapshot).unwrap_or_default(),
        )),
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
    } else if seen.holds && (past_deadline || !alert_waits_for_deadline) {
        Some((Verdict::Pass, seen.words.clone()))
    } else {
        past_deadline.then(|| (Verdict::Fail, seen.words.clone()))
    };
    r.last = Some(seen);
    match verdict {
        // A failure seen through an unanswered question is not the
        // system's: the target could not be read.
        Some((Verdict::Fail, _)) if r.unreachable.is_some() => {
            let reason = r.unreachable.clone().unwrap_or_default();
            r.outcome = Some(outcome(
                r,
                Verdict::Unreadable,
                format!("the target could not be read: {reason}"),
                now,
            ));
        }
        // Nor is `never` vouched for while some questions got no answer.
        Some((Verdict::Pass, _)) if timing.never && r.unanswered > 0 => {
            let message = format!(
                "{} of {} questions got no answer, so `never` cannot be vouched for: {}",
                r.unanswered,
                r.attempts,
                r.unreachable.clone().unwrap_or_default()
            );
            r.outcome = Some(outcome(r, Verdict::Unreadable, message, now));
        }
        Some((verdict, message)) => r.outcome = Some(outcome(r, verdict, message, now)),
        None => {
            // The next question, and the last one at the deadline itself
            // (a `hold` under way goes on past it).
            let next = r.next.saturating_add(every).max(now);
            r.next = if r.true_since.is_none() && now < r.bound.deadline {
                next.min(r.bound.deadline)
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
        decided_at: time_string(now),
    }
}

/// The condition on one answer.
fn condition(c: &ExpectCondition, asked: &Asked) -> Seen {
    let rows = asked.rows;
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

/// The notifications that match an alert expectation, received `since`
/// (ns since the epoch) when given.
fn alerts(a: &AlertCheck, since: Option<i64>, received: Vec<Notification>) -> Seen {
    let matching = received
        .iter()
        .filter(|n| since.is_none_or(|since| n.received_at >= since))
        .flat_map(|n| n.alerts.iter())
        .filter(|alert| {
            alert.status == a.status.word()
                && alert.labels.get("alertname").map(String::as_str) == Some(a.alertname.as_str())
                && a.labels.iter().all(|c| {
                    alert
                        .labels
                        .get(&c.dimension)
                        .is_some_and(|v| c.test.allows(v))
                })
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
    use crate::model::ConditionTest;

    #[test]
    fn placeholders_become_each_dialects_time_literals() {
        let w = Some((1_000_000_000, 2_500_000_001));
        let target = Scripted {
            answers: vec![None],
            asked: 0,
        };
        let target = &target;
        let literal = |dialect| move |t| target.time_literal(dialect, t);
        assert_eq!(
            fill(
                "time >= $from AND time < $to AND x = '$$5'",
                &literal(Dialect::Influxql),
                w
            ),
            "time >= '1970-01-01T00:00:01.000Z' AND time < '1970-01-01T00:00:02.500000001Z' AND x = '$5'"
        );
        assert_eq!(
            fill("time BETWEEN $from AND $to", &literal(Dialect::Sql), w),
            "time BETWEEN from_nanoseconds(1000000000) AND from_nanoseconds(2500000001)"
        );
    }

    /// A target answering from a script, one answer a question (the last
    /// one again once the script is spent): `Some(n)` a row holding `n`,
    /// `None` no answer at all.
    struct Scripted {
        answers: Vec<Option<f64>>,
        asked: usize,
    }

    impl Ask for Scripted {
        fn ask(&mut self, _: Dialect, text: &str) -> Result<Asked, AskError> {
            if text.contains("SELEC ") {
                return Err(AskError::Refused("error parsing query".into()));
            }
            let answer = self.answers[self.asked.min(self.answers.len() - 1)];
            self.asked += 1;
            match answer {
                Some(x) => Ok(Asked {
                    columns: vec!["time".into(), "v".into()],
                    first: Some(vec![
                        crate::targets::ask::Cell::Time("0".into()),
                        crate::targets::ask::Cell::Number(x),
                    ]),
                    rows: 1,
                }),
                None => Err(AskError::Unreachable("connection refused".into())),
            }
        }
    }

    /// The one expectation of a scenario whose block is `block`, asked of
    /// `answers`.
    fn verdict(block: &str, answers: &[Option<f64>]) -> Outcome {
        let text = format!(
            "scenario \"s\"\ntable lab\ngenerate into lab {{\n  series d = \"a\"\n  from now - 1h to now every 1m\n  measure v double = constant(value: 1)\n}}\n{block}"
        );
        let checked = crate::validate::check::check_text(
            &text,
            std::path::Path::new("."),
            crate::targets::DEFAULT_RULES,
        );
        let scenario = checked.scenario.expect("a valid scenario");
        let mut target = Scripted {
            answers: answers.to_vec(),
            asked: 0,
        };
        let mut outcomes = evaluate(
            &scenario,
            wall_now(),
            wall_now(),
            &mut target,
            None,
            &mut |_: &Said<'_>| {},
            &AtomicBool::new(false),
        )
        .unwrap();
        assert_eq!(outcomes.len(), 1);
        outcomes.remove(0)
    }

    #[test]
    fn hold_starts_again_when_the_condition_breaks() {
        let o = verdict(
            "expect \"h\" {\n  query influxql \"SELECT v FROM t\"\n  value >= 1\n  within 2s every 20ms\n  hold 60ms\n}\n",
            &[Some(1.0), Some(1.0), Some(0.0), Some(1.0)],
        );
        assert_eq!(o.verdict, Verdict::Pass, "{o:?}");
        assert!(o.message.starts_with("held for 60ms"), "{o:?}");
        // Two true, one false, then true long enough: at least 3 + 4.
        assert!(o.attempts >= 7, "{o:?}");
    }

    #[test]
    fn never_is_not_vouched_for_through_questions_without_an_answer() {
        let o = verdict(
            "expect \"n\" {\n  query influxql \"SELECT v FROM t\"\n  value >= 5\n  within 200ms every 20ms\n  never\n}\n",
            &[Some(0.0), None, Some(0.0)],
        );
        assert_eq!(o.verdict, Verdict::Unreadable, "{o:?}");
        assert!(o.message.contains("cannot be vouched for"), "{o:?}");
        let o = verdict(
            "expect \"n\" {\n  query influxql \"SELECT v FROM t\"\n  value >= 5\n  within 200ms every 20ms\n  never\n}\n",
            &[Some(0.0)],
        );
        assert_eq!(o.verdict, Verdict::Pass, "{o:?}");
        assert!(o.seconds >= 0.2, "{o:?}");
    }

    #[test]
    fn a_target_that_never_answers_is_unreadable_not_failed_and_a_refused_query_fails_at_once() {
        let o = verdict(
            "expect \"u\" {\n  query influxql \"SELECT v FROM t\"\n  value >= 1\n  within 100ms every 20ms\n}\n",
            &[None],
        );
        assert_eq!(o.verdict, Verdict::Unreadable, "{o:?}");
        assert!(o.message.contains("connection refused"), "{o:?}");
        let o = verdict(
            "expect \"r\" {\n  query influxql \"SELEC v FROM t\"\n  value >= 1\n  within 5s every 20ms\n}\n",
            &[Some(1.0)],
        );
        assert_eq!((o.verdict, o.attempts), (Verdict::Fail, 1), "{o:?}");
    }

    fn received(at: i64, status: &str, labels: &[(&str, &str)]) -> Notification {
        Notification {
            received_at: at,
            sender: "alertmanager",
            alerts: vec![receiver::ReceivedAlert {
                status: status.into(),
                labels: labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            }],
            payload: serde_json::Value::Null,
        }
    }

    #[test]
    fn an_alert_matches_by_name_status_a_subset_of_labels_and_time() {
        let check = |labels: Vec<(String, ConditionTest)>, count| AlertCheck {
            alertname: "Hot".into(),
            labels: labels
                .into_iter()
                .map(|(dimension, test)| crate::model::Condition { dimension, test })
                .collect(),
            status: crate::model::AlertStatus::Firing,
            within: crate::lang::literal::Duration(1),
            anomaly: None,
            count,
        };
        let inbox = vec![
            received(
                10,
                "firing",
                &[("alertname", "Hot"), ("truck", "t12"), ("x", "y")],
            ),
            received(20, "firing", &[("alertname", "Hot"), ("truck", "t11")]),
            received(30, "resolved", &[("alertname", "Hot"), ("truck", "t12")]),
            received(40, "firing", &[("alertname", "Cold"), ("truck", "t12")]),
        ];
        let t12 = vec![("truck".to_string(), ConditionTest::Equals("t12".into()))];
        // The subset: `x` is not asked about; the resolved one and the
        // other alert's do not count.
        let seen = alerts(&check(t12.clone(), None), None, inbox.clone());
        assert!(seen.holds);
        assert_eq!(seen.observed.as_deref(), Some("1"));
        // Received before the anomaly's start: not its alert.
        assert!(!alerts(&check(t12, None), Some(11), inbox.clone()).holds);
        let any = alerts(
            &check(vec![], Some(Test::Compare(Op::Eq, 2.0))),
            None,
            inbox.clone(),
        );
        assert!(any.holds, "{}", any.words);
        let not_in = vec![("truck".to_string(), ConditionTest::NotEquals("t12".into()))];
        let other = alerts(
            &check(not_in, Some(Test::Compare(Op::Eq, 1.0))),
            None,
            inbox,
        );
        assert!(other.holds, "{}", other.words);
    }

    #[test]
    fn value_on_no_rows_or_no_number_fails_and_says_why() {
        let test = ExpectCondition::Value(Test::Compare(Op::Ge, 0.0));
        let none = condition(&test, &Asked::default());
        assert!(!none.holds);
        assert!(none.words.starts_with("no rows"), "{}", none.words);
        let text = Asked {
            columns: vec!["time".into(), "truck".into()],
            first: Some(vec![
                crate::targets::ask::Cell::Time("1".into()),
                crate::targets::ask::Cell::Text("t".into()),
            ]),
            rows: 1,
        };
        let words = condition(&test, &text).words;
        assert!(words.contains("no number"), "{words}");
    }
}
