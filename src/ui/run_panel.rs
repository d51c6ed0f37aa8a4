//! The inspector's live section while a run is on: the selected node's numbers, a
//! sparkline of its rate, latency percentiles, per-task counts, and the knobs that act
//! on the running engine (injected faults, spout rate, killing a simulated worker).

use std::time::Duration;

use egui::{DragValue, Grid, RichText, Slider, Ui};
use egui_plot::{Line, Plot, PlotPoints};

use super::actions::Action;
use super::canvas::overlay::{count_text, rate_text};
use super::flume_panel;
use super::run::{RunSession, is_emitter};
use crate::design::selection::Selection;
use crate::model::Topology;
use crate::runtime::{Control, NodeMetrics};

impl RunSession {
    pub fn inspector_ui(
        &mut self,
        ui: &mut Ui,
        t: &Topology,
        selection: &Selection,
    ) -> Vec<Action> {
        ui.label(RichText::new("Live").strong());
        let Some(name) = selection.single_node().map(str::to_string) else {
            let total: f64 = self.last.edges.iter().map(|e| e.rate).sum();
            ui.label(format!(
                "{:.1}s elapsed · {} across all edges",
                self.last.elapsed.as_secs_f64(),
                rate_text(total)
            ));
            ui.label(
                RichText::new(
                    "Select a node to see its rate, latencies and tasks, and to inject faults.",
                )
                .weak(),
            );
            if let Some(txn) = &self.last.transactions {
                super::transactions_view::transactions_line_ui(ui, txn);
            }
            self.kill_worker_ui(ui);
            self.rebalance_workers_ui(ui);
            self.tracer_ui(ui);
            return Vec::new();
        };
        let Some(m) = self.last.nodes.get(&name).cloned() else {
            ui.label(RichText::new("no metrics for this node yet").weak());
            return Vec::new();
        };
        self.sparkline_ui(ui, &name);
        if let Some(node) = t.node_by_name(&name) {
            super::batch_panel::window_inspector_ui(ui, node, self.last.batch.as_ref());
        }
        if let Some(f) = &m.flume {
            flume_panel::flume_numbers_ui(ui, f);
        }
        // A node run by a Flume agent has no Storm tasks: acks, replays and a task table
        // would be zeros that mean nothing. (A channel drained by bolts runs as a spout
        // and keeps them.)
        if m.flume.is_none() || !m.tasks.is_empty() {
            numbers_ui(ui, &m);
            workers_line_ui(ui, &m);
            tasks_ui(ui, &m);
        }
        if let Some(txn) = &self.last.transactions {
            super::transactions_view::count_state_ui(ui, &name, txn);
        }
        ui.separator();
        self.faults_ui(ui, &name);
        if is_emitter(t, &name) {
            self.rate_ui(ui, t, &name);
        }
        self.rebalance_node_ui(ui, t, &name);
        self.kill_worker_ui(ui);
        self.tracer_ui(ui);
        Vec::new()
    }

    /// Picks a simulated worker and kills it: its executors restart with their state
    /// lost, and lost tuple trees time out and replay (in micro-batch mode its partitions
    /// of the running batch are recomputed from lineage). Only when some worker runs an
    /// executor: a Flume-only design's agents run outside
    /// the simulated workers, so there is nothing to kill.
    fn kill_worker_ui(&mut self, ui: &mut Ui) {
        let workers = self.last.workers.len() as u32;
        if workers == 0 || self.last.workers.iter().all(|w| w.executors.is_empty()) {
            return;
        }
        ui.separator();
        ui.horizontal(|ui| {
            let l = ui
                .label("Worker")
                .on_hover_text("Simulated worker processes; executors are dealt round-robin.")
                .id;
            ui.add(DragValue::new(&mut self.kill_target).range(0..=workers - 1))
                .labelled_by(l);
            self.kill_target = self.kill_target.min(workers - 1);
            let kill = ui
                .button("Kill worker")
                .on_hover_text(if self.last.batch.is_some() {
                    "Its partitions of the running batch are lost and recomputed from lineage \
                 (the receivers' stored blocks); the batch strip shows what was recomputed."
                } else {
                    "All its executors die at once and are restarted; their state is lost."
                });
            if kill.clicked() {
                self.send(Control::KillWorker {
                    worker: self.kill_target,
                });
            }
        });
        if let Some(w) = self.last.workers.get(self.kill_target as usize) {
            // A micro-batch run lists the nodes with a partition on the worker.
            let holds = if self.last.batch.is_some() {
                format!("partitions of {}", w.executors.join(", "))
            } else {
                format!(
                    "{} executors: {}",
                    w.executors.len(),
                    w.executors.join(", ")
                )
            };
            ui.label(RichText::new(format!("{holds} · killed {}", w.kills)).weak());
        }
    }

