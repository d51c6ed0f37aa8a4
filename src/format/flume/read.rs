//! Flume agent properties to a topology: every agent of the file (or the one asked for),
//! its sources, channels, sinks and sink groups, selectors as link kinds, and every
//! property kept somewhere so that export writes it back.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use petgraph::stable_graph::NodeIndex;

use super::super::interop::{ImportError, ImportOptions};
use super::super::{MAX_FILE_BYTES, layout, properties, read_text};
use super::EXTRA_PREFIX;
use super::entries::{Entries, substitute_env, take};
use super::groups::sink_group;
use super::nodes::make_node;
use super::selector::source_links;
use crate::model::{DEFAULT_STREAM, Grouping, Role, Topology, Value};

const KINDS: [&str; 4] = ["sources", "channels", "sinks", "sinkgroups"];

/// Reads a Flume agent file (a regular file of at most [`MAX_FILE_BYTES`]).
pub fn import_file(path: &Path, options: &ImportOptions) -> Result<Topology, ImportError> {
    let text = read_text(path, MAX_FILE_BYTES)?;
    import_str(&text, path, options)
}

/// Reads Flume agent properties from text; `path` names the file in errors.
pub fn import_str(
    text: &str,
    path: &Path,
    options: &ImportOptions,
) -> Result<Topology, ImportError> {
    let props = properties::parse(text).map_err(|e| ImportError::Syntax {
        path: path.to_path_buf(),
        line: e.line,
        col: 1,
        message: e.message,
    })?;
    let props = if options.env {
        props
            .into_iter()
            .map(|mut p| {
                p.value = substitute_env(&p.value);
                p
            })
            .collect()
    } else {
        props
    };
    let entries = Entries::new(props);
    let agents = agent_names(&entries);
    let selected: Vec<String> = match &options.agent {
        Some(wanted) if agents.contains(wanted) => vec![wanted.clone()],
        Some(wanted) => {
            return Err(ImportError::invalid(
                path,
                vec![format!(
                    "there is no agent '{wanted}' in this file; it defines: {}",
                    if agents.is_empty() {
                        "none".into()
                    } else {
                        agents.join(", ")
                    }
                )],
            ));
        }
        None if agents.is_empty() => {
            return Err(ImportError::invalid(
                path,
                vec!["no Flume agent found: expected keys like AGENT.sources, AGENT.channels, AGENT.sinks".into()],
            ));
        }
        None => agents.clone(),
    };
    let multi = selected.len() > 1;
    let name = if multi {
        path.file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("flume")
            .to_string()
    } else {
        selected.first().cloned().unwrap_or_default()
    };
    let mut topology = Topology::new(name);
    let mut nodes = NodeNames::default();
    let mut problems = Vec::new();
    let mut clean = Vec::new();
    for agent in &selected {
        let before = problems.len();
        read_agent(
            &entries,
            agent,
            multi,
            &mut topology,
            &mut nodes,
            &mut problems,
        );
        if problems.len() == before {
            clean.push(agent.as_str());
        }
    }
    if !problems.is_empty() {
        if multi && !clean.is_empty() {
            problems.push(format!(
                "agents without problems: {}; import one of them on its own (the designer's agent choice, or --agent NAME)",
                clean.join(", ")
            ));
        }
        return Err(ImportError::invalid(path, problems));
    }
    layout::layered(&mut topology);
    Ok(topology)
}

/// The agents a file defines, in the order they first appear.
fn agent_names(entries: &Entries) -> Vec<String> {
    let mut agents: Vec<String> = Vec::new();
    let mut seen_agents: HashSet<&str> = HashSet::new();
    for key in &entries.order {
        let mut parts = key.splitn(3, '.');
        if let (Some(agent), Some(kind)) = (parts.next(), parts.next())
            && KINDS.contains(&kind)
            && seen_agents.insert(agent)
        {
            agents.push(agent.to_string());
        }
    }
    agents
}

/// The agents a Flume file defines, in file order, so the designer can offer a choice
/// before importing (as `flume-ng agent --name` picks one).
pub fn agents_in_file(path: &Path) -> Result<Vec<String>, ImportError> {
    let text = read_text(path, MAX_FILE_BYTES)?;
    let props = properties::parse(&text).map_err(|e| ImportError::Syntax {
        path: path.to_path_buf(),
        line: e.line,
        col: 1,
        message: e.message,
    })?;
    Ok(agent_names(&Entries::new(props)))
}

/// The nodes added so far, by name, so that each lookup costs the same however many
/// components the file declares.
#[derive(Default)]
struct NodeNames(HashMap<String, NodeIndex>);

