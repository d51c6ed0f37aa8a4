//! One Flume component to a node: a built-in when nothing would be lost, else a stand-in.

use super::ROUTING_PREFIXES;
use super::types;
use crate::components::{self, ParamKind, STAND_IN};
use crate::model::{Node, Role, StreamDecl, Value};

/// A built-in when the type is known and every property fits one of its settings;
/// otherwise a stand-in that keeps the type and every property as text.
pub(super) fn make_node(name: &str, role: Role, kind: &str, props: &[(String, String)]) -> Node {
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
        ParamKind::Text
        | ParamKind::Field
        | ParamKind::Path(_)
        | ParamKind::ListenHost
        | ParamKind::Upstream => Some(Value::Str(raw.to_string())),
        ParamKind::Choice(options) => options.contains(&raw).then(|| Value::Str(raw.to_string())),
        ParamKind::List | ParamKind::Command => Some(Value::List(
            raw.split_whitespace()
                .map(|s| Value::Str(s.to_string()))
                .collect(),
        )),
    }
}
