//! The native file format: versioned, hand-writable RON with deterministic output.
//!
//! The on-disk schema is a set of plain records separate from the in-memory graph, so
//! the file can stay stable (and readable) while the model evolves. Nodes are written in
//! reading order (upstream first, ties by name) and edges by their endpoints, so saving
//! the same design twice gives the same bytes and `git diff` shows only real changes.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use petgraph::stable_graph::NodeIndex;
use ron::extensions::Extensions;
use serde::{Deserialize, Deserializer, Serialize};

use super::ron_message::user_message;
use super::{FormatError, MAX_FILE_BYTES, TextPos, read_text, write_atomically};
use crate::model::{
    DEFAULT_STREAM, Grouping, NamedEdge, Node, Pos, Role, Settings, SinkGroup, StreamDecl,
    Topology, Value, WindowSpec, bare_option,
};

/// The format version this build writes and the newest it reads.
pub const CURRENT_VERSION: u32 = 1;

/// Deepest nesting of brackets accepted in a RON topology; real files need fewer than ten
/// levels. A bound keeps hostile input (thousands of nested brackets) from exhausting the
/// stack, and the parser stops at the first bracket too deep, so the check costs nothing.
pub const MAX_RON_NESTING: usize = 64;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRecord {
    version: u32,
    name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    description: String,
    #[serde(default)]
    settings: Settings,
    #[serde(default)]
    nodes: Vec<NodeRecord>,
    #[serde(default)]
    edges: Vec<EdgeRecord>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    sink_groups: Vec<SinkGroup>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct NodeRecord {
    name: String,
    role: Role,
    component: String,
    #[serde(default = "one")]
    parallelism: u32,
    #[serde(default, with = "bare_option", skip_serializing_if = "Option::is_none")]
    tasks: Option<u32>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    config: BTreeMap<String, Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    outputs: Vec<StreamDecl>,
    #[serde(default, with = "bare_option", skip_serializing_if = "Option::is_none")]
    window: Option<WindowSpec>,
    #[serde(default, with = "bare_option", skip_serializing_if = "Option::is_none")]
    agent: Option<String>,
    #[serde(default)]
    pos: Pos,
}

fn one() -> u32 {
    1
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EdgeRecord {
    from: String,
    #[serde(default = "default_stream", skip_serializing_if = "is_default_stream")]
    stream: String,
    to: String,
    grouping: Grouping,
}

fn default_stream() -> String {
    DEFAULT_STREAM.to_string()
}

fn is_default_stream(s: &str) -> bool {
    s == DEFAULT_STREAM
}

/// Only the version, read first so a newer file gets a clear message instead of a
/// confusing complaint about some field this build has never heard of. A newer version
/// is refused while its value is being read, so the parser's error carries the position
/// of the `version:` value.
#[derive(Deserialize)]
struct VersionProbe {
    #[serde(deserialize_with = "refuse_newer", rename = "version")]
    _version: u32,
}

/// Marks the probe's refusal, so it is told apart from any other parser error; the
/// version found follows it.
const NEWER_VERSION: &str = "\u{0}newer version ";

fn refuse_newer<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let version = u32::deserialize(d)?;
    if version > CURRENT_VERSION {
        return Err(serde::de::Error::custom(format!(
            "{NEWER_VERSION}{version}"
        )));
    }
    Ok(version)
}

/// The version of a file newer than this build reads, and where its value is.
fn newer_version(text: &str, options: &ron::Options) -> Option<(u32, TextPos)> {
    let e = options.from_str::<VersionProbe>(text).err()?;
    let ron::Error::Message(message) = &e.code else {
        return None;
    };
    let found = message.strip_prefix(NEWER_VERSION)?.parse().ok()?;
    Some((found, text_pos(text, &e.span.start)))
}

/// Where the parser stopped, moved past any blanks to the token it stopped at: the
/// parser reports the place after the previous token, which for a value of the wrong
/// kind is the space before it (`version: "one"` would point at the blank, not at `"`).
fn text_pos(text: &str, at: &ron::error::Position) -> TextPos {
    let (mut line, mut col) = (at.line.max(1), at.col.max(1));
    let offset: usize = text
        .split_inclusive('\n')
        .take(line - 1)
        .map(str::len)
        .sum();
    let from_line = text.get(offset..).unwrap_or("");
    let start = from_line
        .char_indices()
        .nth(col - 1)
        .map_or(from_line.len(), |(i, _)| i);
    for c in from_line.get(start..).unwrap_or("").chars() {
        match c {
            '\n' => {
                line += 1;
                col = 1;
            }
            ' ' | '\t' | '\r' => col += 1,
            _ => break,
        }
    }
    TextPos { line, col }
}

fn ron_options() -> ron::Options {
    ron::Options::default().with_recursion_limit(MAX_RON_NESTING)
}

/// Parses a topology from RON text. `path` is only used in error messages.
pub fn from_ron_str(text: &str, path: &Path) -> Result<Topology, FormatError> {
    if text.trim().is_empty() {
        return Err(FormatError::Syntax {
            path: path.to_path_buf(),
            at: TextPos { line: 1, col: 1 },
            message: "the file is empty; a topology starts with `(version: 1, name: \"…\", …)`"
                .into(),
        });
    }
    let options = ron_options();
    if let Some((found, at)) = newer_version(text, &options) {
        return Err(FormatError::NewerVersion {
            path: path.to_path_buf(),
            at,
            found,
            supported: CURRENT_VERSION,
        });
    }
    let record: FileRecord = options.from_str(text).map_err(|e| FormatError::Syntax {
        path: path.to_path_buf(),
        at: text_pos(text, &e.span.start),
        message: user_message(&e.code),
    })?;
    if record.version == 0 {
        return Err(FormatError::Other {
            path: path.to_path_buf(),
            message: "version 0 does not exist; this build writes version 1".into(),
        });
    }
    Ok(topology_from_record(record))
}

fn topology_from_record(record: FileRecord) -> Topology {
    let mut topology = Topology::new(record.name);
    topology.description = record.description;
    topology.settings = record.settings;
    topology.sink_groups = record.sink_groups;
    // Names to indices, built once so that wiring edges stays linear in the file's size.
    // The first node of a name wins, as in `Topology::index_of`; validation reports the
    // duplicate.
    let mut by_name: HashMap<String, NodeIndex> = HashMap::with_capacity(record.nodes.len());
    for n in record.nodes {
        let name = n.name.clone();
        let index = topology.add_node_unchecked(Node {
            name: n.name,
            role: n.role,
            component: n.component,
            parallelism: n.parallelism,
            tasks: n.tasks,
            config: n.config,
            outputs: n.outputs,
            window: n.window,
            agent: n.agent,
            pos: n.pos,
        });
        by_name.entry(name).or_insert(index);
    }
    for e in record.edges {
        let ends = (by_name.get(&e.from).copied(), by_name.get(&e.to).copied());
        match ends {
            (Some(from), Some(to)) => {
                // Both endpoints exist, so connecting cannot fail.
                let _ = topology.connect(from, to, e.stream, e.grouping);
            }
            _ => topology.dangling_edges.push(NamedEdge {
                from: e.from,
                to: e.to,
                stream: e.stream,
                grouping: e.grouping,
            }),
        }
    }
    topology
}

fn record_from_topology(topology: &Topology) -> FileRecord {
    let order = topology.reading_order();
    let rank: HashMap<String, usize> = order
        .iter()
        .enumerate()
        .filter_map(|(rank, &i)| topology.node(i).map(|n| (n.name.clone(), rank)))
        .collect();
    let nodes = order
        .iter()
        .filter_map(|&i| topology.node(i))
        .map(|n| NodeRecord {
            name: n.name.clone(),
            role: n.role,
            component: n.component.clone(),
            parallelism: n.parallelism,
            tasks: n.tasks,
            config: n.config.clone(),
            outputs: n.outputs.clone(),
            window: n.window,
            agent: n.agent.clone(),
            pos: n.pos,
        })
        .collect();
    let mut edges: Vec<NamedEdge> = topology.edge_list();
    edges.extend(topology.dangling_edges.iter().cloned());
    edges.sort_by(|a, b| {
        let key = |e: &NamedEdge| {
            (
                rank.get(&e.from).copied().unwrap_or(usize::MAX),
                rank.get(&e.to).copied().unwrap_or(usize::MAX),
            )
        };
        key(a)
            .cmp(&key(b))
            .then_with(|| a.sort_key().cmp(&b.sort_key()))
    });
    FileRecord {
        version: CURRENT_VERSION,
        name: topology.name.clone(),
        description: topology.description.clone(),
        settings: topology.settings.clone(),
        nodes,
        edges: edges
            .into_iter()
            .map(|e| EdgeRecord {
                from: e.from,
                stream: e.stream,
                to: e.to,
                grouping: e.grouping,
            })
            .collect(),
        sink_groups: topology.sink_groups.clone(),
    }
}

/// The canonical text of a topology: what `save` writes and `fmt` compares against.
pub fn to_ron_string(topology: &Topology) -> String {
    let config = ron::ser::PrettyConfig::new()
        .depth_limit(3)
        .indentor("    ")
        .struct_names(false)
        .separate_tuple_members(false)
        .escape_strings(false)
        .extensions(Extensions::empty());
    let record = record_from_topology(topology);
    match ron::ser::to_string_pretty(&record, config) {
        Ok(mut text) => {
            text.push('\n');
            text
        }
        // Serialising plain records to a string has no failure mode in practice; keep
        // the error visible rather than writing an empty file.
        Err(e) => format!("// could not serialise topology: {e}\n"),
    }
}

/// Reads a topology file: a regular file of at most [`MAX_FILE_BYTES`] of UTF-8 text.
pub fn load_ron(path: &Path) -> Result<Topology, FormatError> {
    load_ron_with_text(path).map(|(topology, _)| topology)
}

/// Reads a topology file and also returns its text, for commands that show diagnostics
/// against the lines or compare with the canonical form, so the file is read once and
/// under the same limit.
pub fn load_ron_with_text(path: &Path) -> Result<(Topology, String), FormatError> {
    let text = read_text(path, MAX_FILE_BYTES)?;
    let topology = from_ron_str(&text, path)?;
    Ok((topology, text))
}

/// Writes a topology file atomically in canonical form.
pub fn save_ron(topology: &Topology, path: &Path) -> Result<(), FormatError> {
    write_atomically(path, to_ron_string(topology).as_bytes()).map_err(|source| FormatError::Io {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Topology, FormatError> {
        from_ron_str(text, Path::new("t.ron"))
    }

    const SMALL: &str = r#"
// comments are allowed
(
    version: 1,
    name: "small",
    settings: (max_spout_pending: 100),
    nodes: [
        (name: "gen", role: Spout, component: "word_generator", config: {"seed": 7, "rate_per_sec": 2.5},
         outputs: [(fields: ["word"])], pos: (10.0, 20.0)),
        (name: "count", role: Bolt, component: "count_by_key", parallelism: 2, tasks: 4,
         outputs: [(fields: ["word", "count"])]),
    ],
    edges: [
        (from: "gen", to: "count", grouping: Fields(["word"])),
    ],
)
"#;

    #[test]
    fn hand_written_file_loads_with_defaults() {
        let t = parse(SMALL).unwrap();
        assert_eq!(t.settings.max_spout_pending, Some(100));
        assert_eq!(t.settings.message_timeout_secs, 30);
        let count = t.node_by_name("count").unwrap();
        assert_eq!((count.parallelism, count.tasks), (2, Some(4)));
        let generator = t.node_by_name("gen").unwrap();
        assert_eq!(generator.config["seed"], Value::Int(7));
        assert_eq!(generator.config["rate_per_sec"], Value::Float(2.5));
        assert_eq!(t.edge_list()[0].stream, DEFAULT_STREAM);
    }

    #[test]
    fn save_is_canonical_and_round_trips() {
        let t = parse(SMALL).unwrap();
        let text = to_ron_string(&t);
        let again = parse(&text).unwrap();
        assert_eq!(t, again);
        assert_eq!(text, to_ron_string(&again));
    }

    #[test]
    fn syntax_errors_carry_line_and_column() {
        let err = parse("(\n  version: 1,\n  name: \"x\",\n  nodes: [ (name: ) ],\n)").unwrap_err();
        let at = err.position().unwrap();
        assert_eq!(at.line, 4);
        assert!(err.to_string().starts_with("t.ron:4:"), "{err}");
    }

    #[test]
    fn unknown_fields_are_errors() {
        let err = parse("(version: 1, name: \"x\", colour: \"red\")").unwrap_err();
        assert!(err.to_string().contains("colour"), "{err}");
    }

    #[test]
    fn newer_version_is_refused_clearly() {
        let err = parse("(version: 7, name: \"x\", hologram: true)").unwrap_err();
        assert!(
            matches!(err, FormatError::NewerVersion { found: 7, .. }),
            "{err}"
        );
    }

    #[test]
    fn newer_version_points_at_the_version_line_and_column() {
        let text =
            "// from the future\n(\n    name: \"x\",\n    version: 99,\n    hologram: true,\n)\n";
        let err = parse(text).unwrap_err();
        assert!(
            matches!(err, FormatError::NewerVersion { found: 99, .. }),
            "{err}"
        );
        let at = err.position().unwrap();
        assert_eq!((at.line, at.col), (4, 14), "{err}");
        assert!(err.to_string().starts_with("t.ron:4:14: error: "), "{err}");
        assert!(err.to_string().contains("version 99"), "{err}");
    }

    #[test]
    fn edges_to_missing_nodes_are_kept() {
        let t = parse(
            "(version: 1, name: \"x\", nodes: [(name: \"a\", role: Spout, component: \"sequence\")], \
             edges: [(from: \"a\", to: \"ghost\", grouping: Shuffle)])",
        )
        .unwrap();
        assert_eq!(t.dangling_edges.len(), 1);
        assert!(to_ron_string(&t).contains("ghost"));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = format!(
            "(version: 1, name: \"x\", nodes: [(name: \"a\", role: Bolt, component: \"map\", config: {{\"k\": {}{}}})])",
            "[".repeat(20_000),
            "]".repeat(20_000)
        );
        let err = parse(&deep).unwrap_err();
        assert!(err.to_string().contains("nest too deeply"), "{err}");
        assert_eq!(err.position().map(|at| at.line), Some(1));
    }
}
