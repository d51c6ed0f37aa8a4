//! Hostile topologies against the runtime: files that ask for unbounded memory, values
//! that grow without end, counters that would wrap, sinks that cannot write. Each must
//! end in a counted, logged refusal while the run goes on — never an abort, a hang or a
//! silent loss. Every wait is for a condition; deadlines only turn a hang into a failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tributary::clock::ManualClock;
use tributary::model::{Grouping, Node, Role, StreamDecl, Topology, WindowSize, WindowSpec};
use tributary::runtime::limits::{
    self, MAX_BUFFERED_BYTES, MAX_COLLECTED_BYTES, MAX_INPUT_BYTES, MAX_STATE_BYTES,
    MAX_VALUE_BYTES, MAX_WINDOW_BYTES,
};
use tributary::runtime::{
    Behaviour, Bolt, Emitter, Engine, Factory, Failed, LogLine, MetricsSnapshot, RunOptions, Spout,
    StopMode, TaskInfo, Text, Tuple, Val, Values,
};
use tributary::validate::{self, MAX_TOTAL_EXECUTORS, MAX_TOTAL_TASKS};

const DEADLINE: Duration = Duration::from_secs(60);

fn add(t: &mut Topology, node: Node) {
    t.add_node(node).unwrap();
}

/// Polls snapshots (collecting the run log on the way) until `done`.
fn wait_for(
    engine: &Engine,
    log: &mut Vec<LogLine>,
    what: &str,
    done: impl Fn(&MetricsSnapshot) -> bool,
) -> MetricsSnapshot {
    let end = Instant::now() + DEADLINE;
    loop {
        log.extend(engine.drain_log());
        let snap = engine.snapshot();
        if done(&snap) {
            return snap;
        }
        assert!(
            Instant::now() < end,
            "timed out waiting for {what}: {snap:#?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn lines_about<'a>(log: &'a [LogLine], node: &str, text: &str) -> Vec<&'a LogLine> {
    log.iter()
        .filter(|l| l.node == node && l.text.contains(text))
        .collect()
}

/// A spout that emits `count` tuples (untracked), each the same shared text of `bytes`
/// bytes: what keeping them costs is counted per tuple, as a buffer must count it.
fn big_values(count: u64, bytes: usize) -> Factory {
    struct Big {
        left: u64,
        text: Text,
    }
    impl Spout for Big {
        fn next_tuple(&mut self, out: &mut Emitter) -> bool {
            if self.left == 0 {
                return false;
            }
            self.left -= 1;
            out.emit(Values::One(Val::Str(self.text.clone())));
            true
        }
        fn is_done(&self) -> bool {
            self.left == 0
        }
    }
    let text = Text::from(Arc::<str>::from("k".repeat(bytes)));
    Arc::new(move |_info: &TaskInfo| {
        Ok(Behaviour::Spout(Box::new(Big {
            left: count,
            text: text.clone(),
        })))
    })
}

fn with_override(name: &str, factory: Factory) -> RunOptions {
    RunOptions {
        overrides: BTreeMap::from([(name.to_string(), factory)]),
        ..RunOptions::default()
    }
}

#[test]
fn chained_map_replaces_fail_the_tuple_at_the_value_cap_and_the_run_goes_on() {
    // Each replace turns every space into 16: a 60-byte sentence would reach petabytes
    // after twelve maps. With 9 spaces per sentence, level 4 holds 9·16⁴ ≈ 590 kB and
    // level 5 would need 9·16⁵ ≈ 9.4 MB, over the 1 MiB cap: m5 refuses every tuple.
    let mut t = Topology::new("grow");
    add(
        &mut t,
        Node::new("s", Role::Spout, "sentence_generator")
            .with_config("limit", 3)
            .with_config("words_per_sentence", 10)
            .with_output(StreamDecl::default_stream(&["sentence"])),
    );
    let mut prev = "s".to_string();
    for level in 1..=12 {
        let name = format!("m{level:02}");
        add(
            &mut t,
            Node::new(&name, Role::Bolt, "map")
                .with_config("field", "sentence")
                .with_config("op", "replace")
                .with_config("arg", format!(" =>{}", " ".repeat(16)))
                .with_output(StreamDecl::default_stream(&["sentence"])),
        );
        t.connect_names(&prev, &name, "default", Grouping::Shuffle)
            .unwrap();
        prev = name;
    }
    add(&mut t, Node::new("out", Role::Bolt, "collector"));
    t.connect_names(&prev, "out", "default", Grouping::Shuffle)
        .unwrap();
    let engine = Engine::start(&t, RunOptions::default()).unwrap();
    let mut log = Vec::new();
    // The spout replays failed sentences: wait until each of the three failed twice.
    let snap = wait_for(&engine, &mut log, "refusals at m05", |s| {
        s.nodes["m05"].refused >= 6 && s.nodes["s"].failed >= 6
    });
    engine.stop(StopMode::Immediate);
    for level in 1..=4 {
        let n = &snap.nodes[&format!("m{level:02}")];
        assert_eq!(n.refused, 0, "m{level:02} stays under the cap");
        assert!(n.acked > 0);
    }
    assert_eq!(snap.nodes["m05"].acked, 0);
    assert_eq!(snap.nodes["m05"].failed, snap.nodes["m05"].refused);
    assert_eq!(snap.nodes["m06"].executed, 0, "nothing got past the cap");
    assert_eq!(snap.nodes["out"].executed, 0);
    assert_eq!(snap.nodes["s"].acked, 0);
    assert_eq!(snap.max_task_restarts(), 0, "refused, not crashed");
    let said = lines_about(&log, "m05", "over the limit of 1048576 bytes");
    assert_eq!(said.len(), 1, "logged once per node: {log:#?}");
}

#[test]
fn a_spout_value_over_the_cap_is_refused_once_and_not_replayed() {
    let dir = tempfile::tempdir().unwrap();
    let huge = "x".repeat(MAX_VALUE_BYTES + 1);
    std::fs::write(dir.path().join("in.txt"), format!("first\n{huge}\nlast\n")).unwrap();
    let mut t = Topology::new("lines");
    add(
        &mut t,
        Node::new("lines", Role::Spout, "file_lines")
            .with_config("path", "in.txt")
            .with_output(StreamDecl::default_stream(&["line"])),
    );
    add(&mut t, Node::new("out", Role::Bolt, "collector"));
    t.connect_names("lines", "out", "default", Grouping::Shuffle)
        .unwrap();
    let options = RunOptions {
        base_dir: dir.path().to_path_buf(),
        ..RunOptions::default()
    };
    let engine = Engine::start(&t, options).unwrap();
    // Replaying the refused line would be refused again forever; the run finishes.
    assert!(engine.wait_finished(DEADLINE), "the spout gave the line up");
    let collected = engine.collected("out");
    let log = engine.drain_log();
    let snap = engine.stop(StopMode::Drain);
    assert_eq!(
        collected,
        vec![
            Values::One(Val::str("first")),
            Values::One(Val::str("last"))
        ]
    );
    let spout = &snap.nodes["lines"];
    assert_eq!((spout.refused, spout.failed, spout.acked), (1, 1, 2));
    assert_eq!(lines_about(&log, "lines", "over the limit").len(), 1);
}

#[test]
fn a_full_collector_keeps_its_bound_and_counts_the_rest() {
    let bytes = 1_000_000;
    let one = limits::values_bytes(&Values::One(Val::from("k".repeat(bytes))));
    let fits = (MAX_COLLECTED_BYTES / one) as u64;
    let sent = fits + 40;
    let mut t = Topology::new("collect");
    add(
        &mut t,
        Node::new("big", Role::Spout, "stand_in").with_output(StreamDecl::default_stream(&["v"])),
    );
    add(&mut t, Node::new("out", Role::Bolt, "collector"));
    t.connect_names("big", "out", "default", Grouping::Shuffle)
        .unwrap();
    let engine = Engine::start(&t, with_override("big", big_values(sent, bytes))).unwrap();
    assert!(engine.wait_finished(DEADLINE));
    let kept = engine.collected("out").len() as u64;
    let log = engine.drain_log();
    let snap = engine.stop(StopMode::Drain);
    assert_eq!(kept, fits, "the byte bound, exactly");
    assert_eq!(snap.nodes["out"].refused, sent - fits, "the rest, counted");
    assert_eq!(snap.nodes["out"].acked, sent, "refused, not failed");
    assert_eq!(
        lines_about(&log, "out", "collector buffers are full").len(),
        1
    );
}

#[test]
fn a_full_window_leaves_inputs_out_and_counts_them() {
    let bytes = 1_000_000;
    let sent = 400u64;
    let mut t = Topology::new("window");
    add(
        &mut t,
        Node::new("big", Role::Spout, "stand_in").with_output(StreamDecl::default_stream(&["k"])),
    );
    let mut w = Node::new("w", Role::Bolt, "window_aggregate")
        .with_config("key", "k")
        .with_output(StreamDecl::default_stream(&["key", "value", "end"]));
    w.window = Some(WindowSpec {
        length: WindowSize::Count(1000),
        slide: WindowSize::Count(1000),
    });
    add(&mut t, w);
    t.connect_names("big", "w", "default", Grouping::Shuffle)
        .unwrap();
    let engine = Engine::start(&t, with_override("big", big_values(sent, bytes))).unwrap();
    assert!(engine.wait_finished(DEADLINE));
    let log = engine.drain_log();
    let snap = engine.stop(StopMode::Drain);
    let w = &snap.nodes["w"];
    assert!(w.refused > 0, "{w:?}");
    // An entry costs its key plus a few dozen bytes of bookkeeping.
    let kept = sent - w.refused;
    assert!(kept <= (MAX_WINDOW_BYTES / bytes) as u64, "kept {kept}");
    assert!(
        kept >= (MAX_WINDOW_BYTES / (bytes + 256)) as u64,
        "kept {kept}"
    );
    assert_eq!(w.acked, sent, "inputs are acked, not failed");
    assert_eq!(lines_about(&log, "w", "window buffers are full").len(), 1);
}

#[test]
fn micro_batch_receivers_stop_pulling_at_their_bound_and_lose_nothing() {
    let bytes = 1_000_000;
    let mut t = Topology::new("receivers");
    t.settings.mode = tributary::model::ExecutionMode::MicroBatch { interval_ms: 1000 };
    add(
        &mut t,
        Node::new("big", Role::Spout, "stand_in").with_output(StreamDecl::default_stream(&["v"])),
    );
    add(&mut t, Node::new("out", Role::Bolt, "null"));
    t.connect_names("big", "out", "default", Grouping::Shuffle)
        .unwrap();
    // No batch is ever cut (the clock stands still), so the receiver fills up.
    let clock = Arc::new(ManualClock::new(0));
    let engine =
        Engine::start_with_clock(&t, with_override("big", big_values(u64::MAX, bytes)), clock)
            .unwrap();
    let mut log = Vec::new();
    let per_record = limits::values_bytes(&Values::One(Val::from("k".repeat(bytes))));
    // One round of calls (256) may start just under the byte bound.
    let most = (MAX_BUFFERED_BYTES / per_record + 256) as u64;
    let end = Instant::now() + DEADLINE;
    while lines_about(&log, "big", "receiver buffers full").is_empty() {
        assert!(Instant::now() < end, "the receiver never waited: {log:#?}");
        std::thread::sleep(Duration::from_millis(10));
        log.extend(engine.drain_log());
    }
    let snap = engine.snapshot();
    let buffered = snap.nodes["big"].pending;
    engine.stop(StopMode::Immediate);
    assert!(buffered <= most, "{buffered} > {most}");
    assert!(buffered >= (MAX_BUFFERED_BYTES / per_record) as u64);
    assert_eq!(snap.nodes["big"].refused, 0, "back-pressure, no loss");
}

/// A sink whose every flush fails, as a full disk would make it.
fn failing_flush() -> Factory {
    struct Unflushable;
    impl Bolt for Unflushable {
        fn execute(&mut self, _input: &Tuple, _out: &mut Emitter) -> Result<(), Failed> {
            Ok(())
        }
        fn flush(&mut self) -> Result<(), Failed> {
            Err(Failed("No space left on device".into()))
        }
        fn acks_after_flush(&self) -> bool {
            true
        }
    }
    Arc::new(|_info: &TaskInfo| Ok(Behaviour::Bolt(Box::new(Unflushable))))
}

#[test]
fn a_sink_whose_flush_fails_acks_nothing() {
    let mut t = Topology::new("full disk");
    add(
        &mut t,
        Node::new("numbers", Role::Spout, "sequence")
            .with_config("limit", 20)
            .with_output(StreamDecl::default_stream(&["n"])),
    );
    add(&mut t, Node::new("sink", Role::Bolt, "file_sink"));
    t.connect_names("numbers", "sink", "default", Grouping::Shuffle)
        .unwrap();
    let engine = Engine::start(&t, with_override("sink", failing_flush())).unwrap();
    let mut log = Vec::new();
    let snap = wait_for(&engine, &mut log, "every number to fail once", |s| {
        s.nodes["numbers"].failed >= 20
    });
    engine.stop(StopMode::Immediate);
    assert_eq!(snap.nodes["numbers"].acked, 0, "no ack before a flush");
    assert_eq!(snap.nodes["sink"].acked, 0);
    assert!(snap.nodes["sink"].failed >= 20);
    assert_eq!(
        lines_about(&log, "sink", "No space left on device").len(),
        1
    );
}

#[test]
fn a_sequence_stops_at_the_largest_integer_instead_of_wrapping() {
    let mut t = Topology::new("wrap");
    add(
        &mut t,
        Node::new("numbers", Role::Spout, "sequence")
            .with_config("start", i64::MAX - 5)
            .with_output(StreamDecl::default_stream(&["n"])),
    );
    add(&mut t, Node::new("out", Role::Bolt, "collector"));
    t.connect_names("numbers", "out", "default", Grouping::Shuffle)
        .unwrap();
    let engine = Engine::start(&t, RunOptions::default()).unwrap();
    assert!(engine.wait_finished(DEADLINE), "an endless sequence ends");
    let mut got: Vec<i64> = engine
        .collected("out")
        .iter()
        .filter_map(|v| match v.get(0) {
            Some(Val::Int(i)) => Some(*i),
            _ => None,
        })
        .collect();
    got.sort_unstable();
    let log = engine.drain_log();
    engine.stop(StopMode::Drain);
    assert_eq!(got, ((i64::MAX - 5)..=i64::MAX).collect::<Vec<_>>());
    assert_eq!(
        lines_about(&log, "numbers", "sequence ends after 6").len(),
        1
    );
}

#[test]
fn a_window_of_the_longest_length_neither_overflows_nor_crashes() {
    let mut t = Topology::new("long window");
    add(
        &mut t,
        Node::new("numbers", Role::Spout, "sequence")
            .with_config("limit", 50)
            .with_output(StreamDecl::default_stream(&["n"])),
    );
    let mut w = Node::new("w", Role::Bolt, "window_aggregate")
        .with_output(StreamDecl::default_stream(&["key", "value", "end"]));
    w.window = Some(WindowSpec {
        length: WindowSize::Millis(u64::MAX),
        slide: WindowSize::Millis(20),
    });
    add(&mut t, w);
    add(&mut t, Node::new("out", Role::Bolt, "collector"));
    t.connect_names("numbers", "w", "default", Grouping::Shuffle)
        .unwrap();
    t.connect_names("w", "out", "default", Grouping::Shuffle)
        .unwrap();
    let engine = Engine::start(&t, RunOptions::default()).unwrap();
    let mut log = Vec::new();
    // Every tick keeps all 50 inputs: a count of 50 shows the window closed over them.
    let snap = wait_for(&engine, &mut log, "a window over all 50", |_| {
        engine
            .collected("out")
            .iter()
            .any(|v| matches!(v.get(1), Some(Val::Int(50))))
    });
    engine.stop(StopMode::Immediate);
    assert_eq!(snap.max_task_restarts(), 0, "{log:#?}");
}

#[test]
fn validation_bounds_the_whole_topology_and_names_the_biggest_nodes() {
    // The audit's topology: 8 nodes × 256 executors × 4096 tasks.
    let mut t = Topology::new("huge");
    add(
        &mut t,
        Node::new("n0", Role::Spout, "sequence")
            .with_parallelism(256)
            .with_output(StreamDecl::default_stream(&["n"])),
    );
    for i in 1..8 {
        let mut n = Node::new(format!("n{i}"), Role::Bolt, "null").with_parallelism(256);
        n.tasks = Some(4096 - i);
        add(&mut t, n);
        t.connect_names("n0", &format!("n{i}"), "default", Grouping::Shuffle)
            .unwrap();
    }
    let messages: Vec<String> = validate::validate(&t)
        .iter()
        .filter(|d| d.is_error())
        .map(ToString::to_string)
        .collect();
    let executors = messages
        .iter()
        .find(|m| m.contains(&format!("limit of {MAX_TOTAL_EXECUTORS}")))
        .unwrap_or_else(|| panic!("{messages:#?}"));
    assert!(executors.contains("2049 executors"), "{executors}");
    let tasks = messages
        .iter()
        .find(|m| m.contains(&format!("limit of {MAX_TOTAL_TASKS}")))
        .unwrap_or_else(|| panic!("{messages:#?}"));
    assert!(
        tasks.contains("'n1' (4095), 'n2' (4094), 'n3' (4093)"),
        "{tasks}"
    );
    // At the limits, it validates.
    let mut fits = Topology::new("fits");
    add(
        &mut fits,
        Node::new("a", Role::Spout, "sequence")
            .with_parallelism(256)
            .with_output(StreamDecl::default_stream(&["n"])),
    );
    // 256 + 255 executors and one acker: exactly the limit.
    let mut b = Node::new("b", Role::Bolt, "null").with_parallelism(MAX_TOTAL_EXECUTORS - 257);
    b.tasks = Some(MAX_TOTAL_TASKS - 256);
    add(&mut fits, b);
    fits.connect_names("a", "b", "default", Grouping::Shuffle)
        .unwrap();
    assert!(validate::is_runnable(&validate::validate(&fits)));
}

#[test]
fn a_file_lines_input_over_its_bound_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    // Sparse: no disk is used for the hole.
    let big = std::fs::File::create(dir.path().join("in.txt")).unwrap();
    big.set_len(limits::MAX_INPUT_FILE_BYTES as u64 + 1)
        .unwrap();
    let mut t = Topology::new("big file");
    add(
        &mut t,
        Node::new("lines", Role::Spout, "file_lines")
            .with_config("path", "in.txt")
            .with_output(StreamDecl::default_stream(&["line"])),
    );
    add(&mut t, Node::new("out", Role::Bolt, "null"));
    t.connect_names("lines", "out", "default", Grouping::Shuffle)
        .unwrap();
    let options = RunOptions {
        base_dir: dir.path().to_path_buf(),
        ..RunOptions::default()
    };
    let err = Engine::start(&t, options)
        .err()
        .expect("refused")
        .to_string();
    assert!(err.contains("node 'lines'"), "{err}");
    assert!(err.contains("in.txt"), "{err}");
    assert!(err.contains("64 MiB limit"), "{err}");
}

/// A spout emitting `count` different keys of `bytes` bytes each.
fn distinct_keys(count: u64, bytes: usize) -> Factory {
    struct Keys {
        next: u64,
        count: u64,
        bytes: usize,
    }
    impl Spout for Keys {
        fn next_tuple(&mut self, out: &mut Emitter) -> bool {
            if self.next == self.count {
                return false;
            }
            let mut key = format!("{:08}", self.next);
            key.push_str(&"k".repeat(self.bytes - key.len()));
            self.next += 1;
            out.emit(Values::One(Val::str(&key)));
            true
        }
        fn is_done(&self) -> bool {
            self.next == self.count
        }
    }
    Arc::new(move |_info: &TaskInfo| {
        Ok(Behaviour::Spout(Box::new(Keys {
            next: 0,
            count,
            bytes,
        })))
    })
}

#[test]
fn keyed_state_keeps_its_bound_and_counts_new_keys_beyond_it() {
    let bytes = 1_000_000;
    let sent = 300u64;
    let mut t = Topology::new("state");
    add(
        &mut t,
        Node::new("keys", Role::Spout, "stand_in").with_output(StreamDecl::default_stream(&["k"])),
    );
    add(
        &mut t,
        Node::new("count", Role::Bolt, "count_by_key")
            .with_config("key", "k")
            .with_output(StreamDecl::default_stream(&["k", "count"])),
    );
    t.connect_names("keys", "count", "default", Grouping::Shuffle)
        .unwrap();
    let engine = Engine::start(&t, with_override("keys", distinct_keys(sent, bytes))).unwrap();
    assert!(engine.wait_finished(DEADLINE));
    let log = engine.drain_log();
    let snap = engine.stop(StopMode::Drain);
    let count = &snap.nodes["count"];
    let kept = sent - count.refused;
    assert!(count.refused > 0, "{count:?}");
    assert!(kept <= (MAX_STATE_BYTES / bytes) as u64, "kept {kept}");
    assert!(
        kept >= (MAX_STATE_BYTES / (bytes + 256)) as u64,
        "kept {kept}"
    );
    assert_eq!(count.acked, sent, "inputs are acked, not failed");
    assert_eq!(
        lines_about(&log, "count", "keyed state tables are full").len(),
        1
    );
}

#[test]
fn file_lines_inputs_share_one_allowance_across_nodes() {
    let dir = tempfile::tempdir().unwrap();
    // 40 MiB each: either fits alone, both together do not.
    let each = 40 << 20;
    for name in ["a.txt", "b.txt"] {
        std::fs::write(dir.path().join(name), "x".repeat(each)).unwrap();
    }
    let mut t = Topology::new("two inputs");
    for (node, file) in [("a", "a.txt"), ("b", "b.txt")] {
        add(
            &mut t,
            Node::new(node, Role::Spout, "file_lines")
                .with_config("path", file)
                .with_output(StreamDecl::default_stream(&["line"])),
        );
        let sink = format!("{node}_out");
        add(&mut t, Node::new(&sink, Role::Bolt, "null"));
        t.connect_names(node, &sink, "default", Grouping::Shuffle)
            .unwrap();
    }
    let options = RunOptions {
        base_dir: dir.path().to_path_buf(),
        ..RunOptions::default()
    };
    let err = Engine::start(&t, options)
        .err()
        .expect("refused")
        .to_string();
    assert!(err.contains("file_lines inputs of this run"), "{err}");
    assert!(
        err.contains(&format!("{} MiB", MAX_INPUT_BYTES >> 20)),
        "{err}"
    );
}

#[test]
fn micro_batch_keyed_state_keeps_the_same_bound() {
    let bytes = 1_000_000;
    let sent = 300u64;
    let mut t = Topology::new("state in batches");
    t.settings.mode = tributary::model::ExecutionMode::MicroBatch { interval_ms: 100 };
    add(
        &mut t,
        Node::new("keys", Role::Spout, "stand_in").with_output(StreamDecl::default_stream(&["k"])),
    );
    add(
        &mut t,
        Node::new("count", Role::Bolt, "count_by_key")
            .with_config("key", "k")
            .with_output(StreamDecl::default_stream(&["k", "count"])),
    );
    t.connect_names("keys", "count", "default", Grouping::Shuffle)
        .unwrap();
    let engine = Engine::start(&t, with_override("keys", distinct_keys(sent, bytes))).unwrap();
    let deadline = Instant::now() + DEADLINE;
    loop {
        let count = engine.snapshot().nodes["count"].clone();
        if count.executed + count.refused >= sent && count.refused > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "{count:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
    let log = engine.drain_log();
    let snap = engine.stop(StopMode::Immediate);
    let count = &snap.nodes["count"];
    let kept = sent - count.refused;
    assert!(kept <= (MAX_STATE_BYTES / bytes) as u64, "kept {kept}");
    assert!(
        kept >= (MAX_STATE_BYTES / (bytes + 256)) as u64,
        "kept {kept}"
    );
    assert_eq!(
        lines_about(&log, "count", "keyed state tables are full").len(),
        1
    );
}
