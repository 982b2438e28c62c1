//! Which anomalies can touch the same record and measure
//! (`anomaly::overlap`): for each anomaly, the first one before it in the
//! file that meets it. Found by sorting and sweeping, not by trying every
//! pair: for anomalies spread over time or over series, the work grows with
//! their number, not with its square (20,000 anomalies: 200 million pairs).
//!
//! Two anomalies meet when they are on one table, on one measure (or
//! either on whole records), their windows share an instant, and their
//! `where`s are not disjoint ([`meet`]). Windows of different kinds (one
//! relative to `now`, one at recorded instants) never meet: that depends on
//! the anchor.
//!
//! The sweep looks only where a meeting anomaly can be:
//! - a *channel* holds the anomalies of one measure (or whole records) and
//!   one `where` key: the value of the first `==`/`in` condition (every
//!   value of an `in`), the dimension of that condition (every anomaly
//!   keyed on it), or no key at all. Two anomalies keyed on one dimension
//!   with no value in common are disjoint, so an anomaly asks only the
//!   channels of its own values, the other dimensions, and the unkeyed.
//! - in a channel, an anomaly that starts at or before `b` meets `b`'s
//!   window when it is still running at `b`'s start: the sweep keeps those
//!   *active*, by file order. One that starts later meets it when it starts
//!   before `b` ends: a range of the channel sorted by start, whose least
//!   file positions come first ([`Starts`]).
//!
//! Either way, candidates come in file order and the first that meets `b`
//! is the answer.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};

use super::{add, ordered};
use crate::model::{Anomaly, ConditionTest, Filter, TimePoint};

/// For each anomaly, the position of the first anomaly before it in
/// `anomalies` that meets it ([`meet`]), or `None`.
pub(super) fn first_overlaps(anomalies: &[&Anomaly]) -> Vec<Option<usize>> {
    first_overlaps_by(anomalies, &mut |a, b| meet(a, b))
}

/// [`first_overlaps`], asking `meets` about each candidate pair (the tests
/// count the pairs asked).
fn first_overlaps_by(
    anomalies: &[&Anomaly],
    meets: &mut dyn FnMut(&Anomaly, &Anomaly) -> bool,
) -> Vec<Option<usize>> {
    let mut first = vec![None; anomalies.len()];
    let spans: Vec<(i128, i128)> = anomalies.iter().map(|a| span(a)).collect();
    // One table and one kind of time at a time: nothing meets across them.
    let mut groups: BTreeMap<(&str, bool), Vec<usize>> = BTreeMap::new();
    for (i, a) in anomalies.iter().enumerate() {
        groups
            .entry((a.table.as_str(), a.at.is_relative()))
            .or_default()
            .push(i);
    }
    for members in groups.values() {
        Group::new(anomalies, &spans, members).sweep(&mut first, meets);
    }
    first
}

/// Whether `a` and `b` can touch the same record and measure.
pub(super) fn meet(a: &Anomaly, b: &Anomaly) -> bool {
    let same_measure = match (&a.measure, &b.measure) {
        (Some(x), Some(y)) => x == y,
        _ => true,
    };
    a.table == b.table
        && same_measure
        && windows_overlap(a, b)
        && !filters_disjoint(&a.filter, &b.filter)
}

/// `[at, at + length)`, or the single instant `at` without a length.
fn windows_overlap(a: &Anomaly, b: &Anomaly) -> bool {
    let end = |x: &Anomaly| x.length.and_then(|l| add(x.at, l));
    if ordered(a.at, b.at).is_none() {
        // One relative to `now`, one absolute: that depends on the anchor.
        return false;
    }
    let before = |p: TimePoint, q: TimePoint| ordered(p, q) == Some(std::cmp::Ordering::Less);
    let a_end = end(a);
    let b_end = end(b);
    let a_starts_before_b_ends = match b_end {
        Some(e) => before(a.at, e),
        None => !before(b.at, a.at),
    };
    let b_starts_before_a_ends = match a_end {
        Some(e) => before(b.at, e),
        None => !before(a.at, b.at),
    };
    a_starts_before_b_ends && b_starts_before_a_ends
}

/// Whether no series can match both filters, judged from `==`, `!=` and
/// `in` on a shared dimension.
fn filters_disjoint(a: &Filter, b: &Filter) -> bool {
    for ca in &a.conditions {
        for cb in b.conditions.iter().filter(|c| c.dimension == ca.dimension) {
            let disjoint = match (values(&ca.test), values(&cb.test)) {
                (Some(va), _) => va.iter().all(|v| !cb.test.allows(v)),
                (None, Some(vb)) => vb.iter().all(|v| !ca.test.allows(v)),
                (None, None) => false,
            };
            if disjoint {
                return true;
            }
        }
    }
    false
}

