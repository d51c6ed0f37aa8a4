//! Sources: take data from outside and put it into channels through a
//! [`ChannelProcessor`], one transaction per batch and required channel.
//!
//! Each source runs on its own thread until its [`StopSignal`] fires. A batch refused by a
//! required channel (full, closed) is retried after a pause until it succeeds or the source
//! stops, so pollable sources (`seq`, `spooldir`) never lose data to back-pressure; a full
//! channel shows as `blocked` in the source's counters. Netcat instead answers `FAILED` to
//! its client, as Flume does, and the client decides.
//!
//! Flume's `exec` source is deliberately not provided: running arbitrary shell commands from
//! a topology file is a security hazard, and Flume itself gives it no delivery guarantee.

pub mod lines;
pub mod netcat;
pub mod spooldir;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::Event;
use super::channel_processor::ChannelProcessor;
use super::fatal::FatalLog;
use super::notice::Notices;
use super::util::{Settings, StopSignal, duration_from_secs};
use crate::model::Value;

pub use netcat::NetcatSource;
pub use spooldir::SpoolDirSource;

/// Live counters of one source, readable from any thread.
#[derive(Debug, Default)]
pub struct SourceCounters {
    /// Events read from outside.
    pub received: AtomicU64,
    /// Events committed to all required channels (after interceptors).
    pub accepted: AtomicU64,
    /// Batches refused by a required channel (each retried or answered FAILED).
    pub failed_batches: AtomicU64,
    /// The last put failed and the source is waiting to retry: back-pressure.
    pub blocked: AtomicBool,
    /// The source ended on its own (a `seq` source reached its limit, or its thread
    /// died): a run that only has finite sources can tell when it is done.
    pub finished: AtomicBool,
    /// Lines longer than the source's limit: refused (netcat) or truncated (spooldir).
    pub too_long: AtomicU64,
    /// Connections closed at once because the source already had its maximum open.
    pub refused_connections: AtomicU64,
    /// The run is paused and the source holds its next batch: set (after its last
    /// batch was counted) before it waits, cleared when it goes on. The engine's
    /// acknowledgement of a pause, which the designer and tests can wait for.
    pub holding: AtomicBool,
    pub last_error: Mutex<Option<String>>,
}

impl SourceCounters {
    pub(crate) fn set_error(&self, message: impl Into<String>) {
        *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(message.into());
    }

