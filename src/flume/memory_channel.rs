//! The memory channel: a bounded in-memory queue. Fast, and loses its events on a crash,
//! which is exactly the trade-off the product wants users to see next to the file channel.
//!
//! It is bounded twice, as Flume's is: `capacity` counts events and `byteCapacity` counts
//! bytes (less the `byteCapacityBufferPercentage` Flume reserves for headers), so a large
//! event count cannot take unbounded memory. Unlike Flume, headers and a fixed per-event
//! overhead count too (see [`crate::flume::channel::event_bytes`]).

use std::collections::VecDeque;

use super::channel::{ChannelConfig, NoJournal, QueueChannel};
use super::util::Settings;
use crate::model::Value;

/// Default `byteCapacityBufferPercentage`, Flume's: the share of `byteCapacity` kept free.
pub const DEFAULT_BYTE_CAPACITY_BUFFER_PERCENTAGE: u64 = 20;
/// Largest `byteCapacityBufferPercentage` accepted (100 would leave no room at all).
pub const MAX_BYTE_CAPACITY_BUFFER_PERCENTAGE: u64 = 90;

/// Flume's `memory` channel.
pub type MemoryChannel = QueueChannel<NoJournal>;

impl MemoryChannel {
    pub fn new(name: &str, config: ChannelConfig) -> Self {
        QueueChannel::with_journal(name, config, NoJournal, VecDeque::new(), 0, 0)
    }
}

