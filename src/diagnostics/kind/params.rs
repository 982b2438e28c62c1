//! Parameters, of a model term or an anomaly: named, given once, of the
//! right type and range, `per` only where it belongs.

use super::facts::{Facts, backticked, did_you_mean};
use crate::diagnostics::span::Span;

/// `sine(perod: 24h)`, `magnitud 3`
#[derive(Clone, Debug, PartialEq)]
pub struct UnknownParameter {
    pub owner: String,
    pub name: String,
    pub suggestion: Option<String>,
    pub allowed: Vec<String>,
}

impl Facts for UnknownParameter {
    const CODE: &'static str = "param::unknown";

    fn message(&self) -> String {
        format!("`{}` has no parameter `{}`", self.owner, self.name)
    }

    fn help(&self) -> Option<String> {
        Some(did_you_mean(&self.suggestion).unwrap_or_else(|| {
            if self.allowed.is_empty() {
                "remove it: this takes no parameters".into()
            } else {
                format!("parameters: {}", backticked(&self.allowed))
            }
        }))
    }
}

/// `sine(period: 1h, period: 2h)`
#[derive(Clone, Debug, PartialEq)]
pub struct DuplicateParameter {
    pub name: String,
    pub first: Span,
}

impl Facts for DuplicateParameter {
    const CODE: &'static str = "param::duplicate";

    fn message(&self) -> String {
        format!("parameter `{}` is given twice", self.name)
    }

    fn label(&self) -> String {
        "defined again here".into()
    }

    fn related(&self) -> Vec<(Span, String)> {
        vec![(self.first, "first given here".into())]
    }

    fn help(&self) -> Option<String> {
        Some("keep one of them".into())
    }
}

/// `sine(amplitude: 3)`
#[derive(Clone, Debug, PartialEq)]
pub struct MissingParameter {
    pub owner: String,
    pub name: String,
    pub example: String,
}

impl Facts for MissingParameter {
    const CODE: &'static str = "param::missing";

    fn message(&self) -> String {
        format!("`{}` needs the parameter `{}`", self.owner, self.name)
    }

    fn help(&self) -> Option<String> {
        Some(format!("for example `{}`", self.example))
    }
}

/// `sine(24h)`
#[derive(Clone, Debug, PartialEq)]
pub struct PositionalArgument {
    pub term: String,
    pub example: String,
}

impl Facts for PositionalArgument {
    const CODE: &'static str = "param::positional";

    fn message(&self) -> String {
        format!("`{}` takes named arguments", self.term)
    }

    fn help(&self) -> Option<String> {
        Some(format!("name each argument: `{}`", self.example))
    }
}

/// `period: 3` (a number where a duration is needed).
#[derive(Clone, Debug, PartialEq)]
pub struct WrongParameterType {
    pub owner: String,
    pub name: String,
    pub expected: String,
    pub found: String,
}

impl Facts for WrongParameterType {
    const CODE: &'static str = "param::wrong_type";

    fn message(&self) -> String {
        let WrongParameterType {
            name,
            expected,
            found,
            ..
        } = self;
        format!("`{name}` takes {expected}, not {found}")
    }

    fn help(&self) -> Option<String> {
        Some(format!("write {}", self.expected))
    }
}

/// `noise(sigma: -1)`, `bernoulli(p: 2)`
#[derive(Clone, Debug, PartialEq)]
pub struct ParameterOutOfRange {
    pub name: String,
    pub value: String,
    pub constraint: String,
}

impl Facts for ParameterOutOfRange {
    const CODE: &'static str = "param::out_of_range";

    // No help: the constraint in the message is the whole advice.
    fn message(&self) -> String {
        let ParameterOutOfRange {
            name,
            value,
            constraint,
        } = self;
        format!("`{name}` is {value}, but it must be {constraint}")
    }
}

/// `rate 3` on a `drift` (it needs `rate 3 per 1h`).
#[derive(Clone, Debug, PartialEq)]
pub struct MissingPer;

impl Facts for MissingPer {
    const CODE: &'static str = "param::missing_per";

    fn message(&self) -> String {
        "a drift's `rate` needs `per D`: how much per how long".into()
    }

    fn help(&self) -> Option<String> {
        Some("for example `rate 0.5 per 1h`".into())
    }
}

/// `rate 2 per 1h` on `outliers`, `per` on a parameter that takes none.
#[derive(Clone, Debug, PartialEq)]
pub struct UnexpectedPer {
    pub name: String,
}

impl Facts for UnexpectedPer {
    const CODE: &'static str = "param::unexpected_per";

    fn message(&self) -> String {
        format!("`{}` takes no `per`", self.name)
    }

    fn help(&self) -> Option<String> {
        Some("remove `per ...`: only `drift` takes `rate X per D`".into())
    }
}
