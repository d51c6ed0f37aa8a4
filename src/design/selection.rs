//! What the user has selected, by name, so it survives undo and redo.

use std::collections::BTreeSet;

use crate::model::{NamedEdge, Topology};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Selection {
    pub nodes: BTreeSet<String>,
    /// At most one edge; the inspector edits it.
    pub edge: Option<NamedEdge>,
}

impl Selection {
    pub fn node(name: &str) -> Self {
        Self {
            nodes: BTreeSet::from([name.to_string()]),
            edge: None,
        }
    }

    pub fn edge(edge: NamedEdge) -> Self {
        Self {
            nodes: BTreeSet::new(),
            edge: Some(edge),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty() && self.edge.is_none()
    }

    pub fn contains_node(&self, name: &str) -> bool {
        self.nodes.contains(name)
    }

    /// The one node selected, if exactly one is.
    pub fn single_node(&self) -> Option<&str> {
        match (self.nodes.len(), &self.edge) {
            (1, None) => self.nodes.iter().next().map(String::as_str),
            _ => None,
        }
    }

    /// Drops names that no longer exist (after undo, delete, rename) and refreshes the
    /// selected edge's grouping from the topology.
    pub fn prune(&mut self, t: &Topology) {
        self.nodes.retain(|n| t.index_of(n).is_some());
        if let Some(edge) = &self.edge {
            self.edge = t
                .edge_list()
                .into_iter()
                .find(|e| e.from == edge.from && e.to == edge.to && e.stream == edge.stream);
        }
    }
}
