//! Rebalancing a running topology, as `storm rebalance` does: a node's executors and
//! the worker count change while the task ids stay, so a fields grouping keeps sending
//! each key to the same task; trees in flight time out and replay, and every message of
//! a finite spout still arrives.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use tributary::model::{ClusterSettings, Grouping, Node, Role, StreamDecl, Topology};
use tributary::runtime::cluster::ClusterAction;
use tributary::runtime::{Control, Engine, RunOptions, StopMode, Val};

const LIMIT: i64 = 300;

/// src (2 executors) → mid (4 tasks on 2 executors) → sink (2 tasks on 2 executors,
/// fields grouping on `n`), over 2 workers.
fn pipeline() -> Topology {
    let mut t = Topology::new("t");
    t.settings.workers = 2;
    t.settings.max_spout_pending = Some(50);
    t.settings.message_timeout_secs = 1;
    t.add_node(
        Node::new("src", Role::Spout, "sequence")
            .with_config("limit", LIMIT)
            .with_config("rate_per_sec", 150.0)
            .with_output(StreamDecl::default_stream(&["n"]))
            .with_parallelism(2),
    )
    .unwrap();
    let mut mid = Node::new("mid", Role::Bolt, "filter")
        .with_config("field", "n")
        .with_output(StreamDecl::default_stream(&["n"]))
        .with_parallelism(2);
    mid.tasks = Some(4);
    t.add_node(mid).unwrap();
    t.add_node(Node::new("sink", Role::Bolt, "collector").with_parallelism(2))
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

fn log_has(engine: &Engine, lines: &mut Vec<String>, want: &str) -> bool {
    lines.extend(engine.drain_log().into_iter().map(|l| l.text));
    lines.iter().any(|l| l.contains(want))
}

#[test]
fn a_rebalance_changes_executors_and_workers_and_nothing_is_lost_or_moved() {
    let engine = Engine::start(&pipeline(), RunOptions::default()).unwrap();
    common::wait_for("the run got going", || seen(&engine).len() >= 20);
    let tasks_before = (engine.tasks_of("mid"), engine.tasks_of("sink"));
    engine.control(Control::Rebalance {
        executors: vec![("mid".into(), 4), ("sink".into(), 1)],
        workers: Some(3),
    });
    let mut lines = Vec::new();
    common::wait_for("the rebalance's log line", || {
        log_has(&engine, &mut lines, "rebalanced: ")
    });
    assert!(
        lines.iter().any(|l| l
            == "rebalanced: mid 2 -> 4 executors, sink 2 -> 1 executors, 2 -> 3 workers; trees in flight time out and replay"),
        "{lines:?}"
    );
    let snap = engine.snapshot();
    assert_eq!(snap.nodes["mid"].workers.len(), 4, "mid's executors");
    assert_eq!(snap.nodes["sink"].workers.len(), 1, "sink's executors");
    assert_eq!(snap.workers.len(), 3);
    assert_eq!(
        (engine.tasks_of("mid"), engine.tasks_of("sink")),
        tasks_before
    );
    assert!(engine.wait_finished(Duration::from_secs(120)), "finished");
    let all: BTreeSet<i64> = (0..2 * LIMIT).collect();
    assert_eq!(seen(&engine), all, "every message arrived at least once");
    // Storm's fields grouping on a Long n: deepHashCode([n]) = 31 + n for small n, so n
    // goes to the sink's task (31 + n) mod 2 — before the rebalance and after it.
    let first = tasks_before.1[0];
    for (task, values) in engine.collected_by_task("sink") {
        let Some(Val::Int(n)) = values.get(0) else {
            panic!("not a number: {values:?}");
        };
        assert_eq!(task, first + ((31 + n) % 2) as u32, "{n} on task {task}");
    }
    let snap = engine.stop(StopMode::Immediate);
    assert_eq!(
        snap.nodes["src"].acked,
        2 * LIMIT as u64,
        "counts carried over"
    );
}

#[test]
fn a_rebalance_the_run_cannot_honour_is_refused_in_the_log() {
    let mut t = pipeline();
    t.settings.cluster = Some(ClusterSettings {
        machines: 2,
        slots_per_machine: 2,
        heartbeat_timeout_secs: 1,
    });
    let engine = Engine::start(&t, RunOptions::default()).unwrap();
    let mut lines = Vec::new();
    for (executors, workers) in [
        (vec![("mid".to_string(), 5)], None),
        (vec![("ghost".to_string(), 1)], None),
        (Vec::new(), Some(5)),
    ] {
        engine.control(Control::Rebalance { executors, workers });
    }
    engine.control(Control::Cluster(ClusterAction::KillNimbus));
    engine.control(Control::Rebalance {
        executors: Vec::new(),
        workers: Some(1),
    });
    log_has(&engine, &mut lines, "");
    let refused: Vec<&String> = lines
        .iter()
        .filter(|l| l.starts_with("rebalance refused"))
        .collect();
    assert_eq!(
        refused,
        [
            "rebalance refused: 'mid' has 4 tasks, so it can run on 1 to 4 executors, not 5",
            "rebalance refused: no spout or bolt is named 'ghost'",
            "rebalance refused: 5 workers but the cluster has 4 slots",
            "rebalance refused: Nimbus is down, and a rebalance is Nimbus's work",
        ],
        "{lines:?}"
    );
    assert_eq!(engine.snapshot().nodes["mid"].workers.len(), 2, "unchanged");
    engine.stop(StopMode::Immediate);
}

#[test]
fn a_files_scenario_rebalances_and_every_message_is_acked() {
    use tributary::model::{ScenarioAction, ScenarioStep};
    let mut t = pipeline();
    t.settings.scenario = vec![
        ScenarioStep {
            at_ms: 300,
            action: ScenarioAction::Rebalance {
                node: "mid".into(),
                executors: 1,
            },
        },
        ScenarioStep {
            at_ms: 600,
            action: ScenarioAction::RebalanceWorkers(1),
        },
    ];
    let dir = tempfile::tempdir().unwrap();
    let file = common::save_in(dir.path(), "r.ron", &t);
    let out = common::output_within(&["run", file.to_str().unwrap(), "-q", "--json", "-"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("rebalanced: mid 2 -> 1 executors"),
        "{stderr}"
    );
    assert!(stderr.contains("rebalanced: 2 -> 1 workers"), "{stderr}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["nodes"]["mid"]["workers"], serde_json::json!([0]));
    assert_eq!(json["workers"].as_array().unwrap().len(), 1);
    assert_eq!(
        json["nodes"]["src"]["acked"],
        2 * LIMIT,
        "every message acked"
    );
}
