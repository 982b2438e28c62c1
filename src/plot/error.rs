//! Every way `plot` stops, with its stable code and exit code;
//! `docs/errors.md` lists the same codes.

use std::fmt;

use crate::compile::CompileError;

/// Why `plot` stopped. [`PlotErrorKind::iter`] lists every kind.
#[derive(Debug, thiserror::Error, strum::EnumDiscriminants)]
#[strum_discriminants(name(PlotErrorKind), derive(strum::EnumIter))]
pub enum PlotError {
    /// The stream stopped (a conflict, a source read again), as the
    /// compiling commands word it.
    /// Its code is the compile error's own (not one of this list).
    #[strum_discriminants(strum(disabled))]
    #[error("{0}")]
    Compile(#[source] CompileError),
    /// `--from`/`--to` neither RFC 3339 nor `now`, `now-6h`, `now+1d`:
    /// `--from yesterday`.
    #[error("{option} `{text}` is not a time: {reason}")]
    BadTime {
        option: &'static str,
        text: String,
        reason: String,
    },
    /// `--from` at or after `--to`.
    #[error("--from `{from}` is not before --to `{to}`: nothing to draw")]
    EmptyWindow { from: String, to: String },
    /// `--where` not `DIM=VALUE`: `--where host`.
    #[error("--where `{text}` is not DIM=VALUE")]
    BadWhere { text: String },
    /// `-o` names no `.svg`, `.png` or `.html` file: `-o out.jpg`.
    #[error("cannot tell what to draw `{path}` as: plot writes .svg, .png and .html files")]
    UnknownFormat { path: String },
    /// `diff --plot -o changes.html`: the diff is drawn as SVG or PNG only.
    #[error("`diff --plot` draws SVG or PNG, not HTML: `{path}`")]
    DiffNotHtml { path: String },
    /// `--measure` names no measure of any table: `--measure cpu_usr`.
    #[error("no table has a measure `{name}`")]
    UnknownMeasure { name: String, known: Vec<String> },
    /// `--where` names a dimension no table has: `--where hots=a`.
    #[error("no table has a dimension `{name}`")]
    UnknownDimension { name: String, known: Vec<String> },
    /// Nothing left to draw: no series matches `--where`, or no record
    /// falls between `--from` and `--to`.
    #[error("nothing to draw: {what}")]
    EmptySelection { what: String },
    /// The drawing backend failed (the compiled-in font, the PNG encoder).
    #[error("cannot draw the plot: {reason}")]
    Draw { reason: String },
}

impl PlotErrorKind {
    pub fn code(self) -> &'static str {
        match self {
            // Not listed by `iter`: a compile error carries its own code, which
            // the error's `code()` gives.
            PlotErrorKind::Compile => "outatime::compile",
            PlotErrorKind::BadTime => "outatime::plot::bad_time",
            PlotErrorKind::EmptyWindow => "outatime::plot::empty_window",
            PlotErrorKind::BadWhere => "outatime::plot::bad_where",
            PlotErrorKind::UnknownFormat => "outatime::plot::unknown_format",
            PlotErrorKind::DiffNotHtml => "outatime::plot::diff_not_html",
            PlotErrorKind::UnknownMeasure => "outatime::plot::unknown_measure",
            PlotErrorKind::UnknownDimension => "outatime::plot::unknown_dimension",
            PlotErrorKind::EmptySelection => "outatime::plot::empty_selection",
            PlotErrorKind::Draw => "outatime::plot::draw",
        }
    }
}

impl PlotError {
    pub(crate) fn code(&self) -> &'static str {
        match self {
            PlotError::Compile(e) => e.code(),
            _ => PlotErrorKind::from(self).code(),
        }
    }

    /// What to do.
    pub(crate) fn help(&self) -> Option<String> {
        match self {
            PlotError::Compile(e) => e.help(),
            PlotError::BadTime { .. } => Some("write an RFC 3339 time (2026-11-27T18:00:00Z) or one relative to now (now, now-6h, now+1d)".into()),
            PlotError::EmptyWindow { .. } => Some("swap them, or widen the window".into()),
            PlotError::BadWhere { .. } => Some("name a dimension and its value, such as --where host=web-1 (repeat --where for more)".into()),
            PlotError::UnknownFormat { .. } => Some("name the output FILE.svg, FILE.png or FILE.html".into()),
            PlotError::DiffNotHtml { .. } => Some("name the output FILE.svg or FILE.png; `outatime plot PLAN -o FILE.html` draws one plan as a page".into()),
            PlotError::UnknownMeasure { known, .. } => Some(format!("the measures are: {}", known.join(", "))),
            PlotError::UnknownDimension { known, .. } => Some(format!("the dimensions are: {}", known.join(", "))),
            PlotError::EmptySelection { .. } => Some("widen --from/--to, or loosen --where and --measure".into()),
            PlotError::Draw { .. } => None,
        }
    }
}

impl miette::Diagnostic for PlotError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(PlotError::code(self)))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        PlotError::help(self).map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
}

impl From<CompileError> for PlotError {
    fn from(e: CompileError) -> PlotError {
        PlotError::Compile(e)
    }
}
