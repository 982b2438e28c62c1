//! Placing steps on the timeline: a replay's rows shifted and sped up, an
//! extrapolation's series fitted and mapped onto its schedule.

use std::collections::BTreeMap;

use chrono::TimeZone;

use super::eval::{self, Learned, MeasureEval, TermEval};
use super::fit::{self, FitError};
use super::random::Key;
use super::record::Value;
use super::repeated::RepeatedRows;
use super::select::{Numbering, Selected};
use super::spill::SortedRows;
use super::streamed::StreamedStep;
use super::{CompileError, PreparedStep, series_text};
use crate::lang::literal::Instant;
use crate::lang::literal::{Ambiguous, Nonexistent, resolve_local};
use crate::validate::model::{self, Shift, TimePoint};

pub(super) fn schedule_bounds(s: &model::Schedule) -> (bool, i64, i64) {
    (s.is_relative(), point(s.start), point(s.end))
}

pub(super) fn point(p: TimePoint) -> i64 {
    match p {
        TimePoint::Relative(d) => d.0,
        TimePoint::Absolute(i) => i.0,
    }
}

/// Instants of `[start, end)` every `every`.
pub(super) fn count(start: i64, end: i64, every: i64) -> u64 {
    if end <= start {
        return 0;
    }
    ((end as i128 - start as i128 + every as i128 - 1) / every as i128) as u64
}

/// Where a replay puts a recorded instant: sped up from its window's start,
/// then shifted. Non-decreasing in the instant for every shift but one by
/// calendar days (a daylight-saving change can fold or reorder instants).
pub(crate) struct Placement {
    start: i64,
    /// The window's end, sped up.
    end: i64,
    speed: f64,
    shift: Shift,
}

impl Placement {
    /// For `r` over the window `[start, end)`: the written one, or the
    /// one the rows span.
    pub(super) fn new(r: &model::Replay, (start, end): (i64, i64)) -> Placement {
        let mut placement = Placement {
            start,
            end,
            speed: r.speed,
            shift: r.shift.clone(),
        };
        placement.end = placement.sped(end);
        placement
    }

    // Saturating: a tiny `speed` stretches a window past what i64 holds.
    fn sped(&self, time: i64) -> i64 {
        let since = time as i128 - self.start as i128;
        // At speed 1, an offset a double holds exactly (up to 104 days) is
        // what the division and rounding below give back unchanged.
        if self.speed == 1.0 && since.unsigned_abs() <= 1 << f64::MANTISSA_DIGITS {
            return time;
        }
        self.start
            .saturating_add((since as f64 / self.speed).round() as i64)
    }

    /// The instant `time` is placed at; `None` past what i64 holds.
    pub(super) fn place(&self, time: i64) -> Option<i64> {
        let time = self.sped(time);
        match &self.shift {
            Shift::None => Some(time),
            Shift::StartTo(p) => time
                .checked_sub(self.start)
                .and_then(|d| point(*p).checked_add(d)),
            Shift::EndTo(p) => time
                .checked_sub(self.end)
                .and_then(|d| point(*p).checked_add(d)),
            Shift::By(d) => time.checked_add(d.0),
            Shift::CalendarDays { days, zone } => calendar_shift(time, *days, zone),
        }
    }
}

/// A replay's window: the written one, or without one from its first
/// record to one sampling interval after its last, end-exclusive like a
/// written window, so that `shift end to now` puts the last record one
/// interval before `now`, where an extrapolation `from now` takes over
/// without a seam.
fn window(r: &model::Replay, span: impl FnOnce() -> (i64, i64, i64)) -> (i64, i64) {
    match r.window {
        Some(w) => (w.start.0, w.end.0),
        None => {
            let (first, last, interval) = span();
            (first, last.saturating_add(interval))
        }
    }
}

