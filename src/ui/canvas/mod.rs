//! The canvas: where topologies are drawn, arranged and wired.
//!
//! Immediate mode: each frame the canvas reads the topology and returns
//! [`CanvasAction`]s; the app turns them into commands. Gestures in progress (moving
//! nodes, dragging a connection, box selecting) live in [`Canvas`] and touch the
//! topology only when they end, so one gesture is one undo step.

mod agent_frame;
mod edge_shape;
pub mod edits;
pub mod flume_overlay;
mod frame;
mod gestures;
pub mod grid;
pub mod lens;
pub mod node_shape;
pub mod overlay;
mod steps;
pub mod style;
pub mod trace_path;
pub mod tuple_dots;
pub mod view;
pub mod window_badge;

use std::collections::BTreeMap;

use egui::{Pos2, Rect, Sense, Ui, Vec2, WidgetInfo};

use self::frame::Frame;
use self::overlay::RunOverlay;
use self::view::CanvasView;
use crate::design::commands::Command;
use crate::design::selection::Selection;
use crate::model::{NamedEdge, Topology};

/// What the canvas reads each frame.
pub struct CanvasInput<'a> {
    pub topology: &'a Topology,
    pub selection: &'a Selection,
    /// First problem message per node name (outlines the node red, shown on hover).
    pub problems: &'a BTreeMap<String, String>,
    /// Live metrics while a run is on.
    pub overlay: Option<&'a RunOverlay>,
    /// Lab mode's queued and parked tuples.
    pub tuples: Option<&'a tuple_dots::TupleDots>,
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
    /// The pending fit is the automatic one after opening a file: keep text drawn.
    fit_readable: bool,
    /// Nodes shown as their tasks (the grouping lens).
    pub lens: lens::Lens,
}

/// Hit distance for edges, in screen points.
const EDGE_HIT: f32 = 8.0;

impl Canvas {
    /// Fit the whole topology into view on the next frame.
    pub fn request_fit(&mut self) {
        self.fit_requested = true;
        self.fit_readable = false;
    }

    /// Show a newly opened design: all of it, zoomed out as far as needed while nodes
    /// still carry their text ([`style::DETAIL_ZOOM`]); only a design too big even for
    /// that opens on its upstream end.
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

    /// Draws the canvas and handles its gestures: one [`Frame`] is worked out, then
    /// each step draws its layer (agents under edges under nodes) and reports what the
    /// user did.
    pub fn canvas_ui(&mut self, ui: &mut Ui, input: &CanvasInput<'_>) -> Vec<CanvasAction> {
        let (rect, background) =
            ui.allocate_exact_size(ui.available_size(), Sense::click_and_drag());
        background.widget_info(|| WidgetInfo::labeled(egui::Role::Canvas, true, "canvas"));
        self.begin_frame(ui, rect, input.topology);
        let f = Frame::new(
            ui,
            rect,
            &self.view,
            self.gesture.as_ref(),
            self.last_pointer_on_screen,
            input,
        );
        f.paint_background(&self.view);
        // Flume agents, sink groups and avro hops, under everything else.
        let mut actions = agent_frame::agent_frames_ui(ui, &f.painter, f.t, &f.node_rects, f.zoom);
        let edge_hits = steps::edges_ui(ui, &f, &mut actions);
        let connect_target = self.connect_target(&f);
        self.nodes_ui(ui, &f, connect_target.as_ref(), &mut actions);
        lens::lens_ui(ui, &f, &mut self.lens);
        if let Some(dots) = input.tuples {
            tuple_dots::tuple_dots_ui(ui, &f, dots);
        }
        if let Some(path) = input.overlay.and_then(|o| o.trace.as_ref()) {
            trace_path::trace_path_ui(&f, path);
        }
        self.paint_connection(&f, connect_target.as_ref());
        self.background_interaction(ui, &f, &background, &edge_hits, &mut actions);
        self.paint_box_select(&f);
        self.palette_drop_ui(ui, &f, &mut actions);
        if let Some(o) = input.overlay {
            overlay::paint_run_banner(&f.painter, &f.visuals, rect, o);
        }
        actions
    }

    /// What happens before anything is drawn: remember where the canvas and pointer
    /// are, carry out a requested fit, apply zoom and scroll.
    fn begin_frame(&mut self, ui: &Ui, rect: Rect, t: &Topology) {
        self.last_rect = Some(rect);
        if let Some(pos) = ui.input(|i| i.pointer.latest_pos()) {
            self.last_pointer_on_screen = Some(pos);
        }
        if self.fit_requested {
            self.fit_requested = false;
            if self.fit_readable {
                self.view
                    .fit_readable(rect, content_bounds(t), style::DETAIL_ZOOM);
            } else {
                self.view.fit(rect, content_bounds(t));
            }
        }
        self.zoom_and_scroll(ui, rect);
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

#[cfg(test)]
mod tests {
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable;

    use super::*;
    use crate::components;
    use crate::model::{Pos, Role};

    #[test]
    fn terminal_bolts_have_no_output_port() {
        let mut t = Topology::new("t");
        for (id, x) in [("split", 80.0), ("logger", 320.0), ("null", 560.0)] {
            let mut node =
                components::new_node_as(components::descriptor(id).unwrap(), id, Role::Bolt);
            node.pos = Pos(x, 80.0);
            t.add_node(node).unwrap();
        }
        let selection = Selection::default();
        let problems = BTreeMap::new();
        let mut h = Harness::builder()
            .with_size(egui::vec2(900.0, 300.0))
            .build_ui_state(
                |ui, canvas: &mut Canvas| {
                    let input = CanvasInput {
                        topology: &t,
                        selection: &selection,
                        problems: &problems,
                        overlay: None,
                        tuples: None,
                    };
                    canvas.canvas_ui(ui, &input);
                },
                Canvas::default(),
            );
        h.run();
        assert!(h.query_by_label("split output").is_some());
        for terminal in ["logger", "null"] {
            assert!(h.query_by_label(&format!("{terminal} input")).is_some());
            assert!(
                h.query_by_label(&format!("{terminal} output")).is_none(),
                "{terminal} emits nothing, so it has no output port"
            );
        }
    }
}
