//! Which roles may connect, and what an edge between two roles carries: the wiring rules
//! of Storm and Flume in one place. The canvas asks while the user drags a connection
//! and validation asks of every edge in a file, so both refuse the same edges with the
//! same words.

use std::fmt;

use super::{Grouping, Role};

/// Why an edge between two roles can never be right.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhyNot {
    /// Spouts and sources only emit.
    IntoEmitter(Role),
    /// Sinks end a flow.
    OutOfSink,
    /// A Flume source writes into channels only.
    SourceIntoNonChannel(Role),
    /// Storm spouts do not speak Flume transactions.
    SpoutIntoChannel,
    /// Channels are joined by a sink and a source (an avro hop), never directly.
    ChannelIntoChannel,
    /// A Flume sink takes from a channel, not from a Storm stream.
    StormIntoSink,
}

impl fmt::Display for WhyNot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WhyNot::IntoEmitter(to) => write!(f, "nothing can flow into a {to}: it only emits"),
            WhyNot::OutOfSink => f.write_str("nothing flows out of a sink"),
            WhyNot::SourceIntoNonChannel(to) => {
                write!(f, "a Flume source writes only into channels, not into a {to}")
            }
            WhyNot::SpoutIntoChannel => {
                f.write_str("a spout cannot write into a Flume channel; put a bolt in between")
            }
            WhyNot::ChannelIntoChannel => f.write_str(
                "a channel cannot feed another channel; use a sink and a source (a hop)",
            ),
            WhyNot::StormIntoSink => f.write_str(
                "a Flume sink drains a channel, not a Storm stream; use a terminal bolt (logger, file_sink) instead",
            ),
        }
    }
}

/// Whether data may flow from a node of role `from` into one of role `to`.
pub fn may_connect(from: Role, to: Role) -> Result<(), WhyNot> {
    match (from, to) {
        (_, Role::Spout | Role::Source) => Err(WhyNot::IntoEmitter(to)),
        (Role::Sink, _) => Err(WhyNot::OutOfSink),
        (Role::Source, r) if r != Role::Channel => Err(WhyNot::SourceIntoNonChannel(r)),
        (Role::Spout, Role::Channel) => Err(WhyNot::SpoutIntoChannel),
        (Role::Channel, Role::Channel) => Err(WhyNot::ChannelIntoChannel),
        (Role::Spout | Role::Bolt, Role::Sink) => Err(WhyNot::StormIntoSink),
        _ => Ok(()),
    }
}

/// What kind of link an edge between two roles is, which decides the groupings it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    /// Into a channel: a Flume channel selector (replicating or multiplexing).
    Selector,
    /// Out of a channel: a drain (take transactions).
    Drain,
    /// Between Storm nodes: a Storm grouping.
    Storm,
}

impl LinkKind {
    pub fn between(from: Role, to: Role) -> Self {
        if to == Role::Channel {
            LinkKind::Selector
        } else if from == Role::Channel {
            LinkKind::Drain
        } else {
            LinkKind::Storm
        }
    }

    /// Whether `grouping` belongs on a link of this kind.
    pub fn fits(self, grouping: &Grouping) -> bool {
        match self {
            LinkKind::Selector => grouping.is_channel_selector(),
            LinkKind::Drain => *grouping == Grouping::Drain,
            LinkKind::Storm => grouping.is_storm(),
        }
    }

    /// The grouping a fresh edge of this kind gets: a replicating selector into a
    /// channel, a drain out of one, Storm's shuffle otherwise.
    pub fn default_grouping(self) -> Grouping {
        match self {
            LinkKind::Selector => Grouping::Required,
            LinkKind::Drain => Grouping::Drain,
            LinkKind::Storm => Grouping::Shuffle,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flows_the_engines_allow() {
        for (from, to) in [
            (Role::Spout, Role::Bolt),
            (Role::Bolt, Role::Bolt),
            (Role::Bolt, Role::Channel),
            (Role::Source, Role::Channel),
            (Role::Channel, Role::Sink),
            (Role::Channel, Role::Bolt),
        ] {
            assert_eq!(may_connect(from, to), Ok(()), "{from} → {to}");
        }
    }

    #[test]
    fn every_refusal_says_why() {
        for from in Role::ALL {
            for to in Role::ALL {
                if let Err(why) = may_connect(from, to) {
                    assert!(!why.to_string().is_empty());
                }
            }
        }
        assert_eq!(
            may_connect(Role::Bolt, Role::Spout).map_err(|w| w.to_string()),
            Err("nothing can flow into a spout: it only emits".to_string())
        );
        assert_eq!(may_connect(Role::Sink, Role::Bolt), Err(WhyNot::OutOfSink));
        assert_eq!(
            may_connect(Role::Channel, Role::Channel),
            Err(WhyNot::ChannelIntoChannel)
        );
    }

    #[test]
    fn link_kinds_pick_their_groupings() {
        assert_eq!(
            LinkKind::between(Role::Source, Role::Channel),
            LinkKind::Selector
        );
        assert_eq!(
            LinkKind::between(Role::Channel, Role::Bolt),
            LinkKind::Drain
        );
        assert_eq!(LinkKind::between(Role::Spout, Role::Bolt), LinkKind::Storm);
        for kind in [LinkKind::Selector, LinkKind::Drain, LinkKind::Storm] {
            assert!(kind.fits(&kind.default_grouping()));
        }
        assert!(!LinkKind::Drain.fits(&Grouping::Shuffle));
    }
}
