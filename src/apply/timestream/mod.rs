//! The Timestream for LiveAnalytics target, through `aws-sdk-timestreamwrite`.
//!
//! An apply runs in this order, and writes nothing before the last step:
//! 1. create the database and tables if asked (`--create`), and wait until
//!    the tables are ACTIVE;
//! 2. describe the tables: what retention they have;
//! 3. the preflight: one pass over the records that counts them and refuses
//!    (exit 1) when any would be rejected for its time;
//! 4. the writes: the stream runs again on a thread of its own, cut into
//!    batches ([`batches`]), which a tokio runtime sends ([`dispatch`]) and
//!    the journal records as the target acknowledges them ([`journal`]).
//!
//! Every record carries the apply's Version: its start time in ms, or the
//! journaled one on `--resume`. Re-applying the same plan at the same
//! anchor writes identical records, which Timestream accepts; an edited plan
//! applied later carries a higher Version, so its values replace the old.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::time::Duration;

pub(crate) mod batches;
pub(crate) mod client;
pub(crate) mod dispatch;
pub(crate) mod journal;
mod outcome;
pub(crate) mod preflight;

use crate::compile::record::time_string;
use batches::{Batcher, Pace, Shapes};
use client::{TableState, Window};
use dispatch::{OnReject, Settings, wall_now};
use journal::{Header, Journal, Resumed};
use outcome::{check_resumable, finish, preflight_refusal, table_reports};
use preflight::Scan;

use super::config::TimestreamTarget;
use super::error::{ApplyError, Problem};
use super::progress::Progress;
use super::shard::{Shard, Sharded};
use super::{Applied, ApplyReport, Outcome, TableReport};
use crate::commands::{Failure, Loaded};
use crate::validate::model::Layout;

pub(crate) struct Options {
    /// The target's name in the configuration: the journal checks it.
    pub target_name: String,
    pub create: bool,
    pub concurrency: usize,
    pub request_timeout: Duration,
    pub on_reject: OnReject,
    pub pace: Pace,
    pub shard: Shard,
    pub dry_run: bool,
    pub journal: PathBuf,
    /// `--resume`: the journal as read.
    pub resume: Option<Resumed>,
}

/// The tables of one apply as the target names them, and how each is laid
/// out; indexed like the catalogue's tables.
struct Tables {
    names: Vec<String>,
    layouts: Vec<(Layout, String)>,
    layout_kinds: Vec<Layout>,
}

impl Tables {
    fn new(loaded: &Loaded, target: &TimestreamTarget) -> Tables {
        let catalog = &loaded.prepared.catalog;
        let names = catalog
            .tables
            .iter()
            .map(|t| format!("{}{}{}", target.table_prefix, t.target, target.table_suffix))
            .collect();
        let layouts: Vec<(Layout, String)> = catalog
            .tables
            .iter()
            .map(|t| {
                let table = &loaded.scenario.tables[&t.name];
                (table.layout, table.measure_name.clone())
            })
            .collect();
        let layout_kinds = layouts.iter().map(|(layout, _)| *layout).collect();
        Tables {
            names,
            layouts,
            layout_kinds,
        }
    }
}

pub(crate) fn apply(
    loaded: &Loaded,
    anchor: i64,
    target: &TimestreamTarget,
    options: &Options,
) -> Result<Applied, Failure> {
    let started = std::time::Instant::now();
    let now = wall_now();
    let stream_digest = crate::commands::stream_digest(loaded)?;
    let tables = Tables::new(loaded, target);
    let mut header = journal_header(target, options, &tables, stream_digest, anchor, now);
    let mut report = ApplyReport::new(
        format!("timestream {}", target.database),
        anchor,
        header.stream_digest.clone(),
        BTreeMap::new(),
        started,
    );
    report.version = Some(header.version);
    report.shard = options.shard.to_string();
    report.pace = options.pace.words();
    // What the journal pins besides the cut is checked now: a complete
    // journal of another apply must not pass as "already complete".
    if let Some(resumed) = &options.resume {
        check_resumable(&resumed.header, &header, &options.journal, false)?;
    }
    if let Some(resumed) = options.resume.as_ref().filter(|r| r.complete) {
        report.outcome = Outcome::AlreadyComplete;
        report.resumed_records = resumed.records;
        eprintln!(
            "the journal `{}` says this apply is complete: nothing to do",
            options.journal.display()
        );
        return Ok(Applied {
            report,
            failure: None,
        });
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|error| ApplyError::RuntimeNotStarted { error })?;
    let (client, states) = connect(&runtime, target, &tables.names, options)?;

    // The preflight: the batches the writes will cut, checked before any
    // is sent; a resume checks only those it has not written.
    let no_batches = HashSet::new();
    let done = options.resume.as_ref().map_or(&no_batches, |r| &r.done);
    let scan = scan(
        loaded,
        anchor,
        &tables,
        &states,
        options,
        now,
        header.cutoff,
        done,
    )?;
    header.batches = scan.batches_digest();
    if let Some(resumed) = &options.resume {
        check_resumable(&resumed.header, &header, &options.journal, true)?;
    }
    if !scan.faults.is_empty() {
        let refusal =
            preflight_refusal(loaded, &scan, &states, &tables.names, target, options.pace);
        return Err(refusal.into());
    }
    let Some(client) = client.filter(|_| !options.dry_run) else {
        return Ok(dry_run(report, &scan, &tables.names, target));
    };

    let total: u64 = scan.tables.iter().map(|t| t.records).sum();
    let mut journal = match &options.resume {
        Some(_) => Journal::append(&options.journal),
        None => Journal::create(&options.journal, &header),
    }
    .map_err(|error| ApplyError::JournalNotWritten {
        journal: options.journal.clone(),
        error,
    })?;
    let mut progress = Progress::new(total);
    let (mut tally, skipped, produced) = write(
        &runtime,
        &client,
        loaded,
        anchor,
        target,
        options,
        &tables,
        &header,
        done,
        &mut journal,
        &mut progress,
    );
    progress.clear();
    // The producer stops with a broken pipe when the writes stop first: on
    // a signal, a failure, or a rejection under `--on-reject fail`.
    let stopped_early = tally.interrupted.is_some()
        || !tally.problems.is_empty()
        || (!tally.rejections.is_empty() && options.on_reject == OnReject::Fail);
    if let Err(error) = produced
        && !stopped_early
    {
        tally.problems.push(Problem::Stream { error });
    }
    close_journal(&mut journal, &mut tally, options);
    Ok(finish(
        loaded,
        report,
        &tables.names,
        target,
        options,
        tally,
        skipped,
        &journal,
    ))
}

