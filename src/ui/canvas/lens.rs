//! The grouping lens on the canvas: a node the learner expanded ("Show tasks") gets one
//! lane per task under it, labelled with its Storm task id, and the edges at it are
//! drawn again task to task, each link as thick as its share of the deliveries (from
//! the run's per task-pair counts) with the count written on it.
//!
//! The task ids come from the plan (`runtime::key_route::task_ids`), so lanes show
//! before anything runs; the counts come from the run overlay, so a threaded run and a
//! Lab mode run look alike.

use std::collections::{BTreeMap, BTreeSet};

use egui::epaint::CubicBezierShape;
use egui::{
    Align2, Color32, CornerRadius, FontId, Pos2, Rect, Sense, Stroke, StrokeKind, Ui, Vec2,
};

use super::edge_shape::{self, EdgeCurve};
use super::frame::Frame;
use super::overlay::{compact, count_text};
use super::style;
use crate::model::{ExecutionMode, Role, Topology};
use crate::runtime::key_route;

/// More tasks than this and a node's lanes would be too thin to read: the lens says so.
pub const MAX_LANES: usize = 16;

/// Task ids by node name, or why the design has none yet.
type TaskIds = Result<BTreeMap<String, Vec<u32>>, String>;

/// Which nodes are shown as their tasks. Kept by the canvas across frames; the
/// inspector's "Show tasks" toggles it (through `Action::ShowTasks`).
#[derive(Debug, Default, Clone)]
pub struct Lens {
    expanded: BTreeSet<String>,
    /// The document generation of the design shown (`Document::generation`).
    generation: u64,
    /// The task ids and the generation they were worked out for: compiling a plan every
    /// frame would cost a big design a good part of its frame budget.
    ids: Option<(u64, TaskIds)>,
}

impl Lens {
    pub fn shows(&self, node: &str) -> bool {
        self.expanded.contains(node)
    }

