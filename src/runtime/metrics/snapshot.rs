//! Metrics snapshots: what the UI and the CLI read, whichever engine ran. Plain data:
//! each engine fills these from its own counters (`storm::sampler`, `batch::sample`,
//! `flume_bridge::metrics`), so readers never depend on an engine.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use super::batch::BatchMetrics;
use super::flume::FlumeNodeMetrics;
use super::{as_millis, opt_as_millis};

/// Everything the engine measured, at one moment.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MetricsSnapshot {
    /// Time since start (milliseconds in JSON).
    #[serde(serialize_with = "as_millis")]
    pub elapsed: Duration,
    pub nodes: BTreeMap<String, NodeMetrics>,
    pub edges: Vec<EdgeMetrics>,
    /// Tuple trees the ackers are tracking right now.
    pub acker_pending: u64,
    pub paused: bool,
    /// From a record entering the system to its processing being complete, over every
    /// spout, percentiles over the run: the spouts' complete latency (emit to ack) in
    /// record-at-a-time mode, arrival to batch completion in micro-batch mode. One name
    /// for both so the two modes can be compared.
    #[serde(serialize_with = "as_millis")]
    pub end_to_end_latency_p50: Duration,
    #[serde(serialize_with = "as_millis")]
    pub end_to_end_latency_p99: Duration,
    /// Micro-batch runs only: the batch clock, batch times and window results.
    pub batch: Option<BatchMetrics>,
    /// Record-at-a-time runs: the simulated workers, in index order.
    pub workers: Vec<WorkerMetrics>,
    /// Threaded record-at-a-time runs: the simulated cluster (machines, slots, where
    /// each worker is, Nimbus, supervisors, the store, the event timeline).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<crate::runtime::cluster::ClusterView>,
    /// Record-at-a-time runs with tracer bullets on: the latest sampled trees, oldest
    /// first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub traces: Vec<super::trace::TracedTree>,
    /// Exactly-once runs: batches committed and replayed, and the committed state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transactions: Option<TransactionMetrics>,
    /// The snapshot a record-at-a-time run ends with: what each `count_by_key` node's
    /// live tasks held, by key (under exactly-once, see `transactions.state`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub final_counts: BTreeMap<String, BTreeMap<String, i64>>,
}

/// What an exactly-once run has committed.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TransactionMetrics {
    /// The last txid committed (batches commit 1, 2, 3, … in order).
    pub committed_txid: u64,
    /// Batch attempts beyond each batch's first.
    pub attempts_replayed: u64,
    /// Batches committed empty because one of their messages failed every attempt
    /// (each is logged; its messages count as lost).
    pub given_up: u64,
    /// Each `count_by_key` node's committed state: key → (count, the txid that last
    /// changed it), as Trident's transactional state keeps it.
    pub state: BTreeMap<String, BTreeMap<String, (i64, u64)>>,
    /// False when a live snapshot shows only the first keys of a large state; the
    /// snapshot a run ends with always has them all.
    pub state_complete: bool,
}

/// One simulated worker: what runs in it and how often it was killed.
#[derive(Debug, Clone, Default, Serialize)]
pub struct WorkerMetrics {
    pub worker: u32,
    /// The node of each of its executors ("acker" for ackers), in plan order.
    pub executors: Vec<String>,
    /// Times this worker was killed (each kill restarts all its executors).
    pub kills: u64,
}

impl MetricsSnapshot {
    /// Most restarts of any single task: the CLI fails a run whose tasks kept crashing.
    pub fn max_task_restarts(&self) -> u64 {
        self.nodes
            .values()
            .flat_map(|n| n.tasks.iter().map(|t| t.restarts))
            .max()
            .unwrap_or(0)
    }
}

