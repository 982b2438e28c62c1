//! The record stream: per-step cursors merged in stream order (table, time,
//! series), duplicates folded, anomalies applied, records handed to a sink.
//! Memory holds the cursors' state, never the stream.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use super::ListedItem;
use super::anchor::at;
use super::eval::MeasureEval;
use super::random::Key;
use super::streamed::StreamedCursor;
use crate::model::{AnomalyKind, MeasureType};
use crate::record::value::Unrepresentable;
use crate::record::{Catalog, Hit, Record, Sink, Value};

/// Where a step's records come from.
pub(crate) enum Cursor<'a> {
    /// Instants of a schedule × series, values computed on demand
    /// (`generate`, `extrapolate`).
    Grid(GridCursor),
    /// Records prepared in stream order (`replay`).
    Listed(ListedCursor<'a>),
    /// Records read back from a replay's spilled rows (`streamed`).
    Streamed(StreamedCursor<'a>),
}

pub(crate) struct GridCursor {
    pub table: u16,
    pub line: usize,
    pub relative: bool,
    pub start: i64,
    pub every: i64,
    pub count: u64,
    pub k: u64,
    /// Sorted by rank.
    pub series: Vec<GridSeries>,
    pub si: usize,
}

impl GridCursor {
    /// The current instant. In i128: `k · every` can pass i64 on a long
    /// schedule (1678 to 2261 every day) although every instant, below the
    /// schedule's end, fits.
    fn tau(&self) -> i64 {
        let tau = i128::from(self.start) + i128::from(self.k) * i128::from(self.every);
        debug_assert!(i64::try_from(tau).is_ok(), "an instant below the end");
        tau as i64
    }
}

pub(crate) struct GridSeries {
    pub rank: u32,
    pub measures: Vec<MeasureEval>,
}

pub(crate) struct ListedCursor<'a> {
    pub table: u16,
    pub line: usize,
    pub relative: bool,
    /// Sorted by (τ, rank).
    pub items: &'a [ListedItem],
    /// (measure id, value) runs, sorted by id within a run.
    pub values: &'a [(u16, Value)],
    pub i: usize,
}

impl Cursor<'_> {
    fn key(&self, anchor: i64) -> Option<(u16, i64, u32)> {
        match self {
            Cursor::Grid(g) => {
                if g.k >= g.count || g.series.is_empty() {
                    return None;
                }
                let tau = g.tau();
                Some((g.table, at(tau, g.relative, anchor), g.series[g.si].rank))
            }
            Cursor::Listed(l) => l
                .items
                .get(l.i)
                .map(|(tau, rank, _, _)| (l.table, at(*tau, l.relative, anchor), *rank)),
            Cursor::Streamed(s) => s
                .key()
                .map(|(tau, rank)| (s.step.table, at(tau, s.step.relative, anchor), rank)),
        }
    }

    /// Adds the current record's measures to `into` and moves on.
    fn take(&mut self, into: &mut Record) -> Result<(), Taken> {
        match self {
            Cursor::Grid(g) => {
                let tau = g.tau();
                into.relative = g.relative;
                into.steps.push(g.line);
                let series = &mut g.series[g.si];
                for eval in &mut series.measures {
                    let value = eval.value(tau).map_err(|bad| {
                        Taken::Value(BadValue {
                            measure: eval.measure,
                            value: bad.0,
                            line: g.line,
                            anomaly: false,
                        })
                    })?;
                    add_measure(into, eval.measure, value, g.line)?;
                }
                g.si += 1;
                if g.si == g.series.len() {
                    g.si = 0;
                    g.k += 1;
                }
            }
            Cursor::Listed(l) => {
                let (_, _, first, count) = l.items[l.i];
                let run = &l.values[first as usize..first as usize + count as usize];
                add_run(into, run, l.relative, l.line)?;
                l.i += 1;
            }
            Cursor::Streamed(s) => {
                add_run(into, s.current(), s.step.relative, s.step.line)?;
                s.advance()
                    .map_err(|error| Taken::Spill(s.step.rows.folder().to_path_buf(), error))?;
            }
        }
        Ok(())
    }
}

/// Why a cursor could not give its record.
enum Taken {
    Conflict(Conflict),
    Value(BadValue),
    /// A replay's spilled rows (in this folder) could not be read back.
    Spill(std::path::PathBuf, std::io::Error),
}

impl From<Conflict> for Taken {
    fn from(conflict: Conflict) -> Taken {
        Taken::Conflict(conflict)
    }
}

/// Adds one step's measures of a record, already sorted by measure id, to
/// `into`.
pub(super) fn add_run(
    into: &mut Record,
    run: &[(u16, Value)],
    relative: bool,
    line: usize,
) -> Result<(), Conflict> {
    into.relative = relative;
    into.steps.push(line);
    if into.measures.is_empty() {
        // The usual case: the record is this step's alone.
        into.measures.extend_from_slice(run);
        into.writers.resize(run.len(), line);
    } else {
        for (m, v) in run {
            add_measure(into, *m, v.clone(), line)?;
        }
    }
    Ok(())
}

