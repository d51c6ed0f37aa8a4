//! The lesson file format (RON) and its loading.
//!
//! ```ron
//! (
//!     version: 1,
//!     title: "The tuple tree and the XOR acker",
//!     concepts: ["acking", "tuple tree"],
//!     topology: File("../topologies/word_count.ron"),
//!     engine: Lab,
//!     seed: 7,
//!     steps: [
//!         (
//!             text: "Press **Step**: the spout emits one sentence.",
//!             actions: [LabUntil(Emitted)],
//!             highlight: [Node("sentences")],
//!         ),
//!         (
//!             text: "Which task of `count` receives `kalo`?",
//!             check: Question(TaskOf(node: "count", key: ["kalo"])),
//!         ),
//!     ],
//! )
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::components::PathUse;
use crate::format::TextPos;
use crate::model::{ExecutionMode, Grouping, Topology, Value};

/// The newest lesson format this build reads.
pub const CURRENT_VERSION: u32 = 1;

/// Largest lesson file read (text, one topology inline at most).
pub const MAX_LESSON_BYTES: u64 = 4 << 20;

/// A problem with a lesson, located in its file when the position is known.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}{}: error: {message}", path.display(), at.map(|p| format!(":{}:{}", p.line, p.col)).unwrap_or_default())]
pub struct LessonError {
    pub path: PathBuf,
    pub at: Option<TextPos>,
    pub message: String,
}

impl LessonError {
    pub fn new(path: &Path, at: Option<TextPos>, message: impl Into<String>) -> Self {
        Self {
            path: path.to_path_buf(),
            at,
            message: message.into(),
        }
    }
}

/// Where a lesson's topology comes from.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub enum TopologySource {
    /// A topology file, relative to the lesson's folder. It must lie inside that folder
    /// or in one the user allowed (`lesson check --allow`, the designer's shipped
    /// examples): the same rule, through the same policy, as a topology's own paths.
    File(String),
    /// A topology written into the lesson, in the topology file format's text.
    Inline(String),
}

/// Which engine a lesson's steps run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum Engine {
    /// Lab mode: one event at a time, deterministic (the default).
    #[default]
    Lab,
    /// An ordinary run on threads, for lessons about throughput and latency.
    Live,
}

/// What the lab runs until.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum UntilEvent {
    Emitted,
    Acked,
    Failed,
    Timeout,
    Window,
}

/// Something the learner is asked to do; the player does it for them on request.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub enum Action {
    /// Lab lessons: take this many steps.
    LabStep(u64),
    /// Lab lessons: step until such an event (at most 100 000 steps).
    LabUntil(UntilEvent),
    /// Live lessons: run for this many seconds.
    Run(f64),
    /// Live lessons: run until every finite spout is done (at most 20 s).
    RunToEnd,
    /// Inject faults into a node: fail and crash probabilities (0–1), latency in ms.
    SetFaults {
        node: String,
        #[serde(default)]
        fail: f64,
        #[serde(default)]
        crash: f64,
        #[serde(default)]
        latency_ms: u64,
    },
    /// Cap a spout at this many records per second per task.
    SetRate { node: String, per_sec: f64 },
    /// Kill a simulated worker (record-at-a-time only).
    KillWorker(u32),
    /// Stop the run abruptly and start it again on the same folder: what survives is
    /// what was on disk (a file channel's events), not what was in memory.
    Restart,
    /// Change the grouping of the edge `from → to` (the run starts again).
    SetGrouping {
        from: String,
        to: String,
        grouping: Grouping,
    },
    /// Change a node's parallelism (the run starts again).
    SetParallelism { node: String, parallelism: u32 },
    /// Switch the execution mode (the run starts again).
    SwitchMode(ExecutionMode),
    /// Switch the delivery guarantee (the run starts again).
    SetGuarantee(crate::model::Guarantee),
}

/// What the text talks about, highlighted on the canvas.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub enum Highlight {
    Node(String),
    Edge(String, String),
    /// One task of a node, by its index among the node's tasks (0 = the first).
    Task(String, u32),
}

/// A number read from the run after a step's actions.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub enum Metric {
    Emitted(String),
    Executed(String),
    Acked(String),
    Failed(String),
    Replayed(String),
    TimedOut(String),
    Restarts(String),
    /// Tuples a collector received.
    Collected(String),
    /// Distinct values a collector received (every one of N records arrived: N).
    Distinct(String),
    /// How many tasks of a collector received something.
    TasksReached(String),
    /// The most tasks of a collector any one value (its first field) reached: 1 under
    /// a fields grouping, at most 2 under partial key, every task under all.
    TasksPerKey(String),
    /// Trees acked so far (lab: from the trace; live: spouts' acks).
    TreesAcked,
    TreesFailed,
    /// Lab steps taken.
    Steps,
    /// Flume: events a node took in / passed on.
    EventsIn(String),
    EventsOut(String),
    /// Flume: events a channel holds now.
    ChannelSize(String),
    /// Flume: a channel's committed and rolled-back transactions.
    Commits(String),
    Rollbacks(String),
    /// Micro-batch: batches completed.
    Batches,
    /// Micro-batch: records in the last batch.
    LastBatchRecords,
    /// Micro-batch: how late the last batch's job started, and how long it ran (ms).
    SchedulingDelayMs,
    ProcessingMs,
    /// Micro-batch: keys in a window's latest result, and the batches it covered.
    WindowKeys(String),
    WindowBatches(String),
    /// End-to-end latency, median, in milliseconds (spouts' emit to ack; micro-batch:
    /// arrival to the end of the record's batch).
    LatencyMs,
    /// Exactly-once: the last batch (txid) committed.
    CommittedBatches,
}

