//! What a verify found: counts per table and series, and the records that
//! are missing, unexpected or different (the first [`SHOWN`] of each kind,
//! or all of them for `--report`). Rendered once as text and once as JSON.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Serialize;

use crate::record::series_text;
use crate::record::shard::Shard;
use crate::record::{Value, time_string};

/// How many records of each kind the summary shows.
pub(crate) const SHOWN: usize = 10;

/// Counts of one table, or of one series.
#[derive(Debug, Default, Clone, Copy, Serialize, PartialEq, Eq)]
pub(crate) struct Counts {
    pub expected: u64,
    pub found: u64,
    pub missing: u64,
    pub unexpected: u64,
    pub differing: u64,
}

impl Counts {
    fn add(&mut self, other: Counts) {
        self.expected += other.expected;
        self.found += other.found;
        self.missing += other.missing;
        self.unexpected += other.unexpected;
        self.differing += other.differing;
    }

    pub(crate) fn matches(&self) -> bool {
        self.missing == 0 && self.unexpected == 0 && self.differing == 0
    }
}

/// One record of a series, by its place.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub(crate) struct SeriesRecord {
    /// `{device="a1", site="lab"}`.
    pub series: String,
    /// RFC 3339, UTC.
    pub time: String,
    #[serde(skip)]
    pub time_ns: i64,
}

impl SeriesRecord {
    pub(crate) fn new(dims: &[(String, String)], time: i64) -> SeriesRecord {
        SeriesRecord {
            series: series_text(dims),
            time: time_string(time),
            time_ns: time,
        }
    }
}

/// One measure of a found record that is not what the stream has.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Difference {
    pub measure: String,
    /// `None`: the target has a measure the stream does not.
    pub expected: Option<Value>,
    /// `None`: the target lacks the measure.
    pub found: Option<Value>,
}

/// A found record that was not expected, with its measures.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Listed {
    pub record: SeriesRecord,
    pub measures: Vec<(String, Value)>,
}

/// One table's comparison.
#[derive(Debug, Default, Serialize)]
pub(crate) struct TableTally {
    /// The table's name in the target (prefix and suffix applied, or the
    /// file).
    pub table: String,
    #[serde(flatten)]
    pub counts: Counts,
    /// By series (`{device="a1"}`); series of the scenario and others found.
    pub series: BTreeMap<String, Counts>,
    #[serde(skip)]
    missing: Vec<SeriesRecord>,
    #[serde(skip)]
    unexpected: Vec<Listed>,
    #[serde(skip)]
    differing: Vec<(SeriesRecord, Vec<Difference>)>,
    #[serde(skip)]
    keep: usize,
}

impl TableTally {
    fn series(&mut self, series: &str) -> &mut Counts {
        self.series.entry(series.to_string()).or_default()
    }

    pub(crate) fn expected(&mut self, dims: &[(String, String)]) {
        self.counts.expected += 1;
        self.series(&series_text(dims)).expected += 1;
    }

    pub(crate) fn found(&mut self, dims: &[(String, String)]) {
        self.counts.found += 1;
        self.series(&series_text(dims)).found += 1;
    }

    pub(crate) fn missing(&mut self, record: SeriesRecord) {
        self.counts.missing += 1;
        self.series(&record.series).missing += 1;
        if self.missing.len() < self.keep {
            self.missing.push(record);
        }
    }

    pub(crate) fn unexpected(&mut self, listed: Listed) {
        self.counts.found += 1;
        self.counts.unexpected += 1;
        let counts = self.series(&listed.record.series);
        counts.found += 1;
        counts.unexpected += 1;
        if self.unexpected.len() < self.keep {
            self.unexpected.push(listed);
        }
    }

    pub(crate) fn differing(&mut self, record: SeriesRecord, differences: Vec<Difference>) {
        self.counts.differing += 1;
        self.series(&record.series).differing += 1;
        if self.differing.len() < self.keep {
            self.differing.push((record, differences));
        }
    }
}

/// What `verify` found, table by table.
#[derive(Debug, Serialize)]
pub(crate) struct VerifyReport {
    pub target: String,
    pub anchor: String,
    pub shard: String,
    /// `match` or `differs`.
    pub outcome: &'static str,
    /// How many times the target was read (more than one with `--wait`).
    pub attempts: u32,
    #[serde(flatten)]
    pub counts: Counts,
    /// By the table's name in the scenario's catalogue.
    pub tables: BTreeMap<String, TableTally>,
    pub missing: Vec<MissingEntry>,
    pub unexpected: Vec<UnexpectedEntry>,
    pub differing: Vec<DifferingEntry>,
    #[serde(skip)]
    keep: usize,
}

#[derive(Debug, Serialize)]
pub(crate) struct MissingEntry {
    pub table: String,
    #[serde(flatten)]
    pub record: SeriesRecord,
}

#[derive(Debug, Serialize)]
pub(crate) struct UnexpectedEntry {
    pub table: String,
    #[serde(flatten)]
    pub record: SeriesRecord,
    pub measures: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Serialize)]
pub(crate) struct DifferingEntry {
    pub table: String,
    #[serde(flatten)]
    pub record: SeriesRecord,
    pub measure: String,
    /// `null`: the stream has no such measure.
    pub expected: serde_json::Value,
    /// `null`: the target lacks the measure.
    pub found: serde_json::Value,
}

