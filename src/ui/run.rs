//! The live run: starts the runtime on the current design and turns its metrics into
//! canvas overlays. (Placeholder until the runtime lands: runs are refused politely.)

use egui::Ui;

use super::actions::Action;
use super::app::DesignerApp;
use super::canvas::overlay::RunOverlay;
use super::problems_panel::BottomTab;
use super::selection::Selection;
use crate::model::Topology;
use crate::validate;

/// A run in progress.
pub struct RunSession {
    paused: bool,
    overlay: RunOverlay,
}

impl RunSession {
    pub fn is_paused(&self) -> bool {
        self.paused
    }

    pub fn overlay(&self) -> RunOverlay {
        self.overlay.clone()
    }

    pub fn poll(&mut self, _log: &mut Vec<String>) {}

    pub fn pause(&mut self) {
        self.paused = true;
    }

    pub fn resume(&mut self) {
        self.paused = false;
    }

    pub fn stop(self) {}

    pub fn inspector_ui(
        &mut self,
        _ui: &mut Ui,
        _t: &Topology,
        _selection: &Selection,
    ) -> Vec<Action> {
        Vec::new()
    }
}

impl DesignerApp {
    pub(super) fn start_run(&mut self, _ctx: &egui::Context) {
        if self.run.is_some() {
            return;
        }
        let diagnostics = validate::validate(&self.doc.topology);
        if !validate::is_runnable(&diagnostics) {
            let errors = diagnostics.iter().filter(|d| d.is_error()).count();
            self.bottom_tab = BottomTab::Problems;
            self.notify_error(format!(
                "Cannot run: {errors} problem(s) to fix first (see Problems)"
            ));
            return;
        }
        self.notify_error("This build has no runtime yet");
    }

    pub(super) fn stop_run(&mut self) {
        if let Some(run) = self.run.take() {
            run.stop();
        }
    }
}
