//! The one way a topology or import file is read: only regular files, and never more
//! than a stated number of bytes.
//!
//! A file from someone else may be `/dev/zero`, a FIFO nobody writes to, or a gigabyte of
//! text; reading it whole would never end or exhaust memory. Every reader in
//! `crate::format` (RON, Flux YAML and its includes, Flux `--filter` files, Flume
//! properties) and the CLI commands that show a file's text go through [`read_limited`] or
//! [`read_text`], so the limit is decided here and nowhere else.

use std::fs::File;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use thiserror::Error;

use super::{FormatError, ImportError, TextPos};

/// Largest topology or import file read, in bytes (32 MiB). Hand-written topologies are a
/// few kilobytes and generated ones rarely pass a megabyte; the bound leaves room for a
/// 20 MB generated Flume file while keeping what a hostile file can make Tributary hold
/// in memory small. Flux YAML, which takes far more memory once parsed, has a lower
/// budget shared by a file and its includes (`flux::MAX_INCLUDE_BYTES`).
pub const MAX_FILE_BYTES: u64 = 32 * 1024 * 1024;

/// Why a file could not be read: the file, and what is wrong with it.
#[derive(Debug)]
pub struct ReadError {
    pub path: PathBuf,
    pub problem: ReadProblem,
}

impl std::error::Error for ReadError {
    /// The OS error behind an I/O failure; the other problems are the whole story.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.problem {
            ReadProblem::Io(e) => Some(e),
            _ => None,
        }
    }
}

/// What is wrong with a file that could not be read. The text says what to do and leaves
/// naming the file to [`ReadError`], so callers can put it in their own error types.
#[derive(Debug, Error)]
pub enum ReadProblem {
    #[error("cannot read: {0}")]
    Io(std::io::Error),
    #[error(
        "this is {0}, not a regular file; topologies and imports are read from regular files only"
    )]
    NotAFile(&'static str),
    #[error(
        "the file is larger than {}, the most Tributary reads for a topology or import file",
        show_size(*limit)
    )]
    TooBig { limit: u64 },
    #[error("the file is not UTF-8 text (is it a binary file?)")]
    NotUtf8 { line: usize, col: usize },
}

impl std::fmt::Display for ReadError {
    /// `FILE: error: …`, or `FILE:LINE:COL: error: …` when the place is known.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = self.path.display();
        match &self.problem {
            ReadProblem::NotUtf8 { line, col } => {
                write!(f, "{path}:{line}:{col}: error: {}", self.problem)
            }
            problem => write!(f, "{path}: error: {problem}"),
        }
    }
}

impl ReadError {
    fn new(path: &Path, problem: ReadProblem) -> Self {
        Self {
            path: path.to_path_buf(),
            problem,
        }
    }
}

impl From<ReadError> for FormatError {
    fn from(e: ReadError) -> Self {
        let path = e.path;
        match e.problem {
            ReadProblem::Io(source) => FormatError::Io { path, source },
            problem @ ReadProblem::NotUtf8 { line, col } => FormatError::Syntax {
                path,
                at: TextPos { line, col },
                message: problem.to_string(),
            },
            problem => FormatError::Other {
                path,
                message: problem.to_string(),
            },
        }
    }
}

impl From<ReadError> for ImportError {
    fn from(e: ReadError) -> Self {
        let path = e.path;
        match e.problem {
            ReadProblem::Io(source) => ImportError::Io { path, source },
            problem @ ReadProblem::NotUtf8 { line, col } => ImportError::Syntax {
                path,
                line,
                col,
                message: problem.to_string(),
            },
            problem => ImportError::Invalid {
                path,
                problems: vec![problem.to_string()],
            },
        }
    }
}

