//! Files in and out: the native RON format, plus (later) adapters for the engines' own
//! formats. Everything here turns text into a [`crate::model::Topology`] or back, and
//! reports malformed input with file, line and column.

mod atomic;
pub mod dot;
mod error;
pub mod flume;
pub mod flux;
pub mod interop;
pub mod layout;
pub mod limited;
mod placeholder;
pub mod properties;
pub mod ron_file;
mod ron_message;
pub mod spark;
pub mod svg;

pub use atomic::write_atomically;
pub use error::{FormatError, TextPos};
pub use interop::{
    ExportError, ExportTarget, IMPORT_EXTENSIONS, ImportError, ImportOptions, export, flume_agents,
    import_file,
};
pub use limited::{MAX_FILE_BYTES, ReadError, ReadProblem, read_limited, read_text};
pub use ron_file::{
    CURRENT_VERSION, MAX_RON_NESTING, from_ron_str, load_ron, load_ron_with_text, save_ron,
    to_ron_string,
};
pub use ron_message::user_message as parser_message;
