//! Commands the UI sends to a running engine, and the shared switches workers read.
//!
//! Workers only ever *load* these atomics (relaxed), so a control change costs them
//! nothing until it matters; the UI thread only stores.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use serde::Serialize;

/// A command for a running engine.
#[derive(Debug, Clone, PartialEq)]
pub enum Control {
    /// Spouts stop calling `next_tuple`; bolts keep draining what is in flight.
    Pause,
    Resume,
    /// Emit at most `per_sec` tuples per second *per task* of this spout (the unit of the
    /// `rate_per_sec` setting); `None` returns to the node's configured rate.
    SetRate {
        node: String,
        per_sec: Option<f64>,
    },
    /// Replaces the injected faults of a node.
    SetFaults {
        node: String,
        faults: FaultSpec,
    },
    /// Kills one simulated worker (record-at-a-time runs): all its executors die at
    /// once, lose their in-memory state and are restarted by the supervisor. An index
    /// out of range is refused with a line in the run log.
    KillWorker {
        worker: u32,
    },
    /// Kills or restores a role of the simulated cluster (record-at-a-time runs): a
    /// machine, Nimbus or a supervisor. A refusal (out of range, already in that state)
    /// is a line in the run log.
    Cluster(super::cluster::ClusterAction),
    /// Storm's `rebalance` (threaded record-at-a-time runs): run these nodes on these
    /// many executors and/or the topology on this many workers from now on. Task ids do
    /// not change, so fields-grouping placement stays; in-flight trees time out and
    /// replay. A refusal is a line in the run log.
    Rebalance {
        executors: Vec<(String, u32)>,
        workers: Option<u32>,
    },
    /// Tracer bullets (record-at-a-time runs): record every hop of one tuple tree in
    /// `every` (0 turns it off). Which trees follows from their root ids.
    TraceEvery {
        every: u32,
    },
}

/// How an engine should stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopMode {
    /// Stop spouts, wait (up to `limits::DRAIN_LIMIT`, whatever the message timeout)
    /// until every tracked tuple is acked or failed and the queues are empty, then stop.
    Drain,
    /// Stop now; tuples in flight are dropped.
    Immediate,
}

/// Faults injected into every task of one node, to watch the runtime cope.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct FaultSpec {
    /// Bolts: chance that an input is failed instead of acked.
    pub fail_probability: f64,
    /// Extra time spent per tuple (bolts) or per `next_tuple` call (spouts).
    pub added_latency: Duration,
    /// Chance per tuple that the task panics; the supervisor then restarts it.
    pub crash_probability: f64,
}

impl FaultSpec {
    pub fn is_active(&self) -> bool {
        self.fail_probability > 0.0 || self.crash_probability > 0.0 || !self.added_latency.is_zero()
    }

    /// The faults in the words a run log shows: "faults: fail 15 %, +20 ms latency",
    /// or "faults off".
    pub fn describe(&self) -> String {
        if !self.is_active() {
            return "faults off".to_string();
        }
        let mut parts = Vec::new();
        if self.fail_probability > 0.0 {
            parts.push(format!("fail {}", percent(self.fail_probability)));
        }
        if !self.added_latency.is_zero() {
            let ms = self.added_latency.as_secs_f64() * 1000.0;
            parts.push(format!("+{} ms latency", short_number(ms)));
        }
        if self.crash_probability > 0.0 {
            parts.push(format!("crash {}", percent(self.crash_probability)));
        }
        format!("faults: {}", parts.join(", "))
    }
}

/// A probability as a percentage, whole when it is near one ("15 %", "0.5 %").
fn percent(p: f64) -> String {
    format!("{} %", short_number(p * 100.0))
}

