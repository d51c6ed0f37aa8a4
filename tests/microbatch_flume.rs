//! Flume feeding a micro-batch job, as Spark Streaming's reliable Flume receiver: a
//! channel that bolts drain becomes a receiver whose events are records of its batches,
//! and each take from the channel commits only once its records are stored. A receiver
//! that crashes between taking and storing loses nothing: the take rolls back and the
//! events are taken again. Every wait is for a condition; deadlines only turn a hang
//! into a failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing

use std::collections::BTreeMap;

use tributary::model::{ExecutionMode, Grouping, Node, Role, StreamDecl, Topology};
use tributary::runtime::{Engine, FaultSpec, RunOptions, StopMode};

mod common;
use common::wait_for;

const EVENTS: i64 = 600;

/// A Flume `sequence` source into a memory channel that a collector drains, in 50 ms
/// batches.
fn flume_into_batches() -> Topology {
    let mut t = Topology::new("flume-batches");
    t.settings.mode = ExecutionMode::MicroBatch { interval_ms: 50 };
    t.add_node(
        Node::new("gen", Role::Source, "sequence")
            .with_config("limit", EVENTS)
            .with_config("rate_per_sec", 3000)
            .with_output(StreamDecl::default_stream(&["n"])),
    )
    .unwrap();
    t.add_node(
        Node::new("events", Role::Channel, "memory")
            .with_config("capacity", 100)
            .with_config("keep-alive", 0),
    )
    .unwrap();
    t.add_node(Node::new("sink", Role::Bolt, "collector"))
        .unwrap();
    t.connect_names("gen", "events", "default", Grouping::Required)
        .unwrap();
    t.connect_names("events", "sink", "default", Grouping::Drain)
        .unwrap();
    t
}

fn run(dir: &std::path::Path, crash: f64) -> (Vec<i64>, tributary::runtime::MetricsSnapshot) {
    let mut faults = BTreeMap::new();
    faults.insert(
        "events".to_string(),
        FaultSpec {
            crash_probability: crash,
            ..FaultSpec::default()
        },
    );
    let options = RunOptions {
        base_dir: dir.to_path_buf(),
        faults,
        ..RunOptions::default()
    };
    let engine = Engine::start(&flume_into_batches(), options).unwrap();
    wait_for("every event through its batch", || engine.is_finished());
    let mut got: Vec<i64> = engine
        .collected("sink")
        .iter()
        .map(|v| v.get(0).and_then(|v| v.as_str()).unwrap().parse().unwrap())
        .collect();
    got.sort_unstable();
    let snap = engine.stop(StopMode::Drain);
    (got, snap)
}

#[test]
fn a_flume_channel_feeds_the_batches_and_a_crashing_receiver_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let every: Vec<i64> = (0..EVENTS).collect();

    let (got, snap) = run(dir.path(), 0.0);
    assert_eq!(got, every, "each event once, as a record of a batch");
    assert_eq!(snap.nodes["events"].restarts, 0);
    let batch = snap.batch.as_ref().unwrap();
    assert!(batch.batches_completed >= 2, "{batch:?}");

    // A receiver that crashes in 30 % of its rounds, after taking from the channel and
    // before storing the block: its take rolls back and is taken again.
    let (got, snap) = run(dir.path(), 0.3);
    assert_eq!(got, every, "nothing lost, nothing twice");
    assert!(snap.nodes["events"].restarts > 0, "the receiver crashed");
    let channel = snap.nodes["events"]
        .flume
        .as_ref()
        .unwrap()
        .channel
        .as_ref()
        .unwrap();
    assert!(
        channel.rollbacks > 0,
        "the crashed takes rolled back: {channel:?}"
    );
    assert_eq!((channel.size, channel.in_flight), (0, 0));
}
