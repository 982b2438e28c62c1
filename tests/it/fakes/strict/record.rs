//! One record of a WriteRecords request: CommonAttributes merged in, every
//! field checked. A record that fails here fails the whole request with a
//! ValidationException.
//!
//! - CommonAttributes apply to every record; a record's own fields win, and
//!   its dimensions are the union of both (API_WriteRecords);
//! - `MeasureValueType` defaults to DOUBLE, `TimeUnit` to MILLISECONDS,
//!   `Version` to 1, and a Version below 1 is a ValidationException: the
//!   service model's member documentation of `Record`;
//! - MULTI records carry `MeasureValues` and no `MeasureValue`, other types
//!   the reverse (the service model's `MeasureValues` documentation);
//! - "Invalid time for record.": a real ValidationException (boto/boto3#4239);
//! - the Coral "1 validation error detected: ..." wording for enum members
//!   as reported in real errors; the other texts are this endpoint's own.

use super::store::SECOND_NS;
use super::wire::{self, ApiError, Text};
use super::{StoredValue, ValueKind};

/// One record with CommonAttributes merged in and its fields checked.
pub(super) struct Incoming<'r> {
    /// Sorted by name, one value a name.
    pub dimensions: Vec<(&'r str, &'r str)>,
    pub measure_name: &'r str,
    pub value: IncomingValue<'r>,
    pub time_ns: i64,
    pub version: i64,
}

pub(super) enum IncomingValue<'r> {
    Single(ValueKind, &'r str),
    /// Sorted by name.
    Multi(Vec<(&'r str, ValueKind, &'r str)>),
}

impl<'r> Incoming<'r> {
    pub fn new(
        index: usize,
        record: &'r wire::Record,
        common: &'r wire::Record,
    ) -> Result<Incoming<'r>, ApiError> {
        let position = index + 1; // Coral numbers list members from 1
        let invalid = |what: String| ApiError::validation(format!("Record {index}: {what}"));
        let mut dimensions: Vec<(&str, &str)> = Vec::new();
        let record_dimensions = record.dimensions.iter().flatten();
        // The record's own dimensions first, so that they win over common ones.
        for dimension in record_dimensions.chain(common.dimensions.iter().flatten()) {
            if dimension.name.is_empty() {
                return Err(invalid("a dimension name is empty.".into()));
            }
            if dimension.value.is_empty() {
                return Err(invalid(format!(
                    "dimension {} has an empty value.",
                    &*dimension.name
                )));
            }
            if let Some(kind) = &dimension.dimension_value_type
                && &**kind != "VARCHAR"
            {
                return Err(enum_error(
                    kind,
                    &format!("records.{position}.member.dimensions.member.dimensionValueType"),
                    "VARCHAR",
                ));
            }
            if !dimensions.iter().any(|(name, _)| *name == &*dimension.name) {
                dimensions.push((&dimension.name, &dimension.value));
            }
        }
        dimensions.sort_unstable();
        let measure_name =
            pick(&record.measure_name, &common.measure_name).map_or("", |name| &**name);
        if measure_name.is_empty() {
            return Err(invalid("MeasureName is missing or empty.".into()));
        }
        let kind = pick(&record.measure_value_type, &common.measure_value_type)
            .map_or("DOUBLE", |kind| &**kind);
        let scalar = pick(&record.measure_value, &common.measure_value);
        let multi = pick(&record.measure_values, &common.measure_values);
        let value = if kind == "MULTI" {
            if scalar.is_some() {
                return Err(invalid(
                    "a MULTI record must not have a MeasureValue.".into(),
                ));
            }
            let Some(values) = multi.filter(|values| !values.is_empty()) else {
                return Err(invalid("a MULTI record needs MeasureValues.".into()));
            };
            let mut measures = Vec::with_capacity(values.len());
            for value in values {
                if value.name.is_empty() {
                    return Err(invalid("a MeasureValues name is empty.".into()));
                }
                let kind = scalar_kind(&value.kind, position)?;
                check_value(kind, &value.value).map_err(invalid)?;
                measures.push((&*value.name, kind, &*value.value));
            }
            measures.sort_unstable_by_key(|&(name, _, _)| name);
            if measures.windows(2).any(|pair| pair[0].0 == pair[1].0) {
                return Err(invalid("MeasureValues repeat a name.".into()));
            }
            IncomingValue::Multi(measures)
        } else {
            let kind = scalar_kind(kind, position)?;
            if multi.is_some() {
                return Err(invalid(format!(
                    "a {kind:?} record must not have MeasureValues."
                )));
            }
            let Some(text) = scalar else {
                return Err(invalid("MeasureValue is missing.".into()));
            };
            check_value(kind, text).map_err(invalid)?;
            IncomingValue::Single(kind, text)
        };
        let version = record.version.or(common.version).unwrap_or(1);
        if version < 1 {
            return Err(invalid(format!(
                "Version must be 1 or greater, not {version}."
            )));
        }
        Ok(Incoming {
            dimensions,
            measure_name,
            value,
            time_ns: time_ns(
                pick(&record.time, &common.time),
                pick(&record.time_unit, &common.time_unit),
                position,
            )?,
            version,
        })
    }
}

