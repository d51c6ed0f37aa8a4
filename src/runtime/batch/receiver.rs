//! Receivers: each spout task runs on its own thread (as a Spark receiver occupies a
//! core) and appends what it emits to its own buffer, stamped with the arrival time.
//! The scheduler later cuts every buffer at a batch boundary; because records carry
//! their stamp, which batch a record belongs to never depends on when the cut happens.
//! All receivers of a run share one budget (`limits::MAX_BUFFERED_RECORDS` records,
//! `limits::MAX_BUFFERED_BYTES` bytes): a receiver reserves room for a round of calls
//! before making them, and waits while there is none.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::super::components::{Behaviour, Emitter, Spout, TaskInfo};
use super::super::limits::{self, Budget, RefusalLog};
use super::super::log::LogKind;
use super::super::rng::{Rng, derive_seed};
use super::super::supervisor;
use super::super::tuple::Values;
use super::Shared;

/// One received record, stamped on arrival.
#[derive(Debug, Clone)]
pub(crate) struct Record {
    /// Microseconds since the run started (the batch clock's time).
    pub at_us: u64,
    /// Global stream id in the plan.
    pub stream: u32,
    pub values: Values,
}

/// Most `next_tuple` calls between two looks at the switches (and room reserved in the
/// run's receiver budget for one round).
const CALLS_PER_ROUND: usize = 256;

/// A receiver's buffer and counters, shared with the scheduler and the sampler.
#[derive(Debug)]
pub(crate) struct ReceiverState {
    pub node: usize,
    pub task: u32,
    buffer: Mutex<Vec<Record>>,
    pub emitted: AtomicU64,
    pub restarts: AtomicU64,
    /// The spout said it has nothing more to emit.
    pub done: AtomicBool,
    /// The receiver saw the deactivate switch and will push nothing more.
    pub idle: AtomicBool,
    /// Times the receiver waited because the receiver buffers were full.
    pub throttled: AtomicU64,
    /// Records that did not fit in the receiver buffers (counted as refused).
    pub refused: AtomicU64,
}

impl ReceiverState {
    pub fn new(node: usize, task: u32) -> Self {
        Self {
            node,
            task,
            buffer: Mutex::new(Vec::new()),
            emitted: AtomicU64::new(0),
            restarts: AtomicU64::new(0),
            done: AtomicBool::new(false),
            idle: AtomicBool::new(false),
            throttled: AtomicU64::new(0),
            refused: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Record>> {
        match self.buffer.lock() {
            Ok(b) => b,
            Err(p) => p.into_inner(),
        }
    }

    pub fn buffered(&self) -> usize {
        self.lock().len()
    }

    /// Takes every record stamped at or before `until_us`, oldest first, and gives their
    /// room back to `budget`. Stamps only grow within one buffer (they are taken under
    /// its lock), so this is a split, not a scan.
    pub fn cut(&self, until_us: u64, budget: &Budget) -> Vec<Record> {
        let mut buffer = self.lock();
        let keep_from = buffer.partition_point(|r| r.at_us <= until_us);
        let rest = buffer.split_off(keep_from);
        let taken = std::mem::replace(&mut *buffer, rest);
        drop(buffer);
        let bytes = taken.iter().map(|r| limits::values_bytes(&r.values)).sum();
        budget.give(taken.len(), bytes);
        taken
    }

    /// Appends records, stamping them with `now()` read under the lock, so a cut never
    /// misses a record stamped before it. `reserved` records' room was taken from
    /// `budget` before the round; more are kept only if the budget has room, the rest
    /// are refused. Returns how many were refused.
    fn push(
        &self,
        items: Vec<(u32, Values)>,
        reserved: usize,
        budget: &Budget,
        now: impl Fn() -> u64,
    ) -> usize {
        let n = items.len();
        let keep = if n <= reserved {
            budget.give(reserved - n, 0);
            n
        } else {
            reserved + budget.take_items_up_to(n - reserved)
        };
        let bytes = items
            .iter()
            .take(keep)
            .map(|(_, v)| limits::values_bytes(v))
            .sum();
        budget.add_bytes(bytes);
        let mut buffer = self.lock();
        let at_us = now();
        buffer.extend(items.into_iter().take(keep).map(|(stream, values)| Record {
            at_us,
            stream,
            values,
        }));
        n - keep
    }
}

fn build(shared: &Shared, node: usize, info: &TaskInfo) -> Option<Box<dyn Spout>> {
    match (shared.factories[node])(info) {
        Ok(Behaviour::Spout(s)) => Some(s),
        Ok(Behaviour::Bolt(_)) => {
            shared.env.log.push(
                &info.node,
                info.task,
                LogKind::Error,
                "a bolt where a spout was expected".into(),
            );
            None
        }
        Err(e) => {
            shared
                .env
                .log
                .push(&info.node, info.task, LogKind::Error, e);
            None
        }
    }
}

/// Token bucket over the run's time (rates are a property of the source, not of the
/// batch clock). The threaded receivers pass the wall clock's `now`, the lab its
/// virtual one.
struct Rate {
    tokens: f64,
    last: Instant,
}

impl Rate {
    fn allowance(&mut self, per_sec: f64, now: Instant) -> usize {
        if per_sec <= 0.0 {
            self.last = now;
            self.tokens = 1.0;
            return usize::MAX;
        }
        let dt = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + per_sec * dt).min((per_sec * 0.05).max(1.0));
        self.tokens.floor() as usize
    }

    fn spend(&mut self, n: usize) {
        self.tokens = (self.tokens - n as f64).max(0.0);
    }
}

/// What a receiver's loop does after one round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Poll {
    /// Go again at once.
    Again,
    /// Nothing to do now: wait this long (a thread sleeps; the lab moves on).
    Wait(Duration),
    /// The run is shutting down.
    Stop,
}

