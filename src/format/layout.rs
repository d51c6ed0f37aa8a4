//! The one layered layout, for imported topologies (so they open readable on the
//! canvas) and for the designer's Auto layout: left to right by depth from the spouts
//! and sources, one band per Flume agent, and within a band a few barycentre sweeps that
//! order each column by where its neighbours sit, so edges cross less.
//!
//! Avro hops count as edges for depth, so a downstream agent's columns start right of
//! the upstream agent's sink and every hop runs left to right. Bands are placed in flow
//! order (by their first column), each as high as it can go without sharing a column
//! with a band already placed: a chain of agents reads as one row of frames, agents
//! side by side upstream stack, and no two frames overlap.
//! Depends only on the graph and the names (ties are broken by name), so the same design
//! always gets the same picture. It lives in `format` because importers call it and
//! `format` sits below the designer.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use petgraph::stable_graph::NodeIndex;

use crate::model::flume::avro_hops;
use crate::model::{Pos, Topology};

const LEFT: f32 = 80.0;
const TOP: f32 = 80.0;
/// Horizontal distance between columns and vertical distance between rows, in canvas
/// units (multiples of the canvas grid); leaves room for edge labels between nodes.
const COLUMN: f32 = 240.0;
const ROW: f32 = 120.0;
const BAND_GAP: f32 = 80.0;
/// Down-and-up barycentre sweeps; a few settle small and medium designs, and each is
/// linear in the edges, so large imports stay fast.
const SWEEPS: usize = 4;

/// Places every node (see [`layered_positions`]).
pub fn layered(topology: &mut Topology) {
    for (index, pos) in placed(topology) {
        if let Some(node) = topology.node_mut(index) {
            node.pos = pos;
        }
    }
}

/// New positions for every node, by name, without changing the topology (the designer
/// turns them into one undoable move).
pub fn layered_positions(topology: &Topology) -> Vec<(String, Pos)> {
    placed(topology)
        .into_iter()
        .filter_map(|(index, pos)| Some((topology.node(index)?.name.clone(), pos)))
        .collect()
}

/// The columns of one agent band: `(depth, nodes top to bottom)`, by depth.
type Band = Vec<(usize, Vec<NodeIndex>)>;

/// Nodes by agent band (`None`: not in an agent), then by depth, as `(name, index)`.
type Unordered = BTreeMap<Option<String>, BTreeMap<usize, Vec<(String, NodeIndex)>>>;

fn placed(topology: &Topology) -> Vec<(NodeIndex, Pos)> {
    let depth = depths(topology);
    let mut bands: Unordered = BTreeMap::new();
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
    // Flow order: by first column, then by agent name (Storm nodes, `None`, first).
    let mut bands: Vec<(Option<String>, Band)> = bands
        .into_iter()
        .map(|(agent, columns)| {
            let band: Band = columns
                .into_iter()
                .map(|(d, mut column)| {
                    column.sort();
                    (d, column.into_iter().map(|(_, index)| index).collect())
                })
                .collect();
            (agent, band)
        })
        .collect();
    bands.sort_by_key(|(agent, band)| (band.first().map_or(0, |(d, _)| *d), agent.clone()));
    // Bands already placed: (first column, last column, top of the next band below).
    let mut shelves: Vec<(usize, usize, f32)> = Vec::new();
    let mut out = Vec::with_capacity(topology.node_count());
    for (_, mut band) in bands {
        let (Some(&(first, _)), Some(&(last, _))) = (band.first(), band.last()) else {
            continue;
        };
        order_by_barycentre(topology, &mut band);
        let band_top = shelves
            .iter()
            .filter(|&&(a, b, _)| a <= last && first <= b)
            .map(|&(_, _, below)| below)
            .fold(TOP, f32::max);
        let mut rows = 0;
        for (d, column) in &band {
            rows = rows.max(column.len());
            for (row, &index) in column.iter().enumerate() {
                let x = LEFT + *d as f32 * COLUMN;
                let y = band_top + row as f32 * ROW;
                out.push((index, Pos(x, y)));
            }
        }
        shelves.push((first, last, band_top + rows as f32 * ROW + BAND_GAP));
    }
    out
}

