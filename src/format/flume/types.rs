//! Flume component types with a built-in equivalent, and how their property names map.

use crate::model::Role;

/// A Flume type alias that maps to a built-in component.
pub struct FlumeType {
    /// Flume's alias, as written after `.type =`.
    pub alias: &'static str,
    pub component: &'static str,
    pub role: Role,
    /// `(Flume property, Tributary config key)` where the names differ.
    pub renames: &'static [(&'static str, &'static str)],
    /// Tributary-only settings (or ones whose default means something else in Flume,
    /// like `limit` 0 = endless): not written at their default, and a Flume file giving
    /// them the default value imports as a stand-in, so nothing changes meaning.
    pub own_defaults: &'static [&'static str],
}

/// Every Flume type with a built-in; the same alias may appear once per role (`avro`).
pub const TYPES: &[FlumeType] = &[
    FlumeType {
        alias: "seq",
        component: "sequence",
        role: Role::Source,
        renames: &[("totalEvents", "limit")],
        own_defaults: &["start", "rate_per_sec", "limit"],
    },
    FlumeType {
        alias: "netcat",
        component: "netcat",
        role: Role::Source,
        renames: &[],
        own_defaults: &[],
    },
    FlumeType {
        alias: "spooldir",
        component: "spooldir",
        role: Role::Source,
        renames: &[],
        own_defaults: &[],
    },
    FlumeType {
        alias: "avro",
        component: "avro_source",
        role: Role::Source,
        renames: &[],
        own_defaults: &[],
    },
    FlumeType {
        alias: "memory",
        component: "memory",
        role: Role::Channel,
        renames: &[],
        own_defaults: &[],
    },
    FlumeType {
        alias: "file",
        component: "file",
        role: Role::Channel,
        renames: &[],
        own_defaults: &[],
    },
    FlumeType {
        alias: "logger",
        component: "logger",
        role: Role::Sink,
        renames: &[("maxBytesToLog", "max_bytes")],
        own_defaults: &[],
    },
    FlumeType {
        alias: "null",
        component: "null",
        role: Role::Sink,
        renames: &[],
        own_defaults: &[],
    },
    FlumeType {
        alias: "file_roll",
        component: "file_roll",
        role: Role::Sink,
        renames: &[],
        own_defaults: &[],
    },
    FlumeType {
        alias: "avro",
        component: "avro_sink",
        role: Role::Sink,
        renames: &[],
        own_defaults: &[],
    },
];

/// The built-in for a Flume type in a role (aliases are case-insensitive, as in Flume).
pub fn by_alias(alias: &str, role: Role) -> Option<&'static FlumeType> {
    TYPES
        .iter()
        .find(|t| t.role == role && t.alias.eq_ignore_ascii_case(alias))
}

/// The Flume type a built-in component exports as.
pub fn by_component(component: &str, role: Role) -> Option<&'static FlumeType> {
    TYPES
        .iter()
        .find(|t| t.role == role && t.component == component)
}

impl FlumeType {
    /// The config key a Flume property is stored under.
    pub fn config_key(&self, property: &str) -> String {
        self.renames
            .iter()
            .find(|(flume, _)| *flume == property)
            .map_or(property, |(_, ours)| ours)
            .to_string()
    }

    /// The Flume property a config key is written as.
    pub fn property(&self, config_key: &str) -> String {
        self.renames
            .iter()
            .find(|(_, ours)| *ours == config_key)
            .map_or(config_key, |(flume, _)| flume)
            .to_string()
    }
}