impl VerifyReport {
    pub(crate) fn new(target: String, anchor: i64, shard: Shard, keep_all: bool) -> VerifyReport {
        VerifyReport {
            target,
            anchor: time_string(anchor),
            shard: shard.to_string(),
            outcome: "match",
            attempts: 1,
            counts: Counts::default(),
            tables: BTreeMap::new(),
            missing: Vec::new(),
            unexpected: Vec::new(),
            differing: Vec::new(),
            keep: if keep_all { usize::MAX } else { SHOWN },
        }
    }

    pub(crate) fn add_table(&mut self, name: &str, in_target: String) {
        self.tables.insert(
            name.to_string(),
            TableTally {
                table: in_target,
                keep: self.keep,
                ..TableTally::default()
            },
        );
    }

    pub(crate) fn table_mut(&mut self, name: &str) -> &mut TableTally {
        let keep = self.keep;
        self.tables
            .entry(name.to_string())
            .or_insert_with(|| TableTally {
                keep,
                ..TableTally::default()
            })
    }

    /// Totals and the flat lists, once every table is compared.
    pub(crate) fn close(&mut self) {
        let mut counts = Counts::default();
        for (name, tally) in &mut self.tables {
            counts.add(tally.counts);
            for record in tally.missing.drain(..) {
                self.missing.push(MissingEntry {
                    table: name.clone(),
                    record,
                });
            }
            for listed in tally.unexpected.drain(..) {
                self.unexpected.push(UnexpectedEntry {
                    table: name.clone(),
                    record: listed.record,
                    measures: listed
                        .measures
                        .iter()
                        .map(|(n, v)| (n.clone(), json(Some(v))))
                        .collect(),
                });
            }
            for (record, differences) in tally.differing.drain(..) {
                for d in differences {
                    self.differing.push(DifferingEntry {
                        table: name.clone(),
                        record: record.clone(),
                        measure: d.measure,
                        expected: json(d.expected.as_ref()),
                        found: json(d.found.as_ref()),
                    });
                }
            }
        }
        self.counts = counts;
        self.outcome = if counts.matches() { "match" } else { "differs" };
    }

    pub(crate) fn matches(&self) -> bool {
        self.counts.matches()
    }

    /// One line a table, then what differs, the first [`SHOWN`] of each
    /// kind with how many more.
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        for (name, t) in &self.tables {
            let c = t.counts;
            let _ = writeln!(
                out,
                "{} `{name}` ({}): {} expected, {} found, {} missing, {} unexpected, {} differing",
                if c.matches() { "ok   " } else { "DIFFS" },
                t.table,
                c.expected,
                c.found,
                c.missing,
                c.unexpected,
                c.differing
            );
            for (series, s) in t.series.iter().filter(|(_, s)| !s.matches()) {
                let _ = writeln!(
                    out,
                    "        series {series}: {} expected, {} found, {} missing, {} unexpected, {} differing",
                    s.expected, s.found, s.missing, s.unexpected, s.differing
                );
            }
        }
        let more = |out: &mut String, shown: usize, total: u64, what: &str| {
            if total > shown as u64 {
                let _ = writeln!(
                    out,
                    "  ... and {} more {what} (--report FILE.json lists all)",
                    total - shown as u64
                );
            }
        };
        for m in self.missing.iter().take(SHOWN) {
            let _ = writeln!(
                out,
                "  missing    `{}` {} at {}",
                m.table, m.record.series, m.record.time
            );
        }
        more(
            &mut out,
            self.missing.len().min(SHOWN),
            self.counts.missing,
            "missing",
        );
        for u in self.unexpected.iter().take(SHOWN) {
            let measures: Vec<String> =
                u.measures.iter().map(|(n, v)| format!("{n}={v}")).collect();
            let _ = writeln!(
                out,
                "  unexpected `{}` {} at {}: {}",
                u.table,
                u.record.series,
                u.record.time,
                measures.join(", ")
            );
        }
        more(
            &mut out,
            self.unexpected.len().min(SHOWN),
            self.counts.unexpected,
            "unexpected",
        );
        let mut records_shown = 0;
        let mut last: Option<(&str, &SeriesRecord)> = None;
        for d in &self.differing {
            if last != Some((&d.table, &d.record)) {
                records_shown += 1;
                if records_shown > SHOWN {
                    break;
                }
                last = Some((&d.table, &d.record));
            }
            let _ = writeln!(
                out,
                "  differs    `{}` {} at {}: `{}` expected {}, found {}",
                d.table,
                d.record.series,
                d.record.time,
                d.measure,
                word(&d.expected, "(no such measure)"),
                word(&d.found, "(absent)")
            );
        }
        more(
            &mut out,
            records_shown.min(SHOWN),
            self.counts.differing,
            "differing records",
        );
        out
    }
}

fn word(value: &serde_json::Value, absent: &str) -> String {
    match value {
        serde_json::Value::Null => absent.to_string(),
        other => other.to_string(),
    }
}

/// A value as JSON; a double that JSON cannot hold (never in a stream) as
/// its text.
pub(crate) fn json(value: Option<&Value>) -> serde_json::Value {
    match value {
        None => serde_json::Value::Null,
        Some(Value::Double(v)) => serde_json::Number::from_f64(*v)
            .map(serde_json::Value::Number)
            .unwrap_or_else(|| serde_json::Value::String(v.to_string())),
        Some(Value::Bigint(v)) => serde_json::Value::from(*v),
        Some(Value::Boolean(b)) => serde_json::Value::Bool(*b),
        Some(Value::Varchar(s)) => serde_json::Value::String(s.to_string()),
    }
}
