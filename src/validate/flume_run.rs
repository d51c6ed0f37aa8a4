//! What the engine's Flume agents would refuse at start, or get wrong while running,
//! reported at design time so the designer can outline it before the user presses Run.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use super::diagnostic::{Diagnostic, Location};
use crate::components;
use crate::flume::footprint::{self, MAX_TOTAL_CHANNEL_BYTES, MAX_TOTAL_LINE_BUFFER_BYTES};
use crate::model::flume;
use crate::model::{Grouping, Node, Role, SinkProcessor, Topology, Value};

/// Slowest `rate_per_sec` a Flume `sequence` source may have, other than 0 (unthrottled):
/// one event every 1000 s. Slower is indistinguishable from stopped in a run, and rates
/// near zero would ask for pauses longer than any clock can count.
pub const MIN_SOURCE_RATE_PER_SEC: f64 = 0.001;

pub(super) fn check(t: &Topology, out: &mut Vec<Diagnostic>) {
    check_avro_ports(t, out);
    check_default_groups(t, out);
    check_storm_into_channel(t, out);
    check_shared_channel_folders(t, out);
    check_source_rates(t, out);
    check_memory_totals(t, out);
}

/// Every channel keeps its events in memory, and every netcat connection may hold an
/// unfinished line, so their sums are bounded for the run as a whole
/// ([`MAX_TOTAL_CHANNEL_BYTES`], [`MAX_TOTAL_LINE_BUFFER_BYTES`]), not only per node.
fn check_memory_totals(t: &Topology, out: &mut Vec<Diagnostic>) {
    let channels = footprint::channel_bytes(t);
    let held = footprint::total(&channels);
    if held > MAX_TOTAL_CHANNEL_BYTES {
        out.push(Diagnostic::error(
            Location::Topology,
            format!(
                "the channels may hold {held} bytes of events together, above the run's limit of {MAX_TOTAL_CHANNEL_BYTES}; the most: {}",
                footprint::biggest(&channels)
            ),
            "lower byteCapacity of the biggest channels (a memory channel counts byteCapacity less its byteCapacityBufferPercentage)",
        ));
    }
    let lines = footprint::line_buffers(t);
    let buffered = footprint::total(&lines);
    if buffered > MAX_TOTAL_LINE_BUFFER_BYTES {
        out.push(Diagnostic::error(
            Location::Topology,
            format!(
                "netcat connections may buffer {buffered} bytes of lines together (max-connections × max-line-length), above the run's limit of {MAX_TOTAL_LINE_BUFFER_BYTES}; the most: {}",
                footprint::biggest(&lines)
            ),
            "lower max-connections or max-line-length of the biggest netcat sources",
        ));
    }
}

/// A Flume `sequence` source pauses `1 / rate_per_sec` seconds per event, so a rate just
/// above zero is refused rather than run as a pause of 10^30 seconds.
fn check_source_rates(t: &Topology, out: &mut Vec<Diagnostic>) {
    for node in t.nodes() {
        if node.role != Role::Source || !matches!(node.component.as_str(), "sequence" | "seq") {
            continue;
        }
        let Some(rate) = node.config.get("rate_per_sec").and_then(Value::as_f64) else {
            continue;
        };
        if rate > 0.0 && rate < MIN_SOURCE_RATE_PER_SEC {
            out.push(Diagnostic::error(
                Location::Node(node.name.clone()),
                format!(
                    "config 'rate_per_sec': {rate} events a second is below the slowest rate a source runs at ({MIN_SOURCE_RATE_PER_SEC})"
                ),
                "use 0 for as fast as possible, or a rate of at least 0.001 (one event every 1000 s)",
            ));
        }
    }
}

/// One folder a file channel writes: which channel, under which setting.
struct FolderUse<'a> {
    node: &'a str,
    setting: &'static str,
    raw: String,
}

