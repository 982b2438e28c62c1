//! `--shard K/N`: a deterministic 1/N of the series, so that N CI jobs
//! together write the whole plan exactly once.
//!
//! A series belongs to shard `key mod N`, where `key` is the hash of its
//! dimensions that randomness is keyed by too: it does not depend on which
//! other series exist, on the anchor or on the order of the file.

use std::fmt;

use crate::record::{Catalog, Record, Sink};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Shard {
    /// 0-based: `--shard 1/3` is index 0.
    pub index: u64,
    pub count: u64,
}

impl Shard {
    /// Every series: no `--shard`.
    pub(crate) const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// `K/N` with 1 ≤ K ≤ N; the error says what was wrong.
    pub(crate) fn parse(text: &str) -> Result<Shard, String> {
        let (k, n) = text
            .split_once('/')
            .ok_or_else(|| format!("`{text}` is not K/N (write e.g. `--shard 2/4`)"))?;
        let number = |part: &str| part.trim().parse::<u64>().ok();
        match (number(k), number(n)) {
            (Some(k), Some(n)) if n >= 1 && (1..=n).contains(&k) => Ok(Shard {
                index: k - 1,
                count: n,
            }),
            (Some(_), Some(_)) => Err(format!(
                "`{text}`: K must be between 1 and N, and N at least 1 (e.g. `--shard 1/{}`)",
                number(n).unwrap_or(1).max(1)
            )),
            _ => Err(format!(
                "`{text}` is not K/N with whole numbers (write e.g. `--shard 2/4`)"
            )),
        }
    }

    /// Whether the series with this key belongs to the shard.
    pub(crate) fn takes(self, key: u64) -> bool {
        // The series key is an FNV-1a hash, whose low bits follow only the
        // low bits of each byte: unmixed, `key % 4` would put series that
        // differ in one letter into the same shard.
        super::mix(key) % self.count == self.index
    }

    pub(crate) fn is_whole(self) -> bool {
        self.count == 1
    }

    /// What names a shard's files apart, so that shards can share a folder:
    /// `.shard-K-of-N`, or nothing for the whole.
    pub(crate) fn file_suffix(self) -> String {
        if self.is_whole() {
            String::new()
        } else {
            format!(".shard-{}-of-{}", self.index + 1, self.count)
        }
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index + 1, self.count)
    }
}

/// Passes on only the records of the shard's series.
pub(crate) struct Sharded<S> {
    pub shard: Shard,
    pub inner: S,
}

impl<S: Sink> Sink for Sharded<S> {
    fn record(&mut self, record: &Record, catalog: &Catalog) -> std::io::Result<()> {
        let key = catalog.tables[record.table as usize].series[record.series as usize].key;
        if self.shard.takes(key) {
            self.inner.record(record, catalog)
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_k_of_n_and_explains_what_is_wrong() {
        assert_eq!(Shard::parse("2/4"), Ok(Shard { index: 1, count: 4 }));
        assert_eq!(Shard::parse("1/1"), Ok(Shard::WHOLE));
        assert_eq!(Shard::parse("2/4").unwrap().to_string(), "2/4");
        for bad in ["0/3", "4/3", "1/0"] {
            assert!(
                Shard::parse(bad).unwrap_err().contains("between 1 and N"),
                "{bad}"
            );
        }
        for bad in ["3", "a/b", "1/-2"] {
            assert!(Shard::parse(bad).unwrap_err().contains("K/N"), "{bad}");
        }
    }

    #[test]
    fn series_that_differ_in_one_letter_spread_over_the_shards() {
        // FNV-1a keys of `site=a`, `site=c`, ... share their low bit.
        let keys: Vec<u64> = (b'a'..=b'z')
            .step_by(2)
            .map(|letter| crate::record::name_hash(&format!("{{site=\"{}\"}}", letter as char)))
            .collect();
        for count in [2u64, 4, 8] {
            let used = (0..count)
                .filter(|&index| keys.iter().any(|&k| Shard { index, count }.takes(k)))
                .count() as u64;
            // Unmixed, these all fall in one shard of 2, and in the even
            // shards of 4 and 8.
            assert!(used > count / 2, "{used} of {count} shards used");
        }
        // And many series spread evenly.
        let count = 4;
        let mut sizes = [0; 4];
        for i in 0..1000 {
            let key = crate::record::name_hash(&format!("{{device=\"d{i}\"}}"));
            let shard = (0..count)
                .find(|&index| Shard { index, count }.takes(key))
                .unwrap();
            sizes[shard as usize] += 1;
        }
        assert!(sizes.iter().all(|&n| (200..=300).contains(&n)), "{sizes:?}");
    }

    #[test]
    fn the_shards_of_a_count_take_each_key_exactly_once() {
        for count in 1..6 {
            for key in [0u64, 1, 7, 12_345, u64::MAX, u64::MAX - 3] {
                let takers = (0..count)
                    .filter(|&index| Shard { index, count }.takes(key))
                    .count();
                assert_eq!(takers, 1, "key {key} in {count} shards");
            }
        }
    }
}
