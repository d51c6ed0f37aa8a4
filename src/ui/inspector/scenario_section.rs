//! The scenario in the inspector (nothing selected): the design's timed actions, each
//! editable in place — its time, the worker it kills or the node and faults it sets —
//! removable, and new ones added after the last. A run plays them as their time comes
//! (`runtime::ScenarioPlayer`), from the designer and `tributary run` alike.

use egui::{ComboBox, DragValue, RichText, Ui};

use crate::model::{ScenarioAction, ScenarioStep, Topology};

/// Edits `scenario` in place; true when anything changed.
pub fn scenario_ui(ui: &mut Ui, t: &Topology, scenario: &mut Vec<ScenarioStep>) -> bool {
    let before = scenario.clone();
    ui.separator();
    ui.label(RichText::new("Scenario").strong()).on_hover_text(
        "Timed actions a run plays by itself: kill a worker, set or clear a node's faults. The same file and seed give the same run.",
    );
    if scenario.is_empty() {
        ui.label(RichText::new("none: add a step below").weak());
    }
    let mut names: Vec<String> = t.nodes().map(|n| n.name.clone()).collect();
    names.sort();
    let mut remove = None;
    for (i, step) in scenario.iter_mut().enumerate() {
        ui.horizontal(|ui| {
            let mut secs = step.at_ms as f64 / 1000.0;
            let at = ui.label("at").id;
            if ui
                .add(
                    DragValue::new(&mut secs)
                        .range(0.0..=86_400.0)
                        .speed(0.1)
                        .suffix(" s"),
                )
                .labelled_by(at)
                .changed()
            {
                step.at_ms = (secs * 1000.0).round() as u64;
            }
            match &mut step.action {
                ScenarioAction::KillWorker(worker) => {
                    let l = ui.label("kill worker").id;
                    let max = t.settings.workers.saturating_sub(1);
                    ui.add(DragValue::new(worker).range(0..=max)).labelled_by(l);
                }
                ScenarioAction::SetFaults { node, .. } => {
                    ui.label("faults of");
                    ComboBox::from_id_salt(("scenario-node", i))
                        .selected_text(node.as_str())
                        .width(90.0)
                        .show_ui(ui, |ui| {
                            for name in &names {
                                ui.selectable_value(node, name.clone(), name);
                            }
                        });
                }
                ScenarioAction::ClearFaults => {
                    ui.label("clear all faults");
                }
                ScenarioAction::Rebalance { node, executors } => {
                    ui.label("rebalance");
                    ComboBox::from_id_salt(("scenario-rebalance", i))
                        .selected_text(node.as_str())
                        .width(90.0)
                        .show_ui(ui, |ui| {
                            for name in &names {
                                ui.selectable_value(node, name.clone(), name);
                            }
                        });
                    let l = ui.label("executors").id;
                    ui.add(DragValue::new(executors).range(1..=64))
                        .labelled_by(l);
                }
                ScenarioAction::RebalanceWorkers(workers) => {
                    let l = ui.label("rebalance to workers").id;
                    ui.add(DragValue::new(workers).range(1..=64)).labelled_by(l);
                }
                action => cluster_step_ui(ui, i, t, action),
            }
            if ui
                .small_button("✖")
                .on_hover_text("Remove this step")
                .clicked()
            {
                remove = Some(i);
            }
        });
        // A step's faults on a line of their own, so the inspector keeps its width.
        if let ScenarioAction::SetFaults {
            fail,
            latency_ms,
            crash,
            ..
        } = &mut step.action
        {
            ui.horizontal(|ui| {
                ui.add_space(24.0);
                percent_ui(ui, "fail", fail);
                percent_ui(ui, "crash", crash);
                let l = ui.label("latency").id;
                ui.add(
                    DragValue::new(latency_ms)
                        .range(0.0..=60_000.0)
                        .suffix(" ms"),
                )
                .labelled_by(l);
            });
        }
    }
    if let Some(i) = remove {
        scenario.remove(i);
    }
    let next_at = scenario
        .iter()
        .map(|s| s.at_ms)
        .max()
        .map_or(1000, |m| m + 1000);
    ui.horizontal(|ui| {
        let mut add = |action| {
            scenario.push(ScenarioStep {
                at_ms: next_at,
                action,
            })
        };
        if ui.small_button("+ kill worker").clicked() {
            add(ScenarioAction::KillWorker(0));
        }
        if ui.small_button("+ faults").clicked() {
            add(ScenarioAction::SetFaults {
                node: names.first().cloned().unwrap_or_default(),
                fail: 0.1,
                latency_ms: 0.0,
                crash: 0.0,
            });
        }
        if ui.small_button("+ clear faults").clicked() {
            add(ScenarioAction::ClearFaults);
        }
    });
    // Cluster operations, offered where the design has a cluster (settings.cluster) or
    // several workers.
    if t.settings.cluster.is_some() || t.settings.workers > 1 {
        ui.horizontal(|ui| {
            let mut add = |action| {
                scenario.push(ScenarioStep {
                    at_ms: next_at,
                    action,
                })
            };
            if t.settings.cluster.is_some()
                && ui
                    .small_button("+ cluster")
                    .on_hover_text("Kill or restore a machine, Nimbus or a supervisor")
                    .clicked()
            {
                add(ScenarioAction::KillMachine(0));
            }
            if ui
                .small_button("+ rebalance")
                .on_hover_text("Change a node's executors (its tasks stay) while the run goes on, as storm rebalance does")
                .clicked()
            {
                add(ScenarioAction::Rebalance {
                    node: names.first().cloned().unwrap_or_default(),
                    executors: 1,
                });
            }
            if ui
                .small_button("+ workers")
                .on_hover_text("Change the number of workers while the run goes on, as storm rebalance -n does")
                .clicked()
            {
                add(ScenarioAction::RebalanceWorkers(t.settings.workers.max(1)));
            }
        });
    }
    // Kept in time order, as a run plays them.
    scenario.sort_by_key(|s| s.at_ms);
    *scenario != before
}

