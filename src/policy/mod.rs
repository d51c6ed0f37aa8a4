//! The safety boundary. A topology file is untrusted input: opening one from someone
//! else must not let it touch files outside its folder or open the network.
//!
//! Rules, each kept in exactly one place:
//! - Components *declare* what they touch ([`declared`]): path parameters carry a
//!   [`PathUse`], listening hosts are `ListenHost` parameters.
//! - A [`Grant`] says what the user allowed: the topology's folder (always), folders or
//!   files the user added (`run --allow`, the designer's prompt), and the network
//!   (`run --allow-network`, the prompt).
//! - [`check`] judges every declaration against a grant *before anything starts*; the
//!   engine refuses to start on any refusal, the CLI prints them all with how to allow
//!   them, and the designer shows the same list as its permission prompt.
//! - Components then obtain each path or address through the same grant
//!   ([`Grant::path`], [`Grant::listen`]), so even a component that forgot to declare
//!   cannot go further than the check allowed, and open files with [`paths`]' openers,
//!   which refuse a symbolic link swapped in after the check.

mod declare;
mod exec;
mod guard;
mod network;
pub mod paths;

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub use crate::components::PathUse;
pub use declare::{Declared, declared, path_entries};
pub use exec::{Program, display_command};
pub use guard::Guard;
pub use network::ListenTarget;

use crate::model::Topology;
use crate::validate::{Diagnostic, Location, Severity};

/// What one run may touch: the topology's folder, anything the user allowed beside it,
/// and whether it may listen beyond loopback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The topology's folder, resolved. Relative paths in settings start here.
    base_dir: PathBuf,
    /// Resolved folders (or single files) allowed besides `base_dir`.
    allowed: Vec<PathBuf>,
    network: bool,
    /// May components run programs (shell spouts and bolts)?
    exec: bool,
    /// The topology file being run, which no component may write or consume.
    topology_file: Option<PathBuf>,
}

impl Grant {
    /// Only the topology's own folder, no network. A folder that cannot even be made
    /// absolute (the current folder is gone) is kept as given: everything is then
    /// refused, which is the safe failure.
    pub fn new(base_dir: &Path) -> Grant {
        let base = paths::resolve(Path::new("/"), &absolute_or_self(base_dir))
            .unwrap_or_else(|_| base_dir.to_path_buf());
        Grant {
            base_dir: base,
            allowed: Vec::new(),
            network: false,
            exec: false,
            topology_file: None,
        }
    }

    /// Protects the topology file being run from its own components.
    pub fn protecting(mut self, topology_file: Option<&Path>) -> Grant {
        self.topology_file = topology_file.map(|f| {
            let f = absolute_or_self(f);
            paths::resolve(Path::new("/"), &f).unwrap_or(f)
        });
        self
    }

    /// Also allows each of `extra` (folders or files; relative ones against the current
    /// folder, as a command line gives them).
    pub fn allowing<I, P>(mut self, extra: I) -> Grant
    where
        I: IntoIterator<Item = P>,
        P: AsRef<Path>,
    {
        for p in extra {
            let p = absolute_or_self(p.as_ref());
            let resolved = paths::resolve(Path::new("/"), &p).unwrap_or(p);
            if !self.allowed.contains(&resolved) {
                self.allowed.push(resolved);
            }
        }
        self
    }

    /// Allows (or not) listening beyond loopback and resolving host names.
    pub fn with_network(mut self, network: bool) -> Grant {
        self.network = network;
        self
    }

    /// Allows (or not) running the programs the topology's shell components name.
    pub fn with_exec(mut self, exec: bool) -> Grant {
        self.exec = exec;
        self
    }

    pub fn exec_allowed(&self) -> bool {
        self.exec
    }

    pub fn base_dir(&self) -> &Path {
        &self.base_dir
    }

    pub fn network_allowed(&self) -> bool {
        self.network
    }

    /// The topology's folder first, then what the user added.
    pub fn allowed(&self) -> impl Iterator<Item = &Path> {
        std::iter::once(self.base_dir.as_path()).chain(self.allowed.iter().map(PathBuf::as_path))
    }

