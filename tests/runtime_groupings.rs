//! One test per grouping, each asserting the routing property on a real run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use tributary::model::{Grouping, Node, Role, StreamDecl, Topology};
use tributary::runtime::routing::deep_hash;
use tributary::runtime::{
    Behaviour, Bolt, Emitter, Engine, Failed, RunOptions, Spout, StopMode, TaskInfo, Tuple, Val,
    Values,
};

const N: i64 = 1200;

/// `src` (one task) → `sink` collector with `tasks` tasks on `grouping`.
fn topology(spout: &str, field: &str, grouping: Grouping, tasks: u32, ackers: u32) -> Topology {
    let mut t = Topology::new("g");
    t.settings.ackers = ackers;
    let mut src = Node::new("src", Role::Spout, spout)
        .with_config("limit", N)
        .with_output(StreamDecl::default_stream(&[field]));
    if spout == "word_generator" {
        src = src.with_config("vocabulary", 50);
    }
    t.add_node(src).unwrap();
    let mut sink = Node::new("sink", Role::Bolt, "collector").with_parallelism(tasks);
    sink.tasks = Some(tasks);
    t.add_node(sink).unwrap();
    t.connect_names("src", "sink", "default", grouping).unwrap();
    t
}

fn run(t: &Topology, options: RunOptions) -> (Vec<(u32, Values)>, Vec<u32>, Engine) {
    let engine = Engine::start(t, options).unwrap();
    assert!(engine.wait_finished(Duration::from_secs(60)));
    (
        engine.collected_by_task("sink"),
        engine.tasks_of("sink"),
        engine,
    )
}

fn per_task(got: &[(u32, Values)]) -> BTreeMap<u32, usize> {
    let mut m = BTreeMap::new();
    for (task, _) in got {
        *m.entry(*task).or_insert(0) += 1;
    }
    m
}

#[test]
fn shuffle_deals_round_robin() {
    let (got, tasks, _e) = run(
        &topology("sequence", "n", Grouping::Shuffle, 3, 1),
        RunOptions::default(),
    );
    assert_eq!(got.len(), N as usize);
    let counts = per_task(&got);
    assert_eq!(counts.keys().copied().collect::<Vec<_>>(), tasks);
    assert!(counts.values().all(|&c| c == N as usize / 3), "{counts:?}");
}

#[test]
fn local_or_shuffle_is_shuffle_in_one_process() {
    let t = topology("sequence", "n", Grouping::LocalOrShuffle, 4, 0);
    let (got, _, _e) = run(&t, RunOptions::default());
    assert!(per_task(&got).values().all(|&c| c == N as usize / 4));
}

#[test]
fn fields_sends_a_key_to_the_task_java_would_pick() {
    let t = topology(
        "word_generator",
        "word",
        Grouping::Fields(vec!["word".into()]),
        4,
        1,
    );
    let (got, tasks, _e) = run(&t, RunOptions::default());
    assert_eq!(got.len(), N as usize);
    let mut owner: BTreeMap<String, BTreeSet<u32>> = BTreeMap::new();
    for (task, v) in &got {
        let word = v.get(0).unwrap();
        let expected = tasks[(deep_hash([word]) as i64).rem_euclid(4) as usize];
        assert_eq!(*task, expected);
        owner.entry(word.to_string()).or_default().insert(*task);
    }
    assert!(owner.values().all(|t| t.len() == 1));
}

#[test]
fn all_copies_to_every_task() {
    let (got, tasks, e) = run(
        &topology("sequence", "n", Grouping::All, 3, 1),
        RunOptions::default(),
    );
    assert_eq!(got.len(), 3 * N as usize);
    assert!(per_task(&got).values().all(|&c| c == N as usize));
    assert_eq!(per_task(&got).len(), tasks.len());
    let snap = e.stop(StopMode::Immediate);
    assert_eq!(snap.nodes["src"].transferred, 3 * N as u64);
    assert_eq!(snap.nodes["src"].acked, N as u64);
}

#[test]
fn global_goes_to_the_lowest_task() {
    let (got, tasks, _e) = run(
        &topology("sequence", "n", Grouping::Global, 3, 1),
        RunOptions::default(),
    );
    assert_eq!(got.len(), N as usize);
    assert!(got.iter().all(|(t, _)| *t == tasks[0]));
}

#[test]
fn none_picks_randomly_but_reproducibly() {
    let t = topology("sequence", "n", Grouping::None, 3, 1);
    let (a, _, _e1) = run(
        &t,
        RunOptions {
            seed: 9,
            ..Default::default()
        },
    );
    let (b, _, _e2) = run(
        &t,
        RunOptions {
            seed: 9,
            ..Default::default()
        },
    );
    assert_eq!(a.len(), N as usize);
    let (ca, cb) = (per_task(&a), per_task(&b));
    assert_eq!(ca, cb, "same seed, same choices");
    assert_eq!(ca.len(), 3);
    assert!(ca.values().all(|&c| c > 200 && c < 600), "{ca:?}");
}

