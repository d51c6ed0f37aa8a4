//! Mistakes Storm would only report at submit time, caught on import where Tributary can
//! see them: calls to classes whose Java API it knows, and component config that Storm
//! would reject. Anything Tributary cannot know about a class is left for Storm.

use serde_norway::{Mapping, Value as Yaml};

use super::classes::{FIELDS, SHELL_BOLT, SHELL_SPOUT};
use super::encode::show;

/// Storm config keys with a fixed type (`Config.java`), checked wherever they appear.
const BOOLEAN_KEYS: &[&str] = &[
    "topology.debug",
    "topology.tuple.compression.enable",
    "topology.fall.back.on.java.serialization",
    "topology.skip.missing.kryo.registrations",
    "topology.enable.message.timeouts",
    "topology.backpressure.enable",
    "topology.testing.always.try.serialize",
];
const INTEGER_KEYS: &[&str] = &[
    "topology.workers",
    "topology.acker.executors",
    "topology.message.timeout.secs",
    "topology.max.spout.pending",
    "topology.max.task.parallelism",
    "topology.tick.tuple.freq.secs",
    "topology.eventlogger.executors",
    "topology.executor.receive.buffer.size",
    "topology.transfer.buffer.size",
    "topology.state.checkpoint.interval.ms",
    "topology.priority",
    "topology.tasks",
];
const NUMBER_KEYS: &[&str] = &[
    "topology.stats.sample.rate",
    "topology.component.resources.onheap.memory.mb",
    "topology.component.resources.offheap.memory.mb",
    "topology.component.cpu.pcore.percent",
];

/// Checks one Storm config entry's type; `component` says whose config it is.
pub fn check_config_entry(owner: &str, key: &str, value: &Yaml, problems: &mut Vec<String>) {
    let expected = if BOOLEAN_KEYS.contains(&key) {
        (!value.is_bool()).then_some("true or false")
    } else if INTEGER_KEYS.contains(&key) {
        (!(value.is_i64() || value.is_u64() || value.is_null())).then_some("an integer")
    } else if NUMBER_KEYS.contains(&key) {
        (!value.is_number()).then_some("a number")
    } else {
        None
    };
    if let Some(expected) = expected {
        problems.push(format!(
            "{owner}: config '{key}' must be {expected}, not {}",
            show(value)
        ));
    }
}

/// A component's own `config:` block may only hold Storm config keys: lower-case dotted
/// names, typed as in Storm's `Config`.
pub fn check_component_config(owner: &str, config: &Yaml, problems: &mut Vec<String>) {
    let Some(map) = config.as_mapping() else {
        if !config.is_null() {
            problems.push(format!(
                "{owner}: 'config' must be a mapping of Storm config keys"
            ));
        }
        return;
    };
    for (key, value) in map {
        let Some(key) = key.as_str() else {
            problems.push(format!("{owner}: config key {} is not text", show(key)));
            continue;
        };
        let well_formed = !key.is_empty()
            && key
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c));
        if !well_formed {
            problems.push(format!(
                "{owner}: '{key}' is not a Storm config key (they are lower-case dotted names such as topology.max.task.parallelism)"
            ));
            continue;
        }
        check_config_entry(owner, key, value, problems);
    }
}

/// Checks constructor, factory and config-method calls on classes whose API is known.
pub fn check_calls(owner: &str, class: &str, spec: &Mapping, problems: &mut Vec<String>) {
    let args = spec.get("constructorArgs").and_then(Yaml::as_sequence);
    if class == FIELDS {
        let ok = matches!(args.map(Vec::as_slice), Some([Yaml::Sequence(names)])
            if names.iter().all(Yaml::is_string));
        if !ok {
            problems.push(format!(
                "{owner}: {FIELDS} takes one list of field names, e.g. constructorArgs: [[\"word\"]]; found {}",
                spec.get("constructorArgs").map_or("nothing".into(), show)
            ));
        }
    }
    if class == SHELL_SPOUT || class == SHELL_BOLT {
        let ok = matches!(
            args.map(Vec::as_slice),
            Some([Yaml::Sequence(_), Yaml::Sequence(_)])
        );
        if !ok {
            problems.push(format!(
                "{owner}: {class} takes two lists: the command line and the output fields"
            ));
        }
        for method in methods(spec) {
            if method_name(method) == Some("addComponentConfig") {
                let count = method_args(method).len();
                if count != 2 {
                    problems.push(format!(
                        "{owner}: addComponentConfig takes a key and a value (or list of values), but is given {count} arguments"
                    ));
                }
            }
        }
    }
    if let Some(factory) = spec.get("factory").and_then(Yaml::as_str) {
        check_typed_factory(owner, factory, spec.get("factoryArgs"), problems);
    }
}

/// Java's naming convention for typed factories: `newLongInstance` takes longs,
/// `newBooleanInstance` booleans, and so on.
fn check_typed_factory(
    owner: &str,
    factory: &str,
    args: Option<&Yaml>,
    problems: &mut Vec<String>,
) {
    let Some(kind) = factory
        .strip_prefix("new")
        .and_then(|rest| rest.strip_suffix("Instance"))
    else {
        return;
    };
    let accepts: fn(&Yaml) -> bool = match kind {
        "Long" | "Integer" | "Short" | "Byte" => |v| v.is_i64() || v.is_u64(),
        "Double" | "Float" => Yaml::is_number,
        "Boolean" => Yaml::is_bool,
        _ => return,
    };
    let args = args
        .and_then(Yaml::as_sequence)
        .map(Vec::as_slice)
        .unwrap_or_default();
    for arg in args.iter().filter(|a| !accepts(a)) {
        problems.push(format!(
            "{owner}: factory '{factory}' takes {} arguments, not {}",
            kind.to_lowercase(),
            show(arg)
        ));
    }
}

fn methods(spec: &Mapping) -> impl Iterator<Item = &Yaml> {
    spec.get("configMethods")
        .and_then(Yaml::as_sequence)
        .into_iter()
        .flatten()
}

fn method_name(method: &Yaml) -> Option<&str> {
    method.get("name").and_then(Yaml::as_str)
}

fn method_args(method: &Yaml) -> &[Yaml] {
    method
        .get("args")
        .and_then(Yaml::as_sequence)
        .map(Vec::as_slice)
        .unwrap_or_default()
}