    pub fn last_error(&self) -> Option<String> {
        self.last_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// How often a paused source looks whether it may go on.
const PAUSE_POLL: Duration = Duration::from_millis(20);

/// What a running source needs.
#[derive(Clone)]
pub struct SourceContext {
    pub processor: Arc<ChannelProcessor>,
    pub stop: Arc<StopSignal>,
    pub counters: Arc<SourceCounters>,
    /// Pause before retrying a refused batch.
    pub retry_pause: Duration,
    /// While set, `deliver` holds the batch (the run is paused from the designer), so
    /// every source pauses without knowing about it.
    pub paused: Arc<AtomicBool>,
    /// Where the source reports what the run log should show.
    pub notices: Arc<Notices>,
    /// Where threads the source starts itself (netcat connections) record a panic.
    pub fatal: Arc<FatalLog>,
}

impl SourceContext {
    /// Puts a batch, retrying until it commits; `false` if the source was stopped first.
    pub fn deliver(&self, batch: Vec<Event>) -> bool {
        if self.paused.load(Ordering::Relaxed) {
            self.counters.holding.store(true, Ordering::Release);
            while self.paused.load(Ordering::Relaxed) {
                if self.stop.sleep(PAUSE_POLL) {
                    self.counters.holding.store(false, Ordering::Release);
                    return false;
                }
            }
            self.counters.holding.store(false, Ordering::Release);
        }
        self.counters
            .received
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        loop {
            match self.processor.process_batch(batch.clone()) {
                Ok(n) => {
                    self.counters
                        .accepted
                        .fetch_add(n as u64, Ordering::Relaxed);
                    self.counters.blocked.store(false, Ordering::Relaxed);
                    return true;
                }
                Err(e) => {
                    self.counters.failed_batches.fetch_add(1, Ordering::Relaxed);
                    self.counters.blocked.store(true, Ordering::Relaxed);
                    self.counters.set_error(e.to_string());
                    if self.stop.sleep(self.retry_pause) {
                        return false;
                    }
                }
            }
        }
    }
}

/// A runnable source.
pub trait Source: Send {
    fn name(&self) -> &str;
    /// Runs until the context's stop signal fires (or the source is exhausted).
    fn run(self: Box<Self>, ctx: SourceContext);
}

/// Flume's `seq` source: counts up from `start` (0), `batchSize` (1) events per
/// transaction, at most `rate_per_sec` events a second (0 = unthrottled), stopping after
/// `limit` events (0 = never; Flume's `totalEvents`). It also stops after the largest
/// 64-bit number rather than wrap around to negative ones.
pub struct SeqSource {
    name: String,
    next: i64,
    batch: usize,
    limit: u64,
    rate_per_sec: f64,
    /// The counter went past `i64::MAX`: nothing left to send.
    exhausted: bool,
}

/// Most events in one `seq` batch (`batchSize` is clamped to this), so a batch's memory
/// is bounded whatever the config says.
pub const MAX_SEQ_BATCH: u64 = 100_000;

impl SeqSource {
    pub fn new(name: &str, config: &std::collections::BTreeMap<String, Value>) -> Self {
        let s = Settings::new("sequence", config);
        let c = s.flume();
        let limit = match s.uint("limit") {
            0 => c.uint("totalEvents", 0),
            n => n,
        };
        Self {
            name: name.to_string(),
            next: s.int("start"),
            batch: c.uint("batchSize", 1).clamp(1, MAX_SEQ_BATCH) as usize,
            limit,
            rate_per_sec: s.float("rate_per_sec"),
            exhausted: false,
        }
    }
}

impl SeqSource {
    /// How long to wait after a batch of `n` so the rate holds; `None` when unthrottled.
    /// A rate so small that the pause does not fit a `Duration` waits until stopped
    /// (validation refuses such rates, but the runtime must not panic on them).
    fn pause_after(&self, n: u64) -> Option<Duration> {
        (self.rate_per_sec > 0.0).then(|| duration_from_secs(n as f64 / self.rate_per_sec))
    }
}

impl Source for SeqSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn run(mut self: Box<Self>, ctx: SourceContext) {
        let mut sent: u64 = 0;
        while !ctx.stop.is_stopped() && !self.exhausted {
            let mut n = self.batch as u64;
            if self.limit > 0 {
                n = n.min(self.limit.saturating_sub(sent));
            }
            // Numbers left before the counter would pass i64::MAX.
            let left = i64::MAX.abs_diff(self.next).saturating_add(1);
            n = n.min(left);
            if n == 0 {
                return;
            }
            let batch: Vec<Event> = (self.next..=i64::MAX)
                .take(n as usize)
                .map(|v| Event::new(v.to_string()))
                .collect();
            if !ctx.deliver(batch) {
                return;
            }
            match i64::try_from(n).ok().and_then(|n| self.next.checked_add(n)) {
                Some(next) => self.next = next,
                None => {
                    self.exhausted = true;
                    ctx.notices.info(
                        &self.name,
                        format!(
                            "reached {} and stopped: the next number would not fit in 64 bits",
                            i64::MAX
                        ),
                    );
                }
            }
            sent = sent.saturating_add(n);
            if let Some(pause) = self.pause_after(n)
                && ctx.stop.sleep(pause)
            {
                return;
            }
        }
    }
}

/// Where in-process avro hops find their downstream source: avro sources register under
/// their port, avro sinks look the port up. Shared by all agents of one run.
#[derive(Default)]
pub struct HopRegistry {
    endpoints: Mutex<HashMap<u16, Arc<HopEndpoint>>>,
}

/// The receiving end of a hop: an avro source's processor and counters.
pub struct HopEndpoint {
    pub source: String,
    pub processor: Arc<ChannelProcessor>,
    pub counters: Arc<SourceCounters>,
}

impl HopRegistry {
    pub fn register(&self, port: u16, endpoint: Arc<HopEndpoint>) -> Result<(), String> {
        let mut map = self.endpoints.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(existing) = map.get(&port) {
            return Err(format!(
                "port {port} is already taken by avro source '{}'",
                existing.source
            ));
        }
        map.insert(port, endpoint);
        Ok(())
    }

    pub fn unregister(&self, port: u16) {
        self.endpoints
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&port);
    }

    pub fn lookup(&self, port: u16) -> Option<Arc<HopEndpoint>> {
        self.endpoints
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&port)
            .cloned()
    }
}

