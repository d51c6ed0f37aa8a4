//! Reading a node's settings with the registry defaults filled in.
//!
//! Every read goes through [`components::config_or_default`], so a default is written
//! once, in the registry (`components/builtins.rs`), and the palette, the inspector,
//! validation and the runtime cannot disagree about it. A key the component does not
//! declare (e.g. `rate_per_sec` of a stand-in spout) reads as zero, empty or false.

use std::collections::BTreeMap;

use crate::components;
use crate::model::Value;

use super::super::plan::PlanNode;

/// A node's config over its component's registry defaults.
#[derive(Debug, Clone)]
pub struct Config {
    component: String,
    values: BTreeMap<String, Value>,
}

impl Config {
    pub fn new(node: &PlanNode) -> Self {
        Self {
            component: node.node.component.clone(),
            values: node.node.config.clone(),
        }
    }

    fn read<T>(&self, key: &str, read: impl Fn(&Value) -> Option<T>) -> Option<T> {
        components::config_or_default(&self.values, &self.component, key, read)
    }

    /// An integer setting; a number with a fraction is truncated.
    pub fn int(&self, key: &str) -> i64 {
        self.read(key, |v| v.as_i64().or_else(|| v.as_f64().map(|f| f as i64)))
            .unwrap_or(0)
    }

    pub fn float(&self, key: &str) -> f64 {
        self.read(key, Value::as_f64).unwrap_or(0.0)
    }

    pub fn text(&self, key: &str) -> String {
        self.read(key, |v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }

    pub fn flag(&self, key: &str) -> bool {
        self.read(key, Value::as_bool).unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::{ParamKind, registry};
    use crate::model::Node;

    fn empty(component: &str) -> Config {
        let node = Node::new("n", crate::model::Role::Bolt, component);
        Config {
            component: node.component.clone(),
            values: node.config,
        }
    }

    /// For every built-in, a node with an empty config reads each declared setting as
    /// the registry's default: constructors have no other source of defaults.
    #[test]
    fn empty_config_reads_every_registry_default() {
        for d in registry() {
            let cfg = empty(d.id);
            for p in &d.params {
                let Some(default) = &p.default else { continue };
                let what = format!("{}.{}", d.id, p.key);
                match &p.kind {
                    ParamKind::Int { .. } => {
                        assert_eq!(Some(cfg.int(p.key)), default.as_i64(), "{what}")
                    }
                    ParamKind::Float { .. } => {
                        assert_eq!(Some(cfg.float(p.key)), default.as_f64(), "{what}")
                    }
                    ParamKind::Bool => {
                        assert_eq!(Some(cfg.flag(p.key)), default.as_bool(), "{what}")
                    }
                    ParamKind::List | ParamKind::Command => {}
                    _ => assert_eq!(Some(cfg.text(p.key).as_str()), default.as_str(), "{what}"),
                }
            }
        }
    }

    #[test]
    fn configured_values_win_and_undeclared_keys_read_as_zero() {
        let mut cfg = empty("sentence_generator");
        cfg.values.insert("seed".into(), Value::Int(7));
        cfg.values.insert("rate_per_sec".into(), Value::Int(5));
        assert_eq!(cfg.int("seed"), 7);
        assert_eq!(cfg.float("rate_per_sec"), 5.0);
        assert_eq!(cfg.int("vocabulary"), 1000);
        let stand_in = empty("stand_in");
        assert_eq!(stand_in.float("rate_per_sec"), 0.0);
        assert!(!stand_in.flag("repeat"));
    }
}
