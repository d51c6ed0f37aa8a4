//! The recovery file: unsaved work is copied aside while the designer runs, and the
//! next start after a crash offers it back (docs/designer.md).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing
#![cfg(feature = "gui")]

use std::time::{Duration, Instant};

use egui::Vec2;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use tributary::design::commands::Command;
use tributary::model::Pos;
use tributary::ui::DesignerApp;
use tributary::ui::actions::Action;

mod common;
use common::ui;
use common::ui::perform;

fn designer(dir: &std::path::Path) -> Harness<'static, DesignerApp> {
    let mut h = ui::harness(
        DesignerApp::new(ui::places(dir, false)),
        Vec2::new(1400.0, 1000.0),
    );
    h.step();
    h
}

fn position(h: &Harness<'static, DesignerApp>, node: &str) -> Pos {
    h.state().doc.topology.node_by_name(node).unwrap().pos
}

#[test]
fn unsaved_work_is_kept_aside_and_offered_back_after_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let recovery = ui::places(dir.path(), false).recovery_file().unwrap();
    let saved = dir.path().join("wc.ron");
    std::fs::copy(common::examples_dir().join("word_count.ron"), &saved).unwrap();

    let mut h = designer(dir.path());
    perform(&mut h, Action::Open(Some(saved.clone())));
    perform(
        &mut h,
        Action::apply(Command::Move {
            moves: vec![("count".into(), Pos(600.0, 400.0))],
        }),
    );
    assert!(h.state().doc.is_dirty());
    // The copy is made on the designer's own cadence (every few seconds): wait for it.
    let end = Instant::now() + common::DEADLINE;
    while !recovery.is_file() {
        assert!(Instant::now() < end, "no recovery file was written");
        std::thread::sleep(Duration::from_millis(100));
        h.step();
    }
    let kept = tributary::format::load_ron(&recovery).unwrap();
    assert_eq!(kept.node_by_name("count").unwrap().pos, Pos(600.0, 400.0));
    // A crash: the designer goes away without closing, so nothing clears the copy.
    drop(h);
    assert!(recovery.is_file());
    assert_ne!(
        tributary::format::load_ron(&saved)
            .unwrap()
            .node_by_name("count")
            .unwrap()
            .pos,
        Pos(600.0, 400.0),
        "the unsaved move never reached the file"
    );

    let mut h = designer(dir.path());
    h.get_by_label("Recover unsaved work?");
    h.get_by_label("Recover").click();
    h.run();
    assert_eq!(
        position(&h, "count"),
        Pos(600.0, 400.0),
        "the kept design is back"
    );
    assert!(
        h.state().doc.is_dirty(),
        "recovered work is not saved anywhere yet"
    );
    assert!(h.query_by_label("Recover unsaved work?").is_none());
}

#[test]
fn discarding_the_offer_removes_the_copy() {
    let dir = tempfile::tempdir().unwrap();
    let places = ui::places(dir.path(), false);
    let t = tributary::format::load_ron(&common::examples_dir().join("word_count.ron")).unwrap();
    places.write_recovery(&t, None).unwrap();
    let recovery = places.recovery_file().unwrap();
    assert!(recovery.is_file());
    let mut h = designer(dir.path());
    h.get_by_label("Discard").click();
    h.run();
    assert!(!recovery.exists(), "Discard removes the copy");
    assert!(h.query_by_label("Recover unsaved work?").is_none());
    drop(h);
    let h = designer(dir.path());
    assert!(
        h.query_by_label("Recover unsaved work?").is_none(),
        "nothing is offered again"
    );
}