#[test]
fn partial_key_uses_at_most_two_tasks_per_key() {
    let t = topology(
        "word_generator",
        "word",
        Grouping::PartialKey(vec!["word".into()]),
        4,
        1,
    );
    let (got, _, _e) = run(&t, RunOptions::default());
    assert_eq!(got.len(), N as usize);
    let mut owner: BTreeMap<String, BTreeSet<u32>> = BTreeMap::new();
    for (task, v) in &got {
        owner
            .entry(v.get(0).unwrap().to_string())
            .or_default()
            .insert(*task);
    }
    assert!(owner.values().all(|t| t.len() <= 2));
    assert!(
        owner.values().any(|t| t.len() == 2),
        "load is split for some key"
    );
}

/// A spout that sends number `k` directly to consumer task `targets[k % n]`.
struct DirectSpout {
    k: i64,
    targets: Vec<u32>,
}

impl Spout for DirectSpout {
    fn next_tuple(&mut self, out: &mut Emitter) -> bool {
        if self.k >= N {
            return false;
        }
        let t = self.targets[(self.k as usize) % self.targets.len()];
        out.emit_direct(t, 0, Values::One(Val::Int(self.k)));
        self.k += 1;
        true
    }
    fn is_done(&self) -> bool {
        self.k >= N
    }
}

fn direct_topology() -> Topology {
    let mut t = Topology::new("d");
    let mut decl = StreamDecl::default_stream(&["n"]);
    decl.direct = true;
    t.add_node(
        Node::new("src", Role::Spout, "stand_in")
            .with_config("class", "DirectSpout")
            .with_output(decl),
    )
    .unwrap();
    t.add_node(Node::new("sink", Role::Bolt, "collector").with_parallelism(3))
        .unwrap();
    t.connect_names("src", "sink", "default", Grouping::Direct)
        .unwrap();
    t
}

#[test]
fn direct_goes_where_the_emitter_says() {
    let mut options = RunOptions::default();
    options.overrides.insert(
        "src".into(),
        Arc::new(|info: &TaskInfo| {
            Ok(Behaviour::Spout(Box::new(DirectSpout {
                k: 0,
                targets: info.consumers[0].clone(),
            })))
        }),
    );
    let (got, tasks, _e) = run(&direct_topology(), options);
    assert_eq!(got.len(), N as usize);
    for (task, v) in got {
        let Some(Val::Int(k)) = v.get(0) else {
            panic!()
        };
        assert_eq!(task, tasks[(*k as usize) % 3]);
    }
}

/// A bolt that (wrongly) emits plainly on a direct stream.
struct Wrong;

impl Bolt for Wrong {
    fn execute(&mut self, input: &Tuple, out: &mut Emitter) -> Result<(), Failed> {
        out.emit(input.values.clone());
        Ok(())
    }
}

#[test]
fn plain_emit_on_a_direct_stream_is_an_error() {
    let mut t = Topology::new("w");
    t.settings.message_timeout_secs = 1;
    t.add_node(
        Node::new("src", Role::Spout, "sequence")
            .with_config("limit", 10)
            .with_output(StreamDecl::default_stream(&["n"])),
    )
    .unwrap();
    let mut decl = StreamDecl::default_stream(&["n"]);
    decl.direct = true;
    t.add_node(
        Node::new("mid", Role::Bolt, "stand_in")
            .with_config("class", "Wrong")
            .with_output(decl),
    )
    .unwrap();
    t.add_node(Node::new("sink", Role::Bolt, "collector"))
        .unwrap();
    t.connect_names("src", "mid", "default", Grouping::Shuffle)
        .unwrap();
    t.connect_names("mid", "sink", "default", Grouping::Direct)
        .unwrap();
    let mut options = RunOptions::default();
    options.overrides.insert(
        "mid".into(),
        Arc::new(|_: &TaskInfo| Ok(Behaviour::Bolt(Box::new(Wrong)))),
    );
    let engine = Engine::start(&t, options).unwrap();
    common::wait_for_snapshot(&engine, "ten failed emits", |s| s.nodes["mid"].failed >= 10);
    let log = engine.drain_log();
    let snap = engine.stop(StopMode::Immediate);
    assert!(snap.nodes["mid"].failed >= 10);
    assert_eq!(snap.nodes["sink"].executed, 0);
    assert!(
        log.iter()
            .any(|l| l.text.contains("plain emit on a direct stream")),
        "{log:?}"
    );
}

#[test]
fn built_ins_on_a_direct_stream_are_refused_at_start() {
    let mut t = direct_topology();
    t.node_by_name_mut("src").unwrap().component = "sequence".into();
    let err = Engine::start(&t, RunOptions::default()).err().unwrap();
    assert!(err.to_string().contains("node 'src'"), "{err}");
}
