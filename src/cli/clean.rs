//! `outatime clean`: its arguments, the scenario's tables, the confirmation
//! and the report.

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};

use super::exit::Exit;
use super::output::diagnostics_style;
use super::output::{self, Failure};
use super::output::{say, sayln};
use crate::app;
use crate::clean::CleanReport;
use crate::clean::error::CleanError;
use crate::diagnostics::render;

#[derive(clap::Args)]
pub(super) struct CleanArgs {
    /// A scenario, or a plan (the scenario it names is read; sources are not)
    input: PathBuf,
    /// The target named in the configuration whose tables are deleted
    #[arg(long, value_name = "NAME")]
    target: String,
    /// The configuration that names targets
    #[arg(long, value_name = "FILE", default_value = crate::targets::config::CONFIG_FILE)]
    config: PathBuf,
    /// Print what would be deleted and delete nothing
    #[arg(long)]
    dry_run: bool,
    /// Delete without asking (required when stdin is not a terminal)
    #[arg(long)]
    yes: bool,
    /// Also write a JSON report of what was deleted and skipped here
    #[arg(long, value_name = "FILE.json")]
    report: Option<PathBuf>,
}

impl CleanArgs {
    /// `outatime test --clean`: the scenario's tables on the target, with
    /// no question asked.
    pub(super) fn after_test(input: &Path, target: &str, config: &Path) -> CleanArgs {
        CleanArgs {
            input: input.to_path_buf(),
            target: target.to_string(),
            config: config.to_path_buf(),
            dry_run: false,
            yes: true,
            report: None,
        }
    }
}

/// How long one request may take.
const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

pub(super) fn clean(args: &CleanArgs) -> Result<Exit, Failure> {
    use crate::targets::config::Target;
    if let Some(report) = &args.report {
        output::check_writable("--report", report)?;
    }
    let named = super::apply::named_target(&args.config, &args.target)?;
    if named.policy.read_only {
        return Err(CleanError::ReadOnly {
            target: args.target.clone(),
        }
        .into());
    }
    // The scenario's names are held to this target's rules, as `check
    // --target`, `apply` and `verify` hold them.
    let rules = named.target.name_rules();
    let tables = |survey: &dyn Fn(&[String]) -> Result<crate::clean::Survey, CleanError>| {
        scenario_tables(&args.input, rules)
            .and_then(|tables| survey(&tables).map_err(Failure::from))
    };
    let mut survey = match named.target {
        Target::Timestream(settings) => {
            tables(&|names| crate::clean::survey_timestream(&settings, names, REQUEST_TIMEOUT))?
        }
        Target::Influxdb(settings) => {
            if let Some(kind) = crate::clean::influxdb::unsupported(&settings) {
                return Err(not_supported(
                    args,
                    kind,
                    "InfluxDB 3 deletes no points, so outatime cannot remove its marker: delete the tables with `influxdb3 delete table`, or write each run to its own database and delete that",
                ));
            }
            tables(&|names| crate::clean::influxdb::survey(&settings, names, REQUEST_TIMEOUT))?
        }
        Target::File { .. } => {
            return Err(not_supported(
                args,
                "a file target",
                "delete the target's folder",
            ));
        }
    };
    // What would be deleted is said before anything is: output that
    // cannot be written (other than to a reader gone away) stops the clean.
    let mut lines: String = survey
        .rows
        .iter()
        .map(|row| row.line(args.dry_run) + "\n")
        .collect();
    lines.push_str(
        "tables the scenario does not name are not looked at; the database is never deleted\n",
    );
    output::print(&lines)?;
    let to_delete = survey.to_delete();
    let mut result = Ok(0);
    if to_delete == 0 {
        output::print("nothing to delete\n")?;
    } else if args.dry_run {
        output::print("dry run: nothing deleted\n")?;
    } else {
        result = confirm(args.yes, to_delete)
            .and_then(|()| survey.delete(&mut |line: &str| sayln!("{line}")));
    }
    let report = CleanReport {
        target: args.target.clone(),
        dry_run: args.dry_run,
        deleted: survey.rows.iter().filter(|r| r.deleted).count(),
        tables: survey.rows,
    };
    let unreported = args
        .report
        .as_ref()
        .and_then(|path| write_report(path, &report).err());
    // The clean's own failure decides the exit code; a report that could
    // not be written is said too, never in its place.
    let deleted = match (result, unreported) {
        (Err(error), Some(unreported)) => {
            say!("{}", unreported.text);
            return Err(error.into());
        }
        (Err(error), None) => return Err(error.into()),
        (Ok(_), Some(unreported)) => return Err(unreported),
        (Ok(deleted), None) => deleted,
    };
    if deleted > 0 {
        output::print(&format!("deleted {deleted} table(s)\n"))?;
    }
    Ok(Exit::Success)
}

