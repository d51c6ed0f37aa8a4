//! Flux spouts and bolts to nodes: built-ins for well-known classes when nothing would be
//! lost, stand-ins keeping the class and every key otherwise.

use serde_norway::{Mapping, Value as Yaml};

use super::checks;
use super::classes;
use super::encode::{self, show};
use super::read::CONFIG_PREFIX;
use super::streams::StreamSpec;
use crate::components::{self, STAND_IN};
use crate::model::{DEFAULT_STREAM, Grouping, Node, Role, Value};

/// Keys of a spout or bolt that the node itself holds.
const NODE_KEYS: &[&str] = &["id", "className", "parallelism", "numTasks"];

/// A spout or bolt definition, read and checked.
pub(super) struct Spec {
    pub(super) id: String,
    pub(super) role: Role,
    pub(super) class: String,
    pub(super) parallelism: u32,
    pub(super) tasks: Option<u32>,
    /// Everything else the definition says (constructorArgs, configMethods, …).
    pub(super) rest: Mapping,
}

/// Reads the `spouts` or `bolts` list, checking what Storm would refuse at submit time.
pub(super) fn read_specs(list: Option<&Yaml>, role: Role, problems: &mut Vec<String>) -> Vec<Spec> {
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

/// A built-in node when the class is a known one and nothing would be lost; otherwise a
/// stand-in keeping the class and every other key of the definition. `outgoing` are the
/// streams leaving this spout or bolt.
pub(super) fn build_node(
    spec: &Spec,
    outgoing: &[&StreamSpec],
    problems: &mut Vec<String>,
) -> Node {
    if let Some(mut node) = built_in_node(spec, outgoing) {
        node.parallelism = spec.parallelism;
        node.tasks = spec.tasks;
        return node;
    }
    if let Some(mut node) = shell_node(spec) {
        node.parallelism = spec.parallelism;
        node.tasks = spec.tasks;
        // Keys named like the shell component's own settings are not Flux: kept, they
        // would replace the command the constructor gives.
        let own: Vec<&str> = components::descriptor(&node.component)
            .map(|d| d.params.iter().map(|p| p.key).collect())
            .unwrap_or_default();
        for key in spec.rest.keys().filter_map(Yaml::as_str) {
            if own.contains(&key) {
                problems.push(format!(
                    "{} '{}': '{key}' is not a Flux key of {}; the constructor arguments say what runs",
                    spec.role, spec.id, spec.class
                ));
            }
        }
        let mut skip = vec!["constructorArgs"];
        skip.extend(own);
        keep_rest(spec, &mut node, &skip, problems);
        return node;
    }
    let mut node = Node::new(&spec.id, spec.role, STAND_IN);
    node.parallelism = spec.parallelism;
    node.tasks = spec.tasks;
    node.config
        .insert("class".into(), Value::Str(spec.class.clone()));
    keep_rest(spec, &mut node, &[], problems);
    node
}

/// Keeps every key of the definition but `skip` in the node's config, so export can
/// write it back as it was.
fn keep_rest(spec: &Spec, node: &mut Node, skip: &[&str], problems: &mut Vec<String>) {
    for (key, value) in &spec.rest {
        let Some(key) = key.as_str() else { continue };
        if skip.contains(&key) {
            continue;
        }
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
}

/// Flux's shell wrappers become shell spouts and bolts that really run their command:
/// `constructorArgs: [[program, args…], [fields…]]`. Anything else about them (config
/// methods, component config) is kept for export. A definition of another shape stays a
/// stand-in.
fn shell_node(spec: &Spec) -> Option<Node> {
    let component = match (spec.class.as_str(), spec.role) {
        (classes::SHELL_SPOUT, crate::model::Role::Spout) => components::SHELL_SPOUT,
        (classes::SHELL_BOLT, crate::model::Role::Bolt) => components::SHELL_BOLT,
        _ => return None,
    };
    let args = spec.rest.get("constructorArgs")?.as_sequence()?;
    let [command, _fields] = args.as_slice() else {
        return None;
    };
    let command: Vec<Value> = command
        .as_sequence()?
        .iter()
        .map(|part| part.as_str().map(|s| Value::Str(s.to_string())))
        .collect::<Option<_>>()?;
    if command.is_empty() {
        return None;
    }
    let mut node = Node::new(&spec.id, spec.role, component);
    node.config.insert("command".into(), Value::List(command));
    Some(node)
}

fn built_in_node(spec: &Spec, outgoing: &[&StreamSpec]) -> Option<Node> {
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
    if !outgoing.is_empty() && node.output(DEFAULT_STREAM).is_none() {
        return None;
    }
    let fits = outgoing.iter().all(|s| {
        s.stream == DEFAULT_STREAM
            && s.grouping != Grouping::Direct
            && s.grouping.fields().iter().all(|f| fields.contains(f))
    });
    fits.then_some(node)
}
