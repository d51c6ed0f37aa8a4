//! Storm's acking invariant end to end, through fan-out: every tracked emit gets exactly
//! one callback (`ack` or `fail`), never two, never none once the run has drained.
//!
//! A recording spout emits sentences, each with a fresh message id, and writes every
//! callback it receives into a ledger the test reads. Each sentence is split 1→4 words,
//! and every word goes to all three tasks of the next bolt (`All` grouping), so one
//! tree has 1 + 4 + 12 tuples and a fault in any of them decides it. The runs inject
//! failures and crashes into the fan-out bolts and kill the worker holding the acker
//! while trees are held in flight. The spout replays a failed sentence under a new id and
//! finishes when every sentence was acked, so the run ends only if the invariant holds.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing

mod common;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tributary::model::{Grouping, Node, Role, StreamDecl, Topology};
use tributary::runtime::{
    Behaviour, Bolt, Control, Emitter, Engine, Failed, FaultSpec, LabEngine, LabOptions,
    MetricsSnapshot, RunOptions, Spout, StopMode, TaskInfo, Tuple, Val, Values,
};

/// Sentences per run.
const SENTENCES: usize = 150;
/// Words per sentence (the split's fan-out) and tasks of the `All`-grouped bolt.
const WORDS: usize = 4;
const COPIES: u32 = 3;

