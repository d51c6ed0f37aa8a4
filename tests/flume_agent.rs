//! Whole Flume agents run end to end: a topology's Flume nodes built and started by
//! [`FlumeRun`], events flowing through real channels, sinks, avro hops between agents,
//! fail-over, back-pressure and a full disk, observed only through the public run API
//! (snapshots, notices, the log tail) and the files the sinks write.
//!
//! Every test works in its own temporary folder and on loopback; waits have a deadline
//! that only turns a hang into a failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tributary::flume::{AgentOptions, FlumeRun};
use tributary::model::{Grouping, Node, Role, SinkGroup, SinkProcessor, Topology, Value};
use tributary::policy::Grant;

mod common;
use common::wait_for;

fn fast(base: &std::path::Path) -> AgentOptions {
    AgentOptions {
        grant: Grant::new(base),
        backoff_step: Duration::from_millis(2),
        max_backoff: Duration::from_millis(10),
        source_retry_pause: Duration::from_millis(2),
        ..AgentOptions::default()
    }
}

fn node(name: &str, role: Role, component: &str, agent: &str, config: &[(&str, Value)]) -> Node {
    let mut n = Node::new(name, role, component);
    n.agent = Some(agent.to_string());
    for (k, v) in config {
        n.config.insert(k.to_string(), v.clone());
    }
    n
}

fn int(v: i64) -> Value {
    Value::Int(v)
}

fn s(v: &str) -> Value {
    Value::Str(v.into())
}

/// Waits for a condition the run is sure to reach; the deadline only turns a hang into
/// a failure, it does not decide the outcome.
fn lines_in(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let text = std::fs::read_to_string(e.path()).unwrap_or_default();
            out.extend(text.lines().map(str::to_string));
        }
    }
    out
}

#[test]
fn seq_to_file_channel_to_file_roll_end_to_end() {
    let base = tempfile::tempdir().unwrap();
    let mut t = Topology::new("t");
    t.add_node(node(
        "gen",
        Role::Source,
        "sequence",
        "a",
        &[("limit", int(50)), ("batchSize", int(5))],
    ))
    .unwrap();
    t.add_node(node(
        "durable",
        Role::Channel,
        "file",
        "a",
        &[
            ("checkpointDir", s("ck")),
            ("dataDirs", s("data")),
            ("keep-alive", int(0)),
        ],
    ))
    .unwrap();
    t.add_node(node(
        "out",
        Role::Sink,
        "file_roll",
        "a",
        &[
            ("sink.directory", s("rolled")),
            ("sink.rollInterval", int(0)),
        ],
    ))
    .unwrap();
    t.connect_names("gen", "durable", "default", Grouping::Required)
        .unwrap();
    t.connect_names("durable", "out", "default", Grouping::Drain)
        .unwrap();
    let run = FlumeRun::start(&t, fast(base.path())).unwrap();
    wait_for("50 events delivered", || {
        run.snapshot().nodes["out"].events_out == 50
    });
    let snap = run.snapshot();
    assert_eq!(snap.nodes["gen"].events_out, 50);
    assert_eq!(snap.nodes["durable"].channel.unwrap().takes_committed, 50);
    assert!(snap.agents["a"]);
    assert!(run.stop().is_empty());
    let lines = lines_in(&base.path().join("rolled"));
    let expected: Vec<String> = (0..50).map(|i| i.to_string()).collect();
    assert_eq!(lines, expected);
}

/// Drops a file into the spool folder atomically (write hidden, then rename), as
/// spooling sources require.
fn spool(dir: &std::path::Path, name: &str, lines: std::ops::Range<u64>) {
    let text: String = lines.map(|i| format!("{i}\n")).collect();
    let hidden = dir.join(format!(".{name}"));
    std::fs::write(&hidden, text).unwrap();
    std::fs::rename(hidden, dir.join(name)).unwrap();
}

