//! Lab mode, checked from its traces: determinism across seeds, the acker's XOR
//! invariant on real schedules, routing against Storm's own hash formula (written out
//! here, not taken from the crate), max spout pending, timeouts and replays, and
//! stepping back.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::Duration;

use tributary::model::{Grouping, Node, Role, StreamDecl, Topology};
use tributary::runtime::lab::{Event, Id, Kind, Tree};
use tributary::runtime::{
    Control, Engine, FaultSpec, LabEngine, LabOptions, RunOptions, StopMode, Until, Val,
};

/// sentences → split (shuffle, 2 tasks) → count (fields word, 3 tasks) → sink
/// (collector, 2 tasks, shuffle); split also feeds `every` (all, 2 tasks) and `first`
/// (global, 3 tasks).
fn topology(max_pending: Option<u32>, workers: u32) -> Topology {
    let mut t = Topology::new("lab");
    t.settings.ackers = 1;
    t.settings.max_spout_pending = max_pending;
    t.settings.workers = workers;
    t.add_node(
        Node::new("sentences", Role::Spout, "sentence_generator")
            .with_config("limit", 40)
            .with_config("words_per_sentence", 4)
            .with_output(StreamDecl::default_stream(&["sentence"])),
    )
    .unwrap();
    t.add_node(
        Node::new("split", Role::Bolt, "split")
            .with_parallelism(2)
            .with_output(StreamDecl::default_stream(&["word"])),
    )
    .unwrap();
    t.add_node(
        Node::new("count", Role::Bolt, "count_by_key")
            .with_parallelism(3)
            .with_config("key", "word")
            .with_output(StreamDecl::default_stream(&["word", "count"])),
    )
    .unwrap();
    t.add_node(Node::new("sink", Role::Bolt, "collector").with_parallelism(2))
        .unwrap();
    t.add_node(Node::new("every", Role::Bolt, "collector").with_parallelism(2))
        .unwrap();
    t.add_node(Node::new("first", Role::Bolt, "collector").with_parallelism(3))
        .unwrap();
    t.connect_names("sentences", "split", "default", Grouping::Shuffle)
        .unwrap();
    t.connect_names(
        "split",
        "count",
        "default",
        Grouping::Fields(vec!["word".into()]),
    )
    .unwrap();
    t.connect_names("count", "sink", "default", Grouping::Shuffle)
        .unwrap();
    t.connect_names("split", "every", "default", Grouping::All)
        .unwrap();
    t.connect_names("split", "first", "default", Grouping::Global)
        .unwrap();
    t
}

fn options(seed: u64) -> RunOptions {
    RunOptions {
        seed,
        ..RunOptions::default()
    }
}

fn lab(t: &Topology, seed: u64) -> LabEngine {
    LabEngine::start(t, options(seed), LabOptions::default()).unwrap()
}

fn lines(trace: &[Event]) -> Vec<String> {
    trace.iter().map(Event::to_json).collect()
}

fn hash_of(lines: &[String]) -> u64 {
    let mut h = DefaultHasher::new();
    lines.hash(&mut h);
    h.finish()
}

#[test]
fn same_seed_and_actions_give_byte_identical_traces_for_20_seeds() {
    let t = topology(Some(6), 2);
    let mut distinct = BTreeSet::new();
    for seed in 0..20 {
        let run = || {
            let mut l = lab(&t, seed);
            l.step_n(150);
            l.act(Control::SetFaults {
                node: "count".into(),
                faults: FaultSpec {
                    fail_probability: 0.2,
                    crash_probability: 0.02,
                    ..FaultSpec::default()
                },
            });
            l.step_n(150);
            l.act(Control::KillWorker { worker: 1 });
            l.step_n(300);
            lines(l.trace())
        };
        let (a, b) = (run(), run());
        assert_eq!(a.len(), 602, "seed {seed}: every step recorded");
        assert_eq!(hash_of(&a), hash_of(&b), "seed {seed}");
        assert_eq!(a, b, "seed {seed}");
        distinct.insert(hash_of(&a));
    }
    assert!(
        distinct.len() >= 15,
        "seeds choose different schedules: {} distinct traces of 20",
        distinct.len()
    );
}

