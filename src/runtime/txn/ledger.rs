//! A transactional spout task's batches: which message numbers each txid holds, which
//! attempt is current, and how many of its messages the current attempt has had acked.
//! It lives with the [`Coordinator`], so a spout task rebuilt after a crash or a killed
//! worker finds its batches and replays them identically, as Trident's transactional
//! spouts find their batch metadata in ZooKeeper.

use std::collections::VecDeque;
use std::time::Instant;

use super::{BATCH_LINGER, BATCH_SIZE, Coordinator, MAX_OPEN_BATCHES, msg_id, split_msg_id};

/// Attempts a batch gets with the same messages before it is halved (opaque).
const MAX_SAME_TRIES: u32 = 3;
/// Attempts a batch of one message gets before that message is given up: enough that a
/// record failing by chance (even 94 % of the time) gets through, few enough that one
/// failing every time stops holding the run back within seconds.
const MAX_TRIES_ALONE: u32 = 1000;

/// One batch: messages `start..end` under one txid.
#[derive(Debug)]
struct Batch {
    txid: u64,
    start: u64,
    end: u64,
    attempt: u32,
    acked: u64,
    /// No more messages join it.
    closed: bool,
    opened_at: Instant,
    /// Replaying: the next message to emit again.
    cursor: Option<u64>,
    /// The current attempt failed (or was lost): replay before anything new.
    needs_replay: bool,
    /// Every message of the current attempt was acked; waiting for its commit.
    processed: bool,
    /// Attempts of this txid with these same messages that failed.
    failures: u32,
}

impl Batch {
    fn len(&self) -> u64 {
        self.end - self.start
    }
}

/// What the spout should emit now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Emit {
    /// The message number to regenerate.
    pub k: u64,
    pub msg_id: u64,
    /// The attempt id its root carries.
    pub attempt: u32,
    pub replay: bool,
}

/// A spout task's batches in flight.
#[derive(Debug, Default)]
pub struct SpoutLedger {
    task: u32,
    /// The next message number no batch holds yet.
    next: u64,
    batches: VecDeque<Batch>,
    /// Messages taken out of a batch that kept failing, for later batches to carry.
    orphans: VecDeque<(u64, u64)>,
    /// How many messages a new batch takes: halved when a batch fails, doubled (up to
    /// [`BATCH_SIZE`]) when one commits, so batches stay small enough to succeed.
    target: u64,
}

impl SpoutLedger {
    pub(super) fn new(task: u32) -> Self {
        Self {
            task,
            target: BATCH_SIZE,
            ..Self::default()
        }
    }

