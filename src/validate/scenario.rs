//! The scenario's steps against the topology they play on: nodes it names, workers it
//! kills, probabilities and latencies within what the live controls allow.

use super::{Diagnostic, Location};
use crate::model::{ExecutionMode, Role, ScenarioAction, ScenarioStep, Topology};

/// Longest latency a step may add, as the inspector's slider allows (milliseconds).
pub const MAX_SCENARIO_LATENCY_MS: f64 = 60_000.0;

pub(super) fn check_scenario(t: &Topology, out: &mut Vec<Diagnostic>) {
    check_steps(t, &t.settings.scenario, out);
}

/// The checks of [`check_scenario`] on any steps (the CLI's own steps too).
pub(super) fn check_steps(t: &Topology, steps: &[ScenarioStep], out: &mut Vec<Diagnostic>) {
    let micro_batch = matches!(t.settings.mode, ExecutionMode::MicroBatch { .. });
    for step in steps {
        let what = step.describe();
        let error = |message: String, hint: &str| {
            Diagnostic::error(
                Location::Topology,
                format!("scenario step {what:?}: {message}"),
                hint,
            )
        };
        match &step.action {
            ScenarioAction::KillWorker(w) if *w >= t.settings.workers => out.push(error(
                format!(
                    "there is no worker {w} (the topology has {})",
                    t.settings.workers
                ),
                "workers are numbered from 0; raise settings.workers or kill another",
            )),
            ScenarioAction::Rebalance { .. } | ScenarioAction::RebalanceWorkers(_)
                if micro_batch =>
            {
                out.push(Diagnostic::warning(
                    Location::Topology,
                    format!("scenario step {what:?}: micro-batch runs cannot be rebalanced"),
                    "the step is skipped in micro-batch mode",
                ))
            }
            ScenarioAction::SetFaults {
                node,
                fail,
                latency_ms,
                crash,
            } => {
                if t.node_by_name(node).is_none() {
                    let mut names: Vec<&str> = t.nodes().map(|n| n.name.as_str()).collect();
                    names.sort_unstable();
                    out.push(error(
                        format!("no node is named '{node}'"),
                        &format!("name one of: {}", names.join(", ")),
                    ));
                }
                for (key, p) in [("fail", fail), ("crash", crash)] {
                    if !(0.0..=1.0).contains(p) {
                        out.push(error(
                            format!("{key} = {p} is not a probability"),
                            "give a number from 0 to 1",
                        ));
                    }
                }
                if !(0.0..=MAX_SCENARIO_LATENCY_MS).contains(latency_ms) {
                    out.push(error(
                        format!("latency_ms = {latency_ms} is out of range"),
                        "give milliseconds from 0 to 60000",
                    ));
                }
            }
            ScenarioAction::Rebalance { node, executors } => match t.node_by_name(node) {
                Some(n) if matches!(n.role, Role::Spout | Role::Bolt) => {
                    let tasks = n.task_count().max(1);
                    if *executors == 0 || *executors > tasks {
                        out.push(error(
                            format!("{executors} executors for '{node}', which has {tasks} tasks"),
                            "executors run 1 or more tasks each: give 1 to the node's task count (raise its tasks to allow more)",
                        ));
                    }
                }
                Some(_) => out.push(error(
                    format!("'{node}' is not a spout or bolt, so it has no executors"),
                    "rebalance a spout or bolt",
                )),
                None => out.push(error(
                    format!("no node is named '{node}'"),
                    "name a spout or bolt of the topology",
                )),
            },
            ScenarioAction::RebalanceWorkers(n) => {
                let slots = t.settings.cluster.as_ref().map(|c| c.slots());
                if *n == 0 || *n > super::settings::MAX_WORKERS {
                    out.push(error(
                        format!("{n} workers"),
                        &format!("give 1 to {} workers", super::settings::MAX_WORKERS),
                    ));
                } else if let Some(slots) = slots.filter(|s| u64::from(*n) > *s) {
                    out.push(error(
                        format!("{n} workers but the cluster has {slots} slots"),
                        "every worker needs a slot: add machines or slots, or rebalance to fewer workers",
                    ));
                }
            }
            // Cluster steps are judged by `cluster::check_steps`.
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Node, Role, ScenarioStep};

    fn with(steps: Vec<ScenarioAction>) -> Vec<String> {
        let mut t = Topology::new("t");
        t.add_node(Node::new("a", Role::Spout, "sequence")).unwrap();
        t.settings.workers = 2;
        t.settings.scenario = steps
            .into_iter()
            .map(|action| ScenarioStep {
                at_ms: 1000,
                action,
            })
            .collect();
        let mut out = Vec::new();
        check_scenario(&t, &mut out);
        out.iter().map(|d| d.to_string()).collect()
    }

    #[test]
    fn unknown_nodes_missing_workers_and_bad_numbers_are_errors_naming_the_step() {
        assert!(
            with(vec![
                ScenarioAction::KillWorker(1),
                ScenarioAction::ClearFaults
            ])
            .is_empty()
        );
        let faults = |node: &str, fail, latency_ms, crash| ScenarioAction::SetFaults {
            node: node.into(),
            fail,
            latency_ms,
            crash,
        };
        let errors = with(vec![
            ScenarioAction::KillWorker(2),
            faults("ghost", 0.1, 0.0, 0.0),
            faults("a", 1.5, 0.0, -0.1),
            faults("a", 0.0, 1e9, 0.0),
        ]);
        let all = errors.join("\n");
        assert_eq!(errors.len(), 5, "{all}");
        assert!(
            all.contains("\"at 1s: kill worker 2\": there is no worker 2"),
            "{all}"
        );
        assert!(
            all.contains("no node is named 'ghost'") && all.contains("name one of: a"),
            "{all}"
        );
        assert!(all.contains("fail = 1.5 is not a probability"), "{all}");
        assert!(all.contains("crash = -0.1 is not a probability"), "{all}");
        assert!(
            all.contains("latency_ms = 1000000000 is out of range"),
            "{all}"
        );
    }
}
