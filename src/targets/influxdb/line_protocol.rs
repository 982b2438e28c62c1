//! Records as InfluxDB line protocol: one line a record, in the batch's
//! order, so that a rejected line's number names its record.
//!
//! `measurement,tag=value,... field=value,... timestamp`: the table's target
//! name is the measurement, the series' dimensions are the tags (sorted by
//! key, as InfluxDB prefers), the record's measures are the fields (`1.0`
//! for a double, `1i` for a bigint, `true`/`false`, `"text"`).
//!
//! Commas, spaces and `=` are escaped with `\` in tag keys, tag values and
//! field keys; commas and spaces in the measurement; `"` and `\` in string
//! values. What line protocol cannot carry is refused (a [`Problem`],
//! found by [`Encoder::check_item`] in the preflight) before anything is
//! written: an empty name or tag value, a newline or carriage return
//! anywhere (the spec has no escape for it, and a line must
//! stay one record), a tag or field key starting with `_` or named `time`
//! (InfluxDB reserves them), a `\` that a parser would read as an escape (at
//! the end of a name or before `\`, `,`, `=` or a space), a string over
//! [`MAX_STRING_FIELD_BYTES`], a double that is not finite, a record without
//! fields.

use std::fmt;

use crate::record::Catalog;
#[cfg(test)]
use crate::record::Record;
use crate::record::Value;
use crate::targets::Item;

/// InfluxDB's limit on one string field's value.
pub(crate) const MAX_STRING_FIELD_BYTES: usize = 64 * 1024;

/// The timestamps' unit in a write request (`precision=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Precision {
    Nanoseconds,
    Microseconds,
    Milliseconds,
    Seconds,
}

impl Precision {
    /// The coarsest unit that keeps every one of `times` (nanoseconds) exact.
    pub(crate) fn coarsest(times: impl IntoIterator<Item = i64>) -> Precision {
        let mut precision = Precision::Seconds;
        for time in times {
            while precision > Precision::Nanoseconds && time % precision.nanos() != 0 {
                precision = precision.finer();
            }
        }
        precision
    }

    /// Nanoseconds in one unit.
    pub(crate) fn nanos(self) -> i64 {
        match self {
            Precision::Nanoseconds => 1,
            Precision::Microseconds => 1_000,
            Precision::Milliseconds => 1_000_000,
            Precision::Seconds => 1_000_000_000,
        }
    }

    fn finer(self) -> Precision {
        match self {
            Precision::Seconds => Precision::Milliseconds,
            Precision::Milliseconds => Precision::Microseconds,
            _ => Precision::Nanoseconds,
        }
    }

    /// The v1 and v2 APIs' word (`precision=ms`).
    pub(crate) fn v2_name(self) -> &'static str {
        match self {
            Precision::Nanoseconds => "ns",
            Precision::Microseconds => "us",
            Precision::Milliseconds => "ms",
            Precision::Seconds => "s",
        }
    }

    /// The v3 API's word (`precision=millisecond`).
    pub(crate) fn v3_name(self) -> &'static str {
        match self {
            Precision::Nanoseconds => "nanosecond",
            Precision::Microseconds => "microsecond",
            Precision::Milliseconds => "millisecond",
            Precision::Seconds => "second",
        }
    }
}

/// Which part of a line a name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    Measurement,
    TagKey,
    TagValue,
    FieldKey,
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Part::Measurement => "measurement",
            Part::TagKey => "tag key",
            Part::TagValue => "tag value",
            Part::FieldKey => "field key",
        })
    }
}

/// What line protocol cannot carry.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(crate) enum Problem {
    /// An empty measurement, key or tag value (`site=""`).
    #[error("an empty {part} cannot be written")]
    Empty { part: Part },
    /// `\n` or `\r` in a name, a tag value or a string.
    #[error("the {} {text:?} has a line break", part.map_or("string".to_string(), |p| p.to_string()))]
    Newline { part: Option<Part>, text: String },
    /// A tag or field key `_measurement`, `_field`, `time`.
    #[error("the {part} `{name}` is reserved by InfluxDB")]
    Reserved { part: Part, name: String },
    /// `a\` or `a\,b`: a parser would read the backslash as an escape.
    #[error("the {part} {text:?} has a `\\` that InfluxDB would read as an escape")]
    Backslash { part: Part, text: String },
    /// A string value longer than [`MAX_STRING_FIELD_BYTES`].
    #[error("a string of {bytes} bytes is over InfluxDB's {MAX_STRING_FIELD_BYTES}")]
    StringTooLong { bytes: usize },
    /// NaN or an infinity.
    #[error("{value} cannot be written")]
    NotFinite { value: f64 },
    /// A record without measures: a point needs a field.
    #[error("a record without measures cannot be written")]
    NoFields,
}

