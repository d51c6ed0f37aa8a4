//! Pan and zoom: the one transform between canvas space (where node positions live,
//! in the file) and screen space (where egui draws and the pointer is).

use egui::emath::TSTransform;
use egui::{Pos2, Rect, Vec2};

pub const MIN_ZOOM: f32 = 0.2;
pub const MAX_ZOOM: f32 = 3.0;

/// Where the user is looking. `offset` is the screen position (relative to the canvas
/// widget's top-left) of the canvas origin.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CanvasView {
    pub offset: Vec2,
    pub zoom: f32,
}

impl Default for CanvasView {
    fn default() -> Self {
        Self {
            offset: Vec2::ZERO,
            zoom: 1.0,
        }
    }
}

impl CanvasView {
    /// Maps canvas coordinates to screen coordinates for a canvas widget at `widget_rect`.
    pub fn screen_from_canvas(&self, widget_rect: Rect) -> TSTransform {
        TSTransform::new(widget_rect.min.to_vec2() + self.offset, self.zoom)
    }

    pub fn canvas_from_screen(&self, widget_rect: Rect) -> TSTransform {
        self.screen_from_canvas(widget_rect).inverse()
    }

    pub fn pan(&mut self, delta_on_screen: Vec2) {
        self.offset += delta_on_screen;
    }

    /// Zooms by `factor` keeping the canvas point under `pivot_on_screen` still, so
    /// zooming feels anchored to the cursor.
    pub fn zoom_around(&mut self, widget_rect: Rect, pivot_on_screen: Pos2, factor: f32) {
        let pivot_in_canvas = self.canvas_from_screen(widget_rect) * pivot_on_screen;
        self.zoom = (self.zoom * factor).clamp(MIN_ZOOM, MAX_ZOOM);
        let moved_to = self.screen_from_canvas(widget_rect) * pivot_in_canvas;
        self.offset += pivot_on_screen - moved_to;
    }

    /// Shows all of `content_in_canvas` inside the widget, with a margin, never zooming
    /// in past 1:1 (small designs stay at their natural size).
    pub fn fit(&mut self, widget_rect: Rect, content_in_canvas: Rect) {
        if !content_in_canvas.is_finite() || content_in_canvas.is_negative() {
            *self = Self::default();
            return;
        }
        let margin = 40.0;
        let available = (widget_rect.size() - Vec2::splat(2.0 * margin)).max(Vec2::splat(1.0));
        let size = content_in_canvas.size().max(Vec2::splat(1.0));
        self.zoom = (available.x / size.x)
            .min(available.y / size.y)
            .clamp(MIN_ZOOM, 1.0);
        let content_center = content_in_canvas.center().to_vec2() * self.zoom;
        self.offset = widget_rect.size() / 2.0 - content_center;
    }
}

impl CanvasView {
    /// Like [`Self::fit`], but never below `min_zoom`: when the whole design would be too
    /// small to read, show its upstream (left) end at a readable size instead.
    pub fn fit_readable(&mut self, widget_rect: Rect, content_in_canvas: Rect, min_zoom: f32) {
        self.fit(widget_rect, content_in_canvas);
        if self.zoom >= min_zoom || !content_in_canvas.is_finite() {
            return;
        }
        self.zoom = min_zoom;
        let margin = 40.0;
        self.offset = Vec2::new(
            margin - content_in_canvas.left() * self.zoom,
            widget_rect.height() / 2.0 - content_in_canvas.center().y * self.zoom,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zoom_keeps_the_pivot_still() {
        let rect = Rect::from_min_size(Pos2::new(100.0, 50.0), Vec2::new(800.0, 600.0));
        let mut view = CanvasView::default();
        let pivot = Pos2::new(400.0, 300.0);
        let before = view.canvas_from_screen(rect) * pivot;
        view.zoom_around(rect, pivot, 1.7);
        let after = view.canvas_from_screen(rect) * pivot;
        assert!((before - after).length() < 1e-3);
    }
}
