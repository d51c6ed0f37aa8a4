//! The canvas's gestures: click and shift-click to select, drag nodes to move them, drag
//! from an output port to connect, drag the background to pan or (with shift) to box
//! select, drop palette items. A gesture touches the topology only when it ends, so one
//! gesture is one undo step.

use egui::{PointerButton, Pos2, Rect, Response, Sense, Ui, Vec2, WidgetInfo};

use super::edits::{new_node_action, set_grouping_actions};
use super::frame::Frame;
use super::steps::EdgeHit;
use super::style;
use super::{Canvas, CanvasAction, EDGE_HIT, Gesture, grid};
use crate::components;
use crate::design::commands::Command;
use crate::design::selection::Selection;
use crate::design::wiring;
use crate::model::{Node, Pos};
use crate::ui::palette::PaletteItem;

impl Canvas {
    /// Select on click, move on drag (the whole selection if the node is in it).
    pub(super) fn node_interaction(
        &mut self,
        ui: &Ui,
        f: &Frame<'_>,
        response: &Response,
        name: &str,
        actions: &mut Vec<CanvasAction>,
    ) {
        let selection = f.input.selection;
        let shift = ui.input(|i| i.modifiers.shift || i.modifiers.command);
        if response.clicked() {
            let mut next = if shift {
                selection.clone()
            } else {
                Selection::default()
            };
            next.edge = None;
            if shift && next.nodes.contains(name) {
                next.nodes.remove(name);
            } else {
                next.nodes.insert(name.to_string());
            }
            actions.push(CanvasAction::Select(next));
        }
        if response.dragged_by(PointerButton::Middle) {
            self.view.pan(response.drag_delta());
        }
        if response.drag_started_by(PointerButton::Primary) {
            let names: Vec<String> = if selection.contains_node(name) {
                selection.nodes.iter().cloned().collect()
            } else {
                actions.push(CanvasAction::Select(Selection::node(name)));
                vec![name.to_string()]
            };
            self.gesture = Some(Gesture::MoveNodes {
                names,
                delta_in_canvas: Vec2::ZERO,
            });
        }
        if response.dragged_by(PointerButton::Primary)
            && let Some(Gesture::MoveNodes {
                delta_in_canvas, ..
            }) = &mut self.gesture
        {
            *delta_in_canvas += response.drag_delta() / self.view.zoom;
        }
        if response.drag_stopped()
            && let Some(Gesture::MoveNodes {
                names,
                delta_in_canvas,
            }) = self.gesture.take()
            && delta_in_canvas != Vec2::ZERO
        {
            let moves = names
                .iter()
                .filter_map(|n| {
                    let node = f.t.node_by_name(n)?;
                    let moved = grid::snap(Pos2::new(node.pos.0, node.pos.1) + delta_in_canvas);
                    Some((n.clone(), Pos(moved.x, moved.y)))
                })
                .collect();
            actions.push(CanvasAction::Apply(Command::Move { moves }));
        }
    }

    /// The input port (accessible only) and the output port a connection is dragged
    /// from; nodes that emit nothing ([`components::emits`]) have no output port.
    pub(super) fn port_interactions(
        &mut self,
        ui: &Ui,
        f: &Frame<'_>,
        node: &Node,
        node_on_screen: Rect,
        actions: &mut Vec<CanvasAction>,
    ) {
        let name = node.name.as_str();
        let hit = (style::PORT_RADIUS * f.zoom).max(5.0) + 4.0;
        if node.role.accepts_input() {
            let r = Rect::from_center_size(node_on_screen.left_center(), Vec2::splat(hit * 2.0));
            let response = ui.interact(r, ui.scope_id().with(("in", name)), Sense::hover());
            let label = format!("{name} input");
            response.widget_info(|| WidgetInfo::labeled(egui::Role::Button, true, &label));
        }
        if !components::emits(node) {
            return;
        }
        let r = Rect::from_center_size(node_on_screen.right_center(), Vec2::splat(hit * 2.0));
        let response = ui.interact(r, ui.scope_id().with(("out", name)), Sense::drag());
        let label = format!("{name} output");
        response.widget_info(|| WidgetInfo::labeled(egui::Role::Button, true, &label));
        let response = response.on_hover_text("Drag to another node's input to connect");
        if response.drag_started() {
            self.gesture = Some(Gesture::Connect {
                from: name.to_string(),
            });
        }
        if response.drag_stopped() && matches!(&self.gesture, Some(Gesture::Connect { .. })) {
            self.gesture = None;
            let Some(to) = f.pointer.and_then(|p| f.node_at(p, name)) else {
                return;
            };
            match wiring::refusal(f.t, name, to) {
                Some(reason) => {
                    actions.push(CanvasAction::Refused(format!("Cannot connect: {reason}")))
                }
                None => {
                    if let Some(edge) = wiring::new_edge(f.t, name, to) {
                        actions.push(CanvasAction::Apply(Command::Add {
                            nodes: Vec::new(),
                            edges: vec![edge.clone()],
                        }));
                        actions.push(CanvasAction::Select(Selection::edge(edge)));
                    }
                }
            }
        }
    }

