//! Reading a source's files into rows, streaming: CSV, JSON lines and
//! Timestream UNLOAD exports (a manifest naming CSV or Parquet result files,
//! a metadata file naming their columns).
//!
//! Every row is handed to a callback as soon as it is read; nothing here
//! holds more than one row. The files' bytes are hashed (blake3) as they are
//! read, so a plan can pin exactly what it was compiled from.
//!
//! ```text
//! file bytes ─▶ Hashed (blake3) ─▶ csv / jsonl reader ─▶ cells
//!   cells ─▶ time::TimeParser + value::parse_* ─▶ SourceRow ─▶ callback
//!   (bad row ─▶ Rows::bad: skipped and counted, or the error)
//! ```

mod csv;
mod jsonl;
mod limits;
mod lines;
mod parquet;
pub(crate) mod redact;
mod time;
mod unload;
mod value;

#[cfg(test)]
mod tests;

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::lang::literal::Instant;
use crate::model::{Scalar, Source, SourceKind, SourceMeasures};

use self::time::TimeParser;

/// One record of source data: an instant, its series, its measures.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct SourceRow {
    pub time: Instant,
    /// In the order of `Source::dimensions`; a missing or empty cell is `""`.
    pub dimensions: Vec<String>,
    /// `(measure name, value)`; a missing or empty cell is left out. Wide
    /// rows in declaration order; long rows give one measure a row.
    pub measures: Vec<(String, Scalar)>,
    /// The row's line, when its time is a local time the autumn change
    /// repeats: `ambiguous earlier` or `later` put both passes through that
    /// hour on one instant (as `in_order` does on a file whose passes
    /// interleave), and a conflict there names this line. `None` for every
    /// other row (no allocation either way).
    pub repeated_local: Option<u64>,
}

/// A row or file that could not be read, with its place.
#[derive(Clone, Debug, PartialEq)]
pub struct DataError {
    pub file: PathBuf,
    /// 1-based line of the file (0 when the problem is the whole file).
    pub line: u64,
    /// The column (CSV header name or JSON field) at fault, if one is.
    pub column: Option<String>,
    pub reason: String,
    /// What to do about it.
    pub help: Option<String>,
    /// An export outatime will not follow, rather than a file it cannot
    /// read: a URL or link leading outside it, a file listed twice, more
    /// than a limit allows, a file that is not a regular file.
    pub refused: bool,
}

#[derive(Clone, Debug, Default)]
pub struct ReadOptions {
    /// Bad rows to skip (and count) before reading fails; 0 fails on the first.
    pub max_bad_rows: u64,
    /// Where a replay keeps the rows it selected (see `compile::spill`).
    pub spill: SpillOptions,
}

/// How a replay holds its selected rows: in memory up to `chunk_rows`, then
/// spilled to sorted files under `temp_dir` and merged back in time order.
/// Every step that may spill holds a copy: the folder is shared, not
/// copied.
#[derive(Clone, Debug)]
pub struct SpillOptions {
    /// The folder spilled rows go in; `None`: the system's (`TMPDIR`).
    pub temp_dir: Option<Arc<Path>>,
    /// Rows a replay step holds before it sorts them and spills them
    /// (`CHUNK_ROWS` unless the caller says otherwise: the command line
    /// takes it from `--spill-rows`, or `OUTATIME_SPILL_ROWS`).
    pub chunk_rows: usize,
    /// Every row in memory, as before spilling existed: kept so that tests
    /// can show the spilled stream is the same, byte for byte.
    pub in_memory: bool,
}

impl SpillOptions {
    /// About 12 MB of rows a step (each ~90 bytes with two measures).
    pub const CHUNK_ROWS: usize = 1 << 17;
}

impl Default for SpillOptions {
    fn default() -> SpillOptions {
        SpillOptions {
            temp_dir: None,
            chunk_rows: SpillOptions::CHUNK_ROWS,
            in_memory: false,
        }
    }
}

/// What reading a source gave, besides the rows.
#[derive(Clone, Debug, PartialEq)]
pub struct ReadSummary {
    /// `blake3:` and the hex digest of every file read, in reading order
    /// (for `unload`: the manifest, the metadata when there is one, then
    /// each result file as stored).
    pub digest: String,
    pub rows: u64,
    pub bad_rows: u64,
    /// The first bad rows skipped (at most 10), for the report.
    pub skipped: Vec<DataError>,
}

