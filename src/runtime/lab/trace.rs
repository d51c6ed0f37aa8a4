//! What one lab step did, as plain data: the designer draws it and `tributary lab
//! --trace` writes it as one JSON object per line. Field order is fixed (struct order),
//! ids are 16 lowercase hex digits and values are objects keyed by field name, so two
//! runs with the same seed and actions give byte-identical traces and anyone can check
//! a routing decision against Storm's hashing from the trace alone.

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use crate::runtime::tuple::{Val, Values};

/// A 64-bit tuple-tree id (root, edge, XOR), written as 16 hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Id(pub u64);

impl Serialize for Id {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl std::fmt::Display for Id {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// A tuple's values with their field names, in schema order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Fields(pub Vec<(String, Val)>);

impl Fields {
    /// Names `values` after `schema`; values beyond the schema are named by position.
    pub fn named(schema: &[String], values: &Values) -> Fields {
        Fields(
            values
                .to_vec()
                .into_iter()
                .enumerate()
                .map(|(i, v)| {
                    let name = schema.get(i).cloned().unwrap_or_else(|| format!("_{i}"));
                    (name, v)
                })
                .collect(),
        )
    }

    /// The value of field `name`.
    pub fn get(&self, name: &str) -> Option<&Val> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// `word=kalo, n=3`: how the designer shows a tuple.
    pub fn describe(&self) -> String {
        self.0
            .iter()
            .map(|(n, v)| format!("{n}={}", describe_val(v)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn describe_val(v: &Val) -> String {
    match v {
        Val::Null => "null".into(),
        Val::Bool(b) => b.to_string(),
        Val::Int(i) => i.to_string(),
        Val::Float(f) => f.to_string(),
        Val::Str(s) => format!("{:?}", s.as_str()),
    }
}

impl Serialize for Fields {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (name, v) in &self.0 {
            match v {
                Val::Null => map.serialize_entry(name, &())?,
                Val::Bool(b) => map.serialize_entry(name, b)?,
                Val::Int(i) => map.serialize_entry(name, i)?,
                // JSON has no NaN or infinity: those are written as text.
                Val::Float(f) if f.is_finite() => map.serialize_entry(name, f)?,
                Val::Float(f) => map.serialize_entry(name, &f.to_string())?,
                Val::Str(t) => map.serialize_entry(name, t.as_str())?,
            }
        }
        map.end()
    }
}

/// What kind of step it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A spout task's `next_tuple` call.
    NextTuple,
    /// One tuple delivered to one bolt task and executed.
    Deliver,
    /// One ack message (init, ack or fail) applied by an acker.
    Ack,
    /// An acker's verdict on a tree delivered to the spout task that owns it.
    Outcome,
    /// A spout task's pending trees expired (the message timeout).
    Timeout,
    /// A time-driven bolt (a window) emitted.
    Window,
    /// A simulated worker was killed.
    Kill,
    /// An executor came back: after a crash's backoff or a worker's restart.
    Restart,
    /// A setting changed (faults, rates, pause).
    Control,
    /// Micro-batch mode: one batch cut and run through every operator.
    Batch,
}

/// A task named by its node and Storm task id.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskRef {
    pub node: String,
    pub task: u32,
}

/// One message a step put on a queue.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sent {
    /// `tuple`, `init`, `ack`, `fail` or `outcome`.
    pub kind: &'static str,
    /// The receiving node (`__acker` for ack messages).
    pub node: String,
    pub task: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root: Option<Id>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edge: Option<Id>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub xor: Option<Id>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ok: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub values: Option<Fields>,
    /// The receiving queue was full: the message waits in the sender's outbox (and
    /// shows up under `moved` of the step that delivers it to the queue).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub parked: bool,
}

/// One step of a lab run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    /// 1 for the first step, increasing by one.
    pub step: u64,
    /// Virtual time at the start of the step, in microseconds since the run started.
    pub t_us: u64,
    pub kind: Kind,
    /// The node and task that acted (`__acker` for ackers; `engine` for kills and
    /// settings).
    pub node: String,
    pub task: u32,
    /// A delivery's sender.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<TaskRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream: Option<String>,
    /// The tree the step is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root: Option<Id>,
    /// The delivered tuple's edge id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edge: Option<Id>,
    /// The delivered tuple's values.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub values: Option<Fields>,
    /// A spout's message id (what its `ack`/`fail` is called with).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msg_id: Option<u64>,
    /// An acker step's message: `init`, `ack` or `fail`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msg: Option<&'static str>,
    /// The XOR an acker step applied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub xor: Option<Id>,
    /// The root's ledger value after an acker step (zero once the tree is done).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ledger: Option<Id>,
    /// Acked (true) or failed (false): a delivery's outcome, a tree's verdict.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ok: Option<bool>,
    /// Roots a timeout expired.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub roots: Vec<Id>,
    /// Why: a crash's panic message, a setting's description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// What the step put on queues.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub emits: Vec<Sent>,
    /// Messages parked earlier (a full queue) that reached their queue in this step.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub moved: Vec<Sent>,
    /// Micro-batch mode: what the batch held and what each node made of it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch: Option<BatchTrace>,
}

/// One micro-batch as a step shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BatchTrace {
    /// The batch covers `(from_ms, time_ms]` of run time.
    pub from_ms: u64,
    pub time_ms: u64,
    /// Records cut from the receivers into it.
    pub records: usize,
    /// Each node's output for this batch, in the job's order (a spout's is what was
    /// cut from its receivers).
    pub nodes: Vec<NodeBatch>,
    /// Windows that closed at this batch.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub windows: Vec<NamedWindow>,
    /// Workers killed during this batch's job.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub killed_workers: Vec<u32>,
    /// Operator partitions lost with them and recomputed from lineage.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub recomputed: Vec<crate::runtime::metrics::RecomputedPartition>,
}

/// One node's output for one batch.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodeBatch {
    pub node: String,
    /// How many records it produced.
    pub count: usize,
    /// The first of them (at most `runtime::batch::stepper::SHOWN_PER_NODE`).
    pub values: Vec<Fields>,
}

/// A window's result, with its node.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NamedWindow {
    pub node: String,
    #[serde(flatten)]
    pub result: crate::runtime::metrics::WindowResult,
}

impl Event {
    pub(super) fn new(step: u64, t_us: u64, kind: Kind, node: &str, task: u32) -> Event {
        Event {
            step,
            t_us,
            kind,
            node: node.to_string(),
            task,
            from: None,
            stream: None,
            root: None,
            edge: None,
            values: None,
            msg_id: None,
            msg: None,
            xor: None,
            ledger: None,
            ok: None,
            roots: Vec::new(),
            note: None,
            emits: Vec::new(),
            moved: Vec::new(),
            batch: None,
        }
    }

    /// The event as one line of JSON (no newline).
    pub fn to_json(&self) -> String {
        // Serializing plain data with string keys cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}
