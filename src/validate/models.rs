//! Models: sums of terms, each fitting the measure's type.

use super::Validator;
use super::params::Given;
use crate::diagnostics::kind;
use crate::diagnostics::suggest::closest;
use crate::lang::ast::{ModelSyntax, Span, TermSyntax, ValueSyntax};
use crate::model::{MeasureType, Model, Term};

/// Every term, the types it fits, and whether it is learned from data.
const TERMS: &[(&str, &[MeasureType], bool)] = &[
    ("constant", ALL, false),
    ("ramp", NUMERIC, false),
    ("sine", NUMERIC, false),
    (
        "square",
        &[
            MeasureType::Double,
            MeasureType::Bigint,
            MeasureType::Boolean,
        ],
        false,
    ),
    ("random_walk", NUMERIC, false),
    ("noise", NUMERIC, false),
    ("uniform", NUMERIC, false),
    ("bernoulli", &[MeasureType::Boolean], false),
    ("choice", &[MeasureType::Varchar], false),
    ("seasonal", NUMERIC, true),
    ("trend", NUMERIC, true),
    ("last", ALL, true),
    ("mean", NUMERIC, true),
];

const ALL: &[MeasureType] = &[
    MeasureType::Double,
    MeasureType::Bigint,
    MeasureType::Boolean,
    MeasureType::Varchar,
];
const NUMERIC: &[MeasureType] = &[MeasureType::Double, MeasureType::Bigint];

/// Where a model stands: `extrapolate` may use learned terms.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum ModelPlace {
    Generate,
    Extrapolate,
}

