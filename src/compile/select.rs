//! Reading sources for the steps that use them: each row is tested against
//! a step's window and `where`, and kept with its series and measures
//! numbered locally (the table's numbers come once every step is read).

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;
use std::convert::Infallible;

use super::CompileError;
use super::ListedItem;
use super::eval;
use super::pipeline::{Batch, pipeline};
use super::spill::Spill;
use crate::model::{self, Filter, MeasureType, NameRules, Source, Step};
use crate::record::{Catalog, Value};
use crate::sources::{self, DataError, ReadOptions, ReadSummary};

/// A series' dimensions, sorted by name.
pub(super) type Dims = Vec<(String, String)>;

/// Rows a step selected from its source, with its series and measures
/// numbered locally (the table's numbering comes once all steps are read).
#[derive(Default)]
pub(super) struct Selected {
    /// Output series (dimensions after `set`) by local index.
    pub series: Vec<Dims>,
    /// A source row's dimension values → local series index. Only looked
    /// up, never iterated: its order cannot reach any output.
    pub by_values: FxHashMap<Vec<String>, u32>,
    /// Measure names by local index, with the type of their values.
    pub measures: Vec<(String, MeasureType)>,
    /// A measure name → its local index, or `None` when the step does not
    /// want it: one lookup a value instead of scanning `measures` and the
    /// step's list. Only looked up, never iterated.
    pub by_name: FxHashMap<String, Option<u16>>,
    /// (instant, local series, a run of `values`), numbered locally.
    pub rows: Vec<ListedItem>,
    /// (instant, local series, line) of the rows whose local time the
    /// autumn change repeats (`SourceRow::repeated_local`): rare, and for
    /// a conflict's help.
    pub repeated: Vec<(i64, u32, u64)>,
    /// Every row's (local measure, value), one after another: one buffer
    /// instead of one allocation a row.
    pub values: Vec<(u16, Value)>,
    /// Rows inside the step's window (every row without one).
    pub in_window: u64,
    /// Rows inside the window that pass the `where`.
    pub in_where: u64,
    /// For each `set` assignment (in name order): whether some selected
    /// series had another value before it.
    pub set_changes: Vec<bool>,
    /// Where `rows` and `values` go each time they fill a chunk, for a
    /// replay that streams (`spill`); `None` keeps every row in memory.
    pub spill: Option<Spill>,
}

/// A step's local series and measure numbers → its table's.
pub(super) struct Numbering {
    pub ranks: Vec<u32>,
    pub measures: Vec<u16>,
}

pub(super) fn value_type(v: &Value) -> MeasureType {
    match v {
        Value::Double(_) => MeasureType::Double,
        Value::Bigint(_) => MeasureType::Bigint,
        Value::Boolean(_) => MeasureType::Boolean,
        Value::Varchar(_) => MeasureType::Varchar,
    }
}

pub(super) fn matches<'a>(filter: &Filter, dim: impl Fn(&str) -> Option<&'a str>) -> bool {
    filter
        .conditions
        .iter()
        .all(|c| c.test.allows(dim(&c.dimension).unwrap_or("")))
}

