//! The embedded runtime: runs a validated topology on this machine's threads with
//! Storm's semantics (task numbering, groupings, XOR acking, timeouts, max spout
//! pending, replay), live metrics, control and fault injection; or, for micro-batch
//! topologies, with Spark Streaming's.
//!
//! # Layout
//!
//! The engines are folders of their own; what more than one engine needs sits beside
//! them at this level.
//!
//! - [`Engine`] (`engine.rs`) is the one public handle: it picks an engine from the
//!   topology's execution mode and holds it as a `RunningEngine` (`running.rs`), the
//!   trait every engine implements, so neither it nor its callers branch on the mode.
//! - `exec/`: the record-at-a-time executors (spout, bolt, acker) with their outboxes,
//!   routing, pending roots and the sampler; two schedulers drive them:
//! - `storm/`: the threaded record-at-a-time engine (one thread per executor);
//! - [`lab`]: Lab mode, one event at a time on the caller's thread over a virtual clock,
//!   with a trace of every event.
//! - `batch/`: the micro-batch engine (receivers and a batch scheduler); the pure
//!   Spark Streaming math it applies lives in `crate::dstream`.
//! - `flume_bridge/`: where Storm executors meet Flume agents (drain spouts, put bolts,
//!   the Flume part of snapshots).
//! - [`metrics`]: counters, histograms and the snapshot types, as plain data that
//!   imports no engine.
//! - Shared by every engine: [`options`] (the run's options and the one admission
//!   gate), [`plan`] compiles, [`routing`] picks target tasks, [`tuple`] is the data,
//!   [`acker`] the XOR ledger, [`components`] the built-ins' behaviour, [`control`] and
//!   [`supervisor`] the knobs and restarts, [`limits`] every bound a file cannot exceed,
//!   [`log`] the run log, [`error`] the refusals, [`compare`] the two modes side by
//!   side, [`rng`] and [`fxhash`] the seeded randomness and hashing.
//!
//! Import rules: `metrics` and the shared modules import no engine (`components::Emitter`
//! holds `exec`'s concrete `BoltSink`, so a bolt's emits inline into its routing);
//! engines import the shared modules and `exec`, never each other (`storm` uses
//! `flume_bridge`); only `engine.rs` names the threaded engines, and the
//! lab is started on its own (`LabEngine::start`) because stepping is its interface.

pub mod acker;
mod batch;
pub mod cluster;
pub mod compare;
pub mod components;
pub mod control;
mod engine;
pub mod error;
pub(crate) mod exec;
mod flume_bridge;
pub mod guarantees;
pub mod key_route;
pub mod lab;
pub mod limits;
pub mod log;
pub mod metrics;
pub mod options;
pub mod plan;
pub mod rng;
pub mod routing;
mod running;
pub mod scenario;
mod storm;
pub mod supervisor;
pub mod tuple;
pub mod txn;

pub use compare::{Comparison, ModeFigures, SideBySide, compare};
pub use components::{Behaviour, Bolt, Emitter, Factory, Failed, Spout, TaskInfo};
pub use control::{Control, FaultSpec, StopMode};
pub use engine::Engine;
pub use error::RunError;
pub use lab::{LabEngine, LabOptions, Until};
pub use log::{LogKind, LogLine};
pub use metrics::{
    BatchInfo, BatchMetrics, EdgeMetrics, FlumeChannelMetrics, FlumeNodeMetrics, FlumeSinkMetrics,
    MetricsSnapshot, NodeMetrics, TaskMetrics, TaskPair, TraceHop, TracedTree, WindowResult,
    WorkerMetrics,
};
pub use options::RunOptions;
pub use scenario::ScenarioPlayer;
pub use tuple::{AckIds, Text, Tuple, Val, Values};
