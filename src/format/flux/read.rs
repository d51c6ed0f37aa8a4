//! Flux YAML (already loaded, substituted and merged) to a topology.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use serde_norway::{Mapping, Value as Yaml};

use super::super::interop::ImportError;
use super::super::layout;
use super::checks;
use super::classes::{self, SHELL_BOLT, SHELL_SPOUT};
use super::encode::{self, show};
use crate::components::{self, STAND_IN};
use crate::model::{DEFAULT_STREAM, Grouping, Node, Role, Settings, StreamDecl, Topology, Value};

/// Prefix of `Settings::extra` keys holding whole Flux sections (`components`, …).
pub const SECTION_PREFIX: &str = "flux:";
/// Prefix of stand-in config keys holding a component's own Storm `config:` entries.
pub const CONFIG_PREFIX: &str = "config.";

/// Top-level keys read into the graph rather than kept as sections.
const GRAPH_KEYS: &[&str] = &["name", "config", "spouts", "bolts", "streams"];
/// Keys of a spout or bolt that the node itself holds.
const NODE_KEYS: &[&str] = &["id", "className", "parallelism", "numTasks"];

struct Spec {
    id: String,
    role: Role,
    class: String,
    parallelism: u32,
    tasks: Option<u32>,
    /// Everything else the definition says (constructorArgs, configMethods, …).
    rest: Mapping,
}

struct StreamSpec {
    from: String,
    to: String,
    stream: String,
    grouping: Grouping,
}

/// Builds a topology from a Flux document, or lists every problem found.
pub fn from_doc(path: &Path, doc: &Mapping) -> Result<Topology, ImportError> {
    if let Some(source) = doc.get("topologySource") {
        let class = source
            .get("className")
            .and_then(Yaml::as_str)
            .unwrap_or("(no className)");
        return Err(ImportError::invalid(
            path,
            vec![format!(
                "topologySource: this topology is built at submit time by the Java class {class}, so the file has no spouts, bolts and streams to draw; Tributary imports Flux files that list them"
            )],
        ));
    }
    let mut problems = Vec::new();
    let name = match doc.get("name") {
        Some(Yaml::String(s)) => s.clone(),
        Some(other @ (Yaml::Number(_) | Yaml::Bool(_))) => show(other),
        _ => path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("imported")
            .to_string(),
    };
    let mut topology = Topology::new(name);
    read_config(doc.get("config"), &mut topology.settings, &mut problems);
    read_sections(doc, &mut topology.settings, &mut problems);
    let mut specs = read_specs(doc.get("spouts"), Role::Spout, &mut problems);
    specs.extend(read_specs(doc.get("bolts"), Role::Bolt, &mut problems));
    let mut seen = HashSet::new();
    for spec in &specs {
        if !seen.insert(spec.id.as_str()) {
            problems.push(format!(
                "{} '{}': the id is used twice; spouts and bolts need unique ids",
                spec.role, spec.id
            ));
        }
    }
    let streams = read_streams(doc.get("streams"), &seen, &mut problems);
    if specs.is_empty() {
        problems.push("the file defines no spouts or bolts".into());
    }
    if !problems.is_empty() {
        return Err(ImportError::invalid(path, problems));
    }
    for spec in &specs {
        let node = build_node(spec, &streams, &mut problems);
        topology.add_node_unchecked(node);
    }
    for s in &streams {
        if let Err(e) = topology.connect_names(&s.from, &s.to, s.stream.clone(), s.grouping.clone())
        {
            problems.push(format!("stream '{} --> {}': {e}", s.from, s.to));
        }
    }
    if !problems.is_empty() {
        return Err(ImportError::invalid(path, problems));
    }
    declare_stand_in_outputs(&mut topology, &specs);
    layout::layered(&mut topology);
    Ok(topology)
}

