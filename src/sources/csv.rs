//! CSV files, plain or gzip, in the source's dialect: columns are named by
//! a header row or by an export's metadata and looked up by name once, then
//! each record is read into one reused `StringRecord` (UTF-8 checked once a
//! row) and decoded by index. An export's Parquet rows are decoded here too.

use std::io::Read;
use std::path::Path;

use ::csv::{ByteRecord, ErrorKind, Position, ReaderBuilder, StringRecord};
use flate2::read::MultiGzDecoder;

use super::limits::MAX_RECORD_BYTES;
use super::lines::{LineIndex, RecordTooLong};
use super::{
    BUFFER_BYTES, CellError, DataError, Decoder, Hashed, Rows, SourceRow, open_regular, quoted,
    value,
};
use crate::diagnostics::suggest;
use crate::model::{MeasureDef, MeasureType, Scalar, SourceKind, SourceMeasures};

/// How a file's columns are named, besides what the source asks for.
#[derive(Clone, Copy)]
pub(super) enum Columns<'a> {
    /// The first row names them (a `csv` source).
    Header,
    /// An export without metadata beside its manifest: the first row must
    /// name them; `expected` is where the metadata was looked for.
    HeaderWithoutMetadata { expected: &'a Path },
    /// An export's metadata names them, in file order; a first row that
    /// looks like a header must agree with them and is skipped.
    Metadata { names: &'a [String], file: &'a Path },
}

/// One file's shape: how its columns are named, the columns every row of
/// it shares (an export's partition folders, after the file's own), and
/// whether its bytes are gzip.
#[derive(Clone, Copy)]
pub(super) struct Layout<'a> {
    pub columns: Columns<'a>,
    pub constants: &'a [(String, String)],
    pub gzip: bool,
    /// Where the file is opened when it is not the path its errors name:
    /// an export's result file, resolved and checked to lie inside the
    /// export (`unload::locate`).
    pub opened: Option<&'a Path>,
}

impl Layout<'_> {
    /// A plain CSV file with a header row.
    pub(super) const PLAIN: Layout<'static> = Layout {
        columns: Columns::Header,
        constants: &[],
        gzip: false,
        opened: None,
    };
}

/// Reads one CSV file (a `csv` source, or one result file of an export),
/// hashing its bytes as stored (before any gunzip).
pub(super) fn read_file(
    path: &Path,
    layout: Layout,
    decoder: &Decoder,
    hasher: &mut blake3::Hasher,
    rows: &mut Rows,
) -> Result<(), DataError> {
    let hashed = Hashed::open(path, layout.opened, hasher)?;
    let input: Box<dyn Read + '_> = if layout.gzip {
        Box::new(MultiGzDecoder::new(hashed))
    } else {
        Box::new(hashed)
    };
    let dialect = decoder.source.dialect;
    let mut reader = reader_for(dialect)
        .buffer_capacity(BUFFER_BYTES)
        .from_reader(LineIndex::new(input));
    let mut first = ByteRecord::new();
    let has_first = match reader.read_byte_record(&mut first) {
        Ok(has_first) => has_first,
        Err(e) => return Err(failure(path, layout.gzip, &mut reader, e)),
    };
    let first_line = settled(path, &mut reader, first.position())?.max(1);
    let lossy = |record: &ByteRecord| {
        record
            .iter()
            .map(|name| String::from_utf8_lossy(name).into_owned())
            .collect::<Vec<_>>()
    };
    // The first row still to decode as data, when it is not a header.
    let mut pending = None;
    let header = match layout.columns {
        Columns::Header | Columns::HeaderWithoutMetadata { .. } => lossy(&first),
        Columns::Metadata { names, file } => {
            let cells = lossy(&first);
            if has_first && looks_like_header(&cells, names) {
                check_header(path, &cells, names, file, decoder)?;
            } else if has_first {
                pending = Some(first);
            }
            names.to_vec()
        }
    };
    let table = Table::new(path, header, layout, decoder)?;
    let mut record = StringRecord::new();
    // One row, refilled for every record: its strings keep their capacity.
    let mut row = SourceRow {
        time: crate::lang::literal::Instant(0),
        dimensions: Vec::new(),
        measures: Vec::new(),
        repeated_local: None,
    };
    if let Some(first) = pending {
        let decoded = match StringRecord::from_byte_record(first) {
            Ok(first) => table.decode(&first, first_line, decoder, &mut row),
            Err(e) => Err(table.not_utf8_at(first_line, e.utf8_error().field())),
        };
        rows.take(decoded.map(|()| &row))?;
    }
    loop {
        let decoded = match reader.read_record(&mut record) {
            Ok(true) => {
                let line = settled(path, &mut reader, record.position())?;
                table.decode(&record, line, decoder, &mut row)
            }
            Ok(false) => break,
            // The reader has moved past the record: a bad row like any other.
            Err(e) if matches!(e.kind(), ErrorKind::Utf8 { .. }) => {
                let line = settled(path, &mut reader, e.position())?;
                Err(table.not_utf8(&e, line))
            }
            Err(e) => return Err(failure(path, layout.gzip, &mut reader, e)),
        };
        rows.take(decoded.map(|()| &row))?;
    }
    Ok(())
}

