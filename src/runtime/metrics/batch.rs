//! What a micro-batch run adds to a snapshot, as plain data: the batch clock, how the
//! jobs keep up, and the latest window results. `batch::stats` and `batch::window_op`
//! fill it; the designer's batch chart and the CLI read it.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use super::as_millis;

/// Batches kept for the designer's "processing time against the interval" chart.
pub const RECENT_BATCHES: usize = 64;

/// One completed batch.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct BatchInfo {
    /// End of the batch's interval `(t − B, t]`, ms since the start.
    pub time_ms: u64,
    pub records: u64,
    /// How late the batch's job started after its interval closed.
    #[serde(serialize_with = "as_millis")]
    pub scheduling_delay: Duration,
    /// How long the job took.
    #[serde(serialize_with = "as_millis")]
    pub processing_time: Duration,
    /// Simulated workers killed while this batch's job ran (lineage recovery).
    pub killed_workers: Vec<u32>,
    /// Operator partitions of this batch lost with a worker and recomputed from lineage.
    pub recomputed: Vec<RecomputedPartition>,
}

/// One operator partition of a batch recomputed from lineage after its worker died.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct RecomputedPartition {
    pub node: String,
    /// The partition's task id (partition `p` of a node is its `p`-th task).
    pub task: u32,
    /// The worker it was lost with.
    pub worker: u32,
    /// Input records the recomputation went through again: the cost of the loss.
    pub records: u64,
}

/// What a micro-batch run adds to a snapshot: the batch clock and how the jobs keep up.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct BatchMetrics {
    #[serde(serialize_with = "as_millis")]
    pub interval: Duration,
    /// The batch clock: ms since the start.
    pub clock_ms: u64,
    /// End of the batch the clock is filling: the next boundary after `clock_ms`, so
    /// always ahead of the clock. Where the jobs are is `waiting_batches`.
    pub next_batch_ms: u64,
    /// Batches whose interval has closed but whose job has not started: > 0 means the
    /// jobs are behind the clock.
    pub waiting_batches: u64,
    pub batches_completed: u64,
    /// End time of the latest completed batch.
    pub last_batch_ms: Option<u64>,
    pub last_batch_records: u64,
    pub mean_records_per_batch: f64,
    #[serde(serialize_with = "as_millis")]
    pub last_processing_time: Duration,
    #[serde(serialize_with = "as_millis")]
    pub processing_time_p50: Duration,
    #[serde(serialize_with = "as_millis")]
    pub processing_time_p99: Duration,
    #[serde(serialize_with = "as_millis")]
    pub last_scheduling_delay: Duration,
    #[serde(serialize_with = "as_millis")]
    pub max_scheduling_delay: Duration,
    /// The last batch took longer than the interval, or started more than an interval
    /// late: delay will keep growing (Spark's unstable streaming application).
    pub falling_behind: bool,
    /// Newest last, at most [`RECENT_BATCHES`].
    pub recent: Vec<BatchInfo>,
    /// Latest closed window of each window node.
    pub windows: BTreeMap<String, WindowResult>,
    /// Worker kills that landed in a job, since the start.
    pub workers_killed: u64,
    /// Operator partitions recomputed from lineage, since the start.
    pub partitions_recomputed: u64,
    /// Input records those recomputations went through again, since the start.
    pub records_recomputed: u64,
}

/// Entries of a window result kept for the snapshot (the largest values).
pub const WINDOW_TOP: usize = 20;

/// The latest closed window of one window node, as the designer shows it.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct WindowResult {
    /// End of the window (the batch time it closed at), ms since the start.
    pub window_end_ms: u64,
    /// Batches the window covered (fewer than its length while it is still filling).
    pub batches: u64,
    /// Keys in the window.
    pub keys: usize,
    /// Up to [`WINDOW_TOP`] `(key, value)` pairs, largest value first, then by key.
    pub top: Vec<(String, f64)>,
    /// Whether the window was maintained with an inverse function.
    pub incremental: bool,
}
