//! A job's inputs by partition, and the recomputation of lost partitions from them
//! (the rules of what is lost and what survives are in `lineage`).
//!
//! `gather` is the one place that says which records reach a node and which of its
//! partitions each goes to: by key (a fields or partial-key grouping: the key's hash, as
//! fields grouping routes) or round-robin (any other grouping). The job runs a node over
//! its gathered input; recovery gathers the same input again and re-runs the operator
//! over the lost partitions' share of it.

use std::collections::BTreeSet;
use std::ops::Range;

use crate::model::Grouping;

use super::super::log::LogKind;
use super::super::metrics::RecomputedPartition;
use super::super::plan::Plan;
use super::super::rng::{Rng, derive_seed};
use super::super::routing::fields_index;
use super::Shared;
use super::job::FaultHook;
use super::lineage::{BatchLineage, Placement, key_partition};
use super::operator::{Item, Operator};

/// A node's input for one batch.
pub(crate) struct Gathered<'a> {
    pub input: Vec<&'a Item>,
    /// The node's partition each input record goes to.
    pub parts: Vec<u32>,
    /// The upstream node of each run of records (a join tells its sides apart by it).
    pub sources: Vec<(usize, Range<usize>)>,
    /// Records read over each plan edge.
    pub per_edge: Vec<(usize, u64)>,
}

/// Everything node `n` reads in this batch, from the outputs of its upstream nodes.
pub(crate) fn gather<'a>(
    plan: &Plan,
    placement: &Placement,
    outputs: &'a [Vec<Item>],
    n: usize,
) -> Gathered<'a> {
    let pn = &plan.nodes[n];
    let parts = placement.partitions(n);
    let mut g = Gathered {
        input: Vec::new(),
        parts: Vec::new(),
        sources: Vec::with_capacity(pn.inputs.len()),
        per_edge: Vec::with_capacity(pn.inputs.len()),
    };
    for &e in &pn.inputs {
        let edge = &plan.edges[e];
        let before = g.input.len();
        let keyed = matches!(edge.grouping, Grouping::Fields(_) | Grouping::PartialKey(_))
            && !edge.field_positions.is_empty();
        let items = outputs[edge.from]
            .iter()
            .filter(|it| it.stream as usize == edge.stream);
        for (k, it) in items.enumerate() {
            // One partition needs no hashing (the common case: parallelism 1).
            let part = if parts == 1 {
                0
            } else if keyed {
                let key = edge
                    .field_positions
                    .iter()
                    .filter_map(|&p| it.values.get(p));
                fields_index(key, parts as usize) as u32
            } else {
                (k % parts as usize) as u32
            };
            g.input.push(it);
            g.parts.push(part);
        }
        g.sources.push((edge.from, before..g.input.len()));
        g.per_edge.push((e, (g.input.len() - before) as u64));
    }
    g
}

/// Recomputes every lost partition node `n` needs before it runs, upstream first.
pub(crate) fn recover_before(
    shared: &Shared,
    ops: &mut [Operator],
    order: &[usize],
    outputs: &mut [Vec<Item>],
    lin: &mut BatchLineage,
    n: usize,
    t_ms: u64,
) {
    for u in lin.needed_before(&shared.plan, order, n) {
        recompute(shared, ops, outputs, lin, u, t_ms);
    }
}

/// Recomputes node `u`'s lost partitions from its (intact) inputs.
fn recompute(
    shared: &Shared,
    ops: &mut [Operator],
    outputs: &mut [Vec<Item>],
    lin: &mut BatchLineage,
    u: usize,
    t_ms: u64,
) {
    let plan = &shared.plan;
    let placement = &shared.placement;
    let lost: BTreeSet<u32> = lin.lost[u].clone();
    // Faults still apply to a re-run, with dice of their own so a recovery does not
    // shift the draws of the rest of the job.
    let mut rng = Rng::new(derive_seed(shared.seed, t_ms ^ ((u as u64) << 40)));
    let mut hook = FaultHook {
        faults: super::job::faults_of(&shared.node_switches[u]),
        rng: &mut rng,
        timer: shared.timer.as_ref(),
        shutdown: &shared.switches.shutdown,
    };
    let parts = placement.partitions(u);
    let g = gather(plan, placement, outputs, u);
    let mut recomputed: Vec<(u32, Item)> = Vec::new();
    match &mut ops[u] {
        Operator::PerRecord(op) => {
            let (subset, subset_parts): (Vec<&Item>, Vec<u32>) = g
                .input
                .iter()
                .zip(&g.parts)
                .filter(|(_, p)| lost.contains(p))
                .map(|(it, p)| (*it, *p))
                .unzip();
            let (mut out, mut origins) = (Vec::new(), Vec::new());
            op.run(&subset, &mut hook, &mut out, &mut origins);
            recomputed.extend(
                origins
                    .into_iter()
                    .zip(out)
                    .map(|(o, it)| (subset_parts.get(o as usize).copied().unwrap_or(0), it)),
            );
        }
        Operator::Batch(op) => {
            let mut out = Vec::new();
            op.run(t_ms, &g.input, &g.sources, &mut hook, &mut out);
            recomputed.extend(
                out.into_iter()
                    .map(|it| (key_partition(&it.values, parts), it))
                    .filter(|(p, _)| lost.contains(p)),
            );
        }
        Operator::Receiver | Operator::CountByKey(_) | Operator::Window(_) => {}
    }
    // The cost: a per-record operator read its lost partitions' records again; a
    // per-batch operator ran once more over the whole input (counted once, on the
    // first of its lost partitions).
    let whole_input = matches!(ops[u], Operator::Batch(_));
    for (i, &p) in lost.iter().enumerate() {
        let records = match (whole_input, i) {
            (true, 0) => g.input.len() as u64,
            (true, _) => 0,
            (false, _) => g.parts.iter().filter(|&&q| q == p).count() as u64,
        };
        lin.recomputed.push(RecomputedPartition {
            node: plan.nodes[u].name().to_string(),
            task: plan.nodes[u].tasks.start + p,
            worker: placement.worker(u, p),
            records,
        });
    }
    drop(g);
    if !lin.refill(u, &mut outputs[u], recomputed) {
        shared.env.log.push_once(
            plan.nodes[u].name(),
            plan.nodes[u].tasks.start,
            "recomputed partition differs",
            LogKind::Error,
            "a partition recomputed from lineage came out with a different number of records \
             (injected faults rolled again, or an operator that is not deterministic), so the \
             batch may differ from a fault-free run"
                .into(),
        );
    }
}
