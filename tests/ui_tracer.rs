//! Tracer bullets in the designer: the inspector turns sampling on, lists finished
//! traced trees, and the canvas draws the picked tree's path with each edge's wait.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing
#![cfg(feature = "gui")]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use egui::Vec2;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use tributary::ui::DesignerApp;
use tributary::ui::actions::Action;

mod common;
use common::ui;

fn step_until(
    h: &mut Harness<'_, DesignerApp>,
    what: &str,
    done: impl Fn(&Harness<'_, DesignerApp>) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done(h) {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
        h.step();
    }
}

#[test]
fn tracing_one_tree_in_ten_lists_trees_and_draws_the_latest_path() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = ui::harness(
        DesignerApp::new(ui::places(dir.path(), true)),
        Vec2::new(1400.0, 1000.0),
    );
    let ctx = h.ctx.clone();
    let example = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("topologies/word_count.ron");
    h.state_mut().perform(&ctx, Action::OpenExample(example));
    h.state_mut()
        .doc
        .topology
        .node_by_name_mut("sentences")
        .unwrap()
        .config
        .insert("rate_per_sec".into(), tributary::model::Value::Float(100.0));
    h.step();
    h.get_by_label("▶ Run").click();
    h.step();
    h.step();
    assert!(
        h.query_by_label_contains("no traced tree").is_none(),
        "off: nothing said"
    );
    h.get_by_label("Tracer bullets").click();
    h.run();
    h.get_by_label("1 tree in 10").click();
    h.step();
    step_until(&mut h, "a traced tree in the list", |h| {
        h.query_all_by_label_contains("acked in").next().is_some()
    });
    let run = h.state().run.as_ref().unwrap();
    let overlay = run.overlay();
    let path = overlay
        .trace
        .expect("the canvas draws the latest traced tree");
    assert_eq!(path.spout, "sentences");
    let edges: Vec<(String, String)> = path.edges.keys().cloned().collect();
    for want in [("sentences", "split"), ("split", "count"), ("count", "log")] {
        assert!(
            edges.contains(&(want.0.to_string(), want.1.to_string())),
            "{edges:?}"
        );
    }
    // The list names each tree by its root and its hops (1 split, 10 counts, 10 logs).
    for line in h.query_all_by_label_contains("acked in") {
        let text = line.accesskit_node().label().unwrap_or_default();
        assert!(text.ends_with("21 hops"), "{text}");
    }
}
