//! `outatime test` (apply, then evaluate every expectation, then clean
//! when asked) and `outatime expect` (evaluate only): their arguments, the
//! listener for alerts, the line an expectation, JUnit and the report.

use std::path::{Path, PathBuf};

use super::apply::ApplyArgs;
use super::exit::Exit;
use super::input::{ReadArgs, load_with_anchor};
use super::output::{self, Failure};
use super::output::{say, sayln};
use std::sync::atomic::{AtomicBool, Ordering};

use super::apply::Hooks;
use crate::apply::report::Signal;
use crate::expect::receiver::{self, Inbox, Listener};
use crate::expect::report;
use crate::expect::{Ask, Outcome, Ready, Said, Verdict};
use crate::model::Scenario;
use crate::targets::config::Target;

#[derive(clap::Args)]
pub(super) struct TestArgs {
    #[command(flatten)]
    apply: ApplyArgs,
    #[command(flatten)]
    outputs: Outputs,
    /// After the expectations, delete the tables the scenario wrote (as
    /// `outatime clean --yes`; only tables outatime created)
    #[arg(long)]
    clean: bool,
}

#[derive(clap::Args)]
pub(super) struct ExpectArgs {
    /// A scenario, or a plan
    input: PathBuf,
    /// The anchor the apply wrote with, RFC 3339 (rounded down to `anchor align`)
    #[arg(long, value_name = "RFC3339")]
    anchor: String,
    /// The target named in the configuration the expectations query
    #[arg(long, value_name = "NAME")]
    target: String,
    /// The configuration that names targets
    #[arg(long, value_name = "FILE", default_value = crate::targets::config::CONFIG_FILE)]
    config: PathBuf,
    /// Also write a JSON report (every expectation, every notification) here
    #[arg(long, value_name = "FILE.json")]
    report: Option<PathBuf>,
    #[command(flatten)]
    outputs: Outputs,
    #[command(flatten)]
    read: ReadArgs,
}

/// What both commands share.
#[derive(clap::Args)]
struct Outputs {
    /// Receive Alertmanager's and Grafana's webhook notifications here, for
    /// `expect alert` (`127.0.0.1:9095`, or `:9095` on every interface)
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
    /// Also write the verdicts as JUnit XML here (one test case an expectation)
    #[arg(long, value_name = "FILE.xml")]
    junit: Option<PathBuf>,
}

