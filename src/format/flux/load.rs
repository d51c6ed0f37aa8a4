//! Reading a Flux file as Flux does before building anything: placeholders substituted,
//! then `includes` merged in, within a budget.
//!
//! A file from someone else decides which files are read, so the whole import shares one
//! budget: includes resolve only inside the allowed folders (`includes.rs`); each file is
//! read at most once, and a file included again (by both sides of a diamond, or ten times
//! over) is merged only where it is first met, since its definitions are already in;
//! at most [`MAX_INCLUDE_FILES`] files and [`MAX_INCLUDE_BYTES`] bytes in all, at most
//! [`MAX_INCLUDE_DEPTH`] levels deep; cycles are refused. (Storm's Flux follows only one
//! level of includes, so it has no rule of its own for repeats.)

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde_norway::{Mapping, Value as Yaml};

use super::super::interop::ImportError;
use super::super::limited::show_size;
use super::super::{ReadProblem, read_text};
use super::includes::{self, Scope};
use super::merge::merge;
use super::nesting;
use super::substitute::Filter;

/// Deepest chain of includes followed; real files use one or two levels.
pub const MAX_INCLUDE_DEPTH: usize = 16;

/// Most files one Flux import reads, the imported file included; real topologies use a
/// handful.
pub const MAX_INCLUDE_FILES: usize = 64;

/// Most bytes of YAML one Flux import parses (8 MiB), summed over the imported file and
/// its includes after `${…}` substitution, so neither includes nor substitution can
/// multiply it. Lower than [`crate::format::MAX_FILE_BYTES`] because parsed YAML takes
/// up to about 80 times its text in memory (a file of tiny mappings); real Flux files
/// are kilobytes.
pub const MAX_INCLUDE_BYTES: u64 = 8 * 1024 * 1024;

/// Reads a Flux file with its includes merged in. Includes may come from the file's own
/// folder and from `allowed_dirs`.
pub fn load(
    path: &Path,
    filter: &Filter,
    allowed_dirs: &[PathBuf],
) -> Result<Mapping, ImportError> {
    let canonical = std::fs::canonicalize(path).map_err(|e| ImportError::io(path, e))?;
    let scope = Scope::new(path, allowed_dirs)?;
    let mut loader = Loader {
        filter,
        scope,
        stack: Vec::new(),
        visited: HashSet::new(),
        bytes: 0,
    };
    let doc = loader.load_file(path, canonical)?;
    // The top-level file is never skipped: nothing was visited before it.
    Ok(doc.unwrap_or_default())
}

/// Parses YAML text into the top-level mapping of a Flux file, after checking that its
/// nesting is shallow enough to parse in linear time.
pub fn parse(path: &Path, text: &str) -> Result<Mapping, ImportError> {
    nesting::check(text).map_err(|(at, message)| ImportError::Syntax {
        path: path.to_path_buf(),
        line: at.line,
        col: at.col,
        message,
    })?;
    let yaml: Yaml = serde_norway::from_str(text).map_err(|e| {
        let (line, col) = e
            .location()
            .map_or((1, 1), |l| (l.line().max(1), l.column().max(1)));
        ImportError::Syntax {
            path: path.to_path_buf(),
            line,
            col,
            message: e.to_string(),
        }
    })?;
    match yaml {
        Yaml::Mapping(m) => Ok(m),
        Yaml::Null => Err(ImportError::invalid(
            path,
            vec!["the file is empty; a Flux topology has name, spouts, bolts and streams".into()],
        )),
        _ => Err(ImportError::invalid(
            path,
            vec!["a Flux file is a mapping with name, spouts, bolts and streams".into()],
        )),
    }
}

fn over_budget(path: &Path) -> ImportError {
    ImportError::invalid(
        path,
        vec![format!(
            "the import would parse more than {} of YAML (the imported file and its includes together, after `${{…}}` substitution); Tributary stops there",
            show_size(MAX_INCLUDE_BYTES)
        )],
    )
}

/// One import's state: what may be read, what has been, and how much.
struct Loader<'a> {
    filter: &'a Filter,
    scope: Scope,
    /// The chain of files being loaded (canonical), to name a cycle.
    stack: Vec<PathBuf>,
    /// Every file read so far in this import (canonical).
    visited: HashSet<PathBuf>,
    /// Bytes of YAML parsed so far in this import (after substitution).
    bytes: u64,
}

