//! Timestream UNLOAD exports, read as UNLOAD writes them by default and as
//! `aws s3 sync` copies them: a `*_manifest.json` naming the result files by
//! S3 URL, a `*_metadata.json` beside it naming the columns (`ColumnInfo`),
//! and the files under `results/`, one `COLUMN=VALUE/` folder a partition
//! column, gzip-compressed and without a header row unless UNLOAD was told
//! otherwise.
//!
//! ```text
//! ROOT/Q_manifest.json     result_files[].url = s3://bucket/prefix/results/site=oslo-1/Q_1.gz
//! ROOT/Q_metadata.json     ColumnInfo: every column, partition columns last
//! ROOT/results/site=oslo-1/Q_1.gz
//! ```
//!
//! The export root on disk is the manifest's folder; a URL's path from its
//! `results` segment on is where the file lies under it. A manifest is data
//! from elsewhere: a URL that would lead outside the root is refused, and so
//! is a file whose real path (links resolved) lies outside it, a file that
//! is not a regular file, a file listed twice, and more files or larger
//! JSON than `limits` allows.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::csv::{self, Columns, Layout};
use super::limits::{self, MAX_EXPORT_JSON_BYTES, MAX_RESULT_FILES};
use super::parquet;
use super::{DataError, Decoder, ExportColumn, Hashed, Rows, open_regular, quoted};

#[derive(Deserialize)]
struct Manifest {
    result_files: Vec<ResultFile>,
    #[serde(default)]
    query_metadata: Option<QueryMetadata>,
}

#[derive(Deserialize)]
struct ResultFile {
    url: String,
}

#[derive(Deserialize)]
struct QueryMetadata {
    #[serde(default)]
    result_format: Option<String>,
}

/// The `*_metadata.json`: the columns, as the Query API's `ColumnInfo`.
#[derive(Deserialize)]
struct Metadata {
    #[serde(rename = "ColumnInfo")]
    column_info: Vec<ColumnInfo>,
}

#[derive(Deserialize)]
struct ColumnInfo {
    #[serde(rename = "Name")]
    name: String,
    #[serde(rename = "Type")]
    ty: serde_json::Value,
}

impl ColumnInfo {
    /// `ScalarType` when the column has one; the kind of type otherwise.
    fn timestream_type(&self) -> String {
        if let Some(scalar) = self.ty.get("ScalarType").and_then(|t| t.as_str()) {
            return scalar.to_string();
        }
        let kinds = [
            ("TimeSeriesMeasureValueColumnInfo", "TIMESERIES"),
            ("ArrayColumnInfo", "ARRAY"),
            ("RowColumnInfo", "ROW"),
        ];
        kinds
            .iter()
            .find(|(key, _)| self.ty.get(key).is_some())
            .map_or("UNKNOWN", |(_, kind)| kind)
            .to_string()
    }
}

/// Where a result file's URL puts it under the export root.
#[derive(Debug)]
struct ResultPath {
    /// `bucket/prefix` before `results/`: the export's root in S3.
    root: String,
    /// From `results` to the file name, as written in the URL.
    segments: Vec<String>,
    /// `(column, value)` of each `COLUMN=VALUE` folder, percent-decoded.
    partitions: Vec<(String, String)>,
}

/// A result file found on disk, and how to read it.
struct Located {
    /// Under the manifest's folder as the URL names it: what errors say.
    path: PathBuf,
    /// Its real path (links resolved), inside the export: what is opened.
    real: PathBuf,
    partitions: Vec<(String, String)>,
    encoding: Encoding,
}

/// How a result file's bytes hold its rows.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Csv,
    /// UNLOAD's default: CSV, gzip-compressed, named `.gz`.
    GzipCsv,
    /// `format = 'PARQUET'` (compressed inside, named `.parquet`).
    Parquet,
}

/// The export's columns as its files hold them: the metadata's, less the
/// partition columns (which are in folder names).
struct FileColumns {
    metadata: PathBuf,
    names: Vec<String>,
}