    /// Where `raw` (a `usage` setting `node.key`) really points, if this grant allows it.
    pub fn path(
        &self,
        node: &str,
        key: &str,
        usage: PathUse,
        raw: &str,
    ) -> Result<PathBuf, Refusal> {
        let what = || {
            Box::new(PathSetting {
                node: node.to_string(),
                key: key.to_string(),
                usage,
                raw: raw.to_string(),
            })
        };
        if raw.trim().is_empty() {
            return Err(Refusal::Unusable {
                setting: what(),
                reason: "the path is empty".into(),
            });
        }
        let resolved =
            paths::resolve(&self.base_dir, Path::new(raw)).map_err(|e| Refusal::Unusable {
                setting: what(),
                reason: e.to_string(),
            })?;
        let protected = self.topology_file.as_deref();
        if self
            .allowed
            .iter()
            .any(|dir| paths::is_within(&resolved, dir))
        {
            // What the user allowed by name, except the file being run.
            match guard::guard(&self.base_dir, &resolved, usage, protected) {
                Some(g @ Guard::TopologyFile) => Err(Refusal::Guarded {
                    setting: what(),
                    resolved,
                    guard: g,
                }),
                _ => Ok(resolved),
            }
        } else if paths::is_within(&resolved, &self.base_dir) {
            match guard::guard(&self.base_dir, &resolved, usage, protected) {
                Some(g) => Err(Refusal::Guarded {
                    setting: what(),
                    resolved,
                    guard: g,
                }),
                None => Ok(resolved),
            }
        } else {
            Err(Refusal::Outside {
                setting: what(),
                resolved,
                allowed: self.allowed().map(Path::to_path_buf).collect(),
            })
        }
    }

    /// The addresses `node` may listen on for `host:port`. Loopback is always allowed;
    /// anything else needs the network grant, and names are resolved only after it.
    pub fn listen(&self, node: &str, host: &str, port: u16) -> Result<Vec<SocketAddr>, Refusal> {
        let target = self.listen_target(node, host, port)?;
        target.addresses(port).map_err(|e| Refusal::Unreachable {
            node: node.to_string(),
            address: format!("{host}:{port}"),
            reason: e.to_string(),
        })
    }
}

impl Grant {
    /// Where `host` points, if this grant lets `node` listen there; never resolves a
    /// name. The one decision both [`check`] and [`Grant::listen`] make.
    fn listen_target(&self, node: &str, host: &str, port: u16) -> Result<ListenTarget, Refusal> {
        let target = ListenTarget::of(host);
        if target.is_loopback() || self.network {
            Ok(target)
        } else {
            Err(Refusal::Network {
                node: node.to_string(),
                address: format!("{host}:{port}"),
                named: matches!(target, ListenTarget::Name(_)),
            })
        }
    }
}

/// What a user agrees to by allowing a list of refusals: each refused path itself (not
/// its whole folder) and the network if a listen was refused. The designer's "allow
/// once" turns its prompt into this.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Consent {
    pub paths: Vec<PathBuf>,
    pub network: bool,
    /// Running the listed commands.
    pub exec: bool,
}

impl Consent {
    pub fn to(refusals: &[Refusal]) -> Consent {
        let mut consent = Consent::default();
        for r in refusals {
            match r {
                Refusal::Outside { resolved, .. } | Refusal::Guarded { resolved, .. } => {
                    if r.is_grantable() && !consent.paths.contains(resolved) {
                        consent.paths.push(resolved.clone());
                    }
                }
                Refusal::Network { .. } => consent.network = true,
                Refusal::Exec { .. } => consent.exec = true,
                Refusal::Unusable { .. }
                | Refusal::Unreachable { .. }
                | Refusal::Program { .. } => {}
            }
        }
        consent
    }
}

fn absolute_or_self(p: &Path) -> PathBuf {
    paths::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

/// Every declaration of `t` that `grant` does not allow. Nothing is resolved over the
/// network here: names are refused before resolution unless the network is allowed,
/// and even then this only classifies (binding resolves).
pub fn check(t: &Topology, grant: &Grant) -> Vec<Refusal> {
    let mut refusals = Vec::new();
    for d in declared(t) {
        match d {
            Declared::Path {
                node,
                key,
                usage,
                raw,
            } => {
                if let Err(r) = grant.path(&node, &key, usage, &raw) {
                    refusals.push(r);
                }
            }
            Declared::Listen {
                node, host, port, ..
            } => {
                if let Err(r) = grant.listen_target(&node, &host, port) {
                    refusals.push(r);
                }
            }
            Declared::Exec { node, argv, .. } => {
                if let Err(r) = grant.program(&node, &argv) {
                    refusals.push(r);
                }
            }
        }
    }
    refusals
}

/// Which setting a path refusal is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathSetting {
    pub node: String,
    pub key: String,
    pub usage: PathUse,
    /// As written in the file.
    pub raw: String,
}

