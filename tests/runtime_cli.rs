//! `tributary run` end to end on real files.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing

use predicates::prelude::*;
use predicates::str::contains;

use tributary::format::save_ron;
use tributary::model::{Grouping, Node, Role, StreamDecl, Topology};

mod common;
use common::cli as bin;

fn finite(sink_path: Option<&str>) -> Topology {
    let mut t = Topology::new("cli");
    t.add_node(
        Node::new("numbers", Role::Spout, "sequence")
            .with_config("limit", 100)
            .with_output(StreamDecl::default_stream(&["n"])),
    )
    .unwrap();
    let sink = match sink_path {
        Some(p) => Node::new("sink", Role::Bolt, "file_sink").with_config("path", p),
        None => Node::new("sink", Role::Bolt, "logger"),
    };
    t.add_node(sink).unwrap();
    t.connect_names("numbers", "sink", "default", Grouping::Shuffle)
        .unwrap();
    t
}

#[test]
fn run_prints_a_table_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("t.ron");
    save_ron(&finite(Some("out.txt")), &file).unwrap();
    let json = dir.path().join("m.json");
    bin()
        .args([
            "run",
            file.to_str().unwrap(),
            "--json",
            json.to_str().unwrap(),
            "--seed",
            "3",
        ])
        .assert()
        .success()
        .stdout(contains("numbers"));
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    assert_eq!(metrics["nodes"]["numbers"]["acked"], 100);
    assert_eq!(metrics["nodes"]["sink"]["executed"], 100);
    assert!(metrics["nodes"]["numbers"]["complete_latency_p99"].is_number());
    let out = std::fs::read_to_string(dir.path().join("out.txt")).unwrap();
    assert_eq!(out.lines().count(), 100);
}

#[test]
fn run_for_a_duration_stops_endless_topologies() {
    bin()
        .args([
            "run",
            "topologies/word_count.ron",
            "--for",
            "700ms",
            "-q",
            "--json",
            "-",
        ])
        .assert()
        .success()
        .stdout(contains("\"emit_rate\""));
}

