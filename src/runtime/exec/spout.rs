//! The spout executor: calls `next_tuple` while allowed (active, not paused, under max
//! spout pending, within the rate, no overflow), tracks roots for acking and timeouts,
//! and hands ack/fail outcomes back to the spout, which decides replays.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, TryRecvError};

use super::pending::PendingRoots;
use super::route::{Anchor, TaskOut, task_info};
use super::{Exit, Life, Msg, Outbox, Wiring};
use crate::runtime::acker::AckMsg;
use crate::runtime::components::{Behaviour, Emitter, Spout};
use crate::runtime::limits::RefusalLog;
use crate::runtime::log::LogKind;
use crate::runtime::metrics::add;
use crate::runtime::routing::{RouteError, acker_for};
use crate::runtime::supervisor::{self, Backoff};

pub(crate) struct SpoutTask {
    node: usize,
    pub(crate) task: u32,
    /// The executor running it (latency histograms are per executor).
    exec: usize,
    spout: Box<dyn Spout>,
    out: TaskOut,
    pub(crate) pending: PendingRoots,
    configured_rate: f64,
    tokens: f64,
    last_refill: Instant,
    backoff: Backoff,
    acked: u64,
    failed: u64,
    replayed: u64,
    timed_out: u64,
    busy_ns: u64,
    refused: u64,
    reported_route_error: bool,
    refusals: RefusalLog,
    /// Tracer bullets' sampling this turn (0: off), read once per turn.
    trace_every: u64,
}

fn build(w: &Wiring, node: usize, task: u32) -> Option<Box<dyn Spout>> {
    let info = task_info(w, node, task);
    match (w.factories[node])(&info) {
        Ok(Behaviour::Spout(s)) => Some(s),
        Ok(Behaviour::Bolt(_)) => None,
        Err(e) => {
            w.env.log.push(&info.node, task, LogKind::Error, e);
            None
        }
    }
}

impl SpoutTask {
    fn rate(&self, w: &Wiring) -> f64 {
        w.node_switches[self.node]
            .rate()
            .unwrap_or(self.configured_rate)
    }

    /// How many `next_tuple` calls the rate allows now (`usize::MAX` = unlimited).
    fn allowance(&mut self, w: &Wiring, now: Instant) -> usize {
        let rate = self.rate(w);
        if rate <= 0.0 {
            self.last_refill = now;
            self.tokens = 1.0;
            return usize::MAX;
        }
        let dt = now.duration_since(self.last_refill).as_secs_f64();
        self.last_refill = now;
        self.tokens = (self.tokens + rate * dt).min((rate * 0.05).max(1.0));
        self.tokens.floor() as usize
    }

    fn handle_outcome(&mut self, w: &Wiring, root: u64, ok: bool, now: Instant) {
        let Some(p) = self.pending.remove(root) else {
            return; // Already timed out, or from before a restart.
        };
        if ok {
            self.acked += 1;
            let lat = now.saturating_duration_since(p.emitted_at).as_nanos() as u64;
            w.counters.latencies[self.exec]
                .complete_latency
                .record_n(lat, 1);
            self.spout.ack(p.msg_id);
        } else {
            self.failed += 1;
            self.spout.fail(p.msg_id);
        }
    }

    /// One timeout period passed: fails the roots that have waited too long, and
    /// returns them.
    pub(crate) fn rotate(&mut self) -> Vec<super::pending::Pending> {
        let expired = self.pending.rotate();
        for p in &expired {
            self.failed += 1;
            self.timed_out += 1;
            self.spout.fail(p.msg_id);
        }
        expired
    }

