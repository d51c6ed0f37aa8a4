//! The edits a canvas gesture turns into: a node created from the palette, a grouping
//! dropped on an edge (with the fields it needs filled in). Plain functions of the
//! topology, so the toolbar and tests can make the same edits without a pointer.

use super::CanvasAction;
use crate::components;
use crate::design::commands::Command;
use crate::design::selection::Selection;
use crate::design::wiring;
use crate::model::{Edge, Grouping, NamedEdge, Pos, Role, Topology};

/// Actions that create a node from the palette at a canvas position (a spout or source
/// starts at a watchable rate, see [`components::palette_node`]).
pub fn new_node_action(t: &Topology, id: &str, role: Role, pos: Pos) -> Vec<CanvasAction> {
    let Some(desc) = components::descriptor(id) else {
        return vec![CanvasAction::Refused(format!("unknown component '{id}'"))];
    };
    let name = t.unique_name(id);
    let mut node = components::palette_node(desc, name.clone(), role);
    node.pos = pos;
    vec![
        CanvasAction::Apply(Command::Add {
            nodes: vec![node],
            edges: Vec::new(),
        }),
        CanvasAction::Select(Selection::node(&name)),
    ]
}

/// Actions that set an edge's grouping from a palette drop, filling in the fields a
/// fields-style grouping needs (the consumer's key if the upstream has it, else the
/// first upstream field) so the edge is valid straight away.
pub fn set_grouping_actions(
    t: &Topology,
    edge: &NamedEdge,
    grouping: &Grouping,
) -> Vec<CanvasAction> {
    let (Some(from), Some(to)) = (t.node_by_name(&edge.from), t.node_by_name(&edge.to)) else {
        return Vec::new();
    };
    if let Some(reason) = wiring::grouping_refusal(from.role, to.role, grouping) {
        return vec![CanvasAction::Refused(reason)];
    }
    let fields = wiring::upstream_fields(t, &edge.from, &edge.stream);
    let key = to
        .config
        .get("key")
        .and_then(|v| v.as_str())
        .filter(|k| fields.iter().any(|f| f == k));
    let pick = || -> Vec<String> {
        key.map(str::to_string)
            .or_else(|| fields.first().cloned())
            .into_iter()
            .collect()
    };
    let grouping = match grouping {
        Grouping::Fields(f) if f.is_empty() => Grouping::Fields(pick()),
        Grouping::PartialKey(f) if f.is_empty() => Grouping::PartialKey(pick()),
        other => other.clone(),
    };
    let new_edge = Edge {
        stream: edge.stream.clone(),
        grouping: grouping.clone(),
    };
    vec![
        CanvasAction::Apply(Command::SetEdge {
            key: edge.clone(),
            edge: new_edge,
        }),
        CanvasAction::Select(Selection::edge(NamedEdge {
            grouping,
            ..edge.clone()
        })),
    ]
}
