//! The one way outatime creates a file for the user: records of the file
//! target, reports, plans, plots, full diffs, capture's CSV, a formatted
//! scenario. The output folder is not outatime's alone (a cloned
//! repository can ship links in it, another run can share it), so:
//!
//! - the bytes go to a temporary file beside the destination,
//!   `.NAME.XXXXXX.partial`, with a random name and created exclusively
//!   (`O_CREAT|O_EXCL`: a link already at that name, even one that points
//!   nowhere, makes the creation fail and another name is tried; it is
//!   never followed);
//! - once complete and synced, it is renamed over the final name: a link
//!   there is replaced by the file, never written through, and a reader
//!   sees the old file or the new one, never a part;
//! - until then it is a [`Scratch`], registered only after it was made:
//!   removed when dropped (a failure) and on SIGINT or SIGTERM. A process
//!   killed outright leaves the temporary file, and the final name as it
//!   was.
//!
//! `tests/it/output_files.rs` holds the other modules to it: no file of
//! `src/` creates or renames a file by name any other way.

use std::fs::{File, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::scratch::Scratch;

/// A file being written under a temporary name beside its destination.
/// Dropped before [`OutputFile::commit`], it is removed and the
/// destination is left as it was.
#[derive(Debug)]
pub(crate) struct OutputFile {
    file: File,
    done: Complete,
}

/// An [`OutputFile`] written and synced, not yet renamed into place.
#[derive(Debug)]
pub(crate) struct Complete {
    temporary: Scratch,
    destination: PathBuf,
}

impl OutputFile {
    /// A new, empty temporary file in `destination`'s folder (which must
    /// exist), readable as a file `File::create` makes (0666 less the
    /// umask).
    pub(crate) fn create(destination: &Path) -> io::Result<OutputFile> {
        let folder = match destination.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let name = destination
            .file_name()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path names no file"))?;
        let mut prefix = std::ffi::OsString::from(".");
        prefix.push(name);
        prefix.push(".");
        // `make_in` tries random names until one is new; its errors are
        // the system's own (tempfile's other constructors add the random
        // name to the text, which would make messages differ run to run).
        let (file, path) = tempfile::Builder::new()
            .prefix(&prefix)
            .suffix(".partial")
            .make_in(folder, |path| {
                std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o666)
                    .open(path)
            })?
            .keep()
            .map_err(|e| e.error)?;
        Ok(OutputFile {
            file,
            done: Complete {
                // Made by this process just now: only now is it ours to remove.
                temporary: Scratch::file(path),
                destination: destination.to_path_buf(),
            },
        })
    }

    /// The temporary file's permissions set to `permissions` (on the open
    /// file, not by name).
    pub(crate) fn set_permissions(&self, permissions: Permissions) -> io::Result<()> {
        self.file.set_permissions(permissions)
    }

    /// Flushed and synced to disk; renamed by [`Complete::commit`].
    pub(crate) fn finish(mut self) -> io::Result<Complete> {
        self.file.flush()?;
        self.file.sync_all()?;
        Ok(self.done)
    }

    /// [`OutputFile::finish`], then [`Complete::commit`].
    pub(crate) fn commit(self) -> io::Result<()> {
        self.finish()?.commit()
    }
}

impl Write for OutputFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.file.write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

impl Complete {
    /// Renamed over the destination: a file or a link there is replaced.
    /// On failure the temporary file is removed.
    pub(crate) fn commit(self) -> io::Result<()> {
        std::fs::rename(self.temporary.path(), &self.destination)?;
        self.temporary.keep();
        Ok(())
    }
}

/// `bytes` as the whole of the file `destination`, the way every output
/// file is made (see the module's words).
pub(crate) fn write(destination: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = OutputFile::create(destination)?;
    file.write_all(bytes)?;
    file.commit()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{PermissionsExt, symlink};

    fn folder(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "outatime-output-file-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_link_at_the_final_name_is_replaced_and_what_it_points_at_is_untouched() {
        let dir = folder("link");
        std::fs::write(dir.join("victim"), "precious").unwrap();
        symlink(dir.join("victim"), dir.join("out.json")).unwrap();
        // A dangling link at a name a careless writer might have chosen.
        symlink(dir.join("nowhere"), dir.join(".out.json.partial")).unwrap();
        write(&dir.join("out.json"), b"{}\n").unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.join("victim")).unwrap(),
            "precious"
        );
        let meta = std::fs::symlink_metadata(dir.join("out.json")).unwrap();
        assert!(meta.file_type().is_file());
        assert_eq!(
            std::fs::read_to_string(dir.join("out.json")).unwrap(),
            "{}\n"
        );
        assert!(!dir.join("nowhere").exists());
        assert_eq!(names(&dir), [".out.json.partial", "out.json", "victim"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_file_dropped_before_its_commit_is_removed_and_the_old_one_stays() {
        let dir = folder("dropped");
        std::fs::write(dir.join("plan.yaml"), "old").unwrap();
        let mut file = OutputFile::create(&dir.join("plan.yaml")).unwrap();
        file.write_all(b"half of the new").unwrap();
        let partial = names(&dir);
        assert_eq!(partial.len(), 2);
        assert!(partial[0].starts_with(".plan.yaml.") && partial[0].ends_with(".partial"));
        drop(file);
        assert_eq!(names(&dir), ["plan.yaml"]);
        assert_eq!(
            std::fs::read_to_string(dir.join("plan.yaml")).unwrap(),
            "old"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_file_is_made_with_the_permissions_file_create_gives() {
        let dir = folder("mode");
        std::fs::File::create(dir.join("plain")).unwrap();
        write(&dir.join("made"), b"x").unwrap();
        let mode = |name: &str| {
            std::fs::metadata(dir.join(name))
                .unwrap()
                .permissions()
                .mode()
                & 0o777
        };
        assert_eq!(mode("made"), mode("plain"));
        // And one asked for, as `fmt` keeps a scenario's.
        let file = OutputFile::create(&dir.join("kept")).unwrap();
        file.set_permissions(Permissions::from_mode(0o600)).unwrap();
        file.commit().unwrap();
        assert_eq!(mode("kept"), 0o600);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_directory_at_the_final_name_is_an_error_and_leaves_nothing() {
        let dir = folder("dir");
        std::fs::create_dir(dir.join("report.json")).unwrap();
        assert!(write(&dir.join("report.json"), b"{}").is_err());
        assert_eq!(names(&dir), ["report.json"]);
        assert!(dir.join("report.json").is_dir());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
