//! Painting one edge: a curve from an output port to an input port, an arrowhead, and a
//! label with stream and grouping such as `fields(word)` (`by key (word)` in micro-batch
//! mode).

use egui::epaint::CubicBezierShape;
use egui::{
    Align2, Color32, CornerRadius, FontId, Painter, Pos2, Rect, Shape, Stroke, Vec2, Visuals,
};

use super::style;
use crate::model::{DEFAULT_STREAM, Edge, ExecutionMode};

/// How far, in screen points, the straight pieces an edge is drawn with may stray from
/// the true curve: short edges (zoomed out) get a few pieces, long ones more.
const CURVE_TOLERANCE: f32 = 0.2;

/// The curve of an edge on screen, kept for hit testing and label placement.
#[derive(Debug, Clone, Copy)]
pub struct EdgeCurve {
    pub points: [Pos2; 4],
}

impl EdgeCurve {
    /// A horizontal S-curve between two ports (both on screen).
    pub fn between(from_on_screen: Pos2, to_on_screen: Pos2, zoom: f32) -> Self {
        let dx = ((to_on_screen.x - from_on_screen.x).abs() * 0.5).max(40.0 * zoom);
        Self {
            points: [
                from_on_screen,
                from_on_screen + Vec2::new(dx, 0.0),
                to_on_screen - Vec2::new(dx, 0.0),
                to_on_screen,
            ],
        }
    }

    fn shape(&self) -> CubicBezierShape {
        CubicBezierShape::from_points_stroke(self.points, false, Color32::TRANSPARENT, Stroke::NONE)
    }

    /// True when the curve is (within drawing tolerance) its chord: both control points
    /// lie on the segment between the ends, as for nodes side by side.
    fn is_straight(&self) -> bool {
        let [a, c1, c2, b] = self.points;
        let chord = b - a;
        let len2 = chord.length_sq();
        if len2 <= f32::EPSILON {
            return false;
        }
        [c1, c2].iter().all(|&c| {
            let along = (c - a).dot(chord) / len2;
            (0.0..=1.0).contains(&along) && distance_to_segment(c, a, b) < CURVE_TOLERANCE
        })
    }

    /// The point at `t` (0 = the output port, 1 = the input port).
    pub fn at(&self, t: f32) -> Pos2 {
        self.shape().sample(t)
    }

    pub fn midpoint(&self) -> Pos2 {
        self.shape().sample(0.5)
    }

    /// Distance on screen from a point to the curve.
    pub fn distance_to(&self, pos_on_screen: Pos2) -> f32 {
        let samples: Vec<Pos2> = (0..=24)
            .map(|i| self.shape().sample(i as f32 / 24.0))
            .collect();
        samples
            .windows(2)
            .map(|w| distance_to_segment(pos_on_screen, w[0], w[1]))
            .fold(f32::INFINITY, f32::min)
    }
}

fn distance_to_segment(p: Pos2, a: Pos2, b: Pos2) -> f32 {
    let ab = b - a;
    let len2 = ab.length_sq();
    if len2 <= f32::EPSILON {
        return (p - a).length();
    }
    let t = ((p - a).dot(ab) / len2).clamp(0.0, 1.0);
    (p - (a + ab * t)).length()
}

/// Text on an edge's label: the grouping as the topology's mode names it
/// ([`crate::model::Grouping::label_in`]: `fields(word)`, or `by key (word)` in
/// micro-batch mode), prefixed by the stream when it is not the default one
/// (`errors: shuffle`).
pub fn label_text(edge: &Edge, mode: ExecutionMode) -> String {
    let grouping = edge.grouping.label_in(mode);
    if edge.stream == DEFAULT_STREAM {
        grouping
    } else {
        format!("{}: {grouping}", edge.stream)
    }
}

/// Paints the curve and arrowhead.
pub fn paint_curve(painter: &Painter, curve: &EdgeCurve, stroke: Stroke) {
    let size = 4.0 + stroke.width * 2.0;
    // The curve stays inside its control points' box: skip edges out of view.
    if !painter
        .clip_rect()
        .intersects(Rect::from_points(&curve.points).expand(size))
    {
        return;
    }
    // As many pieces as the curve's size on screen needs, so hundreds of edges zoomed
    // out stay cheap to tessellate, a long edge zoomed in stays smooth, and an edge between
    // nodes side by side is one straight piece.
    let points = if curve.is_straight() {
        vec![curve.points[0], curve.points[3]]
    } else {
        curve.shape().flatten(Some(CURVE_TOLERANCE))
    };
    painter.add(Shape::line(points, stroke));
    let tip = curve.points[3];
    let back = (curve.points[3] - curve.points[2]).normalized();
    let back = if back.is_finite() { back } else { Vec2::X };
    let side = back.rot90() * size * 0.6;
    let base = tip - back * size;
    painter.add(Shape::convex_polygon(
        vec![tip, base + side, base - side],
        stroke.color,
        Stroke::NONE,
    ));
}