/// The values an `==` or `in` lets through; `None` for `!=`.
fn values(test: &ConditionTest) -> Option<&[String]> {
    match test {
        ConditionTest::Equals(x) => Some(std::slice::from_ref(x)),
        ConditionTest::In(list) => Some(list),
        ConditionTest::NotEquals(_) => None,
    }
}

/// An anomaly's window as whole nanoseconds `[start, end)`: a window
/// without a length (or whose end does not fit) is its one instant, as
/// [`windows_overlap`] reads it. Two such windows share an instant exactly
/// when [`windows_overlap`] says they overlap.
fn span(a: &Anomaly) -> (i128, i128) {
    let point = |p: TimePoint| -> i128 {
        match p {
            TimePoint::Relative(d) => i128::from(d.0),
            TimePoint::Absolute(i) => i128::from(i.0),
        }
    };
    let start = point(a.at);
    let end = a.length.and_then(|l| add(a.at, l)).map_or(start + 1, point);
    (start, end)
}

/// What an anomaly's `where` is keyed on: its first `==`/`in` condition.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Key<'a> {
    /// One value of the keyed dimension.
    Value(&'a str, &'a str),
    /// Every anomaly keyed on this dimension.
    Dimension(&'a str),
    /// No `==` or `in` at all.
    None,
}

/// A measure (`None`: whole records) and a key.
type Channel<'a> = (Option<&'a str>, Key<'a>);

/// The first `==`/`in` condition's dimension and values.
fn keyed(a: &Anomaly) -> Option<(&str, &[String])> {
    a.filter
        .conditions
        .iter()
        .find_map(|c| values(&c.test).map(|v| (c.dimension.as_str(), v)))
}

/// The channels an anomaly is in.
fn channels_of(a: &Anomaly) -> Vec<Channel<'_>> {
    let measure = a.measure.as_deref();
    match keyed(a) {
        Some((dimension, values)) => values
            .iter()
            .map(|v| (measure, Key::Value(dimension, v)))
            .chain([(measure, Key::Dimension(dimension))])
            .collect(),
        None => vec![(measure, Key::None)],
    }
}

/// The lesser of two positions found, if any.
fn least(a: Option<usize>, b: Option<usize>) -> Option<usize> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

/// The anomalies of one table and kind of time, in channels.
struct Group<'a, 'b> {
    anomalies: &'b [&'a Anomaly],
    /// Every anomaly's window ([`span`]), by file position.
    spans: &'b [(i128, i128)],
    /// File positions of the group, in file order.
    members: &'b [usize],
    channels: BTreeMap<Channel<'a>, Vec<usize>>,
    measures: BTreeSet<Option<&'a str>>,
    dimensions: BTreeSet<&'a str>,
}

impl<'a, 'b> Group<'a, 'b> {
    fn new(
        anomalies: &'b [&'a Anomaly],
        spans: &'b [(i128, i128)],
        members: &'b [usize],
    ) -> Group<'a, 'b> {
        let mut channels: BTreeMap<Channel<'a>, Vec<usize>> = BTreeMap::new();
        let mut measures = BTreeSet::new();
        let mut dimensions = BTreeSet::new();
        for &i in members {
            let a: &'a Anomaly = anomalies[i];
            measures.insert(a.measure.as_deref());
            dimensions.extend(keyed(a).map(|(dimension, _)| dimension));
            for channel in channels_of(a) {
                let list = channels.entry(channel).or_default();
                // An `in` listing one value twice is in its channel once.
                if list.last() != Some(&i) {
                    list.push(i);
                }
            }
        }
        Group {
            anomalies,
            spans,
            members,
            channels,
            measures,
            dimensions,
        }
    }

    /// The channels where an anomaly that meets `b` can be (of those that
    /// hold any).
    fn asked_by(&self, b: &'a Anomaly) -> BTreeSet<Channel<'a>> {
        let measures: Vec<Option<&'a str>> = match b.measure.as_deref() {
            Some(m) => vec![Some(m), None],
            None => self.measures.iter().copied().collect(),
        };
        let own = keyed(b);
        let mut keys = vec![Key::None];
        keys.extend(
            self.dimensions
                .iter()
                .filter(|&&d| own.is_none_or(|(mine, _)| mine != d))
                .map(|&d| Key::Dimension(d)),
        );
        if let Some((dimension, values)) = own {
            keys.extend(values.iter().map(|v| Key::Value(dimension, v.as_str())));
        }
        let mut asked = BTreeSet::new();
        for m in measures {
            for key in &keys {
                let channel = (m, key.clone());
                if self.channels.contains_key(&channel) {
                    asked.insert(channel);
                }
            }
        }
        asked
    }

    fn sweep(
        &self,
        first: &mut [Option<usize>],
        meets: &mut dyn FnMut(&Anomaly, &Anomaly) -> bool,
    ) {
        let starts: BTreeMap<&Channel<'a>, Starts> = self
            .channels
            .iter()
            .map(|(channel, list)| (channel, Starts::new(list, self.spans)))
            .collect();
        // Anomalies by start; those running, per channel, by file position.
        let mut by_start: Vec<usize> = self.members.to_vec();
        by_start.sort_by_key(|&i| (self.spans[i].0, i));
        let mut active: BTreeMap<Channel<'a>, BTreeSet<usize>> = BTreeMap::new();
        let mut ending: BinaryHeap<Reverse<(i128, usize)>> = BinaryHeap::new();
        let mut next = 0;
        while next < by_start.len() {
            let start = self.spans[by_start[next]].0;
            let same_start = by_start[next..]
                .iter()
                .take_while(|&&i| self.spans[i].0 == start)
                .count();
            let starting = &by_start[next..next + same_start];
            next += same_start;
            for &i in starting {
                for channel in channels_of(self.anomalies[i]) {
                    active.entry(channel).or_default().insert(i);
                }
                ending.push(Reverse((self.spans[i].1, i)));
            }
            while let Some(&Reverse((end, i))) = ending.peek() {
                if end > start {
                    break;
                }
                ending.pop();
                for channel in channels_of(self.anomalies[i]) {
                    if let Some(set) = active.get_mut(&channel) {
                        set.remove(&i);
                    }
                }
            }
            for &b in starting {
                let b_end = self.spans[b].1;
                let anomaly = self.anomalies[b];
                let mut best: Option<usize> = None;
                for channel in self.asked_by(anomaly) {
                    // Running at `b`'s start, in file order.
                    let bound = best.unwrap_or(b);
                    let found = active.get(&channel).and_then(|set| {
                        set.range(..bound)
                            .copied()
                            .find(|&a| meets(self.anomalies[a], anomaly))
                    });
                    best = least(best, found);
                    // Starting later, before `b` ends, in file order.
                    let bound = best.unwrap_or(b);
                    let found = starts[&channel].first(start, b_end, bound, &mut |a| {
                        meets(self.anomalies[a], anomaly)
                    });
                    best = least(best, found);
                }
                first[b] = best;
            }
        }
    }
}