/// Reorders each column of a band: down the columns by the mean row of each node's
/// inputs in earlier columns, then up by its outputs in later ones. A node without such
/// neighbours keeps its row, and equal means keep their current order, so the initial
/// order by name breaks every tie.
fn order_by_barycentre(topology: &Topology, band: &mut Band) {
    let mut row_of: HashMap<NodeIndex, (usize, usize)> = HashMap::new();
    for (ci, (_, column)) in band.iter().enumerate() {
        for (row, &index) in column.iter().enumerate() {
            row_of.insert(index, (ci, row));
        }
    }
    for _ in 0..SWEEPS {
        for (ci, (_, column)) in band.iter_mut().enumerate().skip(1) {
            sort_column(
                column,
                &mut row_of,
                ci,
                |i| topology.inputs(i).map(|(_, up, _)| up).collect(),
                |c| c < ci,
            );
        }
        let last = band.len().saturating_sub(1);
        for (ci, (_, column)) in band.iter_mut().enumerate().take(last).rev() {
            sort_column(
                column,
                &mut row_of,
                ci,
                |i| topology.outputs(i).map(|(_, down, _)| down).collect(),
                |c| c > ci,
            );
        }
    }
}

fn sort_column(
    column: &mut [NodeIndex],
    row_of: &mut HashMap<NodeIndex, (usize, usize)>,
    ci: usize,
    neighbours: impl Fn(NodeIndex) -> Vec<NodeIndex>,
    counts: impl Fn(usize) -> bool,
) {
    let mut keyed: Vec<(f32, usize, NodeIndex)> = column
        .iter()
        .enumerate()
        .map(|(own, &i)| {
            let rows: Vec<usize> = neighbours(i)
                .into_iter()
                .filter_map(|n| row_of.get(&n).copied())
                .filter(|&(c, _)| counts(c))
                .map(|(_, row)| row)
                .collect();
            let bary = if rows.is_empty() {
                own as f32
            } else {
                rows.iter().sum::<usize>() as f32 / rows.len() as f32
            };
            (bary, own, i)
        })
        .collect();
    keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    for (row, (slot, (_, _, i))) in column.iter_mut().zip(keyed).enumerate() {
        *slot = i;
        row_of.insert(i, (ci, row));
    }
}

/// Where each node's outputs go: its edges, and for an avro sink the avro sources on its
/// port (the hop is a link of the flow even though the file draws no edge for it).
fn successors(topology: &Topology) -> HashMap<NodeIndex, Vec<NodeIndex>> {
    let mut next: HashMap<NodeIndex, Vec<NodeIndex>> = topology
        .node_indices()
        .map(|i| (i, topology.outputs(i).map(|(_, to, _)| to).collect()))
        .collect();
    let index = topology.name_index();
    for hop in avro_hops(topology) {
        if let (Some(&sink), Some(&source)) =
            (index.get(hop.sink.as_str()), index.get(hop.source.as_str()))
            && let Some(out) = next.get_mut(&sink)
            && !out.contains(&source)
        {
            out.push(source);
        }
    }
    next
}

