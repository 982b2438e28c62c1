//! `redact a, b`: the columns a source hides behind keyed pseudonyms, each
//! a dimension column or a varchar measure column.

use std::collections::BTreeMap;

use crate::diagnostics::kind;
use crate::diagnostics::kind::NameKind;
use crate::diagnostics::suggest::closest;
use crate::lang::ast;
use crate::model::{DEFAULT_SALT_ENV, MeasureType, Redaction, Source, SourceMeasures};
use crate::validate::Validator;

impl Validator<'_> {
    /// `redact a, b`: dimension columns and varchar measure columns.
    pub(super) fn redaction(
        &mut self,
        source: &Source,
        columns: &[ast::Name],
        salt_env: Option<&ast::Spanned<String>>,
    ) -> Option<Redaction> {
        let mut ok = true;
        let mut seen = BTreeMap::new();
        let mut text_columns: Vec<&str> = source.dimensions.iter().map(String::as_str).collect();
        match &source.measures {
            SourceMeasures::Wide(defs) => text_columns.extend(
                defs.iter()
                    .filter(|d| d.ty == MeasureType::Varchar)
                    .map(|d| d.name.as_str()),
            ),
            SourceMeasures::Long {
                value_column, ty, ..
            } if *ty == MeasureType::Varchar => text_columns.push(value_column),
            SourceMeasures::Long { .. } => {}
        }
        for column in columns {
            if !self.first_name(&mut seen, NameKind::Column, column) {
                ok = false;
                continue;
            }
            if text_columns.contains(&column.value.as_str()) {
                continue;
            }
            ok = false;
            match what_column(source, &column.value) {
                Some(what) => self.report(
                    kind::RedactNotText {
                        column: column.value.clone(),
                        what,
                    },
                    column.span,
                ),
                None => {
                    let mut known = text_columns.clone();
                    known.sort_unstable();
                    self.report(
                        kind::UnknownName {
                            kind: NameKind::Column,
                            name: column.value.clone(),
                            suggestion: closest(&column.value, known.iter().copied()),
                            known: known.iter().map(|k| k.to_string()).collect(),
                        },
                        column.span,
                    );
                }
            }
        }
        ok.then(|| Redaction {
            columns: columns.iter().map(|c| c.value.clone()).collect(),
            salt_env: salt_env.map_or_else(|| DEFAULT_SALT_ENV.to_string(), |s| s.value.clone()),
        })
    }
}

/// What a column of the source that cannot be redacted is ("the time
/// column", "a double measure"); `None` for one the source does not name.
fn what_column(source: &Source, column: &str) -> Option<String> {
    if column == source.time_column {
        return Some("the time column".to_string());
    }
    match &source.measures {
        SourceMeasures::Wide(defs) => defs
            .iter()
            .find(|d| d.name == column)
            .map(|d| format!("{} measure", article_type(d.ty))),
        SourceMeasures::Long {
            name_column,
            value_column,
            ty,
        } => {
            if name_column == column {
                Some("the column that names the measures".into())
            } else if value_column == column {
                Some(format!("{} measure", article_type(*ty)))
            } else {
                None
            }
        }
    }
}

/// "a double", "a bigint", "a boolean".
fn article_type(ty: MeasureType) -> String {
    format!("a {}", ty.name())
}
