//! Sending batches: one loop owns the schedule, launches one task per
//! WriteRecords attempt and reads the outcomes.
//!
//! - At most `limit` attempts are in flight. The limit adapts: it halves
//!   on throttling (once per round: only attempts launched since the last
//!   cut count) and grows by one after `limit` acknowledged batches, up to
//!   `--concurrency` (additive increase, multiplicative decrease).
//! - Throttling, 5xx, timeouts and broken connections are retried with
//!   exponential backoff and jitter, up to [`MAX_TRIES`]; validation and
//!   auth errors are not.
//! - Under live pacing a batch waits until it is due.
//! - On SIGINT or SIGTERM nothing new is launched, the attempts in flight
//!   finish and are journaled; a second signal stops at once.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use aws_config::retry::ErrorKind;
use aws_sdk_timestreamwrite::Client;
use aws_sdk_timestreamwrite::error::SdkError;
use aws_sdk_timestreamwrite::operation::write_records::WriteRecordsError;
use tokio::time::Instant;

use super::batches::{Batch, Origin, Shapes};
use super::client::error_text;
use super::journal::Journal;
use crate::apply::error::Problem;
use crate::apply::progress::Progress;
use crate::apply::report::Signal;

/// Attempts of one batch before the apply gives up on it.
pub(crate) const MAX_TRIES: u32 = 8;
/// The first retry waits up to this long; each next one up to twice that.
const BACKOFF_BASE: Duration = Duration::from_millis(100);
const BACKOFF_CAP: Duration = Duration::from_secs(5);

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

/// The outcome of one attempt.
enum Attempt {
    Written,
    Rejected(Vec<(usize, String, Option<i64>)>),
    Throttled(String),
    Retryable(String),
    Fatal(String),
}

/// Additive increase, multiplicative decrease.
struct Limit {
    current: usize,
    max: usize,
    lowest: usize,
    /// Acknowledged batches since the limit last grew.
    streak: usize,
    /// Bumped at each cut: a throttled attempt launched before the last
    /// cut does not cut again.
    epoch: u64,
}

impl Limit {
    fn throttled(&mut self, launched_in: u64) {
        if launched_in == self.epoch && self.current > 1 {
            self.current /= 2;
            self.lowest = self.lowest.min(self.current);
            self.epoch += 1;
            self.streak = 0;
        }
    }

    fn succeeded(&mut self) {
        self.streak += 1;
        if self.streak >= self.current && self.current < self.max {
            self.current += 1;
            self.streak = 0;
        }
    }
}

struct Queued {
    batch: Arc<Batch>,
    tries: u32,
}

/// A retry's wait: exponential, and the upper half random so that
/// batches throttled together do not come back together.
fn backoff(tries: u32, seed: u64) -> Duration {
    let ceiling = BACKOFF_BASE
        .saturating_mul(1 << tries.saturating_sub(1).min(16))
        .min(BACKOFF_CAP);
    let half = ceiling / 2;
    // The batch and try, mixed with the clock.
    let clock = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64)
        .unwrap_or(0);
    let z = crate::compile::random::mix(seed ^ clock ^ (u64::from(tries) << 48));
    let fraction = (z >> 11) as f64 / (1u64 << 53) as f64;
    half + half.mul_f64(fraction)
}

async fn attempt(
    client: &Client,
    database: &str,
    table: &str,
    batch: &Batch,
    shapes: &Shapes,
) -> Attempt {
    let (common, records) = batch.request(shapes);
    let result = client
        .write_records()
        .database_name(database)
        .table_name(table)
        .common_attributes(common)
        .set_records(Some(records))
        .send()
        .await;
    match result {
        Ok(_) => Attempt::Written,
        Err(error) => classify(error),
    }
}

fn classify(
    error: SdkError<WriteRecordsError, aws_sdk_timestreamwrite::config::http::HttpResponse>,
) -> Attempt {
    let text = error_text(&error);
    match &error {
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            match service.err() {
                WriteRecordsError::RejectedRecordsException(r) => Attempt::Rejected(
                    r.rejected_records()
                        .iter()
                        .map(|r| {
                            (
                                r.record_index().max(0) as usize,
                                r.reason().unwrap_or("rejected").to_string(),
                                r.existing_version(),
                            )
                        })
                        .collect(),
                ),
                WriteRecordsError::ThrottlingException(_) => Attempt::Throttled(text),
                _ if status == 429 => Attempt::Throttled(text),
                WriteRecordsError::InternalServerException(_) => Attempt::Retryable(text),
                _ if status >= 500 => Attempt::Retryable(text),
                _ => Attempt::Fatal(text),
            }
        }
        SdkError::TimeoutError(_) => Attempt::Retryable("the request timed out".into()),
        SdkError::ResponseError(_) => Attempt::Retryable(text),
        SdkError::DispatchFailure(failure) if failure.is_io() || failure.is_timeout() => {
            Attempt::Retryable(text)
        }
        // A connection closed before the response ("connection closed before
        // message completed") is neither: the connector marks it transient.
        SdkError::DispatchFailure(failure) => match failure.as_other() {
            Some(ErrorKind::ThrottlingError) => Attempt::Throttled(text),
            Some(ErrorKind::TransientError | ErrorKind::ServerError) => Attempt::Retryable(text),
            _ => Attempt::Fatal(text),
        },
        _ => Attempt::Fatal(text),
    }
}

