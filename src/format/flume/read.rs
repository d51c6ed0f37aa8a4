//! Flume agent properties to a topology: every agent of the file (or the one asked for),
//! its sources, channels, sinks and sink groups, selectors as link kinds, and every
//! property kept somewhere so that export writes it back.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use super::super::interop::{ImportError, ImportOptions};
use super::super::{layout, properties};
use super::types;
use super::{EXTRA_PREFIX, ROUTING_PREFIXES};
use crate::components::{self, ParamKind, STAND_IN};
use crate::model::{
    DEFAULT_STREAM, Grouping, Node, Role, SinkGroup, SinkProcessor, StreamDecl, Topology, Value,
};

const KINDS: [&str; 4] = ["sources", "channels", "sinks", "sinkgroups"];
const DEFAULT_PENALTY_MS: u64 = 30_000;

/// The file's entries: the last value of each key wins (as in `java.util.Properties`),
/// and keys keep the order they first appeared in.
struct Entries {
    order: Vec<String>,
    values: HashMap<String, String>,
}

impl Entries {
    fn new(props: Vec<properties::Property>) -> Self {
        let mut order = Vec::new();
        let mut values = HashMap::new();
        for p in props {
            if values.insert(p.key.clone(), p.value).is_none() {
                order.push(p.key);
            }
        }
        Self { order, values }
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str)
    }

    fn list(&self, key: &str) -> Vec<String> {
        let mut seen = HashSet::new();
        self.get(key)
            .unwrap_or_default()
            .split_whitespace()
            .filter(|n| seen.insert(n.to_string()))
            .map(str::to_string)
            .collect()
    }

    /// `(property, value)` of every key under `prefix`, in file order.
    fn under(&self, prefix: &str) -> Vec<(String, String)> {
        self.order
            .iter()
            .filter_map(|k| {
                let prop = k.strip_prefix(prefix)?;
                Some((prop.to_string(), self.values.get(k)?.clone()))
            })
            .collect()
    }
}

/// Reads a Flume agent file.
pub fn import_file(path: &Path, options: &ImportOptions) -> Result<Topology, ImportError> {
    let bytes = std::fs::read(path).map_err(|e| ImportError::io(path, e))?;
    let text = String::from_utf8(bytes).map_err(|_| ImportError::Syntax {
        path: path.to_path_buf(),
        line: 1,
        col: 1,
        message: "the file is not UTF-8 text".into(),
    })?;
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
    let mut agents: Vec<String> = Vec::new();
    for key in &entries.order {
        let mut parts = key.splitn(3, '.');
        if let (Some(agent), Some(kind)) = (parts.next(), parts.next())
            && KINDS.contains(&kind)
            && !agents.iter().any(|a| a == agent)
        {
            agents.push(agent.to_string());
        }
    }
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
    let mut problems = Vec::new();
    let mut clean = Vec::new();
    for agent in &selected {
        let before = problems.len();
        read_agent(&entries, agent, multi, &mut topology, &mut problems);
        if problems.len() == before {
            clean.push(agent.as_str());
        }
    }
    if !problems.is_empty() {
        if multi && !clean.is_empty() {
            problems.push(format!(
                "agents without problems: {}; import one of them with --agent NAME",
                clean.join(", ")
            ));
        }
        return Err(ImportError::invalid(path, problems));
    }
    layout::layered(&mut topology);
    Ok(topology)
}

