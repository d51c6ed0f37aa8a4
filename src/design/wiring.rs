//! What the canvas allows when the user drags a connection, and what a new edge gets.
//!
//! `validate` reports every problem of a finished design; these checks run *while* the
//! user drags, so that a connection that can never be right (a cycle, data flowing into
//! a spout) is refused on the spot with the reason, instead of becoming a red edge.

use crate::model::{DEFAULT_STREAM, Grouping, LinkKind, NamedEdge, Role, Topology, may_connect};

/// Why `from → to` cannot be connected, or `None` if it may be.
pub fn refusal(t: &Topology, from: &str, to: &str) -> Option<String> {
    let (Some(a), Some(b)) = (t.index_of(from), t.index_of(to)) else {
        return Some("one of the nodes no longer exists".into());
    };
    let (Some(src), Some(dst)) = (t.node(a), t.node(b)) else {
        return Some("one of the nodes no longer exists".into());
    };
    if a == b {
        return Some(format!(
            "'{from}' cannot feed itself: that would be a cycle"
        ));
    }
    if let Err(why) = may_connect(src.role, dst.role) {
        return Some(why.to_string());
    }
    if t.outputs(a).any(|(_, target, _)| target == b) {
        return Some(format!("'{from}' is already connected to '{to}'"));
    }
    if t.would_create_cycle(a, b) {
        return Some(format!(
            "'{to}' already feeds '{from}', so this edge would make a cycle; topologies are acyclic"
        ));
    }
    None
}

/// The grouping a fresh edge gets: Storm's shuffle, a replicating selector into a
/// channel, a drain out of one.
pub fn default_grouping(from: Role, to: Role) -> Grouping {
    LinkKind::between(from, to).default_grouping()
}

/// Whether a grouping can be dropped on an edge between these roles; the reason if not.
pub fn grouping_refusal(from: Role, to: Role, grouping: &Grouping) -> Option<String> {
    (!LinkKind::between(from, to).fits(grouping)).then(|| {
        format!(
            "'{}' does not apply to an edge from a {} to a {}",
            grouping.label(),
            from.label(),
            to.label()
        )
    })
}

/// The edge a successful drag creates: the upstream's first declared stream.
pub fn new_edge(t: &Topology, from: &str, to: &str) -> Option<NamedEdge> {
    let src = t.node_by_name(from)?;
    let dst = t.node_by_name(to)?;
    let stream = src
        .outputs
        .first()
        .map(|o| o.stream.clone())
        .unwrap_or_else(|| DEFAULT_STREAM.to_string());
    Some(NamedEdge {
        from: from.into(),
        to: to.into(),
        stream,
        grouping: default_grouping(src.role, dst.role),
    })
}

/// Fields an edge can group on: those the upstream declares on the edge's stream (or,
/// for a channel, those arriving at it).
pub fn upstream_fields(t: &Topology, from: &str, stream: &str) -> Vec<String> {
    let Some(index) = t.index_of(from) else {
        return Vec::new();
    };
    let Some(node) = t.node(index) else {
        return Vec::new();
    };
    if let Some(decl) = node.output(stream) {
        return decl.fields.clone();
    }
    if node.role == Role::Channel {
        let mut fields = Vec::new();
        for (_, up, edge) in t.inputs(index) {
            for f in upstream_fields(
                t,
                &t.node(up).map(|n| n.name.clone()).unwrap_or_default(),
                &edge.stream,
            ) {
                if !fields.contains(&f) {
                    fields.push(f);
                }
            }
        }
        return fields;
    }
    Vec::new()
}
