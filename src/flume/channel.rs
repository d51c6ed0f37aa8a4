//! Channels: passive, transactional buffers between sources and sinks.
//!
//! Every put and take happens inside a [`Transaction`]: `begin` → `put`*/`take`* →
//! `commit` or `rollback`. This is what makes a Flume hop reliable: a sink takes events,
//! delivers them, and only then commits; if delivery fails it rolls back and the events
//! go back to the head of the channel, in their original order, for the next attempt.
//!
//! The memory and file channels share one queue implementation ([`QueueChannel`]); the
//! file channel adds a journal that makes commits durable.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use thiserror::Error;

use super::Event;

/// Why a channel operation failed. Every failure leaves the transaction open so the caller
/// can (and must) roll it back, exactly as Flume's `ChannelException` contract says.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ChannelError {
    #[error(
        "channel '{channel}': a transaction may put at most {capacity} events (transactionCapacity)"
    )]
    PutListFull { channel: String, capacity: usize },
    #[error(
        "channel '{channel}': a transaction may take at most {capacity} events (transactionCapacity)"
    )]
    TakeListFull { channel: String, capacity: usize },
    #[error(
        "channel '{channel}' is full ({capacity} events) and no space freed up within keep-alive; roll back and retry later"
    )]
    Full { channel: String, capacity: usize },
    #[error(
        "channel '{channel}' holds its limit of {byte_capacity} bytes of events (byteCapacity) and no space freed up within keep-alive; roll back and retry later"
    )]
    BytesFull { channel: String, byte_capacity: u64 },
    #[error(
        "channel '{channel}': a transaction may put at most {byte_capacity} bytes of events (byteCapacity); this one would put {bytes}"
    )]
    TooManyBytes {
        channel: String,
        byte_capacity: u64,
        bytes: u64,
    },
    #[error(
        "channel '{channel}': an event of {bytes} bytes is larger than this channel can store ({limit} bytes)"
    )]
    EventTooLarge {
        channel: String,
        bytes: u64,
        limit: u64,
    },
    #[error("channel '{channel}' is shut down")]
    Closed { channel: String },
    #[error("channel '{channel}': transaction is no longer open")]
    NotOpen { channel: String },
    #[error("channel '{channel}': {message}")]
    Io { channel: String, message: String },
}

/// Default `byteCapacity`: most bytes of events a channel holds in memory (see
/// [`event_bytes`] for what counts). Flume's default is 80% of the Java heap; a stated
/// number keeps a channel with a large `capacity` from taking all the memory there is.
/// 64 MiB, so that many channels left at their default fit within the run's total
/// ([`super::footprint::MAX_TOTAL_CHANNEL_BYTES`]).
pub const DEFAULT_BYTE_CAPACITY: u64 = 64 << 20;
/// Largest `byteCapacity` validation accepts: the run's total for all channels (1 GiB).
pub const MAX_BYTE_CAPACITY: u64 = super::footprint::MAX_TOTAL_CHANNEL_BYTES;
/// Bytes every event counts on top of its body and headers: its bookkeeping in the queue.
/// Without it a flood of empty events would count as nothing.
pub const EVENT_OVERHEAD_BYTES: u64 = 64;
/// Longest `keep-alive` (seconds) validation accepts and the runtime uses.
pub const MAX_KEEP_ALIVE_SECS: u64 = 3600;

/// What an event counts against `byteCapacity`: body, header keys and values, and
/// [`EVENT_OVERHEAD_BYTES`]. Headers count too (Flume counts only the body), so the limit
/// holds whatever interceptors add.
pub fn event_bytes(event: &Event) -> u64 {
    let headers: usize = event.headers.iter().map(|(k, v)| k.len() + v.len()).sum();
    (event.body.len() as u64)
        .saturating_add(headers as u64)
        .saturating_add(EVENT_OVERHEAD_BYTES)
}

