//! Built-in components doing real work: word count, windows, map/filter, file sink and
//! the path rule, control (pause, rate), and refusal of bad topologies.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing

mod common;

use std::time::{Duration, Instant};

use tributary::model::{Grouping, Node, Role, StreamDecl, Topology, WindowSize, WindowSpec};
use tributary::runtime::{Control, Engine, RunError, RunOptions, StopMode, Val};

fn add(t: &mut Topology, node: Node) {
    t.add_node(node).unwrap();
}

#[test]
fn word_count_counts_every_word() {
    let mut t = Topology::new("wc");
    add(
        &mut t,
        Node::new("s", Role::Spout, "sentence_generator")
            .with_config("limit", 200)
            .with_config("words_per_sentence", 5)
            .with_output(StreamDecl::default_stream(&["sentence"])),
    );
    add(
        &mut t,
        Node::new("split", Role::Bolt, "split")
            .with_output(StreamDecl::default_stream(&["word"]))
            .with_parallelism(2),
    );
    add(
        &mut t,
        Node::new("count", Role::Bolt, "count_by_key")
            .with_output(StreamDecl::default_stream(&["word", "count"]))
            .with_parallelism(2),
    );
    add(&mut t, Node::new("out", Role::Bolt, "collector"));
    t.connect_names("s", "split", "default", Grouping::Shuffle)
        .unwrap();
    t.connect_names(
        "split",
        "count",
        "default",
        Grouping::Fields(vec!["word".into()]),
    )
    .unwrap();
    t.connect_names("count", "out", "default", Grouping::Shuffle)
        .unwrap();
    let engine = Engine::start(&t, RunOptions::default()).unwrap();
    assert!(engine.wait_finished(Duration::from_secs(60)));
    let got = engine.collected("out");
    assert_eq!(got.len(), 1000);
    // Final count per word = number of times it was seen.
    let mut finals = std::collections::BTreeMap::new();
    for v in &got {
        let (Some(w), Some(Val::Int(c))) = (v.get(0), v.get(1)) else {
            panic!()
        };
        let e = finals.entry(w.to_string()).or_insert(0);
        *e = (*e).max(*c);
    }
    assert_eq!(finals.values().sum::<i64>(), 1000);
    let snap = engine.stop(StopMode::Drain);
    assert_eq!(snap.nodes["s"].acked, 200);
    assert!(snap.nodes["s"].complete_latency_p99 > Duration::ZERO);
}

#[test]
fn count_window_tumbles_and_slides() {
    for (length, slide, expect) in [
        (10, 10, vec![10i64; 10]),
        (10, 5, [vec![5], vec![10; 19]].concat()),
    ] {
        let mut t = Topology::new("w");
        add(
            &mut t,
            Node::new("s", Role::Spout, "sequence")
                .with_config("limit", 100)
                .with_output(StreamDecl::default_stream(&["n"])),
        );
        let mut w = Node::new("win", Role::Bolt, "window_aggregate")
            .with_config("aggregate", "count")
            .with_output(StreamDecl::default_stream(&[
                "key",
                "value",
                "window_end_ms",
            ]));
        w.window = Some(WindowSpec {
            length: WindowSize::Count(length),
            slide: WindowSize::Count(slide),
        });
        add(&mut t, w);
        add(&mut t, Node::new("out", Role::Bolt, "collector"));
        t.connect_names("s", "win", "default", Grouping::Global)
            .unwrap();
        t.connect_names("win", "out", "default", Grouping::Global)
            .unwrap();
        let engine = Engine::start(&t, RunOptions::default()).unwrap();
        assert!(engine.wait_finished(Duration::from_secs(60)));
        let counts: Vec<i64> = engine
            .collected("out")
            .iter()
            .map(|v| match v.get(1) {
                Some(Val::Int(c)) => *c,
                _ => -1,
            })
            .collect();
        assert_eq!(counts, expect, "length {length} slide {slide}");
    }
}

#[test]
fn sum_window_over_time_emits() {
    let mut t = Topology::new("w");
    add(
        &mut t,
        Node::new("s", Role::Spout, "sequence")
            .with_config("limit", 50)
            .with_config("rate_per_sec", 500.0)
            .with_output(StreamDecl::default_stream(&["n"])),
    );
    let mut w = Node::new("win", Role::Bolt, "window_aggregate")
        .with_config("aggregate", "sum")
        .with_config("field", "n")
        .with_output(StreamDecl::default_stream(&[
            "key",
            "value",
            "window_end_ms",
        ]));
    w.window = Some(WindowSpec {
        length: WindowSize::Millis(20),
        slide: WindowSize::Millis(20),
    });
    add(&mut t, w);
    add(&mut t, Node::new("out", Role::Bolt, "collector"));
    t.connect_names("s", "win", "default", Grouping::Global)
        .unwrap();
    t.connect_names("win", "out", "default", Grouping::Global)
        .unwrap();
    let engine = Engine::start(&t, RunOptions::default()).unwrap();
    assert!(engine.wait_finished(Duration::from_secs(60)));
    // The last window closes on a timer after the input ends: wait for it, generously.
    let sum = |e: &Engine| -> f64 {
        e.collected("out")
            .iter()
            .filter_map(|v| v.get(1).and_then(Val::as_f64))
            .sum()
    };
    common::wait_for("the last window", || {
        sum(&engine) >= (0..50).sum::<i64>() as f64
    });
    let total = sum(&engine);
    assert_eq!(
        total,
        (0..50).sum::<i64>() as f64,
        "tumbling windows partition the input: {:?}",
        engine.collected("out")
    );
}

