//! The individual rules. Each `check_*` appends what it finds; none stops early.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use petgraph::stable_graph::NodeIndex;

use super::diagnostic::{Diagnostic, Location, grouping_text};
use crate::components::{self, OutputShape};
use crate::flume::footprint::{self, Cost};
use crate::model::{
    ExecutionMode, Grouping, Node, Role, SinkProcessor, System, Topology, WindowSize,
};

/// Most executors a node may ask for. One machine runs every thread, so a few hundred is
/// already far beyond useful; larger numbers are almost always a typo.
pub const MAX_PARALLELISM: u32 = 256;
/// Most task instances a node may ask for (tasks may exceed executors, as in Storm).
pub const MAX_TASKS: u32 = 4096;
/// Most executors (threads) a whole topology may ask for: every spout and bolt
/// executor and every acker in record-at-a-time mode, every spout task (a receiver
/// thread) in micro-batch mode, and in both modes every Flume source, netcat connection
/// (`max-connections` per netcat source) and sink runner (one per sink group and per
/// sink outside a group). A few per core is what helps; this is far beyond it.
/// Each thread costs close to 1 MiB (its stack and its allocator heap) before it does
/// anything, so this bounds a run's memory floor to about half a gigabyte.
pub const MAX_TOTAL_EXECUTORS: u32 = 512;
/// Most tasks a whole topology may ask for, over all spouts and bolts. Per-task state
/// (counters, and per producer task a routing table over its consumer's tasks) grows
/// with it, so the total, not only each node, must be bounded: with both totals at
/// their limits, an executor's send slots and a task's routing tables stay within
/// executors × tasks and (tasks ÷ 2)² entries.
pub const MAX_TOTAL_TASKS: u32 = 4096;
/// Most acker tasks.
const MAX_ACKERS: u32 = 64;
/// Most simulated workers: each is only a failure domain inside one process, so more
/// than a classroom can tell apart is almost always a typo.
pub const MAX_WORKERS: u32 = 64;

pub(super) fn check_all(t: &Topology, out: &mut Vec<Diagnostic>) {
    check_settings(t, out);
    check_totals(t, out);
    check_names(t, out);
    check_dangling(t, out);
    check_cycles(t, out);
    for index in t.node_indices() {
        if let Some(node) = t.node(index) {
            check_node(t, node, out);
            check_wiring(t, index, node, out);
        }
    }
    for e in t.edge_indices() {
        check_edge(t, e, out);
    }
    check_selectors(t, out);
    check_sink_groups(t, out);
    check_reachability(t, out);
    super::spark::check(t, out);
    super::flume_run::check(t, out);
}

fn node_loc(node: &Node) -> Location {
    Location::Node(node.name.clone())
}

fn check_settings(t: &Topology, out: &mut Vec<Diagnostic>) {
    let s = &t.settings;
    let here = || Location::Topology;
    if s.message_timeout_secs == 0 {
        out.push(Diagnostic::error(
            here(),
            "message timeout is 0 seconds, so every tuple would fail at once",
            "set message_timeout_secs to at least 1 (Storm's default is 30)",
        ));
    }
    if s.max_spout_pending == Some(0) {
        out.push(Diagnostic::error(
            here(),
            "max spout pending is 0, so no spout could ever emit",
            "remove max_spout_pending for no limit, or set it to 1 or more",
        ));
    }
    if s.ackers > MAX_ACKERS {
        out.push(Diagnostic::error(
            here(),
            format!("{} ackers is more than the limit of {MAX_ACKERS}", s.ackers),
            "one acker per worker is Storm's default",
        ));
    }
    if s.workers == 0 {
        out.push(Diagnostic::error(
            here(),
            "workers is 0",
            "set workers to 1 or more",
        ));
    }
    if s.workers > MAX_WORKERS {
        out.push(Diagnostic::error(
            here(),
            format!(
                "{} workers is more than the limit of {MAX_WORKERS}",
                s.workers
            ),
            "workers are simulated failure domains; a handful is enough to show one dying",
        ));
    }
    if matches!(s.mode, ExecutionMode::RecordAtATime) {
        let executors: u64 = t
            .nodes()
            .filter(|n| matches!(n.role, Role::Spout | Role::Bolt))
            .map(|n| u64::from(n.parallelism.max(1)))
            .sum::<u64>()
            + u64::from(s.ackers);
        if executors > 0 && u64::from(s.workers) > executors {
            out.push(Diagnostic::warning(
                here(),
                format!(
                    "{} workers but only {executors} executors: some workers stay empty",
                    s.workers
                ),
                "executors are dealt round-robin over workers; lower workers or raise parallelism",
            ));
        }
    }
    if let ExecutionMode::MicroBatch { interval_ms } = s.mode
        && interval_ms == 0
    {
        out.push(Diagnostic::error(
            here(),
            "micro-batch interval is 0 ms",
            "Spark Streaming batch intervals are usually 500 ms to a few seconds",
        ));
    }
}

