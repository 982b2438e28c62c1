//! A replay step's selected rows in bounded memory: an external merge sort
//! by source time that costs one sequential write and read when the rows
//! already come in time order, which recorded data almost always does.
//!
//! ```text
//! select ─▶ chunk (≤ chunk_rows rows) ─full─▶ sorted by time (stable; a no-op when in order)
//!   ─▶ appended to the current run when it starts at or after the run's end, else a new run
//! finish: no chunk ever filled ─▶ the rows stay in memory (most scenarios)
//!         one run ─▶ read back as it is; several ─▶ merged k-way (64 at a time) into one
//! ```
//!
//! Every row keeps its place among the step's rows (`seq`), and runs are
//! merged by (time, seq): rows at one instant come back in file order, which
//! is what the in-memory path's stable sort gives. The runs live in a
//! scratch folder (`crate::scratch`) that is removed when the last user of
//! the rows drops it, and on SIGINT or SIGTERM.
//!
//! A row on disk: its length, then time (8 bytes), seq, local series, the
//! number of values, and each value as local measure, type and payload
//! (lengths and numbers as LEB128 varints).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::ListedItem;
use super::interval::Gaps;
use crate::record::Value;
use crate::scratch::Scratch;
use crate::sources::SpillOptions;

/// Runs merged at once: 64 readers of 64 KiB.
const FAN_IN: usize = 64;
const BUFFER: usize = 64 * 1024;

/// The rows a step has spilled so far, and where the next ones go.
pub(super) struct Spill {
    options: SpillOptions,
    /// Whether the rows' sampling interval is wanted (a windowless replay).
    want_gaps: bool,
    folder: Option<Arc<Scratch>>,
    /// Finished runs, each sorted by (time, seq).
    runs: Vec<PathBuf>,
    current: Option<RunWriter>,
    /// Rows spilled so far: the next chunk's first `seq`.
    spilled: u64,
    /// The first write that failed: reading goes on, `finish` says why.
    error: Option<io::Error>,
    /// Reused between chunks.
    order: Vec<u32>,
    encoded: Vec<u8>,
    body: Vec<u8>,
}

/// What a step's rows became.
pub(super) enum Finished {
    /// No chunk filled: the rows are still the caller's, in memory.
    InMemory,
    Spilled(SortedRows),
}

/// A step's rows on disk, in (time, seq) order, with what placing them
/// needs to know.
pub(crate) struct SortedRows {
    folder: Arc<Scratch>,
    path: PathBuf,
    /// The earliest and latest source time.
    pub(super) first: i64,
    pub(super) last: i64,
    /// The sampling interval (see `interval::Gaps`), when it was wanted.
    pub(super) interval: i64,
}

