//! Where a scenario's times land, as far as the scenario alone shows it: a
//! time relative to `now` lies within 100 years of it (so that every
//! anchor from 1778 to 2161 places it inside what i64 nanoseconds hold),
//! and a replay's written window, sped up and shifted, lands inside that
//! range too. What depends on the anchor or the data is checked when the
//! stream runs (`compile::time_out_of_range`).

use super::Validator;
use crate::diagnostics::kind;
use crate::lang::ast::{self, Span};
use crate::lang::literal::offset_words;
use crate::model::{MAX_FROM_NOW, Shift, TimePoint, Window};

impl Validator<'_> {
    /// Whether `offset` from `now` is within the horizon; reported at
    /// `span` when it is not.
    pub(super) fn near_now(&mut self, offset: i128, span: Span) -> bool {
        if offset.unsigned_abs() <= u128::from(MAX_FROM_NOW.unsigned_abs()) {
            return true;
        }
        let written = match i64::try_from(offset) {
            Ok(offset) => offset_words(offset),
            Err(_) if offset < 0 => "now-292y and more".into(),
            Err(_) => "now+292y and more".into(),
        };
        self.report(kind::TimeTooFarFromNow { written }, span);
        false
    }

    /// Whether a point in time (an end of a schedule or of an anomaly's
    /// window) is one outatime can write; reported at `span` when not.
    pub(super) fn reachable(&mut self, point: Option<TimePoint>, span: Span) -> bool {
        match point {
            Some(TimePoint::Relative(d)) => self.near_now(i128::from(d.0), span),
            Some(TimePoint::Absolute(_)) => true,
            None => {
                self.report(kind::TimestampOutOfRange, span);
                false
            }
        }
    }

    /// A replay's written window, sped up by `speed` and shifted, must land
    /// where outatime can write. Blamed on `speed` when the window sped up
    /// lasts longer than the range allows, else on the shift (or the
    /// window, unshifted). False when reported.
    pub(super) fn replay_lands(
        &mut self,
        window: Window,
        shift: &Shift,
        speed: f64,
        speed_lit: Option<&ast::Lit>,
        blame: Span,
    ) -> bool {
        let (start, end) = (i128::from(window.start.0), i128::from(window.end.0));
        let relative = matches!(shift, Shift::StartTo(p) | Shift::EndTo(p) if p.is_relative());
        // The longest a placed window may last: up to the horizon on each
        // side of `now`, or the whole range of instants.
        let longest = if relative {
            2.0 * MAX_FROM_NOW as f64
        } else {
            u64::MAX as f64
        };
        let lasts = (end - start) as f64 / speed;
        if let Some(lit) = speed_lit
            && (!lasts.is_finite() || lasts > longest)
        {
            self.report(
                kind::ParameterOutOfRange {
                    name: "speed".into(),
                    value: lit.value.clone(),
                    constraint: format!(
                        "at least {}: the window sped up must last at most {} years",
                        at_least((end - start) as f64 / longest),
                        if relative { 200 } else { 584 }
                    ),
                },
                lit.span,
            );
            return false;
        }
        // Within ±2^63 · 2: i128 holds every sum below.
        let lasts = lasts.round() as i128;
        let point = |p: &TimePoint| match p {
            TimePoint::Relative(d) => i128::from(d.0),
            TimePoint::Absolute(i) => i128::from(i.0),
        };
        let (first, last) = match shift {
            Shift::None => (start, start + lasts),
            Shift::StartTo(p) => (point(p), point(p) + lasts),
            Shift::EndTo(p) => (point(p) - lasts, point(p)),
            Shift::By(d) => (start + i128::from(d.0), start + i128::from(d.0) + lasts),
            // The local day moves with daylight saving: left to the run.
            Shift::CalendarDays { .. } => return true,
        };
        for t in [first, last] {
            if relative {
                if !self.near_now(t, blame) {
                    return false;
                }
            } else if i64::try_from(t).is_err() {
                self.report(kind::TimestampOutOfRange, blame);
                return false;
            }
        }
        true
    }
}

/// `x` rounded up to three significant digits, as `1.96e-7`.
fn at_least(x: f64) -> String {
    let exponent = x.log10().floor() as i32;
    let mut digits = (x / 10f64.powi(exponent) * 100.0).ceil() as u32;
    let mut exponent = exponent;
    if digits >= 1000 {
        digits = 100;
        exponent += 1;
    }
    format!("{}.{:02}e{exponent}", digits / 100, digits % 100)
}
