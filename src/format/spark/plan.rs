//! What each node of a design becomes in Spark Structured Streaming: an operation, a
//! caveat where the Spark form behaves differently, or a refusal naming the node. The
//! designer's export dialog shows these notes before anything is written, and the
//! Python emitter writes only from a plan without refusals.

use std::collections::BTreeMap;

use super::caveats;

use crate::components::config_or_default;
use crate::model::{DEFAULT_STREAM, ExecutionMode, Node, Role, Topology, Value, WindowSize};

/// Rows a second an endless generator without a rate gets from Spark's rate source
/// (which needs a rate).
pub const UNTHROTTLED_ROWS_PER_SEC: u64 = 1000;

/// Whether a note lets the export go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteKind {
    /// Exported, with a comment in the job naming the difference.
    Caveat,
    /// Not exported: the design has to change first.
    Refusal,
}

/// One thing the user should know about a node (or the design) before exporting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub kind: NoteKind,
    /// The node, sink group or `settings` the note is about.
    pub subject: String,
    pub text: String,
}

impl Note {
    /// `'node': text`, as messages and the dialog show it.
    pub fn message(&self) -> String {
        format!("'{}': {}", self.subject, self.text)
    }
}

/// A source's records: finite ones let the job end by itself.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    FileLines {
        path: String,
    },
    Sentences {
        seed: u64,
        vocabulary: i64,
        words: i64,
    },
    Words {
        seed: u64,
        vocabulary: i64,
    },
    Sequence {
        start: i64,
    },
    Netcat {
        host: String,
        port: i64,
    },
}

/// The Spark form of one node.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    Source {
        source: Source,
        /// Records per task before the source ends; `None` = endless.
        limit: Option<u64>,
        rate_per_sec: f64,
    },
    Split {
        field: String,
        separator: String,
    },
    Map {
        field: String,
        op: String,
        arg: String,
    },
    Filter {
        field: String,
        op: String,
        value: String,
    },
    CountByKey {
        key: String,
    },
    Window {
        key: String,
        field: String,
        aggregate: String,
        length_ms: u64,
        slide_ms: u64,
    },
    /// Spark Streaming's per-batch operators, run inside `foreachBatch`.
    CountByValue {
        field: String,
    },
    ReduceByKey {
        key: String,
        field: String,
        reduce: String,
    },
    Join {
        key: String,
        left: String,
        right: String,
    },
    FileSink {
        path: String,
    },
    Logger {
        max_bytes: i64,
    },
    Discard,
}

impl Op {
    /// A streaming aggregation: Spark keeps state for it and its query runs in update
    /// mode (one per query).
    pub fn is_aggregation(&self) -> bool {
        matches!(self, Op::CountByKey { .. } | Op::Window { .. })
    }

    /// An operator whose result is per micro-batch: the job computes it, and everything
    /// downstream of it, inside `foreachBatch` on each batch's records.
    pub fn is_per_batch(&self) -> bool {
        matches!(
            self,
            Op::CountByValue { .. } | Op::ReduceByKey { .. } | Op::Join { .. }
        )
    }

    pub fn is_sink(&self) -> bool {
        matches!(self, Op::FileSink { .. } | Op::Logger { .. } | Op::Discard)
    }
}

/// How records reach a node from one input, as Spark partitions.
#[derive(Debug, Clone, PartialEq)]
pub enum Route {
    /// Any partitioning does: `repartition(n)` when the node has several tasks.
    Spread,
    /// Records with the same values of these fields share a partition.
    ByFields(Vec<String>),
    /// Every task gets a copy: the records are repeated once per task (Storm's tasks,
    /// which may be more than the parallelism).
    Copies(u32),
    /// Everything in one partition.
    One,
}

/// One input of a node.
#[derive(Debug, Clone, PartialEq)]
pub struct Input {
    pub from: String,
    pub route: Route,
    /// What Storm's grouping was, for the comment in the job.
    pub grouping: String,
}

/// One node as the job computes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub name: String,
    pub component: String,
    pub op: Op,
    pub inputs: Vec<Input>,
    pub partitions: u32,
    /// Column names of the node's output, from its declared default stream.
    pub fields: Vec<String>,
    pub caveats: Vec<String>,
    /// The node is, or reads from, a per-batch operator.
    pub per_batch: bool,
}

/// The whole design as Spark sees it: steps upstream-first, and every note.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub steps: Vec<Step>,
    pub notes: Vec<Note>,
    /// The micro-batch interval, which becomes the trigger interval.
    pub interval_ms: Option<u64>,
}

impl Plan {
    pub fn refusals(&self) -> impl Iterator<Item = &Note> {
        self.notes.iter().filter(|n| n.kind == NoteKind::Refusal)
    }

