//! What the preflight asks an InfluxDB server, through the one [`Client`]:
//! does it answer (ping), does the database (v1, v3) or bucket (v2) exist
//! and how long does it keep points, and making it with `--create`; and
//! InfluxQL through `/query`, for these questions and for the markers
//! ([`super::marker`]).

use std::time::Duration;

use http::Method;
use serde::Deserialize;

use super::Destination;
use super::answer::Failure;
use super::client::{CallError, Client, json};

/// How long the database keeps points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retention {
    /// Points never expire.
    Forever,
    /// Points older than this (from the server's now) are dropped, and
    /// writes of such points are refused.
    Keeps(Duration),
    /// The API does not say (v3).
    Unknown,
}

/// A server that answered its ping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Server {
    /// `X-Influxdb-Version`, when sent.
    pub version: Option<String>,
}

impl Client {
    /// Whether the server answers: v1 and v3 `GET /ping`, v2 `GET /health`.
    pub(crate) async fn ping(&self) -> Result<Server, CallError> {
        let path = match self.destination() {
            Destination::V2 { .. } => "/health",
            _ => "/ping",
        };
        let answer = self.ok(Method::GET, path, &[], None).await?;
        let version = answer
            .headers
            .get("x-influxdb-version")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        Ok(Server { version })
    }

    /// Whether the database (v1, v3) or bucket (v2) exists, and how long it
    /// keeps points; `None` when it does not exist.
    pub(crate) async fn database(&self) -> Result<Option<Retention>, CallError> {
        match self.destination() {
            Destination::V1 {
                database,
                retention_policy,
            } => {
                let shown = self.influxql(Method::GET, "SHOW DATABASES").await?;
                if !shown.column_values(0).any(|name| name == database.as_str()) {
                    return Ok(None);
                }
                let q = format!("SHOW RETENTION POLICIES ON {}", quote_identifier(database));
                let policies = self.influxql(Method::GET, &q).await?;
                v1_retention(&policies, retention_policy.as_deref())
                    .map(Some)
                    .map_err(CallError::Failed)
            }
            Destination::V2 { org, bucket } => {
                let query = [("org", org.as_str()), ("name", bucket.as_str())];
                let answer = self.ok(Method::GET, "/api/v2/buckets", &query, None).await;
                let answer = match answer {
                    // An unknown bucket name is a 404 on some versions.
                    Err(CallError::Failed(Failure::NotFound { message }))
                        if message.contains("bucket") =>
                    {
                        return Ok(None);
                    }
                    other => other?,
                };
                let buckets: Buckets = json(&answer.body)?;
                Ok(buckets
                    .buckets
                    .iter()
                    .find(|b| b.name == *bucket)
                    .map(Bucket::retention))
            }
            Destination::V3 { database } => {
                let query = [("format", "json")];
                let answer = self
                    .ok(Method::GET, "/api/v3/configure/database", &query, None)
                    .await?;
                let rows: Vec<serde_json::Map<String, serde_json::Value>> = json(&answer.body)?;
                let exists = rows.iter().any(|row| {
                    row.get("iox::database").and_then(|v| v.as_str()) == Some(database.as_str())
                });
                Ok(exists.then_some(Retention::Unknown))
            }
        }
    }

    /// Creates the database (v1, v3) or bucket (v2, with no expiry); a 401
    /// or 403 means the token may not.
    pub(crate) async fn create_database(&self) -> Result<(), CallError> {
        match self.destination() {
            Destination::V1 { database, .. } => {
                let q = format!("CREATE DATABASE {}", quote_identifier(database));
                self.influxql(Method::POST, &q).await.map(|_| ())
            }
            Destination::V2 { org, bucket } => {
                let query = [("org", org.as_str())];
                let answer = self.ok(Method::GET, "/api/v2/orgs", &query, None).await?;
                let orgs: Orgs = json(&answer.body)?;
                let Some(found) = orgs.orgs.iter().find(|o| o.name == *org) else {
                    return Err(CallError::Failed(Failure::NotFound {
                        message: format!("no organisation named `{org}`"),
                    }));
                };
                let body = serde_json::json!({
                    "orgID": found.id,
                    "name": bucket,
                    "retentionRules": [],
                });
                self.ok(Method::POST, "/api/v2/buckets", &[], Some(body))
                    .await
                    .map(|_| ())
            }
            Destination::V3 { database } => {
                let body = serde_json::json!({ "db": database });
                self.ok(Method::POST, "/api/v3/configure/database", &[], Some(body))
                    .await
                    .map(|_| ())
            }
        }
    }

    /// An InfluxQL statement through `/query` (v1), its first result.
    async fn influxql(&self, method: Method, statement: &str) -> Result<QueryResult, CallError> {
        self.influxql_on(method, None, statement).await
    }

    /// An InfluxQL statement through `/query` on `database` (`db=`, which
    /// 2.x maps to the bucket of that name), times as integers, its first
    /// result. Every API version answers `/query`.
    pub(super) async fn influxql_on(
        &self,
        method: Method,
        database: Option<&str>,
        statement: &str,
    ) -> Result<QueryResult, CallError> {
        let mut query = vec![("q", statement)];
        if let Some(database) = database {
            query.extend([("db", database), ("epoch", "ns")]);
        }
        let answer = self.ok(method, "/query", &query, None).await?;
        let results: QueryResults = json(&answer.body)?;
        let Some(first) = results.results.into_iter().next() else {
            return Err(CallError::Failed(Failure::Unreadable {
                message: format!("`{statement}` answered without a result"),
            }));
        };
        match first.error {
            Some(message) => Err(CallError::Failed(Failure::Status {
                status: answer.status.as_u16(),
                message,
            })),
            None => Ok(first),
        }
    }
}