/// Why the policy refuses one declared resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The path resolves outside every allowed folder.
    Outside {
        setting: Box<PathSetting>,
        resolved: PathBuf,
        allowed: Vec<PathBuf>,
    },
    /// Inside the folder, but somewhere that needs explicit permission (`.git`, the
    /// folder itself as a spool) or never allowed (the topology file).
    Guarded {
        setting: Box<PathSetting>,
        resolved: PathBuf,
        guard: Guard,
    },
    /// The path cannot be judged (empty, a link loop, an unreadable link).
    Unusable {
        setting: Box<PathSetting>,
        reason: String,
    },
    /// Listening beyond loopback (or on a name) without the network grant.
    Network {
        node: String,
        address: String,
        /// A host name: resolving it would already be a network query.
        named: bool,
    },
    /// Allowed, but the name did not resolve.
    Unreachable {
        node: String,
        address: String,
        reason: String,
    },
    /// Running a program without the user's consent. `argv` is the command exactly, so
    /// a consent given to one command never covers another that merely displays alike.
    Exec {
        node: String,
        command: String,
        argv: Vec<String>,
    },
    /// A command that cannot be run as written (empty, its program outside the allowed
    /// folders), whatever the user allows.
    Program {
        node: String,
        command: String,
        reason: String,
    },
}

impl Refusal {
    /// Can the user allow it (a path outside, the network), or must the file change?
    pub fn is_grantable(&self) -> bool {
        match self {
            Refusal::Outside { .. } | Refusal::Network { .. } | Refusal::Exec { .. } => true,
            Refusal::Guarded { guard, .. } => guard.is_grantable(),
            Refusal::Unusable { .. } | Refusal::Unreachable { .. } | Refusal::Program { .. } => {
                false
            }
        }
    }

    /// The node the refusal is about, so the designer can outline it.
    pub fn node(&self) -> &str {
        match self {
            Refusal::Outside { setting, .. }
            | Refusal::Guarded { setting, .. }
            | Refusal::Unusable { setting, .. } => &setting.node,
            Refusal::Network { node, .. }
            | Refusal::Unreachable { node, .. }
            | Refusal::Exec { node, .. }
            | Refusal::Program { node, .. } => node,
        }
    }

    /// One line for the designer's permission prompt: what would be touched, and how.
    pub fn describe(&self) -> String {
        match self {
            Refusal::Outside {
                setting, resolved, ..
            } => format!(
                "{}.{} {} {}",
                setting.node,
                setting.key,
                setting.usage.verb(),
                resolved.display()
            ),
            Refusal::Guarded {
                setting,
                resolved,
                guard,
            } => format!(
                "{}.{} {} {} ({})",
                setting.node,
                setting.key,
                setting.usage.verb(),
                resolved.display(),
                guard.label()
            ),
            Refusal::Unusable { setting, reason } => {
                format!(
                    "{}.{} = {:?}: {reason}",
                    setting.node, setting.key, setting.raw
                )
            }
            Refusal::Network { node, address, .. } => {
                format!("{node} listens on {address} (reachable from the network)")
            }
            Refusal::Unreachable {
                node,
                address,
                reason,
            } => format!("{node}: cannot resolve {address}: {reason}"),
            Refusal::Exec { node, command, .. } => {
                format!("{node} runs the program: {command}")
            }
            Refusal::Program {
                node,
                command,
                reason,
            } => format!("{node} runs {command}: {reason}"),
        }
    }

