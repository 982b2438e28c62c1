//! Cutting the record stream into WriteRecords batches.
//!
//! A batch holds at most 100 records of one table. Dimensions that all its
//! records share go in CommonAttributes. Under live pacing a batch also
//! holds only records due within the same second, so nothing is sent before
//! its time comes; records already due when the apply began are cut into
//! full batches. The cut depends only on the stream, the pacing and that
//! instant (which the journal keeps), so batch numbers are stable across a
//! resume.

use std::collections::{BTreeMap, HashSet};

use aws_sdk_timestreamwrite::types::{Dimension, MeasureValue, MeasureValueType, Record, TimeUnit};

use crate::compile::record::Value;
use crate::compile::stream::{Catalog, Record as StreamRecord, Sink};
use crate::validate::model::{Layout, MeasureType};

/// The WriteRecords limit.
pub(crate) const MAX_BATCH: usize = 100;

const SECOND: i64 = 1_000_000_000;

/// When records are sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pace {
    /// Everything now.
    Burst,
    /// Each record once its time is within `lead` nanoseconds of the wall
    /// clock; a record a `late` anomaly delays, `delay` after its time.
    Live { lead: i64 },
}

impl Pace {
    /// When a record may be sent, in wall-clock ns (`i64::MIN`: at once).
    pub(crate) fn due(self, time: i64, delay: i64) -> i64 {
        match self {
            Pace::Burst => i64::MIN,
            // `late` means arriving after the record's own time, as a late
            // message would, whatever the lead.
            Pace::Live { .. } if delay > 0 => time.saturating_add(delay),
            Pace::Live { lead } => time.saturating_sub(lead),
        }
    }

    pub(crate) fn words(self) -> String {
        match self {
            Pace::Burst => "burst".into(),
            // Exact: the journal compares this text, and the lead decides
            // the batches.
            Pace::Live { lead } if lead % SECOND == 0 => format!("live, lead {}s", lead / SECOND),
            Pace::Live { lead } if lead % 1_000_000 == 0 => {
                format!("live, lead {}ms", lead / 1_000_000)
            }
            Pace::Live { lead } => format!("live, lead {lead}ns"),
        }
    }
}

/// Where a record of a batch came from: for rejection reports.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Origin {
    pub time: i64,
    /// A `late` anomaly's delay, ns.
    pub delay: i64,
    pub series: u32,
    /// The line of the step that wrote it (the first, for a merged record).
    pub line: u32,
}

/// One WriteRecords request's records, compact: the SDK's records are
/// built from it for each attempt, on the sending thread
/// ([`Batch::request`]), so the producer stays light and a retry needs no
/// copy kept aside.
#[derive(Debug)]
pub(crate) struct Batch {
    /// The batch's number in the apply: what the journal records.
    pub index: u64,
    pub table: u16,
    /// When it may be sent, wall-clock ns (`i64::MIN`: at once).
    pub due: i64,
    pub items: Vec<Item>,
}

/// One Timestream record of a batch.
#[derive(Debug)]
pub(crate) struct Item {
    pub origin: Origin,
    /// Multi layout: all measures; single: one.
    pub measures: Vec<(u16, Value)>,
}

/// What building requests needs from the catalogue and the scenario,
/// owned, to share with the sending tasks.
pub(crate) struct Shapes {
    pub version: i64,
    pub tables: Vec<TableShape>,
}

pub(crate) struct TableShape {
    pub layout: Layout,
    /// The multi-measure record's measure name.
    pub measure_name: String,
    /// By series rank.
    pub dims: Vec<Vec<(String, String)>>,
    /// By measure id.
    pub measures: Vec<(String, MeasureValueType)>,
}

impl Shapes {
    pub(crate) fn new(catalog: &Catalog, layouts: &[(Layout, String)], version: i64) -> Shapes {
        Shapes {
            version,
            tables: catalog
                .tables
                .iter()
                .zip(layouts)
                .map(|(t, (layout, measure_name))| TableShape {
                    layout: *layout,
                    measure_name: measure_name.clone(),
                    dims: t.series.iter().map(|s| s.dims.clone()).collect(),
                    measures: t
                        .measures
                        .iter()
                        .map(|(name, ty)| (name.clone(), value_type(*ty)))
                        .collect(),
                })
                .collect(),
        }
    }
}

