//! Arguments of `apply` that do not fit: exit 2, before anything is
//! loaded or sent, worded as `error: ...` without a code.

use std::path::PathBuf;

use crate::apply::journal::Unreadable;
use crate::targets::config::CONFIG_FILE;

/// The longest `--request-timeout`: an hour. An attempt that hangs longer
/// is better given up and retried, and past about 1.8e19 s no `Duration`
/// can hold the number (converting it panicked).
pub(super) const MAX_REQUEST_TIMEOUT_SECONDS: f64 = 3600.0;

/// Arguments of `apply` that do not fit.
#[derive(Debug, thiserror::Error)]
pub(super) enum ApplyUsage {
    /// `--shard 0/2`; the reason says what is wrong.
    #[error("--shard {reason}")]
    BadShard { reason: String },
    /// `--target e2e --config missing.yaml`
    #[error("cannot read `{}`: {error}", config.display())]
    ConfigUnreadable {
        config: PathBuf,
        #[source]
        error: std::io::Error,
    },
    /// `--resume` and a journal that is missing or not a journal.
    #[error(transparent)]
    Journal(#[from] Unreadable),
    /// The journal's lock file cannot be opened or locked: a link planted
    /// at its path (never followed), or no permission.
    #[error("cannot lock the journal `{}` with `{}`: {error}", journal.display(), lock.display())]
    JournalNotLocked {
        journal: PathBuf,
        lock: PathBuf,
        #[source]
        error: std::io::Error,
    },
    /// `--lead soon`
    #[error("--lead {lead}: not a duration (write e.g. `10m` or `90s`)")]
    LeadNotADuration { lead: String },
    /// `--lead 20m`
    #[error(
        "--lead {lead}: must be more than 0 and at most 15m (Timestream rejects records more than 15 minutes ahead)"
    )]
    LeadOutOfRange { lead: String },
    /// `--lead 5m` without `--pace live`.
    #[error("--lead is for --pace live (burst writes everything now)")]
    LeadWithoutLive,
    /// `--create` (or another flag of the targets the engine drives) with a
    /// file target.
    #[error(
        "{flag} is for Timestream targets (and InfluxDB ones); a file target is written whole, at once, and does not take it"
    )]
    OnlyForTimestream { flag: &'static str },
    /// The report could not be serialised (see `write_report`).
    #[error("cannot write `{}`: the report is not JSON: {error}", report.display())]
    ReportNotJson {
        report: PathBuf,
        #[source]
        error: serde_json::Error,
    },
    /// `--request-timeout 0`
    #[error("--request-timeout must be a positive number of seconds")]
    RequestTimeoutNotPositive,
    /// `--request-timeout 1e20`
    #[error(
        "--request-timeout must be at most {} seconds (an hour)",
        MAX_REQUEST_TIMEOUT_SECONDS
    )]
    RequestTimeoutTooLong,
}

impl ApplyUsage {
    /// What to do, when there is more to say than the message.
    fn help(&self) -> Option<String> {
        Some(match self {
            ApplyUsage::ConfigUnreadable { .. } => format!(
                "targets are named in `{CONFIG_FILE}` (or the file given with --config)"
            ),
            ApplyUsage::Journal(_) => {
                "--resume continues the apply that wrote this journal; give its path with --journal if it is elsewhere".into()
            }
            ApplyUsage::JournalNotLocked { .. } => {
                "outatime takes the lock file only as a file of its own, never through a link; remove what is at its path, or give the apply another --journal".into()
            }
            ApplyUsage::OnlyForTimestream { .. } => {
                "name a `kind: timestream` or `kind: influxdb` target with --target".into()
            }
            ApplyUsage::BadShard { .. }
            | ApplyUsage::LeadNotADuration { .. }
            | ApplyUsage::LeadOutOfRange { .. }
            | ApplyUsage::LeadWithoutLive
            | ApplyUsage::ReportNotJson { .. }
            | ApplyUsage::RequestTimeoutNotPositive
            | ApplyUsage::RequestTimeoutTooLong => return None,
        })
    }
}

/// No code: a usage error is said as `error: ...`.
impl miette::Diagnostic for ApplyUsage {
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        ApplyUsage::help(self).map(|help| Box::new(help) as Box<dyn std::fmt::Display>)
    }
}
