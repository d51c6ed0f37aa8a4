//! Topology-wide settings and Flume sink groups.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// How records move through the topology.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ExecutionMode {
    /// Storm-style: each tuple moves on as soon as it is emitted.
    #[default]
    RecordAtATime,
    /// Spark Streaming-style: input is cut into batches every `interval_ms`.
    MicroBatch { interval_ms: u64 },
}

/// What a record-at-a-time run promises about each record its spouts read, when tasks
/// crash, workers die or bolts fail tuples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Guarantee {
    /// No tracking: a record lost to a failure is gone, and nothing is ever replayed.
    AtMostOnce,
    /// Storm's acking: a tuple tree that fails or times out is replayed from its spout,
    /// so nothing is lost, but effects of the first attempt may happen twice.
    #[default]
    AtLeastOnce,
    /// Trident's model: spouts emit numbered batches that replay identically, and
    /// stateful components apply each batch once, in batch order.
    ExactlyOnce,
}

impl Guarantee {
    pub const ALL: [Guarantee; 3] = [
        Guarantee::AtMostOnce,
        Guarantee::AtLeastOnce,
        Guarantee::ExactlyOnce,
    ];

    /// The words users know it by.
    pub fn label(self) -> &'static str {
        match self {
            Guarantee::AtMostOnce => "at-most-once",
            Guarantee::AtLeastOnce => "at-least-once",
            Guarantee::ExactlyOnce => "exactly-once",
        }
    }
}

/// Settings that apply to the whole topology, with Storm's defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// `topology.message.timeout.secs`: a tuple tree not completed in time fails.
    pub message_timeout_secs: u32,
    /// `topology.max.spout.pending`, per spout task; `None` = unlimited.
    #[serde(with = "super::bare_option", skip_serializing_if = "Option::is_none")]
    pub max_spout_pending: Option<u32>,
    /// Acker tasks; 0 switches tracking off (every emit is acked at once).
    pub ackers: u32,
    /// Simulated worker processes that executors are spread over (failure domains).
    pub workers: u32,
    pub mode: ExecutionMode,
    /// What record-at-a-time runs promise; absent in a file means at-least-once.
    #[serde(skip_serializing_if = "is_at_least_once")]
    pub guarantee: Guarantee,
    /// Engine settings Tributary does not interpret (other Storm config keys, Flux
    /// sections, Flume properties of no known component), kept so that importing a
    /// user's file and exporting it again loses nothing.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, super::Value>,
    /// Timed actions the run plays by itself (worker kills, faults), in time order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scenario: Vec<super::ScenarioStep>,
    /// The simulated machines workers are placed on; `None` = one machine with a slot
    /// per worker.
    #[serde(with = "super::bare_option", skip_serializing_if = "Option::is_none")]
    pub cluster: Option<super::ClusterSettings>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            message_timeout_secs: 30,
            max_spout_pending: None,
            ackers: 1,
            workers: 1,
            mode: ExecutionMode::RecordAtATime,
            guarantee: Guarantee::AtLeastOnce,
            extra: BTreeMap::new(),
            scenario: Vec::new(),
            cluster: None,
        }
    }
}

fn is_at_least_once(g: &Guarantee) -> bool {
    *g == Guarantee::AtLeastOnce
}

/// How a Flume sink group picks a sink.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SinkProcessor {
    /// One sink, no grouping behaviour.
    Default,
    /// Highest priority live sink; failed sinks cool down for `min(max_penalty, 2^n s)`.
    Failover {
        priorities: BTreeMap<String, i32>,
        #[serde(default = "default_max_penalty")]
        max_penalty_ms: u64,
    },
    /// Spread batches over the sinks.
    LoadBalance {
        #[serde(default)]
        random: bool,
        #[serde(default)]
        backoff: bool,
        #[serde(default = "default_max_penalty")]
        max_timeout_ms: u64,
    },
}

fn default_max_penalty() -> u64 {
    30_000
}

/// A Flume sink group: several sinks draining one channel under a processor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SinkGroup {
    pub name: String,
    pub sinks: Vec<String>,
    pub processor: SinkProcessor,
}
