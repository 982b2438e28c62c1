//! Reading literals as written: durations, numbers, timestamps, and local
//! wall-clock times with the language's daylight-saving rules. Pure
//! functions from text to value or to the reason it is not one.

use std::fmt;
use std::str::FromStr;

use chrono::{LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone};
use chrono_tz::Tz;

const NANOS_PER_MS: i64 = 1_000_000;
const NANOS_PER_S: i64 = 1_000_000_000;

/// A span of time in nanoseconds. `d` is exactly 24h, `w` exactly 7d.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration(pub i64);

impl Duration {
    pub const ZERO: Duration = Duration(0);

    pub fn from_secs(s: i64) -> Duration {
        Duration(s * NANOS_PER_S)
    }

    pub fn nanos(self) -> i64 {
        self.0
    }

    pub fn is_positive(self) -> bool {
        self.0 > 0
    }
}

impl fmt::Display for Duration {
    /// The canonical form: `1h30m`, `-2d`, `250ms`, `0s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("0s");
        }
        if self.0 < 0 {
            f.write_str("-")?;
        }
        let mut rest = self.0.unsigned_abs();
        for (unit, size) in [
            ("d", 86_400 * NANOS_PER_S as u64),
            ("h", 3_600 * NANOS_PER_S as u64),
            ("m", 60 * NANOS_PER_S as u64),
            ("s", NANOS_PER_S as u64),
            ("ms", NANOS_PER_MS as u64),
            ("us", 1_000),
            ("ns", 1),
        ] {
            if rest >= size {
                write!(f, "{}{unit}", rest / size)?;
                rest %= size;
            }
        }
        Ok(())
    }
}

/// Why a literal could not be read.
#[derive(Clone, Debug, PartialEq)]
pub enum LiteralError {
    DurationOutOfRange,
    NumberOutOfRange,
    TimestampOutOfRange,
    Malformed(String),
    UnknownZone(String),
    OffsetMismatch {
        zone: String,
        given: String,
        expected: String,
    },
    /// A local time the zone skips (spring forward), written with an offset.
    InGap(String),
}

impl LiteralError {
    /// Why a timestamp was refused, worded to follow "is not an RFC 3339
    /// timestamp: ".
    pub fn timestamp_reason(self) -> String {
        match self {
            LiteralError::Malformed(reason) => reason,
            LiteralError::UnknownZone(zone) => format!("zone `{zone}` is not an IANA zone"),
            LiteralError::OffsetMismatch {
                zone,
                given,
                expected,
            } => format!("offset {given} does not hold in {zone} then (it is {expected})"),
            LiteralError::InGap(zone) => {
                format!("that local time does not exist in {zone} (the clocks skip it)")
            }
            LiteralError::TimestampOutOfRange
            | LiteralError::DurationOutOfRange
            | LiteralError::NumberOutOfRange => "it is outside the years 1677 to 2262".into(),
        }
    }
}

/// `15m`, `1h30m`, `-2h`, `+500ms`.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, LiteralError> {
    let (negative, body) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let mut total: i64 = 0;
    let mut rest = body;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let amount: i64 = rest[..digits]
            .parse()
            .map_err(|_| LiteralError::DurationOutOfRange)?;
        rest = &rest[digits..];
        let (unit, len) = if rest.starts_with("ms") {
            (NANOS_PER_MS, 2)
        } else {
            let unit = match rest.as_bytes().first() {
                Some(b's') => NANOS_PER_S,
                Some(b'm') => 60 * NANOS_PER_S,
                Some(b'h') => 3_600 * NANOS_PER_S,
                Some(b'd') => 86_400 * NANOS_PER_S,
                Some(b'w') => 7 * 86_400 * NANOS_PER_S,
                _ => {
                    return Err(LiteralError::Malformed(format!(
                        "`{text}` is not a duration"
                    )));
                }
            };
            (unit, 1)
        };
        rest = &rest[len..];
        total = amount
            .checked_mul(unit)
            .and_then(|n| total.checked_add(n))
            .ok_or(LiteralError::DurationOutOfRange)?;
    }
    Ok(Duration(if negative { -total } else { total }))
}

