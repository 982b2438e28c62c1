//! `model::Scenario` → the record stream, for one anchor.
//!
//! `prepare` reads every source once (streaming; only the rows a step
//! selects are kept), fits the extrapolations and numbers the tables,
//! series and measures. `run` then binds `now` to an anchor and streams
//! the records, in order, through the anomalies into a sink. `plan.rs`
//! summarises one run into the reviewable plan.

pub mod eval;
pub mod output;
pub mod plan;
pub mod random;
pub mod record;
pub mod stream;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};

use chrono::TimeZone;

use crate::literal::Instant;
use crate::local_time::{self, Ambiguous, Nonexistent};
use crate::model::{
    self, AnomalyKind, ConditionTest, Filter, MeasureType, Scenario, Shift, Source, Step, TimePoint,
};
use crate::sources::{self, DataError, ReadOptions, ReadSummary};
use eval::{FitError, Learned, MeasureEval, TermEval};
use random::Key;
use record::Value;
use stream::{
    AnomalyRun, Catalog, Cursor, GridCursor, GridSeries, ListedCursor, ListedItem, SeriesInfo,
    TableCatalog,
};

/// What can go wrong between a valid scenario and its records.
#[derive(Debug)]
pub enum CompileError {
    /// A source file or row could not be read.
    Data {
        source: String,
        error: Box<DataError>,
    },
    /// Two steps give one measure of one series at one instant different values.
    Conflict(Box<Conflict>),
    /// An extrapolation found no recorded data to learn from.
    NothingLearned {
        line: usize,
        source: String,
        measure: String,
    },
    /// A series had too little data for its model.
    Fit {
        line: usize,
        series: String,
        reason: String,
    },
    /// A measure name read from a long-row source that Timestream refuses.
    BadName {
        source: String,
        name: String,
        reason: String,
    },
    /// A time left the range i64 nanoseconds hold (years 1678 to 2261).
    TimeOutOfRange {
        line: usize,
    },
    Io(std::io::Error),
}

impl CompileError {
    pub fn code(&self) -> &'static str {
        match self {
            CompileError::Data { .. } => "outatime::data::bad_row",
            CompileError::Conflict(_) => "outatime::compile::conflict",
            CompileError::NothingLearned { .. } => "outatime::compile::nothing_learned",
            CompileError::Fit { .. } => "outatime::compile::fit",
            CompileError::BadName { .. } => "outatime::compile::bad_name",
            CompileError::TimeOutOfRange { .. } => "outatime::compile::time_out_of_range",
            CompileError::Io(_) => "outatime::io",
        }
    }

    pub fn help(&self) -> Option<String> {
        match self {
            // A file-level problem (line 0 or the header) cannot be skipped.
            CompileError::Data { error, .. } if error.line <= 1 => error.help.clone(),
            CompileError::Data { error, .. } => {
                let skip = "or let up to N bad rows be skipped and counted with `--max-bad-rows N`";
                Some(match &error.help {
                    Some(help) => format!("{help}; {skip}"),
                    None => format!("fix the row, {skip}"),
                })
            }
            CompileError::Conflict(c) if c.calendar_shift => Some(
                "a calendar shift across a daylight-saving change can put two recorded instants on one local time; narrow the window or shift by a duration".into(),
            ),
            CompileError::Conflict(_) => Some(
                "narrow one step's window or `where`, or write the steps into different series with `set`".into(),
            ),
            CompileError::NothingLearned { .. } => Some(
                "check the `learn` window and the `where` against the source's data".into(),
            ),
            CompileError::Fit { .. } => Some("learn from a longer window, or drop `trend`".into()),
            CompileError::BadName { .. } => Some(
                "rename the measure in the data, or leave it out with `measures` on the replay".into(),
            ),
            CompileError::TimeOutOfRange { .. } => Some("move the step's times closer to the present".into()),
            CompileError::Io(_) => None,
        }
    }
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompileError::Data { source, error } => {
                write!(f, "source `{source}`: {}", error.file.display())?;
                if error.line > 0 {
                    write!(f, ":{}", error.line)?;
                }
                if let Some(column) = &error.column {
                    write!(f, ", column `{column}`")?;
                }
                write!(f, ": {}", error.reason)
            }
            CompileError::Conflict(c) if c.first_line == c.second_line => write!(
                f,
                "the step at line {} writes `{}` of {} in table `{}` at {} twice, as {} and as {}",
                c.first_line, c.measure, c.series, c.table, c.time, c.first, c.second
            ),
            CompileError::Conflict(c) => write!(
                f,
                "the steps at lines {} and {} both write `{}` of {} in table `{}` at {}, as {} and as {}",
                c.first_line,
                c.second_line,
                c.measure,
                c.series,
                c.table,
                c.time,
                c.first,
                c.second
            ),
            CompileError::NothingLearned {
                line,
                source,
                measure,
            } => write!(
                f,
                "the extrapolation at line {line} found no `{measure}` in `{source}` to learn from"
            ),
            CompileError::Fit {
                line,
                series,
                reason,
            } => {
                write!(
                    f,
                    "the extrapolation at line {line} cannot fit {series}: {reason}"
                )
            }
            CompileError::BadName {
                source,
                name,
                reason,
            } => write!(
                f,
                "source `{source}` has a measure named `{name}`, which Timestream refuses: {reason}"
            ),
            CompileError::TimeOutOfRange { line } => {
                write!(
                    f,
                    "the step at line {line} reaches a time outside the years 1678 to 2261"
                )
            }
            CompileError::Io(e) => write!(f, "cannot write the output: {e}"),
        }
    }
}