/// Keeps a source row for a step when it falls in the step's window and
/// matches its `where`.
pub(super) fn select(step: &Step, source: &Source, row: &sources::SourceRow, into: &mut Selected) {
    // Steps name dimensions and measures as the table does (`as` renames);
    // rows carry them as the file does.
    let dim = |name: &str| {
        source
            .dimension_names
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
    into.in_window += 1;
    if !matches(filter, dim) {
        return;
    }
    into.in_where += 1;
    let first = into.values.len();
    for (name, v) in &row.measures {
        let known = into.by_name.get(name.as_str()).copied();
        let local = match known {
            Some(None) => continue,
            Some(Some(local)) => local,
            None if wanted.is_some_and(|w| !w.iter().any(|m| m == source.measure_name(name))) => {
                into.by_name.insert(name.clone(), None);
                continue;
            }
            None => {
                // Numbered in the order first seen, as the type of the
                // first value seen.
                into.measures.push((
                    source.measure_name(name).to_string(),
                    value_type(&eval::scalar_value(v)),
                ));
                let local = (into.measures.len() - 1) as u16;
                into.by_name.insert(name.clone(), Some(local));
                local
            }
        };
        into.values.push((local, eval::scalar_value(v)));
    }
    let count = into.values.len() - first;
    if count == 0 {
        return;
    }
    let series = match into.by_values.get(row.dimensions.as_slice()) {
        Some(&i) => i,
        None => {
            let mut dims: BTreeMap<String, String> = source
                .dimension_names
                .iter()
                .cloned()
                .zip(row.dimensions.iter().cloned())
                .collect();
            into.set_changes.resize(set.len(), false);
            for (i, (k, v)) in set.iter().enumerate() {
                into.set_changes[i] |= dims.get(k).map_or("", String::as_str) != v;
                dims.insert(k.clone(), v.clone());
            }
            // An empty cell is a dimension this series lacks (Timestream's
            // series may have different dimension sets; `capture` writes
            // them so): no target takes an empty dimension value.
            dims.retain(|_, v| !v.is_empty());
            into.series.push(dims.into_iter().collect());
            let i = (into.series.len() - 1) as u32;
            into.by_values.insert(row.dimensions.clone(), i);
            i
        }
    };
    into.rows
        .push((row.time.0, series, first as u32, count as u16));
    if let Some(line) = row.repeated_local {
        into.repeated.push((row.time.0, series, line));
    }
    if let Some(spill) = &mut into.spill
        && spill.is_full(&into.rows)
    {
        spill.spill(&mut into.rows, &mut into.values);
    }
}

/// Source rows on their way from the reading thread to the selecting one.
#[derive(Default)]
struct RowBatch {
    /// Rows past `filled` are left from an earlier fill: their strings keep
    /// their capacity for the next.
    rows: Vec<sources::SourceRow>,
    filled: usize,
}

impl Batch for RowBatch {
    const ITEMS: usize = 1024;
    const IN_FLIGHT: usize = 4;

    fn len(&self) -> usize {
        self.filled
    }

    fn clear(&mut self) {
        self.filled = 0;
    }
}

impl RowBatch {
    fn push(&mut self, row: &sources::SourceRow) {
        match self.rows.get_mut(self.filled) {
            Some(slot) => refill(slot, row),
            None => self.rows.push(row.clone()),
        }
        self.filled += 1;
    }

    fn rows(&self) -> &[sources::SourceRow] {
        &self.rows[..self.filled]
    }
}

/// Reads a source on this thread while `each` selects its rows on a second
/// one (see `pipeline`): the same as a plain read, only sooner.
pub(super) fn read_alongside(
    source: &Source,
    options: &ReadOptions,
    mut each: impl FnMut(&sources::SourceRow) + Send,
) -> Result<ReadSummary, DataError> {
    let (summary, selected) = pipeline::<RowBatch, _, Infallible>(
        |handover| {
            sources::read_rows(source, options, &mut |row| {
                // Selecting never fails: it stops early only by panicking,
                // and `pipeline` carries the panic on.
                let _ = handover.add(|batch| batch.push(row));
            })
        },
        |batch| {
            batch.rows().iter().for_each(&mut each);
            Ok(())
        },
    );
    match selected {
        Ok(()) => summary,
        Err(never) => match never {},
    }
}

/// `slot = row.clone()`, reusing the slot's strings.
fn refill(slot: &mut sources::SourceRow, row: &sources::SourceRow) {
    slot.time = row.time;
    slot.repeated_local = row.repeated_local;
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
pub(super) fn numbering(sel: &Selected, t: usize, catalog: &Catalog) -> Numbering {
    Numbering {
        ranks: sel.series.iter().map(|d| rank(catalog, t, d)).collect(),
        measures: sel
            .measures
            .iter()
            .map(|(n, _)| measure_id(catalog, t, n))
            .collect(),
    }
}

/// A series' rank in table `t` of the catalogue, whose series are sorted
/// by their dimensions.
pub(super) fn rank(catalog: &Catalog, t: usize, dims: &Dims) -> u32 {
    catalog.tables[t]
        .series
        .binary_search_by(|s| s.dims.cmp(dims))
        .unwrap_or(0) as u32
}

/// A measure's number in table `t` of the catalogue, whose measures are
/// sorted by name.
pub(super) fn measure_id(catalog: &Catalog, t: usize, name: &str) -> u16 {
    catalog.tables[t]
        .measures
        .binary_search_by(|(n, _)| n.as_str().cmp(name))
        .unwrap_or(0) as u16
}

/// A `generate` series' dimensions; an empty value is a dimension the
/// series lacks, as an empty source cell is (see `select`).
pub(super) fn generated_dims(series: &BTreeMap<String, String>) -> Dims {
    series
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

pub(super) fn check_measure_name(
    source: &str,
    name: &str,
    rules: &dyn NameRules,
) -> Result<(), CompileError> {
    let Some(problem) = rules.problem(crate::diagnostics::kind::NameKind::Measure, name) else {
        return Ok(());
    };
    Err(CompileError::BadName {
        source_name: source.to_string(),
        name: name.to_string(),
        problem,
    })
}
