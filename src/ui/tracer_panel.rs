//! Tracer bullets in the live inspector: a switch for how many trees to trace (off, 1 in
//! 10, 100 or 1000) and the latest traced trees, each with its emit-to-ack time and
//! hops; picking one draws its path on the canvas, with each edge's wait.

use egui::{ComboBox, RichText, Ui};

use super::canvas::trace_path::latency_text;
use super::run::RunSession;
use crate::runtime::Control;

/// The sampling choices offered: one tree in this many (0: off).
pub const CHOICES: [u32; 4] = [0, 10, 100, 1000];

/// Trees listed at most (newest first).
const LISTED: usize = 8;

fn choice_text(every: u32) -> String {
    match every {
        0 => "off".to_string(),
        n => format!("1 tree in {n}"),
    }
}

impl RunSession {
    /// The tracer bullets section; record-at-a-time runs only (they have trees).
    pub(super) fn tracer_ui(&mut self, ui: &mut Ui) {
        if self.last.workers.is_empty() {
            return;
        }
        ui.separator();
        let mut every = self.trace_every;
        ui.horizontal(|ui| {
            let label = ui
                .label("Tracer bullets")
                .on_hover_text(
                    "Record every hop of a sample of tuple trees: which task ran each tuple, when, and how long it waited.",
                )
                .id;
            ComboBox::from_id_salt("tracer every")
                .selected_text(choice_text(every))
                .show_ui(ui, |ui| {
                    for n in CHOICES {
                        ui.selectable_value(&mut every, n, choice_text(n));
                    }
                })
                .response
                .labelled_by(label);
        });
        if every != self.trace_every {
            self.trace_every = every;
            self.send(Control::TraceEvery { every });
        }
        let traces = self.last.traces.clone();
        if traces.is_empty() {
            if self.trace_every > 0 {
                ui.label(RichText::new("no traced tree finished yet").weak());
            }
            return;
        }
        let shown = self.shown_trace().map(|t| t.root);
        for tree in traces.iter().rev().take(LISTED) {
            let total = tree
                .complete_latency()
                .map_or_else(|| "in flight".to_string(), latency_text);
            let verdict = match tree.done {
                Some(d) if d.ok => "acked",
                Some(_) => "failed",
                None => "",
            };
            let text = format!(
                "{:016x}  {verdict} in {total}, {} hops",
                tree.root,
                tree.hops.len()
            );
            let picked = shown == Some(tree.root);
            if ui
                .selectable_label(picked, RichText::new(text).monospace())
                .on_hover_text(hops_text(tree))
                .clicked()
            {
                self.traced = Some(tree.root);
            }
        }
    }
}

/// Each hop on its own line: `split[7] ← sentences[5]  waited 0.21 ms, ran 0.01 ms`.
fn hops_text(tree: &crate::runtime::TracedTree) -> String {
    tree.hops
        .iter()
        .map(|h| {
            format!(
                "{}[{}] from {}[{}]: waited {}, ran {}{}",
                h.node,
                h.task,
                h.from_node,
                h.from_task,
                latency_text(h.waited),
                latency_text(h.ended.saturating_sub(h.started)),
                if h.ok { "" } else { ", failed" }
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}
