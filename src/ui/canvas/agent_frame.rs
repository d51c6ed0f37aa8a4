//! Flume agents as labelled frames behind their nodes, sink groups as dashed outlines
//! around their sinks, and avro hops as dashed lines from an agent's avro sink to the
//! avro source it delivers to.
//!
//! A Flume agent is one process in Flume; on one canvas several agents sit side by side.
//! The frame makes "which agent runs this" visible at a glance, and hops between agents
//! then read as lines leaving one frame and entering another. Everything here is drawn
//! under the edges and nodes, in screen space from the node rectangles the canvas
//! computed (so frames follow nodes while they are dragged).

use std::collections::BTreeMap;

use egui::{
    Align2, Color32, CornerRadius, FontId, Painter, Pos2, Rect, Sense, Shape, Stroke, StrokeKind,
    Ui, Vec2, Visuals, WidgetInfo,
};

use super::CanvasAction;
use super::style;
use crate::design::selection::Selection;
use crate::model::flume::{AvroHop, avro_hops};
use crate::model::{Role, SinkGroup, SinkProcessor, Topology};

/// Room around an agent's nodes, in canvas units: above for the agent's label and the
/// run overlay's rate badges, below for the overlay's status lines.
pub const AGENT_MARGIN: Margins = Margins {
    left: 16.0,
    right: 16.0,
    top: 48.0,
    bottom: 40.0,
};

/// Room around a sink group's sinks, in canvas units: above for its legend and the
/// sinks' rate badges, below for their status lines.
pub const SINK_GROUP_MARGIN: Margins = Margins {
    left: 8.0,
    right: 8.0,
    top: 30.0,
    bottom: 36.0,
};

/// Extra room an agent frame keeps around a sink group's outline.
const GROUP_IN_AGENT: f32 = 8.0;

/// Padding on each side of a box, in canvas units (scaled by zoom when drawn).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Margins {
    pub left: f32,
    pub right: f32,
    pub top: f32,
    pub bottom: f32,
}

impl Margins {
    fn scaled(self, zoom: f32) -> Self {
        Self {
            left: self.left * zoom,
            right: self.right * zoom,
            top: self.top * zoom,
            bottom: self.bottom * zoom,
        }
    }
}

/// The box around `rects` grown by `margins`, or `None` when there are no rects.
pub fn frame_around(rects: impl IntoIterator<Item = Rect>, margins: Margins) -> Option<Rect> {
    let bounds = rects.into_iter().fold(Rect::NOTHING, Rect::union);
    bounds.is_positive().then(|| {
        Rect::from_min_max(
            bounds.min - Vec2::new(margins.left, margins.top),
            bounds.max + Vec2::new(margins.right, margins.bottom),
        )
    })
}

/// Agent name → the names of its nodes, in name order.
pub fn agent_members(t: &Topology) -> BTreeMap<String, Vec<String>> {
    let mut agents: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for node in t.nodes() {
        if let Some(agent) = node.agent.as_deref().filter(|a| !a.is_empty()) {
            agents
                .entry(agent.to_string())
                .or_default()
                .push(node.name.clone());
        }
    }
    for members in agents.values_mut() {
        members.sort();
    }
    agents
}

/// The screen box around a sink group's sinks (those drawn this frame).
pub fn sink_group_rect(
    group: &SinkGroup,
    node_rects: &BTreeMap<String, Rect>,
    zoom: f32,
) -> Option<Rect> {
    frame_around(
        group
            .sinks
            .iter()
            .filter_map(|s| node_rects.get(s).copied()),
        SINK_GROUP_MARGIN.scaled(zoom),
    )
}

/// The screen box of an agent's frame: its nodes and the outlines of sink groups whose
/// sinks belong to it, with room for labels and overlays.
pub fn agent_rect(
    members: &[String],
    groups: &[SinkGroup],
    node_rects: &BTreeMap<String, Rect>,
    zoom: f32,
) -> Option<Rect> {
    let nodes = frame_around(
        members.iter().filter_map(|m| node_rects.get(m).copied()),
        AGENT_MARGIN.scaled(zoom),
    )?;
    let groups = groups
        .iter()
        .filter(|g| g.sinks.iter().any(|s| members.contains(s)))
        .filter_map(|g| sink_group_rect(g, node_rects, zoom))
        .map(|r| r.expand(GROUP_IN_AGENT * zoom));
    Some(groups.fold(nodes, Rect::union))
}

