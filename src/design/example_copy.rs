//! Opening an example as a copy with its data, in a scratch folder of the user's
//! (`<data dir>/examples/<name>-<n>/`), so that running it writes roll files, checkpoints
//! and renamed spool files there and never into the installed examples folder.
//!
//! What an example reads is found the way the safety policy finds it: every path its
//! nodes declare (`policy::declared`). Files and folders it reads are copied when they
//! exist beside the example; a folder it consumes (a spooling directory) is created empty
//! when the example ships none, so the copy runs as it is; the scripts a shell component
//! runs are copied too. Paths it writes need nothing: a run resolves them against the
//! copy's folder.

use std::path::{Component, Path, PathBuf};

use super::files::FilePlaces;
use crate::format;
use crate::policy::{self, Declared, PathUse};

/// Copies of one example are numbered up to this before giving up.
const MAX_COPIES: u32 = 10_000;
/// Folder levels and files copied at most per referenced folder: examples ship a few small
/// files, and the examples folder may be one the user pointed at.
const MAX_DEPTH: usize = 8;
const MAX_FILES: usize = 1000;

/// Makes a fresh copy of `example` and the data it reads, and returns the copied file.
/// Every failure is returned, in words naming the path, for the designer to report.
pub fn copy_example(places: &FilePlaces, example: &Path) -> Result<PathBuf, String> {
    let Some(data_dir) = &places.data_dir else {
        return Err(
            "there is no folder to copy examples into (set XDG_DATA_HOME or HOME)".to_string(),
        );
    };
    let (topology, text) = format::load_ron_with_text(example).map_err(|e| e.to_string())?;
    let root = data_dir.join("examples");
    std::fs::create_dir_all(&root)
        .map_err(|e| format!("{}: cannot create the folder: {e}", root.display()))?;
    let stem = example
        .file_stem()
        .map_or_else(|| "example".into(), |s| s.to_string_lossy().into_owned());
    let folder = fresh_folder(&root, &stem)?;
    let file_name = example
        .file_name()
        .map_or_else(|| PathBuf::from("example.ron"), PathBuf::from);
    let file = folder.join(file_name);
    write(&file, text.as_bytes())?;
    let source_dir = example
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut budget = MAX_FILES;
    for declared in policy::declared(&topology) {
        let (usage, raw) = match declared {
            Declared::Path { usage, raw, .. } => (usage, raw),
            // A shell component's scripts are its data too: every part of its command
            // that names a file beside the example comes with it.
            Declared::Exec { argv, .. } => {
                for part in argv {
                    if let Some(relative) = inside(&part)
                        && source_dir.join(&relative).is_file()
                    {
                        copy_tree(
                            &source_dir.join(&relative),
                            &folder.join(&relative),
                            0,
                            &mut budget,
                        )?;
                    }
                }
                continue;
            }
            Declared::Listen { .. } => continue,
        };
        let Some(relative) = inside(&raw) else {
            continue;
        };
        let (from, to) = (source_dir.join(&relative), folder.join(&relative));
        match usage {
            PathUse::ReadFile | PathUse::ConsumeFolder if from.exists() => {
                copy_tree(&from, &to, 0, &mut budget)?;
            }
            PathUse::ConsumeFolder => create_folder(&to)?,
            PathUse::ReadFile | PathUse::WriteFile | PathUse::WriteFolder => {}
        }
    }
    Ok(file)
}

/// `raw` as a path below the example's folder; `None` for absolute paths and paths that
/// climb out (`..`), which are not the example's own data.
fn inside(raw: &str) -> Option<PathBuf> {
    let path = Path::new(raw);
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::Normal(p) => out.push(p),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    (!out.as_os_str().is_empty()).then_some(out)
}

/// Creates `<root>/<stem>-<n>` for the first free `n`; creating (not checking) claims it,
/// so two windows opening the same example get two folders.
fn fresh_folder(root: &Path, stem: &str) -> Result<PathBuf, String> {
    for n in 1..=MAX_COPIES {
        let folder = root.join(format!("{stem}-{n}"));
        match std::fs::create_dir(&folder) {
            Ok(()) => return Ok(folder),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                return Err(format!(
                    "{}: cannot create the folder: {e}",
                    folder.display()
                ));
            }
        }
    }
    Err(format!(
        "{}: already holds {MAX_COPIES} copies of {stem}; remove some",
        root.display()
    ))
}

fn create_folder(folder: &Path) -> Result<(), String> {
    std::fs::create_dir_all(folder)
        .map_err(|e| format!("{}: cannot create the folder: {e}", folder.display()))
}

fn write(file: &Path, bytes: &[u8]) -> Result<(), String> {
    format::write_atomically(file, bytes)
        .map_err(|e| format!("{}: cannot write: {e}", file.display()))
}

