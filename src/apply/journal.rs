//! The journal of an apply: a JSON-lines file naming the batches the target
//! has acknowledged, so that `apply --resume` finishes an interrupted job
//! without re-sending them.
//!
//! The first line pins what the batches are (stream digest, anchor, shard,
//! pacing and the time the pacing cut from) and the Version the records
//! carry; a resume checks it against the plan and reuses the Version, so a
//! batch that was in flight when the process died is re-sent identically
//! and the target takes it as a no-op. Each acknowledged batch is one
//! `write` of one line, so it survives the process being killed; the last
//! line of a file cut mid-line is ignored.

use std::collections::HashSet;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// What the journal's batches are; a resume must match it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub(crate) struct Header {
    /// The journal format: [`FORMAT`].
    pub outatime_journal: u32,
    /// The target's name in the configuration.
    pub target: String,
    /// What the target says pins it (Timestream: region, endpoint_url,
    /// database), as `[key, value]` pairs.
    pub identity: Vec<(String, String)>,
    /// Each table's resolved name and layout: `ci_7_telemetry: multi metrics`.
    pub tables: Vec<String>,
    pub stream_digest: String,
    /// Nanoseconds since the epoch.
    pub anchor: i64,
    /// The Version every record of the apply carries.
    pub version: i64,
    pub shard: String,
    pub pace: String,
    /// Live pacing sends records due before this instant (ns) at once, in
    /// full batches; the batches depend on it, so a resume reuses it.
    pub cutoff: i64,
    /// A digest of every batch: number, table, due time, records. A resume
    /// that would cut other batches is refused.
    pub batches: String,
}

/// The journal format this outatime writes and reads. Format 1 pinned
/// Timestream's region, endpoint and database by name; 2 pins any target's
/// identity.
pub(crate) const FORMAT: u32 = 2;

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Line {
    Done { batch: u64, records: u64 },
    Complete { complete: bool },
}

/// A journal read back for `--resume`.
#[derive(Debug)]
pub(crate) struct Resumed {
    pub header: Header,
    pub done: HashSet<u64>,
    /// Records in the batches already done.
    pub records: u64,
    pub complete: bool,
}

/// Why `--resume` cannot read a journal.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Unreadable {
    /// The file cannot be read: it does not exist, or no permission.
    #[error("cannot read the journal `{}`: {error}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        error: std::io::Error,
    },
    /// The first line is not a journal header: another file.
    #[error(
        "`{}` is not an outatime journal (its first line is not a journal header)",
        path.display()
    )]
    NotAJournal { path: PathBuf },
    /// A journal in a format this outatime does not read.
    #[error(
        "the journal `{}` is in format {format}, written by another version of outatime, which reads format {FORMAT}; apply without --resume to start over",
        path.display()
    )]
    OtherFormat { path: PathBuf, format: u64 },
}

/// Reads a journal.
pub(crate) fn read(path: &Path) -> Result<Resumed, Unreadable> {
    let text = std::fs::read_to_string(path).map_err(|error| Unreadable::Io {
        path: path.to_path_buf(),
        error,
    })?;
    let mut lines = text.lines();
    let not_a_journal = || Unreadable::NotAJournal {
        path: path.to_path_buf(),
    };
    let first: serde_json::Value = lines
        .next()
        .and_then(|first| serde_json::from_str(first).ok())
        .ok_or_else(not_a_journal)?;
    let format = first
        .get("outatime_journal")
        .and_then(serde_json::Value::as_u64)
        .ok_or_else(not_a_journal)?;
    if format != u64::from(FORMAT) {
        return Err(Unreadable::OtherFormat {
            path: path.to_path_buf(),
            format,
        });
    }
    let header: Header = serde_json::from_value(first).map_err(|_| not_a_journal())?;
    let mut resumed = Resumed {
        header,
        done: HashSet::new(),
        records: 0,
        complete: false,
    };
    for line in lines {
        // A line cut short by a crash is the last one and is ignored: its
        // batch is re-sent, identically.
        match serde_json::from_str::<Line>(line) {
            Ok(Line::Done { batch, records }) => {
                if resumed.done.insert(batch) {
                    resumed.records += records;
                }
            }
            Ok(Line::Complete { complete }) => resumed.complete |= complete,
            Err(_) => {}
        }
    }
    Ok(resumed)
}