impl Batch {
    /// The request's CommonAttributes (the Version and the dimensions every
    /// record shares) and records.
    pub(crate) fn request(&self, shapes: &Shapes) -> (Record, Vec<Record>) {
        let table = &shapes.tables[self.table as usize];
        let first = &table.dims[self.items[0].origin.series as usize];
        let mut shared: Vec<bool> = vec![true; first.len()];
        let mut last_series = self.items[0].origin.series;
        for item in &self.items {
            if item.origin.series == last_series {
                continue;
            }
            last_series = item.origin.series;
            let dims = &table.dims[item.origin.series as usize];
            for (i, d) in first.iter().enumerate() {
                shared[i] &= dims.contains(d);
            }
        }
        let shared: Vec<&(String, String)> = first
            .iter()
            .zip(&shared)
            .filter(|(_, s)| **s)
            .map(|(d, _)| d)
            .collect();
        let mut common = Record::builder().version(shapes.version);
        for (name, value) in &shared {
            common = common.dimensions(dimension(name, value));
        }
        // What every record shares goes once in CommonAttributes: a smaller
        // body to build, sign and send. Times in one unit share it.
        let unit = unit_of(self.items[0].origin.time);
        let one_unit = self.items.iter().all(|i| unit_of(i.origin.time) == unit);
        if one_unit {
            common = common.time_unit(unit.clone());
        }
        if table.layout == Layout::Multi {
            common = common
                .measure_name(&table.measure_name)
                .measure_value_type(MeasureValueType::Multi);
        }
        let records = self
            .items
            .iter()
            .map(|item| {
                let dims = &table.dims[item.origin.series as usize];
                let mut record = Record::builder().time(time_text(item.origin.time));
                if !one_unit {
                    record = record.time_unit(unit_of(item.origin.time));
                }
                for d in dims.iter().filter(|d| !shared.contains(d)) {
                    record = record.dimensions(dimension(&d.0, &d.1));
                }
                match table.layout {
                    Layout::Multi => record.set_measure_values(Some(
                        item.measures
                            .iter()
                            .map(|(m, v)| {
                                let (name, ty) = &table.measures[*m as usize];
                                MeasureValue::builder()
                                    .name(name)
                                    .value(value_text(v))
                                    .r#type(ty.clone())
                                    .build()
                                    .expect("name, value and type are set")
                            })
                            .collect(),
                    )),
                    Layout::Single => {
                        let (m, v) = &item.measures[0];
                        let (name, ty) = &table.measures[*m as usize];
                        record
                            .measure_name(name)
                            .measure_value(value_text(v))
                            .measure_value_type(ty.clone())
                    }
                }
                .build()
            })
            .collect();
        (common.build(), records)
    }
}

/// A record waiting for its batch.
struct Waiting {
    item: Item,
    due: i64,
}

/// A sink that cuts the stream into batches and hands them to `send`.
pub(crate) struct Batcher<'a, F: FnMut(Batch) -> std::io::Result<()>> {
    send: F,
    layouts: &'a [Layout],
    pace: Pace,
    /// Live pacing: records due before this go out at once, in full batches.
    cutoff: i64,
    /// Batches a resumed apply has already written: not sent again.
    done: &'a HashSet<u64>,
    /// Open batches of the current table by slot (the second they are due;
    /// `i64::MIN` for at once).
    open: BTreeMap<i64, Vec<Waiting>>,
    table: Option<u16>,
    next_index: u64,
    /// Records (as Timestream counts them) in batches skipped as done.
    pub skipped: u64,
}

impl<'a, F: FnMut(Batch) -> std::io::Result<()>> Batcher<'a, F> {
    pub(crate) fn new(
        send: F,
        layouts: &'a [Layout],
        pace: Pace,
        cutoff: i64,
        done: &'a HashSet<u64>,
    ) -> Self {
        Batcher {
            send,
            layouts,
            pace,
            cutoff,
            done,
            open: BTreeMap::new(),
            table: None,
            next_index: 0,
            skipped: 0,
        }
    }

    fn slot(&self, due: i64) -> i64 {
        if due <= self.cutoff {
            i64::MIN
        } else {
            due.div_euclid(SECOND)
        }
    }

    /// Sends every open batch whose slot is before `before`.
    fn flush_before(&mut self, before: i64) -> std::io::Result<()> {
        while let Some((&slot, _)) = self.open.first_key_value() {
            if slot >= before {
                break;
            }
            let waiting = self.open.remove(&slot).expect("just seen");
            self.emit(waiting)?;
        }
        Ok(())
    }

    /// Sends what is still open: at the end of the stream.
    pub(crate) fn finish(&mut self) -> std::io::Result<()> {
        self.flush_before(i64::MAX)
    }

