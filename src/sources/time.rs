//! A source's timestamp text → instant, by its `time ... format`.
//!
//! RFC 3339 is parsed by hand: it is the default format and runs once a
//! row, so it must not allocate or re-read a format string. Text without an
//! offset (including Timestream's `2024-02-01 05:33:50.000000000`) is wall
//! time in the source's `timezone`, resolved with its daylight-saving
//! policies.

use chrono::format::{Item, Parsed, StrftimeItems};
use std::cell::{Cell, RefCell};

use chrono::{LocalResult, NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;
use serde_json::Value;

use super::{CellError, quoted};
use crate::lang::literal::{self, Ambiguous, Instant, LocalTimeError, Nonexistent, resolve_local};
use crate::model::{EpochUnit, Source, TimeFormat};

const NANOS_PER_SECOND: i64 = 1_000_000_000;

pub(crate) struct TimeParser {
    format: Format,
    zone: Tz,
    nonexistent: Nonexistent,
    ambiguous: Ambiguous,
    /// With `ambiguous in_order`: the later instant of the last time parsed,
    /// when it was a repeated local time (and so read as the earlier).
    repeat: Cell<Option<Instant>>,
    /// With `ambiguous earlier` or `later`: the last time parsed was a
    /// repeated local time, put on the one instant the policy picks.
    repeated: Cell<bool>,
    /// The last text parsed well and what it gave. A source's rows mostly
    /// come in runs that share a time (every series of one instant), and
    /// parsing depends on nothing but the text, so a run parses once.
    last: RefCell<LastParse>,
}

/// A text and what parsing it gave: its instant and the two flags above.
#[derive(Default)]
struct LastParse {
    text: String,
    parsed: Option<(Instant, Option<Instant>, bool)>,
}

enum Format {
    Rfc3339,
    Strftime {
        written: String,
        items: Vec<Item<'static>>,
    },
    Epoch(EpochUnit),
}

/// A wall-clock date and time, each field already range-checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Civil {
    year: i32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    nano: u32,
}

impl TimeParser {
    /// Fails only when a `format` string is not a valid strftime pattern.
    pub(crate) fn new(source: &Source) -> Result<TimeParser, CellError> {
        let format = match &source.time_format {
            TimeFormat::Rfc3339 => Format::Rfc3339,
            TimeFormat::Epoch(unit) => Format::Epoch(*unit),
            TimeFormat::Strftime(written) => {
                let items = StrftimeItems::new(written).parse_to_owned().map_err(|_| {
                    CellError::new(
                        format!(
                            "the time format {} is not a valid strftime pattern",
                            quoted(written)
                        ),
                        "use chrono's strftime specifiers, such as `%Y-%m-%d %H:%M:%S`",
                    )
                })?;
                Format::Strftime {
                    written: written.clone(),
                    items,
                }
            }
        };
        Ok(TimeParser {
            format,
            zone: source.timezone,
            nonexistent: source.nonexistent,
            ambiguous: source.ambiguous,
            repeat: Cell::new(None),
            repeated: Cell::new(false),
            last: RefCell::new(LastParse::default()),
        })
    }

    /// With `ambiguous in_order`, the later instant of the last time parsed
    /// when that was a local time the autumn change repeats.
    pub(crate) fn repeat(&self) -> Option<Instant> {
        self.repeat.get()
    }

    /// With `ambiguous earlier` or `later`, whether the last time parsed
    /// was a local time the autumn change repeats.
    pub(crate) fn repeated(&self) -> bool {
        self.repeated.get()
    }

    pub(crate) fn in_order(&self) -> bool {
        self.ambiguous == Ambiguous::InOrder
    }

    pub(crate) fn parse(&self, text: &str) -> Result<Instant, CellError> {
        let trimmed = text.trim_ascii();
        let mut last = self.last.borrow_mut();
        if let Some((instant, repeat, repeated)) = last.parsed
            && last.text == trimmed
        {
            self.repeat.set(repeat);
            self.repeated.set(repeated);
            return Ok(instant);
        }
        self.repeat.set(None);
        self.repeated.set(false);
        let parsed = match &self.format {
            Format::Rfc3339 => self.parse_rfc3339(trimmed),
            Format::Strftime { written, items } => self.parse_strftime(trimmed, written, items),
            Format::Epoch(unit) => parse_epoch(trimmed, *unit),
        };
        last.parsed = None;
        if let Ok(instant) = parsed {
            last.text.clear();
            last.text.push_str(trimmed);
            last.parsed = Some((instant, self.repeat.get(), self.repeated.get()));
        }
        parsed
    }

