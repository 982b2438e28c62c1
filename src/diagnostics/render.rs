//! Diagnostics → text for people (miette's graphical report, the whole file
//! as its source) or JSON lines for editors and CI.

use std::fmt;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceCode};
use serde::Serialize;

use crate::diagnostics::{Diagnostic, Severity};

/// A line longer than this is not drawn: the report gives its position only.
const MAX_DRAWN_LINE: usize = 400;

/// How a report is drawn for people.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    pub color: bool,
    pub width: usize,
}

impl Style {
    /// What tests and snapshots use: no colour, fixed width.
    pub const PLAIN: Style = Style {
        color: false,
        width: 100,
    };
}

struct Report<'a> {
    diagnostic: &'a Diagnostic,
    source: &'a NamedSource<String>,
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diagnostic.message())
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diagnostic.message())
    }
}

impl std::error::Error for Report<'_> {}

impl miette::Diagnostic for Report<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(self.diagnostic.code()))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diagnostic.severity() {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.diagnostic
            .help()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let labels = self
            .diagnostic
            .labels()
            .into_iter()
            .map(|(span, text)| LabeledSpan::new(Some(text), span.start, span.len()));
        Some(Box::new(labels))
    }
}

/// Renders every diagnostic of one file for people.
pub fn human(path: &str, text: &str, diagnostics: &[Diagnostic], style: Style) -> String {
    let source = NamedSource::new(path, text.to_string());
    let theme = if style.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(style.width)
        .with_links(false);
    let mut out = String::new();
    for diagnostic in diagnostics {
        if touches_long_line(text, diagnostic) {
            out.push_str(&compact(path, text, diagnostic));
            continue;
        }
        let report = Report {
            diagnostic,
            source: &source,
        };
        if handler.render_report(&mut out, &report).is_err() {
            out.push_str(&compact(path, text, diagnostic));
        }
    }
    out
}

fn touches_long_line(text: &str, diagnostic: &Diagnostic) -> bool {
    diagnostic.labels().iter().any(|(span, _)| {
        let start = text[..span.start.min(text.len())]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        let end = text[span.start.min(text.len())..]
            .find('\n')
            .map_or(text.len(), |i| span.start + i);
        end - start > MAX_DRAWN_LINE
    })
}

/// `path:line:column: error[code]: message` and the help, for lines too
/// long to draw.
fn compact(path: &str, text: &str, d: &Diagnostic) -> String {
    let (line, column) = line_column(text, d.span.start);
    let mut out = format!(
        "{path}:{line}:{column}: {}[{}]: {}\n",
        d.severity().as_str(),
        d.code(),
        d.message()
    );
    if let Some(help) = d.help() {
        out.push_str(&format!("  help: {help}\n"));
    }
    out.push('\n');
    out
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

#[derive(Serialize)]
struct Position {
    line: usize,
    column: usize,
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    file: &'a str,
    line: usize,
    column: usize,
    end: Position,
    severity: &'static str,
    code: String,
    message: String,
    help: Option<String>,
}

/// One JSON object a line for each diagnostic.
pub fn json_lines(path: &str, text: &str, diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diagnostics {
        let (line, column) = line_column(text, d.span.start);
        let (end_line, end_column) = line_column(text, d.span.end);
        let record = JsonDiagnostic {
            file: path,
            line,
            column,
            end: Position {
                line: end_line,
                column: end_column,
            },
            severity: d.severity().as_str(),
            code: d.code(),
            message: d.message(),
            help: d.help(),
        };
        // Serialising plain strings and numbers cannot fail.
        out.push_str(&serde_json::to_string(&record).unwrap_or_default());
        out.push('\n');
    }
    out
}

/// A run-time error as every command words it: `error[CODE]: MESSAGE` (or
/// `error: MESSAGE` without a code), then each line of its help as
/// `  help: LINE`. No trailing newline. The one wording of every error
/// type (the error protocol: each implements `miette::Diagnostic`).
pub(crate) fn error_text(error: &dyn miette::Diagnostic) -> String {
    let mut out = match error.code() {
        Some(code) => format!("error[{code}]: {error}"),
        None => format!("error: {error}"),
    };
    if let Some(help) = error.help() {
        for line in help.to_string().lines() {
            out.push_str("\n  help: ");
            out.push_str(line);
        }
    }
    out
}
