//! The batch scheduler's sense of time. Real runs read a monotonic clock; tests inject a
//! [`ManualClock`] and move time by hand, so which batch a record falls into and how late
//! a batch starts never depend on how fast the test machine is.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// Longest a waiting thread sleeps before looking at its stop flag again.
const POLL: Duration = Duration::from_millis(10);

/// Microseconds since the run started, as the batch engine sees them.
pub(crate) trait Timer: Send + Sync {
    fn now_us(&self) -> u64;
    /// Blocks until `now_us() >= at_us`, `stop` is set, or `POLL` passes; true when the
    /// time was reached (callers loop, re-checking their own flags).
    fn wait_until(&self, at_us: u64, stop: &AtomicBool) -> bool;
    /// Spends `d` of processing time: injected latency sleeps on a real clock and moves a
    /// manual clock forward, so a slow operator shows up as a late batch in both.
    fn spend(&self, d: Duration);
}

/// The monotonic clock of a real run.
pub(crate) struct RealTimer {
    pub start: Instant,
}

impl Timer for RealTimer {
    fn now_us(&self) -> u64 {
        self.start.elapsed().as_micros() as u64
    }

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

/// A clock that only moves when told to: for tests that drive batches by hand.
///
/// Hand one to [`crate::runtime::Engine::start_with_clock`]; then `set` or `advance` it
/// and wait for `batches_completed` in the snapshot to catch up.
#[derive(Debug, Default)]
pub struct ManualClock {
    now_us: Mutex<u64>,
    moved: Condvar,
}

impl ManualClock {
    pub fn new() -> Self {
        Self::default()
    }

    /// Current time in milliseconds since the run started.
    pub fn now_ms(&self) -> u64 {
        self.read() / 1000
    }

    /// Moves time to `ms` (never backwards).
    pub fn set_ms(&self, ms: u64) {
        let mut now = self.lock();
        *now = (*now).max(ms.saturating_mul(1000));
        self.moved.notify_all();
    }

    /// Moves time forward by `d`.
    pub fn advance(&self, d: Duration) {
        let mut now = self.lock();
        *now = now.saturating_add(d.as_micros() as u64);
        self.moved.notify_all();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, u64> {
        match self.now_us.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    fn read(&self) -> u64 {
        *self.lock()
    }
}

impl Timer for ManualClock {
    fn now_us(&self) -> u64 {
        self.read()
    }

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
        self.advance(d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_forward() {
        let c = ManualClock::new();
        c.set_ms(1500);
        c.set_ms(1000);
        assert_eq!(c.now_ms(), 1500);
        c.spend(Duration::from_millis(500));
        assert_eq!(c.now_us(), 2_000_000);
        let stop = AtomicBool::new(false);
        assert!(c.wait_until(2_000_000, &stop));
        assert!(!c.wait_until(2_000_001, &stop));
    }
}
