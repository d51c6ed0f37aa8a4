//! Time as the engines and the Flume agents read it, behind one trait so that tests can
//! drive it by hand: which batch a record falls into, when a failed-over sink may be
//! tried again or a file rolls never depend on how fast the test machine is.
//!
//! [`Clock`] reads time; [`Timer`] adds what a scheduler needs (waiting for a time,
//! spending processing time). Real runs use [`SystemClock`] (wall clock, for Flume's
//! timestamps) or [`MonotonicClock`] (time since a run started, for the batch
//! scheduler); tests use the one [`ManualClock`] for both. This module sits below
//! `flume` and `runtime` and imports neither.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Time as a run reads it, as `Instant`s from the run's start: the wall clock, or a
/// [`ManualClock`] moved by hand (a single-threaded scheduler stepping a run one event at
/// a time). Code written against `Instant` — rate tokens, timeouts, backoffs — works
/// with either, so the engines keep one copy of it.
#[derive(Debug, Clone)]
pub struct RunClock {
    start: Instant,
    manual: Option<Arc<ManualClock>>,
}

impl RunClock {
    /// The wall clock; the run started at `start`.
    pub fn wall(start: Instant) -> Self {
        Self {
            start,
            manual: None,
        }
    }

    /// `clock`'s reading is the time since `start`.
    pub fn manual(start: Instant, clock: Arc<ManualClock>) -> Self {
        Self {
            start,
            manual: Some(clock),
        }
    }

    /// When the run started.
    pub fn start(&self) -> Instant {
        self.start
    }

    #[inline]
    pub fn now(&self) -> Instant {
        match &self.manual {
            None => Instant::now(),
            Some(c) => self.start + Duration::from_micros(c.now_us()),
        }
    }

    /// Time since the run started: what the run log and restart times say.
    pub fn elapsed(&self) -> Duration {
        self.now().saturating_duration_since(self.start)
    }

    /// Spends `d` of processing time: a real run sleeps, a manual clock moves on.
    pub fn spend(&self, d: Duration) {
        match &self.manual {
            None => std::thread::sleep(d),
            Some(c) => c.spend(d),
        }
    }
}

/// Longest a waiting thread sleeps before looking at its stop flag again.
const POLL: Duration = Duration::from_millis(10);

/// A source of time in microseconds (what the scale's zero is depends on the clock: the
/// Unix epoch, a run's start, or wherever a test put it).
pub trait Clock: Send + Sync {
    fn now_us(&self) -> u64;

    /// Milliseconds on the same scale: the unit Flume's rules (cool-downs, rolling,
    /// timestamp headers) are written in.
    fn now_ms(&self) -> u64 {
        self.now_us() / 1000
    }
}

/// A clock a scheduler can wait on: the batch engine cuts a batch when its time comes.
pub trait Timer: Clock {
    /// Blocks until `now_us() >= at_us`, `stop` is set, or `POLL` passes; true when the
    /// time was reached (callers loop, re-checking their own flags).
    fn wait_until(&self, at_us: u64, stop: &AtomicBool) -> bool;
    /// Spends `d` of processing time: injected latency sleeps on a real clock and moves a
    /// manual clock forward, so a slow operator shows up as a late batch in both.
    fn spend(&self, d: Duration);
}

/// The wall clock: time since the Unix epoch (0 if the system clock is before it).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_us(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_micros() as u64)
            .unwrap_or(0)
    }
}

/// Time since `start`, never going backwards: a real run's batch clock.
#[derive(Debug, Clone, Copy)]
pub struct MonotonicClock {
    pub start: Instant,
}

impl Clock for MonotonicClock {
    fn now_us(&self) -> u64 {
        self.start.elapsed().as_micros() as u64
    }
}

impl Timer for MonotonicClock {
    fn wait_until(&self, at_us: u64, stop: &AtomicBool) -> bool {
        let now = self.now_us();
        if now >= at_us {
            return true;
        }
        if stop.load(Ordering::Relaxed) {
            return false;
        }
        std::thread::sleep(Duration::from_micros(at_us - now).min(POLL));
        self.now_us() >= at_us
    }

