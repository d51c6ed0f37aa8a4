//! Per-executor output buffers: one pending batch per destination task (and per acker,
//! and per spout task for acker outcomes), flushed when full or when the flush deadline
//! passes, plus the overflow queue that keeps sends non-blocking.
//!
//! An executor keeps slots only for the tasks it can send to (its node's consumers; for
//! an acker, the spout tasks), found through [`Slots`]: a slot per task of the whole run
//! made memory grow with executors × tasks (8 nodes × 256 executors × 4096 tasks took
//! gigabytes before a tuple moved).

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::time::Instant;

use super::transport::Refused;
use super::{Msg, Wiring};
use crate::runtime::acker::AckMsg;
use crate::runtime::plan::ExecutorKind;
use crate::runtime::routing::acker_for;
use crate::runtime::tuple::Tuple;

/// Maps the task ids an executor sends to onto dense slot numbers. A node's tasks are
/// numbered contiguously, so the destinations are a few ranges (one per consumer node).
#[derive(Debug, Default)]
struct Slots {
    /// The first consumer's tasks (`start..end`, slots from 0): checked inline, as most
    /// executors send to one node.
    first: (u32, u32),
    /// The other consumers: (first task, end task, first slot).
    rest: Vec<(u32, u32, usize)>,
    len: usize,
}

impl Slots {
    fn add(&mut self, tasks: std::ops::Range<u32>) {
        let known = self.first.0 == tasks.start && self.len > 0
            || self.rest.iter().any(|r| r.0 == tasks.start);
        if tasks.is_empty() || known {
            return;
        }
        if self.len == 0 {
            self.first = (tasks.start, tasks.end);
        } else {
            self.rest.push((tasks.start, tasks.end, self.len));
        }
        self.len += (tasks.end - tasks.start) as usize;
    }

    /// The slot of `task`; `None` for a task this executor never sends to.
    #[inline(always)]
    fn of(&self, task: u32) -> Option<usize> {
        let (start, end) = self.first;
        if task >= start && task < end {
            return Some((task - start) as usize);
        }
        self.of_rest(task)
    }

    #[inline(never)]
    fn of_rest(&self, task: u32) -> Option<usize> {
        self.rest
            .iter()
            .find(|r| task >= r.0 && task < r.1)
            .map(|r| r.2 + (task - r.0) as usize)
    }
}

/// Destinations up to which a fresh batch buffer gets room for a whole batch; beyond,
/// the room shrinks in proportion (to at least [`MIN_FRESH`] tuples), so an executor
/// spreading tuples thinly over thousands of tasks does not hold a whole batch's memory
/// for every tuple in flight.
const FULL_BATCH_DESTINATIONS: usize = 16;
const MIN_FRESH: usize = 16;

pub struct Outbox {
    me: usize,
    batch: usize,
    /// Room of a fresh batch buffer (see [`FULL_BATCH_DESTINATIONS`]).
    fresh: usize,
    /// Indexed by slot (see `slots`), with the task id of each dirty slot.
    tuples: Vec<Vec<Tuple>>,
    slots: Slots,
    dirty: Vec<(u32, usize)>,
    /// Indexed by acker number.
    acks: Vec<Vec<AckMsg>>,
    /// Indexed by slot among the spout tasks (`outcome_slots`), for ackers.
    outcomes: Vec<Vec<(u64, bool)>>,
    outcome_slots: Slots,
    outcome_dirty: Vec<(u32, usize)>,
    overflow: VecDeque<(usize, Msg)>,
    overflow_tuples: u64,
    held: u64,
    /// When the oldest unflushed item was added.
    since: Option<Instant>,
    /// The last root routed to an acker, and that acker: a bolt acks many tuples of
    /// one tree in a row (ten words of a sentence), so this skips the hash each time.
    last_root: (u64, usize),
}

/// Routing only picks consumers of an executor's node; anything else is a bug, counted
/// where it shows (the target never executes the tuple) rather than a panic.
#[cold]
#[inline(never)]
fn not_a_destination(w: &Wiring, task: u32) {
    if let Some(c) = w.counters.tasks.get(task as usize) {
        crate::runtime::metrics::add(&c.dropped, 1);
    }
}

