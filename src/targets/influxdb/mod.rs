//! InfluxDB as a target: where the points go ([`InfluxTarget`]), how a
//! batch of records becomes line protocol ([`line_protocol`]), the one HTTP
//! client that writes it ([`client`]) and asks about the database
//! ([`database`]), what its answers mean ([`answer`]), verify's reader
//! ([`query`]), and the [`crate::targets::Backend`] the apply
//! engine drives ([`target`]). Nothing here loops, paces or retries.

pub(crate) mod answer;
pub(crate) mod client;
pub(crate) mod database;
pub(crate) mod line_protocol;
pub(crate) mod marker;
pub(crate) mod names;
pub(crate) mod query;
pub(crate) mod target;

pub(crate) use target::Influxdb;

use std::fmt;

use crate::targets::endpoint::Endpoint;

/// The most lines one write request carries.
pub(crate) const MAX_LINES_PER_BATCH: usize = 5_000;

/// The most bytes (before gzip) one write request carries: InfluxDB's
/// default `max-body-size` is 25 MB, and it counts the body as sent; a batch
/// stays far below it however well the body compresses.
pub(crate) const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// An InfluxDB target's settings with `${ENV}` expanded and the token read:
/// plain data that the client reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InfluxTarget {
    /// `http://127.0.0.1:8086`, without a trailing `/`; shown redacted.
    pub url: Endpoint,
    pub destination: Destination,
    /// From the variable `token_env` names; `None` without `token_env`.
    pub token: Option<Token>,
}

impl InfluxTarget {
    /// The query dialects it runs: InfluxQL, and SQL on InfluxDB 3.
    pub(crate) fn dialects(&self) -> &'static [crate::model::Dialect] {
        use crate::model::Dialect;
        match self.destination {
            Destination::V3 { .. } => &[Dialect::Influxql, Dialect::Sql],
            _ => &[Dialect::Influxql],
        }
    }
}

/// Which API writes, and where to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// InfluxDB 1.x, or the v1-compatible endpoint of 2.x and 3.x.
    V1 {
        database: String,
        retention_policy: Option<String>,
    },
    /// InfluxDB 2.x (Timestream for InfluxDB 2).
    V2 { org: String, bucket: String },
    /// InfluxDB 3 Core and Enterprise.
    V3 { database: String },
}

impl Destination {
    /// The database or bucket, for messages.
    pub(crate) fn name(&self) -> &str {
        match self {
            Destination::V1 { database, .. } | Destination::V3 { database } => database,
            Destination::V2 { bucket, .. } => bucket,
        }
    }

    /// `database` or `bucket`, for messages.
    pub(crate) fn noun(&self) -> &'static str {
        match self {
            Destination::V2 { .. } => "bucket",
            _ => "database",
        }
    }

    /// The database or bucket, as messages name it.
    pub(crate) fn store(&self) -> Store {
        Store {
            noun: self.noun(),
            name: self.name().to_string(),
        }
    }
}

/// A database or bucket as a message names it: ``bucket `e2e` ``.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Store {
    /// `database` or `bucket`.
    pub noun: &'static str,
    pub name: String,
}

impl fmt::Display for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} `{}`", self.noun, self.name)
    }
}

/// An API token: its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    pub(crate) fn new(secret: String) -> Token {
        Token(secret)
    }

    /// The `Authorization` header's value.
    pub(crate) fn header_value(&self) -> String {
        format!("Token {}", self.0)
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(…)")
    }
}
