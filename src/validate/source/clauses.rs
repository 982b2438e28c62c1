//! A `source`'s clauses read, each once: the time column and its format,
//! the time zone and its rules for nonexistent and repeated local times,
//! dimensions and measures (wide, or long: named by a column), the CSV
//! dialect and the columns to redact.

use std::collections::BTreeMap;

use chrono_tz::Tz;

use crate::diagnostics::kind;
use crate::diagnostics::kind::{Clause, List, NameKind};
use crate::lang::ast::{self, SourceClause, Span, TimeFormatSyntax};
use crate::lang::literal::{Ambiguous, Nonexistent};
use crate::model::{CsvDialect, EpochUnit, MeasureType, SourceKind, TimeFormat};
use crate::validate::Validator;
use crate::validate::declarations::MEASURE_TYPES;

const SOURCE_CLAUSES: &[Clause] = &[
    Clause::Time,
    Clause::Timezone,
    Clause::Nonexistent,
    Clause::Ambiguous,
    Clause::Dimensions,
    Clause::Measures,
    Clause::Delimiter,
    Clause::Escape,
    Clause::Redact,
];

/// What a `source`'s clauses say, each read once.
pub(super) struct Clauses<'s> {
    /// The time column and its format; `None` when missing or unreadable.
    pub(super) time: Option<(String, TimeFormat)>,
    pub(super) timezone: Tz,
    pub(super) nonexistent: Nonexistent,
    pub(super) ambiguous: Ambiguous,
    /// The line of a written `ambiguous`.
    pub(super) ambiguous_line: Option<usize>,
    /// Dimension columns, and their names in the table.
    pub(super) dimensions: Vec<String>,
    pub(super) dimension_names: Vec<String>,
    pub(super) measures: Option<DeclaredMeasures<'s>>,
    pub(super) dialect: CsvDialect,
    /// `redact` columns and the salt's variable, when written.
    pub(super) redact: Option<(&'s [ast::Name], Option<&'s ast::Spanned<String>>)>,
    /// Where each clause was first written.
    pub(super) seen: BTreeMap<Clause, Span>,
    /// Every column the source names, to look for in the file.
    pub(super) named: Vec<&'s ast::Name>,
    /// False once a clause had a problem (reported).
    pub(super) ok: bool,
}

/// A measure as declared, its type still to settle.
pub(super) struct Declared<'s> {
    pub(super) column: &'s ast::Name,
    pub(super) table_name: String,
    pub(super) written: Option<(MeasureType, Span)>,
    /// Where a missing or disagreeing type is reported.
    pub(super) at: Span,
}

/// The measures a source declares, their types still to settle.
pub(super) enum DeclaredMeasures<'s> {
    /// `measures a, b as c double`: one column a measure.
    Wide(Vec<Declared<'s>>),
    /// `measures from NAME value VALUE [TYPE]`: the two columns, the type
    /// if written, and the clause's span.
    Long {
        name_column: &'s ast::Name,
        value_column: &'s ast::Name,
        written: Option<(MeasureType, Span)>,
        at: Span,
    },
}

impl DeclaredMeasures<'_> {
    /// How many measures are declared (a long clause: its value column).
    pub(super) fn count(&self) -> usize {
        match self {
            DeclaredMeasures::Wide(defs) => defs.len(),
            DeclaredMeasures::Long { .. } => 1,
        }
    }
}

impl<'s> Clauses<'s> {
    fn new(kind: Option<SourceKind>) -> Clauses<'s> {
        Clauses {
            time: None,
            timezone: chrono_tz::UTC,
            nonexistent: Nonexistent::Shift,
            ambiguous: Ambiguous::Earlier,
            ambiguous_line: None,
            dimensions: Vec::new(),
            dimension_names: Vec::new(),
            measures: None,
            dialect: CsvDialect::default_for(kind.unwrap_or(SourceKind::Csv)),
            redact: None,
            seen: BTreeMap::new(),
            named: Vec::new(),
            ok: true,
        }
    }
}

