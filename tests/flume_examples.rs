//! The shipped Flume example topologies build and run as real agents.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::time::Duration;

use tributary::flume::{AgentOptions, FlumeRun};
use tributary::format::load_ron;
use tributary::model::Value;

mod common;
use common::wait_for;

fn options(base: &Path) -> AgentOptions {
    AgentOptions {
        grant: tributary::policy::Grant::new(base),
        backoff_step: Duration::from_millis(2),
        max_backoff: Duration::from_millis(10),
        source_retry_pause: Duration::from_millis(2),
        ..AgentOptions::default()
    }
}

#[test]
fn flume_log_pipeline_example_runs() {
    let mut topology = load_ron(Path::new("topologies/flume_log_pipeline.ron")).unwrap();
    // An ephemeral port instead of the example's fixed one, so tests never collide.
    topology
        .node_by_name_mut("lines")
        .unwrap()
        .config
        .insert("port".into(), Value::Int(0));
    let base = tempfile::tempdir().unwrap();
    let run = FlumeRun::start(&topology, options(base.path())).unwrap();
    let addr = run.snapshot().nodes["lines"].listening.unwrap();
    let mut client = std::net::TcpStream::connect(addr).unwrap();
    client.write_all(b"first line\nsecond line\n").unwrap();
    let mut replies = BufReader::new(client.try_clone().unwrap());
    for _ in 0..2 {
        let mut line = String::new();
        replies.read_line(&mut line).unwrap();
        assert_eq!(line, "OK\n");
    }
    wait_for("both sinks deliver", || {
        let snap = run.snapshot();
        snap.nodes["console"].events_out == 2 && snap.nodes["archive"].events_out == 2
    });
    assert_eq!(run.log_tail().len(), 2);
    let snap = run.snapshot();
    assert_eq!(snap.nodes["durable"].agent, "edge");
    assert!(snap.recovery.contains_key("durable"));
    drop(client);
    assert!(run.stop().is_empty());
    let rolled = base.path().join("flume-data/rolled");
    let text: String = std::fs::read_dir(&rolled)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert_eq!(text, "first line\nsecond line\n");
}

#[test]
fn mixed_pipeline_builds_its_flume_half() {
    let topology = load_ron(Path::new("topologies/mixed_pipeline.ron")).unwrap();
    let base = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(base.path().join("spool")).unwrap();
    std::fs::write(base.path().join("spool/app.log"), "INFO up\nERROR down\n").unwrap();
    let run = FlumeRun::start(&topology, options(base.path())).unwrap();
    // The channel is drained by Storm bolts in the main engine; here it just fills.
    wait_for("the spooled file is consumed", || {
        run.snapshot().nodes["buffer"].channel.unwrap().size == 2
    });
    assert!(base.path().join("spool/app.log.COMPLETED").exists());
    assert!(run.channel("buffer").is_some());
    assert!(run.stop().is_empty());
}