/// Limits shared by every channel type, with Flume's property names in the docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelConfig {
    /// `capacity`: most events the channel holds, counting events taken by open
    /// transactions (their slots are freed only at commit).
    pub capacity: usize,
    /// `transactionCapacity`: most puts, and most takes, in one transaction.
    pub transaction_capacity: usize,
    /// `keep-alive`: how long a commit waits for space, and a take for an event.
    pub keep_alive: Duration,
    /// `byteCapacity`: most bytes of events held (queued plus taken by open
    /// transactions), counted by [`event_bytes`]; also the most one transaction may put.
    pub byte_capacity: u64,
}

impl Default for ChannelConfig {
    fn default() -> Self {
        Self {
            capacity: 100,
            transaction_capacity: 100,
            keep_alive: Duration::from_secs(3),
            byte_capacity: DEFAULT_BYTE_CAPACITY,
        }
    }
}

/// Live counters of one channel, written by the channel and read by any thread (metrics,
/// canvas). Plain atomics so readers never block the data path.
#[derive(Debug, Default)]
pub struct ChannelCounters {
    /// Committed events waiting in the queue.
    pub size: AtomicU64,
    /// Events taken by transactions that have not committed yet.
    pub in_flight: AtomicU64,
    pub capacity: AtomicU64,
    pub puts_committed: AtomicU64,
    pub takes_committed: AtomicU64,
    pub commits: AtomicU64,
    pub rollbacks: AtomicU64,
    /// Commits that gave up waiting for space (`ChannelFull`).
    pub full_failures: AtomicU64,
    /// A committer is waiting for space, or the last put commit failed for lack of it:
    /// the channel is pushing back on its sources.
    pub blocked: AtomicBool,
    /// Bytes of events held (queued plus in flight), as `byteCapacity` counts them.
    pub bytes: AtomicU64,
    pub byte_capacity: AtomicU64,
    /// Commits that failed because the channel's storage failed (a full disk).
    pub io_failures: AtomicU64,
    /// The last storage failure, until the channel writes again.
    pub last_error: Mutex<Option<String>>,
}

/// A copy of [`ChannelCounters`] at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChannelStats {
    pub size: u64,
    pub in_flight: u64,
    pub capacity: u64,
    pub puts_committed: u64,
    pub takes_committed: u64,
    pub commits: u64,
    pub rollbacks: u64,
    pub full_failures: u64,
    pub blocked: bool,
    pub bytes: u64,
    pub byte_capacity: u64,
    pub io_failures: u64,
}