fn read_config(config: Option<&Yaml>, settings: &mut Settings, problems: &mut Vec<String>) {
    let Some(config) = config.filter(|c| !c.is_null()) else {
        return;
    };
    let Some(map) = config.as_mapping() else {
        problems.push("config: must be a mapping of Storm config keys".into());
        return;
    };
    for (key, value) in map {
        let Some(key) = key.as_str() else {
            problems.push(format!("config: key {} is not text", show(key)));
            continue;
        };
        checks::check_config_entry("config", key, value, problems);
        let slot = match key {
            "topology.workers" => Some(&mut settings.workers),
            "topology.message.timeout.secs" => Some(&mut settings.message_timeout_secs),
            "topology.acker.executors" => Some(&mut settings.ackers),
            "topology.max.spout.pending" => {
                if !value.is_null() {
                    settings.max_spout_pending = as_u32(value, key, problems);
                }
                continue;
            }
            _ => None,
        };
        match slot {
            Some(slot) => {
                if let Some(n) = (!value.is_null())
                    .then(|| as_u32(value, key, problems))
                    .flatten()
                {
                    *slot = n;
                }
            }
            None => match encode::encode(key, value) {
                Ok((k, v)) => {
                    settings.extra.insert(k, v);
                }
                Err(e) => problems.push(format!("config: {e}")),
            },
        }
    }
}

fn as_u32(value: &Yaml, key: &str, problems: &mut Vec<String>) -> Option<u32> {
    let n = value.as_u64().and_then(|n| u32::try_from(n).ok());
    if n.is_none() && (value.is_i64() || value.is_u64()) {
        problems.push(format!("config: '{key}' is out of range: {}", show(value)));
    }
    n
}

/// Keeps `components`, `workerHooks` and any other section as JSON, so they export back.
fn read_sections(doc: &Mapping, settings: &mut Settings, problems: &mut Vec<String>) {
    if let Some(list) = doc.get("components").and_then(Yaml::as_sequence) {
        for (i, component) in list.iter().enumerate() {
            let id = component.get("id").and_then(Yaml::as_str);
            let owner = format!(
                "component '{}'",
                id.map_or(format!("#{}", i + 1), str::to_string)
            );
            match (
                component.as_mapping(),
                component.get("className").and_then(Yaml::as_str),
            ) {
                (Some(spec), Some(class)) => checks::check_calls(&owner, class, spec, problems),
                _ => problems.push(format!("{owner}: needs an id and a className")),
            }
        }
    }
    for (key, value) in doc {
        let Some(key) = key.as_str() else {
            problems.push(format!("top-level key {} is not text", show(key)));
            continue;
        };
        if GRAPH_KEYS.contains(&key) {
            continue;
        }
        match encode::to_json(value) {
            Ok(json) => {
                settings
                    .extra
                    .insert(format!("{SECTION_PREFIX}{key}"), Value::Str(json));
            }
            Err(e) => problems.push(format!("section '{key}' cannot be kept: {e}")),
        }
    }
}

fn read_specs(list: Option<&Yaml>, role: Role, problems: &mut Vec<String>) -> Vec<Spec> {
    let section = if role == Role::Spout {
        "spouts"
    } else {
        "bolts"
    };
    let Some(list) = list.filter(|l| !l.is_null()) else {
        return Vec::new();
    };
    let Some(items) = list.as_sequence() else {
        problems.push(format!("'{section}' must be a list"));
        return Vec::new();
    };
    let mut specs = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let id = match item.get("id") {
            Some(Yaml::String(s)) if !s.trim().is_empty() => s.clone(),
            Some(v @ Yaml::Number(_)) => show(v),
            _ => {
                problems.push(format!("{role} #{} in '{section}' has no id", i + 1));
                continue;
            }
        };
        let owner = format!("{role} '{id}'");
        let Some(map) = item.as_mapping() else {
            problems.push(format!("{owner}: must be a mapping"));
            continue;
        };
        let Some(class) = map.get("className").and_then(Yaml::as_str) else {
            problems.push(format!("{owner}: has no className"));
            continue;
        };
        let parallelism = positive(map.get("parallelism"), "parallelism", &owner, problems);
        let tasks = map
            .get("numTasks")
            .map(|v| positive(Some(v), "numTasks", &owner, problems));
        checks::check_calls(&owner, class, map, problems);
        if let Some(config) = map.get("config") {
            checks::check_component_config(&owner, config, problems);
        }
        let mut rest = map.clone();
        for key in NODE_KEYS {
            rest.remove(*key);
        }
        specs.push(Spec {
            id,
            role,
            class: class.to_string(),
            parallelism,
            tasks,
            rest,
        });
    }
    specs
}

fn positive(value: Option<&Yaml>, what: &str, owner: &str, problems: &mut Vec<String>) -> u32 {
    let Some(value) = value else { return 1 };
    match value.as_u64().and_then(|n| u32::try_from(n).ok()) {
        Some(n) if n > 0 => n,
        _ => {
            problems.push(format!(
                "{owner}: {what} must be a whole number of at least 1, not {}",
                show(value)
            ));
            1
        }
    }
}