/// Reads every row of `source`, calling `row` for each. The row is lent, not
/// given: readers refill one buffer, so a steady read allocates nothing.
pub(crate) fn read_rows(
    source: &Source,
    options: &ReadOptions,
    row: &mut dyn FnMut(&SourceRow),
) -> Result<ReadSummary, DataError> {
    let time = TimeParser::new(source).map_err(|e| DataError {
        file: source.path.clone(),
        line: 0,
        column: Some(source.time_column.clone()),
        reason: e.reason,
        help: e.help,
        refused: false,
    })?;
    let decoder = Decoder {
        source,
        time,
        last: RefCell::new(HashMap::new()),
    };
    let mut hasher = blake3::Hasher::new();
    let mut rows = Rows {
        emit: row,
        max_bad_rows: options.max_bad_rows,
        rows: 0,
        bad_rows: 0,
        skipped: Vec::new(),
    };
    match source.kind {
        SourceKind::Csv => csv::read_file(
            &source.path,
            csv::Layout::PLAIN,
            &decoder,
            &mut hasher,
            &mut rows,
        )?,
        SourceKind::Jsonl => jsonl::read_file(&source.path, &decoder, &mut hasher, &mut rows)?,
        SourceKind::Unload => unload::read_export(&decoder, &mut hasher, &mut rows)?,
    }
    Ok(ReadSummary {
        digest: format!("blake3:{}", hasher.finalize().to_hex()),
        rows: rows.rows,
        bad_rows: rows.bad_rows,
        skipped: rows.skipped,
    })
}

/// A column an UNLOAD export declares in its `*_metadata.json`
/// (`ColumnInfo`), in the export's column order.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ExportColumn {
    pub name: String,
    /// Timestream's scalar type as the metadata names it: `VARCHAR`,
    /// `DOUBLE`, `BIGINT`, `BOOLEAN`, `TIMESTAMP`, ….
    pub timestream_type: String,
    /// A `partitioned_by` column: its value is in the result files' folder
    /// names (`results/site=oslo-1/`), not in the files.
    pub partition: bool,
}

/// The columns a source's file names, as `check` reads them cheaply.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum FileColumns {
    /// A CSV file's first row, read in the source's dialect.
    Header(Vec<String>),
    /// The fields of a JSON lines file's first objects (at most
    /// `JSON_LINES_READ` lines), each once.
    JsonFields { names: Vec<String>, lines: u64 },
    /// What an export's metadata declares.
    Export(Vec<ExportColumn>),
}

/// How many lines of a JSON lines file `check` reads for its fields.
const JSON_LINES_READ: u64 = 100;

/// The columns `source`'s file names, read cheaply: a CSV header, the
/// fields of a JSON lines file's first objects, an export's metadata.
/// `Ok(None)` when they cannot be known without reading the data (an
/// export without metadata) or the file has none (it is empty).
pub(crate) fn file_columns(source: &Source) -> Result<Option<FileColumns>, DataError> {
    match source.kind {
        SourceKind::Csv => csv::header(&source.path, source.dialect),
        SourceKind::Jsonl => jsonl::fields(&source.path, JSON_LINES_READ),
        SourceKind::Unload => Ok(unload::export_columns(&source.path)?.map(FileColumns::Export)),
    }
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        if let Some(column) = &self.column {
            write!(f, ": column `{column}`")?;
        }
        write!(f, ": {}", self.reason)
    }
}

impl std::error::Error for DataError {}

impl DataError {
    /// A problem with the whole file (line 0).
    fn file_level(file: &Path, reason: String, help: Option<String>) -> DataError {
        DataError {
            file: file.to_path_buf(),
            line: 0,
            column: None,
            reason,
            help,
            refused: false,
        }
    }

    /// A file of an export that outatime will not read (see `refused`).
    fn refusal(file: &Path, reason: String, help: String) -> DataError {
        DataError {
            refused: true,
            ..DataError::file_level(file, reason, Some(help))
        }
    }

