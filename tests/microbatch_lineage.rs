//! Recovery from lineage in micro-batch mode: workers killed while batches run lose
//! their partitions of the batch's intermediate results, which are recomputed from the
//! receivers' stored blocks, so window results (and every other output) equal a
//! fault-free run's. Runs in the lab (one batch per step, virtual time), so nothing
//! depends on timing; the kills' batches and workers are drawn per seed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing

use tributary::model::{
    ExecutionMode, Grouping, Node, Role, StreamDecl, Topology, WindowSize, WindowSpec,
};
use tributary::runtime::lab::BatchTrace;
use tributary::runtime::rng::Rng;
use tributary::runtime::{Control, LabEngine, LabOptions, RunOptions, Values};

const WORKERS: u32 = 3;

/// Word count with windows over 100 ms batches: two sentence receivers, split (three
/// partitions), per-batch counts (`reduce_by_key`, two partitions) and a 300 ms window
/// sliding every 100 ms (`window_aggregate`), each into a collector.
fn word_count() -> Topology {
    let mut t = Topology::new("lineage");
    t.settings.workers = WORKERS;
    t.settings.mode = ExecutionMode::MicroBatch { interval_ms: 100 };
    t.add_node(
        Node::new("sentences", Role::Spout, "sentence_generator")
            .with_config("limit", 400i64)
            .with_config("rate_per_sec", 500.0)
            .with_config("seed", 7i64)
            .with_config("vocabulary", 40i64)
            .with_config("words_per_sentence", 6i64)
            .with_output(StreamDecl::default_stream(&["sentence"]))
            .with_parallelism(2),
    )
    .unwrap();
    t.add_node(
        Node::new("split", Role::Bolt, "split")
            .with_config("field", "sentence")
            .with_config("into", "word")
            .with_output(StreamDecl::default_stream(&["word"]))
            .with_parallelism(3),
    )
    .unwrap();
    t.add_node(
        Node::new("per_batch", Role::Bolt, "reduce_by_key")
            .with_config("key", "word")
            .with_config("reduce", "count")
            .with_output(StreamDecl::default_stream(&["key", "value"]))
            .with_parallelism(2),
    )
    .unwrap();
    let mut window = Node::new("window", Role::Bolt, "window_aggregate")
        .with_config("key", "word")
        .with_config("aggregate", "count")
        .with_output(StreamDecl::default_stream(&[
            "key",
            "value",
            "window_end_ms",
        ]))
        .with_parallelism(2);
    window.window = Some(WindowSpec {
        length: WindowSize::Millis(300),
        slide: WindowSize::Millis(100),
    });
    t.add_node(window).unwrap();
    t.add_node(Node::new("batch_counts", Role::Bolt, "collector"))
        .unwrap();
    t.add_node(Node::new("windows", Role::Bolt, "collector"))
        .unwrap();
    let by_word = || Grouping::Fields(vec!["word".into()]);
    t.connect_names("sentences", "split", "default", Grouping::Shuffle)
        .unwrap();
    t.connect_names("split", "per_batch", "default", by_word())
        .unwrap();
    t.connect_names("split", "window", "default", by_word())
        .unwrap();
    t.connect_names("per_batch", "batch_counts", "default", Grouping::Shuffle)
        .unwrap();
    t.connect_names("window", "windows", "default", Grouping::Shuffle)
        .unwrap();
    t
}

struct Outcome {
    windows: Vec<Values>,
    batch_counts: Vec<Values>,
    batches: Vec<BatchTrace>,
}

/// Runs to the end, killing `kills` = (after step, worker) between batches.
fn run(seed: u64, kills: &[(u64, u32)]) -> Outcome {
    let options = RunOptions {
        seed,
        ..RunOptions::default()
    };
    let mut lab = LabEngine::start(&word_count(), options, LabOptions::default()).unwrap();
    let mut steps = 0;
    loop {
        for &(_, worker) in kills.iter().filter(|(at, _)| *at == steps) {
            lab.act(Control::KillWorker { worker });
        }
        if lab.step().is_none() {
            break;
        }
        steps += 1;
        assert!(steps < 500, "seed {seed}: the run does not end");
    }
    Outcome {
        windows: lab.collected("windows"),
        batch_counts: lab.collected("batch_counts"),
        batches: lab.trace().iter().filter_map(|e| e.batch.clone()).collect(),
    }
}

