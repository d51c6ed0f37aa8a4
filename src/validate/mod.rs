//! Every rule a topology must satisfy before it runs, reported all at once.
//!
//! Validation never stops at the first problem: users fix designs faster when they see
//! the whole list, each item naming the node or edge and saying how to fix it.

mod diagnostic;
mod flume_run;
mod rules;
mod spark;

pub use diagnostic::{Diagnostic, Location, Severity};
pub use rules::{MAX_PARALLELISM, MAX_TASKS, MAX_TOTAL_EXECUTORS, MAX_TOTAL_TASKS};

use crate::model::Topology;

/// All problems of a topology, errors first, in a stable order.
pub fn validate(topology: &Topology) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    rules::check_all(topology, &mut out);
    out.sort_by(|a, b| {
        (a.severity, a.location.sort_key()).cmp(&(b.severity, b.location.sort_key()))
    });
    out
}

/// True when nothing stops the topology from running (warnings allowed).
pub fn is_runnable(diagnostics: &[Diagnostic]) -> bool {
    diagnostics.iter().all(|d| d.severity != Severity::Error)
}
