//! Micro-batch mode, driven by a manual clock: batches are cut at interval boundaries,
//! word counts match record-at-a-time, windows fire every slide with the right contents,
//! inverse and recomputed windows agree, and slow jobs show growing scheduling delay.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender, unbounded};
use tributary::clock::ManualClock;
use tributary::model::{
    ExecutionMode, Grouping, Node, Role, StreamDecl, Topology, WindowSize, WindowSpec,
};
use tributary::runtime::{
    Behaviour, Bolt, Emitter, Engine, Factory, Failed, MetricsSnapshot, RunOptions, Spout,
    StopMode, TaskInfo, Tuple, Val, Values,
};

mod common;
use common::wait_for;

/// A spout that emits exactly what the test sends it.
struct Fed(Receiver<String>);

impl Spout for Fed {
    fn next_tuple(&mut self, out: &mut Emitter) -> bool {
        match self.0.try_recv() {
            Ok(line) => {
                out.emit(Values::One(Val::from(line)));
                true
            }
            Err(_) => false,
        }
    }
}

fn fed() -> (Sender<String>, Factory) {
    let (tx, rx) = unbounded();
    let factory: Factory =
        Arc::new(move |_info: &TaskInfo| Ok(Behaviour::Spout(Box::new(Fed(rx.clone())))));
    (tx, factory)
}

fn batches(engine: &Engine) -> u64 {
    engine.snapshot().batch.map_or(0, |b| b.batches_completed)
}

/// Sends lines, waits until the receiver has buffered them all.
fn send(engine: &Engine, tx: &Sender<String>, spout: &str, lines: &[&str]) {
    let before = engine.snapshot().nodes[spout].emitted;
    for l in lines {
        tx.send(l.to_string()).unwrap();
    }
    let want = before + lines.len() as u64;
    wait_for("the receiver to buffer", || {
        engine.snapshot().nodes[spout].emitted == want
    });
}

/// Moves the clock to `ms` and waits until `n` batches have completed.
fn to(engine: &Engine, clock: &ManualClock, ms: u64, n: u64) {
    clock.set(ms);
    wait_for("batches", || batches(engine) >= n);
}

fn pairs(values: &[Values]) -> Vec<(String, i64)> {
    values
        .iter()
        .map(|v| {
            let key = v.get(0).map(|k| k.to_string()).unwrap_or_default();
            let n = match v.get(1) {
                Some(Val::Int(n)) => *n,
                Some(Val::Float(f)) => *f as i64,
                _ => -1,
            };
            (key, n)
        })
        .collect()
}

/// lines → split → count → out, in micro-batch mode with a 1 s interval.
fn word_count(mode: ExecutionMode) -> Topology {
    let mut t = Topology::new("wc");
    t.settings.mode = mode;
    t.add_node(
        Node::new("lines", Role::Spout, "sentence_generator")
            .with_output(StreamDecl::default_stream(&["sentence"])),
    )
    .unwrap();
    t.add_node(
        Node::new("split", Role::Bolt, "split")
            .with_config("field", "sentence")
            .with_output(StreamDecl::default_stream(&["word"])),
    )
    .unwrap();
    t.add_node(
        Node::new("count", Role::Bolt, "count_by_key")
            .with_config("key", "word")
            .with_parallelism(2)
            .with_output(StreamDecl::default_stream(&["word", "count"])),
    )
    .unwrap();
    t.add_node(Node::new("out", Role::Bolt, "collector"))
        .unwrap();
    t.connect_names("lines", "split", "default", Grouping::Shuffle)
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
    t
}

const SECOND: ExecutionMode = ExecutionMode::MicroBatch { interval_ms: 1000 };

fn start_fed(t: &Topology, spout: &str) -> (Engine, Arc<ManualClock>, Sender<String>) {
    let (tx, factory) = fed();
    let clock = Arc::new(ManualClock::new(0));
    let options = RunOptions {
        overrides: BTreeMap::from([(spout.to_string(), factory)]),
        ..RunOptions::default()
    };
    let engine = Engine::start_with_clock(t, options, clock.clone()).unwrap();
    (engine, clock, tx)
}

