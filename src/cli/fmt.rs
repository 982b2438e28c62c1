//! `outatime fmt`: files and folders in, files rewritten in place (or, with
//! `--check`, a diff per file that would change), `-` from stdin to stdout.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use super::exit::Exit;
use super::output::diagnostics_style;
use super::output::{say, sayln};
use crate::diagnostics::render;
use crate::diagnostics::{BYTE_ORDER_MARK, Diagnostic, Span, kind};
use crate::fmt::{FmtError, format};

#[derive(clap::Args)]
pub(super) struct FmtArgs {
    /// Scenario files; a folder means every `*.scenario` under it (sorted);
    /// `-` reads stdin and writes stdout
    #[arg(required = true, value_name = "FILE|DIR|-")]
    paths: Vec<PathBuf>,
    /// Write nothing: print a unified diff of each file that is not in the
    /// canonical layout, and exit 1 if there is one (for CI)
    #[arg(long)]
    check: bool,
}

/// What became of one input.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    Unchanged,
    Changed,
    /// Syntax errors, or a layout that would not read the same: left as is.
    Refused,
    /// Cannot be read or written.
    Unusable,
}

pub(super) fn fmt(args: &FmtArgs) -> Exit {
    let mut outcomes = Vec::new();
    for path in &args.paths {
        if path.as_os_str() == "-" {
            outcomes.push(stdin(args.check));
            continue;
        }
        match scenario_files(path) {
            Ok(files) => outcomes.extend(files.iter().map(|f| file(f, args.check))),
            Err(message) => {
                sayln!("{message}");
                outcomes.push(Outcome::Unusable);
            }
        }
    }
    let changed = outcomes.iter().filter(|&&o| o == Outcome::Changed).count();
    if args.check && changed > 0 {
        let s = if changed == 1 { "" } else { "s" };
        sayln!("{changed} file{s} not in the canonical layout: run `outatime fmt` on them");
    }
    match outcomes.iter().max() {
        Some(Outcome::Unusable) => Exit::Usage,
        Some(Outcome::Refused) => Exit::Failed,
        Some(Outcome::Changed) if args.check => Exit::Failed,
        _ => Exit::Success,
    }
}

/// `path` itself, or every `*.scenario` under the folder `path`, sorted.
fn scenario_files(path: &Path) -> Result<Vec<PathBuf>, String> {
    let meta = std::fs::metadata(path)
        .map_err(|e| format!("error: cannot read `{}`: {e}", path.display()))?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    let mut folders = vec![path.to_path_buf()];
    while let Some(folder) = folders.pop() {
        let entries = std::fs::read_dir(&folder)
            .map_err(|e| format!("error: cannot read `{}`: {e}", folder.display()))?;
        for entry in entries {
            let entry =
                entry.map_err(|e| format!("error: cannot read `{}`: {e}", folder.display()))?;
            let path = entry.path();
            // Symbolic links to folders are not followed: no loops.
            let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
            if is_dir {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "scenario") {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

fn file(path: &Path, check: bool) -> Outcome {
    let shown = path.display().to_string();
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            sayln!("error: cannot read `{shown}`: {e}");
            return Outcome::Unusable;
        }
    };
    let Some(text) = utf8(&shown, &bytes) else {
        return Outcome::Refused;
    };
    let formatted = match formatted(&shown, text) {
        Ok(f) => f,
        Err(outcome) => return outcome,
    };
    if formatted == text {
        return Outcome::Unchanged;
    }
    if check {
        print_diff(&shown, text, &formatted);
        return Outcome::Changed;
    }
    match write_atomically(path, &formatted) {
        Ok(()) => match super::output::print(&format!("formatted {shown}\n")) {
            Ok(()) => Outcome::Changed,
            Err(failure) => {
                say!("{}", failure.text);
                Outcome::Unusable
            }
        },
        Err(e) => {
            sayln!("error: cannot write `{shown}`: {e}");
            Outcome::Unusable
        }
    }
}

fn stdin(check: bool) -> Outcome {
    let shown = "<stdin>";
    let mut bytes = Vec::new();
    if let Err(e) = std::io::stdin().read_to_end(&mut bytes) {
        sayln!("error: cannot read stdin: {e}");
        return Outcome::Unusable;
    }
    let Some(text) = utf8(shown, &bytes) else {
        return Outcome::Refused;
    };
    let formatted = match formatted(shown, text) {
        Ok(f) => f,
        Err(outcome) => return outcome,
    };
    let changed = formatted != text;
    if check {
        if changed {
            print_diff(shown, text, &formatted);
        }
    } else if let Err(e) = std::io::stdout().lock().write_all(formatted.as_bytes())
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        sayln!("error: cannot write the output: {e}");
        return Outcome::Unusable;
    }
    if changed {
        Outcome::Changed
    } else {
        Outcome::Unchanged
    }
}

/// The text, or `None` after reporting where it stops being UTF-8.
fn utf8<'a>(shown: &str, bytes: &'a [u8]) -> Option<&'a str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Some(text),
        Err(e) => {
            let lossy = String::from_utf8_lossy(bytes);
            let at = e.valid_up_to();
            let d = Diagnostic::new(kind::NotUtf8, Span::new(at, at));
            say!(
                "{}",
                render::human(shown, &lossy, &[d], diagnostics_style())
            );
            None
        }
    }
}

/// The canonical layout of `text`, or the outcome after saying why not.
/// A byte-order mark at the start is kept, as line endings are: the
/// layout is fmt's to choose, the encoding details are the editor's.
fn formatted(shown: &str, text: &str) -> Result<String, Outcome> {
    if let Some(rest) = text.strip_prefix(BYTE_ORDER_MARK) {
        return formatted(shown, rest).map(|f| format!("{BYTE_ORDER_MARK}{f}"));
    }
    match format(text) {
        Ok(f) => Ok(f),
        Err(FmtError::Syntax { diagnostics }) => {
            say!(
                "{}",
                render::human(shown, text, &diagnostics, diagnostics_style())
            );
            sayln!("error: `{shown}` has syntax errors and was left as it is");
            Err(Outcome::Refused)
        }
        Err(e @ FmtError::NotPreserved { .. }) => {
            let detail = match &e {
                FmtError::NotPreserved { detail } => detail.as_str(),
                FmtError::Syntax { .. } => "",
            };
            sayln!(
                "error[{}]: `{shown}` was left as it is: its layout would not read back the same ({detail}); please report this",
                e.code()
            );
            Err(Outcome::Refused)
        }
    }
}

fn print_diff(shown: &str, old: &str, new: &str) {
    let diff = similar::TextDiff::from_lines(old, new);
    let text = diff
        .unified_diff()
        .context_radius(3)
        .header(shown, &format!("{shown} (formatted)"))
        .to_string();
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
}

/// Writes `text` to a file beside `path`, with its permissions, and renames
/// it over `path`: a reader sees the old file or the new one, never half
/// ([`crate::output_file`]).
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let mut file = crate::output_file::OutputFile::create(path)?;
    file.write_all(text.as_bytes())?;
    if let Ok(meta) = std::fs::metadata(path) {
        file.set_permissions(meta.permissions())?;
    }
    file.commit()
}
