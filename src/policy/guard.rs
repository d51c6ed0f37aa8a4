//! Places *inside* the topology's folder that still need the user's say-so. The folder
//! is where a shared topology lives, but it may also be a git checkout or the user's
//! Downloads: appending to `.git/config` or a hook runs commands at the next `git
//! status`, and consuming the folder itself would rename the user's own files — the
//! topology included. A run may use the rest of its folder freely.

use std::path::{Component, Path};

use crate::components::PathUse;

/// Why a path inside the topology's folder is guarded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Guard {
    /// A hidden file or folder (`.git`, `.ssh`, `.bashrc`): tools act on what they find
    /// there, so writing or consuming it needs explicit permission.
    Hidden(String),
    /// Consuming the topology's folder itself renames every file in it.
    WholeFolder,
    /// The topology file itself would be written or renamed: never allowed.
    TopologyFile,
}

impl Guard {
    /// Can the user allow it (`--allow`, the prompt)? Destroying the topology file
    /// being run cannot be allowed.
    pub fn is_grantable(&self) -> bool {
        !matches!(self, Guard::TopologyFile)
    }

    /// A few words for the designer's prompt.
    pub fn label(&self) -> &'static str {
        match self {
            Guard::Hidden(_) => "a hidden place",
            Guard::WholeFolder => "the topology's own folder",
            Guard::TopologyFile => "the topology file itself",
        }
    }

    pub fn reason(&self) -> String {
        match self {
            Guard::Hidden(name) => {
                format!("{name} is hidden (like .git or .ssh): tools act on what they find there")
            }
            Guard::WholeFolder => {
                "it is the topology's own folder: every file in it would be renamed".into()
            }
            Guard::TopologyFile => "it would change the topology file being run".into(),
        }
    }
}

/// The guard on `resolved` (inside `base`, both resolved), if any. Reading an ordinary
/// file is never guarded; hidden paths are guarded for every use, since reading
/// `.ssh/id_rsa` into a sink is as bad as writing it.
pub fn guard(
    base: &Path,
    resolved: &Path,
    usage: PathUse,
    topology: Option<&Path>,
) -> Option<Guard> {
    if let Some(file) = topology {
        let hits = match usage {
            PathUse::WriteFile => resolved == file,
            PathUse::ConsumeFolder | PathUse::WriteFolder => file.starts_with(resolved),
            PathUse::ReadFile => false,
        };
        // A folder writer only creates its own files; only a consumer renames them all.
        let hits = hits && !(usage == PathUse::WriteFolder && resolved != file);
        if hits {
            return Some(Guard::TopologyFile);
        }
    }
    let below = resolved.strip_prefix(base).ok()?;
    for part in below.components() {
        if let Component::Normal(name) = part {
            let name = name.to_string_lossy();
            if name.starts_with('.') {
                return Some(Guard::Hidden(name.into_owned()));
            }
        }
    }
    if usage == PathUse::ConsumeFolder && below.as_os_str().is_empty() {
        return Some(Guard::WholeFolder);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "/home/ana/designs";

    fn g(rel: &str, usage: PathUse) -> Option<Guard> {
        let base = Path::new(BASE);
        let topology = base.join("shared.ron");
        guard(base, &base.join(rel), usage, Some(&topology))
    }

    #[test]
    fn ordinary_paths_inside_the_folder_are_free() {
        assert_eq!(g("out/words.txt", PathUse::WriteFile), None);
        assert_eq!(g("spool", PathUse::ConsumeFolder), None);
        assert_eq!(g("input.txt", PathUse::ReadFile), None);
        assert_eq!(g("", PathUse::WriteFolder), None);
    }

    #[test]
    fn hidden_paths_are_guarded_for_every_use() {
        for usage in [PathUse::ReadFile, PathUse::WriteFile, PathUse::WriteFolder] {
            assert_eq!(g(".git/config", usage), Some(Guard::Hidden(".git".into())));
        }
        assert!(g("a/.ssh", PathUse::ConsumeFolder).is_some());
    }

    #[test]
    fn consuming_the_folder_or_touching_the_topology_file_is_guarded() {
        assert_eq!(g("", PathUse::ConsumeFolder), Some(Guard::TopologyFile));
        assert_eq!(
            g("shared.ron", PathUse::WriteFile),
            Some(Guard::TopologyFile)
        );
        assert!(!Guard::TopologyFile.is_grantable());
        let base = Path::new(BASE);
        assert_eq!(
            guard(base, base, PathUse::ConsumeFolder, None),
            Some(Guard::WholeFolder)
        );
    }
}
