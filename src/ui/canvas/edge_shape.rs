//! Painting one edge: a curve from an output port to an input port, an arrowhead, and a
//! label with stream and grouping such as `fields(word)`.

use egui::epaint::CubicBezierShape;
use egui::{
    Align2, Color32, CornerRadius, FontId, Painter, Pos2, Rect, Shape, Stroke, Vec2, Visuals,
};

use super::style;
use crate::model::{DEFAULT_STREAM, Edge};

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

/// Text on an edge's label: the grouping, prefixed by the stream when it is not the
/// default one (`errors: shuffle`).
pub fn label_text(edge: &Edge) -> String {
    if edge.stream == DEFAULT_STREAM {
        edge.grouping.label()
    } else {
        format!("{}: {}", edge.stream, edge.grouping.label())
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

/// Paints the label centred a little above the curve's middle; returns its rectangle
/// (the clickable handle of the edge). When the label would cover one of the nodes it
/// joins (zoomed far out, nodes close together), or the text would be too small to read,
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
    let center = curve.midpoint() - Vec2::new(0.0, 12.0 * zoom);
    let rect = Align2::CENTER_CENTER
        .anchor_size(center, galley.size())
        .expand2(Vec2::new(5.0, 2.0) * zoom.max(0.5));
    if avoid.iter().any(|r| r.intersects(rect)) {
        return handle(painter);
    }
    if !painter.clip_rect().intersects(rect) {
        return rect;
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
}