impl ChannelCounters {
    /// The last storage failure while it lasts (cleared when the channel writes again).
    pub fn last_error(&self) -> Option<String> {
        self.last_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn set_error(&self, error: Option<String>) {
        *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = error;
    }

    pub fn snapshot(&self) -> ChannelStats {
        ChannelStats {
            size: self.size.load(Ordering::Relaxed),
            in_flight: self.in_flight.load(Ordering::Relaxed),
            capacity: self.capacity.load(Ordering::Relaxed),
            puts_committed: self.puts_committed.load(Ordering::Relaxed),
            takes_committed: self.takes_committed.load(Ordering::Relaxed),
            commits: self.commits.load(Ordering::Relaxed),
            rollbacks: self.rollbacks.load(Ordering::Relaxed),
            full_failures: self.full_failures.load(Ordering::Relaxed),
            blocked: self.blocked.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
            byte_capacity: self.byte_capacity.load(Ordering::Relaxed),
            io_failures: self.io_failures.load(Ordering::Relaxed),
        }
    }
}

/// The put and take lists of one open transaction. Owned by the caller's
/// [`Transaction`]; the channel only sees it during an operation.
#[derive(Debug, Default)]
pub struct TxLists {
    pub(crate) id: u64,
    pub(crate) puts: Vec<Event>,
    /// Bytes of `puts`, as [`event_bytes`] counts them.
    pub(crate) put_bytes: u64,
    /// Taken events with their queue sequence numbers, in take order.
    pub(crate) takes: Vec<(u64, Event)>,
}

/// A transactional buffer. Implementations provide the four primitive operations on a
/// caller-held [`TxLists`]; callers use them through [`Transaction`], which also rolls back
/// a transaction that is dropped while still open.
pub trait Channel: Send + Sync {
    fn name(&self) -> &str;
    fn config(&self) -> ChannelConfig;
    fn counters(&self) -> Arc<ChannelCounters>;
    /// Starts a transaction's lists (assigns its id).
    fn tx_begin(&self) -> TxLists;
    fn tx_put(&self, tx: &mut TxLists, event: Event) -> Result<(), ChannelError>;
    /// Takes the head event, waiting up to keep-alive; `None` when the channel stays empty.
    fn tx_take(&self, tx: &mut TxLists) -> Result<Option<Event>, ChannelError>;
    fn tx_commit(&self, tx: &mut TxLists) -> Result<(), ChannelError>;
    fn tx_rollback(&self, tx: &mut TxLists);
    /// Wakes every waiter and refuses new puts, so runner threads can stop promptly.
    fn shutdown(&self);
    /// Makes state durable where that applies (the file channel checkpoints).
    fn close(&self) -> Result<(), ChannelError> {
        self.shutdown();
        Ok(())
    }
}

/// One transaction on a channel: Flume's `getTransaction(); begin(); …; close()`.
///
/// A failed commit leaves the transaction open; call [`Transaction::rollback`]. Dropping
/// an open transaction rolls it back, so taken events can never be lost by an early return.
pub struct Transaction<'a> {
    channel: &'a dyn Channel,
    lists: TxLists,
    open: bool,
}

impl<'a> Transaction<'a> {
    pub fn begin(channel: &'a dyn Channel) -> Self {
        Self {
            lists: channel.tx_begin(),
            channel,
            open: true,
        }
    }

    pub fn put(&mut self, event: Event) -> Result<(), ChannelError> {
        self.check_open()?;
        self.channel.tx_put(&mut self.lists, event)
    }

    pub fn take(&mut self) -> Result<Option<Event>, ChannelError> {
        self.check_open()?;
        self.channel.tx_take(&mut self.lists)
    }

    /// Commits; on error the transaction stays open and must be rolled back.
    pub fn commit(&mut self) -> Result<(), ChannelError> {
        self.check_open()?;
        self.channel.tx_commit(&mut self.lists)?;
        self.open = false;
        Ok(())
    }

    /// Discards the puts and returns the taken events to the head of the channel.
    pub fn rollback(mut self) {
        self.do_rollback();
    }

    /// Puts and takes so far in this transaction.
    pub fn len(&self) -> (usize, usize) {
        (self.lists.puts.len(), self.lists.takes.len())
    }

    pub fn is_empty(&self) -> bool {
        self.lists.puts.is_empty() && self.lists.takes.is_empty()
    }

    fn do_rollback(&mut self) {
        if self.open {
            self.open = false;
            self.channel.tx_rollback(&mut self.lists);
        }
    }

    fn check_open(&self) -> Result<(), ChannelError> {
        if self.open {
            Ok(())
        } else {
            Err(ChannelError::NotOpen {
                channel: self.channel.name().to_string(),
            })
        }
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        self.do_rollback();
    }
}

/// What a durable channel does alongside the queue: journal commits, checkpoint. Called
/// with the queue lock held, so journal order equals queue order.
#[doc(hidden)]
pub trait Journal: Send + Sync + 'static {
    /// Whether taken events must be remembered for checkpoints.
    const DURABLE: bool;
    /// Largest event (by [`event_bytes`]) the journal can record.
    const MAX_EVENT_BYTES: u64;
    /// Records a commit durably before it is applied; an error aborts the commit.
    /// `state` is the queue before the commit (a journal recovering from a failure
    /// checkpoints it first).
    fn commit(
        &self,
        state: &QueueState,
        tx: u64,
        puts: &[(u64, Event)],
        takes: &[u64],
    ) -> Result<(), String>;
    fn rollback(&self, tx: u64, had_takes: bool);
    /// After a commit was applied: a chance to checkpoint.
    fn after_commit(&self, state: &QueueState);
    fn close(&self, state: &QueueState) -> Result<(), String>;
}

