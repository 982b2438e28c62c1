//! A validated scenario in words and a picture: what `check --explain`
//! prints. Times relative to `now` are shown as offsets (`now-1d`), recorded
//! instants in RFC 3339; each table gets a timeline of its steps and
//! anomalies around `now`.

use std::fmt::Write as _;

use crate::lang::literal::Duration;
use crate::lang::names::{column_name, renamed, string_literal};
use crate::model::{
    Anomaly, AnomalyKind, ConditionTest, Filter, Layout, Scenario, Schedule, Shift, Source,
    SourceMeasures, Step, TimeFormat, TimePoint, Window,
};
use crate::plan::words::{offset_words, point_words, schedule_words};

/// Columns of the timeline bar.
const TIMELINE_WIDTH: i64 = 60;

pub fn explain(s: &Scenario) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "  seed {} · now is rounded down to {}",
        s.seed, s.anchor_align
    );
    for source in s.sources.values() {
        let _ = writeln!(out, "  source {}", describe_source(source));
    }
    let mut tables: Vec<_> = s.tables.values().collect();
    tables.sort_by_key(|t| t.line);
    for table in tables {
        let layout = match table.layout {
            Layout::Multi => format!("multi-measure records named \"{}\"", table.measure_name),
            Layout::Single => "one record per measure".to_string(),
        };
        let _ = writeln!(
            out,
            "\n  table {} → \"{}\", {layout}",
            table.name, table.target_name
        );
        let mut rows: Vec<Row> = Vec::new();
        for step in s.steps.iter().filter(|st| st.table() == table.name) {
            rows.push(step_row(step));
        }
        for anomaly in s.anomalies.iter().filter(|a| a.table == table.name) {
            rows.push(anomaly_row(anomaly));
        }
        if rows.is_empty() {
            let _ = writeln!(out, "    (no step writes into it)");
            continue;
        }
        let label_width = rows
            .iter()
            .map(|r| r.label.chars().count())
            .max()
            .unwrap_or(0);
        for row in &rows {
            let _ = writeln!(
                out,
                "    line {:<4} {:<label_width$}  {}{}",
                row.line,
                row.label,
                row.when,
                if row.detail.is_empty() {
                    String::new()
                } else {
                    format!("  · {}", row.detail)
                },
            );
        }
        out.push_str(&timeline(&rows, label_width));
    }
    if !s.expectations.is_empty() {
        out.push_str("\n  expect, once the records are written\n");
    }
    for e in &s.expectations {
        let words = crate::plan::words::expectation_plan(e);
        let _ = writeln!(out, "    line {:<4} {}", e.line, words.expect);
        let alert = words.alert.as_deref().unwrap_or_default();
        let what = match (&words.query, &words.labels) {
            (Some(query), _) => query.clone(),
            (None, Some(labels)) => format!("alert {alert} with {labels}"),
            (None, None) => format!("alert {alert}"),
        };
        let _ = writeln!(out, "              {what}");
        let mut when: Vec<String> = words.window.iter().map(|w| format!("window {w}")).collect();
        when.push(words.condition);
        when.push(words.timing);
        let _ = writeln!(out, "              {}", when.join(" · "));
    }
    out
}

struct Row {
    line: usize,
    label: String,
    when: String,
    detail: String,
    /// Where the row lands relative to `now`, when that is known at compile time.
    span: Option<(i64, i64)>,
}

fn describe_source(s: &Source) -> String {
    let format = match &s.time_format {
        TimeFormat::Rfc3339 => "RFC 3339".to_string(),
        TimeFormat::Strftime(f) => format!("format \"{f}\" in {}", s.timezone.name()),
        TimeFormat::Epoch(unit) => format!("{unit:?} since the epoch").to_lowercase(),
    };
    let measures = match &s.measures {
        SourceMeasures::Wide(defs) => defs
            .iter()
            .map(|d| format!("{} {}", renamed(&d.name, &d.table_name), d.ty.name()))
            .collect::<Vec<_>>()
            .join(", "),
        SourceMeasures::Long {
            name_column,
            value_column,
            ty,
        } => format!(
            "named by column {}, {} values in {}",
            column_name(name_column),
            ty.name(),
            column_name(value_column)
        ),
    };
    format!(
        "{}: {:?} file {} · time {} ({format}) · series by {} · measures {measures}",
        s.name,
        s.kind,
        s.path_written,
        column_name(&s.time_column),
        if s.dimensions.is_empty() {
            "(none)".into()
        } else {
            s.dimensions
                .iter()
                .zip(&s.dimension_names)
                .map(|(column, name)| renamed(column, name))
                .collect::<Vec<_>>()
                .join(", ")
        },
    )
    .replace(": Csv file", ": csv file")
    .replace(": Jsonl file", ": jsonl file")
    .replace(": Unload file", ": unload manifest")
}

