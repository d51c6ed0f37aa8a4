//! The cluster as a snapshot shows it: machines with their slots, each worker's place
//! and heartbeat, Nimbus, the supervisors, the store's assignment version and the event
//! timeline. Plain data for the designer's cluster panel and `run --json`.

use serde::Serialize;

/// One moment of the simulated cluster.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ClusterView {
    pub machines: Vec<MachineView>,
    pub workers: Vec<WorkerView>,
    /// Nimbus is running (computing and publishing assignments).
    pub nimbus_up: bool,
    /// Bumped each time Nimbus publishes a changed assignment to the store.
    pub assignment_version: u64,
    pub heartbeat_timeout_ms: u64,
    /// What happened, oldest first (the latest [`super::state::EVENTS_KEPT`]).
    pub events: Vec<ClusterEvent>,
}

impl ClusterView {
    /// Where executors in `workers` run, in words: "machine 0", "machines 0, 2", with
    /// "(a worker down)" when one of them is not running. `None` when none is placed.
    pub fn where_text(&self, workers: &[u32]) -> Option<String> {
        let mut machines: Vec<u32> = workers
            .iter()
            .filter_map(|&w| self.workers.get(w as usize).and_then(|v| v.machine))
            .collect();
        machines.sort_unstable();
        machines.dedup();
        let list: Vec<String> = machines.iter().map(u32::to_string).collect();
        let mut text = match list.len() {
            0 => return None,
            1 => format!("machine {}", list[0]),
            _ => format!("machines {}", list.join(", ")),
        };
        let down = workers
            .iter()
            .any(|&w| self.workers.get(w as usize).is_some_and(|v| !v.running));
        if down {
            text.push_str(" (a worker down)");
        }
        Some(text)
    }
}

/// One machine: whether it is up, its supervisor, and what each slot holds.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MachineView {
    pub machine: u32,
    pub up: bool,
    pub supervisor_up: bool,
    /// Time since the store last heard from the supervisor.
    pub supervisor_heartbeat_age_ms: u64,
    pub slots: Vec<SlotView>,
}

/// One slot: its port and the worker assigned to it, if any.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SlotView {
    pub port: u32,
    pub worker: Option<u32>,
}

/// One worker: where the store says it is assigned, and whether it runs.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct WorkerView {
    pub worker: u32,
    /// `None` when no slot could be found for it.
    pub machine: Option<u32>,
    pub port: Option<u32>,
    pub running: bool,
    /// Time since the store last had its heartbeat.
    pub heartbeat_age_ms: u64,
    /// Times a supervisor started it after its first start.
    pub restarts: u64,
    /// Times Nimbus moved it to another machine.
    pub reassignments: u64,
}

/// What a role did or suffered, at a time since the run started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClusterEvent {
    pub at_ms: u64,
    pub kind: EventKind,
    /// Who acted or was hit: "nimbus", "machine 1", "supervisor 1", "worker 2".
    pub role: String,
    pub text: String,
}

/// The kinds of event the timeline tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum EventKind {
    Killed,
    Restored,
    /// A supervisor started a worker (again) in its slot.
    Started,
    /// Nimbus noticed a machine's heartbeats were missing for the timeout.
    HeartbeatMissed,
    Reassigned,
    /// Nimbus found no free slot for a lost worker.
    NoSlot,
    /// An action was refused (the role was already in that state, or out of range).
    Refused,
}
