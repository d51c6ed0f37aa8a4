//! The three delivery guarantees side by side: one design run at-most-once,
//! at-least-once and exactly-once at the same time, with the same seed, faults and
//! scenario, each measured against a fault-free reference run of the same input.
//!
//! What is measured is what a user of the output sees: the records each collector
//! (and each file sink, collected instead of written so the runs touch no file) kept,
//! as a multiset, and the final count per key of each `count_by_key`. Against the
//! reference, a record kept more often is a duplicate and one kept less often is lost.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::model::{Guarantee, Topology, Value};

use super::control::StopMode;
use super::engine::Engine;
use super::error::RunError;
use super::metrics::{MetricsSnapshot, as_millis};
use super::options::RunOptions;
use super::scenario::ScenarioPlayer;
use super::tuple::Values;

/// One guarantee's figures.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct GuaranteeFigures {
    pub guarantee: String,
    /// Every spout emit: each record once, plus replays, plus what a restarted spout
    /// read again.
    pub spout_emits: u64,
    /// Records the collectors and file sinks kept.
    pub records_out: u64,
    /// Records kept more often than in the reference run.
    pub duplicates: u64,
    /// Records of the reference run kept less often, or not at all.
    pub lost: u64,
    /// Spout emits that were replays.
    pub replayed: u64,
    /// The final counts added up, over every count node (each record counted once
    /// would give the reference's sum).
    pub counted: i64,
    /// Keys over every count node whose final count equals the reference's.
    pub keys_matching: u64,
    /// Keys over every count node, in the reference or here.
    pub keys_total: u64,
    /// Whether the run ended by itself (its input done) before the time limit.
    pub finished: bool,
    /// When its input was done (each run's own time, though all stop together).
    #[serde(serialize_with = "as_millis")]
    pub elapsed: Duration,
}

/// Every guarantee's figures, and the reference's output size.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct GuaranteeTable {
    /// Records the spouts read in the fault-free reference run: the input every run
    /// reads, each record once.
    pub records_in: u64,
    pub reference_records_out: u64,
    pub reference_keys: u64,
    pub reference_counted: i64,
    pub rows: Vec<GuaranteeFigures>,
}

/// Why `topology` cannot be run side by side, if it cannot: its input must end, so
/// that "every record" means the same in each run.
pub fn refusal(topology: &Topology) -> Option<String> {
    if matches!(
        topology.settings.mode,
        crate::model::ExecutionMode::MicroBatch { .. }
    ) {
        return Some("guarantees are compared record-at-a-time; this design is micro-batch".into());
    }
    let endless: Vec<&str> = topology
        .nodes()
        .filter(|n| !n.role.accepts_input())
        .filter(|n| !input_ends(n))
        .map(|n| n.name.as_str())
        .collect();
    if !endless.is_empty() {
        return Some(format!(
            "every spout's input must end, to say what was lost (set a `limit`): {}",
            endless.join(", ")
        ));
    }
    // Only what collectors and file sinks keep is compared; a logger may follow a count.
    let kept_after_count = crate::validate::committers_after_counts(topology)
        .into_iter()
        .find(|(_, sink)| {
            topology
                .node_by_name(sink)
                .is_some_and(|n| matches!(n.component.as_str(), "collector" | "file_sink"))
        });
    if let Some((count, sink)) = &kept_after_count {
        return Some(format!(
            "'{sink}' keeps what '{count}' emits, and a count emits differently under each \
             guarantee (every running total, or each key's total per batch), so its records \
             cannot be compared; compare the counts themselves (remove '{sink}')"
        ));
    }
    let mut copy = in_guarantee(topology, Guarantee::ExactlyOnce);
    copy.settings.scenario.clear();
    let diagnostics = crate::validate::validate(&copy);
    diagnostics
        .into_iter()
        .find(|d| d.is_error())
        .map(|d| format!("cannot run exactly-once: {}: {}", d.location, d.message))
}

/// Whether a spout's input ends: a `limit`, or a file read once.
fn input_ends(n: &crate::model::Node) -> bool {
    let limited = n
        .config
        .get("limit")
        .and_then(Value::as_i64)
        .is_some_and(|l| l > 0);
    let file_once = n.component == "file_lines"
        && !n
            .config
            .get("repeat")
            .and_then(Value::as_bool)
            .unwrap_or(false);
    limited || file_once
}

/// `topology` under `guarantee`, its file sinks collecting instead of writing.
fn in_guarantee(topology: &Topology, guarantee: Guarantee) -> Topology {
    let mut t = topology.clone();
    t.settings.guarantee = guarantee;
    if guarantee != Guarantee::AtMostOnce {
        t.settings.ackers = t.settings.ackers.max(1);
    }
    let sinks: Vec<String> = t
        .nodes()
        .filter(|n| n.component == "file_sink")
        .map(|n| n.name.clone())
        .collect();
    for name in sinks {
        if let Some(n) = t.node_by_name_mut(&name) {
            n.component = "collector".into();
            n.config.clear();
        }
    }
    t
}

/// What one run kept: each collecting node's records as text with how often, and the
/// final counts.
struct Outcome {
    kept: BTreeMap<String, BTreeMap<String, u64>>,
    counts: BTreeMap<String, BTreeMap<String, i64>>,
    snapshot: MetricsSnapshot,
    finished: bool,
    /// When its input was done (or when it was stopped, if never).
    elapsed: Duration,
}

fn collecting_nodes(t: &Topology) -> Vec<String> {
    t.nodes()
        .filter(|n| n.component == "collector")
        .map(|n| n.name.clone())
        .collect()
}

