//! Every rule a topology must satisfy before it runs, reported all at once.
//!
//! Validation never stops at the first problem: users fix designs faster when they see
//! the whole list, each item naming the node or edge and saying how to fix it. Each
//! `check_*` appends what it finds; none stops early.
//!
//! The rules live by subject: `settings` (settings and run-wide totals), `graph` (names,
//! dangling edges, cycles, reachability, each node's connections), `node` (one node and
//! its component), `edge` (one edge), `flume` (selectors and sink groups), `flume_run`
//! (what the running agents would refuse) and `spark` (the Spark operators). This file
//! is the one entry point and runs them in order.

mod cluster;
mod diagnostic;
mod edge;
mod flume;
mod flume_batch;
mod flume_run;
mod graph;
mod guarantee;
mod node;
mod scenario;
mod settings;
mod spark;

pub use diagnostic::{Diagnostic, Location, Severity};
pub use guarantee::committers_after_counts;
pub use node::{MAX_PARALLELISM, MAX_TASKS};
pub use settings::{MAX_TOTAL_EXECUTORS, MAX_TOTAL_TASKS};

use crate::model::{Node, Topology};

/// All problems of a topology, errors first, in a stable order.
pub fn validate(topology: &Topology) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    check_all(topology, &mut out);
    out.sort_by(|a, b| {
        (a.severity, a.location.sort_key()).cmp(&(b.severity, b.location.sort_key()))
    });
    out
}

/// Problems of scenario steps given beside the file (the CLI's `--kill-machine` and
/// friends), judged against the topology they will act on.
pub fn check_steps(topology: &Topology, steps: &[crate::model::ScenarioStep]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    scenario::check_steps(topology, steps, &mut out);
    cluster::check_steps(topology, steps, &mut out);
    out
}

/// True when nothing stops the topology from running (warnings allowed).
pub fn is_runnable(diagnostics: &[Diagnostic]) -> bool {
    diagnostics.iter().all(|d| d.severity != Severity::Error)
}

fn check_all(t: &Topology, out: &mut Vec<Diagnostic>) {
    settings::check_settings(t, out);
    settings::check_totals(t, out);
    scenario::check_scenario(t, out);
    cluster::check_cluster(t, out);
    cluster::check_steps(t, &t.settings.scenario, out);
    guarantee::check_guarantee(t, out);
    graph::check_names(t, out);
    graph::check_dangling(t, out);
    graph::check_cycles(t, out);
    for index in t.node_indices() {
        if let Some(node) = t.node(index) {
            node::check_node(t, node, out);
            graph::check_wiring(t, index, node, out);
        }
    }
    for e in t.edge_indices() {
        edge::check_edge(t, e, out);
    }
    flume::check_selectors(t, out);
    flume::check_sink_groups(t, out);
    graph::check_reachability(t, out);
    spark::check(t, out);
    flume_run::check(t, out);
    flume_batch::check(t, out);
}

/// Where a diagnostic about `node` points.
fn node_loc(node: &Node) -> Location {
    Location::Node(node.name.clone())
}

/// Names as `'a', 'b'`, for messages.
fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("'{n}'"))
        .collect::<Vec<_>>()
        .join(", ")
}