    fn sparkline_ui(&self, ui: &mut Ui, name: &str) {
        let points: Vec<[f64; 2]> = self
            .history
            .get(name)
            .map(|h| h.iter().copied().collect())
            .unwrap_or_default();
        Plot::new(("rate", name))
            .height(90.0)
            .show_axes([false, true])
            .allow_drag(false)
            .allow_zoom(false)
            .allow_scroll(false)
            .allow_boxed_zoom(false)
            .include_y(0.0)
            .show(ui, |plot| {
                plot.line(Line::new("tuples/s", PlotPoints::from(points)));
            });
    }

    fn faults_ui(&mut self, ui: &mut Ui, name: &str) {
        ui.label(RichText::new("Inject faults").strong())
            .on_hover_text("Act on the running engine at once; watch acks, replays and restarts.");
        let mut f = self.faults.get(name).copied().unwrap_or_default();
        let before = f;
        let mut fail = f.fail_probability * 100.0;
        let mut crash = f.crash_probability * 100.0;
        let mut latency_ms = f.added_latency.as_secs_f64() * 1000.0;
        let settled = Grid::new("faults")
            .num_columns(2)
            .show(ui, |ui| {
                let mut settled = false;
                let l = ui
                    .label("Fail %")
                    .on_hover_text(
                        "Bolts: chance an input is failed instead of acked (the spout replays it).",
                    )
                    .id;
                settled |= settles(
                    &ui.add(Slider::new(&mut fail, 0.0..=100.0).suffix("%"))
                        .labelled_by(l),
                );
                ui.end_row();
                let l = ui
                    .label("Added latency")
                    .on_hover_text("Extra time per tuple (bolts) or per emit (spouts).")
                    .id;
                settled |= settles(
                    &ui.add(Slider::new(&mut latency_ms, 0.0..=100.0).suffix(" ms"))
                        .labelled_by(l),
                );
                ui.end_row();
                let l = ui
                    .label("Crash %")
                    .on_hover_text(
                        "Chance per tuple that the task panics; the supervisor restarts it.",
                    )
                    .id;
                settled |= settles(
                    &ui.add(Slider::new(&mut crash, 0.0..=10.0).suffix("%"))
                        .labelled_by(l),
                );
                ui.end_row();
                settled
            })
            .inner;
        f.fail_probability = fail / 100.0;
        f.crash_probability = crash / 100.0;
        f.added_latency = Duration::from_secs_f64(latency_ms / 1000.0);
        if f != before {
            self.faults.insert(name.to_string(), f);
        }
        // The engine gets a change once the gesture ends, so a drag is one change in the
        // run log ("count: fail 15 %"), not one per pixel.
        let applied = self.applied_faults.get(name).copied().unwrap_or_default();
        if settled && f != applied {
            self.applied_faults.insert(name.to_string(), f);
            self.send(Control::SetFaults {
                node: name.to_string(),
                faults: f,
            });
        }
    }

