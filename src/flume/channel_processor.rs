//! The source side of a hop: Flume's `ChannelProcessor`.
//!
//! 1. Run the interceptor chain.
//! 2. Ask the selector for each event's required and optional channels.
//! 3. Commit one transaction per required channel. Any failure is returned to the source,
//!    which retries the whole batch on all required channels (so a retry may duplicate
//!    events in channels that had committed: at-least-once).
//! 4. Write the optional channels last and ignore their failures.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use thiserror::Error;

use super::Event;
use super::channel::{Channel, ChannelError, Transaction};
use super::interceptor::InterceptorChain;
use super::selector::ChannelSelector;

/// A required channel refused the batch; the source must retry it (or back off).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("put to required channel failed: {0}")]
pub struct ProcessError(pub ChannelError);

/// Interceptors, selector and channels of one source.
pub struct ChannelProcessor {
    channels: Vec<Arc<dyn Channel>>,
    selector: ChannelSelector,
    interceptors: InterceptorChain,
    /// Events dropped because an optional channel refused them.
    pub optional_failures: AtomicU64,
    /// Events removed by interceptors.
    pub filtered: AtomicU64,
}

impl ChannelProcessor {
    pub fn new(
        channels: Vec<Arc<dyn Channel>>,
        selector: ChannelSelector,
        interceptors: InterceptorChain,
    ) -> Self {
        Self {
            channels,
            selector,
            interceptors,
            optional_failures: AtomicU64::new(0),
            filtered: AtomicU64::new(0),
        }
    }

    pub fn channels(&self) -> &[Arc<dyn Channel>] {
        &self.channels
    }

    /// Puts one batch; returns how many events survived the interceptors.
    pub fn process_batch(&self, events: Vec<Event>) -> Result<usize, ProcessError> {
        let before = events.len();
        let events = self.interceptors.apply(events);
        self.filtered
            .fetch_add((before - events.len()) as u64, Ordering::Relaxed);
        let mut required: Vec<Vec<Event>> = vec![Vec::new(); self.channels.len()];
        let mut optional: Vec<Vec<Event>> = vec![Vec::new(); self.channels.len()];
        for event in &events {
            let selection = self.selector.select(event);
            for c in selection.required {
                if let Some(list) = required.get_mut(c) {
                    list.push(event.clone());
                }
            }
            for c in selection.optional {
                if let Some(list) = optional.get_mut(c) {
                    list.push(event.clone());
                }
            }
        }
        for (index, batch) in required.into_iter().enumerate() {
            if !batch.is_empty() {
                put_batch(&*self.channels[index], batch).map_err(ProcessError)?;
            }
        }
        for (index, batch) in optional.into_iter().enumerate() {
            let n = batch.len() as u64;
            if n > 0 && put_batch(&*self.channels[index], batch).is_err() {
                self.optional_failures.fetch_add(n, Ordering::Relaxed);
            }
        }
        Ok(events.len())
    }

    /// Puts one event (a batch of one).
    pub fn process_event(&self, event: Event) -> Result<usize, ProcessError> {
        self.process_batch(vec![event])
    }
}