/// A duration as people write it but the language does not: `1min`,
/// `2.5h`, `1 m`, `90 seconds`. Gives the duration and how many bytes of
/// `text` it took, for a help that shows the exact rewrite (`1m`,
/// `2h30m`); `None` unless it is whole milliseconds.
pub(crate) fn loose_duration(text: &str) -> Option<(Duration, usize)> {
    let (negative, mut at) = match text.as_bytes().first() {
        Some(b'-') => (true, 1),
        Some(b'+') => (false, 1),
        _ => (false, 0),
    };
    let mut total: i128 = 0;
    let mut used = 0;
    loop {
        // `1h 30min`: parts may stand apart; trailing spaces are not taken.
        let gap = if used > 0 {
            text[at..].bytes().take_while(|&b| b == b' ').count()
        } else {
            0
        };
        let rest = &text[at + gap..];
        let whole = rest.bytes().take_while(u8::is_ascii_digit).count();
        if whole == 0 {
            break;
        }
        let fraction = match rest[whole..].strip_prefix('.') {
            Some(after) => after.bytes().take_while(u8::is_ascii_digit).count(),
            None => 0,
        };
        let number_end = whole + if fraction > 0 { 1 + fraction } else { 0 };
        let spaces = rest[number_end..]
            .bytes()
            .take_while(|&b| b == b' ')
            .count();
        let word_start = number_end + spaces;
        let word_len = rest[word_start..]
            .bytes()
            .take_while(u8::is_ascii_alphabetic)
            .count();
        let unit: i128 = match rest[word_start..word_start + word_len]
            .to_ascii_lowercase()
            .as_str()
        {
            "ms" | "msec" | "msecs" | "millisecond" | "milliseconds" => NANOS_PER_MS.into(),
            "s" | "sec" | "secs" | "second" | "seconds" => NANOS_PER_S.into(),
            "m" | "min" | "mins" | "minute" | "minutes" => (60 * NANOS_PER_S).into(),
            "h" | "hr" | "hrs" | "hour" | "hours" => (3_600 * NANOS_PER_S).into(),
            "d" | "day" | "days" => (86_400 * NANOS_PER_S).into(),
            "w" | "wk" | "wks" | "week" | "weeks" => (7 * 86_400 * NANOS_PER_S).into(),
            _ => break,
        };
        let digits: String = rest[..number_end].chars().filter(|&c| c != '.').collect();
        let scaled: i128 = digits.parse().ok()?;
        let scale = 10i128.checked_pow(u32::try_from(fraction).ok()?)?;
        let nanos = scaled.checked_mul(unit)?;
        if nanos % scale != 0 {
            return None;
        }
        total = total.checked_add(nanos / scale)?;
        at += gap + word_start + word_len;
        used = at;
    }
    if used == 0 || total % i128::from(NANOS_PER_MS) != 0 {
        return None;
    }
    let total = i64::try_from(if negative { -total } else { total }).ok()?;
    Some((Duration(total), used))
}

/// A number as written: `42`, `-3.5`, `1e-3`, `1_000_000`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Number {
    pub value: f64,
    /// The exact value when it was written as a whole number that fits i64.
    pub integer: Option<i64>,
}

pub(crate) fn parse_number(text: &str) -> Result<Number, LiteralError> {
    let clean: String = text.chars().filter(|&c| c != '_').collect();
    let value = f64::from_str(&clean).map_err(|_| LiteralError::NumberOutOfRange)?;
    if !value.is_finite() {
        return Err(LiteralError::NumberOutOfRange);
    }
    let integer = clean.parse::<i64>().ok();
    Ok(Number { value, integer })
}

/// An instant in nanoseconds since the Unix epoch (UTC), the range i64 holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(pub i64);

impl Instant {
    pub fn checked_add(self, d: Duration) -> Option<Instant> {
        self.0.checked_add(d.0).map(Instant)
    }

    pub fn from_naive_utc(utc: NaiveDateTime) -> Result<Instant, LiteralError> {
        utc.and_utc()
            .timestamp_nanos_opt()
            .map(Instant)
            .ok_or(LiteralError::TimestampOutOfRange)
    }
}

impl fmt::Display for Instant {
    /// RFC 3339 in UTC with as many fraction digits as needed (none for whole seconds).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = chrono::DateTime::from_timestamp_nanos(self.0);
        let nanos = self.0.rem_euclid(NANOS_PER_S);
        if nanos == 0 {
            write!(f, "{}", t.format("%Y-%m-%dT%H:%M:%SZ"))
        } else if nanos % NANOS_PER_MS == 0 {
            write!(f, "{}", t.format("%Y-%m-%dT%H:%M:%S%.3fZ"))
        } else {
            write!(f, "{}", t.format("%Y-%m-%dT%H:%M:%S%.9fZ"))
        }
    }
}