/// Where an edge's label of `size` goes: centred a little above the curve's middle, or,
/// when that would cover one of the nodes it joins (nodes side by side leave a gap
/// narrower than `fields(word, count)`), just above both nodes, else just below them.
/// `None` when every place covers a node.
pub fn label_place(curve: &EdgeCurve, size: Vec2, zoom: f32, avoid: [Rect; 2]) -> Option<Rect> {
    let pad = Vec2::new(5.0, 2.0) * zoom.max(0.5);
    let mid = curve.midpoint();
    let box_at = |center: Pos2| Align2::CENTER_CENTER.anchor_size(center, size).expand2(pad);
    let gap = 4.0 * zoom;
    let half = size.y / 2.0 + pad.y;
    let top = avoid[0].top().min(avoid[1].top());
    let bottom = avoid[0].bottom().max(avoid[1].bottom());
    [
        mid - Vec2::new(0.0, 12.0 * zoom),
        Pos2::new(mid.x, top - gap - half),
        Pos2::new(mid.x, bottom + gap + half),
    ]
    .into_iter()
    .map(box_at)
    .find(|rect| !avoid.iter().any(|r| r.intersects(*rect)))
}

/// Paints the label (see [`label_place`]); returns its rectangle (the clickable handle
/// of the edge). A label moved off the curve gets a short leader line to it. When there
/// is no place for the label, or its text would be too small to read (zoomed far out),
/// a small handle stands in for it and the text moves to the hover tooltip.
pub fn paint_label(
    painter: &Painter,
    visuals: &Visuals,
    curve: &EdgeCurve,
    text: &str,
    zoom: f32,
    highlight: Option<Color32>,
    avoid: [Rect; 2],
) -> Rect {
    let stroke = match highlight {
        Some(color) => Stroke::new(2.0, color),
        None => Stroke::new(1.0, visuals.widgets.noninteractive.bg_stroke.color),
    };
    let handle = |painter: &Painter| {
        let handle = Rect::from_center_size(curve.midpoint(), Vec2::splat(10.0));
        if painter.clip_rect().intersects(handle) {
            style::ringed_dot(
                painter,
                handle.center(),
                4.0,
                visuals.extreme_bg_color,
                stroke,
            );
        }
        handle
    };
    if zoom < style::DETAIL_ZOOM {
        return handle(painter);
    }
    let font = FontId::proportional((12.0 * zoom).max(7.0));
    let galley = painter.layout_no_wrap(text.to_string(), font, visuals.text_color());
    let Some(rect) = label_place(curve, galley.size(), zoom, avoid) else {
        return handle(painter);
    };
    if !painter.clip_rect().intersects(rect) {
        return rect;
    }
    let mid = curve.midpoint();
    if !rect.expand(2.0).contains(mid) && (rect.center().y - mid.y).abs() > 20.0 * zoom {
        let end = if rect.center().y < mid.y {
            rect.center_bottom()
        } else {
            rect.center_top()
        };
        painter.line_segment([end, mid], Stroke::new(1.0, stroke.color));
    }
    painter.rect(
        rect,
        CornerRadius::same(4),
        visuals.extreme_bg_color,
        stroke,
        egui::StrokeKind::Inside,
    );
    painter.galley(
        rect.center() - galley.size() / 2.0,
        galley,
        visuals.text_color(),
    );
    rect
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn side_by_side_ports_make_a_straight_edge() {
        let curve = EdgeCurve::between(Pos2::new(0.0, 50.0), Pos2::new(90.0, 50.0), 1.0);
        assert!(curve.is_straight());
    }

    #[test]
    fn offset_or_backward_edges_stay_curved() {
        let down = EdgeCurve::between(Pos2::new(0.0, 0.0), Pos2::new(90.0, 100.0), 1.0);
        assert!(!down.is_straight());
        // Same height but going back: the curve swings out past both ends.
        let back = EdgeCurve::between(Pos2::new(100.0, 0.0), Pos2::new(0.0, 0.0), 1.0);
        assert!(!back.is_straight());
    }

    /// Two nodes side by side, as Auto layout places them (150 wide, 240 apart).
    fn side_by_side(zoom: f32) -> (EdgeCurve, [Rect; 2]) {
        let a = Rect::from_min_size(Pos2::new(80.0 * zoom, 80.0 * zoom), style::NODE_SIZE * zoom);
        let b = a.translate(Vec2::new(240.0 * zoom, 0.0));
        (
            EdgeCurve::between(a.right_center(), b.left_center(), zoom),
            [a, b],
        )
    }

    #[test]
    fn a_short_label_sits_on_its_edge_between_the_nodes() {
        let (curve, nodes) = side_by_side(1.0);
        let rect = label_place(&curve, Vec2::new(40.0, 14.0), 1.0, nodes).unwrap();
        assert!(rect.contains(curve.midpoint() - Vec2::new(0.0, 12.0)));
    }

    #[test]
    fn a_label_wider_than_the_gap_moves_clear_of_the_nodes_instead_of_shrinking() {
        for zoom in [style::DETAIL_ZOOM, 0.6, 1.0, 2.0] {
            let (curve, nodes) = side_by_side(zoom);
            // `fields(word)` and longer, at the label's font size.
            for width in [80.0, 140.0] {
                let size = Vec2::new(width, 14.0) * zoom;
                let rect = label_place(&curve, size, zoom, nodes).expect("a place");
                assert!(rect.width() >= size.x, "full size at zoom {zoom}");
                assert!(
                    nodes.iter().all(|n| !n.intersects(rect)),
                    "clear of the nodes at zoom {zoom}"
                );
            }
        }
    }
}