pub(super) fn test(args: &TestArgs) -> Result<Exit, Failure> {
    for (flag, path) in [
        ("--report", args.apply.report()),
        ("--junit", args.outputs.junit.as_deref()),
    ] {
        if let Some(path) = path {
            output::check_writable(flag, path)?;
        }
    }
    if args.apply.dry_run() {
        return Err(Failure::usage(
            "error: `outatime test` evaluates what it wrote: --dry-run has nothing to evaluate\n  help: run `outatime apply --dry-run` to see what would be written\n",
        ));
    }
    if args.apply.target_name().is_none() {
        return Err(no_database());
    }
    let name = args.apply.target_name().unwrap_or_default();
    if let Target::File { .. } = super::input::config_target(args.apply.config(), name)? {
        return Err(no_database());
    }
    let alerts = needs_listener(args.apply.input())?;
    let listener = listener(&args.outputs, alerts)?;
    let inbox = listener.as_ref().map(|l| l.inbox.clone());
    let ready = Ready::default();
    // The expectations are asked on a thread of their own from the moment
    // the scenario is loaded: they start once the writes have caught up,
    // which under `--pace live` is long before the apply ends. SIGINT and
    // SIGTERM stop them (the apply stops on its own).
    let ((ran, asked), signal) = interruptible(false, |stop| {
        std::thread::scope(|scope| {
            let mut evaluation = None;
            let ran = {
                let mut loaded = |scenario: &Scenario, anchor: i64, target: &Target| {
                    let (scenario, target) = (scenario.clone(), target.clone());
                    let (ready, inbox) = (&ready, inbox.clone());
                    evaluation = Some(scope.spawn(move || {
                        let outcomes = ask(&scenario, anchor, ready, &target, inbox.as_ref(), stop);
                        (outcomes, scenario, anchor)
                    }));
                };
                let mut progress = |p: &crate::apply::progress::Progress| {
                    // Waiting for records not yet due: everything due is written.
                    if p.caught_up {
                        ready.set(crate::expect::wall_now());
                    }
                };
                let mut hooks = Hooks {
                    loaded: &mut loaded,
                    progress: &mut progress,
                };
                super::apply::run_with(&args.apply, Some(&mut hooks))
            };
            match &ran {
                Ok(applied) if applied.failure.is_none() => {
                    ready.set(crate::expect::wall_now());
                    // What was written is said now, not after the verdicts.
                    super::apply::print_summary(applied);
                }
                Ok(applied) => {
                    stop.cancel();
                    super::apply::print_summary(applied);
                }
                Err(_) => stop.cancel(),
            }
            let asked = evaluation.map(|handle| handle.join());
            (ran, asked)
        })
    });
    let applied = ran?;
    let apply = serde_json::to_value(&applied.report).ok();
    let verdict = match (applied.failure, asked) {
        // What was written is in the summary; the verdicts of a target
        // that did not take the stream would mean nothing.
        (Some(failure), _) => match args.apply.report() {
            Some(path) => {
                let json = report::json(&applied.report.anchor, apply, &[], &[]);
                write_json(path, &json).and(Err(Failure::from(failure)))
            }
            None => Err(Failure::from(failure)),
        },
        (None, Some(Ok((outcomes, scenario, anchor)))) => conclude(
            &scenario,
            anchor,
            outcomes,
            signal,
            inbox.as_ref(),
            (
                args.apply.input(),
                &args.outputs,
                args.apply.report(),
                apply,
            ),
        ),
        (None, Some(Err(_))) => Err(Failure::new(
            Exit::Target,
            "error: the expectations' thread stopped unexpectedly\n",
        )),
        (None, None) => Err(no_database()),
    };
    // After a failed apply or an interruption too: no table outlives the
    // run it was for.
    if args.clean {
        let target = args.apply.target_name().unwrap_or_default();
        let clean =
            super::clean::CleanArgs::after_test(args.apply.input(), target, args.apply.config());
        if let Err(failure) = super::clean::clean(&clean) {
            say!("{}", failure.text);
            return verdict.and(Err(failure));
        }
    }
    verdict
}

/// What a signal does to `outatime test` and `outatime expect`. While
/// the expectations are asked, or an apply's engine writes (it stops on
/// its own, after the requests in flight), it sets `cancel`: the command
/// ends gracefully, its verdicts so far written. Before, while the
/// scenario and its sources load, nothing is written yet: it ends the
/// process as it ends `apply` then.
struct Stop {
    cancel: AtomicBool,
    asking: AtomicBool,
}

impl Stop {
    fn cancel(&self) {
        self.cancel.store(true, Ordering::SeqCst);
    }
}

/// Runs `work` with a [`Stop`] that SIGINT and SIGTERM act on (`asking`
/// from the start for `outatime expect`); the signal caught is returned
/// with its result.
fn interruptible<T>(asking: bool, work: impl FnOnce(&Stop) -> T) -> (T, Option<Signal>) {
    let stop = Stop {
        cancel: AtomicBool::new(false),
        asking: AtomicBool::new(asking),
    };
    let done = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let watcher = scope.spawn(|| watch_signals(&stop, &done));
        let out = work(&stop);
        done.store(true, Ordering::SeqCst);
        let signal = watcher.join().ok().flatten();
        (out, signal)
    })
}

/// Waits for SIGINT or SIGTERM until `done`, and acts on the first.
fn watch_signals(stop: &Stop, done: &AtomicBool) -> Option<Signal> {
    use tokio::signal::unix::{SignalKind, signal};
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok()?;
    runtime.block_on(async {
        let mut interrupt = signal(SignalKind::interrupt()).ok()?;
        let mut terminate = signal(SignalKind::terminate()).ok()?;
        loop {
            let caught = tokio::select! {
                _ = interrupt.recv() => Some(Signal::Interrupt),
                _ = terminate.recv() => Some(Signal::Terminate),
                _ = tokio::time::sleep(std::time::Duration::from_millis(100)) => None,
            };
            if let Some(signal) = caught {
                if stop.asking.load(Ordering::SeqCst) || crate::scratch::signals_are_handled() {
                    stop.cancel();
                    return Some(signal);
                }
                crate::scratch::die_of(signal == Signal::Terminate);
            }
            if done.load(Ordering::SeqCst) {
                return None;
            }
        }
    })
}