#[test]
fn batches_are_cut_at_interval_boundaries() {
    let (engine, clock, tx) = start_fed(&word_count(SECOND), "lines");
    clock.set(300);
    send(&engine, &tx, "lines", &["a b"]);
    clock.set(999);
    send(&engine, &tx, "lines", &["a"]);
    to(&engine, &clock, 1000, 1);
    assert_eq!(
        pairs(&engine.collected("out")),
        [("a".into(), 2), ("b".into(), 1)]
    );
    clock.set(1001);
    send(&engine, &tx, "lines", &["b"]);
    to(&engine, &clock, 2500, 2);
    // Nothing arrived in (2000, 3000] yet; batch 3 is not due until the clock says so.
    send(&engine, &tx, "lines", &["c"]);
    assert_eq!(batches(&engine), 2);
    to(&engine, &clock, 3000, 3);
    to(&engine, &clock, 4000, 4); // an empty batch still runs
    let out = pairs(&engine.collected("out"));
    assert_eq!(
        out,
        [
            ("a".into(), 2),
            ("b".into(), 1),
            ("b".into(), 2),
            ("c".into(), 1)
        ]
    );
    let b = engine.snapshot().batch.unwrap();
    let records: Vec<(u64, u64)> = b.recent.iter().map(|i| (i.time_ms, i.records)).collect();
    assert_eq!(records, [(1000, 2), (2000, 1), (3000, 1), (4000, 0)]);
    assert_eq!(b.last_batch_ms, Some(4000));
    assert!(!b.falling_behind);
    // Batch 2 only ran when the clock jumped to 2.5 s: 500 ms late.
    assert_eq!(b.max_scheduling_delay, Duration::from_millis(500));
    assert_eq!(b.last_scheduling_delay, Duration::ZERO);
    let s = engine.stop(StopMode::Immediate);
    assert_eq!(s.nodes["split"].executed, 4);
    assert_eq!(s.nodes["lines"].acked, 4);
    // Arrival → completion on the manual clock: 700 ms, 1 ms, 999 ms and 500 ms.
    assert!(s.end_to_end_latency_p99 >= Duration::from_millis(900));
}

fn final_counts(values: &[Values]) -> BTreeMap<String, i64> {
    let mut last = BTreeMap::new();
    for (k, n) in pairs(values) {
        let slot = last.entry(k).or_insert(0);
        *slot = (*slot).max(n);
    }
    last
}

#[test]
fn word_count_over_batches_equals_record_at_a_time() {
    let mut t = word_count(ExecutionMode::RecordAtATime);
    t.node_by_name_mut("lines")
        .unwrap()
        .config
        .insert("limit".into(), 300.into());
    let storm = Engine::start(&t, RunOptions::default()).unwrap();
    assert!(storm.wait_finished(Duration::from_secs(60)));
    let expected = final_counts(&storm.collected("out"));
    storm.stop(StopMode::Immediate);

    t.settings.mode = SECOND;
    let clock = Arc::new(ManualClock::new(0));
    let engine = Engine::start_with_clock(&t, RunOptions::default(), clock.clone()).unwrap();
    clock.set(10);
    wait_for("the spout to finish", || {
        engine.snapshot().nodes["lines"].done
    });
    to(&engine, &clock, 1000, 1);
    assert!(engine.wait_finished(Duration::from_secs(30)));
    let got = final_counts(&engine.collected("out"));
    assert_eq!(got, expected);
    assert_eq!(got.values().sum::<i64>(), 3000);
    engine.stop(StopMode::Immediate);
}

fn windowed(inverse: bool, aggregate: &str, length_s: u64, slide_s: u64) -> Topology {
    let mut t = Topology::new("w");
    t.settings.mode = SECOND;
    t.add_node(
        Node::new("words", Role::Spout, "word_generator")
            .with_output(StreamDecl::default_stream(&["word"])),
    )
    .unwrap();
    let mut w = Node::new("window", Role::Bolt, "window_aggregate")
        .with_config("key", "word")
        .with_config("field", "word")
        .with_config("aggregate", aggregate)
        .with_config("inverse", inverse)
        .with_output(StreamDecl::default_stream(&[
            "key",
            "value",
            "window_end_ms",
        ]));
    w.window = Some(WindowSpec {
        length: WindowSize::Millis(length_s * 1000),
        slide: WindowSize::Millis(slide_s * 1000),
    });
    t.add_node(w).unwrap();
    t.add_node(Node::new("out", Role::Bolt, "collector"))
        .unwrap();
    t.connect_names("words", "window", "default", Grouping::Shuffle)
        .unwrap();
    t.connect_names("window", "out", "default", Grouping::Shuffle)
        .unwrap();
    t
}