/// Two steps give one measure of one series at one instant different values.
#[derive(Debug)]
pub struct Conflict {
    pub table: String,
    pub series: String,
    pub time: String,
    pub measure: String,
    pub first_line: usize,
    pub second_line: usize,
    pub first: String,
    pub second: String,
    /// A step at either line shifts by calendar days (DST can fold instants).
    pub calendar_shift: bool,
}

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
    },
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

/// A series' dimensions, sorted by name.
type Dims = Vec<(String, String)>;

/// Rows a step selected from its source, with its series and measures
/// numbered locally (the table's numbering comes once all steps are read).
#[derive(Default)]
struct Selected {
    /// Output series (dimensions after `set`) by local index.
    series: Vec<Dims>,
    /// A source row's dimension values → local series index. Only looked
    /// up, never iterated: its order cannot reach any output.
    by_values: HashMap<Vec<String>, u32, BuildHasherDefault<FxHasher>>,
    /// Measure names by local index, with the type of their values.
    measures: Vec<(String, MeasureType)>,
    /// (instant, local series, a run of `values`), numbered locally.
    rows: Vec<ListedItem>,
    /// Every row's (local measure, value), one after another: one buffer
    /// instead of one allocation a row.
    values: Vec<(u16, Value)>,
}

/// A small fast hash for interning series (FxHash's multiply-rotate): the
/// keys are our own data, so no resistance to chosen collisions is needed.
#[derive(Default)]
struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word))
                .wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A step's local series and measure numbers → its table's.
struct Numbering {
    ranks: Vec<u32>,
    measures: Vec<u16>,
}