fn not_supported(args: &CleanArgs, kind: &'static str, fix: &'static str) -> Failure {
    CleanError::NotSupported {
        target: args.target.clone(),
        kind,
        fix,
    }
    .into()
}

/// `--yes`, or a `y` on the terminal.
fn confirm(yes: bool, tables: usize) -> Result<(), CleanError> {
    if yes {
        return Ok(());
    }
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(CleanError::NeedsYes { tables });
    }
    say!("delete {tables} table(s)? [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    if stdin.lock().read_line(&mut answer).is_err() {
        return Err(CleanError::Declined);
    }
    match answer.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => Ok(()),
        _ => Err(CleanError::Declined),
    }
}

/// The target names of the scenario's tables: a scenario checked against
/// the target's naming `rules` (its sources are not read), or the scenario
/// a plan names.
fn scenario_tables(
    input: &Path,
    rules: &dyn crate::model::NameRules,
) -> Result<Vec<String>, Failure> {
    let read = |path: &Path| {
        std::fs::read_to_string(path)
            .map_err(|e| Failure::usage(format!("error: cannot read `{}`: {e}\n", path.display())))
    };
    let text = read(input)?;
    let folder = |path: &Path| -> PathBuf {
        path.parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf()
    };
    let (path, text) = if app::looks_like_plan(&text) {
        let plan = app::read_plan(input, &text)?;
        let path = folder(input).join(&plan.scenario_file);
        let text = read(&path)?;
        (path, text)
    } else {
        (input.to_path_buf(), text)
    };
    let checked = crate::validate::check::check_text(&text, &folder(&path), rules);
    let shown = path.display().to_string();
    say!(
        "{}",
        render::human(&shown, &text, &checked.diagnostics, diagnostics_style())
    );
    let Some(scenario) = checked.scenario else {
        return Err(Failure::input(format!(
            "error: `{shown}` is not a valid scenario (see above)\n"
        )));
    };
    Ok(scenario
        .tables
        .values()
        .map(|t| t.target_name.clone())
        .collect())
}

fn write_report(path: &Path, report: &CleanReport) -> Result<(), Failure> {
    let json = serde_json::to_string_pretty(report)
        .map_err(|e| Failure::usage(format!("error: cannot write `{}`: {e}\n", path.display())))?;
    output::write_output(Some(path), &(json + "\n"))
}

#[cfg(test)]
mod tests {
    use crate::clean::Action;

    #[test]
    fn rows_say_what_clean_does() {
        let row = |action| crate::clean::Row {
            table: "db.t_alpha".into(),
            name: "t_alpha".into(),
            kind: crate::targets::Kind::Timestream,
            action,
            scenario: Some("demo".into()),
            deleted: false,
        };
        assert_eq!(
            row(Action::Delete).line(true),
            "would delete `db.t_alpha` (created by outatime for `demo`)"
        );
        assert_eq!(
            row(Action::SkipMissing).line(false),
            "skip `db.t_alpha`: it does not exist"
        );
        assert!(
            row(Action::SkipUntagged)
                .line(false)
                .contains("never deleted")
        );
    }
}
