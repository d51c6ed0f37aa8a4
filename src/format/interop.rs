//! One door for the engines' own formats: the CLI and the designer call these two
//! functions and never need to know which adapter reads or writes which file.

use std::path::{Path, PathBuf};

use thiserror::Error;

use super::{dot, flume, flux, spark, svg};
use crate::model::Topology;

/// Choices a user makes when importing, mirroring the engines' own command lines.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Flume: import only this agent (Flume's `--name`); `None` imports every agent.
    pub agent: Option<String>,
    /// Flux: a properties file whose entries replace `${key}` (Flux's `--filter`).
    pub filter: Option<PathBuf>,
    /// Replace environment placeholders where the variable is set: `${ENV-NAME}` in Flux
    /// (Flux's `--env-filter`), `${NAME}` in Flume values (Flume's env-resolving mode).
    /// Off by default, as in both engines, so an import does not depend on the shell.
    pub env: bool,
    /// Flux: folders besides the imported file's own from which `includes` may be read
    /// (`tributary import --allow DIR`). Includes anywhere else are refused unread.
    pub allowed_dirs: Vec<PathBuf>,
}

/// The formats a topology can be exported to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportTarget {
    /// Storm Flux YAML, submitted with `org.apache.storm.flux.Flux`.
    Flux,
    /// Flume agent properties, started with `flume-ng agent`.
    Flume,
    /// Graphviz DOT, for pictures of the DAG.
    Dot,
    /// SVG of the canvas layout, for slides and docs without Graphviz.
    Svg,
    /// A PySpark Structured Streaming job, run with `python` or `spark-submit`.
    Spark,
}

/// File extensions `import_file` understands, for file dialogs and help texts.
pub const IMPORT_EXTENSIONS: &[&str] = &["yaml", "yml", "properties", "conf"];

impl ExportTarget {
    /// Every target, in menu order.
    pub const ALL: [ExportTarget; 5] = [
        ExportTarget::Flux,
        ExportTarget::Flume,
        ExportTarget::Spark,
        ExportTarget::Dot,
        ExportTarget::Svg,
    ];

    /// The format's name for messages and menus.
    pub fn label(self) -> &'static str {
        match self {
            ExportTarget::Flux => "Flux YAML",
            ExportTarget::Flume => "Flume properties",
            ExportTarget::Dot => "Graphviz DOT",
            ExportTarget::Svg => "SVG image",
            ExportTarget::Spark => "Spark job",
        }
    }

    /// The usual file extension, so the CLI and file dialogs can suggest a name.
    pub fn extension(self) -> &'static str {
        match self {
            ExportTarget::Flux => "yaml",
            ExportTarget::Flume => "properties",
            ExportTarget::Dot => "dot",
            ExportTarget::Svg => "svg",
            ExportTarget::Spark => "py",
        }
    }
}

/// Why a file could not be imported. Every variant names the file; `Invalid` lists each
/// problem with the component it is about, so one run shows the user everything to fix.
#[derive(Debug, Error)]
pub enum ImportError {
    #[error("{}: error: cannot read: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}:{line}:{col}: error: {message}", path.display())]
    Syntax {
        path: PathBuf,
        line: usize,
        col: usize,
        message: String,
    },
    #[error("{}: error: {}", path.display(), list(problems))]
    Invalid {
        path: PathBuf,
        problems: Vec<String>,
    },
    #[error(
        "{}: error: unknown file type; import reads Flux YAML (.yaml, .yml) and Flume properties (.properties, .conf)",
        path.display()
    )]
    UnknownKind { path: PathBuf },
}

impl ImportError {
    pub(crate) fn invalid(path: &Path, problems: Vec<String>) -> Self {
        ImportError::Invalid {
            path: path.to_path_buf(),
            problems,
        }
    }

    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        ImportError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Why a topology cannot be written in a target format: each entry names the nodes or
/// edges the target has no way to express, so the user knows what to change.
#[derive(Debug, Error)]
#[error("cannot export to {}: {}", target.label(), list(problems))]
pub struct ExportError {
    pub target: ExportTarget,
    pub problems: Vec<String>,
}

fn list(problems: &[String]) -> String {
    match problems {
        [one] => one.clone(),
        many => {
            let mut text = format!("{} problems:", many.len());
            for p in many {
                text.push_str("\n  - ");
                text.push_str(p);
            }
            text
        }
    }
}

/// Imports a Flux (`.yaml`, `.yml`) or Flume (`.properties`, `.conf`) file, chosen by
/// extension. The result has canvas positions and, for valid input, passes validation.
pub fn import_file(path: &Path, options: &ImportOptions) -> Result<Topology, ImportError> {
    match kind_of(path) {
        Some(Kind::Flux) => flux::import_file(path, options),
        Some(Kind::Flume) => flume::import_file(path, options),
        None => Err(ImportError::UnknownKind {
            path: path.to_path_buf(),
        }),
    }
}

/// The Flume agents `path` defines, in file order, when it is a Flume file (for a choice
/// of agent before importing); `None` for other files.
pub fn flume_agents(path: &Path) -> Result<Option<Vec<String>>, ImportError> {
    match kind_of(path) {
        Some(Kind::Flume) => flume::agents_in_file(path).map(Some),
        _ => Ok(None),
    }
}

enum Kind {
    Flux,
    Flume,
}

/// Which engine's format a file is, by its extension.
fn kind_of(path: &Path) -> Option<Kind> {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    match extension.as_deref() {
        Some("yaml" | "yml") => Some(Kind::Flux),
        Some("properties" | "conf") => Some(Kind::Flume),
        _ if name.ends_with(".properties.template") => Some(Kind::Flume),
        _ => None,
    }
}

/// Writes a topology in a target format, or explains what the target cannot express.
pub fn export(topology: &Topology, target: ExportTarget) -> Result<String, ExportError> {
    match target {
        ExportTarget::Flux => flux::export(topology),
        ExportTarget::Flume => flume::export(topology),
        ExportTarget::Dot => Ok(dot::export(topology)),
        ExportTarget::Svg => Ok(svg::export(topology)),
        ExportTarget::Spark => spark::export(topology),
    }
    .map_err(|problems| ExportError { target, problems })
}
