//! Counters written by workers and read by the engines' samplers (`storm::sampler`,
//! `batch::sample`).
//!
//! Each task owns a cache-padded block of relaxed atomics, so two workers never share a
//! cache line and a reader (the UI at 10 Hz) never makes a worker wait. Workers add in
//! bulk, once per batch, not once per tuple. Latency histograms (4 KB each) are kept per
//! executor, not per task: snapshots only show them per node, and per task they made a
//! run's memory grow with its task count.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crossbeam_utils::CachePadded;

/// Sub-buckets per power of two: about 12% resolution.
const SUB_BITS: u32 = 3;
const SUB: u64 = 1 << SUB_BITS;
const BUCKETS: usize = ((64 - SUB_BITS as usize) + 1) * SUB as usize;

/// A log-linear latency histogram in nanoseconds, lock-free for one writer and any readers.
#[derive(Debug)]
pub struct Histogram {
    buckets: Box<[AtomicU64]>,
}

impl Default for Histogram {
    fn default() -> Self {
        Self {
            buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
        }
    }
}

fn bucket_of(v: u64) -> usize {
    if v < SUB {
        return v as usize;
    }
    let e = 63 - v.leading_zeros();
    let sub = (v >> (e - SUB_BITS)) & (SUB - 1);
    ((e - SUB_BITS + 1) as u64 * SUB + sub) as usize
}

/// Lower bound of a bucket, the inverse of `bucket_of`.
fn bucket_floor(i: usize) -> u64 {
    let i = i as u64;
    if i < SUB {
        return i;
    }
    let e = i / SUB - 1 + SUB_BITS as u64;
    let sub = i % SUB;
    (1u64 << e) | (sub << (e - SUB_BITS as u64))
}

impl Histogram {
    #[inline]
    pub fn record_n(&self, nanos: u64, count: u64) {
        self.buckets[bucket_of(nanos)].fetch_add(count, Ordering::Relaxed);
    }

    /// Adds the current counts into `into` (which must have `BUCKETS` entries).
    pub fn add_to(&self, into: &mut [u64]) {
        for (slot, b) in into.iter_mut().zip(self.buckets.iter()) {
            *slot += b.load(Ordering::Relaxed);
        }
    }

    pub fn empty_counts() -> Vec<u64> {
        vec![0; BUCKETS]
    }
}

/// The value at quantile `q` of merged bucket counts.
pub fn quantile(counts: &[u64], q: f64) -> Duration {
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return Duration::ZERO;
    }
    let rank = ((total as f64) * q).ceil().max(1.0) as u64;
    let mut seen = 0;
    for (i, c) in counts.iter().enumerate() {
        seen += c;
        if seen >= rank {
            // Middle of the bucket: halfway to the next floor.
            let lo = bucket_floor(i);
            let hi = if i + 1 < BUCKETS {
                bucket_floor(i + 1)
            } else {
                lo
            };
            return Duration::from_nanos(lo + hi.saturating_sub(lo) / 2);
        }
    }
    Duration::ZERO
}

/// One counter block per task.
#[derive(Debug, Default)]
pub struct TaskCounters {
    pub emitted: AtomicU64,
    pub transferred: AtomicU64,
    pub executed: AtomicU64,
    pub acked: AtomicU64,
    pub failed: AtomicU64,
    pub replayed: AtomicU64,
    pub timed_out: AtomicU64,
    pub restarts: AtomicU64,
    /// When the latest restart happened, in milliseconds of the run clock (meaningful
    /// once `restarts` is above zero): the moment the task's in-memory state was lost,
    /// so the designer can say "counts restarted at 12.3 s". Written by [`Self::note_restart`].
    pub last_restart_ms: AtomicU64,
    /// Tuples lost because their task crashed while holding them.
    pub dropped: AtomicU64,
    /// Items a limit turned away (see `runtime::limits`).
    pub refused: AtomicU64,
    /// Time spent executing, for capacity.
    pub busy_ns: AtomicU64,
    /// Spouts: tracked tuples not yet acked or failed.
    pub pending: AtomicU64,
    /// Spouts: 1 once the spout has nothing more to emit and nothing pending.
    pub done: AtomicU64,
    /// Spouts of threaded record-at-a-time runs: 1 once the executor has seen Pause and
    /// made no `next_tuple` call for it, stored after the task's counts (`Release`), so
    /// a reader that sees 1 (`Acquire`) sees every emit the task made before pausing.
    /// The engine's acknowledgement of a pause, which tests and the UI can wait for.
    pub paused: AtomicU64,
    /// Spouts that can resume: 1 + the position a restarted instance continues from
    /// (every message before it was acked; see `Spout::position`), published with the
    /// task's counts; 0 before any. It outlives the executor, as a spout's committed
    /// offset outlives its worker in Storm, so a killed worker's spouts resume too.
    pub resume_at: AtomicU64,
}

