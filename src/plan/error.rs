//! What can go wrong with a plan: one that cannot be used (not a plan, no
//! longer what it pins, not the committed one), and an artifact that could
//! not be turned into text.

use std::fmt;

/// A plan that cannot be used: not a plan, or no longer what it pins.
#[derive(Debug, strum::EnumDiscriminants)]
#[strum_discriminants(name(PlanErrorKind), derive(strum::EnumIter))]
#[strum_discriminants(doc = "A plan error without its fields: what a stable code names.")]
pub enum PlanError {
    /// A file given as a plan does not read as one.
    Invalid {
        path: std::path::PathBuf,
        reason: String,
    },
    /// `records`, `labels`, `apply` given a plan whose scenario, sources or
    /// stream changed since it was made.
    Stale {
        path: std::path::PathBuf,
        changes: Vec<StaleChange>,
    },
    /// `plan --check`: the committed plan is not what the scenario compiles
    /// to now; `diff` says how, when the committed file reads as a plan.
    Outdated {
        path: std::path::PathBuf,
        scenario: std::path::PathBuf,
        diff: Option<String>,
    },
}

/// One thing a plan pins that changed.
#[derive(Debug)]
pub enum StaleChange {
    Scenario {
        file: String,
    },
    Source {
        name: String,
        path: String,
        pinned: String,
        now: String,
    },
    SourceGone {
        name: String,
    },
    Stream {
        pinned: String,
        now: String,
    },
}

impl PlanErrorKind {
    pub fn code(self) -> &'static str {
        match self {
            PlanErrorKind::Invalid => "outatime::plan::invalid",
            PlanErrorKind::Stale | PlanErrorKind::Outdated => "outatime::plan::stale",
        }
    }
}

impl PlanError {
    pub fn code(&self) -> &'static str {
        PlanErrorKind::from(self).code()
    }
}

impl fmt::Display for StaleChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StaleChange::Scenario { file } => {
                write!(f, "the scenario `{file}` changed since the plan was made")
            }
            StaleChange::Source {
                name,
                path,
                pinned,
                now,
            } => write!(
                f,
                "source `{name}` ({path}) changed: the plan pins {pinned}, the files now give {now}"
            ),
            StaleChange::SourceGone { name } => {
                write!(f, "source `{name}` is gone from the scenario")
            }
            StaleChange::Stream { pinned, now } => write!(
                f,
                "the record stream differs: the plan pins {pinned}, the scenario now gives {now}"
            ),
        }
    }
}

impl fmt::Display for PlanError {
    /// The whole message: `error[CODE]: ...`, details, help; one line each.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let code = self.code();
        match self {
            PlanError::Invalid { path, reason } => writeln!(
                f,
                "error[{code}]: `{}` is not a readable plan: {reason}",
                path.display()
            ),
            PlanError::Stale { path, changes } => {
                writeln!(
                    f,
                    "error[{code}]: `{}` no longer matches what it pins:",
                    path.display()
                )?;
                for change in changes {
                    writeln!(f, "  - {change}")?;
                }
                writeln!(
                    f,
                    "  help: make the plan again with `outatime plan`, review the diff, and commit it"
                )
            }
            PlanError::Outdated {
                path,
                scenario,
                diff,
            } => {
                writeln!(
                    f,
                    "error[{code}]: `{}` is not what `{}` compiles to now",
                    path.display(),
                    scenario.display()
                )?;
                match diff {
                    Some(diff) => f.write_str(diff)?,
                    None => writeln!(f, "  (the committed file is not a readable plan)")?,
                }
                writeln!(
                    f,
                    "  help: run `outatime plan` again, review the change, and commit it"
                )
            }
        }
    }
}

/// An artifact could not be turned into text. Every field of a plan, a
/// label or a diff is a string, a number or a map of strings, so this is a
/// bug in outatime: it is said, not written as an empty output.
#[derive(Debug)]
pub enum SerializeError {
    /// The plan as YAML.
    Plan { reason: String },
    /// The labels as JSON.
    Labels { reason: String },
    /// A section of a plan as JSON values, to compare two plans.
    Diff {
        section: &'static str,
        reason: String,
    },
}

impl SerializeError {
    pub const CODE: &'static str = "outatime::internal::serialize";

    pub fn code(&self) -> &'static str {
        Self::CODE
    }

    pub fn help(&self) -> &'static str {
        "this is a bug in outatime: please report it with the scenario or plans that show it"
    }
}

impl fmt::Display for SerializeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SerializeError::Plan { reason } => write!(f, "cannot write the plan as YAML: {reason}"),
            SerializeError::Labels { reason } => {
                write!(f, "cannot write the labels as JSON: {reason}")
            }
            SerializeError::Diff { section, reason } => {
                write!(f, "cannot compare the plans' {section}: {reason}")
            }
        }
    }
}
