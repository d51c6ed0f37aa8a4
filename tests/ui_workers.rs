//! Killing a simulated worker from the designer's live inspector: the button reaches
//! the running engine and the killed worker's executors come back restarted.
#![cfg(feature = "gui")]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use egui::Vec2;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use tributary::design::FilePlaces;
use tributary::ui::DesignerApp;
use tributary::ui::actions::Action;

#[test]
fn kill_worker_restarts_that_workers_executors() {
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
    h.state_mut().doc.topology.settings.workers = 2;
    // A slow spout keeps the logger's lines well under the 2000 the app keeps, so the
    // kill's line cannot scroll away before it is looked for.
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
    // The logger bolt writes thousands of lines a second and the app keeps the newest
    // 2000, so the kill's line is looked for on every frame, before it scrolls away.
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