/// The cluster actions a step can take, in the order the menu lists them.
const CLUSTER_ACTIONS: [&str; 6] = [
    "kill machine",
    "restore machine",
    "kill supervisor",
    "restore supervisor",
    "kill Nimbus",
    "restore Nimbus",
];

/// A cluster step: which action, and the machine it acts on where it has one.
fn cluster_step_ui(ui: &mut Ui, i: usize, t: &Topology, action: &mut ScenarioAction) {
    let (mut kind, mut machine) = match *action {
        ScenarioAction::KillMachine(m) => (0, m),
        ScenarioAction::RestoreMachine(m) => (1, m),
        ScenarioAction::KillSupervisor(m) => (2, m),
        ScenarioAction::RestoreSupervisor(m) => (3, m),
        ScenarioAction::KillNimbus => (4, 0),
        ScenarioAction::RestoreNimbus => (5, 0),
        _ => return,
    };
    ComboBox::from_id_salt(("scenario-cluster", i))
        .selected_text(CLUSTER_ACTIONS[kind])
        .width(110.0)
        .show_ui(ui, |ui| {
            for (k, label) in CLUSTER_ACTIONS.iter().enumerate() {
                ui.selectable_value(&mut kind, k, *label);
            }
        });
    if kind < 4 {
        let machines = t.settings.cluster.as_ref().map_or(1, |c| c.machines);
        ui.add(DragValue::new(&mut machine).range(0..=machines.saturating_sub(1)));
    }
    *action = match kind {
        0 => ScenarioAction::KillMachine(machine),
        1 => ScenarioAction::RestoreMachine(machine),
        2 => ScenarioAction::KillSupervisor(machine),
        3 => ScenarioAction::RestoreSupervisor(machine),
        4 => ScenarioAction::KillNimbus,
        _ => ScenarioAction::RestoreNimbus,
    };
}

/// A probability edited as a percentage.
fn percent_ui(ui: &mut Ui, label: &str, p: &mut f64) {
    let mut percent = *p * 100.0;
    let l = ui.label(label).id;
    if ui
        .add(
            DragValue::new(&mut percent)
                .range(0.0..=100.0)
                .speed(0.5)
                .suffix("%"),
        )
        .labelled_by(l)
        .changed()
    {
        *p = percent / 100.0;
    }
}