fn step_row(step: &Step) -> Row {
    match step {
        Step::Replay(r) => {
            let (when, span) = match r.window {
                Some(w) => replay_placement(w, &r.shift, r.speed),
                None => (
                    format!("all recorded data, {}", shift_words(&r.shift)),
                    None,
                ),
            };
            let mut detail = Vec::new();
            if let Some(w) = r.window {
                detail.push(format!("recorded {}", window_words(w)));
            }
            detail.extend(filter_words(&r.filter));
            if r.speed != 1.0 {
                detail.push(format!("{}× speed", r.speed));
            }
            if let Some(m) = &r.measures {
                let names: Vec<String> = m.iter().map(|n| column_name(n)).collect();
                detail.push(format!("measures {}", names.join(", ")));
            }
            for (k, v) in &r.set {
                detail.push(format!("set {} = {}", column_name(k), string_literal(v)));
            }
            Row {
                line: r.line,
                label: format!("replay {}", r.source),
                when,
                detail: detail.join(", "),
                span,
            }
        }
        Step::Generate(g) => {
            let measures: Vec<String> = g.measures.iter().map(|m| column_name(&m.name)).collect();
            Row {
                line: g.line,
                label: "generate".into(),
                when: schedule_words(&g.schedule),
                detail: format!("{} series × {}", g.series.len(), measures.join(", ")),
                span: schedule_span(&g.schedule),
            }
        }
        Step::Extrapolate(e) => {
            let mut detail = vec![format!("learned {}", window_words(e.learn))];
            detail.extend(filter_words(&e.filter));
            Row {
                line: e.line,
                label: format!("extrapolate {}.{}", e.source, column_name(&e.measure)),
                when: schedule_words(&e.schedule),
                detail: detail.join(", "),
                span: schedule_span(&e.schedule),
            }
        }
    }
}

fn anomaly_row(a: &Anomaly) -> Row {
    let kind = a.kind.name();
    let target = a
        .measure
        .as_deref()
        .map(|m| format!(" on {}", column_name(m)))
        .unwrap_or_default();
    let (when, span) = match (a.at, a.length) {
        (TimePoint::Relative(at), Some(len)) => (
            format!(
                "{} .. {}",
                offset_words(at.0),
                offset_words(at.0.saturating_add(len.0))
            ),
            Some((at.0, at.0.saturating_add(len.0))),
        ),
        (TimePoint::Relative(at), None) => (
            format!("first record at or after {}", offset_words(at.0)),
            Some((at.0, at.0)),
        ),
        (TimePoint::Absolute(at), Some(len)) => (format!("{at} for {len}"), None),
        (TimePoint::Absolute(at), None) => (format!("first record at or after {at}"), None),
    };
    let mut detail = filter_words(&a.filter);
    detail.push(match &a.kind {
        AnomalyKind::Spike { magnitude } => format!("+{magnitude}"),
        AnomalyKind::Offset { delta } => format!("level {delta:+}"),
        AnomalyKind::Scale { factor } => format!("×{factor}"),
        AnomalyKind::Drift { rate, per } => format!("{rate:+} per {per}"),
        AnomalyKind::Flatline { value: Some(v) } => format!("held at {v}"),
        AnomalyKind::Flatline { value: None } => "held at the window's first value".into(),
        AnomalyKind::Noise { sigma } => format!("noise σ {sigma}"),
        AnomalyKind::Clip { min, max } => format!(
            "clipped to {} .. {}",
            min.map_or("-∞".into(), |v| v.to_string()),
            max.map_or("+∞".into(), |v| v.to_string())
        ),
        AnomalyKind::Outliers { rate, magnitude } => format!("{rate} of records ±{magnitude}"),
        AnomalyKind::Dropout => "records removed".into(),
        AnomalyKind::Late { delay } => format!("written {delay} late"),
    });
    Row {
        line: a.line,
        label: match &a.name {
            Some(name) => format!("{name}: {kind}{target}"),
            None => format!("{kind}{target}"),
        },
        when,
        detail: detail.join(", "),
        span,
    }
}