/// The memory channel's journal: nothing is recorded.
#[doc(hidden)]
pub struct NoJournal;

impl Journal for NoJournal {
    const DURABLE: bool = false;
    const MAX_EVENT_BYTES: u64 = u64::MAX;
    fn commit(&self, _: &QueueState, _: u64, _: &[(u64, Event)], _: &[u64]) -> Result<(), String> {
        Ok(())
    }
    fn rollback(&self, _: u64, _: bool) {}
    fn after_commit(&self, _: &QueueState) {}
    fn close(&self, _: &QueueState) -> Result<(), String> {
        Ok(())
    }
}

/// The queue behind a channel.
#[doc(hidden)]
#[derive(Debug, Default)]
pub struct QueueState {
    /// Committed events with their sequence numbers, head first.
    pub(crate) events: VecDeque<(u64, Event)>,
    /// Events taken by open transactions (kept only by durable channels, for checkpoints).
    pub(crate) in_flight: BTreeMap<u64, Event>,
    in_flight_count: usize,
    /// Bytes of queued and in-flight events ([`event_bytes`]).
    bytes: u64,
    pub(crate) next_seq: u64,
    closed: bool,
}

impl QueueState {
    /// Slots counted against capacity: queued plus taken-but-uncommitted.
    fn occupied(&self) -> usize {
        self.events.len() + self.in_flight_count
    }

    /// Whether `events` more events of `bytes` more bytes fit.
    fn fits(&self, config: &ChannelConfig, events: usize, bytes: u64) -> bool {
        self.occupied().saturating_add(events) <= config.capacity
            && self.bytes.saturating_add(bytes) <= config.byte_capacity
    }
}

/// A channel built from the shared queue and a journal.
pub struct QueueChannel<J: Journal> {
    name: String,
    config: ChannelConfig,
    state: Mutex<QueueState>,
    has_space: Condvar,
    has_events: Condvar,
    next_tx: AtomicU64,
    counters: Arc<ChannelCounters>,
    pub(crate) journal: J,
}

impl<J: Journal> QueueChannel<J> {
    pub(crate) fn with_journal(
        name: &str,
        config: ChannelConfig,
        journal: J,
        initial: VecDeque<(u64, Event)>,
        next_seq: u64,
        next_tx: u64,
    ) -> Self {
        let counters = Arc::new(ChannelCounters::default());
        counters
            .capacity
            .store(config.capacity as u64, Ordering::Relaxed);
        counters
            .byte_capacity
            .store(config.byte_capacity, Ordering::Relaxed);
        counters.size.store(initial.len() as u64, Ordering::Relaxed);
        let bytes = initial
            .iter()
            .fold(0u64, |sum, (_, e)| sum.saturating_add(event_bytes(e)));
        counters.bytes.store(bytes, Ordering::Relaxed);
        Self {
            name: name.to_string(),
            config: ChannelConfig {
                capacity: config.capacity.max(1),
                transaction_capacity: config.transaction_capacity.max(1),
                keep_alive: config
                    .keep_alive
                    .min(Duration::from_secs(MAX_KEEP_ALIVE_SECS)),
                byte_capacity: config.byte_capacity.max(1),
            },
            state: Mutex::new(QueueState {
                events: initial,
                bytes,
                next_seq,
                ..QueueState::default()
            }),
            has_space: Condvar::new(),
            has_events: Condvar::new(),
            next_tx: AtomicU64::new(next_tx),
            counters,
            journal,
        }
    }

