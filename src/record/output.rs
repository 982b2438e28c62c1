//! Sinks for the record stream: JSON lines (the contract), CSV, and the
//! canonical digest that pins a plan's stream.

use std::io::Write;

use super::{Catalog, Record, Sink, TimeWriter, Value, write_f64, write_json_string};

/// Pre-rendered JSON fragments, so that a record costs a time, its values
/// and a few copies.
struct Fragments {
    /// `{"table":"<target>","time":"` by table.
    table_prefix: Vec<Vec<u8>>,
    /// `,"dimensions":{...},"measures":{` by table, then series.
    series: Vec<Vec<Vec<u8>>>,
    /// `"name":` by table, then measure.
    measure_keys: Vec<Vec<Vec<u8>>>,
    time: TimeWriter,
}

impl Fragments {
    fn new(catalog: &Catalog) -> Fragments {
        let mut table_prefix = Vec::new();
        let mut series = Vec::new();
        let mut measure_keys = Vec::new();
        for t in &catalog.tables {
            let mut prefix = b"{\"table\":".to_vec();
            write_json_string(&mut prefix, &t.target);
            prefix.extend_from_slice(b",\"time\":\"");
            table_prefix.push(prefix);
            series.push(
                t.series
                    .iter()
                    .map(|s| {
                        let mut out = b"\",\"dimensions\":{".to_vec();
                        for (i, (k, v)) in s.dims.iter().enumerate() {
                            if i > 0 {
                                out.push(b',');
                            }
                            write_json_string(&mut out, k);
                            out.push(b':');
                            write_json_string(&mut out, v);
                        }
                        out.extend_from_slice(b"},\"measures\":{");
                        out
                    })
                    .collect(),
            );
            measure_keys.push(
                t.measures
                    .iter()
                    .map(|(name, _)| {
                        let mut out = Vec::new();
                        write_json_string(&mut out, name);
                        out.push(b':');
                        out
                    })
                    .collect(),
            );
        }
        Fragments {
            table_prefix,
            series,
            measure_keys,
            time: TimeWriter::default(),
        }
    }

    fn line(&mut self, record: &Record, out: &mut Vec<u8>) {
        let t = record.table as usize;
        out.extend_from_slice(&self.table_prefix[t]);
        self.time.write(out, record.time);
        out.extend_from_slice(&self.series[t][record.series as usize]);
        for (i, (m, v)) in record.measures.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(&self.measure_keys[t][*m as usize]);
            v.write_json(out);
        }
        out.extend_from_slice(b"}}\n");
    }
}

/// The record stream as JSON lines, the form the language page defines.
pub struct JsonLines<W: Write> {
    out: W,
    buffer: Vec<u8>,
    fragments: Fragments,
    pub records: u64,
}

impl<W: Write> JsonLines<W> {
    pub fn new(out: W, catalog: &Catalog) -> Self {
        JsonLines {
            out,
            buffer: Vec::with_capacity(1 << 16),
            fragments: Fragments::new(catalog),
            records: 0,
        }
    }

    pub fn finish(mut self) -> std::io::Result<W> {
        self.out.write_all(&self.buffer)?;
        self.out.flush()?;
        Ok(self.out)
    }
}

impl<W: Write> Sink for JsonLines<W> {
    fn record(&mut self, record: &Record, _: &Catalog) -> std::io::Result<()> {
        self.fragments.line(record, &mut self.buffer);
        self.records += 1;
        if self.buffer.len() >= 1 << 16 {
            self.out.write_all(&self.buffer)?;
            self.buffer.clear();
        }
        Ok(())
    }
}

/// The canonical stream digest: blake3 over each record's JSON line,
/// prefixed with `R` (placed relative to `now`) or `A` (at a recorded
/// instant), with the run's anchor at the epoch.
pub(crate) struct Digest {
    hasher: blake3::Hasher,
    buffer: Vec<u8>,
    fragments: Fragments,
    pub records: u64,
}

impl Digest {
    pub(crate) fn new(catalog: &Catalog) -> Self {
        Digest {
            hasher: blake3::Hasher::new(),
            buffer: Vec::with_capacity(DIGEST_BUFFER + 512),
            fragments: Fragments::new(catalog),
            records: 0,
        }
    }

    pub(crate) fn finish(&self) -> String {
        let mut hasher = self.hasher.clone();
        hasher.update(&self.buffer);
        format!("blake3:{}", hasher.finalize().to_hex())
    }
}

/// Lines are hashed 64 KiB at a time: blake3 hashes many 1 KiB chunks at
/// once (SIMD) only when given them together, and a digest does not depend
/// on how its input is split.
const DIGEST_BUFFER: usize = 1 << 16;

impl Sink for Digest {
    fn record(&mut self, record: &Record, _: &Catalog) -> std::io::Result<()> {
        self.buffer.push(if record.relative { b'R' } else { b'A' });
        self.fragments.line(record, &mut self.buffer);
        if self.buffer.len() >= DIGEST_BUFFER {
            self.hasher.update(&self.buffer);
            self.buffer.clear();
        }
        self.records += 1;
        Ok(())
    }
}

