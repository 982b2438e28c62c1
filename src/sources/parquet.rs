//! An UNLOAD export's Parquet result files (`format = 'PARQUET'`): rows
//! read a row group at a time through the `parquet` crate's record API,
//! each cell turned into the text a CSV export holds, then decoded by the
//! same table as CSV rows, so both formats give the same rows.
//!
//! Parquet is read from its footer, not front to back, so the file's bytes
//! are hashed in one pass of their own before it is parsed.

use std::fs::File;
use std::io;
use std::path::Path;

use ::csv::StringRecord;
use ::parquet::basic::{LogicalType, TimeUnit};
use ::parquet::file::reader::{FileReader, SerializedFileReader};
use ::parquet::record::Field;
use chrono::DateTime;

use super::csv::{Columns, Layout, Table, check_header};
use super::{DataError, Decoder, Hashed, Rows, SourceRow};

/// Reads one Parquet result file; `line` in its errors is the row number.
pub(super) fn read_file(
    path: &Path,
    layout: Layout,
    decoder: &Decoder,
    hasher: &mut blake3::Hasher,
    rows: &mut Rows,
) -> Result<(), DataError> {
    let mut hashed = Hashed::open(path, hasher)?;
    io::copy(&mut hashed, &mut io::sink()).map_err(|e| DataError::cannot_read(path, 0, &e))?;
    let file = File::open(path).map_err(|e| DataError::cannot_open(path, &e))?;
    let reader = SerializedFileReader::new(file).map_err(|e| not_parquet(path, &e))?;
    let schema = reader.metadata().file_metadata().schema_descr_ptr();
    let fields = schema.root_schema().get_fields();
    let names: Vec<String> = fields.iter().map(|f| f.name().to_string()).collect();
    // Timestamps without a converted type (nanoseconds) read as plain longs.
    let units: Vec<Option<TimeUnit>> = fields
        .iter()
        .map(|f| match f.get_basic_info().logical_type_ref() {
            Some(LogicalType::Timestamp(timestamp)) => Some(timestamp.unit),
            _ => None,
        })
        .collect();
    if let Columns::Metadata { names: known, file } = layout.columns {
        check_header(path, &names, known, file)?;
    }
    let table = Table::new(path, names.clone(), layout, decoder)?;
    let mut record = StringRecord::new();
    let mut row = SourceRow {
        time: crate::lang::literal::Instant(0),
        dimensions: Vec::new(),
        measures: Vec::new(),
        repeated_local: None,
    };
    let iter = reader
        .get_row_iter(None)
        .map_err(|e| not_parquet(path, &e))?;
    for (index, parquet_row) in iter.enumerate() {
        let line = index as u64 + 1;
        let parquet_row = parquet_row.map_err(|e| DataError {
            line,
            ..not_parquet(path, &e)
        })?;
        record.clear();
        let mut bad = None;
        for (column, (_, field)) in parquet_row.get_column_iter().enumerate() {
            let unit = units.get(column).copied().flatten();
            match text(field, unit) {
                Ok(text) => record.push_field(&text),
                Err(kind) => {
                    record.push_field("");
                    bad.get_or_insert((column, kind));
                }
            }
        }
        let decoded = match bad {
            Some((column, kind)) => Err(DataError {
                file: path.to_path_buf(),
                line,
                column: names.get(column).cloned(),
                reason: format!("a Parquet {kind} cannot be read as a cell"),
                help: Some(
                    "select the column as text, a number, a boolean or a timestamp in the \
                     UNLOAD query"
                        .into(),
                ),
            }),
            None => table.decode(&record, line, decoder, &mut row),
        };
        rows.take(decoded.map(|()| &row))?;
    }
    Ok(())
}

/// The text a CSV export holds for `field`; a timestamp in Timestream's
/// form (`2024-02-01 05:33:50.000000000`, UTC). `Err` names a type that has
/// no such text.
fn text(field: &Field, unit: Option<TimeUnit>) -> Result<String, &'static str> {
    let nanos = |value: i64, per: i64| value.checked_mul(per);
    let timestamp = match (field, unit) {
        (Field::TimestampMillis(ms), _) => nanos(*ms, 1_000_000),
        (Field::TimestampMicros(us), _) => nanos(*us, 1_000),
        (Field::Long(n), Some(TimeUnit::NANOS)) => Some(*n),
        (Field::Long(us), Some(TimeUnit::MICROS)) => nanos(*us, 1_000),
        (Field::Long(ms), Some(TimeUnit::MILLIS)) => nanos(*ms, 1_000_000),
        (field, _) => {
            return match field {
                Field::Null => Ok(String::new()),
                Field::Bool(b) => Ok(b.to_string()),
                Field::Byte(n) => Ok(n.to_string()),
                Field::Short(n) => Ok(n.to_string()),
                Field::Int(n) => Ok(n.to_string()),
                Field::Long(n) => Ok(n.to_string()),
                Field::UByte(n) => Ok(n.to_string()),
                Field::UShort(n) => Ok(n.to_string()),
                Field::UInt(n) => Ok(n.to_string()),
                Field::ULong(n) => Ok(n.to_string()),
                Field::Float(x) => Ok(x.to_string()),
                Field::Double(x) => Ok(x.to_string()),
                Field::Str(s) => Ok(s.clone()),
                Field::Float16(_) => Err("half float"),
                Field::Decimal(_) => Err("decimal"),
                Field::Bytes(_) => Err("byte array"),
                Field::Date(_) => Err("date"),
                Field::TimeMillis(_) | Field::TimeMicros(_) => Err("time of day"),
                Field::TimestampMillis(_) | Field::TimestampMicros(_) => Err("timestamp"),
                Field::Group(_) => Err("group"),
                Field::ListInternal(_) => Err("list"),
                Field::MapInternal(_) => Err("map"),
            };
        }
    };
    timestamp
        .map(|n| {
            DateTime::from_timestamp_nanos(n)
                .format("%Y-%m-%d %H:%M:%S%.9f")
                .to_string()
        })
        .ok_or("timestamp beyond the year 2262")
}

fn not_parquet(path: &Path, error: &::parquet::errors::ParquetError) -> DataError {
    DataError::file_level(
        path,
        format!("the file is not readable Parquet: {error}"),
        Some(
            "a result file of a `format = 'PARQUET'` export is read as Parquet; \
             download it again (`aws s3 sync`)"
                .into(),
        ),
    )
}
