//! What a topology says it will touch outside the process, read from the component
//! registry: every path parameter (with what the component does there) and every host
//! a component listens on, and every program a component runs. Components declare; this module only collects, so a new
//! component with a `Path` or `ListenHost` parameter is covered without code here.

use crate::components::{self, ParamKind, PathUse};
use crate::model::{Topology, Value};

/// One resource a node's settings name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Declared {
    /// A path parameter (`node.key = raw`), as written in the file.
    Path {
        node: String,
        key: String,
        usage: PathUse,
        raw: String,
    },
    /// A listening socket (`node.key = host`, port from the node's `port`).
    Listen {
        node: String,
        key: String,
        host: String,
        port: u16,
    },
    /// A program the node runs (`node.key = [program, args…]`).
    Exec {
        node: String,
        key: String,
        argv: Vec<String>,
    },
}

/// Every path and listening address `t`'s nodes declare, in node order. Parameters left
/// unset count with their default, since that is what the component will use.
pub fn declared(t: &Topology) -> Vec<Declared> {
    let mut out = Vec::new();
    for node in t.nodes() {
        let Some(desc) = components::descriptor(&node.component) else {
            continue;
        };
        for spec in &desc.params {
            let value = node.config.get(spec.key).or(spec.default.as_ref());
            if spec.kind == ParamKind::Command {
                // Declared even when unset or malformed: a program-running component
                // is listed (and refused) however its setting is written.
                let argv = components::command_parts(value);
                out.push(Declared::Exec {
                    node: node.name.clone(),
                    key: spec.key.to_string(),
                    argv,
                });
                continue;
            }
            let Some(Value::Str(value)) = value else {
                continue;
            };
            match spec.kind {
                ParamKind::Path(usage) => {
                    for raw in path_entries(usage, value) {
                        out.push(Declared::Path {
                            node: node.name.clone(),
                            key: spec.key.to_string(),
                            usage,
                            raw: raw.to_string(),
                        });
                    }
                }
                ParamKind::ListenHost => {
                    let port = node
                        .config
                        .get("port")
                        .or(desc.param("port").and_then(|p| p.default.as_ref()))
                        .and_then(Value::as_i64)
                        .and_then(|p| u16::try_from(p).ok())
                        .unwrap_or(0);
                    out.push(Declared::Listen {
                        node: node.name.clone(),
                        key: spec.key.to_string(),
                        host: value.clone(),
                        port,
                    });
                }
                _ => {}
            }
        }
    }
    out
}

/// The paths one setting names. Folder settings may list several folders separated by
/// commas (Flume's `dataDirs`); each is checked, which is never less strict than what a
/// component ends up using. An empty setting names nothing (the component refuses it).
pub fn path_entries(usage: PathUse, value: &str) -> Vec<&str> {
    let entries: Vec<&str> = match usage {
        PathUse::WriteFolder => value.split(',').map(str::trim).collect(),
        _ => vec![value],
    };
    entries.into_iter().filter(|e| !e.is_empty()).collect()
}
