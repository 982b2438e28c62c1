//! Reading back Timestream for LiveAnalytics: the Query API, one query a
//! table and time slice, page by page (`NextToken`):
//!
//! ```text
//! SELECT * FROM "db"."t" WHERE time >= from_nanoseconds(F) AND time < from_nanoseconds(T)
//! ```
//!
//! Rows come typed (`ColumnInfo`, `ScalarValue`). A multi-measure record is
//! one row whose measures are columns; a single-measure record is one row
//! a measure, named by `measure_name`, its value in `measure_value::TYPE`.
//! Other VARCHAR columns are dimensions (null where a series lacks one).
//! Values are text: a DOUBLE is parsed as Rust parses the text, so it equals
//! the stream's value when the text round-trips (the writes send the
//! shortest round-trip text).

use aws_sdk_timestreamquery::Client;
use aws_sdk_timestreamquery::types::{ColumnInfo, Row, ScalarType};

use crate::model::MeasureType;
use crate::record::Value;
use crate::targets::ask::{AskError, Asked, Cell};
use crate::targets::endpoint::Endpoint;
use crate::targets::read::{
    Found, ReadError, ReadTable, Reader, TimestreamReadError as QueryError, value_from_text,
};
use crate::targets::timestream::TimestreamTarget;
use crate::targets::timestream::client::{SdkFailure, TimestreamError};

pub(crate) struct Timestream {
    client: Client,
    runtime: tokio::runtime::Runtime,
    database: String,
    prefix: String,
    suffix: String,
    region: String,
    endpoint_url: Option<Endpoint>,
}

impl Timestream {
    /// The Query client: with `endpoint_url` (a local endpoint) the plain
    /// client; against AWS, endpoint discovery, whose reload task runs
    /// while the runtime does.
    pub(crate) fn connect(target: &TimestreamTarget) -> Result<Timestream, ReadError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|error| ReadError::RuntimeNotStarted { error })?;
        let client = runtime
            .block_on(query_client(target, None))
            .map_err(|error| ReadError::Timestream {
                table: target.database.clone(),
                error: error.into(),
            })?;
        Ok(Timestream {
            client,
            runtime,
            database: target.database.clone(),
            prefix: target.table_prefix.clone(),
            suffix: target.table_suffix.clone(),
            region: target.region.clone(),
            endpoint_url: target.endpoint_url.clone(),
        })
    }
}

/// The Query client of `target`, for `verify` and `capture`: `retry`
/// replaces the SDK's standard retries (3 attempts) when given. Call it
/// inside the runtime that will drive the client: against AWS, endpoint
/// discovery's reload task runs on it.
pub(crate) async fn query_client(
    target: &TimestreamTarget,
    retry: Option<aws_config::retry::RetryConfig>,
) -> Result<Client, TimestreamError> {
    let mut loader = crate::targets::timestream::client::sdk_config(&target.region);
    if let Some(retry) = retry {
        loader = loader.retry_config(retry);
    }
    let shared = loader.load().await;
    crate::targets::timestream::client::timestream_client!(
        aws_sdk_timestreamquery,
        &shared,
        &target.endpoint_url
    )
}

/// The query for one table and slice.
pub(crate) fn query(database: &str, table: &str, from: i64, to: i64) -> String {
    format!(
        "SELECT * FROM {}.{} WHERE time >= from_nanoseconds({from}) AND time < from_nanoseconds({to})",
        identifier(database),
        identifier(table)
    )
}

/// A quoted SQL identifier: `"db"`, with `""` for a quote inside.
pub(crate) fn identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// What a column holds.
enum Column {
    Time,
    MeasureName,
    /// `measure_value::TYPE`: a single-measure record's value.
    SingleValue(Option<MeasureType>),
    /// A multi-measure record's measure.
    Measure(String, Option<MeasureType>),
    Dimension(String),
    /// Anything else (a nested type): not compared.
    Other,
}

fn columns(info: &[ColumnInfo], table: &ReadTable) -> Vec<Column> {
    info.iter()
        .map(|c| {
            let name = c.name().unwrap_or_default();
            let scalar = c.r#type().and_then(|t| t.scalar_type());
            let typed = scalar.and_then(measure_type);
            if name == "time" {
                Column::Time
            } else if name == "measure_name" {
                Column::MeasureName
            } else if name.starts_with("measure_value::") {
                Column::SingleValue(typed)
            } else if let Some(ty) = table.measure_type(name) {
                Column::Measure(name.to_string(), Some(ty))
            } else if matches!(scalar, Some(ScalarType::Varchar)) {
                Column::Dimension(name.to_string())
            } else if scalar.is_some() {
                Column::Measure(name.to_string(), typed)
            } else {
                Column::Other
            }
        })
        .collect()
}

