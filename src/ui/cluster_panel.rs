//! The cluster panel, shown while a run of a design with `settings.cluster` is on:
//! Nimbus and the store's assignment version, each machine as a box with its
//! supervisor and slots (each worker labelled with the executors it hosts), buttons to
//! kill and restore every role, and the timeline of what happened (machine lost →
//! heartbeat missed → reassigned). It reads the run's snapshot only and returns the
//! controls its buttons ask for.

use egui::{Color32, RichText, ScrollArea, Ui};

use crate::model::Topology;
use crate::runtime::cluster::{ClusterAction, ClusterView, EventKind, MachineView};
use crate::runtime::{Control, MetricsSnapshot};

/// Width of one machine's box.
const MACHINE_WIDTH: f32 = 230.0;

/// The panel at the bottom of the window, when `t` has a cluster and a run is on.
pub fn cluster_panel_ui(ui: &mut Ui, t: &Topology, last: Option<&MetricsSnapshot>) -> Vec<Control> {
    let mut controls = Vec::new();
    let (Some(_), Some(last)) = (&t.settings.cluster, last) else {
        return controls;
    };
    egui::Panel::bottom("cluster")
        .resizable(true)
        .default_size(230.0)
        .min_size(120.0)
        .show(ui, |ui| {
            ui.add_space(4.0);
            match &last.cluster {
                Some(c) => cluster_ui(ui, c, last, &mut controls),
                None => {
                    ui.label(RichText::new("Cluster").strong());
                    ui.label(
                        RichText::new(
                            "This run does not simulate the cluster: only a record-at-a-time run started with Run does.",
                        )
                        .weak(),
                    );
                }
            }
        });
    controls
}

fn cluster_ui(ui: &mut Ui, c: &ClusterView, last: &MetricsSnapshot, out: &mut Vec<Control>) {
    let mut act = |a: ClusterAction| out.push(Control::Cluster(a));
    ui.horizontal(|ui| {
        ui.label(RichText::new("Cluster").strong());
        ui.separator();
        let (state, color) = up_text(c.nimbus_up);
        ui.label("Nimbus");
        ui.label(RichText::new(state).color(color));
        if c.nimbus_up {
            if ui
                .small_button("Kill Nimbus")
                .on_hover_text("Workers keep running and supervisors keep restarting them, but a lost machine's workers are not reassigned until Nimbus is back.")
                .clicked()
            {
                act(ClusterAction::KillNimbus);
            }
        } else if ui.small_button("Restore Nimbus").clicked() {
            act(ClusterAction::RestoreNimbus);
        }
        ui.separator();
        ui.label(format!(
            "store: assignment version {} · heartbeat timeout {:.1} s",
            c.assignment_version,
            c.heartbeat_timeout_ms as f64 / 1000.0
        ))
        .on_hover_text("The ZooKeeper-like store: the assignment Nimbus publishes, and the heartbeats workers and supervisors write.");
    });
    ui.separator();
    ui.horizontal_top(|ui| {
        ScrollArea::horizontal()
            .id_salt("cluster-machines")
            .max_width((ui.available_width() - 340.0).max(MACHINE_WIDTH))
            .show(ui, |ui| {
                ui.horizontal_top(|ui| {
                    for m in &c.machines {
                        machine_ui(ui, m, c, last, &mut act);
                    }
                });
            });
        ui.separator();
        timeline_ui(ui, c);
    });
}

/// One machine: its state, its supervisor, its slots.
fn machine_ui(
    ui: &mut Ui,
    m: &MachineView,
    c: &ClusterView,
    last: &MetricsSnapshot,
    act: &mut impl FnMut(ClusterAction),
) {
    ui.group(|ui| {
        ui.set_width(MACHINE_WIDTH);
        ui.vertical(|ui| {
            ui.horizontal(|ui| {
                let (state, color) = up_text(m.up);
                ui.label(RichText::new(format!("Machine {}", m.machine)).strong());
                ui.label(RichText::new(state).color(color));
                if m.up {
                    if ui
                        .small_button(format!("Kill machine {}", m.machine))
                        .clicked()
                    {
                        act(ClusterAction::KillMachine(m.machine));
                    }
                } else if ui
                    .small_button(format!("Restore machine {}", m.machine))
                    .clicked()
                {
                    act(ClusterAction::RestoreMachine(m.machine));
                }
            });
            ui.horizontal(|ui| {
                let (state, color) = up_text(m.supervisor_up);
                ui.label("supervisor");
                ui.label(RichText::new(state).color(color))
                    .on_hover_text(format!(
                        "Last heartbeat {:.1} s ago",
                        m.supervisor_heartbeat_age_ms as f64 / 1000.0
                    ));
                if m.up && m.supervisor_up {
                    if ui
                        .small_button(format!("Kill supervisor {}", m.machine))
                        .clicked()
                    {
                        act(ClusterAction::KillSupervisor(m.machine));
                    }
                } else if m.up
                    && ui
                        .small_button(format!("Restore supervisor {}", m.machine))
                        .clicked()
                {
                    act(ClusterAction::RestoreSupervisor(m.machine));
                }
            });
            for slot in &m.slots {
                let Some(w) = slot.worker else {
                    ui.label(RichText::new(format!("{}  free", slot.port)).weak());
                    continue;
                };
                let running = c.workers.get(w as usize).is_some_and(|v| v.running);
                let beat = c.workers.get(w as usize).map_or(0, |v| v.heartbeat_age_ms);
                let (state, color) = if running {
                    ("running", up_color())
                } else {
                    ("down", down_color())
                };
                ui.horizontal(|ui| {
                    ui.label(format!("{}  worker {w}", slot.port));
                    ui.label(RichText::new(state).color(color))
                        .on_hover_text(format!("Last heartbeat {:.1} s ago", beat as f64 / 1000.0));
                });
                let hosts = last
                    .workers
                    .get(w as usize)
                    .map(|v| v.executors.join(", "))
                    .unwrap_or_default();
                ui.label(RichText::new(format!("    {hosts}")).small().weak());
            }
        });
    });
}

/// The events, newest at the bottom, kept scrolled to the end.
fn timeline_ui(ui: &mut Ui, c: &ClusterView) {
    ui.vertical(|ui| {
        ui.label(RichText::new("Timeline").strong());
        ScrollArea::vertical()
            .id_salt("cluster-timeline")
            .stick_to_bottom(true)
            .auto_shrink([false, false])
            .show(ui, |ui| {
                if c.events.is_empty() {
                    ui.label(
                        RichText::new("nothing yet: kill a role to see what Storm does").weak(),
                    );
                }
                for e in &c.events {
                    let color = match e.kind {
                        EventKind::Killed | EventKind::NoSlot | EventKind::Refused => down_color(),
                        EventKind::HeartbeatMissed => Color32::from_rgb(0xd0, 0x90, 0x30),
                        _ => up_color(),
                    };
                    ui.horizontal(|ui| {
                        ui.label(
                            RichText::new(format!("{:>6.1} s", e.at_ms as f64 / 1000.0))
                                .monospace(),
                        );
                        ui.label(RichText::new(&e.text).color(color));
                    });
                }
            });
    });
}

fn up_color() -> Color32 {
    Color32::from_rgb(0x40, 0xb0, 0x60)
}

fn down_color() -> Color32 {
    Color32::from_rgb(0xd0, 0x50, 0x40)
}

fn up_text(up: bool) -> (&'static str, Color32) {
    if up {
        ("up", up_color())
    } else {
        ("DOWN", down_color())
    }
}