pub(super) fn expect(args: &ExpectArgs) -> Result<Exit, Failure> {
    for (flag, path) in [
        ("--report", args.report.as_deref()),
        ("--junit", args.outputs.junit.as_deref()),
    ] {
        if let Some(path) = path {
            output::check_writable(flag, path)?;
        }
    }
    let alerts = needs_listener(&args.input)?;
    let listener = listener(&args.outputs, alerts)?;
    let named = super::apply::named_target(&args.config, &args.target)?;
    let (loaded, anchor) = load_with_anchor(
        &args.input,
        &args.read,
        Some(&args.anchor),
        &named.target.evaluation_rules(),
    )?;
    let ready = Ready::default();
    ready.set(crate::expect::wall_now());
    let inbox = listener.as_ref().map(|l| l.inbox.clone());
    let (outcomes, signal) = interruptible(true, |stop| {
        ask(
            &loaded.scenario,
            anchor,
            &ready,
            &named.target,
            inbox.as_ref(),
            stop,
        )
    });
    conclude(
        &loaded.scenario,
        anchor,
        outcomes,
        signal,
        inbox.as_ref(),
        (&args.input, &args.outputs, args.report.as_deref(), None),
    )
}

fn no_database() -> Failure {
    Failure::usage(
        "error: expectations query a database: the embedded file target cannot answer them\n  help: give `--target NAME`, an InfluxDB or Timestream target of outatime.yaml\n",
    )
}

/// Whether the scenario (or the plan's) has an `expect alert` block: read
/// before anything is written, so that a missing `--listen` stops the
/// command first.
fn needs_listener(input: &Path) -> Result<bool, Failure> {
    let text = std::fs::read_to_string(input).map_err(|error| {
        Failure::usage(format!(
            "error: cannot read `{}`: {error}\n",
            input.display()
        ))
    })?;
    if crate::app::looks_like_plan(&text) {
        let plan = crate::app::read_plan(input, &text)?;
        return Ok(plan.expectations.iter().any(|e| e.alert.is_some()));
    }
    Ok(crate::lang::parser::parse(&text)
        .file
        .statements
        .iter()
        .any(
            |s| matches!(&s.kind, crate::lang::ast::StatementKind::Expect(e) if e.alert.is_some()),
        ))
}

fn listener(outputs: &Outputs, alerts: bool) -> Result<Option<Listener>, Failure> {
    let Some(address) = &outputs.listen else {
        if alerts {
            return Err(Failure::usage(
                "error: the scenario expects alerts, and nothing listens for them\n  help: give `--listen 127.0.0.1:9095` and point the Alertmanager's (or Grafana's) webhook at http://127.0.0.1:9095/\n",
            ));
        }
        return Ok(None);
    };
    let listener =
        receiver::listen(address).map_err(|e| Failure::usage(words(&e.to_string(), None)))?;
    sayln!(
        "listening for Alertmanager and Grafana webhooks on http://{}/",
        listener.address
    );
    Ok(Some(listener))
}

/// Asks every expectation of `scenario` once `ready`, printing a line a
/// verdict as it comes.
fn ask(
    scenario: &Scenario,
    anchor: i64,
    ready: &Ready,
    target: &Target,
    inbox: Option<&Inbox>,
    stop: &Stop,
) -> Result<Vec<Outcome>, Failure> {
    if scenario.expectations.is_empty() {
        return Ok(Vec::new());
    }
    // Asking begins once the writes have caught up: from then on a signal
    // is this command's to handle (and a spilled replay's scratch thread
    // leaves it alone).
    let Some(writes_done) = ready.wait(&stop.cancel) else {
        return Ok(Vec::new());
    };
    let _handled = crate::scratch::signals_handled();
    stop.asking.store(true, Ordering::SeqCst);
    let mut asker: Box<dyn Ask> = match target {
        Target::File { .. } => return Err(no_database()),
        Target::Influxdb(influx) => Box::new(
            crate::targets::influxdb::query::InfluxDb::new(
                crate::targets::influxdb::query::InfluxSource::from(influx.clone()),
            )
            .map_err(crate::verify::VerifyError::from)?,
        ),
        Target::Timestream(ts) => Box::new(
            crate::targets::timestream::query::Timestream::connect(ts)
                .map_err(crate::verify::VerifyError::from)?,
        ),
    };
    crate::expect::evaluate(
        scenario,
        anchor,
        writes_done,
        asker.as_mut(),
        inbox,
        &mut |said| match said {
            Said::Verdict(o) => {
                let _ = output::print(&report::line(o));
            }
            Said::Waits { title, line, until } => sayln!(
                "{title} (line {line}) waits until {}, when its window starts",
                crate::record::time_string(*until)
            ),
        },
        &stop.cancel,
    )
    .map_err(|e| Failure::input(words(&e.to_string(), e.help())))
}