/// Reads the manifest, the metadata beside it when there is one (hashing
/// both), then each result file in the manifest's order.
pub(super) fn read_export(
    decoder: &Decoder,
    hasher: &mut blake3::Hasher,
    rows: &mut Rows,
) -> Result<(), DataError> {
    let manifest_path = &decoder.source.path;
    let manifest = read_manifest(manifest_path, hasher)?;
    let parquet = manifest
        .query_metadata
        .as_ref()
        .and_then(|q| q.result_format.as_deref())
        .is_some_and(|f| f.eq_ignore_ascii_case("parquet"));
    let metadata_path = metadata_path(manifest_path);
    let metadata = read_metadata(&metadata_path, hasher)?;
    let paths = result_paths(manifest_path, &manifest)?;
    let file_columns = match &metadata {
        Some(metadata) => Some(file_columns(&metadata_path, metadata, &paths)?),
        None => None,
    };
    // Every file is found before any is read, so a missing one fails early.
    let root = export_root(manifest_path)?;
    let files = paths
        .iter()
        .zip(&manifest.result_files)
        .map(|(path, file)| locate(manifest_path, &root, &file.url, path, parquet))
        .collect::<Result<Vec<_>, _>>()?;
    // UNLOAD lists each file once. A file listed twice (under one URL or
    // two that lead to it) would be read twice, its rows doubled: refused,
    // naming the cause, rather than read once and the manifest trusted.
    let mut seen = BTreeMap::new();
    for (file, entry) in files.iter().zip(&manifest.result_files) {
        if let Some(first) = seen.insert(&file.real, &entry.url) {
            let twice = if *first == entry.url {
                "is listed twice".to_string()
            } else {
                format!("names the file {} names too", quoted(first))
            };
            return Err(refused(manifest_path, &entry.url, &twice));
        }
    }
    for file in &files {
        let columns = match &file_columns {
            Some(known) => Columns::Metadata {
                names: &known.names,
                file: &known.metadata,
            },
            None => Columns::HeaderWithoutMetadata {
                expected: &metadata_path,
            },
        };
        let layout = Layout {
            columns,
            constants: &file.partitions,
            gzip: file.encoding == Encoding::GzipCsv,
            opened: Some(&file.real),
        };
        match file.encoding {
            Encoding::Csv | Encoding::GzipCsv => {
                csv::read_file(&file.path, layout, decoder, hasher, rows)?;
            }
            Encoding::Parquet => parquet::read_file(&file.path, layout, decoder, hasher, rows)?,
        }
    }
    Ok(())
}

/// The columns the export's `*_metadata.json` declares, partition columns
/// marked; `None` when there is no metadata file beside the manifest.
pub(super) fn export_columns(manifest_path: &Path) -> Result<Option<Vec<ExportColumn>>, DataError> {
    // Not a source's digest: nothing here is kept.
    let mut scratch = blake3::Hasher::new();
    let manifest = read_manifest(manifest_path, &mut scratch)?;
    let metadata_path = metadata_path(manifest_path);
    let Some(metadata) = read_metadata(&metadata_path, &mut scratch)? else {
        return Ok(None);
    };
    let paths = result_paths(manifest_path, &manifest)?;
    let files = file_columns(&metadata_path, &metadata, &paths)?;
    Ok(Some(
        metadata
            .column_info
            .iter()
            .enumerate()
            .map(|(index, column)| ExportColumn {
                name: column.name.clone(),
                timestream_type: column.timestream_type(),
                partition: index >= files.names.len(),
            })
            .collect(),
    ))
}

/// `Q_manifest.json` → `Q_metadata.json`, in the same folder.
fn metadata_path(manifest: &Path) -> PathBuf {
    let name = manifest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = name.strip_suffix("manifest.json").unwrap_or(&name);
    manifest.with_file_name(format!("{stem}metadata.json"))
}

/// A small JSON file, every byte hashed; one larger than
/// `MAX_EXPORT_JSON_BYTES` is refused, read no further than the limit.
fn read_json_bytes(
    path: &Path,
    file: std::fs::File,
    hasher: &mut blake3::Hasher,
) -> Result<Vec<u8>, DataError> {
    let mut bytes = Vec::new();
    Hashed {
        inner: file,
        hasher,
    }
    .take(MAX_EXPORT_JSON_BYTES + 1)
    .read_to_end(&mut bytes)
    .map_err(|e| DataError::cannot_read(path, 0, &e))?;
    if bytes.len() as u64 > MAX_EXPORT_JSON_BYTES {
        return Err(DataError::refusal(
            path,
            format!(
                "the file is larger than {}, the most outatime reads of an export's manifest \
                 or metadata",
                limits::mib(MAX_EXPORT_JSON_BYTES)
            ),
            format!(
                "UNLOAD writes a few hundred bytes a result file: is this the file you meant? \
                 ({})",
                limits::LIMITS_DOC
            ),
        ));
    }
    Ok(bytes)
}

