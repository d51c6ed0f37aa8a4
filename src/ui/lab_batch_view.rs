//! One micro-batch as Lab mode shows it: the batch's bounds and record count, what
//! each node produced for it (a spout: the records cut into the batch), and the
//! windows that closed at it with the keys they held.
//!
//! Reads a [`BatchTrace`] from the lab's trace and returns the node the learner
//! clicked, if any, so the app can select it; it changes nothing itself.

use egui::{CollapsingHeader, Grid, RichText, ScrollArea, Ui};

use crate::runtime::lab::{BatchTrace, NodeBatch};

/// Rows of a node's output listed before "… and N more".
const ROWS: usize = 50;

/// Draws `batch`; returns the name of a node whose title was clicked.
pub fn batch_view_ui(ui: &mut Ui, batch: &BatchTrace) -> Option<String> {
    let mut clicked = None;
    ui.label(
        RichText::new(format!(
            "Batch ({:.1} s, {:.1} s]: {} records cut from the receivers",
            batch.from_ms as f64 / 1000.0,
            batch.time_ms as f64 / 1000.0,
            batch.records
        ))
        .strong(),
    );
    if !batch.killed_workers.is_empty() {
        let workers: Vec<String> = batch.killed_workers.iter().map(u32::to_string).collect();
        ui.label(format!(
            "worker {} lost during this batch's job",
            workers.join(", ")
        ));
        if batch.recomputed.is_empty() {
            ui.label("nothing a later operator needed was lost");
        }
        for r in &batch.recomputed {
            ui.label(format!(
                "recomputed from lineage: {} task {} (worker {}), {} input records",
                r.node, r.task, r.worker, r.records
            ));
        }
    }
    ScrollArea::vertical()
        .id_salt("lab batch")
        .auto_shrink([false, true])
        .show(ui, |ui| {
            for node in &batch.nodes {
                if let Some(name) = node_ui(ui, node) {
                    clicked = Some(name);
                }
            }
            for w in &batch.windows {
                let title = format!(
                    "window {} closed: {} keys over {} batches",
                    w.node, w.result.keys, w.result.batches
                );
                CollapsingHeader::new(title)
                    .id_salt(("lab window", &w.node))
                    .default_open(true)
                    .show(ui, |ui| {
                        Grid::new(("lab window rows", &w.node))
                            .striped(true)
                            .show(ui, |ui| {
                                for (key, value) in &w.result.top {
                                    ui.label(key);
                                    ui.label(format!("{value}"));
                                    ui.end_row();
                                }
                            });
                    });
            }
        });
    clicked
}

/// One node's output for the batch; returns its name when its title was clicked.
fn node_ui(ui: &mut Ui, node: &NodeBatch) -> Option<String> {
    let title = format!("{}: {} records", node.node, node.count);
    let response = CollapsingHeader::new(title)
        .id_salt(("lab batch node", &node.node))
        .default_open(false)
        .show(ui, |ui| {
            for fields in node.values.iter().take(ROWS) {
                ui.label(RichText::new(fields.describe()).monospace());
            }
            let listed = node.values.len().min(ROWS);
            if node.count > listed {
                ui.weak(format!("… and {} more", node.count - listed));
            }
        });
    response
        .header_response
        .clicked()
        .then(|| node.node.clone())
}