/// Feeds one batch per entry of `schedule` (words separated by spaces); returns what the
/// window emitted as `(window_end_ms, key, value)`.
fn drive(t: &Topology, schedule: &[&str]) -> (Vec<(i64, String, i64)>, MetricsSnapshot) {
    let (engine, clock, tx) = start_fed(t, "words");
    for (i, words) in schedule.iter().enumerate() {
        let start = i as u64 * 1000;
        clock.set(start + 500);
        let ws: Vec<&str> = words.split_whitespace().collect();
        send(&engine, &tx, "words", &ws);
        to(&engine, &clock, start + 1000, i as u64 + 1);
    }
    let emitted = engine
        .collected("out")
        .iter()
        .map(|v| {
            let end = match v.get(2) {
                Some(Val::Int(e)) => *e,
                _ => -1,
            };
            let (k, n) = pairs(std::slice::from_ref(v)).remove(0);
            (end, k, n)
        })
        .collect();
    (emitted, engine.stop(StopMode::Immediate))
}

#[test]
fn windows_fire_every_slide_with_partial_early_windows() {
    let (out, snap) = drive(
        &windowed(true, "count", 3, 2),
        &["a", "a b", "c", "c c", "d"],
    );
    assert_eq!(
        out,
        [
            // Batches 1–2 (the first window is partial).
            (2000, "a".into(), 2),
            (2000, "b".into(), 1),
            // Batches 2–4.
            (4000, "a".into(), 1),
            (4000, "b".into(), 1),
            (4000, "c".into(), 3),
        ]
    );
    let latest = &snap.batch.unwrap().windows["window"];
    assert_eq!(latest.window_end_ms, 4000);
    assert_eq!(latest.top[0], ("c".to_string(), 3.0));
    assert_eq!((latest.keys, latest.batches), (3, 3));
    assert!(latest.incremental);
}

#[test]
fn inverse_and_recomputed_windows_agree() {
    // Numbers, so that `sum` (of the word's value, keyed by the word) has something to add.
    let schedule = [
        "1 2", "1", "", "2 2 3", "1", "3 3 3", "", "", "2", "1 1", "3", "",
    ];
    for aggregate in ["count", "sum"] {
        let (with, _) = drive(&windowed(true, aggregate, 3, 1), &schedule);
        let (without, snap) = drive(&windowed(false, aggregate, 3, 1), &schedule);
        assert_eq!(with, without, "{aggregate}");
        assert_eq!(with.iter().filter(|(end, _, _)| *end == 12000).count(), 2);
        assert!(!snap.batch.unwrap().windows["window"].incremental);
    }
}

/// A bolt whose job takes 1.5 batch intervals of (manual) clock time per batch.
struct Slow(Arc<ManualClock>);

impl Bolt for Slow {
    fn execute(&mut self, _input: &Tuple, _out: &mut Emitter) -> Result<(), Failed> {
        Ok(())
    }

    fn flush(&mut self) -> Result<(), Failed> {
        self.0.advance(1500);
        Ok(())
    }
}

#[test]
fn slow_jobs_fall_behind_with_growing_scheduling_delay() {
    let mut t = word_count(SECOND);
    t.node_by_name_mut("lines")
        .unwrap()
        .config
        .insert("limit".into(), 5.into());
    let clock = Arc::new(ManualClock::new(0));
    let slow_clock = clock.clone();
    let slow: Factory =
        Arc::new(move |_info: &TaskInfo| Ok(Behaviour::Bolt(Box::new(Slow(slow_clock.clone())))));
    let options = RunOptions {
        overrides: BTreeMap::from([("out".to_string(), slow)]),
        ..RunOptions::default()
    };
    let engine = Engine::start_with_clock(&t, options, clock.clone()).unwrap();
    to(&engine, &clock, 1000, 6);
    let b = engine.stop(StopMode::Immediate).batch.unwrap();
    // Batch k starts (k − 1) × 500 ms late: every job overruns the interval by 500 ms.
    for i in &b.recent {
        let k = i.time_ms / 1000;
        assert_eq!(
            i.scheduling_delay.as_millis() as u64,
            (k - 1) * 500,
            "batch {k}"
        );
    }
    assert!(
        b.recent
            .iter()
            .all(|i| i.processing_time == Duration::from_millis(1500))
    );
    assert!(b.falling_behind);
    assert!(b.waiting_batches > 0);
}

#[test]
fn record_at_a_time_reports_end_to_end_latency_too() {
    let mut t = word_count(ExecutionMode::RecordAtATime);
    t.node_by_name_mut("lines")
        .unwrap()
        .config
        .insert("limit".into(), 50.into());
    let engine = Engine::start(&t, RunOptions::default()).unwrap();
    assert!(engine.wait_finished(Duration::from_secs(60)));
    let s = engine.stop(StopMode::Drain);
    assert!(s.batch.is_none());
    assert!(s.end_to_end_latency_p50 > Duration::ZERO);
    assert_eq!(
        s.end_to_end_latency_p99,
        s.nodes["lines"].complete_latency_p99
    );
}