/// One agent's components and links, added to `topology`.
fn read_agent(
    entries: &Entries,
    agent: &str,
    multi: bool,
    topology: &mut Topology,
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
            let props = entries.under(&prefix);
            claimed.extend(props.iter().map(|(p, _)| format!("{prefix}{p}")));
            let owner = format!("{here}: {role} '{name}'");
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
                    let found = source_links(&owner, &mut rest, channels, problems);
                    links.extend(
                        found
                            .into_iter()
                            .map(|(ch, g)| (node_name(name), node_name(&ch), g)),
                    );
                }
                Role::Sink => match take(&mut rest, "channel") {
                    Some(ch) if channels.contains(&ch) => {
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
            if topology.index_of(&node.name).is_some() {
                problems.push(format!(
                    "{here}: the name '{name}' is used by two components; Tributary needs unique names"
                ));
                continue;
            }
            topology.add_node_unchecked(node);
        }
    }
    // A link to a component that could not be built was already reported.
    for (from, to, grouping) in links {
        let _ = topology.connect_names(&from, &to, DEFAULT_STREAM, grouping);
    }
    for group in groups {
        let prefix = format!("{agent}.sinkgroups.{group}.");
        let props = entries.under(&prefix);
        claimed.extend(props.iter().map(|(p, _)| format!("{prefix}{p}")));
        let (sink_group, leftovers) = sink_group(&here, group, props, sinks, &node_name, problems);
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
    for key in &entries.order {
        if key.starts_with(&format!("{agent}."))
            && !claimed.contains(key)
            && let Some(v) = entries.get(key)
        {
            topology
                .settings
                .extra
                .insert(format!("{EXTRA_PREFIX}{key}"), Value::Str(v.to_string()));
        }
    }
}

