//! One lab run's state and its scheduler: the threaded engine's executors (`exec`),
//! driven one event at a time on the caller's thread over plain queues and a virtual
//! clock.
//!
//! Rules:
//! - Every semantic decision is made by the shared executor code: routing, acking,
//!   timeouts, max spout pending, rates, faults, crashes and restarts. This module only
//!   chooses *which* executor acts next, and reads state between events for the trace.
//! - The choice is deterministic: candidates are listed in plan order and one is
//!   picked with the lab's own seeded generator, so a seed and the learner's actions
//!   fix the whole run.
//! - Virtual time moves by a fixed cost per event (plus any injected latency, which
//!   the shared code spends on the run's clock) and jumps to the next deadline when
//!   nothing can act. Nothing reads the wall clock.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::clock::{Clock, ManualClock, RunClock, Timer};
use crate::model::Topology;
use crate::runtime::acker::AckMsg;
use crate::runtime::components::{Collected, Env, factory_for};
use crate::runtime::error::RunError;
use crate::runtime::exec::{
    self, AckerExec, BoltExec, LabQueues, Msg, Outbox, SpoutExec, TICK_EVERY, Transport, Wiring,
};
use crate::runtime::log::{LogKind, RunLog};
use crate::runtime::options::RunOptions;
use crate::runtime::plan::{ExecutorKind, compile};
use crate::runtime::rng::{Rng, derive_seed};
use crate::runtime::supervisor::Backoff;

use super::trace::{Event, Fields, Id, Kind, Sent, TaskRef};

/// Purpose number of the lab scheduler's generator (see `derive_seed`).
const LAB_PICKS: u64 = 0x1ab;

/// The name ackers go by in traces and on the canvas (Storm's `__acker`).
pub const ACKER: &str = "__acker";

/// One executor's state for one life.
enum Exec {
    Spout(SpoutExec),
    Bolt(BoltExec),
    Acker(AckerExec),
}

impl Exec {
    fn outbox(&mut self) -> &mut Outbox {
        match self {
            Exec::Spout(e) => &mut e.outbox,
            Exec::Bolt(e) => &mut e.outbox,
            Exec::Acker(e) => &mut e.outbox,
        }
    }

    fn outbox_ref(&self) -> &Outbox {
        match self {
            Exec::Spout(e) => &e.outbox,
            Exec::Bolt(e) => &e.outbox,
            Exec::Acker(e) => &e.outbox,
        }
    }
}

/// An executor and what the scheduler knows about it.
struct Slot {
    /// `None` while its worker is dead.
    exec: Option<Exec>,
    /// Not stepped before this time: a crashed task's backoff, a dead worker's restart.
    down_until: Option<Instant>,
    next_rotate: Instant,
    /// The supervisor's backoff for restarting this executor after its worker died.
    backoff: Backoff,
    /// Per spout task of this executor: its last `next_tuple` emitted nothing, so it
    /// is not offered again until something changes for it (an outcome, a restart).
    idle: Vec<bool>,
}

/// What the scheduler may run next.
#[derive(Debug, Clone, Copy)]
enum Candidate {
    /// The oldest message on this executor's queue.
    Deliver(usize),
    /// `next_tuple` of spout task `.1` (index within executor `.0`).
    Call(usize, usize),
}

/// A lab run's whole state. Rebuilt from scratch (same topology, options and seed) to
/// step back: see `super::LabEngine::back`.
pub(super) struct World {
    pub(super) wiring: Arc<Wiring>,
    pub(super) collected: Arc<Collected>,
    clock: Arc<ManualClock>,
    pub(super) start: Instant,
    slots: Vec<Slot>,
    picks: Rng,
    next_tick: Instant,
    /// Per simulated worker: how often it was killed (the next life's number).
    kills: Vec<u64>,
    /// Steps taken so far.
    pub(super) steps: u64,
    event_cost: Duration,
    sampler: std::sync::Mutex<exec::Sampler>,
    queue_capacity: usize,
}

