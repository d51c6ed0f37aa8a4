//! The designer's side of the safety boundary: before Run (or Compare), ask
//! `crate::policy` what the design would touch beyond its folder and loopback. Grantable
//! refusals become the permission prompt; the answer allows exactly those paths (not
//! their whole folders) and, if asked, the network — for that run only.

use std::path::Path;

use crate::model::Topology;
use crate::policy::{self, Grant, Refusal};
use crate::runtime::RunOptions;

/// What the designer must do before a run can start.
#[derive(Debug, Clone, PartialEq)]
pub enum Gate {
    /// Nothing beyond the folder and loopback: run at once.
    Open,
    /// These need the user's consent.
    Ask(Vec<Refusal>),
    /// Something no consent can fix (an empty path, a link loop): say so, do not run.
    Blocked(String),
}

/// Judges `t` as if run from `base_dir` with nothing granted beyond it; `file` (the
/// design's own file, if saved) is protected from its components.
pub fn gate(t: &Topology, base_dir: &Path, file: Option<&Path>) -> Gate {
    let refusals = policy::check(t, &Grant::new(base_dir).protecting(file));
    if refusals.is_empty() {
        return Gate::Open;
    }
    let blocked: Vec<String> = refusals
        .iter()
        .filter(|r| !r.is_grantable())
        .map(Refusal::to_string)
        .collect();
    if blocked.is_empty() {
        Gate::Ask(refusals)
    } else {
        Gate::Blocked(blocked.join("; "))
    }
}

/// A program the user allowed for one saved design: its file, the folder it runs in,
/// and the command exactly (`Refusal::Exec` holds the node and the argv).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecConsent {
    pub file: std::path::PathBuf,
    pub base_dir: std::path::PathBuf,
    pub refusal: Refusal,
}

/// The consents to remember from an answered prompt: the programs in it, for a design
/// saved as `file` (an unsaved, imported or example design has no identity to remember
/// them by, so it is asked every run).
pub fn to_remember(
    consented: &[Refusal],
    file: Option<&Path>,
    base_dir: &Path,
) -> Vec<ExecConsent> {
    let Some(file) = file else {
        return Vec::new();
    };
    consented
        .iter()
        .filter(|r| matches!(r, Refusal::Exec { .. }))
        .map(|r| ExecConsent {
            file: file.to_path_buf(),
            base_dir: base_dir.to_path_buf(),
            refusal: r.clone(),
        })
        .collect()
}

/// True when every refusal is a program the user already allowed for this very design
/// (same file, same folder, same node and command): the designer asks before the first
/// run of each command, not before every run; an edited command, another file or an
/// unsaved design is asked about again. Paths and the network are asked each run.
pub fn all_remembered(
    refusals: &[Refusal],
    remembered: &[ExecConsent],
    file: Option<&Path>,
    base_dir: &Path,
) -> bool {
    let Some(file) = file else {
        return false;
    };
    !refusals.is_empty()
        && refusals.iter().all(|r| {
            matches!(r, Refusal::Exec { .. })
                && remembered
                    .iter()
                    .any(|c| c.file == file && c.base_dir == base_dir && c.refusal == *r)
        })
}

/// `options` extended by exactly what the user agreed to in the prompt.
pub fn with_consent(mut options: RunOptions, consented: &[Refusal]) -> RunOptions {
    let consent = policy::Consent::to(consented);
    options.allowed_dirs.extend(consent.paths);
    options.allow_network |= consent.network;
    options.allow_exec |= consent.exec;
    options
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

    #[test]
    fn a_program_allowed_once_is_remembered_for_that_design_until_its_command_changes() {
        let dir = tempfile::tempdir().unwrap();
        let other = tempfile::tempdir().unwrap();
        let mut t = Topology::new("t");
        let desc = components::descriptor("shell_bolt").unwrap();
        let cmd = |parts: &[&str]| {
            crate::model::Value::List(
                parts
                    .iter()
                    .map(|p| crate::model::Value::Str(p.to_string()))
                    .collect(),
            )
        };
        t.add_node(
            components::new_node_as(desc, "b", crate::model::Role::Bolt)
                .with_config("command", cmd(&["python3", "b.py"])),
        )
        .unwrap();
        let file = dir.path().join("t.ron");
        let Gate::Ask(first) = gate(&t, dir.path(), Some(&file)) else {
            panic!("a program needs consent")
        };
        let remembered = to_remember(&first, Some(&file), dir.path());
        assert!(!all_remembered(&first, &[], Some(&file), dir.path()));
        assert!(all_remembered(&first, &remembered, Some(&file), dir.path()));
        // Another design with the same node and command is asked again, as is an
        // unsaved one, and nothing is remembered for an unsaved design.
        let elsewhere = other.path().join("t.ron");
        assert!(!all_remembered(
            &first,
            &remembered,
            Some(&elsewhere),
            other.path()
        ));
        assert!(!all_remembered(&first, &remembered, None, dir.path()));
        assert!(to_remember(&first, None, dir.path()).is_empty());
        let options = with_consent(RunOptions::default(), &first);
        assert!(options.allow_exec);
        // A command that merely displays alike is another command.
        if let Some(n) = t.node_by_name_mut("b") {
            n.config.insert("command".into(), cmd(&["python3 b.py"]));
        }
        let Gate::Ask(edited) = gate(&t, dir.path(), Some(&file)) else {
            panic!()
        };
        assert!(!all_remembered(
            &edited,
            &remembered,
            Some(&file),
            dir.path()
        ));
    }

    #[test]
    fn inside_paths_run_at_once_and_escapes_ask() {
        let dir = tempfile::tempdir().unwrap();
        let t = with("file_sink", "path", "out/words.txt");
        assert_eq!(gate(&t, dir.path(), None), Gate::Open);
        let t = with("spooldir", "spoolDir", "/etc");
        assert!(matches!(gate(&t, dir.path(), None), Gate::Ask(r) if r.len() == 1));
        let t = with("netcat", "bind", "0.0.0.0");
        assert!(matches!(gate(&t, dir.path(), None), Gate::Ask(_)));
    }

    #[test]
    fn consent_allows_what_was_asked_and_keeps_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let mut t = with(
            "file_sink",
            "path",
            &outside.path().join("x.txt").display().to_string(),
        );
        let desc = components::descriptor("file_sink").unwrap();
        t.add_node(components::new_node_as(desc, "inner", desc.roles[0]))
            .unwrap();
        let Gate::Ask(refusals) = gate(&t, dir.path(), None) else {
            panic!("expected a prompt");
        };
        let options = with_consent(
            RunOptions {
                base_dir: dir.path().to_path_buf(),
                ..RunOptions::default()
            },
            &refusals,
        );
        assert!(policy::check(&t, &options.grant()).is_empty());
    }
}
