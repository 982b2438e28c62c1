//! Shared by the tests that drive the real binary.

pub mod http;
pub mod kill;

use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;

use tempfile::TempDir;

/// The read options the compiler's suites load scenarios with, through
/// the library: the defaults, but with `OUTATIME_SPILL_ROWS` set (the
/// test command sets 3) a replay holds that many rows before it spills,
/// as the binary does, so that every scenario they compile also streams
/// from disk.
pub fn read_options() -> outatime::ReadOptions {
    let mut options = outatime::ReadOptions::default();
    if let Some(rows) = std::env::var("OUTATIME_SPILL_ROWS")
        .ok()
        .and_then(|n| n.parse().ok())
        .filter(|&n: &usize| n > 0)
    {
        options.spill.chunk_rows = rows;
    }
    options
}

/// Every Rust file of the crate under `src/` that is not a test file
/// (`tests.rs`, or a file in a `tests/` folder): its path from the
/// checkout (`src/…`) and its text, in path order. For the tests that
/// hold the crate's own code to a rule by reading it.
pub fn crate_files() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    let mut folders = vec![root.join("src")];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if path.file_name().is_none_or(|n| n != "tests") {
                    folders.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "rs")
                && path.file_name().is_some_and(|n| n != "tests.rs")
            {
                let relative = path.strip_prefix(root).unwrap();
                let text = std::fs::read_to_string(&path).unwrap();
                files.push((relative.to_string_lossy().into_owned(), text));
            }
        }
    }
    files.sort();
    files
}

/// A file's code before its unit tests, which come last: `#[cfg(test)]`
/// then `mod tests`. Not at the first `#[cfg(test)]`, which may mark one
/// test-only item in the middle of the code.
pub fn before_unit_tests(text: &str) -> &str {
    text.split("#[cfg(test)]\nmod tests")
        .next()
        .unwrap_or_default()
}

/// A new, empty folder for one test, its name starting with
/// `outatime-NAME-` and unique, removed with what it holds when dropped.
pub fn scratch(name: &str) -> TempDir {
    tempfile::Builder::new()
        .prefix(&format!("outatime-{name}-"))
        .tempdir()
        .unwrap()
}

/// A run of `outatime`, the one way the tests launch it: its arguments,
/// its environment (`NO_COLOR=1`, and what the test adds), its stdin, and
/// where it runs: a scratch folder of its own holding the given files, or
/// a folder the test names.
#[derive(Clone)]
pub struct Run {
    pub dir: PathBuf,
    /// The scratch folder `dir` is, shared by the runs [`Run::again`]
    /// makes: removed when the last of them is dropped. `None` for a folder
    /// the run does not own.
    scratch: Option<Arc<TempDir>>,
    args: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
    stdin: Option<Vec<u8>>,
}

impl Run {
    /// A run in a new scratch folder (see [`scratch`]).
    pub fn new(name: &str) -> Run {
        let scratch = scratch(name);
        Run {
            dir: scratch.path().to_path_buf(),
            scratch: Some(Arc::new(scratch)),
            args: Vec::new(),
            env: Vec::new(),
            stdin: None,
        }
    }

    /// A run in `dir`, which it neither makes nor removes (the
    /// repository's `scenarios/`, say).
    pub fn in_dir(dir: impl Into<PathBuf>) -> Run {
        Run {
            dir: dir.into(),
            scratch: None,
            args: Vec::new(),
            env: Vec::new(),
            stdin: None,
        }
    }

    pub fn file(self, name: &str, contents: impl AsRef<[u8]>) -> Run {
        let path = self.dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
        self
    }

    /// Another run in the same folder (its files kept), with other
    /// arguments, and no environment or stdin of its own yet.
    pub fn again(&self, args: &[&str]) -> Run {
        Run {
            dir: self.dir.clone(),
            scratch: self.scratch.clone(),
            args: Vec::new(),
            env: Vec::new(),
            stdin: None,
        }
        .args(args)
    }

    pub fn args(self, args: &[&str]) -> Run {
        self.args_os(args)
    }

    /// Arguments that are paths, or strings the test made.
    pub fn args_os(mut self, args: impl IntoIterator<Item = impl AsRef<OsStr>>) -> Run {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    pub fn env(self, name: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Run {
        self.envs([(name, value)])
    }

    pub fn envs(
        mut self,
        vars: impl IntoIterator<Item = (impl AsRef<OsStr>, impl AsRef<OsStr>)>,
    ) -> Run {
        self.env.extend(
            vars.into_iter()
                .map(|(k, v)| (k.as_ref().to_owned(), v.as_ref().to_owned())),
        );
        self
    }

    /// What the process reads on stdin (otherwise nothing: stdin is closed).
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Run {
        self.stdin = Some(bytes.into());
        self
    }

    /// The command, for a test that sets its own stdout or stderr, or
    /// spawns it to signal it while it runs. Stdin is not set here: see
    /// [`Run::output`].
    pub fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_outatime"));
        command
            .args(&self.args)
            .current_dir(&self.dir)
            .env("NO_COLOR", "1")
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        command
    }

    /// Runs to the end, with the stdin given.
    pub fn output(&self) -> Output {
        let Some(stdin) = &self.stdin else {
            return self.command().output().unwrap();
        };
        let mut child = self
            .command()
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        input.write_all(stdin).unwrap();
        drop(input);
        child.wait_with_output().unwrap()
    }

    /// (exit code, stdout, stderr); -1 for a process ended by a signal.
    pub fn run(&self) -> (i32, String, String) {
        let Output {
            status,
            stdout,
            stderr,
        } = self.output();
        (
            status.code().unwrap_or(-1),
            String::from_utf8_lossy(&stdout).into_owned(),
            String::from_utf8_lossy(&stderr).into_owned(),
        )
    }

    /// Runs with extra environment variables.
    pub fn run_with(&self, env: &[(&str, &str)]) -> (i32, String, String) {
        self.clone().envs(env.iter().copied()).run()
    }
}

/// The folder of the binary under test, for a test whose script finds
/// `outatime` on PATH as a user's would.
pub fn binary_dir() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_outatime")).parent().unwrap()
}

