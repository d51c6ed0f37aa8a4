//! The designer's layout holding up: examples open with every node in view, editing
//! (Auto layout and its `L` key included) stays locked while a run is on, and the
//! window still works at 800 × 600 with Stop reachable. In its own test binary because
//! two tests start a run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing
#![cfg(feature = "gui")]

use std::collections::BTreeMap;
use std::path::PathBuf;

use egui::{Key, Modifiers, PointerButton, Pos2, Rect, Vec2};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use tributary::components;
use tributary::model::{DEFAULT_STREAM, Grouping, Pos, Role, Topology, Value};
use tributary::ui::DesignerApp;
use tributary::ui::actions::Action;

mod common;
use common::ui;

/// The designer's default window size (`ui::run_app`).
const WINDOW: Vec2 = Vec2::new(1400.0, 860.0);

fn example(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("topologies")
        .join(name)
}

#[test]
fn examples_that_are_wider_than_the_canvas_open_fitted() {
    for name in [
        "flume_fanout_failover.ron",
        "flume_two_tier.ron",
        "mixed_pipeline.ron",
        "spark_windowed_top_words.ron",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut h = ui::harness(DesignerApp::new(ui::places(dir.path(), true)), WINDOW);
        let ctx = h.ctx.clone();
        h.state_mut()
            .perform(&ctx, Action::OpenExample(example(name)));
        h.run();
        let canvas = h.get_by_label("canvas").rect();
        let names: Vec<String> = h
            .state()
            .doc
            .topology
            .nodes()
            .map(|n| n.name.clone())
            .collect();
        assert!(!names.is_empty());
        for node in names {
            let r = h.get_by_label(&node).rect();
            assert!(
                canvas.contains_rect(r),
                "{name}: {node} at {r:?} is outside the canvas {canvas:?}"
            );
        }
    }
}

/// A spout feeding a split, slow enough to watch, saved in `dir`.
fn small_design(dir: &std::path::Path) -> PathBuf {
    let mut t = Topology::new("small");
    for (name, id, role, x) in [
        ("sentences", "sentence_generator", Role::Spout, 80.0),
        ("words", "split", Role::Bolt, 320.0),
    ] {
        let mut n = components::new_node_as(components::descriptor(id).unwrap(), name, role);
        n.pos = Pos(x, 300.0);
        t.add_node(n).unwrap();
    }
    t.node_by_name_mut("sentences")
        .unwrap()
        .config
        .insert("rate_per_sec".into(), Value::Float(20.0));
    t.connect_names("sentences", "words", DEFAULT_STREAM, Grouping::Shuffle)
        .unwrap();
    let path = dir.join("small.ron");
    tributary::format::save_ron(&t, &path).unwrap();
    path
}

fn open_and_run(h: &mut Harness<'_, DesignerApp>, path: PathBuf) {
    let ctx = h.ctx.clone();
    h.state_mut().perform(&ctx, Action::Open(Some(path)));
    h.step();
    h.state_mut().perform(&ctx, Action::Run);
    h.step();
    assert!(h.state().run.is_some(), "{:?}", h.state().notice);
    h.step();
}

fn positions(h: &Harness<'_, DesignerApp>) -> BTreeMap<String, Pos> {
    h.state()
        .doc
        .topology
        .nodes()
        .map(|n| (n.name.clone(), n.pos))
        .collect()
}

#[test]
fn auto_layout_and_its_key_are_locked_while_a_run_is_on() {
    let dir = tempfile::tempdir().unwrap();
    let path = small_design(dir.path());
    let mut h = ui::harness(DesignerApp::new(ui::places(dir.path(), false)), WINDOW);
    h.run();
    open_and_run(&mut h, path);
    let before = positions(&h);
    assert!(
        h.get_by_label("Auto-layout").accesskit_node().is_disabled(),
        "the button is greyed out during a run"
    );

    // The key: the canvas has the pointer, nothing has the keyboard.
    let canvas = h.get_by_label("canvas").rect();
    h.hover_at(canvas.center());
    h.step();
    h.key_press_modifiers(Modifiers::NONE, Key::L);
    h.step();
    h.step();
    assert_eq!(positions(&h), before, "L moved no node during the run");
    assert!(!h.state().doc.is_dirty(), "the file is not marked modified");

    h.get_by_label("⏹ Stop").click();
    h.step();
    assert!(h.state().run.is_none());
    h.step();
    assert!(!h.get_by_label("Auto-layout").accesskit_node().is_disabled());
    h.key_press_modifiers(Modifiers::NONE, Key::L);
    h.step();
    assert_ne!(positions(&h), before, "after Stop, L lays the design out");
}

