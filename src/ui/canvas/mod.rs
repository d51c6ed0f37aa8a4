//! The canvas: where topologies are drawn, arranged and wired.
//!
//! Immediate mode: each frame the canvas reads the topology and returns
//! [`CanvasAction`]s; the app turns them into commands. Gestures in progress (moving
//! nodes, dragging a connection, box selecting) live in [`Canvas`] and touch the
//! topology only when they end, so one gesture is one undo step.

mod agent_frame;
mod edge_shape;
pub mod flume_overlay;
pub mod grid;
pub mod node_shape;
pub mod overlay;
pub mod style;
pub mod view;
pub mod window_badge;

use std::collections::BTreeMap;

use egui::{
    Color32, CornerRadius, PointerButton, Pos2, Rect, Sense, Stroke, StrokeKind, Ui, Vec2,
    WidgetInfo,
};

use self::edge_shape::EdgeCurve;
use self::node_shape::NodeLook;
use self::overlay::RunOverlay;
use self::style::NODE_SIZE;
use self::view::CanvasView;
use super::palette::PaletteItem;
use crate::components;
use crate::design::commands::Command;
use crate::design::selection::Selection;
use crate::design::wiring;
use crate::model::{Edge, Grouping, NamedEdge, Pos, Role, Topology};

/// What the canvas reads each frame.
pub struct CanvasInput<'a> {
    pub topology: &'a Topology,
    pub selection: &'a Selection,
    /// First problem message per node name (outlines the node red, shown on hover).
    pub problems: &'a BTreeMap<String, String>,
    /// Live metrics while a run is on.
    pub overlay: Option<&'a RunOverlay>,
}

/// What the user did on the canvas this frame.
#[derive(Debug, Clone, PartialEq)]
pub enum CanvasAction {
    Apply(Command),
    Select(Selection),
    /// An edit the canvas would not make, with the reason to show the user.
    Refused(String),
}

#[derive(Debug, Clone)]
enum Gesture {
    MoveNodes {
        names: Vec<String>,
        delta_in_canvas: Vec2,
    },
    Connect {
        from: String,
    },
    BoxSelect {
        start_on_screen: Pos2,
        additive: bool,
    },
    Pan,
}

/// Canvas state that outlives a frame: the view and any gesture in progress.
#[derive(Default)]
pub struct Canvas {
    pub view: CanvasView,
    gesture: Option<Gesture>,
    /// The pointer's last known position; a drop can arrive in the same frame as the
    /// pointer leaving, and still needs a place.
    last_pointer_on_screen: Option<Pos2>,
    /// Where the canvas was drawn last frame (for "add at centre" and fit).
    pub last_rect: Option<Rect>,
    fit_requested: bool,
    /// The pending fit is the automatic one after opening a file: keep text readable.
    fit_readable: bool,
}

/// Hit distance for edges, in screen points.
const EDGE_HIT: f32 = 8.0;

impl Canvas {
    /// Fit the whole topology into view on the next frame.
    pub fn request_fit(&mut self) {
        self.fit_requested = true;
        self.fit_readable = false;
    }

    /// Show a newly opened design: all of it if it fits at a readable size, else its
    /// upstream end.
    pub fn request_readable_fit(&mut self) {
        self.fit_requested = true;
        self.fit_readable = true;
    }

    /// The canvas position at the middle of the view (where clicked palette entries go).
    pub fn center_in_canvas(&self) -> Pos2 {
        let rect = self
            .last_rect
            .unwrap_or(Rect::from_min_size(Pos2::ZERO, Vec2::new(800.0, 600.0)));
        self.view.canvas_from_screen(rect) * rect.center()
    }

    /// Zooms around the middle of the view (toolbar buttons).
    pub fn zoom_by(&mut self, factor: f32) {
        if let Some(rect) = self.last_rect {
            self.view.zoom_around(rect, rect.center(), factor);
        }
    }