/// The canvas-space box around every agent frame (for fit-to-view).
pub fn frames_bounds_in_canvas(t: &Topology) -> Rect {
    let node_rects: BTreeMap<String, Rect> = t
        .nodes()
        .filter(|n| n.agent.is_some())
        .map(|n| (n.name.clone(), super::node_shape::rect_in_canvas(n)))
        .collect();
    agent_members(t)
        .values()
        .filter_map(|members| agent_rect(members, &t.sink_groups, &node_rects, 1.0))
        .fold(Rect::NOTHING, Rect::union)
}

/// The word Flume uses for a sink group's processor.
pub fn processor_word(processor: &SinkProcessor) -> &'static str {
    match processor {
        SinkProcessor::Default => "default",
        SinkProcessor::Failover { .. } => "failover",
        SinkProcessor::LoadBalance { .. } => "load_balance",
    }
}

/// The colours of one agent's frame: translucent fill, outline, label.
struct Tint {
    fill: Color32,
    stroke: Color32,
    text: Color32,
}

/// Hues for agent frames, apart from the role accents so frames never read as nodes.
const AGENT_HUES: [Color32; 6] = [
    Color32::from_rgb(0x5b, 0x8d, 0xef),
    Color32::from_rgb(0xb0, 0x6c, 0xe0),
    Color32::from_rgb(0x2a, 0xa7, 0xb8),
    Color32::from_rgb(0xd0, 0x5c, 0x9a),
    Color32::from_rgb(0x8a, 0x9a, 0x3a),
    Color32::from_rgb(0x9a, 0x7a, 0x5a),
];

/// The tint of the `index`th agent (in name order), so agents on one canvas differ.
fn tint(index: usize, visuals: &Visuals) -> Tint {
    let hue = AGENT_HUES[index % AGENT_HUES.len()];
    if visuals.dark_mode {
        Tint {
            fill: hue.gamma_multiply(0.09),
            stroke: hue.gamma_multiply(0.55),
            text: style::mix(hue, Color32::WHITE, 0.35),
        }
    } else {
        Tint {
            fill: hue.gamma_multiply(0.08),
            stroke: hue.gamma_multiply(0.6),
            text: style::mix(hue, Color32::BLACK, 0.4),
        }
    }
}

/// Draws agent frames, sink group outlines and avro hops; a click on an agent's label
/// selects its nodes.
pub fn agent_frames_ui(
    ui: &Ui,
    painter: &Painter,
    t: &Topology,
    node_rects: &BTreeMap<String, Rect>,
    zoom: f32,
) -> Vec<CanvasAction> {
    let visuals = ui.visuals();
    let mut actions = Vec::new();
    let agents = agent_members(t);
    for (index, (agent, members)) in agents.iter().enumerate() {
        let Some(frame) = agent_rect(members, &t.sink_groups, node_rects, zoom) else {
            continue;
        };
        let tint = tint(index, visuals);
        painter.rect(
            frame,
            CornerRadius::same((14.0 * zoom).clamp(2.0, 40.0) as u8),
            tint.fill,
            Stroke::new((1.2 * zoom).max(1.0), tint.stroke),
            StrokeKind::Inside,
        );
        let label_rect = paint_agent_label(painter, frame, agent, zoom, &tint);
        let id = ui.scope_id().with(("agent", agent));
        let response = ui.interact(label_rect, id, Sense::click());
        let accessible = format!("agent {agent}");
        response.widget_info(|| WidgetInfo::labeled(egui::Role::Button, true, &accessible));
        let response = response.on_hover_text(format!(
            "Flume agent {agent}: {} nodes. Click to select them.",
            members.len()
        ));
        if response.clicked() {
            actions.push(CanvasAction::Select(Selection {
                nodes: members.iter().cloned().collect(),
                edge: None,
            }));
        }
    }
    for group in &t.sink_groups {
        sink_group_ui(ui, painter, visuals, group, node_rects, zoom);
    }
    for hop in avro_hops(t) {
        hop_ui(ui, painter, visuals, &hop, node_rects, zoom);
    }
    actions
}

