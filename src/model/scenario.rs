//! A scenario: timed actions a run plays by itself — a worker killed at 2 s, faults set
//! on a node at 3 s, cleared at 5 s — written in the topology file, so the same file and
//! seed give the same demonstration every time, from the command line or the designer.

use serde::{Deserialize, Serialize};

/// One timed action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioStep {
    /// When, in milliseconds after the run starts.
    pub at_ms: u64,
    pub action: ScenarioAction,
}

/// What a step does; each is one of the designer's live controls.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ScenarioAction {
    /// Kill simulated worker N (its executors restart after their backoff).
    KillWorker(u32),
    /// Inject faults into every task of a node, replacing its faults so far.
    SetFaults {
        node: String,
        /// Chance (0 to 1) that an input is failed instead of acked.
        #[serde(default)]
        fail: f64,
        /// Milliseconds added to each tuple (or `next_tuple` call).
        #[serde(default)]
        latency_ms: f64,
        /// Chance (0 to 1) per tuple that the task panics and is restarted.
        #[serde(default)]
        crash: f64,
    },
    /// Remove every node's faults.
    ClearFaults,
    /// Kill simulated machine N: its supervisor and workers are gone; Nimbus reassigns
    /// the workers after the heartbeat timeout.
    KillMachine(u32),
    /// Bring machine N back, with its supervisor.
    RestoreMachine(u32),
    /// Kill Nimbus: workers keep running, nothing is reassigned until it returns.
    KillNimbus,
    RestoreNimbus,
    /// Kill machine N's supervisor: its workers keep running, a dead one stays dead.
    KillSupervisor(u32),
    RestoreSupervisor(u32),
    /// Storm's `rebalance -e NODE=N`: run the node's tasks (their number fixed) on N
    /// executors from now on.
    Rebalance {
        node: String,
        executors: u32,
    },
    /// Storm's `rebalance -n N`: spread the executors over N workers from now on.
    RebalanceWorkers(u32),
}

impl ScenarioStep {
    /// One line, as the designer lists it and the run log says it: `at 2s: kill worker 1`.
    pub fn describe(&self) -> String {
        let at = if self.at_ms.is_multiple_of(1000) {
            format!("{}s", self.at_ms / 1000)
        } else {
            format!("{}ms", self.at_ms)
        };
        let what = match &self.action {
            ScenarioAction::KillWorker(w) => format!("kill worker {w}"),
            ScenarioAction::SetFaults {
                node,
                fail,
                latency_ms,
                crash,
            } => {
                let mut parts = Vec::new();
                if *fail > 0.0 {
                    parts.push(format!("fail {}%", fail * 100.0));
                }
                if *latency_ms > 0.0 {
                    parts.push(format!("latency {latency_ms} ms"));
                }
                if *crash > 0.0 {
                    parts.push(format!("crash {}%", crash * 100.0));
                }
                if parts.is_empty() {
                    parts.push("no faults".into());
                }
                format!("{node}: {}", parts.join(", "))
            }
            ScenarioAction::ClearFaults => "clear all faults".into(),
            ScenarioAction::KillMachine(m) => format!("kill machine {m}"),
            ScenarioAction::RestoreMachine(m) => format!("restore machine {m}"),
            ScenarioAction::KillNimbus => "kill Nimbus".into(),
            ScenarioAction::RestoreNimbus => "restore Nimbus".into(),
            ScenarioAction::KillSupervisor(m) => format!("kill supervisor {m}"),
            ScenarioAction::RestoreSupervisor(m) => format!("restore supervisor {m}"),
            ScenarioAction::Rebalance { node, executors } => {
                format!("rebalance {node} to {executors} executors")
            }
            ScenarioAction::RebalanceWorkers(n) => format!("rebalance to {n} workers"),
        };
        format!("at {at}: {what}")
    }
}
