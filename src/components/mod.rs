//! The registry of built-in components: the single source the palette, the inspector
//! forms, validation and the runtime all read. Adding a component here is enough for it
//! to appear in the designer with a generated form.

mod builtins;
mod descriptor;
pub mod exactly_once;
mod shell;
mod spark;

pub use descriptor::{ComponentDescriptor, OutputShape, ParamKind, ParamSpec, PathUse};
pub use shell::{SHELL_BOLT, SHELL_SPOUT, command_of, command_parts, runs_a_program};

use std::collections::BTreeMap;
use std::sync::OnceLock;

use crate::model::{Node, Role, Value};

/// Component id for nodes that stand in for classes with no built-in equivalent
/// (imported from Flux or Flume). They keep every property and run as pass-throughs.
pub const STAND_IN: &str = "stand_in";

/// All built-in component descriptors, in palette order.
pub fn registry() -> &'static [ComponentDescriptor] {
    static REGISTRY: OnceLock<Vec<ComponentDescriptor>> = OnceLock::new();
    REGISTRY.get_or_init(builtins::all)
}

/// Looks a component up by id.
pub fn descriptor(id: &str) -> Option<&'static ComponentDescriptor> {
    registry().iter().find(|d| d.id == id)
}

/// The registry's default for one setting of a component, if it declares one.
pub fn default_value(component: &str, key: &str) -> Option<&'static Value> {
    descriptor(component)?.param(key)?.default.as_ref()
}

/// One setting of a node as the runtime reads it: the configured value if `read` accepts
/// it, else the component's default from the registry. This is the one home of every
/// declared default: constructors (the Storm runtime's `Config`, the Flume agents'
/// `Settings`) read through here and never write a default of their own. A value of the
/// wrong type falls back to the default, since validation has already reported it.
pub fn config_or_default<T>(
    config: &BTreeMap<String, Value>,
    component: &str,
    key: &str,
    read: impl Fn(&Value) -> Option<T>,
) -> Option<T> {
    config
        .get(key)
        .and_then(&read)
        .or_else(|| default_value(component, key).and_then(read))
}

/// Whether a node can send anything downstream: its role produces output and its
/// component emits. Terminal components (logger, null, file sink, collector) declare
/// `OutputShape::None`, so the canvas draws them without an output port; unknown
/// components are judged by their role alone.
pub fn emits(node: &Node) -> bool {
    node.role.produces_output()
        && descriptor(&node.component).is_none_or(|d| d.outputs != OutputShape::None)
}

/// A fresh node for a component, with default config and declared outputs, as the
/// palette creates it. The first role the component can play is used.
pub fn new_node(descriptor: &ComponentDescriptor, name: impl Into<String>) -> Node {
    let role = descriptor.roles.first().copied().unwrap_or(Role::Bolt);
    new_node_as(descriptor, name, role)
}

/// The rate, in tuples a second per task, a spout or source dropped from the palette
/// starts at: slow enough to read its log and follow its numbers. The registry's own
/// default (`0` = as fast as possible) stays the default for files, so a saved or
/// imported node keeps the rate it says.
pub const WATCHABLE_RATE_PER_SEC: f64 = 5.0;

/// A node as the palette drops it: [`new_node_as`], and a spout or source that has a
/// `rate_per_sec` setting starts at [`WATCHABLE_RATE_PER_SEC`].
pub fn palette_node(descriptor: &ComponentDescriptor, name: impl Into<String>, role: Role) -> Node {
    let mut node = new_node_as(descriptor, name, role);
    if !role.accepts_input() && descriptor.param("rate_per_sec").is_some() {
        node.config.insert(
            "rate_per_sec".to_string(),
            Value::Float(WATCHABLE_RATE_PER_SEC),
        );
    }
    node
}

