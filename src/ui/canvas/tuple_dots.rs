//! Lab mode's tuples on the canvas: each queued tuple is a dot above its destination
//! node, one row per receiving task; each parked tuple (its queue was full) is a dot on
//! the edge it waits on. Hovering a dot shows its values and tasks. At most
//! [`MAX_DOTS`] are drawn; the rest are counted, so a busy lab stays cheap to draw.

use std::collections::BTreeMap;

use egui::{Align2, Color32, FontId, Pos2, Rect, Sense, Stroke, Ui, Vec2};

use super::edge_shape::EdgeCurve;
use super::frame::Frame;

/// The most dots drawn in one frame.
pub const MAX_DOTS: usize = 300;
/// Rows of dots above a node; tasks beyond share the last row.
const MAX_ROWS: usize = 6;
/// Half the width of a node's rate pill at zoom 1, which the dots keep clear of.
const PILL_HALF_WIDTH: f32 = 34.0;

/// One tuple to draw.
#[derive(Debug, Clone, PartialEq)]
pub struct TupleDot {
    /// The receiving task (Storm task id).
    pub task: u32,
    /// The receiving task's place among its node's tasks (its row).
    pub lane: usize,
    /// What hovering shows: values, from and to tasks.
    pub text: String,
}

/// The tuples the lab holds now, as the canvas draws them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TupleDots {
    /// Queued tuples by destination node.
    pub queued: BTreeMap<String, Vec<TupleDot>>,
    /// Parked tuples by (sending node, receiving node).
    pub parked: BTreeMap<(String, String), Vec<TupleDot>>,
    /// Tuples beyond [`MAX_DOTS`], counted but not drawn.
    pub hidden: usize,
}

impl TupleDots {
    /// Dots drawn (not counting hidden ones).
    pub fn drawn(&self) -> usize {
        self.queued.values().map(Vec::len).sum::<usize>()
            + self.parked.values().map(Vec::len).sum::<usize>()
    }
}

/// Draws the dots over the nodes and edges of `f`, and the hovered dot's tooltip.
pub(super) fn tuple_dots_ui(ui: &Ui, f: &Frame<'_>, dots: &TupleDots) {
    let radius = (3.0 * f.zoom).clamp(1.8, 5.0);
    let gap = radius * 2.5;
    let pointer = f.pointer_in_rect();
    let near = |p: Pos2| pointer.is_some_and(|q| q.distance(p) <= radius + 2.0);
    let mut hovered: Option<(Pos2, &str)> = None;
    let queued_color = Color32::from_rgb(0x40, 0x90, 0xe0);
    let parked_color = Color32::from_rgb(0xe0, 0x80, 0x30);
    let outline = Stroke::new(1.0, f.visuals.extreme_bg_color);
    for (node, list) in &dots.queued {
        let Some(rect) = f.node_rects.get(node) else {
            continue;
        };
        // Rows run from the node's left edge to short of its rate pill (centred above).
        let room = rect.width() * 0.5 - PILL_HALF_WIDTH * f.zoom - gap;
        let per_row = ((room / gap).floor() as usize).max(1);
        let mut in_row: BTreeMap<usize, usize> = BTreeMap::new();
        for dot in list {
            let row = dot.lane.min(MAX_ROWS - 1);
            let k = in_row.entry(row).or_default();
            *k += 1;
            if *k > per_row {
                continue;
            }
            let p = Pos2::new(
                rect.left() + gap * (*k as f32),
                rect.top() - gap * (row as f32 + 0.8),
            );
            if !f.rect.contains(p) {
                continue;
            }
            f.painter.circle(p, radius, queued_color, outline);
            if near(p) {
                hovered = Some((p, &dot.text));
            }
        }
        for (row, count) in in_row {
            if count > per_row {
                f.painter.text(
                    Pos2::new(
                        rect.left() + gap * (per_row as f32 + 0.6),
                        rect.top() - gap * (row as f32 + 0.8),
                    ),
                    Align2::LEFT_CENTER,
                    format!("+{}", count - per_row),
                    FontId::proportional((9.0 * f.zoom).clamp(8.0, 12.0)),
                    f.visuals.text_color(),
                );
            }
        }
    }
    for ((from, to), list) in &dots.parked {
        let (Some(a), Some(b)) = (f.node_rects.get(from), f.node_rects.get(to)) else {
            continue;
        };
        let curve = EdgeCurve::between(a.right_center(), b.left_center(), f.zoom);
        let shown = list.len().min(12);
        for (i, dot) in list.iter().take(shown).enumerate() {
            // Spread along the edge's last half, nearest the full queue.
            let t = 0.9 - 0.4 * (i as f32) / (shown.max(2) - 1) as f32;
            let p = curve.at(t);
            f.painter.circle(p, radius, parked_color, outline);
            if near(p) {
                hovered = Some((p, &dot.text));
            }
        }
        if list.len() > shown {
            f.painter.text(
                curve.at(0.5) + Vec2::new(0.0, -10.0),
                Align2::CENTER_BOTTOM,
                format!("{} parked", list.len()),
                FontId::proportional(11.0),
                parked_color,
            );
        }
    }
    if dots.hidden > 0 {
        f.painter.text(
            f.rect.left_top() + Vec2::new(10.0, 28.0),
            Align2::LEFT_TOP,
            format!("{} more tuples queued (not drawn)", dots.hidden),
            FontId::proportional(12.0),
            f.visuals.warn_fg_color,
        );
    }
    // Only the dot under the pointer becomes a widget, so hovering costs one.
    if let Some((p, text)) = hovered {
        let rect = Rect::from_center_size(p, Vec2::splat(radius * 2.0 + 4.0));
        let id = ui.scope_id().with("lab tuple dot");
        ui.interact(rect, id, Sense::hover()).on_hover_text(text);
    }
}
