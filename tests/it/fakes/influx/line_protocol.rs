//! A strict line protocol parser, as InfluxDB reads a write body:
//! `measurement[,tag=value...] field=value[,field=value...] [timestamp]`,
//! one point a line, numbered from 1. Escapes are the server's: `\,` and
//! `\ ` in measurements; `\,`, `\=` and `\ ` in tag keys, tag values and
//! field keys; `\"` and `\\` in string field values. Any other backslash
//! is kept as it is, as the server keeps it. Blank lines and `#` comments
//! are skipped.

use std::collections::BTreeMap;

/// A field's value, typed as line protocol wrote it.
#[derive(Clone, Debug, PartialEq)]
pub enum FieldValue {
    /// `1`, `1.0`, `-2.5e3`: a number without a suffix.
    Float(f64),
    /// `3i`
    Integer(i64),
    /// `3u`
    UInteger(u64),
    /// `"text"`
    String(String),
    /// `t`, `true`, `F`, `FALSE`, ...
    Boolean(bool),
}

impl FieldValue {
    pub fn kind(&self) -> FieldKind {
        match self {
            FieldValue::Float(_) => FieldKind::Float,
            FieldValue::Integer(_) => FieldKind::Integer,
            FieldValue::UInteger(_) => FieldKind::UInteger,
            FieldValue::String(_) => FieldKind::String,
            FieldValue::Boolean(_) => FieldKind::Boolean,
        }
    }
}

/// A field's type: a measurement's field keeps the type it was first
/// written with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum FieldKind {
    Float,
    Integer,
    UInteger,
    String,
    Boolean,
}

impl FieldKind {
    pub fn name(self) -> &'static str {
        match self {
            FieldKind::Float => "float",
            FieldKind::Integer => "integer",
            FieldKind::UInteger => "unsigned",
            FieldKind::String => "string",
            FieldKind::Boolean => "boolean",
        }
    }
}

/// The unit of the timestamps in a body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precision {
    Nanoseconds,
    Microseconds,
    Milliseconds,
    Seconds,
    /// InfluxDB 3's default: the unit is guessed from the magnitude.
    Auto,
}

impl Precision {
    /// The v2 API's `precision=` values (and the v1 API's, but for `n`,
    /// `u`, `h`, `m`, which neither v2 nor v3 takes).
    pub fn from_v2(text: &str) -> Option<Precision> {
        Some(match text {
            "ns" => Precision::Nanoseconds,
            "us" => Precision::Microseconds,
            "ms" => Precision::Milliseconds,
            "s" => Precision::Seconds,
            _ => return None,
        })
    }

    /// The v3 API's `precision=` values: the long names, the short ones,
    /// and `auto`.
    pub fn from_v3(text: &str) -> Option<Precision> {
        Some(match text {
            "auto" => Precision::Auto,
            "nanosecond" => Precision::Nanoseconds,
            "microsecond" => Precision::Microseconds,
            "millisecond" => Precision::Milliseconds,
            "second" => Precision::Seconds,
            short => Precision::from_v2(short)?,
        })
    }

    /// A timestamp in this unit as nanoseconds since the epoch, or `None`
    /// outside what InfluxDB can store.
    fn to_nanos(self, value: i64) -> Option<i64> {
        let factor: i64 = match self {
            Precision::Nanoseconds => 1,
            Precision::Microseconds => 1_000,
            Precision::Milliseconds => 1_000_000,
            Precision::Seconds => 1_000_000_000,
            Precision::Auto => match value.unsigned_abs() {
                v if v < 5_000_000_000 => 1_000_000_000,
                v if v < 5_000_000_000_000 => 1_000_000,
                v if v < 5_000_000_000_000_000 => 1_000,
                _ => 1,
            },
        };
        // InfluxDB's own bounds: the two extreme values are reserved.
        value
            .checked_mul(factor)
            .filter(|ns| (i64::MIN + 2..=i64::MAX - 1).contains(ns))
    }
}

/// One point a line carries: a measurement, its tags (sorted by key), its
/// fields (in the order written; a repeated key keeps its last value) and
/// its time in nanoseconds.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    /// Counted from 1; a string value spanning lines adds to the count of
    /// the lines after it.
    pub number: usize,
    pub text: String,
    pub measurement: String,
    pub tags: BTreeMap<String, String>,
    pub fields: Vec<(String, FieldValue)>,
    pub time_ns: i64,
}