impl Spill {
    pub(super) fn new(options: SpillOptions, want_gaps: bool) -> Spill {
        Spill {
            options,
            want_gaps,
            folder: None,
            runs: Vec::new(),
            current: None,
            spilled: 0,
            error: None,
            order: Vec::new(),
            encoded: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Where the rows go: the scratch folder once made, else the folder it
    /// would be made in.
    pub(super) fn folder_or_parent(&self) -> PathBuf {
        match (&self.folder, &self.options.temp_dir) {
            (Some(folder), _) => folder.path().to_path_buf(),
            (None, Some(dir)) => dir.to_path_buf(),
            (None, None) => std::env::temp_dir(),
        }
    }

    /// Whether the chunk in `rows` is full and should be spilled.
    pub(super) fn is_full(&self, rows: &[ListedItem]) -> bool {
        rows.len() >= self.options.chunk_rows.max(1)
    }

    /// Sorts the chunk by time and writes it out, leaving `rows` and
    /// `values` empty for the next. A failed write is kept for `finish`.
    pub(super) fn spill(&mut self, rows: &mut Vec<ListedItem>, values: &mut Vec<(u16, Value)>) {
        if self.error.is_none()
            && !rows.is_empty()
            && let Err(error) = self.write_chunk(rows, values)
        {
            self.error = Some(error);
        }
        self.spilled += rows.len() as u64;
        rows.clear();
        values.clear();
    }

    fn write_chunk(&mut self, rows: &[ListedItem], values: &[(u16, Value)]) -> io::Result<()> {
        self.order.clear();
        self.order.extend(0..rows.len() as u32);
        if !rows.is_sorted_by_key(|row| row.0) {
            // Stable: rows at one instant keep their file order.
            self.order.sort_by_key(|&i| rows[i as usize].0);
        }
        let first = rows[self.order[0] as usize].0;
        let continues = self
            .current
            .as_ref()
            .is_some_and(|run| run.last.is_none_or(|last| first >= last));
        if !continues {
            if let Some(run) = self.current.take() {
                self.runs.push(run.finish()?.0);
            }
            let path = self.run_path()?;
            self.current = Some(RunWriter::create(path, self.want_gaps)?);
        }
        let Some(run) = self.current.as_mut() else {
            return Ok(());
        };
        for &i in &self.order {
            let (time, series, start, count) = rows[i as usize];
            let run_values = &values[start as usize..start as usize + count as usize];
            self.encoded.clear();
            encode(
                &mut self.encoded,
                &mut self.body,
                (time, self.spilled + u64::from(i), series),
                run_values,
            );
            run.write(time, series, &self.encoded)?;
        }
        Ok(())
    }

    /// A new run's file, in the scratch folder made at the first spill.
    fn run_path(&mut self) -> io::Result<PathBuf> {
        let folder = match &self.folder {
            Some(folder) => folder,
            None => {
                let parent = match &self.options.temp_dir {
                    Some(dir) => dir.to_path_buf(),
                    None => std::env::temp_dir(),
                };
                self.folder
                    .insert(Arc::new(Scratch::folder(&parent, "spill")?))
            }
        };
        let n = self.runs.len() + usize::from(self.current.is_some());
        Ok(folder.path().join(format!("run-{n}")))
    }

    /// Spills what is left of the chunk, unless nothing was ever spilled,
    /// and merges the runs into one.
    pub(super) fn finish(
        mut self,
        rows: &mut Vec<ListedItem>,
        values: &mut Vec<(u16, Value)>,
    ) -> io::Result<Finished> {
        if self.folder.is_none() && self.error.is_none() {
            return Ok(Finished::InMemory);
        }
        self.spill(rows, values);
        if let Some(error) = self.error.take() {
            return Err(error);
        }
        let (Some(folder), Some(current)) = (self.folder.take(), self.current.take()) else {
            return Ok(Finished::InMemory);
        };
        let (path, stats) = if self.runs.is_empty() {
            current.finish()?
        } else {
            self.runs.push(current.finish()?.0);
            merge_all(&folder, std::mem::take(&mut self.runs), self.want_gaps)?
        };
        Ok(Finished::Spilled(SortedRows {
            folder,
            path,
            first: stats.first,
            last: stats.last,
            interval: stats.gaps.map_or(1, |g| g.interval()),
        }))
    }
}

/// What a finished run knows of its rows.
struct RunStats {
    first: i64,
    last: i64,
    gaps: Option<Gaps>,
}

/// One sorted run being written.
struct RunWriter {
    path: PathBuf,
    out: BufWriter<File>,
    first: Option<i64>,
    last: Option<i64>,
    gaps: Option<Gaps>,
}

impl RunWriter {
    fn create(path: PathBuf, want_gaps: bool) -> io::Result<RunWriter> {
        Ok(RunWriter {
            // In a folder of its own (`Scratch::folder`), under a new name.
            out: BufWriter::with_capacity(BUFFER, File::create_new(&path)?),
            path,
            first: None,
            last: None,
            gaps: want_gaps.then(Gaps::default),
        })
    }

    /// Adds one encoded row, given in (time, seq) order.
    fn write(&mut self, time: i64, series: u32, encoded: &[u8]) -> io::Result<()> {
        self.first.get_or_insert(time);
        self.last = Some(time);
        if let Some(gaps) = &mut self.gaps {
            gaps.add(time, series);
        }
        self.out.write_all(encoded)
    }

    fn finish(self) -> io::Result<(PathBuf, RunStats)> {
        self.out.into_inner().map_err(|e| e.into_error())?;
        Ok((
            self.path,
            RunStats {
                first: self.first.unwrap_or(0),
                last: self.last.unwrap_or(0),
                gaps: self.gaps,
            },
        ))
    }
}

/// Merges `runs` into one, `FAN_IN` at a time, removing each merged run;
/// the last merge also finds the rows' statistics.
fn merge_all(
    folder: &Scratch,
    mut runs: Vec<PathBuf>,
    want_gaps: bool,
) -> io::Result<(PathBuf, RunStats)> {
    let mut made = 0usize;
    loop {
        let last = runs.len() <= FAN_IN;
        let group: Vec<PathBuf> = runs.drain(..runs.len().min(FAN_IN)).collect();
        let path = folder.path().join(format!("merged-{made}"));
        made += 1;
        let mut out = RunWriter::create(path, last && want_gaps)?;
        merge(&group, &mut out)?;
        for run in &group {
            std::fs::remove_file(run)?;
        }
        let finished = out.finish()?;
        if last {
            return Ok(finished);
        }
        runs.push(finished.0);
    }
}

/// Writes the rows of `runs` to `out` in (time, seq) order.
fn merge(runs: &[PathBuf], out: &mut RunWriter) -> io::Result<()> {
    let mut readers = Vec::with_capacity(runs.len());
    let mut heap = BinaryHeap::with_capacity(runs.len());
    for (i, path) in runs.iter().enumerate() {
        let mut reader = Decoder::open(path)?;
        if let Some(head) = reader.next_raw()? {
            heap.push(Reverse((head.time, head.seq, i)));
        }
        readers.push(reader);
    }
    while let Some(Reverse((time, _, i))) = heap.pop() {
        let reader = &mut readers[i];
        out.write(time, reader.head.series, reader.current())?;
        if let Some(head) = reader.next_raw()? {
            heap.push(Reverse((head.time, head.seq, i)));
        }
    }
    Ok(())
}

impl SortedRows {
    /// The scratch folder the rows are in.
    pub(super) fn folder(&self) -> &Path {
        self.folder.path()
    }

    /// Reads the rows from the start.
    pub(super) fn reader(&self) -> io::Result<RowReader> {
        Ok(RowReader {
            decoder: Decoder::open(&self.path)?,
            _folder: Arc::clone(&self.folder),
        })
    }
}

/// The rows of a `SortedRows`, one at a time.
pub(crate) struct RowReader {
    decoder: Decoder,
    /// The folder lives while a reader does.
    _folder: Arc<Scratch>,
}

/// A row's time, seq and local series.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(super) struct Head {
    pub time: i64,
    pub seq: u64,
    pub series: u32,
}

impl RowReader {
    /// The next row: its head, and its values appended to `values`.
    pub(super) fn next(&mut self, values: &mut Vec<(u16, Value)>) -> io::Result<Option<Head>> {
        let Some(head) = self.decoder.next_raw()? else {
            return Ok(None);
        };
        decode_values(self.decoder.rest(), values)?;
        Ok(Some(head))
    }
}

/// Reads rows from a run file through one reused buffer.
struct Decoder {
    file: File,
    buf: Vec<u8>,
    /// The current row is `buf[start..end]`; `body` is where its values begin.
    start: usize,
    end: usize,
    body: usize,
    filled: usize,
    head: Head,
}

impl Decoder {
    fn open(path: &Path) -> io::Result<Decoder> {
        Ok(Decoder {
            file: File::open(path)?,
            buf: vec![0; BUFFER],
            start: 0,
            end: 0,
            body: 0,
            filled: 0,
            head: Head::default(),
        })
    }

