//! The budget for files from elsewhere: how much one line, one export file,
//! one manifest or one Parquet page may make outatime hold, whatever the
//! file says about itself. A file past a limit is refused naming the file
//! (and line, row group or column), never read whole first.
//! docs/limits.md lists each limit with the error it gives; keep the two
//! alike.

/// Bytes of one source line (a JSON lines object) or one CSV record (plain
/// or gzip, an export's CSV result files too; a quoted field may span
/// lines), counting its line break. Timestream takes records of at most
/// 2 KB, so a line of a megabyte is no data outatime could write.
pub(crate) const MAX_RECORD_BYTES: u64 = 1 << 20;

/// Bytes of an export's manifest or metadata file. A manifest holds about
/// 200 bytes a result file: `MAX_RESULT_FILES` of them fit six times over.
pub(crate) const MAX_EXPORT_JSON_BYTES: u64 = 32 << 20;

/// Result files one manifest may list.
pub(crate) const MAX_RESULT_FILES: usize = 100_000;

/// Rows one Parquet row group may hold, as its footer says before any page
/// is read. Common writers cut row groups at about a million rows (or
/// 128 MB); a row group ten times that is not an export's.
pub(crate) const MAX_PARQUET_ROW_GROUP_ROWS: i64 = 10_000_000;

/// Bytes one Parquet page (a data or dictionary page) may hold once
/// decompressed. Writers cut pages at about 1 MB.
pub(crate) const MAX_PARQUET_PAGE_BYTES: usize = 16 << 20;

/// A limit in bytes as the messages write it: `1 MiB`, `32 MiB`.
pub(crate) fn mib(bytes: u64) -> String {
    format!("{} MiB", bytes >> 20)
}

/// Where docs say what each limit is and why.
pub(crate) const LIMITS_DOC: &str = "docs/limits.md";