#[test]
fn two_tier_failover_survives_losing_a_collector() {
    let base = tempfile::tempdir().unwrap();
    let spool_dir = base.path().join("spool");
    std::fs::create_dir_all(&spool_dir).unwrap();
    let mut t = Topology::new("t");
    t.add_node(node(
        "files",
        Role::Source,
        "spooldir",
        "edge",
        &[
            ("spoolDir", s("spool")),
            ("pollDelay", int(5)),
            ("batchSize", int(10)),
        ],
    ))
    .unwrap();
    t.add_node(node(
        "buf",
        Role::Channel,
        "memory",
        "edge",
        &[("keep-alive", int(0)), ("capacity", int(1000))],
    ))
    .unwrap();
    t.add_node(node(
        "fwdA",
        Role::Sink,
        "avro_sink",
        "edge",
        &[("port", int(7101)), ("batch-size", int(10))],
    ))
    .unwrap();
    t.add_node(node(
        "fwdB",
        Role::Sink,
        "avro_sink",
        "edge",
        &[("port", int(7102)), ("batch-size", int(10))],
    ))
    .unwrap();
    t.connect_names("files", "buf", "default", Grouping::Required)
        .unwrap();
    t.connect_names("buf", "fwdA", "default", Grouping::Drain)
        .unwrap();
    t.connect_names("buf", "fwdB", "default", Grouping::Drain)
        .unwrap();
    t.sink_groups.push(SinkGroup {
        name: "fwd".into(),
        sinks: vec!["fwdA".into(), "fwdB".into()],
        processor: SinkProcessor::Failover {
            priorities: BTreeMap::from([("fwdA".to_string(), 20), ("fwdB".to_string(), 10)]),
            max_penalty_ms: 30_000,
        },
    });
    for (agent, port) in [("collA", 7101), ("collB", 7102)] {
        t.add_node(node(
            &format!("{agent}-in"),
            Role::Source,
            "avro_source",
            agent,
            &[("port", int(port))],
        ))
        .unwrap();
        // Collector A keeps its channel on disk, so what it holds when it goes down
        // can be checked afterwards.
        let channel = if agent == "collA" {
            node(
                &format!("{agent}-ch"),
                Role::Channel,
                "file",
                agent,
                &[
                    ("keep-alive", int(0)),
                    ("checkpointDir", s("a-ck")),
                    ("dataDirs", s("a-data")),
                ],
            )
        } else {
            node(
                &format!("{agent}-ch"),
                Role::Channel,
                "memory",
                agent,
                &[("keep-alive", int(0))],
            )
        };
        t.add_node(channel).unwrap();
        t.add_node(node(
            &format!("{agent}-out"),
            Role::Sink,
            "file_roll",
            agent,
            &[("sink.directory", s(agent)), ("sink.rollInterval", int(0))],
        ))
        .unwrap();
        t.connect_names(
            &format!("{agent}-in"),
            &format!("{agent}-ch"),
            "default",
            Grouping::Required,
        )
        .unwrap();
        t.connect_names(
            &format!("{agent}-ch"),
            &format!("{agent}-out"),
            "default",
            Grouping::Drain,
        )
        .unwrap();
    }
    let mut run = FlumeRun::start(&t, fast(base.path())).unwrap();
    // Phase 1: everything goes through the primary.
    spool(&spool_dir, "one.log", 0..100);
    wait_for("collector A receives phase 1", || {
        run.snapshot().nodes["collA-out"].events_out == 100
    });
    let before = run.snapshot();
    assert!(before.nodes["fwdA"].sink.as_ref().unwrap().active);
    assert_eq!(before.nodes["collB-out"].events_out, 0, "B is the backup");
    // Phase 2: the primary collector is down; the group fails over to B.
    run.stop_agent("collA");
    spool(&spool_dir, "two.log", 100..200);
    wait_for("collector B receives phase 2", || {
        run.snapshot().nodes["collB-out"].events_out == 100
    });
    let snap = run.snapshot();
    let fwd_a = snap.nodes["fwdA"].sink.clone().unwrap();
    assert!(
        !fwd_a.active && fwd_a.penalty_until_ms.is_some(),
        "{fwd_a:?}"
    );
    assert!(fwd_a.failures >= 1);
    assert!(snap.nodes["fwdB"].sink.as_ref().unwrap().active);
    assert!(!snap.agents["collA"]);
    assert!(snap.agents["edge"]);
    assert!(run.stop().is_empty());
    let a: Vec<u64> = lines_in(&base.path().join("collA"))
        .iter()
        .map(|l| l.parse().unwrap())
        .collect();
    let b: Vec<u64> = lines_in(&base.path().join("collB"))
        .iter()
        .map(|l| l.parse().unwrap())
        .collect();
    assert_eq!(a, (0..100).collect::<Vec<u64>>());
    assert_eq!(b, (100..200).collect::<Vec<u64>>());
}