/// One receiver's own state: its spout instance and its rate. The receiver thread and
/// the lab's batch stepper both call [`Receiver::poll`].
pub(crate) struct Receiver {
    index: usize,
    info: TaskInfo,
    node: usize,
    outputs: Vec<usize>,
    configured: f64,
    spout: Option<Box<dyn Spout>>,
    rate: Rate,
    emitter: Emitter<'static, 'static>,
    refusal_log: RefusalLog,
    reported_full: bool,
    /// Dice for injected receiver crashes (the node's `crash_probability`, per round).
    dice: Rng,
}

impl Receiver {
    pub(crate) fn new(shared: &Shared, index: usize, info: TaskInfo, now: Instant) -> Self {
        let node = shared.receivers[index].node;
        Self {
            index,
            node,
            outputs: shared.plan.nodes[node].outputs.clone(),
            configured: super::super::components::Config::new(&shared.plan.nodes[node])
                .float("rate_per_sec"),
            spout: build(shared, node, &info),
            info,
            rate: Rate {
                tokens: 1.0,
                last: now,
            },
            emitter: Emitter::default(),
            refusal_log: RefusalLog::default(),
            reported_full: false,
            dice: Rng::new(derive_seed(shared.seed, 0x7265_6376_0000 ^ index as u64)),
        }
    }

    /// The receiver died: what it took and had not stored is dropped with its spout
    /// (a drain spout rolls its open takes back into the channel), and a new one starts
    /// where the old one's stored records end, when the spout can resume.
    fn restart(&mut self, shared: &Shared, why: String) -> Poll {
        let position = self.spout.as_ref().and_then(|s| s.position());
        self.emitter.items.clear();
        shared.receivers[self.index]
            .restarts
            .fetch_add(1, Ordering::Relaxed);
        shared.env.log.push(
            &self.info.node,
            self.info.task,
            LogKind::Error,
            format!("receiver crashed: {why}; restarting"),
        );
        self.spout = None;
        self.spout = build(shared, self.node, &self.info);
        if let (Some(spout), Some(position)) = (self.spout.as_mut(), position) {
            spout.resume(position);
        }
        Poll::Again
    }

