//! Auto-layout: arrange a DAG in layers from left to right, the way data flows.
//!
//! Longest-path layering puts every node one layer right of its furthest upstream;
//! a few barycenter sweeps then order each layer to reduce crossings. Simple, fast for
//! hundreds of nodes, and deterministic (ties broken by name) so the same design always
//! gets the same picture.

use std::collections::BTreeMap;

use petgraph::stable_graph::NodeIndex;

use crate::model::{Pos, Topology};

/// Horizontal distance between layers and vertical distance between rows, in canvas
/// units; leaves room for edge labels between nodes.
const LAYER_GAP: f32 = 240.0;
const ROW_GAP: f32 = 110.0;
const ORIGIN: (f32, f32) = (80.0, 80.0);

/// New positions for every node.
pub fn layered_positions(t: &Topology) -> Vec<(String, Pos)> {
    let order = t.reading_order();
    // Layer = longest path from any root; nodes on cycles (invalid designs) still get
    // a layer because reading order lists them last.
    let mut layer: BTreeMap<NodeIndex, usize> = BTreeMap::new();
    for &i in &order {
        let l = t
            .inputs(i)
            .filter_map(|(_, up, _)| layer.get(&up).map(|l| l + 1))
            .max()
            .unwrap_or(0);
        layer.insert(i, l);
    }
    let depth = layer.values().copied().max().map_or(0, |m| m + 1);
    let mut layers: Vec<Vec<NodeIndex>> = vec![Vec::new(); depth];
    for &i in &order {
        if let Some(&l) = layer.get(&i) {
            layers[l].push(i);
        }
    }
    let name = |i: NodeIndex| t.node(i).map(|n| n.name.clone()).unwrap_or_default();
    for l in &mut layers {
        l.sort_by_key(|&i| name(i));
    }
    // Barycenter sweeps: down (by upstream rows), then up (by downstream rows).
    for _ in 0..4 {
        for li in 1..layers.len() {
            let rows = row_index(&layers[li - 1]);
            sort_by_barycenter(&mut layers[li], |i| {
                t.inputs(i)
                    .filter_map(|(_, up, _)| rows.get(&up).copied())
                    .collect()
            });
        }
        for li in (0..layers.len().saturating_sub(1)).rev() {
            let rows = row_index(&layers[li + 1]);
            sort_by_barycenter(&mut layers[li], |i| {
                t.outputs(i)
                    .filter_map(|(_, down, _)| rows.get(&down).copied())
                    .collect()
            });
        }
    }
    let tallest = layers.iter().map(Vec::len).max().unwrap_or(0) as f32;
    let mut out = Vec::new();
    for (li, nodes) in layers.iter().enumerate() {
        // Centre shorter layers against the tallest one.
        let offset = (tallest - nodes.len() as f32) * ROW_GAP / 2.0;
        for (row, &i) in nodes.iter().enumerate() {
            let x = ORIGIN.0 + li as f32 * LAYER_GAP;
            let y = ORIGIN.1 + offset + row as f32 * ROW_GAP;
            out.push((
                name(i),
                Pos((x / 20.0).round() * 20.0, (y / 20.0).round() * 20.0),
            ));
        }
    }
    out
}

fn row_index(layer: &[NodeIndex]) -> BTreeMap<NodeIndex, usize> {
    layer.iter().enumerate().map(|(row, &i)| (i, row)).collect()
}

fn sort_by_barycenter(layer: &mut [NodeIndex], neighbour_rows: impl Fn(NodeIndex) -> Vec<usize>) {
    let current = row_index(layer);
    let mut keyed: Vec<(f32, usize, NodeIndex)> = layer
        .iter()
        .map(|&i| {
            let rows = neighbour_rows(i);
            let own = current.get(&i).copied().unwrap_or(0);
            let bary = if rows.is_empty() {
                own as f32
            } else {
                rows.iter().sum::<usize>() as f32 / rows.len() as f32
            };
            (bary, own, i)
        })
        .collect();
    keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    for (slot, (_, _, i)) in layer.iter_mut().zip(keyed) {
        *slot = i;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DEFAULT_STREAM, Grouping, Node, Role};

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
}
