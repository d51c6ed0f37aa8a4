//! Everything the panels can ask the app to do. Widgets return these instead of
//! changing state themselves, so each change has one place where it happens.

use std::path::PathBuf;

use crate::design::commands::Command;
use crate::design::selection::Selection;

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// An edit; edits with the same merge key in quick succession undo together.
    Apply {
        command: Command,
        merge: Option<String>,
    },
    Select(Selection),
    /// Something to tell the user.
    Notice(String),
    /// An edit that was not made, and why (shown in the problem colour).
    Refused(String),
    Undo,
    Redo,
    New,
    /// Open this file, or ask with a dialog when `None`.
    Open(Option<PathBuf>),
    /// Open an example as an untitled copy, so saving never overwrites it.
    OpenExample(PathBuf),
    /// Open a lesson (asking about unsaved changes first, as New does).
    OpenLesson(PathBuf),
    /// What the lesson panel asks: do the step, next, previous, close.
    Lesson(super::lesson::LessonAction),
    /// Import a Storm Flux or Flume file as an untitled design (dialog when `None`).
    Import(Option<PathBuf>),
    /// Export to another engine's format (dialog when the path is `None`).
    Export(crate::format::ExportTarget, Option<PathBuf>),
    /// Write a PNG of the canvas as shown (dialog when `None`).
    ExportPng(Option<PathBuf>),
    Save,
    /// Save to this file, or ask with a dialog when `None`.
    SaveAs(Option<PathBuf>),
    Fit,
    AutoLayout,
    /// Show a node as its tasks on the canvas, or as one box again (the grouping lens).
    ShowTasks {
        node: String,
        shown: bool,
    },
    /// Show or hide the palette or the inspector.
    TogglePanel(super::side_panels::SidePanel),
    Zoom(f32),
    Copy,
    /// Paste RON text (from the system clipboard), or the internal clipboard if `None`.
    Paste(Option<String>),
    Delete,
    SelectAll,
    Run,
    /// Ask how to compare record-at-a-time with micro-batch on this design.
    CompareModes,
    /// Run the design in both modes at once and show them side by side.
    StartCompare(super::compare::CompareSetup),
    /// Open the guarantees panel (at most, at least and exactly once side by side).
    OpenGuarantees,
    /// Run the three guarantees with the panel's faults.
    RunGuarantees,
    CloseGuarantees,
    Pause,
    Resume,
    /// Cap every spout of the run (the toolbar's speed control).
    SetSpeed(super::speed::Speed),
    /// Stops the run or the comparison, whichever is on.
    Stop,
    /// Lab mode: start it, step, go back, play, run until, select a tree.
    Lab(super::lab::LabAction),
    /// Close a stopped comparison's results.
    ClearComparison,
    /// Run a shell node's program once on a sample ("Try it" in the inspector).
    TryShell {
        node: String,
        command: Vec<String>,
        spout: bool,
        sample: String,
    },
    Quit,
}

impl Action {
    pub fn apply(command: Command) -> Self {
        Action::Apply {
            command,
            merge: None,
        }
    }

    pub fn merged(command: Command, key: impl Into<String>) -> Self {
        Action::Apply {
            command,
            merge: Some(key.into()),
        }
    }
}