/// Java's `String.hashCode` over UTF-16 units, then `Arrays.deepHashCode` of a
/// one-element list (`31 * 1 + h`), then `Math.floorMod` — Storm's fields grouping,
/// written out from the Java sources rather than taken from the crate.
fn storm_fields_index(word: &str, tasks: i32) -> i32 {
    let h = word
        .encode_utf16()
        .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)));
    31i32.wrapping_add(h).rem_euclid(tasks)
}

fn word_of(e: &Event) -> String {
    match e.values.as_ref().and_then(|v| v.get("word")) {
        Some(Val::Str(s)) => s.as_str().to_string(),
        other => panic!("no word in {other:?}: {}", e.to_json()),
    }
}

#[test]
fn routing_read_from_the_trace_is_storms() {
    let t = topology(None, 1);
    for seed in [1, 2, 3] {
        let mut l = lab(&t, seed);
        l.step_n(20_000);
        assert!(l.is_finished_now(), "seed {seed}: the run finishes");
        let count_tasks = l.tasks_of_node("count");
        let every_tasks = l.tasks_of_node("every");
        let first_tasks = l.tasks_of_node("first");
        let mut checked = 0;
        for e in l.trace() {
            if e.kind == Kind::NextTuple {
                continue;
            }
            for s in e.emits.iter().filter(|s| s.kind == "tuple") {
                let word = || match s.values.as_ref().and_then(|v| v.get("word")) {
                    Some(Val::Str(w)) => w.as_str().to_string(),
                    _ => String::new(),
                };
                match s.node.as_str() {
                    "count" => {
                        let i = storm_fields_index(&word(), count_tasks.len() as i32);
                        assert_eq!(s.task, count_tasks[i as usize], "{}", e.to_json());
                        checked += 1;
                    }
                    "first" => assert_eq!(s.task, first_tasks[0], "global: lowest task"),
                    _ => {}
                }
            }
            if e.kind == Kind::Deliver && e.node == "split" {
                // All: one copy of each word per task of `every`.
                let mut copies: BTreeMap<String, Vec<u32>> = BTreeMap::new();
                for s in e.emits.iter().filter(|s| s.node == "every") {
                    let Some(Val::Str(w)) = s.values.as_ref().and_then(|v| v.get("word")) else {
                        panic!("no word");
                    };
                    copies.entry(w.as_str().into()).or_default().push(s.task);
                }
                for tasks in copies.values() {
                    let mut tasks = tasks.clone();
                    tasks.sort_unstable();
                    tasks.dedup();
                    assert_eq!(tasks, every_tasks, "all: a copy per task");
                }
            }
        }
        assert!(
            checked > 100,
            "seed {seed}: {checked} fields deliveries checked"
        );
        // What the collector received agrees with the deliveries the trace shows.
        let delivered: BTreeSet<(u32, String)> = l
            .trace()
            .iter()
            .filter(|e| e.kind == Kind::Deliver && e.node == "count")
            .map(|e| (e.task, word_of(e)))
            .collect();
        for (task, word) in &delivered {
            let i = storm_fields_index(word, count_tasks.len() as i32);
            assert_eq!(*task, count_tasks[i as usize]);
        }
    }
}

/// Which ack message an acker step applied, and what it means for the tree: the edges
/// it acks and the edges it creates.
#[derive(Default, Debug)]
struct Meaning {
    acks: Vec<u64>,
    creates: Vec<u64>,
}