    /// The current row as written (length included).
    fn current(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// The current row's values, undecoded.
    fn rest(&self) -> &[u8] {
        &self.buf[self.body..self.end]
    }

    /// Moves to the next row and reads its head.
    fn next_raw(&mut self) -> io::Result<Option<Head>> {
        self.start = self.end;
        // A length is at most 5 bytes.
        if !self.ensure(5)? && self.filled == self.start {
            return Ok(None);
        }
        let mut at = self.start;
        let length = varint(&self.buf[..self.filled], &mut at)? as usize;
        if !self.ensure(at - self.start + length)? {
            return Err(corrupt());
        }
        // `ensure` may have moved the row to the front of the buffer.
        let mut at = self.start;
        varint(&self.buf, &mut at)?;
        self.end = at + length;
        let row = &self.buf[..self.end];
        let time = i64::from_le_bytes(fixed(row, &mut at)?);
        let seq = varint(row, &mut at)?;
        let series = u32::try_from(varint(row, &mut at)?).map_err(|_| corrupt())?;
        self.body = at;
        self.head = Head { time, seq, series };
        Ok(Some(self.head))
    }

    /// Makes `n` bytes from `start` available, moving them to the front
    /// and growing the buffer as needed; false at the end of the file.
    fn ensure(&mut self, n: usize) -> io::Result<bool> {
        if self.filled - self.start >= n {
            return Ok(true);
        }
        self.buf.copy_within(self.start..self.filled, 0);
        self.filled -= self.start;
        self.end -= self.start.min(self.end);
        self.start = 0;
        if self.buf.len() < n {
            self.buf.resize(n.max(BUFFER), 0);
        }
        while self.filled < n {
            let read = self.file.read(&mut self.buf[self.filled..])?;
            if read == 0 {
                return Ok(false);
            }
            self.filled += read;
        }
        Ok(true)
    }
}

fn corrupt() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        "a spilled row is cut short or corrupt (was the temporary folder changed while outatime ran?)",
    )
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn varint(bytes: &[u8], at: &mut usize) -> io::Result<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *bytes.get(*at).ok_or_else(corrupt)?;
        *at += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            return Ok(v);
        }
    }
    Err(corrupt())
}

