//! Named parameters of model terms and anomalies: unknown, duplicate,
//! missing and mistyped ones are reported the same way everywhere.

use std::collections::BTreeMap;

use super::Validator;
use crate::diagnostics::kind;
use crate::diagnostics::kind::Positive;
use crate::diagnostics::suggest::closest;
use crate::lang::ast::{Lit, Name, Span, ValueSyntax};
use crate::lang::literal::{self, Duration};
use crate::model::{MeasureType, Scalar};

/// One parameter as written: `period: 24h`, `magnitude 12.5`, `rate 2 per 1h`.
pub(super) struct Given<'a> {
    pub name: &'a Name,
    pub value: &'a ValueSyntax,
    pub per: Option<&'a Lit>,
}

/// The parameters of one term or anomaly, read one by one by name.
pub(super) struct Params<'a> {
    owner: String,
    /// Where to point when a parameter is missing.
    at: Span,
    given: BTreeMap<&'a str, Given<'a>>,
    /// Parameters an unknown one looked like: not reported again as missing.
    misspelt: Vec<String>,
    /// The statement lost a line to a syntax error: a missing parameter may
    /// be on that line, so none is reported.
    pub quiet_missing: bool,
    /// False once anything was wrong: the caller builds nothing.
    pub ok: bool,
}

impl<'a> Params<'a> {
    /// The value given for `name`, if any.
    pub(super) fn value(&self, name: &str) -> Option<&'a ValueSyntax> {
        self.given.get(name).map(|g| g.value)
    }
}

