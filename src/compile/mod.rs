//! `model::Scenario` → the record stream, for one anchor.
//!
//! `prepare` reads every source once (streaming; only the rows a step
//! selects are kept), fits the extrapolations and numbers the tables,
//! series and measures. `run` then binds `now` to an anchor and streams
//! the records, in order, through the anomalies into a sink. `plan.rs`
//! summarises one run into the reviewable plan.

mod anchor;
pub(crate) mod error;
pub(crate) mod eval;
mod fit;
mod interval;
mod math;
mod pipeline;
mod place;
mod placement;
pub(crate) mod random;
mod redact;
mod repeated;
mod select;
mod spill;
pub(crate) mod stream;
mod streamed;
mod two_threads;
pub(crate) mod warnings;

pub(crate) use error::{CompileError, Conflict};
use place::{count, prepare_extrapolate, prepare_replay, prepare_streamed, schedule_bounds};
use select::{Dims, Selected, check_measure_name, matches, numbering, read_alongside, select};
pub use two_threads::run_on_two_threads;

use std::collections::{BTreeMap, BTreeSet};

use crate::model::NameRules;
use crate::model::{self, AnomalyKind, MeasureType, Scenario, Shift, Step, TimePoint};
use crate::record::{self, Catalog, Hit, SeriesInfo, Sink, TableCatalog, Value, series_text};
use crate::sources::{ReadOptions, ReadSummary};
use eval::MeasureEval;
use random::Key;
use stream::{AnomalyRun, Cursor, GridCursor, GridSeries, ListedCursor};

/// A listed step's row: (time, series, start and length of its run of
/// values). Selected rows carry source time and local series; prepared
/// ones τ and the table's rank, their values sorted by measure id.
pub(crate) type ListedItem = (i64, u32, u32, u16);

/// A scenario with its sources read: everything a run needs but the anchor.
pub struct Prepared {
    pub catalog: Catalog,
    steps: Vec<PreparedStep>,
    anomalies: Vec<PreparedAnomaly>,
    /// By source name.
    pub sources: BTreeMap<String, ReadSummary>,
    pub anchor_align: i64,
    /// Lines of steps that shift by calendar days: in a conflict, they are
    /// the likely cause (a DST change folds two instants onto one).
    calendar_lines: Vec<usize>,
    /// The scenario as compiled when a source redacts: its `where`
    /// literals on hidden dimensions are pseudonyms, which the plan shows.
    pub(crate) redacted: Option<Scenario>,
    /// What the data shows does nothing, by line.
    pub warnings: Vec<warnings::DataWarning>,
}

enum PreparedStep {
    Grid {
        table: u16,
        line: usize,
        relative: bool,
        start: i64,
        every: i64,
        count: u64,
        series: Vec<(u32, Vec<MeasureEval>)>,
    },
    Listed {
        table: u16,
        line: usize,
        relative: bool,
        items: Vec<ListedItem>,
        values: Vec<(u16, Value)>,
        /// Rows the autumn change repeats, when the step read any.
        repeated: Option<Box<repeated::RepeatedRows>>,
    },
    /// A replay whose rows did not fit one chunk: read back from disk.
    Streamed {
        step: Box<streamed::StreamedStep>,
        /// Rows the autumn change repeats, when the step read any.
        repeated: Option<Box<repeated::RepeatedRows>>,
    },
}

impl PreparedStep {
    fn table(&self) -> u16 {
        match self {
            PreparedStep::Grid { table, .. } | PreparedStep::Listed { table, .. } => *table,
            PreparedStep::Streamed { step, .. } => step.table,
        }
    }

