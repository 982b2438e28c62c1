//! Reading sources for the steps that use them: each row is tested against
//! a step's window and `where`, and kept with its series and measures
//! numbered locally (the table's numbers come once every step is read).

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

use super::CompileError;
use super::eval;
use super::record::Value;
use super::stream::ListedItem;
use crate::sources::{self, DataError, ReadOptions, ReadSummary};
use crate::validate::model::{self, Filter, MeasureType, Source, Step};

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
    pub by_values: HashMap<Vec<String>, u32, BuildHasherDefault<FxHasher>>,
    /// Measure names by local index, with the type of their values.
    pub measures: Vec<(String, MeasureType)>,
    /// (instant, local series, a run of `values`), numbered locally.
    pub rows: Vec<ListedItem>,
    /// Every row's (local measure, value), one after another: one buffer
    /// instead of one allocation a row.
    pub values: Vec<(u16, Value)>,
}

/// A small fast hash for interning series (FxHash's multiply-rotate): the
/// keys are our own data, so no resistance to chosen collisions is needed.
#[derive(Default)]
pub(super) struct FxHasher(u64);

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
pub(super) const BATCH_ROWS: usize = 1024;

/// Reads a source on a second thread while `each` selects its rows on this
/// one, in batches that go back and forth to be refilled. One producer and
/// one consumer keep the rows in file order: the result is the same as a
/// plain read, only sooner on a machine with two cores.
pub(super) fn read_alongside(
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
pub(super) fn refill(slot: &mut sources::SourceRow, row: &sources::SourceRow) {
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
pub(super) fn numbering(
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

pub(super) fn check_measure_name(source: &str, name: &str) -> Result<(), CompileError> {
    use crate::targets::{DEFAULT_RULES, NameProblem};
    let Some(found) = DEFAULT_RULES.problem(crate::diagnostics::kind::NameKind::Measure, name)
    else {
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