/// Per node, summed over its tasks.
#[derive(Debug, Clone, Default, Serialize)]
pub struct NodeMetrics {
    pub role: String,
    pub component: String,
    pub emitted: u64,
    pub transferred: u64,
    pub executed: u64,
    /// Spouts: trees completed; bolts: inputs acked.
    pub acked: u64,
    /// Spouts: trees failed or timed out; bolts: inputs failed.
    pub failed: u64,
    pub replayed: u64,
    pub timed_out: u64,
    pub restarts: u64,
    /// The run clock time of the latest restart of any of its tasks (a crash, or its
    /// worker killed): when that task's in-memory state was lost. `None` until one, and
    /// in runs whose restarts keep state (micro-batch).
    #[serde(
        serialize_with = "opt_as_millis",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_restart: Option<Duration>,
    /// Tuples lost inside a crashing task (they time out and are replayed).
    pub dropped: u64,
    /// Items a limit turned away at this node (`runtime::limits`): emits over the
    /// value-size cap (their input fails), inputs a full collector or window did not
    /// keep, records a full micro-batch receiver could not buffer. The run log says
    /// which, once per node.
    pub refused: u64,
    /// Spouts: tracked tuples awaiting ack or fail.
    pub pending: u64,
    /// Per second, over the sliding window.
    pub emit_rate: f64,
    pub execute_rate: f64,
    pub ack_rate: f64,
    pub fail_rate: f64,
    /// Tuples sent to this node and not yet executed (including those still batched at
    /// the producers), and the queue room of its executors in tuples.
    pub queue_depth: usize,
    pub queue_capacity: usize,
    /// Mean time per tuple in `execute`, measured per batch; percentiles over the run.
    #[serde(serialize_with = "as_millis")]
    pub execute_latency_p50: Duration,
    #[serde(serialize_with = "as_millis")]
    pub execute_latency_p99: Duration,
    /// Spouts: emit to ack callback, percentiles over the run.
    #[serde(serialize_with = "as_millis")]
    pub complete_latency_p50: Duration,
    #[serde(serialize_with = "as_millis")]
    pub complete_latency_p99: Duration,
    /// Busy fraction of the busiest task over the window (≈1 = saturated).
    pub capacity: f64,
    /// True for spouts that have emitted everything and have nothing pending.
    pub done: bool,
    /// Spouts of record-at-a-time runs: the cap each task emits under now, tuples a
    /// second (the run's control, e.g. the designer's speed, else the node's
    /// `rate_per_sec`); `None` when uncapped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<f64>,
    /// The simulated worker of each of its executors, in executor order (empty in
    /// micro-batch runs and for Flume nodes).
    pub workers: Vec<u32>,
    pub tasks: Vec<TaskMetrics>,
    /// Flume sources, channels and sinks: transactions, back-pressure, back-off and
    /// fail-over (`None` for spouts and bolts).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flume: Option<FlumeNodeMetrics>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct TaskMetrics {
    pub task: u32,
    pub executor: usize,
    pub emitted: u64,
    pub transferred: u64,
    pub executed: u64,
    pub acked: u64,
    pub failed: u64,
    pub replayed: u64,
    pub timed_out: u64,
    pub restarts: u64,
    /// The run clock time of this task's latest restart.
    #[serde(
        serialize_with = "opt_as_millis",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_restart: Option<Duration>,
    pub pending: u64,
    /// Batches waiting in this task's executor queue.
    pub queued_batches: usize,
    /// Spouts of threaded record-at-a-time runs: the executor has seen Pause and calls
    /// `next_tuple` no more until Resume (the counts above include every emit before).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub paused: bool,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct EdgeMetrics {
    pub from: String,
    pub to: String,
    pub stream: String,
    pub grouping: String,
    pub tuples: u64,
    pub rate: f64,
    /// Tuples delivered on each (sending task, receiving task) pair so far, pairs with
    /// none left out, in task order: what the grouping lens draws. `None` when the run
    /// kept no pair counts for this edge (micro-batch and Flume links, or more than
    /// [`super::MAX_TASK_PAIRS`] pairs or [`super::MAX_PAIR_RECEIVERS`] receiving tasks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pairs: Option<Vec<TaskPair>>,
}

/// Deliveries from one task to one task along an edge.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TaskPair {
    /// The sending task's Storm id.
    pub from: u32,
    /// The receiving task's Storm id.
    pub to: u32,
    pub tuples: u64,
}

/// Every Flume node whose thread died, with why, from a snapshot: the one test of "did
/// the Flume half fail" that the CLI and the designer share.
pub fn fatal_errors(snap: &MetricsSnapshot) -> Vec<(String, String)> {
    snap.nodes
        .iter()
        .filter_map(|(name, n)| {
            let fatal = n.flume.as_ref()?.fatal.as_ref()?;
            Some((name.clone(), fatal.clone()))
        })
        .collect()
}
