//! Atomic file replacement: a save either fully happens or leaves the old file intact.

use std::io::Write;
use std::path::Path;

/// Writes `contents` to `path` by writing a temporary file in the same folder, syncing
/// it to disk and renaming it over the target. A crash or full disk mid-save never
/// leaves a half-written topology behind.
///
/// Saving changes the contents only, as an editor's save would: if `path` is a symbolic
/// link, its target is replaced and the link stays; an existing file keeps its mode; a
/// new file gets the ordinary mode for new files (0666 less the umask), not the 0600 of
/// a temporary file.
pub fn write_atomically(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let target = crate::policy::paths::resolve(Path::new("."), path)?;
    let folder = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let existing = std::fs::metadata(&target).ok().map(|m| m.permissions());
    let mut builder = tempfile::Builder::new();
    builder.prefix(".tributary-save-");
    #[cfg(unix)]
    if existing.is_none() {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut temp = builder.tempfile_in(folder)?;
    if let Some(permissions) = existing {
        temp.as_file().set_permissions(permissions)?;
    }
    temp.write_all(contents)?;
    temp.as_file().sync_all()?;
    temp.persist(&target).map_err(|e| e.error)?;
    // Make the rename itself durable.
    if let Ok(dir) = std::fs::File::open(folder) {
        let _ = dir.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_contents_and_leaves_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("t.ron");
        std::fs::write(&target, "old").unwrap();
        write_atomically(&target, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
        let entries: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(entries.len(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn a_saved_link_stays_a_link_and_modes_are_ordinary_or_kept() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.ron");
        std::fs::write(&real, "old").unwrap();
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).unwrap();
        let link = dir.path().join("link.ron");
        std::os::unix::fs::symlink("real.ron", &link).unwrap();
        write_atomically(&link, b"new").unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "new");
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&real), 0o640);
        // A new file gets what any new file in this process gets (0666 less the umask).
        let plain = dir.path().join("plain");
        std::fs::File::create(&plain).unwrap();
        let fresh = dir.path().join("fresh.ron");
        write_atomically(&fresh, b"x").unwrap();
        assert_eq!(mode(&fresh), mode(&plain));
    }

    #[test]
    fn missing_folder_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("no/such/folder/t.ron");
        assert!(write_atomically(&target, b"x").is_err());
    }
}
