//! The designer's finish, through its real menus: examples listed by title with a
//! one-line summary, menu entries showing their shortcuts, and counts read as words
//! ("1 warning", "1 node").
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing
#![cfg(feature = "gui")]

use egui::Vec2;
use egui_kittest::kittest::Queryable;
use tributary::components;
use tributary::design::document::Document;
use tributary::model::{Role, Topology};
use tributary::ui::DesignerApp;

mod common;
use common::ui;

const WINDOW: Vec2 = Vec2::new(1400.0, 900.0);

#[test]
fn the_examples_menu_lists_titles_with_a_summary_not_file_names() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = ui::harness(DesignerApp::new(ui::places(dir.path(), true)), WINDOW);
    h.run();
    h.get_by_label("Examples").click();
    h.run();
    let entry = h.get_by_label_contains("Flume two tier");
    assert!(
        h.query_by_label_contains("Two tiers of Flume agents")
            .is_some_and(|summary| summary.rect() == entry.rect()),
        "the entry carries its summary"
    );
    assert!(
        h.query_by_label_contains("flume_two_tier").is_none(),
        "no file names in the menu"
    );
    h.get_by_label_contains("Word count").click();
    h.run();
    assert_eq!(h.state().doc.topology.name, "word-count");
}

#[test]
fn file_menu_entries_show_their_shortcuts() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = ui::harness(DesignerApp::new(ui::places(dir.path(), false)), WINDOW);
    h.run();
    h.get_by_label("File").click();
    h.run();
    for keys in ["Ctrl+N", "Ctrl+O", "Ctrl+S", "Ctrl+Shift+S"] {
        assert!(
            h.query_all_by_label_contains(keys).next().is_some(),
            "the File menu shows {keys}"
        );
    }
}

#[test]
fn one_warning_and_one_node_are_singular() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = Topology::new("t");
    // A lone spout: runnable, but its output goes nowhere (one warning).
    let desc = components::descriptor("sentence_generator").unwrap();
    t.add_node(components::new_node_as(desc, "s", Role::Spout))
        .unwrap();
    let mut app = DesignerApp::new(ui::places(dir.path(), false));
    app.doc = Document::new(t, None, "t".into());
    let mut h = ui::harness(app, WINDOW);
    h.run();
    let warnings = h
        .state()
        .diagnostics()
        .iter()
        .filter(|d| !d.is_error())
        .count();
    let errors = h.state().diagnostics().len() - warnings;
    let title = format!(
        "Problems ({errors} error{}, {warnings} warning{})",
        if errors == 1 { "" } else { "s" },
        if warnings == 1 { "" } else { "s" }
    );
    assert!(h.query_by_label(&title).is_some(), "{title} is shown");
    assert!(h.query_by_label_contains("1 node, 0 edges").is_some());
}

#[test]
fn the_shortcuts_the_menus_show_do_what_they_say() {
    use egui::{Key, Modifiers};
    use tributary::design::commands::Command;
    use tributary::model::Pos;
    use tributary::ui::actions::Action;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.ron");
    let mut t = Topology::new("keys");
    let desc = components::descriptor("sentence_generator").unwrap();
    let mut spout = components::new_node_as(desc, "s", Role::Spout);
    spout.pos = Pos(200.0, 200.0);
    t.add_node(spout).unwrap();
    tributary::format::save_ron(&t, &path).unwrap();

    let mut h = ui::harness(DesignerApp::new(ui::places(dir.path(), false)), WINDOW);
    let ctx = h.ctx.clone();
    h.state_mut()
        .perform(&ctx, Action::Open(Some(path.clone())));
    h.run();
    let moved = Command::Move {
        moves: vec![("s".into(), Pos(400.0, 200.0))],
    };
    h.state_mut().perform(
        &ctx,
        Action::Apply {
            command: moved,
            merge: None,
        },
    );
    h.run();
    assert!(h.state().doc.is_dirty());

    // Ctrl+S saves to the file.
    h.key_press_modifiers(Modifiers::COMMAND, Key::S);
    h.run();
    assert!(!h.state().doc.is_dirty(), "{:?}", h.state().notice);
    let saved = tributary::format::load_ron(&path).unwrap();
    assert_eq!(saved.node_by_name("s").unwrap().pos, Pos(400.0, 200.0));

    // Ctrl+Z undoes, Ctrl+Y redoes.
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run();
    assert_eq!(
        h.state().doc.topology.node_by_name("s").unwrap().pos,
        Pos(200.0, 200.0)
    );
    h.key_press_modifiers(Modifiers::COMMAND, Key::Y);
    h.run();
    assert!(!h.state().doc.is_dirty(), "redo is back at the saved state");

    // F5 runs, Shift+F5 stops.
    h.key_press(Key::F5);
    h.step();
    assert!(h.state().run.is_some(), "F5 runs: {:?}", h.state().notice);
    h.key_press_modifiers(Modifiers::SHIFT, Key::F5);
    h.step();
    assert!(h.state().run.is_none(), "Shift+F5 stops");

    // Ctrl+N starts a new design (nothing unsaved, so no question).
    h.key_press_modifiers(Modifiers::COMMAND, Key::N);
    h.run();
    assert_eq!(h.state().doc.topology.node_count(), 0);
}
