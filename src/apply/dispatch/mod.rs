//! Sending batches to any target: one loop owns the schedule, launches one
//! task per attempt (the target encodes, sends and classifies) and acts on
//! the answers.
//!
//! - At most `limit` attempts are in flight. The limit adapts: it halves
//!   on throttling (once per round: only attempts launched since the last
//!   cut count) and grows by one after `limit` acknowledged batches, up to
//!   `--concurrency` (additive increase, multiplicative decrease).
//! - Throttling, 5xx, timeouts and broken connections are retried with
//!   exponential backoff and jitter (at least as long as the target says,
//!   such as `Retry-After`), up to [`MAX_TRIES`]; validation and auth
//!   errors are not.
//! - A request the target finds too large (HTTP 413) is sent again as two
//!   halves; a batch is acknowledged (journaled) once all its parts are.
//! - Under live pacing a batch waits until it is due.
//! - On SIGINT or SIGTERM nothing new is launched, the attempts in flight
//!   finish and are journaled; a second signal stops at once.
//!
//! The loop is here; the limit and the retries' waits are [`retry`]'s, the
//! batches waiting for a time [`waiting`]'s, the signals [`signals`]'.

mod retry;
mod signals;
mod waiting;

use std::collections::{HashMap, VecDeque};
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::journal::Journal;
use crate::apply::error::Problem;
use crate::apply::progress::{Notice, Teller};
use crate::apply::report::Signal;
use crate::targets::{Answer, Backend, Batch, Origin, RecordRejection};
use retry::{Limit, MAX_TRIES, retry_wait};
use signals::Signals;
use waiting::Waiting;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum OnReject {
    /// Stop launching batches after the first one with rejected records.
    Fail,
    /// Write every batch; report all rejected records at the end.
    Continue,
}

pub(crate) struct Settings {
    pub concurrency: usize,
    pub on_reject: OnReject,
    /// Whether batches wait until they are due (live pacing).
    pub live: bool,
}

/// A record the target refused.
#[derive(Debug, Clone)]
pub(crate) struct Rejection {
    pub table: u16,
    pub origin: Origin,
    pub reason: String,
    pub existing_version: Option<i64>,
}

/// What one table got.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct TableTally {
    /// Records the target accepted.
    pub records: u64,
    pub rejected: u64,
    /// Attempts that were retried.
    pub retried: u64,
    /// Batches acknowledged.
    pub batches: u64,
}

/// How the sending went.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    pub tables: Vec<TableTally>,
    pub rejections: Vec<Rejection>,
    /// Why batches were not written: fatal errors, retries exhausted.
    pub problems: Vec<Problem>,
    /// The signal that stopped the apply.
    pub interrupted: Option<Signal>,
    pub throttled: u64,
    pub lowest_concurrency: usize,
    pub final_concurrency: usize,
}

impl Tally {
    pub(crate) fn written(&self) -> u64 {
        self.tables.iter().map(|t| t.records).sum()
    }
}

/// A batch, or part of one after a split, and its attempts so far.
struct Queued {
    batch: Arc<Batch>,
    /// The records of the batch this attempt sends.
    items: Range<usize>,
    tries: u32,
}

/// A batch split into parts: how many are not answered yet, and whether
/// one had rejected records (then the batch is not journaled).
#[derive(Default)]
struct Parts {
    left: usize,
    rejected: bool,
}

/// One attempt, on a sending task: the target encodes, sends and
/// classifies.
async fn attempt<T: Backend>(target: &T, batch: &Batch, items: Range<usize>) -> Answer {
    let request = target.encode(batch, items);
    let response = target.send(request).await;
    target.classify(response)
}

/// The wall clock in ns since the epoch.
pub(crate) fn wall_now() -> i64 {
    chrono::Utc::now().timestamp_nanos_opt().unwrap_or(i64::MAX)
}

