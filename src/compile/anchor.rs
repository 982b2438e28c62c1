//! Binding `now` to an anchor, checked once before the stream runs: every
//! step's first and last instant and every anomaly's window must lie in
//! the range i64 nanoseconds hold, or the run stops, naming the statement
//! and the time it reaches (`compile::time_out_of_range`), before a record
//! is written. Past that check the stream adds τ and anchor plainly
//! ([`at`]): a step's τ all lie between its first and last.

use super::error::{CompileError, Reached, Statement};
use crate::model::TimePoint;

/// An instant the stream may hold: `[i64::MIN, i64::MAX)`, so that the
/// one-nanosecond window of a label, `[t, t + 1ns)`, holds too.
pub(super) fn instant(t: i128) -> Option<i64> {
    i64::try_from(t).ok().filter(|&t| t < i64::MAX)
}

/// τ placed at `anchor` (relative τ are offsets from it). Only for the τ of
/// a step that [`step`] has bound at this anchor.
pub(super) fn at(tau: i64, relative: bool, anchor: i64) -> i64 {
    if relative { tau + anchor } else { tau }
}

/// Checks that the step at `line`, whose τ run from `first` to `last`,
/// holds only instants at `anchor`.
pub(super) fn step(
    line: usize,
    relative: bool,
    (first, last): (i64, i64),
    anchor: i64,
) -> Result<(), CompileError> {
    for tau in [first, last] {
        let t = if relative {
            i128::from(tau) + i128::from(anchor)
        } else {
            i128::from(tau)
        };
        if instant(t).is_none() {
            return Err(CompileError::TimeOutOfRange {
                statement: Statement::Step,
                line,
                reached: Some(if relative {
                    Reached::FromNow {
                        offset: tau,
                        anchor,
                    }
                } else {
                    Reached::Instant(t)
                }),
            });
        }
    }
    Ok(())
}

/// The anomaly at `line`'s window `[start, end)` at `anchor` (`end`:
/// `None` without `for`).
pub(super) fn anomaly(
    line: usize,
    at: TimePoint,
    length: Option<i64>,
    anchor: i64,
) -> Result<(i64, Option<i64>), CompileError> {
    let (offset, relative) = match at {
        TimePoint::Relative(d) => (d.0, true),
        TimePoint::Absolute(i) => (i.0, false),
    };
    let out_of_range = |offset: i128| CompileError::TimeOutOfRange {
        statement: Statement::Anomaly,
        line,
        reached: Some(match i64::try_from(offset) {
            Ok(offset) if relative => Reached::FromNow { offset, anchor },
            _ if relative => Reached::Instant(offset + i128::from(anchor)),
            _ => Reached::Instant(offset),
        }),
    };
    let start = at
        .at(anchor)
        .and_then(|t| instant(i128::from(t)))
        .ok_or_else(|| out_of_range(i128::from(offset)))?;
    let end = match length {
        None => None,
        Some(length) => {
            // Exclusive: the window may end at i64::MAX.
            let end = i128::from(start) + i128::from(length);
            Some(
                i64::try_from(end)
                    .map_err(|_| out_of_range(i128::from(offset) + i128::from(length)))?,
            )
        }
    };
    Ok((start, end))
}
