//! The record stream's values and its two text forms (JSON lines, CSV),
//! written straight into a byte buffer: this is the hot path.

use std::sync::Arc;

/// A listed step's row: (time, series, start and length of its run of
/// values). Selected rows carry source time and local series; prepared
/// ones τ and the table's rank, their values sorted by measure id.
pub(crate) type ListedItem = (i64, u32, u32, u16);

/// A measure value in the record stream.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Double(f64),
    Bigint(i64),
    Boolean(bool),
    Varchar(Arc<str>),
}

impl Value {
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

/// Shortest round-trip form; the stream never holds NaN or infinities (the
/// compiler refuses them), but JSON has no word for them, so `null`.
pub(crate) fn write_f64(out: &mut Vec<u8>, v: f64) {
    if v.is_finite() {
        out.extend_from_slice(ryu::Buffer::new().format_finite(v).as_bytes());
    } else {
        out.extend_from_slice(b"null");
    }
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

/// Writes times, remembering the last day's `YYYY-MM-DDT`: a stream's
/// records mostly share their day.
#[derive(Default)]
pub(crate) struct TimeWriter {
    day: Option<i64>,
    prefix: [u8; 11],
}

impl TimeWriter {
    pub(crate) fn write(&mut self, out: &mut Vec<u8>, nanos: i64) {
        let secs = nanos.div_euclid(1_000_000_000);
        let sub = nanos.rem_euclid(1_000_000_000);
        let days = secs.div_euclid(86_400);
        let in_day = secs.rem_euclid(86_400);
        if self.day != Some(days) {
            let (y, m, d) = civil_from_days(days);
            let mut p = Vec::with_capacity(11);
            // i64 nanoseconds span 1677 to 2262: the year has four digits.
            for divisor in [1000, 100, 10, 1] {
                p.push(b'0' + ((y / divisor) % 10) as u8);
            }
            p.push(b'-');
            two(&mut p, m);
            p.push(b'-');
            two(&mut p, d);
            p.push(b'T');
            self.prefix.copy_from_slice(&p);
            self.day = Some(days);
        }
        out.extend_from_slice(&self.prefix);
        write_clock(out, in_day, sub);
    }
}

fn write_clock(out: &mut Vec<u8>, in_day: i64, sub: i64) {
    two(out, in_day / 3600);
    out.push(b':');
    two(out, (in_day / 60) % 60);
    out.push(b':');
    two(out, in_day % 60);
    out.push(b'.');
    let (digits, value) = if sub % 1_000_000 == 0 {
        (3, sub / 1_000_000)
    } else if sub % 1_000 == 0 {
        (6, sub / 1_000)
    } else {
        (9, sub)
    };
    let mut frac = [b'0'; 9];
    let mut v = value;
    for i in (0..digits).rev() {
        frac[i] = b'0' + (v % 10) as u8;
        v /= 10;
    }
    out.extend_from_slice(&frac[..digits]);
    out.push(b'Z');
}

fn two(out: &mut Vec<u8>, v: i64) {
    out.push(b'0' + (v / 10) as u8);
    out.push(b'0' + (v % 10) as u8);
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

    #[test]
    fn values_print_as_json() {
        let json = |v: Value| {
            let mut out = Vec::new();
            v.write_json(&mut out);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(json(Value::Double(4.1)), "4.1");
        assert_eq!(json(Value::Double(0.1 + 0.2)), "0.30000000000000004");
        assert_eq!(json(Value::Bigint(-80)), "-80");
        assert_eq!(json(Value::Boolean(false)), "false");
        assert_eq!(
            json(Value::Varchar("a\"b\\c\n\u{1}".into())),
            r#""a\"b\\c\n\u0001""#
        );
    }
}