/// Copies a file, or a folder and what is in it, as regular files; symbolic links and
/// special files are left out, so a copy never reaches beyond what the example ships.
fn copy_tree(from: &Path, to: &Path, depth: usize, budget: &mut usize) -> Result<(), String> {
    let read_error = |e: std::io::Error| format!("{}: cannot read: {e}", from.display());
    let kind = std::fs::symlink_metadata(from)
        .map_err(read_error)?
        .file_type();
    if kind.is_file() {
        if *budget == 0 {
            return Err(format!(
                "{}: more than {MAX_FILES} files to copy",
                from.display()
            ));
        }
        *budget -= 1;
        if let Some(parent) = to.parent() {
            create_folder(parent)?;
        }
        let bytes =
            format::read_limited(from, format::MAX_FILE_BYTES).map_err(|e| e.to_string())?;
        return write(to, &bytes);
    }
    if !kind.is_dir() || depth > MAX_DEPTH {
        return Ok(());
    }
    create_folder(to)?;
    let mut entries: Vec<PathBuf> = std::fs::read_dir(from)
        .map_err(read_error)?
        .map(|e| e.map(|e| e.path()).map_err(read_error))
        .collect::<Result<_, _>>()?;
    entries.sort();
    for entry in entries {
        if let Some(name) = entry.file_name() {
            copy_tree(&entry, &to.join(name), depth + 1, budget)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn places(dir: &Path) -> FilePlaces {
        FilePlaces {
            config_dir: None,
            examples_dir: Some(dir.join("examples")),
            data_dir: Some(dir.join("data")),
        }
    }

    /// An example that consumes `spool/` and writes `rolled/` (its nodes are enough:
    /// copying does not validate).
    fn spooling() -> String {
        use crate::model::{Node, Role, Topology};
        let mut t = Topology::new("spooling");
        t.add_node(Node::new("in", Role::Source, "spooldir").with_config("spoolDir", "spool"))
            .unwrap();
        t.add_node(
            Node::new("out", Role::Sink, "file_roll").with_config("sink.directory", "rolled"),
        )
        .unwrap();
        format::to_ron_string(&t)
    }

    #[test]
    fn an_example_is_copied_with_the_data_it_reads_into_a_fresh_folder() {
        let dir = tempfile::tempdir().unwrap();
        let examples = dir.path().join("examples");
        std::fs::create_dir_all(examples.join("spool/nested")).unwrap();
        std::fs::write(examples.join("spool/app.log"), "INFO up\n").unwrap();
        std::fs::write(examples.join("spool/nested/b.log"), "WARN\n").unwrap();
        let example = examples.join("spooling.ron");
        std::fs::write(&example, spooling()).unwrap();

        let copy = copy_example(&places(dir.path()), &example).unwrap();
        let folder = dir.path().join("data/examples/spooling-1");
        assert_eq!(copy, folder.join("spooling.ron"));
        assert_eq!(std::fs::read_to_string(&copy).unwrap(), spooling());
        let copied = |p: &str| std::fs::read_to_string(folder.join(p)).unwrap();
        assert_eq!(copied("spool/app.log"), "INFO up\n");
        assert_eq!(copied("spool/nested/b.log"), "WARN\n");
        // What the example writes is not made ahead of the run.
        assert!(!folder.join("rolled").exists());

        // A second copy never shares a folder with the first.
        let again = copy_example(&places(dir.path()), &example).unwrap();
        assert_eq!(
            again,
            dir.path().join("data/examples/spooling-2/spooling.ron")
        );
        // The examples folder is left as it was.
        let mut shipped: Vec<_> = std::fs::read_dir(&examples)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        shipped.sort();
        assert_eq!(shipped, ["spool", "spooling.ron"]);
    }

    #[test]
    fn a_consumed_folder_the_example_lacks_is_created_empty() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("examples")).unwrap();
        let example = dir.path().join("examples/spooling.ron");
        std::fs::write(&example, spooling()).unwrap();
        let copy = copy_example(&places(dir.path()), &example).unwrap();
        let spool = copy.parent().unwrap().join("spool");
        assert!(spool.is_dir());
        assert!(!dir.path().join("examples/spool").exists());
    }

    #[test]
    fn a_folder_that_cannot_be_made_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let example = dir.path().join("spooling.ron");
        std::fs::write(&example, spooling()).unwrap();
        // A file where the data folder should be.
        let blocked = dir.path().join("data");
        std::fs::write(&blocked, "not a folder").unwrap();
        let error = copy_example(&places(dir.path()), &example).unwrap_err();
        assert!(error.contains("cannot create the folder"), "{error}");
        assert!(error.contains(&blocked.display().to_string()), "{error}");
        let none = FilePlaces {
            data_dir: None,
            ..places(dir.path())
        };
        assert!(copy_example(&none, &example).is_err());
    }

    #[test]
    fn only_paths_below_the_example_count_as_its_data() {
        assert_eq!(inside("spool"), Some(PathBuf::from("spool")));
        assert_eq!(inside("./a/b.txt"), Some(PathBuf::from("a/b.txt")));
        assert_eq!(inside("../outside"), None);
        assert_eq!(inside("/etc/passwd"), None);
        assert_eq!(inside("."), None);
    }
}
