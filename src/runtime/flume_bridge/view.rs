//! Which part of a topology runs where. Flume sources, channels and sinks run as Flume
//! agents (`crate::flume::FlumeRun`); spouts and bolts run on the Storm executors. The
//! two meet at channels that bolts drain: such a channel stays in the Storm plan as a
//! spout-like node that takes events from the Flume channel in transactions.

use crate::model::{Grouping, Role, StreamDecl, Topology};

use super::super::error::RunError;

/// The field a drained channel emits the event body in, when it declares no outputs.
pub const BODY_FIELD: &str = "body";

/// A topology split between the two engines.
#[derive(Debug, Clone)]
pub struct Split {
    /// What the Storm executors run: spouts, bolts, and drained channels as spouts.
    pub storm: Topology,
    /// Channels drained by bolts, with the fields their tuples carry.
    pub drained: Vec<(String, Vec<String>)>,
    /// Channels that spouts or bolts write into (they run as put bolts), and whether
    /// every such link is `Optional` (failed puts ignored).
    pub written: Vec<(String, bool)>,
    /// Whether any Flume node exists (then a Flume run starts next to the executors).
    pub has_flume: bool,
}

fn is_flume(role: Role) -> bool {
    matches!(role, Role::Source | Role::Channel | Role::Sink)
}

/// Splits `topology`. Refuses what neither engine can run yet: a channel that Storm
/// nodes both write into and drain, and multiplexing links from Storm nodes (tuples
/// carry no headers to route on).
pub fn split(topology: &Topology) -> Result<Split, RunError> {
    let mut storm = topology.clone();
    let mut drained = Vec::new();
    let mut written = Vec::new();
    let mut has_flume = false;
    let indices: Vec<_> = topology.node_indices().collect();
    for index in indices {
        let Some(node) = topology.node(index) else {
            continue;
        };
        if !is_flume(node.role) {
            continue;
        }
        has_flume = true;
        if node.role == Role::Channel {
            let writers: Vec<(String, Grouping)> = topology
                .inputs(index)
                .filter_map(|(_, from, e)| {
                    let n = topology.node(from)?;
                    (!is_flume(n.role)).then(|| (n.name.clone(), e.grouping.clone()))
                })
                .collect();
            let storm_readers = topology.outputs(index).any(|(_, to, _)| {
                topology
                    .node(to)
                    .is_some_and(|n| matches!(n.role, Role::Bolt))
            });
            if let Some((writer, grouping)) = writers
                .iter()
                .find(|(_, g)| !matches!(g, Grouping::Required | Grouping::Optional))
            {
                return Err(RunError::Unsupported {
                    node: node.name.clone(),
                    what: format!(
                        "the {} link from '{writer}': tuples carry no headers for a multiplexing selector; use Required or Optional",
                        grouping.label()
                    ),
                });
            }
            if !writers.is_empty() && storm_readers {
                return Err(RunError::Unsupported {
                    node: node.name.clone(),
                    what:
                        "a channel that bolts both write into and drain; connect the bolts directly"
                            .into(),
                });
            }
            if !writers.is_empty() {
                let Some(view) = storm.node_mut(index) else {
                    continue;
                };
                view.role = Role::Bolt;
                view.outputs.clear();
                let optional = writers.iter().all(|(_, g)| *g == Grouping::Optional);
                written.push((node.name.clone(), optional));
                continue;
            }
            if storm_readers {
                let Some(view) = storm.node_mut(index) else {
                    continue;
                };
                view.role = Role::Spout;
                if view.outputs.is_empty() {
                    view.outputs = vec![StreamDecl::default_stream(&[BODY_FIELD])];
                }
                let fields = view
                    .outputs
                    .first()
                    .map(|d| d.fields.clone())
                    .unwrap_or_default();
                drained.push((node.name.clone(), fields));
                // Edges to Flume sinks leave with the sinks below.
                continue;
            }
        }
        storm.remove_node(index);
    }
    Ok(Split {
        storm,
        drained,
        written,
        has_flume,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Node;

    #[test]
    fn drained_channels_become_spouts_and_pure_flume_leaves() {
        let mut t = Topology::new("t");
        t.add_node(Node::new("src", Role::Source, "sequence"))
            .unwrap();
        t.add_node(Node::new("ch", Role::Channel, "memory"))
            .unwrap();
        t.add_node(Node::new("side", Role::Channel, "memory"))
            .unwrap();
        t.add_node(Node::new("log", Role::Sink, "logger")).unwrap();
        t.add_node(Node::new("b", Role::Bolt, "null")).unwrap();
        t.connect_names("src", "ch", "default", Grouping::Required)
            .unwrap();
        t.connect_names("src", "side", "default", Grouping::Required)
            .unwrap();
        t.connect_names("side", "log", "default", Grouping::Drain)
            .unwrap();
        t.connect_names("ch", "b", "default", Grouping::Drain)
            .unwrap();
        let s = split(&t).unwrap();
        assert!(s.has_flume);
        let names: Vec<&str> = s.storm.nodes().map(|n| n.name.as_str()).collect();
        assert_eq!(names.len(), 2, "{names:?}");
        assert_eq!(
            s.storm.node_by_name("ch").map(|n| n.role),
            Some(Role::Spout)
        );
        assert_eq!(
            s.drained,
            vec![("ch".to_string(), vec!["body".to_string()])]
        );
        assert_eq!(s.storm.edge_count(), 1);
    }
}
