//! Reading a node's settings with the registry defaults filled in.

use std::collections::BTreeMap;

use crate::components;
use crate::model::Value;

use super::super::plan::PlanNode;

/// A node's config merged over its component's defaults.
#[derive(Debug, Clone)]
pub struct Config {
    values: BTreeMap<String, Value>,
}

impl Config {
    pub fn new(node: &PlanNode) -> Self {
        let mut values = BTreeMap::new();
        if let Some(d) = components::descriptor(&node.node.component) {
            for p in &d.params {
                if let Some(v) = &p.default {
                    values.insert(p.key.to_string(), v.clone());
                }
            }
        }
        for (k, v) in &node.node.config {
            values.insert(k.clone(), v.clone());
        }
        Self { values }
    }

    pub fn int(&self, key: &str, fallback: i64) -> i64 {
        self.values
            .get(key)
            .and_then(|v| v.as_i64().or_else(|| v.as_f64().map(|f| f as i64)))
            .unwrap_or(fallback)
    }

    pub fn float(&self, key: &str, fallback: f64) -> f64 {
        self.values
            .get(key)
            .and_then(Value::as_f64)
            .unwrap_or(fallback)
    }

    pub fn text(&self, key: &str, fallback: &str) -> String {
        self.values
            .get(key)
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| fallback.to_string())
    }

    pub fn flag(&self, key: &str, fallback: bool) -> bool {
        self.values
            .get(key)
            .and_then(Value::as_bool)
            .unwrap_or(fallback)
    }
}
