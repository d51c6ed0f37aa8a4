//! Rules about one edge: which roles may feed which (spouts and sources only emit,
//! sinks only drain, Flume and Storm meet through channels and bolts), the grouping that
//! fits the link, the stream and fields it names, and the teaching warning for a keyed
//! count fed without a fields grouping.

use super::diagnostic::{Diagnostic, Location, grouping_text};
use super::quoted;
use crate::model::{Grouping, LinkKind, Role, Topology, may_connect};

pub(super) fn check_edge(
    t: &Topology,
    e: petgraph::stable_graph::EdgeIndex,
    out: &mut Vec<Diagnostic>,
) {
    let (Some((a, b)), Some(edge)) = (t.edge_endpoints(e), t.edge(e)) else {
        return;
    };
    let (Some(from), Some(to)) = (t.node(a), t.node(b)) else {
        return;
    };
    let loc = || Location::Edge {
        from: from.name.clone(),
        to: to.name.clone(),
        stream: edge.stream.clone(),
    };
    if let Err(why) = may_connect(from.role, to.role) {
        out.push(Diagnostic::error(
            loc(),
            why.to_string(),
            "see the wiring rules in docs/file-format.md",
        ));
        return;
    }
    let expected = LinkKind::between(from.role, to.role);
    if !expected.fits(&edge.grouping) {
        out.push(Diagnostic::error(
            loc(),
            format!(
                "grouping '{}' does not apply to a {} → {} edge",
                grouping_text(&edge.grouping),
                from.role,
                to.role
            ),
            match expected {
                LinkKind::Selector => "edges into a channel use Required, Optional, Mapped([..]), MappedOptional([..]) or Default",
                LinkKind::Drain => "edges out of a channel use Drain",
                LinkKind::Storm => "Storm edges use Shuffle, Fields([..]), All, Global, Direct, LocalOrShuffle, None or PartialKey([..])",
            },
        ));
        return;
    }
    if from.role == Role::Channel {
        return; // channels pass events on unchanged and declare no streams of their own
    }
    let Some(decl) = from.output(&edge.stream) else {
        let streams: Vec<&str> = from.outputs.iter().map(|o| o.stream.as_str()).collect();
        out.push(Diagnostic::error(
            loc(),
            format!("'{}' declares no stream '{}'", from.name, edge.stream),
            if streams.is_empty() {
                format!("declare an output stream on '{}'", from.name)
            } else {
                format!("declared streams: {}", quoted(&streams))
            },
        ));
        return;
    };
    match &edge.grouping {
        Grouping::Fields(fields) if fields.is_empty() => out.push(Diagnostic::error(
            loc(),
            "fields grouping names no fields",
            format!("pick from: {}", decl.fields.join(", ")),
        )),
        Grouping::Direct if !decl.direct => out.push(Diagnostic::error(
            loc(),
            format!(
                "direct grouping on stream '{}', which is not declared direct",
                edge.stream
            ),
            "declare the stream with `direct: true`, or use another grouping",
        )),
        _ => {}
    }
    if decl.direct && edge.grouping != Grouping::Direct {
        out.push(Diagnostic::error(
            loc(),
            format!(
                "stream '{}' is direct, so it must be consumed with direct grouping",
                edge.stream
            ),
            "use Direct grouping, or declare the stream without `direct`",
        ));
    }
    let missing: Vec<&str> = edge
        .grouping
        .fields()
        .iter()
        .filter(|f| !decl.fields.contains(f))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        out.push(Diagnostic::error(
            loc(),
            format!(
                "{} groups on {} not declared by '{}' stream '{}'",
                grouping_text(&edge.grouping),
                quoted(&missing),
                from.name,
                edge.stream
            ),
            format!("declared fields: {}", decl.fields.join(", ")),
        ));
    }
    // A teaching warning: counting per key only works if each key has one counter.
    if to.component == "count_by_key" && to.task_count() > 1 {
        let key = to.config.get("key").and_then(|v| v.as_str()).unwrap_or("");
        let keyed = matches!(&edge.grouping, Grouping::Fields(f) if f.iter().any(|x| x == key))
            || edge.grouping == Grouping::Global;
        if !keyed {
            out.push(Diagnostic::warning(
                loc(),
                format!(
                    "'{}' counts per '{key}' on {} tasks, but {} spreads one key over several tasks, so counts are split",
                    to.name,
                    to.task_count(),
                    grouping_text(&edge.grouping)
                ),
                format!("use Fields([\"{key}\"]) grouping"),
            ));
        }
    }
}
