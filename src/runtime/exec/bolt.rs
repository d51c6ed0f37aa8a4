//! The bolt executor: takes batches from its queue, runs each tuple through its task's
//! bolt with BasicBolt semantics (emits anchored to the input; ack on success, fail on
//! error), applies injected faults, and restarts a task that panics. A bolt that holds
//! its output in a buffer (`Bolt::acks_after_flush`, the file sink) is flushed after
//! each batch before any of that batch's inputs is acked; a failed flush fails them.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, TryRecvError};

use super::route::{Anchor, TaskOut, complete_held, complete_input, task_info};
use super::{Exit, Life, Msg, Outbox, Wiring};
use crate::runtime::components::{Behaviour, Bolt, Emitter, Failed, Refusals};
use crate::runtime::limits::RefusalLog;
use crate::runtime::log::LogKind;
use crate::runtime::metrics::add;
use crate::runtime::routing::RouteError;
use crate::runtime::supervisor::{self, Backoff};
use crate::runtime::tuple::{AckIds, Tuple, Values};

pub(crate) struct BoltTask {
    node: usize,
    pub(crate) task: u32,
    bolt: Box<dyn Bolt>,
    out: TaskOut,
    backoff: Backoff,
    executed: u64,
    acked: u64,
    failed: u64,
    refused: u64,
    reported_route_error: bool,
    refusals: RefusalLog,
    /// The bolt's output is safe only after `flush` ([`Bolt::acks_after_flush`]).
    acks_after_flush: bool,
    /// The bolt settles its inputs itself ([`Bolt::acks_itself`]).
    acks_itself: bool,
    /// Such a bolt's outcomes of the current batch: (input ids, ack value, ok), settled
    /// after the flush that follows the batch.
    held: Vec<(AckIds, u64, bool)>,
    reported_flush_error: bool,
}

fn build(w: &Wiring, node: usize, task: u32) -> Option<Box<dyn Bolt>> {
    let info = task_info(w, node, task);
    match (w.factories[node])(&info) {
        Ok(Behaviour::Bolt(b)) => Some(b),
        Ok(Behaviour::Spout(_)) => None,
        Err(e) => {
            w.env.log.push(&info.node, task, LogKind::Error, e);
            None
        }
    }
}

/// Routes a bolt's emits as they happen, anchored to the input being executed.
pub(crate) struct BoltSink<'x> {
    w: &'x Wiring,
    out: &'x mut TaskOut,
    outbox: &'x mut Outbox,
    ids: &'x AckIds,
    ack_val: u64,
    error: Option<RouteError>,
    /// Inputs a bolt that acks itself settled during this call.
    acked: u64,
    failed: u64,
}

impl BoltSink<'_> {
    #[inline(always)]
    pub(crate) fn emit(&mut self, stream: usize, values: Values, direct: Option<u32>) {
        let anchor = Anchor::Input {
            ids: self.ids,
            ack_val: &mut self.ack_val,
        };
        let routed = self
            .out
            .dispatch_values(self.w, self.outbox, stream, values, direct, anchor);
        if let Err(e) = routed {
            self.error.get_or_insert(e);
        }
    }

    /// See [`Emitter::emit_anchored`].
    #[inline(never)]
    pub(crate) fn emit_anchored(
        &mut self,
        stream: usize,
        values: Values,
        direct: Option<u32>,
        anchor: Option<(&AckIds, &mut u64)>,
        report: bool,
    ) -> Result<Vec<u32>, RouteError> {
        let anchor = match anchor {
            Some((ids, ack_val)) => Anchor::Input { ids, ack_val },
            None => Anchor::None,
        };
        if report {
            self.out
                .dispatch_reporting(self.w, self.outbox, stream, values, direct, anchor)
        } else {
            self.out
                .dispatch_values(self.w, self.outbox, stream, values, direct, anchor)
                .map(|_| Vec::new())
        }
    }

    /// See [`Emitter::settle`].
    #[inline(never)]
    pub(crate) fn settle(&mut self, ids: &AckIds, ack_val: u64, ok: bool) {
        complete_held(self.w, self.outbox, ids, ack_val, ok);
        if ok {
            self.acked += 1;
        } else {
            self.failed += 1;
        }
    }
}

