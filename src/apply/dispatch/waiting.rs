//! Batches waiting for a time: not yet due under live pacing, or a retry
//! waiting out its backoff, by the instant each is due.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};

use tokio::time::Instant;

use super::Queued;

/// Batches waiting for a time: not yet due (live pacing), or a retry
/// waiting out its backoff.
#[derive(Default)]
pub(super) struct Waiting {
    /// By the instant each is due, then batch number and first record.
    schedule: BinaryHeap<Reverse<(Instant, u64, usize)>>,
    batches: HashMap<(u64, usize), Queued>,
}

impl Waiting {
    pub(super) fn park(&mut self, at: Instant, queued: Queued) {
        let key = (queued.batch.index, queued.items.start);
        self.schedule.push(Reverse((at, key.0, key.1)));
        self.batches.insert(key, queued);
    }

    /// When the next one is due.
    pub(super) fn next(&self) -> Option<Instant> {
        self.schedule.peek().map(|Reverse((at, _, _))| *at)
    }

    pub(super) fn is_empty(&self) -> bool {
        self.schedule.is_empty()
    }

    pub(super) fn clear(&mut self) {
        self.schedule.clear();
        self.batches.clear();
    }

    /// Moves what is due by `now` to the end of `ready`.
    pub(super) fn release(&mut self, now: Instant, ready: &mut VecDeque<Queued>) {
        while let Some(Reverse((at, index, first))) = self.schedule.peek().copied() {
            if at > now {
                break;
            }
            self.schedule.pop();
            if let Some(queued) = self.batches.remove(&(index, first)) {
                ready.push_back(queued);
            }
        }
    }
}