/// Reads `capacity`, `transactionCapacity`, `keep-alive` (seconds), `byteCapacity` and
/// `byteCapacityBufferPercentage`, with the registry's defaults (Flume's, and
/// [`DEFAULT_BYTE_CAPACITY`](super::channel::DEFAULT_BYTE_CAPACITY)).
pub fn memory_config(config: &std::collections::BTreeMap<String, Value>) -> ChannelConfig {
    let c = Settings::new("memory", config);
    let percentage = c
        .uint("byteCapacityBufferPercentage")
        .min(MAX_BYTE_CAPACITY_BUFFER_PERCENTAGE);
    let byte_capacity = c.uint("byteCapacity");
    // In u128, so no byteCapacity can overflow the product.
    let usable = u128::from(byte_capacity) * u128::from(100 - percentage) / 100;
    ChannelConfig {
        capacity: c.size("capacity"),
        transaction_capacity: c.size("transactionCapacity"),
        keep_alive: c.secs("keep-alive"),
        byte_capacity: u64::try_from(usable).unwrap_or(u64::MAX),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::Ordering;
    use std::time::Duration;

    use super::*;
    use crate::flume::Event;
    use crate::flume::channel::{Channel, ChannelError, DEFAULT_BYTE_CAPACITY, Transaction};

    fn channel(capacity: usize, tx_capacity: usize) -> MemoryChannel {
        MemoryChannel::new(
            "c",
            ChannelConfig {
                capacity,
                transaction_capacity: tx_capacity,
                keep_alive: Duration::ZERO,
                ..ChannelConfig::default()
            },
        )
    }

    fn put_all(ch: &dyn Channel, bodies: &[&str]) {
        let mut tx = Transaction::begin(ch);
        for b in bodies {
            tx.put(Event::new(*b)).unwrap();
        }
        tx.commit().unwrap();
    }

    fn drain(ch: &dyn Channel) -> Vec<String> {
        let mut tx = Transaction::begin(ch);
        let mut out = Vec::new();
        while let Some(e) = tx.take().unwrap() {
            out.push(e.body_text().into_owned());
        }
        tx.commit().unwrap();
        out
    }

    #[test]
    fn puts_are_invisible_until_commit_and_discarded_on_rollback() {
        let ch = channel(10, 10);
        let mut tx = Transaction::begin(&ch);
        tx.put(Event::new("a")).unwrap();
        assert_eq!(ch.counters().snapshot().size, 0);
        let mut reader = Transaction::begin(&ch);
        assert_eq!(reader.take().unwrap(), None);
        reader.commit().unwrap();
        tx.rollback();
        assert_eq!(drain(&ch), Vec::<String>::new());
        put_all(&ch, &["b"]);
        assert_eq!(drain(&ch), ["b"]);
    }

    #[test]
    fn rollback_returns_takes_to_the_head_in_original_order() {
        let ch = channel(10, 10);
        put_all(&ch, &["1", "2", "3", "4"]);
        let mut tx = Transaction::begin(&ch);
        assert_eq!(tx.take().unwrap().unwrap().body, b"1");
        assert_eq!(tx.take().unwrap().unwrap().body, b"2");
        assert_eq!(tx.take().unwrap().unwrap().body, b"3");
        tx.rollback();
        assert_eq!(drain(&ch), ["1", "2", "3", "4"]);
        assert_eq!(ch.counters().rollbacks.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn dropping_an_open_transaction_rolls_back() {
        let ch = channel(10, 10);
        put_all(&ch, &["x", "y"]);
        {
            let mut tx = Transaction::begin(&ch);
            tx.take().unwrap();
        }
        assert_eq!(drain(&ch), ["x", "y"]);
    }

    #[test]
    fn transaction_capacity_bounds_puts_and_takes() {
        let ch = channel(10, 2);
        let mut tx = Transaction::begin(&ch);
        tx.put(Event::new("a")).unwrap();
        tx.put(Event::new("b")).unwrap();
        assert!(matches!(
            tx.put(Event::new("c")),
            Err(ChannelError::PutListFull { capacity: 2, .. })
        ));
        tx.commit().unwrap();
        put_all(&ch, &["c"]);
        let mut tx = Transaction::begin(&ch);
        tx.take().unwrap();
        tx.take().unwrap();
        assert!(matches!(tx.take(), Err(ChannelError::TakeListFull { .. })));
        tx.rollback();
    }

    #[test]
    fn full_channel_fails_commit_and_caller_rolls_back() {
        let ch = channel(3, 10);
        put_all(&ch, &["1", "2"]);
        let mut tx = Transaction::begin(&ch);
        tx.put(Event::new("3")).unwrap();
        tx.put(Event::new("4")).unwrap();
        assert!(matches!(
            tx.commit(),
            Err(ChannelError::Full { capacity: 3, .. })
        ));
        let stats = ch.counters().snapshot();
        assert!(stats.blocked);
        assert_eq!(stats.full_failures, 1);
        tx.rollback();
        assert_eq!(drain(&ch), ["1", "2"]);
    }

    #[test]
    fn taken_slots_are_freed_only_at_commit() {
        let ch = channel(2, 10);
        put_all(&ch, &["1", "2"]);
        let mut taker = Transaction::begin(&ch);
        taker.take().unwrap();
        let mut putter = Transaction::begin(&ch);
        putter.put(Event::new("3")).unwrap();
        assert!(matches!(putter.commit(), Err(ChannelError::Full { .. })));
        taker.commit().unwrap();
        putter.commit().unwrap();
        assert_eq!(drain(&ch), ["2", "3"]);
    }

    #[test]
    fn a_take_and_put_in_one_transaction_needs_no_net_space() {
        let ch = channel(1, 10);
        put_all(&ch, &["old"]);
        let mut tx = Transaction::begin(&ch);
        tx.take().unwrap();
        tx.put(Event::new("new")).unwrap();
        tx.commit().unwrap();
        assert_eq!(drain(&ch), ["new"]);
    }

    #[test]
    fn commit_waits_for_space_freed_by_another_thread() {
        let ch = Arc::new(MemoryChannel::new(
            "c",
            ChannelConfig {
                capacity: 1,
                transaction_capacity: 10,
                keep_alive: Duration::from_secs(30),
                ..ChannelConfig::default()
            },
        ));
        put_all(&*ch, &["first"]);
        let (tx_started, rx_started) = std::sync::mpsc::channel();
        let producer = {
            let ch = Arc::clone(&ch);
            std::thread::spawn(move || {
                let mut tx = Transaction::begin(&*ch);
                tx.put(Event::new("second")).unwrap();
                tx_started.send(()).unwrap();
                tx.commit()
            })
        };
        rx_started.recv().unwrap();
        // Wait until the producer is visibly blocked, then make room.
        while !ch.counters().blocked.load(Ordering::Relaxed) {
            std::thread::yield_now();
        }
        // Take exactly one event each time: a drain would wait out the 30 s keep-alive.
        let take_one = || {
            let mut tx = Transaction::begin(&*ch);
            let body = tx.take().unwrap().unwrap().body;
            tx.commit().unwrap();
            body
        };
        assert_eq!(take_one(), b"first");
        producer.join().unwrap().unwrap();
        assert!(!ch.counters().blocked.load(Ordering::Relaxed));
        assert_eq!(take_one(), b"second");
    }

    #[test]
    fn counters_follow_commits() {
        let ch = channel(10, 10);
        put_all(&ch, &["a", "b", "c"]);
        let mut tx = Transaction::begin(&ch);
        tx.take().unwrap();
        let mid = ch.counters().snapshot();
        assert_eq!((mid.size, mid.in_flight), (2, 1));
        tx.commit().unwrap();
        let s = ch.counters().snapshot();
        assert_eq!(
            (
                s.size,
                s.in_flight,
                s.puts_committed,
                s.takes_committed,
                s.capacity
            ),
            (2, 0, 3, 1, 10)
        );
    }

    #[test]
    fn config_reads_flume_property_names() {
        let mut map = std::collections::BTreeMap::new();
        map.insert("capacity".to_string(), Value::Int(5));
        map.insert("transactionCapacity".to_string(), Value::Int(2));
        map.insert("keep-alive".to_string(), Value::Int(0));
        let c = memory_config(&map);
        assert_eq!((c.capacity, c.transaction_capacity), (5, 2));
        assert!(c.keep_alive.is_zero());
    }

    #[test]
    fn byte_capacity_follows_flume_with_its_buffer_percentage() {
        let read = |pairs: &[(&str, i64)]| {
            let map = pairs
                .iter()
                .map(|(k, v)| (k.to_string(), Value::Int(*v)))
                .collect();
            memory_config(&map).byte_capacity
        };
        assert_eq!(read(&[]), DEFAULT_BYTE_CAPACITY * 4 / 5);
        assert_eq!(read(&[("byteCapacity", 800_000)]), 640_000);
        assert_eq!(
            read(&[
                ("byteCapacity", 800_000),
                ("byteCapacityBufferPercentage", 0)
            ]),
            800_000
        );
    }

    fn bytes_channel(byte_capacity: u64) -> MemoryChannel {
        MemoryChannel::new(
            "c",
            ChannelConfig {
                capacity: 1_000_000,
                transaction_capacity: 1_000_000,
                keep_alive: Duration::ZERO,
                byte_capacity,
            },
        )
    }

    #[test]
    fn a_channel_of_many_slots_stops_at_its_byte_capacity() {
        // Room for a million events, but only ten of these by bytes.
        let body = "x".repeat(100);
        let each = crate::flume::channel::event_bytes(&Event::new(body.as_str()));
        let ch = bytes_channel(10 * each);
        let mut accepted = 0;
        for _ in 0..20 {
            let mut tx = Transaction::begin(&ch);
            tx.put(Event::new(body.as_str())).unwrap();
            match tx.commit() {
                Ok(()) => accepted += 1,
                Err(e) => {
                    assert!(matches!(e, ChannelError::BytesFull { .. }), "{e}");
                    tx.rollback();
                }
            }
        }
        assert_eq!(accepted, 10);
        let stats = ch.counters().snapshot();
        assert_eq!((stats.bytes, stats.byte_capacity), (10 * each, 10 * each));
        assert_eq!(stats.full_failures, 10);
        // Taking frees the bytes at commit, and a put fits again.
        let mut tx = Transaction::begin(&ch);
        tx.take().unwrap();
        tx.commit().unwrap();
        assert_eq!(ch.counters().snapshot().bytes, 9 * each);
        put_all(&ch, &[body.as_str()]);
    }

    #[test]
    fn empty_events_still_count_against_byte_capacity() {
        let ch = bytes_channel(3 * crate::flume::channel::EVENT_OVERHEAD_BYTES);
        put_all(&ch, &["", "", ""]);
        let mut tx = Transaction::begin(&ch);
        tx.put(Event::new("")).unwrap();
        assert!(matches!(tx.commit(), Err(ChannelError::BytesFull { .. })));
    }

    #[test]
    fn a_transaction_larger_than_the_byte_capacity_is_refused_at_put() {
        let ch = bytes_channel(1000);
        let mut tx = Transaction::begin(&ch);
        tx.put(Event::new("x".repeat(500))).unwrap();
        let err = tx.put(Event::new("x".repeat(500))).unwrap_err();
        assert!(
            matches!(
                err,
                ChannelError::TooManyBytes {
                    byte_capacity: 1000,
                    ..
                }
            ),
            "{err}"
        );
        tx.commit().unwrap();
        assert_eq!(drain(&ch).len(), 1);
    }
}
