//! Batch statistics: written by the scheduler once per batch (under one short lock) and
//! turned into [`BatchMetrics`] for the snapshot.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use super::super::metrics::{
    BatchInfo, BatchMetrics, Histogram, RECENT_BATCHES, WindowResult, quantile,
};
use crate::dstream::BatchClock;

/// Running batch statistics (scheduler side).
#[derive(Debug, Default)]
pub(crate) struct BatchStats {
    pub completed: u64,
    pub total_records: u64,
    /// End of the batch whose job starts next. It lags the clock when jobs fall behind,
    /// so it counts the batches queued; it is not the batch clock's next batch.
    pub next_job_ms: u64,
    pub recent: VecDeque<BatchInfo>,
    pub max_delay: Duration,
    pub processing: Histogram,
    pub windows: BTreeMap<String, WindowResult>,
    pub workers_killed: u64,
    pub partitions_recomputed: u64,
    pub records_recomputed: u64,
}

impl BatchStats {
    pub fn record(&mut self, info: BatchInfo) {
        self.completed += 1;
        self.total_records += info.records;
        self.workers_killed += info.killed_workers.len() as u64;
        self.partitions_recomputed += info.recomputed.len() as u64;
        self.records_recomputed += info.recomputed.iter().map(|r| r.records).sum::<u64>();
        self.max_delay = self.max_delay.max(info.scheduling_delay);
        self.processing
            .record_n(info.processing_time.as_nanos() as u64, 1);
        if self.recent.len() == RECENT_BATCHES {
            self.recent.pop_front();
        }
        self.recent.push_back(info);
    }

    pub fn metrics(&self, interval_ms: u64, clock_ms: u64) -> BatchMetrics {
        let interval = Duration::from_millis(interval_ms);
        let mut counts = Histogram::empty_counts();
        self.processing.add_to(&mut counts);
        let last = self.recent.back().cloned().unwrap_or_default();
        let waiting = if clock_ms >= self.next_job_ms && interval_ms > 0 {
            (clock_ms - self.next_job_ms) / interval_ms + 1
        } else {
            0
        };
        // The clock's next boundary, read from the clock itself: the jobs' position lags
        // it by the queued batches (a strip once said "next batch ends at 19.5 s" at
        // 25.8 s).
        let next_batch_ms =
            BatchClock::new(interval_ms).map_or(clock_ms, |c| c.open_batch_end(clock_ms));
        BatchMetrics {
            interval,
            clock_ms,
            next_batch_ms,
            waiting_batches: waiting,
            batches_completed: self.completed,
            last_batch_ms: self.recent.back().map(|b| b.time_ms),
            last_batch_records: last.records,
            mean_records_per_batch: if self.completed == 0 {
                0.0
            } else {
                self.total_records as f64 / self.completed as f64
            },
            last_processing_time: last.processing_time,
            processing_time_p50: quantile(&counts, 0.5),
            processing_time_p99: quantile(&counts, 0.99),
            last_scheduling_delay: last.scheduling_delay,
            max_scheduling_delay: self.max_delay,
            falling_behind: self.completed > 0
                && (last.processing_time > interval || last.scheduling_delay > interval),
            recent: self.recent.iter().cloned().collect(),
            windows: self.windows.clone(),
            workers_killed: self.workers_killed,
            partitions_recomputed: self.partitions_recomputed,
            records_recomputed: self.records_recomputed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_batch_is_the_clocks_not_the_jobs() {
        // Jobs at the batch ending 19.5 s, the clock at 25.8 s (500 ms batches).
        let stats = BatchStats {
            next_job_ms: 19_500,
            ..BatchStats::default()
        };
        let m = stats.metrics(500, 25_800);
        assert_eq!(m.next_batch_ms, 26_000);
        // 19.5 s … 25.5 s have closed without their jobs starting.
        assert_eq!(m.waiting_batches, 13);
        let caught_up = BatchStats {
            next_job_ms: 26_000,
            ..BatchStats::default()
        };
        let m = caught_up.metrics(500, 25_800);
        assert_eq!((m.next_batch_ms, m.waiting_batches), (26_000, 0));
    }
}
