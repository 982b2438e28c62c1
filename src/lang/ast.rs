//! The syntax tree: what the file says, with a byte span on every node.
//!
//! Names, kinds and parameters are kept as written (`Spanned<String>`); the
//! validator (`validate`) decides what they mean. Nothing here is checked
//! beyond the shape the grammar enforces.

pub use crate::diagnostics::Span;
use crate::diagnostics::kind::Clause;

/// A value and where it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub fn new(value: T, span: Span) -> Self {
        Spanned { value, span }
    }
}

pub type Name = Spanned<String>;

/// A literal as written (a number, duration or timestamp); the validator
/// reads it, so that a bad one is reported with everything else.
pub type Lit = Spanned<String>;

/// `now`, `now + 15m`, `2024-03-12T08:00Z - 1d`.
#[derive(Clone, Debug)]
pub struct TimeExpr {
    pub base: TimeBase,
    /// `+` (true) or `-` (false) and the duration.
    pub offset: Option<(bool, Lit)>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum TimeBase {
    Now,
    Timestamp(Lit),
}

/// An argument or parameter value: `12.5`, `24h`, `"text"`, `true`.
#[derive(Clone, Debug)]
pub enum ValueSyntax {
    Number(Lit),
    Duration(Lit),
    String(Spanned<String>),
    Bool(Spanned<bool>),
}

impl ValueSyntax {
    pub fn span(&self) -> Span {
        match self {
            ValueSyntax::Number(l) | ValueSyntax::Duration(l) | ValueSyntax::String(l) => l.span,
            ValueSyntax::Bool(b) => b.span,
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct File {
    pub statements: Vec<Statement>,
}

#[derive(Clone, Debug)]
pub struct Statement {
    pub kind: StatementKind,
    /// The whole statement, header to closing brace.
    pub span: Span,
    /// The span of the keyword that starts it (`replay`, `source`, ...).
    pub keyword: Span,
    /// A line inside it did not parse and was skipped: checks for missing
    /// clauses are not made, since the missing clause may be that line.
    pub recovered: bool,
}

#[derive(Clone, Debug)]
pub enum StatementKind {
    Scenario(Spanned<String>),
    Seed(Lit),
    AnchorAlign(Lit),
    Source(Source),
    Table(Table),
    Replay(Replay),
    Generate(Generate),
    Extrapolate(Extrapolate),
    Anomaly(Anomaly),
}

#[derive(Clone, Debug)]
pub struct Source {
    pub name: Name,
    pub kind: Name,
    pub path: Spanned<String>,
    pub clauses: Vec<SourceClause>,
}

#[derive(Clone, Debug)]
pub enum SourceClause {
    Time {
        span: Span,
        column: Name,
        format: Option<TimeFormatSyntax>,
    },
    Timezone(Spanned<String>),
    Nonexistent(Name),
    Ambiguous(Name),
    Dimensions(Vec<Name>),
    Measures(Vec<MeasureDecl>),
    LongMeasures {
        span: Span,
        name_column: Name,
        value_column: Name,
        ty: Name,
    },
    Unknown(Name),
}

#[derive(Clone, Debug)]
pub enum TimeFormatSyntax {
    Strftime(Spanned<String>),
    Word(Name),
}

#[derive(Clone, Debug)]
pub struct MeasureDecl {
    pub name: Name,
    pub ty: Name,
}

#[derive(Clone, Debug)]
pub struct Table {
    pub name: Name,
    pub clauses: Vec<TableClause>,
}

#[derive(Clone, Debug)]
pub enum TableClause {
    Name(Spanned<String>),
    Layout(Name),
    MeasureName(Spanned<String>),
    Unknown(Name),
}

/// `DIM == "v"`, `DIM != "v"`, `DIM in ["a", "b"]`.
#[derive(Clone, Debug)]
pub struct Condition {
    pub dimension: Name,
    pub test: ConditionTest,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum ConditionTest {
    Equals(Spanned<String>),
    NotEquals(Spanned<String>),
    In(Vec<Spanned<String>>),
}

#[derive(Clone, Debug)]
pub struct Assignment {
    pub dimension: Name,
    pub value: Spanned<String>,
}

#[derive(Clone, Debug)]
pub enum ShiftSyntax {
    StartTo(TimeExpr),
    EndTo(TimeExpr),
    By(Lit),
    CalendarDays { days: Lit, zone: Spanned<String> },
}

#[derive(Clone, Debug)]
pub struct TimeRange {
    pub start: TimeExpr,
    pub end: TimeExpr,
    pub span: Span,
}

/// `from A to B every S` or `from A for D every S`.
#[derive(Clone, Debug)]
pub struct Schedule {
    pub start: TimeExpr,
    pub end: ScheduleEnd,
    pub every: Lit,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum ScheduleEnd {
    To(TimeExpr),
    For(Lit),
}

/// A clause that replay, generate and extrapolate blocks share some of.
#[derive(Clone, Debug)]
pub enum StepClause {
    Window(TimeRange),
    Learn(TimeRange),
    Where(Vec<Condition>, Span),
    Shift(Spanned<ShiftSyntax>),
    Speed(Lit),
    Measures(Vec<Name>),
    Set(Vec<Assignment>, Span),
    Series(Vec<Assignment>, Span),
    Schedule(Schedule),
    Measure(GeneratedMeasure),
    Model(ModelSyntax),
    Unknown(Name),
}

impl StepClause {
    /// Which clause this is; `None` for a word no clause starts with.
    pub fn clause(&self) -> Option<Clause> {
        Some(match self {
            StepClause::Window(_) => Clause::Window,
            StepClause::Learn(_) => Clause::Learn,
            StepClause::Where(..) => Clause::Where,
            StepClause::Shift(_) => Clause::Shift,
            StepClause::Speed(_) => Clause::Speed,
            StepClause::Measures(_) => Clause::Measures,
            StepClause::Set(..) => Clause::Set,
            StepClause::Series(..) => Clause::Series,
            StepClause::Schedule(_) => Clause::From,
            StepClause::Measure(_) => Clause::Measure,
            StepClause::Model(_) => Clause::Model,
            StepClause::Unknown(_) => return None,
        })
    }
}

#[derive(Clone, Debug)]
pub struct GeneratedMeasure {
    pub name: Name,
    pub ty: Name,
    pub model: ModelSyntax,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Replay {
    pub source: Name,
    pub table: Name,
    pub clauses: Vec<Spanned<StepClause>>,
}

#[derive(Clone, Debug)]
pub struct Generate {
    pub table: Name,
    pub clauses: Vec<Spanned<StepClause>>,
}

#[derive(Clone, Debug)]
pub struct Extrapolate {
    pub source: Name,
    pub measure: Name,
    pub table: Name,
    pub clauses: Vec<Spanned<StepClause>>,
}

#[derive(Clone, Debug)]
pub struct ModelSyntax {
    pub terms: Vec<TermSyntax>,
    pub clamp: Option<(Lit, Lit, Span)>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct TermSyntax {
    pub name: Name,
    /// `None` for a bare term such as `trend`; `Some` for `f(...)`.
    pub args: Option<Vec<Arg>>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Arg {
    pub name: Option<Name>,
    pub value: ValueSyntax,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Anomaly {
    pub kind: Name,
    pub table: Name,
    pub measure: Option<Name>,
    pub clauses: Vec<AnomalyClause>,
}

#[derive(Clone, Debug)]
pub enum AnomalyClause {
    Where(Vec<Condition>, Span),
    At {
        at: TimeExpr,
        length: Option<Lit>,
        span: Span,
    },
    Param(AnomalyParam),
}

/// `magnitude 12.5`, `rate 0.5 per 1h`.
#[derive(Clone, Debug)]
pub struct AnomalyParam {
    pub name: Name,
    pub value: ValueSyntax,
    pub per: Option<Lit>,
    pub span: Span,
}
