//! Target → comparison: `outatime verify` reads back what the stream for an
//! anchor should have written and says what is missing, unexpected or
//! different.
//!
//! The comparison is target-neutral. The expected stream is the compiled
//! scenario run at the anchor (through the shard filter, as `apply` runs
//! it); it arrives sorted by table, time and series, and is cut into time
//! slices of about [`SLICE_RECORDS`] records. For each slice the target's
//! [`Reader`] is asked for the records in the same half-open time range, the
//! two are compared, and both are dropped: memory holds one slice, never
//! the stream. The slices of a table cover its time range from its first
//! expected record to its last without gaps, so a record found anywhere in
//! that range is either expected or unexpected; records outside it are not
//! looked at.
//!
//! A reader per kind of target, beside the target's writer in `targets/`:
//! the JSON lines a file target wrote, Timestream's Query API, InfluxQL
//! over `/query`.

pub(crate) mod error;
pub(crate) mod report;

use std::collections::HashMap;

use crate::app::Loaded;
use crate::record::Value;
use crate::record::shard::{Shard, Sharded};
use crate::record::{Catalog, Record, Sink, TableCatalog};
use crate::targets::read::{ReadTable, Reader};
pub(crate) use error::VerifyError;
use report::{Difference, Listed, SeriesRecord, VerifyReport};

/// How many expected records one slice holds (more when many records share
/// the slice's last instant: a slice never splits an instant).
pub(crate) const SLICE_RECORDS: usize = 10_000;

/// Compares the stream of `loaded` at `anchor` (one shard of it) with what
/// `reader` returns. `keep_all`: the report lists every difference (for
/// `--report`); otherwise the first [`report::SHOWN`] of each kind.
pub(crate) fn verify(
    loaded: &Loaded,
    anchor: i64,
    shard: Shard,
    reader: &mut dyn Reader,
    keep_all: bool,
) -> Result<VerifyReport, VerifyError> {
    let catalog = &loaded.prepared.catalog;
    let mut report = VerifyReport::new(reader.describe(), anchor, shard, keep_all);
    for (index, table) in catalog.tables.iter().enumerate() {
        let spec = spec(index, table);
        report.add_table(&table.target, reader.table_name(&spec));
    }
    let mut comparer = Comparer {
        reader,
        shard,
        report,
        table: None,
        slice_from: 0,
        last_time: 0,
        buffer: Vec::new(),
        series_index: HashMap::new(),
        failed: None,
    };
    let run = loaded.prepared.run(
        anchor,
        &mut Sharded {
            shard,
            inner: &mut comparer,
        },
    );
    if let Some(error) = comparer.failed.take() {
        return Err(error);
    }
    run?;
    comparer.finish_table(catalog)?;
    comparer.report.close();
    Ok(comparer.report)
}

fn spec(index: usize, table: &TableCatalog) -> ReadTable<'_> {
    ReadTable {
        index,
        target: &table.target,
        measures: &table.measures,
    }
}

/// An expected record of the slice being gathered.
struct Expected {
    series: u32,
    time: i64,
    measures: Vec<(u16, Value)>,
}

/// The sink that gathers a slice, asks the reader and compares.
struct Comparer<'r> {
    reader: &'r mut dyn Reader,
    shard: Shard,
    report: VerifyReport,
    /// The table being compared.
    table: Option<u16>,
    /// Where the slice being gathered starts.
    slice_from: i64,
    /// The time of the last expected record.
    last_time: i64,
    buffer: Vec<Expected>,
    /// The table's series by dimensions.
    series_index: HashMap<Vec<(String, String)>, u32>,
    /// A reader's failure: the stream stops, and `verify` returns it.
    failed: Option<VerifyError>,
}

/// A found record's series: one of the scenario's, or another.
#[derive(Hash, PartialEq, Eq, Clone)]
enum SeriesId {
    Known(u32),
    Other(Vec<(String, String)>),
}

/// A slice's found records: measures by series and time, joined from the
/// parts a reader hands over.
type FoundSlice = HashMap<(SeriesId, i64), Vec<(String, Value)>>;

impl Sink for Comparer<'_> {
    fn record(&mut self, record: &Record, catalog: &Catalog) -> std::io::Result<()> {
        let result = self.take(record, catalog);
        result.map_err(|error| {
            self.failed = Some(error);
            std::io::Error::other("the target could not be read")
        })
    }
}

