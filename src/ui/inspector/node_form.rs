//! The inspector's form for one node, generated from its component descriptor.

use egui::{ComboBox, DragValue, Grid, TextEdit, Ui};

use super::InspectorState;
use crate::components::{self, ParamKind, ParamSpec};
use crate::design::commands::Command;
use crate::model::{Node, Role, StreamDecl, Topology, Value, WindowSize};
use crate::ui::actions::Action;
use crate::validate::{MAX_PARALLELISM, MAX_TASKS};

/// Edits a copy of the node; any change becomes one `ReplaceNode` command.
pub fn node_form_ui(
    ui: &mut Ui,
    t: &Topology,
    node: &Node,
    state: &mut InspectorState,
) -> Vec<Action> {
    let mut actions = Vec::new();
    let mut edited = node.clone();
    let mut merge_key = None;
    let key = |field: &str| format!("node:{}:{field}", node.name);

    let system = components::descriptor(&node.component).map_or("", |d| d.system.label());
    ui.label(
        egui::RichText::new(format!(
            "{} {} · {}",
            system,
            node.role.label(),
            node.component
        ))
        .weak(),
    );
    Grid::new("node-form").num_columns(2).spacing([8.0, 6.0]).show(ui, |ui| {
        let l = ui.label("Name").on_hover_text("Unique in the topology; files and diagnostics use it.").id;
        // Renames commit on Enter or when leaving the field: a half-typed name may
        // collide with another node, and the selection follows the name.
        let buffer = state.name_buffer.get_or_insert_with(|| (node.name.clone(), node.name.clone()));
        if buffer.0 != node.name {
            *buffer = (node.name.clone(), node.name.clone());
        }
        let response = ui.add(TextEdit::singleline(&mut buffer.1).desired_width(150.0)).labelled_by(l);
        if (response.lost_focus() || ui.input(|i| i.key_pressed(egui::Key::Enter))) && buffer.1 != node.name {
            let new_name = buffer.1.trim().to_string();
            if new_name.is_empty() {
                actions.push(Action::Refused("a node needs a name".into()));
                buffer.1 = node.name.clone();
            } else if t.index_of(&new_name).is_some() {
                actions.push(Action::Refused(format!("a node named '{new_name}' already exists")));
                buffer.1 = node.name.clone();
            } else {
                edited.name = new_name;
            }
        }
        ui.end_row();

        let l = ui.label("Component").on_hover_text("What the node does; the form below follows it.").id;
        let mut component = edited.component.clone();
        ComboBox::from_id_salt("component")
            .selected_text(component.as_str())
            .show_ui(ui, |ui| {
                for d in components::registry().iter().filter(|d| d.roles.contains(&node.role)) {
                    ui.selectable_value(&mut component, d.id.to_string(), d.title).on_hover_text(d.doc);
                }
            })
            .response
            .labelled_by(l);
        if component != edited.component {
            change_component(&mut edited, &component);
        }
        ui.end_row();

        let l = ui.label("Parallelism").on_hover_text("Executors (threads) for this node: Storm's parallelism hint.").id;
        if ui.add(DragValue::new(&mut edited.parallelism).range(1..=MAX_PARALLELISM)).labelled_by(l).changed() {
            merge_key = Some(key("parallelism"));
        }
        ui.end_row();

        let l = ui.label("Tasks").on_hover_text("Component instances, ≥ parallelism; fixed for a run so fields-grouping placement is stable.").id;
        ui.horizontal(|ui| {
            let mut own = edited.tasks.is_some();
            if ui.checkbox(&mut own, "").labelled_by(l).on_hover_text("Set a task count different from parallelism").changed() {
                edited.tasks = own.then_some(edited.parallelism);
            }
            if let Some(tasks) = &mut edited.tasks {
                if ui.add(DragValue::new(tasks).range(1..=MAX_TASKS)).labelled_by(l).changed() {
                    merge_key = Some(key("tasks"));
                }
            } else {
                ui.label(egui::RichText::new("= parallelism").weak());
            }
        });
        ui.end_row();
    });

    if let Some(desc) = components::descriptor(&node.component)
        && !desc.params.is_empty()
    {
        ui.separator();
        ui.label(egui::RichText::new("Configuration").strong())
            .on_hover_text(desc.doc);
        let inputs = Inputs {
            fields: input_fields(t, node),
            nodes: upstream_names(t, node),
        };
        Grid::new("node-config")
            .num_columns(2)
            .spacing([8.0, 6.0])
            .show(ui, |ui| {
                for spec in &desc.params {
                    let l = ui.label(spec.key).on_hover_text(spec.doc).id;
                    if param_ui(ui, spec, l, &mut edited, &inputs) {
                        merge_key = Some(key(spec.key));
                    }
                    ui.end_row();
                }
            });
    }

    if let Some(window) = &mut edited.window {
        ui.separator();
        ui.label(egui::RichText::new("Window").strong())
            .on_hover_text(
                "Length and slide: equal for a tumbling window, slide < length for a sliding one.",
            );
        Grid::new("node-window").num_columns(2).show(ui, |ui| {
            let l = ui.label("Length").id;
            if window_size_ui(ui, "length", l, &mut window.length) {
                merge_key = Some(key("window"));
            }
            ui.end_row();
            let l = ui.label("Slide").id;
            if window_size_ui(ui, "slide", l, &mut window.slide) {
                merge_key = Some(key("window"));
            }
            ui.end_row();
        });
    }

    if node.role != Role::Sink && node.role != Role::Channel {
        ui.separator();
        ui.label(egui::RichText::new("Output fields").strong())
            .on_hover_text("What this node declares on each stream (Storm's declareOutputFields); comma separated.");
        outputs_ui(
            ui,
            &mut edited.outputs,
            &mut merge_key,
            &key("outputs"),
            state,
        );
    }

    if components::runs_a_program(&node.component) {
        let inputs = input_fields(t, node);
        actions.extend(super::shell_try::shell_try_ui(
            ui,
            node,
            &inputs,
            &mut state.shell_try,
        ));
    }

    ui.separator();
    if ui
        .button("🗑 Delete node")
        .on_hover_text("Delete (Del)")
        .clicked()
    {
        actions.push(Action::Delete);
    }

    if edited != *node {
        let command = Command::ReplaceNode {
            name: node.name.clone(),
            node: edited,
        };
        actions.push(Action::Apply {
            command,
            merge: merge_key,
        });
    }
    actions
}

