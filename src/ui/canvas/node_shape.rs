//! Painting one node: a shape that says what the node *is* (a spout emits, a channel
//! buffers, a sink drains), its name, component and parallelism.

use std::sync::Arc;

use egui::epaint::{PathShape, PathStroke};
use egui::text::{LayoutJob, TextFormat, TextWrapping};
use egui::{
    Color32, CornerRadius, FontId, Galley, Painter, Pos2, Rect, Shape, Stroke, StrokeKind, Vec2,
    Visuals,
};

use super::style::{self, NODE_SIZE, PORT_RADIUS};
use crate::components;
use crate::model::{Node, Role};

/// The node's rectangle in canvas space (its position is the top-left corner).
pub fn rect_in_canvas(node: &Node) -> Rect {
    Rect::from_min_size(Pos2::new(node.pos.0, node.pos.1), NODE_SIZE)
}

/// Where edges arrive, in canvas space.
pub fn input_port_in_canvas(node: &Node) -> Pos2 {
    rect_in_canvas(node).left_center()
}

/// Where edges leave, in canvas space.
pub fn output_port_in_canvas(node: &Node) -> Pos2 {
    rect_in_canvas(node).right_center()
}

/// How a node should be drawn this frame.
pub struct NodeLook {
    pub selected: bool,
    pub hovered: bool,
    pub has_error: bool,
    /// A connection is being dragged and this node would (true) or would not (false)
    /// accept it; `None` when no connection is being dragged.
    pub drop_ok: Option<bool>,
}

/// Paints a node into `rect_on_screen`; `zoom` scales text and strokes.
pub fn paint_node(
    painter: &Painter,
    visuals: &Visuals,
    node: &Node,
    rect_on_screen: Rect,
    zoom: f32,
    look: &NodeLook,
) {
    // Off-screen nodes cost nothing (their text would be laid out for nothing).
    let reach = rect_on_screen.expand((PORT_RADIUS + 6.0) * zoom.max(0.5) + 2.0);
    if !painter.clip_rect().intersects(reach) {
        return;
    }
    let accent = style::accent(node);
    let fill = style::body_fill(accent, visuals);
    let mut outline = Stroke::new((1.5 * zoom).max(1.0), accent);
    if look.hovered {
        outline.width *= 1.6;
    }
    if look.has_error {
        outline = Stroke::new((2.5 * zoom).max(1.5), style::problem_color(visuals));
    }
    if let Some(ok) = look.drop_ok {
        let color = if ok {
            visuals.selection.stroke.color
        } else {
            style::problem_color(visuals)
        };
        outline = Stroke::new((2.5 * zoom).max(1.5), color);
    }
    if look.selected {
        let halo = rect_on_screen.expand(4.0 * zoom);
        painter.rect_stroke(
            halo,
            CornerRadius::same((10.0 * zoom) as u8),
            Stroke::new((2.0 * zoom).max(1.5), visuals.selection.stroke.color),
            StrokeKind::Outside,
        );
    }
    paint_body(
        painter,
        node.role,
        rect_on_screen,
        zoom,
        fill,
        outline,
        accent,
    );
    paint_labels(painter, visuals, node, rect_on_screen, zoom, accent);
    paint_ports(painter, visuals, node, rect_on_screen, zoom, accent);
}

fn paint_body(
    painter: &Painter,
    role: Role,
    r: Rect,
    zoom: f32,
    fill: Color32,
    outline: Stroke,
    accent: Color32,
) {
    let tip = 14.0 * zoom;
    match role {
        // Emitters are arrows pointing downstream.
        Role::Spout | Role::Source => {
            let points = vec![
                r.left_top(),
                Pos2::new(r.right() - tip, r.top()),
                r.right_center(),
                Pos2::new(r.right() - tip, r.bottom()),
                r.left_bottom(),
            ];
            painter.add(Shape::convex_polygon(points, fill, PathStroke::NONE));
            // A solid band on the left: "this is where data enters the topology".
            let band =
                Rect::from_min_max(r.left_top(), Pos2::new(r.left() + 6.0 * zoom, r.bottom()));
            painter.rect_filled(band, CornerRadius::ZERO, accent);
            let outline_points = vec![
                r.left_top(),
                Pos2::new(r.right() - tip, r.top()),
                r.right_center(),
                Pos2::new(r.right() - tip, r.bottom()),
                r.left_bottom(),
            ];
            painter.add(PathShape::closed_line(outline_points, outline));
        }
        // A sink takes data in at a notch, like a drain.
        Role::Sink => {
            let notch = Pos2::new(r.left() + tip, r.center().y);
            let upper = vec![r.left_top(), r.right_top(), r.right_center(), notch];
            let lower = vec![notch, r.right_center(), r.right_bottom(), r.left_bottom()];
            painter.add(Shape::convex_polygon(upper, fill, PathStroke::NONE));
            painter.add(Shape::convex_polygon(lower, fill, PathStroke::NONE));
            let band =
                Rect::from_min_max(Pos2::new(r.right() - 6.0 * zoom, r.top()), r.right_bottom());
            painter.rect_filled(band, CornerRadius::ZERO, accent);
            let outline_points = vec![
                r.left_top(),
                r.right_top(),
                r.right_bottom(),
                r.left_bottom(),
                notch,
            ];
            painter.add(PathShape::closed_line(outline_points, outline));
        }
        // A channel is a queue: a pill with cells along its floor.
        Role::Channel => {
            let radius = CornerRadius::same((r.height() / 2.0).min(255.0) as u8);
            painter.rect(r, radius, fill, outline, StrokeKind::Inside);
            let cells = 8;
            let floor = Rect::from_min_max(
                Pos2::new(r.left() + r.height() * 0.45, r.bottom() - 9.0 * zoom),
                Pos2::new(r.right() - r.height() * 0.45, r.bottom() - 4.0 * zoom),
            );
            let w = floor.width() / cells as f32;
            for i in 0..cells {
                let cell = Rect::from_min_size(
                    Pos2::new(floor.left() + i as f32 * w, floor.top()),
                    Vec2::new(w - 2.0 * zoom, floor.height()),
                );
                let alpha = if i < 3 { 255 } else { 70 };
                painter.rect_filled(
                    cell,
                    CornerRadius::same(1),
                    accent.gamma_multiply(alpha as f32 / 255.0),
                );
            }
        }
        Role::Bolt => {
            painter.rect(
                r,
                CornerRadius::same((8.0 * zoom) as u8),
                fill,
                outline,
                StrokeKind::Inside,
            );
        }
    }
}