fn fixed<const N: usize>(bytes: &[u8], at: &mut usize) -> io::Result<[u8; N]> {
    let slice = bytes.get(*at..*at + N).ok_or_else(corrupt)?;
    *at += N;
    slice.try_into().map_err(|_| corrupt())
}

const DOUBLE: u8 = 0;
const BIGINT: u8 = 1;
const FALSE: u8 = 2;
const TRUE: u8 = 3;
const VARCHAR: u8 = 4;

/// Appends one row to `out`, its length first; `body` is scratch space.
fn encode(
    out: &mut Vec<u8>,
    body: &mut Vec<u8>,
    (time, seq, series): (i64, u64, u32),
    values: &[(u16, Value)],
) {
    body.clear();
    body.extend_from_slice(&time.to_le_bytes());
    put_varint(body, seq);
    put_varint(body, u64::from(series));
    put_varint(body, values.len() as u64);
    for (measure, value) in values {
        put_varint(body, u64::from(*measure));
        match value {
            Value::Double(v) => {
                body.push(DOUBLE);
                body.extend_from_slice(&v.to_le_bytes());
            }
            Value::Bigint(v) => {
                body.push(BIGINT);
                body.extend_from_slice(&v.to_le_bytes());
            }
            Value::Boolean(b) => body.push(if *b { TRUE } else { FALSE }),
            Value::Varchar(s) => {
                body.push(VARCHAR);
                put_varint(body, s.len() as u64);
                body.extend_from_slice(s.as_bytes());
            }
        }
    }
    put_varint(out, body.len() as u64);
    out.extend_from_slice(body);
}

fn decode_values(bytes: &[u8], values: &mut Vec<(u16, Value)>) -> io::Result<()> {
    let mut at = 0;
    let count = varint(bytes, &mut at)?;
    for _ in 0..count {
        let measure = u16::try_from(varint(bytes, &mut at)?).map_err(|_| corrupt())?;
        let tag = *bytes.get(at).ok_or_else(corrupt)?;
        at += 1;
        let value = match tag {
            DOUBLE => Value::Double(f64::from_le_bytes(fixed(bytes, &mut at)?)),
            BIGINT => Value::Bigint(i64::from_le_bytes(fixed(bytes, &mut at)?)),
            FALSE => Value::Boolean(false),
            TRUE => Value::Boolean(true),
            VARCHAR => {
                let length = varint(bytes, &mut at)? as usize;
                let text = bytes.get(at..at + length).ok_or_else(corrupt)?;
                at += length;
                Value::Varchar(varchar(text)?)
            }
            _ => return Err(corrupt()),
        };
        values.push((measure, value));
    }
    Ok(())
}

/// A varchar value, as the in-memory path makes one: its own `Arc`.
fn varchar(bytes: &[u8]) -> io::Result<Arc<str>> {
    let text = std::str::from_utf8(bytes).map_err(|_| corrupt())?;
    Ok(Arc::from(text))
}