/// Whether every test must run: `./scripts/test` sets
/// OUTATIME_TEST_REQUIRE_ALL (and CI runs that command), so a test whose
/// tool, file or service is missing there fails instead of passing unseen.
fn everything_required() -> bool {
    ["OUTATIME_TEST_REQUIRE_ALL", "CI"]
        .iter()
        .any(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty() && v != "0"))
}

/// For a test that cannot run because `what` is missing: fails under the
/// test command, and otherwise returns after a notice, for the test to
/// skip. The notice goes to the process's stderr, not through `eprintln!`,
/// which the test harness captures and shows only for failed tests.
#[track_caller] // a failure names the test, not this helper
pub fn skip_unless_required(what: &str) {
    assert!(
        !everything_required(),
        "{what}: ./scripts/test provides it, and runs every test"
    );
    let _ = writeln!(
        std::io::stderr(),
        "skipped: {what} (./scripts/test provides it and runs every test)"
    );
}

/// The test influxd's address (OUTATIME_INFLUXDB_URL), or `None` after the
/// notice of [`skip_unless_required`] (the test then skips, or fails under
/// the test command).
#[track_caller]
pub fn influxdb_url() -> Option<String> {
    match std::env::var("OUTATIME_INFLUXDB_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            skip_unless_required("OUTATIME_INFLUXDB_URL (a local influxd 1.x)");
            None
        }
    }
}

/// Two tables, both layouts, every measure type. The series of each share
/// some dimensions (tags) and differ in others: `a3` has one the others
/// lack, so Timestream batches put some dimensions in CommonAttributes and
/// keep others on the records.
pub const TWO_TABLES: &str = r#"scenario "two tables"
table alpha
table bravo { layout single }
generate into alpha {
  series device = "a1", site = "lab"
  series device = "a2", site = "lab"
  series device = "a3", site = "dock", rack = "r9"
  from now - 90m to now + 5m every 1m
  measure v double = noise(sigma: 1)
  measure on boolean = bernoulli(p: 0.5)
}
generate into bravo {
  series device = "b1", site = "lab"
  series device = "b2", site = "lab"
  from now - 90m to now every 1m
  measure w bigint = ramp(from: 0, to: 1000)
  measure z varchar = choice("x", "y")
}
"#;

/// A scenario `bulk` of one table `bulk`: each of `series` (what follows
/// `series`, e.g. `device = "d1"`) with a record a minute for `minutes`
/// minutes up to `now`, measuring each of `measures` (what follows
/// `measure`).
pub fn bulk_scenario(
    series: impl IntoIterator<Item = String>,
    minutes: usize,
    measures: &[&str],
) -> String {
    let mut text = String::from("scenario \"bulk\"\ntable bulk\ngenerate into bulk {\n");
    for dimensions in series {
        text.push_str(&format!("  series {dimensions}\n"));
    }
    text.push_str(&format!("  from now - {minutes}m to now every 1m\n"));
    for measure in measures {
        text.push_str(&format!("  measure {measure}\n"));
    }
    text.push_str("}\n");
    text
}

/// What tests/it/plot.rs and tests/it/plot_html.rs draw: two series on their own
/// levels (a at 10, b at 20), a spike on a's temperature (line 21) and a
/// dropout of b's whole records (line 27).
pub const PLOT_LAB: &str = r#"scenario "Plot test"
seed 7
table lab

generate into lab {
  series device = "a"
  from now - 12h to now every 1m
  measure temperature double = constant(value: 10)
  measure open boolean = square(period: 2h, low: false, high: true)
  measure mode varchar = choice("cooling", "idle")
}

generate into lab {
  series device = "b"
  from now - 12h to now every 1m
  measure temperature double = constant(value: 20)
  measure open boolean = square(period: 3h, low: false, high: true)
  measure mode varchar = choice("cooling", "idle")
}

anomaly spike on lab.temperature {
  where device == "a"
  at now - 8h for 30m
  magnitude 5
}

anomaly dropout on lab {
  where device == "b"
  at now - 4h for 1h
}
"#;