/// Checks, at every acker step of `trace`, that the ledger is the XOR of the edges
/// created minus those acked so far, and zero exactly when the two sets are equal; and
/// that every acked tree had all its tuples acked. Returns the acked trees checked.
fn check_ledger_invariant(trace: &[Event]) -> usize {
    // Every ack message, keyed by (root, kind, xor), with what it carries.
    let mut meaning: HashMap<(u64, &str, u64), Meaning> = HashMap::new();
    for e in trace {
        for s in &e.emits {
            let (Some(root), Some(xor)) = (s.root, s.xor) else {
                continue;
            };
            let children: Vec<u64> = e
                .emits
                .iter()
                .filter(|c| c.kind == "tuple" && c.root == Some(root))
                .filter_map(|c| c.edge.map(|x| x.0))
                .collect();
            let m = match s.kind {
                "init" => Meaning {
                    acks: Vec::new(),
                    creates: children,
                },
                "ack" => Meaning {
                    acks: e.edge.map(|x| x.0).into_iter().collect(),
                    creates: children,
                },
                _ => continue,
            };
            meaning.insert((root.0, s.kind, xor.0), m);
        }
    }
    let mut created: HashMap<u64, BTreeSet<u64>> = HashMap::new();
    let mut acked: HashMap<u64, BTreeSet<u64>> = HashMap::new();
    for e in trace.iter().filter(|e| e.kind == Kind::Ack) {
        let root = e.root.unwrap().0;
        let msg = e.msg.unwrap();
        // Once the acker settles a tree (acked, or failed), its entry is gone: a late
        // ack for the root starts a fresh entry from zero, as Storm's acker does (it
        // then expires unanswered).
        let settled = e.ok.is_some();
        if msg == "fail" {
            if settled {
                created.remove(&root);
                acked.remove(&root);
            }
            continue;
        }
        let m = &meaning[&(root, msg, e.xor.unwrap().0)];
        created.entry(root).or_default().extend(&m.creates);
        acked.entry(root).or_default().extend(&m.acks);
        let c = created[&root].clone();
        let a = acked[&root].clone();
        if e.ok == Some(false) {
            // Failed earlier, settled now (the init came after a fail): the entry is
            // gone and the ledger reads zero whatever was acked.
            created.remove(&root);
            acked.remove(&root);
            continue;
        }
        let expected = c.iter().chain(a.iter()).fold(0, |x, e| x ^ e);
        assert_eq!(e.ledger, Some(Id(expected)), "{}", e.to_json());
        assert_eq!(
            e.ledger == Some(Id(0)),
            c == a,
            "zero exactly when every created tuple is acked: {}",
            e.to_json()
        );
        if settled {
            created.remove(&root);
            acked.remove(&root);
        }
    }
    let mut checked = 0;
    for e in trace.iter().filter(|e| e.kind == Kind::Outcome) {
        let tree = Tree::from_trace(trace, e.root.unwrap()).unwrap();
        if e.ok == Some(true) {
            assert!(tree.all_acked(), "{tree:#?}");
            assert_eq!(tree.ledger_now(), Id(0));
            checked += 1;
        }
    }
    checked
}

#[test]
fn the_ledger_is_zero_exactly_when_every_tuple_of_the_tree_is_acked() {
    let t = topology(Some(8), 1);
    let mut trees_checked = 0;
    for seed in 0..20 {
        let mut l = lab(&t, seed);
        l.step_n(4000);
        trees_checked += check_ledger_invariant(l.trace());
    }
    assert!(trees_checked > 200, "{trees_checked} trees checked");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
    /// Random schedules (the seed picks every interleaving, hence the order acks
    /// reach the acker) with random failures: the invariant holds at every step.
    #[test]
    fn the_ledger_invariant_holds_for_random_ack_orders_and_failures(
        seed in proptest::prelude::any::<u64>(),
        fail in 0.0f64..0.4,
        pending in 1u32..12,
    ) {
        let t = topology(Some(pending), 1);
        let mut l = lab(&t, seed);
        l.act(Control::SetFaults {
            node: "count".into(),
            faults: FaultSpec { fail_probability: fail, ..FaultSpec::default() },
        });
        l.step_n(2500);
        check_ledger_invariant(l.trace());
    }
}

#[test]
fn max_spout_pending_is_never_exceeded() {
    let t = topology(Some(3), 1);
    for seed in 0..5 {
        let mut l = lab(&t, seed);
        l.step_n(3000);
        let mut pending: BTreeMap<u32, BTreeSet<Id>> = BTreeMap::new();
        let mut peak = 0;
        for e in l.trace() {
            match e.kind {
                Kind::NextTuple => {
                    if let Some(root) = e.root {
                        pending.entry(e.task).or_default().insert(root);
                    }
                }
                Kind::Outcome => {
                    if let Some(root) = e.root {
                        pending.entry(e.task).or_default().remove(&root);
                    }
                }
                Kind::Timeout => {
                    for r in &e.roots {
                        pending.entry(e.task).or_default().remove(r);
                    }
                }
                _ => {}
            }
            let now = pending.values().map(BTreeSet::len).max().unwrap_or(0);
            assert!(now <= 3, "seed {seed}: {now} pending at step {}", e.step);
            peak = peak.max(now);
        }
        assert_eq!(
            peak, 3,
            "seed {seed}: the limit is reached, so it was tested"
        );
    }
}

