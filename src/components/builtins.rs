//! The built-in components. Behaviour lives in the runtime; this file says what each
//! one is called, which roles it plays, what it can be configured with and what it emits.

use crate::model::flume::DEFAULT_AVRO_PORT;
use crate::model::{Role, System, Value};

use super::STAND_IN;
use super::descriptor::{ComponentDescriptor, OutputShape, ParamKind, ParamSpec, PathUse};

const STORM_SPOUT: &[Role] = &[Role::Spout];
pub(super) const STORM_BOLT: &[Role] = &[Role::Bolt];
const TERMINAL: &[Role] = &[Role::Bolt, Role::Sink];
const FLUME_SOURCE: &[Role] = &[Role::Source];
const FLUME_CHANNEL: &[Role] = &[Role::Channel];
const FLUME_SINK: &[Role] = &[Role::Sink];

/// Operations of the `map` bolt: a fixed list, not a scripting language.
pub const MAP_OPS: &[&str] = &[
    "uppercase",
    "lowercase",
    "trim",
    "length",
    "reverse",
    "prefix",
    "suffix",
    "replace",
];
/// Comparisons of the `filter` bolt.
pub const FILTER_OPS: &[&str] = &[
    "eq",
    "ne",
    "contains",
    "starts_with",
    "ends_with",
    "gt",
    "ge",
    "lt",
    "le",
    "not_empty",
];
/// Aggregations of the window bolt.
pub const AGGREGATES: &[&str] = &["count", "sum", "avg", "min", "max"];

pub(super) fn int(
    key: &'static str,
    default: i64,
    min: i64,
    max: i64,
    doc: &'static str,
) -> ParamSpec {
    ParamSpec {
        key,
        kind: ParamKind::Int { min, max },
        default: Some(Value::Int(default)),
        doc,
    }
}

pub(super) fn float(
    key: &'static str,
    default: f64,
    min: f64,
    max: f64,
    doc: &'static str,
) -> ParamSpec {
    ParamSpec {
        key,
        kind: ParamKind::Float { min, max },
        default: Some(Value::Float(default)),
        doc,
    }
}

pub(super) fn text(key: &'static str, default: &str, doc: &'static str) -> ParamSpec {
    ParamSpec {
        key,
        kind: ParamKind::Text,
        default: Some(Value::Str(default.to_string())),
        doc,
    }
}

pub(super) fn field(key: &'static str, default: &str, doc: &'static str) -> ParamSpec {
    ParamSpec {
        kind: ParamKind::Field,
        ..text(key, default, doc)
    }
}

pub(super) fn upstream(key: &'static str, doc: &'static str) -> ParamSpec {
    ParamSpec {
        kind: ParamKind::Upstream,
        ..text(key, "", doc)
    }
}

pub(super) fn path(
    key: &'static str,
    usage: PathUse,
    default: &str,
    doc: &'static str,
) -> ParamSpec {
    ParamSpec {
        kind: ParamKind::Path(usage),
        ..text(key, default, doc)
    }
}

pub(super) fn choice(
    key: &'static str,
    options: &'static [&'static str],
    default: &str,
    doc: &'static str,
) -> ParamSpec {
    ParamSpec {
        kind: ParamKind::Choice(options),
        ..text(key, default, doc)
    }
}

pub(super) fn flag(key: &'static str, default: bool, doc: &'static str) -> ParamSpec {
    ParamSpec {
        key,
        kind: ParamKind::Bool,
        default: Some(Value::Bool(default)),
        doc,
    }
}

fn seed() -> ParamSpec {
    int(
        "seed",
        42,
        0,
        i64::MAX,
        "Random seed: the same seed gives the same data.",
    )
}

pub(super) fn rate() -> ParamSpec {
    float(
        "rate_per_sec",
        0.0,
        0.0,
        1e9,
        "Emit at most this many tuples per second per task; 0 = as fast as possible.",
    )
}

fn limit() -> ParamSpec {
    int(
        "limit",
        0,
        0,
        i64::MAX,
        "Stop after this many tuples per task; 0 = endless.",
    )
}

