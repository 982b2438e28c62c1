//! A diagnostic is data: what is wrong (`DiagnosticKind`) and where (`Span`).
//! Wording lives in `diagnostic_kind.rs`, rendering in `render.rs`.

use crate::ast::Span;
pub(crate) use crate::diagnostic_kind::DiagnosticKind;

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

#[derive(Clone, Debug)]
pub struct Diagnostic {
    pub kind: DiagnosticKind,
    /// Where the problem is: the primary label's span.
    pub span: Span,
}

impl Diagnostic {
    pub(crate) fn new(kind: DiagnosticKind, span: Span) -> Self {
        Diagnostic { kind, span }
    }

    pub fn severity(&self) -> Severity {
        self.kind.severity()
    }

    pub fn code(&self) -> String {
        format!("outatime::{}", self.kind.code())
    }

    pub fn message(&self) -> String {
        self.kind.message()
    }

    pub fn help(&self) -> Option<String> {
        self.kind.help()
    }

    /// The primary label, then any secondary ones (a first definition, the
    /// other anomaly of an overlap).
    pub fn labels(&self) -> Vec<(Span, String)> {
        let mut labels = vec![(self.span, self.kind.label())];
        labels.extend(self.kind.related());
        labels
    }
}

/// Diagnostics in the order a reader wants them: by position, errors before
/// warnings at the same place.
pub(crate) fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by(|a, b| {
        (a.span.start, a.severity(), a.span.end).cmp(&(b.span.start, b.severity(), b.span.end))
    });
}