#[test]
fn a_tree_lost_with_a_worker_times_out_and_its_replay_is_a_new_linked_root() {
    let mut t = topology(Some(4), 2);
    t.settings.message_timeout_secs = 1;
    let mut l = lab(&t, 11);
    l.step_n(60);
    l.act(Control::KillWorker { worker: 1 });
    let taken = l.run_until(Until::Timeout, 50_000);
    assert!(taken < 50_000, "a timeout fired");
    let timeout = l.trace().last().unwrap().clone();
    assert_eq!(timeout.kind, Kind::Timeout);
    let lost = timeout.roots[0];
    l.step_n(2000);
    let tree = l.tree(lost.0).unwrap();
    let verdict = tree.verdict.unwrap();
    assert!(verdict.timed_out && !verdict.ok, "{verdict:?}");
    let replay = tree
        .replayed_as
        .expect("the failed message was emitted again");
    assert_ne!(replay, lost, "a replay is a new tree with a new root");
    let again = l.tree(replay.0).unwrap();
    assert_eq!(again.replay_of, Some(lost));
    assert_eq!(again.msg_id, tree.msg_id);
    assert!(l.trace().iter().any(|e| e.kind == Kind::Restart));
}

#[test]
fn stepping_back_then_forward_replays_the_identical_trace() {
    let t = topology(Some(6), 2);
    let mut l = lab(&t, 5);
    assert!(!l.can_step_back());
    l.back(1).unwrap();
    assert_eq!(l.steps(), 0, "back at step 0 does nothing");
    l.step_n(100);
    l.act(Control::SetFaults {
        node: "split".into(),
        faults: FaultSpec {
            fail_probability: 0.3,
            added_latency: Duration::from_millis(3),
            crash_probability: 0.05,
        },
    });
    l.step_n(100);
    l.act(Control::KillWorker { worker: 0 });
    l.step_n(200);
    let first = lines(l.trace());
    assert_eq!(l.steps(), 402);
    l.back(250).unwrap();
    assert_eq!(l.steps(), 152);
    assert_eq!(lines(l.trace()), first[..152].to_vec());
    l.step_n(250);
    assert_eq!(
        lines(l.trace()),
        first,
        "the actions after the back are replayed"
    );
    assert!(!l.diverged());
    // A new action after stepping back is a new branch: the old actions are dropped.
    l.back(300).unwrap();
    l.act(Control::Pause);
    l.step_n(50);
    assert!(
        !l.trace().iter().any(|e| e.kind == Kind::Kill),
        "the kill recorded later than the new action is gone"
    );
}

#[test]
fn stepping_back_never_writes_a_sink_line_twice() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = topology(Some(6), 1);
    t.add_node(Node::new("out", Role::Bolt, "file_sink").with_config("path", "out.tsv"))
        .unwrap();
    t.connect_names("count", "out", "default", Grouping::Shuffle)
        .unwrap();
    let opts = RunOptions {
        base_dir: dir.path().to_path_buf(),
        ..options(3)
    };
    let run = |back: bool| {
        let mut l = LabEngine::start(&t, opts.clone(), LabOptions::default()).unwrap();
        l.step_n(800);
        if back {
            l.back(500).unwrap();
            l.step_n(500);
        }
        // Dropping the run flushes its file sink's buffer.
        drop(l);
        std::fs::read_to_string(dir.path().join("out.tsv")).unwrap_or_default()
    };
    let straight = run(false);
    std::fs::remove_file(dir.path().join("out.tsv")).unwrap();
    let rewound = run(true);
    assert!(straight.lines().count() > 20, "{straight}");
    assert_eq!(rewound, straight);
}

