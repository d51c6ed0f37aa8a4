//! The topology as data: what the user designs, saves and runs.
//!
//! A [`Topology`] keeps its nodes and edges in a `petgraph` [`StableDiGraph`] so that
//! graph algorithms (cycle detection, layering, reachability) come for free, while node
//! *names* stay the identity users see, write in RON files and read in diagnostics.
//! Stable indices matter because the designer keeps references to nodes across edits.

pub mod bare_option;
mod cluster;
mod connect;
mod edge;
pub mod flume;
mod node;
mod scenario;
mod settings;
mod value;

pub use cluster::{ClusterSettings, DEFAULT_HEARTBEAT_TIMEOUT_SECS};
pub use connect::{LinkKind, WhyNot, may_connect};
pub use edge::{DEFAULT_STREAM, Edge, Grouping};
pub use node::{Node, Pos, Role, StreamDecl, System, WindowSize, WindowSpec};
pub use scenario::{ScenarioAction, ScenarioStep};
pub use settings::{ExecutionMode, Guarantee, Settings, SinkGroup, SinkProcessor};
pub use value::Value;

use petgraph::Direction;
use petgraph::stable_graph::{EdgeIndex, NodeIndex, StableDiGraph};
use thiserror::Error;

/// Why an edit to a [`Topology`] was refused. Edits refuse only what would make the
/// graph ambiguous (two nodes with one name, an edge to nowhere); everything else that
/// is merely *wrong* is reported by `validate` so users can keep half-finished work.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum EditError {
    #[error("a node named '{0}' already exists")]
    DuplicateName(String),
    #[error("there is no node named '{0}'")]
    NoSuchNode(String),
    #[error("node names must not be empty")]
    EmptyName,
}

/// A whole design: settings, nodes, edges and Flume sink groups.
#[derive(Debug, Clone, Default)]
pub struct Topology {
    /// Short identifier, used as the Storm topology name and Flume agent prefix on export.
    pub name: String,
    /// Free text shown in the designer; kept in the file so comments survive a save.
    pub description: String,
    pub settings: Settings,
    /// Flume sink groups (failover / load balancing) over sink nodes, by name.
    pub sink_groups: Vec<SinkGroup>,
    /// Edges whose endpoints name no node, as read from a file. They are kept (and saved
    /// again) so a typo never costs the user an edge; validation reports each one.
    pub dangling_edges: Vec<NamedEdge>,
    graph: StableDiGraph<Node, Edge>,
}

impl PartialEq for Topology {
    /// Two topologies are equal when they describe the same design, whatever order the
    /// nodes were added in: the comparison goes through names, not graph indices.
    fn eq(&self, other: &Self) -> bool {
        if self.name != other.name
            || self.description != other.description
            || self.settings != other.settings
            || self.sink_groups != other.sink_groups
            || self.dangling_edges != other.dangling_edges
            || self.node_count() != other.node_count()
            || self.edge_count() != other.edge_count()
        {
            return false;
        }
        let mut mine: Vec<&Node> = self.nodes().collect();
        let mut theirs: Vec<&Node> = other.nodes().collect();
        mine.sort_by(|a, b| a.name.cmp(&b.name));
        theirs.sort_by(|a, b| a.name.cmp(&b.name));
        if mine != theirs {
            return false;
        }
        let mut my_edges = self.edge_list();
        let mut their_edges = other.edge_list();
        my_edges.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        their_edges.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        my_edges == their_edges
    }
}