pub(super) fn component(
    id: &'static str,
    title: &'static str,
    system: System,
    roles: &'static [Role],
    doc: &'static str,
    params: Vec<ParamSpec>,
    outputs: OutputShape,
) -> ComponentDescriptor {
    ComponentDescriptor {
        id,
        title,
        system,
        roles,
        doc,
        params,
        outputs,
        default_window: None,
        open_config: false,
        micro_batch_only: false,
        task_state: None,
    }
}

/// A component whose tasks keep `what` in memory (lost when a task restarts).
pub(super) fn keeps(what: &'static str, d: ComponentDescriptor) -> ComponentDescriptor {
    ComponentDescriptor {
        task_state: Some(what),
        ..d
    }
}

/// Every built-in, in palette order.
pub fn all() -> Vec<ComponentDescriptor> {
    let mut list = storm();
    list.extend(super::spark::all());
    list.extend(super::shell::all());
    list.extend(flume());
    list.push(stand_in());
    list
}

fn storm() -> Vec<ComponentDescriptor> {
    use System::Storm;
    vec![
        component(
            "sentence_generator",
            "Sentence generator",
            Storm,
            STORM_SPOUT,
            "Emits random sentences from a built-in vocabulary; replays failed ones.",
            vec![
                seed(),
                rate(),
                limit(),
                int("words_per_sentence", 10, 1, 1000, "Words in each sentence."),
                int(
                    "vocabulary",
                    1000,
                    1,
                    1_000_000,
                    "Distinct words to draw from.",
                ),
            ],
            OutputShape::Fields(&["sentence"]),
        ),
        component(
            "word_generator",
            "Word generator",
            Storm,
            STORM_SPOUT,
            "Emits random single words (Storm's TestWordSpout); replays failed ones.",
            vec![
                seed(),
                rate(),
                limit(),
                int(
                    "vocabulary",
                    1000,
                    1,
                    1_000_000,
                    "Distinct words to draw from.",
                ),
            ],
            OutputShape::Fields(&["word"]),
        ),
        component(
            "sequence",
            "Sequence",
            Storm,
            &[Role::Spout, Role::Source],
            "Counts up from `start`: the simplest source of test data (Flume's seq source).",
            vec![
                int("start", 0, i64::MIN, i64::MAX, "First number emitted."),
                rate(),
                limit(),
            ],
            OutputShape::Fields(&["n"]),
        ),
        component(
            "file_lines",
            "File lines",
            Storm,
            STORM_SPOUT,
            "Emits each line of a text file; keeps lines until acked, so it can replay.",
            vec![
                path(
                    "path",
                    PathUse::ReadFile,
                    "input.txt",
                    "Text file, relative to the topology file.",
                ),
                flag(
                    "repeat",
                    false,
                    "Start again at the top when the file ends.",
                ),
                rate(),
            ],
            OutputShape::Fields(&["line"]),
        ),
        component(
            "split",
            "Split",
            Storm,
            STORM_BOLT,
            "Splits a text field into one tuple per word, anchored to its input.",
            vec![
                field("field", "sentence", "Input field to split."),
                text("separator", " ", "Separator; words are also trimmed."),
                text("into", "word", "Name of the output field."),
            ],
            OutputShape::Fields(&["$into"]),
        ),
        keeps(
            "counts",
            component(
                "count_by_key",
                "Count by key",
                Storm,
                STORM_BOLT,
                "Keeps a running count per key and emits (key, count) on every tuple. Use a fields grouping on the key so each key has one counter. In micro-batch mode it is Spark's updateStateByKey: each batch's counts are added to the running totals, and every key the batch changed is emitted once with its new total.",
                vec![field("key", "word", "Field whose values are counted.")],
                OutputShape::Fields(&["$key", "count"]),
            ),
        ),
        component(
            "filter",
            "Filter",
            Storm,
            STORM_BOLT,
            "Passes on tuples whose field satisfies a comparison; acks the rest.",
            vec![
                field("field", "word", "Field to test."),
                choice(
                    "op",
                    super::builtins::FILTER_OPS,
                    "not_empty",
                    "Comparison.",
                ),
                text(
                    "value",
                    "",
                    "Value to compare with (numbers compare numerically).",
                ),
            ],
            OutputShape::SameAsInput,
        ),
        component(
            "map",
            "Map",
            Storm,
            STORM_BOLT,
            "Rewrites one field with an operation chosen from a list.",
            vec![
                field("field", "word", "Field to rewrite."),
                choice("op", super::builtins::MAP_OPS, "uppercase", "Operation."),
                text(
                    "arg",
                    "",
                    "Argument for prefix/suffix/replace (`from=>to`).",
                ),
            ],
            OutputShape::SameAsInput,
        ),
        component(
            "logger",
            "Logger",
            Storm,
            TERMINAL,
            "Writes every tuple or event to the run log (Storm's LogInfoBolt, Flume's logger sink).",
            vec![int(
                "max_bytes",
                64,
                1,
                1_000_000,
                "Longest text logged per tuple (Flume's maxBytesToLog).",
            )],
            OutputShape::None,
        ),
        component(
            "file_sink",
            "File sink",
            Storm,
            TERMINAL,
            "Appends one line per tuple to a file the user chose (inside the topology's folder unless allowed).",
            vec![path(
                "path",
                PathUse::WriteFile,
                "out.txt",
                "Output file, relative to the topology file.",
            )],
            OutputShape::None,
        ),
        component(
            "null",
            "Null sink",
            Storm,
            TERMINAL,
            "Acks and discards everything: for measuring throughput.",
            vec![],
            OutputShape::None,
        ),
        component(
            "collector",
            "Collector",
            Storm,
            TERMINAL,
            "Keeps every tuple in memory so tests and lessons can inspect what arrived.",
            vec![],
            OutputShape::None,
        ),
    ]
}