pub fn prepare(scenario: &Scenario, options: ReadOptions) -> Result<Prepared, CompileError> {
    let mut tables: Vec<&model::Table> = scenario.tables.values().collect();
    tables.sort_by(|a, b| a.target_name.cmp(&b.target_name).then(a.name.cmp(&b.name)));
    let table_index: BTreeMap<&str, u16> = tables
        .iter()
        .enumerate()
        .map(|(i, t)| (t.name.as_str(), i as u16))
        .collect();

    // Read each source once, handing each row to the steps that use it.
    let mut selected: Vec<Selected> = scenario.steps.iter().map(|_| Selected::default()).collect();
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
        let summary = read_alongside(source, options, |row| {
            for &i in &users {
                select(&scenario.steps[i], source, row, &mut selected[i]);
            }
        })
        .map_err(|error| CompileError::Data {
            source: source.name.clone(),
            error: Box::new(error),
        })?;
        summaries.insert(source.name.clone(), summary);
    }

    // Long rows name their measures in the data: hold those names to
    // Timestream's rules before anything is written.
    for (step, sel) in scenario.steps.iter().zip(&selected) {
        if let Step::Replay(r) = step {
            for (name, _) in &sel.measures {
                check_measure_name(&r.source, name)?;
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
                    series_sets[t].insert(s.iter().map(|(k, v)| (k.clone(), v.clone())).collect());
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
                        key: random::name_hash(&series_text(dims)),
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

    let root = Key::new(scenario.seed);
    let mut steps = Vec::new();
    for (step, sel) in scenario.steps.iter().zip(selected) {
        let t = table_index[step.table()] as usize;
        match step {
            Step::Generate(g) => {
                let (relative, start, end) = schedule_bounds(&g.schedule);
                let step_key = root.with_name(&format!("generate|{}", g.table));
                let mut series: Vec<(u32, Vec<MeasureEval>)> = g
                    .series
                    .iter()
                    .map(|s| {
                        let dims: Vec<(String, String)> =
                            s.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
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
                steps.push(prepare_replay(r, sel, &numbering, t)?)
            }
            Step::Extrapolate(e) => {
                let numbering = numbering(&sel, t, &rank, &measure_id);
                steps.push(prepare_extrapolate(
                    e,
                    sel,
                    &numbering,
                    t,
                    root,
                    measure_id(t, &e.measure),
                )?)
            }
        }
    }

    let anomalies = scenario
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
    })
}

/// The anchor rounded down to the scenario's `anchor align` (from the epoch).
pub fn align(anchor: i64, step: i64) -> i64 {
    anchor - anchor.rem_euclid(step.max(1))
}

impl Prepared {
    /// Streams every record for `anchor` (already aligned) into `sink`.
    pub fn run(
        &self,
        anchor: i64,
        sink: &mut dyn stream::Sink,
    ) -> Result<Vec<stream::Hit>, CompileError> {
        let cursors: Vec<Cursor<'_>> = self
            .steps
            .iter()
            .map(|s| match s {
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
                } => Cursor::Listed(ListedCursor {
                    table: *table,
                    line: *line,
                    relative: *relative,
                    items,
                    values,
                    i: 0,
                }),
            })
            .collect();
        let anomalies: Vec<AnomalyRun> = self
            .anomalies
            .iter()
            .map(|a| {
                let start = match a.at {
                    TimePoint::Relative(d) => anchor.saturating_add(d.0),
                    TimePoint::Absolute(i) => i.0,
                };
                AnomalyRun {
                    kind: a.kind.clone(),
                    line: a.line,
                    table: a.table,
                    measure: a.measure,
                    start,
                    end: a.length.map(|l| start.saturating_add(l)),
                    key: a.key,
                    series: a.series.clone(),
                }
            })
            .collect();
        stream::run(&self.catalog, cursors, &anomalies, anchor, sink).map_err(|e| match e {
            stream::StreamError::Io(e) => CompileError::Io(e),
            stream::StreamError::Conflict(boxed) => {
                let (record, conflict) = *boxed;
                let table = &self.catalog.tables[record.table as usize];
                let mut utc = Vec::new();
                record::write_time(&mut utc, record.time);
                let utc = String::from_utf8_lossy(&utc).into_owned();
                // A plan is compiled with the epoch as anchor: say `now+2m`
                // there, and the concrete time too once an anchor is bound.
                let time = match (record.relative, anchor) {
                    (true, 0) => plan::time_words(record.time, true),
                    (true, _) => {
                        format!("{} ({utc})", plan::time_words(record.time - anchor, true))
                    }
                    (false, _) => utc,
                };
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
                }))
            }
        })
    }

    /// The anomalies' lines, in file order, for labels.
    pub fn anomaly_lines(&self) -> Vec<usize> {
        self.anomalies.iter().map(|a| a.line).collect()
    }
}