impl HopEndpoint {
    /// Puts a batch that arrived over the hop; the caller (an avro sink) keeps its own
    /// take transaction open until this returns `Ok`, so the hop is reliable.
    pub fn receive(&self, batch: Vec<Event>) -> Result<usize, String> {
        self.counters
            .received
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        match self.processor.process_batch(batch) {
            Ok(n) => {
                self.counters
                    .accepted
                    .fetch_add(n as u64, Ordering::Relaxed);
                self.counters.blocked.store(false, Ordering::Relaxed);
                Ok(n)
            }
            Err(e) => {
                self.counters.failed_batches.fetch_add(1, Ordering::Relaxed);
                self.counters.blocked.store(true, Ordering::Relaxed);
                self.counters.set_error(e.to_string());
                Err(e.to_string())
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::clock::ManualClock;
    use crate::flume::channel::{Channel, ChannelConfig, Transaction};
    use crate::flume::interceptor::InterceptorChain;
    use crate::flume::memory_channel::MemoryChannel;
    use crate::flume::selector::ChannelSelector;

    pub(crate) fn context(capacity: usize) -> (SourceContext, Arc<dyn Channel>) {
        let ch: Arc<dyn Channel> = Arc::new(MemoryChannel::new(
            "c",
            ChannelConfig {
                capacity,
                transaction_capacity: 1000,
                keep_alive: Duration::ZERO,
                ..ChannelConfig::default()
            },
        ));
        let processor = Arc::new(ChannelProcessor::new(
            vec![Arc::clone(&ch)],
            ChannelSelector::replicating([0]),
            InterceptorChain::empty(Arc::new(ManualClock::new(0))),
        ));
        (
            SourceContext {
                processor,
                stop: Arc::new(StopSignal::new()),
                counters: Arc::new(SourceCounters::default()),
                retry_pause: Duration::from_millis(1),
                paused: Arc::new(AtomicBool::new(false)),
                notices: Arc::new(Notices::new()),
                fatal: Arc::new(FatalLog::default()),
            },
            ch,
        )
    }

    /// Takes what the channel holds, up to one transaction's worth.
    pub(crate) fn bodies(ch: &dyn Channel) -> Vec<String> {
        let mut tx = Transaction::begin(ch);
        let mut out = Vec::new();
        loop {
            match tx.take() {
                Ok(Some(e)) => out.push(e.body_text().into_owned()),
                Ok(None) | Err(crate::flume::ChannelError::TakeListFull { .. }) => break,
                Err(e) => panic!("{e}"),
            }
        }
        tx.commit().unwrap();
        out
    }

    #[test]
    fn seq_counts_up_in_batches_to_its_limit() {
        let (ctx, ch) = context(100);
        let config = BTreeMap::from([
            ("start".to_string(), Value::Int(5)),
            ("limit".to_string(), Value::Int(7)),
            ("batchSize".to_string(), Value::Int(3)),
        ]);
        Box::new(SeqSource::new("s", &config)).run(ctx.clone());
        assert_eq!(bodies(&*ch), ["5", "6", "7", "8", "9", "10", "11"]);
        assert_eq!(ctx.counters.accepted.load(Ordering::Relaxed), 7);
    }

    #[test]
    fn a_tiny_rate_waits_instead_of_panicking() {
        let (ctx, ch) = context(100);
        let config = BTreeMap::from([("rate_per_sec".to_string(), Value::Float(1e-30))]);
        let runner = {
            let ctx = ctx.clone();
            std::thread::spawn(move || Box::new(SeqSource::new("s", &config)).run(ctx))
        };
        // The first event goes out, then the source waits (for ~1e30 s) until stopped.
        while ctx.counters.accepted.load(Ordering::Relaxed) == 0 {
            std::thread::yield_now();
        }
        ctx.stop.stop();
        runner.join().expect("the source thread must not panic");
        assert_eq!(bodies(&*ch), ["0"]);
    }

    #[test]
    fn the_counter_stops_at_the_largest_number_instead_of_wrapping() {
        let (ctx, ch) = context(100);
        let config = BTreeMap::from([
            ("start".to_string(), Value::Int(i64::MAX - 2)),
            ("batchSize".to_string(), Value::Int(2)),
        ]);
        Box::new(SeqSource::new("s", &config)).run(ctx.clone());
        let max = i64::MAX;
        assert_eq!(
            bodies(&*ch),
            [
                (max - 2).to_string(),
                (max - 1).to_string(),
                max.to_string()
            ]
        );
        let notices = ctx.notices.drain();
        assert!(notices[0].text.contains("stopped"), "{notices:?}");
    }

    #[test]
    fn a_blocked_source_retries_until_space_frees_up() {
        let (ctx, ch) = context(2);
        let config = BTreeMap::from([("limit".to_string(), Value::Int(4))]);
        let runner = {
            let ctx = ctx.clone();
            std::thread::spawn(move || Box::new(SeqSource::new("s", &config)).run(ctx))
        };
        let mut got = Vec::new();
        while got.len() < 4 {
            got.extend(bodies(&*ch));
            if got.len() < 4 {
                std::thread::yield_now();
            }
        }
        runner.join().unwrap();
        assert_eq!(got, ["0", "1", "2", "3"]);
    }

    #[test]
    fn hop_registry_refuses_a_taken_port() {
        let (ctx, _) = context(10);
        let reg = HopRegistry::default();
        let endpoint = |name: &str| {
            Arc::new(HopEndpoint {
                source: name.into(),
                processor: Arc::clone(&ctx.processor),
                counters: Arc::new(SourceCounters::default()),
            })
        };
        reg.register(4141, endpoint("a")).unwrap();
        assert!(reg.register(4141, endpoint("b")).is_err());
        reg.unregister(4141);
        assert!(reg.lookup(4141).is_none());
    }
}