/// The language's type of a Query API scalar type, if it has one.
pub(crate) fn measure_type(scalar: &ScalarType) -> Option<MeasureType> {
    Some(match scalar {
        ScalarType::Double => MeasureType::Double,
        ScalarType::Bigint | ScalarType::Integer => MeasureType::Bigint,
        ScalarType::Boolean => MeasureType::Boolean,
        ScalarType::Varchar => MeasureType::Varchar,
        _ => return None,
    })
}

/// `2026-11-28 20:00:00.000000000`, UTC: how the Query API writes a
/// TIMESTAMP.
pub(crate) fn parse_time(text: &str) -> Option<i64> {
    chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
        .ok()?
        .and_utc()
        .timestamp_nanos_opt()
}

/// A scalar as the scenario's type reads it; text of another type (or a
/// measure the scenario lacks) as the column's type, else as text.
fn scalar(scenario: Option<MeasureType>, column: Option<MeasureType>, text: &str) -> Value {
    scenario
        .and_then(|ty| value_from_text(ty, text))
        .or_else(|| column.and_then(|ty| value_from_text(ty, text)))
        .unwrap_or_else(|| Value::Varchar(text.into()))
}

/// The found record of one row.
fn row_record(row: &Row, columns: &[Column], table: &ReadTable) -> Result<Found, QueryError> {
    let mut time = None;
    let mut measure_name = None;
    let mut single = None;
    let mut dims = Vec::new();
    let mut measures = Vec::new();
    for (column, datum) in columns.iter().zip(row.data()) {
        let Some(text) = datum.scalar_value() else {
            continue;
        };
        match column {
            Column::Time => {
                time = Some(parse_time(text).ok_or_else(|| QueryError::BadTime(text.into()))?);
            }
            Column::MeasureName => measure_name = Some(text),
            Column::SingleValue(ty) => single = Some((*ty, text)),
            Column::Measure(name, ty) => {
                measures.push((name.clone(), scalar(table.measure_type(name), *ty, text)))
            }
            Column::Dimension(name) => dims.push((name.clone(), text.to_string())),
            Column::Other => {}
        }
    }
    if let (Some((ty, text)), Some(name)) = (single, measure_name) {
        measures.push((name.to_string(), scalar(table.measure_type(name), ty, text)));
    }
    dims.sort();
    Ok(Found {
        dims,
        time: time.ok_or(QueryError::NoTime)?,
        measures,
    })
}

impl Timestream {
    /// An expectation's query, every page of it.
    pub(crate) fn ask(&self, statement: &str) -> Result<Asked, AskError> {
        let mut out = Asked::default();
        let mut next_token: Option<String> = None;
        loop {
            let request = self
                .client
                .query()
                .query_string(statement)
                .set_next_token(next_token.take());
            let page = self.runtime.block_on(request.send()).map_err(|e| {
                use aws_sdk_timestreamquery::error::ProvideErrorMetadata;
                let refused = e.code() == Some("ValidationException");
                let words = SdkFailure::new(e).to_string();
                if refused {
                    AskError::Refused(words)
                } else {
                    AskError::Unreachable(words)
                }
            })?;
            let info = page.column_info();
            if out.columns.is_empty() {
                out.columns = info
                    .iter()
                    .map(|c| c.name().unwrap_or_default().to_string())
                    .collect();
            }
            for row in page.rows() {
                out.push(|| {
                    info.iter()
                        .zip(row.data())
                        .map(|(column, datum)| {
                            let scalar = column.r#type().and_then(|t| t.scalar_type());
                            match (datum.scalar_value(), scalar) {
                                (None, _) => Cell::Null,
                                (Some(text), Some(ScalarType::Timestamp)) => {
                                    Cell::Time(text.into())
                                }
                                (Some(text), Some(ScalarType::Boolean)) => {
                                    Cell::Bool(text == "true")
                                }
                                (
                                    Some(text),
                                    Some(
                                        ScalarType::Double
                                        | ScalarType::Bigint
                                        | ScalarType::Integer,
                                    ),
                                ) => text
                                    .parse::<f64>()
                                    .map_or_else(|_| Cell::Text(text.into()), Cell::Number),
                                (Some(text), _) => Cell::Text(text.into()),
                            }
                        })
                        .collect()
                });
            }
            match page.next_token() {
                Some(token) => next_token = Some(token.to_string()),
                None => return Ok(out),
            }
        }
    }
}

