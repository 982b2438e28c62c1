//! The Query API (Timestream Query, same `Timestream_20181101` target
//! prefix and `timestream` signing name), for the queries `outatime
//! verify` and `outatime capture` send:
//!
//! ```text
//! SELECT * FROM "db"."t" WHERE time >= from_nanoseconds(A) AND time < from_nanoseconds(B)
//! SELECT * FROM "db"."t" WHERE time >= from_nanoseconds(A) AND time < from_nanoseconds(B)
//!   [AND (COLUMN = 'value' [AND COLUMN = 'value' ...])] [ORDER BY time]
//! DESCRIBE "db"."t"
//! ```
//!
//! A predicate term names a dimension or `measure_name`, bare or quoted
//! (`"device-id"`), and a string with `''` for a quote; terms are joined by
//! `AND` (a value holding ` AND ` is not served). A column the table does
//! not have is a ValidationException, as the service's; so is any other
//! query. Rows come ordered by time (then series and measure name) with or
//! without `ORDER BY`.
//!
//! The answer has the service's shape (API_query_Query, the Query output
//! of the service model: `QueryId`, `Rows` of `Data` cells with
//! `ScalarValue` or `NullValue`, `ColumnInfo` with `Name` and
//! `Type.ScalarType`, `NextToken`, `QueryStatus`). Columns are those of
//! `SELECT *` on a table: its dimensions, `measure_name`, `time`, a
//! `measure_value::TYPE` per type of single-measure record, and each
//! multi-measure record's measures. Times read `2026-11-28
//! 20:00:00.000000000`; values are returned as they were written (the
//! service prints doubles its own way; `docs/verify.md`). `DESCRIBE`
//! answers one row a column: `Column`, `Type` (lower case) and
//! `Timestream attribute type` (`DIMENSION`, `MEASURE_NAME`, `TIMESTAMP`,
//! `MEASURE_VALUE`, `MULTI`), all VARCHAR.
//!
//! Pages: at most the endpoint's page size (and `MaxRows`) rows each; a
//! `NextToken` is good only for the same query string, as the service's
//! ("Invalid pagination token" otherwise).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};

use super::wire::ApiError;
use super::{Stored, StoredValue, ValueKind};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct QueryRequest {
    pub query_string: String,
    #[serde(default)]
    pub next_token: Option<String>,
    #[serde(default)]
    pub max_rows: Option<usize>,
    #[serde(default)]
    #[allow(dead_code)] // the SDK fills it in; idempotency is not modelled
    pub client_token: Option<String>,
}

/// A query served.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Query {
    Select(Select),
    Describe { database: String, table: String },
}

impl Query {
    pub fn table(&self) -> (&str, &str) {
        match self {
            Query::Select(select) => (&select.database, &select.table),
            Query::Describe { database, table } => (database, table),
        }
    }
}

/// `SELECT *` of one time range, optionally narrowed.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Select {
    pub database: String,
    pub table: String,
    pub from: i64,
    pub to: i64,
    /// `COLUMN = 'value'` terms, all of which hold.
    pub predicate: Vec<(String, String)>,
}

/// Reads the query string, or says what shapes are served.
pub(super) fn parse(query: &str) -> Result<Query, ApiError> {
    let refuse = || {
        ApiError::validation(format!(
            "The strict endpoint answers only DESCRIBE \"db\".\"table\" and SELECT * FROM \"db\".\"table\" \
             WHERE time >= from_nanoseconds(A) AND time < from_nanoseconds(B) [AND (COLUMN = 'value' AND ...)] \
             [ORDER BY time]; not: {query}"
        ))
    };
    if let Some(rest) = query.strip_prefix("DESCRIBE ") {
        let (database, rest) = quoted(rest).ok_or_else(refuse)?;
        let rest = rest.strip_prefix('.').ok_or_else(refuse)?;
        let (table, rest) = quoted(rest).ok_or_else(refuse)?;
        if !rest.is_empty() {
            return Err(refuse());
        }
        return Ok(Query::Describe { database, table });
    }
    let rest = query.strip_prefix("SELECT * FROM ").ok_or_else(refuse)?;
    let (database, rest) = quoted(rest).ok_or_else(refuse)?;
    let rest = rest.strip_prefix('.').ok_or_else(refuse)?;
    let (table, rest) = quoted(rest).ok_or_else(refuse)?;
    let rest = rest
        .strip_prefix(" WHERE time >= from_nanoseconds(")
        .ok_or_else(refuse)?;
    let (from, rest) = rest.split_once(')').ok_or_else(refuse)?;
    let rest = rest
        .strip_prefix(" AND time < from_nanoseconds(")
        .ok_or_else(refuse)?;
    let (to, rest) = rest.split_once(')').ok_or_else(refuse)?;
    let rest = rest.strip_suffix(" ORDER BY time").unwrap_or(rest);
    let predicate = match rest {
        "" => Vec::new(),
        _ => {
            let terms = rest
                .strip_prefix(" AND (")
                .and_then(|r| r.strip_suffix(')'))
                .ok_or_else(refuse)?;
            terms
                .split(" AND ")
                .map(|term| self::term(term).ok_or_else(refuse))
                .collect::<Result<_, _>>()?
        }
    };
    Ok(Query::Select(Select {
        database,
        table,
        from: from.parse().map_err(|_| refuse())?,
        to: to.parse().map_err(|_| refuse())?,
        predicate,
    }))
}

