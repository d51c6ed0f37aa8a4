//! The simulated cluster a record-at-a-time run is placed on: machines, each with
//! worker slots, as Storm's supervisors offer them (`supervisor.slots.ports`). Absent
//! from a topology, a run has one machine with a slot per worker.

use serde::{Deserialize, Serialize};

/// `settings.cluster`: the machines and slots workers are placed on, and how long
/// Nimbus waits for a silent machine's heartbeats before it reassigns its workers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterSettings {
    /// Simulated machines (supervisor nodes), numbered from 0.
    pub machines: u32,
    /// Worker slots each machine offers (Storm's ports 6700, 6701, ...).
    pub slots_per_machine: u32,
    /// Seconds without a heartbeat before Nimbus judges a machine lost
    /// (`nimbus.task.timeout.secs`; Storm's default is 30, ours is shorter so a
    /// demonstration shows it).
    #[serde(default = "default_heartbeat_timeout")]
    pub heartbeat_timeout_secs: u32,
}

/// Tributary's default heartbeat timeout, in seconds.
pub const DEFAULT_HEARTBEAT_TIMEOUT_SECS: u32 = 3;

fn default_heartbeat_timeout() -> u32 {
    DEFAULT_HEARTBEAT_TIMEOUT_SECS
}

impl ClusterSettings {
    /// The cluster a topology without `settings.cluster` runs on: one machine with a
    /// slot for every worker, so no worker can be lost for want of a slot.
    pub fn single_machine(workers: u32) -> Self {
        Self {
            machines: 1,
            slots_per_machine: workers.max(1),
            heartbeat_timeout_secs: DEFAULT_HEARTBEAT_TIMEOUT_SECS,
        }
    }

    /// Every slot of every machine.
    pub fn slots(&self) -> u64 {
        u64::from(self.machines) * u64::from(self.slots_per_machine)
    }
}
