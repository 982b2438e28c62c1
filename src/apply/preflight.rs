//! The preflight: a pass over the batches before the first write that
//! counts what each table gets and finds records the table would reject
//! for their time, by the window the target gave each table: older than it
//! keeps, or further ahead of the clock than it takes, when written; and
//! records the target cannot take whatever their time
//! ([`crate::targets::Backend::refusal`]). Before that pass, [`untagged`]
//! finds the existing tables outatime did not create.

use std::collections::{BTreeMap, HashSet};

use super::batches::Pace;
use crate::targets::{Batch, Item, Origin, Owner, Refusal, TableState, Window};

/// How many records the target cannot take are kept, to name them; the
/// others are counted.
const KEPT_REFUSALS: usize = 10;

/// Bytes of the batches' digest gathered before blake3 hashes them.
const DIGEST_BUFFER: usize = 1 << 16;

/// The tables (by `qualified`, their `database.table`) that exist without
/// outatime's tag: production stays clean, so the apply writes into none of
/// them unless the target says `allow_untagged_tables: true`. A table not
/// described (a dry run that could not reach the target) is not judged.
pub(crate) fn untagged(
    states: &[Option<TableState>],
    qualified: &[String],
    allow_untagged_tables: bool,
) -> Vec<String> {
    if allow_untagged_tables {
        return Vec::new();
    }
    states
        .iter()
        .zip(qualified)
        .filter(|(state, _)| matches!(state, Some(TableState::Present(_, Owner::Other, _))))
        .map(|(_, name)| name.clone())
        .collect()
}

/// A record the target cannot take whatever its time.
#[derive(Clone, Debug)]
pub(crate) struct Unwritable {
    pub table: u16,
    pub origin: Origin,
    pub refusal: Refusal,
}

/// Why a record would be rejected; the target words each for its table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Fault {
    /// Older than the table keeps when written.
    TooOld,
    /// Further ahead of the wall clock than the table takes when written.
    TooNew,
}

/// The records of one (table, step, fault).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Range {
    pub count: u64,
    pub first: i64,
    pub last: i64,
}

/// What a table gets.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct TableCount {
    /// As Timestream counts them (a single-layout record per measure).
    pub records: u64,
    /// WriteRecords requests.
    pub batches: u64,
    pub first: Option<i64>,
    pub last: Option<i64>,
}

/// Looks at every batch the apply will cut, before anything is sent.
pub(crate) struct Scan<'a> {
    /// Per table; `None` when the target could not be asked (dry run).
    windows: &'a [Option<TableState>],
    pace: Pace,
    /// The wall clock at the start of the apply, ns.
    now: i64,
    /// Batches a resumed apply wrote before: in the digest, not checked.
    done: &'a HashSet<u64>,
    digest: blake3::Hasher,
    /// What the digest has not hashed yet: blake3 hashes 64 KiB at a time
    /// many times faster than 8 bytes at a time, to the same digest.
    digest_buffer: Vec<u8>,
    /// What is left to write, by table.
    pub tables: Vec<TableCount>,
    /// By (table, step line, fault).
    pub faults: BTreeMap<(u16, usize, Fault), Range>,
    /// The first records the target cannot take, in stream order.
    pub unwritable: Vec<Unwritable>,
    /// How many records the target cannot take, those kept included.
    pub unwritable_count: u64,
}

