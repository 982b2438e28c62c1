//! Fitting an extrapolation's learned terms on its learned points: the
//! trend, then the seasonal means of what the trend leaves, then `mean` or
//! `last` of what both leave.
//!
//! A fit is a few passes over one series' points in time order, each
//! keeping sums, never points (`Fitting`): `fit` runs them over points in
//! memory, and a streamed extrapolation runs each pass over its spilled
//! rows for every series at once (`place::prepare_extrapolate`). Both add
//! the same numbers in the same order, so they give the same bits.
//!
//! ```text
//! moments: n, Σx, Σy          (x: seconds from the learned end; y: the value)
//! spread:  Σ(x-x̄)², Σ(x-x̄)(y-ȳ)              → trend a + b·x     (trend)
//! season:  Σ r₁ a bucket, r₁ = y - trend      → bucket means      (seasonal)
//! level:   Σ r₂ and the last r₂, r₂ = r₁ - season → level          (mean, last)
//! ```

use super::eval::{Learned, Seasonal};
use crate::model::{Model, Term};
use crate::record::Value;

/// Why a series could not be fitted.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum FitError {
    /// `trend` needs two distinct instants.
    TooFewPoints(usize),
}

/// Fits the learned terms of `model` on `points` (instant, value), sorted by
/// instant; `None` when the model learns nothing.
pub(crate) fn fit(
    model: &Model,
    points: &[(i64, Value)],
    origin: i64,
    every: i64,
    to_learned: i128,
) -> Result<Option<Learned>, FitError> {
    let Some(mut fitting) = Fitting::new(model, origin, every, to_learned) else {
        return Ok(None);
    };
    loop {
        for (time, value) in points {
            fitting.add(*time, value);
        }
        if !fitting.end_pass()? {
            return Ok(Some(fitting.learned()));
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Pass {
    Moments,
    Spread,
    Season,
    Level,
    Done,
}

/// One series' fit, pass by pass: `add` every point of the pass in time
/// order, then `end_pass`; again while it says so.
pub(crate) struct Fitting {
    passes: Vec<Pass>,
    pass: usize,
    origin: i64,
    wants_mean: bool,
    wants_last: bool,
    learned: Learned,
    n: usize,
    sum_x: f64,
    sum_y: f64,
    /// The last point's value, for a series with no numeric one.
    last_value: Option<Value>,
    mean_x: f64,
    mean_y: f64,
    sxx: f64,
    sxy: f64,
    /// (period, bucket) of the seasonal term, and its sums and counts.
    season: Option<(i64, i64)>,
    sums: Vec<f64>,
    counts: Vec<usize>,
    level_sum: f64,
    last_residual: Option<f64>,
}

impl Fitting {
    /// `None` when `model` has no learned term.
    pub(crate) fn new(model: &Model, origin: i64, every: i64, to_learned: i128) -> Option<Fitting> {
        let has = |f: fn(&Term) -> bool| model.terms.iter().any(f);
        let wants_trend = has(|t| matches!(t, Term::Trend));
        let season = model.terms.iter().find_map(|t| match t {
            Term::Seasonal { period } => Some(period.0),
            _ => None,
        });
        let wants_mean = has(|t| matches!(t, Term::Mean));
        let wants_last = has(|t| matches!(t, Term::Last));
        if !(wants_trend || season.is_some() || wants_mean || wants_last) {
            return None;
        }
        let mut passes = vec![Pass::Moments];
        if wants_trend {
            passes.push(Pass::Spread);
        }
        let season = season.map(|period| (period, every.clamp(1, period)));
        let buckets = season.map_or(0, |(period, bucket)| {
            ((period + bucket - 1) / bucket) as usize
        });
        if season.is_some() {
            passes.push(Pass::Season);
        }
        if wants_mean || wants_last {
            passes.push(Pass::Level);
        }
        passes.push(Pass::Done);
        let zero = std::iter::empty::<f64>().sum::<f64>();
        Some(Fitting {
            passes,
            pass: 0,
            origin,
            wants_mean,
            wants_last,
            learned: Learned {
                to_learned,
                origin,
                ..Learned::default()
            },
            n: 0,
            sum_x: zero,
            sum_y: zero,
            last_value: None,
            mean_x: 0.0,
            mean_y: 0.0,
            sxx: zero,
            sxy: zero,
            season,
            sums: vec![0.0; buckets],
            counts: vec![0; buckets],
            level_sum: zero,
            last_residual: None,
        })
    }

    /// Adds a point (in time order) to the pass under way.
    pub(crate) fn add(&mut self, time: i64, value: &Value) {
        let pass = self.passes[self.pass];
        let Some(y) = value.as_f64() else {
            if pass == Pass::Moments {
                self.last_value = Some(value.clone());
            }
            return;
        };
        // i128: a learned window can span more than i64 holds.
        let x = (i128::from(time) - i128::from(self.origin)) as f64 / 1e9;
        match pass {
            Pass::Moments => {
                self.n += 1;
                self.sum_x += x;
                self.sum_y += y;
                self.last_value = Some(value.clone());
            }
            Pass::Spread => {
                self.sxx += (x - self.mean_x) * (x - self.mean_x);
                self.sxy += (x - self.mean_x) * (y - self.mean_y);
            }
            Pass::Season => {
                let i = self.bucket(time);
                self.sums[i] += self.detrended(x, y);
                self.counts[i] += 1;
            }
            Pass::Level => {
                let mut r = self.detrended(x, y);
                if let Some(seasonal) = &self.learned.seasonal {
                    r -= seasonal.means[self.bucket(time)];
                }
                self.level_sum += r;
                self.last_residual = Some(r);
            }
            Pass::Done => {}
        }
    }

    /// `y` less the trend, once it is fitted.
    fn detrended(&self, x: f64, y: f64) -> f64 {
        match self.learned.trend {
            Some((a, b)) => y - (a + b * x),
            None => y,
        }
    }

    fn bucket(&self, time: i64) -> usize {
        let (period, bucket) = self.season.unwrap_or((1, 1));
        let since = i128::from(time) - i128::from(self.origin);
        let i = (since.rem_euclid(i128::from(period)) / i128::from(bucket)) as usize;
        i.min(self.sums.len().saturating_sub(1))
    }

    /// Ends the pass under way: true when another is needed.
    pub(crate) fn end_pass(&mut self) -> Result<bool, FitError> {
        match self.passes[self.pass] {
            Pass::Moments if self.n == 0 => {
                // Nothing numeric: `last` of a boolean or varchar measure.
                self.learned.last_value = self.last_value.take();
                self.pass = self.passes.len() - 1;
                return Ok(false);
            }
            Pass::Moments => {
                self.last_value = None;
                self.mean_x = self.sum_x / self.n as f64;
                self.mean_y = self.sum_y / self.n as f64;
            }
            Pass::Spread => {
                if self.n < 2 || self.sxx == 0.0 {
                    return Err(FitError::TooFewPoints(self.n));
                }
                let b = self.sxy / self.sxx;
                let a = self.mean_y - b * self.mean_x;
                self.learned.trend = Some((a, b));
            }
            Pass::Season => {
                let (period, bucket) = self.season.unwrap_or((1, 1));
                self.learned.seasonal = Some(Seasonal {
                    period,
                    bucket,
                    means: fill_circular(&self.sums, &self.counts),
                });
            }
            Pass::Level => {
                if self.wants_mean {
                    self.learned.level += self.level_sum / self.n as f64;
                }
                if self.wants_last {
                    self.learned.level += self.last_residual.unwrap_or(0.0);
                }
            }
            Pass::Done => return Ok(false),
        }
        self.pass += 1;
        Ok(self.passes[self.pass] != Pass::Done)
    }

    pub(crate) fn learned(self) -> Learned {
        self.learned
    }

    /// Whether the fit still wants points.
    pub(crate) fn is_done(&self) -> bool {
        self.passes[self.pass] == Pass::Done
    }
}

/// Bucket means; an empty bucket takes the nearest filled one (circularly).
fn fill_circular(sums: &[f64], counts: &[usize]) -> Vec<f64> {
    let n = sums.len();
    (0..n)
        .map(|i| {
            for d in 0..n {
                for j in [(i + d) % n, (i + n - d % n) % n] {
                    if counts[j] > 0 {
                        return sums[j] / counts[j] as f64;
                    }
                }
            }
            0.0
        })
        .collect()
}
