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
use crate::apply::progress::Progress;

/// Attempts of one batch before the apply gives up on it.
pub const MAX_TRIES: u32 = 8;
/// The first retry waits up to this long; each next one up to twice that.
const BACKOFF_BASE: Duration = Duration::from_millis(100);
const BACKOFF_CAP: Duration = Duration::from_secs(5);

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OnReject {
    /// Stop launching batches after the first one with rejected records.
    Fail,
    /// Write every batch; report all rejected records at the end.
    Continue,
}

pub struct Settings {
    pub concurrency: usize,
    pub on_reject: OnReject,
    /// Whether batches wait until they are due (live pacing).
    pub live: bool,
}

/// A record the target refused.
#[derive(Debug, Clone)]
pub struct Rejection {
    pub table: u16,
    pub origin: Origin,
    pub reason: String,
    pub existing_version: Option<i64>,
}

/// What one table got.
#[derive(Debug, Clone, Copy, Default)]
pub struct TableTally {
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
pub struct Tally {
    pub tables: Vec<TableTally>,
    pub rejections: Vec<Rejection>,
    /// Why batches were not written: fatal errors, retries exhausted.
    pub problems: Vec<String>,
    /// The signal that stopped the apply.
    pub interrupted: Option<&'static str>,
    pub throttled: u64,
    pub lowest_concurrency: usize,
    pub final_concurrency: usize,
}

impl Tally {
    pub fn written(&self) -> u64 {
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

/// Whether an attempt was throttled, kept past the match that moves it.
enum Kind {
    Throttled,
    Other,
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
pub fn wall_now() -> i64 {
    chrono::Utc::now().timestamp_nanos_opt().unwrap_or(i64::MAX)
}

/// Sends what `receiver` hands over until it closes, or until a failure or
/// a signal stops the apply.
#[allow(clippy::too_many_arguments)]
pub async fn dispatch(
    client: &Client,
    database: &str,
    names: &[String],
    settings: &Settings,
    shapes: Arc<Shapes>,
    receiver: tokio::sync::mpsc::Receiver<Batch>,
    mut journal: Option<&mut Journal>,
    progress: &mut Progress,
) -> Tally {
    let mut tally = Tally {
        tables: vec![TableTally::default(); names.len()],
        ..Tally::default()
    };
    let mut limit = Limit {
        current: settings.concurrency.max(1),
        max: settings.concurrency.max(1),
        lowest: settings.concurrency.max(1),
        streak: 0,
        epoch: 0,
    };
    let signals = Signals::new();
    let mut signals = match signals {
        Ok(s) => s,
        Err(e) => {
            tally
                .problems
                .push(format!("cannot watch for signals: {e}"));
            return tally;
        }
    };
    let mut intake = Some(receiver);
    let mut ready: VecDeque<Queued> = VecDeque::new();
    // Batches not yet due (live pacing) and retries waiting out a backoff.
    let mut waiting: BinaryHeap<Reverse<(Instant, u64)>> = BinaryHeap::new();
    let mut parked: HashMap<u64, Queued> = HashMap::new();
    let mut tasks = tokio::task::JoinSet::new();
    let mut stopping = false;
    let mut ticker = tokio::time::interval(Duration::from_millis(500));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let started_wall = wall_now();
    let started = Instant::now();
    let instant_of =
        |due: i64| started + Duration::from_nanos(due.saturating_sub(started_wall).max(0) as u64);
    loop {
        while !stopping && tasks.len() < limit.current {
            let Some(queued) = ready.pop_front() else {
                break;
            };
            let client = client.clone();
            let database = database.to_string();
            let table = names[queued.batch.table as usize].clone();
            let epoch = limit.epoch;
            let shapes = Arc::clone(&shapes);
            tasks.spawn(async move {
                let outcome = attempt(&client, &database, &table, &queued.batch, &shapes).await;
                (queued, epoch, outcome)
            });
        }
        if stopping && intake.is_some() {
            // Closing the channel stops the producer.
            intake = None;
            ready.clear();
            waiting.clear();
            parked.clear();
        }
        let drained = intake.is_none() && ready.is_empty() && waiting.is_empty();
        if tasks.is_empty() && (stopping || drained) {
            break;
        }
        let wake = waiting.peek().map(|Reverse((at, _))| *at);
        let take_more = intake.is_some() && (settings.live || ready.len() < limit.current);
        tokio::select! {
            received = async { intake.as_mut().expect("checked").recv().await }, if take_more => {
                match received {
                    Some(batch) => {
                        let queued = Queued { batch: Arc::new(batch), tries: 0 };
                        if settings.live && queued.batch.due > wall_now() {
                            let at = instant_of(queued.batch.due);
                            waiting.push(Reverse((at, queued.batch.index)));
                            parked.insert(queued.batch.index, queued);
                        } else {
                            ready.push_back(queued);
                        }
                    }
                    None => intake = None,
                }
            }
            Some(joined) = tasks.join_next(), if !tasks.is_empty() => {
                let (queued, epoch, outcome) = match joined {
                    Ok(done) => done,
                    Err(e) => {
                        tally.problems.push(format!("a write task failed: {e}"));
                        stopping = true;
                        continue;
                    }
                };
                let batch = Arc::clone(&queued.batch);
                let t = batch.table as usize;
                let count = batch.items.len() as u64;
                let mut acknowledged = false;
                let outcome_kind = match outcome {
                    Attempt::Throttled(_) => Kind::Throttled,
                    _ => Kind::Other,
                };
                match outcome {
                    Attempt::Written => {
                        tally.tables[t].records += count;
                        acknowledged = true;
                        limit.succeeded();
                    }
                    Attempt::Rejected(rejected) => {
                        tally.tables[t].records += count.saturating_sub(rejected.len() as u64);
                        tally.tables[t].rejected += rejected.len() as u64;
                        // Answered, but not journaled: a resume sends the
                        // batch again (its stored records as no-ops) and so
                        // reports its rejections again instead of passing.
                        tally.tables[t].batches += 1;
                        limit.succeeded();
                        for (index, reason, existing_version) in rejected {
                            let Some(origin) = batch.items.get(index).map(|i| &i.origin) else {
                                tally.problems.push(format!(
                                    "the target rejected record {index} of a batch of {count}: {reason}"
                                ));
                                continue;
                            };
                            tally.rejections.push(Rejection {
                                table: batch.table,
                                origin: *origin,
                                reason,
                                existing_version,
                            });
                        }
                        if settings.on_reject == OnReject::Fail {
                            stopping = true;
                        }
                    }
                    Attempt::Throttled(why) | Attempt::Retryable(why) => {
                        if matches!(outcome_kind, Kind::Throttled) {
                            tally.throttled += 1;
                            limit.throttled(epoch);
                        }
                        let tries = queued.tries + 1;
                        if tries >= MAX_TRIES {
                            tally.problems.push(format!(
                                "table `{}`: batch {} failed {MAX_TRIES} times, last: {why}",
                                names[batch.table as usize], batch.index
                            ));
                            stopping = true;
                        } else {
                            tally.tables[t].retried += 1;
                            let at = Instant::now() + backoff(tries, batch.index);
                            waiting.push(Reverse((at, batch.index)));
                            parked.insert(batch.index, Queued { batch: Arc::clone(&batch), tries });
                        }
                    }
                    Attempt::Fatal(why) => {
                        tally.problems.push(format!(
                            "table `{}`: batch {} was refused: {why}",
                            names[batch.table as usize], batch.index
                        ));
                        stopping = true;
                    }
                }
                if acknowledged {
                    tally.tables[t].batches += 1;
                    if let Some(journal) = journal.as_deref_mut()
                        && let Err(e) = journal.done(batch.index, count)
                    {
                        tally.problems.push(format!(
                            "cannot write the journal `{}`: {e}",
                            journal.path.display()
                        ));
                        stopping = true;
                    }
                }
            }
            _ = tokio::time::sleep_until(wake.unwrap_or_else(Instant::now)), if wake.is_some() => {
                let now = Instant::now();
                while let Some(Reverse((at, index))) = waiting.peek().copied() {
                    if at > now {
                        break;
                    }
                    waiting.pop();
                    if let Some(queued) = parked.remove(&index) {
                        ready.push_back(queued);
                    }
                }
            }
            name = signals.next() => {
                if stopping && tally.interrupted.is_some() {
                    // A second signal: stop now. What was acknowledged is
                    // journaled; what was in flight is sent again on resume.
                    tasks.abort_all();
                    break;
                }
                tally.interrupted = Some(name);
                stopping = true;
                progress.note(&format!(
                    "{name}: finishing the {} request(s) in flight, then stopping (again to stop at once)",
                    tasks.len()
                ));
            }
            _ = ticker.tick() => {
                // Under live pacing the next batch's due time (a retry's
                // backoff would show too, briefly); in burst, the time left.
                let next_due = waiting
                    .peek()
                    .filter(|_| settings.live)
                    .map(|Reverse((at, _))| started_wall + at.saturating_duration_since(started).as_nanos() as i64);
                progress.update(tally.written(), tally.tables.iter().map(|t| t.batches).sum(), next_due);
            }
        }
    }
    tally.lowest_concurrency = limit.lowest;
    tally.final_concurrency = limit.current;
    tally
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

    async fn next(&mut self) -> &'static str {
        tokio::select! {
            _ = self.interrupt.recv() => "SIGINT",
            _ = self.terminate.recv() => "SIGTERM",
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
