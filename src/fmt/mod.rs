//! `outatime fmt`: a scenario's canonical layout, from its tokens and the
//! comments between them (docs/fmt.md has the rules).
//!
//! Only a file without syntax errors is formatted. Its statements are parsed
//! with the grammar (`tokens.rs` turns each into a header, a block and its
//! clauses, every token a slice of the text as written), the comments and
//! blank lines between tokens are read from the gaps (`gap.rs`), and
//! `layout.rs` lays it all out again. The result is checked before it is
//! returned: it must parse without errors into the same tokens, statement by
//! statement, or the file is left as it is.

mod gap;
mod layout;
mod tokens;

use crate::diagnostics::Diagnostic;
use crate::lang::parser;

/// Why a text was not formatted.
#[derive(Debug)]
pub(crate) enum FmtError {
    /// The text has syntax errors: it is left as it is, and these say why.
    Syntax { diagnostics: Vec<Diagnostic> },
    /// The layout would not read back as the same tokens (a formatter bug):
    /// the text is left as it is.
    NotPreserved { detail: String },
}

impl FmtError {
    /// The stable code of the error; the syntax errors carry their own.
    pub(crate) fn code(&self) -> &'static str {
        match self {
            FmtError::Syntax { .. } => "outatime::fmt::syntax",
            FmtError::NotPreserved { .. } => "outatime::fmt::not_preserved",
        }
    }
}

/// The canonical layout of `text`, or why it cannot be given.
pub(crate) fn format(text: &str) -> Result<String, FmtError> {
    let statements = read(text)?;
    let crlf = text.find('\n').is_some_and(|i| text[..i].ends_with('\r'));
    let formatted = layout::lay_out(text, &statements, crlf);
    let again = read(&formatted).map_err(|e| FmtError::NotPreserved {
        detail: match e {
            FmtError::Syntax { diagnostics } => diagnostics
                .first()
                .map(|d| format!("the result does not parse: {}", d.message()))
                .unwrap_or_default(),
            FmtError::NotPreserved { detail } => detail,
        },
    })?;
    tokens::same_tokens(text, &statements, &formatted, &again)
        .map_err(|detail| FmtError::NotPreserved { detail })?;
    Ok(formatted)
}

/// Parses `text` into statements of tokens, or returns its syntax errors.
fn read(text: &str) -> Result<Vec<tokens::Statement>, FmtError> {
    let parsed = parser::parse(text);
    let errors: Vec<Diagnostic> = parsed
        .diagnostics
        .into_iter()
        .filter(|d| d.severity() == crate::diagnostics::Severity::Error)
        .collect();
    if !errors.is_empty() {
        return Err(FmtError::Syntax {
            diagnostics: errors,
        });
    }
    tokens::statements(text).map_err(|detail| FmtError::NotPreserved { detail })
}

#[cfg(test)]
mod tests;