fn flume() -> Vec<ComponentDescriptor> {
    use System::Flume;
    // The limits live next to the code that enforces them; the registry cites them.
    use crate::flume::sources::{netcat, spooldir};
    use crate::flume::{channel, file_channel, memory_channel};
    vec![
        component(
            "netcat",
            "Netcat source",
            Flume,
            FLUME_SOURCE,
            "Listens on a TCP port (loopback by default); one event per line.",
            vec![
                ParamSpec {
                    kind: ParamKind::ListenHost,
                    ..text(
                        "bind",
                        "127.0.0.1",
                        "Address to listen on; anything but loopback needs your consent.",
                    )
                },
                int(
                    "port",
                    44444,
                    0,
                    65535,
                    "TCP port; 0 picks a free one (the run log says which).",
                ),
                int(
                    "max-line-length",
                    netcat::DEFAULT_MAX_LINE_LENGTH as i64,
                    1,
                    netcat::MAX_LINE_LENGTH_LIMIT as i64,
                    "Bytes per line, newline included; longer lines are refused with FAILED and skipped while they stream in, as Flume does.",
                ),
                int(
                    "max-connections",
                    netcat::DEFAULT_MAX_CONNECTIONS as i64,
                    1,
                    netcat::MAX_CONNECTIONS_LIMIT as i64,
                    "Clients served at once (a thread each); more are told FAILED and closed, and counted.",
                ),
            ],
            OutputShape::Fields(&["body"]),
        ),
        component(
            "spooldir",
            "Spooling directory source",
            Flume,
            FLUME_SOURCE,
            "Reads files dropped into a folder, one event per line, then renames them .COMPLETED.",
            vec![
                path(
                    "spoolDir",
                    PathUse::ConsumeFolder,
                    "spool",
                    "Folder to watch, relative to the topology file.",
                ),
                int("batchSize", 100, 1, 100_000, "Events per put transaction."),
                int(
                    "deserializer.maxLineLength",
                    spooldir::DEFAULT_MAX_LINE_LENGTH as i64,
                    1,
                    spooldir::MAX_LINE_LENGTH_LIMIT as i64,
                    "Bytes of a line kept in its event; longer lines are cut to this and counted.",
                ),
            ],
            OutputShape::Fields(&["body"]),
        ),
        component(
            "avro_source",
            "Avro source",
            Flume,
            FLUME_SOURCE,
            "Receives events from avro sinks of other agents (an in-process hop here).",
            vec![
                text("bind", "0.0.0.0", "Address (kept for export)."),
                int(
                    "port",
                    i64::from(DEFAULT_AVRO_PORT),
                    1,
                    65535,
                    "Avro sinks with this port deliver here (an in-process hop).",
                ),
            ],
            OutputShape::Fields(&["body"]),
        ),
        component(
            "memory",
            "Memory channel",
            Flume,
            FLUME_CHANNEL,
            "A bounded in-memory queue with put/take transactions; events are lost on a crash.",
            vec![
                int("capacity", 100, 1, 100_000_000, "Most events held."),
                int(
                    "transactionCapacity",
                    100,
                    1,
                    100_000_000,
                    "Most events in one put or take transaction.",
                ),
                int(
                    "keep-alive",
                    3,
                    0,
                    channel::MAX_KEEP_ALIVE_SECS as i64,
                    "Seconds a put waits for space.",
                ),
                int(
                    "byteCapacity",
                    channel::DEFAULT_BYTE_CAPACITY as i64,
                    1,
                    channel::MAX_BYTE_CAPACITY as i64,
                    "Most bytes of events held (body, headers and 64 bytes each).",
                ),
                int(
                    "byteCapacityBufferPercentage",
                    memory_channel::DEFAULT_BYTE_CAPACITY_BUFFER_PERCENTAGE as i64,
                    0,
                    memory_channel::MAX_BYTE_CAPACITY_BUFFER_PERCENTAGE as i64,
                    "Percent of byteCapacity kept free, as Flume reserves it for headers.",
                ),
            ],
            OutputShape::SameAsInput,
        ),
        component(
            "file",
            "File channel",
            Flume,
            FLUME_CHANNEL,
            "A durable queue: an append-only log fsynced at commit, with checkpoints; survives a crash.",
            vec![
                path(
                    "checkpointDir",
                    PathUse::WriteFolder,
                    "file-channel/checkpoint",
                    "Checkpoint folder.",
                ),
                path(
                    "dataDirs",
                    PathUse::WriteFolder,
                    "file-channel/data",
                    "Log folder.",
                ),
                int("capacity", 1_000_000, 1, 100_000_000, "Most events held."),
                int(
                    "transactionCapacity",
                    10_000,
                    1,
                    100_000_000,
                    "Most events in one transaction.",
                ),
                int(
                    "checkpointInterval",
                    file_channel::DEFAULT_CHECKPOINT_INTERVAL_MS as i64,
                    100,
                    86_400_000,
                    "Milliseconds between checkpoints.",
                ),
                int(
                    "byteCapacity",
                    channel::DEFAULT_BYTE_CAPACITY as i64,
                    1,
                    channel::MAX_BYTE_CAPACITY as i64,
                    "Most bytes of events held; Tributary keeps a file channel's events in memory too.",
                ),
            ],
            OutputShape::SameAsInput,
        ),
        component(
            "file_roll",
            "File roll sink",
            Flume,
            FLUME_SINK,
            "Writes events to files in a folder, starting a new file every roll interval.",
            vec![
                path(
                    "sink.directory",
                    PathUse::WriteFolder,
                    "rolled",
                    "Output folder, relative to the topology file.",
                ),
                int(
                    "sink.rollInterval",
                    30,
                    0,
                    86_400,
                    "Seconds per file; 0 = never roll.",
                ),
                int("batchSize", 100, 1, 100_000, "Events per take transaction."),
            ],
            OutputShape::None,
        ),
        component(
            "avro_sink",
            "Avro sink",
            Flume,
            FLUME_SINK,
            "Forwards events to another agent's avro source (the next hop).",
            vec![
                text("hostname", "127.0.0.1", "Host of the next hop."),
                int(
                    "port",
                    i64::from(DEFAULT_AVRO_PORT),
                    1,
                    65535,
                    "Port of the next hop.",
                ),
                int(
                    "batch-size",
                    100,
                    1,
                    100_000,
                    "Events per take transaction.",
                ),
            ],
            OutputShape::None,
        ),
    ]
}

fn stand_in() -> ComponentDescriptor {
    ComponentDescriptor {
        open_config: true,
        ..component(
            STAND_IN,
            "Stand-in",
            System::Storm,
            &[
                Role::Bolt,
                Role::Spout,
                Role::Source,
                Role::Channel,
                Role::Sink,
            ],
            "Stands in for a class with no built-in equivalent: keeps its class and arguments for export and runs as a pass-through.",
            vec![ParamSpec {
                key: "class",
                kind: ParamKind::Text,
                default: Some(Value::Str(String::new())),
                doc: "The engine class (or Flume type) this node stands in for.",
            }],
            OutputShape::SameAsInput,
        )
    }
}