/// "AGENT name" at the frame's top-left; returns the label's box (for clicks).
fn paint_agent_label(painter: &Painter, frame: Rect, agent: &str, zoom: f32, tint: &Tint) -> Rect {
    let z = zoom.max(0.4);
    let at = frame.left_top() + Vec2::new(12.0, 8.0) * z;
    let word = painter.layout_no_wrap("AGENT".into(), FontId::proportional(11.0 * z), tint.text);
    let name = super::node_shape::one_line(
        painter,
        agent,
        FontId::proportional(16.0 * z),
        tint.text,
        (frame.width() - 24.0 * z - word.size().x).max(20.0),
    );
    let name_at = at + Vec2::new(word.size().x + 5.0 * z, 0.0);
    let word_at = Pos2::new(at.x, name_at.y + name.size().y - word.size().y - 1.0 * z);
    let rect = Rect::from_min_size(
        at,
        Vec2::new(name_at.x - at.x + name.size().x, name.size().y),
    );
    painter.galley(word_at, word, tint.text);
    painter.galley(name_at, name, tint.text);
    rect.expand(3.0 * z)
}

/// A dashed outline around a sink group's sinks with a legend naming its processor.
fn sink_group_ui(
    ui: &Ui,
    painter: &Painter,
    visuals: &Visuals,
    group: &SinkGroup,
    node_rects: &BTreeMap<String, Rect>,
    zoom: f32,
) {
    let Some(r) = sink_group_rect(group, node_rects, zoom) else {
        return;
    };
    let z = zoom.max(0.4);
    let color = style::mix(
        style::role_accent(Role::Sink),
        visuals.text_color(),
        if visuals.dark_mode { 0.3 } else { 0.45 },
    );
    let corners = [
        r.left_top(),
        r.right_top(),
        r.right_bottom(),
        r.left_bottom(),
    ];
    let path = [corners[0], corners[1], corners[2], corners[3], corners[0]];
    let stroke = Stroke::new((1.2 * zoom).max(1.0), color);
    painter.extend(Shape::dashed_line(&path, stroke, 6.0 * z, 4.0 * z));
    let processor = processor_word(&group.processor);
    let text = format!("{processor} · {}", group.name);
    let galley = super::node_shape::one_line(
        painter,
        &text,
        FontId::proportional(11.0 * z),
        color,
        (r.width() - 20.0 * z).max(20.0),
    );
    let legend = Align2::LEFT_CENTER
        .anchor_size(r.left_top() + Vec2::new(10.0 * z, 0.0), galley.size())
        .expand2(Vec2::new(4.0, 1.0) * z);
    let canvas_fill = if visuals.dark_mode {
        Color32::from_rgb(0x1a, 0x1b, 0x1f)
    } else {
        Color32::from_rgb(0xf4, 0xf5, 0xf7)
    };
    painter.rect_filled(legend, CornerRadius::same(3), canvas_fill);
    painter.galley(legend.min + Vec2::new(4.0, 1.0) * z, galley, color);
    let id = ui.scope_id().with(("sink group", &group.name));
    let response = ui.interact(legend, id, Sense::hover());
    let accessible = format!("sink group {}: {processor}", group.name);
    response.widget_info(|| WidgetInfo::labeled(egui::Role::Label, true, &accessible));
    response.on_hover_text(format!(
        "Sink group {} ({processor}): {}",
        group.name,
        group.sinks.join(", ")
    ));
}

/// A dashed line from an avro sink to the avro source it delivers to, labelled with the
/// port: the hop between two agents (or tiers).
fn hop_ui(
    ui: &Ui,
    painter: &Painter,
    visuals: &Visuals,
    hop: &AvroHop,
    node_rects: &BTreeMap<String, Rect>,
    zoom: f32,
) {
    let (Some(sink), Some(source)) = (node_rects.get(&hop.sink), node_rects.get(&hop.source))
    else {
        return;
    };
    let z = zoom.max(0.4);
    let from = sink.right_center();
    let to = source.left_center();
    let points = bezier_points(from, to, 24);
    let color = style::edge_color(visuals);
    let stroke = Stroke::new((1.6 * zoom).max(1.0), color);
    painter.extend(Shape::dashed_line(&points, stroke, 7.0 * z, 5.0 * z));
    // An arrow head where the hop arrives.
    let tip = to;
    let back = Vec2::new(-9.0, 0.0) * z;
    let side = Vec2::new(0.0, 4.5) * z;
    painter.add(Shape::convex_polygon(
        vec![tip, tip + back + side, tip + back - side],
        color,
        Stroke::NONE,
    ));
    let mid = points[points.len() / 2];
    let text = format!("avro :{}", hop.port);
    let galley = painter.layout_no_wrap(text.clone(), FontId::proportional(11.0 * z), color);
    let label = Align2::CENTER_BOTTOM
        .anchor_size(mid - Vec2::new(0.0, 4.0 * z), galley.size())
        .expand2(Vec2::new(3.0, 1.0) * z);
    painter.galley(label.min + Vec2::new(3.0, 1.0) * z, galley, color);
    let id = ui.scope_id().with(("hop", &hop.sink, &hop.source));
    let response = ui.interact(label, id, Sense::hover());
    let accessible = format!("hop {} → {}: {text}", hop.sink, hop.source);
    response.widget_info(|| WidgetInfo::labeled(egui::Role::Label, true, &accessible));
    response.on_hover_text(format!(
        "Avro hop: {} delivers to {} (port {}); its take commits only after the next \
         channel has the events",
        hop.sink, hop.source, hop.port
    ));
}