/// Two steps gave one measure of one series at one instant different
/// values, or one step gave it twice (whatever the values).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Conflict {
    pub measure: u16,
    pub first_line: usize,
    pub second_line: usize,
    pub first: Value,
    pub second: Value,
}

/// Adds one measure to `into`. The same value from another step is kept
/// once; from the same step (two rows of one series landing on one
/// instant) it is a conflict, whatever the values: a row never vanishes.
fn add_measure(into: &mut Record, m: u16, v: Value, line: usize) -> Result<(), Conflict> {
    match into.measures.binary_search_by_key(&m, |(id, _)| *id) {
        Ok(i) if into.measures[i].1 == v && into.writers[i] != line => Ok(()),
        Ok(i) => Err(Conflict {
            measure: m,
            first_line: into.writers[i],
            second_line: line,
            first: into.measures[i].1.clone(),
            second: v,
        }),
        Err(i) => {
            into.measures.insert(i, (m, v));
            into.writers.insert(i, line);
            Ok(())
        }
    }
}

/// A step's model or an anomaly computed a number its measure cannot hold
/// (see [`Value::from_f64`]).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BadValue {
    pub measure: u16,
    pub value: f64,
    /// The line of the step, or of the anomaly when `anomaly`.
    pub line: usize,
    pub anomaly: bool,
}

/// An anomaly bound to an anchor and resolved to catalogue indices.
pub(crate) struct AnomalyRun {
    pub kind: AnomalyKind,
    pub line: usize,
    pub table: u16,
    /// `None`: the whole record.
    pub measure: Option<u16>,
    /// Anchored window start and end (`None`: the first record at or after start).
    pub start: i64,
    pub end: Option<i64>,
    pub key: Key,
    /// The series of the table the anomaly's `where` matches, by rank.
    pub series: Vec<bool>,
}

#[derive(Debug)]
pub(crate) enum StreamError {
    Conflict(Box<(Record, Conflict)>),
    /// The record (its table, series and time) a value could not be made for.
    Value(Box<(Record, BadValue)>),
    Io(std::io::Error),
    /// A replay's spilled rows (in this folder) could not be read back.
    Spill(std::path::PathBuf, std::io::Error),
}

/// Runs every cursor to the end, in stream order, through the anomalies
/// into `sink`. Returns where each anomaly hit, by (anomaly, table, series).
pub(crate) fn run(
    catalog: &Catalog,
    mut cursors: Vec<Cursor<'_>>,
    anomalies: &[AnomalyRun],
    anchor: i64,
    sink: &mut dyn Sink,
) -> Result<Vec<Hit>, StreamError> {
    let mut heap = BinaryHeap::with_capacity(cursors.len());
    for (i, c) in cursors.iter().enumerate() {
        if let Some(k) = c.key(anchor) {
            heap.push(Reverse((k, i)));
        }
    }
    // Anomalies that can touch a table's series, by table then rank.
    let mut by_series: Vec<Vec<Vec<usize>>> = catalog
        .tables
        .iter()
        .map(|t| vec![Vec::new(); t.series.len()])
        .collect();
    for (i, a) in anomalies.iter().enumerate() {
        for (rank, matches) in a.series.iter().enumerate() {
            if *matches {
                by_series[a.table as usize][rank].push(i);
            }
        }
    }
    let mut state = AnomalyState::default();
    let mut record = Record::default();
    while let Some(Reverse((key, c))) = heap.pop() {
        record.table = key.0;
        record.time = key.1;
        record.series = key.2;
        record.measures.clear();
        record.steps.clear();
        record.writers.clear();
        record.delay = 0;
        take(&mut cursors[c], &mut record)?;
        if let Some(next) = cursors[c].key(anchor) {
            heap.push(Reverse((next, c)));
        }
        while let Some(Reverse((k, other))) = heap.peek().copied() {
            if k != key {
                break;
            }
            heap.pop();
            take(&mut cursors[other], &mut record)?;
            if let Some(next) = cursors[other].key(anchor) {
                heap.push(Reverse((next, other)));
            }
        }
        let active = &by_series[record.table as usize][record.series as usize];
        if !active.is_empty() {
            match state.apply(active, anomalies, &mut record, catalog, anchor) {
                Ok(true) => {}
                Ok(false) => continue,
                Err(bad) => return Err(StreamError::Value(Box::new((record, bad)))),
            }
        }
        sink.record(&record, catalog).map_err(StreamError::Io)?;
    }
    Ok(state.hits.into_values().collect())
}

fn take(cursor: &mut Cursor<'_>, record: &mut Record) -> Result<(), StreamError> {
    cursor.take(record).map_err(|taken| match taken {
        Taken::Conflict(conflict) => StreamError::Conflict(Box::new((record.clone(), conflict))),
        Taken::Value(bad) => StreamError::Value(Box::new((record.clone(), bad))),
        Taken::Spill(folder, error) => StreamError::Spill(folder, error),
    })
}

