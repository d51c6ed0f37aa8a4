//! The designer's keyboard shortcuts, in one place: the app listens for these and the
//! menus show them next to their entries, so the two cannot disagree.

use egui::{Key, KeyboardShortcut, Modifiers};

const CMD: Modifiers = Modifiers::COMMAND;
const CMD_SHIFT: Modifiers = Modifiers::COMMAND.plus(Modifiers::SHIFT);

pub const NEW: KeyboardShortcut = KeyboardShortcut::new(CMD, Key::N);
pub const OPEN: KeyboardShortcut = KeyboardShortcut::new(CMD, Key::O);
pub const SAVE: KeyboardShortcut = KeyboardShortcut::new(CMD, Key::S);
pub const SAVE_AS: KeyboardShortcut = KeyboardShortcut::new(CMD_SHIFT, Key::S);
pub const UNDO: KeyboardShortcut = KeyboardShortcut::new(CMD, Key::Z);
pub const REDO: KeyboardShortcut = KeyboardShortcut::new(CMD, Key::Y);
/// Redo's other key, as in most editors.
pub const REDO_ALT: KeyboardShortcut = KeyboardShortcut::new(CMD_SHIFT, Key::Z);
pub const SELECT_ALL: KeyboardShortcut = KeyboardShortcut::new(CMD, Key::A);
pub const FIT: KeyboardShortcut = KeyboardShortcut::new(Modifiers::NONE, Key::F);
pub const AUTO_LAYOUT: KeyboardShortcut = KeyboardShortcut::new(Modifiers::NONE, Key::L);
pub const RUN: KeyboardShortcut = KeyboardShortcut::new(Modifiers::NONE, Key::F5);
pub const STOP: KeyboardShortcut = KeyboardShortcut::new(Modifiers::SHIFT, Key::F5);

/// A shortcut as the platform writes it (`Ctrl+S`, `⌘S`).
pub fn text(ctx: &egui::Context, shortcut: &KeyboardShortcut) -> String {
    ctx.format_shortcut(shortcut)
}
