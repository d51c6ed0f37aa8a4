//! Rules of the Spark Streaming operators: batch-only operators refuse record-at-a-time
//! mode, and a `join` must name its two upstream nodes and a key both of them carry.

use std::collections::{HashMap, HashSet};

use petgraph::stable_graph::NodeIndex;

use super::diagnostic::{Diagnostic, Location};
use crate::components;
use crate::model::{DEFAULT_STREAM, ExecutionMode, Node, Topology};

pub(super) fn check(t: &Topology, out: &mut Vec<Diagnostic>) {
    // Join settings name nodes: one map for all of them, not a scan per name.
    let by_name = t.name_index();
    for index in t.node_indices() {
        let Some(node) = t.node(index) else { continue };
        let Some(desc) = components::descriptor(&node.component) else {
            continue;
        };
        if desc.micro_batch_only && t.settings.mode == ExecutionMode::RecordAtATime {
            out.push(Diagnostic::error(
                Location::Node(node.name.clone()),
                format!(
                    "'{}' is a Spark Streaming operator and runs only in micro-batch mode",
                    desc.id
                ),
                "set the topology's mode to MicroBatch(interval_ms: …), or use count_by_key / window_aggregate, which also run record at a time",
            ));
        }
        if desc.id == "join" {
            let setting = |key: &str| desc.config_text(&node.config, key);
            let named = Named {
                left: setting("left"),
                right: setting("right"),
                key: setting("key"),
            };
            check_join(t, &by_name, index, node, named, out);
        }
    }
}

/// The fields one side of a join brings: those of the first stream it sends the join.
struct Side<'a> {
    name: &'a str,
    fields: Vec<String>,
}

/// A join's settings, defaults filled in.
struct Named {
    left: String,
    right: String,
    key: String,
}

fn check_join(
    t: &Topology,
    by_name: &HashMap<&str, NodeIndex>,
    index: NodeIndex,
    node: &Node,
    named: Named,
    out: &mut Vec<Diagnostic>,
) {
    let loc = || Location::Node(node.name.clone());
    let Named { left, right, key } = named;
    let mut upstream: Vec<(&str, Vec<String>)> = Vec::new();
    let mut seen: HashSet<&str> = HashSet::new();
    for (_, from, edge) in t.inputs(index) {
        let Some(n) = t.node(from) else { continue };
        if !seen.insert(n.name.as_str()) {
            continue;
        }
        let fields = n
            .output(&edge.stream)
            .map(|d| d.fields.clone())
            .unwrap_or_default();
        upstream.push((n.name.as_str(), fields));
    }
    upstream.sort_by(|a, b| a.0.cmp(b.0));
    let names: Vec<String> = upstream.iter().map(|(n, _)| format!("'{n}'")).collect();
    let choose = if names.is_empty() {
        "connect the two nodes to join into it, then name them in 'left' and 'right'".to_string()
    } else {
        format!("upstream nodes: {}", names.join(", "))
    };
    let mut sides: Vec<Side> = Vec::new();
    for (setting, named) in [("left", &left), ("right", &right)] {
        if named.is_empty() {
            out.push(Diagnostic::error(
                loc(),
                format!("join names no {setting} input"),
                format!("set '{setting}' to the name of an upstream node; {choose}"),
            ));
            continue;
        }
        match upstream.iter().find(|(n, _)| n == named) {
            Some((name, fields)) => sides.push(Side {
                name,
                fields: fields.clone(),
            }),
            None => out.push(Diagnostic::error(
                loc(),
                if by_name.contains_key(named.as_str()) {
                    format!("'{setting}' names '{named}', which does not feed this join")
                } else {
                    format!("'{setting}' names '{named}', but there is no node of that name")
                },
                format!("connect '{named}' to the join, or pick another; {choose}"),
            )),
        }
    }
    if !left.is_empty() && left == right {
        out.push(Diagnostic::error(
            loc(),
            format!("left and right are both '{left}'; a join pairs two different inputs"),
            choose.clone(),
        ));
        return;
    }
    for (name, _) in &upstream {
        if *name != left && *name != right {
            out.push(Diagnostic::error(
                loc(),
                format!("'{name}' feeds this join but is neither its left nor its right input"),
                "a join has exactly two inputs: remove the edge, or name the node in 'left' or 'right'",
            ));
        }
    }
    let [l, r] = sides.as_slice() else { return };
    let mut keyed = true;
    for side in [l, r] {
        if !side.fields.contains(&key) {
            keyed = false;
            out.push(Diagnostic::error(
                loc(),
                format!("join key '{key}' is not a field of '{}'", side.name),
                format!("'{}' emits: {}", side.name, side.fields.join(", ")),
            ));
        }
    }
    if !keyed {
        return;
    }
    let rest =
        |s: &Side| -> Vec<String> { s.fields.iter().filter(|f| **f != key).cloned().collect() };
    let (l_rest, r_rest) = (rest(l), rest(r));
    if let Some(clash) = l_rest.iter().find(|f| r_rest.contains(f)) {
        out.push(Diagnostic::error(
            loc(),
            format!(
                "'{}' and '{}' both have a field '{clash}', so the joined record would have it twice",
                l.name, r.name
            ),
            format!("declare the field under another name on '{}' or '{}'", l.name, r.name),
        ));
        return;
    }
    let mut expected = vec![key.clone()];
    expected.extend(l_rest);
    expected.extend(r_rest);
    let declared = node
        .output(DEFAULT_STREAM)
        .map(|d| d.fields.clone())
        .unwrap_or_default();
    if declared != expected {
        out.push(Diagnostic::error(
            loc(),
            format!(
                "the join emits ({}) but the node declares ({})",
                expected.join(", "),
                declared.join(", ")
            ),
            format!(
                "declare the output stream 'default' with fields: {}",
                expected.join(", ")
            ),
        ));
    }
}