    /// Checks that every τ of the step is an instant at `anchor`: its
    /// first and last bound the others.
    fn bind(&self, anchor: i64) -> Result<(), CompileError> {
        let (line, relative, span) = match self {
            PreparedStep::Grid {
                line,
                relative,
                start,
                every,
                count,
                ..
            } => {
                let last =
                    i128::from(*start) + i128::from(count.saturating_sub(1)) * i128::from(*every);
                // Below the schedule's end, which is an i64.
                let last = i64::try_from(last).unwrap_or(i64::MAX);
                (*line, *relative, (*count > 0).then_some((*start, last)))
            }
            PreparedStep::Listed {
                line,
                relative,
                items,
                ..
            } => (
                *line,
                *relative,
                items.first().zip(items.last()).map(|(a, b)| (a.0, b.0)),
            ),
            PreparedStep::Streamed { step, .. } => (step.line, step.relative, Some(step.span)),
        };
        match span {
            Some(span) => anchor::step(line, relative, span, anchor),
            None => Ok(()),
        }
    }
}

struct PreparedAnomaly {
    kind: AnomalyKind,
    line: usize,
    table: u16,
    measure: Option<u16>,
    at: TimePoint,
    length: Option<i64>,
    key: Key,
    series: Vec<bool>,
}

/// `rules` are the names the target takes: measure names read from long
/// rows are held to them.
pub(crate) fn prepare(
    scenario: &Scenario,
    options: ReadOptions,
    rules: &dyn NameRules,
) -> Result<Prepared, CompileError> {
    let redactions = redact::Redactions::new(scenario, &|name| std::env::var(name).ok())?;
    let redacted = redactions
        .as_ref()
        .map(|r| r.scenario(scenario))
        .transpose()?;
    let scenario = redacted.as_ref().unwrap_or(scenario);
    let mut tables: Vec<&model::Table> = scenario.tables.values().collect();
    tables.sort_by(|a, b| a.target_name.cmp(&b.target_name).then(a.name.cmp(&b.name)));
    let table_index: BTreeMap<&str, u16> = tables
        .iter()
        .enumerate()
        .map(|(i, t)| (t.name.as_str(), i as u16))
        .collect();

    // Read each source once, handing each row to the steps that use it. A
    // replay or an extrapolation keeps a chunk of rows in memory and spills
    // the rest (`spill`); not a replay shifted by calendar days: a
    // daylight-saving change can reorder its instants, which reading back
    // in time order cannot follow.
    let mut selected: Vec<Selected> = scenario
        .steps
        .iter()
        .map(|step| Selected {
            spill: match step {
                _ if options.spill.in_memory => None,
                Step::Replay(r) if !matches!(r.shift, Shift::CalendarDays { .. }) => {
                    Some(spill::Spill::new(options.spill, r.window.is_none()))
                }
                // Learned points are fitted pass by pass from the spill.
                Step::Extrapolate(_) => Some(spill::Spill::new(options.spill, false)),
                _ => None,
            },
            ..Selected::default()
        })
        .collect();
    let mut summaries = BTreeMap::new();
    for source in scenario.sources.values() {
        let users: Vec<usize> = scenario
            .steps
            .iter()
            .enumerate()
            .filter(|(_, s)| step_source(s) == Some(source.name.as_str()))
            .map(|(i, _)| i)
            .collect();
        if users.is_empty() {
            continue;
        }
        let hiding = redactions
            .as_ref()
            .and_then(|r| r.by_source.get(&source.name));
        let summary = read_alongside(source, options, |row| {
            let hidden;
            let row = match hiding {
                Some(r) => {
                    hidden = r.row(row);
                    &hidden
                }
                None => row,
            };
            for &i in &users {
                select(&scenario.steps[i], source, row, &mut selected[i]);
            }
        })
        .map_err(|error| CompileError::Data {
            source_name: source.name.clone(),
            error: Box::new(error),
        })?;
        summaries.insert(source.name.clone(), summary);
    }
    let spilled = selected
        .iter_mut()
        .map(|sel| match sel.spill.take() {
            Some(spill) => {
                let folder = spill.folder_or_parent();
                match spill.finish(&mut sel.rows, &mut sel.values) {
                    Ok(spill::Finished::Spilled(rows)) => Ok(Some(rows)),
                    Ok(spill::Finished::InMemory) => Ok(None),
                    Err(error) => Err(CompileError::Spill { folder, error }),
                }
            }
            None => Ok(None),
        })
        .collect::<Result<Vec<_>, _>>()?;

    // Long rows name their measures in the data: hold those names to the
    // target's rules before anything is written.
    for (step, sel) in scenario.steps.iter().zip(&selected) {
        if let Step::Replay(r) = step {
            for (name, _) in &sel.measures {
                check_measure_name(&r.source, name, rules)?;
            }
        }
    }

    // Number every table's series and measures.
    let mut series_sets: Vec<BTreeSet<Vec<(String, String)>>> = vec![BTreeSet::new(); tables.len()];
    let mut measure_sets: Vec<BTreeMap<String, MeasureType>> = vec![BTreeMap::new(); tables.len()];
    for (step, sel) in scenario.steps.iter().zip(&selected) {
        let t = table_index[step.table()] as usize;
        match step {
            Step::Generate(g) => {
                for s in &g.series {
                    series_sets[t].insert(generated_dims(s));
                }
                for m in &g.measures {
                    measure_sets[t].insert(m.name.clone(), m.ty);
                }
            }
            Step::Replay(_) => {
                series_sets[t].extend(sel.series.iter().cloned());
                for (name, ty) in &sel.measures {
                    measure_sets[t].entry(name.clone()).or_insert(*ty);
                }
            }
            Step::Extrapolate(e) => {
                series_sets[t].extend(sel.series.iter().cloned());
                measure_sets[t].insert(e.measure.clone(), e.ty);
            }
        }
    }
    let catalog = Catalog {
        tables: tables
            .iter()
            .enumerate()
            .map(|(i, t)| TableCatalog {
                name: t.name.clone(),
                target: t.target_name.clone(),
                series: series_sets[i]
                    .iter()
                    .map(|dims| SeriesInfo {
                        dims: dims.clone(),
                        key: crate::record::series_key(dims),
                    })
                    .collect(),
                measures: measure_sets[i]
                    .iter()
                    .map(|(n, ty)| (n.clone(), *ty))
                    .collect(),
            })
            .collect(),
    };
    let rank = |t: usize, dims: &Dims| -> u32 {
        catalog.tables[t]
            .series
            .binary_search_by(|s| s.dims.cmp(dims))
            .unwrap_or(0) as u32
    };
    let measure_id = |t: usize, name: &str| -> u16 {
        catalog.tables[t]
            .measures
            .binary_search_by(|(n, _)| n.as_str().cmp(name))
            .unwrap_or(0) as u16
    };

    let mut found: Vec<warnings::DataWarning> = scenario
        .steps
        .iter()
        .zip(&selected)
        .flat_map(|(step, sel)| {
            let read = step_source(step).and_then(|source| summaries.get(source));
            warnings::selection(step, sel, read)
        })
        .collect();

    let root = Key::new(scenario.seed);
    let mut steps = Vec::new();
    for ((step, sel), spilled) in scenario.steps.iter().zip(selected).zip(spilled) {
        let t = table_index[step.table()] as usize;
        match step {
            Step::Generate(g) => {
                let (relative, start, end) = schedule_bounds(&g.schedule);
                let step_key = root.with_name(&format!("generate|{}", g.table));
                let mut series: Vec<(u32, Vec<MeasureEval>)> = g
                    .series
                    .iter()
                    .map(|s| {
                        let dims = generated_dims(s);
                        let series_key = step_key.with_name(&series_text(&dims));
                        let evals = g
                            .measures
                            .iter()
                            .map(|m| MeasureEval {
                                measure: measure_id(t, &m.name),
                                ty: m.ty,
                                terms: eval::synthetic_terms(
                                    &m.model,
                                    series_key.with_name(&m.name),
                                ),
                                clamp: m.model.clamp,
                                start,
                                end,
                            })
                            .collect();
                        (rank(t, &dims), evals)
                    })
                    .collect();
                series.sort_by_key(|(r, _)| *r);
                let every = g.schedule.every.0;
                steps.push(PreparedStep::Grid {
                    table: t as u16,
                    line: g.line,
                    relative,
                    start,
                    every,
                    count: count(start, end, every),
                    series,
                });
            }
            Step::Replay(r) => {
                let numbering = numbering(&sel, t, &rank, &measure_id);
                let source = scenario.sources.get(&r.source);
                steps.push(match spilled {
                    Some(rows) => prepare_streamed(r, source, sel, rows, numbering, t)?,
                    None => prepare_replay(r, source, sel, &numbering, t)?,
                })
            }
            Step::Extrapolate(e) => {
                let numbering = numbering(&sel, t, &rank, &measure_id);
                steps.push(prepare_extrapolate(
                    e,
                    sel,
                    spilled,
                    &numbering,
                    t,
                    root,
                    measure_id(t, &e.measure),
                )?)
            }
        }
    }

    let anomalies: Vec<PreparedAnomaly> = scenario
        .anomalies
        .iter()
        .map(|a| {
            let t = table_index[a.table.as_str()] as usize;
            PreparedAnomaly {
                kind: a.kind.clone(),
                line: a.line,
                table: t as u16,
                measure: a.measure.as_deref().map(|m| measure_id(t, m)),
                at: a.at,
                length: a.length.map(|l| l.0),
                key: root.with_name(&format!(
                    "anomaly|{}|{}|{:?}",
                    a.table,
                    a.measure.as_deref().unwrap_or(""),
                    a.kind
                )),
                series: catalog.tables[t]
                    .series
                    .iter()
                    .map(|s| {
                        matches(&a.filter, |d| {
                            s.dims.iter().find(|(k, _)| k == d).map(|(_, v)| v.as_str())
                        })
                    })
                    .collect(),
            }
        })
        .collect();
    found.extend(warnings::anomalies(&steps, &anomalies, &catalog)?);
    found.sort_by_key(|w| w.line());
    Ok(Prepared {
        catalog,
        steps,
        anomalies,
        sources: summaries,
        anchor_align: scenario.anchor_align.0,
        calendar_lines: scenario
            .steps
            .iter()
            .filter(|s| match s {
                Step::Replay(r) => matches!(r.shift, Shift::CalendarDays { .. }),
                Step::Extrapolate(e) => matches!(e.shift, Shift::CalendarDays { .. }),
                Step::Generate(_) => false,
            })
            .map(Step::line)
            .collect(),
        redacted,
        warnings: found,
    })
}

