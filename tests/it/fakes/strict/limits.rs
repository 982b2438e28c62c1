//! Timestream's size and count limits on a record and a table, each
//! refusing a record with a RejectedRecord: API_RejectedRecord lists
//! "records with dimensions or measures that exceed the Timestream defined
//! limits" among the reasons a record is rejected.
//!
//! The numbers are the Quotas page's service limits ("Maximum record size",
//! "Dimension name dimension value pair size per series", "Measures per
//! multi-measure record", "Measure value size per multi-measure record",
//! "Measure names per table", "Unique measures across multi-measure records
//! per table"). A record's size is counted as the "Metering and pricing"
//! page's Writes section counts it: 8 bytes of time, the UTF-8 bytes of each
//! dimension name and value and of each measure name, and each value's (1
//! for a boolean, 8 for a bigint, double or timestamp, the UTF-8 bytes of a
//! varchar); a multi-measure record's own measure name counts as a measure
//! name. No real rejection text for these limits is published: each reason
//! below is this endpoint's own, naming the documented limit.

use super::ValueKind;
use super::record::{Incoming, IncomingValue};

pub(super) const MAX_RECORD_BYTES: usize = 2_048;
pub(super) const MAX_SERIES_DIMENSION_BYTES: usize = 2_048;
pub(super) const MAX_MEASURES_PER_RECORD: usize = 256;
pub(super) const MAX_MULTI_VALUE_BYTES: usize = 2_048;
pub(super) const MAX_MEASURE_NAMES_PER_TABLE: usize = 8_192;
pub(super) const MAX_MULTI_MEASURES_PER_TABLE: usize = 1_024;
const TIME_BYTES: usize = 8;

/// Why the record alone breaks a limit, if it does.
pub(super) fn record_problem(record: &Incoming) -> Option<String> {
    let dimensions: usize = record
        .dimensions
        .iter()
        .map(|(name, value)| name.len() + value.len())
        .sum();
    if dimensions > MAX_SERIES_DIMENSION_BYTES {
        return Some(format!(
            "Dimension name dimension value pair size per series exceeds the limit of \
             {MAX_SERIES_DIMENSION_BYTES} bytes: {dimensions} bytes."
        ));
    }
    let (names, values) = match &record.value {
        IncomingValue::Single(kind, text) => (0, value_bytes(*kind, text)),
        IncomingValue::Multi(measures) => {
            if measures.len() > MAX_MEASURES_PER_RECORD {
                return Some(format!(
                    "Measures per multi-measure record exceed the limit of \
                     {MAX_MEASURES_PER_RECORD}: {} measures.",
                    measures.len()
                ));
            }
            let names = measures.iter().map(|(name, _, _)| name.len()).sum();
            let values = measures
                .iter()
                .map(|&(_, kind, text)| value_bytes(kind, text))
                .sum();
            if values > MAX_MULTI_VALUE_BYTES {
                return Some(format!(
                    "Measure value size per multi-measure record exceeds the limit of \
                     {MAX_MULTI_VALUE_BYTES} bytes: {values} bytes."
                ));
            }
            (names, values)
        }
    };
    let size = TIME_BYTES + dimensions + record.measure_name.len() + names + values;
    (size > MAX_RECORD_BYTES).then(|| {
        format!("Maximum record size exceeds the limit of {MAX_RECORD_BYTES} bytes: {size} bytes.")
    })
}

/// The text for a record whose measure name would be one more than a
/// table holds.
pub(super) fn too_many_measure_names() -> String {
    format!("Measure names per table exceed the limit of {MAX_MEASURE_NAMES_PER_TABLE}.")
}

/// The text for a record whose measures would be more than the
/// multi-measure records of a table hold.
pub(super) fn too_many_multi_measures() -> String {
    format!(
        "Unique measures across multi-measure records per table exceed the limit of \
         {MAX_MULTI_MEASURES_PER_TABLE}."
    )
}

fn value_bytes(kind: ValueKind, text: &str) -> usize {
    match kind {
        ValueKind::Boolean => 1,
        ValueKind::Bigint | ValueKind::Double | ValueKind::Timestamp => 8,
        ValueKind::Varchar => text.len(),
    }
}
