//! Playing a scenario: the topology's timed steps become the live controls the designer
//! sends by hand, applied when their time comes. The CLI's run loop and the designer's
//! run both play a run through a [`ScenarioPlayer`], so a file's demonstration is the
//! same from either.

use std::time::Duration;

use super::cluster::ClusterAction;
use super::control::{Control, FaultSpec};
use crate::model::{ScenarioAction, ScenarioStep, Topology};

/// The steps still to play, the next last.
#[derive(Debug, Clone, Default)]
pub struct ScenarioPlayer {
    pending: Vec<ScenarioStep>,
    nodes: Vec<String>,
}

impl ScenarioPlayer {
    /// The scenario of `t`, plus `extra` steps (the CLI's `--kill-worker`).
    pub fn new(t: &Topology, extra: impl IntoIterator<Item = ScenarioStep>) -> Self {
        let mut pending: Vec<ScenarioStep> =
            t.settings.scenario.iter().cloned().chain(extra).collect();
        // Stable by time, then reversed so the next step pops off the end.
        pending.sort_by_key(|s| s.at_ms);
        pending.reverse();
        Self {
            pending,
            nodes: t.nodes().map(|n| n.name.clone()).collect(),
        }
    }

    /// Nothing left to play.
    pub fn is_done(&self) -> bool {
        self.pending.is_empty()
    }

    /// Takes the steps at 0 ms that only set or clear faults and writes them into
    /// `options`, so they are in force before the first tuple (a control sent after
    /// the start could come after a short run's every tuple). Returns what they were,
    /// for the run log; kills at 0 ms stay to be sent once the run is up.
    pub fn apply_initial(&mut self, options: &mut super::RunOptions) -> Vec<String> {
        let mut said = Vec::new();
        while let Some(step) = self.pending.last() {
            let sets_faults = matches!(
                step.action,
                ScenarioAction::SetFaults { .. } | ScenarioAction::ClearFaults
            );
            if step.at_ms > 0 || !sets_faults {
                break;
            }
            let Some(step) = self.pending.pop() else {
                break;
            };
            for control in self.controls(&step.action) {
                if let Control::SetFaults { node, faults } = control {
                    options.faults.insert(node, faults);
                }
            }
            said.push(step.describe());
        }
        said
    }

    /// Steps due at `elapsed` since the run started, in order, each with the controls it
    /// sends and its description for the run log.
    pub fn due(&mut self, elapsed: Duration) -> Vec<(String, Vec<Control>)> {
        let mut out = Vec::new();
        while self
            .pending
            .last()
            .is_some_and(|s| Duration::from_millis(s.at_ms) <= elapsed)
        {
            if let Some(step) = self.pending.pop() {
                out.push((step.describe(), self.controls(&step.action)));
            }
        }
        out
    }

    fn controls(&self, action: &ScenarioAction) -> Vec<Control> {
        match action {
            ScenarioAction::KillWorker(worker) => vec![Control::KillWorker { worker: *worker }],
            ScenarioAction::SetFaults {
                node,
                fail,
                latency_ms,
                crash,
            } => vec![Control::SetFaults {
                node: node.clone(),
                faults: FaultSpec {
                    fail_probability: fail.clamp(0.0, 1.0),
                    added_latency: Duration::from_secs_f64(
                        latency_ms.clamp(0.0, 60_000.0) / 1000.0,
                    ),
                    crash_probability: crash.clamp(0.0, 1.0),
                },
            }],
            ScenarioAction::KillMachine(m) => {
                vec![Control::Cluster(ClusterAction::KillMachine(*m))]
            }
            ScenarioAction::RestoreMachine(m) => {
                vec![Control::Cluster(ClusterAction::RestoreMachine(*m))]
            }
            ScenarioAction::KillNimbus => vec![Control::Cluster(ClusterAction::KillNimbus)],
            ScenarioAction::RestoreNimbus => vec![Control::Cluster(ClusterAction::RestoreNimbus)],
            ScenarioAction::KillSupervisor(m) => {
                vec![Control::Cluster(ClusterAction::KillSupervisor(*m))]
            }
            ScenarioAction::RestoreSupervisor(m) => {
                vec![Control::Cluster(ClusterAction::RestoreSupervisor(*m))]
            }
            ScenarioAction::Rebalance { node, executors } => vec![Control::Rebalance {
                executors: vec![(node.clone(), *executors)],
                workers: None,
            }],
            ScenarioAction::RebalanceWorkers(n) => vec![Control::Rebalance {
                executors: Vec::new(),
                workers: Some(*n),
            }],
            ScenarioAction::ClearFaults => self
                .nodes
                .iter()
                .map(|node| Control::SetFaults {
                    node: node.clone(),
                    faults: FaultSpec::default(),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Node, Role};

    #[test]
    fn steps_play_in_time_order_when_due_and_clear_reaches_every_node() {
        let mut t = Topology::new("t");
        t.add_node(Node::new("a", Role::Spout, "sequence")).unwrap();
        t.add_node(Node::new("b", Role::Bolt, "null")).unwrap();
        t.settings.scenario = vec![
            ScenarioStep {
                at_ms: 3000,
                action: ScenarioAction::ClearFaults,
            },
            ScenarioStep {
                at_ms: 1000,
                action: ScenarioAction::SetFaults {
                    node: "b".into(),
                    fail: 0.5,
                    latency_ms: 0.0,
                    crash: 0.0,
                },
            },
        ];
        let extra = ScenarioStep {
            at_ms: 2000,
            action: ScenarioAction::KillWorker(0),
        };
        let mut p = ScenarioPlayer::new(&t, [extra]);
        assert!(p.due(Duration::from_millis(999)).is_empty());
        let due = p.due(Duration::from_millis(2500));
        let said: Vec<&str> = due.iter().map(|(d, _)| d.as_str()).collect();
        assert_eq!(said, ["at 1s: b: fail 50%", "at 2s: kill worker 0"]);
        assert!(matches!(
            &due[0].1[..],
            [Control::SetFaults { node, faults }] if node == "b" && faults.fail_probability == 0.5
        ));
        let clear = p.due(Duration::from_secs(10));
        assert_eq!(clear[0].1.len(), 2, "every node's faults cleared");
        assert!(p.is_done());
    }
}
