//! Receivers: each spout task runs on its own thread (as a Spark receiver occupies a
//! core) and appends what it emits to its own buffer, stamped with the arrival time.
//! The scheduler later cuts every buffer at a batch boundary; because records carry
//! their stamp, which batch a record belongs to never depends on when the cut happens.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::super::components::{Behaviour, Emitter, Spout, TaskInfo};
use super::super::log::LogKind;
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

/// Most `next_tuple` calls between two looks at the switches.
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
    /// Times the receiver waited because its buffer was full.
    pub throttled: AtomicU64,
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

    /// Takes every record stamped at or before `until_us`, oldest first. Stamps only grow
    /// within one buffer (they are taken under its lock), so this is a split, not a scan.
    pub fn cut(&self, until_us: u64) -> Vec<Record> {
        let mut buffer = self.lock();
        let keep_from = buffer.partition_point(|r| r.at_us <= until_us);
        let rest = buffer.split_off(keep_from);
        std::mem::replace(&mut *buffer, rest)
    }

    /// Appends records, stamping them with `now()` read under the lock, so a cut never
    /// misses a record stamped before it.
    fn push(&self, items: impl Iterator<Item = (u32, Values)>, now: impl Fn() -> u64) {
        let mut buffer = self.lock();
        let at_us = now();
        buffer.extend(items.map(|(stream, values)| Record {
            at_us,
            stream,
            values,
        }));
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

/// Token bucket over real time (rates are a property of the source, not of the batch
/// clock).
struct Rate {
    tokens: f64,
    last: Instant,
}

impl Rate {
    fn allowance(&mut self, per_sec: f64) -> usize {
        let now = Instant::now();
        if per_sec <= 0.0 {
            self.last = now;
            self.tokens = 1.0;
            return usize::MAX;
        }
        let dt = now.duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + per_sec * dt).min((per_sec * 0.05).max(1.0));
        self.tokens.floor() as usize
    }

    fn spend(&mut self, n: usize) {
        self.tokens = (self.tokens - n as f64).max(0.0);
    }
}

/// The receiver thread's loop for receiver `index`.
pub(crate) fn run(shared: Arc<Shared>, index: usize, info: TaskInfo) {
    let me = &shared.receivers[index];
    let node = me.node;
    let outputs = shared.plan.nodes[node].outputs.clone();
    let configured =
        super::super::components::Config::new(&shared.plan.nodes[node]).float("rate_per_sec", 0.0);
    let mut spout = build(&shared, node, &info);
    let mut rate = Rate {
        tokens: 1.0,
        last: Instant::now(),
    };
    let mut emitter = Emitter::default();
    let switches = &shared.switches;
    loop {
        if switches.shutdown.load(Ordering::Relaxed) {
            return;
        }
        if switches.deactivated.load(Ordering::Relaxed) {
            me.idle.store(true, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(2));
            continue;
        }
        let Some(s) = spout.as_mut() else {
            me.done.store(true, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(5));
            continue;
        };
        if switches.paused.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(2));
            continue;
        }
        if me.buffered() >= shared.max_buffered {
            me.throttled.fetch_add(1, Ordering::Relaxed);
            std::thread::sleep(Duration::from_millis(1));
            continue;
        }
        let node_switches = &shared.node_switches[node];
        let per_sec = node_switches.rate().unwrap_or(configured);
        let calls = rate.allowance(per_sec).min(CALLS_PER_ROUND);
        let faults = node_switches
            .faults_active()
            .then(|| node_switches.faults());
        let mut made = 0;
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            for _ in 0..calls {
                if let Some(f) = &faults
                    && !f.added_latency.is_zero()
                {
                    shared.timer.spend(f.added_latency);
                }
                if !s.next_tuple(&mut emitter) {
                    break;
                }
                made += 1;
            }
        }));
        rate.spend(made);
        if let Err(payload) = outcome {
            emitter.items.clear();
            me.restarts.fetch_add(1, Ordering::Relaxed);
            shared.env.log.push(
                &info.node,
                info.task,
                LogKind::Error,
                format!(
                    "receiver crashed: {}; restarting",
                    supervisor::describe(payload.as_ref())
                ),
            );
            spout = build(&shared, node, &info);
            continue;
        }
        let n = emitter.items.len();
        if n > 0 {
            let items = emitter.items.drain(..).filter_map(|e| {
                outputs
                    .get(e.stream)
                    .map(|&global| (global as u32, e.values))
            });
            me.push(items, || shared.timer.now_us());
            me.emitted.fetch_add(n as u64, Ordering::Relaxed);
        } else {
            if s.is_done() {
                me.done.store(true, Ordering::SeqCst);
            }
            std::thread::sleep(Duration::from_millis(if calls == 0 { 1 } else { 2 }));
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
        for at in [1u64, 999_999, 1_000_000, 1_000_001] {
            r.push(
                std::iter::once((0, Values::One(Val::Int(at as i64)))),
                || at,
            );
        }
        let first: Vec<u64> = r.cut(1_000_000).iter().map(|x| x.at_us).collect();
        assert_eq!(first, [1, 999_999, 1_000_000]);
        assert_eq!(r.buffered(), 1);
        assert!(r.cut(1_000_000).is_empty());
        assert_eq!(r.cut(2_000_000).len(), 1);
    }
}
