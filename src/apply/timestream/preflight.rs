//! The preflight: a pass over the records before the first write that
//! counts what each table gets and finds records the table would reject:
//! older than the memory store keeps (without magnetic-store writes, or
//! older than the magnetic store keeps) or more than 15 minutes in the
//! future when they are written.

use std::collections::BTreeMap;

use super::batches::Pace;
use super::client::{TableState, Window};
use crate::compile::stream::{Catalog, Record, Sink};
use crate::model::Layout;

/// Timestream rejects records more than this far ahead of its clock.
pub const FUTURE_LIMIT: i64 = 15 * 60 * 1_000_000_000;
const HOUR: i64 = 3_600 * 1_000_000_000;

/// Why a record would be rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fault {
    /// Older than the memory store keeps, and magnetic writes are off.
    OlderThanMemory,
    /// Older than the magnetic store keeps.
    OlderThanMagnetic,
    /// More than 15 minutes ahead of the wall clock when written.
    InTheFuture,
}

/// The records of one (table, step, fault).
#[derive(Clone, Copy, Debug)]
pub struct Range {
    pub count: u64,
    pub first: i64,
    pub last: i64,
}

/// What a table gets.
#[derive(Clone, Copy, Debug, Default)]
pub struct TableCount {
    /// As Timestream counts them (a single-layout record per measure).
    pub records: u64,
    pub first: Option<i64>,
    pub last: Option<i64>,
}

pub struct Scan<'a> {
    layouts: &'a [(Layout, String)],
    /// Per table; `None` when the target could not be asked (dry run).
    windows: &'a [Option<TableState>],
    pace: Pace,
    /// The wall clock at the start of the apply, ns.
    now: i64,
    pub tables: Vec<TableCount>,
    /// By (table, step line, fault).
    pub faults: BTreeMap<(u16, usize, Fault), Range>,
}

impl<'a> Scan<'a> {
    pub fn new(
        catalog: &Catalog,
        layouts: &'a [(Layout, String)],
        windows: &'a [Option<TableState>],
        pace: Pace,
        now: i64,
    ) -> Scan<'a> {
        Scan {
            layouts,
            windows,
            pace,
            now,
            tables: vec![TableCount::default(); catalog.tables.len()],
            faults: BTreeMap::new(),
        }
    }

    fn fault(&self, window: Window, time: i64, delay: i64) -> Option<Fault> {
        // Burst writes now; live pacing when the record is due (or now, for
        // what is already due).
        let written = self.now.max(self.pace.due(time, delay));
        if time > written.saturating_add(FUTURE_LIMIT) {
            return Some(Fault::InTheFuture);
        }
        let age = written.saturating_sub(time);
        if age <= window.memory_hours.saturating_mul(HOUR) {
            None
        } else if !window.magnetic_writes {
            Some(Fault::OlderThanMemory)
        } else if age > window.magnetic_days.saturating_mul(24 * HOUR) {
            Some(Fault::OlderThanMagnetic)
        } else {
            None
        }
    }
}

impl Sink for Scan<'_> {
    fn record(&mut self, record: &Record, _catalog: &Catalog) -> std::io::Result<()> {
        let table = record.table as usize;
        let count = match self.layouts[table].0 {
            Layout::Multi => 1,
            Layout::Single => record.measures.len() as u64,
        };
        let t = &mut self.tables[table];
        t.records += count;
        t.first = Some(t.first.map_or(record.time, |f| f.min(record.time)));
        t.last = Some(t.last.map_or(record.time, |l| l.max(record.time)));
        if let Some(Some(TableState::Present(window))) = self.windows.get(table)
            && let Some(fault) = self.fault(*window, record.time, record.delay)
        {
            let line = record.steps.first().copied().unwrap_or(0);
            let range = self
                .faults
                .entry((record.table, line, fault))
                .or_insert(Range {
                    count: 0,
                    first: record.time,
                    last: record.time,
                });
            range.count += count;
            range.first = range.first.min(record.time);
            range.last = range.last.max(record.time);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: i64 = 60 * 1_000_000_000;

    fn scan(pace: Pace) -> Scan<'static> {
        Scan {
            layouts: &[],
            windows: &[],
            pace,
            now: 1_000 * HOUR,
            tables: Vec::new(),
            faults: BTreeMap::new(),
        }
    }

    #[test]
    fn faults_follow_the_documented_windows() {
        let memory_only = Window {
            memory_hours: 24,
            magnetic_days: 10,
            magnetic_writes: false,
        };
        let magnetic = Window {
            magnetic_writes: true,
            ..memory_only
        };
        let burst = scan(Pace::Burst);
        let now = burst.now;
        assert_eq!(burst.fault(memory_only, now - 24 * HOUR, 0), None);
        assert_eq!(
            burst.fault(memory_only, now - 24 * HOUR - 1, 0),
            Some(Fault::OlderThanMemory)
        );
        assert_eq!(burst.fault(magnetic, now - 24 * HOUR - 1, 0), None);
        assert_eq!(
            burst.fault(magnetic, now - 240 * HOUR - 1, 0),
            Some(Fault::OlderThanMagnetic)
        );
        assert_eq!(burst.fault(memory_only, now + 15 * MINUTE, 0), None);
        assert_eq!(
            burst.fault(memory_only, now + 15 * MINUTE + 1, 0),
            Some(Fault::InTheFuture)
        );
        // Live pacing writes future records when they are due: never too
        // early. A late record is as old as its delay when written.
        let live = scan(Pace::Live { lead: 10 * MINUTE });
        assert_eq!(live.fault(memory_only, now + 48 * HOUR, 0), None);
        assert_eq!(live.fault(memory_only, now + HOUR, 23 * HOUR), None);
        assert_eq!(
            live.fault(memory_only, now + HOUR, 25 * HOUR),
            Some(Fault::OlderThanMemory)
        );
    }
}