/// Where a replayed window lands and how to say it.
fn replay_placement(w: Window, shift: &Shift, speed: f64) -> (String, Option<(i64, i64)>) {
    let length = ((w.end.0 - w.start.0) as f64 / speed) as i64;
    match shift {
        Shift::EndTo(TimePoint::Relative(end)) => {
            let start = end.0.saturating_sub(length);
            (
                format!("{} .. {}", offset_words(start), offset_words(end.0)),
                Some((start, end.0)),
            )
        }
        Shift::StartTo(TimePoint::Relative(start)) => {
            let end = start.0.saturating_add(length);
            (
                format!("{} .. {}", offset_words(start.0), offset_words(end)),
                Some((start.0, end)),
            )
        }
        other => (shift_words(other), None),
    }
}

fn shift_words(shift: &Shift) -> String {
    match shift {
        Shift::None => "at its recorded times".into(),
        Shift::StartTo(p) => format!("starting at {}", point_words(*p)),
        Shift::EndTo(p) => format!("ending at {}", point_words(*p)),
        Shift::By(d) => format!("moved by {d}"),
        Shift::CalendarDays { days, zone } => {
            let unit = if days.unsigned_abs() == 1 {
                "day"
            } else {
                "days"
            };
            format!("moved by {days} calendar {unit} in {}", zone.name())
        }
    }
}

fn schedule_span(s: &Schedule) -> Option<(i64, i64)> {
    match (s.start, s.end) {
        (TimePoint::Relative(a), TimePoint::Relative(b)) => Some((a.0, b.0)),
        _ => None,
    }
}

fn window_words(w: Window) -> String {
    format!("{} .. {}", w.start, w.end)
}

fn filter_words(f: &Filter) -> Vec<String> {
    f.conditions
        .iter()
        .map(|c| match &c.test {
            ConditionTest::Equals(v) => {
                format!("{} == {}", column_name(&c.dimension), string_literal(v))
            }
            ConditionTest::NotEquals(v) => {
                format!("{} != {}", column_name(&c.dimension), string_literal(v))
            }
            ConditionTest::In(list) => format!(
                "{} in [{}]",
                column_name(&c.dimension),
                list.iter()
                    .map(|v| string_literal(v))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })
        .collect()
}

/// Bars for the rows placed relative to `now`, on one axis, with `│` at `now`.
fn timeline(rows: &[Row], label_width: usize) -> String {
    let placed: Vec<(&Row, (i64, i64))> =
        rows.iter().filter_map(|r| r.span.map(|s| (r, s))).collect();
    if placed.is_empty() {
        return String::new();
    }
    let low = placed.iter().map(|(_, s)| s.0).min().unwrap_or(0).min(0);
    let high = placed.iter().map(|(_, s)| s.1).max().unwrap_or(0).max(0);
    let range = (high as i128 - low as i128).max(1);
    let column =
        |t: i64| -> i64 { ((t as i128 - low as i128) * TIMELINE_WIDTH as i128 / range) as i64 };
    let now_column = column(0);
    let mut out = format!(
        "    timeline {} .. {}, one column ≈ {}\n",
        offset_words(low),
        offset_words(high),
        Duration((range / TIMELINE_WIDTH as i128) as i64)
    );
    for (row, (start, end)) in placed {
        let (a, b) = (column(start), column(end).max(column(start) + 1));
        let bar: String = (0..=TIMELINE_WIDTH)
            .map(|c| match c {
                c if c >= a && c < b => '█',
                c if c == now_column => '│',
                _ => ' ',
            })
            .collect();
        let _ = writeln!(
            out,
            "              {:<label_width$}  {}",
            row.label,
            bar.trim_end()
        );
    }
    out
}