impl BoltTask {
    #[inline]
    fn execute_one(&mut self, w: &Wiring, outbox: &mut Outbox, live: &[bool], t: &Tuple) {
        let switches = &w.node_switches[self.node];
        let mut forced_fail = false;
        if switches.faults_active() {
            let f = switches.faults();
            if !f.added_latency.is_zero() {
                w.env.clock.spend(f.added_latency);
            }
            if f.crash_probability > 0.0 && self.out.rng.unit() < f.crash_probability {
                supervisor::crash();
            }
            forced_fail = f.fail_probability > 0.0 && self.out.rng.unit() < f.fail_probability;
        }
        let mut sink = BoltSink {
            w,
            out: &mut self.out,
            outbox,
            ids: &t.ids,
            ack_val: 0,
            error: None,
            acked: 0,
            failed: 0,
        };
        let mut emitter = Emitter {
            live,
            sink: Some(&mut sink),
            ..Emitter::default()
        };
        let mut result = if forced_fail {
            Err(Failed("injected failure".into()))
        } else {
            self.bolt.execute(t, &mut emitter)
        };
        let discarded = emitter.discarded;
        let refusals = emitter.take_refusals();
        drop(emitter);
        let (ack_val, error) = (sink.ack_val, sink.error);
        self.acked += sink.acked;
        self.failed += sink.failed;
        self.out.emitted += discarded;
        if let Some(refusals) = refusals {
            self.on_refusals(w, refusals, &mut result);
        }
        if let Some(e) = error {
            if !self.reported_route_error {
                self.reported_route_error = true;
                let name = &w.plan.nodes[self.node].node.name;
                w.env.log.push(
                    name,
                    self.task,
                    LogKind::Error,
                    format!("emit refused: {e}"),
                );
            }
            result = Err(Failed(e.to_string()));
        }
        self.executed += 1;
        let ok = result.is_ok();
        if ok && self.acks_itself {
            // The bolt holds the input and settles it itself, later.
        } else if self.acks_after_flush {
            self.hold(t.ids, ack_val, ok);
        } else {
            self.settle(w, outbox, &t.ids, ack_val, ok);
        }
    }

    /// `execute_one` for a tuple of a traced tree: the hop is recorded with its times
    /// and outcome. Out of line, so the untraced path keeps its shape.
    #[cold]
    #[inline(never)]
    fn execute_traced(&mut self, w: &Wiring, outbox: &mut Outbox, live: &[bool], t: &Tuple) {
        let started = w.run_clock();
        let failed_before = self.failed;
        self.execute_one(w, outbox, live, t);
        let ended = w.run_clock();
        let plan = &w.plan;
        let name = |task: u32| {
            plan.task_node
                .get(task as usize)
                .copied()
                .flatten()
                .map_or("", |n| plan.nodes[n].node.name.as_str())
        };
        w.tracer.executed(
            t.ids.root(),
            name(self.task),
            self.task,
            name(t.source_task),
            t.source_task,
            started,
            ended,
            self.failed == failed_before,
        );
    }

    /// Counts and reports what the last `execute` had refused; a value over the cap
    /// fails the input. Kept out of line: it is rare, and the hot path stays small.
    #[cold]
    #[inline(never)]
    fn on_refusals(&mut self, w: &Wiring, refusals: Refusals, result: &mut Result<(), Failed>) {
        self.refused += refusals.count;
        let name = &w.plan.nodes[self.node].node.name;
        self.refusals
            .report(&w.env.log, name, self.task, &refusals.first);
        if refusals.fail_input && result.is_ok() {
            *result = Err(Failed("an emitted value was refused".into()));
        }
    }

    /// Keeps an outcome until the flush after this batch (see `settle_held`).
    #[inline(never)]
    fn hold(&mut self, ids: AckIds, ack_val: u64, ok: bool) {
        self.held.push((ids, ack_val, ok));
    }

    #[inline]
    fn settle(&mut self, w: &Wiring, outbox: &mut Outbox, ids: &AckIds, ack_val: u64, ok: bool) {
        self.count_outcome(ok);
        complete_input(w, outbox, ids, ack_val, ok);
    }

    #[inline]
    fn count_outcome(&mut self, ok: bool) {
        if ok {
            self.acked += 1;
        } else {
            self.failed += 1;
        }
    }

    /// Flushes the bolt; a failure is logged (once per node) and returned as false.
    pub(crate) fn flush(&mut self, w: &Wiring) -> bool {
        match self.bolt.flush() {
            Ok(()) => true,
            Err(Failed(why)) => {
                if !self.reported_flush_error {
                    self.reported_flush_error = true;
                    let name = &w.plan.nodes[self.node].node.name;
                    w.env.log.push_once(
                        name,
                        self.task,
                        "flush failed",
                        LogKind::Error,
                        format!("{why}; the tuples it held are failed"),
                    );
                }
                false
            }
        }
    }

    /// For a bolt that acks after flushing: flushes (unless `lost`: the batch was cut
    /// short by a crash, so its output is not trusted) and only then acks the held
    /// inputs, or fails them all when the flush failed.
    fn settle_held(&mut self, w: &Wiring, outbox: &mut Outbox, lost: bool) {
        if self.held.is_empty() {
            return;
        }
        let flushed = !lost && self.flush(w);
        let held = std::mem::take(&mut self.held);
        for &(ids, ack_val, ok) in &held {
            self.count_outcome(ok && flushed);
            complete_held(w, outbox, &ids, ack_val, ok && flushed);
        }
        self.held = held;
        self.held.clear();
    }