fn step_source(step: &Step) -> Option<&str> {
    match step {
        Step::Replay(r) => Some(&r.source),
        Step::Extrapolate(e) => Some(&e.source),
        Step::Generate(_) => None,
    }
}

fn value_type(v: &Value) -> MeasureType {
    match v {
        Value::Double(_) => MeasureType::Double,
        Value::Bigint(_) => MeasureType::Bigint,
        Value::Boolean(_) => MeasureType::Boolean,
        Value::Varchar(_) => MeasureType::Varchar,
    }
}

/// `{device_id="fridge-7", site="oslo-1"}`: a series in messages.
pub fn series_text(dims: &[(String, String)]) -> String {
    let inner: Vec<String> = dims.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    format!("{{{}}}", inner.join(", "))
}

fn matches<'a>(filter: &Filter, dim: impl Fn(&str) -> Option<&'a str>) -> bool {
    filter.conditions.iter().all(|c| {
        let value = dim(&c.dimension).unwrap_or("");
        match &c.test {
            ConditionTest::Equals(v) => value == v,
            ConditionTest::NotEquals(v) => value != v,
            ConditionTest::In(list) => list.iter().any(|v| v == value),
        }
    })
}

/// Keeps a source row for a step when it falls in the step's window and
/// matches its `where`.
fn select(step: &Step, source: &Source, row: &sources::SourceRow, into: &mut Selected) {
    let dim = |name: &str| {
        source
            .dimensions
            .iter()
            .position(|d| d == name)
            .map(|i| row.dimensions[i].as_str())
    };
    let (window, filter, set, wanted): (Option<model::Window>, &Filter, _, Option<&[String]>) =
        match step {
            Step::Replay(r) => (r.window, &r.filter, &r.set, r.measures.as_deref()),
            Step::Extrapolate(e) => (
                Some(e.learn),
                &e.filter,
                &e.set,
                Some(std::slice::from_ref(&e.measure)),
            ),
            Step::Generate(_) => return,
        };
    if let Some(w) = window
        && (row.time < w.start || row.time >= w.end)
    {
        return;
    }
    if !matches(filter, dim) {
        return;
    }
    let first = into.values.len();
    for (name, v) in &row.measures {
        if wanted.is_some_and(|w| !w.contains(name)) {
            continue;
        }
        let value = eval::scalar_value(v);
        let local = match into.measures.iter().position(|(n, _)| n == name) {
            Some(i) => i,
            None => {
                into.measures.push((name.clone(), value_type(&value)));
                into.measures.len() - 1
            }
        };
        into.values.push((local as u16, value));
    }
    let count = into.values.len() - first;
    if count == 0 {
        return;
    }
    let series = match into.by_values.get(row.dimensions.as_slice()) {
        Some(&i) => i,
        None => {
            let mut dims: BTreeMap<String, String> = source
                .dimensions
                .iter()
                .cloned()
                .zip(row.dimensions.iter().cloned())
                .collect();
            for (k, v) in set {
                dims.insert(k.clone(), v.clone());
            }
            into.series.push(dims.into_iter().collect());
            let i = (into.series.len() - 1) as u32;
            into.by_values.insert(row.dimensions.clone(), i);
            i
        }
    };
    into.rows
        .push((row.time.0, series, first as u32, count as u16));
}

/// Rows handed from the reading thread to the selecting one at a time.
const BATCH_ROWS: usize = 1024;

