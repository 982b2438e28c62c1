//! Where a replay puts a recorded instant: sped up from its window's
//! start, then shifted. Used while preparing a replay held in memory
//! (`place`) and while reading a spilled one back (`streamed`).

use chrono::TimeZone;

use crate::lang::literal::{Ambiguous, Instant, Nonexistent, resolve_local};
use crate::model::{self, Shift, TimePoint};

pub(crate) fn point(p: TimePoint) -> i64 {
    match p {
        TimePoint::Relative(d) => d.0,
        TimePoint::Absolute(i) => i.0,
    }
}

/// Where a replay puts a recorded instant: sped up from its window's start,
/// then shifted. Non-decreasing in the instant for every shift but one by
/// calendar days (a daylight-saving change can fold or reorder instants).
#[derive(Clone)]
pub(crate) struct Placement {
    start: i64,
    /// The window's end, sped up.
    end: i64,
    speed: f64,
    shift: Shift,
}

impl Placement {
    /// For `r` over the window `[start, end)`: the written one, or the
    /// one the rows span.
    pub(crate) fn new(r: &model::Replay, (start, end): (i64, i64)) -> Placement {
        let mut placement = Placement {
            start,
            end,
            speed: r.speed,
            shift: r.shift.clone(),
        };
        placement.end = placement.sped(end);
        placement
    }

    // Saturating: a tiny `speed` stretches a window past what i64 holds.
    fn sped(&self, time: i64) -> i64 {
        let since = time as i128 - self.start as i128;
        // At speed 1, an offset a double holds exactly (up to 104 days) is
        // what the division and rounding below give back unchanged.
        if self.speed == 1.0 && since.unsigned_abs() <= 1 << f64::MANTISSA_DIGITS {
            return time;
        }
        self.start
            .saturating_add((since as f64 / self.speed).round() as i64)
    }

    /// The instant `time` is placed at; `None` past what i64 holds.
    pub(crate) fn place(&self, time: i64) -> Option<i64> {
        let time = self.sped(time);
        match &self.shift {
            Shift::None => Some(time),
            Shift::StartTo(p) => time
                .checked_sub(self.start)
                .and_then(|d| point(*p).checked_add(d)),
            Shift::EndTo(p) => time
                .checked_sub(self.end)
                .and_then(|d| point(*p).checked_add(d)),
            Shift::By(d) => time.checked_add(d.0),
            Shift::CalendarDays { days, zone } => calendar_shift(time, *days, zone),
        }
    }
}

/// The same local wall time `days` calendar days later in `zone`.
pub(crate) fn calendar_shift(time: i64, days: i64, zone: &chrono_tz::Tz) -> Option<i64> {
    let local = zone.timestamp_nanos(time).naive_local();
    let date = local
        .date()
        .checked_add_signed(chrono::TimeDelta::try_days(days)?)?;
    let shifted = chrono::NaiveDateTime::new(date, local.time());
    resolve_local(zone, shifted, Nonexistent::Shift, Ambiguous::Earlier)
        .ok()
        .map(|i: Instant| i.0)
}
