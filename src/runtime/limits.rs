//! The runtime's limits, in one place, so the documentation can cite them and every
//! check of one limit goes through one function.
//!
//! A topology file may come from anyone, and a few bytes of it can ask for gigabytes
//! (twelve chained `map` replaces grow a sentence exponentially; an unread collector
//! grows forever). Each limit here turns such a request into a *refusal*: the item is
//! not kept, the node's `refused` counter goes up (in every metrics snapshot, the
//! `run` table and `--json`) and the node's run log says why, once. Nothing is dropped
//! silently.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::log::{LogKind, RunLog};
use super::tuple::{Val, Values};

/// Largest value a tuple may carry: the text of one field, in bytes (1 MiB). A
/// component that would produce a longer value is refused before it allocates it
/// (`map`'s replace, prefix and suffix compute the length first); any other emit over
/// the cap is refused when emitted. Either way the input tuple fails (Storm: the spout
/// replays it or counts the failure) and the run goes on.
pub const MAX_VALUE_BYTES: usize = 1 << 20;

/// Longest a draining stop waits for in-flight tuples, Flume channels and buffered
/// micro-batch records (10 s, whatever the message timeout says; it was twice the
/// timeout, a minute by default and unbounded by a file). After it the stop becomes
/// immediate, and the run log says what was still in flight. Twice Flume's longest
/// sink back-off (5 s): a sink that failed just before the stop still gets to retry
/// and empty its channel.
pub const DRAIN_LIMIT: Duration = Duration::from_secs(10);

/// Tuples all `collector` sinks of a run keep together (they exist for tests and
/// lessons); more are counted as refused.
pub const MAX_COLLECTED_TUPLES: usize = 1_000_000;
/// Bytes of values all `collector` sinks of a run keep together (256 MiB).
pub const MAX_COLLECTED_BYTES: usize = 256 << 20;

/// Entries all window buffers of a run hold together (`window_aggregate` keeps one per
/// input still inside its window); inputs beyond are acked but left out of the window
/// and counted as refused.
pub const MAX_WINDOW_ENTRIES: usize = 1_000_000;
/// Bytes of keys all window buffers of a run hold together (256 MiB).
pub const MAX_WINDOW_BYTES: usize = 256 << 20;

/// Records all micro-batch receivers of a run buffer together, waiting for their batch.
/// A receiver stops pulling from its spout while the buffers are full (back-pressure,
/// nothing lost); a record that still does not fit is counted as refused.
pub const MAX_BUFFERED_RECORDS: usize = 1_000_000;
/// Bytes of values all micro-batch receivers of a run buffer together (256 MiB). Checked
/// before each round of `next_tuple` calls, so one round per receiver may go over.
pub const MAX_BUFFERED_BYTES: usize = 256 << 20;

/// Largest file a `file_lines` spout reads (64 MiB): it keeps the lines in memory to
/// replay them. A larger file is refused at start, naming the node and the file.
pub const MAX_INPUT_FILE_BYTES: usize = 64 << 20;
/// What all `file_lines` inputs of a run may hold together, counting each line's text
/// plus [`INPUT_LINE_OVERHEAD`] (a file of empty lines costs far more than its size):
/// 64 MiB. Several nodes cannot multiply the per-file bound.
pub const MAX_INPUT_BYTES: usize = 64 << 20;
/// Bookkeeping bytes per kept line (its shared text, and its slot in the node's and the
/// task's line lists).
pub const INPUT_LINE_OVERHEAD: usize = 64;

/// Keys all `count_by_key` bolts of a run keep together; a new key beyond this is not
/// counted (its input is acked, counted as refused and logged once).
pub const MAX_STATE_KEYS: usize = 1_000_000;
/// Bytes of keys all `count_by_key` bolts of a run keep together (256 MiB).
pub const MAX_STATE_BYTES: usize = 256 << 20;

/// What keeping `key` in a keyed-state table costs against [`Budget::state`]: its text
/// plus the table entry (a key and its count), the same for both engines.
pub fn state_entry_bytes(key: &Val) -> usize {
    text_len(key) + std::mem::size_of::<(Val, i64)>()
}

/// A value over [`MAX_VALUE_BYTES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a value of {bytes} bytes is over the limit of {MAX_VALUE_BYTES} bytes per value")]
pub struct TooLarge {
    pub bytes: usize,
}

