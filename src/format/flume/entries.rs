//! The entries of a Flume properties file, as Flume's configuration reader sees them.

use std::collections::{HashMap, HashSet};

use super::super::properties;

/// The file's entries: the last value of each key wins (as in `java.util.Properties`),
/// and keys keep the order they first appeared in.
pub(super) struct Entries {
    pub(super) order: Vec<String>,
    values: HashMap<String, String>,
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
        Self { order, values }
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

    /// `(property, value)` of every key under `prefix`, in file order.
    pub(super) fn under(&self, prefix: &str) -> Vec<(String, String)> {
        self.order
            .iter()
            .filter_map(|k| {
                let prop = k.strip_prefix(prefix)?;
                Some((prop.to_string(), self.values.get(k)?.clone()))
            })
            .collect()
    }
}

/// Replaces `${NAME}` with the environment variable NAME where it is set, as Flume's
/// `EnvVarResolverProperties` does when an agent is started with it.
pub(super) fn substitute_env(value: &str) -> String {
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
