//! Flux YAML (already loaded, substituted and merged) to a topology.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use petgraph::stable_graph::NodeIndex;
use serde_norway::{Mapping, Value as Yaml};

use super::super::interop::ImportError;
use super::super::layout;
use super::checks;
use super::encode::{self, show};
use super::nodes::{build_node, read_specs};
use super::outputs::declare_stand_in_outputs;
use super::streams::{StreamSpec, read_streams};
use crate::model::{Role, Settings, Topology, Value};

/// Prefix of `Settings::extra` keys holding whole Flux sections (`components`, …).
pub const SECTION_PREFIX: &str = "flux:";
/// Prefix of stand-in config keys holding a component's own Storm `config:` entries.
pub const CONFIG_PREFIX: &str = "config.";

/// Top-level keys read into the graph rather than kept as sections.
const GRAPH_KEYS: &[&str] = &["name", "config", "spouts", "bolts", "streams"];

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
    // Streams by source and nodes by id, built once so the import stays linear in the
    // number of spouts, bolts and streams.
    let mut outgoing: HashMap<&str, Vec<&StreamSpec>> = HashMap::new();
    for s in &streams {
        outgoing.entry(s.from.as_str()).or_default().push(s);
    }
    let mut by_id: HashMap<&str, NodeIndex> = HashMap::with_capacity(specs.len());
    for spec in &specs {
        let from_here = outgoing
            .get(spec.id.as_str())
            .map_or(&[][..], Vec::as_slice);
        let node = build_node(spec, from_here, &mut problems);
        by_id.insert(spec.id.as_str(), topology.add_node_unchecked(node));
    }
    for s in &streams {
        // Both ends were checked against the ids by `read_streams`.
        if let (Some(&from), Some(&to)) = (by_id.get(s.from.as_str()), by_id.get(s.to.as_str()))
            && let Err(e) = topology.connect(from, to, s.stream.clone(), s.grouping.clone())
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
