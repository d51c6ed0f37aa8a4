//! The Flume rules every layer asks about a topology: which agent a node belongs to,
//! which port an avro sink or source uses, and which avro sink feeds which avro source
//! (the avro *hops* between agents).
//!
//! The agents that run ([`crate::flume`]), the stop order of a run
//! (`runtime::flume_side`), validation, the canvas's agent frames and the Flume exporter
//! all need the same answers; they were worked out in several places and had drifted
//! (one read a port given as text, another fell back to the default). Here is the one
//! home: change a rule here and every layer follows.

use std::collections::{BTreeMap, BTreeSet};

use thiserror::Error;

use super::{Node, Role, Topology, Value};

/// The agent of a Flume node that names none, as Flume's own examples call it.
pub const DEFAULT_AGENT: &str = "agent";

/// The port of an avro sink or source whose config gives none (Flume's examples use it).
pub const DEFAULT_AVRO_PORT: u16 = 4141;

/// Component ids of the avro source: the registry's id and Flume's own type alias.
const AVRO_SOURCE_IDS: [&str; 2] = ["avro_source", "avro"];
/// Component ids of the avro sink: the registry's id and Flume's own type alias.
const AVRO_SINK_IDS: [&str; 2] = ["avro_sink", "avro"];

/// Why a node's `port` setting names no port.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PortError {
    #[error("port {0} is out of range (0 to 65535)")]
    OutOfRange(i64),
    #[error("port '{0}' is not a number")]
    NotANumber(String),
}

/// An in-process avro hop: avro sink `sink` delivers to avro source `source` on `port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvroHop {
    pub sink: String,
    pub source: String,
    pub port: u16,
}

/// The agent `node` belongs to: its `agent`, or [`DEFAULT_AGENT`] when it names none.
pub fn agent_of(node: &Node) -> &str {
    agent_or(node, DEFAULT_AGENT)
}

/// The agent `node` belongs to, with `default` for nodes that name none (the Flume
/// exporter names such agents after the topology).
pub fn agent_or<'a>(node: &'a Node, default: &'a str) -> &'a str {
    node.agent.as_deref().unwrap_or(default)
}

/// Whether `node` is an avro source (the receiving end of a hop).
pub fn is_avro_source(node: &Node) -> bool {
    node.role == Role::Source && AVRO_SOURCE_IDS.contains(&node.component.as_str())
}

/// Whether `node` is an avro sink (the sending end of a hop).
pub fn is_avro_sink(node: &Node) -> bool {
    node.role == Role::Sink && AVRO_SINK_IDS.contains(&node.component.as_str())
}

/// The port `node` listens on or delivers to: its `port` setting (a whole number, or
/// text holding one, as imported properties may have it), [`DEFAULT_AVRO_PORT`] when
/// unset. A port that is no number or out of range is an error rather than a silent
/// default, so a typo never joins a hop the user did not draw.
pub fn avro_port(node: &Node) -> Result<u16, PortError> {
    let number = match node.config.get("port") {
        None => return Ok(DEFAULT_AVRO_PORT),
        Some(Value::Int(i)) => *i,
        Some(Value::Str(s)) => s
            .trim()
            .parse::<i64>()
            .map_err(|_| PortError::NotANumber(s.clone()))?,
        Some(other) => return Err(PortError::NotANumber(other.to_string())),
    };
    u16::try_from(number).map_err(|_| PortError::OutOfRange(number))
}

/// Every avro sink paired with each avro source on its port, ordered by sink then source.
/// Nodes whose port is invalid join no hop (validation reports the port).
pub fn avro_hops(t: &Topology) -> Vec<AvroHop> {
    let mut sources: BTreeMap<u16, Vec<&str>> = BTreeMap::new();
    for node in t.nodes().filter(|n| is_avro_source(n)) {
        if let Ok(port) = avro_port(node) {
            sources.entry(port).or_default().push(&node.name);
        }
    }
    let mut hops = Vec::new();
    for sink in t.nodes().filter(|n| is_avro_sink(n)) {
        let Ok(port) = avro_port(sink) else { continue };
        for source in sources.get(&port).into_iter().flatten() {
            hops.push(AvroHop {
                sink: sink.name.clone(),
                source: (*source).to_string(),
                port,
            });
        }
    }
    hops.sort_by(|a, b| (&a.sink, &a.source).cmp(&(&b.sink, &b.source)));
    hops
}

