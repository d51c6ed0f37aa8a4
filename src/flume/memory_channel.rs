//! The memory channel: a bounded in-memory queue. Fast, and loses its events on a crash,
//! which is exactly the trade-off the product wants users to see next to the file channel.
//!
//! Flume's `byteCapacity` (a cap on body bytes) is not modelled: capacity counts events.

use std::collections::VecDeque;
use std::time::Duration;

use super::channel::{ChannelConfig, NoJournal, QueueChannel};
use super::util::Conf;
use crate::model::Value;

/// Flume's `memory` channel.
pub type MemoryChannel = QueueChannel<NoJournal>;

impl MemoryChannel {
    pub fn new(name: &str, config: ChannelConfig) -> Self {
        QueueChannel::with_journal(name, config, NoJournal, VecDeque::new(), 0, 0)
    }
}

/// Reads `capacity`, `transactionCapacity` and `keep-alive` (seconds) with Flume's defaults.
pub fn memory_config(config: &std::collections::BTreeMap<String, Value>) -> ChannelConfig {
    let c = Conf(config);
    ChannelConfig {
        capacity: c.uint("capacity", 100) as usize,
        transaction_capacity: c.uint("transactionCapacity", 100) as usize,
        keep_alive: Duration::from_secs_f64(c.float("keep-alive", 3.0).max(0.0)),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::Ordering;

    use super::*;
    use crate::flume::Event;
    use crate::flume::channel::{Channel, ChannelError, Transaction};

    fn channel(capacity: usize, tx_capacity: usize) -> MemoryChannel {
        MemoryChannel::new(
            "c",
            ChannelConfig {
                capacity,
                transaction_capacity: tx_capacity,
                keep_alive: Duration::ZERO,
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
}
