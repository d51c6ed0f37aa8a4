//! Live Flume state on the canvas: a channel's fill bar and transaction activity, a
//! source held back by a full channel, a sink backing off or failed over.
//!
//! Like [`super::overlay`], the types are the canvas's own, filled by the run
//! controller from the engine's snapshot. Each Flume node also gets an accessible
//! status (`channel small: 5/5 full, …`) with the details and last error as a tooltip,
//! so screen readers and tests can read what the picture says.

use std::time::Duration;

use egui::{
    Align2, Color32, CornerRadius, FontId, Painter, Pos2, Rect, Sense, Stroke, StrokeKind, Ui,
    Vec2, Visuals, WidgetInfo,
};

use super::overlay::{count_text, rate_text};
use super::style;
use crate::model::{Node, Role, SinkProcessor};

/// A Flume node's numbers for the overlay.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FlumeStats {
    /// Source: events received; channel: puts committed; sink: events taken.
    pub events_in: u64,
    /// Source: events committed to its channels; channel: takes committed; sink: events
    /// delivered.
    pub events_out: u64,
    /// Source: its channel is full and it waits to retry (back-pressure).
    pub blocked: bool,
    /// Source: it ended on its own (a limit reached).
    pub finished: bool,
    pub channel: Option<ChannelStats>,
    pub sink: Option<SinkStats>,
    pub last_error: Option<String>,
}

/// A channel's fill and transactions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChannelStats {
    /// Committed events waiting.
    pub size: u64,
    /// Taken by transactions not yet committed (they still hold a slot).
    pub in_flight: u64,
    pub capacity: u64,
    /// Transactions committed per second (puts and takes).
    pub commit_rate: f64,
    pub rollbacks: u64,
    pub rollback_rate: f64,
    /// Puts that gave up for lack of room.
    pub full_failures: u64,
}

impl ChannelStats {
    /// Slots in use, as the capacity check counts them.
    pub fn used(&self) -> u64 {
        self.size + self.in_flight
    }

    /// Every slot taken: puts wait, sources upstream are pushed back.
    pub fn is_full(&self) -> bool {
        self.capacity > 0 && self.used() >= self.capacity
    }

    /// Shares of the capacity (queued, in flight), each 0..=1 and summing to at most 1.
    pub fn fractions(&self) -> (f32, f32) {
        if self.capacity == 0 {
            return (0.0, 0.0);
        }
        let cap = self.capacity as f64;
        let queued = (self.size as f64 / cap).min(1.0);
        let flying = (self.in_flight as f64 / cap).min(1.0 - queued);
        (queued as f32, flying as f32)
    }

    /// `812/1000`: slots in use of the capacity.
    pub fn fill_text(&self) -> String {
        format!("{}/{}", self.used(), self.capacity)
    }
}

/// A sink's runner and processor state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SinkStats {
    /// Failover: the sink in use; other processors: usable.
    pub active: bool,
    /// Failed over (failover) or blacklisted (load balance).
    pub penalized: bool,
    /// Time left in the penalty, when known.
    pub penalty_left: Option<Duration>,
    /// The runner sleeps in back-off (empty channel or failed delivery).
    pub in_backoff: bool,
    pub failures: u64,
}

/// How alarming a status is; picks its colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Good,
    Quiet,
    Warn,
    Bad,
}

/// The short status a Flume node shows under it, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub text: String,
    pub tone: Tone,
}

fn status(text: impl Into<String>, tone: Tone) -> Option<Status> {
    Some(Status {
        text: text.into(),
        tone,
    })
}

/// `12s`, `<1s`: time left in a penalty.
pub fn time_left(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        "<1s".into()
    } else {
        format!("{}s", d.as_secs_f64().ceil() as u64)
    }
}

