//! The designer driven through its real UI with egui_kittest: palette drags, wiring,
//! grouping drops, refusals, undo/redo and files.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing
#![cfg(feature = "gui")]

use std::path::PathBuf;

use egui::{Modifiers, PointerButton, Pos2, Vec2};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use tributary::components;
use tributary::design::document::Document;
use tributary::model::{DEFAULT_STREAM, Grouping, Role, Topology};
use tributary::ui::DesignerApp;
use tributary::ui::actions::Action;

mod common;
use common::ui;

/// A tall window so the whole palette (including groupings) is on screen.
const WINDOW: Vec2 = Vec2::new(1400.0, 1500.0);

fn harness(app: DesignerApp) -> Harness<'static, DesignerApp> {
    let mut h = ui::harness(app, WINDOW);
    h.run();
    h
}

fn app_with(dir: &tempfile::TempDir, t: Topology) -> DesignerApp {
    let mut app = DesignerApp::new(ui::places(dir.path(), true));
    app.doc = Document::new(t, None, "test".into());
    app
}

fn node(t: &mut Topology, name: &str, component: &str, role: Role, x: f32, y: f32) {
    let desc = components::descriptor(component).expect("component exists");
    let mut n = components::new_node_as(desc, name, role);
    n.pos = tributary::model::Pos(x, y);
    t.add_node(n).expect("unique name");
}

/// Spout `s`, bolts `a` and `b` (split, then logger), not connected.
fn three_nodes() -> Topology {
    let mut t = Topology::new("t");
    node(&mut t, "s", "sentence_generator", Role::Spout, 80.0, 100.0);
    node(&mut t, "a", "split", Role::Bolt, 340.0, 100.0);
    node(&mut t, "b", "count_by_key", Role::Bolt, 600.0, 100.0);
    t
}

fn center(h: &Harness<'_, DesignerApp>, label: &str) -> Pos2 {
    h.get_by_label(label).rect().center()
}

/// A mouse drag in small steps, released without the pointer leaving (as a real
/// mouse would).
fn drag(h: &mut Harness<'_, DesignerApp>, from: Pos2, to: Pos2) {
    h.hover_at(from);
    h.run();
    h.drag_at(from);
    h.run();
    for i in 1..=12 {
        h.hover_at(from.lerp(to, i as f32 / 12.0));
        h.run();
    }
    h.event(egui::Event::PointerButton {
        pos: to,
        button: PointerButton::Primary,
        pressed: false,
        modifiers: Modifiers::NONE,
    });
    h.run();
}

fn edges(t: &Topology) -> Vec<(String, String, Grouping)> {
    let mut e: Vec<_> = t
        .edge_list()
        .into_iter()
        .map(|e| (e.from, e.to, e.grouping))
        .collect();
    e.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    e
}

#[test]
fn dragging_from_the_palette_creates_a_node_where_it_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(DesignerApp::new(ui::places(dir.path(), true)));
    let from = center(&h, "Split");
    let canvas = h.get_by_label("canvas").rect();
    let drop = canvas.center();
    drag(&mut h, from, drop);
    let t = &h.state().doc.topology;
    assert_eq!(t.node_count(), 1, "one node created");
    let n = t.node_by_name("split").expect("named after its component");
    assert_eq!(n.component, "split");
    assert_eq!(n.role, Role::Bolt);
    // The node is centred (to the grid) where it was dropped.
    let node_rect = h.get_by_label("split").rect();
    assert!(
        (node_rect.center() - drop).length() < 25.0,
        "{node_rect:?} vs {drop:?}"
    );
    assert!(
        h.state().selection.contains_node("split"),
        "new node is selected"
    );
}

#[test]
fn connecting_two_nodes_creates_an_edge_with_the_default_grouping() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(app_with(&dir, three_nodes()));
    let from = center(&h, "s output");
    let to = center(&h, "a");
    drag(&mut h, from, to);
    assert_eq!(
        edges(&h.state().doc.topology),
        vec![("s".into(), "a".into(), Grouping::Shuffle)]
    );
    // The edge is on the canvas with its label.
    h.get_by_label("edge s → a: shuffle");
}

#[test]
fn dropping_a_grouping_on_an_edge_sets_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = three_nodes();
    t.connect_names("s", "a", DEFAULT_STREAM, Grouping::Shuffle)
        .unwrap();
    t.connect_names("a", "b", DEFAULT_STREAM, Grouping::Shuffle)
        .unwrap();
    let mut h = harness(app_with(&dir, t));

    let from = center(&h, "all");
    let to = center(&h, "edge s → a: shuffle");
    drag(&mut h, from, to);
    // A fields grouping picks the consumer's key from the upstream's fields.
    let from = center(&h, "fields(…)");
    let to = center(&h, "edge a → b: shuffle");
    drag(&mut h, from, to);

    assert_eq!(
        edges(&h.state().doc.topology),
        vec![
            (
                "a".into(),
                "b".into(),
                Grouping::Fields(vec!["word".into()])
            ),
            ("s".into(), "a".into(), Grouping::All),
        ]
    );
    h.get_by_label("edge a → b: fields(word)");
}

