//! A live run driven through the designer's toolbar: every node shows throughput, and
//! Stop leaves no runtime threads behind. In its own test binary so thread counting
//! sees no other test's engine.
#![cfg(feature = "gui")]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use egui::Vec2;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use tributary::design::FilePlaces;
use tributary::ui::DesignerApp;
use tributary::ui::actions::Action;

/// Runtime executor threads are named `trib-…`.
fn runtime_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|tasks| {
            tasks
                .flatten()
                .filter(|t| {
                    std::fs::read_to_string(t.path().join("comm"))
                        .is_ok_and(|c| c.starts_with("trib-"))
                })
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn run_on_an_example_shows_throughput_on_every_node_and_stop_leaves_no_threads() {
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
    assert_eq!(runtime_threads(), 0);

    h.get_by_label("▶ Run").click();
    h.step();
    assert!(h.state().run.is_some(), "{:?}", h.state().notice);
    let mut saw_threads = false;

    // Within a few seconds every node moves tuples.
    let deadline = Instant::now() + Duration::from_secs(20);
    let names: Vec<String> = h
        .state()
        .doc
        .topology
        .nodes()
        .map(|n| n.name.clone())
        .collect();
    loop {
        std::thread::sleep(Duration::from_millis(150));
        saw_threads |= runtime_threads() > 0;
        h.step();
        let overlay = h
            .state()
            .run
            .as_ref()
            .map(|r| r.overlay())
            .unwrap_or_default();
        let moving = names
            .iter()
            .all(|n| overlay.nodes.get(n).is_some_and(|s| s.rate > 0.0));
        if moving {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not every node showed throughput: {:?}",
            overlay.nodes
        );
    }
    // The canvas shows a rate badge text; the live inspector has a sparkline.
    h.get_by_label("sentences").click();
    h.step();
    h.step();

    assert!(saw_threads, "the run had runtime threads");
    h.get_by_label("⏹ Stop").click();
    h.step();
    assert!(h.state().run.is_none());
    assert_eq!(runtime_threads(), 0, "Stop joins every runtime thread");
    assert!(h.state().log.iter().any(|l| l.starts_with("run stopped")));
}
