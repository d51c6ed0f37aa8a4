//! Stopping leaves no thread behind, whichever way the engine is stopped, and a
//! rebalance replaces its threads without leaking any. (Alone in its own test binary,
//! because it counts the threads of the whole process.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing

use std::time::Duration;

use tributary::model::{Grouping, Node, Role, StreamDecl, Topology};
use tributary::runtime::{Control, Engine, FaultSpec, RunOptions, StopMode};

mod common;
use common::threads;

fn endless() -> Topology {
    let mut t = Topology::new("t");
    t.settings.max_spout_pending = Some(500);
    t.settings.message_timeout_secs = 1;
    t.add_node(
        Node::new("words", Role::Spout, "word_generator")
            .with_output(StreamDecl::default_stream(&["word"]))
            .with_parallelism(2),
    )
    .unwrap();
    t.add_node(
        Node::new("count", Role::Bolt, "count_by_key")
            .with_output(StreamDecl::default_stream(&["word", "count"]))
            .with_parallelism(3),
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
        // 2 + 3 + 1 executors + 1 acker, and the cluster thread.
        assert_eq!(threads(), before + 8);
        engine.control(Control::SetFaults {
            node: "count".into(),
            faults: FaultSpec {
                crash_probability: 0.001,
                added_latency: Duration::from_micros(10),
                ..Default::default()
            },
        });
        common::wait_for_snapshot(&engine, "count executing", |s| {
            s.nodes["count"].executed > 0
        });
        // A rebalance joins the old executors and cluster thread before starting new ones.
        engine.control(Control::Rebalance {
            executors: vec![("count".into(), 2)],
            workers: Some(2),
        });
        assert_eq!(
            threads(),
            before + 7,
            "2 + 2 + 1 executors + 1 acker + cluster"
        );
        match mode {
            Some(mode) => {
                engine.stop(mode);
            }
            None => drop(engine),
        }
        assert_eq!(threads(), before, "after {mode:?}");
    }
}