/// Sends what `receiver` hands over until it closes, or until a failure or
/// a signal stops the apply.
pub(crate) async fn dispatch<T: Backend>(
    target: Arc<T>,
    names: &[String],
    settings: &Settings,
    receiver: tokio::sync::mpsc::Receiver<Batch>,
    journal: Option<&mut Journal>,
    teller: &mut Teller<'_>,
) -> Tally {
    let mut tally = Tally {
        tables: vec![TableTally::default(); names.len()],
        ..Tally::default()
    };
    let signals = match Signals::new() {
        Ok(signals) => signals,
        Err(error) => {
            tally.problems.push(Problem::SignalsNotWatched { error });
            return tally;
        }
    };
    let concurrency = settings.concurrency.max(1);
    let mut sending = Sending {
        target,
        names,
        settings,
        journal,
        teller,
        tally,
        limit: Limit::new(concurrency),
        intake: Some(receiver),
        ready: VecDeque::new(),
        waiting: Waiting::default(),
        tasks: tokio::task::JoinSet::new(),
        parts: HashMap::new(),
        stopping: false,
        started_wall: wall_now(),
        started: Instant::now(),
    };
    sending.run(signals).await;
    let mut tally = sending.tally;
    tally.lowest_concurrency = sending.limit.lowest;
    tally.final_concurrency = sending.limit.current;
    tally
}

/// What one attempt's task hands back: the batch, the limit's epoch when
/// it was launched, and how it went.
type Finished = (Queued, u64, Answer);

/// The state of one dispatch: the schedule, the attempts in flight and
/// the tally. [`Sending::run`] is the loop; each event has a method.
struct Sending<'a, 'b, T> {
    target: Arc<T>,
    names: &'a [String],
    settings: &'a Settings,
    journal: Option<&'a mut Journal>,
    teller: &'a mut Teller<'b>,
    tally: Tally,
    limit: Limit,
    /// Closed once the producer is done, or to stop it.
    intake: Option<tokio::sync::mpsc::Receiver<Batch>>,
    ready: VecDeque<Queued>,
    waiting: Waiting,
    tasks: tokio::task::JoinSet<Finished>,
    /// Batches split into parts, by number.
    parts: HashMap<u64, Parts>,
    /// Nothing new is launched; the attempts in flight finish.
    stopping: bool,
    /// When the loop began, on the wall clock and on tokio's.
    started_wall: i64,
    started: Instant,
}

