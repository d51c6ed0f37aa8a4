//! SVG picture of a topology, drawn from the model alone: nodes where the canvas puts
//! them, so slides and docs can show the same layout the designer shows, without a
//! window or Graphviz. Every topology can be drawn, so this never fails.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::model::{DEFAULT_STREAM, Node, Role, Topology};

/// Node box size in canvas units; matches the designer's node size so layouts look alike.
const NODE_W: f32 = 150.0;
const NODE_H: f32 = 64.0;
/// Space around the drawing, so shapes and labels at the edge are not clipped.
const MARGIN: f32 = 40.0;
/// Padding of an agent frame around its nodes, with room above for its label.
const AGENT_PAD: f32 = 14.0;

/// The SVG document of a topology (canvas coordinates, cropped to the drawing).
pub fn export(topology: &Topology) -> String {
    let nodes: Vec<&Node> = topology
        .reading_order()
        .into_iter()
        .filter_map(|i| topology.node(i))
        .collect();
    let (min_x, min_y, max_x, max_y) = bounds(&nodes);
    let (ox, oy) = (MARGIN - min_x, MARGIN - min_y);
    let width = max_x - min_x + 2.0 * MARGIN;
    let height = max_y - min_y + 2.0 * MARGIN;

    let mut out = String::new();
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" viewBox=\"0 0 {width:.0} {height:.0}\" font-family=\"Helvetica, Arial, sans-serif\">"
    );
    let _ = writeln!(out, "  <title>{}</title>", escape(&topology.name));
    out.push_str(concat!(
        "  <defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" orient=\"auto-start-reverse\">",
        "<path d=\"M0,0 L10,5 L0,10 z\" fill=\"#707070\"/></marker></defs>\n"
    ));
    let _ = writeln!(
        out,
        "  <rect width=\"100%\" height=\"100%\" fill=\"#fbfbfc\"/>"
    );

    agents(&mut out, &nodes, ox, oy);

    let mut edges = topology.edge_list();
    edges.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    let by_name = topology.name_index();
    let node = |name: &str| by_name.get(name).and_then(|&i| topology.node(i));
    for e in edges {
        let (Some(from), Some(to)) = (node(&e.from), node(&e.to)) else {
            continue;
        };
        let x1 = from.pos.0 + ox + NODE_W;
        let y1 = from.pos.1 + oy + NODE_H / 2.0;
        // A sink's notch is its way in, so the arrow reaches into it.
        let notch = if to.role == Role::Sink { 14.0 } else { 0.0 };
        let x2 = to.pos.0 + ox + notch;
        let y2 = to.pos.1 + oy + NODE_H / 2.0;
        let bend = ((x2 - x1).abs() / 2.0).max(40.0);
        let mut label = e.grouping.label();
        if e.stream != DEFAULT_STREAM {
            label = format!("{}: {label}", e.stream);
        }
        let _ = writeln!(
            out,
            "  <path d=\"M{x1:.1},{y1:.1} C{:.1},{y1:.1} {:.1},{y2:.1} {x2:.1},{y2:.1}\" fill=\"none\" stroke=\"#707070\" stroke-width=\"1.5\" marker-end=\"url(#arrow)\"/>",
            x1 + bend,
            x2 - bend
        );
        let _ = writeln!(
            out,
            "  <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\" fill=\"#404040\">{}</text>",
            (x1 + x2) / 2.0,
            (y1 + y2) / 2.0 - 6.0,
            escape(&label)
        );
    }

    for node in &nodes {
        draw_node(&mut out, node, node.pos.0 + ox, node.pos.1 + oy);
    }
    out.push_str("</svg>\n");
    out
}

/// The canvas-space box around every node, or a small empty box for an empty topology.
fn bounds(nodes: &[&Node]) -> (f32, f32, f32, f32) {
    if nodes.is_empty() {
        return (0.0, 0.0, NODE_W, NODE_H);
    }
    let mut b = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
    for n in nodes {
        b.0 = b.0.min(n.pos.0);
        b.1 = b.1.min(n.pos.1);
        b.2 = b.2.max(n.pos.0 + NODE_W);
        b.3 = b.3.max(n.pos.1 + NODE_H);
    }
    // Agent frames and their labels reach beyond the nodes.
    (
        b.0 - AGENT_PAD,
        b.1 - AGENT_PAD - 16.0,
        b.2 + AGENT_PAD,
        b.3 + AGENT_PAD,
    )
}

/// Flume agents as dashed, labelled frames behind their nodes.
fn agents(out: &mut String, nodes: &[&Node], ox: f32, oy: f32) {
    let mut by_agent: BTreeMap<&str, (f32, f32, f32, f32)> = BTreeMap::new();
    for n in nodes {
        if let Some(agent) = n.agent.as_deref() {
            let b = by_agent
                .entry(agent)
                .or_insert((f32::MAX, f32::MAX, f32::MIN, f32::MIN));
            b.0 = b.0.min(n.pos.0);
            b.1 = b.1.min(n.pos.1);
            b.2 = b.2.max(n.pos.0 + NODE_W);
            b.3 = b.3.max(n.pos.1 + NODE_H);
        }
    }
    for (agent, (x0, y0, x1, y1)) in by_agent {
        let (x, y) = (x0 + ox - AGENT_PAD, y0 + oy - AGENT_PAD);
        let _ = writeln!(
            out,
            "  <rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{:.1}\" rx=\"10\" fill=\"none\" stroke=\"#9a9a9a\" stroke-dasharray=\"6 4\"/>",
            x1 - x0 + 2.0 * AGENT_PAD,
            y1 - y0 + 2.0 * AGENT_PAD
        );
        let _ = writeln!(
            out,
            "  <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" fill=\"#707070\">agent {}</text>",
            x + 4.0,
            y - 4.0,
            escape(agent)
        );
    }
}

