//! Where a diagnostic points.

/// A UTF-8 byte-order mark, which some editors write at the start of a
/// file: the language reads it as nothing and a column does not count it,
/// but it stays in the text, so a span is still a byte offset into the
/// file as it is.
pub(crate) const BYTE_ORDER_MARK: char = '\u{feff}';

/// A byte range `[start, end)` into the whole file a diagnostic is about (a
/// scenario, or `outatime.yaml`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }

    pub fn len(self) -> usize {
        self.end - self.start
    }

    pub fn is_empty(self) -> bool {
        self.start == self.end
    }
}
