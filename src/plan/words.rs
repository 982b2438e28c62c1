//! The scenario in words, as the plan writes its steps and anomalies and as
//! `explain` tells them: times as offsets from `now` or instants, filters,
//! shifts, schedules and models with every default written out.

pub(crate) use crate::lang::literal::{offset_words, time_words};
use crate::model::{
    AnomalyKind, Check, ExpectCondition, ExpectWindow, Expectation, Filter, Model, Scalar,
    Schedule, Shift, Term, TimePoint, Timing,
};
use crate::plan::ExpectationPlan;

/// The kind with its parameters, defaults explicit: `spike magnitude 12.5`.
pub(crate) fn kind_words(kind: &AnomalyKind) -> String {
    match kind {
        AnomalyKind::Spike { magnitude } => format!("spike magnitude {magnitude}"),
        AnomalyKind::Offset { delta } => format!("offset delta {delta}"),
        AnomalyKind::Scale { factor } => format!("scale factor {factor}"),
        AnomalyKind::Drift { rate, per } => format!("drift rate {rate} per {per}"),
        AnomalyKind::Flatline { value: None } => "flatline (first value)".into(),
        AnomalyKind::Flatline { value: Some(v) } => format!("flatline value {}", scalar_words(v)),
        AnomalyKind::Noise { sigma } => format!("noise sigma {sigma}"),
        AnomalyKind::Clip { min, max } => format!(
            "clip{}{}",
            min.map(|m| format!(" min {m}")).unwrap_or_default(),
            max.map(|m| format!(" max {m}")).unwrap_or_default()
        ),
        AnomalyKind::Outliers { rate, magnitude } => {
            format!("outliers rate {rate} magnitude {magnitude}")
        }
        AnomalyKind::Dropout => "dropout".into(),
        AnomalyKind::Late { delay } => format!("late delay {delay}"),
    }
}

pub(crate) fn point_words(p: TimePoint) -> String {
    match p {
        TimePoint::Relative(d) => offset_words(d.0),
        TimePoint::Absolute(i) => i.to_string(),
    }
}

pub(crate) fn filter_words(f: &Filter) -> Option<String> {
    if f.conditions.is_empty() {
        return None;
    }
    let parts: Vec<String> = f
        .conditions
        .iter()
        .map(crate::model::Condition::words)
        .collect();
    Some(parts.join(" and "))
}

pub(crate) fn shift_words(s: &Shift) -> Option<String> {
    match s {
        Shift::None => None,
        Shift::StartTo(p) => Some(format!("start to {}", point_words(*p))),
        Shift::EndTo(p) => Some(format!("end to {}", point_words(*p))),
        Shift::By(d) => Some(format!("by {d}")),
        Shift::CalendarDays { days, zone } => Some(format!("by {days} days in {:?}", zone.name())),
    }
}

pub(crate) fn schedule_words(s: &Schedule) -> String {
    format!(
        "{} .. {} every {}",
        point_words(s.start),
        point_words(s.end),
        s.every
    )
}

pub(crate) fn scalar_words(s: &Scalar) -> String {
    match s {
        Scalar::Double(v) => format!("{v:?}"),
        Scalar::Bigint(v) => v.to_string(),
        Scalar::Boolean(b) => b.to_string(),
        Scalar::Varchar(v) => format!("{v:?}"),
    }
}