    pub fn set(&mut self, node: &str, shown: bool) {
        if shown {
            self.expanded.insert(node.to_string());
        } else {
            self.expanded.remove(node);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.expanded.is_empty()
    }

    /// Says which state of the design is shown, by its document generation (which
    /// changes with every edit, undo and opened file); the app calls it every frame.
    pub fn note_generation(&mut self, generation: u64) {
        self.generation = generation;
    }

    /// Every Storm node's task ids as a run of `t` numbers them, `t` being the design
    /// of the noted generation; worked out again only when the generation moved.
    pub fn task_ids(&mut self, t: &Topology) -> Result<&BTreeMap<String, Vec<u32>>, &str> {
        if self
            .ids
            .as_ref()
            .is_none_or(|(seen, _)| *seen != self.generation)
        {
            let ids = key_route::task_ids(t).map_err(|e| e.to_string());
            self.ids = Some((self.generation, ids));
        }
        match &self.ids {
            Some((_, Ok(ids))) => Ok(ids),
            Some((_, Err(e))) => Err(e.as_str()),
            None => Err("no design"),
        }
    }
}

/// Lane boxes on screen under a node's box: below the run notes drawn under nodes.
fn lane_rects(node_on_screen: Rect, tasks: usize, zoom: f32) -> Vec<Rect> {
    let (h, gap) = (18.0 * zoom, 3.0 * zoom);
    let top = node_on_screen.bottom() + 40.0 * zoom;
    (0..tasks)
        .map(|i| {
            Rect::from_min_size(
                Pos2::new(node_on_screen.left(), top + i as f32 * (h + gap)),
                Vec2::new(node_on_screen.width(), h),
            )
        })
        .collect()
}

/// The accessible name of a lane: what a screen reader (and the UI tests) find.
pub fn lane_label(node: &str, task: u32) -> String {
    format!("{node}: task {task}")
}

/// The accessible name of a task-to-task link; each end is `task 7`, or a node's name
/// when that node is not expanded.
pub fn link_label(from: &str, to: &str) -> String {
    format!("link: {from} → {to}")
}

/// Draws every expanded node's lanes, then the task-to-task links of the edges at them.
pub(super) fn lens_ui(ui: &Ui, f: &Frame<'_>, lens: &mut Lens) {
    // Task lanes are the record-at-a-time engine's; a micro-batch run has no such tasks.
    if lens.is_empty() || f.t.settings.mode != ExecutionMode::RecordAtATime {
        return;
    }
    let expanded = lens.expanded.clone();
    let ids = match lens.task_ids(f.t) {
        Ok(ids) => ids,
        Err(e) => {
            for name in &expanded {
                if let Some(r) = f.node_rects.get(name) {
                    let at = r.center_bottom() + Vec2::new(0.0, 40.0 * f.zoom);
                    let why = format!("tasks show once the design runs: {e}");
                    f.paint_hint(at, &why, style::problem_color(&f.visuals));
                }
            }
            return;
        }
    };
    // Where each expanded node's tasks sit: task id → lane box.
    let mut lanes: BTreeMap<&str, BTreeMap<u32, Rect>> = BTreeMap::new();
    for name in &expanded {
        let (Some(r), Some(tasks)) = (f.node_rects.get(name), ids.get(name)) else {
            continue;
        };
        if tasks.len() > MAX_LANES {
            let at = r.center_bottom() + Vec2::new(0.0, 40.0 * f.zoom);
            let text = format!("{} tasks: too many to draw", tasks.len());
            f.paint_hint(at, &text, f.visuals.weak_text_color());
            continue;
        }
        let boxes = lane_rects(*r, tasks.len(), f.zoom);
        lanes.insert(name, tasks.iter().copied().zip(boxes).collect());
    }
    let totals = links_ui(ui, f, &lanes);
    for (name, tasks) in &lanes {
        for (&task, &lane) in tasks {
            let total = totals.get(&(name.to_string(), task)).copied();
            paint_lane(ui, f, name, task, lane, total);
        }
    }
}

/// Tuples a task received and sent along the edges drawn, by (node, task).
type LaneTotals = BTreeMap<(String, u32), (u64, u64)>;

/// `in 1,204 · out 2,408`: a lane's totals, only the sides it has.
fn totals_text((got, sent): (u64, u64)) -> String {
    let mut parts = Vec::new();
    if got > 0 {
        parts.push(format!("in {}", compact(got as f64)));
    }
    if sent > 0 {
        parts.push(format!("out {}", compact(sent as f64)));
    }
    parts.join(" · ")
}

fn paint_lane(
    ui: &Ui,
    f: &Frame<'_>,
    node: &str,
    task: u32,
    lane: Rect,
    total: Option<(u64, u64)>,
) {
    let z = f.zoom;
    let accent =
        f.t.node_by_name(node)
            .map_or(f.visuals.weak_text_color(), style::accent);
    f.painter.rect(
        lane,
        CornerRadius::same(4),
        style::body_fill(accent, &f.visuals),
        Stroke::new((1.0 * z).max(0.5), accent),
        StrokeKind::Inside,
    );
    if z >= 0.5 {
        f.painter.text(
            lane.left_center() + Vec2::new(6.0 * z, 0.0),
            Align2::LEFT_CENTER,
            format!("task {task}"),
            FontId::proportional(11.0 * z),
            f.visuals.text_color(),
        );
        if let Some(total) = total {
            f.painter.text(
                lane.right_center() - Vec2::new(6.0 * z, 0.0),
                Align2::RIGHT_CENTER,
                totals_text(total),
                FontId::proportional(10.0 * z),
                f.visuals.weak_text_color(),
            );
        }
    }
    let id = ui.scope_id().with(("lens-lane", node, task));
    let label = lane_label(node, task);
    let response = ui.interact(lane, id, Sense::hover());
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Label, true, &label));
    let numbers = total.map_or(String::new(), |(got, sent)| {
        format!("\nSo far it received {got} and sent {sent} tuples on the edges drawn.")
    });
    response.on_hover_text(format!(
        "Task {task} of {node}, as Storm numbers tasks (components in name order, \
         each with a block of ids from 1).{numbers}"
    ));
}

/// One end of a link: a task's lane when its node is expanded, else the node's port.
fn end_of(
    lanes: &BTreeMap<&str, BTreeMap<u32, Rect>>,
    node: &str,
    task: u32,
    port: Pos2,
    output: bool,
) -> (Option<u32>, Pos2) {
    match lanes.get(node).and_then(|l| l.get(&task)) {
        Some(r) if output => (Some(task), r.right_center()),
        Some(r) => (Some(task), r.left_center()),
        None => (None, port),
    }
}

/// A link's count, placed once every link is drawn.
struct LinkLabel {
    curve: EdgeCurve,
    /// Where along the link the count would best sit.
    t: f32,
    tuples: u64,
    label: String,
    id: egui::Id,
}

/// A link's sending and receiving task (`None`: that end's node is not expanded).
type LinkEnds = (Option<u32>, Option<u32>);