/// Replaces `${NAME}` with the environment variable NAME where it is set, as Flume's
/// `EnvVarResolverProperties` does when an agent is started with it.
fn substitute_env(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let resolved = after.find('}').and_then(|end| {
            let name = &after[..end];
            let valid =
                !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            valid
                .then(|| std::env::var(name).ok())
                .flatten()
                .map(|v| (v, end))
        });
        match resolved {
            Some((v, end)) => {
                out.push_str(&v);
                rest = &after[end + 1..];
            }
            None => {
                out.push_str("${");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn take(rest: &mut Vec<(String, String)>, key: &str) -> Option<String> {
    let mut found = None;
    rest.retain(|(p, v)| {
        if p == key {
            found = Some(v.clone());
            false
        } else {
            true
        }
    });
    found
}

/// The source's channels with the selector's verdict on each. Replicating selectors give
/// Required/Optional links; multiplexing ones Mapped/MappedOptional/Default (a channel
/// in no mapping gets `Mapped([])`). Custom selectors keep their properties as config.
fn source_links(
    owner: &str,
    rest: &mut Vec<(String, String)>,
    declared: &[String],
    problems: &mut Vec<String>,
) -> Vec<(String, Grouping)> {
    let mut channels: Vec<String> = Vec::new();
    for ch in take(rest, "channels")
        .unwrap_or_default()
        .split_whitespace()
    {
        if !channels.iter().any(|c| c == ch) {
            channels.push(ch.to_string());
        }
    }
    if channels.is_empty() {
        problems.push(format!(
            "{owner} has no channels; a source puts into one or more"
        ));
    }
    for ch in &channels {
        if !declared.contains(ch) {
            problems.push(format!(
                "{owner} puts into channel '{ch}', which the agent does not declare"
            ));
        }
    }
    let kind = rest
        .iter()
        .rev()
        .find(|(p, _)| p == "selector.type")
        .map(|(_, v)| v.to_ascii_lowercase());
    let split = |v: &str| v.split_whitespace().map(str::to_string).collect::<Vec<_>>();
    let check = |listed: &[String], what: &str, problems: &mut Vec<String>| {
        for ch in listed.iter().filter(|c| !channels.contains(c)) {
            problems.push(format!(
                "{owner}: selector {what} names channel '{ch}', which is not in the source's channels"
            ));
        }
    };
    match kind.as_deref() {
        None | Some("replicating") => {
            take(rest, "selector.type");
            let optional = split(&take(rest, "selector.optional").unwrap_or_default());
            check(&optional, "optional", problems);
            channels
                .iter()
                .map(|ch| {
                    let g = if optional.contains(ch) {
                        Grouping::Optional
                    } else {
                        Grouping::Required
                    };
                    (ch.clone(), g)
                })
                .collect()
        }
        Some("multiplexing") => {
            take(rest, "selector.type");
            let mut mapped: BTreeMap<String, Vec<String>> = BTreeMap::new();
            let mut optional: BTreeMap<String, Vec<String>> = BTreeMap::new();
            let mut default = Vec::new();
            let mut kept = Vec::new();
            for (p, v) in rest.drain(..) {
                if let Some(value) = p.strip_prefix("selector.mapping.") {
                    let listed = split(&v);
                    check(&listed, &format!("mapping '{value}'"), problems);
                    for ch in listed {
                        mapped.entry(ch).or_default().push(value.to_string());
                    }
                } else if let Some(value) = p.strip_prefix("selector.optional.") {
                    let listed = split(&v);
                    check(&listed, &format!("optional mapping '{value}'"), problems);
                    for ch in listed {
                        optional.entry(ch).or_default().push(value.to_string());
                    }
                } else if p == "selector.default" {
                    default = split(&v);
                    check(&default, "default", problems);
                } else {
                    kept.push((p, v));
                }
            }
            *rest = kept;
            let mut links = Vec::new();
            for ch in &channels {
                let mut any = false;
                if let Some(values) = mapped.get_mut(ch) {
                    values.sort();
                    values.dedup();
                    links.push((ch.clone(), Grouping::Mapped(values.clone())));
                    any = true;
                }
                if let Some(values) = optional.get_mut(ch) {
                    values.sort();
                    values.dedup();
                    links.push((ch.clone(), Grouping::MappedOptional(values.clone())));
                    any = true;
                }
                if default.contains(ch) {
                    links.push((ch.clone(), Grouping::Default));
                    any = true;
                }
                if !any {
                    links.push((ch.clone(), Grouping::Mapped(Vec::new())));
                }
            }
            links
        }
        Some(_) => channels
            .iter()
            .map(|ch| (ch.clone(), Grouping::Required))
            .collect(),
    }
}

/// A built-in when the type is known and every property fits one of its settings;
/// otherwise a stand-in that keeps the type and every property as text.
fn make_node(name: &str, role: Role, kind: &str, props: &[(String, String)]) -> Node {
    if let Some(node) = built_in(name, role, kind, props) {
        return node;
    }
    let mut node = Node::new(name, role, STAND_IN);
    node.config
        .insert("class".into(), Value::Str(kind.to_string()));
    for (p, v) in props {
        node.config.insert(p.clone(), Value::Str(v.clone()));
    }
    node.outputs = match role {
        Role::Source => vec![StreamDecl::default_stream(&["body"])],
        Role::Channel => vec![StreamDecl::default_stream(&[])],
        _ => Vec::new(),
    };
    node
}

fn built_in(name: &str, role: Role, kind: &str, props: &[(String, String)]) -> Option<Node> {
    let flume_type = types::by_alias(kind, role)?;
    let descriptor = components::descriptor(flume_type.component)?;
    // The config holds exactly the file's properties: settings left out keep their
    // defaults at run time, and export writes back only what the file said.
    let mut node = components::new_node_as(descriptor, name, role);
    node.config.clear();
    for (p, v) in props {
        let key = flume_type.config_key(p);
        let value = match descriptor.param(&key) {
            Some(param) => parse_param(&param.kind, v)?,
            None if role == Role::Source && is_routing(p) => Value::Str(v.clone()),
            None => return None,
        };
        let default = descriptor.param(&key).and_then(|p| p.default.as_ref());
        if flume_type.own_defaults.contains(&key.as_str()) && default == Some(&value) {
            return None;
        }
        node.config.insert(key, value);
    }
    Some(node)
}

fn is_routing(property: &str) -> bool {
    property == "interceptors" || ROUTING_PREFIXES.iter().any(|p| property.starts_with(p))
}

/// Reads a property as a setting of the given kind; `None` when it does not fit, so the
/// node becomes a stand-in that keeps the text exactly.
fn parse_param(kind: &ParamKind, raw: &str) -> Option<Value> {
    match kind {
        ParamKind::Int { min, max } => raw
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|i| i >= min && i <= max)
            .map(Value::Int),
        ParamKind::Float { min, max } => raw
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite() && x >= min && x <= max)
            .map(Value::Float),
        ParamKind::Bool => match raw.trim() {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            _ => None,
        },
        ParamKind::Text | ParamKind::Field | ParamKind::Path => Some(Value::Str(raw.to_string())),
        ParamKind::Choice(options) => options.contains(&raw).then(|| Value::Str(raw.to_string())),
        ParamKind::List => Some(Value::List(
            raw.split_whitespace()
                .map(|s| Value::Str(s.to_string()))
                .collect(),
        )),
    }
}

/// A sink group and the properties it had no place for.
fn sink_group(
    here: &str,
    group: &str,
    mut props: Vec<(String, String)>,
    declared_sinks: &[String],
    node_name: &dyn Fn(&str) -> String,
    problems: &mut Vec<String>,
) -> (SinkGroup, Vec<(String, String)>) {
    let owner = format!("{here}: sink group '{group}'");
    let sinks: Vec<String> = take(&mut props, "sinks")
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_string)
        .collect();
    if sinks.is_empty() {
        problems.push(format!("{owner} lists no sinks"));
    }
    for s in sinks.iter().filter(|s| !declared_sinks.contains(s)) {
        problems.push(format!(
            "{owner} lists sink '{s}', which the agent does not declare"
        ));
    }
    let kind = take(&mut props, "processor.type").unwrap_or_else(|| "default".into());
    let parsed = |key: &str, props: &mut Vec<(String, String)>| -> Option<String> {
        props.iter().find(|(p, _)| p == key).map(|(_, v)| v.clone())
    };
    let processor = match kind.to_ascii_lowercase().as_str() {
        "failover" => {
            let mut priorities = BTreeMap::new();
            props.retain(|(p, v)| match p.strip_prefix("processor.priority.") {
                Some(sink) => match v.trim().parse::<i32>() {
                    Ok(n) => {
                        priorities.insert(node_name(sink), n);
                        false
                    }
                    Err(_) => true,
                },
                None => true,
            });
            let max_penalty_ms = match parsed("processor.maxpenalty", &mut props)
                .and_then(|v| v.trim().parse::<u64>().ok())
            {
                Some(ms) => {
                    take(&mut props, "processor.maxpenalty");
                    ms
                }
                None => DEFAULT_PENALTY_MS,
            };
            SinkProcessor::Failover {
                priorities,
                max_penalty_ms,
            }
        }
        "load_balance" => {
            let backoff = match parsed("processor.backoff", &mut props)
                .as_deref()
                .map(str::trim)
            {
                Some("true") => {
                    take(&mut props, "processor.backoff");
                    true
                }
                Some("false") => {
                    take(&mut props, "processor.backoff");
                    false
                }
                _ => false,
            };
            let random = match parsed("processor.selector", &mut props).as_deref() {
                Some("random") => {
                    take(&mut props, "processor.selector");
                    true
                }
                Some("round_robin") => {
                    take(&mut props, "processor.selector");
                    false
                }
                _ => false,
            };
            let max_timeout_ms = match parsed("processor.selector.maxTimeOut", &mut props)
                .and_then(|v| v.trim().parse::<u64>().ok())
            {
                Some(ms) => {
                    take(&mut props, "processor.selector.maxTimeOut");
                    ms
                }
                None => DEFAULT_PENALTY_MS,
            };
            SinkProcessor::LoadBalance {
                random,
                backoff,
                max_timeout_ms,
            }
        }
        "default" => SinkProcessor::Default,
        _ => {
            props.push(("processor.type".into(), kind.clone()));
            SinkProcessor::Default
        }
    };
    (
        SinkGroup {
            name: node_name(group),
            sinks: sinks.iter().map(|s| node_name(s)).collect(),
            processor,
        },
        props,
    )
}
