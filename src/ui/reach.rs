//! What a run would touch outside its own folder: files and folders named in component
//! settings that resolve elsewhere, and sockets bound beyond loopback. The designer lists
//! these and asks once before running, because a topology file from someone else should
//! not be able to write to `~/.ssh` or open a port to the network just by pressing Run.

use std::net::IpAddr;
use std::path::{Component, Path, PathBuf};

use crate::components::{self, ParamKind};
use crate::model::{Topology, Value};

/// One thing outside the topology's folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// A file or folder setting (`node.key`) resolving outside the base folder.
    Path {
        node: String,
        key: String,
        path: PathBuf,
    },
    /// A socket bound to a non-loopback address.
    Endpoint { node: String, address: String },
}

impl Reach {
    pub fn describe(&self) -> String {
        match self {
            Reach::Path { node, key, path } => format!("{node}.{key}: {}", path.display()),
            Reach::Endpoint { node, address } => format!("{node}: listens on {address}"),
        }
    }
}

/// Everything a run of `t` would reach outside `base_dir` and loopback.
pub fn outside_reach(t: &Topology, base_dir: &Path) -> Vec<Reach> {
    let base = normalize(base_dir);
    let mut out = Vec::new();
    for node in t.nodes() {
        let Some(desc) = components::descriptor(&node.component) else {
            continue;
        };
        for spec in &desc.params {
            let value = node.config.get(spec.key).or(spec.default.as_ref());
            match (&spec.kind, value) {
                (ParamKind::Path, Some(Value::Str(p))) if !p.is_empty() => {
                    let path = normalize(&base.join(p));
                    if !path.starts_with(&base) {
                        out.push(Reach::Path {
                            node: node.name.clone(),
                            key: spec.key.to_string(),
                            path,
                        });
                    }
                }
                (ParamKind::Text, Some(Value::Str(addr)))
                    if spec.key == "bind" && desc.id == "netcat" =>
                {
                    let loopback = addr == "localhost"
                        || addr.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
                    if !loopback {
                        let port = node.config.get("port").and_then(Value::as_i64).unwrap_or(0);
                        out.push(Reach::Endpoint {
                            node: node.name.clone(),
                            address: format!("{addr}:{port}"),
                        });
                    }
                }
                _ => {}
            }
        }
    }
    out
}

/// Folders to allow for the paths in `reach` (each path's folder, or itself if it is
/// one), for the runtime's `allowed_dirs`.
pub fn folders_to_allow(reach: &[Reach]) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = reach
        .iter()
        .filter_map(|r| match r {
            Reach::Path { path, .. } if path.is_dir() => Some(path.clone()),
            Reach::Path { path, .. } => path.parent().map(Path::to_path_buf),
            Reach::Endpoint { .. } => None,
        })
        .collect();
    dirs.sort();
    dirs.dedup();
    dirs
}

/// Resolves `.` and `..` without touching the file system (the file may not exist yet).
fn normalize(path: &Path) -> PathBuf {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    };
    let mut out = PathBuf::new();
    for part in absolute.components() {
        match part {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(component: &str, key: &str, value: &str) -> Topology {
        let mut t = Topology::new("t");
        let desc = components::descriptor(component).unwrap();
        let node = components::new_node_as(desc, "n", desc.roles[0]).with_config(key, value);
        t.add_node(node).unwrap();
        t
    }

    #[test]
    fn paths_inside_the_folder_need_no_permission() {
        let t = with("file_sink", "path", "out/words.txt");
        assert!(outside_reach(&t, Path::new("/srv/designs")).is_empty());
    }

    #[test]
    fn escaping_paths_and_public_sockets_are_listed() {
        let t = with("file_sink", "path", "../../etc/passwd");
        let reach = outside_reach(&t, Path::new("/srv/designs"));
        assert_eq!(reach.len(), 1);
        assert!(reach[0].describe().contains("/etc/passwd"), "{reach:?}");
        let t = with("netcat", "bind", "0.0.0.0");
        let reach = outside_reach(&t, Path::new("/srv/designs"));
        assert!(matches!(&reach[..], [Reach::Endpoint { .. }]), "{reach:?}");
    }
}
