//! Turning one emit into deliveries: choose target tasks through each subscription's
//! grouper, attach acking ids, and hand the tuples to the outbox.

use std::sync::atomic::Ordering;

use super::{Outbox, Wiring};
use crate::runtime::acker::AckMsg;
use crate::runtime::components::{Emitted, TaskInfo};
use crate::runtime::metrics::add;
use crate::runtime::rng::{Rng, derive_seed};
use crate::runtime::routing::{Grouper, RouteError};
use crate::runtime::tuple::{AckIds, Tuple, Values};

struct Route {
    edge: usize,
    grouper: Grouper,
    sent: u64,
    /// Deliveries per receiving task since the last publish, indexed by `target -
    /// first` (the grouping lens's pair counts). Empty when the run keeps none for this
    /// edge, so the bump below finds no slot and costs one compare.
    pairs: Vec<u64>,
    first: u32,
    /// Where this task's row starts in the edge's pair table.
    row: usize,
}

impl Route {
    /// Counts one delivery to `target`: the one per-tuple cost of the lens.
    #[inline(always)]
    fn count_pair(&mut self, target: u32) {
        if let Some(c) = self.pairs.get_mut(target.wrapping_sub(self.first) as usize) {
            *c += 1;
        }
    }
}

/// How many receiving-task slots an edge's pair table has per sender: its targets are
/// one node's tasks, a contiguous range, so this is their count.
pub(super) fn receiver_span(targets: &[u32]) -> usize {
    match (targets.first(), targets.last()) {
        (Some(&a), Some(&b)) => (b - a) as usize + 1,
        _ => 0,
    }
}

/// The sending side of one task.
pub struct TaskOut {
    pub task: u32,
    /// Per local output stream: global stream id and subscriptions.
    streams: Vec<(u32, Vec<Route>)>,
    targets: Vec<u32>,
    pub rng: Rng,
    pub emitted: u64,
    pub transferred: u64,
}

/// How the tuple being emitted is tied to tuple trees.
pub enum Anchor<'a> {
    /// Untracked: no ids.
    None,
    /// A spout's tracked emit: returns the root and the XOR of the edges it created.
    Root { root: u64, xor: &'a mut u64 },
    /// A bolt's emit anchored to an input (BasicBolt): XORs new edge ids into `ack_val`.
    Input {
        ids: &'a AckIds,
        ack_val: &'a mut u64,
    },
}

/// The seed of one life of a task's generator (ids, shuffles, faults). The first life
/// keeps the seed every run has had, so seeded runs without kills are unchanged.
pub(crate) fn task_seed(seed: u64, task: u32, life: u64) -> u64 {
    let first = derive_seed(seed, u64::from(task));
    if life == 0 {
        first
    } else {
        derive_seed(first, life)
    }
}

impl TaskOut {
    /// `life` counts the task's executor's lives (0 at start, then its worker's kill
    /// count), so a task restarted after a kill does not emit the root and edge ids of
    /// its first life while the ackers may still hold them.
    pub fn new(w: &Wiring, node: usize, task: u32, life: u64) -> Self {
        let plan = &w.plan;
        let mut rng = Rng::new(task_seed(w.seed, task, life));
        let streams = plan.nodes[node]
            .outputs
            .iter()
            .map(|&s| {
                let routes = plan.streams[s]
                    .edges
                    .iter()
                    .map(|&e| {
                        let edge = &plan.edges[e];
                        let span = receiver_span(&edge.targets);
                        let kept = !w.counters.pairs[e].is_empty();
                        let sender = (task - plan.nodes[node].tasks.start) as usize;
                        Route {
                            edge: e,
                            grouper: Grouper::new(
                                &edge.grouping,
                                edge.field_positions.clone(),
                                edge.targets.clone(),
                                &mut rng,
                            ),
                            sent: 0,
                            pairs: if kept { vec![0; span] } else { Vec::new() },
                            first: edge.targets.first().copied().unwrap_or(0),
                            row: sender * span,
                        }
                    })
                    .collect();
                (s as u32, routes)
            })
            .collect();
        Self {
            task,
            streams,
            targets: Vec::new(),
            rng,
            emitted: 0,
            transferred: 0,
        }
    }

    /// Consumer task ids per local stream, for components that emit direct.
    pub fn consumers(w: &Wiring, node: usize) -> Vec<Vec<u32>> {
        w.plan.nodes[node]
            .outputs
            .iter()
            .map(|&s| {
                let mut t: Vec<u32> = w.plan.streams[s]
                    .edges
                    .iter()
                    .flat_map(|&e| w.plan.edges[e].targets.iter().copied())
                    .collect();
                t.sort_unstable();
                t.dedup();
                t
            })
            .collect()
    }

