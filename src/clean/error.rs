//! Every way `clean` stops, with its stable code, its exit code and its
//! wording; `docs/errors.md` lists the same codes.

use std::fmt;

/// Why `clean` stopped. [`CleanErrorKind::iter`] lists every kind.
#[derive(Debug, strum::EnumDiscriminants)]
#[strum_discriminants(name(CleanErrorKind), derive(strum::EnumIter))]
pub enum CleanError {
    /// The terminal's answer was not `y` or `yes`.
    Declined,
    /// Tables to delete, stdin not a terminal, no `--yes`.
    NeedsYes { tables: usize },
    /// A file target, or an InfluxDB 3 one: `kind` says which, `fix` what
    /// to do instead.
    NotSupported {
        target: String,
        kind: &'static str,
        fix: &'static str,
    },
    /// `read_only: true` on the target.
    ReadOnly { target: String },
    /// The target could not be reached, or refused a describe, a tag read
    /// or a delete; `deleted` lists what was deleted before.
    Target {
        reason: String,
        deleted: Vec<String>,
    },
}

impl CleanErrorKind {
    pub fn code(self) -> &'static str {
        match self {
            CleanErrorKind::Declined => "outatime::clean::declined",
            CleanErrorKind::NeedsYes => "outatime::clean::needs_yes",
            CleanErrorKind::NotSupported => "outatime::clean::not_supported",
            CleanErrorKind::ReadOnly => "outatime::target::read_only",
            CleanErrorKind::Target => "outatime::clean::target",
        }
    }
}

impl CleanError {
    pub fn code(&self) -> &'static str {
        CleanErrorKind::from(self).code()
    }
}

impl fmt::Display for CleanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error[{}]: ", self.code())?;
        match self {
            CleanError::Declined => writeln!(f, "not confirmed; nothing was deleted"),
            CleanError::NeedsYes { tables } => writeln!(
                f,
                "{tables} table(s) would be deleted and stdin is not a terminal to ask on; nothing was deleted\n  help: pass --yes to delete without asking, or --dry-run to only list them"
            ),
            CleanError::NotSupported { target, kind, fix } => writeln!(
                f,
                "the target `{target}` is {kind}, which clean cannot clean; nothing was deleted\n  help: {fix}"
            ),
            CleanError::ReadOnly { target } => writeln!(
                f,
                "the target `{target}` is read-only; nothing was deleted\n  help: `read_only: true` in outatime.yaml protects this target (production); clean an E2E target instead"
            ),
            CleanError::Target { reason, deleted } => {
                writeln!(f, "{reason}")?;
                for table in deleted {
                    writeln!(f, "  deleted before: `{table}`")?;
                }
                writeln!(
                    f,
                    "  help: fix the cause and run clean again: it deletes what is left"
                )
            }
        }
    }
}