    /// Clicks on the background select the nearest edge (or clear the selection); drags
    /// pan, or box select with shift.
    pub(super) fn background_interaction(
        &mut self,
        ui: &Ui,
        f: &Frame<'_>,
        background: &Response,
        edge_hits: &[EdgeHit],
        actions: &mut Vec<CanvasAction>,
    ) {
        let shift = ui.input(|i| i.modifiers.shift);
        if background.clicked() {
            let hit = background.interact_pointer_pos().and_then(|p| {
                edge_hits
                    .iter()
                    .filter(|(_, curve, label)| {
                        label.contains(p) || curve.distance_to(p) < EDGE_HIT
                    })
                    .min_by(|a, b| a.1.distance_to(p).total_cmp(&b.1.distance_to(p)))
                    .map(|(e, _, _)| e.clone())
            });
            match hit {
                Some(edge) => actions.push(CanvasAction::Select(Selection::edge(edge))),
                None if !shift => actions.push(CanvasAction::Select(Selection::default())),
                None => {}
            }
        }
        if background.drag_started() {
            let middle = background.dragged_by(PointerButton::Middle);
            self.gesture = match (middle, shift, background.interact_pointer_pos()) {
                (false, true, Some(start)) => Some(Gesture::BoxSelect {
                    start_on_screen: start,
                    additive: true,
                }),
                _ => Some(Gesture::Pan),
            };
        }
        if background.dragged() && matches!(self.gesture, Some(Gesture::Pan)) {
            self.view.pan(background.drag_delta());
        }
        if background.drag_stopped() {
            if let (
                Some(Gesture::BoxSelect {
                    start_on_screen,
                    additive,
                }),
                Some(end),
            ) = (self.gesture.take(), self.last_pointer_on_screen)
            {
                let area = Rect::from_two_pos(start_on_screen, end);
                let mut next = if additive {
                    f.input.selection.clone()
                } else {
                    Selection::default()
                };
                next.edge = None;
                next.nodes.extend(
                    f.node_rects
                        .iter()
                        .filter(|(_, r)| r.intersects(area))
                        .map(|(n, _)| n.clone()),
                );
                actions.push(CanvasAction::Select(next));
            }
            self.gesture = None;
        }
    }

    /// A palette item released at `p`: a new node there, or a grouping on the edge
    /// under it.
    pub(super) fn drop_item(
        &self,
        f: &Frame<'_>,
        item: &PaletteItem,
        p: Pos2,
    ) -> Vec<CanvasAction> {
        match item {
            PaletteItem::Component { id, role } => {
                let pos_in_canvas = self.drop_pos(f, p);
                new_node_action(f.t, id, *role, Pos(pos_in_canvas.x, pos_in_canvas.y))
            }
            PaletteItem::Grouping(grouping) => match &f.grouping_target {
                None => vec![CanvasAction::Refused(
                    "drop a grouping onto an edge (its line or label)".into(),
                )],
                Some(edge) => set_grouping_actions(f.t, edge, grouping),
            },
        }
    }
}
