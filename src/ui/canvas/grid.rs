//! The background grid, and snapping positions to it.

use egui::{Painter, Pos2, Rect, Stroke};

use super::view::CanvasView;

/// Grid pitch in canvas units; node positions snap to it.
pub const GRID: f32 = 20.0;

/// Rounds a canvas position to the nearest grid point.
pub fn snap(pos_in_canvas: Pos2) -> Pos2 {
    Pos2::new(
        (pos_in_canvas.x / GRID).round() * GRID,
        (pos_in_canvas.y / GRID).round() * GRID,
    )
}

/// Draws grid lines (every fifth one stronger), thinning out when zoomed far out so the
/// grid never turns into noise.
pub fn paint_grid(painter: &Painter, rect: Rect, view: &CanvasView, minor: Stroke, major: Stroke) {
    let canvas_from_screen = view.canvas_from_screen(rect);
    let visible_in_canvas = canvas_from_screen * rect;
    let mut pitch = GRID;
    while pitch * view.zoom < 8.0 {
        pitch *= 5.0;
    }
    let screen_from_canvas = view.screen_from_canvas(rect);
    let first_x = (visible_in_canvas.min.x / pitch).floor() as i64;
    let last_x = (visible_in_canvas.max.x / pitch).ceil() as i64;
    for i in first_x..=last_x {
        let x = (screen_from_canvas * Pos2::new(i as f32 * pitch, 0.0)).x;
        let stroke = if i % 5 == 0 { major } else { minor };
        painter.line_segment(
            [Pos2::new(x, rect.top()), Pos2::new(x, rect.bottom())],
            stroke,
        );
    }
    let first_y = (visible_in_canvas.min.y / pitch).floor() as i64;
    let last_y = (visible_in_canvas.max.y / pitch).ceil() as i64;
    for i in first_y..=last_y {
        let y = (screen_from_canvas * Pos2::new(0.0, i as f32 * pitch)).y;
        let stroke = if i % 5 == 0 { major } else { minor };
        painter.line_segment(
            [Pos2::new(rect.left(), y), Pos2::new(rect.right(), y)],
            stroke,
        );
    }
}