impl Topology {
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }

    pub fn node_count(&self) -> usize {
        self.graph.node_count()
    }

    pub fn edge_count(&self) -> usize {
        self.graph.edge_count()
    }

    /// Read-only access to the graph for algorithms (layout, cycle search, compile).
    pub fn graph(&self) -> &StableDiGraph<Node, Edge> {
        &self.graph
    }

    pub fn nodes(&self) -> impl Iterator<Item = &Node> {
        self.graph.node_weights()
    }

    pub fn node_indices(&self) -> impl Iterator<Item = NodeIndex> + '_ {
        self.graph.node_indices()
    }

    pub fn edge_indices(&self) -> impl Iterator<Item = EdgeIndex> + '_ {
        self.graph.edge_indices()
    }

    pub fn node(&self, index: NodeIndex) -> Option<&Node> {
        self.graph.node_weight(index)
    }

    pub fn node_mut(&mut self, index: NodeIndex) -> Option<&mut Node> {
        self.graph.node_weight_mut(index)
    }

    pub fn edge(&self, index: EdgeIndex) -> Option<&Edge> {
        self.graph.edge_weight(index)
    }

    pub fn edge_mut(&mut self, index: EdgeIndex) -> Option<&mut Edge> {
        self.graph.edge_weight_mut(index)
    }

    /// The endpoints of an edge as graph indices.
    pub fn edge_endpoints(&self, index: EdgeIndex) -> Option<(NodeIndex, NodeIndex)> {
        self.graph.edge_endpoints(index)
    }

    pub fn index_of(&self, name: &str) -> Option<NodeIndex> {
        self.graph
            .node_indices()
            .find(|&i| self.graph[i].name == name)
    }

    /// Every node name with its index, for code that looks up many names at once
    /// (loaders, exporters): one pass over the graph instead of a scan per lookup, so a
    /// big file stays linear. The first node of a duplicated name wins, as in
    /// [`Topology::index_of`].
    pub fn name_index(&self) -> std::collections::HashMap<&str, NodeIndex> {
        let mut index = std::collections::HashMap::with_capacity(self.graph.node_count());
        for i in self.graph.node_indices() {
            index.entry(self.graph[i].name.as_str()).or_insert(i);
        }
        index
    }

    pub fn node_by_name(&self, name: &str) -> Option<&Node> {
        self.index_of(name).map(|i| &self.graph[i])
    }

    pub fn node_by_name_mut(&mut self, name: &str) -> Option<&mut Node> {
        self.index_of(name).map(move |i| &mut self.graph[i])
    }

    /// Adds a node; names are unique because files and diagnostics refer to nodes by name.
    pub fn add_node(&mut self, node: Node) -> Result<NodeIndex, EditError> {
        if node.name.trim().is_empty() {
            return Err(EditError::EmptyName);
        }
        if self.index_of(&node.name).is_some() {
            return Err(EditError::DuplicateName(node.name));
        }
        Ok(self.graph.add_node(node))
    }

    /// Adds a node even when its name is taken or empty. Only loaders use this, so that a
    /// file with duplicate names still opens and validation can point at the duplicates.
    pub fn add_node_unchecked(&mut self, node: Node) -> NodeIndex {
        self.graph.add_node(node)
    }

    /// Removes a node and every edge touching it, returning both so an undo can restore them.
    pub fn remove_node(&mut self, index: NodeIndex) -> Option<(Node, Vec<Edge>)> {
        let edges: Vec<EdgeIndex> = self
            .graph
            .edges_directed(index, Direction::Incoming)
            .chain(self.graph.edges_directed(index, Direction::Outgoing))
            .map(|e| petgraph::visit::EdgeRef::id(&e))
            .collect();
        let mut removed = Vec::with_capacity(edges.len());
        for e in edges {
            if let Some(edge) = self.graph.remove_edge(e) {
                removed.push(edge);
            }
        }
        self.graph.remove_node(index).map(|n| (n, removed))
    }

    /// Renames a node; edges follow because they are stored by index, and sink groups
    /// and joins (`left`/`right`, which name upstream nodes) that mention the old name are
    /// updated too.
    pub fn rename_node(&mut self, index: NodeIndex, new_name: &str) -> Result<(), EditError> {
        if new_name.trim().is_empty() {
            return Err(EditError::EmptyName);
        }
        if let Some(existing) = self.index_of(new_name) {
            if existing != index {
                return Err(EditError::DuplicateName(new_name.to_string()));
            }
            return Ok(());
        }
        let Some(node) = self.graph.node_weight_mut(index) else {
            return Err(EditError::NoSuchNode(format!("#{}", index.index())));
        };
        let old = std::mem::replace(&mut node.name, new_name.to_string());
        for group in &mut self.sink_groups {
            for sink in &mut group.sinks {
                if *sink == old {
                    *sink = new_name.to_string();
                }
            }
        }
        for node in self.graph.node_weights_mut() {
            if node.component != "join" {
                continue;
            }
            for side in ["left", "right"] {
                if let Some(v) = node.config.get_mut(side)
                    && v.as_str() == Some(old.as_str())
                {
                    *v = Value::Str(new_name.to_string());
                }
            }
        }
        Ok(())
    }

    /// Connects two nodes. Refuses nothing but missing endpoints: cycles and role rules
    /// are judged by `validate` (and by the designer before it calls this).
    pub fn connect(
        &mut self,
        from: NodeIndex,
        to: NodeIndex,
        stream: impl Into<String>,
        grouping: Grouping,
    ) -> Result<EdgeIndex, EditError> {
        for i in [from, to] {
            if self.graph.node_weight(i).is_none() {
                return Err(EditError::NoSuchNode(format!("#{}", i.index())));
            }
        }
        Ok(self.graph.add_edge(
            from,
            to,
            Edge {
                stream: stream.into(),
                grouping,
            },
        ))
    }

    /// Connects by names, as loaders and tests do.
    pub fn connect_names(
        &mut self,
        from: &str,
        to: &str,
        stream: impl Into<String>,
        grouping: Grouping,
    ) -> Result<EdgeIndex, EditError> {
        let f = self
            .index_of(from)
            .ok_or_else(|| EditError::NoSuchNode(from.to_string()))?;
        let t = self
            .index_of(to)
            .ok_or_else(|| EditError::NoSuchNode(to.to_string()))?;
        self.connect(f, t, stream, grouping)
    }

    pub fn remove_edge(&mut self, index: EdgeIndex) -> Option<Edge> {
        self.graph.remove_edge(index)
    }

    /// Edges entering a node, with the upstream node's index.
    pub fn inputs(&self, index: NodeIndex) -> impl Iterator<Item = (EdgeIndex, NodeIndex, &Edge)> {
        use petgraph::visit::EdgeRef;
        self.graph
            .edges_directed(index, Direction::Incoming)
            .map(|e| (e.id(), e.source(), e.weight()))
    }

    /// Edges leaving a node, with the downstream node's index.
    pub fn outputs(&self, index: NodeIndex) -> impl Iterator<Item = (EdgeIndex, NodeIndex, &Edge)> {
        use petgraph::visit::EdgeRef;
        self.graph
            .edges_directed(index, Direction::Outgoing)
            .map(|e| (e.id(), e.target(), e.weight()))
    }

    /// All edges as name-addressed records, the form files and diagnostics use.
    pub fn edge_list(&self) -> Vec<NamedEdge> {
        self.graph
            .edge_indices()
            .filter_map(|e| {
                let (a, b) = self.graph.edge_endpoints(e)?;
                let edge = &self.graph[e];
                Some(NamedEdge {
                    from: self.graph[a].name.clone(),
                    to: self.graph[b].name.clone(),
                    stream: edge.stream.clone(),
                    grouping: edge.grouping.clone(),
                })
            })
            .collect()
    }

    /// Would an edge `from → to` close a cycle? (True when `from` is reachable from `to`.)
    pub fn would_create_cycle(&self, from: NodeIndex, to: NodeIndex) -> bool {
        from == to || petgraph::algo::has_path_connecting(&self.graph, to, from, None)
    }

    /// A name not yet used, derived from `base` (`split`, `split-2`, `split-3`, …).
    pub fn unique_name(&self, base: &str) -> String {
        let base = if base.trim().is_empty() { "node" } else { base };
        if self.index_of(base).is_none() {
            return base.to_string();
        }
        (2..)
            .map(|i| format!("{base}-{i}"))
            .find(|candidate| self.index_of(candidate).is_none())
            .unwrap_or_else(|| base.to_string())
    }

    /// Nodes in a deterministic reading order: upstream before downstream, ties broken by
    /// name. Files are written in this order so a saved topology reads like its data flow
    /// and two saves of the same design are byte-identical. Nodes on cycles (invalid
    /// designs) come last, by name.
    pub fn reading_order(&self) -> Vec<NodeIndex> {
        use std::collections::{BTreeMap, BTreeSet};
        let mut indegree: BTreeMap<NodeIndex, usize> = self
            .graph
            .node_indices()
            .map(|i| (i, self.graph.edges_directed(i, Direction::Incoming).count()))
            .collect();
        let key = |i: NodeIndex| (self.graph[i].name.clone(), i);
        let mut ready: BTreeSet<(String, NodeIndex)> = indegree
            .iter()
            .filter(|(_, d)| **d == 0)
            .map(|(i, _)| key(*i))
            .collect();
        let mut order = Vec::with_capacity(self.graph.node_count());
        while let Some(first) = ready.pop_first() {
            let index = first.1;
            order.push(index);
            indegree.remove(&index);
            for next in self.graph.neighbors_directed(index, Direction::Outgoing) {
                if let Some(d) = indegree.get_mut(&next) {
                    *d = d.saturating_sub(1);
                    if *d == 0 {
                        ready.insert(key(next));
                    }
                }
            }
        }
        let mut rest: Vec<(String, NodeIndex)> = indegree.keys().map(|&i| key(i)).collect();
        rest.sort();
        order.extend(rest.into_iter().map(|(_, i)| i));
        order
    }
}