fn read_streams(
    list: Option<&Yaml>,
    ids: &HashSet<&str>,
    problems: &mut Vec<String>,
) -> Vec<StreamSpec> {
    let Some(list) = list.filter(|l| !l.is_null()) else {
        return Vec::new();
    };
    let Some(items) = list.as_sequence() else {
        problems.push("'streams' must be a list".into());
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let from = item.get("from").and_then(Yaml::as_str);
        let to = item.get("to").and_then(Yaml::as_str);
        let (Some(from), Some(to)) = (from, to) else {
            problems.push(format!("stream #{} needs 'from' and 'to'", i + 1));
            continue;
        };
        let owner = format!("stream '{from} --> {to}'");
        for end in [from, to] {
            if !ids.contains(end) {
                problems.push(format!(
                    "{owner}: there is no spout or bolt with id '{end}'"
                ));
            }
        }
        let Some(grouping) = item.get("grouping") else {
            problems.push(format!("{owner}: has no grouping"));
            continue;
        };
        let stream = match grouping.get("streamId") {
            None | Some(Yaml::Null) => DEFAULT_STREAM.to_string(),
            Some(Yaml::String(s)) => s.clone(),
            Some(other) => {
                problems.push(format!(
                    "{owner}: streamId must be text, not {}",
                    show(other)
                ));
                continue;
            }
        };
        if let Some(grouping) = read_grouping(&owner, grouping, problems) {
            out.push(StreamSpec {
                from: from.to_string(),
                to: to.to_string(),
                stream,
                grouping,
            });
        }
    }
    out
}

fn read_grouping(owner: &str, grouping: &Yaml, problems: &mut Vec<String>) -> Option<Grouping> {
    let kind = grouping.get("type").and_then(Yaml::as_str);
    let grouping = match kind {
        Some("SHUFFLE") => Grouping::Shuffle,
        Some("ALL") => Grouping::All,
        Some("GLOBAL") => Grouping::Global,
        Some("NONE") => Grouping::None,
        Some("DIRECT") => Grouping::Direct,
        Some("LOCAL_OR_SHUFFLE") => Grouping::LocalOrShuffle,
        Some("FIELDS") => {
            let fields: Option<Vec<String>> = grouping
                .get("args")
                .and_then(Yaml::as_sequence)
                .and_then(|a| a.iter().map(|f| f.as_str().map(str::to_string)).collect());
            match fields {
                Some(f) if !f.is_empty() => Grouping::Fields(f),
                _ => {
                    problems.push(format!(
                        "{owner}: a FIELDS grouping needs args listing field names, e.g. args: [\"word\"]"
                    ));
                    return None;
                }
            }
        }
        Some("CUSTOM") => {
            let custom = grouping.get("customClass").and_then(Yaml::as_mapping);
            let Some((class, custom)) = custom.and_then(|c| {
                c.get("className")
                    .and_then(Yaml::as_str)
                    .map(|class| (class, c))
            }) else {
                problems.push(format!(
                    "{owner}: a CUSTOM grouping needs customClass with a className"
                ));
                return None;
            };
            let mut args = custom.clone();
            args.remove("className");
            if args.is_empty() {
                Grouping::Custom(class.to_string())
            } else {
                match encode::to_json(&args) {
                    Ok(json) => Grouping::Custom(format!("{class} {json}")),
                    Err(e) => {
                        problems.push(format!("{owner}: customClass cannot be kept: {e}"));
                        return None;
                    }
                }
            }
        }
        other => {
            problems.push(format!(
                "{owner}: grouping type {} is not one of SHUFFLE, FIELDS, ALL, GLOBAL, NONE, DIRECT, LOCAL_OR_SHUFFLE, CUSTOM",
                other.map_or("(missing)".to_string(), |t| format!("'{t}'"))
            ));
            return None;
        }
    };
    Some(grouping)
}

