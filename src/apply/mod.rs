//! Plan → target: `outatime apply`.
//!
//! Two kinds of target: files ([`apply_to_files`]), written whole, and
//! targets that take batches ([`crate::targets::Backend`], such as
//! Timestream for LiveAnalytics), which one engine drives ([`engine`]:
//! [`batches`], [`preflight`], [`dispatch`], [`journal`], [`outcome`]).
//! The embedded default is a file target: JSON lines, one file a table, in
//! `./outatime-out/`. Files are written
//! under a temporary name and renamed once complete
//! ([`crate::output_file`]: a link planted in the folder is never written
//! through), so a failed apply leaves the previous files (or none) and the
//! report says exactly what was written.

use std::collections::BTreeMap;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

pub(crate) mod batches;
pub(crate) mod dispatch;
pub(crate) mod engine;
pub(crate) mod error;
pub(crate) mod journal;
mod outcome;
pub(crate) mod preflight;
pub(crate) mod progress;
pub(crate) mod report;
mod resume;

pub(crate) use report::{ApplyReport, ConcurrencyReport, Outcome, RejectionReport, TableReport};

use crate::app::Loaded;
use crate::output_file::{Complete, OutputFile};
use crate::record::output::JsonLines;
use crate::record::shard::{Shard, Sharded};
use crate::record::{Catalog, Record, Sink};
use error::ApplyError;

/// An apply's report, and why it failed if it did: a report is written
/// either way, so a failed apply says exactly what it wrote.
pub(crate) struct Applied {
    pub report: ApplyReport,
    pub failure: Option<ApplyError>,
    /// What a dry run would write, a line a table, for stdout.
    pub dry_run: String,
}

/// Where the embedded default target writes, relative to the working folder.
pub(crate) const DEFAULT_DIRECTORY: &str = "outatime-out";

/// One JSON-lines file a table, switched as the sorted stream moves on.
/// Each is written under a temporary name of its own; dropped, the files
/// not yet renamed into place are removed.
struct Files {
    directory: PathBuf,
    /// `.shard-K-of-N` with `--shard`, so shards can share a folder.
    suffix: String,
    current: Option<(u16, JsonLines<BufWriter<OutputFile>>)>,
    /// Complete and synced, renamed once every table's file is.
    written: Vec<(u16, Complete, u64)>,
}

impl Files {
    fn file(&self, target: &str) -> PathBuf {
        self.directory
            .join(format!("{target}{}.jsonl", self.suffix))
    }

    fn close(&mut self) -> std::io::Result<()> {
        if let Some((table, sink)) = self.current.take() {
            let records = sink.records;
            let complete = sink
                .finish()
                .and_then(|w| w.into_inner().map_err(|e| e.into_error()))
                .and_then(OutputFile::finish)?;
            self.written.push((table, complete, records));
        }
        Ok(())
    }
}

/// Counts stream records by table (a file target's dry run).
struct Counts(Vec<u64>);

impl Sink for Counts {
    fn record(&mut self, record: &Record, _: &Catalog) -> std::io::Result<()> {
        self.0[record.table as usize] += 1;
        Ok(())
    }
}

impl Sink for Files {
    fn record(&mut self, record: &Record, catalog: &Catalog) -> std::io::Result<()> {
        if self.current.as_ref().map(|(t, _)| *t) != Some(record.table) {
            self.close()?;
            let path = self.file(&catalog.tables[record.table as usize].target);
            let file = BufWriter::with_capacity(1 << 16, OutputFile::create(&path)?);
            self.current = Some((record.table, JsonLines::new(file, catalog)));
        }
        let (_, sink) = self.current.as_mut().expect("opened above");
        sink.record(record, catalog)
    }
}