#[derive(Default)]
struct AnomalyState {
    /// Point anomalies already applied, by (anomaly, series).
    done: BTreeMap<(usize, u32), ()>,
    /// `flatline`'s held value, by (anomaly, series).
    held: BTreeMap<(usize, u32), Value>,
    hits: BTreeMap<(usize, u16, u32), Hit>,
}

impl AnomalyState {
    /// Applies the anomalies in file order; false when the record is
    /// dropped, an error when an anomaly makes a value its measure cannot
    /// hold.
    fn apply(
        &mut self,
        active: &[usize],
        anomalies: &[AnomalyRun],
        record: &mut Record,
        catalog: &Catalog,
        anchor: i64,
    ) -> Result<bool, BadValue> {
        let tau = if record.relative {
            record.time - anchor
        } else {
            record.time
        };
        for &i in active {
            let a = &anomalies[i];
            let inside = match a.end {
                Some(end) => record.time >= a.start && record.time < end,
                None => record.time >= a.start && !self.done.contains_key(&(i, record.series)),
            };
            if !inside {
                continue;
            }
            let measure_index = match a.measure {
                Some(m) => match record.measures.binary_search_by_key(&m, |(id, _)| *id) {
                    Ok(index) => Some(index),
                    Err(_) => continue,
                },
                None => None,
            };
            if a.end.is_none() {
                self.done.insert((i, record.series), ());
            }
            let hit = self
                .hits
                .entry((i, record.table, record.series))
                .or_insert(Hit {
                    anomaly: i,
                    table: record.table,
                    series: record.series,
                    first: tau,
                    last: tau,
                    relative: record.relative,
                });
            hit.last = tau;
            let series_key = a
                .key
                .with(catalog.tables[record.table as usize].series[record.series as usize].key);
            match (&a.kind, measure_index) {
                (AnomalyKind::Dropout, None) => return Ok(false),
                (AnomalyKind::Dropout, Some(index)) => {
                    record.measures.remove(index);
                    record.writers.remove(index);
                    if record.measures.is_empty() {
                        return Ok(false);
                    }
                }
                (AnomalyKind::Late { delay }, _) => record.delay = record.delay.max(delay.0),
                (_, None) => {}
                (AnomalyKind::Flatline { value }, Some(index)) => {
                    let held = self
                        .held
                        .entry((i, record.series))
                        .or_insert_with(|| match value {
                            Some(v) => super::eval::scalar_value(v),
                            None => record.measures[index].1.clone(),
                        })
                        .clone();
                    record.measures[index].1 =
                        fit_type(held, &record.measures[index].1).map_err(|bad| BadValue {
                            measure: record.measures[index].0,
                            value: bad.0,
                            line: a.line,
                            anomaly: true,
                        })?;
                }
                (kind, Some(index)) => {
                    let ty = catalog.tables[record.table as usize].measures
                        [record.measures[index].0 as usize]
                        .1;
                    let Some(v) = record.measures[index].1.as_f64() else {
                        continue;
                    };
                    let changed = match kind {
                        AnomalyKind::Spike { magnitude } => v + magnitude,
                        AnomalyKind::Offset { delta } => v + delta,
                        AnomalyKind::Scale { factor } => v * factor,
                        AnomalyKind::Drift { rate, per } => {
                            // i128: an instant less another can pass i64.
                            let since = i128::from(record.time) - i128::from(a.start);
                            v + rate * (since as f64 / per.0.max(1) as f64)
                        }
                        AnomalyKind::Noise { sigma } => v + sigma * series_key.normal(tau, 0),
                        AnomalyKind::Clip { min, max } => {
                            v.clamp(min.unwrap_or(f64::MIN), max.unwrap_or(f64::MAX))
                        }
                        AnomalyKind::Outliers { rate, magnitude } => {
                            if series_key.unit(tau, 0) < *rate {
                                let sign = if series_key.bits(tau, 1) & 1 == 0 {
                                    1.0
                                } else {
                                    -1.0
                                };
                                v + sign * magnitude
                            } else {
                                v
                            }
                        }
                        _ => v,
                    };
                    record.measures[index].1 =
                        Value::from_f64(ty, changed).map_err(|bad| BadValue {
                            measure: record.measures[index].0,
                            value: bad.0,
                            line: a.line,
                            anomaly: true,
                        })?;
                }
            }
        }
        Ok(true)
    }
}

/// A held flatline value written as the measure's own type.
fn fit_type(held: Value, current: &Value) -> Result<Value, Unrepresentable> {
    match (current, &held) {
        (Value::Bigint(_), Value::Double(v)) => Value::from_f64(MeasureType::Bigint, *v),
        (Value::Double(_), Value::Bigint(v)) => Ok(Value::Double(*v as f64)),
        _ => Ok(held),
    }
}
