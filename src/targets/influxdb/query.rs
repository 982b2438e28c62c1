//! Reading back an InfluxDB database: InfluxQL through `GET /query` (1.x,
//! and the v1-compatible endpoint of 2.x and 3.x, with the token), one
//! query a table and time slice:
//!
//! ```text
//! SELECT * FROM "db"."rp"."m" WHERE time >= F AND time < T GROUP BY *
//! ```
//!
//! `GROUP BY *` puts the tags in each series' `tags`; `epoch=ns` gives
//! times as integers. A measurement is a table, tags are dimensions and
//! fields are measures; a tag that a series lacks comes back empty and is
//! dropped (line protocol cannot write an empty tag value).

use std::time::Duration;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::client::{BuildError, Client, ExchangeError};
use super::{Destination, InfluxTarget};
use crate::model::MeasureType;
use crate::record::Value;
use crate::targets::ask::{AskError, Asked, Cell};
use crate::targets::read::{Found, InfluxReadError, ReadError, ReadTable, Reader};

/// How long one query may take before `verify` gives up.
const TIMEOUT: Duration = Duration::from_secs(60);

/// The most bytes of one answer `verify` reads. A slice holds about
/// 10,000 expected records (`crate::verify::SLICE_RECORDS`), a few MiB of
/// InfluxQL JSON; the bound leaves room for a target that holds many
/// records the stream does not, and stops a server that answers without
/// end before it takes the machine's memory.
pub(crate) const MAX_ANSWER_BYTES: usize = 256 << 20;

/// Where and how to read: the database (1.x, 3.x) or bucket (2.x, through
/// its v1 mapping) of a `kind: influxdb` target, and its retention policy.
#[derive(Debug, Clone)]
pub(crate) struct InfluxSource {
    pub target: InfluxTarget,
    pub database: String,
    pub retention_policy: Option<String>,
}

impl From<InfluxTarget> for InfluxSource {
    /// Reads go through InfluxQL's `/query`, which every API version
    /// answers (2.x maps a bucket to a database of the same name).
    fn from(target: InfluxTarget) -> InfluxSource {
        let (database, retention_policy) = match &target.destination {
            Destination::V1 {
                database,
                retention_policy,
            } => (database.clone(), retention_policy.clone()),
            Destination::V2 { bucket, .. } => (bucket.clone(), None),
            Destination::V3 { database } => (database.clone(), None),
        };
        InfluxSource {
            target,
            database,
            retention_policy,
        }
    }
}

/// An InfluxDB target read back through the one InfluxDB client
/// ([`Client::query`]).
pub(crate) struct InfluxDb {
    source: InfluxSource,
    client: Client,
    runtime: tokio::runtime::Runtime,
    /// The most bytes of one answer read: [`MAX_ANSWER_BYTES`].
    limit: usize,
}

