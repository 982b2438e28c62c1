//! The line a CSV record starts on. The csv crate's `Position::line` is the
//! line where reading a record *began*: before the `\n` a CRLF record left
//! behind (it ends the record at `\r`) and before any blank lines it skips.
//! So a row of a CRLF file was reported one line too early, and a row after
//! blank lines as many too early as there were blanks. `LineIndex` sits
//! between the (decompressed) bytes and the csv reader, notes where runs of
//! line-break bytes lie, and turns a read's starting byte into the line of
//! the record's first byte.
//!
//! Sitting there, it also bounds a record: once the bytes read past the
//! end of the last record outgrow `MAX_RECORD_BYTES` and the csv reader's
//! buffer, the record being read is longer than the limit, and reading
//! stops with [`RecordTooLong`] before the csv crate holds it whole (a line
//! of gigabytes in a small `.gz`). The exact length of each record read is
//! checked by the caller (`record_bytes`).

use std::collections::VecDeque;
use std::fmt;
use std::io::{self, Read};

use super::BUFFER_BYTES;
use super::limits::MAX_RECORD_BYTES;

/// A reader that remembers where the line breaks it passed on lie, for the
/// window of bytes the csv reader has buffered but not yet parsed.
pub(super) struct LineIndex<R> {
    inner: R,
    /// Bytes passed on so far.
    offset: u64,
    /// Offsets of `\n` bytes not yet counted into `newlines_before`.
    newlines: VecDeque<u64>,
    /// `\n` bytes before every offset still in `newlines`.
    newlines_before: u64,
    /// Runs of `\r`/`\n` bytes as `(start, end)`, end exclusive.
    runs: VecDeque<(u64, u64)>,
    /// Where the last record read ended (`record_ended`): the record being
    /// read starts here, or past the line breaks that start here.
    record_end: u64,
    /// Where the record of the last `line_at` starts.
    record_start: u64,
}

/// Why `LineIndex` stopped passing bytes on: the record being read is
/// longer than `MAX_RECORD_BYTES`.
#[derive(Debug)]
pub(super) struct RecordTooLong;

impl fmt::Display for RecordTooLong {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a record is longer than {MAX_RECORD_BYTES} bytes")
    }
}

impl std::error::Error for RecordTooLong {}

impl RecordTooLong {
    /// Whether `error` is this one (the csv crate hands it back as its I/O
    /// error).
    pub(super) fn is(error: &io::Error) -> bool {
        error
            .get_ref()
            .is_some_and(|inner| inner.downcast_ref::<RecordTooLong>().is_some())
    }
}

impl<R: Read> LineIndex<R> {
    pub(super) fn new(inner: R) -> LineIndex<R> {
        LineIndex {
            inner,
            offset: 0,
            newlines: VecDeque::new(),
            newlines_before: 0,
            runs: VecDeque::new(),
            record_end: 0,
            record_start: 0,
        }
    }

    /// The read that began at `end` is the next record's: bytes read past
    /// it count towards that record's budget.
    pub(super) fn record_ended(&mut self, end: u64) {
        self.record_end = end;
    }

    /// Bytes of the record of the last `line_at`, which ended at `end` (the
    /// csv reader's position after it): its line break counted, the line
    /// breaks before it not.
    pub(super) fn record_bytes(&self, end: u64) -> u64 {
        end.saturating_sub(self.record_start)
    }

    /// The line of the record being read, when a read fails.
    pub(super) fn line_being_read(&mut self) -> u64 {
        self.line_at(self.next_record_start())
    }

    /// Where the record being read starts: past the line breaks right
    /// after the last record (blank lines are not part of it).
    fn next_record_start(&self) -> u64 {
        self.runs
            .iter()
            .find(|&&(start, end)| start <= self.record_end && self.record_end < end)
            .map_or(self.record_end, |&(_, end)| end)
    }

    /// The 1-based line of the first record byte at or after `byte`, where a
    /// read of the csv reader began (`Position::byte`). Calls must come in
    /// non-decreasing `byte` order, each after the record was read (so the
    /// bytes up to its start have passed through here); what lies before is
    /// forgotten.
    pub(super) fn line_at(&mut self, byte: u64) -> u64 {
        while self.runs.front().is_some_and(|&(_, end)| end <= byte) {
            self.runs.pop_front();
        }
        // The csv reader skips line breaks before a record: it starts where
        // a run that holds `byte` ends.
        let start = match self.runs.front() {
            Some(&(run_start, end)) if run_start <= byte => end,
            _ => byte,
        };
        while self.newlines.front().is_some_and(|&at| at < start) {
            self.newlines.pop_front();
            self.newlines_before += 1;
        }
        self.record_start = start;
        self.newlines_before + 1
    }
}