    /// A JSON field: text as in a CSV cell, or a number (epoch formats
    /// take it as is; other formats read its text).
    pub(crate) fn parse_json(&self, value: &Value) -> Result<Instant, CellError> {
        match value {
            Value::String(text) => self.parse(text),
            Value::Number(number) => match (&self.format, number.as_i64()) {
                (Format::Epoch(unit), Some(whole)) => epoch_instant(i128::from(whole), 0, *unit)
                    .ok_or_else(|| epoch_out_of_range(&number.to_string(), *unit)),
                _ => self.parse(&number.to_string()),
            },
            other => Err(CellError::new(
                format!("{} is not a timestamp", quoted(&other.to_string())),
                "write the time as a string, or as a number with an epoch `format`",
            )),
        }
    }

    fn parse_rfc3339(&self, text: &str) -> Result<Instant, CellError> {
        if text.contains('[') {
            // An RFC 9557 zone suffix: rare in data, so the literal parser's
            // rules (and its checks of an offset against the zone) serve.
            return literal::parse_timestamp(text)
                .map_err(|e| not_rfc3339(text, &e.timestamp_reason()));
        }
        let (civil, offset) = split_rfc3339(text).map_err(|reason| not_rfc3339(text, &reason))?;
        let instant = match offset {
            Some(offset) => civil_nanos(civil)
                .and_then(|n| n.checked_sub(i64::from(offset) * NANOS_PER_SECOND))
                .map(Instant),
            None if self.zone == Tz::UTC => civil_nanos(civil).map(Instant),
            None => return self.resolve_local(text, civil.naive()),
        };
        instant.ok_or_else(|| out_of_range(text))
    }

