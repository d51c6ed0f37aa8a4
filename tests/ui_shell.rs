//! A shell bolt in the designer, driven as a user would: Run asks before starting the
//! program (naming the command), remembers the answer for that design until the command
//! changes, and the inspector's "Try it" runs the program once on a sample and shows
//! what it did.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing
#![cfg(feature = "gui")]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use egui::Vec2;
use egui_kittest::kittest::Queryable;
use tributary::design::document::Document;
use tributary::design::selection::Selection;
use tributary::ui::DesignerApp;
use tributary::ui::actions::Action;

mod common;
use common::ui;

/// The shipped Python word count, copied with its script into `dir`.
fn python_example(dir: &std::path::Path) -> PathBuf {
    let examples = common::examples_dir();
    std::fs::create_dir_all(dir.join("bolts")).unwrap();
    std::fs::copy(
        examples.join("bolts/split_words.py"),
        dir.join("bolts/split_words.py"),
    )
    .unwrap();
    let file = dir.join("python_word_count.ron");
    std::fs::copy(examples.join("python_word_count.ron"), &file).unwrap();
    file
}

fn open(dir: &std::path::Path) -> egui_kittest::Harness<'static, DesignerApp> {
    let file = python_example(dir);
    let places = ui::places(dir, false);
    let mut h = ui::harness(DesignerApp::new(places), Vec2::new(1400.0, 1000.0));
    let topology = tributary::format::load_ron(&file).unwrap();
    h.state_mut().doc = Document::new(topology, Some(file), "python".into());
    h.step();
    h
}

#[test]
fn run_asks_before_starting_a_program_and_remembers_the_answer_for_the_design() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = open(dir.path());
    h.get_by_label("▶ Run").click();
    h.step();
    h.step();
    assert!(h.state().run.is_none(), "nothing starts before the answer");
    assert!(
        h.state().run_permission.is_some(),
        "no prompt: {:?}",
        h.state().notice
    );
    h.step();
    h.get_by_label("Allow this topology to run programs?");
    h.get_by_label("split runs the program: python3 bolts/split_words.py");
    h.get_by_label("Allow once and run").click();
    h.step();
    assert!(h.state().run.is_some(), "{:?}", h.state().notice);
    let ctx = h.ctx.clone();
    h.state_mut().perform(&ctx, Action::Stop);
    h.step();
    assert!(h.state().run.is_none());

    // The second run of the same command starts at once.
    h.get_by_label("▶ Run").click();
    h.step();
    h.step();
    assert!(h.state().run_permission.is_none());
    assert!(h.state().run.is_some(), "{:?}", h.state().notice);
    h.state_mut().perform(&ctx, Action::Stop);
    h.step();

    // An edited command is asked about again.
    let mut edited = h.state().doc.topology.clone();
    edited.node_by_name_mut("split").unwrap().config.insert(
        "command".into(),
        tributary::model::Value::List(vec![
            tributary::model::Value::Str("python3".into()),
            tributary::model::Value::Str("bolts/other.py".into()),
        ]),
    );
    let path = h.state().doc.path.clone();
    h.state_mut().doc = Document::new(edited, path, "python".into());
    h.step();
    h.get_by_label("▶ Run").click();
    h.step();
    h.step();
    assert!(h.state().run.is_none());
    h.get_by_label("split runs the program: python3 bolts/other.py");
    h.get_by_label("Cancel").click();
    h.step();
}

#[test]
fn try_it_runs_the_program_once_on_a_sample_and_shows_what_it_did() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = open(dir.path());
    let ctx = h.ctx.clone();
    h.state_mut()
        .perform(&ctx, Action::Select(Selection::node("split")));
    h.step();
    h.get_by_label("Try it");
    h.get_by_label("Send it").click();
    let deadline = Instant::now() + Duration::from_secs(60);
    while h.query_by_label("acked the tuple").is_none() {
        assert!(Instant::now() < deadline, "no result from the try");
        std::thread::sleep(Duration::from_millis(20));
        h.step();
    }
    // The default sample for a bolt reading `sentence` is ["a sentence"].
    h.get_by_label("emit default: a");
    h.get_by_label("emit default: sentence");
    assert!(h.state().run.is_none(), "a try is not a run");
}

#[test]
fn the_example_opens_as_a_copy_with_its_script() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = ui::harness(
        DesignerApp::new(ui::places(dir.path(), true)),
        Vec2::new(1400.0, 1000.0),
    );
    h.run();
    let ctx = h.ctx.clone();
    h.state_mut().perform(
        &ctx,
        Action::OpenExample(common::examples_dir().join("python_word_count.ron")),
    );
    h.run();
    let copy = dir.path().join("data/examples/python_word_count-1");
    assert_eq!(h.state().doc.base_dir(), copy, "{:?}", h.state().open_error);
    assert_eq!(
        std::fs::read(copy.join("bolts/split_words.py")).unwrap(),
        std::fs::read(common::examples_dir().join("bolts/split_words.py")).unwrap()
    );
}

#[test]
fn an_unsaved_design_is_asked_every_run() {
    // An imported or example design has no file to remember a consent by: another
    // unsaved design with the same node and command (from a stranger) must not inherit it.
    let dir = tempfile::tempdir().unwrap();
    let mut h = open(dir.path());
    let topology = h.state().doc.topology.clone();
    h.state_mut().doc = Document::new(topology, None, "imported".into());
    h.step();
    let ctx = h.ctx.clone();
    for _ in 0..2 {
        h.get_by_label("▶ Run").click();
        h.step();
        h.step();
        assert!(h.state().run.is_none(), "nothing starts before the answer");
        assert!(h.state().run_permission.is_some(), "{:?}", h.state().notice);
        h.step();
        h.get_by_label("Allow once and run").click();
        h.step();
        assert!(h.state().run.is_some(), "{:?}", h.state().notice);
        h.state_mut().perform(&ctx, Action::Stop);
        h.step();
    }
}
