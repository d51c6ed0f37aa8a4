//! Headless editing: the design logic the designer uses, with no egui in it.
//!
//! The document (topology + file + dirty generation + undo/redo), commands addressed by
//! node names (each `apply` returns its inverse, so undo is exact), the selection, the
//! wiring rules the canvas applies while the user drags, the consent gate before a run,
//! and the designer's own small files. It lives outside `ui` so it is compiled without
//! the `gui` feature and tests can drive it headless; `ui` reads it and never the other
//! way round.

pub mod commands;
pub mod document;
pub mod example_copy;
pub mod examples;
pub mod files;
pub mod reach;
pub mod selection;
pub mod wiring;

pub use files::FilePlaces;
