//! Where a path in a topology really points: made absolute against the topology's
//! folder, `.` and `..` applied, and every symbolic link followed — dangling links
//! included, because a link to a file that does not exist yet is exactly how a write
//! escapes a folder (the open would create the link's target).
//!
//! Opening goes through [`open_for_write`] / [`open_for_read`], which refuse a symbolic
//! link as the final component (`O_NOFOLLOW`), so a link swapped in after the check
//! cannot redirect the open.

use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Component, Path, PathBuf};

/// Links followed while resolving one path before giving up (Linux's own limit is 40).
pub const MAX_LINKS: usize = 40;

/// The real location of `raw` (relative paths against `base`): every existing symbolic
/// link along the way is followed, including a dangling one at the end. Components that
/// do not exist yet are kept as written. Never fails on a missing file; fails on a link
/// loop or an unreadable link.
pub fn resolve(base: &Path, raw: &Path) -> io::Result<PathBuf> {
    let start = absolute(&base.join(raw))?;
    // Components still to walk, last one first, so a link's target can be pushed in
    // front of what remains.
    let mut pending: Vec<OsString> = Vec::new();
    push_components(&mut pending, &start);
    let mut out = PathBuf::from("/");
    let mut links = 0usize;
    // Every component is looked at, even after a missing one: `missing/../link/x`
    // climbs back out of the missing part, and `link` must still be followed.
    while let Some(part) = pending.pop() {
        if part == ".." {
            out.pop();
            continue;
        }
        if part == "." || part.is_empty() {
            continue;
        }
        let candidate = out.join(&part);
        match std::fs::symlink_metadata(&candidate) {
            Ok(meta) if meta.file_type().is_symlink() => {
                links += 1;
                if links > MAX_LINKS {
                    return Err(io::Error::other(format!(
                        "{}: more than {MAX_LINKS} symbolic links (a loop?)",
                        start.display()
                    )));
                }
                let target = std::fs::read_link(&candidate)?;
                if target.is_absolute() {
                    out = PathBuf::from("/");
                }
                push_components(&mut pending, &target);
            }
            Ok(_) => out = candidate,
            Err(e) if e.kind() == io::ErrorKind::NotFound => out = candidate,
            // Below a file (`file.txt/x`): nothing can be a link there either.
            Err(e) if e.raw_os_error() == Some(libc::ENOTDIR) => out = candidate,
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// Pushes `path`'s components so that the first is popped first.
fn push_components(pending: &mut Vec<OsString>, path: &Path) {
    let parts: Vec<OsString> = path
        .components()
        .filter_map(|c| match c {
            Component::RootDir | Component::Prefix(_) => None,
            Component::CurDir => Some(OsString::from(".")),
            Component::ParentDir => Some(OsString::from("..")),
            Component::Normal(n) => Some(n.to_os_string()),
        })
        .collect();
    pending.extend(parts.into_iter().rev());
}

/// `path` made absolute against the current folder (no file system access beyond that).
pub fn absolute(path: &Path) -> io::Result<PathBuf> {
    if path.is_absolute() {
        Ok(path.to_path_buf())
    } else {
        Ok(std::env::current_dir()?.join(path))
    }
}

/// True when `path` is `folder` or lies below it. Both must be resolved already.
pub fn is_within(path: &Path, folder: &Path) -> bool {
    path.starts_with(folder)
}

/// Opens `path` for appending, creating it (mode 0644 less the umask) if needed, and
/// refusing a symbolic link as its last component.
pub fn open_for_append(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    no_follow(&mut options);
    options.open(path)
}

/// Opens `path` for writing from the start, creating or truncating it, refusing a
/// symbolic link as its last component.
pub fn open_for_write(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.create(true).write(true).truncate(true);
    no_follow(&mut options);
    options.open(path)
}

/// Opens `path` for writing without truncating it, creating it (mode 0644 less the umask)
/// if needed, and refusing a symbolic link as its last component: for lock files, which
/// are opened only to hold a lock, so a planted link must not create or lock a file
/// elsewhere.
pub fn open_for_lock(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.create(true).write(true).truncate(false);
    no_follow(&mut options);
    options.open(path)
}

/// Opens `path` for reading, refusing a symbolic link as its last component and
/// anything that is not a regular file: a FIFO or a device shipped in an archive would
/// otherwise block the open or never end. The open itself does not wait (`O_NONBLOCK`,
/// which changes nothing for regular files).
pub fn open_for_read(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true);
    no_follow(&mut options);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Replaces the flags `no_follow` set, so both are named here.
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let file = options.open(path)?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is not a regular file", path.display()),
        ));
    }
    Ok(file)
}

