//! Plan → target: `outatime apply`.
//!
//! Two kinds of target: files ([`apply_to_files`]), written whole, and
//! targets that take batches ([`crate::targets::Backend`], such as
//! Timestream for LiveAnalytics), which one engine drives ([`engine`]:
//! [`batches`], [`preflight`], [`dispatch`], [`journal`], [`outcome`]).
//! The embedded default is a file target: JSON lines, one file a table, in
//! `./outatime-out/`. Files are written
//! under a temporary name and renamed once complete, so a failed apply
//! leaves the previous files (or none) and the report says exactly what was
//! written.

use std::collections::BTreeMap;
use std::fs::File;
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
struct Files {
    directory: PathBuf,
    /// `.shard-K-of-N` with `--shard`, so shards can share a folder.
    suffix: String,
    current: Option<(u16, JsonLines<BufWriter<File>>, PathBuf)>,
    written: Vec<(u16, PathBuf, u64)>,
}

impl Files {
    fn partial(&self, target: &str) -> PathBuf {
        self.directory
            .join(format!(".{target}{}.jsonl.partial", self.suffix))
    }

    fn file(&self, target: &str) -> PathBuf {
        self.directory
            .join(format!("{target}{}.jsonl", self.suffix))
    }

    fn close(&mut self) -> std::io::Result<()> {
        if let Some((table, sink, path)) = self.current.take() {
            let records = sink.records;
            let synced = sink
                .finish()
                .and_then(|w| w.into_inner().map_err(|e| e.into_error()))
                .and_then(|file| file.sync_all());
            if let Err(e) = synced {
                let _ = std::fs::remove_file(&path);
                return Err(e);
            }
            self.written.push((table, path, records));
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
        if self.current.as_ref().map(|(t, _, _)| *t) != Some(record.table) {
            self.close()?;
            let path = self.partial(&catalog.tables[record.table as usize].target);
            let file = BufWriter::with_capacity(1 << 16, File::create(&path)?);
            self.current = Some((record.table, JsonLines::new(file, catalog), path));
        }
        let (_, sink, _) = self.current.as_mut().expect("opened above");
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
    let closed = files.close();
    let cleanup = |files: &Files| {
        for (_, path, _) in &files.written {
            let _ = std::fs::remove_file(path);
        }
        if let Some((_, _, path)) = &files.current {
            let _ = std::fs::remove_file(path);
        }
    };
    if let Err(failure) = run {
        cleanup(&files);
        return Err(failure);
    }
    if let Err(error) = closed {
        cleanup(&files);
        return Err(ApplyError::FileNotWritten {
            folder: directory.to_path_buf(),
            error,
        });
    }
    let mut tables = BTreeMap::new();
    for (table, partial, records) in &files.written {
        let target = &catalog.tables[*table as usize].target;
        let file = files.file(target);
        if let Err(error) = std::fs::rename(partial, &file) {
            return Err(ApplyError::FileNotRenamed { file, error });
        }
        tables.insert(
            target.clone(),
            TableReport {
                file: file.display().to_string(),
                records: *records,
                ..TableReport::default()
            },
        );
    }
    // A table that got no records this time keeps no file from an earlier
    // apply: the folder says what this apply wrote, and nothing else.
    for (i, table) in catalog.tables.iter().enumerate() {
        if files.written.iter().any(|(t, _, _)| *t as usize == i) {
            continue;
        }
        let stale = files.file(&table.target);
        if stale.exists()
            && let Err(error) = std::fs::remove_file(&stale)
        {
            return Err(ApplyError::FileNotRemoved { file: stale, error });
        }
        tables.insert(table.target.clone(), TableReport::default());
    }
    Ok((report(tables), String::new()))
}
