//! A run a learner can watch and read: spouts dropped from the palette start at a human
//! rate, the toolbar's speed control caps every spout live, and the canvas says what
//! its marks mean (a stalled spout, the restart badge); a Flume-only design offers no
//! Kill worker.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing
#![cfg(feature = "gui")]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use egui::Vec2;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use tributary::components::WATCHABLE_RATE_PER_SEC;
use tributary::design::document::Document;
use tributary::design::selection::Selection;
use tributary::model::{Grouping, Node, Pos, Role, StreamDecl, Topology, Value};
use tributary::ui::DesignerApp;
use tributary::ui::actions::Action;
use tributary::ui::canvas::overlay::{NodeStats, RunOverlay};
use tributary::ui::canvas::{Canvas, CanvasInput};
use tributary::ui::speed::Speed;

mod common;
use common::ui;

#[test]
fn a_spout_added_from_the_palette_starts_at_a_watchable_rate() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = ui::harness(
        DesignerApp::new(ui::places(dir.path(), true)),
        Vec2::new(1400.0, 1500.0),
    );
    h.run();
    h.get_by_label("Sentence generator").click();
    h.run();
    let t = &h.state().doc.topology;
    let spout = t
        .node_by_name("sentence_generator")
        .expect("a spout was added");
    assert_eq!(
        spout.config.get("rate_per_sec"),
        Some(&Value::Float(WATCHABLE_RATE_PER_SEC))
    );
}

#[test]
fn choosing_slow_caps_the_running_spouts_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = ui::harness(
        DesignerApp::new(ui::places(dir.path(), true)),
        Vec2::new(1400.0, 1000.0),
    );
    let ctx = h.ctx.clone();
    let example = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("topologies/word_count.ron");
    h.state_mut().perform(&ctx, Action::OpenExample(example));
    h.step();
    assert!(
        h.query_by_label("Slow").is_none(),
        "no speed control before a run"
    );
    h.get_by_label("▶ Run").click();
    h.step();
    assert!(h.state().run.is_some(), "{:?}", h.state().notice);
    h.step();
    assert_eq!(h.state().run.as_ref().unwrap().speed(), Speed::Full);

    h.get_by_label("Slow").click();
    h.step();
    assert_eq!(h.state().run.as_ref().unwrap().speed(), Speed::Slow);
    assert!(
        h.state()
            .log
            .events()
            .any(|l| l.starts_with("speed: slow") && l.contains("1 tuple(s) a second")),
        "no speed line in the log"
    );
    h.get_by_label("⏹ Stop").click();
    h.step();
}

/// The canvas alone, with `overlay` as the live numbers of a run, drawing one spout.
fn canvas_with(overlay: RunOverlay) -> Harness<'static, Canvas> {
    let mut spout = Node::new("s", Role::Spout, "sentence_generator");
    spout.pos = Pos(200.0, 160.0);
    canvas_of(spout, Some(overlay))
}

/// The canvas alone, drawing `node`, with `overlay` as a run's live numbers if any.
fn canvas_of(node: Node, overlay: Option<RunOverlay>) -> Harness<'static, Canvas> {
    let mut t = Topology::new("t");
    t.add_node(node).unwrap();
    let selection = Selection::default();
    let problems = BTreeMap::new();
    let mut h = Harness::builder()
        .with_size(Vec2::new(900.0, 400.0))
        .build_ui_state(
            move |ui, canvas: &mut Canvas| {
                let input = CanvasInput {
                    topology: &t,
                    selection: &selection,
                    problems: &problems,
                    overlay: overlay.as_ref(),
                    tuples: None,
                };
                canvas.canvas_ui(ui, &input);
            },
            Canvas::default(),
        );
    h.run();
    h
}

#[test]
fn a_stalled_spout_says_why_and_the_restart_badge_explains_itself() {
    let stats = NodeStats {
        restarts: 3,
        stalled: Some("1000/1000 pending — waiting for acks or timeouts".into()),
        ..NodeStats::default()
    };
    let overlay = RunOverlay {
        nodes: BTreeMap::from([("s".to_string(), stats)]),
        state: "running".into(),
        ..RunOverlay::default()
    };
    let mut h = canvas_with(overlay);
    assert!(
        h.query_by_label("1000/1000 pending — waiting for acks or timeouts")
            .is_some()
    );
    assert!(
        h.query_by_label_contains("supervisor started it again")
            .is_none()
    );
    h.get_by_label("⟳3").hover();
    // Past the tooltip delay.
    h.run_steps(4);
    assert!(
        h.query_by_label_contains("Restarted 3 times: a task crashed")
            .is_some(),
        "no tooltip on the restart badge"
    );

    let h = canvas_with(RunOverlay {
        nodes: BTreeMap::from([("s".to_string(), NodeStats::default())]),
        ..RunOverlay::default()
    });
    assert!(h.query_by_label_contains("pending —").is_none());
    assert!(h.query_by_label_contains("⟳").is_none());
}

/// One Flume agent: a slow source into a channel drained by a null sink.
fn flume_only() -> Topology {
    let mut t = Topology::new("flume-only");
    let mut nodes = vec![
        Node::new("gen", Role::Source, "sequence")
            .with_config("rate_per_sec", 5.0)
            .with_output(StreamDecl::default_stream(&["n"])),
        Node::new("ch", Role::Channel, "memory"),
        Node::new("out", Role::Sink, "null"),
    ];
    for (i, n) in nodes.iter_mut().enumerate() {
        n.pos = Pos(80.0 + 240.0 * i as f32, 160.0);
    }
    for n in nodes {
        t.add_node(n).unwrap();
    }
    t.connect_names("gen", "ch", "default", Grouping::Required)
        .unwrap();
    t.connect_names("ch", "out", "default", Grouping::Drain)
        .unwrap();
    t
}

#[test]
fn a_flume_only_design_offers_no_kill_worker() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = DesignerApp::new(ui::places(dir.path(), true));
    app.doc = Document::new(
        flume_only(),
        Some(dir.path().join("flume.ron")),
        "flume".into(),
    );
    let mut h = ui::harness(app, Vec2::new(1400.0, 1000.0));
    h.run();
    h.get_by_label("▶ Run").click();
    h.step();
    assert!(h.state().run.is_some(), "{:?}", h.state().notice);
    // Wait for the first numbers, so the live inspector is drawn from a real snapshot.
    let deadline = Instant::now() + Duration::from_secs(30);
    while h
        .state()
        .run
        .as_ref()
        .is_some_and(|r| r.snapshot().nodes.is_empty())
    {
        assert!(Instant::now() < deadline, "no numbers");
        std::thread::sleep(Duration::from_millis(50));
        h.step();
    }
    for _ in 0..3 {
        std::thread::sleep(Duration::from_millis(110));
        h.step();
    }
    assert!(h.query_by_label("Kill worker").is_none());
    h.get_by_label("⏹ Stop").click();
    h.step();
}

#[test]
fn a_long_node_name_is_cut_in_the_node_and_whole_on_hover() {
    let long = "parse-and-enrich-every-incoming-click-event-with-geo";
    let mut bolt = Node::new(long, Role::Bolt, "map");
    bolt.pos = Pos(200.0, 160.0);
    let mut h = canvas_of(bolt, None);
    let tooltip = format!("{long} (map)");
    assert!(h.query_by_label_contains(&tooltip).is_none());
    h.get_by_label(long).hover();
    h.run_steps(4);
    assert!(
        h.query_by_label_contains(&tooltip).is_some(),
        "the hover text names the node in full"
    );
}