fn read_manifest(path: &Path, hasher: &mut blake3::Hasher) -> Result<Manifest, DataError> {
    // A manifest is small: a few hundred bytes per result file.
    let file = open_regular(path, false)?;
    let bytes = read_json_bytes(path, file, hasher)?;
    let manifest: Manifest = serde_json::from_slice(&bytes).map_err(|e| DataError {
        file: path.to_path_buf(),
        line: e.line() as u64,
        column: None,
        reason: format!("the file is not an UNLOAD manifest: {e}"),
        help: Some(
            "an `unload` source names the `*_manifest.json` that Timestream's UNLOAD wrote, \
             with its `result_files`"
                .into(),
        ),
        refused: false,
    })?;
    if let Some(format) = manifest
        .query_metadata
        .as_ref()
        .and_then(|q| q.result_format.as_deref())
        .filter(|f| !f.eq_ignore_ascii_case("csv") && !f.eq_ignore_ascii_case("parquet"))
    {
        return Err(DataError::file_level(
            path,
            format!("the export is in {format}; only CSV and Parquet exports can be read"),
            Some("run the UNLOAD with `format = 'CSV'` or `format = 'PARQUET'`".into()),
        ));
    }
    Ok(manifest)
}

/// The metadata beside the manifest, or `None` when there is none. It is
/// part of the export: a link leading outside the export is refused.
fn read_metadata(path: &Path, hasher: &mut blake3::Hasher) -> Result<Option<Metadata>, DataError> {
    let real = match std::fs::canonicalize(path) {
        Ok(real) => real,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(DataError::cannot_open(path, &e)),
    };
    let root = path
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let root = export_root_of(&root)?;
    if !real.starts_with(&root) {
        return Err(DataError::refusal(
            path,
            format!(
                "the metadata file is a symbolic link that leads outside the export folder \
                 (to `{}`)",
                real.display()
            ),
            "an export's files lie in its folder; this one was changed: export the data again"
                .into(),
        ));
    }
    let file = open_regular(&real, true).map_err(|e| DataError {
        file: path.to_path_buf(),
        ..e
    })?;
    let bytes = read_json_bytes(path, file, hasher)?;
    let metadata = serde_json::from_slice(&bytes).map_err(|e| DataError {
        file: path.to_path_buf(),
        line: e.line() as u64,
        column: None,
        reason: format!("the file is not an UNLOAD metadata file: {e}"),
        help: Some(
            "the `*_metadata.json` beside an export's manifest lists its columns in \
             `ColumnInfo`, as UNLOAD wrote it"
                .into(),
        ),
        refused: false,
    })?;
    Ok(Some(metadata))
}

/// Every result file's place under the export root; all must share one root
/// and one set of partition columns.
fn result_paths(manifest_path: &Path, manifest: &Manifest) -> Result<Vec<ResultPath>, DataError> {
    if manifest.result_files.len() > MAX_RESULT_FILES {
        return Err(DataError::refusal(
            manifest_path,
            format!(
                "the manifest lists {} result files; outatime reads at most {MAX_RESULT_FILES}",
                manifest.result_files.len()
            ),
            format!(
                "UNLOAD writes files of up to `max_file_size` (78 GB by default): a manifest \
                 listing this many was not written by it, or the export is larger than a \
                 scenario should replay; export a shorter window ({})",
                limits::LIMITS_DOC
            ),
        ));
    }
    let paths = manifest
        .result_files
        .iter()
        .map(|file| parse_url(manifest_path, &file.url))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(first) = paths.first() {
        let names = |p: &ResultPath| {
            p.partitions
                .iter()
                .map(|(c, _)| c.clone())
                .collect::<Vec<_>>()
        };
        for (path, file) in paths.iter().zip(&manifest.result_files).skip(1) {
            if path.root != first.root {
                return Err(refused(
                    manifest_path,
                    &file.url,
                    &format!(
                        "is not in the export of the first result file (`s3://{}/`)",
                        first.root
                    ),
                ));
            }
            if names(path) != names(first) {
                return Err(DataError::file_level(
                    manifest_path,
                    format!(
                        "result file `{}` has partition folders for {} but the first has {}",
                        file.url,
                        listed(&names(path)),
                        listed(&names(first))
                    ),
                    Some("an export's result files share its `partitioned_by` columns".into()),
                ));
            }
        }
    }
    Ok(paths)
}

