//! Simulated workers: executors are dealt round-robin over them, and killing one
//! restarts exactly its executors with their state lost — while every generated
//! message still reaches the sink at least once.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use tributary::model::{Grouping, Node, Role, StreamDecl, Topology};
use tributary::runtime::{Control, Engine, LogLine, RunOptions, StopMode, Val};

const LIMIT: i64 = 600;

/// Nodes in plan order (sorted by name): mid (2 executors), sink (1), src (2), then
/// one acker — six executors.
fn pipeline(workers: u32, rate_per_sec: f64) -> Topology {
    let mut t = Topology::new("t");
    t.settings.workers = workers;
    t.settings.ackers = 1;
    t.settings.max_spout_pending = Some(50);
    t.settings.message_timeout_secs = 1;
    t.add_node(
        Node::new("src", Role::Spout, "sequence")
            .with_config("limit", LIMIT)
            .with_config("rate_per_sec", rate_per_sec)
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

fn texts(log: &[LogLine]) -> Vec<String> {
    log.iter().map(|l| l.text.clone()).collect()
}

/// Restarts of every task, by node.
fn restarts(snap: &tributary::runtime::MetricsSnapshot, node: &str) -> Vec<u64> {
    snap.nodes[node].tasks.iter().map(|t| t.restarts).collect()
}

#[test]
fn executors_are_dealt_round_robin_in_plan_order() {
    let engine = Engine::start(&pipeline(2, 0.0), RunOptions::default()).unwrap();
    let snap = engine.snapshot();
    // mid0 mid1 sink src0 src1 acker → 0 1 0 1 0 1
    assert_eq!(snap.nodes["mid"].workers, vec![0, 1]);
    assert_eq!(snap.nodes["sink"].workers, vec![0]);
    assert_eq!(snap.nodes["src"].workers, vec![1, 0]);
    assert_eq!(snap.workers.len(), 2);
    assert_eq!(snap.workers[0].executors, vec!["mid", "sink", "src"]);
    assert_eq!(snap.workers[1].executors, vec!["mid", "src", "acker"]);
    assert!(snap.workers.iter().all(|w| w.kills == 0));
    engine.stop(StopMode::Immediate);
}

#[test]
fn killing_a_worker_restarts_exactly_its_executors_and_nothing_is_lost() {
    // Slow enough that the kill lands mid-run.
    let engine = Engine::start(&pipeline(2, 150.0), RunOptions::default()).unwrap();
    common::wait_for("the run got going", || seen(&engine).len() >= 20);
    engine.control(Control::KillWorker { worker: 1 });
    assert!(
        engine.wait_finished(Duration::from_secs(120)),
        "finished after the kill"
    );
    let all: BTreeSet<i64> = (0..2 * LIMIT).collect();
    assert_eq!(seen(&engine), all, "every message arrived at least once");
    let log = texts(&engine.drain_log());
    assert!(
        log.iter()
            .any(|l| l == "worker 1 killed: 3 executors restarted"),
        "{log:?}"
    );
    let snap = engine.stop(StopMode::Immediate);
    // Worker 1 holds mid's second executor, src's first and the acker.
    let mid_tasks = &snap.nodes["mid"].tasks;
    assert_eq!(restarts(&snap, "mid"), vec![0, 1], "{mid_tasks:?}");
    assert_eq!(restarts(&snap, "src"), vec![1, 0]);
    assert_eq!(restarts(&snap, "sink"), vec![0]);
    assert_eq!(snap.workers[1].kills, 1);
    assert_eq!(snap.workers[0].kills, 0);
}

#[test]
fn the_snapshot_says_when_the_killed_workers_tasks_lost_their_state() {
    let engine = Engine::start(&pipeline(2, 150.0), RunOptions::default()).unwrap();
    common::wait_for("the run got going", || seen(&engine).len() >= 20);
    let before = engine.snapshot();
    assert!(
        before.nodes.values().all(|m| m.last_restart.is_none()),
        "no restart yet"
    );
    // The restart happens after this snapshot was taken, so its time is no earlier
    // (restart times are whole milliseconds).
    let sent_after = Duration::from_millis(before.elapsed.as_millis() as u64);
    engine.control(Control::KillWorker { worker: 1 });
    let snap = common::wait_for_snapshot(&engine, "restart times reported", |s| {
        ["mid", "src"]
            .iter()
            .all(|n| s.nodes[*n].last_restart.is_some())
    });
    // Worker 1 holds mid's second executor and src's first; sink is all in worker 0.
    for node in ["mid", "src"] {
        let at = snap.nodes[node].last_restart.unwrap();
        assert!(
            sent_after <= at && at <= snap.elapsed,
            "{node} restarted at {at:?}, kill sent after {sent_after:?}, snapshot at {:?}",
            snap.elapsed
        );
    }
    assert_eq!(snap.nodes["sink"].last_restart, None, "sink was not killed");
    let tasks = |node: &str| -> Vec<bool> {
        snap.nodes[node]
            .tasks
            .iter()
            .map(|t| t.last_restart.is_some())
            .collect()
    };
    assert_eq!(tasks("mid"), [false, true]);
    assert_eq!(tasks("src"), [true, false]);
    let json = serde_json::to_value(&snap).unwrap();
    assert!(
        json["nodes"]["mid"]["last_restart"].as_f64().is_some(),
        "{json}"
    );
    assert!(
        json["nodes"]["sink"].get("last_restart").is_none(),
        "{json}"
    );
    engine.stop(StopMode::Immediate);
}

#[test]
fn a_worker_out_of_range_is_refused_in_the_log() {
    let engine = Engine::start(&pipeline(2, 0.0), RunOptions::default()).unwrap();
    engine.control(Control::KillWorker { worker: 2 });
    engine.control(Control::KillWorker { worker: u32::MAX });
    assert!(engine.wait_finished(Duration::from_secs(60)));
    let log = texts(&engine.drain_log());
    assert_eq!(
        log.iter().filter(|l| l.contains("refused")).count(),
        2,
        "{log:?}"
    );
    let snap = engine.stop(StopMode::Immediate);
    assert_eq!(snap.max_task_restarts(), 0);
    assert_eq!(snap.nodes["src"].acked, 2 * LIMIT as u64);
}

#[test]
fn with_one_worker_a_kill_restarts_everything_and_everything_comes_back() {
    let engine = Engine::start(&pipeline(1, 150.0), RunOptions::default()).unwrap();
    common::wait_for("the run got going", || seen(&engine).len() >= 20);
    engine.control(Control::KillWorker { worker: 0 });
    assert!(engine.wait_finished(Duration::from_secs(120)));
    let all: BTreeSet<i64> = (0..2 * LIMIT).collect();
    assert_eq!(seen(&engine), all);
    let log = texts(&engine.drain_log());
    assert!(
        log.iter()
            .any(|l| l == "worker 0 killed: 6 executors restarted"),
        "{log:?}"
    );
    let snap = engine.stop(StopMode::Immediate);
    for node in ["mid", "sink", "src"] {
        assert!(
            restarts(&snap, node).iter().all(|&r| r == 1),
            "{node}: {:?}",
            restarts(&snap, node)
        );
    }
}

#[test]
fn micro_batch_runs_take_a_kill_and_refuse_a_worker_out_of_range() {
    let mut t = pipeline(2, 0.0);
    t.settings.mode = tributary::model::ExecutionMode::MicroBatch { interval_ms: 100 };
    let engine = Engine::start(&t, RunOptions::default()).unwrap();
    engine.control(Control::KillWorker { worker: 1 });
    engine.control(Control::KillWorker { worker: 5 });
    let log = texts(&engine.drain_log());
    assert!(
        log.iter()
            .any(|l| l == "kill worker 5 refused: the topology has 2 workers (0 to 1)"),
        "{log:?}"
    );
    let snap = engine.stop(StopMode::Immediate);
    // Both workers hold partitions (src and mid have two tasks each).
    let kills: Vec<(u32, u64)> = snap.workers.iter().map(|w| (w.worker, w.kills)).collect();
    assert_eq!(kills, vec![(0, 0), (1, 1)]);
    assert!(snap.workers[1].executors.contains(&"mid".to_string()));
}

#[test]
fn a_killed_workers_spout_resumes_where_everything_was_acked_instead_of_starting_over() {
    // Half the run has been acked when worker 1 (src's first task, among others) dies.
    // Starting over would send that task's first few hundred numbers again; resuming
    // sends again at most what was in flight (max spout pending 50 per task).
    let engine = Engine::start(&pipeline(2, 150.0), RunOptions::default()).unwrap();
    common::wait_for("half the run acked", || {
        seen(&engine).len() >= LIMIT as usize
    });
    engine.control(Control::KillWorker { worker: 1 });
    assert!(engine.wait_finished(Duration::from_secs(120)));
    let all: BTreeSet<i64> = (0..2 * LIMIT).collect();
    assert_eq!(seen(&engine), all, "every message arrived at least once");
    let arrivals = engine.collected("sink").len();
    let snap = engine.stop(StopMode::Immediate);
    assert_eq!(restarts(&snap, "src"), vec![1, 0]);
    let duplicates = arrivals - all.len();
    assert!(
        duplicates <= 2 * 50,
        "{duplicates} duplicates: more than was in flight, as if the spout had started over"
    );
}
