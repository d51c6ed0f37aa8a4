//! The sink runner: Flume's `SinkRunner` loop that drives one sink or one sink group.
//!
//! Each runner owns one thread (started by the lifecycle) and its processor; it calls
//! `process` in a loop and backs off when the channel is empty or delivery fails, so an
//! idle agent does not spin. The loop's clock-facing parts are injected, so the back-off
//! schedule is tested without sleeping.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use crate::flume::sink_processor::{SinkProcessor, SinkSlot, Status};
use crate::flume::util::StopSignal;

/// Counters of one sink runner (a sink or a whole sink group).
#[derive(Debug, Default)]
pub struct RunnerCounters {
    /// Back-off sleeps taken (empty channel or failure).
    pub backoffs: AtomicU64,
    /// The runner is sleeping in back-off right now.
    pub in_backoff: AtomicBool,
    /// `process` calls that failed (every sink of a group failed, or the only sink did).
    pub errors: AtomicU64,
    /// The processor's view of its sinks after the last `process`.
    pub slots: Mutex<Vec<SinkSlot>>,
}

/// Flume's `SinkRunner`: call `process` in a loop; after an empty poll sleep
/// `min(step × consecutive back-offs, max)`, after a failure sleep `max`.
pub(super) fn run_sinks(
    processor: SinkProcessor,
    counters: &RunnerCounters,
    stop: &StopSignal,
    step: Duration,
    max: Duration,
) {
    run_sinks_with(
        processor,
        counters,
        step,
        max,
        || stop.is_stopped(),
        |d| stop.sleep(d),
    );
}

/// The runner loop with its clock-facing parts injected: `stopped` is polled before each
/// `process`, `sleep` pauses and returns `true` when the runner should stop.
fn run_sinks_with(
    mut processor: SinkProcessor,
    counters: &RunnerCounters,
    step: Duration,
    max: Duration,
    stopped: impl Fn() -> bool,
    mut sleep: impl FnMut(Duration) -> bool,
) {
    let mut consecutive: u32 = 0;
    while !stopped() {
        let result = processor.process();
        *counters.slots.lock().unwrap_or_else(|p| p.into_inner()) = processor.slots();
        let pause = match result {
            Ok(Status::Ready) => {
                consecutive = 0;
                continue;
            }
            Ok(Status::Backoff) => {
                consecutive = consecutive.saturating_add(1);
                step.saturating_mul(consecutive).min(max)
            }
            Err(_) => {
                counters.errors.fetch_add(1, Ordering::Relaxed);
                max
            }
        };
        counters.backoffs.fetch_add(1, Ordering::Relaxed);
        counters.in_backoff.store(true, Ordering::Relaxed);
        let stop_now = sleep(pause);
        counters.in_backoff.store(false, Ordering::Relaxed);
        if stop_now {
            break;
        }
    }
    processor.stop();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flume::sink_processor::Sink;

    /// A sink that replays a script of outcomes.
    struct Scripted(std::collections::VecDeque<Result<Status, ()>>);

    impl Sink for Scripted {
        fn name(&self) -> &str {
            "scripted"
        }
        fn process(&mut self) -> Result<Status, crate::flume::sink_processor::SinkError> {
            match self.0.pop_front().unwrap_or(Ok(Status::Backoff)) {
                Ok(s) => Ok(s),
                Err(()) => Err(crate::flume::sink_processor::SinkError {
                    sink: "scripted".into(),
                    message: "down".into(),
                }),
            }
        }
    }

    #[test]
    fn sink_runner_backs_off_in_growing_steps_capped_at_max() {
        use Status::{Backoff, Ready};
        let script = [
            Ok(Backoff),
            Ok(Backoff),
            Ok(Backoff),
            Ok(Backoff),
            Ok(Backoff),
            Ok(Backoff),
            Ok(Ready),
            Ok(Backoff),
            Err(()),
        ];
        let sink = Scripted(script.into_iter().collect());
        let counters = RunnerCounters::default();
        let mut pauses = Vec::new();
        run_sinks_with(
            SinkProcessor::Default(Box::new(sink)),
            &counters,
            Duration::from_secs(1),
            Duration::from_secs(5),
            || false,
            |d| {
                pauses.push(d.as_secs());
                pauses.len() == 8
            },
        );
        assert_eq!(pauses, [1, 2, 3, 4, 5, 5, 1, 5]);
        assert_eq!(counters.errors.load(Ordering::Relaxed), 1);
        assert_eq!(counters.backoffs.load(Ordering::Relaxed), 8);
    }
}
