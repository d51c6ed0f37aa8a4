//! The user's own code as a spout or bolt: a program speaking Storm's multi-lang
//! protocol over its standard input and output (`runtime::components::shell` runs it).
//! Its output fields are whatever the node declares, since only the user knows them.

use crate::model::{Node, Role, System, Value};

use super::builtins::{STORM_BOLT, component, int, rate};
use super::descriptor::{ComponentDescriptor, OutputShape, ParamKind, ParamSpec};

/// Component id of a spout run as a child process.
pub const SHELL_SPOUT: &str = "shell_spout";
/// Component id of a bolt run as a child process.
pub const SHELL_BOLT: &str = "shell_bolt";

/// Is `component` one that runs a program?
pub fn runs_a_program(component: &str) -> bool {
    component == SHELL_SPOUT || component == SHELL_BOLT
}

/// A command setting as its parts, the program first: the one reading the policy, the
/// runtime and the designer share. Parts that are not text are left out (validation
/// refuses such a command before anything runs).
pub fn command_parts(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_list)
        .map(|l| {
            l.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// The command a shell node runs, as its parts.
pub fn command_of(node: &Node) -> Vec<String> {
    command_parts(node.config.get("command"))
}

fn command() -> ParamSpec {
    ParamSpec {
        key: "command",
        kind: ParamKind::Command,
        default: None,
        doc: "The program and its arguments (e.g. python3 split.py), run in the topology's folder; one process per task.",
    }
}

fn timeout() -> ParamSpec {
    int(
        "timeout_secs",
        30,
        1,
        3600,
        "Seconds the process may stay silent (no heartbeat reply, no sync) before it is killed and restarted.",
    )
}

/// Shell components imported from Flux keep what Flux said about them beyond the
/// command (config methods, component config), so export writes it back.
fn imported_keys_kept(d: ComponentDescriptor) -> ComponentDescriptor {
    ComponentDescriptor {
        open_config: true,
        ..d
    }
}

pub fn all() -> Vec<ComponentDescriptor> {
    vec![
        imported_keys_kept(component(
            SHELL_SPOUT,
            "Shell spout",
            System::Storm,
            &[Role::Spout],
            "Your own spout in any language: a program speaking Storm's multi-lang protocol (JSON over stdin/stdout), asked for tuples with next and told of acks and fails.",
            vec![command(), timeout(), rate()],
            OutputShape::Declared(&["value"]),
        )),
        imported_keys_kept(component(
            SHELL_BOLT,
            "Shell bolt",
            System::Storm,
            STORM_BOLT,
            "Your own bolt in any language: a program speaking Storm's multi-lang protocol (JSON over stdin/stdout); it emits, acks and fails tuples itself.",
            vec![command(), timeout()],
            OutputShape::Declared(&["value"]),
        )),
    ]
}