#[test]
fn the_lab_and_the_threaded_engine_send_each_key_to_the_same_task() {
    let mut t = Topology::new("keys");
    t.settings.ackers = 1;
    t.add_node(
        Node::new("words", Role::Spout, "word_generator")
            .with_config("limit", 300)
            .with_config("vocabulary", 40)
            .with_output(StreamDecl::default_stream(&["word"])),
    )
    .unwrap();
    t.add_node(Node::new("sink", Role::Bolt, "collector").with_parallelism(4))
        .unwrap();
    t.connect_names(
        "words",
        "sink",
        "default",
        Grouping::Fields(vec!["word".into()]),
    )
    .unwrap();
    let engine = Engine::start(&t, options(9)).unwrap();
    assert!(engine.wait_finished(common::DEADLINE));
    let threaded: BTreeMap<String, u32> = engine
        .collected_by_task("sink")
        .into_iter()
        .map(|(task, v)| (v.get(0).unwrap().as_str().unwrap().to_string(), task))
        .collect();
    engine.stop(StopMode::Immediate);
    let mut l = lab(&t, 9);
    l.step_n(100_000);
    assert!(l.is_finished_now());
    let stepped: BTreeMap<String, u32> = l
        .trace()
        .iter()
        .filter(|e| e.kind == Kind::Deliver)
        .map(|e| (word_of(e), e.task))
        .collect();
    assert_eq!(stepped.len(), 40, "every word of the vocabulary seen");
    assert_eq!(stepped, threaded);
}

#[test]
fn flume_nodes_are_refused_by_name_and_micro_batch_designs_step() {
    let mixed =
        tributary::format::load_ron(&common::examples_dir().join("mixed_pipeline.ron")).unwrap();
    let why = tributary::runtime::lab::refusal(&mixed).unwrap();
    assert!(why.contains("Flume"), "{why}");
    let first_flume = mixed
        .nodes()
        .find(|n| matches!(n.role, Role::Source | Role::Channel | Role::Sink))
        .unwrap();
    assert!(why.contains(&first_flume.name), "{why}");
    let batch =
        tributary::format::load_ron(&common::examples_dir().join("spark_join_clicks.ron")).unwrap();
    assert_eq!(tributary::runtime::lab::refusal(&batch), None);
    assert!(tributary::runtime::lab::refusal(&topology(None, 1)).is_none());
}

fn saved(t: &Topology) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let file = common::save_in(dir.path(), "t.ron", t);
    (dir, file)
}