#[test]
fn a_connection_that_would_make_a_cycle_is_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = three_nodes();
    // Not a terminal bolt (a logger has no output port to drag from).
    node(&mut t, "c", "map", Role::Bolt, 600.0, 300.0);
    t.connect_names("a", "b", DEFAULT_STREAM, Grouping::Shuffle)
        .unwrap();
    t.connect_names("b", "c", DEFAULT_STREAM, Grouping::Shuffle)
        .unwrap();
    let mut h = harness(app_with(&dir, t));
    let before = h.state().doc.topology.clone();

    let from = center(&h, "c output");
    let to = center(&h, "a");
    drag(&mut h, from, to);

    assert_eq!(h.state().doc.topology, before, "nothing changed");
    assert!(!h.state().doc.is_dirty());
    let notice = h.state().notice.clone().expect("the user is told why");
    assert!(
        notice.is_error && notice.text.contains("cycle"),
        "{notice:?}"
    );

    // A role rule is refused the same way: nothing flows into a spout.
    let from = center(&h, "a output");
    let to = center(&h, "s");
    drag(&mut h, from, to);
    assert_eq!(h.state().doc.topology, before);
    let notice = h.state().notice.clone().expect("reason shown");
    assert!(notice.text.contains("spout"), "{notice:?}");
}

#[test]
fn undo_and_redo_restore_every_state_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(app_with(&dir, three_nodes()));
    let mut states = vec![h.state().doc.topology.clone()];

    // 1: connect s → a
    let (from, to) = (center(&h, "s output"), center(&h, "a"));
    drag(&mut h, from, to);
    states.push(h.state().doc.topology.clone());
    // 2: move b down
    let b = center(&h, "b");
    drag(&mut h, b, b + Vec2::new(0.0, 120.0));
    states.push(h.state().doc.topology.clone());
    // 3: add a node from the palette
    let (from, to) = (
        center(&h, "Logger"),
        center(&h, "b") + Vec2::new(0.0, 160.0),
    );
    drag(&mut h, from, to);
    states.push(h.state().doc.topology.clone());
    // 4: delete node a (and its edge) with the Delete key
    h.get_by_label("a").click();
    h.run();
    h.key_press(egui::Key::Delete);
    h.run();
    states.push(h.state().doc.topology.clone());
    for pair in states.windows(2) {
        assert_ne!(pair[0], pair[1], "each step changed something");
    }

    for expected in states.iter().rev().skip(1) {
        h.key_press_modifiers(Modifiers::COMMAND, egui::Key::Z);
        h.run();
        assert_eq!(&h.state().doc.topology, expected);
    }
    for expected in states.iter().skip(1) {
        h.key_press_modifiers(Modifiers::COMMAND, egui::Key::Y);
        h.run();
        assert_eq!(&h.state().doc.topology, expected);
    }
}

#[test]
fn save_then_open_round_trips_and_a_broken_file_keeps_the_current_work() {
    let dir = tempfile::tempdir().unwrap();
    let example = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("topologies/word_count.ron");
    let mut h = harness(DesignerApp::new(ui::places(dir.path(), true)));
    let ctx = h.ctx.clone();
    h.state_mut().perform(&ctx, Action::OpenExample(example));
    h.run();
    assert_eq!(h.state().doc.topology.node_count(), 4);
    assert!(
        h.state().doc.path.is_none(),
        "examples open as untitled copies"
    );

    // Edit through the UI so the saved file has something of ours in it.
    let b = center(&h, "count");
    drag(&mut h, b, b + Vec2::new(0.0, 100.0));
    assert!(h.state().doc.is_dirty());
    assert!(
        h.state().doc.title().contains('•'),
        "dirty marker in the title"
    );

    let file = dir.path().join("mine.ron");
    h.state_mut()
        .perform(&ctx, Action::SaveAs(Some(file.clone())));
    h.run();
    assert!(!h.state().doc.is_dirty());
    assert!(h.state().doc.title().starts_with("mine.ron"));
    let saved = h.state().doc.topology.clone();

    let mut other = harness(DesignerApp::new(ui::places(dir.path(), true)));
    let ctx2 = other.ctx.clone();
    other
        .state_mut()
        .perform(&ctx2, Action::Open(Some(file.clone())));
    other.run();
    assert_eq!(other.state().doc.topology, saved);
    assert_eq!(other.state().doc.path.as_deref(), Some(file.as_path()));
    assert!(
        other
            .state()
            .places
            .recent()
            .iter()
            .any(|p| p.ends_with("mine.ron")),
        "remembered as recent"
    );

    // A broken file: the error names line and column, and the open design stays.
    let broken = dir.path().join("broken.ron");
    std::fs::write(
        &broken,
        "(\n  version: 1,\n  name: \"x\",\n  nodes: [ (name: ) ],\n)\n",
    )
    .unwrap();
    other.state_mut().perform(&ctx2, Action::Open(Some(broken)));
    other.run();
    let error = other.state().open_error.clone().expect("error shown");
    assert!(error.contains("broken.ron:4:"), "{error}");
    assert_eq!(other.state().doc.topology, saved);
    other.get_by_label("OK").click();
    other.run();
    assert!(other.state().open_error.is_none());
}

