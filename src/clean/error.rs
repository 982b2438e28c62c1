//! Every way `clean` stops, with its stable code, its exit code and its
//! wording; `docs/errors.md` lists the same codes.

use std::fmt;

/// Why `clean` stopped: its message (`#[error]`), its code
/// ([`CleanErrorKind::code`]) and its help ([`CleanError::help`]).
/// [`CleanErrorKind::iter`] lists every kind.
#[derive(Debug, thiserror::Error, strum::EnumDiscriminants)]
#[strum_discriminants(name(CleanErrorKind), derive(strum::EnumIter))]
pub enum CleanError {
    /// The terminal's answer was not `y` or `yes`.
    #[error("not confirmed; nothing was deleted")]
    Declined,
    /// Tables to delete, stdin not a terminal, no `--yes`.
    #[error(
        "{tables} table(s) would be deleted and stdin is not a terminal to ask on; nothing was deleted"
    )]
    NeedsYes { tables: usize },
    /// A file target, or an InfluxDB 3 one: `kind` says which, `fix` what
    /// to do instead.
    #[error("the target `{target}` is {kind}, which clean cannot clean; nothing was deleted")]
    NotSupported {
        target: String,
        kind: &'static str,
        fix: &'static str,
    },
    /// `read_only: true` on the target.
    #[error("the target `{target}` is read-only; nothing was deleted")]
    ReadOnly { target: String },
    /// The target could not be reached, or refused a describe, a tag read
    /// or a delete; `deleted` lists what was deleted before.
    #[error("{reason}{}", deleted.iter().map(|t| format!("\n  deleted before: `{t}`")).collect::<String>())]
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

    /// What to do; a declined confirmation needs no help.
    pub(crate) fn help(&self) -> Option<&'static str> {
        match self {
            CleanError::Declined => None,
            CleanError::NeedsYes { .. } => {
                Some("pass --yes to delete without asking, or --dry-run to only list them")
            }
            CleanError::NotSupported { fix, .. } => Some(fix),
            CleanError::ReadOnly { .. } => Some(
                "`read_only: true` in outatime.yaml protects this target (production); clean an E2E target instead",
            ),
            CleanError::Target { .. } => {
                Some("fix the cause and run clean again: it deletes what is left")
            }
        }
    }
}

impl miette::Diagnostic for CleanError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(CleanError::code(self)))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        CleanError::help(self).map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
}
