//! Models: the terms of a `measure` and its `clamp`.

use super::facts::{Facts, did_you_mean};
use crate::measure_type::MeasureType;

/// `sinus(period: 1h)`
#[derive(Clone, Debug, PartialEq)]
pub struct UnknownTerm {
    pub term: String,
    pub suggestion: Option<String>,
}

impl Facts for UnknownTerm {
    const CODE: &'static str = "model::unknown_term";

    fn message(&self) -> String {
        format!("unknown model term `{}`", self.term)
    }

    fn help(&self) -> Option<String> {
        Some(did_you_mean(&self.suggestion).unwrap_or_else(|| {
            "terms: `constant`, `ramp`, `sine`, `square`, `random_walk`, `noise`, `uniform`, `bernoulli`, `choice`, `seasonal`, `trend`, `last`, `mean`".into()
        }))
    }
}

/// `measure on boolean = noise(sigma: 1)`
#[derive(Clone, Debug, PartialEq)]
pub struct TermTypeMismatch {
    pub term: String,
    pub ty: MeasureType,
    pub fits: Vec<MeasureType>,
}

impl Facts for TermTypeMismatch {
    const CODE: &'static str = "model::type_mismatch";

    fn message(&self) -> String {
        format!("`{}` does not fit a {} measure", self.term, self.ty.name())
    }

    fn help(&self) -> Option<String> {
        let fits: Vec<&str> = self.fits.iter().map(|t| t.name()).collect();
        Some(format!("this term fits {} measures", fits.join(", ")))
    }
}

/// `measure x boolean = bernoulli(p: 0.1) + bernoulli(p: 0.2)`
#[derive(Clone, Debug, PartialEq)]
pub struct ModelNotSummable {
    pub ty: MeasureType,
}

impl Facts for ModelNotSummable {
    const CODE: &'static str = "model::not_summable";

    fn message(&self) -> String {
        format!("terms of a {} measure cannot be added", self.ty.name())
    }

    fn help(&self) -> Option<String> {
        Some("keep one term: only double and bigint models are sums".into())
    }
}

/// `learn ...` or a learned term where it does not belong.
#[derive(Clone, Debug, PartialEq)]
pub struct LearnedTermOutsideExtrapolate {
    pub term: String,
}

impl Facts for LearnedTermOutsideExtrapolate {
    const CODE: &'static str = "model::learned_term";

    fn message(&self) -> String {
        format!(
            "`{}` is learned from recorded data and only fits in `extrapolate`",
            self.term
        )
    }

    fn help(&self) -> Option<String> {
        Some("use `extrapolate SOURCE.MEASURE into TABLE { ... model ... }`, or a synthetic term such as `sine` or `constant`".into())
    }
}

/// `clamp 10 .. -10`
#[derive(Clone, Debug, PartialEq)]
pub struct ClampRange {
    pub low: f64,
    pub high: f64,
}

impl Facts for ClampRange {
    const CODE: &'static str = "model::clamp_range";

    fn message(&self) -> String {
        format!("clamp range is empty: {} is above {}", self.low, self.high)
    }

    fn help(&self) -> Option<String> {
        Some("write the lower bound first: `clamp LO .. HI`".into())
    }
}

/// `measure on boolean = bernoulli(p: 0.5) clamp 0 .. 1`
#[derive(Clone, Debug, PartialEq)]
pub struct ClampType {
    pub ty: MeasureType,
}

impl Facts for ClampType {
    const CODE: &'static str = "model::clamp_type";

    fn message(&self) -> String {
        format!("a {} measure cannot be clamped", self.ty.name())
    }

    fn help(&self) -> Option<String> {
        Some("remove `clamp`: only double and bigint measures can be clamped".into())
    }
}
