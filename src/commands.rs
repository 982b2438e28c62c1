//! The compiling commands: `plan`, `records`, `labels`, `diff`. Each loads
//! a scenario (or a plan and the scenario it pins), runs the compiler and
//! writes its artifact; errors come back as `Failure` for `cli` to print.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::compile::run_on_two_threads;
use crate::compile::{self, CompileError, Prepared};
use crate::diagnostics::render::{self, Style};
use crate::model::NameRules;
use crate::model::{Scenario, TimePoint};
use crate::plan::{self, Plan, PlanInputs, Summary, Tee};
use crate::plan::{PlanError, SerializeError, StaleChange};
pub(crate) use crate::record::output::RecordFormat;
use crate::record::output::{Digest, RecordWriter};
use crate::sources::{ReadOptions, SpillOptions};
use crate::validate::check::Checked;

/// Why a command stopped, already worded; `code` is the exit code.
pub struct Failure {
    pub code: u8,
    pub text: String,
}

impl Failure {
    pub(crate) fn input(text: impl Into<String>) -> Failure {
        Failure {
            code: 1,
            text: text.into(),
        }
    }

    pub(crate) fn usage(text: impl Into<String>) -> Failure {
        Failure {
            code: 2,
            text: text.into(),
        }
    }
}

impl From<CompileError> for Failure {
    fn from(e: CompileError) -> Failure {
        Failure::input(e.worded() + "\n")
    }
}

impl From<PlanError> for Failure {
    fn from(e: PlanError) -> Failure {
        Failure::input(e.to_string())
    }
}

