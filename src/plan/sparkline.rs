//! A series' shape in one line of text: `▁▂▃▅▇█▆▄▂▁` over its time range,
//! for the plan's summaries and `diff`'s markdown.
//!
//! Values are gathered as they stream by into [`FINE`] buckets whose width
//! doubles (two neighbours merged) whenever a record falls past the last, so
//! memory is fixed per measure whatever the record count and the span need
//! not be known in advance. At the end the buckets are folded into at most
//! [`WIDTH`] columns over the series' first to last record; a column is the
//! mean of its values, drawn on eight levels between the lowest and the
//! highest column mean (min/max-scaled per series). A column without a record
//! (a `dropout`, a pause between steps) is [`GAP`]. The arithmetic is the
//! same sums in the same stream order on every machine, so the line is too.

/// Columns of a sparkline (fewer when the series has fewer than two
/// values a column: with one a column, a record a bucket's width off would
/// leave its column empty and draw a gap that is not there).
pub(crate) const WIDTH: usize = 24;

/// A column the series has no value in.
pub(crate) const GAP: char = '·';

/// Lowest to highest.
const LEVELS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// Buckets gathered per measure: after any doubling at least half are in
/// the span, so each of the [`WIDTH`] columns gets four or more.
const FINE: usize = 192;

/// Column means closer than this (relative to their size) draw as flat: a
/// constant summed in a different order is still a constant.
const FLAT: f64 = 1e-9;

/// The buckets of one measure of one series.
#[derive(Default)]
pub(crate) struct Shape {
    /// Nanoseconds a bucket covers; 0 before the first value.
    width: i128,
    /// (sum, count) per bucket, from the series' first record on.
    buckets: Vec<(f64, u64)>,
}

impl Shape {
    /// Adds a value `offset` nanoseconds after the series' first record.
    /// Values that are not finite are left out (they have no height).
    pub(crate) fn add(&mut self, offset: i128, value: f64) {
        if !value.is_finite() {
            return;
        }
        // i128: a series' records can lie further apart than i64 holds.
        let offset = offset.max(0);
        if self.width == 0 {
            self.width = 1;
            self.buckets = vec![(0.0, 0); FINE];
        }
        while offset >= self.width * FINE as i128 {
            for i in 0..FINE / 2 {
                let (a, b) = (self.buckets[2 * i], self.buckets[2 * i + 1]);
                self.buckets[i] = (a.0 + b.0, a.1 + b.1);
            }
            for bucket in &mut self.buckets[FINE / 2..] {
                *bucket = (0.0, 0);
            }
            self.width *= 2;
        }
        let bucket = &mut self.buckets[(offset / self.width) as usize];
        bucket.0 += value;
        bucket.1 += 1;
    }

    /// The line over `span` nanoseconds (the series' last record minus its
    /// first); empty when no value was added.
    pub(crate) fn draw(&self, span: i128) -> String {
        let values: u64 = self.buckets.iter().map(|b| b.1).sum();
        if values == 0 {
            return String::new();
        }
        let columns = (WIDTH as u64).min(values / 2).max(1) as usize;
        let span = span.max(0) + 1;
        let mut sums = vec![(0.0, 0u64); columns];
        for (i, (sum, count)) in self.buckets.iter().enumerate() {
            if *count == 0 {
                continue;
            }
            let center = i as i128 * self.width + self.width / 2;
            let column = ((center * columns as i128) / span).clamp(0, columns as i128 - 1);
            let cell = &mut sums[column as usize];
            cell.0 += sum;
            cell.1 += count;
        }
        let means: Vec<Option<f64>> = sums
            .iter()
            .map(|(sum, count)| (*count > 0).then(|| sum / *count as f64))
            .collect();
        let (lo, hi) = means
            .iter()
            .flatten()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(*v), hi.max(*v))
            });
        let flat = hi - lo <= FLAT * lo.abs().max(hi.abs());
        means
            .iter()
            .map(|mean| match mean {
                None => GAP,
                Some(_) if flat => LEVELS[3],
                Some(v) => {
                    let level = ((v - lo) / (hi - lo) * LEVELS.len() as f64).floor();
                    LEVELS[(level.max(0.0) as usize).min(LEVELS.len() - 1)]
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drawn(values: impl IntoIterator<Item = (i64, f64)>, span: i64) -> String {
        let mut shape = Shape::default();
        for (t, v) in values {
            shape.add(t.into(), v);
        }
        shape.draw(span.into())
    }

    #[test]
    fn a_ramp_climbs_from_the_lowest_level_to_the_highest() {
        let line = drawn((0..240).map(|i| (i * 60, i as f64)), 239 * 60);
        assert_eq!(line.chars().count(), WIDTH);
        assert!(line.starts_with('▁') && line.ends_with('█'), "{line}");
        let levels: Vec<usize> = line
            .chars()
            .map(|c| LEVELS.iter().position(|l| *l == c).unwrap())
            .collect();
        assert!(levels.windows(2).all(|w| w[0] <= w[1]), "{line}");
    }

    #[test]
    fn a_stretch_without_records_is_a_gap_and_a_constant_is_flat() {
        // Records for the first and last third only.
        let values = (0..300)
            .filter(|i| !(100..200).contains(i))
            .map(|i| (i, 5.0));
        let line = drawn(values, 299);
        assert_eq!(line, "▄▄▄▄▄▄▄▄········▄▄▄▄▄▄▄▄");
    }

    #[test]
    fn few_values_make_a_short_line_and_none_an_empty_one() {
        let six = [
            (0, 1.0),
            (10, 1.0),
            (20, 2.0),
            (30, 2.0),
            (40, 3.0),
            (50, 3.0),
        ];
        assert_eq!(drawn(six, 50), "▁▅█");
        // A minute apart over 19 minutes: ten columns, none empty.
        let minutes = (0..20).map(|i| (i * 60_000_000_000, (i % 3) as f64));
        assert!(!drawn(minutes, 19 * 60_000_000_000).contains(GAP));
        assert_eq!(drawn([(0, f64::NAN)], 0), "");
        assert_eq!(drawn([], 0), "");
    }

    #[test]
    fn values_past_any_span_fold_into_fixed_memory() {
        let mut shape = Shape::default();
        for i in 0..100_000i128 {
            shape.add(i * 1_000_000_007, (i % 7) as f64);
        }
        assert_eq!(shape.buckets.len(), FINE);
        assert_eq!(shape.draw(99_999 * 1_000_000_007).chars().count(), WIDTH);
    }
}