/// Two file channels writing one folder mix their logs or checkpoints (and the second
/// would find it locked at run time): every `checkpointDir` and `dataDirs` entry must
/// belong to one channel. Paths compare after resolving `.` and `..`, relative to the
/// topology's folder, as the runtime reads them.
fn check_shared_channel_folders(t: &Topology, out: &mut Vec<Diagnostic>) {
    let mut owners: BTreeMap<PathBuf, FolderUse> = BTreeMap::new();
    for node in t.nodes() {
        if node.role != Role::Channel || node.component != "file" {
            continue;
        }
        for folder in channel_folders(node) {
            let key = normalized(&folder.raw);
            match owners.get(&key) {
                Some(first) if first.node != folder.node => {
                    out.push(Diagnostic::error(
                        Location::Node(node.name.clone()),
                        format!(
                            "{} '{}' is also the {} of file channel '{}'; the two channels would mix their data",
                            folder.setting, folder.raw, first.setting, first.node
                        ),
                        "give every file channel its own checkpointDir and dataDirs folders",
                    ));
                }
                Some(_) => {}
                None => {
                    owners.insert(key, folder);
                }
            }
        }
    }
}

/// The folders a file channel node writes, with the registry's defaults for unset ones.
fn channel_folders(node: &Node) -> Vec<FolderUse<'_>> {
    let setting = |key: &'static str| -> String {
        match node.config.get(key) {
            Some(Value::Str(s)) => s.clone(),
            _ => components::descriptor("file")
                .and_then(|d| d.param(key))
                .and_then(|p| p.default.as_ref())
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
        }
    };
    let mut folders = vec![FolderUse {
        node: &node.name,
        setting: "checkpointDir",
        raw: setting("checkpointDir"),
    }];
    // Flume takes a comma-separated list of data folders.
    for entry in setting("dataDirs").split(',') {
        let entry = entry.trim();
        if !entry.is_empty() {
            folders.push(FolderUse {
                node: &node.name,
                setting: "dataDirs",
                raw: entry.to_string(),
            });
        }
    }
    folders
}

