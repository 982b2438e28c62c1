//! Statements and their clauses: a missing, misplaced, doubled or unknown
//! one, and a word a clause does not know.

use super::facts::{Facts, article, backticked, did_you_mean};
use super::words::Clause;
use crate::diagnostics::span::Span;

/// A file without `scenario "TITLE"`.
#[derive(Clone, Debug, PartialEq)]
pub struct MissingScenario;

impl Facts for MissingScenario {
    const CODE: &'static str = "scenario::missing";

    fn message(&self) -> String {
        "the file has no `scenario` statement".into()
    }

    fn label(&self) -> String {
        "the file starts here".into()
    }

    fn help(&self) -> Option<String> {
        Some("start the file with a title: `scenario \"What this test checks\"`".into())
    }
}

/// `scenario "..."` after another statement.
#[derive(Clone, Debug, PartialEq)]
pub struct ScenarioNotFirst {
    pub first_statement: Span,
}

impl Facts for ScenarioNotFirst {
    const CODE: &'static str = "scenario::not_first";

    fn message(&self) -> String {
        "`scenario` must be the first statement".into()
    }

    fn label(&self) -> String {
        "too late".into()
    }

    fn related(&self) -> Vec<(Span, String)> {
        vec![(self.first_statement, "the first statement".into())]
    }

    fn help(&self) -> Option<String> {
        Some("move `scenario \"...\"` to the top of the file".into())
    }
}

/// `seed -1`
#[derive(Clone, Debug, PartialEq)]
pub struct SeedOutOfRange;

impl Facts for SeedOutOfRange {
    const CODE: &'static str = "seed::out_of_range";

    fn message(&self) -> String {
        "seed must be a whole number from 0 to 18446744073709551615".into()
    }

    fn help(&self) -> Option<String> {
        Some("use a value such as `seed 42`".into())
    }
}

/// `seed 1` twice.
#[derive(Clone, Debug, PartialEq)]
pub struct DuplicateStatement {
    pub statement: String,
    pub first: Span,
}

impl Facts for DuplicateStatement {
    const CODE: &'static str = "statement::duplicate";

    fn message(&self) -> String {
        format!("`{}` is given twice", self.statement)
    }

    fn label(&self) -> String {
        "given again here".into()
    }

    fn related(&self) -> Vec<(Span, String)> {
        vec![(self.first, "first given here".into())]
    }

    fn help(&self) -> Option<String> {
        Some("keep one of them".into())
    }
}

/// `replya fleet into t`
#[derive(Clone, Debug, PartialEq)]
pub struct UnknownStatement {
    pub word: String,
    pub suggestion: Option<String>,
}

impl Facts for UnknownStatement {
    const CODE: &'static str = "statement::unknown";

    fn message(&self) -> String {
        format!("unknown statement `{}`", self.word)
    }

    fn help(&self) -> Option<String> {
        Some(did_you_mean(&self.suggestion).unwrap_or_else(|| {
            "statements: `scenario`, `seed`, `anchor`, `source`, `table`, `replay`, `generate`, `extrapolate`, `anomaly`".into()
        }))
    }
}

/// `window ...` twice in one block.
#[derive(Clone, Debug, PartialEq)]
pub struct DuplicateClause {
    pub clause: Clause,
    pub first: Span,
}

impl Facts for DuplicateClause {
    const CODE: &'static str = "clause::duplicate";

    fn message(&self) -> String {
        format!("`{}` is given twice", self.clause)
    }

    fn label(&self) -> String {
        "defined again here".into()
    }

    fn related(&self) -> Vec<(Span, String)> {
        vec![(self.first, "first given here".into())]
    }

    fn help(&self) -> Option<String> {
        Some(match self.clause {
            Clause::Where => "join the conditions in one clause with `and`".into(),
            _ => "keep one of them".into(),
        })
    }
}

/// `extrapolate fleet.t into x { learn ... }` without `model`.
#[derive(Clone, Debug, PartialEq)]
pub struct MissingClause {
    pub statement: String,
    pub clause: Clause,
    pub example: String,
}

impl Facts for MissingClause {
    const CODE: &'static str = "clause::missing";

    fn message(&self) -> String {
        let clause = self.clause.to_string();
        format!(
            "`{}` needs {} `{clause}` clause",
            self.statement,
            article(&clause)
        )
    }

    fn help(&self) -> Option<String> {
        Some(format!("add it, for example `{}`", self.example))
    }
}

/// `windw 2024-...` inside a replay block.
#[derive(Clone, Debug, PartialEq)]
pub struct UnknownClause {
    pub statement: String,
    pub clause: String,
    pub suggestion: Option<String>,
    pub allowed: Vec<String>,
}

impl Facts for UnknownClause {
    const CODE: &'static str = "clause::unknown";

    fn message(&self) -> String {
        format!("unknown clause `{}` in `{}`", self.clause, self.statement)
    }

    fn help(&self) -> Option<String> {
        Some(
            did_you_mean(&self.suggestion)
                .unwrap_or_else(|| format!("clauses here: {}", backticked(&self.allowed))),
        )
    }
}

/// `layout multiple`, `measures t float`, `source s xml "..."`
#[derive(Clone, Debug, PartialEq)]
pub struct UnknownWord {
    pub what: String,
    pub word: String,
    pub suggestion: Option<String>,
    pub allowed: Vec<String>,
}

impl Facts for UnknownWord {
    const CODE: &'static str = "word::unknown";

    fn message(&self) -> String {
        format!("unknown {} `{}`", self.what, self.word)
    }

    fn help(&self) -> Option<String> {
        Some(
            did_you_mean(&self.suggestion)
                .unwrap_or_else(|| format!("use one of {}", backticked(&self.allowed))),
        )
    }
}
