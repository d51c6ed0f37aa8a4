//! The simulated cluster under the threaded engine: each role's failure with Storm's
//! consequence, read from the snapshot's cluster view (reassigned or not, restarted or
//! not), and every generated message still reaching the sink at least once. The waits
//! are on outcomes (an event in the timeline, a heartbeat older than the timeout),
//! never on durations.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use tributary::model::{ClusterSettings, Grouping, Node, Role, StreamDecl, Topology};
use tributary::runtime::cluster::{ClusterAction, ClusterView, EventKind};
use tributary::runtime::{Control, Engine, MetricsSnapshot, RunOptions, StopMode, Val};

const LIMIT: i64 = 300;
const FINISH: Duration = Duration::from_secs(120);

/// Plan order (sorted by name): mid (2 executors), sink, src (2), acker — dealt over 4
/// workers: mid0 → 0, mid1 → 1, sink → 2, src0 → 3, src1 → 0, acker → 1. The even
/// scheduler puts worker 0 on machine 0, 1 on 1, 2 on 2 and 3 on machine 0 again.
fn pipeline() -> Topology {
    let mut t = Topology::new("t");
    t.settings.workers = 4;
    t.settings.ackers = 1;
    t.settings.max_spout_pending = Some(50);
    t.settings.message_timeout_secs = 1;
    t.settings.cluster = Some(ClusterSettings {
        machines: 3,
        slots_per_machine: 2,
        heartbeat_timeout_secs: 1,
    });
    t.add_node(
        Node::new("src", Role::Spout, "sequence")
            .with_config("limit", LIMIT)
            .with_config("rate_per_sec", 150.0)
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

fn cluster(s: &MetricsSnapshot) -> &ClusterView {
    s.cluster
        .as_ref()
        .expect("a record-at-a-time run reports its cluster")
}

fn started() -> Engine {
    let engine = Engine::start(&pipeline(), RunOptions::default()).unwrap();
    common::wait_for("the run got going", || seen(&engine).len() >= 20);
    engine
}

/// Every message of the finite spout reached the sink: what a fault-free run delivers.
fn finishes_with_everything(engine: &Engine) {
    assert!(engine.wait_finished(FINISH), "the run finished");
    let all: BTreeSet<i64> = (0..2 * LIMIT).collect();
    assert_eq!(seen(engine), all, "every message arrived at least once");
}

fn count(c: &ClusterView, kind: EventKind) -> usize {
    c.events.iter().filter(|e| e.kind == kind).count()
}

#[test]
fn workers_are_placed_as_the_even_scheduler_deals_slots() {
    let engine = Engine::start(&pipeline(), RunOptions::default()).unwrap();
    let snap = engine.snapshot();
    let c = cluster(&snap);
    let machines: Vec<Option<u32>> = c.workers.iter().map(|w| w.machine).collect();
    assert_eq!(machines, [Some(0), Some(1), Some(2), Some(0)]);
    let ports: Vec<Option<u32>> = c.workers.iter().map(|w| w.port).collect();
    assert_eq!(ports, [Some(6700), Some(6700), Some(6700), Some(6701)]);
    assert!(c.nimbus_up && c.machines.iter().all(|m| m.up && m.supervisor_up));
    engine.stop(StopMode::Immediate);
}

#[test]
fn a_lost_machines_worker_is_reassigned_after_the_timeout_and_nothing_is_lost() {
    let engine = started();
    engine.control(Control::Cluster(ClusterAction::KillMachine(1)));
    let snap = common::wait_for_snapshot(&engine, "worker 1 reassigned and running", |s| {
        let c = cluster(s);
        c.workers[1].reassignments == 1 && c.workers[1].running
    });
    let c = cluster(&snap);
    // Free slots of live machines: machine 0 is full (workers 0 and 3), machine 2 has 6701.
    assert_eq!(
        (c.workers[1].machine, c.workers[1].port),
        (Some(2), Some(6701))
    );
    assert_eq!(c.assignment_version, 2);
    let kinds: Vec<EventKind> = c.events.iter().map(|e| e.kind).collect();
    let at = |k| kinds.iter().position(|x| *x == k).unwrap();
    assert!(at(EventKind::Killed) < at(EventKind::HeartbeatMissed));
    assert!(at(EventKind::HeartbeatMissed) < at(EventKind::Reassigned));
    finishes_with_everything(&engine);
    let snap = engine.stop(StopMode::Immediate);
    // Worker 1 held mid's second executor and the acker: both restarted once, elsewhere.
    let restarts: Vec<u64> = snap.nodes["mid"].tasks.iter().map(|t| t.restarts).collect();
    assert_eq!(restarts, [0, 1]);
    assert!(!cluster(&snap).machines[1].up);
}

#[test]
fn while_nimbus_is_down_a_lost_machines_worker_waits_and_moves_once_it_returns() {
    let engine = started();
    engine.control(Control::Cluster(ClusterAction::KillNimbus));
    engine.control(Control::Cluster(ClusterAction::KillMachine(1)));
    // Twice the heartbeat timeout without a word from machine 1.
    let snap = common::wait_for_snapshot(&engine, "machine 1 silent for 2 s", |s| {
        cluster(s).machines[1].supervisor_heartbeat_age_ms >= 2000
    });
    let c = cluster(&snap);
    assert_eq!(
        c.workers[1].machine,
        Some(1),
        "not reassigned: {:?}",
        c.events
    );
    assert!(!c.workers[1].running);
    assert_eq!(count(c, EventKind::Reassigned), 0);
    assert!(
        c.workers
            .iter()
            .filter(|w| w.worker != 1)
            .all(|w| w.running),
        "the others keep running"
    );
    engine.control(Control::Cluster(ClusterAction::RestoreNimbus));
    common::wait_for_snapshot(&engine, "worker 1 reassigned", |s| {
        cluster(s).workers[1].reassignments == 1 && cluster(s).workers[1].running
    });
    finishes_with_everything(&engine);
    engine.stop(StopMode::Immediate);
}

#[test]
fn with_its_supervisor_down_a_killed_worker_stays_dead_until_it_returns() {
    let engine = started();
    engine.control(Control::Cluster(ClusterAction::KillSupervisor(0)));
    engine.control(Control::KillWorker { worker: 0 });
    let snap = common::wait_for_snapshot(&engine, "worker 0 silent for 2 s", |s| {
        cluster(s).workers[0].heartbeat_age_ms >= 2000
    });
    let c = cluster(&snap);
    assert!(!c.workers[0].running, "no supervisor restarted it");
    assert_eq!(c.workers[0].restarts, 0);
    // Machine 0 is not lost: worker 3 on it keeps running and heartbeating.
    assert_eq!(
        (c.workers[0].machine, c.workers[0].reassignments),
        (Some(0), 0)
    );
    assert!(c.workers[3].running);
    engine.control(Control::Cluster(ClusterAction::RestoreSupervisor(0)));
    let snap = common::wait_for_snapshot(&engine, "worker 0 restarted", |s| {
        cluster(s).workers[0].running
    });
    let c = cluster(&snap);
    assert_eq!(
        (c.workers[0].machine, c.workers[0].port),
        (Some(0), Some(6700)),
        "same slot"
    );
    assert_eq!(c.workers[0].restarts, 1);
    finishes_with_everything(&engine);
    engine.stop(StopMode::Immediate);
}

#[test]
fn with_every_machine_down_the_run_says_so_and_stops_cleanly() {
    let engine = started();
    for m in 0..3 {
        engine.control(Control::Cluster(ClusterAction::KillMachine(m)));
    }
    // Refused, changing nothing: a dead role killed again, a live one restored.
    engine.control(Control::Cluster(ClusterAction::KillMachine(2)));
    engine.control(Control::Cluster(ClusterAction::RestoreNimbus));
    let log: Vec<String> = engine.drain_log().into_iter().map(|l| l.text).collect();
    for want in [
        "every machine is down: nothing runs until one is restored",
        "kill machine 2 refused: machine 2 is already down",
        "restore Nimbus refused: Nimbus is up already",
    ] {
        assert!(log.iter().any(|l| l == want), "{want:?} not in {log:?}");
    }
    let snap = engine.stop(StopMode::Drain);
    let c = cluster(&snap);
    assert!(c.machines.iter().all(|m| !m.up));
    assert!(c.workers.iter().all(|w| !w.running));
}

#[test]
fn the_cli_plays_cluster_flags_and_reports_the_cluster_in_json() {
    let dir = tempfile::tempdir().unwrap();
    let file = common::save_in(dir.path(), "c.ron", &pipeline());
    let file = file.to_str().unwrap();
    let out = common::output_within(&[
        "run",
        file,
        "-q",
        "--kill-machine",
        "300ms:1",
        "--kill-supervisor",
        "300ms:0",
        "--restore-nimbus",
        "300ms",
        "--json",
        "-",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("machine 1 lost: its supervisor and worker 1 are gone"),
        "{stderr}"
    );
    assert!(
        stderr.contains("restore Nimbus refused: Nimbus is up already"),
        "{stderr}"
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let c = &json["cluster"];
    assert_eq!(c["machines"][1]["up"], false);
    assert_eq!(c["machines"][0]["supervisor_up"], false);
    // Worker 1 moved to the one free slot of a machine Nimbus hears from.
    assert_eq!(c["workers"][1]["machine"], 2, "{c:#}");
    assert_eq!(c["workers"][1]["port"], 6701, "{c:#}");
    assert_eq!(
        json["nodes"]["src"]["acked"],
        2 * LIMIT,
        "every message acked"
    );
}

#[test]
fn the_cli_refuses_a_machine_out_of_range_before_starting() {
    let dir = tempfile::tempdir().unwrap();
    let file = common::save_in(dir.path(), "c.ron", &pipeline());
    let out = common::output_within(&["run", file.to_str().unwrap(), "--kill-machine", "1s:5"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "\"at 1s: kill machine 5\": there is no machine 5 (the cluster has machines 0 to 2)"
        ),
        "{stderr}"
    );
    let out = common::output_within(&[
        "run",
        file.to_str().unwrap(),
        "--compare",
        "--kill-nimbus",
        "1s",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("do not apply to --compare"), "{stderr}");
}

#[test]
fn a_files_scenario_kills_and_restores_cluster_roles() {
    use tributary::model::{ScenarioAction, ScenarioStep};
    let mut t = pipeline();
    t.settings.scenario = vec![
        ScenarioStep {
            at_ms: 200,
            action: ScenarioAction::KillNimbus,
        },
        ScenarioStep {
            at_ms: 300,
            action: ScenarioAction::KillMachine(2),
        },
        ScenarioStep {
            at_ms: 500,
            action: ScenarioAction::RestoreMachine(2),
        },
    ];
    let dir = tempfile::tempdir().unwrap();
    let file = common::save_in(dir.path(), "s.ron", &t);
    let out = common::output_within(&["run", file.to_str().unwrap(), "-q", "--json", "-"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("scenario: at 300ms: kill machine 2"),
        "{stderr}"
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let c = &json["cluster"];
    // Nimbus was down throughout: the sink's worker came back on its own machine.
    assert_eq!(c["nimbus_up"], false);
    assert_eq!(c["workers"][2]["machine"], 2);
    assert_eq!(c["workers"][2]["reassignments"], 0);
    assert_eq!(c["workers"][2]["restarts"], 1);
    assert_eq!(
        json["nodes"]["src"]["acked"],
        2 * LIMIT,
        "every message acked"
    );
}

#[test]
fn the_cli_stops_cleanly_at_for_with_every_machine_down() {
    let dir = tempfile::tempdir().unwrap();
    let file = common::save_in(dir.path(), "c.ron", &pipeline());
    let mut args = vec!["run", file.to_str().unwrap(), "-q", "--for", "1500ms"];
    for m in ["200ms:0", "200ms:1", "200ms:2"] {
        args.extend(["--kill-machine", m]);
    }
    args.extend(["--json", "-"]);
    let out = common::output_within(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("every machine is down: nothing runs until one is restored"),
        "{stderr}"
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let machines = json["cluster"]["machines"].as_array().unwrap();
    assert!(machines.iter().all(|m| m["up"] == false), "{machines:?}");
}

/// A lost machine under each delivery guarantee, against a fault-free run of the same
/// input: exactly-once still counts every word exactly, at-least-once loses nothing,
/// at-most-once duplicates nothing.
#[test]
fn a_lost_machine_keeps_each_guarantees_promise() {
    use tributary::model::{Guarantee, ScenarioAction, ScenarioStep};
    use tributary::runtime::guarantees::run_side_by_side;
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/guarantees/word_count.ron");
    let mut t = tributary::format::load_ron(&path).unwrap();
    // Workers 0 and 1 on machines 0 and 1; machine 2's slot is free for the lost one.
    t.settings.cluster = Some(ClusterSettings {
        machines: 3,
        slots_per_machine: 1,
        heartbeat_timeout_secs: 1,
    });
    // 120 sentences at 200 a second: the machine dies mid-run, with the acker on it.
    t.node_by_name_mut("sentences")
        .unwrap()
        .config
        .insert("rate_per_sec".into(), tributary::model::Value::Float(200.0));
    t.settings.scenario = vec![ScenarioStep {
        at_ms: 100,
        action: ScenarioAction::KillMachine(1),
    }];
    let dir = tempfile::tempdir().unwrap();
    let options = RunOptions {
        seed: 3,
        base_dir: dir.path().to_path_buf(),
        ..RunOptions::default()
    };
    let table = run_side_by_side(&t, options, Duration::from_secs(60)).unwrap();
    let row = |g: Guarantee| {
        table
            .rows
            .iter()
            .find(|r| r.guarantee == g.label())
            .unwrap()
    };
    for r in &table.rows {
        assert!(r.finished, "{} did not finish: {r:?}", r.guarantee);
    }
    let exact = row(Guarantee::ExactlyOnce);
    assert_eq!((exact.duplicates, exact.lost), (0, 0), "{exact:?}");
    assert_eq!(exact.keys_matching, table.reference_keys, "{exact:?}");
    assert!(
        exact.replayed > 0,
        "the lost trees were replayed: {exact:?}"
    );
    let least = row(Guarantee::AtLeastOnce);
    assert_eq!(least.lost, 0, "{least:?}");
    assert!(least.replayed > 0, "{least:?}");
    assert_eq!(row(Guarantee::AtMostOnce).duplicates, 0);
}
