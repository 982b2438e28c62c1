//! One apply at a time writes a journal: an exclusive `flock` on
//! `<journal>.lock`, taken before the journal is read or written and held
//! until the apply ends. The kernel releases it however the process ends
//! (a kill included), so a lock is never left behind; the file itself
//! stays, holding the name of the last apply that took it. A second apply
//! on the same journal is refused at once, naming the holder.
//!
//! `flock` is advisory, and on some network file systems (NFS) it may not
//! hold between machines: give applies there journals of their own.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// A journal's lock, held until dropped.
#[derive(Debug)]
pub(crate) struct Lock {
    /// The lock lives as long as this descriptor.
    _file: File,
}

/// Who holds a journal: what the apply holding its lock wrote into it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub(crate) struct Holder {
    pub pid: u32,
    pub host: String,
    /// When it took the lock, RFC 3339.
    pub started: String,
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "pid {} on host {}, started {}",
            self.pid, self.host, self.started
        )
    }
}

/// Why a journal's lock was not taken.
#[derive(Debug)]
pub(crate) enum LockError {
    /// Another apply holds it; `None` when it has not written its name yet
    /// (or the file holds something else).
    Held(Option<Holder>),
    /// The lock file cannot be opened or locked: a link planted at its
    /// path (never followed), no permission, a folder that cannot be made.
    Io {
        lock: PathBuf,
        error: std::io::Error,
    },
}

impl Lock {
    /// Takes the lock of the journal at `journal` for this process, which
    /// started at `started` (wall clock, ns), and writes its name into it.
    pub(crate) fn take(journal: &Path, started: i64) -> Result<Lock, LockError> {
        let mut path = journal.as_os_str().to_owned();
        path.push(".lock");
        let lock = PathBuf::from(path);
        let io = |error: std::io::Error| LockError::Io {
            lock: lock.clone(),
            error,
        };
        if let Some(folder) = lock.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(folder).map_err(io)?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o644)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&lock)
            .map_err(io)?;
        if !file.metadata().map_err(io)?.is_file() {
            return Err(io(std::io::Error::other("not a regular file")));
        }
        // SAFETY: flock on a descriptor this function owns; it reads no
        // memory of ours.
        let locked = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if locked != 0 {
            let error = std::io::Error::last_os_error();
            if error.raw_os_error() != Some(libc::EWOULDBLOCK) {
                return Err(io(error));
            }
            let mut text = String::new();
            let holder = file
                .read_to_string(&mut text)
                .ok()
                .and_then(|_| serde_json::from_str(text.trim()).ok());
            return Err(LockError::Held(holder));
        }
        let holder = Holder {
            pid: std::process::id(),
            host: host_name(),
            started: crate::record::time_string(started),
        };
        let mut line = serde_json::to_vec(&holder).map_err(|e| io(std::io::Error::other(e)))?;
        line.push(b'\n');
        file.set_len(0).map_err(io)?;
        std::os::unix::fs::FileExt::write_all_at(&file, &line, 0).map_err(io)?;
        file.flush().map_err(io)?;
        Ok(Lock { _file: file })
    }
}

/// This machine's name, as `hostname` prints it; `unknown` when it cannot
/// be read.
fn host_name() -> String {
    let mut buffer = [0u8; 256];
    // SAFETY: gethostname writes at most `len` bytes into the buffer.
    let status = unsafe { libc::gethostname(buffer.as_mut_ptr().cast(), buffer.len()) };
    if status != 0 {
        return "unknown".into();
    }
    let end = buffer.iter().position(|&b| b == 0).unwrap_or(buffer.len());
    match String::from_utf8_lossy(&buffer[..end]).into_owned() {
        name if name.is_empty() => "unknown".into(),
        name => name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_naming_the_first_and_taken_once_it_is_dropped() {
        let dir = crate::apply::journal::tests::folder("journal-lock");
        let journal = dir.join("j.jsonl");
        let first = Lock::take(&journal, 1_700_000_000_000_000_000).unwrap();
        match Lock::take(&journal, 0) {
            Err(LockError::Held(Some(holder))) => {
                assert_eq!(holder.pid, std::process::id());
                assert_eq!(holder.started, "2023-11-14T22:13:20.000Z");
                assert!(
                    holder
                        .to_string()
                        .starts_with(&format!("pid {} on host ", std::process::id()))
                );
            }
            other => panic!("{other:?}"),
        }
        drop(first);
        let again = Lock::take(&journal, 0);
        assert!(again.is_ok(), "{again:?}");
        drop(again);
        // A link at the lock's path is not followed.
        let victim = dir.join("victim");
        std::fs::write(&victim, "precious").unwrap();
        let other = dir.join("k.jsonl");
        std::os::unix::fs::symlink(&victim, dir.join("k.jsonl.lock")).unwrap();
        assert!(matches!(Lock::take(&other, 0), Err(LockError::Io { .. })));
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