    fn spend(&self, d: Duration) {
        std::thread::sleep(d);
    }
}

/// A clock that only moves when told to, and never backwards: for tests that drive time
/// by hand (a micro-batch run started with the runtime's `Engine::start_with_clock`, then
/// wait for `batches_completed` in the snapshot to catch up; a Flume sink processor's
/// cool-down; a file sink's roll interval).
#[derive(Debug, Default)]
pub struct ManualClock {
    now_us: Mutex<u64>,
    moved: Condvar,
}

impl ManualClock {
    /// A clock standing at `start_ms` milliseconds.
    pub fn new(start_ms: u64) -> Self {
        Self {
            now_us: Mutex::new(start_ms.saturating_mul(1000)),
            moved: Condvar::new(),
        }
    }

    /// Moves time to `ms` milliseconds; a time earlier than now is ignored.
    pub fn set(&self, ms: u64) {
        self.move_to(|now| now.max(ms.saturating_mul(1000)));
    }

    /// Moves time to `us` microseconds; a time earlier than now is ignored.
    pub fn set_us(&self, us: u64) {
        self.move_to(|now| now.max(us));
    }

    /// Moves time forward by `ms` milliseconds.
    pub fn advance(&self, ms: u64) {
        self.move_to(|now| now.saturating_add(ms.saturating_mul(1000)));
    }

    fn move_to(&self, to: impl FnOnce(u64) -> u64) {
        let mut now = self.lock();
        *now = to(*now);
        self.moved.notify_all();
    }

    fn lock(&self) -> MutexGuard<'_, u64> {
        match self.now_us.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }
}

impl Clock for ManualClock {
    fn now_us(&self) -> u64 {
        *self.lock()
    }
}

impl Timer for ManualClock {
    fn wait_until(&self, at_us: u64, stop: &AtomicBool) -> bool {
        let now = self.lock();
        if *now >= at_us {
            return true;
        }
        if stop.load(Ordering::Relaxed) {
            return false;
        }
        let now = match self.moved.wait_timeout(now, POLL) {
            Ok((g, _)) => g,
            Err(p) => p.into_inner().0,
        };
        *now >= at_us
    }

    fn spend(&self, d: Duration) {
        let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        self.move_to(|now| now.saturating_add(us));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_clock_reads_a_manual_clock_as_time_since_the_start() {
        let start = Instant::now();
        let manual = Arc::new(ManualClock::new(0));
        let clock = RunClock::manual(start, manual.clone());
        assert_eq!(clock.now(), start);
        clock.spend(Duration::from_millis(250));
        assert_eq!(clock.elapsed(), Duration::from_millis(250));
        assert_eq!(clock.now(), start + Duration::from_millis(250));
        manual.set(2_000);
        assert_eq!(clock.elapsed(), Duration::from_secs(2));
        let wall = RunClock::wall(start);
        assert!(wall.now() >= start);
    }

    #[test]
    fn manual_clock_moves_only_forward() {
        let c = ManualClock::new(0);
        c.set(1500);
        c.set(1000);
        assert_eq!(c.now_ms(), 1500);
        c.spend(Duration::from_millis(500));
        assert_eq!(c.now_us(), 2_000_000);
        c.advance(250);
        assert_eq!(c.now_ms(), 2250);
        let stop = AtomicBool::new(false);
        assert!(c.wait_until(2_250_000, &stop));
        assert!(!c.wait_until(2_250_001, &stop));
    }

    #[test]
    fn manual_clock_starts_where_told_and_saturates() {
        let c = ManualClock::new(u64::MAX);
        assert_eq!(c.now_us(), u64::MAX);
        c.advance(1);
        assert_eq!(c.now_us(), u64::MAX);
        assert_eq!(ManualClock::new(7).now_ms(), 7);
    }

    #[test]
    fn a_stopped_wait_returns_without_the_time() {
        let c = ManualClock::new(0);
        let stop = AtomicBool::new(true);
        assert!(!c.wait_until(1, &stop));
        assert!(
            MonotonicClock {
                start: Instant::now()
            }
            .wait_until(0, &stop)
        );
    }
}
