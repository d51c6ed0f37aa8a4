//! The inspector when nothing is selected: the topology's own settings.

use egui::{ComboBox, DragValue, Grid, TextEdit, Ui};

use crate::design::commands::Command;
use crate::model::{ExecutionMode, Guarantee, Topology};
use crate::ui::actions::Action;

pub fn settings_form_ui(ui: &mut Ui, t: &Topology) -> Vec<Action> {
    let mut name = t.name.clone();
    let mut description = t.description.clone();
    let mut s = t.settings.clone();
    let mut merge = "topology".to_string();
    ui.label(egui::RichText::new("Topology").strong());
    Grid::new("settings-form").num_columns(2).spacing([8.0, 6.0]).show(ui, |ui| {
        let l = ui.label("Name").on_hover_text("Used as the Storm topology name and Flume agent prefix on export.").id;
        if ui.add(TextEdit::singleline(&mut name).desired_width(150.0)).labelled_by(l).changed() {
            merge = "topology:name".into();
        }
        ui.end_row();
        let l = ui.label("Message timeout (s)").on_hover_text("topology.message.timeout.secs: a tuple tree not completed in time fails and is replayed.").id;
        ui.add(DragValue::new(&mut s.message_timeout_secs).range(1..=3600)).labelled_by(l);
        ui.end_row();
        let l = ui.label("Max spout pending").on_hover_text("topology.max.spout.pending, per spout task: caps tuples in flight. Off = unlimited.").id;
        ui.horizontal(|ui| {
            let mut on = s.max_spout_pending.is_some();
            if ui.checkbox(&mut on, "").labelled_by(l).changed() {
                s.max_spout_pending = on.then_some(1000);
            }
            if let Some(p) = &mut s.max_spout_pending {
                ui.add(DragValue::new(p).range(1..=1_000_000)).labelled_by(l);
            } else {
                ui.label(egui::RichText::new("unlimited").weak());
            }
        });
        ui.end_row();
        let l = ui.label("Ackers").on_hover_text("Acker tasks; 0 switches tracking off (every emit is acked at once).").id;
        ui.add(DragValue::new(&mut s.ackers).range(0..=64)).labelled_by(l);
        ui.end_row();
        let l = ui.label("Workers").on_hover_text("Simulated worker processes that executors are spread over (failure domains).").id;
        ui.add(DragValue::new(&mut s.workers).range(1..=64)).labelled_by(l);
        ui.end_row();
        let l = ui.label("Mode").on_hover_text("Record-at-a-time (Storm) or micro-batches every interval (Spark Streaming).").id;
        let batch = matches!(s.mode, ExecutionMode::MicroBatch { .. });
        ComboBox::from_id_salt("mode").selected_text(if batch { "micro-batch" } else { "record at a time" }).show_ui(ui, |ui| {
            if ui.selectable_label(!batch, "record at a time").clicked() {
                s.mode = ExecutionMode::RecordAtATime;
            }
            if ui.selectable_label(batch, "micro-batch").clicked() && !batch {
                s.mode = ExecutionMode::MicroBatch { interval_ms: 1000 };
            }
        }).response.labelled_by(l);
        ui.end_row();
        if let ExecutionMode::MicroBatch { interval_ms } = &mut s.mode {
            let l = ui.label("Batch interval (ms)").id;
            ui.add(DragValue::new(interval_ms).range(10..=600_000)).labelled_by(l);
            ui.end_row();
        }
        let l = ui.label("Guarantee").on_hover_text("What a record-at-a-time run promises each record: at most once (no tracking), at least once (acking and replay) or exactly once (Trident's batches and committed state).").id;
        ComboBox::from_id_salt("guarantee").selected_text(s.guarantee.label()).show_ui(ui, |ui| {
            for g in Guarantee::ALL {
                if ui.selectable_label(s.guarantee == g, g.label()).clicked() {
                    s.guarantee = g;
                }
            }
        }).response.labelled_by(l);
        ui.end_row();
    });
    ui.label("Description");
    if ui
        .add(
            TextEdit::multiline(&mut description)
                .hint_text("What this topology does")
                .desired_rows(4)
                .desired_width(f32::INFINITY),
        )
        .changed()
    {
        merge = "topology:description".into();
    }
    if super::scenario_section::scenario_ui(ui, t, &mut s.scenario) {
        merge = "topology:scenario".into();
    }
    if name != t.name || description != t.description || s != t.settings {
        vec![Action::merged(
            Command::SetTopology {
                name,
                description,
                settings: s,
            },
            merge,
        )]
    } else {
        Vec::new()
    }
}
