//! State that stays true, driven through the designer: New, Open and Import start with an
//! empty run log and status line; undoing back to the saved state clears the `•`; Open
//! during a run asks first; Run is off for an empty design; a Flume file with several
//! agents offers a choice of agent.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing
#![cfg(feature = "gui")]

use std::path::PathBuf;

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use tributary::design::commands::Command;
use tributary::model::Pos;
use tributary::ui::DesignerApp;
use tributary::ui::actions::Action;
use tributary::ui::asks::Ask;

mod common;
use common::ui;
use common::ui::perform;

fn harness(dir: &tempfile::TempDir) -> Harness<'static, DesignerApp> {
    ui::designer(dir.path())
}

fn example(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("topologies")
        .join(name)
}

/// Two Flume agents, each a netcat source, a memory channel and a logger sink.
const TWO_AGENTS: &str = "\
edge.sources = in
edge.channels = c
edge.sinks = out
edge.sources.in.type = netcat
edge.sources.in.bind = 127.0.0.1
edge.sources.in.port = 7070
edge.sources.in.channels = c
edge.channels.c.type = memory
edge.sinks.out.type = logger
edge.sinks.out.channel = c
hub.sources = in
hub.channels = c
hub.sinks = out
hub.sources.in.type = netcat
hub.sources.in.bind = 127.0.0.1
hub.sources.in.port = 7071
hub.sources.in.channels = c
hub.channels.c.type = memory
hub.sinks.out.type = logger
hub.sinks.out.channel = c
";

#[test]
fn new_open_and_import_clear_the_run_log_and_the_status_text() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(&dir);
    let saved = dir.path().join("wc.ron");
    std::fs::copy(example("word_count.ron"), &saved).unwrap();
    let flume = dir.path().join("two.properties");
    std::fs::write(&flume, TWO_AGENTS).unwrap();

    let old_run = |h: &mut Harness<'static, DesignerApp>| {
        let app = h.state_mut();
        app.log.push("run stopped after 3.0s; 1000 tuples executed");
        app.notify("Run stopped");
    };
    let cleared = |h: &Harness<'static, DesignerApp>| {
        let app = h.state();
        assert!(app.log.is_empty(), "{:?}", app.log);
        assert!(
            app.notice
                .as_ref()
                .is_none_or(|n| !n.text.contains("Run stopped")),
            "{:?}",
            app.notice
        );
    };

    perform(&mut h, Action::Open(Some(saved.clone())));
    old_run(&mut h);
    perform(&mut h, Action::New);
    cleared(&h);

    old_run(&mut h);
    perform(&mut h, Action::Open(Some(saved)));
    cleared(&h);
    assert_eq!(h.state().doc.topology.node_count(), 4);

    old_run(&mut h);
    perform(&mut h, Action::Import(Some(flume)));
    h.get_by_label("All agents").click();
    h.run();
    cleared(&h);
    assert_eq!(h.state().doc.topology.node_count(), 6);
}

#[test]
fn undoing_back_to_the_saved_state_clears_the_dirty_marker() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(&dir);
    let saved = dir.path().join("wc.ron");
    std::fs::copy(example("word_count.ron"), &saved).unwrap();
    perform(&mut h, Action::Open(Some(saved)));
    assert!(!h.state().doc.title().contains('•'));

    perform(
        &mut h,
        Action::apply(Command::Move {
            moves: vec![("count".into(), Pos(600.0, 400.0))],
        }),
    );
    assert!(h.state().doc.title().contains('•'));
    h.get_by_label("⟲ Undo").click();
    h.run();
    assert!(
        !h.state().doc.title().contains('•'),
        "{}",
        h.state().doc.title()
    );
    h.get_by_label("⟳ Redo").click();
    h.run();
    assert!(h.state().doc.title().contains('•'));
}

#[test]
fn opening_during_a_run_asks_before_stopping_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(&dir);
    let other = dir.path().join("diamond.ron");
    std::fs::copy(example("diamond.ron"), &other).unwrap();
    perform(&mut h, Action::OpenExample(example("word_count.ron")));
    h.get_by_label("▶ Run").click();
    h.run();
    assert!(h.state().run.is_some(), "{:?}", h.state().notice);
    let running = h.state().doc.topology.clone();

    perform(&mut h, Action::Open(Some(other.clone())));
    assert!(matches!(h.state().ask, Some(Ask::StopRunFirst(_))));
    assert!(h.state().run.is_some(), "nothing stops before the answer");
    h.get_by_label("Keep running").click();
    h.run();
    assert!(h.state().run.is_some());
    assert!(h.state().ask.is_none());
    assert_eq!(h.state().doc.topology, running);

    perform(&mut h, Action::Open(Some(other.clone())));
    h.get_by_label("Stop the run and continue").click();
    h.run();
    assert!(h.state().run.is_none());
    assert_eq!(h.state().doc.path.as_deref(), Some(other.as_path()));
}

#[test]
fn run_is_off_for_an_empty_design() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(&dir);
    assert_eq!(h.state().doc.topology.node_count(), 0);
    assert!(h.get_by_label("▶ Run").accesskit_node().is_disabled());
    // F5 (or any other way to ask) starts nothing and says why.
    perform(&mut h, Action::Run);
    assert!(h.state().run.is_none());
    let notice = h.state().notice.clone().expect("told why");
    assert!(
        notice.is_error && notice.text.contains("Nothing to run"),
        "{notice:?}"
    );

    perform(&mut h, Action::OpenExample(example("word_count.ron")));
    assert!(!h.get_by_label("▶ Run").accesskit_node().is_disabled());
}

#[test]
fn importing_several_flume_agents_offers_a_choice_of_agent() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(&dir);
    let flume = dir.path().join("two.properties");
    std::fs::write(&flume, TWO_AGENTS).unwrap();

    perform(&mut h, Action::Import(Some(flume.clone())));
    let Some(Ask::PickAgent { agents, .. }) = h.state().ask.clone() else {
        panic!("no choice offered: {:?}", h.state().ask);
    };
    assert_eq!(agents, ["edge", "hub"]);
    assert_eq!(
        h.state().doc.topology.node_count(),
        0,
        "nothing imported yet"
    );
    h.get_by_label("hub").click();
    h.run();
    let t = &h.state().doc.topology;
    assert_eq!(t.node_count(), 3);
    assert!(
        t.nodes().all(|n| n.agent.as_deref() == Some("hub")),
        "{t:?}"
    );

    // Cancel imports nothing. (An import is unsaved work: that question comes first.)
    perform(&mut h, Action::Import(Some(flume)));
    let before = h.state().doc.topology.clone();
    h.get_by_label("Don't save").click();
    h.run();
    assert!(matches!(h.state().ask, Some(Ask::PickAgent { .. })));
    h.get_by_label("Cancel").click();
    h.run();
    assert!(h.state().ask.is_none());
    assert_eq!(h.state().doc.topology, before);
}
