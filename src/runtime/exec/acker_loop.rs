//! The acker executor: applies ack messages to its ledger and reports completed or
//! failed trees to the spout task that owns them. It always keeps reading, so the
//! spout → bolt → acker → spout cycle can always make progress.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, TryRecvError};

use super::{Exit, Life, Msg, Outbox, Wiring};
use crate::runtime::acker::{AckMsg, Ledger};
use crate::runtime::metrics::add;

/// One acker's state for one life. The threaded loop below and the lab's scheduler
/// both drive it.
pub(crate) struct AckerExec {
    pub(crate) ledger: Ledger,
    pub(crate) outbox: Outbox,
    pub(crate) task: u32,
}

impl AckerExec {
    pub(crate) fn new(w: &Wiring, me: usize) -> AckerExec {
        AckerExec {
            ledger: Ledger::default(),
            outbox: Outbox::new(w, me),
            task: w.plan.executors[me].tasks.start,
        }
    }

    /// Applies a batch of ack messages and queues the outcomes of the trees they
    /// finished for the spout tasks that own them.
    #[inline]
    pub(crate) fn on_acks(&mut self, w: &Wiring, acks: Vec<AckMsg>) {
        let started = Instant::now();
        let n = acks.len() as u64;
        let every = w.tracer.every();
        for a in acks {
            if let Some(o) = self.ledger.apply(a) {
                self.outbox.push_outcome(w, o.spout_task, o.root, o.ok);
                if super::tracer::samples(o.root, every) {
                    w.tracer.done(o.root, o.ok, w.run_clock());
                }
            }
        }
        let c = &w.counters.tasks[self.task as usize];
        add(&c.executed, n);
        add(&c.busy_ns, started.elapsed().as_nanos() as u64);
        c.pending.store(self.ledger.len() as u64, Ordering::Relaxed);
    }
}

/// Runs one life of the acker; its ledger dies with it when its worker is killed.
pub(crate) fn run(w: &Wiring, me: usize, inbox: &Receiver<Msg>, life: &Life) -> Exit {
    let mut ex = AckerExec::new(w, me);
    let timeout = w.timeout();
    let mut next_rotate = w.env.clock.now() + timeout;
    while !w.switches.shutdown.load(Ordering::Relaxed) {
        if life.killed() {
            ex.outbox.discard(w);
            return Exit::Killed;
        }
        ex.outbox.retry_overflow(w);
        let msg = match inbox.try_recv() {
            Ok(m) => Some(m),
            Err(TryRecvError::Empty) => {
                ex.outbox.flush_all(w);
                match inbox.recv_timeout(Duration::from_millis(5)) {
                    Ok(m) => Some(m),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => return Exit::Shutdown,
                }
            }
            Err(TryRecvError::Disconnected) => return Exit::Shutdown,
        };
        if let Some(Msg::Acks(acks)) = msg {
            ex.on_acks(w, acks);
            ex.outbox.flush_if_due(w, Instant::now());
        }
        let now = w.env.clock.now();
        if now >= next_rotate {
            next_rotate = now + timeout;
            ex.ledger.rotate();
        }
    }
    Exit::Shutdown
}