impl Outbox {
    pub fn new(wiring: &Wiring, me: usize) -> Self {
        let plan = &wiring.plan;
        let mut slots = Slots::default();
        let mut outcome_slots = Slots::default();
        match plan.executors[me].kind {
            ExecutorKind::Node(n) => {
                for &s in &plan.nodes[n].outputs {
                    for &e in &plan.streams[s].edges {
                        slots.add(plan.nodes[plan.edges[e].to].tasks.clone());
                    }
                }
            }
            ExecutorKind::Acker(_) => {
                for node in plan.nodes.iter().filter(|n| n.is_spout()) {
                    outcome_slots.add(node.tasks.clone());
                }
            }
        }
        let batch = wiring.batch_size.max(1);
        let fresh = (batch.saturating_mul(FULL_BATCH_DESTINATIONS) / slots.len.max(1))
            .clamp(MIN_FRESH.min(batch), batch);
        Self {
            me,
            batch,
            fresh,
            tuples: (0..slots.len).map(|_| Vec::new()).collect(),
            slots,
            dirty: Vec::new(),
            acks: (0..plan.ackers()).map(|_| Vec::new()).collect(),
            outcomes: (0..outcome_slots.len).map(|_| Vec::new()).collect(),
            outcome_slots,
            outcome_dirty: Vec::new(),
            overflow: VecDeque::new(),
            overflow_tuples: 0,
            held: 0,
            since: None,
            last_root: (0, 0),
        }
    }

    #[inline]
    fn touch(&mut self) {
        if self.since.is_none() {
            self.since = Some(Instant::now());
        }
    }

    /// Always inlined: the tuple is then written straight into the batch from
    /// registers, instead of through a stack copy that a wide load reads back before the
    /// narrow stores that built it have landed (a store-forwarding stall per tuple).
    #[inline(always)]
    pub fn push_tuple(&mut self, w: &Wiring, task: u32, tuple: Tuple) {
        let Some(index) = self.slots.of(task) else {
            not_a_destination(w, task);
            return;
        };
        let slot = &mut self.tuples[index];
        if slot.is_empty() {
            if slot.capacity() == 0 {
                *slot = w.take_batch(w.plan.task_executor[task as usize], self.fresh);
            }
            self.dirty.push((task, index));
        }
        slot.push(tuple);
        self.held += 1;
        if slot.len() >= self.batch {
            self.flush_task(w, task, index);
        } else if self.since.is_none() {
            self.touch();
        }
    }

    #[inline(never)]
    fn flush_task(&mut self, w: &Wiring, task: u32, index: usize) {
        let slot = &mut self.tuples[index];
        if slot.is_empty() {
            return;
        }
        let tuples = std::mem::take(slot);
        self.held -= tuples.len() as u64;
        let exec = w.plan.task_executor[task as usize];
        self.send(w, exec, Msg::Tuples { task, tuples });
    }

    /// The acker task (by number) that tracks `root`, among `n`.
    #[inline]
    pub fn acker_of(&mut self, root: u64, n: usize) -> usize {
        if self.last_root.0 != root {
            self.last_root = (root, acker_for(root, n));
        }
        self.last_root.1
    }

    /// Queues an ack message. Consecutive acks of the same root are XOR-combined into
    /// one message: XOR is associative, so the acker reaches zero at the same point, and
    /// a bolt acking ten words of one sentence sends one message instead of ten.
    #[inline(always)]
    pub fn push_ack(&mut self, w: &Wiring, acker: usize, msg: AckMsg) {
        let slot = &mut self.acks[acker];
        if let (
            AckMsg::Ack { root, xor },
            Some(AckMsg::Ack {
                root: last,
                xor: acc,
            }),
        ) = (msg, slot.last_mut())
            && root == *last
        {
            *acc ^= xor;
            return;
        }
        self.push_new_ack(w, acker, msg);
    }

    #[inline(never)]
    fn push_new_ack(&mut self, w: &Wiring, acker: usize, msg: AckMsg) {
        let slot = &mut self.acks[acker];
        if slot.capacity() == 0 {
            // A whole batch at once, not grown by doubling through seven reallocations.
            slot.reserve_exact(self.batch);
        }
        slot.push(msg);
        if slot.len() >= self.batch {
            let acks = std::mem::take(slot);
            self.send(w, w.plan.acker_executors[acker], Msg::Acks(acks));
        } else {
            self.touch();
        }
    }