/// How a metric compares with a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

impl Op {
    pub fn holds(self, left: f64, right: f64) -> bool {
        match self {
            Op::Eq => left == right,
            Op::Ne => left != right,
            Op::Gt => left > right,
            Op::Ge => left >= right,
            Op::Lt => left < right,
            Op::Le => left <= right,
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "≠",
            Op::Gt => ">",
            Op::Ge => "≥",
            Op::Lt => "<",
            Op::Le => "≤",
        }
    }
}

/// `metric op value`, e.g. `(Replayed("numbers"), Gt, 0)`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Expect(pub Metric, pub Op, pub f64);

/// How the right answer to a question is computed from the run.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub enum Answer {
    /// Which task of `node` receives a tuple with these key values (from the grouping
    /// of the edge into `node`: fields, partial key or global).
    TaskOf { node: String, key: Vec<Value> },
    /// A number from the run.
    Count(Metric),
    /// Yes or no: whether this holds after the step.
    Holds(Expect),
}

/// A step's check.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub enum Check {
    /// The learner predicts; the answer comes from the run.
    Question(Answer),
    /// What must hold after the step's actions (the lesson is broken otherwise).
    Expect(Vec<Expect>),
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// A small Markdown subset: paragraphs, **bold**, `code`, `- ` lists.
    pub text: String,
    #[serde(default)]
    pub actions: Vec<Action>,
    #[serde(default)]
    pub highlight: Vec<Highlight>,
    #[serde(default)]
    pub check: Option<Check>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct LessonRecord {
    version: u32,
    title: String,
    #[serde(default)]
    concepts: Vec<String>,
    topology: TopologySource,
    #[serde(default)]
    engine: Engine,
    #[serde(default)]
    seed: u64,
    steps: Vec<Step>,
}

/// A loaded lesson: its steps and its topology, parsed and found.
#[derive(Debug, Clone)]
pub struct Lesson {
    pub path: PathBuf,
    /// The file's text, for locating problems found later.
    pub text: String,
    pub title: String,
    pub concepts: Vec<String>,
    pub engine: Engine,
    pub seed: u64,
    pub steps: Vec<Step>,
    pub topology: Topology,
    /// Where the topology's relative paths resolve: its file's folder, or the
    /// lesson's folder for an inline topology.
    pub base_dir: PathBuf,
    /// The topology's file, when it is one.
    pub topology_file: Option<PathBuf>,
}

/// Reads and parses a lesson and its topology; every problem names the file and,
/// where it can, the line and column. `allowed` are folders or files beyond the
/// lesson's own folder its topology may be read from.
pub fn load(path: &Path, allowed: &[PathBuf]) -> Result<Lesson, LessonError> {
    let text = crate::format::limited::read_text(path, MAX_LESSON_BYTES)
        .map_err(|e| LessonError::new(path, None, e.to_string()))?;
    parse(&text, path, allowed)
}

/// Parses lesson text; `path` names the file in errors and anchors relative paths
/// (`allowed` as in [`load`]).
pub fn parse(text: &str, path: &Path, allowed: &[PathBuf]) -> Result<Lesson, LessonError> {
    if text.trim().is_empty() {
        return Err(LessonError::new(
            path,
            Some(TextPos { line: 1, col: 1 }),
            "the file is empty; a lesson starts with `(version: 1, title: \"…\", …)`",
        ));
    }
    // `check: Expect(…)` rather than `check: Some(Expect(…))`: lessons are written by hand.
    let options = ron::Options::default()
        .with_recursion_limit(crate::format::MAX_RON_NESTING)
        .with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME);
    let record: LessonRecord = options.from_str(text).map_err(|e| {
        LessonError::new(
            path,
            Some(TextPos {
                line: e.span.start.line.max(1),
                col: e.span.start.col.max(1),
            }),
            crate::format::parser_message(&e.code),
        )
    })?;
    if record.version == 0 || record.version > CURRENT_VERSION {
        let at = super::locate::key(text, "version");
        return Err(LessonError::new(
            path,
            at,
            format!(
                "lesson format version {} is not one this build reads (1 to {CURRENT_VERSION})",
                record.version
            ),
        ));
    }
    let folder = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let (topology, base_dir, topology_file) = match &record.topology {
        TopologySource::File(rel) => {
            let grant = crate::policy::Grant::new(&folder).allowing(allowed);
            let file = grant
                .path("lesson", "topology", PathUse::ReadFile, rel)
                .map_err(|refusal| {
                    LessonError::new(
                        path,
                        super::locate::quoted(text, rel, 0),
                        format!("its topology {rel}: {}", refusal.message()),
                    )
                })?;
            let topology = crate::format::load_ron(&file).map_err(|e| {
                LessonError::new(
                    path,
                    super::locate::quoted(text, rel, 0),
                    format!("its topology {rel}: {e}"),
                )
            })?;
            let base = file
                .parent()
                .map_or_else(|| folder.clone(), Path::to_path_buf);
            (topology, base, Some(file))
        }
        TopologySource::Inline(ron) => {
            let topology = crate::format::from_ron_str(ron, path).map_err(|e| {
                LessonError::new(
                    path,
                    super::locate::key(text, "topology"),
                    format!("its inline topology: {e}"),
                )
            })?;
            (topology, folder.clone(), None)
        }
    };
    Ok(Lesson {
        path: path.to_path_buf(),
        text: text.to_string(),
        title: record.title,
        concepts: record.concepts,
        engine: record.engine,
        seed: record.seed,
        steps: record.steps,
        topology,
        base_dir,
        topology_file,
    })
}
