//! Rebalance from the live inspector, as `storm rebalance` does: the selected node's
//! executors (1 to its task count; the tasks stay), or with nothing selected the
//! number of workers. Offered in threaded record-at-a-time runs, the ones that can be
//! rebalanced; the run log says what changed or why not.

use egui::{DragValue, Id, RichText, Ui};

use super::run::RunSession;
use crate::model::{Role, Topology};
use crate::runtime::Control;

/// Most workers offered (as many as a design may have).
const MAX_WORKERS: u32 = 64;

impl RunSession {
    /// Whether this run can be rebalanced (a threaded record-at-a-time run reports its
    /// cluster; the lab and micro-batch runs do not).
    fn rebalances(&self) -> bool {
        self.last.cluster.is_some()
    }

    /// The selected node's executors, and a button that rebalances to the number set.
    pub(super) fn rebalance_node_ui(&mut self, ui: &mut Ui, t: &Topology, name: &str) {
        let Some(node) = t.node_by_name(name) else {
            return;
        };
        if !self.rebalances() || !matches!(node.role, Role::Spout | Role::Bolt) {
            return;
        }
        let live = self
            .last
            .nodes
            .get(name)
            .map_or(1, |m| m.workers.len().max(1)) as u32;
        let tasks = node.task_count().max(1);
        let id = Id::unique(("rebalance-executors", name));
        let mut wanted: u32 = ui.data_mut(|d| *d.get_temp_mut_or(id, live));
        ui.horizontal(|ui| {
            let l = ui
                .label("Executors")
                .on_hover_text(format!(
                    "Executors run the node's {tasks} tasks; the tasks stay, so keys keep their task."
                ))
                .id;
            ui.add(DragValue::new(&mut wanted).range(1..=tasks))
                .labelled_by(l);
            let button = ui
                .add_enabled(wanted != live, egui::Button::new("Rebalance"))
                .on_hover_text("As storm rebalance -e: the workers restart with the new executors; trees in flight time out and replay.");
            if button.clicked() {
                self.send(Control::Rebalance {
                    executors: vec![(name.to_string(), wanted)],
                    workers: None,
                });
            }
        });
        ui.data_mut(|d| d.insert_temp(id, wanted));
    }

    /// The run's workers, and a button that rebalances to the number set.
    pub(super) fn rebalance_workers_ui(&mut self, ui: &mut Ui) {
        if !self.rebalances() {
            return;
        }
        let live = self.last.workers.len().max(1) as u32;
        let id = Id::unique("rebalance-workers");
        let mut wanted: u32 = ui.data_mut(|d| *d.get_temp_mut_or(id, live));
        ui.horizontal(|ui| {
            let l = ui.label("Workers").id;
            ui.add(DragValue::new(&mut wanted).range(1..=MAX_WORKERS))
                .labelled_by(l);
            let button = ui
                .add_enabled(wanted != live, egui::Button::new("Rebalance workers"))
                .on_hover_text("As storm rebalance -n: Nimbus places the new workers; trees in flight time out and replay.");
            if button.clicked() {
                self.send(Control::Rebalance {
                    executors: Vec::new(),
                    workers: Some(wanted),
                });
            }
        });
        ui.label(RichText::new(format!("{live} workers now")).weak());
        ui.data_mut(|d| d.insert_temp(id, wanted));
    }
}
