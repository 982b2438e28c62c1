//! Placing steps on the timeline: a replay's rows shifted and sped up, an
//! extrapolation's series fitted and mapped onto its schedule.

use std::collections::BTreeMap;

use super::error::{Reached, Statement};
use super::eval::{self, Learned, MeasureEval, TermEval};
use super::fit::{self, FitError};
use super::interval::sampling_interval;
use super::placement::{Placement, point};
use super::random::Key;
use super::repeated::RepeatedRows;
use super::select::{Numbering, Selected};
use super::spill::SortedRows;
use super::streamed::StreamedStep;
use super::{CompileError, PreparedStep};
use crate::model::{self, Shift};
use crate::record::Value;
use crate::record::series_text;

pub(super) fn schedule_bounds(s: &model::Schedule) -> (bool, i64, i64) {
    (s.is_relative(), point(s.start), point(s.end))
}

/// Instants of `[start, end)` every `every`.
pub(super) fn count(start: i64, end: i64, every: i64) -> u64 {
    if end <= start {
        return 0;
    }
    ((end as i128 - start as i128 + every as i128 - 1) / every as i128) as u64
}

/// A replay's window: the written one, or without one from its first
/// record to one sampling interval after its last, end-exclusive like a
/// written window, so that `shift end to now` puts the last record one
/// interval before `now`, where an extrapolation `from now` takes over
/// without a seam.
fn window(r: &model::Replay, span: impl FnOnce() -> (i64, i64, i64)) -> Option<(i64, i64)> {
    match r.window {
        Some(w) => Some((w.start.0, w.end.0)),
        None => {
            let (first, last, interval) = span();
            Some((first, last.checked_add(interval)?))
        }
    }
}

/// The replay's placement over its window; an error when the window sped
/// up or closed after its last row leaves what i64 holds.
fn placement(
    r: &model::Replay,
    span: impl FnOnce() -> (i64, i64, i64),
) -> Result<Placement, CompileError> {
    window(r, span)
        .and_then(|window| Placement::new(r, window))
        .ok_or(CompileError::TimeOutOfRange {
            statement: Statement::Step,
            line: r.line,
            reached: None,
        })
}

/// A row at `time` that the replay at `line` cannot place.
fn unplaceable(line: usize, time: i64) -> CompileError {
    CompileError::TimeOutOfRange {
        statement: Statement::Step,
        line,
        reached: Some(Reached::Placing(time)),
    }
}

pub(super) fn prepare_replay(
    r: &model::Replay,
    source: Option<&model::Source>,
    sel: Selected,
    numbering: &Numbering,
    t: usize,
) -> Result<PreparedStep, CompileError> {
    let placement = placement(r, || {
        let first = sel.rows.iter().map(|row| row.0).min().unwrap_or(0);
        let last = sel.rows.iter().map(|row| row.0).max().unwrap_or(0);
        (first, last, sampling_interval(&sel.rows))
    })?;
    let relative = r.is_relative();
    let mut values = sel.values;
    let mut items = Vec::with_capacity(sel.rows.len());
    for (time, series, first, count) in sel.rows {
        let tau = placement
            .place(time)
            .ok_or_else(|| unplaceable(r.line, time))?;
        let run = &mut values[first as usize..first as usize + count as usize];
        for (m, _) in run.iter_mut() {
            *m = numbering.measures[*m as usize];
        }
        run.sort_by_key(|(m, _)| *m);
        items.push((tau, numbering.ranks[series as usize], first, count));
    }
    // Stable: rows at one instant of one series keep their file order.
    items.sort_by_key(|item| (item.0, item.1));
    let repeated = placed_repeats(&placement, &sel.repeated, numbering);
    Ok(PreparedStep::Listed {
        table: t as u16,
        line: r.line,
        relative,
        items,
        values,
        repeated: RepeatedRows::new(source, repeated),
    })
}

/// A replay whose rows were spilled (`spill`): read back while the stream
/// runs (`streamed`).
pub(super) fn prepare_streamed(
    r: &model::Replay,
    source: Option<&model::Source>,
    sel: Selected,
    rows: SortedRows,
    numbering: Numbering,
    t: usize,
) -> Result<PreparedStep, CompileError> {
    let placement = placement(r, || (rows.first, rows.last, rows.interval))?;
    // Placing is non-decreasing in time (calendar shifts are never
    // streamed), so the first and last rows bound every other.
    let first = placement
        .place(rows.first)
        .ok_or_else(|| unplaceable(r.line, rows.first))?;
    let last = placement
        .place(rows.last)
        .ok_or_else(|| unplaceable(r.line, rows.last))?;
    let repeated = placed_repeats(&placement, &sel.repeated, &numbering);
    Ok(PreparedStep::Streamed {
        step: Box::new(StreamedStep {
            table: t as u16,
            line: r.line,
            relative: r.is_relative(),
            span: (first, last),
            rows,
            placement,
            ranks: numbering.ranks,
            measures: numbering.measures,
        }),
        repeated: RepeatedRows::new(source, repeated),
    })
}

/// The rows the autumn change repeats, placed: (τ, rank, line).
fn placed_repeats(
    placement: &Placement,
    repeated: &[(i64, u32, u64)],
    numbering: &Numbering,
) -> Vec<(i64, u32, u64)> {
    repeated
        .iter()
        .filter_map(|&(time, series, line)| {
            Some((
                placement.place(time)?,
                numbering.ranks[series as usize],
                line,
            ))
        })
        .collect()
}