impl Validator<'_> {
    pub(super) fn params<'a>(
        &mut self,
        owner: &str,
        at: Span,
        given: Vec<Given<'a>>,
        allowed: &[&str],
    ) -> Params<'a> {
        let mut params = Params {
            owner: owner.into(),
            at,
            given: BTreeMap::new(),
            misspelt: Vec::new(),
            quiet_missing: false,
            ok: true,
        };
        for g in given {
            if !allowed.contains(&g.name.value.as_str()) {
                let suggestion = closest(&g.name.value, allowed.iter().copied());
                params.misspelt.extend(suggestion.clone());
                self.report(
                    kind::UnknownParameter {
                        owner: owner.into(),
                        name: g.name.value.clone(),
                        suggestion,
                        allowed: allowed.iter().map(|a| a.to_string()).collect(),
                    },
                    g.name.span,
                );
                params.ok = false;
                continue;
            }
            if let Some(first) = params.given.get(g.name.value.as_str()) {
                self.report(
                    kind::DuplicateParameter {
                        name: g.name.value.clone(),
                        first: first.name.span,
                    },
                    g.name.span,
                );
                params.ok = false;
                continue;
            }
            params.given.insert(&g.name.value, g);
        }
        params
    }

    fn missing(&mut self, p: &mut Params<'_>, name: &str, example: &str) {
        p.ok = false;
        if p.quiet_missing || p.misspelt.iter().any(|m| m == name) {
            return;
        }
        self.report(
            kind::MissingParameter {
                owner: p.owner.clone(),
                name: name.into(),
                example: example.into(),
            },
            p.at,
        );
        p.ok = false;
    }

    fn wrong_type(&mut self, p: &mut Params<'_>, name: &str, expected: &str, value: &ValueSyntax) {
        let found = match value {
            ValueSyntax::Number(lit) if !lit.value.contains(['.', 'e', 'E']) => "a whole number",
            ValueSyntax::Number(_) => "a fraction",
            ValueSyntax::Duration(_) => "a duration",
            ValueSyntax::String(_) => "a string",
            ValueSyntax::Bool(_) => "a boolean",
        };
        self.report(
            kind::WrongParameterType {
                owner: p.owner.clone(),
                name: name.into(),
                expected: expected.into(),
                found: found.into(),
            },
            value.span(),
        );
        p.ok = false;
    }

    /// `per` is only for `drift`'s rate; anywhere else it is reported.
    pub(super) fn no_per(&mut self, p: &mut Params<'_>) {
        let stray: Vec<(String, Span)> = p
            .given
            .values()
            .filter_map(|g| g.per.map(|per| (g.name.value.clone(), per.span)))
            .collect();
        for (name, span) in stray {
            self.report(kind::UnexpectedPer { name }, span);
            p.ok = false;
        }
    }

    pub(super) fn opt_number(&mut self, p: &mut Params<'_>, name: &str) -> Option<f64> {
        let value = p.given.get(name)?.value;
        match value {
            ValueSyntax::Number(lit) => match self.number(lit) {
                Some(n) => Some(n.value),
                None => {
                    p.ok = false;
                    None
                }
            },
            other => {
                self.wrong_type(p, name, "a number such as `3.5`", other);
                None
            }
        }
    }

    pub(super) fn number_param(&mut self, p: &mut Params<'_>, name: &str, example: &str) -> f64 {
        if !p.given.contains_key(name) {
            self.missing(p, name, example);
            return 0.0;
        }
        self.opt_number(p, name).unwrap_or(0.0)
    }

    pub(super) fn opt_duration(&mut self, p: &mut Params<'_>, name: &str) -> Option<Duration> {
        let value = p.given.get(name)?.value;
        match value {
            ValueSyntax::Duration(lit) => {
                let d = self.duration(lit);
                p.ok &= d.is_some();
                d
            }
            other => {
                self.wrong_type(p, name, "a duration such as `24h`", other);
                None
            }
        }
    }

    /// A required duration that must be above zero (`period`, `delay`).
    pub(super) fn positive_duration_param(
        &mut self,
        p: &mut Params<'_>,
        name: &str,
        example: &str,
    ) -> Duration {
        if !p.given.contains_key(name) {
            self.missing(p, name, example);
            return Duration::ZERO;
        }
        let span = p.given[name].value.span();
        match self.opt_duration(p, name) {
            Some(d) if d.is_positive() => d,
            Some(_) => {
                self.report(
                    kind::NotPositive {
                        what: Positive::Param(name.into()),
                    },
                    span,
                );
                p.ok = false;
                Duration::ZERO
            }
            None => Duration::ZERO,
        }
    }

    /// The `per D` of `rate X per D`, required and positive.
    pub(super) fn per_param(&mut self, p: &mut Params<'_>, name: &str) -> Duration {
        let Some(per) = p.given.get(name).map(|g| g.per) else {
            return Duration::ZERO;
        };
        let Some(lit) = per else {
            let span = p.given[name].value.span();
            self.report(kind::MissingPer, span);
            p.ok = false;
            return Duration::ZERO;
        };
        match self.positive_duration(lit, "per") {
            Some(d) => d,
            None => {
                p.ok = false;
                Duration::ZERO
            }
        }
    }

    /// A value of the measure's type: a number for double and bigint (whole
    /// for bigint), `true`/`false` for boolean, a string for varchar.
    pub(super) fn opt_scalar(
        &mut self,
        p: &mut Params<'_>,
        name: &str,
        ty: MeasureType,
    ) -> Option<Scalar> {
        let value = p.given.get(name)?.value;
        let scalar = match (ty, value) {
            (MeasureType::Double, ValueSyntax::Number(lit)) => {
                self.number(lit).map(|n| Scalar::Double(n.value))
            }
            (MeasureType::Bigint, ValueSyntax::Number(lit)) => match self.number(lit) {
                Some(literal::Number {
                    integer: Some(i), ..
                }) => Some(Scalar::Bigint(i)),
                // `1e3` is whole, only not written as an integer.
                Some(n) if n.value.fract() == 0.0 && n.value.abs() < 9.2e18 => {
                    Some(Scalar::Bigint(n.value as i64))
                }
                Some(n) if n.value.fract() == 0.0 => {
                    self.report(kind::NumberOutOfRange, lit.span);
                    p.ok = false;
                    None
                }
                Some(_) => {
                    self.wrong_type(p, name, "a whole number such as `80`", value);
                    None
                }
                None => None,
            },
            (MeasureType::Boolean, ValueSyntax::Bool(b)) => Some(Scalar::Boolean(b.value)),
            (MeasureType::Varchar, ValueSyntax::String(s)) => {
                Some(Scalar::Varchar(s.value.clone()))
            }
            (ty, other) => {
                self.wrong_type(p, name, value_of_type(ty), other);
                return None;
            }
        };
        p.ok &= scalar.is_some();
        scalar
    }

    pub(super) fn scalar_param(
        &mut self,
        p: &mut Params<'_>,
        name: &str,
        ty: MeasureType,
        example: &str,
    ) -> Option<Scalar> {
        if !p.given.contains_key(name) {
            self.missing(p, name, example);
            return None;
        }
        self.opt_scalar(p, name, ty)
    }

    /// Reports a value outside its allowed range.
    pub(super) fn out_of_range(
        &mut self,
        p: &mut Params<'_>,
        name: &str,
        value: f64,
        constraint: &str,
    ) {
        let span = p.given.get(name).map_or(p.at, |g| g.value.span());
        self.report(
            kind::ParameterOutOfRange {
                name: name.into(),
                value: value.to_string(),
                constraint: constraint.into(),
            },
            span,
        );
        p.ok = false;
    }
}

/// What a value of a measure's type looks like, for "`value` takes ...".
pub(super) fn value_of_type(ty: MeasureType) -> &'static str {
    match ty {
        MeasureType::Double => "a number such as `4.5` (the measure is double)",
        MeasureType::Bigint => "a whole number such as `80` (the measure is bigint)",
        MeasureType::Boolean => "`true` or `false` (the measure is boolean)",
        MeasureType::Varchar => "a string such as `\"open\"` (the measure is varchar)",
    }
}