/// The wall clock in ns since the epoch.
pub(crate) fn wall_now() -> i64 {
    chrono::Utc::now().timestamp_nanos_opt().unwrap_or(i64::MAX)
}

/// Sends what `receiver` hands over until it closes, or until a failure or
/// a signal stops the apply.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn dispatch(
    client: &Client,
    database: &str,
    names: &[String],
    settings: &Settings,
    shapes: Arc<Shapes>,
    receiver: tokio::sync::mpsc::Receiver<Batch>,
    journal: Option<&mut Journal>,
    progress: &mut Progress,
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
        client,
        database,
        names,
        settings,
        shapes,
        journal,
        progress,
        tally,
        limit: Limit {
            current: concurrency,
            max: concurrency,
            lowest: concurrency,
            streak: 0,
            epoch: 0,
        },
        intake: Some(receiver),
        ready: VecDeque::new(),
        waiting: Waiting::default(),
        tasks: tokio::task::JoinSet::new(),
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
type Finished = (Queued, u64, Attempt);

/// Batches waiting for a time: not yet due (live pacing), or a retry
/// waiting out its backoff.
#[derive(Default)]
struct Waiting {
    /// By the instant each is due, then batch number.
    schedule: BinaryHeap<Reverse<(Instant, u64)>>,
    batches: HashMap<u64, Queued>,
}

impl Waiting {
    fn park(&mut self, at: Instant, queued: Queued) {
        self.schedule.push(Reverse((at, queued.batch.index)));
        self.batches.insert(queued.batch.index, queued);
    }

    /// When the next one is due.
    fn next(&self) -> Option<Instant> {
        self.schedule.peek().map(|Reverse((at, _))| *at)
    }

    fn is_empty(&self) -> bool {
        self.schedule.is_empty()
    }

    fn clear(&mut self) {
        self.schedule.clear();
        self.batches.clear();
    }

    /// Moves what is due by `now` to the end of `ready`.
    fn release(&mut self, now: Instant, ready: &mut VecDeque<Queued>) {
        while let Some(Reverse((at, index))) = self.schedule.peek().copied() {
            if at > now {
                break;
            }
            self.schedule.pop();
            if let Some(queued) = self.batches.remove(&index) {
                ready.push_back(queued);
            }
        }
    }
}

/// The state of one dispatch: the schedule, the attempts in flight and
/// the tally. [`Sending::run`] is the loop; each event has a method.
struct Sending<'a> {
    client: &'a Client,
    database: &'a str,
    names: &'a [String],
    settings: &'a Settings,
    shapes: Arc<Shapes>,
    journal: Option<&'a mut Journal>,
    progress: &'a mut Progress,
    tally: Tally,
    limit: Limit,
    /// Closed once the producer is done, or to stop it.
    intake: Option<tokio::sync::mpsc::Receiver<Batch>>,
    ready: VecDeque<Queued>,
    waiting: Waiting,
    tasks: tokio::task::JoinSet<Finished>,
    /// Nothing new is launched; the attempts in flight finish.
    stopping: bool,
    /// When the loop began, on the wall clock and on tokio's.
    started_wall: i64,
    started: Instant,
}