/// A v1 retention policy's duration: the named one, or the default.
fn v1_retention(policies: &QueryResult, name: Option<&str>) -> Result<Retention, Failure> {
    let series = policies.series.first();
    let column = |wanted: &str| series.and_then(|s| s.columns.iter().position(|c| c == wanted));
    let (Some(series), Some(name_at), Some(duration_at), Some(default_at)) = (
        series,
        column("name"),
        column("duration"),
        column("default"),
    ) else {
        return Err(Failure::Unreadable {
            message: "SHOW RETENTION POLICIES answered without name, duration and default".into(),
        });
    };
    let row = series.values.iter().find(|row| match name {
        Some(name) => row.get(name_at).and_then(|v| v.as_str()) == Some(name),
        None => row.get(default_at).and_then(|v| v.as_bool()) == Some(true),
    });
    let Some(row) = row else {
        return Err(Failure::NotFound {
            message: match name {
                Some(name) => format!("no retention policy `{name}`"),
                None => "no default retention policy".into(),
            },
        });
    };
    let duration = row.get(duration_at).and_then(|v| v.as_str()).unwrap_or("");
    match go_duration(duration) {
        Some(Duration::ZERO) => Ok(Retention::Forever),
        Some(keeps) => Ok(Retention::Keeps(keeps)),
        None => Err(Failure::Unreadable {
            message: format!("retention policy duration `{duration}`"),
        }),
    }
}

/// Go's duration text as InfluxDB 1.x prints it: `168h0m0s`, `0s`, `1h30m`;
/// `None` for anything else, and for a sum longer than a [`Duration`]
/// holds (a hostile server's `4000000000000000h` four times).
fn go_duration(text: &str) -> Option<Duration> {
    if text.is_empty() {
        return None;
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest
            .bytes()
            .take_while(|b| b.is_ascii_digit() || *b == b'.')
            .count();
        let number: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds = match &rest[..unit_len] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "us" | "µs" => 1e-6,
            "ns" => 1e-9,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total = total.checked_add(Duration::try_from_secs_f64(number * seconds).ok()?)?;
    }
    Some(total)
}

/// `"e2e"` for InfluxQL, with `"` and `\` escaped.
pub(super) fn quote_identifier(name: &str) -> String {
    let mut out = String::from("\"");
    for c in name.chars() {
        if matches!(c, '"' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// `/query`'s answer.
#[derive(Deserialize)]
struct QueryResults {
    #[serde(default)]
    results: Vec<QueryResult>,
}

#[derive(Deserialize)]
pub(super) struct QueryResult {
    #[serde(default)]
    pub series: Vec<QuerySeries>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct QuerySeries {
    #[serde(default)]
    pub tags: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub columns: Vec<String>,
    #[serde(default)]
    pub values: Vec<Vec<serde_json::Value>>,
}

impl QueryResult {
    /// Column `i` of every row of every series, where it is a string.
    pub(super) fn column_values(&self, i: usize) -> impl Iterator<Item = &str> {
        self.series
            .iter()
            .flat_map(|s| s.values.iter())
            .filter_map(move |row| row.get(i).and_then(|v| v.as_str()))
    }
}

/// `GET /api/v2/buckets`.
#[derive(Deserialize)]
struct Buckets {
    #[serde(default)]
    buckets: Vec<Bucket>,
}

#[derive(Deserialize)]
struct Bucket {
    name: String,
    #[serde(default, rename = "retentionRules")]
    retention_rules: Vec<RetentionRule>,
}

#[derive(Deserialize)]
struct RetentionRule {
    #[serde(default, rename = "everySeconds")]
    every_seconds: u64,
}

impl Bucket {
    /// No rule, or `everySeconds: 0`, keeps points forever.
    fn retention(&self) -> Retention {
        match self
            .retention_rules
            .iter()
            .map(|r| r.every_seconds)
            .find(|s| *s > 0)
        {
            Some(seconds) => Retention::Keeps(Duration::from_secs(seconds)),
            None => Retention::Forever,
        }
    }
}

/// `GET /api/v2/orgs`.
#[derive(Deserialize)]
struct Orgs {
    #[serde(default)]
    orgs: Vec<Org>,
}

#[derive(Deserialize)]
struct Org {
    id: String,
    name: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations_as_influxdb_prints_them() {
        assert_eq!(go_duration("0s"), Some(Duration::ZERO));
        assert_eq!(go_duration("168h0m0s"), Some(Duration::from_secs(604_800)));
        assert_eq!(go_duration("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(go_duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(go_duration(""), None);
        assert_eq!(go_duration("7d"), None);
    }

    #[test]
    fn a_go_duration_whose_sum_overflows_is_not_read() {
        // One part fits a Duration (u64::MAX seconds, about 5e15 hours); four
        // such parts, as a hostile server may send, do not.
        assert!(go_duration("4000000000000000h").is_some());
        assert_eq!(
            go_duration("4000000000000000h4000000000000000h4000000000000000h4000000000000000h"),
            None
        );
        assert_eq!(go_duration("99999999999999999999h"), None);
    }
}