/// `raw` with `.` and `..` resolved lexically and separators made uniform, so `a/./b/`,
/// `a/b` and `a/c/../b` are one folder. A `..` above the start is kept.
fn normalized(raw: &str) -> PathBuf {
    let mut out = PathBuf::new();
    for part in Path::new(raw.trim()).components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                if matches!(out.components().next_back(), Some(Component::Normal(_))) {
                    out.pop();
                } else if !out.has_root() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Two avro sources on one port: a hop could not tell them apart. A port that is no
/// port is left to the config check, which names the setting.
fn check_avro_ports(t: &Topology, out: &mut Vec<Diagnostic>) {
    let mut by_port: BTreeMap<u16, &str> = BTreeMap::new();
    for node in t.nodes().filter(|n| flume::is_avro_source(n)) {
        let Ok(port) = flume::avro_port(node) else {
            continue;
        };
        if let Some(other) = by_port.insert(port, &node.name) {
            out.push(Diagnostic::error(
                Location::Node(node.name.clone()),
                format!("avro source port {port} is also used by '{other}'"),
                "give every avro source its own port; avro sinks pick their target by port",
            ));
        }
    }
}

/// The default sink processor runs exactly one sink.
fn check_default_groups(t: &Topology, out: &mut Vec<Diagnostic>) {
    for group in &t.sink_groups {
        if group.processor == SinkProcessor::Default && group.sinks.len() > 1 {
            out.push(Diagnostic::error(
                Location::SinkGroup(group.name.clone()),
                format!(
                    "the default processor runs one sink, but the group lists {}",
                    group.sinks.len()
                ),
                "use failover or load_balance to share a channel between sinks",
            ));
        }
    }
}

/// Spouts and bolts may write into a channel with `Required`/`Optional` links (the
/// engine runs the channel as a put bolt), but tuples carry no headers for a multiplexing
/// selector, and a channel cannot be both written and drained by Storm nodes.
fn check_storm_into_channel(t: &Topology, out: &mut Vec<Diagnostic>) {
    for e in t.edge_indices() {
        let Some((a, b)) = t.edge_endpoints(e) else {
            continue;
        };
        let (Some(from), Some(to), Some(edge)) = (t.node(a), t.node(b), t.edge(e)) else {
            continue;
        };
        if !matches!(from.role, Role::Spout | Role::Bolt) || to.role != Role::Channel {
            continue;
        }
        let loc = || Location::Edge {
            from: from.name.clone(),
            to: to.name.clone(),
            stream: edge.stream.clone(),
        };
        if !matches!(edge.grouping, Grouping::Required | Grouping::Optional) {
            out.push(Diagnostic::error(
                loc(),
                format!(
                    "a {} link from a {}: tuples carry no headers for a multiplexing selector",
                    edge.grouping.label(),
                    from.role
                ),
                "use Required (or Optional) links from spouts and bolts into channels",
            ));
        }
        let drained_by_bolt = t
            .outputs(b)
            .any(|(_, to, _)| t.node(to).is_some_and(|n| n.role == Role::Bolt));
        if drained_by_bolt {
            out.push(Diagnostic::error(
                loc(),
                "this channel is both written and drained by Storm nodes, which the runtime cannot run",
                "connect the bolts directly, or let a Flume sink drain the channel",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Grouping, Node, SinkGroup, StreamDecl};

    fn errors(t: &Topology) -> Vec<String> {
        let mut out = Vec::new();
        check(t, &mut out);
        out.iter().map(|d| d.message.clone()).collect()
    }

    #[test]
    fn shared_avro_ports_and_multi_sink_default_groups_are_errors() {
        let mut t = Topology::new("t");
        for name in ["a", "b"] {
            t.add_node(Node::new(name, Role::Source, "avro_source").with_config("port", 5000))
                .unwrap();
        }
        t.sink_groups.push(SinkGroup {
            name: "g".into(),
            sinks: vec!["x".into(), "y".into()],
            processor: SinkProcessor::Default,
        });
        let found = errors(&t);
        assert!(found.iter().any(|m| m.contains("port 5000")), "{found:?}");
        assert!(
            found.iter().any(|m| m.contains("default processor")),
            "{found:?}"
        );
    }

    #[test]
    fn bolts_may_write_into_channels_but_not_multiplex_or_also_drain() {
        let mut t = Topology::new("t");
        t.add_node(
            Node::new("b", Role::Bolt, "null").with_output(StreamDecl::default_stream(&["x"])),
        )
        .unwrap();
        t.add_node(Node::new("c", Role::Channel, "memory")).unwrap();
        t.add_node(Node::new("k", Role::Sink, "null")).unwrap();
        t.connect_names("b", "c", "default", Grouping::Required)
            .unwrap();
        t.connect_names("c", "k", "default", Grouping::Drain)
            .unwrap();
        assert!(errors(&t).is_empty(), "{:?}", errors(&t));
        t.add_node(Node::new("reader", Role::Bolt, "null")).unwrap();
        t.connect_names("c", "reader", "default", Grouping::Drain)
            .unwrap();
        assert!(
            errors(&t)
                .iter()
                .any(|m| m.contains("both written and drained"))
        );
        let mut t2 = Topology::new("t2");
        t2.add_node(
            Node::new("b", Role::Bolt, "null").with_output(StreamDecl::default_stream(&["x"])),
        )
        .unwrap();
        t2.add_node(Node::new("c", Role::Channel, "memory"))
            .unwrap();
        t2.connect_names("b", "c", "default", Grouping::Mapped(vec!["v".into()]))
            .unwrap();
        assert!(errors(&t2).iter().any(|m| m.contains("multiplexing")));
    }

    fn file_channel(name: &str, checkpoint: Option<&str>, data: Option<&str>) -> Node {
        let mut n = Node::new(name, Role::Channel, "file");
        if let Some(c) = checkpoint {
            n = n.with_config("checkpointDir", c);
        }
        if let Some(d) = data {
            n = n.with_config("dataDirs", d);
        }
        n
    }

    fn shared(nodes: Vec<Node>) -> Vec<Diagnostic> {
        let mut t = Topology::new("t");
        for n in nodes {
            t.add_node(n).unwrap();
        }
        let mut out = Vec::new();
        check_shared_channel_folders(&t, &mut out);
        out
    }

    #[test]
    fn two_file_channels_may_not_share_a_folder_whatever_its_spelling() {
        let cases = [
            // Same checkpoint folder, spelled differently.
            (
                ("ck", "a-data"),
                ("./ck/", "b-data"),
                "checkpointDir './ck/' is also the checkpointDir of file channel 'a'",
            ),
            // One's data folder is the other's checkpoint folder.
            (
                ("a-ck", "x/../shared"),
                ("shared", "b-data"),
                "checkpointDir 'shared' is also the dataDirs of file channel 'a'",
            ),
            // A later entry of a dataDirs list.
            (
                ("a-ck", "a-data, more"),
                ("b-ck", "b-data,more"),
                "dataDirs 'more' is also the dataDirs of file channel 'a'",
            ),
        ];
        for ((ack, adata), (bck, bdata), expected) in cases {
            let found = shared(vec![
                file_channel("a", Some(ack), Some(adata)),
                file_channel("b", Some(bck), Some(bdata)),
            ]);
            assert_eq!(found.len(), 1, "{found:?}");
            assert_eq!(found[0].location, Location::Node("b".into()));
            assert_eq!(
                found[0].message,
                format!("{expected}; the two channels would mix their data")
            );
        }
    }

    #[test]
    fn file_channels_left_at_their_defaults_clash_and_separate_ones_do_not() {
        let found = shared(vec![
            file_channel("a", None, None),
            file_channel("b", None, None),
        ]);
        assert_eq!(found.len(), 2, "both folders are shared: {found:?}");
        let fine = shared(vec![
            file_channel("a", Some("a/ck"), Some("a/data")),
            file_channel("b", Some("b/ck"), Some("b/data")),
            // One channel may keep checkpoint and log in one folder.
            file_channel("c", Some("c"), Some("c")),
        ]);
        assert!(fine.is_empty(), "{fine:?}");
    }

    #[test]
    fn channel_bytes_and_netcat_line_buffers_are_bounded_for_the_whole_run() {
        let mut t = Topology::new("t");
        let gib = MAX_TOTAL_CHANNEL_BYTES as i64;
        for (name, bytes) in [("small", 1 << 20), ("big", gib / 2), ("bigger", gib / 2)] {
            t.add_node(Node::new(name, Role::Channel, "file").with_config("byteCapacity", bytes))
                .unwrap();
        }
        t.add_node(
            Node::new("nc", Role::Source, "netcat")
                .with_config("max-connections", 64)
                .with_config("max-line-length", 1 << 20),
        )
        .unwrap();
        let mut out = Vec::new();
        check_memory_totals(&t, &mut out);
        assert_eq!(
            out.len(),
            1,
            "64 × 1 MiB of lines is within the limit: {out:?}"
        );
        assert!(
            out[0]
                .message
                .contains("'big' (536870912), 'bigger' (536870912), 'small'"),
            "{}",
            out[0].message
        );
        // One connection more, or one byte less of channel room, and the verdicts flip.
        t.remove_node(t.index_of("small").unwrap());
        t.node_by_name_mut("nc")
            .unwrap()
            .config
            .insert("max-connections".into(), Value::Int(65));
        let mut out = Vec::new();
        check_memory_totals(&t, &mut out);
        assert_eq!(out.len(), 1, "{out:?}");
        assert!(
            out[0].message.contains("'nc' (68157440)"),
            "{}",
            out[0].message
        );
    }

    #[test]
    fn a_source_rate_near_zero_is_refused_by_name() {
        let mut t = Topology::new("t");
        t.add_node(Node::new("gen", Role::Source, "sequence").with_config("rate_per_sec", 1e-30))
            .unwrap();
        t.add_node(Node::new("ok", Role::Source, "sequence").with_config("rate_per_sec", 0.0))
            .unwrap();
        t.add_node(Node::new("slow", Role::Source, "sequence").with_config("rate_per_sec", 0.001))
            .unwrap();
        let mut out = Vec::new();
        check_source_rates(&t, &mut out);
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].location, Location::Node("gen".into()));
        assert!(
            out[0].message.contains("'rate_per_sec'"),
            "{}",
            out[0].message
        );
    }
}
