//! The window caption over a window operator's node during a micro-batch run: its span
//! and the top keys of the latest window, so results are readable without selecting it.

use egui::{Align2, Color32, CornerRadius, FontId, Painter, Rect, Vec2, Visuals};

/// What the caption says, filled by the run controller from the batch metrics.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WindowBadge {
    /// "3s window, slide 1s".
    pub span: String,
    /// "ended 12.0 s", once a window has closed.
    pub ended: Option<String>,
    /// Top keys of the latest window, as `key value` lines.
    pub top: Vec<String>,
}

/// Draws the caption above the node's rate badge (about 22 px tall), where layered
/// layouts leave room; below the node, edges to the next layer would cross it.
pub fn paint_window_badge(
    painter: &Painter,
    visuals: &Visuals,
    node_on_screen: Rect,
    zoom: f32,
    badge: &WindowBadge,
) {
    let z = zoom.max(0.5);
    let mut lines = vec![match &badge.ended {
        Some(ended) => format!("⌛ {} · {ended}", badge.span),
        None => format!("⌛ {}", badge.span),
    }];
    lines.extend(badge.top.iter().cloned());
    let text = lines.join("\n");
    let galley = painter.layout_no_wrap(text, FontId::monospace(10.0 * z), visuals.text_color());
    let bottom_center = node_on_screen.center_top() - Vec2::new(0.0, 26.0 * z);
    let rect = Align2::CENTER_BOTTOM
        .anchor_size(bottom_center, galley.size())
        .expand2(Vec2::new(5.0, 3.0) * z);
    let fill = if visuals.dark_mode {
        Color32::from_black_alpha(170)
    } else {
        Color32::from_white_alpha(220)
    };
    painter.rect_filled(rect, CornerRadius::same(4), fill);
    painter.galley(
        rect.min + Vec2::new(5.0, 3.0) * z,
        galley,
        visuals.text_color(),
    );
}
