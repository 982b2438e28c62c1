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
//!
//! A journal cannot lie about another apply's writes: the header names its
//! run ([`Header::run_id`], a digest of everything it pins), every later
//! line carries that run, and a line of another run is never counted. Only
//! one apply writes a journal at a time ([`Lock`]). And a journal says
//! which table each table's batches went to (`made`, the instant the target
//! says the table was made), so that a resume can tell that a table was
//! deleted or made again since, whose journaled batches it then sends
//! again. A journal is created under a temporary name and renamed into
//! place, and appended to without following a link: a link planted at its
//! path is replaced, never written through.

mod lock;

use std::collections::{BTreeMap, HashSet};
use std::fs::{File, OpenOptions};
use std::hash::{BuildHasher, Hasher};
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer, Serialize};

pub(crate) use lock::{Holder, Lock, LockError};

/// What the journal's batches are; a resume must match it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub(crate) struct Header {
    /// The journal format: [`FORMAT`].
    pub outatime_journal: u32,
    /// This run, as [`Header::run_id`] gives it: every later line carries
    /// it, and a line that carries another is not this run's.
    pub run: String,
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

impl Header {
    /// The run's id: 16 hex digits of blake3 over every other field (the
    /// target and its tables, the records, the anchor, the Version, the
    /// shard, the pace, the cut-off and the batches). Two applies differ in
    /// one at least: the Version is the wall clock of the start, in ms.
    pub(crate) fn run_id(&self) -> String {
        let unsealed = Header {
            run: String::new(),
            ..self.clone()
        };
        // A header is strings and numbers: it always serialises.
        let bytes = serde_json::to_vec(&unsealed).unwrap_or_default();
        blake3::hash(&bytes).to_hex()[..16].to_string()
    }
}

/// The journal format this outatime writes and reads. Format 1 pinned
/// Timestream's region, endpoint and database by name; 2 pins any target's
/// identity; 3 binds every line to the run and says when each table was
/// made.
pub(crate) const FORMAT: u32 = 3;

/// A line after the header, as read: every line names its run; then a
/// batch written (`batch`, `table`, `records`), when a table was made
/// (`table`, `made`: ns, or `null` when the target does not say), or the
/// end (`complete`).
#[derive(Deserialize)]
struct Line {
    run: String,
    batch: Option<u64>,
    table: Option<u16>,
    records: Option<u64>,
    /// Absent, or `null` (`Some(None)`), or an instant.
    #[serde(default, deserialize_with = "present")]
    made: Option<Option<i64>>,
    #[serde(default)]
    complete: bool,
}

/// A field that is there, `null` or not: `Some`.
fn present<'de, D: Deserializer<'de>>(field: D) -> Result<Option<Option<i64>>, D::Error> {
    Option::<i64>::deserialize(field).map(Some)
}

/// A batch the journal says the target acknowledged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Written {
    pub table: u16,
    pub records: u64,
}

/// A journal read back for `--resume`.
#[derive(Debug)]
pub(crate) struct Resumed {
    pub header: Header,
    /// The acknowledged batches of this run, by number. A table's batches
    /// from before its last `made` line are not here: they went into
    /// another table of its name.
    pub batches: BTreeMap<u64, Written>,
    /// When each table was made, as the journal last says (ns), by table;
    /// a table not here was made at a time the target did not say.
    pub made: BTreeMap<u16, i64>,
    /// Whether the run ended with every batch written, and no table was
    /// made again since.
    pub complete: bool,
    /// Lines of another run, not counted.
    pub foreign: u64,
}

impl Resumed {
    /// The batches a resume skips: every one journaled but those of the
    /// tables in `again`.
    pub(crate) fn skipped(&self, again: &[u16]) -> HashSet<u64> {
        self.batches
            .iter()
            .filter(|(_, w)| !again.contains(&w.table))
            .map(|(&batch, _)| batch)
            .collect()
    }

    /// The batches and records journaled for `table`.
    pub(crate) fn of_table(&self, table: u16) -> (u64, u64) {
        self.batches
            .values()
            .filter(|w| w.table == table)
            .fold((0, 0), |(batches, records), w| {
                (batches + 1, records + w.records)
            })
    }

    /// Records in the batches journaled.
    pub(crate) fn records(&self) -> u64 {
        self.batches.values().map(|w| w.records).sum()
    }
}