impl Validator<'_> {
    /// Every clause of `s` read, a repeated one reported and left out, an
    /// unknown one reported (a name just after a list on its line as the
    /// list's missing comma). `kind` is the source's, when known.
    pub(super) fn source_clauses<'s>(
        &mut self,
        s: &'s ast::Source,
        kind: Option<SourceKind>,
    ) -> Clauses<'s> {
        let mut into = Clauses::new(kind);
        let mut previous_list: Option<(List, Span)> = None;
        for clause in &s.clauses {
            let list = match clause {
                SourceClause::Dimensions(l) => l.last().map(|d| {
                    (
                        List::Dimensions,
                        d.rename.as_ref().unwrap_or(&d.column).span,
                    )
                }),
                SourceClause::Measures(l) => l.last().map(|d| (List::Measures, d.end())),
                _ => None,
            };
            let after_list = std::mem::replace(&mut previous_list, list);
            let Some((keyword, span)) = clause_keyword(clause) else {
                if let SourceClause::Unknown(name) = clause {
                    self.unknown_source_clause(&mut into, name, after_list);
                }
                continue;
            };
            if self.first_clause(&mut into.seen, keyword, span) {
                self.source_clause(&mut into, clause, kind);
            }
        }
        into
    }

    /// A clause name no rule knows: on the line a list ends, most likely
    /// the list's next item after a missing comma.
    fn unknown_source_clause(
        &mut self,
        into: &mut Clauses<'_>,
        name: &ast::Name,
        after_list: Option<(List, Span)>,
    ) {
        match after_list {
            Some((list, end)) if self.line(end.end) == self.line(name.span.start) => {
                self.report(kind::MissingComma { list }, name.span);
                into.ok = false;
                // Read it as the comma were there, so later steps do not
                // call the name unknown.
                if list == List::Dimensions {
                    into.dimensions.push(name.value.clone());
                    into.dimension_names.push(name.value.clone());
                }
            }
            _ => self.unknown_clause("source", name, SOURCE_CLAUSES),
        }
    }

    /// One clause, the first of its keyword, read into `into`.
    fn source_clause<'s>(
        &mut self,
        into: &mut Clauses<'s>,
        clause: &'s SourceClause,
        kind: Option<SourceKind>,
    ) {
        match clause {
            SourceClause::Time { column, format, .. } => {
                let format = self.time_format(format.as_ref());
                into.ok &= format.is_some();
                into.named.push(column);
                into.time = format.map(|f| (column.value.clone(), f));
            }
            SourceClause::Timezone(z) => match self.time_zone(z) {
                Some(tz) => into.timezone = tz,
                None => into.ok = false,
            },
            SourceClause::Nonexistent(w) => {
                let options = [("shift", Nonexistent::Shift), ("error", Nonexistent::Error)];
                match self.word(w, "`nonexistent` policy", &options) {
                    Some(n) => into.nonexistent = n,
                    None => into.ok = false,
                }
            }
            SourceClause::Ambiguous(w) => {
                let options = [
                    ("earlier", Ambiguous::Earlier),
                    ("later", Ambiguous::Later),
                    ("error", Ambiguous::Error),
                    ("in_order", Ambiguous::InOrder),
                ];
                match self.word(w, "`ambiguous` policy", &options) {
                    Some(a) => {
                        into.ambiguous = a;
                        into.ambiguous_line = Some(self.line(w.span.start));
                    }
                    None => into.ok = false,
                }
            }
            SourceClause::Dimensions(list) => self.dimension_list(into, list),
            SourceClause::Measures(list) => {
                let defs = self.measure_list(into, list);
                into.measures = Some(DeclaredMeasures::Wide(defs));
            }
            SourceClause::LongMeasures {
                name_column,
                value_column,
                ty,
                span,
            } => {
                let written = match ty {
                    Some(ty) => match self.word(ty, "type", MEASURE_TYPES) {
                        Some(t) => Some((t, ty.span)),
                        None => {
                            into.ok = false;
                            return;
                        }
                    },
                    None => None,
                };
                into.named.extend([name_column, value_column]);
                into.measures = Some(DeclaredMeasures::Long {
                    name_column,
                    value_column,
                    written,
                    at: *span,
                });
            }
            SourceClause::Delimiter(d) => match self.dialect_char(Clause::Delimiter, d, kind) {
                Some(c) => into.dialect.delimiter = c,
                None => into.ok = false,
            },
            SourceClause::Escape(e) => match self.dialect_char(Clause::Escape, e, kind) {
                Some(c) => into.dialect.escape = Some(c),
                None => into.ok = false,
            },
            SourceClause::Redact {
                columns, salt_env, ..
            } => into.redact = Some((columns.as_slice(), salt_env.as_ref())),
            SourceClause::Unknown(_) => {}
        }
    }

    /// `time ts [FORMAT]`: RFC 3339 unless a strftime pattern or an epoch
    /// unit is written.
    fn time_format(&mut self, format: Option<&TimeFormatSyntax>) -> Option<TimeFormat> {
        match format {
            None => Some(TimeFormat::Rfc3339),
            Some(TimeFormatSyntax::Strftime(f)) => self.strftime(f),
            Some(TimeFormatSyntax::Word(w)) => self
                .word(
                    w,
                    "time format",
                    &[
                        ("epoch_s", EpochUnit::Seconds),
                        ("epoch_ms", EpochUnit::Millis),
                        ("epoch_us", EpochUnit::Micros),
                        ("epoch_ns", EpochUnit::Nanos),
                    ],
                )
                .map(TimeFormat::Epoch),
        }
    }

    /// `dimensions a, b as c`: each column and each name once, a name the
    /// table takes.
    fn dimension_list<'s>(&mut self, into: &mut Clauses<'s>, list: &'s [ast::DimensionDecl]) {
        let mut seen_columns = BTreeMap::new();
        let mut seen_names = BTreeMap::new();
        for decl in list {
            let name = decl.rename.as_ref().unwrap_or(&decl.column);
            if !self.first_name(&mut seen_columns, NameKind::Column, &decl.column)
                || !self.first_name(&mut seen_names, NameKind::Dimension, name)
            {
                into.ok = false;
                continue;
            }
            self.column_name(NameKind::Dimension, &decl.column, decl.rename.as_ref());
            into.named.push(&decl.column);
            into.dimensions.push(decl.column.value.clone());
            into.dimension_names.push(name.value.clone());
        }
    }

    /// `measures a double, b as c`: each column and each name once, a name
    /// the table takes, a type when written one of ours.
    fn measure_list<'s>(
        &mut self,
        into: &mut Clauses<'s>,
        list: &'s [ast::MeasureDecl],
    ) -> Vec<Declared<'s>> {
        let mut defs = Vec::new();
        let mut seen_columns = BTreeMap::new();
        let mut seen_names = BTreeMap::new();
        for decl in list {
            let name = decl.rename.as_ref().unwrap_or(&decl.name);
            if !self.first_name(&mut seen_columns, NameKind::Column, &decl.name)
                || !self.first_name(&mut seen_names, NameKind::Measure, name)
            {
                into.ok = false;
                continue;
            }
            self.column_name(NameKind::Measure, &decl.name, decl.rename.as_ref());
            into.named.push(&decl.name);
            let written = match &decl.ty {
                Some(ty) => match self.word(ty, "type", MEASURE_TYPES) {
                    Some(t) => Some((t, ty.span)),
                    None => {
                        into.ok = false;
                        continue;
                    }
                },
                None => None,
            };
            defs.push(Declared {
                column: &decl.name,
                table_name: name.value.clone(),
                written,
                at: decl.end(),
            });
        }
        defs
    }

    /// A strftime pattern that chrono can read.
    fn strftime(&mut self, format: &ast::Spanned<String>) -> Option<TimeFormat> {
        use chrono::format::{Item, StrftimeItems};
        if StrftimeItems::new(&format.value).any(|item| matches!(item, Item::Error)) {
            let kind = kind::BadTimeFormat {
                reason: "it has an unknown or incomplete `%` directive".into(),
            };
            self.report(kind, format.span);
            return None;
        }
        Some(TimeFormat::Strftime(format.value.clone()))
    }

    /// `delimiter ";"` / `escape "\\"`: one ASCII character, and only where
    /// there is CSV to read.
    fn dialect_char(
        &mut self,
        clause: Clause,
        written: &ast::Spanned<String>,
        kind: Option<SourceKind>,
    ) -> Option<u8> {
        if kind == Some(SourceKind::Jsonl) {
            self.report(kind::DialectNotForJsonl { clause }, written.span);
            return None;
        }
        match written.value.as_bytes() {
            [c] if c.is_ascii() && !matches!(c, b'\n' | b'\r' | b'"') => Some(*c),
            _ => {
                let kind = kind::BadDialectCharacter {
                    clause,
                    written: written.value.clone(),
                };
                self.report(kind, written.span);
                None
            }
        }
    }
}

/// A clause's keyword and where it is written; `None` for a name no rule
/// knows.
fn clause_keyword(clause: &SourceClause) -> Option<(Clause, Span)> {
    Some(match clause {
        SourceClause::Time { span, .. } => (Clause::Time, *span),
        SourceClause::Timezone(z) => (Clause::Timezone, z.span),
        SourceClause::Nonexistent(n) => (Clause::Nonexistent, n.span),
        SourceClause::Ambiguous(n) => (Clause::Ambiguous, n.span),
        SourceClause::Dimensions(list) => (Clause::Dimensions, list[0].column.span),
        SourceClause::Measures(list) => (Clause::Measures, list[0].name.span),
        SourceClause::LongMeasures { span, .. } => (Clause::Measures, *span),
        SourceClause::Delimiter(d) => (Clause::Delimiter, d.span),
        SourceClause::Escape(e) => (Clause::Escape, e.span),
        SourceClause::Redact { span, .. } => (Clause::Redact, *span),
        SourceClause::Unknown(_) => return None,
    })
}
