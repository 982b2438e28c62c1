//! Reading back a file target: the JSON lines `apply` wrote, one file a
//! table (`<table>[.shard-K-of-N].jsonl`). Each file is read once, front to
//! back, as the slices move on: it is sorted by time, as the stream is.
//! A table without a file has no records (apply removes the file of a table
//! that got none).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::model::MeasureType;
use crate::record::Value;
use crate::record::shard::Shard;
use crate::targets::read::{Found, NotRecords, ReadError, ReadTable, Reader, value_from_text};

pub(crate) struct Files {
    directory: PathBuf,
    suffix: String,
    /// The file being read, by catalogue index.
    open: Option<(usize, Cursor)>,
}

/// A file read forward: the next line not yet handed over.
struct Cursor {
    path: PathBuf,
    lines: Option<std::io::Lines<BufReader<File>>>,
    line: u64,
    ahead: Option<Found>,
    last_time: i64,
}

/// One line as `apply` writes it. Values stay raw text so that a double
/// is read by `str::parse`, which rounds correctly.
#[derive(Deserialize)]
struct Line<'a> {
    time: &'a str,
    dimensions: BTreeMap<String, String>,
    #[serde(borrow)]
    measures: BTreeMap<String, &'a RawValue>,
}

impl Files {
    pub(crate) fn new(directory: &Path, shard: Shard) -> Files {
        Files {
            directory: directory.to_path_buf(),
            suffix: shard.file_suffix(),
            open: None,
        }
    }

    fn path(&self, target: &str) -> PathBuf {
        self.directory
            .join(format!("{target}{}.jsonl", self.suffix))
    }

    /// The table's file, opened at its start when the table is new.
    fn cursor(&mut self, table: &ReadTable) -> Result<&mut Cursor, ReadError> {
        let open = match self.open.take() {
            Some((index, cursor)) if index == table.index => cursor,
            _ => self.open_file(table)?,
        };
        Ok(&mut self.open.insert((table.index, open)).1)
    }

    fn open_file(&self, table: &ReadTable) -> Result<Cursor, ReadError> {
        let path = self.path(table.target);
        let lines = match File::open(&path) {
            Ok(file) => Some(BufReader::with_capacity(1 << 16, file).lines()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(error) => return Err(ReadError::FileUnreadable { file: path, error }),
        };
        Ok(Cursor {
            path,
            lines,
            line: 0,
            ahead: None,
            last_time: i64::MIN,
        })
    }
}

impl Cursor {
    fn next(&mut self, table: &ReadTable) -> Result<Option<Found>, ReadError> {
        if let Some(found) = self.ahead.take() {
            return Ok(Some(found));
        }
        let Some(lines) = &mut self.lines else {
            return Ok(None);
        };
        loop {
            let Some(text) = lines.next() else {
                return Ok(None);
            };
            self.line += 1;
            let text = text.map_err(|error| ReadError::FileUnreadable {
                file: self.path.clone(),
                error,
            })?;
            if text.trim().is_empty() {
                continue;
            }
            let bad = |problem: NotRecords| ReadError::FileNotRecords {
                file: self.path.clone(),
                line: self.line,
                problem,
            };
            let line: Line = serde_json::from_str(&text).map_err(|e| bad(e.into()))?;
            let time = chrono::DateTime::parse_from_rfc3339(line.time)
                .ok()
                .and_then(|t| t.timestamp_nanos_opt())
                .ok_or_else(|| bad(NotRecords::Time(line.time.to_string())))?;
            if time < self.last_time {
                return Err(bad(NotRecords::OutOfOrder));
            }
            self.last_time = time;
            let measures = line
                .measures
                .into_iter()
                .map(|(name, raw)| {
                    let value =
                        json_value(table.measure_type(&name), raw.get()).ok_or_else(|| {
                            bad(NotRecords::Measure {
                                name: name.clone(),
                                value: raw.get().to_string(),
                            })
                        })?;
                    Ok((name, value))
                })
                .collect::<Result<Vec<_>, ReadError>>()?;
            return Ok(Some(Found {
                dims: line.dimensions.into_iter().collect(),
                time,
                measures,
            }));
        }
    }
}

/// A JSON value as the scenario's type reads it; of another type, or a
/// measure the scenario lacks, as what the JSON says.
fn json_value(ty: Option<MeasureType>, raw: &str) -> Option<Value> {
    let parsed: serde_json::Value = serde_json::from_str(raw).ok()?;
    let typed = match (&parsed, ty) {
        (serde_json::Value::Number(_), Some(ty @ (MeasureType::Double | MeasureType::Bigint))) => {
            value_from_text(ty, raw)
        }
        (serde_json::Value::String(s), Some(MeasureType::Varchar)) => {
            Some(Value::Varchar(s.as_str().into()))
        }
        (serde_json::Value::Bool(b), Some(MeasureType::Boolean)) => Some(Value::Boolean(*b)),
        _ => None,
    };
    typed.or_else(|| match parsed {
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Some(Value::Bigint(i)),
            None => raw.parse().ok().map(Value::Double),
        },
        serde_json::Value::String(s) => Some(Value::Varchar(s.into())),
        serde_json::Value::Bool(b) => Some(Value::Boolean(b)),
        _ => None,
    })
}

impl Reader for Files {
    fn describe(&self) -> String {
        format!("file {}", self.directory.display())
    }

    fn table_name(&self, table: &ReadTable) -> String {
        self.path(table.target).display().to_string()
    }

    fn read(
        &mut self,
        table: &ReadTable,
        from: i64,
        to: i64,
        each: &mut dyn FnMut(Found),
    ) -> Result<(), ReadError> {
        let cursor = self.cursor(table)?;
        while let Some(found) = cursor.next(table)? {
            if found.time >= to {
                cursor.ahead = Some(found);
                break;
            }
            // Before the table's first expected record: outside the range
            // verify compares.
            if found.time >= from {
                each(found);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_by_the_scenario_type_and_else_by_their_json() {
        assert_eq!(
            json_value(Some(MeasureType::Double), "1"),
            Some(Value::Double(1.0))
        );
        assert_eq!(
            json_value(Some(MeasureType::Double), "0.30000000000000004"),
            Some(Value::Double(0.1 + 0.2))
        );
        assert_eq!(
            json_value(Some(MeasureType::Bigint), "-80"),
            Some(Value::Bigint(-80))
        );
        // A string where a bigint belongs stays a string: it differs.
        assert_eq!(
            json_value(Some(MeasureType::Bigint), "\"80\""),
            Some(Value::Varchar("80".into()))
        );
        assert_eq!(json_value(None, "true"), Some(Value::Boolean(true)));
        assert_eq!(json_value(None, "null"), None);
    }
}