/// After a read that began at `position` (a record's, or a failed read's):
/// the line the record starts on (the csv crate's own count is where its
/// read began, before skipped line breaks), once its bytes are found within
/// `MAX_RECORD_BYTES`.
fn settled<R: Read>(
    path: &Path,
    reader: &mut ::csv::Reader<LineIndex<R>>,
    position: Option<&Position>,
) -> Result<u64, DataError> {
    let end = reader.position().byte();
    let index = reader.get_mut();
    let Some(position) = position else {
        index.record_ended(end);
        return Ok(0);
    };
    let line = index.line_at(position.byte());
    let long = index.record_bytes(end) > MAX_RECORD_BYTES;
    index.record_ended(end);
    if long {
        return Err(DataError::too_long(path, line));
    }
    Ok(line)
}

/// A read that failed: a record past `MAX_RECORD_BYTES` (`LineIndex`
/// stopped it), or what the csv crate says.
fn failure<R: Read>(
    path: &Path,
    gzip: bool,
    reader: &mut ::csv::Reader<LineIndex<R>>,
    error: ::csv::Error,
) -> DataError {
    if let ::csv::ErrorKind::Io(e) = error.kind()
        && RecordTooLong::is(e)
    {
        return DataError::too_long(path, reader.get_mut().line_being_read());
    }
    let line = error
        .position()
        .map_or(0, |p| reader.get_mut().line_at(p.byte()));
    csv_failure(path, gzip, error, line)
}

/// A CSV file's first row, read in `dialect` as `read_file` reads it;
/// `None` when the file is empty.
/// A CSV reader in the source's dialect. The first row is read as a row:
/// it may be a header or data. Field counts are checked by the caller, to
/// report them as bad rows.
fn reader_for(dialect: crate::model::CsvDialect) -> ReaderBuilder {
    let mut builder = ReaderBuilder::new();
    builder
        .has_headers(false)
        .delimiter(dialect.delimiter)
        .escape(dialect.escape)
        .double_quote(dialect.escape.is_none())
        .flexible(true);
    builder
}

pub(super) fn header(
    path: &Path,
    dialect: crate::model::CsvDialect,
) -> Result<Option<super::FileColumns>, DataError> {
    let file = open_regular(path, false)?;
    let mut reader = reader_for(dialect).from_reader(LineIndex::new(file));
    let mut first = ByteRecord::new();
    match reader.read_byte_record(&mut first) {
        Ok(true) => settled(path, &mut reader, first.position())?,
        Ok(false) => return Ok(None),
        Err(e) => return Err(failure(path, false, &mut reader, e)),
    };
    let names = first
        .iter()
        .map(|name| String::from_utf8_lossy(name).into_owned())
        .collect();
    Ok(Some(super::FileColumns::Header(names)))
}

/// A first row is taken for a header when any cell is the name the
/// metadata gives its column: a data row holding its own column's name is
/// not a case worth guessing about.
fn looks_like_header(cells: &[String], names: &[String]) -> bool {
    cells
        .iter()
        .zip(names)
        .any(|(cell, name)| cell.trim() == name)
}