/// Reads a source on a second thread while `each` selects its rows on this
/// one, in batches that go back and forth to be refilled. One producer and
/// one consumer keep the rows in file order: the result is the same as a
/// plain read, only sooner on a machine with two cores.
fn read_alongside(
    source: &Source,
    options: ReadOptions,
    mut each: impl FnMut(&sources::SourceRow),
) -> Result<ReadSummary, DataError> {
    use std::sync::mpsc;
    type Batch = (Vec<sources::SourceRow>, usize);
    let (full_tx, full_rx) = mpsc::sync_channel::<Batch>(4);
    let (empty_tx, empty_rx) = mpsc::channel::<Vec<sources::SourceRow>>();
    std::thread::scope(|scope| {
        let reader = scope.spawn(move || {
            let mut batch = Vec::with_capacity(BATCH_ROWS);
            let mut filled = 0;
            let summary = sources::read_rows(source, options, &mut |row| {
                match batch.get_mut(filled) {
                    // Refill in place: the strings keep their capacity.
                    Some(slot) => refill(slot, row),
                    None => batch.push(row.clone()),
                }
                filled += 1;
                if filled == BATCH_ROWS {
                    let next = empty_rx.try_recv().unwrap_or_default();
                    // The selecting side only stops early by panicking.
                    let _ = full_tx.send((std::mem::replace(&mut batch, next), filled));
                    filled = 0;
                }
            });
            if filled > 0 {
                let _ = full_tx.send((batch, filled));
            }
            summary
        });
        for (batch, filled) in full_rx {
            for row in &batch[..filled] {
                each(row);
            }
            let _ = empty_tx.send(batch);
        }
        reader
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// `slot = row.clone()`, reusing the slot's strings.
fn refill(slot: &mut sources::SourceRow, row: &sources::SourceRow) {
    slot.time = row.time;
    slot.dimensions.truncate(row.dimensions.len());
    for (i, d) in row.dimensions.iter().enumerate() {
        match slot.dimensions.get_mut(i) {
            Some(s) => s.clone_from(d),
            None => slot.dimensions.push(d.clone()),
        }
    }
    slot.measures.truncate(row.measures.len());
    for (i, (name, value)) in row.measures.iter().enumerate() {
        match slot.measures.get_mut(i) {
            Some((n, v)) => {
                n.clone_from(name);
                v.clone_from(value);
            }
            None => slot.measures.push((name.clone(), value.clone())),
        }
    }
}

/// The table's numbers for a step's local series and measures.
fn numbering(
    sel: &Selected,
    t: usize,
    rank: &dyn Fn(usize, &Dims) -> u32,
    measure_id: &dyn Fn(usize, &str) -> u16,
) -> Numbering {
    Numbering {
        ranks: sel.series.iter().map(|d| rank(t, d)).collect(),
        measures: sel.measures.iter().map(|(n, _)| measure_id(t, n)).collect(),
    }
}

fn check_measure_name(source: &str, name: &str) -> Result<(), CompileError> {
    use crate::timestream_names::{NameProblem, problem};
    let Some(found) = problem(crate::diagnostic_kind::NameKind::Measure, name) else {
        return Ok(());
    };
    let reason = match found {
        NameProblem::TooLong { bytes, max } => {
            format!("it is {bytes} bytes, and {max} are allowed")
        }
        NameProblem::Refused(reason) => reason,
    };
    Err(CompileError::BadName {
        source: source.to_string(),
        name: name.to_string(),
        reason,
    })
}

fn schedule_bounds(s: &model::Schedule) -> (bool, i64, i64) {
    match (s.start, s.end) {
        (TimePoint::Relative(a), TimePoint::Relative(b)) => (true, a.0, b.0),
        (TimePoint::Absolute(a), TimePoint::Absolute(b)) => (false, a.0, b.0),
        // Validation refuses mixed ranges.
        (a, b) => (false, point(a), point(b)),
    }
}

fn point(p: TimePoint) -> i64 {
    match p {
        TimePoint::Relative(d) => d.0,
        TimePoint::Absolute(i) => i.0,
    }
}

/// Instants of `[start, end)` every `every`.
fn count(start: i64, end: i64, every: i64) -> u64 {
    if end <= start {
        return 0;
    }
    ((end as i128 - start as i128 + every as i128 - 1) / every as i128) as u64
}

fn prepare_replay(
    r: &model::Replay,
    sel: Selected,
    numbering: &Numbering,
    t: usize,
) -> Result<PreparedStep, CompileError> {
    let (ws, we) = match r.window {
        Some(w) => (w.start.0, w.end.0),
        None => {
            let first = sel.rows.iter().map(|row| row.0).min().unwrap_or(0);
            let last = sel.rows.iter().map(|row| row.0).max().unwrap_or(0);
            (first, last)
        }
    };
    let sped = |time: i64| ws + ((time - ws) as f64 / r.speed).round() as i64;
    let end = sped(we);
    let relative = matches!(
        r.shift,
        Shift::StartTo(TimePoint::Relative(_)) | Shift::EndTo(TimePoint::Relative(_))
    );
    let place = |time: i64| -> Option<i64> {
        let time = sped(time);
        match &r.shift {
            Shift::None => Some(time),
            Shift::StartTo(p) => point(*p).checked_add(time - ws),
            Shift::EndTo(p) => point(*p).checked_add(time - end),
            Shift::By(d) => time.checked_add(d.0),
            Shift::CalendarDays { days, zone } => calendar_shift(time, *days, zone),
        }
    };
    let mut values = sel.values;
    let mut items = Vec::with_capacity(sel.rows.len());
    for (time, series, first, count) in sel.rows {
        let tau = place(time).ok_or(CompileError::TimeOutOfRange { line: r.line })?;
        let run = &mut values[first as usize..first as usize + count as usize];
        for (m, _) in run.iter_mut() {
            *m = numbering.measures[*m as usize];
        }
        run.sort_by_key(|(m, _)| *m);
        items.push((tau, numbering.ranks[series as usize], first, count));
    }
    // Stable: rows at one instant of one series keep their file order.
    items.sort_by_key(|item| (item.0, item.1));
    Ok(PreparedStep::Listed {
        table: t as u16,
        line: r.line,
        relative,
        items,
        values,
    })
}

/// The same local wall time `days` calendar days later in `zone`.
fn calendar_shift(time: i64, days: i64, zone: &chrono_tz::Tz) -> Option<i64> {
    let local = zone.timestamp_nanos(time).naive_local();
    let date = local
        .date()
        .checked_add_signed(chrono::TimeDelta::try_days(days)?)?;
    let shifted = chrono::NaiveDateTime::new(date, local.time());
    local_time::resolve(zone, shifted, Nonexistent::Shift, Ambiguous::Earlier)
        .ok()
        .map(|i: Instant| i.0)
}

fn prepare_extrapolate(
    e: &model::Extrapolate,
    sel: Selected,
    numbering: &Numbering,
    t: usize,
    root: Key,
    measure: u16,
) -> Result<PreparedStep, CompileError> {
    if sel.rows.is_empty() {
        return Err(CompileError::NothingLearned {
            line: e.line,
            source: e.source.clone(),
            measure: e.measure.clone(),
        });
    }
    let mut by_series: BTreeMap<u32, Vec<(i64, Value)>> = BTreeMap::new();
    for (time, series, first, _) in sel.rows {
        let value = sel.values[first as usize].1.clone();
        by_series.entry(series).or_default().push((time, value));
    }
    let (relative, start, end) = schedule_bounds(&e.schedule);
    // Output instant τ reads the learned frame at τ + to_learned: the learned
    // window's end maps to the schedule's start unless a shift says otherwise.
    let to_learned = match &e.shift {
        Shift::StartTo(p) => e.learn.start.0 - point(*p),
        Shift::EndTo(p) => e.learn.end.0 - point(*p),
        Shift::By(d) => -d.0,
        Shift::CalendarDays { days, .. } => -days.saturating_mul(86_400_000_000_000),
        Shift::None => e.learn.end.0 - start,
    };
    let step_key = root.with_name(&format!(
        "extrapolate|{}.{}|{}",
        e.source, e.measure, e.table
    ));
    let mut series = Vec::new();
    for (local, mut points) in by_series {
        let dims = &sel.series[local as usize];
        points.sort_by_key(|(time, _)| *time);
        let learned: Option<Learned> = eval::fit(
            &e.model,
            &points,
            e.learn.end.0,
            e.schedule.every.0,
            to_learned,
        )
        .map_err(|FitError::TooFewPoints(n)| CompileError::Fit {
            line: e.line,
            series: series_text(dims),
            reason: format!("`trend` needs two instants, and {n} were learned"),
        })?;
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