/// One agent's components and links, added to `topology`.
fn read_agent(
    entries: &Entries,
    agent: &str,
    multi: bool,
    topology: &mut Topology,
    nodes: &mut NodeNames,
    problems: &mut Vec<String>,
) {
    let node_name = |name: &str| {
        if multi {
            format!("{agent}.{name}")
        } else {
            name.to_string()
        }
    };
    let [sources, channels, sinks, groups] = KINDS.map(|k| entries.list(&format!("{agent}.{k}")));
    let (sources, channels, sinks, groups) = (&sources, &channels, &sinks, &groups);
    let channel_set: HashSet<String> = channels.iter().cloned().collect();
    let sink_set: HashSet<String> = sinks.iter().cloned().collect();
    let here = format!("agent '{agent}'");
    if channels.is_empty() {
        problems.push(format!(
            "{here}: declares no channels ({agent}.channels), so its sources and sinks have nowhere to put or take events"
        ));
    }
    let mut claimed: HashSet<String> = KINDS.iter().map(|k| format!("{agent}.{k}")).collect();
    let mut links: Vec<(String, String, Grouping)> = Vec::new();
    for (kind, role, names) in [
        ("channels", Role::Channel, channels),
        ("sources", Role::Source, sources),
        ("sinks", Role::Sink, sinks),
    ] {
        for name in names {
            let prefix = format!("{agent}.{kind}.{name}.");
            let owner = format!("{here}: {role} '{name}'");
            if name.contains('.') {
                problems.push(format!(
                    "{owner}: a component name cannot contain '.', because Flume splits keys at dots ({prefix}type would be read as property of '{}')",
                    name.split('.').next().unwrap_or_default()
                ));
                continue;
            }
            let props = entries.component(agent, kind, name);
            claimed.extend(props.iter().map(|(p, _)| format!("{prefix}{p}")));
            let Some(kind_of) = props
                .iter()
                .rev()
                .find(|(p, _)| p == "type")
                .map(|(_, v)| v.clone())
            else {
                problems.push(format!("{owner} has no type ({prefix}type)"));
                continue;
            };
            let mut rest: Vec<(String, String)> =
                props.into_iter().filter(|(p, _)| p != "type").collect();
            match role {
                Role::Source => {
                    let found = source_links(&owner, &mut rest, &channel_set, problems);
                    links.extend(
                        found
                            .into_iter()
                            .map(|(ch, g)| (node_name(name), node_name(&ch), g)),
                    );
                }
                Role::Sink => match take(&mut rest, "channel") {
                    Some(ch) if channel_set.contains(&ch) => {
                        links.push((node_name(&ch), node_name(name), Grouping::Drain));
                    }
                    Some(ch) => problems.push(format!(
                        "{owner} drains channel '{ch}', which the agent does not declare in {agent}.channels"
                    )),
                    None => problems.push(format!(
                        "{owner} has no channel ({prefix}channel); a sink drains exactly one"
                    )),
                },
                _ => {}
            }
            let mut node = make_node(&node_name(name), role, &kind_of, &rest);
            node.agent = Some(agent.to_string());
            if nodes.0.contains_key(&node.name) {
                problems.push(format!(
                    "{here}: the name '{name}' is used by two components; Tributary needs unique names"
                ));
                continue;
            }
            let key = node.name.clone();
            let index = topology.add_node_unchecked(node);
            nodes.0.insert(key, index);
        }
    }
    // A link to a component that could not be built was already reported.
    for (from, to, grouping) in links {
        if let (Some(&from), Some(&to)) = (nodes.0.get(&from), nodes.0.get(&to)) {
            let _ = topology.connect(from, to, DEFAULT_STREAM, grouping);
        }
    }
    for group in groups {
        let prefix = format!("{agent}.sinkgroups.{group}.");
        let props = entries.component(agent, "sinkgroups", group);
        claimed.extend(props.iter().map(|(p, _)| format!("{prefix}{p}")));
        let (sink_group, leftovers) =
            sink_group(&here, group, props, &sink_set, &node_name, problems);
        for (p, v) in leftovers {
            topology
                .settings
                .extra
                .insert(format!("{EXTRA_PREFIX}{prefix}{p}"), Value::Str(v));
        }
        topology.sink_groups.push(sink_group);
    }
    // Properties of undeclared components (Flume ignores them) and anything else under
    // this agent are kept verbatim, so export writes them back.
    for key in entries.of_agent(agent) {
        if !claimed.contains(key)
            && let Some(v) = entries.get(key)
        {
            topology
                .settings
                .extra
                .insert(format!("{EXTRA_PREFIX}{key}"), Value::Str(v.to_string()));
        }
    }
}
