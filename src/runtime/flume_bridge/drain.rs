//! A Flume channel drained by Storm bolts: a spout that takes events in channel
//! transactions and emits each as a tracked tuple.
//!
//! Delivery rule (at-least-once end to end): a take transaction commits only when the
//! tuple tree of every event it took is acked; if any of them fails or times out, the
//! whole transaction rolls back once all its tuples have an outcome, and the events go
//! back to the head of the channel to be taken again (the ones already acked are
//! delivered twice — the Flume duplicate case). Until then the taken events count
//! against the channel's capacity, so slow bolts push back on the Flume sources.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::flume::Channel;
use crate::flume::channel::TxLists;

use super::super::components::{Behaviour, Emitter, Factory, Spout};
use super::super::tuple::{Val, Values};
use super::view::BODY_FIELD;

/// Take transactions one spout task keeps open at once: enough to keep bolts busy
/// while earlier batches wait for their acks.
const MAX_OPEN: usize = 4;
/// Most events per take transaction (also capped by the channel's transactionCapacity).
const MAX_BATCH: usize = 100;

/// Says whether nothing new can reach the channel any more (finite sources done).
pub type InputsFinished = Arc<dyn Fn() -> bool + Send + Sync>;

struct OpenTx {
    lists: TxLists,
    outstanding: usize,
    failed: bool,
}

struct ChannelSpout {
    channel: Arc<dyn Channel>,
    /// Tuple fields: `body` is the event body, any other field the header of that name.
    fields: Vec<String>,
    batch: usize,
    inputs_finished: InputsFinished,
    open: BTreeMap<u64, OpenTx>,
    tx_of_msg: HashMap<u64, u64>,
    next_tx: u64,
    next_msg: u64,
}

impl ChannelSpout {
    fn values(&self, event: &crate::flume::Event) -> Values {
        let one = |field: &str| {
            if field == BODY_FIELD {
                Val::str(&event.body_text())
            } else {
                event.headers.get(field).map_or(Val::Null, |v| Val::str(v))
            }
        };
        match self.fields.as_slice() {
            [] => Values::One(Val::str(&event.body_text())),
            [f] => Values::One(one(f)),
            many => Values::Many(many.iter().map(|f| one(f)).collect()),
        }
    }

    fn queued(&self) -> u64 {
        self.channel.counters().size.load(Ordering::Relaxed)
    }

    /// Records one outcome; the transaction ends when its last tuple has one.
    fn settle(&mut self, msg_id: u64, ok: bool) {
        let Some(key) = self.tx_of_msg.remove(&msg_id) else {
            return;
        };
        let Some(tx) = self.open.get_mut(&key) else {
            return;
        };
        tx.failed |= !ok;
        tx.outstanding = tx.outstanding.saturating_sub(1);
        if tx.outstanding > 0 {
            return;
        }
        if let Some(mut tx) = self.open.remove(&key)
            && (tx.failed || self.channel.tx_commit(&mut tx.lists).is_err())
        {
            self.channel.tx_rollback(&mut tx.lists);
        }
    }
}

impl Spout for ChannelSpout {
    fn next_tuple(&mut self, out: &mut Emitter) -> bool {
        // Only take when events are queued: a take on an empty channel would wait up to
        // keep-alive, and a spout must not block.
        if self.open.len() >= MAX_OPEN || self.queued() == 0 {
            return false;
        }
        let mut lists = self.channel.tx_begin();
        let key = self.next_tx;
        let mut taken = 0;
        while taken < self.batch && self.queued() > 0 {
            match self.channel.tx_take(&mut lists) {
                Ok(Some(event)) => {
                    let msg = self.next_msg;
                    self.next_msg += 1;
                    out.emit_tracked(msg, self.values(&event));
                    self.tx_of_msg.insert(msg, key);
                    taken += 1;
                }
                Ok(None) | Err(_) => break,
            }
        }
        if taken == 0 {
            // Nothing was taken, so there is nothing to roll back.
            return false;
        }
        self.next_tx += 1;
        self.open.insert(
            key,
            OpenTx {
                lists,
                outstanding: taken,
                failed: false,
            },
        );
        true
    }

    fn ack(&mut self, msg_id: u64) {
        self.settle(msg_id, true);
    }

    fn fail(&mut self, msg_id: u64) {
        self.settle(msg_id, false);
    }

    fn is_done(&self) -> bool {
        let c = self.channel.counters();
        self.open.is_empty()
            && c.size.load(Ordering::Relaxed) == 0
            && c.in_flight.load(Ordering::Relaxed) == 0
            && (self.inputs_finished)()
    }
}