    /// Reliable receiver: tells the spout which records are stored (acked: a drain
    /// spout commits its take from the channel), which found no room (failed: the spout
    /// replays them) and which were over the value cap (refused: given up). `ids` are
    /// the kept emits in push order, the first `stored` of which were stored.
    fn settle(
        &mut self,
        shared: &Shared,
        ids: &[Option<u64>],
        stored: usize,
        over_cap: &[u64],
    ) -> Option<Poll> {
        let s = self.spout.as_mut()?;
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            for (i, id) in ids.iter().enumerate() {
                if let Some(id) = *id {
                    if i < stored { s.ack(id) } else { s.fail(id) }
                }
            }
            for &id in over_cap {
                s.refused(id);
            }
        }));
        outcome
            .err()
            .map(|payload| self.restart(shared, supervisor::describe(payload.as_ref())))
    }

    /// One round: up to [`CALLS_PER_ROUND`] calls of `next_tuple` as the rate and the
    /// shared buffer room allow, the records pushed stamped with `stamp_us()` (the
    /// threads: the batch timer; the stepper: its receiving time, which a batch job
    /// running late does not move).
    pub(crate) fn poll(
        &mut self,
        shared: &Shared,
        now: Instant,
        stamp_us: &dyn Fn() -> u64,
    ) -> Poll {
        let me = &shared.receivers[self.index];
        let info = &self.info;
        let switches = &shared.switches;
        if switches.shutdown.load(Ordering::Relaxed) {
            return Poll::Stop;
        }
        if switches.deactivated.load(Ordering::Relaxed) {
            me.idle.store(true, Ordering::SeqCst);
            return Poll::Wait(Duration::from_millis(2));
        }
        let Some(s) = self.spout.as_mut() else {
            me.done.store(true, Ordering::SeqCst);
            return Poll::Wait(Duration::from_millis(5));
        };
        if switches.paused.load(Ordering::Relaxed) {
            return Poll::Wait(Duration::from_millis(2));
        }
        let node_switches = &shared.node_switches[self.node];
        let per_sec = node_switches.rate().unwrap_or(self.configured);
        let calls = self.rate.allowance(per_sec, now).min(CALLS_PER_ROUND);
        // Room for the whole round first, so back-pressure loses nothing.
        if calls > 0 && !(shared.budget.has_byte_room() && shared.budget.take_items(calls)) {
            me.throttled.fetch_add(1, Ordering::Relaxed);
            if !self.reported_full {
                self.reported_full = true;
                shared.env.log.push_once(
                    &info.node,
                    info.task,
                    "receiver buffers full",
                    LogKind::Event,
                    format!(
                        "receiver buffers full ({} records or {} MiB per run): the spout waits until a batch takes them",
                        limits::MAX_BUFFERED_RECORDS,
                        limits::MAX_BUFFERED_BYTES >> 20
                    ),
                );
            }
            return Poll::Wait(Duration::from_millis(1));
        }
        let faults = node_switches
            .faults_active()
            .then(|| node_switches.faults());
        let mut made = 0;
        let emitter = &mut self.emitter;
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            for _ in 0..calls {
                if let Some(f) = &faults
                    && !f.added_latency.is_zero()
                {
                    shared.timer.spend(f.added_latency);
                }
                if !s.next_tuple(emitter) {
                    break;
                }
                made += 1;
            }
        }));
        self.rate.spend(made);
        if let Some(r) = self.emitter.take_refusals() {
            me.refused.fetch_add(r.count, Ordering::Relaxed);
            self.refusal_log
                .report(&shared.env.log, &info.node, info.task, &r.first);
        }
        if let Err(payload) = outcome {
            shared.budget.give(calls, 0);
            return self.restart(shared, supervisor::describe(payload.as_ref()));
        }
        // An injected crash strikes between receiving and storing: the case a reliable
        // receiver is for (nothing was acked, so the spout replays it all).
        if let Some(f) = &faults
            && f.crash_probability > 0.0
            && made > 0
            && self.dice.unit() < f.crash_probability
        {
            shared.budget.give(calls, 0);
            return self.restart(shared, "injected crash before storing its block".into());
        }
        // Refused emits are already counted (and logged) above; they are failed back.
        let n = self.emitter.items.iter().filter(|e| !e.refused).count();
        let mut over_cap: Vec<u64> = Vec::new();
        let mut ids: Vec<Option<u64>> = Vec::with_capacity(n);
        let outputs = &self.outputs;
        let mut items: Vec<(u32, Values)> = Vec::with_capacity(n);
        for e in self.emitter.items.drain(..) {
            if e.refused {
                over_cap.extend(e.msg_id);
                continue;
            }
            if let Some(&global) = outputs.get(e.stream) {
                ids.push(e.msg_id);
                items.push((global as u32, e.values));
            }
        }
        let refused = me.push(items, calls, &shared.budget, stamp_us);
        let stored = ids.len() - refused;
        if (!over_cap.is_empty() || ids.iter().any(Option::is_some))
            && let Some(poll) = self.settle(shared, &ids, stored, &over_cap)
        {
            return poll;
        }
        let me = &shared.receivers[self.index];
        let info = &self.info;
        if refused > 0 {
            me.refused.fetch_add(refused as u64, Ordering::Relaxed);
            self.refusal_log.report(
                &shared.env.log,
                &info.node,
                info.task,
                &shared.budget.full(),
            );
        }
        if n > 0 {
            me.emitted.fetch_add(n as u64, Ordering::Relaxed);
            return Poll::Again;
        }
        if self.spout.as_ref().is_some_and(|s| s.is_done()) {
            me.done.store(true, Ordering::SeqCst);
        }
        Poll::Wait(Duration::from_millis(if calls == 0 { 1 } else { 2 }))
    }
}

