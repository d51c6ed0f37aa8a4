//! What the Flume nodes of a topology cost the machine before any event arrives:
//! threads, the bytes their channels may hold, and the line buffers of netcat
//! connections. Validation totals these against stated limits; the figures come from the
//! same functions the agents configure themselves with, so the check and the run agree.

use std::collections::BTreeSet;

use super::sources::netcat;
use super::{file_channel, memory_channel};
use crate::model::{Node, Role, Topology};

/// Most bytes all channels of a run together may hold (1 GiB): the sum of every memory
/// and file channel's effective `byteCapacity` (a memory channel's less its
/// `byteCapacityBufferPercentage`). Each channel keeps its events in memory, so without
/// a total N channels could take N times the largest `byteCapacity`.
pub const MAX_TOTAL_CHANNEL_BYTES: u64 = 1 << 30;

/// Most bytes all netcat connections of a run together may buffer (64 MiB): the sum over
/// netcat sources of `max-connections × max-line-length`, since every connection may hold
/// one unfinished line of up to `max-line-length` bytes.
pub const MAX_TOTAL_LINE_BUFFER_BYTES: u64 = 64 << 20;

/// One thing that starts threads or holds memory, by the name a diagnostic shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cost {
    pub name: String,
    pub amount: u64,
}

/// Threads the Flume nodes start: one per source (an avro source has none: it is an
/// in-process hop), `max-connections` more per netcat source (a thread per client), and
/// one sink runner per sink group and per sink outside any group, as
/// [`super::agent::FlumeRun`] starts them.
pub fn threads(t: &Topology) -> Vec<Cost> {
    let mut out: Vec<Cost> = t
        .nodes()
        .filter(|n| n.role == Role::Source)
        .map(|n| Cost {
            name: n.name.clone(),
            amount: source_threads(n),
        })
        .filter(|c| c.amount > 0)
        .collect();
    let sinks: BTreeSet<&str> = t
        .nodes()
        .filter(|n| n.role == Role::Sink)
        .map(|n| n.name.as_str())
        .collect();
    let mut grouped: BTreeSet<&str> = BTreeSet::new();
    for group in &t.sink_groups {
        let members: Vec<&str> = group
            .sinks
            .iter()
            .map(String::as_str)
            .filter(|s| sinks.contains(s) && !grouped.contains(s))
            .collect();
        if !members.is_empty() {
            grouped.extend(members);
            out.push(Cost {
                name: group.name.clone(),
                amount: 1,
            });
        }
    }
    out.extend(
        sinks
            .iter()
            .filter(|s| !grouped.contains(*s))
            .map(|s| Cost {
                name: (*s).to_string(),
                amount: 1,
            }),
    );
    out
}

/// Threads one source node starts.
fn source_threads(node: &Node) -> u64 {
    match node.component.as_str() {
        "avro_source" | "avro" => 0,
        "netcat" => 1 + netcat::max_connections(&node.config),
        _ => 1,
    }
}

/// The bytes of events each memory or file channel may hold, as it runs.
pub fn channel_bytes(t: &Topology) -> Vec<Cost> {
    t.nodes()
        .filter(|n| n.role == Role::Channel)
        .filter_map(|n| {
            let amount = match n.component.as_str() {
                "memory" => memory_channel::memory_config(&n.config).byte_capacity,
                "file" => file_channel::byte_capacity(&n.config),
                _ => return None,
            };
            Some(Cost {
                name: n.name.clone(),
                amount,
            })
        })
        .collect()
}

/// The line bytes each netcat source's connections may buffer at once.
pub fn line_buffers(t: &Topology) -> Vec<Cost> {
    t.nodes()
        .filter(|n| n.role == Role::Source && n.component == "netcat")
        .map(|n| Cost {
            name: n.name.clone(),
            amount: netcat::max_connections(&n.config)
                .saturating_mul(netcat::max_line_length(&n.config)),
        })
        .collect()
}

/// The sum of `costs`, saturating.
pub fn total(costs: &[Cost]) -> u64 {
    costs.iter().fold(0, |sum, c| sum.saturating_add(c.amount))
}

/// The three largest `costs` as `'name' (n)`, largest first, for a diagnostic.
pub fn biggest(costs: &[Cost]) -> String {
    let mut sorted: Vec<&Cost> = costs.iter().collect();
    sorted.sort_by(|a, b| b.amount.cmp(&a.amount).then(a.name.cmp(&b.name)));
    sorted
        .iter()
        .take(3)
        .map(|c| format!("'{}' ({})", c.name, c.amount))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{SinkGroup, SinkProcessor};

    #[test]
    fn sources_connections_and_sink_runners_are_counted_as_the_agents_start_them() {
        let mut t = Topology::new("t");
        t.add_node(Node::new("seq", Role::Source, "sequence"))
            .unwrap();
        t.add_node(Node::new("hop", Role::Source, "avro_source"))
            .unwrap();
        t.add_node(Node::new("nc", Role::Source, "netcat").with_config("max-connections", 40))
            .unwrap();
        for s in ["a", "b", "c"] {
            t.add_node(Node::new(s, Role::Sink, "logger")).unwrap();
        }
        t.sink_groups.push(SinkGroup {
            name: "g".into(),
            sinks: vec!["a".into(), "b".into(), "missing".into()],
            processor: SinkProcessor::Default,
        });
        let mut got = threads(&t);
        got.sort_by(|x, y| x.name.cmp(&y.name));
        let got: Vec<(&str, u64)> = got.iter().map(|c| (c.name.as_str(), c.amount)).collect();
        assert_eq!(got, [("c", 1), ("g", 1), ("nc", 41), ("seq", 1)]);
    }

    #[test]
    fn channel_bytes_are_what_each_channel_enforces() {
        let mut t = Topology::new("t");
        t.add_node(
            Node::new("m", Role::Channel, "memory")
                .with_config("byteCapacity", 1000)
                .with_config("byteCapacityBufferPercentage", 50),
        )
        .unwrap();
        t.add_node(Node::new("f", Role::Channel, "file").with_config("byteCapacity", 3000))
            .unwrap();
        let got = channel_bytes(&t);
        assert_eq!(total(&got), 500 + 3000);
        assert_eq!(biggest(&got), "'f' (3000), 'm' (500)");
    }
}