fn file_topology(path: &str) -> Topology {
    let mut t = Topology::new("f");
    add(
        &mut t,
        Node::new("s", Role::Spout, "sequence")
            .with_config("limit", 20)
            .with_output(StreamDecl::default_stream(&["n"])),
    );
    add(
        &mut t,
        Node::new("up", Role::Bolt, "map")
            .with_config("field", "n")
            .with_config("op", "prefix")
            .with_config("arg", "#")
            .with_output(StreamDecl::default_stream(&["n"])),
    );
    add(
        &mut t,
        Node::new("file", Role::Bolt, "file_sink").with_config("path", path),
    );
    t.connect_names("s", "up", "default", Grouping::Shuffle)
        .unwrap();
    t.connect_names("up", "file", "default", Grouping::Global)
        .unwrap();
    t
}

#[test]
fn file_sink_writes_inside_the_topology_folder() {
    let dir = tempfile::tempdir().unwrap();
    let options = RunOptions {
        base_dir: dir.path().to_path_buf(),
        ..Default::default()
    };
    let engine = Engine::start(&file_topology("out/lines.txt"), options).unwrap();
    assert!(engine.wait_finished(Duration::from_secs(60)));
    engine.stop(StopMode::Drain);
    let text = std::fs::read_to_string(dir.path().join("out/lines.txt")).unwrap();
    assert_eq!(text.lines().count(), 20);
    assert!(text.lines().all(|l| l.starts_with('#')));
}

#[test]
fn file_sink_outside_allowed_folders_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let inner = dir.path().join("topo");
    std::fs::create_dir_all(&inner).unwrap();
    let options = RunOptions {
        base_dir: inner.clone(),
        ..Default::default()
    };
    // An absolute path outside: a file in a sibling temporary folder, never a shared place.
    let outside = tempfile::tempdir().unwrap();
    let absolute = outside.path().join("escape.txt");
    for bad in ["../escape.txt", &absolute.to_string_lossy()] {
        match Engine::start(&file_topology(bad), options.clone()) {
            Err(RunError::NotAllowed(refusals)) => {
                assert_eq!(refusals.len(), 1, "{refusals:?}");
                assert_eq!(refusals[0].node(), "file");
            }
            Err(other) => panic!("{bad}: {other}"),
            Ok(_) => panic!("{bad} was allowed"),
        }
    }
    assert!(!dir.path().join("escape.txt").exists() && !absolute.exists());
    let allowed = RunOptions {
        allowed_dirs: vec![inner, dir.path().to_path_buf()],
        ..options
    };
    let engine = Engine::start(&file_topology("../escape.txt"), allowed).unwrap();
    drop(engine);
}

#[test]
fn invalid_topologies_never_start() {
    let mut t = Topology::new("bad");
    add(
        &mut t,
        Node::new("s", Role::Spout, "sequence").with_parallelism(0),
    );
    match Engine::start(&t, RunOptions::default()) {
        Err(RunError::Invalid(d)) => assert!(!d.is_empty()),
        other => panic!("{:?}", other.err()),
    }
}

#[test]
fn unsupported_flume_components_are_named() {
    let mut t = Topology::new("flume");
    add(
        &mut t,
        Node::new("net", Role::Source, "exec").with_output(StreamDecl::default_stream(&["body"])),
    );
    add(
        &mut t,
        Node::new("ch", Role::Channel, "memory").with_output(StreamDecl::default_stream(&["body"])),
    );
    add(&mut t, Node::new("log", Role::Sink, "logger"));
    t.connect_names("net", "ch", "default", Grouping::Required)
        .unwrap();
    t.connect_names("ch", "log", "default", Grouping::Drain)
        .unwrap();
    // Flume's exec source runs shell commands: refused, by name, before anything starts.
    match Engine::start(&t, RunOptions::default()) {
        Err(e @ (RunError::Config { .. } | RunError::Invalid(_))) => {
            assert!(e.to_string().contains("'net'"), "{e}")
        }
        other => panic!("{:?}", other.err()),
    }
    // A sequence source through a memory channel into a logger sink runs.
    t.node_by_name_mut("net").unwrap().component = "sequence".into();
    t.node_by_name_mut("net")
        .unwrap()
        .config
        .insert("limit".into(), 5.into());
    t.node_by_name_mut("net").unwrap().outputs = vec![StreamDecl::default_stream(&["n"])];
    t.node_by_name_mut("ch").unwrap().outputs = vec![StreamDecl::default_stream(&["n"])];
    let engine = Engine::start(&t, RunOptions::default()).unwrap();
    assert!(engine.wait_finished(Duration::from_secs(60)));
    let lines = engine.drain_log();
    assert_eq!(lines.iter().filter(|l| l.node == "log").count(), 5);
}

