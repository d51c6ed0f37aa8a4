//! Why a run could not start. Each error names the node it is about, so the designer can
//! outline it and the CLI can print it once.

use std::path::PathBuf;

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
    #[error("node '{node}': path {} is outside the allowed folders ({})", .path.display(), .allowed)]
    PathNotAllowed {
        node: String,
        path: PathBuf,
        allowed: String,
    },
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