    /// Calls `next_tuple` up to `budget` times and routes what it emits.
    fn emit_some(
        &mut self,
        w: &Wiring,
        outbox: &mut Outbox,
        emitter: &mut Emitter,
        budget: usize,
        max_pending: usize,
        now: Instant,
    ) -> usize {
        let acking = w.acking();
        let switches = &w.node_switches[self.node];
        let mut calls = 0;
        while calls < budget && self.pending.len() < max_pending {
            if switches.faults_active() {
                let f = switches.faults();
                if !f.added_latency.is_zero() {
                    w.env.clock.spend(f.added_latency);
                }
                if f.crash_probability > 0.0 && self.out.rng.unit() < f.crash_probability {
                    supervisor::crash();
                }
            }
            let more = self.spout.next_tuple(emitter);
            self.take_refusals(w, emitter);
            if !more {
                break;
            }
            calls += 1;
            for em in emitter.items.drain(..) {
                if em.refused {
                    if let Some(msg_id) = em.msg_id {
                        self.failed += 1;
                        self.spout.refused(msg_id);
                    }
                    continue;
                }
                let replay = em.replay;
                match em.msg_id {
                    Some(msg_id) if acking => {
                        let root = if em.batch == 0 {
                            self.pending.reserve(&mut self.out.rng)
                        } else {
                            self.pending.reserve_in_batch(em.batch)
                        };
                        let mut xor = 0;
                        let anchor = Anchor::Root {
                            root,
                            xor: &mut xor,
                        };
                        let routed = self.route(w, outbox, em, anchor);
                        let ok = routed.is_ok();
                        self.report(w, routed);
                        if ok {
                            self.pending.fill(root, msg_id, now);
                            if super::tracer::samples(root, self.trace_every) {
                                let name = &w.plan.nodes[self.node].node.name;
                                w.tracer.emitted(root, name, self.task, w.run_clock());
                            }
                            let acker = acker_for(root, w.plan.ackers());
                            let init = AckMsg::Init {
                                root,
                                xor,
                                spout_task: self.task,
                            };
                            outbox.push_ack(w, acker, init);
                        } else {
                            // Routing refused it (a direct emit to no consumer): the
                            // message counts as failed, and the spout hears of it.
                            self.pending.release(root);
                            self.failed += 1;
                            self.spout.fail(msg_id);
                        }
                    }
                    Some(msg_id) => {
                        // No ackers: a tracked emit is acked at once (Storm).
                        let routed = self.route(w, outbox, em, Anchor::None);
                        self.report(w, routed);
                        self.acked += 1;
                        self.spout.ack(msg_id);
                    }
                    None => {
                        let routed = self.route(w, outbox, em, Anchor::None);
                        self.report(w, routed);
                    }
                }
                if replay {
                    self.replayed += 1;
                }
            }
        }
        calls
    }

    /// Routes one emit; one the spout asked about is told where it went.
    #[inline(always)]
    fn route(
        &mut self,
        w: &Wiring,
        outbox: &mut Outbox,
        em: crate::runtime::components::Emitted,
        anchor: Anchor<'_>,
    ) -> Result<usize, RouteError> {
        if em.report_targets {
            return self.route_and_report(w, outbox, em, anchor);
        }
        self.out.dispatch(w, outbox, em, anchor)
    }

    /// [`SpoutTask::route`] for an emit whose receivers the spout wants to hear of (a
    /// multi-lang child waiting for its task ids): it hears of them even when the emit
    /// was refused, as an empty list, so it never waits forever.
    #[cold]
    #[inline(never)]
    fn route_and_report(
        &mut self,
        w: &Wiring,
        outbox: &mut Outbox,
        em: crate::runtime::components::Emitted,
        anchor: Anchor<'_>,
    ) -> Result<usize, RouteError> {
        let routed = self
            .out
            .dispatch_reporting(w, outbox, em.stream, em.values, em.direct, anchor);
        match routed {
            Ok(targets) => {
                self.spout.routed(&targets);
                Ok(targets.len())
            }
            Err(e) => {
                self.spout.routed(&[]);
                Err(e)
            }
        }
    }

    /// Emits refused during the last `next_tuple` (a value over the cap): each counts as
    /// a failed message, and the spout decides what to do with it (`Spout::refused`).
    fn take_refusals(&mut self, w: &Wiring, emitter: &mut Emitter) {
        let Some(refusals) = emitter.take_refusals() else {
            return;
        };
        self.refused += refusals.count;
        let name = &w.plan.nodes[self.node].node.name;
        self.refusals
            .report(&w.env.log, name, self.task, &refusals.first);
    }

    /// Logs the first refused emit (a direct-stream misuse) of this task.
    fn report(&mut self, w: &Wiring, routed: Result<usize, RouteError>) {
        if let Err(e) = routed
            && !self.reported_route_error
        {
            self.reported_route_error = true;
            let name = &w.plan.nodes[self.node].node.name;
            w.env.log.push(
                name,
                self.task,
                LogKind::Error,
                format!("emit refused: {e}"),
            );
        }
    }

    pub(crate) fn publish(&mut self, w: &Wiring) {
        self.out.publish(w);
        let c = &w.counters.tasks[self.task as usize];
        add(&c.acked, std::mem::take(&mut self.acked));
        add(&c.failed, std::mem::take(&mut self.failed));
        add(&c.replayed, std::mem::take(&mut self.replayed));
        add(&c.timed_out, std::mem::take(&mut self.timed_out));
        add(&c.busy_ns, std::mem::take(&mut self.busy_ns));
        add(&c.refused, std::mem::take(&mut self.refused));
        c.pending
            .store(self.pending.len() as u64, Ordering::Relaxed);
        let done = self.spout.is_done() && self.pending.is_empty();
        c.done.store(u64::from(done), Ordering::Relaxed);
        if let Some(p) = self.spout.position() {
            c.resume_at.store(p.saturating_add(1), Ordering::Relaxed);
        }
    }

