//! A Flume channel fed by Storm spouts or bolts: a bolt that puts each input tuple into
//! the channel in its own put transaction and acks the tuple only after the commit.
//!
//! One transaction per tuple keeps the Storm contract simple and exact: an acked tuple
//! is in the channel (durably, for a file channel, which fsyncs each commit — so a file
//! channel fed this way is slow by design). A full channel (no room within keep-alive)
//! fails the tuple, so the spout replays it later: at-least-once, and the wait for room
//! is the back-pressure. Links marked `Optional` ignore failed puts, as Flume does.

use std::sync::Arc;

use crate::flume::{Channel, Event};

use super::super::components::{Behaviour, Bolt, Emitter, Factory, Failed};
use super::super::tuple::{Tuple, Val};
use super::view::BODY_FIELD;

fn text(v: &Val) -> String {
    match v {
        Val::Null => String::new(),
        Val::Bool(b) => b.to_string(),
        Val::Int(i) => i.to_string(),
        Val::Float(f) => f.to_string(),
        Val::Str(s) => s.to_string(),
    }
}

struct PutBolt {
    channel: Arc<dyn Channel>,
    /// Field names of every stream in the plan, by global stream id.
    schemas: Arc<Vec<Vec<String>>>,
    optional: bool,
}

impl PutBolt {
    /// The event for a tuple: the `body` field (or the first one) as body, every other
    /// field as a header of the same name.
    fn event(&self, input: &Tuple) -> Event {
        let fields = self
            .schemas
            .get(input.stream as usize)
            .cloned()
            .unwrap_or_default();
        let values = input.values.to_vec();
        let body_at = fields.iter().position(|f| f == BODY_FIELD).unwrap_or(0);
        let mut event = Event::new(values.get(body_at).map(text).unwrap_or_default());
        for (i, value) in values.iter().enumerate() {
            if i != body_at {
                let name = fields.get(i).cloned().unwrap_or_else(|| format!("f{i}"));
                event.headers.insert(name, text(value));
            }
        }
        event
    }
}

impl Bolt for PutBolt {
    fn execute(&mut self, input: &Tuple, _out: &mut Emitter) -> Result<(), Failed> {
        let event = self.event(input);
        let mut tx = self.channel.tx_begin();
        let put = self
            .channel
            .tx_put(&mut tx, event)
            .and_then(|()| self.channel.tx_commit(&mut tx));
        match put {
            Ok(()) => Ok(()),
            Err(e) => {
                self.channel.tx_rollback(&mut tx);
                if self.optional {
                    Ok(())
                } else {
                    Err(Failed(e.to_string()))
                }
            }
        }
    }
}

/// The factory for a channel node that spouts or bolts write into.
pub fn factory(channel: Arc<dyn Channel>, optional: bool) -> Factory {
    Arc::new(move |info| {
        Ok(Behaviour::Bolt(Box::new(PutBolt {
            channel: Arc::clone(&channel),
            schemas: Arc::clone(&info.schemas),
            optional,
        })))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flume::{ChannelConfig, MemoryChannel, Transaction};
    use crate::runtime::tuple::{AckIds, Values};
    use std::time::Duration;

    fn bolt(capacity: usize, optional: bool) -> (PutBolt, Arc<dyn Channel>) {
        let ch: Arc<dyn Channel> = Arc::new(MemoryChannel::new(
            "c",
            ChannelConfig {
                capacity,
                transaction_capacity: 10,
                keep_alive: Duration::ZERO,
                ..ChannelConfig::default()
            },
        ));
        let b = PutBolt {
            channel: Arc::clone(&ch),
            schemas: Arc::new(vec![vec!["word".into(), "body".into()]]),
            optional,
        };
        (b, ch)
    }

    fn tuple(word: &str, body: &str) -> Tuple {
        Tuple {
            values: Values::two(Val::str(word), Val::str(body)),
            stream: 0,
            source_task: 1,
            ids: AckIds::default(),
        }
    }

    #[test]
    fn puts_the_body_field_with_the_rest_as_headers() {
        let (mut b, ch) = bolt(10, false);
        assert_eq!(
            b.execute(&tuple("w", "text"), &mut Emitter::default()),
            Ok(())
        );
        let mut tx = Transaction::begin(&*ch);
        let e = tx.take().unwrap().unwrap();
        assert_eq!(e.body_text(), "text");
        assert_eq!(e.headers.get("word").map(String::as_str), Some("w"));
    }

    #[test]
    fn a_full_channel_fails_required_puts_and_ignores_optional_ones() {
        let (mut b, ch) = bolt(1, false);
        assert!(b.execute(&tuple("a", "1"), &mut Emitter::default()).is_ok());
        assert!(
            b.execute(&tuple("b", "2"), &mut Emitter::default())
                .is_err()
        );
        b.optional = true;
        assert!(b.execute(&tuple("c", "3"), &mut Emitter::default()).is_ok());
        assert_eq!(ch.counters().snapshot().size, 1);
    }
}
