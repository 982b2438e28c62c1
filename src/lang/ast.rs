//! The syntax tree: what the file says, with a byte span on every node.
//!
//! Names, kinds and parameters are kept as written (`Spanned<String>`); the
//! validator (`validate`) decides what they mean. Nothing here is checked
//! beyond the shape the grammar enforces.

pub(crate) use crate::diagnostics::Span;
use crate::diagnostics::kind::Clause;

/// A value and where it was written.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub(crate) fn new(value: T, span: Span) -> Self {
        Spanned { value, span }
    }
}

pub(crate) type Name = Spanned<String>;

/// A literal as written (a number, duration or timestamp); the validator
/// reads it, so that a bad one is reported with everything else.
pub(crate) type Lit = Spanned<String>;

/// `now`, `now + 15m`, `2024-03-12T08:00Z - 1d`.
#[derive(Clone, Debug)]
pub(crate) struct TimeExpr {
    pub base: TimeBase,
    /// `+` (true) or `-` (false) and the duration.
    pub offset: Option<(bool, Lit)>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub(crate) enum TimeBase {
    Now,
    Timestamp(Lit),
}

/// An argument or parameter value: `12.5`, `24h`, `"text"`, `true`.
#[derive(Clone, Debug)]
pub(crate) enum ValueSyntax {
    Number(Lit),
    Duration(Lit),
    String(Spanned<String>),
    Bool(Spanned<bool>),
}

impl ValueSyntax {
    pub(crate) fn span(&self) -> Span {
        match self {
            ValueSyntax::Number(l) | ValueSyntax::Duration(l) | ValueSyntax::String(l) => l.span,
            ValueSyntax::Bool(b) => b.span,
        }
    }
}

#[derive(Clone, Debug, Default)]
pub(crate) struct File {
    pub statements: Vec<Statement>,
}

#[derive(Clone, Debug)]
pub(crate) struct Statement {
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
pub(crate) enum StatementKind {
    Scenario(Spanned<String>),
    Seed(Lit),
    AnchorAlign(Lit),
    Source(Source),
    Table(Table),
    Replay(Replay),
    Generate(Generate),
    Extrapolate(Extrapolate),
    Anomaly(Anomaly),
    Expect(Expect),
}

#[derive(Clone, Debug)]
pub(crate) struct Source {
    pub name: Name,
    pub kind: Name,
    pub path: Spanned<String>,
    pub clauses: Vec<SourceClause>,
}

#[derive(Clone, Debug)]
pub(crate) enum SourceClause {
    Time {
        span: Span,
        column: Name,
        format: Option<TimeFormatSyntax>,
    },
    Timezone(Spanned<String>),
    Nonexistent(Name),
    Ambiguous(Name),
    Dimensions(Vec<DimensionDecl>),
    Measures(Vec<MeasureDecl>),
    LongMeasures {
        span: Span,
        name_column: Name,
        value_column: Name,
        /// `None`: left to an UNLOAD export's metadata.
        ty: Option<Name>,
    },
    /// `delimiter ";"`: the string as written (one ASCII character is valid).
    Delimiter(Spanned<String>),
    /// `escape "\\"`.
    Escape(Spanned<String>),
    /// `redact device_id, "customer id" salt env "NAME"`.
    Redact {
        span: Span,
        columns: Vec<Name>,
        salt_env: Option<Spanned<String>>,
    },
    Unknown(Name),
}

/// `device_id`, `"device-id" as device_id`.
#[derive(Clone, Debug)]
pub(crate) struct DimensionDecl {
    /// The column in the file.
    pub column: Name,
    /// The dimension's name in the table, when it differs.
    pub rename: Option<Name>,
}

#[derive(Clone, Debug)]
pub(crate) enum TimeFormatSyntax {
    Strftime(Spanned<String>),
    Word(Name),
}

#[derive(Clone, Debug)]
pub(crate) struct MeasureDecl {
    /// The column in the file.
    pub name: Name,
    /// The measure's name in the table, when it differs.
    pub rename: Option<Name>,
    /// `None`: left to an UNLOAD export's metadata.
    pub ty: Option<Name>,
}

impl MeasureDecl {
    /// Where the declaration ends: its type, its new name, or its column.
    pub(crate) fn end(&self) -> Span {
        self.ty
            .as_ref()
            .or(self.rename.as_ref())
            .unwrap_or(&self.name)
            .span
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Table {
    pub name: Name,
    pub clauses: Vec<TableClause>,
}

#[derive(Clone, Debug)]
pub(crate) enum TableClause {
    Name(Spanned<String>),
    Layout(Name),
    MeasureName(Spanned<String>),
    Unknown(Name),
}

/// `DIM == "v"`, `DIM != "v"`, `DIM in ["a", "b"]`.
#[derive(Clone, Debug)]
pub(crate) struct Condition {
    pub dimension: Name,
    pub test: ConditionTest,
    #[expect(
        dead_code,
        reason = "every node keeps its span, for the diagnostics and rewrites that will point at it"
    )]
    pub span: Span,
}

#[derive(Clone, Debug)]
pub(crate) enum ConditionTest {
    Equals(Spanned<String>),
    NotEquals(Spanned<String>),
    In(Vec<Spanned<String>>),
}

#[derive(Clone, Debug)]
pub(crate) struct Assignment {
    pub dimension: Name,
    pub value: Spanned<String>,
}

#[derive(Clone, Debug)]
pub(crate) enum ShiftSyntax {
    StartTo(TimeExpr),
    EndTo(TimeExpr),
    By(Lit),
    CalendarDays { days: Lit, zone: Spanned<String> },
}

#[derive(Clone, Debug)]
pub(crate) struct TimeRange {
    pub start: TimeExpr,
    pub end: TimeExpr,
    pub span: Span,
}

/// `from A to B every S` or `from A for D every S`.
#[derive(Clone, Debug)]
pub(crate) struct Schedule {
    pub start: TimeExpr,
    pub end: ScheduleEnd,
    pub every: Lit,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub(crate) enum ScheduleEnd {
    To(TimeExpr),
    For(Lit),
}

/// A clause that replay, generate and extrapolate blocks share some of.
#[derive(Clone, Debug)]
pub(crate) enum StepClause {
    Window(TimeRange),
    Learn(TimeRange),
    #[expect(
        dead_code,
        reason = "every node keeps its span, for the diagnostics and rewrites that will point at it"
    )]
    Where(Vec<Condition>, Span),
    Shift(Spanned<ShiftSyntax>),
    Speed(Lit),
    Measures(Vec<Name>),
    #[expect(
        dead_code,
        reason = "every node keeps its span, for the diagnostics and rewrites that will point at it"
    )]
    Set(Vec<Assignment>, Span),
    Series(Vec<Assignment>, Span),
    Schedule(Schedule),
    Measure(GeneratedMeasure),
    Model(ModelSyntax),
    Unknown(Name),
}

