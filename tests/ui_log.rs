//! The run log in the bottom panel: it follows the newest line and lays out only the
//! rows in view, however long the log grows.
#![cfg(feature = "gui")]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use egui::Vec2;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use tributary::design::FilePlaces;
use tributary::ui::DesignerApp;
use tributary::ui::actions::Action;
use tributary::ui::problems_panel::{BottomTab, bottom_panel_ui};

#[test]
fn the_run_log_shows_its_newest_lines_and_lays_out_only_what_is_in_view() {
    let dir = tempfile::tempdir().unwrap();
    let places = FilePlaces {
        config_dir: Some(dir.path().join("config")),
        examples_dir: Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("topologies")),
    };
    let mut h = Harness::builder()
        .with_size(Vec2::new(1400.0, 1000.0))
        .allow_missing_glyphs()
        .build_ui_state(
            |ui, app: &mut DesignerApp| app.ui(ui),
            DesignerApp::new(places),
        );
    let ctx = h.ctx.clone();
    let example = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("topologies/word_count.ron");
    h.state_mut().perform(&ctx, Action::OpenExample(example));
    h.step();
    h.get_by_label("▶ Run").click();
    h.step();
    assert!(h.state().run.is_some(), "{:?}", h.state().notice);

    // The logger sink writes a line per tuple: wait for far more than fit in view.
    let deadline = Instant::now() + Duration::from_secs(60);
    while h.state().log.len() < 500 {
        assert!(Instant::now() < deadline, "the log stayed short");
        std::thread::sleep(Duration::from_millis(50));
        h.step();
    }
    h.get_by_label_contains("Run log (").click();
    h.run_steps(3);
    h.get_by_label("⏹ Stop").click();
    h.run_steps(3);

    let log = h.state().log.clone();
    assert!(log.len() >= 500);
    let newest = log.last().unwrap().clone();
    let shown = log
        .iter()
        .filter(|line| h.query_by_label(line).is_some())
        .count();
    assert!(
        h.query_by_label(&newest).is_some(),
        "the newest line is not in view"
    );
    assert!(
        shown > 0 && shown < 100,
        "{shown} of {} lines laid out",
        log.len()
    );
}

/// The panel alone, with a log of `lines` lines.
fn log_panel(lines: usize) -> Harness<'static, Vec<String>> {
    let log: Vec<String> = (0..lines).map(|i| format!("line number {i}")).collect();
    let topology = tributary::model::Topology::new("t");
    let mut tab = BottomTab::Log;
    let mut h = Harness::builder()
        .with_size(Vec2::new(800.0, 130.0))
        .build_ui_state(
            move |ui, log: &mut Vec<String>| {
                bottom_panel_ui(ui, &mut tab, &topology, &[], log);
            },
            log,
        );
    h.run_steps(10);
    h
}

#[test]
fn a_short_log_shows_every_line_and_a_long_one_its_end() {
    let h = log_panel(1);
    assert!(h.query_by_label("line number 0").is_some());

    let h = log_panel(3);
    for i in 0..3 {
        assert!(h.query_by_label(&format!("line number {i}")).is_some());
    }

    let h = log_panel(5000);
    assert!(h.query_by_label("line number 4999").is_some());
    assert!(h.query_by_label("line number 0").is_none());
    let shown = (0..5000)
        .filter(|i| h.query_by_label(&format!("line number {i}")).is_some())
        .count();
    assert!(shown > 3 && shown < 100, "{shown} lines laid out");
}
