//! The designer's permission prompt, driven as a user would: a design that would read
//! and rename files in a folder outside its own asks first, lists exactly what it would
//! touch, starts nothing on Cancel, and runs with that folder (and only it) on Allow.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing
#![cfg(feature = "gui")]

use std::path::Path;
use std::time::{Duration, Instant};

use egui::Vec2;
use egui_kittest::kittest::Queryable;
use tributary::design::document::Document;
use tributary::model::{Grouping, Node, Role, StreamDecl, Topology};
use tributary::ui::DesignerApp;
use tributary::ui::actions::Action;

mod common;
use common::ui;

fn spooling(from: &str) -> Topology {
    let mut t = Topology::new("spool");
    t.add_node(
        Node::new("inbox", Role::Source, "spooldir")
            .with_config("spoolDir", from)
            .with_output(StreamDecl::default_stream(&["body"])),
    )
    .unwrap();
    t.add_node(Node::new("ch", Role::Channel, "memory"))
        .unwrap();
    t.add_node(Node::new("log", Role::Sink, "logger")).unwrap();
    t.connect_names("inbox", "ch", "default", Grouping::Required)
        .unwrap();
    t.connect_names("ch", "log", "default", Grouping::Drain)
        .unwrap();
    t
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_design_reaching_outside_asks_first_and_cancel_touches_nothing() {
    let root = tempfile::tempdir().unwrap();
    let design_dir = root.path().join("design");
    let outside = root.path().join("incoming");
    std::fs::create_dir_all(&design_dir).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("today.log"), "one\ntwo\n").unwrap();

    let places = ui::places(root.path(), false);
    let mut h = ui::harness(DesignerApp::new(places), Vec2::new(1400.0, 1000.0));
    h.state_mut().doc = Document::new(
        spooling("../incoming"),
        Some(design_dir.join("spool.ron")),
        "spool".into(),
    );
    h.step();

    h.get_by_label("▶ Run").click();
    h.step();
    h.step();
    assert!(h.state().run.is_none(), "nothing starts before the answer");
    let asked = h
        .state()
        .run_permission
        .clone()
        .unwrap_or_else(|| panic!("no prompt: {:?}", h.state().notice));
    let lines: Vec<String> = asked.refusals.iter().map(|r| r.describe()).collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].contains("inbox.spoolDir reads and renames every file in")
            && lines[0].contains("incoming"),
        "{lines:?}"
    );
    // The prompt shows the same line the user decides on.
    h.step();
    h.get_by_label(lines[0].as_str());

    h.get_by_label("Cancel").click();
    h.step();
    assert!(h.state().run.is_none() && h.state().run_permission.is_none());
    assert_eq!(names_in(&outside), ["today.log"]);

    // Asked again, allowed once: the run may use that folder.
    h.get_by_label("▶ Run").click();
    h.step();
    h.step();
    h.get_by_label("Allow once and run").click();
    h.step();
    assert!(h.state().run.is_some(), "{:?}", h.state().notice);
    let deadline = Instant::now() + Duration::from_secs(30);
    while names_in(&outside) != ["today.log.COMPLETED"] {
        assert!(Instant::now() < deadline, "{:?}", names_in(&outside));
        std::thread::sleep(Duration::from_millis(50));
        h.step();
    }
    h.step();
    assert!(
        h.state().run.is_some(),
        "the run ended by itself: {:?}",
        h.state().log
    );
    let ctx = h.ctx.clone();
    h.state_mut().perform(&ctx, Action::Stop);
    h.step();
    assert!(h.state().run.is_none());
}

#[test]
fn the_live_inspector_shows_what_a_limit_refused() {
    let root = tempfile::tempdir().unwrap();
    let places = ui::places(root.path(), false);
    let mut h = ui::harness(DesignerApp::new(places), Vec2::new(1400.0, 1000.0));
    // Every number gets a prefix longer than a value may be: each tuple is refused.
    let mut t = Topology::new("too big");
    t.add_node(
        Node::new("numbers", Role::Spout, "sequence")
            .with_config("rate_per_sec", 20.0)
            .with_output(StreamDecl::default_stream(&["n"])),
    )
    .unwrap();
    let huge = "x".repeat(tributary::runtime::limits::MAX_VALUE_BYTES + 1);
    t.add_node(
        Node::new("grow", Role::Bolt, "map")
            .with_config("field", "n")
            .with_config("op", "prefix")
            .with_config("arg", huge.as_str())
            .with_output(StreamDecl::default_stream(&["n"])),
    )
    .unwrap();
    t.connect_names("numbers", "grow", "default", Grouping::Shuffle)
        .unwrap();
    h.state_mut().doc = Document::new(t, Some(root.path().join("big.ron")), "big".into());
    h.state_mut().selection = tributary::design::selection::Selection::node("grow");
    h.step();
    h.get_by_label("▶ Run").click();
    h.step();
    assert!(h.state().run.is_some(), "{:?}", h.state().notice);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        std::thread::sleep(Duration::from_millis(100));
        h.step();
        let refused = h
            .state()
            .run
            .as_ref()
            .map_or(0, |r| r.snapshot().nodes["grow"].refused);
        if refused > 0 && h.query_by_label("refused").is_some() {
            break;
        }
        assert!(Instant::now() < deadline, "no refused count shown");
    }
    let ctx = h.ctx.clone();
    h.state_mut().perform(&ctx, Action::Stop);
    h.step();
}