#[test]
fn compare_runs_both_modes_at_once() {
    let mut t = word_count(ExecutionMode::RecordAtATime);
    t.settings.ackers = 0; // the record-at-a-time side gets an acker anyway
    t.node_by_name_mut("lines")
        .unwrap()
        .config
        .insert("rate_per_sec".into(), 200.0.into());
    let c = tributary::runtime::compare(
        &t,
        RunOptions::default(),
        100,
        None,
        Duration::from_millis(600),
    )
    .unwrap();
    assert_eq!(c.record_at_a_time.mode, "record-at-a-time");
    assert_eq!(c.micro_batch.interval_ms, Some(100));
    assert!(c.record_at_a_time.records > 0 && c.micro_batch.records > 0);
    assert!(c.record_at_a_time.end_to_end_latency_p50 > Duration::ZERO);
    assert!(c.micro_batch.batches.unwrap_or(0) >= 3);
    assert!(c.latency_ratio_p50.is_some());
}

#[test]
fn injected_latency_makes_a_real_run_fall_behind() {
    let mut t = word_count(ExecutionMode::MicroBatch { interval_ms: 50 });
    t.node_by_name_mut("lines")
        .unwrap()
        .config
        .insert("rate_per_sec".into(), 100.0.into());
    let engine = Engine::start(&t, RunOptions::default()).unwrap();
    // Every record now costs 3 intervals in `split`: whatever the machine's speed, each
    // non-empty batch overruns, and the jobs drift behind the clock.
    engine.control(tributary::runtime::Control::SetFaults {
        node: "split".into(),
        faults: tributary::runtime::FaultSpec {
            added_latency: Duration::from_millis(150),
            ..Default::default()
        },
    });
    wait_for("falling behind", || {
        engine.snapshot().batch.is_some_and(|b| {
            b.falling_behind && b.max_scheduling_delay > Duration::from_millis(100)
        })
    });
    let b = engine.stop(StopMode::Immediate).batch.unwrap();
    assert!(b.processing_time_p99 >= Duration::from_millis(150));
}

/// A bolt whose per-batch flush says it started, then waits until the test drops the
/// gate: a batch's job stays running while the test moves the clock.
struct Gated {
    entered: Sender<()>,
    gate: Receiver<()>,
}

impl Bolt for Gated {
    fn execute(&mut self, _input: &Tuple, _out: &mut Emitter) -> Result<(), Failed> {
        Ok(())
    }

    fn flush(&mut self) -> Result<(), Failed> {
        let _ = self.entered.send(());
        // Returns when the test drops the gate's sender.
        let _ = self.gate.recv();
        Ok(())
    }
}

#[test]
fn the_next_batch_follows_the_clock_when_jobs_lag_behind_it() {
    let mut t = word_count(ExecutionMode::MicroBatch { interval_ms: 500 });
    t.node_by_name_mut("lines")
        .unwrap()
        .config
        .insert("limit".into(), 5.into());
    let (entered_tx, entered) = unbounded();
    let (gate_tx, gate) = unbounded::<()>();
    let gated: Factory = Arc::new(move |_info: &TaskInfo| {
        Ok(Behaviour::Bolt(Box::new(Gated {
            entered: entered_tx.clone(),
            gate: gate.clone(),
        })))
    });
    let options = RunOptions {
        overrides: BTreeMap::from([("out".to_string(), gated)]),
        ..RunOptions::default()
    };
    let clock = Arc::new(ManualClock::new(0));
    let engine = Engine::start_with_clock(&t, options, clock.clone()).unwrap();
    clock.set(500);
    entered
        .recv_timeout(Duration::from_secs(60))
        .expect("the first batch's job starts");
    // The job of batch 0.5 s is held while the clock reaches 25.8 s.
    clock.set(25_800);
    let b = engine.snapshot().batch.unwrap();
    assert_eq!(b.clock_ms, 25_800);
    assert_eq!(b.next_batch_ms, 26_000, "the clock's next boundary");
    // 1.0 s … 25.5 s have closed; 0.5 s has started.
    assert_eq!(b.waiting_batches, 50);
    assert_eq!(b.batches_completed, 0);

    drop(gate_tx);
    wait_for("the jobs to catch up", || batches(&engine) == 51);
    let b = engine.snapshot().batch.unwrap();
    assert_eq!((b.next_batch_ms, b.waiting_batches), (26_000, 0));
    engine.stop(StopMode::Immediate);
}