    fn lock(&self) -> MutexGuard<'_, QueueState> {
        // A panic while holding the lock cannot leave the queue half-updated in a way
        // that matters more than stopping would, so keep serving.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn publish(&self, state: &QueueState) {
        self.counters
            .size
            .store(state.events.len() as u64, Ordering::Relaxed);
        self.counters
            .in_flight
            .store(state.in_flight_count as u64, Ordering::Relaxed);
        self.counters.bytes.store(state.bytes, Ordering::Relaxed);
    }

    /// Runs `f` on the queue under its lock (checkpoints, tests).
    pub(crate) fn with_state<R>(&self, f: impl FnOnce(&QueueState) -> R) -> R {
        f(&self.lock())
    }

    fn err_io(&self, message: String) -> ChannelError {
        ChannelError::Io {
            channel: self.name.clone(),
            message,
        }
    }
}

impl<J: Journal> Channel for QueueChannel<J> {
    fn name(&self) -> &str {
        &self.name
    }

    fn config(&self) -> ChannelConfig {
        self.config
    }

    fn counters(&self) -> Arc<ChannelCounters> {
        Arc::clone(&self.counters)
    }

    fn tx_begin(&self) -> TxLists {
        TxLists {
            id: self.next_tx.fetch_add(1, Ordering::Relaxed),
            ..TxLists::default()
        }
    }

    fn tx_put(&self, tx: &mut TxLists, event: Event) -> Result<(), ChannelError> {
        if tx.puts.len() >= self.config.transaction_capacity {
            return Err(ChannelError::PutListFull {
                channel: self.name.clone(),
                capacity: self.config.transaction_capacity,
            });
        }
        let size = event_bytes(&event);
        if size > J::MAX_EVENT_BYTES {
            return Err(ChannelError::EventTooLarge {
                channel: self.name.clone(),
                bytes: size,
                limit: J::MAX_EVENT_BYTES,
            });
        }
        // Checked at put, so a transaction never holds more than the channel could.
        let total = tx.put_bytes.saturating_add(size);
        if total > self.config.byte_capacity {
            return Err(ChannelError::TooManyBytes {
                channel: self.name.clone(),
                byte_capacity: self.config.byte_capacity,
                bytes: total,
            });
        }
        tx.put_bytes = total;
        tx.puts.push(event);
        Ok(())
    }