    fn parse_strftime(
        &self,
        text: &str,
        written: &str,
        items: &[Item<'static>],
    ) -> Result<Instant, CellError> {
        let mismatch = |e: chrono::ParseError| {
            CellError::new(
                format!(
                    "{} does not match the time format `{written}`: {e}",
                    quoted(text)
                ),
                "check the source's `time ... format` against the file's timestamps",
            )
        };
        let mut parsed = Parsed::new();
        chrono::format::parse(&mut parsed, text, items.iter()).map_err(mismatch)?;
        if parsed.offset().is_some() || parsed.timestamp().is_some() {
            let time = parsed.to_datetime().map_err(mismatch)?;
            return time
                .timestamp_nanos_opt()
                .map(Instant)
                .ok_or_else(|| out_of_range(text));
        }
        let has_clock = parsed.hour_div_12().is_some()
            || parsed.hour_mod_12().is_some()
            || parsed.minute().is_some()
            || parsed.second().is_some();
        let local = if has_clock {
            parsed.to_naive_datetime_with_offset(0)
        } else {
            // A date-only format means midnight.
            parsed
                .to_naive_date()
                .map(|d| d.and_time(chrono::NaiveTime::MIN))
        }
        .map_err(mismatch)?;
        self.resolve_local(text, local)
    }

    fn resolve_local(&self, text: &str, local: NaiveDateTime) -> Result<Instant, CellError> {
        // One zone lookup a row: a time that exists (once or twice) is
        // settled here; a gap, and `ambiguous error`, go to `resolve_local`.
        let chosen = match self.zone.from_local_datetime(&local) {
            LocalResult::Single(t) => Some(t),
            LocalResult::Ambiguous(earlier, later) => match self.ambiguous {
                Ambiguous::Earlier => {
                    self.repeated.set(true);
                    Some(earlier)
                }
                Ambiguous::Later => {
                    self.repeated.set(true);
                    Some(later)
                }
                Ambiguous::InOrder => {
                    self.repeat.set(later.timestamp_nanos_opt().map(Instant));
                    Some(earlier)
                }
                Ambiguous::Error => None,
            },
            LocalResult::None => None,
        };
        if let Some(t) = chosen {
            return t
                .timestamp_nanos_opt()
                .map(Instant)
                .ok_or_else(|| out_of_range(text));
        }
        let zone = self.zone.name();
        resolve_local(&self.zone, local, self.nonexistent, self.ambiguous).map_err(|e| {
            match e {
                LocalTimeError::Nonexistent => CellError::new(
                    format!(
                        "{} does not exist in {zone}: it falls in a daylight-saving gap",
                        quoted(text)
                    ),
                    "the source says `nonexistent error`; `nonexistent shift` moves such times forward by the gap",
                ),
                LocalTimeError::Ambiguous => CellError::new(
                    format!(
                        "{} occurs twice in {zone}: daylight saving ends then",
                        quoted(text)
                    ),
                    "the source says `ambiguous error`; `ambiguous in_order` reads a logger's repeated hour (first pass earlier, second later), `ambiguous earlier` or `ambiguous later` picks one",
                ),
                LocalTimeError::OutOfRange => out_of_range(text),
            }
        })
    }
}

impl Civil {
    fn naive(self) -> NaiveDateTime {
        // Every field was range-checked and the day checked against its month.
        NaiveDate::from_ymd_opt(self.year, self.month, self.day)
            .and_then(|d| d.and_hms_nano_opt(self.hour, self.minute, self.second, self.nano))
            .expect("a range-checked civil time")
    }
}

/// `YYYY-MM-DD(T| )HH:MM[:SS[.fraction]][Z|±HH:MM|±HHMM|±HH]` → the wall
/// time and its offset in seconds, if it has one.
fn split_rfc3339(text: &str) -> Result<(Civil, Option<i32>), String> {
    let b = text.as_bytes();
    let date_form = || "the date is not of the form `YYYY-MM-DD`".to_string();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(date_form());
    }
    let year = digits(b, 0, 4).ok_or_else(date_form)?;
    let month = digits(b, 5, 2).ok_or_else(date_form)?;
    let day = digits(b, 8, 2).ok_or_else(date_form)?;
    if b.len() == 10 {
        return Err("it has a date but no time of day".into());
    }
    if !matches!(b[10], b'T' | b't' | b' ') {
        return Err("the date and the time must be separated by `T` or a space".into());
    }
    let time_form = || "the time is not of the form `HH:MM:SS`".to_string();
    if b.get(13) != Some(&b':') {
        return Err(time_form());
    }
    let hour = digits(b, 11, 2).ok_or_else(time_form)?;
    let minute = digits(b, 14, 2).ok_or_else(time_form)?;
    let mut at = 16;
    let mut second = 0;
    if b.get(at) == Some(&b':') {
        second = digits(b, at + 1, 2).ok_or_else(time_form)?;
        at += 3;
    }
    let mut nano = 0;
    if matches!(b.get(at), Some(b'.' | b',')) {
        at += 1;
        let start = at;
        while b.get(at).is_some_and(u8::is_ascii_digit) {
            at += 1;
        }
        let width = at - start;
        if width == 0 {
            return Err("the fraction of a second has no digits".into());
        }
        if width > 9 {
            return Err("the fraction of a second has more than 9 digits".into());
        }
        nano = digits(b, start, width).ok_or_else(time_form)? * 10u32.pow(9 - width as u32);
    }
    let offset = match &b[at..] {
        [] => None,
        [b'Z' | b'z'] => Some(0),
        [sign @ (b'+' | b'-'), rest @ ..] => {
            let (hours, minutes) = match rest {
                [_, _] => (digits(rest, 0, 2), Some(0)),
                [_, _, b':', _, _] => (digits(rest, 0, 2), digits(rest, 3, 2)),
                [_, _, _, _] => (digits(rest, 0, 2), digits(rest, 2, 2)),
                _ => (None, None),
            };
            let (Some(hours @ 0..=23), Some(minutes @ 0..=59)) = (hours, minutes) else {
                return Err(format!(
                    "the offset {} is not of the form `+HH:MM`",
                    quoted(&text[at..])
                ));
            };
            let seconds = (hours * 3600 + minutes * 60) as i32;
            Some(if *sign == b'-' { -seconds } else { seconds })
        }
        _ => {
            return Err(format!(
                "{} after the time is neither `Z` nor an offset",
                quoted(&text[at..])
            ));
        }
    };
    if !(1..=12).contains(&month) {
        return Err(format!("month {month} does not exist"));
    }
    if day == 0 || day > days_in_month(year as i32, month) {
        return Err(format!("day {day} does not exist in {year:04}-{month:02}"));
    }
    if hour > 23 {
        return Err(format!("hour {hour} does not exist"));
    }
    if minute > 59 {
        return Err(format!("minute {minute} does not exist"));
    }
    if second > 59 {
        return Err(format!("second {second} does not exist"));
    }
    let civil = Civil {
        year: year as i32,
        month,
        day,
        hour,
        minute,
        second,
        nano,
    };
    Ok((civil, offset))
}

