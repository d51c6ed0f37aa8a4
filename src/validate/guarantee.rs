//! Rules about the delivery guarantee: a design asking for exactly-once must be one
//! Tributary can keep the promise for, and each node that cannot is named with why.

use std::collections::BTreeSet;

use super::diagnostic::{Diagnostic, Location};
use super::node_loc;
use crate::components::exactly_once as txn;
use crate::model::{ExecutionMode, Guarantee, Role, Topology};

pub(super) fn check_guarantee(t: &Topology, out: &mut Vec<Diagnostic>) {
    let s = &t.settings;
    if s.guarantee == Guarantee::AtLeastOnce {
        return;
    }
    if matches!(s.mode, ExecutionMode::MicroBatch { .. }) {
        out.push(Diagnostic::warning(
            Location::Topology,
            format!(
                "the guarantee ({}) applies to record-at-a-time runs",
                s.guarantee.label()
            ),
            "micro-batch runs recompute lost work from lineage whatever this says",
        ));
        return;
    }
    if s.guarantee != Guarantee::ExactlyOnce {
        return;
    }
    if s.ackers == 0 {
        out.push(Diagnostic::error(
            Location::Topology,
            "exactly-once needs tuple tracking, and ackers is 0",
            "set ackers to 1 or more",
        ));
    }
    for node in t.nodes() {
        let c = node.component.as_str();
        let why = match node.role {
            Role::Spout if !txn::spout_can_replay(c) => Some(format!(
                "spout '{c}' cannot emit a batch again with the same tuples, which \
                 exactly-once replays need"
            )),
            Role::Bolt if c == "window_aggregate" => Some(
                "its windows close on the clock, so a replayed batch could land in another \
                 window than the first time"
                    .to_string(),
            ),
            Role::Bolt if crate::components::runs_a_program(c) => Some(
                "a program keeps its own state, and Tributary cannot make it skip a batch it \
                 already applied"
                    .to_string(),
            ),
            Role::Bolt if !txn::is_committer(c) && !txn::bolt_is_stateless(c) => {
                Some(format!("'{c}' has no way to apply a batch once"))
            }
            Role::Source | Role::Channel | Role::Sink => Some(
                "Flume components cannot replay a batch: events taken from a channel are gone"
                    .to_string(),
            ),
            _ => None,
        };
        if let Some(why) = why {
            out.push(Diagnostic::error(
                node_loc(node),
                format!("'{}' cannot be exactly-once: {why}", node.name),
                "use at-least-once, or replace the node (see docs/guarantees.md)",
            ));
        }
    }
    warn_committed_updates_downstream(t, out);
}

/// Every (count, committer) pair where the committer is downstream of the count,
/// directly or through other nodes: the count's updates reach it outside any batch.
pub fn committers_after_counts(t: &Topology) -> Vec<(String, String)> {
    let g = t.graph();
    let mut pairs = Vec::new();
    for start in t.node_indices() {
        let Some(node) = t.node(start) else { continue };
        if node.component != "count_by_key" {
            continue;
        }
        let mut seen = BTreeSet::new();
        let mut stack: Vec<_> = g.neighbors(start).collect();
        while let Some(i) = stack.pop() {
            if !seen.insert(i) {
                continue;
            }
            let Some(next) = t.node(i) else { continue };
            if txn::is_committer(&next.component) {
                pairs.push((node.name.clone(), next.name.clone()));
            } else {
                stack.extend(g.neighbors(i));
            }
        }
    }
    pairs
}

/// A count's updates leave it after its batch commits, outside any batch; a committer
/// that receives them keeps each once only if nothing fails on the way.
fn warn_committed_updates_downstream(t: &Topology, out: &mut Vec<Diagnostic>) {
    for (count, committer) in committers_after_counts(t) {
        if let Some(next) = t.node_by_name(&committer) {
            out.push(Diagnostic::warning(
                node_loc(next),
                format!(
                    "'{committer}' receives '{count}''s committed counts, which travel outside any batch"
                ),
                "exactly-once covers the counts themselves (shown in the run's state); \
                 what reaches this node is at-most-once",
            ));
        }
    }
}
