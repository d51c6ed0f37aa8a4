//! A simple layered layout for imported topologies, so they open readable on the canvas:
//! left to right by depth from the spouts and sources, spread vertically within a column,
//! one horizontal band per Flume agent.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use petgraph::stable_graph::NodeIndex;

use crate::model::{Pos, Topology};

const LEFT: f32 = 80.0;
const TOP: f32 = 80.0;
const COLUMN: f32 = 240.0;
const ROW: f32 = 120.0;
const BAND_GAP: f32 = 80.0;

/// Nodes of one agent band, by column (depth), as `(name, index)` for sorting.
type Band = BTreeMap<usize, Vec<(String, NodeIndex)>>;

/// Places every node. Depends only on the graph and the names, so importing the same
/// design twice gives the same positions.
pub fn layered(topology: &mut Topology) {
    let depth = depths(topology);
    let mut bands: BTreeMap<Option<String>, Band> = BTreeMap::new();
    for index in topology.node_indices() {
        let Some(node) = topology.node(index) else {
            continue;
        };
        let d = depth.get(&index).copied().unwrap_or(0);
        bands
            .entry(node.agent.clone())
            .or_default()
            .entry(d)
            .or_default()
            .push((node.name.clone(), index));
    }
    let mut band_top = TOP;
    let mut placed = Vec::new();
    let mut row_of: HashMap<NodeIndex, f32> = HashMap::new();
    for columns in bands.values_mut() {
        let mut rows = 0;
        for (&d, column) in columns.iter_mut() {
            // Columns after the first follow their inputs' rows (barycentre), so edges
            // cross less; names break ties, keeping the layout deterministic.
            let mut keyed: Vec<(f32, String, NodeIndex)> = column
                .drain(..)
                .map(|(name, index)| (barycentre(topology, index, &row_of), name, index))
                .collect();
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
            rows = rows.max(keyed.len());
            for (row, (_, name, index)) in keyed.into_iter().enumerate() {
                let x = LEFT + d as f32 * COLUMN;
                let y = band_top + row as f32 * ROW;
                row_of.insert(index, row as f32);
                placed.push((index, Pos(x, y)));
                column.push((name, index));
            }
        }
        band_top += rows as f32 * ROW + BAND_GAP;
    }
    for (index, pos) in placed {
        if let Some(node) = topology.node_mut(index) {
            node.pos = pos;
        }
    }
}

/// Mean row of a node's already placed inputs; nodes without any sort first.
fn barycentre(topology: &Topology, index: NodeIndex, row_of: &HashMap<NodeIndex, f32>) -> f32 {
    let rows: Vec<f32> = topology
        .inputs(index)
        .filter_map(|(_, from, _)| row_of.get(&from).copied())
        .collect();
    if rows.is_empty() {
        -1.0
    } else {
        rows.iter().sum::<f32>() / rows.len() as f32
    }
}

/// Longest-path depth from any root, in topological order so each edge is looked at
/// once. Cycles (invalid, but importable so validation can name them) are broken at the
/// first unplaced node in index order: edges back into placed nodes are ignored.
fn depths(topology: &Topology) -> HashMap<NodeIndex, usize> {
    let nodes: Vec<NodeIndex> = topology.node_indices().collect();
    let mut waiting: HashMap<NodeIndex, usize> = nodes.iter().map(|&i| (i, 0)).collect();
    for &i in &nodes {
        for (_, to, _) in topology.outputs(i) {
            if to != i
                && let Some(n) = waiting.get_mut(&to)
            {
                *n += 1;
            }
        }
    }
    let mut depth: HashMap<NodeIndex, usize> = nodes.iter().map(|&i| (i, 0)).collect();
    let mut placed: HashSet<NodeIndex> = HashSet::with_capacity(nodes.len());
    let mut ready: VecDeque<NodeIndex> = nodes
        .iter()
        .copied()
        .filter(|i| waiting.get(i) == Some(&0))
        .collect();
    let mut next_unplaced = nodes.iter().copied();
    while let Some(i) = ready
        .pop_front()
        .or_else(|| next_unplaced.find(|i| !placed.contains(i)))
    {
        if !placed.insert(i) {
            continue;
        }
        let here = depth.get(&i).copied().unwrap_or(0);
        for (_, to, _) in topology.outputs(i) {
            if to == i || placed.contains(&to) {
                continue;
            }
            if let Some(d) = depth.get_mut(&to) {
                *d = (*d).max(here + 1);
            }
            if let Some(n) = waiting.get_mut(&to) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    ready.push_back(to);
                }
            }
        }
    }
    depth
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DEFAULT_STREAM, Grouping, Node, Role};

    #[test]
    fn columns_follow_depth_and_rows_follow_names() {
        let mut t = Topology::new("t");
        for name in ["s", "b", "a", "z"] {
            let role = if name == "s" { Role::Spout } else { Role::Bolt };
            t.add_node(Node::new(name, role, "x")).unwrap();
        }
        for to in ["b", "a"] {
            t.connect_names("s", to, DEFAULT_STREAM, Grouping::Shuffle)
                .unwrap();
        }
        t.connect_names("a", "z", DEFAULT_STREAM, Grouping::Shuffle)
            .unwrap();
        layered(&mut t);
        let pos = |n: &str| t.node_by_name(n).unwrap().pos;
        assert_eq!(pos("s"), Pos(LEFT, TOP));
        assert_eq!(pos("a"), Pos(LEFT + COLUMN, TOP));
        assert_eq!(pos("b"), Pos(LEFT + COLUMN, TOP + ROW));
        assert_eq!(pos("z"), Pos(LEFT + 2.0 * COLUMN, TOP));
    }

    #[test]
    fn cycles_terminate() {
        let mut t = Topology::new("t");
        t.add_node(Node::new("a", Role::Bolt, "x")).unwrap();
        t.add_node(Node::new("b", Role::Bolt, "x")).unwrap();
        t.connect_names("a", "b", DEFAULT_STREAM, Grouping::Shuffle)
            .unwrap();
        t.connect_names("b", "a", DEFAULT_STREAM, Grouping::Shuffle)
            .unwrap();
        layered(&mut t);
    }
}
