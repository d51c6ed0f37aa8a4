//! Nodes: one building block on the canvas (a spout, a bolt, a Flume source, …).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{DEFAULT_STREAM, Value};

/// What part a node plays. The names are the engines' own because the product teaches
/// them; the role fixes the wiring rules (see `validate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Role {
    /// Flume: takes events from outside and puts them into channels.
    Source,
    /// Flume: a transactional buffer between sources and sinks.
    Channel,
    /// Flume: drains exactly one channel.
    Sink,
    /// Storm: emits tuples into the topology and decides replays.
    Spout,
    /// Storm: consumes tuples and may emit more (Spark-style windows are bolts too).
    Bolt,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Source,
        Role::Channel,
        Role::Sink,
        Role::Spout,
        Role::Bolt,
    ];

    pub fn system(self) -> System {
        match self {
            Role::Source | Role::Channel | Role::Sink => System::Flume,
            Role::Spout | Role::Bolt => System::Storm,
        }
    }

    /// May other nodes send into this role?
    pub fn accepts_input(self) -> bool {
        !matches!(self, Role::Source | Role::Spout)
    }

    /// May this role send to other nodes?
    pub fn produces_output(self) -> bool {
        !matches!(self, Role::Sink)
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Source => "source",
            Role::Channel => "channel",
            Role::Sink => "sink",
            Role::Spout => "spout",
            Role::Bolt => "bolt",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// Which of the three engines a concept comes from; groups the palette.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum System {
    Flume,
    Storm,
    Spark,
}

impl System {
    pub fn label(self) -> &'static str {
        match self {
            System::Flume => "Flume",
            System::Storm => "Storm",
            System::Spark => "Spark-style",
        }
    }
}

/// Position on the canvas, in canvas units (not screen pixels).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Pos(pub f32, pub f32);

/// One output stream a node declares: Storm's `declareOutputFields`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamDecl {
    #[serde(default = "default_stream")]
    pub stream: String,
    pub fields: Vec<String>,
    /// Only a direct stream may be consumed with `Direct` grouping (Storm rule).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub direct: bool,
}

fn default_stream() -> String {
    DEFAULT_STREAM.to_string()
}

impl StreamDecl {
    pub fn new(stream: impl Into<String>, fields: &[&str]) -> Self {
        Self {
            stream: stream.into(),
            fields: fields.iter().map(|f| f.to_string()).collect(),
            direct: false,
        }
    }

    pub fn default_stream(fields: &[&str]) -> Self {
        Self::new(DEFAULT_STREAM, fields)
    }
}

/// A window size: by tuple count or by time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum WindowSize {
    Count(u64),
    Millis(u64),
}

impl WindowSize {
    pub fn amount(self) -> u64 {
        match self {
            WindowSize::Count(n) | WindowSize::Millis(n) => n,
        }
    }

    pub fn same_kind(self, other: WindowSize) -> bool {
        matches!(
            (self, other),
            (WindowSize::Count(_), WindowSize::Count(_))
                | (WindowSize::Millis(_), WindowSize::Millis(_))
        )
    }
}

impl std::fmt::Display for WindowSize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WindowSize::Count(n) => write!(f, "{n} tuples"),
            WindowSize::Millis(ms) if ms % 1000 == 0 => write!(f, "{}s", ms / 1000),
            WindowSize::Millis(ms) => write!(f, "{ms}ms"),
        }
    }
}

/// A sliding (slide < length) or tumbling (slide == length) window on a bolt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowSpec {
    pub length: WindowSize,
    pub slide: WindowSize,
}

impl WindowSpec {
    pub fn is_tumbling(&self) -> bool {
        self.length == self.slide
    }
}

/// One building block on the canvas.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Unique within the topology; the identity used in files, diagnostics and exports.
    pub name: String,
    pub role: Role,
    /// Id of a component in the registry (`sentence_generator`, `memory`, …).
    pub component: String,
    /// Executors (threads): Storm's parallelism hint.
    pub parallelism: u32,
    /// Component instances; fixed for a run so fields-grouping placement is stable.
    /// `None` means "same as parallelism".
    pub tasks: Option<u32>,
    pub config: BTreeMap<String, Value>,
    pub outputs: Vec<StreamDecl>,
    pub window: Option<WindowSpec>,
    /// Flume agent this node belongs to (drawn as a group on the canvas, used on export).
    pub agent: Option<String>,
    pub pos: Pos,
}

impl Node {
    pub fn new(name: impl Into<String>, role: Role, component: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            role,
            component: component.into(),
            parallelism: 1,
            tasks: None,
            config: BTreeMap::new(),
            outputs: Vec::new(),
            window: None,
            agent: None,
            pos: Pos::default(),
        }
    }

    /// Number of task instances a run creates for this node.
    pub fn task_count(&self) -> u32 {
        self.tasks.unwrap_or(self.parallelism).max(self.parallelism)
    }

    pub fn output(&self, stream: &str) -> Option<&StreamDecl> {
        self.outputs.iter().find(|o| o.stream == stream)
    }

    pub fn with_config(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.config.insert(key.to_string(), value.into());
        self
    }

    pub fn with_output(mut self, decl: StreamDecl) -> Self {
        self.outputs.push(decl);
        self
    }

    pub fn with_parallelism(mut self, parallelism: u32) -> Self {
        self.parallelism = parallelism;
        self
    }

    pub fn at(mut self, x: f32, y: f32) -> Self {
        self.pos = Pos(x, y);
        self
    }
}
