//! A record's values, and the text forms of values and times (JSON lines,
//! CSV), written straight into a byte buffer: this is the hot path.

use std::sync::Arc;

use crate::model::MeasureType;

/// A measure value in the record stream.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Double(f64),
    Bigint(i64),
    Boolean(bool),
    Varchar(Arc<str>),
}

/// A number a model or an anomaly computed that its measure cannot hold:
/// an infinity or NaN, or for a bigint a number past ±9.2e18.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Unrepresentable(pub f64);

/// 2^63, exactly a double: a bigint is below it and at least its negation.
const TWO_TO_63: f64 = 9_223_372_036_854_775_808.0;

impl Value {
    /// The one way from a computed number to a stream value: a `bigint`
    /// is the number rounded (halves away from zero), and must fit i64;
    /// any other `ty` makes a double, which must be finite. Nothing saturates: the stream never holds an
    /// infinity, NaN or a clipped bigint.
    pub(crate) fn from_f64(ty: MeasureType, x: f64) -> Result<Value, Unrepresentable> {
        if ty == MeasureType::Bigint {
            let whole = x.round();
            // False for NaN too.
            if (-TWO_TO_63..TWO_TO_63).contains(&whole) {
                Ok(Value::Bigint(whole as i64))
            } else {
                Err(Unrepresentable(x))
            }
        } else if x.is_finite() {
            Ok(Value::Double(x))
        } else {
            Err(Unrepresentable(x))
        }
    }

    /// The number behind a numeric value (for summaries and anomalies).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Double(v) => Some(*v),
            Value::Bigint(v) => Some(*v as f64),
            _ => None,
        }
    }

    /// JSON text of the value: shortest round-trip doubles, integers,
    /// `true`/`false`, strings escaped.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        match self {
            Value::Double(v) => write_f64(out, *v),
            Value::Bigint(v) => out.extend_from_slice(itoa::Buffer::new().format(*v).as_bytes()),
            Value::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
            Value::Varchar(s) => write_json_string(out, s),
        }
    }
}

/// Shortest round-trip form. The stream never holds NaN or infinities
/// ([`Value::from_f64`] refuses them); JSON has no word for them, so a
/// value made elsewhere (a test's) would be `null`.
pub(crate) fn write_f64(out: &mut Vec<u8>, v: f64) {
    if !v.is_finite() {
        out.extend_from_slice(b"null");
    } else if !write_short_decimal(out, v) {
        out.extend_from_slice(ryu::Buffer::new().format_finite(v).as_bytes());
    }
}

/// The places a short decimal may have: 10^5.
const SHORT_SCALE: f64 = 1e5;
const SHORT_PLACES: usize = 5;

/// Writes `v` as ryu would, when `v` is the double nearest a decimal of at
/// most 15 significant digits and 5 places, from 0.00001 up (what recorded
/// data mostly holds), and says whether it did.
///
/// Why the bytes are ryu's: two decimals of at most 15 significant digits
/// never round to the same double (`f64::DIGITS`), so that decimal, without
/// trailing zeros, is the only shortest one that reads back as `v`; and in
/// this range ryu writes it in plain notation, `.0` after a whole number.
/// `m / 10^5` is exact arithmetic rounded once, as reading the text is.
fn write_short_decimal(out: &mut Vec<u8>, v: f64) -> bool {
    let magnitude = v.abs();
    let scaled = magnitude * SHORT_SCALE;
    // Below 0.00001 ryu may write an exponent; 10^15 keeps 15 digits.
    if !(1.0..1e15).contains(&scaled) {
        return false;
    }
    // Truncating `scaled + 0.5` is rounding: the candidate is checked below.
    let mut digits = (scaled + 0.5) as u64;
    if digits as f64 / SHORT_SCALE != magnitude {
        return false;
    }
    let mut places = SHORT_PLACES;
    while places > 0 && digits.is_multiple_of(10) {
        digits /= 10;
        places -= 1;
    }
    // Right to left: the fraction's digits (or `0`), the point, the whole
    // number's, the sign. 15 digits, a point, a `0` and a sign fit.
    let mut text = [0u8; 24];
    let mut at = text.len();
    let mut put = |byte: u8| {
        at -= 1;
        text[at] = byte;
    };
    if places == 0 {
        put(b'0');
    }
    for _ in 0..places {
        put(b'0' + (digits % 10) as u8);
        digits /= 10;
    }
    put(b'.');
    loop {
        put(b'0' + (digits % 10) as u8);
        digits /= 10;
        if digits == 0 {
            break;
        }
    }
    if v < 0.0 {
        put(b'-');
    }
    out.extend_from_slice(&text[at..]);
    true
}

