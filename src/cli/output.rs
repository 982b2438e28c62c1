//! The command line's output: why a command stopped, worded, with its exit
//! code ([`Failure`]); what loading shows, drawn on stderr; and the writes
//! every command shares (stdout that may close early, `--output` files).

use std::io::Write;
use std::path::Path;

use super::exit::Exit;
use crate::app::{self, Loaded, Shown};
use crate::compile::{CompileError, run_on_two_threads};
use crate::diagnostics::render::{self, Style};
use crate::plan::{PlanError, SerializeError};
use crate::record::output::{RecordFormat, RecordWriter};
use std::io::IsTerminal;

/// Why a command stopped, already worded; `code` is the exit code.
pub struct Failure {
    pub code: u8,
    pub text: String,
}

impl Failure {
    pub(crate) fn input(text: impl Into<String>) -> Failure {
        Failure::new(Exit::Failed, text)
    }

    pub(crate) fn usage(text: impl Into<String>) -> Failure {
        Failure::new(Exit::Usage, text)
    }

    pub(crate) fn new(exit: Exit, text: impl Into<String>) -> Failure {
        Failure {
            code: exit.code(),
            text: text.into(),
        }
    }
}

/// A stage's error as the command line shows it, on lines of its own:
/// [`render::error_text`] (the one wording of every error), then a line
/// break. Its exit code is [`Exit::from`]'s.
pub(crate) fn worded(error: &dyn miette::Diagnostic) -> String {
    render::error_text(error) + "\n"
}

impl From<CompileError> for Failure {
    fn from(e: CompileError) -> Failure {
        Failure::input(worded(&e))
    }
}

impl From<PlanError> for Failure {
    fn from(e: PlanError) -> Failure {
        Failure::input(worded(&e))
    }
}

impl From<SerializeError> for Failure {
    fn from(e: SerializeError) -> Failure {
        Failure::input(worded(&e))
    }
}

impl From<crate::apply::error::ApplyError> for Failure {
    fn from(error: crate::apply::error::ApplyError) -> Failure {
        Failure::new(Exit::from(&error), worded(&error))
    }
}

impl From<crate::verify::VerifyError> for Failure {
    fn from(error: crate::verify::VerifyError) -> Failure {
        Failure::new(Exit::from(&error), worded(&error))
    }
}

impl From<crate::plot::error::PlotError> for Failure {
    fn from(error: crate::plot::error::PlotError) -> Failure {
        Failure::new(Exit::from(&error), worded(&error))
    }
}

impl From<crate::capture::error::CaptureError> for Failure {
    fn from(error: crate::capture::error::CaptureError) -> Failure {
        Failure::new(Exit::from(&error), worded(&error))
    }
}

impl From<crate::clean::error::CleanError> for Failure {
    fn from(error: crate::clean::error::CleanError) -> Failure {
        Failure::new(Exit::from(&error), worded(&error))
    }
}

impl From<app::Error> for Failure {
    fn from(error: app::Error) -> Failure {
        Failure::new(Exit::from(&error), worded(&error))
    }
}

/// What loading shows, drawn on stderr as it comes.
pub(crate) fn shown_on_stderr(style: Style) -> impl FnMut(Shown) {
    move |shown| match shown {
        Shown::Diagnostics {
            file,
            text,
            diagnostics,
        } => say!("{}", render::human(file, text, diagnostics, style)),
        Shown::SkippedRows {
            source,
            count,
            budget,
            first,
        } => {
            sayln!("warning: source `{source}`: skipped {count} bad row(s) ({budget}); the first:");
            for skipped in first {
                sayln!("  - {skipped}");
            }
        }
    }
}

/// [`app::load`] with what it shows on stderr: the library's `load`.
pub fn load(
    path: &Path,
    options: crate::sources::ReadOptions,
    style: Style,
) -> Result<Loaded, Failure> {
    Ok(app::load(path, options, &mut shown_on_stderr(style))?)
}

/// [`app::compile_plan`], its errors worded.
pub fn compile_plan(loaded: &Loaded, plan_dir: &Path) -> Result<crate::plan::Plan, Failure> {
    Ok(app::compile_plan(loaded, plan_dir)?)
}

/// [`app::labels`], its errors worded.
pub fn labels(loaded: &Loaded, anchor: i64) -> Result<String, Failure> {
    Ok(app::labels(loaded, anchor)?)
}