impl InfluxDb {
    pub(crate) fn new(source: InfluxSource) -> Result<InfluxDb, ReadError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|error| ReadError::RuntimeNotStarted { error })?;
        let client = Client::new(source.target.clone(), TIMEOUT).map_err(|error| {
            let BuildError::NoRootCertificates(error) = error;
            ReadError::InfluxDb {
                url: source.target.url.clone(),
                error: InfluxReadError::NoRootCertificates(error),
            }
        })?;
        Ok(InfluxDb {
            source,
            client,
            runtime,
            limit: MAX_ANSWER_BYTES,
        })
    }

    /// The InfluxQL for one table and slice.
    pub(crate) fn query(&self, measurement: &str, from: i64, to: i64) -> String {
        let rp = self
            .source
            .retention_policy
            .as_deref()
            .map(|rp| format!("{}.", identifier(rp)))
            .unwrap_or_else(|| ".".into());
        format!(
            "SELECT * FROM {}.{rp}{} WHERE time >= {from} AND time < {to} GROUP BY *",
            identifier(&self.source.database),
            identifier(measurement)
        )
    }

    /// An expectation's query: the rows of every series of the first
    /// statement's answer, tags as text columns after the series' own.
    pub(crate) fn ask(&self, statement: &str) -> Result<Asked, AskError> {
        let call = self
            .client
            .query(&self.source.database, statement, self.limit);
        asked(&self.answered(call)?)
    }

    /// An expectation's SQL, on InfluxDB 3 (`/api/v3/query_sql`, CSV).
    pub(crate) fn ask_sql(&self, statement: &str) -> Result<Asked, AskError> {
        if !matches!(self.source.target.destination, Destination::V3 { .. }) {
            return Err(AskError::Refused(
                "InfluxDB 1.x and 2.x answer `influxql`; `sql` needs InfluxDB 3 (`api: v3`)".into(),
            ));
        }
        let call = self
            .client
            .query_sql(&self.source.database, statement, self.limit);
        asked_csv(&self.answered(call)?)
    }

    /// The body of a 2xx answer to `call`. A 400 is the query refused,
    /// with the server's words (`{"error": "error parsing query: ..."}`,
    /// InfluxQL's and InfluxDB 3's shape); any other status, or no answer,
    /// a target that could not be read.
    fn answered(
        &self,
        call: impl std::future::Future<Output = Result<super::answer::Answer, ExchangeError>>,
    ) -> Result<String, AskError> {
        let answer = self
            .runtime
            .block_on(call)
            .map_err(|error| AskError::Unreachable(error.to_string()))?;
        let body = String::from_utf8_lossy(&answer.body).into_owned();
        if answer.status.as_u16() == 400 {
            let message = serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v["error"].as_str().map(str::to_string))
                .unwrap_or_else(|| body.trim().to_string());
            return Err(AskError::Refused(message));
        }
        if !answer.status.is_success() {
            return Err(AskError::Unreachable(format!(
                "{}: {}",
                answer.status,
                body.trim()
            )));
        }
        Ok(body)
    }

    /// The answer's body to `query`, a success read whole.
    fn get(&self, query: &str) -> Result<Vec<u8>, InfluxReadError> {
        let call = self.client.query(&self.source.database, query, self.limit);
        let answer = self.runtime.block_on(call).map_err(|error| match error {
            ExchangeError::Timeout => InfluxReadError::Timeout(TIMEOUT),
            ExchangeError::TooLong { limit } => InfluxReadError::TooLong { limit },
            other => InfluxReadError::Exchange(other),
        })?;
        if !answer.status.is_success() {
            return Err(InfluxReadError::Status {
                status: answer.status,
                body: String::from_utf8_lossy(&answer.body).trim().to_string(),
            });
        }
        Ok(answer.body.to_vec())
    }
}

/// InfluxDB 3's CSV answer: a header, then rows. A `time` column is a
/// time; a cell that reads as a number is one; `true`/`false` booleans;
/// an empty cell null; anything else text.
fn asked_csv(body: &str) -> Result<Asked, AskError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(body.as_bytes());
    let columns: Vec<String> = reader
        .headers()
        .map_err(|e| AskError::Unreachable(format!("not CSV: {e}")))?
        .iter()
        .map(str::to_string)
        .collect();
    let mut out = Asked {
        columns: columns.clone(),
        ..Asked::default()
    };
    for record in reader.records() {
        let record = record.map_err(|e| AskError::Unreachable(format!("not CSV: {e}")))?;
        out.push(|| {
            record
                .iter()
                .zip(&columns)
                .map(|(text, column)| match text {
                    "" => Cell::Null,
                    _ if column == "time" => Cell::Time(text.to_string()),
                    "true" => Cell::Bool(true),
                    "false" => Cell::Bool(false),
                    _ => text
                        .parse::<f64>()
                        .map_or_else(|_| Cell::Text(text.to_string()), Cell::Number),
                })
                .collect()
        });
    }
    Ok(out)
}

