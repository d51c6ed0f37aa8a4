//! Live-run overlays: what a running node is doing, drawn on top of it.
//!
//! These types are the canvas's own, filled from the runtime's metrics snapshot by
//! the run controller, so the canvas never depends on how the engine measures.

use std::collections::BTreeMap;
use std::time::Duration;

use egui::{
    Align2, Color32, CornerRadius, FontId, Painter, Pos2, Rect, Sense, Stroke, StrokeKind, Ui,
    Vec2, Visuals, WidgetInfo,
};

use super::flume_overlay::FlumeStats;
use super::style;
use crate::model::NamedEdge;
use crate::ui::words;

/// One node's numbers for the overlay.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NodeStats {
    /// Tuples per second through the node (emitted for spouts, executed otherwise).
    pub rate: f64,
    pub acked: u64,
    pub failed: u64,
    /// Queue fill, 0..=1, when the node has an input queue.
    pub queue_fill: Option<f32>,
    pub restarts: u64,
    /// Spouts: tuple trees emitted again after they failed or timed out.
    pub replayed: u64,
    /// A node whose tasks keep state in memory (the registry's `task_state`), once a
    /// task of it restarted: what was lost, and when on the run clock.
    pub lost_state: Option<LostState>,
    /// A spout held at max spout pending, in words ("1000/1000 pending — waiting for
    /// acks or timeouts"), so a stall after a crash does not look like a freeze.
    pub stalled: Option<String>,
    /// Window operators in a micro-batch run: span and latest results.
    pub window: Option<super::window_badge::WindowBadge>,
    /// Flume nodes: channel fill, back-pressure, back-off, fail-over (drawn by
    /// `flume_overlay` in place of the ack counts and queue bar).
    pub flume: Option<FlumeStats>,
    /// Where the node's executors run: how many after a rebalance, and on a cluster
    /// the machines they are on.
    pub placement: Option<String>,
}

/// In-memory state a restart threw away: "counts restarted at 12.3 s".
#[derive(Debug, Clone, PartialEq)]
pub struct LostState {
    /// What the component keeps, as the registry names it ("counts", "window").
    pub what: &'static str,
    /// The engine's run clock at the latest restart (not the window's clock).
    pub at: Duration,
}

impl LostState {
    /// The note under the node.
    pub fn text(&self) -> String {
        format!("{} restarted at {:.1} s", self.what, self.at.as_secs_f64())
    }

    /// What the note means.
    pub fn tooltip(&self) -> String {
        format!(
            "This node keeps its {what} in each task's memory. A task of it was \
             restarted at {at:.1} s on the run clock (it crashed, or its worker was \
             killed) and started again from nothing: its {what} began again then. \
             Tuples replayed since are counted anew; nothing restores what was lost.",
            what = self.what,
            at = self.at.as_secs_f64(),
        )
    }
}

/// The replay pill's text: `↻ 12 replayed`.
pub fn replayed_text(replayed: u64) -> String {
    format!("↻ {} replayed", count_text(replayed))
}

/// What the replay pill means.
pub const REPLAYED_TOOLTIP: &str = "Replayed: tuple trees this spout emitted again \
    because they failed or were not completely acked within the message timeout (for \
    example, tuples lost when a task crashed or a worker was killed). Replaying is how a \
    record-at-a-time run delivers every input at least once, so nodes downstream may \
    see some tuples twice.";

/// Tuples one task delivered to one task along an edge: (sending task, receiving task,
/// tuples).
pub type TaskPairCount = (u32, u32, u64);

/// Everything the canvas shows during a run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunOverlay {
    pub nodes: BTreeMap<String, NodeStats>,
    /// (from, to, stream) → tuples per second.
    pub edges: BTreeMap<(String, String, String), f64>,
    /// (from, to, stream) → tuples delivered per (sending task, receiving task), for the
    /// grouping lens; `None` when the run keeps no pair counts for the edge.
    pub pairs: BTreeMap<(String, String, String), Option<Vec<TaskPairCount>>>,
    /// "running", "paused", "finished", …
    pub state: String,
    /// Tracer bullets: the path of the traced tree the inspector shows.
    pub trace: Option<super::trace_path::TracePath>,
}