    /// Replaces a crashed spout with a fresh instance. Its pending roots are forgotten:
    /// the new instance continues from the old one's position when the spout can resume
    /// (every message before it was acked), else starts its input again; either way what
    /// was in flight is emitted again.
    fn restart(&mut self, w: &Wiring, why: String) {
        super::wait_after_crash(w, self.node, self.task, &mut self.backoff, &why);
        self.rebuild(w);
    }

    /// A crash's bookkeeping without the wait; returns how long the task stays down.
    pub(crate) fn note_crash(&mut self, w: &Wiring, why: &str) -> Duration {
        super::note_crash(w, self.node, self.task, &mut self.backoff, why)
    }

    /// The second half of a restart: a fresh instance, resumed where the old one had
    /// everything acked, and no pending roots.
    pub(crate) fn rebuild(&mut self, w: &Wiring) {
        let position = self.spout.position();
        if let Some(mut s) = build(w, self.node, self.task) {
            if let Some(p) = position {
                s.resume(p);
            }
            self.spout = s;
        }
        self.pending.clear();
    }

    /// One turn of this task: up to `budget` calls of `next_tuple` as the rate allows,
    /// with the tokens it used taken. `Err` carries why the spout panicked (its
    /// half-made emits are thrown away); the caller restarts it.
    #[inline]
    pub(crate) fn turn(
        &mut self,
        w: &Wiring,
        outbox: &mut Outbox,
        emitter: &mut Emitter<'static, 'static>,
        budget: usize,
        max_pending: usize,
        now: Instant,
    ) -> Result<usize, String> {
        let allowance = self.allowance(w, now).min(budget);
        self.trace_every = w.tracer.every();
        let started = Instant::now();
        let result = catch_unwind(AssertUnwindSafe(|| {
            self.emit_some(w, outbox, emitter, allowance, max_pending, now)
        }));
        self.busy_ns += started.elapsed().as_nanos() as u64;
        match result {
            Ok(n) => {
                if n > 0 {
                    self.tokens = (self.tokens - n as f64).max(0.0);
                }
                Ok(n)
            }
            Err(payload) => {
                emitter.items.clear();
                let _ = emitter.take_refusals();
                Err(supervisor::describe(payload.as_ref()))
            }
        }
    }

    /// When the rate lets this task make its next call (now, if it already may).
    pub(crate) fn ready_at(&self, w: &Wiring, now: Instant) -> Instant {
        let rate = self.rate(w);
        if rate <= 0.0 || self.tokens >= 1.0 {
            return now;
        }
        // Rounded up by a microsecond, so the refill at that time reaches a whole token.
        let wait = Duration::from_secs_f64((1.0 - self.tokens) / rate) + Duration::from_micros(1);
        (self.last_refill + wait).max(now)
    }

    /// The message id a pending root was emitted with.
    pub(crate) fn msg_id_of(&self, root: u64) -> Option<u64> {
        self.pending.get(root).map(|p| p.msg_id)
    }

    /// True when the spout says it has nothing more to emit.
    pub(crate) fn is_done(&self) -> bool {
        self.spout.is_done()
    }
}

/// One spout executor's state for one life: its tasks, outbox and limits. The threaded
/// loop below and the lab's scheduler both drive it.
pub(crate) struct SpoutExec {
    pub(crate) spouts: Vec<SpoutTask>,
    pub(crate) outbox: Outbox,
    pub(crate) emitter: Emitter<'static, 'static>,
    /// Storm's `topology.max.spout.pending`, per task (unlimited without acking).
    pub(crate) max_pending: usize,
    pub(crate) timeout: Duration,
}