    /// Lets a time-driven bolt emit (unanchored), and a bolt that acks itself settle.
    fn tick(&mut self, w: &Wiring, outbox: &mut Outbox, live: &[bool], now: Instant) {
        let none = AckIds::NONE;
        let mut sink = BoltSink {
            w,
            out: &mut self.out,
            outbox,
            ids: &none,
            ack_val: 0,
            error: None,
            acked: 0,
            failed: 0,
        };
        let mut emitter = Emitter {
            live,
            sink: Some(&mut sink),
            ..Emitter::default()
        };
        self.bolt.tick(now, &mut emitter);
        let discarded = emitter.discarded;
        let refusals = emitter.take_refusals();
        drop(emitter);
        self.acked += sink.acked;
        self.failed += sink.failed;
        self.out.emitted += discarded;
        if let Some(r) = refusals {
            self.refused += r.count;
            let name = &w.plan.nodes[self.node].node.name;
            self.refusals.report(&w.env.log, name, self.task, &r.first);
        }
        self.out.publish(w);
        let c = &w.counters.tasks[self.task as usize];
        add(&c.refused, std::mem::take(&mut self.refused));
        add(&c.acked, std::mem::take(&mut self.acked));
        add(&c.failed, std::mem::take(&mut self.failed));
    }

    fn publish(&mut self, w: &Wiring, me: usize, busy_ns: u64, batch: u64) {
        self.out.publish(w);
        let c = &w.counters.tasks[self.task as usize];
        add(&c.executed, std::mem::take(&mut self.executed));
        add(&c.acked, std::mem::take(&mut self.acked));
        add(&c.failed, std::mem::take(&mut self.failed));
        add(&c.refused, std::mem::take(&mut self.refused));
        add(&c.busy_ns, busy_ns);
        if let Some(per_tuple) = busy_ns.checked_div(batch) {
            w.counters.latencies[me]
                .execute_latency
                .record_n(per_tuple, batch);
        }
    }

    fn restart(&mut self, w: &Wiring, why: String) {
        super::wait_after_crash(w, self.node, self.task, &mut self.backoff, &why);
        self.rebuild(w);
    }

    /// A crash's bookkeeping without the wait; returns how long the task stays down.
    pub(crate) fn note_crash(&mut self, w: &Wiring, why: &str) -> Duration {
        super::note_crash(w, self.node, self.task, &mut self.backoff, why)
    }

    /// The second half of a restart: a fresh instance of the bolt.
    pub(crate) fn rebuild(&mut self, w: &Wiring) {
        if let Some(b) = build(w, self.node, self.task) {
            self.acks_after_flush = b.acks_after_flush();
            self.acks_itself = b.acks_itself();
            self.bolt = b;
        }
    }
}

/// One bolt executor's state for one life. The threaded loop below and the lab's
/// scheduler both drive it.
pub(crate) struct BoltExec {
    /// Indexed by task − `first`; `None` for a task that could not be built.
    pub(crate) bolts: Vec<Option<BoltTask>>,
    pub(crate) first: u32,
    pub(crate) outbox: Outbox,
    /// Per local output stream: does anyone read it?
    pub(crate) live: Vec<bool>,
}

/// How often the threaded loop lets time-driven bolts emit.
pub(crate) const TICK_EVERY: Duration = Duration::from_millis(5);

impl BoltExec {
    pub(crate) fn new(w: &Wiring, me: usize, node: usize, life: u64) -> BoltExec {
        let tasks = w.plan.executors[me].tasks.clone();
        let first = tasks.start;
        let bolts = tasks
            .map(|task| {
                let bolt = build(w, node, task)?;
                Some(BoltTask {
                    node,
                    task,
                    acks_after_flush: bolt.acks_after_flush(),
                    acks_itself: bolt.acks_itself(),
                    bolt,
                    out: TaskOut::new(w, node, task, life),
                    backoff: Backoff::default(),
                    executed: 0,
                    acked: 0,
                    failed: 0,
                    refused: 0,
                    reported_route_error: false,
                    refusals: RefusalLog::default(),
                    held: Vec::new(),
                    reported_flush_error: false,
                })
            })
            .collect();
        let live = w.plan.nodes[node]
            .outputs
            .iter()
            .map(|&s| !w.plan.streams[s].edges.is_empty())
            .collect();
        BoltExec {
            bolts,
            first,
            outbox: Outbox::new(w, me),
            live,
        }
    }

