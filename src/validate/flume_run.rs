//! What the engine's Flume agents would refuse at start, reported at design time so the
//! designer can outline it before the user presses Run.

use std::collections::BTreeMap;

use super::diagnostic::{Diagnostic, Location};
use crate::model::{Grouping, Role, SinkProcessor, Topology, Value};

pub(super) fn check(t: &Topology, out: &mut Vec<Diagnostic>) {
    check_avro_ports(t, out);
    check_default_groups(t, out);
    check_storm_into_channel(t, out);
}

/// Two avro sources on one port: a hop could not tell them apart.
fn check_avro_ports(t: &Topology, out: &mut Vec<Diagnostic>) {
    let mut by_port: BTreeMap<i64, &str> = BTreeMap::new();
    for node in t.nodes() {
        if node.role != Role::Source || !matches!(node.component.as_str(), "avro_source" | "avro") {
            continue;
        }
        let port = match node.config.get("port") {
            Some(Value::Int(p)) => *p,
            _ => 4141,
        };
        if let Some(other) = by_port.insert(port, &node.name) {
            out.push(Diagnostic::error(
                Location::Node(node.name.clone()),
                format!("avro source port {port} is also used by '{other}'"),
                "give every avro source its own port; avro sinks pick their target by port",
            ));
        }
    }
}

/// The default sink processor runs exactly one sink.
fn check_default_groups(t: &Topology, out: &mut Vec<Diagnostic>) {
    for group in &t.sink_groups {
        if group.processor == SinkProcessor::Default && group.sinks.len() > 1 {
            out.push(Diagnostic::error(
                Location::SinkGroup(group.name.clone()),
                format!(
                    "the default processor runs one sink, but the group lists {}",
                    group.sinks.len()
                ),
                "use failover or load_balance to share a channel between sinks",
            ));
        }
    }
}

/// Spouts and bolts may write into a channel with `Required`/`Optional` links (the
/// engine runs the channel as a put bolt), but tuples carry no headers for a multiplexing
/// selector, and a channel cannot be both written and drained by Storm nodes.
fn check_storm_into_channel(t: &Topology, out: &mut Vec<Diagnostic>) {
    for e in t.edge_indices() {
        let Some((a, b)) = t.edge_endpoints(e) else {
            continue;
        };
        let (Some(from), Some(to), Some(edge)) = (t.node(a), t.node(b), t.edge(e)) else {
            continue;
        };
        if !matches!(from.role, Role::Spout | Role::Bolt) || to.role != Role::Channel {
            continue;
        }
        let loc = || Location::Edge {
            from: from.name.clone(),
            to: to.name.clone(),
            stream: edge.stream.clone(),
        };
        if !matches!(edge.grouping, Grouping::Required | Grouping::Optional) {
            out.push(Diagnostic::error(
                loc(),
                format!(
                    "a {} link from a {}: tuples carry no headers for a multiplexing selector",
                    edge.grouping.label(),
                    from.role
                ),
                "use Required (or Optional) links from spouts and bolts into channels",
            ));
        }
        let drained_by_bolt = t
            .outputs(b)
            .any(|(_, to, _)| t.node(to).is_some_and(|n| n.role == Role::Bolt));
        if drained_by_bolt {
            out.push(Diagnostic::error(
                loc(),
                "this channel is both written and drained by Storm nodes, which the runtime cannot run",
                "connect the bolts directly, or let a Flume sink drain the channel",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Grouping, Node, SinkGroup, StreamDecl};

    fn errors(t: &Topology) -> Vec<String> {
        let mut out = Vec::new();
        check(t, &mut out);
        out.iter().map(|d| d.message.clone()).collect()
    }

    #[test]
    fn shared_avro_ports_and_multi_sink_default_groups_are_errors() {
        let mut t = Topology::new("t");
        for name in ["a", "b"] {
            t.add_node(Node::new(name, Role::Source, "avro_source").with_config("port", 5000))
                .unwrap();
        }
        t.sink_groups.push(SinkGroup {
            name: "g".into(),
            sinks: vec!["x".into(), "y".into()],
            processor: SinkProcessor::Default,
        });
        let found = errors(&t);
        assert!(found.iter().any(|m| m.contains("port 5000")), "{found:?}");
        assert!(
            found.iter().any(|m| m.contains("default processor")),
            "{found:?}"
        );
    }

    #[test]
    fn bolts_may_write_into_channels_but_not_multiplex_or_also_drain() {
        let mut t = Topology::new("t");
        t.add_node(
            Node::new("b", Role::Bolt, "null").with_output(StreamDecl::default_stream(&["x"])),
        )
        .unwrap();
        t.add_node(Node::new("c", Role::Channel, "memory")).unwrap();
        t.add_node(Node::new("k", Role::Sink, "null")).unwrap();
        t.connect_names("b", "c", "default", Grouping::Required)
            .unwrap();
        t.connect_names("c", "k", "default", Grouping::Drain)
            .unwrap();
        assert!(errors(&t).is_empty(), "{:?}", errors(&t));
        t.add_node(Node::new("reader", Role::Bolt, "null")).unwrap();
        t.connect_names("c", "reader", "default", Grouping::Drain)
            .unwrap();
        assert!(
            errors(&t)
                .iter()
                .any(|m| m.contains("both written and drained"))
        );
        let mut t2 = Topology::new("t2");
        t2.add_node(
            Node::new("b", Role::Bolt, "null").with_output(StreamDecl::default_stream(&["x"])),
        )
        .unwrap();
        t2.add_node(Node::new("c", Role::Channel, "memory"))
            .unwrap();
        t2.connect_names("b", "c", "default", Grouping::Mapped(vec!["v".into()]))
            .unwrap();
        assert!(errors(&t2).iter().any(|m| m.contains("multiplexing")));
    }
}
