//! Flume agent properties: import (one or all agents of a file) and export.
//!
//! Known types (`seq`, `netcat`, `memory`, `logger`, …) become built-ins when every
//! property fits one of their settings; anything else becomes a stand-in keeping its
//! type and every property as text, so that export writes the same agent back.

mod entries;
mod groups;
mod nodes;
mod read;
mod selector;
mod types;
mod write;

use crate::model::Topology;

pub use read::{agents_in_file, import_file, import_str};
pub use types::{FlumeType, TYPES};

/// Prefix of `Settings::extra` keys holding properties of no declared component, kept
/// verbatim (full key) so export writes them back.
pub const EXTRA_PREFIX: &str = "flume:";
/// Source properties that configure routing (selector) rather than the source type.
pub const ROUTING_PREFIXES: &[&str] = &["selector.", "interceptors."];

/// Writes Flume properties, or the list of what Flume cannot express.
pub fn export(topology: &Topology) -> Result<String, Vec<String>> {
    write::export(topology)
}