#[test]
fn fan_in_from_two_agents_with_an_optional_side_channel() {
    let base = tempfile::tempdir().unwrap();
    let mut t = Topology::new("t");
    for (agent, start) in [("edge1", 0), ("edge2", 1000)] {
        t.add_node(node(
            &format!("{agent}-gen"),
            Role::Source,
            "sequence",
            agent,
            &[
                ("start", int(start)),
                ("limit", int(40)),
                ("batchSize", int(4)),
            ],
        ))
        .unwrap();
        t.add_node(node(
            &format!("{agent}-ch"),
            Role::Channel,
            "memory",
            agent,
            &[("keep-alive", int(0))],
        ))
        .unwrap();
        // A small optional side channel nobody drains: it takes the first batch of 4,
        // then its puts fail (whole batches) and are ignored; the main flow carries on.
        t.add_node(node(
            &format!("{agent}-side"),
            Role::Channel,
            "memory",
            agent,
            &[("keep-alive", int(0)), ("capacity", int(6))],
        ))
        .unwrap();
        t.add_node(node(
            &format!("{agent}-fwd"),
            Role::Sink,
            "avro_sink",
            agent,
            &[("port", int(7201))],
        ))
        .unwrap();
        t.connect_names(
            &format!("{agent}-gen"),
            &format!("{agent}-ch"),
            "default",
            Grouping::Required,
        )
        .unwrap();
        t.connect_names(
            &format!("{agent}-gen"),
            &format!("{agent}-side"),
            "default",
            Grouping::Optional,
        )
        .unwrap();
        t.connect_names(
            &format!("{agent}-ch"),
            &format!("{agent}-fwd"),
            "default",
            Grouping::Drain,
        )
        .unwrap();
    }
    t.add_node(node(
        "in",
        Role::Source,
        "avro_source",
        "collector",
        &[("port", int(7201))],
    ))
    .unwrap();
    t.add_node(node(
        "all",
        Role::Channel,
        "memory",
        "collector",
        &[("keep-alive", int(0))],
    ))
    .unwrap();
    t.add_node(node(
        "store",
        Role::Sink,
        "file_roll",
        "collector",
        &[
            ("sink.directory", s("store")),
            ("sink.rollInterval", int(0)),
        ],
    ))
    .unwrap();
    t.connect_names("in", "all", "default", Grouping::Required)
        .unwrap();
    t.connect_names("all", "store", "default", Grouping::Drain)
        .unwrap();
    let run = FlumeRun::start(&t, fast(base.path())).unwrap();
    wait_for("both edges delivered", || {
        run.snapshot().nodes["store"].events_out == 80
    });
    let snap = run.snapshot();
    assert_eq!(snap.nodes["in"].events_out, 80);
    assert_eq!(snap.nodes["edge1-side"].channel.unwrap().size, 4);
    assert!(run.stop().is_empty());
    let got: BTreeSet<u64> = lines_in(&base.path().join("store"))
        .iter()
        .map(|l| l.parse().unwrap())
        .collect();
    let expected: BTreeSet<u64> = (0..40).chain(1000..1040).collect();
    assert_eq!(got, expected);
}

