//! Timestream UNLOAD exports: a `*_manifest.json` naming result files by S3
//! URL, found on disk beside the manifest by their file names.
//!
//! An export synced from S3 keeps Timestream's layout: the manifest in
//! `PREFIX/metadata/`, the files in `PREFIX/results/`. So a file is looked
//! for beside the manifest, in `results/` beside it, then in `../results/`.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{DataError, Decoder, Hashed, Rows, csv};

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

/// Reads the manifest (hashing it), then each result file in its order.
pub(super) fn read_export(
    decoder: &Decoder,
    hasher: &mut blake3::Hasher,
    rows: &mut Rows,
) -> Result<(), DataError> {
    let manifest_path = &decoder.source.path;
    let manifest = read_manifest(manifest_path, hasher)?;
    // Every file is found before any is read, so a missing one fails early.
    let files = manifest
        .result_files
        .iter()
        .map(|file| locate(manifest_path, &file.url))
        .collect::<Result<Vec<_>, _>>()?;
    for file in &files {
        csv::read_file(file, decoder, hasher, rows)?;
    }
    Ok(())
}

fn read_manifest(path: &Path, hasher: &mut blake3::Hasher) -> Result<Manifest, DataError> {
    let file = File::open(path).map_err(|e| DataError::cannot_open(path, &e))?;
    // A manifest is small: a few hundred bytes per result file.
    let mut bytes = Vec::new();
    Hashed {
        inner: file,
        hasher,
    }
    .read_to_end(&mut bytes)
    .map_err(|e| DataError::cannot_read(path, 0, &e))?;
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
    })?;
    if let Some(format) = manifest
        .query_metadata
        .as_ref()
        .and_then(|q| q.result_format.as_deref())
        .filter(|f| !f.eq_ignore_ascii_case("csv"))
    {
        return Err(DataError::file_level(
            path,
            format!("the export is in {format}; only CSV exports can be read"),
            Some("run the UNLOAD with `format = 'CSV'` and `include_header = 'true'`".into()),
        ));
    }
    Ok(manifest)
}

/// The columns the export's `*_metadata.json` declares.
// TODO(unload-reader): read the metadata beside the manifest; until then no
// export is known to have metadata.
pub(super) fn export_columns(
    _manifest: &Path,
) -> Result<Option<Vec<super::ExportColumn>>, DataError> {
    Ok(None)
}

/// The file on disk for a result file's URL.
fn locate(manifest: &Path, url: &str) -> Result<PathBuf, DataError> {
    let name = url.rsplit('/').next().unwrap_or_default();
    if name.is_empty() || name == "." || name == ".." {
        return Err(DataError::file_level(
            manifest,
            format!("the result file URL `{url}` does not end in a file name"),
            None,
        ));
    }
    let beside = manifest.parent().unwrap_or(Path::new(""));
    let folders = [
        beside.to_path_buf(),
        beside.join("results"),
        beside.join("..").join("results"),
    ];
    // Timestream compresses results unless told not to; a file gunzipped in
    // place (`x.gz` → `x`) is read, a compressed one cannot be.
    let plain = name.strip_suffix(".gz").unwrap_or(name);
    if let Some(found) = folders.iter().map(|f| f.join(plain)).find(|p| p.is_file()) {
        return Ok(found);
    }
    if let Some(found) = folders.iter().map(|f| f.join(name)).find(|p| p.is_file()) {
        return Err(DataError::file_level(
            &found,
            "the result file is compressed (gzip), which cannot be read".into(),
            Some(format!(
                "gunzip it in place (keeping the name `{plain}`), or run the UNLOAD with `compression = 'none'`"
            )),
        ));
    }
    let looked = folders
        .iter()
        .map(|f| format!("`{}`", f.display()))
        .collect::<Vec<_>>()
        .join(", ");
    Err(DataError::file_level(
        manifest,
        format!("result file `{plain}` (from `{url}`) is not on disk"),
        Some(format!(
            "copy the export's result files beside the manifest; looked in {looked}"
        )),
    ))
}
