//! The steps of one canvas frame, in painting order: edges, nodes (with their run
//! overlays and gestures), the connection being dragged, the box being drawn, and what
//! the palette is dropping. Each reads the [`Frame`] and pushes [`CanvasAction`]s.

use egui::{CornerRadius, Pos2, Rect, Sense, Stroke, StrokeKind, Ui, Vec2, WidgetInfo};

use super::edge_shape::{self, EdgeCurve};
use super::frame::Frame;
use super::node_shape::{self, NodeLook};
use super::style::{self, NODE_SIZE};
use super::{Canvas, CanvasAction, Gesture, flume_overlay, grid, overlay, same_edge};
use crate::components;
use crate::design::selection::Selection;
use crate::design::wiring;
use crate::model::{Edge, NamedEdge};
use crate::ui::palette::PaletteItem;

/// An edge as drawn this frame, for clicks on the background near it.
pub(super) type EdgeHit = (NamedEdge, EdgeCurve, Rect);

/// The node a dragged connection is over, and why it would be refused (if it would).
pub(super) type ConnectTarget = (String, Option<String>);

/// Draws every edge with its label; a click on a label selects the edge.
pub(super) fn edges_ui(ui: &Ui, f: &Frame<'_>, actions: &mut Vec<CanvasAction>) -> Vec<EdgeHit> {
    let visuals = &f.visuals;
    let mut edge_hits = Vec::new();
    for named in f.t.edge_list() {
        let (Some(a), Some(b)) = (f.node_rects.get(&named.from), f.node_rects.get(&named.to))
        else {
            continue;
        };
        let curve = EdgeCurve::between(a.right_center(), b.left_center(), f.zoom);
        let selected = f
            .input
            .selection
            .edge
            .as_ref()
            .is_some_and(|e| same_edge(e, &named));
        let targeted = f
            .grouping_target
            .as_ref()
            .is_some_and(|e| same_edge(e, &named));
        let rate = f.input.overlay.and_then(|o| o.edge_rate(&named));
        let mut stroke = Stroke::new((1.6 * f.zoom).max(1.0), style::edge_color(visuals));
        if let Some(rate) = rate {
            stroke.width = overlay::edge_width(rate) * f.zoom.max(0.5);
            stroke.color = visuals.selection.stroke.color.gamma_multiply(0.85);
        }
        if selected || targeted {
            stroke.color = visuals.selection.stroke.color;
            stroke.width += 1.0;
        }
        edge_shape::paint_curve(&f.painter, &curve, stroke);
        let edge = Edge {
            stream: named.stream.clone(),
            grouping: named.grouping.clone(),
        };
        let mode = f.t.settings.mode;
        let text = edge_shape::label_text(&edge, mode);
        let highlight = (selected || targeted).then_some(visuals.selection.stroke.color);
        let label_rect = edge_shape::paint_label(
            &f.painter,
            visuals,
            &curve,
            &text,
            f.zoom,
            highlight,
            [*a, *b],
        );
        let id = ui
            .scope_id()
            .with(("edge", &named.from, &named.to, &named.stream));
        let response = ui.interact(label_rect, id, Sense::click());
        let accessible = format!("edge {} → {}: {}", named.from, named.to, text);
        response.widget_info(|| WidgetInfo::labeled(egui::Role::Button, true, &accessible));
        let meaning = edge
            .grouping
            .meaning_in(mode)
            .map(|m| format!("\n{m}"))
            .unwrap_or_default();
        let response = response.on_hover_text(format!(
            "{text}{meaning}\nClick to select; drop a grouping here to change it"
        ));
        if response.clicked() {
            actions.push(CanvasAction::Select(Selection::edge(named.clone())));
        }
        edge_hits.push((named, curve, label_rect));
    }
    edge_hits
}

impl Canvas {
    /// While a connection is dragged: the node under the pointer and its refusal.
    pub(super) fn connect_target(&self, f: &Frame<'_>) -> Option<ConnectTarget> {
        match (&self.gesture, f.pointer) {
            (Some(Gesture::Connect { from }), Some(p)) => f
                .node_at(p, from)
                .map(|name| (name.to_string(), wiring::refusal(f.t, from, name))),
            _ => None,
        }
    }

