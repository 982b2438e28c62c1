//! The compact series form: `{0001..2000}` inside a value of a `series`
//! clause stands for 2,000 values, zero-padded to the width of the first
//! number. Several ranges in one clause make a cartesian product in written
//! order (the first range varies slowest). A value without `{digits..digits}`
//! is itself; a `{` elsewhere stays literal.

/// How many series one `series` clause may stand for.
pub(crate) const MAX_SERIES_PER_CLAUSE: u64 = 100_000;

/// One `{A..B}` in a value: where it is (bytes into the value) and what it counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Range {
    pub start_byte: usize,
    pub end_byte: usize,
    pub first: u64,
    pub last: u64,
    /// The digits of `A`: every number is zero-padded to this width.
    pub width: usize,
}

impl Range {
    /// How many values it stands for; 0 when it counts down.
    pub(crate) fn count(&self) -> u64 {
        if self.last < self.first {
            0
        } else {
            (self.last - self.first).saturating_add(1)
        }
    }
}

/// What is wrong with a clause's ranges.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum RangeProblem {
    /// `{10..1}`: the range counts down.
    Backwards { written: String },
    /// The clause stands for more than [`MAX_SERIES_PER_CLAUSE`] series
    /// (`count` saturates at `u64::MAX`).
    TooMany { count: u64 },
}

/// Every `{A..B}` in `value`, left to right. A number too large for 64 bits
/// counts as `u64::MAX` (the clause is then too large anyway).
pub(crate) fn ranges(value: &str) -> Vec<Range> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(open) = value[from..].find('{').map(|i| from + i) {
        match range_at(value, open) {
            Some(range) => {
                from = range.end_byte;
                found.push(range);
            }
            None => from = open + 1,
        }
    }
    found
}

/// `{digits..digits}` starting at the `{` at `open`.
fn range_at(value: &str, open: usize) -> Option<Range> {
    let rest = &value[open + 1..];
    let a_len = rest.bytes().take_while(u8::is_ascii_digit).count();
    let after_a = rest.get(a_len..)?.strip_prefix("..")?;
    let b_len = after_a.bytes().take_while(u8::is_ascii_digit).count();
    if a_len == 0 || b_len == 0 || !after_a[b_len..].starts_with('}') {
        return None;
    }
    let number = |digits: &str| digits.parse::<u64>().unwrap_or(u64::MAX);
    Some(Range {
        start_byte: open,
        end_byte: open + 1 + a_len + 2 + b_len + 1,
        first: number(&rest[..a_len]),
        last: number(&after_a[..b_len]),
        width: a_len,
    })
}

/// How many series the values of one clause stand for, or why they cannot.
pub(crate) fn count<'a>(values: impl IntoIterator<Item = &'a str>) -> Result<u64, RangeProblem> {
    let mut total: u64 = 1;
    for value in values {
        for range in ranges(value) {
            if range.last < range.first {
                return Err(RangeProblem::Backwards {
                    written: value[range.start_byte..range.end_byte].to_string(),
                });
            }
            total = total.saturating_mul(range.count());
        }
    }
    if total > MAX_SERIES_PER_CLAUSE {
        return Err(RangeProblem::TooMany { count: total });
    }
    Ok(total)
}

/// The values of one clause, one row per series: the cartesian product of
/// its ranges in written order. Call [`count`] first: this assumes the
/// ranges count up and the product is within the limit.
pub(crate) fn expand(values: &[&str]) -> Vec<Vec<String>> {
    let mut rows: Vec<Vec<String>> = vec![Vec::with_capacity(values.len())];
    for value in values {
        let mut alternatives = vec![String::new()];
        let mut written_to = 0;
        for range in ranges(value) {
            let literal = &value[written_to..range.start_byte];
            let mut next = Vec::with_capacity(alternatives.len() * range.count() as usize);
            for prefix in &alternatives {
                for n in range.first..=range.last {
                    next.push(format!("{prefix}{literal}{n:0width$}", width = range.width));
                }
            }
            alternatives = next;
            written_to = range.end_byte;
        }
        let tail = &value[written_to..];
        let mut next = Vec::with_capacity(rows.len() * alternatives.len());
        for row in &rows {
            for alternative in &alternatives {
                let mut row = row.clone();
                row.push(format!("{alternative}{tail}"));
                next.push(row);
            }
        }
        rows = next;
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_range_counts_zero_padded_to_the_first_number() {
        assert_eq!(count(["sim-{0001..2000}"]), Ok(2000));
        let rows = expand(&["sim-{0001..2000}", "lab"]);
        assert_eq!(rows.len(), 2000);
        assert_eq!(rows[0], ["sim-0001", "lab"]);
        assert_eq!(rows[1999], ["sim-2000", "lab"]);
        assert_eq!(expand(&["d{8..10}"]), [["d8"], ["d9"], ["d10"]]);
    }

    #[test]
    fn several_ranges_multiply_in_written_order() {
        let rows = expand(&["r{1..2}-c{1..2}", "p{0..1}"]);
        let flat: Vec<String> = rows.iter().map(|r| r.join("/")).collect();
        assert_eq!(
            flat,
            [
                "r1-c1/p0", "r1-c1/p1", "r1-c2/p0", "r1-c2/p1", "r2-c1/p0", "r2-c1/p1", "r2-c2/p0",
                "r2-c2/p1"
            ]
        );
        assert_eq!(count(["r{1..2}-c{1..2}", "p{0..1}"]), Ok(8));
    }

    #[test]
    fn other_braces_stay_literal() {
        for value in [
            "{a..b}", "{1..}", "{..2}", "{1.2}", "x{", "{}", "{1..2", "plain",
        ] {
            assert!(ranges(value).is_empty(), "{value}");
            assert_eq!(expand(&[value]), [[value]]);
        }
        assert_eq!(expand(&["{{1..2}}"]), [["{1}"], ["{2}"]]);
    }

    #[test]
    fn backwards_and_too_many_are_refused() {
        assert_eq!(
            count(["a{10..1}"]),
            Err(RangeProblem::Backwards {
                written: "{10..1}".into()
            })
        );
        assert_eq!(
            count(["{1..1000}", "{1..1000}"]),
            Err(RangeProblem::TooMany { count: 1_000_000 })
        );
        assert_eq!(
            count(["{0..99999999999999999999999}"]),
            Err(RangeProblem::TooMany { count: u64::MAX })
        );
        assert_eq!(count(["{1..100000}"]), Ok(100_000));
    }
}