    /// A line (or CSV record) past `limits::MAX_RECORD_BYTES`: not read
    /// further, and not a bad row to skip (the rest of it would have to be
    /// read to find the next one).
    fn too_long(file: &Path, line: u64) -> DataError {
        DataError {
            file: file.to_path_buf(),
            line,
            column: None,
            reason: format!(
                "the line is longer than {}, the most outatime reads of one line",
                limits::mib(limits::MAX_RECORD_BYTES)
            ),
            help: Some(format!(
                "a line holds one row, and a row of a megabyte is no data a target takes \
                 (a Timestream record holds at most 2 KB): is this the file you meant? \
                 ({})",
                limits::LIMITS_DOC
            )),
            refused: false,
        }
    }

    fn cannot_open(file: &Path, error: &io::Error) -> DataError {
        DataError::file_level(
            file,
            format!("cannot open the file: {error}"),
            Some("a source's path is relative to the scenario file's folder".into()),
        )
    }

    fn cannot_read(file: &Path, line: u64, error: &io::Error) -> DataError {
        DataError {
            file: file.to_path_buf(),
            line,
            column: None,
            reason: format!("reading the file failed: {error}"),
            help: None,
            refused: false,
        }
    }

    /// `file` is there but is not a regular file (`what` it is instead).
    fn not_regular(file: &Path, what: &str) -> DataError {
        DataError::refusal(
            file,
            format!("the file is {what}, not a regular file"),
            "outatime reads source files and exports as files on disk, never from a pipe, \
             a socket or a device"
                .into(),
        )
    }
}

/// Opens a source file to read, when it is a regular file. A FIFO is
/// opened without waiting for a writer (`O_NONBLOCK`), then refused like a
/// socket, a device or a folder: nothing here ever blocks on one. With
/// `no_link`, a link as the last component is refused too (`O_NOFOLLOW`):
/// for a path already resolved and checked (an export's result file).
fn open_regular(path: &Path, no_link: bool) -> Result<std::fs::File, DataError> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let follow = if no_link { libc::O_NOFOLLOW } else { 0 };
        options.custom_flags(libc::O_NONBLOCK | follow);
    }
    #[cfg(not(unix))]
    let _ = no_link;
    // A socket cannot be opened at all: its type is told from its metadata.
    if let Ok(metadata) = std::fs::metadata(path)
        && !metadata.is_file()
    {
        return Err(DataError::not_regular(path, file_kind(&metadata)));
    }
    let file = options
        .open(path)
        .map_err(|e| DataError::cannot_open(path, &e))?;
    let metadata = file
        .metadata()
        .map_err(|e| DataError::cannot_open(path, &e))?;
    if !metadata.is_file() {
        return Err(DataError::not_regular(path, file_kind(&metadata)));
    }
    Ok(file)
}

/// What a file that is not a regular file is, in words.
fn file_kind(metadata: &std::fs::Metadata) -> &'static str {
    let kind = metadata.file_type();
    if kind.is_dir() {
        return "a folder";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a FIFO";
        }
        if kind.is_socket() {
            return "a socket";
        }
        if kind.is_char_device() || kind.is_block_device() {
            return "a device";
        }
    }
    "something else"
}

/// Why one cell could not be read; the caller knows where it is.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct CellError {
    pub reason: String,
    /// The reason without the cell's text (`the value is an object, not
    /// text`), for a redacted column, whose values no message may show.
    /// `None`: the reason has no such form, and a redacted column's error
    /// says only that its value cannot be read.
    pub without_value: Option<String>,
    pub help: Option<String>,
}

impl CellError {
    fn new(reason: String, help: &str) -> CellError {
        CellError {
            reason,
            without_value: None,
            help: Some(help.to_string()),
        }
    }

    /// `` `TEXT` is PREDICATE ``, which a redacted column words as `the
    /// value is PREDICATE`.
    fn quoting(text: &str, predicate: &str, help: &str) -> CellError {
        CellError {
            reason: format!("{} {predicate}", quoted(text)),
            without_value: Some(format!("the value {predicate}")),
            help: Some(help.to_string()),
        }
    }
}

/// The source and its time parser: what turns cells into rows.
struct Decoder<'a> {
    source: &'a Source,
    time: TimeParser,
    /// With `ambiguous in_order`: each series' last instant (a long row's
    /// series includes its measure), only looked up, never iterated.
    last: RefCell<HashMap<Vec<String>, Instant>>,
}

