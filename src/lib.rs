//! Tributary: design, run and watch stream-processing topologies on one machine.
//!
//! Layers, from the bottom: [`model`] (the topology as data), [`components`] (the
//! registry of built-ins), [`format`] (files in and out), [`validate`] (every rule a
//! topology must satisfy), [`design`] (headless editing: document, commands with undo,
//! wiring rules). Nothing here depends on the UI.

pub mod clock;
pub mod components;
pub mod design;
pub mod dstream;
pub mod flume;
pub mod format;
pub mod lesson;
pub mod model;
pub mod policy;
pub mod runtime;
#[cfg(feature = "gui")]
pub mod ui;
pub mod validate;

pub use runtime::{
    Control, Engine, FaultSpec, LogLine, MetricsSnapshot, NodeMetrics, RunError, RunOptions,
    StopMode, TaskMetrics,
};