    pub fn push_outcome(&mut self, _w: &Wiring, task: u32, root: u64, ok: bool) {
        // Outcomes only ever go to spout tasks; anything else is ignored.
        let Some(index) = self.outcome_slots.of(task) else {
            return;
        };
        let slot = &mut self.outcomes[index];
        if slot.is_empty() {
            self.outcome_dirty.push((task, index));
            if slot.capacity() == 0 {
                slot.reserve_exact(self.batch);
            }
        }
        slot.push((root, ok));
        self.touch();
    }

    /// Sends everything pending now.
    pub fn flush_all(&mut self, w: &Wiring) {
        let dirty = std::mem::take(&mut self.dirty);
        for &(task, index) in &dirty {
            self.flush_task(w, task, index);
        }
        self.dirty = dirty;
        self.dirty.clear();
        for acker in 0..self.acks.len() {
            if !self.acks[acker].is_empty() {
                let acks = std::mem::take(&mut self.acks[acker]);
                self.send(w, w.plan.acker_executors[acker], Msg::Acks(acks));
            }
        }
        let dirty = std::mem::take(&mut self.outcome_dirty);
        for (task, index) in dirty {
            let outcomes = std::mem::take(&mut self.outcomes[index]);
            if !outcomes.is_empty() {
                let exec = w.plan.task_executor[task as usize];
                self.send(w, exec, Msg::Outcomes { task, outcomes });
            }
        }
        self.since = None;
    }

    /// Flushes if the oldest pending item has waited longer than the flush interval.
    #[inline]
    pub fn flush_if_due(&mut self, w: &Wiring, now: Instant) {
        if self
            .since
            .is_some_and(|t| now.duration_since(t) >= w.flush_interval)
        {
            self.flush_all(w);
        }
    }

    fn send(&mut self, w: &Wiring, exec: usize, msg: Msg) {
        let n = msg.tuple_count();
        w.exec_sent[self.me].fetch_add(n, Ordering::Relaxed);
        if !self.overflow.is_empty() {
            self.overflow_tuples += n;
            self.overflow.push_back((exec, msg));
            return;
        }
        match w.transport.try_send(exec, msg) {
            Ok(()) => {}
            Err(Refused::Full(msg)) => {
                self.overflow_tuples += n;
                self.overflow.push_back((exec, msg));
            }
            // The receiver is gone: the engine is shutting down; drop it.
            Err(Refused::Gone) => {}
        }
    }

    /// Retries parked batches in order; true when the overflow is empty.
    pub fn retry_overflow(&mut self, w: &Wiring) -> bool {
        while let Some((exec, msg)) = self.overflow.pop_front() {
            let n = msg.tuple_count();
            match w.transport.try_send(exec, msg) {
                Ok(()) | Err(Refused::Gone) => self.overflow_tuples -= n,
                Err(Refused::Full(msg)) => {
                    self.overflow.push_front((exec, msg));
                    return false;
                }
            }
        }
        true
    }

    /// Waits up to `limit` for room for the oldest parked batch (bolts only: a bolt may
    /// wait on a downstream queue because downstream never waits on it).
    pub fn wait_overflow(&mut self, w: &Wiring, limit: std::time::Duration) {
        if let Some((exec, msg)) = self.overflow.pop_front() {
            let n = msg.tuple_count();
            match w.transport.send_timeout(exec, msg, limit) {
                Ok(()) | Err(Refused::Gone) => self.overflow_tuples -= n,
                Err(Refused::Full(msg)) => self.overflow.push_front((exec, msg)),
            }
        }
    }

    /// The parked messages, oldest first (the lab draws them on their edges).
    pub fn overflow(&self) -> impl Iterator<Item = &(usize, Msg)> {
        self.overflow.iter()
    }

    pub fn overflow_is_empty(&self) -> bool {
        self.overflow.is_empty()
    }

    /// Throws everything away, as a killed worker loses its send buffers: parked batches
    /// were already counted as sent, so they are counted as dropped at their targets.
    pub fn discard(mut self, w: &Wiring) {
        for (_, msg) in self.overflow.drain(..) {
            if let Msg::Tuples { task, tuples } = msg {
                crate::runtime::metrics::add(
                    &w.counters.tasks[task as usize].dropped,
                    tuples.len() as u64,
                );
            }
        }
        self.held = 0;
        self.publish_held(w);
    }

    /// Publishes how many tuples this executor still holds (unflushed).
    pub fn publish_held(&self, w: &Wiring) {
        w.exec_held[self.me].store(self.held, Ordering::Relaxed);
    }
}
