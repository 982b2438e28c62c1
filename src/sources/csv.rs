//! CSV files with a header row: columns are looked up by name once, then
//! each record is read into one reused `StringRecord` (UTF-8 checked once a
//! row) and decoded by index.

use std::path::Path;

use ::csv::{ErrorKind, ReaderBuilder, StringRecord};

use super::{BUFFER_BYTES, CellError, DataError, Decoder, Hashed, Rows, SourceRow, value};
use crate::diagnostics::suggest;
use crate::validate::model::{MeasureDef, MeasureType, Scalar, SourceKind, SourceMeasures};

/// Reads one CSV file (a `csv` source, or one result file of an export).
pub(super) fn read_file(
    path: &Path,
    decoder: &Decoder,
    hasher: &mut blake3::Hasher,
    rows: &mut Rows,
) -> Result<(), DataError> {
    let mut reader = ReaderBuilder::new()
        .has_headers(true)
        // Field counts are checked here, to report them as bad rows.
        .flexible(true)
        .buffer_capacity(BUFFER_BYTES)
        .from_reader(Hashed::open(path, hasher)?);
    let header = reader
        .byte_headers()
        .map_err(|e| csv_failure(path, e))?
        .iter()
        .map(|name| String::from_utf8_lossy(name).into_owned())
        .collect::<Vec<_>>();
    let table = Table::new(path, header, decoder)?;
    let mut record = StringRecord::new();
    // One row, refilled for every record: its strings keep their capacity.
    let mut row = SourceRow {
        time: crate::lang::literal::Instant(0),
        dimensions: Vec::new(),
        measures: Vec::new(),
    };
    loop {
        let decoded = match reader.read_record(&mut record) {
            Ok(true) => {
                let line = record.position().map_or(0, |p| p.line());
                table.decode(&record, line, decoder, &mut row)
            }
            Ok(false) => break,
            // The reader has moved past the record: a bad row like any other.
            Err(e) if matches!(e.kind(), ErrorKind::Utf8 { .. }) => Err(table.not_utf8(&e)),
            Err(e) => return Err(csv_failure(path, e)),
        };
        rows.take(decoded.map(|()| &row))?;
    }
    Ok(())
}

/// A file's header resolved against the source: column indexes by role.
struct Table<'a> {
    path: &'a Path,
    header: Vec<String>,
    time: usize,
    dimensions: Vec<usize>,
    measures: Measures<'a>,
}

enum Measures<'a> {
    Wide(Vec<(usize, &'a MeasureDef)>),
    Long {
        name: usize,
        value: usize,
        ty: MeasureType,
    },
}

impl<'a> Table<'a> {
    fn new(
        path: &'a Path,
        header: Vec<String>,
        decoder: &'a Decoder,
    ) -> Result<Table<'a>, DataError> {
        let source = decoder.source;
        let mut missing = Vec::new();
        let mut find = |name: &str| {
            // An exact match first; a header padded with spaces still matches.
            let found = header
                .iter()
                .position(|h| h == name)
                .or_else(|| header.iter().position(|h| h.trim() == name));
            if found.is_none() && !missing.contains(&name.to_string()) {
                missing.push(name.to_string());
            }
            found.unwrap_or(0)
        };
        let time = find(&source.time_column);
        let dimensions = source.dimensions.iter().map(|d| find(d)).collect();
        let measures = match &source.measures {
            SourceMeasures::Wide(defs) => {
                Measures::Wide(defs.iter().map(|def| (find(&def.name), def)).collect())
            }
            SourceMeasures::Long {
                name_column,
                value_column,
                ty,
            } => Measures::Long {
                name: find(name_column),
                value: find(value_column),
                ty: *ty,
            },
        };
        if !missing.is_empty() {
            return Err(missing_columns(path, &header, &missing, source.kind));
        }
        Ok(Table {
            path,
            header,
            time,
            dimensions,
            measures,
        })
    }

    fn decode(
        &self,
        record: &StringRecord,
        line: u64,
        decoder: &Decoder,
        out: &mut SourceRow,
    ) -> Result<(), DataError> {
        if record.len() != self.header.len() {
            return Err(DataError {
                file: self.path.to_path_buf(),
                line,
                column: None,
                reason: format!(
                    "the row has {} fields but the header has {}",
                    record.len(),
                    self.header.len()
                ),
                help: Some(
                    "every row needs one field per header column; quote fields that contain a comma"
                        .into(),
                ),
            });
        }
        let at = |column: usize, e: CellError| {
            DataError::in_cell(self.path, line, &self.header[column], e)
        };
        let text = |column: usize| record.get(column).unwrap_or_default();
        let time_text = text(self.time);
        if time_text.trim_ascii().is_empty() {
            return Err(at(self.time, empty_time()));
        }
        let time = decoder
            .time
            .parse(time_text)
            .map_err(|e| at(self.time, e))?;
        out.time = time;
        out.dimensions.resize(self.dimensions.len(), String::new());
        for (slot, &c) in out.dimensions.iter_mut().zip(&self.dimensions) {
            slot.clear();
            slot.push_str(text(c));
        }
        let mut kept = 0;
        match &self.measures {
            Measures::Wide(columns) => {
                for &(column, def) in columns {
                    let cell = text(column);
                    if is_empty(def.ty, cell) {
                        continue;
                    }
                    let value = value::parse_text(def.ty, cell).map_err(|e| at(column, e))?;
                    set_measure(&mut out.measures, kept, &def.name, value);
                    kept += 1;
                }
            }
            Measures::Long { name, value, ty } => {
                let (cell, measure) = (text(*value), text(*name));
                if measure.is_empty() && !is_empty(*ty, cell) {
                    return Err(at(*name, empty_measure_name()));
                }
                if !is_empty(*ty, cell) {
                    let parsed = value::parse_text(*ty, cell).map_err(|e| at(*value, e))?;
                    set_measure(&mut out.measures, kept, measure, parsed);
                    kept += 1;
                }
            }
        }
        out.measures.truncate(kept);
        Ok(())
    }

    /// A record with bytes that are not UTF-8, at the first such field.
    fn not_utf8(&self, error: &::csv::Error) -> DataError {
        let line = error.position().map_or(0, |p| p.line());
        let column = match error.kind() {
            ErrorKind::Utf8 { err, .. } => self.header.get(err.field()).cloned(),
            _ => None,
        };
        DataError {
            file: self.path.to_path_buf(),
            line,
            column,
            reason: "the cell is not UTF-8 text".into(),
            help: Some("save the file as UTF-8".into()),
        }
    }
}

