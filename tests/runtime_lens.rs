//! The grouping lens on real threaded runs: the per task-pair counts a snapshot carries
//! (what the lens draws) agree with where the tuples really went, and the key
//! explainer names the task each key really reached.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use tributary::model::{Grouping, Node, Role, StreamDecl, Topology};
use tributary::runtime::key_route::explain;
use tributary::runtime::{EdgeMetrics, Engine, RunOptions, StopMode, Values};

/// `src` (`senders` tasks, `limit` tuples each) → `sink` collector with `tasks` tasks.
fn topology(
    spout: &str,
    field: &str,
    grouping: Grouping,
    senders: u32,
    tasks: u32,
    limit: i64,
) -> Topology {
    let mut t = Topology::new("lens");
    t.settings.ackers = 1;
    let mut src = Node::new("src", Role::Spout, spout)
        .with_config("limit", limit)
        .with_parallelism(senders)
        .with_output(StreamDecl::default_stream(&[field]));
    if spout == "word_generator" {
        src = src.with_config("vocabulary", 60);
    }
    t.add_node(src).unwrap();
    t.add_node(Node::new("sink", Role::Bolt, "collector").with_parallelism(tasks))
        .unwrap();
    t.connect_names("src", "sink", "default", grouping).unwrap();
    t
}

/// What the lens reads after a finished run: the edge's metrics, where each tuple
/// landed, and the task ids of both ends.
struct Finished {
    edge: EdgeMetrics,
    got: Vec<(u32, Values)>,
    senders: Vec<u32>,
    receivers: Vec<u32>,
    emitted: u64,
}

fn run(t: &Topology) -> Finished {
    let engine = Engine::start(t, RunOptions::default()).unwrap();
    assert!(engine.wait_finished(Duration::from_secs(120)));
    let got = engine.collected_by_task("sink");
    let (senders, receivers) = (engine.tasks_of("src"), engine.tasks_of("sink"));
    let snap = engine.stop(StopMode::Immediate);
    let edge = snap.edges.iter().find(|e| e.from == "src").unwrap().clone();
    Finished {
        edge,
        got,
        senders,
        receivers,
        emitted: snap.nodes["src"].emitted,
    }
}

impl Finished {
    /// The lens's pair counts, which must cover exactly what the edge carried.
    fn pairs(&self) -> BTreeMap<(u32, u32), u64> {
        let pairs = self.edge.pairs.as_ref().expect("the run kept pair counts");
        let map: BTreeMap<(u32, u32), u64> =
            pairs.iter().map(|p| ((p.from, p.to), p.tuples)).collect();
        assert_eq!(map.len(), pairs.len(), "each pair once");
        assert!(pairs.iter().all(|p| p.tuples > 0), "zero pairs left out");
        assert_eq!(map.values().sum::<u64>(), self.edge.tuples);
        for (from, to) in map.keys() {
            assert!(self.senders.contains(from), "{from} sends on this edge");
            assert!(self.receivers.contains(to), "{to} receives on this edge");
        }
        map
    }

    /// Tuples each receiving task got, per the lens.
    fn received(&self) -> BTreeMap<u32, u64> {
        let mut m = BTreeMap::new();
        for ((_, to), n) in self.pairs() {
            *m.entry(to).or_default() += n;
        }
        m
    }

    /// Tuples each receiving task got, per the collector.
    fn collected(&self) -> BTreeMap<u32, u64> {
        let mut m = BTreeMap::new();
        for (task, _) in &self.got {
            *m.entry(*task).or_default() += 1;
        }
        m
    }

    /// The tasks each key reached, per the collector.
    fn tasks_per_key(&self) -> BTreeMap<String, BTreeSet<u32>> {
        let mut m: BTreeMap<String, BTreeSet<u32>> = BTreeMap::new();
        for (task, v) in &self.got {
            m.entry(v.get(0).unwrap().to_string())
                .or_default()
                .insert(*task);
        }
        m
    }
}