#[test]
fn opening_with_unsaved_changes_asks_first() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(app_with(&dir, three_nodes()));
    let b = center(&h, "b");
    drag(&mut h, b, b + Vec2::new(0.0, 60.0));
    let edited = h.state().doc.topology.clone();
    let ctx = h.ctx.clone();
    h.state_mut().perform(&ctx, Action::New);
    h.run();
    assert!(h.state().pending.is_some(), "asked before discarding");
    h.get_by_label("Cancel").click();
    h.run();
    assert_eq!(h.state().doc.topology, edited);
    h.state_mut().perform(&ctx, Action::New);
    h.run();
    h.get_by_label("Don't save").click();
    h.run();
    assert_eq!(h.state().doc.topology.node_count(), 0);
}

#[test]
fn import_and_export_go_through_the_file_menu_actions() {
    let dir = tempfile::tempdir().unwrap();
    let example = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("topologies/word_count.ron");
    let mut h = harness(DesignerApp::new(ui::places(dir.path(), true)));
    let ctx = h.ctx.clone();
    h.state_mut().perform(&ctx, Action::OpenExample(example));
    h.run();
    // Built-ins have no Storm class: the user is told which nodes, and nothing is written.
    let flux = dir.path().join("wc.yaml");
    h.state_mut().perform(
        &ctx,
        Action::Export(tributary::format::ExportTarget::Flux, Some(flux.clone())),
    );
    h.run();
    assert!(!flux.exists());
    let notice = h.state().notice.clone().expect("told why");
    assert!(
        notice.is_error && notice.text.contains("sentences"),
        "{notice:?}"
    );
    let dot = dir.path().join("wc.dot");
    h.state_mut().perform(
        &ctx,
        Action::Export(tributary::format::ExportTarget::Dot, Some(dot.clone())),
    );
    h.run();
    assert!(std::fs::read_to_string(&dot).unwrap().contains("digraph"));

    let svg = dir.path().join("wc.svg");
    h.state_mut().perform(
        &ctx,
        Action::Export(tributary::format::ExportTarget::Svg, Some(svg.clone())),
    );
    h.run();
    assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"));

    // PNG: the screenshot arrives a frame or two later; the harness renders it.
    let png = dir.path().join("wc.png");
    h.state_mut()
        .perform(&ctx, Action::ExportPng(Some(png.clone())));
    for _ in 0..4 {
        h.run();
    }
    assert!(h.state().image_export.is_none(), "export finished");
    let notice = h.state().notice.clone().expect("told the result");
    assert!(!notice.is_error, "{notice:?}");
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");

    let yaml = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/conformance/flux/examples__simple_wordcount.yaml");
    h.state_mut().perform(&ctx, Action::Import(Some(yaml)));
    h.run();
    assert!(h.state().open_error.is_none(), "{:?}", h.state().open_error);
    assert!(h.state().doc.topology.node_count() >= 2);
    assert!(h.state().doc.title().contains("(imported)"));
}

#[test]
fn copy_paste_duplicates_nodes_and_their_edges_under_fresh_names() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = three_nodes();
    t.connect_names("s", "a", DEFAULT_STREAM, Grouping::Shuffle)
        .unwrap();
    let mut h = harness(app_with(&dir, t));
    // Box-select s and a with Shift+drag on empty canvas.
    let (s, a) = (h.get_by_label("s").rect(), h.get_by_label("a").rect());
    let start = s.left_top() - Vec2::new(20.0, 20.0);
    let end = a.right_bottom() + Vec2::new(20.0, 20.0);
    h.event_modifiers(egui::Event::PointerMoved(start), Modifiers::SHIFT);
    h.run();
    h.event(egui::Event::PointerButton {
        pos: start,
        button: PointerButton::Primary,
        pressed: true,
        modifiers: Modifiers::SHIFT,
    });
    h.run();
    for i in 1..=10 {
        h.event_modifiers(
            egui::Event::PointerMoved(start.lerp(end, i as f32 / 10.0)),
            Modifiers::SHIFT,
        );
        h.run();
    }
    h.event(egui::Event::PointerButton {
        pos: end,
        button: PointerButton::Primary,
        pressed: false,
        modifiers: Modifiers::SHIFT,
    });
    h.run();
    let selected: Vec<String> = h.state().selection.nodes.iter().cloned().collect();
    assert_eq!(selected, ["a", "s"]);

    h.event(egui::Event::Copy);
    h.run();
    let text = h
        .state()
        .clipboard_text()
        .expect("copied as RON")
        .to_string();
    h.event(egui::Event::Paste(text));
    h.run();
    let t = &h.state().doc.topology;
    assert_eq!(t.node_count(), 5);
    assert!(t.node_by_name("s-2").is_some() && t.node_by_name("a-2").is_some());
    assert!(edges(t).contains(&("s-2".into(), "a-2".into(), Grouping::Shuffle)));
    // One undo step removes the whole paste.
    h.key_press_modifiers(Modifiers::COMMAND, egui::Key::Z);
    h.run();
    assert_eq!(h.state().doc.topology.node_count(), 3);
}
