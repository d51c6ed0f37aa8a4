//! Files around the design: recent files, the examples folder, and the recovery file
//! that keeps work safe from crashes.
//!
//! Everything here takes paths as arguments; the native dialogs that pick them live in
//! `ui::file_dialogs`, so tests can drive opening and saving without a window.

use std::path::{Path, PathBuf};

use crate::format;
use crate::model::Topology;

/// How many recent files the File menu remembers.
const MAX_RECENT: usize = 8;

/// Where the designer keeps its own small files (recent list, recovery file).
#[derive(Debug, Clone)]
pub struct FilePlaces {
    /// `None` disables the recent list and the recovery file (e.g. in tests that don't
    /// want them).
    pub config_dir: Option<PathBuf>,
    pub examples_dir: Option<PathBuf>,
    /// Where copies of opened examples are made, with their data, so their runs write
    /// there and never into the examples folder (`design::example_copy`). `None`: there
    /// is nowhere to copy them, and opening an example says so.
    pub data_dir: Option<PathBuf>,
}

impl FilePlaces {
    /// The user's places: `$XDG_CONFIG_HOME/tributary` (or `~/.config/tributary`),
    /// `$XDG_DATA_HOME/tributary` (or `~/.local/share/tributary`), and the `topologies/`
    /// folder found next to the working directory or the source tree.
    pub fn for_user() -> Self {
        let xdg = |var: &str, fallback: &str| {
            std::env::var_os(var)
                .map(PathBuf::from)
                .filter(|p| p.is_absolute())
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(fallback)))
                .map(|base| base.join("tributary"))
        };
        let config_dir = xdg("XDG_CONFIG_HOME", ".config");
        let data_dir = xdg("XDG_DATA_HOME", ".local/share");
        let examples_dir = std::env::var_os("TRIBUTARY_EXAMPLES")
            .map(PathBuf::from)
            .or_else(|| {
                let here = PathBuf::from("topologies");
                here.is_dir().then_some(here)
            })
            .or_else(|| {
                let built = Path::new(env!("CARGO_MANIFEST_DIR")).join("topologies");
                built.is_dir().then_some(built)
            });
        Self {
            config_dir,
            examples_dir,
            data_dir,
        }
    }

    pub fn recovery_file(&self) -> Option<PathBuf> {
        self.config_dir.as_ref().map(|d| d.join("recovery.ron"))
    }

    fn recent_file(&self) -> Option<PathBuf> {
        self.config_dir.as_ref().map(|d| d.join("recent.txt"))
    }

    /// Recently opened or saved files, newest first; missing files are dropped.
    pub fn recent(&self) -> Vec<PathBuf> {
        let Some(file) = self.recent_file() else {
            return Vec::new();
        };
        std::fs::read_to_string(file)
            .unwrap_or_default()
            .lines()
            .map(PathBuf::from)
            .filter(|p| p.is_file())
            .take(MAX_RECENT)
            .collect()
    }

    /// Puts a file at the top of the recent list. Failing to record it is not worth
    /// bothering the user about, so the error is returned only for logging.
    pub fn remember(&self, path: &Path) -> std::io::Result<()> {
        let Some(file) = self.recent_file() else {
            return Ok(());
        };
        let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let mut list = self.recent();
        list.retain(|p| *p != path);
        list.insert(0, path);
        list.truncate(MAX_RECENT);
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let text: String = list.iter().map(|p| format!("{}\n", p.display())).collect();
        format::write_atomically(&file, text.as_bytes())
    }

    /// The example topologies, by file name.
    pub fn examples(&self) -> Vec<PathBuf> {
        let Some(dir) = &self.examples_dir else {
            return Vec::new();
        };
        let mut list: Vec<PathBuf> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "ron"))
            .collect();
        list.sort();
        list
    }

    /// Writes the current design to the recovery file (atomically, so a crash while
    /// writing cannot destroy the previous copy).
    pub fn write_recovery(&self, topology: &Topology, origin: Option<&Path>) -> Result<(), String> {
        let Some(file) = self.recovery_file() else {
            return Ok(());
        };
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        }
        let header = match origin {
            Some(p) => format!("// recovered from {}\n", p.display()),
            None => "// recovered from an unsaved design\n".to_string(),
        };
        let text = header + &format::to_ron_string(topology);
        format::write_atomically(&file, text.as_bytes()).map_err(|e| e.to_string())
    }

    /// A recovery file left by a session that did not end cleanly.
    pub fn pending_recovery(&self) -> Option<PathBuf> {
        self.recovery_file().filter(|f| f.is_file())
    }

    /// Removes the recovery file once the work it protected is saved or discarded.
    pub fn clear_recovery(&self) {
        if let Some(file) = self.recovery_file() {
            // Already gone is fine; anything else would only matter on the next start,
            // where the user is asked about it.
            let _ = std::fs::remove_file(file);
        }
    }
}
