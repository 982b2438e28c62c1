//! outatime's marker in InfluxDB: which measurements outatime made, so that
//! `apply` refuses to write into others' and `clean` drops only its own.
//!
//! A measurement is made by its first point, so there is nothing to tag:
//! outatime writes, before the first record of a measurement that does not
//! exist yet, one point into the measurement [`MARKER`]:
//!
//! ```text
//! outatime_managed,table=<measurement> scenario="<title>" <now, s>
//! ```
//!
//! and reads the markers back with InfluxQL through `/query` (every API
//! version answers it; 2.x maps the bucket to a database of its name):
//! `SHOW MEASUREMENTS`, and `SELECT * FROM "db".."outatime_managed" WHERE
//! time >= 0 AND time < 2^62 GROUP BY *`. `verify` reads only the
//! measurements a scenario names, so it never sees the marker. The marker
//! lives in the database's retention like any point: a measurement whose
//! marker has expired while its points remain looks like someone else's.

use std::collections::{BTreeMap, BTreeSet};

use http::Method;

use super::Destination;
use super::client::{CallError, Client};
use super::database::quote_identifier;
use super::line_protocol::{Part, Problem, escaped, write_value};
use crate::record::Value;

/// The measurement that holds outatime's markers.
pub(crate) const MARKER: &str = "outatime_managed";
/// The marker's tag: the measurement it marks.
pub(crate) const MARKER_TAG: &str = "table";
/// The marker's field: the title of the scenario whose apply made it.
pub(crate) const MARKER_FIELD: &str = "scenario";

/// The end of the time range the markers are read from: 2116, long after
/// any marker's time (the wall clock of an apply).
const MARKERS_UNTIL: i64 = 1 << 62;

/// What a database holds, as `apply` and `clean` judge it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Survey {
    /// Every measurement with points.
    pub measurements: BTreeSet<String>,
    /// The marked measurements, with the scenario their marker names.
    pub marked: BTreeMap<String, String>,
    /// The time of each marked measurement's latest marker, ns: when
    /// outatime last found it without points and marked it, which a
    /// journal keeps to know the measurement again.
    pub marked_at: BTreeMap<String, i64>,
}

/// What a measurement is to outatime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Found {
    /// No points (yet): an apply makes it, and marks it.
    Missing,
    /// outatime made it, for this scenario.
    Marked(String),
    /// It has points and no marker: someone else's.
    Unmarked,
}

impl Survey {
    pub(crate) fn found(&self, measurement: &str) -> Found {
        match (
            self.marked.get(measurement),
            self.measurements.contains(measurement),
        ) {
            (Some(scenario), _) => Found::Marked(scenario.clone()),
            (None, true) => Found::Unmarked,
            (None, false) => Found::Missing,
        }
    }
}

/// Why the marker lines cannot be written: line protocol cannot carry the
/// scenario's title or a measurement's name as a tag value.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LinesError {
    #[error("cannot write the scenario's title as a marker: {0}")]
    Title(#[source] Problem),
    #[error("cannot mark the measurement `{table}`: {problem}")]
    Table {
        table: String,
        #[source]
        problem: Problem,
    },
}

/// The marker lines for `tables`, at `now_seconds`.
pub(crate) fn lines(
    tables: &[String],
    scenario: &str,
    now_seconds: i64,
) -> Result<Vec<u8>, LinesError> {
    let mut body = Vec::new();
    let mut field = Vec::new();
    write_value(&mut field, &Value::Varchar(scenario.into())).map_err(LinesError::Title)?;
    for table in tables {
        let tag = escaped(Part::TagValue, table).map_err(|problem| LinesError::Table {
            table: table.clone(),
            problem,
        })?;
        body.extend_from_slice(MARKER.as_bytes());
        body.push(b',');
        body.extend_from_slice(MARKER_TAG.as_bytes());
        body.push(b'=');
        body.extend_from_slice(&tag);
        body.push(b' ');
        body.extend_from_slice(MARKER_FIELD.as_bytes());
        body.push(b'=');
        body.extend_from_slice(&field);
        body.push(b' ');
        body.extend_from_slice(now_seconds.to_string().as_bytes());
        body.push(b'\n');
    }
    Ok(body)
}

