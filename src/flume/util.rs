//! Small shared pieces: a stop signal that interrupts sleeps, and readers for node config
//! values. (Time-based rules read `crate::clock`, so tests drive them without sleeping.)

use std::collections::BTreeMap;
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use crate::model::Value;

/// A latch that runner threads check and sleep on, so a stop request wakes them at once
/// instead of waiting out a back-off.
#[derive(Debug, Default)]
pub struct StopSignal {
    stopped: Mutex<bool>,
    wake: Condvar,
}

impl StopSignal {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn stop(&self) {
        let mut stopped = self.stopped.lock().unwrap_or_else(|p| p.into_inner());
        *stopped = true;
        self.wake.notify_all();
    }

    pub fn is_stopped(&self) -> bool {
        *self.stopped.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sleeps up to `duration`; returns `true` when stopped (before or during the sleep).
    pub fn sleep(&self, duration: Duration) -> bool {
        let guard = self.stopped.lock().unwrap_or_else(|p| p.into_inner());
        if *guard || duration.is_zero() {
            return *guard;
        }
        let (guard, _) = self
            .wake
            .wait_timeout_while(guard, duration, |stopped| !*stopped)
            .unwrap_or_else(|p| p.into_inner());
        *guard
    }
}

/// Seconds from a config value as a [`Duration`] that never panics: negative and NaN
/// are zero, and anything too long for a `Duration` is `Duration::MAX` (a wait that
/// only a stop ends).
pub fn duration_from_secs(secs: f64) -> Duration {
    if secs.is_nan() || secs <= 0.0 {
        return Duration::ZERO;
    }
    Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX)
}

/// Typed reads of a node's config with Flume's defaults; wrong types fall back to the
/// default because `validate` has already reported them to the user.
pub(crate) struct Conf<'a>(pub &'a BTreeMap<String, Value>);

impl Conf<'_> {
    pub fn int(&self, key: &str, default: i64) -> i64 {
        match self.0.get(key) {
            Some(Value::Int(i)) => *i,
            Some(Value::Float(f)) => *f as i64,
            Some(Value::Str(s)) => s.trim().parse().unwrap_or(default),
            _ => default,
        }
    }

    pub fn uint(&self, key: &str, default: u64) -> u64 {
        u64::try_from(self.int(key, default as i64)).unwrap_or(default)
    }

    /// A count for sizing things in memory.
    pub fn size(&self, key: &str, default: usize) -> usize {
        usize::try_from(self.uint(key, default as u64)).unwrap_or(usize::MAX)
    }

    /// Seconds as a duration; see [`duration_from_secs`].
    pub fn secs(&self, key: &str, default: f64) -> Duration {
        duration_from_secs(self.float(key, default))
    }

    pub fn float(&self, key: &str, default: f64) -> f64 {
        match self.0.get(key) {
            Some(v) => v
                .as_f64()
                .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                .unwrap_or(default),
            None => default,
        }
    }

    pub fn bool(&self, key: &str, default: bool) -> bool {
        match self.0.get(key) {
            Some(Value::Bool(b)) => *b,
            Some(Value::Str(s)) => match s.trim() {
                "true" => true,
                "false" => false,
                _ => default,
            },
            _ => default,
        }
    }

    pub fn str(&self, key: &str) -> Option<String> {
        match self.0.get(key) {
            Some(Value::Str(s)) => Some(s.clone()),
            Some(Value::Int(i)) => Some(i.to_string()),
            Some(Value::Float(f)) => Some(f.to_string()),
            Some(Value::Bool(b)) => Some(b.to_string()),
            _ => None,
        }
    }

    /// A Flume name list: a space-separated string or a RON list of strings.
    pub fn names(&self, key: &str) -> Vec<String> {
        match self.0.get(key) {
            Some(Value::Str(s)) => s.split_whitespace().map(str::to_string).collect(),
            Some(Value::List(items)) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_number_of_seconds_becomes_a_duration_without_panicking() {
        assert_eq!(duration_from_secs(1.5), Duration::from_millis(1500));
        for zero in [0.0, -1.0, f64::NAN, f64::NEG_INFINITY, -1e300] {
            assert_eq!(duration_from_secs(zero), Duration::ZERO, "{zero}");
        }
        for huge in [1e30, f64::INFINITY, f64::MAX] {
            assert_eq!(duration_from_secs(huge), Duration::MAX, "{huge}");
        }
    }

    #[test]
    fn a_stop_ends_even_the_longest_sleep() {
        let stop = std::sync::Arc::new(StopSignal::new());
        let sleeper = {
            let stop = std::sync::Arc::clone(&stop);
            std::thread::spawn(move || stop.sleep(Duration::MAX))
        };
        stop.stop();
        assert!(sleeper.join().unwrap());
    }
}
