//! What a resume may skip. The journal says which batches the target
//! acknowledged, and when the tables they went into were made; a resume
//! skips a table's batches only while the target still holds that table:
//! described before anything is created, it exists, it is outatime's, and
//! it was made when the journal says (so it is not one made since). Any
//! other table's journaled batches are sent again, and the resume says
//! why. Sending a batch again is safe: the same records with the same
//! Version, which the target takes as no-ops.

use std::fmt;

use super::journal::Resumed;
use crate::record::time_string;
use crate::targets::{Made, Owner, TableState};

/// Why a table's journaled batches are sent again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Why {
    /// It does not exist (deleted, cleaned, a service restarted empty).
    Missing,
    /// It holds nothing (an InfluxDB measurement dropped since).
    Empty,
    /// It is not tagged or marked as outatime's (the target allows that).
    NotOurs,
    /// The target does not say when it was made (moto).
    Unknown,
    /// The journal does not say when the table it wrote into was made.
    NotJournaled,
    /// It was made at `now`, the journal's table at `journaled`: another.
    MadeAgain { journaled: i64, now: i64 },
}

/// The tables whose journaled batches a resume sends again (by table, named
/// as `qualified` shows them), and why, judged by the tables as the target
/// described them before anything was created (`seen`; `None` where a dry
/// run could not reach the target, which then takes the journal at its
/// word).
pub(crate) fn sent_again(
    resumed: &Resumed,
    seen: &[Option<TableState>],
    qualified: &[String],
) -> Vec<(u16, SentAgain)> {
    judge(resumed, seen)
        .into_iter()
        .zip(qualified)
        .enumerate()
        .filter_map(|(table, (why, qualified))| {
            let table = u16::try_from(table).ok()?;
            let (batches, records) = resumed.of_table(table);
            let again = SentAgain {
                table: qualified.clone(),
                why: why?,
                batches,
                records,
            };
            Some((table, again))
        })
        .collect()
}

/// Why each table's journaled batches are sent again, by table (`None`:
/// they are skipped).
fn judge(resumed: &Resumed, seen: &[Option<TableState>]) -> Vec<Option<Why>> {
    seen.iter()
        .enumerate()
        .map(|(table, state)| {
            let journaled = u16::try_from(table)
                .ok()
                .and_then(|t| resumed.made.get(&t).copied());
            match state {
                None => None,
                Some(TableState::Missing) => Some(Why::Missing),
                Some(TableState::Present(_, Owner::Other, _)) => Some(Why::NotOurs),
                Some(TableState::Present(_, Owner::Outatime, made)) => match (made, journaled) {
                    (Made::Empty { .. }, _) => Some(Why::Empty),
                    (Made::Unknown, _) => Some(Why::Unknown),
                    (Made::At(_), None) => Some(Why::NotJournaled),
                    (Made::At(now), Some(journaled)) if *now == journaled => None,
                    (&Made::At(now), Some(journaled)) => Some(Why::MadeAgain { journaled, now }),
                },
            }
        })
        .collect()
}

/// A table whose journaled batches are sent again, and why: what the
/// resume says about it.
#[derive(Debug)]
pub(crate) struct SentAgain {
    /// As the target shows it: `database.table`.
    pub table: String,
    pub why: Why,
    pub batches: u64,
    pub records: u64,
}

impl fmt::Display for SentAgain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let table = &self.table;
        match self.why {
            Why::Missing => write!(f, "`{table}` does not exist any more")?,
            Why::Empty => write!(f, "`{table}` holds no points any more")?,
            Why::NotOurs => write!(f, "`{table}` is not marked as outatime's")?,
            Why::Unknown => write!(
                f,
                "`{table}`: the target does not say when it was made, so nothing shows it is the table the journal wrote into"
            )?,
            Why::NotJournaled => write!(
                f,
                "`{table}`: the journal does not say when the table it wrote into was made"
            )?,
            Why::MadeAgain { journaled, now } => write!(
                f,
                "`{table}` was made at {}, the table the journal wrote into at {}",
                time_string(now),
                time_string(journaled)
            )?,
        }
        write!(
            f,
            "; its {} journaled batches ({} records) are sent again",
            self.batches, self.records
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::journal::tests::header;
    use crate::apply::journal::{Resumed, Written};
    use crate::targets::{Window, Words};

    fn present(owner: Owner, made: Made) -> Option<TableState> {
        let words = Words {
            why: String::new(),
            fix: String::new(),
        };
        let window = Window {
            max_age: None,
            max_ahead: None,
            retention: String::new(),
            too_old: words.clone(),
            too_new: words,
        };
        Some(TableState::Present(window, owner, made))
    }

    #[test]
    fn only_a_table_made_when_the_journal_says_keeps_its_batches() {
        let resumed = Resumed {
            header: header(),
            batches: [(
                0,
                Written {
                    table: 0,
                    records: 9,
                },
            )]
            .into(),
            made: [(0, 100), (1, 100), (2, 100), (3, 100), (4, 100)].into(),
            complete: false,
            foreign: 0,
        };
        let seen = [
            present(Owner::Outatime, Made::At(100)),
            present(Owner::Outatime, Made::At(200)),
            Some(TableState::Missing),
            present(Owner::Outatime, Made::Empty { marker: Some(100) }),
            present(Owner::Other, Made::At(100)),
            present(Owner::Outatime, Made::Unknown),
            present(Owner::Outatime, Made::At(100)),
            None,
        ];
        assert_eq!(
            judge(&resumed, &seen),
            [
                None,
                Some(Why::MadeAgain {
                    journaled: 100,
                    now: 200
                }),
                Some(Why::Missing),
                Some(Why::Empty),
                Some(Why::NotOurs),
                Some(Why::Unknown),
                Some(Why::NotJournaled),
                None,
            ]
        );
        let again = SentAgain {
            table: "db.t".into(),
            why: Why::Missing,
            batches: 3,
            records: 300,
        };
        assert_eq!(
            again.to_string(),
            "`db.t` does not exist any more; its 3 journaled batches (300 records) are sent again"
        );
    }
}
