//! Where a Flux `include` may come from: the folder of the file being imported, or a
//! folder the user allowed (`tributary import --allow DIR`), judged after `..` and
//! symbolic links are resolved. A file from someone else must not be able to pull
//! `../secret.yml` or `/etc/passwd` into the imported topology (and from there into a
//! saved RON file or an export), so an include outside is refused before it is read.

use std::path::{Path, PathBuf};

use super::super::interop::ImportError;

/// The folders includes may be read from, canonical (no `..`, no symbolic links).
pub(super) struct Scope {
    roots: Vec<PathBuf>,
}

impl Scope {
    /// The imported file's own folder plus `allowed`. A folder that cannot be resolved
    /// (it does not exist) is an error naming it, rather than silently allowing nothing.
    pub(super) fn new(top: &Path, allowed: &[PathBuf]) -> Result<Self, ImportError> {
        let own = folder_of(top);
        let own = std::fs::canonicalize(own).map_err(|e| ImportError::io(own, e))?;
        let mut roots = vec![own];
        for dir in allowed {
            let canonical = std::fs::canonicalize(dir).map_err(|e| {
                ImportError::invalid(
                    dir,
                    vec![format!("cannot allow this folder for includes: {e}")],
                )
            })?;
            roots.push(canonical);
        }
        Ok(Self { roots })
    }

    /// Whether a canonical path lies in one of the folders.
    pub(super) fn contains(&self, canonical: &Path) -> bool {
        self.roots.iter().any(|root| canonical.starts_with(root))
    }

    /// The folders, for messages.
    pub(super) fn describe(&self) -> String {
        let names: Vec<String> = self.roots.iter().map(|r| r.display().to_string()).collect();
        names.join(", ")
    }
}

/// An include found on disk: the path as resolved from the including file (for
/// messages) and its canonical form (for the scope check, the visited set and reading).
pub(super) struct Found {
    pub(super) shown: PathBuf,
    pub(super) canonical: PathBuf,
}

/// Finds an included file inside `scope`, or explains why not. Plain files are relative
/// to the including file; classpath resources (`resource: true`, e.g.
/// `/configs/shell_test.yaml`) are looked for beside it and in its parent folders, then by
/// file name alone, then by the flattened name `PREFIX__name` used when resource trees are
/// copied into one folder. Candidates outside the scope are skipped; if only such
/// candidates exist, the refusal names the first one and says how to allow it.
pub(super) fn find(
    including: &Path,
    file: &str,
    resource: bool,
    scope: &Scope,
) -> Result<Found, ImportError> {
    let mut outside: Option<Found> = None;
    for shown in candidates(including, file, resource) {
        // Metadata only: nothing is read from a file before it is known to be inside.
        if !shown.is_file() {
            continue;
        }
        let Ok(canonical) = std::fs::canonicalize(&shown) else {
            continue;
        };
        if scope.contains(&canonical) {
            return Ok(Found { shown, canonical });
        }
        outside.get_or_insert(Found { shown, canonical });
    }
    let problem = match outside {
        Some(found) => {
            let folder = folder_of(&found.canonical);
            format!(
                "include '{file}' resolves to {}, outside the folders includes are read from ({}), so it was not read; if you trust it, import with `--allow {}`",
                found.canonical.display(),
                scope.describe(),
                folder.display()
            )
        }
        None if resource => format!(
            "include '{file}' not found (a classpath resource; Tributary looks for it beside this file)"
        ),
        None => format!(
            "include '{file}' not found (relative paths are resolved from this file's folder)"
        ),
    };
    Err(ImportError::invalid(including, vec![problem]))
}

/// The folder a file is in; `.` for a bare file name.
fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

fn candidates(including: &Path, file: &str, resource: bool) -> Vec<PathBuf> {
    let dir = folder_of(including);
    if !resource {
        return vec![dir.join(file)];
    }
    let relative = file.trim_start_matches('/');
    let mut out: Vec<PathBuf> = dir.ancestors().map(|f| f.join(relative)).collect();
    let Some(name) = Path::new(relative).file_name().and_then(|n| n.to_str()) else {
        return out;
    };
    out.push(dir.join(name));
    let prefix = including
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|stem| stem.split_once("__"))
        .map(|(prefix, _)| prefix);
    if let Some(prefix) = prefix {
        out.push(dir.join(format!("{prefix}__{name}")));
    }
    out
}