impl Sending<'_> {
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
            let client = self.client.clone();
            let database = self.database.to_string();
            let table = self.names[queued.batch.table as usize].clone();
            let epoch = self.limit.epoch;
            let shapes = Arc::clone(&self.shapes);
            self.tasks.spawn(async move {
                let outcome = attempt(&client, &database, &table, &queued.batch, &shapes).await;
                (queued, epoch, outcome)
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
    fn finished(&mut self, (queued, epoch, outcome): Finished) {
        let batch = Arc::clone(&queued.batch);
        let t = batch.table as usize;
        let count = batch.items.len() as u64;
        match outcome {
            Attempt::Written => {
                self.tally.tables[t].records += count;
                self.limit.succeeded();
                self.acknowledged(&batch);
            }
            Attempt::Rejected(rejected) => self.rejected(&batch, rejected),
            Attempt::Throttled(why) => {
                self.tally.throttled += 1;
                self.limit.throttled(epoch);
                self.retry(queued, why);
            }
            Attempt::Retryable(why) => self.retry(queued, why),
            Attempt::Fatal(reason) => self.stop(Problem::Refused {
                table: self.names[t].clone(),
                batch: batch.index,
                reason,
            }),
        }
    }

    /// A batch the target took whole: counted and journaled.
    fn acknowledged(&mut self, batch: &Batch) {
        self.tally.tables[batch.table as usize].batches += 1;
        let count = batch.items.len() as u64;
        if let Some(journal) = self.journal.as_deref_mut()
            && let Err(error) = journal.done(batch.index, count)
        {
            let journal = journal.path.clone();
            self.stop(Problem::JournalNotWritten { journal, error });
        }
    }

    /// A batch answered with rejected records.
    fn rejected(&mut self, batch: &Batch, rejected: Vec<(usize, String, Option<i64>)>) {
        let t = batch.table as usize;
        let count = batch.items.len() as u64;
        self.tally.tables[t].records += count.saturating_sub(rejected.len() as u64);
        self.tally.tables[t].rejected += rejected.len() as u64;
        // Answered, but not journaled: a resume sends the batch again (its
        // stored records as no-ops) and so reports its rejections again
        // instead of passing.
        self.tally.tables[t].batches += 1;
        self.limit.succeeded();
        for (index, reason, existing_version) in rejected {
            let Some(origin) = batch.items.get(index).map(|i| &i.origin) else {
                self.tally.problems.push(Problem::RejectedUnknownRecord {
                    index,
                    count,
                    reason,
                });
                continue;
            };
            self.tally.rejections.push(Rejection {
                table: batch.table,
                origin: *origin,
                reason,
                existing_version,
            });
        }
        if self.settings.on_reject == OnReject::Fail {
            self.stopping = true;
        }
    }

    /// Throttled or a transient error: again after a backoff, or give up.
    fn retry(&mut self, queued: Queued, why: String) {
        let batch = queued.batch;
        let tries = queued.tries + 1;
        if tries >= MAX_TRIES {
            self.stop(Problem::RetriesExhausted {
                table: self.names[batch.table as usize].clone(),
                batch: batch.index,
                tries: MAX_TRIES,
                last: why,
            });
        } else {
            self.tally.tables[batch.table as usize].retried += 1;
            let at = Instant::now() + backoff(tries, batch.index);
            self.waiting.park(at, Queued { batch, tries });
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
        self.progress.note(&format!(
            "{signal}: finishing the {} request(s) in flight, then stopping (again to stop at once)",
            self.tasks.len()
        ));
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
        self.progress.update(
            self.tally.written(),
            self.tally.tables.iter().map(|t| t.batches).sum(),
            next_due,
        );
    }
}

/// SIGINT and SIGTERM.
struct Signals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> std::io::Result<Signals> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Signals {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    async fn next(&mut self) -> Signal {
        tokio::select! {
            _ = self.interrupt.recv() => Signal::Interrupt,
            _ = self.terminate.recv() => Signal::Terminate,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_halves_once_per_round_of_throttling_and_grows_back() {
        let mut limit = Limit {
            current: 16,
            max: 16,
            lowest: 16,
            streak: 0,
            epoch: 0,
        };
        // Sixteen attempts launched at limit 16 all throttled: one cut.
        for _ in 0..16 {
            limit.throttled(0);
        }
        assert_eq!((limit.current, limit.lowest), (8, 8));
        // One launched after the cut is throttled too: another cut.
        limit.throttled(1);
        assert_eq!(limit.current, 4);
        limit.throttled(2);
        limit.throttled(3);
        limit.throttled(4);
        assert_eq!((limit.current, limit.lowest), (1, 1));
        limit.throttled(5);
        assert_eq!(limit.current, 1, "never below one");
        // Growing back: one more per `current` acknowledged batches.
        for _ in 0..1 + 2 + 3 {
            limit.succeeded();
        }
        assert_eq!(limit.current, 4);
        for _ in 0..1000 {
            limit.succeeded();
        }
        assert_eq!(limit.current, 16, "never above --concurrency");
    }

    #[test]
    fn backoff_grows_exponentially_with_jitter_in_its_upper_half() {
        for tries in 1..12 {
            let ceiling = (BACKOFF_BASE * (1 << (tries - 1))).min(BACKOFF_CAP);
            let waits: Vec<Duration> = (0..50).map(|seed| backoff(tries, seed)).collect();
            assert!(
                waits.iter().all(|w| *w >= ceiling / 2 && *w <= ceiling),
                "{tries}"
            );
            assert!(waits.iter().any(|w| *w != waits[0]), "jittered at {tries}");
        }
    }
}