fn paint_labels(
    painter: &Painter,
    visuals: &Visuals,
    node: &Node,
    r: Rect,
    zoom: f32,
    accent: Color32,
) {
    if zoom < style::DETAIL_ZOOM {
        return;
    }
    let left = r.left() + 14.0 * zoom;
    let right_limit = match node.role {
        Role::Spout | Role::Source => r.right() - 18.0 * zoom,
        Role::Sink => r.right() - 10.0 * zoom,
        Role::Channel => r.right() - r.height() * 0.35,
        _ => r.right() - 8.0 * zoom,
    };
    let left = match node.role {
        Role::Sink => left + 8.0 * zoom,
        Role::Channel => r.left() + r.height() * 0.4,
        _ => left,
    };
    let detail_color = if visuals.dark_mode {
        style::mix(accent, visuals.text_color(), 0.35)
    } else {
        style::mix(accent, Color32::BLACK, 0.45)
    };
    let small = FontId::proportional(11.0 * zoom);
    let top = r.top() + 5.0 * zoom;
    // Line 1: the role in the engine's own word, and parallelism (Storm's executor
    // count, e.g. ×4) on the right.
    let par_text = if node.task_count() != node.parallelism {
        format!("×{} · {} tasks", node.parallelism, node.task_count())
    } else {
        format!("×{}", node.parallelism)
    };
    let par = painter.layout_no_wrap(par_text, small.clone(), visuals.text_color());
    let par_pos = Pos2::new(right_limit - par.size().x, top);
    let role = role_word(node);
    let role = one_line(
        painter,
        &role,
        FontId::proportional(10.0 * zoom),
        detail_color,
        (par_pos.x - left - 4.0 * zoom).max(10.0),
    );
    painter.galley(Pos2::new(left, top + 1.0 * zoom), role, detail_color);
    painter.galley(par_pos, par, visuals.text_color());
    // Line 2: the name, the node's identity.
    let name = one_line(
        painter,
        &node.name,
        FontId::proportional(15.0 * zoom),
        visuals.strong_text_color(),
        right_limit - left,
    );
    painter.galley(
        Pos2::new(left, top + 15.0 * zoom),
        name,
        visuals.strong_text_color(),
    );
    // Line 3: the component it runs.
    let component = one_line(
        painter,
        &node.component,
        small,
        visuals.text_color(),
        right_limit - left,
    );
    painter.galley(
        Pos2::new(left, top + 35.0 * zoom),
        component,
        visuals.text_color(),
    );
}

/// The role as a small caps label, with "window" for Spark-style windowed bolts.
fn role_word(node: &Node) -> String {
    let word = if node.window.is_some() && node.role == Role::Bolt {
        "window bolt"
    } else {
        node.role.label()
    };
    word.to_uppercase()
}

/// Lays text out on one line, cut with `…` at `max_width`, so long names never spill out
/// of their node.
pub fn one_line(
    painter: &Painter,
    text: &str,
    font: FontId,
    color: Color32,
    max_width: f32,
) -> Arc<Galley> {
    let mut job = LayoutJob::single_section(text.to_string(), TextFormat::simple(font, color));
    job.wrap = TextWrapping {
        max_width,
        max_rows: 1,
        break_anywhere: true,
        overflow_character: Some('…'),
    };
    painter.layout_job(job)
}

fn paint_ports(
    painter: &Painter,
    visuals: &Visuals,
    node: &Node,
    r: Rect,
    zoom: f32,
    accent: Color32,
) {
    let radius = (PORT_RADIUS * zoom).max(3.0);
    let ring = Stroke::new((1.5 * zoom).max(1.0), visuals.panel_fill);
    if node.role.accepts_input() {
        style::ringed_dot(painter, r.left_center(), radius, accent, ring);
    }
    if components::emits(node) {
        style::ringed_dot(painter, r.right_center(), radius, accent, ring);
    }
}