#[test]
fn cli_lab_writes_one_json_event_per_line_with_values_and_ledgers() {
    let (_dir, file) = saved(&topology(Some(4), 1));
    let out = common::cli()
        .args([
            "lab",
            file.to_str().unwrap(),
            "--seed",
            "4",
            "--steps",
            "300",
        ])
        .args(["--trace", "-"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    let events: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), 300);
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e["step"], i as u64 + 1);
        assert!(e["kind"].is_string() && e["node"].is_string() && e["task"].is_u64());
    }
    let delivery = events
        .iter()
        .find(|e| e["kind"] == "deliver" && e["node"] == "count")
        .unwrap();
    assert!(delivery["values"]["word"].is_string(), "{delivery}");
    assert_eq!(delivery["root"].as_str().unwrap().len(), 16);
    let ack = events.iter().find(|e| e["kind"] == "ack").unwrap();
    assert_eq!(ack["ledger"].as_str().unwrap().len(), 16, "{ack}");
    // The same command again gives the same bytes.
    let again = common::cli()
        .args([
            "lab",
            file.to_str().unwrap(),
            "--seed",
            "4",
            "--steps",
            "300",
        ])
        .args(["--trace", "-"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(String::from_utf8(again).unwrap(), text);
}

#[test]
fn cli_lab_reports_an_unwritable_trace_and_unsteppable_designs_clearly() {
    let (dir, file) = saved(&topology(None, 1));
    let target = dir.path().join("missing").join("trace.jsonl");
    common::cli()
        .args(["lab", file.to_str().unwrap(), "--trace"])
        .arg(&target)
        .assert()
        .failure()
        .stderr(predicates::str::contains("cannot write the trace to"))
        .stderr(predicates::str::contains("trace.jsonl"));
    let mixed = common::examples_dir().join("mixed_pipeline.ron");
    common::cli()
        .args(["lab", mixed.to_str().unwrap()])
        .assert()
        .failure()
        .stderr(predicates::str::contains("Flume nodes in Lab mode"));
    let mut bad = topology(None, 1);
    bad.node_by_name_mut("split").unwrap().parallelism = 0;
    let (_dir2, bad_file) = saved(&bad);
    common::cli()
        .args(["lab", bad_file.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("parallelism"))
        .stderr(predicates::str::contains("t.ron:"));
}

/// The micro-batch example at 20 sentences a second, so every record of a batch is in
/// the trace.
fn slow_micro_batch(seed: u64) -> LabEngine {
    let t =
        tributary::format::load_ron(&common::examples_dir().join("spark_windowed_top_words.ron"))
            .unwrap();
    let mut l = lab(&t, seed);
    l.act(Control::SetRate {
        node: "sentences".into(),
        per_sec: Some(20.0),
    });
    l
}

fn words_of(node: &tributary::runtime::lab::NodeBatch) -> Vec<String> {
    node.values
        .iter()
        .map(|f| match f.get("word") {
            Some(Val::Str(w)) => w.as_str().to_string(),
            other => panic!("no word: {other:?}"),
        })
        .collect()
}

#[test]
fn micro_batch_lab_steps_one_batch_at_a_time_with_each_operators_output() {
    let run = || {
        let mut l = slow_micro_batch(2);
        l.step_n(12);
        l.trace().to_vec()
    };
    let trace = run();
    assert_eq!(lines(&trace), lines(&run()), "deterministic");
    let mut l = slow_micro_batch(2);
    l.step_n(12);
    l.back(5).unwrap();
    l.step_n(5);
    assert_eq!(
        lines(l.trace()),
        lines(&trace),
        "back then forward: the same batches"
    );
    let batches: Vec<_> = trace.iter().filter_map(|e| e.batch.as_ref()).collect();
    assert_eq!(batches.len(), 12);
    for (k, b) in batches.iter().enumerate() {
        let k = k as u64 + 1;
        assert_eq!(
            (b.from_ms, b.time_ms),
            ((k - 1) * 500, k * 500),
            "batch {k}"
        );
        // 20 a second for half a second.
        assert_eq!(b.records, 10, "batch {k}");
        let node = |name: &str| b.nodes.iter().find(|n| n.node == name).unwrap();
        assert_eq!(node("sentences").count, 10);
        // Every sentence has 8 words: split's output is the batch's words, in order.
        let expected: Vec<String> = node("sentences")
            .values
            .iter()
            .flat_map(|f| match f.get("sentence") {
                Some(Val::Str(s)) => s
                    .as_str()
                    .split(' ')
                    .map(str::to_string)
                    .collect::<Vec<_>>(),
                _ => panic!("no sentence"),
            })
            .collect();
        assert_eq!(words_of(node("split")), expected, "batch {k}");
    }
}

#[test]
fn micro_batch_lab_windows_hold_exactly_the_words_of_their_last_three_seconds() {
    let mut l = slow_micro_batch(4);
    l.step_n(16);
    let batches: Vec<_> = l.trace().iter().filter_map(|e| e.batch.clone()).collect();
    let mut checked = 0;
    for (i, b) in batches.iter().enumerate() {
        let Some(w) = b.windows.iter().find(|w| w.node == "top_words") else {
            assert_ne!(b.time_ms % 1000, 0, "a window closes every slide (1 s)");
            continue;
        };
        assert_eq!(w.result.window_end_ms, b.time_ms);
        // The window covers the batches of (end − 3 s, end]: up to six of 500 ms.
        let mut counts: BTreeMap<String, f64> = BTreeMap::new();
        for earlier in batches[..=i].iter().rev().take(6) {
            let split = earlier.nodes.iter().find(|n| n.node == "split").unwrap();
            for word in words_of(split) {
                *counts.entry(word).or_default() += 1.0;
            }
        }
        assert_eq!(w.result.keys, counts.len(), "at {} ms", b.time_ms);
        for (key, value) in &w.result.top {
            assert_eq!(counts.get(key), Some(value), "{key} at {} ms", b.time_ms);
        }
        checked += 1;
    }
    assert_eq!(checked, 8, "one window per second over 8 s");
}