impl SpoutExec {
    pub(crate) fn new(w: &Wiring, me: usize, node: usize, life: u64, now: Instant) -> SpoutExec {
        let plan = &w.plan;
        let tasks = plan.executors[me].tasks.clone();
        let configured_rate =
            crate::runtime::components::Config::new(&plan.nodes[node]).float("rate_per_sec");
        let spouts: Vec<SpoutTask> = tasks
            .clone()
            .filter_map(|task| {
                let mut spout = build(w, node, task)?;
                // A worker killed earlier: continue where this task's last life had
                // everything acked (published with its counts).
                let resume_at = w.counters.tasks[task as usize]
                    .resume_at
                    .load(Ordering::Relaxed);
                if life > 0 && resume_at > 0 {
                    spout.resume(resume_at - 1);
                }
                Some(SpoutTask {
                    node,
                    task,
                    exec: me,
                    spout,
                    out: TaskOut::new(w, node, task, life),
                    pending: PendingRoots::default(),
                    configured_rate,
                    tokens: 1.0,
                    last_refill: now,
                    backoff: Backoff::default(),
                    acked: 0,
                    failed: 0,
                    replayed: 0,
                    timed_out: 0,
                    busy_ns: 0,
                    refused: 0,
                    reported_route_error: false,
                    refusals: RefusalLog::default(),
                    trace_every: 0,
                })
            })
            .collect();
        // A task that could not be built (its error is in the log) has nothing to emit.
        for task in tasks {
            if !spouts.iter().any(|s| s.task == task) {
                w.counters.tasks[task as usize]
                    .done
                    .store(1, Ordering::Relaxed);
            }
        }
        let max_pending = match (w.acking(), plan.max_spout_pending) {
            (true, Some(m)) => m.max(1) as usize,
            _ => usize::MAX,
        };
        SpoutExec {
            spouts,
            outbox: Outbox::new(w, me),
            emitter: Emitter::default(),
            max_pending,
            timeout: w.timeout(),
        }
    }
}

/// Whether spouts may call `next_tuple` at all: the run is neither paused nor
/// deactivated.
#[inline]
pub(crate) fn spouts_active(w: &Wiring) -> bool {
    !w.switches.paused.load(Ordering::Relaxed) && !w.switches.deactivated.load(Ordering::Relaxed)
}

/// Runs one life of a spout executor: until shutdown, or until its worker is killed
/// (then its pending roots are forgotten and a fresh instance replays its input).
pub(crate) fn run(w: &Wiring, me: usize, node: usize, inbox: &Receiver<Msg>, life: &Life) -> Exit {
    let SpoutExec {
        mut spouts,
        mut outbox,
        mut emitter,
        max_pending,
        timeout,
    } = SpoutExec::new(w, me, node, life.number(), w.env.clock.now());
    let mut next_rotate = w.env.clock.now() + timeout;
    let budget = w.batch_size.max(1);

    while !w.switches.shutdown.load(Ordering::Relaxed) {
        if life.killed() {
            outbox.discard(w);
            return Exit::Killed;
        }
        let now = w.env.clock.now();
        // Outcomes first, always: this is what keeps the ack cycle moving.
        loop {
            match inbox.try_recv() {
                Ok(msg) => handle_or_restart(&mut spouts, w, msg, now),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => return Exit::Shutdown,
            }
        }
        let clear = outbox.retry_overflow(w);
        if now >= next_rotate {
            next_rotate = now + timeout;
            for s in &mut spouts {
                s.rotate();
            }
        }
        let paused = w.switches.paused.load(Ordering::Relaxed);
        let mut calls = 0;
        if clear && spouts_active(w) {
            for s in &mut spouts {
                match s.turn(w, &mut outbox, &mut emitter, budget, max_pending, now) {
                    Ok(n) => calls += n,
                    Err(why) => s.restart(w, why),
                }
            }
        }
        let now = w.env.clock.now();
        if calls == 0 {
            outbox.flush_all(w);
        } else {
            outbox.flush_if_due(w, now);
        }
        for s in &mut spouts {
            s.publish(w);
        }
        outbox.publish_held(w);
        // After the counts: paused only when no call was made this turn for the pause.
        let held = u64::from(paused && calls == 0);
        for s in &spouts {
            w.counters.tasks[s.task as usize]
                .paused
                .store(held, Ordering::Release);
        }
        if calls == 0 {
            match inbox.recv_timeout(Duration::from_millis(1)) {
                Ok(msg) => handle_or_restart(&mut spouts, w, msg, w.env.clock.now()),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return Exit::Shutdown,
            }
        }
    }
    Exit::Shutdown
}

fn handle_or_restart(spouts: &mut [SpoutTask], w: &Wiring, msg: Msg, now: Instant) {
    if let Some((i, why)) = handle(spouts, w, msg, now) {
        spouts[i].restart(w, why);
    }
}

/// Hands a batch of outcomes to the spout task they belong to. Returns the task's
/// index and why, when the spout panicked in `ack` or `fail`.
pub(crate) fn handle(
    spouts: &mut [SpoutTask],
    w: &Wiring,
    msg: Msg,
    now: Instant,
) -> Option<(usize, String)> {
    if let Msg::Outcomes { task, outcomes } = msg
        && let Some(i) = spouts.iter().position(|s| s.task == task)
    {
        let s = &mut spouts[i];
        let result = catch_unwind(AssertUnwindSafe(|| {
            for (root, ok) in outcomes {
                s.handle_outcome(w, root, ok, now);
            }
        }));
        if let Err(payload) = result {
            return Some((i, supervisor::describe(payload.as_ref())));
        }
    }
    None
}
