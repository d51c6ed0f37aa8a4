//! The designer (eframe app). Only this layer knows egui.

use std::path::PathBuf;

use crate::format;
use crate::model::Topology;

/// A read-only view of the opened topology until the canvas lands.
struct Viewer {
    title: String,
    topology: Option<Topology>,
    error: Option<String>,
}

impl eframe::App for Viewer {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        ui.heading(&self.title);
        if let Some(error) = &self.error {
            ui.colored_label(egui::Color32::RED, error);
        }
        if let Some(t) = &self.topology {
            for node in t.nodes() {
                ui.label(format!("{} ({}, {})", node.name, node.role, node.component));
            }
        }
    }
}

/// Opens the designer window; returns when the user closes it.
pub fn run_app(file: Option<PathBuf>) -> anyhow::Result<()> {
    let (topology, error) = match &file {
        Some(path) => match format::load_ron(path) {
            Ok(t) => (Some(t), None),
            Err(e) => (None, Some(e.to_string())),
        },
        None => (None, None),
    };
    let viewer = Viewer {
        title: "Tributary".into(),
        topology,
        error,
    };
    eframe::run_native(
        "Tributary",
        eframe::NativeOptions::default(),
        Box::new(|_cc| Ok(Box::new(viewer))),
    )
    .map_err(|e| anyhow::anyhow!("cannot open the designer window: {e}"))
}