    /// Draws the canvas and handles its gestures.
    pub fn canvas_ui(&mut self, ui: &mut Ui, input: &CanvasInput<'_>) -> Vec<CanvasAction> {
        let mut actions = Vec::new();
        let (rect, background) =
            ui.allocate_exact_size(ui.available_size(), Sense::click_and_drag());
        background.widget_info(|| WidgetInfo::labeled(egui::Role::Canvas, true, "canvas"));
        self.last_rect = Some(rect);
        if let Some(pos) = ui.input(|i| i.pointer.latest_pos()) {
            self.last_pointer_on_screen = Some(pos);
        }
        let pointer = self.last_pointer_on_screen;
        let t = input.topology;

        if self.fit_requested {
            self.fit_requested = false;
            if self.fit_readable {
                self.view.fit_readable(rect, content_bounds(t), 0.8);
            } else {
                self.view.fit(rect, content_bounds(t));
            }
        }
        self.zoom_and_scroll(ui, rect);

        let visuals = ui.visuals().clone();
        let painter = ui.painter_at(rect);
        let canvas_fill = if visuals.dark_mode {
            Color32::from_rgb(0x1a, 0x1b, 0x1f)
        } else {
            Color32::from_rgb(0xf4, 0xf5, 0xf7)
        };
        painter.rect_filled(rect, CornerRadius::ZERO, canvas_fill);
        let (minor, major) = if visuals.dark_mode {
            (Color32::from_gray(0x24), Color32::from_gray(0x2e))
        } else {
            (Color32::from_gray(0xe8), Color32::from_gray(0xdc))
        };
        grid::paint_grid(
            &painter,
            rect,
            &self.view,
            Stroke::new(1.0, minor),
            Stroke::new(1.0, major),
        );

        let zoom = self.view.zoom;
        let screen_from_canvas = self.view.screen_from_canvas(rect);
        let moving = match &self.gesture {
            Some(Gesture::MoveNodes {
                names,
                delta_in_canvas,
            }) => Some((names.clone(), *delta_in_canvas)),
            _ => None,
        };
        let rect_on_screen = |name: &str, node_rect: Rect| -> Rect {
            let shifted = match &moving {
                Some((names, delta)) if names.iter().any(|n| n == name) => {
                    node_rect.translate(*delta)
                }
                _ => node_rect,
            };
            screen_from_canvas * shifted
        };
        let node_rects: BTreeMap<String, Rect> = t
            .nodes()
            .map(|n| {
                (
                    n.name.clone(),
                    rect_on_screen(&n.name, node_shape::rect_in_canvas(n)),
                )
            })
            .collect();

        let payload = egui::DragAndDrop::payload::<PaletteItem>(ui.ctx());
        let pointer_in_rect = pointer.filter(|p| rect.contains(*p));
        let released = ui.input(|i| i.pointer.any_released());

        // ---- Flume agents, sink groups and avro hops, under everything else ----
        actions.extend(agent_frame::agent_frames_ui(
            ui,
            &painter,
            t,
            &node_rects,
            zoom,
        ));

        // ---- edges ----
        let mut edge_hits: Vec<(NamedEdge, EdgeCurve, Rect)> = Vec::new();
        let grouping_target = match (payload.as_deref(), pointer_in_rect) {
            (Some(PaletteItem::Grouping(_)), Some(p)) => {
                self.edge_under(t, &node_rects, zoom, p, &visuals)
            }
            _ => None,
        };
        for named in t.edge_list() {
            let (Some(a), Some(b)) = (node_rects.get(&named.from), node_rects.get(&named.to))
            else {
                continue;
            };
            let curve = EdgeCurve::between(a.right_center(), b.left_center(), zoom);
            let selected = input
                .selection
                .edge
                .as_ref()
                .is_some_and(|e| same_edge(e, &named));
            let targeted = grouping_target
                .as_ref()
                .is_some_and(|e| same_edge(e, &named));
            let rate = input.overlay.and_then(|o| o.edge_rate(&named));
            let mut stroke = Stroke::new((1.6 * zoom).max(1.0), style::edge_color(&visuals));
            if let Some(rate) = rate {
                stroke.width = overlay::edge_width(rate) * zoom.max(0.5);
                stroke.color = visuals.selection.stroke.color.gamma_multiply(0.85);
            }
            if selected || targeted {
                stroke.color = visuals.selection.stroke.color;
                stroke.width += 1.0;
            }
            edge_shape::paint_curve(&painter, &curve, stroke);
            let edge = Edge {
                stream: named.stream.clone(),
                grouping: named.grouping.clone(),
            };
            let text = edge_shape::label_text(&edge);
            let highlight = (selected || targeted).then_some(visuals.selection.stroke.color);
            let label_rect = edge_shape::paint_label(
                &painter,
                &visuals,
                &curve,
                &text,
                zoom,
                highlight,
                [*a, *b],
            );
            let id = ui
                .scope_id()
                .with(("edge", &named.from, &named.to, &named.stream));
            let response = ui.interact(label_rect, id, Sense::click());
            let accessible = format!("edge {} → {}: {}", named.from, named.to, text);
            response.widget_info(|| WidgetInfo::labeled(egui::Role::Button, true, &accessible));
            let response = response.on_hover_text(format!(
                "{text}\nClick to select; drop a grouping here to change it"
            ));
            if response.clicked() {
                actions.push(CanvasAction::Select(Selection::edge(named.clone())));
            }
            edge_hits.push((named, curve, label_rect));
        }

        // ---- connection being dragged: which node would receive it? ----
        let connect_target: Option<(String, Option<String>)> = match (&self.gesture, pointer) {
            (Some(Gesture::Connect { from }), Some(p)) => node_rects
                .iter()
                .find(|(name, r)| *name != from && r.expand(10.0).contains(p))
                .map(|(name, _)| (name.clone(), wiring::refusal(t, from, name))),
            _ => None,
        };

        // ---- nodes ----
        for index in t.reading_order() {
            let Some(node) = t.node(index) else { continue };
            let Some(&r) = node_rects.get(&node.name) else {
                continue;
            };
            let id = ui.scope_id().with(("node", &node.name));
            let response = ui.interact(r, id, Sense::click_and_drag());
            let name = node.name.clone();
            response.widget_info(|| WidgetInfo::labeled(egui::Role::Button, true, &name));
            let problem = input.problems.get(&node.name);
            let drop_ok = connect_target
                .as_ref()
                .filter(|(n, _)| n == &node.name)
                .map(|(_, refusal)| refusal.is_none());
            let look = NodeLook {
                selected: input.selection.contains_node(&node.name),
                hovered: response.hovered(),
                has_error: problem.is_some(),
                drop_ok,
            };
            node_shape::paint_node(&painter, &visuals, node, r, zoom, &look);
            if let Some(stats) = input.overlay.and_then(|o| o.nodes.get(&node.name)) {
                overlay::paint_node_overlay(&painter, &visuals, r, zoom, stats);
                if let Some(flume) = &stats.flume {
                    let group = t.sink_groups.iter().find(|g| g.sinks.contains(&node.name));
                    let processor = group.map(|g| &g.processor);
                    flume_overlay::flume_overlay_ui(ui, &painter, node, r, zoom, flume, processor);
                }
            }
            self.node_interaction(ui, &response, &node.name, t, input.selection, &mut actions);
            self.port_interactions(
                ui,
                node.role,
                &node.name,
                r,
                zoom,
                t,
                pointer,
                &node_rects,
                &mut actions,
            );
            if let Some(problem) = problem {
                response.on_hover_text(problem.as_str());
            } else if let Some(desc) = components::descriptor(&node.component) {
                response.on_hover_text(desc.doc);
            }
        }

        // ---- connection line while dragging ----
        if let (Some(Gesture::Connect { from }), Some(p)) = (&self.gesture, pointer)
            && let Some(r) = node_rects.get(from)
        {
            let color = match &connect_target {
                Some((_, Some(_))) => style::problem_color(&visuals),
                _ => visuals.selection.stroke.color,
            };
            let curve = EdgeCurve::between(r.right_center(), p, zoom);
            edge_shape::paint_curve(&painter, &curve, Stroke::new(2.0, color));
            if let Some((_, Some(reason))) = &connect_target {
                paint_hint(
                    &painter,
                    &visuals,
                    p + Vec2::new(14.0, 14.0),
                    reason,
                    style::problem_color(&visuals),
                );
            }
        }

        // ---- background: select, pan, box select ----
        self.background_interaction(
            ui,
            &background,
            rect,
            &node_rects,
            &edge_hits,
            input.selection,
            &mut actions,
        );
        if let (
            Some(Gesture::BoxSelect {
                start_on_screen, ..
            }),
            Some(p),
        ) = (&self.gesture, pointer)
        {
            let r = Rect::from_two_pos(*start_on_screen, p);
            painter.rect(
                r,
                CornerRadius::same(2),
                visuals.selection.bg_fill.gamma_multiply(0.25),
                Stroke::new(1.0, visuals.selection.stroke.color),
                StrokeKind::Inside,
            );
        }

        // ---- drops from the palette ----
        if let (Some(item), Some(p)) = (payload.as_deref(), pointer_in_rect) {
            if let PaletteItem::Component { id, .. } = item {
                // Ghost of the node about to be created.
                let pos_in_canvas =
                    grid::snap(self.view.canvas_from_screen(rect) * p - NODE_SIZE / 2.0);
                let ghost = screen_from_canvas * Rect::from_min_size(pos_in_canvas, NODE_SIZE);
                painter.rect_stroke(
                    ghost,
                    CornerRadius::same(8),
                    Stroke::new(1.5, visuals.selection.stroke.color),
                    StrokeKind::Inside,
                );
                painter.text(
                    ghost.center(),
                    egui::Align2::CENTER_CENTER,
                    id,
                    egui::FontId::proportional(12.0 * zoom),
                    visuals.weak_text_color(),
                );
            }
            if released && let Some(item) = egui::DragAndDrop::take_payload::<PaletteItem>(ui.ctx())
            {
                actions.extend(self.drop_item(&item, p, rect, t, grouping_target));
            }
        }

        if let Some(o) = input.overlay {
            overlay::paint_run_banner(&painter, &visuals, rect, o);
        }
        actions
    }

