//! [`Engine`]: the one handle the designer and the CLI use, whatever the topology's
//! execution mode. It picks the engine once, at start (record-at-a-time: `storm`,
//! micro-batch: `batch`), and holds it as a [`RunningEngine`], so neither its callers
//! nor its own methods branch on the mode.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use crate::model::{ExecutionMode, Topology};

use crate::clock::ManualClock;

use super::batch::BatchEngine;
use super::control::{Control, StopMode};
use super::error::RunError;
use super::log::LogLine;
use super::metrics::MetricsSnapshot;
use super::options::RunOptions;
use super::running::RunningEngine;
use super::storm::StormEngine;
use super::tuple::Values;

/// A running topology. Dropping it stops and joins every thread.
pub struct Engine {
    inner: Box<dyn RunningEngine>,
}

impl Engine {
    /// Validates (refusing on errors, with the diagnostics), compiles and starts threads:
    /// executors for `RecordAtATime`, receivers and a batch scheduler for `MicroBatch`.
    pub fn start(topology: &Topology, options: RunOptions) -> Result<Engine, RunError> {
        let inner: Box<dyn RunningEngine> = match topology.settings.mode {
            ExecutionMode::RecordAtATime => Box::new(StormEngine::start(topology, options)?),
            ExecutionMode::MicroBatch { .. } => {
                Box::new(BatchEngine::start(topology, options, None)?)
            }
        };
        Ok(Engine { inner })
    }

    /// Starts a micro-batch topology on a clock that only moves when `clock` is moved,
    /// so tests can cut batches by hand. Record-at-a-time topologies are refused: their
    /// timing belongs to the executors.
    pub fn start_with_clock(
        topology: &Topology,
        options: RunOptions,
        clock: Arc<ManualClock>,
    ) -> Result<Engine, RunError> {
        Ok(Engine {
            inner: Box::new(BatchEngine::start(topology, options, Some(clock))?),
        })
    }

    /// The mode this engine runs in.
    pub fn mode(&self) -> ExecutionMode {
        self.inner.mode()
    }

    /// Cheap enough for the UI at 10 Hz; workers never wait for it. Micro-batch runs fill
    /// [`MetricsSnapshot::batch`].
    pub fn snapshot(&self) -> MetricsSnapshot {
        self.inner.snapshot()
    }

    /// Applies a control command; unknown node names are ignored.
    pub fn control(&self, command: Control) {
        self.inner.control(command)
    }

    /// Lines from logger components and engine events since the last call.
    pub fn drain_log(&self) -> Vec<LogLine> {
        self.inner.drain_log()
    }

    /// What collector sinks of `node` received so far.
    pub fn collected(&self, node: &str) -> Vec<Values> {
        self.collected_by_task(node)
            .into_iter()
            .map(|(_, v)| v)
            .collect()
    }

    /// Like [`Engine::collected`], with the task id that received each tuple.
    pub fn collected_by_task(&self, node: &str) -> Vec<(u32, Values)> {
        self.inner.collected_by_task(node)
    }

    /// Task ids of a node (Storm numbering).
    pub fn tasks_of(&self, node: &str) -> Vec<u32> {
        self.inner.tasks_of(node)
    }

    /// True when every spout is finite and done and nothing is left in flight.
    pub fn is_finished(&self) -> bool {
        self.inner.is_finished()
    }

    /// Waits until finished or `timeout` passes; true when finished.
    pub fn wait_finished(&self, timeout: Duration) -> bool {
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            if self.is_finished() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        false
    }

    /// Stops every thread and returns the final metrics (see [`StopMode`]). A draining
    /// stop lasts at most [`super::limits::DRAIN_LIMIT`].
    pub fn stop(self, mode: StopMode) -> MetricsSnapshot {
        self.stop_interruptible(mode, &AtomicBool::new(false)).0
    }

    /// Like [`Engine::stop`], but a draining stop ends as soon as `interrupt` is set
    /// (the CLI's Ctrl+C); also returns the run log's last lines, written while
    /// stopping (a drain that gave up, a thread that died), which would otherwise be lost
    /// with the engine.
    pub fn stop_interruptible(
        self,
        mode: StopMode,
        interrupt: &AtomicBool,
    ) -> (MetricsSnapshot, Vec<LogLine>) {
        self.inner.stop(mode, interrupt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Grouping, Node, Role, StreamDecl};

    /// A five-number sequence into a collector, in `mode`.
    fn pipeline(mode: ExecutionMode) -> Topology {
        let mut t = Topology::new("t");
        t.settings.mode = mode;
        t.add_node(
            Node::new("numbers", Role::Spout, "sequence")
                .with_config("limit", 5)
                .with_output(StreamDecl::default_stream(&["n"])),
        )
        .unwrap();
        t.add_node(Node::new("sink", Role::Bolt, "collector"))
            .unwrap();
        t.connect_names("numbers", "sink", "default", Grouping::Shuffle)
            .unwrap();
        t
    }

    #[test]
    fn the_facade_runs_either_engine_to_the_end_through_one_trait() {
        let batch = ExecutionMode::MicroBatch { interval_ms: 10 };
        for mode in [ExecutionMode::RecordAtATime, batch] {
            let engine = Engine::start(&pipeline(mode), RunOptions::default()).unwrap();
            assert_eq!(engine.mode(), mode);
            assert!(engine.wait_finished(Duration::from_secs(60)), "{mode:?}");
            let mut got: Vec<String> = engine
                .collected("sink")
                .iter()
                .map(|v| format!("{v:?}"))
                .collect();
            got.sort();
            assert_eq!(got.len(), 5, "{mode:?}: {got:?}");
            assert_eq!(engine.tasks_of("sink").len(), 1);
            assert!(engine.tasks_of("no such node").is_empty());
            let last = engine.stop(StopMode::Drain);
            assert_eq!(last.nodes["sink"].executed, 5, "{mode:?}");
            assert_eq!(last.batch.is_some(), mode != ExecutionMode::RecordAtATime);
        }
    }

    #[test]
    fn a_manual_clock_is_refused_for_a_record_at_a_time_topology() {
        let t = pipeline(ExecutionMode::RecordAtATime);
        let clock = Arc::new(ManualClock::new(0));
        let refused = Engine::start_with_clock(&t, RunOptions::default(), clock);
        assert!(matches!(refused, Err(RunError::Config { .. })));
    }
}