pub(super) fn prepare_replay(
    r: &model::Replay,
    source: Option<&model::Source>,
    sel: Selected,
    numbering: &Numbering,
    t: usize,
) -> Result<PreparedStep, CompileError> {
    let placement = Placement::new(
        r,
        window(r, || {
            let first = sel.rows.iter().map(|row| row.0).min().unwrap_or(0);
            let last = sel.rows.iter().map(|row| row.0).max().unwrap_or(0);
            (first, last, sampling_interval(&sel.rows))
        }),
    );
    let relative = r.is_relative();
    let mut values = sel.values;
    let mut items = Vec::with_capacity(sel.rows.len());
    for (time, series, first, count) in sel.rows {
        let tau = placement
            .place(time)
            .ok_or(CompileError::TimeOutOfRange { line: r.line })?;
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
    let placement = Placement::new(r, window(r, || (rows.first, rows.last, rows.interval)));
    // Placing is non-decreasing in time (calendar shifts are never
    // streamed), so the first and last rows bound every other.
    if placement.place(rows.first).is_none() || placement.place(rows.last).is_none() {
        return Err(CompileError::TimeOutOfRange { line: r.line });
    }
    let repeated = placed_repeats(&placement, &sel.repeated, &numbering);
    Ok(PreparedStep::Streamed(Box::new(StreamedStep {
        table: t as u16,
        line: r.line,
        relative: r.is_relative(),
        rows,
        placement,
        ranks: numbering.ranks,
        measures: numbering.measures,
        repeated: RepeatedRows::new(source, repeated),
    })))
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

/// A source's sampling interval: the most common gap between two
/// consecutive instants of one series (the shortest among equally common
/// ones), or 1ns when no series has two instants.
///
/// Recorded data is almost always in time order per series, so one pass
/// with each series' last instant finds the gaps; only when a series goes
/// back in time are its instants gathered and sorted.
fn sampling_interval(rows: &[super::stream::ListedItem]) -> i64 {
    let mut gaps = Gaps::default();
    if rows.iter().all(|&(time, s, _, _)| gaps.add(time, s)) {
        return gaps.interval();
    }
    // Local series numbers are dense: 0, 1, 2, ... in order of appearance.
    let series = rows.iter().map(|row| row.1 as usize + 1).max().unwrap_or(0);
    let mut by_series: Vec<Vec<i64>> = vec![Vec::new(); series];
    for &(time, s, _, _) in rows {
        by_series[s as usize].push(time);
    }
    let mut gaps = Gaps::default();
    for (s, times) in by_series.iter_mut().enumerate() {
        times.sort_unstable();
        for &time in times.iter() {
            gaps.add(time, s as u32);
        }
    }
    gaps.interval()
}

/// How often each gap between consecutive instants of one series occurs,
/// counted from instants given in time order per series (a repeated
/// instant is no gap): what a sampling interval is read from.
#[derive(Default)]
pub(super) struct Gaps {
    /// Each local series' latest instant.
    last: Vec<Option<i64>>,
    counts: rustc_hash::FxHashMap<i64, u64>,
}

impl Gaps {
    /// Counts the gap from the series' latest instant to `time`; false,
    /// counting nothing, when `time` is earlier (out of order).
    pub(super) fn add(&mut self, time: i64, series: u32) -> bool {
        let s = series as usize;
        if s >= self.last.len() {
            self.last.resize(s + 1, None);
        }
        match self.last[s] {
            Some(before) if time < before => return false,
            Some(before) if time > before => {
                *self.counts.entry(time.saturating_sub(before)).or_default() += 1
            }
            _ => {}
        }
        self.last[s] = Some(time);
        true
    }

    /// The most common gap; the shortest of equally common ones; 1ns when
    /// there is none.
    pub(super) fn interval(&self) -> i64 {
        self.counts
            .iter()
            .max_by_key(|&(&gap, &n)| (n, std::cmp::Reverse(gap)))
            .map_or(1, |(&gap, _)| gap)
    }
}

/// The same local wall time `days` calendar days later in `zone`.
pub(super) fn calendar_shift(time: i64, days: i64, zone: &chrono_tz::Tz) -> Option<i64> {
    let local = zone.timestamp_nanos(time).naive_local();
    let date = local
        .date()
        .checked_add_signed(chrono::TimeDelta::try_days(days)?)?;
    let shifted = chrono::NaiveDateTime::new(date, local.time());
    resolve_local(zone, shifted, Nonexistent::Shift, Ambiguous::Earlier)
        .ok()
        .map(|i: Instant| i.0)
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
            source: e.source.clone(),
            measure: e.measure.clone(),
        });
    }
    let (relative, start, end) = schedule_bounds(&e.schedule);
    // Output instant τ reads the learned frame at τ + to_learned: the learned
    // window's end maps to the schedule's start unless a shift says otherwise.
    let to_learned = match &e.shift {
        Shift::StartTo(p) => e.learn.start.0.saturating_sub(point(*p)),
        Shift::EndTo(p) => e.learn.end.0.saturating_sub(point(*p)),
        Shift::By(d) => d.0.saturating_neg(),
        Shift::CalendarDays { days, .. } => {
            days.saturating_mul(86_400_000_000_000).saturating_neg()
        }
        Shift::None => e.learn.end.0.saturating_sub(start),
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
            reason: format!("`trend` needs two instants, and {n} were learned"),
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
    to_learned: i64,
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
    to_learned: i64,
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

#[cfg(test)]
mod tests {
    use super::sampling_interval;

    /// (time, local series, values run): only the first two matter here.
    fn rows(times: &[(i64, u32)]) -> Vec<super::super::stream::ListedItem> {
        times.iter().map(|&(t, s)| (t, s, 0, 0)).collect()
    }

    #[test]
    fn the_most_common_gap_per_series_in_order_or_not() {
        // Series 0 every 10, series 1 every 10 with one 30 gap and a
        // duplicate instant: 10 is the most common.
        let ordered = [(0, 0), (0, 1), (10, 0), (10, 1), (10, 1), (20, 0), (40, 1)];
        assert_eq!(sampling_interval(&rows(&ordered)), 10);
        let mut shuffled = ordered;
        shuffled.reverse();
        assert_eq!(sampling_interval(&rows(&shuffled)), 10);
    }

    #[test]
    fn a_tie_goes_to_the_shorter_gap_and_no_gap_is_one_nanosecond() {
        let tie = [(0, 0), (5, 0), (20, 0)];
        assert_eq!(sampling_interval(&rows(&tie)), 5);
        assert_eq!(sampling_interval(&rows(&[(7, 0), (9, 1)])), 1);
        assert_eq!(sampling_interval(&[]), 1);
    }
}