/// The whole topology's threads (executors, receivers and Flume threads) and tasks
/// against [`MAX_TOTAL_EXECUTORS`] and [`MAX_TOTAL_TASKS`]; the message names the nodes
/// (and sink groups) that ask for the most.
fn check_totals(t: &Topology, out: &mut Vec<Diagnostic>) {
    let micro_batch = matches!(t.settings.mode, ExecutionMode::MicroBatch { .. });
    let storm: Vec<&Node> = t
        .nodes()
        .filter(|n| matches!(n.role, Role::Spout | Role::Bolt))
        .collect();
    // Threads: executors and ackers record-at-a-time; one receiver per spout task (and
    // one scheduler) in micro-batch mode.
    let threads = |n: &Node| -> u64 {
        match (micro_batch, n.role) {
            (true, Role::Spout) => u64::from(n.task_count().max(1)),
            (true, _) => 0,
            (false, _) => u64::from(n.parallelism.max(1)),
        }
    };
    let ackers = if micro_batch {
        0
    } else {
        u64::from(t.settings.ackers)
    };
    // Flume sources, netcat connections and sink runners are threads of the same run.
    let flume = footprint::threads(t);
    let executors = storm.iter().map(|n| threads(n)).sum::<u64>() + ackers;
    let total = executors.saturating_add(footprint::total(&flume));
    if total > u64::from(MAX_TOTAL_EXECUTORS) {
        let mut contributors: Vec<Cost> = storm
            .iter()
            .map(|n| Cost {
                name: n.name.clone(),
                amount: threads(n),
            })
            .collect();
        contributors.extend(flume.iter().cloned());
        let what = match (micro_batch, flume.is_empty()) {
            (false, true) => "executors",
            (true, true) => "receiver threads",
            (_, false) => "threads",
        };
        out.push(Diagnostic::error(
            Location::Topology,
            format!(
                "{total} {what} in total is above the limit of {MAX_TOTAL_EXECUTORS}; the most: {}",
                footprint::biggest(&contributors)
            ),
            if !flume.is_empty() {
                "every executor, receiver, Flume source, netcat connection (max-connections) and sink runner is a thread on this machine; lower the biggest ones"
            } else if micro_batch {
                "every spout task is a receiver thread in micro-batch mode; lower the task counts of the biggest spouts"
            } else {
                "every executor is a thread on this machine; lower the parallelism of the biggest nodes"
            },
        ));
    }
    let tasks_of = |n: &Node| u64::from(n.task_count().max(1));
    let tasks: u64 = storm.iter().map(|n| tasks_of(n)).sum();
    if tasks > u64::from(MAX_TOTAL_TASKS) {
        out.push(Diagnostic::error(
            Location::Topology,
            format!(
                "{tasks} tasks in total is above the limit of {MAX_TOTAL_TASKS}; the most: {}",
                biggest(&storm, tasks_of)
            ),
            "lower the task counts of the biggest nodes (tasks default to the parallelism)",
        ));
    }
}