impl<'a> Scan<'a> {
    pub(crate) fn new(
        tables: usize,
        windows: &'a [Option<TableState>],
        pace: Pace,
        now: i64,
        done: &'a HashSet<u64>,
    ) -> Scan<'a> {
        Scan {
            windows,
            pace,
            now,
            done,
            digest: blake3::Hasher::new(),
            digest_buffer: Vec::with_capacity(DIGEST_BUFFER + 4096),
            tables: vec![TableCount::default(); tables],
            faults: BTreeMap::new(),
            unwritable: Vec::new(),
            unwritable_count: 0,
        }
    }

    fn fault(&self, window: &Window, time: i64, delay: i64) -> Option<Fault> {
        // Burst writes now; live pacing when the record is due (or now, for
        // what is already due).
        let written = self.now.max(self.pace.due(time, delay));
        if window
            .max_ahead
            .is_some_and(|ahead| time > written.saturating_add(ahead))
        {
            return Some(Fault::TooNew);
        }
        let age = written.saturating_sub(time);
        window
            .max_age
            .filter(|max| age > *max)
            .map(|_| Fault::TooOld)
    }

    /// Takes one batch: into the digest, and unless it is done, into the
    /// counts and the checks; `refusal` says what the target cannot take.
    pub(crate) fn batch(&mut self, batch: &Batch, refusal: &dyn Fn(u16, &Item) -> Option<Refusal>) {
        let buffer = &mut self.digest_buffer;
        buffer.extend_from_slice(&batch.index.to_le_bytes());
        buffer.extend_from_slice(&batch.table.to_le_bytes());
        buffer.extend_from_slice(&batch.due.to_le_bytes());
        for item in &batch.items {
            let o = item.origin;
            buffer.extend_from_slice(&o.time.to_le_bytes());
            buffer.extend_from_slice(&o.delay.to_le_bytes());
            buffer.extend_from_slice(&o.series.to_le_bytes());
            for (m, _) in &item.measures {
                buffer.extend_from_slice(&m.to_le_bytes());
            }
            if buffer.len() >= DIGEST_BUFFER {
                self.digest.update(buffer);
                buffer.clear();
            }
        }
        if self.done.contains(&batch.index) {
            return;
        }
        let t = &mut self.tables[batch.table as usize];
        t.records += batch.items.len() as u64;
        t.batches += 1;
        for item in &batch.items {
            let time = item.origin.time;
            t.first = Some(t.first.map_or(time, |f| f.min(time)));
            t.last = Some(t.last.map_or(time, |l| l.max(time)));
        }
        for item in &batch.items {
            if let Some(refusal) = refusal(batch.table, item) {
                self.unwritable_count += 1;
                if self.unwritable.len() < KEPT_REFUSALS {
                    self.unwritable.push(Unwritable {
                        table: batch.table,
                        origin: item.origin,
                        refusal,
                    });
                }
            }
        }
        let Some(Some(TableState::Present(window, _, _))) = self.windows.get(batch.table as usize)
        else {
            return;
        };
        for item in &batch.items {
            let o = item.origin;
            if let Some(fault) = self.fault(window, o.time, o.delay) {
                let range = self
                    .faults
                    .entry((batch.table, o.line as usize, fault))
                    .or_insert(Range {
                        count: 0,
                        first: o.time,
                        last: o.time,
                    });
                range.count += 1;
                range.first = range.first.min(o.time);
                range.last = range.last.max(o.time);
            }
        }
    }

    /// Which batches these are: every batch's number, table, due time and
    /// records (time, delay, series, measures), done ones included. A
    /// resume must cut the same.
    pub(crate) fn batches_digest(&self) -> String {
        let mut digest = self.digest.clone();
        digest.update(&self.digest_buffer);
        format!("blake3:{}", digest.finalize().to_hex())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::targets::Words;

    const MINUTE: i64 = 60 * 1_000_000_000;
    const HOUR: i64 = 60 * MINUTE;

    fn scan(pace: Pace) -> Scan<'static> {
        static NONE: std::sync::LazyLock<HashSet<u64>> = std::sync::LazyLock::new(HashSet::new);
        Scan::new(0, &[], pace, 1_000 * HOUR, &NONE)
    }

    fn window(max_age: Option<i64>, max_ahead: Option<i64>) -> Window {
        let words = || Words {
            why: String::new(),
            fix: String::new(),
        };
        Window {
            max_age,
            max_ahead,
            retention: String::new(),
            too_old: words(),
            too_new: words(),
        }
    }

    #[test]
    fn faults_follow_the_tables_window() {
        let day = window(Some(24 * HOUR), Some(15 * MINUTE));
        let unlimited = window(None, None);
        let burst = scan(Pace::Burst);
        let now = burst.now;
        assert_eq!(burst.fault(&day, now - 24 * HOUR, 0), None);
        assert_eq!(
            burst.fault(&day, now - 24 * HOUR - 1, 0),
            Some(Fault::TooOld)
        );
        assert_eq!(burst.fault(&unlimited, now - 10_000 * HOUR, 0), None);
        assert_eq!(burst.fault(&day, now + 15 * MINUTE, 0), None);
        assert_eq!(
            burst.fault(&day, now + 15 * MINUTE + 1, 0),
            Some(Fault::TooNew)
        );
        assert_eq!(burst.fault(&unlimited, now + 10_000 * HOUR, 0), None);
        // Live pacing writes future records when they are due: never too
        // early. A late record is as old as its delay when written.
        let live = scan(Pace::Live { lead: 10 * MINUTE });
        assert_eq!(live.fault(&day, now + 48 * HOUR, 0), None);
        assert_eq!(live.fault(&day, now + HOUR, 24 * HOUR), None);
        assert_eq!(
            live.fault(&day, now + HOUR, 24 * HOUR + 1),
            Some(Fault::TooOld)
        );
        // A late record already past its delay is written now.
        assert_eq!(
            live.fault(&day, now - 25 * HOUR, MINUTE),
            Some(Fault::TooOld)
        );
    }
}
