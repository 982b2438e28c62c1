//! When a batch is tried again, and how many are in flight: the limit on
//! attempts in flight (additive increase, multiplicative decrease) and the
//! wait before a retry (exponential backoff with jitter, or what the target
//! asks for, bounded).

use std::time::Duration;

use crate::targets::MAX_RETRY_AFTER;

/// Attempts of one batch before the apply gives up on it.
pub(crate) const MAX_TRIES: u32 = 8;
/// The first retry waits up to this long; each next one up to twice that.
const BACKOFF_BASE: Duration = Duration::from_millis(100);
const BACKOFF_CAP: Duration = Duration::from_secs(5);

/// How many attempts may be in flight: additive increase, multiplicative
/// decrease.
pub(super) struct Limit {
    pub current: usize,
    max: usize,
    /// The lowest `current` has been.
    pub lowest: usize,
    /// Acknowledged batches since the limit last grew.
    streak: usize,
    /// Bumped at each cut: a throttled attempt launched before the last
    /// cut does not cut again.
    pub epoch: u64,
}

impl Limit {
    /// `max` in flight, to begin with and at most (`--concurrency`).
    pub(super) fn new(max: usize) -> Limit {
        Limit {
            current: max,
            max,
            lowest: max,
            streak: 0,
            epoch: 0,
        }
    }

    /// An attempt launched in `launched_in` was throttled: the limit
    /// halves, once a round.
    pub(super) fn throttled(&mut self, launched_in: u64) {
        if launched_in == self.epoch && self.current > 1 {
            self.current /= 2;
            self.lowest = self.lowest.min(self.current);
            self.epoch += 1;
            self.streak = 0;
        }
    }

    /// A batch was acknowledged: after `current` of them, one more may
    /// be in flight.
    pub(super) fn succeeded(&mut self) {
        self.streak += 1;
        if self.streak >= self.current && self.current < self.max {
            self.current += 1;
            self.streak = 0;
        }
    }
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
    let z = crate::record::mix(seed ^ clock ^ (u64::from(tries) << 48));
    let fraction = (z >> 11) as f64 / (1u64 << 53) as f64;
    half + half.mul_f64(fraction)
}

/// How long a retry waits: the backoff, or what the target asked for if
/// longer, up to [`MAX_RETRY_AFTER`] (a server's `Retry-After: 2^64-1`
/// would overflow the instant).
pub(super) fn retry_wait(tries: u32, seed: u64, after: Option<Duration>) -> Duration {
    let wait = backoff(tries, seed);
    after.map_or(wait, |after| after.min(MAX_RETRY_AFTER).max(wait))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::time::Instant;

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
    fn a_target_asking_to_wait_forever_waits_the_bound() {
        let wait = retry_wait(1, 0, Some(Duration::MAX));
        assert_eq!(wait, MAX_RETRY_AFTER);
        assert!(Instant::now().checked_add(wait).is_some());
        // A shorter wait than the backoff's is the backoff's.
        assert!(retry_wait(3, 0, Some(Duration::ZERO)) >= BACKOFF_BASE * 2);
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
