//! Diagnostics → text for people (miette's graphical report, the whole file
//! as its source) or JSON lines for editors and CI.
//!
//! A file's lines are found once ([`Lines`]), not once a diagnostic: a
//! file with 20,000 warnings is drawn in time that grows with the file,
//! not with its square.

use std::fmt;

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents,
    SourceCode, SourceSpan, SpanContents,
};
use serde::Serialize;

use crate::diagnostics::{BYTE_ORDER_MARK, Diagnostic, Severity};

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
    source: &'a Lines<'a>,
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
    let source = Lines::new(path, text);
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
            out.push_str(&compact(&source, diagnostic));
            continue;
        }
        let report = Report {
            diagnostic,
            source: &source,
        };
        if handler.render_report(&mut out, &report).is_err() {
            out.push_str(&compact(&source, diagnostic));
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
fn compact(source: &Lines<'_>, d: &Diagnostic) -> String {
    let (line, column) = source.line_column(d.span.start);
    let mut out = format!(
        "{}:{line}:{column}: {}[{}]: {}\n",
        source.name,
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

/// A file's text and where its lines start, found once.
///
/// It is the source miette draws from: `SourceCode` for a whole `str`
/// scans from the start of the file for every label, so a file with many
/// diagnostics took time in its length times their number. This one
/// hands miette's own scan the text from a few lines before the label
/// (a line start, so the scan sees the same lines) and adds back the
/// lines and bytes it skipped: the same contents, line and column as the
/// whole text gives, byte for byte.
struct Lines<'a> {
    name: &'a str,
    text: &'a str,
    /// Where each line starts as miette counts lines (after `\n`, `\r\n`
    /// or a lone `\r`); the first at 0.
    drawn: Vec<usize>,
    /// Where each line starts as a column is counted (after `\n`).
    counted: Vec<usize>,
}

impl<'a> Lines<'a> {
    fn new(name: &'a str, text: &'a str) -> Lines<'a> {
        let bytes = text.as_bytes();
        let mut drawn = vec![0];
        let mut counted = vec![0];
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\n' => {
                    drawn.push(i + 1);
                    counted.push(i + 1);
                }
                b'\r' if bytes.get(i + 1) == Some(&b'\n') => {
                    i += 1;
                    drawn.push(i + 1);
                    counted.push(i + 1);
                }
                b'\r' => drawn.push(i + 1),
                _ => {}
            }
            i += 1;
        }
        Lines {
            name,
            text,
            drawn,
            counted,
        }
    }

    /// 1-based line and column (in characters) of a byte offset; a
    /// byte-order mark at the start of the file is not a column.
    fn line_column(&self, offset: usize) -> (usize, usize) {
        let text = self.text;
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.counted.partition_point(|&s| s <= offset);
        let mut line_start = self.counted[line - 1];
        if line_start == 0 && text.starts_with(BYTE_ORDER_MARK) {
            line_start = BYTE_ORDER_MARK.len_utf8().min(offset);
        }
        let column = text[line_start..offset].chars().count() + 1;
        (line, column)
    }
}

impl fmt::Debug for Lines<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lines").field("name", &self.name).finish()
    }
}

impl SourceCode for Lines<'_> {
    fn read_span<'b>(
        &'b self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'b> + 'b>, MietteError> {
        // The span's line, less the lines of context before it, less one
        // more: the scan from there finds the same first line to draw.
        let line = self
            .drawn
            .partition_point(|&s| s <= span.offset())
            .saturating_sub(1);
        let skipped = line.saturating_sub(context_lines_before + 1);
        let from = self.drawn[skipped];
        let window = SourceSpan::new((span.offset() - from).into(), span.len());
        let contents = self.text.as_bytes()[from..].read_span(
            &window,
            context_lines_before,
            context_lines_after,
        )?;
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.to_string(),
            contents.data(),
            SourceSpan::new(
                (contents.span().offset() + from).into(),
                contents.span().len(),
            ),
            contents.line() + skipped,
            contents.column(),
            contents.line_count() + skipped,
        )))
    }
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
    let lines = Lines::new(path, text);
    let mut out = String::new();
    for d in diagnostics {
        let (line, column) = lines.line_column(d.span.start);
        let (end_line, end_column) = lines.line_column(d.span.end);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every span of a few texts, with any context, reads the same through
    /// [`Lines`] as through the whole text: the drawing stays byte for byte.
    #[test]
    fn lines_read_what_the_whole_text_reads() {
        let mixed: String = (0..40)
            .map(|i| match i % 4 {
                0 => format!("line {i}\n"),
                1 => format!("crlf {i}\r\n"),
                2 => format!("lone cr {i}\r"),
                _ => format!("wide é {i}\n\n"),
            })
            .collect();
        let texts = [
            "",
            "a",
            "one\ntwo\nthree\n",
            "\n\n\n",
            "crlf\r\nlines\r\n\r\nend",
            "\u{feff}scenario \"x\"\n",
            mixed.as_str(),
        ];
        for text in texts {
            let lines = Lines::new("f.scenario", text);
            // Spans inside the text, as a diagnostic's are.
            for start in 0..=text.len() {
                for len in [0, 1, 2, 7, 30].map(|n: usize| n.min(text.len() - start)) {
                    for before in 0..3 {
                        for after in 0..3 {
                            let span = SourceSpan::new(start.into(), len);
                            let whole = text.read_span(&span, before, after);
                            let ours = lines.read_span(&span, before, after);
                            let read = |c: Box<dyn SpanContents<'_> + '_>| {
                                (
                                    c.data().to_vec(),
                                    *c.span(),
                                    c.line(),
                                    c.column(),
                                    c.line_count(),
                                )
                            };
                            match (whole, ours) {
                                (Ok(w), Ok(o)) => assert_eq!(
                                    read(w),
                                    read(o),
                                    "{text:?} at {start}+{len}, {before} before, {after} after"
                                ),
                                (Err(_), Err(_)) => {}
                                (w, o) => panic!(
                                    "{text:?} at {start}+{len}: whole {:?}, lines {:?}",
                                    w.is_ok(),
                                    o.is_ok()
                                ),
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn columns_count_characters_after_a_byte_order_mark() {
        let lines = Lines::new("f", "\u{feff}ab\né x\n");
        assert_eq!(lines.line_column(0), (1, 1));
        assert_eq!(lines.line_column(3), (1, 1));
        assert_eq!(lines.line_column(4), (1, 2));
        assert_eq!(lines.line_column(6), (2, 1));
        assert_eq!(lines.line_column(9), (2, 3));
        assert_eq!(lines.line_column(99), (3, 1));
    }
}
