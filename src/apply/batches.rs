//! Cutting the record stream into batches, one table each, for any
//! target.
//!
//! A batch holds at most the target's number of records and, when it caps
//! bytes, at most that many bytes by its estimate. Under live pacing a
//! batch also holds only records due within the same second, so nothing is
//! sent before its time comes; records already due when the apply began are
//! cut into full batches. The cut depends only on the stream, the pacing,
//! that instant (which the journal keeps) and the target's limits, so batch
//! numbers are stable across a resume.

use std::collections::{BTreeMap, HashSet};

use crate::model::Layout;
use crate::record::{Catalog, Record as StreamRecord, Sink};
use crate::targets::{Batch, BatchLimits, Item, Origin, TableSpec};

const SECOND: i64 = 1_000_000_000;

/// `--lead` at most: Timestream's limit on records ahead of its clock.
pub(crate) const MAX_LEAD: i64 = 15 * 60 * SECOND;

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

/// A record waiting for its batch.
struct Waiting {
    item: Item,
    due: i64,
}

/// The records of one open batch, and their bytes by the target's
/// estimate.
#[derive(Default)]
struct Open {
    waiting: Vec<Waiting>,
    bytes: usize,
}

/// How the stream is cut: the target's limits and its size estimate of a
/// record (asked only when the limits cap bytes).
#[derive(Clone, Copy)]
pub(crate) struct Cut<'a> {
    pub limits: BatchLimits,
    pub size: &'a (dyn Fn(u16, &Item) -> usize + Sync),
    pub pace: Pace,
    /// Live pacing: records due before this go out at once, in full batches.
    pub cutoff: i64,
}

/// A sink that cuts the stream into batches and hands them to `send`.
pub(crate) struct Batcher<'a, F: FnMut(Batch) -> std::io::Result<()>> {
    send: F,
    tables: &'a [TableSpec],
    cut: Cut<'a>,
    /// Batches a resumed apply has already written: not sent again.
    done: &'a HashSet<u64>,
    /// Open batches of the current table by slot (the second they are due;
    /// `i64::MIN` for at once).
    open: BTreeMap<i64, Open>,
    table: Option<u16>,
    next_index: u64,
    /// Records (as the target counts them) in batches skipped as done.
    pub skipped: u64,
}

impl<'a, F: FnMut(Batch) -> std::io::Result<()>> Batcher<'a, F> {
    pub(crate) fn new(
        send: F,
        tables: &'a [TableSpec],
        cut: Cut<'a>,
        done: &'a HashSet<u64>,
    ) -> Self {
        Batcher {
            send,
            tables,
            cut,
            done,
            open: BTreeMap::new(),
            table: None,
            next_index: 0,
            skipped: 0,
        }
    }

    fn slot(&self, due: i64) -> i64 {
        if due <= self.cut.cutoff {
            i64::MIN
        } else {
            due.div_euclid(SECOND)
        }
    }