/// The receiver thread's loop for receiver `index`.
pub(crate) fn run(shared: Arc<Shared>, index: usize, info: TaskInfo) {
    let mut receiver = Receiver::new(&shared, index, info, Instant::now());
    loop {
        match receiver.poll(&shared, Instant::now(), &|| shared.timer.now_us()) {
            Poll::Again => {}
            Poll::Wait(d) => std::thread::sleep(d),
            Poll::Stop => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::tuple::Val;

    #[test]
    fn a_cut_takes_records_up_to_and_including_the_boundary() {
        let r = ReceiverState::new(0, 1);
        let budget = Budget::receivers();
        for at in [1u64, 999_999, 1_000_000, 1_000_001] {
            assert!(budget.take_items(1));
            r.push(
                vec![(0, Values::One(Val::Int(at as i64)))],
                1,
                &budget,
                || at,
            );
        }
        assert_eq!(budget.items(), 4);
        let first: Vec<u64> = r.cut(1_000_000, &budget).iter().map(|x| x.at_us).collect();
        assert_eq!(first, [1, 999_999, 1_000_000]);
        assert_eq!(r.buffered(), 1);
        assert_eq!(budget.items(), 1, "a cut gives the room back");
        assert!(r.cut(1_000_000, &budget).is_empty());
        assert_eq!(r.cut(2_000_000, &budget).len(), 1);
    }

    #[test]
    fn records_beyond_the_room_are_refused_and_counted() {
        let r = ReceiverState::new(0, 1);
        let budget = Budget::new("test buffers", 3, usize::MAX);
        assert!(budget.take_items(2));
        let four = (0..4).map(|i| (0, Values::One(Val::Int(i)))).collect();
        assert_eq!(r.push(four, 2, &budget, || 5), 1, "room for 3 of 4");
        assert_eq!(r.buffered(), 3);
        assert_eq!(budget.items(), 3);
        let one = vec![(0, Values::One(Val::Int(9)))];
        assert_eq!(r.push(one, 0, &budget, || 6), 1, "no room at all");
    }
}
