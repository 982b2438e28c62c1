//! A replay read back from its spilled rows (`spill`) while the stream runs:
//! each row placed, and the rows of one output instant ordered by series
//! rank, then file order, as the in-memory path's sort orders them.
//!
//! Spilled rows come in (source time, file order), and placing is
//! non-decreasing in source time, so the rows of one output instant are
//! consecutive. A reading thread groups them a few thousand rows ahead of
//! the merge; memory holds those batches, never the replay.
//!
//! ```text
//! run file ─▶ Grouping (own thread): decode, place, number, group, sort
//!   ─▶ Batch of whole instants (≤ 3 in flight, reused) ─▶ StreamedCursor ─▶ stream::run
//! ```

use std::io;
use std::sync::mpsc;

use super::placement::Placement;
use super::spill::{RowReader, SortedRows};
use crate::record::Value;

/// A replay prepared to be read back from disk.
pub(crate) struct StreamedStep {
    pub table: u16,
    pub line: usize,
    pub relative: bool,
    /// The first and last row's τ, placed: they bound every other row's.
    pub span: (i64, i64),
    pub rows: SortedRows,
    pub placement: Placement,
    /// Local series → the table's rank.
    pub ranks: Vec<u32>,
    /// Local measure → the table's measure id.
    pub measures: Vec<u16>,
}

/// A placed row: (τ, rank, seq).
type Placed = (i64, u32, u64);

/// Rows a batch holds, about, when it is handed over: whole instants.
const BATCH_ROWS: usize = 4096;
/// Full batches that may wait for the stream.
const IN_FLIGHT: usize = 2;

/// Rows of consecutive output instants, each instant's sorted by (rank,
/// seq): what the reading thread hands the stream.
#[derive(Default)]
struct Batch {
    /// (τ, end of the instant's rows in `items`).
    groups: Vec<(i64, usize)>,
    /// (rank, seq, start, count) in `values`.
    items: Vec<(u32, u64, u32, u16)>,
    values: Vec<(u16, Value)>,
}

/// A spilled replay read back as batches of placed, grouped rows, on a
/// thread of its own (`Grouping`), while the stream merges: decoding the
/// rows then takes no time from the merge.
pub(crate) struct StreamedCursor<'a> {
    pub step: &'a StreamedStep,
    batch: Batch,
    /// The current instant (in `batch.groups`) and row (in `batch.items`).
    g: usize,
    i: usize,
    full: Option<mpsc::Receiver<io::Result<Batch>>>,
    empty: mpsc::Sender<Batch>,
    reading: Option<std::thread::JoinHandle<()>>,
}

impl<'a> StreamedCursor<'a> {
    pub(crate) fn open(step: &'a StreamedStep) -> io::Result<StreamedCursor<'a>> {
        let mut grouping = Grouping {
            reader: step.rows.reader()?,
            placement: step.placement.clone(),
            ranks: step.ranks.clone(),
            measures: step.measures.clone(),
            ahead: None,
            carry: Vec::new(),
        };
        let (full_tx, full_rx) = mpsc::sync_channel(IN_FLIGHT);
        let (empty_tx, empty_rx) = mpsc::channel::<Batch>();
        let reading = std::thread::Builder::new()
            .name("outatime-spill-read".into())
            .spawn(move || {
                if let Err(error) = grouping.start() {
                    let _ = full_tx.send(Err(error));
                    return;
                }
                loop {
                    let mut batch = empty_rx.try_recv().unwrap_or_default();
                    let filled = grouping.fill(&mut batch);
                    let done = matches!(&filled, Ok(()) if batch.groups.is_empty());
                    // Refused only when the stream stopped reading.
                    if done || full_tx.send(filled.map(|()| batch)).is_err() {
                        return;
                    }
                }
            })?;
        let mut cursor = StreamedCursor {
            step,
            batch: Batch::default(),
            g: 0,
            i: 0,
            full: Some(full_rx),
            empty: empty_tx,
            reading: Some(reading),
        };
        cursor.next_batch()?;
        Ok(cursor)
    }

    /// The current record's (τ, rank).
    pub(crate) fn key(&self) -> Option<(i64, u32)> {
        let (tau, _) = self.batch.groups.get(self.g)?;
        Some((*tau, self.batch.items[self.i].0))
    }

    /// The current record's values, sorted by measure id.
    pub(crate) fn current(&self) -> &[(u16, Value)] {
        let (_, _, start, count) = self.batch.items[self.i];
        &self.batch.values[start as usize..start as usize + count as usize]
    }

    /// Moves to the next record, taking the next batch when this one's are
    /// taken.
    pub(crate) fn advance(&mut self) -> io::Result<()> {
        self.i += 1;
        if self.i == self.batch.groups[self.g].1 {
            self.g += 1;
            if self.g == self.batch.groups.len() {
                self.next_batch()?;
            }
        }
        Ok(())
    }

    /// The next batch; an empty one once the rows are all read. A panic of
    /// the reading thread is carried on here.
    fn next_batch(&mut self) -> io::Result<()> {
        let used = std::mem::take(&mut self.batch);
        let _ = self.empty.send(used);
        (self.g, self.i) = (0, 0);
        let received = match &self.full {
            Some(full) => full.recv(),
            None => return Ok(()),
        };
        match received {
            Ok(batch) => self.batch = batch?,
            Err(mpsc::RecvError) => {
                self.full = None;
                if let Some(reading) = self.reading.take()
                    && let Err(panic) = reading.join()
                {
                    std::panic::resume_unwind(panic);
                }
            }
        }
        Ok(())
    }
}

impl Drop for StreamedCursor<'_> {
    /// Stops the reading thread (its next hand-over is refused) and waits
    /// for it, so that the spill folder goes with the last reader.
    fn drop(&mut self) {
        self.full = None;
        if let Some(reading) = self.reading.take() {
            let _ = reading.join();
        }
    }
}

