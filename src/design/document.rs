//! The open design: topology, where it lives on disk, whether it changed, and its history.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::commands::Command;
use crate::model::Topology;

/// Edits with the same merge key arriving within this time become one undo step, so
/// typing a name is undone as a whole rather than letter by letter.
const MERGE_WINDOW: Duration = Duration::from_secs(2);

struct HistoryEntry {
    inverse: Command,
    merge_key: Option<String>,
    at: Instant,
    /// The generation the inverse restores (the state before the edit).
    before: u64,
}

/// An undone edit, and the generation redoing it restores.
struct RedoEntry {
    command: Command,
    after: u64,
}

/// Generations are drawn from one counter for every document, so a generation names one
/// state of one document: a replaced document can never share a number (and so cached
/// validation) with the one before it.
static NEXT_GENERATION: AtomicU64 = AtomicU64::new(1);

fn fresh_generation() -> u64 {
    NEXT_GENERATION.fetch_add(1, Ordering::Relaxed)
}

/// A topology being edited. All changes go through [`Document::apply`] so that undo,
/// the dirty marker and the recovery file can never miss one.
pub struct Document {
    pub topology: Topology,
    /// Where Save writes; `None` for new designs and opened examples.
    pub path: Option<PathBuf>,
    /// Shown in the title when there is no path ("word_count.ron (example)").
    pub display_name: String,
    /// Folder relative paths in settings resolve against when there is no path yet
    /// (an opened example keeps its own folder).
    pub origin_dir: Option<PathBuf>,
    undo: Vec<HistoryEntry>,
    redo: Vec<RedoEntry>,
    /// Names the current state: a new edit draws a fresh number, undo and redo return to
    /// the number of the state they restore. The document is dirty exactly when this
    /// differs from `saved_generation`, so undoing back to what was saved is clean again.
    generation: u64,
    saved_generation: u64,
}

impl Document {
    pub fn new(topology: Topology, path: Option<PathBuf>, display_name: String) -> Self {
        let generation = fresh_generation();
        Self {
            topology,
            path,
            display_name,
            origin_dir: None,
            undo: Vec::new(),
            redo: Vec::new(),
            generation,
            saved_generation: generation,
        }
    }

    /// An empty, untitled design.
    pub fn untitled() -> Self {
        Self::new(Topology::new("untitled"), None, "Untitled".into())
    }

    /// Applies an edit and records its inverse. A refused edit changes nothing and
    /// returns the reason, for the caller to show.
    pub fn apply(&mut self, command: Command) -> Result<(), String> {
        self.apply_merging(command, None)
    }

    /// Like [`Self::apply`], but consecutive edits with the same `merge_key` (within a
    /// couple of seconds) share one undo step.
    pub fn apply_merging(
        &mut self,
        command: Command,
        merge_key: Option<String>,
    ) -> Result<(), String> {
        let inverse = command.apply(&mut self.topology)?;
        let before = self.generation;
        let now = Instant::now();
        let merges = match (&merge_key, self.undo.last()) {
            (Some(key), Some(last)) => {
                last.merge_key.as_ref() == Some(key) && now.duration_since(last.at) < MERGE_WINDOW
            }
            _ => false,
        };
        if merges {
            // Keep the older inverse: it restores the state before the first edit.
            if let Some(last) = self.undo.last_mut() {
                last.at = now;
            }
        } else {
            self.undo.push(HistoryEntry {
                inverse,
                merge_key,
                at: now,
                before,
            });
        }
        self.redo.clear();
        self.generation = fresh_generation();
        Ok(())
    }

    pub fn can_undo(&self) -> bool {
        !self.undo.is_empty()
    }

    pub fn can_redo(&self) -> bool {
        !self.redo.is_empty()
    }

    pub fn undo(&mut self) -> Result<(), String> {
        let Some(entry) = self.undo.pop() else {
            return Ok(());
        };
        match entry.inverse.apply(&mut self.topology) {
            Ok(redo) => {
                self.redo.push(RedoEntry {
                    command: redo,
                    after: self.generation,
                });
                self.generation = entry.before;
                Ok(())
            }
            Err(e) => Err(format!("cannot undo: {e}")),
        }
    }