/// A channel's anomalies sorted by start, asked for those that start in a
/// window, least file position first: a sparse table of the least position
/// in each run of 2^k, and a heap of the parts of the window not yet
/// looked at, each by its least position.
struct Starts {
    starts: Vec<i128>,
    /// `least[k][i]`: where in `starts` the least file position of
    /// `i .. i + 2^k` is.
    least: Vec<Vec<usize>>,
    positions: Vec<usize>,
}

impl Starts {
    fn new(list: &[usize], spans: &[(i128, i128)]) -> Starts {
        let mut sorted: Vec<(i128, usize)> = list.iter().map(|&i| (spans[i].0, i)).collect();
        sorted.sort();
        let starts: Vec<i128> = sorted.iter().map(|s| s.0).collect();
        let positions: Vec<usize> = sorted.iter().map(|s| s.1).collect();
        let mut least = vec![(0..positions.len()).collect::<Vec<usize>>()];
        let mut width = 1;
        while width * 2 <= positions.len() {
            let previous = least.last().expect("one level at least");
            let level = (0..=positions.len() - width * 2)
                .map(|i| {
                    let (x, y) = (previous[i], previous[i + width]);
                    if positions[x] <= positions[y] { x } else { y }
                })
                .collect();
            least.push(level);
            width *= 2;
        }
        Starts {
            starts,
            least,
            positions,
        }
    }

    /// Where in `starts` the least file position of `lo..hi` (not empty) is.
    fn least_in(&self, lo: usize, hi: usize) -> usize {
        let k = (usize::BITS - 1 - (hi - lo).leading_zeros()) as usize;
        let (x, y) = (self.least[k][lo], self.least[k][hi - (1 << k)]);
        if self.positions[x] <= self.positions[y] {
            x
        } else {
            y
        }
    }

    /// The least file position below `bound` of an anomaly starting after
    /// `after` and before `before` for which `meets` holds.
    fn first(
        &self,
        after: i128,
        before: i128,
        bound: usize,
        meets: &mut dyn FnMut(usize) -> bool,
    ) -> Option<usize> {
        let lo = self.starts.partition_point(|&s| s <= after);
        let hi = self.starts.partition_point(|&s| s < before);
        let mut parts = BinaryHeap::new();
        let look = |parts: &mut BinaryHeap<Reverse<(usize, usize, usize, usize)>>,
                    lo: usize,
                    hi: usize| {
            if lo < hi {
                let at = self.least_in(lo, hi);
                parts.push(Reverse((self.positions[at], at, lo, hi)));
            }
        };
        look(&mut parts, lo, hi);
        while let Some(Reverse((position, at, lo, hi))) = parts.pop() {
            if position >= bound {
                return None;
            }
            if meets(position) {
                return Some(position);
            }
            look(&mut parts, lo, at);
            look(&mut parts, at + 1, hi);
        }
        None
    }
}

#[cfg(test)]
mod tests;
