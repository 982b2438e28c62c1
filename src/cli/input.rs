//! What every command that reads a scenario shares: the read options, the
//! input loaded with its anchor, and the style diagnostics are drawn in.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::output::{self, Failure, diagnostics_style};
use crate::app;
use crate::diagnostics::render;
use crate::model::NameRules;
use crate::sources::{ReadOptions, SpillOptions};
use crate::targets::config::{self, Target};

#[derive(clap::Args)]
pub(super) struct ReadArgs {
    /// Skip and count up to N bad source rows instead of failing on the
    /// first (default: 0 for a scenario; for a plan, the bad rows it pins)
    #[arg(long, value_name = "N")]
    pub(super) max_bad_rows: Option<u64>,
    /// Treat warnings (of the scenario, and of what its data shows, such as
    /// an anomaly that touches no record) as errors: exit 1, write nothing
    #[arg(long)]
    pub(super) deny_warnings: bool,
    #[command(flatten)]
    pub(super) spill: SpillArgs,
}

/// Where and when a replay too large for memory spills its rows: every
/// command that runs a scenario's stream takes these.
#[derive(clap::Args)]
pub(super) struct SpillArgs {
    /// Where a replay too large for memory keeps its rows, sorted, while it
    /// runs (default: TMPDIR, else /tmp); removed on every exit, Ctrl-C too
    #[arg(long, value_name = "DIR")]
    pub(super) temp_dir: Option<PathBuf>,
    /// Rows a replay step holds in memory before it sorts them and spills
    /// them to the temporary folder: lower uses less memory and more disk
    /// (default: 131072, about 12 MB a step)
    #[arg(long, value_name = "ROWS", env = "OUTATIME_SPILL_ROWS",
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub(super) spill_rows: Option<usize>,
}

impl SpillArgs {
    /// How replays hold their rows; a `--temp-dir` that is not a folder
    /// is a usage error before any source is read.
    pub(super) fn options(&self) -> Result<SpillOptions, Failure> {
        if let Some(dir) = &self.temp_dir
            && !dir.is_dir()
        {
            return Err(Failure::usage(format!(
                "error: --temp-dir `{}` is not a folder\n  help: create it, or leave --temp-dir out to use TMPDIR (else /tmp)\n",
                dir.display()
            )));
        }
        Ok(SpillOptions {
            temp_dir: self.temp_dir.as_deref().map(Arc::from),
            chunk_rows: self.spill_rows.unwrap_or(SpillOptions::CHUNK_ROWS),
            ..SpillOptions::default()
        })
    }
}

impl ReadArgs {
    /// How replays hold their rows (`SpillArgs::options`).
    pub(super) fn spill(&self) -> Result<SpillOptions, Failure> {
        self.spill.options()
    }
}

pub(super) fn read_options(args: &ReadArgs) -> Result<ReadOptions, Failure> {
    Ok(ReadOptions {
        max_bad_rows: args.max_bad_rows.unwrap_or(0),
        spill: args.spill()?,
    })
}

/// A scenario or plan loaded as `read` says, failing on its warnings when
/// `--deny-warnings` asks. `rules`: the names the target takes.
pub(super) fn load(
    input: &Path,
    read: &ReadArgs,
    rules: &dyn NameRules,
) -> Result<app::Loaded, Failure> {
    let loaded = output::load_scenario_or_plan(input, read.max_bad_rows, read.spill()?, rules)?;
    loaded.deny_warnings(read.deny_warnings)?;
    Ok(loaded)
}

/// A scenario or plan, loaded, and `now` for it: what records, labels and
/// verify all begin with. `--anchor` is read first: a malformed one is said
/// before any source is read. `rules`: the names the target takes.
pub(super) fn load_with_anchor(
    input: &Path,
    read: &ReadArgs,
    anchor: Option<&str>,
    rules: &dyn NameRules,
) -> Result<(app::Loaded, i64), Failure> {
    let anchor = output::parse_anchor(anchor)?;
    let loaded = load(input, read, rules)?;
    let anchor = output::anchor(anchor, loaded.prepared.anchor_align);
    Ok((loaded, anchor))
}

/// The target `name` of the configuration file `config`: a file that
/// cannot be read is a usage error (exit 2), one with problems draws them
/// (exit 1).
pub(super) fn config_target(config: &Path, name: &str) -> Result<Target, Failure> {
    let text = std::fs::read_to_string(config).map_err(|error| {
        Failure::usage(format!(
            "error: cannot read `{}`: {error}\n  help: targets are named in `{}` (or the file given with --config)\n",
            config.display(),
            config::CONFIG_FILE
        ))
    })?;
    let env = |name: &str| std::env::var(name).ok();
    config::target(&text, name, &env).map_err(|problems| {
        Failure::input(render::human(
            &config.display().to_string(),
            &problems.shown,
            &problems.diagnostics,
            diagnostics_style(),
        ))
    })
}
