//! InfluxDB's HTTP API, the one client for every call outatime makes:
//! writing a batch of line protocol (gzip), whose answer [`super::answer`]
//! classifies; the calls whose answer must be a success, which the
//! preflight ([`super::database`]) and the markers ([`super::marker`]) make;
//! and `GET /query` for `verify`'s reader ([`super::query`]). One attempt
//! per call: the engine decides what to retry and when.
//!
//! | API | write | database |
//! | --- | --- | --- |
//! | v1 | `POST /write?db=&rp=&precision=` | `/query` (`SHOW DATABASES`, `CREATE DATABASE`, `SHOW RETENTION POLICIES`) |
//! | v2 | `POST /api/v2/write?org=&bucket=&precision=` | `/api/v2/buckets` (its `retentionRules`), `/api/v2/orgs` |
//! | v3 | `POST /api/v3/write_lp?db=&precision=` | `/api/v3/configure/database` |

use std::io::Write as _;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{
    ACCEPT, AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, HeaderMap, HeaderValue,
    InvalidHeaderValue,
};
use http::{Method, Request};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::answer::{Answer, Failure, RetryReason, WriteAnswer, classify_status, classify_write};
use super::line_protocol::Precision;
use super::{Destination, InfluxTarget};
use crate::diagnostics::error_chain;
use crate::targets::endpoint::Endpoint;

/// The most bytes of an answer to a write or a preflight call: InfluxDB's
/// answers to them are small JSON.
const MAX_ANSWER_BYTES: usize = 1 << 20;

/// A query parameter's bytes sent as they are: RFC 3986's unreserved
/// characters (letters, digits, `-._~`); every other byte as `%XX`.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

type Connector = hyper_rustls::HttpsConnector<HttpConnector>;

/// A client for one target.
pub(crate) struct Client {
    http: HyperClient<Connector, Full<Bytes>>,
    target: InfluxTarget,
    timeout: Duration,
}

