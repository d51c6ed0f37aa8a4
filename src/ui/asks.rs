//! Questions asked before replacing the design: whether to stop a run that is still going
//! (New, Open, an example or Import during a run), and which agent of a Flume file with
//! several to import. Also where a design comes in from an import or an example, so the
//! questions and the actions they lead to live together.

use std::path::{Path, PathBuf};

use egui::{Id, Modal};

use super::app::{DesignerApp, Pending};
use crate::design::document::{Document, file_label};
use crate::design::example_copy;
use crate::format;

/// A question waiting for the user's answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Ask {
    /// A run or comparison is on; `Pending` waits for "stop the run".
    StopRunFirst(Pending),
    /// A Flume file defining several agents: import one of them, or all.
    PickAgent { path: PathBuf, agents: Vec<String> },
}

impl DesignerApp {
    /// Whether replacing the design must first ask to stop a run. Quitting stops runs
    /// anyway, so it does not ask.
    pub(super) fn ask_stop_first(&mut self, next: &Pending) -> bool {
        let running = self.run.is_some() || self.compare.is_some();
        if running && *next != Pending::Quit {
            self.ask = Some(Ask::StopRunFirst(next.clone()));
        }
        running && *next != Pending::Quit
    }

    /// Imports `path`, asking first which agent when it is a Flume file with several.
    pub(super) fn import_asking(&mut self, path: PathBuf) {
        match format::flume_agents(&path) {
            Ok(Some(agents)) if agents.len() > 1 => {
                self.ask = Some(Ask::PickAgent { path, agents });
            }
            // A file that cannot be read reports why when the import reads it.
            _ => self.import_design(&path, None),
        }
    }

    /// Imports `path` (only `agent`, if given) as an untitled design.
    fn import_design(&mut self, path: &Path, agent: Option<String>) {
        let options = format::ImportOptions {
            agent: agent.clone(),
            ..format::ImportOptions::default()
        };
        match format::import_file(path, &options) {
            Ok(t) => {
                self.stop_run();
                let name = match agent {
                    Some(agent) => format!("{agent} from {} (imported)", file_label(path)),
                    None => format!("{} (imported)", file_label(path)),
                };
                let mut doc = Document::new(t, None, name);
                doc.origin_dir = path.parent().map(Path::to_path_buf);
                doc.force_dirty();
                self.replace_document(doc);
            }
            Err(e) => self.open_error = Some(e.to_string()),
        }
    }

    /// Opens a copy of the example `path`, with the data it reads, in a folder of its own
    /// under the user's data folder, so its runs never write into the examples. A copy
    /// that cannot be made is reported and the current work stays.
    pub(super) fn open_example_copy(&mut self, path: &Path) {
        let copy = match example_copy::copy_example(&self.places, path) {
            Ok(copy) => copy,
            Err(e) => {
                self.open_error = Some(format!("Could not copy the example to work on: {e}"));
                return;
            }
        };
        match format::load_ron(&copy) {
            Ok(t) => {
                self.stop_run();
                let name = format!("{} (example)", file_label(path));
                let mut doc = Document::new(t, None, name);
                doc.origin_dir = copy.parent().map(Path::to_path_buf);
                self.replace_document(doc);
                self.notify(format!(
                    "Opened a copy of {} with its data: runs write only in its folder",
                    file_label(path)
                ));
            }
            Err(e) => self.open_error = Some(e.to_string()),
        }
    }

    /// Draws the open question, if any, and carries out the answer.
    pub(super) fn asks_ui(&mut self, ctx: &egui::Context) {
        let Some(ask) = self.ask.clone() else {
            return;
        };
        match ask {
            Ask::StopRunFirst(next) => {
                let mut answer = None;
                Modal::new(Id::unique("stop-run-first")).show(ctx, |ui| {
                    ui.set_max_width(420.0);
                    ui.heading("Stop the run?");
                    ui.label(format!(
                        "{} is running. It stops before another design is opened.",
                        self.doc.display_name
                    ));
                    ui.add_space(8.0);
                    ui.horizontal(|ui| {
                        if ui.button("Stop the run and continue").clicked() {
                            answer = Some(true);
                        }
                        if ui.button("Keep running").clicked() {
                            answer = Some(false);
                        }
                    });
                });
                match answer {
                    Some(true) => {
                        self.ask = None;
                        self.stop_run();
                        // Now the usual question about unsaved changes, if any.
                        self.ask_then(next);
                    }
                    Some(false) => self.ask = None,
                    None => {}
                }
            }
            Ask::PickAgent { path, agents } => {
                let mut answer = None;
                Modal::new(Id::unique("pick-agent")).show(ctx, |ui| {
                    ui.set_max_width(420.0);
                    ui.heading("Which agent?");
                    ui.label(format!(
                        "{} defines {} Flume agents. Import one of them, or all of them \
                         side by side (their names then start with the agent's).",
                        file_label(&path),
                        agents.len()
                    ));
                    ui.add_space(6.0);
                    for agent in &agents {
                        if ui.button(agent.as_str()).clicked() {
                            answer = Some(Choice::Agent(agent.clone()));
                        }
                    }
                    ui.add_space(6.0);
                    ui.horizontal(|ui| {
                        if ui.button("All agents").clicked() {
                            answer = Some(Choice::All);
                        }
                        if ui.button("Cancel").clicked() {
                            answer = Some(Choice::Cancel);
                        }
                    });
                });
                match answer {
                    Some(Choice::Agent(agent)) => {
                        self.ask = None;
                        self.import_design(&path, Some(agent));
                    }
                    Some(Choice::All) => {
                        self.ask = None;
                        self.import_design(&path, None);
                    }
                    Some(Choice::Cancel) => self.ask = None,
                    None => {}
                }
            }
        }
    }
}

/// An answer to "which agent?".
enum Choice {
    Agent(String),
    All,
    Cancel,
}
