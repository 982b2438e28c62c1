//! Values of models at an instant: synthetic terms, and the learned parts
//! of an extrapolation fitted on recorded data.

use std::sync::Arc;

use super::math;
use super::random::Key;
use crate::model::{MeasureType, Model, Scalar, Term};
use crate::record::Value;
use crate::record::value::Unrepresentable;

/// A model bound to one series and measure: everything needed to produce
/// its value at any instant of its schedule.
#[derive(Clone, Debug)]
pub(crate) struct MeasureEval {
    /// The measure's index in its table's catalogue.
    pub measure: u16,
    pub ty: MeasureType,
    pub terms: Vec<TermEval>,
    pub clamp: Option<(f64, f64)>,
    /// The schedule's first instant and end, for `ramp` and `random_walk`.
    pub start: i64,
    pub end: i64,
}

#[derive(Clone, Debug)]
pub(crate) enum TermEval {
    Synthetic {
        term: Term,
        key: Key,
        walk: Option<f64>,
    },
    /// Fitted parts, in the learned frame: the value at output instant τ is
    /// read at learned time τ + `to_learned`.
    Learned(Learned),
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Learned {
    /// i128: an output frame relative to `now` and a learned frame of
    /// instants can lie further apart than i64 holds.
    pub to_learned: i128,
    /// The learned window's end: trend and season are measured from it.
    pub origin: i64,
    /// `a + b·x`, x in seconds from `origin`.
    pub trend: Option<(f64, f64)>,
    pub seasonal: Option<Seasonal>,
    /// What `mean` and `last` add (of what trend and season leave).
    pub level: f64,
    /// `last` of a boolean or varchar measure.
    pub last_value: Option<Value>,
}

#[derive(Clone, Debug)]
pub(crate) struct Seasonal {
    pub period: i64,
    pub bucket: i64,
    pub means: Vec<f64>,
}

impl Seasonal {
    fn at(&self, since_origin: i128) -> f64 {
        let phase = since_origin.rem_euclid(i128::from(self.period));
        let i = (phase / i128::from(self.bucket)) as usize;
        self.means[i.min(self.means.len() - 1)]
    }
}

impl MeasureEval {
    /// The value at τ (an offset from `now` or an instant, in ns); an error
    /// when the sum is not a number the measure holds (an infinity, NaN, a
    /// bigint past i64).
    pub(crate) fn value(&mut self, tau: i64) -> Result<Value, Unrepresentable> {
        match self.ty {
            MeasureType::Double | MeasureType::Bigint => {
                let mut sum = 0.0;
                for term in &mut self.terms {
                    sum += numeric(term, tau, self.start, self.end);
                }
                if let Some((lo, hi)) = self.clamp {
                    sum = sum.clamp(lo, hi);
                }
                Value::from_f64(self.ty, sum)
            }
            // Validation allows exactly one term for these types.
            MeasureType::Boolean | MeasureType::Varchar => Ok(match self.terms.first_mut() {
                Some(term) => categorical(term, tau),
                None => Value::Boolean(false),
            }),
        }
    }
}

/// Time arithmetic here is i128: an offset less another, or a frame moved
/// onto another, can pass what i64 holds, and must not wrap or saturate.
fn numeric(term: &mut TermEval, tau: i64, start: i64, end: i64) -> f64 {
    match term {
        TermEval::Learned(l) => {
            let since = i128::from(tau) + l.to_learned - i128::from(l.origin);
            let mut v = l.level;
            if let Some((a, b)) = l.trend {
                v += a + b * (since as f64 / 1e9);
            }
            if let Some(s) = &l.seasonal {
                v += s.at(since);
            }
            v
        }
        TermEval::Synthetic { term, key, walk } => match &*term {
            Term::Constant(s) => scalar_f64(s),
            Term::Ramp { from, to } => {
                let span = (i128::from(end) - i128::from(start)).max(1) as f64;
                from + (*to - from) * ((i128::from(tau) - i128::from(start)) as f64 / span)
            }
            Term::Sine {
                period,
                amplitude,
                mean,
                phase,
            } => {
                let p = i128::from(period.0.max(1));
                let x = (i128::from(tau) - i128::from(phase.0)).rem_euclid(p) as f64 / p as f64;
                mean + amplitude * math::sin(std::f64::consts::TAU * x)
            }
            Term::Square {
                period,
                low,
                high,
                duty,
            } => {
                if square_is_high(tau, period.0, *duty) {
                    scalar_f64(high)
                } else {
                    scalar_f64(low)
                }
            }
            Term::RandomWalk {
                start: first,
                step,
                min,
                max,
            } => {
                let next = match *walk {
                    None => *first,
                    Some(prev) => prev + step * (2.0 * key.unit(tau, 0) - 1.0),
                };
                let next = next.clamp(min.unwrap_or(f64::MIN), max.unwrap_or(f64::MAX));
                *walk = Some(next);
                next
            }
            Term::Noise { sigma } => sigma * key.normal(tau, 0),
            Term::Uniform { min, max } => min + (max - min) * key.unit(tau, 0),
            Term::Bernoulli { .. } | Term::Choice(_) => 0.0,
            Term::Seasonal { .. } | Term::Trend | Term::Last | Term::Mean => 0.0,
        },
    }
}

fn categorical(term: &mut TermEval, tau: i64) -> Value {
    match term {
        TermEval::Learned(l) => l.last_value.clone().unwrap_or(Value::Boolean(false)),
        TermEval::Synthetic { term, key, .. } => match &*term {
            Term::Constant(s) => scalar_value(s),
            Term::Square {
                period,
                low,
                high,
                duty,
            } => scalar_value(if square_is_high(tau, period.0, *duty) {
                high
            } else {
                low
            }),
            Term::Bernoulli { p } => Value::Boolean(key.unit(tau, 0) < *p),
            Term::Choice(values) => {
                let i = (key.bits(tau, 0) % values.len().max(1) as u64) as usize;
                Value::Varchar(Arc::from(values[i].as_str()))
            }
            _ => Value::Boolean(false),
        },
    }
}

/// Whether a square wave is in the high part of its period at τ.
fn square_is_high(tau: i64, period: i64, duty: f64) -> bool {
    let p = period.max(1);
    (tau.rem_euclid(p) as f64 / p as f64) < duty
}

fn scalar_f64(s: &Scalar) -> f64 {
    match s {
        Scalar::Double(v) => *v,
        Scalar::Bigint(v) => *v as f64,
        Scalar::Boolean(b) => f64::from(u8::from(*b)),
        Scalar::Varchar(_) => 0.0,
    }
}

pub(crate) fn scalar_value(s: &Scalar) -> Value {
    match s {
        Scalar::Double(v) => Value::Double(*v),
        Scalar::Bigint(v) => Value::Bigint(*v),
        Scalar::Boolean(b) => Value::Boolean(*b),
        Scalar::Varchar(v) => Value::Varchar(Arc::from(v.as_str())),
    }
}

/// Synthetic terms of a model, keyed for one series and measure; learned
/// terms are left out (see `fit`).
pub(crate) fn synthetic_terms(model: &Model, key: Key) -> Vec<TermEval> {
    model
        .terms
        .iter()
        .enumerate()
        .filter(|(_, t)| {
            !matches!(
                t,
                Term::Seasonal { .. } | Term::Trend | Term::Last | Term::Mean
            )
        })
        .map(|(i, t)| TermEval::Synthetic {
            term: t.clone(),
            key: key.with(i as u64),
            walk: None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::fit::{FitError, fit};
    use super::*;
    use crate::lang::literal::Duration;

    const H: i64 = 3_600_000_000_000;

    #[test]
    fn trend_and_season_of_a_known_series_are_recovered() {
        // y = 10 + 0.5/h · t + 3·sin(2π t / 24h), sampled hourly for 7 days.
        let truth = |t: i64| {
            let hours = t as f64 / H as f64;
            10.0 + 0.5 * hours + 3.0 * (std::f64::consts::TAU * hours / 24.0).sin()
        };
        let origin = 7 * 24 * H;
        let points: Vec<(i64, Value)> = (0..7 * 24)
            .map(|i| (i * H, Value::Double(truth(i * H))))
            .collect();
        let model = Model {
            terms: vec![
                Term::Seasonal {
                    period: Duration(24 * H),
                },
                Term::Trend,
            ],
            clamp: None,
        };
        let learned = fit(&model, &points, origin, H, 0).unwrap().unwrap();
        let (_, b) = learned.trend.unwrap();
        assert!(
            (b * 3600.0 - 0.5).abs() < 0.01,
            "slope per hour {}",
            b * 3600.0
        );
        let mut eval = MeasureEval {
            measure: 0,
            ty: MeasureType::Double,
            terms: vec![TermEval::Learned(learned)],
            clamp: None,
            start: origin,
            end: origin + 24 * H,
        };
        for h in 0..24 {
            let t = origin + h * H;
            let got = match eval.value(t) {
                Ok(Value::Double(v)) => v,
                other => panic!("{other:?}"),
            };
            assert!(
                (got - truth(t)).abs() < 0.5,
                "hour {h}: {got} vs {}",
                truth(t)
            );
        }
    }

    #[test]
    fn a_sine_gives_the_same_bits_everywhere() {
        // 4 + 3·sin(τ·5h/24h): each operation done in mpmath 1.3.0 at 200
        // bits and rounded to the nearest f64 (the division, τ·x, sin, ×3,
        // +4), written as a bit pattern.
        let mut eval = MeasureEval {
            measure: 0,
            ty: MeasureType::Double,
            terms: synthetic_terms(
                &Model {
                    terms: vec![Term::Sine {
                        period: Duration(24 * H),
                        amplitude: 3.0,
                        mean: 4.0,
                        phase: Duration(0),
                    }],
                    clamp: None,
                },
                Key::new(1),
            ),
            clamp: None,
            start: 0,
            end: 24 * H,
        };
        let Ok(Value::Double(got)) = eval.value(5 * H) else {
            panic!("a double measure gives doubles")
        };
        assert_eq!(got.to_bits(), 0x401B_9752_FABB_47A8, "{got:e}");
    }

    /// A ramp over more than i64 holds of its schedule (1700 to 2250)
    /// stays between its ends: its span and offsets are not wrapped.
    #[test]
    fn a_ramp_over_centuries_stays_between_its_ends() {
        let (start, end) = (-8_520_336_000_000_000_000, 8_835_955_200_000_000_000);
        let mut eval = MeasureEval {
            measure: 0,
            ty: MeasureType::Double,
            terms: synthetic_terms(
                &Model {
                    terms: vec![Term::Ramp {
                        from: 0.0,
                        to: 100.0,
                    }],
                    clamp: None,
                },
                Key::new(1),
            ),
            clamp: None,
            start,
            end,
        };
        for tau in [start, start / 2, 0, end / 2, end - 1] {
            let Ok(Value::Double(v)) = eval.value(tau) else {
                panic!("a double measure gives doubles")
            };
            assert!((0.0..=100.0).contains(&v), "{tau}: {v}");
        }
    }

    /// A sum past the largest double, or a bigint past i64, is an error,
    /// never `inf` or a saturated bigint.
    #[test]
    fn a_sum_out_of_its_type_is_refused() {
        let constant = |value: f64, ty: MeasureType| MeasureEval {
            measure: 0,
            ty,
            terms: synthetic_terms(
                &Model {
                    terms: vec![Term::Constant(Scalar::Double(value)); 2],
                    clamp: None,
                },
                Key::new(1),
            ),
            clamp: None,
            start: 0,
            end: H,
        };
        let sum = |value, ty| constant(value, ty).value(0);
        assert_eq!(
            sum(1e308, MeasureType::Double),
            Err(Unrepresentable(f64::INFINITY))
        );
        assert_eq!(
            sum(-1e308, MeasureType::Double),
            Err(Unrepresentable(f64::NEG_INFINITY))
        );
        assert_eq!(
            sum(9.2e18, MeasureType::Bigint),
            Err(Unrepresentable(1.84e19))
        );
        assert_eq!(
            sum(4.5e18, MeasureType::Bigint),
            Ok(Value::Bigint(9_000_000_000_000_000_000))
        );
        // `clamp` brings an infinity back into range.
        let mut clamped = constant(1e308, MeasureType::Double);
        clamped.clamp = Some((0.0, 5.0));
        assert_eq!(clamped.value(0), Ok(Value::Double(5.0)));
    }

    #[test]
    fn mean_and_last_are_levels() {
        let points = vec![
            (0, Value::Double(1.0)),
            (H, Value::Double(2.0)),
            (2 * H, Value::Double(6.0)),
        ];
        let mean = Model {
            terms: vec![Term::Mean],
            clamp: None,
        };
        assert_eq!(
            fit(&mean, &points, 3 * H, H, 0).unwrap().unwrap().level,
            3.0
        );
        let last = Model {
            terms: vec![Term::Last],
            clamp: None,
        };
        assert_eq!(
            fit(&last, &points, 3 * H, H, 0).unwrap().unwrap().level,
            6.0
        );
    }

    #[test]
    fn trend_needs_two_instants() {
        let model = Model {
            terms: vec![Term::Trend],
            clamp: None,
        };
        assert_eq!(
            fit(&model, &[(0, Value::Double(1.0))], H, H, 0).unwrap_err(),
            FitError::TooFewPoints(1)
        );
    }
}