/// A number with one decimal only when it has a visible fraction.
fn short_number(v: f64) -> String {
    if (v - v.round()).abs() < 0.05 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// Per-node switches shared between the engine and its workers.
#[derive(Debug, Default)]
pub struct NodeSwitches {
    /// f64 bits of the rate override; `u64::MAX` = none.
    rate_bits: AtomicU64,
    faults_active: AtomicBool,
    fail_bits: AtomicU64,
    crash_bits: AtomicU64,
    latency_ns: AtomicU64,
    /// Bumped on every change, so workers can cache derived values.
    pub version: AtomicU64,
}

impl NodeSwitches {
    pub fn new() -> Self {
        let s = Self::default();
        s.rate_bits.store(u64::MAX, Ordering::Relaxed);
        s
    }

    pub fn set_rate(&self, per_sec: Option<f64>) {
        let bits = per_sec.map_or(u64::MAX, |r| r.max(0.0).to_bits());
        self.rate_bits.store(bits, Ordering::Relaxed);
        self.version.fetch_add(1, Ordering::Release);
    }

    /// The rate override, if one is set.
    pub fn rate(&self) -> Option<f64> {
        match self.rate_bits.load(Ordering::Relaxed) {
            u64::MAX => None,
            bits => Some(f64::from_bits(bits)),
        }
    }

    pub fn set_faults(&self, f: &FaultSpec) {
        self.fail_bits.store(
            f.fail_probability.clamp(0.0, 1.0).to_bits(),
            Ordering::Relaxed,
        );
        self.crash_bits.store(
            f.crash_probability.clamp(0.0, 1.0).to_bits(),
            Ordering::Relaxed,
        );
        self.latency_ns.store(
            u64::try_from(f.added_latency.as_nanos()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        self.faults_active.store(f.is_active(), Ordering::Release);
        self.version.fetch_add(1, Ordering::Release);
    }

    #[inline]
    pub fn faults_active(&self) -> bool {
        self.faults_active.load(Ordering::Relaxed)
    }

    pub fn faults(&self) -> FaultSpec {
        FaultSpec {
            fail_probability: f64::from_bits(self.fail_bits.load(Ordering::Relaxed)),
            crash_probability: f64::from_bits(self.crash_bits.load(Ordering::Relaxed)),
            added_latency: Duration::from_nanos(self.latency_ns.load(Ordering::Relaxed)),
        }
    }
}

/// Engine-wide switches.
#[derive(Debug, Default)]
pub struct EngineSwitches {
    pub paused: AtomicBool,
    /// Spouts stop for good (drain before stop).
    pub deactivated: AtomicBool,
    /// Every worker leaves its loop.
    pub shutdown: AtomicBool,
}

/// Applies a command to executor switches. Both execution modes keep the same switches
/// (engine-wide pause, one [`NodeSwitches`] per plan node), so they share this; unknown
/// node names are ignored because a stale command after a rename is harmless.
pub(crate) fn apply_to_switches<S: std::borrow::Borrow<NodeSwitches>>(
    command: Control,
    switches: &EngineSwitches,
    plan: &super::plan::Plan,
    node_switches: &[S],
    log: &super::log::RunLog,
) {
    match command {
        Control::Pause => switches.paused.store(true, Ordering::Relaxed),
        Control::Resume => switches.paused.store(false, Ordering::Relaxed),
        Control::SetRate { node, per_sec } => {
            if let Some(s) = plan.node_index(&node).and_then(|i| node_switches.get(i)) {
                s.borrow().set_rate(per_sec);
            }
        }
        Control::SetFaults { node, faults } => {
            if let Some(s) = plan.node_index(&node).and_then(|i| node_switches.get(i)) {
                s.borrow().set_faults(&faults);
                log_faults(log, &node, &faults);
            }
        }
        Control::KillWorker { worker } => log.push(
            "engine",
            0,
            super::log::LogKind::Error,
            format!("kill worker {worker} ignored: micro-batch runs have no workers"),
        ),
        Control::Cluster(action) => log.push(
            "engine",
            0,
            super::log::LogKind::Error,
            format!(
                "{} ignored: only a threaded record-at-a-time run simulates the cluster",
                action.describe()
            ),
        ),
        Control::Rebalance { .. } => log.push(
            "engine",
            0,
            super::log::LogKind::Error,
            "rebalance ignored: only a threaded record-at-a-time run can be rebalanced".into(),
        ),
        Control::TraceEvery { .. } => log.push(
            "engine",
            0,
            super::log::LogKind::Error,
            "tracer bullets ignored: micro-batch runs have no tuple trees".into(),
        ),
    }
}

/// Records a fault-injection change in the run log, so a lesson's log shows when the
/// failures it is about to see were switched on.
pub(crate) fn log_faults(log: &super::log::RunLog, node: &str, faults: &FaultSpec) {
    log.push(node, 0, super::log::LogKind::Setting, faults.describe());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_read_as_plain_words() {
        assert_eq!(FaultSpec::default().describe(), "faults off");
        let f = FaultSpec {
            fail_probability: 0.15,
            added_latency: Duration::from_millis(20),
            crash_probability: 0.005,
        };
        assert_eq!(
            f.describe(),
            "faults: fail 15 %, +20 ms latency, crash 0.5 %"
        );
        let f = FaultSpec {
            fail_probability: 0.153_846,
            ..FaultSpec::default()
        };
        assert_eq!(f.describe(), "faults: fail 15.4 %");
    }
}