/// Fields arriving at a node: the union of what its upstreams declare on the edges.
fn input_fields(t: &Topology, node: &Node) -> Vec<String> {
    let Some(index) = t.index_of(&node.name) else {
        return Vec::new();
    };
    let mut fields = Vec::new();
    for (_, up, edge) in t.inputs(index) {
        let up_name = t.node(up).map(|n| n.name.clone()).unwrap_or_default();
        for f in crate::design::wiring::upstream_fields(t, &up_name, &edge.stream) {
            if !fields.contains(&f) {
                fields.push(f);
            }
        }
    }
    fields
}

/// Names of the nodes wired into `node`, each once, in wiring order.
fn upstream_names(t: &Topology, node: &Node) -> Vec<String> {
    let Some(index) = t.index_of(&node.name) else {
        return Vec::new();
    };
    let mut names: Vec<String> = Vec::new();
    for (_, up, _) in t.inputs(index) {
        if let Some(up) = t.node(up)
            && !names.contains(&up.name)
        {
            names.push(up.name.clone());
        }
    }
    names
}

/// What arrives at the node being edited: the widgets offer these as choices.
struct Inputs {
    fields: Vec<String>,
    nodes: Vec<String>,
}

/// One config parameter with the widget its kind calls for; true if changed.
fn param_ui(
    ui: &mut Ui,
    spec: &ParamSpec,
    label: egui::Id,
    node: &mut Node,
    inputs: &Inputs,
) -> bool {
    let input_fields = &inputs.fields;
    let current = node
        .config
        .get(spec.key)
        .cloned()
        .or_else(|| spec.default.clone());
    let mut changed = None;
    match &spec.kind {
        ParamKind::Int { min, max } => {
            let mut v = current.as_ref().and_then(Value::as_i64).unwrap_or(*min);
            if ui
                .add(DragValue::new(&mut v).range(*min..=*max))
                .labelled_by(label)
                .changed()
            {
                changed = Some(Value::Int(v));
            }
        }
        ParamKind::Float { min, max } => {
            let mut v = current.as_ref().and_then(Value::as_f64).unwrap_or(*min);
            if ui
                .add(DragValue::new(&mut v).range(*min..=*max).speed(0.1))
                .labelled_by(label)
                .changed()
            {
                changed = Some(Value::Float(v));
            }
        }
        ParamKind::Bool => {
            let mut v = current.as_ref().and_then(Value::as_bool).unwrap_or(false);
            if ui.checkbox(&mut v, "").labelled_by(label).changed() {
                changed = Some(Value::Bool(v));
            }
        }
        ParamKind::Text | ParamKind::Path(_) | ParamKind::ListenHost => {
            let mut v = current
                .as_ref()
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            if ui
                .add(TextEdit::singleline(&mut v).desired_width(150.0))
                .labelled_by(label)
                .changed()
            {
                changed = Some(Value::Str(v));
            }
        }
        ParamKind::Choice(options) => {
            let mut v = current
                .as_ref()
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            ComboBox::from_id_salt(spec.key)
                .selected_text(v.as_str())
                .show_ui(ui, |ui| {
                    for option in *options {
                        ui.selectable_value(&mut v, option.to_string(), *option);
                    }
                })
                .response
                .labelled_by(label);
            if Some(v.as_str()) != current.as_ref().and_then(Value::as_str) {
                changed = Some(Value::Str(v));
            }
        }
        ParamKind::Field => {
            let mut v = current
                .as_ref()
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            ui.horizontal(|ui| {
                let r = ui
                    .add(TextEdit::singleline(&mut v).desired_width(110.0))
                    .labelled_by(label);
                r.on_hover_text("A field of the incoming stream");
                if !input_fields.is_empty() {
                    ComboBox::from_id_salt(spec.key)
                        .selected_text("")
                        .width(24.0)
                        .show_ui(ui, |ui| {
                            for f in input_fields {
                                ui.selectable_value(&mut v, f.clone(), f);
                            }
                        })
                        .response
                        .labelled_by(label)
                        .on_hover_text("Pick a field of the incoming stream");
                }
            });
            if Some(v.as_str()) != current.as_ref().and_then(Value::as_str) {
                changed = Some(Value::Str(v));
            }
        }
        ParamKind::Upstream => {
            let mut v = current
                .as_ref()
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let shown = if v.is_empty() { "(choose)" } else { v.as_str() }.to_string();
            ComboBox::from_id_salt(spec.key)
                .selected_text(shown)
                .show_ui(ui, |ui| {
                    for name in &inputs.nodes {
                        ui.selectable_value(&mut v, name.clone(), name);
                    }
                })
                .response
                .labelled_by(label)
                .on_hover_text("A node wired into this one");
            if Some(v.as_str()) != current.as_ref().and_then(Value::as_str) {
                changed = Some(Value::Str(v));
            }
        }
        ParamKind::Command => {
            // A command line: the program, then its arguments, separated by spaces (a
            // part with a space in it is written in the file as its own list entry).
            let mut text = current
                .as_ref()
                .and_then(Value::as_list)
                .map(|l| {
                    l.iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .unwrap_or_default();
            if ui
                .add(
                    TextEdit::singleline(&mut text)
                        .desired_width(ui.available_width().max(150.0))
                        .hint_text("python3 bolt.py"),
                )
                .labelled_by(label)
                .on_hover_text("The program and its arguments, run in the topology's folder")
                .changed()
            {
                changed = Some(Value::List(
                    text.split_whitespace()
                        .map(|s| Value::Str(s.to_string()))
                        .collect(),
                ));
            }
        }
        ParamKind::List => {
            let items: Vec<String> = current
                .as_ref()
                .and_then(Value::as_list)
                .map(|l| {
                    l.iter()
                        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            let mut text = items.join(", ");
            if ui
                .add(TextEdit::singleline(&mut text).desired_width(150.0))
                .labelled_by(label)
                .changed()
            {
                changed = Some(Value::List(
                    split_list(&text).into_iter().map(Value::Str).collect(),
                ));
            }
        }
    }
    match changed {
        Some(value) => {
            node.config.insert(spec.key.to_string(), value);
            refresh_outputs(node);
            true
        }
        None => false,
    }
}

fn window_size_ui(ui: &mut Ui, id: &str, label: egui::Id, size: &mut WindowSize) -> bool {
    let mut changed = false;
    ui.horizontal(|ui| {
        let mut amount = size.amount();
        let by_time = matches!(size, WindowSize::Millis(_));
        changed |= ui
            .add(DragValue::new(&mut amount).range(1..=u64::MAX))
            .labelled_by(label)
            .changed();
        let mut kind = by_time;
        ComboBox::from_id_salt(id)
            .selected_text(if kind { "ms" } else { "tuples" })
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut kind, false, "tuples");
                ui.selectable_value(&mut kind, true, "ms");
            })
            .response
            .labelled_by(label);
        changed |= kind != by_time;
        *size = if kind {
            WindowSize::Millis(amount)
        } else {
            WindowSize::Count(amount)
        };
    });
    changed
}

fn outputs_ui(
    ui: &mut Ui,
    outputs: &mut Vec<StreamDecl>,
    merge_key: &mut Option<String>,
    key: &str,
    state: &mut InspectorState,
) {
    let _ = state;
    let mut remove = None;
    for (i, decl) in outputs.iter_mut().enumerate() {
        ui.horizontal(|ui| {
            let mut stream = decl.stream.clone();
            if ui
                .add(
                    TextEdit::singleline(&mut stream)
                        .desired_width(60.0)
                        .hint_text("stream"),
                )
                .on_hover_text("Stream id")
                .changed()
            {
                decl.stream = stream;
                *merge_key = Some(format!("{key}:{i}:stream"));
            }
            let mut fields = decl.fields.join(", ");
            if ui
                .add(
                    TextEdit::singleline(&mut fields)
                        .desired_width(130.0)
                        .hint_text("fields"),
                )
                .on_hover_text("Fields, comma separated")
                .changed()
            {
                decl.fields = split_list(&fields);
                *merge_key = Some(format!("{key}:{i}:fields"));
            }
            if ui
                .small_button("✖")
                .on_hover_text("Remove this stream")
                .clicked()
            {
                remove = Some(i);
            }
        });
    }
    if let Some(i) = remove {
        outputs.remove(i);
    }
    if ui.small_button("+ stream").clicked() {
        let name = if outputs.is_empty() {
            "default".to_string()
        } else {
            format!("stream{}", outputs.len() + 1)
        };
        outputs.push(StreamDecl::new(name, &[]));
    }
}

fn split_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Switching component keeps config keys the new one also has, takes its defaults for
/// the rest, and re-declares outputs.
fn change_component(node: &mut Node, id: &str) {
    let Some(desc) = components::descriptor(id) else {
        return;
    };
    let mut fresh = components::new_node_as(desc, node.name.clone(), node.role);
    for (k, v) in &node.config {
        if let Some(spec) = desc.param(k)
            && spec.kind.check(v).is_ok()
        {
            fresh.config.insert(k.clone(), v.clone());
        }
    }
    fresh.outputs = desc.declared_outputs(&fresh.config, &[]);
    if fresh.outputs.is_empty() && node.role != Role::Sink {
        fresh.outputs = node.outputs.clone();
    }
    node.component = fresh.component;
    node.config = fresh.config;
    node.outputs = fresh.outputs;
    node.window = fresh.window.or(node.window);
    if !desc.requires_window() {
        node.window = None;
    }
}

/// Keeps outputs declared from config (split's `into` names its field) in step with it.
fn refresh_outputs(node: &mut Node) {
    let Some(desc) = components::descriptor(&node.component) else {
        return;
    };
    if let components::OutputShape::Fields(_) = desc.outputs
        && let Some(fields) = desc.output_fields(&node.config, &[])
        && let Some(first) = node.outputs.first_mut()
    {
        first.fields = fields;
    }
}
