//! Running programs. A shell component's `command` would execute code on the user's
//! machine, which no file from a stranger may do unasked: every command is listed
//! (`Declared::Exec`), refused without the grant (`run --allow-exec`, the designer's
//! prompt), and its program is found only in the allowed folders or, for a bare name
//! such as `python3`, on `PATH`.

use std::path::{Path, PathBuf};

use super::{Grant, Refusal, paths};

/// A command as the prompt and refusals show it: its parts joined by spaces, a part
/// holding a space in quotes.
pub fn display_command(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            if a.is_empty() || a.contains(char::is_whitespace) {
                format!("{a:?}")
            } else {
                a.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Where a command's program is, judged without running anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Program {
    /// A bare name (`python3`): the interpreter, looked up on `PATH` when started.
    OnPath(String),
    /// A path (`./split.sh`, `bin/tool`): resolved against the topology's folder and
    /// allowed only inside it or a folder the user allowed.
    At(PathBuf),
}

impl Grant {
    /// May `node` run `argv`, and where is its program? The one decision both the check
    /// before a run and the component starting its process make.
    pub fn program(&self, node: &str, argv: &[String]) -> Result<Program, Refusal> {
        let shown = display_command(argv);
        let unusable = |reason: String| Refusal::Program {
            node: node.to_string(),
            command: shown.clone(),
            reason,
        };
        let Some(first) = argv.first().filter(|p| !p.trim().is_empty()) else {
            return Err(unusable("the command is empty".into()));
        };
        if !self.exec {
            return Err(Refusal::Exec {
                node: node.to_string(),
                command: shown,
                argv: argv.to_vec(),
            });
        }
        if !first.contains('/') {
            return Ok(Program::OnPath(first.clone()));
        }
        // Judged as written, not through symbolic links: an interpreter in a virtual
        // environment is a link to the system's, and must run by its own path to find
        // its packages. What runs is what the user consented to by its command.
        let resolved = lexical(&self.base_dir().join(first));
        if self.allowed().any(|dir| paths::is_within(&resolved, dir)) {
            Ok(Program::At(resolved))
        } else {
            Err(unusable(format!(
                "the program {} lies outside the allowed folders; move it beside the topology or allow its folder with --allow",
                resolved.display()
            )))
        }
    }
}

/// `path` with `.` and `..` taken away by name (a `..` at the root stays at the root).
fn lexical(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(parts: &[&str]) -> Vec<String> {
        parts.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn nothing_runs_without_the_grant_and_the_refusal_shows_the_command() {
        let dir = tempfile::tempdir().unwrap();
        let grant = Grant::new(dir.path());
        let refused = grant.program("split", &argv(&["python3", "split.py"]));
        match refused {
            Err(r @ Refusal::Exec { .. }) => {
                assert!(r.is_grantable());
                assert!(r.to_string().contains("python3 split.py"), "{r}");
                assert!(r.hint().unwrap().contains("--allow-exec"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_interpreter_comes_from_path_and_a_script_from_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let grant = Grant::new(dir.path()).with_exec(true);
        assert_eq!(
            grant.program("n", &argv(&["python3", "x.py"])),
            Ok(Program::OnPath("python3".into()))
        );
        let Ok(Program::At(p)) = grant.program("n", &argv(&["./tool.sh"])) else {
            panic!("a program in the folder is allowed");
        };
        assert!(p.ends_with("tool.sh"));
        for outside in ["../elsewhere/tool", "/usr/bin/env"] {
            let r = grant.program("n", &argv(&[outside])).unwrap_err();
            assert!(!r.is_grantable(), "{r}");
            assert!(r.to_string().contains("outside the allowed folders"), "{r}");
        }
        let r = grant.program("n", &[]).unwrap_err();
        assert!(r.to_string().contains("empty"), "{r}");
    }

    #[test]
    fn commands_show_parts_with_spaces_quoted() {
        assert_eq!(
            display_command(&argv(&["python3", "my bolt.py", "-v"])),
            "python3 \"my bolt.py\" -v"
        );
    }
}
