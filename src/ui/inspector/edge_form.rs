//! The inspector's form for one edge: stream, grouping, grouping fields, and in
//! micro-batch mode what the grouping means there.

use egui::{ComboBox, Grid, Ui};

use crate::design::commands::Command;
use crate::design::wiring;
use crate::model::{Edge, Grouping, NamedEdge, Role, Topology};
use crate::ui::actions::Action;

/// Groupings that fit an edge between these roles.
fn choices(from: Role, to: Role) -> Vec<Grouping> {
    if to == Role::Channel {
        vec![
            Grouping::Required,
            Grouping::Optional,
            Grouping::Mapped(Vec::new()),
            Grouping::MappedOptional(Vec::new()),
            Grouping::Default,
        ]
    } else if from == Role::Channel {
        vec![Grouping::Drain]
    } else {
        vec![
            Grouping::Shuffle,
            Grouping::Fields(Vec::new()),
            Grouping::All,
            Grouping::Global,
            Grouping::LocalOrShuffle,
            Grouping::None,
            Grouping::PartialKey(Vec::new()),
            Grouping::Direct,
        ]
    }
}

fn same_kind(a: &Grouping, b: &Grouping) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}

fn kind_name(g: &Grouping) -> String {
    crate::ui::palette::grouping_title(&match g {
        Grouping::Fields(_) => Grouping::Fields(Vec::new()),
        Grouping::PartialKey(_) => Grouping::PartialKey(Vec::new()),
        Grouping::Mapped(_) => return "mapped(…)".into(),
        Grouping::MappedOptional(_) => return "optional(…)".into(),
        other => other.clone(),
    })
}

pub fn edge_form_ui(ui: &mut Ui, t: &Topology, edge: &NamedEdge) -> Vec<Action> {
    let mut actions = Vec::new();
    let (Some(from), Some(to)) = (t.node_by_name(&edge.from), t.node_by_name(&edge.to)) else {
        return actions;
    };
    ui.label(egui::RichText::new(format!("{} to {}", edge.from, edge.to)).strong());
    let mut stream = edge.stream.clone();
    let mut grouping = edge.grouping.clone();
    let fields = wiring::upstream_fields(t, &edge.from, &edge.stream);
    Grid::new("edge-form")
        .num_columns(2)
        .spacing([8.0, 6.0])
        .show(ui, |ui| {
            let l = ui
                .label("Stream")
                .on_hover_text("Which of the upstream's declared streams this edge subscribes to.")
                .id;
            ComboBox::from_id_salt("edge-stream")
                .selected_text(stream.as_str())
                .show_ui(ui, |ui| {
                    for decl in &from.outputs {
                        ui.selectable_value(&mut stream, decl.stream.clone(), &decl.stream);
                    }
                })
                .response
                .labelled_by(l);
            ui.end_row();

            let l = ui
                .label("Grouping")
                .on_hover_text("How tuples on this edge are spread over the consumer's tasks.")
                .id;
            ComboBox::from_id_salt("edge-grouping")
                .selected_text(kind_name(&grouping))
                .show_ui(ui, |ui| {
                    for choice in choices(from.role, to.role) {
                        let selected = same_kind(&choice, &grouping);
                        if ui.selectable_label(selected, kind_name(&choice)).clicked() && !selected
                        {
                            grouping = match choice {
                                Grouping::Fields(_) => {
                                    Grouping::Fields(fields.first().cloned().into_iter().collect())
                                }
                                Grouping::PartialKey(_) => Grouping::PartialKey(
                                    fields.first().cloned().into_iter().collect(),
                                ),
                                other => other,
                            };
                        }
                    }
                })
                .response
                .labelled_by(l);
            ui.end_row();

            if let Grouping::Fields(chosen) | Grouping::PartialKey(chosen) = &mut grouping {
                ui.label("Fields")
                    .on_hover_text("Picked from the upstream's declared fields on this stream.");
                ui.vertical(|ui| {
                    if fields.is_empty() {
                        ui.label(egui::RichText::new("the upstream declares no fields").weak());
                    }
                    for f in &fields {
                        let mut on = chosen.contains(f);
                        if ui.checkbox(&mut on, f).changed() {
                            if on {
                                chosen.push(f.clone());
                            } else {
                                chosen.retain(|c| c != f);
                            }
                        }
                    }
                });
                ui.end_row();
            }
            if let Grouping::Mapped(values) | Grouping::MappedOptional(values) = &mut grouping {
                let l = ui
                    .label("Header values")
                    .on_hover_text(
                        "Events whose selector header has one of these values (comma separated).",
                    )
                    .id;
                let mut text = values.join(", ");
                if ui.text_edit_singleline(&mut text).labelled_by(l).changed() {
                    *values = text
                        .split(',')
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .collect();
                }
                ui.end_row();
            }
        });
    // The grouping above is the file's (Storm's) name; say what it means in this mode.
    let mode = t.settings.mode;
    if let Some(meaning) = grouping.meaning_in(mode) {
        ui.add_space(4.0);
        ui.label(
            egui::RichText::new(format!("In micro-batch mode: {}", grouping.label_in(mode)))
                .strong(),
        );
        ui.label(egui::RichText::new(meaning).weak());
    }
    ui.separator();
    if ui
        .button("🗑 Delete edge")
        .on_hover_text("Delete (Del)")
        .clicked()
    {
        actions.push(Action::Delete);
    }
    if stream != edge.stream || grouping != edge.grouping {
        let key = format!("edge:{}:{}:{}", edge.from, edge.to, edge.stream);
        actions.push(Action::merged(
            Command::SetEdge {
                key: edge.clone(),
                edge: Edge {
                    stream: stream.clone(),
                    grouping: grouping.clone(),
                },
            },
            key,
        ));
        actions.push(Action::Select(crate::design::selection::Selection::edge(
            NamedEdge {
                stream,
                grouping,
                ..edge.clone()
            },
        )));
    }
    actions
}
