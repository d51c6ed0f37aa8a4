//! Killing a simulated worker from the designer's live inspector: the button reaches
//! the running engine and the killed worker's executors come back restarted.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing
#![cfg(feature = "gui")]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use egui::Vec2;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use tributary::ui::DesignerApp;
use tributary::ui::actions::Action;

mod common;
use common::ui;

#[test]
fn kill_worker_restarts_that_workers_executors() {
    let dir = tempfile::tempdir().unwrap();
    let places = ui::places(dir.path(), true);
    let mut h = ui::harness(DesignerApp::new(places), Vec2::new(1400.0, 1000.0));
    let ctx = h.ctx.clone();
    let example = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("topologies/word_count.ron");
    h.state_mut().perform(&ctx, Action::OpenExample(example));
    h.state_mut().doc.topology.settings.workers = 2;
    // A slow spout keeps the logger's lines few, so the run stays light.
    h.state_mut()
        .doc
        .topology
        .node_by_name_mut("sentences")
        .expect("the example has a spout")
        .config
        .insert("rate_per_sec".into(), tributary::model::Value::Float(50.0));
    h.step();
    h.get_by_label("▶ Run").click();
    h.step();
    assert!(h.state().run.is_some(), "{:?}", h.state().notice);
    // One more frame so the live inspector is drawn.
    h.step();
    let workers = |h: &Harness<'_, DesignerApp>| {
        h.state()
            .run
            .as_ref()
            .map(|r| r.snapshot().workers.clone())
            .unwrap_or_default()
    };
    assert_eq!(workers(&h).len(), 2);
    let in_worker_0: Vec<String> = workers(&h)[0].executors.clone();

    h.get_by_label("Kill worker").click();
    let deadline = Instant::now() + Duration::from_secs(30);
    // The kill's line is an event: the log keeps it while logger output comes and goes.
    let mut saw_kill_line = false;
    loop {
        std::thread::sleep(Duration::from_millis(20));
        h.step();
        saw_kill_line |= h.state().log.iter().any(|l| l.contains("worker 0 killed"));
        let snap = h.state().run.as_ref().map(|r| r.snapshot().clone());
        let Some(snap) = snap else {
            panic!("the run ended");
        };
        let restarted = in_worker_0
            .iter()
            .filter(|n| n.as_str() != "acker")
            .all(|n| snap.nodes.get(n).is_some_and(|m| m.restarts > 0));
        if restarted && snap.workers[0].kills == 1 {
            assert_eq!(snap.workers[1].kills, 0);
            break;
        }
        assert!(Instant::now() < deadline, "no restarts: {:?}", snap.workers);
    }
    assert!(saw_kill_line, "no 'worker 0 killed' line in the run log");
    h.get_by_label("⏹ Stop").click();
    h.step();
}
