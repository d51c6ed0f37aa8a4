//! The toolbar's speed control: one choice that caps every spout of a run, live, so a
//! learner can slow a flood down to something they can read without editing each node.
//!
//! A cap only ever slows a node down: a spout configured (or set in the inspector)
//! slower than the cap keeps its own rate. "Full" lifts the cap, and each node goes
//! back to its inspector limit or its configured rate. Flume sources have no live rate
//! control (Flume agents read their rate once, at start), so the cap leaves them as
//! configured; the tooltip says so.

use std::collections::BTreeMap;

use egui::Ui;

use super::actions::Action;
use crate::components;
use crate::model::{Topology, Value};
use crate::runtime::Control;

/// How fast the spouts of a run may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Speed {
    /// One tuple a second per task: every line of the log can be read.
    Slow,
    /// Ten a second per task: numbers move, the log stays readable.
    Normal,
    /// As configured: no cap.
    #[default]
    Full,
}

impl Speed {
    pub const ALL: [Speed; 3] = [Speed::Slow, Speed::Normal, Speed::Full];

    /// Tuples a second per task, `None` for no cap.
    pub fn cap(self) -> Option<f64> {
        match self {
            Speed::Slow => Some(1.0),
            Speed::Normal => Some(10.0),
            Speed::Full => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Speed::Slow => "Slow",
            Speed::Normal => "Normal",
            Speed::Full => "Full",
        }
    }

    /// The run log's line for a change of speed.
    pub fn describe(self) -> String {
        match self.cap() {
            Some(cap) => format!(
                "speed: {} — every spout at most {cap} tuple(s) a second per task",
                self.label().to_lowercase()
            ),
            None => "speed: full — every spout at its own rate".to_string(),
        }
    }
}

/// The rate commands that put `speed` into effect on every spout of `t`. `overrides`
/// are the limits set in the inspector (a node's `None` = its configured rate).
pub fn rate_commands(
    t: &Topology,
    speed: Speed,
    overrides: &BTreeMap<String, Option<f64>>,
) -> Vec<Control> {
    t.nodes()
        .filter(|n| !n.role.accepts_input())
        .map(|n| {
            let configured = components::config_or_default(
                &n.config,
                &n.component,
                "rate_per_sec",
                Value::as_f64,
            )
            .filter(|r| *r > 0.0);
            let own = overrides.get(&n.name).copied().flatten();
            let base = own.or(configured);
            let per_sec = match speed.cap() {
                Some(cap) => Some(base.map_or(cap, |b| b.min(cap))),
                None => own,
            };
            Control::SetRate {
                node: n.name.clone(),
                per_sec,
            }
        })
        .collect()
}

/// The speed buttons, shown while a run is on.
pub fn speed_ui(ui: &mut Ui, current: Speed, actions: &mut Vec<Action>) {
    ui.label("Speed").on_hover_text(
        "Caps every spout of this run, live. Flume sources keep their configured rate.",
    );
    for speed in Speed::ALL {
        let hint = match speed.cap() {
            Some(cap) => format!("At most {cap} tuple(s) a second per spout task"),
            None => "Every spout at its own rate".to_string(),
        };
        if ui
            .selectable_label(current == speed, speed.label())
            .on_hover_text(hint)
            .clicked()
            && current != speed
        {
            actions.push(Action::SetSpeed(speed));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Node, Role};

    fn design() -> Topology {
        let mut t = Topology::new("t");
        t.add_node(Node::new("fast", Role::Spout, "sequence"))
            .unwrap();
        t.add_node(Node::new("slow", Role::Spout, "sequence").with_config("rate_per_sec", 0.5))
            .unwrap();
        t.add_node(Node::new("set", Role::Spout, "sequence"))
            .unwrap();
        t.add_node(Node::new("bolt", Role::Bolt, "split")).unwrap();
        t
    }

    fn rates(commands: &[Control]) -> BTreeMap<String, Option<f64>> {
        commands
            .iter()
            .filter_map(|c| match c {
                Control::SetRate { node, per_sec } => Some((node.clone(), *per_sec)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn slow_caps_every_spout_but_never_speeds_one_up() {
        let overrides = BTreeMap::from([("set".to_string(), Some(200.0))]);
        let slow = rates(&rate_commands(&design(), Speed::Slow, &overrides));
        assert_eq!(
            slow,
            BTreeMap::from([
                ("fast".to_string(), Some(1.0)),
                ("slow".to_string(), Some(0.5)),
                ("set".to_string(), Some(1.0)),
            ])
        );
        let full = rates(&rate_commands(&design(), Speed::Full, &overrides));
        assert_eq!(
            full,
            BTreeMap::from([
                ("fast".to_string(), None),
                ("slow".to_string(), None),
                ("set".to_string(), Some(200.0)),
            ])
        );
    }
}
