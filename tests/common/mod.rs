//! Shared by the tests that drive the real binary.

#[allow(dead_code)] // each test crate compiles this module; not all use it
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
    #[allow(dead_code)] // each test crate compiles this module; not all use it
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
#[allow(dead_code)] // each test crate compiles this module; not all use it
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