    pub fn caveats(&self) -> impl Iterator<Item = &Note> {
        self.notes.iter().filter(|n| n.kind == NoteKind::Caveat)
    }

    /// Every source ends (no repeat, a limit on each generator, no socket), so the job
    /// can run with `availableNow` and exit by itself.
    pub fn is_finite(&self) -> bool {
        self.steps.iter().all(|s| match &s.op {
            Op::Source { source, limit, .. } => {
                !matches!(source, Source::Netcat { .. })
                    && (matches!(source, Source::FileLines { .. }) || limit.is_some())
            }
            _ => true,
        })
    }

    pub fn step(&self, name: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.name == name)
    }
}

/// Judges every node and edge of `topology` for Spark. Never stops at the first problem.
pub fn review(topology: &Topology) -> Plan {
    let mut plan = Plan {
        interval_ms: match topology.settings.mode {
            ExecutionMode::MicroBatch { interval_ms } => Some(interval_ms),
            ExecutionMode::RecordAtATime => None,
        },
        ..Plan::default()
    };
    for e in &topology.dangling_edges {
        refuse(
            &mut plan,
            &e.to,
            format!("its input '{}' does not exist", e.from),
        );
    }
    for group in &topology.sink_groups {
        refuse(
            &mut plan,
            &group.name,
            "a Flume sink group (failover or load balancing between sinks) has no Spark form"
                .into(),
        );
    }
    for index in topology.reading_order() {
        let Some(node) = topology.node(index) else {
            continue;
        };
        let op = match operation(node) {
            Ok(op) => op,
            Err(why) => {
                refuse(&mut plan, &node.name, why);
                continue;
            }
        };
        let mut caveats = caveats::of_node(node, &op);
        let mut inputs = Vec::new();
        for (_, from, edge) in topology.inputs(index) {
            let Some(upstream) = topology.node(from) else {
                continue;
            };
            if edge.stream != DEFAULT_STREAM {
                refuse(
                    &mut plan,
                    &node.name,
                    format!(
                        "it reads stream '{}' of '{}'; exported jobs carry each node's default stream only",
                        edge.stream, upstream.name
                    ),
                );
            }
            match caveats::route(&edge.grouping, node.task_count()) {
                Ok((route, caveat)) => {
                    if let Some(c) = caveat {
                        caveats.push(format!("from '{}': {c}", upstream.name));
                    }
                    inputs.push(Input {
                        from: upstream.name.clone(),
                        route,
                        grouping: edge.grouping.label(),
                    });
                }
                Err(why) => refuse(&mut plan, &node.name, why),
            }
        }
        inputs.sort_by(|a, b| a.from.cmp(&b.from));
        let fields = node
            .output(DEFAULT_STREAM)
            .map(|d| d.fields.clone())
            .unwrap_or_default();
        for c in &caveats {
            plan.notes.push(Note {
                kind: NoteKind::Caveat,
                subject: node.name.clone(),
                text: c.clone(),
            });
        }
        plan.steps.push(Step {
            name: node.name.clone(),
            component: node.component.clone(),
            op,
            inputs,
            partitions: node.parallelism.max(1),
            fields,
            caveats,
            per_batch: false,
        });
    }
    state_rules(&mut plan);
    if !plan.steps.iter().any(|s| matches!(s.op, Op::Source { .. })) {
        let sources: Vec<String> = topology
            .nodes()
            .filter(|n| matches!(n.role, Role::Spout | Role::Source))
            .map(|n| n.name.clone())
            .collect();
        // Quoted one by one in the message: 'a', 'b': …
        let subject = if sources.is_empty() {
            "design".to_string()
        } else {
            sources.join("', '")
        };
        plan.notes.push(Note {
            kind: NoteKind::Refusal,
            subject,
            text: "the design has no source Spark can read (file_lines, a generator, sequence or netcat)"
                .into(),
        });
    }
    plan
}

fn refuse(plan: &mut Plan, subject: &str, text: String) {
    plan.notes.push(Note {
        kind: NoteKind::Refusal,
        subject: subject.to_string(),
        text,
    });
}