#[test]
fn killed_workers_partitions_are_recomputed_and_results_equal_a_fault_free_run() {
    let mut runs_with_recompute = 0;
    let mut records_recomputed = 0;
    for seed in 0..12u64 {
        let reference = run(seed, &[]);
        assert!(
            reference.windows.len() > 100,
            "seed {seed}: the reference run's windows: {}",
            reference.windows.len()
        );
        assert!(reference.batches.iter().all(|b| b.recomputed.is_empty()));
        let mut dice = Rng::new(seed ^ 0x5eed);
        // Up to 3 kills, each after a random batch of the first 8 (the data lasts ~8).
        let kills: Vec<(u64, u32)> = (0..1 + dice.below(3))
            .map(|_| (dice.below(8) as u64, dice.below(WORKERS as usize) as u32))
            .collect();
        let faulty = run(seed, &kills);
        assert_eq!(
            faulty.windows, reference.windows,
            "seed {seed}, kills {kills:?}: window results differ"
        );
        assert_eq!(
            faulty.batch_counts, reference.batch_counts,
            "seed {seed}, kills {kills:?}: per-batch counts differ"
        );
        let killed: usize = faulty.batches.iter().map(|b| b.killed_workers.len()).sum();
        let distinct_per_step = {
            let mut k = kills.clone();
            k.sort_unstable();
            k.dedup();
            k.len()
        };
        assert!(
            killed >= distinct_per_step.min(1),
            "seed {seed}: the kills {kills:?} never landed"
        );
        let recomputed: Vec<_> = faulty
            .batches
            .iter()
            .flat_map(|b| b.recomputed.clone())
            .collect();
        for r in &recomputed {
            assert!(
                kills.iter().any(|&(_, w)| w == r.worker),
                "seed {seed}: {r:?} was on a worker nobody killed"
            );
            assert!(
                ["split", "per_batch"].contains(&r.node.as_str()),
                "seed {seed}: only split and the per-batch counts are recomputed, not {r:?}"
            );
        }
        if !recomputed.is_empty() {
            runs_with_recompute += 1;
        }
        records_recomputed += recomputed.iter().map(|r| r.records).sum::<u64>();
    }
    // The kills land after 1 to n − 1 of a job's operators: most runs lose a partition
    // a later operator still needs. If recovery were skipped, the results above differ.
    assert!(
        runs_with_recompute >= 9,
        "only {runs_with_recompute} of 12 runs recomputed anything"
    );
    assert!(records_recomputed > 0);
}

#[test]
fn split_partitions_lost_before_their_consumers_ran_are_recomputed_from_the_blocks() {
    // Workers 1 and 2 die in the same job (two requests before it, each landing at its
    // own point of it): two of split's three partitions live there.
    let reference = run(3, &[]);
    let mut found = false;
    for at in 2..5u64 {
        let faulty = run(3, &[(at, 1), (at, 2)]);
        assert_eq!(faulty.windows, reference.windows, "kills after step {at}");
        let batch = faulty
            .batches
            .iter()
            .find(|b| !b.killed_workers.is_empty())
            .expect("the kills landed in a batch");
        assert_eq!(batch.killed_workers, vec![1, 2]);
        if let Some(r) = batch.recomputed.iter().find(|r| r.node == "split") {
            // The lost partitions read their share of the batch's sentences again, from
            // the receivers' blocks: some, not all.
            let split_records: u64 = batch
                .recomputed
                .iter()
                .filter(|r| r.node == "split")
                .map(|r| r.records)
                .sum();
            assert!(
                r.records > 0 && split_records < batch.records as u64,
                "{batch:?}"
            );
            found = true;
        }
    }
    assert!(found, "no kill landed between split and its consumers");
}

/// Runs the word count on a cluster of 2 machines × 2 slots, losing `machine` after
/// step `at`.
fn run_on_cluster(seed: u64, lose: Option<(u64, u32)>) -> Outcome {
    let mut t = word_count();
    t.settings.cluster = Some(tributary::model::ClusterSettings {
        machines: 2,
        slots_per_machine: 2,
        heartbeat_timeout_secs: 3,
    });
    let options = RunOptions {
        seed,
        ..RunOptions::default()
    };
    let mut lab = LabEngine::start(&t, options, LabOptions::default()).unwrap();
    let mut steps = 0;
    loop {
        if let Some((at, machine)) = lose
            && at == steps
        {
            lab.act(Control::Cluster(
                tributary::runtime::cluster::ClusterAction::KillMachine(machine),
            ));
        }
        if lab.step().is_none() {
            break;
        }
        steps += 1;
        assert!(steps < 500, "seed {seed}: the run does not end");
    }
    Outcome {
        windows: lab.collected("windows"),
        batch_counts: lab.collected("batch_counts"),
        batches: lab.trace().iter().filter_map(|e| e.batch.clone()).collect(),
    }
}

#[test]
fn a_lost_machines_partitions_are_recomputed_and_results_equal_a_fault_free_run() {
    use tributary::runtime::cluster::placement;
    let placed = placement::place(WORKERS, 2, 2);
    let mut recomputed_somewhere = 0;
    for seed in 0..6u64 {
        let reference = run_on_cluster(seed, None);
        for machine in 0..2u32 {
            let on_machine: Vec<u32> = placement::workers_on(&placed, machine);
            assert!(!on_machine.is_empty(), "machine {machine} holds a worker");
            let at = 1 + seed % 5;
            let faulty = run_on_cluster(seed, Some((at, machine)));
            assert_eq!(
                faulty.windows, reference.windows,
                "seed {seed}, machine {machine} lost after step {at}: windows differ"
            );
            assert_eq!(faulty.batch_counts, reference.batch_counts);
            let batch = faulty
                .batches
                .iter()
                .find(|b| !b.killed_workers.is_empty())
                .expect("the machine's loss landed in a batch");
            assert_eq!(
                batch.killed_workers, on_machine,
                "losing machine {machine} loses exactly its workers"
            );
            for r in faulty.batches.iter().flat_map(|b| b.recomputed.iter()) {
                assert!(
                    on_machine.contains(&r.worker),
                    "{r:?} was not on machine {machine}"
                );
                recomputed_somewhere += 1;
            }
        }
    }
    assert!(
        recomputed_somewhere > 0,
        "no lost partition was ever recomputed"
    );
}