impl Drop for ChannelSpout {
    /// A stopped or crashed task gives its taken events back to the channel.
    fn drop(&mut self) {
        for (_, mut tx) in std::mem::take(&mut self.open) {
            self.channel.tx_rollback(&mut tx.lists);
        }
    }
}

/// The factory for a drained channel node: one [`ChannelSpout`] per task, all taking
/// from the same Flume channel (they compete for events, like Flume sinks do).
pub fn factory(
    channel: Arc<dyn Channel>,
    fields: Vec<String>,
    inputs_finished: InputsFinished,
) -> Factory {
    Arc::new(move |_info| {
        let batch = channel.config().transaction_capacity.clamp(1, MAX_BATCH);
        Ok(Behaviour::Spout(Box::new(ChannelSpout {
            channel: Arc::clone(&channel),
            fields: fields.clone(),
            batch,
            inputs_finished: Arc::clone(&inputs_finished),
            open: BTreeMap::new(),
            tx_of_msg: HashMap::new(),
            next_tx: 0,
            next_msg: 0,
        })))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flume::{ChannelConfig, Event, MemoryChannel, Transaction};
    use std::time::Duration;

    fn channel_with(n: usize) -> Arc<dyn Channel> {
        let ch: Arc<dyn Channel> = Arc::new(MemoryChannel::new(
            "c",
            ChannelConfig {
                capacity: 100,
                transaction_capacity: 10,
                keep_alive: Duration::ZERO,
                ..ChannelConfig::default()
            },
        ));
        {
            let mut tx = Transaction::begin(&*ch);
            for i in 0..n {
                tx.put(Event::new(i.to_string()).with_header("k", "v"))
                    .unwrap();
            }
            tx.commit().unwrap();
        }
        ch
    }

    fn spout(ch: &Arc<dyn Channel>, fields: &[&str]) -> ChannelSpout {
        ChannelSpout {
            channel: Arc::clone(ch),
            fields: fields.iter().map(|s| s.to_string()).collect(),
            batch: 3,
            inputs_finished: Arc::new(|| true),
            open: BTreeMap::new(),
            tx_of_msg: HashMap::new(),
            next_tx: 0,
            next_msg: 0,
        }
    }

    fn ids(out: &Emitter) -> Vec<u64> {
        out.items.iter().filter_map(|e| e.msg_id).collect()
    }

    #[test]
    fn commits_when_every_tuple_is_acked() {
        let ch = channel_with(3);
        let mut s = spout(&ch, &["body", "k"]);
        let mut out = Emitter::default();
        assert!(s.next_tuple(&mut out));
        assert_eq!(ids(&out), [0, 1, 2]);
        assert_eq!(
            out.items[0].values,
            Values::Many(Box::new([Val::str("0"), Val::str("v")]))
        );
        s.ack(0);
        s.ack(1);
        assert_eq!(ch.counters().snapshot().commits, 1, "only the put so far");
        s.ack(2);
        let c = ch.counters().snapshot();
        assert_eq!((c.commits, c.takes_committed, c.size), (2, 3, 0));
        assert!(s.is_done());
    }

    #[test]
    fn one_failure_rolls_the_batch_back_in_order() {
        let ch = channel_with(4);
        let mut s = spout(&ch, &[]);
        let mut out = Emitter::default();
        assert!(s.next_tuple(&mut out));
        s.ack(0);
        s.fail(1);
        assert!(!s.is_done());
        s.ack(2);
        let c = ch.counters().snapshot();
        assert_eq!((c.rollbacks, c.size, c.in_flight), (1, 4, 0));
        let mut again = Emitter::default();
        assert!(s.next_tuple(&mut again));
        let bodies: Vec<Values> = again.items.into_iter().map(|e| e.values).collect();
        assert_eq!(
            bodies,
            ["0", "1", "2"].map(|b| Values::One(Val::str(b))).to_vec()
        );
    }

    #[test]
    fn dropping_the_spout_returns_taken_events() {
        let ch = channel_with(2);
        let mut s = spout(&ch, &[]);
        let mut out = Emitter::default();
        assert!(s.next_tuple(&mut out));
        assert_eq!(ch.counters().snapshot().in_flight, 2);
        drop(s);
        let c = ch.counters().snapshot();
        assert_eq!((c.size, c.in_flight), (2, 0));
    }

    #[test]
    fn an_empty_channel_is_not_polled() {
        let ch = channel_with(0);
        let mut s = spout(&ch, &[]);
        let mut out = Emitter::default();
        assert!(!s.next_tuple(&mut out));
        assert_eq!(ch.counters().snapshot().rollbacks, 0);
    }
}