/// Only for tests: how many spill folders this process holds now.
#[cfg(test)]
fn folders_under(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .filter_map(Result::ok)
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with("outatime-spill-")
            })
            .count()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(dir: &Path, chunk_rows: usize) -> SpillOptions {
        SpillOptions {
            temp_dir: Some(Arc::from(dir)),
            chunk_rows,
            in_memory: false,
        }
    }

    fn scratch_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("outatime-spill-test-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// Spills `rows` (time, series) with one value each, chunk by chunk,
    /// and reads them back: (time, seq, series, value).
    fn round_trip(dir: &Path, chunk: usize, rows: &[(i64, u32)]) -> Vec<(i64, u64, u32, Value)> {
        let mut spill = Spill::new(options(dir, chunk), true);
        let mut items = Vec::new();
        let mut values = Vec::new();
        for (i, &(time, series)) in rows.iter().enumerate() {
            let value = if i % 3 == 0 {
                Value::Varchar(Arc::from(format!("v{i}").as_str()))
            } else {
                Value::Double(i as f64)
            };
            items.push((time, series, values.len() as u32, 1));
            values.push((0, value));
            if spill.is_full(&items) {
                spill.spill(&mut items, &mut values);
            }
        }
        let Finished::Spilled(sorted) = spill.finish(&mut items, &mut values).unwrap() else {
            panic!("expected spilled rows");
        };
        let mut reader = sorted.reader().unwrap();
        let mut out = Vec::new();
        let mut buf = Vec::new();
        while let Some(head) = reader.next(&mut buf).unwrap() {
            out.push((head.time, head.seq, head.series, buf.pop().unwrap().1));
            assert!(buf.is_empty());
        }
        out
    }

    #[test]
    fn shuffled_rows_come_back_in_time_then_file_order() {
        let dir = &scratch_dir("shuffled");
        // A permutation of times 0..500 with duplicates (time / 2).
        let rows: Vec<(i64, u32)> = (0..1000u64)
            .map(|i| (((i * 7919) % 1000 / 2) as i64, (i % 5) as u32))
            .collect();
        // Chunks of 7 rows: 143 runs, so the merge takes three passes' worth of groups.
        let back = round_trip(dir, 7, &rows);
        let mut expected: Vec<(i64, u64, u32)> = rows
            .iter()
            .enumerate()
            .map(|(i, &(t, s))| (t, i as u64, s))
            .collect();
        expected.sort_by_key(|&(t, i, _)| (t, i));
        let got: Vec<(i64, u64, u32)> = back.iter().map(|&(t, i, s, _)| (t, i, s)).collect();
        assert_eq!(got, expected);
        for (_, seq, _, value) in &back {
            let want = if seq % 3 == 0 {
                Value::Varchar(Arc::from(format!("v{seq}").as_str()))
            } else {
                Value::Double(*seq as f64)
            };
            assert_eq!(value, &want);
        }
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn sorted_rows_make_one_run_and_the_folder_goes_with_the_last_reader() {
        let dir = &scratch_dir("sorted");
        let rows: Vec<(i64, u32)> = (0..100).map(|i| (i / 2, (i % 2) as u32)).collect();
        let mut spill = Spill::new(options(dir, 10), true);
        let mut items = Vec::new();
        let mut values = Vec::new();
        for &(time, series) in &rows {
            items.push((time, series, values.len() as u32, 1));
            values.push((0, Value::Bigint(time)));
            if spill.is_full(&items) {
                spill.spill(&mut items, &mut values);
            }
        }
        let Finished::Spilled(sorted) = spill.finish(&mut items, &mut values).unwrap() else {
            panic!("expected spilled rows");
        };
        assert_eq!(
            std::fs::read_dir(sorted.folder.path()).unwrap().count(),
            1,
            "rows in time order stay one run"
        );
        assert_eq!((sorted.first, sorted.last, sorted.interval), (0, 49, 1));
        let reader = sorted.reader().unwrap();
        assert_eq!(folders_under(dir), 1);
        drop(sorted);
        assert_eq!(folders_under(dir), 1, "a reader keeps the folder");
        drop(reader);
        assert_eq!(folders_under(dir), 0);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_chunk_that_never_fills_stays_in_memory_and_makes_no_folder() {
        let dir = &scratch_dir("memory");
        let spill = Spill::new(options(dir, 10), false);
        let mut items = vec![(5, 0, 0, 1)];
        let mut values = vec![(0, Value::Boolean(true))];
        assert!(matches!(
            spill.finish(&mut items, &mut values).unwrap(),
            Finished::InMemory
        ));
        assert_eq!(items.len(), 1);
        assert_eq!(folders_under(dir), 0);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_long_varchar_crosses_the_read_buffer() {
        let dir = &scratch_dir("long");
        let long: String = "x".repeat(BUFFER * 2 + 17);
        let mut spill = Spill::new(options(dir, 1), false);
        let mut items = Vec::new();
        let mut values = Vec::new();
        for time in 0..3 {
            items.push((time, 0, values.len() as u32, 1));
            values.push((0, Value::Varchar(Arc::from(long.as_str()))));
            spill.spill(&mut items, &mut values);
        }
        let Finished::Spilled(sorted) = spill.finish(&mut items, &mut values).unwrap() else {
            panic!("expected spilled rows");
        };
        let mut reader = sorted.reader().unwrap();
        let mut buf = Vec::new();
        let mut n = 0;
        while let Some(head) = reader.next(&mut buf).unwrap() {
            assert_eq!(head.time, n);
            assert_eq!(
                buf.pop().unwrap().1,
                Value::Varchar(Arc::from(long.as_str()))
            );
            n += 1;
        }
        assert_eq!(n, 3);
        drop((reader, sorted));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
