//! What an apply says while it runs, as data: how far the writes are
//! ([`Progress`], twice a second) and the notices between (a resume's
//! warnings, a signal: [`Notice`]). The engine prints nothing: the command
//! line hands it a [`Say`] that draws them on its stderr (`cli/progress.rs`),
//! which drops what cannot be written, so that a stderr whose reader went
//! away neither stops nor panics a long apply.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use super::report::Signal;
use super::resume::SentAgain;
use crate::record::time_string;
use crate::targets::TargetError;

/// What an apply says while it runs.
pub(crate) enum Said<'a> {
    /// How far the writes are.
    Progress(Progress),
    /// A line of its own, between progress updates.
    Notice(Notice<'a>),
    /// The writes are over: what was drawn for them may go, before the
    /// summary.
    Done,
}

/// Where an apply says what it says: the command line's drawing of it.
pub(crate) type Say<'s> = &'s mut dyn FnMut(Said<'_>);

/// How far the writes are.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Progress {
    /// The records the writes will send.
    pub total: u64,
    pub written: u64,
    pub batches: u64,
    /// Since the writes began.
    pub elapsed: Duration,
    /// Under live pacing, when the next batch is due (ns).
    pub next_due: Option<i64>,
    /// Under live pacing: every batch due so far is written, and the next
    /// waits for its time (`outatime test` starts its expectations then).
    pub caught_up: bool,
}

impl Progress {
    /// Whole percents of the records written.
    pub(crate) fn percent(&self) -> u64 {
        (self.written * 100).checked_div(self.total).unwrap_or(100)
    }
}

/// `120/600 records, 3 batches, 40 records/s, about 12 s left`.
impl fmt::Display for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seconds = self.elapsed.as_secs_f64();
        let rate = if seconds > 0.0 {
            self.written as f64 / seconds
        } else {
            0.0
        };
        write!(
            f,
            "{}/{} records, {} batches, {rate:.0} records/s",
            self.written, self.total, self.batches
        )?;
        if rate > 0.0 && self.written < self.total && self.next_due.is_none() {
            let left = (self.total - self.written) as f64 / rate;
            write!(f, ", about {left:.0} s left")?;
        }
        if let Some(due) = self.next_due {
            write!(f, ", next due {}", time_string(due))?;
        }
        Ok(())
    }
}

/// A line an apply says on its own, worded.
pub(crate) enum Notice<'a> {
    /// `--resume`: the journal holds lines another apply wrote.
    ForeignLines { journal: &'a Path, lines: u64 },
    /// `--resume` of a complete apply whose tables are as it left them.
    AlreadyComplete {
        journal: &'a Path,
        anchor: i64,
        version: i64,
    },
    /// `--resume`: a table's journaled batches are sent again, and why.
    SentAgain(&'a SentAgain),
    /// A new apply replaces the journal of one that did not finish.
    UnfinishedReplaced {
        journal: &'a Path,
        anchor: i64,
        version: i64,
    },
    /// A dry run whose target did not answer goes on without it.
    DescribeFailed(&'a TargetError),
    /// The first SIGINT or SIGTERM.
    Stopping { signal: Signal, in_flight: usize },
}

impl fmt::Display for Notice<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Notice::ForeignLines { journal, lines } => write!(
                f,
                "warning: the journal `{}` holds {lines} lines of another apply: they are not counted, and the batches they name are sent again",
                journal.display()
            ),
            Notice::AlreadyComplete {
                journal,
                anchor,
                version,
            } => write!(
                f,
                "the journal `{}` says the apply at anchor {} (Version {version}) is complete: nothing to do",
                journal.display(),
                time_string(*anchor)
            ),
            Notice::SentAgain(again) => write!(f, "warning: {again}"),
            Notice::UnfinishedReplaced {
                journal,
                anchor,
                version,
            } => write!(
                f,
                "warning: the journal `{}` of an unfinished apply at anchor {} (Version {version}) is replaced: that apply can no longer be resumed",
                journal.display(),
                time_string(*anchor)
            ),
            Notice::DescribeFailed(error) => write!(
                f,
                "warning: {error}\n  the dry run goes on without the preflight's time checks"
            ),
            Notice::Stopping { signal, in_flight } => write!(
                f,
                "{signal}: finishing the {in_flight} request(s) in flight, then stopping (again to stop at once)"
            ),
        }
    }
}

/// What the writes say, and to whom: the dispatch loop's view of a [`Say`].
pub(crate) struct Teller<'s> {
    total: u64,
    say: Say<'s>,
}

impl<'s> Teller<'s> {
    /// For writes that send `total` records.
    pub(crate) fn new(total: u64, say: Say<'s>) -> Teller<'s> {
        Teller { total, say }
    }

    pub(crate) fn progress(
        &mut self,
        written: u64,
        batches: u64,
        elapsed: Duration,
        (next_due, caught_up): (Option<i64>, bool),
    ) {
        (self.say)(Said::Progress(Progress {
            total: self.total,
            written,
            batches,
            elapsed,
            next_due,
            caught_up,
        }));
    }

    pub(crate) fn notice(&mut self, notice: Notice<'_>) {
        (self.say)(Said::Notice(notice));
    }

    /// The writes are over.
    pub(crate) fn done(&mut self) {
        (self.say)(Said::Done);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_in_words() {
        let progress = Progress {
            total: 600,
            written: 120,
            batches: 3,
            elapsed: Duration::from_secs(3),
            next_due: None,
            caught_up: false,
        };
        assert_eq!(
            progress.to_string(),
            "120/600 records, 3 batches, 40 records/s, about 12 s left"
        );
        assert_eq!(progress.percent(), 20);
        let live = Progress {
            next_due: Some(0),
            caught_up: true,
            ..progress
        };
        assert_eq!(
            live.to_string(),
            "120/600 records, 3 batches, 40 records/s, next due 1970-01-01T00:00:00.000Z"
        );
        let nothing = Progress {
            total: 0,
            written: 0,
            elapsed: Duration::ZERO,
            ..progress
        };
        assert_eq!(nothing.percent(), 100);
        assert_eq!(nothing.to_string(), "0/0 records, 3 batches, 0 records/s");
    }
}
