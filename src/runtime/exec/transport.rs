//! How an outbox's batches reach another executor: bounded crossbeam channels when each
//! executor has its own thread, or plain queues one thread steps through (the lab).
//!
//! Both refuse a message when the destination holds `capacity` of them, so the
//! overflow and backpressure rules of [`super::Outbox`] run unchanged in either. The
//! match costs once per *batch*, never per tuple.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use crossbeam_channel::{SendTimeoutError, Sender, TrySendError};

use super::Msg;

/// Why a send did not land.
pub(crate) enum Refused {
    /// The destination is full: park the message and retry.
    Full(Msg),
    /// The destination is gone (the engine is stopping): drop the message.
    Gone,
}

pub enum Transport {
    /// One bounded channel per executor.
    Channels(Vec<Sender<Msg>>),
    /// Queues a single stepping thread delivers from (see [`LabQueues`]).
    Lab(LabQueues),
}

impl Transport {
    #[inline]
    pub(crate) fn try_send(&self, exec: usize, msg: Msg) -> Result<(), Refused> {
        match self {
            Transport::Channels(senders) => match senders[exec].try_send(msg) {
                Ok(()) => Ok(()),
                Err(TrySendError::Full(msg)) => Err(Refused::Full(msg)),
                Err(TrySendError::Disconnected(_)) => Err(Refused::Gone),
            },
            Transport::Lab(queues) => queues.push(exec, msg),
        }
    }

    /// Like `try_send`, but a channel may wait up to `limit` for room. Lab queues never
    /// wait: room only appears when the stepping thread delivers, which it cannot do
    /// while it waits here.
    pub(crate) fn send_timeout(
        &self,
        exec: usize,
        msg: Msg,
        limit: Duration,
    ) -> Result<(), Refused> {
        match self {
            Transport::Channels(senders) => match senders[exec].send_timeout(msg, limit) {
                Ok(()) => Ok(()),
                Err(SendTimeoutError::Timeout(msg)) => Err(Refused::Full(msg)),
                Err(SendTimeoutError::Disconnected(_)) => Err(Refused::Gone),
            },
            Transport::Lab(queues) => queues.push(exec, msg),
        }
    }
}

/// One FIFO per executor, each holding at most `capacity` messages, with a run-wide
/// sequence number per message so the stepping thread can tell which messages one
/// event produced. Behind a mutex only so the wiring stays `Sync`; one thread uses it.
pub struct LabQueues {
    inner: Mutex<LabInner>,
}

#[derive(Default)]
struct LabInner {
    queues: Vec<VecDeque<(u64, Msg)>>,
    capacity: usize,
    next_seq: u64,
}

impl LabQueues {
    pub fn new(executors: usize, capacity: usize) -> Self {
        Self {
            inner: Mutex::new(LabInner {
                queues: (0..executors).map(|_| VecDeque::new()).collect(),
                capacity: capacity.max(1),
                next_seq: 0,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LabInner> {
        // A panic while holding it leaves only queue contents, which stay consistent.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn push(&self, exec: usize, msg: Msg) -> Result<(), Refused> {
        let mut inner = self.lock();
        let capacity = inner.capacity;
        let seq = inner.next_seq;
        let Some(queue) = inner.queues.get_mut(exec) else {
            return Err(Refused::Gone);
        };
        if queue.len() >= capacity {
            return Err(Refused::Full(msg));
        }
        queue.push_back((seq, msg));
        inner.next_seq += 1;
        Ok(())
    }

    /// The sequence number the next accepted message will get.
    pub fn next_seq(&self) -> u64 {
        self.lock().next_seq
    }

    /// Takes the oldest message of executor `exec`.
    pub fn pop(&self, exec: usize) -> Option<(u64, Msg)> {
        self.lock().queues.get_mut(exec)?.pop_front()
    }

    pub fn len(&self, exec: usize) -> usize {
        self.lock().queues.get(exec).map_or(0, VecDeque::len)
    }

    /// Empties executor `exec`'s queue (its worker died) and returns what it held.
    pub fn drain(&self, exec: usize) -> Vec<(u64, Msg)> {
        self.lock()
            .queues
            .get_mut(exec)
            .map(|q| q.drain(..).collect())
            .unwrap_or_default()
    }

    /// Calls `f` with every queued message (executor, sequence number, message), in
    /// executor order and, within one, oldest first.
    pub fn for_each(&self, mut f: impl FnMut(usize, u64, &Msg)) {
        let inner = self.lock();
        for (exec, queue) in inner.queues.iter().enumerate() {
            for (seq, msg) in queue {
                f(exec, *seq, msg);
            }
        }
    }

    /// Calls `f` with the messages accepted at or after sequence number `from`, in the
    /// order they were accepted.
    pub fn since(&self, from: u64, mut f: impl FnMut(usize, &Msg)) {
        let inner = self.lock();
        let mut fresh: Vec<(u64, usize, &Msg)> = Vec::new();
        for (exec, queue) in inner.queues.iter().enumerate() {
            // Within a queue, sequence numbers increase: new messages are at the back.
            for (seq, msg) in queue.iter().rev() {
                if *seq < from {
                    break;
                }
                fresh.push((*seq, exec, msg));
            }
        }
        fresh.sort_by_key(|m| m.0);
        for (_, exec, msg) in fresh {
            f(exec, msg);
        }
    }
}