impl TaskCounters {
    /// Counts a restart (a crash, or the task's worker killed) that happened `at` into
    /// the run; returns how many restarts the task has had. The one place that records
    /// a restart, so the count and its time never disagree.
    pub fn note_restart(&self, at: Duration) -> u64 {
        let ms = u64::try_from(at.as_millis()).unwrap_or(u64::MAX);
        self.last_restart_ms.fetch_max(ms, Ordering::Relaxed);
        self.restarts.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Takes over every count of `old` (a rebalance). The pattern names every field,
    /// so a new counter cannot be forgotten here.
    pub fn carry_from(&self, old: &TaskCounters) {
        let TaskCounters {
            emitted,
            transferred,
            executed,
            acked,
            failed,
            replayed,
            timed_out,
            restarts,
            last_restart_ms,
            dropped,
            refused,
            busy_ns,
            pending,
            done,
            paused,
            resume_at,
        } = self;
        let pairs = [
            (emitted, &old.emitted),
            (transferred, &old.transferred),
            (executed, &old.executed),
            (acked, &old.acked),
            (failed, &old.failed),
            (replayed, &old.replayed),
            (timed_out, &old.timed_out),
            (restarts, &old.restarts),
            (last_restart_ms, &old.last_restart_ms),
            (dropped, &old.dropped),
            (refused, &old.refused),
            (busy_ns, &old.busy_ns),
            (pending, &old.pending),
            (done, &old.done),
            (paused, &old.paused),
            (resume_at, &old.resume_at),
        ];
        for (new, old) in pairs {
            new.store(get(old), Ordering::Relaxed);
        }
    }

    /// The run clock time of the latest restart, if there was one.
    pub fn last_restart(&self) -> Option<Duration> {
        (get(&self.restarts) > 0).then(|| Duration::from_millis(get(&self.last_restart_ms)))
    }
}

/// The latency histograms of one executor (record-at-a-time) or one node (micro-batch).
#[derive(Debug, Default)]
pub struct Latencies {
    pub execute_latency: Histogram,
    pub complete_latency: Histogram,
}

#[inline]
pub fn add(counter: &AtomicU64, n: u64) {
    if n != 0 {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

#[inline]
pub fn get(counter: &AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}

/// The most (sending task, receiving task) pairs an edge keeps counts for. Beyond it
/// the grouping lens says the edge has too many tasks to draw, and the run spends
/// nothing on it.
pub const MAX_TASK_PAIRS: usize = 4096;

/// The most receiving tasks an edge keeps pair counts for: a sender scans its row of
/// counts once per step, and a row this long still costs next to nothing per tuple.
pub const MAX_PAIR_RECEIVERS: usize = 256;

/// All counters of a run: one block per task id (index 0 unused), latency histograms
/// per executor, and one counter per plan edge.
#[derive(Debug)]
pub struct Counters {
    pub tasks: Vec<CachePadded<TaskCounters>>,
    /// Indexed by executor (record-at-a-time) or node (micro-batch).
    pub latencies: Vec<CachePadded<Latencies>>,
    /// `edges[e]` counts tuples sent along plan edge `e` (producers add in bulk).
    pub edges: Vec<CachePadded<AtomicU64>>,
    /// `pairs[e]` counts tuples delivered on each (sending task, receiving task) pair of
    /// plan edge `e`, row by sending task (`senders × receivers`), for the grouping lens.
    /// Empty for an edge with no pair counts (over [`MAX_TASK_PAIRS`] or
    /// [`MAX_PAIR_RECEIVERS`], or an engine that keeps none). Producers add once per step, like `edges`.
    pub pairs: Vec<Box<[AtomicU64]>>,
}

impl Counters {
    pub fn new(task_slots: usize, latency_slots: usize, edges: usize) -> Self {
        Self {
            tasks: (0..task_slots)
                .map(|_| CachePadded::new(TaskCounters::default()))
                .collect(),
            latencies: (0..latency_slots)
                .map(|_| CachePadded::new(Latencies::default()))
                .collect(),
            edges: (0..edges)
                .map(|_| CachePadded::new(AtomicU64::new(0)))
                .collect(),
            pairs: (0..edges).map(|_| Box::default()).collect(),
        }
    }

    /// Takes over `old`'s task, edge and pair counts (a rebalanced run: task ids and
    /// edges do not change, the executors do). Latencies are per executor, so they start
    /// afresh. Call it while nothing writes to either.
    pub fn carry_from(&self, old: &Counters) {
        for (new, old) in self.tasks.iter().zip(&old.tasks) {
            new.carry_from(old);
        }
        for (new, old) in self.edges.iter().zip(&old.edges) {
            new.store(get(old), Ordering::Relaxed);
        }
        for (new, old) in self.pairs.iter().zip(&old.pairs) {
            if new.len() == old.len() {
                for (n, o) in new.iter().zip(old.iter()) {
                    n.store(get(o), Ordering::Relaxed);
                }
            }
        }
    }

    /// Gives plan edge `e` a pair table of `senders × receivers` counters, unless that
    /// is more than [`MAX_TASK_PAIRS`] or the receivers more than [`MAX_PAIR_RECEIVERS`].
    /// Returns whether it did.
    pub fn keep_pairs(&mut self, e: usize, senders: usize, receivers: usize) -> bool {
        let cells = senders.saturating_mul(receivers);
        let Some(slot) = self.pairs.get_mut(e) else {
            return false;
        };
        if cells == 0 || cells > MAX_TASK_PAIRS || receivers > MAX_PAIR_RECEIVERS {
            return false;
        }
        *slot = (0..cells).map(|_| AtomicU64::new(0)).collect();
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pair_tables_are_kept_up_to_their_caps() {
        let mut c = Counters::new(1, 1, 4);
        assert!(c.keep_pairs(0, 16, MAX_TASK_PAIRS / 16));
        assert_eq!(c.pairs[0].len(), MAX_TASK_PAIRS);
        assert!(!c.keep_pairs(1, 17, 241), "4097 pairs");
        assert!(!c.keep_pairs(2, 1, MAX_PAIR_RECEIVERS + 1));
        assert!(!c.keep_pairs(3, 0, 4));
        assert!(!c.keep_pairs(9, 1, 1), "no such edge");
        assert!(c.pairs[1..].iter().all(|p| p.is_empty()));
    }

    #[test]
    fn buckets_are_monotonic_and_invertible() {
        let mut last = 0;
        for v in [0u64, 1, 7, 8, 9, 15, 16, 100, 1000, 123_456, u64::MAX / 2] {
            let b = bucket_of(v);
            assert!(b >= last);
            last = b;
            assert!(bucket_floor(b) <= v, "{v}");
            assert!(bucket_floor(b + 1) > v, "{v}");
        }
    }

    #[test]
    fn quantiles_land_in_the_right_bucket() {
        let h = Histogram::default();
        h.record_n(1_000, 99);
        h.record_n(1_000_000, 1);
        let mut c = Histogram::empty_counts();
        h.add_to(&mut c);
        let p50 = quantile(&c, 0.5).as_nanos() as u64;
        assert!((900..1200).contains(&p50), "{p50}");
        assert!(quantile(&c, 1.0).as_nanos() as u64 > 900_000);
    }
}
