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

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::model::MeasureType;
use crate::record::Value;
use crate::targets::read::{Found, ReadError, ReadTable, Reader};

/// Where and how to read: what the lead's `kind: influxdb` target resolves
/// to.
#[derive(Debug, Clone)]
pub(crate) struct InfluxSource {
    /// `http://127.0.0.1:8086`, without a path.
    pub url: String,
    /// The database (1.x, 3.x) or bucket (2.x, through its v1 mapping).
    pub database: String,
    pub retention_policy: Option<String>,
    /// Sent as `Authorization: Token ...` when set.
    pub token: Option<crate::targets::influxdb::Token>,
}

impl From<crate::targets::influxdb::InfluxTarget> for InfluxSource {
    /// Reads go through InfluxQL's `/query`, which every API version
    /// answers (2.x maps a bucket to a database of the same name).
    fn from(target: crate::targets::influxdb::InfluxTarget) -> InfluxSource {
        use crate::targets::influxdb::Destination;
        let (database, retention_policy) = match target.destination {
            Destination::V1 {
                database,
                retention_policy,
            } => (database, retention_policy),
            Destination::V2 { bucket, .. } => (bucket, None),
            Destination::V3 { database } => (database, None),
        };
        InfluxSource {
            url: target.url,
            database,
            retention_policy,
            token: target.token,
        }
    }
}

type HttpClient = Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    Empty<Bytes>,
>;

pub(crate) struct InfluxDb {
    source: InfluxSource,
    client: HttpClient,
    runtime: tokio::runtime::Runtime,
    timeout: Duration,
}

impl InfluxDb {
    pub(crate) fn new(source: InfluxSource) -> Result<InfluxDb, ReadError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|error| ReadError::RuntimeNotStarted { error })?;
        let ring = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(ring)
            .map_err(|e| ReadError::InfluxDb {
                url: source.url.clone(),
                reason: format!("no TLS root certificates: {e}"),
            })?
            .https_or_http()
            .enable_http1()
            .build();
        let client = Client::builder(TokioExecutor::new()).build(https);
        Ok(InfluxDb {
            source,
            client,
            runtime,
            timeout: Duration::from_secs(60),
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

    fn get(&self, query: &str) -> Result<Vec<u8>, ReadError> {
        let url = format!(
            "{}/query?db={}&epoch=ns&q={}",
            self.source.url.trim_end_matches('/'),
            encode(&self.source.database),
            encode(query)
        );
        let fail = |reason: String| ReadError::InfluxDb {
            url: self.source.url.clone(),
            reason,
        };
        let uri: hyper::Uri = url
            .parse()
            .map_err(|e| fail(format!("`{}` is not a URL: {e}", self.source.url)))?;
        let mut request = hyper::Request::get(uri);
        if let Some(token) = &self.source.token {
            request = request.header("Authorization", token.header_value());
        }
        let request = request
            .body(Empty::new())
            .map_err(|e| fail(e.to_string()))?;
        let (status, body) = self.runtime.block_on(async {
            let answer = tokio::time::timeout(self.timeout, async {
                let response = self.client.request(request).await?;
                let status = response.status();
                let body = response.into_body().collect().await?.to_bytes();
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>((status, body))
            })
            .await;
            match answer {
                Ok(Ok(answer)) => Ok(answer),
                Ok(Err(e)) => Err(fail(crate::diagnostics::error_chain(e.as_ref()))),
                Err(_) => Err(fail(format!(
                    "no answer within {} s",
                    self.timeout.as_secs()
                ))),
            }
        })?;
        if !status.is_success() {
            let text = String::from_utf8_lossy(&body);
            return Err(fail(format!("HTTP {status}: {}", text.trim())));
        }
        Ok(body.to_vec())
    }
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
) -> Result<(), String> {
    let answer: Answer = serde_json::from_slice(body)
        .map_err(|e| format!("the answer is not InfluxQL JSON: {e}"))?;
    if let Some(error) = answer.error {
        return Err(error);
    }
    for result in answer.results {
        if let Some(error) = result.error {
            return Err(error);
        }
        if result.partial || result.series.iter().any(|s| s.partial) {
            return Err(
                "the server cut the answer short (`partial`): raise its `max-row-limit`".into(),
            );
        }
        for series in result.series {
            let Some(time_column) = series.columns.iter().position(|c| c == "time") else {
                return Err("a series without a `time` column".into());
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
                    .ok_or("a row without an integer time (is `epoch=ns` ignored?)")?;
                let measures = series
                    .columns
                    .iter()
                    .zip(&row)
                    .filter(|(name, value)| *name != "time" && value.get() != "null")
                    .map(|(name, value)| {
                        field(table.measure_type(name), value.get())
                            .map(|v| (name.clone(), v))
                            .ok_or_else(|| format!("field `{name}`: `{}`", value.get()))
                    })
                    .collect::<Result<_, String>>()?;
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

/// Percent-encoding for a query parameter.
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Reader for InfluxDb {
    fn describe(&self) -> String {
        format!(
            "InfluxDB database `{}` at {}",
            self.source.database, self.source.url
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
        let body = self.get(&self.query(table.target, from, to))?;
        parse_answer(&body, table, each).map_err(|reason| ReadError::InfluxDb {
            url: self.source.url.clone(),
            reason,
        })
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
            parse_answer(error, &table, &mut |_| {}).unwrap_err(),
            "database not found: e2e"
        );
    }

    #[test]
    fn identifiers_are_quoted_and_parameters_encoded() {
        assert_eq!(identifier(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(encode("a b&c=d"), "a%20b%26c%3Dd");
    }
}