impl Decoder<'_> {
    /// Whether `column` (as the file names it) is redacted: its values are
    /// never shown, in errors neither.
    fn redacts(&self, column: &str) -> bool {
        self.source
            .redact
            .as_ref()
            .is_some_and(|r| r.columns.iter().any(|c| c == column))
    }

    /// Whether the source redacts any column: a whole line is then never
    /// quoted in an error, since it holds the redacted values too.
    fn redacts_any(&self) -> bool {
        self.source.redact.is_some()
    }

    /// A bad cell's error; a redacted column's without the cell's text.
    fn cell_error(&self, file: &Path, line: u64, column: &str, cell: CellError) -> DataError {
        let reason = if self.redacts(column) {
            let reason = cell
                .without_value
                .unwrap_or_else(|| "the value cannot be read".into());
            format!("{reason} (the value is not shown: the column is redacted)")
        } else {
            cell.reason
        };
        DataError {
            file: file.to_path_buf(),
            line,
            column: Some(column.to_string()),
            reason,
            help: cell.help,
            refused: false,
        }
    }

    /// With `ambiguous in_order`, a repeated local time is the later
    /// instant when its series has already reached the earlier one: the
    /// logger is going through the repeated hour a second time.
    ///
    /// A repeated local time is kept with its `line`, for a conflict's
    /// help: under `earlier` and `later`, and under `in_order` too, whose
    /// passes interleave in a file sorted by local time.
    fn settle(&self, row: &mut SourceRow, line: u64) {
        row.repeated_local = (self.time.repeated() || self.time.repeat().is_some()).then_some(line);
        if !self.time.in_order() {
            return;
        }
        let mut series = row.dimensions.clone();
        if matches!(self.source.measures, SourceMeasures::Long { .. }) {
            series.extend(row.measures.first().map(|(name, _)| name.clone()));
        }
        let mut last = self.last.borrow_mut();
        if let Some(later) = self.time.repeat()
            && last.get(&series).is_some_and(|&seen| row.time <= seen)
        {
            row.time = later;
        }
        last.insert(series, row.time);
    }
}

/// Where rows go, and the tally of bad ones.
struct Rows<'a> {
    emit: &'a mut dyn FnMut(&SourceRow),
    max_bad_rows: u64,
    rows: u64,
    bad_rows: u64,
    skipped: Vec<DataError>,
}

/// How many skipped rows the summary keeps.
const SKIPPED_KEPT: usize = 10;

impl Rows<'_> {
    /// Hands on a good row; skips a bad one while the budget lasts.
    fn take(&mut self, row: Result<&SourceRow, DataError>) -> Result<(), DataError> {
        match row {
            Ok(row) => {
                self.rows += 1;
                (self.emit)(row);
                Ok(())
            }
            Err(error) => {
                self.bad_rows += 1;
                if self.bad_rows > self.max_bad_rows {
                    return Err(error);
                }
                if self.skipped.len() < SKIPPED_KEPT {
                    self.skipped.push(error);
                }
                Ok(())
            }
        }
    }
}

/// A reader that feeds every byte it reads to the source's hasher.
struct Hashed<'h, R> {
    inner: R,
    hasher: &'h mut blake3::Hasher,
}

impl<'h> Hashed<'h, std::fs::File> {
    /// Opens a source file (see `open_source`) whose every byte read goes
    /// to `hasher`.
    fn open(
        path: &Path,
        resolved: Option<&Path>,
        hasher: &'h mut blake3::Hasher,
    ) -> Result<Self, DataError> {
        let inner = open_source(path, resolved)?;
        Ok(Hashed { inner, hasher })
    }
}

/// Opens `path` to read (see `open_regular`); or, for a file found inside
/// an export (`unload::locate`), `resolved`, its real path checked to lie
/// inside the export, without following a link. Errors name `path`.
fn open_source(path: &Path, resolved: Option<&Path>) -> Result<std::fs::File, DataError> {
    match resolved {
        None => open_regular(path, false),
        Some(real) => open_regular(real, true).map_err(|e| DataError {
            file: path.to_path_buf(),
            ..e
        }),
    }
}

impl<R: Read> Read for Hashed<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// Read buffers: large enough that blake3 hashes many chunks at once.
const BUFFER_BYTES: usize = 1 << 16;

/// Bad text in backticks, cut to 40 characters.
fn quoted(text: &str) -> String {
    const KEPT: usize = 40;
    match text.char_indices().nth(KEPT) {
        Some((end, _)) => format!("`{}…`", &text[..end]),
        None => format!("`{text}`"),
    }
}
