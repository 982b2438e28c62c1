//! Expectations: what the system under test must have done once the
//! scenario's records are written, as `expect` blocks say it
//! (docs/expect.md). `validate` builds them; `plan` words them; the
//! `expect` verb evaluates them against a target.

use crate::lang::literal::Duration;
use crate::model::{Condition as LabelCondition, Scenario, TimePoint};

/// One `expect` block.
#[derive(Clone, Debug, PartialEq)]
pub struct Expectation {
    /// The block's title, its name in reports and JUnit.
    pub title: String,
    /// The line of `expect`.
    pub line: usize,
    pub check: Check,
    pub timing: Timing,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Check {
    /// `query DIALECT "TEXT"` and a condition on its answer.
    Query(QueryCheck),
    /// `expect alert "NAME"`: notifications received by `outatime test --listen`.
    Alert(AlertCheck),
}

#[derive(Clone, Debug, PartialEq)]
pub struct QueryCheck {
    pub dialect: Dialect,
    /// As written; `$from` and `$to` are replaced when it runs.
    pub text: String,
    pub window: Option<ExpectWindow>,
    pub condition: Condition,
}

/// The query languages expectations are written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Dialect {
    /// InfluxDB's `/query` (1.x, and the v1 endpoint of 2.x and 3.x).
    Influxql,
    /// Timestream for LiveAnalytics' Query API.
    Sql,
}

impl Dialect {
    pub const ALL: [(&'static str, Dialect); 2] =
        [("influxql", Dialect::Influxql), ("sql", Dialect::Sql)];

    pub fn word(self) -> &'static str {
        match self {
            Dialect::Influxql => "influxql",
            Dialect::Sql => "sql",
        }
    }
}

/// `window A .. B` or `window anomaly NAME [.. + D]`.
#[derive(Clone, Debug, PartialEq)]
pub enum ExpectWindow {
    Times {
        from: TimePoint,
        to: TimePoint,
    },
    /// The named anomaly's window (`[at, at + for)`, or the instant `at`
    /// without `for`), its end moved by `extend`.
    Anomaly {
        name: String,
        extend: Duration,
    },
}

/// What the answer must show.
#[derive(Clone, Debug, PartialEq)]
pub enum Condition {
    /// The first number of the first row, not counting its time.
    Value(Test),
    /// How many rows.
    Rows(Test),
    /// No row at all.
    Empty,
}

/// A test on a number.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Test {
    Compare(Op, f64),
    /// Both ends included.
    Between(f64, f64),
    /// Within `fraction` of the value (`rel 3%` is 0.03).
    Relative(f64, f64),
    /// Within `tolerance` of the value.
    Absolute(f64, f64),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    pub const ALL: [(&'static str, Op); 6] = [
        ("==", Op::Eq),
        ("!=", Op::Ne),
        ("<", Op::Lt),
        ("<=", Op::Le),
        (">", Op::Gt),
        (">=", Op::Ge),
    ];

    pub fn word(self) -> &'static str {
        Op::ALL
            .iter()
            .find(|(_, op)| *op == self)
            .map_or("==", |(w, _)| w)
    }
}

impl Test {
    pub fn holds(self, x: f64) -> bool {
        match self {
            Test::Compare(op, n) => match op {
                Op::Eq => x == n,
                Op::Ne => x != n,
                Op::Lt => x < n,
                Op::Le => x <= n,
                Op::Gt => x > n,
                Op::Ge => x >= n,
            },
            Test::Between(a, b) => a <= x && x <= b,
            Test::Relative(n, fraction) => (x - n).abs() <= (n * fraction).abs(),
            Test::Absolute(n, tolerance) => (x - n).abs() <= tolerance,
        }
    }

    /// As the language writes it: `>= 1`, `between 2 and 4`, `approx 5 rel 3%`.
    pub fn words(self) -> String {
        match self {
            Test::Compare(op, n) => format!("{} {n}", op.word()),
            Test::Between(a, b) => format!("between {a} and {b}"),
            Test::Relative(n, f) => format!("approx {n} rel {}%", f * 100.0),
            Test::Absolute(n, t) => format!("approx {n} abs {t}"),
        }
    }
}

/// `expect alert "NAME" { labels ...  firing within D of anomaly X }`.
#[derive(Clone, Debug, PartialEq)]
pub struct AlertCheck {
    /// Matched against the `alertname` label.
    pub alertname: String,
    /// Labels the alert must have (it may have others).
    pub labels: Vec<LabelCondition>,
    pub status: AlertStatus,
    /// How long after the reference the notification may arrive.
    pub within: Duration,
    /// The reference: this anomaly's start (`firing`) or end (`resolved`);
    /// without one, the end of the writes.
    pub anomaly: Option<String>,
    /// How many matching notifications must arrive (default: at least one).
    pub count: Option<Test>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlertStatus {
    Firing,
    Resolved,
}

impl AlertStatus {
    pub fn word(self) -> &'static str {
        match self {
            AlertStatus::Firing => "firing",
            AlertStatus::Resolved => "resolved",
        }
    }
}

/// When the condition is asked.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Timing {
    /// `within D`: ask until it holds or D has passed; `None`: once.
    pub within: Option<Duration>,
    /// `every P` (default 1s, or `within`'s tenth when that is shorter).
    pub every: Duration,
    /// `hold D`: once true, it must stay true this long.
    pub hold: Option<Duration>,
    /// `never`: it must not become true before the deadline.
    pub never: bool,
}

impl Scenario {
    /// The window `[start, end)` of the anomaly named `name` at `anchor`:
    /// `[at, at + for)`, or the instant `at` (one nanosecond) without `for`.
    /// `None` for no such anomaly, or past what i64 nanoseconds hold.
    pub fn anomaly_window(&self, name: &str, anchor: i64) -> Option<(i64, i64)> {
        let a = self
            .anomalies
            .iter()
            .find(|a| a.name.as_deref() == Some(name))?;
        let start = a.at.at(anchor)?;
        let end = start.checked_add(a.length.map_or(1, |l| l.0))?;
        Some((start, end))
    }
}

impl Expectation {
    /// The stretch of time the expectation is about at `anchor`: a query's
    /// window, or the time an alert may take after its anomaly's start
    /// (`firing`) or end (`resolved`). `None` when it has none (a query
    /// without `window`, an alert timed from the end of the writes) or it
    /// lies past what i64 nanoseconds hold.
    pub fn window_at(&self, scenario: &Scenario, anchor: i64) -> Option<(i64, i64)> {
        match &self.check {
            Check::Query(q) => match q.window.as_ref()? {
                ExpectWindow::Times { from, to } => Some((from.at(anchor)?, to.at(anchor)?)),
                ExpectWindow::Anomaly { name, extend } => {
                    let (start, end) = scenario.anomaly_window(name, anchor)?;
                    Some((start, end.checked_add(extend.0)?))
                }
            },
            Check::Alert(a) => {
                let (start, end) = scenario.anomaly_window(a.anomaly.as_deref()?, anchor)?;
                let from = match a.status {
                    AlertStatus::Firing => start,
                    AlertStatus::Resolved => end,
                };
                Some((from, from.checked_add(a.within.0)?))
            }
        }
    }
}
