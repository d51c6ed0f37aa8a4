//! Pause and the rate limit checked without a wall clock: a Lab run steps the engine's
//! own executors on virtual time, so "nothing was emitted while paused" is read from
//! the recorded events, and a rate is emitted tuples over virtual seconds, per task.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test crate: a failure here is the test failing

use tributary::model::{Grouping, Node, Role, StreamDecl, Topology};
use tributary::runtime::lab::Kind;
use tributary::runtime::{Control, LabEngine, LabOptions, RunOptions};

/// An endless two-task spout into one bolt.
fn topology() -> Topology {
    let mut t = Topology::new("controls");
    t.settings.ackers = 1;
    t.add_node(
        Node::new("src", Role::Spout, "sequence")
            .with_output(StreamDecl::default_stream(&["n"]))
            .with_parallelism(2),
    )
    .unwrap();
    t.add_node(Node::new("sink", Role::Bolt, "null")).unwrap();
    t.connect_names("src", "sink", "default", Grouping::Shuffle)
        .unwrap();
    t
}

fn lab(seed: u64) -> LabEngine {
    let options = RunOptions {
        seed,
        ..RunOptions::default()
    };
    LabEngine::start(&topology(), options, LabOptions::default()).unwrap()
}

/// Tuples each spout task emitted (new trees) among `events`.
fn emits_per_task(
    events: &[tributary::runtime::lab::Event],
) -> std::collections::BTreeMap<u32, u64> {
    let mut per_task = std::collections::BTreeMap::new();
    for e in events {
        if e.kind == Kind::NextTuple && e.root.is_some() {
            *per_task.entry(e.task).or_insert(0) += 1;
        }
    }
    per_task
}

#[test]
fn a_paused_run_calls_no_spout_drains_what_is_in_flight_and_resumes() {
    for seed in 0..3 {
        let mut l = lab(seed);
        l.step_n(300);
        let before = emits_per_task(l.trace());
        assert_eq!(
            before.len(),
            2,
            "seed {seed}: both spout tasks emitted: {before:?}"
        );
        let at_pause = l.trace().len();
        l.act(Control::Pause);
        // Paused, the run has only the tuples in flight left to do; when they are done,
        // it has no step left to take: the engine's own word that it is idle.
        let mut taken = 0;
        loop {
            let n = l.step_n(1000);
            if n == 0 {
                break;
            }
            taken += n;
            assert!(taken < 100_000, "seed {seed}: a paused run kept stepping");
        }
        let paused = &l.trace()[at_pause..];
        assert!(
            emits_per_task(paused).is_empty(),
            "seed {seed}: a spout emitted while paused"
        );
        assert!(
            paused.iter().all(|e| e.kind != Kind::NextTuple),
            "seed {seed}: a spout was called while paused"
        );
        let snap = l.metrics();
        assert!(snap.paused, "seed {seed}");
        assert_eq!(
            snap.nodes["src"].acked, snap.nodes["src"].emitted,
            "seed {seed}: every tree in flight at the pause completed"
        );
        let at_resume = l.trace().len();
        l.act(Control::Resume);
        l.step_n(300);
        assert_eq!(
            emits_per_task(&l.trace()[at_resume..]).len(),
            2,
            "seed {seed}: both tasks emit again after Resume"
        );
    }
}

#[test]
fn the_rate_limit_holds_per_task_from_both_sides_at_parallelism_two() {
    // Below what a task reaches unlimited in the lab (each event costs 1 ms of virtual
    // time, so a task there emits some 80 to 110 a second), so the cap is what holds it.
    for (seed, rate) in [(0u64, 10.0), (1, 25.0), (2, 40.0)] {
        let mut l = lab(seed);
        l.act(Control::SetRate {
            node: "src".into(),
            per_sec: Some(rate),
        });
        let start = l.trace().len();
        l.step_n(20_000);
        let secs = l.elapsed().as_secs_f64();
        assert!(secs > 5.0, "virtual time moved: {secs} s");
        let per_task = emits_per_task(&l.trace()[start..]);
        assert_eq!(per_task.len(), 2, "{per_task:?}");
        // Each task on its own is held to the rate, and reaches it: at most one tuple
        // either side of rate x virtual seconds (a token bucket's rounding).
        let expected = rate * secs;
        for (task, &emitted) in &per_task {
            assert!(
                (emitted as f64 - expected).abs() <= 1.0 + rate * 0.01,
                "task {task} at {rate}/s for {secs} s emitted {emitted}, expected {expected}"
            );
        }
        // Lifting the limit: the tasks go well beyond it.
        l.act(Control::SetRate {
            node: "src".into(),
            per_sec: None,
        });
        let (lifted, t0) = (l.trace().len(), l.elapsed());
        l.step_n(5_000);
        let secs = (l.elapsed() - t0).as_secs_f64();
        for (task, &emitted) in &emits_per_task(&l.trace()[lifted..]) {
            assert!(
                emitted as f64 > 1.5 * rate * secs,
                "task {task}: {emitted} in {secs} s after the limit was lifted"
            );
        }
    }
}