/// Points along the same S-shaped curve edges use, for a dashed line.
fn bezier_points(from: Pos2, to: Pos2, steps: usize) -> Vec<Pos2> {
    let dx = ((to.x - from.x).abs() * 0.5).max(30.0);
    let c1 = from + Vec2::new(dx, 0.0);
    let c2 = to - Vec2::new(dx, 0.0);
    (0..=steps)
        .map(|i| {
            let s = i as f32 / steps as f32;
            let u = 1.0 - s;
            let p = from.to_vec2() * (u * u * u)
                + c1.to_vec2() * (3.0 * u * u * s)
                + c2.to_vec2() * (3.0 * u * s * s)
                + to.to_vec2() * (s * s * s);
            p.to_pos2()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Node, Pos};

    fn at(name: &str, role: Role, agent: Option<&str>, x: f32, y: f32) -> Node {
        let component = match role {
            Role::Source => "sequence",
            Role::Channel => "memory",
            _ => "null",
        };
        let mut n = Node::new(name, role, component);
        n.agent = agent.map(str::to_string);
        n.pos = Pos(x, y);
        n
    }

    fn rects(t: &Topology) -> BTreeMap<String, Rect> {
        t.nodes()
            .map(|n| (n.name.clone(), super::super::node_shape::rect_in_canvas(n)))
            .collect()
    }

    #[test]
    fn a_frame_is_the_bounding_box_of_its_rects_plus_margins() {
        let a = Rect::from_min_size(Pos2::new(0.0, 0.0), Vec2::new(10.0, 10.0));
        let b = Rect::from_min_size(Pos2::new(100.0, 50.0), Vec2::new(10.0, 10.0));
        let m = Margins {
            left: 1.0,
            right: 2.0,
            top: 3.0,
            bottom: 4.0,
        };
        let r = frame_around([a, b], m).unwrap();
        assert_eq!(r.min, Pos2::new(-1.0, -3.0));
        assert_eq!(r.max, Pos2::new(112.0, 64.0));
        assert_eq!(frame_around([], m), None);
    }

    #[test]
    fn agents_group_their_nodes_and_nodes_without_an_agent_stay_out() {
        let mut t = Topology::new("t");
        t.add_node(at("b-src", Role::Source, Some("tier2"), 400.0, 0.0))
            .unwrap();
        t.add_node(at("a-ch", Role::Channel, Some("tier1"), 200.0, 0.0))
            .unwrap();
        t.add_node(at("a-src", Role::Source, Some("tier1"), 0.0, 100.0))
            .unwrap();
        t.add_node(at("loose", Role::Sink, None, 900.0, 900.0))
            .unwrap();
        let agents = agent_members(&t);
        assert_eq!(
            agents.into_iter().collect::<Vec<_>>(),
            vec![
                ("tier1".to_string(), vec!["a-ch".into(), "a-src".into()]),
                ("tier2".to_string(), vec!["b-src".into()]),
            ]
        );
        let r = rects(&t);
        let tier1 = agent_rect(&["a-ch".into(), "a-src".into()], &[], &r, 1.0).unwrap();
        // Nodes are 150 × 64: a-src spans (0,100)–(150,164), a-ch (200,0)–(350,64).
        assert_eq!(tier1.min, Pos2::new(-16.0, -48.0));
        assert_eq!(tier1.max, Pos2::new(366.0, 204.0));
        assert!(!tier1.contains(r["b-src"].center()));
        assert!(!tier1.contains(r["loose"].center()));
    }

    #[test]
    fn an_agent_frame_takes_in_its_sink_groups_outline_and_scales_with_zoom() {
        let mut t = Topology::new("t");
        t.add_node(at("k1", Role::Sink, Some("a"), 0.0, 0.0))
            .unwrap();
        t.add_node(at("k2", Role::Sink, Some("a"), 0.0, 100.0))
            .unwrap();
        let group = SinkGroup {
            name: "g".into(),
            sinks: vec!["k1".into(), "k2".into()],
            processor: SinkProcessor::Failover {
                priorities: BTreeMap::new(),
                max_penalty_ms: 1000,
            },
        };
        let r = rects(&t);
        let outline = sink_group_rect(&group, &r, 1.0).unwrap();
        assert_eq!(outline.min, Pos2::new(-8.0, -30.0));
        assert_eq!(outline.max, Pos2::new(158.0, 200.0));
        let members = ["k1".to_string(), "k2".to_string()];
        let frame = agent_rect(&members, std::slice::from_ref(&group), &r, 1.0).unwrap();
        assert!(frame.contains_rect(outline.expand(GROUP_IN_AGENT)));
        // At half zoom the margins halve too (node rects are given already on screen).
        let half: BTreeMap<String, Rect> = r
            .iter()
            .map(|(k, v)| (k.clone(), Rect::from_min_max(v.min * 0.5, v.max * 0.5)))
            .collect();
        let small = sink_group_rect(&group, &half, 0.5).unwrap();
        assert_eq!(small.min, Pos2::new(-4.0, -15.0));
        assert_eq!(processor_word(&group.processor), "failover");
    }

    #[test]
    fn avro_sinks_pair_with_the_source_on_their_port() {
        let mut t = Topology::new("t");
        let with_port = |mut n: Node, component: &str, port: Option<i64>| {
            n.component = component.to_string();
            if let Some(p) = port {
                n.config.insert("port".into(), crate::model::Value::Int(p));
            }
            n
        };
        t.add_node(with_port(
            at("fwd", Role::Sink, Some("edge"), 0.0, 0.0),
            "avro_sink",
            Some(4646),
        ))
        .unwrap();
        t.add_node(with_port(
            at("in", Role::Source, Some("collector"), 300.0, 0.0),
            "avro_source",
            Some(4646),
        ))
        .unwrap();
        t.add_node(with_port(
            at("other-in", Role::Source, Some("collector"), 300.0, 200.0),
            "avro_source",
            None,
        ))
        .unwrap();
        t.add_node(with_port(
            at("default-fwd", Role::Sink, Some("edge"), 0.0, 200.0),
            "avro_sink",
            None,
        ))
        .unwrap();
        assert_eq!(
            avro_hops(&t),
            vec![
                AvroHop {
                    sink: "default-fwd".into(),
                    source: "other-in".into(),
                    port: crate::model::flume::DEFAULT_AVRO_PORT,
                },
                AvroHop {
                    sink: "fwd".into(),
                    source: "in".into(),
                    port: 4646,
                },
            ]
        );
    }

    /// Auto layout on every shipped example: agent frames (as drawn, margins and sink
    /// group outlines included) overlap neither each other nor nodes outside them, and
    /// every avro hop runs left to right.
    #[test]
    fn auto_layout_keeps_agent_frames_apart_and_hops_left_to_right() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("topologies");
        let mut checked = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "ron") {
                continue;
            }
            let mut t = crate::format::load_ron(&path).unwrap();
            crate::format::layout::layered(&mut t);
            let node_rects = rects(&t);
            let frames: Vec<(String, Rect)> = agent_members(&t)
                .iter()
                .filter_map(|(agent, members)| {
                    let r = agent_rect(members, &t.sink_groups, &node_rects, 1.0)?;
                    Some((agent.clone(), r))
                })
                .collect();
            let name = path.display();
            for (i, (a, ra)) in frames.iter().enumerate() {
                for (b, rb) in &frames[i + 1..] {
                    assert!(!ra.intersects(*rb), "{name}: frames {a} and {b} overlap");
                }
                for n in t.nodes().filter(|n| n.agent.as_deref() != Some(a.as_str())) {
                    assert!(
                        !ra.intersects(node_rects[&n.name]),
                        "{name}: frame {a} covers {}",
                        n.name
                    );
                }
            }
            for hop in avro_hops(&t) {
                let x = |n: &str| t.node_by_name(n).unwrap().pos.0;
                assert!(
                    x(&hop.sink) < x(&hop.source),
                    "{name}: hop {} → {} runs backwards",
                    hop.sink,
                    hop.source
                );
            }
            checked += frames.len();
        }
        assert!(checked >= 4, "the examples have agents to check");
    }
}