fn sentence(m: usize) -> String {
    (0..WORDS)
        .map(|w| format!("s{m}w{w}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// What the spout saw, shared with the test.
#[derive(Default)]
struct Ledger {
    /// Every tracked emit: message id → sentence number.
    emitted: BTreeMap<u64, usize>,
    acks: BTreeMap<u64, u32>,
    fails: BTreeMap<u64, u32>,
    /// Spout instances made (a restart would make a second one).
    instances: u32,
    next_id: u64,
}

struct Recorder {
    ledger: Arc<Mutex<Ledger>>,
    next_new: usize,
    replay: VecDeque<usize>,
    in_flight: BTreeMap<u64, usize>,
    acked: usize,
}

impl Spout for Recorder {
    fn next_tuple(&mut self, out: &mut Emitter) -> bool {
        let m = match self.replay.pop_front() {
            Some(m) => m,
            None if self.next_new < SENTENCES => {
                self.next_new += 1;
                self.next_new - 1
            }
            None => return false,
        };
        let id = {
            let mut ledger = self.ledger.lock().unwrap();
            ledger.next_id += 1;
            let id = ledger.next_id;
            ledger.emitted.insert(id, m);
            id
        };
        self.in_flight.insert(id, m);
        out.emit_tracked(id, Values::One(Val::from(sentence(m))));
        true
    }

    fn ack(&mut self, msg_id: u64) {
        *self.ledger.lock().unwrap().acks.entry(msg_id).or_default() += 1;
        if self.in_flight.remove(&msg_id).is_some() {
            self.acked += 1;
        }
    }

    fn fail(&mut self, msg_id: u64) {
        *self.ledger.lock().unwrap().fails.entry(msg_id).or_default() += 1;
        if let Some(m) = self.in_flight.remove(&msg_id) {
            self.replay.push_back(m);
        }
    }

    fn is_done(&self) -> bool {
        self.acked == SENTENCES
    }
}

/// Passes each word on; while `open` is false it holds the tuple it is executing, so the
/// test can act while trees are certainly in flight.
struct Gate {
    open: Arc<AtomicBool>,
}

impl Bolt for Gate {
    fn execute(&mut self, input: &Tuple, out: &mut Emitter) -> Result<(), Failed> {
        // Bounded: a test that never opens the gate fails on its own deadline first.
        let end = Instant::now() + common::DEADLINE;
        while !self.open.load(Ordering::Acquire) && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(1));
        }
        out.emit(input.values.clone());
        Ok(())
    }
}

/// src (the recorder) →shuffle→ split (2 tasks) →All→ copy (3 tasks) →fields→ sink.
fn topology(workers: u32) -> Topology {
    let mut t = Topology::new("fanout");
    t.settings.ackers = 1;
    t.settings.workers = workers;
    t.settings.max_spout_pending = Some(20);
    t.settings.message_timeout_secs = 1;
    t.add_node(
        Node::new("src", Role::Spout, "stand_in")
            .with_config("class", "Recorder")
            .with_output(StreamDecl::default_stream(&["sentence"])),
    )
    .unwrap();
    t.add_node(
        Node::new("split", Role::Bolt, "split")
            .with_config("field", "sentence")
            .with_output(StreamDecl::default_stream(&["word"]))
            .with_parallelism(2),
    )
    .unwrap();
    t.add_node(
        Node::new("copy", Role::Bolt, "stand_in")
            .with_config("class", "Gate")
            .with_output(StreamDecl::default_stream(&["word"]))
            .with_parallelism(COPIES),
    )
    .unwrap();
    t.add_node(Node::new("sink", Role::Bolt, "collector"))
        .unwrap();
    t.connect_names("src", "split", "default", Grouping::Shuffle)
        .unwrap();
    t.connect_names("split", "copy", "default", Grouping::All)
        .unwrap();
    t.connect_names(
        "copy",
        "sink",
        "default",
        Grouping::Fields(vec!["word".into()]),
    )
    .unwrap();
    t
}

struct Run {
    engine: Engine,
    ledger: Arc<Mutex<Ledger>>,
    gate: Arc<AtomicBool>,
}

/// Run options with the recorder as `src` and the gate as `copy`, and what they share.
fn options(seed: u64, gate_open: bool) -> (RunOptions, Arc<Mutex<Ledger>>, Arc<AtomicBool>) {
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let gate = Arc::new(AtomicBool::new(gate_open));
    let mut options = RunOptions {
        seed,
        ..Default::default()
    };
    let spout_ledger = Arc::clone(&ledger);
    options.overrides.insert(
        "src".into(),
        Arc::new(move |_: &TaskInfo| {
            spout_ledger.lock().unwrap().instances += 1;
            Ok(Behaviour::Spout(Box::new(Recorder {
                ledger: Arc::clone(&spout_ledger),
                next_new: 0,
                replay: VecDeque::new(),
                in_flight: BTreeMap::new(),
                acked: 0,
            })))
        }),
    );
    let bolt_gate = Arc::clone(&gate);
    options.overrides.insert(
        "copy".into(),
        Arc::new(move |_: &TaskInfo| {
            Ok(Behaviour::Bolt(Box::new(Gate {
                open: Arc::clone(&bolt_gate),
            })))
        }),
    );
    (options, ledger, gate)
}

fn start(workers: u32, seed: u64, gate_open: bool) -> Run {
    let (options, ledger, gate) = options(seed, gate_open);
    let engine = Engine::start(&topology(workers), options).unwrap();
    Run {
        engine,
        ledger,
        gate,
    }
}

/// Waits for the run to finish, drains it and checks the invariant; returns the number
/// of failed emits (replays) so a caller can check its faults had an effect.
fn finish_and_check(run: Run, what: &str) -> u64 {
    let Run { engine, ledger, .. } = run;
    assert!(
        engine.wait_finished(common::DEADLINE),
        "{what}: the run did not finish: {:#?}",
        engine.snapshot()
    );
    let words: Vec<String> = engine
        .collected("sink")
        .iter()
        .filter_map(|v| v.get(0).map(Val::to_string))
        .collect();
    let snap = engine.stop(StopMode::Drain);
    check(&ledger, &words, &snap, what)
}

/// The invariant over a finished run's ledger, the sink's words and the final numbers;
/// returns the number of failed emits.
fn check(ledger: &Mutex<Ledger>, words: &[String], snap: &MetricsSnapshot, what: &str) -> u64 {
    let ledger = ledger.lock().unwrap();
    assert_eq!(ledger.instances, 1, "{what}: the spout was never restarted");

    // Exactly one callback per tracked emit, and none for an id never emitted.
    let mut acks_per_sentence = vec![0u32; SENTENCES];
    for (id, m) in &ledger.emitted {
        let acks = ledger.acks.get(id).copied().unwrap_or(0);
        let fails = ledger.fails.get(id).copied().unwrap_or(0);
        assert_eq!(
            acks + fails,
            1,
            "{what}: message {id} (sentence {m}) got {acks} acks and {fails} fails"
        );
        acks_per_sentence[*m] += acks;
    }
    let strangers: Vec<&u64> = ledger
        .acks
        .keys()
        .chain(ledger.fails.keys())
        .filter(|id| !ledger.emitted.contains_key(id))
        .collect();
    assert!(
        strangers.is_empty(),
        "{what}: callbacks for ids never emitted: {strangers:?}"
    );
    assert!(
        acks_per_sentence.iter().all(|&a| a == 1),
        "{what}: every sentence acked exactly once: {acks_per_sentence:?}"
    );

    // The engine's own counts agree with the spout's ledger.
    let fails: u64 = ledger.fails.values().map(|&f| u64::from(f)).sum();
    let src = &snap.nodes["src"];
    assert_eq!(src.emitted, ledger.emitted.len() as u64, "{what}");
    assert_eq!(src.acked, SENTENCES as u64, "{what}");
    assert_eq!(src.failed, fails, "{what}");

    // At least once: every word of every sentence reached the sink from every copy.
    let mut count: BTreeMap<&str, u32> = BTreeMap::new();
    for w in words {
        *count.entry(w.as_str()).or_default() += 1;
    }
    let expected: BTreeSet<String> = (0..SENTENCES)
        .flat_map(|m| (0..WORDS).map(move |w| format!("s{m}w{w}")))
        .collect();
    assert_eq!(
        count.keys().map(|w| w.to_string()).collect::<BTreeSet<_>>(),
        expected,
        "{what}: the words that reached the sink"
    );
    assert!(
        count.values().all(|&c| c >= COPIES),
        "{what}: every word from each of the {COPIES} copies"
    );
    fails
}

#[test]
fn every_emit_gets_exactly_one_callback_without_faults() {
    let fails = finish_and_check(start(1, 0, true), "no faults");
    assert_eq!(fails, 0, "nothing failed without faults");
}

#[test]
fn every_emit_gets_exactly_one_callback_under_fail_and_crash_faults() {
    let cases = [
        (
            "copy",
            FaultSpec {
                fail_probability: 0.03,
                ..Default::default()
            },
        ),
        (
            "split",
            FaultSpec {
                crash_probability: 0.01,
                ..Default::default()
            },
        ),
        (
            "copy",
            FaultSpec {
                fail_probability: 0.01,
                crash_probability: 0.002,
                added_latency: Duration::ZERO,
            },
        ),
    ];
    for (i, (node, faults)) in cases.iter().enumerate() {
        let run = start(1, i as u64, false);
        run.engine.control(Control::SetFaults {
            node: (*node).into(),
            faults: *faults,
        });
        // The faults are in place before the first word is passed on.
        run.gate.store(true, Ordering::Release);
        let what = format!("faults {faults:?} on {node}");
        let fails = finish_and_check(run, &what);
        assert!(fails > 0, "{what}: the faults failed some trees");
    }
}

#[test]
fn every_emit_gets_exactly_one_callback_when_the_ackers_worker_is_killed() {
    let run = start(2, 7, false);
    let placement = run.engine.snapshot();
    let victim = placement
        .workers
        .iter()
        .find(|w| w.executors.iter().any(|e| e == "acker"))
        .expect("a worker holds the acker");
    assert!(
        !victim.executors.iter().any(|e| e == "src"),
        "the test needs the spout on the other worker: {:?}",
        placement.workers
    );
    let victim = victim.worker;
    // With the gate shut, the spout's first trees are held in the copy bolt.
    let held = common::wait_for_snapshot(&run.engine, "trees held in flight", |s| {
        s.nodes["src"].emitted >= 20 && s.nodes["copy"].tasks.iter().all(|t| t.executed == 0)
    });
    assert_eq!(held.nodes["src"].acked + held.nodes["src"].failed, 0);
    run.engine.control(Control::KillWorker { worker: victim });
    common::wait_for_snapshot(&run.engine, "the kill counted", |s| {
        s.workers[victim as usize].kills == 1
    });
    run.gate.store(true, Ordering::Release);
    let fails = finish_and_check(run, "acker's worker killed");
    assert!(fails > 0, "the trees the dead acker tracked failed");
}

#[test]
fn every_emit_gets_exactly_one_callback_in_a_stepped_run_with_every_fault() {
    // The lab steps one event at a time on virtual time, so each seed is one exact
    // schedule: faults on both fan-out bolts, then the acker's worker killed mid-run.
    for seed in 0..3u64 {
        let (options, ledger, _gate) = options(seed, true);
        let mut lab = LabEngine::start(&topology(2), options, LabOptions::default()).unwrap();
        lab.act(Control::SetFaults {
            node: "copy".into(),
            faults: FaultSpec {
                fail_probability: 0.02,
                ..Default::default()
            },
        });
        lab.act(Control::SetFaults {
            node: "split".into(),
            faults: FaultSpec {
                crash_probability: 0.01,
                ..Default::default()
            },
        });
        lab.step_n(400);
        let acker_worker = lab
            .metrics()
            .workers
            .iter()
            .find(|w| w.executors.iter().any(|e| e == "acker"))
            .map(|w| w.worker)
            .unwrap();
        lab.act(Control::KillWorker {
            worker: acker_worker,
        });
        let mut budget = 0;
        while !lab.is_finished_now() {
            assert!(budget < 2_000_000, "seed {seed}: the stepped run finishes");
            let taken = lab.step_n(10_000);
            assert!(taken > 0, "seed {seed}: the stepped run stalled unfinished");
            budget += taken;
        }
        let words: Vec<String> = lab
            .collected("sink")
            .iter()
            .filter_map(|v| v.get(0).map(Val::to_string))
            .collect();
        let what = format!("lab seed {seed}");
        let fails = check(&ledger, &words, &lab.metrics(), &what);
        assert!(
            fails > 0,
            "{what}: the faults and the kill failed some trees"
        );
    }
}
