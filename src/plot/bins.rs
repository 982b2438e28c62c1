//! Min/max per time cell, accumulated while records stream: a fixed number
//! of cells whose width doubles (neighbours merged) when a record falls past
//! the last, so memory holds the cells, never the records. Records of one
//! series come in time order (the stream's order within a table), which is
//! what lets a cell's `last` and a gap's start be known as they pass.

/// One time cell of one series: what its records held.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Cell {
    pub min: f64,
    pub max: f64,
    pub sum: f64,
    /// The value of the cell's last record (a step line's level, a band's
    /// colour).
    pub last: f64,
    pub count: u32,
    /// The series' next record comes after a gap (no record for longer
    /// than a few of its sampling intervals): a line must not bridge it.
    pub gap_after: bool,
}

impl Cell {
    pub(crate) const EMPTY: Cell = Cell {
        min: f64::INFINITY,
        max: f64::NEG_INFINITY,
        sum: 0.0,
        last: 0.0,
        count: 0,
        gap_after: false,
    };

    pub(crate) fn is_empty(&self) -> bool {
        self.count == 0
    }

    fn add(&mut self, v: f64) {
        // A gap flagged here that ended in this same cell is narrower
        // than the cell: nothing to draw.
        self.gap_after = false;
        self.min = self.min.min(v);
        self.max = self.max.max(v);
        self.sum += v;
        self.last = v;
        self.count = self.count.saturating_add(1);
    }

    /// `self` followed in time by `later`.
    pub(crate) fn merge(&mut self, later: &Cell) {
        if later.is_empty() {
            return;
        }
        self.min = self.min.min(later.min);
        self.max = self.max.max(later.max);
        self.sum += later.sum;
        self.last = later.last;
        self.count = self.count.saturating_add(later.count);
        // A gap that ended inside the merged cell is narrower than a cell:
        // only the later half's says whether one follows.
        self.gap_after = later.gap_after;
    }

    pub(crate) fn mean(&self) -> f64 {
        self.sum / f64::from(self.count.max(1))
    }
}

/// A gap is a silence longer than this many typical sampling intervals.
const GAP_FACTOR: f64 = 3.0;

/// One series' cells over time, with what finding its gaps needs.
#[derive(Clone, Debug)]
pub(crate) struct Bins {
    /// The first record's time: cell `i` covers `[start + i·width, +width)`.
    start: Option<i64>,
    width: i64,
    cells: Vec<Cell>,
    last_time: Option<i64>,
    /// A running mean of the intervals between records (gaps excluded).
    typical: f64,
    /// Whether silences are gaps (not for an envelope of many series).
    track_gaps: bool,
}

impl Bins {
    /// `capacity` cells (at least 2).
    pub(crate) fn new(capacity: usize, track_gaps: bool) -> Bins {
        Bins {
            start: None,
            width: 1,
            cells: vec![Cell::EMPTY; capacity.max(2)],
            last_time: None,
            typical: 0.0,
            track_gaps,
        }
    }

    /// A record at `time` with value `v`. Times before the first are
    /// counted into the first cell (never the case for one series, whose
    /// records come in time order, but an envelope mixes series).
    pub(crate) fn add(&mut self, time: i64, v: f64) {
        let start = *self.start.get_or_insert(time);
        if self.track_gaps
            && let Some(last) = self.last_time
        {
            let dt = time.saturating_sub(last);
            if dt > 0 {
                if self.typical > 0.0 && dt as f64 > GAP_FACTOR * self.typical {
                    let i = self.index(last, start);
                    self.cells[i].gap_after = true;
                } else if self.typical == 0.0 {
                    self.typical = dt as f64;
                } else {
                    self.typical = 0.9 * self.typical + 0.1 * dt as f64;
                }
            }
        }
        self.last_time = Some(time);
        while time.saturating_sub(start) / self.width >= self.cells.len() as i64 {
            self.double();
        }
        let i = self.index(time, start);
        self.cells[i].add(v);
    }

    fn index(&self, time: i64, start: i64) -> usize {
        let i = (time.saturating_sub(start) / self.width).max(0) as usize;
        i.min(self.cells.len() - 1)
    }

    /// Twice as wide cells, neighbours merged.
    fn double(&mut self) {
        let n = self.cells.len();
        for i in 0..n {
            let merged = if 2 * i < n {
                let mut left = self.cells[2 * i];
                if 2 * i + 1 < n {
                    let right = self.cells[2 * i + 1];
                    if left.is_empty() {
                        left = right;
                    } else {
                        left.merge(&right);
                    }
                }
                left
            } else {
                Cell::EMPTY
            };
            self.cells[i] = merged;
        }
        self.width = self.width.saturating_mul(2);
    }

    /// The non-empty cells as (start, end, cell), in time order.
    pub(crate) fn cells(&self) -> impl Iterator<Item = (i64, i64, &Cell)> {
        let start = self.start.unwrap_or(0);
        let width = self.width;
        self.cells
            .iter()
            .enumerate()
            .filter(|(_, c)| !c.is_empty())
            .map(move |(i, c)| {
                let from = start.saturating_add(width.saturating_mul(i as i64));
                (from, from.saturating_add(width), c)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_million_records_fit_in_the_cells_with_min_and_max_kept() {
        let mut bins = Bins::new(100, true);
        for i in 0..1_000_000i64 {
            bins.add(i * 1_000, (i % 1000) as f64);
        }
        let cells: Vec<_> = bins.cells().collect();
        assert!(cells.len() <= 100 && cells.len() > 50, "{}", cells.len());
        assert!(cells.iter().all(|(_, _, c)| c.min == 0.0 && c.max == 999.0));
        let total: u32 = cells.iter().map(|(_, _, c)| c.count).sum();
        assert_eq!(total, 1_000_000);
        assert!(cells.iter().all(|(_, _, c)| !c.gap_after));
    }

    #[test]
    fn a_silence_of_many_intervals_is_a_gap_and_jitter_is_not() {
        let mut bins = Bins::new(1000, true);
        let mut t = 0;
        for i in 0..200 {
            bins.add(t, 1.0);
            t += if i % 2 == 0 { 50 } else { 70 };
        }
        let gap_start = t;
        t += 100 * 60;
        for _ in 0..200 {
            bins.add(t, 1.0);
            t += 60;
        }
        let gaps: Vec<i64> = bins
            .cells()
            .filter(|(_, _, c)| c.gap_after)
            .map(|(from, _, _)| from)
            .collect();
        assert_eq!(gaps.len(), 1, "{gaps:?}");
        assert!(gaps[0] <= gap_start - 50 && gap_start - 70 - gaps[0] < 200);
    }
}
