//! Carrying out actions: the one place where the document, selection and files change.

use std::path::{Path, PathBuf};

use super::actions::Action;
use super::app::{DesignerApp, Pending};
use super::file_dialogs;
use crate::design::commands::Command;
use crate::design::document::{Document, file_label};
use crate::design::selection::Selection;
use crate::format;
use crate::format::layout;
use crate::model::{Pos, Topology};

impl DesignerApp {
    /// Performs one action. Public so tests (and the CLI's `tributary FILE`) can do what
    /// a menu click would, with file paths given instead of picked in a dialog.
    pub fn perform(&mut self, ctx: &egui::Context, action: Action) {
        let editing_locked = self.run.is_some() || self.comparing() || self.lesson.is_some();
        match action {
            Action::Apply { .. }
            | Action::Undo
            | Action::Redo
            | Action::Delete
            | Action::Paste(_)
            | Action::AutoLayout
                if editing_locked =>
            {
                self.notify_error(if self.lesson.is_some() {
                    "Close the lesson to edit the topology"
                } else {
                    "Stop the run to edit the topology"
                });
            }
            Action::Apply { command, merge } => {
                let renamed = match &command {
                    Command::ReplaceNode { name, node } if *name != node.name => {
                        Some(node.name.clone())
                    }
                    _ => None,
                };
                match self.doc.apply_merging(command, merge) {
                    Ok(()) => {
                        if let Some(new_name) = renamed {
                            self.selection = Selection::node(&new_name);
                        }
                    }
                    Err(e) => self.notify_error(e),
                }
            }
            Action::Select(selection) => self.selection = selection,
            Action::Notice(text) => self.notify(text),
            Action::Refused(text) => self.notify_error(text),
            Action::TryShell {
                node,
                command,
                spout,
                sample,
            } => self.try_shell(node, command, spout, sample),
            Action::Undo => {
                if let Err(e) = self.doc.undo() {
                    self.notify_error(e);
                }
            }
            Action::Redo => {
                if let Err(e) = self.doc.redo() {
                    self.notify_error(e);
                }
            }
            Action::New => self.ask_then(Pending::New),
            Action::Open(path) => self.ask_then(Pending::Open(path)),
            Action::OpenExample(path) => self.ask_then(Pending::OpenExample(path)),
            Action::OpenLesson(path) => self.ask_then(Pending::OpenLesson(path)),
            Action::Lesson(action) => self.perform_lesson(action),
            Action::Import(path) => self.ask_then(Pending::Import(path)),
            Action::Export(target, path) => self.export(target, path),
            Action::ExportPng(path) => self.export_png(path),
            Action::Save => {
                let _ = self.save();
            }
            Action::SaveAs(path) => {
                let _ = self.save_as(path);
            }
            Action::Fit => self.canvas.request_fit(),
            Action::ShowTasks { node, shown } => self.canvas.lens.set(&node, shown),
            Action::TogglePanel(panel) => {
                let width = ctx.content_rect().width();
                self.side_panels.toggle(panel, width);
            }
            Action::Zoom(factor) => self.canvas.zoom_by(factor),
            Action::AutoLayout => {
                let moves = layout::layered_positions(&self.doc.topology);
                if let Err(e) = self.doc.apply(Command::Move { moves }) {
                    self.notify_error(e);
                }
                self.canvas.request_fit();
            }
            Action::Copy => self.copy(ctx),
            Action::Paste(text) => self.paste(text),
            Action::Delete => self.delete_selection(),
            Action::SelectAll => {
                self.selection = Selection {
                    nodes: self.doc.topology.nodes().map(|n| n.name.clone()).collect(),
                    edge: None,
                };
            }
            Action::Run | Action::CompareModes | Action::Lab(_) if self.lesson.is_some() => {
                self.notify_error("Close the lesson to run the design");
            }
            Action::Run => self.start_run(ctx),
            Action::Pause => {
                if let Some(run) = &mut self.run {
                    run.pause();
                }
            }
            Action::Resume => {
                if let Some(run) = &mut self.run {
                    run.resume();
                }
            }
            Action::CompareModes => {
                if self.run.is_none() && !self.comparing() {
                    self.compare_setup = Some(super::compare::CompareSetup::for_topology(
                        &self.doc.topology,
                    ));
                }
            }
            Action::StartCompare(setup) => self.start_compare(setup),
            Action::OpenGuarantees => {
                if self.guarantees.is_none() {
                    self.guarantees = Some(super::guarantees_panel::GuaranteesSession::new(
                        &self.doc.topology,
                    ));
                }
            }
            Action::RunGuarantees => self.start_guarantees(),
            Action::CloseGuarantees => self.guarantees = None,
            Action::SetSpeed(speed) => {
                if let Some(run) = &mut self.run {
                    run.set_speed(&self.doc.topology, speed, &mut self.log);
                }
            }
            Action::Stop => self.stop_run(),
            Action::Lab(action) => self.perform_lab(action),
            Action::ClearComparison if !self.comparing() => self.compare = None,
            Action::ClearComparison => {}
            Action::Quit => self.ask_then(Pending::Quit),
        }
        self.selection.prune(&self.doc.topology);
    }