#[test]
fn fields_puts_every_key_on_exactly_one_task_and_the_lens_says_which() {
    let grouping = Grouping::Fields(vec!["word".into()]);
    let f = run(&topology(
        "word_generator",
        "word",
        grouping.clone(),
        2,
        4,
        600,
    ));
    assert_eq!(f.edge.tuples, f.emitted);
    assert_eq!(f.received(), f.collected());
    assert_eq!(
        f.pairs().keys().map(|p| p.0).collect::<BTreeSet<_>>().len(),
        2
    );
    let by_key = f.tasks_per_key();
    assert!(by_key.len() > 10, "{by_key:?}");
    for (key, tasks) in &by_key {
        assert_eq!(tasks.len(), 1, "{key} reached {tasks:?}");
        let told = explain(
            &grouping,
            &[tributary::runtime::Val::str(key)],
            &f.receivers,
        )
        .unwrap();
        assert_eq!(
            told.tasks,
            tasks.iter().copied().collect::<Vec<_>>(),
            "{key}"
        );
    }
}

#[test]
fn all_gives_every_task_a_copy_from_every_sender() {
    let f = run(&topology("sequence", "n", Grouping::All, 2, 3, 500));
    let pairs = f.pairs();
    assert_eq!(pairs.len(), 2 * 3, "{pairs:?}");
    assert!(pairs.values().all(|&n| n == 500), "{pairs:?}");
    assert_eq!(f.received(), f.collected());
}

#[test]
fn global_sends_everything_to_the_lowest_task() {
    let f = run(&topology("sequence", "n", Grouping::Global, 2, 3, 500));
    let received = f.received();
    assert_eq!(
        received.keys().copied().collect::<Vec<_>>(),
        [f.receivers[0]]
    );
    assert_eq!(received[&f.receivers[0]], 1000);
}

#[test]
fn shuffle_spreads_ten_thousand_tuples_within_five_percent_of_the_mean() {
    let f = run(&topology("sequence", "n", Grouping::Shuffle, 2, 4, 5000));
    let received = f.received();
    assert_eq!(received.len(), 4, "{received:?}");
    let total: u64 = received.values().sum();
    assert_eq!(total, 10_000);
    let mean = total as f64 / 4.0;
    for (task, &n) in &received {
        assert!(
            (n as f64 - mean).abs() <= 0.05 * mean,
            "task {task}: {n} against a mean of {mean}"
        );
    }
}

#[test]
fn partial_key_uses_at_most_two_tasks_per_key_the_two_the_lens_names() {
    let grouping = Grouping::PartialKey(vec!["word".into()]);
    let f = run(&topology(
        "word_generator",
        "word",
        grouping.clone(),
        2,
        4,
        600,
    ));
    assert_eq!(f.received(), f.collected());
    let by_key = f.tasks_per_key();
    for (key, tasks) in &by_key {
        assert!(tasks.len() <= 2, "{key} reached {tasks:?}");
        let told = explain(
            &grouping,
            &[tributary::runtime::Val::str(key)],
            &f.receivers,
        )
        .unwrap();
        assert!(
            tasks.iter().all(|t| told.tasks.contains(t)),
            "{key} reached {tasks:?}, the lens names {:?}",
            told.tasks
        );
    }
    assert!(
        by_key.values().any(|t| t.len() == 2),
        "load is split for some key"
    );
}

#[test]
fn an_edge_over_the_pair_cap_keeps_no_pairs_but_still_counts_its_tuples() {
    // 17 senders × 241 receivers = 4097 pairs, one over the 4096 the lens draws.
    let mut t = topology("sequence", "n", Grouping::Shuffle, 17, 1, 10);
    t.node_by_name_mut("sink").unwrap().tasks = Some(241);
    let f = run(&t);
    assert!(
        f.edge.pairs.is_none(),
        "{:?}",
        f.edge.pairs.as_ref().map(Vec::len)
    );
    assert_eq!(f.edge.tuples, 170);
    assert_eq!(f.collected().values().sum::<u64>(), 170);
}