/// An RFC 3339 timestamp, optionally with an RFC 9557 zone suffix:
/// `2024-03-12T08:00Z`, `2024-03-12T08:00:00.250+01:00`,
/// `2024-03-12T08:00[Europe/Oslo]`.
pub fn parse_timestamp(text: &str) -> Result<Instant, LiteralError> {
    let (stamp, zone) = match text.find('[') {
        Some(i) => {
            let name = text[i + 1..]
                .strip_suffix(']')
                .ok_or_else(|| malformed("the zone suffix needs a closing `]`"))?;
            (&text[..i], Some(name))
        }
        None => (text, None),
    };
    let zone = zone
        .map(|name| Tz::from_str(name).map_err(|_| LiteralError::UnknownZone(name.to_string())))
        .transpose()?;
    let (local, offset) = split_offset(stamp)?;
    let naive = parse_local(local)?;
    // RFC 9557: `Z` with a zone says the instant is known in UTC and the
    // zone is the reader's; nothing to check.
    let zulu = offset == Some(0) && stamp.ends_with(['Z', 'z']);
    match (offset, zone) {
        (Some(_), Some(_)) if zulu => offset_instant(naive, 0),
        (None, None) => Err(malformed(
            "it has no offset: add `Z` for UTC, an offset such as `+01:00`, or a zone such as `[Europe/Oslo]`",
        )),
        (Some(seconds), None) => offset_instant(naive, seconds),
        (None, Some(tz)) => resolve_local(&tz, naive, Nonexistent::Shift, Ambiguous::Earlier)
            .map_err(|_| LiteralError::TimestampOutOfRange),
        (Some(seconds), Some(tz)) => {
            let candidates: Vec<i32> = match tz.from_local_datetime(&naive) {
                chrono::LocalResult::Single(t) => vec![t.offset().fix().local_minus_utc()],
                chrono::LocalResult::Ambiguous(a, b) => vec![
                    a.offset().fix().local_minus_utc(),
                    b.offset().fix().local_minus_utc(),
                ],
                chrono::LocalResult::None => vec![],
            };
            if candidates.contains(&seconds) {
                return offset_instant(naive, seconds);
            }
            if candidates.is_empty() {
                return Err(LiteralError::InGap(tz.name().to_string()));
            }
            let expected = candidates
                .iter()
                .map(|s| format_offset(*s))
                .collect::<Vec<_>>()
                .join(" or ");
            Err(LiteralError::OffsetMismatch {
                zone: tz.name().to_string(),
                given: format_offset(seconds),
                expected,
            })
        }
    }
}

fn malformed(reason: &str) -> LiteralError {
    LiteralError::Malformed(reason.to_string())
}

fn offset_instant(naive: NaiveDateTime, offset_seconds: i32) -> Result<Instant, LiteralError> {
    let utc = naive
        .checked_sub_signed(chrono::TimeDelta::seconds(offset_seconds.into()))
        .ok_or(LiteralError::TimestampOutOfRange)?;
    Instant::from_naive_utc(utc)
}

pub(crate) fn format_offset(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let s = seconds.unsigned_abs();
    format!("{sign}{:02}:{:02}", s / 3600, (s % 3600) / 60)
}

/// Splits `...Z` / `...+01:00` into the local part and the offset in seconds.
fn split_offset(stamp: &str) -> Result<(&str, Option<i32>), LiteralError> {
    if let Some(local) = stamp.strip_suffix('Z').or_else(|| stamp.strip_suffix('z')) {
        return Ok((local, Some(0)));
    }
    // An offset sign can only stand after the `T`; dashes before it are the date's.
    let Some(t) = stamp.find(['T', 't']) else {
        return Ok((stamp, None));
    };
    let Some(sign_at) = stamp[t..].rfind(['+', '-']).map(|i| t + i) else {
        return Ok((stamp, None));
    };
    let offset = &stamp[sign_at + 1..];
    let bytes = offset.as_bytes();
    let well_formed = bytes.len() == 5
        && bytes[2] == b':'
        && [0, 1, 3, 4].iter().all(|&i| bytes[i].is_ascii_digit());
    if !well_formed {
        return Err(malformed(&format!(
            "offset `{}` is not of the form `+HH:MM`",
            &stamp[sign_at..]
        )));
    }
    let hours: i32 = offset[..2].parse().unwrap_or(99);
    let minutes: i32 = offset[3..].parse().unwrap_or(99);
    if hours > 23 || minutes > 59 {
        return Err(malformed(&format!(
            "offset `{}` is out of range",
            &stamp[sign_at..]
        )));
    }
    let seconds = hours * 3600 + minutes * 60;
    let sign = if stamp.as_bytes()[sign_at] == b'-' {
        -1
    } else {
        1
    };
    Ok((&stamp[..sign_at], Some(sign * seconds)))
}

