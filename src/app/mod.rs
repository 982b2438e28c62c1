//! What every command does before its own work: a scenario (or a plan and
//! the scenario it pins) read, checked and prepared; the plan compiled; the
//! stream's digest; the labels. Nothing here prints or picks an exit code:
//! what loading shows goes to the caller as [`Shown`], what stops it comes
//! back as an [`Error`], and `cli/` words both.

use std::path::{Path, PathBuf};

use crate::compile::{self, CompileError, Prepared};
use crate::diagnostics::{Diagnostic, Severity};
use crate::model::NameRules;
use crate::model::{Scenario, TimePoint};
use crate::plan::{self, Plan, PlanInputs, Summary, Tee};
use crate::plan::{PlanError, SerializeError, StaleChange};
use crate::record::output::Digest;
use crate::sources::{ReadOptions, SpillOptions};
use crate::validate::check::Checked;

/// A scenario checked and read, ready to run.
pub struct Loaded {
    pub path: PathBuf,
    pub text: String,
    pub scenario: Scenario,
    pub prepared: Prepared,
    /// The stream digest, once known: a plan's, verified on loading.
    pub stream_digest: Option<String>,
    /// Warnings drawn while loading (the scenario's and its data's), for
    /// `--deny-warnings`.
    pub warnings: usize,
}

impl Loaded {
    /// `--deny-warnings`: any warning stops the command before it writes.
    pub(crate) fn deny_warnings(&self, deny: bool) -> Result<(), Error> {
        if deny && self.warnings > 0 {
            return Err(CompileError::DeniedWarnings {
                count: self.warnings,
            }
            .into());
        }
        Ok(())
    }
}

/// What loading shows as it goes, in order, for the caller to draw: the
/// scenario's diagnostics (or its data's warnings), and the bad rows a
/// source skipped.
pub(crate) enum Shown<'a> {
    Diagnostics {
        file: &'a str,
        text: &'a str,
        diagnostics: &'a [Diagnostic],
    },
    SkippedRows {
        source: &'a str,
        count: u64,
        /// Where the bad-row budget came from: `--max-bad-rows N`, or "as
        /// the plan pins".
        budget: &'a str,
        /// The first rows skipped.
        first: &'a [crate::sources::DataError],
    },
}

/// Why loading or compiling stopped. A wrapped error keeps its own code
/// and help; the others have none (they name a file or an option).
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    /// The scenario or plan file could not be read.
    #[error("cannot read `{}`: {error}", path.display())]
    Unreadable {
        path: PathBuf,
        #[source]
        error: std::io::Error,
    },
    /// The scenario has errors; its diagnostics were shown.
    #[error("`{path}` is not a valid scenario (see above)")]
    Invalid { path: String },
    /// `--max-bad-rows` below the bad rows a plan pins for a source.
    #[error(
        "--max-bad-rows {given} is fewer than the {pinned} bad row(s) the plan pins for source `{source_name}`"
    )]
    BudgetBelowPinned {
        given: u64,
        pinned: u64,
        source_name: String,
    },
    #[error(transparent)]
    Compile(CompileError),
    #[error(transparent)]
    Plan(PlanError),
    #[error(transparent)]
    Serialize(SerializeError),
}

impl miette::Diagnostic for Error {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        match self {
            Error::Compile(e) => miette::Diagnostic::code(e),
            Error::Plan(e) => miette::Diagnostic::code(e),
            Error::Serialize(e) => miette::Diagnostic::code(e),
            Error::Unreadable { .. } | Error::Invalid { .. } | Error::BudgetBelowPinned { .. } => {
                None
            }
        }
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        match self {
            Error::Compile(e) => miette::Diagnostic::help(e),
            Error::Plan(e) => miette::Diagnostic::help(e),
            Error::Serialize(e) => miette::Diagnostic::help(e),
            Error::BudgetBelowPinned { .. } => Some(Box::new(
                "leave --max-bad-rows out: a plan skips the bad rows it pins",
            )),
            Error::Unreadable { .. } | Error::Invalid { .. } => None,
        }
    }
}