    /// Routes one buffered emit. Returns the number of deliveries.
    #[inline]
    pub fn dispatch(
        &mut self,
        w: &Wiring,
        outbox: &mut Outbox,
        em: Emitted,
        anchor: Anchor<'_>,
    ) -> Result<usize, RouteError> {
        self.dispatch_values(w, outbox, em.stream, em.values, em.direct, anchor)
    }

    /// Routes values emitted on local stream `stream`. Returns the number of deliveries.
    /// Always inlined into the emit, so the values go from registers into the batch
    /// rather than through stack copies that stall on store forwarding.
    #[inline(always)]
    pub fn dispatch_values(
        &mut self,
        w: &Wiring,
        outbox: &mut Outbox,
        stream: usize,
        values: Values,
        direct: Option<u32>,
        anchor: Anchor<'_>,
    ) -> Result<usize, RouteError> {
        self.emitted += 1;
        let Some((gsid, routes)) = self.streams.get_mut(stream) else {
            return Ok(0);
        };
        let gsid = *gsid;
        // The common case: one subscription that picks one task. No target list, and the
        // tuple is built straight into the outbox.
        if let [route] = routes.as_mut_slice()
            && let Some(choice) = route.grouper.choose_one(&values, direct)
        {
            let Some(target) = choice.transpose()? else {
                return Ok(0);
            };
            route.sent += 1;
            route.count_pair(target);
            self.transferred += 1;
            let mut acc = 0u64;
            let ids = edge_ids(&anchor, &mut self.rng, &mut acc);
            outbox.push_tuple(
                w,
                target,
                Tuple {
                    values,
                    stream: gsid,
                    source_task: self.task,
                    ids,
                },
            );
            match anchor {
                Anchor::Root { xor, .. } => *xor ^= acc,
                Anchor::Input { ack_val, .. } => *ack_val ^= acc,
                Anchor::None => {}
            }
            return Ok(1);
        }
        self.targets.clear();
        choose_all(routes, &values, direct, &mut self.targets)?;
        Ok(self.deliver(w, outbox, gsid, values, anchor))
    }

    /// Routes like [`TaskOut::dispatch_values`] and returns the tasks that received the
    /// tuple: what Storm's `emit` returns, which a multi-lang child may ask for
    /// (`need_task_ids`). Never on the hot path, so it skips the one-target shortcut.
    #[inline(never)]
    pub fn dispatch_reporting(
        &mut self,
        w: &Wiring,
        outbox: &mut Outbox,
        stream: usize,
        values: Values,
        direct: Option<u32>,
        anchor: Anchor<'_>,
    ) -> Result<Vec<u32>, RouteError> {
        self.emitted += 1;
        let Some((gsid, routes)) = self.streams.get_mut(stream) else {
            return Ok(Vec::new());
        };
        let gsid = *gsid;
        self.targets.clear();
        choose_all(routes, &values, direct, &mut self.targets)?;
        self.deliver(w, outbox, gsid, values, anchor);
        Ok(self.targets.clone())
    }

    /// Sends `values` to every task in `self.targets` with fresh edge ids; returns how
    /// many deliveries that was.
    #[inline(always)]
    fn deliver(
        &mut self,
        w: &Wiring,
        outbox: &mut Outbox,
        gsid: u32,
        values: Values,
        anchor: Anchor<'_>,
    ) -> usize {
        let n = self.targets.len();
        self.transferred += n as u64;
        let mut acc = 0u64;
        // Every target but the last gets a clone; the last takes the values themselves
        // (with one target, the common case, nothing is cloned).
        if let Some((&last, rest)) = self.targets.split_last() {
            for &target in rest {
                let ids = edge_ids(&anchor, &mut self.rng, &mut acc);
                let tuple = Tuple {
                    values: values.clone(),
                    stream: gsid,
                    source_task: self.task,
                    ids,
                };
                outbox.push_tuple(w, target, tuple);
            }
            let ids = edge_ids(&anchor, &mut self.rng, &mut acc);
            let tuple = Tuple {
                values,
                stream: gsid,
                source_task: self.task,
                ids,
            };
            outbox.push_tuple(w, last, tuple);
        }
        match anchor {
            Anchor::Root { xor, .. } => *xor ^= acc,
            Anchor::Input { ack_val, .. } => *ack_val ^= acc,
            Anchor::None => {}
        }
        n
    }

