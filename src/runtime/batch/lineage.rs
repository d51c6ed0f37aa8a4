//! Recovery from lineage in micro-batch mode: simulated workers are failure domains, as
//! Spark executors are. Each node's output in a batch is split into partitions, one per
//! task of the node, and each partition lives on the worker `plan.rs` placed that
//! task's executor on. Killing workers loses their partitions of the running batch's
//! intermediate results; a partition a later operator still needs is recomputed from
//! its inputs, and those from theirs, down to the receivers' stored blocks.
//!
//! What survives a kill, as in Spark Streaming:
//! - the receivers' blocks: Spark stores received data replicated on two executors (or
//!   in its write-ahead log), so a receiver's output for the batch is never lost;
//! - the state of stateful operators (`count_by_key`, the window operators): Spark
//!   persists and checkpoints stateful streams, so their output is read back, not
//!   recomputed.
//!
//! What is recomputed: per-record operators (split, map, filter, ...) re-run their
//! bolt over the lost partitions' input records, and per-batch keyed operators
//! (`reduce_by_key`, `count_by_value`, `join`), which carry nothing between batches,
//! re-run over the batch's input and keep the lost partitions' keys. Both are
//! deterministic, so the batch's results equal a fault-free run's.
//!
//! A kill lands between two operators of a job. When it is requested, it is given a
//! landing point drawn from the run's seed (after 1 to n − 1 of the job's n operators),
//! in the running job or else the next one, so the same seed and requests lose the same
//! partitions in the lab and in a threaded run. A partition being computed when a kill
//! lands counts as lost with the finished ones.
//!
//! Recovery takes a *set* of workers, so losing several at once (a machine) is the same
//! call.

use std::collections::BTreeSet;

use super::super::metrics::RecomputedPartition;
use super::super::plan::Plan;
use super::super::rng::{Rng, derive_seed};
use super::super::routing::fields_index;
use super::super::tuple::{Val, Values};
use super::operator::{Item, Operator};

/// Where each node's partitions live: partition `p` of node `n` is task
/// `tasks.start + p`, on the worker of the executor that runs that task in the plan's
/// placement (the one rule for executors, workers and micro-batch partitions alike).
#[derive(Debug, Clone)]
pub(crate) struct Placement {
    workers: Vec<Vec<u32>>,
    pub worker_count: u32,
}

impl Placement {
    pub fn new(plan: &Plan) -> Self {
        let workers = plan
            .nodes
            .iter()
            .map(|pn| {
                pn.tasks
                    .clone()
                    .map(|t| {
                        plan.task_executor
                            .get(t as usize)
                            .and_then(|&e| plan.executors.get(e))
                            .map_or(0, |e| e.worker)
                    })
                    .collect()
            })
            .collect();
        Self {
            workers,
            worker_count: plan.workers.max(1),
        }
    }

    /// Partitions of node `n` (at least one).
    pub fn partitions(&self, n: usize) -> u32 {
        self.workers.get(n).map_or(1, |w| w.len().max(1) as u32)
    }

    /// The worker partition `p` of node `n` lives on.
    pub fn worker(&self, n: usize, p: u32) -> u32 {
        self.workers
            .get(n)
            .and_then(|w| w.get(p as usize))
            .copied()
            .unwrap_or(0)
    }

    /// The nodes with a partition on `worker`, in plan order (for the run panel).
    pub fn nodes_on(&self, worker: u32) -> Vec<usize> {
        (0..self.workers.len())
            .filter(|&n| self.workers[n].contains(&worker))
            .collect()
    }
}

/// The partition of `n`'s output an item produced by a whole-batch operator belongs
/// to: its first value is the key, hashed as a fields grouping on it would be.
pub(crate) fn key_partition(values: &Values, parts: u32) -> u32 {
    match values.get(0) {
        Some(key) if parts > 1 => fields_index([key], parts as usize) as u32,
        _ => 0,
    }
}

/// Whether a node's output for a batch is lost with its worker and must be recomputed
/// (see the module comment for what survives).
pub(crate) fn recomputable(op: &Operator) -> bool {
    match op {
        Operator::PerRecord(_) => true,
        Operator::Batch(b) => b.per_batch(),
        Operator::Receiver | Operator::CountByKey(_) | Operator::Window(_) => false,
    }
}