/// The first statement's series of an answer, as one table.
fn asked(body: &str) -> Result<Asked, AskError> {
    let answer: serde_json::Value = serde_json::from_str(body)
        .map_err(|e| AskError::Unreachable(format!("not InfluxQL's JSON: {e}")))?;
    if let Some(error) = answer["error"].as_str() {
        return Err(AskError::Refused(error.to_string()));
    }
    let first = &answer["results"][0];
    if let Some(error) = first["error"].as_str() {
        return Err(AskError::Refused(error.to_string()));
    }
    let mut out = Asked::default();
    for series in first["series"].as_array().into_iter().flatten() {
        let columns: Vec<String> = series["columns"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| c.as_str().unwrap_or_default().to_string())
            .collect();
        let tags: Vec<(String, String)> = series["tags"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
            .collect();
        if out.columns.is_empty() {
            out.columns = columns.clone();
            out.columns.extend(tags.iter().map(|(k, _)| k.clone()));
        }
        for row in series["values"].as_array().into_iter().flatten() {
            out.push(|| {
                let mut cells: Vec<Cell> = row
                    .as_array()
                    .into_iter()
                    .flatten()
                    .zip(&columns)
                    .map(|(v, column)| match v {
                        _ if column == "time" => Cell::Time(v.to_string()),
                        serde_json::Value::Number(n) => n.as_f64().map_or(Cell::Null, Cell::Number),
                        serde_json::Value::String(s) => Cell::Text(s.clone()),
                        serde_json::Value::Bool(b) => Cell::Bool(*b),
                        _ => Cell::Null,
                    })
                    .collect();
                cells.extend(tags.iter().map(|(_, v)| Cell::Text(v.clone())));
                cells
            });
        }
    }
    Ok(out)
}

/// `/query`'s answer.
#[derive(Deserialize)]
struct Answer<'a> {
    #[serde(default, borrow)]
    results: Vec<StatementResult<'a>>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
struct StatementResult<'a> {
    #[serde(default, borrow)]
    series: Vec<Series<'a>>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    partial: bool,
}

/// Values stay raw text, so that a float is read by `str::parse`, which
/// rounds correctly.
#[derive(Deserialize)]
struct Series<'a> {
    #[serde(default)]
    tags: std::collections::BTreeMap<String, String>,
    columns: Vec<String>,
    #[serde(default, borrow)]
    values: Vec<Vec<&'a RawValue>>,
    #[serde(default)]
    partial: bool,
}

/// The found records of one answer.
pub(crate) fn parse_answer(
    body: &[u8],
    table: &ReadTable,
    each: &mut dyn FnMut(Found),
) -> Result<(), InfluxReadError> {
    let answer: Answer = serde_json::from_slice(body).map_err(InfluxReadError::NotJson)?;
    if let Some(error) = answer.error {
        return Err(InfluxReadError::Server(error));
    }
    for result in answer.results {
        if let Some(error) = result.error {
            return Err(InfluxReadError::Server(error));
        }
        if result.partial || result.series.iter().any(|s| s.partial) {
            return Err(InfluxReadError::Partial);
        }
        for series in result.series {
            let Some(time_column) = series.columns.iter().position(|c| c == "time") else {
                return Err(InfluxReadError::NoTimeColumn);
            };
            let dims: Vec<(String, String)> = series
                .tags
                .into_iter()
                .filter(|(_, v)| !v.is_empty())
                .collect();
            for row in series.values {
                let time = row
                    .get(time_column)
                    .and_then(|t| t.get().parse::<i64>().ok())
                    .ok_or(InfluxReadError::NoIntegerTime)?;
                let measures = series
                    .columns
                    .iter()
                    .zip(&row)
                    .filter(|(name, value)| *name != "time" && value.get() != "null")
                    .map(|(name, value)| {
                        field(table.measure_type(name), value.get())
                            .map(|v| (name.clone(), v))
                            .ok_or_else(|| InfluxReadError::Field {
                                name: name.clone(),
                                value: value.get().to_string(),
                            })
                    })
                    .collect::<Result<_, InfluxReadError>>()?;
                each(Found {
                    dims: dims.clone(),
                    time,
                    measures,
                });
            }
        }
    }
    Ok(())
}

