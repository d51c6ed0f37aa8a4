//! Pictures of the canvas, compared against committed PNGs (`tests/snapshots/`). Rendered
//! headless through wgpu (GL on llvmpipe in CI: `WGPU_BACKEND=gl`). After an intended
//! visual change, refresh them with `UPDATE_SNAPSHOTS=1 cargo test --test ui_snapshot`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing
#![cfg(feature = "gui")]

use std::path::PathBuf;

use egui::Vec2;
use egui_kittest::Harness;
use tributary::design::FilePlaces;
use tributary::ui::DesignerApp;
use tributary::ui::actions::Action;

fn snapshot_of(example: &str, theme: egui::Theme, name: &str) {
    let dir = tempfile::tempdir().unwrap();
    let places = FilePlaces {
        config_dir: Some(dir.path().join("config")),
        examples_dir: None,
        data_dir: Some(dir.path().join("data")),
    };
    let mut h = Harness::builder()
        .with_size(Vec2::new(1200.0, 700.0))
        .with_theme(theme)
        .allow_missing_glyphs()
        .wgpu()
        .build_ui_state(
            |ui, app: &mut DesignerApp| app.ui(ui),
            DesignerApp::new(places),
        );
    let ctx = h.ctx.clone();
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("topologies")
        .join(example);
    h.state_mut().perform(&ctx, Action::OpenExample(path));
    h.run();
    h.snapshot(name);
}

#[test]
fn word_count_dark() {
    snapshot_of("word_count.ron", egui::Theme::Dark, "word_count_dark");
}

#[test]
fn mixed_pipeline_light() {
    snapshot_of(
        "mixed_pipeline.ron",
        egui::Theme::Light,
        "mixed_pipeline_light",
    );
}
