//! Local wall-clock time → instant, with the language's rules for
//! daylight-saving gaps and overlaps (RFC 9557 "compatible" by default).

use chrono::{LocalResult, NaiveDateTime, Offset, TimeZone};
use chrono_tz::Tz;

use crate::literal::Instant;

/// What a local time inside a spring-forward gap means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nonexistent {
    /// Move forward by the length of the gap (02:30 → 03:30).
    Shift,
    Error,
}

/// What a local time that occurs twice (fall-back) means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ambiguous {
    Earlier,
    Later,
    Error,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LocalTimeError {
    Nonexistent,
    Ambiguous,
    OutOfRange,
}

pub fn resolve(
    tz: &Tz,
    local: NaiveDateTime,
    nonexistent: Nonexistent,
    ambiguous: Ambiguous,
) -> Result<Instant, LocalTimeError> {
    let offset_seconds = match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.offset().fix().local_minus_utc(),
        LocalResult::Ambiguous(earlier, later) => match ambiguous {
            Ambiguous::Earlier => earlier.offset().fix().local_minus_utc(),
            Ambiguous::Later => later.offset().fix().local_minus_utc(),
            Ambiguous::Error => return Err(LocalTimeError::Ambiguous),
        },
        LocalResult::None => match nonexistent {
            // The offset in force before the gap, applied to the wall time,
            // lands as far past the gap as the wall time is into it.
            Nonexistent::Shift => {
                let before = local
                    .checked_sub_signed(chrono::TimeDelta::days(1))
                    .ok_or(LocalTimeError::OutOfRange)?;
                tz.offset_from_utc_datetime(&before).fix().local_minus_utc()
            }
            Nonexistent::Error => return Err(LocalTimeError::Nonexistent),
        },
    };
    let utc = local
        .checked_sub_signed(chrono::TimeDelta::seconds(offset_seconds.into()))
        .ok_or(LocalTimeError::OutOfRange)?;
    Instant::from_naive_utc(utc).map_err(|_| LocalTimeError::OutOfRange)
}
