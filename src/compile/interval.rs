//! A source's sampling interval: the most common gap between consecutive
//! instants of one series. A windowless replay ends one interval after its
//! last record (`place`); a spilled one counts the gaps as its sorted rows
//! are written (`spill`).

use super::ListedItem;

/// A source's sampling interval: the most common gap between two
/// consecutive instants of one series (the shortest among equally common
/// ones), or 1ns when no series has two instants.
///
/// Recorded data is almost always in time order per series, so one pass
/// with each series' last instant finds the gaps; only when a series goes
/// back in time are its instants gathered and sorted.
pub(super) fn sampling_interval(rows: &[ListedItem]) -> i64 {
    let mut gaps = Gaps::default();
    if rows.iter().all(|&(time, s, _, _)| gaps.add(time, s)) {
        return gaps.interval();
    }
    // Local series numbers are dense: 0, 1, 2, ... in order of appearance.
    let series = rows.iter().map(|row| row.1 as usize + 1).max().unwrap_or(0);
    let mut by_series: Vec<Vec<i64>> = vec![Vec::new(); series];
    for &(time, s, _, _) in rows {
        by_series[s as usize].push(time);
    }
    let mut gaps = Gaps::default();
    for (s, times) in by_series.iter_mut().enumerate() {
        times.sort_unstable();
        for &time in times.iter() {
            gaps.add(time, s as u32);
        }
    }
    gaps.interval()
}

/// How often each gap between consecutive instants of one series occurs,
/// counted from instants given in time order per series (a repeated
/// instant is no gap): what a sampling interval is read from.
#[derive(Default)]
pub(super) struct Gaps {
    /// Each local series' latest instant.
    last: Vec<Option<i64>>,
    counts: rustc_hash::FxHashMap<i64, u64>,
}

impl Gaps {
    /// Counts the gap from the series' latest instant to `time`; false,
    /// counting nothing, when `time` is earlier (out of order).
    pub(super) fn add(&mut self, time: i64, series: u32) -> bool {
        let s = series as usize;
        if s >= self.last.len() {
            self.last.resize(s + 1, None);
        }
        match self.last[s] {
            Some(before) if time < before => return false,
            Some(before) if time > before => {
                // A gap past what i64 holds (rows 292 years apart) is no
                // sampling interval: not counted, never saturated.
                if let Some(gap) = time.checked_sub(before) {
                    *self.counts.entry(gap).or_default() += 1
                }
            }
            _ => {}
        }
        self.last[s] = Some(time);
        true
    }

    /// The most common gap; the shortest of equally common ones; 1ns when
    /// there is none.
    pub(super) fn interval(&self) -> i64 {
        self.counts
            .iter()
            .max_by_key(|&(&gap, &n)| (n, std::cmp::Reverse(gap)))
            .map_or(1, |(&gap, _)| gap)
    }
}

#[cfg(test)]
mod tests {
    use super::sampling_interval;

    /// (time, local series, values run): only the first two matter here.
    fn rows(times: &[(i64, u32)]) -> Vec<super::super::ListedItem> {
        times.iter().map(|&(t, s)| (t, s, 0, 0)).collect()
    }

    #[test]
    fn the_most_common_gap_per_series_in_order_or_not() {
        // Series 0 every 10, series 1 every 10 with one 30 gap and a
        // duplicate instant: 10 is the most common.
        let ordered = [(0, 0), (0, 1), (10, 0), (10, 1), (10, 1), (20, 0), (40, 1)];
        assert_eq!(sampling_interval(&rows(&ordered)), 10);
        let mut shuffled = ordered;
        shuffled.reverse();
        assert_eq!(sampling_interval(&rows(&shuffled)), 10);
    }

    #[test]
    fn a_tie_goes_to_the_shorter_gap_and_no_gap_is_one_nanosecond() {
        let tie = [(0, 0), (5, 0), (20, 0)];
        assert_eq!(sampling_interval(&rows(&tie)), 5);
        assert_eq!(sampling_interval(&rows(&[(7, 0), (9, 1)])), 1);
        assert_eq!(sampling_interval(&[]), 1);
    }
}