pub(crate) fn write_json_string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let mut start = 0;
    let bytes = s.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        let escape: Option<&[u8]> = match b {
            b'"' => Some(b"\\\""),
            b'\\' => Some(b"\\\\"),
            b'\n' => Some(b"\\n"),
            b'\r' => Some(b"\\r"),
            b'\t' => Some(b"\\t"),
            0..=0x1f => None,
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        match escape {
            Some(e) => out.extend_from_slice(e),
            None => out.extend_from_slice(format!("\\u{b:04x}").as_bytes()),
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// `2026-11-27T18:00:00.000Z`: milliseconds always, micro- or nanoseconds
/// only when the instant has them.
pub fn write_time(out: &mut Vec<u8>, nanos: i64) {
    TimeWriter::default().write(out, nanos);
}

/// [`write_time`] as a `String`, for messages and reports.
pub(crate) fn time_string(nanos: i64) -> String {
    let mut out = Vec::with_capacity(30);
    write_time(&mut out, nanos);
    String::from_utf8(out).unwrap_or_default()
}

/// Writes times, remembering the last one written and its day's
/// `YYYY-MM-DDT`: a stream's records mostly come in runs that share their
/// instant (every series of one), and nearly always their day.
#[derive(Default)]
pub(crate) struct TimeWriter {
    day: Option<i64>,
    prefix: [u8; 11],
    /// The instant `text` holds.
    last: Option<i64>,
    text: [u8; TIME_BYTES],
    len: usize,
}

/// `YYYY-MM-DDTHH:MM:SS.` and nine digits and `Z`.
const TIME_BYTES: usize = 30;

impl TimeWriter {
    pub(crate) fn write(&mut self, out: &mut Vec<u8>, nanos: i64) {
        if self.last != Some(nanos) {
            self.render(nanos);
            self.last = Some(nanos);
        }
        out.extend_from_slice(&self.text[..self.len]);
    }

    fn render(&mut self, nanos: i64) {
        let secs = nanos.div_euclid(1_000_000_000);
        let sub = nanos.rem_euclid(1_000_000_000);
        let days = secs.div_euclid(86_400);
        let in_day = secs.rem_euclid(86_400);
        if self.day != Some(days) {
            let (y, m, d) = civil_from_days(days);
            let p = &mut self.prefix;
            // i64 nanoseconds span 1677 to 2262: the year has four digits.
            for (slot, divisor) in p.iter_mut().zip([1000, 100, 10, 1]) {
                *slot = b'0' + ((y / divisor) % 10) as u8;
            }
            p[4] = b'-';
            two(p, 5, m);
            p[7] = b'-';
            two(p, 8, d);
            p[10] = b'T';
            self.day = Some(days);
        }
        let t = &mut self.text;
        t[..11].copy_from_slice(&self.prefix);
        two(t, 11, in_day / 3600);
        t[13] = b':';
        two(t, 14, (in_day / 60) % 60);
        t[16] = b':';
        two(t, 17, in_day % 60);
        t[19] = b'.';
        let (digits, mut value) = if sub % 1_000_000 == 0 {
            (3, sub / 1_000_000)
        } else if sub % 1_000 == 0 {
            (6, sub / 1_000)
        } else {
            (9, sub)
        };
        for slot in t[20..20 + digits].iter_mut().rev() {
            *slot = b'0' + (value % 10) as u8;
            value /= 10;
        }
        t[20 + digits] = b'Z';
        self.len = 21 + digits;
    }
}

/// Two digits of `v` (0 to 99) at `at`.
fn two(out: &mut [u8], at: usize, v: i64) {
    out[at] = b'0' + (v / 10) as u8;
    out[at + 1] = b'0' + (v % 10) as u8;
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian
/// (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The one constructor refuses what a measure cannot hold, and rounds
    /// a bigint halves away from zero.
    #[test]
    fn a_computed_number_is_a_value_only_when_its_type_holds_it() {
        let make = Value::from_f64;
        assert_eq!(make(MeasureType::Double, 1.5), Ok(Value::Double(1.5)));
        for x in [f64::INFINITY, f64::NEG_INFINITY, f64::NAN] {
            assert!(make(MeasureType::Double, x).is_err(), "{x}");
            assert!(make(MeasureType::Bigint, x).is_err(), "{x}");
        }
        assert_eq!(make(MeasureType::Bigint, 2.5), Ok(Value::Bigint(3)));
        assert_eq!(make(MeasureType::Bigint, -2.5), Ok(Value::Bigint(-3)));
        // i64 holds [-2^63, 2^63): 2^63 and beyond are refused, not clipped.
        assert_eq!(
            make(MeasureType::Bigint, -TWO_TO_63),
            Ok(Value::Bigint(i64::MIN))
        );
        assert_eq!(
            make(MeasureType::Bigint, TWO_TO_63),
            Err(Unrepresentable(TWO_TO_63))
        );
        assert!(make(MeasureType::Bigint, -TWO_TO_63 * 1.01).is_err());
        let below = f64::from_bits(TWO_TO_63.to_bits() - 1);
        assert_eq!(
            make(MeasureType::Bigint, below),
            Ok(Value::Bigint(below as i64))
        );
    }

    fn time(n: i64) -> String {
        let mut out = Vec::new();
        write_time(&mut out, n);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn times_match_chrono_across_years_and_precisions() {
        for n in [
            0,
            1,
            1_000,
            1_000_000,
            -1,
            1_709_337_600_123_000_000,
            4_102_444_799_999_999_999,
            -2_208_988_800_000_000_000,
        ] {
            let chrono = chrono::DateTime::from_timestamp_nanos(n);
            let expected = if n % 1_000_000 == 0 {
                chrono.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
            } else if n % 1_000 == 0 {
                chrono.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
            } else {
                chrono.format("%Y-%m-%dT%H:%M:%S%.9fZ").to_string()
            };
            assert_eq!(time(n), expected, "{n}");
        }
    }

    /// One writer over a stream of instants (repeated, across days and
    /// precisions) writes what a fresh writer writes for each.
    #[test]
    fn a_reused_writer_writes_each_time_as_a_fresh_one() {
        let mut writer = TimeWriter::default();
        let mut n = -86_400_000_000_123_i64;
        for step in 0..5_000_i64 {
            for _ in 0..(step % 3 + 1) {
                let mut out = b"x".to_vec();
                writer.write(&mut out, n);
                assert_eq!(out[1..], *time(n).as_bytes(), "{n}");
            }
            n += [1, 999, 1_000_000, 3_599_999_999_999, 86_399_000_000_000][(step % 5) as usize];
        }
    }

    /// The short-decimal path writes exactly what ryu writes, on decimals
    /// of every length and place count around its limits, and on doubles
    /// that are no short decimal at all.
    #[test]
    fn short_decimals_are_written_as_ryu_writes_them() {
        let check = |v: f64| {
            let mut ours = Vec::new();
            write_f64(&mut ours, v);
            let theirs = ryu::Buffer::new().format_finite(v).to_string();
            assert_eq!(String::from_utf8(ours).unwrap(), theirs, "{v:e}");
        };
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for places in 0..=9 {
            for width in 1..=17u32 {
                for _ in 0..300 {
                    let m = next() % 10u64.pow(width);
                    let v = m as f64 / 10f64.powi(places);
                    check(v);
                    check(-v);
                    check(v * 1.000_000_000_1);
                }
            }
        }
        for _ in 0..100_000 {
            check(f64::from_bits(next() >> 2));
            check((next() % 2_000_000) as f64 / 100.0 - 10_000.0);
        }
        for v in [
            0.0,
            -0.0,
            1e-5,
            9.99999e-6,
            1.5e-5,
            0.1,
            0.3,
            1.0,
            9_999_999_999.999_99,
            1e10,
            1e15,
            123_456_789_012_345.0,
            1e16,
            0.1 + 0.2,
            f64::MAX,
            f64::MIN_POSITIVE,
            5e-324,
        ] {
            check(v);
            check(-v);
        }
    }

    #[test]
    fn values_print_as_json() {
        let json = |v: Value| {
            let mut out = Vec::new();
            v.write_json(&mut out);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(json(Value::Double(4.1)), "4.1");
        assert_eq!(json(Value::Double(-10.0)), "-10.0");
        assert_eq!(json(Value::Double(0.05)), "0.05");
        assert_eq!(json(Value::Double(0.1 + 0.2)), "0.30000000000000004");
        assert_eq!(json(Value::Bigint(-80)), "-80");
        assert_eq!(json(Value::Boolean(false)), "false");
        assert_eq!(
            json(Value::Varchar("a\"b\\c\n\u{1}".into())),
            r#""a\"b\\c\n\u0001""#
        );
    }
}
