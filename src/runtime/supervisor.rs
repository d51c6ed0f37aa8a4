//! Supervision: a task that panics is rebuilt from its factory after a backoff, and the
//! restart is counted and logged. Tuples it held are lost; their trees time out and the
//! spouts replay them, so at-least-once delivery survives crashes.

use std::any::Any;
use std::time::{Duration, Instant};

/// The payload of a crash injected by fault injection. It is raised with
/// `resume_unwind`, which skips the panic hook, so injected crashes don't spam stderr.
#[derive(Debug)]
pub struct InjectedCrash;

/// Raises an injected crash.
pub fn crash() -> ! {
    std::panic::resume_unwind(Box::new(InjectedCrash))
}

/// Human text for a panic payload.
pub fn describe(payload: &(dyn Any + Send)) -> String {
    if payload.is::<InjectedCrash>() {
        "injected crash".to_string()
    } else if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic".to_string()
    }
}

/// Exponential backoff between restarts of one task: 10 ms doubling to 1 s, reset
/// after 10 s without a crash.
#[derive(Debug, Clone, Default)]
pub struct Backoff {
    streak: u32,
    last: Option<Instant>,
}

impl Backoff {
    pub fn next_delay(&mut self, now: Instant) -> Duration {
        if self
            .last
            .is_some_and(|t| now.duration_since(t) > Duration::from_secs(10))
        {
            self.streak = 0;
        }
        self.last = Some(now);
        let delay = Duration::from_millis(10u64 << self.streak.min(7)).min(Duration::from_secs(1));
        self.streak += 1;
        delay
    }
}

/// Sleeps up to `delay`, waking early when `stop` says so.
pub fn sleep_unless(delay: Duration, stop: impl Fn() -> bool) {
    let end = Instant::now() + delay;
    while !stop() {
        let now = Instant::now();
        if now >= end {
            break;
        }
        std::thread::sleep((end - now).min(Duration::from_millis(5)));
    }
}

/// Joins every thread of a run. A thread that died outside the supervisor's restart loop
/// is reported in the run log rather than lost, whichever execution mode owned it.
pub(crate) fn join_all(
    threads: &mut Vec<std::thread::JoinHandle<()>>,
    log: &super::log::RunLog,
    what: &str,
) {
    for handle in threads.drain(..) {
        if let Err(payload) = handle.join() {
            let why = describe(payload.as_ref());
            log.push(
                "engine",
                0,
                super::log::LogKind::Error,
                format!("{what} died: {why}"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let mut b = Backoff::default();
        let now = Instant::now();
        let d: Vec<u128> = (0..9).map(|_| b.next_delay(now).as_millis()).collect();
        assert_eq!(d[..4], [10, 20, 40, 80]);
        assert_eq!(d[8], 1000);
    }
}