impl RunOverlay {
    pub fn edge_rate(&self, edge: &NamedEdge) -> Option<f64> {
        self.edges
            .get(&(edge.from.clone(), edge.to.clone(), edge.stream.clone()))
            .copied()
    }
}

/// Edge thickness for a rate: logarithmic, so 10/s and 1M/s are both visible.
pub fn edge_width(rate: f64) -> f32 {
    (1.5 + 1.1 * (1.0 + rate.max(0.0)).log10() as f32).min(9.0)
}

/// `12.3k/s`-style rate text.
pub fn rate_text(per_sec: f64) -> String {
    format!("{}/s", compact(per_sec))
}

/// A count for display: exact, with thousands separators, below 100 000 (a count of 2
/// is `2`, not `2.0`; `12,345`), then short (`123.4k`).
pub fn count_text(n: u64) -> String {
    if n < 100_000 {
        words::thousands(n)
    } else {
        compact(n as f64)
    }
}

/// Short number: 1,980, 12.3k, 4.5M.
pub fn compact(x: f64) -> String {
    let x = x.max(0.0);
    if x >= 1e9 {
        format!("{:.1}G", x / 1e9)
    } else if x >= 1e6 {
        format!("{:.1}M", x / 1e6)
    } else if x >= 1e4 {
        format!("{:.1}k", x / 1e3)
    } else if x >= 10.0 || x == 0.0 {
        words::thousands(x.round() as u64)
    } else {
        format!("{x:.1}")
    }
}

/// Draws the rate badge above the node, the ack/fail line and queue bar below it, and a
/// restart marker at its corner. Zoomed far out (below [`style::DETAIL_ZOOM`]) the node
/// carries no text of its own, so the rate badge moves inside it and the ack/fail line
/// is left out: failures still show as a red badge.
pub fn paint_node_overlay(
    painter: &Painter,
    visuals: &Visuals,
    node_on_screen: Rect,
    zoom: f32,
    stats: &NodeStats,
) {
    let z = zoom.max(0.5);
    // Numbers change with every snapshot, so their text is laid out anew: only for nodes
    // in view.
    if !painter
        .clip_rect()
        .intersects(node_on_screen.expand2(Vec2::new(4.0, 40.0) * z))
    {
        return;
    }
    let failing = stats.failed > 0;
    let badge_fill = if failing {
        style::problem_color(visuals)
    } else {
        style::rate_pill_fill(visuals)
    };
    let badge_text_color = style::text_on(badge_fill);
    let far = zoom < style::DETAIL_ZOOM;
    let font = if far {
        FontId::proportional((node_on_screen.height() * 0.45).clamp(5.0, 11.0))
    } else {
        FontId::proportional(12.0 * z)
    };
    let galley = painter.layout_no_wrap(rate_text(stats.rate), font, badge_text_color);
    let badge = if far {
        Align2::CENTER_CENTER.anchor_size(node_on_screen.center(), galley.size())
    } else {
        Align2::CENTER_BOTTOM.anchor_size(
            node_on_screen.center_top() - Vec2::new(0.0, 3.0 * z),
            galley.size(),
        )
    }
    .expand2(Vec2::new(6.0, 2.0) * z);
    painter.rect_filled(badge, CornerRadius::same(8), badge_fill);
    painter.galley(
        badge.center() - galley.size() / 2.0,
        galley,
        badge_text_color,
    );

    if stats.flume.is_none() {
        if !far {
            paint_counts(painter, visuals, node_on_screen, z, stats);
        }
        paint_queue(painter, visuals, node_on_screen, z, stats);
    }
    if stats.restarts > 0 {
        paint_restarts(painter, node_on_screen, z, stats.restarts);
    }
    if !far && let Some(window) = &stats.window {
        super::window_badge::paint_window_badge(painter, visuals, node_on_screen, zoom, window);
    }
}

