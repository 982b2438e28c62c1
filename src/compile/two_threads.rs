//! The record stream run with its sink on a second thread: the merge and
//! the anomalies on one, formatting and writing on the other.

use super::pipeline::{Batch, Handover, Stopped, pipeline};
use crate::record::{Catalog, Hit, Record, Sink, Value};

/// Records in flat form on their way to the writing thread, refilled batch
/// after batch.
#[derive(Default)]
struct RecordBatch {
    /// (table, time, relative, series, start and length in `values`)
    heads: Vec<(u16, i64, bool, u32, u32, u16)>,
    values: Vec<(u16, Value)>,
}

impl Batch for RecordBatch {
    const ITEMS: usize = 4096;
    const IN_FLIGHT: usize = 2;

    fn len(&self) -> usize {
        self.heads.len()
    }

    fn clear(&mut self) {
        self.heads.clear();
        self.values.clear();
    }
}

impl Sink for Handover<RecordBatch> {
    fn record(&mut self, record: &Record, _: &Catalog) -> std::io::Result<()> {
        self.add(|batch| {
            let start = batch.values.len() as u32;
            batch.values.extend_from_slice(&record.measures);
            batch.heads.push((
                record.table,
                record.time,
                record.relative,
                record.series,
                start,
                record.measures.len() as u16,
            ));
        })
        .map_err(|Stopped| {
            std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the writer stopped")
        })
    }
}

/// Runs the stream for `anchor` with `sink` on a second thread: the merge
/// and the anomalies on this one, formatting and writing on the other (see
/// `pipeline`). The output is byte for byte that of
/// `prepared.run(anchor, sink)`. The records handed over carry table, time,
/// series and measures only (no `steps`, `writers` or `delay`): enough for
/// the output formats, not for `apply`'s Timestream batches.
pub fn run_on_two_threads<S: Sink + Send>(
    prepared: &super::Prepared,
    anchor: i64,
    mut sink: S,
) -> Result<(S, Vec<Hit>), super::CompileError> {
    let catalog = &prepared.catalog;
    let mut record = Record::default();
    let (run, written) = pipeline::<RecordBatch, _, std::io::Error>(
        |handover| prepared.run(anchor, handover),
        |batch| {
            for &(table, time, relative, series, start, len) in &batch.heads {
                record.table = table;
                record.time = time;
                record.relative = relative;
                record.series = series;
                record.measures.clear();
                record.measures.extend_from_slice(
                    &batch.values[start as usize..start as usize + len as usize],
                );
                sink.record(&record, catalog)?;
            }
            Ok(())
        },
    );
    // The writer's own error says more than the handover's.
    written.map_err(super::CompileError::Io)?;
    let hits = run?;
    Ok((sink, hits))
}