    /// How a command-line user allows it, when a flag can.
    pub fn hint(&self) -> Option<String> {
        match self {
            Refusal::Outside {
                setting, resolved, ..
            } => {
                let folder = match setting.usage {
                    PathUse::ConsumeFolder | PathUse::WriteFolder => resolved.as_path(),
                    PathUse::ReadFile | PathUse::WriteFile => {
                        resolved.parent().unwrap_or(resolved.as_path())
                    }
                };
                Some(format!(
                    "move it inside the topology's folder, or allow it with --allow {}",
                    folder.display()
                ))
            }
            Refusal::Guarded {
                resolved, guard, ..
            } if guard.is_grantable() => Some(format!(
                "allow it by name with --allow {} if that is really meant",
                resolved.display()
            )),
            Refusal::Guarded { .. } => Some("point the setting somewhere else".into()),
            Refusal::Network { named: true, .. } => Some(
                "pass --allow-network to let it listen there (resolving the name is itself a network query)"
                    .into(),
            ),
            Refusal::Network { .. } => Some(
                "pass --allow-network to let it listen there, or bind 127.0.0.1".into(),
            ),
            Refusal::Exec { .. } => Some(
                "read the command (and its script) first; pass --allow-exec to let the topology run it"
                    .into(),
            ),
            Refusal::Unusable { .. } | Refusal::Unreachable { .. } | Refusal::Program { .. } => {
                None
            }
        }
    }
}

impl Refusal {
    /// What is refused, without the node's name (diagnostics add it themselves).
    pub fn message(&self) -> String {
        match self {
            Refusal::Outside {
                setting,
                resolved,
                allowed,
            } => {
                let allowed: Vec<String> =
                    allowed.iter().map(|d| d.display().to_string()).collect();
                format!(
                    "{} = {:?} {} {}, outside the allowed folders ({})",
                    setting.key,
                    setting.raw,
                    setting.usage.verb(),
                    resolved.display(),
                    allowed.join(", ")
                )
            }
            Refusal::Guarded {
                setting,
                resolved,
                guard,
            } => format!(
                "{} = {:?} {} {}, but {}",
                setting.key,
                setting.raw,
                setting.usage.verb(),
                resolved.display(),
                guard.reason()
            ),
            Refusal::Unusable { setting, reason } => {
                format!("{} = {:?}: {reason}", setting.key, setting.raw)
            }
            Refusal::Network { address, named, .. } => format!(
                "listening on {address} {} needs network permission",
                if *named {
                    "(a host name)"
                } else {
                    "(beyond loopback)"
                }
            ),
            Refusal::Unreachable {
                address, reason, ..
            } => format!("cannot resolve {address}: {reason}"),
            Refusal::Exec { command, .. } => {
                format!("running a program ({command}) needs the user's consent")
            }
            Refusal::Program {
                command, reason, ..
            } => format!("cannot run {command}: {reason}"),
        }
    }

    /// As a diagnostic addressed to its node, so front ends print it with the node's
    /// place in the file like any other problem.
    pub fn diagnostic(&self, severity: Severity) -> Diagnostic {
        Diagnostic {
            severity,
            location: Location::Node(self.node().to_string()),
            message: self.message(),
            hint: self.hint().unwrap_or_default(),
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "node '{}': {}", self.node(), self.message())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components;

    fn with(component: &str, key: &str, value: &str) -> Topology {
        let mut t = Topology::new("t");
        let desc = components::descriptor(component).unwrap();
        let node = components::new_node_as(desc, "n", desc.roles[0]).with_config(key, value);
        t.add_node(node).unwrap();
        t
    }

    fn base() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().canonicalize().unwrap();
        (dir, base)
    }

    #[test]
    fn paths_inside_the_folder_are_allowed() {
        let (_d, base) = base();
        let t = with("file_sink", "path", "out/words.txt");
        assert!(check(&t, &Grant::new(&base)).is_empty());
    }

    #[test]
    fn every_file_touching_component_is_refused_outside() {
        let (_d, base) = base();
        for (component, key) in [
            ("file_sink", "path"),
            ("file_lines", "path"),
            ("spooldir", "spoolDir"),
            ("file_roll", "sink.directory"),
            ("file", "dataDirs"),
            ("file", "checkpointDir"),
        ] {
            for raw in ["/etc/cron.d", "../escape"] {
                let t = with(component, key, raw);
                let refusals = check(&t, &Grant::new(&base));
                assert_eq!(refusals.len(), 1, "{component}.{key} = {raw}: {refusals:?}");
                assert!(refusals[0].to_string().contains(key), "{}", refusals[0]);
                assert!(refusals[0].hint().unwrap().contains("--allow"));
            }
        }
    }