/// The one rule for value sizes: `Err` when a value of `bytes` bytes is over the cap.
/// Components that build values call it with the length they are about to allocate.
#[inline]
pub fn check_len(bytes: usize) -> Result<(), TooLarge> {
    if bytes > MAX_VALUE_BYTES {
        Err(TooLarge { bytes })
    } else {
        Ok(())
    }
}

/// Checks every value of a tuple against [`MAX_VALUE_BYTES`].
#[inline]
pub fn check_values(values: &Values) -> Result<(), TooLarge> {
    match values {
        Values::One(v) => check_len(text_len(v)),
        Values::Many(vs) => vs.iter().try_for_each(|v| check_len(text_len(v))),
    }
}

#[inline]
fn text_len(v: &Val) -> usize {
    match v {
        Val::Str(s) => s.len(),
        _ => 0,
    }
}

/// What keeping `values` costs, for byte budgets: their text plus one value slot each.
pub fn values_bytes(values: &Values) -> usize {
    let slot = std::mem::size_of::<Val>();
    (0..values.len())
        .filter_map(|i| values.get(i))
        .map(|v| text_len(v).saturating_add(slot))
        .fold(std::mem::size_of::<Values>(), usize::saturating_add)
}

/// Why an emit or an input was turned away. `Copy`, with no heap parts: an emitter
/// carries one for every tuple it handles, and must cost nothing to drop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// An emitted value over [`MAX_VALUE_BYTES`]: the input tuple fails.
    TooLarge(TooLarge),
    /// A bounded buffer is full: the item is not kept, the input is acked.
    Full {
        /// What is full, e.g. "the collector buffers".
        what: &'static str,
        /// The bound: items and bytes per run.
        max_items: usize,
        max_bytes: usize,
    },
}

impl Refusal {
    /// The key under which the run log reports this kind of refusal once per node.
    pub fn topic(&self) -> &'static str {
        match self {
            Refusal::TooLarge(_) => "value too large",
            Refusal::Full { what, .. } => what,
        }
    }

    /// True when the input tuple whose processing was refused must fail.
    pub fn fails_input(&self) -> bool {
        matches!(self, Refusal::TooLarge(_))
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::TooLarge(e) => write!(f, "emit refused: {e}; the input tuple fails"),
            Refusal::Full {
                what,
                max_items,
                max_bytes,
            } => write!(
                f,
                "{what} are full ({max_items} items or {} MiB per run); further items are not kept and are counted as refused",
                max_bytes >> 20
            ),
        }
    }
}

/// Reports the refusals of one task in the run log: the first of each kind per node
/// makes a line (the counts are in the metrics). The task remembers the kind it last
/// reported, so a flood of refusals does not take the log's lock each time.
#[derive(Debug, Default)]
pub(crate) struct RefusalLog {
    last: Option<&'static str>,
}

impl RefusalLog {
    pub fn report(&mut self, log: &RunLog, node: &str, task: u32, refusal: &Refusal) {
        let topic = refusal.topic();
        if self.last != Some(topic) {
            self.last = Some(topic);
            log.push_once(node, task, topic, LogKind::Error, refusal.to_string());
        }
    }
}

/// A run-wide allowance of items and bytes shared by every task of one kind of buffer,
/// so the total stays bounded whatever the number of nodes and tasks.
#[derive(Debug)]
pub struct Budget {
    what: &'static str,
    max_items: usize,
    max_bytes: usize,
    items: AtomicUsize,
    bytes: AtomicUsize,
}

impl Budget {
    pub const fn new(what: &'static str, max_items: usize, max_bytes: usize) -> Self {
        Self {
            what,
            max_items,
            max_bytes,
            items: AtomicUsize::new(0),
            bytes: AtomicUsize::new(0),
        }
    }

    /// The budget of all collector sinks of a run.
    pub const fn collected() -> Self {
        Self::new(
            "the collector buffers",
            MAX_COLLECTED_TUPLES,
            MAX_COLLECTED_BYTES,
        )
    }

    /// The budget of all window buffers of a run.
    pub const fn windows() -> Self {
        Self::new("the window buffers", MAX_WINDOW_ENTRIES, MAX_WINDOW_BYTES)
    }

