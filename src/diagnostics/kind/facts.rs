//! What every diagnostic kind states about itself, and the few turns of
//! phrase several kinds' wording shares.

use crate::diagnostics::span::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// A kind's facts, written once in its own `impl` beside its fields: the
/// stable code, the severity, the message, the labels and the help. Only
/// the message must be written; the rest default to what most kinds say.
pub(crate) trait Facts {
    /// The stable part after `outatime::`. A constant, so that every code
    /// can be listed without an instance (`DiagnosticCode::as_str`).
    const CODE: &'static str;

    fn severity(&self) -> Severity {
        Severity::Error
    }

    /// What is wrong: the report's headline.
    fn message(&self) -> String;

    /// The text under the primary span.
    fn label(&self) -> String {
        "here".into()
    }

    /// Secondary labels: a first definition, the other anomaly of an
    /// overlap.
    fn related(&self) -> Vec<(Span, String)> {
        Vec::new()
    }

    /// What to do about it.
    fn help(&self) -> Option<String> {
        None
    }
}

/// "did you mean `x`?", when there is a near name.
pub(super) fn did_you_mean(suggestion: &Option<String>) -> Option<String> {
    suggestion.as_ref().map(|s| format!("did you mean `{s}`?"))
}

/// "a" or "an" before a word, by its first letter.
pub(super) fn article(word: &str) -> &'static str {
    match word.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u') => "an",
        _ => "a",
    }
}

/// "`a`, `b` or `c`".
pub(super) fn one_of(items: &[String]) -> String {
    match items {
        [] => "something else".into(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// "`a`, `b`, `c`".
pub(super) fn backticked(items: &[String]) -> String {
    items
        .iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
