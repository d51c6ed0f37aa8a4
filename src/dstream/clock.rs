//! Batch times: which batch a moment belongs to, and when windows fire.

/// The batch schedule of a stream started at time 0 with a fixed interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchClock {
    interval_ms: u64,
}

impl BatchClock {
    /// `None` for a zero interval, which would make every batch empty and infinite in number.
    pub fn new(interval_ms: u64) -> Option<Self> {
        (interval_ms > 0).then_some(Self { interval_ms })
    }

    pub fn interval_ms(&self) -> u64 {
        self.interval_ms
    }

    /// End time of the batch holding an arrival at `at_ms`: batches cover `(t − B, t]`,
    /// so an arrival exactly on a boundary belongs to the batch ending there.
    pub fn batch_end_for(&self, at_ms: u64) -> u64 {
        at_ms.div_ceil(self.interval_ms).max(1) * self.interval_ms
    }

    /// End of the batch still open at `now_ms`: the next boundary strictly after it. A
    /// batch is cut the moment the clock reaches its end, so on a boundary the batch
    /// ending there is already closed and the next one is open. This is the batch clock's
    /// own "next batch", whatever batch the jobs are at.
    pub fn open_batch_end(&self, now_ms: u64) -> u64 {
        (now_ms / self.interval_ms)
            .saturating_add(1)
            .saturating_mul(self.interval_ms)
    }

    /// Index (1-based) of the batch ending at `time_ms`.
    pub fn batch_index(&self, time_ms: u64) -> u64 {
        time_ms / self.interval_ms
    }

    /// How many batches a duration spans, if it is a whole multiple of the interval
    /// (Spark requires window length and slide to be).
    pub fn batches_in(&self, duration_ms: u64) -> Option<u64> {
        (duration_ms > 0 && duration_ms.is_multiple_of(self.interval_ms))
            .then_some(duration_ms / self.interval_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrivals_fall_into_half_open_intervals() {
        let c = BatchClock::new(1000).unwrap();
        assert_eq!(c.batch_end_for(1), 1000);
        assert_eq!(c.batch_end_for(1000), 1000);
        assert_eq!(c.batch_end_for(1001), 2000);
        assert_eq!(c.batch_end_for(0), 1000);
        assert_eq!(c.batch_index(3000), 3);
    }

    #[test]
    fn the_open_batch_ends_at_the_next_boundary_after_now() {
        let c = BatchClock::new(500).unwrap();
        assert_eq!(c.open_batch_end(0), 500);
        assert_eq!(c.open_batch_end(25_800), 26_000);
        assert_eq!(c.open_batch_end(25_999), 26_000);
        // On a boundary the batch ending there is cut: the next one is open.
        assert_eq!(c.open_batch_end(26_000), 26_500);
    }

    #[test]
    fn windows_must_be_multiples() {
        let c = BatchClock::new(500).unwrap();
        assert_eq!(c.batches_in(2000), Some(4));
        assert_eq!(c.batches_in(1250), None);
        assert!(BatchClock::new(0).is_none());
    }
}