    fn rate_ui(&mut self, ui: &mut Ui, t: &Topology, name: &str) {
        ui.label(RichText::new("Rate").strong())
            .on_hover_text("Tuples per second per task; off = as configured.");
        let current = self.rates.get(name).copied().flatten();
        let mut limited = current.is_some();
        let mut rate = current.unwrap_or(1000.0);
        ui.horizontal(|ui| {
            let l = ui.label("Limit").id;
            ui.checkbox(&mut limited, "").labelled_by(l);
            ui.add_enabled(
                limited,
                Slider::new(&mut rate, 1.0..=1_000_000.0)
                    .logarithmic(true)
                    .suffix("/s"),
            )
            .labelled_by(l);
        });
        let next = limited.then_some(rate);
        if next != current {
            self.rates.insert(name.to_string(), next);
            // The toolbar's speed cap still holds over a node's own limit.
            let commands = super::speed::rate_commands(t, self.speed, &self.rates);
            for command in commands {
                if matches!(&command, Control::SetRate { node, .. } if node == name) {
                    self.send(command);
                }
            }
        }
    }
}

/// Which simulated worker each executor of the node runs in.
fn workers_line_ui(ui: &mut Ui, m: &NodeMetrics) {
    if m.workers.is_empty() {
        return;
    }
    let list: Vec<String> = m.workers.iter().map(u32::to_string).collect();
    let label = if m.workers.len() == 1 {
        "worker"
    } else {
        "workers"
    };
    ui.label(format!("{label} {}", list.join(", ")))
        .on_hover_text("The simulated worker of each of this node's executors, in order.");
}

/// The node's numbers as a four-column grid (name, value, name, value). Every value
/// cell is as wide as the widest text its kind can show (see [`ValueCells`]), because
/// egui sizes grid columns from the previous frame: a value that grows between frames
/// (a queue filling up) would otherwise run into the next column's label.
fn numbers_ui(ui: &mut Ui, m: &NodeMetrics) {
    let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1000.0);
    let cells = ValueCells::for_node(ui, m);
    Grid::new("live-numbers")
        .num_columns(4)
        .striped(true)
        .show(ui, |ui| {
            ui.label("emit");
            cells.left_ui(ui, rate_text(m.emit_rate));
            ui.label("execute");
            cells.right_ui(ui, rate_text(m.execute_rate));
            ui.end_row();
            ui.label("emitted");
            cells.left_ui(ui, count_text(m.emitted));
            ui.label("executed");
            cells.right_ui(ui, count_text(m.executed));
            ui.end_row();
            ui.label("acked");
            cells.left_ui(ui, count_text(m.acked));
            ui.label("failed");
            cells.right_ui(ui, count_text(m.failed));
            ui.end_row();
            ui.label("replayed");
            cells.left_ui(ui, count_text(m.replayed));
            ui.label("timed out");
            cells.right_ui(ui, count_text(m.timed_out));
            ui.end_row();
            ui.label("queue");
            cells.left_ui(ui, format!("{}/{}", m.queue_depth, m.queue_capacity));
            ui.label("restarts");
            cells.right_ui(ui, m.restarts.to_string());
            ui.end_row();
            // Only when a limit turned something away: a run within its limits shows
            // nothing here (`runtime::limits`).
            if m.refused > 0 {
                ui.label("refused").on_hover_text(
                    "Turned away by one of the run's limits (value size, a full buffer or \
                     state table); the run log says which",
                );
                cells.left_ui(ui, count_text(m.refused));
                ui.end_row();
            }
            ui.label("exec p50")
                .on_hover_text("Time to process one tuple, median");
            cells.left_ui(ui, ms(m.execute_latency_p50));
            ui.label("exec p99");
            cells.right_ui(ui, ms(m.execute_latency_p99));
            ui.end_row();
            if m.role == "spout" || m.role == "source" {
                ui.label("complete p50")
                    .on_hover_text("Emit to full ack of the tuple tree");
                cells.left_ui(ui, ms(m.complete_latency_p50));
                ui.label("complete p99");
                cells.right_ui(ui, ms(m.complete_latency_p99));
                ui.end_row();
            }
            ui.label("capacity").on_hover_text(
                "Share of time busy executing (Storm UI's capacity); near 1 = bottleneck",
            );
            cells.left_ui(ui, format!("{:.2}", m.capacity));
            ui.end_row();
        });
}