/// An edge addressed by node names rather than graph indices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedEdge {
    pub from: String,
    pub to: String,
    pub stream: String,
    pub grouping: Grouping,
}

impl NamedEdge {
    pub fn sort_key(&self) -> (&str, &str, &str, String) {
        (
            &self.from,
            &self.stream,
            &self.to,
            format!("{:?}", self.grouping),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bolt(name: &str) -> Node {
        Node::new(name, Role::Bolt, "map")
    }

    #[test]
    fn duplicate_names_are_refused() {
        let mut t = Topology::new("t");
        t.add_node(bolt("a")).unwrap();
        assert_eq!(
            t.add_node(bolt("a")),
            Err(EditError::DuplicateName("a".into()))
        );
    }

    #[test]
    fn name_index_agrees_with_index_of_even_for_duplicates() {
        let mut t = Topology::new("t");
        let first = t.add_node_unchecked(bolt("a"));
        t.add_node_unchecked(bolt("a"));
        let b = t.add_node_unchecked(bolt("b"));
        let index = t.name_index();
        assert_eq!(index.len(), 2);
        for name in ["a", "b"] {
            assert_eq!(index.get(name).copied(), t.index_of(name), "{name}");
        }
        assert_eq!((index["a"], index["b"]), (first, b));
    }

    #[test]
    fn renaming_an_input_of_a_join_updates_the_join() {
        let mut t = Topology::new("t");
        let a = t.add_node(bolt("a")).unwrap();
        t.add_node(bolt("b")).unwrap();
        t.add_node(
            Node::new("j", Role::Bolt, "join")
                .with_config("left", "a")
                .with_config("right", "b"),
        )
        .unwrap();
        t.rename_node(a, "views").unwrap();
        let j = t.node_by_name("j").unwrap();
        assert_eq!(j.config["left"].as_str(), Some("views"));
        assert_eq!(j.config["right"].as_str(), Some("b"));
    }

    #[test]
    fn cycle_check_sees_paths() {
        let mut t = Topology::new("t");
        let a = t.add_node(bolt("a")).unwrap();
        let b = t.add_node(bolt("b")).unwrap();
        let c = t.add_node(bolt("c")).unwrap();
        t.connect(a, b, DEFAULT_STREAM, Grouping::Shuffle).unwrap();
        t.connect(b, c, DEFAULT_STREAM, Grouping::Shuffle).unwrap();
        assert!(t.would_create_cycle(c, a));
        assert!(t.would_create_cycle(a, a));
        assert!(!t.would_create_cycle(a, c));
    }

    #[test]
    fn reading_order_follows_flow_then_name() {
        let mut t = Topology::new("t");
        let z = t.add_node(bolt("z-source")).unwrap();
        let a = t.add_node(bolt("a-sink")).unwrap();
        let m = t.add_node(bolt("m-middle")).unwrap();
        t.connect(z, m, DEFAULT_STREAM, Grouping::Shuffle).unwrap();
        t.connect(m, a, DEFAULT_STREAM, Grouping::Shuffle).unwrap();
        let names: Vec<_> = t
            .reading_order()
            .into_iter()
            .map(|i| t.node(i).unwrap().name.clone())
            .collect();
        assert_eq!(names, ["z-source", "m-middle", "a-sink"]);
    }

    #[test]
    fn rename_updates_sink_groups_and_refuses_taken_names() {
        let mut t = Topology::new("t");
        let a = t.add_node(Node::new("k1", Role::Sink, "logger")).unwrap();
        t.add_node(Node::new("k2", Role::Sink, "logger")).unwrap();
        t.sink_groups.push(SinkGroup {
            name: "g".into(),
            sinks: vec!["k1".into(), "k2".into()],
            processor: SinkProcessor::Default,
        });
        assert!(t.rename_node(a, "k2").is_err());
        t.rename_node(a, "primary").unwrap();
        assert_eq!(t.sink_groups[0].sinks, ["primary", "k2"]);
    }

    #[test]
    fn unique_name_counts_up() {
        let mut t = Topology::new("t");
        t.add_node(bolt("split")).unwrap();
        t.add_node(bolt("split-2")).unwrap();
        assert_eq!(t.unique_name("split"), "split-3");
        assert_eq!(t.unique_name("count"), "count");
    }
}