/// Writes JUnit and the report, and sums the verdicts up: exit 1 when an
/// expectation failed, 3 when the target could not be read.
fn conclude(
    scenario: &Scenario,
    anchor: i64,
    outcomes: Result<Vec<Outcome>, Failure>,
    signal: Option<Signal>,
    inbox: Option<&Inbox>,
    (input, outputs, report_path, apply): (
        &Path,
        &Outputs,
        Option<&Path>,
        Option<serde_json::Value>,
    ),
) -> Result<Exit, Failure> {
    if scenario.expectations.is_empty() {
        output::print("no expectations: the scenario has no `expect` block\n")?;
        return Ok(Exit::Success);
    }
    let mut outcomes = outcomes?;
    if let Some(signal) = signal {
        // The expectations a signal stopped before their verdict are
        // listed as such, never left out.
        outcomes.extend(crate::expect::undecided(
            scenario,
            &outcomes,
            &format!("stopped by {signal} before it was asked"),
        ));
    }
    let file = input.display().to_string();
    if let Some(path) = &outputs.junit {
        let xml = report::junit(&scenario.title, &file, &outcomes);
        crate::output_file::write(path, xml.as_bytes()).map_err(|e| {
            Failure::usage(format!(
                "error: cannot write --junit `{}`: {e}\n",
                path.display()
            ))
        })?;
    }
    if let Some(path) = report_path {
        let received = inbox.map(Inbox::snapshot).unwrap_or_default();
        let json = report::json(
            &crate::record::time_string(anchor),
            apply,
            &outcomes,
            &received,
        );
        write_json(path, &json)?;
    }
    match signal {
        Some(signal) => {
            let decided = outcomes
                .iter()
                .filter(|o| o.verdict != Verdict::Interrupted)
                .count();
            Err(Failure::new(
                Exit::Signal(signal),
                format!(
                    "error: stopped by {}: {decided} of {} expectation(s) decided\n",
                    signal,
                    outcomes.len()
                ),
            ))
        }
        None => summary(&outcomes),
    }
}

fn write_json(path: &Path, json: &serde_json::Value) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(json).unwrap_or_default() + "\n";
    crate::output_file::write(path, text.as_bytes()).map_err(|e| {
        Failure::usage(format!(
            "error: cannot write --report `{}`: {e}\n",
            path.display()
        ))
    })
}

fn summary(outcomes: &[Outcome]) -> Result<Exit, Failure> {
    let count = |v: Verdict| outcomes.iter().filter(|o| o.verdict == v).count();
    let (passed, failed, unreadable) = (
        count(Verdict::Pass),
        count(Verdict::Fail),
        count(Verdict::Unreadable),
    );
    let line = format!(
        "{passed} passed, {failed} failed{} of {} expectation(s)\n",
        if unreadable > 0 {
            format!(", {unreadable} could not read the target")
        } else {
            String::new()
        },
        outcomes.len()
    );
    if unreadable > 0 {
        Err(Failure::new(Exit::Target, format!("error: {line}")))
    } else if failed > 0 {
        Err(Failure::input(format!("error: {line}")))
    } else {
        output::print(&format!("ok: {line}"))?;
        Ok(Exit::Success)
    }
}

/// `error: MESSAGE` and a `  help:` line.
fn words(message: &str, help: Option<String>) -> String {
    let mut text = format!("error: {message}\n");
    if let Some(help) = help {
        text.push_str(&format!("  help: {help}\n"));
    }
    text
}
