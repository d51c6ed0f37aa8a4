//! The bolt executor: takes batches from its queue, runs each tuple through its task's
//! bolt with BasicBolt semantics (emits anchored to the input; ack on success, fail on
//! error), applies injected faults, and restarts a task that panics.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, TryRecvError};

use super::super::components::{Behaviour, Bolt, Emitter};
use super::super::log::LogKind;
use super::super::metrics::add;
use super::super::supervisor::{self, Backoff};
use super::super::tuple::Tuple;
use super::route::{Anchor, TaskOut, complete_input, task_info};
use super::{Msg, Outbox, Wiring};

struct BoltTask {
    node: usize,
    task: u32,
    bolt: Box<dyn Bolt>,
    out: TaskOut,
    backoff: Backoff,
    executed: u64,
    acked: u64,
    failed: u64,
    reported_route_error: bool,
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

impl BoltTask {
    #[inline]
    fn execute_one(&mut self, w: &Wiring, outbox: &mut Outbox, emitter: &mut Emitter, t: &Tuple) {
        let switches = &w.node_switches[self.node];
        let mut forced_fail = false;
        if switches.faults_active() {
            let f = switches.faults();
            if !f.added_latency.is_zero() {
                std::thread::sleep(f.added_latency);
            }
            if f.crash_probability > 0.0 && self.out.rng.unit() < f.crash_probability {
                supervisor::crash();
            }
            forced_fail = f.fail_probability > 0.0 && self.out.rng.unit() < f.fail_probability;
        }
        let mut result = if forced_fail {
            Err(super::super::components::Failed("injected failure".into()))
        } else {
            self.bolt.execute(t, emitter)
        };
        let mut ack_val = 0u64;
        self.out.emitted += std::mem::take(&mut emitter.discarded);
        for em in emitter.items.drain(..) {
            let anchor = Anchor::Input {
                ids: &t.ids,
                ack_val: &mut ack_val,
            };
            if let Err(e) = self.out.dispatch(w, outbox, em, anchor) {
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
                result = Err(super::super::components::Failed(e.to_string()));
            }
        }
        self.executed += 1;
        let ok = result.is_ok();
        if ok {
            self.acked += 1;
        } else {
            self.failed += 1;
        }
        complete_input(w, outbox, &t.ids, ack_val, ok);
    }

    fn publish(&mut self, w: &Wiring, busy_ns: u64, batch: u64) {
        self.out.publish(w);
        let c = &w.counters.tasks[self.task as usize];
        add(&c.executed, std::mem::take(&mut self.executed));
        add(&c.acked, std::mem::take(&mut self.acked));
        add(&c.failed, std::mem::take(&mut self.failed));
        add(&c.busy_ns, busy_ns);
        if let Some(per_tuple) = busy_ns.checked_div(batch) {
            c.execute_latency.record_n(per_tuple, batch);
        }
    }

    fn restart(&mut self, w: &Wiring, why: String) {
        let c = &w.counters.tasks[self.task as usize];
        let n = c.restarts.fetch_add(1, Ordering::Relaxed) + 1;
        let name = &w.plan.nodes[self.node].node.name;
        w.env.log.push(
            name,
            self.task,
            LogKind::Event,
            format!("task {} crashed ({why}); restart #{n}", self.task),
        );
        let delay = self.backoff.next_delay(Instant::now());
        supervisor::sleep_unless(delay, || w.switches.shutdown.load(Ordering::Relaxed));
        if let Some(b) = build(w, self.node, self.task) {
            self.bolt = b;
        }
    }
}

pub fn run(w: &Wiring, me: usize, node: usize, inbox: &Receiver<Msg>) {
    let tasks = w.plan.executors[me].tasks.clone();
    let first = tasks.start;
    let mut bolts: Vec<Option<BoltTask>> = tasks
        .map(|task| {
            Some(BoltTask {
                node,
                task,
                bolt: build(w, node, task)?,
                out: TaskOut::new(w, node, task),
                backoff: Backoff::default(),
                executed: 0,
                acked: 0,
                failed: 0,
                reported_route_error: false,
            })
        })
        .collect();
    let mut outbox = Outbox::new(w, me);
    let mut emitter = Emitter {
        live: w.plan.nodes[node]
            .outputs
            .iter()
            .map(|&s| !w.plan.streams[s].edges.is_empty())
            .collect(),
        ..Emitter::default()
    };
    let tick_every = Duration::from_millis(5);
    let mut next_tick = Instant::now() + tick_every;

    while !w.switches.shutdown.load(Ordering::Relaxed) {
        if !outbox.overflow_is_empty() && !outbox.retry_overflow(w) {
            // Downstream is full: stop reading input until it drains (backpressure).
            outbox.publish_held(w);
            outbox.wait_overflow(w, Duration::from_millis(1));
            continue;
        }
        let msg = match inbox.try_recv() {
            Ok(msg) => Some(msg),
            Err(TryRecvError::Empty) => {
                outbox.flush_all(w);
                for b in bolts.iter_mut().flatten() {
                    b.bolt.flush();
                }
                outbox.publish_held(w);
                match inbox.recv_timeout(tick_every) {
                    Ok(msg) => Some(msg),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => break,
                }
            }
            Err(TryRecvError::Disconnected) => break,
        };
        if let Some(Msg::Tuples { task, tuples }) = msg {
            let Some(Some(b)) = bolts.get_mut((task - first) as usize) else {
                continue;
            };
            let total = tuples.len() as u64;
            let started = Instant::now();
            let mut done = 0u64;
            let result = catch_unwind(AssertUnwindSafe(|| {
                let faults = w.node_switches[node].faults_active();
                for t in &tuples {
                    if faults && w.switches.shutdown.load(Ordering::Relaxed) {
                        break;
                    }
                    b.execute_one(w, &mut outbox, &mut emitter, t);
                    done += 1;
                }
            }));
            let busy = started.elapsed().as_nanos() as u64;
            b.publish(w, busy, done);
            if let Err(payload) = result {
                emitter.items.clear();
                // The crashing tuple and the rest of the batch are lost; their trees
                // time out and are replayed.
                let lost = total - done;
                add(&w.counters.tasks[b.task as usize].dropped, lost);
                b.restart(w, supervisor::describe(payload.as_ref()));
            }
            w.recycle_batch(me, tuples);
            outbox.flush_if_due(w, Instant::now());
        }
        let now = Instant::now();
        if now >= next_tick {
            next_tick = now + tick_every;
            for b in bolts.iter_mut().flatten() {
                let r = catch_unwind(AssertUnwindSafe(|| b.bolt.tick(now, &mut emitter)));
                if r.is_err() {
                    emitter.items.clear();
                    continue;
                }
                for em in emitter.items.drain(..) {
                    let _ = b.out.dispatch(w, &mut outbox, em, Anchor::None);
                }
                b.out.publish(w);
            }
            outbox.publish_held(w);
        }
    }
    for b in bolts.iter_mut().flatten() {
        b.bolt.flush();
    }
}