impl From<CompileError> for Error {
    fn from(e: CompileError) -> Error {
        Error::Compile(e)
    }
}

impl From<PlanError> for Error {
    fn from(e: PlanError) -> Error {
        Error::Plan(e)
    }
}

impl From<SerializeError> for Error {
    fn from(e: SerializeError) -> Error {
        Error::Serialize(e)
    }
}

/// Parses and validates scenario text. `base_dir` is the folder that source
/// paths are relative to (the scenario file's). Names are held to
/// Timestream's rules, the default.
pub fn check_text(text: &str, base_dir: &Path) -> Checked {
    crate::validate::check::check_text(text, base_dir, crate::targets::DEFAULT_RULES)
}

/// Prepares a valid scenario for the default target's names (Timestream's):
/// its sources read, its models fitted.
pub fn prepare(scenario: &Scenario, options: ReadOptions) -> Result<Prepared, CompileError> {
    compile::prepare(scenario, options, crate::targets::DEFAULT_RULES)
}

/// Reads, checks and prepares a scenario file for the default target's
/// names; what it shows goes to `show`.
pub(crate) fn load(
    path: &Path,
    options: ReadOptions,
    show: &mut dyn FnMut(Shown),
) -> Result<Loaded, Error> {
    let budget = format!("--max-bad-rows {}", options.max_bad_rows);
    load_reading(path, options, &budget, crate::targets::DEFAULT_RULES, show)
}

/// [`load`], with the words that say where the bad-row budget came from,
/// and the names the target takes.
fn load_reading(
    path: &Path,
    options: ReadOptions,
    budget: &str,
    rules: &dyn NameRules,
    show: &mut dyn FnMut(Shown),
) -> Result<Loaded, Error> {
    let text = read(path)?;
    let base = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let checked = crate::validate::check::check_text(&text, base, rules);
    let shown = path.display().to_string();
    show(Shown::Diagnostics {
        file: &shown,
        text: &text,
        diagnostics: &checked.diagnostics,
    });
    let Some(scenario) = checked.scenario else {
        return Err(Error::Invalid { path: shown });
    };
    let prepared = compile::prepare(&scenario, options, rules)?;
    let data_warnings = compile::warnings::unseen(&text, &checked.diagnostics, &prepared.warnings);
    show(Shown::Diagnostics {
        file: &shown,
        text: &text,
        diagnostics: &data_warnings,
    });
    let warnings = data_warnings.len()
        + checked
            .diagnostics
            .iter()
            .filter(|d| d.severity() == Severity::Warning)
            .count();
    for (name, summary) in &prepared.sources {
        if summary.bad_rows == 0 {
            continue;
        }
        show(Shown::SkippedRows {
            source: name,
            count: summary.bad_rows,
            budget,
            first: &summary.skipped,
        });
    }
    Ok(Loaded {
        path: path.to_path_buf(),
        text,
        scenario,
        prepared,
        stream_digest: None,
        warnings,
    })
}

/// Compiles the plan: one run at the epoch as anchor, summarised and digested.
pub(crate) fn compile_plan(loaded: &Loaded, plan_dir: &Path) -> Result<Plan, Error> {
    let mut summary = Summary::default();
    let mut digest = Digest::new(&loaded.prepared.catalog);
    let hits = loaded
        .prepared
        .run(0, &mut Tee(&mut summary, &mut digest))?;
    Ok(plan::build(PlanInputs {
        scenario: &loaded.scenario,
        scenario_file: relative_path(&loaded.path, plan_dir),
        scenario_digest: format!("blake3:{}", blake3::hash(loaded.text.as_bytes()).to_hex()),
        prepared: &loaded.prepared,
        summary,
        hits,
        stream_digest: digest.finish(),
    }))
}