    pub fn redo(&mut self) -> Result<(), String> {
        let Some(entry) = self.redo.pop() else {
            return Ok(());
        };
        match entry.command.apply(&mut self.topology) {
            Ok(inverse) => {
                self.undo.push(HistoryEntry {
                    inverse,
                    merge_key: None,
                    at: Instant::now(),
                    before: self.generation,
                });
                self.generation = entry.after;
                Ok(())
            }
            Err(e) => Err(format!("cannot redo: {e}")),
        }
    }

    /// The folder a run resolves relative paths against: the file's folder, else the
    /// folder the design came from, else the working directory.
    pub fn base_dir(&self) -> PathBuf {
        self.path
            .as_deref()
            .and_then(std::path::Path::parent)
            .map(std::path::Path::to_path_buf)
            .filter(|p| !p.as_os_str().is_empty())
            .or_else(|| self.origin_dir.clone())
            .unwrap_or_else(|| std::env::current_dir().unwrap_or_default())
    }

    /// The current state differs from the last one saved (or opened).
    pub fn is_dirty(&self) -> bool {
        self.generation != self.saved_generation
    }

    /// A number that changes whenever the topology does (and comes back when undo
    /// restores a state); cheap change detection for validation and the recovery file.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Marks the document changed without an edit (recovered work that is on no disk
    /// the user chose).
    pub fn force_dirty(&mut self) {
        self.generation = fresh_generation();
    }

    pub fn mark_saved(&mut self, path: PathBuf) {
        self.display_name = file_label(&path);
        self.path = Some(path);
        self.saved_generation = self.generation;
    }

    /// Window title: file name, a `•` when there are unsaved changes.
    pub fn title(&self) -> String {
        let dirty = if self.is_dirty() { " •" } else { "" };
        format!("{}{dirty} — Tributary", self.display_name)
    }
}

/// The name shown for a file: its file name, or the whole path if it has none.
pub fn file_label(path: &std::path::Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Pos, Settings};

    fn rename(name: &str) -> Command {
        Command::SetTopology {
            name: name.into(),
            description: String::new(),
            settings: Settings::default(),
        }
    }

    #[test]
    fn merged_edits_undo_together() {
        let mut d = Document::untitled();
        d.apply_merging(rename("a"), Some("name".into())).unwrap();
        d.apply_merging(rename("ab"), Some("name".into())).unwrap();
        assert!(d.is_dirty());
        d.undo().unwrap();
        assert_eq!(d.topology.name, "untitled");
        d.redo().unwrap();
        assert_eq!(d.topology.name, "ab");
    }

    #[test]
    fn undoing_back_to_the_saved_state_is_clean_and_redoing_away_is_dirty() {
        let mut d = Document::untitled();
        d.apply(rename("a")).unwrap();
        d.mark_saved(PathBuf::from("t.ron"));
        assert!(!d.is_dirty());
        d.apply(rename("b")).unwrap();
        assert!(d.is_dirty());
        d.undo().unwrap();
        assert!(!d.is_dirty(), "back at the saved state");
        assert!(!d.title().contains('•'), "{}", d.title());
        d.undo().unwrap();
        assert!(d.is_dirty(), "before the saved state");
        d.redo().unwrap();
        assert!(!d.is_dirty(), "redone to the saved state");
        d.redo().unwrap();
        assert!(d.is_dirty());
        // A new edit after undoing never matches the saved state by accident.
        d.undo().unwrap();
        d.apply(rename("c")).unwrap();
        assert!(d.is_dirty());
        d.undo().unwrap();
        assert!(!d.is_dirty());
    }

    #[test]
    fn two_documents_never_share_a_generation() {
        let (a, b) = (Document::untitled(), Document::untitled());
        assert_ne!(a.generation(), b.generation());
    }

    #[test]
    fn refused_edit_is_not_recorded() {
        let mut d = Document::untitled();
        let bad = Command::Move {
            moves: vec![("nobody".into(), Pos(0.0, 0.0))],
        };
        assert!(d.apply(bad).is_err());
        assert!(!d.can_undo());
        assert!(!d.is_dirty());
    }
}
