//! Stopping a micro-batch run leaves no thread behind, however it is stopped. (Alone in
//! its own test binary, because it counts the threads of the whole process.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing

use tributary::model::{ExecutionMode, Grouping, Node, Role, StreamDecl, Topology};
use tributary::runtime::{Engine, RunOptions, StopMode};

mod common;
use common::threads;

fn endless() -> Topology {
    let mut t = Topology::new("t");
    t.settings.mode = ExecutionMode::MicroBatch { interval_ms: 20 };
    t.add_node(
        Node::new("words", Role::Spout, "word_generator")
            .with_config("rate_per_sec", 20_000.0)
            .with_output(StreamDecl::default_stream(&["word"]))
            .with_parallelism(2),
    )
    .unwrap();
    t.add_node(
        Node::new("count", Role::Bolt, "count_by_key")
            .with_output(StreamDecl::default_stream(&["word", "count"])),
    )
    .unwrap();
    t.add_node(Node::new("sink", Role::Bolt, "null")).unwrap();
    t.connect_names(
        "words",
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
fn no_thread_is_left_behind() {
    let before = threads();
    for mode in [Some(StopMode::Drain), Some(StopMode::Immediate), None] {
        let engine = Engine::start(&endless(), RunOptions::default()).unwrap();
        // Two receivers and the batch scheduler.
        assert_eq!(threads(), before + 3);
        common::wait_for_snapshot(&engine, "the sink executing", |s| {
            s.nodes["sink"].executed > 0
        });
        match mode {
            Some(StopMode::Drain) => {
                let s = engine.stop(StopMode::Drain);
                // Draining runs every buffered record through its batch.
                let words = &s.nodes["words"];
                assert_eq!(words.acked, words.emitted);
                assert_eq!(words.pending, 0);
            }
            Some(mode) => {
                engine.stop(mode);
            }
            None => drop(engine),
        }
        assert_eq!(threads(), before, "after {mode:?}");
    }
}
