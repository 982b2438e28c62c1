//! A batch as one WriteRecords request: what every record of the request
//! shares goes once in CommonAttributes (the Version, the shared
//! dimensions, the time unit, and for multi-measure records the measure
//! name and type), so the body is smaller to build, sign and send. Times
//! use the coarsest unit that keeps them exact.

use aws_sdk_timestreamwrite::types::{Dimension, MeasureValue, MeasureValueType, Record, TimeUnit};

use crate::model::{Layout, MeasureType};
use crate::record::Catalog;
use crate::record::Value;
use crate::targets::{Item, TableSpec};

/// What building requests needs from the catalogue and the scenario,
/// owned, to share with the sending tasks.
pub(crate) struct Shapes {
    pub version: i64,
    pub tables: Vec<TableShape>,
}

pub(crate) struct TableShape {
    pub layout: Layout,
    /// The multi-measure record's measure name.
    pub measure_name: String,
    /// By series rank.
    pub dims: Vec<Vec<(String, String)>>,
    /// By measure id.
    pub measures: Vec<(String, MeasureValueType)>,
}

impl Shapes {
    pub(crate) fn new(catalog: &Catalog, tables: &[TableSpec], version: i64) -> Shapes {
        Shapes {
            version,
            tables: catalog
                .tables
                .iter()
                .zip(tables)
                .map(|(t, spec)| TableShape {
                    layout: spec.layout,
                    measure_name: spec.measure_name.clone(),
                    dims: t.series.iter().map(|s| s.dims.clone()).collect(),
                    measures: t
                        .measures
                        .iter()
                        .map(|(name, ty)| (name.clone(), value_type(*ty)))
                        .collect(),
                })
                .collect(),
        }
    }
}

impl Shapes {
    /// The request's CommonAttributes (the Version and the dimensions every
    /// record shares) and records, for `items`, a non-empty slice of a
    /// batch's records of one table.
    pub(crate) fn request(&self, table: u16, items: &[Item]) -> (Record, Vec<Record>) {
        let table = &self.tables[table as usize];
        let first = &table.dims[items[0].origin.series as usize];
        let mut shared: Vec<bool> = vec![true; first.len()];
        let mut last_series = items[0].origin.series;
        for item in items {
            if item.origin.series == last_series {
                continue;
            }
            last_series = item.origin.series;
            let dims = &table.dims[item.origin.series as usize];
            for (i, d) in first.iter().enumerate() {
                shared[i] &= dims.contains(d);
            }
        }
        let shared: Vec<&(String, String)> = first
            .iter()
            .zip(&shared)
            .filter(|(_, s)| **s)
            .map(|(d, _)| d)
            .collect();
        let mut common = Record::builder().version(self.version);
        for (name, value) in &shared {
            common = common.dimensions(dimension(name, value));
        }
        // What every record shares goes once in CommonAttributes: a smaller
        // body to build, sign and send. Times in one unit share it.
        let unit = unit_of(items[0].origin.time);
        let one_unit = items.iter().all(|i| unit_of(i.origin.time) == unit);
        if one_unit {
            common = common.time_unit(unit.clone());
        }
        if table.layout == Layout::Multi {
            common = common
                .measure_name(&table.measure_name)
                .measure_value_type(MeasureValueType::Multi);
        }
        let records = items
            .iter()
            .map(|item| {
                let dims = &table.dims[item.origin.series as usize];
                let mut record = Record::builder().time(time_text(item.origin.time));
                if !one_unit {
                    record = record.time_unit(unit_of(item.origin.time));
                }
                for d in dims.iter().filter(|d| !shared.contains(d)) {
                    record = record.dimensions(dimension(&d.0, &d.1));
                }
                match table.layout {
                    Layout::Multi => record.set_measure_values(Some(
                        item.measures
                            .iter()
                            .map(|(m, v)| {
                                let (name, ty) = &table.measures[*m as usize];
                                MeasureValue::builder()
                                    .name(name)
                                    .value(value_text(v))
                                    .r#type(ty.clone())
                                    .build()
                                    .expect("name, value and type are set")
                            })
                            .collect(),
                    )),
                    Layout::Single => {
                        let (m, v) = &item.measures[0];
                        let (name, ty) = &table.measures[*m as usize];
                        record
                            .measure_name(name)
                            .measure_value(value_text(v))
                            .measure_value_type(ty.clone())
                    }
                }
                .build()
            })
            .collect();
        (common.build(), records)
    }
}

fn dimension(name: &str, value: &str) -> Dimension {
    Dimension::builder()
        .name(name)
        .value(value)
        .build()
        .expect("name and value are set")
}

/// A measure value as Timestream takes it: the text of the number or
/// boolean, as the JSON lines write it, or the string itself. Written
/// straight to a `String`, so there is no byte buffer to convert back.
fn value_text(value: &Value) -> String {
    match value {
        Value::Varchar(s) => s.to_string(),
        Value::Bigint(v) => v.to_string(),
        Value::Boolean(b) => b.to_string(),
        // Shortest round-trip, as `record::write_f64`; the stream holds no
        // NaN or infinities (the compiler refuses them), JSON's `null` else.
        Value::Double(v) if v.is_finite() => ryu::Buffer::new().format_finite(*v).to_string(),
        Value::Double(_) => "null".to_string(),
    }
}

fn value_type(ty: MeasureType) -> MeasureValueType {
    match ty {
        MeasureType::Double => MeasureValueType::Double,
        MeasureType::Bigint => MeasureValueType::Bigint,
        MeasureType::Boolean => MeasureValueType::Boolean,
        MeasureType::Varchar => MeasureValueType::Varchar,
    }
}

/// The coarsest unit that keeps the instant exact.
fn unit_of(nanos: i64) -> TimeUnit {
    if nanos % 1_000_000 == 0 {
        TimeUnit::Milliseconds
    } else if nanos % 1_000 == 0 {
        TimeUnit::Microseconds
    } else {
        TimeUnit::Nanoseconds
    }
}

/// The instant in [`unit_of`] units.
fn time_text(nanos: i64) -> String {
    match unit_of(nanos) {
        TimeUnit::Milliseconds => (nanos / 1_000_000).to_string(),
        TimeUnit::Microseconds => (nanos / 1_000).to_string(),
        _ => nanos.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_sent_as_the_json_lines_write_it() {
        for value in [
            Value::Double(0.1),
            Value::Double(-1e300),
            Value::Double(3.0),
            Value::Double(f64::NAN),
            Value::Bigint(i64::MIN),
            Value::Boolean(true),
            Value::Boolean(false),
        ] {
            let mut json = Vec::new();
            value.write_json(&mut json);
            assert_eq!(value_text(&value).as_bytes(), json, "{value:?}");
        }
        assert_eq!(value_text(&Value::Varchar("a \"b\"".into())), "a \"b\"");
    }
}