fn colour(node: &Node) -> &'static str {
    if node.window.is_some() {
        return "#a06ce8";
    }
    match node.role {
        Role::Spout => "#1fa898",
        Role::Bolt => "#4a8cf0",
        Role::Source => "#4cb05a",
        Role::Channel => "#e0a830",
        Role::Sink => "#e06c50",
    }
}

/// One node: a role-specific outline, then role word, name, component and parallelism.
fn draw_node(out: &mut String, node: &Node, x: f32, y: f32) {
    let c = colour(node);
    let style = format!("fill=\"#ffffff\" stroke=\"{c}\" stroke-width=\"2\"");
    let (w, h) = (NODE_W, NODE_H);
    match node.role {
        // Emitters point forward: a box with an arrow-shaped right side.
        Role::Spout | Role::Source => {
            let _ = writeln!(
                out,
                "  <path d=\"M{x:.1},{y:.1} H{:.1} L{:.1},{:.1} L{:.1},{:.1} H{x:.1} z\" {style}/>",
                x + w - 14.0,
                x + w,
                y + h / 2.0,
                x + w - 14.0,
                y + h
            );
        }
        // Sinks take in: a notch on the left side.
        Role::Sink => {
            let _ = writeln!(
                out,
                "  <path d=\"M{x:.1},{y:.1} H{:.1} V{:.1} H{x:.1} L{:.1},{:.1} z\" {style}/>",
                x + w,
                y + h,
                x + 14.0,
                y + h / 2.0
            );
        }
        Role::Bolt | Role::Channel => {
            let dash = if node.window.is_some() {
                " stroke-dasharray=\"8 3\""
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "  <rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" rx=\"8\" {style}{dash}/>"
            );
        }
    }
    if node.role == Role::Channel {
        // A buffer: a row of cells along the bottom.
        for i in 0..6 {
            let _ = writeln!(
                out,
                "  <rect x=\"{:.1}\" y=\"{:.1}\" width=\"14\" height=\"6\" fill=\"{c}\" fill-opacity=\"0.35\" stroke=\"{c}\"/>",
                x + w - 8.0 - 16.0 * (6 - i) as f32,
                y + h - 10.0
            );
        }
    }
    let role = if node.window.is_some() {
        "window"
    } else {
        node.role.label()
    };
    let _ = writeln!(
        out,
        "  <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" fill=\"{c}\">{}</text>",
        x + 18.0,
        y + 14.0,
        escape(role)
    );
    let _ = writeln!(
        out,
        "  <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"end\" fill=\"#404040\">×{}</text>",
        x + w - 18.0,
        y + 14.0,
        node.parallelism
    );
    let _ = writeln!(
        out,
        "  <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"13\" font-weight=\"bold\" fill=\"#202020\">{}</text>",
        x + 18.0,
        y + 32.0,
        escape(&node.name)
    );
    let _ = writeln!(
        out,
        "  <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" fill=\"#606060\">{}</text>",
        x + 18.0,
        y + 46.0,
        escape(&super::dot::component_label(node))
    );
}

/// XML text and attribute escaping: names come from users and imported files.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters other than tab/newline are not allowed in XML 1.0.
            c if c.is_control() && c != '\t' && c != '\n' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Grouping;

    #[test]
    fn word_count_is_well_formed_and_names_everything() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/topologies/word_count.ron");
        let topology = crate::format::load_ron(std::path::Path::new(path)).unwrap();
        let svg = export(&topology);
        let doc = roxmltree::Document::parse(&svg).unwrap();
        assert_eq!(doc.root_element().tag_name().name(), "svg");
        for node in topology.nodes() {
            assert!(svg.contains(&escape(&node.name)), "{} missing", node.name);
        }
        for edge in topology.edge_list() {
            assert!(svg.contains(&escape(&edge.grouping.label())), "{svg}");
        }
    }

    #[test]
    fn markup_in_names_is_escaped() {
        let mut t = Topology::new("a<b>&c");
        t.add_node(Node::new("x<&>y", Role::Spout, "word_generator"))
            .unwrap();
        let mut sink = Node::new("out\"'", Role::Sink, "log_sink");
        sink.agent = Some("ag<1>".into());
        t.add_node(sink).unwrap();
        t.connect_names("x<&>y", "out\"'", DEFAULT_STREAM, Grouping::Shuffle)
            .unwrap();
        let svg = export(&t);
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let texts: Vec<&str> = doc.descendants().filter_map(|n| n.text()).collect();
        assert!(texts.contains(&"x<&>y"), "{svg}");
        assert!(texts.contains(&"agent ag<1>"), "{svg}");
        assert!(svg.contains("x&lt;&amp;&gt;y"));
    }

    #[test]
    fn empty_topology_is_a_valid_picture() {
        let svg = export(&Topology::new("empty"));
        assert!(roxmltree::Document::parse(&svg).is_ok(), "{svg}");
    }
}
