//! Flume nodes in micro-batch mode. Flume agents run beside the batch job, as Flume runs
//! beside Spark Streaming, and a channel that bolts drain feeds the job as Spark's
//! reliable Flume receiver does: its events become records of the receiver's batches,
//! and each take commits only once its records are stored. What stays refused, naming
//! the node: a channel that spouts or bolts write into, since a batch's output
//! operations put nothing into Flume channels.

use super::{Diagnostic, node_loc};
use crate::model::{ExecutionMode, Role, Topology};

pub(super) fn check(t: &Topology, out: &mut Vec<Diagnostic>) {
    if !matches!(t.settings.mode, ExecutionMode::MicroBatch { .. }) {
        return;
    }
    for index in t.node_indices() {
        let Some(node) = t.node(index) else {
            continue;
        };
        if node.role != Role::Channel {
            continue;
        }
        let writer = t.inputs(index).find_map(|(_, from, _)| {
            t.node(from)
                .filter(|n| matches!(n.role, Role::Spout | Role::Bolt))
                .map(|n| n.name.clone())
        });
        if let Some(writer) = writer {
            out.push(Diagnostic::error(
                node_loc(node),
                format!(
                    "'{writer}' writes into this Flume channel, which a micro-batch job cannot do"
                ),
                "in micro-batch mode a channel can feed the job (bolts drain it, as Spark's Flume receiver) but not take its output; write with a file_sink or collector, or switch the topology to RecordAtATime",
            ));
        }
    }
}
