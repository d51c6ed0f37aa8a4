//! The Flume-only part of a node's metrics, as plain data: transactions, back-pressure,
//! back-off and fail-over. `flume_bridge::metrics` fills it from the agents' statistics;
//! the designer and the CLI read it from `MetricsSnapshot::nodes`.

use serde::Serialize;

/// The Flume-only part of a node's metrics.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FlumeNodeMetrics {
    pub agent: String,
    /// Source: events received; channel: puts committed; sink: events delivered.
    pub events_in: u64,
    /// Source: events committed to its channels; channel: takes committed; sink:
    /// events delivered.
    pub events_out: u64,
    /// Source: a channel refused its last batch and it is waiting to retry
    /// (back-pressure). Channel: a put is waiting for room or failed for lack of it.
    pub blocked: bool,
    /// Source: it ended on its own (a `sequence` source reached its limit).
    pub finished: bool,
    pub channel: Option<FlumeChannelMetrics>,
    pub sink: Option<FlumeSinkMetrics>,
    pub last_error: Option<String>,
    /// Netcat sources: the address bound (useful with port 0).
    pub listening: Option<String>,
    /// Sources: lines longer than the limit (netcat refuses them, spooldir cuts them).
    pub too_long: u64,
    /// Netcat sources: connections refused because `max-connections` were open.
    pub refused_connections: u64,
    /// The node's thread panicked: it has stopped, and the run counts as failed.
    pub fatal: Option<String>,
    /// Source: the run is paused and the source holds its next batch (what it had
    /// received before is all counted in `events_in`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub paused: bool,
}

/// A channel's transaction activity, for the fill bar and its badges.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FlumeChannelMetrics {
    /// Committed events waiting.
    pub size: u64,
    /// Events taken by transactions that have not committed (they still hold a slot).
    pub in_flight: u64,
    pub capacity: u64,
    pub commits: u64,
    pub rollbacks: u64,
    /// Put commits that gave up waiting for room (`ChannelFullException`).
    pub full_failures: u64,
    /// Bytes of events held, against `byteCapacity`.
    pub bytes: u64,
    pub byte_capacity: u64,
    /// Commits that failed because storage failed (a full disk).
    pub io_failures: u64,
    /// Per second over the rate window.
    pub commit_rate: f64,
    pub rollback_rate: f64,
}

/// A sink's runner and processor state, so the canvas can show back-off and fail-over.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FlumeSinkMetrics {
    /// Failover: this is the sink in use; other processors: it is usable.
    pub active: bool,
    /// Failed over (failover) or blacklisted (load balancing) right now.
    pub penalized: bool,
    pub penalty_until_ms: Option<u64>,
    pub sequential_failures: u32,
    /// The runner sleeps in back-off (empty channel or failed delivery).
    pub in_backoff: bool,
    pub backoffs: u64,
    pub failures: u64,
}
