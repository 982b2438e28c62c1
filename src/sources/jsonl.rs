//! JSON lines: one object a line, columns are its top-level fields. A line
//! is read up to `MAX_RECORD_BYTES` and no further.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use serde_json::{Map, Value};

use super::csv::{empty_measure_name, empty_time};
use super::limits::MAX_RECORD_BYTES;
use super::{
    BUFFER_BYTES, CellError, DataError, Decoder, Hashed, Rows, SourceRow, open_regular, quoted,
    value,
};
use crate::model::SourceMeasures;

/// Reads the next line into `buffer` (emptied first), its line break
/// included: `Ok(false)` at the end of the file, `Err` (naming `line`, the
/// line's number) for a line longer than `MAX_RECORD_BYTES`, of which no
/// more than the limit is read.
fn next_line(
    reader: &mut impl BufRead,
    buffer: &mut Vec<u8>,
    path: &Path,
    line: u64,
) -> Result<bool, DataError> {
    buffer.clear();
    let n = reader
        .take(MAX_RECORD_BYTES + 1)
        .read_until(b'\n', buffer)
        .map_err(|e| DataError::cannot_read(path, line, &e))?;
    if n as u64 > MAX_RECORD_BYTES {
        return Err(DataError::too_long(path, line));
    }
    Ok(n > 0)
}

pub(super) fn read_file(
    path: &Path,
    decoder: &Decoder,
    hasher: &mut blake3::Hasher,
    rows: &mut Rows,
) -> Result<(), DataError> {
    let mut reader = BufReader::with_capacity(BUFFER_BYTES, Hashed::open(path, None, hasher)?);
    let mut buffer = Vec::new();
    let mut line = 0;
    while next_line(&mut reader, &mut buffer, path, line + 1)? {
        line += 1;
        let mut text = buffer.trim_ascii();
        if line == 1 {
            text = text.strip_prefix("\u{feff}".as_bytes()).unwrap_or(text);
        }
        if text.is_empty() {
            continue;
        }
        match decode(path, line, text, decoder) {
            Ok(row) => rows.take(Ok(&row))?,
            Err(error) => rows.take(Err(error))?,
        }
    }
    Ok(())
}

/// The fields of the objects on the first `lines` lines, each once (in
/// each object's key order); lines that are not objects are passed over (reading
/// the data reports them). `None` when no line holds an object.
pub(super) fn fields(path: &Path, lines: u64) -> Result<Option<super::FileColumns>, DataError> {
    let mut reader = BufReader::new(open_regular(path, false)?);
    let mut buffer = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let mut read = 0;
    let mut objects = 0;
    while read < lines && next_line(&mut reader, &mut buffer, path, read + 1)? {
        read += 1;
        let text = buffer.trim_ascii();
        let text = text.strip_prefix("\u{feff}".as_bytes()).unwrap_or(text);
        if let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(text) {
            objects += 1;
            for key in object.keys() {
                if !names.contains(key) {
                    names.push(key.clone());
                }
            }
        }
    }
    Ok((objects > 0).then_some(super::FileColumns::JsonFields { names, lines: read }))
}

fn decode(path: &Path, line: u64, text: &[u8], decoder: &Decoder) -> Result<SourceRow, DataError> {
    let whole_line = |reason: String, help: &str| DataError {
        file: path.to_path_buf(),
        line,
        column: None,
        reason,
        help: Some(help.to_string()),
        refused: false,
    };
    let object = match serde_json::from_slice::<Value>(text) {
        Ok(Value::Object(object)) => object,
        Ok(other) => {
            return Err(whole_line(
                format!(
                    "the line is {}, not a JSON object",
                    value::json_kind(&other)
                ),
                "each line holds one object such as `{\"ts\": \"2024-03-12T08:00:00Z\", ...}`",
            ));
        }
        Err(e) => {
            // serde's words name a place, never the text; the line itself
            // is quoted only when it holds no redacted value.
            let reason = if decoder.redacts_any() {
                format!(
                    "the line is not valid JSON ({e}; the line is not shown: the source \
                     redacts columns)"
                )
            } else {
                format!(
                    "the line is not valid JSON ({e}): {}",
                    quoted(&String::from_utf8_lossy(text))
                )
            };
            return Err(whole_line(
                reason,
                "each line holds one complete JSON object; a value may not span lines",
            ));
        }
    };
    let source = decoder.source;
    let at = |column: &str, e: CellError| decoder.cell_error(path, line, column, e);
    let time = match field(&object, &source.time_column) {
        None => return Err(at(&source.time_column, empty_time())),
        Some(value) => decoder
            .time
            .parse_json(value)
            .map_err(|e| at(&source.time_column, e))?,
    };
    let mut dimensions = Vec::with_capacity(source.dimensions.len());
    for name in &source.dimensions {
        dimensions.push(
            text_of(&object, name)
                .map_err(|e| at(name, e))?
                .unwrap_or_default(),
        );
    }
    let measures = match &source.measures {
        SourceMeasures::Wide(defs) => {
            let mut measures = Vec::with_capacity(defs.len());
            for def in defs {
                let Some(value) = field(&object, &def.name) else {
                    continue;
                };
                if let Some(parsed) =
                    value::parse_json(def.ty, value).map_err(|e| at(&def.name, e))?
                {
                    measures.push((def.name.clone(), parsed));
                }
            }
            measures
        }
        SourceMeasures::Long {
            name_column,
            value_column,
            ty,
        } => {
            let parsed = match field(&object, value_column) {
                None => None,
                Some(value) => value::parse_json(*ty, value).map_err(|e| at(value_column, e))?,
            };
            let name = text_of(&object, name_column).map_err(|e| at(name_column, e))?;
            match (parsed, name) {
                (None, _) => Vec::new(),
                (Some(parsed), Some(name)) if !name.is_empty() => vec![(name, parsed)],
                (Some(_), _) => return Err(at(name_column, empty_measure_name())),
            }
        }
    };
    let mut row = SourceRow {
        time,
        dimensions,
        measures,
        repeated_local: None,
    };
    decoder.settle(&mut row, line);
    Ok(row)
}

/// A field that is present and not `null`.
fn field<'v>(object: &'v Map<String, Value>, name: &str) -> Option<&'v Value> {
    object.get(name).filter(|v| !v.is_null())
}

fn text_of(object: &Map<String, Value>, name: &str) -> Result<Option<String>, CellError> {
    field(object, name).map_or(Ok(None), value::json_text)
}