/// A kill waiting for its landing point.
#[derive(Debug, Clone)]
struct PendingKill {
    workers: BTreeSet<u32>,
    /// Operators of the job that run before it lands; drawn when a job first sees it.
    landing: Option<usize>,
}

/// Kills requested and not landed yet, and how often each worker was killed. Shared
/// by the control side (which requests) and the job (which lands them).
#[derive(Debug)]
pub(crate) struct Kills {
    pending: Vec<PendingKill>,
    landing_rng: Rng,
    pub per_worker: Vec<u64>,
}

impl Kills {
    pub fn new(seed: u64, workers: u32) -> Self {
        Self {
            pending: Vec::new(),
            landing_rng: Rng::new(derive_seed(seed, 0x006c_696e_6561_6765)),
            per_worker: vec![0; workers.max(1) as usize],
        }
    }

    /// Requests the loss of `workers` (already checked to exist).
    pub fn request(&mut self, workers: BTreeSet<u32>) {
        for &w in &workers {
            if let Some(k) = self.per_worker.get_mut(w as usize) {
                *k += 1;
            }
        }
        self.pending.push(PendingKill {
            workers,
            landing: None,
        });
    }

    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// Takes the workers whose kill lands at boundary `at` (operators already run) of a
    /// job of `ops` operators; `at == ops` lands everything left (the job's end).
    pub fn landing(&mut self, at: usize, ops: usize) -> BTreeSet<u32> {
        let rng = &mut self.landing_rng;
        let mut landed = BTreeSet::new();
        self.pending.retain_mut(|k| {
            let point = *k
                .landing
                .get_or_insert_with(|| if ops <= 2 { 1 } else { 1 + rng.below(ops - 1) });
            if point <= at || at >= ops {
                landed.extend(k.workers.iter().copied());
                false
            } else {
                true
            }
        });
        landed
    }
}

/// One batch's partitions: which partition each output item belongs to, which nodes
/// have run, and which partitions are lost.
#[derive(Debug)]
pub(crate) struct BatchLineage {
    /// Per node, per output item: its partition.
    pub tags: Vec<Vec<u32>>,
    pub done: Vec<bool>,
    pub lost: Vec<BTreeSet<u32>>,
    /// Workers killed during this batch.
    pub killed: BTreeSet<u32>,
    pub recomputed: Vec<RecomputedPartition>,
}

/// Placeholder for a lost item's values until its partition is recomputed.
fn hole() -> Values {
    Values::One(Val::Null)
}

impl BatchLineage {
    pub fn new(nodes: usize) -> Self {
        Self {
            tags: vec![Vec::new(); nodes],
            done: vec![false; nodes],
            lost: vec![BTreeSet::new(); nodes],
            killed: BTreeSet::new(),
            recomputed: Vec::new(),
        }
    }

    /// Loses every recomputable partition on `workers` of the nodes that have run:
    /// their items are dropped (a hole stays in their place until recomputed).
    pub fn lose(
        &mut self,
        workers: &BTreeSet<u32>,
        placement: &Placement,
        ops: &[Operator],
        outputs: &mut [Vec<Item>],
    ) {
        self.killed.extend(workers.iter().copied());
        for (n, output) in outputs.iter_mut().enumerate() {
            if !self.done[n] || !ops.get(n).is_some_and(recomputable) {
                continue;
            }
            let parts = placement.partitions(n);
            let gone: BTreeSet<u32> = (0..parts)
                .filter(|&p| workers.contains(&placement.worker(n, p)))
                .collect();
            if gone.is_empty() {
                continue;
            }
            for (item, tag) in output.iter_mut().zip(&self.tags[n]) {
                if gone.contains(tag) {
                    item.values = hole();
                }
            }
            self.lost[n].extend(gone);
        }
    }

