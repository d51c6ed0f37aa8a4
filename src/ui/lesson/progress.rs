//! How far the learner got in each lesson, kept between sessions in the config folder
//! as a small JSON map (lesson file name → steps completed). Headless: the lessons menu
//! reads it, the lesson panel updates it after each step.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::design::FilePlaces;
use crate::format;

/// Steps completed per lesson file name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Progress {
    file: Option<PathBuf>,
    pub done: BTreeMap<String, usize>,
}

impl Progress {
    /// The progress saved under `places`' config folder; a missing or unreadable file
    /// is no progress (it is only a convenience, and the next step rewrites it).
    pub fn load(places: &FilePlaces) -> Self {
        let file = places.config_dir.as_ref().map(|d| d.join("lessons.json"));
        let done = file
            .as_deref()
            .and_then(|f| std::fs::read_to_string(f).ok())
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default();
        Progress { file, done }
    }

    /// Steps completed of the lesson in `path`.
    pub fn of(&self, path: &Path) -> usize {
        self.done.get(&key(path)).copied().unwrap_or(0)
    }

    /// Records `steps` completed of the lesson in `path` (never going back) and writes
    /// the file atomically.
    pub fn record(&mut self, path: &Path, steps: usize) -> Result<(), String> {
        let entry = self.done.entry(key(path)).or_insert(0);
        *entry = (*entry).max(steps);
        let Some(file) = &self.file else {
            return Ok(());
        };
        let text = serde_json::to_string_pretty(&self.done).map_err(|e| e.to_string())?;
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        format::write_atomically(file, text.as_bytes())
            .map_err(|e| format!("could not save lesson progress to {}: {e}", file.display()))
    }
}

fn key(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn progress_survives_a_reload_and_never_goes_back() {
        let dir = tempfile::tempdir().unwrap();
        let places = FilePlaces {
            config_dir: Some(dir.path().join("config")),
            examples_dir: None,
            data_dir: None,
        };
        let mut p = Progress::load(&places);
        p.record(Path::new("lessons/06-tuple-tree.ron"), 3).unwrap();
        p.record(Path::new("other/06-tuple-tree.ron"), 1).unwrap();
        let again = Progress::load(&places);
        assert_eq!(again.of(Path::new("06-tuple-tree.ron")), 3);
        assert_eq!(again.of(Path::new("05-groupings.ron")), 0);
    }
}
