//! Reading a Flux file as Flux does before building anything: `${key}` replaced from the
//! `--filter` properties, `${ENV-NAME}` from the environment when asked, then `includes`
//! merged in (relative files resolved, cycles refused).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_norway::{Mapping, Value as Yaml};

use super::super::interop::{ImportError, ImportOptions};
use super::super::properties;

/// Deepest chain of includes followed; real files use one or two levels.
const MAX_INCLUDE_DEPTH: usize = 16;

/// Substitutions to apply to the text of every file read.
pub struct Filter {
    properties: Vec<(String, String)>,
    env: bool,
}

impl Filter {
    pub fn from_options(options: &ImportOptions) -> Result<Self, ImportError> {
        let mut props = Vec::new();
        if let Some(path) = &options.filter {
            let text = std::fs::read_to_string(path).map_err(|e| ImportError::io(path, e))?;
            let parsed = properties::parse(&text).map_err(|e| ImportError::Syntax {
                path: path.clone(),
                line: e.line,
                col: 1,
                message: e.message,
            })?;
            let mut last: HashMap<String, String> = HashMap::new();
            for p in parsed {
                last.insert(p.key, p.value);
            }
            props = last.into_iter().collect();
            // Longer keys first, so `${a.b.c}` is not spoiled by a key `a.b`.
            props.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        }
        Ok(Self {
            properties: props,
            env: options.env,
        })
    }

    /// Replaces placeholders in raw text, as Flux does before parsing the YAML.
    pub fn apply(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (key, value) in &self.properties {
            out = out.replace(&format!("${{{key}}}"), value);
        }
        if self.env {
            out = substitute_env(&out);
        }
        out
    }
}