/// The queue fill bar along a node's floor.
fn paint_queue(
    painter: &Painter,
    visuals: &Visuals,
    node_on_screen: Rect,
    z: f32,
    stats: &NodeStats,
) {
    if let Some(fill) = stats.queue_fill {
        let bar = Rect::from_min_size(
            Pos2::new(
                node_on_screen.left() + 12.0 * z,
                node_on_screen.bottom() - 6.0 * z,
            ),
            Vec2::new(node_on_screen.width() - 24.0 * z, 3.0 * z),
        );
        painter.rect_filled(bar, CornerRadius::same(1), visuals.widgets.inactive.bg_fill);
        let fill = fill.clamp(0.0, 1.0);
        let color = if fill > 0.8 {
            style::problem_color(visuals)
        } else {
            Color32::from_rgb(0x40, 0xb0, 0x60)
        };
        let mut filled = bar;
        filled.set_width(bar.width() * fill);
        painter.rect_filled(filled, CornerRadius::same(1), color);
    }
}

/// Where the restart badge sits: over the node's top right corner.
fn restart_badge(
    painter: &Painter,
    node_on_screen: Rect,
    z: f32,
    restarts: u64,
) -> (Rect, std::sync::Arc<egui::Galley>) {
    let at = node_on_screen.right_top() + Vec2::new(-2.0, 2.0) * z;
    let text = format!("⟳{restarts}");
    let g = painter.layout_no_wrap(text, FontId::proportional(11.0 * z), Color32::BLACK);
    let r = Align2::RIGHT_TOP.anchor_size(at, g.size()).expand(2.0 * z);
    (r.translate(Vec2::new(0.0, -r.height() - 4.0 * z)), g)
}

fn paint_restarts(painter: &Painter, node_on_screen: Rect, z: f32, restarts: u64) {
    let (r, g) = restart_badge(painter, node_on_screen, z, restarts);
    painter.rect(
        r,
        CornerRadius::same(3),
        Color32::from_rgb(0xff, 0xc8, 0x40),
        Stroke::NONE,
        StrokeKind::Inside,
    );
    painter.galley(r.center() - g.size() / 2.0, g, Color32::BLACK);
}

/// The ack/fail line below a node.
fn paint_counts(
    painter: &Painter,
    visuals: &Visuals,
    node_on_screen: Rect,
    z: f32,
    stats: &NodeStats,
) {
    let below = node_on_screen.center_bottom() + Vec2::new(0.0, 4.0 * z);
    let counts = format!(
        "✔ {}   ✖ {}",
        count_text(stats.acked),
        count_text(stats.failed)
    );
    let counts_color = if stats.failed > 0 {
        style::problem_color(visuals)
    } else {
        visuals.text_color()
    };
    painter.text(
        below,
        Align2::CENTER_TOP,
        counts,
        FontId::proportional(11.0 * z),
        counts_color,
    );
}

