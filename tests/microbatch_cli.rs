//! Micro-batch mode from the command line: the shipped Spark example runs headless and
//! reports batches and window results; `--compare` runs both modes and reports each, and
//! refuses designs with operators that exist only in micro-batch mode.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing

use predicates::prelude::*;
use predicates::str::contains;

mod common;
use common::cli as bin;

fn json(stdout: &[u8]) -> serde_json::Value {
    let text = String::from_utf8_lossy(stdout);
    let start = text.find('{').unwrap();
    serde_json::from_str(&text[start..]).unwrap()
}

/// A copy of a shipped example in `dir` whose spouts stop after `limits` records, so a
/// run ends by itself once they are processed, whatever the machine's speed.
fn finite_copy(dir: &std::path::Path, example: &str, limits: &[(&str, i64)]) -> String {
    let mut t = tributary::format::load_ron(&common::examples_dir().join(example)).unwrap();
    for (node, limit) in limits {
        let node = t.node_by_name_mut(node).unwrap();
        node.config
            .insert("limit".into(), tributary::model::Value::Int(*limit));
    }
    common::save_in(dir, example, &t)
        .to_string_lossy()
        .into_owned()
}

#[test]
fn the_spark_example_runs_finite_input_to_the_end() {
    let dir = tempfile::tempdir().unwrap();
    // 1500 sentences at the example's 1000 a second: at least 1.5 s of input, so at
    // least three 500 ms batches, however fast the machine.
    let file = finite_copy(
        dir.path(),
        "spark_windowed_top_words.ron",
        &[("sentences", 1500)],
    );
    let out = bin()
        .args(["run", &file, "-q", "--json", "-"])
        .assert()
        .success()
        .stderr(contains("batches "))
        .get_output()
        .stdout
        .clone();
    let m = json(&out);
    let batch = &m["batch"];
    assert!(batch["batches_completed"].as_u64().unwrap() >= 3, "{batch}");
    assert_eq!(batch["interval"], 500.0);
    let window = &batch["windows"]["top_words"];
    // Windows close every second (every second 500 ms batch).
    let end = window["window_end_ms"].as_u64().unwrap();
    assert!(end >= 1000 && end.is_multiple_of(1000), "{end}");
    assert!(!window["top"].as_array().unwrap().is_empty());
    assert!(m["end_to_end_latency_p99"].as_f64().unwrap() > 0.0);
    assert_eq!(
        m["nodes"]["sentences"]["acked"], 1500,
        "every sentence, once"
    );
}