impl Client {
    /// The database's measurements and markers.
    pub(crate) async fn survey(&self) -> Result<Survey, CallError> {
        let database = self.destination().name().to_string();
        let shown = self
            .influxql_on(Method::GET, Some(&database), "SHOW MEASUREMENTS")
            .await?;
        let measurements = shown.column_values(0).map(str::to_string).collect();
        let select = format!(
            "SELECT * FROM {}.{}{} WHERE time >= 0 AND time < {MARKERS_UNTIL} GROUP BY *",
            quote_identifier(&database),
            match self.destination() {
                Destination::V1 {
                    retention_policy: Some(rp),
                    ..
                } => format!("{}.", quote_identifier(rp)),
                _ => ".".into(),
            },
            quote_identifier(MARKER)
        );
        let markers = self
            .influxql_on(Method::GET, Some(&database), &select)
            .await?;
        let mut marked = BTreeMap::new();
        let mut marked_at = BTreeMap::new();
        for series in &markers.series {
            let Some(table) = series.tags.get(MARKER_TAG).filter(|t| !t.is_empty()) else {
                continue;
            };
            // `epoch=ns`: times are integers.
            let time = series.columns.iter().position(|c| c == "time");
            let latest = time.and_then(|time| {
                series
                    .values
                    .iter()
                    .filter_map(|row| row.get(time).and_then(|v| v.as_i64()))
                    .max()
            });
            if let Some(latest) = latest {
                marked_at.insert(table.clone(), latest);
            }
            let at = series.columns.iter().position(|c| c == MARKER_FIELD);
            // Rows come in time order: the last names the latest apply.
            let scenario = at
                .and_then(|at| {
                    series
                        .values
                        .iter()
                        .rev()
                        .find_map(|row| row.get(at).and_then(|v| v.as_str()))
                })
                .unwrap_or_default();
            marked.insert(table.clone(), scenario.to_string());
        }
        Ok(Survey {
            measurements,
            marked,
            marked_at,
        })
    }

    /// Drops `measurement` and its marker: v1 `DROP MEASUREMENT` and `DROP
    /// SERIES FROM outatime_managed WHERE "table" = '…'`; v2 `/api/v2/delete`
    /// of every point of each, from InfluxDB's earliest time to its latest.
    /// InfluxDB 3 deletes no points: refused before it gets here.
    pub(crate) async fn drop_measurement(&self, measurement: &str) -> Result<(), CallError> {
        match self.destination() {
            Destination::V1 { database, .. } => {
                let drop = format!("DROP MEASUREMENT {}", quote_identifier(measurement));
                self.influxql_on(Method::POST, Some(database), &drop)
                    .await?;
                let unmark = format!(
                    "DROP SERIES FROM {} WHERE {} = {}",
                    quote_identifier(MARKER),
                    quote_identifier(MARKER_TAG),
                    quote_string(measurement, '\'')
                );
                self.influxql_on(Method::POST, Some(database), &unmark)
                    .await
                    .map(|_| ())
            }
            Destination::V2 { org, bucket } => {
                let query = [("org", org.as_str()), ("bucket", bucket.as_str())];
                let predicates = [
                    format!("_measurement={}", quote_string(measurement, '"')),
                    format!(
                        "_measurement={} AND {MARKER_TAG}={}",
                        quote_string(MARKER, '"'),
                        quote_string(measurement, '"')
                    ),
                ];
                for predicate in predicates {
                    let body = serde_json::json!({
                        "start": EARLIEST,
                        "stop": LATEST,
                        "predicate": predicate,
                    });
                    self.ok(Method::POST, "/api/v2/delete", &query, Some(body))
                        .await?;
                }
                Ok(())
            }
            Destination::V3 { .. } => Err(CallError::Failed(super::answer::Failure::Status {
                status: 405,
                message: "InfluxDB 3 deletes no points".into(),
            })),
        }
    }
}

/// The times `/api/v2/delete` covers: InfluxDB's earliest and latest
/// (its times are i64 nanoseconds), to the second inside.
const EARLIEST: &str = "1677-09-21T00:12:44Z";
const LATEST: &str = "2262-04-11T23:47:16Z";

/// `'o\'k'` for InfluxQL, `"o\"k"` for a v2 delete predicate.
fn quote_string(text: &str, quote: char) -> String {
    let mut out = String::from(quote);
    for c in text.chars() {
        if c == quote || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push(quote);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_marker_is_one_escaped_line_a_measurement() {
        let body = lines(&["a b".into(), "c".into()], "say \"hi\"", 1_700_000_000).unwrap();
        assert_eq!(
            String::from_utf8(body).unwrap(),
            "outatime_managed,table=a\\ b scenario=\"say \\\"hi\\\"\" 1700000000\noutatime_managed,table=c scenario=\"say \\\"hi\\\"\" 1700000000\n"
        );
    }

    #[test]
    fn a_measurement_is_missing_marked_or_unmarked() {
        let survey = Survey {
            measurements: ["mine".into(), "theirs".into()].into(),
            marked: [("mine".into(), "demo".into())].into(),
            marked_at: [("mine".into(), 1)].into(),
        };
        assert_eq!(survey.found("mine"), Found::Marked("demo".into()));
        assert_eq!(survey.found("theirs"), Found::Unmarked);
        assert_eq!(survey.found("new"), Found::Missing);
    }

    #[test]
    fn strings_are_quoted_for_influxql_and_delete_predicates() {
        assert_eq!(quote_string("o'k", '\''), "'o\\'k'");
        assert_eq!(quote_string(r#"a"b\"#, '"'), r#""a\"b\\""#);
    }
}
