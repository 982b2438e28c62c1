//! Literals that do not read: numbers and durations out of range, times
//! that are malformed or do not exist, zones, and ranges of time.

use super::facts::{Facts, backticked, did_you_mean};
use super::words::{Clause, Positive};

/// `99999999999999999999h`
#[derive(Clone, Debug, PartialEq)]
pub struct DurationOutOfRange;

impl Facts for DurationOutOfRange {
    const CODE: &'static str = "duration::out_of_range";

    fn message(&self) -> String {
        "duration is too large (the limit is about 292 years)".into()
    }

    fn help(&self) -> Option<String> {
        Some("use a smaller duration".into())
    }
}

/// `1e999`
#[derive(Clone, Debug, PartialEq)]
pub struct NumberOutOfRange;

impl Facts for NumberOutOfRange {
    const CODE: &'static str = "number::out_of_range";

    fn message(&self) -> String {
        "number is out of range".into()
    }

    fn help(&self) -> Option<String> {
        Some("use a smaller number: a double fits a 64-bit float, a bigint a 64-bit integer (±9223372036854775807)".into())
    }
}

/// `every 0s`, `speed -2`
#[derive(Clone, Debug, PartialEq)]
pub struct NotPositive {
    pub what: Positive,
}

impl Facts for NotPositive {
    const CODE: &'static str = "value::not_positive";

    fn message(&self) -> String {
        format!("`{}` must be greater than zero", self.what)
    }

    fn help(&self) -> Option<String> {
        Some(match &self.what {
            Positive::Speed => "use a factor above 0, such as `speed 2` (twice as fast)".into(),
            Positive::Param(name) => format!("use a positive duration, such as `{name}: 24h`"),
            Positive::Clause(word) => format!("use a positive duration, such as `{word} 1m`"),
        })
    }
}

/// `2024-13-01T00:00Z`
#[derive(Clone, Debug, PartialEq)]
pub struct MalformedTimestamp {
    pub reason: String,
}

impl Facts for MalformedTimestamp {
    const CODE: &'static str = "time::malformed";

    fn message(&self) -> String {
        format!("malformed timestamp: {}", self.reason)
    }

    fn help(&self) -> Option<String> {
        Some("write RFC 3339, such as `2024-03-12T08:00:00Z` or `2024-03-12T08:00+01:00`, or local time with a zone: `2024-03-12T08:00[Europe/Oslo]`".into())
    }
}

/// `from now + 100000d for 1h every 1m`: a time relative to `now` more
/// than 100 years from it (`written`: `now+100000d`).
#[derive(Clone, Debug, PartialEq)]
pub struct TimeTooFarFromNow {
    pub written: String,
}

impl Facts for TimeTooFarFromNow {
    const CODE: &'static str = "time::too_far_from_now";

    fn message(&self) -> String {
        format!(
            "`{}` is more than 100 years (36525d) from `now`",
            self.written
        )
    }

    fn help(&self) -> Option<String> {
        Some("bring it within 100 years of `now` (every anchor from 1778 to 2161 then places it: instants end in 2262 and begin in 1677), or write an instant such as `2200-01-01T00:00Z`".into())
    }
}

/// `2262-04-12T00:00Z`, `now + 300w * ...`
#[derive(Clone, Debug, PartialEq)]
pub struct TimestampOutOfRange;

impl Facts for TimestampOutOfRange {
    const CODE: &'static str = "time::out_of_range";

    fn message(&self) -> String {
        "time is out of range (years 1678 to 2261)".into()
    }

    fn help(&self) -> Option<String> {
        Some("use a time between 1678 and 2261".into())
    }
}

/// `2024-03-31T02:30+01:00[Europe/Oslo]`: a local time the zone skips.
#[derive(Clone, Debug, PartialEq)]
pub struct LocalTimeInGap {
    pub zone: String,
}

impl Facts for LocalTimeInGap {
    const CODE: &'static str = "time::in_gap";

    fn message(&self) -> String {
        format!(
            "this local time does not exist in {}: clocks skip it",
            self.zone
        )
    }

    fn help(&self) -> Option<String> {
        Some("drop the offset (the time then moves forward by the gap), or pick a time outside the gap".into())
    }
}

/// `2024-03-12T08:00+02:00[Europe/Oslo]`
#[derive(Clone, Debug, PartialEq)]
pub struct OffsetDisagreesWithZone {
    pub zone: String,
    pub given: String,
    pub expected: String,
}

impl Facts for OffsetDisagreesWithZone {
    const CODE: &'static str = "time::offset_mismatch";

    fn message(&self) -> String {
        let OffsetDisagreesWithZone {
            zone,
            given,
            expected,
        } = self;
        format!("offset {given} disagrees with {zone}, which is at {expected} then")
    }

    fn help(&self) -> Option<String> {
        Some(format!(
            "write the offset {}, or drop the offset and keep the zone",
            self.expected
        ))
    }
}

/// `timezone "Europe/Olso"`
#[derive(Clone, Debug, PartialEq)]
pub struct UnknownTimeZone {
    pub zone: String,
    pub suggestion: Option<String>,
    /// `CEST`: the IANA zones whose abbreviation it is (a few).
    pub abbreviation_of: Vec<String>,
}

impl Facts for UnknownTimeZone {
    const CODE: &'static str = "time::unknown_zone";

    fn message(&self) -> String {
        format!("unknown time zone `{}`", self.zone)
    }

    fn help(&self) -> Option<String> {
        if !self.abbreviation_of.is_empty() {
            return Some(format!(
                "`{}` is an abbreviation, not a zone; use the IANA zone of the place, such as {}",
                self.zone,
                backticked(&self.abbreviation_of)
            ));
        }
        Some(
            did_you_mean(&self.suggestion)
                .unwrap_or_else(|| "use an IANA name such as `Europe/Oslo` or `UTC`".into()),
        )
    }
}

/// `window 2024-03-13T00:00Z .. 2024-03-12T00:00Z`
#[derive(Clone, Debug, PartialEq)]
pub struct EmptyWindow {
    pub clause: Clause,
}

impl Facts for EmptyWindow {
    const CODE: &'static str = "window::empty";

    fn message(&self) -> String {
        format!("the `{}` range does not end after it starts", self.clause)
    }

    fn help(&self) -> Option<String> {
        Some("the end must be after the start: ranges hold `start <= t < end`".into())
    }
}

/// `from 2024-03-12T00:00Z to now every 1m`
#[derive(Clone, Debug, PartialEq)]
pub struct MixedRange;

impl Facts for MixedRange {
    const CODE: &'static str = "window::mixed";

    fn message(&self) -> String {
        "this range mixes `now` with an absolute time".into()
    }

    fn help(&self) -> Option<String> {
        Some(
            "write both ends relative to `now` (`from now - 1h to now + 1h`) or both as instants"
                .into(),
        )
    }
}

/// `window now - 1h .. now`
#[derive(Clone, Debug, PartialEq)]
pub struct RelativeWindow {
    pub clause: Clause,
}

impl Facts for RelativeWindow {
    const CODE: &'static str = "window::relative";

    fn message(&self) -> String {
        format!(
            "a `{}` range selects recorded data, so it takes absolute times",
            self.clause
        )
    }

    fn help(&self) -> Option<String> {
        Some("write recorded instants such as `2024-03-12T00:00Z`; to move data to `now`, add `shift end to now`".into())
    }
}