impl Reader for Timestream {
    fn describe(&self) -> String {
        format!(
            "Timestream database `{}` in {}{}",
            self.database,
            self.region,
            self.endpoint_url
                .as_ref()
                .map(|u| format!(" at {u}"))
                .unwrap_or_default()
        )
    }

    fn table_name(&self, table: &ReadTable) -> String {
        format!("{}{}{}", self.prefix, table.target, self.suffix)
    }

    fn read(
        &mut self,
        table: &ReadTable,
        from: i64,
        to: i64,
        each: &mut dyn FnMut(Found),
    ) -> Result<(), ReadError> {
        let name = self.table_name(table);
        let text = query(&self.database, &name, from, to);
        let fail = |error: QueryError| ReadError::Timestream {
            table: name.clone(),
            error,
        };
        let mut next_token: Option<String> = None;
        loop {
            let request = self
                .client
                .query()
                .query_string(&text)
                .set_next_token(next_token.take());
            let page = self
                .runtime
                .block_on(request.send())
                .map_err(|e| fail(QueryError::Query(SdkFailure::new(e))))?;
            let columns = columns(page.column_info(), table);
            for row in page.rows() {
                each(row_record(row, &columns, table).map_err(&fail)?);
            }
            match page.next_token() {
                Some(token) => next_token = Some(token.to_string()),
                None => return Ok(()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_timestreamquery::types::{Datum, Type};

    fn column(name: &str, ty: ScalarType) -> ColumnInfo {
        ColumnInfo::builder()
            .name(name)
            .r#type(Type::builder().scalar_type(ty).build())
            .build()
    }

    fn row(cells: &[Option<&str>]) -> Row {
        Row::builder()
            .set_data(Some(
                cells
                    .iter()
                    .map(|c| match c {
                        Some(text) => Datum::builder().scalar_value(*text).build(),
                        None => Datum::builder().null_value(true).build(),
                    })
                    .collect(),
            ))
            .build()
            .unwrap()
    }

    #[test]
    fn multi_and_single_measure_rows_become_records() {
        let measures = vec![
            ("on".to_string(), MeasureType::Boolean),
            ("v".to_string(), MeasureType::Double),
        ];
        let table = ReadTable {
            index: 0,
            target: "t",
            measures: &measures,
        };
        let info = [
            column("site", ScalarType::Varchar),
            column("rack", ScalarType::Varchar),
            column("measure_name", ScalarType::Varchar),
            column("time", ScalarType::Timestamp),
            column("measure_value::double", ScalarType::Double),
            column("on", ScalarType::Boolean),
            column("v", ScalarType::Double),
        ];
        let columns = columns(&info, &table);
        let multi = row(&[
            Some("lab"),
            None,
            Some("metrics"),
            Some("2026-11-28 20:00:00.000000000"),
            None,
            Some("true"),
            Some("0.30000000000000004"),
        ]);
        let found = row_record(&multi, &columns, &table).unwrap();
        assert_eq!(found.dims, vec![("site".into(), "lab".into())]);
        assert_eq!(found.time, 1_795_896_000_000_000_000);
        assert_eq!(
            found.measures,
            vec![
                ("on".into(), Value::Boolean(true)),
                ("v".into(), Value::Double(0.1 + 0.2)),
            ]
        );
        let single = row(&[
            Some("lab"),
            Some("r9"),
            Some("v"),
            Some("2026-11-28 20:00:00.000001000"),
            Some("1.0E-5"),
            None,
            None,
        ]);
        let found = row_record(&single, &columns, &table).unwrap();
        assert_eq!(
            found.dims,
            vec![("rack".into(), "r9".into()), ("site".into(), "lab".into())]
        );
        assert_eq!(found.time, 1_795_896_000_000_001_000);
        assert_eq!(found.measures, vec![("v".into(), Value::Double(1e-5))]);
    }

    #[test]
    fn the_query_names_the_table_and_the_slice() {
        assert_eq!(
            query("db", "t_alpha", 10, 20),
            r#"SELECT * FROM "db"."t_alpha" WHERE time >= from_nanoseconds(10) AND time < from_nanoseconds(20)"#
        );
    }
}
