//! Where a file channel keeps its files, and the folder-level operations on them: the
//! names (`checkpoint`, `log-<n>`, `in_use.lock`), listing the logs in order, the
//! exclusive lock that keeps two channels (in this run or another process) out of one
//! folder, and fsyncing a folder so a create or rename is durable.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use super::FileChannelError;
use crate::policy;

/// The checkpoint's file name in `checkpointDir` (written as `checkpoint.tmp`, then renamed).
pub(super) const CHECKPOINT_FILE: &str = "checkpoint";
/// The lock file's name in both folders.
pub(super) const LOCK_FILE: &str = "in_use.lock";
/// Log files are named this prefix and their number.
const LOG_PREFIX: &str = "log-";

/// The path of log file number `index` in `dir`.
pub(super) fn log_path(dir: &Path, index: u64) -> PathBuf {
    dir.join(format!("{LOG_PREFIX}{index}"))
}

/// Takes the channel's lock in `dir`.
pub(super) fn lock_folder(channel: &str, dir: &Path) -> Result<File, FileChannelError> {
    let path = dir.join(LOCK_FILE);
    lock_exclusive(&path).map_err(|e| match e {
        LockError::Busy => FileChannelError::InUse {
            channel: channel.to_string(),
            path: dir.to_path_buf(),
        },
        LockError::Io(source) => FileChannelError::Io {
            channel: channel.to_string(),
            path,
            source,
        },
    })
}

/// Whether two existing folders are the same one (a channel may keep its checkpoint and
/// its log in one folder; it must not then lock itself out).
pub(super) fn same_folder(a: &Path, b: &Path) -> bool {
    match (fs::canonicalize(a), fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// Every log file in `dir` with its number, lowest first.
pub(super) fn list_logs(dir: &Path) -> std::io::Result<Vec<(u64, PathBuf)>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(index) = name.strip_prefix(LOG_PREFIX).and_then(|n| n.parse().ok()) {
            out.push((index, entry.path()));
        }
    }
    out.sort();
    Ok(out)
}

/// Fsyncs a folder.
pub(super) fn sync_dir(dir: &Path) {
    // Makes a create/rename durable; best effort (not all file systems allow it).
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

enum LockError {
    Busy,
    Io(std::io::Error),
}

/// Takes an exclusive advisory lock so two channels never share one log. The OS releases
/// it when the process dies, so a crash never leaves a stale lock behind. A symbolic link
/// planted as the lock file is refused (it could create or lock a file outside the folder).
fn lock_exclusive(path: &Path) -> Result<File, LockError> {
    use std::os::fd::AsRawFd;
    let file = policy::paths::open_for_lock(path).map_err(LockError::Io)?;
    // SAFETY: flock on a valid, open file descriptor owned by `file`.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc == 0 {
        Ok(file)
    } else {
        let err = std::io::Error::last_os_error();
        if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
            Err(LockError::Busy)
        } else {
            Err(LockError::Io(err))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flume::file_channel::FileChannel;
    use crate::flume::file_channel::test_support::config;

    #[test]
    fn a_lock_file_planted_as_a_link_is_refused_and_its_target_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let target = outside.path().join("victim");
        std::fs::create_dir_all(dir.path().join("data")).unwrap();
        std::os::unix::fs::symlink(&target, dir.path().join("data").join(LOCK_FILE)).unwrap();
        let err = FileChannel::open("fc", config(dir.path())).err().unwrap();
        assert!(
            matches!(&err, FileChannelError::Io { path, .. } if path.ends_with(LOCK_FILE)),
            "{err}"
        );
        assert!(!target.exists(), "the link's target was not created");
    }
}