/// The widths of the two value columns: each is as wide as the widest text that column
/// can show, so it never changes while the numbers do.
struct ValueCells {
    left: f32,
    right: f32,
}

impl ValueCells {
    fn for_node(ui: &Ui, m: &NodeMetrics) -> Self {
        let font = egui::TextStyle::Body.resolve(ui.style());
        let width = |texts: &[&str]| {
            texts
                .iter()
                .map(|text| {
                    ui.painter()
                        .layout_no_wrap(text.to_string(), font.clone(), egui::Color32::PLACEHOLDER)
                        .size()
                        .x
                })
                .fold(0.0, f32::max)
        };
        // Rates and counts are compact (`rate_text`, `count_text`); a queue holds at most
        // its capacity, and only the left column shows it.
        let shared = ["888.8k/s", "888.8M", "888.88 ms"];
        let queue = format!("{0}/{0}", m.queue_capacity);
        let mut left: Vec<&str> = shared.to_vec();
        left.push(&queue);
        Self {
            left: width(&left),
            right: width(&shared),
        }
    }

    fn left_ui(&self, ui: &mut Ui, text: impl Into<egui::WidgetText>) {
        Self::cell_ui(ui, self.left, text);
    }

    fn right_ui(&self, ui: &mut Ui, text: impl Into<egui::WidgetText>) {
        Self::cell_ui(ui, self.right, text);
    }

    fn cell_ui(ui: &mut Ui, width: f32, text: impl Into<egui::WidgetText>) {
        ui.scope(|ui| {
            ui.set_min_width(width);
            ui.label(text);
        });
    }
}

fn tasks_ui(ui: &mut Ui, m: &NodeMetrics) {
    egui::CollapsingHeader::new(format!("Tasks ({})", m.tasks.len()))
        .default_open(m.tasks.len() <= 8)
        .show(ui, |ui| {
            Grid::new("live-tasks")
                .num_columns(5)
                .striped(true)
                .show(ui, |ui| {
                    for h in ["task", "executed", "acked", "failed", "restarts"] {
                        ui.label(RichText::new(h).weak());
                    }
                    ui.end_row();
                    for task in &m.tasks {
                        ui.label(task.task.to_string());
                        ui.label(count_text(task.executed.max(task.emitted)));
                        ui.label(count_text(task.acked));
                        ui.label(count_text(task.failed));
                        ui.label(task.restarts.to_string());
                        ui.end_row();
                    }
                });
        });
}

/// Whether a slider's gesture has ended with a new value: a drag let go, or a click or
/// key press (which change the value without dragging).
fn settles(response: &egui::Response) -> bool {
    response.drag_stopped() || (response.changed() && !response.dragged())
}

#[cfg(test)]
mod tests {
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable;

    use super::*;

    #[test]
    fn a_growing_queue_never_runs_into_the_restarts_label() {
        let m = NodeMetrics {
            role: "bolt".into(),
            queue_depth: 0,
            queue_capacity: 32768,
            ..NodeMetrics::default()
        };
        let mut h = Harness::builder()
            .with_size(egui::vec2(280.0, 400.0))
            .build_ui_state(|ui, m: &mut NodeMetrics| numbers_ui(ui, m), m);
        h.run();
        // One frame after the queue grows: the grid still has last frame's columns.
        h.state_mut().queue_depth = 24780;
        h.step();
        let queue = h.get_by_label("24780/32768").rect();
        let restarts = h.get_by_label("restarts").rect();
        assert!(
            queue.max.x <= restarts.min.x,
            "queue value {queue:?} overlaps the restarts label {restarts:?}"
        );
    }
}
