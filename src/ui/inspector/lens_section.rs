//! The inspector's grouping lens section, shown while editing and during runs alike
//! (it changes nothing in the design): "Show tasks" for a selected node or both ends
//! of a selected edge, and on a fields or partial-key edge a key field per grouping
//! field with where that key goes and why (`runtime::key_route`).

use egui::{RichText, Ui};

use crate::design::selection::Selection;
use crate::model::{ExecutionMode, Grouping, NamedEdge, Role, Topology};
use crate::runtime::key_route::{self, parse_key};
use crate::ui::actions::Action;
use crate::ui::canvas::lens::Lens;

/// Roles whose tasks the record-at-a-time engine numbers.
fn has_tasks(t: &Topology, node: &str) -> bool {
    t.node_by_name(node)
        .is_some_and(|n| matches!(n.role, Role::Spout | Role::Bolt))
}

pub fn lens_section_ui(
    ui: &mut Ui,
    t: &Topology,
    selection: &Selection,
    lens: &mut Lens,
) -> Vec<Action> {
    let mut actions = Vec::new();
    if t.settings.mode != ExecutionMode::RecordAtATime {
        return actions;
    }
    let mut tasks_of = |name: &str| -> Vec<u32> {
        let ids = lens.task_ids(t).ok();
        ids.and_then(|m| m.get(name)).cloned().unwrap_or_default()
    };
    if let Some(name) = selection.single_node() {
        if !has_tasks(t, name) {
            return actions;
        }
        let tasks = tasks_of(name);
        ui.label(RichText::new("Grouping lens").strong());
        show_tasks_ui(ui, lens, name, &tasks, &mut actions);
        ui.separator();
    } else if let (Some(edge), true) = (&selection.edge, selection.nodes.is_empty()) {
        if !has_tasks(t, &edge.from) || !has_tasks(t, &edge.to) {
            return actions;
        }
        let ends = [tasks_of(&edge.from), tasks_of(&edge.to)];
        ui.label(RichText::new("Grouping lens").strong());
        for (name, tasks) in [&edge.from, &edge.to].into_iter().zip(&ends) {
            show_tasks_ui(ui, lens, name, tasks, &mut actions);
        }
        key_ui(ui, edge, &ends[1]);
        ui.separator();
    }
    actions
}

fn show_tasks_ui(ui: &mut Ui, lens: &Lens, node: &str, tasks: &[u32], actions: &mut Vec<Action>) {
    let mut shown = lens.shows(node);
    let text = format!("Show tasks of {node}");
    if ui
        .checkbox(&mut shown, text)
        .on_hover_text(
            "Draw the node as one lane per task, labelled with its Storm task id; during a \
             run, edges at it become task-to-task links drawn by how many tuples each pair \
             delivered.",
        )
        .changed()
    {
        actions.push(Action::ShowTasks {
            node: node.to_string(),
            shown,
        });
    }
    if let (Some(first), Some(last)) = (tasks.first(), tasks.last()) {
        let ids = if first == last {
            format!("task {first}")
        } else {
            format!("tasks {first} to {last}")
        };
        ui.label(RichText::new(format!("  {node} runs {ids}")).weak());
    }
}

/// The key field(s) of a fields or partial-key edge and where the typed key goes.
fn key_ui(ui: &mut Ui, edge: &NamedEdge, targets: &[u32]) {
    let fields = match &edge.grouping {
        Grouping::Fields(f) | Grouping::PartialKey(f) => f.clone(),
        _ => return,
    };
    ui.add_space(4.0);
    ui.label("Where does a key go? Type one:");
    // With no fields named, partial key hashes the tuple's first value.
    let names = if fields.is_empty() {
        vec!["first value".to_string()]
    } else {
        fields
    };
    let mut key = Vec::new();
    let mut typed = false;
    for field in &names {
        let id = ui.make_persistent_id(("lens-key", &edge.from, &edge.to, &edge.stream, field));
        let mut text: String = ui.data_mut(|d| d.get_temp(id)).unwrap_or_default();
        ui.horizontal(|ui| {
            let l = ui.label(format!("key {field}")).id;
            ui.text_edit_singleline(&mut text).labelled_by(l);
        });
        typed |= !text.trim().is_empty();
        key.push(parse_key(&text));
        ui.data_mut(|d| d.insert_temp(id, text));
    }
    if !typed {
        ui.label(RichText::new("A number reads as a Long, \"42\" in quotes as text.").weak());
        return;
    }
    let Some(route) = key_route::explain(&edge.grouping, &key, targets) else {
        ui.label(RichText::new("task ids show once the design has no errors").weak());
        return;
    };
    for step in &route.steps {
        ui.label(RichText::new(step).monospace().small());
    }
    let goes = match route.tasks.as_slice() {
        [one] => format!("goes to task {one}"),
        many => format!(
            "goes to task {}",
            many.iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(" or task ")
        ),
    };
    ui.label(RichText::new(goes).strong());
    ui.label(RichText::new(route.verdict).weak());
}
