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
