//! Every way `plot` stops, with its stable code and exit code;
//! `docs/errors.md` lists the same codes.

use std::fmt;

use crate::compile::CompileError;

/// Why `plot` stopped. [`PlotErrorKind::iter`] lists every kind.
#[derive(Debug, strum::EnumDiscriminants)]
#[strum_discriminants(name(PlotErrorKind), derive(strum::EnumIter))]
pub enum PlotError {
    /// The stream stopped (a conflict, a source read again), as the
    /// compiling commands word it.
    /// Its code is the compile error's own (not one of this list).
    #[strum_discriminants(strum(disabled))]
    Compile(CompileError),
    /// `--from`/`--to` neither RFC 3339 nor `now`, `now-6h`, `now+1d`:
    /// `--from yesterday`.
    BadTime {
        option: &'static str,
        text: String,
        reason: String,
    },
    /// `--from` at or after `--to`.
    EmptyWindow { from: String, to: String },
    /// `--where` not `DIM=VALUE`: `--where host`.
    BadWhere { text: String },
    /// `-o` names no `.svg`, `.png` or `.html` file: `-o out.jpg`.
    UnknownFormat { path: String },
    /// `diff --plot -o changes.html`: the diff is drawn as SVG or PNG only.
    DiffNotHtml { path: String },
    /// `--measure` names no measure of any table: `--measure cpu_usr`.
    UnknownMeasure { name: String, known: Vec<String> },
    /// `--where` names a dimension no table has: `--where hots=a`.
    UnknownDimension { name: String, known: Vec<String> },
    /// Nothing left to draw: no series matches `--where`, or no record
    /// falls between `--from` and `--to`.
    EmptySelection { what: String },
    /// The drawing backend failed (the compiled-in font, the PNG encoder).
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
}

impl fmt::Display for PlotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let PlotError::Compile(e) = self {
            return writeln!(f, "{}", e.worded());
        }
        write!(f, "error[{}]: ", self.code())?;
        match self {
            PlotError::Compile(_) => Ok(()),
            PlotError::BadTime {
                option,
                text,
                reason,
            } => writeln!(
                f,
                "{option} `{text}` is not a time: {reason}\n  help: write an RFC 3339 time (2026-11-27T18:00:00Z) or one relative to now (now, now-6h, now+1d)"
            ),
            PlotError::EmptyWindow { from, to } => writeln!(
                f,
                "--from `{from}` is not before --to `{to}`: nothing to draw\n  help: swap them, or widen the window"
            ),
            PlotError::BadWhere { text } => writeln!(
                f,
                "--where `{text}` is not DIM=VALUE\n  help: name a dimension and its value, such as --where host=web-1 (repeat --where for more)"
            ),
            PlotError::UnknownFormat { path } => writeln!(
                f,
                "cannot tell what to draw `{path}` as: plot writes .svg, .png and .html files\n  help: name the output FILE.svg, FILE.png or FILE.html"
            ),
            PlotError::DiffNotHtml { path } => writeln!(
                f,
                "`diff --plot` draws SVG or PNG, not HTML: `{path}`\n  help: name the output FILE.svg or FILE.png; `outatime plot PLAN -o FILE.html` draws one plan as a page"
            ),
            PlotError::UnknownMeasure { name, known } => writeln!(
                f,
                "no table has a measure `{name}`\n  help: the measures are: {}",
                known.join(", ")
            ),
            PlotError::UnknownDimension { name, known } => writeln!(
                f,
                "no table has a dimension `{name}`\n  help: the dimensions are: {}",
                known.join(", ")
            ),
            PlotError::EmptySelection { what } => writeln!(
                f,
                "nothing to draw: {what}\n  help: widen --from/--to, or loosen --where and --measure"
            ),
            PlotError::Draw { reason } => writeln!(f, "cannot draw the plot: {reason}"),
        }
    }
}

impl From<CompileError> for PlotError {
    fn from(e: CompileError) -> PlotError {
        PlotError::Compile(e)
    }
}
