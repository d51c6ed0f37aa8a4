//! Flume agents on the canvas, driven through the real designer: every agent is a
//! labelled frame (a click on its label selects its nodes), sink groups and avro hops
//! are labelled, and during a run a full channel shows its fill and blocks its source.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing
#![cfg(feature = "gui")]

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use egui::Vec2;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use tributary::design::document::Document;
use tributary::model::{Grouping, Node, Pos, Role, StreamDecl, Topology};
use tributary::runtime::{Control, FaultSpec};
use tributary::ui::DesignerApp;
use tributary::ui::actions::Action;

mod common;
use common::ui;

/// Steps of the run loop before giving up; each sleeps a little so the engine moves.
/// Generous: the bound only turns a hang into a failure.
const MAX_STEPS: usize = 600;

fn harness(app: DesignerApp) -> Harness<'static, DesignerApp> {
    let mut h = ui::harness(app, Vec2::new(1600.0, 1000.0));
    h.run();
    h
}

fn open_example(dir: &tempfile::TempDir, file: &str) -> Harness<'static, DesignerApp> {
    let mut h = harness(DesignerApp::new(ui::places(dir.path(), true)));
    let ctx = h.ctx.clone();
    let example = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("topologies")
        .join(file);
    h.state_mut().perform(&ctx, Action::OpenExample(example));
    h.run();
    h
}

#[test]
fn every_agent_of_an_example_has_a_labelled_frame_and_its_label_selects_its_nodes() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = open_example(&dir, "flume_fanout_failover.ron");
    h.get_by_label("agent ops");
    h.get_by_label("sink group alerting: failover");
    h.get_by_label("hop pager → ops-in: avro :4545");

    h.get_by_label("agent web").click();
    h.run();
    let web: BTreeSet<String> = h
        .state()
        .doc
        .topology
        .nodes()
        .filter(|n| n.agent.as_deref() == Some("web"))
        .map(|n| n.name.clone())
        .collect();
    assert_eq!(web.len(), 7);
    assert_eq!(h.state().selection.nodes, web);
    assert!(h.state().selection.edge.is_none());

    let dir = tempfile::tempdir().unwrap();
    let h = open_example(&dir, "flume_two_tier.ron");
    h.get_by_label("agent edge");
    h.get_by_label("agent collector");
    h.get_by_label("hop forward → incoming: avro :4646");
}

/// One agent, `tier1`: an endless source into a 5-slot channel drained by a null sink.
fn small_agent() -> Topology {
    let mut t = Topology::new("small-agent");
    let mut nodes = vec![
        Node::new("gen", Role::Source, "sequence")
            .with_config("limit", 0)
            .with_config("rate_per_sec", 0)
            .with_output(StreamDecl::default_stream(&["n"])),
        Node::new("small", Role::Channel, "memory")
            .with_config("capacity", 5)
            .with_config("keep-alive", 0),
        Node::new("out", Role::Sink, "null"),
    ];
    for (i, n) in nodes.iter_mut().enumerate() {
        n.agent = Some("tier1".into());
        n.pos = Pos(80.0 + 240.0 * i as f32, 160.0);
    }
    for n in nodes {
        t.add_node(n).unwrap();
    }
    t.connect_names("gen", "small", "default", Grouping::Required)
        .unwrap();
    t.connect_names("small", "out", "default", Grouping::Drain)
        .unwrap();
    t
}

fn label_containing(h: &Harness<'_, DesignerApp>, part: &str) -> Option<String> {
    h.query_by_label_contains(part)
        .and_then(|n| n.accesskit_node().label())
}

/// A sink's status (`sink out: 0 delivered, 3 failed, …`) counts at least one failure.
fn has_failures(label: &str) -> bool {
    label
        .split(", ")
        .filter_map(|part| part.strip_suffix(" failed"))
        .any(|n| n.parse::<u64>().is_ok_and(|n| n > 0))
}

#[test]
fn a_running_channel_shows_its_fill_and_a_full_one_blocks_its_source() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = DesignerApp::new(ui::places(dir.path(), true));
    app.doc = Document::new(
        small_agent(),
        Some(dir.path().join("small.ron")),
        "small".into(),
    );
    let mut h = harness(app);
    h.get_by_label("agent tier1");
    assert!(label_containing(&h, "channel small:").is_none(), "idle");

    h.get_by_label("▶ Run").click();
    h.step();
    assert!(h.state().run.is_some(), "{:?}", h.state().notice);

    // First the channel's live numbers appear with the capacity.
    let mut seen = None;
    for _ in 0..MAX_STEPS {
        std::thread::sleep(Duration::from_millis(50));
        h.step();
        seen = label_containing(&h, "channel small:");
        if seen.as_deref().is_some_and(|l| l.contains("/5")) {
            break;
        }
    }
    let label = seen.unwrap_or_else(|| {
        let overlay = h.state().run.as_ref().map(|r| r.overlay());
        panic!("no live status on the channel; overlay: {overlay:#?}")
    });
    assert!(
        label.contains("in flight") && label.contains("rollbacks"),
        "{label}"
    );

    // The sink fails every delivery: the channel fills up and pushes back on the source.
    if let Some(run) = &h.state().run {
        run.control(Control::SetFaults {
            node: "out".into(),
            faults: FaultSpec {
                fail_probability: 1.0,
                ..FaultSpec::default()
            },
        });
    }
    let mut full = false;
    for _ in 0..MAX_STEPS {
        std::thread::sleep(Duration::from_millis(50));
        h.step();
        let channel = label_containing(&h, "channel small:").unwrap_or_default();
        let source = label_containing(&h, "source gen:").unwrap_or_default();
        if channel.contains("5/5 full") && source.contains("blocked") {
            full = true;
            break;
        }
    }
    assert!(
        full,
        "channel: {:?}, source: {:?}",
        label_containing(&h, "channel small:"),
        label_containing(&h, "source gen:")
    );
    // The failing sink says how many deliveries failed, and the inspector shows the agent.
    for _ in 0..MAX_STEPS {
        if label_containing(&h, "sink out:").is_some_and(|l| has_failures(&l)) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
        h.step();
    }
    assert!(
        label_containing(&h, "sink out:").is_some_and(|l| has_failures(&l)),
        "{:?}",
        label_containing(&h, "sink out:")
    );
    h.get_by_label("small").click();
    h.step();
    h.step();
    h.get_by_label("Flume · agent tier1");
    assert!(
        h.query_by_label_contains("Tasks (").is_none() && h.query_by_label("replayed").is_none(),
        "a Flume node shows no Storm task numbers"
    );

    h.get_by_label("⏹ Stop").click();
    h.step();
    h.step();
    assert!(h.state().run.is_none());
    assert!(label_containing(&h, "channel small:").is_none(), "stopped");
}
