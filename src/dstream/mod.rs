//! Spark Streaming's model, for running a topology in micro-batch mode and for teaching
//! the difference to record-at-a-time processing.
//!
//! A discretized stream is a sequence of [`Batch`]es, one per batch interval `B`; batch
//! `k` holds what arrived in `(t_k − B, t_k]`. Per-batch transformations ([`ops`]) are
//! plain functions of one batch; [`state`] carries values across batches
//! (`updateStateByKey`); [`window`] combines the batches of a sliding window, either by
//! recomputing or incrementally with an inverse function, as Spark does.
//!
//! Pure data and functions: nothing here reads a clock, spawns a thread or imports the
//! runtime, so the math is tested alone. Its one user is the micro-batch engine
//! (`runtime::batch`), which feeds it records and a batch clock. (Named after Spark's
//! DStream so it is not confused with that engine.)

pub mod clock;
pub mod ops;
pub mod state;
pub mod window;

pub use clock::BatchClock;
pub use state::StateByKey;
pub use window::{KeyedWindow, WindowError, WindowShape};

/// One micro-batch: everything that arrived in `(time_ms − interval, time_ms]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch<T> {
    /// End of the batch's interval, in ms since the stream started.
    pub time_ms: u64,
    pub items: Vec<T>,
}

impl<T> Batch<T> {
    pub fn new(time_ms: u64, items: Vec<T>) -> Self {
        Self { time_ms, items }
    }
}