impl StepClause {
    /// Which clause this is; `None` for a word no clause starts with.
    pub(crate) fn clause(&self) -> Option<Clause> {
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
pub(crate) struct GeneratedMeasure {
    pub name: Name,
    pub ty: Name,
    pub model: ModelSyntax,
    #[expect(
        dead_code,
        reason = "every node keeps its span, for the diagnostics and rewrites that will point at it"
    )]
    pub span: Span,
}

#[derive(Clone, Debug)]
pub(crate) struct Replay {
    pub source: Name,
    pub table: Name,
    pub clauses: Vec<Spanned<StepClause>>,
}

#[derive(Clone, Debug)]
pub(crate) struct Generate {
    pub table: Name,
    pub clauses: Vec<Spanned<StepClause>>,
}

#[derive(Clone, Debug)]
pub(crate) struct Extrapolate {
    pub source: Name,
    pub measure: Name,
    pub table: Name,
    pub clauses: Vec<Spanned<StepClause>>,
}

#[derive(Clone, Debug)]
pub(crate) struct ModelSyntax {
    pub terms: Vec<TermSyntax>,
    pub clamp: Option<(Lit, Lit, Span)>,
    #[expect(
        dead_code,
        reason = "every node keeps its span, for the diagnostics and rewrites that will point at it"
    )]
    pub span: Span,
}

#[derive(Clone, Debug)]
pub(crate) struct TermSyntax {
    pub name: Name,
    /// `None` for a bare term such as `trend`; `Some` for `f(...)`.
    pub args: Option<Vec<Arg>>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub(crate) struct Arg {
    pub name: Option<Name>,
    pub value: ValueSyntax,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub(crate) struct Anomaly {
    pub kind: Name,
    /// `as door_warmup`.
    pub name: Option<Name>,
    pub table: Name,
    pub measure: Option<Name>,
    pub clauses: Vec<AnomalyClause>,
}

#[derive(Clone, Debug)]
pub(crate) enum AnomalyClause {
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
pub(crate) struct AnomalyParam {
    pub name: Name,
    pub value: ValueSyntax,
    pub per: Option<Lit>,
    #[expect(
        dead_code,
        reason = "every node keeps its span, for the diagnostics and rewrites that will point at it"
    )]
    pub span: Span,
}

/// `expect "title" { ... }`, or `expect alert "AlertName" { ... }`.
#[derive(Clone, Debug)]
pub(crate) struct Expect {
    /// `expect alert`: about alerts received, not a query.
    pub alert: Option<Span>,
    pub title: Spanned<String>,
    pub clauses: Vec<Spanned<ExpectClause>>,
}

#[derive(Clone, Debug)]
pub(crate) enum ExpectClause {
    /// `query influxql "SELECT ..."`.
    Query {
        dialect: Name,
        text: Spanned<String>,
    },
    /// `window now - 1h .. now + 30m`.
    Window(TimeRange),
    /// `window anomaly door_warmup`, `window anomaly door_warmup .. + 10m`.
    AnomalyWindow {
        anomaly: Name,
        /// `+` (true) or `-` (false) and the duration the end moves by.
        extend: Option<(bool, Lit)>,
    },
    Value(Comparison),
    Rows(Comparison),
    Empty,
    /// `within 5m every 10s`.
    Within {
        limit: Lit,
        every: Option<Lit>,
    },
    Hold(Lit),
    Never,
    Labels(Vec<Condition>),
    /// `firing within 5m of anomaly door_warmup`.
    Status {
        resolved: bool,
        within: Lit,
        anomaly: Option<Name>,
    },
    Count(Comparison),
    Unknown(Name),
}

/// `>= 1`, `between 2 and 4`, `approx 5 rel 3%`, `approx 5 abs 0.5`.
#[derive(Clone, Debug)]
pub(crate) enum Comparison {
    Compare { op: Spanned<String>, value: Lit },
    Between(Lit, Lit),
    ApproxRelative(Lit, Lit),
    ApproxAbsolute(Lit, Lit),
}