#[test]
fn pause_rate_and_resume() {
    let mut t = Topology::new("c");
    add(
        &mut t,
        Node::new("s", Role::Spout, "sequence")
            .with_output(StreamDecl::default_stream(&["n"]))
            .with_parallelism(2),
    );
    add(&mut t, Node::new("sink", Role::Bolt, "null"));
    t.connect_names("s", "sink", "default", Grouping::Shuffle)
        .unwrap();
    let engine = Engine::start(&t, RunOptions::default()).unwrap();
    common::wait_for_snapshot(&engine, "both spout tasks emitting", |s| {
        s.nodes["s"].tasks.iter().all(|t| t.emitted > 0)
    });
    engine.control(Control::Pause);
    // The engine acknowledges the pause per spout task; from then on nothing is emitted,
    // while what was in flight drains.
    let held = common::wait_for_snapshot(&engine, "both spout tasks paused", |s| {
        s.nodes["s"].tasks.iter().all(|t| t.paused)
    });
    let drained = common::wait_for_snapshot(&engine, "the tuples in flight acked", |s| {
        s.nodes["s"].acked == s.nodes["s"].emitted
    });
    let per_task = |s: &tributary::runtime::MetricsSnapshot| -> Vec<u64> {
        s.nodes["s"].tasks.iter().map(|t| t.emitted).collect()
    };
    assert_eq!(
        per_task(&drained),
        per_task(&held),
        "paused spouts emit nothing"
    );
    assert!(drained.paused && drained.nodes["s"].tasks.iter().all(|t| t.paused));

    let a = held.nodes["s"].emitted;
    engine.control(Control::SetRate {
        node: "s".into(),
        per_sec: Some(100.0),
    });
    let start = Instant::now();
    engine.control(Control::Resume);
    let resumed = common::wait_for_snapshot(&engine, "resumed spouts emitting", |s| {
        s.nodes["s"].emitted >= a + 20 && s.nodes["s"].tasks.iter().all(|t| !t.paused)
    });
    // An upper bound only, which a slow machine cannot break: two tasks at 100/s each.
    let emitted = resumed.nodes["s"].emitted - a;
    let limit = 2.0 * 100.0 * start.elapsed().as_secs_f64() + 20.0;
    assert!((emitted as f64) <= limit, "{emitted} > {limit}");
    assert!(!engine.is_finished(), "endless spouts never finish");
    engine.stop(StopMode::Immediate);
}

#[test]
fn file_lines_feed_filter_and_map_with_replays() {
    let dir = tempfile::tempdir().unwrap();
    let lines: Vec<String> = (0..100).map(|i| format!("line {i}")).collect();
    std::fs::write(dir.path().join("in.txt"), lines.join("\n")).unwrap();
    let mut t = Topology::new("lines");
    t.settings.message_timeout_secs = 1;
    add(
        &mut t,
        Node::new("read", Role::Spout, "file_lines")
            .with_config("path", "in.txt")
            .with_output(StreamDecl::default_stream(&["line"]))
            .with_parallelism(2),
    );
    add(
        &mut t,
        Node::new("odd", Role::Bolt, "filter")
            .with_config("field", "line")
            .with_config("op", "ends_with")
            .with_config("value", "1")
            .with_output(StreamDecl::default_stream(&["line"])),
    );
    add(
        &mut t,
        Node::new("shout", Role::Bolt, "map")
            .with_config("field", "line")
            .with_config("op", "uppercase")
            .with_output(StreamDecl::default_stream(&["line"])),
    );
    add(&mut t, Node::new("out", Role::Bolt, "collector"));
    t.connect_names("read", "odd", "default", Grouping::Shuffle)
        .unwrap();
    t.connect_names("odd", "shout", "default", Grouping::Shuffle)
        .unwrap();
    t.connect_names("shout", "out", "default", Grouping::Shuffle)
        .unwrap();
    // The faults are in force before the first line: a control sent after the start
    // could land after this short run's every tuple.
    let mut options = RunOptions {
        base_dir: dir.path().to_path_buf(),
        ..Default::default()
    };
    options.faults.insert(
        "shout".into(),
        tributary::runtime::FaultSpec {
            fail_probability: 0.2,
            ..Default::default()
        },
    );
    let engine = Engine::start(&t, options).unwrap();
    assert!(engine.wait_finished(Duration::from_secs(120)));
    let got: std::collections::BTreeSet<String> = engine
        .collected("out")
        .iter()
        .map(|v| v.get(0).unwrap().to_string())
        .collect();
    let expected: std::collections::BTreeSet<String> = lines
        .iter()
        .filter(|l| l.ends_with('1'))
        .map(|l| l.to_uppercase())
        .collect();
    assert_eq!(
        got, expected,
        "every matching line arrives (replayed after failures)"
    );
    let snap = engine.stop(StopMode::Drain);
    assert_eq!(snap.nodes["read"].acked, 100);
    assert!(snap.nodes["read"].replayed > 0);
}