/// A model with every default written out.
pub(crate) fn model_words(m: &Model) -> String {
    let terms: Vec<String> = m
        .terms
        .iter()
        .map(|t| match t {
            Term::Constant(v) => format!("constant(value: {})", scalar_words(v)),
            Term::Ramp { from, to } => format!("ramp(from: {from:?}, to: {to:?})"),
            Term::Sine {
                period,
                amplitude,
                mean,
                phase,
            } => format!(
                "sine(period: {period}, amplitude: {amplitude:?}, mean: {mean:?}, phase: {phase})"
            ),
            Term::Square {
                period,
                low,
                high,
                duty,
            } => format!(
                "square(period: {period}, low: {}, high: {}, duty: {duty:?})",
                scalar_words(low),
                scalar_words(high)
            ),
            Term::RandomWalk {
                start,
                step,
                min,
                max,
            } => format!(
                "random_walk(start: {start:?}, step: {step:?}{}{})",
                min.map(|v| format!(", min: {v:?}")).unwrap_or_default(),
                max.map(|v| format!(", max: {v:?}")).unwrap_or_default()
            ),
            Term::Noise { sigma } => format!("noise(sigma: {sigma:?})"),
            Term::Uniform { min, max } => format!("uniform(min: {min:?}, max: {max:?})"),
            Term::Bernoulli { p } => format!("bernoulli(p: {p:?})"),
            Term::Choice(values) => format!(
                "choice({})",
                values
                    .iter()
                    .map(|v| format!("{v:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Term::Seasonal { period } => format!("seasonal(period: {period})"),
            Term::Trend => "trend".into(),
            Term::Last => "last".into(),
            Term::Mean => "mean".into(),
        })
        .collect();
    let mut out = terms.join(" + ");
    if let Some((lo, hi)) = m.clamp {
        out.push_str(&format!(" clamp {lo:?} .. {hi:?}"));
    }
    out
}

/// A `series` clause as the language writes it: `device = "sim-{0001..2000}"`.
pub(crate) fn clause_words(written: &[(String, String)]) -> String {
    written
        .iter()
        .map(|(dimension, value)| format!("{dimension} = {value:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// An `expect` block as the plan words it.
pub(crate) fn expectation_plan(e: &Expectation) -> ExpectationPlan {
    let mut plan = ExpectationPlan {
        expect: e.title.clone(),
        line: e.line,
        query: None,
        window: None,
        alert: None,
        labels: None,
        condition: String::new(),
        timing: timing_words(&e.timing),
    };
    match &e.check {
        Check::Query(q) => {
            plan.query = Some(format!("{} {}", q.dialect.word(), q.text));
            plan.window = q.window.as_ref().map(window_words);
            plan.condition = match q.condition {
                ExpectCondition::Value(t) => format!("value {}", t.words()),
                ExpectCondition::Rows(t) => format!("rows {}", t.words()),
                ExpectCondition::Empty => "empty".into(),
            };
        }
        Check::Alert(a) => {
            plan.alert = Some(a.alertname.clone());
            plan.labels = (!a.labels.is_empty()).then(|| {
                let labels: Vec<String> = a.labels.iter().map(|c| c.words()).collect();
                labels.join(", ")
            });
            let of = a
                .anomaly
                .as_ref()
                .map(|n| format!(" of anomaly {n}"))
                .unwrap_or_else(|| " of the writes".into());
            plan.condition = format!("{} within {}{of}", a.status.word(), a.within);
            if let Some(count) = a.count {
                plan.condition
                    .push_str(&format!(", count {}", count.words()));
            }
            plan.timing = if e.timing.never {
                "never, watched until the deadline".into()
            } else {
                "as soon as received, until the deadline".into()
            };
        }
    }
    plan
}

/// `now-1h .. now+30m`, `anomaly door_warmup`, `anomaly door_warmup .. end+10m`.
pub(crate) fn window_words(w: &ExpectWindow) -> String {
    match w {
        ExpectWindow::Times { from, to } => {
            format!("{} .. {}", point_words(*from), point_words(*to))
        }
        ExpectWindow::Anomaly { name, extend } if extend.0 == 0 => format!("anomaly {name}"),
        ExpectWindow::Anomaly { name, extend } if extend.0 > 0 => {
            format!("anomaly {name} .. end+{extend}")
        }
        ExpectWindow::Anomaly { name, extend } => format!("anomaly {name} .. end{extend}"),
    }
}

/// `once`, `within 5m every 10s`, `within 5m every 10s, hold 1m`, `never, within 10m every 1s`.
fn timing_words(t: &Timing) -> String {
    let mut parts = Vec::new();
    if t.never {
        parts.push("never".to_string());
    }
    match t.within {
        Some(w) => parts.push(format!("within {w} every {}", t.every)),
        None => parts.push("once, after the writes".into()),
    }
    if let Some(h) = t.hold {
        parts.push(format!("hold {h} every {}", t.every));
    }
    parts.join(", ")
}