/// The journal being written.
pub(crate) struct Journal {
    file: File,
    pub path: PathBuf,
}

impl Journal {
    /// Starts a journal, replacing any earlier one at `path`.
    pub(crate) fn create(path: &Path, header: &Header) -> std::io::Result<Journal> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        let mut file = File::create(path)?;
        let mut line = serde_json::to_vec(header).map_err(std::io::Error::other)?;
        line.push(b'\n');
        file.write_all(&line)?;
        file.sync_all()?;
        Ok(Journal {
            file,
            path: path.to_path_buf(),
        })
    }

    /// Continues a journal read with [`read`].
    pub(crate) fn append(path: &Path) -> std::io::Result<Journal> {
        let mut file = std::fs::OpenOptions::new().append(true).open(path)?;
        // A crash may have cut the last line; start on a fresh one.
        file.write_all(b"\n")?;
        Ok(Journal {
            file,
            path: path.to_path_buf(),
        })
    }

    /// Records an acknowledged batch: one `write` of one line.
    pub(crate) fn done(&mut self, batch: u64, records: u64) -> std::io::Result<()> {
        let line = format!("{{\"batch\":{batch},\"records\":{records}}}\n");
        self.file.write_all(line.as_bytes())
    }

    /// Marks the apply complete and syncs the file.
    pub(crate) fn complete(&mut self) -> std::io::Result<()> {
        self.file.write_all(b"{\"complete\":true}\n")?;
        self.file.sync_all()
    }

    /// Syncs what was written (on interruption).
    pub(crate) fn sync(&mut self) -> std::io::Result<()> {
        self.file.sync_all()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn header() -> Header {
        Header {
            outatime_journal: FORMAT,
            target: "e2e".into(),
            identity: vec![
                ("region".into(), "eu-west-1".into()),
                ("database".into(), "db".into()),
            ],
            tables: vec!["t: multi metrics".into()],
            stream_digest: "blake3:00".into(),
            anchor: 1_700_000_000_000_000_000,
            version: 1_700_000_000_123,
            shard: "1/1".into(),
            pace: "burst".into(),
            cutoff: 0,
            batches: "blake3:11".into(),
        }
    }

    #[test]
    fn a_journal_reads_back_its_batches_and_ignores_a_torn_last_line() {
        let dir = std::env::temp_dir().join(format!("outatime-journal-{}", std::process::id()));
        let path = dir.join("j.jsonl");
        let mut journal = Journal::create(&path, &header()).unwrap();
        journal.done(0, 100).unwrap();
        journal.done(2, 40).unwrap();
        drop(journal);
        // A crash in the middle of a line.
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        file.write_all(b"{\"batch\":1,\"rec").unwrap();
        drop(file);
        let resumed = read(&path).unwrap();
        assert_eq!(resumed.header, header());
        assert_eq!(resumed.done, HashSet::from([0, 2]));
        assert_eq!(resumed.records, 140);
        assert!(!resumed.complete);
        let mut journal = Journal::append(&path).unwrap();
        journal.done(1, 100).unwrap();
        journal.complete().unwrap();
        let resumed = read(&path).unwrap();
        assert_eq!(resumed.done, HashSet::from([0, 1, 2]));
        assert!(resumed.complete);
        std::fs::write(&path, "{\"outatime_journal\":1,\"target\":\"e2e\"}\n").unwrap();
        assert!(matches!(
            read(&path),
            Err(Unreadable::OtherFormat { format: 1, .. })
        ));
        std::fs::write(&path, "not a journal\n").unwrap();
        assert!(
            read(&path)
                .unwrap_err()
                .to_string()
                .contains("not an outatime journal")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