/// The metadata's columns less the partition columns, which must be its last.
fn file_columns(
    metadata_path: &Path,
    metadata: &Metadata,
    paths: &[ResultPath],
) -> Result<FileColumns, DataError> {
    let all: Vec<String> = metadata
        .column_info
        .iter()
        .map(|c| c.name.clone())
        .collect();
    let partitions: Vec<String> = paths
        .first()
        .map(|p| p.partitions.iter().map(|(c, _)| c.clone()).collect())
        .unwrap_or_default();
    let kept = all.len().checked_sub(partitions.len());
    match kept {
        Some(kept) if all[kept..] == partitions[..] => Ok(FileColumns {
            metadata: metadata_path.to_path_buf(),
            names: all[..kept].to_vec(),
        }),
        _ => Err(DataError::file_level(
            metadata_path,
            format!(
                "the result files are partitioned by {} (their `results/COLUMN=VALUE/` \
                 folders) but the metadata's columns are {}",
                listed(&partitions),
                listed(&all)
            ),
            Some(
                "the manifest, the metadata and the results must come from one UNLOAD, \
                 whose partition columns are the last of its SELECT; sync the export again"
                    .into(),
            ),
        )),
    }
}

fn listed(names: &[String]) -> String {
    if names.is_empty() {
        return "no column".into();
    }
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads a result file's URL: `s3://BUCKET/PREFIX/results/[C=V/…]FILE`.
fn parse_url(manifest: &Path, url: &str) -> Result<ResultPath, DataError> {
    let Some(rest) = url
        .get(..5)
        .filter(|scheme| scheme.eq_ignore_ascii_case("s3://"))
        .map(|_| &url[5..])
    else {
        return Err(refused(manifest, url, "is not an `s3://` URL"));
    };
    let segments: Vec<&str> = rest.split('/').collect();
    for segment in &segments {
        let decoded = percent_decode(segment);
        let leads_away = |s: &str| s == "." || s == ".." || s.contains('\\');
        if leads_away(segment) || leads_away(&decoded) || decoded.contains('/') {
            return Err(refused(
                manifest,
                url,
                &format!(
                    "has the segment {}, which would lead outside the export folder",
                    quoted(segment)
                ),
            ));
        }
    }
    // From the end: the file name, the partition folders, then `results`.
    let file = segments.len() - 1;
    let mut start = file;
    while start > 0 && segments[start - 1].contains('=') {
        start -= 1;
    }
    let results = start
        .checked_sub(1)
        .filter(|&r| r >= 1 && segments[r] == "results");
    // The AWS docs' sample manifest names files right under the export
    // folder, without `results/`: such a file lies beside the manifest.
    let flat = start == file && file >= 1;
    let from = match (results, segments[file].is_empty()) {
        (Some(results), false) => results,
        (None, false) if flat => file,
        _ => {
            return Err(refused(
                manifest,
                url,
                "does not follow UNLOAD's layout \
                 `s3://BUCKET/PREFIX/results/[COLUMN=VALUE/]FILE`",
            ));
        }
    };
    if from > 1 && segments[..from].iter().any(|s| s.is_empty()) {
        // `s3://b//x/results/...`: an empty segment names no folder.
        return Err(refused(manifest, url, "has an empty folder name"));
    }
    let partitions = segments[start..file]
        .iter()
        .map(|segment| {
            let (column, value) = segment.split_once('=').unwrap_or((segment, ""));
            (percent_decode(column), percent_decode(value))
        })
        .collect();
    Ok(ResultPath {
        root: segments[..from].join("/"),
        segments: segments[from..].iter().map(|s| s.to_string()).collect(),
        partitions,
    })
}

/// A URL the manifest names that outatime will not follow.
fn refused(manifest: &Path, url: &str, why: &str) -> DataError {
    DataError::refusal(
        manifest,
        format!("the result file URL {} {why}", quoted(url)),
        "a manifest names files under its own export's `results/` folder; this one was \
         changed or is not UNLOAD's: export the data again"
            .into(),
    )
}

/// The export's folder (the manifest's), its links resolved: every file
/// read from the export must lie under it.
fn export_root(manifest: &Path) -> Result<PathBuf, DataError> {
    let folder = manifest.parent().unwrap_or(Path::new(""));
    export_root_of(folder)
}

fn export_root_of(folder: &Path) -> Result<PathBuf, DataError> {
    let folder = if folder.as_os_str().is_empty() {
        Path::new(".")
    } else {
        folder
    };
    std::fs::canonicalize(folder).map_err(|e| DataError::cannot_open(folder, &e))
}

/// Hive's escaping of partition values, as S3 keys carry it: `%XX` is a byte.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    let hex = |b: &u8| (*b as char).to_digit(16);
    while i < bytes.len() {
        let pair = (
            bytes.get(i + 1).and_then(hex),
            bytes.get(i + 2).and_then(hex),
        );
        if let (b'%', (Some(high), Some(low))) = (bytes[i], pair) {
            // Two hex digits: at most 255.
            out.push((high * 16 + low) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The file on disk for a result file: `results/…` under the manifest's
/// folder, as written or percent-decoded; an unpartitioned export's file may
/// also lie beside the manifest. A `.gz` file gunzipped in place (`x.gz` →
/// `x`) is read as it is.
fn locate(
    manifest: &Path,
    real_root: &Path,
    url: &str,
    place: &ResultPath,
    parquet: bool,
) -> Result<Located, DataError> {
    let root = manifest.parent().unwrap_or(Path::new(""));
    let decoded: Vec<String> = place.segments.iter().map(|s| percent_decode(s)).collect();
    let mut candidates = vec![
        place
            .segments
            .iter()
            .fold(root.to_path_buf(), |p, s| p.join(s)),
    ];
    if decoded != place.segments {
        candidates.push(decoded.iter().fold(root.to_path_buf(), |p, s| p.join(s)));
    }
    if place.partitions.is_empty()
        && let Some(name) = place.segments.last()
    {
        candidates.push(root.join(name));
    }
    let plain = |path: &PathBuf| {
        let name = path.file_name()?.to_str()?.strip_suffix(".gz")?;
        Some(path.with_file_name(name))
    };
    let encoding = |path: &Path| match path.extension() {
        _ if parquet => Encoding::Parquet,
        Some(e) if e == "parquet" => Encoding::Parquet,
        Some(e) if e == "gz" => Encoding::GzipCsv,
        _ => Encoding::Csv,
    };
    let shown = place.segments.join("/");
    // The URL's text was checked (`parse_url`); what it names on disk is
    // checked too: its real path, links resolved, must lie in the export,
    // and it must be a regular file.
    let check = |candidate: &Path| -> Result<Option<Located>, DataError> {
        let Ok(metadata) = std::fs::metadata(candidate) else {
            // Not there (or a link to nothing): the next candidate.
            return Ok(None);
        };
        let real =
            std::fs::canonicalize(candidate).map_err(|e| DataError::cannot_open(candidate, &e))?;
        if !real.starts_with(real_root) {
            return Err(refused(
                manifest,
                url,
                &format!(
                    "names `{shown}`, a symbolic link that leads outside the export folder \
                     (to `{}`)",
                    real.display()
                ),
            ));
        }
        if !metadata.is_file() {
            return Err(DataError::refusal(
                manifest,
                format!(
                    "result file `{shown}` (from `{url}`) is {}, not a regular file",
                    super::file_kind(&metadata)
                ),
                "an export's result files are files UNLOAD wrote and `aws s3 sync` copied: \
                 sync the export again"
                    .into(),
            ));
        }
        Ok(Some(Located {
            path: candidate.to_path_buf(),
            real,
            partitions: place.partitions.clone(),
            encoding: encoding(candidate),
        }))
    };
    for candidate in &candidates {
        if let Some(located) = check(candidate)? {
            return Ok(located);
        }
        if let Some(unpacked) = plain(candidate)
            && let Some(located) = check(&unpacked)?
        {
            return Ok(located);
        }
    }
    let looked = candidates
        .iter()
        .map(|p| format!("`{}`", p.display()))
        .collect::<Vec<_>>()
        .join(", ");
    Err(DataError::file_level(
        manifest,
        format!("result file `{shown}` (from `{url}`) is not on disk"),
        Some(format!(
            "sync the whole export folder (`aws s3 sync s3://{}/ DIR`) so that `results/` \
             lies beside the manifest; looked for {looked}",
            place.root
        )),
    ))
}