    fn emit(&mut self, waiting: Vec<Waiting>) -> std::io::Result<()> {
        let Some(table) = self.table else {
            return Ok(());
        };
        if waiting.is_empty() {
            return Ok(());
        }
        let index = self.next_index;
        self.next_index += 1;
        if self.done.contains(&index) {
            self.skipped += waiting.len() as u64;
            return Ok(());
        }
        let due = waiting.iter().map(|w| w.due).max().unwrap_or(i64::MIN);
        (self.send)(Batch {
            index,
            table,
            due,
            items: waiting.into_iter().map(|w| w.item).collect(),
        })
    }

    fn push(&mut self, waiting: Waiting) -> std::io::Result<()> {
        let slot = self.slot(waiting.due);
        let open = self.open.entry(slot).or_default();
        open.push(waiting);
        if open.len() == MAX_BATCH {
            let full = self.open.remove(&slot).expect("just filled");
            self.emit(full)?;
        }
        Ok(())
    }
}

impl<F: FnMut(Batch) -> std::io::Result<()>> Sink for Batcher<'_, F> {
    fn record(&mut self, record: &StreamRecord, _catalog: &Catalog) -> std::io::Result<()> {
        if self.table != Some(record.table) {
            self.finish()?;
            self.table = Some(record.table);
        }
        let due = self.pace.due(record.time, record.delay);
        if let Pace::Live { .. } = self.pace {
            // Within a table the stream is in time order and a delay only
            // postpones (to after the record's time, which is later than its
            // time minus the lead), so no later record is due before this
            // one's time minus the lead: slots before that are complete.
            let complete = self.slot(self.pace.due(record.time, 0));
            self.flush_before(complete)?;
        }
        let origin = |i: usize| Origin {
            time: record.time,
            delay: record.delay,
            series: record.series,
            line: record
                .writers
                .get(i)
                .or(record.steps.first())
                .copied()
                .unwrap_or(0) as u32,
        };
        match self.layouts[record.table as usize] {
            Layout::Multi => self.push(Waiting {
                item: Item {
                    origin: origin(0),
                    measures: record.measures.clone(),
                },
                due,
            }),
            Layout::Single => {
                for (i, measure) in record.measures.iter().enumerate() {
                    self.push(Waiting {
                        item: Item {
                            origin: origin(i),
                            measures: vec![measure.clone()],
                        },
                        due,
                    })?;
                }
                Ok(())
            }
        }
    }
}

fn dimension(name: &str, value: &str) -> Dimension {
    Dimension::builder()
        .name(name)
        .value(value)
        .build()
        .expect("name and value are set")
}

/// A measure value as Timestream takes it: the text of the number or
/// boolean, as the JSON lines write it, or the string itself. Written
/// straight to a `String`, so there is no byte buffer to convert back.
fn value_text(value: &Value) -> String {
    match value {
        Value::Varchar(s) => s.to_string(),
        Value::Bigint(v) => v.to_string(),
        Value::Boolean(b) => b.to_string(),
        // Shortest round-trip, as `record::write_f64`; the stream holds no
        // NaN or infinities (the compiler refuses them), JSON's `null` else.
        Value::Double(v) if v.is_finite() => ryu::Buffer::new().format_finite(*v).to_string(),
        Value::Double(_) => "null".to_string(),
    }
}

fn value_type(ty: MeasureType) -> MeasureValueType {
    match ty {
        MeasureType::Double => MeasureValueType::Double,
        MeasureType::Bigint => MeasureValueType::Bigint,
        MeasureType::Boolean => MeasureValueType::Boolean,
        MeasureType::Varchar => MeasureValueType::Varchar,
    }
}

/// The coarsest unit that keeps the instant exact.
fn unit_of(nanos: i64) -> TimeUnit {
    if nanos % 1_000_000 == 0 {
        TimeUnit::Milliseconds
    } else if nanos % 1_000 == 0 {
        TimeUnit::Microseconds
    } else {
        TimeUnit::Nanoseconds
    }
}

/// The instant in [`unit_of`] units.
fn time_text(nanos: i64) -> String {
    match unit_of(nanos) {
        TimeUnit::Milliseconds => (nanos / 1_000_000).to_string(),
        TimeUnit::Microseconds => (nanos / 1_000).to_string(),
        _ => nanos.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_sent_as_the_json_lines_write_it() {
        for value in [
            Value::Double(0.1),
            Value::Double(-1e300),
            Value::Double(3.0),
            Value::Double(f64::NAN),
            Value::Bigint(i64::MIN),
            Value::Boolean(true),
            Value::Boolean(false),
        ] {
            let mut json = Vec::new();
            value.write_json(&mut json);
            assert_eq!(value_text(&value).as_bytes(), json, "{value:?}");
        }
        assert_eq!(value_text(&Value::Varchar("a \"b\"".into())), "a \"b\"");
    }
}
