//! The designer's run controls driven through the UI, as a user drives them: the
//! toolbar's Pause and Resume, the live inspector's fault slider, and the rate sparkline
//! the inspector draws. Each is checked on the engine's side (its snapshot, its log, its
//! counts), not on the widget that was clicked.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing
#![cfg(feature = "gui")]

use std::time::{Duration, Instant};

use egui::Key;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use tributary::ui::DesignerApp;

mod common;
use common::ui;

/// Runs frames (the app samples the engine every 100 ms) until `done` holds; fails
/// naming `what` after the shared deadline.
fn frames_until(
    h: &mut Harness<'static, DesignerApp>,
    what: &str,
    done: impl Fn(&DesignerApp) -> bool,
) {
    let end = Instant::now() + common::DEADLINE;
    loop {
        h.step();
        if done(h.state()) {
            return;
        }
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn emitted(app: &DesignerApp, node: &str) -> u64 {
    app.run
        .as_ref()
        .map_or(0, |r| r.snapshot().nodes[node].emitted)
}

#[test]
fn pause_resume_faults_and_the_sparkline_through_the_designer() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = ui::with_example(dir.path(), "word_count.ron");
    h.get_by_label("▶ Run").click();
    frames_until(&mut h, "sentences emitting", |a| {
        emitted(a, "sentences") > 0
    });

    // The sparkline: selecting a node shows its rate history, which holds the run's rate.
    h.get_by_label("sentences").click();
    frames_until(&mut h, "a rate history with traffic", |a| {
        let history = a.run.as_ref().unwrap().rate_history("sentences");
        history.len() >= 2 && history.iter().any(|p| p[1] > 0.0)
    });
    let history = h.state().run.as_ref().unwrap().rate_history("sentences");
    assert!(
        history.windows(2).all(|w| w[0][0] < w[1][0]),
        "points in time order: {history:?}"
    );

    // Pause from the toolbar: every spout task acknowledges it, nothing more is
    // emitted while the tuples in flight drain, and the button turns into Resume.
    h.get_by_label("⏸ Pause").click();
    frames_until(&mut h, "every spout task paused", |a| {
        let snap = a.run.as_ref().unwrap().snapshot();
        snap.paused && snap.nodes["sentences"].tasks.iter().all(|t| t.paused)
    });
    let held = emitted(h.state(), "sentences");
    frames_until(&mut h, "the tuples in flight acked", |a| {
        let s = &a.run.as_ref().unwrap().snapshot().nodes["sentences"];
        s.acked == s.emitted
    });
    assert_eq!(
        emitted(h.state(), "sentences"),
        held,
        "a paused spout emits nothing"
    );
    h.get_by_label("▶ Resume").click();
    frames_until(&mut h, "the engine resumed", |a| {
        !a.run.as_ref().unwrap().snapshot().paused
    });
    let resumed_at = emitted(h.state(), "sentences");
    frames_until(&mut h, "sentences emitting again", |a| {
        emitted(a, "sentences") > resumed_at
    });

    // The toolbar's speed: Slow caps every spout task at 1 tuple a second, and the engine
    // says so; Full lifts the cap (word_count's spout has none of its own).
    h.get_by_label("Slow").click();
    frames_until(&mut h, "the spout capped at Slow", |a| {
        a.run.as_ref().unwrap().snapshot().nodes["sentences"].rate_limit == Some(1.0)
    });
    h.get_by_label("Full").click();
    frames_until(&mut h, "the cap lifted at Full", |a| {
        a.run.as_ref().unwrap().snapshot().nodes["sentences"]
            .rate_limit
            .is_none()
    });

    // The fault slider of the live inspector: one key press on `split`'s Fail % reaches
    // the engine, which logs it and fails inputs.
    h.get_by_label("split").click();
    h.step();
    let slider = h
        .query_all_by_label("Fail %")
        .find(|n| n.accesskit_node().role() == egui::accesskit::Role::Slider)
        .expect("the fail slider");
    slider.focus();
    h.step();
    h.key_press(Key::ArrowRight);
    frames_until(&mut h, "the fault in the run log", |a| {
        a.log
            .iter()
            .any(|l| l.contains("split[") && l.contains("faults: fail"))
    });
    frames_until(&mut h, "split failing inputs", |a| {
        a.run.as_ref().unwrap().snapshot().nodes["split"].failed > 0
    });

    h.get_by_label("⏹ Stop").click();
    h.step();
    assert!(h.state().run.is_none());
}