/// The `width` ASCII digits at `at`, if that is what is there.
fn digits(b: &[u8], at: usize, width: usize) -> Option<u32> {
    let field = b.get(at..at + width)?;
    field.iter().try_fold(0u32, |n, &c| {
        c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
    })
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Nanoseconds since the epoch of a UTC wall time, if i64 holds them.
fn civil_nanos(c: Civil) -> Option<i64> {
    let seconds = days_from_civil(c.year, c.month, c.day) * 86_400
        + i64::from(c.hour * 3600 + c.minute * 60 + c.second);
    seconds
        .checked_mul(NANOS_PER_SECOND)?
        .checked_add(i64::from(c.nano))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(year: i32, month: u32, day: u32) -> i64 {
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let m = i64::from(month);
    let day_of_year = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// `1706765630`, `-12`, and with a decimal fraction `1706765630.25`; the
/// fraction may not be finer than a nanosecond.
fn parse_epoch(text: &str, unit: EpochUnit) -> Result<Instant, CellError> {
    let not_a_number = || {
        CellError::new(
            format!("{} is not a number of {}", quoted(text), unit_words(unit)),
            "epoch times are whole numbers (seconds may have a decimal fraction), without exponent or separators",
        )
    };
    let (negative, unsigned) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let all_digits = |s: &str| s.bytes().all(|c| c.is_ascii_digit());
    if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) {
        return Err(not_a_number());
    }
    if unsigned.ends_with('.') {
        return Err(not_a_number());
    }
    let scale = unit_scale(unit);
    let (kept, dropped) = fraction.split_at(fraction.len().min(scale as usize));
    if dropped.bytes().any(|c| c != b'0') {
        return Err(CellError::new(
            format!("{} is finer than a nanosecond", quoted(text)),
            "epoch times are kept to the nanosecond",
        ));
    }
    // 39 digits overflow i128; far fewer already overflow an instant.
    let whole = if whole.len() > 30 {
        return Err(epoch_out_of_range(text, unit));
    } else {
        whole.parse::<i128>().map_err(|_| not_a_number())?
    };
    // At most 9 digits, all checked above: no overflow is possible here.
    let kept_value = kept
        .bytes()
        .fold(0i128, |n, c| n * 10 + i128::from(c - b'0'))
        * 10i128.pow(scale - kept.len() as u32);
    let (whole, kept_value) = if negative {
        (-whole, -kept_value)
    } else {
        (whole, kept_value)
    };
    epoch_instant(whole, kept_value, unit).ok_or_else(|| epoch_out_of_range(text, unit))
}

/// `whole` units plus `fraction` nanoseconds-of-the-unit scaled to the unit's
/// decimal places, if the sum is an instant. Thirty digits of seconds times
/// 10^9 still fit i128, so the sum is checked as well as the product.
fn epoch_instant(whole: i128, fraction: i128, unit: EpochUnit) -> Option<Instant> {
    let nanos = whole
        .checked_mul(10i128.pow(unit_scale(unit)))?
        .checked_add(fraction)?;
    i64::try_from(nanos).ok().map(Instant)
}

/// Decimal places between the unit and a nanosecond.
fn unit_scale(unit: EpochUnit) -> u32 {
    match unit {
        EpochUnit::Seconds => 9,
        EpochUnit::Millis => 6,
        EpochUnit::Micros => 3,
        EpochUnit::Nanos => 0,
    }
}

fn unit_words(unit: EpochUnit) -> &'static str {
    match unit {
        EpochUnit::Seconds => "seconds since 1970 (epoch_s)",
        EpochUnit::Millis => "milliseconds since 1970 (epoch_ms)",
        EpochUnit::Micros => "microseconds since 1970 (epoch_us)",
        EpochUnit::Nanos => "nanoseconds since 1970 (epoch_ns)",
    }
}

fn epoch_out_of_range(text: &str, unit: EpochUnit) -> CellError {
    CellError::new(
        format!(
            "{} {} is outside the instants this tool holds (1677 to 2262)",
            quoted(text),
            unit_words(unit)
        ),
        "check the source's epoch unit: `epoch_s`, `epoch_ms`, `epoch_us` or `epoch_ns`",
    )
}

fn out_of_range(text: &str) -> CellError {
    CellError::new(
        format!(
            "{} is outside the instants this tool holds (1677 to 2262)",
            quoted(text)
        ),
        "timestamps are kept in nanoseconds since 1970, which cover the years 1677 to 2262",
    )
}

fn not_rfc3339(text: &str, reason: &str) -> CellError {
    CellError::new(
        format!("{} is not an RFC 3339 timestamp: {reason}", quoted(text)),
        "write times as `2024-03-12T08:00:00Z` (with an offset, or without one for the source's `timezone`), or give the column's `format`",
    )
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::model::{CsvDialect, MeasureType, SourceKind, SourceMeasures};

    fn source(
        format: TimeFormat,
        zone: Tz,
        nonexistent: Nonexistent,
        ambiguous: Ambiguous,
    ) -> Source {
        Source {
            name: "s".into(),
            kind: SourceKind::Csv,
            path_written: "s.csv".into(),
            path: PathBuf::from("s.csv"),
            time_column: "ts".into(),
            time_format: format,
            timezone: zone,
            nonexistent,
            ambiguous,
            line: 1,
            ambiguous_line: None,
            dimensions: vec![],
            dimension_names: vec![],
            measures: SourceMeasures::Long {
                name_column: "n".into(),
                value_column: "v".into(),
                ty: MeasureType::Double,
            },
            dialect: CsvDialect::default_for(SourceKind::Csv),
            redact: None,
        }
    }

    fn parser(format: TimeFormat) -> TimeParser {
        TimeParser::new(&source(
            format,
            Tz::UTC,
            Nonexistent::Shift,
            Ambiguous::Earlier,
        ))
        .unwrap()
    }

    fn oslo(format: TimeFormat, nonexistent: Nonexistent, ambiguous: Ambiguous) -> TimeParser {
        TimeParser::new(&source(
            format,
            chrono_tz::Europe::Oslo,
            nonexistent,
            ambiguous,
        ))
        .unwrap()
    }

    fn at(text: &str) -> Instant {
        literal::parse_timestamp(text).unwrap()
    }

    fn reason(result: Result<Instant, CellError>) -> String {
        result.unwrap_err().reason
    }

    #[test]
    fn rfc3339_forms() {
        let p = parser(TimeFormat::Rfc3339);
        let cases = [
            ("2024-03-12T08:00:00Z", "2024-03-12T08:00:00Z"),
            ("2024-03-12t08:00:00z", "2024-03-12T08:00:00Z"),
            ("2024-03-12T08:00Z", "2024-03-12T08:00:00Z"),
            ("2024-03-12T09:00:00+01:00", "2024-03-12T08:00:00Z"),
            ("2024-03-12T09:00:00+0100", "2024-03-12T08:00:00Z"),
            ("2024-03-12T09:00:00+01", "2024-03-12T08:00:00Z"),
            ("2024-03-12T03:30:00-04:30", "2024-03-12T08:00:00Z"),
            ("2024-03-12T08:00:00.25Z", "2024-03-12T08:00:00.250Z"),
            ("2024-03-12T08:00:00,25Z", "2024-03-12T08:00:00.250Z"),
            (
                "2024-03-12T08:00:00.000000001Z",
                "2024-03-12T08:00:00.000000001Z",
            ),
            (" 2024-03-12T08:00:00Z ", "2024-03-12T08:00:00Z"),
            ("2024-03-12T08:00:00", "2024-03-12T08:00:00Z"),
            ("2024-02-29 23:59:59Z", "2024-02-29T23:59:59Z"),
            ("1969-12-31T23:59:59Z", "1969-12-31T23:59:59Z"),
            ("2024-03-12T09:00[Europe/Oslo]", "2024-03-12T08:00:00Z"),
        ];
        for (text, expected) in cases {
            assert_eq!(p.parse(text), Ok(at(expected)), "{text}");
        }
    }

    #[test]
    fn timestream_unload_text_is_utc_without_a_format() {
        let p = parser(TimeFormat::Rfc3339);
        assert_eq!(
            p.parse("2024-02-01 05:33:50.000000000"),
            Ok(at("2024-02-01T05:33:50Z"))
        );
        assert_eq!(
            p.parse("2024-02-01 05:33:50.123456789"),
            Ok(at("2024-02-01T05:33:50.123456789Z"))
        );
        // With a zone, the same text is wall time there.
        let local = oslo(TimeFormat::Rfc3339, Nonexistent::Shift, Ambiguous::Earlier);
        assert_eq!(
            local.parse("2024-02-01 05:33:50.000000000"),
            Ok(at("2024-02-01T04:33:50Z"))
        );
    }

    #[test]
    fn rfc3339_errors_say_what_is_wrong() {
        let p = parser(TimeFormat::Rfc3339);
        let cases = [
            ("yesterday", "the date is not of the form `YYYY-MM-DD`"),
            ("2024-03-12", "it has a date but no time of day"),
            ("2024-03-12_08:00Z", "separated by `T` or a space"),
            ("2024-03-12T8:00Z", "the time is not of the form `HH:MM:SS`"),
            ("2024-13-12T08:00Z", "month 13 does not exist"),
            ("2023-02-29T08:00Z", "day 29 does not exist in 2023-02"),
            ("2024-03-12T24:00Z", "hour 24 does not exist"),
            ("2024-03-12T08:60Z", "minute 60 does not exist"),
            ("2024-03-12T08:00:60Z", "second 60 does not exist"),
            ("2024-03-12T08:00:00.Z", "has no digits"),
            ("2024-03-12T08:00:00.0000000001Z", "more than 9 digits"),
            (
                "2024-03-12T08:00+1:00",
                "the offset `+1:00` is not of the form",
            ),
            ("2024-03-12T08:00+25:00", "the offset `+25:00`"),
            ("2024-03-12T08:00 UTC", "neither `Z` nor an offset"),
            ("9999-12-31T00:00Z", "outside the instants"),
            ("2024-03-12T08:00[Mars/Base]", "zone `Mars/Base`"),
        ];
        for (text, expected) in cases {
            let got = reason(p.parse(text));
            assert!(got.contains(expected), "{text}: {got}");
        }
    }

    #[test]
    fn long_bad_text_is_cut_to_40_characters() {
        let p = parser(TimeFormat::Rfc3339);
        let text = "x".repeat(100);
        let got = reason(p.parse(&text));
        assert!(got.starts_with(&format!("`{}…`", "x".repeat(40))), "{got}");
    }

    #[test]
    fn oslo_gap_shifts_or_fails() {
        for format in [
            TimeFormat::Rfc3339,
            TimeFormat::Strftime("%Y-%m-%d %H:%M:%S".into()),
        ] {
            let text = "2024-03-31 02:30:00";
            let shift = oslo(format.clone(), Nonexistent::Shift, Ambiguous::Error);
            // 02:30 is 30 minutes into the gap: 03:30 CEST.
            assert_eq!(shift.parse(text), Ok(at("2024-03-31T01:30:00Z")));
            let strict = oslo(format, Nonexistent::Error, Ambiguous::Earlier);
            let error = strict.parse(text).unwrap_err();
            assert!(error.reason.contains("does not exist in Europe/Oslo"));
            assert!(error.help.unwrap().contains("nonexistent shift"));
        }
    }

    #[test]
    fn oslo_overlap_takes_earlier_later_or_fails() {
        for format in [
            TimeFormat::Rfc3339,
            TimeFormat::Strftime("%d.%m.%Y %H:%M".into()),
        ] {
            let text = match format {
                TimeFormat::Rfc3339 => "2024-10-27T02:30:00",
                _ => "27.10.2024 02:30",
            };
            let earlier = oslo(format.clone(), Nonexistent::Error, Ambiguous::Earlier);
            assert_eq!(earlier.parse(text), Ok(at("2024-10-27T00:30:00Z")));
            let later = oslo(format.clone(), Nonexistent::Error, Ambiguous::Later);
            assert_eq!(later.parse(text), Ok(at("2024-10-27T01:30:00Z")));
            let strict = oslo(format, Nonexistent::Shift, Ambiguous::Error);
            let error = strict.parse(text).unwrap_err();
            assert!(error.reason.contains("occurs twice in Europe/Oslo"));
            assert!(error.help.unwrap().contains("ambiguous earlier"));
        }
    }

    /// `earlier` and `later` mark a repeated local time (for a conflict's
    /// help); `in_order` keeps its own record, and other times are unmarked.
    #[test]
    fn a_repeated_local_time_is_marked_under_earlier_and_later() {
        for ambiguous in [Ambiguous::Earlier, Ambiguous::Later] {
            let p = oslo(TimeFormat::Rfc3339, Nonexistent::Error, ambiguous);
            assert!(p.parse("2024-10-27T02:30:00").is_ok());
            assert!(p.repeated());
            for once in [
                "2024-10-27T01:30:00",
                "2024-10-27T03:00:00",
                "2024-10-27T02:30:00Z",
            ] {
                assert!(p.parse(once).is_ok());
                assert!(!p.repeated(), "{once}");
            }
        }
        let in_order = oslo(TimeFormat::Rfc3339, Nonexistent::Error, Ambiguous::InOrder);
        assert_eq!(
            in_order.parse("2024-10-27T02:30:00"),
            Ok(at("2024-10-27T00:30:00Z"))
        );
        assert!(!in_order.repeated());
        assert_eq!(in_order.repeat(), Some(at("2024-10-27T01:30:00Z")));
    }

    /// A run of rows sharing a time is parsed once: each row of the run
    /// still gets the instant and the marks, whatever came between runs,
    /// and a bad text is reported every time.
    #[test]
    fn a_time_read_again_gives_the_same_instant_and_marks() {
        let p = oslo(TimeFormat::Rfc3339, Nonexistent::Error, Ambiguous::InOrder);
        for text in [
            "2024-10-27T02:30:00",
            " 2024-10-27T02:30:00",
            "2024-10-27T03:30:00",
            "2024-10-27T03:30:00",
            "2024-10-27T02:30:00",
            "2024-10-27T02:30:00",
        ] {
            let fresh = oslo(TimeFormat::Rfc3339, Nonexistent::Error, Ambiguous::InOrder);
            assert_eq!(p.parse(text), fresh.parse(text), "{text}");
            assert_eq!(p.repeat(), fresh.repeat(), "{text}");
        }
        let marked = oslo(TimeFormat::Rfc3339, Nonexistent::Error, Ambiguous::Later);
        for text in [
            "2024-10-27T02:30:00",
            "2024-10-27T02:30:00",
            "2024-10-27T04:00:00",
        ] {
            assert!(marked.parse(text).is_ok());
            assert_eq!(marked.repeated(), text.contains("02:30"), "{text}");
        }
        for _ in 0..2 {
            assert!(reason(p.parse("2024-13-01T00:00:00Z")).contains("month 13"));
        }
    }

    #[test]
    fn oslo_ordinary_times_and_explicit_offsets() {
        let p = oslo(TimeFormat::Rfc3339, Nonexistent::Error, Ambiguous::Error);
        assert_eq!(
            p.parse("2024-07-01T12:00:00"),
            Ok(at("2024-07-01T10:00:00Z"))
        );
        // An offset wins over the zone, even inside the gap.
        assert_eq!(
            p.parse("2024-03-31T02:30:00+01:00"),
            Ok(at("2024-03-31T01:30:00Z"))
        );
    }

    #[test]
    fn strftime_with_and_without_offset() {
        let with_offset = parser(TimeFormat::Strftime("%d/%m/%Y %H:%M:%S%.f %z".into()));
        assert_eq!(
            with_offset.parse("12/03/2024 09:00:00.5 +0100"),
            Ok(at("2024-03-12T08:00:00.500Z"))
        );
        let colon = parser(TimeFormat::Strftime("%Y-%m-%d %H:%M %:z".into()));
        assert_eq!(
            colon.parse("2024-03-12 03:00 -05:00"),
            Ok(at("2024-03-12T08:00:00Z"))
        );
        let local = oslo(
            TimeFormat::Strftime("%Y%m%d%H%M%S".into()),
            Nonexistent::Error,
            Ambiguous::Error,
        );
        assert_eq!(
            local.parse("20240312090000"),
            Ok(at("2024-03-12T08:00:00Z"))
        );
        let date_only = parser(TimeFormat::Strftime("%Y-%m-%d".into()));
        assert_eq!(
            date_only.parse("2024-03-12"),
            Ok(at("2024-03-12T00:00:00Z"))
        );
        // `%s` is an instant whatever the zone.
        let seconds = oslo(
            TimeFormat::Strftime("%s".into()),
            Nonexistent::Error,
            Ambiguous::Error,
        );
        assert_eq!(seconds.parse("1710230400"), Ok(at("2024-03-12T08:00:00Z")));
    }

    #[test]
    fn strftime_mismatch_and_bad_pattern() {
        let p = parser(TimeFormat::Strftime("%Y-%m-%d %H:%M".into()));
        let got = reason(p.parse("12/03/2024 08:00"));
        assert!(
            got.starts_with("`12/03/2024 08:00` does not match the time format `%Y-%m-%d %H:%M`"),
            "{got}"
        );
        let bad = TimeParser::new(&source(
            TimeFormat::Strftime("%Y-%Q".into()),
            Tz::UTC,
            Nonexistent::Shift,
            Ambiguous::Earlier,
        ));
        assert!(
            bad.err()
                .unwrap()
                .reason
                .contains("not a valid strftime pattern")
        );
    }

    #[test]
    fn epoch_units() {
        let t = at("2024-03-12T08:00:00Z").0;
        let s = parser(TimeFormat::Epoch(EpochUnit::Seconds));
        assert_eq!(s.parse("1710230400"), Ok(Instant(t)));
        assert_eq!(s.parse("1710230400.25"), Ok(Instant(t + 250_000_000)));
        assert_eq!(s.parse("-1.5"), Ok(Instant(-1_500_000_000)));
        assert_eq!(s.parse("+0"), Ok(Instant(0)));
        let ms = parser(TimeFormat::Epoch(EpochUnit::Millis));
        assert_eq!(ms.parse("1710230400123"), Ok(Instant(t + 123_000_000)));
        let us = parser(TimeFormat::Epoch(EpochUnit::Micros));
        assert_eq!(us.parse("1710230400123456"), Ok(Instant(t + 123_456_000)));
        let ns = parser(TimeFormat::Epoch(EpochUnit::Nanos));
        assert_eq!(
            ns.parse("1710230400123456789"),
            Ok(Instant(t + 123_456_789))
        );
        assert_eq!(ns.parse("-9223372036854775808"), Ok(Instant(i64::MIN)));
    }

    #[test]
    fn epoch_errors_never_overflow() {
        let s = parser(TimeFormat::Epoch(EpochUnit::Seconds));
        for text in ["", "abc", "1e9", "1.", ".5", "1_000", "--1", "0x10"] {
            assert!(
                reason(s.parse(text)).contains("is not a number of seconds"),
                "{text}"
            );
        }
        for text in ["9223372037", "-9223372037", &"9".repeat(40)] {
            assert!(
                reason(s.parse(text)).contains("outside the instants"),
                "{text}"
            );
        }
        assert!(reason(s.parse("1.0000000001")).contains("finer than a nanosecond"));
        // The largest whole number of seconds whose nanoseconds i128 holds,
        // and a fraction that tips the sum over.
        for text in [
            "170141183460469231731687303715.999999999",
            "-170141183460469231731687303715.999999999",
        ] {
            assert!(
                reason(s.parse(text)).contains("outside the instants"),
                "{text}"
            );
        }
        let ns = parser(TimeFormat::Epoch(EpochUnit::Nanos));
        assert!(reason(ns.parse("9223372036854775808")).contains("outside the instants"));
        assert_eq!(ns.parse("12.000"), Ok(Instant(12)));
    }

    #[test]
    fn json_numbers_and_strings() {
        let s = parser(TimeFormat::Epoch(EpochUnit::Seconds));
        assert_eq!(
            s.parse_json(&serde_json::json!(1710230400)),
            Ok(at("2024-03-12T08:00:00Z"))
        );
        assert_eq!(
            s.parse_json(&serde_json::json!(1710230400.5)),
            Ok(at("2024-03-12T08:00:00.500Z"))
        );
        assert_eq!(
            s.parse_json(&serde_json::json!("1710230400")),
            Ok(at("2024-03-12T08:00:00Z"))
        );
        let ms = parser(TimeFormat::Epoch(EpochUnit::Millis));
        assert!(ms.parse_json(&serde_json::json!(i64::MAX)).is_err());
        let rfc = parser(TimeFormat::Rfc3339);
        assert_eq!(
            rfc.parse_json(&serde_json::json!("2024-03-12T08:00:00Z")),
            Ok(at("2024-03-12T08:00:00Z"))
        );
        assert!(reason(rfc.parse_json(&serde_json::json!(true))).contains("is not a timestamp"));
    }

    proptest::proptest! {
        #[test]
        fn no_text_panics(text in "\\PC{0,40}", tail in "[-+0-9.,:TZz ]{0,30}") {
            let formats = [
                TimeFormat::Rfc3339,
                TimeFormat::Strftime("%Y-%m-%d %H:%M:%S%.f%:z".into()),
                TimeFormat::Epoch(EpochUnit::Seconds),
                TimeFormat::Epoch(EpochUnit::Nanos),
            ];
            for format in formats {
                let p = oslo(format, Nonexistent::Error, Ambiguous::Error);
                let _ = p.parse(&text);
                let _ = p.parse(&tail);
                let _ = p.parse(&format!("2024-03-12T{tail}"));
                let _ = p.parse(&format!("2024-03-31 02:{tail}"));
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn no_epoch_cell_panics(
            sign in "[-+]?",
            whole in "[0-9]{1,40}",
            fraction in proptest::option::of("[0-9]{0,12}"),
        ) {
            let text = match fraction {
                Some(fraction) => format!("{sign}{whole}.{fraction}"),
                None => format!("{sign}{whole}"),
            };
            for unit in [EpochUnit::Seconds, EpochUnit::Millis, EpochUnit::Micros, EpochUnit::Nanos] {
                let _ = parser(TimeFormat::Epoch(unit)).parse(&text);
            }
        }

        /// Around the largest whole number of a unit whose nanoseconds i128
        /// holds, where the fraction tips the sum over.
        #[test]
        fn epoch_cells_at_the_edge_of_i128_are_out_of_range(
            unit in proptest::sample::select(vec![
                EpochUnit::Seconds, EpochUnit::Millis, EpochUnit::Micros, EpochUnit::Nanos,
            ]),
            negative: bool,
            delta in -3i128..=0,
            fraction in "[0-9]{0,9}",
        ) {
            let scale = unit_scale(unit) as usize;
            let whole = i128::MAX / 10i128.pow(unit_scale(unit)) + delta;
            let sign = if negative { "-" } else { "" };
            let text = match &fraction[..fraction.len().min(scale)] {
                "" => format!("{sign}{whole}"),
                kept => format!("{sign}{whole}.{kept}"),
            };
            let result = parser(TimeFormat::Epoch(unit)).parse(&text);
            proptest::prop_assert!(reason(result).contains("outside the instants"), "{}", text);
        }
    }

    #[test]
    fn days_from_civil_matches_chrono() {
        for (y, m, d) in [
            (1970, 1, 1),
            (2000, 2, 29),
            (1677, 9, 21),
            (2262, 4, 11),
            (1, 1, 1),
        ] {
            let chrono_days = NaiveDate::from_ymd_opt(y, m, d)
                .unwrap()
                .signed_duration_since(NaiveDate::from_ymd_opt(1970, 1, 1).unwrap())
                .num_days();
            assert_eq!(days_from_civil(y, m, d), chrono_days);
        }
    }
}
