//! Every edit the designer makes, as a value with an inverse.
//!
//! Commands address nodes and edges by *name* rather than graph index: a node deleted
//! and restored by undo may come back at another index, but it comes back with its name.
//! Applying a command returns its inverse, so undo/redo is two stacks of commands.

use crate::model::{Edge, NamedEdge, Node, Pos, Settings, Topology};

/// One reversible edit.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Adds nodes, then edges between any nodes (new or existing): palette drops, paste,
    /// and the undo of a delete.
    Add {
        nodes: Vec<Node>,
        edges: Vec<NamedEdge>,
    },
    /// Removes edges, then nodes (with every edge touching them).
    Remove {
        nodes: Vec<String>,
        edges: Vec<NamedEdge>,
    },
    /// Moves nodes to absolute canvas positions.
    Move { moves: Vec<(String, Pos)> },
    /// Replaces a node wholesale (any property, including its name).
    ReplaceNode { name: String, node: Node },
    /// Changes an edge's stream and grouping; `key` names the edge as it is now.
    SetEdge { key: NamedEdge, edge: Edge },
    /// Changes the topology's own fields.
    SetTopology {
        name: String,
        description: String,
        settings: Settings,
    },
    /// Several commands as one undo step.
    Batch(Vec<Command>),
}

impl Command {
    /// Applies the command and returns the command that undoes it. On error the
    /// topology is left as it was, so a refused edit never half-happens.
    pub fn apply(self, topology: &mut Topology) -> Result<Command, String> {
        let backup = topology.clone();
        let result = self.apply_inner(topology);
        if result.is_err() {
            *topology = backup;
        }
        result
    }

    fn apply_inner(self, t: &mut Topology) -> Result<Command, String> {
        match self {
            Command::Add { nodes, edges } => {
                let names: Vec<String> = nodes.iter().map(|n| n.name.clone()).collect();
                for node in nodes {
                    t.add_node(node).map_err(|e| e.to_string())?;
                }
                for e in &edges {
                    connect_named(t, e)?;
                }
                Ok(Command::Remove {
                    nodes: names,
                    edges,
                })
            }
            Command::Remove { nodes, edges } => {
                let mut removed_edges = Vec::new();
                for e in &edges {
                    let index = find_edge(t, e)?;
                    t.remove_edge(index);
                    removed_edges.push(e.clone());
                }
                let mut removed_nodes = Vec::new();
                for name in &nodes {
                    let index = t
                        .index_of(name)
                        .ok_or_else(|| format!("there is no node named '{name}'"))?;
                    // Record the node's edges by name before they go, so undo restores them.
                    let touching: Vec<NamedEdge> = t
                        .edge_list()
                        .into_iter()
                        .filter(|e| &e.from == name || &e.to == name)
                        .collect();
                    if let Some((node, _)) = t.remove_node(index) {
                        removed_nodes.push(node);
                        removed_edges.extend(touching);
                    }
                }
                Ok(Command::Add {
                    nodes: removed_nodes,
                    edges: removed_edges,
                })
            }
            Command::Move { moves } => {
                let mut old = Vec::with_capacity(moves.len());
                for (name, pos) in moves {
                    let node = t
                        .node_by_name_mut(&name)
                        .ok_or_else(|| format!("there is no node named '{name}'"))?;
                    old.push((name, std::mem::replace(&mut node.pos, pos)));
                }
                Ok(Command::Move { moves: old })
            }
            Command::ReplaceNode { name, node } => {
                let index = t
                    .index_of(&name)
                    .ok_or_else(|| format!("there is no node named '{name}'"))?;
                t.rename_node(index, &node.name)
                    .map_err(|e| e.to_string())?;
                let new_name = node.name.clone();
                let slot = t
                    .node_mut(index)
                    .ok_or_else(|| format!("there is no node named '{name}'"))?;
                let old = std::mem::replace(slot, node);
                let mut old = old;
                // The rename above already changed the stored name; the inverse must
                // carry the original one.
                old.name = name;
                Ok(Command::ReplaceNode {
                    name: new_name,
                    node: old,
                })
            }
            Command::SetEdge { key, edge } => {
                let index = find_edge(t, &key)?;
                let slot = t
                    .edge_mut(index)
                    .ok_or_else(|| "that edge no longer exists".to_string())?;
                let old = std::mem::replace(slot, edge.clone());
                Ok(Command::SetEdge {
                    key: NamedEdge {
                        from: key.from,
                        to: key.to,
                        stream: edge.stream,
                        grouping: edge.grouping,
                    },
                    edge: old,
                })
            }
            Command::SetTopology {
                name,
                description,
                settings,
            } => Ok(Command::SetTopology {
                name: std::mem::replace(&mut t.name, name),
                description: std::mem::replace(&mut t.description, description),
                settings: std::mem::replace(&mut t.settings, settings),
            }),
            Command::Batch(commands) => {
                let mut inverses = Vec::with_capacity(commands.len());
                for c in commands {
                    inverses.push(c.apply_inner(t)?);
                }
                inverses.reverse();
                Ok(Command::Batch(inverses))
            }
        }
    }
}