impl<T: Backend> Sending<'_, '_, T> {
    async fn run(&mut self, mut signals: Signals) {
        let mut ticker = tokio::time::interval(Duration::from_millis(500));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            self.launch();
            if self.stopping && self.intake.is_some() {
                // Closing the channel stops the producer.
                self.intake = None;
                self.ready.clear();
                self.waiting.clear();
            }
            let drained = self.intake.is_none() && self.ready.is_empty() && self.waiting.is_empty();
            if self.tasks.is_empty() && (self.stopping || drained) {
                break;
            }
            let wake = self.waiting.next();
            let take_more = self.intake.is_some()
                && (self.settings.live || self.ready.len() < self.limit.current);
            tokio::select! {
                received = async { self.intake.as_mut().expect("checked").recv().await }, if take_more => {
                    self.received(received);
                }
                Some(joined) = self.tasks.join_next(), if !self.tasks.is_empty() => {
                    match joined {
                        Ok(finished) => self.finished(finished),
                        Err(error) => self.stop(Problem::TaskFailed { error }),
                    }
                }
                _ = tokio::time::sleep_until(wake.unwrap_or_else(Instant::now)), if wake.is_some() => {
                    self.waiting.release(Instant::now(), &mut self.ready);
                }
                signal = signals.next() => {
                    if self.signalled(signal) {
                        break;
                    }
                }
                _ = ticker.tick() => self.show_progress(),
            }
        }
    }

    /// Launches ready batches while the limit allows.
    fn launch(&mut self) {
        while !self.stopping && self.tasks.len() < self.limit.current {
            let Some(queued) = self.ready.pop_front() else {
                break;
            };
            let target = Arc::clone(&self.target);
            let epoch = self.limit.epoch;
            self.tasks.spawn(async move {
                let answer = attempt(&*target, &queued.batch, queued.items.clone()).await;
                (queued, epoch, answer)
            });
        }
    }

    /// A batch from the producer, or `None` once it is done.
    fn received(&mut self, received: Option<Batch>) {
        let Some(batch) = received else {
            self.intake = None;
            return;
        };
        let queued = Queued {
            items: 0..batch.items.len(),
            batch: Arc::new(batch),
            tries: 0,
        };
        if self.settings.live && queued.batch.due > wall_now() {
            let at = self.instant_of(queued.batch.due);
            self.waiting.park(at, queued);
        } else {
            self.ready.push_back(queued);
        }
    }

    /// tokio's instant for a wall-clock time in ns.
    fn instant_of(&self, due: i64) -> Instant {
        self.started + Duration::from_nanos(due.saturating_sub(self.started_wall).max(0) as u64)
    }

    /// An attempt came back.
    fn finished(&mut self, (queued, epoch, answer): Finished) {
        let batch = Arc::clone(&queued.batch);
        let t = batch.table as usize;
        match answer {
            Answer::Written => {
                self.tally.tables[t].records += queued.items.len() as u64;
                self.limit.succeeded();
                self.answered(&batch, false);
            }
            Answer::Rejected(rejected) => self.rejected(&batch, queued.items, rejected),
            Answer::Throttled { after, reason } => {
                self.tally.throttled += 1;
                self.limit.throttled(epoch);
                self.retry(queued, after, reason);
            }
            Answer::Retry { after, reason } => self.retry(queued, after, reason),
            Answer::TooLarge => self.split(queued),
            Answer::Failed(reason) => self.stop(Problem::Refused {
                table: self.names[t].clone(),
                batch: batch.index,
                reason,
            }),
        }
    }

    /// A part of a batch, or a whole one, was answered; once every part
    /// is, the batch counts, and is journaled unless a part had rejected
    /// records.
    fn answered(&mut self, batch: &Batch, rejected: bool) {
        let rejected = match self.parts.get_mut(&batch.index) {
            Some(parts) => {
                parts.left -= 1;
                parts.rejected |= rejected;
                if parts.left > 0 {
                    return;
                }
                let rejected = parts.rejected;
                self.parts.remove(&batch.index);
                rejected
            }
            None => rejected,
        };
        self.tally.tables[batch.table as usize].batches += 1;
        if rejected {
            // Answered, but not journaled: a resume sends the batch again
            // (its stored records as no-ops) and so reports its rejections
            // again instead of passing.
            return;
        }
        let count = batch.items.len() as u64;
        if let Some(journal) = self.journal.as_deref_mut()
            && let Err(error) = journal.done(batch.index, batch.table, count)
        {
            let journal = journal.path.clone();
            self.stop(Problem::JournalNotWritten { journal, error });
        }
    }

    /// A request answered with rejected records, by their index in it.
    fn rejected(&mut self, batch: &Batch, items: Range<usize>, rejected: Vec<RecordRejection>) {
        let t = batch.table as usize;
        let count = items.len() as u64;
        self.tally.tables[t].records += count.saturating_sub(rejected.len() as u64);
        self.tally.tables[t].rejected += rejected.len() as u64;
        self.limit.succeeded();
        for r in rejected {
            let Some(origin) = batch.items[items.clone()].get(r.index).map(|i| &i.origin) else {
                self.tally.problems.push(Problem::RejectedUnknownRecord {
                    index: r.index,
                    count,
                    reason: r.reason,
                });
                continue;
            };
            self.tally.rejections.push(Rejection {
                table: batch.table,
                origin: *origin,
                reason: r.reason,
                existing_version: r.existing_version,
            });
        }
        self.answered(batch, true);
        if self.settings.on_reject == OnReject::Fail {
            self.stopping = true;
        }
    }

    /// Too large for the target: the halves go next, each with its own
    /// tries. One record too large is refused for good.
    fn split(&mut self, queued: Queued) {
        let items = queued.items;
        if items.len() < 2 {
            self.stop(Problem::Refused {
                table: self.names[queued.batch.table as usize].clone(),
                batch: queued.batch.index,
                reason: "one record is larger than the target takes in a request".into(),
            });
            return;
        }
        let middle = items.start + items.len() / 2;
        // One part becomes two.
        self.parts
            .entry(queued.batch.index)
            .or_insert(Parts {
                left: 1,
                rejected: false,
            })
            .left += 1;
        for half in [middle..items.end, items.start..middle] {
            self.ready.push_front(Queued {
                batch: Arc::clone(&queued.batch),
                items: half,
                tries: 0,
            });
        }
    }

    /// Throttled or a transient error: again after a backoff (at least
    /// `after`, when the target says), or give up.
    fn retry(&mut self, queued: Queued, after: Option<Duration>, why: String) {
        let Queued {
            batch,
            items,
            tries,
        } = queued;
        let tries = tries + 1;
        if tries >= MAX_TRIES {
            self.stop(Problem::RetriesExhausted {
                table: self.names[batch.table as usize].clone(),
                batch: batch.index,
                tries: MAX_TRIES,
                last: why,
            });
        } else {
            self.tally.tables[batch.table as usize].retried += 1;
            let at = Instant::now() + retry_wait(tries, batch.index, after);
            self.waiting.park(
                at,
                Queued {
                    batch,
                    items,
                    tries,
                },
            );
        }
    }

    /// A problem that stops the apply once the attempts in flight finish.
    fn stop(&mut self, problem: Problem) {
        self.tally.problems.push(problem);
        self.stopping = true;
    }

    /// The first signal stops launching; a second stops at once (`true`).
    fn signalled(&mut self, signal: Signal) -> bool {
        if self.stopping && self.tally.interrupted.is_some() {
            // What was acknowledged is journaled; what was in flight is
            // sent again on resume.
            self.tasks.abort_all();
            return true;
        }
        self.tally.interrupted = Some(signal);
        self.stopping = true;
        self.teller.notice(Notice::Stopping {
            signal,
            in_flight: self.tasks.len(),
        });
        false
    }

    fn show_progress(&mut self) {
        // Under live pacing the next batch's due time (a retry's backoff
        // would show too, briefly); in burst, the time left.
        let next_due = self
            .waiting
            .next()
            .filter(|_| self.settings.live)
            .map(|at| {
                self.started_wall + at.saturating_duration_since(self.started).as_nanos() as i64
            });
        // Nothing in flight or ready, and a batch waiting for its time:
        // the producer has reached the future (batches come in time order),
        // so everything due is written. (A retry waiting out its backoff
        // looks the same, briefly.)
        let caught_up = next_due.is_some() && self.tasks.is_empty() && self.ready.is_empty();
        self.teller.progress(
            self.tally.written(),
            self.tally.tables.iter().map(|t| t.batches).sum(),
            self.started.elapsed(),
            (next_due, caught_up),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Catalog;
    use crate::record::Value;
    use crate::targets::{BatchLimits, Item, TableSpec, TableState, Window, Words};
    use std::sync::Mutex;

    /// What the fake target answers a request: by batch, records and how
    /// many times that request was sent before.
    type Script = dyn Fn(u64, &Range<usize>, u32) -> Answer + Send + Sync;

    /// A target that answers by a script and logs each request it is sent:
    /// the engine's behaviour, with no target behind it.
    struct Fake {
        script: Box<Script>,
        /// (batch, records, when) of every request, in order.
        sent: Mutex<Vec<(u64, Range<usize>, Instant)>>,
    }

    impl Backend for Fake {
        type Request = (u64, Range<usize>);
        type Response = Answer;

        fn label(&self) -> String {
            "fake".into()
        }
        fn kind(&self) -> crate::targets::Kind {
            crate::targets::Kind::Timestream
        }
        fn identity(&self) -> Vec<(String, String)> {
            Vec::new()
        }
        fn table_name(&self, target_name: &str) -> String {
            target_name.into()
        }
        fn qualified(&self, name: &str) -> String {
            name.into()
        }
        fn limits(&self) -> BatchLimits {
            BatchLimits {
                max_records: 100,
                max_bytes: None,
            }
        }
        fn record_size(&self, _: u16, _: &Item) -> usize {
            0
        }
        fn created_window(&self) -> Window {
            let words = || Words {
                why: String::new(),
                fix: String::new(),
            };
            Window {
                max_age: None,
                max_ahead: None,
                retention: String::new(),
                too_old: words(),
                too_new: words(),
            }
        }
        async fn describe(
            &mut self,
            _: &[String],
            _: Option<&crate::targets::Mark>,
        ) -> Result<Vec<TableState>, crate::targets::TargetError> {
            Ok(Vec::new())
        }
        fn start(&mut self, _: &Catalog, _: &[TableSpec], _: i64) {}
        fn encode(&self, batch: &Batch, items: Range<usize>) -> (u64, Range<usize>) {
            (batch.index, items)
        }
        async fn send(&self, (batch, items): (u64, Range<usize>)) -> Answer {
            let mut sent = self.sent.lock().unwrap();
            let before = sent
                .iter()
                .filter(|(b, i, _)| *b == batch && *i == items)
                .count() as u32;
            sent.push((batch, items.clone(), Instant::now()));
            (self.script)(batch, &items, before)
        }
        fn classify(&self, answer: Answer) -> Answer {
            answer
        }
    }

    fn batch(index: u64, records: u32) -> Batch {
        Batch {
            index,
            table: 0,
            due: i64::MIN,
            items: (0..records)
                .map(|series| Item {
                    origin: Origin {
                        time: i64::from(series),
                        delay: 0,
                        series,
                        line: 3,
                    },
                    measures: vec![(0, Value::Bigint(1))],
                })
                .collect(),
        }
    }

    /// Sends `batches` to a fake target answering by `script`, `concurrency`
    /// at a time.
    fn run(
        batches: Vec<Batch>,
        concurrency: usize,
        script: impl Fn(u64, &Range<usize>, u32) -> Answer + Send + Sync + 'static,
        journal: Option<&mut Journal>,
    ) -> (Tally, Vec<(u64, Range<usize>, Instant)>) {
        let fake = Arc::new(Fake {
            script: Box::new(script),
            sent: Mutex::new(Vec::new()),
        });
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let (sender, receiver) = tokio::sync::mpsc::channel(batches.len().max(1));
        for b in batches {
            sender.try_send(b).unwrap();
        }
        drop(sender);
        let settings = Settings {
            concurrency,
            on_reject: OnReject::Continue,
            live: false,
        };
        let mut say = |_: crate::apply::progress::Said<'_>| {};
        let mut teller = Teller::new(0, &mut say);
        let tally = runtime.block_on(dispatch(
            Arc::clone(&fake),
            &["t".to_string()],
            &settings,
            receiver,
            journal,
            &mut teller,
        ));
        let sent = fake.sent.lock().unwrap().clone();
        (tally, sent)
    }

    #[test]
    fn a_request_too_large_is_sent_again_in_halves_and_the_batch_journaled_once() {
        let dir = std::env::temp_dir().join(format!("outatime-split-{}", std::process::id()));
        let path = dir.join("j.jsonl");
        let header = crate::apply::journal::tests::header();
        let mut journal = Journal::create(&path, &header, &[]).unwrap();
        // More than two records is too large.
        let (tally, sent) = run(
            vec![batch(0, 7), batch(1, 2)],
            4,
            |_, items, _| {
                if items.len() > 2 {
                    Answer::TooLarge
                } else {
                    Answer::Written
                }
            },
            Some(&mut journal),
        );
        assert!(tally.problems.is_empty(), "{:?}", tally.problems);
        assert_eq!((tally.written(), tally.tables[0].batches), (9, 2));
        let mut written: Vec<Range<usize>> = sent
            .iter()
            .filter(|(b, i, _)| *b == 0 && i.len() <= 2)
            .map(|(_, i, _)| i.clone())
            .collect();
        written.sort_by_key(|r| r.start);
        assert_eq!(written, vec![0..1, 1..3, 3..5, 5..7]);
        assert!(sent.iter().any(|(b, i, _)| *b == 0 && *i == (0..3)));
        drop(journal);
        let resumed = crate::apply::journal::read(&path).unwrap();
        assert_eq!(
            resumed.skipped(&[]),
            std::collections::HashSet::from([0, 1])
        );
        assert_eq!(resumed.records(), 9);
        std::fs::remove_dir_all(&dir).unwrap();

        // One record too large cannot be split: the apply stops.
        let (tally, _) = run(vec![batch(0, 1)], 1, |_, _, _| Answer::TooLarge, None);
        assert!(matches!(
            tally.problems.as_slice(),
            [Problem::Refused { batch: 0, .. }]
        ));
    }

    #[test]
    fn a_retry_waits_as_long_as_the_target_says() {
        let after = Duration::from_secs(1);
        let (tally, sent) = run(
            vec![batch(0, 5)],
            1,
            move |_, _, before| match before {
                0 => Answer::Retry {
                    after: Some(after),
                    reason: "503 Service Unavailable".into(),
                },
                _ => Answer::Written,
            },
            None,
        );
        assert!(tally.problems.is_empty());
        assert_eq!((tally.written(), tally.tables[0].retried), (5, 1));
        assert_eq!(sent.len(), 2);
        // The backoff of a first retry is at most 100 ms: this is `after`.
        assert!(
            sent[1].2 - sent[0].2 >= after,
            "{:?}",
            sent[1].2 - sent[0].2
        );
        // Throttled: retried too, counted, the limit cut.
        let (tally, _) = run(
            vec![batch(0, 1)],
            4,
            |_, _, before| match before {
                0 => Answer::Throttled {
                    after: None,
                    reason: "429".into(),
                },
                _ => Answer::Written,
            },
            None,
        );
        assert_eq!((tally.throttled, tally.lowest_concurrency), (1, 2));
        assert_eq!(tally.written(), 1);
    }

    #[test]
    fn a_failed_request_stops_the_apply() {
        let (tally, sent) = run(
            vec![batch(0, 2), batch(1, 2), batch(2, 2)],
            1,
            |batch, _, _| match batch {
                0 => Answer::Failed("AccessDenied: no".into()),
                _ => Answer::Written,
            },
            None,
        );
        assert_eq!(sent.len(), 1, "no batch is started after the failure");
        assert_eq!(tally.written(), 0);
        match tally.problems.as_slice() {
            [Problem::Refused { batch, reason, .. }] => {
                assert_eq!((*batch, reason.as_str()), (0, "AccessDenied: no"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn rejections_are_reported_by_their_index_in_the_request() {
        let dir = std::env::temp_dir().join(format!("outatime-reject-{}", std::process::id()));
        let path = dir.join("j.jsonl");
        let header = crate::apply::journal::tests::header();
        let mut journal = Journal::create(&path, &header, &[]).unwrap();
        // Split in two; the second half rejects its record 1: the batch's 3.
        let (tally, _) = run(
            vec![batch(0, 4), batch(1, 1)],
            2,
            |_, items, _| match (items.len(), items.start) {
                (4, _) => Answer::TooLarge,
                (2, 2) => Answer::Rejected(vec![RecordRejection {
                    index: 1,
                    reason: "Version is too low".into(),
                    existing_version: Some(7),
                }]),
                _ => Answer::Written,
            },
            Some(&mut journal),
        );
        assert!(tally.problems.is_empty(), "{:?}", tally.problems);
        assert_eq!(
            (
                tally.written(),
                tally.tables[0].rejected,
                tally.tables[0].batches
            ),
            (4, 1, 2)
        );
        let [rejection] = tally.rejections.as_slice() else {
            panic!("{:?}", tally.rejections);
        };
        assert_eq!(rejection.origin.series, 3);
        assert_eq!(rejection.existing_version, Some(7));
        drop(journal);
        // A batch with a rejection is not journaled: a resume sends it again.
        let resumed = crate::apply::journal::read(&path).unwrap();
        assert_eq!(resumed.skipped(&[]), std::collections::HashSet::from([1]));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
