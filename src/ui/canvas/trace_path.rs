//! Tracer bullets on the canvas: the selected traced tree's path drawn over the edges
//! it took, each edge labelled with how long its tuples waited there (queues and
//! transfer, from the sender's work to the receiver's `execute`), and the tree's
//! emit-to-ack time at its spout.

use std::collections::BTreeMap;
use std::time::Duration;

use egui::{Align2, Color32, FontId, Stroke, Vec2};

use super::edge_shape::{EdgeCurve, paint_curve};
use super::frame::Frame;

/// One traced tree's path, as the canvas draws it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TracePath {
    pub spout: String,
    /// (sending node, receiving node) → the longest wait of a hop on that edge.
    pub edges: BTreeMap<(String, String), Duration>,
    /// Emit to the acker's verdict.
    pub total: Option<Duration>,
    pub ok: bool,
}

impl TracePath {
    pub fn of(tree: &crate::runtime::TracedTree) -> TracePath {
        let mut edges: BTreeMap<(String, String), Duration> = BTreeMap::new();
        for hop in &tree.hops {
            let e = edges
                .entry((hop.from_node.clone(), hop.node.clone()))
                .or_default();
            *e = (*e).max(hop.waited);
        }
        TracePath {
            spout: tree.spout.clone(),
            edges,
            total: tree.complete_latency(),
            ok: tree.done.is_some_and(|d| d.ok) && tree.hops.iter().all(|h| h.ok),
        }
    }
}

/// `0.42 ms`, `12 ms`, `1.3 s`.
pub fn latency_text(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms >= 1000.0 {
        format!("{:.1} s", ms / 1000.0)
    } else if ms >= 10.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{ms:.2} ms")
    }
}

pub(super) fn trace_path_ui(f: &Frame<'_>, path: &TracePath) {
    let color = Color32::from_rgb(0xf0, 0xb0, 0x30);
    let stroke = Stroke::new((3.0 * f.zoom).clamp(2.0, 5.0), color);
    let font = FontId::proportional((11.0 * f.zoom).clamp(9.0, 13.0));
    for ((from, to), waited) in &path.edges {
        let (Some(a), Some(b)) = (f.node_rects.get(from), f.node_rects.get(to)) else {
            continue;
        };
        let curve = EdgeCurve::between(a.right_center(), b.left_center(), f.zoom);
        paint_curve(&f.painter, &curve, stroke);
        f.painter.text(
            curve.at(0.5) + Vec2::new(0.0, 12.0 * f.zoom.max(0.6)),
            Align2::CENTER_TOP,
            format!("+{}", latency_text(*waited)),
            font.clone(),
            color,
        );
    }
    if let Some(rect) = f.node_rects.get(&path.spout) {
        let verdict = if path.ok { "acked" } else { "failed" };
        let text = match path.total {
            Some(t) => format!("traced tree {verdict} in {}", latency_text(t)),
            None => "traced tree in flight".to_string(),
        };
        f.painter.text(
            rect.center_bottom() + Vec2::new(0.0, 22.0 * f.zoom.max(0.6)),
            Align2::CENTER_TOP,
            text,
            font,
            color,
        );
    }
}
