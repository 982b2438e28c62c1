//! Shared by the tests that drive the real binary.

pub mod http;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output};

/// A run of `outatime` in a scratch folder holding the given files.
pub struct Run {
    pub dir: PathBuf,
    args: Vec<String>,
}

impl Run {
    pub fn new(name: &str) -> Run {
        let dir = std::env::temp_dir().join(format!("outatime-bin-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Run {
            dir,
            args: Vec::new(),
        }
    }

    pub fn file(self, name: &str, contents: impl AsRef<[u8]>) -> Run {
        let path = self.dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
        self
    }

    /// Another run in the same folder (its files kept), with other arguments.
    pub fn again(&self, args: &[&str]) -> Run {
        Run {
            dir: self.dir.clone(),
            args: args.iter().map(|a| a.to_string()).collect(),
        }
    }

    pub fn args(mut self, args: &[&str]) -> Run {
        self.args.extend(args.iter().map(|a| a.to_string()));
        self
    }

    pub fn run(&self) -> (i32, String, String) {
        self.run_with(&[])
    }

    /// Runs with extra environment variables.
    pub fn run_with(&self, env: &[(&str, &str)]) -> (i32, String, String) {
        let Output {
            status,
            stdout,
            stderr,
        } = Command::new(env!("CARGO_BIN_EXE_outatime"))
            .args(&self.args)
            .current_dir(&self.dir)
            .env("NO_COLOR", "1")
            .envs(env.iter().copied())
            .output()
            .unwrap();
        (
            status.code().unwrap_or(-1),
            String::from_utf8_lossy(&stdout).into_owned(),
            String::from_utf8_lossy(&stderr).into_owned(),
        )
    }
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