#[test]
fn the_join_example_runs_and_refuses_a_comparison() {
    let dir = tempfile::tempdir().unwrap();
    // 60 views at 40 a second and 450 clicks at 300: 1.5 s of input each.
    let file = finite_copy(
        dir.path(),
        "spark_join_clicks.ron",
        &[("views", 60), ("clicks", 450)],
    );
    let out = bin()
        .args(["run", &file, "-q", "--json", "-"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let m = json(&out);
    // Views and clicks draw pages from the same 12, so same-time batches share pages.
    assert!(m["nodes"]["per_page"]["emitted"].as_u64().unwrap() > 0);
    assert_eq!(
        (
            &m["nodes"]["views"]["acked"],
            &m["nodes"]["clicks"]["acked"]
        ),
        (&serde_json::json!(60), &serde_json::json!(450)),
        "every record, once"
    );
    let window = &m["batch"]["windows"]["clicks_last_2s"];
    // Windows close every second (every second 500 ms batch).
    let end = window["window_end_ms"].as_u64().unwrap();
    assert!(end >= 1000 && end.is_multiple_of(1000), "{end}");
    assert_eq!(window["top"][0][0], "count");
    // The join has no record-at-a-time meaning, so the comparison is refused up front.
    bin()
        .args([
            "run",
            "topologies/spark_join_clicks.ron",
            "--compare",
            "--for",
            "1s",
        ])
        .assert()
        .failure()
        .stderr(contains(
            "node 'per_page': 'join' is a Spark Streaming operator",
        ));
}

#[test]
fn batch_ms_switches_a_record_at_a_time_design() {
    bin()
        .args([
            "run",
            "topologies/word_count.ron",
            "--batch-ms",
            "100",
            "--rate",
            "500",
            "--for",
            "600ms",
            "-q",
        ])
        .assert()
        .success()
        .stdout(contains("batches ").and(contains("every 100ms")));
}

#[test]
fn compare_reports_both_modes() {
    let out = bin()
        .args([
            "run",
            "topologies/word_count.ron",
            "--compare",
            "--batch-ms",
            "200",
            "--rate",
            "500",
            "--for",
            "1s",
            "--json",
            "-",
        ])
        .assert()
        .success()
        // With `--json -` the table is on stderr and stdout holds only the JSON.
        .stderr(contains("record-at-a-time").and(contains("micro-batch (200 ms)")))
        .get_output()
        .stdout
        .clone();
    let m = json(&out);
    let c = &m["comparison"];
    for side in ["record_at_a_time", "micro_batch"] {
        assert!(c[side]["records"].as_u64().unwrap() > 0, "{side}");
        assert!(
            c[side]["end_to_end_latency_p50"].as_f64().unwrap() > 0.0,
            "{side}"
        );
    }
    assert_eq!(c["micro_batch"]["interval_ms"], 200);
    // At least one batch: how many fit in the second depends on the machine's load, and
    // the test is about both modes being reported, not about speed.
    assert!(
        m["micro_batch"]["batch"]["batches_completed"]
            .as_u64()
            .unwrap()
            >= 1
    );
    assert!(m["record_at_a_time"]["batch"].is_null());
}

#[test]
fn run_kills_a_micro_batch_worker_and_reports_the_recovery() {
    let dir = tempfile::tempdir().unwrap();
    let mut t =
        tributary::format::load_ron(&common::examples_dir().join("spark_windowed_top_words.ron"))
            .unwrap();
    t.settings.workers = 2;
    for name in ["sentences", "split", "top_words", "frequent", "totals"] {
        t.node_by_name_mut(name).unwrap().parallelism = 2;
    }
    // 1500 sentences per receiver at 1000 a second: 1.5 s of input, so the kill sent at
    // 100 ms lands in a job that has records, however fast the machine.
    t.node_by_name_mut("sentences")
        .unwrap()
        .config
        .insert("limit".into(), tributary::model::Value::Int(1500));
    let file = common::save_in(dir.path(), "two_workers.ron", &t);
    let out = bin()
        .args([
            "run",
            file.to_str().unwrap(),
            "-q",
            "--kill-worker",
            "100ms:1",
            "--kill-worker",
            "50ms:9",
            "--json",
            "-",
        ])
        .assert()
        .success()
        .stderr(contains("lineage: 1 worker kills"))
        .stderr(contains("worker 1 lost after"))
        .stderr(contains("kill worker 9 refused"))
        .get_output()
        .stdout
        .clone();
    let m = json(&out);
    let batch = &m["batch"];
    assert_eq!(batch["workers_killed"], 1, "{batch}");
    let hit: Vec<&serde_json::Value> = batch["recent"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["killed_workers"] == serde_json::json!([1]))
        .collect();
    assert_eq!(hit.len(), 1, "one batch lost worker 1: {batch}");
    assert_eq!(m["workers"][1]["kills"], 1);
    // Every recomputed partition was on the killed worker.
    for r in hit[0]["recomputed"].as_array().unwrap() {
        assert_eq!(r["worker"], 1, "{r}");
    }
}

#[test]
fn run_feeds_a_micro_batch_job_from_a_flume_channel_to_the_end() {
    use tributary::model::{ExecutionMode, Grouping, Node, Role, StreamDecl, Topology};
    let dir = tempfile::tempdir().unwrap();
    let mut t = Topology::new("flume-batches");
    t.settings.mode = ExecutionMode::MicroBatch { interval_ms: 100 };
    t.add_node(
        Node::new("gen", Role::Source, "sequence")
            .with_config("limit", 300i64)
            .with_config("rate_per_sec", 2000)
            .with_output(StreamDecl::default_stream(&["n"])),
    )
    .unwrap();
    t.add_node(Node::new("events", Role::Channel, "memory"))
        .unwrap();
    t.add_node(Node::new("sink", Role::Bolt, "null")).unwrap();
    t.connect_names("gen", "events", "default", Grouping::Required)
        .unwrap();
    t.connect_names("events", "sink", "default", Grouping::Drain)
        .unwrap();
    let file = common::save_in(dir.path(), "flume_batches.ron", &t);
    let out = bin()
        .args(["run", file.to_str().unwrap(), "-q", "--json", "-"])
        .assert()
        .success()
        .stderr(contains("batches "))
        .get_output()
        .stdout
        .clone();
    let m = json(&out);
    // Every event became a record of a batch and reached the bolt; the channel's takes
    // all committed.
    assert_eq!(m["nodes"]["events"]["emitted"], 300, "{}", m["nodes"]);
    assert_eq!(m["nodes"]["sink"]["executed"], 300, "{}", m["nodes"]);
    let channel = &m["nodes"]["events"]["flume"]["channel"];
    assert_eq!(channel["size"], 0, "{channel}");
    assert_eq!(channel["in_flight"], 0, "{channel}");
}
