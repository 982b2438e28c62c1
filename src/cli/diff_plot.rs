//! `outatime diff OLD NEW --plot -o FILE`: the changed series drawn.

use std::path::Path;

use super::output::sayln;
use super::output::{self, Failure};

/// `diff --plot`: both plans loaded as `plot` loads one (stale ones
/// refused), their changed series drawn; no file when none changed.
pub(super) fn plot_diff(
    old_path: &Path,
    new_path: &Path,
    plans: (&crate::plan::Plan, &crate::plan::Plan),
    path: &Path,
    format: crate::plot::Format,
    anchor: Option<i64>,
    spill: &crate::sources::SpillOptions,
) -> Result<(), Failure> {
    let load = |file: &Path| {
        output::load_scenario_or_plan(file, None, spill.clone(), crate::targets::DEFAULT_RULES)
    };
    let (old, new) = (load(old_path)?, load(new_path)?);
    let now = anchor.map_or(0, |a| crate::compile::align(a, new.prepared.anchor_align));
    let side = |file: &Path, plan, loaded| crate::plot::diff::Side {
        file: file.display().to_string(),
        plan,
        loaded,
    };
    let picture = crate::plot::diff::plot_diff(
        &side(old_path, plans.0, &old),
        &side(new_path, plans.1, &new),
        now,
        anchor.is_some(),
        format,
    )?;
    match picture {
        None => sayln!(
            "no series changed between the plans: `{}` not written",
            path.display()
        ),
        Some(bytes) => {
            crate::output_file::write(path, &bytes).map_err(|e| {
                Failure::usage(format!("error: cannot write `{}`: {e}\n", path.display()))
            })?;
            sayln!("wrote `{}` ({} bytes)", path.display(), bytes.len());
        }
    }
    Ok(())
}