/// A scenario or plan loaded by [`app::load_scenario_or_plan`], with what
/// it shows on stderr in the terminal's style.
pub(crate) fn load_scenario_or_plan(
    path: &Path,
    max_bad_rows: Option<u64>,
    spill: crate::sources::SpillOptions,
    rules: &dyn crate::model::NameRules,
) -> Result<Loaded, Failure> {
    let mut show = shown_on_stderr(diagnostics_style());
    Ok(app::load_scenario_or_plan(
        path,
        max_bad_rows,
        spill,
        rules,
        &mut show,
    )?)
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
        Some(raw) => crate::compile::align(raw, align),
        None => {
            let now = chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0);
            let aligned = crate::compile::align(now, align);
            sayln!(
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

/// For a file an option names to be written (`--report`, `--output`,
/// `--full`): checked before any source is read or anything is written,
/// so that a long run, or one that already wrote records, does not end in
/// a usage error. Its folder must exist and take a new file (one is made
/// and removed at once, with a name nobody else's and without following
/// a link); the path must not be a folder; a file already there must be
/// open to writing. Nothing is left behind, and a file already there is
/// not changed.
pub(crate) fn check_writable(option: &str, path: &Path) -> Result<(), Failure> {
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let refused = |why: String| {
        Failure::usage(format!(
            "error: cannot write {option} `{}`: {why}\n",
            path.display()
        ))
    };
    if !folder.is_dir() {
        return Err(Failure::usage(format!(
            "error: cannot write {option} `{}`: the folder `{}` does not exist\n  help: create the folder first, or name a file in one that exists\n",
            path.display(),
            folder.display()
        )));
    }
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => {
            return Err(refused(
                "it is a folder\n  help: name a file to write, in that folder or elsewhere".into(),
            ));
        }
        // A file already there is replaced by a rename (output_file), which
        // needs only the folder to take a new file: checked next.
        _ => {}
    }
    probe_folder(folder).map_err(|e| {
        refused(format!(
            "no file can be made in `{}`: {e}",
            folder.display()
        ))
    })
}

/// Makes a new file in `folder` and removes it: whether the folder takes
/// one. `create_new` (`O_EXCL`) never opens what is already there, a link
/// included.
fn probe_folder(folder: &Path) -> std::io::Result<()> {
    let mut attempt = 0u32;
    loop {
        let probe = folder.join(format!(".outatime-probe-{}-{attempt}", std::process::id()));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&probe)
        {
            Ok(file) => {
                drop(file);
                return std::fs::remove_file(&probe);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 100 => {
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

/// `text` to the file `path` (made as every output file is:
/// [`crate::output_file`]), or to stdout ([`print`]).
pub(crate) fn write_output(path: Option<&Path>, text: &str) -> Result<(), Failure> {
    match path {
        Some(p) => crate::output_file::write(p, text.as_bytes())
            .map_err(|e| Failure::usage(format!("error: cannot write `{}`: {e}\n", p.display()))),
        None => print(text),
    }
}

/// What the command line says on stderr, as `eprint!` would, through
/// [`stderr`]: never a panic when stderr is closed or its reader went away.
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::cli::output::stderr(format_args!($($arg)*))
    };
}

/// [`say!`] and a line break.
macro_rules! sayln {
    ($($arg:tt)*) => {
        $crate::cli::output::stderr(format_args!("{}\n", format_args!($($arg)*)))
    };
}

pub(crate) use {say, sayln};

/// `text` to stderr, for everything the command line says there (through
/// [`say!`] and [`sayln!`]). A stderr that is closed, full, or whose reader
/// went away (`2>&1 | head`) is not a reason to stop, let alone to panic
/// as `eprint!` does: there is nowhere left to say anything, so the command
/// goes on and exits as it would have.
pub(crate) fn stderr(text: std::fmt::Arguments<'_>) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_fmt(text).and_then(|()| err.flush());
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

/// How diagnostics are drawn on stderr: in colour, to the terminal's
/// width, when stderr is a terminal and NO_COLOR is not set.
pub(crate) fn diagnostics_style() -> Style {
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    Style {
        color,
        width: if color { terminal_width() } else { 100 },
    }
}

/// `COLUMNS` when set, else the width of the terminal stderr draws on.
fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .or_else(|| {
            terminal_size::terminal_size_of(std::io::stderr())
                .map(|(terminal_size::Width(w), _)| usize::from(w))
        })
        .unwrap_or(100)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::error::ApplyError;

    #[test]
    fn an_error_is_worded_as_code_message_details_and_help() {
        let error = ApplyError::MissingTables {
            tables: vec!["db.a".into(), "db.b".into()],
            resume: false,
        };
        assert_eq!(
            worded(&error),
            "error[outatime::apply::missing_table]: `db.a`, `db.b` does not exist; nothing was written\n  help: pass --create to create missing tables with the target's retention\n"
        );
        // Several lines of help are a `help:` line each.
        let error = ApplyError::UntaggedTables {
            tables: vec!["db.a".into()],
            mark: crate::apply::error::OwnMark::Tag,
        };
        let text = worded(&error);
        assert_eq!(
            text.lines().filter(|l| l.starts_with("  help: ")).count(),
            2,
            "{text}"
        );
    }
}
