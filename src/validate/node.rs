//! Rules about one node on its own: its parallelism and task count, its component (known,
//! allowed in its role, its settings typed and complete), its declared outputs, and its
//! window.

use std::collections::BTreeSet;

use super::diagnostic::Diagnostic;
use super::{node_loc, quoted};
use crate::components::{self, OutputShape};
use crate::model::{ExecutionMode, Node, Role, Topology, WindowSize};

/// Most executors a node may ask for. One machine runs every thread, so a few hundred is
/// already far beyond useful; larger numbers are almost always a typo.
pub const MAX_PARALLELISM: u32 = 256;
/// Most task instances a node may ask for (tasks may exceed executors, as in Storm).
pub const MAX_TASKS: u32 = 4096;
pub(super) fn check_node(t: &Topology, node: &Node, out: &mut Vec<Diagnostic>) {
    let loc = || node_loc(node);
    if matches!(t.settings.mode, ExecutionMode::MicroBatch { .. })
        && crate::components::runs_a_program(&node.component)
    {
        out.push(Diagnostic::error(
            loc(),
            format!("a {} runs record at a time only", node.component),
            "its program acks and emits at its own pace, which a batch cannot wait for; switch the topology to RecordAtATime",
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