/// What the journal pins: the target, the tables as resolved, the stream,
/// the anchor, the Version and the cut (both kept from the journal on
/// `--resume`); the batches' digest is added after the preflight.
fn journal_header(
    target: &TimestreamTarget,
    options: &Options,
    tables: &Tables,
    stream_digest: String,
    anchor: i64,
    now: i64,
) -> Header {
    Header {
        outatime_journal: 1,
        target: options.target_name.clone(),
        region: target.region.clone(),
        endpoint: target.endpoint_url.clone().unwrap_or_default(),
        database: target.database.clone(),
        tables: tables
            .names
            .iter()
            .zip(&tables.layouts)
            .map(|(name, (layout, measure_name))| match layout {
                Layout::Multi => format!("{name}: multi {measure_name}"),
                Layout::Single => format!("{name}: single"),
            })
            .collect(),
        stream_digest,
        anchor,
        version: options
            .resume
            .as_ref()
            .map_or(now / 1_000_000, |r| r.header.version),
        shard: options.shard.to_string(),
        pace: options.pace.words(),
        cutoff: options.resume.as_ref().map_or(now, |r| r.header.cutoff),
        batches: String::new(),
    }
}

/// The client, the tables created if asked, and each table's state. A dry
/// run goes on without a target it cannot reach (and then without the
/// preflight's time checks); an apply stops.
fn connect(
    runtime: &tokio::runtime::Runtime,
    target: &TimestreamTarget,
    names: &[String],
    options: &Options,
) -> Result<
    (
        Option<aws_sdk_timestreamwrite::Client>,
        Vec<Option<TableState>>,
    ),
    Failure,
> {
    let unreachable = |e: String| {
        eprintln!("warning: {e}\n  the dry run goes on without the preflight's time checks");
    };
    let client = match runtime.block_on(client::client(target, options.request_timeout)) {
        Ok(client) => Some(client),
        Err(e) if options.dry_run => {
            unreachable(e);
            None
        }
        Err(reason) => return Err(ApplyError::Timestream { reason }.into()),
    };
    if let Some(client) = client
        .as_ref()
        .filter(|_| options.create && !options.dry_run)
    {
        runtime
            .block_on(client::create(client, target, names))
            .map_err(|reason| ApplyError::Timestream { reason })?;
    }
    let described = match &client {
        Some(client) => runtime.block_on(client::describe(client, &target.database, names)),
        None => Err(String::new()),
    };
    let states = match described {
        Ok(states) => states.into_iter().map(Some).collect(),
        Err(e) if options.dry_run => {
            if !e.is_empty() {
                unreachable(e);
            }
            vec![None; names.len()]
        }
        Err(reason) => return Err(ApplyError::Timestream { reason }.into()),
    };
    let states = resolve_missing(states, names, target, options)?;
    Ok((client, states))
}

/// The preflight's pass: the stream cut into the batches the writes will
/// send, each checked against its table's time window.
#[allow(clippy::too_many_arguments)]
fn scan<'a>(
    loaded: &Loaded,
    anchor: i64,
    tables: &Tables,
    states: &'a [Option<TableState>],
    options: &Options,
    now: i64,
    cutoff: i64,
    done: &'a HashSet<u64>,
) -> Result<Scan<'a>, Failure> {
    let no_batches = HashSet::new();
    let mut scan = Scan::new(tables.names.len(), states, options.pace, now, done);
    let mut batcher = Batcher::new(
        |batch| {
            scan.batch(&batch);
            Ok(())
        },
        &tables.layout_kinds,
        options.pace,
        cutoff,
        &no_batches,
    );
    loaded.prepared.run(
        anchor,
        &mut Sharded {
            shard: options.shard,
            inner: &mut batcher,
        },
    )?;
    batcher
        .finish()
        .map_err(|e| Failure::from(crate::compile::CompileError::Io(e)))?;
    drop(batcher);
    Ok(scan)
}