impl World {
    /// Builds a lab world for an admitted topology. `queue_capacity` is how many
    /// messages (here: single tuples or acks) each executor's queue holds.
    pub(super) fn build(
        topology: &Topology,
        options: &RunOptions,
        grant: crate::policy::Grant,
        queue_capacity: usize,
        event_cost: Duration,
    ) -> Result<World, RunError> {
        let start = Instant::now();
        let clock = Arc::new(ManualClock::new(0));
        let run_clock = RunClock::manual(start, clock.clone());
        let log = Arc::new(RunLog::new(run_clock.clone()));
        let plan = Arc::new(compile(topology)?);
        let collected = Arc::new(Collected::default());
        let env = Arc::new(Env {
            collected: collected.clone(),
            windows: crate::runtime::limits::Budget::windows(),
            state: crate::runtime::limits::Budget::state(),
            inputs: crate::runtime::limits::Budget::inputs(),
            clock: run_clock,
            txn: crate::runtime::txn::Coordinator::for_plan(&plan, &log),
            log,
            grant,
            stopping: Default::default(),
        });
        let factories = plan
            .nodes
            .iter()
            .map(|n| factory_for(&plan, n, &env, &options.overrides))
            .collect::<Result<Vec<_>, _>>()?;
        // One tuple per message: every delivery and every ack is its own event.
        let mut opts = options.clone();
        opts.batch_size = 1;
        let queues = LabQueues::new(plan.executors.len(), queue_capacity);
        let wiring = Arc::new(Wiring::new(
            plan.clone(),
            env,
            factories,
            &opts,
            Transport::Lab(queues),
        ));
        let timeout = wiring.timeout();
        let sampler = exec::Sampler::new(
            options.rate_window,
            start,
            plan.nodes.len(),
            plan.task_executor.len(),
            plan.edges.len(),
        );
        let mut world = World {
            sampler: std::sync::Mutex::new(sampler),
            queue_capacity,
            slots: Vec::with_capacity(plan.executors.len()),
            picks: Rng::new(derive_seed(options.seed, LAB_PICKS)),
            next_tick: start + TICK_EVERY,
            kills: vec![0; plan.workers as usize],
            steps: 0,
            event_cost,
            collected,
            clock,
            start,
            wiring,
        };
        for index in 0..plan.executors.len() {
            let exec = world.new_exec(index, 0, start);
            let idle = vec![false; spout_tasks(&exec)];
            world.slots.push(Slot {
                exec: Some(exec),
                down_until: None,
                next_rotate: start + timeout,
                backoff: Backoff::default(),
                idle,
            });
        }
        Ok(world)
    }

    fn new_exec(&self, index: usize, life: u64, now: Instant) -> Exec {
        let w = &*self.wiring;
        match w.plan.executors[index].kind {
            ExecutorKind::Node(n) if w.plan.nodes[n].is_spout() => {
                Exec::Spout(SpoutExec::new(w, index, n, life, now))
            }
            ExecutorKind::Node(n) => Exec::Bolt(BoltExec::new(w, index, n, life)),
            ExecutorKind::Acker(_) => Exec::Acker(AckerExec::new(w, index)),
        }
    }

    fn queues(&self) -> &LabQueues {
        match &self.wiring.transport {
            Transport::Lab(q) => q,
            // `build` always makes a lab transport.
            Transport::Channels(_) => unreachable!("a lab world runs on lab queues"),
        }
    }

    pub(super) fn now(&self) -> Instant {
        self.wiring.env.clock.now()
    }

    /// Virtual time since the run started, in microseconds.
    pub(super) fn t_us(&self) -> u64 {
        self.clock.now_us()
    }

    /// Messages waiting on executor `exec`'s queue.
    pub(super) fn queued(&self, exec: usize) -> usize {
        self.queues().len(exec)
    }

    /// Every queued message: (executor, message).
    pub(super) fn for_each_queued(&self, mut f: impl FnMut(usize, &Msg)) {
        self.queues().for_each(|exec, _, msg| f(exec, msg));
    }

