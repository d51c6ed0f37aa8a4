//! What the Examples menu says about each shipped example: a title made from the
//! design's `name` and a one-line summary from its `description`, so a learner picks by
//! what an example shows rather than by file name.

use std::path::Path;

use crate::format;

/// Longest summary, in characters, before it is cut with `…` (one menu line).
const SUMMARY_CHARS: usize = 80;

/// One example as the menu shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExampleInfo {
    /// `flume-two-tier` → `Flume two tier`.
    pub title: String,
    /// The description up to its first `:` or sentence end, at most one line.
    pub summary: String,
    /// The whole description, for the hover text.
    pub description: String,
}

impl ExampleInfo {
    /// Reads the example at `path`; a file that does not load is listed by its file
    /// name with the reason as its summary, so a broken example is seen, not hidden.
    pub fn read(path: &Path) -> Self {
        match format::load_ron(path) {
            Ok(t) => Self::from_text(&t.name, &t.description),
            Err(e) => Self {
                title: path
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                summary: "does not load".into(),
                description: e.to_string(),
            },
        }
    }

    pub fn from_text(name: &str, description: &str) -> Self {
        Self {
            title: title(name),
            summary: summary(description),
            description: description.to_string(),
        }
    }
}

fn title(name: &str) -> String {
    let spaced = name.replace(['-', '_'], " ");
    let mut chars = spaced.trim().chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn summary(description: &str) -> String {
    let text = description.split_whitespace().collect::<Vec<_>>().join(" ");
    let end = [": ", ". "]
        .iter()
        .filter_map(|stop| text.find(stop))
        .min()
        .unwrap_or(text.len());
    let first = text[..end].trim_end_matches('.');
    if first.chars().count() <= SUMMARY_CHARS {
        return first.to_string();
    }
    let cut: String = first.chars().take(SUMMARY_CHARS - 1).collect();
    format!("{}…", cut.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_title_comes_from_the_name() {
        assert_eq!(title("flume-two-tier"), "Flume two tier");
        assert_eq!(title("word_count"), "Word count");
        assert_eq!(title(""), "");
    }

    #[test]
    fn the_summary_is_the_first_clause_on_one_line() {
        assert_eq!(
            summary("Two tiers of Flume agents: the `edge` agent buffers."),
            "Two tiers of Flume agents"
        );
        assert_eq!(
            summary("Fan-out by header and a backup route. Two sources tag"),
            "Fan-out by header and a backup route"
        );
        assert_eq!(summary("Short\nand sweet."), "Short and sweet");
        let long = summary(&"word ".repeat(40));
        assert_eq!(long.chars().count(), SUMMARY_CHARS);
        assert!(long.ends_with('…'));
    }

    #[test]
    fn every_shipped_example_has_a_title_and_a_summary() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("topologies");
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "ron") {
                let info = ExampleInfo::read(&path);
                assert!(!info.title.is_empty(), "{}", path.display());
                assert!(
                    !info.summary.is_empty() && info.summary != "does not load",
                    "{}: {}",
                    path.display(),
                    info.description
                );
            }
        }
    }
}