impl Validator<'_> {
    pub(super) fn model(
        &mut self,
        m: &ModelSyntax,
        ty: MeasureType,
        place: ModelPlace,
    ) -> Option<Model> {
        let mut terms = Vec::new();
        let mut ok = true;
        for term in &m.terms {
            match self.term(term, ty, place) {
                Some(t) => terms.push(t),
                None => ok = false,
            }
        }
        if !ty.is_numeric() && m.terms.len() > 1 {
            self.report(kind::ModelNotSummable { ty }, m.terms[1].span);
            ok = false;
        }
        let mut clamp = None;
        if let Some((low, high, span)) = &m.clamp {
            if !ty.is_numeric() {
                self.report(kind::ClampType { ty }, *span);
                ok = false;
            }
            match (self.number(low), self.number(high)) {
                (Some(l), Some(h)) if l.value > h.value => {
                    self.report(
                        kind::ClampRange {
                            low: l.value,
                            high: h.value,
                        },
                        *span,
                    );
                    ok = false;
                }
                (Some(l), Some(h)) => clamp = Some((l.value, h.value)),
                _ => ok = false,
            }
        }
        ok.then_some(Model { terms, clamp })
    }

    /// One term: a known one, fitting the measure's type and its place,
    /// its parameters named and read.
    fn term(&mut self, t: &TermSyntax, ty: MeasureType, place: ModelPlace) -> Option<Term> {
        let name = self.term_name(t, ty, place)?;
        if name == "choice" {
            return self.choice(t);
        }
        let given = self.named_arguments(t)?;
        self.term_parameters(name, t.span, given, ty)
    }

    /// The term's name, when it is one of `TERMS` that fits `ty` and may
    /// stand at `place`; otherwise reported.
    fn term_name<'t>(
        &mut self,
        t: &'t TermSyntax,
        ty: MeasureType,
        place: ModelPlace,
    ) -> Option<&'t str> {
        let name = t.name.value.as_str();
        let Some(&(_, fits, learned)) = TERMS.iter().find(|(n, _, _)| *n == name) else {
            self.report(
                kind::UnknownTerm {
                    term: name.into(),
                    suggestion: closest(name, TERMS.iter().map(|(n, _, _)| *n)),
                },
                t.name.span,
            );
            return None;
        };
        if learned && place != ModelPlace::Extrapolate {
            self.report(
                kind::LearnedTermOutsideExtrapolate { term: name.into() },
                t.name.span,
            );
            return None;
        }
        if !fits.contains(&ty) {
            self.report(
                kind::TermTypeMismatch {
                    term: name.into(),
                    ty,
                    fits: fits.to_vec(),
                },
                t.name.span,
            );
            return None;
        }
        Some(name)
    }

    /// The term's arguments, every one named (all but `choice`'s are): a
    /// positional one is reported with an example.
    fn named_arguments<'t>(&mut self, t: &'t TermSyntax) -> Option<Vec<Given<'t>>> {
        let name = t.name.value.as_str();
        let mut given = Vec::new();
        for arg in t.args.as_deref().unwrap_or(&[]) {
            match &arg.name {
                Some(n) => given.push(Given {
                    name: n,
                    value: &arg.value,
                    per: None,
                }),
                None => {
                    self.report(
                        kind::PositionalArgument {
                            term: name.into(),
                            example: example(name).into(),
                        },
                        arg.span,
                    );
                    return None;
                }
            }
        }
        Some(given)
    }

    /// A term's parameters read and checked, by name. One arm a term: each
    /// is the whole of what that term accepts (its parameters, defaults
    /// and ranges), so they stay side by side in one match rather than
    /// spread over a function each.
    fn term_parameters(
        &mut self,
        name: &str,
        at: Span,
        given: Vec<Given<'_>>,
        ty: MeasureType,
    ) -> Option<Term> {
        match name {
            "constant" => {
                let mut p = self.params(name, at, given, &["value"]);
                let value = self.scalar_param(&mut p, "value", ty, example(name));
                p.ok.then_some(Term::Constant(value?))
            }
            "ramp" => {
                let mut p = self.params(name, at, given, &["from", "to"]);
                let from = self.number_param(&mut p, "from", example(name));
                let to = self.number_param(&mut p, "to", example(name));
                p.ok.then_some(Term::Ramp { from, to })
            }
            "sine" => {
                let mut p = self.params(name, at, given, &["period", "amplitude", "mean", "phase"]);
                let period = self.positive_duration_param(&mut p, "period", example(name));
                let amplitude = self.number_param(&mut p, "amplitude", example(name));
                let mean = self.opt_number(&mut p, "mean").unwrap_or(0.0);
                let phase = self.opt_duration(&mut p, "phase").unwrap_or_default();
                p.ok.then_some(Term::Sine {
                    period,
                    amplitude,
                    mean,
                    phase,
                })
            }
            "square" => {
                let mut p = self.params(name, at, given, &["period", "low", "high", "duty"]);
                let period = self.positive_duration_param(&mut p, "period", example(name));
                let low = self.scalar_param(&mut p, "low", ty, example(name));
                let high = self.scalar_param(&mut p, "high", ty, example(name));
                let duty = self.opt_number(&mut p, "duty").unwrap_or(0.5);
                if !(duty > 0.0 && duty < 1.0) {
                    self.out_of_range(&mut p, "duty", duty, "between 0 and 1 (exclusive)");
                }
                match (low, high) {
                    (Some(low), Some(high)) if p.ok => Some(Term::Square {
                        period,
                        low,
                        high,
                        duty,
                    }),
                    _ => None,
                }
            }
            "random_walk" => {
                let mut p = self.params(name, at, given, &["start", "step", "min", "max"]);
                let start = self.number_param(&mut p, "start", example(name));
                let step = self.number_param(&mut p, "step", example(name));
                let min = self.opt_number(&mut p, "min");
                let max = self.opt_number(&mut p, "max");
                if step < 0.0 {
                    self.out_of_range(&mut p, "step", step, "zero or more");
                }
                if let (Some(lo), Some(hi)) = (min, max)
                    && lo > hi
                {
                    self.out_of_range(&mut p, "min", lo, &format!("at most `max` ({hi})"));
                }
                if min.is_some_and(|lo| start < lo) || max.is_some_and(|hi| start > hi) {
                    self.out_of_range(&mut p, "start", start, "between `min` and `max`");
                }
                p.ok.then_some(Term::RandomWalk {
                    start,
                    step,
                    min,
                    max,
                })
            }
            "noise" => {
                let mut p = self.params(name, at, given, &["sigma"]);
                let sigma = self.number_param(&mut p, "sigma", example(name));
                if sigma < 0.0 {
                    self.out_of_range(&mut p, "sigma", sigma, "zero or more");
                }
                p.ok.then_some(Term::Noise { sigma })
            }
            "uniform" => {
                let mut p = self.params(name, at, given, &["min", "max"]);
                let min = self.number_param(&mut p, "min", example(name));
                let max = self.number_param(&mut p, "max", example(name));
                if p.ok && min > max {
                    self.out_of_range(&mut p, "min", min, &format!("at most `max` ({max})"));
                }
                p.ok.then_some(Term::Uniform { min, max })
            }
            "bernoulli" => {
                let mut p = self.params(name, at, given, &["p"]);
                let prob = self.number_param(&mut p, "p", example(name));
                if !(0.0..=1.0).contains(&prob) {
                    self.out_of_range(&mut p, "p", prob, "between 0 and 1");
                }
                p.ok.then_some(Term::Bernoulli { p: prob })
            }
            "seasonal" => {
                let mut p = self.params(name, at, given, &["period"]);
                let period = self.positive_duration_param(&mut p, "period", example(name));
                p.ok.then_some(Term::Seasonal { period })
            }
            bare => {
                let p = self.params(name, at, given, &[]);
                match bare {
                    "trend" => p.ok.then_some(Term::Trend),
                    "last" => p.ok.then_some(Term::Last),
                    _ => p.ok.then_some(Term::Mean),
                }
            }
        }
    }

    fn choice(&mut self, t: &TermSyntax) -> Option<Term> {
        let args = t.args.as_deref().unwrap_or(&[]);
        if args.is_empty() {
            self.report(
                kind::MissingParameter {
                    owner: "choice".into(),
                    name: "values".into(),
                    example: example("choice").into(),
                },
                t.span,
            );
            return None;
        }
        let mut values = Vec::new();
        for arg in args {
            match (&arg.name, &arg.value) {
                (None, ValueSyntax::String(s)) => values.push(s.value.clone()),
                _ => {
                    self.report(
                        kind::WrongParameterType {
                            owner: "choice".into(),
                            name: arg
                                .name
                                .as_ref()
                                .map_or("value".into(), |n| n.value.clone()),
                            expected: "plain strings, as in `choice(\"open\", \"closed\")`".into(),
                            found: if arg.name.is_some() {
                                "a named argument".into()
                            } else {
                                "a non-string value".into()
                            },
                        },
                        arg.span,
                    );
                    return None;
                }
            }
        }
        Some(Term::Choice(values))
    }
}

/// A correct use of each term, for help texts.
fn example(term: &str) -> &'static str {
    match term {
        "constant" => "constant(value: 4.5)",
        "ramp" => "ramp(from: 100, to: 80)",
        "sine" => "sine(period: 24h, amplitude: 3, mean: 4)",
        "square" => "square(period: 1h, low: 0, high: 1, duty: 0.25)",
        "random_walk" => "random_walk(start: 20, step: 0.5, min: 0, max: 40)",
        "noise" => "noise(sigma: 0.3)",
        "uniform" => "uniform(min: 0, max: 10)",
        "bernoulli" => "bernoulli(p: 0.05)",
        "choice" => "choice(\"open\", \"closed\")",
        "seasonal" => "seasonal(period: 24h)",
        _ => "trend",
    }
}
