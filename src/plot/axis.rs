//! Where the ticks go and what they say: UTC times when the plot is
//! anchored, offsets from `now` (`now-6h`) otherwise; round numbers on the
//! value axis.

use crate::lang::literal::Duration;

const SECOND: i64 = 1_000_000_000;

/// Tick spacings, in seconds, from a second to a year.
const STEPS: [i64; 23] = [
    1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1_800, 3_600, 7_200, 10_800, 21_600, 43_200,
    86_400, 172_800, 604_800, 2_592_000, 7_776_000, 31_536_000,
];

/// The ticks of `[from, to]`: about `most` at most, at round multiples
/// of a spacing counted from `origin` (the epoch for UTC, `now` for
/// offsets), with their labels.
pub(crate) fn time_ticks(
    from: i64,
    to: i64,
    origin: i64,
    anchored: bool,
    most: i64,
) -> Vec<(i64, String)> {
    let span = (to - from).max(1);
    let step = STEPS
        .iter()
        .map(|s| s * SECOND)
        .find(|s| span / s <= most)
        .unwrap_or(span / most.max(1))
        .max(1);
    let first = origin + (from - origin).div_euclid(step) * step;
    let mut ticks = Vec::new();
    let mut t = if first < from { first + step } else { first };
    let mut last_day = None;
    while t <= to && ticks.len() < 64 {
        let label = if anchored {
            utc_label(t, step, &mut last_day)
        } else {
            offset_label(t - origin)
        };
        ticks.push((t, label));
        t = t.saturating_add(step);
    }
    ticks
}

/// `now`, `now-1d6h`, `now+30m`.
pub(crate) fn offset_label(offset: i64) -> String {
    match offset.cmp(&0) {
        std::cmp::Ordering::Equal => "now".to_string(),
        std::cmp::Ordering::Less => format!("now-{}", Duration(-offset)),
        std::cmp::Ordering::Greater => format!("now+{}", Duration(offset)),
    }
}

/// `14:30`, with the date when the day changes (and on the first tick);
/// dates alone for spacings of a day or more.
fn utc_label(t: i64, step: i64, last_day: &mut Option<i64>) -> String {
    let time = chrono::DateTime::from_timestamp_nanos(t);
    if step >= 86_400 * SECOND {
        return time.format("%Y-%m-%d").to_string();
    }
    let day = t.div_euclid(86_400 * SECOND);
    let clock = if step < 60 * SECOND {
        time.format("%H:%M:%S").to_string()
    } else {
        time.format("%H:%M").to_string()
    };
    if *last_day != Some(day) {
        *last_day = Some(day);
        format!("{} {clock}", time.format("%m-%d"))
    } else {
        clock
    }
}

/// About five round values (1, 2 or 5 × 10ⁿ apart) across `[lo, hi]`.
pub(crate) fn value_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let span = hi - lo;
    if !(span.is_finite() && span > 0.0) {
        return vec![lo];
    }
    let rough = span / 5.0;
    let magnitude = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| span / s <= 6.0)
        .unwrap_or(10.0 * magnitude);
    let mut v = (lo / step).ceil() * step;
    let mut ticks = Vec::new();
    while v <= hi + step * 1e-9 && ticks.len() < 12 {
        ticks.push(if v.abs() < step * 1e-9 { 0.0 } else { v });
        v += step;
    }
    ticks
}

/// A tick value in as few characters as it needs.
pub(crate) fn value_label(v: f64) -> String {
    if v.abs() >= 1e6 || (v != 0.0 && v.abs() < 1e-3) {
        return format!("{v:.2e}");
    }
    let text = format!("{v:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".into()
    } else {
        text.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_from_now_on_round_hours() {
        let h = 3_600 * SECOND;
        let ticks = time_ticks(-12 * h, 0, 0, false, 8);
        let labels: Vec<&str> = ticks.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(
            labels,
            [
                "now-12h", "now-10h", "now-8h", "now-6h", "now-4h", "now-2h", "now"
            ]
        );
    }

    #[test]
    fn utc_ticks_name_the_day_once() {
        let h = 3_600 * SECOND;
        let base = 1_782_864_000 * SECOND; // 2026-07-01T00:00Z
        let ticks = time_ticks(base - 6 * h, base + 6 * h, 0, true, 8);
        let labels: Vec<&str> = ticks.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(
            labels,
            [
                "06-30 18:00",
                "20:00",
                "22:00",
                "07-01 00:00",
                "02:00",
                "04:00",
                "06:00"
            ]
        );
    }

    #[test]
    fn round_values() {
        assert_eq!(
            value_ticks(0.0, 1.0),
            [0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]
        );
        assert_eq!(value_label(0.6000000000000001), "0.6");
        assert_eq!(value_label(-0.0), "0");
        assert_eq!(value_label(2500.0), "2500");
    }
}
