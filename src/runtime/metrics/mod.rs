//! The numbers of a run: the atomics workers bump ([`counters`]: counters and latency
//! histograms) and what the designer and the CLI read ([`snapshot`], with the Flume part
//! in [`flume`] and the micro-batch part in [`batch`]).
//!
//! Rule: this folder imports no engine. The snapshot types are plain data; each engine
//! imports them and fills them from its own counters, so the designer, the CLI and the
//! engines never form an import circle through the numbers.

pub mod batch;
pub mod counters;
pub mod flume;
pub mod snapshot;
pub mod trace;

use std::time::Duration;

use serde::Serializer;

pub use batch::{
    BatchInfo, BatchMetrics, RECENT_BATCHES, RecomputedPartition, WINDOW_TOP, WindowResult,
};
pub use counters::{
    Counters, Histogram, Latencies, MAX_PAIR_RECEIVERS, MAX_TASK_PAIRS, TaskCounters, add, get,
    quantile,
};
pub use flume::{FlumeChannelMetrics, FlumeNodeMetrics, FlumeSinkMetrics};
pub use snapshot::{
    EdgeMetrics, MetricsSnapshot, NodeMetrics, TaskMetrics, TaskPair, TransactionMetrics,
    WorkerMetrics, fatal_errors,
};
pub use trace::{TraceDone, TraceHop, TracedTree};

/// Durations in JSON output are milliseconds (fractional), whatever struct holds them.
pub(crate) fn as_millis<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64() * 1e3)
}

/// An optional duration in JSON: milliseconds, or null.
pub(crate) fn opt_as_millis<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => as_millis(d, s),
        None => s.serialize_none(),
    }
}