impl<R: Read> Read for LineIndex<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let base = self.offset;
        for at in memchr::memchr2_iter(b'\n', b'\r', &buf[..n]) {
            let absolute = base + at as u64;
            if buf[at] == b'\n' {
                self.newlines.push_back(absolute);
            }
            match self.runs.back_mut() {
                // The byte before was a break too: the run goes on.
                Some((_, end)) if *end == absolute => *end = absolute + 1,
                _ => self.runs.push_back((absolute, absolute + 1)),
            }
        }
        self.offset += n as u64;
        // The csv reader asks for more only when its buffer is used up: a
        // record that began at the last end holds what was read past it,
        // less one buffer.
        let read_past = self.offset.saturating_sub(self.next_record_start());
        if read_past > MAX_RECORD_BYTES + BUFFER_BYTES as u64 {
            return Err(io::Error::new(io::ErrorKind::InvalidData, RecordTooLong));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each record's line, as the csv reader and `LineIndex` read `text`.
    fn lines(text: &str) -> Vec<(String, u64)> {
        let mut reader = ::csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .buffer_capacity(4)
            .from_reader(LineIndex::new(text.as_bytes()));
        let mut record = ::csv::StringRecord::new();
        let mut out = Vec::new();
        while reader.read_record(&mut record).unwrap() {
            let byte = record.position().unwrap().byte();
            let line = reader.get_mut().line_at(byte);
            out.push((record.get(0).unwrap().to_string(), line));
        }
        out
    }

    fn expected(pairs: &[(&str, u64)]) -> Vec<(String, u64)> {
        pairs.iter().map(|(s, l)| (s.to_string(), *l)).collect()
    }

    #[test]
    fn lf_crlf_and_cr_files_count_alike() {
        let want = expected(&[("h", 1), ("a", 2), ("b", 3)]);
        assert_eq!(lines("h,x\na,1\nb,2\n"), want);
        assert_eq!(lines("h,x\r\na,1\r\nb,2\r\n"), want);
        assert_eq!(lines("h,x\r\na,1\r\nb,2"), want);
    }

    /// A reader of `total` bytes of `x`, counting what was read of it.
    struct Endless {
        total: u64,
        read: std::rc::Rc<std::cell::Cell<u64>>,
    }

    impl Read for Endless {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let left = self.total - self.read.get();
            let n = (buf.len() as u64).min(left) as usize;
            buf[..n].fill(b'x');
            self.read.set(self.read.get() + n as u64);
            Ok(n)
        }
    }

    /// A record of a gigabyte is refused once the limit and one buffer
    /// are read past the last record, not read whole.
    #[test]
    fn a_long_record_stops_the_read_past_the_limit() {
        let read = std::rc::Rc::new(std::cell::Cell::new(0));
        let head: &[u8] = b"h\n\n\nx,";
        let endless = Endless {
            total: 1 << 30,
            read: read.clone(),
        };
        let mut reader = ::csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .buffer_capacity(BUFFER_BYTES)
            .from_reader(LineIndex::new(head.chain(endless)));
        let mut record = ::csv::ByteRecord::new();
        assert!(reader.read_byte_record(&mut record).unwrap());
        let end = reader.position().byte();
        reader.get_mut().record_ended(end);
        let error = reader.read_byte_record(&mut record).unwrap_err();
        let ::csv::ErrorKind::Io(error) = error.kind() else {
            panic!("{error}");
        };
        assert!(RecordTooLong::is(error), "{error}");
        assert!(
            read.get() <= MAX_RECORD_BYTES + 2 * BUFFER_BYTES as u64,
            "{} bytes read",
            read.get()
        );
        // The blank lines before it are not its bytes, nor its line.
        assert_eq!(reader.get_mut().line_being_read(), 4);
    }

    #[test]
    fn blank_lines_and_quoted_breaks_are_lines() {
        assert_eq!(
            lines("\n\nh,x\n\n\na,1\r\n\r\nb,2\n"),
            expected(&[("h", 3), ("a", 6), ("b", 8)])
        );
        assert_eq!(
            lines("h,x\r\n\"a\r\nb\",1\r\nc,2\r\n"),
            expected(&[("h", 1), ("a\r\nb", 2), ("c", 4)])
        );
    }
}