/// `(upstream agent, downstream agent)` for every avro hop that crosses agents.
pub fn agent_links(t: &Topology) -> BTreeSet<(String, String)> {
    let agents = t.name_index();
    let agent_named = |name: &str| {
        agents
            .get(name)
            .and_then(|&i| t.node(i))
            .map(|n| agent_of(n).to_string())
    };
    avro_hops(t)
        .iter()
        .filter_map(|hop| Some((agent_named(&hop.sink)?, agent_named(&hop.source)?)))
        .filter(|(from, to)| from != to)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn avro(name: &str, role: Role, agent: &str, port: Option<Value>) -> Node {
        let component = if role == Role::Sink {
            "avro_sink"
        } else {
            "avro_source"
        };
        let mut n = Node::new(name, role, component);
        n.agent = Some(agent.to_string());
        if let Some(port) = port {
            n.config.insert("port".into(), port);
        }
        n
    }

    fn hop(sink: &str, source: &str, port: u16) -> AvroHop {
        AvroHop {
            sink: sink.into(),
            source: source.into(),
            port,
        }
    }

    #[test]
    fn a_chain_of_agents_hops_from_each_to_the_next() {
        let mut t = Topology::new("t");
        for n in [
            avro("a-out", Role::Sink, "a", Some(Value::Int(5001))),
            avro("b-in", Role::Source, "b", Some(Value::Int(5001))),
            avro("b-out", Role::Sink, "b", Some(Value::Int(5002))),
            avro("c-in", Role::Source, "c", Some(Value::Int(5002))),
        ] {
            t.add_node(n).unwrap();
        }
        assert_eq!(
            avro_hops(&t),
            [hop("a-out", "b-in", 5001), hop("b-out", "c-in", 5002)]
        );
        let links: Vec<_> = agent_links(&t).into_iter().collect();
        assert_eq!(
            links,
            [("a".into(), "b".into()), ("b".into(), "c".into())] as [(String, String); 2]
        );
    }

    #[test]
    fn fan_in_pairs_every_sink_with_the_one_source_on_its_port() {
        let mut t = Topology::new("t");
        for n in [
            avro("e1-out", Role::Sink, "e1", None),
            avro("e2-out", Role::Sink, "e2", Some(Value::Int(4141))),
            avro("in", Role::Source, "collector", None),
            avro("lonely", Role::Sink, "e3", Some(Value::Int(9))),
        ] {
            t.add_node(n).unwrap();
        }
        assert_eq!(
            avro_hops(&t),
            [hop("e1-out", "in", 4141), hop("e2-out", "in", 4141)]
        );
        assert_eq!(agent_links(&t).len(), 2);
    }

    #[test]
    fn a_hop_inside_one_agent_is_no_agent_link() {
        let mut t = Topology::new("t");
        t.add_node(avro("out", Role::Sink, "a", None)).unwrap();
        t.add_node(avro("in", Role::Source, "a", None)).unwrap();
        assert_eq!(avro_hops(&t).len(), 1);
        assert!(agent_links(&t).is_empty());
    }

    #[test]
    fn a_port_is_read_when_given_and_defaulted_when_not() {
        let given = avro("s", Role::Source, "a", Some(Value::Int(7000)));
        assert_eq!(avro_port(&given), Ok(7000));
        let as_text = avro("s", Role::Source, "a", Some(Value::Str(" 7001 ".into())));
        assert_eq!(avro_port(&as_text), Ok(7001));
        let unset = avro("s", Role::Source, "a", None);
        assert_eq!(avro_port(&unset), Ok(DEFAULT_AVRO_PORT));
        assert_eq!(DEFAULT_AVRO_PORT, 4141);
    }

    #[test]
    fn bad_port_text_and_out_of_range_ports_are_errors_and_join_no_hop() {
        let text = avro("in", Role::Source, "b", Some(Value::Str("41x1".into())));
        assert_eq!(avro_port(&text), Err(PortError::NotANumber("41x1".into())));
        let big = avro("out", Role::Sink, "a", Some(Value::Int(70_000)));
        assert_eq!(avro_port(&big), Err(PortError::OutOfRange(70_000)));
        let negative = avro("out", Role::Sink, "a", Some(Value::Int(-1)));
        assert_eq!(avro_port(&negative), Err(PortError::OutOfRange(-1)));
        let mut t = Topology::new("t");
        t.add_node(text).unwrap();
        t.add_node(avro("out", Role::Sink, "a", None)).unwrap();
        assert!(avro_hops(&t).is_empty(), "the bad port is not the default");
    }

    #[test]
    fn the_agent_defaults_and_the_avro_alias_counts() {
        let mut n = Node::new("x", Role::Source, "avro");
        assert_eq!(agent_of(&n), DEFAULT_AGENT);
        assert_eq!(agent_or(&n, "exported"), "exported");
        assert!(is_avro_source(&n) && !is_avro_sink(&n));
        n.agent = Some("edge".into());
        assert_eq!(agent_of(&n), "edge");
        assert!(!is_avro_source(&Node::new("y", Role::Source, "netcat")));
        assert!(is_avro_sink(&Node::new("z", Role::Sink, "avro")));
    }
}
