//! Acking invariants on real runs: every tracked spout tuple ends in exactly one ack or
//! fail, and with replay every generated message reaches the sink at least once —
//! across seeds, injected failures and crashes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing

use std::collections::BTreeSet;
use std::time::Duration;

use tributary::model::{Grouping, Node, Role, StreamDecl, Topology};
use tributary::runtime::{Engine, FaultSpec, RunOptions, StopMode, Val};

fn pipeline(limit: i64, ackers: u32, pending: Option<u32>) -> Topology {
    let mut t = Topology::new("t");
    t.settings.ackers = ackers;
    t.settings.max_spout_pending = pending;
    t.settings.message_timeout_secs = 1;
    t.add_node(
        Node::new("src", Role::Spout, "sequence")
            .with_config("limit", limit)
            .with_output(StreamDecl::default_stream(&["n"]))
            .with_parallelism(2),
    )
    .unwrap();
    t.add_node(
        Node::new("mid", Role::Bolt, "filter")
            .with_config("field", "n")
            .with_output(StreamDecl::default_stream(&["n"]))
            .with_parallelism(2),
    )
    .unwrap();
    t.add_node(Node::new("sink", Role::Bolt, "collector"))
        .unwrap();
    t.connect_names("src", "mid", "default", Grouping::Shuffle)
        .unwrap();
    t.connect_names("mid", "sink", "default", Grouping::Fields(vec!["n".into()]))
        .unwrap();
    t
}

fn seen(engine: &Engine) -> BTreeSet<i64> {
    engine
        .collected("sink")
        .iter()
        .filter_map(|v| match v.get(0) {
            Some(Val::Int(i)) => Some(*i),
            _ => None,
        })
        .collect()
}

#[test]
fn every_message_arrives_without_faults() {
    for seed in 0..4 {
        let t = pipeline(2000, 1, Some(100));
        let engine = Engine::start(
            &t,
            RunOptions {
                seed,
                ..Default::default()
            },
        )
        .unwrap();
        assert!(engine.wait_finished(Duration::from_secs(60)), "seed {seed}");
        assert_eq!(seen(&engine).len(), 4000);
        let snap = engine.stop(StopMode::Immediate);
        let src = &snap.nodes["src"];
        assert_eq!(src.acked, 4000, "every tree acked exactly once");
        assert_eq!(src.failed, 0);
    }
}

#[test]
fn at_least_once_under_failures_and_crashes() {
    let settings = [
        FaultSpec {
            fail_probability: 0.05,
            ..Default::default()
        },
        FaultSpec {
            crash_probability: 0.002,
            ..Default::default()
        },
        FaultSpec {
            fail_probability: 0.02,
            crash_probability: 0.001,
            added_latency: Duration::ZERO,
        },
    ];
    for (i, faults) in settings.iter().enumerate() {
        for seed in 0..2u64 {
            let t = pipeline(1500, 2, Some(200));
            // In force before the first tuple, so every seed meets the same faults.
            let mut options = RunOptions {
                seed,
                ..Default::default()
            };
            options.faults.insert("mid".into(), *faults);
            let engine = Engine::start(&t, options).unwrap();
            assert!(
                engine.wait_finished(Duration::from_secs(120)),
                "faults {i} seed {seed}"
            );
            let got = seen(&engine);
            assert_eq!(
                got.len(),
                3000,
                "faults {i} seed {seed}: every message reached the sink"
            );
            let log = engine.drain_log();
            let snap = engine.stop(StopMode::Immediate);
            let src = &snap.nodes["src"];
            // Each emit (first or replay) ends in exactly one ack or fail; the finite
            // spout is done only when every message was acked once.
            assert_eq!(src.acked, 3000, "faults {i} seed {seed}");
            assert_eq!(
                src.acked + src.failed,
                src.emitted,
                "faults {i} seed {seed}"
            );
            assert_eq!(src.replayed, src.failed, "every failure was replayed");
            if faults.crash_probability > 0.0 {
                let restarts = snap.nodes["mid"].restarts;
                assert!(restarts > 0);
                let logged = log.iter().filter(|l| l.text.contains("crashed")).count() as u64;
                assert_eq!(logged, restarts, "every restart is logged");
                // Each restart is timed before its line is logged, on the same clock.
                let last_line = log
                    .iter()
                    .filter(|l| l.text.contains("crashed"))
                    .map(|l| l.at)
                    .max()
                    .unwrap();
                let at = snap.nodes["mid"]
                    .last_restart
                    .expect("the restart is timed");
                assert!(at <= last_line, "{at:?} after {last_line:?}");
            }
        }
    }
}

#[test]
fn zero_ackers_ack_at_once() {
    let t = pipeline(1000, 0, None);
    let engine = Engine::start(&t, RunOptions::default()).unwrap();
    assert!(engine.wait_finished(Duration::from_secs(60)));
    let snap = engine.stop(StopMode::Drain);
    assert_eq!(snap.nodes["src"].acked, 2000);
    assert_eq!(snap.nodes["src"].failed, 0);
    assert_eq!(snap.nodes["sink"].executed, 2000);
}

#[test]
fn max_spout_pending_bounds_in_flight_trees() {
    let t = pipeline(3000, 1, Some(10));
    let engine = Engine::start(&t, RunOptions::default()).unwrap();
    let mut max_seen = 0;
    let end = std::time::Instant::now() + Duration::from_secs(120);
    while !engine.is_finished() {
        assert!(std::time::Instant::now() < end, "the run did not finish");
        let snap = engine.snapshot();
        for task in &snap.nodes["src"].tasks {
            max_seen = max_seen.max(task.pending);
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    assert!(max_seen <= 10, "pending per task {max_seen}");
    drop(engine);
}