/// Writes the record stream for `anchor` to `directory`, one file a table;
/// with `shard`, only that shard's series. A dry run counts and writes
/// nothing, and says what it would write, a line a table (the second
/// value; empty otherwise).
pub(crate) fn apply_to_files(
    loaded: &Loaded,
    anchor: i64,
    directory: &Path,
    shard: Shard,
    dry_run: bool,
) -> Result<(ApplyReport, String), ApplyError> {
    let started = std::time::Instant::now();
    let stream_digest = crate::app::stream_digest(loaded)?;
    let catalog = &loaded.prepared.catalog;
    let report = |tables| {
        let mut report = ApplyReport::new(
            format!("file {}", directory.display()),
            anchor,
            stream_digest.clone(),
            tables,
            started,
        );
        report.shard = shard.to_string();
        report
    };
    let mut files = Files {
        directory: directory.to_path_buf(),
        suffix: shard.file_suffix(),
        current: None,
        written: Vec::new(),
    };
    if dry_run {
        let mut counts = Counts(vec![0; catalog.tables.len()]);
        loaded.prepared.run(
            anchor,
            &mut Sharded {
                shard,
                inner: &mut counts,
            },
        )?;
        let mut tables = BTreeMap::new();
        let mut lines = String::new();
        for (table, &records) in catalog.tables.iter().zip(&counts.0) {
            let file = files.file(&table.target);
            lines.push_str(&format!(
                "would write {records:>10} records to {}\n",
                file.display()
            ));
            tables.insert(
                table.target.clone(),
                TableReport {
                    file: file.display().to_string(),
                    records,
                    ..TableReport::default()
                },
            );
        }
        let mut report = report(tables);
        report.outcome = Outcome::DryRun;
        return Ok((report, lines));
    }
    // The folder's own name is checked too: written through a planted
    // link, the files (and the removal of stale ones) would land where it
    // leads. `components` leaves out a trailing `/`, which would follow it.
    let own_name: PathBuf = directory.components().collect();
    if let Ok(to) = std::fs::read_link(&own_name) {
        return Err(ApplyError::FolderIsLink {
            folder: directory.to_path_buf(),
            to,
        });
    }
    std::fs::create_dir_all(directory).map_err(|error| ApplyError::FolderNotCreated {
        folder: directory.to_path_buf(),
        error,
    })?;
    // Writing a file is the target's failure (exit 3), not the input's.
    // The merge runs on this thread, formatting and writing on a second.
    let run = crate::compile::run_on_two_threads(
        &loaded.prepared,
        anchor,
        Sharded {
            shard,
            inner: &mut files,
        },
    )
    .map(|_| ())
    .map_err(|e| match e {
        crate::compile::CompileError::Io(error) => ApplyError::FileNotWritten {
            folder: directory.to_path_buf(),
            error,
        },
        other => ApplyError::Compile(other),
    });
    // On a failure, `files` is dropped on the way out, and with it every
    // temporary file.
    let closed = files.close();
    run?;
    closed.map_err(|error| ApplyError::FileNotWritten {
        folder: directory.to_path_buf(),
        error,
    })?;
    let mut tables = BTreeMap::new();
    let written = std::mem::take(&mut files.written);
    let made: Vec<u16> = written.iter().map(|(table, _, _)| *table).collect();
    for (table, complete, records) in written {
        let target = &catalog.tables[table as usize].target;
        let file = files.file(target);
        if let Err(error) = complete.commit() {
            return Err(ApplyError::FileNotRenamed { file, error });
        }
        tables.insert(
            target.clone(),
            TableReport {
                file: file.display().to_string(),
                records,
                ..TableReport::default()
            },
        );
    }
    // A table that got no records this time keeps no file from an earlier
    // apply: the folder says what this apply wrote, and nothing else.
    for (i, table) in catalog.tables.iter().enumerate() {
        if made.iter().any(|t| *t as usize == i) {
            continue;
        }
        // A link at the name is removed as a link, never what it points at.
        let stale = files.file(&table.target);
        if std::fs::symlink_metadata(&stale).is_ok()
            && let Err(error) = std::fs::remove_file(&stale)
        {
            return Err(ApplyError::FileNotRemoved { file: stale, error });
        }
        tables.insert(table.target.clone(), TableReport::default());
    }
    Ok((report(tables), String::new()))
}