/// A fresh node for a component playing a given role.
pub fn new_node_as(descriptor: &ComponentDescriptor, name: impl Into<String>, role: Role) -> Node {
    let mut node = Node::new(name, role, descriptor.id);
    for param in &descriptor.params {
        if let Some(default) = &param.default {
            node.config.insert(param.key.to_string(), default.clone());
        }
    }
    node.outputs = descriptor.declared_outputs(&node.config, &[]);
    node.window = descriptor.default_window;
    node
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn terminal_components_emit_nothing_whatever_their_role() {
        for id in ["logger", "null", "file_sink", "collector"] {
            let node = new_node_as(descriptor(id).unwrap(), id, Role::Bolt);
            assert!(!emits(&node), "{id} is terminal");
        }
        let split = new_node(descriptor("split").unwrap(), "split");
        assert!(emits(&split));
        let sink = Node::new("k", Role::Sink, "unknown_component");
        assert!(!emits(&sink), "a sink never emits");
        let bolt = Node::new("b", Role::Bolt, "unknown_component");
        assert!(emits(&bolt), "unknown components follow their role");
    }

    #[test]
    fn only_keyed_and_windowed_bolts_keep_state_a_restart_loses() {
        let stateful: Vec<(&str, &str)> = registry()
            .iter()
            .filter_map(|d| Some((d.id, d.task_state?)))
            .collect();
        assert_eq!(
            stateful,
            [("count_by_key", "counts"), ("window_aggregate", "window")]
        );
    }

    #[test]
    fn ids_are_unique_and_every_component_plays_a_role() {
        let mut seen = HashSet::new();
        for d in registry() {
            assert!(seen.insert(d.id), "duplicate component id {}", d.id);
            assert!(!d.roles.is_empty(), "{} plays no role", d.id);
            assert!(!d.doc.is_empty(), "{} has no doc", d.id);
        }
    }

    #[test]
    fn defaults_satisfy_their_own_schema() {
        for d in registry() {
            for p in &d.params {
                if let Some(v) = &p.default {
                    assert_eq!(p.kind.check(v), Ok(()), "{}.{}", d.id, p.key);
                }
            }
        }
    }

    #[test]
    fn a_setting_is_the_configured_value_else_the_registry_default() {
        let mut config = BTreeMap::new();
        let int = |c: &BTreeMap<String, Value>, key: &str| {
            config_or_default(c, "memory", key, Value::as_i64)
        };
        assert_eq!(int(&config, "capacity"), Some(100));
        config.insert("capacity".into(), Value::Int(7));
        assert_eq!(int(&config, "capacity"), Some(7));
        // The wrong type (reported by validation) reads as the default.
        config.insert("capacity".into(), Value::Str("lots".into()));
        assert_eq!(int(&config, "capacity"), Some(100));
        // A key the registry does not declare has no default.
        assert_eq!(int(&config, "no-such-key"), None);
        assert_eq!(default_value("no-such-component", "capacity"), None);
    }

    #[test]
    fn palette_spouts_and_sources_start_at_a_watchable_rate() {
        let rate = |node: &Node| node.config.get("rate_per_sec").cloned();
        let watchable = Some(Value::Float(WATCHABLE_RATE_PER_SEC));
        for (id, role) in [
            ("sentence_generator", Role::Spout),
            ("word_generator", Role::Spout),
            ("sequence", Role::Spout),
            ("sequence", Role::Source),
        ] {
            let d = descriptor(id).unwrap();
            assert_eq!(rate(&palette_node(d, id, role)), watchable, "{id}");
            // Importers and files keep the registry's default.
            assert_eq!(
                rate(&new_node_as(d, id, role)),
                Some(Value::Float(0.0)),
                "{id}"
            );
        }
        let split = palette_node(descriptor("split").unwrap(), "split", Role::Bolt);
        assert_eq!(rate(&split), None);
    }

    #[test]
    fn new_node_takes_defaults_and_outputs() {
        let split = descriptor("split").unwrap();
        let node = new_node(split, "split");
        assert_eq!(node.config["into"].as_str(), Some("word"));
        assert_eq!(node.outputs[0].fields, ["word"]);
    }
}