/// The status of a node; `group` is the processor of the sink group a sink is in.
pub fn node_status(
    role: Role,
    stats: &FlumeStats,
    group: Option<&SinkProcessor>,
) -> Option<Status> {
    match role {
        Role::Source if stats.blocked => status("blocked · channel full", Tone::Warn),
        Role::Source if stats.finished => status("done", Tone::Quiet),
        Role::Channel => match &stats.channel {
            Some(c) if c.is_full() => status("full", Tone::Bad),
            _ => None,
        },
        Role::Sink => {
            let sink = stats.sink.as_ref()?;
            let failover = matches!(group, Some(SinkProcessor::Failover { .. }));
            if sink.penalized {
                let word = if failover {
                    "failed over"
                } else {
                    "blacklisted"
                };
                let text = match sink.penalty_left {
                    Some(d) => format!("{word} · {}", time_left(d)),
                    None => word.to_string(),
                };
                return status(text, Tone::Bad);
            }
            let backoff = if sink.in_backoff { " · back-off" } else { "" };
            if failover && sink.active {
                status(format!("active{backoff}"), Tone::Good)
            } else if failover {
                status(format!("standby{backoff}"), Tone::Quiet)
            } else if stats.last_error.is_some() && sink.in_backoff {
                status("error · back-off", Tone::Bad)
            } else if sink.in_backoff {
                status("back-off", Tone::Quiet)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// The numbers line under a node: fill for channels, counts for sources and sinks.
pub fn numbers_text(role: Role, stats: &FlumeStats) -> String {
    match (role, &stats.channel) {
        (Role::Channel, Some(c)) if c.in_flight > 0 => {
            format!("{} · {} in flight", c.fill_text(), count_text(c.in_flight))
        }
        (Role::Channel, Some(c)) => c.fill_text(),
        // Delivered and failed deliveries, marked as the Storm overlay marks acks and
        // fails, so the line stays short beside a status.
        (Role::Sink, _) => {
            let failures = stats.sink.as_ref().map_or(0, |s| s.failures);
            let delivered = format!("✔ {}", count_text(stats.events_out));
            if failures > 0 {
                format!("{delivered}  ✖ {}", count_text(failures))
            } else {
                delivered
            }
        }
        _ => format!("{} events", count_text(stats.events_out)),
    }
}

/// A channel's transaction line: commits per second and rollbacks.
pub fn activity_text(c: &ChannelStats) -> String {
    let commits = format!("{} tx", rate_text(c.commit_rate));
    if c.rollbacks > 0 {
        format!("{commits} · {} rollbacks", count_text(c.rollbacks))
    } else {
        commits
    }
}

/// What a screen reader (and the tests) hear for a node's live Flume state.
pub fn accessible_text(node: &Node, stats: &FlumeStats, group: Option<&SinkProcessor>) -> String {
    let mut parts = Vec::new();
    if let Some(c) = stats
        .channel
        .as_ref()
        .filter(|_| node.role == Role::Channel)
    {
        let mut fill = c.fill_text();
        if c.is_full() {
            fill.push_str(" full");
        }
        parts.push(fill);
        parts.push(format!("{} in flight", c.in_flight));
        parts.push(format!("{} tx", rate_text(c.commit_rate)));
        parts.push(format!("{} rollbacks", c.rollbacks));
    } else if node.role == Role::Sink {
        let failures = stats.sink.as_ref().map_or(0, |s| s.failures);
        parts.push(format!("{} delivered", stats.events_out));
        parts.push(format!("{failures} failed"));
        if let Some(s) = node_status(node.role, stats, group) {
            parts.push(s.text);
        }
    } else {
        parts.push(numbers_text(node.role, stats));
        if let Some(s) = node_status(node.role, stats, group) {
            parts.push(s.text);
        }
    }
    format!("{} {}: {}", node.role.label(), node.name, parts.join(", "))
}

/// The hover text: every number, and the last error.
fn tooltip_text(node: &Node, stats: &FlumeStats, group: Option<&SinkProcessor>) -> String {
    let mut lines = Vec::new();
    if let Some(c) = &stats.channel {
        lines.push(format!(
            "{} queued + {} in flight of {} slots",
            c.size, c.in_flight, c.capacity
        ));
        lines.push(format!(
            "{} puts, {} takes committed; {} tx",
            stats.events_in,
            stats.events_out,
            rate_text(c.commit_rate)
        ));
        lines.push(format!(
            "{} rollbacks ({}); {} puts refused for lack of room",
            c.rollbacks,
            rate_text(c.rollback_rate),
            c.full_failures
        ));
    }
    if node.role == Role::Source {
        lines.push(format!(
            "{} received, {} committed to channels",
            stats.events_in, stats.events_out
        ));
        if stats.blocked {
            lines.push("A channel is full: this source waits and retries (back-pressure).".into());
        }
    }
    if let Some(s) = &stats.sink {
        lines.push(format!(
            "{} delivered, {} failed deliveries",
            stats.events_out, s.failures
        ));
        if let Some(st) = node_status(node.role, stats, group) {
            lines.push(st.text);
        }
    }
    if let Some(e) = &stats.last_error {
        lines.push(format!("last error: {e}"));
    }
    lines.join("\n")
}

fn tone_colors(tone: Tone, visuals: &Visuals) -> (Color32, Color32) {
    let fill = match tone {
        Tone::Good => style::good_color(),
        Tone::Quiet => return (visuals.widgets.inactive.bg_fill, visuals.text_color()),
        Tone::Warn => style::warn_color(),
        Tone::Bad => style::problem_color(visuals),
    };
    (fill, style::text_on(fill))
}

/// Draws a Flume node's live state over and under it, and gives it an accessible
/// status with the details (and last error) as tooltip.
pub fn flume_overlay_ui(
    ui: &Ui,
    painter: &Painter,
    node: &Node,
    node_on_screen: Rect,
    zoom: f32,
    stats: &FlumeStats,
    group: Option<&SinkProcessor>,
) {
    let visuals = ui.visuals();
    let z = zoom.max(0.5);
    let r = node_on_screen;
    let current = node_status(node.role, stats, group);
    match node.role {
        Role::Channel => {
            if let Some(c) = &stats.channel {
                paint_channel_fill(painter, visuals, r, zoom, c);
            }
        }
        Role::Source if stats.blocked => {
            painter.rect_stroke(
                r.expand(3.0 * z),
                CornerRadius::same((6.0 * z) as u8),
                Stroke::new(2.0 * z, style::warn_color()),
                StrokeKind::Outside,
            );
        }
        Role::Sink if stats.sink.as_ref().is_some_and(|s| s.penalized) => {
            // Out of service: dimmed under a veil of the canvas colour.
            let veil = if visuals.dark_mode {
                Color32::from_rgba_unmultiplied(0x1a, 0x1b, 0x1f, 150)
            } else {
                Color32::from_rgba_unmultiplied(0xf4, 0xf5, 0xf7, 150)
            };
            painter.rect_filled(r, CornerRadius::ZERO, veil);
        }
        _ => {}
    }

    // Under the node: the numbers, with the status pill beside them; for channels a
    // second line with the transaction activity.
    let line_a = r.center_bottom() + Vec2::new(0.0, 4.0 * z);
    let full = stats.channel.as_ref().is_some_and(ChannelStats::is_full);
    let numbers_color = if full {
        style::problem_color(visuals)
    } else {
        visuals.text_color()
    };
    let numbers = painter.layout_no_wrap(
        numbers_text(node.role, stats),
        FontId::proportional(11.0 * z),
        numbers_color,
    );
    let beside = current.as_ref().filter(|_| node.role != Role::Channel);
    let pill_width = beside.map_or(0.0, |s| pill_size(painter, &s.text, z).x + 6.0 * z);
    let left = line_a.x - (numbers.size().x + pill_width) / 2.0;
    let mut covered = Rect::from_min_size(Pos2::new(left, line_a.y), numbers.size());
    let numbers_mid_y = covered.center().y;
    painter.galley(covered.min, numbers, numbers_color);
    if let Some(s) = beside {
        let at = Pos2::new(covered.right() + 6.0 * z, numbers_mid_y);
        covered = covered.union(paint_pill(
            painter,
            visuals,
            Align2::LEFT_CENTER,
            at,
            &s.text,
            s.tone,
            z,
        ));
    }
    if let (Role::Channel, Some(c)) = (node.role, &stats.channel) {
        let color = if c.rollback_rate > 0.0 {
            style::problem_color(visuals)
        } else {
            visuals.weak_text_color()
        };
        let b = painter.text(
            Pos2::new(line_a.x, covered.bottom() + 1.0 * z),
            Align2::CENTER_TOP,
            activity_text(c),
            FontId::proportional(10.5 * z),
            color,
        );
        covered = covered.union(b);
    }
    if let Some(s) = current.as_ref().filter(|_| node.role == Role::Channel) {
        // A full channel says so above its right end, beside the rate badge, where
        // the eye lands first.
        let at = Pos2::new(r.right() - r.height() * 0.3, r.top() - 3.0 * z);
        paint_pill(
            painter,
            visuals,
            Align2::RIGHT_BOTTOM,
            at,
            &s.text,
            s.tone,
            z,
        );
    }

    let id = ui.scope_id().with(("flume status", &node.name));
    let response = ui.interact(covered.expand(2.0 * z), id, Sense::hover());
    let accessible = accessible_text(node, stats, group);
    response.widget_info(|| WidgetInfo::labeled(egui::Role::Status, true, &accessible));
    response.on_hover_text(tooltip_text(node, stats, group));
}

/// The font of status pills.
fn pill_font(z: f32) -> FontId {
    FontId::proportional(10.5 * z)
}

/// The size a status pill with `text` takes.
fn pill_size(painter: &Painter, text: &str, z: f32) -> Vec2 {
    let galley = painter.layout_no_wrap(text.to_string(), pill_font(z), Color32::WHITE);
    galley.size() + Vec2::new(12.0, 2.0) * z
}

/// A rounded tag placed by `anchor` at `at`; returns its box.
fn paint_pill(
    painter: &Painter,
    visuals: &Visuals,
    anchor: Align2,
    at: Pos2,
    text: &str,
    tone: Tone,
    z: f32,
) -> Rect {
    let (fill, text_color) = tone_colors(tone, visuals);
    let galley = painter.layout_no_wrap(text.to_string(), pill_font(z), text_color);
    let pill = anchor.anchor_size(at, galley.size() + Vec2::new(12.0, 2.0) * z);
    painter.rect_filled(pill, CornerRadius::same((pill.height() / 2.0) as u8), fill);
    painter.galley(pill.center() - galley.size() / 2.0, galley, text_color);
    pill
}

/// The channel's floor becomes a live fill bar: queued events solid, events in flight
/// lighter after them, red when full; a red rim while transactions roll back.
fn paint_channel_fill(painter: &Painter, visuals: &Visuals, r: Rect, zoom: f32, c: &ChannelStats) {
    let floor = Rect::from_min_max(
        Pos2::new(r.left() + r.height() * 0.42, r.bottom() - 11.0 * zoom),
        Pos2::new(r.right() - r.height() * 0.42, r.bottom() - 4.0 * zoom),
    );
    let track = if visuals.dark_mode {
        Color32::from_gray(0x30)
    } else {
        Color32::from_gray(0xdd)
    };
    let rounding = CornerRadius::same((2.0 * zoom) as u8);
    painter.rect_filled(floor.expand(1.0 * zoom), rounding, track);
    let (queued, flying) = c.fractions();
    let color = if c.is_full() {
        style::problem_color(visuals)
    } else if queued + flying >= 0.7 {
        style::warn_color()
    } else {
        Color32::from_rgb(0x40, 0xb0, 0x60)
    };
    let mut solid = floor;
    solid.set_width(floor.width() * queued);
    painter.rect_filled(solid, rounding, color);
    let mut light = floor;
    light.min.x = solid.max.x;
    light.set_width(floor.width() * flying);
    painter.rect_filled(light, rounding, color.gamma_multiply(0.45));
    if c.rollback_rate > 0.0 {
        painter.rect_stroke(
            floor.expand(1.5 * zoom),
            rounding,
            Stroke::new(1.2 * zoom.max(0.5), style::problem_color(visuals)),
            StrokeKind::Outside,
        );
    }
    if c.is_full() {
        let radius = CornerRadius::same((r.height() / 2.0).min(255.0) as u8);
        painter.rect_stroke(
            r,
            radius,
            Stroke::new((2.5 * zoom).max(1.5), style::problem_color(visuals)),
            StrokeKind::Inside,
        );
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn channel(size: u64, in_flight: u64, capacity: u64) -> ChannelStats {
        ChannelStats {
            size,
            in_flight,
            capacity,
            ..ChannelStats::default()
        }
    }

    #[test]
    fn fill_counts_in_flight_slots_and_full_means_every_slot_taken() {
        let c = channel(800, 12, 1000);
        assert_eq!(c.fill_text(), "812/1000");
        assert!(!c.is_full());
        let (q, f) = c.fractions();
        assert!((q - 0.8).abs() < 1e-6 && (f - 0.012).abs() < 1e-6);
        assert!(channel(995, 5, 1000).is_full());
        // Never more than the bar: shares are clamped.
        let (q, f) = channel(1000, 40, 1000).fractions();
        assert_eq!((q, f), (1.0, 0.0));
        assert_eq!(channel(0, 0, 0).fractions(), (0.0, 0.0));
        assert!(!channel(0, 0, 0).is_full());
    }

    #[test]
    fn statuses_say_blocked_full_failed_over_and_active() {
        let blocked = FlumeStats {
            blocked: true,
            ..FlumeStats::default()
        };
        assert_eq!(
            node_status(Role::Source, &blocked, None).map(|s| s.tone),
            Some(Tone::Warn)
        );
        let full = FlumeStats {
            channel: Some(channel(5, 0, 5)),
            ..FlumeStats::default()
        };
        assert_eq!(
            node_status(Role::Channel, &full, None).map(|s| s.text),
            Some("full".into())
        );
        let failover = SinkProcessor::Failover {
            priorities: BTreeMap::new(),
            max_penalty_ms: 30_000,
        };
        let out = FlumeStats {
            sink: Some(SinkStats {
                penalized: true,
                penalty_left: Some(Duration::from_millis(11_200)),
                ..SinkStats::default()
            }),
            ..FlumeStats::default()
        };
        assert_eq!(
            node_status(Role::Sink, &out, Some(&failover)).map(|s| s.text),
            Some("failed over · 12s".into())
        );
        let active = FlumeStats {
            sink: Some(SinkStats {
                active: true,
                ..SinkStats::default()
            }),
            ..FlumeStats::default()
        };
        assert_eq!(
            node_status(Role::Sink, &active, Some(&failover)).map(|s| s.tone),
            Some(Tone::Good)
        );
        // Outside a failover group an active sink is just working: nothing to say.
        assert_eq!(node_status(Role::Sink, &active, None), None);
    }

    #[test]
    fn the_accessible_text_carries_the_numbers() {
        let node = Node::new("small", Role::Channel, "memory");
        let stats = FlumeStats {
            channel: Some(ChannelStats {
                commit_rate: 12.0,
                rollbacks: 3,
                ..channel(5, 0, 5)
            }),
            ..FlumeStats::default()
        };
        assert_eq!(
            accessible_text(&node, &stats, None),
            "channel small: 5/5 full, 0 in flight, 12/s tx, 3 rollbacks"
        );
        let source = Node::new("gen", Role::Source, "sequence");
        let blocked = FlumeStats {
            blocked: true,
            events_out: 40,
            ..FlumeStats::default()
        };
        assert_eq!(
            accessible_text(&source, &blocked, None),
            "source gen: 40 events, blocked · channel full"
        );
    }
}
