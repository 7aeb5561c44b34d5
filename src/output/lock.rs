//! Advisory locks that keep two sprx processes from writing the same run directory or sweep
//! shard at once: their files would interleave. The lock is an `flock` on a small file that also
//! says who holds it (pid, host, start time, command line), so the process that is refused can
//! name the holder. The kernel releases the lock when its holder exits, even when killed; the
//! file is removed on a clean exit, and a stale one is simply locked again.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use fs4::fs_std::FileExt;

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process holds the lock.
    #[error(
        "{what} is in use by another sprx process ({holder}); wait for it to finish, or use another directory"
    )]
    Busy { what: String, holder: String },
    #[error("cannot lock {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A held lock; released (and its file removed) when dropped.
#[derive(Debug)]
pub struct Lock {
    // Held, not read: closing it releases the lock.
    _file: File,
    path: PathBuf,
}

impl Lock {
    /// Locks `path` (created if needed) on behalf of `what` (named in the refusal), or
    /// returns [`LockError::Busy`] with the holder's description at once; never waits.
    pub fn acquire(path: &Path, what: &str) -> Result<Lock, LockError> {
        let fail = |source| LockError::Io {
            path: path.to_path_buf(),
            source,
        };
        // A holder that removes the file on exit may do so between our open and our lock; the
        // lock would then be on a file nobody else sees. Retry until the locked file is the one
        // at `path`.
        for _ in 0..100 {
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(path)
                .map_err(fail)?;
            if !file.try_lock_exclusive().map_err(fail)? {
                return Err(LockError::Busy {
                    what: what.to_string(),
                    holder: holder_of(&mut file),
                });
            }
            if !same_file(&file, path) {
                continue;
            }
            file.set_len(0).map_err(fail)?;
            file.seek(SeekFrom::Start(0)).map_err(fail)?;
            file.write_all(describe_self().as_bytes()).map_err(fail)?;
            file.flush().map_err(fail)?;
            return Ok(Lock {
                _file: file,
                path: path.to_path_buf(),
            });
        }
        Err(fail(std::io::Error::other(
            "the lock file keeps being replaced",
        )))
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Removed while still locked, so that no other process can lock the old file after we
        // let go; failures leave a stale file, which is harmless.
        let _ = std::fs::remove_file(&self.path);
    }
}

/// What the holder wrote into the lock file; it may not have written yet.
fn holder_of(file: &mut File) -> String {
    let mut text = String::new();
    for _ in 0..20 {
        text.clear();
        if file.seek(SeekFrom::Start(0)).is_ok() && file.read_to_string(&mut text).is_ok() {
            let line = text.trim();
            if !line.is_empty() {
                return line.to_string();
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    "holder unknown".to_string()
}

/// This process: `pid 1234 on host, started 2026-05-01T12:00:00+01:00: sprx run …`.
fn describe_self() -> String {
    let host = super::hostname().unwrap_or_else(|| "an unknown host".to_string());
    let command: Vec<String> = std::env::args().collect();
    format!(
        "pid {} on {host}, started {}: {}\n",
        std::process::id(),
        chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
        command.join(" ")
    )
}

#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_: &File, path: &Path) -> bool {
    path.exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_naming_the_holder_and_freed_on_drop() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join(".sprx.lock");
        let lock = Lock::acquire(&path, "the directory").expect("the first lock");
        // flock locks belong to open file descriptions, so a second open in this process
        // conflicts just as another process would.
        match Lock::acquire(&path, "the directory") {
            Err(LockError::Busy { holder, .. }) => {
                assert!(
                    holder.contains(&format!("pid {}", std::process::id())),
                    "{holder}"
                );
            }
            other => panic!("expected Busy, got {other:?}"),
        }
        drop(lock);
        assert!(!path.exists());
        let again = Lock::acquire(&path, "the directory");
        assert!(again.is_ok(), "{again:?}");
    }
}
