//! The embedded runtime: runs a validated topology on this machine's threads with
//! Storm's semantics (task numbering, groupings, XOR acking, timeouts, max spout
//! pending, replay), live metrics, control and fault injection.
//!
//! Layout, one job per module: [`plan`] compiles, [`routing`] picks target tasks,
//! [`tuple`] is the data, [`acker`] the XOR ledger, `executor` the threads,
//! `components` the built-ins' behaviour, [`limits`] every bound a file cannot exceed, [`metrics`] and [`snapshot`] the numbers,
//! [`control`] and `supervisor` the knobs and restarts, [`engine`] the record-at-a-time
//! engine, [`microbatch`] the Spark-style micro-batch engine, `handle` the one public
//! [`Engine`] over both, [`compare`] the two modes side by side.

pub mod acker;
pub mod compare;
pub mod components;
pub mod control;
pub mod engine;
pub mod error;
mod executor;
pub mod flume_side;
mod handle;
pub mod limits;
pub mod log;
pub mod metrics;
pub mod microbatch;
pub mod plan;
pub mod rng;
pub mod routing;
pub mod snapshot;
pub mod supervisor;
pub mod tuple;

pub use compare::{Comparison, ModeFigures, SideBySide, compare};
pub use components::{Behaviour, Bolt, Emitter, Factory, Failed, Spout, TaskInfo};
pub use control::{Control, FaultSpec, StopMode};
pub use engine::{RunOptions, StormEngine};
pub use error::RunError;
pub use flume_side::{FlumeChannelMetrics, FlumeNodeMetrics, FlumeSinkMetrics};
pub use handle::Engine;
pub use log::{LogKind, LogLine};
pub use microbatch::timer::ManualClock;
pub use microbatch::{BatchInfo, BatchMetrics, WindowResult};
pub use snapshot::{EdgeMetrics, MetricsSnapshot, NodeMetrics, TaskMetrics, WorkerMetrics};
pub use tuple::{AckIds, Text, Tuple, Val, Values};