    /// Draws every node (upstream first) with its overlays, ports and gestures.
    pub(super) fn nodes_ui(
        &mut self,
        ui: &Ui,
        f: &Frame<'_>,
        connect_target: Option<&ConnectTarget>,
        actions: &mut Vec<CanvasAction>,
    ) {
        let t = f.t;
        for index in t.reading_order() {
            let Some(node) = t.node(index) else { continue };
            let Some(&r) = f.node_rects.get(&node.name) else {
                continue;
            };
            let id = ui.scope_id().with(("node", &node.name));
            let response = ui.interact(r, id, Sense::click_and_drag());
            let name = node.name.clone();
            response.widget_info(|| WidgetInfo::labeled(egui::Role::Button, true, &name));
            let problem = f.input.problems.get(&node.name);
            let drop_ok = connect_target
                .filter(|(n, _)| n == &node.name)
                .map(|(_, refusal)| refusal.is_none());
            let look = NodeLook {
                selected: f.input.selection.contains_node(&node.name),
                hovered: response.hovered(),
                has_error: problem.is_some(),
                drop_ok,
            };
            node_shape::paint_node(&f.painter, &f.visuals, node, r, f.zoom, &look);
            if let Some(stats) = f.input.overlay.and_then(|o| o.nodes.get(&node.name)) {
                overlay::paint_node_overlay(&f.painter, &f.visuals, r, f.zoom, stats);
                overlay::node_notes_ui(ui, &f.painter, &f.visuals, &node.name, r, f.zoom, stats);
                if let Some(flume) = &stats.flume {
                    let group = t.sink_groups.iter().find(|g| g.sinks.contains(&node.name));
                    let processor = group.map(|g| &g.processor);
                    flume_overlay::flume_overlay_ui(
                        ui, &f.painter, node, r, f.zoom, flume, processor,
                    );
                }
            }
            self.node_interaction(ui, f, &response, &node.name, actions);
            self.port_interactions(ui, f, node, r, actions);
            // The full name first: a long one is cut with `…` inside the node.
            let about = match (problem, components::descriptor(&node.component)) {
                (Some(problem), _) => problem.as_str(),
                (None, Some(desc)) => desc.doc,
                (None, None) => "",
            };
            response.on_hover_text(format!("{} ({})\n{about}", node.name, node.component));
        }
    }

    /// The line from the output port to the pointer while connecting, red with the
    /// reason when the node under the pointer would refuse it.
    pub(super) fn paint_connection(&self, f: &Frame<'_>, target: Option<&ConnectTarget>) {
        let (Some(Gesture::Connect { from }), Some(p)) = (&self.gesture, f.pointer) else {
            return;
        };
        let Some(r) = f.node_rects.get(from) else {
            return;
        };
        let refusal = target.and_then(|(_, refusal)| refusal.as_deref());
        let color = match refusal {
            Some(_) => style::problem_color(&f.visuals),
            None => f.visuals.selection.stroke.color,
        };
        let curve = EdgeCurve::between(r.right_center(), p, f.zoom);
        edge_shape::paint_curve(&f.painter, &curve, Stroke::new(2.0, color));
        if let Some(reason) = refusal {
            f.paint_hint(p + Vec2::new(14.0, 14.0), reason, color);
        }
    }

    /// The rubber band of a box selection.
    pub(super) fn paint_box_select(&self, f: &Frame<'_>) {
        if let (
            Some(Gesture::BoxSelect {
                start_on_screen, ..
            }),
            Some(p),
        ) = (&self.gesture, f.pointer)
        {
            let r = Rect::from_two_pos(*start_on_screen, p);
            f.painter.rect(
                r,
                CornerRadius::same(2),
                f.visuals.selection.bg_fill.gamma_multiply(0.25),
                Stroke::new(1.0, f.visuals.selection.stroke.color),
                StrokeKind::Inside,
            );
        }
    }

    /// A ghost of the node a component drag would create; on release, the drop itself.
    pub(super) fn palette_drop_ui(&self, ui: &Ui, f: &Frame<'_>, actions: &mut Vec<CanvasAction>) {
        let (Some(item), Some(p)) = (f.payload.as_deref(), f.pointer_in_rect()) else {
            return;
        };
        if let PaletteItem::Component { id, .. } = item {
            let ghost = f.screen_from_canvas * Rect::from_min_size(self.drop_pos(f, p), NODE_SIZE);
            f.painter.rect_stroke(
                ghost,
                CornerRadius::same(8),
                Stroke::new(1.5, f.visuals.selection.stroke.color),
                StrokeKind::Inside,
            );
            f.painter.text(
                ghost.center(),
                egui::Align2::CENTER_CENTER,
                id,
                egui::FontId::proportional(12.0 * f.zoom),
                f.visuals.weak_text_color(),
            );
        }
        let released = ui.input(|i| i.pointer.any_released());
        if released && let Some(item) = egui::DragAndDrop::take_payload::<PaletteItem>(ui.ctx()) {
            actions.extend(self.drop_item(f, &item, p));
        }
    }

    /// Where (in canvas space, on the grid) a node dropped at `p` on screen goes.
    pub(super) fn drop_pos(&self, f: &Frame<'_>, p: Pos2) -> Pos2 {
        grid::snap(self.view.canvas_from_screen(f.rect) * p - NODE_SIZE / 2.0)
    }
}
