//! Killing a simulated worker from the designer's live inspector: the button reaches
//! the running engine and the killed worker's executors come back restarted; the
//! canvas says which nodes lost their in-memory state and when, and shows a spout's
//! replays.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing
#![cfg(feature = "gui")]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use egui::{FontId, Vec2};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use tributary::runtime::{Control, FaultSpec};
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

/// The word count example with a slow spout (so the run stays light) in `workers`
/// simulated workers, running.
fn running_word_count(dir: &std::path::Path, workers: u32) -> Harness<'static, DesignerApp> {
    let places = ui::places(dir, true);
    let mut h = ui::harness(DesignerApp::new(places), Vec2::new(1400.0, 1000.0));
    let ctx = h.ctx.clone();
    let example = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("topologies/word_count.ron");
    h.state_mut().perform(&ctx, Action::OpenExample(example));
    h.state_mut().doc.topology.settings.workers = workers;
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
    h.step();
    h
}

/// Steps the app (sampling the run) until `done` holds; fails saying `what`.
fn step_until(
    h: &mut Harness<'_, DesignerApp>,
    what: &str,
    done: impl Fn(&Harness<'_, DesignerApp>) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done(h) {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {:#?}",
            h.state().run.as_ref().map(|r| r.snapshot().clone())
        );
        std::thread::sleep(Duration::from_millis(50));
        h.step();
    }
}

fn labels_containing(h: &Harness<'_, DesignerApp>, text: &str) -> Vec<String> {
    h.query_all_by_label_contains(text)
        .filter_map(|n| n.accesskit_node().label())
        .collect()
}

#[test]
fn after_kill_worker_a_stateful_node_says_its_state_restarted_and_a_stateless_one_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = running_word_count(dir.path(), 2);
    step_until(&mut h, "the run to get going", |h| {
        h.state().run.as_ref().is_some_and(|r| {
            r.snapshot()
                .nodes
                .get("count")
                .is_some_and(|m| m.executed > 0)
        })
    });
    assert!(labels_containing(&h, "restarted at").is_empty());
    // Plan order is by name (count ×2, log, sentences, split ×2, acker), dealt round
    // robin: worker 0 holds count's first executor, log and split's first.
    let in_worker_0 = h.state().run.as_ref().unwrap().snapshot().workers[0]
        .executors
        .clone();
    assert_eq!(in_worker_0, ["count", "log", "split", "acker"]);

    h.get_by_label("Kill worker").click();
    step_until(&mut h, "the killed nodes to restart", |h| {
        let snap = h.state().run.as_ref().unwrap().snapshot();
        ["count", "log", "split"]
            .iter()
            .all(|n| snap.nodes[*n].restarts > 0)
            && !labels_containing(h, "restarted at").is_empty()
    });
    // The time is the engine's: the snapshot the canvas was drawn from.
    let at = h.state().run.as_ref().unwrap().snapshot().nodes["count"]
        .last_restart
        .expect("the snapshot says when count restarted");
    let expected = format!("counts restarted at {:.1} s", at.as_secs_f64());
    assert_eq!(
        labels_containing(&h, "restarted at"),
        std::slice::from_ref(&expected)
    );
    // The stateless nodes that restarted show only their restart badge.
    let badges = labels_containing(&h, "⟳");
    assert!(badges.len() >= 3, "{badges:?}");

    h.get_by_label(&expected).hover();
    h.run_steps(4);
    assert!(
        h.query_by_label_contains("keeps its counts in each task's memory")
            .is_some(),
        "no tooltip on the note"
    );
    h.get_by_label("⏹ Stop").click();
    h.step();
}

#[test]
fn a_spout_shows_its_replays_on_the_canvas_when_faults_fail_its_tuples() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = running_word_count(dir.path(), 1);
    assert!(labels_containing(&h, "replayed").is_empty());
    if let Some(run) = &h.state().run {
        run.control(Control::SetFaults {
            node: "count".into(),
            faults: FaultSpec {
                fail_probability: 0.5,
                ..FaultSpec::default()
            },
        });
    }
    step_until(&mut h, "a replay pill", |h| {
        !labels_containing(h, "replayed").is_empty()
    });
    let pill = labels_containing(&h, "replayed");
    assert_eq!(pill.len(), 1, "{pill:?}");
    let pill = pill[0].clone();
    assert!(
        pill.starts_with("↻ ") && pill.ends_with(" replayed"),
        "{pill}"
    );
    // The bundled fonts draw it (the harness allows missing glyphs; the app would show
    // a box).
    assert!(
        h.ctx
            .fonts_mut(|f| f.has_glyphs(&FontId::proportional(11.0), &pill))
    );
    h.get_by_label(&pill).hover();
    h.run_steps(4);
    assert!(
        h.query_by_label_contains("Replayed: tuple trees this spout emitted again")
            .is_some(),
        "no tooltip on the replay pill"
    );
    // No restart happened, so no node claims its state was lost.
    assert!(labels_containing(&h, "restarted at").is_empty());
    h.get_by_label("⏹ Stop").click();
    h.step();
}
