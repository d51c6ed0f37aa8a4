//! Sinks: drain one channel each, in take transactions that commit only after the batch
//! has been delivered (so a failed delivery rolls the events back into the channel).

pub mod faulty;
pub mod file_roll;

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::Event;
use super::channel::{Channel, Transaction};
use super::sink_processor::{Sink, SinkError, Status};
use super::sources::HopRegistry;
use super::util::{Conf, Settings};
use crate::model::Value;

pub use file_roll::FileRollSink;

/// Live counters of one sink, readable from any thread.
#[derive(Debug, Default)]
pub struct SinkCounters {
    /// Events delivered and committed.
    pub delivered: AtomicU64,
    pub batches: AtomicU64,
    /// `process` calls that found the channel empty.
    pub empty_polls: AtomicU64,
    /// Deliveries that failed and were rolled back.
    pub failures: AtomicU64,
    pub last_error: Mutex<Option<String>>,
}

impl SinkCounters {
    pub fn last_error(&self) -> Option<String> {
        self.last_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// The shared take → deliver → commit cycle. `deliver` gets the batch; if it fails, or the
/// commit fails, the transaction is rolled back and the events return to the channel head.
pub fn drain_batch(
    sink: &str,
    channel: &dyn Channel,
    batch_size: usize,
    counters: &SinkCounters,
    deliver: impl FnOnce(&[Event]) -> Result<(), String>,
) -> Result<Status, SinkError> {
    let fail = |message: String| {
        counters.failures.fetch_add(1, Ordering::Relaxed);
        *counters
            .last_error
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(message.clone());
        SinkError {
            sink: sink.to_string(),
            message,
        }
    };
    let mut tx = Transaction::begin(channel);
    let mut events = Vec::new();
    while events.len() < batch_size {
        match tx.take() {
            Ok(Some(e)) => events.push(e),
            Ok(None) => break,
            Err(e) => {
                tx.rollback();
                return Err(fail(e.to_string()));
            }
        }
    }
    if events.is_empty() {
        let _ = tx.commit();
        counters.empty_polls.fetch_add(1, Ordering::Relaxed);
        return Ok(Status::Backoff);
    }
    if let Err(message) = deliver(&events) {
        tx.rollback();
        return Err(fail(message));
    }
    if let Err(e) = tx.commit() {
        tx.rollback();
        return Err(fail(e.to_string()));
    }
    counters
        .delivered
        .fetch_add(events.len() as u64, Ordering::Relaxed);
    counters.batches.fetch_add(1, Ordering::Relaxed);
    Ok(if events.len() < batch_size {
        // A short batch means the channel ran dry; Flume's sinks back off then too.
        Status::Backoff
    } else {
        Status::Ready
    })
}

/// Where logger sinks write: a bounded in-memory tail (for the UI and tests) and,
/// optionally, standard error (for headless runs). Both queues are bounded by lines
/// ([`LOG_TAIL`]) and by bytes ([`LOG_TAIL_BYTES`]), since a logger may be set to dump a
/// megabyte of every event.
#[derive(Debug, Default)]
pub struct LogOutput {
    lines: Mutex<Bounded>,
    /// Lines not yet handed to [`LogOutput::drain`] (bounded like the tail), so an
    /// embedding engine can forward each line once to its own log.
    fresh: Mutex<Bounded>,
    pub to_stderr: bool,
}

/// Most recent logger lines kept in memory.
pub const LOG_TAIL: usize = 1000;
/// Most bytes of logger lines kept in memory, per queue; the oldest lines go first.
pub const LOG_TAIL_BYTES: usize = 4 << 20;

/// A queue of lines that drops its oldest beyond [`LOG_TAIL`] lines or
/// [`LOG_TAIL_BYTES`] bytes.
#[derive(Debug, Default)]
struct Bounded {
    lines: VecDeque<String>,
    bytes: usize,
}

impl Bounded {
    fn push(&mut self, line: String) {
        self.bytes += line.len();
        self.lines.push_back(line);
        while self.lines.len() > LOG_TAIL || (self.bytes > LOG_TAIL_BYTES && self.lines.len() > 1) {
            if let Some(old) = self.lines.pop_front() {
                self.bytes -= old.len();
            }
        }
    }
}

impl LogOutput {
    pub fn new(to_stderr: bool) -> Self {
        Self {
            lines: Mutex::new(Bounded::default()),
            fresh: Mutex::new(Bounded::default()),
            to_stderr,
        }
    }

    pub fn write(&self, line: String) {
        if self.to_stderr {
            eprintln!("{line}");
        }
        self.lines
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(line.clone());
        self.fresh
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(line);
    }

    /// Lines written since the last call, oldest first (at most the newest 1000, and
    /// at most 4 MiB of them).
    pub fn drain(&self) -> Vec<String> {
        let mut fresh = self.fresh.lock().unwrap_or_else(|p| p.into_inner());
        fresh.bytes = 0;
        fresh.lines.drain(..).collect()
    }

    /// The most recent lines, oldest first.
    pub fn tail(&self) -> Vec<String> {
        self.lines
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .lines
            .iter()
            .cloned()
            .collect()
    }
}

/// Flume's event dump: headers, then up to `max_bytes` of the body in hex and as text.
pub fn dump_event(event: &Event, max_bytes: usize) -> String {
    let headers: Vec<String> = event
        .headers
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let body = &event.body[..event.body.len().min(max_bytes)];
    let mut hex = String::new();
    for b in body {
        let _ = write!(hex, "{b:02X} ");
    }
    let text: String = body
        .iter()
        .map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                b as char
            } else {
                '.'
            }
        })
        .collect();
    format!(
        "Event: {{ headers:{{{}}} body: {}{} }}",
        headers.join(", "),
        hex,
        text
    )
}

