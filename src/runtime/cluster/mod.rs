//! The simulated cluster behind a record-at-a-time run: machines with worker slots,
//! Storm's even scheduler placing workers on them (`placement`), and the roles — Nimbus,
//! a supervisor per machine, the ZooKeeper-like store of assignments and heartbeats —
//! as one state machine (`state`) that an engine ticks and carries out. `view` is what a
//! snapshot shows of it.
//!
//! Rule: this module is plain data and functions: no threads, no clock, no engine. The
//! threaded engine drives it (`storm::cluster`); anything else that needs "which
//! workers were on machine N" asks `placement`.

pub mod placement;
pub mod state;
#[cfg(test)]
mod tests;
pub mod view;

use std::time::Duration;

use crate::model::{ClusterSettings, Topology};

pub use placement::{Slot, workers_on};
pub use state::{Cluster, Effect};
pub use view::{ClusterEvent, ClusterView, EventKind, MachineView, SlotView, WorkerView};

/// A kill or a restore of one role, as the designer's buttons, the CLI's flags and a
/// scenario's steps ask for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClusterAction {
    KillWorker(u32),
    KillMachine(u32),
    RestoreMachine(u32),
    KillNimbus,
    RestoreNimbus,
    KillSupervisor(u32),
    RestoreSupervisor(u32),
}

impl ClusterAction {
    /// The role acted on, as the timeline names it.
    pub fn role(self) -> String {
        match self {
            ClusterAction::KillWorker(w) => format!("worker {w}"),
            ClusterAction::KillMachine(m) | ClusterAction::RestoreMachine(m) => {
                format!("machine {m}")
            }
            ClusterAction::KillNimbus | ClusterAction::RestoreNimbus => "nimbus".into(),
            ClusterAction::KillSupervisor(m) | ClusterAction::RestoreSupervisor(m) => {
                format!("supervisor {m}")
            }
        }
    }

    /// The action in a few words: "kill machine 1", "restore Nimbus".
    pub fn describe(self) -> String {
        match self {
            ClusterAction::KillWorker(w) => format!("kill worker {w}"),
            ClusterAction::KillMachine(m) => format!("kill machine {m}"),
            ClusterAction::RestoreMachine(m) => format!("restore machine {m}"),
            ClusterAction::KillNimbus => "kill Nimbus".into(),
            ClusterAction::RestoreNimbus => "restore Nimbus".into(),
            ClusterAction::KillSupervisor(m) => format!("kill supervisor {m}"),
            ClusterAction::RestoreSupervisor(m) => format!("restore supervisor {m}"),
        }
    }
}

/// The shape of a run's cluster: its settings with the topology's worker count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClusterSpec {
    pub machines: u32,
    pub slots_per_machine: u32,
    pub workers: u32,
    pub heartbeat_timeout: Duration,
    /// The design has no `settings.cluster`: one machine sized to the workers, which a
    /// rebalance resizes so every worker keeps a slot.
    pub implicit: bool,
}

impl ClusterSpec {
    /// The cluster `t` runs on: `settings.cluster`, or one machine with a slot for each
    /// worker when it is absent.
    pub fn of(t: &Topology) -> ClusterSpec {
        let workers = t.settings.workers.max(1);
        let s = t
            .settings
            .cluster
            .clone()
            .unwrap_or_else(|| ClusterSettings::single_machine(workers));
        ClusterSpec {
            machines: s.machines.max(1),
            slots_per_machine: s.slots_per_machine.max(1),
            workers,
            heartbeat_timeout: Duration::from_secs(u64::from(s.heartbeat_timeout_secs.max(1))),
            implicit: t.settings.cluster.is_none(),
        }
    }
}
