//! What a run reports: per-node metrics ([`NodeStats`]), sink back-off and fail-over
//! state ([`SinkState`]) and the whole run's [`FlumeSnapshot`].
//!
//! A snapshot only reads atomic counters and short-held locks the data path also uses
//! briefly, so it can be taken at any time from any thread and nothing in the data path
//! ever waits for a reader.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;

use super::{FlumeRun, Probe};
use crate::flume::channel::ChannelStats;
use crate::flume::fatal::FatalError;
use crate::flume::file_channel::RecoveryReport;
use crate::model::Role;

/// Back-off and fail-over state of one sink, for the canvas.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SinkState {
    /// The sink is usable (for failover: it is the one in use).
    pub active: bool,
    /// Failed over or blacklisted until this time (ms since the epoch or the test clock).
    pub penalty_until_ms: Option<u64>,
    pub sequential_failures: u32,
    /// The sink's runner is sleeping in back-off.
    pub in_backoff: bool,
    pub backoffs: u64,
    pub failures: u64,
}

/// Metrics of one Flume node at one moment.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NodeStats {
    pub agent: String,
    pub role: Option<Role>,
    /// Source: events received; channel: puts committed; sink: events delivered.
    pub events_in: u64,
    /// Source: events committed to its channels; channel: takes committed; sink: delivered.
    pub events_out: u64,
    /// Channels only.
    pub channel: Option<ChannelStats>,
    /// Source: its last put was refused and it is waiting (back-pressure).
    /// Channel: a put is waiting for space or failed for lack of it.
    pub blocked: bool,
    /// Sinks only.
    pub sink: Option<SinkState>,
    pub last_error: Option<String>,
    /// Netcat sources: the address actually bound (useful with port 0).
    pub listening: Option<SocketAddr>,
    /// Sources: the source ended on its own (a `seq` source reached its limit, or its
    /// thread died).
    pub finished: bool,
    /// Sources: lines longer than the limit (netcat refuses them, spooldir cuts them).
    pub too_long: u64,
    /// Netcat sources: connections refused because `max-connections` were open.
    pub refused_connections: u64,
    /// The node's thread panicked: the node has stopped and the run has failed.
    pub fatal: Option<String>,
    /// Sources: the run is paused and the source holds its next batch.
    pub holding: bool,
}

/// Metrics of a whole run.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FlumeSnapshot {
    pub nodes: BTreeMap<String, NodeStats>,
    /// Agent name → still running.
    pub agents: BTreeMap<String, bool>,
    /// Recovery findings of file channels, by channel name.
    pub recovery: BTreeMap<String, RecoveryReport>,
    /// Threads that panicked, in order: any entry means the run failed.
    pub fatal: Vec<FatalError>,
}

impl FlumeRun {
    /// Current metrics of every Flume node.
    pub fn snapshot(&self) -> FlumeSnapshot {
        let fatal = self.fatal.list();
        let mut nodes = BTreeMap::new();
        for (name, entry) in &self.nodes {
            let mut stats = NodeStats {
                agent: entry.agent.clone(),
                role: Some(entry.role),
                fatal: fatal
                    .iter()
                    .find(|f| f.node == *name)
                    .map(|f| f.message.clone()),
                ..NodeStats::default()
            };
            match &entry.probe {
                Probe::Source(c, listening) => {
                    stats.events_in = c.received.load(Ordering::Relaxed);
                    stats.events_out = c.accepted.load(Ordering::Relaxed);
                    stats.blocked = c.blocked.load(Ordering::Relaxed);
                    stats.last_error = c.last_error();
                    stats.listening = *listening;
                    stats.finished = c.finished.load(Ordering::Relaxed);
                    stats.too_long = c.too_long.load(Ordering::Relaxed);
                    stats.refused_connections = c.refused_connections.load(Ordering::Relaxed);
                    stats.holding = c.holding.load(Ordering::Acquire);
                }
                Probe::Channel(ch) => {
                    let counters = ch.counters();
                    let c = counters.snapshot();
                    stats.events_in = c.puts_committed;
                    stats.events_out = c.takes_committed;
                    stats.blocked = c.blocked;
                    stats.channel = Some(c);
                    stats.last_error = counters.last_error();
                }
                Probe::Sink(c, runner) => {
                    let delivered = c.delivered.load(Ordering::Relaxed);
                    stats.events_in = delivered;
                    stats.events_out = delivered;
                    stats.last_error = c.last_error();
                    let slots = runner.slots.lock().unwrap_or_else(|p| p.into_inner());
                    let slot = slots
                        .iter()
                        .find(|s| s.name == *name)
                        .cloned()
                        .unwrap_or_default();
                    stats.sink = Some(SinkState {
                        active: slot.active,
                        penalty_until_ms: slot.penalty_until_ms,
                        sequential_failures: slot.sequential_failures,
                        in_backoff: runner.in_backoff.load(Ordering::Relaxed),
                        backoffs: runner.backoffs.load(Ordering::Relaxed),
                        failures: c.failures.load(Ordering::Relaxed),
                    });
                }
            }
            nodes.insert(name.clone(), stats);
        }
        FlumeSnapshot {
            nodes,
            agents: self
                .agents
                .iter()
                .map(|(n, a)| (n.clone(), a.running))
                .collect(),
            recovery: self.recovery.clone(),
            fatal,
        }
    }
}