/// `--dry-run`: what each table would receive, printed and reported.
fn dry_run(
    mut report: ApplyReport,
    scan: &Scan,
    names: &[String],
    target: &TimestreamTarget,
) -> Applied {
    for (i, t) in scan.tables.iter().enumerate() {
        let range = match (t.first, t.last) {
            (Some(first), Some(last)) => {
                format!(", {} .. {}", time_string(first), time_string(last))
            }
            _ => String::new(),
        };
        println!(
            "would write {:>10} records to `{}.{}` in {} batches{range}",
            t.records, target.database, names[i], t.batches
        );
    }
    report.outcome = Outcome::DryRun;
    report.tables = table_reports(
        names,
        &target.database,
        scan.tables.iter().map(|t| TableReport {
            records: t.records,
            batches: t.batches,
            ..TableReport::default()
        }),
    );
    report.records = scan.tables.iter().map(|t| t.records).sum();
    report.batches = scan.tables.iter().map(|t| t.batches).sum();
    report.finish_timing();
    Applied {
        report,
        failure: None,
    }
}

/// The writes: the stream runs again on a thread of its own, cut into the
/// batches the preflight passed, which the dispatch loop sends. Returns the
/// tally, the batches skipped as already journaled, and how the stream
/// ended.
#[allow(clippy::too_many_arguments)]
fn write(
    runtime: &tokio::runtime::Runtime,
    client: &aws_sdk_timestreamwrite::Client,
    loaded: &Loaded,
    anchor: i64,
    target: &TimestreamTarget,
    options: &Options,
    tables: &Tables,
    header: &Header,
    done: &HashSet<u64>,
    journal: &mut Journal,
    progress: &mut Progress,
) -> (
    dispatch::Tally,
    u64,
    Result<(), crate::compile::CompileError>,
) {
    let settings = Settings {
        concurrency: options.concurrency,
        on_reject: options.on_reject,
        live: matches!(options.pace, Pace::Live { .. }),
    };
    let (sender, receiver) = tokio::sync::mpsc::channel(options.concurrency.max(1) * 2);
    std::thread::scope(|scope| {
        let producer = scope.spawn(|| {
            // Owned here, so the channel closes when the stream ends.
            let sender = sender;
            let mut batcher = Batcher::new(
                |batch| {
                    sender.blocking_send(batch).map_err(|_| {
                        std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the writes stopped")
                    })
                },
                &tables.layout_kinds,
                options.pace,
                header.cutoff,
                done,
            );
            let run = loaded.prepared.run(
                anchor,
                &mut Sharded {
                    shard: options.shard,
                    inner: &mut batcher,
                },
            );
            let finished = run
                .map(|_| ())
                .and_then(|()| batcher.finish().map_err(crate::compile::CompileError::Io));
            (batcher.skipped, finished)
        });
        let tally = runtime.block_on(dispatch::dispatch(
            client,
            &target.database,
            &tables.names,
            &settings,
            std::sync::Arc::new(Shapes::new(
                &loaded.prepared.catalog,
                &tables.layouts,
                header.version,
            )),
            receiver,
            Some(journal),
            progress,
        ));
        let (skipped, produced) = producer
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (tally, skipped, produced)
    })
}

/// Batches with rejected records are not journaled (a resume sends them
/// again, and they are reported again); the apply is complete only without
/// them. A journal that cannot be finished is a problem to report with what
/// was written, not a reason to lose the tally.
fn close_journal(journal: &mut Journal, tally: &mut dispatch::Tally, options: &Options) {
    let complete =
        tally.interrupted.is_none() && tally.problems.is_empty() && tally.rejections.is_empty();
    let closed = if complete {
        journal.complete()
    } else {
        journal.sync()
    };
    if let Err(error) = closed {
        tally.problems.push(Problem::JournalNotWritten {
            journal: options.journal.clone(),
            error,
        });
    }
}

/// A table that does not exist: with `--dry-run --create` it would be
/// created with the target's retention; otherwise the apply stops.
fn resolve_missing(
    states: Vec<Option<TableState>>,
    names: &[String],
    target: &TimestreamTarget,
    options: &Options,
) -> Result<Vec<Option<TableState>>, Failure> {
    let mut missing = Vec::new();
    let states = states
        .into_iter()
        .zip(names)
        .map(|(state, name)| match state {
            Some(TableState::Missing) if options.create => {
                Some(TableState::Present(target.retention.map_or(
                    Window {
                        memory_hours: 6,
                        magnetic_days: 73_000,
                        magnetic_writes: false,
                    },
                    Window::from,
                )))
            }
            Some(TableState::Missing) => {
                missing.push(format!("{}.{name}", target.database));
                state
            }
            other => other,
        })
        .collect();
    if missing.is_empty() {
        return Ok(states);
    }
    Err(ApplyError::MissingTables { tables: missing }.into())
}
