//! Killing a running `apply` at a point a seeded generator picks, for the
//! tests that prove the rule of issue 18: no command exits 0 while the
//! target holds less than the plan says it wrote. Each of them applies,
//! kills at random points, resumes (or, for files, runs again) and checks
//! the target exactly. The seed is printed with every failure, so that
//! `OUTATIME_KILL_SEED=… cargo test …` replays it; `OUTATIME_KILL_POINTS`
//! runs more points than the test command's few.

use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

/// SplitMix64: small, and the same numbers for a seed everywhere.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// True with probability `percent` in 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// `OUTATIME_KILL_SEED`, or a new one from the clock (printed by the
/// failures, which name it).
pub fn seed() -> u64 {
    match std::env::var("OUTATIME_KILL_SEED") {
        Ok(text) => text
            .parse()
            .unwrap_or_else(|_| panic!("OUTATIME_KILL_SEED={text} is not a number")),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64),
    }
}

/// How many kill points a test runs: `OUTATIME_KILL_POINTS`, or `default`.
pub fn points(default: usize) -> usize {
    std::env::var("OUTATIME_KILL_POINTS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(default)
}

/// Where a running apply is killed.
#[derive(Clone, Copy, Debug)]
pub enum KillPoint {
    /// This long after it started: before, during or after its writes.
    After(Duration),
    /// Once its journal has this many more acknowledged batches than when
    /// it started.
    AfterBatches(usize),
}

/// The acknowledged batches a journal holds: its lines naming a batch.
pub fn journaled_batches(journal: &Path) -> usize {
    std::fs::read(journal)
        .map(|bytes| {
            bytes
                .split(|&b| b == b'\n')
                .filter(|line| line.windows(8).any(|w| w == b"\"batch\":"))
                .count()
        })
        .unwrap_or(0)
}

/// Waits for `point`, then kills `child` with SIGKILL. Returns its exit
/// code when it ended by itself first (`None`: it was killed). Gives up
/// waiting after two minutes: a bound on a hang, not on speed.
pub fn kill_at(child: &mut Child, point: KillPoint, journal: &Path) -> Option<i32> {
    let started = Instant::now();
    let baseline = journaled_batches(journal);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status.code().unwrap_or(-1));
        }
        let due = match point {
            KillPoint::After(after) => started.elapsed() >= after,
            KillPoint::AfterBatches(batches) => journaled_batches(journal) >= baseline + batches,
        };
        if due || started.elapsed() > Duration::from_secs(120) {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap();
    // A code: it ended by itself between the last look and the kill.
    child.wait().unwrap().code()
}