#[test]
fn netcat_interceptors_and_multiplexing_end_to_end() {
    let base = tempfile::tempdir().unwrap();
    let mut t = Topology::new("t");
    t.add_node(node(
        "lines",
        Role::Source,
        "netcat",
        "edge",
        &[
            ("port", int(0)),
            ("interceptors", s("drop lvl")),
            ("interceptors.drop.type", s("regex_filter")),
            ("interceptors.drop.regex", s("^DEBUG")),
            ("interceptors.drop.excludeEvents", Value::Bool(true)),
            ("interceptors.lvl.type", s("static")),
            ("interceptors.lvl.key", s("level")),
            ("interceptors.lvl.value", s("info")),
            ("selector.header", s("level")),
        ],
    ))
    .unwrap();
    t.add_node(node(
        "hot",
        Role::Channel,
        "memory",
        "edge",
        &[("keep-alive", int(0))],
    ))
    .unwrap();
    t.add_node(node(
        "cold",
        Role::Channel,
        "memory",
        "edge",
        &[("keep-alive", int(0))],
    ))
    .unwrap();
    t.add_node(node("console", Role::Sink, "logger", "edge", &[]))
        .unwrap();
    t.add_node(node("drop", Role::Sink, "null", "edge", &[]))
        .unwrap();
    t.connect_names(
        "lines",
        "hot",
        "default",
        Grouping::Mapped(vec!["info".into()]),
    )
    .unwrap();
    t.connect_names("lines", "cold", "default", Grouping::Default)
        .unwrap();
    t.connect_names("hot", "console", "default", Grouping::Drain)
        .unwrap();
    t.connect_names("cold", "drop", "default", Grouping::Drain)
        .unwrap();
    let run = FlumeRun::start(&t, fast(base.path())).unwrap();
    let addr = run.snapshot().nodes["lines"].listening.unwrap();
    let mut client = std::net::TcpStream::connect(addr).unwrap();
    client.write_all(b"hello\nDEBUG noise\nworld\n").unwrap();
    let mut replies = BufReader::new(client.try_clone().unwrap());
    for _ in 0..3 {
        let mut line = String::new();
        replies.read_line(&mut line).unwrap();
        assert_eq!(line, "OK\n");
    }
    wait_for("two events logged", || run.log_tail().len() == 2);
    let tail = run.log_tail();
    assert!(
        tail[0].contains("level=info") && tail[0].ends_with("hello }"),
        "{tail:?}"
    );
    assert!(tail[1].ends_with("world }"), "{tail:?}");
    let snap = run.snapshot();
    assert_eq!(snap.nodes["cold"].events_in, 0);
    assert_eq!(
        (
            snap.nodes["lines"].events_in,
            snap.nodes["lines"].events_out
        ),
        (3, 2)
    );
    drop(client);
    assert!(run.stop().is_empty());
}

#[test]
fn spooldir_agent_renames_completed_files() {
    let base = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(base.path().join("spool")).unwrap();
    std::fs::write(base.path().join("spool/one.log"), "a\nb\n").unwrap();
    let mut t = Topology::new("t");
    t.add_node(node(
        "files",
        Role::Source,
        "spooldir",
        "ingest",
        &[("spoolDir", s("spool")), ("pollDelay", int(5))],
    ))
    .unwrap();
    t.add_node(node(
        "buf",
        Role::Channel,
        "memory",
        "ingest",
        &[("keep-alive", int(0))],
    ))
    .unwrap();
    t.add_node(node("sink", Role::Sink, "null", "ingest", &[]))
        .unwrap();
    t.connect_names("files", "buf", "default", Grouping::Required)
        .unwrap();
    t.connect_names("buf", "sink", "default", Grouping::Drain)
        .unwrap();
    let run = FlumeRun::start(&t, fast(base.path())).unwrap();
    wait_for("file completed", || {
        base.path().join("spool/one.log.COMPLETED").exists()
    });
    wait_for("events drained", || {
        run.snapshot().nodes["sink"].events_out == 2
    });
    assert!(run.stop().is_empty());
}