/// What one query can hold: one streaming aggregation, and per-batch operators only
/// over raw streams (they run inside `foreachBatch`, where no state outlives a batch).
/// Marks the steps computed per batch; refusals name both nodes.
fn state_rules(plan: &mut Plan) {
    // For each node: the nearest streaming aggregation and per-batch operator upstream
    // of it, itself included.
    let mut agg: BTreeMap<String, Option<String>> = BTreeMap::new();
    let mut batch: BTreeMap<String, Option<String>> = BTreeMap::new();
    let mut problems = Vec::new();
    for step in &mut plan.steps {
        let find = |map: &BTreeMap<String, Option<String>>| {
            step.inputs
                .iter()
                .find_map(|i| map.get(&i.from).cloned().flatten())
        };
        let (agg_before, batch_before) = (find(&agg), find(&batch));
        if step.op.is_aggregation() {
            if let Some(first) = &agg_before {
                problems.push((step.name.clone(), format!("it aggregates the output of the aggregation '{first}'; a Structured Streaming query allows one aggregation")));
            }
            if let Some(first) = &batch_before {
                problems.push((step.name.clone(), format!("it keeps state across batches but reads '{first}', which is computed per micro-batch inside foreachBatch, where no state outlives a batch")));
            }
        }
        if step.op.is_per_batch()
            && let Some(first) = &agg_before
        {
            problems.push((step.name.clone(), format!("it works per micro-batch but reads the running aggregation '{first}'; per-batch operators run on the records of each batch")));
        }
        step.per_batch = step.op.is_per_batch() || batch_before.is_some();
        let mine =
            |own: bool, before: Option<String>| if own { Some(step.name.clone()) } else { before };
        agg.insert(
            step.name.clone(),
            mine(step.op.is_aggregation(), agg_before),
        );
        batch.insert(
            step.name.clone(),
            mine(step.op.is_per_batch(), batch_before),
        );
    }
    for (name, text) in problems {
        refuse(plan, &name, text);
    }
}

fn text(node: &Node, key: &str) -> String {
    config_or_default(&node.config, &node.component, key, |v| {
        v.as_str().map(str::to_string)
    })
    .unwrap_or_default()
}

fn int(node: &Node, key: &str) -> i64 {
    config_or_default(&node.config, &node.component, key, Value::as_i64).unwrap_or(0)
}

fn float(node: &Node, key: &str) -> f64 {
    config_or_default(&node.config, &node.component, key, Value::as_f64).unwrap_or(0.0)
}

pub(super) fn flag(node: &Node, key: &str) -> bool {
    config_or_default(&node.config, &node.component, key, Value::as_bool).unwrap_or(false)
}

fn source(node: &Node, source: Source) -> Op {
    let limit = match int(node, "limit") {
        n if n > 0 => Some(n as u64),
        _ => None,
    };
    Op::Source {
        source,
        limit,
        rate_per_sec: float(node, "rate_per_sec"),
    }
}