#[cfg(unix)]
fn no_follow(options: &mut OpenOptions) {
    use std::os::unix::fs::OpenOptionsExt;
    options.custom_flags(libc::O_NOFOLLOW);
}

#[cfg(not(unix))]
fn no_follow(_options: &mut OpenOptions) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_resolve_against_the_base_and_dots_apply() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().canonicalize().unwrap();
        let got = resolve(&base, Path::new("a/./b/../c.txt")).unwrap();
        assert_eq!(got, base.join("a/c.txt"));
    }

    #[cfg(unix)]
    #[test]
    fn dangling_links_are_followed_to_where_a_write_would_land() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().canonicalize().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let target = outside.path().canonicalize().unwrap().join("not-yet.txt");
        std::os::unix::fs::symlink(&target, base.join("link.txt")).unwrap();
        assert_eq!(resolve(&base, Path::new("link.txt")).unwrap(), target);
    }

    #[cfg(unix)]
    #[test]
    fn links_in_the_middle_and_relative_links_are_followed() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().canonicalize().unwrap();
        std::fs::create_dir(base.join("real")).unwrap();
        std::os::unix::fs::symlink("real", base.join("alias")).unwrap();
        std::os::unix::fs::symlink("../..", base.join("real/up")).unwrap();
        assert_eq!(
            resolve(&base, Path::new("alias/f")).unwrap(),
            base.join("real/f")
        );
        let up = resolve(&base, Path::new("alias/up/x")).unwrap();
        assert_eq!(up, base.parent().unwrap().join("x"));
    }

    #[cfg(unix)]
    #[test]
    fn climbing_out_of_a_missing_folder_still_follows_the_link_after_it() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().canonicalize().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let outside = outside.path().canonicalize().unwrap();
        std::os::unix::fs::symlink(&outside, base.join("link")).unwrap();
        for raw in ["nope/../link/x", "a/b/../../link/x", "nope/./../link/x"] {
            assert_eq!(
                resolve(&base, Path::new(raw)).unwrap(),
                outside.join("x"),
                "{raw}"
            );
        }
    }

    #[cfg(unix)]
    #[test]
    fn link_loops_are_an_error_not_a_hang() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().canonicalize().unwrap();
        std::os::unix::fs::symlink("b", base.join("a")).unwrap();
        std::os::unix::fs::symlink("a", base.join("b")).unwrap();
        assert!(resolve(&base, Path::new("a/x")).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn reading_refuses_a_fifo_without_waiting_for_a_writer() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("input.txt");
        let c_path = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path; mkfifo has no other preconditions.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
        let err = open_for_read(&fifo).unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");
        assert!(open_for_read(dir.path()).is_err(), "a folder is not a file");
    }

    #[cfg(unix)]
    #[test]
    fn opening_refuses_a_link_as_the_last_component() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.txt");
        std::fs::write(&real, "x").unwrap();
        let link = dir.path().join("link.txt");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        assert!(open_for_append(&link).is_err());
        assert!(open_for_read(&link).is_err());
        assert!(open_for_append(&real).is_ok());
    }

    #[cfg(unix)]
    #[test]
    fn a_lock_file_is_created_or_kept_but_never_reached_through_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let lock = dir.path().join("in_use.lock");
        drop(open_for_lock(&lock).unwrap());
        std::fs::write(&lock, "kept").unwrap();
        drop(open_for_lock(&lock).unwrap());
        assert_eq!(
            std::fs::read_to_string(&lock).unwrap(),
            "kept",
            "not truncated"
        );
        let outside = tempfile::tempdir().unwrap();
        let target = outside.path().join("planted");
        let link = dir.path().join("link.lock");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(open_for_lock(&link).is_err());
        assert!(!target.exists(), "the link's target was not created");
    }
}