#[test]
fn a_full_channel_blocks_its_source_visibly() {
    let base = tempfile::tempdir().unwrap();
    let mut t = Topology::new("t");
    t.add_node(node("gen", Role::Source, "sequence", "a", &[]))
        .unwrap();
    t.add_node(node(
        "small",
        Role::Channel,
        "memory",
        "a",
        &[("capacity", int(5)), ("keep-alive", int(0))],
    ))
    .unwrap();
    // A Storm bolt drains this channel in the main engine; here nobody does.
    t.add_node(Node::new("bolt", Role::Bolt, "split")).unwrap();
    t.connect_names("gen", "small", "default", Grouping::Required)
        .unwrap();
    t.connect_names("small", "bolt", "default", Grouping::Drain)
        .unwrap();
    let run = FlumeRun::start(&t, fast(base.path())).unwrap();
    wait_for("source blocked", || run.snapshot().nodes["gen"].blocked);
    let snap = run.snapshot();
    assert_eq!(snap.nodes["small"].channel.unwrap().size, 5);
    assert!(snap.nodes["small"].blocked);
    assert!(run.channel("small").is_some());
    assert!(run.stop().is_empty());
}

#[test]
fn unsupported_pieces_are_refused_by_name() {
    let mut t = Topology::new("t");
    t.add_node(node("sh", Role::Source, "exec", "a", &[]))
        .unwrap();
    t.add_node(node("c", Role::Channel, "memory", "a", &[]))
        .unwrap();
    t.connect_names("sh", "c", "default", Grouping::Required)
        .unwrap();
    let err = FlumeRun::start(&t, AgentOptions::default()).err().unwrap();
    assert!(err.to_string().contains("'sh'") && err.to_string().contains("security"));
}

#[test]
fn a_full_disk_is_logged_once_and_the_flow_resumes_when_space_returns() {
    let base = tempfile::tempdir().unwrap();
    let mut t = Topology::new("t");
    t.add_node(node(
        "gen",
        Role::Source,
        "sequence",
        "a",
        &[("limit", int(200))],
    ))
    .unwrap();
    t.add_node(node(
        "durable",
        Role::Channel,
        "file",
        "a",
        &[
            ("checkpointDir", s("ck")),
            ("dataDirs", s("data")),
            ("keep-alive", int(0)),
        ],
    ))
    .unwrap();
    t.add_node(node("out", Role::Sink, "null", "a", &[]))
        .unwrap();
    t.connect_names("gen", "durable", "default", Grouping::Required)
        .unwrap();
    t.connect_names("durable", "out", "default", Grouping::Drain)
        .unwrap();
    let options = fast(base.path());
    let (disk, paused) = (Arc::clone(&options.disk), Arc::clone(&options.paused));
    // The channel opens on a healthy disk; the disk fills before the first event.
    paused.store(true, Ordering::Relaxed);
    let run = FlumeRun::start(&t, options).unwrap();
    disk.set(true);
    paused.store(false, Ordering::Relaxed);
    wait_for("commits to fail", || {
        run.snapshot().nodes["durable"]
            .channel
            .is_some_and(|c| c.io_failures >= 20)
    });
    let notices = run.drain_notices();
    let errors: Vec<_> = notices
        .iter()
        .filter(|n| n.node == "durable" && n.text.contains("cannot write its log"))
        .collect();
    assert_eq!(errors.len(), 1, "one line for the episode: {notices:?}");
    assert!(run.snapshot().nodes["durable"].last_error.is_some());
    assert_eq!(run.snapshot().nodes["out"].events_out, 0);
    // Space returns: everything flows, with no restart.
    disk.set(false);
    wait_for("all events delivered", || {
        run.snapshot().nodes["out"].events_out == 200
    });
    let notices = run.drain_notices();
    assert!(
        notices.iter().any(|n| n.text.contains("writing again")),
        "{notices:?}"
    );
    assert!(run.snapshot().nodes["durable"].last_error.is_none());
    assert!(run.stop().is_empty());
}
