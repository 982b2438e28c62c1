//! Every exit code outatime ends with, and which error ends with which: the
//! one place the stages' errors become numbers, and the list `--help`
//! prints.

use super::apply_usage::ApplyUsage;
use crate::app;
use crate::apply::error::ApplyError;
use crate::apply::report::Signal;
use crate::capture::error::CaptureError;
use crate::clean::error::CleanError;
use crate::plot::error::PlotError;
use crate::verify::VerifyError;

pub(super) const EXIT_CODES: &str = "\
Exit codes:
  0  success: every file is valid (warnings allowed), the plan is current, the plans are equal,
     everything was written (a reader that closed the pipe early is no error: the command
     exits with the code it would have had)
  1  invalid input: a scenario with errors, bad source data, a stale plan, plans that differ, a
     bad outatime.yaml; apply: a preflight refusal, a missing table without --create, a
     journal of another apply, a read-only target, a table outatime did not create (nothing
     written); clean: a read-only or unsupported target, a declined confirmation
  2  usage error: bad arguments, or an input or output file (such as --report) that cannot be
     read or written; clean without --yes when stdin is not a terminal
  3  target failure: the target could not be written or rejected records (the summary and
     --report say exactly what was written); clean could not describe or delete a table
  130, 143  apply stopped by SIGINT or SIGTERM after the requests in flight finished
     (`apply --resume` finishes the job)";

/// How a command ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Exit {
    /// 0: done; for `verify`, everything matches.
    Success,
    /// 1: the input does not hold (an invalid scenario, a stale plan, a
    /// conflict, a refused apply, plans that differ, a target that holds
    /// other records than the stream); nothing was written that should not
    /// have been.
    Failed,
    /// 2: the command line, or a file it names, cannot be used.
    Usage,
    /// 3: the target failed, or could not be read.
    Target,
    /// 128 + the signal's number, as a shell reports a process it stopped.
    Signal(Signal),
}

impl Exit {
    pub(crate) fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Failed => 1,
            Exit::Usage => 2,
            Exit::Target => 3,
            Exit::Signal(Signal::Interrupt) => 130,
            Exit::Signal(Signal::Terminate) => 143,
        }
    }
}

impl From<&app::Error> for Exit {
    fn from(error: &app::Error) -> Exit {
        match error {
            app::Error::Unreadable { .. } | app::Error::BudgetBelowPinned { .. } => Exit::Usage,
            app::Error::Invalid { .. }
            | app::Error::Compile(_)
            | app::Error::Plan(_)
            | app::Error::Serialize(_) => Exit::Failed,
        }
    }
}

impl From<&ApplyError> for Exit {
    fn from(error: &ApplyError) -> Exit {
        match error {
            ApplyError::Compile(_)
            | ApplyError::JournalLocked { .. }
            | ApplyError::JournalMismatch { .. }
            | ApplyError::MissingTables { .. }
            | ApplyError::Preflight(_)
            | ApplyError::ReadOnly { .. }
            | ApplyError::UntaggedTables { .. } => Exit::Failed,
            ApplyError::Interrupted { signal, .. } => Exit::Signal(*signal),
            ApplyError::FileNotRenamed { .. }
            | ApplyError::FileNotRemoved { .. }
            | ApplyError::FileNotWritten { .. }
            | ApplyError::FolderIsLink { .. }
            | ApplyError::FolderNotCreated { .. }
            | ApplyError::Influxdb(_)
            | ApplyError::Rejected { .. }
            | ApplyError::Timestream(_) => Exit::Target,
        }
    }
}

impl From<&ApplyUsage> for Exit {
    /// Arguments that do not fit: nothing was loaded or sent.
    fn from(_: &ApplyUsage) -> Exit {
        Exit::Usage
    }
}

impl From<&VerifyError> for Exit {
    fn from(error: &VerifyError) -> Exit {
        match error {
            VerifyError::Compile(_) | VerifyError::Differs { .. } => Exit::Failed,
            VerifyError::FileNotRecords { .. }
            | VerifyError::FileUnreadable { .. }
            | VerifyError::InfluxDb { .. }
            | VerifyError::RuntimeNotStarted { .. }
            | VerifyError::Timestream { .. } => Exit::Target,
        }
    }
}

impl From<&PlotError> for Exit {
    fn from(error: &PlotError) -> Exit {
        match error {
            PlotError::BadTime { .. }
            | PlotError::EmptyWindow { .. }
            | PlotError::BadWhere { .. }
            | PlotError::UnknownFormat { .. }
            | PlotError::DiffNotHtml { .. } => Exit::Usage,
            PlotError::Compile(_)
            | PlotError::UnknownMeasure { .. }
            | PlotError::UnknownDimension { .. }
            | PlotError::EmptySelection { .. }
            | PlotError::Draw { .. } => Exit::Failed,
        }
    }
}

impl From<&CaptureError> for Exit {
    /// 3 when the table cannot be read, else 2: nothing was asked of it, or
    /// what was asked cannot be written.
    fn from(error: &CaptureError) -> Exit {
        match error {
            CaptureError::RuntimeNotStarted { .. }
            | CaptureError::Table { .. }
            | CaptureError::Timestream { .. } => Exit::Target,
            CaptureError::EmptyWindow { .. }
            | CaptureError::Output { .. }
            | CaptureError::Redact { .. }
            | CaptureError::SaltUnset { .. }
            | CaptureError::SliceNotADuration { .. }
            | CaptureError::TargetNotTimestream { .. }
            | CaptureError::TimeNotRfc3339 { .. } => Exit::Usage,
        }
    }
}

impl From<&CleanError> for Exit {
    fn from(error: &CleanError) -> Exit {
        match error {
            CleanError::Declined
            | CleanError::NotSupported { .. }
            | CleanError::ReadOnly { .. } => Exit::Failed,
            CleanError::NeedsYes { .. } => Exit::Usage,
            CleanError::Target { .. } => Exit::Target,
        }
    }
}
