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
    /// one the rows span. `None` when the window sped up ends past what
    /// i64 holds (a tiny `speed`).
    pub(crate) fn new(r: &model::Replay, (start, end): (i64, i64)) -> Option<Placement> {
        let mut placement = Placement {
            start,
            end,
            speed: r.speed,
            shift: r.shift.clone(),
        };
        placement.end = placement.sped(end)?;
        Some(placement)
    }

    /// `time` sped up from the window's start; `None` past what i64 holds
    /// (a tiny `speed` stretches a window past it), never saturated.
    fn sped(&self, time: i64) -> Option<i64> {
        let since = time as i128 - self.start as i128;
        // At speed 1, an offset a double holds exactly (up to 104 days) is
        // what the division and rounding below give back unchanged.
        if self.speed == 1.0 && since.unsigned_abs() <= 1 << f64::MANTISSA_DIGITS {
            return Some(time);
        }
        let sped = (since as f64 / self.speed).round();
        // 2^63 is exactly a double; false for NaN and the infinities.
        const TWO_TO_63: f64 = 9_223_372_036_854_775_808.0;
        if !(-TWO_TO_63..TWO_TO_63).contains(&sped) {
            return None;
        }
        i64::try_from(self.start as i128 + sped as i128).ok()
    }

    /// The instant `time` is placed at; `None` past what i64 holds.
    pub(crate) fn place(&self, time: i64) -> Option<i64> {
        let time = self.sped(time)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::literal::Duration;
    use crate::model::{Filter, Replay};

    fn replay(speed: f64, shift: Shift) -> Replay {
        Replay {
            source: "s".into(),
            table: "t".into(),
            window: None,
            filter: Filter::default(),
            shift,
            speed,
            measures: None,
            set: Default::default(),
            line: 3,
        }
    }

    const HOUR: i64 = 3_600_000_000_000;

    /// A tiny speed stretches a window past what i64 holds: no placement,
    /// never a saturated instant.
    #[test]
    fn a_window_sped_past_the_range_is_not_placed() {
        assert!(Placement::new(&replay(1e-300, Shift::None), (0, HOUR)).is_none());
        let slow = Placement::new(&replay(1e-6, Shift::None), (0, HOUR)).unwrap();
        assert_eq!(slow.place(HOUR / 1000), Some(HOUR * 1000));
        // Within range sped up, past it shifted.
        let shifted = replay(1.0, Shift::By(Duration(i64::MAX - HOUR / 2)));
        let placement = Placement::new(&shifted, (0, HOUR)).unwrap();
        assert_eq!(placement.place(0), Some(i64::MAX - HOUR / 2));
        assert_eq!(placement.place(HOUR), None);
    }
}
