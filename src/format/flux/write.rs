//! A topology to Flux YAML that `storm jar … org.apache.storm.flux.Flux` accepts.

use std::collections::HashMap;

use serde_norway::{Mapping, Value as Yaml};

use super::classes;
use super::emit;
use super::encode::{self, JSON_PREFIX};
use super::read::{CONFIG_PREFIX, SECTION_PREFIX};
use crate::components::{self, STAND_IN};
use crate::model::{DEFAULT_STREAM, ExecutionMode, Grouping, NamedEdge, Node, Role, Topology};

/// Settings keys that belong to other formats and are not Storm config.
const FLUME_PREFIX: &str = "flume:";

/// Writes Flux YAML, or lists every part of the topology Flux cannot express.
pub fn export(topology: &Topology) -> Result<String, Vec<String>> {
    let mut problems = Vec::new();
    let order = topology.reading_order();
    let nodes: Vec<&Node> = order.iter().filter_map(|&i| topology.node(i)).collect();
    let flume: Vec<String> = nodes
        .iter()
        .filter(|n| !matches!(n.role, Role::Spout | Role::Bolt))
        .map(|n| format!("'{}' ({})", n.name, n.role))
        .collect();
    if !flume.is_empty() {
        problems.push(format!(
            "Flux describes Storm spouts and bolts only; these Flume nodes have no Storm equivalent: {}",
            flume.join(", ")
        ));
    }
    if let ExecutionMode::MicroBatch { .. } = topology.settings.mode {
        problems.push(
            "micro-batch execution is a Spark-style mode Storm does not have; switch the topology to record-at-a-time"
                .into(),
        );
    }
    for e in &topology.dangling_edges {
        problems.push(format!(
            "edge '{} --> {}' refers to a missing node",
            e.from, e.to
        ));
    }
    let mut doc = Mapping::new();
    doc.insert("name".into(), Yaml::String(topology.name.clone()));
    doc.insert(
        "config".into(),
        Yaml::Mapping(config(topology, &mut problems)),
    );
    for (key, value) in &topology.settings.extra {
        if let Some(section) = key.strip_prefix(SECTION_PREFIX) {
            match encode::parse_json(key, value) {
                Ok(yaml) => {
                    doc.insert(section.into(), yaml);
                }
                Err(e) => problems.push(format!("settings: {e}")),
            }
        }
    }
    for (section, role) in [("spouts", Role::Spout), ("bolts", Role::Bolt)] {
        let list: Vec<Yaml> = nodes
            .iter()
            .filter(|n| n.role == role)
            .filter_map(|n| component(n, &mut problems))
            .collect();
        if !list.is_empty() {
            doc.insert(section.into(), Yaml::Sequence(list));
        }
    }
    let streams = streams(topology, &order, &mut problems);
    if !streams.is_empty() {
        doc.insert("streams".into(), Yaml::Sequence(streams));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let body = emit::document(&doc);
    Ok(format!(
        "# Storm Flux topology exported by Tributary.\n# Submit with: storm jar YOUR-TOPOLOGY.jar org.apache.storm.flux.Flux --local THIS-FILE.yaml\n---\n{body}"
    ))
}

fn config(topology: &Topology, problems: &mut Vec<String>) -> Mapping {
    let s = &topology.settings;
    let mut config = Mapping::new();
    config.insert("topology.workers".into(), s.workers.into());
    if s.message_timeout_secs != 30 {
        config.insert(
            "topology.message.timeout.secs".into(),
            s.message_timeout_secs.into(),
        );
    }
    if let Some(pending) = s.max_spout_pending {
        config.insert("topology.max.spout.pending".into(), pending.into());
    }
    if s.ackers != 1 {
        config.insert("topology.acker.executors".into(), s.ackers.into());
    }
    for (key, value) in &s.extra {
        if key.starts_with(SECTION_PREFIX) || key.starts_with(FLUME_PREFIX) {
            continue;
        }
        match encode::decode(key, value) {
            Ok((k, v)) => {
                config.insert(k.into(), v);
            }
            Err(e) => problems.push(format!("settings: {e}")),
        }
    }
    config
}

fn component(node: &Node, problems: &mut Vec<String>) -> Option<Yaml> {
    let mut spec = Mapping::new();
    spec.insert("id".into(), Yaml::String(node.name.clone()));
    if node.window.is_some() {
        problems.push(format!(
            "'{}' has a window; Flux can only name a windowed bolt class, so use a stand-in with that class",
            node.name
        ));
    }
    if node.component == STAND_IN {
        let class = node
            .config
            .get("class")
            .and_then(|v| v.as_str())
            .unwrap_or("");
        if class.is_empty() {
            problems.push(format!(
                "stand-in '{}' has no class; set 'class' to the Java class it stands for",
                node.name
            ));
        }
        spec.insert("className".into(), Yaml::String(class.to_string()));
        write_kept(node, &mut spec, &["class"], problems);
    } else if components::runs_a_program(&node.component) {
        let class = if node.component == components::SHELL_SPOUT {
            classes::SHELL_SPOUT
        } else {
            classes::SHELL_BOLT
        };
        spec.insert("className".into(), Yaml::String(class.into()));
        let command: Vec<Yaml> = node
            .config
            .get("command")
            .and_then(|v| v.as_list())
            .unwrap_or_default()
            .iter()
            .filter_map(|v| v.as_str())
            .map(|p| Yaml::String(p.to_string()))
            .collect();
        let fields: Vec<Yaml> = node
            .outputs
            .first()
            .map(|d| d.fields.iter().map(|f| Yaml::String(f.clone())).collect())
            .unwrap_or_default();
        if node.outputs.len() > 1 {
            problems.push(format!(
                "'{}' declares {} streams; Flux's shell wrappers declare one, so only '{}' is written",
                node.name,
                node.outputs.len(),
                node.outputs[0].stream
            ));
        }
        spec.insert(
            "constructorArgs".into(),
            Yaml::Sequence(vec![Yaml::Sequence(command), Yaml::Sequence(fields)]),
        );
        let own: Vec<&str> = components::descriptor(&node.component)
            .map(|d| d.params.iter().map(|p| p.key).collect())
            .unwrap_or_default();
        write_kept(node, &mut spec, &own, problems);
    } else {
        match classes::class_for(&node.component) {
            Some(class) => {
                spec.insert("className".into(), Yaml::String(class.into()));
            }
            None => problems.push(format!(
                "'{}' uses the built-in '{}', which has no Storm class; replace it with a stand-in naming your class",
                node.name, node.component
            )),
        }
    }
    spec.insert("parallelism".into(), node.parallelism.into());
    if let Some(tasks) = node.tasks {
        spec.insert("numTasks".into(), tasks.into());
    }
    Some(Yaml::Mapping(spec))
}

/// Writes back what import kept of a definition (every config key but `skip`), with
/// `config.`-prefixed keys under `config`.
fn write_kept(node: &Node, spec: &mut Mapping, skip: &[&str], problems: &mut Vec<String>) {
    let mut own_config = Mapping::new();
    for (key, value) in node
        .config
        .iter()
        .filter(|(k, _)| !skip.contains(&k.as_str()))
    {
        match encode::decode(key, value) {
            Ok((k, v)) => match k.strip_prefix(CONFIG_PREFIX) {
                Some(c) => {
                    own_config.insert(c.into(), v);
                }
                None => {
                    spec.insert(k.into(), v);
                }
            },
            Err(e) => problems.push(format!("'{}': {e}", node.name)),
        }
    }
    if !own_config.is_empty() {
        spec.insert("config".into(), Yaml::Mapping(own_config));
    }
}

fn streams(
    topology: &Topology,
    order: &[petgraph::stable_graph::NodeIndex],
    problems: &mut Vec<String>,
) -> Vec<Yaml> {
    let rank: HashMap<&str, usize> = order
        .iter()
        .enumerate()
        .filter_map(|(r, &i)| topology.node(i).map(|n| (n.name.as_str(), r)))
        .collect();
    let mut edges = topology.edge_list();
    edges.sort_by(|a, b| {
        let key = |e: &NamedEdge| {
            (
                rank.get(e.from.as_str()).copied(),
                rank.get(e.to.as_str()).copied(),
            )
        };
        key(a)
            .cmp(&key(b))
            .then_with(|| a.sort_key().cmp(&b.sort_key()))
    });
    let by_name = topology.name_index();
    let storm = |name: &str| {
        by_name
            .get(name)
            .and_then(|&i| topology.node(i))
            .is_some_and(|n| matches!(n.role, Role::Spout | Role::Bolt))
    };
    let mut out = Vec::new();
    // Edges touching Flume nodes were reported with those nodes.
    for e in edges.into_iter().filter(|e| storm(&e.from) && storm(&e.to)) {
        let mut grouping = Mapping::new();
        let kind = match &e.grouping {
            Grouping::Shuffle => "SHUFFLE",
            Grouping::All => "ALL",
            Grouping::Global => "GLOBAL",
            Grouping::None => "NONE",
            Grouping::Direct => "DIRECT",
            Grouping::LocalOrShuffle => "LOCAL_OR_SHUFFLE",
            Grouping::Fields(fields) => {
                grouping.insert(
                    "args".into(),
                    Yaml::Sequence(fields.iter().map(|f| Yaml::String(f.clone())).collect()),
                );
                "FIELDS"
            }
            Grouping::Custom(spec) => match custom_class(spec) {
                Ok(custom) => {
                    grouping.insert("customClass".into(), custom);
                    "CUSTOM"
                }
                Err(problem) => {
                    problems.push(format!("edge '{} --> {}': {problem}", e.from, e.to));
                    continue;
                }
            },
            other => {
                problems.push(format!(
                    "edge '{} --> {}': grouping {} has no Flux equivalent",
                    e.from,
                    e.to,
                    other.label()
                ));
                continue;
            }
        };
        let mut ordered = Mapping::new();
        ordered.insert("type".into(), Yaml::String(kind.into()));
        ordered.extend(grouping);
        if e.stream != DEFAULT_STREAM {
            ordered.insert("streamId".into(), Yaml::String(e.stream.clone()));
        }
        let mut stream = Mapping::new();
        stream.insert(
            "name".into(),
            Yaml::String(format!("{} --> {}", e.from, e.to)),
        );
        stream.insert("from".into(), Yaml::String(e.from.clone()));
        stream.insert("to".into(), Yaml::String(e.to.clone()));
        stream.insert("grouping".into(), Yaml::Mapping(ordered));
        out.push(Yaml::Mapping(stream));
    }
    out
}

/// `Custom("class")` or `Custom("class {json}")` (constructor arguments kept on import).
fn custom_class(spec: &str) -> Result<Yaml, String> {
    let (class, args) = match spec.split_once(' ') {
        Some((class, json)) => (class, Some(json)),
        None => (spec, None),
    };
    let mut custom = Mapping::new();
    custom.insert("className".into(), Yaml::String(class.into()));
    if let Some(json) = args {
        let key = format!("{JSON_PREFIX}customClass");
        let extra = encode::parse_json(&key, &crate::model::Value::Str(json.into()))?;
        if let Yaml::Mapping(m) = extra {
            custom.extend(m);
        }
    }
    Ok(Yaml::Mapping(custom))
}