fn substitute_env(text: &str) -> String {
    const OPEN: &str = "${ENV-";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(OPEN) {
        out.push_str(&rest[..start]);
        let after = &rest[start + OPEN.len()..];
        let name_len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
            .unwrap_or(after.len());
        let name = &after[..name_len];
        match (after[name_len..].starts_with('}'), std::env::var(name)) {
            (true, Ok(value)) if !name.is_empty() => {
                out.push_str(&value);
                rest = &after[name_len + 1..];
            }
            _ => {
                out.push_str(OPEN);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Reads a Flux file with its includes merged in.
pub fn load(path: &Path, filter: &Filter) -> Result<Mapping, ImportError> {
    let mut stack = Vec::new();
    load_inner(path, filter, &mut stack)
}

fn load_inner(
    path: &Path,
    filter: &Filter,
    stack: &mut Vec<PathBuf>,
) -> Result<Mapping, ImportError> {
    let identity = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    if stack.contains(&identity) {
        let chain: Vec<String> = stack
            .iter()
            .chain(std::iter::once(&identity))
            .map(|p| p.display().to_string())
            .collect();
        return Err(ImportError::invalid(
            path,
            vec![format!("includes form a cycle: {}", chain.join(" → "))],
        ));
    }
    if stack.len() >= MAX_INCLUDE_DEPTH {
        return Err(ImportError::invalid(
            path,
            vec![format!(
                "includes nest deeper than {MAX_INCLUDE_DEPTH} levels"
            )],
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| ImportError::io(path, e))?;
    let text = String::from_utf8(bytes).map_err(|_| ImportError::Syntax {
        path: path.to_path_buf(),
        line: 1,
        col: 1,
        message: "the file is not UTF-8 text".into(),
    })?;
    let mut doc = parse(path, &filter.apply(&text))?;
    let Some(includes) = doc.remove("includes") else {
        return Ok(doc);
    };
    stack.push(identity);
    let result = apply_includes(path, &mut doc, &includes, filter, stack);
    stack.pop();
    result.map(|()| doc)
}

/// Parses YAML text into the top-level mapping of a Flux file.
pub fn parse(path: &Path, text: &str) -> Result<Mapping, ImportError> {
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

fn apply_includes(
    path: &Path,
    doc: &mut Mapping,
    includes: &Yaml,
    filter: &Filter,
    stack: &mut Vec<PathBuf>,
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
        let target = resolve(path, file, resource).ok_or_else(|| {
            ImportError::invalid(
                path,
                vec![format!(
                    "include '{file}' not found{}",
                    if resource {
                        " (a classpath resource; Tributary looks for it beside this file)"
                    } else {
                        " (relative paths are resolved from this file's folder)"
                    }
                )],
            )
        })?;
        let included = load_inner(&target, filter, stack)?;
        merge(doc, included, override_);
    }
    Ok(())
}

/// Finds an included file. Plain files are relative to the including file; classpath
/// resources (`resource: true`, e.g. `/configs/shell_test.yaml`) are looked for beside
/// it and in its parent folders, then by file name alone, then by the flattened name
/// `PREFIX__name` used when resource trees are copied into one folder.
fn resolve(including: &Path, file: &str, resource: bool) -> Option<PathBuf> {
    let dir = including.parent().unwrap_or(Path::new("."));
    if !resource {
        let candidate = dir.join(file);
        return candidate.is_file().then_some(candidate);
    }
    let relative = file.trim_start_matches('/');
    let mut folder = Some(dir);
    while let Some(f) = folder {
        let candidate = f.join(relative);
        if candidate.is_file() {
            return Some(candidate);
        }
        folder = f.parent();
    }
    let name = Path::new(relative).file_name()?.to_str()?;
    let candidate = dir.join(name);
    if candidate.is_file() {
        return Some(candidate);
    }
    let stem = including.file_name()?.to_str()?;
    let (prefix, _) = stem.split_once("__")?;
    let candidate = dir.join(format!("{prefix}__{name}"));
    candidate.is_file().then_some(candidate)
}

/// Merges an included file as Flux does: components, spouts and bolts by id, streams
/// appended, config keys and other sections added; with `override` the included file
/// wins where both define something.
fn merge(doc: &mut Mapping, included: Mapping, override_: bool) {
    for (key, value) in included {
        let name = key.as_str().unwrap_or_default().to_string();
        match name.as_str() {
            "components" | "spouts" | "bolts" => merge_by_id(doc, key, value, override_),
            "streams" => {
                let entry = doc.entry(key).or_insert_with(|| Yaml::Sequence(Vec::new()));
                if let (Some(mine), Some(theirs)) = (entry.as_sequence_mut(), value.as_sequence()) {
                    for stream in theirs {
                        if !mine.contains(stream) {
                            mine.push(stream.clone());
                        }
                    }
                }
            }
            "config" => {
                let entry = doc
                    .entry(key)
                    .or_insert_with(|| Yaml::Mapping(Mapping::new()));
                if let (Some(mine), Yaml::Mapping(theirs)) = (entry.as_mapping_mut(), value) {
                    for (k, v) in theirs {
                        if override_ || !mine.contains_key(&k) {
                            mine.insert(k, v);
                        }
                    }
                }
            }
            _ => {
                if override_ || !doc.contains_key(&key) {
                    doc.insert(key, value);
                }
            }
        }
    }
}

fn merge_by_id(doc: &mut Mapping, key: Yaml, value: Yaml, override_: bool) {
    let entry = doc.entry(key).or_insert_with(|| Yaml::Sequence(Vec::new()));
    let (Some(mine), Yaml::Sequence(theirs)) = (entry.as_sequence_mut(), value) else {
        return;
    };
    for item in theirs {
        let id = item.get("id").cloned();
        let existing = id
            .as_ref()
            .and_then(|id| mine.iter().position(|m| m.get("id") == Some(id)));
        match existing {
            Some(i) if override_ => mine[i] = item,
            Some(_) => {}
            None => mine.push(item),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_replaces_known_keys_only() {
        let filter = Filter {
            properties: vec![("a.b".into(), "x".into())],
            env: false,
        };
        assert_eq!(filter.apply("${a.b} ${a.c} $${a.b}"), "x ${a.c} $x");
    }

    #[test]
    fn env_substitution_needs_a_set_variable() {
        // SAFETY-free: reads only; PATH is set in every test environment we run.
        let path = std::env::var("PATH").unwrap_or_default();
        assert_eq!(substitute_env("p=${ENV-PATH}"), format!("p={path}"));
        assert_eq!(
            substitute_env("${ENV-TRIBUTARY_SURELY_UNSET_VAR} ${ENV-"),
            "${ENV-TRIBUTARY_SURELY_UNSET_VAR} ${ENV-"
        );
    }

    #[test]
    fn include_cycles_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.yaml");
        let b = dir.path().join("b.yaml");
        std::fs::write(&a, "name: a\nincludes:\n  - file: b.yaml\n").unwrap();
        std::fs::write(&b, "name: b\nincludes:\n  - file: a.yaml\n").unwrap();
        let filter = Filter {
            properties: vec![],
            env: false,
        };
        let err = load(&a, &filter).unwrap_err();
        assert!(err.to_string().contains("cycle"), "{err}");
    }
}
