//! The inspector: a form for whatever is selected, or the topology settings.

mod edge_form;
pub mod lens_section;
mod node_form;
mod scenario_section;
mod settings_form;
pub mod shell_try;

use egui::Ui;

use super::actions::Action;
use crate::design::selection::Selection;
use crate::model::Topology;

/// Inspector state that outlives a frame.
#[derive(Default)]
pub struct InspectorState {
    /// (node name, text being typed) for the rename field.
    pub name_buffer: Option<(String, String)>,
    /// The shell node's "Try it" (sample, run in progress, result).
    pub shell_try: Option<shell_try::ShellTry>,
}

pub fn inspector_ui(
    ui: &mut Ui,
    t: &Topology,
    selection: &Selection,
    state: &mut InspectorState,
) -> Vec<Action> {
    if let Some(name) = selection.single_node() {
        if let Some(node) = t.node_by_name(name) {
            return node_form::node_form_ui(ui, t, node, state);
        }
    } else if let (Some(edge), true) = (&selection.edge, selection.nodes.is_empty()) {
        return edge_form::edge_form_ui(ui, t, edge);
    } else if !selection.is_empty() {
        ui.label(format!(
            "{} selected",
            crate::ui::words::plural(selection.nodes.len(), "node")
        ));
        ui.label(
            egui::RichText::new("Drag to move them together; Del deletes, Ctrl+C copies.").weak(),
        );
        if ui.button("🗑 Delete selection").clicked() {
            return vec![Action::Delete];
        }
        return Vec::new();
    }
    state.name_buffer = None;
    settings_form::settings_form_ui(ui, t)
}