/// The record stream as CSV: `table,time`, then every dimension and every
/// measure of any table (sorted), empty where a record has none.
pub(crate) struct Csv<W: Write> {
    out: W,
    buffer: Vec<u8>,
    /// Column of each table's measures.
    measure_columns: Vec<Vec<usize>>,
    cells: Vec<Vec<u8>>,
    time: TimeWriter,
    header_written: bool,
    header: Vec<String>,
}

impl<W: Write> Csv<W> {
    pub(crate) fn new(out: W, catalog: &Catalog) -> Self {
        let mut dims: Vec<&str> = catalog
            .tables
            .iter()
            .flat_map(|t| {
                t.series
                    .iter()
                    .flat_map(|s| s.dims.iter().map(|(k, _)| k.as_str()))
            })
            .collect();
        dims.sort();
        dims.dedup();
        let mut measures: Vec<&str> = catalog
            .tables
            .iter()
            .flat_map(|t| t.measures.iter().map(|(m, _)| m.as_str()))
            .collect();
        measures.sort();
        measures.dedup();
        let mut header = vec!["table".to_string(), "time".to_string()];
        header.extend(dims.iter().map(|d| d.to_string()));
        header.extend(measures.iter().map(|m| m.to_string()));
        let measure_columns = catalog
            .tables
            .iter()
            .map(|t| {
                t.measures
                    .iter()
                    .map(|(m, _)| {
                        2 + dims.len() + measures.iter().position(|x| x == m).unwrap_or(0)
                    })
                    .collect()
            })
            .collect();
        Csv {
            out,
            buffer: Vec::with_capacity(1 << 16),
            measure_columns,
            cells: vec![Vec::new(); header.len()],
            time: TimeWriter::default(),
            header_written: false,
            header,
        }
    }

    pub(crate) fn finish(mut self) -> std::io::Result<W> {
        if !self.header_written {
            write_row(&mut self.buffer, self.header.iter().map(|h| h.as_bytes()));
        }
        self.out.write_all(&self.buffer)?;
        self.out.flush()?;
        Ok(self.out)
    }
}

impl<W: Write> Sink for Csv<W> {
    fn record(&mut self, record: &Record, catalog: &Catalog) -> std::io::Result<()> {
        if !self.header_written {
            write_row(&mut self.buffer, self.header.iter().map(|h| h.as_bytes()));
            self.header_written = true;
        }
        for cell in &mut self.cells {
            cell.clear();
        }
        let t = record.table as usize;
        let table = &catalog.tables[t];
        self.cells[0].extend_from_slice(table.target.as_bytes());
        self.time.write(&mut self.cells[1], record.time);
        // Series of one table may differ in their dimension names.
        for (k, v) in &table.series[record.series as usize].dims {
            if let Some(i) = self.header.iter().position(|h| h == k) {
                self.cells[i].extend_from_slice(v.as_bytes());
            }
        }
        for (m, v) in &record.measures {
            let cell = &mut self.cells[self.measure_columns[t][*m as usize]];
            match v {
                Value::Double(x) => write_f64(cell, *x),
                Value::Bigint(x) => {
                    cell.extend_from_slice(itoa::Buffer::new().format(*x).as_bytes())
                }
                Value::Boolean(b) => cell.extend_from_slice(if *b { b"true" } else { b"false" }),
                Value::Varchar(s) => cell.extend_from_slice(s.as_bytes()),
            }
        }
        write_row(&mut self.buffer, self.cells.iter().map(|c| c.as_slice()));
        if self.buffer.len() >= 1 << 16 {
            self.out.write_all(&self.buffer)?;
            self.buffer.clear();
        }
        Ok(())
    }
}

/// The formats `records` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RecordFormat {
    Jsonl,
    Csv,
}

/// The record stream in the format asked for.
pub(crate) enum RecordWriter<W: Write> {
    Jsonl(JsonLines<W>),
    Csv(Csv<W>),
}

impl<W: Write> RecordWriter<W> {
    pub(crate) fn new(format: RecordFormat, out: W, catalog: &Catalog) -> Self {
        match format {
            RecordFormat::Jsonl => RecordWriter::Jsonl(JsonLines::new(out, catalog)),
            RecordFormat::Csv => RecordWriter::Csv(Csv::new(out, catalog)),
        }
    }

    pub(crate) fn finish(self) -> std::io::Result<W> {
        match self {
            RecordWriter::Jsonl(sink) => sink.finish(),
            RecordWriter::Csv(sink) => sink.finish(),
        }
    }
}

impl<W: Write> Sink for RecordWriter<W> {
    fn record(&mut self, record: &Record, catalog: &Catalog) -> std::io::Result<()> {
        match self {
            RecordWriter::Jsonl(sink) => sink.record(record, catalog),
            RecordWriter::Csv(sink) => sink.record(record, catalog),
        }
    }
}

fn write_row<'a>(out: &mut Vec<u8>, cells: impl Iterator<Item = &'a [u8]>) {
    for (i, cell) in cells.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        if cell
            .iter()
            .any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r'))
        {
            out.push(b'"');
            for &b in cell {
                if b == b'"' {
                    out.push(b'"');
                }
                out.push(b);
            }
            out.push(b'"');
        } else {
            out.extend_from_slice(cell);
        }
    }
    out.push(b'\n');
}