/// Longest-path depth from any root, in topological order so each link is looked at
/// once. Cycles (invalid, but importable so validation can name them) are broken at the
/// first unplaced node in index order: links back into placed nodes are ignored.
fn depths(topology: &Topology) -> HashMap<NodeIndex, usize> {
    let nodes: Vec<NodeIndex> = topology.node_indices().collect();
    let next = successors(topology);
    let outputs = |i: NodeIndex| next.get(&i).into_iter().flatten().copied();
    let mut waiting: HashMap<NodeIndex, usize> = nodes.iter().map(|&i| (i, 0)).collect();
    for &i in &nodes {
        for to in outputs(i) {
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
        for to in outputs(i) {
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
        let by_name: BTreeMap<String, Pos> = layered_positions(&t).into_iter().collect();
        layered(&mut t);
        let pos = |n: &str| t.node_by_name(n).unwrap().pos;
        assert_eq!(pos("z"), by_name["z"], "both entry points agree");
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

    #[test]
    fn layers_follow_the_flow() {
        let mut t = Topology::new("t");
        for (n, r) in [
            ("s", Role::Spout),
            ("a", Role::Bolt),
            ("b", Role::Bolt),
            ("c", Role::Bolt),
        ] {
            t.add_node(Node::new(n, r, "map")).unwrap();
        }
        for (a, b) in [("s", "a"), ("a", "b"), ("s", "c"), ("b", "c")] {
            t.connect_names(a, b, DEFAULT_STREAM, Grouping::Shuffle)
                .unwrap();
        }
        let pos: BTreeMap<String, Pos> = layered_positions(&t).into_iter().collect();
        assert!(pos["s"].0 < pos["a"].0);
        assert!(pos["a"].0 < pos["b"].0);
        assert!(
            pos["b"].0 < pos["c"].0,
            "c sits after its furthest upstream"
        );
    }

    #[test]
    fn barycentre_sweeps_uncross_edges_that_name_order_would_cross() {
        let mut t = Topology::new("t");
        for name in ["s1", "s2"] {
            t.add_node(Node::new(name, Role::Spout, "x")).unwrap();
        }
        for name in ["a", "b"] {
            t.add_node(Node::new(name, Role::Bolt, "x")).unwrap();
        }
        for (from, to) in [("s1", "b"), ("s2", "a")] {
            t.connect_names(from, to, DEFAULT_STREAM, Grouping::Shuffle)
                .unwrap();
        }
        let pos: BTreeMap<String, Pos> = layered_positions(&t).into_iter().collect();
        assert_eq!(pos["s1"].1, pos["b"].1, "b follows s1 across");
        assert_eq!(pos["s2"].1, pos["a"].1, "a follows s2 across");
    }

    #[test]
    fn each_agent_gets_its_own_band() {
        let mut t = Topology::new("t");
        for (name, agent) in [("p", "one"), ("q", "two"), ("r", "one")] {
            let mut node = Node::new(name, Role::Source, "seq");
            node.agent = Some(agent.into());
            t.add_node(node).unwrap();
        }
        let pos: BTreeMap<String, Pos> = layered_positions(&t).into_iter().collect();
        assert_eq!(pos["p"], Pos(LEFT, TOP));
        assert_eq!(pos["r"], Pos(LEFT, TOP + ROW));
        assert_eq!(pos["q"], Pos(LEFT, TOP + 2.0 * ROW + BAND_GAP));
    }

    fn in_agent(name: &str, role: Role, component: &str, agent: &str) -> Node {
        let mut node = Node::new(name, role, component);
        node.agent = Some(agent.into());
        node
    }

    #[test]
    fn an_avro_hop_runs_left_to_right_and_a_chain_of_agents_shares_a_row() {
        let mut t = Topology::new("t");
        // The downstream agent sorts first by name: flow order, not names, must decide.
        for node in [
            in_agent("in", Role::Source, "avro_source", "collector"),
            in_agent("keep", Role::Channel, "memory", "collector"),
            in_agent("store", Role::Sink, "logger", "collector"),
            in_agent("read", Role::Source, "sequence", "edge"),
            in_agent("buffer", Role::Channel, "memory", "edge"),
            in_agent("forward", Role::Sink, "avro_sink", "edge"),
        ] {
            t.add_node(node).unwrap();
        }
        for (from, to, g) in [
            ("in", "keep", Grouping::Required),
            ("keep", "store", Grouping::Drain),
            ("read", "buffer", Grouping::Required),
            ("buffer", "forward", Grouping::Drain),
        ] {
            t.connect_names(from, to, DEFAULT_STREAM, g).unwrap();
        }
        let pos: BTreeMap<String, Pos> = layered_positions(&t).into_iter().collect();
        assert!(pos["forward"].0 < pos["in"].0, "the hop runs left to right");
        assert_eq!(
            pos["read"],
            Pos(LEFT, TOP),
            "the upstream agent comes first"
        );
        assert_eq!(
            pos["in"],
            Pos(LEFT + 3.0 * COLUMN, TOP),
            "and shares its row"
        );
    }

    #[test]
    fn agents_side_by_side_upstream_stack_and_the_one_they_feed_follows() {
        let mut t = Topology::new("t");
        for agent in ["e1", "e2"] {
            t.add_node(in_agent(
                &format!("{agent}-read"),
                Role::Source,
                "sequence",
                agent,
            ))
            .unwrap();
            t.add_node(in_agent(
                &format!("{agent}-out"),
                Role::Sink,
                "avro_sink",
                agent,
            ))
            .unwrap();
        }
        t.add_node(in_agent("in", Role::Source, "avro_source", "hub"))
            .unwrap();
        let pos: BTreeMap<String, Pos> = layered_positions(&t).into_iter().collect();
        assert_eq!(pos["e1-read"].0, pos["e2-read"].0);
        assert!(pos["e1-read"].1 < pos["e2-read"].1, "the two edges stack");
        assert!(pos["e1-out"].0 < pos["in"].0 && pos["e2-out"].0 < pos["in"].0);
    }
}