    #[test]
    fn every_entry_of_a_folder_list_is_checked() {
        let (_d, base) = base();
        let t = with("file", "dataDirs", "data, /var/spool/x");
        let refusals = check(&t, &Grant::new(&base));
        assert_eq!(refusals.len(), 1, "{refusals:?}");
    }

    #[test]
    fn an_allowed_folder_and_the_base_both_stay_allowed() {
        let (_d, base) = base();
        let (_o, other) = self::base();
        let grant = Grant::new(&base).allowing([&other]);
        let t = with(
            "file_sink",
            "path",
            &other.join("x.txt").display().to_string(),
        );
        assert!(check(&t, &grant).is_empty());
        let t = with("file_sink", "path", "inside.txt");
        assert!(check(&t, &grant).is_empty());
    }

    #[test]
    fn granting_a_refusal_allows_that_path_only() {
        let (_d, base) = base();
        let (_o, other) = self::base();
        let wanted = other.join("x.txt");
        let t = with("file_sink", "path", &wanted.display().to_string());
        let grant = Grant::new(&base);
        let refusals = check(&t, &grant);
        let grant = grant.allowing(Consent::to(&refusals).paths);
        assert!(check(&t, &grant).is_empty());
        let sibling = with(
            "file_sink",
            "path",
            &other.join("y.txt").display().to_string(),
        );
        assert_eq!(check(&sibling, &grant).len(), 1);
    }

    #[test]
    fn a_relative_base_such_as_dot_still_allows_its_own_files() {
        // `cd topologies && tributary run my.ron` gives the base folder ".".
        let grant = Grant::new(Path::new("."));
        let t = with("file_sink", "path", "out.txt");
        assert!(check(&t, &grant).is_empty());
        assert!(grant.base_dir().is_absolute());
    }

    #[test]
    fn hidden_places_and_the_folder_itself_need_consent_and_the_topology_is_never_touched() {
        let (_d, base) = base();
        let topology = base.join("shared.ron");
        let grant = Grant::new(&base).protecting(Some(&topology));
        let git = with("file_sink", "path", ".git/config");
        let refusals = check(&git, &grant);
        assert!(
            matches!(
                &refusals[..],
                [Refusal::Guarded {
                    guard: Guard::Hidden(_),
                    ..
                }]
            ),
            "{refusals:?}"
        );
        assert!(refusals[0].is_grantable());
        assert!(check(&git, &grant.clone().allowing(Consent::to(&refusals).paths)).is_empty());

        let spool_here = with("spooldir", "spoolDir", ".");
        let refusals = check(&spool_here, &grant);
        assert!(
            !refusals.is_empty() && !refusals[0].is_grantable(),
            "{refusals:?}"
        );
        // Even a folder the user allowed by name may not consume the file being run.
        let allowed = grant.clone().allowing([&base]);
        assert_eq!(check(&spool_here, &allowed).len(), 1);

        let overwrite = with("file_sink", "path", "shared.ron");
        assert!(!check(&overwrite, &grant)[0].is_grantable());
        // Without a topology file (an unsaved design) the folder as a spool still asks.
        let refusals = check(&spool_here, &Grant::new(&base));
        assert!(matches!(
            &refusals[..],
            [Refusal::Guarded {
                guard: Guard::WholeFolder,
                ..
            }]
        ));
    }

    #[test]
    fn listening_beyond_loopback_needs_the_network_grant() {
        let (_d, base) = base();
        let t = with("netcat", "bind", "0.0.0.0");
        let refusals = check(&t, &Grant::new(&base));
        assert!(matches!(
            &refusals[..],
            [Refusal::Network { named: false, .. }]
        ));
        assert!(refusals[0].to_string().contains("0.0.0.0:44444"));
        assert!(check(&t, &Grant::new(&base).with_network(true)).is_empty());
        let t = with("netcat", "bind", "127.0.0.1");
        assert!(check(&t, &Grant::new(&base)).is_empty());
    }

    #[test]
    fn a_host_name_is_refused_before_any_resolution() {
        let (_d, base) = base();
        let refused = Grant::new(&base).listen("n", "beacon.invalid", 9);
        assert!(matches!(refused, Err(Refusal::Network { named: true, .. })));
    }
}
