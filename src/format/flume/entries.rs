//! The entries of a Flume properties file, as Flume's configuration reader sees them.

use std::collections::{HashMap, HashSet};

use super::super::{placeholder, properties};

/// The file's entries: the last value of each key wins (as in `java.util.Properties`),
/// and keys keep the order they first appeared in.
///
/// Keys are indexed once by agent and by component, split at dots as Flume's own reader
/// does (`AGENT.KIND.NAME.PROPERTY`), so that looking up one component's properties
/// costs only what it returns and the whole import stays linear in the file's size.
pub(super) struct Entries {
    pub(super) order: Vec<String>,
    values: HashMap<String, String>,
    /// Positions in `order` of the keys of each agent (`AGENT.…`).
    by_agent: HashMap<String, Vec<usize>>,
    /// Positions in `order` of the keys `AGENT.KIND.NAME.PROPERTY` of each component.
    by_component: HashMap<(String, String, String), Vec<usize>>,
}

impl Entries {
    pub(super) fn new(props: Vec<properties::Property>) -> Self {
        let mut order = Vec::new();
        let mut values = HashMap::new();
        for p in props {
            if values.insert(p.key.clone(), p.value).is_none() {
                order.push(p.key);
            }
        }
        let mut by_agent: HashMap<String, Vec<usize>> = HashMap::new();
        let mut by_component: HashMap<(String, String, String), Vec<usize>> = HashMap::new();
        for (i, key) in order.iter().enumerate() {
            let mut parts = key.splitn(4, '.');
            let (Some(agent), Some(kind)) = (parts.next(), parts.next()) else {
                continue;
            };
            by_agent.entry(agent.to_string()).or_default().push(i);
            if let (Some(name), Some(_property)) = (parts.next(), parts.next()) {
                by_component
                    .entry((agent.to_string(), kind.to_string(), name.to_string()))
                    .or_default()
                    .push(i);
            }
        }
        Self {
            order,
            values,
            by_agent,
            by_component,
        }
    }

    pub(super) fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str)
    }

    pub(super) fn list(&self, key: &str) -> Vec<String> {
        let mut seen = HashSet::new();
        self.get(key)
            .unwrap_or_default()
            .split_whitespace()
            .filter(|n| seen.insert(n.to_string()))
            .map(str::to_string)
            .collect()
    }

    /// Every key of an agent (`AGENT.…`), in file order.
    pub(super) fn of_agent(&self, agent: &str) -> impl Iterator<Item = &str> {
        self.by_agent
            .get(agent)
            .into_iter()
            .flatten()
            .filter_map(|&i| self.order.get(i).map(String::as_str))
    }

    /// `(property, value)` of every key `AGENT.KIND.NAME.PROPERTY`, in file order.
    pub(super) fn component(&self, agent: &str, kind: &str, name: &str) -> Vec<(String, String)> {
        let prefix_len = agent.len() + kind.len() + name.len() + 3;
        let key = (agent.to_string(), kind.to_string(), name.to_string());
        self.by_component
            .get(&key)
            .into_iter()
            .flatten()
            .filter_map(|&i| {
                let key = self.order.get(i)?;
                let property = key.get(prefix_len..)?;
                Some((property.to_string(), self.values.get(key)?.clone()))
            })
            .collect()
    }
}

/// Replaces `${NAME}` with the environment variable NAME where it is set, as Flume's
/// `EnvVarResolverProperties` does when an agent is started with it. A name is letters,
/// digits and `_`, as there.
pub(super) fn substitute_env(value: &str) -> String {
    let is_name_char = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let lookup = |name: &str| (!name.is_empty()).then(|| std::env::var(name).ok())?;
    // No limit here (a value grows only by what the environment holds), so `None`, which
    // means "over the limit", cannot happen; the value as it is would be the answer then.
    placeholder::substitute(value, "${", usize::MAX, is_name_char, lookup)
        .unwrap_or_else(|| value.to_string())
}

/// Removes a property from a component's list and returns its value.
pub(super) fn take(rest: &mut Vec<(String, String)>, key: &str) -> Option<String> {
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