    /// Runs `next` now, or after asking to stop a run and about unsaved changes.
    pub(super) fn ask_then(&mut self, next: Pending) {
        if self.ask_stop_first(&next) {
            return;
        }
        if self.doc.is_dirty() {
            self.pending = Some(next);
        } else {
            self.proceed(next);
        }
    }

    /// Does what was pending, changes (if any) having been saved or discarded.
    pub(super) fn proceed(&mut self, next: Pending) {
        match next {
            Pending::New => {
                self.stop_run();
                self.replace_document(Document::untitled());
                self.places.clear_recovery();
            }
            Pending::Open(path) => {
                let start = self
                    .doc
                    .path
                    .as_deref()
                    .and_then(Path::parent)
                    .map(Path::to_path_buf);
                if let Some(path) = path.or_else(|| file_dialogs::pick_open_path(start.as_deref()))
                {
                    self.open_file(&path);
                }
            }
            Pending::OpenExample(path) => self.open_example_copy(&path),
            Pending::OpenLesson(path) => self.open_lesson(&path),
            Pending::Import(path) => {
                let start = self.doc.base_dir();
                if let Some(path) = path.or_else(|| file_dialogs::pick_import_path(Some(&start))) {
                    self.import_asking(path);
                }
            }
            Pending::Quit => {
                self.allow_close = true;
                self.quit_requested = true;
            }
        }
    }

    /// Opens a file; on failure the current work stays and the error (with line and
    /// column) is shown.
    pub fn open_file(&mut self, path: &Path) {
        match format::load_ron(path) {
            Ok(t) => {
                self.stop_run();
                self.replace_document(Document::new(t, Some(path.to_path_buf()), file_label(path)));
                if let Err(e) = self.places.remember(path) {
                    self.notify_error(format!("could not update the recent files list: {e}"));
                }
                self.refresh_places();
                self.notify(format!("Opened {}", path.display()));
            }
            Err(e) => self.open_error = Some(e.to_string()),
        }
    }

    /// Puts `doc` in place of the current design; the run log and the status text of the
    /// design before go with it.
    pub(super) fn replace_document(&mut self, doc: Document) {
        self.doc = doc;
        self.lesson = None;
        // Programs allowed for the design being closed are not allowed for the next,
        // nor for this one reopened (its scripts may have changed meanwhile).
        self.exec_consent.clear();
        self.log.clear();
        self.notice = None;
        self.compare = None;
        self.selection = Selection::default();
        self.inspector = Default::default();
        self.canvas.request_readable_fit();
    }

    /// Saves to the document's file, asking for one if it has none. Returns whether the
    /// work is now safely on disk.
    pub fn save(&mut self) -> bool {
        match self.doc.path.clone() {
            Some(path) => self.save_to(&path),
            None => self.save_as(None),
        }
    }

    pub fn save_as(&mut self, path: Option<PathBuf>) -> bool {
        let start = self
            .doc
            .path
            .as_deref()
            .and_then(Path::parent)
            .map(Path::to_path_buf);
        let suggested = self.doc.topology.name.clone();
        match path.or_else(|| file_dialogs::pick_save_path(&suggested, start.as_deref())) {
            Some(path) => self.save_to(&path),
            None => false,
        }
    }

    fn save_to(&mut self, path: &Path) -> bool {
        match format::save_ron(&self.doc.topology, path) {
            Ok(()) => {
                self.doc.mark_saved(path.to_path_buf());
                self.places.clear_recovery();
                if let Err(e) = self.places.remember(path) {
                    self.notify_error(format!(
                        "saved, but could not update the recent files list: {e}"
                    ));
                } else {
                    self.notify(format!("Saved {}", path.display()));
                }
                self.refresh_places();
                true
            }
            Err(e) => {
                self.notify_error(format!("Not saved: {e}"));
                false
            }
        }
    }

    fn export(&mut self, target: format::ExportTarget, path: Option<PathBuf>) {
        // A job for another engine is reviewed first: what it maps with a caveat and what
        // it refuses are shown before anything is written.
        if target == format::ExportTarget::Spark {
            self.review_spark_export(path);
            return;
        }
        self.write_export(target, path);
    }