    /// Publishes the counts gathered since the last call (once per step, not per tuple).
    pub fn publish(&mut self, w: &Wiring) {
        let c = &w.counters.tasks[self.task as usize];
        add(&c.emitted, std::mem::take(&mut self.emitted));
        add(&c.transferred, std::mem::take(&mut self.transferred));
        for (_, routes) in &mut self.streams {
            for r in routes {
                if r.sent > 0 {
                    w.counters.edges[r.edge]
                        .fetch_add(std::mem::take(&mut r.sent), Ordering::Relaxed);
                    // Every pair bump came with a `sent` bump, so nothing is left
                    // behind when `sent` was zero.
                    let cells = &w.counters.pairs[r.edge];
                    if let Some(row) = cells.get(r.row..r.row + r.pairs.len()) {
                        for (cell, n) in row.iter().zip(&mut r.pairs) {
                            add(cell, std::mem::take(n));
                        }
                    }
                }
            }
        }
    }
}

/// Every subscription's choice of tasks for one emit, appended to `targets`, with the
/// per-edge and per-pair counts.
#[inline(always)]
fn choose_all(
    routes: &mut [Route],
    values: &Values,
    direct: Option<u32>,
    targets: &mut Vec<u32>,
) -> Result<(), RouteError> {
    let first = targets.len();
    let several = routes.len() > 1;
    for r in routes.iter_mut() {
        let before = targets.len();
        match r.grouper.choose(values, direct, targets) {
            // A direct stream read by several consumers: the named task belongs to one
            // of them, and the others receive nothing (Storm's emitDirect).
            Err(RouteError::NotATarget(_)) if several => {}
            other => other?,
        }
        r.sent += (targets.len() - before) as u64;
        for &target in &targets[before..] {
            r.count_pair(target);
        }
    }
    match direct {
        Some(task) if targets.len() == first => Err(RouteError::NotATarget(task)),
        _ => Ok(()),
    }
}

/// The acking ids of one delivery: a fresh edge id per delivery, XOR-ed into `acc`.
#[inline]
fn edge_ids(anchor: &Anchor<'_>, rng: &mut Rng, acc: &mut u64) -> AckIds {
    match anchor {
        Anchor::None => AckIds::NONE,
        Anchor::Root { root, .. } => {
            let e = rng.next_id();
            *acc ^= e;
            AckIds::one(*root, e)
        }
        Anchor::Input { ids, .. } if ids.is_empty() => AckIds::NONE,
        Anchor::Input { ids, .. } => {
            let e = rng.next_id();
            *acc ^= e;
            ids.with_edge(e)
        }
    }
}

/// Sends an ack or fail for every root of an input tuple (Storm's bolt ack/fail).
#[inline]
pub fn complete_input(w: &Wiring, outbox: &mut Outbox, ids: &AckIds, ack_val: u64, ok: bool) {
    complete::<true>(w, outbox, ids, ack_val, ok);
}

/// [`complete_input`] for outcomes a bolt held until its flush. A separate instance:
/// with a second caller, the hot path's copy would no longer be inlined.
#[inline(never)]
pub fn complete_held(w: &Wiring, outbox: &mut Outbox, ids: &AckIds, ack_val: u64, ok: bool) {
    complete::<false>(w, outbox, ids, ack_val, ok);
}

#[inline(always)]
fn complete<const HOT: bool>(
    w: &Wiring,
    outbox: &mut Outbox,
    ids: &AckIds,
    ack_val: u64,
    ok: bool,
) {
    let n = w.plan.ackers();
    if n == 0 {
        return;
    }
    ids.for_each(|root, edge| {
        let msg = if ok {
            AckMsg::Ack {
                root,
                xor: edge ^ ack_val,
            }
        } else {
            AckMsg::Fail { root }
        };
        let acker = outbox.acker_of(root, n);
        outbox.push_ack(w, acker, msg);
    });
}

/// The info a component factory receives for a task.
pub fn task_info(w: &Wiring, node: usize, task: u32) -> TaskInfo {
    let pn = &w.plan.nodes[node];
    TaskInfo {
        node: pn.node.name.clone(),
        task,
        index: task - pn.tasks.start,
        count: pn.tasks.end - pn.tasks.start,
        tracking: w.acking(),
        env: w.env.clone(),
        schemas: w.schemas.clone(),
        consumers: TaskOut::consumers(w, node),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_life_of_a_task_draws_fresh_ids_and_the_first_keeps_the_old_seed() {
        let seed = 42;
        assert_eq!(task_seed(seed, 7, 0), derive_seed(seed, 7));
        let ids = |life| {
            let mut rng = Rng::new(task_seed(seed, 7, life));
            (0..1000)
                .map(|_| rng.next_id())
                .collect::<std::collections::BTreeSet<_>>()
        };
        let (first, second, third) = (ids(0), ids(1), ids(2));
        assert!(first.is_disjoint(&second), "a restarted task reused ids");
        assert!(second.is_disjoint(&third));
        assert_eq!(
            ids(1),
            second,
            "a life's ids depend only on seed, task and life"
        );
        assert_ne!(task_seed(seed, 7, 1), task_seed(seed, 8, 1));
    }
}