/// `YYYY-MM-DDTHH:MM[:SS[.fraction]]`, with a reason for each way it can fail.
fn parse_local(text: &str) -> Result<NaiveDateTime, LiteralError> {
    let Some((date, time)) = text.split_once(['T', 't']) else {
        return Err(malformed(
            "it needs a time of day after `T`, such as `2024-03-12T00:00Z`",
        ));
    };
    let fields: Vec<&str> = date.split('-').collect();
    let [y, m, d] = fields.as_slice() else {
        return Err(malformed("the date is not of the form `YYYY-MM-DD`"));
    };
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return Err(malformed("the date is not of the form `YYYY-MM-DD`"));
    }
    let number = |s: &str, what: &str| -> Result<u32, LiteralError> {
        s.parse::<u32>()
            .map_err(|_| malformed(&format!("the {what} `{s}` is not a number")))
    };
    let (year, month, day) = (number(y, "year")?, number(m, "month")?, number(d, "day")?);
    if !(1..=12).contains(&month) {
        return Err(malformed(&format!("month {month} does not exist")));
    }
    let date = NaiveDate::from_ymd_opt(year as i32, month, day)
        .ok_or_else(|| malformed(&format!("day {day} does not exist in {year}-{month:02}")))?;
    let (clock, fraction) = match time.split_once('.') {
        Some((clock, fraction)) => (clock, Some(fraction)),
        None => (time, None),
    };
    let parts: Vec<&str> = clock.split(':').collect();
    if !(2..=3).contains(&parts.len()) || parts.iter().any(|p| p.len() != 2) {
        return Err(malformed(
            "the time is not of the form `HH:MM` or `HH:MM:SS`",
        ));
    }
    let hour = number(parts[0], "hour")?;
    let minute = number(parts[1], "minute")?;
    let second = parts
        .get(2)
        .map(|s| number(s, "second"))
        .transpose()?
        .unwrap_or(0);
    if hour > 23 {
        return Err(malformed(&format!("hour {hour} does not exist")));
    }
    if minute > 59 {
        return Err(malformed(&format!("minute {minute} does not exist")));
    }
    if second > 59 {
        return Err(malformed(&format!(
            "second {second} is not supported (no leap seconds)"
        )));
    }
    if fraction.is_some() && parts.len() != 3 {
        return Err(malformed(
            "a fraction needs seconds before it: `08:00:00.250`",
        ));
    }
    let nanos = match fraction {
        None => 0,
        Some(f) if f.is_empty() || f.len() > 9 || !f.bytes().all(|b| b.is_ascii_digit()) => {
            return Err(malformed("the fraction of a second takes 1 to 9 digits"));
        }
        Some(f) => f.parse::<u32>().unwrap_or(0) * 10u32.pow(9 - f.len() as u32),
    };
    let time = NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)
        .ok_or_else(|| malformed("the time of day does not exist"))?;
    Ok(NaiveDateTime::new(date, time))
}

// Local wall-clock time → instant: gaps and overlaps.

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
    /// A source's rows in file order: within a series, the first pass
    /// through the repeated hour is earlier, a time read again is later
    /// (`sources` decides; on its own it is `Earlier`).
    InOrder,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LocalTimeError {
    Nonexistent,
    Ambiguous,
    OutOfRange,
}