    /// Exports without asking: the text first (a refusal is told and nothing is
    /// written), then the path, then an atomic write.
    pub(super) fn write_export(&mut self, target: format::ExportTarget, path: Option<PathBuf>) {
        let text = match format::export(&self.doc.topology, target) {
            Ok(text) => text,
            Err(e) => {
                self.notify_error(e.to_string());
                return;
            }
        };
        let start = self.doc.base_dir();
        let name = format!("{}.{}", self.doc.topology.name, target.extension());
        let Some(path) = path.or_else(|| {
            file_dialogs::pick_export_path(&name, target.label(), target.extension(), Some(&start))
        }) else {
            return;
        };
        match format::write_atomically(&path, text.as_bytes()) {
            Ok(()) => self.notify(format!("Exported {} to {}", target.label(), path.display())),
            Err(e) => self.notify_error(format!("Not exported: {}: {e}", path.display())),
        }
    }

    /// Starts a PNG export; the screenshot arrives on a later frame (see `image_export`).
    fn export_png(&mut self, path: Option<PathBuf>) {
        let start = self.doc.base_dir();
        let name = format!("{}.png", self.doc.topology.name);
        let Some(path) = path
            .or_else(|| file_dialogs::pick_export_path(&name, "PNG image", "png", Some(&start)))
        else {
            return;
        };
        self.image_export = Some(super::image_export::PendingImage::new(path));
    }

    fn delete_selection(&mut self) {
        if self.selection.is_empty() {
            return;
        }
        let command = Command::Remove {
            nodes: self.selection.nodes.iter().cloned().collect(),
            edges: self.selection.edge.iter().cloned().collect(),
        };
        match self.doc.apply(command) {
            Ok(()) => self.selection = Selection::default(),
            Err(e) => self.notify_error(e),
        }
    }

    /// Copies the selected nodes and the edges between them, as RON text, to the system
    /// clipboard (so they can be pasted into another window) and an internal one.
    fn copy(&mut self, ctx: &egui::Context) {
        if self.selection.nodes.is_empty() {
            return;
        }
        let t = &self.doc.topology;
        let mut part = Topology::new("clipboard");
        for name in &self.selection.nodes {
            if let Some(node) = t.node_by_name(name) {
                part.add_node_unchecked(node.clone());
            }
        }
        for e in t.edge_list() {
            if self.selection.nodes.contains(&e.from) && self.selection.nodes.contains(&e.to) {
                let _ = part.connect_names(&e.from, &e.to, e.stream.clone(), e.grouping.clone());
            }
        }
        let text = format::to_ron_string(&part);
        ctx.copy_text(text.clone());
        self.clipboard = Some(text);
        self.notify(format!(
            "Copied {}",
            super::words::plural(part.node_count(), "node")
        ));
    }

    /// Pastes nodes (renamed where names are taken, shifted so they don't cover the
    /// originals) and the edges between them.
    fn paste(&mut self, text: Option<String>) {
        let parsed = text
            .as_deref()
            .and_then(|s| format::from_ron_str(s, Path::new("clipboard")).ok())
            .or_else(|| {
                self.clipboard
                    .as_deref()
                    .and_then(|s| format::from_ron_str(s, Path::new("clipboard")).ok())
            });
        let Some(part) = parsed else {
            return;
        };
        let t = &self.doc.topology;
        let mut taken: Vec<String> = t.nodes().map(|n| n.name.clone()).collect();
        let mut renames = std::collections::BTreeMap::new();
        let mut nodes = Vec::new();
        for node in part.nodes() {
            let mut fresh = node.clone();
            let mut name = node.name.clone();
            let mut k = 2;
            while taken.contains(&name) {
                name = format!("{}-{k}", node.name);
                k += 1;
            }
            taken.push(name.clone());
            renames.insert(node.name.clone(), name.clone());
            fresh.name = name;
            fresh.pos = Pos(node.pos.0 + 40.0, node.pos.1 + 40.0);
            nodes.push(fresh);
        }
        let edges = part
            .edge_list()
            .into_iter()
            .filter_map(|mut e| {
                e.from = renames.get(&e.from)?.clone();
                e.to = renames.get(&e.to)?.clone();
                Some(e)
            })
            .collect();
        let names: Vec<String> = nodes.iter().map(|n| n.name.clone()).collect();
        match self.doc.apply(Command::Add { nodes, edges }) {
            Ok(()) => {
                self.selection = Selection {
                    nodes: names.into_iter().collect(),
                    edge: None,
                };
            }
            Err(e) => self.notify_error(format!("Cannot paste: {e}")),
        }
    }
}