/// What the overlay's marks mean, for the pointer and screen readers: the restart badge
/// explains itself on hover, and notes under the node say what a record-at-a-time run
/// did to it — a stalled spout why it stopped emitting, a spout's replays, a stateful
/// node's state lost at a restart. Each note's text is also its accessible label and
/// explains itself on hover.
pub fn node_notes_ui(
    ui: &Ui,
    painter: &Painter,
    visuals: &Visuals,
    node: &str,
    node_on_screen: Rect,
    zoom: f32,
    stats: &NodeStats,
) {
    let z = zoom.max(0.5);
    if stats.restarts > 0 {
        let (badge, _) = restart_badge(painter, node_on_screen, z, stats.restarts);
        let id = ui.scope_id().with(("restarts", node));
        let response = ui.interact(badge, id, Sense::hover());
        let label = format!("⟳{}", stats.restarts);
        response.widget_info(|| WidgetInfo::labeled(egui::Role::Status, true, &label));
        response.on_hover_text(restarts_tooltip(stats.restarts));
    }
    if zoom < style::DETAIL_ZOOM {
        return;
    }
    // Notes stack under the ack/fail line, one per line.
    let mut y = node_on_screen.bottom() + 19.0 * z;
    // Gives a drawn note its label and hover text; returns where the next one goes.
    let note = |key: &str, rect: Rect, label: &str, hover: &str| {
        let id = ui.scope_id().with((key, node));
        let response = ui.interact(rect, id, Sense::hover());
        response.widget_info(|| WidgetInfo::labeled(egui::Role::Status, true, label));
        response.on_hover_text(hover);
        rect.bottom() + 2.0 * z
    };
    let font = FontId::proportional(11.0 * z);
    if let Some(text) = &stats.stalled {
        let at = Pos2::new(node_on_screen.center().x, y);
        let rect = painter.text(
            at,
            Align2::CENTER_TOP,
            text,
            font.clone(),
            style::note_color(visuals),
        );
        y = note(
            "stalled",
            rect,
            text,
            "Every tuple this spout may have in flight (max spout pending, in the \
             settings) is waiting to be acked, failed or timed out; it emits again as \
             they complete. After a crash, lost tuples free their slots only at the \
             message timeout.",
        );
    }
    if stats.replayed > 0 {
        let text = replayed_text(stats.replayed);
        let fill = style::warn_color();
        let color = style::text_on(fill);
        let galley = painter.layout_no_wrap(text.clone(), font.clone(), color);
        let at = Pos2::new(node_on_screen.center().x, y + 1.0 * z);
        let pill = Align2::CENTER_TOP
            .anchor_size(at, galley.size())
            .expand2(Vec2::new(6.0, 1.0) * z);
        painter.rect_filled(pill, CornerRadius::same(8), fill);
        painter.galley(pill.center() - galley.size() / 2.0, galley, color);
        y = note("replayed", pill, &text, REPLAYED_TOOLTIP);
    }
    if let Some(lost) = &stats.lost_state {
        let text = lost.text();
        let at = Pos2::new(node_on_screen.center().x, y);
        let rect = painter.text(
            at,
            Align2::CENTER_TOP,
            &text,
            font.clone(),
            style::note_color(visuals),
        );
        y = note("lost state", rect, &text, &lost.tooltip());
    }
    if let Some(text) = &stats.placement {
        let at = Pos2::new(node_on_screen.center().x, y);
        let rect = painter.text(
            at,
            Align2::CENTER_TOP,
            text,
            font,
            visuals.weak_text_color(),
        );
        note(
            "placement",
            rect,
            text,
            "Where this node's executors run: how many there are since a rebalance, and the simulated machines they are on (see the cluster panel).",
        );
    }
}

/// What the restart badge means.
pub fn restarts_tooltip(restarts: u64) -> String {
    let times = if restarts == 1 { "once" } else { "times" };
    let count = if restarts == 1 {
        String::new()
    } else {
        format!("{restarts} ")
    };
    format!(
        "Restarted {count}{times}: a task crashed or its worker was killed, and the \
         supervisor started it again with its in-memory state lost. Tuples it held time \
         out and are replayed."
    )
}

/// A small banner in the canvas corner saying the run's state.
pub fn paint_run_banner(painter: &Painter, visuals: &Visuals, canvas: Rect, overlay: &RunOverlay) {
    let text = format!("⏺ {}", overlay.state);
    let color = if overlay.state == "running" {
        Color32::from_rgb(0x40, 0xb0, 0x60)
    } else {
        visuals.warn_fg_color
    };
    painter.text(
        canvas.left_top() + Vec2::new(10.0, 8.0),
        Align2::LEFT_TOP,
        text,
        FontId::proportional(13.0),
        color,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_exact_until_they_get_long() {
        assert_eq!(count_text(0), "0");
        assert_eq!(count_text(2), "2");
        assert_eq!(count_text(99_999), "99,999");
        assert_eq!(rate_text(1_980.0), "1,980/s");
        assert_eq!(count_text(123_456), "123.5k");
        assert_eq!(rate_text(2.0), "2.0/s");
    }

    #[test]
    fn replays_and_lost_state_read_as_words() {
        assert_eq!(replayed_text(12_345), "↻ 12,345 replayed");
        let lost = LostState {
            what: "counts",
            at: Duration::from_millis(12_345),
        };
        assert_eq!(lost.text(), "counts restarted at 12.3 s");
        assert!(lost.tooltip().contains("at 12.3 s on the run clock"));
    }
}
