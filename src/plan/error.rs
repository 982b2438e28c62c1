//! What can go wrong with a plan: one that cannot be used (not a plan, no
//! longer what it pins, not the committed one), and an artifact that could
//! not be turned into text.

use std::fmt;

/// A plan that cannot be used: not a plan, or no longer what it pins. Each
/// variant's message (with its detail lines) is its `#[error]`; its code is
/// [`PlanErrorKind::code`], its help [`PlanError::help`].
#[derive(Debug, thiserror::Error, strum::EnumDiscriminants)]
#[strum_discriminants(name(PlanErrorKind), derive(strum::EnumIter))]
#[strum_discriminants(doc = "A plan error without its fields: what a stable code names.")]
pub enum PlanError {
    /// A file given as a plan does not read as one.
    #[error("`{}` is not a readable plan: {error}", path.display())]
    Invalid {
        path: std::path::PathBuf,
        #[source]
        error: yaml_serde::Error,
    },
    /// `records`, `labels`, `apply` given a plan whose scenario, sources or
    /// stream changed since it was made.
    #[error("`{}` no longer matches what it pins:{}", path.display(), listed(changes))]
    Stale {
        path: std::path::PathBuf,
        changes: Vec<StaleChange>,
    },
    /// `plan --check`: the committed plan is not what the scenario compiles
    /// to now; `diff` says how, when the committed file reads as a plan.
    #[error(
        "`{}` is not what `{}` compiles to now\n{}",
        path.display(),
        scenario.display(),
        match diff {
            Some(diff) => diff.trim_end_matches('\n'),
            None => "  (the committed file is not a readable plan)",
        }
    )]
    Outdated {
        path: std::path::PathBuf,
        scenario: std::path::PathBuf,
        diff: Option<String>,
    },
}

/// The changes, a `  - ` line each.
fn listed(changes: &[StaleChange]) -> String {
    changes.iter().map(|c| format!("\n  - {c}")).collect()
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

    /// What to do; an unreadable plan has said all it can.
    pub fn help(&self) -> Option<&'static str> {
        match self {
            PlanError::Invalid { .. } => None,
            PlanError::Stale { .. } => {
                Some("make the plan again with `outatime plan`, review the diff, and commit it")
            }
            PlanError::Outdated { .. } => {
                Some("run `outatime plan` again, review the change, and commit it")
            }
        }
    }
}

impl miette::Diagnostic for PlanError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(PlanError::code(self)))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        PlanError::help(self).map(|h| Box::new(h) as Box<dyn fmt::Display>)
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

/// An artifact could not be turned into text. Every field of a plan, a
/// label or a diff is a string, a number or a map of strings, so this is a
/// bug in outatime: it is said, not written as an empty output.
#[derive(Debug, thiserror::Error)]
pub enum SerializeError {
    /// The plan as YAML.
    #[error("cannot write the plan as YAML: {0}")]
    Plan(#[source] yaml_serde::Error),
    /// The labels as JSON.
    #[error("cannot write the labels as JSON: {0}")]
    Labels(#[source] serde_json::Error),
    /// A section of a plan as JSON values, to compare two plans.
    #[error("cannot compare the plans' {section}: {error}")]
    Diff {
        section: &'static str,
        #[source]
        error: serde_json::Error,
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

impl miette::Diagnostic for SerializeError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(Self::CODE))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(SerializeError::help(self)))
    }
}