/// Why `--resume` cannot read a journal.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Unreadable {
    /// The first line names another run than its fields give: edited.
    #[error(
        "the first line of the journal `{}` was edited (it no longer matches its run `{run}`)",
        path.display()
    )]
    Edited { path: PathBuf, run: String },
    /// The file cannot be read: it does not exist, or no permission.
    #[error("cannot read the journal `{}`: {error}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        error: std::io::Error,
    },
    /// A symbolic link where the journal should be, which outatime does
    /// not follow.
    #[error(
        "the journal `{}` is a symbolic link, which outatime does not follow",
        path.display()
    )]
    Link { path: PathBuf },
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

/// Opens `path` as it is, not through a link at its last component.
fn open_nofollow(options: &mut OpenOptions, path: &Path) -> std::io::Result<File> {
    options.custom_flags(libc::O_NOFOLLOW).open(path)
}

/// Reads a journal.
pub(crate) fn read(path: &Path) -> Result<Resumed, Unreadable> {
    let io = |error: std::io::Error| match error.raw_os_error() {
        Some(libc::ELOOP) => Unreadable::Link {
            path: path.to_path_buf(),
        },
        _ => Unreadable::Io {
            path: path.to_path_buf(),
            error,
        },
    };
    let mut text = String::new();
    open_nofollow(OpenOptions::new().read(true), path)
        .and_then(|mut file| file.read_to_string(&mut text))
        .map_err(io)?;
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
    if header.run != header.run_id() {
        return Err(Unreadable::Edited {
            path: path.to_path_buf(),
            run: header.run,
        });
    }
    let mut resumed = Resumed {
        header,
        batches: BTreeMap::new(),
        made: BTreeMap::new(),
        complete: false,
        foreign: 0,
    };
    for text in lines {
        // A line cut short by a crash is the last one and is ignored: its
        // batch is re-sent, identically.
        let Ok(line) = serde_json::from_str::<Line>(text) else {
            continue;
        };
        if line.run != resumed.header.run {
            resumed.foreign += 1;
            continue;
        }
        match line {
            Line {
                batch: Some(batch),
                table: Some(table),
                records: Some(records),
                ..
            } => {
                resumed.batches.insert(batch, Written { table, records });
            }
            Line {
                table: Some(table),
                made: Some(made),
                ..
            } => {
                // From here on the table is another: what went into the
                // one before is not in it, and the run is not complete.
                resumed.batches.retain(|_, w| w.table != table);
                match made {
                    Some(made) => resumed.made.insert(table, made),
                    None => resumed.made.remove(&table),
                };
                resumed.complete = false;
            }
            Line { complete: true, .. } => resumed.complete = true,
            Line { .. } => {}
        }
    }
    Ok(resumed)
}

/// The header of the journal at `path` when it is one of this format whose
/// apply did not finish: a new journal there replaces it.
pub(crate) fn unfinished(path: &Path) -> Option<Header> {
    read(path).ok().filter(|r| !r.complete).map(|r| r.header)
}

/// The journal being written.
pub(crate) struct Journal {
    file: File,
    pub path: PathBuf,
    /// The run every line names.
    run: String,
}

impl Journal {
    /// Starts a journal for `header`'s run at `path`, with when each table
    /// was made (by table; `None`: the target does not say), replacing any
    /// earlier one. It is written under a new temporary name in the same
    /// folder (created new, so it follows no link), synced, and renamed
    /// into place: a link planted at `path` is replaced, never written
    /// through, and no reader sees half a header.
    pub(crate) fn create(
        path: &Path,
        header: &Header,
        made: &[Option<i64>],
    ) -> std::io::Result<Journal> {
        let folder = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(folder)?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "journal".into());
        remove_leftovers(folder, &name);
        let (temporary, file) = create_new_in(folder, &name)?;
        let mut journal = Journal {
            file,
            path: path.to_path_buf(),
            run: header.run.clone(),
        };
        let written = (|| {
            let mut line = serde_json::to_vec(header).map_err(std::io::Error::other)?;
            line.push(b'\n');
            journal.file.write_all(&line)?;
            for (table, made) in made.iter().enumerate() {
                let table = u16::try_from(table).map_err(std::io::Error::other)?;
                journal.made(table, *made)?;
            }
            journal.file.sync_all()?;
            std::fs::rename(&temporary, path)
        })();
        if let Err(error) = written {
            let _ = std::fs::remove_file(&temporary);
            return Err(error);
        }
        // The rename is durable once the folder is synced; a folder that
        // cannot be opened (no read permission) leaves that to the system.
        if let Ok(folder) = File::open(folder) {
            let _ = folder.sync_all();
        }
        Ok(journal)
    }

    /// Continues the journal of `header`'s run, read with [`read`]. A link
    /// planted at `path` since is refused, not followed.
    pub(crate) fn append(path: &Path, header: &Header) -> std::io::Result<Journal> {
        let mut file = open_nofollow(OpenOptions::new().append(true), path)?;
        // A crash may have cut the last line; start on a fresh one.
        file.write_all(b"\n")?;
        Ok(Journal {
            file,
            path: path.to_path_buf(),
            run: header.run.clone(),
        })
    }

    /// Records when `table` was made (ns; `None`: the target does not
    /// say): the batches journaled for it before this line are void.
    pub(crate) fn made(&mut self, table: u16, made: Option<i64>) -> std::io::Result<()> {
        let made = made.map_or_else(|| "null".to_string(), |m| m.to_string());
        let line = format!(
            "{{\"run\":\"{}\",\"table\":{table},\"made\":{made}}}\n",
            self.run
        );
        self.file.write_all(line.as_bytes())
    }

    /// Records an acknowledged batch: one `write` of one line.
    pub(crate) fn done(&mut self, batch: u64, table: u16, records: u64) -> std::io::Result<()> {
        let line = format!(
            "{{\"run\":\"{}\",\"batch\":{batch},\"table\":{table},\"records\":{records}}}\n",
            self.run
        );
        self.file.write_all(line.as_bytes())
    }

    /// Marks the apply complete and syncs the file.
    pub(crate) fn complete(&mut self) -> std::io::Result<()> {
        let line = format!("{{\"run\":\"{}\",\"complete\":true}}\n", self.run);
        self.file.write_all(line.as_bytes())?;
        self.file.sync_all()
    }

    /// Syncs what was written (on interruption).
    pub(crate) fn sync(&mut self) -> std::io::Result<()> {
        self.file.sync_all()
    }
}