/// A line the server refuses, and why, in InfluxDB's words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineError {
    pub number: usize,
    pub text: String,
    pub reason: String,
}

/// Every line of `body`: the points, and the lines refused. A line without
/// a timestamp gets `now_ns`.
pub fn parse(body: &str, precision: Precision, now_ns: i64) -> (Vec<Line>, Vec<LineError>) {
    let bytes = body.as_bytes();
    let mut lines = Vec::new();
    let mut errors = Vec::new();
    let mut number = 0;
    let mut at = 0;
    while at < bytes.len() {
        number += 1;
        let start = at;
        while bytes.get(at) == Some(&b' ') || bytes.get(at) == Some(&b'\t') {
            at += 1;
        }
        let blank = matches!(bytes.get(at), None | Some(b'\n') | Some(b'#'));
        let result = if blank {
            Err(("", line_end(bytes, at)))
        } else {
            parse_line(bytes, at, precision, now_ns)
        };
        let end = match result {
            Ok((mut line, end)) => {
                line.number = number;
                line.text = body[start..end].to_owned();
                lines.push(line);
                end
            }
            Err((reason, end)) => {
                if !blank {
                    errors.push(LineError {
                        number,
                        text: body[start..end].to_owned(),
                        reason: reason.to_owned(),
                    });
                }
                end
            }
        };
        // A string value may hold newlines: they count as lines.
        number += bytes[start..end].iter().filter(|&&b| b == b'\n').count();
        at = end + 1;
    }
    (lines, errors)
}

type Parsed<T> = Result<(T, usize), (&'static str, usize)>;

fn line_end(bytes: &[u8], from: usize) -> usize {
    bytes[from..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |p| from + p)
}

fn parse_line(bytes: &[u8], at: usize, precision: Precision, now_ns: i64) -> Parsed<Line> {
    let fail = |reason, at| Err((reason, line_end(bytes, at)));
    let (measurement, mut at) = match scan(bytes, at, b", ", b", ") {
        Ok(found) => found,
        Err(Stop::End(at)) => return fail("missing fields", at),
        Err(Stop::Unexpected(at)) => return fail("invalid measurement", at),
    };
    if measurement.is_empty() {
        return fail("missing measurement", at);
    }
    let mut tags = BTreeMap::new();
    while bytes.get(at) == Some(&b',') {
        let (key, after) = match scan(bytes, at + 1, b"=", b",= ") {
            Ok(found) => found,
            Err(Stop::End(at)) => return fail("missing tag value", at),
            Err(Stop::Unexpected(at)) => return fail("missing tag value", at),
        };
        if key.is_empty() {
            return fail("missing tag key", after);
        }
        let (value, after) = match scan(bytes, after + 1, b", ", b",= ") {
            Ok(found) => found,
            Err(Stop::End(at)) => return fail("missing fields", at),
            Err(Stop::Unexpected(at)) => return fail("invalid tag format", at),
        };
        if value.is_empty() {
            return fail("missing tag value", after);
        }
        if tags.insert(key, value).is_some() {
            return fail("duplicate tags", after);
        }
        at = after;
    }
    at = skip_spaces(bytes, at);
    if matches!(bytes.get(at), None | Some(b'\n')) {
        return fail("missing fields", at);
    }
    let mut fields: Vec<(String, FieldValue)> = Vec::new();
    loop {
        let (key, after) = match scan(bytes, at, b"=", b",= ") {
            Ok(found) => found,
            Err(Stop::End(at)) | Err(Stop::Unexpected(at)) => {
                return fail("missing field value", at);
            }
        };
        if key.is_empty() {
            return fail("missing field key", after);
        }
        let (value, after) = match field_value(bytes, after + 1) {
            Ok(found) => found,
            Err((reason, at)) => return fail(reason, at),
        };
        fields.retain(|(k, _)| *k != key);
        fields.push((key, value));
        at = after;
        match bytes.get(at) {
            Some(b',') => at += 1,
            _ => break,
        }
    }
    at = skip_spaces(bytes, at);
    let end = line_end(bytes, at);
    let stamp = std::str::from_utf8(&bytes[at..end])
        .unwrap_or("x")
        .trim_end_matches(' ');
    let time_ns = if stamp.is_empty() {
        now_ns
    } else {
        let digits = stamp.strip_prefix('-').unwrap_or(stamp);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return fail("bad timestamp", at);
        }
        match stamp.parse().ok().and_then(|v| precision.to_nanos(v)) {
            Some(ns) => ns,
            None => return fail("time outside range", at),
        }
    };
    let line = Line {
        number: 0,
        text: String::new(),
        measurement,
        tags,
        fields,
        time_ns,
    };
    Ok((line, end))
}