impl From<SerializeError> for Failure {
    fn from(e: SerializeError) -> Failure {
        Failure::input(format!("error[{}]: {e}\n  help: {}\n", e.code(), e.help()))
    }
}

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
    pub(crate) fn deny_warnings(&self, deny: bool) -> Result<(), Failure> {
        if deny && self.warnings > 0 {
            return Err(CompileError::DeniedWarnings {
                count: self.warnings,
            }
            .into());
        }
        Ok(())
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

/// Reads, checks and prepares a scenario file; diagnostics go to stderr.
pub fn load(path: &Path, options: ReadOptions, style: Style) -> Result<Loaded, Failure> {
    let budget = format!("--max-bad-rows {}", options.max_bad_rows);
    load_reading(path, options, &budget, crate::targets::DEFAULT_RULES, style)
}

/// [`load`], with the words that say where the bad-row budget came from,
/// and the names the target takes.
fn load_reading(
    path: &Path,
    options: ReadOptions,
    budget: &str,
    rules: &dyn NameRules,
    style: Style,
) -> Result<Loaded, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::usage(format!("error: cannot read `{}`: {e}\n", path.display())))?;
    let base = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let checked = crate::validate::check::check_text(&text, base, rules);
    let shown = path.display().to_string();
    eprint!(
        "{}",
        render::human(&shown, &text, &checked.diagnostics, style)
    );
    let Some(scenario) = checked.scenario else {
        return Err(Failure::input(format!(
            "error: `{shown}` is not a valid scenario (see above)\n"
        )));
    };
    let prepared = compile::prepare(&scenario, options, rules)?;
    let data_warnings = compile::warnings::unseen(&text, &checked.diagnostics, &prepared.warnings);
    eprint!("{}", render::human(&shown, &text, &data_warnings, style));
    let warnings = data_warnings.len()
        + checked
            .diagnostics
            .iter()
            .filter(|d| d.severity() == crate::diagnostics::Severity::Warning)
            .count();
    for (name, summary) in &prepared.sources {
        if summary.bad_rows == 0 {
            continue;
        }
        eprintln!(
            "warning: source `{name}`: skipped {} bad row(s) ({budget}); the first:",
            summary.bad_rows
        );
        for skipped in &summary.skipped {
            eprintln!("  - {skipped}");
        }
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
pub fn compile_plan(loaded: &Loaded, plan_dir: &Path) -> Result<Plan, Failure> {
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
pub(crate) fn stream_digest(loaded: &Loaded) -> Result<String, Failure> {
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
    style: Style,
) -> Result<Loaded, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::usage(format!("error: cannot read `{}`: {e}\n", path.display())))?;
    if !looks_like_plan(&text) {
        let options = ReadOptions {
            max_bad_rows: max_bad_rows.unwrap_or(0),
            spill,
        };
        let budget = format!("--max-bad-rows {}", options.max_bad_rows);
        return load_reading(path, options, &budget, rules, style);
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
            return Err(Failure::usage(format!(
                "error: --max-bad-rows {given} is fewer than the {pinned} bad row(s) the plan pins for source `{name}`\n  help: leave --max-bad-rows out: a plan skips the bad rows it pins\n"
            )));
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
    let mut loaded = load_reading(&scenario_path, options, &budget, rules, style)?;
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
pub(crate) fn read_plan(path: &Path, text: &str) -> Result<Plan, Failure> {
    plan::from_yaml(text).map_err(|reason| {
        PlanError::Invalid {
            path: path.to_path_buf(),
            reason,
        }
        .into()
    })
}

pub(crate) fn looks_like_plan(text: &str) -> bool {
    text.lines()
        .find(|l| !l.starts_with('#') && !l.trim().is_empty())
        .is_some_and(|l| l.starts_with("format: outatime-plan"))
}

/// `--anchor` read, not yet aligned (`None`: the wall clock, read once the
/// scenario is loaded). Read before anything else, so that a malformed one
/// is said (exit 2) before any source is read.
pub(crate) fn parse_anchor(given: Option<&str>) -> Result<Option<i64>, Failure> {
    let Some(text) = given else {
        return Ok(None);
    };
    let instant = crate::lang::literal::parse_timestamp(text).map_err(|e| {
        let looks_like_a_date = text.len() >= 10
            && text.as_bytes()[..4].iter().all(u8::is_ascii_digit)
            && text.as_bytes()[4] == b'-';
        let reason = match e {
            crate::lang::literal::LiteralError::Malformed(_) if !looks_like_a_date => {
                "it is not a date and time".into()
            }
            other => other.timestamp_reason(),
        };
        Failure::usage(format!(
            "error: --anchor `{text}` is not an RFC 3339 time: {reason}\n  help: write it like 2026-11-27T18:00:00Z\n"
        ))
    })?;
    Ok(Some(instant.0))
}

/// The anchor [`parse_anchor`] read, or the wall clock; aligned either way.
/// Says which on stderr when it was the clock.
pub(crate) fn anchor(given: Option<i64>, align: i64) -> i64 {
    match given {
        Some(raw) => compile::align(raw, align),
        None => {
            let now = chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0);
            let aligned = compile::align(now, align);
            eprintln!(
                "anchor: now = {} (the wall clock, rounded down to the scenario's anchor align)",
                crate::lang::literal::Instant(aligned)
            );
            aligned
        }
    }
}

/// The record stream for `anchor` on stdout, in `format`.
pub(crate) fn records(loaded: &Loaded, anchor: i64, format: RecordFormat) -> Result<(), Failure> {
    let sink = RecordWriter::new(format, std::io::stdout(), &loaded.prepared.catalog);
    let result = run_on_two_threads(&loaded.prepared, anchor, sink)
        .and_then(|(sink, _)| sink.finish().map_err(CompileError::Io))
        .map(|_| ());
    match result {
        Ok(()) => Ok(()),
        // The reader went away (`| head`): what it wanted was written.
        Err(CompileError::Io(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Labels with concrete UTC windows for one anchor, as JSON.
pub fn labels(loaded: &Loaded, anchor: i64) -> Result<String, Failure> {
    let mut summary = Summary::default();
    let hits = loaded.prepared.run(anchor, &mut summary)?;
    let catalog = &loaded.prepared.catalog;
    let time = |point: TimePoint| crate::record::time_string(point.at(anchor));
    let mut out: Vec<serde_json::Value> = crate::plan::labels::labels(&loaded.scenario, catalog, &hits)
        .into_iter()
        .map(|label| {
            let a = label.anomaly;
            serde_json::json!({
                "line": a.line,
                "kind": a.kind.name(),
                "table": label.table.target,
                "measure": a.measure,
                "series": label.series.dims.iter().cloned().collect::<std::collections::BTreeMap<_, _>>(),
                "from": time(label.from),
                "to": time(label.to),
            })
        })
        .collect();
    // By the series' JSON text, the order this command has always written:
    // it differs from the plan's (by dimensions) only where a value holds a
    // character that sorts below `"`, such as a space.
    out.sort_by_key(|v| (v["line"].as_u64(), v["series"].to_string()));
    let text = serde_json::to_string_pretty(&out).map_err(|e| SerializeError::Labels {
        reason: e.to_string(),
    })?;
    Ok(text + "\n")
}

/// `plan --check`'s committed plan, read before the scenario is loaded:
/// one that cannot be read is a usage error (exit 2) said at once.
pub(crate) fn read_committed(committed_path: &Path) -> Result<String, Failure> {
    std::fs::read_to_string(committed_path).map_err(|e| {
        Failure::usage(format!(
            "error: cannot read `{}`: {e}\n",
            committed_path.display()
        ))
    })
}

/// `plan --check`: the committed plan (`committed`, read from
/// `committed_path`) against a fresh one.
pub(crate) fn check_plan(
    loaded: &Loaded,
    committed_path: &Path,
    committed: &str,
) -> Result<(), Failure> {
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

/// For a file an option names to be written (`--report`, `--output`):
/// its folder must exist, checked before any source is read, so that a
/// long run does not end in a usage error.
pub(crate) fn check_folder_of(option: &str, path: &Path) -> Result<(), Failure> {
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if folder.is_dir() {
        return Ok(());
    }
    Err(Failure::usage(format!(
        "error: cannot write {option} `{}`: the folder `{}` does not exist\n  help: create the folder first, or name a file in one that exists\n",
        path.display(),
        folder.display()
    )))
}

/// `text` to the file `path`, or to stdout ([`print`]).
pub(crate) fn write_output(path: Option<&Path>, text: &str) -> Result<(), Failure> {
    match path {
        Some(p) => std::fs::write(p, text)
            .map_err(|e| Failure::usage(format!("error: cannot write `{}`: {e}\n", p.display()))),
        None => print(text),
    }
}

/// `text` to stdout, for every command that writes there. A reader that
/// went away (`| head`, a closed pipe) is not an error: it has what it
/// wanted, and the command goes on to exit as it would have (0, or 1 for
/// `diff`'s plans that differ), saying nothing. Any other failed write
/// (`> /dev/full`) is one (exit 1).
pub(crate) fn print(text: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Failure::input(format!(
            "error: cannot write the output: {e}\n"
        ))),
        _ => Ok(()),
    }
}