impl Loader<'_> {
    /// Loads one file and its includes; `None` when it was already merged elsewhere in
    /// this import. `shown` names it in messages; `canonical` is what is read.
    fn load_file(
        &mut self,
        shown: &Path,
        canonical: PathBuf,
    ) -> Result<Option<Mapping>, ImportError> {
        if self.stack.contains(&canonical) {
            let chain: Vec<String> = self
                .stack
                .iter()
                .chain(std::iter::once(&canonical))
                .map(|p| p.display().to_string())
                .collect();
            return Err(ImportError::invalid(
                shown,
                vec![format!("includes form a cycle: {}", chain.join(" -> "))],
            ));
        }
        if self.visited.contains(&canonical) {
            return Ok(None);
        }
        if self.stack.len() >= MAX_INCLUDE_DEPTH {
            return Err(ImportError::invalid(
                shown,
                vec![format!(
                    "includes nest deeper than {MAX_INCLUDE_DEPTH} levels"
                )],
            ));
        }
        if self.visited.len() >= MAX_INCLUDE_FILES {
            return Err(ImportError::invalid(
                shown,
                vec![format!(
                    "the import would read more than {MAX_INCLUDE_FILES} files (the imported file and its includes); Tributary stops there"
                )],
            ));
        }
        let left = MAX_INCLUDE_BYTES.saturating_sub(self.bytes);
        let raw = read_text(&canonical, left).map_err(|mut e| {
            e.path = shown.to_path_buf();
            match e.problem {
                ReadProblem::TooBig { .. } => over_budget(shown),
                _ => e.into(),
            }
        })?;
        self.visited.insert(canonical.clone());
        let text = self
            .filter
            .apply(&raw, left)
            .ok_or_else(|| over_budget(shown))?;
        drop(raw);
        self.bytes += text.len() as u64;
        let mut doc = parse(shown, &text)?;
        drop(text);
        let Some(includes) = doc.remove("includes") else {
            return Ok(Some(doc));
        };
        self.stack.push(canonical);
        let result = self.apply_includes(shown, &mut doc, &includes);
        self.stack.pop();
        result.map(|()| Some(doc))
    }

    fn apply_includes(
        &mut self,
        path: &Path,
        doc: &mut Mapping,
        includes: &Yaml,
    ) -> Result<(), ImportError> {
        let Some(list) = includes.as_sequence() else {
            return Err(ImportError::invalid(
                path,
                vec!["'includes' must be a list of {file, resource, override}".into()],
            ));
        };
        for (i, include) in list.iter().enumerate() {
            let file = include.get("file").and_then(Yaml::as_str).ok_or_else(|| {
                ImportError::invalid(path, vec![format!("include #{} has no 'file'", i + 1)])
            })?;
            let resource = include.get("resource").and_then(Yaml::as_bool) == Some(true);
            let override_ = include.get("override").and_then(Yaml::as_bool) == Some(true);
            let found = includes::find(path, file, resource, &self.scope)?;
            if let Some(included) = self.load_file(&found.shown, found.canonical)? {
                merge(doc, included, override_);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::ImportOptions;

    fn no_filter() -> Filter {
        Filter::from_options(&ImportOptions::default()).unwrap()
    }

    #[test]
    fn include_cycles_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.yaml");
        let b = dir.path().join("b.yaml");
        std::fs::write(&a, "name: a\nincludes:\n  - file: b.yaml\n").unwrap();
        std::fs::write(&b, "name: b\nincludes:\n  - file: a.yaml\n").unwrap();
        let err = load(&a, &no_filter(), &[]).unwrap_err();
        assert!(err.to_string().contains("cycle"), "{err}");
    }

    #[test]
    fn a_diamond_merges_the_shared_file_once() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        write(
            "top.yaml",
            "name: top\nincludes:\n  - file: left.yaml\n  - file: right.yaml\n",
        );
        write("left.yaml", "includes:\n  - file: shared.yaml\nleft: 1\n");
        write("right.yaml", "includes:\n  - file: shared.yaml\nright: 1\n");
        write("shared.yaml", "streams: [{from: a, to: b}]\nshared: 1\n");
        let doc = load(&dir.path().join("top.yaml"), &no_filter(), &[]).unwrap();
        for key in ["left", "right", "shared"] {
            assert!(doc.contains_key(key), "{key} missing: {doc:?}");
        }
        assert_eq!(doc["streams"].as_sequence().map(Vec::len), Some(1));
    }
}