/// Puts a batch in one transaction; on failure the transaction is rolled back.
pub fn put_batch(channel: &dyn Channel, batch: Vec<Event>) -> Result<(), ChannelError> {
    let mut tx = Transaction::begin(channel);
    for event in batch {
        if let Err(e) = tx.put(event) {
            tx.rollback();
            return Err(e);
        }
    }
    match tx.commit() {
        Ok(()) => Ok(()),
        Err(e) => {
            tx.rollback();
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::time::Duration;

    use super::*;
    use crate::clock::ManualClock;
    use crate::flume::channel::ChannelConfig;
    use crate::flume::memory_channel::MemoryChannel;

    fn mem(name: &str, capacity: usize) -> Arc<dyn Channel> {
        Arc::new(MemoryChannel::new(
            name,
            ChannelConfig {
                capacity,
                transaction_capacity: 100,
                keep_alive: Duration::ZERO,
                ..ChannelConfig::default()
            },
        ))
    }

    fn size(ch: &Arc<dyn Channel>) -> u64 {
        ch.counters().snapshot().size
    }

    fn no_interceptors() -> InterceptorChain {
        InterceptorChain::empty(Arc::new(ManualClock::new(0)))
    }

    #[test]
    fn replicating_writes_all_required_and_ignores_optional_failure() {
        let chans = vec![mem("a", 10), mem("b", 10), mem("opt", 1)];
        let p = ChannelProcessor::new(
            chans.clone(),
            ChannelSelector::Replicating {
                channels: vec![0, 1, 2],
                optional: [2].into_iter().collect(),
            },
            no_interceptors(),
        );
        assert_eq!(
            p.process_batch(vec![Event::new("1"), Event::new("2")]),
            Ok(2)
        );
        assert_eq!(
            (size(&chans[0]), size(&chans[1]), size(&chans[2])),
            (2, 2, 0)
        );
        assert_eq!(p.optional_failures.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn a_failed_required_channel_fails_the_put_and_a_retry_goes_to_all() {
        let chans = vec![mem("a", 10), mem("small", 1)];
        let p = ChannelProcessor::new(
            chans.clone(),
            ChannelSelector::replicating([0, 1]),
            no_interceptors(),
        );
        let batch = || vec![Event::new("1"), Event::new("2")];
        assert!(p.process_batch(batch()).is_err());
        // "a" committed before "small" refused: the retry duplicates into "a" (at-least-once).
        assert_eq!((size(&chans[0]), size(&chans[1])), (2, 0));
        assert!(p.process_batch(vec![Event::new("3")]).is_ok());
        assert_eq!((size(&chans[0]), size(&chans[1])), (3, 1));
    }

    #[test]
    fn multiplexing_routes_each_event_by_header() {
        let chans = vec![mem("errors", 10), mem("rest", 10)];
        let mut mapping = BTreeMap::new();
        mapping.insert("error".to_string(), BTreeSet::from([0]));
        let p = ChannelProcessor::new(
            chans.clone(),
            ChannelSelector::Multiplexing {
                header: "level".into(),
                mapping,
                optional: BTreeMap::new(),
                default: BTreeSet::from([1]),
            },
            no_interceptors(),
        );
        p.process_batch(vec![
            Event::new("a").with_header("level", "error"),
            Event::new("b").with_header("level", "info"),
            Event::new("c"),
        ])
        .unwrap();
        assert_eq!((size(&chans[0]), size(&chans[1])), (1, 2));
    }

    #[test]
    fn interceptors_run_before_the_selector() {
        use crate::flume::interceptor::Interceptor;
        let chans = vec![mem("errors", 10), mem("rest", 10)];
        let mut mapping = BTreeMap::new();
        mapping.insert("error".to_string(), BTreeSet::from([0]));
        let chain = InterceptorChain::new(
            vec![
                (
                    "f".into(),
                    Interceptor::RegexFilter {
                        regex: regex::Regex::new("keep").unwrap(),
                        exclude: false,
                    },
                ),
                (
                    "lvl".into(),
                    Interceptor::Static {
                        key: "level".into(),
                        value: "error".into(),
                        preserve_existing: true,
                    },
                ),
            ],
            Arc::new(ManualClock::new(0)),
        );
        let p = ChannelProcessor::new(
            chans.clone(),
            ChannelSelector::Multiplexing {
                header: "level".into(),
                mapping,
                optional: BTreeMap::new(),
                default: BTreeSet::from([1]),
            },
            chain,
        );
        assert_eq!(
            p.process_batch(vec![Event::new("keep me"), Event::new("drop me")]),
            Ok(1)
        );
        assert_eq!((size(&chans[0]), size(&chans[1])), (1, 0));
        assert_eq!(p.filtered.load(Ordering::Relaxed), 1);
    }
}
