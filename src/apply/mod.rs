//! Plan → target: `outatime apply`.
//!
//! Two kinds of target: files ([`apply_to_files`]) and Timestream for
//! LiveAnalytics ([`timestream`]). The embedded default is a file target:
//! JSON lines, one file a table, in `./outatime-out/`. Files are written
//! under a temporary name and renamed once complete, so a failed apply
//! leaves the previous files (or none) and the report says exactly what was
//! written.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use serde::Serialize;

pub mod config;
pub mod progress;
pub mod shard;
pub mod timestream;

use crate::commands::{Failure, Loaded};
use crate::compile::output::JsonLines;
use crate::compile::stream::{Catalog, Record, Sink};
use shard::{Shard, Sharded};

/// Where the embedded default target writes, relative to the working folder.
pub const DEFAULT_DIRECTORY: &str = "outatime-out";

/// Exit code for a target that failed (a file that could not be written).
pub const TARGET_FAILURE: u8 = 3;

/// What an apply did, for `--report FILE.json` and the summary.
#[derive(Serialize, Debug)]
pub struct ApplyReport {
    pub target: String,
    pub anchor: String,
    /// The plan's stream digest: which records these are, whatever the anchor.
    pub stream_digest: String,
    /// `written`, `dry run`, `rejected`, `failed`, `interrupted by SIGINT`...
    pub outcome: String,
    /// The Version the records carry (Timestream).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    pub shard: String,
    pub pace: String,
    pub tables: BTreeMap<String, TableReport>,
    /// Records the target accepted.
    pub records: u64,
    pub rejected: u64,
    pub retried: u64,
    pub batches: u64,
    /// Records a resumed apply found journaled as written before.
    pub resumed_records: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub journal: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<ConcurrencyReport>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rejections: Vec<RejectionReport>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
    pub duration_seconds: f64,
    pub records_per_second: f64,
    #[serde(skip)]
    started: std::time::Instant,
}

impl ApplyReport {
    /// The report of an apply that began at `started`: totals and rates
    /// follow from the tables.
    pub fn new(
        target: String,
        anchor: i64,
        stream_digest: String,
        tables: BTreeMap<String, TableReport>,
        started: std::time::Instant,
    ) -> ApplyReport {
        let mut report = ApplyReport {
            target,
            anchor: crate::compile::record::time_string(anchor),
            stream_digest,
            outcome: "written".into(),
            version: None,
            shard: shard::Shard::WHOLE.to_string(),
            pace: "burst".into(),
            records: tables.values().map(|t| t.records).sum(),
            tables,
            rejected: 0,
            retried: 0,
            batches: 0,
            resumed_records: 0,
            journal: None,
            concurrency: None,
            rejections: Vec::new(),
            problems: Vec::new(),
            duration_seconds: 0.0,
            records_per_second: 0.0,
            started,
        };
        report.finish_timing();
        report
    }

    /// Duration and rate as of now.
    pub fn finish_timing(&mut self) {
        let seconds = self.started.elapsed().as_secs_f64();
        self.duration_seconds = seconds;
        self.records_per_second = if seconds > 0.0 {
            self.records as f64 / seconds
        } else {
            0.0
        };
    }
}

#[derive(Serialize, Debug, Default)]
pub struct TableReport {
    /// The file written (file targets).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub file: String,
    /// `database.table` (Timestream).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub table: String,
    pub records: u64,
    pub rejected: u64,
    pub retried: u64,
    pub batches: u64,
}

/// How the number of requests in flight went.
#[derive(Serialize, Debug)]
pub struct ConcurrencyReport {
    /// `--concurrency`.
    pub max: usize,
    pub lowest: usize,
    pub last: usize,
    /// Attempts answered with throttling.
    pub throttled: u64,
}

/// A record the target rejected, traced back to the plan.
#[derive(Serialize, Debug)]
pub struct RejectionReport {
    pub table: String,
    pub time: String,
    pub series: String,
    pub step: String,
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub existing_version: Option<i64>,
}

/// An apply's report, and why it failed if it did: a report is written
/// either way, so a failed apply says exactly what it wrote.
pub struct Applied {
    pub report: ApplyReport,
    pub failure: Option<Failure>,
}

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

fn shard_suffix(shard: Shard) -> String {
    if shard.is_whole() {
        String::new()
    } else {
        format!(".shard-{}-of-{}", shard.index + 1, shard.count)
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
/// nothing.
pub fn apply_to_files(
    loaded: &Loaded,
    anchor: i64,
    directory: &Path,
    shard: Shard,
    dry_run: bool,
) -> Result<ApplyReport, Failure> {
    let started = std::time::Instant::now();
    let stream_digest = crate::commands::stream_digest(loaded)?;
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
        suffix: shard_suffix(shard),
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
        for (table, &records) in catalog.tables.iter().zip(&counts.0) {
            let file = files.file(&table.target);
            println!("would write {records:>10} records to {}", file.display());
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
        report.outcome = "dry run".into();
        return Ok(report);
    }
    let target_failure = |what: String| Failure {
        code: TARGET_FAILURE,
        text: format!(
            "error[outatime::target::file]: {what}\n  help: files are renamed into place table by table once all are written; check the folder's permissions and free space\n"
        ),
    };
    std::fs::create_dir_all(directory)
        .map_err(|e| target_failure(format!("cannot create `{}`: {e}", directory.display())))?;
    // Writing a file is the target's failure (exit 3), not the input's.
    // The merge runs on this thread, formatting and writing on a second.
    let run = crate::compile::output::run_on_two_threads(
        &loaded.prepared,
        anchor,
        Sharded {
            shard,
            inner: &mut files,
        },
    )
    .map(|_| ())
    .map_err(|e| match e {
        crate::compile::CompileError::Io(io) => {
            target_failure(format!("cannot write into `{}`: {io}", directory.display()))
        }
        other => Failure::from(other),
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
    if let Err(e) = closed {
        cleanup(&files);
        return Err(target_failure(format!(
            "cannot write into `{}`: {e}",
            directory.display()
        )));
    }
    let mut tables = BTreeMap::new();
    for (table, partial, records) in &files.written {
        let target = &catalog.tables[*table as usize].target;
        let file = files.file(target);
        std::fs::rename(partial, &file)
            .map_err(|e| target_failure(format!("cannot rename into `{}`: {e}", file.display())))?;
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
        if stale.exists() {
            std::fs::remove_file(&stale)
                .map_err(|e| target_failure(format!("cannot remove `{}`: {e}", stale.display())))?;
        }
        tables.insert(table.target.clone(), TableReport::default());
    }
    Ok(report(tables))
}