    /// Runs one batch of input through its task. Returns the task's index and why when
    /// the bolt panicked: the crashing tuple and the rest of the batch are lost (counted
    /// as dropped; their trees time out and are replayed) and the caller restarts it.
    #[inline]
    pub(crate) fn execute_batch(
        &mut self,
        w: &Wiring,
        me: usize,
        node: usize,
        task: u32,
        tuples: Vec<Tuple>,
    ) -> Option<(usize, String)> {
        let index = (task - self.first) as usize;
        let Some(Some(b)) = self.bolts.get_mut(index) else {
            // The task could not be built (its error is in the log): its input is
            // lost, and counted so the run can still drain.
            add(
                &w.counters.tasks[task as usize].dropped,
                tuples.len() as u64,
            );
            return None;
        };
        let outbox = &mut self.outbox;
        let live = &self.live[..];
        let total = tuples.len() as u64;
        let started = Instant::now();
        let mut done = 0u64;
        let result = catch_unwind(AssertUnwindSafe(|| {
            let faults = w.node_switches[node].faults_active();
            let every = w.tracer.every();
            for t in &tuples {
                if faults && w.switches.shutdown.load(Ordering::Relaxed) {
                    break;
                }
                if every != 0 && super::tracer::samples(t.ids.root(), every) {
                    b.execute_traced(w, outbox, live, t);
                } else {
                    b.execute_one(w, outbox, live, t);
                }
                done += 1;
            }
        }));
        // Acks of a bolt that acks after flushing leave only now, after its flush.
        b.settle_held(w, outbox, result.is_err());
        let busy = started.elapsed().as_nanos() as u64;
        b.publish(w, me, busy, done);
        w.recycle_batch(me, tuples);
        let payload = result.err()?;
        add(&w.counters.tasks[b.task as usize].dropped, total - done);
        Some((index, supervisor::describe(payload.as_ref())))
    }

    /// Lets every time-driven bolt emit. A panic in a tick loses that tick's output and
    /// crashes its task: the index and why of each are returned, for the caller to
    /// restart (a multi-lang child that died is noticed here).
    pub(crate) fn tick_all(&mut self, w: &Wiring, now: Instant) -> Vec<(usize, String)> {
        let outbox = &mut self.outbox;
        let mut crashed = Vec::new();
        for (i, slot) in self.bolts.iter_mut().enumerate() {
            let Some(b) = slot else { continue };
            let ticked = catch_unwind(AssertUnwindSafe(|| b.tick(w, outbox, &self.live, now)));
            if let Err(payload) = ticked {
                crashed.push((i, supervisor::describe(payload.as_ref())));
            }
        }
        outbox.publish_held(w);
        crashed
    }

    /// Pushes every bolt's buffered output to its destination (when idle, at stop).
    pub(crate) fn flush_bolts(&mut self, w: &Wiring) {
        for b in self.bolts.iter_mut().flatten() {
            b.flush(w);
        }
    }
}

/// Runs one life of a bolt executor: until shutdown, or until its worker is killed
/// (then its tasks' state and buffers are lost, unflushed).
pub(crate) fn run(w: &Wiring, me: usize, node: usize, inbox: &Receiver<Msg>, life: &Life) -> Exit {
    let mut ex = BoltExec::new(w, me, node, life.number());
    let mut next_tick = w.env.clock.now() + TICK_EVERY;

    while !w.switches.shutdown.load(Ordering::Relaxed) {
        if life.killed() {
            ex.outbox.discard(w);
            return Exit::Killed;
        }
        if !ex.outbox.overflow_is_empty() && !ex.outbox.retry_overflow(w) {
            // Downstream is full: stop reading input until it drains (backpressure).
            ex.outbox.publish_held(w);
            ex.outbox.wait_overflow(w, Duration::from_millis(1));
            continue;
        }
        let msg = match inbox.try_recv() {
            Ok(msg) => Some(msg),
            Err(TryRecvError::Empty) => {
                ex.outbox.flush_all(w);
                ex.flush_bolts(w);
                ex.outbox.publish_held(w);
                match inbox.recv_timeout(TICK_EVERY) {
                    Ok(msg) => Some(msg),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => return Exit::Shutdown,
                }
            }
            Err(TryRecvError::Disconnected) => return Exit::Shutdown,
        };
        if let Some(Msg::Tuples { task, tuples }) = msg {
            if let Some((index, why)) = ex.execute_batch(w, me, node, task, tuples)
                && let Some(Some(b)) = ex.bolts.get_mut(index)
            {
                b.restart(w, why);
            }
            ex.outbox.flush_if_due(w, Instant::now());
        }
        let now = w.env.clock.now();
        if now >= next_tick {
            next_tick = now + TICK_EVERY;
            for (index, why) in ex.tick_all(w, now) {
                if let Some(Some(b)) = ex.bolts.get_mut(index) {
                    b.restart(w, why);
                }
            }
        }
    }
    ex.flush_bolts(w);
    Exit::Shutdown
}