/// A record that cannot be written, named by table, series, time, the step
/// that made it and the measure (when one is at fault): how the tests see
/// a refusal of the stream's records (the engine names a batch's item by
/// its origin instead).
#[cfg(test)]
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Unwritable {
    /// The table's target name.
    pub table: String,
    /// The series' dimensions.
    pub series: Vec<(String, String)>,
    pub time: i64,
    /// The line of the first step that made the record.
    pub step: Option<usize>,
    pub measure: Option<String>,
    pub problem: Problem,
}

#[cfg(test)]
impl fmt::Display for Unwritable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "record of `{}` at ", self.table)?;
        f.write_str(&crate::record::time_string(self.time))?;
        let dims: Vec<String> = self
            .series
            .iter()
            .map(|(k, v)| format!("{k}={v:?}"))
            .collect();
        write!(f, " in series {{{}}}", dims.join(", "))?;
        if let Some(line) = self.step {
            write!(f, " (step on line {line})")?;
        }
        if let Some(measure) = &self.measure {
            write!(f, ", measure `{measure}`")?;
        }
        write!(f, ": {}", self.problem)
    }
}

/// The most lines and bytes (before gzip) one request carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    pub lines: usize,
    pub bytes: usize,
}

impl Limits {
    /// What a write request to InfluxDB carries at most.
    pub(crate) const WRITE: Limits = Limits {
        lines: super::MAX_LINES_PER_BATCH,
        bytes: super::MAX_BODY_BYTES,
    };

    #[cfg(test)]
    const NONE: Limits = Limits {
        lines: usize::MAX,
        bytes: usize::MAX,
    };
}

/// A batch as a request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Encoded {
    /// Line protocol, one line (ended by `\n`) a record, in order.
    pub body: Vec<u8>,
    pub precision: Precision,
    /// How many records (the first ones given) the body holds.
    pub lines: usize,
}

/// Escaped fragments of a catalogue, so that a record costs its values:
/// `measurement,tags ` per series and `key=` per measure.
pub(crate) struct Encoder {
    tables: Vec<TableFragments>,
}

struct TableFragments {
    /// `measurement,k=v,k=v ` by series, or why it cannot be written.
    series: Vec<Result<Vec<u8>, Problem>>,
    /// `key=` by measure id.
    fields: Vec<Result<Vec<u8>, Problem>>,
}

impl Encoder {
    pub(crate) fn new(catalog: &Catalog) -> Encoder {
        let tables = catalog
            .tables
            .iter()
            .map(|t| {
                let measurement = escaped(Part::Measurement, &t.target);
                let series = t
                    .series
                    .iter()
                    .map(|s| {
                        let mut out = measurement.clone()?;
                        for (k, v) in &s.dims {
                            out.push(b',');
                            out.extend(escaped(Part::TagKey, k)?);
                            out.push(b'=');
                            out.extend(escaped(Part::TagValue, v)?);
                        }
                        out.push(b' ');
                        Ok(out)
                    })
                    .collect();
                let fields = t
                    .measures
                    .iter()
                    .map(|(name, _)| {
                        let mut key = escaped(Part::FieldKey, name)?;
                        key.push(b'=');
                        Ok(key)
                    })
                    .collect();
                TableFragments { series, fields }
            })
            .collect();
        Encoder { tables }
    }

    /// `items` of `table` as one request body, one line each in order, at
    /// the coarsest precision that keeps their times exact; the first item
    /// that cannot be written refuses the batch, by its index.
    pub(crate) fn encode_items(&self, table: u16, items: &[Item]) -> Result<Encoded, Refused> {
        let precision = Precision::coarsest(items.iter().map(|i| i.origin.time));
        let mut body = Vec::with_capacity(items.iter().map(|i| self.size(table, i)).sum::<usize>());
        for (index, item) in items.iter().enumerate() {
            self.line(&point(table, item), precision, &mut body)
                .map_err(|(measure, problem)| Refused {
                    index,
                    measure,
                    problem,
                })?;
        }
        Ok(Encoded {
            body,
            precision,
            lines: items.len(),
        })
    }