    /// Sends every open batch whose slot is before `before`.
    fn flush_before(&mut self, before: i64) -> std::io::Result<()> {
        while let Some(entry) = self.open.first_entry() {
            if *entry.key() >= before {
                break;
            }
            let open = entry.remove();
            self.emit(open.waiting)?;
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

    fn push(&mut self, table: u16, waiting: Waiting) -> std::io::Result<()> {
        let slot = self.slot(waiting.due);
        let limits = self.cut.limits;
        let bytes = match limits.max_bytes {
            Some(_) => (self.cut.size)(table, &waiting.item),
            None => 0,
        };
        // A record that would take the open batch over the byte cap starts
        // the next one; a record over the cap on its own goes alone.
        if let Some(max) = limits.max_bytes
            && let Some(open) = self.open.get(&slot)
            && !open.waiting.is_empty()
            && open.bytes.saturating_add(bytes) > max
            && let Some(full) = self.open.remove(&slot)
        {
            self.emit(full.waiting)?;
        }
        let open = self.open.entry(slot).or_default();
        open.waiting.push(waiting);
        open.bytes = open.bytes.saturating_add(bytes);
        if open.waiting.len() >= limits.max_records.max(1)
            && let Some(full) = self.open.remove(&slot)
        {
            self.emit(full.waiting)?;
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
        let pace = self.cut.pace;
        let due = pace.due(record.time, record.delay);
        if let Pace::Live { .. } = pace {
            // Within a table the stream is in time order and a delay only
            // postpones (to after the record's time, which is later than its
            // time minus the lead), so no later record is due before this
            // one's time minus the lead: slots before that are complete.
            let complete = self.slot(pace.due(record.time, 0));
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
        let table = record.table;
        match self.tables[table as usize].layout {
            Layout::Multi => self.push(
                table,
                Waiting {
                    item: Item {
                        origin: origin(0),
                        measures: record.measures.clone(),
                    },
                    due,
                },
            ),
            Layout::Single => {
                for (i, measure) in record.measures.iter().enumerate() {
                    self.push(
                        table,
                        Waiting {
                            item: Item {
                                origin: origin(i),
                                measures: vec![measure.clone()],
                            },
                            due,
                        },
                    )?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Value;

    fn record(time: i64, series: u32, measures: u16) -> StreamRecord {
        StreamRecord {
            table: 0,
            time,
            relative: true,
            series,
            measures: (0..measures).map(|m| (m, Value::Bigint(1))).collect(),
            steps: vec![7],
            writers: Vec::new(),
            delay: 0,
        }
    }

    /// The batches `records` are cut into, as (index, the records' series),
    /// when batch 1 was journaled; and the records skipped with it.
    fn cut(
        limits: BatchLimits,
        layout: Layout,
        records: &[StreamRecord],
    ) -> (Vec<(u64, Vec<u32>)>, u64) {
        let tables = [TableSpec {
            name: "t".into(),
            layout,
            measure_name: "m".into(),
        }];
        // A record's size: 4 bytes a measure.
        let size = |_: u16, item: &Item| 4 * item.measures.len();
        let done = HashSet::from([1]);
        let mut batches = Vec::new();
        let mut batcher = Batcher::new(
            |batch: Batch| {
                batches.push((
                    batch.index,
                    batch.items.iter().map(|i| i.origin.series).collect(),
                ));
                Ok(())
            },
            &tables,
            Cut {
                limits,
                size: &size,
                pace: Pace::Burst,
                cutoff: 0,
            },
            &done,
        );
        let catalog = Catalog { tables: Vec::new() };
        for r in records {
            batcher.record(r, &catalog).unwrap();
        }
        batcher.finish().unwrap();
        let skipped = batcher.skipped;
        (batches, skipped)
    }

    #[test]
    fn batches_are_cut_by_records_and_by_bytes_with_stable_numbers() {
        let records: Vec<StreamRecord> = (0..7).map(|s| record(s as i64, s, 2)).collect();
        // Three records a batch; batch 1 is journaled, so skipped.
        let by_records = BatchLimits {
            max_records: 3,
            max_bytes: None,
        };
        assert_eq!(
            cut(by_records, Layout::Multi, &records),
            (vec![(0, vec![0, 1, 2]), (2, vec![6])], 3)
        );
        // 8 bytes a record, at most 20 a batch: two records each.
        let by_bytes = BatchLimits {
            max_records: 100,
            max_bytes: Some(20),
        };
        assert_eq!(
            cut(by_bytes, Layout::Multi, &records),
            (vec![(0, vec![0, 1]), (2, vec![4, 5]), (3, vec![6])], 2)
        );
        // A record over the cap on its own goes alone; `layout single`
        // makes one record a measure (4 bytes: five a batch).
        let big = [record(0, 0, 1), record(1, 1, 9), record(2, 2, 1)];
        assert_eq!(
            cut(by_bytes, Layout::Multi, &big),
            (vec![(0, vec![0]), (2, vec![2])], 1)
        );
        assert_eq!(
            cut(by_bytes, Layout::Single, &records[..3]),
            (vec![(0, vec![0, 0, 1, 1, 2])], 1)
        );
    }
}
