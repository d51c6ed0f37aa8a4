//! Errors from reading and writing topology files.

use std::path::PathBuf;

use thiserror::Error;

/// A 1-based line and column in a text file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextPos {
    pub line: usize,
    pub col: usize,
}

/// Something is wrong with a file. `Display` gives the compiler-style form
/// `FILE:LINE:COL: error: …` that editors and terminals make clickable.
#[derive(Debug, Error)]
pub enum FormatError {
    #[error("{}: error: cannot read or write: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}:{}:{}: error: {message}", path.display(), at.line, at.col)]
    Syntax {
        path: PathBuf,
        at: TextPos,
        message: String,
    },
    #[error(
        "{}:{}:{}: error: this file has format version {found}, but this build of Tributary reads versions up to {supported}; open it with a newer Tributary",
        path.display(), at.line, at.col
    )]
    NewerVersion {
        path: PathBuf,
        /// Where the version's value is.
        at: TextPos,
        found: u32,
        supported: u32,
    },
    #[error("{}: error: {message}", path.display())]
    Other { path: PathBuf, message: String },
}

impl FormatError {
    /// Where in the file the problem is, when known (the designer jumps there).
    pub fn position(&self) -> Option<TextPos> {
        match self {
            FormatError::Syntax { at, .. } | FormatError::NewerVersion { at, .. } => Some(*at),
            _ => None,
        }
    }

    /// Replaces the path the error names: parsers work on strings and learn the
    /// file name only from their caller.
    pub fn with_path(self, new_path: impl Into<PathBuf>) -> Self {
        let path = new_path.into();
        match self {
            FormatError::Io { source, .. } => FormatError::Io { path, source },
            FormatError::Syntax { at, message, .. } => FormatError::Syntax { path, at, message },
            FormatError::NewerVersion {
                at,
                found,
                supported,
                ..
            } => FormatError::NewerVersion {
                path,
                at,
                found,
                supported,
            },
            FormatError::Other { message, .. } => FormatError::Other { path, message },
        }
    }
}