/// Why a request got no answer. The message is what the engine retries
/// for, and what a failed call says.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ExchangeError {
    /// The target's URL and the call's path and parameters are not a
    /// request (the configuration checks the URL first).
    #[error("bad request for {url}{path}: {error}")]
    Request {
        url: Endpoint,
        path: String,
        #[source]
        error: http::Error,
    },
    /// The token holds a byte a header cannot carry (a line break).
    #[error("the token is not a header value")]
    Token(#[source] InvalidHeaderValue),
    /// The connection could not be made or was dropped.
    #[error("{}", error_chain(.0))]
    Connection(#[source] hyper_util::client::legacy::Error),
    /// The answer's body was cut off.
    #[error("answer cut off: {0}")]
    CutOff(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The answer is longer than the call reads (`limit` bytes).
    #[error("answer cut off: it is longer than {limit} bytes")]
    TooLong { limit: usize },
    /// No answer within the client's timeout.
    #[error("no answer within --request-timeout")]
    Timeout,
}

/// A write that got no answer is sent again: the engine reports why.
impl From<ExchangeError> for RetryReason {
    fn from(error: ExchangeError) -> RetryReason {
        match error {
            ExchangeError::Timeout => RetryReason::Timeout,
            other => RetryReason::Connection(other.to_string()),
        }
    }
}

/// Why a preflight call failed: its message is what the apply and `clean`
/// say after what they were doing.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CallError {
    /// The server could not be reached, or did not answer in time.
    #[error(transparent)]
    Unreachable(#[from] ExchangeError),
    /// Throttled or unavailable (429, 5xx): the call may work later.
    #[error("{status}: {message}")]
    Unavailable { status: u16, message: String },
    /// The server refused, or answered what retrying would not change.
    #[error(transparent)]
    Failed(#[from] Failure),
    /// The answer is not the JSON the API documents; `excerpt` is its
    /// start.
    #[error("an answer that is not InfluxDB's: {error}: {excerpt}")]
    NotJson {
        #[source]
        error: serde_json::Error,
        excerpt: String,
    },
}

/// The client could not be built.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BuildError {
    /// `https://` and the system has no root certificates.
    #[error("no root certificates: {0}")]
    NoRootCertificates(#[source] std::io::Error),
}

impl Client {
    /// A client for `target`, giving up on an attempt after `timeout`.
    pub(crate) fn new(target: InfluxTarget, timeout: Duration) -> Result<Client, BuildError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = match hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(provider.clone())
        {
            Ok(builder) => builder,
            Err(error) if target.url.is_https() => {
                return Err(BuildError::NoRootCertificates(error));
            }
            // Plain HTTP needs no roots: a machine without them still
            // reaches a local server.
            Err(_) => {
                let config = rustls::ClientConfig::builder_with_provider(provider)
                    .with_safe_default_protocol_versions()
                    .map_err(|e| BuildError::NoRootCertificates(std::io::Error::other(e)))?
                    .with_root_certificates(rustls::RootCertStore::empty())
                    .with_no_client_auth();
                hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(config)
            }
        };
        let connector = builder.https_or_http().enable_http1().build();
        let http = HyperClient::builder(TokioExecutor::new()).build(connector);
        Ok(Client {
            http,
            target,
            timeout,
        })
    }

    /// Where the client writes.
    pub(crate) fn destination(&self) -> &Destination {
        &self.target.destination
    }

    /// Writes `lines` (line protocol, one record a line) gzipped, and
    /// classifies the answer.
    pub(crate) async fn write(&self, lines: &[u8], precision: Precision) -> WriteAnswer {
        let body = gzip(lines);
        let (path, query) = match &self.target.destination {
            Destination::V1 {
                database,
                retention_policy,
            } => {
                let mut query = vec![("db", database.as_str())];
                if let Some(rp) = retention_policy {
                    query.push(("rp", rp));
                }
                query.push(("precision", precision.v2_name()));
                ("/write", query)
            }
            Destination::V2 { org, bucket } => (
                "/api/v2/write",
                vec![
                    ("org", org.as_str()),
                    ("bucket", bucket.as_str()),
                    ("precision", precision.v2_name()),
                ],
            ),
            Destination::V3 { database } => (
                "/api/v3/write_lp",
                vec![
                    ("db", database.as_str()),
                    ("precision", precision.v3_name()),
                ],
            ),
        };
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        let call = self.call(Method::POST, path, &query, headers, Bytes::from(body));
        match call.await {
            Ok(answer) => classify_write(&answer, lines),
            Err(error) => WriteAnswer::Retry {
                after: None,
                reason: error.into(),
            },
        }
    }

    /// `GET /query` of `statement` on `database`, times as integers (ns):
    /// the answer as the server gave it, whatever its status, read up to
    /// `limit` bytes. For a reader that parses the answer itself
    /// ([`super::query`]); every API version answers `/query`.
    pub(crate) async fn query(
        &self,
        database: &str,
        statement: &str,
        limit: usize,
    ) -> Result<Answer, ExchangeError> {
        let query = [("db", database), ("epoch", "ns"), ("q", statement)];
        self.call_limited(
            Method::GET,
            "/query",
            &query,
            HeaderMap::new(),
            Bytes::new(),
            limit,
        )
        .await
    }

    /// InfluxDB 3's `GET /api/v3/query_sql` of `statement` on `database`,
    /// answered as CSV (a header, then rows: the columns in the statement's
    /// order), whatever its status, read up to `limit` bytes.
    pub(crate) async fn query_sql(
        &self,
        database: &str,
        statement: &str,
        limit: usize,
    ) -> Result<Answer, ExchangeError> {
        let query = [("db", database), ("q", statement), ("format", "csv")];
        self.call_limited(
            Method::GET,
            "/api/v3/query_sql",
            &query,
            HeaderMap::new(),
            Bytes::new(),
            limit,
        )
        .await
    }

    /// A call whose answer must be a 2xx.
    pub(super) async fn ok(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        json_body: Option<serde_json::Value>,
    ) -> Result<Answer, CallError> {
        let mut headers = HeaderMap::new();
        let body = match json_body {
            Some(value) => {
                headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                Bytes::from(value.to_string())
            }
            None => Bytes::new(),
        };
        let answer = self.call(method, path, query, headers, body).await?;
        if answer.status.is_success() {
            return Ok(answer);
        }
        match classify_status(&answer) {
            WriteAnswer::Retry { .. } => Err(CallError::Unavailable {
                status: answer.status.as_u16(),
                message: answer.message(),
            }),
            WriteAnswer::Failed(failure) => Err(CallError::Failed(failure)),
            _ => Err(CallError::Failed(Failure::Status {
                status: answer.status.as_u16(),
                message: answer.message(),
            })),
        }
    }

    /// One request, its answer read whole (up to [`MAX_ANSWER_BYTES`]),
    /// within the timeout.
    async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        headers: HeaderMap,
        body: Bytes,
    ) -> Result<Answer, ExchangeError> {
        self.call_limited(method, path, query, headers, body, MAX_ANSWER_BYTES)
            .await
    }

    /// One request, its answer read whole up to `limit` bytes, within the
    /// timeout.
    async fn call_limited(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        mut headers: HeaderMap,
        body: Bytes,
        limit: usize,
    ) -> Result<Answer, ExchangeError> {
        let uri = uri(self.target.url.expose(), path, query);
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        if let Some(token) = &self.target.token {
            let value =
                HeaderValue::from_str(&token.header_value()).map_err(ExchangeError::Token)?;
            headers.insert(AUTHORIZATION, value);
        }
        let mut request = Request::builder()
            .method(method)
            .uri(&uri)
            .body(Full::new(body))
            .map_err(|error| ExchangeError::Request {
                url: self.target.url.clone(),
                path: path.to_string(),
                error,
            })?;
        *request.headers_mut() = headers;
        let exchange = async {
            let response = self
                .http
                .request(request)
                .await
                .map_err(ExchangeError::Connection)?;
            let (parts, body) = response.into_parts();
            let body = Limited::new(body, limit)
                .collect()
                .await
                .map_err(|error| match error.downcast::<LengthLimitError>() {
                    Ok(_) => ExchangeError::TooLong { limit },
                    Err(error) => ExchangeError::CutOff(error),
                })?
                .to_bytes();
            Ok(Answer {
                status: parts.status,
                headers: parts.headers,
                body,
            })
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .unwrap_or(Err(ExchangeError::Timeout))
    }
}

/// `url` + `path`, and the query's parameters percent-encoded.
fn uri(url: &str, path: &str, query: &[(&str, &str)]) -> String {
    let mut uri = format!("{url}{path}");
    for (i, (key, value)) in query.iter().enumerate() {
        uri.push(if i == 0 { '?' } else { '&' });
        uri.push_str(key);
        uri.push('=');
        uri.extend(utf8_percent_encode(value, QUERY_VALUE));
    }
    uri
}

/// `body` gzipped at the fastest level: the body shrinks about tenfold
/// either way, and the CPU goes to the records.
fn gzip(body: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 4 + 64),
        flate2::Compression::fast(),
    );
    // Compressing into a Vec cannot fail: a Vec takes every write.
    encoder
        .write_all(body)
        .and_then(|()| encoder.finish())
        .expect("gzip into a Vec")
}

pub(super) fn json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, CallError> {
    serde_json::from_slice(body).map_err(|error| CallError::NotJson {
        error,
        excerpt: String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned(),
    })
}

#[cfg(test)]
mod tests;
