//! The apply engine: one for every target that takes batches (Timestream,
//! InfluxDB, any [`Backend`]).
//!
//! An apply runs in this order, and writes nothing before the last step:
//! 1. describe the tables ([`Backend::describe`]), creating them first if
//!    asked (`--create`): what time window each accepts;
//! 2. the preflight: one pass over the records, cut into the batches the
//!    writes will send, that counts them and refuses (exit 1) when any
//!    would be rejected for its time ([`super::preflight`]);
//! 3. the writes: the stream runs again on a thread of its own, cut into
//!    batches ([`super::batches`]), which a tokio runtime sends
//!    ([`super::dispatch`]) and the journal records as the target
//!    acknowledges them ([`super::journal`]).
//!
//! Every record carries the apply's Version: its start time in ms, or the
//! journaled one on `--resume`.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use super::batches::{Batcher, Cut, Pace};
use super::dispatch::{self, OnReject, Settings, wall_now};
use super::error::{ApplyError, Problem, TargetFailure};
use super::journal::{self, FORMAT, Header, Journal, Resumed};
use super::outcome::{Tables, check_resumable, finish, preflight_refusal, table_reports};
use super::preflight::Scan;
use super::progress::{Notice, Said, Say, Teller};
use super::resume::sent_again;
use super::{Applied, ApplyReport, Outcome, TableReport};
use crate::app::Loaded;
use crate::model::Layout;
use crate::record::shard::{Shard, Sharded};
use crate::record::time_string;
use crate::targets::{Backend, Item, Made, Mark, Owner, TableSpec, TableState};

pub(crate) struct Options {
    /// The target's name in the configuration: the journal checks it.
    pub target_name: String,
    pub create: bool,
    /// `allow_untagged_tables: true` on the target: write into tables
    /// outatime did not create.
    pub allow_untagged_tables: bool,
    pub concurrency: usize,
    pub on_reject: OnReject,
    pub pace: Pace,
    pub shard: Shard,
    pub dry_run: bool,
    /// The journal, whose lock the caller holds for the apply's lifetime
    /// ([`journal::Lock`]; a dry run writes none and takes none).
    pub journal: PathBuf,
    /// `--resume`: the journal as read.
    pub resume: Option<Resumed>,
}

/// Applies the record stream for `anchor` to `target`, saying how it goes
/// through `say` (the engine prints nothing).
pub(crate) fn apply<T: Backend>(
    loaded: &Loaded,
    anchor: i64,
    target: T,
    options: &Options,
    say: Say<'_>,
) -> Result<Applied, ApplyError> {
    let catalog = &loaded.prepared.catalog;
    let specs: Vec<TableSpec> = catalog
        .tables
        .iter()
        .map(|t| {
            let table = &loaded.scenario.tables[&t.name];
            TableSpec {
                name: target.table_name(&t.target),
                layout: table.layout,
                measure_name: table.measure_name.clone(),
            }
        })
        .collect();
    let qualified = specs.iter().map(|t| target.qualified(&t.name)).collect();
    let run = ApplyRun {
        loaded,
        anchor,
        options,
        settings: Settings {
            concurrency: options.concurrency,
            on_reject: options.on_reject,
            live: matches!(options.pace, Pace::Live { .. }),
        },
        tables: Tables { specs, qualified },
        started: std::time::Instant::now(),
        now: wall_now(),
    };
    run.apply(target, say)
}

/// One apply: what it writes, how, and to which tables.
struct ApplyRun<'a> {
    loaded: &'a Loaded,
    anchor: i64,
    options: &'a Options,
    /// What the dispatch loop needs of the options.
    settings: Settings,
    tables: Tables,
    started: std::time::Instant,
    /// The wall clock at the start, ns.
    now: i64,
}

/// Each table's state, by table; `None` where a dry run could not reach
/// the target.
type States = Vec<Option<TableState>>;