impl IncomingValue<'_> {
    pub fn to_stored(&self) -> StoredValue {
        match self {
            IncomingValue::Single(kind, text) => StoredValue::Single(*kind, (*text).to_owned()),
            IncomingValue::Multi(measures) => StoredValue::Multi(
                measures
                    .iter()
                    .map(|&(name, kind, text)| (name.to_owned(), (kind, text.to_owned())))
                    .collect(),
            ),
        }
    }

    /// Timestream stores typed values, so "1.50" and "1.5" are the same DOUBLE.
    pub fn same_as(&self, stored: &StoredValue) -> bool {
        match (self, stored) {
            (IncomingValue::Single(kind, text), StoredValue::Single(stored_kind, stored_text)) => {
                same_scalar(*kind, text, *stored_kind, stored_text)
            }
            (IncomingValue::Multi(measures), StoredValue::Multi(stored)) => {
                measures.len() == stored.len()
                    && measures.iter().zip(stored).all(
                        |(&(name, kind, text), (stored_name, (stored_kind, stored_text)))| {
                            name == stored_name
                                && same_scalar(kind, text, *stored_kind, stored_text)
                        },
                    )
            }
            _ => false,
        }
    }
}

fn same_scalar(kind: ValueKind, text: &str, stored_kind: ValueKind, stored_text: &str) -> bool {
    kind == stored_kind
        && match kind {
            ValueKind::Double => text.parse::<f64>().ok() == stored_text.parse::<f64>().ok(),
            ValueKind::Bigint | ValueKind::Timestamp => {
                text.parse::<i64>().ok() == stored_text.parse::<i64>().ok()
            }
            ValueKind::Boolean | ValueKind::Varchar => text == stored_text,
        }
}

fn check_value(kind: ValueKind, text: &str) -> Result<(), String> {
    let valid = match kind {
        ValueKind::Double => text.parse::<f64>().is_ok_and(f64::is_finite),
        ValueKind::Bigint | ValueKind::Timestamp => text.parse::<i64>().is_ok(),
        ValueKind::Boolean => text == "true" || text == "false",
        ValueKind::Varchar => true,
    };
    match valid {
        true => Ok(()),
        false => Err(format!("measure value '{text}' is not a valid {kind:?}.")),
    }
}

fn scalar_kind(kind: &str, position: usize) -> Result<ValueKind, ApiError> {
    Ok(match kind {
        "DOUBLE" => ValueKind::Double,
        "BIGINT" => ValueKind::Bigint,
        "BOOLEAN" => ValueKind::Boolean,
        "VARCHAR" => ValueKind::Varchar,
        "TIMESTAMP" => ValueKind::Timestamp,
        other => {
            return Err(enum_error(
                other,
                &format!("records.{position}.member.measureValueType"),
                "DOUBLE, BIGINT, VARCHAR, BOOLEAN, TIMESTAMP, MULTI",
            ));
        }
    })
}

fn time_ns(time: Option<&Text>, unit: Option<&Text>, position: usize) -> Result<i64, ApiError> {
    let invalid = || ApiError::validation("Invalid time for record.");
    let value: i64 = time.ok_or_else(invalid)?.parse().map_err(|_| invalid())?;
    let factor = match unit.map_or("MILLISECONDS", |unit| &**unit) {
        "MILLISECONDS" => 1_000_000,
        "SECONDS" => SECOND_NS,
        "MICROSECONDS" => 1_000,
        "NANOSECONDS" => 1,
        other => {
            return Err(enum_error(
                other,
                &format!("records.{position}.member.timeUnit"),
                "MILLISECONDS, SECONDS, MICROSECONDS, NANOSECONDS",
            ));
        }
    };
    match value.checked_mul(factor) {
        Some(time_ns) if value >= 0 => Ok(time_ns),
        _ => Err(invalid()),
    }
}

/// The record's own field, or else the common attribute.
fn pick<'r, T>(record: &'r Option<T>, common: &'r Option<T>) -> Option<&'r T> {
    record.as_ref().or(common.as_ref())
}

/// Coral's wording for a value outside an enum, as in "1
/// validation error detected: Value 'X' at 'records.1.member.dimensions.1.
/// member.dimensionValueType' failed to satisfy constraint: ...".
fn enum_error(value: &str, path: &str, set: &str) -> ApiError {
    ApiError::validation(format!(
        "1 validation error detected: Value '{value}' at '{path}' failed to satisfy constraint: \
         Member must satisfy enum value set: [{set}]"
    ))
}
