//! A topology to Flume agent properties that `flume-ng agent --name AGENT` starts with.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use petgraph::stable_graph::NodeIndex;

use super::super::properties::{escape_key, escape_value};
use super::EXTRA_PREFIX;
use super::types;
use crate::components::{self, STAND_IN};
use crate::model::flume;
use crate::model::{Grouping, Node, Role, SinkProcessor, Topology, Value};

const DEFAULT_PENALTY_MS: u64 = 30_000;

#[derive(Default)]
struct Agent {
    sources: Vec<String>,
    channels: Vec<String>,
    sinks: Vec<String>,
    groups: Vec<String>,
    /// `(kind.name, property lines)` per component, in reading order.
    blocks: Vec<(String, Vec<(String, String)>)>,
}

/// Writes Flume properties, or lists every part Flume cannot express.
pub fn export(topology: &Topology) -> Result<String, Vec<String>> {
    let mut problems = Vec::new();
    let fallback = if is_flume_name(&topology.name) {
        topology.name.clone()
    } else {
        flume::DEFAULT_AGENT.to_string()
    };
    let storm: Vec<String> = topology
        .nodes()
        .filter(|n| matches!(n.role, Role::Spout | Role::Bolt))
        .map(|n| format!("'{}' ({})", n.name, n.role))
        .collect();
    if !storm.is_empty() {
        problems.push(format!(
            "Flume agents have sources, channels and sinks only; these Storm nodes have no Flume equivalent: {}",
            storm.join(", ")
        ));
    }
    for e in &topology.dangling_edges {
        problems.push(format!(
            "link '{}' → '{}' refers to a missing node",
            e.from, e.to
        ));
    }
    let mut agents: BTreeMap<String, Agent> = BTreeMap::new();
    for index in topology.reading_order() {
        let Some(node) = topology.node(index) else {
            continue;
        };
        if matches!(node.role, Role::Spout | Role::Bolt) {
            continue;
        }
        let agent = agent_of(node, &fallback);
        let name = flume_name(node, &agent, &mut problems);
        let lines = component_lines(topology, index, node, &fallback, &mut problems);
        let entry = agents.entry(agent).or_default();
        let kind = match node.role {
            Role::Source => {
                entry.sources.push(name.clone());
                "sources"
            }
            Role::Channel => {
                entry.channels.push(name.clone());
                "channels"
            }
            _ => {
                entry.sinks.push(name.clone());
                "sinks"
            }
        };
        entry.blocks.push((format!("{kind}.{name}"), lines));
    }
    let by_name = topology.name_index();
    for group in &topology.sink_groups {
        let agent = group
            .sinks
            .iter()
            .find_map(|s| by_name.get(s.as_str()).and_then(|&i| topology.node(i)))
            .map_or_else(|| fallback.clone(), |n| agent_of(n, &fallback));
        let strip = |n: &str| {
            n.strip_prefix(&format!("{agent}."))
                .unwrap_or(n)
                .to_string()
        };
        let name = strip(&group.name);
        let mut lines = vec![(
            "sinks".to_string(),
            group
                .sinks
                .iter()
                .map(|s| strip(s))
                .collect::<Vec<_>>()
                .join(" "),
        )];
        match &group.processor {
            SinkProcessor::Default => {}
            SinkProcessor::Failover {
                priorities,
                max_penalty_ms,
            } => {
                lines.push(("processor.type".into(), "failover".into()));
                for (sink, p) in priorities {
                    lines.push((format!("processor.priority.{}", strip(sink)), p.to_string()));
                }
                if *max_penalty_ms != DEFAULT_PENALTY_MS {
                    lines.push(("processor.maxpenalty".into(), max_penalty_ms.to_string()));
                }
            }
            SinkProcessor::LoadBalance {
                random,
                backoff,
                max_timeout_ms,
            } => {
                lines.push(("processor.type".into(), "load_balance".into()));
                if *backoff {
                    lines.push(("processor.backoff".into(), "true".into()));
                }
                if *random {
                    lines.push(("processor.selector".into(), "random".into()));
                }
                if *max_timeout_ms != DEFAULT_PENALTY_MS {
                    lines.push((
                        "processor.selector.maxTimeOut".into(),
                        max_timeout_ms.to_string(),
                    ));
                }
            }
        }
        let entry = agents.entry(agent).or_default();
        entry.groups.push(name.clone());
        entry.blocks.push((format!("sinkgroups.{name}"), lines));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(render(topology, &agents))
}

fn render(topology: &Topology, agents: &BTreeMap<String, Agent>) -> String {
    let mut out = format!(
        "# Flume agent configuration exported by Tributary from topology '{}'.\n# Start with: flume-ng agent --conf conf --conf-file THIS-FILE --name AGENT\n",
        topology.name.replace('\n', " ")
    );
    for (name, agent) in agents {
        let _ = writeln!(out, "\n# Agent {name}");
        for (kind, list) in [
            ("sources", &agent.sources),
            ("channels", &agent.channels),
            ("sinks", &agent.sinks),
            ("sinkgroups", &agent.groups),
        ] {
            if !list.is_empty() {
                let _ = writeln!(
                    out,
                    "{} = {}",
                    escape_key(&format!("{name}.{kind}")),
                    list.join(" ")
                );
            }
        }
        for (component, lines) in &agent.blocks {
            out.push('\n');
            for (key, value) in lines {
                let _ = writeln!(
                    out,
                    "{} = {}",
                    escape_key(&format!("{name}.{component}.{key}")),
                    escape_value(value)
                );
            }
        }
    }
    let kept: Vec<(&str, &Value)> = topology
        .settings
        .extra
        .iter()
        .filter_map(|(k, v)| k.strip_prefix(EXTRA_PREFIX).map(|k| (k, v)))
        .collect();
    if !kept.is_empty() {
        out.push_str("\n# Kept from the imported file (properties of no declared component)\n");
        for (key, value) in kept {
            let _ = writeln!(out, "{} = {}", escape_key(key), escape_value(&text(value)));
        }
    }
    out
}

fn agent_of(node: &Node, fallback: &str) -> String {
    flume::agent_or(node, fallback).to_string()
}

/// The component's name inside its agent: node names of multi-agent imports carry an
/// `agent.` prefix to stay unique across agents.
fn flume_name(node: &Node, agent: &str, problems: &mut Vec<String>) -> String {
    let name = node
        .name
        .strip_prefix(&format!("{agent}."))
        .unwrap_or(&node.name)
        .to_string();
    if !is_flume_name(&name) {
        problems.push(format!(
            "'{}': Flume component names cannot contain dots, spaces, '=', ':' or '#'; rename it",
            node.name
        ));
    }
    name
}

fn is_flume_name(name: &str) -> bool {
    !name.is_empty()
        && !name
            .chars()
            .any(|c| c.is_whitespace() || ".=:#!\\".contains(c))
}

fn component_lines(
    topology: &Topology,
    index: NodeIndex,
    node: &Node,
    fallback: &str,
    problems: &mut Vec<String>,
) -> Vec<(String, String)> {
    let mut lines = Vec::new();
    let flume_type = types::by_component(&node.component, node.role);
    let kind = if node.component == STAND_IN {
        let class = node.config.get("class").map(text).unwrap_or_default();
        if class.is_empty() {
            problems.push(format!(
                "stand-in '{}' has no class; set 'class' to its Flume type",
                node.name
            ));
        }
        class
    } else if let Some(t) = flume_type {
        t.alias.to_string()
    } else {
        problems.push(format!(
            "'{}' uses the built-in '{}', which has no Flume {} type; replace it with a stand-in naming the type",
            node.name, node.component, node.role
        ));
        String::new()
    };
    lines.push(("type".to_string(), kind));
    let agent = agent_of(node, fallback);
    let peer = |i: NodeIndex| {
        topology.node(i).map(|n| {
            if agent_of(n, fallback) != agent {
                problems_text(node, n)
            } else {
                Ok(n.name
                    .strip_prefix(&format!("{agent}."))
                    .unwrap_or(&n.name)
                    .to_string())
            }
        })
    };
    match node.role {
        Role::Source => {
            let mut outs: Vec<_> = topology.outputs(index).collect();
            outs.sort_by_key(|(e, _, _)| *e);
            let mut channels: Vec<String> = Vec::new();
            let mut links = Vec::new();
            for (_, to, edge) in outs {
                let Some(target) = topology.node(to) else {
                    continue;
                };
                if target.role != Role::Channel || !edge.grouping.is_channel_selector() {
                    problems.push(format!(
                        "link '{}' → '{}': a Flume source puts into channels through its selector",
                        node.name, target.name
                    ));
                    continue;
                }
                match peer(to) {
                    Some(Ok(ch)) => {
                        if !channels.contains(&ch) {
                            channels.push(ch.clone());
                        }
                        links.push((ch, edge.grouping.clone()));
                    }
                    Some(Err(p)) => problems.push(p),
                    None => {}
                }
            }
            lines.push(("channels".into(), channels.join(" ")));
            if !node.config.contains_key("selector.type") {
                lines.extend(selector_lines(&links));
            }
        }
        Role::Sink => {
            let ins: Vec<_> = topology.inputs(index).collect();
            match ins.as_slice() {
                [(_, from, edge)] if edge.grouping == Grouping::Drain => match peer(*from) {
                    Some(Ok(ch)) => lines.push(("channel".into(), ch)),
                    Some(Err(p)) => problems.push(p),
                    None => {}
                },
                _ => problems.push(format!(
                    "sink '{}' drains {} links; a Flume sink drains exactly one channel",
                    node.name,
                    ins.len()
                )),
            }
        }
        _ => {}
    }
    let descriptor = components::descriptor(&node.component);
    for (key, value) in &node.config {
        if node.component == STAND_IN {
            if key != "class" {
                lines.push((key.clone(), text(value)));
            }
            continue;
        }
        let (Some(t), Some(d)) = (flume_type, descriptor) else {
            continue;
        };
        let default = d.param(key).and_then(|p| p.default.as_ref());
        if !(t.own_defaults.contains(&key.as_str()) && default == Some(value)) {
            lines.push((t.property(key), text(value)));
        }
    }
    lines
}

fn problems_text(node: &Node, other: &Node) -> Result<String, String> {
    Err(format!(
        "link '{}' → '{}' crosses agents; agents connect through an avro sink and an avro source",
        node.name, other.name
    ))
}

fn selector_lines(links: &[(String, Grouping)]) -> Vec<(String, String)> {
    let mut mapped: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut optional_mapped: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut default = Vec::new();
    let mut optional = Vec::new();
    let mut multiplexing = false;
    for (ch, grouping) in links {
        match grouping {
            Grouping::Mapped(values) => {
                multiplexing = true;
                for v in values {
                    mapped.entry(v).or_default().push(ch);
                }
            }
            Grouping::MappedOptional(values) => {
                multiplexing = true;
                for v in values {
                    optional_mapped.entry(v).or_default().push(ch);
                }
            }
            Grouping::Default => {
                multiplexing = true;
                default.push(ch.as_str());
            }
            Grouping::Optional => optional.push(ch.as_str()),
            _ => {}
        }
    }
    let mut lines = Vec::new();
    if multiplexing {
        lines.push(("selector.type".into(), "multiplexing".into()));
        for (v, chs) in mapped {
            lines.push((format!("selector.mapping.{v}"), chs.join(" ")));
        }
        for (v, chs) in optional_mapped {
            lines.push((format!("selector.optional.{v}"), chs.join(" ")));
        }
        if !default.is_empty() {
            lines.push(("selector.default".into(), default.join(" ")));
        }
    } else if !optional.is_empty() {
        lines.push(("selector.optional".into(), optional.join(" ")));
    }
    lines
}

/// A config value as property text.
fn text(value: &Value) -> String {
    match value {
        Value::Str(s) => s.clone(),
        Value::List(items) => items.iter().map(text).collect::<Vec<_>>().join(" "),
        other => other.to_string(),
    }
}