impl Comparer<'_> {
    fn take(&mut self, record: &Record, catalog: &Catalog) -> Result<(), VerifyError> {
        if self.table != Some(record.table) {
            self.finish_table(catalog)?;
            self.table = Some(record.table);
            self.slice_from = record.time;
            self.series_index = catalog.tables[record.table as usize]
                .series
                .iter()
                .enumerate()
                .map(|(i, s)| (s.dims.clone(), i as u32))
                .collect();
        } else if self.buffer.len() >= SLICE_RECORDS && record.time != self.last_time {
            self.compare_slice(catalog, record.time)?;
            self.slice_from = record.time;
        }
        self.last_time = record.time;
        self.buffer.push(Expected {
            series: record.series,
            time: record.time,
            measures: record.measures.clone(),
        });
        Ok(())
    }

    /// Compares the last slice of the table being compared.
    fn finish_table(&mut self, catalog: &Catalog) -> Result<(), VerifyError> {
        if self.table.is_some() {
            let end = self.last_time.saturating_add(1);
            self.compare_slice(catalog, end)?;
            self.table = None;
        }
        Ok(())
    }

    /// Reads `[slice_from, to)` of the current table and compares it with
    /// the gathered records, which are then dropped.
    fn compare_slice(&mut self, catalog: &Catalog, to: i64) -> Result<(), VerifyError> {
        let Some(table) = self.table else {
            return Ok(());
        };
        let t = &catalog.tables[table as usize];
        let spec = spec(table as usize, t);
        let mut found: FoundSlice = HashMap::new();
        let shard = self.shard;
        let series_index = &self.series_index;
        self.reader
            .read(&spec, self.slice_from, to, &mut |record| {
                let id = match series_index.get(&record.dims) {
                    Some(&i) => SeriesId::Known(i),
                    None => SeriesId::Other(record.dims),
                };
                let key = match &id {
                    SeriesId::Known(i) => t.series[*i as usize].key,
                    SeriesId::Other(dims) => crate::record::series_key(dims),
                };
                // Another shard's series is another job's to verify.
                if !shard.takes(key) {
                    return;
                }
                found
                    .entry((id, record.time))
                    .or_default()
                    .extend(record.measures);
            })?;
        let tally = self.report.table_mut(&t.target);
        for expected in self.buffer.drain(..) {
            let series = &t.series[expected.series as usize].dims;
            tally.expected(series);
            let Some(measures) = found.remove(&(SeriesId::Known(expected.series), expected.time))
            else {
                tally.missing(SeriesRecord::new(series, expected.time));
                continue;
            };
            tally.found(series);
            let mut differs = Vec::new();
            for (m, value) in &expected.measures {
                let name = &t.measures[*m as usize].0;
                let got = measures.iter().find(|(n, _)| n == name).map(|(_, v)| v);
                if got != Some(value) {
                    differs.push(Difference {
                        measure: name.clone(),
                        expected: Some(value.clone()),
                        found: got.cloned(),
                    });
                }
            }
            for (name, value) in &measures {
                let known = expected
                    .measures
                    .iter()
                    .any(|(m, _)| &t.measures[*m as usize].0 == name);
                if !known && !differs.iter().any(|d| &d.measure == name) {
                    differs.push(Difference {
                        measure: name.clone(),
                        expected: None,
                        found: Some(value.clone()),
                    });
                }
            }
            if !differs.is_empty() {
                tally.differing(SeriesRecord::new(series, expected.time), differs);
            }
        }
        // What is left was found and not expected. Sorted, so that the
        // report's lists do not follow a hash map's order.
        let mut left: Vec<_> = found.into_iter().collect();
        let dims_of = |id: &SeriesId| -> Vec<(String, String)> {
            match id {
                SeriesId::Known(i) => t.series[*i as usize].dims.clone(),
                SeriesId::Other(dims) => dims.clone(),
            }
        };
        left.sort_by_cached_key(|((id, time), _)| (*time, dims_of(id)));
        for ((id, time), mut measures) in left {
            measures.sort_by(|a, b| a.0.cmp(&b.0));
            let dims = dims_of(&id);
            tally.unexpected(Listed {
                record: SeriesRecord::new(&dims, time),
                measures,
            });
        }
        Ok(())
    }
}