    /// The lost nodes whose output must be recomputed before node `n` can run: lost
    /// upstream nodes, and the lost nodes those need in turn, in topological order.
    pub fn needed_before(&self, plan: &Plan, order: &[usize], n: usize) -> Vec<usize> {
        let mut needed = vec![false; plan.nodes.len()];
        let mut stack: Vec<usize> = plan.nodes[n]
            .inputs
            .iter()
            .map(|&e| plan.edges[e].from)
            .collect();
        while let Some(u) = stack.pop() {
            if needed[u] || self.lost[u].is_empty() {
                continue;
            }
            needed[u] = true;
            stack.extend(plan.nodes[u].inputs.iter().map(|&e| plan.edges[e].from));
        }
        order.iter().copied().filter(|&u| needed[u]).collect()
    }

    /// Puts recomputed items back into node `n`'s holes, partition by partition in
    /// their original order. Returns false when a partition came back with a different
    /// number of items (an operator that is not deterministic): what fits is placed,
    /// missing items are dropped and extra ones appended.
    pub fn refill(
        &mut self,
        n: usize,
        output: &mut Vec<Item>,
        recomputed: Vec<(u32, Item)>,
    ) -> bool {
        let lost = std::mem::take(&mut self.lost[n]);
        let mut queues: std::collections::BTreeMap<u32, std::collections::VecDeque<Item>> =
            lost.iter().map(|&p| (p, Default::default())).collect();
        for (p, item) in recomputed {
            if let Some(q) = queues.get_mut(&p) {
                q.push_back(item);
            }
        }
        let mut exact = true;
        let mut kept = Vec::with_capacity(output.len());
        let mut kept_tags = Vec::with_capacity(output.len());
        for (item, tag) in output.drain(..).zip(std::mem::take(&mut self.tags[n])) {
            match queues.get_mut(&tag) {
                Some(q) => match q.pop_front() {
                    Some(fresh) => {
                        kept.push(fresh);
                        kept_tags.push(tag);
                    }
                    None => exact = false,
                },
                None => {
                    kept.push(item);
                    kept_tags.push(tag);
                }
            }
        }
        for (p, q) in queues {
            exact &= q.is_empty();
            for item in q {
                kept.push(item);
                kept_tags.push(p);
            }
        }
        *output = kept;
        self.tags[n] = kept_tags;
        exact
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kill_lands_after_one_to_n_minus_one_operators() {
        for seed in 0..50 {
            let mut kills = Kills::new(seed, 3);
            kills.request(BTreeSet::from([1]));
            let landed_at = (0..=5).find(|&at| !kills.landing(at, 5).is_empty());
            let at = landed_at.unwrap();
            assert!((1..=4).contains(&at), "seed {seed}: landed at {at}");
            assert!(kills.is_empty());
        }
        let mut kills = Kills::new(1, 2);
        kills.request(BTreeSet::from([0, 1]));
        assert_eq!(kills.landing(0, 2), BTreeSet::new());
        assert_eq!(kills.landing(1, 2), BTreeSet::from([0, 1]));
        assert_eq!(kills.per_worker, vec![1, 1]);
    }

    #[test]
    fn a_refill_restores_order_and_reports_a_mismatch() {
        let item = |v: i64| Item {
            stream: 0,
            values: Values::One(Val::Int(v)),
        };
        let mut lin = BatchLineage::new(1);
        lin.tags[0] = vec![0, 1, 0, 1];
        lin.lost[0] = BTreeSet::from([1]);
        let mut out = vec![
            item(1),
            Item {
                stream: 0,
                values: hole(),
            },
            item(3),
            Item {
                stream: 0,
                values: hole(),
            },
        ];
        assert!(lin.refill(0, &mut out, vec![(1, item(2)), (1, item(4))]));
        let got: Vec<_> = out.iter().map(|i| i.values.get(0).cloned()).collect();
        assert_eq!(got, [1, 2, 3, 4].map(|v| Some(Val::Int(v))));
        assert!(lin.lost[0].is_empty());
        lin.lost[0] = BTreeSet::from([0]);
        assert!(
            !lin.refill(0, &mut out, vec![(0, item(9))]),
            "one of two came back"
        );
        assert_eq!(out.len(), 3);
    }
}