/// The task-to-task links of every edge with an expanded end, from the run's counts.
/// Returns what each task received and sent on them.
fn links_ui(ui: &Ui, f: &Frame<'_>, lanes: &BTreeMap<&str, BTreeMap<u32, Rect>>) -> LaneTotals {
    let mut totals = LaneTotals::new();
    let mut labels = Vec::new();
    let Some(overlay) = f.input.overlay else {
        return totals;
    };
    let color = f.visuals.selection.stroke.color;
    for named in f.t.edge_list() {
        let (from, to) = (named.from.as_str(), named.to.as_str());
        if !lanes.contains_key(from) && !lanes.contains_key(to) {
            continue;
        }
        // Links into or out of Flume nodes are a channel's puts and takes, not tasks.
        let storm = |name: &str| {
            f.t.node_by_name(name)
                .is_some_and(|n| matches!(n.role, Role::Spout | Role::Bolt))
        };
        if !storm(from) || !storm(to) {
            continue;
        }
        let (Some(a), Some(b)) = (f.node_rects.get(from), f.node_rects.get(to)) else {
            continue;
        };
        let key = (named.from.clone(), named.to.clone(), named.stream.clone());
        let Some(pairs) = overlay.pairs.get(&key) else {
            continue;
        };
        let Some(pairs) = pairs else {
            let at = b.left_center() - Vec2::new(60.0 * f.zoom, 0.0);
            let text = "too many task pairs to draw";
            f.paint_hint(at, text, f.visuals.weak_text_color());
            continue;
        };
        // Links between the same two ends add up (a collapsed end gathers its tasks).
        let mut links: BTreeMap<LinkEnds, (Pos2, Pos2, u64)> = BTreeMap::new();
        for &(s, r, n) in pairs {
            totals.entry((named.from.clone(), s)).or_default().1 += n;
            totals.entry((named.to.clone(), r)).or_default().0 += n;
            let (sk, sp) = end_of(lanes, from, s, a.right_center(), true);
            let (rk, rp) = end_of(lanes, to, r, b.left_center(), false);
            links.entry((sk, rk)).or_insert((sp, rp, 0)).2 += n;
        }
        let most = links.values().map(|l| l.2).max().unwrap_or(1).max(1) as f32;
        let senders: Vec<Option<u32>> = links
            .keys()
            .map(|k| k.0)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        for ((sk, rk), (sp, rp, n)) in links {
            let share = n as f32 / most;
            let width = (1.0 + 5.0 * share) * f.zoom.max(0.5);
            let curve = EdgeCurve::between(sp, rp, f.zoom);
            edge_shape::paint_curve(
                &f.painter,
                &curve,
                Stroke::new(width, color.gamma_multiply(0.8)),
            );
            // Labels sit where the links are apart: near the expanded end, and with
            // several senders, each sender's labels at their own distance along.
            let rank = senders.iter().position(|&x| x == sk).unwrap_or(0) as f32;
            let t = match (sk, rk) {
                (_, None) => 0.25,
                (None, _) => 0.75,
                _ => 0.8 - 0.6 * rank / senders.len().max(1) as f32,
            };
            let end = |k: Option<u32>, node: &str| match k {
                Some(t) => format!("task {t}"),
                None => node.to_string(),
            };
            labels.push(LinkLabel {
                curve,
                t,
                tuples: n,
                label: link_label(&end(sk, from), &end(rk, to)),
                id: ui
                    .scope_id()
                    .with(("lens-link", from, to, &named.stream, sk, rk)),
            });
        }
    }
    // Over every link: each count where it covers no lane and no other count; a count
    // with no such place is left to its tooltip (the link's width still shows it).
    let mut taken: Vec<Rect> = lanes.values().flat_map(|l| l.values().copied()).collect();
    for l in labels {
        let font = FontId::proportional(10.0 * f.zoom.max(0.6));
        let galley = f
            .painter
            .layout_no_wrap(count_text(l.tuples), font, f.visuals.text_color());
        let shape = CubicBezierShape::from_points_stroke(
            l.curve.points,
            false,
            Color32::TRANSPARENT,
            Stroke::NONE,
        );
        let place = |t: f32| {
            Align2::CENTER_CENTER
                .anchor_size(shape.sample(t), galley.size())
                .expand(2.0)
        };
        let free = [l.t, 0.5, 0.35, 0.65, 0.2, 0.8]
            .into_iter()
            .map(place)
            .find(|r| !taken.iter().any(|o| o.intersects(*r)));
        let r = free.unwrap_or_else(|| place(l.t));
        if free.is_some() {
            taken.push(r);
            f.painter
                .rect_filled(r, CornerRadius::same(3), style::rate_pill_fill(&f.visuals));
            f.painter
                .galley(r.min + Vec2::splat(2.0), galley, f.visuals.text_color());
        }
        let response = ui.interact(r, l.id, Sense::hover());
        let accessible = format!("{}: {}", l.label, l.tuples);
        response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Label, true, &accessible));
        response.on_hover_text(format!("{}: {} tuples delivered so far", l.label, l.tuples));
    }
    totals
}