pub(super) fn prepare_extrapolate(
    e: &model::Extrapolate,
    sel: Selected,
    spilled: Option<SortedRows>,
    numbering: &Numbering,
    t: usize,
    root: Key,
    measure: u16,
) -> Result<PreparedStep, CompileError> {
    if sel.rows.is_empty() && spilled.is_none() {
        return Err(CompileError::NothingLearned {
            line: e.line,
            source_name: e.source.clone(),
            measure: e.measure.clone(),
        });
    }
    let (relative, start, end) = schedule_bounds(&e.schedule);
    // Output instant τ reads the learned frame at τ + to_learned: the learned
    // window's end maps to the schedule's start unless a shift says otherwise.
    // In i128: the two frames (one may be relative to `now`) can lie
    // further apart than i64 holds; only differences of them are used.
    let wide = |t: i64| i128::from(t);
    let to_learned = match &e.shift {
        Shift::StartTo(p) => wide(e.learn.start.0) - wide(point(*p)),
        Shift::EndTo(p) => wide(e.learn.end.0) - wide(point(*p)),
        Shift::By(d) => -wide(d.0),
        Shift::CalendarDays { days, .. } => -wide(*days) * 86_400_000_000_000,
        Shift::None => wide(e.learn.end.0) - wide(start),
    };
    let (origin, every) = (e.learn.end.0, e.schedule.every.0);
    // Each series' learned terms, by local series, in local order.
    let fitted =
        match &spilled {
            None => fit_in_memory(e, &sel, origin, every, to_learned),
            Some(rows) => fit_streamed(e, rows, sel.series.len(), origin, every, to_learned)
                .map_err(|error| CompileError::Spill {
                    folder: rows.folder().to_path_buf(),
                    error,
                })?,
        }
        .map_err(|(local, FitError::TooFewPoints(n))| CompileError::Fit {
            line: e.line,
            series: series_text(&sel.series[local as usize]),
            learned: n,
        })?;
    let step_key = root.with_name(&format!(
        "extrapolate|{}.{}|{}",
        e.source, e.measure, e.table
    ));
    let mut series = Vec::new();
    for (local, learned) in fitted {
        let dims = &sel.series[local as usize];
        let key = step_key.with_name(&series_text(dims)).with_name(&e.measure);
        let mut terms = eval::synthetic_terms(&e.model, key);
        if let Some(l) = learned {
            terms.insert(0, TermEval::Learned(l));
        }
        series.push((
            numbering.ranks[local as usize],
            vec![MeasureEval {
                measure,
                ty: e.ty,
                terms,
                clamp: e.model.clamp,
                start,
                end,
            }],
        ));
    }
    series.sort_by_key(|(r, _)| *r);
    Ok(PreparedStep::Grid {
        table: t as u16,
        line: e.line,
        relative,
        start,
        every: e.schedule.every.0,
        count: count(start, end, e.schedule.every.0),
        series,
    })
}

/// Learned terms by local series, or the first series that cannot be fitted.
type Fitted = Result<Vec<(u32, Option<Learned>)>, (u32, FitError)>;

/// Each series' points gathered and sorted by time (stable: file order at
/// one instant), then fitted.
fn fit_in_memory(
    e: &model::Extrapolate,
    sel: &Selected,
    origin: i64,
    every: i64,
    to_learned: i128,
) -> Fitted {
    let mut by_series: BTreeMap<u32, Vec<(i64, Value)>> = BTreeMap::new();
    for &(time, series, first, _) in &sel.rows {
        let value = sel.values[first as usize].1.clone();
        by_series.entry(series).or_default().push((time, value));
    }
    by_series
        .into_iter()
        .map(|(local, mut points)| {
            points.sort_by_key(|(time, _)| *time);
            fit::fit(&e.model, &points, origin, every, to_learned)
                .map(|learned| (local, learned))
                .map_err(|error| (local, error))
        })
        .collect()
}

/// Every series fitted at once, each pass one read of the spilled rows,
/// which come in (time, file order): each series' points in the order
/// `fit_in_memory` sorts them, so the same sums and the same bits.
fn fit_streamed(
    e: &model::Extrapolate,
    rows: &SortedRows,
    series: usize,
    origin: i64,
    every: i64,
    to_learned: i128,
) -> std::io::Result<Fitted> {
    let mut fittings: Vec<Option<fit::Fitting>> = (0..series)
        .map(|_| fit::Fitting::new(&e.model, origin, every, to_learned))
        .collect();
    while fittings.iter().flatten().any(|f| !f.is_done()) {
        let mut reader = rows.reader()?;
        let mut values = Vec::new();
        while let Some(head) = reader.next(&mut values)? {
            if let (Some(Some(fitting)), Some((_, value))) =
                (fittings.get_mut(head.series as usize), values.first())
                && !fitting.is_done()
            {
                fitting.add(head.time, value);
            }
            values.clear();
        }
        for (local, fitting) in fittings.iter_mut().enumerate() {
            if let Some(fitting) = fitting
                && !fitting.is_done()
                && let Err(error) = fitting.end_pass()
            {
                return Ok(Err((local as u32, error)));
            }
        }
    }
    Ok(Ok(fittings
        .into_iter()
        .enumerate()
        .map(|(local, f)| (local as u32, f.map(fit::Fitting::learned)))
        .collect()))
}
