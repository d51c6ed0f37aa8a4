//! Edges: a subscription of one node to another's stream, with its routing rule.

use serde::{Deserialize, Serialize};

use super::settings::ExecutionMode;

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

/// What every micro-batch edge comes down to in this engine, said after each meaning.
const ONE_PARTITION: &str = "Here each batch is one partition, which the next operator sees whole.";

impl Grouping {
    /// The grouping's name on an edge of a topology running in `mode`: the Storm name
    /// (`fields(word)`) record at a time; in micro-batch mode, what it means there
    /// (`by key (word)`, `round-robin`), since there are no tasks to route to. The
    /// canvas and the inspector both ask here; files and diagnostics keep [`Self::label`],
    /// the name the file uses.
    pub fn label_in(&self, mode: ExecutionMode) -> String {
        if mode == ExecutionMode::RecordAtATime {
            return self.label();
        }
        match self {
            Grouping::Fields(f) | Grouping::PartialKey(f) => format!("by key ({})", f.join(", ")),
            Grouping::Shuffle | Grouping::LocalOrShuffle | Grouping::None | Grouping::Custom(_) => {
                "round-robin".into()
            }
            Grouping::Global => "one partition".into(),
            Grouping::All | Grouping::Direct => "whole batch".into(),
            // Flume links keep their Flume meaning: Flume agents run beside the job.
            other => other.label(),
        }
    }

    /// Why [`Self::label_in`] says what it does, for hover text: in micro-batch mode,
    /// the Storm name and what it becomes there (Spark's nearest operation). `None`
    /// when the label is the Storm name itself.
    pub fn meaning_in(&self, mode: ExecutionMode) -> Option<String> {
        if mode == ExecutionMode::RecordAtATime {
            return None;
        }
        let storm = self.label();
        let by_key = "a repartition by key, as the shuffle of Spark's partitionBy or \
                      reduceByKey: records with the same key meet in one place";
        let round_robin = "a round-robin repartition, as Spark's repartition does: records \
                           are spread evenly whatever their values";
        let meaning = match self {
            Grouping::Fields(_) => format!("Storm's {storm}. In micro-batch mode, {by_key}."),
            Grouping::PartialKey(_) => format!(
                "Storm's {storm}, which splits a busy key over two tasks. Micro-batch mode has \
                 no tasks to balance: {by_key}."
            ),
            Grouping::Shuffle => format!("Storm's {storm}. In micro-batch mode, {round_robin}."),
            Grouping::LocalOrShuffle => format!(
                "Storm's {storm} (shuffle, preferring the same worker). Micro-batch mode has no \
                 workers: {round_robin}."
            ),
            Grouping::None => format!(
                "Storm's {storm} grouping (\"don't care\": a random task per tuple). In \
                 micro-batch mode, {round_robin}."
            ),
            Grouping::Custom(_) => {
                format!("Storm's {storm}, run as shuffle. In micro-batch mode, {round_robin}.")
            }
            Grouping::Global => format!(
                "Storm's {storm}: everything to one task. In micro-batch mode, a coalesce to one \
                 partition, as Spark's coalesce(1)."
            ),
            Grouping::All => format!(
                "Storm's {storm}: every task gets a copy. Micro-batch mode has no tasks: the next \
                 operator sees each batch once, so nothing is copied."
            ),
            Grouping::Direct => format!(
                "Storm's {storm}: the producer picks the task. Micro-batch mode has no tasks to \
                 pick: the next operator sees each batch once."
            ),
            _ => return None,
        };
        Some(format!("{meaning} {ONE_PARTITION}"))
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

#[cfg(test)]
mod tests {
    use super::*;

    const BATCH: ExecutionMode = ExecutionMode::MicroBatch { interval_ms: 500 };

    #[test]
    fn record_at_a_time_edges_keep_their_storm_names() {
        let fields = Grouping::Fields(vec!["word".into()]);
        assert_eq!(
            fields.label_in(ExecutionMode::RecordAtATime),
            "fields(word)"
        );
        assert_eq!(
            Grouping::Shuffle.label_in(ExecutionMode::RecordAtATime),
            "shuffle"
        );
        assert_eq!(fields.meaning_in(ExecutionMode::RecordAtATime), None);
    }

    #[test]
    fn micro_batch_edges_say_what_they_mean_there() {
        let key = vec!["word".to_string(), "day".to_string()];
        let cases = [
            (Grouping::Fields(key.clone()), "by key (word, day)"),
            (Grouping::PartialKey(key), "by key (word, day)"),
            (Grouping::Shuffle, "round-robin"),
            (Grouping::LocalOrShuffle, "round-robin"),
            (Grouping::None, "round-robin"),
            (Grouping::Custom("org.example.Mine".into()), "round-robin"),
            (Grouping::Global, "one partition"),
            (Grouping::All, "whole batch"),
            (Grouping::Direct, "whole batch"),
        ];
        for (grouping, label) in cases {
            assert_eq!(grouping.label_in(BATCH), label, "{grouping:?}");
            // The hover names the grouping as the file and Storm do.
            let meaning = grouping.meaning_in(BATCH).unwrap();
            assert!(meaning.contains(&grouping.label()), "{meaning}");
        }
    }

    #[test]
    fn flume_links_have_no_micro_batch_meaning() {
        assert_eq!(Grouping::Drain.label_in(BATCH), "drain");
        assert_eq!(Grouping::Required.meaning_in(BATCH), None);
    }
}
