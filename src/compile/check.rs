//! `check`: the scenario's text parsed and validated, with what UNLOAD
//! exports declare about their columns (their `*_metadata.json`) at hand,
//! so that a measure may take its type from the export. Validation reads
//! no source; this is where the two meet.

use std::path::Path;

use crate::sources;
use crate::validate::check::{Checked, check_text_with};
use crate::validate::model::Source;
use crate::validate::source::{ExportedColumn, UnreadableExport};

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
    check_text_with(text, base_dir, &export_columns, rules)
}

/// The columns an `unload` source's export declares, in validation's terms.
fn export_columns(source: &Source) -> Result<Option<Vec<ExportedColumn>>, UnreadableExport> {
    let columns = sources::export_columns(source).map_err(|e| UnreadableExport {
        reason: e.to_string(),
        help: e.help,
    })?;
    Ok(columns.map(|columns| {
        columns
            .into_iter()
            .map(|c| ExportedColumn {
                name: c.name,
                timestream_type: c.timestream_type,
            })
            .collect()
    }))
}
