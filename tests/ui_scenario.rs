//! The scenario in the designer: added and edited in the inspector with nothing
//! selected (an undoable edit of the document), then played by a run, which says each
//! step in its log and shows the faults it set on the inspector's sliders.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing
#![cfg(feature = "gui")]

use std::time::{Duration, Instant};

use egui::Vec2;
use egui_kittest::kittest::Queryable;
use tributary::design::document::Document;
use tributary::model::{ScenarioAction, Topology};
use tributary::ui::DesignerApp;
use tributary::ui::actions::Action;

mod common;
use common::ui;

#[test]
fn a_scenario_added_in_the_inspector_is_saved_with_the_design_and_played_by_run() {
    let dir = tempfile::tempdir().unwrap();
    let topology: Topology =
        tributary::format::load_ron(&common::examples_dir().join("word_count.ron")).unwrap();
    let mut h = ui::harness(
        DesignerApp::new(ui::places(dir.path(), false)),
        Vec2::new(1400.0, 1000.0),
    );
    h.state_mut().doc = Document::new(topology, Some(dir.path().join("wc.ron")), "wc".into());
    h.step();
    h.get_by_label("Scenario");
    h.get_by_label("+ faults").click();
    h.step();
    h.step();
    let scenario = h.state().doc.topology.settings.scenario.clone();
    assert_eq!(scenario.len(), 1, "{scenario:?}");
    assert_eq!(scenario[0].at_ms, 1000);
    let ScenarioAction::SetFaults { node, fail, .. } = &scenario[0].action else {
        panic!("{scenario:?}")
    };
    // The first node by name, failing one input in ten.
    assert_eq!((node.as_str(), *fail), ("count", 0.1));
    // An edit like any other: undone with Ctrl+Z.
    let ctx = h.ctx.clone();
    h.state_mut().perform(&ctx, Action::Undo);
    h.step();
    assert!(h.state().doc.topology.settings.scenario.is_empty());
    h.state_mut().perform(&ctx, Action::Redo);
    h.step();
    assert_eq!(h.state().doc.topology.settings.scenario.len(), 1);

    h.get_by_label("▶ Run").click();
    let deadline = Instant::now() + common::DEADLINE;
    loop {
        h.step();
        let played = h
            .state()
            .log
            .iter()
            .any(|l| l.contains("scenario: at 1s: count: fail 10%"));
        let failing = h
            .state()
            .run
            .as_ref()
            .is_some_and(|r| r.snapshot().nodes["count"].failed > 0);
        if played && failing {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the scenario step was not played"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    h.state_mut().perform(&ctx, Action::Stop);
    h.step();
}