/// The reading thread's side: rows decoded, placed, numbered for the table
/// and grouped by output instant.
struct Grouping {
    reader: RowReader,
    placement: Placement,
    ranks: Vec<u32>,
    measures: Vec<u16>,
    /// The first row of the next instant, read ahead; its values are the
    /// last of the batch being filled, or in `carry` between batches.
    ahead: Option<Placed>,
    carry: Vec<(u16, Value)>,
}

impl Grouping {
    /// Reads the first row.
    fn start(&mut self) -> io::Result<()> {
        let mut values = std::mem::take(&mut self.carry);
        self.ahead = self.read(&mut values)?;
        self.carry = values;
        Ok(())
    }

    /// Fills `batch` with whole instants, about `BATCH_ROWS` rows; none
    /// once the rows are all read.
    fn fill(&mut self, batch: &mut Batch) -> io::Result<()> {
        batch.groups.clear();
        batch.items.clear();
        batch.values.clear();
        batch.values.append(&mut self.carry);
        let mut ahead_start = 0;
        while let Some((tau, rank, seq)) = self.ahead.take() {
            let first = batch.items.len();
            let count = (batch.values.len() - ahead_start) as u16;
            batch.items.push((rank, seq, ahead_start as u32, count));
            loop {
                let start = batch.values.len();
                match self.read(&mut batch.values)? {
                    Some((t, rank, seq)) if t == tau => {
                        let count = (batch.values.len() - start) as u16;
                        batch.items.push((rank, seq, start as u32, count));
                    }
                    next => {
                        self.ahead = next;
                        ahead_start = start;
                        break;
                    }
                }
            }
            let group = &mut batch.items[first..];
            if !group.is_sorted_by_key(|g| (g.0, g.1)) {
                group.sort_unstable_by_key(|g| (g.0, g.1));
            }
            batch.groups.push((tau, batch.items.len()));
            if batch.items.len() >= BATCH_ROWS {
                break;
            }
        }
        // The row read ahead goes to the next batch with its values.
        self.carry
            .extend(batch.values.drain(ahead_start.min(batch.values.len())..));
        Ok(())
    }

    /// Reads the next row, its values appended to `values`, numbered for
    /// the table and sorted by measure id; placed.
    fn read(&mut self, values: &mut Vec<(u16, Value)>) -> io::Result<Option<Placed>> {
        let start = values.len();
        let Some(head) = self.reader.next(values)? else {
            return Ok(None);
        };
        let tau = self.placement.place(head.time).ok_or_else(|| {
            // `prepare_streamed` placed the first and last rows.
            io::Error::new(io::ErrorKind::InvalidData, "a spilled row's time left i64")
        })?;
        let run = &mut values[start..];
        for (m, _) in run.iter_mut() {
            *m = self.measures[*m as usize];
        }
        if run.len() > 1 {
            run.sort_by_key(|(m, _)| *m);
        }
        Ok(Some((tau, self.ranks[head.series as usize], head.seq)))
    }
}

/// Whether a placed row inside `[start, end)` is of a series `series`
/// holds and carries `measure` (any, for `None`): for the warning of an
/// anomaly that touches nothing.
pub(super) fn touches(
    step: &StreamedStep,
    start: i64,
    end: Option<i128>,
    series: &[bool],
    measure: Option<u16>,
) -> io::Result<bool> {
    let mut reader = step.rows.reader()?;
    let mut values = Vec::new();
    while let Some(head) = reader.next(&mut values)? {
        // `prepare_streamed` placed the first and last rows, which bound
        // the others.
        let Some(tau) = step.placement.place(head.time) else {
            break;
        };
        if end.is_some_and(|end| i128::from(tau) >= end) {
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
