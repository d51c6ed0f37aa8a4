//! The output streams of stand-in and shell nodes, which Flux files never declare.

use std::collections::{BTreeMap, HashMap, HashSet};

use petgraph::stable_graph::NodeIndex;

use super::classes::{self, SHELL_BOLT, SHELL_SPOUT};
use super::nodes::Spec;
use crate::components::{self, STAND_IN};
use crate::model::{DEFAULT_STREAM, Grouping, StreamDecl, Topology};

/// Stand-ins declare the streams their consumers subscribe to. Fields come from the
/// class when Tributary knows it (TestWordSpout, shell components' output fields), else
/// from the first input (a pass-through), plus whatever the consumers group on.
pub(super) fn declare_stand_in_outputs(topology: &mut Topology, specs: &[Spec]) {
    let by_id: HashMap<&str, &Spec> = specs.iter().map(|s| (s.id.as_str(), s)).collect();
    for index in topology.reading_order() {
        let Some(node) = topology.node(index) else {
            continue;
        };
        // Shell components declare like stand-ins: Flux names their fields, not their
        // streams.
        if node.component != STAND_IN && !components::runs_a_program(&node.component) {
            continue;
        }
        let base = by_id
            .get(node.name.as_str())
            .and_then(|spec| known_fields(spec))
            .unwrap_or_else(|| inherited_fields(topology, index));
        let mut wanted: BTreeMap<String, (Vec<String>, bool)> = BTreeMap::new();
        wanted.insert(DEFAULT_STREAM.to_string(), (base.clone(), false));
        // Per stream: fields in order, the same as a set (so adding stays linear), and
        // whether a consumer subscribes directly.
        let mut known: HashMap<String, HashSet<String>> = HashMap::new();
        for (_, _, edge) in topology.outputs(index) {
            let entry = wanted
                .entry(edge.stream.clone())
                .or_insert_with(|| (base.clone(), false));
            let seen = known
                .entry(edge.stream.clone())
                .or_insert_with(|| base.iter().cloned().collect());
            for f in edge.grouping.fields() {
                if seen.insert(f.clone()) {
                    entry.0.push(f.clone());
                }
            }
            entry.1 |= edge.grouping == Grouping::Direct;
        }
        let outputs = wanted
            .into_iter()
            .map(|(stream, (fields, direct))| StreamDecl {
                stream,
                fields,
                direct,
            })
            .collect();
        if let Some(node) = topology.node_mut(index) {
            node.outputs = outputs;
        }
    }
}

fn known_fields(spec: &Spec) -> Option<Vec<String>> {
    if let Some(fields) = classes::fixed_fields(&spec.class) {
        return Some(fields.iter().map(|f| f.to_string()).collect());
    }
    if spec.class == SHELL_SPOUT || spec.class == SHELL_BOLT {
        let args = spec.rest.get("constructorArgs")?.as_sequence()?;
        return args
            .get(1)?
            .as_sequence()?
            .iter()
            .map(|f| f.as_str().map(str::to_string))
            .collect();
    }
    None
}

fn inherited_fields(topology: &Topology, index: NodeIndex) -> Vec<String> {
    let mut inputs: Vec<(&str, &str, NodeIndex)> = topology
        .inputs(index)
        .filter_map(|(_, from, edge)| {
            topology
                .node(from)
                .map(|n| (n.name.as_str(), edge.stream.as_str(), from))
        })
        .collect();
    inputs.sort();
    inputs
        .first()
        .and_then(|&(_, stream, from)| topology.node(from)?.output(stream))
        .map(|d| d.fields.clone())
        .unwrap_or_default()
}