    /// Every message parked in an outbox because its queue was full: (sending
    /// executor, receiving executor, message).
    pub(super) fn for_each_parked(&self, mut f: impl FnMut(usize, usize, &Msg)) {
        for (from, slot) in self.slots.iter().enumerate() {
            if let Some(exec) = &slot.exec {
                for (to, msg) in exec.outbox_ref().overflow() {
                    f(from, *to, msg);
                }
            }
        }
    }

    /// The XOR value acker `acker` (by number) holds for `root`.
    pub(super) fn ledger_value(&self, acker: usize, root: u64) -> Option<u64> {
        let exec = *self.wiring.plan.acker_executors.get(acker)?;
        match &self.slots.get(exec)?.exec {
            Some(Exec::Acker(a)) => a.ledger.value(root),
            _ => None,
        }
    }

    /// Node name and task of an executor, as traces name them.
    fn who(&self, exec: usize) -> (String, u32) {
        let plan = &self.wiring.plan;
        let ex = &plan.executors[exec];
        let node = match ex.kind {
            ExecutorKind::Node(n) => plan.nodes[n].node.name.clone(),
            ExecutorKind::Acker(_) => ACKER.to_string(),
        };
        (node, ex.tasks.start)
    }

    fn node_of_task(&self, task: u32) -> String {
        let plan = &self.wiring.plan;
        match plan.task_node.get(task as usize).copied().flatten() {
            Some(n) => plan.nodes[n].node.name.clone(),
            None => ACKER.to_string(),
        }
    }

    fn stream_name(&self, stream: u32) -> String {
        let plan = &self.wiring.plan;
        plan.streams
            .get(stream as usize)
            .map(|s| s.name.clone())
            .unwrap_or_default()
    }

    fn fields(&self, stream: u32, values: &crate::runtime::tuple::Values) -> Fields {
        let schema = self
            .wiring
            .schemas
            .get(stream as usize)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        Fields::named(schema, values)
    }