    /// Whether `item` of `table` can be written: by the fragments and the
    /// values, without writing its line. On refusal, the measure at fault
    /// (when one is) and why.
    pub(crate) fn check_item(&self, table: u16, item: &Item) -> Result<(), (Option<u16>, Problem)> {
        let fragments = &self.tables[table as usize];
        if let Err(problem) = &fragments.series[item.origin.series as usize] {
            return Err((None, problem.clone()));
        }
        if item.measures.is_empty() {
            return Err((None, Problem::NoFields));
        }
        for (m, value) in &item.measures {
            if let Err(problem) = &fragments.fields[*m as usize] {
                return Err((Some(*m), problem.clone()));
            }
            check_value(value).map_err(|problem| (Some(*m), problem))?;
        }
        Ok(())
    }

    /// About how many bytes `item`'s line takes: exact but for a double's
    /// digits (counted at their most) and a string's escapes.
    pub(crate) fn size(&self, table: u16, item: &Item) -> usize {
        let fragments = &self.tables[table as usize];
        let prefix = fragments.series[item.origin.series as usize]
            .as_ref()
            .map_or(0, Vec::len);
        let fields: usize = item
            .measures
            .iter()
            .map(|(m, value)| {
                let key = fragments.fields[*m as usize].as_ref().map_or(0, Vec::len);
                let value = match value {
                    Value::Double(_) => 24,
                    Value::Bigint(_) => 21,
                    Value::Boolean(_) => 5,
                    Value::Varchar(s) => s.len() + 2,
                };
                key + value + 1
            })
            .sum();
        // The timestamp (at most 20 digits), a space and the newline.
        prefix + fields + 22
    }

    /// `records` as one request body, at the coarsest precision that keeps
    /// their times exact; the first record that cannot be written refuses
    /// the batch.
    #[cfg(test)]
    pub(crate) fn encode<'r, I>(
        &self,
        catalog: &Catalog,
        records: I,
    ) -> Result<Encoded, Box<Unwritable>>
    where
        I: IntoIterator<Item = &'r Record>,
        I::IntoIter: Clone,
    {
        self.encode_within(catalog, records, Limits::NONE)
    }

    /// The first of `records` that fit `limits` (always at least one), as
    /// one request body: [`Encoded::lines`] says how many. The precision is
    /// the coarsest that keeps every one of `records` exact, so a batch cut
    /// short may carry a finer unit than its own records need, never a
    /// coarser one. The engine cuts batches itself (by
    /// [`Encoder::size`]); the tests drive the encoder with records as the
    /// stream gives them.
    #[cfg(test)]
    pub(crate) fn encode_within<'r, I>(
        &self,
        catalog: &Catalog,
        records: I,
        limits: Limits,
    ) -> Result<Encoded, Box<Unwritable>>
    where
        I: IntoIterator<Item = &'r Record>,
        I::IntoIter: Clone,
    {
        let records = records.into_iter();
        let precision = Precision::coarsest(records.clone().take(limits.lines).map(|r| r.time));
        let mut body = Vec::with_capacity(records.size_hint().0.min(limits.lines) * 96);
        let mut lines = 0;
        for record in records.take(limits.lines) {
            let end = body.len();
            self.line(&record_point(record), precision, &mut body)
                .map_err(|refused| unwritable(catalog, record, refused))?;
            if lines > 0 && body.len() > limits.bytes {
                body.truncate(end);
                break;
            }
            lines += 1;
        }
        Ok(Encoded {
            body,
            precision,
            lines,
        })
    }

    /// Whether `record` can be written, without keeping its line.
    #[cfg(test)]
    pub(crate) fn check(&self, catalog: &Catalog, record: &Record) -> Result<(), Box<Unwritable>> {
        let mut scratch = Vec::new();
        self.line(&record_point(record), Precision::Nanoseconds, &mut scratch)
            .map_err(|refused| unwritable(catalog, record, refused))
    }

    fn line(
        &self,
        point: &Point<'_>,
        precision: Precision,
        out: &mut Vec<u8>,
    ) -> Result<(), (Option<u16>, Problem)> {
        let start = out.len();
        let fragments = &self.tables[point.table as usize];
        match &fragments.series[point.series as usize] {
            Ok(prefix) => out.extend_from_slice(prefix),
            Err(problem) => return Err((None, problem.clone())),
        }
        if point.measures.is_empty() {
            out.truncate(start);
            return Err((None, Problem::NoFields));
        }
        for (i, (m, value)) in point.measures.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let written = match &fragments.fields[*m as usize] {
                Ok(key) => {
                    out.extend_from_slice(key);
                    write_value(out, value)
                }
                Err(problem) => Err(problem.clone()),
            };
            if let Err(problem) = written {
                out.truncate(start);
                return Err((Some(*m), problem));
            }
        }
        out.push(b' ');
        // Exact: the precision divides every time of the batch.
        out.extend_from_slice(
            itoa::Buffer::new()
                .format(point.time / precision.nanos())
                .as_bytes(),
        );
        out.push(b'\n');
        Ok(())
    }
}