/// The three nodes with the largest `size`, as `'name' (n)`, largest first.
fn biggest(nodes: &[&Node], size: impl Fn(&Node) -> u64) -> String {
    let mut sized: Vec<(u64, &str)> = nodes.iter().map(|n| (size(n), n.name.as_str())).collect();
    sized.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    sized
        .iter()
        .take(3)
        .map(|(n, name)| format!("'{name}' ({n})"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn check_names(t: &Topology, out: &mut Vec<Diagnostic>) {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for n in t.nodes() {
        *counts.entry(n.name.as_str()).or_default() += 1;
    }
    for (name, count) in counts {
        if name.trim().is_empty() {
            out.push(Diagnostic::error(
                Location::Node(name.to_string()),
                format!("{count} node(s) have an empty name"),
                "give every node a unique name",
            ));
        } else if count > 1 {
            out.push(Diagnostic::error(
                Location::Node(name.to_string()),
                format!("{count} nodes are named '{name}'"),
                "names identify nodes in files and edges; rename all but one",
            ));
        }
    }
}

fn check_dangling(t: &Topology, out: &mut Vec<Diagnostic>) {
    for e in &t.dangling_edges {
        let missing: Vec<&str> = [&e.from, &e.to]
            .into_iter()
            .filter(|n| t.index_of(n).is_none())
            .map(String::as_str)
            .collect();
        out.push(Diagnostic::error(
            Location::Edge {
                from: e.from.clone(),
                to: e.to.clone(),
                stream: e.stream.clone(),
            },
            format!("edge refers to missing node(s): {}", quoted(&missing)),
            "add the node, fix the name in the edge, or delete the edge",
        ));
    }
}

fn check_cycles(t: &Topology, out: &mut Vec<Diagnostic>) {
    for component in petgraph::algo::tarjan_scc(t.graph()) {
        let self_loop = component.len() == 1 && t.graph().contains_edge(component[0], component[0]);
        if component.len() < 2 && !self_loop {
            continue;
        }
        let cycle = cycle_order(t, &component);
        let names: Vec<&str> = cycle
            .iter()
            .filter_map(|&i| t.node(i).map(|n| n.name.as_str()))
            .collect();
        let first = names.first().copied().unwrap_or_default().to_string();
        let mut path = names.join(" → ");
        path.push_str(&format!(" → {first}"));
        out.push(Diagnostic::error(
            Location::Node(first),
            format!("cycle: {path}"),
            "a topology must be a DAG; remove one of the edges on the cycle",
        ));
    }
}

/// Orders the nodes of a strongly connected component along one actual cycle, starting
/// at the smallest name, so the message reads as a path the user can follow.
fn cycle_order(t: &Topology, component: &[NodeIndex]) -> Vec<NodeIndex> {
    let members: BTreeSet<NodeIndex> = component.iter().copied().collect();
    let Some(&start) = component
        .iter()
        .min_by_key(|&&i| t.node(i).map(|n| n.name.clone()))
    else {
        return Vec::new();
    };
    let mut path = vec![start];
    let mut seen = BTreeSet::from([start]);
    let mut current = start;
    loop {
        let mut nexts: Vec<NodeIndex> = t
            .outputs(current)
            .map(|(_, to, _)| to)
            .filter(|to| members.contains(to))
            .collect();
        nexts.sort_by_key(|&i| t.node(i).map(|n| n.name.clone()));
        if nexts.contains(&start) && path.len() > 1 || nexts == [start] {
            return path;
        }
        match nexts.into_iter().find(|n| !seen.contains(n)) {
            Some(next) => {
                seen.insert(next);
                path.push(next);
                current = next;
            }
            None => return path,
        }
    }
}

fn check_node(t: &Topology, node: &Node, out: &mut Vec<Diagnostic>) {
    let loc = || node_loc(node);
    if matches!(t.settings.mode, ExecutionMode::MicroBatch { .. })
        && node.role.system() == System::Flume
    {
        out.push(Diagnostic::error(
            loc(),
            format!("a Flume {} cannot run in micro-batch mode", node.role),
            "micro-batch mode runs spouts and bolts; switch the topology to RecordAtATime, or use a spout instead",
        ));
    }
    if node.parallelism == 0 {
        out.push(Diagnostic::error(
            loc(),
            "parallelism is 0, so no thread would run it",
            "set parallelism to 1 or more",
        ));
    } else if node.parallelism > MAX_PARALLELISM {
        out.push(Diagnostic::error(
            loc(),
            format!(
                "parallelism {} is above the limit of {MAX_PARALLELISM}",
                node.parallelism
            ),
            "every executor is a thread on this machine; use a few per core",
        ));
    }
    if let Some(tasks) = node.tasks {
        if tasks < node.parallelism {
            out.push(Diagnostic::error(
                loc(),
                format!(
                    "{tasks} tasks is fewer than its {} executors",
                    node.parallelism
                ),
                "tasks must be at least the parallelism (each executor runs one or more tasks)",
            ));
        } else if tasks > MAX_TASKS {
            out.push(Diagnostic::error(
                loc(),
                format!("{tasks} tasks is above the limit of {MAX_TASKS}"),
                "lower the task count",
            ));
        }
    }
    check_outputs(node, out);
    let Some(desc) = components::descriptor(&node.component) else {
        let close = similar_ids(&node.component);
        out.push(Diagnostic::error(
            loc(),
            format!("unknown component '{}'", node.component),
            if close.is_empty() {
                "pick a component from the palette".to_string()
            } else {
                format!("did you mean {}?", quoted(&close))
            },
        ));
        return;
    };
    if !desc.roles.contains(&node.role) {
        let roles: Vec<&str> = desc.roles.iter().map(|r| r.label()).collect();
        out.push(Diagnostic::error(
            loc(),
            format!(
                "component '{}' cannot be a {}; it can be: {}",
                desc.id,
                node.role,
                roles.join(", ")
            ),
            "change the node's role or its component",
        ));
    }
    for (key, value) in &node.config {
        match desc.param(key) {
            Some(param) => {
                if let Err(problem) = param.kind.check(value) {
                    out.push(Diagnostic::error(
                        loc(),
                        format!("config '{key}': {problem}"),
                        param.doc,
                    ));
                }
            }
            None if desc.open_config => {}
            // A Flume source's channel selector and interceptors are configured on the
            // source itself (`selector.header`, `interceptors.ts.type`), whatever its type.
            None if node.role == Role::Source && is_source_routing_key(key) => {}
            None => {
                let known: Vec<&str> = desc.params.iter().map(|p| p.key).collect();
                out.push(Diagnostic::error(
                    loc(),
                    format!("'{}' has no setting '{key}'", desc.id),
                    if known.is_empty() {
                        "remove it; this component takes no settings".to_string()
                    } else {
                        format!("known settings: {}", known.join(", "))
                    },
                ));
            }
        }
    }
    for param in &desc.params {
        if param.default.is_none() && !node.config.contains_key(param.key) {
            out.push(Diagnostic::error(
                loc(),
                format!("required setting '{}' is missing", param.key),
                param.doc,
            ));
        }
    }
    check_window(t, node, desc.requires_window(), out);
    if let OutputShape::Fields(_) = desc.outputs
        && let (Some(expected), Some(declared)) = (
            desc.output_fields(&node.config, &[]),
            node.output(crate::model::DEFAULT_STREAM),
        )
        && expected.len() != declared.fields.len()
    {
        out.push(Diagnostic::error(
            loc(),
            format!(
                "'{}' emits {} field(s) ({}) but the node declares {} ({})",
                desc.id,
                expected.len(),
                expected.join(", "),
                declared.fields.len(),
                declared.fields.join(", ")
            ),
            "declare one output field per value the component emits",
        ));
    }
    if desc.id == components::STAND_IN
        && node
            .config
            .get("class")
            .and_then(|v| v.as_str())
            .is_none_or(str::is_empty)
    {
        out.push(Diagnostic::warning(
            loc(),
            "stand-in without a class",
            "set 'class' to the engine class this node stands for, so export can name it",
        ));
    }
}

fn is_source_routing_key(key: &str) -> bool {
    key.starts_with("selector.") || key == "interceptors" || key.starts_with("interceptors.")
}

fn check_outputs(node: &Node, out: &mut Vec<Diagnostic>) {
    let mut streams = BTreeSet::new();
    for decl in &node.outputs {
        if !streams.insert(decl.stream.as_str()) {
            out.push(Diagnostic::error(
                node_loc(node),
                format!("stream '{}' is declared twice", decl.stream),
                "merge the two declarations",
            ));
        }
        let mut fields = BTreeSet::new();
        for f in &decl.fields {
            if !fields.insert(f.as_str()) {
                out.push(Diagnostic::error(
                    node_loc(node),
                    format!("stream '{}' declares field '{f}' twice", decl.stream),
                    "field names in a stream must be unique",
                ));
            }
        }
    }
}

fn check_window(t: &Topology, node: &Node, required: bool, out: &mut Vec<Diagnostic>) {
    let loc = || node_loc(node);
    let Some(window) = node.window else {
        if required {
            out.push(Diagnostic::error(
                loc(),
                "windowed component without a window",
                "set a window, e.g. length 10s, slide 5s",
            ));
        }
        return;
    };
    if !required {
        out.push(Diagnostic::error(
            loc(),
            format!("'{}' does not use a window, but one is set", node.component),
            "remove the window or use a windowed component",
        ));
        return;
    }
    if !window.length.same_kind(window.slide) {
        out.push(Diagnostic::error(
            loc(),
            "window length and slide mix counts and times",
            "use counts for both or times for both",
        ));
        return;
    }
    if window.length.amount() == 0 || window.slide.amount() == 0 {
        out.push(Diagnostic::error(
            loc(),
            "window length and slide must be greater than 0",
            "e.g. length 10s, slide 5s",
        ));
        return;
    }
    if window.slide.amount() > window.length.amount() {
        out.push(Diagnostic::error(
            loc(),
            format!(
                "slide ({}) is longer than the window ({}), so some tuples would fall in no window",
                window.slide, window.length
            ),
            "make the slide at most the length (equal = tumbling window)",
        ));
    }
    if let ExecutionMode::MicroBatch { .. } = t.settings.mode
        && matches!(window.length, WindowSize::Count(_))
    {
        out.push(Diagnostic::error(
            loc(),
            format!("count-based window ({}) in micro-batch mode", window.length),
            "Spark windows are measured in time: use a length and slide in ms that are multiples of the batch interval",
        ));
    }
    if let (
        ExecutionMode::MicroBatch { interval_ms },
        WindowSize::Millis(len),
        WindowSize::Millis(slide),
    ) = (t.settings.mode, window.length, window.slide)
        && interval_ms > 0
        && (len % interval_ms != 0 || slide % interval_ms != 0)
    {
        out.push(Diagnostic::error(
                loc(),
                format!(
                    "window {} / slide {} is not a multiple of the {interval_ms} ms batch interval",
                    window.length, window.slide
                ),
                "in micro-batch mode, window length and slide must be multiples of the batch interval (Spark rule)",
            ));
    }
}

fn check_wiring(t: &Topology, index: NodeIndex, node: &Node, out: &mut Vec<Diagnostic>) {
    let inputs: Vec<NodeIndex> = t.inputs(index).map(|(_, from, _)| from).collect();
    if node.role == Role::Sink {
        let channels = inputs
            .iter()
            .filter(|&&i| t.node(i).is_some_and(|n| n.role == Role::Channel))
            .count();
        if inputs.is_empty() {
            out.push(Diagnostic::error(
                node_loc(node),
                "this sink drains no channel",
                "connect exactly one channel to it",
            ));
        } else if channels > 1 || inputs.len() > 1 {
            out.push(Diagnostic::error(
                node_loc(node),
                format!(
                    "a Flume sink drains exactly one channel, but this one has {} inputs",
                    inputs.len()
                ),
                "give each channel its own sink, or use a sink group",
            ));
        }
    }
    if matches!(node.role, Role::Spout | Role::Source) && t.outputs(index).next().is_none() {
        out.push(Diagnostic::warning(
            node_loc(node),
            format!(
                "this {} has no consumers, so what it emits goes nowhere",
                node.role
            ),
            "connect it to a bolt or channel, or delete it",
        ));
    }
    if node.role == Role::Channel && t.outputs(index).next().is_none() {
        out.push(Diagnostic::warning(
            node_loc(node),
            "nothing drains this channel, so it will fill up and block its sources",
            "connect a sink to it",
        ));
    }
}

fn check_edge(t: &Topology, e: petgraph::stable_graph::EdgeIndex, out: &mut Vec<Diagnostic>) {
    let (Some((a, b)), Some(edge)) = (t.edge_endpoints(e), t.edge(e)) else {
        return;
    };
    let (Some(from), Some(to)) = (t.node(a), t.node(b)) else {
        return;
    };
    let loc = || Location::Edge {
        from: from.name.clone(),
        to: to.name.clone(),
        stream: edge.stream.clone(),
    };
    let role_problem = match (from.role, to.role) {
        (_, Role::Spout | Role::Source) => Some(format!(
            "nothing can flow into a {}: it only emits",
            to.role
        )),
        (Role::Sink, _) => Some("nothing flows out of a sink".to_string()),
        (Role::Source, r) if r != Role::Channel => Some(format!(
            "a Flume source writes only into channels, not into a {r}"
        )),
        (Role::Spout, Role::Channel) => {
            Some("a spout cannot write into a Flume channel; put a bolt in between".into())
        }
        (Role::Channel, Role::Channel) => {
            Some("a channel cannot feed another channel; use a sink and a source (a hop)".into())
        }
        (Role::Spout | Role::Bolt, Role::Sink) => Some(
            "a Flume sink drains a channel, not a Storm stream; use a terminal bolt (logger, file_sink) instead"
                .into(),
        ),
        _ => None,
    };
    if let Some(problem) = role_problem {
        out.push(Diagnostic::error(
            loc(),
            problem,
            "see the wiring rules in the README",
        ));
        return;
    }
    let expected = expected_link(from.role, to.role);
    let ok = match expected {
        LinkKind::Selector => edge.grouping.is_channel_selector(),
        LinkKind::Drain => edge.grouping == Grouping::Drain,
        LinkKind::Storm => edge.grouping.is_storm(),
    };
    if !ok {
        out.push(Diagnostic::error(
            loc(),
            format!(
                "grouping '{}' does not apply to a {} → {} edge",
                grouping_text(&edge.grouping),
                from.role,
                to.role
            ),
            match expected {
                LinkKind::Selector => "edges into a channel use Required, Optional, Mapped([..]), MappedOptional([..]) or Default",
                LinkKind::Drain => "edges out of a channel use Drain",
                LinkKind::Storm => "Storm edges use Shuffle, Fields([..]), All, Global, Direct, LocalOrShuffle, None or PartialKey([..])",
            },
        ));
        return;
    }
    if from.role == Role::Channel {
        return; // channels pass events on unchanged and declare no streams of their own
    }
    let Some(decl) = from.output(&edge.stream) else {
        let streams: Vec<&str> = from.outputs.iter().map(|o| o.stream.as_str()).collect();
        out.push(Diagnostic::error(
            loc(),
            format!("'{}' declares no stream '{}'", from.name, edge.stream),
            if streams.is_empty() {
                format!("declare an output stream on '{}'", from.name)
            } else {
                format!("declared streams: {}", quoted(&streams))
            },
        ));
        return;
    };
    match &edge.grouping {
        Grouping::Fields(fields) if fields.is_empty() => out.push(Diagnostic::error(
            loc(),
            "fields grouping names no fields",
            format!("pick from: {}", decl.fields.join(", ")),
        )),
        Grouping::Direct if !decl.direct => out.push(Diagnostic::error(
            loc(),
            format!(
                "direct grouping on stream '{}', which is not declared direct",
                edge.stream
            ),
            "declare the stream with `direct: true`, or use another grouping",
        )),
        _ => {}
    }
    if decl.direct && edge.grouping != Grouping::Direct {
        out.push(Diagnostic::error(
            loc(),
            format!(
                "stream '{}' is direct, so it must be consumed with direct grouping",
                edge.stream
            ),
            "use Direct grouping, or declare the stream without `direct`",
        ));
    }
    let missing: Vec<&str> = edge
        .grouping
        .fields()
        .iter()
        .filter(|f| !decl.fields.contains(f))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        out.push(Diagnostic::error(
            loc(),
            format!(
                "{} groups on {} not declared by '{}' stream '{}'",
                grouping_text(&edge.grouping),
                quoted(&missing),
                from.name,
                edge.stream
            ),
            format!("declared fields: {}", decl.fields.join(", ")),
        ));
    }
    // A teaching warning: counting per key only works if each key has one counter.
    if to.component == "count_by_key" && to.task_count() > 1 {
        let key = to.config.get("key").and_then(|v| v.as_str()).unwrap_or("");
        let keyed = matches!(&edge.grouping, Grouping::Fields(f) if f.iter().any(|x| x == key))
            || edge.grouping == Grouping::Global;
        if !keyed {
            out.push(Diagnostic::warning(
                loc(),
                format!(
                    "'{}' counts per '{key}' on {} tasks, but {} spreads one key over several tasks, so counts are split",
                    to.name,
                    to.task_count(),
                    grouping_text(&edge.grouping)
                ),
                format!("use Fields([\"{key}\"]) grouping"),
            ));
        }
    }
}

enum LinkKind {
    Selector,
    Drain,
    Storm,
}

fn expected_link(from: Role, to: Role) -> LinkKind {
    if to == Role::Channel {
        LinkKind::Selector
    } else if from == Role::Channel {
        LinkKind::Drain
    } else {
        LinkKind::Storm
    }
}

/// A source's links into channels must all be replicating-style or all multiplexing-style.
fn check_selectors(t: &Topology, out: &mut Vec<Diagnostic>) {
    for index in t.node_indices() {
        let Some(node) = t.node(index) else { continue };
        let links: Vec<&Grouping> = t
            .outputs(index)
            .map(|(_, _, e)| &e.grouping)
            .filter(|g| g.is_channel_selector())
            .collect();
        let replicating = links
            .iter()
            .any(|g| matches!(g, Grouping::Required | Grouping::Optional));
        let multiplexing = links.iter().any(|g| {
            matches!(
                g,
                Grouping::Mapped(_) | Grouping::MappedOptional(_) | Grouping::Default
            )
        });
        if replicating && multiplexing {
            out.push(Diagnostic::error(
                node_loc(node),
                "mixes replicating links (Required/Optional) with multiplexing links (Mapped/Default)",
                "a Flume source has one channel selector: use one style for all its channels",
            ));
        }
        if multiplexing && !node.config.contains_key("selector.header") && node.role == Role::Source
        {
            // The Flume agent refuses to start without it: an error, not a warning.
            out.push(Diagnostic::error(
                node_loc(node),
                "multiplexing links, but no 'selector.header' setting says which header to route on",
                "set selector.header in the node's config",
            ));
        }
    }
}

fn check_sink_groups(t: &Topology, out: &mut Vec<Diagnostic>) {
    let mut owner: HashMap<&str, &str> = HashMap::new();
    for group in &t.sink_groups {
        let loc = || Location::SinkGroup(group.name.clone());
        if group.sinks.is_empty() {
            out.push(Diagnostic::error(
                loc(),
                "sink group has no sinks",
                "list at least one sink",
            ));
        }
        for sink in &group.sinks {
            match t.node_by_name(sink) {
                None => out.push(Diagnostic::error(
                    loc(),
                    format!("sink group lists missing node '{sink}'"),
                    "add the sink or remove it from the group",
                )),
                Some(n) if n.role != Role::Sink => out.push(Diagnostic::error(
                    loc(),
                    format!("'{sink}' is a {}, not a sink", n.role),
                    "sink groups hold sinks only",
                )),
                Some(_) => {}
            }
            if let Some(other) = owner.insert(sink, &group.name) {
                out.push(Diagnostic::error(
                    loc(),
                    format!("sink '{sink}' is also in group '{other}'"),
                    "a sink belongs to at most one group",
                ));
            }
        }
        if let SinkProcessor::Failover { priorities, .. } = &group.processor {
            let mut seen: HashMap<i32, &str> = HashMap::new();
            for (sink, p) in priorities {
                if let Some(other) = seen.insert(*p, sink) {
                    out.push(Diagnostic::error(
                        loc(),
                        format!("sinks '{other}' and '{sink}' share priority {p}"),
                        "failover priorities must be unique",
                    ));
                }
                if !group.sinks.contains(sink) {
                    out.push(Diagnostic::error(
                        loc(),
                        format!("priority given for '{sink}', which is not in the group"),
                        "add it to the group or remove its priority",
                    ));
                }
            }
        }
    }
}

fn check_reachability(t: &Topology, out: &mut Vec<Diagnostic>) {
    let roots: Vec<NodeIndex> = t
        .node_indices()
        .filter(|&i| {
            t.node(i)
                .is_some_and(|n| matches!(n.role, Role::Spout | Role::Source))
        })
        .collect();
    let mut reached = BTreeSet::new();
    let mut stack = roots.clone();
    while let Some(i) = stack.pop() {
        if reached.insert(i) {
            stack.extend(t.outputs(i).map(|(_, to, _)| to));
        }
    }
    for i in t.node_indices() {
        if reached.contains(&i) {
            continue;
        }
        if let Some(node) = t.node(i) {
            out.push(Diagnostic::warning(
                node_loc(node),
                "no spout or source feeds this node, so it will never receive data",
                "connect it downstream of a spout or source",
            ));
        }
    }
}

fn similar_ids(id: &str) -> Vec<&'static str> {
    let id = id.to_lowercase();
    components::registry()
        .iter()
        .map(|d| d.id)
        .filter(|candidate| {
            candidate.contains(id.as_str())
                || id.contains(candidate)
                || edit_distance(candidate, &id) <= 2
        })
        .collect()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("'{n}'"))
        .collect::<Vec<_>>()
        .join(", ")
}