/// Removes the temporary files of journals named `name` that applies
/// killed before their rename left in `folder`: `.NAME.` then 16 hex digits
/// then `.tmp`, exactly. The caller holds the journal's lock, so no other
/// apply is writing one. A link of that name is removed, not followed.
fn remove_leftovers(folder: &Path, name: &str) {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    let prefix = format!(".{name}.");
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(random) = file_name
            .to_str()
            .and_then(|n| n.strip_prefix(&prefix))
            .and_then(|n| n.strip_suffix(".tmp"))
        else {
            continue;
        };
        if random.len() == 16 && random.bytes().all(|b| b.is_ascii_hexdigit()) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// A new file `.NAME.RANDOM.tmp` in `folder`, created with `O_EXCL` (so
/// never through a link), and its path. The name is drawn again when taken.
fn create_new_in(folder: &Path, name: &str) -> std::io::Result<(PathBuf, File)> {
    let mut last = None;
    for _ in 0..16 {
        // std's hasher keys are random per process and per instance.
        let random = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        let path = folder.join(format!(".{name}.{random:016x}.tmp"));
        match OpenOptions::new().append(true).create_new(true).open(&path) {
            Ok(file) => return Ok((path, file)),
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => last = Some(error),
            Err(error) => return Err(error),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no free temporary name")))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn header() -> Header {
        let mut header = Header {
            outatime_journal: FORMAT,
            run: String::new(),
            target: "e2e".into(),
            identity: vec![
                ("region".into(), "eu-west-1".into()),
                ("database".into(), "db".into()),
            ],
            tables: vec!["t: multi metrics".into(), "u: single".into()],
            stream_digest: "blake3:00".into(),
            anchor: 1_700_000_000_000_000_000,
            version: 1_700_000_000_123,
            shard: "1/1".into(),
            pace: "burst".into(),
            cutoff: 0,
            batches: "blake3:11".into(),
        };
        header.run = header.run_id();
        header
    }

    /// A folder of this test's own, emptied.
    pub(crate) fn folder(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("outatime-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn done(resumed: &Resumed) -> HashSet<u64> {
        resumed.skipped(&[])
    }

    #[test]
    fn a_journal_reads_back_its_batches_and_ignores_a_torn_last_line() {
        let dir = folder("journal");
        let path = dir.join("j.jsonl");
        let mut journal = Journal::create(&path, &header(), &[Some(7), None]).unwrap();
        journal.done(0, 0, 100).unwrap();
        journal.done(2, 1, 40).unwrap();
        drop(journal);
        // A crash in the middle of a line.
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(b"{\"run\":\"").unwrap();
        drop(file);
        let resumed = read(&path).unwrap();
        assert_eq!(resumed.header, header());
        assert_eq!(done(&resumed), HashSet::from([0, 2]));
        assert_eq!(resumed.records(), 140);
        assert_eq!(resumed.of_table(1), (1, 40));
        assert_eq!(resumed.made, BTreeMap::from([(0, 7)]));
        assert!(!resumed.complete);
        let mut journal = Journal::append(&path, &header()).unwrap();
        journal.done(1, 0, 100).unwrap();
        journal.complete().unwrap();
        let resumed = read(&path).unwrap();
        assert_eq!(done(&resumed), HashSet::from([0, 1, 2]));
        assert!(resumed.complete);
        assert_eq!(resumed.skipped(&[0]), HashSet::from([2]));
        // The temporary file was renamed: only the journal is there. One a
        // killed apply left is removed by the next journal of that name.
        let names: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(names.len(), 1);
        let leftover = dir.join(".j.jsonl.0123456789abcdef.tmp");
        let unrelated = dir.join(".j.jsonl.notours.tmp");
        std::fs::write(&leftover, "{").unwrap();
        std::fs::write(&unrelated, "{").unwrap();
        let path2 = dir.join("j2.jsonl");
        drop(Journal::create(&path2, &header(), &[]).unwrap());
        assert!(leftover.exists(), "another journal's name");
        let mut journal = Journal::create(&path, &header(), &[Some(7), None]).unwrap();
        journal.done(0, 0, 100).unwrap();
        journal.done(2, 1, 40).unwrap();
        journal.done(1, 0, 100).unwrap();
        journal.complete().unwrap();
        drop(journal);
        assert!(!leftover.exists() && unrelated.exists());
        std::fs::remove_file(&unrelated).unwrap();
        std::fs::write(&path, "{\"outatime_journal\":2,\"target\":\"e2e\"}\n").unwrap();
        assert!(matches!(
            read(&path),
            Err(Unreadable::OtherFormat { format: 2, .. })
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

    #[test]
    fn lines_of_another_run_are_counted_apart_and_never_as_written() {
        let dir = folder("journal-foreign");
        let path = dir.join("j.jsonl");
        let mut journal = Journal::create(&path, &header(), &[None, None]).unwrap();
        journal.done(0, 0, 100).unwrap();
        drop(journal);
        // Another apply's lines, as two applies without a lock left them;
        // and lines of the format before, which name no run.
        let mut other = header();
        other.anchor += 3_600_000_000_000;
        other.run = other.run_id();
        assert_ne!(other.run, header().run);
        let mut theirs = Journal::append(&path, &other).unwrap();
        theirs.done(1, 0, 100).unwrap();
        theirs.done(2, 1, 100).unwrap();
        theirs.complete().unwrap();
        drop(theirs);
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(b"{\"batch\":3,\"records\":100}\n").unwrap();
        drop(file);
        let resumed = read(&path).unwrap();
        assert_eq!(done(&resumed), HashSet::from([0]));
        assert_eq!(resumed.foreign, 3);
        assert!(!resumed.complete);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_table_made_again_voids_its_earlier_batches_and_the_completion() {
        let dir = folder("journal-made");
        let path = dir.join("j.jsonl");
        let mut journal = Journal::create(&path, &header(), &[Some(5), Some(6)]).unwrap();
        journal.done(0, 0, 100).unwrap();
        journal.done(1, 1, 100).unwrap();
        journal.complete().unwrap();
        // A resume found table 0 made again at 9, and wrote one batch.
        journal.made(0, Some(9)).unwrap();
        journal.done(2, 0, 50).unwrap();
        drop(journal);
        let resumed = read(&path).unwrap();
        assert_eq!(done(&resumed), HashSet::from([1, 2]));
        assert_eq!(resumed.made, BTreeMap::from([(0, 9), (1, 6)]));
        assert!(!resumed.complete);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_edited_header_is_refused() {
        let dir = folder("journal-edited");
        let path = dir.join("j.jsonl");
        drop(Journal::create(&path, &header(), &[]).unwrap());
        let text = std::fs::read_to_string(&path).unwrap();
        let edited = text.replace("1700000000000000000", "1700000003600000000");
        assert_ne!(text, edited);
        std::fs::write(&path, edited).unwrap();
        assert!(matches!(read(&path), Err(Unreadable::Edited { .. })));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_link_at_the_journal_path_is_replaced_on_create_and_refused_on_append() {
        let dir = folder("journal-link");
        let victim = dir.join("victim.txt");
        std::fs::write(&victim, "precious").unwrap();
        let path = dir.join("j.jsonl");
        std::os::unix::fs::symlink(&victim, &path).unwrap();
        assert!(matches!(read(&path), Err(Unreadable::Link { .. })));
        assert!(Journal::append(&path, &header()).is_err());
        let mut journal = Journal::create(&path, &header(), &[]).unwrap();
        journal.done(0, 0, 1).unwrap();
        drop(journal);
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        assert!(std::fs::symlink_metadata(&path).unwrap().is_file());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