    /// The next message to emit, if any: a replayed batch's first, then the open
    /// batch's next, then a new batch's first. `limit` is where the spout's input ends.
    pub fn next(&mut self, coord: &Coordinator, now: Instant, limit: Option<u64>) -> Option<Emit> {
        let committed = coord.committed_through();
        while self.batches.front().is_some_and(|b| b.txid <= committed) {
            self.batches.pop_front();
            self.target = (self.target * 2).min(BATCH_SIZE);
        }
        coord.retry_if_needed();
        for b in &mut self.batches {
            if b.needs_replay {
                b.needs_replay = false;
                b.closed = true;
                b.failures += 1;
                self.target = (self.target / 2).max(1);
                // One message that fails every time would hold every later batch back
                // forever (commits go in txid order): it is given up, and logged.
                if b.len() == 1 && b.failures >= MAX_TRIES_ALONE {
                    b.processed = true;
                    coord.give_up(b.txid, self.task, b.start, b.failures);
                    continue;
                }
                // Trident's opaque spout: a batch that failed with the same messages
                // again and again keeps its first half, and later batches carry the
                // rest, so every message still succeeds in exactly one batch.
                if b.failures >= MAX_SAME_TRIES && b.len() > 1 {
                    let mid = b.start + b.len() / 2;
                    self.orphans.push_back((mid, b.end));
                    b.end = mid;
                    b.failures = 0;
                }
                b.attempt = coord.new_attempt(b.txid);
                b.acked = 0;
                b.processed = false;
                b.cursor = Some(b.start);
            }
            if let Some(c) = b.cursor {
                b.cursor = (c + 1 < b.end).then_some(c + 1);
                return Some(Emit {
                    k: c,
                    msg_id: msg_id(b.attempt, c - b.start),
                    attempt: b.attempt,
                    replay: true,
                });
            }
        }
        let ended = limit.is_some_and(|l| self.next >= l);
        if let Some(b) = self.batches.back_mut()
            && !b.closed
        {
            let lingered = now.saturating_duration_since(b.opened_at) >= BATCH_LINGER;
            if b.len() >= self.target || ended || lingered {
                b.closed = true;
                self.check_processed(coord, self.batches.len() - 1);
            } else {
                return Some(self.grow_back());
            }
        }
        if self.batches.len() >= MAX_OPEN_BATCHES {
            return None;
        }
        if let Some((start, end)) = self.orphans.front_mut() {
            // Messages a failing batch gave up, in a batch of their own.
            let from = *start;
            let to = (*end).min(from + self.target);
            *start = to;
            if *start >= *end {
                self.orphans.pop_front();
            }
            let (txid, attempt) = coord.open_batch();
            self.batches.push_back(Batch {
                txid,
                start: from,
                end: to,
                attempt,
                acked: 0,
                closed: true,
                opened_at: now,
                cursor: (from + 1 < to).then_some(from + 1),
                needs_replay: false,
                processed: false,
                failures: 0,
            });
            return Some(Emit {
                k: from,
                msg_id: msg_id(attempt, 0),
                attempt,
                replay: true,
            });
        }
        if ended {
            return None;
        }
        let (txid, attempt) = coord.open_batch();
        self.batches.push_back(Batch {
            txid,
            start: self.next,
            end: self.next,
            attempt,
            acked: 0,
            closed: false,
            opened_at: now,
            cursor: None,
            needs_replay: false,
            processed: false,
            failures: 0,
        });
        Some(self.grow_back())
    }

    /// Adds message `next` to the open batch at the back.
    fn grow_back(&mut self) -> Emit {
        let k = self.next;
        self.next += 1;
        let b = self.batches.back_mut();
        let (attempt, start) = b.map_or((0, k), |b| {
            b.end = k + 1;
            (b.attempt, b.start)
        });
        Emit {
            k,
            msg_id: msg_id(attempt, k - start),
            attempt,
            replay: false,
        }
    }

    pub fn ack(&mut self, coord: &Coordinator, id: u64, now: Instant) {
        let (attempt, _) = split_msg_id(id);
        if let Some(i) = self.batches.iter().position(|b| b.attempt == attempt) {
            let b = &mut self.batches[i];
            b.acked += 1;
            // A batch left open by a spout no longer asked for tuples (deactivated,
            // draining) closes as its acks come in.
            if !b.closed && now.saturating_duration_since(b.opened_at) >= BATCH_LINGER {
                b.closed = true;
            }
            self.check_processed(coord, i);
        }
    }

    pub fn fail(&mut self, id: u64) {
        let (attempt, _) = split_msg_id(id);
        if let Some(b) = self.batches.iter_mut().find(|b| b.attempt == attempt)
            && !b.processed
        {
            b.closed = true;
            b.cursor = None;
            b.needs_replay = true;
        }
    }

    /// The task was rebuilt: what it had in flight is gone, so every batch not yet
    /// processed is emitted again under a new attempt.
    pub fn rebuilt(&mut self) {
        for b in &mut self.batches {
            if !b.processed {
                b.closed = true;
                b.cursor = None;
                b.needs_replay = true;
            }
        }
    }

    fn check_processed(&mut self, coord: &Coordinator, i: usize) {
        let b = &mut self.batches[i];
        if b.closed && b.cursor.is_none() && !b.needs_replay && !b.processed && b.acked >= b.len() {
            b.processed = true;
            coord.processed(b.txid, b.attempt);
        }
    }

    /// True when the input is over and every batch of it is committed.
    pub fn is_done(&self, coord: &Coordinator, limit: Option<u64>) -> bool {
        let committed = coord.committed_through();
        limit.is_some_and(|l| self.next >= l)
            && self.orphans.is_empty()
            && self.batches.iter().all(|b| b.txid <= committed)
    }
}
