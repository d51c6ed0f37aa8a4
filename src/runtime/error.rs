//! Why a run could not start. Each error names the node it is about, so the designer can
//! outline it and the CLI can print it once.

use std::path::PathBuf;

use crate::policy::Refusal;
use crate::validate::Diagnostic;

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Validation found errors; the run never starts.
    #[error("the topology is not valid ({} problem(s)): {}", .0.len(), first(.0))]
    Invalid(Vec<Diagnostic>),
    #[error("node '{node}': {message}")]
    Config { node: String, message: String },
    #[error("node '{node}': the runtime does not run {what}")]
    Unsupported { node: String, what: String },
    /// Something the topology would touch is not allowed (`crate::policy`); nothing
    /// was started.
    #[error("{}", not_allowed(.0))]
    NotAllowed(Vec<Refusal>),
    #[error("node '{node}': {}: {source}", .path.display())]
    Io {
        node: String,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("could not start a thread: {0}")]
    Spawn(std::io::Error),
}

fn first(diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .find(|d| d.is_error())
        .map(|d| d.to_string())
        .unwrap_or_default()
}

fn not_allowed(refusals: &[Refusal]) -> String {
    let lines: Vec<String> = refusals.iter().map(Refusal::to_string).collect();
    lines.join("\n")
}