/// `site = 'oslo-1'`, `"device-id" = 'a''1'`.
fn term(text: &str) -> Option<(String, String)> {
    let (column, value) = text.split_once('=')?;
    let column = column.trim();
    let column = match quoted(column) {
        Some((name, "")) => name,
        Some(_) => return None,
        None if !column.is_empty()
            && column
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_') =>
        {
            column.to_string()
        }
        None => return None,
    };
    let value = value.trim().strip_prefix('\'')?.strip_suffix('\'')?;
    let mut parts = value.split("''");
    if parts.clone().any(|part| part.contains('\'')) {
        return None;
    }
    let value = parts.by_ref().collect::<Vec<_>>().join("'");
    Some((column, value))
}

/// `"name"` (with `""` for a quote) and what follows.
fn quoted(text: &str) -> Option<(String, &str)> {
    let mut rest = text.strip_prefix('"')?;
    let mut name = String::new();
    loop {
        let end = rest.find('"')?;
        name.push_str(&rest[..end]);
        rest = &rest[end + 1..];
        match rest.strip_prefix('"') {
            Some(after) => {
                name.push('"');
                rest = after;
            }
            None => return Some((name, rest)),
        }
    }
}

#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Column {
    Dimension(String),
    MeasureName,
    Time,
    Single(ValueKind),
    Multi(String, ValueKind),
}

fn scalar_type(kind: ValueKind) -> &'static str {
    match kind {
        ValueKind::Double => "DOUBLE",
        ValueKind::Bigint => "BIGINT",
        ValueKind::Boolean => "BOOLEAN",
        ValueKind::Varchar => "VARCHAR",
        ValueKind::Timestamp => "TIMESTAMP",
    }
}

fn time_text(time_ns: i64) -> String {
    chrono::DateTime::from_timestamp_nanos(time_ns)
        .format("%Y-%m-%d %H:%M:%S%.9f")
        .to_string()
}

/// The page token: the offset, and a hash of the query it belongs to.
fn token(query: &str, offset: usize) -> String {
    format!("{offset}.{:016x}", fnv(query))
}

fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Answer {
    query_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
    rows: Vec<Json>,
    column_info: Vec<Json>,
    query_status: Json,
}

/// One page of the answer to `request`, over `stored` (the whole table,
/// sorted by dimensions, measure name and time) and `page_size`.
pub(super) fn answer(
    request: &QueryRequest,
    select: &Select,
    stored: &[Stored],
    page_size: usize,
    query_number: u64,
) -> Result<Vec<u8>, ApiError> {
    let offset = match &request.next_token {
        None => 0,
        Some(given) => {
            let offset = given
                .split_once('.')
                .and_then(|(offset, _)| offset.parse::<usize>().ok())
                .filter(|offset| token(&request.query_string, *offset) == *given);
            offset.ok_or_else(|| ApiError::validation("Invalid pagination token."))?
        }
    };
    let columns = table_columns(stored);
    for (column, _) in &select.predicate {
        let known =
            column == "measure_name" || columns.contains(&Column::Dimension(column.clone()));
        if !known {
            // The text is this endpoint's own.
            return Err(ApiError::validation(format!(
                "Column '{column}' does not exist or is not a dimension or measure_name."
            )));
        }
    }
    let holds = |record: &Stored| {
        select.predicate.iter().all(|(column, value)| {
            if column == "measure_name" {
                record.measure_name == *value
            } else {
                record.dimensions.get(column) == Some(value)
            }
        })
    };
    let mut selected: Vec<&Stored> = stored
        .iter()
        .filter(|r| r.time_ns >= select.from && r.time_ns < select.to && holds(r))
        .collect();
    selected.sort_by(|a, b| {
        (a.time_ns, &a.dimensions, &a.measure_name).cmp(&(
            b.time_ns,
            &b.dimensions,
            &b.measure_name,
        ))
    });
    let size = page_size.min(request.max_rows.unwrap_or(usize::MAX)).max(1);
    let end = (offset + size).min(selected.len());
    let rows = selected
        .get(offset..end)
        .unwrap_or_default()
        .iter()
        .map(|record| row(record, &columns))
        .collect();
    let column_info = columns
        .iter()
        .map(|c| {
            let (name, kind, _) = describe(c);
            json!({"Name": name, "Type": {"ScalarType": scalar_type(kind)}})
        })
        .collect();
    let next_token = (end < selected.len()).then(|| token(&request.query_string, end));
    Ok(render(query_number, next_token, rows, column_info))
}

/// A statement a test registered, answered as given whatever the tables
/// hold: the columns (name, scalar type such as `BIGINT`) and rows (`None`
/// for a null).
#[derive(Clone, Debug)]
pub struct Registered {
    pub columns: Vec<(String, String)>,
    pub rows: Vec<Vec<Option<String>>>,
}