/// The instant a local wall-clock time in `tz` names, by the language's
/// daylight-saving rules (RFC 9557 "compatible" by default).
pub(crate) fn resolve_local(
    tz: &Tz,
    local: NaiveDateTime,
    nonexistent: Nonexistent,
    ambiguous: Ambiguous,
) -> Result<Instant, LocalTimeError> {
    let offset_seconds = match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.offset().fix().local_minus_utc(),
        LocalResult::Ambiguous(earlier, later) => match ambiguous {
            Ambiguous::Earlier | Ambiguous::InOrder => earlier.offset().fix().local_minus_utc(),
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

/// A time as the language writes it: `now-1d`, `now`, `now+15m` for
/// offsets from `now`; RFC 3339 for instants.
pub(crate) fn time_words(time: i64, relative: bool) -> String {
    if relative {
        offset_words(time)
    } else {
        Instant(time).to_string()
    }
}

/// An offset from `now` as the language writes it: `now`, `now+15m`, `now-1d`.
pub(crate) fn offset_words(offset: i64) -> String {
    match offset {
        0 => "now".into(),
        n if n > 0 => format!("now+{}", Duration(n)),
        n => format!("now{}", Duration(n)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(text: &str) -> String {
        parse_timestamp(text)
            .map(|i| i.to_string())
            .unwrap_or_else(|e| format!("{e:?}"))
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("-2h"), Ok(Duration::from_secs(-7200)));
        assert_eq!(parse_duration("500ms"), Ok(Duration(500 * NANOS_PER_MS)));
        assert_eq!(parse_duration("1w"), Ok(Duration::from_secs(7 * 86400)));
        assert_eq!(
            parse_duration("99999999999999999999h"),
            Err(LiteralError::DurationOutOfRange)
        );
        assert_eq!(
            parse_duration("300000w"),
            Err(LiteralError::DurationOutOfRange)
        );
        assert_eq!(Duration::from_secs(5400).to_string(), "1h30m");
        assert_eq!(Duration(-1_500_000_000).to_string(), "-1s500ms");
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_number("1_000_000").unwrap().integer, Some(1_000_000));
        assert_eq!(parse_number("1e-3").unwrap().value, 0.001);
        assert_eq!(parse_number("-3.5").unwrap().integer, None);
        assert_eq!(parse_number("1e999"), Err(LiteralError::NumberOutOfRange));
    }

    #[test]
    fn timestamps() {
        assert_eq!(ts("2024-03-12T08:00Z"), "2024-03-12T08:00:00Z");
        assert_eq!(
            ts("2024-03-12T08:00:00.250+01:00"),
            "2024-03-12T07:00:00.250Z"
        );
        assert_eq!(ts("2024-03-12T08:00[Europe/Oslo]"), "2024-03-12T07:00:00Z");
        assert_eq!(
            ts("2024-07-12T08:00+02:00[Europe/Oslo]"),
            "2024-07-12T06:00:00Z"
        );
        // Spring-forward gap: 02:30 does not exist and moves forward by the gap.
        assert_eq!(ts("2024-03-31T02:30[Europe/Oslo]"), "2024-03-31T01:30:00Z");
        // Fall-back overlap: the earlier offset (+02:00).
        assert_eq!(ts("2024-10-27T02:30[Europe/Oslo]"), "2024-10-27T00:30:00Z");
        assert!(ts("2024-03-12T08:00+02:00[Europe/Oslo]").starts_with("OffsetMismatch"));
        assert_eq!(ts("2024-03-12T08:00Z[Europe/Oslo]"), "2024-03-12T08:00:00Z");
        assert!(ts("2024-03-31T02:30+01:00[Europe/Oslo]").starts_with("InGap"));
        assert!(ts("2024-13-01T00:00Z").contains("month 13"));
        assert!(ts("2024-02-30T00:00Z").contains("day 30"));
        assert!(ts("2024-03-12T08:00").contains("no offset"));
        assert!(ts("2024-03-12T08:00[Europe/Olso]").starts_with("UnknownZone"));
        assert!(ts("2300-01-01T00:00Z").starts_with("TimestampOutOfRange"));
    }

    #[test]
    fn a_loose_duration_reads_as_its_exact_rewrite() {
        let rewrite = |t: &str| loose_duration(t).map(|(d, used)| (d.to_string(), used));
        assert_eq!(rewrite("1min"), Some(("1m".into(), 4)));
        assert_eq!(rewrite("2.5h"), Some(("2h30m".into(), 4)));
        assert_eq!(rewrite("1 m\n  measure"), Some(("1m".into(), 3)));
        assert_eq!(rewrite("90 seconds"), Some(("1m30s".into(), 10)));
        assert_eq!(rewrite("1h 30min"), Some(("1h30m".into(), 8)));
        assert_eq!(rewrite("-1.5d"), Some(("-1d12h".into(), 5)));
        assert_eq!(rewrite("6 every 1m"), None);
        assert_eq!(rewrite("0.0001s"), None);
        assert_eq!(rewrite("1.5"), None);
        assert_eq!(rewrite("abc"), None);
    }
}
