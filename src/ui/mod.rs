//! The designer (eframe app). Only this layer knows egui; the editing logic it drives
//! lives headless in [`crate::design`].
//!
//! Data flows one way: panels and the canvas read the [`crate::design::document::Document`]
//! and metrics snapshots and return [`actions::Action`]s; `perform` turns them into
//! [`crate::design::commands::Command`]s (each with an inverse, so undo/redo is exact) or
//! file operations.

pub mod actions;
pub mod app;
pub mod asks;
mod batch_panel;
pub mod canvas;
mod cluster_panel;
pub mod compare;
mod compare_panel;
mod dialogs;
mod file_dialogs;
mod flume_panel;
pub mod guarantees_panel;
pub mod image_export;
pub mod inspector;
pub mod lab;
pub mod lab_batch_view;
pub mod lesson;
mod log_axis;
pub mod palette;
mod perform;
pub mod problems_panel;
mod rebalance_panel;
pub mod run;
pub mod run_log;
mod run_panel;
mod shortcuts;
pub mod side_panels;
pub mod spark_export;
pub mod speed;
pub mod toolbar;
mod tracer_panel;
mod transactions_view;
pub mod words;

use std::path::PathBuf;

use crate::design::FilePlaces;

pub use app::DesignerApp;

/// Opens the designer window (on `file` if given); returns when the user closes it.
pub fn run_app(file: Option<PathBuf>) -> anyhow::Result<()> {
    let mut app = DesignerApp::new(FilePlaces::for_user());
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_inner_size([1400.0, 860.0])
            .with_min_inner_size([800.0, 500.0])
            .with_title("Tributary"),
        ..Default::default()
    };
    eframe::run_native(
        "Tributary",
        options,
        Box::new(move |cc| {
            if let Some(path) = &file {
                app.perform(&cc.egui_ctx, actions::Action::Open(Some(path.clone())));
            }
            Ok(Box::new(app))
        }),
    )
    .map_err(|e| anyhow::anyhow!("cannot open the designer window: {e}"))
}
