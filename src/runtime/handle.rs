//! [`Engine`]: the one handle the designer and the CLI use, whatever the topology's
//! execution mode. It starts the record-at-a-time engine or the micro-batch engine and
//! forwards every call, so callers never branch on the mode.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use crate::model::{ExecutionMode, Topology};

use super::control::{Control, StopMode};
use super::engine::{RunOptions, StormEngine};
use super::error::RunError;
use super::log::LogLine;
use super::microbatch::BatchEngine;
use super::microbatch::timer::ManualClock;
use super::snapshot::MetricsSnapshot;
use super::tuple::Values;

/// The record-at-a-time engine is boxed: it is several times larger than the batch
/// engine, and the handle is moved around by callers.
enum Inner {
    Storm(Box<StormEngine>),
    Batch(BatchEngine),
}

/// A running topology. Dropping it stops and joins every thread.
pub struct Engine {
    inner: Inner,
}

impl Engine {
    /// Validates (refusing on errors, with the diagnostics), compiles and starts threads:
    /// executors for `RecordAtATime`, receivers and a batch scheduler for `MicroBatch`.
    pub fn start(topology: &Topology, options: RunOptions) -> Result<Engine, RunError> {
        let inner = match topology.settings.mode {
            ExecutionMode::RecordAtATime => {
                Inner::Storm(Box::new(StormEngine::start(topology, options)?))
            }
            ExecutionMode::MicroBatch { .. } => {
                Inner::Batch(BatchEngine::start(topology, options, None)?)
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
            inner: Inner::Batch(BatchEngine::start(topology, options, Some(clock))?),
        })
    }

    /// The mode this engine runs in.
    pub fn mode(&self) -> ExecutionMode {
        match &self.inner {
            Inner::Storm(_) => ExecutionMode::RecordAtATime,
            Inner::Batch(b) => ExecutionMode::MicroBatch {
                interval_ms: b.interval_ms(),
            },
        }
    }

    /// Cheap enough for the UI at 10 Hz; workers never wait for it. Micro-batch runs fill
    /// [`MetricsSnapshot::batch`].
    pub fn snapshot(&self) -> MetricsSnapshot {
        match &self.inner {
            Inner::Storm(e) => e.snapshot(),
            Inner::Batch(e) => e.snapshot(),
        }
    }

    /// Applies a control command; unknown node names are ignored.
    pub fn control(&self, command: Control) {
        match &self.inner {
            Inner::Storm(e) => e.control(command),
            Inner::Batch(e) => e.control(command),
        }
    }

    /// Lines from logger components and engine events since the last call.
    pub fn drain_log(&self) -> Vec<LogLine> {
        match &self.inner {
            Inner::Storm(e) => e.drain_log(),
            Inner::Batch(e) => e.drain_log(),
        }
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
        match &self.inner {
            Inner::Storm(e) => e.collected_by_task(node),
            Inner::Batch(e) => e.collected_by_task(node),
        }
    }

    /// Task ids of a node (Storm numbering).
    pub fn tasks_of(&self, node: &str) -> Vec<u32> {
        match &self.inner {
            Inner::Storm(e) => e.tasks_of(node),
            Inner::Batch(e) => e.tasks_of(node),
        }
    }

    /// True when every spout is finite and done and nothing is left in flight.
    pub fn is_finished(&self) -> bool {
        match &self.inner {
            Inner::Storm(e) => e.is_finished(),
            Inner::Batch(e) => e.is_finished(),
        }
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
        match self.inner {
            Inner::Storm(e) => {
                let log = e.log_handle();
                let metrics = (*e).stop(mode, interrupt);
                (metrics, log.drain())
            }
            Inner::Batch(e) => {
                let log = e.log_handle();
                let metrics = e.stop(mode, interrupt);
                (metrics, log.drain())
            }
        }
    }
}