/// The anchor rounded down to the scenario's `anchor align` (from the epoch).
pub fn align(anchor: i64, step: i64) -> i64 {
    anchor - anchor.rem_euclid(step.max(1))
}

impl Prepared {
    /// Streams every record for `anchor` (already aligned) into `sink`.
    /// Every step and anomaly is bound to the anchor first: a time past
    /// what i64 nanoseconds hold stops the run before any record.
    pub fn run(&self, anchor: i64, sink: &mut dyn Sink) -> Result<Vec<Hit>, CompileError> {
        for step in &self.steps {
            step.bind(anchor)?;
        }
        let anomalies: Vec<AnomalyRun> = self
            .anomalies
            .iter()
            .map(|a| {
                let (start, end) = anchor::anomaly(a.line, a.at, a.length, anchor)?;
                Ok(AnomalyRun {
                    kind: a.kind.clone(),
                    line: a.line,
                    table: a.table,
                    measure: a.measure,
                    start,
                    end,
                    key: a.key,
                    series: a.series.clone(),
                })
            })
            .collect::<Result<_, CompileError>>()?;
        let cursors: Vec<Cursor<'_>> = self
            .steps
            .iter()
            .map(|s| {
                Ok(match s {
                    PreparedStep::Grid {
                        table,
                        line,
                        relative,
                        start,
                        every,
                        count,
                        series,
                    } => Cursor::Grid(GridCursor {
                        table: *table,
                        line: *line,
                        relative: *relative,
                        start: *start,
                        every: *every,
                        count: *count,
                        k: 0,
                        series: series
                            .iter()
                            .map(|(rank, evals)| GridSeries {
                                rank: *rank,
                                measures: evals.clone(),
                            })
                            .collect(),
                        si: 0,
                    }),
                    PreparedStep::Listed {
                        table,
                        line,
                        relative,
                        items,
                        values,
                        ..
                    } => Cursor::Listed(ListedCursor {
                        table: *table,
                        line: *line,
                        relative: *relative,
                        items,
                        values,
                        i: 0,
                    }),
                    PreparedStep::Streamed { step, .. } => {
                        Cursor::Streamed(streamed::StreamedCursor::open(step).map_err(|error| {
                            CompileError::Spill {
                                folder: step.rows.folder().to_path_buf(),
                                error,
                            }
                        })?)
                    }
                })
            })
            .collect::<Result<_, CompileError>>()?;
        stream::run(&self.catalog, cursors, &anomalies, anchor, sink).map_err(|e| match e {
            stream::StreamError::Io(e) => CompileError::Io(e),
            stream::StreamError::Spill(folder, error) => CompileError::Spill { folder, error },
            stream::StreamError::Value(boxed) => {
                let (record, bad) = *boxed;
                let table = &self.catalog.tables[record.table as usize];
                let (measure, ty) = &table.measures[bad.measure as usize];
                CompileError::ValueOutOfRange(Box::new(error::ValueOutOfRange {
                    line: bad.line,
                    anomaly: bad.anomaly,
                    table: table.target.clone(),
                    series: series_text(&table.series[record.series as usize].dims),
                    time: time_words(&record, anchor),
                    measure: measure.clone(),
                    value: bad.value,
                    bigint: *ty == MeasureType::Bigint,
                }))
            }
            stream::StreamError::Conflict(boxed) => {
                let (record, conflict) = *boxed;
                let table = &self.catalog.tables[record.table as usize];
                let time = time_words(&record, anchor);
                let show = |v: &Value| {
                    let mut out = Vec::new();
                    v.write_json(&mut out);
                    String::from_utf8_lossy(&out).into_owned()
                };
                CompileError::Conflict(Box::new(Conflict {
                    table: table.target.clone(),
                    series: series_text(&table.series[record.series as usize].dims),
                    time,
                    measure: table.measures[conflict.measure as usize].0.clone(),
                    first_line: conflict.first_line,
                    second_line: conflict.second_line,
                    first: show(&conflict.first),
                    second: show(&conflict.second),
                    calendar_shift: self.calendar_lines.contains(&conflict.first_line)
                        || self.calendar_lines.contains(&conflict.second_line),
                    repeated_hour: repeated::cause(
                        &record,
                        anchor,
                        self.steps.iter().filter_map(|s| {
                            let (line, relative, rows) = match s {
                                PreparedStep::Listed {
                                    line,
                                    relative,
                                    repeated: Some(rows),
                                    ..
                                } => (*line, *relative, rows),
                                PreparedStep::Streamed {
                                    step,
                                    repeated: Some(rows),
                                } => (step.line, step.relative, rows),
                                _ => return None,
                            };
                            (line == conflict.first_line || line == conflict.second_line)
                                .then_some((&**rows, relative))
                        }),
                    ),
                }))
            }
        })
    }

    /// The anomalies' lines, in file order, for labels.
    pub fn anomaly_lines(&self) -> Vec<usize> {
        self.anomalies.iter().map(|a| a.line).collect()
    }
}

/// A record's time in messages. A plan is compiled with the epoch as
/// anchor: say `now+2m` there, and the concrete time too once an anchor is
/// bound.
fn time_words(record: &record::Record, anchor: i64) -> String {
    let utc = record::time_string(record.time);
    match (record.relative, anchor) {
        (true, 0) => crate::lang::literal::time_words(record.time, true),
        (true, _) => format!(
            "{} ({utc})",
            crate::lang::literal::time_words(record.time - anchor, true)
        ),
        (false, _) => utc,
    }
}

fn step_source(step: &Step) -> Option<&str> {
    match step {
        Step::Replay(r) => Some(&r.source),
        Step::Extrapolate(e) => Some(&e.source),
        Step::Generate(_) => None,
    }
}

/// A `generate` series' dimensions; an empty value is a dimension the
/// series lacks, as an empty source cell is (see `select`).
fn generated_dims(series: &BTreeMap<String, String>) -> Dims {
    series
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}
