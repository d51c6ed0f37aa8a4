//! Storm Flux YAML: import (with includes and substitution) and export.
//!
//! Well-known classes become built-ins; every other class becomes a stand-in node that
//! keeps its class name and every key of its definition, so it exports back unchanged.

mod checks;
mod classes;
mod emit;
mod encode;
mod includes;
mod load;
mod merge;
mod nesting;
mod nodes;
mod outputs;
mod read;
mod streams;
mod substitute;
mod write;

use std::path::Path;

use super::interop::{ImportError, ImportOptions};
use crate::model::Topology;

pub use classes::{BUILT_INS, BuiltIn};
pub use load::{MAX_INCLUDE_BYTES, MAX_INCLUDE_DEPTH, MAX_INCLUDE_FILES};
pub use nesting::MAX_FLOW_NESTING;

/// Reads a Flux file as `storm jar … Flux [--filter F] [--env-filter] FILE` would.
/// Includes are read only from the file's own folder and `options.allowed_dirs`.
pub fn import_file(path: &Path, options: &ImportOptions) -> Result<Topology, ImportError> {
    let filter = substitute::Filter::from_options(options)?;
    let doc = load::load(path, &filter, &options.allowed_dirs)?;
    read::from_doc(path, &doc)
}

/// Reads Flux YAML text (no includes are followed); `path` names it in errors. Text
/// longer than [`MAX_INCLUDE_BYTES`] is refused, as a file would be.
pub fn import_str(text: &str, path: &Path) -> Result<Topology, ImportError> {
    if text.len() as u64 > MAX_INCLUDE_BYTES {
        return Err(ImportError::invalid(
            path,
            vec![format!(
                "the text is longer than {}, the most Tributary parses as Flux YAML",
                super::limited::show_size(MAX_INCLUDE_BYTES)
            )],
        ));
    }
    let doc = load::parse(path, text)?;
    if doc.contains_key("includes") {
        return Err(ImportError::invalid(
            path,
            vec!["includes need a file on disk to resolve against; import the file instead".into()],
        ));
    }
    read::from_doc(path, &doc)
}

/// Writes Flux YAML, or the list of what Flux cannot express.
pub fn export(topology: &Topology) -> Result<String, Vec<String>> {
    write::export(topology)
}