/// Flume's `logger` sink: logs each event at INFO, `maxBytesToLog` (16) of its body
/// (the registry's `max_bytes` is accepted too). Like Flume's, it takes one event per
/// transaction unless `batchSize` says otherwise, so a trickle of events shows at once.
pub struct LoggerSink {
    name: String,
    channel: Arc<dyn Channel>,
    batch: usize,
    max_bytes: usize,
    out: Arc<LogOutput>,
    counters: Arc<SinkCounters>,
}

impl LoggerSink {
    pub fn new(
        name: &str,
        config: &BTreeMap<String, Value>,
        channel: Arc<dyn Channel>,
        out: Arc<LogOutput>,
        counters: Arc<SinkCounters>,
    ) -> Self {
        let s = Settings::new("logger", config);
        // Flume's own key wins when a file uses it; otherwise the registry's `max_bytes`.
        let max_bytes = if config.contains_key("maxBytesToLog") {
            s.flume().uint("maxBytesToLog", s.uint("max_bytes"))
        } else {
            s.uint("max_bytes")
        };
        Self {
            name: name.to_string(),
            channel,
            batch: s.flume().size("batchSize", 1).max(1),
            max_bytes: usize::try_from(max_bytes).unwrap_or(usize::MAX),
            out,
            counters,
        }
    }
}

impl Sink for LoggerSink {
    fn name(&self) -> &str {
        &self.name
    }

    fn process(&mut self) -> Result<Status, SinkError> {
        let (out, name, max) = (&self.out, &self.name, self.max_bytes);
        drain_batch(name, &*self.channel, self.batch, &self.counters, |events| {
            for e in events {
                out.write(format!("[{name}] {}", dump_event(e, max)));
            }
            Ok(())
        })
    }
}

/// Flume's `null` sink: takes and discards, for measuring throughput.
pub struct NullSink {
    name: String,
    channel: Arc<dyn Channel>,
    batch: usize,
    counters: Arc<SinkCounters>,
}

impl NullSink {
    pub fn new(
        name: &str,
        config: &BTreeMap<String, Value>,
        channel: Arc<dyn Channel>,
        counters: Arc<SinkCounters>,
    ) -> Self {
        Self {
            name: name.to_string(),
            channel,
            batch: Conf(config).size("batchSize", 100).max(1),
            counters,
        }
    }
}

impl Sink for NullSink {
    fn name(&self) -> &str {
        &self.name
    }

    fn process(&mut self) -> Result<Status, SinkError> {
        drain_batch(
            &self.name,
            &*self.channel,
            self.batch,
            &self.counters,
            |_| Ok(()),
        )
    }
}

/// An in-process `avro` sink: forwards batches to the avro source registered on its
/// `port`. The take transaction stays open until the downstream put has committed, so an
/// event leaves this channel only once the next agent's channel has it (per-hop
/// reliability). If the downstream agent is not running, delivery fails and the batch
/// rolls back — which is what lets a failover group switch to a backup route.
pub struct AvroSink {
    name: String,
    channel: Arc<dyn Channel>,
    port: u16,
    batch: usize,
    hops: Arc<HopRegistry>,
    counters: Arc<SinkCounters>,
}

impl AvroSink {
    /// `port` is the node's avro port as [`crate::model::flume::avro_port`] reads it; the
    /// builder resolves it, so a bad port is refused by name before anything runs.
    pub fn new(
        name: &str,
        config: &BTreeMap<String, Value>,
        port: u16,
        channel: Arc<dyn Channel>,
        hops: Arc<HopRegistry>,
        counters: Arc<SinkCounters>,
    ) -> Self {
        let s = Settings::new("avro_sink", config);
        Self {
            name: name.to_string(),
            channel,
            port,
            batch: s.size("batch-size").max(1),
            hops,
            counters,
        }
    }
}

impl Sink for AvroSink {
    fn name(&self) -> &str {
        &self.name
    }

