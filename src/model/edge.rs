//! Edges: a subscription of one node to another's stream, with its routing rule.

use serde::{Deserialize, Serialize};

/// The stream id Storm gives a component's only stream.
pub const DEFAULT_STREAM: &str = "default";

/// How tuples/events on an edge are routed.
///
/// Storm edges (into a bolt from a spout or bolt) use Storm's stream groupings. Edges into
/// a Flume channel say what the source's channel selector does with that channel; edges out
/// of a channel are drained by the consumer's tasks in transactions.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Grouping {
    /// Storm: round-robin over a shuffled list of the consumer's tasks.
    Shuffle,
    /// Storm: same values of these fields always reach the same task.
    Fields(Vec<String>),
    /// Storm: every task gets a copy.
    All,
    /// Storm: everything goes to the consumer's lowest task.
    Global,
    /// Storm: the producer picks the task; only on a stream declared direct.
    Direct,
    /// Storm: shuffle, preferring tasks in the same worker.
    LocalOrShuffle,
    /// Storm: "don't care" — a random task per tuple.
    None,
    /// Storm: two candidate tasks per key, the less-loaded wins (skew-resistant).
    PartialKey(Vec<String>),
    /// Storm: a user-supplied grouping class; kept for import/export, runs as shuffle.
    Custom(String),
    /// Flume selector: this channel gets every event (replicating selector).
    Required,
    /// Flume selector: best effort; a failed put to this channel is ignored.
    Optional,
    /// Flume multiplexing: events whose selector header has one of these values.
    Mapped(Vec<String>),
    /// Flume multiplexing: best-effort channel for these header values.
    MappedOptional(Vec<String>),
    /// Flume multiplexing: events whose header matches no mapping.
    Default,
    /// Flume: the consumer drains this channel in take transactions.
    Drain,
}

impl Grouping {
    /// Storm groupings name fields of the upstream stream; Flume links don't.
    pub fn fields(&self) -> &[String] {
        match self {
            Grouping::Fields(f) | Grouping::PartialKey(f) => f,
            _ => &[],
        }
    }

    pub fn is_storm(&self) -> bool {
        matches!(
            self,
            Grouping::Shuffle
                | Grouping::Fields(_)
                | Grouping::All
                | Grouping::Global
                | Grouping::Direct
                | Grouping::LocalOrShuffle
                | Grouping::None
                | Grouping::PartialKey(_)
                | Grouping::Custom(_)
        )
    }

    /// Links from a source (or bolt) into a Flume channel.
    pub fn is_channel_selector(&self) -> bool {
        matches!(
            self,
            Grouping::Required
                | Grouping::Optional
                | Grouping::Mapped(_)
                | Grouping::MappedOptional(_)
                | Grouping::Default
        )
    }

    /// Short label for edges on the canvas and in diagnostics, e.g. `fields(word)`.
    pub fn label(&self) -> String {
        match self {
            Grouping::Shuffle => "shuffle".into(),
            Grouping::Fields(f) => format!("fields({})", f.join(", ")),
            Grouping::All => "all".into(),
            Grouping::Global => "global".into(),
            Grouping::Direct => "direct".into(),
            Grouping::LocalOrShuffle => "local_or_shuffle".into(),
            Grouping::None => "none".into(),
            Grouping::PartialKey(f) => format!("partial_key({})", f.join(", ")),
            Grouping::Custom(class) => format!("custom({})", short_class(class)),
            Grouping::Required => "required".into(),
            Grouping::Optional => "optional".into(),
            Grouping::Mapped(v) => format!("mapped({})", v.join(", ")),
            Grouping::MappedOptional(v) => format!("optional({})", v.join(", ")),
            Grouping::Default => "default".into(),
            Grouping::Drain => "drain".into(),
        }
    }
}

fn short_class(class: &str) -> &str {
    class.rsplit('.').next().unwrap_or(class)
}

/// The data on a graph edge; its endpoints live in the graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    /// The upstream stream this edge subscribes to.
    pub stream: String,
    pub grouping: Grouping,
}
