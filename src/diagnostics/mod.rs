//! A diagnostic is data: what is wrong (`DiagnosticKind`) and where (`Span`).
//! Each kind's code and wording live beside it in `kind/`, rendering in
//! `render.rs`.

pub(crate) use kind::{DiagnosticKind, Severity};
pub(crate) use span::{BYTE_ORDER_MARK, Span};

pub(crate) mod kind;
pub mod render;
mod span;
pub(crate) mod suggest;

#[derive(Clone, Debug)]
pub struct Diagnostic {
    pub kind: DiagnosticKind,
    /// Where the problem is: the primary label's span.
    pub span: Span,
}

impl Diagnostic {
    pub(crate) fn new(kind: impl Into<DiagnosticKind>, span: Span) -> Self {
        Diagnostic {
            kind: kind.into(),
            span,
        }
    }

    pub fn severity(&self) -> Severity {
        self.kind.severity()
    }

    pub fn code(&self) -> String {
        format!("outatime::{}", self.kind.code())
    }

    pub fn message(&self) -> String {
        shorten_quoted(self.kind.message(), MAX_QUOTED_CHARS)
    }

    /// The help is mostly ours (examples, suggestions): only very long
    /// quoted text in it, such as a resolved path, is cut.
    pub fn help(&self) -> Option<String> {
        self.kind
            .help()
            .map(|h| shorten_quoted(h, MAX_QUOTED_CHARS_IN_HELP))
    }

    /// The primary label, then any secondary ones (a first definition, the
    /// other anomaly of an overlap).
    pub fn labels(&self) -> Vec<(Span, String)> {
        let mut labels = vec![(self.span, self.kind.label())];
        labels.extend(self.kind.related());
        labels
            .into_iter()
            .map(|(span, text)| (span, shorten_quoted(text, MAX_QUOTED_CHARS)))
            .collect()
    }
}

/// Quoted user text (between backticks) longer than this is cut, so that a
/// 10 MB name makes a short message.
const MAX_QUOTED_CHARS: usize = 40;
const MAX_QUOTED_CHARS_IN_HELP: usize = 200;

fn shorten_quoted(text: String, limit: usize) -> String {
    if text.len() <= limit * 2 {
        return text;
    }
    let mut out = String::with_capacity(text.len().min(1024));
    for (i, part) in text.split('`').enumerate() {
        if i > 0 {
            out.push('`');
        }
        let quoted = i % 2 == 1;
        if quoted && part.chars().count() > limit {
            out.extend(part.chars().take(limit));
            out.push('…');
        } else {
            out.push_str(part);
        }
    }
    out
}

/// Diagnostics in the order a reader wants them: by position, errors before
/// warnings at the same place.
pub(crate) fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by(|a, b| {
        (a.span.start, a.severity(), a.span.end).cmp(&(b.span.start, b.severity(), b.span.end))
    });
}

/// An error and its chain of causes on one line, `outer: inner: root`:
/// how a failure from a library (an SDK, an HTTP client) is shown.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_quoted_text_is_cut_and_short_text_kept() {
        let long = format!("table `{}` is bad", "x".repeat(100));
        let cut = shorten_quoted(long, MAX_QUOTED_CHARS);
        assert_eq!(cut, format!("table `{}…` is bad", "x".repeat(40)));
        let short = "unknown clause `windw` in `replay`".to_string();
        assert_eq!(shorten_quoted(short.clone(), MAX_QUOTED_CHARS), short);
    }
}
