//! The guarantees panel: the design run at most, at least and exactly once at the same
//! time, with the same seed and faults, against a fault-free reference
//! ([`crate::runtime::guarantees`]), shown as a table a class can read row by row.
//! The runs go on a background thread; the panel polls for the table.

use std::sync::mpsc::{Receiver, TryRecvError, channel};
use std::time::{Duration, Instant};

use egui::{ComboBox, Grid, RichText, Slider, Ui};

use super::actions::Action;
use crate::model::{ScenarioAction, ScenarioStep, Topology};
use crate::runtime::guarantees::{GuaranteeTable, run_side_by_side};
use crate::runtime::{FaultSpec, RunOptions};

/// How long each run may take before the table reports it unfinished.
const LIMIT: Duration = Duration::from_secs(120);

/// What the user chose: the faults every run gets.
#[derive(Debug, Clone, PartialEq)]
pub struct GuaranteesSetup {
    /// The node that fails tuples (`None`: no failures).
    pub fault_node: Option<String>,
    /// Chance (0 to 1) that the node fails an input.
    pub fail: f64,
    /// Simulated workers killed, one every 100 ms from 100 ms, alternating workers.
    pub kills: u32,
    pub seed: u64,
}

impl GuaranteesSetup {
    /// A fault on the last count of the design (where duplicates and losses show), or
    /// else on its first bolt.
    pub fn for_topology(t: &Topology) -> Self {
        let bolts: Vec<&str> = t
            .nodes()
            .filter(|n| n.role.accepts_input())
            .map(|n| n.name.as_str())
            .collect();
        let count = t
            .nodes()
            .find(|n| n.component == "count_by_key")
            .map(|n| n.name.as_str());
        Self {
            fault_node: count.or(bolts.first().copied()).map(str::to_string),
            fail: 0.2,
            kills: 1,
            seed: 42,
        }
    }

    /// The design with this set-up's kills added to its scenario.
    fn design(&self, t: &Topology) -> Topology {
        let mut design = t.clone();
        let workers = design.settings.workers.max(1);
        for i in 0..self.kills {
            design.settings.scenario.push(ScenarioStep {
                at_ms: 100 * u64::from(i + 1),
                action: ScenarioAction::KillWorker(i % workers),
            });
        }
        design.settings.scenario.sort_by_key(|s| s.at_ms);
        design
    }

    fn options(&self, base: RunOptions) -> RunOptions {
        let mut o = RunOptions {
            seed: self.seed,
            ..base
        };
        if let Some(node) = &self.fault_node
            && self.fail > 0.0
        {
            o.faults.insert(
                node.clone(),
                FaultSpec {
                    fail_probability: self.fail,
                    ..FaultSpec::default()
                },
            );
        }
        o
    }
}

/// Where a side-by-side stands.
pub enum GuaranteesState {
    /// Choosing the faults.
    Setup,
    Running {
        since: Instant,
        result: Receiver<Result<GuaranteeTable, String>>,
    },
    Done(GuaranteeTable),
    Failed(String),
}

/// The panel's session: the set-up and where the runs stand.
pub struct GuaranteesSession {
    pub setup: GuaranteesSetup,
    pub state: GuaranteesState,
}

impl GuaranteesSession {
    pub fn new(t: &Topology) -> Self {
        Self {
            setup: GuaranteesSetup::for_topology(t),
            state: GuaranteesState::Setup,
        }
    }

    /// Starts the four runs (reference and three guarantees) on a thread of their own.
    pub fn start(&mut self, t: &Topology, base: RunOptions) {
        let design = self.setup.design(t);
        let options = self.setup.options(base);
        let (tx, rx) = channel();
        let spawned = std::thread::Builder::new()
            .name("trib-guarantees".into())
            .spawn(move || {
                let table = run_side_by_side(&design, options, LIMIT).map_err(|e| e.to_string());
                // The panel may be closed by now; then nobody wants the table.
                let _ = tx.send(table);
            });
        self.state = match spawned {
            Ok(_) => GuaranteesState::Running {
                since: Instant::now(),
                result: rx,
            },
            Err(e) => GuaranteesState::Failed(format!("could not start the runs: {e}")),
        };
    }

    /// Picks up the table once the runs are done.
    pub fn poll(&mut self) {
        if let GuaranteesState::Running { result, .. } = &self.state {
            self.state = match result.try_recv() {
                Ok(Ok(table)) => GuaranteesState::Done(table),
                Ok(Err(why)) => GuaranteesState::Failed(why),
                Err(TryRecvError::Empty) => return,
                Err(TryRecvError::Disconnected) => {
                    GuaranteesState::Failed("the runs ended without a result".into())
                }
            };
        }
    }

    pub fn is_running(&self) -> bool {
        matches!(self.state, GuaranteesState::Running { .. })
    }
}

/// What the rows show, in one line.
pub const EXPLANATION: &str = "The same input and the same faults, three promises: \
at-most-once never replays, so failures lose records; at-least-once replays failed \
trees, so nothing is lost but effects repeat; exactly-once replays whole batches and \
applies each batch once, so the output equals the fault-free run's.";

