//! [`RunningEngine`]: what every engine offers once started, so the [`super::Engine`]
//! facade holds any of them behind one trait object instead of branching on the mode.
//!
//! The contract says nothing about threads: a record-at-a-time engine with one thread
//! per executor, a micro-batch engine with receivers and a scheduler, and a stepping
//! engine that runs on its caller's thread can all implement it. Implementations import
//! this module; this module imports no engine.

use std::sync::atomic::AtomicBool;

use crate::model::ExecutionMode;

use super::control::{Control, StopMode};
use super::log::LogLine;
use super::metrics::MetricsSnapshot;
use super::tuple::Values;

/// A started engine. Dropping it stops everything it started.
pub trait RunningEngine: Send {
    /// The execution mode it runs (micro-batch with its interval).
    fn mode(&self) -> ExecutionMode;

    /// The run's numbers now; cheap enough for the UI at 10 Hz and never makes the
    /// engine's workers wait.
    fn snapshot(&self) -> MetricsSnapshot;

    /// Applies a control command; unknown node names are ignored (the UI only offers
    /// existing nodes, and a stale command after a rename is harmless).
    fn control(&self, command: Control);

    /// Lines from logger components and engine events since the last call.
    fn drain_log(&self) -> Vec<LogLine>;

    /// What collector sinks of `node` received so far, with the receiving task's id.
    fn collected_by_task(&self, node: &str) -> Vec<(u32, Values)>;

    /// Task ids of a node (Storm numbering); empty for unknown nodes.
    fn tasks_of(&self, node: &str) -> Vec<u32>;

    /// True when every spout is finite and done and nothing is left in flight.
    fn is_finished(&self) -> bool;

    /// Stops the run (see [`StopMode`]; a draining stop lasts at most
    /// [`super::limits::DRAIN_LIMIT`] and ends early once `interrupt` is set) and
    /// returns the final metrics with the log lines written while stopping, which would
    /// otherwise be lost with the engine.
    fn stop(
        self: Box<Self>,
        mode: StopMode,
        interrupt: &AtomicBool,
    ) -> (MetricsSnapshot, Vec<LogLine>);
}