    /// The budget of all keyed state (`count_by_key`) of a run; an entry costs
    /// [`state_entry_bytes`].
    pub const fn state() -> Self {
        Self::new("the keyed state tables", MAX_STATE_KEYS, MAX_STATE_BYTES)
    }

    /// The budget of all `file_lines` inputs of a run (bytes, with per-line overhead).
    pub const fn inputs() -> Self {
        Self::new("the file_lines inputs", usize::MAX, MAX_INPUT_BYTES)
    }

    /// The budget of all micro-batch receivers of a run.
    pub const fn receivers() -> Self {
        Self::new(
            "the receiver buffers",
            MAX_BUFFERED_RECORDS,
            MAX_BUFFERED_BYTES,
        )
    }

    /// Takes `items` and `bytes` if both fit; otherwise takes nothing and says why.
    pub fn take(&self, items: usize, bytes: usize) -> Result<(), Refusal> {
        if !reserve(&self.items, items, self.max_items) {
            return Err(self.full());
        }
        if !reserve(&self.bytes, bytes, self.max_bytes) {
            self.items.fetch_sub(items, Ordering::Relaxed);
            return Err(self.full());
        }
        Ok(())
    }

    /// Takes `items` if they fit (bytes are not looked at); false otherwise.
    pub fn take_items(&self, items: usize) -> bool {
        reserve(&self.items, items, self.max_items)
    }

    /// Takes as many of `items` as fit (bytes are not looked at); returns how many.
    pub fn take_items_up_to(&self, items: usize) -> usize {
        let mut got = 0;
        let _ = self
            .items
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |held| {
                got = items.min(self.max_items.saturating_sub(held));
                Some(held + got)
            });
        got
    }

    /// Adds `bytes` whether or not they fit (see [`MAX_BUFFERED_BYTES`]).
    pub fn add_bytes(&self, bytes: usize) {
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    /// True while the bytes are under the bound.
    pub fn has_byte_room(&self) -> bool {
        self.bytes.load(Ordering::Relaxed) < self.max_bytes
    }

    /// Gives back what an earlier `take` took (the buffer let go of it).
    pub fn give(&self, items: usize, bytes: usize) {
        sub(&self.items, items);
        sub(&self.bytes, bytes);
    }

    /// Items currently held.
    pub fn items(&self) -> usize {
        self.items.load(Ordering::Relaxed)
    }

    pub fn max_items(&self) -> usize {
        self.max_items
    }

    /// The refusal a full budget gives.
    pub fn full(&self) -> Refusal {
        Refusal::Full {
            what: self.what,
            max_items: self.max_items,
            max_bytes: self.max_bytes,
        }
    }
}

/// Adds `n` to `counter` if the sum stays at most `max`.
fn reserve(counter: &AtomicUsize, n: usize, max: usize) -> bool {
    counter
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |held| {
            held.checked_add(n).filter(|&sum| sum <= max)
        })
        .is_ok()
}

/// Subtracts without going below zero (a give after a restart never underflows).
fn sub(counter: &AtomicUsize, n: usize) {
    let _ = counter.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |held| {
        Some(held.saturating_sub(n))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_value_cap_is_inclusive() {
        assert!(check_len(MAX_VALUE_BYTES).is_ok());
        assert_eq!(
            check_len(MAX_VALUE_BYTES + 1),
            Err(TooLarge {
                bytes: MAX_VALUE_BYTES + 1
            })
        );
        let big = Values::Many(Box::new([
            Val::Int(1),
            Val::from("x".repeat(MAX_VALUE_BYTES + 1)),
        ]));
        assert!(check_values(&big).is_err());
        assert!(check_values(&Values::One(Val::str("short"))).is_ok());
    }

    #[test]
    fn a_budget_refuses_past_its_bound_and_takes_back_what_is_given() {
        let b = Budget::new("test buffers", 3, 100);
        assert!(b.take(2, 10).is_ok());
        assert!(b.take(2, 10).is_err(), "items over the bound");
        assert!(b.take(1, 91).is_err(), "bytes over the bound");
        assert_eq!(b.items(), 2, "a refused take takes nothing");
        b.give(2, 10);
        assert!(b.take(3, 100).is_ok());
        b.give(10, 1000);
        assert_eq!(b.items(), 0, "never below zero");
    }
}