/// The Spark form of a node, or why it has none.
fn operation(node: &Node) -> Result<Op, String> {
    if node.role == Role::Channel {
        return Err(format!(
            "a Flume channel ({}) holds events in transactions between a source and a sink; Spark has no channel, so route the source straight to its consumers",
            node.component
        ));
    }
    if node.role == Role::Sink && !matches!(node.component.as_str(), "logger" | "null") {
        return Err(format!(
            "the Flume sink '{}' has no Spark form",
            node.component
        ));
    }
    let op = match node.component.as_str() {
        "file_lines" => Op::Source {
            source: Source::FileLines {
                path: text(node, "path"),
            },
            limit: None,
            rate_per_sec: float(node, "rate_per_sec"),
        },
        "sentence_generator" => source(
            node,
            Source::Sentences {
                seed: int(node, "seed").max(0) as u64,
                vocabulary: int(node, "vocabulary"),
                words: int(node, "words_per_sentence"),
            },
        ),
        "word_generator" => source(
            node,
            Source::Words {
                seed: int(node, "seed").max(0) as u64,
                vocabulary: int(node, "vocabulary"),
            },
        ),
        "sequence" => source(
            node,
            Source::Sequence {
                start: int(node, "start"),
            },
        ),
        "netcat" => Op::Source {
            source: Source::Netcat {
                host: text(node, "bind"),
                port: int(node, "port"),
            },
            limit: None,
            rate_per_sec: 0.0,
        },
        "split" => Op::Split {
            field: text(node, "field"),
            separator: text(node, "separator"),
        },
        "map" => Op::Map {
            field: text(node, "field"),
            op: text(node, "op"),
            arg: text(node, "arg"),
        },
        "filter" => Op::Filter {
            field: text(node, "field"),
            op: text(node, "op"),
            value: text(node, "value"),
        },
        "count_by_key" => Op::CountByKey {
            key: text(node, "key"),
        },
        "window_aggregate" | "count_by_window" => {
            let Some(w) = node.window else {
                return Err("it has no window".into());
            };
            let (WindowSize::Millis(length_ms), WindowSize::Millis(slide_ms)) = (w.length, w.slide)
            else {
                return Err(
                    "its window counts tuples; Structured Streaming windows are by time".into(),
                );
            };
            if length_ms == 0 || slide_ms == 0 {
                return Err("its window length and slide must be positive".into());
            }
            let counting = node.component == "count_by_window";
            Op::Window {
                key: if counting {
                    String::new()
                } else {
                    text(node, "key")
                },
                field: if counting {
                    String::new()
                } else {
                    text(node, "field")
                },
                aggregate: if counting {
                    "count".into()
                } else {
                    text(node, "aggregate")
                },
                length_ms,
                slide_ms,
            }
        }
        "file_sink" => Op::FileSink {
            path: text(node, "path"),
        },
        "logger" => Op::Logger {
            max_bytes: int(node, "max_bytes"),
        },
        "null" | "collector" => Op::Discard,
        "count_by_value" => Op::CountByValue {
            field: text(node, "field"),
        },
        "reduce_by_key" => Op::ReduceByKey {
            key: text(node, "key"),
            field: text(node, "field"),
            reduce: text(node, "reduce"),
        },
        "join" => Op::Join {
            key: text(node, "key"),
            left: text(node, "left"),
            right: text(node, "right"),
        },
        "window" => {
            return Err(
                "Spark Streaming's window re-emits the records of past batches; Structured Streaming has no such operator (aggregate with window_aggregate instead)"
                    .into(),
            );
        }
        other => {
            return Err(format!(
                "component '{other}' has no Spark form (only Tributary's built-in sources, operators and sinks are exported)"
            ));
        }
    };
    Ok(op)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Grouping, StreamDecl, WindowSpec};

    fn design(nodes: Vec<Node>, edges: &[(&str, &str)]) -> Topology {
        let mut t = Topology::new("t");
        for n in nodes {
            t.add_node(n).unwrap();
        }
        for (from, to) in edges {
            t.connect_names(from, to, DEFAULT_STREAM, Grouping::Shuffle)
                .unwrap();
        }
        t
    }

    fn spout(name: &str, component: &str) -> Node {
        Node::new(name, Role::Spout, component).with_output(StreamDecl::default_stream(&["x"]))
    }

    fn refused(plan: &Plan) -> Vec<String> {
        plan.refusals().map(Note::message).collect()
    }

    #[test]
    fn finite_only_when_every_source_ends() {
        let sink = Node::new("out", Role::Bolt, "null");
        let limited = spout("g", "word_generator").with_config("limit", 3);
        let t = design(vec![limited, sink.clone()], &[("g", "out")]);
        assert!(review(&t).is_finite());
        let endless = spout("g", "word_generator");
        let lines = spout("f", "file_lines");
        let t = design(vec![endless, lines, sink], &[("g", "out"), ("f", "out")]);
        let plan = review(&t);
        assert!(!plan.is_finite());
        assert!(refused(&plan).is_empty(), "{:?}", refused(&plan));
    }

    #[test]
    fn what_spark_cannot_express_is_refused_by_name() {
        let mut counted = Node::new("w", Role::Bolt, "window_aggregate");
        counted.window = Some(WindowSpec {
            length: WindowSize::Count(10),
            slide: WindowSize::Count(5),
        });
        let t = design(
            vec![
                spout("g", "word_generator"),
                counted,
                Node::new("s", Role::Bolt, "stand_in"),
            ],
            &[("g", "w"), ("g", "s")],
        );
        let problems = refused(&review(&t));
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("'w': its window counts tuples"))
        );
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("'s': component 'stand_in'"))
        );
    }

    #[test]
    fn one_aggregation_per_query() {
        let first = Node::new("a", Role::Bolt, "count_by_key").with_config("key", "x");
        let second = Node::new("b", Role::Bolt, "count_by_key").with_config("key", "x");
        let t = design(
            vec![spout("g", "word_generator"), first, second],
            &[("g", "a"), ("a", "b")],
        );
        let problems = refused(&review(&t));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].starts_with("'b': it aggregates the output of the aggregation 'a'"));
    }

    #[test]
    fn no_source_is_refused_naming_the_sources() {
        let t = design(
            vec![
                Node::new("in", Role::Source, "spooldir"),
                Node::new("buffer", Role::Channel, "memory"),
            ],
            &[("in", "buffer")],
        );
        let problems = refused(&review(&t));
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("'in': the design has no source"))
        );
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("'buffer': a Flume channel"))
        );
    }

    #[test]
    fn an_all_grouping_copies_once_per_storm_task() {
        let mut shout = Node::new("shout", Role::Bolt, "logger").with_parallelism(2);
        shout.tasks = Some(4);
        let mut t = design(vec![spout("g", "word_generator"), shout], &[]);
        t.connect_names("g", "shout", DEFAULT_STREAM, Grouping::All)
            .unwrap();
        let plan = review(&t);
        let step = plan.step("shout").unwrap();
        assert_eq!(step.inputs[0].route, Route::Copies(4));
        assert_eq!(step.partitions, 2);
    }
}
