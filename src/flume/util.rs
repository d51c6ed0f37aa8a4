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

/// Typed reads of a node's config, for Flume keys the registry does not declare
/// (`pollDelay`, `fileSuffix`, interceptor and selector keys, …): their Flume default is
/// written at the one place that reads them. Keys the registry declares are read with
/// [`Settings`] instead. Wrong types fall back to the default because `validate` has
/// already reported them to the user.
pub(crate) struct Conf<'a>(pub &'a BTreeMap<String, Value>);

/// Typed reads of the settings the registry declares for one component, with the
/// registry's default (`components::config_or_default`), so a Flume source, channel or
/// sink never repeats a default the palette, inspector and validation also show.
/// Values may be text (from a Flume properties file) and are parsed as [`Conf`] does.
pub(crate) struct Settings<'a> {
    conf: Conf<'a>,
    component: &'static str,
}

impl<'a> Settings<'a> {
    pub fn new(component: &'static str, config: &'a BTreeMap<String, Value>) -> Self {
        Self {
            conf: Conf(config),
            component,
        }
    }

    /// The registry's default of `key` (a typed value: the registry writes no text
    /// for numbers).
    fn default(&self, key: &str) -> Option<&'static Value> {
        crate::components::default_value(self.component, key)
    }

    pub fn int(&self, key: &str) -> i64 {
        let default = self.default(key).and_then(Value::as_i64);
        self.conf.int(key, default.unwrap_or(0))
    }

    pub fn uint(&self, key: &str) -> u64 {
        let default = self.default(key).and_then(Value::as_i64);
        self.conf.uint(
            key,
            default.and_then(|d| u64::try_from(d).ok()).unwrap_or(0),
        )
    }

    /// A count for sizing things in memory.
    pub fn size(&self, key: &str) -> usize {
        usize::try_from(self.uint(key)).unwrap_or(usize::MAX)
    }

    pub fn float(&self, key: &str) -> f64 {
        let default = self.default(key).and_then(Value::as_f64);
        self.conf.float(key, default.unwrap_or(0.0))
    }

    /// Seconds as a duration; see [`duration_from_secs`].
    pub fn secs(&self, key: &str) -> Duration {
        duration_from_secs(self.float(key))
    }

    pub fn str(&self, key: &str) -> String {
        self.conf.str(key).unwrap_or_else(|| self.default_str(key))
    }

    /// The registry's default text of `key`, for a configured value that turns out
    /// empty (a path list with no entry).
    pub fn default_str(&self, key: &str) -> String {
        self.default(key)
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }

    /// The same config read for keys the registry does not declare.
    pub fn flume(&self) -> &Conf<'a> {
        &self.conf
    }
}

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

    /// For every built-in, the Flume side reads an empty config as the registry's
    /// defaults, and the constructors that size things get them too.
    #[test]
    fn empty_config_reads_every_registry_default() {
        let empty = BTreeMap::new();
        for d in crate::components::registry() {
            let s = Settings::new(d.id, &empty);
            for p in &d.params {
                let what = format!("{}.{}", d.id, p.key);
                match &p.default {
                    Some(Value::Int(i)) => assert_eq!(s.int(p.key), *i, "{what}"),
                    Some(Value::Float(f)) => assert_eq!(s.float(p.key), *f, "{what}"),
                    Some(Value::Str(t)) => assert_eq!(&s.str(p.key), t, "{what}"),
                    _ => {}
                }
            }
        }
        let default = |id, key| {
            crate::components::default_value(id, key)
                .and_then(Value::as_i64)
                .and_then(|i| u64::try_from(i).ok())
        };
        let memory = crate::flume::memory_channel::memory_config(&empty);
        assert_eq!(Some(memory.capacity as u64), default("memory", "capacity"));
        assert_eq!(
            Some(memory.transaction_capacity as u64),
            default("memory", "transactionCapacity")
        );
        assert_eq!(
            Some(memory.keep_alive.as_secs()),
            default("memory", "keep-alive")
        );
        assert_eq!(
            Some(crate::flume::sources::netcat::max_line_length(&empty)),
            default("netcat", "max-line-length")
        );
        assert_eq!(
            Some(crate::flume::sources::netcat::max_connections(&empty)),
            default("netcat", "max-connections")
        );
        let base = tempfile::tempdir().unwrap();
        let grant = crate::policy::Grant::new(base.path());
        let file =
            crate::flume::file_channel::FileChannelConfig::from_node_config("f", &empty, &grant)
                .unwrap();
        assert_eq!(
            Some(file.channel.capacity as u64),
            default("file", "capacity")
        );
        assert_eq!(
            Some(file.checkpoint_interval_ms),
            default("file", "checkpointInterval")
        );
        assert!(file.checkpoint_dir.ends_with("file-channel/checkpoint"));
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