    /// Describes a queued message as the trace lists it.
    fn sent(&self, to_exec: usize, msg: &Msg) -> Vec<Sent> {
        let blank = |kind: &'static str, node: String, task: u32| Sent {
            kind,
            node,
            task,
            stream: None,
            root: None,
            edge: None,
            xor: None,
            ok: None,
            values: None,
            parked: false,
        };
        match msg {
            Msg::Tuples { task, tuples } => tuples
                .iter()
                .map(|t| {
                    let tracked = !t.ids.is_empty();
                    Sent {
                        stream: Some(self.stream_name(t.stream)),
                        root: tracked.then(|| Id(t.ids.root())),
                        edge: tracked.then(|| Id(t.ids.edge())),
                        values: Some(self.fields(t.stream, &t.values)),
                        ..blank("tuple", self.node_of_task(*task), *task)
                    }
                })
                .collect(),
            Msg::Acks(acks) => {
                let task = self.wiring.plan.executors[to_exec].tasks.start;
                acks.iter()
                    .map(|a| match *a {
                        AckMsg::Init { root, xor, .. } => Sent {
                            root: Some(Id(root)),
                            xor: Some(Id(xor)),
                            ..blank("init", ACKER.into(), task)
                        },
                        AckMsg::Ack { root, xor } => Sent {
                            root: Some(Id(root)),
                            xor: Some(Id(xor)),
                            ..blank("ack", ACKER.into(), task)
                        },
                        AckMsg::Fail { root } => Sent {
                            root: Some(Id(root)),
                            ..blank("fail", ACKER.into(), task)
                        },
                    })
                    .collect()
            }
            Msg::Outcomes { task, outcomes } => outcomes
                .iter()
                .map(|&(root, ok)| Sent {
                    root: Some(Id(root)),
                    ok: Some(ok),
                    ..blank("outcome", self.node_of_task(*task), *task)
                })
                .collect(),
        }
    }

    /// What reached queues at or after sequence number `from`.
    fn sent_since(&self, from: u64) -> Vec<Sent> {
        let mut out = Vec::new();
        self.queues()
            .since(from, |exec, msg| out.extend(self.sent(exec, msg)));
        out
    }

    /// How many messages executor `index` has parked now.
    fn parked_len(&self, index: usize) -> usize {
        self.slots[index]
            .exec
            .as_ref()
            .map_or(0, |e| e.outbox_ref().overflow().count())
    }

    /// What executor `index` parked beyond the first `before` messages: the part of
    /// a step's output that found its queue full.
    fn parked_since(&self, index: usize, before: usize) -> Vec<Sent> {
        let Some(exec) = &self.slots[index].exec else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (to, msg) in exec.outbox_ref().overflow().skip(before) {
            out.extend(
                self.sent(*to, msg)
                    .into_iter()
                    .map(|s| Sent { parked: true, ..s }),
            );
        }
        out
    }

    /// Takes one step; `None` when nothing can happen any more (every spout is done
    /// and nothing is in flight, or the run is stalled: paused, or waiting on nothing).
    pub(super) fn step(&mut self) -> Option<Event> {
        // Bounded: each turn either returns or moves virtual time to a later deadline,
        // and there are finitely many deadlines before every timer is idle.
        for _ in 0..1_000_000 {
            let now = self.now();
            if let Some(e) = self.fire_timers(now) {
                return Some(self.finish(e));
            }
            let mark = self.queues().next_seq();
            self.retry_parked();
            let moved = self.sent_since(mark);
            let candidates = self.candidates(now);
            if !candidates.is_empty() {
                let pick = candidates[self.picks.below(candidates.len())];
                let mut e = self.run(pick, now);
                e.moved = moved;
                return Some(self.finish(e));
            }
            // Nothing ready: give idle spouts one more chance (a spout may emit again
            // without an outcome), in task order.
            if let Some(e) = self.wake_idle_spout(now) {
                return Some(self.finish(e));
            }
            for slot in &mut self.slots {
                if let Some(Exec::Bolt(b)) = &mut slot.exec {
                    b.flush_bolts(&self.wiring);
                }
            }
            let next = self.next_deadline(now)?;
            let us = next.saturating_duration_since(self.start).as_micros();
            self.clock.set_us(u64::try_from(us).unwrap_or(u64::MAX));
        }
        None
    }

    /// Numbers the event, charges its cost in virtual time and publishes counters.
    fn finish(&mut self, mut e: Event) -> Event {
        self.steps += 1;
        e.step = self.steps;
        self.clock.spend(self.event_cost);
        for slot in &mut self.slots {
            if let Some(Exec::Spout(s)) = &mut slot.exec {
                for t in &mut s.spouts {
                    t.publish(&self.wiring);
                }
            }
            if let Some(exec) = &mut slot.exec {
                exec.outbox().publish_held(&self.wiring);
            }
        }
        e
    }

    /// Moves parked messages whose queue has room, in executor order (each threaded
    /// executor does this at the top of its loop).
    fn retry_parked(&mut self) {
        let w = &*self.wiring;
        for slot in &mut self.slots {
            if let Some(exec) = &mut slot.exec {
                exec.outbox().retry_overflow(w);
            }
        }
    }

    fn is_up(&self, index: usize, now: Instant) -> bool {
        let slot = &self.slots[index];
        slot.exec.is_some() && slot.down_until.is_none_or(|t| t <= now)
    }

    fn candidates(&mut self, now: Instant) -> Vec<Candidate> {
        let w = &*self.wiring;
        let active = exec::spouts_active(w);
        let mut out = Vec::new();
        for index in 0..self.slots.len() {
            if !self.is_up(index, now) {
                continue;
            }
            let queued = self.queued(index) > 0;
            let slot = &mut self.slots[index];
            match &mut slot.exec {
                // A bolt reads no input while its output is parked (backpressure).
                Some(Exec::Bolt(b)) if queued && b.outbox.overflow_is_empty() => {
                    out.push(Candidate::Deliver(index))
                }
                Some(Exec::Acker(_)) if queued => out.push(Candidate::Deliver(index)),
                Some(Exec::Spout(s)) => {
                    if queued {
                        // Outcomes first: a spout reads its queue before it emits.
                        out.push(Candidate::Deliver(index));
                    } else if active && s.outbox.overflow_is_empty() {
                        for (i, t) in s.spouts.iter().enumerate() {
                            let ready = t.pending.len() < s.max_pending
                                && t.ready_at(w, now) <= now
                                && !t.is_done();
                            if ready && !slot.idle[i] {
                                out.push(Candidate::Call(index, i));
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        out
    }

    fn run(&mut self, pick: Candidate, now: Instant) -> Event {
        match pick {
            Candidate::Deliver(index) => self.deliver(index, now),
            Candidate::Call(index, i) => self.call(index, i, now),
        }
    }

    /// Runs one `next_tuple` of spout task `i` of executor `index`.
    fn call(&mut self, index: usize, i: usize, now: Instant) -> Event {
        let w = self.wiring.clone();
        let (node, _) = self.who(index);
        let t_us = self.t_us();
        let mark = self.queues().next_seq();
        let parked = self.parked_len(index);
        let slot = &mut self.slots[index];
        let Some(Exec::Spout(s)) = &mut slot.exec else {
            return Event::new(0, t_us, Kind::NextTuple, &node, 0);
        };
        let task = s.spouts[i].task;
        let mut e = Event::new(0, t_us, Kind::NextTuple, &node, task);
        let max_pending = s.max_pending;
        let turn = s.spouts[i].turn(&w, &mut s.outbox, &mut s.emitter, 1, max_pending, now);
        match turn {
            Ok(0) => slot.idle[i] = true,
            Ok(_) => {}
            Err(why) => {
                let delay = s.spouts[i].note_crash(&w, &why);
                s.spouts[i].rebuild(&w);
                slot.down_until = Some(now + delay);
                e.note = Some(format!("crashed ({why})"));
                e.ok = Some(false);
            }
        }
        s.outbox.flush_all(&w);
        e.emits = self.sent_since(mark);
        e.emits.extend(self.parked_since(index, parked));
        e.root = e
            .emits
            .iter()
            .find(|s| s.kind == "init")
            .and_then(|s| s.root);
        if let (Some(root), Some(Exec::Spout(s))) = (e.root, &self.slots[index].exec) {
            e.msg_id = s.spouts[i].msg_id_of(root.0);
        }
        e
    }

    /// Delivers the oldest message on executor `index`'s queue.
    fn deliver(&mut self, index: usize, now: Instant) -> Event {
        let w = self.wiring.clone();
        let (node, first_task) = self.who(index);
        let t_us = self.t_us();
        let Some((_, msg)) = self.queues().pop(index) else {
            return Event::new(0, t_us, Kind::Deliver, &node, first_task);
        };
        let mark = self.queues().next_seq();
        let parked = self.parked_len(index);
        let mut e = match msg {
            Msg::Tuples { task, tuples } => {
                let mut e = Event::new(0, t_us, Kind::Deliver, &node, task);
                if let Some(t) = tuples.first() {
                    e.from = Some(TaskRef {
                        node: self.node_of_task(t.source_task),
                        task: t.source_task,
                    });
                    e.stream = Some(self.stream_name(t.stream));
                    if !t.ids.is_empty() {
                        e.root = Some(Id(t.ids.root()));
                        e.edge = Some(Id(t.ids.edge()));
                    }
                    e.values = Some(self.fields(t.stream, &t.values));
                }
                let failed_before = task_failed(&w, task);
                let slot = &mut self.slots[index];
                if let Some(Exec::Bolt(b)) = &mut slot.exec {
                    let ExecutorKind::Node(node_index) = w.plan.executors[index].kind else {
                        return e;
                    };
                    if let Some((i, why)) = b.execute_batch(&w, index, node_index, task, tuples)
                        && let Some(Some(bt)) = b.bolts.get_mut(i)
                    {
                        let delay = bt.note_crash(&w, &why);
                        bt.rebuild(&w);
                        slot.down_until = Some(now + delay);
                        e.note = Some(format!("crashed ({why})"));
                    }
                    b.outbox.flush_all(&w);
                }
                e.ok = Some(e.note.is_none() && task_failed(&w, task) == failed_before);
                e
            }
            Msg::Acks(acks) => {
                let mut e = Event::new(0, t_us, Kind::Ack, &node, first_task);
                let root = acks.first().map(|a| match *a {
                    AckMsg::Init { root, xor, .. } => {
                        e.msg = Some("init");
                        e.xor = Some(Id(xor));
                        root
                    }
                    AckMsg::Ack { root, xor } => {
                        e.msg = Some("ack");
                        e.xor = Some(Id(xor));
                        root
                    }
                    AckMsg::Fail { root } => {
                        e.msg = Some("fail");
                        root
                    }
                });
                e.root = root.map(Id);
                if let Some(Exec::Acker(a)) = &mut self.slots[index].exec {
                    a.on_acks(&w, acks);
                    e.ledger = root.map(|r| Id(a.ledger.value(r).unwrap_or(0)));
                    a.outbox.flush_all(&w);
                }
                e
            }
            Msg::Outcomes { task, outcomes } => {
                let mut e = Event::new(0, t_us, Kind::Outcome, &node, task);
                if let Some(&(root, ok)) = outcomes.first() {
                    e.root = Some(Id(root));
                    e.ok = Some(ok);
                }
                let slot = &mut self.slots[index];
                if let Some(Exec::Spout(s)) = &mut slot.exec {
                    if let Some(i) = s.spouts.iter().position(|t| t.task == task) {
                        // An outcome may make a finished spout replay: offer it again.
                        slot.idle[i] = false;
                        e.msg_id = e.root.and_then(|r| s.spouts[i].msg_id_of(r.0));
                    }
                    let msg = Msg::Outcomes { task, outcomes };
                    if let Some((i, why)) = exec::deliver_outcomes(&mut s.spouts, &w, msg, now) {
                        let delay = s.spouts[i].note_crash(&w, &why);
                        s.spouts[i].rebuild(&w);
                        slot.down_until = Some(now + delay);
                        e.note = Some(format!("crashed ({why})"));
                    }
                    s.outbox.flush_all(&w);
                }
                e
            }
        };
        e.emits = self.sent_since(mark);
        e.emits.extend(self.parked_since(index, parked));
        if e.kind == Kind::Ack {
            e.ok = e
                .emits
                .iter()
                .find(|s| s.kind == "outcome")
                .and_then(|s| s.ok);
        }
        e
    }

    /// Fires the earliest due timer that makes an event: an executor coming back, a
    /// spout timeout that expired trees, a window that emitted. Timers that change
    /// nothing visible (an acker's silent rotation, a tick that emitted nothing) run
    /// without making a step.
    fn fire_timers(&mut self, now: Instant) -> Option<Event> {
        let w = self.wiring.clone();
        let t_us = self.t_us();
        // Executors coming back, in plan order.
        for index in 0..self.slots.len() {
            let slot = &mut self.slots[index];
            if slot.down_until.is_some_and(|t| t <= now) {
                slot.down_until = None;
                let (node, task) = self.who(index);
                let mut e = Event::new(0, t_us, Kind::Restart, &node, task);
                if self.slots[index].exec.is_none() {
                    let worker = w.plan.executors[index].worker as usize;
                    let life = self.kills.get(worker).copied().unwrap_or(0);
                    let exec = self.new_exec(index, life, now);
                    let slot = &mut self.slots[index];
                    slot.idle = vec![false; spout_tasks(&exec)];
                    slot.exec = Some(exec);
                    slot.next_rotate = now + w.timeout();
                    e.note = Some(format!("worker {worker} restarted this executor"));
                } else {
                    e.note = Some("back after a crash".into());
                }
                return Some(e);
            }
        }
        // Timeouts: spouts expire their pending trees, ackers forget theirs.
        for index in 0..self.slots.len() {
            let due = self.slots[index].next_rotate <= now;
            if !due || !self.is_up(index, now) {
                continue;
            }
            let slot = &mut self.slots[index];
            slot.next_rotate = now + w.timeout();
            match &mut slot.exec {
                Some(Exec::Spout(s)) => {
                    let mut expired = Vec::new();
                    for (i, t) in s.spouts.iter_mut().enumerate() {
                        let gone = t.rotate();
                        if !gone.is_empty() {
                            slot.idle[i] = false;
                        }
                        expired.extend(gone.iter().map(|p| (t.task, p.root)));
                    }
                    if let Some(&(task, _)) = expired.first() {
                        let (node, _) = self.who(index);
                        let mut e = Event::new(0, t_us, Kind::Timeout, &node, task);
                        e.roots = expired.iter().map(|&(_, r)| Id(r)).collect();
                        return Some(e);
                    }
                }
                Some(Exec::Acker(a)) => {
                    a.ledger.rotate();
                }
                _ => {}
            }
        }
        // Time-driven bolts (windows).
        if self.next_tick <= now {
            self.next_tick = now + TICK_EVERY;
            for index in 0..self.slots.len() {
                if !self.is_up(index, now) {
                    continue;
                }
                let mark = self.queues().next_seq();
                let parked = self.parked_len(index);
                if let Some(Exec::Bolt(b)) = &mut self.slots[index].exec {
                    // The lab steps no component that crashes on a tick (no shell
                    // bolts), so a crash here would be a bug already logged by its
                    // panic; the tick's output is simply lost, as in a threaded run.
                    let _crashed = b.tick_all(&w, now);
                    b.outbox.flush_all(&w);
                }
                let mut emits = self.sent_since(mark);
                emits.extend(self.parked_since(index, parked));
                if !emits.is_empty() {
                    let (node, task) = self.who(index);
                    let mut e = Event::new(0, t_us, Kind::Window, &node, task);
                    e.emits = emits;
                    return Some(e);
                }
            }
        }
        None
    }

    /// Offers `next_tuple` once to the first idle spout task that may emit; the
    /// event is returned only if it emitted (or crashed).
    fn wake_idle_spout(&mut self, now: Instant) -> Option<Event> {
        if !exec::spouts_active(&self.wiring) {
            return None;
        }
        for index in 0..self.slots.len() {
            if !self.is_up(index, now) || self.queued(index) > 0 {
                continue;
            }
            let Some(Exec::Spout(s)) = &self.slots[index].exec else {
                continue;
            };
            let tasks: Vec<usize> = (0..s.spouts.len())
                .filter(|&i| {
                    let t = &s.spouts[i];
                    self.slots[index].idle[i]
                        && t.pending.len() < s.max_pending
                        && t.ready_at(&self.wiring, now) <= now
                        && !t.is_done()
                })
                .collect();
            for i in tasks {
                let e = self.call(index, i, now);
                if !e.emits.is_empty() || e.note.is_some() {
                    self.slots[index].idle[i] = false;
                    return Some(e);
                }
            }
        }
        None
    }

    /// The earliest time something can happen without an event first: a restart, a
    /// timeout with trees pending, a window tick, a rate-limited spout's next token.
    /// `None` when nothing is waiting on time.
    fn next_deadline(&self, now: Instant) -> Option<Instant> {
        let w = &*self.wiring;
        let mut next: Option<Instant> = None;
        let mut consider = |t: Instant| {
            let t = t.max(now + Duration::from_micros(1));
            next = Some(next.map_or(t, |n| n.min(t)));
        };
        let mut windows = false;
        for (index, slot) in self.slots.iter().enumerate() {
            if let Some(t) = slot.down_until {
                consider(t);
                continue;
            }
            match &slot.exec {
                Some(Exec::Spout(s)) => {
                    let pending = s.spouts.iter().any(|t| !t.pending.is_empty());
                    if pending {
                        consider(slot.next_rotate);
                    }
                    if exec::spouts_active(w) && s.outbox.overflow_is_empty() {
                        for (i, t) in s.spouts.iter().enumerate() {
                            let can =
                                !slot.idle[i] && !t.is_done() && t.pending.len() < s.max_pending;
                            if can {
                                consider(t.ready_at(w, now));
                            }
                        }
                    }
                }
                Some(Exec::Acker(a)) if !a.ledger.is_empty() => consider(slot.next_rotate),
                Some(Exec::Bolt(_)) => {
                    if let ExecutorKind::Node(n) = w.plan.executors[index].kind {
                        windows |= is_time_driven(&w.plan.nodes[n].node.component);
                    }
                }
                _ => {}
            }
        }
        if windows {
            consider(self.next_tick);
        }
        next
    }

    /// Kills simulated worker `worker`: each of its executors loses its state and
    /// queued input now and comes back after the supervisor's backoff.
    pub(super) fn kill_worker(&mut self, worker: u32, e: &mut Event) -> bool {
        let w = self.wiring.clone();
        let Some(kills) = self.kills.get_mut(worker as usize) else {
            let last = w.plan.workers.saturating_sub(1);
            let note = format!("kill worker {worker} refused: this run has workers 0 to {last}");
            w.env.log.push("engine", 0, LogKind::Error, note.clone());
            e.note = Some(note);
            return false;
        };
        *kills += 1;
        let now = self.now();
        let mut restarted = 0;
        for index in 0..self.slots.len() {
            if w.plan.executors[index].worker != worker {
                continue;
            }
            restarted += 1;
            // A dead worker's state and buffers are lost, unflushed.
            if let Some(mut exec) = self.slots[index].exec.take() {
                let outbox = std::mem::replace(exec.outbox(), Outbox::new(&w, index));
                outbox.discard(&w);
            }
            let lost: Vec<Msg> = self
                .queues()
                .drain(index)
                .into_iter()
                .map(|(_, m)| m)
                .collect();
            exec::after_kill(&w, index, lost.into_iter());
            let slot = &mut self.slots[index];
            let delay = slot.backoff.next_delay(now);
            slot.down_until = Some(now + delay);
        }
        let note = format!("worker {worker} killed: {restarted} executors restarted");
        w.env.log.push("engine", 0, LogKind::Event, note.clone());
        e.note = Some(note);
        true
    }

    /// The run's numbers at virtual time (rates per virtual second).
    pub(super) fn snapshot(&self) -> crate::runtime::metrics::MetricsSnapshot {
        let queued = |exec: usize| self.queued(exec);
        let mut sampler = self.sampler.lock().unwrap_or_else(|p| p.into_inner());
        sampler.snapshot(
            &self.wiring,
            &queued,
            self.queue_capacity,
            self.start,
            self.now(),
        )
    }

    /// True when every spout is done and nothing is pending or queued.
    pub(super) fn is_finished(&self) -> bool {
        let idle_queues = (0..self.slots.len()).all(|i| self.queued(i) == 0);
        let spouts_done = self.slots.iter().all(|slot| match &slot.exec {
            Some(Exec::Spout(s)) => s.spouts.iter().all(|t| t.is_done() && t.pending.is_empty()),
            _ => true,
        });
        idle_queues && spouts_done
    }

    /// Flushes every bolt (file sinks write their buffers), as a stopping run does.
    pub(super) fn flush(&mut self) {
        for slot in &mut self.slots {
            if let Some(Exec::Bolt(b)) = &mut slot.exec {
                b.flush_bolts(&self.wiring);
            }
        }
    }

    /// The spout task's pending message id for `root`, by task id.
    pub(super) fn pending_msg_id(&self, task: u32, root: u64) -> Option<u64> {
        let exec = *self.wiring.plan.task_executor.get(task as usize)?;
        match &self.slots.get(exec)?.exec {
            Some(Exec::Spout(s)) => s
                .spouts
                .iter()
                .find(|t| t.task == task)
                .and_then(|t| t.msg_id_of(root)),
            _ => None,
        }
    }
}

fn spout_tasks(exec: &Exec) -> usize {
    match exec {
        Exec::Spout(s) => s.spouts.len(),
        _ => 0,
    }
}

fn task_failed(w: &Wiring, task: u32) -> u64 {
    w.counters
        .tasks
        .get(task as usize)
        .map_or(0, |c| crate::runtime::metrics::get(&c.failed))
}

fn is_time_driven(component: &str) -> bool {
    crate::runtime::components::ticks(component)
}
