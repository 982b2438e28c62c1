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
use crate::model::{Layout, MeasureType};

/// The WriteRecords limit.
pub const MAX_BATCH: usize = 100;

const SECOND: i64 = 1_000_000_000;

/// When records are sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pace {
    /// Everything now.
    Burst,
    /// Each record once its time (plus a `late` delay) is within `lead`
    /// nanoseconds of the wall clock.
    Live { lead: i64 },
}

impl Pace {
    /// When a record may be sent, in wall-clock ns (`i64::MIN`: at once).
    pub fn due(self, time: i64, delay: i64) -> i64 {
        match self {
            Pace::Burst => i64::MIN,
            Pace::Live { lead } => time.saturating_add(delay).saturating_sub(lead),
        }
    }

    pub fn words(self) -> String {
        match self {
            Pace::Burst => "burst".into(),
            Pace::Live { lead } => format!("live, lead {}s", lead / SECOND),
        }
    }
}

/// Where a record of a batch came from: for rejection reports.
#[derive(Clone, Copy, Debug)]
pub struct Origin {
    pub time: i64,
    pub series: u32,
    /// The line of the step that wrote it (the first, for a merged record).
    pub line: u32,
}

/// One WriteRecords request, ready to send.
#[derive(Debug)]
pub struct Batch {
    /// The batch's number in the apply: what the journal records.
    pub index: u64,
    pub table: u16,
    /// When it may be sent, wall-clock ns (`i64::MIN`: at once).
    pub due: i64,
    pub common: Record,
    pub records: Vec<Record>,
    pub origins: Vec<Origin>,
}

/// A record waiting for its batch, its dimensions not yet split into
/// shared and own.
struct Waiting {
    series: u32,
    time: i64,
    /// Multi layout: all measures; single: one.
    measures: Vec<(u16, Value)>,
    origin: Origin,
    due: i64,
}

