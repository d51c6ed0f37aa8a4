//! Java classes Tributary knows: which built-in each stands for, and what it emits.

use crate::model::Role;

/// A Storm class with a built-in equivalent. Import maps the class to the component;
/// export writes `export_class` for the component.
pub struct BuiltIn {
    pub class: &'static str,
    pub component: &'static str,
    pub role: Role,
}

/// Classes that map to built-ins. The first entry for a component is the class export
/// writes; later ones are accepted on import only.
pub const BUILT_INS: &[BuiltIn] = &[
    BuiltIn {
        class: "org.apache.storm.testing.TestWordSpout",
        component: "word_generator",
        role: Role::Spout,
    },
    BuiltIn {
        class: "org.apache.storm.testing.TestWordCounter",
        component: "count_by_key",
        role: Role::Bolt,
    },
    BuiltIn {
        class: "org.apache.storm.flux.examples.WordCounter",
        component: "count_by_key",
        role: Role::Bolt,
    },
    BuiltIn {
        class: "org.apache.storm.flux.wrappers.bolts.LogInfoBolt",
        component: "logger",
        role: Role::Bolt,
    },
];

/// The built-in a class stands for, if it plays that role.
pub fn built_in_for(class: &str, role: Role) -> Option<&'static BuiltIn> {
    BUILT_INS
        .iter()
        .find(|b| b.class == class && b.role == role)
}

/// The class export writes for a built-in component.
pub fn class_for(component: &str) -> Option<&'static str> {
    BUILT_INS
        .iter()
        .find(|b| b.component == component)
        .map(|b| b.class)
}

/// Flux's wrappers for multi-language (shell) components.
pub const SHELL_SPOUT: &str = "org.apache.storm.flux.wrappers.spouts.FluxShellSpout";
pub const SHELL_BOLT: &str = "org.apache.storm.flux.wrappers.bolts.FluxShellBolt";
/// Storm's field list, often built as a Flux component.
pub const FIELDS: &str = "org.apache.storm.tuple.Fields";

/// Fields a known class declares on its default stream, when they are fixed by the class.
pub fn fixed_fields(class: &str) -> Option<&'static [&'static str]> {
    match class {
        "org.apache.storm.testing.TestWordSpout" => Some(&["word"]),
        "org.apache.storm.testing.TestWordCounter"
        | "org.apache.storm.flux.examples.WordCounter" => Some(&["word", "count"]),
        _ => None,
    }
}
