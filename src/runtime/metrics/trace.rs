//! Tracer bullets: a few sampled tuple trees of a threaded run, every hop recorded
//! (which task executed which tuple, when, how long it waited since its parent ran),
//! so the canvas can draw one tree's path with per-hop latency. Plain data, as all
//! metrics: the executors record (`exec::tracer`), the UI and the CLI read.

use std::time::Duration;

use serde::Serialize;

use super::as_millis;

/// One hop of a traced tree: one tuple executed by one bolt task.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceHop {
    pub node: String,
    pub task: u32,
    /// The task that emitted the tuple (the spout's, or a bolt's).
    pub from_node: String,
    pub from_task: u32,
    /// When `execute` started and ended, since the run's start.
    #[serde(serialize_with = "as_millis")]
    pub started: Duration,
    #[serde(serialize_with = "as_millis")]
    pub ended: Duration,
    /// From the end of the sender's work on the parent (the spout's emit, or the
    /// execution that emitted this tuple) to this execution's start: queues and
    /// transfer.
    #[serde(serialize_with = "as_millis")]
    pub waited: Duration,
    pub ok: bool,
}

/// One sampled tree, from the spout's emit to the acker's verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TracedTree {
    pub root: u64,
    pub spout: String,
    pub spout_task: u32,
    #[serde(serialize_with = "as_millis")]
    pub emitted: Duration,
    pub hops: Vec<TraceHop>,
    /// When the acker settled it, and whether it was acked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub done: Option<TraceDone>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TraceDone {
    #[serde(serialize_with = "as_millis")]
    pub at: Duration,
    pub ok: bool,
}

impl TracedTree {
    /// Emit to verdict, when the tree is done.
    pub fn complete_latency(&self) -> Option<Duration> {
        self.done.map(|d| d.at.saturating_sub(self.emitted))
    }
}
