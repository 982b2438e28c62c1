//! What Timestream refuses about a record whatever its time, measured the
//! way its Developer Guide counts (quotas page, "Service limits"; "Metering
//! and pricing", "Writes"): a record's size is 8 bytes of time, the UTF-8
//! bytes of each dimension's name and value and of each measure name, and
//! each value's (1 byte for a boolean, 8 for a bigint or double, the UTF-8
//! bytes of a varchar). A multi-measure record's own measure name counts as
//! a measure name.

use super::encode::TableShape;
use crate::model::Layout;
use crate::record::Value;
use crate::targets::{Item, Refusal};

/// "Maximum record size": 2 KB.
pub(crate) const MAX_RECORD_BYTES: usize = 2_048;
/// "Dimension name dimension value pair size per series": 2 KB.
pub(crate) const MAX_SERIES_DIMENSION_BYTES: usize = 2_048;
/// "Measures per multi-measure record".
pub(crate) const MAX_MEASURES_PER_RECORD: usize = 256;
/// "Measure value size per multi-measure record".
pub(crate) const MAX_MULTI_VALUE_BYTES: usize = 2_048;
/// A record's time.
const TIME_BYTES: usize = 8;

/// The first limit the record breaks, if any: the series' dimensions, the
/// measures of a multi-measure record and their values, the record's size.
pub(crate) fn check(table: &TableShape, item: &Item) -> Option<Refusal> {
    let dims = table
        .dims
        .get(item.origin.series as usize)
        .map_or(0, |dims| dims.iter().map(|(n, v)| n.len() + v.len()).sum());
    if dims > MAX_SERIES_DIMENSION_BYTES {
        return Some(Refusal {
            measure: None,
            why: format!(
                "its series' dimension names and values take {dims} bytes, more than Timestream's 2 KB ({MAX_SERIES_DIMENSION_BYTES} bytes)"
            ),
            fix: "use shorter or fewer dimensions (names and values)".into(),
        });
    }
    let multi = table.layout == Layout::Multi;
    if multi && item.measures.len() > MAX_MEASURES_PER_RECORD {
        return Some(Refusal {
            measure: None,
            why: format!(
                "a multi-measure record of {} measures, more than Timestream's {MAX_MEASURES_PER_RECORD}",
                item.measures.len()
            ),
            fix: "use `layout single` in the table's declaration, or write fewer measures into the table".into(),
        });
    }
    let mut names = 0;
    let mut values = 0;
    for (m, value) in &item.measures {
        names += table.measures.get(*m as usize).map_or(0, |(n, _)| n.len());
        values += value_bytes(value);
    }
    if multi && values > MAX_MULTI_VALUE_BYTES {
        return Some(Refusal {
            measure: None,
            why: format!(
                "its measure values take {values} bytes, more than Timestream's {MAX_MULTI_VALUE_BYTES} for a multi-measure record"
            ),
            fix: "use `layout single` in the table's declaration, or shorter varchar values".into(),
        });
    }
    let own_name = if multi { table.measure_name.len() } else { 0 };
    let size = TIME_BYTES + dims + own_name + names + values;
    (size > MAX_RECORD_BYTES).then(|| Refusal {
        measure: None,
        why: format!(
            "the record takes {size} bytes, more than Timestream's 2 KB ({MAX_RECORD_BYTES} bytes)"
        ),
        fix: if multi {
            "use shorter varchar values or dimensions, or `layout single` in the table's declaration (one record a measure)".into()
        } else {
            "use shorter varchar values or dimensions".into()
        },
    })
}

/// A value's bytes as Timestream counts them.
fn value_bytes(value: &Value) -> usize {
    match value {
        Value::Boolean(_) => 1,
        Value::Bigint(_) | Value::Double(_) => 8,
        Value::Varchar(s) => s.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::targets::Origin;
    use aws_sdk_timestreamwrite::types::MeasureValueType;

    fn table(layout: Layout, dims: Vec<(String, String)>, measures: usize) -> TableShape {
        TableShape {
            layout,
            measure_name: "metrics".into(),
            dims: vec![dims],
            measures: (0..measures)
                .map(|i| (format!("m{i}"), MeasureValueType::Varchar))
                .collect(),
        }
    }

    fn item(values: Vec<Value>) -> Item {
        Item {
            origin: Origin {
                time: 0,
                delay: 0,
                series: 0,
                line: 1,
            },
            measures: values
                .into_iter()
                .enumerate()
                .map(|(i, v)| (i as u16, v))
                .collect(),
        }
    }

    fn text(bytes: usize) -> Value {
        Value::Varchar("x".repeat(bytes).into())
    }

    #[test]
    fn a_record_is_measured_as_timestream_counts_it() {
        // The metering guide's example: 83 bytes.
        let dims = vec![
            ("region".into(), "us-east-1".into()),
            ("az".into(), "1d".into()),
            ("vpc".into(), "vpc-1a2b3c4d".into()),
            ("hostname".into(), "host-24Gju".into()),
        ];
        let mut single = table(Layout::Single, dims.clone(), 1);
        single.measures[0].0 = "cpu_utilization".into();
        assert_eq!(check(&single, &item(vec![Value::Double(35.0)])), None);
        // Single layout: 8 + 2 (dim) + 2 (m0) + value: 2036 bytes of text
        // fill 2048 exactly; one more is refused.
        let one_dim = vec![("d".into(), "v".into())];
        let single = table(Layout::Single, one_dim.clone(), 1);
        assert_eq!(check(&single, &item(vec![text(2_036)])), None);
        let refused = check(&single, &item(vec![text(2_037)])).unwrap();
        assert!(
            refused
                .why
                .starts_with("the record takes 2049 bytes, more than"),
            "{refused:?}"
        );
        // Multi layout counts the record's own measure name too.
        let multi = table(Layout::Multi, one_dim, 2);
        let fits = 2_048 - 8 - 2 - 7 - 4 - 1;
        assert_eq!(
            check(&multi, &item(vec![text(fits), Value::Boolean(true)])),
            None
        );
        let refused = check(&multi, &item(vec![text(fits + 1), Value::Boolean(true)])).unwrap();
        assert!(
            refused.why.starts_with("the record takes 2049 bytes"),
            "{refused:?}"
        );
    }

    #[test]
    fn dimensions_measures_and_multi_values_have_their_own_limits() {
        let long = vec![("d".to_string(), "v".repeat(2_048))];
        let refused = check(
            &table(Layout::Single, long, 1),
            &item(vec![Value::Bigint(1)]),
        )
        .unwrap();
        assert!(
            refused
                .why
                .starts_with("its series' dimension names and values take 2049 bytes"),
            "{refused:?}"
        );
        let multi = table(Layout::Multi, Vec::new(), 300);
        let refused = check(&multi, &item(vec![Value::Boolean(true); 257])).unwrap();
        assert!(
            refused
                .why
                .starts_with("a multi-measure record of 257 measures"),
            "{refused:?}"
        );
        assert_eq!(check(&multi, &item(vec![Value::Boolean(true); 256])), None);
        let refused = check(&multi, &item(vec![text(1_025), text(1_024)])).unwrap();
        assert!(
            refused
                .why
                .starts_with("its measure values take 2049 bytes"),
            "{refused:?}"
        );
    }
}