/// An item of a batch the encoder refused: which, the measure at fault
/// (when one is) and why.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Refused {
    pub index: usize,
    pub measure: Option<u16>,
    pub problem: Problem,
}

/// What a line is made of, from a batch's item or the stream's record.
struct Point<'a> {
    table: u16,
    series: u32,
    time: i64,
    measures: &'a [(u16, Value)],
}

fn point(table: u16, item: &Item) -> Point<'_> {
    Point {
        table,
        series: item.origin.series,
        time: item.origin.time,
        measures: &item.measures,
    }
}

#[cfg(test)]
fn record_point(record: &Record) -> Point<'_> {
    Point {
        table: record.table,
        series: record.series,
        time: record.time,
        measures: &record.measures,
    }
}

/// A refused record named by table, series, time, step and measure.
#[cfg(test)]
fn unwritable(
    catalog: &Catalog,
    record: &Record,
    (measure, problem): (Option<u16>, Problem),
) -> Box<Unwritable> {
    // The stream's records index the catalogue they were made with.
    let table = &catalog.tables[record.table as usize];
    Box::new(Unwritable {
        table: table.target.clone(),
        series: table.series[record.series as usize].dims.clone(),
        time: record.time,
        step: record.steps.first().copied(),
        measure: measure.and_then(|m| table.measures.get(m as usize).map(|(name, _)| name.clone())),
        problem,
    })
}

/// Whether line protocol carries `value`.
fn check_value(value: &Value) -> Result<(), Problem> {
    match value {
        Value::Double(v) if !v.is_finite() => Err(Problem::NotFinite { value: *v }),
        Value::Varchar(s) if s.len() > MAX_STRING_FIELD_BYTES => {
            Err(Problem::StringTooLong { bytes: s.len() })
        }
        Value::Varchar(s) if s.contains(['\n', '\r']) => Err(Problem::Newline {
            part: None,
            text: s.to_string(),
        }),
        _ => Ok(()),
    }
}

pub(super) fn write_value(out: &mut Vec<u8>, value: &Value) -> Result<(), Problem> {
    check_value(value)?;
    match value {
        Value::Double(v) => {
            out.extend_from_slice(ryu::Buffer::new().format_finite(*v).as_bytes());
        }
        Value::Bigint(v) => {
            out.extend_from_slice(itoa::Buffer::new().format(*v).as_bytes());
            out.push(b'i');
        }
        Value::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Varchar(s) => {
            out.push(b'"');
            for b in s.bytes() {
                if matches!(b, b'"' | b'\\') {
                    out.push(b'\\');
                }
                out.push(b);
            }
            out.push(b'"');
        }
    }
    Ok(())
}

/// `text` escaped for `part`, or why it cannot be written.
pub(super) fn escaped(part: Part, text: &str) -> Result<Vec<u8>, Problem> {
    if text.is_empty() {
        return Err(Problem::Empty { part });
    }
    if text.contains(['\n', '\r']) {
        return Err(Problem::Newline {
            part: Some(part),
            text: text.into(),
        });
    }
    if matches!(part, Part::TagKey | Part::FieldKey) && (text.starts_with('_') || text == "time") {
        return Err(Problem::Reserved {
            part,
            name: text.into(),
        });
    }
    let bytes = text.as_bytes();
    let escape_needed = |b: u8| match part {
        Part::Measurement => matches!(b, b',' | b' '),
        _ => matches!(b, b',' | b' ' | b'='),
    };
    let mut out = Vec::with_capacity(text.len() + 4);
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\\'
            && bytes
                .get(i + 1)
                .is_none_or(|n| matches!(n, b'\\' | b',' | b' ' | b'='))
        {
            return Err(Problem::Backslash {
                part,
                text: text.into(),
            });
        }
        if escape_needed(b) {
            out.push(b'\\');
        }
        out.push(b);
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