/// A click as a mouse makes it, at a point on screen: whatever is drawn on top there
/// gets it.
fn click_at(h: &mut Harness<'_, DesignerApp>, pos: Pos2) {
    h.hover_at(pos);
    h.step();
    for pressed in [true, false] {
        h.event(egui::Event::PointerButton {
            pos,
            button: PointerButton::Primary,
            pressed,
            modifiers: Modifiers::NONE,
        });
        h.step();
    }
}

#[test]
fn at_800_by_600_the_toolbar_wraps_and_stop_is_visible_and_clickable() {
    let dir = tempfile::tempdir().unwrap();
    let path = small_design(dir.path());
    let window = Vec2::new(800.0, 600.0);
    let mut h = ui::harness(DesignerApp::new(ui::places(dir.path(), false)), window);
    h.run();
    open_and_run(&mut h, path);
    let stop = h.get_by_label("⏹ Stop").rect();
    assert!(
        Rect::from_min_size(Pos2::ZERO, window).contains_rect(stop),
        "Stop at {stop:?} is inside the window"
    );
    // Nothing else of the toolbar overlaps it (the theme buttons used to; they live in
    // the View menu now).
    for other in ["⏸ Pause", "Auto-layout", "Fit", "Examples", "File", "View"] {
        let r = h.get_by_label(other).rect();
        assert!(!r.intersects(stop), "{other} at {r:?} overlaps Stop");
    }
    click_at(&mut h, stop.center());
    assert!(h.state().run.is_none(), "a click on Stop stopped the run");
}

/// Shows or hides a side panel the way a user does: View, then the panel's checkbox.
fn toggle_panel(h: &mut Harness<'_, DesignerApp>, name: &str) {
    h.get_by_label("View").click();
    h.run();
    h.get_by_role_and_label(egui::accesskit::Role::CheckBox, name)
        .click();
    h.run();
    // Close the menu, as a click elsewhere would.
    h.key_press(egui::Key::Escape);
    h.run();
}

#[test]
fn side_panels_fold_in_a_narrow_window_and_the_view_menu_brings_them_back() {
    let dir = tempfile::tempdir().unwrap();
    let narrow = Vec2::new(800.0, 600.0);
    let mut h = ui::harness(DesignerApp::new(ui::places(dir.path(), false)), narrow);
    h.run();
    // At 800 points the canvas gets the width; the panels are one click away.
    let palette_shown =
        |h: &Harness<'_, DesignerApp>| h.query_by_label("Drag onto the canvas").is_some();
    let inspector_shown =
        |h: &Harness<'_, DesignerApp>| h.query_by_label("Message timeout (s)").is_some();
    assert!(!palette_shown(&h) && !inspector_shown(&h));
    let folded = h.get_by_label("canvas").rect();
    assert!(folded.width() > 700.0, "canvas {folded:?}");

    toggle_panel(&mut h, "Palette");
    assert!(palette_shown(&h));
    assert!(!inspector_shown(&h), "the other panel stays folded");
    let with_palette = h.get_by_label("canvas").rect();
    assert!(with_palette.width() < folded.width() - 100.0);
    toggle_panel(&mut h, "Inspector");
    assert!(inspector_shown(&h));
    toggle_panel(&mut h, "Palette");
    assert!(!palette_shown(&h), "folded again");

    // A wide window shows both from the start.
    let mut h = ui::harness(
        DesignerApp::new(ui::places(dir.path(), false)),
        Vec2::new(1400.0, 900.0),
    );
    h.run();
    assert!(palette_shown(&h) && inspector_shown(&h));
}

#[test]
fn the_view_menu_switches_the_theme() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = ui::harness(
        DesignerApp::new(ui::places(dir.path(), false)),
        Vec2::new(1400.0, 900.0),
    );
    h.run();
    for (label, theme) in [
        ("Light theme", egui::Theme::Light),
        ("Dark theme", egui::Theme::Dark),
    ] {
        h.get_by_label("View").click();
        h.run();
        h.get_by_label(label).click();
        h.run();
        assert_eq!(h.ctx.theme(), theme, "{label}");
        h.key_press(egui::Key::Escape);
        h.run();
    }
}