    fn zoom_and_scroll(&mut self, ui: &Ui, rect: Rect) {
        if !ui.rect_contains_pointer(rect) {
            return;
        }
        let (zoom, scroll, pointer) = ui.input(|i| {
            (
                i.zoom_delta(),
                i.smooth_scroll_delta(),
                i.pointer.hover_pos(),
            )
        });
        let pivot = pointer.unwrap_or(rect.center());
        if zoom != 1.0 {
            self.view.zoom_around(rect, pivot, zoom);
        } else if scroll != Vec2::ZERO {
            self.view.pan(scroll);
        }
    }

    fn node_interaction(
        &mut self,
        ui: &Ui,
        response: &egui::Response,
        name: &str,
        t: &Topology,
        selection: &Selection,
        actions: &mut Vec<CanvasAction>,
    ) {
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
                    let node = t.node_by_name(n)?;
                    let moved = grid::snap(Pos2::new(node.pos.0, node.pos.1) + delta_in_canvas);
                    Some((n.clone(), Pos(moved.x, moved.y)))
                })
                .collect();
            actions.push(CanvasAction::Apply(Command::Move { moves }));
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn port_interactions(
        &mut self,
        ui: &Ui,
        role: Role,
        name: &str,
        node_on_screen: Rect,
        zoom: f32,
        t: &Topology,
        pointer: Option<Pos2>,
        node_rects: &BTreeMap<String, Rect>,
        actions: &mut Vec<CanvasAction>,
    ) {
        let hit = (style::PORT_RADIUS * zoom).max(5.0) + 4.0;
        if role.accepts_input() {
            let r = Rect::from_center_size(node_on_screen.left_center(), Vec2::splat(hit * 2.0));
            let response = ui.interact(r, ui.scope_id().with(("in", name)), Sense::hover());
            let label = format!("{name} input");
            response.widget_info(|| WidgetInfo::labeled(egui::Role::Button, true, &label));
        }
        if !role.produces_output() {
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
            let target = pointer.and_then(|p| {
                node_rects
                    .iter()
                    .find(|(other, r)| *other != name && r.expand(10.0).contains(p))
                    .map(|(other, _)| other.clone())
            });
            match target {
                None => {}
                Some(to) => match wiring::refusal(t, name, &to) {
                    Some(reason) => {
                        actions.push(CanvasAction::Refused(format!("Cannot connect: {reason}")))
                    }
                    None => {
                        if let Some(edge) = wiring::new_edge(t, name, &to) {
                            actions.push(CanvasAction::Apply(Command::Add {
                                nodes: Vec::new(),
                                edges: vec![edge.clone()],
                            }));
                            actions.push(CanvasAction::Select(Selection::edge(edge)));
                        }
                    }
                },
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn background_interaction(
        &mut self,
        ui: &Ui,
        background: &egui::Response,
        rect: Rect,
        node_rects: &BTreeMap<String, Rect>,
        edge_hits: &[(NamedEdge, EdgeCurve, Rect)],
        selection: &Selection,
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
                    selection.clone()
                } else {
                    Selection::default()
                };
                next.edge = None;
                next.nodes.extend(
                    node_rects
                        .iter()
                        .filter(|(_, r)| r.intersects(area))
                        .map(|(n, _)| n.clone()),
                );
                actions.push(CanvasAction::Select(next));
            }
            self.gesture = None;
        }
        let _ = rect;
    }

    fn edge_under(
        &self,
        t: &Topology,
        node_rects: &BTreeMap<String, Rect>,
        zoom: f32,
        p: Pos2,
        _visuals: &egui::Visuals,
    ) -> Option<NamedEdge> {
        t.edge_list()
            .into_iter()
            .filter_map(|e| {
                let a = node_rects.get(&e.from)?;
                let b = node_rects.get(&e.to)?;
                let curve = EdgeCurve::between(a.right_center(), b.left_center(), zoom);
                let label_center = curve.midpoint() - Vec2::new(0.0, 12.0 * zoom);
                let d = curve
                    .distance_to(p)
                    .min((label_center - p).length() - 10.0 * zoom);
                (d < 4.0 * EDGE_HIT).then_some((e, d))
            })
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(e, _)| e)
    }

    fn drop_item(
        &mut self,
        item: &PaletteItem,
        p: Pos2,
        rect: Rect,
        t: &Topology,
        target: Option<NamedEdge>,
    ) -> Vec<CanvasAction> {
        match item {
            PaletteItem::Component { id, role } => {
                let pos_in_canvas =
                    grid::snap(self.view.canvas_from_screen(rect) * p - NODE_SIZE / 2.0);
                new_node_action(t, id, *role, Pos(pos_in_canvas.x, pos_in_canvas.y))
            }
            PaletteItem::Grouping(grouping) => match target {
                None => vec![CanvasAction::Refused(
                    "drop a grouping onto an edge (its line or label)".into(),
                )],
                Some(edge) => set_grouping_actions(t, &edge, grouping),
            },
        }
    }
}

