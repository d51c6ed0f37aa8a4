//! The acker executor: applies ack messages to its ledger and reports completed or
//! failed trees to the spout task that owns them. It always keeps reading, so the
//! spout → bolt → acker → spout cycle can always make progress.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, TryRecvError};

use super::{Exit, Life, Msg, Outbox, Wiring};
use crate::runtime::acker::Ledger;
use crate::runtime::metrics::add;

/// Runs one life of the acker; its ledger dies with it when its worker is killed.
pub(crate) fn run(w: &Wiring, me: usize, inbox: &Receiver<Msg>, life: &Life) -> Exit {
    let mut ledger = Ledger::default();
    let mut outbox = Outbox::new(w, me);
    let task = w.plan.executors[me].tasks.start;
    let timeout = w.timeout();
    let mut next_rotate = w.env.clock.now() + timeout;
    while !w.switches.shutdown.load(Ordering::Relaxed) {
        if life.killed() {
            outbox.discard(w);
            return Exit::Killed;
        }
        outbox.retry_overflow(w);
        let msg = match inbox.try_recv() {
            Ok(m) => Some(m),
            Err(TryRecvError::Empty) => {
                outbox.flush_all(w);
                match inbox.recv_timeout(Duration::from_millis(5)) {
                    Ok(m) => Some(m),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => return Exit::Shutdown,
                }
            }
            Err(TryRecvError::Disconnected) => return Exit::Shutdown,
        };
        if let Some(Msg::Acks(acks)) = msg {
            let started = Instant::now();
            let n = acks.len() as u64;
            for a in acks {
                if let Some(o) = ledger.apply(a) {
                    outbox.push_outcome(w, o.spout_task, o.root, o.ok);
                }
            }
            let c = &w.counters.tasks[task as usize];
            add(&c.executed, n);
            add(&c.busy_ns, started.elapsed().as_nanos() as u64);
            c.pending.store(ledger.len() as u64, Ordering::Relaxed);
            outbox.flush_if_due(w, Instant::now());
        }
        let now = w.env.clock.now();
        if now >= next_rotate {
            next_rotate = now + timeout;
            ledger.rotate();
        }
    }
    Exit::Shutdown
}
