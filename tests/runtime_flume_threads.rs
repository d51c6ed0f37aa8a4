//! Stopping an engine with Flume agents leaves no thread behind: sources, sink runners,
//! the netcat listener, drain spouts and executors all end. (Alone in its own test
//! binary, because it counts the threads of the whole process.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing

use tributary::model::{Grouping, Node, Role, StreamDecl, Topology};
use tributary::runtime::{Engine, RunOptions, StopMode};

mod common;
use common::threads;

fn mixed() -> Topology {
    let mut t = Topology::new("t");
    t.add_node(
        Node::new("gen", Role::Source, "sequence")
            .with_config("rate_per_sec", 5000)
            .with_output(StreamDecl::default_stream(&["n"])),
    )
    .unwrap();
    t.add_node(
        Node::new("net", Role::Source, "netcat")
            .with_config("port", 0)
            .with_output(StreamDecl::default_stream(&["body"])),
    )
    .unwrap();
    t.add_node(Node::new("ch", Role::Channel, "memory").with_config("keep-alive", 1))
        .unwrap();
    t.add_node(Node::new("side", Role::Channel, "memory").with_config("keep-alive", 1))
        .unwrap();
    t.add_node(Node::new("log", Role::Sink, "null")).unwrap();
    t.add_node(Node::new("bolt", Role::Bolt, "null").with_parallelism(2))
        .unwrap();
    t.connect_names("gen", "ch", "default", Grouping::Required)
        .unwrap();
    t.connect_names("net", "side", "default", Grouping::Required)
        .unwrap();
    t.connect_names("side", "log", "default", Grouping::Drain)
        .unwrap();
    t.connect_names("ch", "bolt", "default", Grouping::Drain)
        .unwrap();
    t
}

#[test]
fn no_thread_is_left_behind() {
    let before = threads();
    let base = tempfile::tempdir().unwrap();
    for mode in [Some(StopMode::Drain), Some(StopMode::Immediate), None] {
        let options = RunOptions {
            base_dir: base.path().to_path_buf(),
            ..RunOptions::default()
        };
        let engine = Engine::start(&mixed(), options).unwrap();
        assert!(threads() > before);
        common::wait_for_snapshot(&engine, "the bolt getting events", |s| {
            s.nodes["bolt"].executed > 0
        });
        match mode {
            Some(mode) => {
                engine.stop(mode);
            }
            None => drop(engine),
        }
        assert_eq!(threads(), before, "after {mode:?}");
    }
}
