//! `check`: the scenario's text parsed and validated, with each source's
//! columns at hand (a CSV header, the fields of a JSON lines file's first
//! objects, an UNLOAD export's `*_metadata.json`), so that a misspelt
//! column is reported at the source and a measure may take its type from
//! the export. Validation reads no source; this is where the two meet.

use std::path::Path;

use crate::sources;
use crate::validate::check::{Checked, check_text_with};
use crate::validate::model::Source;
use crate::validate::source::{ExportedColumn, FileColumns, UnreadableExport};

/// Parses and validates scenario text. `base_dir` is the folder that source
/// paths are relative to (the scenario file's). Names are held to
/// Timestream's rules, the default.
pub fn check_text(text: &str, base_dir: &Path) -> Checked {
    check_text_for(text, base_dir, crate::targets::DEFAULT_RULES)
}

/// [`check_text`], with names held to `rules`: a target's (`check
/// --target`, `apply --target`).
pub(crate) fn check_text_for(
    text: &str,
    base_dir: &Path,
    rules: &dyn crate::targets::NameRules,
) -> Checked {
    check_text_with(text, base_dir, &file_columns, rules)
}

/// The columns a source's file names, in validation's terms.
fn file_columns(source: &Source) -> Result<Option<FileColumns>, UnreadableExport> {
    let columns = sources::file_columns(source).map_err(|e| UnreadableExport {
        reason: e.to_string(),
        help: e.help,
    })?;
    Ok(columns.map(|columns| match columns {
        sources::FileColumns::Header(names) => FileColumns::Header(names),
        sources::FileColumns::JsonFields { names, lines } => {
            FileColumns::JsonFields { names, lines }
        }
        sources::FileColumns::Export(columns) => FileColumns::Export(
            columns
                .into_iter()
                .map(|c| ExportedColumn {
                    name: c.name,
                    timestream_type: c.timestream_type,
                })
                .collect(),
        ),
    }))
}
