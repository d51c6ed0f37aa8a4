//! Rules about the graph as a whole: unique names, edges to nodes that exist, no cycles,
//! every node fed by a spout or source, and each node's connections (a sink drains one
//! channel, spouts and sources have consumers, channels are drained).
//!
//! Names are looked up through one map built per check ([`Topology::name_index`]), never
//! by a scan per edge, so a big file stays linear.

use std::collections::{BTreeMap, BTreeSet};

use petgraph::stable_graph::NodeIndex;

use super::diagnostic::{Diagnostic, Location};
use super::{node_loc, quoted};
use crate::model::{Node, Role, Topology};

pub(super) fn check_names(t: &Topology, out: &mut Vec<Diagnostic>) {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for n in t.nodes() {
        *counts.entry(n.name.as_str()).or_default() += 1;
    }
    for (name, count) in counts {
        if name.trim().is_empty() {
            out.push(Diagnostic::error(
                Location::Node(name.to_string()),
                format!("{count} node(s) have an empty name"),
                "give every node a unique name",
            ));
        } else if count > 1 {
            out.push(Diagnostic::error(
                Location::Node(name.to_string()),
                format!("{count} nodes are named '{name}'"),
                "names identify nodes in files and edges; rename all but one",
            ));
        }
    }
}

pub(super) fn check_dangling(t: &Topology, out: &mut Vec<Diagnostic>) {
    if t.dangling_edges.is_empty() {
        return;
    }
    let names = t.name_index();
    for e in &t.dangling_edges {
        let missing: Vec<&str> = [&e.from, &e.to]
            .into_iter()
            .filter(|n| !names.contains_key(n.as_str()))
            .map(String::as_str)
            .collect();
        out.push(Diagnostic::error(
            Location::Edge {
                from: e.from.clone(),
                to: e.to.clone(),
                stream: e.stream.clone(),
            },
            format!("edge refers to missing node(s): {}", quoted(&missing)),
            "add the node, fix the name in the edge, or delete the edge",
        ));
    }
}

pub(super) fn check_cycles(t: &Topology, out: &mut Vec<Diagnostic>) {
    for component in petgraph::algo::tarjan_scc(t.graph()) {
        let self_loop = component.len() == 1 && t.graph().contains_edge(component[0], component[0]);
        if component.len() < 2 && !self_loop {
            continue;
        }
        let cycle = cycle_order(t, &component);
        let names: Vec<&str> = cycle
            .iter()
            .filter_map(|&i| t.node(i).map(|n| n.name.as_str()))
            .collect();
        let first = names.first().copied().unwrap_or_default().to_string();
        let mut path = names.join(" → ");
        path.push_str(&format!(" → {first}"));
        out.push(Diagnostic::error(
            Location::Node(first),
            format!("cycle: {path}"),
            "a topology must be a DAG; remove one of the edges on the cycle",
        ));
    }
}

/// Orders the nodes of a strongly connected component along one actual cycle, starting
/// at the smallest name, so the message reads as a path the user can follow.
fn cycle_order(t: &Topology, component: &[NodeIndex]) -> Vec<NodeIndex> {
    let members: BTreeSet<NodeIndex> = component.iter().copied().collect();
    let Some(&start) = component
        .iter()
        .min_by_key(|&&i| t.node(i).map(|n| n.name.clone()))
    else {
        return Vec::new();
    };
    let mut path = vec![start];
    let mut seen = BTreeSet::from([start]);
    let mut current = start;
    loop {
        let mut nexts: Vec<NodeIndex> = t
            .outputs(current)
            .map(|(_, to, _)| to)
            .filter(|to| members.contains(to))
            .collect();
        nexts.sort_by_key(|&i| t.node(i).map(|n| n.name.clone()));
        if nexts.contains(&start) && path.len() > 1 || nexts == [start] {
            return path;
        }
        match nexts.into_iter().find(|n| !seen.contains(n)) {
            Some(next) => {
                seen.insert(next);
                path.push(next);
                current = next;
            }
            None => return path,
        }
    }
}

pub(super) fn check_wiring(t: &Topology, index: NodeIndex, node: &Node, out: &mut Vec<Diagnostic>) {
    let inputs: Vec<NodeIndex> = t.inputs(index).map(|(_, from, _)| from).collect();
    if node.role == Role::Sink {
        let channels = inputs
            .iter()
            .filter(|&&i| t.node(i).is_some_and(|n| n.role == Role::Channel))
            .count();
        if inputs.is_empty() {
            out.push(Diagnostic::error(
                node_loc(node),
                "this sink drains no channel",
                "connect exactly one channel to it",
            ));
        } else if channels > 1 || inputs.len() > 1 {
            out.push(Diagnostic::error(
                node_loc(node),
                format!(
                    "a Flume sink drains exactly one channel, but this one has {} inputs",
                    inputs.len()
                ),
                "give each channel its own sink, or use a sink group",
            ));
        }
    }
    if matches!(node.role, Role::Spout | Role::Source) && t.outputs(index).next().is_none() {
        out.push(Diagnostic::warning(
            node_loc(node),
            format!(
                "this {} has no consumers, so what it emits goes nowhere",
                node.role
            ),
            "connect it to a bolt or channel, or delete it",
        ));
    }
    if node.role == Role::Channel && t.outputs(index).next().is_none() {
        out.push(Diagnostic::warning(
            node_loc(node),
            "nothing drains this channel, so it will fill up and block its sources",
            "connect a sink to it",
        ));
    }
}

pub(super) fn check_reachability(t: &Topology, out: &mut Vec<Diagnostic>) {
    let roots: Vec<NodeIndex> = t
        .node_indices()
        .filter(|&i| {
            t.node(i)
                .is_some_and(|n| matches!(n.role, Role::Spout | Role::Source))
        })
        .collect();
    let mut reached = BTreeSet::new();
    let mut stack = roots.clone();
    while let Some(i) = stack.pop() {
        if reached.insert(i) {
            stack.extend(t.outputs(i).map(|(_, to, _)| to));
        }
    }
    for i in t.node_indices() {
        if reached.contains(&i) {
            continue;
        }
        if let Some(node) = t.node(i) {
            out.push(Diagnostic::warning(
                node_loc(node),
                "no spout or source feeds this node, so it will never receive data",
                "connect it downstream of a spout or source",
            ));
        }
    }
}