/// Reads at most `limit` bytes of a regular file. Anything else (a folder, a device such
/// as `/dev/zero`, a FIFO, a socket) is refused before a byte is read, and a file longer
/// than `limit` is refused after reading `limit + 1` bytes, never more.
pub fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let io = |source| ReadError::new(path, ReadProblem::Io(source));
    // Checked before opening so that opening a FIFO cannot block waiting for a writer.
    let before = std::fs::metadata(path).map_err(io)?;
    refuse_special(path, &before.file_type())?;
    let file = open_without_blocking(path).map_err(io)?;
    // Checked again on the open handle: the path may have been swapped in between.
    let opened = file.metadata().map_err(io)?;
    refuse_special(path, &opened.file_type())?;
    if opened.len() > limit {
        return Err(too_big(path, limit));
    }
    let capacity = usize::try_from(opened.len()).unwrap_or(0);
    let mut bytes = Vec::with_capacity(capacity);
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > limit {
        return Err(too_big(path, limit));
    }
    Ok(bytes)
}

/// Reads a regular file of at most `limit` bytes as UTF-8 text; a file that is not text
/// is refused with the line and column of the first bad byte.
pub fn read_text(path: &Path, limit: u64) -> Result<String, ReadError> {
    let bytes = read_limited(path, limit)?;
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        // `valid` is UTF-8 up to `valid_up_to`, so the lossy conversion changes nothing.
        let text = String::from_utf8_lossy(valid);
        let line = text.matches('\n').count() + 1;
        let col = text.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        ReadError::new(path, ReadProblem::NotUtf8 { line, col })
    })
}

/// A byte count for messages: `32 MiB (33554432 bytes)` for whole mebibytes, else bytes.
pub fn show_size(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB ({bytes} bytes)", bytes / MIB)
    } else {
        format!("{bytes} bytes")
    }
}

fn too_big(path: &Path, limit: u64) -> ReadError {
    ReadError::new(path, ReadProblem::TooBig { limit })
}

fn refuse_special(path: &Path, kind: &std::fs::FileType) -> Result<(), ReadError> {
    if kind.is_file() {
        return Ok(());
    }
    Err(ReadError::new(path, ReadProblem::NotAFile(describe(kind))))
}

fn describe(kind: &std::fs::FileType) -> &'static str {
    if kind.is_dir() {
        return "a folder";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if kind.is_char_device() || kind.is_block_device() {
            return "a device";
        }
        if kind.is_fifo() {
            return "a pipe (FIFO)";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    "a special file"
}

/// Opens for reading; on Unix with `O_NONBLOCK`, so a FIFO swapped in after the check
/// does not block the open (the type check on the handle then refuses it). Regular files
/// ignore the flag.
fn open_without_blocking(path: &Path) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(libc::O_NONBLOCK);
    }
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_small_file_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        std::fs::write(&path, "hello").unwrap();
        assert_eq!(read_limited(&path, 5).unwrap(), b"hello");
        assert_eq!(read_text(&path, 100).unwrap(), "hello");
    }

    #[test]
    fn a_byte_over_the_limit_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        std::fs::write(&path, "hello!").unwrap();
        let err = read_limited(&path, 5).unwrap_err();
        assert!(
            matches!(err.problem, ReadProblem::TooBig { limit: 5 }),
            "{err}"
        );
        assert!(err.to_string().contains("a.txt"), "{err}");
    }

    #[test]
    fn folders_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let err = read_limited(dir.path(), 10).unwrap_err();
        assert!(err.to_string().contains("a folder"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn devices_and_fifos_are_refused_without_reading() {
        let err = read_limited(Path::new("/dev/zero"), MAX_FILE_BYTES).unwrap_err();
        assert!(matches!(err.problem, ReadProblem::NotAFile(_)), "{err}");
        assert!(err.to_string().contains("/dev/zero"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe.ron");
        let c_path = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path; mkfifo only creates a file.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
        let err = read_limited(&fifo, MAX_FILE_BYTES).unwrap_err();
        assert!(err.to_string().contains("FIFO"), "{err}");
    }

    #[test]
    fn binary_files_are_refused_with_a_position() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.ron");
        std::fs::write(&path, b"ab\ncd\xffef").unwrap();
        let err = read_text(&path, 100).unwrap_err();
        assert!(
            matches!(err.problem, ReadProblem::NotUtf8 { line: 2, col: 3 }),
            "{err}"
        );
    }
}