/// A field as the scenario's type reads it: InfluxDB's JSON writes the
/// float 1.0 as `1`, so a number is a double when the scenario says so.
fn field(ty: Option<MeasureType>, raw: &str) -> Option<Value> {
    match raw {
        "true" => return Some(Value::Boolean(true)),
        "false" => return Some(Value::Boolean(false)),
        _ => {}
    }
    if raw.starts_with('"') {
        let text: String = serde_json::from_str(raw).ok()?;
        return Some(Value::Varchar(text.into()));
    }
    match ty {
        Some(MeasureType::Double) => raw.parse().ok().map(Value::Double),
        _ => match raw.parse::<i64>() {
            Ok(i) => Some(Value::Bigint(i)),
            Err(_) => raw.parse().ok().map(Value::Double),
        },
    }
}

/// A double-quoted InfluxQL identifier.
fn identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
}

impl Reader for InfluxDb {
    fn describe(&self) -> String {
        format!(
            "InfluxDB database `{}` at {}",
            self.source.database, self.source.target.url
        )
    }

    fn table_name(&self, table: &ReadTable) -> String {
        table.target.to_string()
    }

    fn read(
        &mut self,
        table: &ReadTable,
        from: i64,
        to: i64,
        each: &mut dyn FnMut(Found),
    ) -> Result<(), ReadError> {
        let url = &self.source.target.url;
        let fail = |error| ReadError::InfluxDb {
            url: url.clone(),
            error,
        };
        let body = self
            .get(&self.query(table.target, from, to))
            .map_err(fail)?;
        parse_answer(&body, table, each).map_err(fail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_gives_records_with_typed_fields_and_no_empty_tags() {
        let measures = vec![
            ("n".to_string(), MeasureType::Bigint),
            ("on".to_string(), MeasureType::Boolean),
            ("v".to_string(), MeasureType::Double),
        ];
        let table = ReadTable {
            index: 0,
            target: "m",
            measures: &measures,
        };
        let body = br#"{"results":[{"statement_id":0,"series":[{"name":"m","tags":{"rack":"","site":"a b"},"columns":["time","n","on","v"],"values":[[1700000000000000000,3,true,1],[1700000060000000000,null,false,0.30000000000000004]]}]}]}"#;
        let mut found = Vec::new();
        parse_answer(body, &table, &mut |f| found.push(f)).unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].dims, vec![("site".into(), "a b".into())]);
        assert_eq!(
            found[0].measures,
            vec![
                ("n".into(), Value::Bigint(3)),
                ("on".into(), Value::Boolean(true)),
                ("v".into(), Value::Double(1.0)),
            ]
        );
        assert_eq!(
            found[1].measures,
            vec![
                ("on".into(), Value::Boolean(false)),
                ("v".into(), Value::Double(0.1 + 0.2)),
            ]
        );
        let error = br#"{"results":[{"statement_id":0,"error":"database not found: e2e"}]}"#;
        assert_eq!(
            parse_answer(error, &table, &mut |_| {})
                .unwrap_err()
                .to_string(),
            "database not found: e2e"
        );
    }

    #[test]
    fn an_answer_longer_than_the_bound_is_not_read() {
        use std::io::{Read, Write};
        // A server that answers any request with 64 KiB.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let server = std::thread::spawn(move || {
            let (mut socket, _) = listener.accept().unwrap();
            let mut request = Vec::new();
            let mut byte = [0; 1];
            while !request.ends_with(b"\r\n\r\n") && socket.read(&mut byte).unwrap() == 1 {
                request.push(byte[0]);
            }
            let body = vec![b' '; 64 << 10];
            let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len());
            let _ = socket.write_all(head.as_bytes());
            let _ = socket.write_all(&body);
        });
        let target = InfluxTarget {
            url: url.into(),
            destination: Destination::V1 {
                database: "e2e".into(),
                retention_policy: None,
            },
            token: None,
        };
        let mut reader = InfluxDb::new(InfluxSource::from(target)).unwrap();
        reader.limit = 1 << 10;
        let table = ReadTable {
            index: 0,
            target: "m",
            measures: &[],
        };
        let error = reader.read(&table, 0, 1, &mut |_| {}).unwrap_err();
        assert!(
            matches!(
                error,
                ReadError::InfluxDb {
                    error: InfluxReadError::TooLong { limit: 1024 },
                    ..
                }
            ),
            "{error}"
        );
        server.join().unwrap();
    }

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(identifier(r#"a"b\c"#), r#""a\"b\\c""#);
    }
}