#[test]
fn run_refuses_invalid_topologies() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.ron");
    let mut t = finite(None);
    t.node_by_name_mut("numbers").unwrap().parallelism = 0;
    save_ron(&t, &file).unwrap();
    bin()
        .args(["run", file.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(contains("parallelism"));
}

#[test]
fn run_refuses_paths_outside_the_allowed_folders() {
    let dir = tempfile::tempdir().unwrap();
    let inner = dir.path().join("inner");
    std::fs::create_dir_all(&inner).unwrap();
    let file = inner.join("t.ron");
    save_ron(&finite(Some("../escape.txt")), &file).unwrap();
    bin()
        .args(["run", file.to_str().unwrap()])
        .assert()
        .failure()
        .stderr(contains("outside the allowed folders"));
    bin()
        .args([
            "run",
            file.to_str().unwrap(),
            "--allow",
            dir.path().to_str().unwrap(),
            "-q",
        ])
        .assert()
        .success();
    assert!(dir.path().join("escape.txt").exists());
}

#[test]
fn bench_soak_reports_a_memory_series() {
    let out = bin()
        .args(["bench", "--soak", "1s", "--sample-every", "300ms", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let samples = report["samples"].as_array().unwrap();
    assert!(samples.len() >= 3, "{report}");
    let last = samples.last().unwrap();
    assert!(last["words"].as_u64().unwrap() > 0, "the workload ran");
    assert_eq!(last["trees_failed"].as_u64(), Some(0));
    if std::path::Path::new("/proc/self/status").exists() {
        assert!(last["rss_kb"].as_u64().unwrap() > 0);
        assert!(report["hwm_at_end_kb"].as_u64() >= last["rss_kb"].as_u64());
    }
}

#[test]
fn run_kills_a_worker_on_schedule_and_the_run_still_completes() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("t.ron");
    let mut t = finite(None);
    t.settings.workers = 2;
    t.settings.message_timeout_secs = 1;
    save_ron(&t, &file).unwrap();
    let json = dir.path().join("m.json");
    // Executors in plan order: numbers → worker 0, sink → worker 1, acker → worker 0.
    bin()
        .args([
            "run",
            file.to_str().unwrap(),
            "-q",
            "--kill-worker",
            "100ms:1",
            "--kill-worker",
            "50ms:7",
            "--json",
            json.to_str().unwrap(),
        ])
        .assert()
        .success()
        .stderr(contains("worker 1 killed: 1 executors restarted"))
        .stderr(contains("kill worker 7 refused"))
        .stdout(contains("killed 1"));
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    assert_eq!(metrics["nodes"]["sink"]["restarts"], 1);
    assert_eq!(metrics["nodes"]["numbers"]["restarts"], 0);
    assert_eq!(metrics["nodes"]["numbers"]["acked"], 100);
    assert_eq!(metrics["workers"][1]["kills"], 1);
}

#[test]
fn run_refuses_a_malformed_kill_worker() {
    bin()
        .args(["run", "topologies/word_count.ron", "--kill-worker", "soon"])
        .assert()
        .failure()
        .stderr(contains("AT:N"));
}

#[test]
fn run_injects_faults_from_the_command_line_and_every_record_still_arrives() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("t.ron");
    save_ron(&finite(Some("out.txt")), &file).unwrap();
    let json = dir.path().join("m.json");
    bin()
        .args([
            "run",
            file.to_str().unwrap(),
            "-q",
            "--seed",
            "5",
            "--fault",
            "sink:fail=0.3,latency=1",
            "--json",
            json.to_str().unwrap(),
        ])
        .timeout(std::time::Duration::from_secs(120))
        .assert()
        .success()
        .stderr(contains("sink").and(contains("faults: fail")));
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    // Failed at the sink, replayed by the spout, until every number was written once.
    assert!(
        metrics["nodes"]["sink"]["failed"].as_u64().unwrap() > 0,
        "{metrics}"
    );
    assert!(
        metrics["nodes"]["numbers"]["replayed"].as_u64().unwrap() > 0,
        "{metrics}"
    );
    assert_eq!(metrics["nodes"]["numbers"]["acked"], 100);
    let mut lines: Vec<u64> = std::fs::read_to_string(dir.path().join("out.txt"))
        .unwrap()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    lines.sort_unstable();
    assert_eq!(lines, (0..100).collect::<Vec<u64>>());
}

#[test]
fn run_refuses_faults_on_unknown_nodes_or_out_of_range() {
    bin()
        .args([
            "run",
            "topologies/word_count.ron",
            "--fault",
            "nobody:fail=0.1",
        ])
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .code(2)
        .stderr(contains("nobody").and(contains("its nodes: count, log, sentences, split")));
    bin()
        .args([
            "run",
            "topologies/word_count.ron",
            "--fault",
            "split:fail=2",
        ])
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .failure()
        .stderr(contains("between 0 and 1"));
    bin()
        .args([
            "run",
            "topologies/word_count.ron",
            "--compare",
            "--fault",
            "split:fail=0.1",
        ])
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .code(2)
        .stderr(contains("--compare"));
}

#[test]
fn run_plays_the_files_scenario_and_says_each_step() {
    use tributary::model::{ScenarioAction, ScenarioStep};
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("t.ron");
    let mut t = finite(Some("out.txt"));
    t.settings.workers = 2;
    t.settings.message_timeout_secs = 1;
    // Unthrottled: the hundred numbers pass in a few milliseconds, so the faults at 0 s
    // must be in force before the first of them (the run then waits for the later steps).
    t.settings.scenario = vec![
        ScenarioStep {
            at_ms: 0,
            action: ScenarioAction::SetFaults {
                node: "sink".into(),
                fail: 0.5,
                latency_ms: 2.0,
                crash: 0.0,
            },
        },
        ScenarioStep {
            at_ms: 100,
            action: ScenarioAction::KillWorker(1),
        },
        ScenarioStep {
            at_ms: 200,
            action: ScenarioAction::ClearFaults,
        },
    ];
    save_ron(&t, &file).unwrap();
    // The file says it in words a reader can check.
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("scenario: ["), "{text}");
    assert!(text.contains("KillWorker(1)"), "{text}");
    assert_eq!(tributary::format::load_ron(&file).unwrap(), t);
    let json = dir.path().join("m.json");
    bin()
        .args([
            "run",
            file.to_str().unwrap(),
            "-q",
            "--json",
            json.to_str().unwrap(),
        ])
        .timeout(std::time::Duration::from_secs(120))
        .assert()
        .success()
        .stderr(
            contains("scenario: at 0s: sink: fail 50%, latency 2 ms")
                .and(contains("scenario: at 100ms: kill worker 1"))
                .and(contains("scenario: at 200ms: clear all faults"))
                .and(contains("worker 1 killed")),
        );
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    assert!(
        metrics["nodes"]["sink"]["failed"].as_u64().unwrap() > 0,
        "{metrics}"
    );
    assert_eq!(metrics["workers"][1]["kills"], 1);
    // Faults and a kill, and still every number written: at-least-once held.
    let mut lines: Vec<u64> = std::fs::read_to_string(dir.path().join("out.txt"))
        .unwrap()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    lines.sort_unstable();
    lines.dedup();
    assert_eq!(lines, (0..100).collect::<Vec<u64>>());
}