/// An empty cell is no value; for numbers and booleans, so is one of spaces.
fn is_empty(ty: MeasureType, text: &str) -> bool {
    match ty {
        MeasureType::Varchar => text.is_empty(),
        _ => text.trim_ascii().is_empty(),
    }
}

pub(super) fn empty_time() -> CellError {
    CellError::new(
        "the time is empty".into(),
        "every row needs a time; remove the row, or allow bad rows to skip it",
    )
}

pub(super) fn empty_measure_name() -> CellError {
    CellError::new(
        "the measure name is empty but the row has a value".into(),
        "long rows name their measure in the `measures from` column",
    )
}

fn missing_columns(
    path: &Path,
    header: &[String],
    missing: &[String],
    kind: SourceKind,
) -> DataError {
    if header.is_empty() || header.iter().all(|h| h.is_empty()) {
        return DataError::file_level(
            path,
            "the file has no header row naming its columns".into(),
            Some(header_help(kind).into()),
        );
    }
    const LISTED: usize = 20;
    let mut listed = header
        .iter()
        .take(LISTED)
        .map(|h| format!("`{h}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if header.len() > LISTED {
        listed.push_str(&format!(" and {} more", header.len() - LISTED));
    }
    let first = &missing[0];
    let mut reason = format!("column `{first}` is not in the header");
    if missing.len() > 1 {
        let others = missing[1..]
            .iter()
            .map(|m| format!("`{m}`"))
            .collect::<Vec<_>>()
            .join(", ");
        reason.push_str(&format!(" (nor is {others})"));
    }
    reason.push_str(&format!("; the header has {listed}"));
    let help = match suggest::closest(first, header.iter().map(String::as_str)) {
        Some(near) => format!("did you mean `{near}`? {}", header_help(kind)),
        None => header_help(kind).to_string(),
    };
    DataError {
        file: path.to_path_buf(),
        line: 1,
        column: Some(first.clone()),
        reason,
        help: Some(help),
    }
}

fn header_help(kind: SourceKind) -> &'static str {
    match kind {
        SourceKind::Unload => {
            "the source's `time`, `dimensions` and `measures` name columns of the first row; \
             Timestream writes that header only when UNLOAD says `include_header = 'true'`"
        }
        _ => "the source's `time`, `dimensions` and `measures` name columns of the first row",
    }
}

fn csv_failure(path: &Path, error: ::csv::Error) -> DataError {
    let line = error.position().map_or(0, |p| p.line());
    match error.kind() {
        ::csv::ErrorKind::Io(e) => DataError::cannot_read(path, line, e),
        _ => DataError {
            file: path.to_path_buf(),
            line,
            column: None,
            reason: format!("the file is not readable CSV: {error}"),
            help: None,
        },
    }
}

/// Puts `(name, value)` at `index`, reusing the name's buffer when it is
/// already there (a wide row's names repeat on every row).
fn set_measure(measures: &mut Vec<(String, Scalar)>, index: usize, name: &str, value: Scalar) {
    match measures.get_mut(index) {
        Some(slot) => {
            if slot.0 != name {
                slot.0.clear();
                slot.0.push_str(name);
            }
            slot.1 = value;
        }
        None => measures.push((name.to_owned(), value)),
    }
}
