//! What an apply did: the report written with `--report FILE.json` and
//! summarised on stderr. Plain data; its JSON form is part of the contract.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Serialize, Serializer};

use crate::record::shard::Shard;

/// How an apply ended, as the report's `outcome` says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Written,
    DryRun,
    /// A resume whose journal says every batch was written.
    AlreadyComplete,
    Rejected,
    Failed,
    Interrupted(Signal),
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Written => f.write_str("written"),
            Outcome::DryRun => f.write_str("dry run"),
            Outcome::AlreadyComplete => f.write_str("already complete"),
            Outcome::Rejected => f.write_str("rejected"),
            Outcome::Failed => f.write_str("failed"),
            Outcome::Interrupted(signal) => write!(f, "interrupted by {signal}"),
        }
    }
}

/// The report says the outcome in words (`"interrupted by SIGINT"`), as
/// it did when it was a string: scripts compare them.
impl Serialize for Outcome {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A signal that stops an apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Signal {
    Interrupt,
    Terminate,
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
        })
    }
}

/// What an apply did, for `--report FILE.json` and the summary.
#[derive(Serialize, Debug)]
pub(crate) struct ApplyReport {
    pub target: String,
    pub anchor: String,
    /// The plan's stream digest: which records these are, whatever the anchor.
    pub stream_digest: String,
    pub outcome: Outcome,
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
    /// Write requests sent (targets that take batches); a file target
    /// sends none and leaves the field out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batches: Option<u64>,
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
    pub(crate) fn new(
        target: String,
        anchor: i64,
        stream_digest: String,
        tables: BTreeMap<String, TableReport>,
        started: std::time::Instant,
    ) -> ApplyReport {
        let mut report = ApplyReport {
            target,
            anchor: crate::record::time_string(anchor),
            stream_digest,
            outcome: Outcome::Written,
            version: None,
            shard: Shard::WHOLE.to_string(),
            pace: "burst".into(),
            records: tables.values().map(|t| t.records).sum(),
            tables,
            rejected: 0,
            retried: 0,
            batches: None,
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
    pub(crate) fn finish_timing(&mut self) {
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
pub(crate) struct TableReport {
    /// The file written (file targets).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub file: String,
    /// `database.table` (Timestream).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub table: String,
    pub records: u64,
    pub rejected: u64,
    pub retried: u64,
    /// Write requests (targets that take batches; left out for files).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batches: Option<u64>,
}

/// How the number of requests in flight went.
#[derive(Serialize, Debug)]
pub(crate) struct ConcurrencyReport {
    /// `--concurrency`.
    pub max: usize,
    pub lowest: usize,
    pub last: usize,
    /// Attempts answered with throttling.
    pub throttled: u64,
}

/// A record the target rejected, traced back to the plan.
#[derive(Serialize, Debug, Clone)]
pub(crate) struct RejectionReport {
    pub table: String,
    pub time: String,
    pub series: String,
    pub step: String,
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub existing_version: Option<i64>,
}