fn kept_of(engine: &Engine, nodes: &[String]) -> BTreeMap<String, BTreeMap<String, u64>> {
    nodes
        .iter()
        .map(|n| {
            let mut bag: BTreeMap<String, u64> = BTreeMap::new();
            for v in engine.collected(n) {
                *bag.entry(text_of(&v)).or_default() += 1;
            }
            (n.clone(), bag)
        })
        .collect()
}

fn text_of(v: &Values) -> String {
    v.join("\t")
}

/// Runs the design under every guarantee at once (and a fault-free reference first),
/// each until its input is done or `limit` passed.
pub fn run_side_by_side(
    topology: &Topology,
    options: RunOptions,
    limit: Duration,
) -> Result<GuaranteeTable, RunError> {
    let reference_design = {
        let mut t = in_guarantee(topology, Guarantee::AtLeastOnce);
        t.settings.scenario.clear();
        t
    };
    let mut clean = options.clone();
    clean.faults.clear();
    let reference = run_all(&[reference_design], &[clean], limit)?
        .pop()
        .ok_or_else(|| RunError::Unsupported {
            node: String::new(),
            what: "the reference run".into(),
        })?;
    let designs: Vec<Topology> = Guarantee::ALL
        .iter()
        .map(|g| in_guarantee(topology, *g))
        .collect();
    let each = vec![options; designs.len()];
    let outcomes = run_all(&designs, &each, limit)?;
    let rows = Guarantee::ALL
        .iter()
        .zip(&outcomes)
        .map(|(g, o)| figures(*g, o, &reference))
        .collect();
    let spout_emits = |o: &Outcome| -> u64 {
        o.snapshot
            .nodes
            .values()
            .filter(|n| n.role == "spout")
            .map(|n| n.emitted)
            .sum()
    };
    Ok(GuaranteeTable {
        records_in: spout_emits(&reference),
        reference_records_out: reference.kept.values().flat_map(|b| b.values()).sum(),
        reference_keys: reference.counts.values().map(|c| c.len() as u64).sum(),
        reference_counted: counted(&reference),
        rows,
    })
}

/// Starts every design at once, plays each one's scenario, and stops each when its
/// input is done (or at `limit`).
fn run_all(
    designs: &[Topology],
    options: &[RunOptions],
    limit: Duration,
) -> Result<Vec<Outcome>, RunError> {
    let mut running = Vec::new();
    for (t, o) in designs.iter().zip(options) {
        let mut o = o.clone();
        let mut player = ScenarioPlayer::new(t, []);
        player.apply_initial(&mut o);
        let engine = Engine::start(t, o)?;
        running.push((engine, player, collecting_nodes(t)));
    }
    let started = Instant::now();
    let mut finished_at: Vec<Option<Duration>> = vec![None; running.len()];
    loop {
        for (i, (engine, player, _)) in running.iter_mut().enumerate() {
            for (_, controls) in player.due(started.elapsed()) {
                for c in controls {
                    engine.control(c);
                }
            }
            if finished_at[i].is_none() && player.is_done() && engine.is_finished() {
                finished_at[i] = Some(started.elapsed());
            }
            // The log is not shown here; drained so it stays small.
            drop(engine.drain_log());
        }
        if finished_at.iter().all(Option::is_some) || started.elapsed() >= limit {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(running
        .into_iter()
        .zip(finished_at)
        .map(|((engine, _, nodes), finished_at)| {
            let kept = kept_of(&engine, &nodes);
            let snapshot = engine.stop(StopMode::Drain);
            let counts = match &snapshot.transactions {
                Some(t) => t
                    .state
                    .iter()
                    .map(|(n, keys)| {
                        (
                            n.clone(),
                            keys.iter().map(|(k, v)| (k.clone(), v.0)).collect(),
                        )
                    })
                    .collect(),
                None => snapshot.final_counts.clone(),
            };
            Outcome {
                kept,
                counts,
                elapsed: finished_at.unwrap_or(snapshot.elapsed),
                finished: finished_at.is_some(),
                snapshot,
            }
        })
        .collect())
}

fn counted(o: &Outcome) -> i64 {
    o.counts.values().flat_map(|c| c.values()).sum()
}

fn figures(g: Guarantee, o: &Outcome, reference: &Outcome) -> GuaranteeFigures {
    let spouts = o.snapshot.nodes.values().filter(|n| n.role == "spout");
    let (emitted, replayed) = spouts.fold((0, 0), |(e, r), n| (e + n.emitted, r + n.replayed));
    let mut duplicates = 0;
    let mut lost = 0;
    let empty = BTreeMap::new();
    for (node, want) in &reference.kept {
        let got = o.kept.get(node).unwrap_or(&empty);
        for (record, n) in want {
            let have = got.get(record).copied().unwrap_or(0);
            lost += n.saturating_sub(have);
            duplicates += have.saturating_sub(*n);
        }
        for (record, have) in got {
            if !want.contains_key(record) {
                duplicates += have;
            }
        }
    }
    let mut keys_matching = 0;
    let mut keys_total = 0;
    let no_counts = BTreeMap::new();
    for (node, want) in &reference.counts {
        let got = o.counts.get(node).unwrap_or(&no_counts);
        let mut keys: Vec<&String> = want.keys().chain(got.keys()).collect();
        keys.sort();
        keys.dedup();
        keys_total += keys.len() as u64;
        keys_matching += keys
            .iter()
            .filter(|k| want.get(**k) == got.get(**k))
            .count() as u64;
    }
    GuaranteeFigures {
        guarantee: g.label().into(),
        spout_emits: emitted,
        records_out: o.kept.values().flat_map(|b| b.values()).sum(),
        duplicates,
        lost,
        replayed,
        counted: counted(o),
        keys_matching,
        keys_total,
        finished: o.finished,
        elapsed: o.elapsed,
    }
}
