//! The native file dialogs (open, save, import, export). Kept apart from
//! `design::files` so everything else about files works without a window; these are the
//! only functions that block on the user.

use std::path::{Path, PathBuf};

use crate::format;

/// Native "Open" dialog. Blocks until the user picks or cancels.
pub fn pick_open_path(start_dir: Option<&Path>) -> Option<PathBuf> {
    let mut dialog = rfd::FileDialog::new().add_filter("Tributary topology", &["ron"]);
    if let Some(dir) = start_dir {
        dialog = dialog.set_directory(dir);
    }
    dialog.pick_file()
}

/// Native "Save as" dialog.
pub fn pick_save_path(suggested_name: &str, start_dir: Option<&Path>) -> Option<PathBuf> {
    let mut dialog = rfd::FileDialog::new()
        .add_filter("Tributary topology", &["ron"])
        .set_file_name(format!("{suggested_name}.ron"));
    if let Some(dir) = start_dir {
        dialog = dialog.set_directory(dir);
    }
    dialog.save_file().map(|p| {
        if p.extension().is_none() {
            p.with_extension("ron")
        } else {
            p
        }
    })
}

/// Native dialog for Storm Flux / Flume files to import.
pub fn pick_import_path(start_dir: Option<&Path>) -> Option<PathBuf> {
    let mut dialog = rfd::FileDialog::new()
        .add_filter("Flux YAML or Flume properties", format::IMPORT_EXTENSIONS);
    if let Some(dir) = start_dir {
        dialog = dialog.set_directory(dir);
    }
    dialog.pick_file()
}

/// Native "Export" dialog for one target format.
pub fn pick_export_path(
    suggested: &str,
    label: &str,
    extension: &str,
    start_dir: Option<&Path>,
) -> Option<PathBuf> {
    let mut dialog = rfd::FileDialog::new()
        .add_filter(label, &[extension])
        .set_file_name(suggested);
    if let Some(dir) = start_dir {
        dialog = dialog.set_directory(dir);
    }
    dialog.save_file()
}