    fn process(&mut self) -> Result<Status, SinkError> {
        let (hops, port) = (&self.hops, self.port);
        drain_batch(
            &self.name,
            &*self.channel,
            self.batch,
            &self.counters,
            |events| {
                let endpoint = hops
                    .lookup(port)
                    .ok_or_else(|| format!("no avro source is listening on port {port}"))?;
                endpoint
                    .receive(events.to_vec())
                    .map(|_| ())
                    .map_err(|e| format!("downstream '{}' refused the batch: {e}", endpoint.source))
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::clock::ManualClock;
    use crate::flume::channel::ChannelConfig;
    use crate::flume::channel_processor::{ChannelProcessor, put_batch};
    use crate::flume::interceptor::InterceptorChain;
    use crate::flume::memory_channel::MemoryChannel;
    use crate::flume::selector::ChannelSelector;
    use crate::flume::sources::tests::bodies;
    use crate::flume::sources::{HopEndpoint, SourceCounters};

    fn mem(capacity: usize) -> Arc<dyn Channel> {
        Arc::new(MemoryChannel::new(
            "c",
            ChannelConfig {
                capacity,
                transaction_capacity: 100,
                keep_alive: Duration::ZERO,
                ..ChannelConfig::default()
            },
        ))
    }

    fn fill(ch: &Arc<dyn Channel>, bodies: &[&str]) {
        put_batch(&**ch, bodies.iter().map(|b| Event::new(*b)).collect()).unwrap();
    }

    #[test]
    fn logger_dumps_headers_and_truncated_body() {
        let ch = mem(10);
        fill(&ch, &["hello world, long body"]);
        let out = Arc::new(LogOutput::new(false));
        let counters = Arc::new(SinkCounters::default());
        let config = BTreeMap::from([("maxBytesToLog".to_string(), Value::Int(5))]);
        let mut sink = LoggerSink::new(
            "log",
            &config,
            Arc::clone(&ch),
            out.clone(),
            counters.clone(),
        );
        assert_eq!(sink.process(), Ok(Status::Ready));
        assert_eq!(
            out.tail(),
            ["[log] Event: { headers:{} body: 68 65 6C 6C 6F hello }"]
        );
        assert_eq!(counters.delivered.load(Ordering::Relaxed), 1);
        assert_eq!(sink.process(), Ok(Status::Backoff));
        assert_eq!(counters.empty_polls.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn null_sink_takes_full_batches() {
        let ch = mem(10);
        fill(&ch, &["1", "2", "3"]);
        let counters = Arc::new(SinkCounters::default());
        let config = BTreeMap::from([("batchSize".to_string(), Value::Int(2))]);
        let mut sink = NullSink::new("n", &config, Arc::clone(&ch), counters.clone());
        assert_eq!(sink.process(), Ok(Status::Ready));
        assert_eq!(sink.process(), Ok(Status::Backoff));
        assert_eq!(counters.delivered.load(Ordering::Relaxed), 3);
    }

    #[test]
    fn avro_hop_commits_upstream_only_after_downstream_commit() {
        let up = mem(10);
        let down = mem(2);
        let hops = Arc::new(HopRegistry::default());
        let processor = Arc::new(ChannelProcessor::new(
            vec![Arc::clone(&down)],
            ChannelSelector::replicating([0]),
            InterceptorChain::empty(Arc::new(ManualClock::new(0))),
        ));
        let counters = Arc::new(SinkCounters::default());
        let config = BTreeMap::from([
            ("port".to_string(), Value::Int(7000)),
            ("batch-size".to_string(), Value::Int(3)),
        ]);
        let mut sink = AvroSink::new(
            "fwd",
            &config,
            7000,
            Arc::clone(&up),
            hops.clone(),
            counters.clone(),
        );
        fill(&up, &["a", "b", "c"]);
        // Nobody listening: delivery fails and the events stay upstream, in order.
        assert!(sink.process().is_err());
        assert_eq!(up.counters().snapshot().size, 3);
        hops.register(
            7000,
            Arc::new(HopEndpoint {
                source: "collector".into(),
                processor,
                counters: Arc::new(SourceCounters::default()),
            }),
        )
        .unwrap();
        // Downstream capacity 2 < batch 3: the downstream put fails, upstream rolls back.
        let err = sink.process().unwrap_err();
        assert!(err.message.contains("refused"), "{err}");
        assert_eq!(up.counters().snapshot().size, 3);
        assert_eq!(down.counters().snapshot().size, 0);
        assert_eq!(bodies(&*up), ["a", "b", "c"]);
        fill(&up, &["a", "b"]);
        assert_eq!(sink.process(), Ok(Status::Backoff));
        assert_eq!(bodies(&*down), ["a", "b"]);
        assert_eq!(up.counters().snapshot().size, 0);
        assert_eq!(counters.failures.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn the_log_tail_is_bounded_by_lines_and_by_bytes() {
        let out = LogOutput::new(false);
        for i in 0..LOG_TAIL + 10 {
            out.write(format!("{i}"));
        }
        let tail = out.tail();
        assert_eq!(tail.len(), LOG_TAIL);
        assert_eq!(tail[0], "10");
        assert_eq!(out.drain().len(), LOG_TAIL);
        let big = "z".repeat(1 << 20);
        for _ in 0..10 {
            out.write(big.clone());
        }
        let kept: usize = out.drain().iter().map(String::len).sum();
        assert!(kept <= LOG_TAIL_BYTES, "{kept}");
        assert!(kept >= LOG_TAIL_BYTES - (1 << 20), "{kept}");
    }
}