/// The panel: the set-up, then the table.
pub fn guarantees_panel_ui(ui: &mut Ui, s: &mut GuaranteesSession, t: &Topology) -> Vec<Action> {
    let mut actions = Vec::new();
    ui.horizontal(|ui| {
        ui.label(RichText::new("Guarantees side by side").strong());
        if ui.button("Close").clicked() {
            actions.push(Action::CloseGuarantees);
        }
    });
    ui.label(RichText::new(EXPLANATION).weak());
    ui.add_enabled_ui(!s.is_running(), |ui| {
        setup_ui(ui, &mut s.setup, t, &mut actions)
    });
    match &s.state {
        GuaranteesState::Setup => {}
        GuaranteesState::Running { since, .. } => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(format!(
                    "running the reference, then the three guarantees… {:.0}s",
                    since.elapsed().as_secs_f64()
                ));
            });
        }
        GuaranteesState::Failed(why) => {
            ui.colored_label(ui.visuals().error_fg_color, why);
        }
        GuaranteesState::Done(table) => table_ui(ui, table),
    }
    actions
}

fn setup_ui(ui: &mut Ui, setup: &mut GuaranteesSetup, t: &Topology, actions: &mut Vec<Action>) {
    ui.horizontal(|ui| {
        let label = ui.label("Fail tuples at").id;
        let shown = setup.fault_node.clone().unwrap_or_else(|| "no node".into());
        ComboBox::from_id_salt("guarantee-fault-node")
            .selected_text(shown)
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut setup.fault_node, None, "no node");
                for n in t.nodes().filter(|n| n.role.accepts_input()) {
                    ui.selectable_value(&mut setup.fault_node, Some(n.name.clone()), &n.name);
                }
            })
            .response
            .labelled_by(label);
        ui.add(Slider::new(&mut setup.fail, 0.0..=0.5).text("chance"));
        ui.add(Slider::new(&mut setup.kills, 0..=3).text("worker kills"));
        if ui.button("Run all three").clicked() {
            actions.push(Action::RunGuarantees);
        }
    });
    if !t.settings.scenario.is_empty() {
        ui.label(
            RichText::new(format!(
                "The design's scenario plays too ({} steps; a step setting faults on a node \
                 replaces the fault chosen here).",
                t.settings.scenario.len()
            ))
            .weak(),
        );
    }
}

fn table_ui(ui: &mut Ui, t: &GuaranteeTable) {
    ui.label(format!(
        "Reference without faults: {} records in, {} kept, {} counted over {} keys.",
        t.records_in, t.reference_records_out, t.reference_counted, t.reference_keys
    ));
    Grid::new("guarantees-table")
        .striped(true)
        .num_columns(8)
        .show(ui, |ui| {
            for h in [
                "guarantee",
                "spout emits",
                "kept",
                "duplicates",
                "lost",
                "counted",
                "keys right",
                "ended",
            ] {
                ui.label(RichText::new(h).strong());
            }
            ui.end_row();
            for r in &t.rows {
                ui.label(&r.guarantee);
                ui.label(r.spout_emits.to_string());
                ui.label(r.records_out.to_string());
                warn_if(ui, r.duplicates);
                warn_if(ui, r.lost);
                ui.label(r.counted.to_string());
                ui.label(format!("{}/{}", r.keys_matching, r.keys_total));
                ui.label(if r.finished {
                    format!("input done in {:.1}s", r.elapsed.as_secs_f64())
                } else {
                    "time limit".to_string()
                });
                ui.end_row();
            }
        });
}

/// A figure that should be zero, in the error colour when it is not.
fn warn_if(ui: &mut Ui, n: u64) {
    if n > 0 {
        ui.colored_label(ui.visuals().warn_fg_color, n.to_string());
    } else {
        ui.label("0");
    }
}

impl super::app::DesignerApp {
    /// Starts the panel's runs, if the design may run without asking for anything:
    /// the comparison is a classroom demonstration, not a way around a permission.
    pub(super) fn start_guarantees(&mut self) {
        use crate::design::reach::{self, Gate};
        let Some(session) = &mut self.guarantees else {
            return;
        };
        if session.is_running() {
            return;
        }
        if let Some(why) = crate::runtime::guarantees::refusal(&self.doc.topology) {
            session.state = GuaranteesState::Failed(why);
            return;
        }
        let base = self.doc.base_dir();
        match reach::gate(&self.doc.topology, &base, self.doc.path.as_deref()) {
            Gate::Open => {
                let options = RunOptions {
                    base_dir: base,
                    topology_file: self.doc.path.clone(),
                    ..RunOptions::default()
                };
                session.start(&self.doc.topology, options);
            }
            Gate::Ask(_) | Gate::Blocked(_) => {
                session.state = GuaranteesState::Failed(
                    "this design reaches outside its folder or runs a program: run it once \
                     with Run to see what it asks, or compare a design that needs nothing"
                        .into(),
                );
            }
        }
    }
}