    fn tx_take(&self, tx: &mut TxLists) -> Result<Option<Event>, ChannelError> {
        if tx.takes.len() >= self.config.transaction_capacity {
            return Err(ChannelError::TakeListFull {
                channel: self.name.clone(),
                capacity: self.config.transaction_capacity,
            });
        }
        let mut state = self.lock();
        if state.events.is_empty() && !state.closed && !self.config.keep_alive.is_zero() {
            state = self
                .has_events
                .wait_timeout_while(state, self.config.keep_alive, |s| {
                    s.events.is_empty() && !s.closed
                })
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        let Some((seq, event)) = state.events.pop_front() else {
            return Ok(None);
        };
        if J::DURABLE {
            state.in_flight.insert(seq, event.clone());
        }
        state.in_flight_count += 1;
        self.publish(&state);
        tx.takes.push((seq, event.clone()));
        Ok(Some(event))
    }

    fn tx_commit(&self, tx: &mut TxLists) -> Result<(), ChannelError> {
        let puts = tx.puts.len();
        let takes = tx.takes.len();
        let take_bytes = tx
            .takes
            .iter()
            .fold(0u64, |sum, (_, e)| sum.saturating_add(event_bytes(e)));
        let net = puts.saturating_sub(takes);
        let net_bytes = tx.put_bytes.saturating_sub(take_bytes);
        let mut state = self.lock();
        if net > 0 || net_bytes > 0 {
            if state.closed {
                return Err(ChannelError::Closed {
                    channel: self.name.clone(),
                });
            }
            if !state.fits(&self.config, net, net_bytes) {
                self.counters.blocked.store(true, Ordering::Relaxed);
                // A keep-alive too long to add to now is as good as waiting forever.
                let deadline = Instant::now().checked_add(self.config.keep_alive);
                while !state.fits(&self.config, net, net_bytes) && !state.closed {
                    let now = Instant::now();
                    let wait = match deadline {
                        Some(d) if now >= d => break,
                        Some(d) => d - now,
                        None => self.config.keep_alive,
                    };
                    state = self
                        .has_space
                        .wait_timeout(state, wait)
                        .unwrap_or_else(|p| p.into_inner())
                        .0;
                }
                if !state.fits(&self.config, net, net_bytes) || state.closed {
                    self.counters.full_failures.fetch_add(1, Ordering::Relaxed);
                    let channel = self.name.clone();
                    return Err(if state.closed {
                        ChannelError::Closed { channel }
                    } else if state.occupied().saturating_add(net) > self.config.capacity {
                        ChannelError::Full {
                            channel,
                            capacity: self.config.capacity,
                        }
                    } else {
                        ChannelError::BytesFull {
                            channel,
                            byte_capacity: self.config.byte_capacity,
                        }
                    });
                }
            }
            self.counters.blocked.store(false, Ordering::Relaxed);
        }
        if puts == 0 && takes == 0 {
            return Ok(());
        }
        let first_seq = state.next_seq;
        let Some(next_seq) = first_seq.checked_add(puts as u64) else {
            return Err(self.err_io(format!(
                "event sequence numbers are exhausted (at {first_seq}); the channel cannot take more events"
            )));
        };
        let sequenced: Vec<(u64, Event)> = tx
            .puts
            .iter()
            .zip(first_seq..)
            .map(|(e, seq)| (seq, e.clone()))
            .collect();
        let taken: Vec<u64> = tx.takes.iter().map(|(seq, _)| *seq).collect();
        if let Err(message) = self.journal.commit(&state, tx.id, &sequenced, &taken) {
            self.counters.io_failures.fetch_add(1, Ordering::Relaxed);
            self.counters.set_error(Some(message.clone()));
            return Err(self.err_io(message));
        }
        if J::DURABLE && self.counters.io_failures.load(Ordering::Relaxed) > 0 {
            self.counters.set_error(None);
        }
        state.next_seq = next_seq;
        state.events.extend(sequenced);
        for seq in &taken {
            state.in_flight.remove(seq);
        }
        state.in_flight_count -= takes;
        state.bytes = state
            .bytes
            .saturating_add(tx.put_bytes)
            .saturating_sub(take_bytes);
        tx.puts.clear();
        tx.put_bytes = 0;
        tx.takes.clear();
        self.publish(&state);
        self.journal.after_commit(&state);
        drop(state);
        if puts > 0 {
            self.has_events.notify_all();
        }
        if takes > 0 {
            self.has_space.notify_all();
        }
        self.counters
            .puts_committed
            .fetch_add(puts as u64, Ordering::Relaxed);
        self.counters
            .takes_committed
            .fetch_add(takes as u64, Ordering::Relaxed);
        self.counters.commits.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn tx_rollback(&self, tx: &mut TxLists) {
        let had_takes = !tx.takes.is_empty();
        tx.puts.clear();
        tx.put_bytes = 0;
        if had_takes {
            let mut state = self.lock();
            // Back to the head in the original order: push the last-taken first.
            for (seq, event) in tx.takes.drain(..).rev() {
                state.in_flight.remove(&seq);
                state.in_flight_count -= 1;
                state.events.push_front((seq, event));
            }
            self.publish(&state);
            self.journal.rollback(tx.id, true);
            drop(state);
            self.has_events.notify_all();
        }
        self.counters.rollbacks.fetch_add(1, Ordering::Relaxed);
    }

    fn shutdown(&self) {
        self.lock().closed = true;
        self.has_events.notify_all();
        self.has_space.notify_all();
    }

    fn close(&self) -> Result<(), ChannelError> {
        self.shutdown();
        let state = self.lock();
        self.journal.close(&state).map_err(|m| {
            self.counters.set_error(Some(m.clone()));
            self.err_io(m)
        })
    }
}