/// Which records these are, whatever the anchor: the plan's stream digest,
/// from the verified plan or from one pass that only hashes (no summaries).
pub(crate) fn stream_digest(loaded: &Loaded) -> Result<String, CompileError> {
    if let Some(digest) = &loaded.stream_digest {
        return Ok(digest.clone());
    }
    let mut digest = Digest::new(&loaded.prepared.catalog);
    loaded.prepared.run(0, &mut digest)?;
    Ok(digest.finish())
}

/// `path` as seen from `dir`, with `/` separators, for the plan to name its
/// scenario wherever the checkout is.
fn relative_path(path: &Path, dir: &Path) -> String {
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let (path, dir) = (absolute(path), absolute(dir));
    let mut common = 0;
    let (p, d): (Vec<_>, Vec<_>) = (path.components().collect(), dir.components().collect());
    while common < p.len() && common < d.len() && p[common] == d[common] {
        common += 1;
    }
    let mut parts: Vec<String> = vec!["..".to_string(); d.len() - common];
    parts.extend(
        p[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    parts.join("/")
}

/// A scenario, or a plan with the scenario it pins (checked against every
/// digest in the plan before anything is written).
///
/// `max_bad_rows` is `--max-bad-rows` when given. Without it a scenario
/// skips no bad row, and a plan skips the bad rows it pins: its sources'
/// digests pin the very files, so the same rows are bad again. A budget
/// given with a plan cannot change the stream either: a larger one reads
/// the pinned files the same way, a smaller one could not read them and is
/// refused before any source is read (exit 2).
///
/// `rules` are the names the target takes (Timestream's by default).
pub(crate) fn load_scenario_or_plan(
    path: &Path,
    max_bad_rows: Option<u64>,
    spill: SpillOptions,
    rules: &dyn NameRules,
    show: &mut dyn FnMut(Shown),
) -> Result<Loaded, Error> {
    let text = read(path)?;
    if !looks_like_plan(&text) {
        let options = ReadOptions {
            max_bad_rows: max_bad_rows.unwrap_or(0),
            spill,
        };
        let budget = format!("--max-bad-rows {}", options.max_bad_rows);
        return load_reading(path, options, &budget, rules, show);
    }
    let pinned = read_plan(path, &text)?;
    // The source that pins the most bad rows: the budget every source needs.
    let most = pinned
        .sources
        .iter()
        .max_by_key(|(_, source)| source.bad_rows)
        .map(|(name, source)| (name.as_str(), source.bad_rows));
    let (options, budget) = match (max_bad_rows, most) {
        (Some(given), Some((name, pinned))) if given < pinned => {
            return Err(Error::BudgetBelowPinned {
                given,
                pinned,
                source_name: name.to_string(),
            });
        }
        (Some(given), _) => (given, format!("--max-bad-rows {given}")),
        (None, most) => (
            most.map_or(0, |(_, pinned)| pinned),
            "as the plan pins".to_string(),
        ),
    };
    let options = ReadOptions {
        max_bad_rows: options,
        spill,
    };
    let plan_dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let scenario_path = plan_dir.join(&pinned.scenario_file);
    let mut loaded = load_reading(&scenario_path, options, &budget, rules, show)?;
    let fresh = compile_plan(&loaded, plan_dir)?;
    let mut changes = Vec::new();
    if fresh.scenario_digest != pinned.scenario_digest {
        changes.push(StaleChange::Scenario {
            file: pinned.scenario_file.clone(),
        });
    }
    for (name, source) in &pinned.sources {
        match fresh.sources.get(name) {
            Some(now) if now.digest == source.digest => {}
            Some(now) => changes.push(StaleChange::Source {
                name: name.clone(),
                path: source.path.clone(),
                pinned: source.digest.clone(),
                now: now.digest.clone(),
            }),
            None => changes.push(StaleChange::SourceGone { name: name.clone() }),
        }
    }
    if fresh.stream_digest != pinned.stream_digest {
        changes.push(StaleChange::Stream {
            pinned: pinned.stream_digest.clone(),
            now: fresh.stream_digest.clone(),
        });
    }
    if !changes.is_empty() {
        return Err(PlanError::Stale {
            path: path.to_path_buf(),
            changes,
        }
        .into());
    }
    loaded.stream_digest = Some(fresh.stream_digest);
    Ok(loaded)
}

/// A plan's text (read from `path`) as a plan, or `plan::invalid`.
pub(crate) fn read_plan(path: &Path, text: &str) -> Result<Plan, PlanError> {
    plan::from_yaml(text).map_err(|error| PlanError::Invalid {
        path: path.to_path_buf(),
        error,
    })
}

/// A scenario or plan file's text.
fn read(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|error| Error::Unreadable {
        path: path.to_path_buf(),
        error,
    })
}

pub(crate) fn looks_like_plan(text: &str) -> bool {
    text.lines()
        .find(|l| !l.starts_with('#') && !l.trim().is_empty())
        .is_some_and(|l| l.starts_with("format: outatime-plan"))
}

/// Labels with concrete UTC windows for one anchor, as JSON.
pub(crate) fn labels(loaded: &Loaded, anchor: i64) -> Result<String, Error> {
    let mut summary = Summary::default();
    let hits = loaded.prepared.run(anchor, &mut summary)?;
    let catalog = &loaded.prepared.catalog;
    // The run bound every anomaly's window at `anchor`, and its records;
    // a label past them is an error all the same, never a saturated time.
    let time = |point: TimePoint, line: usize| {
        point
            .at(anchor)
            .map(crate::record::time_string)
            .ok_or(CompileError::TimeOutOfRange {
                statement: crate::compile::error::Statement::Anomaly,
                line,
                reached: None,
            })
    };
    let mut out: Vec<serde_json::Value> = crate::plan::labels::labels(&loaded.scenario, catalog, &hits)
        .into_iter()
        .map(|label| {
            let a = label.anomaly;
            let mut json = serde_json::json!({
                "line": a.line,
                "kind": a.kind.name(),
                "table": label.table.target,
                "measure": a.measure,
                "series": label.series.dims.iter().cloned().collect::<std::collections::BTreeMap<_, _>>(),
                "from": time(label.from, a.line)?,
                "to": time(label.to, a.line)?,
            });
            // A named anomaly's label carries its name; an unnamed one's
            // stays as it always was.
            if let Some(name) = &a.name {
                json["name"] = serde_json::Value::String(name.clone());
            }
            Ok(json)
        })
        .collect::<Result<_, CompileError>>()?;
    // By the series' JSON text, the order this command has always written:
    // it differs from the plan's (by dimensions) only where a value holds a
    // character that sorts below `"`, such as a space.
    out.sort_by_key(|v| (v["line"].as_u64(), v["series"].to_string()));
    let text = serde_json::to_string_pretty(&out).map_err(SerializeError::Labels)?;
    Ok(text + "\n")
}

/// `plan --check`: the committed plan (`committed`, read from
/// `committed_path`) against a fresh one.
pub(crate) fn check_plan(
    loaded: &Loaded,
    committed_path: &Path,
    committed: &str,
) -> Result<(), Error> {
    let dir = committed_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let fresh = plan::to_yaml(&compile_plan(loaded, dir)?)?;
    if fresh == committed {
        return Ok(());
    }
    let diff = match plan::from_yaml(committed) {
        Ok(old) => {
            // The fresh plan was made from this very text a moment ago.
            let new = read_plan(committed_path, &fresh)?;
            Some(crate::review::diff::diff(&old, &new)?.render_text())
        }
        Err(_) => None,
    };
    Err(PlanError::Outdated {
        path: committed_path.to_path_buf(),
        scenario: loaded.path.clone(),
        diff,
    }
    .into())
}