/// A header row must name the metadata's columns, in its order.
pub(super) fn check_header(
    path: &Path,
    cells: &[String],
    names: &[String],
    metadata: &Path,
    decoder: &Decoder,
) -> Result<(), DataError> {
    let metadata_name = metadata.file_name().map_or_else(
        || metadata.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let help = Some(format!(
        "the result files and `{metadata_name}` must come from the same UNLOAD; \
         sync the whole export again"
    ));
    if let Some((index, (cell, name))) = cells
        .iter()
        .zip(names)
        .enumerate()
        .find(|(_, (cell, name))| cell.trim() != name.as_str())
    {
        return Err(DataError {
            file: path.to_path_buf(),
            line: 1,
            column: Some(name.clone()),
            // A first row is taken for a header when one cell is its
            // column's name: the others may be data, and a redacted
            // column's is not shown.
            reason: if decoder.redacts(name) {
                format!(
                    "the header's column {} is not `{name}`, the name the export's metadata \
                     gives it (the cell is not shown: the column is redacted)",
                    index + 1
                )
            } else {
                format!(
                    "the header's column {} is {} but the export's metadata names it `{name}`",
                    index + 1,
                    quoted(cell)
                )
            },
            help,
            refused: false,
        });
    }
    if cells.len() != names.len() {
        return Err(DataError {
            file: path.to_path_buf(),
            line: 1,
            column: None,
            reason: format!(
                "the header has {} columns but the export's metadata names {} in the file",
                cells.len(),
                names.len()
            ),
            help,
            refused: false,
        });
    }
    Ok(())
}

/// A file's header resolved against the source: column indexes by role.
/// Indexes past the file's own columns name the layout's constants.
pub(super) struct Table<'a> {
    path: &'a Path,
    /// The file's columns, then the constants' names.
    header: Vec<String>,
    file_columns: usize,
    constants: &'a [(String, String)],
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
    pub(super) fn new(
        path: &'a Path,
        mut header: Vec<String>,
        layout: Layout<'a>,
        decoder: &'a Decoder,
    ) -> Result<Table<'a>, DataError> {
        let source = decoder.source;
        let file_columns = header.len();
        header.extend(layout.constants.iter().map(|(name, _)| name.clone()));
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
            if let Columns::HeaderWithoutMetadata { expected } = layout.columns
                && !header[..file_columns]
                    .iter()
                    .any(|h| wanted(source, h.trim()))
            {
                return Err(missing_metadata(expected));
            }
            return Err(missing_columns(path, &header, &missing, source.kind));
        }
        Ok(Table {
            path,
            header,
            file_columns,
            constants: layout.constants,
            time,
            dimensions,
            measures,
        })
    }

    pub(super) fn decode(
        &self,
        record: &StringRecord,
        line: u64,
        decoder: &Decoder,
        out: &mut SourceRow,
    ) -> Result<(), DataError> {
        if record.len() != self.file_columns {
            return Err(DataError {
                file: self.path.to_path_buf(),
                line,
                column: None,
                reason: format!(
                    "the row has {} fields but the header has {}",
                    record.len(),
                    self.file_columns
                ),
                help: Some(
                    "every row needs one field per header column; quote fields that contain a comma"
                        .into(),
                ),
                refused: false,
            });
        }
        let at = |column: usize, e: CellError| {
            decoder.cell_error(self.path, line, &self.header[column], e)
        };
        let text = |column: usize| match column.checked_sub(self.file_columns) {
            None => record.get(column).unwrap_or_default(),
            Some(constant) => self.constants[constant].1.as_str(),
        };
        let time_text = text(self.time);
        if time_text.trim_ascii().is_empty() {
            return Err(at(self.time, empty_time()));
        }
        let time = decoder
            .time
            .parse(time_text)
            .map_err(|e| at(self.time, e))?;
        out.time = time;
        if out.dimensions.len() != self.dimensions.len() {
            out.dimensions.resize(self.dimensions.len(), String::new());
        }
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
        decoder.settle(out, line);
        Ok(())
    }

    /// A record on `line` with bytes that are not UTF-8, at the first such
    /// field.
    fn not_utf8(&self, error: &::csv::Error, line: u64) -> DataError {
        match error.kind() {
            ErrorKind::Utf8 { err, .. } => self.not_utf8_at(line, err.field()),
            _ => self.not_utf8_at(line, usize::MAX),
        }
    }

    /// The `field`th cell of the record on `line` is not UTF-8.
    fn not_utf8_at(&self, line: u64, field: usize) -> DataError {
        DataError {
            file: self.path.to_path_buf(),
            line,
            column: self.header.get(field).cloned(),
            reason: "the cell is not UTF-8 text".into(),
            help: Some("save the file as UTF-8".into()),
            refused: false,
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

/// Whether the source names `column` as its time, a dimension or a measure.
fn wanted(source: &crate::model::Source, column: &str) -> bool {
    source.time_column == column
        || source.dimensions.iter().any(|d| d == column)
        || match &source.measures {
            SourceMeasures::Wide(defs) => defs.iter().any(|def| def.name == column),
            SourceMeasures::Long {
                name_column,
                value_column,
                ..
            } => name_column == column || value_column == column,
        }
}

/// A headerless export whose metadata is not beside its manifest.
fn missing_metadata(expected: &Path) -> DataError {
    let name = expected.file_name().map_or_else(
        || expected.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    DataError::file_level(
        expected,
        "the export's metadata file is missing, and its result files have no header row \
         (UNLOAD's default `include_header = 'false'`): only the metadata names their columns"
            .into(),
        Some(format!(
            "copy `{name}` from the S3 folder that holds the manifest (`aws s3 sync` of the \
             export folder copies both), or run the UNLOAD with `include_header = 'true'`"
        )),
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
        refused: false,
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

fn csv_failure(path: &Path, gzip: bool, error: ::csv::Error, line: u64) -> DataError {
    match error.kind() {
        // flate2 reports a corrupt or cut stream as an I/O error.
        ::csv::ErrorKind::Io(e) if gzip => DataError {
            file: path.to_path_buf(),
            line,
            column: None,
            reason: format!("the file is not valid gzip data: {e}"),
            help: Some(
                "a result file ending in `.gz` is read as gzip, as UNLOAD writes it by default; \
                 download it again (`aws s3 sync`), or if you unpacked it, drop the `.gz` \
                 from its name"
                    .into(),
            ),
            refused: false,
        },
        ::csv::ErrorKind::Io(e) => DataError::cannot_read(path, line, e),
        _ => DataError {
            file: path.to_path_buf(),
            line,
            column: None,
            reason: format!("the file is not readable CSV: {error}"),
            help: None,
            refused: false,
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