/// Actions that create a node from the palette at a canvas position.
pub fn new_node_action(t: &Topology, id: &str, role: Role, pos: Pos) -> Vec<CanvasAction> {
    let Some(desc) = components::descriptor(id) else {
        return vec![CanvasAction::Refused(format!("unknown component '{id}'"))];
    };
    let name = t.unique_name(id);
    let mut node = components::new_node_as(desc, name.clone(), role);
    node.pos = pos;
    vec![
        CanvasAction::Apply(Command::Add {
            nodes: vec![node],
            edges: Vec::new(),
        }),
        CanvasAction::Select(Selection::node(&name)),
    ]
}

/// Actions that set an edge's grouping from a palette drop, filling in the fields a
/// fields-style grouping needs (the consumer's key if the upstream has it, else the
/// first upstream field) so the edge is valid straight away.
pub fn set_grouping_actions(
    t: &Topology,
    edge: &NamedEdge,
    grouping: &Grouping,
) -> Vec<CanvasAction> {
    let (Some(from), Some(to)) = (t.node_by_name(&edge.from), t.node_by_name(&edge.to)) else {
        return Vec::new();
    };
    if let Some(reason) = wiring::grouping_refusal(from.role, to.role, grouping) {
        return vec![CanvasAction::Refused(reason)];
    }
    let fields = wiring::upstream_fields(t, &edge.from, &edge.stream);
    let key = to
        .config
        .get("key")
        .and_then(|v| v.as_str())
        .filter(|k| fields.iter().any(|f| f == k));
    let pick = || -> Vec<String> {
        key.map(str::to_string)
            .or_else(|| fields.first().cloned())
            .into_iter()
            .collect()
    };
    let grouping = match grouping {
        Grouping::Fields(f) if f.is_empty() => Grouping::Fields(pick()),
        Grouping::PartialKey(f) if f.is_empty() => Grouping::PartialKey(pick()),
        other => other.clone(),
    };
    let new_edge = Edge {
        stream: edge.stream.clone(),
        grouping: grouping.clone(),
    };
    vec![
        CanvasAction::Apply(Command::SetEdge {
            key: edge.clone(),
            edge: new_edge,
        }),
        CanvasAction::Select(Selection::edge(NamedEdge {
            grouping,
            ..edge.clone()
        })),
    ]
}

fn same_edge(a: &NamedEdge, b: &NamedEdge) -> bool {
    a.from == b.from && a.to == b.to && a.stream == b.stream
}

/// The canvas-space box around every node (and its overlay), for fit-to-view.
pub fn content_bounds(t: &Topology) -> Rect {
    let mut bounds = agent_frame::frames_bounds_in_canvas(t);
    for node in t.nodes() {
        bounds = bounds.union(node_shape::rect_in_canvas(node).expand2(Vec2::new(10.0, 30.0)));
    }
    bounds
}

fn paint_hint(
    painter: &egui::Painter,
    visuals: &egui::Visuals,
    at: Pos2,
    text: &str,
    color: Color32,
) {
    let galley = painter.layout(
        text.to_string(),
        egui::FontId::proportional(12.0),
        color,
        320.0,
    );
    let r = Rect::from_min_size(at, galley.size()).expand(5.0);
    painter.rect(
        r,
        CornerRadius::same(4),
        visuals.extreme_bg_color,
        Stroke::new(1.0, color),
        StrokeKind::Inside,
    );
    painter.galley(at, galley, color);
}
