//! Fault injection for sinks: a switch the designer (through the engine's `SetFaults`
//! control) turns up so that a sink's `process` fails before it touches its channel.
//! That is how a user makes a failover group switch over, or a runner back off, on
//! purpose and watches it happen.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use rand_xoshiro::SplitMix64;
use rand_xoshiro::rand_core::{Rng as _, SeedableRng};

use super::SinkCounters;
use crate::flume::sink_processor::{Sink, SinkError, Status};

/// The failure chance of one sink, shared between the engine and the sink's runner.
#[derive(Debug, Default)]
pub struct FaultSwitch {
    /// f64 bits of the chance that one `process` call fails; 0 = off.
    fail_bits: AtomicU64,
}

impl FaultSwitch {
    /// Sets the chance (clamped to 0..=1) that a `process` call fails.
    pub fn set_fail_probability(&self, p: f64) {
        let p = if p.is_nan() { 0.0 } else { p.clamp(0.0, 1.0) };
        self.fail_bits.store(p.to_bits(), Ordering::Relaxed);
    }

    pub fn fail_probability(&self) -> f64 {
        f64::from_bits(self.fail_bits.load(Ordering::Relaxed))
    }
}

/// Wraps a sink so that its switch can make it fail. Draws are seeded, so a run with
/// the same seed fails the same calls.
pub struct FaultySink {
    inner: Box<dyn Sink>,
    switch: Arc<FaultSwitch>,
    counters: Arc<SinkCounters>,
    draws: SplitMix64,
}

impl FaultySink {
    pub fn new(
        inner: Box<dyn Sink>,
        switch: Arc<FaultSwitch>,
        counters: Arc<SinkCounters>,
        seed: u64,
    ) -> Self {
        Self {
            inner,
            switch,
            counters,
            draws: SplitMix64::seed_from_u64(seed),
        }
    }

    /// A uniform draw in [0, 1) from a SplitMix64 sequence (the same numbers this sink
    /// drew when it kept SplitMix64 by hand, so a seed fails the same calls).
    fn draw(&mut self) -> f64 {
        (self.draws.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

impl Sink for FaultySink {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn process(&mut self) -> Result<Status, SinkError> {
        let p = self.switch.fail_probability();
        if p > 0.0 && self.draw() < p {
            self.counters.failures.fetch_add(1, Ordering::Relaxed);
            *self
                .counters
                .last_error
                .lock()
                .unwrap_or_else(|p| p.into_inner()) = Some("injected fault".into());
            return Err(SinkError {
                sink: self.inner.name().to_string(),
                message: "injected fault".into(),
            });
        }
        self.inner.process()
    }

    fn stop(&mut self) {
        self.inner.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Always;
    impl Sink for Always {
        fn name(&self) -> &str {
            "k"
        }
        fn process(&mut self) -> Result<Status, SinkError> {
            Ok(Status::Ready)
        }
    }

    #[test]
    fn the_switch_makes_process_fail_and_counts_it() {
        let switch = Arc::new(FaultSwitch::default());
        let counters = Arc::new(SinkCounters::default());
        let mut sink = FaultySink::new(Box::new(Always), Arc::clone(&switch), counters.clone(), 1);
        assert_eq!(sink.process(), Ok(Status::Ready));
        switch.set_fail_probability(1.0);
        assert!(sink.process().is_err());
        assert_eq!(counters.failures.load(Ordering::Relaxed), 1);
        switch.set_fail_probability(0.0);
        assert_eq!(sink.process(), Ok(Status::Ready));
    }
}