/// A sink that cuts the stream into batches and hands them to `send`.
pub struct Batcher<'a, F: FnMut(Batch) -> std::io::Result<()>> {
    send: F,
    layouts: &'a [(Layout, String)],
    version: i64,
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
    pub fn new(
        send: F,
        layouts: &'a [(Layout, String)],
        version: i64,
        pace: Pace,
        cutoff: i64,
        done: &'a HashSet<u64>,
    ) -> Self {
        Batcher {
            send,
            layouts,
            version,
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
    fn flush_before(&mut self, before: i64, catalog: &Catalog) -> std::io::Result<()> {
        while let Some((&slot, _)) = self.open.first_key_value() {
            if slot >= before {
                break;
            }
            let waiting = self.open.remove(&slot).expect("just seen");
            self.emit(waiting, catalog)?;
        }
        Ok(())
    }

    /// Sends what is still open: at the end of the stream.
    pub fn finish(&mut self, catalog: &Catalog) -> std::io::Result<()> {
        self.flush_before(i64::MAX, catalog)
    }

    fn emit(&mut self, waiting: Vec<Waiting>, catalog: &Catalog) -> std::io::Result<()> {
        let Some(table_index) = self.table else {
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
        let table = &catalog.tables[table_index as usize];
        let (layout, measure_name) = &self.layouts[table_index as usize];
        // Dimensions every record shares go in CommonAttributes.
        let first = &table.series[waiting[0].series as usize].dims;
        let mut last_series = waiting[0].series;
        let mut shared: Vec<bool> = vec![true; first.len()];
        for w in &waiting {
            if w.series == last_series {
                continue;
            }
            last_series = w.series;
            let dims = &table.series[w.series as usize].dims;
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
        let mut common = Record::builder().version(self.version);
        for (name, value) in &shared {
            common = common.dimensions(dimension(name, value));
        }
        let mut records = Vec::with_capacity(waiting.len());
        let mut origins = Vec::with_capacity(waiting.len());
        let mut due = i64::MIN;
        for w in waiting {
            let dims = &table.series[w.series as usize].dims;
            let (time, unit) = time_of(w.time);
            let mut record = Record::builder().time(time).time_unit(unit);
            for d in dims.iter().filter(|d| !shared.contains(d)) {
                record = record.dimensions(dimension(&d.0, &d.1));
            }
            record = match layout {
                Layout::Multi => record
                    .measure_name(measure_name)
                    .measure_value_type(MeasureValueType::Multi)
                    .set_measure_values(Some(
                        w.measures
                            .iter()
                            .map(|(m, v)| {
                                let (name, ty) = &table.measures[*m as usize];
                                MeasureValue::builder()
                                    .name(name)
                                    .value(value_text(v))
                                    .r#type(value_type(*ty))
                                    .build()
                                    .expect("name, value and type are set")
                            })
                            .collect(),
                    )),
                Layout::Single => {
                    let (m, v) = &w.measures[0];
                    let (name, ty) = &table.measures[*m as usize];
                    record
                        .measure_name(name)
                        .measure_value(value_text(v))
                        .measure_value_type(value_type(*ty))
                }
            };
            records.push(record.build());
            origins.push(w.origin);
            due = due.max(w.due);
        }
        (self.send)(Batch {
            index,
            table: table_index,
            due,
            common: common.build(),
            records,
            origins,
        })
    }

    fn push(&mut self, waiting: Waiting, catalog: &Catalog) -> std::io::Result<()> {
        let slot = self.slot(waiting.due);
        let open = self.open.entry(slot).or_default();
        open.push(waiting);
        if open.len() == MAX_BATCH {
            let full = self.open.remove(&slot).expect("just filled");
            self.emit(full, catalog)?;
        }
        Ok(())
    }
}

impl<F: FnMut(Batch) -> std::io::Result<()>> Sink for Batcher<'_, F> {
    fn record(&mut self, record: &StreamRecord, catalog: &Catalog) -> std::io::Result<()> {
        if self.table != Some(record.table) {
            self.finish(catalog)?;
            self.table = Some(record.table);
        }
        let due = self.pace.due(record.time, record.delay);
        if let Pace::Live { .. } = self.pace {
            // Within a table the stream is in time order and a delay only
            // postpones, so no later record is due before this one's time
            // minus the lead: slots before that are complete.
            let complete = self.slot(self.pace.due(record.time, 0));
            self.flush_before(complete, catalog)?;
        }
        let line = |i: usize| {
            record
                .writers
                .get(i)
                .or(record.steps.first())
                .copied()
                .unwrap_or(0) as u32
        };
        match self.layouts[record.table as usize].0 {
            Layout::Multi => self.push(
                Waiting {
                    series: record.series,
                    time: record.time,
                    measures: record.measures.clone(),
                    origin: Origin {
                        time: record.time,
                        series: record.series,
                        line: line(0),
                    },
                    due,
                },
                catalog,
            ),
            Layout::Single => {
                for (i, measure) in record.measures.iter().enumerate() {
                    self.push(
                        Waiting {
                            series: record.series,
                            time: record.time,
                            measures: vec![measure.clone()],
                            origin: Origin {
                                time: record.time,
                                series: record.series,
                                line: line(i),
                            },
                            due,
                        },
                        catalog,
                    )?;
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

fn value_text(value: &Value) -> String {
    let mut out = Vec::new();
    match value {
        Value::Varchar(s) => return s.to_string(),
        other => other.write_json(&mut out),
    }
    String::from_utf8_lossy(&out).into_owned()
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
fn time_of(nanos: i64) -> (String, TimeUnit) {
    if nanos % 1_000_000 == 0 {
        ((nanos / 1_000_000).to_string(), TimeUnit::Milliseconds)
    } else if nanos % 1_000 == 0 {
        ((nanos / 1_000).to_string(), TimeUnit::Microseconds)
    } else {
        (nanos.to_string(), TimeUnit::Nanoseconds)
    }
}
