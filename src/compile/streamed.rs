//! A replay read back from its spilled rows (`spill`) while the stream runs:
//! each row placed, and the rows of one output instant ordered by series
//! rank, then file order, as the in-memory path's sort orders them.
//!
//! Spilled rows come in (source time, file order), and placing is
//! non-decreasing in source time, so the rows of one output instant are
//! consecutive: the cursor holds one instant's rows at a time (about one a
//! series), never the replay.

use std::io;

use super::placement::Placement;
use super::record::Value;
use super::spill::{RowReader, SortedRows};

/// A replay prepared to be read back from disk.
pub(crate) struct StreamedStep {
    pub table: u16,
    pub line: usize,
    pub relative: bool,
    pub rows: SortedRows,
    pub placement: Placement,
    /// Local series → the table's rank.
    pub ranks: Vec<u32>,
    /// Local measure → the table's measure id.
    pub measures: Vec<u16>,
}

/// A placed row: (τ, rank, seq).
type Placed = (i64, u32, u64);

pub(crate) struct StreamedCursor<'a> {
    pub step: &'a StreamedStep,
    reader: RowReader,
    /// The current instant's rows, (rank, seq, start, count) in `values`,
    /// sorted by (rank, seq).
    group: Vec<(u32, u64, u32, u16)>,
    /// The group's values, then those of the row read ahead (from
    /// `ahead_start`): rows are decoded straight into it.
    values: Vec<(u16, Value)>,
    tau: i64,
    i: usize,
    /// The first row of the next instant, read ahead.
    ahead: Option<Placed>,
    ahead_start: usize,
}

impl<'a> StreamedCursor<'a> {
    pub(crate) fn open(step: &'a StreamedStep) -> io::Result<StreamedCursor<'a>> {
        let mut cursor = StreamedCursor {
            step,
            reader: step.rows.reader()?,
            group: Vec::new(),
            values: Vec::new(),
            tau: 0,
            i: 0,
            ahead: None,
            ahead_start: 0,
        };
        cursor.ahead = cursor.read()?;
        cursor.fill()?;
        Ok(cursor)
    }

    /// The current record's (τ, rank).
    pub(crate) fn key(&self) -> Option<(i64, u32)> {
        self.group.get(self.i).map(|g| (self.tau, g.0))
    }

    /// The current record's values, sorted by measure id.
    pub(crate) fn current(&self) -> &[(u16, Value)] {
        let (_, _, start, count) = self.group[self.i];
        &self.values[start as usize..start as usize + count as usize]
    }

    /// Moves to the next record, reading the next instant's rows when this
    /// one's are taken.
    pub(crate) fn advance(&mut self) -> io::Result<()> {
        self.i += 1;
        if self.i == self.group.len() {
            self.fill()?;
        }
        Ok(())
    }

    /// Reads the next row, its values appended to `values`, numbered for
    /// the table and sorted by measure id; placed.
    fn read(&mut self) -> io::Result<Option<Placed>> {
        let start = self.values.len();
        let Some(head) = self.reader.next(&mut self.values)? else {
            return Ok(None);
        };
        let tau = self.step.placement.place(head.time).ok_or_else(|| {
            // `prepare_streamed` placed the first and last rows.
            io::Error::new(io::ErrorKind::InvalidData, "a spilled row's time left i64")
        })?;
        let run = &mut self.values[start..];
        for (m, _) in run.iter_mut() {
            *m = self.step.measures[*m as usize];
        }
        if run.len() > 1 {
            run.sort_by_key(|(m, _)| *m);
        }
        Ok(Some((tau, self.step.ranks[head.series as usize], head.seq)))
    }

    /// Moves to the next instant: its rows, sorted.
    fn fill(&mut self) -> io::Result<()> {
        // Only the row read ahead stays.
        self.values.drain(..self.ahead_start);
        self.group.clear();
        self.i = 0;
        let Some((tau, rank, seq)) = self.ahead.take() else {
            self.values.clear();
            return Ok(());
        };
        self.tau = tau;
        self.group.push((rank, seq, 0, self.values.len() as u16));
        loop {
            let start = self.values.len();
            match self.read()? {
                Some((t, rank, seq)) if t == tau => {
                    let count = (self.values.len() - start) as u16;
                    self.group.push((rank, seq, start as u32, count));
                }
                next => {
                    self.ahead = next;
                    self.ahead_start = start;
                    break;
                }
            }
        }
        if !self.group.is_sorted_by_key(|g| (g.0, g.1)) {
            self.group.sort_unstable_by_key(|g| (g.0, g.1));
        }
        Ok(())
    }
}

/// Whether a placed row inside `[start, end)` is of a series `series`
/// holds and carries `measure` (any, for `None`): for the warning of an
/// anomaly that touches nothing.
pub(super) fn touches(
    step: &StreamedStep,
    start: i64,
    end: Option<i64>,
    series: &[bool],
    measure: Option<u16>,
) -> io::Result<bool> {
    let mut reader = step.rows.reader()?;
    let mut values = Vec::new();
    while let Some(head) = reader.next(&mut values)? {
        let tau = step.placement.place(head.time).unwrap_or(i64::MAX);
        if end.is_some_and(|end| tau >= end) {
            break;
        }
        let rank = step.ranks[head.series as usize] as usize;
        if tau >= start
            && series.get(rank).copied().unwrap_or(false)
            && measure.is_none_or(|m| {
                values
                    .iter()
                    .any(|(id, _)| step.measures[*id as usize] == m)
            })
        {
            return Ok(true);
        }
        values.clear();
    }
    Ok(false)
}
