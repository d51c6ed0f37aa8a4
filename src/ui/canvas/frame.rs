//! One frame of the canvas: everything each drawing and gesture step needs, worked out
//! once (where every node sits on screen, the pointer, what the palette is dragging),
//! so the steps take one `&Frame` instead of a long list of arguments and cannot
//! disagree about, say, where a node being moved is.

use std::collections::BTreeMap;
use std::sync::Arc;

use egui::emath::TSTransform;
use egui::{Color32, CornerRadius, Painter, Pos2, Rect, Stroke, StrokeKind, Ui, Vec2, Visuals};

use super::edge_shape::EdgeCurve;
use super::view::CanvasView;
use super::{CanvasInput, EDGE_HIT, Gesture, grid, node_shape};
use crate::model::{NamedEdge, Topology};
use crate::ui::palette::PaletteItem;

/// What every step of one canvas frame reads.
pub(super) struct Frame<'a> {
    pub input: &'a CanvasInput<'a>,
    pub t: &'a Topology,
    /// The canvas area on screen.
    pub rect: Rect,
    pub painter: Painter,
    pub visuals: Visuals,
    pub screen_from_canvas: TSTransform,
    pub zoom: f32,
    /// The pointer's last known position (it may have just left the canvas).
    pub pointer: Option<Pos2>,
    /// Every node's box on screen, shifted by a move in progress.
    pub node_rects: BTreeMap<String, Rect>,
    /// What is being dragged from the palette, if anything.
    pub payload: Option<Arc<PaletteItem>>,
    /// The edge a grouping being dragged from the palette would land on.
    pub grouping_target: Option<NamedEdge>,
}

impl<'a> Frame<'a> {
    pub fn new(
        ui: &Ui,
        rect: Rect,
        view: &CanvasView,
        gesture: Option<&Gesture>,
        pointer: Option<Pos2>,
        input: &'a CanvasInput<'a>,
    ) -> Self {
        let t = input.topology;
        let zoom = view.zoom;
        let screen_from_canvas = view.screen_from_canvas(rect);
        let moving = match gesture {
            Some(Gesture::MoveNodes {
                names,
                delta_in_canvas,
            }) => Some((names, *delta_in_canvas)),
            _ => None,
        };
        let node_rects: BTreeMap<String, Rect> = t
            .nodes()
            .map(|n| {
                let in_canvas = node_shape::rect_in_canvas(n);
                let shifted = match &moving {
                    Some((names, delta)) if names.contains(&n.name) => in_canvas.translate(*delta),
                    _ => in_canvas,
                };
                (n.name.clone(), screen_from_canvas * shifted)
            })
            .collect();
        let payload = egui::DragAndDrop::payload::<PaletteItem>(ui.ctx());
        let grouping_target = match (payload.as_deref(), pointer.filter(|p| rect.contains(*p))) {
            (Some(PaletteItem::Grouping(_)), Some(p)) => edge_under(t, &node_rects, zoom, p),
            _ => None,
        };
        Self {
            input,
            t,
            rect,
            painter: ui.painter_at(rect),
            visuals: ui.visuals().clone(),
            screen_from_canvas,
            zoom,
            pointer,
            node_rects,
            payload,
            grouping_target,
        }
    }

    /// The pointer, if it is over the canvas.
    pub fn pointer_in_rect(&self) -> Option<Pos2> {
        self.pointer.filter(|p| self.rect.contains(*p))
    }

    /// The node (other than `except`) whose box, a little enlarged, holds `p`.
    pub fn node_at(&self, p: Pos2, except: &str) -> Option<&str> {
        self.node_rects
            .iter()
            .find(|(name, r)| *name != except && r.expand(10.0).contains(p))
            .map(|(name, _)| name.as_str())
    }

    /// The canvas fill and its grid.
    pub fn paint_background(&self, view: &CanvasView) {
        let dark = self.visuals.dark_mode;
        let canvas_fill = super::style::canvas_fill(&self.visuals);
        self.painter
            .rect_filled(self.rect, CornerRadius::ZERO, canvas_fill);
        let (minor, major) = if dark {
            (Color32::from_gray(0x24), Color32::from_gray(0x2e))
        } else {
            (Color32::from_gray(0xe8), Color32::from_gray(0xdc))
        };
        grid::paint_grid(
            &self.painter,
            self.rect,
            view,
            Stroke::new(1.0, minor),
            Stroke::new(1.0, major),
        );
    }

    /// A boxed note next to the pointer (why a connection would be refused).
    pub fn paint_hint(&self, at: Pos2, text: &str, color: Color32) {
        let galley = self.painter.layout(
            text.to_string(),
            egui::FontId::proportional(12.0),
            color,
            320.0,
        );
        let r = Rect::from_min_size(at, galley.size()).expand(5.0);
        self.painter.rect(
            r,
            CornerRadius::same(4),
            self.visuals.extreme_bg_color,
            Stroke::new(1.0, color),
            StrokeKind::Inside,
        );
        self.painter.galley(at, galley, color);
    }
}

/// The edge nearest `p` (its curve or its label), within reach of a drop.
fn edge_under(
    t: &Topology,
    node_rects: &BTreeMap<String, Rect>,
    zoom: f32,
    p: Pos2,
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