/// A built-in node when the class is a known one and nothing would be lost; otherwise a
/// stand-in keeping the class and every other key of the definition.
fn build_node(spec: &Spec, streams: &[StreamSpec], problems: &mut Vec<String>) -> Node {
    if let Some(mut node) = built_in_node(spec, streams) {
        node.parallelism = spec.parallelism;
        node.tasks = spec.tasks;
        return node;
    }
    let mut node = Node::new(&spec.id, spec.role, STAND_IN);
    node.parallelism = spec.parallelism;
    node.tasks = spec.tasks;
    node.config
        .insert("class".into(), Value::Str(spec.class.clone()));
    for (key, value) in &spec.rest {
        let Some(key) = key.as_str() else { continue };
        let entries: Vec<(String, &Yaml)> = match (key, value.as_mapping()) {
            ("config", Some(config)) => config
                .iter()
                .filter_map(|(k, v)| k.as_str().map(|k| (format!("{CONFIG_PREFIX}{k}"), v)))
                .collect(),
            _ => vec![(key.to_string(), value)],
        };
        for (k, v) in entries {
            match encode::encode(&k, v) {
                Ok((k, v)) => {
                    node.config.insert(k, v);
                }
                Err(e) => problems.push(format!("{} '{}': {e}", spec.role, spec.id)),
            }
        }
    }
    node
}

fn built_in_node(spec: &Spec, streams: &[StreamSpec]) -> Option<Node> {
    if !spec.rest.is_empty() {
        return None;
    }
    let built_in = classes::built_in_for(&spec.class, spec.role)?;
    let descriptor = components::descriptor(built_in.component)?;
    let node = components::new_node_as(descriptor, &spec.id, spec.role);
    let fields = node
        .output(DEFAULT_STREAM)
        .map(|d| d.fields.clone())
        .unwrap_or_default();
    let mut outgoing = streams.iter().filter(|s| s.from == spec.id).peekable();
    if outgoing.peek().is_some() && node.output(DEFAULT_STREAM).is_none() {
        return None;
    }
    let fits = outgoing.all(|s| {
        s.stream == DEFAULT_STREAM
            && s.grouping != Grouping::Direct
            && s.grouping.fields().iter().all(|f| fields.contains(f))
    });
    fits.then_some(node)
}

/// Stand-ins declare the streams their consumers subscribe to. Fields come from the
/// class when Tributary knows it (TestWordSpout, shell components' output fields), else
/// from the first input (a pass-through), plus whatever the consumers group on.
fn declare_stand_in_outputs(topology: &mut Topology, specs: &[Spec]) {
    let by_id: HashMap<&str, &Spec> = specs.iter().map(|s| (s.id.as_str(), s)).collect();
    for index in topology.reading_order() {
        let Some(node) = topology.node(index) else {
            continue;
        };
        if node.component != STAND_IN {
            continue;
        }
        let base = by_id
            .get(node.name.as_str())
            .and_then(|spec| known_fields(spec))
            .unwrap_or_else(|| inherited_fields(topology, index));
        let mut wanted: BTreeMap<String, (Vec<String>, bool)> = BTreeMap::new();
        wanted.insert(DEFAULT_STREAM.to_string(), (base.clone(), false));
        for (_, _, edge) in topology.outputs(index) {
            let entry = wanted
                .entry(edge.stream.clone())
                .or_insert_with(|| (base.clone(), false));
            for f in edge.grouping.fields() {
                if !entry.0.contains(f) {
                    entry.0.push(f.clone());
                }
            }
            entry.1 |= edge.grouping == Grouping::Direct;
        }
        let outputs = wanted
            .into_iter()
            .map(|(stream, (fields, direct))| StreamDecl {
                stream,
                fields,
                direct,
            })
            .collect();
        if let Some(node) = topology.node_mut(index) {
            node.outputs = outputs;
        }
    }
}

fn known_fields(spec: &Spec) -> Option<Vec<String>> {
    if let Some(fields) = classes::fixed_fields(&spec.class) {
        return Some(fields.iter().map(|f| f.to_string()).collect());
    }
    if spec.class == SHELL_SPOUT || spec.class == SHELL_BOLT {
        let args = spec.rest.get("constructorArgs")?.as_sequence()?;
        return args
            .get(1)?
            .as_sequence()?
            .iter()
            .map(|f| f.as_str().map(str::to_string))
            .collect();
    }
    None
}

fn inherited_fields(topology: &Topology, index: petgraph::stable_graph::NodeIndex) -> Vec<String> {
    let mut inputs: Vec<(String, String)> = topology
        .inputs(index)
        .filter_map(|(_, from, edge)| {
            topology
                .node(from)
                .map(|n| (n.name.clone(), edge.stream.clone()))
        })
        .collect();
    inputs.sort();
    inputs
        .first()
        .and_then(|(from, stream)| topology.node_by_name(from)?.output(stream))
        .map(|d| d.fields.clone())
        .unwrap_or_default()
}