/// The empty set of batches a new apply has written.
static NO_BATCHES: std::sync::LazyLock<HashSet<u64>> = std::sync::LazyLock::new(HashSet::new);

impl ApplyRun<'_> {
    fn apply<T: Backend>(&self, mut target: T, say: Say<'_>) -> Result<Applied, ApplyError> {
        let options = self.options;
        let stream_digest = crate::app::stream_digest(self.loaded)?;
        let mut header = self.journal_header(&target, stream_digest);
        let mut report = ApplyReport::new(
            target.label(),
            self.anchor,
            header.stream_digest.clone(),
            BTreeMap::new(),
            self.started,
        );
        report.version = Some(header.version);
        report.shard = options.shard.to_string();
        report.pace = options.pace.words();
        // What the journal pins besides the cut is checked now: a complete
        // journal of another apply must not pass as "already complete".
        if let Some(resumed) = &options.resume {
            check_resumable(&resumed.header, &header, &options.journal, false)?;
            if resumed.foreign > 0 {
                say(Said::Notice(Notice::ForeignLines {
                    journal: &options.journal,
                    lines: resumed.foreign,
                }));
            }
        }

        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|error| {
                ApplyError::target(target.kind(), TargetFailure::RuntimeNotStarted { error })
            })?;
        let (seen, states) = self.describe(&runtime, &mut target, say)?;
        target.start(
            &self.loaded.prepared.catalog,
            &self.tables.specs,
            header.version,
        );
        // A resume skips only what the target still holds, as it was
        // before anything was created now; the rest is sent again.
        let again = match &options.resume {
            Some(resumed) => sent_again(resumed, &seen, &self.tables.qualified),
            None => Vec::new(),
        };
        if let Some(resumed) = options.resume.as_ref().filter(|r| r.complete)
            && again.iter().all(|(_, again)| again.batches == 0)
        {
            report.outcome = Outcome::AlreadyComplete;
            report.resumed_records = resumed.records();
            say(Said::Notice(Notice::AlreadyComplete {
                journal: &options.journal,
                anchor: resumed.header.anchor,
                version: resumed.header.version,
            }));
            return Ok(Applied {
                report,
                failure: None,
                dry_run: String::new(),
            });
        }
        for (_, again) in again.iter().filter(|(_, again)| again.batches > 0) {
            say(Said::Notice(Notice::SentAgain(again)));
        }
        let tables_again: Vec<u16> = again.iter().map(|(table, _)| *table).collect();

        // The preflight: the batches the writes will cut, checked before
        // any is sent; a resume checks only those it has not written.
        let skipped = options.resume.as_ref().map(|r| r.skipped(&tables_again));
        let done = skipped.as_ref().unwrap_or(&NO_BATCHES);
        let scan = self.scan(&target, &states, header.cutoff, done)?;
        header.batches = scan.batches_digest();
        header.run = header.run_id();
        if let Some(resumed) = &options.resume {
            check_resumable(&resumed.header, &header, &options.journal, true)?;
        }
        if !scan.faults.is_empty() || scan.unwritable_count > 0 {
            let refusal =
                preflight_refusal(self.loaded, &scan, &states, &self.tables, options.pace);
            return Err(refusal);
        }
        if options.dry_run {
            return Ok(self.dry_run(report, &scan));
        }
        // New InfluxDB measurements are marked before their first point,
        // so that a later apply and `clean` know them as outatime's.
        let mark = Mark::for_scenario(&self.loaded.scenario.title);
        runtime
            .block_on(target.mark_new(&mark, self.now))
            .map_err(|error| ApplyError::target(target.kind(), error))?;

        let total: u64 = scan.tables.iter().map(|t| t.records).sum();
        let made = self.made(&target, &states);
        let mut journal = match &options.resume {
            Some(resumed) => {
                Journal::append(&options.journal, &resumed.header).and_then(|mut j| {
                    // From here the journal speaks of the tables as they are.
                    for &table in &tables_again {
                        j.made(table, made[table as usize])?;
                    }
                    Ok(j)
                })
            }
            None => {
                self.warn_unfinished(say);
                Journal::create(&options.journal, &header, &made)
            }
        }
        .map_err(|error| {
            let journal = options.journal.clone();
            ApplyError::target(
                target.kind(),
                TargetFailure::JournalNotWritten { journal, error },
            )
        })?;
        let mut teller = Teller::new(total, say);
        let target = Arc::new(target);
        let (mut tally, skipped, produced) =
            self.write(&runtime, &target, &header, done, &mut journal, &mut teller);
        teller.done();
        // The producer stops with a broken pipe when the writes stop first:
        // on a signal, a failure, or a rejection under `--on-reject fail`.
        let stopped_early = tally.interrupted.is_some()
            || !tally.problems.is_empty()
            || (!tally.rejections.is_empty() && options.on_reject == OnReject::Fail);
        if let Err(error) = produced
            && !stopped_early
        {
            tally.problems.push(Problem::Stream { error });
        }
        self.close_journal(&mut journal, &mut tally);
        // Records journaled by an earlier apply were skipped, not sent.
        report.resumed_records = skipped;
        let (report, error) = finish(
            self.loaded,
            report,
            &self.tables,
            &self.settings,
            tally,
            &journal,
            target.kind(),
        );
        Ok(Applied {
            report,
            failure: error,
            dry_run: String::new(),
        })
    }

    /// When each table was made, as the target will say once this apply
    /// has written into it: what the journal keeps (`None`: the target
    /// does not say).
    fn made<T: Backend>(&self, target: &T, states: &[Option<TableState>]) -> Vec<Option<i64>> {
        let marked = target.marked_at(self.now);
        states
            .iter()
            .map(|state| match state {
                Some(TableState::Present(_, _, made)) => made.once_written(marked),
                _ => None,
            })
            .collect()
    }

    /// A new apply replaces the journal at its path: if that journal's
    /// apply did not finish, it can no longer be resumed, which is said.
    fn warn_unfinished(&self, say: Say<'_>) {
        let path = &self.options.journal;
        if let Some(earlier) = journal::unfinished(path) {
            say(Said::Notice(Notice::UnfinishedReplaced {
                journal: path,
                anchor: earlier.anchor,
                version: earlier.version,
            }));
        }
    }

    /// What the journal pins: the target, the tables as resolved, the
    /// stream, the anchor, the Version and the cut (both kept from the
    /// journal on `--resume`); the batches' digest is added after the
    /// preflight.
    fn journal_header<T: Backend>(&self, target: &T, stream_digest: String) -> Header {
        let options = self.options;
        Header {
            outatime_journal: FORMAT,
            // Sealed once the batches are known.
            run: String::new(),
            target: options.target_name.clone(),
            identity: target.identity(),
            tables: self
                .tables
                .specs
                .iter()
                .map(|t| match t.layout {
                    Layout::Multi => format!("{}: multi {}", t.name, t.measure_name),
                    Layout::Single => format!("{}: single", t.name),
                })
                .collect(),
            stream_digest,
            anchor: self.anchor,
            version: options
                .resume
                .as_ref()
                .map_or(self.now / 1_000_000, |r| r.header.version),
            shard: options.shard.to_string(),
            pace: options.pace.words(),
            cutoff: options
                .resume
                .as_ref()
                .map_or(self.now, |r| r.header.cutoff),
            batches: String::new(),
        }
    }

    /// Each table's state as first seen, and as it is once the tables are
    /// created if asked. A dry run goes on without a target it cannot reach
    /// (and then without the preflight's time checks), and creates
    /// nothing; an apply stops. The tables are described before any is
    /// created, so that a table outatime did not create stops the apply
    /// before it makes anything, and a resume knows which it had to make.
    fn describe<T: Backend>(
        &self,
        runtime: &tokio::runtime::Runtime,
        target: &mut T,
        say: Say<'_>,
    ) -> Result<(States, States), ApplyError> {
        let options = self.options;
        let names = self.tables.names();
        let seen: Vec<Option<TableState>> = match runtime.block_on(target.describe(&names, None)) {
            Ok(states) => states.into_iter().map(Some).collect(),
            Err(e) if options.dry_run => {
                say(Said::Notice(Notice::DescribeFailed(&e)));
                vec![None; names.len()]
            }
            Err(error) => return Err(ApplyError::target(target.kind(), error)),
        };
        let create = options.create && !options.dry_run;
        let missing = seen
            .iter()
            .any(|s: &Option<TableState>| matches!(s, Some(TableState::Missing)));
        if !(create && missing) {
            let states = self.resolve_missing(seen.clone(), target)?;
            return Ok((seen, states));
        }
        self.refuse_untagged(&seen, target.kind())?;
        let mark = Mark::for_scenario(&self.loaded.scenario.title);
        let states = runtime
            .block_on(target.describe(&names, Some(&mark)))
            .map_err(|error| ApplyError::target(target.kind(), error))?;
        let states = self.resolve_missing(states.into_iter().map(Some).collect(), target)?;
        Ok((seen, states))
    }

    /// Stops at tables outatime did not create, unless the target allows
    /// them ([`super::preflight::untagged`]).
    fn refuse_untagged(
        &self,
        states: &[Option<TableState>],
        kind: crate::targets::Kind,
    ) -> Result<(), ApplyError> {
        let untagged = super::preflight::untagged(
            states,
            &self.tables.qualified,
            self.options.allow_untagged_tables,
        );
        if untagged.is_empty() {
            return Ok(());
        }
        Err(ApplyError::UntaggedTables {
            tables: untagged,
            mark: kind.into(),
        })
    }

    /// A table that does not exist: with `--dry-run --create` it would be
    /// created with the target's retention; otherwise the apply stops. So
    /// does one that exists without outatime's tag, unless the target
    /// allows it ([`super::preflight::untagged`]).
    fn resolve_missing<T: Backend>(
        &self,
        states: Vec<Option<TableState>>,
        target: &T,
    ) -> Result<Vec<Option<TableState>>, ApplyError> {
        let mut missing = Vec::new();
        let states: Vec<Option<TableState>> = states
            .into_iter()
            .zip(&self.tables.qualified)
            .map(|(state, qualified)| match state {
                Some(TableState::Missing) if self.options.create => Some(TableState::Present(
                    target.created_window(),
                    Owner::Outatime,
                    Made::Unknown,
                )),
                Some(TableState::Missing) => {
                    missing.push(qualified.clone());
                    state
                }
                other => other,
            })
            .collect();
        if !missing.is_empty() {
            return Err(ApplyError::MissingTables {
                tables: missing,
                resume: self.options.resume.is_some(),
            });
        }
        self.refuse_untagged(&states, target.kind())?;
        Ok(states)
    }

    /// How this apply cuts the stream for `target`.
    fn cut<'t, T: Backend>(
        &self,
        target: &'t T,
        size: &'t (dyn Fn(u16, &Item) -> usize + Sync),
        cutoff: i64,
    ) -> Cut<'t> {
        Cut {
            limits: target.limits(),
            size,
            pace: self.options.pace,
            cutoff,
        }
    }

    /// The preflight's pass: the stream cut into the batches the writes
    /// will send, each checked against its table's time window.
    fn scan<'s, T: Backend>(
        &self,
        target: &T,
        states: &'s [Option<TableState>],
        cutoff: i64,
        done: &'s HashSet<u64>,
    ) -> Result<Scan<'s>, ApplyError> {
        let options = self.options;
        let refusal = |table: u16, item: &Item| target.refusal(table, item);
        let mut scan = Scan::new(
            self.tables.specs.len(),
            states,
            options.pace,
            self.now,
            done,
        );
        let size = |table: u16, item: &Item| target.record_size(table, item);
        let mut batcher = Batcher::new(
            |batch| {
                scan.batch(&batch, &refusal);
                Ok(())
            },
            &self.tables.specs,
            self.cut(target, &size, cutoff),
            &NO_BATCHES,
        );
        self.loaded.prepared.run(
            self.anchor,
            &mut Sharded {
                shard: options.shard,
                inner: &mut batcher,
            },
        )?;
        batcher.finish().map_err(crate::compile::CompileError::Io)?;
        drop(batcher);
        Ok(scan)
    }

    /// `--dry-run`: what each table would receive, in words and reported.
    fn dry_run(&self, mut report: ApplyReport, scan: &Scan) -> Applied {
        let mut lines = String::new();
        for (t, qualified) in scan.tables.iter().zip(&self.tables.qualified) {
            let range = match (t.first, t.last) {
                (Some(first), Some(last)) => {
                    format!(", {} .. {}", time_string(first), time_string(last))
                }
                _ => String::new(),
            };
            lines.push_str(&format!(
                "would write {:>10} records to `{qualified}` in {} batches{range}\n",
                t.records, t.batches
            ));
        }
        report.outcome = Outcome::DryRun;
        report.tables = table_reports(
            &self.tables,
            scan.tables.iter().map(|t| TableReport {
                records: t.records,
                batches: Some(t.batches),
                ..TableReport::default()
            }),
        );
        report.records = scan.tables.iter().map(|t| t.records).sum();
        report.batches = Some(scan.tables.iter().map(|t| t.batches).sum());
        report.finish_timing();
        Applied {
            report,
            failure: None,
            dry_run: lines,
        }
    }

    /// The writes: the stream runs again on a thread of its own, cut into
    /// the batches the preflight passed, which the dispatch loop sends.
    /// Returns the tally, the records skipped as already journaled, and
    /// how the stream ended.
    fn write<T: Backend>(
        &self,
        runtime: &tokio::runtime::Runtime,
        target: &Arc<T>,
        header: &Header,
        done: &HashSet<u64>,
        journal: &mut Journal,
        teller: &mut Teller<'_>,
    ) -> (
        dispatch::Tally,
        u64,
        Result<(), crate::compile::CompileError>,
    ) {
        let options = self.options;
        let (sender, receiver) = tokio::sync::mpsc::channel(options.concurrency.max(1) * 2);
        let names = self.tables.names();
        std::thread::scope(|scope| {
            let producer = scope.spawn(|| {
                // Owned here, so the channel closes when the stream ends.
                let sender = sender;
                let size = |table: u16, item: &Item| target.record_size(table, item);
                let mut batcher = Batcher::new(
                    |batch| {
                        sender.blocking_send(batch).map_err(|_| {
                            std::io::Error::new(
                                std::io::ErrorKind::BrokenPipe,
                                "the writes stopped",
                            )
                        })
                    },
                    &self.tables.specs,
                    self.cut(&**target, &size, header.cutoff),
                    done,
                );
                let run = self.loaded.prepared.run(
                    self.anchor,
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
                Arc::clone(target),
                &names,
                &self.settings,
                receiver,
                Some(journal),
                teller,
            ));
            let (skipped, produced) = producer
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (tally, skipped, produced)
        })
    }

    /// Batches with rejected records are not journaled (a resume sends
    /// them again, and they are reported again); the apply is complete only
    /// without them. A journal that cannot be finished is a problem to
    /// report with what was written, not a reason to lose the tally.
    fn close_journal(&self, journal: &mut Journal, tally: &mut dispatch::Tally) {
        let complete =
            tally.interrupted.is_none() && tally.problems.is_empty() && tally.rejections.is_empty();
        let closed = if complete {
            journal.complete()
        } else {
            journal.sync()
        };
        if let Err(error) = closed {
            tally.problems.push(Problem::JournalNotWritten {
                journal: self.options.journal.clone(),
                error,
            });
        }
    }
}