enum Stop {
    /// The line (or the body) ended first.
    End(usize),
    /// A byte that cannot be there, unescaped.
    Unexpected(usize),
}

/// Reads up to the first unescaped byte of `stops`, unescaping the bytes
/// of `escapable`; an unescaped byte of `escapable` that is not a stop is
/// unexpected. Returns the text and where its stop is.
fn scan(
    bytes: &[u8],
    mut at: usize,
    stops: &[u8],
    escapable: &[u8],
) -> Result<(String, usize), Stop> {
    let mut out = Vec::new();
    loop {
        match bytes.get(at) {
            None | Some(b'\n') => return Err(Stop::End(at)),
            Some(&b'\\') => match bytes.get(at + 1) {
                Some(next) if escapable.contains(next) => {
                    out.push(*next);
                    at += 2;
                }
                Some(&next) if next != b'\n' => {
                    out.extend_from_slice(&[b'\\', next]);
                    at += 2;
                }
                _ => {
                    out.push(b'\\');
                    at += 1;
                }
            },
            Some(byte) if stops.contains(byte) => {
                return Ok((String::from_utf8_lossy(&out).into_owned(), at));
            }
            Some(byte) if escapable.contains(byte) => return Err(Stop::Unexpected(at)),
            Some(&byte) => {
                out.push(byte);
                at += 1;
            }
        }
    }
}

fn skip_spaces(bytes: &[u8], mut at: usize) -> usize {
    while bytes.get(at) == Some(&b' ') {
        at += 1;
    }
    at
}

fn field_value(bytes: &[u8], at: usize) -> Result<(FieldValue, usize), (&'static str, usize)> {
    if bytes.get(at) == Some(&b'"') {
        let opening = at;
        let mut out = Vec::new();
        let mut at = at + 1;
        loop {
            match bytes.get(at) {
                // The refused line ends where its quote's line ends.
                None => return Err(("unbalanced quotes", opening)),
                Some(&b'"') => {
                    let text = String::from_utf8_lossy(&out).into_owned();
                    return Ok((FieldValue::String(text), at + 1));
                }
                Some(&b'\\') if matches!(bytes.get(at + 1), Some(b'"') | Some(b'\\')) => {
                    out.push(bytes[at + 1]);
                    at += 2;
                }
                Some(&byte) => {
                    out.push(byte);
                    at += 1;
                }
            }
        }
    }
    let end = bytes[at..]
        .iter()
        .position(|b| matches!(b, b',' | b' ' | b'\n'))
        .map_or(bytes.len(), |p| at + p);
    let text = std::str::from_utf8(&bytes[at..end]).unwrap_or("");
    let value = match text {
        "" => return Err(("missing field value", at)),
        "t" | "T" | "true" | "True" | "TRUE" => FieldValue::Boolean(true),
        "f" | "F" | "false" | "False" | "FALSE" => FieldValue::Boolean(false),
        _ => match text.as_bytes()[text.len() - 1] {
            b'i' => {
                FieldValue::Integer(integer(&text[..text.len() - 1]).ok_or(("invalid number", at))?)
            }
            b'u' => FieldValue::UInteger(
                Some(&text[..text.len() - 1])
                    .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
                    .and_then(|d| d.parse().ok())
                    .ok_or(("invalid number", at))?,
            ),
            _ if float_syntax(text) => FieldValue::Float(
                text.parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .ok_or(("invalid number", at))?,
            ),
            b'0'..=b'9' | b'.' => return Err(("invalid number", at)),
            _ if text.starts_with(['-', '+']) => return Err(("invalid number", at)),
            _ => return Err(("invalid boolean", at)),
        },
    };
    Ok((value, end))
}

fn integer(text: &str) -> Option<i64> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// `[-+]digits[.digits][e[-+]digits]`, with digits on at least one side
/// of the point: what InfluxDB reads as a float (no `inf`, no `NaN`).
fn float_syntax(text: &str) -> bool {
    let text = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(at) => (&text[..at], Some(&text[at + 1..])),
        None => (text, None),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    (!whole.is_empty() || !fraction.is_empty()) && digits(whole) && digits(fraction) && exponent_ok
}
