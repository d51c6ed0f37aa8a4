//! A live run driven through the designer's toolbar: every node shows throughput, and
//! Stop leaves no runtime threads behind. In its own test binary so thread counting
//! sees no other test's engine.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing
#![cfg(feature = "gui")]

use std::time::{Duration, Instant};

use egui_kittest::kittest::Queryable;

mod common;
use common::runtime_threads;
use common::ui;

#[test]
fn run_on_an_example_shows_throughput_on_every_node_and_stop_leaves_no_threads() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = ui::with_example(dir.path(), "word_count.ron");
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
