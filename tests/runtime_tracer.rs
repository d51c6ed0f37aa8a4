//! Tracer bullets on threaded runs: with 1 in N trees sampled, each traced tree's hops
//! follow the topology's path (spout → split → count → sink), each hop's sender is the
//! task that really emitted to it, the waits are consistent with the times, and the
//! verdict arrives; with tracing off nothing is recorded.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing

mod common;

use std::time::Duration;

use tributary::model::{Grouping, Node, Role, StreamDecl, Topology};
use tributary::runtime::{Control, Engine, RunOptions, StopMode};

fn word_count() -> Topology {
    let mut t = Topology::new("traced");
    t.settings.ackers = 1;
    t.settings.max_spout_pending = Some(32);
    t.add_node(
        Node::new("sentences", Role::Spout, "sentence_generator")
            .with_config("limit", 400)
            .with_config("words_per_sentence", 4)
            .with_output(StreamDecl::default_stream(&["sentence"])),
    )
    .unwrap();
    t.add_node(
        Node::new("split", Role::Bolt, "split")
            .with_parallelism(2)
            .with_output(StreamDecl::default_stream(&["word"])),
    )
    .unwrap();
    t.add_node(
        Node::new("count", Role::Bolt, "count_by_key")
            .with_parallelism(3)
            .with_config("key", "word")
            .with_output(StreamDecl::default_stream(&["word", "count"])),
    )
    .unwrap();
    t.add_node(Node::new("sink", Role::Bolt, "null")).unwrap();
    t.connect_names("sentences", "split", "default", Grouping::Shuffle)
        .unwrap();
    t.connect_names(
        "split",
        "count",
        "default",
        Grouping::Fields(vec!["word".into()]),
    )
    .unwrap();
    t.connect_names("count", "sink", "default", Grouping::Shuffle)
        .unwrap();
    t
}

#[test]
fn traced_trees_record_every_hop_along_the_path_with_consistent_times() {
    let t = word_count();
    let engine = Engine::start(&t, RunOptions::default()).unwrap();
    engine.control(Control::TraceEvery { every: 10 });
    assert!(engine.wait_finished(common::DEADLINE));
    let snap = engine.snapshot();
    let split = engine.tasks_of("split");
    let count = engine.tasks_of("count");
    let spout = engine.tasks_of("sentences");
    engine.stop(StopMode::Immediate);
    // About 1 in 10 of the 400 trees (a few may have been emitted before the switch);
    // the snapshot keeps the latest 32.
    assert!(
        snap.traces.len() >= 20,
        "{} traced trees",
        snap.traces.len()
    );
    for tree in &snap.traces {
        assert_eq!(tree.spout, "sentences");
        assert!(spout.contains(&tree.spout_task));
        let done = tree.done.expect("traced trees kept are done");
        assert!(done.ok);
        // One split, four words counted, four counts sunk: 9 hops.
        assert_eq!(tree.hops.len(), 9, "{tree:#?}");
        for hop in &tree.hops {
            let (from_tasks, want_from) = match hop.node.as_str() {
                "split" => (&spout, "sentences"),
                "count" => (&split, "split"),
                "sink" => (&count, "count"),
                other => panic!("hop at {other}"),
            };
            assert_eq!(hop.from_node, want_from);
            assert!(from_tasks.contains(&hop.from_task), "{hop:?}");
            assert!(hop.started <= hop.ended && hop.ended <= done.at, "{hop:?}");
            assert!(hop.started >= tree.emitted + hop.waited || hop.waited.is_zero());
            assert!(hop.ok);
        }
        let splits = tree.hops.iter().filter(|h| h.node == "split").count();
        assert_eq!(splits, 1);
        // Every count hop's sender is the split task of this tree.
        let split_task = tree.hops.iter().find(|h| h.node == "split").unwrap().task;
        assert!(
            tree.hops
                .iter()
                .filter(|h| h.node == "count")
                .all(|h| h.from_task == split_task)
        );
        assert!(tree.complete_latency().unwrap() >= Duration::ZERO);
    }
}

#[test]
fn with_tracing_off_nothing_is_recorded() {
    let engine = Engine::start(&word_count(), RunOptions::default()).unwrap();
    assert!(engine.wait_finished(common::DEADLINE));
    assert!(engine.snapshot().traces.is_empty());
    engine.control(Control::TraceEvery { every: 0 });
    engine.stop(StopMode::Immediate);
}
