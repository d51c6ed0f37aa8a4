//! Graphviz DOT of a topology: the DAG for slides and docs, groupings as edge labels and
//! Flume agents as clusters. Every topology can be drawn, so this never fails.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::model::{DEFAULT_STREAM, Node, Role, Topology};

/// The DOT text of a topology (render with `dot -Tsvg`).
pub fn export(topology: &Topology) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "digraph {} {{", quote(&topology.name));
    out.push_str("    rankdir=LR;\n    node [fontname=\"Helvetica\"];\n    edge [fontname=\"Helvetica\", fontsize=10];\n");
    let mut by_agent: BTreeMap<Option<&str>, Vec<&Node>> = BTreeMap::new();
    for index in topology.reading_order() {
        if let Some(node) = topology.node(index) {
            by_agent
                .entry(node.agent.as_deref())
                .or_default()
                .push(node);
        }
    }
    for (i, (agent, nodes)) in by_agent.iter().enumerate() {
        let indent = if agent.is_some() { "        " } else { "    " };
        if let Some(agent) = agent {
            let _ = writeln!(out, "    subgraph cluster_{i} {{");
            let _ = writeln!(out, "        label={};", quote(&format!("agent {agent}")));
        }
        for node in nodes {
            let label = format!("{}\n{} ({})", node.name, component_label(node), node.role);
            let _ = writeln!(
                out,
                "{indent}{} [label={}, shape={}];",
                quote(&node.name),
                quote(&label),
                shape(node.role)
            );
        }
        if agent.is_some() {
            out.push_str("    }\n");
        }
    }
    let mut edges = topology.edge_list();
    edges.extend(topology.dangling_edges.iter().cloned());
    edges.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    for e in edges {
        let mut label = e.grouping.label();
        if e.stream != DEFAULT_STREAM {
            label = format!("{}: {label}", e.stream);
        }
        let _ = writeln!(
            out,
            "    {} -> {} [label={}];",
            quote(&e.from),
            quote(&e.to),
            quote(&label)
        );
    }
    out.push_str("}\n");
    out
}

/// The component as users know it: a stand-in shows the Storm/Flume class it replaces.
pub(crate) fn component_label(node: &Node) -> String {
    match node.config.get("class").and_then(|v| v.as_str()) {
        Some(class) if node.component == crate::components::STAND_IN && !class.is_empty() => {
            class.rsplit('.').next().unwrap_or(class).to_string()
        }
        _ => node.component.clone(),
    }
}

fn shape(role: Role) -> &'static str {
    match role {
        Role::Spout | Role::Source => "invhouse",
        Role::Bolt => "box",
        Role::Channel => "cylinder",
        Role::Sink => "house",
    }
}

/// A DOT string literal; DOT escapes only quotes and backslashes, `\n` is a line break.
fn quote(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Grouping;

    #[test]
    fn groupings_label_edges_and_quotes_are_escaped() {
        let mut t = Topology::new("q\"t");
        t.add_node(Node::new("s", Role::Spout, "word_generator"))
            .unwrap();
        t.add_node(Node::new("c", Role::Bolt, "count_by_key"))
            .unwrap();
        t.connect_names(
            "s",
            "c",
            DEFAULT_STREAM,
            Grouping::Fields(vec!["word".into()]),
        )
        .unwrap();
        let dot = export(&t);
        assert!(dot.starts_with("digraph \"q\\\"t\" {"), "{dot}");
        assert!(
            dot.contains("\"s\" -> \"c\" [label=\"fields(word)\"];"),
            "{dot}"
        );
    }
}