/// The first edge matching a name-addressed record (from, to and stream; the grouping
/// is what may be changing, so it is not part of the identity).
pub fn find_edge(
    t: &Topology,
    key: &NamedEdge,
) -> Result<petgraph::stable_graph::EdgeIndex, String> {
    let from = t
        .index_of(&key.from)
        .ok_or_else(|| format!("there is no node named '{}'", key.from))?;
    t.outputs(from)
        .find(|(_, to, e)| e.stream == key.stream && t.node(*to).is_some_and(|n| n.name == key.to))
        .map(|(index, _, _)| index)
        .ok_or_else(|| format!("there is no edge from '{}' to '{}'", key.from, key.to))
}

fn connect_named(t: &mut Topology, e: &NamedEdge) -> Result<(), String> {
    t.connect_names(&e.from, &e.to, e.stream.clone(), e.grouping.clone())
        .map(|_| ())
        .map_err(|err| err.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DEFAULT_STREAM, Grouping, Role};

    fn sample() -> Topology {
        let mut t = Topology::new("t");
        t.add_node(Node::new("a", Role::Spout, "sentence_generator"))
            .unwrap();
        t.add_node(Node::new("b", Role::Bolt, "split")).unwrap();
        t.add_node(Node::new("c", Role::Bolt, "logger")).unwrap();
        t.connect_names("a", "b", DEFAULT_STREAM, Grouping::Shuffle)
            .unwrap();
        t.connect_names("b", "c", DEFAULT_STREAM, Grouping::Shuffle)
            .unwrap();
        t
    }

    fn round_trip(command: Command) {
        let mut t = sample();
        let before = t.clone();
        let inverse = command.clone().apply(&mut t).unwrap();
        let after = t.clone();
        let redo = inverse.apply(&mut t).unwrap();
        assert_eq!(t, before, "undo of {command:?}");
        redo.apply(&mut t).unwrap();
        assert_eq!(t, after, "redo of {command:?}");
    }

    #[test]
    fn every_command_round_trips() {
        round_trip(Command::Remove {
            nodes: vec!["b".into()],
            edges: vec![],
        });
        round_trip(Command::Move {
            moves: vec![("a".into(), Pos(5.0, 6.0))],
        });
        let mut renamed = Node::new("bee", Role::Bolt, "split");
        renamed.parallelism = 3;
        round_trip(Command::ReplaceNode {
            name: "b".into(),
            node: renamed,
        });
        round_trip(Command::SetEdge {
            key: NamedEdge {
                from: "a".into(),
                to: "b".into(),
                stream: DEFAULT_STREAM.into(),
                grouping: Grouping::Shuffle,
            },
            edge: Edge {
                stream: DEFAULT_STREAM.into(),
                grouping: Grouping::All,
            },
        });
        round_trip(Command::Batch(vec![
            Command::Add {
                nodes: vec![Node::new("d", Role::Bolt, "logger")],
                edges: vec![NamedEdge {
                    from: "b".into(),
                    to: "d".into(),
                    stream: DEFAULT_STREAM.into(),
                    grouping: Grouping::Global,
                }],
            },
            Command::SetTopology {
                name: "renamed".into(),
                description: "x".into(),
                settings: Settings::default(),
            },
        ]));
    }

    #[test]
    fn a_failing_batch_changes_nothing() {
        let mut t = sample();
        let before = t.clone();
        let bad = Command::Batch(vec![
            Command::Move {
                moves: vec![("a".into(), Pos(1.0, 1.0))],
            },
            Command::Add {
                nodes: vec![Node::new("a", Role::Bolt, "logger")],
                edges: vec![],
            },
        ]);
        assert!(bad.apply(&mut t).is_err());
        assert_eq!(t, before);
    }
}
