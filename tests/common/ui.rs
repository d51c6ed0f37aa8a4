//! The designer under `egui_kittest`, set up the one way the UI tests share: a window of
//! a given size, the bundled fonts only (headless tests have no system fonts), and the
//! app's configuration kept in the test's temporary folder.

use std::path::Path;

use egui::Vec2;
use egui_kittest::Harness;
use tributary::design::FilePlaces;
use tributary::ui::DesignerApp;

/// Where the app keeps its configuration and its copies of examples (inside `dir`), with
/// or without the shipped examples.
pub fn places(dir: &Path, with_examples: bool) -> FilePlaces {
    FilePlaces {
        config_dir: Some(dir.join("config")),
        examples_dir: with_examples.then(super::examples_dir),
        data_dir: Some(dir.join("data")),
    }
}

/// A harness driving `app` in a window of `size`; no frame has run yet.
pub fn harness(app: DesignerApp, size: Vec2) -> Harness<'static, DesignerApp> {
    Harness::builder()
        .with_size(size)
        .allow_missing_glyphs()
        .build_ui_state(|ui, app: &mut DesignerApp| app.ui(ui), app)
}

/// The designer in a 1400 × 1000 window with its configuration in `dir` (and the
/// shipped examples), run until it settles.
#[allow(dead_code)] // not every UI test binary starts empty
pub fn designer(dir: &Path) -> Harness<'static, DesignerApp> {
    let mut h = harness(
        DesignerApp::new(places(dir, true)),
        Vec2::new(1400.0, 1000.0),
    );
    h.run();
    h
}

/// Performs `action` as the menus and keys do, then runs until the app settles.
#[allow(dead_code)] // not every UI test binary performs actions
pub fn perform(h: &mut Harness<'static, DesignerApp>, action: tributary::ui::actions::Action) {
    let ctx = h.ctx.clone();
    h.state_mut().perform(&ctx, action);
    h.run();
}

/// The designer in a 1400 × 1000 window with `example` (a file of `topologies/`) opened
/// as the Examples menu opens it: a copy with its data, inside `dir`. One frame has run.
#[allow(dead_code)] // not every UI test binary opens an example
pub fn with_example(dir: &Path, example: &str) -> Harness<'static, DesignerApp> {
    let mut h = harness(
        DesignerApp::new(places(dir, true)),
        Vec2::new(1400.0, 1000.0),
    );
    let ctx = h.ctx.clone();
    let path = super::examples_dir().join(example);
    h.state_mut()
        .perform(&ctx, tributary::ui::actions::Action::OpenExample(path));
    h.step();
    h
}