/// One page of a registered statement's answer, paged like any other.
pub(super) fn registered_answer(
    request: &QueryRequest,
    registered: &Registered,
    page_size: usize,
    query_number: u64,
) -> Result<Vec<u8>, ApiError> {
    let offset = match &request.next_token {
        None => 0,
        Some(given) => given
            .split_once('.')
            .and_then(|(offset, _)| offset.parse::<usize>().ok())
            .filter(|offset| token(&request.query_string, *offset) == *given)
            .ok_or_else(|| ApiError::validation("Invalid pagination token."))?,
    };
    let size = page_size.min(request.max_rows.unwrap_or(usize::MAX)).max(1);
    let end = (offset + size).min(registered.rows.len());
    let rows = registered.rows[offset.min(end)..end]
        .iter()
        .map(|cells| {
            let data: Vec<Json> = cells
                .iter()
                .map(|c| match c {
                    Some(text) => json!({"ScalarValue": text}),
                    None => json!({"NullValue": true}),
                })
                .collect();
            json!({ "Data": data })
        })
        .collect();
    let column_info = registered
        .columns
        .iter()
        .map(|(name, ty)| json!({"Name": name, "Type": {"ScalarType": ty}}))
        .collect();
    let next_token = (end < registered.rows.len()).then(|| token(&request.query_string, end));
    Ok(render(query_number, next_token, rows, column_info))
}

/// The answer to `DESCRIBE`: one row a column of the table.
pub(super) fn describe_answer(stored: &[Stored], query_number: u64) -> Vec<u8> {
    let rows = table_columns(stored)
        .iter()
        .map(|c| {
            let (name, kind, attribute) = describe(c);
            let kind = scalar_type(kind).to_lowercase();
            json!({"Data": [{"ScalarValue": name}, {"ScalarValue": kind}, {"ScalarValue": attribute}]})
        })
        .collect();
    let column_info = ["Column", "Type", "Timestream attribute type"]
        .iter()
        .map(|name| json!({"Name": name, "Type": {"ScalarType": "VARCHAR"}}))
        .collect();
    render(query_number, None, rows, column_info)
}

fn render(
    query_number: u64,
    next_token: Option<String>,
    rows: Vec<Json>,
    column_info: Vec<Json>,
) -> Vec<u8> {
    let answer = Answer {
        query_id: format!("STRICTQUERY{query_number:012}"),
        next_token,
        rows,
        column_info,
        query_status: json!({
            "ProgressPercentage": 100.0,
            "CumulativeBytesScanned": 0,
            "CumulativeBytesMetered": 0,
        }),
    };
    serde_json::to_vec(&answer).expect("an answer always serializes")
}

/// The table's columns, as SELECT * has them.
fn table_columns(stored: &[Stored]) -> Vec<Column> {
    let mut columns: BTreeSet<Column> = BTreeSet::from([Column::MeasureName, Column::Time]);
    for record in stored {
        for name in record.dimensions.keys() {
            columns.insert(Column::Dimension(name.clone()));
        }
        match &record.value {
            StoredValue::Single(kind, _) => {
                columns.insert(Column::Single(*kind));
            }
            StoredValue::Multi(measures) => {
                for (name, (kind, _)) in measures {
                    columns.insert(Column::Multi(name.clone(), *kind));
                }
            }
        }
    }
    columns.into_iter().collect()
}

/// A column's name, type and `Timestream attribute type`.
fn describe(column: &Column) -> (String, ValueKind, &'static str) {
    match column {
        Column::Dimension(name) => (name.clone(), ValueKind::Varchar, "DIMENSION"),
        Column::MeasureName => ("measure_name".into(), ValueKind::Varchar, "MEASURE_NAME"),
        Column::Time => ("time".into(), ValueKind::Timestamp, "TIMESTAMP"),
        Column::Single(kind) => (
            format!("measure_value::{}", scalar_type(*kind).to_lowercase()),
            *kind,
            "MEASURE_VALUE",
        ),
        Column::Multi(name, kind) => (name.clone(), *kind, "MULTI"),
    }
}

fn row(record: &Stored, columns: &[Column]) -> Json {
    let null = || json!({"NullValue": true});
    let scalar = |text: &str| json!({"ScalarValue": text});
    let data: Vec<Json> = columns
        .iter()
        .map(|c| match (c, &record.value) {
            (Column::Dimension(name), _) => {
                record.dimensions.get(name).map_or_else(null, |v| scalar(v))
            }
            (Column::MeasureName, _) => scalar(&record.measure_name),
            (Column::Time, _) => scalar(&time_text(record.time_ns)),
            (Column::Single(kind), StoredValue::Single(k, text)) if k == kind => scalar(text),
            (Column::Multi(name, kind), StoredValue::Multi(measures)) => match measures.get(name) {
                Some((k, text)) if k == kind => scalar(text),
                _ => null(),
            },
            _ => null(),
        })
        .collect();
    json!({ "Data": data })
}
